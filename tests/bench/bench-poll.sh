#!/usr/bin/env bash
# Polling benchmark: one full pass over 1,000, 5,000 and 10,000 fake S9s,
# through antmon's scheduler, drivers and transport (antmon-bench-poll),
# each size in a network namespace of its own (so port 4028 and the whole
# of 127.0.0.0/8 are ours and nothing leaves the machine).
#
#   [REPEAT=3] tests/bench/bench-poll.sh BUILD_DIR [SIZES...]
#
# Two passes per size: "identify" (no driver known yet: fingerprint, then
# the driver's probe, as right after discovery) and "steady" (the driver
# known, every later pass). Columns: wall time of the pass, CPU seconds per
# 1,000 polls, cores used (CPU / wall) and peak RSS of the polling process.
# Goal: 10,000 polled in under 10 s using under one core, RSS under 100 MB.
# The fake fleet runs on the same machine and uses CPU of its own.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
shift || true
SIZES=${*:-1000 5000 10000}
REPEAT=${REPEAT:-3} # runs per pass; the median is printed
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
BENCH=$BUILD/tests/bench/antmon-bench-poll
for f in "$FAKE" "$BENCH"; do
  [ -x "$f" ] || { echo "missing $f: build first (ninja -C $BUILD)" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  echo "bench-poll.sh needs root or unprivileged user namespaces (for its own netns)" >&2
  exit 1
fi
ulimit -n 20000

# One size, inside a fresh network namespace: fleet up, two passes, fleet down.
run_size() {
  local n=$1
  unshare -rn bash -s "$FAKE" "$BENCH" "$BUILD/plugins" "$ROOT" "$n" "$REPEAT" <<'EOS'
set -euo pipefail
FAKE=$1 BENCH=$2 PLUGINS=$3 ROOT=$4 N=$5 REPEAT=$6
ip link set lo up
ulimit -n 20000
out=$(mktemp)
"$FAKE" --base 127.3.0.1 --count "$N" --port 4028 \
  --profile "$ROOT/tests/fakeminer/profiles/antminer-s9" >"$out" 2>&1 &
fleet=$!
until grep -q '^ready' "$out"; do
  kill -0 $fleet 2>/dev/null || { cat "$out" >&2; exit 1; }
  sleep 0.1
done
export ANTMON_PLUGIN_DIR=$PLUGINS
# Each pass REPEAT times, the run with the median wall time reported: this
# kind of machine shares its cores, and one run can be off by a third.
median() {
  for _ in $(seq "$REPEAT"); do "$BENCH" --base 127.3.0.1 --count "$N" "$@" 2>/dev/null; done |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^wall_s=/) { split($i, kv, "="); print kv[2], $0 } }' |
    sort -n | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { $1 = ""; print substr($0, 2) }'
}
echo "identify $(median)"
echo "steady $(median --pin antminer)"
kill $fleet
wait $fleet 2>/dev/null || true
rm -f "$out"
EOS
}

value() { # KEY LINE
  sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"
}

printf '%-8s %-9s %8s %8s %10s %14s %6s %12s\n' miners pass ok failed wall_s cpu_s/1000 cores peak_rss_mb
for n in $SIZES; do
  while read -r pass line; do
    printf '%-8s %-9s %8s %8s %10s %14s %6s %12s\n' "$n" "$pass" "$(value ok "$line")" \
      "$(value failed "$line")" "$(value wall_s "$line")" "$(value cpu_per_1000_s "$line")" \
      "$(value cores "$line")" "$(value peak_rss_mb "$line")"
  done < <(run_size "$n")
done
