// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.24;

/// Node-key to wallet binding (tribe.md §11, "Anmap"): a wallet proves it may receive a node's
/// block rewards with the node key's signature of keccak256(wallet), and producers then put the
/// bound wallet in their blocks' coinbase. One wallet per node, any number of nodes per wallet.
/// The reference's ABI and behaviour (Anmap 0.0.1): `bind` and `unbindBySig` take the node and
/// the node key's signature over the sender; `bindInfo` answers for a node or for a wallet.
/// Unlike the reference, failures give a reason and a signature recovering to no address is
/// refused; the deployed reference also inherits `Owned` (owner, changeOwner, acceptOwnership),
/// whose owner has no power over bindings, so ours has no owner.
contract Anmap {
    // wallet => its nodes, in binding order
    mapping(address => address[]) private nodesOf;
    // node => its wallet; 0 = unbound
    mapping(address => address) private walletOf;

    /// Binds `nodePub` to the sender; (v, r, s) is the node key's signature of
    /// keccak256(sender's 20 bytes), v = 27/28.
    function bind(address nodePub, uint8 v, bytes32 r, bytes32 s) external {
        require(signedByNode(nodePub, v, r, s), "Anmap: bad signature");
        require(walletOf[nodePub] == address(0), "Anmap: node already bound");
        walletOf[nodePub] = msg.sender;
        nodesOf[msg.sender].push(nodePub);
    }

    /// Removes `nodePub`'s binding, whichever wallet it is bound to; the node key must have
    /// signed keccak256(sender) (as for `bind`).
    function unbindBySig(address nodePub, uint8 v, bytes32 r, bytes32 s) external {
        require(signedByNode(nodePub, v, r, s), "Anmap: bad signature");
        address wallet = walletOf[nodePub];
        require(wallet != address(0), "Anmap: node not bound");
        delete walletOf[nodePub];
        address[] storage nodes = nodesOf[wallet];
        uint256 n = nodes.length;
        for (uint256 i = 0; i < n; i++) {
            if (nodes[i] == nodePub) {
                // Keep the binding order of the others.
                for (uint256 j = i; j + 1 < n; j++) {
                    nodes[j] = nodes[j + 1];
                }
                nodes.pop();
                break;
            }
        }
    }

    /// For a bound node: (its wallet, [the node]). Otherwise `addr` is taken as a wallet:
    /// (addr, its nodes), so an unbound node gets (itself, []).
    function bindInfo(address addr) external view returns (address from, address[] memory nids) {
        from = walletOf[addr];
        if (from == address(0)) {
            from = addr;
            nids = nodesOf[addr];
        } else {
            nids = new address[](1);
            nids[0] = addr;
        }
    }

    function signedByNode(address nodePub, uint8 v, bytes32 r, bytes32 s) private view returns (bool) {
        address signer = ecrecover(keccak256(abi.encodePacked(msg.sender)), v, r, s);
        return signer != address(0) && signer == nodePub;
    }
}
