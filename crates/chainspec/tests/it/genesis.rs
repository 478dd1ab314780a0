//! The built-in networks reproduce the reference node's genesis blocks (spec/chain.md §2), and
//! bad genesis files are refused with the field named.

// Tests may unwrap, expect and panic: the workspace denies them in the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::{Address, U256, address, b256};
use spectrum_chainspec::{ChainSpec, ChainSpecError, dev};

#[test]
fn mainnet_genesis_matches_reference() {
    let spec = ChainSpec::mainnet();
    let header = spec.genesis_header();
    assert_eq!(
        header.state_root,
        b256!("83c4c375f7e906789a78fc79de9a59b741e455450017ac6ec19f8f355aac71c5")
    );
    assert_eq!(
        header.hash(),
        b256!("a8ab5ecb308dd061e6baa8c8a04a62b3e35fae7aae1393921f8d52deac2c5712")
    );
    assert_eq!(spec.chain_id, 20180430);
    assert_eq!(spec.network_id, 1);
    assert_eq!(
        spec.genesis.signer(),
        Some(address!("3a5fbac6ca913599c5fde8c1638db58d01de8a48"))
    );
    let total: U256 = spec.genesis.alloc.values().map(|a| a.balance).sum();
    assert_eq!(
        total,
        U256::from(3_141_592_653u64) * U256::from(10u64).pow(U256::from(18))
    );
}

#[test]
fn testnet_genesis_matches_reference() {
    let header = ChainSpec::testnet().genesis_header();
    assert_eq!(
        header.state_root,
        b256!("bb8db5737b8d2cb9a749d17ceccfab471cafd920d87832493388ee7c68826521")
    );
    assert_eq!(
        header.hash(),
        b256!("464dfae7a2e140e76376f732c6be542880064d0a9b8350ceb2259b811827e7c6")
    );
}

#[test]
fn devnet_genesis_matches_reference() {
    let header = ChainSpec::devnet().genesis_header();
    assert_eq!(
        header.state_root,
        b256!("c7649c0b33acd04e33e22e02f5cc93b04ec68c0660e55760b7cfc9af5dcba5e0")
    );
    assert_eq!(
        header.hash(),
        b256!("e11f21ee330cfb50c3f31d9b792df2fb5e196739d562e642416974f339aa4304")
    );
}

#[test]
fn mainnet_parameter_table() {
    let spec = ChainSpec::mainnet();
    assert_eq!(spec.period(), 15);
    assert!(spec.chief_at(1).is_none());
    assert_eq!(spec.chief_at(2).unwrap().version, "0.0.5");
    assert_eq!(spec.chief_at(595_887).unwrap().version, "0.0.5");
    assert_eq!(spec.chief_at(595_888).unwrap().version, "0.0.6");
    assert_eq!(
        spec.chief_at(2_823_366).unwrap().address,
        address!("890eb8566550e7337c7788ff971a3996860c51b5")
    );
    assert!(spec.is_chief_address(&address!("f0d2ad4e0d25cfea98e9640329993bbc52396abd")));
    assert!(
        !spec.is_chief_address(&address!("e1c749f45ee14180853e552d3349cc58972cd082")),
        "ChiefBase is not a chief"
    );
    assert!(!spec.is_sip003(808_887) && spec.is_sip003(808_888));
    assert_eq!(spec.min_gas_limit(8_654_320), 5_000);
    assert_eq!(spec.min_gas_limit(8_654_321), 40_000_000);
    // Rewards: none before SIP100, 35 SMT, halving every 4,505,000 blocks.
    let smt = U256::from(10u64).pow(U256::from(18));
    assert_eq!(spec.block_reward(2_823_365), U256::ZERO);
    assert_eq!(spec.block_reward(2_823_366), U256::from(35) * smt);
    assert_eq!(spec.block_reward(7_328_365), U256::from(35) * smt);
    assert_eq!(
        spec.block_reward(7_328_366),
        U256::from(35) * smt / U256::from(2)
    );
    assert_eq!(
        spec.block_reward(11_833_366),
        U256::from(35) * smt / U256::from(4)
    );
    assert_eq!(spec.block_reward(u64::MAX), U256::ZERO);
    let burn = spec.foundation_burn_at(2_823_366).unwrap();
    assert_eq!(
        burn.amount,
        U256::from(37_699_111_836u64) * U256::from(10u64).pow(U256::from(16))
    );
    assert!(spec.foundation_burn_at(2_823_367).is_none());
    assert!(spec.is_bad_block(&b256!(
        "73a73c96b736b5e7e4043a15535390ab930f850855ace2187db8b00b37a57fbc"
    )));
}

