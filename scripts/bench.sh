#!/usr/bin/env bash
# Sets everything up with the benchmark peers (bench extra) and runs every benchmark suite in bench/,
# each side by side with its named peer, printing figures and ratios. Not part of the test run.
# Pass a path or -k expression to run one suite, e.g. `scripts/bench.sh bench/test_bench_http.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
RIDGELINE_EXTRAS="dev,bench" scripts/setup.sh
if ! command -v wrk >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
exec .venv/bin/python -m pytest -p no:cacheprovider -s -q --benchmark-columns=min,median,max,rounds "${@:-bench}"
