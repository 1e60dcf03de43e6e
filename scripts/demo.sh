#!/usr/bin/env bash
# The Quick start's first command: install what is needed, bring up the local staging lab, run the
# primary-kill drill on it (fault → failover → RTO/RPO → failback) and say where the report is.
# The lab is taken down at the end; KEEP_LAB=1 keeps it running (drillbook lab down stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

drillbook() { node bin/drillbook.js "$@"; }
# The demo keeps its runs and locks beside the lab, not in the machine's state directory.
export DRILLBOOK_STATE_DIR="${DRILLBOOK_STATE_DIR:-$PWD/.drillbook/state}"
if [ "${KEEP_LAB:-0}" != 1 ]; then trap 'drillbook lab down >/dev/null' EXIT; fi

# Synchronous replication: no acknowledged write may be lost (the drill's RPO objective is 0).
drillbook lab up --sync
# Every shipped file on its own; the demo's drill and its runbooks also against this lab (other drills
# need more than this lab has, e.g. primary-kill-alerted's lab up --monitoring).
drillbook validate runbooks/*.yaml drills/*.yaml
drillbook validate --inventory "$(drillbook lab env)" --env lab drills/primary-kill.yaml runbooks/pg-failover.yaml runbooks/pg-failback.yaml
drillbook drill drills/primary-kill.yaml
