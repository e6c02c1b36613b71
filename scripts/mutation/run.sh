#!/usr/bin/env bash
# npm run test:mutation [-- SET...]: StrykerJS over jq's core, once per test set of
# vitest.mutation.config.ts (write-path: lifecycle, jobs, attempts, dispatch, sweeps; outbox;
# leader), then the score of each folder (docs/testing.md, "Mutation testing"). Runs after the
# build (dist/ is needed by the leader tests' child processes). Not part of npm test or .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(write-path outbox leader)
started=$(date +%s)
status=0
for set in "${sets[@]}"; do
  echo "mutation: set $set"
  JQ_MUTATION_SET="$set" stryker run || status=$?
done
node scripts/mutation/score-table.mjs "${sets[@]/#/reports/mutation/}"
echo "mutation: finished in $(( $(date +%s) - started )) s"
exit "$status"
