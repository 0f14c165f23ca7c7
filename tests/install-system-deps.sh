#!/usr/bin/env bash
# What the tests need beyond PyPI: Debian's Chromium, to open Data Docs as a
# browser would (headless, network blocked). Installed only where missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
chromium --version
