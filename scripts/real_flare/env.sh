# Shared settings for the real-FLARE scripts; source it.  Override any of these from the environment.
: "${RF_ROOT:=/tmp/realflare}"                  # everything real-FLARE lives here, never in the repo
: "${RF_PY:=/root/.pyenv/versions/3.10.13/bin/python}"  # the nvflare 2.3 CLI refuses Python >= 3.11
: "${RF_VENV:=$RF_ROOT/venv}"
: "${RF_FL_PORT:=8102}"
: "${RF_ADMIN_PORT:=8103}"
: "${RF_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
RF_PROD="$RF_ROOT/workspace/realflare/prod_00"
export RF_ROOT RF_PY RF_VENV RF_FL_PORT RF_ADMIN_PORT RF_REPO RF_PROD
