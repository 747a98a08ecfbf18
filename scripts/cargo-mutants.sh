#!/usr/bin/env bash
# cargo-mutants over pm-core and pm-postgres, tested by their own tests and
# by every pm-tests target except the trybuild `ui` suite (built, but its one
# test is skipped). Extra arguments go to cargo-mutants before the test
# arguments: `-f pm-core/src/engine/batch.rs`, `--in-place`, `--shard 1/4`.
# Results go to `$MUTANTS_OUTPUT/mutants.out` (`target` by default): give
# each concurrent or kept run its own. One job at a time (cargo-mutants'
# default, and the only choice with `--in-place`).
# See CONTRIBUTING.md for what it takes and how to read the results.
set -euo pipefail
cd "$(dirname "$0")/.."

exec cargo mutants \
  --package pm-core --package pm-postgres \
  --exclude pm-core/src/backend/conformance.rs \
  --test-package pm-core,pm-postgres,pm-tests \
  --timeout 300 --build-timeout 600 \
  --output "${MUTANTS_OUTPUT:-target}" \
  "$@" \
  -- --tests -- --exact --skip ui
