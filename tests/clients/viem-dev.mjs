// viem's test client against a running `spectrum --dev` (issue 19): the actions Hardhat and
// anvil users call (mine, snapshot / revert, increaseTime, setNextBlockTimestamp, automine,
// setBalance / setNonce / setCode / setStorageAt) and impersonateAccount.
// Usage: node viem-dev.mjs HTTP_URL KEY1
// Run by bin/spectrum/tests/rpc_clients.rs. Exits non-zero on the first failure; prints
// "viem dev: N checks passed" at the end.
import assert from "node:assert/strict";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

const [httpUrl, key1] = process.argv.slice(2);
let checks = 0;
const eq = (actual, expected, what) => {
  assert.deepEqual(actual, expected, what);
  checks++;
};
const ok = (condition, what) => {
  assert.ok(condition, what);
  checks++;
};
async function rejects(promise, pattern, what) {
  try {
    await promise;
  } catch (error) {
    const text = `${error?.details ?? ""} ${error?.message ?? ""}`;
    assert.match(text, pattern, what);
    checks++;
    return;
  }
  assert.fail(`${what}: should have failed`);
}

const spectrumDev = defineChain({
  id: 1337,
  name: "spectrum --dev",
  nativeCurrency: { name: "Spectrum", symbol: "SMT", decimals: 18 },
  rpcUrls: { default: { http: [httpUrl] } },
});
const transport = http(httpUrl);
const test = createTestClient({ chain: spectrumDev, mode: "anvil", transport });
const client = createPublicClient({ chain: spectrumDev, transport, pollingInterval: 100 });
const account = privateKeyToAccount(key1);
const wallet = createWalletClient({ account, chain: spectrumDev, transport });
const stranger = "0x00000000000000000000000000000000000beef1";

// Manual mining.
await test.setAutomine(false);
eq(await test.request({ method: "anvil_getAutomine" }), false, "automine off");
const start = await client.getBlockNumber({ cacheTime: 0 });
await test.mine({ blocks: 3 });
eq(await client.getBlockNumber({ cacheTime: 0 }), start + 3n, "mine 3 blocks");

// A legacy transfer (no baseFeePerGas on Spectrum: viem falls back to gasPrice), mined on
// request, then undone by a revert.
const id = await test.snapshot();
eq(id, "0x1", "first snapshot id");
const hash = await wallet.sendTransaction({ to: stranger, value: parseEther("1") });
await test.mine({ blocks: 1 });
const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
eq(receipt.status, "success", "transfer mined");
eq(receipt.type, "legacy", "a legacy transaction");
eq(await client.getBalance({ address: stranger }), parseEther("1"), "balance after the transfer");
await test.revert({ id });
eq(await client.getBlockNumber({ cacheTime: 0 }), start + 3n, "head back at the snapshot");
eq(await client.getBalance({ address: stranger }), 0n, "the transfer is undone");

// Time travel: forward only.
const before = await client.getBlock();
await test.increaseTime({ seconds: 86400 });
await test.mine({ blocks: 1 });
const after = await client.getBlock();
ok(after.timestamp >= before.timestamp + 86400n, "a day later");
await test.setNextBlockTimestamp({ timestamp: after.timestamp + 1000n });
await test.mine({ blocks: 1 });
eq((await client.getBlock()).timestamp, after.timestamp + 1000n, "next block timestamp");
await rejects(
  test.setNextBlockTimestamp({ timestamp: after.timestamp }),
  /header time only moves forward/,
  "no going back in time",
);

// State setters: each seals a block carrying the patch (a real block our verifier re-imports).
await test.setBalance({ address: stranger, value: parseEther("5") });
eq(await client.getBalance({ address: stranger }), parseEther("5"), "setBalance");
await test.setNonce({ address: stranger, nonce: 5 });
eq(await client.getTransactionCount({ address: stranger }), 5, "setNonce");
await test.setCode({ address: stranger, bytecode: "0x602a60005260206000f3" });
eq(await client.getCode({ address: stranger }), "0x602a60005260206000f3", "setCode");
const slot = "0x0000000000000000000000000000000000000000000000000000000000000001";
const word = "0x00000000000000000000000000000000000000000000000000000000000000ff";
await test.setStorageAt({ address: stranger, index: slot, value: word });
eq(await client.getStorageAt({ address: stranger, slot }), word, "setStorageAt");
eq(
  await client.call({ to: stranger }).then((r) => r.data),
  "0x000000000000000000000000000000000000000000000000000000000000002a",
  "the code set runs",
);
await test.setBalance({ address: stranger, value: 0n });

// Impersonation: a send from an account whose key nobody holds runs as that account; the
// effects ride in a block as state patches, the receipt is the carrier's.
const ghost = "0x00000000000000000000000000000000000beef3";
await test.setBalance({ address: ghost, value: parseEther("2") });
await test.impersonateAccount({ address: ghost });
const ghostWallet = createWalletClient({ chain: spectrumDev, transport });
const ghostHash = await ghostWallet.sendTransaction({ account: ghost, to: stranger, value: 9n });
const ghostReceipt = await client.waitForTransactionReceipt({ hash: ghostHash, pollingInterval: 100, timeout: 30_000 });
eq(ghostReceipt.status, "success", "impersonated send mined");
eq(await client.getBalance({ address: stranger }), 9n, "impersonated transfer");
eq(await client.getTransactionCount({ address: ghost }), 1, "impersonated nonce consumed");
await test.stopImpersonatingAccount({ address: ghost });
await rejects(
  ghostWallet.sendTransaction({ account: ghost, to: stranger, value: 9n }),
  /unknown account/,
  "impersonation stopped",
);

// Automine back on: a transaction is mined by itself.
await test.setAutomine(true);
const auto = await wallet.sendTransaction({ to: stranger, value: 7n });
const autoReceipt = await client.waitForTransactionReceipt({ hash: auto, pollingInterval: 100, timeout: 30_000 });
eq(autoReceipt.status, "success", "automined");
eq(await client.getBalance({ address: stranger }), 16n, "automined transfer (after the impersonated 9)");

console.log(`viem dev: ${checks} checks passed`);
