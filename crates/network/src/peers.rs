//! Peer bookkeeping: handshake status, score, bans and the request rate limit of each peer.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use libp2p::PeerId;

use crate::{
    config::{RequestLimits, ScoringConfig},
    messages::ChainStatus,
};

/// Why a peer is penalised; each reason costs a fixed number of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Penalty {
    /// It sent or relayed a block that failed validation.
    InvalidBlock,
    /// It sent transactions that failed validation.
    InvalidTransactions,
    /// A message that does not decode (bad RLP, too large, unknown kind).
    UndecodableMessage,
    /// More requests than its rate allows.
    RequestFlood,
    /// A request beyond the limits (absurd range, too many hashes).
    AbsurdRequest,
    /// A response that does not answer the request (bodies not matching headers, too many
    /// items, headers not linked).
    BadResponse,
    /// A request to it timed out.
    Timeout,
    /// Its status announced a total difficulty its chain does not reach (it delivered nothing,
    /// or blocks that do not add up): a lie that would stall sync.
    FalseClaim,
    /// A different chain (genesis or chain id): banned at once.
    IncompatibleChain,
}

impl Penalty {
    /// Every reason: the ban counter starts at 0 for each, so that dashboards see the series.
    pub const ALL: [Penalty; 9] = [
        Self::InvalidBlock,
        Self::InvalidTransactions,
        Self::UndecodableMessage,
        Self::RequestFlood,
        Self::AbsurdRequest,
        Self::BadResponse,
        Self::Timeout,
        Self::FalseClaim,
        Self::IncompatibleChain,
    ];

    /// Points subtracted from the peer's score.
    pub fn points(self) -> i32 {
        match self {
            Self::InvalidBlock | Self::IncompatibleChain => 100,
            Self::FalseClaim => 50,
            Self::UndecodableMessage | Self::BadResponse => 40,
            Self::InvalidTransactions | Self::AbsurdRequest => 20,
            Self::RequestFlood => 10,
            Self::Timeout => 5,
        }
    }
}

/// A token bucket: `burst` requests at once, refilled at `rate` per second.
#[derive(Debug, Clone)]
struct RateLimiter {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    fn new(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            last: Instant::now(),
        }
    }

    fn allow(&mut self, now: Instant, rate: u32, burst: u32) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Clone)]
struct PeerEntry {
    status: Option<ChainStatus>,
    score: i32,
    limiter: RateLimiter,
}

/// What a penalty did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyOutcome {
    /// The score went down; the peer stays.
    Penalised {
        /// The new score.
        score: i32,
    },
    /// The score reached the threshold: ban the peer until the given instant.
    Banned {
        /// When the ban ends.
        until: Instant,
    },
}

/// Every peer we know of: connected ones with their status and score, and banned ones.
#[derive(Debug)]
pub struct PeerBook {
    scoring: ScoringConfig,
    limits: RequestLimits,
    peers: HashMap<PeerId, PeerEntry>,
    banned: HashMap<PeerId, Instant>,
    last_recovery: Instant,
}

impl PeerBook {
    /// An empty book.
    pub fn new(scoring: ScoringConfig, limits: RequestLimits) -> Self {
        for p in Penalty::ALL {
            spectrum_metrics::declare_ban_reason(&spectrum_metrics::variant_name(&p));
        }
        Self {
            scoring,
            limits,
            peers: HashMap::new(),
            banned: HashMap::new(),
            last_recovery: Instant::now(),
        }
    }

    fn entry(&mut self, peer: PeerId) -> &mut PeerEntry {
        let burst = self.limits.request_burst;
        self.peers.entry(peer).or_insert_with(|| PeerEntry {
            status: None,
            score: 0,
            limiter: RateLimiter::new(burst),
        })
    }

    /// Records a connection (no status yet).
    pub fn connected(&mut self, peer: PeerId) {
        self.entry(peer);
    }

    /// Forgets a disconnected peer; returns whether it had completed the handshake.
    pub fn disconnected(&mut self, peer: &PeerId) -> bool {
        self.peers
            .remove(peer)
            .is_some_and(|entry| entry.status.is_some())
    }

    /// Records a peer's status; returns `true` if it is the first one (handshake completed).
    pub fn set_status(&mut self, peer: PeerId, status: ChainStatus) -> bool {
        self.entry(peer).status.replace(status).is_none()
    }

    /// The status of a peer that completed the handshake.
    pub fn status(&self, peer: &PeerId) -> Option<ChainStatus> {
        self.peers.get(peer).and_then(|entry| entry.status)
    }

    /// Peers that completed the handshake, with their last status.
    #[cfg(test)]
    pub fn ready_peers(&self) -> Vec<(PeerId, ChainStatus)> {
        self.peers
            .iter()
            .filter_map(|(peer, entry)| entry.status.map(|status| (*peer, status)))
            .collect()
    }

