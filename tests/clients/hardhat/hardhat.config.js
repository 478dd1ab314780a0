// A Hardhat project pointed at a running `spectrum --dev`: `npx hardhat test --network
// localhost`. The URL comes from SPECTRUM_RPC_URL (the test runner's ephemeral port), else
// Hardhat's usual http://127.0.0.1:8545. No Solidity sources: nothing is compiled (and no
// compiler is downloaded); the tests deploy raw bytecode.
require("@nomicfoundation/hardhat-ethers");

module.exports = {
  solidity: "0.8.24",
  defaultNetwork: "localhost",
  networks: {
    localhost: {
      url: process.env.SPECTRUM_RPC_URL || "http://127.0.0.1:8545",
      chainId: 1337,
    },
  },
  mocha: { timeout: 60000 },
};
