#!/usr/bin/env bash
# The whole suite: static checks, build, then every test against a test lab that is always taken down.
set -euo pipefail
cd "$(dirname "$0")/.."

# On a fresh machine the suite installs what it needs itself, like the demo does.
bash scripts/install-system-deps.sh --tests
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error

npm run typecheck
npm run lint
npm run build

# The test lab has its own addresses and ports, so it can run beside a demo lab (127.0.0.11.., 6432, ...).
lab_dir="$PWD/.drillbook/test-lab"
lab() { node bin/drillbook.js lab "$@" --dir "$lab_dir"; }

# A lab left over from an interrupted run is stopped first (by its recorded PIDs).
lab down
# Always take the lab down; the suite's exit code survives, a failed down fails a passing suite.
cleanup() {
  local rc=$?
  if ! lab down; then
    echo "test.sh: lab down failed; see $lab_dir/state.json" >&2
    if [ "$rc" -eq 0 ]; then rc=1; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
lab up --base-address 127.0.0.20 --router-port 6442 --dns-port 5363 --dns-api-port 8091 --slack-port 4009

export DRILLBOOK_TEST_LAB="$lab_dir"
# Runs, locks and marks of the tests stay in the worktree, never in the machine's state directory.
export DRILLBOOK_STATE_DIR="$PWD/.drillbook/test-state"
# shellcheck disable=SC2046 # one argument per test file
node --import tsx --test --test-concurrency=1 $(find test -name '*.test.ts' | sort)
