// A Hardhat project's tests against spectrum --dev (issue 19), through Hardhat's provider
// (`network.provider.send`) and hardhat-ethers. Hardhat's network-helpers package is not
// used: it refuses any node whose web3_clientVersion does not start with "HardhatNetwork" or
// "anvil", and spectrum reports its own name.
const assert = require("node:assert/strict");
const { ethers, network } = require("hardhat");

const stranger = "0x00000000000000000000000000000000000c0ffe";
const send = (method, params = []) => network.provider.send(method, params);
const latest = async () => (await ethers.provider.getBlock("latest")).timestamp;

describe("spectrum --dev through Hardhat (--network localhost)", function () {
  before(async function () {
    assert.equal(network.name, "localhost");
    assert.equal((await ethers.provider.getNetwork()).chainId, 1337n);
    assert.equal(await send("evm_setAutomine", [false]), true);
  });

  after(async function () {
    await send("evm_setAutomine", [true]);
  });

  it("mines blocks on request", async function () {
    const start = await ethers.provider.getBlockNumber();
    assert.equal(await send("hardhat_mine", ["0x3"]), true);
    assert.equal(await ethers.provider.getBlockNumber(), start + 3);
    assert.equal(await send("evm_mine"), "0x0");
    assert.equal(await ethers.provider.getBlockNumber(), start + 4);
  });

  it("moves time forward, never back", async function () {
    const before = await latest();
    await send("evm_increaseTime", [3600]);
    await send("evm_mine");
    assert.ok((await latest()) >= before + 3600);
    const at = (await latest()) + 100;
    await send("evm_setNextBlockTimestamp", [at]);
    await send("evm_mine");
    assert.equal(await latest(), at);
    await assert.rejects(send("evm_setNextBlockTimestamp", [at - 1]), /header time only moves forward/);
  });

  it("reverts a transfer with a snapshot", async function () {
    const [signer] = await ethers.getSigners();
    const snapshot = await send("evm_snapshot");
    const tx = await signer.sendTransaction({ to: stranger, value: 1234n });
    await send("evm_mine");
    const receipt = await tx.wait();
    assert.equal(receipt.status, 1);
    assert.equal(await ethers.provider.getBalance(stranger), 1234n);
    assert.equal(await send("evm_revert", [snapshot]), true);
    assert.equal(await ethers.provider.getBalance(stranger), 0n);
  });

  it("sets a balance, a nonce, code and storage", async function () {
    await send("hardhat_setBalance", [stranger, "0xde0b6b3a7640000"]);
    assert.equal(await ethers.provider.getBalance(stranger), 10n ** 18n);
    await send("hardhat_setNonce", [stranger, "0x3"]);
    assert.equal(await ethers.provider.getTransactionCount(stranger), 3);
    await send("hardhat_setCode", [stranger, "0x602a60005260206000f3"]);
    assert.equal(await ethers.provider.getCode(stranger), "0x602a60005260206000f3");
    const word = "0x00000000000000000000000000000000000000000000000000000000000000ff";
    await send("hardhat_setStorageAt", [stranger, "0x1", word]);
    assert.equal(await ethers.provider.getStorage(stranger, 1), word);
    assert.equal(BigInt(await ethers.provider.call({ to: stranger })), 42n);
  });

  it("sends as an impersonated account, then stops", async function () {
    // A send from an account whose key nobody holds runs as that account; its effects ride
    // in a block sealed at once (docs/json-rpc.md, Impersonation).
    const ghost = "0x00000000000000000000000000000000000beef4";
    const payee = "0x00000000000000000000000000000000000beef5";
    await send("hardhat_setBalance", [ghost, "0xde0b6b3a7640000"]);
    assert.equal(await send("hardhat_impersonateAccount", [ghost]), true);
    const hash = await send("eth_sendTransaction", [{ from: ghost, to: payee, value: "0x9" }]);
    const receipt = await send("eth_getTransactionReceipt", [hash]);
    assert.equal(receipt.status, "0x1");
    assert.equal(await ethers.provider.getBalance(payee), 9n);
    assert.equal(await ethers.provider.getTransactionCount(ghost), 1);
    assert.equal(await send("hardhat_stopImpersonatingAccount", [ghost]), true);
    await assert.rejects(
      send("eth_sendTransaction", [{ from: ghost, to: payee, value: "0x9" }]),
      /unknown account/,
    );
  });
});
