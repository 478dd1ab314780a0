// End-to-end check of a running `spectrum --dev` with ethers v6, as a wallet or dapp uses it.
// Usage: node ethers-e2e.mjs HTTP_URL WS_URL KEY0 KEY1 CONTRACTS_JSON
// Run by bin/spectrum/tests/rpc_clients.rs; every assertion compares values. Exits non-zero on
// the first failure; prints "ethers e2e: N checks passed" at the end.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [httpUrl, wsUrl, key0, key1, contractsPath] = process.argv.slice(2);
let checks = 0;
const eq = (actual, expected, what) => {
  assert.deepEqual(actual, expected, what);
  checks++;
};
const ok = (condition, what) => {
  assert.ok(condition, what);
  checks++;
};
const withTimeout = (promise, ms, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms)),
  ]);
async function rejects(promise, test, what) {
  try {
    await promise;
  } catch (error) {
    test(error);
    checks++;
    return error;
  }
  assert.fail(`${what}: should have failed`);
}
const messageOf = (e) => e?.info?.error?.message ?? e?.error?.message ?? e?.shortMessage ?? e?.message ?? "";

// No response cache: ethers reuses an identical answer for 250 ms by default, and balances read
// right after a receipt must be fresh.
const provider = new ethers.JsonRpcProvider(httpUrl, undefined, { batchMaxCount: 1, cacheTimeout: -1 });
provider.pollingInterval = 100;
const w0 = new ethers.Wallet(key0, provider);
const w1 = new ethers.Wallet(key1, provider);

// --- the chain and a wallet's first look -----------------------------------------------
eq((await provider.getNetwork()).chainId, 1337n, "chain id");
eq(await provider.getBalance(w1.address), ethers.parseEther("10000"), "a funded dev account");
const latest = await provider.getBlock("latest");
eq(latest.baseFeePerGas, null, "a pre-London block: no base fee");
const fees = await provider.getFeeData();
ok(fees.gasPrice >= 1_000_000_000n, "gas price at least the pool minimum");
eq(fees.maxFeePerGas, null, "no EIP-1559 fees: wallets go legacy");

// --- a transfer ------------------------------------------------------------------------
const stranger = ethers.Wallet.createRandom().address;
eq(await provider.estimateGas({ from: w0.address, to: stranger, value: 1n }), 21000n, "transfer estimate");
const before = await provider.getBalance(w0.address);
const transfer = await w0.sendTransaction({ to: stranger, value: ethers.parseEther("1.5") });
eq(transfer.type, 0, "ethers chose a legacy transaction");
const transferReceipt = await transfer.wait(1, 60_000);
eq(transferReceipt.status, 1, "transfer mined");
eq(transferReceipt.gasUsed, 21000n, "transfer gas");
eq(await provider.getBalance(stranger), ethers.parseEther("1.5"), "recipient balance");
eq(
  await provider.getBalance(w0.address),
  before - ethers.parseEther("1.5") - 21000n * transferReceipt.gasPrice,
  "sender paid value and fee",
);
const fetched = await provider.getTransaction(transfer.hash);
eq(fetched.chainId, 1337n, "transaction chain id");
eq(fetched.blockNumber, transferReceipt.blockNumber, "transaction block");

// --- a contract: deploy, call, events through eth_getLogs ---------------------------------
const contracts = JSON.parse(readFileSync(contractsPath, "utf8"));
const { abi, bytecode } = contracts.HarnessToken;
const factory = new ethers.ContractFactory(abi, bytecode, w0);
const token = await factory.deploy("Spectrum Test", "SPT", 1_000_000n);
await token.waitForDeployment();
const tokenAddress = await token.getAddress();
ok((await provider.getCode(tokenAddress)).length > 2, "contract code stored");
const supply = await token.totalSupply();
ok(supply > 0n, "token supply");
eq(await token.balanceOf(w0.address), supply, "deployer holds the supply");
const sent = await token.transfer(w1.address, 1234n);
const sentReceipt = await sent.wait(1, 60_000);
eq(sentReceipt.status, 1, "token transfer mined");
const transferTopic = token.interface.getEvent("Transfer").topicHash;
const logs = await provider.getLogs({
  address: tokenAddress,
  fromBlock: sentReceipt.blockNumber,
  toBlock: sentReceipt.blockNumber,
  topics: [transferTopic],
});
eq(logs.length, 1, "one Transfer log");
const parsed = token.interface.parseLog(logs[0]);
eq(parsed.args.from, w0.address, "log from");
eq(parsed.args.to, w1.address, "log to");
eq(parsed.args.value, 1234n, "log value");
eq(logs[0].transactionHash, sent.hash, "log transaction");
const history = await token.queryFilter(token.filters.Transfer(null, w1.address), 0, "latest");
eq(history.length, 1, "queryFilter by indexed topic");
eq(await token.balanceOf(w1.address), 1234n, "balance after transfer");

// --- a revert with its reason ----------------------------------------------------------
await rejects(
  token.alwaysReverts(),
  (e) => {
    eq(e.code, "CALL_EXCEPTION", "revert code");
    eq(e.reason, "HarnessToken: always reverts", "revert reason");
  },
  "alwaysReverts",
);
await rejects(
  token.alwaysReverts.estimateGas(),
  (e) => eq(e.code, "CALL_EXCEPTION", "estimateGas revert code"),
  "estimateGas of a revert",
);