    /// A peer's score (0 for one we do not know).
    #[cfg(test)]
    pub fn score(&self, peer: &PeerId) -> i32 {
        self.peers.get(peer).map_or(0, |entry| entry.score)
    }

    /// Whether `peer` is banned now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.contains_key(peer)
    }

    /// Takes one request token from `peer`'s bucket; `false` if it is flooding.
    pub fn allow_request(&mut self, peer: PeerId, now: Instant) -> bool {
        let (rate, burst) = (self.limits.requests_per_second, self.limits.request_burst);
        self.entry(peer).limiter.allow(now, rate, burst)
    }

    /// Lowers `peer`'s score; bans it when the score reaches the threshold.
    pub fn penalise(&mut self, peer: PeerId, penalty: Penalty, now: Instant) -> PenaltyOutcome {
        if let Some(until) = self.banned.get(&peer) {
            return PenaltyOutcome::Banned { until: *until };
        }
        let threshold = self.scoring.ban_threshold;
        let entry = self.entry(peer);
        entry.score = entry.score.saturating_sub(penalty.points());
        if entry.score > threshold {
            return PenaltyOutcome::Penalised { score: entry.score };
        }
        spectrum_metrics::peer_banned(&spectrum_metrics::variant_name(&penalty));
        self.ban(peer, now)
    }

    /// Bans `peer` for the configured duration.
    pub fn ban(&mut self, peer: PeerId, now: Instant) -> PenaltyOutcome {
        let until = now
            .checked_add(self.scoring.ban_duration)
            .unwrap_or(now + Duration::from_secs(3600));
        self.banned.insert(peer, until);
        PenaltyOutcome::Banned { until }
    }

    /// Lets scores recover with time and lifts expired bans; returns the peers unbanned.
    pub fn tick(&mut self, now: Instant) -> Vec<PeerId> {
        let seconds = now.saturating_duration_since(self.last_recovery).as_secs();
        if seconds > 0 {
            self.last_recovery = now;
            let seconds = i32::try_from(seconds).unwrap_or(i32::MAX);
            let recovery = self.scoring.recovery_per_second.saturating_mul(seconds);
            for entry in self.peers.values_mut() {
                entry.score = entry.score.saturating_add(recovery).min(0);
            }
        }
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.banned.remove(peer);
            if let Some(entry) = self.peers.get_mut(peer) {
                entry.score = 0;
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> PeerBook {
        PeerBook::new(ScoringConfig::default(), RequestLimits::default())
    }

    #[test]
    fn repeated_penalties_ban_then_the_ban_expires() {
        let mut book = book();
        let peer = PeerId::random();
        let now = Instant::now();
        book.connected(peer);
        assert_eq!(
            book.penalise(peer, Penalty::UndecodableMessage, now),
            PenaltyOutcome::Penalised { score: -40 }
        );
        book.penalise(peer, Penalty::UndecodableMessage, now);
        let outcome = book.penalise(peer, Penalty::UndecodableMessage, now);
        assert!(matches!(outcome, PenaltyOutcome::Banned { .. }));
        assert!(book.is_banned(&peer));
        let later = now + ScoringConfig::default().ban_duration + Duration::from_secs(1);
        assert_eq!(book.tick(later), vec![peer]);
        assert!(!book.is_banned(&peer));
    }

    #[test]
    fn an_invalid_block_bans_at_once() {
        let mut book = book();
        let peer = PeerId::random();
        assert!(matches!(
            book.penalise(peer, Penalty::InvalidBlock, Instant::now()),
            PenaltyOutcome::Banned { .. }
        ));
    }

    #[test]
    fn scores_recover_with_time() {
        let mut book = book();
        let peer = PeerId::random();
        let now = Instant::now();
        book.connected(peer);
        book.penalise(peer, Penalty::BadResponse, now);
        book.tick(now + Duration::from_secs(15));
        assert_eq!(book.score(&peer), -25);
        book.tick(now + Duration::from_secs(100));
        assert_eq!(book.score(&peer), 0);
    }

    #[test]
    fn rate_limit_allows_the_burst_then_refills() {
        let mut book = book();
        let peer = PeerId::random();
        let now = Instant::now();
        let burst = RequestLimits::default().request_burst;
        let allowed = (0..burst * 2)
            .filter(|_| book.allow_request(peer, now))
            .count();
        assert_eq!(allowed, burst as usize);
        assert!(book.allow_request(peer, now + Duration::from_secs(1)));
    }

    #[test]
    fn handshake_status_is_recorded_once() {
        let mut book = book();
        let peer = PeerId::random();
        book.connected(peer);
        assert!(book.ready_peers().is_empty());
        let status = ChainStatus {
            chain_id: 1,
            genesis_hash: Default::default(),
            head_hash: Default::default(),
            head_number: 0,
            total_difficulty: Default::default(),
        };
        assert!(book.set_status(peer, status));
        assert!(!book.set_status(peer, status));
        assert_eq!(book.ready_peers().len(), 1);
        assert!(book.disconnected(&peer));
    }
}
