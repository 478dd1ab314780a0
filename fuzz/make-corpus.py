#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ from the reference chains, the genesis files and
the keystore test vectors. Run from the repository root with the shared test data beside it:

    python3 fuzz/make-corpus.py [/path/to/shared/testdata]

Blocks, headers and transactions are cut from the reference node's chain files; receipts are
the reference node's receipts (expected.json) encoded as the node stores them; p2p messages are
built around those. Inputs found by fuzzing are added to the corpus by hand (crash-*, named).
"""

import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "testdata")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


# --- minimal RLP ---------------------------------------------------------------------------

def rlp_item(data, offset=0):
    """Returns (is_list, payload_start, end) of the item at offset."""
    b = data[offset]
    if b < 0x80:
        return False, offset, offset + 1
    if b < 0xB8:
        return False, offset + 1, offset + 1 + b - 0x80
    if b < 0xC0:
        n = b - 0xB7
        length = int.from_bytes(data[offset + 1:offset + 1 + n], "big")
        return False, offset + 1 + n, offset + 1 + n + length
    if b < 0xF8:
        return True, offset + 1, offset + 1 + b - 0xC0
    n = b - 0xF7
    length = int.from_bytes(data[offset + 1:offset + 1 + n], "big")
    return True, offset + 1 + n, offset + 1 + n + length


def rlp_children(data, offset=0):
    """The raw encodings of the items of the list at offset."""
    _, start, end = rlp_item(data, offset)
    items, pos = [], start
    while pos < end:
        _, _, item_end = rlp_item(data, pos)
        items.append(data[pos:item_end])
        pos = item_end
    return items


def enc_len(length, short, long_):
    if length < 56:
        return bytes([short + length])
    n = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([long_ + len(n)]) + n


def enc(value):
    if isinstance(value, list):
        payload = b"".join(enc(v) for v in value)
        return enc_len(len(payload), 0xC0, 0xF7) + payload
    if isinstance(value, int):
        value = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    if len(value) == 1 and value[0] < 0x80:
        return value
    return enc_len(len(value), 0x80, 0xB7) + value


def raw_list(encoded_items):
    payload = b"".join(encoded_items)
    return enc_len(len(payload), 0xC0, 0xF7) + payload


def hx(text):
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


# --- sources -------------------------------------------------------------------------------

def chain_blocks(name):
    data = open(os.path.join(TESTDATA, name, "chain.rlp"), "rb").read()
    blocks, pos = [], 0
    while pos < len(data):
        _, _, end = rlp_item(data, pos)
        blocks.append(data[pos:end])
        pos = end
    return blocks


def receipts(name):
    expected = json.load(open(os.path.join(TESTDATA, name, "expected.json")))
    out = []
    for block in expected["blocks"]:
        for tx in block["transactions"]:
            r = isinstance(tx, dict) and tx.get("receipt")
            if not r:
                continue
            logs = [[hx(l["address"]), [hx(t) for t in l["topics"]], hx(l["data"])] for l in r["logs"]]
            out.append(enc([r["status"], r["cumulativeGasUsed"], hx(r["logsBloom"]), logs]))
    return out


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def pick(blocks):
    """Blocks 0..3 (genesis, before and after the chief update), then the ones with the most
    transactions, up to eight: small and varied."""
    chosen = list(range(min(4, len(blocks))))
    by_txs = sorted(range(len(blocks)), key=lambda i: -len(rlp_children(blocks[i])[1]))
    for i in by_txs:
        if len(chosen) >= 8:
            break
        if i not in chosen and len(blocks[i]) < 16 * 1024:
            chosen.append(i)
    return chosen


def main():
    all_txs, all_headers, all_bodies = [], [], []
    for chain in ("spectrum-devnet", "spectrum-devnet-multi"):
        blocks = chain_blocks(chain)
        for i in pick(blocks):
            block = blocks[i]
            header, txs, uncles = rlp_children(block)
            write("block", f"{chain}-{i}", block)
            write("p2p_gossip", f"block-{chain}-{i}", b"\x00" + block)
            write("header", f"{chain}-{i}", header)
            all_headers.append(header)
            tx_items = rlp_children(txs)
            all_bodies.append(raw_list([txs, uncles]))
            for j, tx in enumerate(tx_items[:3]):
                write("transaction", f"{chain}-{i}-{j}", tx)
                all_txs.append(tx)
        write("chain_file", f"{chain}-0-5.rlp", b"".join(blocks[:6]))
        write("chain_file", f"{chain}-0-5.rlp.gz", gzip.compress(b"".join(blocks[:6]), mtime=0))
        for k, receipt in enumerate(receipts(chain)[:6]):
            write("receipt", f"{chain}-{k}", receipt)

    write("p2p_gossip", "txs", b"\x01" + raw_list(all_txs[:6]))
    genesis = hx("0xe11f21ee330cfb50c3f31d9b792df2fb5e196739d562e642416974f339aa4304")
    status = enc([4, genesis, b"\x11" * 32, 220, 1234])
    write("p2p_request", "status", b"\x00" + status)
    write("p2p_request", "headers-by-number", b"\x01" + enc([100, 192, 0, 0]))
    write("p2p_request", "headers-by-hash-reverse", b"\x01" + enc([genesis, 3, 2, 1]))
    write("p2p_request", "bodies", b"\x02" + enc([genesis, b"\x22" * 32]))
    write("p2p_request", "receipts", b"\x03" + enc([genesis]))
    write("p2p_response", "status", b"\x00" + status)
    write("p2p_response", "headers", b"\x01" + raw_list(all_headers[:4]))
    write("p2p_response", "bodies", b"\x02" + raw_list(all_bodies[:4]))
    block_receipts = raw_list(receipts("spectrum-devnet")[:3])
    write("p2p_response", "receipts", b"\x03" + raw_list([block_receipts, raw_list([])]))

    rpc = {
        "get-balance": ["0x407d73d8a49eeb85d32cf465507dd71d507100c1", "latest"],
        "get-block-by-number": ["0x1b4", True],
        "get-storage-at": ["0x295a70b2de5e3953354a6a8344e616ed314d7251", "0x0", {"blockHash": "0x" + "ab" * 32, "requireCanonical": True}],
        "call": [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20, "gas": "0x5208", "gasPrice": "0x3b9aca00", "value": "0x1", "data": "0x70a08231"}, "pending"],
        "get-logs": [{"fromBlock": "0x1", "toBlock": "earliest", "address": ["0x" + "33" * 20], "topics": [None, ["0x" + "44" * 32, "0x" + "55" * 32]]}],
        "send-raw": ["0x" + all_txs[0].hex()],
    }
    for name, params in rpc.items():
        write("rpc_params", name, json.dumps(params).encode())

    for name in ("dev.json", "devnet.json", "mainnet.json", "testnet.json"):
        write("genesis_json", name, open(os.path.join(ROOT, "genesis", name), "rb").read())

    # crates/keystore/src/v3/tests.rs: geth's light file (password ""), the Web3 Secret
    # Storage vectors (scrypt, pbkdf2) and ethers' file (`Crypto`).
    geth = {"address": "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8", "crypto": {"cipher": "aes-128-ctr", "ciphertext": "b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145", "cipherparams": {"iv": "dc4926b48a105133d2f16b96833abf1e"}, "kdf": "scrypt", "kdfparams": {"dklen": 32, "n": 2, "p": 1, "r": 8, "salt": "004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0"}, "mac": "39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85"}, "id": "ce541d8d-c79b-40f8-9f8c-20f59616faba", "version": 3}
    spec_scrypt = {"crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"}, "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c", "kdf": "scrypt", "kdfparams": {"dklen": 32, "n": 262144, "r": 1, "p": 8, "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"}, "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"}, "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6", "version": 3}
    spec_pbkdf2 = {"crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"}, "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46", "kdf": "pbkdf2", "kdfparams": {"c": 262144, "dklen": 32, "prf": "hmac-sha256", "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"}, "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"}, "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6", "version": 3}
    cheap_pbkdf2 = json.loads(json.dumps(spec_pbkdf2))
    cheap_pbkdf2["crypto"]["kdfparams"]["c"] = 2
    ethers = json.loads(json.dumps(geth))
    ethers["Crypto"] = ethers.pop("crypto")
    for name, file in [("geth-light", geth), ("spec-scrypt", spec_scrypt), ("spec-pbkdf2", spec_pbkdf2), ("pbkdf2-c2", cheap_pbkdf2), ("capital-crypto", ethers)]:
        write("keystore_json", name, json.dumps(file).encode())


if __name__ == "__main__":
    main()
