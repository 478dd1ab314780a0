//! spectrum-rpc against a real RocksDB holding the reference devnet chain
//! (`../shared/testdata/spectrum-devnet`), served on 127.0.0.1 with ephemeral ports, asked over
//! real HTTP and WebSocket connections.

mod call;
mod envelope;
mod events;
mod harness;
mod pool;
mod reference;
mod safety;
mod transport;
