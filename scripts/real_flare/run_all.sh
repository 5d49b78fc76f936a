#!/usr/bin/env bash
# The whole check in one go: venv, provision, start, exercise, behaviour suite, differential compare, stop.
# Outputs land in $RF_ROOT (default /tmp/realflare): exercise.log/.json, behaviour.log, compare/.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/env.sh"
"$HERE/setup_venv.sh" || exit 1
"$HERE/provision.sh" || exit 1
"$RF_VENV/bin/python" "$HERE/make_jobs.py" --out "$RF_ROOT/jobs"
trap '"$HERE/stop.sh"' EXIT
"$HERE/start.sh" || exit 1
rc=0
"$RF_VENV/bin/python" "$HERE/exercise.py" --prod "$RF_PROD" --jobs "$RF_ROOT/jobs" --out "$RF_ROOT/exercise.json" \
  2>&1 | tee "$RF_ROOT/exercise.log" || rc=1
(cd "$RF_REPO" && "$RF_VENV/bin/python" -m pytest -p no:xdist tests/behaviour --flare-kit "$RF_PROD/admin@nvidia.com" -v) \
  2>&1 | tee "$RF_ROOT/behaviour.log" || rc=1
"$RF_VENV/bin/python" "$HERE/compare.py" --prod "$RF_PROD" --jobs "$RF_ROOT/jobs" --out "$RF_ROOT/compare" \
  2>&1 | tee "$RF_ROOT/compare.log" || rc=1
exit $rc
