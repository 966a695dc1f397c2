#!/usr/bin/python3
"""Two antmon agents, two fake fleets, one Debian Prometheus (prints TAP).

Starts two fake fleets (tests/fakeminer) on loopback addresses of their own,
an antmon agent polling each (site "north" and site "south"), and
Prometheus itself in a temporary directory, scraping both agents every
second with data/prometheus/antmon.rules.yml loaded, plus a third target
that never answers (site "west": the agent-down alert). Then, through
Prometheus's HTTP API, it checks what an operator relies on:

  - the recording rules' totals per site equal each agent's /api/summary
    (hashrate, ideal, power, efficiency, miners by state), and the Grafana
    dashboard's fleet figures equal the sum of both summaries;
  - every recording rule and every alert expression returns data (the
    fleets hold a miner that is down, one under its ideal hashrate, one with
    a hot board and a paused one), and every alert is pending or firing;
  - every PromQL expression of data/grafana/antmon-fleet.json returns data,
    its template variables substituted as Grafana would.

The agents poll every 2 minutes, so the figures the test compares stay put
after the first pass. Every process it starts is stopped by its PID, on
failure too. Only /usr/bin/python3's standard library is used; everything
listens on 127.0.0.0/8.
"""

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

# What each fleet holds: (profile, fleet-line settings, what it is there for).
# One miner per profile: an agent merges miners that report one MAC.
FLEETS = {
    "north": [
        ("antminer-s19pro", "", "a healthy SHA-256 miner with chains, fans and temperatures"),
        ("antminer-s17pro", "hashrate_scale=0.5", "under its ideal hashrate"),
        ("antminer-s9", "temp_offset=+40", "a hot board"),
        ("luxos-actions", "paused=1", "paused"),
        ("antminer-l3plus", "", "scrypt: its power counts, its hashrate does not"),
        ("braiins-s9", "fault=refuse", "down"),
    ],
    "south": [
        ("antminer-s19pro", "", "healthy"),
        ("braiins-s9", "", "healthy"),
        ("whatsminer-m20s", "", "healthy"),
        ("vnish-s9", "", "healthy"),
        ("generic-cgminer", "", "healthy, no ideal hashrate"),
    ],
}
STATES = ["online", "degraded", "paused", "offline", "unreachable"]
REL = 1e-9  # floating-point sums in a different order, nothing more


class Abort(Exception):
    pass


def say(msg):
    for line in str(msg).splitlines() or [""]:
        sys.stdout.write("# " + line + "\n")
    sys.stdout.flush()


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, what, detail=None):
        self.n += 1
        if not ok:
            self.failed += 1
        sys.stdout.write("%s %d - %s\n" % ("ok" if ok else "not ok", self.n, what))
        if detail and not ok:
            say(detail)
        sys.stdout.flush()
        return ok


def on_signal(signum, _frame):
    raise Abort("signal %d" % signum)


# ---- processes ------------------------------------------------------------------------


class Proc:
    """A child with its output in a file; stopped by its PID only."""

    def __init__(self, name, argv, work, env=None):
        self.name = name
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for(self, pattern, seconds, what):
        """The first match of pattern in the output, waiting up to seconds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Abort("%s: %s (exit %s):\n%s" % (self.name, what, self.proc.poll(),
                                              self.text()[-1500:]))

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after timeout; the exit status (None: killed)."""
        if self.proc.poll() is not None:
            self.log.close()
            return self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self.log.close()


def start_fleet(fake, profiles, work, site, net, port):
    lines, hosts = [], []
    for i, (profile, extra, _why) in enumerate(FLEETS[site]):
        host = "%s.%d" % (net, i + 1)
        hosts.append(host)
        lines.append("%s:%d %s %s" % (host, port, os.path.join(profiles, profile), extra))
    path = os.path.join(work, site + ".fleet")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = Proc("fleet-" + site, [fake, "--fleet", path], work)
    try:
        p.wait_for(r"ready \d+ listeners", 20, "the fake fleet did not start")
    except Abort:
        p.stop()
        raise
    return p, hosts


