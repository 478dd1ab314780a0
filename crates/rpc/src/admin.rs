//! The `admin` namespace (geth's names): `admin_nodeInfo`, `admin_peers`, `admin_addPeer`,
//! `admin_removePeer`, `admin_addTrustedPeer`. Served only when `--http.api`/`--ws.api` name
//! `admin` (never by default: it steers the node's peers). The node implements
//! [`AdminNetwork`] over its wires; each wire's peers carry a `wire` field, so the devp2p
//! wire adds its own (enode URLs) beside libp2p's (multiaddrs).

use serde_json::Value;

use crate::{
    api::{Api, Method, inline},
    error::{ApiResult, invalid_param, server_error},
    params::{at_most, required},
};

/// Peer control, implemented by the node over its network(s).
pub trait AdminNetwork: Send + Sync {
    /// `admin_nodeInfo`: our identity and listening addresses.
    fn node_info(&self) -> Value;
    /// `admin_peers`: the connected peers.
    fn peers(&self) -> Vec<Value>;
    /// Dials `addr` (a multiaddr with `/p2p/<id>`, or an enode URL on a devp2p wire); a trusted
    /// peer is redialled whenever it is not connected. `Err` says why the address is refused.
    fn add_peer(&self, addr: &str, trusted: bool) -> Result<(), String>;
    /// Disconnects the peer at `addr` (and forgets it as trusted/static).
    fn remove_peer(&self, addr: &str) -> Result<(), String>;
}

pub(crate) const METHODS: &[Method<Value>] = &[
    inline("admin_nodeInfo", node_info),
    inline("admin_peers", peers),
    inline("admin_addPeer", add_peer),
    inline("admin_removePeer", remove_peer),
    inline("admin_addTrustedPeer", add_trusted_peer),
];

fn network(api: &Api) -> ApiResult<&dyn AdminNetwork> {
    api.ctx
        .admin
        .as_deref()
        .ok_or_else(|| server_error("the node runs without a p2p network"))
}

fn node_info(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(network(api)?.node_info())
}

fn peers(api: &Api, values: &[Value]) -> ApiResult<Value> {
    at_most(values, 0)?;
    Ok(Value::Array(network(api)?.peers()))
}

fn address(values: &[Value]) -> ApiResult<&str> {
    at_most(values, 1)?;
    required(values, 0)?
        .as_str()
        .ok_or_else(|| invalid_param(0, "expected a peer address string"))
}

fn add_peer(api: &Api, values: &[Value]) -> ApiResult<Value> {
    let addr = address(values)?;
    network(api)?
        .add_peer(addr, false)
        .map_err(|e| invalid_param(0, e))?;
    Ok(Value::Bool(true))
}

fn add_trusted_peer(api: &Api, values: &[Value]) -> ApiResult<Value> {
    let addr = address(values)?;
    network(api)?
        .add_peer(addr, true)
        .map_err(|e| invalid_param(0, e))?;
    Ok(Value::Bool(true))
}

fn remove_peer(api: &Api, values: &[Value]) -> ApiResult<Value> {
    let addr = address(values)?;
    network(api)?
        .remove_peer(addr)
        .map_err(|e| invalid_param(0, e))?;
    Ok(Value::Bool(true))
}
