#!/usr/bin/env bash
# Rebuilds contracts/out/ from contracts/src/ with a pinned solc from npm (solc-js runs offline
# once installed). The outputs are committed; the node embeds them. Run from anywhere:
#   contracts/build.sh
set -euo pipefail
cd "$(dirname "$0")"
SOLC_VERSION=0.8.24
TOOLS=.solc
if [ ! -x "$TOOLS/node_modules/.bin/solcjs" ]; then
  npm install --silent --prefix "$TOOLS" "solc@$SOLC_VERSION"
fi
node build.js
