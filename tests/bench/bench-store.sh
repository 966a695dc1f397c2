#!/usr/bin/env bash
# Store benchmark: ingest rate of a 10,000-miner fleet's poll passes (3
# chains and 2 pools per sample), query latency on 30 days of a 200-miner
# fleet at a 30 s interval, and the disk used: bytes per miner-day of raw
# samples and of each rollup, and the steady-state size per miner with the
# shipped retentions. See plugins/store/sqlite/bench-sqlite.c for exactly
# what is generated. About a minute and a half on 2 cores; sizes can be
# changed (BENCH_MINERS=1000 takes ~4 minutes, sizes per miner-day are the
# same):
#   BENCH_FLEET=10000 BENCH_PASSES=20 BENCH_MINERS=200 BENCH_DAYS=30 BENCH_RAW_DAYS=3
# The database (about 0.6 GB) goes under $BUILD/bench-store-tmp and is
# removed afterwards (BENCH_KEEP=1 keeps it).
set -eu
BUILD=$(cd "${1:-build}" && pwd)
BIN="$BUILD/plugins/store/sqlite/bench-sqlite-store"
[ -x "$BIN" ] || { echo "missing $BIN: build first (ninja -C $BUILD)" >&2; exit 1; }
export BENCH_DIR="${BENCH_DIR:-$BUILD/bench-store-tmp}"
echo "command: $BIN  (BENCH_FLEET=${BENCH_FLEET:-10000} BENCH_PASSES=${BENCH_PASSES:-20}" \
  "BENCH_MINERS=${BENCH_MINERS:-200} BENCH_DAYS=${BENCH_DAYS:-30} BENCH_RAW_DAYS=${BENCH_RAW_DAYS:-3})"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; one writer thread"
exec "$BIN"
