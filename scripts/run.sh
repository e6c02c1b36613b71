#!/usr/bin/env bash
# Runs a command with the project's toolchain ready, so every npm script works the same on a
# fresh clone and in CI: Node 24 first on PATH (installed from the npm registry when the machine's
# node is older), node_modules installed and matching package-lock.json, node_modules/.bin on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_bin="$("$root/scripts/ensure-node.sh")"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

# Install dependencies when node_modules is missing or older than the lock file.
stamp="$root/node_modules/.jq-lock-stamp"
lock_sum="$(sha256sum "$root/package-lock.json" 2>/dev/null | cut -d' ' -f1 || true)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "run: installing npm dependencies" >&2
  if [ -f "$root/package-lock.json" ]; then
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  else
    (cd "$root" && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
  sha256sum "$root/package-lock.json" | cut -d' ' -f1 > "$stamp"
fi
cd "$root"
exec "$@"
