#!/usr/bin/env bash
# Provisions the secure project (project.yml) with the real `nvflare provision` of $RF_NVFLARE into $RF_ROOT/workspace.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
rm -rf "$RF_ROOT/workspace" "$RF_ROOT/project.yml"
drop=""; case "$RF_NVFLARE" in 2.6.*) drop="/TemplateBuilder/d" ;; esac   # 2.6 builds its templates itself
sed -e "s/@FL_PORT@/$RF_FL_PORT/g" -e "s/@ADMIN_PORT@/$RF_ADMIN_PORT/g" -e "$drop" \
    "$(dirname "${BASH_SOURCE[0]}")/project.yml" > "$RF_ROOT/project.yml"
cd "$RF_ROOT"
"$RF_VENV/bin/nvflare" provision -p "$RF_ROOT/project.yml" -w "$RF_ROOT/workspace"
ls "$RF_PROD"
