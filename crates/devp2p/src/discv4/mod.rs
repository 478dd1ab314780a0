//! Spectrum's discovery v4 over UDP: bonding (ping/pong endpoint proof), a Kademlia table,
//! findnode answered only to bonded nodes (no amplification), iterative lookups.
//!
//! [`Discv4::bind`] starts a task that answers packets; the handle sends requests and waits for
//! their replies (each within the reference's 500 ms).

pub mod packet;
pub mod table;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::B256;
use secp256k1::SecretKey;
use tokio::{net::UdpSocket, sync::mpsc, sync::oneshot};

use crate::{
    crypto::{PeerId, peer_id_of},
    enode::NodeRecord,
    error::DiscoveryError,
};
use packet::{Endpoint, MAX_PACKET_SIZE, Message, NeighborNode, Packet};
use table::{BUCKET_SIZE, Table};

/// Lifetime of our packets (reference: 20 s).
pub const EXPIRATION: Duration = Duration::from_secs(20);
/// How long a reply may take (reference: 500 ms).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a bond (a pong from the node to our ping) lets it use findnode (reference: 24 h).
pub const BOND_EXPIRATION: Duration = Duration::from_secs(24 * 3600);
/// Nodes per Neighbors packet, so that it fits in 1280 bytes (reference: 12).
pub const MAX_NEIGHBORS: usize = 12;
/// Parallel findnode requests of a lookup (Kademlia's alpha).
pub const ALPHA: usize = 3;
/// How often one table entry is revalidated (the reference waits a random time up to 10 s).
pub const REVALIDATE_INTERVAL: Duration = Duration::from_secs(10);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Sending failed.
    #[error("udp: {0}")]
    Io(#[from] std::io::Error),
    /// No reply within the response timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
}

/// What discovery runs with.
#[derive(Clone)]
pub struct Discv4Config {
    /// The node key.
    pub secret_key: SecretKey,
    /// UDP address to bind (the same port as the RLPx listener, by convention).
    pub bind: SocketAddr,
    /// Our RLPx TCP port, announced in pings.
    pub tcp_port: u16,
    /// Nodes to start from.
    pub bootnodes: Vec<NodeRecord>,
}

/// The waiters of one ping hash, each with its token.
type PingWaiters = Vec<(u64, oneshot::Sender<()>)>;

#[derive(Default)]
struct Pending {
    /// Our pings by hash: who should answer, and the waiter.
    /// Two pings to one node within a second are the same bytes (same expiration, a
    /// deterministic signature), so one hash can have several waiters (a bond-back beside a
    /// revalidation): each waiter is told by the pong and removes only itself.
    pings: HashMap<B256, (PeerId, PingWaiters)>,
    /// Tells waiters of one ping hash apart.
    next_ping: u64,
    /// Our findnodes by target node: where its neighbors go.
    finds: HashMap<PeerId, mpsc::UnboundedSender<Vec<NeighborNode>>>,
    /// Waiters for a ping from a node (the second half of a bond).
    ping_waiters: HashMap<PeerId, Vec<oneshot::Sender<()>>>,
}

struct State {
    table: Table,
    /// When each node last answered our ping (endpoint proof: it may use findnode).
    bonded: HashMap<PeerId, Instant>,
    /// When each node last pinged us (so it has, or is making, a bond with us).
    pinged_us: HashMap<PeerId, Instant>,
    pending: Pending,
    /// Packets dropped, by kind of error (observability and tests).
    dropped: Vec<DiscoveryError>,
}

struct Inner {
    socket: UdpSocket,
    secret_key: SecretKey,
    local_id: PeerId,
    tcp_port: u16,
    bootnodes: Vec<NodeRecord>,
    state: Mutex<State>,
}

