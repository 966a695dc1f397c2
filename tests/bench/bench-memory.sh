#!/usr/bin/env bash
# The agent's memory at farm sizes: the real daemon (discovery, HTTP API
# and, unless STORE=0, the SQLite store) polling fake S19 Pros every 30 s,
# with /metrics scraped back to back, as a Prometheus at a short interval
# would. Prints RSS after the first pass, RSS while scraped and the peak
# (VmHWM), against the goals of issue 10: a peak of at most 64 MB at 1,000
# miners and 150 MB at 10,000, each printed as a GOAL line for run-all.sh's
# table (memory_peak_mib_1000_miners_store_on, ..._10000_...; with STORE=0
# they end in _store_off; other SIZES have no goal).
#
# usage: tests/bench/bench-memory.sh [BUILD_DIR]
# Environment: SIZES (default "1000 10000"), SCRAPES (30), STORE (1),
# BUDGET (the agent's memory_budget=, default its own).
#
# The fleet is on 127.94.N.x (random N, random high port: the machine may be
# shared); only the processes started here are stopped, by their PIDs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
sizes=${SIZES:-1000 10000}
scrapes=${SCRAPES:-30}
store=${STORE:-1}
antmon="$build/core/antmon"
fake="$build/tests/fakeminer/antmon-fakeminer"

step "checking the setup"
need_exe "$antmon"
need_exe "$fake"
need_tools curl jq
largest=0
for n in $sizes; do [ "$n" -gt "$largest" ] && largest=$n; done
need_fds $((largest + 600)) "$largest fake miners' listeners plus the agent's polls in flight"

mib() { awk -v k="$1" '/^(VmRSS|VmHWM):/ && $1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$2/status"; }

# One size: fleet, agent, first pass, scrapes; prints one table row.
run_size() {
  local n=$1 work octet port fake_pid antmon_pid url online=0 after scraped peak goal
  work=$(mktemp -d)
  bench_rm_at_exit "$work"
  octet=$((RANDOM % 100 + 100))
  port=$(free_port 20000 49999)
  step "$n miners: starting the fake fleet"
  "$fake" --base "127.94.$octet.1" --count "$n" --port "$port" \
    --profile "$root/tests/fakeminer/profiles/antminer-s19pro" >"$work/fake.out" 2>&1 &
  fake_pid=$!
  bench_started "fake fleet" "$fake_pid"
  bench_log "fake fleet" "$work/fake.out"
  for _ in $(seq 300); do grep -q '^ready' "$work/fake.out" && break; sleep 0.1; done
  grep -q '^ready' "$work/fake.out" || fail "the fake fleet did not start"
  {
    echo "[core]"
    echo "state_dir=$work"
    echo "interval=30s"
    [ -n "${BUDGET:-}" ] && echo "memory_budget=$BUDGET"
    echo "[discovery:cidr]"
    echo "enabled=true"
    echo "ranges=127.94.$octet.1-127.94.$((octet + n / 254 + 1)).254"
    echo "ports=$port"
    echo "max_rate=0"
    echo "[http:api]"
    echo "listen=127.0.0.1:0"
    if [ "$store" = 1 ]; then printf '[store:sqlite]\npath=antmon.db\n'; fi
  } >"$work/antmon.ini"
  step "$n miners: starting antmon"
  ANTMON_PLUGIN_DIR="$build/plugins" "$antmon" run -c "$work/antmon.ini" >"$work/antmon.log" 2>&1 &
  antmon_pid=$!
  bench_started antmon "$antmon_pid"
  bench_log antmon "$work/antmon.log"
  for _ in $(seq 100); do grep -q "listening on" "$work/antmon.log" && break; sleep 0.1; done
  url=$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/antmon.log" | head -n 1) ||
    fail "antmon did not say where its API listens"
  step "$n miners: waiting for the first pass"
  for _ in $(seq 120); do
    online=$(curl -sf "${url}api/health" | jq '.poll.online // 0') || online=0
    [ "$online" -ge "$n" ] && break
    bench_running "$antmon_pid" || fail "antmon exited"
    sleep 1
  done
  [ "$online" -ge $((n * 95 / 100)) ] || fail "only $online of $n miners online after 120 s"
  after=$(mib VmRSS "$antmon_pid")
  step "$n miners: scraping /metrics $scrapes times"
  for _ in $(seq "$scrapes"); do
    curl -sf -o /dev/null "${url}metrics" || fail "GET /metrics failed"
  done
  scraped=$(mib VmRSS "$antmon_pid")
  peak=$(mib VmHWM "$antmon_pid")
  printf '%-8s %-6s %10s %12s %10s\n' "$n" "$([ "$store" = 1 ] && echo on || echo off)" \
    "$after" "$scraped" "$peak"
  case $n in
  1000) goal=64 ;;
  10000) goal=150 ;;
  *) goal= ;;
  esac
  # At once, under its row: a later size that fails must not lose it.
  [ -z "$goal" ] ||
    bench_goal "memory_peak_mib_${n}_miners_store_$([ "$store" = 1 ] && echo on || echo off)" \
      "$peak" MiB "<=$goal"
  kill -TERM "$antmon_pid"
  wait "$antmon_pid" || true
  bench_forget "$antmon_pid"
  kill -TERM "$fake_pid"
  wait "$fake_pid" || true
  bench_forget "$fake_pid"
}

printf '%-8s %-6s %10s %12s %10s\n' miners store rss_mib scraped_mib peak_mib
for n in $sizes; do run_size "$n"; done
