#!/usr/bin/env bash
# The HTTP API under load while the agent polls: wrk against /api/summary,
# /api/miners (1,000 miners) and /api/metrics (one miner, 24 h window), and
# the dashboard's first load in headless Chromium. Prints a table.
#
# usage: tests/bench/bench-http.sh [BUILD_DIR]
# Environment: MINERS (default 1000), DURATION (seconds per wrk run, 10).
#
# Goals (issue 6), each printed as a GOAL line for run-all.sh's table:
# p99 under 10 ms for /api/summary at 1,000 requests per second
# (http_summary_p99_ms), and the dashboard showing 1,000 miners within 1 s
# of navigation (http_dashboard_first_load_ms). With another MINERS the
# lines are printed all the same, named for the size.
#
# The fleet is MINERS fake S19 Pros on 127.91.N.x (random N and high port:
# the machine may be shared), polled every 10 s and stored in SQLite.
# Everything runs on loopback; only the processes started here are
# stopped, by their PIDs. Any failure prints the step, the command and the
# last lines of the daemon's and the fleet's logs (see lib.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
miners=${MINERS:-1000}
duration=${DURATION:-10}
antmon="$build/core/antmon"
fake="$build/tests/fakeminer/antmon-fakeminer"
playwright_dir="$build/node-playwright"

# ---- setup: everything this run needs, checked before anything starts -------
step "checking the setup"
need_exe "$antmon" "$fake"
need_tools wrk curl jq python3 node:nodejs npm
[ -x /usr/bin/chromium ] ||
  fail "/usr/bin/chromium is missing (the dashboard part drives it): apt-get install chromium, or make deps-test"
# The fake holds a listener per miner plus one fd per poll in flight (antmon
# polls 256 at once: max_inflight below); the daemon those 256, SQLite and
# the HTTP clients (wrk, Chromium). Both inherit this shell's limit.
need_fds $((miners + 256 + 64)) "$miners fake miners' listeners, 256 polls in flight, HTTP clients"
# The fleet fills 127.91.N.1 onwards, 254 addresses per N (.0, .255 skipped).
span=$(((miners + 253) / 254))
octet_max=$((256 - span < 219 ? 256 - span : 219))
[ "$octet_max" -ge 20 ] || fail "MINERS=$miners does not fit in 127.91.20.1-127.91.255.254"

work=$(mktemp -d)
bench_rm_at_exit "$work"

# playwright-core comes from npm into the build directory on first use: done
# now, so that a registry problem stops the run before the measurements.
if [ ! -f "$playwright_dir/node_modules/playwright-core/package.json" ]; then
  step "installing playwright-core@1.65.1 into $playwright_dir (npm)"
  npm install --prefix "$playwright_dir" --no-save --no-audit --no-fund --loglevel=error \
    playwright-core@1.65.1 >&2 || fail "npm could not install playwright-core@1.65.1 (its error is above)"
fi

# ---- the fleet ----------------------------------------------------------------
# A random 127.91.N.x block and a random free high port, picked again should
# the fake still find its port taken (bound by someone after the check).
bench_log "fake fleet output" "$work/fake.out"
for attempt in 1 2 3; do
  octet=$((RANDOM % (octet_max - 20 + 1) + 20))
  port=$(free_port 20000 49999)
  step "starting the fake fleet ($miners S19 Pros from 127.91.$octet.1, port $port)"
  : >"$work/fake.out" # there before the grep below looks (the fake opens it later)
  "$fake" --base "127.91.$octet.1" --count "$miners" --port "$port" \
    --profile "$root/tests/fakeminer/profiles/antminer-s19pro" >"$work/fake.out" 2>&1 &
  fake_pid=$!
  bench_started "fake fleet" "$fake_pid"
  for _ in $(seq 1 100); do
    grep -q '^ready' "$work/fake.out" && break
    bench_running "$fake_pid" || break
    sleep 0.1
  done
  grep -q '^ready' "$work/fake.out" && break
  bench_running "$fake_pid" && fail "the fake fleet was not ready within 10 s"
  fake_status=0
  wait "$fake_pid" || fake_status=$?
  bench_forget "$fake_pid"
  if [ "$attempt" -lt 3 ] && grep -qi 'in use' "$work/fake.out"; then
    echo "$BENCH_NAME: picking another port: $(tail -n 1 "$work/fake.out")" >&2
    continue
  fi
  fail "the fake fleet exited with status $fake_status before it was ready"