def start_fleets(fake, profiles, work, procs):
    """Both fleets on random 127.A.B.x and 127.A.B+1.x and a random port
    (the machine may be shared); another draw when an address is taken."""
    rng = random.Random()
    for _attempt in range(3):
        a_octet, b_octet = rng.randint(32, 250), rng.randint(0, 249)
        port = rng.randint(20000, 60000)
        fleets = {}
        try:
            for i, site in enumerate(sorted(FLEETS)):
                net = "127.%d.%d" % (a_octet, b_octet + i)
                procs[site + "-fleet"], fleets[site] = start_fleet(fake, profiles, work, site,
                                                                   net, port)
                say("fleet %s: %s.x:%d (pid %d)" % (site, net, port, procs[site + "-fleet"].pid))
            return fleets, port
        except Abort as e:
            if "cannot listen" not in str(e):
                raise
            say("address taken, drawing others: %s" % str(e).splitlines()[-1])
            for site in FLEETS:
                if site + "-fleet" in procs:
                    procs.pop(site + "-fleet").stop()
    raise Abort("the fake fleets could not bind three times")


def start_agent(antmon, plugin_dir, work, site, hosts, port):
    state = os.path.join(work, "var-" + site)
    os.makedirs(state)
    lines = ["[core]", "state_dir=" + state,
             # one pass, then nothing for 2 minutes: the figures stay put
             "interval=120s", "poll_timeout=5s", "log_level=message",
             "[http:api]", "listen=127.0.0.1:0"]
    for i, host in enumerate(hosts):
        lines += ["[miner:%s-%d]" % (site, i + 1), "host=%s:%d" % (host, port)]
    ini = os.path.join(work, site + ".ini")
    with open(ini, "w") as f:
        f.write("\n".join(lines) + "\n")
    env = dict(os.environ, ANTMON_PLUGIN_DIR=plugin_dir)
    p = Proc("antmon-" + site, [antmon, "run", "-c", ini], work, env)
    m = p.wait_for(r"HTTP API listening on http://127\.0\.0\.1:(\d+)", 30,
                   "the agent did not start")
    p.address = "127.0.0.1:" + m.group(1)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_prometheus_config(path, rules, targets):
    # JSON is YAML: no YAML writer needed.
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [rules],
        "scrape_configs": [{
            "job_name": "antmon",
            "static_configs": [{"targets": [addr], "labels": {"site": site}}
                               for site, addr in targets],
        }],
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def start_prometheus(prometheus, work, rules, targets):
    config = os.path.join(work, "prometheus.yml")
    write_prometheus_config(config, rules, targets)
    for _attempt in range(3):
        port = free_port()
        data = tempfile.mkdtemp(prefix="tsdb-", dir=work)
        p = Proc("prometheus", [prometheus, "--config.file=" + config,
                                "--storage.tsdb.path=" + data,
                                "--web.listen-address=127.0.0.1:%d" % port,
                                "--log.level=warn"], work)
        p.url = "http://127.0.0.1:%d" % port
        end = time.monotonic() + 30
        while time.monotonic() < end and p.proc.poll() is None:
            try:
                with urllib.request.urlopen(p.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return p
            except OSError:
                pass
            time.sleep(0.1)
        why = p.text()
        p.stop()
        if "address already in use" not in why:
            raise Abort("Prometheus did not start:\n" + why[-1500:])
        say("port %d taken, trying another" % port)
    raise Abort("Prometheus could not bind three times")


# ---- HTTP ------------------------------------------------------------------------------


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def promql(prom, expr):
    """An instant query: a list of (labels, value)."""
    url = prom.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        reply = get_json(url)
    except urllib.error.HTTPError as e:
        raise Abort("query %r: HTTP %d %s" % (expr, e.code, e.read()[:300]))
    if reply.get("status") != "success":
        raise Abort("query %r: %s" % (expr, reply))
    result = reply["data"]["result"]
    if reply["data"]["resultType"] == "scalar":
        return [({}, float(result[1]))]
    return [(r["metric"], float(r["value"][1])) for r in result]


def by_site(rows):
    return {labels.get("site", ""): value for labels, value in rows}


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


# ---- what the agents say -----------------------------------------------------------------


def summaries(agents):
    return {site: get_json("http://%s/api/summary" % a.address) for site, a in agents.items()}


def efficiency_parts(agent):
    """(watts, TH/s) of the SHA-256 miners that count towards an agent's
    efficiency: answering and mining, with a power reading and a hashrate."""
    watts = ths = 0.0
    for m in get_json("http://%s/api/miners" % agent.address)["miners"]:
        s = m.get("sample") or {}
        if (m["state"] in ("online", "degraded") and (s.get("algorithm") or "sha256d") == "sha256d"
                and s.get("power_w") is not None and (s.get("hashrate_ths") or 0) > 0):
            watts += s["power_w"]
            ths += s["hashrate_ths"]
    return watts, ths


def settled(summary, site):
    """Every miner polled once: answering ones out of unreachable."""
    answering = sum(1 for _p, extra, _w in FLEETS[site] if "refuse" not in extra)
    m = summary["miners"]
    return m["online"] + m["degraded"] + m["paused"] == answering


def expected_site(summary):
    """The recording rules' figures for one site, from its agent's summary."""
    m = summary["miners"]
    ths = summary.get("hashrate_ths")
    ideal = summary.get("hashrate_ideal_ths")
    return {
        "site:antmon_hashrate_hashes_per_second:sum": ths * 1e12 if ths is not None else None,
        "site:antmon_hashrate_ideal_hashes_per_second:sum":
            ideal * 1e12 if ideal is not None else None,
        "site:antmon_hashrate_ideal:ratio": summary.get("hashrate_ideal_ratio"),
        "site:antmon_power_watts:sum": summary.get("power_w"),
        "site:antmon_efficiency_joules_per_terahash:ratio": summary.get("efficiency_jth"),
        "site:antmon_miners_up:sum": float(m["online"] + m["degraded"] + m["paused"]),
        "site:antmon_miners_down:sum": float(m["offline"] + m["unreachable"]),
        "site:antmon_miners_paused:count": float(m["paused"]),
    }


def compare_sites(prom, sums):
    """(ok, lines): every per-site recording rule against the summaries."""
    bad, lines = [], []
    names = expected_site(next(iter(sums.values()))).keys()
    for name in names:
        got = by_site(promql(prom, name))
        for site, summary in sums.items():
            want = expected_site(summary)[name]
            have = got.get(site)
            lines.append("%s{site=%s}: prometheus %r, summary %r" % (name, site, have, want))
            if not close(have, want):
                bad.append(lines[-1])
    states = {}
    for labels, value in promql(prom, "site_state:antmon_miners:count"):
        states[(labels.get("site"), labels.get("state"))] = value
    for site, summary in sums.items():
        for state in STATES:
            want = float(summary["miners"][state])
            have = states.get((site, state), 0.0)
            if have != want:
                bad.append("%s %s miners: prometheus %r, summary %r" % (site, state, have, want))
    return not bad, bad or lines


# ---- the dashboard ------------------------------------------------------------------------


def dashboard_targets(dash):
    """(panel title, expr) of every panel, rows' nested panels included."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    return out


def model_problems(dash):
    """What would stop Grafana importing the dashboard as meant: panel ids
    must be unique, every query must go to the Prometheus picked in the
    datasource variable, and the site and miner variables must exist."""
    problems = []
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource":
        problems.append("no datasource variable")
    for name in ("site", "miner"):
        if variables.get(name, {}).get("type") != "query":
            problems.append("no %s query variable" % name)
    ids = []

    def walk(panels):
        for p in panels:
            ids.append(p.get("id"))
            if p.get("type") != "row":
                for thing in [p] + p.get("targets", []):
                    if thing.get("datasource", {}).get("uid") != "${datasource}":
                        problems.append("%r does not query ${datasource}" % p.get("title"))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("panel ids not unique: %r" % ids)
    return problems


def substitute(expr, values):
    """Grafana's variables, as the dashboard shows them with these values."""
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${%s}" % name, value).replace("$" + name, value)
    if "$" in expr:
        raise Abort("a variable the test does not know in %r" % expr)
    return expr


def label_values(prom, query, values):
    """label_values(SELECTOR, LABEL) run as Grafana runs it."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query)
    if not m:
        raise Abort("unexpected variable query %r" % query)
    rows = promql(prom, substitute(m.group(1), values))
    return sorted({labels[m.group(2)] for labels, _v in rows if m.group(2) in labels})


# ---- main ---------------------------------------------------------------------------------


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    env = os.environ
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=env.get("ANTMON_BUILD_ROOT", "build"))
    p.add_argument("--rules", default=os.path.join(root, "data", "prometheus", "antmon.rules.yml"))
    p.add_argument("--dashboard",
                   default=os.path.join(root, "data", "grafana", "antmon-fleet.json"))
    p.add_argument("--profiles", default=os.path.join(root, "tests", "fakeminer", "profiles"))
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args()


def run(a, work, procs, tap):
    build = os.path.abspath(a.build)
    antmon = os.environ.get("ANTMON_BIN", os.path.join(build, "core", "antmon"))
    fake = os.environ.get("ANTMON_FAKEMINER",
                          os.path.join(build, "tests", "fakeminer", "antmon-fakeminer"))
    plugin_dir = os.environ.get("ANTMON_PLUGIN_DIR", os.path.join(build, "plugins"))
    prometheus = shutil.which("prometheus") or "/usr/bin/prometheus"
    for exe in (antmon, fake, prometheus):
        if not os.access(exe, os.X_OK):
            raise Abort("missing %s (build first; Prometheus: apt-get install prometheus, "
                        "which make deps-test does)" % exe)

    fleets, port = start_fleets(fake, a.profiles, work, procs)
    agents = {}
    for site in sorted(FLEETS):
        agents[site] = procs[site + "-agent"] = start_agent(antmon, plugin_dir, work, site,
                                                            fleets[site], port)
        say("agent %s: http://%s (pid %d)" % (site, agents[site].address, agents[site].pid))

    # A target that never answers: bound, never listening, so connections
    # are refused and the port is ours until the end.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    procs["dead-socket"] = dead
    targets = [(site, agents[site].address) for site in sorted(agents)]
    targets.append(("west", "127.0.0.1:%d" % dead.getsockname()[1]))
    prom = procs["prometheus"] = start_prometheus(prometheus, work, a.rules, targets)
    say("prometheus: %s (pid %d)" % (prom.url, prom.pid))

    # 1. the rules file as Prometheus loaded it
    groups = get_json(prom.url + "/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    tap.check(len(rules) > 0
              and {os.path.realpath(g["file"]) for g in groups} == {os.path.realpath(a.rules)},
              "Prometheus loaded %d rules from %s" % (len(rules), os.path.basename(a.rules)),
              json.dumps(groups)[:1000])

    # Both agents polled every miner once.
    end = time.monotonic() + 30
    while True:
        sums = summaries(agents)
        if all(settled(sums[s], s) for s in sums):
            break
        if time.monotonic() > end:
            raise Abort("the agents did not poll every miner: %s" % json.dumps(
                {s: v["miners"] for s, v in sums.items()}))
        time.sleep(0.2)
    for site, s in sorted(sums.items()):
        say("%s summary: miners %s, %.6g TH/s, ideal %s, power %s W, %s J/TH"
            % (site, json.dumps(s["miners"]), s["hashrate_ths"], s["hashrate_ideal_ths"],
               s["power_w"], s["efficiency_jth"]))

    # 2-3. The rules once they have seen a scrape of the settled agents:
    # wait until the figures agree (they cannot change any more: the agents
    # poll again in 2 minutes), then report the last comparison.
    end = time.monotonic() + 20
    while True:
        ups = {labels.get("site"): v for labels, v in promql(prom, 'up{job="antmon"}')}
        ok, lines = compare_sites(prom, sums)
        if (ok and ups == {"north": 1.0, "south": 1.0, "west": 0.0}) or time.monotonic() > end:
            break
        time.sleep(0.5)
    tap.check(ups == {"north": 1.0, "south": 1.0, "west": 0.0},
              "Prometheus scrapes the north and south agents, and west is down", repr(ups))
    for line in lines if ok else []:
        say(line)
    tap.check(ok, "every per-site recording rule equals its agent's /api/summary",
              "\n".join(lines))

    # 4. the dashboard's fleet figures against the sum of both summaries
    # (efficiency: both agents' watts over both agents' TH/s, from their
    # miners, as the summary computes it for one agent)
    with open(a.dashboard) as f:
        dash = json.load(f)
    everything = {"site": ".*", "miner": ".*", "__rate_interval": "1m", "datasource": "prometheus"}
    problems = model_problems(dash)
    tap.check(not problems, "the dashboard is a Grafana model with its variables",
              "\n".join(problems))
    fleet = {p["title"]: p["targets"][0]["expr"] for p in dash["panels"] if p["type"] == "stat"}
    parts = [efficiency_parts(agent) for agent in agents.values()]
    total = {
        "Hashrate (SHA-256)": 1e12 * sum(s["hashrate_ths"] for s in sums.values()),
        "Power": sum(s["power_w"] for s in sums.values()),
        "Miners up": float(sum(s["miners"][k] for s in sums.values()
                               for k in ("online", "degraded", "paused"))),
        "Miners down": float(sum(s["miners"][k] for s in sums.values()
                                 for k in ("offline", "unreachable"))),
        "Paused": float(sum(s["miners"]["paused"] for s in sums.values())),
        "Efficiency": sum(w for w, _t in parts) / sum(t for _w, t in parts),
    }
    bad, lines = [], []
    for title, want in total.items():
        rows = promql(prom, substitute(fleet[title], everything))
        have = rows[0][1] if len(rows) == 1 else None
        lines.append("%s: dashboard %r, both summaries %r" % (title, have, want))
        if not close(have, want):
            bad.append(lines[-1])
    for line in lines:
        say(line)
    tap.check(not bad, "the dashboard's fleet totals equal the sum of both agents' summaries",
              "\n".join(bad))

    # 5. every recording rule returns data
    recorded = [r for r in rules if r["type"] == "recording"]
    empty = [r["name"] for r in recorded if not promql(prom, r["name"])]
    empty += ["%s (its expression)" % r["name"] for r in recorded if not promql(prom, r["query"])]
    tap.check(recorded and not empty, "all %d recording rules return data" % len(recorded),
              repr(empty))

    # 6. every alert's expression returns data, and the alert is active
    # (pending from the first evaluation that sees its cause: waited for)
    end = time.monotonic() + 15
    while True:
        groups = get_json(prom.url + "/api/v1/rules")["data"]["groups"]
        alerting = [r for g in groups for r in g["rules"] if r["type"] == "alerting"]
        if all(r.get("alerts") for r in alerting) or time.monotonic() > end:
            break
        time.sleep(0.5)
    for r in alerting:
        rows = promql(prom, r["query"])
        active = sorted({a["state"] for a in r.get("alerts", [])})
        tap.check(rows and active and set(active) <= {"pending", "firing"},
                  "alert %s: its expression returns %d series, state %s"
                  % (r["name"], len(rows), "/".join(active) or "inactive"),
                  r["query"])
    # The annotations as Prometheus wrote them (a template that cannot run
    # leaves "<error expanding template: ...>" in its place).
    texts = [a["annotations"] for r in alerting for a in r.get("alerts", [])]
    broken = [t for t in texts if not t.get("summary") or not t.get("description")
              or any("error expanding" in v or "<no value>" in v for v in t.values())]
    for t in texts[:: max(1, len(texts) // 3)]:
        say("annotation: " + t.get("summary", ""))
    tap.check(texts and not broken, "the %d active alerts have their summary and description"
              % len(texts), json.dumps(broken)[:1500])
    # The down miner's description names it, looked up in antmon_miner_info.
    down = [a for r in alerting if r["name"] == "AntmonMinerDown" for a in r.get("alerts", [])]
    names = [labels.get("name") for labels, _v in promql(
        prom, 'antmon_miner_info{site="north", miner="%s:%d"}' % (fleets["north"][-1], port))]
    tap.check(len(down) == 1 and len(names) == 1 and names[0]
              and "(%s)" % names[0] in down[0]["annotations"].get("description", ""),
              "the miner-down alert names the miner (%s)" % names,
              json.dumps(down)[:1000])

    # 7. every expression of the dashboard returns data, with all sites and
    # miners selected and with one site and one miner
    variables = [v for v in dash["templating"]["list"] if v["type"] == "query"]
    sites = label_values(prom, next(v for v in variables if v["name"] == "site")["query"]["query"],
                         everything)
    tap.check(sites == ["north", "south"], "the site variable lists north and south", repr(sites))
    one_site = dict(everything, site="north")
    miners = label_values(prom, next(v for v in variables if v["name"] == "miner")["query"]["query"],
                          one_site)
    tap.check(miners == sorted("%s:%d" % (h, port) for h in fleets["north"]),
              "the miner variable lists the %d miners of north" % len(fleets["north"]),
              repr(miners))
    # The first north miner has chains, fans and both sensors. Grafana
    # escapes a value for a regex matcher, then the backslash for PromQL.
    one_miner = dict(one_site, miner=re.escape("%s:%d" % (fleets["north"][0], port))
                     .replace("\\", "\\\\"))
    for label, values in (("all sites and miners", everything),
                          ("site north, one miner", one_miner)):
        for title, expr in dashboard_targets(dash):
            q = substitute(expr, values)
            rows = promql(prom, q)
            tap.check(len(rows) > 0, "dashboard panel %r returns data (%s)" % (title, label), q)
    return agents, prom


def main():
    a = parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tap = Tap()
    work = tempfile.mkdtemp(prefix="antmon-prometheus-")
    procs = {}
    t0 = time.monotonic()
    try:
        run(a, work, procs, tap)
    except Abort as e:
        tap.check(False, "the run went through", str(e))
    except Exception as e:  # a bug here must still stop what was started
        tap.check(False, "the run went through", "%s: %s" % (type(e).__name__, e))
    finally:
        # Prometheus first (it stops scraping), then the agents, then the fleets.
        statuses = {}
        for name in ("prometheus", "north-agent", "south-agent", "north-fleet", "south-fleet"):
            if name in procs:
                statuses[name] = procs[name].stop()
        if "dead-socket" in procs:
            procs["dead-socket"].close()
    if statuses:
        tap.check(all(v == 0 for v in statuses.values()),
                  "every process started exits with status 0 on SIGTERM", repr(statuses))
    for name in ("north-agent", "south-agent"):
        if name in procs and statuses.get(name) != 0:
            say("%s log:\n%s" % (name, procs[name].text()[-2000:]))
    say("%.1f s" % (time.monotonic() - t0))
    print("1..%d" % tap.n)
    if a.keep or tap.failed:
        say("work directory kept: " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
