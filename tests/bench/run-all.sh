#!/usr/bin/env bash
# `make bench`: runs every benchmark script in tests/bench/ (bench-*.sh) in
# name order against the build directory given, printing each one's table.
# Benchmarks only use loopback addresses or network namespaces they create.
set -u
BUILD=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")"
status=0
for script in bench-*.sh; do
  [ -e "$script" ] || continue
  echo "== $script"
  ./"$script" "$BUILD" || { echo "$script failed" >&2; status=1; }
  echo
done
exit $status
