//! The network service: one task that owns the swarm, reacts to its events, runs the
//! handles' commands and serves peers' requests (chain reads run on blocking threads).

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use alloy_rlp::Encodable;
use futures::StreamExt;
use libp2p::{
    Multiaddr, PeerId, Swarm, gossipsub, identify, kad, mdns,
    multiaddr::Protocol,
    request_response::{self, InboundFailure, OutboundFailure, OutboundRequestId, ResponseChannel},
    swarm::{SwarmEvent, dial_opts::DialOpts, dial_opts::PeerCondition},
};
use spectrum_primitives::Block;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, trace, warn};

use crate::{
    ChainView,
    behaviour::{Behaviour, BehaviourEvent, Namespace},
    codec::RequestFrame,
    config::NetworkConfig,
    error::RequestError,
    handle::{
        Command, GossipTopic, MessageValidation, NetworkEvent, SharedState, event_bytes, write,
    },
    messages::{ChainStatus, Request, decode_transactions, encode_headers, encode_list},
    peers::{PeerBook, Penalty, PenaltyOutcome},
};

/// Who waits for an outbound request's response.
enum Pending {
    /// Our status request sent on connect or periodically.
    Status,
    /// A handle's request.
    Caller(oneshot::Sender<Result<Vec<u8>, RequestError>>),
}

/// A response computed on a blocking thread, to be sent by the swarm task.
struct Served {
    channel: ResponseChannel<Vec<u8>>,
    bytes: Vec<u8>,
}

