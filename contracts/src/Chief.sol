// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.24;

import "./ChiefBase.sol";

/// The chief, version 1.0.0 behaviour (tribe.md §9): the round's signer list (slot 0 a leader,
/// the other slots stakers picked by the VRF during the previous round), updated by the
/// block signer's gas-free `update(volunteer)` transaction at the start of every block.
contract Chief {
    string private constant VERSION = "1.0.0";

    ChiefBase public base;
    address[] private signerList; // length signerLimit, zero = empty slot
    address[] private nextRoundSignerList;
    mapping(address => uint256) private signersMap; // 1 = this round's signer, 0 = not (getStatus numberList, as the reference)
    uint256 private blockNumber;

    constructor(address base_, address firstLeader, uint256 signerLimit) {
        require(signerLimit > 0, "Chief: zero signer limit");
        base = ChiefBase(base_);
        signerList.push(firstLeader);
        for (uint256 i = 1; i < signerLimit; i++) {
            signerList.push(address(0));
        }
        signersMap[firstLeader] = 1;
    }

    /// Only this round's signers and the leaders may update.
    modifier allow() {
        require(signersMap[msg.sender] != 0 || base.isLeader(msg.sender), "Chief: not a signer or leader");
        _;
    }

    function update(address volunteer) external allow {
        blockNumber = block.number;
        uint256 limit = signerList.length;
        uint256 idx = block.number % limit;
        if (idx > 0) {
            pushVolunteer(volunteer, limit - 1);
            penaliseMissedSlot(idx);
        }
        if (idx == limit - 1) {
            startNextRound(limit);
        }
        if (block.number % base.takeEpoch() == 0) {
            base.pocCleanBlackList();
        }
    }

    function pushVolunteer(address volunteer, uint256 volunteerLimit) private {
        if (volunteer == address(0) || nextRoundSignerList.length >= volunteerLimit) return;
        for (uint256 i = 0; i < nextRoundSignerList.length; i++) {
            if (nextRoundSignerList[i] == volunteer) return;
        }
        nextRoundSignerList.push(volunteer);
    }

    /// The owner of slot idx let someone else seal it: stop its stake, blacklist it until the
    /// next epoch, and empty its slot. Leaders (slot 0) are never penalised.
    function penaliseMissedSlot(uint256 idx) private {
        address owner = signerList[idx];
        if (owner == address(0) || owner == msg.sender) return;
        if (base.pocAddStop(owner) == 1) {
            base.pocAddBlackList(owner);
        }
        signerList[idx] = address(0);
        signersMap[owner] = 0;
    }

    /// Next round: the leader after this round's slot-0 leader, then the volunteers, then
    /// empty slots.
    function startNextRound(uint256 limit) private {
        address leader = nextLeader(signerList[0]);
        for (uint256 i = 0; i < limit; i++) {
            signersMap[signerList[i]] = 0;
        }
        signerList[0] = leader;
        signersMap[leader] = 1;
        for (uint256 i = 1; i < limit; i++) {
            address next = i - 1 < nextRoundSignerList.length ? nextRoundSignerList[i - 1] : address(0);
            signerList[i] = next;
            if (next != address(0)) signersMap[next] = 1;
        }
        delete nextRoundSignerList;
    }

    function nextLeader(address current) private view returns (address) {
        address[] memory leaders = base.takeLeaderList();
        for (uint256 i = 0; i < leaders.length; i++) {
            if (leaders[i] == current) return leaders[(i + 1) % leaders.length];
        }
        return leaders[0];
    }

    function getStatus()
        external
        view
        returns (
            address[] memory signers,
            address[] memory blackList,
            uint256[] memory scoreList,
            uint256[] memory numberList,
            uint256 totalVolunteer,
            uint256 number
        )
    {
        signers = signerList;
        blackList = base.pocGetBlackList();
        scoreList = new uint256[](signerList.length);
        numberList = new uint256[](signerList.length);
        for (uint256 i = 0; i < signerList.length; i++) {
            numberList[i] = signersMap[signerList[i]];
        }
        totalVolunteer = nextRoundSignerList.length;
        number = blockNumber;
    }

    function getVolunteers()
        external
        view
        returns (address[] memory volunteerList, uint256[] memory weightList, uint256 length)
    {
        volunteerList = nextRoundSignerList;
        length = volunteerList.length;
        weightList = new uint256[](length);
    }

    function getNextRoundSignerList() external view returns (address[] memory list, uint256 length) {
        list = nextRoundSignerList;
        length = list.length;
    }

    function filterVolunteer(address[] memory volunteers) external pure returns (uint256[] memory result) {
        result = new uint256[](volunteers.length);
    }

    function version() external pure returns (string memory) { return VERSION; }
    function getSignerLimit() external view returns (uint256) { return base.takeSignerLimit(); }
    function getEpoch() external view returns (uint256) { return base.takeEpoch(); }
    function getVolunteerLimit() external view returns (uint256) { return base.takeVolunteerLimit(); }
}
