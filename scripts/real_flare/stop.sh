#!/usr/bin/env bash
# Stops the server and both clients: first `shutdown all` through flare_api (stop.py); then, for any
# participant still running after a grace period, the provisioned way (touch <ws>/shutdown.fl, which
# its sub_start.sh loop obeys); finally kills only the processes recorded in that participant's
# pid.fl / daemon_pid.fl (the ones start.sh started).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$RF_VENV/bin/python" "$(dirname "${BASH_SOURCE[0]}")/stop.py" --kit "$RF_PROD/admin@nvidia.com" || true
alive() { local f="$1"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
for i in $(seq 1 30); do
  running=0
  for p in localhost site-1 site-2; do
    alive "$RF_PROD/$p/pid.fl" && running=1
    alive "$RF_PROD/$p/daemon_pid.fl" && running=1
  done
  [ $running = 0 ] && break
  [ "$i" = 15 ] && for p in localhost site-1 site-2; do touch "$RF_PROD/$p/shutdown.fl"; done
  sleep 2
done
for p in localhost site-1 site-2; do
  for f in pid.fl daemon_pid.fl; do
    if alive "$RF_PROD/$p/$f"; then
      echo "killing $p $f pid $(cat "$RF_PROD/$p/$f")"; kill "$(cat "$RF_PROD/$p/$f")"
    fi
  done
done
for p in localhost site-1 site-2; do
  echo "$p: $(tail -n 2 "$RF_PROD/$p/start.out" 2>/dev/null | tr '\n' ' ')"
done
