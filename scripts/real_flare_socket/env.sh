# Settings for a real NVFlare 2.4 / 2.5 / 2.6 deployment; source it after choosing RF_NVFLARE (default 2.6.3).
# Each version has its own root and ports so it never collides with the 2.3 one (scripts/real_flare, /tmp/realflare).
# It then reuses the 2.3 tooling (start.sh, stop.sh, wait_ready.py, make_jobs.py) with these values.
: "${RF_NVFLARE:=2.6.3}"
case "$RF_NVFLARE" in
  2.4.*) _root=/tmp/realflare24 _fl=8402 _admin=8403 _py=/root/.pyenv/versions/3.10.13/bin/python ;;  # 2.4 CLI refuses >= 3.11
  2.5.*) _root=/tmp/realflare25 _fl=8302 _admin=8303 _py=/root/.pyenv/versions/3.11.7/bin/python ;;
  2.6.*) _root=/tmp/realflare26 _fl=8202 _admin=8203 _py=/root/.pyenv/versions/3.11.7/bin/python ;;
  *) echo "RF_NVFLARE must be 2.4.x, 2.5.x or 2.6.x (2.3: scripts/real_flare)" >&2; return 1 ;;
esac
: "${RF_ROOT:=$_root}"
: "${RF_PY:=$_py}"
: "${RF_VENV:=$RF_ROOT/venv}"
: "${RF_FL_PORT:=$_fl}"
: "${RF_ADMIN_PORT:=$_admin}"
: "${RF_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
RF_PROD="$RF_ROOT/workspace/realflare/prod_00"
RF_FLARE_VERSION="${RF_NVFLARE%.*}"   # 2.6.3 -> 2.6: the fake's flare_version
export RF_NVFLARE RF_ROOT RF_PY RF_VENV RF_FL_PORT RF_ADMIN_PORT RF_REPO RF_PROD RF_FLARE_VERSION
unset _root _fl _admin _py