// --- filters (HTTP polling) --------------------------------------------------------------
const blockFilter = await provider.send("eth_newBlockFilter", []);
const logFilter = await provider.send("eth_newFilter", [{ address: tokenAddress }]);
const again = await token.transfer(w1.address, 1n);
const againReceipt = await again.wait(1, 60_000);
const blockChanges = await provider.send("eth_getFilterChanges", [blockFilter]);
ok(blockChanges.includes(againReceipt.blockHash), "block filter saw the new block");
const logChanges = await provider.send("eth_getFilterChanges", [logFilter]);
eq(logChanges.length, 1, "log filter saw one log");
eq(logChanges[0].transactionHash, again.hash, "log filter's log");
eq(await provider.send("eth_uninstallFilter", [logFilter]), true, "uninstall");

// --- WebSocket subscriptions -----------------------------------------------------------------
const wsProvider = new ethers.WebSocketProvider(wsUrl);
const tokenWs = new ethers.Contract(tokenAddress, abi, wsProvider);
const nextBlock = new Promise((resolve) => wsProvider.once("block", resolve));
const nextTransfer = new Promise((resolve) =>
  tokenWs.once("Transfer", (from, to, value) => resolve({ from, to, value })),
);
const nextPending = new Promise((resolve) => wsProvider.once("pending", resolve));
await new Promise((r) => setTimeout(r, 300)); // let the three eth_subscribe calls complete
const third = await token.transfer(w1.address, 77n);
const thirdReceipt = await third.wait(1, 60_000);
eq(await withTimeout(nextPending, 30_000, "pending"), third.hash, "newPendingTransactions");
ok((await withTimeout(nextBlock, 30_000, "newHeads")) >= thirdReceipt.blockNumber - 1, "newHeads");
eq(await withTimeout(nextTransfer, 30_000, "logs"), { from: w0.address, to: w1.address, value: 77n }, "logs subscription");
// The WebSocket provider stays open: ethers unsubscribes its `once` listeners lazily, and the
// process exits at the end.

// --- every pool error a wallet can meet ------------------------------------------------------
const nonce = await provider.getTransactionCount(w0.address, "pending");
const signLegacy = (fields) =>
  w0.signTransaction({ type: 0, chainId: 1337, to: stranger, value: 1n, gasLimit: 21000, gasPrice: fees.gasPrice, nonce, ...fields });
const poolError = async (raw, expected, what) =>
  rejects(provider.broadcastTransaction(raw), (e) => ok(messageOf(e).includes(expected), `${what}: ${messageOf(e)}`), what);
await poolError(await signLegacy({ nonce: 0 }), "nonce too low", "nonce too low");
await poolError(await signLegacy({ gasLimit: 20000 }), "intrinsic gas too low", "intrinsic gas");
await poolError(await signLegacy({ gasLimit: 1_000_000_000 }), "exceeds block gas limit", "block gas limit");
await poolError(await signLegacy({ gasPrice: 1n }), "transaction underpriced", "underpriced");
await poolError(
  await ethers.Wallet.createRandom().signTransaction({ type: 0, chainId: 1337, to: stranger, value: 1n, gasLimit: 21000, gasPrice: fees.gasPrice, nonce: 0 }),
  "insufficient funds for gas * price + value",
  "insufficient funds",
);
await poolError(await signLegacy({ chainId: 1 }), "invalid sender", "another chain's signature");
await poolError(
  await w0.signTransaction({ type: 2, chainId: 1337, to: stranger, value: 1n, gasLimit: 21000, maxFeePerGas: fees.gasPrice, maxPriorityFeePerGas: 1n, nonce }),
  "transaction type not supported",
  "typed transaction",
);
// --dev mines a pending transaction at once, so the one resent and replaced waits behind a
// nonce gap (queued), which makes the two checks deterministic; then the gap is filled.
const good = await signLegacy({ nonce: nonce + 1 });
const goodHash = (await provider.broadcastTransaction(good)).hash;
await poolError(good, "already known", "already known");
await poolError(await signLegacy({ nonce: nonce + 1, gasPrice: fees.gasPrice + 1n }), "replacement transaction underpriced", "replacement");
await provider.broadcastTransaction(await signLegacy({}));
await provider.waitForTransaction(goodHash, 1, 60_000);

// --- malformed parameters of each kind -----------------------------------------------------------
const invalidParams = async (method, params, expected) =>
  rejects(
    provider.send(method, params),
    (e) => {
      const error = e.error ?? e.info?.error;
      eq(error?.code, -32602, `${method} code`);
      ok(error.message.includes(expected), `${method}: ${error.message}`);
    },
    method,
  );
await invalidParams("eth_getBalance", ["0x1234", "latest"], "invalid argument 0");
await invalidParams("eth_getBalance", [w0.address, "0x01"], "invalid argument 1");
await invalidParams("eth_getBalance", [w0.address, 12], "invalid argument 1");
await invalidParams("eth_getBlockByHash", ["0x12", false], "invalid argument 0");
await invalidParams("eth_getBlockByNumber", ["latest", "yes"], "invalid argument 1");
await invalidParams("eth_call", [{ to: w0.address, data: "0x123" }, "latest"], "invalid argument 0");
await invalidParams("eth_getLogs", [{ fromBlock: 1 }], "invalid argument 0");

// --- a batch ------------------------------------------------------------------------------------
const batch = await (
  await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 2, method: "eth_getBalance", params: [stranger, "latest"] },
      { jsonrpc: "2.0", method: "eth_blockNumber", params: [] },
      { jsonrpc: "2.0", id: 3, method: "eth_nope", params: [] },
    ]),
  })
).json();
eq(batch.length, 3, "batch answers, notification has none");
const byId = Object.fromEntries(batch.map((r) => [r.id, r]));
eq(byId[1].result, "0x539", "batch chain id");
eq(BigInt(byId[2].result), await provider.getBalance(stranger), "batch balance");
eq(byId[3].error.code, -32601, "batch unknown method");

console.log(`ethers e2e: ${checks} checks passed`);
process.exit(0);