done

# The fleet's addresses, as the fake lays them out (.0 and .255 skipped).
step "writing antmon's configuration"
python3 - "$octet" "$port" "$miners" >"$work/miners.ini" <<'EOF'
import sys
octet, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
addr = [127, 91, octet, 1]
for i in range(n):
    print("[miner:m%04d]\nhost=%d.%d.%d.%d:%d" % (i + 1, *addr, port))
    addr[3] += 1
    if addr[3] == 255:
        addr[2], addr[3] = addr[2] + 1, 1
EOF
# Not `sed ... | head -n 1`: under pipefail, head exiting first kills sed
# with SIGPIPE, and `set -e` ended the script without a word (about one run
# in five at 1,000 miners).
first_host=$(awk -F= '/^host=/ { print $2; exit }' "$work/miners.ini")

cat >"$work/antmon.ini" <<EOF
[core]
state_dir=$work/var
interval=10s
poll_timeout=5s
max_inflight=256
[http:api]
listen=127.0.0.1:0
[store:sqlite]
path=antmon.db
$(cat "$work/miners.ini")
EOF

step "starting antmon"
bench_log "antmon log" "$work/antmon.log"
ANTMON_PLUGIN_DIR="$build/plugins" "$antmon" run -c "$work/antmon.ini" 2>"$work/antmon.log" &
antmon_pid=$!
bench_started antmon "$antmon_pid"
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/.*HTTP API listening on \(http:[^ ]*\).*/\1/p' "$work/antmon.log")
  url=${url%%$'\n'*} # the first one
  [ -n "$url" ] && break
  bench_running "$antmon_pid" || fail "antmon exited before its HTTP API was listening"
  sleep 0.1
done
[ -n "$url" ] || fail "antmon did not log 'HTTP API listening on' within 10 s"

# Every miner polled once before measuring. A failed request is retried (the
# daemon is busy with its first pass); its error is kept for the report.
step "waiting until all $miners miners are polled once (GET ${url}api/summary)"
answering=0
last_error=
for _ in $(seq 1 600); do
  bench_running "$antmon_pid" || fail "antmon exited during its first polling pass"
  if summary=$(curl -sS --fail --max-time 5 "${url}api/summary" 2>&1); then
    answering=$(jq -r '(.miners.online // 0) + (.miners.degraded // 0)' <<<"$summary") ||
      fail "GET /api/summary did not return the JSON expected: ${summary:0:300}"
    [ "$answering" -ge "$miners" ] && break
  else
    last_error=$summary
  fi
  sleep 0.2
done
[ "$answering" -ge "$miners" ] ||
  fail "only $answering of $miners miners answered within 2 min${last_error:+ (last failed GET /api/summary: $last_error)}"

# ---- wrk ------------------------------------------------------------------------
# One connection waits 10 ms between requests, so 10 connections offer at
# most 1,000 requests per second: the latency of a server at that load, not
# of one driven flat out.
cat >"$work/paced.lua" <<'EOF'
function delay()
  return 10
end
EOF

# Sets VAR to "REQ_PER_S P99_MS" from wrk's --latency output. Not called in
# $( ): fail() must reach the report (a subshell's exit reaches nobody).
wrk_run() {
  local var=$1 out result status=0
  shift
  out=$(wrk "$@" --latency "--timeout=5s" 2>&1) || status=$?
  if [ "$status" -ne 0 ]; then
    printf '%s\n' "$out" >&2
    fail "wrk $* exited with status $status (its output is above)"
  fi
  printf '%s\n' "$out" >>"$work/wrk.log"
  # Error replies would be timed as if they were answers.
  if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
    printf '%s\n' "$out" >&2
    fail "wrk $*: some replies were HTTP errors (wrk's output is above)"
  fi
  # Connect errors and timeouts leave the latencies of the rest: worth a
  # warning, not a failed run.
  if grep -q 'Socket errors' <<<"$out"; then
    echo "$BENCH_NAME: warning: wrk $*: $(grep 'Socket errors' <<<"$out" | sed 's/^ *//')" >&2
  fi
  result=$(awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      ms = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { if (rps == "" || ms == "") exit 1; printf "%.0f %.2f\n", rps, ms }' <<<"$out") || {
    printf '%s\n' "$out" >&2
    fail "wrk $*: no Requests/sec or 99% line in its output (above)"
  }
  printf -v "$var" '%s' "$result"
}

