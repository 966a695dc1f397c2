#!/usr/bin/env bash
# The HTTP API under load while the agent polls: wrk against /api/summary,
# /api/miners (1,000 miners) and /api/metrics (one miner, 24 h window), and
# the dashboard's first load in headless Chromium. Prints a table.
#
# usage: tests/bench/bench-http.sh [BUILD_DIR]
# Environment: MINERS (default 1000), DURATION (seconds per wrk run, 10).
#
# Goal: p99 under 10 ms for /api/summary at 1,000 requests per second, and
# the dashboard showing 1,000 miners within 1 s of navigation.
#
# The fleet is MINERS fake S19 Pros on 127.91.N.x (random N and high port:
# the machine may be shared), polled every 10 s and stored in SQLite.
# Everything runs on loopback; only the processes started here are
# stopped, by their PIDs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
miners=${MINERS:-1000}
duration=${DURATION:-10}
antmon="$build/core/antmon"
fake="$build/tests/fakeminer/antmon-fakeminer"
for exe in "$antmon" "$fake"; do
  [ -x "$exe" ] || { echo "missing $exe (build first: ninja -C $build)" >&2; exit 2; }
done
for tool in wrk curl jq node; do
  command -v "$tool" >/dev/null || { echo "missing $tool (make deps-bench installs it)" >&2; exit 2; }
done

work=$(mktemp -d)
fake_pid=
antmon_pid=
cleanup() {
  for pid in $antmon_pid $fake_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- the fleet ----------------------------------------------------------------
octet=$((RANDOM % 200 + 20))
port=$((RANDOM % 30000 + 20000))
"$fake" --base "127.91.$octet.1" --count "$miners" --port "$port" \
  --profile "$root/tests/fakeminer/profiles/antminer-s19pro" >"$work/fake.out" 2>&1 &
fake_pid=$!
for _ in $(seq 1 100); do
  grep -q '^ready' "$work/fake.out" 2>/dev/null && break
  kill -0 "$fake_pid" 2>/dev/null || { cat "$work/fake.out" >&2; exit 1; }
  sleep 0.1
done
grep -q '^ready' "$work/fake.out" || { echo "the fake fleet did not start" >&2; exit 1; }

# The fleet's addresses, as the fake lays them out (.0 and .255 skipped).
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
first_host=$(sed -n 's/^host=//p' "$work/miners.ini" | head -n 1)

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

ANTMON_PLUGIN_DIR="$build/plugins" "$antmon" run -c "$work/antmon.ini" 2>"$work/antmon.log" &
antmon_pid=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/.*HTTP API listening on \(http:[^ ]*\).*/\1/p' "$work/antmon.log" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/antmon.log" >&2; exit 1; }

# Every miner polled once before measuring.
answering=0
for _ in $(seq 1 600); do
  answering=$(curl -s "${url}api/summary" | jq '.miners.online + .miners.degraded')
  [ "$answering" -ge "$miners" ] && break
  sleep 0.2
done
[ "$answering" -ge "$miners" ] || { echo "only $answering of $miners miners answered" >&2; exit 1; }

# ---- wrk ------------------------------------------------------------------------
# One connection waits 10 ms between requests, so 10 connections offer at
# most 1,000 requests per second: the latency of a server at that load, not
# of one driven flat out.
cat >"$work/paced.lua" <<'EOF'
function delay()
  return 10
end
EOF

# Prints "REQ_PER_S P99_MS" from wrk's --latency output.
wrk_run() {
  local out
  out=$(wrk "$@" --latency "--timeout=5s")
  echo "$out" >>"$work/wrk.log"
  echo "$out" | awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      ms = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { printf "%.0f %.2f\n", rps, ms }'
}

since=$(($(date +%s) - 86400))
summary_paced=$(wrk_run -t2 -c10 -d"${duration}s" -s "$work/paced.lua" "${url}api/summary")
summary_max=$(wrk_run -t2 -c8 -d"${duration}s" "${url}api/summary")
miners_max=$(wrk_run -t2 -c8 -d"${duration}s" "${url}api/miners")
brief_max=$(wrk_run -t2 -c8 -d"${duration}s" "${url}api/miners?view=brief")
metrics_path="api/metrics?ip=$first_host&since=$since"
metrics_rows=$(curl -s "${url}${metrics_path}" | jq '.rows | length')
metrics_max=$(wrk_run -t2 -c8 -d"${duration}s" "${url}${metrics_path}")

# ---- the dashboard's first load ---------------------------------------------------
playwright_dir="$build/node-playwright"
if [ ! -f "$playwright_dir/node_modules/playwright-core/package.json" ]; then
  npm install --prefix "$playwright_dir" --no-save --no-audit --no-fund --loglevel=error \
    playwright-core@1.65.1 >&2
fi
dashboard_ms=$(PLAYWRIGHT_DIR="$playwright_dir" node - "$url" "$miners" <<'EOF'
const path = require('path');
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules', 'playwright-core'));
(async () => {
  const [url, miners] = [process.argv[2], Number(process.argv[3])];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const times = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url, { waitUntil: 'commit' });
    /* From navigation start to every row on screen, timed by the page. */
    await page.waitForFunction((n) => document.querySelectorAll('#miners tbody tr').length === n,
      miners, { timeout: 60000, polling: 'raf' });
    times.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(times[1].toFixed(0)); /* the median of three */
})().catch((e) => { console.error(e); process.exit(1); });
EOF
)

# ---- the table ------------------------------------------------------------------------
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
echo " Dashboard: ms from navigation until all $miners rows are in the table.)"
summary_p99=$(split "$summary_paced" 2)
awk -v p="$summary_p99" -v d="$dashboard_ms" 'BEGIN {
  printf "goal /api/summary p99 < 10 ms at 1,000 req/s: %s\n", (p < 10) ? "met" : "NOT met";
  printf "goal dashboard first load < 1000 ms: %s\n", (d < 1000) ? "met" : "NOT met" }'
