/* The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core), against the real daemon polling a fake fleet on
 * loopback. Prints TAP. Asserts what a user sees: every miner in the
 * table, a chart that draws, a stopped miner turning offline and grey, the
 * sort surviving a refresh, the filter, the miner page, a phone-sized
 * screen, the empty state, the token prompt, the actions (greyed where the
 * miner cannot, confirmed before sending, followed to their outcome, on one
 * miner and on ticked rows after a dry run; the paused state), and no
 * script or CSP error.
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

/* For the actions: writable profiles, each unit a different miner (two
 * Braiins units of one profile would share a MAC, and antmon would poll
 * them as one). The Braiins unit is configured on its web port (REST). The
 * stock Antminers are on the RPC port 4028 (their own addresses, so no
 * other listener is in the way): antmon reaches their web CGI, where pause
 * and work modes are, on [driver:antminer-web] port= only for miners on
 * 4028. Braiins has no work modes; the stock units no power target. */
const ACTION_FLEET = [
  ['bos-a', 'braiins-rest-26', 'web'],
  ['stock-b', 'antminer-s19pro-web', 'rpc'],
  ['stock-c', 'antminer-s19pro-web', 'rpc'],
];

/* @list: [name, profile, 'web' or 'rpc']: on 4028 with the web listeners
 * on one free port; without, FLEET on a free port. */
async function startFleet(net3, list) {
  const fleetList = list || FLEET;
  const port = list ? 4028 : await freePort();
  const httpPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antmon-dash-'));
  tmpDirs.push(dir);
  const lines = fleetList.map(([, profile], i) =>
    `127.89.${net3}.${i + 1}:${port} ${path.join(PROFILES, profile)}` +
    (list ? ` http_port=${httpPort}` : ''));
  fs.writeFileSync(path.join(dir, 'fleet'), lines.join('\n') + '\n');
  const proc = spawn(process.env.ANTMON_FAKEMINER, ['--fleet', path.join(dir, 'fleet'),
    '--control', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const out = new Lines(proc.stdout);
  const control = await out.wait(/^control (\d+)/, 'fake fleet control port');
  await out.wait(/^ready /, 'fake fleet ready');
  const miners = fleetList.map(([name, , via], i) => ({ name, ip: `127.89.${net3}.${i + 1}`,
    address: `127.89.${net3}.${i + 1}:${via === 'web' ? httpPort : port}` }));
  return { port, httpPort, controlPort: Number(control[1]), miners, dir };
}

/* The control port's answer to `get IP`: its lines before "ok". */
function fleetGet(fleet, ip) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(fleet.controlPort, '127.0.0.1', () => sock.write(`get ${ip}\n`));
    let reply = '';
    sock.on('data', (d) => {
      reply += d;
      if (/^ok$/m.test(reply) || reply.startsWith('error')) {
        sock.end();
        if (reply.startsWith('error')) reject(new Error(`fleet get ${ip}: ${reply.trim()}`));
        else resolve(reply);
      }
    });
    sock.on('error', reject);
  });
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

/* @core: the [core] settings besides state_dir (default: a poll every
 * second, offline after two failed ones). @many: thousands of miners, for
 * which ASan's full stacks on every malloc (below) slow polling to a crawl. */
async function startDaemon(minersIni, httpExtra, moreGroups, core, many) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'antmon-dash-d-'));
  tmpDirs.push(dir);
  const ini = path.join(dir, 'antmon.ini');
  fs.writeFileSync(ini, `[core]\nstate_dir=${dir}/var\n` +
    `${core || 'interval=1s\npoll_timeout=1s\noffline_after=2\n'}${minersIni}\n` +
    `[http:api]\nlisten=127.0.0.1:0\n${httpExtra || ''}\n` +
    `${moreGroups || ''}\n`);
  /* Under ASan, full stacks for leak reports: the suppressions in lsan.supp
   * name libsoup functions that the fast unwinder cannot reach. */
  const env = { ...process.env };
  if (env.ASAN_OPTIONS && !many) env.ASAN_OPTIONS += ':fast_unwind_on_malloc=0';
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

/* ---- actions ------------------------------------------------------------------ */