pub(crate) struct Service {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) config: NetworkConfig,
    pub(crate) namespace: Namespace,
    pub(crate) chain: Arc<dyn ChainView>,
    pub(crate) shared: Arc<SharedState>,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) events: mpsc::Sender<NetworkEvent>,
    pub(crate) local_status: ChainStatus,
    book: PeerBook,
    pending: HashMap<OutboundRequestId, Pending>,
    served_tx: mpsc::UnboundedSender<Served>,
    served_rx: mpsc::UnboundedReceiver<Served>,
    status_tx: mpsc::UnboundedSender<ChainStatus>,
    status_rx: mpsc::UnboundedReceiver<ChainStatus>,
    last_status_round: Instant,
    last_discovery_round: Instant,
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        config: NetworkConfig,
        namespace: Namespace,
        chain: Arc<dyn ChainView>,
        shared: Arc<SharedState>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetworkEvent>,
        local_status: ChainStatus,
    ) -> Self {
        let (served_tx, served_rx) = mpsc::unbounded_channel();
        let (status_tx, status_rx) = mpsc::unbounded_channel();
        let book = PeerBook::new(config.scoring, config.request_limits);
        Self {
            swarm,
            config,
            namespace,
            chain,
            shared,
            commands,
            events,
            local_status,
            book,
            pending: HashMap::new(),
            served_tx,
            served_rx,
            status_tx,
            status_rx,
            last_status_round: Instant::now(),
            last_discovery_round: Instant::now(),
        }
    }

    /// Runs until every handle is dropped.
    pub(crate) async fn run(mut self) {
        self.dial_bootnodes();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                Some(served) = self.served_rx.recv() => {
                    // The peer may have gone meanwhile: nothing to do then.
                    let _ = self.swarm.behaviour_mut().requests.send_response(served.channel, served.bytes);
                }
                Some(status) = self.status_rx.recv() => self.set_local_status(status),
                _ = tick.tick() => self.on_tick(),
            }
        }
        debug!("network service stopped");
    }

    /// Our status as the chain reports it, with the configured chain id and genesis (the
    /// configuration is what this node is: the handshake must never claim otherwise).
    pub(crate) fn set_local_status(&mut self, status: ChainStatus) {
        self.local_status = ChainStatus {
            chain_id: self.config.chain_id,
            genesis_hash: self.config.genesis_hash,
            ..status
        };
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        self.swarm.behaviour_mut().ip_limits.tick(now);
        for peer in self.book.tick(now) {
            debug!(%peer, "ban lifted");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            self.swarm
                .behaviour_mut()
                .gossipsub
                .remove_blacklisted_peer(&peer);
            write(&self.shared.banned, |banned| {
                banned.remove(&peer);
            });
        }
        let chain = Arc::clone(&self.chain);
        let status_tx = self.status_tx.clone();
        tokio::task::spawn_blocking(move || {
            let _ = status_tx.send(chain.status());
        });
        if now.saturating_duration_since(self.last_status_round) >= self.config.status_interval {
            self.last_status_round = now;
            let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
            for peer in peers {
                self.send_status(peer);
            }
        }
        if now.saturating_duration_since(self.last_discovery_round) >= Duration::from_secs(10) {
            self.last_discovery_round = now;
            self.discover();
        }
    }

    /// With too few peers: redial bootnodes, and walk the DHT for more.
    fn discover(&mut self) {
        let connected = self.swarm.connected_peers().count();
        if u32::try_from(connected).unwrap_or(u32::MAX) >= self.config.max_peers {
            return;
        }
        self.dial_bootnodes();
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            // Fails only without any known peer, which the bootnodes fix.
            let _ = kad.bootstrap();
        }
    }

    fn dial_bootnodes(&mut self) {
        for addr in self.config.bootnodes.clone() {
            let peer = peer_id_of(&addr);
            if let Some(peer) = peer {
                if self.book.is_banned(&peer) || self.swarm.is_connected(&peer) {
                    continue;
                }
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    kad.add_address(&peer, addr.clone());
                }
            }
            let opts = match peer {
                Some(peer) => DialOpts::peer_id(peer)
                    .addresses(vec![addr.clone()])
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build(),
                None => DialOpts::unknown_peer_id().address(addr.clone()).build(),
            };
            if let Err(error) = self.swarm.dial(opts) {
                debug!(%addr, %error, "bootnode dial");
            }
        }
    }

    /// Hands `event` to the node unless the queue is full in number or in bytes.
    fn emit(&self, event: NetworkEvent) -> bool {
        let bytes = event_bytes(&event);
        let budget = self.config.gossip_limits.max_queued_bytes;
        let reserved =
            self.shared
                .queued_bytes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |queued| {
                    queued.checked_add(bytes).filter(|total| *total <= budget)
                });
        if reserved.is_err() {
            warn!(
                bytes,
                budget, "network event queue over its byte budget: gossip dropped"
            );
            return false;
        }
        let unreserve = || {
            let _ = self.shared.queued_bytes.fetch_update(
                Ordering::SeqCst,
                Ordering::SeqCst,
                |queued| Some(queued.saturating_sub(bytes)),
            );
        };
        match self.events.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(event)) => {
                unreserve();
                warn!(?event, "network event queue full: event dropped");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                unreserve();
                false
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, bytes } => {
                let topic = match topic {
                    GossipTopic::Blocks => self.namespace.blocks_topic(),
                    GossipTopic::Transactions => self.namespace.txs_topic(),
                };
                if let Err(error) = self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
                    // Duplicate (already relayed) or no peers yet: nothing to do.
                    debug!(%error, "gossip publish");
                }
            }
            Command::Report {
                msg_id,
                peer,
                validation,
            } => self.report(&msg_id, peer, validation),
            Command::Request { peer, bytes, reply } => {
                if !self.swarm.is_connected(&peer) {
                    let _ = reply.send(Err(RequestError::NotConnected));
                    return;
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .requests
                    .send_request(&peer, RequestFrame::Bytes(bytes));
                self.pending.insert(id, Pending::Caller(reply));
            }
            Command::Penalise { peer, penalty } => self.penalise(peer, penalty),
            Command::Dial { addr } => {
                if let Err(error) = self.swarm.dial(addr.clone()) {
                    debug!(%addr, %error, "dial");
                }
            }
            Command::Disconnect { peer } => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    fn report(
        &mut self,
        msg_id: &gossipsub::MessageId,
        peer: PeerId,
        validation: MessageValidation,
    ) {
        let acceptance = match validation {
            MessageValidation::Accept => gossipsub::MessageAcceptance::Accept,
            MessageValidation::Ignore => gossipsub::MessageAcceptance::Ignore,
            MessageValidation::Reject(penalty) => {
                self.penalise(peer, penalty);
                gossipsub::MessageAcceptance::Reject
            }
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(msg_id, &peer, acceptance);
    }

    /// Charges `penalty` to `peer`; bans (disconnects and refuses) it at the threshold.
    fn penalise(&mut self, peer: PeerId, penalty: Penalty) {
        match self.book.penalise(peer, penalty, Instant::now()) {
            PenaltyOutcome::Penalised { score } => {
                debug!(%peer, ?penalty, score, "peer penalised");
                write(&self.shared.scores, |scores| {
                    scores.insert(peer, score);
                });
            }
            PenaltyOutcome::Banned { until } => {
                if self.book.is_banned(&peer)
                    && !self.shared.banned.read().is_ok_and(|b| b.contains(&peer))
                {
                    warn!(%peer, ?penalty, "peer banned");
                    write(&self.shared.banned, |banned| {
                        banned.insert(peer);
                    });
                    write(&self.shared.peers, |peers| {
                        peers.remove(&peer);
                    });
                    let behaviour = self.swarm.behaviour_mut();
                    let ips = behaviour.ip_limits.ban_peer(&peer, until);
                    if !ips.is_empty() {
                        warn!(%peer, ?ips, "addresses banned with the peer");
                    }
                    behaviour.blocked.block_peer(peer);
                    behaviour.gossipsub.blacklist_peer(&peer);
                    if let Some(kad) = behaviour.kad.as_mut() {
                        kad.remove_peer(&peer);
                    }
                    self.emit(NetworkEvent::PeerBanned { peer });
                }
            }
        }
    }

    fn send_status(&mut self, peer: PeerId) {
        let bytes = Request::Status(self.local_status).encode();
        let id = self
            .swarm
            .behaviour_mut()
            .requests
            .send_request(&peer, RequestFrame::Bytes(bytes));
        self.pending.insert(id, Pending::Status);
    }

    /// A status from `peer` (request or response): same chain or banned.
    fn on_peer_status(&mut self, peer: PeerId, status: ChainStatus) {
        if status.genesis_hash != self.config.genesis_hash
            || status.chain_id != self.config.chain_id
        {
            info!(%peer, genesis = %status.genesis_hash, chain_id = status.chain_id, "peer of another chain");
            self.penalise(peer, Penalty::IncompatibleChain);
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        if !self.swarm.is_connected(&peer) || self.book.is_banned(&peer) {
            return;
        }
        let first = self.book.set_status(peer, status);
        write(&self.shared.peers, |peers| {
            peers.insert(peer, status);
        });
        if first {
            debug!(%peer, head = status.head_number, "peer connected");
            self.emit(NetworkEvent::PeerConnected { peer, status });
        } else {
            self.emit(NetworkEvent::PeerStatus { peer, status });
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                let full = address.with(Protocol::P2p(*self.swarm.local_peer_id()));
                info!(addr = %full, "listening");
                write(&self.shared.listen_addrs, |addrs| addrs.push(full));
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                endpoint,
                ..
            } => {
                let ip_banned = crate::ip_limits::ip_of(endpoint.get_remote_address())
                    .is_some_and(|ip| self.swarm.behaviour().ip_limits.is_banned(&ip));
                if self.book.is_banned(&peer_id) || ip_banned {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                } else if num_established.get() == 1 {
                    trace!(peer = %peer_id, "connection established");
                    let inbound = endpoint.is_listener();
                    write(&self.shared.inbound, |set| {
                        if inbound {
                            set.insert(peer_id);
                        } else {
                            set.remove(&peer_id);
                        }
                    });
                    self.book.connected(peer_id);
                    self.send_status(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => self.on_disconnected(peer_id),
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error: libp2p::swarm::ListenError::Denied { cause },
                ..
            } => self.on_refused(&send_back_addr, &cause),
            _ => {}
        }
    }

    /// Remembers why an inbound connection was refused before its handshake.
    fn on_refused(&self, from: &Multiaddr, cause: &libp2p::swarm::ConnectionDenied) {
        let reason = if let Some(denied) = cause.downcast_ref::<crate::ip_limits::IpDenied>() {
            denied.to_string()
        } else if let Some(exceeded) = cause.downcast_ref::<libp2p::connection_limits::Exceeded>() {
            exceeded.to_string()
        } else if cause
            .downcast_ref::<libp2p::allow_block_list::Blocked>()
            .is_some()
        {
            "peer banned".to_owned()
        } else {
            cause.to_string()
        };
        debug!(%from, %reason, "inbound connection refused");
        write(&self.shared.refused, |refused| {
            refused.push_back(reason);
            while refused.len() > crate::handle::REFUSED_KEPT {
                refused.pop_front();
            }
        });
    }

    fn on_disconnected(&mut self, peer: PeerId) {
        let was_ready = self.book.disconnected(&peer);
        write(&self.shared.scores, |scores| {
            scores.remove(&peer);
        });
        write(&self.shared.peers, |peers| {
            peers.remove(&peer);
        });
        write(&self.shared.gossip_peers, |peers| {
            peers.remove(&peer);
        });
        write(&self.shared.inbound, |peers| {
            peers.remove(&peer);
        });
        if was_ready {
            debug!(%peer, "peer disconnected");
            self.emit(NetworkEvent::PeerDisconnected { peer });
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Requests(event) => self.on_request_event(event),
            BehaviourEvent::Gossipsub(event) => self.on_gossip_event(event),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if info.protocol_version != self.namespace.identify_version() {
                    info!(peer = %peer_id, version = %info.protocol_version, "peer of another chain (identify)");
                    self.penalise(peer_id, Penalty::IncompatibleChain);
                    return;
                }
                if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                    for addr in info.listen_addrs {
                        kad.add_address(&peer_id, addr);
                    }
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => self.maybe_dial(peer),
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                        kad.add_address(&peer, addr.clone());
                    }
                    let opts = DialOpts::peer_id(peer)
                        .addresses(vec![addr])
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    let _ = self.swarm.dial(opts);
                }
            }
            _ => {}
        }
    }

    /// Dials a discovered peer while we have room for more.
    fn maybe_dial(&mut self, peer: PeerId) {
        let connected = self.swarm.connected_peers().count();
        if u32::try_from(connected).unwrap_or(u32::MAX) >= self.config.max_peers
            || self.book.is_banned(&peer)
            || self.swarm.is_connected(&peer)
        {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        let _ = self.swarm.dial(opts);
    }

    fn on_gossip_event(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => self.on_gossip_message(propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic }
                if topic == self.namespace.blocks_topic().hash() =>
            {
                write(&self.shared.gossip_peers, |peers| {
                    peers.insert(peer_id);
                });
            }
            gossipsub::Event::Unsubscribed { peer_id, topic }
                if topic == self.namespace.blocks_topic().hash() =>
            {
                write(&self.shared.gossip_peers, |peers| {
                    peers.remove(&peer_id);
                });
            }
            _ => {}
        }
    }

    fn on_gossip_message(
        &mut self,
        peer: PeerId,
        msg_id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let limits = &self.config.request_limits.decode;
        let event = if message.topic == self.namespace.blocks_topic().hash() {
            spectrum_metrics::gossip_received("blocks");
            match Block::decode_bounded(&message.data, limits) {
                Ok(block) => Ok(NetworkEvent::NewBlock {
                    peer,
                    msg_id: msg_id.clone(),
                    block: Box::new(block.seal_slow()),
                }),
                Err(error) => Err(error.to_string()),
            }
        } else if message.topic == self.namespace.txs_topic().hash() {
            spectrum_metrics::gossip_received("transactions");
            let gossip = &self.config.gossip_limits;
            match decode_transactions(
                &message.data,
                gossip.max_txs_per_message,
                gossip.max_txs_message_bytes,
                limits,
            ) {
                Ok(txs) => Ok(NetworkEvent::Transactions {
                    peer,
                    msg_id: msg_id.clone(),
                    txs,
                }),
                Err(error) => Err(error.to_string()),
            }
        } else {
            Err(format!("unknown topic {}", message.topic))
        };
        match event {
            Ok(event) => {
                if !self.emit(event) {
                    self.report(&msg_id, peer, MessageValidation::Ignore);
                }
            }
            Err(error) => {
                debug!(%peer, %error, "undecodable gossip");
                self.report(
                    &msg_id,
                    peer,
                    MessageValidation::Reject(Penalty::UndecodableMessage),
                );
            }
        }
    }

    fn on_request_event(&mut self, event: request_response::Event<RequestFrame, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_inbound_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => match self.pending.remove(&request_id) {
                    Some(Pending::Status) => {
                        let limits = &self.config.request_limits;
                        match spectrum_primitives::decode::decode_exact::<ChainStatus>(
                            "status",
                            &response,
                            limits.max_request_bytes,
                        ) {
                            Ok(status) => self.on_peer_status(peer, status),
                            Err(_) => self.penalise(peer, Penalty::UndecodableMessage),
                        }
                    }
                    Some(Pending::Caller(reply)) => {
                        let _ = reply.send(Ok(response));
                    }
                    None => {}
                },
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => self.on_outbound_failure(peer, request_id, error),
            request_response::Event::InboundFailure { peer, error, .. } => {
                if let InboundFailure::Io(io) = &error
                    && io.kind() == std::io::ErrorKind::InvalidData
                {
                    debug!(%peer, %io, "bad inbound request");
                    self.penalise(peer, Penalty::UndecodableMessage);
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_outbound_failure(&mut self, peer: PeerId, id: OutboundRequestId, error: OutboundFailure) {
        let pending = self.pending.remove(&id);
        let request_error = match &error {
            OutboundFailure::DialFailure => RequestError::NotConnected,
            OutboundFailure::Timeout => {
                self.penalise(peer, Penalty::Timeout);
                RequestError::Timeout
            }
            OutboundFailure::ConnectionClosed => RequestError::ConnectionClosed,
            OutboundFailure::UnsupportedProtocols => {
                // Our request protocol carries the genesis hash: another chain.
                self.penalise(peer, Penalty::IncompatibleChain);
                RequestError::UnsupportedProtocol
            }
            OutboundFailure::Io(io) => {
                if io.kind() == std::io::ErrorKind::InvalidData {
                    self.penalise(peer, Penalty::UndecodableMessage);
                }
                RequestError::Io(io.to_string())
            }
        };
        match pending {
            Some(Pending::Caller(reply)) => {
                let _ = reply.send(Err(request_error));
            }
            // A peer that never answers the handshake is of no use.
            Some(Pending::Status) if self.book.status(&peer).is_none() => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Some(Pending::Status) | None => {}
        }
    }

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        frame: RequestFrame,
        channel: ResponseChannel<Vec<u8>>,
    ) {
        if self.book.is_banned(&peer) {
            return;
        }
        let bytes = match frame {
            RequestFrame::Bytes(bytes) => bytes,
            RequestFrame::Oversized { len } => {
                debug!(%peer, len, "oversized request");
                self.penalise(peer, Penalty::UndecodableMessage);
                return;
            }
        };
        if !self.book.allow_request(peer, Instant::now()) {
            debug!(%peer, "request flood: request dropped");
            self.penalise(peer, Penalty::RequestFlood);
            return;
        }
        let limits = self.config.request_limits;
        let request = match Request::decode(&bytes, &limits) {
            Ok(request) => request,
            Err(error) => {
                debug!(%peer, %error, "undecodable request");
                let penalty = if matches!(error, crate::messages::MessageError::TooManyItems { .. })
                {
                    Penalty::AbsurdRequest
                } else {
                    Penalty::UndecodableMessage
                };
                self.penalise(peer, penalty);
                return;
            }
        };
        spectrum_metrics::request_served(&spectrum_metrics::variant_name(&request.kind()));
        match request {
            Request::Status(status) => {
                let bytes = alloy_rlp::encode(self.local_status);
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .requests
                    .send_response(channel, bytes);
                self.on_peer_status(peer, status);
            }
            Request::Headers(request) => {
                if usize::try_from(request.amount)
                    .map_or(true, |amount| amount > limits.max_headers)
                {
                    debug!(%peer, amount = request.amount, "absurd header request");
                    self.penalise(peer, Penalty::AbsurdRequest);
                    return;
                }
                self.serve(channel, move |chain| {
                    let mut headers = chain.headers(&request);
                    headers.truncate(limits.max_headers);
                    encode_headers(&headers)
                });
            }
            Request::Bodies(hashes) => self.serve(channel, move |chain| {
                let bodies = chain.bodies(&hashes);
                encode_list(&within_soft_limit(bodies, limits.soft_response_bytes))
            }),
            Request::Receipts(hashes) => self.serve(channel, move |chain| {
                let receipts = chain.receipts(&hashes);
                encode_list(&within_soft_limit(receipts, limits.soft_response_bytes))
            }),
        }
    }

    /// Runs a chain read on a blocking thread and hands the response back to this task.
    fn serve(
        &self,
        channel: ResponseChannel<Vec<u8>>,
        answer: impl FnOnce(&dyn ChainView) -> Vec<u8> + Send + 'static,
    ) {
        let chain = Arc::clone(&self.chain);
        let served = self.served_tx.clone();
        tokio::task::spawn_blocking(move || {
            let bytes = answer(&*chain);
            let _ = served.send(Served { channel, bytes });
        });
    }
}

/// Keeps items until their encoded size passes `soft_limit` (always at least one).
fn within_soft_limit<T: Encodable>(items: Vec<T>, soft_limit: usize) -> Vec<T> {
    let mut total = 0usize;
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if !kept.is_empty() && total >= soft_limit {
            break;
        }
        total = total.saturating_add(item.length());
        kept.push(item);
    }
    kept
}

/// The peer id at the end of a `/…/p2p/<id>` address.
pub(crate) fn peer_id_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|protocol| match protocol {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_keeps_at_least_one_item() {
        let items = vec![vec![0u8; 100], vec![0u8; 100], vec![0u8; 100]];
        assert_eq!(within_soft_limit(items.clone(), 10).len(), 1);
        assert_eq!(within_soft_limit(items.clone(), 150).len(), 2);
        assert_eq!(within_soft_limit(items, 10_000).len(), 3);
    }
}
