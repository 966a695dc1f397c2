#!/bin/bash
# How many requests per second one antmon-fakeminer process serves.
#
# usage: tests/fakeminer/bench-fakeminer.sh [BUILD_DIR] [SECONDS] [COMMAND]
#   BUILD_DIR  meson build directory (default: build)
#   SECONDS    how long to load it (default: 5)
#   COMMAND    the cgminer command asked for (default: summary; "stats" is
#              the largest S9 reply, "summary+stats" a multi-command)
# Environment: MINERS (default 200), CONCURRENCY (requests in flight, 64).
#
# Starts MINERS fake S9s on 127.77.N.1... (random N, random high port: this
# machine may be shared), loads them from am-fakeminer-bench for SECONDS over
# loopback only, then prints requests/second and the fake's CPU time from
# /proc/PID/stat. Only the fake started here is stopped, by its PID.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
seconds=${2:-5}
command=${3:-summary}
miners=${MINERS:-200}
concurrency=${CONCURRENCY:-64}
fake="$build/tests/fakeminer/antmon-fakeminer"
client="$build/tests/fakeminer/am-fakeminer-bench"
for exe in "$fake" "$client"; do
  [ -x "$exe" ] || { echo "missing $exe (build first: ninja -C $build)" >&2; exit 2; }
done

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Fake CPU time (user + system) in clock ticks, fields 14 and 15 of stat.
cpu_ticks() {
  # The command name (field 2) may hold spaces: cut after its ')'.
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

started=0
for attempt in 1 2 3 4 5; do
  octet=$((RANDOM % 240 + 1))
  port=$((RANDOM % 30000 + 20000))
  "$fake" --base "127.77.$octet.1" --count "$miners" --port "$port" \
    --profile "$here/profiles/antminer-s9" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q '^ready ' "$work/out" && { started=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$started" = 1 ] && break
  wait "$pid" || true
  pid=
done
[ "$started" = 1 ] || { echo "the fake did not start:" >&2; cat "$work/err" >&2; exit 1; }

ticks_per_s=$(getconf CLK_TCK)
before=$(cpu_ticks "$pid")
result=$("$client" --base "127.77.$octet.1" --count "$miners" --port "$port" \
  --concurrency "$concurrency" --seconds "$seconds" --command "$command")
after=$(cpu_ticks "$pid")

echo "fake: $(cat "$work/out" | tr '\n' ' ')pid $pid, 127.77.$octet.1-$miners port $port"
echo "client: $result"
echo "$result" | awk -v t0="$before" -v t1="$after" -v hz="$ticks_per_s" -v cmd="$command" '{
  ok = $2; secs = $6; cpu = (t1 - t0) / hz
  printf "command %s: %.0f requests/s over %.1f s; fake CPU %.2f s (%.0f%% of one core), %.1f us CPU per request\n",
         cmd, ok / secs, secs, cpu, 100 * cpu / secs, ok ? 1e6 * cpu / ok : 0
}'
