// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.24;

/// Proof-of-commitment staking (tribe.md §11): an owner wallet stakes for a node address,
/// proven by the node key's signature of keccak256(owner); staked, running nodes form the
/// normal list the chief's VRF picks volunteers from. The contract owner (ChiefBase) stops,
/// blacklists and locks nodes on the chief's behalf.
contract Poc {
    struct Miner {
        uint256 amount;
        uint256 stopBlock; // 0 while running
        address owner;
    }

    address public owner;
    uint256 public initMinDeposit;
    uint256 public initBlockNumber;
    uint256 public withdrawWaitNumber;
    uint256 public depositHalveLimitNumber;

    mapping(address => Miner) private miners;
    address[] private normalList;
    address[] private stopList;
    address[] private blackList;
    address[] private lockList;
    // position + 1 in each list; 0 = absent
    mapping(address => uint256) private normalIndex;
    mapping(address => uint256) private stopIndex;
    mapping(address => uint256) private blackIndex;
    mapping(address => uint256) private lockIndex;

    event Deposit(address indexed miner, address indexed owner, uint256 amount);
    event Stop(address indexed miner);
    event Start(address indexed miner);
    event Withdraw(address indexed miner, address indexed owner, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == owner, "POC: not the owner");
        _;
    }

    modifier onlyMinerOwner(address miner) {
        require(miners[miner].owner != address(0), "POC: no such miner");
        require(miners[miner].owner == msg.sender, "POC: not the miner's owner");
        _;
    }

    constructor(address owner_, uint256 minDeposit_, uint256 withdrawWait_, uint256 halveLimit_) {
        require(halveLimit_ > 0, "POC: zero halving interval");
        owner = owner_;
        initMinDeposit = minDeposit_;
        withdrawWaitNumber = withdrawWait_;
        depositHalveLimitNumber = halveLimit_;
        initBlockNumber = block.number;
    }

    /// initMinDeposit halved per depositHalveLimitNumber blocks, at most three times.
    function minDepositAmount() public view returns (uint256) {
        uint256 halvings = (block.number - initBlockNumber) / depositHalveLimitNumber;
        if (halvings > 3) halvings = 3;
        return initMinDeposit >> halvings;
    }

    function deposit(bytes32 r, bytes32 s, uint8 v) external payable {
        address miner = ecrecover(keccak256(abi.encodePacked(msg.sender)), v, r, s);
        require(miner != address(0), "POC: bad signature");
        require(miners[miner].owner == address(0), "POC: already staked");
        require(msg.value >= minDepositAmount(), "POC: deposit below the minimum");
        require(lockIndex[miner] == 0 && blackIndex[miner] == 0, "POC: miner blacklisted or locked");
        miners[miner] = Miner(msg.value, 0, msg.sender);
        push(normalList, normalIndex, miner);
        emit Deposit(miner, msg.sender, msg.value);
    }

    function stop(address miner) external onlyMinerOwner(miner) {
        require(normalIndex[miner] != 0, "POC: not running");
        moveToStop(miner);
    }

    function start(address miner) external onlyMinerOwner(miner) {
        require(stopIndex[miner] != 0, "POC: not stopped");
        require(blackIndex[miner] == 0 && lockIndex[miner] == 0, "POC: miner blacklisted or locked");
        remove(stopList, stopIndex, miner);
        miners[miner].stopBlock = 0;
        push(normalList, normalIndex, miner);
        emit Start(miner);
    }

    /// The whole stake back, withdrawWaitNumber blocks after stopping.
    function withdraw(address miner) external onlyMinerOwner(miner) {
        Miner memory m = miners[miner];
        require(stopIndex[miner] != 0, "POC: stop first");
        // Strictly more than the wait after the stop block, as the reference.
        require(block.number > m.stopBlock + withdrawWaitNumber, "POC: still waiting");
        require(blackIndex[miner] == 0 && lockIndex[miner] == 0, "POC: miner blacklisted or locked");
        remove(stopList, stopIndex, miner);
        delete miners[miner];
        emit Withdraw(miner, m.owner, m.amount);
        payable(m.owner).transfer(m.amount);
    }

    /// What is staked above the current minimum.
    function withdrawSurplus(address miner) external onlyMinerOwner(miner) {
        uint256 min = minDepositAmount();
        Miner storage m = miners[miner];
        require(m.amount > min, "POC: no surplus");
        uint256 surplus = m.amount - min;
        m.amount = min;
        emit Withdraw(miner, m.owner, surplus);
        payable(m.owner).transfer(surplus);
    }

    /// 1 if the miner was running and is now stopped, 0 otherwise.
    function ownerStop(address miner) external onlyOwner returns (int8) {
        if (normalIndex[miner] == 0) return 0;
        moveToStop(miner);
        return 1;
    }

    function ownerPushBlackList(address miner) external onlyOwner {
        if (blackIndex[miner] == 0) push(blackList, blackIndex, miner);
    }

    function ownerPopBlackList(address miner) external onlyOwner returns (int8) {
        if (blackIndex[miner] == 0) return 0;
        remove(blackList, blackIndex, miner);
        return 1;
    }

    function ownerEmptyBlackList() external onlyOwner {
        for (uint256 i = 0; i < blackList.length; i++) {
            blackIndex[blackList[i]] = 0;
        }
        delete blackList;
    }

    function ownerPushLockList(address miner) external onlyOwner {
        if (lockIndex[miner] == 0) push(lockList, lockIndex, miner);
    }

    function ownerPopLockList(address miner) external onlyOwner returns (int8) {
        if (lockIndex[miner] == 0) return 0;
        remove(lockList, lockIndex, miner);
        return 1;
    }

    function minerStatus(address miner) external view returns (uint256, uint256, address) {
        Miner memory m = miners[miner];
        return (m.amount, m.stopBlock, m.owner);
    }

    function getNormalList() external view returns (address[] memory) { return normalList; }
    function getStopList() external view returns (address[] memory) { return stopList; }
    function getBlackList() external view returns (address[] memory) { return blackList; }
    function getLockList() external view returns (address[] memory) { return lockList; }

    /// Every staked miner, stopped ones first as tribe_pocGetStatus lists them: addresses,
    /// amounts, stop blocks, owners and blacklist status (1 = blacklisted).
    function getAll()
        external
        view
        returns (address[] memory, uint256[] memory, uint256[] memory, address[] memory, uint256[] memory)
    {
        uint256 len = stopList.length + normalList.length;
        address[] memory list = new address[](len);
        uint256[] memory amounts = new uint256[](len);
        uint256[] memory blocks = new uint256[](len);
        address[] memory owners = new address[](len);
        uint256[] memory black = new uint256[](len);
        for (uint256 i = 0; i < len; i++) {
            address miner = i < stopList.length ? stopList[i] : normalList[i - stopList.length];
            Miner memory m = miners[miner];
            list[i] = miner;
            amounts[i] = m.amount;
            blocks[i] = m.stopBlock;
            owners[i] = m.owner;
            black[i] = blackIndex[miner] == 0 ? 0 : 1;
        }
        return (list, amounts, blocks, owners, black);
    }

    function moveToStop(address miner) private {
        remove(normalList, normalIndex, miner);
        push(stopList, stopIndex, miner);
        miners[miner].stopBlock = block.number;
        emit Stop(miner);
    }

    function push(address[] storage list, mapping(address => uint256) storage index, address who) private {
        list.push(who);
        index[who] = list.length;
    }

    /// Moves the last entry into the freed place, as the reference POC does (so after a stop
    /// the normal list order the VRF indexes is the reference's: E B C minus E gives C B).
    function remove(address[] storage list, mapping(address => uint256) storage index, address who) private {
        uint256 at = index[who] - 1;
        address last = list[list.length - 1];
        list[at] = last;
        index[last] = at + 1;
        list.pop();
        index[who] = 0;
    }
}
