//! One owner transaction from start to end: simulated first (a call that would revert is
//! explained and not sent, so it costs nothing), signed with the wallet key, sent, and its
//! receipt awaited with a deadline; a revert in the mined transaction is explained too.

use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use eyre::{bail, eyre};
use secp256k1::SecretKey;
use serde_json::{Value, json};
use spectrum_primitives::{TxLegacy, sign_transaction};

use super::{quantity, quantity_u64, revert, rpc::Rpc};

/// Headroom over eth_estimateGas: the state may move between the estimate and the block.
const GAS_HEADROOM_PERCENT: u64 = 25;
/// How often the receipt is polled.
const POLL: Duration = Duration::from_millis(250);

/// A transaction to send: to, value, calldata, and what it is for (for messages).
pub struct Call {
    pub what: &'static str,
    pub to: Address,
    pub value: U256,
    pub data: Bytes,
}

/// Who sends: the wallet, its key, the chain, the gas price and the receipt deadline.
pub struct Sender<'a> {
    pub rpc: &'a Rpc,
    pub chain_id: u64,
    pub from: Address,
    pub key: SecretKey,
    pub gas_price: Option<u128>,
    pub timeout: Duration,
}

impl Sender<'_> {
    /// Sends `call`; `diagnose` says why the call would revert from the contract's state (asked
    /// only on a revert).
    pub fn send(&self, call: &Call, diagnose: &dyn Fn() -> Option<String>) -> eyre::Result<()> {
        let Sender {
            rpc,
            chain_id,
            from,
            key,
            gas_price,
            timeout,
        } = self;
        let (rpc, chain_id, from, gas_price, timeout) =
            (*rpc, *chain_id, *from, *gas_price, *timeout);
        let request = json!({"from": from, "to": call.to, "value": call.value, "data": call.data});
        let estimate = match rpc.call_raw("eth_estimateGas", json!([request]))? {
            Ok(gas) => quantity_u64(&gas)?,
            Err(e) if e.code == 3 || e.message.contains("revert") => {
                bail!(
                    "{} not sent: it would be {}",
                    call.what,
                    revert::explain(e.data.as_deref(), diagnose())
                )
            }
            Err(e) => bail!("{} not sent: eth_estimateGas: {}", call.what, e.message),
        };
        let gas_limit =
            estimate.saturating_add(estimate.saturating_mul(GAS_HEADROOM_PERCENT) / 100);
        let nonce = quantity_u64(&rpc.call("eth_getTransactionCount", json!([from, "pending"]))?)?;
        let gas_price = match gas_price {
            Some(price) => price,
            None => u128::try_from(quantity(&rpc.call("eth_gasPrice", json!([]))?)?)
                .map_err(|_| eyre!("eth_gasPrice out of range"))?,
        };
        let tx = TxLegacy {
            chain_id: Some(chain_id),
            nonce,
            gas_price,
            gas_limit,
            to: TxKind::Call(call.to),
            value: call.value,
            input: call.data.clone(),
        };
        let signed = sign_transaction(tx, key);
        let raw = format!("0x{}", hex::encode(alloy_rlp::encode(&signed)));
        let hash: B256 = serde_json::from_value(rpc.call("eth_sendRawTransaction", json!([raw]))?)?;
        println!(
            "{}: sent {hash} (nonce {nonce}, gas limit {gas_limit}, gas price {gas_price} wei)",
            call.what
        );
        let receipt = wait_receipt(rpc, hash, timeout)?;
        let block = quantity_u64(&receipt["blockNumber"])?;
        let gas_used = quantity_u64(&receipt["gasUsed"])?;
        if receipt["status"] != json!("0x1") {
            let replay = json!({"from": from, "to": call.to, "value": call.value, "data": call.data, "gas": format!("{gas_limit:#x}")});
            let parent = format!("{:#x}", block.saturating_sub(1));
            let data = match rpc.call_raw("eth_call", json!([replay, parent]))? {
                Err(e) => e.data,
                Ok(_) => None,
            };
            bail!(
                "{} {hash} failed in block {block} (gas used {gas_used}): {}",
                call.what,
                revert::explain(data.as_deref(), diagnose())
            );
        }
        let fee = U256::from(gas_used).saturating_mul(U256::from(gas_price));
        println!(
            "{}: mined in block {block}, gas used {gas_used}, fee {fee} wei",
            call.what
        );
        Ok(())
    }
}

fn wait_receipt(rpc: &Rpc, hash: B256, timeout: Duration) -> eyre::Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let receipt = rpc.call("eth_getTransactionReceipt", json!([hash]))?;
        if !receipt.is_null() {
            return Ok(receipt);
        }
        if Instant::now() >= deadline {
            bail!(
                "{hash} was not mined within {}s; it may still be: check it with eth_getTransactionReceipt (a second send would use the next nonce)",
                timeout.as_secs()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// The unsigned transaction for an external wallet, as JSON.
pub fn unsigned(chain_id: u64, from: Address, call: &Call, node_signature: Option<Value>) -> Value {
    let mut out = json!({
        "what": call.what,
        "chainId": chain_id,
        "from": from,
        "to": call.to,
        "value": call.value.to_string(),
        "data": call.data,
    });
    if let Some(signature) = node_signature {
        out["nodeSignature"] = signature;
    }
    out
}
