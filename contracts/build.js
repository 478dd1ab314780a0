// Compiles src/*.sol with fixed settings into out/<Name>.bin (creation code, hex) and
// out/<Name>.abi. Byzantium is the EVM every Spectrum chain has from its first block.
const fs = require('fs');
const path = require('path');
const solc = require('./.solc/node_modules/solc');

const sources = {};
for (const file of fs.readdirSync('src').sort()) {
  if (file.endsWith('.sol')) sources[file] = { content: fs.readFileSync(path.join('src', file), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'byzantium',
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
fs.mkdirSync('out', { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    fs.writeFileSync(path.join('out', `${name}.bin`), c.evm.bytecode.object + '\n');
    fs.writeFileSync(path.join('out', `${name}.abi`), JSON.stringify(c.abi, null, 1) + '\n');
    console.log(`${name}: ${c.evm.bytecode.object.length / 2} bytes of creation code`);
  }
}
console.log(`solc ${solc.version()}`);
