#!/usr/bin/env bash
# Farm scale: the real daemon (antmon run: SQLite store, HTTP API, the
# antminer driver) polling 10,000 fake S19 Pros every 30 s, and its HTTP
# API timed while it polls. Everything runs in a network namespace of its
# own (unshare -rn), where the fleet fills 127.3.0.1 onwards on port 4028.
#
#   [MINERS=10000] tests/bench/bench-scale.sh [BUILD_DIR]
#
# Once the first pass is in:
#   1. one pass with no HTTP load: its wall time is the reference;
#   2. the next pass with the load: GET /api/summary paced at 1,000 per
#      second (paced-get.py: open loop, latency from each request's
#      scheduled time) while /metrics and /api/miners?view=brief are each
#      fetched every 5 s (a scrape, a dashboard refresh) and timed with curl;
#   A probe, GET /-/healthy 50 times a second (nothing to compute), times
#   how long a request waits for the main loop, with and without the load:
#   a poll's reply waits the same. The pass wall time comes from the health
#   report (first poll to last answer); the scheduler spreads polls over the
#   interval (jitter), so it stays near 30 s unless polls fall behind.
#   3. the dashboard's first load (tests/bench/measure-dashboard.sh, when
#      present).
# The first /metrics and /api/miners of the run render every miner (the
# cache is empty): their times are the references of the later ones.
#
# Prints a table, then one line per goal for `make bench`:
#   GOAL name=ID value=N unit=U goal=<N ref=N|- ref_name=WHAT
# Takes about 2.5 minutes at 10,000 miners. The fake fleet shares the
# machine. Any failure prints the step and the last lines of the logs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BUILD=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MINERS=${MINERS:-10000}
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
ANTMON=$BUILD/core/antmon

