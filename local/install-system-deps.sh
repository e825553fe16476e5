#!/usr/bin/env bash
# System packages the tests need, from Debian's archive: Chromium for the real-browser test.
# Never a downloaded browser build. Idempotent; needs root (or sudo) only when installing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