#[test]
fn devnet_and_testnet_parameter_tables() {
    let devnet = ChainSpec::devnet();
    assert_eq!((devnet.chain_id, devnet.period()), (4, 3));
    assert_eq!(devnet.chief_at(62).unwrap().version, "0.0.7");
    assert_eq!(devnet.chief_at(63).unwrap().version, "1.0.0");
    assert!(devnet.foundation_burn_at(63).is_none());
    let testnet = ChainSpec::testnet();
    assert_eq!((testnet.chain_id, testnet.network_id), (2022, 3));
    assert!(testnet.is_sip100(26) && !testnet.is_sip100(25));
}

#[test]
fn dev_chain_funds_the_well_known_accounts() {
    let spec = ChainSpec::dev();
    assert_eq!(spec.chain_id, 1337);
    for (address, key) in dev::DEV_ACCOUNTS {
        let address: Address = address.parse().unwrap();
        let account = spec
            .genesis
            .alloc
            .get(&address)
            .expect("dev account funded");
        assert_eq!(account.balance, U256::from(dev::DEV_ACCOUNT_BALANCE_WEI));
        assert_eq!(address_of(key), address);
    }
    let validator: Address = dev::DEV_VALIDATOR_ADDRESS.parse().unwrap();
    assert_eq!(address_of(dev::DEV_VALIDATOR_KEY), validator);
    assert_eq!(spec.genesis.signer(), Some(validator));
    assert!(
        !spec.genesis.alloc.contains_key(&validator),
        "the validator funds no one"
    );
}

fn address_of(key: &str) -> Address {
    let bytes: [u8; 32] = alloy_primitives::hex::decode(key)
        .unwrap()
        .try_into()
        .unwrap();
    let secret = secp256k1::SecretKey::from_byte_array(bytes).unwrap();
    spectrum_primitives::public_key_to_address(&secp256k1::PublicKey::from_secret_key(
        secp256k1::SECP256K1,
        &secret,
    ))
}

/// BIP-39 seed and BIP-32 derivation of `m/44'/60'/0'/0/i`, to show the dev keys really are the
/// mnemonic's.
#[test]
fn dev_keys_derive_from_the_mnemonic() {
    use hmac::{Hmac, Mac};
    use secp256k1::{PublicKey, SECP256K1, Scalar, SecretKey};
    use sha2::Sha512;

    let mut seed = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(dev::DEV_MNEMONIC.as_bytes(), b"mnemonic", 2048, &mut seed);
    let split = |data: &[u8], key: &[u8]| {
        let mut mac = Hmac::<Sha512>::new_from_slice(key).unwrap();
        mac.update(data);
        let out = mac.finalize().into_bytes();
        (
            <[u8; 32]>::try_from(&out[..32]).unwrap(),
            <[u8; 32]>::try_from(&out[32..]).unwrap(),
        )
    };
    let (k, c) = split(&seed, b"Bitcoin seed");
    let mut key = SecretKey::from_byte_array(k).unwrap();
    let mut chain = c;
    let child = |key: &SecretKey, chain: &[u8; 32], index: u32| {
        let mut data = Vec::new();
        if index >= 1 << 31 {
            data.push(0);
            data.extend(key.secret_bytes());
        } else {
            data.extend(PublicKey::from_secret_key(SECP256K1, key).serialize());
        }
        data.extend(index.to_be_bytes());
        let (il, ir) = split(&data, chain);
        (
            key.add_tweak(&Scalar::from_be_bytes(il).unwrap()).unwrap(),
            ir,
        )
    };
    for index in [44 | 1 << 31, 60 | 1 << 31, 1 << 31, 0] {
        (key, chain) = child(&key, &chain, index);
    }
    for (i, (_, expected)) in dev::DEV_ACCOUNTS.iter().enumerate() {
        let (account, _) = child(&key, &chain, i as u32);
        assert_eq!(
            format!(
                "0x{}",
                alloy_primitives::hex::encode(account.secret_bytes())
            ),
            *expected
        );
    }
}

