#!/bin/sh
# The spectrum container's entrypoint. The datadir is the /data volume. Run as a node (no
# arguments, or flags only), the JSON-RPC and metrics servers listen on all of the container's
# interfaces, since only the ports published with `-p` are reachable from outside; any flag
# given overrides these defaults (the last occurrence of a flag wins). With a command
# (`version`, `init`, `dumpconfig`, ...) the arguments are passed through after --datadir.
set -eu

BIN="${SPECTRUM_BIN:-/usr/local/bin/spectrum}"
DATADIR="${SPECTRUM_DATADIR:-/data}"

case "${1:-}" in
  "" | -*)
    set -- --http.addr 0.0.0.0 --http.vhosts '*' --ws.addr 0.0.0.0 --metrics.addr 0.0.0.0 "$@"
    ;;
esac

exec "$BIN" --datadir "$DATADIR" "$@"
