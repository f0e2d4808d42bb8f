#!/usr/bin/env bash
# Sets everything up, then serves every family on the embedded defaults:
# SQLite under ./var, sample data built on first start, http://127.0.0.1:8000 (override with
# RIDGELINE_HOST / RIDGELINE_PORT or pass e.g. `--only routing --port 9000 --workers 2`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/ridgeline serve "$@"
