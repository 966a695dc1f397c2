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
# Any failure prints the step and the last lines of the logs (see lib.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BUILD=$(cd "${1:-build}" && pwd)
shift || true
SIZES=${*:-1000 5000 10000}
REPEAT=${REPEAT:-3} # runs per pass; the median is printed
ROOT=$(cd "$HERE/../.." && pwd)
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
BENCH=$BUILD/tests/bench/antmon-bench-poll

# ---- setup, checked before anything starts --------------------------------------
step "checking the setup"
need_exe "$FAKE" "$BENCH"
need_tools unshare:util-linux ip:iproute2
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  fail "needs root or unprivileged user namespaces (for its own netns)"
fi
largest=0
for n in $SIZES; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || fail "size '$n' is not a number of miners"
  [ "$n" -gt "$largest" ] && largest=$n
done
# The fake holds a listener per miner and one fd per poll in flight; the
# poller its 256 in flight (--max-inflight's default). The namespaces inherit
# this limit. No port check: each size gets a fresh namespace, where 4028 on
# 127.3.x.y is free by construction.
need_fds $((largest + 256 + 64)) "the largest size's $largest listeners plus 256 polls in flight"

work=$(mktemp -d)
bench_rm_at_exit "$work"

# One size, inside a fresh network namespace: fleet up, two passes, fleet
# down. The script sources lib.sh too, so a failure inside says where and
# shows the fleet's and the poller's output.
run_size() {
  local n=$1
  unshare -rn bash -s "$HERE/lib.sh" "$FAKE" "$BENCH" "$BUILD/plugins" "$ROOT" "$n" "$REPEAT" "$work" <<'EOS'
set -euo pipefail
BENCH_NAME="bench-poll.sh (netns, $6 miners)"
. "$1"
FAKE=$2 BENCH=$3 PLUGINS=$4 ROOT=$5 N=$6 REPEAT=$7 WORK=$8
step "bringing lo up"
ip link set lo up
step "starting the fake fleet ($N S9s on 127.3.0.1, port 4028)"
out=$WORK/fleet-$N.out
bench_log "fake fleet output" "$out"
: >"$out" # there before the grep below looks (the fake opens it later)
"$FAKE" --base 127.3.0.1 --count "$N" --port 4028 \
  --profile "$ROOT/tests/fakeminer/profiles/antminer-s9" >"$out" 2>&1 &
fleet=$!
bench_started "fake fleet" "$fleet"
until grep -q '^ready' "$out"; do
  bench_running "$fleet" || fail "the fake fleet exited before it was ready"
  sleep 0.1
done
export ANTMON_PLUGIN_DIR=$PLUGINS
# Each pass REPEAT times, the run with the median wall time reported: this
# kind of machine shares its cores, and one run can be off by a third. Every
# run must succeed and print its line: a failed run would otherwise just
# leave a blank in the table.
median() {
  local pass=$1 i
  shift
  : >"$WORK/$pass-$N.runs"
  bench_log "antmon-bench-poll stderr ($pass)" "$WORK/$pass-$N.err"
  for i in $(seq "$REPEAT"); do
    step "pass '$pass', run $i of $REPEAT: antmon-bench-poll --count $N${*:+ $*}"
    "$BENCH" --base 127.3.0.1 --count "$N" "$@" >>"$WORK/$pass-$N.runs" 2>"$WORK/$pass-$N.err" ||
      fail "antmon-bench-poll exited with status $? (its stderr is below)"
  done
  grep -q 'wall_s=' "$WORK/$pass-$N.runs" || fail "antmon-bench-poll printed no wall_s= line"
  line=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^wall_s=/) { split($i, kv, "="); print kv[2], $0 } }' \
    "$WORK/$pass-$N.runs" |
    sort -n | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { $1 = ""; print substr($0, 2) }')
  echo "$pass $line"
}
# Called directly, not in $( ): step and bench_log must reach the report.
median identify
median steady --pin antminer
EOS
}

value() { # KEY LINE
  sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"
}

printf '%-8s %-9s %8s %8s %10s %14s %6s %12s\n' miners pass ok failed wall_s cpu_s/1000 cores peak_rss_mb
for n in $SIZES; do
  step "$n miners in a network namespace of their own"
  # Into a variable, not `done < <(run_size)`: a process substitution's
  # exit status is lost, and a failed size printed an empty row and went on.
  result=$(run_size "$n")
  while read -r pass line; do
    printf '%-8s %-9s %8s %8s %10s %14s %6s %12s\n' "$n" "$pass" "$(value ok "$line")" \
      "$(value failed "$line")" "$(value wall_s "$line")" "$(value cpu_per_1000_s "$line")" \
      "$(value cores "$line")" "$(value peak_rss_mb "$line")"
  done <<<"$result"
done
