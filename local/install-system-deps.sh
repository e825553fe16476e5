#!/usr/bin/env bash
# System packages the tests need: a Chromium for the real-browser test (test/browser/demo.test.ts).
# Never a downloaded browser build. Idempotent, and never fails the set-up: without a browser the
# browser test is skipped with its reason, everything else runs.
#   1. CHROMIUM_PATH set and executable: that browser is used, nothing is installed.
#   2. Debian's /usr/bin/chromium present: nothing to do.
#   3. apt-get present (Debian, Ubuntu): installs Debian's chromium, with sudo when not root.
#   4. Otherwise: says what to install and how to point the tests at it.
set -uo pipefail
# Where Debian's package puts it (a test points this elsewhere).
SYSTEM_CHROMIUM="${SETUP_SYSTEM_CHROMIUM:-/usr/bin/chromium}"

warn() { printf 'setup: %s\n' "$*" >&2; }
hint() {
  warn "no Chromium for the browser test (it will be skipped). Install Chromium or Google Chrome"
  warn "(macOS: brew install --cask chromium; Fedora: dnf install chromium; Arch: pacman -S chromium),"
  warn "then set CHROMIUM_PATH to its executable, e.g. export CHROMIUM_PATH=\"/Applications/Chromium.app/Contents/MacOS/Chromium\"."
}

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ -x "$CHROMIUM_PATH" ] && [ ! -d "$CHROMIUM_PATH" ]; then
    printf 'setup: using CHROMIUM_PATH=%s\n' "$CHROMIUM_PATH"
    exit 0
  fi
  warn "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file."
  hint
  exit 0
fi
if [ -x "$SYSTEM_CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  hint
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    warn "installing Chromium needs root and sudo is missing: run 'apt-get install -y chromium' as root."
    hint
    exit 0
  fi
  SUDO="sudo"
fi
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; then
  "$SYSTEM_CHROMIUM" --version
else
  warn "apt-get could not install chromium."
  hint
fi
exit 0
