#!/usr/bin/env bash
# What the tests need beyond PyPI, installed only where missing: Debian's
# Chromium, to open Data Docs as a browser would (headless, network blocked),
# and a Java 17+ runtime for the Spark engine's tests (Spark in local mode).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])'; then
  missing+=(openjdk-17-jre-headless)
fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
chromium --version
java -version 2>&1 | head -1
