#!/usr/bin/env bash
# Starts the provisioned server and both clients with their own startup/start.sh, in the background.
# Each participant's console output goes to <workspace>/start.out; FLARE's own log is <workspace>/log.txt.
# The sites start one after the other, each after the previous one registered, so the server lists them in
# the same order as the fake does (site-1, site-2); then waits until both are registered (flare_api only).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
export PATH="$RF_VENV/bin:$PATH"   # the provisioned sub_start.sh runs `python3`
for p in localhost site-1 site-2; do
  ws="$RF_PROD/$p"
  if [ -f "$ws/daemon_pid.fl" ] && kill -0 "$(cat "$ws/daemon_pid.fl")" 2>/dev/null; then
    echo "$p already running (daemon pid $(cat "$ws/daemon_pid.fl"))"; continue
  fi
  (cd "$ws" && nohup bash startup/start.sh > "$ws/start.out" 2>&1 < /dev/null)
  echo "started $p"
  case "$p" in
    localhost) sleep 8 ;;   # let the server bind before the clients try to register
    site-1) "$RF_VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/wait_ready.py" --kit "$RF_PROD/admin@nvidia.com" \
              --clients site-1 --deadline "${RF_READY_DEADLINE:-180}" ;;
  esac
done
"$RF_VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/wait_ready.py" --kit "$RF_PROD/admin@nvidia.com" \
  --clients site-1 site-2 --deadline "${RF_READY_DEADLINE:-180}"
