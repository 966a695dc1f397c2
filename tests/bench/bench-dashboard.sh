#!/usr/bin/env bash
# The dashboard's first load at farm scale: one fake fleet of MINERS S19
# Pros, and two daemons polling it one after the other: one configured
# with the first REF_MINERS of them (the reference), then one with all.
# Once a daemon has polled every miner once, measure-dashboard.sh times the
# first load of its dashboard; then it is stopped (two at once made the
# fleet too slow to answer on a busy machine). Prints both, the ratio, and
#   GOAL name=dashboard_first_load_10k value=<ms> unit=ms goal=<1500 ref=<ms> ref_name=first_load_1000
#
# usage: tests/bench/bench-dashboard.sh [BUILD_DIR]
# Environment: MINERS (default 10000), REF_MINERS (default 1000), RUNS
# (loads per daemon, median taken; default 3); PLUGIN_DIR (default
# BUILD/plugins: another build's plugins, to time an older dashboard).
#
# Everything is on loopback: the fleet on 127.92.N.x (random N, random
# free high port: the machine may be shared); only the processes started
# here are stopped, by PID (lib.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
miners=${MINERS:-10000}
ref_miners=${REF_MINERS:-1000}
antmon="$build/core/antmon"
fake="$build/tests/fakeminer/antmon-fakeminer"

step "checking the setup"
need_exe "$antmon" "$fake"
need_tools curl jq python3
[ "$ref_miners" -le "$miners" ] || fail "REF_MINERS=$ref_miners is more than MINERS=$miners"
# A listener per fake miner, the daemon's polls in flight, the browser.
need_fds $((miners + 256 + 128)) "$miners fake miners' listeners, the daemon's polls, Chromium"
span=$(((miners + 253) / 254)) # the fake fills .1-.254 of each /24
[ "$span" -le 200 ] || fail "MINERS=$miners does not fit in 127.92.20.1-127.92.255.254"

work=$(mktemp -d)
bench_rm_at_exit "$work"

octet=$((RANDOM % (236 - span) + 20))
port=$(free_port 20000 49999)
step "starting the fake fleet ($miners S19 Pros from 127.92.$octet.1, port $port)"
bench_log "fake fleet output" "$work/fake.out"
"$fake" --base "127.92.$octet.1" --count "$miners" --port "$port" \
  --profile "$root/tests/fakeminer/profiles/antminer-s19pro" >"$work/fake.out" 2>&1 &
fake_pid=$!
bench_started "fake fleet" "$fake_pid"
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/fake.out" && break
  bench_running "$fake_pid" || fail "the fake fleet exited before it was ready"
  sleep 0.1
done
grep -q '^ready' "$work/fake.out" || fail "the fake fleet was not ready within 30 s"

# Starts a daemon polling the first N miners of the fleet; sets daemon_url
# and daemon_pid once every miner answered once.
start_daemon() {
  local n=$1 dir="$work/antmon-$1" url= answering=0
  mkdir -p "$dir"
  python3 - "$octet" "$port" "$n" "$dir/var" >"$dir/antmon.ini" <<'EOF'
import sys
octet, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print("[core]\nstate_dir=%s\ninterval=30s\npoll_timeout=5s\nmax_inflight=256" % sys.argv[4])
print("[http:api]\nlisten=127.0.0.1:0")
for i in range(n):
    print("[miner:m%05d]\nhost=127.92.%d.%d:%d" % (i + 1, octet + i // 254, i % 254 + 1, port))
EOF
  step "starting antmon with $n miners"
  bench_log "antmon ($n miners) log" "$dir/antmon.log"
  ANTMON_PLUGIN_DIR="${PLUGIN_DIR:-$build/plugins}" "$antmon" run -c "$dir/antmon.ini" \
    2>"$dir/antmon.log" &
  daemon_pid=$!
  bench_started "antmon ($n miners)" "$daemon_pid"
  for _ in $(seq 1 100); do
    url=$(sed -n 's/.*HTTP API listening on \(http:[^ ]*\).*/\1/p' "$dir/antmon.log" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || fail "antmon ($n miners) did not log 'HTTP API listening on' within 10 s"
  step "waiting until antmon has polled all $n miners once"
  for _ in $(seq 1 1500); do # about 5 min: a busy machine polls slowly
    answering=$(curl -sS --fail --max-time 5 "${url}api/summary" 2>/dev/null |
      jq -r '(.miners.online // 0) + (.miners.degraded // 0)' 2>/dev/null) || answering=0
    [ "$answering" -ge "$n" ] && break
    sleep 0.2
  done
  [ "$answering" -ge "$n" ] || fail "only $answering of $n miners answered within 5 min"
  daemon_url=$url
}

stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || fail "antmon (pid $daemon_pid) stopped with status $?"
  bench_forget "$daemon_pid"
}

# Sets VAR to the first load in ms of the dashboard at URL.
first_load() {
  local var=$1 url=$2 out ms
  step "measuring the dashboard's first load at $url"
  out=$(BUILD_DIR="$build" "$here/measure-dashboard.sh" "$url") ||
    fail "measure-dashboard.sh $url failed (its error is above)"
  echo "$out" | sed "s/^/  $var: /" >&2
  ms=$(sed -n 's/^first_load_ms=//p' <<<"$out")
  [[ $ms =~ ^[0-9]+$ ]] || fail "measure-dashboard.sh printed no first_load_ms: $out"
  printf -v "$var" '%s' "$ms"
}

daemon_url='' daemon_pid='' ref_ms='' big_ms='' # set by start_daemon and first_load
start_daemon "$ref_miners"
first_load ref_ms "$daemon_url"
stop_daemon
start_daemon "$miners"
first_load big_ms "$daemon_url"
stop_daemon

echo "dashboard first load (headless Chromium, median of ${RUNS:-3}, one fleet, one daemon at a time)"
printf '| %-10s | %10s |\n' miners "first load" "----------" "----------" \
  "$ref_miners" "$ref_ms ms" "$miners" "$big_ms ms"
awk -v r="$ref_ms" -v b="$big_ms" -v n="$miners" -v rn="$ref_miners" 'BEGIN {
  printf "ratio %d / %d miners: %.2f\n", n, rn, (r > 0) ? b / r : 0 }'
echo "GOAL name=dashboard_first_load_10k value=$big_ms unit=ms goal=<1500 ref=$ref_ms ref_name=first_load_$ref_miners"
