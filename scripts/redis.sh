#!/usr/bin/env bash
# Installs redis-server from Debian's packages when absent. The tests that need Redis start a private
# server of their own on a free loopback port (tests/platform/auth/conftest.py), so nothing is started
# here.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
  # Debian's package starts a system service; the tests use their own servers.
  (service redis-server stop || true) >/dev/null 2>&1
fi
echo "redis-server $(redis-server --version | awk '{print $3}')" >&2