const ACTION_TOKEN = 'act-on-the-test-fleet';

/* Every state an element with @selector showed, in order, from now on:
 * the progress is checked by what the user saw, not by when. */
async function recordStates(page, selector) {
  await page.evaluate((sel) => {
    window.seenStates = [];
    const note = () => {
      const e = document.querySelector(sel);
      const s = e && e.dataset.state;
      if (s && window.seenStates[window.seenStates.length - 1] !== s) window.seenStates.push(s);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true,
      attributes: true, attributeFilter: ['data-state'] });
  }, selector);
}

async function login(page, token) {
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', token);
  await page.click('#login button');
  await page.waitForSelector('#login', { state: 'hidden' });
}

async function openMenu(page, box) {
  await page.click(`${box} .menu-toggle`);
  await page.waitForSelector(`${box} .menu-items:not([hidden])`);
}

async function actionChecks(browser, problems) {
  const fleet = await startFleet(1 + Math.floor(Math.random() * 200), ACTION_FLEET);
  const daemon = await startDaemon(minersIni(fleet),
    `actions=true\ntoken=${ACTION_TOKEN}\ntoken_name=dashboard-test\n`,
    `[driver:antminer-web]\nport=${fleet.httpPort}\n` +
    /* One action per miner for the whole test: a second one is refused. */
    '[actions]\nmin_interval=1h\n');
  const [a, b, c] = fleet.miners;
  const page = await openPage(browser, daemon.url + '?refresh=1#/miner/' +
    encodeURIComponent(a.address), null, problems);

  await check('the miner page greys out what the miner cannot do, with the reason', async () => {
    await login(page, ACTION_TOKEN);
    await page.waitForSelector('#m-menu:not([hidden])');
    await page.waitForSelector('#m-menu [data-action="pause"]:not([disabled])',
      { state: 'attached' });
    await openMenu(page, '#m-menu');
    /* Braiins tunes to a power target: no work modes. */
    const mode = await page.$eval('#m-menu [data-action="work_mode"]',
      (b) => ({ disabled: b.disabled, title: b.title, text: b.textContent }));
    assert(mode.disabled, 'work mode is greyed out on Braiins OS');
    assert(mode.title.length > 5 && mode.text.includes(mode.title),
      `the reason is the tooltip and under the item: ${JSON.stringify(mode)}`);
    const enabled = await page.$$eval('#m-menu .menu-item:not([disabled])',
      (items) => items.map((i) => i.dataset.action));
    for (const want of ['reboot', 'pause', 'resume', 'power_target', 'pools'])
      assert(enabled.includes(want), `${want} is offered: ${enabled}`);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-menu.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#m-menu .menu-items', { state: 'hidden' });
  });

  await check('pausing a miner asks first, then follows it to confirmed and shows it paused',
    async () => {
      await openMenu(page, '#m-menu');
      await page.click('#m-menu [data-action="pause"]');
      await page.waitForSelector('#act-dialog[open]');
      const title = await page.textContent('#act-title');
      assert(title === `Pause ${a.address}?`, `the confirmation names the miner: ${title}`);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-confirm.png') });
      assert(!/paused=1/.test(await fleetGet(fleet, a.ip)), 'nothing is sent before confirming');
      await recordStates(page, '#jobs-list > li');
      await page.click('#act-ok');
      await page.waitForSelector('#act-dialog', { state: 'hidden' });
      await page.waitForSelector('#jobs-list > li[data-state="confirmed"]');
      const seen = await page.evaluate(() => window.seenStates);
      assert(seen.length >= 2 && ['queued', 'sending', 'confirming'].includes(seen[0]),
        `the progress was shown before the outcome: ${seen}`);
      const line = await page.textContent('#jobs-list > li');
      assert(line.includes(`Pause ${a.address}`) && line.includes('confirmed'), `job: ${line}`);
      assert(/paused=1/.test(await fleetGet(fleet, a.ip)), 'the miner was paused');
      await page.waitForFunction(() => document.getElementById('m-state').textContent ===
        'paused');
      assert(await page.$('#m-state.badge.paused'), 'the badge has the paused colour');
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-paused.png'),
        fullPage: true });
    });

  await check('an action the API refuses shows its reason and sends nothing', async () => {
    await openMenu(page, '#m-menu');
    await page.click('#m-menu [data-action="resume"]');
    await page.waitForSelector('#act-dialog[open]');
    await page.click('#act-ok');
    await page.waitForSelector('#act-error:not([hidden])');
    const error = await page.textContent('#act-error');
    assert(error.includes(a.address) && error.includes('min_interval'),
      `the rate limit's reason: ${error}`);
    assert(await page.isVisible('#act-dialog'), 'the dialog stays open');
    await page.click('#act-cancel');
    await page.waitForSelector('#act-dialog', { state: 'hidden' });
    assert(/paused=1/.test(await fleetGet(fleet, a.ip)), 'still paused');
    assert((await page.$$('#jobs-list > li')).length === 1, 'no new action is followed');
  });

  await check('the fleet table shows the paused miner apart, with its own filter', async () => {
    await page.click('a.back');
    await page.waitForSelector(`${rowSelector(a.address)}[data-state="paused"]`);
    const colours = await page.evaluate(([pa, on]) => {
      const colour = (addr) => getComputedStyle(document.querySelector(
        `#miners tbody tr[data-address="${addr}"] .st`)).color;
      return [colour(pa), colour(on)];
    }, [a.address, b.address]);
    assert(colours[0] !== colours[1], `paused ${colours[0]} differs from online ${colours[1]}`);
    await page.waitForFunction(() => document.getElementById('c-paused').textContent === '1');
    await page.selectOption('#filter-state', 'paused');
    const shown = await page.$$eval('#miners tbody tr', (r) => r.map((x) => x.dataset.address));
    assert(JSON.stringify(shown) === JSON.stringify([a.address]), `paused filter: ${shown}`);
    await page.selectOption('#filter-state', '');
  });

  await check('select all ticks the rows the filter shows, and only those', async () => {
    await page.fill('#filter-q', 'stock-');
    await page.waitForFunction(() => document.querySelectorAll('#miners tbody tr').length === 2);
    await page.check('#pick-all');
    assert(/^2 miners selected$/.test(await page.textContent('#bulk-count')),
      await page.textContent('#bulk-count'));
    await page.fill('#filter-q', '');
    await page.waitForFunction(() => document.querySelectorAll('#miners tbody tr').length === 3);
    assert(!(await page.isChecked(`${rowSelector(a.address)} td.pick input`)),
      'the row the filter hid is not ticked');
    await page.click('#bulk-clear');
    await page.waitForSelector('#bulk', { state: 'hidden' });
  });

  await check('a selection with a miner that cannot do it lists that one as skipped',
    async () => {
      await page.check(`${rowSelector(a.address)} td.pick input`);
      await page.check(`${rowSelector(b.address)} td.pick input`);
      await openMenu(page, '#bulk-menu');
      await page.click('#bulk-menu [data-action="work_mode"]');
      /* First the setting, then the dry run. */
      await page.waitForSelector('#act-mode');
      await page.selectOption('#act-mode', 'low');
      await page.click('#act-ok');
      await page.waitForSelector('#act-plan:not([hidden])');
      const title = await page.textContent('#act-title');
      const plan = await page.textContent('#act-plan');
      assert(title === 'Set the work mode of 1 miner?', `title: ${title}`);
      assert(plan.includes('Mode: low') && plan.includes(a.address) && /skipped/.test(plan) &&
        /work_mode/.test(plan), `the plan names the skipped miner and why: ${plan}`);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-skipped.png') });
      await page.click('#act-cancel');
      await page.waitForSelector('#act-dialog', { state: 'hidden' });
      assert(/work_mode=-/.test(await fleetGet(fleet, b.ip)), 'cancel sent nothing');
    });

  await check('two selected rows: the dry run names 2 miners, then each one\'s outcome',
    async () => {
      await page.click('#bulk-clear');
      await page.check(`${rowSelector(b.address)} td.pick input`);
      await page.check(`${rowSelector(c.address)} td.pick input`);
      assert(await page.isVisible('#fleet'), 'ticking a row does not open the miner page');
      assert((await page.textContent('#bulk-count')) === '2 miners selected',
        await page.textContent('#bulk-count'));
      await openMenu(page, '#bulk-menu');
      await page.click('#bulk-menu [data-action="pause"]');
      await page.waitForFunction(() => document.getElementById('act-title').textContent ===
        'Pause 2 miners?');
      assert((await page.textContent('#act-ok')) === 'Pause 2 miners', 'the button says it');
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-fleet-confirm.png') });
      for (const m of [b, c])
        assert(!/paused=1/.test(await fleetGet(fleet, m.ip)), 'the dry run changed nothing');
      await page.click('#act-ok');
      await page.waitForSelector('#act-dialog', { state: 'hidden' });
      await page.waitForSelector('#jobs-list > li[data-state="done"]');
      const job = await page.textContent('#jobs-list > li[data-state="done"]');
      assert(job.includes('Pause 2 miners') && job.includes('2 confirmed'), `fleet job: ${job}`);
      const per = await page.$$eval('#jobs-list > li[data-state="done"] .job-miners li',
        (l) => l.map((x) => x.textContent));
      assert(per.length === 2 && per.every((t) => t.includes('confirmed')), `per miner: ${per}`);
      for (const m of [b, c]) {
        assert(/paused=1/.test(await fleetGet(fleet, m.ip)), `${m.name} was paused`);
        await page.waitForSelector(`${rowSelector(m.address)}[data-state="paused"]`);
      }
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-actions-fleet.png'),
        fullPage: true });
    });

  await check('a refused token asks for it again', async () => {
    await page.evaluate(() => localStorage.setItem('antmon.token', 'not-the-token'));
    await page.waitForSelector('#login:not([hidden])');
    assert(/refused/.test(await page.textContent('#login-error')), 'says the token was refused');
    await login(page, ACTION_TOKEN);
    await page.waitForSelector('#fleet:not([hidden])');
  });

  await page.close();
  await check('the daemon with actions stops cleanly', async () => {
    const status = await stopDaemon(daemon);
    assert(status === 0, `the daemon stopped with ${status}\n${daemon.log.lines.join('\n')}`);
  });
}

