// Deploys HarnessToken on a dev node and prints its address (for the eth_call load run).
// Usage: node deploy-token.mjs HTTP_URL KEY CONTRACTS_JSON
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [url, key, contractsPath] = process.argv.slice(2);
const provider = new ethers.JsonRpcProvider(url, undefined, { batchMaxCount: 1 });
provider.pollingInterval = 100;
const wallet = new ethers.Wallet(key, provider);
const { abi, bytecode } = JSON.parse(readFileSync(contractsPath, "utf8")).HarnessToken;
const token = await new ethers.ContractFactory(abi, bytecode, wallet).deploy("Load", "LD", 10n ** 24n);
await token.waitForDeployment();
console.log(await token.getAddress());
process.exit(0);