/// Handle to the running discovery service (cheap to clone; the task stops when every handle
/// is dropped).
#[derive(Clone)]
pub struct Discv4 {
    inner: Arc<Inner>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn expiration() -> u64 {
    now_secs().saturating_add(EXPIRATION.as_secs())
}

fn record(n: &NeighborNode) -> NodeRecord {
    NodeRecord {
        id: n.id,
        ip: n.endpoint.ip,
        tcp_port: n.endpoint.tcp,
        udp_port: n.endpoint.udp,
    }
}

impl Discv4 {
    /// Binds the UDP socket and starts answering packets.
    pub async fn bind(config: Discv4Config) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(config.bind).await?;
        let local_id = peer_id_of(&config.secret_key);
        let inner = Arc::new(Inner {
            socket,
            secret_key: config.secret_key,
            local_id,
            tcp_port: config.tcp_port,
            bootnodes: config.bootnodes,
            state: Mutex::new(State {
                table: Table::new(&local_id),
                bonded: HashMap::new(),
                pinged_us: HashMap::new(),
                pending: Pending::default(),
                dropped: Vec::new(),
            }),
        });
        tokio::spawn(receive_loop(Arc::downgrade(&inner)));
        tokio::spawn(revalidate_loop(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    /// One revalidation step, as the reference's `doRevalidate`: pings the least recently
    /// seen node of a random non-empty bucket. If it answers it moves to the front of its
    /// bucket; if not it is dropped (and its bond forgotten) and the bucket's newest
    /// replacement takes its place. Returns the node pinged and whether it answered.
    pub async fn revalidate(&self) -> Option<(NodeRecord, bool)> {
        let mut pick = [0u8; 8];
        getrandom::fill(&mut pick).ok()?;
        let pick = usize::try_from(u64::from_le_bytes(pick) % 256).unwrap_or(0);
        let node = self.inner.state().table.revalidation_candidate(pick)?;
        let alive = self.inner.ping(&node).await.is_ok();
        if !alive {
            let mut state = self.inner.state();
            state.bonded.remove(&node.id);
            state.table.replace(&node.id);
        }
        Some((node, alive))
    }

    /// Our node record (the bound address; an unspecified IP stays unspecified).
    pub fn local_record(&self) -> std::io::Result<NodeRecord> {
        let addr = self.inner.socket.local_addr()?;
        Ok(NodeRecord {
            id: self.inner.local_id,
            ip: addr.ip(),
            tcp_port: self.inner.tcp_port,
            udp_port: addr.port(),
        })
    }

    /// Every node in the table.
    pub fn table_nodes(&self) -> Vec<NodeRecord> {
        self.inner.state().table.nodes()
    }

    /// Whether `id` answered our ping within [`BOND_EXPIRATION`].
    pub fn is_bonded(&self, id: &PeerId) -> bool {
        self.inner.state().is_bonded(id)
    }

    /// Whether `id` has pinged us.
    pub fn has_pinged_us(&self, id: &PeerId) -> bool {
        self.inner.state().pinged_us.contains_key(id)
    }

    /// The packets dropped so far and why (oldest first, at most 256 kept).
    pub fn dropped(&self) -> Vec<DiscoveryError> {
        self.inner.state().dropped.clone()
    }

    /// Pings `node` and waits for its pong; a pong bonds it and adds it to the table.
    pub async fn ping(&self, node: &NodeRecord) -> Result<(), RequestError> {
        self.inner.ping(node).await
    }

    /// Full bond as the reference makes it: our ping answered, and the node's ping to us seen
    /// (so that it will answer our findnode).
    pub async fn bond(&self, node: &NodeRecord) -> Result<(), RequestError> {
        let waiter = self.inner.ping_waiter(&node.id);
        self.inner.ping(node).await?;
        match waiter {
            None => Ok(()),
            Some(rx) => tokio::time::timeout(RESPONSE_TIMEOUT, rx)
                .await
                .map(|_| ())
                .map_err(|_| RequestError::Timeout(RESPONSE_TIMEOUT)),
        }
    }

    /// Asks `node` for the nodes closest to `target`; collects Neighbors until 16 nodes came or
    /// the response timeout passed. Times out only if nothing came.
    pub async fn find_node(
        &self,
        node: &NodeRecord,
        target: PeerId,
    ) -> Result<Vec<NodeRecord>, RequestError> {
        self.inner.find_node(node, target).await
    }

    /// An iterative lookup of `target`: asks the closest known nodes (bonding with new ones
    /// first) until no closer node turns up; returns the closest found.
    pub async fn lookup(&self, target: PeerId) -> Vec<NodeRecord> {
        let inner = &self.inner;
        let mut seen: HashMap<PeerId, NodeRecord> = HashMap::new();
        let mut asked: std::collections::HashSet<PeerId> = Default::default();
        let mut start = inner.state().table.closest(&target, BUCKET_SIZE);
        if start.is_empty() {
            start = inner.bootnodes.clone();
        }
        for n in start {
            seen.insert(n.id, n);
        }
        loop {
            let mut candidates: Vec<NodeRecord> = seen.values().copied().collect();
            sort_by_distance(&mut candidates, &target);
            let batch: Vec<NodeRecord> = candidates
                .iter()
                .take(BUCKET_SIZE)
                .filter(|n| !asked.contains(&n.id))
                .take(ALPHA)
                .copied()
                .collect();
            if batch.is_empty() {
                candidates.truncate(BUCKET_SIZE);
                return candidates;
            }
            let queries = batch.iter().map(|n| {
                asked.insert(n.id);
                let this = self.clone();
                let n = *n;
                async move {
                    if !this.is_bonded(&n.id) || !this.has_pinged_us(&n.id) {
                        this.bond(&n).await.ok()?;
                    }
                    this.find_node(&n, target).await.ok()
                }
            });
            let results = futures_join_all(queries.collect()).await;
            for found in results.into_iter().flatten().flatten() {
                if found.id != inner.local_id {
                    seen.entry(found.id).or_insert(found);
                }
            }
        }
    }

    /// Bonds with the bootnodes and looks up our own id (fills the table around us).
    pub async fn bootstrap(&self) -> Vec<NodeRecord> {
        for node in self.inner.bootnodes.clone() {
            let _ = self.bond(&node).await;
        }
        self.lookup(self.inner.local_id).await
    }
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<T: Send + 'static>(
    futures: Vec<impl Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

fn sort_by_distance(nodes: &mut [NodeRecord], target: &PeerId) {
    let t = alloy_primitives::keccak256(target);
    nodes.sort_by_key(|n| {
        let h = alloy_primitives::keccak256(n.id);
        B256::from(std::array::from_fn::<u8, 32, _>(|i| h[i] ^ t[i]))
    });
}

impl State {
    fn is_bonded(&self, id: &PeerId) -> bool {
        self.bonded
            .get(id)
            .is_some_and(|t| t.elapsed() < BOND_EXPIRATION)
    }

    fn drop_packet(&mut self, error: DiscoveryError) {
        tracing::debug!(%error, "discovery packet dropped");
        if self.dropped.len() >= 256 {
            self.dropped.remove(0);
        }
        self.dropped.push(error);
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn local_endpoint(&self) -> Endpoint {
        let addr = self.socket.local_addr().ok();
        Endpoint {
            ip: addr.map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |a| a.ip()),
            udp: addr.map_or(0, |a| a.port()),
            tcp: self.tcp_port,
        }
    }

    async fn send(&self, to: SocketAddr, message: &Message) -> std::io::Result<B256> {
        let (bytes, hash) = packet::encode(&self.secret_key, message);
        self.socket.send_to(&bytes, to).await?;
        Ok(hash)
    }

    fn ping_waiter(&self, id: &PeerId) -> Option<oneshot::Receiver<()>> {
        let mut state = self.state();
        if state.pinged_us.contains_key(id) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        state.pending.ping_waiters.entry(*id).or_default().push(tx);
        Some(rx)
    }

    async fn ping(&self, node: &NodeRecord) -> Result<(), RequestError> {
        let message = Message::Ping {
            from: self.local_endpoint(),
            to: Endpoint {
                ip: node.ip,
                udp: node.udp_port,
                tcp: node.tcp_port,
            },
            expiration: expiration(),
        };
        let (bytes, hash) = packet::encode(&self.secret_key, &message);
        let (tx, rx) = oneshot::channel();
        let token = {
            let mut state = self.state();
            let pending = &mut state.pending;
            let token = pending.next_ping;
            pending.next_ping = token.saturating_add(1);
            let (_, waiters) = pending.pings.entry(hash).or_insert((node.id, Vec::new()));
            waiters.push((token, tx));
            token
        };
        let sent = self.socket.send_to(&bytes, node.udp_addr()).await;
        let result = match sent {
            Err(e) => Err(e.into()),
            Ok(_) => match tokio::time::timeout(RESPONSE_TIMEOUT, rx).await {
                Ok(Ok(())) => Ok(()),
                _ => Err(RequestError::Timeout(RESPONSE_TIMEOUT)),
            },
        };
        let mut state = self.state();
        if let Some((_, waiters)) = state.pending.pings.get_mut(&hash) {
            waiters.retain(|(t, _)| *t != token);
            if waiters.is_empty() {
                state.pending.pings.remove(&hash);
            }
        }
        if result.is_ok() {
            state.bonded.insert(node.id, Instant::now());
            state.table.add(*node);
        }
        result
    }

    async fn find_node(
        &self,
        node: &NodeRecord,
        target: PeerId,
    ) -> Result<Vec<NodeRecord>, RequestError> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.state().pending.finds.insert(node.id, tx);
        let message = Message::FindNode {
            target,
            expiration: expiration(),
        };
        let sent = self.send(node.udp_addr(), &message).await;
        let mut found = Vec::new();
        if let Err(e) = sent {
            self.state().pending.finds.remove(&node.id);
            return Err(e.into());
        }
        let deadline = tokio::time::Instant::now() + RESPONSE_TIMEOUT;
        while found.len() < BUCKET_SIZE {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(nodes)) => found.extend(nodes.iter().map(record)),
                _ => break,
            }
        }
        self.state().pending.finds.remove(&node.id);
        if found.is_empty() {
            return Err(RequestError::Timeout(RESPONSE_TIMEOUT));
        }
        Ok(found)
    }

