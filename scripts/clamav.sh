#!/usr/bin/env bash
# Installs ClamAV's daemon from Debian's packages when absent. The upload-scanning tests start a
# private clamd with a test signature of their own (tests/clamav.py), so nothing is started here and
# no signature database is downloaded (a deployment runs freshclam; see docs/security.md).
set -euo pipefail
if ! command -v clamd >/dev/null 2>&1 && [ ! -x /usr/sbin/clamd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq clamav-daemon >/dev/null
  # Debian's package starts the system daemon and freshclam; the tests use their own daemon.
  (service clamav-daemon stop || true) >/dev/null 2>&1
  (service clamav-freshclam stop || true) >/dev/null 2>&1
fi
echo "clamd $( (clamd --version 2>/dev/null || /usr/sbin/clamd --version) | awk '{print $2}')" >&2
