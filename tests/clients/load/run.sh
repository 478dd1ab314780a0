#!/usr/bin/env bash
# Load measurement (issue 7 item 8): requests/s and p50/p99 latency of eth_blockNumber,
# eth_getBalance and eth_call (an ERC20 balanceOf) at 16 keep-alive connections, the node pinned
# to core 0 and wrk to core 1. Needs a release build, wrk (Debian) and `npm ci` here.
# Usage: tests/clients/load/run.sh [path/to/spectrum] [seconds]
# RPC_CHECK=0 in the environment stops wrk checking each answer (see rpc.lua).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
bin="${1:-$root/target/release/spectrum}"
secs="${2:-15}"
port=18645

log="$(mktemp)"
taskset -c 0 "$bin" --dev --http.port "$port" --ws.port 0 --verbosity 1 > "$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null || true; wait $node_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q "HTTP JSON-RPC" "$log" && break
  sleep 0.2
done
account="$(grep -A1 '^Available accounts' "$log" | tail -1 | sed 's/^(0) //')"
key="$(grep -A1 '^Private keys' "$log" | tail -1 | sed 's/^(0) //')"
[[ "$key" == 0x* ]] || key="0x$key"
token="$(node "$here/deploy-token.mjs" "http://127.0.0.1:$port" "$key" "$root/../shared/testdata/spectrum-devnet/contracts.json")"
holder="${account#0x}"
call_data="0x70a08231000000000000000000000000${holder,,}"

run() {
  local name="$1" body="$2"
  printf '%-16s ' "$name"
  RPC_BODY="$body" taskset -c 1 wrk -t1 -c16 -d"${secs}s" -s "$here/rpc.lua" "http://127.0.0.1:$port/" | tail -1
}
run eth_blockNumber '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
run eth_getBalance "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"$account\",\"latest\"]}"
run eth_call "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"$token\",\"data\":\"$call_data\"},\"latest\"]}"
