#!/usr/bin/env bash
# Starts the $RF_NVFLARE deployment with the 2.3 tooling (scripts/real_flare/start.sh), on this version's root and ports.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/env.sh"
exec "$HERE/../real_flare/start.sh"
