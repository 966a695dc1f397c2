#!/usr/bin/env bash
# Store benchmark: ingest rate of a 10,000-miner fleet's poll passes (3
# chains and 2 pools per sample), query latency on 30 days of a 200-miner
# fleet at a 30 s interval, and the disk used: bytes per miner-day of raw
# samples and of each rollup, and the steady-state size per miner with the
# shipped retentions. See plugins/store/sqlite/bench-sqlite.c for exactly
# what is generated. About 71 s on an idle 2-core machine (the 30-day
# database once took 23 of make bench's 28 minutes): it is built at a
# reduced scale, 200 miners by default, with the 27 older days' rollups
# inserted directly (one transaction, prepared statements, no journal) and
# only the last 3 days written through the store's write_batch. Sizes per
# miner-day do not depend on the scale and the timed queries hardly do
# (one miner's rows, the fleet totals); sizes can be changed
# (BENCH_MINERS=1000, the size issue 5's goals name, takes ~4 minutes):
#   BENCH_FLEET=10000 BENCH_PASSES=20 BENCH_MINERS=200 BENCH_DAYS=30 BENCH_RAW_DAYS=3
# Goals, printed as GOAL lines for run-all.sh's table: ingest through
# write_batch above 50,000 samples/s, the two history queries under 50 ms
# (median), at most 200 KB of raw samples per miner-day, at most 8 MB per
# miner at steady state with the shipped retentions.
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
