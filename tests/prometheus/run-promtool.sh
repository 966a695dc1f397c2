#!/bin/sh
# One promtool command as one TAP case (run-suite.sh counts TAP lines):
# its output as comments, its status as ok / not ok.
if ! command -v promtool >/dev/null 2>&1; then
  echo "Bail out! promtool is missing: apt-get install prometheus (make deps-test does it)"
  exit 1
fi
echo "1..1"
if out=$(promtool "$@" 2>&1); then
  printf '%s\n' "$out" | sed 's/^/# /'
  echo "ok 1 - promtool $*"
else
  printf '%s\n' "$out" | sed 's/^/# /'
  echo "not ok 1 - promtool $*"
  exit 1
fi
