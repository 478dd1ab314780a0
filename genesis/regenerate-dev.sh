#!/usr/bin/env bash
# Rebuilds genesis/dev.json with our chief contracts (crates/contracts). Period 1 s and signer
# limit 1: with one validator every block is its in-turn block, whose role delay is period − 1
# = 0 s, so `spectrum --dev` may seal the moment a transaction arrives (docs/validator.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -- genesis new --name dev --chain-id 1337 --period 1 --signer-limit 1 --epoch 100 \
  --validators 0xa0334F9C5EfB46ebe8c5FDE9a1E98A4673FDb2D7 \
  --owner 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 \
  --min-deposit 1000000000000000000 --withdraw-wait 10 --deposit-halving 1000000 \
  --alloc 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266=10000000000000000000000,0x70997970C51812dc3A010C7d01b50e0d17dc79C8=10000000000000000000000,0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC=10000000000000000000000,0x90F79bf6EB2c4f870365E785982E1f101E93b906=10000000000000000000000,0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65=10000000000000000000000,0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc=10000000000000000000000,0x976EA74026E726554dB657fA54763abd0C3a0aa9=10000000000000000000000,0x14dC79964da2C08b23698B3D3cc7Ca32193d9955=10000000000000000000000,0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f=10000000000000000000000,0xa0Ee7A142d267C1f36714E4a8F75612F20a79720=10000000000000000000000 \
  --comment "Local development chain for \`spectrum --dev\` (regenerate with genesis/regenerate-dev.sh): chain id 1337, 10,000 coins for each of the first ten accounts of the mnemonic 'test test test test test test test test test test test junk' (m/44'/60'/0'/0/i). Validator (leader, genesis signer): the dev validator, private key keccak256('spectrum-rs dev validator') = 0xe057ec29c6a4a9eaee872e5f2b856f7a2c44f29c3dd908adcfac6e703a5dcd91, which funds no one. Our chief contracts (contracts/src) at 0x5ec7…01 (chief), …02 (ChiefBase, owner: account #0), …03 (POC, minimum stake 1 coin). Period 1 s and signer limit 1: every block is the validator's in-turn block (delay period - 1 = 0 s)." \
  --out genesis/dev.json
# The dev chain alone enables the anvil_set* state patches (ChainSpec's dev_state_patches;
# `genesis new` never writes it, so no other chain gets the rule by picking chain id 1337).
sed -i 's/^      "badBlocks": \[\]$/      "badBlocks": [],\n      "devStatePatches": true/' genesis/dev.json
