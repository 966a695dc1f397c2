/* The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core), against the real daemon polling a fake fleet on
 * loopback. Prints TAP. Asserts what a user sees: every miner in the
 * table, a chart that draws, a stopped miner turning offline and grey, the
 * sort surviving a refresh, the filter, the miner page, a phone-sized
 * screen, the empty state, the token prompt, and no script or CSP error.
 * Screenshots go to $SCREENSHOT_DIR.
 *
 * Waits have a 60 s guard so a broken page fails instead of hanging; no
 * assertion is about how long anything took. */
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');

const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules',
  'playwright-core'));

const GUARD_MS = 60000;
const SHOTS = process.env.SCREENSHOT_DIR;
const PROFILES = path.join(process.env.G_TEST_SRCDIR, 'fakeminer', 'profiles');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

const children = [];
const tmpDirs = [];
let testNumber = 0;
let failed = 0;

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);

async function check(name, fn) {
  testNumber++;
  try {
    await fn();
    console.log(`ok ${testNumber} - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok ${testNumber} - ${name}`);
    for (const line of String(e && e.stack ? e.stack : e).split('\n')) console.log('# ' + line);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/* Every line of a child's output, kept, with waits on what comes. One per
 * stream: a second reader would miss lines the first had buffered. */
class Lines {
  constructor(stream) {
    this.lines = [];
    this.waiters = [];
    this.closed = false;
    const rl = readline.createInterface({ input: stream });
    rl.on('line', (line) => {
      this.lines.push(line);
      this.poke();
    });
    rl.on('close', () => {
      this.closed = true;
      this.poke();
    });
  }

  poke() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  /* Resolves the first match of @pattern in any line so far or to come. */
  wait(pattern, what) {
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`${what}: not seen within 60 s\n` +
        this.lines.join('\n'))), GUARD_MS);
      const test = () => {
        for (const line of this.lines) {
          const m = line.match(pattern);
          if (m) {
            clearTimeout(guard);
            resolve(m);
            return true;
          }
        }
        if (this.closed) {
          clearTimeout(guard);
          reject(new Error(`${what}: the process ended first\n${this.lines.join('\n')}`));
          return true;
        }
        return false;
      };
      if (!test()) this.waiters.push(test);
    });
  }
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/* ---- the fleet and the daemon ----------------------------------------- */

const FLEET = [
  ['rack1-s19', 'antminer-s19pro'],
  ['rack1-s17', 'antminer-s17pro'],
  ['rack2-s9', 'antminer-s9'],
  ['rack2-s9-tired', 'antminer-s9-degraded'],
  ['ltc-l3', 'antminer-l3plus'],
  ['rack3-m20s', 'whatsminer-m20s'],
];

async function startFleet(net3) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antmon-dash-'));
  tmpDirs.push(dir);
  const lines = FLEET.map(([, profile], i) =>
    `127.89.${net3}.${i + 1}:${port} ${path.join(PROFILES, profile)}`);
  fs.writeFileSync(path.join(dir, 'fleet'), lines.join('\n') + '\n');
  const proc = spawn(process.env.ANTMON_FAKEMINER, ['--fleet', path.join(dir, 'fleet'),
    '--control', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const out = new Lines(proc.stdout);
  const control = await out.wait(/^control (\d+)/, 'fake fleet control port');
  await out.wait(/^ready /, 'fake fleet ready');
  const miners = FLEET.map(([name], i) => ({ name, address: `127.89.${net3}.${i + 1}:${port}` }));
  return { port, controlPort: Number(control[1]), miners, dir };
}

function fleetControl(fleet, command) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(fleet.controlPort, '127.0.0.1', () => sock.write(command + '\n'));
    let reply = '';
    sock.on('data', (d) => {
      reply += d;
      if (reply.includes('\n')) {
        sock.end();
        if (reply.startsWith('ok')) resolve();
        else reject(new Error(`fleet control '${command}': ${reply.trim()}`));
      }
    });
    sock.on('error', reject);
  });
}