    /// Answers or routes one packet. Returns replies to send (kept outside the lock).
    fn handle(self: &Arc<Self>, from: SocketAddr, packet: Packet) -> Vec<Message> {
        let mut state = self.state();
        match packet.message {
            Message::Ping { from: claimed, .. } => {
                state.pinged_us.insert(packet.sender, Instant::now());
                for waiter in state
                    .pending
                    .ping_waiters
                    .remove(&packet.sender)
                    .unwrap_or_default()
                {
                    let _ = waiter.send(());
                }
                // Bond back with a node we have no proof for (the reference does the same).
                if !state.is_bonded(&packet.sender) {
                    let node = NodeRecord {
                        id: packet.sender,
                        ip: from.ip(),
                        udp_port: from.port(),
                        tcp_port: claimed.tcp,
                    };
                    let this = Arc::clone(self);
                    tokio::spawn(async move {
                        let _ = this.ping(&node).await;
                    });
                }
                vec![Message::Pong {
                    to: Endpoint {
                        ip: from.ip(),
                        udp: from.port(),
                        tcp: claimed.tcp,
                    },
                    ping_hash: packet.hash,
                    expiration: expiration(),
                }]
            }
            Message::Pong { ping_hash, .. } => {
                // Only a pong to a ping of ours, from the node we pinged, counts.
                if state
                    .pending
                    .pings
                    .get(&ping_hash)
                    .is_some_and(|(id, _)| *id == packet.sender)
                    && let Some((_, waiters)) = state.pending.pings.remove(&ping_hash)
                {
                    for (_, tx) in waiters {
                        let _ = tx.send(());
                    }
                }
                vec![]
            }
            Message::FindNode { target, .. } => {
                // No answer to a node without endpoint proof: discovery must not amplify
                // traffic towards a spoofed source address.
                if !state.is_bonded(&packet.sender) {
                    return vec![];
                }
                let closest = state.table.closest(&target, BUCKET_SIZE);
                closest
                    .chunks(MAX_NEIGHBORS)
                    .map(|chunk| Message::Neighbors {
                        nodes: chunk
                            .iter()
                            .map(|n| NeighborNode {
                                endpoint: Endpoint {
                                    ip: n.ip,
                                    udp: n.udp_port,
                                    tcp: n.tcp_port,
                                },
                                id: n.id,
                            })
                            .collect(),
                        expiration: expiration(),
                    })
                    .collect()
            }
            Message::Neighbors { nodes, .. } => {
                // Unsolicited neighbors are ignored.
                if let Some(tx) = state.pending.finds.get(&packet.sender) {
                    let _ = tx.send(nodes);
                }
                vec![]
            }
        }
    }
}

/// Revalidates one table entry every [`REVALIDATE_INTERVAL`] until every handle is gone.
async fn revalidate_loop(weak: std::sync::Weak<Inner>) {
    let mut tick = tokio::time::interval(REVALIDATE_INTERVAL);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = weak.upgrade() else { return };
        let _ = Discv4 { inner }.revalidate().await;
    }
}

