#!/usr/bin/env bash
# Creates $RF_VENV with nvflare 2.3.12 (cryptography<42: 2.3's provisioning breaks with >= 42)
# and flare-harness installed editable with its test extra.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$RF_ROOT"
[ -x "$RF_VENV/bin/python" ] || "$RF_PY" -m venv "$RF_VENV"
"$RF_VENV/bin/pip" install -q --upgrade pip
"$RF_VENV/bin/pip" install -q "nvflare==2.3.12" "cryptography<42"
"$RF_VENV/bin/pip" install -q -e "$RF_REPO[test]"
"$RF_VENV/bin/nvflare" --version
