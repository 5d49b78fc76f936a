#!/usr/bin/env bash
# The broad differential in one command: stop whatever runs in $RF_ROOT, provision afresh, write the jobs, start
# server + two sites, replay the sessions of differential.py against the real deployment and the fake, stop.
# Outputs: $RF_ROOT/differential/{real,fake,classes}.json and differential.md (counts per class, every difference).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/env.sh"
[ -x "$RF_VENV/bin/nvflare" ] || "$HERE/setup_venv.sh" || exit 1
"$HERE/stop.sh" > /dev/null 2>&1 || true
"$HERE/provision.sh" > "$RF_ROOT/provision.log" 2>&1 || { cat "$RF_ROOT/provision.log"; exit 1; }
"$RF_VENV/bin/python" "$HERE/make_jobs.py" --out "$RF_ROOT/jobs" > /dev/null || exit 1
trap '"$HERE/stop.sh" > /dev/null 2>&1' EXIT
"$HERE/start.sh" || exit 1
# the fake side is this checkout's code, whatever the venv's editable install points at
PYTHONPATH="$RF_REPO${PYTHONPATH:+:$PYTHONPATH}" "$RF_VENV/bin/python" "$HERE/differential.py" --prod "$RF_PROD" --jobs "$RF_ROOT/jobs" \
  --admin-port "$RF_ADMIN_PORT" --out "$RF_ROOT/differential" 2>&1 | tee "$RF_ROOT/differential.log"
exit "${PIPESTATUS[0]}"