/* ---- a fleet of a few thousand ------------------------------------------------ */

const SCALE_MINERS = 2000;
const SCALE_RACK = 100; // miners per rack: rack01-001 ... rack20-100
const SCALE_TOKEN = 'act-on-the-big-fleet';

/* SCALE_MINERS S19 Pros on 127.93.N.1 onwards (.1-.254 of each /24, as
 * the fake lays them out), named by rack. */
async function startScaleFleet() {
  const port = await freePort();
  const net3 = 1 + Math.floor(Math.random() * 240);
  const proc = spawn(process.env.ANTMON_FAKEMINER, ['--base', `127.93.${net3}.1`,
    '--count', String(SCALE_MINERS), '--port', String(port), '--profile',
    path.join(PROFILES, 'antminer-s19pro'), '--control', '127.0.0.1:0'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const out = new Lines(proc.stdout);
  const control = await out.wait(/^control (\d+)/, 'big fake fleet control port');
  await out.wait(/^ready /, 'big fake fleet ready');
  const pad = (n, w) => String(n).padStart(w, '0');
  const miners = Array.from({ length: SCALE_MINERS }, (_, i) => {
    const ip = `127.93.${net3 + Math.floor(i / 254)}.${i % 254 + 1}`;
    return { ip, address: `${ip}:${port}`,
      name: `rack${pad(Math.floor(i / SCALE_RACK) + 1, 2)}-${pad(i % SCALE_RACK + 1, 3)}` };
  });
  return { controlPort: Number(control[1]), miners };
}

/* The rows in the page: name, state and max temp as shown. */
async function shownRows(page) {
  return page.$$eval('#miners tbody tr', (rows) => rows.map((r) => ({
    name: r.querySelector('.name').textContent, state: r.dataset.state,
    temp: parseFloat(r.children[5].textContent),
    top: r.getBoundingClientRect().top, bottom: r.getBoundingClientRect().bottom })));
}

/* Waits for the table's count of miners shown ("100 of 2000"). */
async function shownCount(page, text, timeout) {
  try {
    await page.waitForFunction((t) => document.getElementById('miner-count').textContent === t,
      text, { timeout: timeout || GUARD_MS });
  } catch (e) {
    throw new Error(`the table lists "${await page.textContent('#miner-count')}", not "${text}"` +
      ` (${await page.textContent('#status')})`);
  }
}

/* The page holds no more rows than fit in two screens (a screenful and
 * the margin kept on each side), whatever the fleet's size. */
async function assertFewRows(page, what) {
  const { rows, screen } = await page.evaluate(() => {
    const tr = document.querySelector('#miners tbody tr');
    return { rows: document.querySelectorAll('#miners tbody tr').length,
      screen: Math.ceil(window.innerHeight / tr.getBoundingClientRect().height) };
  });
  assert(rows > 0 && rows <= 2 * screen, `${what}: ${rows} rows in the page, a screen holds ` +
    screen);
}

async function scaleChecks(browser, problems) {
  const fleet = await startScaleFleet();
  /* Before the daemon looks: three miners that never answer (rack01), and
   * five running hotter than the rest, hottest first (rack02). Only these
   * first racks need polling before the checks that read states: the
   * rest hold rows, whether polled yet or not (a pass over 2,000 miners
   * takes minutes under the sanitizers on a busy machine). */
  const dead = fleet.miners.slice(4, 7);
  for (const m of dead) await fleetControl(fleet, `set ${m.ip} fault=refuse`);
  const hot = fleet.miners.slice(150, 155);
  for (const [i, m] of hot.entries())
    await fleetControl(fleet, `set ${m.ip} temp_offset=+${30 - 5 * i}`);
  /* Patient polls, so that a busy machine gets the miners polled and none
   * falls offline. */
  const daemon = await startDaemon(minersIni(fleet), `actions=true\ntoken=${SCALE_TOKEN}\n`, '',
    'interval=10s\npoll_timeout=10s\noffline_after=5\nmax_inflight=256\n', true);
  /* A refresh every 5 s: each asks for every miner, which under the
   * sanitizers holds the daemon's main loop for seconds, and more often
   * would starve its polls. */
  const page = await openPage(browser, daemon.url + '?refresh=5', null, problems);
  const last = fleet.miners[SCALE_MINERS - 1];
  const polled = 3 * GUARD_MS; /* for rack01 and rack02 to be polled */

  await check(`with ${SCALE_MINERS} miners the page holds a screenful of rows and scrolls as ` +
    'far as all of them', async () => {
    await login(page, SCALE_TOKEN);
    await shownCount(page, String(SCALE_MINERS));
    await page.waitForSelector('#miners tbody tr[data-address]');
    const rows = await shownRows(page);
    assert(rows[0].name === fleet.miners[0].name, `in address order first: ${rows[0].name}`);
    await assertFewRows(page, 'at the top');
    const { body, row } = await page.evaluate(() => ({
      body: document.querySelector('#miners tbody').getBoundingClientRect().height,
      row: document.querySelector('#miners tbody tr').getBoundingClientRect().height }));
    assert(Math.abs(body - SCALE_MINERS * row) < 2,
      `the table is as tall as ${SCALE_MINERS} rows of ${row} px: ${body} px`);
  });

  await check('scrolling to the end shows the last miner, and its link opens it', async () => {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForSelector(`${rowSelector(last.address)} .name`);
    const rows = await shownRows(page);
    const end = rows.find((r) => r.name === last.name);
    const height = await page.evaluate(() => window.innerHeight);
    assert(end && end.top >= 0 && end.bottom <= height + 1,
      `${last.name} is on screen: ${JSON.stringify(end)}, screen ${height} px`);
    assert(!rows.some((r) => r.name === fleet.miners[0].name), 'the first row left the page');
    await assertFewRows(page, 'at the end');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-scale-end.png') });
    /* A row drawn by the scroll links to its miner like any other. */
    await page.click(`${rowSelector(last.address)} a.name`);
    await page.waitForFunction((name) => document.getElementById('m-title').textContent
      .includes(name), last.name);
    await page.click('a.back');
    await page.waitForSelector('#miners tbody tr[data-address]');
  });

  await check('the filters narrow every miner to those that match', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.fill('#filter-q', 'rack07-');
    await shownCount(page, `${SCALE_RACK} of ${SCALE_MINERS}`);
    let rows = await shownRows(page);
    assert(rows.every((r) => r.name.startsWith('rack07-')), `rack07: ${rows.map((r) => r.name)}`);
    assert(rows[0].name === 'rack07-001', `in address order: ${rows[0].name}`);
    /* Once the rest of rack01 answered, only the dead ones were never
     * reached there. */
    await page.fill('#filter-q', 'rack01-');
    await page.selectOption('#filter-state', 'unreachable');
    await shownCount(page, `${dead.length} of ${SCALE_MINERS}`, polled);
    rows = await shownRows(page);
    assert(JSON.stringify(rows.map((r) => r.name)) === JSON.stringify(dead.map((m) => m.name)),
      `never reached: ${rows.map((r) => r.name)}`);
  });

  await check('selecting every matching miner, on screen or not, and the dry run names them ' +
    'all', async () => {
    await page.fill('#filter-q', 'rack02-');
    await page.selectOption('#filter-state', 'online');
    await shownCount(page, `${SCALE_RACK} of ${SCALE_MINERS}`, polled);
    await page.check('#pick-all');
    assert((await page.textContent('#bulk-count')) === `${SCALE_RACK} miners selected`,
      await page.textContent('#bulk-count'));
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const end = fleet.miners[2 * SCALE_RACK - 1]; /* rack02-100 */
    await page.waitForSelector(rowSelector(end.address));
    assert(await page.isChecked(`${rowSelector(end.address)} td.pick input`),
      `${end.name}, drawn after the selection, is ticked`);
    await openMenu(page, '#bulk-menu');
    await page.click('#bulk-menu [data-action="restart"]');
    await page.waitForFunction((n) => document.getElementById('act-title').textContent ===
      `Restart mining on ${n} miners?`, SCALE_RACK);
    assert((await page.textContent('#act-ok')) === `Restart mining on ${SCALE_RACK} miners`,
      await page.textContent('#act-ok'));
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-scale-dry-run.png') });
    await page.click('#act-cancel');
    await page.waitForSelector('#act-dialog', { state: 'hidden' });
    await page.click('#bulk-clear');
  });

  await check('sorting by a column orders every miner, not only those on screen', async () => {
    await page.fill('#filter-q', '');
    await page.selectOption('#filter-state', '');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click('#miners th[data-sort="temp"]');
    await page.waitForFunction((name) => document.querySelector('#miners tbody tr .name')
      .textContent === name, hot[0].name);
    await nextRefresh(page);
    const rows = await shownRows(page);
    assert(JSON.stringify(rows.slice(0, hot.length).map((r) => r.name)) ===
      JSON.stringify(hot.map((m) => m.name)), `hottest first: ${rows.map((r) => r.name)}`);
    const temps = rows.map((r) => r.temp);
    assert(temps.every((t, i) => i === 0 || t <= temps[i - 1]), `descending temps: ${temps}`);
  });

  await page.close();
  await check(`the daemon with ${SCALE_MINERS} miners stops cleanly`, async () => {
    const status = await stopDaemon(daemon);
    assert(status === 0, `the daemon stopped with ${status}\n${daemon.log.lines.join('\n')}`);
  });
}

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
    const temps = (await columnTexts(page, 5)).map((t) => parseFloat(t));
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
    /* Against a row that is not stale (under the sanitizers on a busy
     * machine, a given row may be between polls just then). */
    const normal = await page.$eval('#miners tbody tr:not(.stale) td.who',
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

  await actionChecks(browser, problems);
  await scaleChecks(browser, problems);

  await check('no script error and no Content-Security-Policy violation', async () => {
    /* Chromium logs every failed fetch; these ones are expected: the wrong
     * token's 401, the refused action's 429 and the no-store 503s of the
     * history endpoints. */
    const real = problems.filter((p) =>
      !/Failed to load resource: the server responded with a status of (401|429|503)/.test(p));
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