step "checking the setup"
need_exe "$FAKE" "$ANTMON"
need_tools unshare:util-linux ip:iproute2 curl jq
[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 is missing (the paced load is a python script)"
[[ $MINERS =~ ^[1-9][0-9]*$ ]] || fail "MINERS=$MINERS is not a number of miners"
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  fail "needs root or unprivileged user namespaces (for its own netns)"
fi
# The fake: a listener per miner and a socket per poll in flight; the
# daemon: 256 polls in flight, SQLite, the HTTP clients.
need_fds $((MINERS + 512)) "$MINERS fake miners' listeners, 256 polls in flight, HTTP clients"

work=$(mktemp -d)
bench_rm_at_exit "$work"

unshare -rn bash -s "$HERE" "$BUILD" "$ROOT" "$MINERS" "$work" <<'EOS'
set -euo pipefail
HERE=$1 BUILD=$2 ROOT=$3 N=$4 WORK=$5
BENCH_NAME="bench-scale.sh (netns, $N miners)"
. "$HERE/lib.sh"
FAKE=$BUILD/tests/fakeminer/antmon-fakeminer
ANTMON=$BUILD/core/antmon

step "bringing lo up"
ip link set lo up

step "starting the fake fleet ($N S19 Pros on 127.3.0.1, port 4028)"
bench_log "fake fleet" "$WORK/fake.out"
"$FAKE" --base 127.3.0.1 --count "$N" --port 4028 \
  --profile "$ROOT/tests/fakeminer/profiles/antminer-s19pro" >"$WORK/fake.out" 2>&1 &
fake_pid=$!
bench_started "fake fleet" "$fake_pid"
for _ in $(seq 1 300); do
  grep -q '^ready' "$WORK/fake.out" && break
  bench_running "$fake_pid" || fail "the fake fleet exited before it was ready"
  sleep 0.1
done
grep -q '^ready' "$WORK/fake.out" || fail "the fake fleet was not ready within 30 s"

step "writing antmon.ini"
/usr/bin/python3 - "$N" >"$WORK/miners.ini" <<'EOF'
import sys
addr = [127, 3, 0, 1]
for i in range(int(sys.argv[1])):
    print("[miner:m%05d]\nhost=%d.%d.%d.%d:4028" % (i + 1, *addr))
    addr[3] += 1
    if addr[3] == 255:
        addr[2], addr[3] = addr[2] + 1, 1
EOF
cat >"$WORK/antmon.ini" <<EOF
[core]
state_dir=$WORK/var
interval=30s
poll_timeout=5s
max_inflight=256
[http:api]
listen=127.0.0.1:0
[store:sqlite]
path=antmon.db
$(cat "$WORK/miners.ini")
EOF

step "starting antmon"
bench_log "antmon log" "$WORK/antmon.log"
ANTMON_PLUGIN_DIR="$BUILD/plugins" "$ANTMON" run -c "$WORK/antmon.ini" 2>"$WORK/antmon.log" &
antmon_pid=$!
bench_started antmon "$antmon_pid"
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/.*HTTP API listening on \(http:[^ ]*\).*/\1/p' "$WORK/antmon.log")
  url=${url%%$'\n'*}
  [ -n "$url" ] && break
  bench_running "$antmon_pid" || fail "antmon exited before its HTTP API was listening"
  sleep 0.1
done
[ -n "$url" ] || fail "antmon did not log 'HTTP API listening on' within 30 s"
hostport=${url#http://}
hostport=${hostport%/}

# The health report's last completed pass, as "DURATION_MS SUCCEEDED
# {the whole object}" (the object tells one pass from the next), or "-".
last_pass() {
  curl -sS --fail --max-time 10 "${url}api/health" |
    jq -c -r '.poll.last_pass // empty | "\(.duration_ms) \(.succeeded) \(tojson)"' 2>/dev/null |
    grep . || echo -
}

# Waits until the health report shows a pass other than BEFORE; sets PASS.
wait_next_pass() {
  local before=$1 now
  for _ in $(seq 1 200); do
    bench_running "$antmon_pid" || fail "antmon exited"
    now=$(last_pass)
    if [ "$now" != "$before" ] && [ "$now" != - ]; then
      PASS=$now
      return 0
    fi
    sleep 0.5
  done
  fail "no poll pass completed within 100 s (last: $before)"
}

# The first pass is in when the health report shows one completed pass
# (every miner tried once) and most miners answer; on a machine busy with
# other work some polls time out, and are retried at the back-off's pace.
step "waiting for the first pass (GET ${url}api/health)"
answering=0
for _ in $(seq 1 600); do
  bench_running "$antmon_pid" || fail "antmon exited during its first polling pass"
  answering=$(curl -sS --max-time 10 "${url}api/health" 2>/dev/null |
    jq -r 'if .poll.last_pass then (.poll.online // 0) + (.poll.degraded // 0) else 0 end' \
      2>/dev/null || echo 0)
  [ $((answering * 10)) -ge $((N * 9)) ] && break
  sleep 0.5
done
[ $((answering * 10)) -ge $((N * 9)) ] ||
  fail "only $answering of $N miners answered after a whole pass, within 5 min"

# One GET as "WALL_MS SIZE HANDLER_MS CPU_MS": curl's total time and the
# size; then from the reply's Server-Timing header how long the request's
# handler held the main loop (wall) and the loop's CPU time in it, which the
# machine's other work does not inflate. Polls wait for the handler; the
# reply is written out afterwards, a piece at a time between them.
timed_get() {
  curl -sS --fail --max-time 60 -o /dev/null \
    -w '%{time_total} %{size_download} %header{server-timing}\n' "${url}$1" |
    sed 's/handler;dur=//; s/, cpu;dur=/ /' |
    awk '{ printf "%.1f %d %s %s\n", $1 * 1000, $2, $3, $4 }'
}

# The cold figures: nothing cached yet, every miner rendered now.
step "the first GET /metrics and /api/miners?view=brief (nothing cached yet)"
read -r metrics_cold_ms metrics_bytes metrics_cold_hold metrics_cold_cpu < <(timed_get metrics)
read -r brief_cold_ms _ brief_cold_hold brief_cold_cpu < <(timed_get "api/miners?view=brief")

# paced-get.py's summary line as "SENT OK ERRORS RATE P50 P99 MAX".
paced_fields() {
  tr '=' ' ' <"$1" | awk '{ print $2, $4, $6, $8, $10, $12, $14 }'
}

step "the reference pass: no HTTP load but a probe of the main loop"
PASS=$(last_pass)
wait_next_pass "$PASS" # the pass in progress (the first, or one the cold GETs ran in)
before=$PASS
# /-/healthy costs nothing to answer: its latency is the time a request (or a
# poll's reply) waits for the main loop.
/usr/bin/python3 "$HERE/paced-get.py" "${hostport%:*}" "${hostport##*:}" /-/healthy 50 10 2 \
  >"$WORK/probe-idle.out" 2>&1 || fail "paced-get.py /-/healthy failed: $(cat "$WORK/probe-idle.out")"
wait_next_pass "$before" # a whole pass without load
idle_pass=$PASS
read -r _ _ _ _ _ probe_idle_p99 _ < <(paced_fields "$WORK/probe-idle.out")

step "the loaded pass: /api/summary at 1,000/s; /metrics and /api/miners?view=brief every 2.5 s"
before=$PASS
paced() { # NAME PATH RATE CONNS: 20 s in the background
  /usr/bin/python3 "$HERE/paced-get.py" "${hostport%:*}" "${hostport##*:}" "$2" "$3" 20 "$4" \
    >"$WORK/$1.out" 2>"$WORK/$1.err" &
  bench_started "paced $2" $!
  bench_log "paced $2" "$WORK/$1.err"
}
paced summary /api/summary 1000 32
summary_pid=$!
paced probe /-/healthy 50 2
probe_pid=$!
: >"$WORK/metrics.times"
: >"$WORK/brief.times"
end=$((SECONDS + 20))
while [ "$SECONDS" -lt "$end" ]; do
  timed_get metrics >>"$WORK/metrics.times"
  sleep 1.25
  timed_get "api/miners?view=brief" >>"$WORK/brief.times"
  sleep 1.25
done
for pid in "$summary_pid" "$probe_pid"; do
  wait "$pid" || fail "paced-get.py failed (its output is above)"
  bench_forget "$pid"
done
wait_next_pass "$before"
loaded_pass=$PASS
idle_pass_ms=${idle_pass%% *} loaded_pass_ms=${loaded_pass%% *}
idle_ok=$(cut -d' ' -f2 <<<"$idle_pass") loaded_ok=$(cut -d' ' -f2 <<<"$loaded_pass")
read -r sent ok errors rate p50 p99 _ < <(paced_fields "$WORK/summary.out")
read -r _ _ _ _ _ probe_p99 _ < <(paced_fields "$WORK/probe.out")
[ "$errors" = 0 ] || echo "$BENCH_NAME: warning: $errors of $sent paced requests failed" >&2

median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}
metrics_ms=$(cut -d' ' -f1 "$WORK/metrics.times" | median)
metrics_max=$(cut -d' ' -f1 "$WORK/metrics.times" | sort -n | tail -n 1)
brief_ms=$(cut -d' ' -f1 "$WORK/brief.times" | median)
brief_max=$(cut -d' ' -f1 "$WORK/brief.times" | sort -n | tail -n 1)
metrics_hold=$(cut -d' ' -f3 "$WORK/metrics.times" | median)
metrics_cpu=$(cut -d' ' -f4 "$WORK/metrics.times" | median)
brief_hold=$(cut -d' ' -f3 "$WORK/brief.times" | median)
brief_cpu=$(cut -d' ' -f4 "$WORK/brief.times" | median)
per_miner=$((metrics_bytes / N))
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$antmon_pid/status")

dash_ms=-
if [ -x "$HERE/measure-dashboard.sh" ]; then
  step "the dashboard's first load (measure-dashboard.sh)"
  dash_ms=$(BUILD_DIR=$BUILD "$HERE/measure-dashboard.sh" "$url" | sed -n 's/^first_load_ms=//p')
  dash_ms=${dash_ms:--}
fi

printf '%s miners polled every 30 s (store, HTTP API, antminer driver), %s answering at the start; antmon RSS %d MB\n' "$N" "$answering" $((rss_kb / 1024))
printf '%-44s %12s %12s\n' "measure" "value" "reference"
printf '%-44s %9s ms %9s ms  (first GET, nothing cached)\n' "GET /metrics, median during a pass" "$metrics_ms" "$metrics_cold_ms"
printf '%-44s %9s ms\n' "GET /metrics, slowest" "$metrics_max"
printf '%-44s %9s ms %9s ms  (first GET)\n' "  main loop held (handler), median" "$metrics_hold" "$metrics_cold_hold"
printf '%-44s %9s ms %9s ms  (first GET)\n' "  main loop's CPU in the handler, median" "$metrics_cpu" "$metrics_cold_cpu"
printf '%-44s %9s B  %9s B   (%d B per miner)\n' "/metrics size" "$metrics_bytes" - "$per_miner"
printf '%-44s %9s ms %9s ms  (first GET, nothing cached)\n' "GET /api/miners?view=brief, median" "$brief_ms" "$brief_cold_ms"
printf '%-44s %9s ms\n' "GET /api/miners?view=brief, slowest" "$brief_max"
printf '%-44s %9s ms %9s ms  (first GET)\n' "  main loop held (handler), median" "$brief_hold" "$brief_cold_hold"
printf '%-44s %9s ms %9s ms  (first GET)\n' "  main loop's CPU in the handler, median" "$brief_cpu" "$brief_cold_cpu"
printf '%-44s %9s ms %9s ms  (p50; %s sent, %s/s achieved)\n' "GET /api/summary p99 at 1,000/s" "$p99" "$p50" "$sent" "$rate"
printf '%-44s %9s ms %9s ms  (idle, no HTTP load)\n' "main loop wait: /-/healthy p99 at 50/s" "$probe_p99" "$probe_idle_p99"
printf '%-44s %9s ms %9s ms  (the pass before, no HTTP load)\n' "poll pass wall time under that HTTP load" "$loaded_pass_ms" "$idle_pass_ms"
printf '%-44s %9s    %9s     (the pass before)\n' "polls answered in that pass" "$loaded_ok" "$idle_ok"
printf '%-44s %9s ms\n' "dashboard first load" "$dash_ms"
echo "GOAL name=scale_metrics_ms value=$metrics_ms unit=ms goal=<100 ref=$metrics_cold_ms ref_name=first_scrape_nothing_cached_ms"
echo "GOAL name=scale_metrics_loop_cpu_ms value=$metrics_cpu unit=ms goal=<100 ref=$metrics_cold_cpu ref_name=first_scrape_nothing_cached_ms"
echo "GOAL name=scale_miners_brief_loop_cpu_ms value=$brief_cpu unit=ms goal=<30 ref=$brief_cold_cpu ref_name=first_request_nothing_cached_ms"
echo "GOAL name=scale_metrics_bytes_per_miner value=$per_miner unit=bytes goal=<2048 ref=- ref_name=-"
echo "GOAL name=scale_miners_brief_ms value=$brief_ms unit=ms goal=<30 ref=$brief_cold_ms ref_name=first_request_nothing_cached_ms"
echo "GOAL name=scale_summary_p99_ms value=$p99 unit=ms goal=<5 ref=$p50 ref_name=p50_ms_same_run"
echo "GOAL name=scale_main_loop_wait_p99_ms value=$probe_p99 unit=ms goal=<10 ref=$probe_idle_p99 ref_name=same_probe_without_http_load_ms"
echo "GOAL name=scale_pass_under_http_load_ms value=$loaded_pass_ms unit=ms goal=<=ref ref=$idle_pass_ms ref_name=pass_without_http_load_ms"
echo "GOAL name=scale_dashboard_first_load_ms value=$dash_ms unit=ms goal=<1500 ref=- ref_name=-"
EOS
