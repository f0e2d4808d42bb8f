#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver when absent: the Showcase page test
# (tests/retail/ai/test_showcase_browser.py) drives a real headless Chromium through selenium with
# the system chromedriver (selenium-manager never downloads a browser or a driver here).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
echo "$(chromium --version 2>/dev/null || echo 'chromium: not installed')" >&2
