#!/usr/bin/env bash
# The dashboard's first load, as a user waits for it: headless Chromium
# (Debian's /usr/bin/chromium, driven by playwright-core) opens URL and
# waits for the miner table to show its first rows with data. Prints
#
#   first_load_ms=N   from navigation start to the first frame with rows in
#                     the table (median of RUNS loads, each in a new page)
#   dom_rows=N        how many table rows the page holds then (only those
#                     on screen, plus a margin, whatever the fleet's size)
#   table_miners=N    how many miners the table says it lists
#
# usage: tests/bench/measure-dashboard.sh URL
# Environment: RUNS (default 3); PLAYWRIGHT_DIR (default BUILD/node-playwright,
# BUILD being $BUILD_DIR or build/ at the top of the tree), where
# playwright-core@1.65.1 is installed from npm if missing.
# Called by bench-http.sh and bench-scale.sh against a daemon they started;
# it starts nothing but the browser, which it closes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
url=${1:?usage: measure-dashboard.sh URL}
runs=${RUNS:-3}
playwright_dir=${PLAYWRIGHT_DIR:-${BUILD_DIR:-$root/build}/node-playwright}

step "checking the setup"
need_tools node:nodejs npm
[ -x /usr/bin/chromium ] ||
  fail "/usr/bin/chromium is missing: apt-get install chromium, or make deps-test"
if [ ! -f "$playwright_dir/node_modules/playwright-core/package.json" ]; then
  step "installing playwright-core@1.65.1 into $playwright_dir (npm)"
  npm install --prefix "$playwright_dir" --no-save --no-audit --no-fund --loglevel=error \
    playwright-core@1.65.1 >&2 || fail "npm could not install playwright-core@1.65.1 (its error is above)"
fi

step "loading $url $runs times in headless Chromium"
PLAYWRIGHT_DIR="$playwright_dir" node - "$url" "$runs" <<'EOF'
const path = require('path');
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules',
  'playwright-core'));
(async () => {
  const [url, runs] = [process.argv[2], Number(process.argv[3])];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'] });
  const loads = [];
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(url, { waitUntil: 'commit' });
    /* A row with data is one the page filled in from the API (it carries
     * the miner's address); checked at every frame, timed by the page's
     * own clock from navigation start. */
    await page.waitForFunction(() => document.querySelector('#miners tbody tr[data-address]'),
      null, { timeout: 60000, polling: 'raf' });
    const ms = await page.evaluate(() => performance.now());
    const rows = await page.$$eval('#miners tbody tr', (r) => r.length);
    const listed = await page.textContent('#miner-count');
    loads.push({ ms, rows, listed });
    await page.close();
  }
  await browser.close();
  loads.sort((a, b) => a.ms - b.ms);
  const median = loads[Math.floor(loads.length / 2)];
  console.log(`first_load_ms=${median.ms.toFixed(0)}`);
  console.log(`dom_rows=${median.rows}`);
  console.log(`table_miners=${Number(median.listed.replace(/\D.*$/, '')) || 0}`);
})().catch((e) => {
  console.error('the dashboard load failed:', e);
  process.exit(1);
});
EOF