async fn receive_loop(weak: std::sync::Weak<Inner>) {
    let mut buf = vec![0u8; MAX_PACKET_SIZE + 1];
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let received = tokio::select! {
            r = inner.socket.recv_from(&mut buf) => r,
            // Wake up now and then to notice that every handle is gone.
            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
        };
        let Ok((len, from)) = received else { continue };
        let packet = match packet::decode(&buf[..len], now_secs()) {
            Ok(p) => p,
            Err(e) => {
                inner.state().drop_packet(e);
                continue;
            }
        };
        if packet.sender == inner.local_id {
            continue;
        }
        for reply in inner.handle(from, packet) {
            let _ = inner.send(from, &reply).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::random_secret_key;

    async fn node() -> Discv4 {
        Discv4::bind(Discv4Config {
            secret_key: random_secret_key(),
            bind: "127.0.0.1:0".parse().unwrap(),
            tcp_port: 1,
            bootnodes: vec![],
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn two_nodes_bond_and_find_each_other_through_a_third() {
        let (a, b, c) = (node().await, node().await, node().await);
        let (ra, rb, rc) = (
            a.local_record().unwrap(),
            b.local_record().unwrap(),
            c.local_record().unwrap(),
        );
        // b knows c. a, not bonded with b, gets no answer to a findnode (no amplification),
        // though b has a node to tell.
        b.bond(&rc).await.unwrap();
        assert!(matches!(
            a.find_node(&rb, ra.id).await,
            Err(RequestError::Timeout(_))
        ));
        a.bond(&rb).await.unwrap();
        assert!(a.is_bonded(&rb.id) && b.has_pinged_us(&ra.id));
        // b knows c; a's lookup of c goes through b.
        let found = a.lookup(rc.id).await;
        assert!(found.iter().any(|n| n.id == rc.id), "{found:?}");
    }

    #[tokio::test]
    async fn revalidation_keeps_a_live_node_and_drops_a_gone_one() {
        let (a, b) = (node().await, node().await);
        let rb = b.local_record().unwrap();
        // b pings back at once (bonding), and a answers that with an identical ping of its own:
        // a second ping within the second (the revalidation's) must still get its pong (seen
        // failing when one ping's end removed the other's waiter).
        a.ping(&rb).await.unwrap();
        assert_eq!(a.table_nodes(), vec![rb]);
        // Alive: it answers and stays.
        assert_eq!(a.revalidate().await, Some((rb, true)));
        assert!(a.is_bonded(&rb.id));
        // Gone (its socket closed): dropped from the table, its bond forgotten.
        drop(b);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::UdpSocket::bind(rb.udp_addr()).is_err() {
            assert!(Instant::now() < deadline, "b's socket still open");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(a.revalidate().await, Some((rb, false)));
        assert!(a.table_nodes().is_empty());
        assert!(!a.is_bonded(&rb.id));
        assert_eq!(a.revalidate().await, None, "nothing left to revalidate");
    }

    /// Waits until `node` has dropped `n` packets (so everything sent before was processed).
    async fn wait_dropped(node: &Discv4, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while node.dropped().len() < n {
            assert!(
                Instant::now() < deadline,
                "packets not processed: {:?}",
                node.dropped()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn an_unsolicited_pong_bonds_nobody() {
        let a = node().await;
        let ra = a.local_record().unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let key = random_secret_key();
        let to = Endpoint {
            ip: ra.ip,
            udp: ra.udp_port,
            tcp: 1,
        };
        let (pong, _) = packet::encode(
            &key,
            &Message::Pong {
                to,
                ping_hash: B256::repeat_byte(9),
                expiration: expiration(),
            },
        );
        sock.send_to(&pong, ra.udp_addr()).await.unwrap();
        // A marker packet after it: once it is dropped, the pong was handled.
        sock.send_to(&[0u8; 120], ra.udp_addr()).await.unwrap();
        wait_dropped(&a, 1).await;
        assert!(!a.is_bonded(&peer_id_of(&key)));
        assert!(a.table_nodes().is_empty());
    }

    #[tokio::test]
    async fn bad_packets_are_dropped_and_counted() {
        let a = node().await;
        let ra = a.local_record().unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let key = random_secret_key();
        let (expired, _) = packet::encode(
            &key,
            &Message::FindNode {
                target: ra.id,
                expiration: 1,
            },
        );
        sock.send_to(&expired, ra.udp_addr()).await.unwrap();
        sock.send_to(&[7u8; 200], ra.udp_addr()).await.unwrap();
        wait_dropped(&a, 2).await;
        let dropped = a.dropped();
        assert!(matches!(
            dropped[0],
            DiscoveryError::Expired { expiration: 1, .. }
        ));
        assert_eq!(dropped[1], DiscoveryError::BadHash);
    }
}
