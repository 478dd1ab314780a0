#!/usr/bin/env python3
"""Network measurements for issue 8 §7: propagation delay, sync throughput, memory.

Starts a private Spectrum network of real `spectrum` processes on 127.0.0.1 (the sequence of
docs/validator.md, "A 3-validator network on one machine"): validators v1, v2, v3 (`--mine`,
keystore keys, signer limit 1, period 2 s, so one block a second in turn) and a non-validating
node n4. Everything lives in a temporary directory, removed at the end (kept with --keep, or
when the run fails).

1. Propagation. The chain first grows --empty-blocks blocks without user transactions, then
   --loaded-blocks more while the script sends --txs-per-block pre-signed transfers (one JSON-RPC
   batch to v1 per new head; the pool gossips them to the other validators). Each sealer logs
   `sealed block number=… hash=… txs=…`; each receiver logs `imported gossiped block number=…
   hash=…` once the block is executed and is its head. The delay of a block on a node is the
   difference of the two log timestamps (same machine, same clock): gossip plus import. Blocks
   a node got through sync instead of gossip are not counted (the n column says how many were).
2. Memory at rest: VmRSS of each of the four nodes after --rest-seconds without transactions.
   Also VmHWM, each node's peak RSS over the run so far.
3. Sync. All four nodes are stopped; v1 is restarted without --mine (the chain no longer moves
   and nothing else takes CPU) and a fresh node n5, with v1 as its only bootnode, syncs to v1's
   head H. Timed by n5's own log, from its first line (creating the database) to its
   `sync finished head=H … blocks_per_sec=…` line; also the rate that line reports, and the
   script's wall clock (launch to eth_blockNumber = H, polled every 20 ms). Peak RSS while
   syncing is n5's VmHWM (and v1's, serving).
4. Local import: `spectrum export` of blocks 1..H from v1's datadir (stopped), then
   `spectrum import` of that file into a fresh datadir: the process's wall time and the rate it
   prints itself; the re-exported chain must equal the file. Two ratios: start to finish
   (n5 start -> sync finished vs the import process, both creating their database and genesis)
   and as the nodes report them (sync service start vs import loop).

Transactions are legacy EIP-155 transfers signed here (keccak-256, secp256k1 with RFC 6979
nonces, RLP: no third-party package) before the first node starts, so signing takes no CPU
from the nodes during the measurement.

Usage: python3 tests/network/measure.py [--binary PATH] [--empty-blocks 30] [--loaded-blocks 120]
       [--txs-per-block 100] [--gas-price-gwei 18] [--rest-seconds 5] [--keep]
(see tests/network/README.md). Python 3.9 or later, standard library only; Linux (/proc).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# Keccak-256 (the pre-standard padding Ethereum uses; hashlib's sha3_256 pads differently).


def _keccak_constants() -> tuple[list[int], list[int]]:
    """Round constants (from the LFSR of the Keccak reference) and rho offsets by lane x + 5y."""

    def lfsr_bit(t: int) -> int:
        r = 1
        for _ in range(t % 255):
            r <<= 1
            if r & 0x100:
                r ^= 0x171
        return r & 1

    round_constants = []
    for i in range(24):
        rc = 0
        for j in range(7):
            rc |= lfsr_bit(j + 7 * i) << ((1 << j) - 1)
        round_constants.append(rc)
    offsets = [0] * 25
    x, y = 1, 0
    for t in range(24):
        offsets[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return round_constants, offsets


_ROUND_CONSTANTS, _RHO = _keccak_constants()
_MASK64 = (1 << 64) - 1


def _rotl64(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & _MASK64 if n else v


def _keccak_f(a: list[int]) -> list[int]:
    for rc in _ROUND_CONSTANTS:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl64(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl64(a[x + 5 * y], _RHO[x + 5 * y])
        a = [
            b[i] ^ (~b[(i + 1) % 5 + i - i % 5] & b[(i + 2) % 5 + i - i % 5] & _MASK64)
            for i in range(25)
        ]
        a[0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    padded = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % rate)
    padded[-1] |= 0x80
    state = [0] * 25
    for start in range(0, len(padded), rate):
        block = padded[start : start + rate]
        for i in range(rate // 8):
            state[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        state = _keccak_f(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])


# ---------------------------------------------------------------------------------------------
# secp256k1 signing, affine arithmetic over a fixed-base table (fast enough: ~1 ms a signature).

_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def _point_add(p, q):
    """Affine addition; None is the point at infinity."""
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0]:
        if (p[1] + q[1]) % _P == 0:
            return None
        slope = 3 * p[0] * p[0] * pow(2 * p[1], -1, _P) % _P
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (slope * slope - p[0] - q[0]) % _P
    return x, (slope * (p[0] - x) - p[1]) % _P


def _base_table():
    """table[i][j] = j · 16^i · G: a scalar multiple of G is then 64 additions."""
    table, base = [], _G
    for _ in range(64):
        row, acc = [None], None
        for _ in range(15):
            acc = _point_add(acc, base)
            row.append(acc)
        table.append(row)
        base = _point_add(row[15], base)  # 16 · base
    return table


_TABLE = _base_table()


def _mul_g(k: int):
    point = None
    for i in range(64):
        point = _point_add(point, _TABLE[i][(k >> (4 * i)) & 15])
    return point


def _rfc6979_nonce(key: int, digest: bytes) -> int:
    x = key.to_bytes(32, "big")
    h = (int.from_bytes(digest, "big") % _N).to_bytes(32, "big")
    v, k = b"\x01" * 32, b"\x00" * 32
    mac = lambda key_, msg: hmac.new(key_, msg, hashlib.sha256).digest()  # noqa: E731
    k = mac(k, v + b"\x00" + x + h)
    v = mac(k, v)
    k = mac(k, v + b"\x01" + x + h)
    v = mac(k, v)
    while True:
        v = mac(k, v)
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate < _N:
            return candidate
        k = mac(k, v + b"\x00")
        v = mac(k, v)


def sign_digest(key: int, digest: bytes) -> tuple[int, int, int]:
    """(recovery id, r, s) with low s, as Ethereum requires."""
    nonce = _rfc6979_nonce(key, digest)
    point = _mul_g(nonce)
    r = point[0] % _N
    s = pow(nonce, -1, _N) * (int.from_bytes(digest, "big") + r * key) % _N
    recovery = point[1] & 1
    if s > _N // 2:
        s, recovery = _N - s, recovery ^ 1
    return recovery, r, s


def address_of(key: int) -> str:
    x, y = _mul_g(key)
    return "0x" + keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[12:].hex()


# ---------------------------------------------------------------------------------------------
# RLP and legacy EIP-155 transactions.


def _rlp_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


def rlp(item) -> bytes:
    if isinstance(item, list):
        payload = b"".join(rlp(x) for x in item)
        return _rlp_length(len(payload), 0xC0) + payload
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big")
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _rlp_length(len(item), 0x80) + item


def signed_transfer(key: int, chain_id: int, nonce: int, gas_price: int, to: str, value: int) -> str:
    """A signed legacy transfer (21000 gas), hex, ready for eth_sendRawTransaction."""
    fields = [nonce, gas_price, 21000, bytes.fromhex(to[2:]), value, b""]
    recovery, r, s = sign_digest(key, keccak256(rlp(fields + [chain_id, 0, 0])))
    return "0x" + rlp(fields + [chain_id * 2 + 35 + recovery, r, s]).hex()


# ---------------------------------------------------------------------------------------------
# Nodes: processes, RPC, memory.


class Node:
    """One `spectrum` process; stdout and stderr (the log) go to files in the work directory."""

    def __init__(self, binary: Path, workdir: Path, name: str, args: list[str]):
        self.name = name
        self.log = workdir / f"{name}.log"
        stdout = workdir / f"{name}.stdout"
        # A restarted node appends: only what this launch prints counts.
        printed_before = stdout.stat().st_size if stdout.exists() else 0
        with open(stdout, "ab") as out, open(self.log, "ab") as err:
            # Own session: Ctrl-C reaches the script only, which then stops every node itself.
            self.process = subprocess.Popen(
                [str(binary), *args], stdout=out, stderr=err, start_new_session=True
            )
        self.http, self.p2p = self._wait_for_addresses(stdout, printed_before)

    def _wait_for_addresses(self, stdout: Path, skip: int, timeout: float = 60) -> tuple[str, str]:
        """The node prints `HTTP JSON-RPC: http://…` and `P2P: /ip4/…` once listening."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log}")
            http = p2p = None
            with open(stdout, "rb") as out:
                out.seek(skip)
                printed = out.read().decode(errors="replace")
            for line in printed.splitlines():
                if line.startswith("HTTP JSON-RPC: http://"):
                    http = line.split("http://", 1)[1].strip()
                elif line.startswith("P2P: "):
                    p2p = line[5:].strip()
            if http and p2p:
                return http, p2p
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} printed no addresses within {timeout} s; see {self.log}")

    def rpc(self, method: str, params: list | None = None):
        return self.rpc_batch([(method, params or [])])[0]

    def rpc_batch(self, calls: list[tuple[str, list]]) -> list:
        """Results in call order; raises on any error."""
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        request = urllib.request.Request(
            f"http://{self.http}", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answers = sorted(json.loads(response.read()), key=lambda a: a["id"])
        errors = [a["error"] for a in answers if "error" in a]
        if errors:
            raise RuntimeError(f"{self.name}: {len(errors)} RPC errors, first: {errors[0]}")
        return [a["result"] for a in answers]

    def head(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def memory_mib(self, field: str = "VmRSS") -> float:
        """VmRSS (now) or VmHWM (peak since start) from /proc, in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} for {self.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(condition, timeout: float, what: str, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


# ---------------------------------------------------------------------------------------------
# The measurement.

CHAIN_ID = 4242
# Fixed test keys, as in bin/spectrum/tests/multinode.rs.
VALIDATOR_KEYS = [bytes([byte]) * 32 for byte in (0x11, 0x22, 0x33)]
RECIPIENT = "0x" + "77" * 20
# At most 64 pooled transactions per sender (the pool's limit): spread each block over senders.
TXS_PER_SENDER_PER_BLOCK = 8


class Network:
    def __init__(self, binary: Path, workdir: Path):
        self.workdir = workdir
        # A private copy: the build may replace target/*/spectrum while we run.
        self.binary = workdir / "spectrum"
        shutil.copy2(binary, self.binary)
        self.genesis = workdir / "genesis.json"
        self.password = workdir / "password.txt"
        self.nodes: dict[str, Node] = {}

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"spectrum {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def create(self, funded: list[str]) -> None:
        """Validator keystores (v1..v3) and the genesis: three leaders, signer limit 1, period 2."""
        self.password.write_text("measure password\n")
        validators = []
        for i, key in enumerate(VALIDATOR_KEYS, start=1):
            key_file = self.workdir / f"key{i}.txt"
            key_file.write_text(key.hex())
            self.run("account", "import", str(key_file), "--lightkdf",
                     "--datadir", str(self.workdir / f"v{i}"), "--password", str(self.password))
            key_file.unlink()
            validators.append(address_of(int.from_bytes(key, "big")))
        alloc = ",".join(f"{a}=1000000000000000000000" for a in funded)
        self.run("genesis", "new", "--name", "measure", "--chain-id", str(CHAIN_ID), "--period", "2",
                 "--signer-limit", "1", "--epoch", "1000", "--validators", ",".join(validators),
                 "--alloc", alloc, "--out", str(self.genesis))

    def start(self, name: str, mine: bool, bootnodes: list[Node]) -> Node:
        args = ["--chain", str(self.genesis), "--datadir", str(self.workdir / name),
                "--listen-addr", "127.0.0.1", "--port", "0", "--nodiscover",
                "--http", "--http.port", "0"]
        if mine:
            args += ["--mine", "--password", str(self.password)]
        if bootnodes:
            args += ["--bootnodes", ",".join(n.p2p for n in bootnodes)]
        node = Node(self.binary, self.workdir, name, args)
        self.nodes[name] = node
        return node

    def stop_all(self) -> None:
        for node in self.nodes.values():
            node.stop()


def presign(count: int, txs_per_block: int, gas_price: int) -> tuple[list[int], list[str]]:
    """Sender keys and `count` signed transfers, ordered so each block's batch spreads over
    the senders with increasing nonces."""
    senders = max(1, math.ceil(txs_per_block / TXS_PER_SENDER_PER_BLOCK))
    keys = [
        int.from_bytes(hashlib.sha256(b"measure sender %d" % i).digest(), "big") % _N
        for i in range(senders)
    ]
    nonces = [0] * senders
    txs = []
    for n in range(count):
        i = n % senders
        txs.append(signed_transfer(keys[i], CHAIN_ID, nonces[i], gas_price, RECIPIENT, 1))
        nonces[i] += 1
    return keys, txs


def drive_chain(v1: Node, empty_blocks: int, loaded_blocks: int, txs: list[str], per_block: int) -> None:
    """Lets the chain grow empty, then sends one batch of transfers per new head."""
    wait_until(lambda: v1.head() >= empty_blocks, empty_blocks * 10 + 60, f"block {empty_blocks}")
    target = empty_blocks + loaded_blocks
    deadline = time.monotonic() + loaded_blocks * 10 + 60
    last_head, sent = -1, 0
    while (head := v1.head()) < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the chain stalled at block {head}")
        if head != last_head and sent < len(txs):
            batch = txs[sent : sent + per_block]
            v1.rpc_batch([("eth_sendRawTransaction", [raw]) for raw in batch])
            sent += len(batch)
            last_head = head
        time.sleep(0.05)


def log_time(line: str) -> float:
    """The tracing timestamp that opens each log line (`2026-01-01T00:00:00.123456Z`)."""
    return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()


def log_fields(line: str, message: str) -> dict[str, str] | None:
    if f" {message} " not in line:
        return None
    tail = line.split(f" {message} ", 1)[1]
    return dict(part.split("=", 1) for part in tail.split() if "=" in part)


def propagation(network: Network, validators: list[str], names: list[str]):
    """Per node: delays (ms) of empty and loaded blocks from the sealer's log to the node's."""
    sealed = {}  # hash -> (time, user transactions)
    for name in validators:
        for line in network.nodes[name].log.read_text().splitlines():
            if (fields := log_fields(line, "sealed block")) is not None:
                sealed[fields["hash"]] = (log_time(line), int(fields["txs"]))
    # Each block of ours opens with the sealer's chief update: the fewest transactions in any
    # block is that baseline, and "empty" means nothing beyond it.
    baseline = min(txs for _, txs in sealed.values())
    loaded_sizes = [txs - baseline for _, txs in sealed.values() if txs > baseline]
    delays = {}
    for name in names:
        empty, loaded = [], []
        for line in network.nodes[name].log.read_text().splitlines():
            fields = log_fields(line, "imported gossiped block")
            if fields is None or fields["hash"] not in sealed:
                continue
            sealed_at, txs = sealed[fields["hash"]]
            (loaded if txs > baseline else empty).append((log_time(line) - sealed_at) * 1000)
        delays[name] = (empty, loaded)
    return delays, loaded_sizes, len(sealed)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with under 100 values, p99 is the maximum."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt_delays(values: list[float]) -> str:
    if not values:
        return f"{'-':>8} {'-':>8} {0:>4}"
    return f"{percentile(values, 50):8.1f} {percentile(values, 99):8.1f} {len(values):>4}"


def measure_sync(network: Network) -> dict:
    """Restarts v1 without --mine; a fresh n5 syncs from it; timed and its memory sampled."""
    server = network.start("v1", mine=False, bootnodes=[])
    height = server.head()
    launched = time.monotonic()
    fresh = network.start("n5", mine=False, bootnodes=[server])
    peak_sampled = 0.0
    deadline = launched + 600
    while (head := fresh.head()) < height:
        if time.monotonic() > deadline:
            raise RuntimeError(f"n5 stuck at {head} of {height}")
        peak_sampled = max(peak_sampled, fresh.memory_mib())
        time.sleep(0.02)
    wall = time.monotonic() - launched
    # The node's own clock is finer than this polling: from its first log line (creating the
    # database) to its `sync finished head=H blocks=… blocks_per_sec=…` line, whose rate counts
    # from the sync service's start (after the database and genesis are written).
    lines = fresh.log.read_text().splitlines()
    finished = next(
        (line for line in lines
         if (f := log_fields(line, "sync finished")) is not None and int(f["head"]) >= height),
        None,
    )
    if finished is None:
        raise RuntimeError("n5 reached the head without logging `sync finished`")
    rate_field = log_fields(finished, "sync finished")["blocks_per_sec"].strip('"')
    return {
        "height": height,
        "wall_seconds": wall,
        "log_seconds": log_time(finished) - log_time(lines[0]),
        "node_rate": float(rate_field),
        "n5_peak": max(peak_sampled, fresh.memory_mib("VmHWM")),
        "n5_after": fresh.memory_mib(),
        "server_peak": server.memory_mib("VmHWM"),
    }


def measure_local_import(network: Network, height: int) -> tuple[float, float]:
    """`spectrum import` of v1's blocks 1..height into a fresh datadir: the process's wall
    time, and the rate it reports itself (`imported N blocks … in Xs: R blocks/s`, which
    leaves out opening the database and writing the genesis)."""
    chain_file = network.workdir / "chain.rlp"
    network.run("export", str(chain_file), "1", str(height), "--chain", str(network.genesis),
                "--datadir", str(network.workdir / "v1"))
    started = time.monotonic()
    printed = network.run("import", str(chain_file), "--chain", str(network.genesis),
                          "--datadir", str(network.workdir / "imported"))
    wall = time.monotonic() - started
    summary = next(line for line in printed.splitlines() if line.startswith("imported "))
    if not summary.startswith(f"imported {height} blocks"):
        raise RuntimeError(f"expected {height} blocks imported: {summary}")
    reported_rate = float(summary.split(": ", 1)[1].split(" blocks/s", 1)[0])
    # The same blocks came out as went in.
    network.run("export", str(network.workdir / "check.rlp"), "1", str(height), "--chain",
                str(network.genesis), "--datadir", str(network.workdir / "imported"))
    if (network.workdir / "check.rlp").read_bytes() != chain_file.read_bytes():
        raise RuntimeError("the imported chain differs from the exported one")
    return wall, reported_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parents[2] / "target"))
    parser.add_argument("--binary", type=Path, default=target / "release" / "spectrum",
                        help="the spectrum binary (default: $CARGO_TARGET_DIR or target/, release)")
    parser.add_argument("--empty-blocks", type=int, default=30, help="blocks without transfers first")
    parser.add_argument("--loaded-blocks", type=int, default=120, help="then blocks with transfers")
    parser.add_argument("--txs-per-block", type=int, default=100, help="transfers sent per new block")
    parser.add_argument("--gas-price-gwei", type=int, default=18, help="the pool's floor on non-dev chains")
    parser.add_argument("--rest-seconds", type=float, default=5, help="idle time before the at-rest RSS")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, datadirs)")
    args = parser.parse_args()
    if not args.binary.is_file():
        parser.error(f"no binary at {args.binary}")
    usage = subprocess.run([str(args.binary), "--help"], capture_output=True, text=True).stdout
    needed = ("--listen-addr", "--nodiscover", "--bootnodes", "--mine")
    missing = [flag for flag in needed if flag not in usage]
    if missing:
        parser.error(f"{args.binary} has no {', '.join(missing)}: built before the p2p node?")

    # Ctrl-C (even when started in the background, where SIGINT is inherited as ignored) and
    # SIGTERM unwind through the finally below, which stops every node.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="spectrum-measure-"))
    print(f"work directory {workdir}, binary {args.binary}", flush=True)
    network = Network(args.binary, workdir)
    ok = False
    try:
        started = time.monotonic()
        keys, txs = presign(args.loaded_blocks * args.txs_per_block, args.txs_per_block,
                            args.gas_price_gwei * 10**9)
        signing = time.monotonic() - started
        print(f"signed {len(txs)} transfers from {len(keys)} senders in {signing:.1f} s", flush=True)
        network.create([address_of(k) for k in keys])
        v1 = network.start("v1", mine=True, bootnodes=[])
        v2 = network.start("v2", mine=True, bootnodes=[v1])
        network.start("v3", mine=True, bootnodes=[v1, v2])
        network.start("n4", mine=False, bootnodes=[v1])
        drive_chain(v1, args.empty_blocks, args.loaded_blocks, txs, args.txs_per_block)
        time.sleep(args.rest_seconds)  # a measurement window, not a synchronisation
        names = ["v1", "v2", "v3", "n4"]
        rest = {n: network.nodes[n].memory_mib() for n in names}
        peak_run = {n: network.nodes[n].memory_mib("VmHWM") for n in names}
        heads = {n: network.nodes[n].head() for n in names}
        common = min(heads.values())
        hashes = {network.nodes[n].rpc("eth_getBlockByNumber", [hex(common), False])["hash"] for n in names}
        if len(hashes) != 1:
            raise RuntimeError(f"the nodes disagree at block {common}")
        network.stop_all()

        delays, loaded_sizes, sealed_count = propagation(network, ["v1", "v2", "v3"], names)
        sync = measure_sync(network)
        network.stop_all()
        import_wall, import_rate = measure_local_import(network, sync["height"])
        ok = True
    finally:
        network.stop_all()
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            (workdir / "spectrum").unlink(missing_ok=True)  # the binary copy is no evidence
            print(f"logs and datadirs kept in {workdir}", file=sys.stderr)

    h = sync["height"]
    mean_loaded = sum(loaded_sizes) / len(loaded_sizes) if loaded_sizes else 0
    print()
    print(f"binary {args.binary}; chain of {h} blocks, {sealed_count} sealed in this run "
          f"({len(loaded_sizes)} with transfers, {mean_loaded:.0f} transfers each on average)")
    print()
    print("Propagation, sealing -> `imported gossiped block` on the node (ms; p99 = max under 100 blocks)")
    print(f"{'node':<5} {'empty p50':>9} {'p99':>8} {'n':>4}   {'loaded p50':>10} {'p99':>8} {'n':>4}   "
          f"{'RSS rest':>9} {'RSS peak':>9}  (MiB; peak over the run)")
    for n in names:
        empty, loaded = delays[n]
        print(f"{n:<5} {fmt_delays(empty):>23}   {' ' + fmt_delays(loaded):>24}   "
              f"{rest[n]:9.1f} {peak_run[n]:9.1f}")
    print()
    end_to_end, local_end_to_end = h / sync["log_seconds"], h / import_wall
    print(f"Sync of {h} blocks by a fresh node from one non-mining peer vs local import of the same blocks")
    print(f"{'':<38} {'seconds':>8} {'blocks/s':>9}")
    print(f"{'network, n5 start -> sync finished':<38} {sync['log_seconds']:8.2f} {end_to_end:9.1f}")
    print(f"{'network, as n5 reports it':<38} {'':>8} {sync['node_rate']:9.1f}")
    wall = sync["wall_seconds"]
    print(f"{'network, script wall clock (RPC poll)':<38} {wall:8.2f} {h / wall:9.1f}")
    print(f"{'local spectrum import, process':<38} {import_wall:8.2f} {local_end_to_end:9.1f}")
    print(f"{'local spectrum import, as it reports':<38} {'':>8} {import_rate:9.1f}")
    print(f"ratio network/local: {end_to_end / local_end_to_end:.2f} (start to finish, both processes), "
          f"{sync['node_rate'] / import_rate:.2f} (as reported by the nodes)")
    print(f"RSS peak while syncing: n5 {sync['n5_peak']:.1f} MiB (after: {sync['n5_after']:.1f} MiB), "
          f"v1 serving {sync['server_peak']:.1f} MiB")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
