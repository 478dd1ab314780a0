#!/usr/bin/env python3
"""Head lag of a dev node with and without a flood of heavy RPC calls (a measurement, not a test).

Starts `spectrum --dev --dev.period 1` (one block a second, sealed and imported by the node
itself), watches the head for WINDOW seconds quietly, then again while FLOODERS threads send
batches of BATCH `eth_call`s, each a loop that burns the whole gas cap. For each window it prints:
blocks imported per second, the head lag (wall clock minus the head block's timestamp, sampled
every 0.25 s: its median and maximum), the latency of `eth_blockNumber`, and what the flood's
calls got (answers, time-budget aborts, refusals).

    python3 crates/rpc/tests/flood/head_lag.py path/to/spectrum [--window 30] [--flooders 8]
        [--batch 50] [-- extra node flags…]

Standard library only.
"""

import argparse
import json
import statistics
import subprocess
import threading
import time
import urllib.request

LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP: loops until its gas runs out


def post(url, body, timeout=120):
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def start(binary, extra):
    args = [binary, "--dev", "--dev.period", "1", "--http.port", "0", "--ws.port", "0", *extra]
    node = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    for line in node.stdout:
        if line.startswith("HTTP JSON-RPC: "):
            url = line.split(": ", 1)[1].strip()
            threading.Thread(target=lambda: [None for _ in node.stdout], daemon=True).start()
            return node, url
        if time.time() > deadline:
            break
    node.kill()
    raise SystemExit("the node printed no HTTP address")


def head(url):
    block = post(url, {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                       "params": ["latest", False]})["result"]
    return int(block["number"], 16), int(block["timestamp"], 16)


def watch(url, seconds):
    """Samples the head; returns (blocks/s, lag samples, eth_blockNumber latencies)."""
    first, _ = head(url)
    began = time.time()
    lags, latencies = [], []
    while time.time() - began < seconds:
        t0 = time.time()
        post(url, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})
        latencies.append(time.time() - t0)
        _, stamp = head(url)
        lags.append(max(0.0, time.time() - stamp))
        time.sleep(0.25)
    last, _ = head(url)
    return (last - first) / (time.time() - began), lags, latencies


class Flood:
    def __init__(self, url, threads, batch):
        self.url, self.batch, self.stop = url, batch, threading.Event()
        self.counts = {"answered": 0, "aborted (time budget)": 0, "refused (-32005)": 0,
                       "other errors": 0}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        call = {"from": "0x" + "00" * 20, "data": LOOP}
        body = [{"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [call, "latest"]}
                for i in range(self.batch)]
        while not self.stop.is_set():
            try:
                answers = post(self.url, body, timeout=600)
            except Exception:  # noqa: BLE001 (a refused connection counts as an error)
                answers = [{"error": {"code": 0, "message": "transport"}}]
            with self.lock:
                for answer in answers if isinstance(answers, list) else [answers]:
                    error = answer.get("error")
                    if error is None:
                        self.counts["answered"] += 1
                    elif "execution aborted" in error["message"]:
                        self.counts["aborted (time budget)"] += 1
                    elif error["code"] == -32005:
                        self.counts["refused (-32005)"] += 1
                    else:
                        self.counts["other errors"] += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_):
        self.stop.set()


def report(name, rate, lags, latencies):
    print(f"{name}: {rate:.2f} blocks/s, head lag median {statistics.median(lags):.2f} s, "
          f"max {max(lags):.2f} s; eth_blockNumber median {statistics.median(latencies) * 1000:.0f}"
          f" ms, max {max(latencies) * 1000:.0f} ms ({len(lags)} samples)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    node, url = start(args.binary, args.extra)
    try:
        while head(url)[0] < 3:
            time.sleep(0.2)
        report("quiet", *watch(url, args.window))
        with Flood(url, args.flooders, args.batch) as flood:
            time.sleep(2)  # let the flood reach the node
            result = watch(url, args.window)
        report(f"flood ({args.flooders} clients x batches of {args.batch} eth_call)", *result)
        print("flood calls:", json.dumps(flood.counts))
    finally:
        node.terminate()
        try:
            node.wait(timeout=30)
        except subprocess.TimeoutExpired:  # calls still running on its heavy pool
            node.kill()


if __name__ == "__main__":
    main()
