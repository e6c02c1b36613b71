#!/usr/bin/env bash
# npm run test:mutation [-- SET...]: StrykerJS over jq's core, once per test set of
# vitest.mutation.config.ts (write-path: lifecycle, jobs, attempts, dispatch, sweeps; outbox;
# leader), then the score of each folder (docs/testing.md, "Mutation testing"). Runs after the
# build (dist/ is needed by the leader tests' child processes). Not part of npm test or .ci/run.
#
# The outbox set mostly waits (on Kafka acknowledgements and the relay's polls: load ~1 while it
# runs alone), so it runs beside the other sets, which take turns on the CPU; its output goes to
# reports/mutation/outbox.log. Each set has its own Stryker sandbox (stryker.config.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(write-path outbox leader)
started=$(date +%s)
status=0
mkdir -p reports/mutation
beside=""
if [ ${#sets[@]} -gt 1 ] && [[ " ${sets[*]} " == *" outbox "* ]]; then
  echo "mutation: set outbox, beside the others (reports/mutation/outbox.log)"
  JQ_MUTATION_SET=outbox stryker run > reports/mutation/outbox.log 2>&1 &
  beside=$!
fi
for set in "${sets[@]}"; do
  [ "$set" = outbox ] && [ -n "$beside" ] && continue
  echo "mutation: set $set"
  JQ_MUTATION_SET="$set" stryker run || status=$?
done
if [ -n "$beside" ]; then
  wait "$beside" || status=$?
  echo "mutation: set outbox ended"
  tail -n 30 reports/mutation/outbox.log
fi
node scripts/mutation/score-table.mjs "${sets[@]/#/reports/mutation/}"
echo "mutation: finished in $(( $(date +%s) - started )) s"
exit "$status"
