#!/usr/bin/env bash
# cargo-mutants over pm-core and pm-postgres, tested by their own tests and
# by every pm-tests target except the trybuild `ui` suite (built, but its one
# test is skipped). Extra arguments go to cargo-mutants before the test
# arguments: `-f pm-core/src/engine/batch.rs`, `--in-place`, `--shard 1/4`.
# `MUTANTS_TESTS="engine_workers pg_partitions"` narrows the tests to the
# libraries' unit tests and those pm-tests targets (much faster for one
# file; the unmutated baseline is skipped then, as cargo-mutants runs it
# with the mutated packages' targets only, which have no such names).
# `MUTANTS_TIMEOUT` (seconds, 300 by default) bounds each mutant's tests: a
# narrowed set runs in well under a minute, so 120 wastes less on mutants
# that make a loop spin.
# Results go to `$MUTANTS_OUTPUT/mutants.out` (`target` by default): give
# each concurrent or kept run its own. One job at a time (cargo-mutants'
# default, and the only choice with `--in-place`).
# See CONTRIBUTING.md for what it takes and how to read the results.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=(--tests -- --exact --skip ui)
baseline=()
if [[ -n "${MUTANTS_TESTS:-}" ]]; then
  tests=(--lib)
  for target in $MUTANTS_TESTS; do
    tests+=(--test "$target")
  done
  baseline=(--baseline=skip)
fi

exec cargo mutants \
  --package pm-core --package pm-postgres \
  --exclude pm-core/src/backend/conformance.rs \
  --test-package pm-core,pm-postgres,pm-tests \
  --timeout "${MUTANTS_TIMEOUT:-300}" --build-timeout 600 \
  "${baseline[@]}" \
  --output "${MUTANTS_OUTPUT:-target}" \
  "$@" \
  -- "${tests[@]}"
