#!/usr/bin/env bash
# Provisions the secure project (project.yml) with the real `nvflare provision` into $RF_ROOT/workspace.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
rm -rf "$RF_ROOT/workspace" "$RF_ROOT/project.yml"
sed -e "s/@FL_PORT@/$RF_FL_PORT/g" -e "s/@ADMIN_PORT@/$RF_ADMIN_PORT/g" \
    "$(dirname "${BASH_SOURCE[0]}")/project.yml" > "$RF_ROOT/project.yml"
cd "$RF_ROOT"
"$RF_VENV/bin/nvflare" provision -p "$RF_ROOT/project.yml" -w "$RF_ROOT/workspace"
ls "$RF_PROD"
# 2.3's provisioned server keeps its job store and snapshots in /tmp/nvflare/{jobs,snapshot}-storage, shared by
# every deployment on the machine (another one's jobs showed up here): give this one its own, under $RF_ROOT.
# Edited in resources.json.default itself (2.3 reads it when there is no resources.json), so local/ keeps the
# provisioned file names; differential.py maps the two paths back when it compares.
res="$RF_PROD/localhost/local/resources.json.default"
sed -i -e "s#/tmp/nvflare/jobs-storage#$RF_ROOT/jobs-storage#" -e "s#/tmp/nvflare/snapshot-storage#$RF_ROOT/snapshot-storage#" \
    "$res"
rm -rf "$RF_ROOT/jobs-storage" "$RF_ROOT/snapshot-storage"
