#!/usr/bin/env bash
# Discovery benchmark: a /16 of loopback addresses (127.2.0.0/16) holding
# 1,000 fake miners at scattered addresses, inside a network namespace of
# its own. Compares, in the same run:
#   - antmon scan 127.2.0.0/16 with the shipped defaults (ports 4028, 80
#     and 4433, max_inflight=256, no max_rate: the adaptive rate), the
#     sweep AND the identification of every miner found: fingerprint,
#     driver probe, one full read;
#   - the sweep alone, as antmon scan reports it;
#   - nmap -sT -Pn -n -p4028 --open 127.2.0.0/16 (a connect sweep of one
#     port only: the reference, though antmon tries three);
#   - nmap -sT on antmon's three ports, to compare like with like (a second
#     GOAL line, scan_16_same_ports).
# Each is run RUNS times (default 3); the table shows the median wall time
# and its ratio to nmap's. Goal: antmon scan within 1.2x of nmap -p4028,
# printed as a GOAL line for `make bench`.
#
#   tests/bench/bench-discovery.sh BUILD_DIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${RUNS:-3}
ROOT=$(cd "$HERE/../.." && pwd)
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
ANTMON=$BUILD/core/antmon

# ---- setup, checked before anything starts --------------------------------------
step "checking the setup"
need_exe "$FAKE" "$ANTMON"
need_tools nmap unshare:util-linux ip:iproute2
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  fail "needs root or unprivileged user namespaces (for its own netns)"
fi
# The fake holds 1,000 listeners plus one fd per connection the scan has
# open (max_inflight=256); antmon those 256 plus 64 identifications (nmap
# sizes itself to the limit). The namespace inherits this limit. No port
# check: the namespace is new, so 4028 on 127.2.x.y is free by construction.
need_fds $((1000 + 1000 + 64)) "1,000 fake miners' listeners plus a scan's connections"

work=$(mktemp -d)
bench_rm_at_exit "$work"

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

# The measurements, inside a network namespace of their own. The script
# sources lib.sh too, so a failure inside names the step and shows the
# output of the fleet, of antmon scan and of nmap.
step "the scans, in a network namespace of their own"
unshare -rn bash -s "$HERE/lib.sh" "$FAKE" "$ANTMON" "$BUILD/plugins" "$work" "$RUNS" <<'EOS'
set -euo pipefail
BENCH_NAME="bench-discovery.sh (netns)"
. "$1"
FAKE=$2 ANTMON=$3 PLUGINS=$4 WORK=$5 RUNS=$6
step "bringing lo up"
ip link set lo up
step "starting the fake fleet (1,000 miners in 127.2.0.0/16, port 4028)"
bench_log "fake fleet output" "$WORK/fleet.out"
: >"$WORK/fleet.out" # there before the grep below looks (the fake opens it later)
"$FAKE" --fleet "$WORK/fleet" --port 4028 >"$WORK/fleet.out" 2>&1 &
fleet=$!
bench_started "fake fleet" "$fleet"
until grep -q '^ready' "$WORK/fleet.out"; do
  bench_running "$fleet" || fail "the fake fleet exited before it was ready"
  sleep 0.1
done
export ANTMON_PLUGIN_DIR=$PLUGINS

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$WORK/antmon.t"; : >"$WORK/sweep.t"; : >"$WORK/nmap.t"; : >"$WORK/nmap3.t"
bench_log "antmon scan stderr" "$WORK/scan.err"
bench_log "nmap output" "$WORK/nmap.out"
for i in $(seq "$RUNS"); do
  step "run $i of $RUNS: antmon scan 127.2.0.0/16 (shipped defaults)"
  s=$(now)
  "$ANTMON" scan 127.2.0.0/16 --json \
    >"$WORK/scan.json" 2>"$WORK/scan.err" || fail "antmon scan exited with status $? (its stderr is below)"
  e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$WORK/antmon.t"
  # The sweep's own time, from antmon's summary line; without it the
  # table's printf would print an error and go on.
  grep -q ' hosts tried in ' "$WORK/scan.err" || fail "antmon scan printed no 'hosts tried in N s' line"
  sed -n 's/.* hosts tried in \([0-9.]*\) s.*/\1/p' "$WORK/scan.err" >>"$WORK/sweep.t"
  found=$(grep -c '"host"' "$WORK/scan.json" || true)

  step "run $i of $RUNS: nmap -sT -Pn -n -p4028 --open 127.2.0.0/16"
  s=$(now)
  nmap -sT -Pn -n -p4028 --open 127.2.0.0/16 -oG - >"$WORK/nmap.out" 2>&1 ||
    fail "nmap exited with status $? (its output is below)"
  e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$WORK/nmap.t"
  open=$(grep -c '4028/open' "$WORK/nmap.out" || true)

  step "run $i of $RUNS: nmap -sT -Pn -n -p4028,80,4433 --open 127.2.0.0/16"
  s=$(now)
  nmap -sT -Pn -n -p4028,80,4433 --open 127.2.0.0/16 -oG - >"$WORK/nmap3.out" 2>&1 ||
    fail "nmap exited with status $? (its output is below)"
  e=$(now)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$WORK/nmap3.t"

  sed -n 's/^antmon scan: /# antmon scan: /p' "$WORK/scan.err"
done

step "printing the table"
a=$(median <"$WORK/antmon.t"); w=$(median <"$WORK/sweep.t"); n=$(median <"$WORK/nmap.t")
n3=$(median <"$WORK/nmap3.t")
printf '%-44s %8s %10s %8s\n' "1,000 miners in 127.2.0.0/16 (median of $RUNS)" found wall_s vs_nmap
printf '%-44s %8s %10.2f %8s\n' "nmap -sT -Pn -n -p4028 --open" "$open" "$n" "1.00x"
printf '%-44s %8s %10.2f %7.2fx\n' "nmap -sT on antmon's ports (4028,80,4433)" \
  "$(grep -c '4028/open' "$WORK/nmap3.out" || true)" "$n3" "$(awk -v a="$n3" -v b="$n" 'BEGIN { print a / b }')"
printf '%-44s %8s %10.2f %7.2fx\n' "antmon scan: sweep only" "$found" "$w" "$(awk -v a="$w" -v b="$n" 'BEGIN { print a / b }')"
printf '%-44s %8s %10.2f %7.2fx\n' "antmon scan: sweep + identify every miner" "$found" "$a" \
  "$(awk -v a="$a" -v b="$n" 'BEGIN { print a / b }')"
printf 'GOAL name=scan_16 value=%.2f unit=x goal=<=1.2 ref=%.2f ref_name=nmap_sT_s\n' \
  "$(awk -v a="$a" -v b="$n" 'BEGIN { print a / b }')" "$n"
# The same goal against nmap doing the same work (antmon's three ports):
# the shipped defaults connect three times per address where -p4028 does once.
printf 'GOAL name=scan_16_same_ports value=%.2f unit=x goal=<=1.2 ref=%.2f ref_name=nmap_sT_3ports_s\n' \
  "$(awk -v a="$a" -v b="$n3" 'BEGIN { print a / b }')" "$n3"
[ "$found" = 1000 ] && [ "$open" = 1000 ] ||
  fail "expected 1000 miners from both, antmon scan found $found and nmap $open (last run)"
EOS