fn invalid(text: &str) -> (String, String) {
    match ChainSpec::from_json("bad.json", text) {
        Err(ChainSpecError::Invalid { origin, error }) => {
            assert_eq!(origin, "bad.json");
            (error.field, error.reason)
        }
        other => panic!("expected an invalid-spec error, got {other:?}"),
    }
}

fn devnet_json() -> serde_json::Value {
    serde_json::from_str(spectrum_chainspec::BUILTIN_CHAINS[2].1).unwrap()
}

#[test]
fn bad_genesis_files_name_the_field() {
    let (field, _) = invalid("{ not json");
    assert!(!field.is_empty());

    let mut v = devnet_json();
    v["coinbase"] = "0x1234".into();
    assert_eq!(invalid(&v.to_string()).0, "coinbase");

    let mut v = devnet_json();
    v["mixHash"] = "0x00".into();
    assert_eq!(invalid(&v.to_string()).0, "mixHash");

    let mut v = devnet_json();
    let big = format!("0x1{}", "0".repeat(64));
    v["alloc"] =
        serde_json::json!({ "0x1111111111111111111111111111111111111111": { "balance": big } });
    let (field, reason) = invalid(&v.to_string());
    assert_eq!(
        field,
        "alloc.0x1111111111111111111111111111111111111111.balance"
    );
    assert!(reason.contains("256 bits"), "{reason}");

    let mut v = devnet_json();
    v["alloc"] = serde_json::json!({ "0x11": { "balance": "1" } });
    assert!(invalid(&v.to_string()).0.starts_with("alloc"));

    let mut v = devnet_json();
    let rlp = v["allocRlp"].as_str().unwrap().to_owned();
    v["allocRlp"] = rlp[..rlp.len() - 4].into();
    let (field, reason) = invalid(&v.to_string());
    assert_eq!(field, "allocRlp");
    assert!(reason.contains("truncated"), "{reason}");

    let mut v = devnet_json();
    v["config"]["tribe"]["chiefs"][1]["startBlock"] = 1.into();
    assert_eq!(invalid(&v.to_string()).0, "config.tribe.chiefs[1]");

    let mut v = devnet_json();
    v["config"]["chainIdd"] = 1.into();
    assert_eq!(invalid(&v.to_string()).0, "config.chainIdd");

    let mut v = devnet_json();
    v["extraData"] = "0x00".into();
    assert_eq!(invalid(&v.to_string()).0, "extraData");

    let mut v = devnet_json();
    v["gasLimit"] = "0x1ffffffffffffffff".into();
    assert_eq!(invalid(&v.to_string()).0, "gasLimit");
}

#[test]
fn unknown_chain_is_refused() {
    let err = "no-such-chain"
        .parse::<spectrum_chainspec::ChainSelector>()
        .unwrap_err();
    assert!(err.to_string().contains("unknown chain `no-such-chain`"));
}

/// The dev-only state-patch rule (anvil_set*) is on only where a genesis says so: the built-in
/// dev chain. A copy of the dev genesis without the field, same chain id 1337, has it off, so
/// picking the dev chain id never lets a signer write state outside execution.
#[test]
fn only_the_dev_genesis_enables_state_patches() {
    assert!(ChainSpec::dev().tribe.dev_state_patches);
    for name in ["mainnet", "testnet", "devnet"] {
        let spec = ChainSpec::builtin(name).unwrap();
        assert!(!spec.tribe.dev_state_patches, "{name}");
    }
    let dev_text = spectrum_chainspec::BUILTIN_CHAINS
        .iter()
        .find(|(name, _)| *name == "dev")
        .unwrap()
        .1;
    let mut copy: serde_json::Value = serde_json::from_str(dev_text).unwrap();
    let removed = copy["config"]["tribe"]
        .as_object_mut()
        .unwrap()
        .remove("devStatePatches");
    assert_eq!(removed, Some(serde_json::Value::Bool(true)));
    let copy = ChainSpec::from_json("copy.json", &copy.to_string()).unwrap();
    assert_eq!(copy.chain_id, 1337);
    assert!(!copy.tribe.dev_state_patches);
    // Same genesis block: the flag is a rule of the chain, not part of its genesis hash.
    assert_eq!(
        copy.genesis_header().hash(),
        ChainSpec::dev().genesis_header().hash()
    );
}
