/* antmon dashboard: the fleet at a glance (#/) and one miner (#/miner/HOST).
 *
 * Reads the JSON API of the same server only. Builds every element with
 * textContent, never innerHTML, so nothing a miner reports can run as
 * code. Refreshes in place: the fleet table holds only the rows on screen
 * (rows.js), redrawn from the new data, so scroll position, sort, filter
 * and selection survive a refresh at any fleet size. */
'use strict';

(() => {
  const TOKEN_KEY = 'antmon.token';
  const SORT_KEY = 'antmon.sort';
  const query = new URLSearchParams(location.search);
  /* ?refresh=N (seconds) overrides the 10 s refresh, e.g. for a wall screen. */
  const REFRESH_MS = Math.max(1, Number(query.get('refresh')) || 10) * 1000;
  const FLEET_HISTORY_MS = 60 * 1000;
  const DAY_S = 86400;

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  };

  const app = {
    timer: null,
    busy: false,
    route: null,
    sort: loadSort(),
    table: null, // the fleet table's rows on screen (WindowedRows)
    miners: [],
    charts: {},
    fleetLive: [], // {x, y} from /api/summary while history is unavailable
    fleetHistory: null, // rows, or null when unavailable
    fleetHistoryAt: 0,
    fleetHistoryNote: '',
    minerKey: null,
    range: 86400,
    minerLive: [], // detail snapshots while history is unavailable
    rawOpen: new Set(),
    rawPending: false, // the raw view found nothing kept and asked for a poll
    shown: [], // addresses of the rows the filter lets through, in order
    selected: new Set(), // addresses ticked in the fleet table
    miner: null, // the miner page's last detail
    jobs: new Map(), // action or fleet job id -> what the page follows of it
    minerMenu: null, // the miner page's action items by id, once built
    bulkMenu: null, // the same for the ticked rows
    actionsOff: false, // the API said it takes no actions (actions=false)
  };

  class AuthError extends Error {}

  /* ---- the API ------------------------------------------------------- */

  /* GET @path, or POST @json when given (as application/json: the API
   * refuses other bodies, so no page elsewhere can post a form to it). */
  async function api(path, json) {
    const headers = {};
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { headers, cache: 'no-store' };
    if (json !== undefined) {
      init.method = 'POST';
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    const reply = await fetch(path, init);
    let body = null;
    try {
      body = await reply.json();
    } catch (e) {
      body = null;
    }
    if (reply.status === 401) throw new AuthError();
    return { status: reply.status, body, retryAfter: reply.headers.get('Retry-After') };
  }

  /* The API's {"error":{"message"}} (or {"error":"text"}), else the status. */
  function errorText(reply) {
    const e = reply.body && reply.body.error;
    if (typeof e === 'string') return e;
    return e && e.message ? e.message : 'HTTP ' + reply.status;
  }

  /* ---- units ------------------------------------------------------------ */

  const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

  /* Hashes per second with the prefix that keeps 1 to 999: TH/s for a
   * SHA-256 miner, PH/s for a fleet, MH/s for scrypt. */
  function hashUnit(ths) {
    if (!ths) return { div: 1, unit: 'TH/s' };
    const hs = Math.abs(ths) * 1e12;
    let i = 0;
    while (i < SI.length - 1 && hs >= Math.pow(1000, i + 1)) i++;
    return { div: Math.pow(1000, i) / 1e12, unit: SI[i] + 'H/s' };
  }

  /* One formatter per number of decimals: toLocaleString() builds a new
   * one per call, which costs more than the rest of a 1,000-row table. */
  const formats = new Map();

  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    const d = digits !== undefined ? digits : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
    if (!formats.has(d))
      formats.set(d, new Intl.NumberFormat(undefined, { minimumFractionDigits: d,
        maximumFractionDigits: d }));
    return formats.get(d).format(v);
  }

  function fmtHash(ths) {
    if (ths === null || ths === undefined || !isFinite(ths)) return '–';
    const u = hashUnit(ths);
    return num(ths / u.div) + ' ' + u.unit;
  }

  function fmtPower(w) {
    if (w === null || w === undefined || !isFinite(w)) return '–';
    if (Math.abs(w) >= 1e6) return num(w / 1e6) + ' MW';
    if (Math.abs(w) >= 1000) return num(w / 1000) + ' kW';
    return num(w, 0) + ' W';
  }

  /* J/TH for SHA-256; J/MH for scrypt and the others (J/TH would be huge). */
  function fmtEff(jth, algorithm) {
    if (jth === null || jth === undefined || !isFinite(jth)) return '–';
    if (algorithm && algorithm !== 'sha256d') return num(jth / 1e6, 3) + ' J/MH';
    return num(jth, 1) + ' J/TH';
  }

  const fmtTemp = (c) => (c === null || c === undefined || !isFinite(c) ? '–' : num(c, 0) + ' °C');
  const fmtRpm = (r) => (r === null || r === undefined || !isFinite(r) ? '–' : num(r, 0) + ' rpm');

  function fmtDuration(s) {
    if (s === null || s === undefined || !isFinite(s) || s < 0) return '–';
    const d = Math.floor(s / DAY_S), h = Math.floor((s % DAY_S) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm';
    return Math.floor(s) + 's';
  }

  const fmtAge = (s) => (s === null || s === undefined ? 'never' : fmtDuration(s) + ' ago');

  function fmtTime(ms, withDate, withSeconds) {
    const d = new Date(ms);
    const t = d.toLocaleTimeString([], withSeconds
      ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
      : { hour: '2-digit', minute: '2-digit' });
    if (!withDate) return t;
    return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + t;
  }

  /* ---- charts ---------------------------------------------------------- */

  const PALETTE = ['#1f6feb', '#d4542d', '#1a7f37', '#b7791f', '#8250df', '#0e8a9e', '#c93c87',
    '#57606a'];

  function chartFor(id, yTitle) {
    if (app.charts[id]) return app.charts[id];
    const canvas = $(id);
    const chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.6 } },
        scales: {
          x: {
            type: 'linear',
            ticks: {
              maxTicksLimit: 7,
              /* `this` is the scale: dates on long ranges, seconds on the
               * few minutes a page without history has seen. */
              callback(v, i, ticks) {
                const fmt = (x) => fmtTime(x, this.chart.$longRange,
                  this.max - this.min < 15 * 60 * 1000);
                /* Ticks closer than the label's precision would repeat it. */
                return i > 0 && fmt(ticks[i - 1].value) === fmt(v) ? '' : fmt(v);
              },
            },
            grid: { display: false },
          },
          y: { beginAtZero: false, title: { display: true, text: yTitle } },
        },
        plugins: {
          legend: { display: false, labels: { boxWidth: 10 } },
          tooltip: { callbacks: { title: (items) => (items.length ? new Date(items[0].parsed.x)
            .toLocaleString() : '') } },
        },
      },
    });
    app.charts[id] = chart;
    return chart;
  }

  /* @series: [{label, points: [{x (ms), y}]}]; @window: [from, to] in ms
   * to show the whole range asked for, or undefined to fit the points. */
  function setChart(id, yTitle, series, longRange, window) {
    const chart = chartFor(id, yTitle);
    chart.$longRange = longRange;
    chart.options.scales.x.min = window ? window[0] : undefined;
    chart.options.scales.x.max = window ? window[1] : undefined;
    chart.options.scales.y.title.text = yTitle;
    chart.options.plugins.legend.display = series.length > 1;
    chart.data.datasets = series.map((s, i) => ({
      label: s.label,
      data: s.points,
      borderColor: PALETTE[i % PALETTE.length],
      backgroundColor: PALETTE[i % PALETTE.length],
      pointRadius: s.points.length < 3 ? 3 : 0,
    }));
    chart.update('none');
  }

  /* Hashrate points in one unit picked from their largest value. */
  function hashSeries(rows, label, field) {
    const max = rows.reduce((m, r) => Math.max(m, isFinite(r[field]) ? r[field] : 0), 0);
    const u = hashUnit(max || 1);
    return {
      unit: u.unit,
      series: { label, points: rows.filter((r) => r[field] !== null && isFinite(r[field]))
        .map((r) => ({ x: r.x, y: r[field] / u.div })) },
    };
  }

  /* ---- views ------------------------------------------------------------ */

  function show(view) {
    for (const id of ['login', 'fleet', 'miner']) $(id).hidden = id !== view;
  }

  function setStatus(text, isError) {
    const s = $('status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  function showLogin(message) {
    stopTimer();
    closeDialog();
    closeMenus();
    show('login');
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  /* ---- the fleet -------------------------------------------------------- */

  function loadSort() {
    try {
      const s = JSON.parse(localStorage.getItem(SORT_KEY));
      if (s && typeof s.key === 'string') return { key: s.key, desc: !!s.desc };
    } catch (e) {
      /* a bad value is replaced below */
    }
    return { key: 'host', desc: false };
  }

  function renderCards(s) {
    const answering = s.miners.online + s.miners.degraded;
    $('c-hashrate').textContent = answering ? fmtHash(s.hashrate_ths) : '–';
    $('c-ideal').textContent = s.hashrate_ideal_ratio !== null
      ? num(100 * s.hashrate_ideal_ratio, 0) + ' % of ideal (' + fmtHash(s.hashrate_ideal_ths) + ')'
      : '';
    $('c-power').textContent = fmtPower(s.power_w);
    $('c-power-sub').textContent = s.power_estimated ? 'partly estimated from J/TH' : '';
    $('c-eff').textContent = fmtEff(s.efficiency_jth);
    const m = s.miners;
    $('c-online').textContent = m.online;
    $('c-degraded').textContent = m.degraded;
    $('c-paused').textContent = m.paused || 0;
    $('c-offline').textContent = m.offline + m.unreachable;
    $('c-miners-sub').textContent = m.total + ' known' + (m.stale ? ', ' + m.stale + ' stale' : '');
    const others = (s.algorithms || []).filter((a) => a.algorithm !== 'sha256d');
    if (others.length) {
      $('c-miners-sub').textContent += '; ' + others.map((a) => a.miners + ' ' + a.algorithm +
        ' at ' + fmtHash(a.hashrate_ths)).join(', ');
    }
    if (s.hottest) {
      $('c-hot').textContent = fmtTemp(s.hottest.temp_max_c);
      $('c-hot-sub').textContent = s.hottest.name || s.hottest.address;
    } else {
      $('c-hot').textContent = '–';
      $('c-hot-sub').textContent = '';
    }
  }

  const STATE_ORDER = { online: 0, degraded: 1, paused: 2, offline: 3, unreachable: 4 };

  function sortValue(m, key) {
    const s = m.sample;
    switch (key) {
      case 'host': return null;
      case 'name': return m.name || m.address;
      case 'state': return STATE_ORDER[m.state];
      case 'model': return s ? s.model : null;
      case 'ratio': return s && s.hashrate_ideal_ths > 0 && s.hashrate_ths !== null
        ? s.hashrate_ths / s.hashrate_ideal_ths : null;
      case 'temp': return s ? s.temp_max_c : null;
      case 'fan': return s ? s.avg_fan_rpm : null;
      case 'power': return s ? s.power_w : null;
      case 'uptime': return s ? s.elapsed_s : null;
      case 'last_seen': return m.age_s === null ? null : -m.age_s;
      default: return null;
    }
  }

  /* Digit runs compare as numbers: 10.0.0.9 before 10.0.0.10. */
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  /* @miners in the table's order, each value read once rather than in
   * each of the n log n comparisons. No value sorts last whichever the
   * direction; ties go by address. */
  function sortMiners(miners) {
    const { key, desc } = app.sort;
    const dir = desc ? -1 : 1;
    const byAddress = (x, y) => collator.compare(x.m.address, y.m.address);
    const rows = miners.map((m) => {
      const v = key === 'host' ? null : sortValue(m, key);
      const none = v === null || v === undefined || (typeof v === 'number' && !isFinite(v));
      return { m, v: none ? null : v };
    });
    rows.sort((x, y) => {
      if (key === 'host') return dir * byAddress(x, y);
      if ((x.v === null) !== (y.v === null)) return x.v === null ? 1 : -1;
      if (x.v !== null) {
        const c = typeof x.v === 'string' ? collator.compare(x.v, y.v) : x.v - y.v;
        if (c !== 0) return dir * c;
      }
      return byAddress(x, y);
    });
    return rows.map((r) => r.m);
  }

  /* The filter's state and text, read once per pass over the miners. */
  function currentFilter() {
    return { state: $('filter-state').value, q: $('filter-q').value.trim().toLowerCase() };
  }

  function matchesFilter(m, f) {
    if (f.state && m.state !== f.state) return false;
    if (!f.q) return true;
    const model = m.sample && m.sample.model ? m.sample.model : '';
    return [m.address, m.name || '', model].some((t) => t.toLowerCase().includes(f.q));
  }

  function cell(tr, i, cls) {
    while (tr.children.length <= i) tr.appendChild(el('td'));
    const td = tr.children[i];
    td.className = cls || '';
    td.replaceChildren();
    return td;
  }

  const minerHash = (address) => '#/miner/' + encodeURIComponent(address);

  function renderRow(tr, m) {
    const s = m.sample;
    tr.dataset.address = m.address;
    tr.dataset.state = m.state;
    tr.classList.toggle('stale', !!m.stale);
    tr.title = m.stale ? 'Stale: last good reading ' + fmtAge(m.age_s) : '';
    const box = tr.cells[0].firstChild;
    box.checked = app.selected.has(m.address);
    box.setAttribute('aria-label', 'Select ' + m.address);

    const state = cell(tr, 1, 'state');
    state.appendChild(el('span', 'st st-' + m.state, m.state === 'unreachable' ? 'never reached'
      : m.state));
    if (m.state_reason) state.appendChild(el('span', 'reason', m.state_reason));

    const who = cell(tr, 2, 'who');
    const link = el('a', 'name', m.name || m.host);
    link.href = minerHash(m.address);
    who.appendChild(link);
    who.appendChild(el('span', 'host', m.address));

    cell(tr, 3, 'opt').textContent = s && s.model ? s.model : '–';

    const hr = cell(tr, 4, 'num');
    hr.appendChild(document.createTextNode(s ? fmtHash(s.hashrate_ths) : '–'));
    if (s && s.hashrate_ideal_ths > 0 && s.hashrate_ths !== null) {
      const ratio = s.hashrate_ths / s.hashrate_ideal_ths;
      const bar = el('span', 'bar' + (ratio < 0.8 ? ' bad' : ratio < 0.95 ? ' low' : ''));
      const fill = el('span');
      fill.style.width = Math.max(0, Math.min(100, ratio * 100)).toFixed(0) + '%';
      bar.appendChild(fill);
      bar.title = num(ratio * 100, 0) + ' % of ' + fmtHash(s.hashrate_ideal_ths);
      hr.appendChild(bar);
    }

    const temp = cell(tr, 5, 'num');
    temp.textContent = s ? fmtTemp(s.temp_max_c) : '–';
    if (s && s.temp_max_c >= 85) temp.classList.add('hot');

    const fans = cell(tr, 6, 'num opt');
    if (s && s.liquid_cooled && !(s.fans_rpm || []).length) fans.textContent = 'liquid';
    else fans.textContent = s ? fmtRpm(s.avg_fan_rpm) + (s.fans_rpm && s.fans_rpm.length
      ? ' ×' + s.fans_rpm.length : '') : '–';

    cell(tr, 7, 'num opt').textContent = s ? fmtPower(s.power_w) +
      (s.power_source === 'estimated' ? '*' : '') : '–';
    cell(tr, 8, 'num opt').textContent = s ? fmtDuration(s.elapsed_s) : '–';
    cell(tr, 9, 'num age').textContent = fmtAge(m.age_s);
  }

  /* An empty row: the tick box and the cells renderRow fills. Clicks are
   * handled once for the whole body (bindTable), so a row reused for
   * another miner needs nothing changed but its content. */
  function newRow() {
    const tr = el('tr');
    const pick = el('td', 'pick');
    const box = el('input');
    box.type = 'checkbox';
    pick.appendChild(box);
    tr.appendChild(pick);
    return tr;
  }

  /* Only the rows on screen are in the DOM (WindowedRows, rows.js); the
   * order, the filter and the selection cover every miner. */
  function renderTable() {
    const f = currentFilter();
    const shown = sortMiners(app.miners.filter((m) => matchesFilter(m, f)));
    app.shown = shown.map((m) => m.address);
    for (const th of $('miners').tHead.rows[0].cells) {
      th.classList.toggle('sorted-asc', th.dataset.sort === app.sort.key && !app.sort.desc);
      th.classList.toggle('sorted-desc', th.dataset.sort === app.sort.key && app.sort.desc);
    }
    const total = app.miners.length;
    $('empty').hidden = total > 0;
    $('table-wrap').hidden = total === 0;
    $('no-match').hidden = total === 0 || shown.length > 0;
    $('miner-count').textContent = total ? (shown.length === total ? total + ''
      : shown.length + ' of ' + total) : '';
    /* After the table is shown: rows are drawn only where they are seen. */
    app.table.setItems(shown);
    renderSelection();
  }

  /* A new list from the API: the selection keeps only miners still known. */
  function setMiners(miners) {
    app.miners = miners;
    if (!app.selected.size) return;
    const keep = new Set(miners.map((m) => m.address));
    for (const address of app.selected) if (!keep.has(address)) app.selected.delete(address);
  }

  /* The table body's clicks: a tick box (or its cell) selects, the
   * miner's name is a link, anywhere else on a row opens the miner too. */
  function bindTable() {
    const tbody = $('miners').tBodies[0];
    app.table = new WindowedRows(tbody, { key: (m) => m.address, create: newRow,
      render: renderRow, margin: 5 });
    tbody.addEventListener('change', (ev) => {
      const tr = ev.target.closest('td.pick') && ev.target.closest('tr');
      if (!tr) return;
      if (ev.target.checked) app.selected.add(tr.dataset.address);
      else app.selected.delete(tr.dataset.address);
      renderSelection();
    });
    tbody.addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr');
      if (!tr || ev.target.closest('a')) return;
      const pick = ev.target.closest('td.pick');
      /* Ticking is not opening the miner page. */
      if (pick) {
        if (ev.target.tagName !== 'INPUT') pick.firstChild.click();
        return;
      }
      location.hash = minerHash(tr.dataset.address);
    });
  }

  async function loadFleetHistory() {
    const since = Math.floor(Date.now() / 1000) - DAY_S;
    const reply = await api('/api/fleet?since=' + since + '&step=300');
    app.fleetHistoryAt = Date.now();
    if (reply.status === 200) {
      app.fleetHistory = reply.body.rows.map((r) => ({ x: Date.parse(r.time), y: r.hashrate_ths }));
      app.fleetHistoryNote = app.fleetHistory.length ? ''
        : 'No history in the last 24 h yet: it fills in as antmon polls.';
    } else {
      app.fleetHistory = null;
      app.fleetHistoryNote = reply.status === 503
        ? 'History needs a [store:sqlite] group in antmon.ini; showing values since this page ' +
          'opened.'
        : 'History unavailable: ' + errorText(reply);
    }
  }

  function renderFleetChart() {
    const rows = (app.fleetHistory || []).concat(app.fleetLive.filter((p) =>
      !app.fleetHistory || !app.fleetHistory.length ||
      p.x > app.fleetHistory[app.fleetHistory.length - 1].x));
    const h = hashSeries(rows, 'fleet hashrate', 'y');
    const now = Date.now();
    setChart('fleet-chart', h.unit, [h.series], false,
      app.fleetHistory ? [now - DAY_S * 1000, now] : undefined);
    $('fleet-chart-note').textContent = app.fleetHistoryNote +
      (rows.length ? '' : ' No miner has answered yet.');
  }

  async function refreshFleet() {
    const [summary, list] = await Promise.all([api('/api/summary'), api('/api/miners?view=brief')]);
    if (summary.status !== 200) throw new Error(errorText(summary));
    if (list.status !== 200) throw new Error(errorText(list));
    renderCards(summary.body);
    setMiners(list.body.miners);
    app.actionsOff = list.body.actions_enabled === false;
    /* Marks for the browser's profiler: filtering and sorting every miner
     * is what the table costs once only the rows on screen are drawn. */
    performance.mark('antmon-table-start');
    renderTable();
    performance.mark('antmon-table-end');
    const t = Date.parse(summary.body.time);
    const answering = summary.body.miners.online + summary.body.miners.degraded;
    if (answering > 0 && summary.body.hashrate_ths !== null) {
      app.fleetLive.push({ x: t, y: summary.body.hashrate_ths });
      while (app.fleetLive.length && app.fleetLive[0].x < t - DAY_S * 1000) app.fleetLive.shift();
    }
    if (Date.now() - app.fleetHistoryAt > FLEET_HISTORY_MS) await loadFleetHistory();
    renderFleetChart();
  }

  /* ---- one miner ---------------------------------------------------------- */

  function fact(dl, label, value) {
    if (value === null || value === undefined || value === '') return;
    const d = el('div');
    d.appendChild(el('dt', null, label));
    d.appendChild(el('dd', null, String(value)));
    dl.appendChild(d);
  }

  function renderMinerHead(m) {
    const s = m.sample || {};
    $('m-title').textContent = m.name && m.name !== m.host ? m.name + ' (' + m.address + ')'
      : m.address;
    const badge = $('m-state');
    badge.className = 'badge ' + m.state;
    badge.textContent = m.state;
    $('m-reason').textContent = (m.state_reason || '') + (m.stale ? ' · last reading ' +
      fmtAge(m.age_s) : '');
    const dl = $('m-facts');
    dl.replaceChildren();
    fact(dl, 'Model', s.model);
    fact(dl, 'Firmware', [s.firmware, s.firmware_version].filter(Boolean).join(' '));
    fact(dl, 'Hashrate', m.sample ? fmtHash(s.hashrate_ths) + ' of ' +
      fmtHash(s.hashrate_ideal_ths) : null);
    fact(dl, 'Power', m.sample ? fmtPower(s.power_w) + (s.power_source === 'estimated'
      ? ' (estimated)' : '') : null);
    fact(dl, 'Efficiency', m.sample ? fmtEff(s.efficiency_jth, s.algorithm) : null);
    fact(dl, 'Max temp', m.sample ? fmtTemp(s.temp_max_c) : null);
    fact(dl, 'Uptime', m.sample ? fmtDuration(s.elapsed_s) : null);
    fact(dl, 'Last seen', fmtAge(m.age_s));
    fact(dl, 'Driver', m.driver);
    fact(dl, 'MAC', s.mac);
    fact(dl, 'Found by', m.source);
    renderMinerExtended(dl, s);
    if (s.problems && s.problems.length) fact(dl, 'Problems', s.problems.join('; '));
  }

  /* What newer firmware reports besides: what the miner is doing, its power
   * target, coolant, PSU, luck and its own errors. Each only when known. */
  function renderMinerExtended(dl, s) {
    if (s.mining) fact(dl, 'Mining', s.mining);
    const target = [s.work_mode, s.power_limit_w != null ? fmtPower(s.power_limit_w) : null];
    if (target.some(Boolean)) fact(dl, 'Power target', target.filter(Boolean).join(', '));
    if (s.water_temp_in_c != null || s.water_temp_out_c != null) {
      fact(dl, 'Water in / out', fmtTemp(s.water_temp_in_c) + ' / ' + fmtTemp(s.water_temp_out_c));
    }
    if (s.psu) {
      const psu = [s.psu.power_in_w != null ? fmtPower(s.psu.power_in_w) + ' in' : null,
        s.psu.power_out_w != null ? fmtPower(s.psu.power_out_w) + ' out' : null,
        s.psu.fan_rpm != null ? Math.round(s.psu.fan_rpm) + ' RPM fan' : null];
      if (psu.some(Boolean)) fact(dl, 'PSU', psu.filter(Boolean).join(', '));
    }
    if (s.best_share != null) fact(dl, 'Best share', Number(s.best_share).toLocaleString('en-US'));
    if (s.found_blocks != null) fact(dl, 'Blocks found', s.found_blocks);
    if (s.errors && s.errors.length) {
      fact(dl, 'Firmware errors', s.errors.map((e) => [e.severity, e.code, e.message]
        .filter(Boolean).join(' ')).join('; '));
    }
    if (s.partial) fact(dl, 'Reading', 'partial: some replies could not be read');
  }

  function renderChains(m) {
    const tbody = $('m-chains').tBodies[0];
    tbody.replaceChildren();
    for (const c of m.chains || []) {
      const tr = el('tr');
      tr.appendChild(el('td', null, c.index === null ? '–' : String(c.index)));
      tr.appendChild(el('td', 'num', fmtHash(c.hashrate_ths)));
      const chips = c.chips === null ? '–' : c.chips + (c.chips_expected !== null
        ? ' / ' + c.chips_expected : '');
      tr.appendChild(el('td', 'num', chips));
      const health = el('td');
      if (c.chips !== null && c.chips_expected > 0) {
        const ok = (c.chips_ok !== null ? c.chips_ok : c.chips - (c.chips_failed || 0));
        const ratio = ok / c.chips_expected;
        const bar = el('span', 'bar' + (ratio < 0.9 ? ' bad' : ratio < 1 ? ' low' : ''));
        const fill = el('span');
        fill.style.width = Math.max(0, Math.min(100, ratio * 100)).toFixed(0) + '%';
        bar.appendChild(fill);
        health.appendChild(document.createTextNode(ok + ' ok' + (c.chips_failed > 0
          ? ', ' + c.chips_failed + ' failed' : '')));
        health.appendChild(bar);
      } else {
        health.textContent = '–';
      }
      tr.appendChild(health);
      tr.appendChild(el('td', 'num', c.hw_errors === null ? '–' : String(c.hw_errors)));
      tr.appendChild(el('td', 'num', fmtTemp(c.temp_board_c)));
      tr.appendChild(el('td', 'num', fmtTemp(c.temp_chip_c)));
      tbody.appendChild(tr);
    }
    if (!(m.chains || []).length) {
      const tr = el('tr');
      const td = el('td', 'note', m.sample ? 'The firmware reports no per-board detail.'
        : 'No reading yet.');
      td.colSpan = 7;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  function renderPools(m) {
    const tbody = $('m-pools').tBodies[0];
    tbody.replaceChildren();
    for (const p of m.pools || []) {
      const tr = el('tr');
      const url = el('td', null, p.url || '–');
      if (p.active) url.appendChild(el('span', 'note', ' (active)'));
      tr.appendChild(url);
      tr.appendChild(el('td', null, p.user || '–'));
      tr.appendChild(el('td', null, p.status || '–'));
      for (const v of [p.priority, p.accepted, p.rejected, p.stale])
        tr.appendChild(el('td', 'num', v === null || v === undefined || v < 0 ? '–' : String(v)));
      tbody.appendChild(tr);
    }
  }

  function renderEvents(detail) {
    const list = $('m-events');
    list.replaceChildren();
    const history = detail.history || {};
    const events = detail.events || [];
    $('m-events-note').textContent = !history.available
      ? 'Events need a [store:sqlite] group in antmon.ini.'
      : events.length ? '' : 'No state change or alert in the last 7 days.';
    for (const e of events) {
      const li = el('li');
      const t = el('time', null, e.time ? new Date(e.time).toLocaleString() : '');
      if (e.time) t.dateTime = e.time;
      li.appendChild(t);
      li.appendChild(el('strong', null, e.kind + ': ' + e.name));
      const detail = typeof e.detail === 'object' && e.detail ? actionEventText(e.detail)
        : e.detail;
      if (detail) li.appendChild(document.createTextNode(' — ' + detail));
      list.appendChild(li);
    }
  }

  /* An action event carries the action itself: say who, how it ended. */
  function actionEventText(a) {
    return [stateLabel(a.state), a.message, a.who ? 'by ' + a.who : null]
      .filter(Boolean).join(', ');
  }

  async function renderRaw(key) {
    const reply = await api('/api/miners/' + encodeURIComponent(key) + '/raw');
    const box = $('m-raw');
    if (reply.status !== 200) {
      box.replaceChildren(el('p', 'note', errorText(reply)));
      return;
    }
    const replies = reply.body.replies || {};
    const names = Object.keys(replies).sort();
    box.replaceChildren();
    /* None kept yet: antmon polls the miner now; the next refresh shows them. */
    app.rawPending = !names.length;
    if (!names.length) box.appendChild(el('p', 'note', reply.body.message ||
      'No reply recorded yet.'));
    for (const name of names) {
      const r = replies[name];
      const d = el('details');
      d.open = app.rawOpen.has(name);
      d.addEventListener('toggle', () => (d.open ? app.rawOpen.add(name)
        : app.rawOpen.delete(name)));
      d.appendChild(el('summary', null, name + ' · ' + r.bytes + ' bytes · ' +
        new Date(r.when).toLocaleTimeString()));
      d.appendChild(el('pre', null, r.text));
      box.appendChild(d);
    }
  }

  /* Steps that keep a chart near 300-700 points; the store picks raw rows
   * or its 1 min / 1 h rollups from them. */
  const STEP_FOR_RANGE = { 3600: 0, 86400: 120, 604800: 900, 2592000: 3600 };

  async function loadMinerHistory(address) {
    const since = Math.floor(Date.now() / 1000) - app.range;
    const step = STEP_FOR_RANGE[app.range];
    let path = '/api/metrics?ip=' + encodeURIComponent(address) + '&since=' + since +
      (step ? '&step=' + step : '') + '&limit=5000';
    let rows = [];
    for (let page = 0; page < 5; page++) {
      const reply = await api(path);
      if (reply.status !== 200) return { error: reply };
      rows = rows.concat(reply.body.rows);
      if (!reply.body.next_cursor) break;
      path = path.replace(/&cursor=[^&]*/, '') + '&cursor=' +
        encodeURIComponent(reply.body.next_cursor);
    }
    return { rows: rows.map((r) => Object.assign({ x: Date.parse(r.time) }, r)) };
  }

  function renderHistoryCharts(rows, longRange) {
    const now = Date.now();
    const window = [now - app.range * 1000, now];
    const h = hashSeries(rows, 'hashrate', 'hashrate_ths');
    setChart('m-chart-hashrate', h.unit, [h.series], longRange, window);
    const pick = (f) => rows.filter((r) => r[f] !== null && isFinite(r[f]))
      .map((r) => ({ x: r.x, y: r[f] }));
    setChart('m-chart-temp', '°C', [{ label: 'max', points: pick('temp_max_c') },
      { label: 'average', points: pick('avg_temp_c') }], longRange, window);
    setChart('m-chart-fans', 'rpm', [{ label: 'average', points: pick('avg_fan_rpm') }],
      longRange, window);
    setChart('m-chart-power', 'W', [{ label: 'power', points: pick('power_w') }], longRange,
      window);
  }

  /* Without a store: what this page saw since it opened, board by board. */
  function renderLiveCharts() {
    const snaps = app.minerLive;
    const rows = snaps.map((s) => ({ x: s.x, hashrate_ths: s.sample.hashrate_ths,
      power_w: s.sample.power_w }));
    const h = hashSeries(rows, 'hashrate', 'hashrate_ths');
    setChart('m-chart-hashrate', h.unit, [h.series], false);
    const boards = new Map();
    const fans = new Map();
    for (const s of snaps) {
      const chains = s.sample.chains || [];
      const temps = chains.length ? chains.map((c) => ['board ' + c.index, c.temp_board_c])
        : (s.sample.temps_c || []).map((t, i) => ['board ' + i, t]);
      for (const [label, t] of temps) {
        if (t === null) continue;
        if (!boards.has(label)) boards.set(label, []);
        boards.get(label).push({ x: s.x, y: t });
      }
      (s.sample.fans_rpm || []).forEach((r, i) => {
        if (!fans.has(i)) fans.set(i, []);
        fans.get(i).push({ x: s.x, y: r });
      });
    }
    setChart('m-chart-temp', '°C', Array.from(boards, ([label, points]) => ({ label, points })),
      false);
    setChart('m-chart-fans', 'rpm', Array.from(fans, ([i, points]) => ({ label: 'fan ' + i,
      points })), false);
    setChart('m-chart-power', 'W', [{ label: 'power', points: rows.filter((r) => r.power_w !== null)
      .map((r) => ({ x: r.x, y: r.power_w })) }], false);
  }

  async function refreshMiner(key, first) {
    const reply = await api('/api/miners/' + encodeURIComponent(key));
    if (reply.status === 404) {
      app.miner = null;
      $('m-menu').hidden = true;
      $('m-title').textContent = key;
      $('m-reason').textContent = 'antmon does not know this miner.';
      return;
    }
    if (reply.status !== 200) throw new Error(errorText(reply));
    const m = reply.body;
    app.miner = m;
    renderMinerHead(m);
    renderMinerMenu(m);
    renderChains(m);
    renderPools(m);
    renderEvents(m);
    if (m.sample && (!app.minerLive.length ||
        app.minerLive[app.minerLive.length - 1].sample.when !== m.sample.when))
      app.minerLive.push({ x: Date.parse(m.sample.when), sample: m.sample });
    const history = await loadMinerHistory(m.address);
    const longRange = app.range > DAY_S;
    if (history.rows) {
      renderHistoryCharts(history.rows, longRange);
      $('m-history-note').textContent = history.rows.length ? ''
        : 'No data in this range yet: it fills in as antmon polls.';
    } else {
      renderLiveCharts();
      $('m-history-note').textContent = history.error.status === 503
        ? 'History needs a [store:sqlite] group in antmon.ini; the charts show what this page ' +
          'saw since it opened.'
        : 'History unavailable: ' + errorText(history.error);
    }
    if (first || app.rawPending) await renderRaw(key);
  }

  /* ---- actions -------------------------------------------------------------- */

  /* The menu's items. @action is the API's name; @params are fixed ones
   * (the two locate items), @ask the settings the dialog asks for. */
  const ACTIONS = [
    { id: 'reboot', action: 'reboot', label: 'Reboot', verb: 'Reboot' },
    { id: 'restart', action: 'restart', label: 'Restart mining', verb: 'Restart mining on' },
    { id: 'pause', action: 'pause', label: 'Pause', verb: 'Pause' },
    { id: 'resume', action: 'resume', label: 'Resume', verb: 'Resume' },
    { id: 'power_target', action: 'power_target', label: 'Power target…', ask: true,
      verb: 'Set the power target of' },
    { id: 'work_mode', action: 'work_mode', label: 'Work mode…', ask: true,
      verb: 'Set the work mode of' },
    { id: 'locate_on', action: 'locate', params: { on: true }, label: 'Locate light on',
      verb: 'Turn on the locate light of' },
    { id: 'locate_off', action: 'locate', params: { on: false }, label: 'Locate light off',
      verb: 'Turn off the locate light of' },
    { id: 'pools', action: 'pools', label: 'Pools…', ask: true, verb: 'Replace the pools of' },
  ];

  const FINAL_STATES = ['confirmed', 'not_confirmed', 'failed'];
  const JOB_POLL_MS = 2000;
  const stateLabel = (s) => String(s || '').replace(/_/g, ' ');
  const plural = (n, one) => n + ' ' + one + (n === 1 ? '' : 's');

  /* An "Actions" button and its list of items in @box; @pick(item) runs on
   * a click. Returns the item buttons by id, to grey out. */
  function buildMenu(box, pick) {
    const toggle = el('button', 'menu-toggle', 'Actions ▾');
    toggle.type = 'button';
    toggle.setAttribute('aria-haspopup', 'true');
    toggle.setAttribute('aria-expanded', 'false');
    const list = el('div', 'menu-items');
    list.setAttribute('role', 'menu');
    list.hidden = true;
    const items = {};
    for (const item of ACTIONS) {
      const b = el('button', 'menu-item');
      b.type = 'button';
      b.dataset.action = item.id;
      b.setAttribute('role', 'menuitem');
      b.appendChild(el('span', 'label', item.label));
      b.appendChild(el('span', 'why'));
      b.addEventListener('click', () => {
        closeMenus();
        pick(item);
      });
      items[item.id] = b;
      list.appendChild(b);
    }
    toggle.addEventListener('click', (ev) => {
      ev.stopPropagation();
      const open = list.hidden;
      closeMenus();
      list.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
    });
    box.replaceChildren(toggle, list);
    return items;
  }

  function closeMenus() {
    for (const list of document.querySelectorAll('.menu-items')) list.hidden = true;
    for (const t of document.querySelectorAll('.menu-toggle'))
      t.setAttribute('aria-expanded', 'false');
  }

  /* Greys out an item that cannot run, with the reason as its tooltip and
   * under its label. */
  function setItem(button, reason) {
    button.disabled = !!reason;
    button.title = reason || '';
    button.querySelector('.why').textContent = reason || '';
  }

  /* The miner page's menu, from "actions" (what its driver can do) and
   * "actions_unsupported" (why not the others). */
  function renderMinerMenu(m) {
    const box = $('m-menu');
    box.hidden = !Array.isArray(m.actions) || m.actions_enabled === false;
    if (box.hidden) return;
    if (!app.minerMenu) app.minerMenu = buildMenu(box, (item) =>
      openAction(item, { hosts: [app.miner.address], label: app.miner.address }));
    const why = m.actions_unsupported || {};
    for (const item of ACTIONS) {
      const ok = m.actions.includes(item.action);
      setItem(app.minerMenu[item.id], ok ? '' : why[item.action] || (m.driver
        ? 'The ' + m.driver + ' driver cannot do this on this miner.'
        : 'The miner is not identified yet.'));
    }
  }

  /* ---- selecting rows in the fleet table ---- */

  /* The ticked miners as a fleet action names them. When they are every
   * miner the filter matches, by the filter itself (the API's q and state
   * match as the table's filter does): 10,000 addresses would be a body
   * over the API's max_body_bytes. Otherwise by their addresses. */
  function selectionTarget() {
    const count = app.selected.size;
    const all = count === app.shown.length && app.shown.every((a) => app.selected.has(a));
    if (!all) return { fleet: true, count, selector: { hosts: Array.from(app.selected) } };
    const f = currentFilter();
    const selector = {};
    if (f.q) selector.q = f.q;
    if (f.state) selector.state = f.state;
    return { fleet: true, count, selector };
  }

  /* Every miner the filter lets through, on screen or not. */
  function pickAllShown(on) {
    for (const address of app.shown) {
      if (on) app.selected.add(address);
      else app.selected.delete(address);
    }
    syncTicks();
  }

  /* The tick boxes on screen after the selection changed. */
  function syncTicks() {
    app.table.forEachRow((tr, address) => (tr.cells[0].firstChild.checked =
      app.selected.has(address)));
    renderSelection();
  }

  function renderSelection() {
    const all = $('pick-all');
    const ticked = app.shown.filter((a) => app.selected.has(a)).length;
    all.checked = ticked > 0 && ticked === app.shown.length;
    all.indeterminate = ticked > 0 && ticked < app.shown.length;
    const n = app.selected.size;
    $('bulk').hidden = n === 0;
    if (!n) return;
    const hidden = n - ticked;
    $('bulk-count').textContent = plural(n, 'miner') + ' selected' +
      (hidden ? ' (' + hidden + ' not shown by the filter)' : '') +
      (app.actionsOff ? '. Actions are off: set actions=true in [http:api].' : '');
    $('bulk-menu').hidden = app.actionsOff;
    if (!app.bulkMenu) app.bulkMenu = buildMenu($('bulk-menu'), (item) =>
      openAction(item, selectionTarget()));
    /* Greyed only when no selected miner can do it: the dry run names the
     * ones that will be skipped. */
    const chosen = app.miners.filter((m) => app.selected.has(m.address) &&
      Array.isArray(m.actions));
    for (const item of ACTIONS) {
      const none = chosen.length > 0 && !chosen.some((m) => m.actions.includes(item.action));
      setItem(app.bulkMenu[item.id], none ? 'None of the selected miners can do this.' : '');
    }
  }

  /* ---- the dialog: settings, dry run, confirmation ---- */

  const dialog = { item: null, target: null, plan: null, busy: false };

  function poolRows(pools) {
    const tbody = $('act-pools');
    tbody.replaceChildren();
    for (let i = 0; i < 3; i++) {
      const p = pools[i] || {};
      const tr = el('tr');
      tr.appendChild(el('td', 'note', String(i + 1)));
      for (const [field, type, value] of [['url', 'text', p.url], ['user', 'text', p.user],
        ['password', 'password', '']]) {
        const td = el('td');
        const input = el('input');
        input.type = type;
        input.dataset.field = field;
        input.value = value || '';
        input.autocomplete = 'off';
        input.setAttribute('aria-label', 'Pool ' + (i + 1) + ' ' + field);
        td.appendChild(input);
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  /* The settings the dialog asks for, checked before anything is sent;
   * throws a message a user can act on. */
  function askedParams(item) {
    if (item.action === 'power_target') {
      const watts = Number($('act-watts').value);
      if (!Number.isInteger(watts) || watts <= 0) throw new Error('Enter the power target in ' +
        'watts, a whole number above 0.');
      return { watts };
    }
    if (item.action === 'work_mode') return { mode: $('act-mode').value };
    if (item.action === 'pools') {
      const pools = [];
      for (const tr of $('act-pools').rows) {
        const p = {};
        for (const input of tr.querySelectorAll('input')) p[input.dataset.field] = input.value.trim();
        if (!p.url && !p.user && !p.password) continue;
        if (!p.url || !p.user) throw new Error('Each pool needs a URL and a user.');
        if (!p.password) delete p.password;
        pools.push(p);
      }
      if (!pools.length) throw new Error('Enter at least one pool.');
      return { pools };
    }
    return Object.assign({}, item.params || {});
  }

  /* A line that says what the settings are, for the confirmation. */
  function paramsText(params) {
    if (params.watts) return 'Target: ' + num(params.watts, 0) + ' W.';
    if (params.mode) return 'Mode: ' + params.mode + '.';
    if (params.pools) return 'Pools, first preferred: ' + params.pools.map((p) => p.url)
      .join(', ') + '.';
    return '';
  }

  function dialogError(text) {
    $('act-error').hidden = !text;
    $('act-error').textContent = text || '';
  }

  function showParams(names) {
    for (const box of document.querySelectorAll('.act-params'))
      box.hidden = !names.includes(box.dataset.for);
  }

  /* One miner: settings (if any) and the confirmation at once. Several:
   * settings first (if any), then the dry run's answer to confirm. */
  function openAction(item, target) {
    Object.assign(dialog, { item, target, plan: null, busy: false });
    dialogError('');
    $('act-plan').hidden = true;
    $('act-plan').replaceChildren();
    if (item.action === 'pools') poolRows(app.miner && !target.fleet ? app.miner.pools || [] : []);
    if (item.action === 'power_target' && !target.fleet && app.miner && app.miner.sample)
      $('act-watts').value = app.miner.sample.power_limit_w || '';
    const asked = item.ask ? [item.action] : [];
    if (target.fleet) {
      $('act-title').textContent = item.label.replace('…', '') + ': ' +
        plural(target.count, 'selected miner');
      showParams(asked);
      $('act-ok').textContent = 'Check what will be done';
    } else {
      $('act-title').textContent = item.verb + ' ' + target.label + '?';
      showParams(asked);
      $('act-ok').textContent = item.label.replace('…', '');
    }
    $('act-ok').disabled = false;
    $('act-dialog').showModal();
    if (target.fleet && !item.ask) dryRun().catch((e) => dialogError(e.message));
  }

  function closeDialog() {
    if ($('act-dialog').open) $('act-dialog').close();
  }

  /* The reply of an action call that was not accepted, as a sentence. */
  function refusal(reply) {
    let text = errorText(reply);
    if (reply.status === 429 && reply.retryAfter) text += ' (try again in ' + reply.retryAfter +
      ' s)';
    if ((reply.status === 404 || reply.status === 405) && !(reply.body && reply.body.error))
      text = 'This antmon does not take actions: set actions=true in its [http:api] group.';
    return text;
  }

  /* A refused token closes the dialog and asks for it again. */
  async function send(path, body) {
    try {
      return await api(path, body);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      closeDialog();
      showLogin(localStorage.getItem(TOKEN_KEY)
        ? 'That token was refused. Enter it again, then repeat the action.'
        : 'Actions need the API token. Enter it, then repeat the action.');
      return null;
    }
  }

  function fleetBody(params, dryRun) {
    const body = Object.assign({ action: dialog.item.action }, params,
      dialog.target.selector, { dry_run: dryRun });
    const batch = Number($('act-batch').value);
    if (batch > 0) body.batch = batch;
    const interval = $('act-interval').value.trim();
    if (interval) body.interval = interval;
    return body;
  }

  /* Runs @call with the confirm button off, so a double click sends once. */
  async function sending(call) {
    dialog.busy = true;
    $('act-ok').disabled = true;
    try {
      return await call();
    } finally {
      dialog.busy = false;
      $('act-ok').disabled = false;
    }
  }

  async function dryRun() {
    const params = askedParams(dialog.item);
    const reply = await sending(() => send('/api/actions', fleetBody(params, true)));
    if (!reply) return;
    if (reply.status !== 200 && reply.status !== 202) {
      dialogError(refusal(reply));
      return;
    }
    dialog.plan = { params, miners: reply.body.miners || [] };
    renderPlan();
  }

  /* Miners listed by name in a dry run's skipped list or a fleet job's
   * progress; the counts cover the rest. */
  const SKIPPED_SHOWN = 50;

  /* The dry run's answer: how many miners, and the skipped ones with why. */
  function renderPlan() {
    const { params, miners } = dialog.plan;
    const doing = miners.filter((m) => m.state === 'would_do');
    const skipped = miners.filter((m) => m.state !== 'would_do');
    const n = doing.length;
    $('act-title').textContent = dialog.item.verb + ' ' + plural(n, 'miner') + '?';
    const plan = $('act-plan');
    plan.replaceChildren();
    const text = paramsText(params);
    if (text) plan.appendChild(el('p', null, text));
    if (skipped.length) {
      plan.appendChild(el('p', null, plural(skipped.length, 'selected miner') +
        ' will be skipped:'));
      const ul = el('ul', 'skipped');
      /* The first ones, with why: a whole rack's worth would bury the rest. */
      for (const m of skipped.slice(0, SKIPPED_SHOWN)) {
        const li = el('li');
        li.appendChild(el('strong', null, m.miner));
        li.appendChild(document.createTextNode(': ' + (m.message || stateLabel(m.state))));
        ul.appendChild(li);
      }
      if (skipped.length > SKIPPED_SHOWN)
        ul.appendChild(el('li', 'note', 'and ' + (skipped.length - SKIPPED_SHOWN) + ' more'));
      plan.appendChild(ul);
    }
    if (!n) plan.appendChild(el('p', 'error', 'None of the selected miners would do this.'));
    plan.hidden = false;
    showParams(n > 1 ? ['fleet'] : []);
    $('act-ok').textContent = dialog.item.verb + ' ' + plural(n, 'miner');
    $('act-ok').disabled = n === 0;
  }

  async function confirmAction() {
    if (dialog.busy) return;
    dialogError('');
    const { item, target } = dialog;
    if (target.fleet && !dialog.plan) {
      await dryRun();
      return;
    }
    const params = target.fleet ? dialog.plan.params : askedParams(item);
    const reply = await sending(() => target.fleet
      ? send('/api/actions', fleetBody(params, false))
      : send('/api/miners/' + encodeURIComponent(target.hosts[0]) + '/actions',
        Object.assign({ action: item.action }, params)));
    if (!reply) return;
    if (reply.status !== 202 && reply.status !== 200) {
      dialogError(refusal(reply));
      return;
    }
    closeDialog();
    const title = target.fleet
      ? item.verb + ' ' + plural((dialog.plan.miners.filter((m) => m.state === 'would_do'))
        .length, 'miner')
      : item.verb + ' ' + target.label;
    follow(reply.body, title + (paramsText(params) ? ' · ' + paramsText(params) : ''));
  }

  /* ---- following what was sent ---- */

  function jobDone(data) {
    return data.miners ? data.state === 'done' : FINAL_STATES.includes(data.state);
  }

  function follow(data, title) {
    const job = { id: data.id, title, data, timer: null };
    app.jobs.set(job.id, job);
    renderJobs();
    scheduleJob(job);
  }

  function scheduleJob(job) {
    clearTimeout(job.timer);
    if (!jobDone(job.data)) job.timer = setTimeout(() => pollJob(job), JOB_POLL_MS);
  }

  async function pollJob(job) {
    let reply;
    try {
      reply = await api('/api/actions/' + encodeURIComponent(job.id));
    } catch (e) {
      if (e instanceof AuthError) {
        showLogin('That token was refused.');
        return; /* route() picks the job up again after the login */
      }
      scheduleJob(job); /* antmon unreachable for now: try again */
      return;
    }
    if (reply.status === 404) {
      job.data = Object.assign({}, job.data, { state: 'failed',
        message: 'antmon no longer knows this action (it keeps the last 1,000).' });
    } else if (reply.status === 200) {
      job.data = reply.body;
    }
    renderJobs();
    if (jobDone(job.data)) refresh(false); /* show the miner as it is now */
    else scheduleJob(job);
  }

  function resumeJobs() {
    for (const job of app.jobs.values()) scheduleJob(job);
  }

  function stateSpan(state) {
    return el('span', 'act-state act-' + state, stateLabel(state));
  }

  function renderJobs() {
    const list = $('jobs-list');
    list.replaceChildren();
    for (const job of Array.from(app.jobs.values()).reverse()) {
      const d = job.data;
      const li = el('li');
      li.dataset.id = job.id;
      li.dataset.state = d.state;
      li.appendChild(el('strong', null, job.title));
      li.appendChild(document.createTextNode(' '));
      if (d.miners) {
        li.appendChild(stateSpan(d.state));
        const counts = Object.entries(d.counts || {}).filter(([, n]) => n > 0)
          .map(([state, n]) => n + ' ' + stateLabel(state));
        li.appendChild(el('span', 'counts-line', counts.join(' · ')));
        const ul = el('ul', 'job-miners');
        for (const m of d.miners.slice(0, SKIPPED_SHOWN)) {
          const mi = el('li');
          mi.dataset.miner = m.miner;
          mi.appendChild(el('span', null, m.miner + ' '));
          mi.appendChild(stateSpan(m.state));
          if (m.message) mi.appendChild(el('span', 'msg', ' ' + m.message));
          ul.appendChild(mi);
        }
        if (d.miners.length > SKIPPED_SHOWN)
          ul.appendChild(el('li', 'note', 'and ' + (d.miners.length - SKIPPED_SHOWN) + ' more'));
        li.appendChild(ul);
      } else {
        li.appendChild(stateSpan(d.state));
        if (d.message) li.appendChild(el('span', 'msg', ' ' + d.message));
      }
      list.appendChild(li);
    }
    $('jobs').hidden = app.jobs.size === 0;
    $('jobs-clear').hidden = !Array.from(app.jobs.values()).some((j) => jobDone(j.data));
  }

  function clearFinishedJobs() {
    for (const [id, job] of app.jobs) if (jobDone(job.data)) app.jobs.delete(id);
    renderJobs();
  }

  /* ---- refresh loop and routing ------------------------------------------- */

  function stopTimer() {
    if (app.timer) clearTimeout(app.timer);
    app.timer = null;
  }

  async function refresh(first) {
    stopTimer();
    if (app.busy) return;
    app.busy = true;
    try {
      if (app.route === 'fleet') await refreshFleet();
      else if (app.route === 'miner') await refreshMiner(app.minerKey, first);
      setStatus('Updated ' + new Date().toLocaleTimeString() + ' · every ' +
        REFRESH_MS / 1000 + ' s');
      document.body.dataset.updated = String(Date.now());
    } catch (e) {
      if (e instanceof AuthError) {
        app.busy = false;
        showLogin(localStorage.getItem(TOKEN_KEY) ? 'That token was refused.' : '');
        return;
      }
      setStatus('Cannot reach antmon: ' + e.message, true);
    }
    app.busy = false;
    app.timer = setTimeout(() => refresh(false), REFRESH_MS);
  }

  function route() {
    const hash = location.hash || '#/';
    const m = hash.match(/^#\/miner\/(.+)$/);
    if (m) {
      const key = decodeURIComponent(m[1]);
      if (app.minerKey !== key) app.minerLive = [];
      if (app.minerKey !== key) app.miner = null;
      app.route = 'miner';
      app.minerKey = key;
      app.rawOpen = new Set();
      app.rawPending = false;
      show('miner');
      $('m-raw').replaceChildren();
    } else {
      app.route = 'fleet';
      show('fleet');
    }
    closeMenus();
    app.busy = false;
    resumeJobs();
    refresh(true);
  }

  function setRange(seconds) {
    app.range = seconds;
    for (const b of document.querySelectorAll('[data-range]'))
      b.classList.toggle('active', Number(b.dataset.range) === seconds);
  }

  function bind() {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      localStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      route();
    });
    for (const th of $('miners').tHead.querySelectorAll('th[data-sort]')) {
      th.addEventListener('click', () => {
        const key = th.dataset.sort;
        app.sort = { key, desc: app.sort.key === key ? !app.sort.desc
          : ['ratio', 'temp', 'power', 'uptime', 'last_seen'].includes(key) };
        localStorage.setItem(SORT_KEY, JSON.stringify(app.sort));
        renderTable();
      });
    }
    $('pick-all').addEventListener('change', () => pickAllShown($('pick-all').checked));
    $('bulk-clear').addEventListener('click', () => {
      app.selected.clear();
      syncTicks();
    });
    $('act-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      confirmAction().catch((e) => dialogError(e.message));
    });
    $('act-cancel').addEventListener('click', closeDialog);
    $('jobs-clear').addEventListener('click', clearFinishedJobs);
    document.addEventListener('click', closeMenus);
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') closeMenus();
    });
    $('filter-q').addEventListener('input', renderTable);
    $('filter-state').addEventListener('change', renderTable);
    for (const b of document.querySelectorAll('[data-range]')) {
      b.addEventListener('click', () => {
        setRange(Number(b.dataset.range));
        refresh(false);
      });
    }
    window.addEventListener('hashchange', route);
  }

  document.addEventListener('DOMContentLoaded', () => {
    setRange(86400);
    bindTable();
    bind();
    route();
  });
})();
