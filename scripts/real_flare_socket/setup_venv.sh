#!/usr/bin/env bash
# Creates $RF_VENV with the real nvflare $RF_NVFLARE (full install: the server and sites need its deps)
# and flare-harness installed editable with its test extra.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$RF_ROOT"
[ -x "$RF_VENV/bin/python" ] || "$RF_PY" -m venv "$RF_VENV"
"$RF_VENV/bin/pip" install -q --upgrade pip
"$RF_VENV/bin/pip" install -q "nvflare==$RF_NVFLARE"
"$RF_VENV/bin/pip" install -q -e "$RF_REPO[test]"
"$RF_VENV/bin/python" -c "import nvflare; print('nvflare', nvflare.__version__)"
