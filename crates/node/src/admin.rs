//! `admin_*` over the libp2p network ([`spectrum_rpc::AdminNetwork`]) and the trusted peers
//! (`--trustedpeers`, `admin_addTrustedPeer`), redialled whenever they are not connected.
//!
//! Hook for the devp2p wire: its peers join [`NodeAdmin::peers`] with `"wire": "devp2p"`, and
//! an `enode://` address in `add_peer`/`remove_peer` goes to its dialer (today refused with a
//! clear message).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde_json::{Value, json};
use spectrum_network::{Multiaddr, NetworkHandle, PeerId};

/// Trusted peers not connected are redialled this often.
pub const REDIAL_INTERVAL: Duration = Duration::from_secs(15);

/// The node's admin view of its network.
pub(crate) struct NodeAdmin {
    pub(crate) network: NetworkHandle,
    pub(crate) trusted: Arc<Mutex<Vec<Multiaddr>>>,
    pub(crate) client_version: String,
}

/// The peer id in a multiaddr's `/p2p/<id>` part.
fn peer_id(addr: &Multiaddr) -> Option<PeerId> {
    let text = addr.to_string();
    let (_, id) = text.rsplit_once("/p2p/")?;
    id.parse().ok()
}

fn parse_addr(addr: &str) -> Result<(Multiaddr, PeerId), String> {
    if addr.starts_with("enode://") {
        return Err("enode URLs are for the devp2p wire, which this node does not run: give a libp2p multiaddr (/ip4/…/tcp/…/p2p/<id>)".to_owned());
    }
    let parsed: Multiaddr = addr
        .trim()
        .parse()
        .map_err(|e| format!("not a multiaddr ({e}): {addr}"))?;
    let id =
        peer_id(&parsed).ok_or_else(|| format!("the multiaddr has no /p2p/<peer id>: {addr}"))?;
    Ok((parsed, id))
}

impl NodeAdmin {
    fn trusted(&self) -> std::sync::MutexGuard<'_, Vec<Multiaddr>> {
        self.trusted.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl spectrum_rpc::AdminNetwork for NodeAdmin {
    fn node_info(&self) -> Value {
        let addrs: Vec<String> = self
            .network
            .listen_addrs()
            .iter()
            .map(ToString::to_string)
            .collect();
        json!({
            "id": self.network.local_peer_id().to_string(),
            "name": self.client_version,
            "listenAddrs": addrs,
            "wires": {"libp2p": {"peers": self.network.peer_count()}},
        })
    }

    fn peers(&self) -> Vec<Value> {
        let trusted: Vec<PeerId> = self.trusted().iter().filter_map(peer_id).collect();
        self.network
            .peers()
            .into_iter()
            .map(|p| {
                json!({
                    "id": p.id.to_string(),
                    "wire": "libp2p",
                    "trusted": trusted.contains(&p.id),
                    "head": {"number": p.status.head_number, "hash": p.status.head_hash},
                })
            })
            .collect()
    }

    fn add_peer(&self, addr: &str, trusted: bool) -> Result<(), String> {
        let (addr, _) = parse_addr(addr)?;
        if trusted {
            let mut list = self.trusted();
            if !list.contains(&addr) {
                list.push(addr.clone());
            }
        }
        let network = self.network.clone();
        tokio::spawn(async move { network.dial(addr).await });
        Ok(())
    }

    fn remove_peer(&self, addr: &str) -> Result<(), String> {
        let id = match addr.parse::<PeerId>() {
            Ok(id) => id,
            Err(_) => parse_addr(addr)?.1,
        };
        self.trusted().retain(|a| peer_id(a) != Some(id));
        let network = self.network.clone();
        tokio::spawn(async move { network.disconnect(id).await });
        Ok(())
    }
}

/// Redials every trusted peer that is not connected, forever.
pub(crate) async fn redial_trusted(network: NetworkHandle, trusted: Arc<Mutex<Vec<Multiaddr>>>) {
    let mut ticker = tokio::time::interval(REDIAL_INTERVAL);
    loop {
        ticker.tick().await;
        let connected: Vec<PeerId> = network.peers().into_iter().map(|p| p.id).collect();
        let missing: Vec<Multiaddr> = trusted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|a| peer_id(a).is_some_and(|id| !connected.contains(&id)))
            .cloned()
            .collect();
        for addr in missing {
            tracing::debug!(%addr, "redialling a trusted peer");
            network.dial(addr).await;
        }
    }
}
