#!/usr/bin/env bash
# The long-chain benchmark (issue 16, item 7), end to end:
#   1. `spectrum-bench long-chain` writes a devnet chain file: the reference five-signer chain
#      (blocks 0..412, made by smc) extended by BLOCKS blocks our producer seals with the devnet
#      nodes' keys (every FULL_EVERY-th full of transfers, the rest empty but for the chief
#      update), each imported under full Tribe validation before it is written;
#   2. RUNS times, alternating: `spectrum import` (release) into a fresh datadir, peak RSS from
#      /usr/bin/time -v; then the reference node's verification build, smc-verify, in a fresh
#      datadir and HOME with SMC_VERIFY_SKIP_GASLIMIT=1, importing the same file through
#      admin_importChain (the way shared/testdata/spectrum-devnet-multi/verify-import.sh does:
#      `smc --devnet import` builds an ethash engine and cannot), peak RSS from VmHWM;
#   3. prints one table: blocks, seconds, blocks/s, peak RSS, head hash of each run.
#
# usage: scripts/bench-long.sh            (build first: see README, "Benchmarks")
# env:   BLOCKS (10000) FULL_EVERY (100) RUNS (2) WORK (a new temporary directory, kept)
#        BIN (release binaries: $CARGO_TARGET_DIR/release, else target/release)
#        SMC_VERIFY (../shared/reference-node/smc-verify beside the clone) PORT (28965, smc's RPC)
#        CHAIN (an existing long-chain file to reuse instead of generating one)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BLOCKS=${BLOCKS:-10000}
FULL_EVERY=${FULL_EVERY:-100}
RUNS=${RUNS:-2}
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
SMCV=${SMC_VERIFY:-$ROOT/../shared/reference-node/smc-verify}
PORT=${PORT:-28965}
WORK=${WORK:-$(mktemp -d /tmp/bench-long.XXXXXX)}
mkdir -p "$WORK"
for exe in "$BIN/spectrum" "$BIN/spectrum-bench" "$SMCV" /usr/bin/time; do
  [ -x "$exe" ] || { echo "missing $exe" >&2; exit 1; }
done

CHAIN=${CHAIN:-$WORK/long-chain.rlp}
if [ ! -f "$CHAIN" ]; then
  echo "== generating $CHAIN ($BLOCKS blocks after the multi chain, one in $FULL_EVERY full)"
  "$BIN/spectrum-bench" --verbosity 2 --datadir "$WORK" long-chain --out "$CHAIN" \
    --blocks "$BLOCKS" --full-every "$FULL_EVERY" | tee "$WORK/generate.log"
fi
FILE_BYTES=$(stat -c %s "$CHAIN")

rpc() { # rpc METHOD PARAMS-JSON [TIMEOUT]
  curl -s --max-time "${3:-10}" -H 'content-type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "http://127.0.0.1:$PORT"
}

ROWS=()
ours() { # ours RUN
  local d="$WORK/ours-$1"; rm -rf "$d"
  /usr/bin/time -v "$BIN/spectrum" --chain devnet --datadir "$d" import "$CHAIN" \
    > "$WORK/ours-$1.out" 2> "$WORK/ours-$1.err"
  local line rss head
  line=$(grep '^imported ' "$WORK/ours-$1.out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/ours-$1.err")
  # "imported N blocks (K already known) in S.SSs: R blocks/s, M Mgas/s; head H"
  read -r blocks secs rate head < <(echo "$line" |
    sed -E 's/^imported ([0-9]+) blocks .* in ([0-9.]+)s: ([0-9.]+) blocks\/s.*head ([0-9]+)$/\1 \2 \3 \4/')
  ROWS+=("$(printf '%-3s %-22s %7s %9s %10s %9s  %s' "$1" "spectrum import" "$blocks" "$secs" "$rate" \
    "$((rss / 1024))" "$head")")
  rm -rf "$d"
}

smc() { # smc RUN
  local d="$WORK/smc-$1"; rm -rf "$d"; mkdir -p "$d/home"
  SMC_VERIFY_SKIP_GASLIMIT=1 HOME=$d/home "$SMCV" --devnet --datadir "$d/datadir" --nodiscover \
    --maxpeers 0 --nat none --port $((PORT + 2)) --netrestrict 127.0.0.1/32 --rpc \
    --rpcaddr 127.0.0.1 --rpcport "$PORT" --rpcapi eth,net,web3,admin,debug --ipcdisable \
    > "$d/node.log" 2>&1 &
  local pid=$! i
  # Whatever fails from here on (set -e), smc-verify does not outlive the script.
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  for i in $(seq 1 300); do
    rpc eth_blockNumber '[]' 2 | grep -q result && break
    kill -0 "$pid" 2>/dev/null || { echo "smc-verify exited: $d/node.log" >&2; exit 1; }
    sleep 0.1
  done
  local t0 t1 answer head hash secs rate rss
  t0=$(date +%s.%N)
  answer=$(rpc admin_importChain "[\"$CHAIN\"]" 7200)
  t1=$(date +%s.%N)
  echo "$answer" > "$WORK/smc-$1.answer"
  head=$(( $(rpc eth_blockNumber '[]' | jq -r .result) ))
  hash=$(rpc eth_getBlockByNumber "[\"$(printf '0x%x' "$head")\",false]" | jq -r .result.hash)
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  trap - EXIT
  cp "$d/node.log" "$WORK/smc-$1.log"; rm -rf "$d"
  local verdict=""
  if ! echo "$answer" | jq -e '.result == true' >/dev/null; then
    echo "smc-verify refused the file (run $1): $answer" >&2
    echo "its log: $WORK/smc-$1.log" >&2
    verdict=" REFUSED"
  fi
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  rate=$(awk -v n="$head" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
  ROWS+=("$(printf '%-3s %-22s %7s %9s %10s %9s  %s %s' "$1" "smc-verify importChain" "$head" \
    "$secs" "$rate" "$((rss / 1024))" "$head" "$hash$verdict")")
}

for run in $(seq 1 "$RUNS"); do
  echo "== run $run: spectrum import"; ours "$run"
  echo "== run $run: smc-verify admin_importChain"; smc "$run"
done

echo
echo "chain file $CHAIN: $FILE_BYTES bytes"
[ -f "$WORK/generate.log" ] && cat "$WORK/generate.log"
printf '%-3s %-22s %7s %9s %10s %9s  %s\n' run importer blocks seconds blocks/s "RSS MiB" head
for row in "${ROWS[@]}"; do echo "$row"; done
echo "logs in $WORK"
