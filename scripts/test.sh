#!/usr/bin/env bash
# The whole test suite (called by `make test` and CI). Usage: scripts/test.sh PYTHON
set -euo pipefail
PY="${1:-python3}"
cd "$(dirname "$0")/.."
scripts/services.sh
# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here);
# galleries need the Noto fonts.
scripts/system_packages.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
exec "$PY" -m pytest -q -p no:cacheprovider tests "${@:2}"
