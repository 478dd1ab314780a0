//! Limits by IP address, which peer ids cannot dodge (a new identity costs nothing, a new address
//! does): at most `max_per_ip` inbound connections from one address, and banned addresses
//! refused before any handshake. Loopback is exempt unless configured otherwise (see
//! [`crate::NetworkConfig::limit_loopback`]).

use std::{
    collections::HashMap,
    convert::Infallible,
    net::IpAddr,
    task::{Context, Poll},
    time::Instant,
};

use libp2p::{
    Multiaddr, PeerId,
    core::{Endpoint, transport::PortUse},
    multiaddr::Protocol,
    swarm::{
        ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
        THandlerOutEvent, ToSwarm, dummy,
    },
};

/// Why a connection was refused by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IpDenied {
    /// The address is banned (a peer connected from it was banned).
    #[error("{0} is banned")]
    Banned(IpAddr),
    /// The address already has its share of inbound connections.
    #[error("{ip} already has {limit} inbound connections")]
    TooMany {
        /// The address.
        ip: IpAddr,
        /// The cap.
        limit: u32,
    },
}

/// The IP address of a `/ip4/…` or `/ip6/…` multiaddr.
pub(crate) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|protocol| match protocol {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

/// The behaviour: no protocol, only decisions on connections.
pub struct IpLimits {
    max_per_ip: u32,
    limit_loopback: bool,
    /// Inbound connections (pending or established) by id, with their address.
    inbound: HashMap<ConnectionId, IpAddr>,
    /// Established connections (both directions): the peer and its address, to ban by address.
    established: HashMap<ConnectionId, (PeerId, IpAddr)>,
    banned: HashMap<IpAddr, Instant>,
}

impl IpLimits {
    pub(crate) fn new(max_per_ip: u32, limit_loopback: bool) -> Self {
        Self {
            max_per_ip,
            limit_loopback,
            inbound: HashMap::new(),
            established: HashMap::new(),
            banned: HashMap::new(),
        }
    }

    fn applies_to(&self, ip: IpAddr) -> bool {
        self.limit_loopback || !ip.is_loopback()
    }

    /// Bans every address `peer` is connected from until `until`; returns them.
    pub(crate) fn ban_peer(&mut self, peer: &PeerId, until: Instant) -> Vec<IpAddr> {
        let ips: Vec<IpAddr> = self
            .established
            .values()
            .filter(|(p, ip)| p == peer && self.applies_to(*ip))
            .map(|(_, ip)| *ip)
            .collect();
        for ip in &ips {
            self.banned.insert(*ip, until);
        }
        ips
    }

    /// Whether `ip` is banned now.
    pub(crate) fn is_banned(&self, ip: &IpAddr) -> bool {
        self.banned.contains_key(ip)
    }

    /// Lifts the bans that ended by `now`.
    pub(crate) fn tick(&mut self, now: Instant) {
        self.banned.retain(|_, until| *until > now);
    }

    /// Whether a new inbound connection from `ip` may proceed.
    fn admit(&self, ip: IpAddr) -> Result<(), IpDenied> {
        if !self.applies_to(ip) {
            return Ok(());
        }
        if self.banned.contains_key(&ip) {
            return Err(IpDenied::Banned(ip));
        }
        let from_ip = self.inbound.values().filter(|i| **i == ip).count();
        if u32::try_from(from_ip).unwrap_or(u32::MAX) >= self.max_per_ip {
            return Err(IpDenied::TooMany {
                ip,
                limit: self.max_per_ip,
            });
        }
        Ok(())
    }
}

impl NetworkBehaviour for IpLimits {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let Some(ip) = ip_of(remote_addr) else {
            return Ok(());
        };
        self.admit(ip).map_err(ConnectionDenied::new)?;
        self.inbound.insert(connection_id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(established) => {
                if let Some(ip) = ip_of(established.endpoint.get_remote_address()) {
                    self.established
                        .insert(established.connection_id, (established.peer_id, ip));
                }
            }
            FromSwarm::ConnectionClosed(closed) => {
                self.inbound.remove(&closed.connection_id);
                self.established.remove(&closed.connection_id);
            }
            FromSwarm::ListenFailure(failure) => {
                self.inbound.remove(&failure.connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_inbound_per_address_and_refuses_banned_ones() {
        let mut limits = IpLimits::new(2, true);
        let ip: IpAddr = [10, 0, 0, 7].into();
        limits.inbound.insert(ConnectionId::new_unchecked(1), ip);
        assert_eq!(limits.admit(ip), Ok(()));
        limits.inbound.insert(ConnectionId::new_unchecked(2), ip);
        assert_eq!(limits.admit(ip), Err(IpDenied::TooMany { ip, limit: 2 }));
        let other: IpAddr = [10, 0, 0, 8].into();
        assert_eq!(limits.admit(other), Ok(()));
        let peer = PeerId::random();
        limits
            .established
            .insert(ConnectionId::new_unchecked(3), (peer, other));
        let now = Instant::now();
        let later = now + std::time::Duration::from_secs(60);
        assert_eq!(limits.ban_peer(&peer, later), vec![other]);
        assert_eq!(limits.admit(other), Err(IpDenied::Banned(other)));
        limits.tick(later);
        assert_eq!(limits.admit(other), Ok(()));
    }

    #[test]
    fn loopback_is_exempt_unless_configured() {
        let loopback: IpAddr = [127, 0, 0, 1].into();
        let mut limits = IpLimits::new(0, false);
        assert_eq!(limits.admit(loopback), Ok(()));
        limits.limit_loopback = true;
        assert!(limits.admit(loopback).is_err());
    }
}