async function startDaemon(minersIni, httpExtra, moreGroups) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antmon-dash-d-'));
  tmpDirs.push(dir);
  const ini = path.join(dir, 'antmon.ini');
  fs.writeFileSync(ini, `[core]\nstate_dir=${dir}/var\ninterval=1s\npoll_timeout=1s\n` +
    `offline_after=2\n${minersIni}\n[http:api]\nlisten=127.0.0.1:0\n${httpExtra || ''}\n` +
    `${moreGroups || ''}\n`);
  /* Under ASan, full stacks for leak reports: the suppressions in lsan.supp
   * name libsoup functions that the fast unwinder cannot reach. */
  const env = { ...process.env };
  if (env.ASAN_OPTIONS) env.ASAN_OPTIONS += ':fast_unwind_on_malloc=0';
  const proc = spawn(process.env.ANTMON_BIN, ['run', '-c', ini],
    { stdio: ['ignore', 'ignore', 'pipe'], env });
  children.push(proc);
  const log = new Lines(proc.stderr);
  const m = await log.wait(/HTTP API listening on (http:\/\/\S+)/, 'daemon URL');
  return { proc, url: m[1], log };
}

/* SIGTERM, then the exit status (0 is a clean stop; under the sanitizers a
 * leak or error makes it non-zero). */
function stopDaemon(daemon) {
  return new Promise((resolve) => {
    if (daemon.proc.exitCode !== null) {
      resolve(daemon.proc.exitCode);
      return;
    }
    daemon.proc.once('exit', (code, signal) => resolve(signal ? signal : code));
    daemon.proc.kill('SIGTERM');
  });
}

function minersIni(fleet) {
  return fleet.miners.map((m) => `[miner:${m.name}]\nhost=${m.address}\n`).join('');
}

/* ---- page helpers ---------------------------------------------------------- */

async function openPage(browser, url, viewport, problems) {
  const page = await browser.newPage({ viewport: viewport || { width: 1280, height: 900 } });
  page.setDefaultTimeout(GUARD_MS);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push('console: ' + msg.text());
  });
  await page.goto(url);
  return page;
}

const rowSelector = (address) => `#miners tbody tr[data-address="${address}"]`;

/* Waits for the next refresh to finish. */
async function nextRefresh(page) {
  const before = await page.evaluate(() => document.body.dataset.updated || '');
  await page.waitForFunction((b) => (document.body.dataset.updated || '') !== b, before);
}

/* The chart on @canvasId has points and has painted something. */
async function chartDrawn(page, canvasId, minPoints) {
  await page.waitForFunction(([id, n]) => {
    const canvas = document.getElementById(id);
    const chart = canvas && window.Chart && window.Chart.getChart(canvas);
    if (!chart || !chart.data.datasets.length) return false;
    const points = chart.data.datasets.reduce((s, d) => s + d.data.length, 0);
    if (points < n) return false;
    const ctx = canvas.getContext('2d');
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
    return painted > 500;
  }, [canvasId, minPoints]);
}

async function columnTexts(page, column) {
  return page.$$eval('#miners tbody tr', (rows, c) =>
    rows.map((r) => r.children[c].textContent), column);
}

/* ---- the tests --------------------------------------------------------------- */

