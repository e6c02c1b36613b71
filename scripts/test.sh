#!/usr/bin/env bash
# The whole test suite, as `npm test` and CI run it (via scripts/run.sh, so Node 24 and the npm
# dependencies are in place): make sure the local services the test bed needs are installed,
# generate the gRPC code, compile everything (apps run from dist/ in end-to-end tests), then vitest.
# Extra arguments go to vitest, e.g. `npm test -- --project unit`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/services/install.sh
node scripts/proto/generate.mjs
tsc -p tsconfig.json
# The Python SDK's tests (test/integration/python-sdk.test.ts) need its virtualenv; make it here,
# where a slow first install (from PyPI) is not under a test hook's timeout.
bash scripts/python/ensure-venv.sh >/dev/null
exec vitest run "$@"
