#!/usr/bin/env bash
# Discovery benchmark: a /16 of loopback addresses (127.2.0.0/16) holding
# 1,000 fake miners at scattered addresses, inside a network namespace of
# its own. Compares, in the same run:
#   - antmon scan 127.2.0.0/16 (the sweep AND the identification of every
#     miner found: fingerprint, driver probe, one full read);
#   - the sweep alone, as antmon scan reports it;
#   - nmap -sT -Pn -n -p4028 --open 127.2.0.0/16 (a connect sweep only).
# Each is run RUNS times (default 3); the table shows the median wall time
# and its ratio to nmap's. Goal: antmon scan within 1.5x of nmap.
#
#   tests/bench/bench-discovery.sh BUILD_DIR
#
# antmon runs with --max-rate 0 --max-inflight 1000, as nmap runs without a
# rate cap; the shipped default (max_rate=1000/s) is gentler on purpose.
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
ANTMON=$BUILD/core/antmon
for f in "$FAKE" "$ANTMON"; do
  [ -x "$f" ] || { echo "missing $f: build first (ninja -C $BUILD)" >&2; exit 1; }
done
command -v nmap >/dev/null || { echo "nmap is not installed (make deps-bench)" >&2; exit 1; }
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  echo "bench-discovery.sh needs root or unprivileged user namespaces (for its own netns)" >&2
  exit 1
fi
ulimit -n 20000

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1,000 distinct addresses spread over the /16, a fixed seed so every run
# scans the same fleet; the profiles cycle through firmwares whose replies
# carry no MAC (two miners with one MAC would count as one).
awk -v root="$ROOT/tests/fakeminer/profiles" 'BEGIN {
  split("antminer-s9 antminer-s19pro antminer-s17pro braiins-s9 whatsminer-m20s generic-cgminer hiveon-s9 vnish-s9", p, " ")
  srand(4028); n = 0
  while (n < 1000) {
    x = int(rand() * 256); y = int(rand() * 256)
    if ((x == 0 && y == 0) || (x == 255 && y == 255) || ((x, y) in seen)) continue
    seen[x, y] = 1; n++
    printf "127.2.%d.%d %s/%s\n", x, y, root, p[(n % 8) + 1]
  }
}' >"$work/fleet"

unshare -rn bash -s "$FAKE" "$ANTMON" "$BUILD/plugins" "$work" "$RUNS" <<'EOS'
set -euo pipefail
FAKE=$1 ANTMON=$2 PLUGINS=$3 WORK=$4 RUNS=$5
ip link set lo up
ulimit -n 20000
"$FAKE" --fleet "$WORK/fleet" --port 4028 >"$WORK/fleet.out" 2>&1 &
fleet=$!
trap 'kill $fleet 2>/dev/null; wait $fleet 2>/dev/null || true' EXIT
until grep -q '^ready' "$WORK/fleet.out"; do
  kill -0 $fleet 2>/dev/null || { cat "$WORK/fleet.out" >&2; exit 1; }
  sleep 0.1
done
export ANTMON_PLUGIN_DIR=$PLUGINS

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$WORK/antmon.t"; : >"$WORK/sweep.t"; : >"$WORK/nmap.t"
for i in $(seq "$RUNS"); do
  s=$(now)
  "$ANTMON" scan 127.2.0.0/16 --max-rate 0 --max-inflight 1000 --json \
    >"$WORK/scan.json" 2>"$WORK/scan.err"
  e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$WORK/antmon.t"
  sed -n 's/.* hosts tried in \([0-9.]*\) s.*/\1/p' "$WORK/scan.err" >>"$WORK/sweep.t"
  found=$(grep -c '"host"' "$WORK/scan.json" || true)

  s=$(now)
  nmap -sT -Pn -n -p4028 --open 127.2.0.0/16 -oG - >"$WORK/nmap.out" 2>&1
  e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$WORK/nmap.t"
  open=$(grep -c '4028/open' "$WORK/nmap.out" || true)
done

a=$(median <"$WORK/antmon.t"); w=$(median <"$WORK/sweep.t"); n=$(median <"$WORK/nmap.t")
printf '%-44s %8s %10s %8s\n' "1,000 miners in 127.2.0.0/16 (median of $RUNS)" found wall_s vs_nmap
printf '%-44s %8s %10.2f %8s\n' "nmap -sT -Pn -n -p4028 --open" "$open" "$n" "1.00x"
printf '%-44s %8s %10.2f %7.2fx\n' "antmon scan: sweep only" "$found" "$w" "$(awk -v a="$w" -v b="$n" 'BEGIN { print a / b }')"
printf '%-44s %8s %10.2f %7.2fx\n' "antmon scan: sweep + identify every miner" "$found" "$a" \
  "$(awk -v a="$a" -v b="$n" 'BEGIN { print a / b }')"
[ "$found" = 1000 ] && [ "$open" = 1000 ] || { echo "expected 1000 miners from both" >&2; exit 1; }
EOS