async function main() {
  console.log('TAP version 13');
  fs.mkdirSync(SHOTS, { recursive: true });
  const fleet = await startFleet(1 + Math.floor(Math.random() * 200));
  const daemon = await startDaemon(minersIni(fleet));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: CHROMIUM_ARGS });
  const problems = [];
  const page = await openPage(browser, daemon.url + '?refresh=1', null, problems);

  await check('the table shows every miner with its state and model', async () => {
    await page.waitForFunction((n) => document.querySelectorAll(
      '#miners tbody tr[data-state="online"], #miners tbody tr[data-state="degraded"]')
      .length === n, FLEET.length);
    for (const m of fleet.miners) {
      const text = await page.textContent(rowSelector(m.address));
      assert(text.includes(m.name), `${m.name} row: ${text}`);
      assert(text.includes(m.address), `${m.name} row lacks its address: ${text}`);
    }
    const s19 = await page.textContent(rowSelector(fleet.miners[0].address));
    assert(/S19 Pro/.test(s19) && /TH\/s/.test(s19), `S19 row: ${s19}`);
    const l3 = await page.textContent(rowSelector(fleet.miners[4].address));
    assert(/MH\/s/.test(l3), `the L3+ (scrypt) shows MH/s: ${l3}`);
    assert(await page.isHidden('#empty'), 'the empty state is hidden');
  });

  await check('the totals add up the fleet in readable units', async () => {
    const hashrate = await page.textContent('#c-hashrate');
    assert(/^[\d.,]+ (TH|PH)\/s$/.test(hashrate), `fleet hashrate: ${hashrate}`);
    const online = Number(await page.textContent('#c-online'));
    const degraded = Number(await page.textContent('#c-degraded'));
    assert(online + degraded === FLEET.length, `online ${online} + degraded ${degraded}`);
    assert(/kW|W/.test(await page.textContent('#c-power')), 'power has a unit');
    assert(/J\/TH/.test(await page.textContent('#c-eff')), 'efficiency in J/TH');
  });

  await check('the fleet hashrate chart draws', async () => {
    await chartDrawn(page, 'fleet-chart', 2);
    const note = await page.textContent('#fleet-chart-note');
    assert(/store/.test(note), `without a store the chart says where history comes from: ${note}`);
  });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-fleet.png'), fullPage: true });

  await check('sorting by a column holds across refreshes', async () => {
    await page.click('#miners th[data-sort="temp"]');
    await nextRefresh(page);
    await nextRefresh(page);
    const temps = (await columnTexts(page, 4)).map((t) => parseFloat(t));
    const sorted = [...temps].sort((a, b) => b - a);
    assert(JSON.stringify(temps) === JSON.stringify(sorted), `descending temps: ${temps}`);
    assert(await page.$('#miners th[data-sort="temp"].sorted-desc'), 'the header shows the sort');
  });

  await check('the filter narrows the table', async () => {
    await page.fill('#filter-q', 'rack2');
    const names = await page.$$eval('#miners tbody tr .name', (n) => n.map((x) => x.textContent));
    assert(JSON.stringify(names.sort()) === JSON.stringify(['rack2-s9', 'rack2-s9-tired']),
      `rack2 filter: ${names}`);
    await nextRefresh(page);
    const after = await page.$$eval('#miners tbody tr', (r) => r.length);
    assert(after === 2, `the filter holds across a refresh: ${after} rows`);
    await page.fill('#filter-q', '');
    await page.waitForFunction((n) => document.querySelectorAll('#miners tbody tr').length === n,
      FLEET.length);
  });

  const stopped = fleet.miners[1];
  await check('a stopped miner turns offline and greys with its age', async () => {
    await fleetControl(fleet, `set ${stopped.address.split(':')[0]} fault=refuse`);
    await page.waitForSelector(`${rowSelector(stopped.address)}[data-state="offline"].stale`);
    const text = await page.textContent(rowSelector(stopped.address));
    assert(/offline/.test(text) && /refused/.test(text), `offline row: ${text}`);
    assert(/ago/.test(text), `offline row shows its age: ${text}`);
    const colour = await page.$eval(`${rowSelector(stopped.address)} td.who`,
      (td) => getComputedStyle(td).color);
    const normal = await page.$eval(`${rowSelector(fleet.miners[0].address)} td.who`,
      (td) => getComputedStyle(td).color);
    assert(colour !== normal, `stale row text ${colour} differs from ${normal}`);
    const offline = Number(await page.textContent('#c-offline'));
    assert(offline === 1, `offline count ${offline}`);
  });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-offline.png'), fullPage: true });

  await check('the miner page opens with boards, pools, raw replies and charts', async () => {
    await page.click(rowSelector(fleet.miners[0].address));
    await page.waitForFunction(() => location.hash.startsWith('#/miner/'));
    await page.waitForFunction((name) => document.getElementById('m-title').textContent
      .includes(name), fleet.miners[0].name);
    await page.waitForFunction(() => document.querySelectorAll('#m-chains tbody tr').length === 3);
    assert(/online|degraded/.test(await page.textContent('#m-state')), 'state badge');
    assert((await page.$$('#m-pools tbody tr')).length > 0, 'pools listed');
    await page.waitForFunction(() => document.querySelectorAll('#m-raw details').length >= 3);
    const raw = await page.$$eval('#m-raw summary', (s) => s.map((x) => x.textContent));
    assert(raw.some((t) => t.startsWith('stats')), `raw replies: ${raw}`);
    await chartDrawn(page, 'm-chart-temp', 4);
    await chartDrawn(page, 'm-chart-hashrate', 2);
    const note = await page.textContent('#m-history-note');
    assert(/store/.test(note), `history note: ${note}`);
    assert(/store/.test(await page.textContent('#m-events-note')), 'events note');
    await page.click('[data-range="604800"]');
    assert(await page.$('[data-range="604800"].active'), 'the 7 d range is selected');
  });
  await page.screenshot({ path: path.join(SHOTS, 'dashboard-miner.png'), fullPage: true });

  await check('on a phone the page fits the screen', async () => {
    const phone = await openPage(browser, daemon.url + '?refresh=1', { width: 390, height: 844 },
      problems);
    await phone.waitForFunction((n) => document.querySelectorAll('#miners tbody tr').length === n,
      FLEET.length);
    const fits = await phone.evaluate(() =>
      document.documentElement.scrollWidth <= window.innerWidth + 1);
    assert(fits, 'no sideways scrolling of the whole page');
    assert(await phone.isHidden('#miners th.opt'), 'optional columns are hidden');
    await phone.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    await phone.close();
  });

  await check('with no miners the page says how to add some', async () => {
    const empty = await startDaemon('');
    const p = await openPage(browser, empty.url, null, problems);
    await p.waitForSelector('#empty:not([hidden])');
    const text = await p.textContent('#empty');
    assert(text.includes('ranges=') && text.includes('[discovery:cidr]'), `empty state: ${text}`);
    await p.screenshot({ path: path.join(SHOTS, 'dashboard-empty.png') });
    await p.close();
    const status = await stopDaemon(empty);
    assert(status === 0, `the daemon stopped with ${status}\n${empty.log.lines.join('\n')}`);
  });

  await check('with a token the page asks once and keeps it', async () => {
    const locked = await startDaemon(minersIni(fleet), 'token=correct-horse-battery');
    const context = await browser.newContext();
    const p = await context.newPage();
    p.setDefaultTimeout(GUARD_MS);
    p.on('pageerror', (e) => problems.push('page error: ' + e.message));
    await p.goto(locked.url);
    await p.waitForSelector('#login:not([hidden])');
    await p.fill('#token', 'wrong');
    await p.click('#login button');
    await p.waitForFunction(() => document.getElementById('login-error').textContent
      .includes('refused'));
    await p.fill('#token', 'correct-horse-battery');
    await p.click('#login button');
    await p.waitForSelector('#fleet:not([hidden])');
    await p.screenshot({ path: path.join(SHOTS, 'dashboard-token.png') });
    await p.reload();
    await p.waitForSelector('#fleet:not([hidden])');
    assert(await p.isHidden('#login'), 'no second prompt after a reload');
    await context.close();
    const status = await stopDaemon(locked);
    assert(status === 0, `the daemon stopped with ${status}\n${locked.log.lines.join('\n')}`);
  });

  await check('with a store the charts show history', async () => {
    const stored = await startDaemon(minersIni(fleet), '',
      '[store:sqlite]\npath=antmon.db\nflush_interval=100ms\n');
    const p = await openPage(browser, stored.url + '?refresh=1#/miner/' +
      encodeURIComponent(fleet.miners[0].address), null, problems);
    /* The last hour comes as raw rows, one per poll (24 h would be 2-minute
     * buckets: too few in a fresh database). History rows, not what the
     * page saw itself: the note about the store goes away. */
    await p.click('[data-range="3600"]');
    await p.waitForFunction(() => {
      const chart = window.Chart && window.Chart.getChart(document.getElementById('m-chart-power'));
      return document.getElementById('m-history-note').textContent === '' && chart &&
        chart.data.datasets[0].data.length >= 3;
    });
    await chartDrawn(p, 'm-chart-hashrate', 3);
    await p.waitForFunction(() => document.querySelectorAll('#m-events li').length >= 1);
    const event = await p.textContent('#m-events li');
    assert(/state: online/.test(event), `the event list shows the miner coming online: ${event}`);
    await p.click('[data-range="2592000"]');
    await nextRefresh(p);
    await chartDrawn(p, 'm-chart-hashrate', 1);
    await p.screenshot({ path: path.join(SHOTS, 'dashboard-miner-history.png'), fullPage: true });
    await p.goto(stored.url + '?refresh=1');
    await p.waitForFunction(() => document.getElementById('fleet-chart-note').textContent
      .indexOf('store') < 0 && document.querySelectorAll('#miners tbody tr').length > 0);
    await chartDrawn(p, 'fleet-chart', 1);
    await p.close();
    const status = await stopDaemon(stored);
    assert(status === 0, `the daemon stopped with ${status}\n${stored.log.lines.join('\n')}`);
  });

  await check('no script error and no Content-Security-Policy violation', async () => {
    /* Chromium logs every failed fetch; these ones are expected: the wrong
     * token's 401 and the no-store 503s of the history endpoints. */
    const real = problems.filter((p) =>
      !/Failed to load resource: the server responded with a status of (401|503)/.test(p));
    assert(real.length === 0, real.join('\n'));
  });

  await browser.close();
  await check('the daemon stops cleanly after serving the browser', async () => {
    const status = await stopDaemon(daemon);
    assert(status === 0, `the daemon stopped with ${status}\n${daemon.log.lines.join('\n')}`);
  });
  console.log(`1..${testNumber}`);
  cleanup();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('Bail out! ' + String(e && e.stack ? e.stack : e).split('\n').join(' | '));
  process.exit(1);
});
