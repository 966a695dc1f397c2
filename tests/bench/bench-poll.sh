#!/usr/bin/env bash
# Polling benchmark: full passes over 1,000, 5,000 and 10,000 fake S19 Pros
# and S9s, through antmon's scheduler, drivers and transport
# (antmon-bench-poll), each size and model in a network namespace of its own
# (so port 4028 and the whole of 127.0.0.0/8 are ours and nothing leaves the
# machine).
#
#   [REPEAT=3] [PROFILES="antminer-s19pro antminer-s9"] \
#     tests/bench/bench-poll.sh BUILD_DIR [SIZES...]
#
# Each run of antmon-bench-poll makes two passes: "identify" (no driver
# known yet: fingerprint, then the driver's probe, as right after
# discovery) and "steady" (every miner polled again, with what the first
# pass learnt: every later interval). Each in two modes, side by side in
# the same namespace against the same fleet: "single" (--single: every
# command on its own connection and "version" on every poll, as antmon
# polled before; the reference) and "fewer" (version kept, cgminer's joined
# commands). Columns: wall time of the pass, CPU per poll in ms, cores used
# (CPU / wall), peak RSS of the polling process, the share of the pass the
# main loop was blocked (the summed lateness of a 10 ms timer), and the
# ratios of wall and CPU to the single mode's.
# Goals (issue 13, at 10,000 S19 Pros): steady CPU per poll <= 0.35 ms, a
# steady pass < 4 s, RSS < 80 MB, the identify pass < 6 s; printed as GOAL
# lines for `make bench`. The fake fleet runs on the same machine and uses
# CPU of its own. Any failure prints the step and the last lines of the logs
# (see lib.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BUILD=$(cd "${1:-build}" && pwd)
shift || true
SIZES=${*:-1000 5000 10000}
REPEAT=${REPEAT:-3} # runs per mode; the one with the median steady wall time is printed
PROFILES=${PROFILES:-antminer-s19pro antminer-s9}
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
for p in $PROFILES; do
  [ -d "$ROOT/tests/fakeminer/profiles/$p" ] || fail "no fake fleet profile '$p'"
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
  local n=$1 profile=$2
  unshare -rn bash -s "$HERE/lib.sh" "$FAKE" "$BENCH" "$BUILD/plugins" "$ROOT" "$n" "$REPEAT" "$work" \
    "$profile" <<'EOS'
set -euo pipefail
BENCH_NAME="bench-poll.sh (netns, $6 $9)"
. "$1"
FAKE=$2 BENCH=$3 PLUGINS=$4 ROOT=$5 N=$6 REPEAT=$7 WORK=$8 PROFILE=$9
step "bringing lo up"
ip link set lo up
step "starting the fake fleet ($N $PROFILE on 127.3.0.1, port 4028)"
out=$WORK/fleet-$PROFILE-$N.out
bench_log "fake fleet output" "$out"
: >"$out" # there before the grep below looks (the fake opens it later)
"$FAKE" --base 127.3.0.1 --count "$N" --port 4028 \
  --profile "$ROOT/tests/fakeminer/profiles/$PROFILE" >"$out" 2>&1 &
fleet=$!
bench_started "fake fleet" "$fleet"
until grep -q '^ready' "$out"; do
  bench_running "$fleet" || fail "the fake fleet exited before it was ready"
  sleep 0.1
done
export ANTMON_PLUGIN_DIR=$PLUGINS
# Each mode REPEAT times, alternating, so both see the same machine; the
# run with the median steady wall time is reported (this kind of machine
# shares its cores, and one run can be off by a third). Every run must
# succeed and print its lines: a failed run would otherwise leave a blank.
for mode in single fewer; do
  : >"$WORK/$mode-$N.runs"
  bench_log "antmon-bench-poll stderr ($mode)" "$WORK/$mode-$N.err"
done
for i in $(seq "$REPEAT"); do
  for mode in single fewer; do
    flag=
    [ "$mode" = single ] && flag=--single
    step "mode '$mode', run $i of $REPEAT: antmon-bench-poll --count $N $flag"
    "$BENCH" --base 127.3.0.1 --count "$N" $flag >"$WORK/$mode-$N.run" 2>"$WORK/$mode-$N.err" ||
      fail "antmon-bench-poll exited with status $? (its stderr is below)"
    grep -q '^pass=steady .*wall_s=' "$WORK/$mode-$N.run" || fail "antmon-bench-poll printed no steady pass"
    # One line per run: the steady wall time first (to sort on), then both passes.
    echo "$(sed -n 's/^pass=steady .*wall_s=\([^ ]*\).*/\1/p' "$WORK/$mode-$N.run") $(tr '\n' '\t' <"$WORK/$mode-$N.run")" \
      >>"$WORK/$mode-$N.runs"
  done
done
for mode in single fewer; do
  sort -n "$WORK/$mode-$N.runs" | sed -n "$(((REPEAT + 1) / 2))p" | cut -d' ' -f2- |
    tr '\t' '\n' | sed '/^$/d'
done
EOS
}

value() { # KEY LINE
  sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2"
}
ratio() { # A B: A/B to 2 places, or - when B is 0
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

fmt='%-7s %-16s %-8s %-7s %6s %6s %8s %11s %6s %8s %8s %11s %10s\n'
printf "$fmt" miners model pass mode ok failed wall_s cpu_ms/poll cores rss_mb blocked wall/single cpu/single
goals=()
for profile in $PROFILES; do
  for n in $SIZES; do
    step "$n $profile in a network namespace of their own"
    # Into a variable, not `done < <(run_size)`: a process substitution's
    # exit status is lost, and a failed size printed an empty row and went on.
    result=$(run_size "$n" "$profile")
    declare -A ref=()
    while read -r line; do
      pass=$(value pass "$line") mode=$(value mode "$line")
      wall=$(value wall_s "$line") cpu=$(value cpu_per_poll_ms "$line") rss=$(value peak_rss_mb "$line")
      if [ "$mode" = single ]; then
        ref[$pass.wall]=$wall ref[$pass.cpu]=$cpu ref[$pass.rss]=$rss
      fi
      printf "$fmt" "$n" "$profile" "$pass" "$mode" "$(value ok "$line")" "$(value failed "$line")" \
        "$wall" "$cpu" "$(value cores "$line")" "$rss" "$(value blocked_share "$line")" \
        "$(ratio "$wall" "${ref[$pass.wall]:-0}")" "$(ratio "$cpu" "${ref[$pass.cpu]:-0}")"
      # The goals are about S19 Pros at the largest size, polled the new way.
      if [ "$profile" = antminer-s19pro ] && [ "$n" = "$largest" ] && [ "$mode" = fewer ]; then
        r="ref_name=single-command-polls-same-run"
        if [ "$pass" = steady ]; then
          goals+=("GOAL name=poll_steady_cpu_per_s19_poll value=$cpu unit=ms goal=<=0.35 ref=${ref[steady.cpu]:--} $r")
          goals+=("GOAL name=poll_steady_pass_${n}_s19 value=$wall unit=s goal=<4 ref=${ref[steady.wall]:--} $r")
          goals+=("GOAL name=poll_rss_${n}_s19 value=$rss unit=MB goal=<80 ref=${ref[steady.rss]:--} $r")
        else
          goals+=("GOAL name=poll_identify_pass_${n}_s19 value=$wall unit=s goal=<6 ref=${ref[identify.wall]:--} $r")
        fi
      fi
    done <<<"$result"
    unset ref
  done
done
printf '%s\n' "${goals[@]}"
