#!/usr/bin/env bash
# The whole check for one FLARE 2.4-2.6 release (RF_NVFLARE=2.4.2|2.5.2|2.6.3, default 2.6.3): venv, provision,
# start, the differential (real client vs real server and vs the fake of that version), our client's behaviour
# suite, stop. Outputs land in $RF_ROOT (e.g. /tmp/realflare26): compare/, compare.log, behaviour.log.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/env.sh"
"$HERE/setup_venv.sh" || exit 1
"$HERE/provision.sh" || exit 1
"$RF_VENV/bin/python" "$HERE/../real_flare/make_jobs.py" --out "$RF_ROOT/jobs"
trap '"$HERE/stop.sh"' EXIT
"$HERE/start.sh" || exit 1
rc=0
"$RF_VENV/bin/python" "$HERE/compare.py" --prod "$RF_PROD" --jobs "$RF_ROOT/jobs" --out "$RF_ROOT/compare" \
  --flare-version "$RF_FLARE_VERSION" 2>&1 | tee "$RF_ROOT/compare.log" || rc=1
(cd "$RF_REPO" && "$RF_VENV/bin/python" -m pytest -p no:xdist -p no:randomly tests/behaviour \
  --flare-kit "$RF_PROD/admin@nvidia.com" -v) 2>&1 | tee "$RF_ROOT/behaviour.log" || rc=1
exit $rc
