#!/usr/bin/env bash
# Sets everything up, then runs the whole suite: rustfmt, clippy (-D warnings) and cargo test for
# the core, ruff for Python, and pytest (SQLite). Extra arguments go to pytest.
# RIDGELINE_TEST_DATABASE_URL=postgresql://... makes the database tests use a real PostgreSQL
# (.ci/run does that as a second pass).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/redis.sh  # redis-server for the Redis-backed tests (they start private servers)
scripts/chromium.sh  # Debian chromium + chromedriver for the Showcase page browser test
scripts/clamav.sh  # clamd for the upload-scanning tests (they start a private daemon)

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy -D warnings" >&2
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test (ridgeline-core)" >&2
cargo test -p ridgeline-core --quiet
echo "== ruff" >&2
.venv/bin/ruff check python tests bench
.venv/bin/ruff format --check python tests bench
echo "== dependency audit (partial: docs/security.md)" >&2
timeout 300 .venv/bin/python scripts/audit_pypi_latest.py | tail -n 15
echo "== pytest" >&2
.venv/bin/python -m pytest -q "$@"
