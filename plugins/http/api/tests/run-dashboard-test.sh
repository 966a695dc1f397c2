#!/bin/sh
# The dashboard's browser test (dashboard-test.cjs, TAP on stdout).
# playwright-core comes from npm into the build directory on first use; the
# browser is Debian's chromium (never `playwright install`).
set -eu
: "${PLAYWRIGHT_DIR:?set by meson}"
if [ ! -f "$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json" ]; then
  mkdir -p "$PLAYWRIGHT_DIR"
  # stdout is TAP: npm's chatter goes to stderr.
  npm install --prefix "$PLAYWRIGHT_DIR" --no-save --no-audit --no-fund --loglevel=error \
    playwright-core@1.65.1 1>&2
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "Bail out! /usr/bin/chromium is missing: apt-get install chromium (make deps-test does it)"
  exit 1
fi
exec node "$(dirname "$0")/dashboard-test.cjs"
