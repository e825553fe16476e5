#!/usr/bin/env bash
# `npm run setup`'s note on npm's EBADENGINE warnings. `npm ci` runs on the machine's own Node,
# which may be older than the project's: npm then warns that this package wants node >=24 and
# @middy/core >=22, and installs anyway. The warnings are harmless, because `node` is a dev
# dependency: once installed, every npm script runs on that Node 24. Said here, right below them,
# so nobody goes looking for a Node upgrade they do not need. Silent on Node 24 or newer.
set -uo pipefail
# The Node that runs npm (npm sets npm_node_execpath); `node` on PATH is already the project's.
machine_node="${npm_node_execpath:-$(command -v node)}"
version="$("$machine_node" --version 2>/dev/null)" || exit 0
major="${version#v}"
major="${major%%.*}"
case "$major" in '' | *[!0-9]*) exit 0 ;; esac
if [ "$major" -lt 24 ]; then
  printf 'setup: the "npm warn EBADENGINE" lines above are npm ci running on this machine'"'"'s Node %s: harmless,\n' "$version"
  printf 'setup: every npm script runs on the project'"'"'s own Node %s (a dev dependency).\n' \
    "$(node --version 2>/dev/null || echo 24)"
fi
exit 0
