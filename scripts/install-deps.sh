#!/usr/bin/env bash
# Installs what building and testing spectrum-rs needs and this machine lacks, each package on its
# own terms, and nothing else. Safe to run again: it asks apt only for what is missing.
#
#   clang, libclang-dev  rocksdb's bindings (bindgen) and its C++ build
#   perl                 keccak-asm's build turns its perlasm source into assembly
#   libssl-dev, pkg-config  the RPC tests' HTTP client links OpenSSL
#   nodejs, npm          the ethers v6 suite; asked for only when `node` or `npm` is not on PATH,
#                        so a Node.js from another packager (which bundles its own npm and
#                        conflicts with Debian's `npm` package) is left alone
#   chromium             the status page test loads the page in headless Chromium (tests/ops.rs)
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v perl >/dev/null 2>&1 || missing+=(perl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for pkg in libclang-dev libssl-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
elif ! command -v npm >/dev/null 2>&1; then
  # node is here but npm is not: only Debian's own nodejs comes without npm.
  missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: nothing missing"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
as_root apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
