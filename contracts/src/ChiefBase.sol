// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.24;

import "./Poc.sol";

/// The chief's configuration and leaders (tribe.md §9, §11): epoch, signer limit, the leader
/// list the slot-0 signer rotates through, and the owner who manages leaders. It owns the POC
/// contract and relays the chief's penalties to it.
contract ChiefBase {
    address public owner;
    address public chief;
    Poc public poc;

    uint256 public epoch;
    uint256 public signerLimit;
    uint256 public constant LEADER_LIMIT = 5;
    address[] private leaders;

    modifier onlyOwner() {
        require(msg.sender == owner, "ChiefBase: not the owner");
        _;
    }

    modifier onlyChief() {
        require(msg.sender == chief, "ChiefBase: not the chief");
        _;
    }

    constructor(
        uint256 epoch_,
        uint256 signerLimit_,
        address owner_,
        address chief_,
        address poc_,
        address[] memory leaders_
    ) {
        require(epoch_ > 0, "ChiefBase: zero epoch");
        require(signerLimit_ > 0, "ChiefBase: zero signer limit");
        require(leaders_.length > 0 && leaders_.length <= LEADER_LIMIT, "ChiefBase: 1 to 5 leaders");
        epoch = epoch_;
        signerLimit = signerLimit_;
        owner = owner_;
        chief = chief_;
        poc = Poc(poc_);
        for (uint256 i = 0; i < leaders_.length; i++) {
            require(leaders_[i] != address(0) && !isLeader(leaders_[i]), "ChiefBase: bad leader");
            leaders.push(leaders_[i]);
        }
    }

    function takeEpoch() external view returns (uint256) { return epoch; }
    function takeSignerLimit() external view returns (uint256) { return signerLimit; }
    function takeLeaderLimit() external pure returns (uint256) { return LEADER_LIMIT; }
    /// Slot 0 is the leader's: the other slots go to volunteers.
    function takeVolunteerLimit() external view returns (uint256) { return signerLimit - 1; }
    function takeLeaderList() external view returns (address[] memory) { return leaders; }
    function takeOwner() external view returns (address) { return owner; }

    function isLeader(address who) public view returns (bool) {
        for (uint256 i = 0; i < leaders.length; i++) {
            if (leaders[i] == who) return true;
        }
        return false;
    }

    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "ChiefBase: zero owner");
        owner = newOwner;
    }

    /// On a full list this changes nothing and succeeds, as the reference's does (owners' tools
    /// may rely on the call not reverting).
    function appendLeader(address who) external onlyOwner {
        if (leaders.length >= LEADER_LIMIT) return;
        require(who != address(0), "ChiefBase: zero leader");
        require(!isLeader(who), "ChiefBase: already a leader");
        leaders.push(who);
    }

    /// The last leader cannot be removed: slot 0 always needs one. Removing an address that is
    /// not a leader changes nothing and succeeds, as the reference's does.
    function removeLeader(address who) external onlyOwner {
        require(leaders.length > 1, "ChiefBase: the last leader stays");
        for (uint256 i = 0; i < leaders.length; i++) {
            if (leaders[i] == who) {
                for (uint256 j = i; j + 1 < leaders.length; j++) {
                    leaders[j] = leaders[j + 1];
                }
                leaders.pop();
                return;
            }
        }
    }

    // The chief's penalties, relayed to POC (whose owner this contract is).
    function pocAddStop(address miner) external onlyChief returns (int8) { return poc.ownerStop(miner); }
    function pocAddBlackList(address miner) external onlyChief { poc.ownerPushBlackList(miner); }
    function pocCleanBlackList() external onlyChief { poc.ownerEmptyBlackList(); }
    function pocGetBlackList() external view returns (address[] memory) { return poc.getBlackList(); }

    // The owner's hand on POC.
    function pocAddLockList(address miner) external onlyOwner { poc.ownerPushLockList(miner); }
    function pocDelLockList(address miner) external onlyOwner returns (int8) { return poc.ownerPopLockList(miner); }
    function pocPopBlackList(address miner) external onlyOwner returns (int8) { return poc.ownerPopBlackList(miner); }
}
