#!/usr/bin/env bash
# The Quick start's first command: install what is needed, start the local lab, and show drillbook
# on it. The lab keeps running afterwards (drillbook lab down stops it).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

drillbook() { node bin/drillbook.js "$@"; }
drillbook validate runbooks/*.yaml examples/*.yaml
drillbook lab up
drillbook validate --inventory "$(drillbook lab env)" --env lab runbooks/*.yaml
drillbook plan runbooks/pg-failover.yaml --env lab
drillbook lab status
