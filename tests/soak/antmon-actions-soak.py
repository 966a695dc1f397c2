#!/usr/bin/python3
"""Soak of the control plane: what must not grow while actions keep coming.

Runs the real daemon ([http:api] actions=true with a token, [actions]
min_interval=0s) against one writable fake unit of four families, then
sends --actions locate actions (on and off in turn, a new one replacing the
one still being confirmed) through POST /api/miners/{host}/actions, and
every --sample-every actions reads the daemon's VmRSS, open descriptors and
threads. The manager keeps the last 1,000 finished actions: past that the
oldest must be gone (GET /api/actions/a-1 answers 404) and memory must stay
flat. Prints one line per sample and a TAP line per check.

    /usr/bin/python3 tests/soak/antmon-actions-soak.py --build build --actions 3000

Loopback only; only the processes started here are stopped, by PID.
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PROFILES = ["luxos-actions", "avalon-a", "whatsminer-v2-actions", "braiins-rest-26"]
TOKEN = "soak-actions-token"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.environ.get("ANTMON_BUILD_ROOT", "build"))
    p.add_argument("--actions", type=int, default=3000)
    p.add_argument("--sample-every", type=int, default=250)
    p.add_argument("--rss-growth-mb", type=float, default=8.0,
                   help="RSS allowed to grow from the first sample past 1,000 actions (8)")
    return p.parse_args()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()[0] if v.split() else ""
    return int(out["VmRSS"]), int(out["Threads"]), len(os.listdir("/proc/%d/fd" % pid))


def api(port, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main():
    a = parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="antmon-actions-soak-")
    net = random.randint(32, 250)
    hosts = ["127.%d.77.%d" % (net, i + 1) for i in range(len(PROFILES))]
    fleet = os.path.join(work, "soak.fleet")
    with open(fleet, "w") as f:
        for h, prof in zip(hosts, PROFILES):
            f.write("%s:4028 %s\n" % (h, os.path.join(root, "tests/fakeminer/profiles", prof)))
    http_port = free_port()
    ini = os.path.join(work, "antmon.ini")
    with open(ini, "w") as f:
        f.write("[core]\nstate_dir=%s\ninterval=2s\npoll_timeout=2s\n" % work)
        f.write("[actions]\nmin_interval=0s\nconfirm_poll=500ms\n")
        f.write("[store:sqlite]\npath=antmon.db\n")
        f.write("[http:api]\nlisten=127.0.0.1:%d\nactions=true\ntoken=%s\ntoken_name=soak\n"
                % (http_port, TOKEN))
        for i, h in enumerate(hosts):
            f.write("[miner:m%d]\nhost=%s\n" % (i, h))
    fake = subprocess.Popen([os.path.join(build, "tests/fakeminer/antmon-fakeminer"), "--fleet",
                             fleet], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if b"ready" not in fake.stdout.readline():
        sys.exit("the fake fleet did not start")
    env = dict(os.environ, ANTMON_PLUGIN_DIR=os.path.join(build, "plugins"))
    log = open(os.path.join(work, "antmon.log"), "w")
    daemon = subprocess.Popen([os.path.join(build, "core/antmon"), "run", "-c", ini], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, reply = api(http_port, "/api/miners")
                miners = reply.get("miners", []) if status == 200 else []
                if len(miners) == len(hosts) and all("locate" in m.get("actions", [])
                                                     for m in miners):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            sys.exit("the miners were not identified with their actions within 60 s")
        samples = []
        statuses = {}
        last_id = None
        t0 = time.monotonic()
        for n in range(1, a.actions + 1):
            host = hosts[n % len(hosts)]
            body = {"action": "locate", "on": bool((n // len(hosts)) % 2)}
            # 429 while the last one is still being sent to that miner: wait
            for _ in range(200):
                status, reply = api(http_port, "/api/miners/%s/actions" % host, body)
                if status != 429:
                    break
                time.sleep(0.01)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 202:
                last_id = reply["id"]
            if n % a.sample_every == 0:
                rss, threads, fds = proc_status(daemon.pid)
                samples.append((n, rss, threads, fds))
                print("# %5d actions  %6.1f s  rss %6.1f MB  threads %2d  fds %3d"
                      % (n, time.monotonic() - t0, rss / 1024, threads, fds), flush=True)
        time.sleep(2)
        first, _ = api(http_port, "/api/actions/a-1")
        last, _ = api(http_port, "/api/actions/%s" % last_id)
        _, events = api(http_port, "/api/events?kind=action&limit=10")
        past = [s for s in samples if s[0] > 1000]
        growth = (past[-1][1] - past[0][1]) / 1024 if len(past) >= 2 else 0.0
        checks = [
            ("every action accepted (202): %s" % statuses, statuses.get(202, 0) == a.actions),
            ("the oldest action pruned (a-1: %d), the newest kept (%s: %d)" % (first, last_id, last),
             first == 404 and last == 200),
            ("action events stored: %d listed" % len(events or []), bool(events)),
            ("RSS past 1,000 actions grew %.1f MB (budget %.1f)" % (growth, a.rss_growth_mb),
             growth <= a.rss_growth_mb),
            ("descriptors flat: %s" % [s[3] for s in samples],
             max(s[3] for s in samples) - min(s[3] for s in samples) <= 10),
            ("threads flat: %s" % sorted({s[2] for s in samples}),
             max(s[2] for s in samples) - min(s[2] for s in samples) <= 2),
        ]
        print("1..%d" % len(checks))
        for i, (what, ok) in enumerate(checks, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
            if not ok:
                failures.append(what)
    finally:
        daemon.terminate()
        daemon.wait(20)
        fake.terminate()
        fake.wait(10)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
