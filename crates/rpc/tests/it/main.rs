//! spectrum-rpc against a real RocksDB holding the reference devnet chain
//! (`../shared/testdata/spectrum-devnet`), served on 127.0.0.1 with ephemeral ports, asked over
//! real HTTP and WebSocket connections.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod call;
mod debug;
mod dev;
mod envelope;
mod events;
mod harness;
mod overrides;
mod pool;
mod proof;
mod reference;
mod safety;
mod transport;
mod tribe_slots;
