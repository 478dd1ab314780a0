//! `enode://<id>@<ip>:<tcp>[?discport=<udp>]` node records and the reference's bootnodes.

use std::net::{IpAddr, SocketAddr};

use alloy_primitives::{B512, hex};

use crate::crypto::{PeerId, public_key};

/// A node: id and endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeRecord {
    /// Node id (public key).
    pub id: PeerId,
    /// IP address.
    pub ip: IpAddr,
    /// RLPx TCP port.
    pub tcp_port: u16,
    /// Discovery UDP port.
    pub udp_port: u16,
}

/// Why an `enode://` URL does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnodeError {
    /// Not `enode://...@...`.
    #[error("not an enode URL (enode://<128 hex>@<ip>:<port>): {0}")]
    Format(String),
    /// The id is not 128 hex digits of a curve point.
    #[error("invalid node id in {0}")]
    Id(String),
    /// The address or port does not parse.
    #[error("invalid address in {0}")]
    Address(String),
}

impl NodeRecord {
    /// The TCP endpoint.
    pub fn tcp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.tcp_port)
    }

    /// The UDP (discovery) endpoint.
    pub fn udp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.udp_port)
    }
}

impl std::str::FromStr for NodeRecord {
    type Err = EnodeError;

    fn from_str(url: &str) -> Result<Self, EnodeError> {
        let rest = url
            .strip_prefix("enode://")
            .ok_or_else(|| EnodeError::Format(url.into()))?;
        let (id_hex, addr) = rest
            .split_once('@')
            .ok_or_else(|| EnodeError::Format(url.into()))?;
        let id = hex::decode(id_hex)
            .ok()
            .filter(|b| b.len() == 64)
            .map(|b| B512::from_slice(&b))
            .filter(|id| public_key(id).is_some())
            .ok_or_else(|| EnodeError::Id(url.into()))?;
        let (addr, query) = addr.split_once('?').unwrap_or((addr, ""));
        let socket: SocketAddr = addr.parse().map_err(|_| EnodeError::Address(url.into()))?;
        let udp_port = match query.strip_prefix("discport=") {
            Some(p) => p.parse().map_err(|_| EnodeError::Address(url.into()))?,
            None if query.is_empty() => socket.port(),
            None => return Err(EnodeError::Format(url.into())),
        };
        Ok(Self {
            id,
            ip: socket.ip(),
            tcp_port: socket.port(),
            udp_port,
        })
    }
}

impl std::fmt::Display for NodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "enode://{}@{}", hex::encode(self.id), self.tcp_addr())?;
        if self.udp_port != self.tcp_port {
            write!(f, "?discport={}", self.udp_port)?;
        }
        Ok(())
    }
}

/// The reference's mainnet bootnodes (params/bootnodes.go of smc 1.1.0).
pub const MAINNET_BOOTNODES: &[&str] = &[
    "enode://697d18773e08d2ac01c6d6b653ad4f8942bc805118cc09f41508c55e05e5043fb801df7783493e9f87be3b62a1d4da4d753f4b9bbf8921c09ebace0a165ac223@47.105.34.94:44944",
    "enode://a69b1cb395ae4d0520d8c82df448ce17daf8b4ce175a0fe892b8a7544abe55a3c3297e67ac7be5ed5d99c2d0b56e6cc3c1b4b33fc62ade55772d5d240ac0ab39@47.100.215.147:44944",
    "enode://61a5563bd1bf71e2ed7f0daed3c8e597836fcdbebe1e74f07d02c78c53700a193678dd2cff4459f2b3f41ef6e7da3980d332aa4116ba3fa6a9032d4742c4a567@47.88.171.32:44944",
    "enode://a1b98a704a7bf23ecdebdc32488c5f20a41e20446d717e04c20f42bcf479d201e5db388d669df19310977aeba39615d116cb6fc7989679d29629b4fc97cf58df@47.75.71.34:44944",
    "enode://722cc5d7c735d472d59513c7170878f0402f7297e17e616dfbaf67efae1176773242683b0aca4aef7450f49c62d9f685a2ec08382ab189fcd69790cab102954e@47.254.151.108:44944",
    "enode://1c0f7ecf9bc730e9feaa723574516358d44ace33bed337340ff3886841886cbf2df0301146162711a75d3c0e59f09f09bcafb66e4ec250340e7072d84520bb54@47.89.247.28:44944",
];

/// The reference's testnet bootnode.
pub const TESTNET_BOOTNODES: &[&str] = &[
    "enode://c65553f06d82bc26fb6e6126e619f682ae59529f5506ae98269cc60de3c803bf3d8abd99ef7a64ce777f554a4f5d3be70078d319afff59015b7a9d23a5e3c3a1@123.207.146.205:44944",
];

/// Parses a list of compiled-in URLs (they are tested to parse).
pub fn parse_all(urls: &[&str]) -> Vec<NodeRecord> {
    urls.iter().filter_map(|u| u.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootnodes_parse_and_print_back() {
        for url in MAINNET_BOOTNODES.iter().chain(TESTNET_BOOTNODES) {
            let node: NodeRecord = url.parse().unwrap();
            assert_eq!(node.tcp_port, 44944);
            assert_eq!(node.to_string(), *url);
        }
        assert_eq!(parse_all(MAINNET_BOOTNODES).len(), 6);
    }

    #[test]
    fn discport_and_bad_urls() {
        let base = MAINNET_BOOTNODES[0].replace(":44944", ":30303?discport=30304");
        let node: NodeRecord = base.parse().unwrap();
        assert_eq!((node.tcp_port, node.udp_port), (30303, 30304));
        assert_eq!(node.to_string(), base);
        assert!(matches!(
            "enode://zz@1.2.3.4:1".parse::<NodeRecord>(),
            Err(EnodeError::Id(_))
        ));
        assert!(matches!(
            MAINNET_BOOTNODES[0]
                .replace("47.105.34.94", "nohost")
                .parse::<NodeRecord>(),
            Err(EnodeError::Address(_))
        ));
        assert!(matches!(
            "http://x".parse::<NodeRecord>(),
            Err(EnodeError::Format(_))
        ));
        // 64 bytes but not a curve point
        let off_curve = format!("enode://{}@1.2.3.4:1", "00".repeat(64));
        assert!(matches!(
            off_curve.parse::<NodeRecord>(),
            Err(EnodeError::Id(_))
        ));
    }
}