summary_paced='' summary_max='' miners_max='' brief_max='' metrics_max='' # set by wrk_run
since=$(($(date +%s) - 86400))
step "wrk: GET /api/summary, 10 connections paced"
wrk_run summary_paced -t2 -c10 -d"${duration}s" -s "$work/paced.lua" "${url}api/summary"
step "wrk: GET /api/summary, flat out"
wrk_run summary_max -t2 -c8 -d"${duration}s" "${url}api/summary"
step "wrk: GET /api/miners, flat out"
wrk_run miners_max -t2 -c8 -d"${duration}s" "${url}api/miners"
step "wrk: GET /api/miners?view=brief, flat out"
wrk_run brief_max -t2 -c8 -d"${duration}s" "${url}api/miners?view=brief"
metrics_path="api/metrics?ip=$first_host&since=$since"
step "GET /$metrics_path once (rows returned)"
metrics_json=$(curl -sS --fail --max-time 10 "${url}${metrics_path}") ||
  fail "GET /$metrics_path failed (curl's error is above)"
metrics_rows=$(jq '.rows | length' <<<"$metrics_json") ||
  fail "GET /$metrics_path did not return .rows: ${metrics_json:0:300}"
step "wrk: GET /api/metrics (1 miner, 24 h), flat out"
wrk_run metrics_max -t2 -c8 -d"${duration}s" "${url}${metrics_path}"

# ---- the dashboard's first load ---------------------------------------------------
step "the dashboard's first load (measure-dashboard.sh: playwright-core, /usr/bin/chromium)"
dashboard_out=$(PLAYWRIGHT_DIR="$playwright_dir" "$here/measure-dashboard.sh" "$url") ||
  fail "the dashboard measurement failed (its error is above)"
dashboard_ms=$(sed -n 's/^first_load_ms=//p' <<<"$dashboard_out")
[[ $dashboard_ms =~ ^[0-9]+$ ]] || fail "the dashboard measurement printed '$dashboard_ms', not a number of ms"

# ---- the table ------------------------------------------------------------------------
step "printing the table"
row() { printf '| %-34s | %-28s | %10s | %9s |\n' "$@"; }
split() { echo "$1" | awk "{print \$$2}"; }
echo "HTTP API with $miners miners polled every 10 s (loopback, $(nproc) cores, wrk ${duration} s each)"
row "request" "load" "req/s" "p99 ms"
row "----------------------------------" "----------------------------" "----------" "---------"
row "GET /api/summary" "10 conns, paced <=1,000/s" "$(split "$summary_paced" 1)" "$(split "$summary_paced" 2)"
row "GET /api/summary" "8 conns, flat out" "$(split "$summary_max" 1)" "$(split "$summary_max" 2)"
row "GET /api/miners ($miners miners)" "8 conns, flat out" "$(split "$miners_max" 1)" "$(split "$miners_max" 2)"
row "GET /api/miners?view=brief" "8 conns, flat out" "$(split "$brief_max" 1)" "$(split "$brief_max" 2)"
row "GET /api/metrics (1 miner, 24 h)" "8 conns, flat out" "$(split "$metrics_max" 1)" "$(split "$metrics_max" 2)"
row "dashboard first load" "headless Chromium, median/3" "-" "$dashboard_ms"
echo "(/api/metrics returned $metrics_rows rows: the database holds what this run polled."
echo " Dashboard: ms from navigation until the table shows its first rows, median of 3.)"
bench_goal "http_summary_p99_ms_at_1000rps_${miners}_miners" "$(split "$summary_paced" 2)" ms '<10'
bench_goal "http_dashboard_first_load_ms_${miners}_miners" "$dashboard_ms" ms '<1000'
