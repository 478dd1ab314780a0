//! `spectrum genesis new`: a genesis file for a private network (or the `dev` chain) with our
//! own chief contracts installed, and our Anmap (node key to wallet binding) from block 0.

use std::{collections::BTreeMap, io::Write};

use alloy_primitives::{Address, U256};
use eyre::WrapErr;
use serde_json::{Value, json};
use spectrum_contracts::{
    ANMAP_ADDRESS, ANMAP_VERSION, CHIEF_ADDRESS, CHIEF_BASE_ADDRESS, CHIEF_VERSION, POC_ADDRESS,
    TribeGenesisParams, tribe_genesis_alloc,
};

use crate::cli::GenesisNewArgs;

/// Writes the genesis JSON to `--out` or stdout.
pub fn new(args: &GenesisNewArgs) -> eyre::Result<()> {
    let text = serde_json::to_string_pretty(&genesis_json(args)?)? + "\n";
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .wrap_err_with(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn genesis_json(args: &GenesisNewArgs) -> eyre::Result<Value> {
    let first = *args
        .validators
        .first()
        .ok_or_else(|| eyre::eyre!("--validators needs at least one address"))?;
    let params = TribeGenesisParams {
        leaders: args.validators.clone(),
        signer_limit: args.signer_limit,
        epoch: args.epoch,
        owner: args.owner.unwrap_or(first),
        min_deposit: args.min_deposit,
        withdraw_wait: args.withdraw_wait,
        deposit_halving: args.deposit_halving,
    };
    let mut alloc = BTreeMap::new();
    for entry in &args.alloc {
        let (address, wei) = parse_alloc(entry)?;
        alloc.insert(
            address.to_checksum(None),
            json!({ "balance": format!("{wei:#x}") }),
        );
    }
    for (address, account) in tribe_genesis_alloc(&params)? {
        let storage: BTreeMap<String, String> = account
            .storage
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        alloc.insert(
            address.to_checksum(None),
            json!({
                "balance": "0x0",
                "nonce": format!("{:#x}", account.nonce),
                "code": account.code.to_string(),
                "storage": storage,
            }),
        );
    }
    // Genesis extraData: zero vanity, the genesis signer (the first validator), zero seal.
    let extra = format!(
        "0x{}{}{}",
        "00".repeat(32),
        hex_lower(first),
        "00".repeat(65)
    );
    Ok(json!({
        "_comment": args.comment.clone().unwrap_or_else(|| format!(
            "Private Tribe network made by `spectrum genesis new`: validators (leaders) {}, signer limit {}, period {} s, epoch {}.",
            args.validators.iter().map(|a| a.to_checksum(None)).collect::<Vec<_>>().join(", "),
            args.signer_limit, args.period, args.epoch)),
        "name": args.name,
        "config": {
            "chainId": args.chain_id,
            "networkId": args.network_id.unwrap_or(args.chain_id),
            "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0,
            "tribe": {
                "period": args.period,
                "sip001Block": 0, "sip002Block": 0, "sip003Block": 0, "sip100Block": 0,
                "sip004Block": 0,
                "chiefs": [{ "version": CHIEF_VERSION, "startBlock": 0,
                             "address": CHIEF_ADDRESS.to_checksum(None) }],
                "chiefBase": CHIEF_BASE_ADDRESS.to_checksum(None),
                "poc": POC_ADDRESS.to_checksum(None),
                "meshbox": [],
                "anmap": [{ "version": ANMAP_VERSION, "startBlock": 0,
                            "address": ANMAP_ADDRESS.to_checksum(None) }],
                "blockReward": { "initial": "35000000000000000000", "halvingInterval": 4505000 },
                "foundationBurn": null,
                "minGasLimit": 5000,
                "sip004MinGasLimit": 40000000,
                "badBlocks": []
            }
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": extra,
        "gasLimit": format!("{:#x}", args.gas_limit),
        "difficulty": "0x1",
        "mixHash": format!("0x{}", "00".repeat(32)),
        "coinbase": format!("0x{}", "00".repeat(20)),
        "alloc": alloc,
    }))
}

fn hex_lower(address: Address) -> String {
    alloy_primitives::hex::encode(address.as_slice())
}

/// `ADDRESS=WEI` (decimal or 0x-hex wei).
fn parse_alloc(entry: &str) -> eyre::Result<(Address, U256)> {
    let (address, wei) = entry
        .split_once('=')
        .ok_or_else(|| eyre::eyre!("--alloc {entry}: expected ADDRESS=WEI"))?;
    let address: Address = address
        .parse()
        .wrap_err_with(|| format!("--alloc {entry}: bad address"))?;
    let wei: U256 = wei
        .parse()
        .wrap_err_with(|| format!("--alloc {entry}: bad amount"))?;
    Ok((address, wei))
}
