#!/usr/bin/python3
"""antmon soak: the real daemon for minutes against a fake fleet and busy
HTTP clients, watching what must not grow.

The daemon (BUILD/core/antmon run) runs with [store:sqlite], [http:api],
alert rules, the log sink and a webhook sink (to a receiver in this
process) against BUILD/tests/fakeminer/antmon-fakeminer serving MINERS miners
on 127.A.B.x (random A, B and port: the machine may be shared), about 5 %
of them faulty: hang, garbage, huge, drip, close, and flapping between
online and refused (driven through the fake's control port).

While it runs, clients that each stop by themselves at the deadline:
  newconn   a new keep-alive HTTP/1.1 connection per request (no
            "Connection: close") to /api/health, /api/summary, /api/miners,
            closed after the response, as curl or a script does
  scraper   /metrics on one reused connection, like Prometheus,
            reconnecting when the server closes it
  browser   connections closed early: before sending, mid-request,
            before or while reading the response; and keep-alive pages
            left idle a few seconds
  slow      half a request line, then silence for a while

Every SAMPLE seconds it reads the daemon's VmRSS, Threads, open fds,
its sockets in CLOSE-WAIT (/proc/net/tcp* matched against the inodes of
/proc/PID/fd), the database size (db + -wal + -shm) and the samples stored
(/api/health). At the end it prints the samples as a table and one TAP
line per check (meson counts them; see tests/soak/README.md).

Growth after warm-up: the post-warm-up samples are cut in thirds; a series
grows when the max of the last third is above the max of the middle third
by more than a tolerance AND its least-squares line rises by more than the
same tolerance over the window. Both must agree, so one spike (a burst of
slow clients, a big reply) or one step (a cache filling) is not a leak,
while a steady climb is.

Only /usr/bin/python3's standard library is used. Everything listens and
connects on loopback only; only the processes started here are stopped, by
their PIDs.
"""

import argparse
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

# ---- options -------------------------------------------------------------------


def parse_args():
    env = os.environ
    p = argparse.ArgumentParser(description="soak the antmon daemon (prints TAP)")
    p.add_argument("--build", default=env.get("ANTMON_BUILD_ROOT", "build"),
                   help="meson build directory (default: $ANTMON_BUILD_ROOT or build)")
    p.add_argument("--seconds", type=float, default=None, help="duration (default 120)")
    p.add_argument("--minutes", type=float, default=None, help="duration in minutes")
    p.add_argument("--miners", type=int, default=300, help="fleet size (default 300)")
    p.add_argument("--interval", type=float, default=2.0, help="poll interval, s (default 2)")
    p.add_argument("--sample-every", type=float, default=None,
                   help="seconds between samples (default: duration/40, 2..10)")
    p.add_argument("--warmup", type=float, default=None,
                   help="seconds not judged for growth (default: 25%% of the run, 30..300)")
    p.add_argument("--faulty-percent", type=float, default=5.0, help="faulty miners, %% (5)")
    p.add_argument("--rss-mb", type=float, default=None,
                   help="RSS budget (default 64 MB per 1,000 miners, at least 64)")
    p.add_argument("--fd-budget", type=int, default=200,
                   help="open fds allowed over the count at start (200)")
    p.add_argument("--close-wait-max", type=int, default=2,
                   help="daemon sockets allowed to stay in CLOSE-WAIT for --close-wait-after"
                   " seconds or more, in any sample (2)")
    p.add_argument("--close-wait-after", type=float, default=15.0,
                   help="seconds after which a socket in CLOSE-WAIT counts as left there: longer"
                   " than any poll deadline or HTTP timeout of the run (15)")
    p.add_argument("--db-bytes-per-sample", type=int, default=2048,
                   help="database growth budget per stored sample after warm-up (2048)")
    p.add_argument("--raw-retention", default="10m",
                   help="[store:sqlite] raw_retention for the run (10m)")
    p.add_argument("--client-rate", type=float, default=1.0,
                   help="requests per second of each new-connection client (1)")
    p.add_argument("--slow-clients", type=int, default=4, help="slow clients at once (4)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args()
    if a.minutes is not None:
        a.seconds = a.minutes * 60
    if a.seconds is None:
        a.seconds = 120.0
    if a.sample_every is None:
        a.sample_every = min(10.0, max(2.0, a.seconds / 40))
    if a.warmup is None:
        a.warmup = min(300.0, max(30.0, a.seconds * 0.25))
    if a.rss_mb is None:
        a.rss_mb = 64.0 * max(1.0, a.miners / 1000.0)
    if a.seconds - a.warmup < 6 * a.sample_every:
        p.error("the run is too short for its warm-up and sample interval "
                "(at least 6 samples after warm-up are needed)")
    return a


def say(msg):
    # TAP diagnostics: every line of ours that is not a verdict is a comment.
    for line in str(msg).splitlines() or [""]:
        sys.stdout.write("# " + line + "\n")
    sys.stdout.flush()


class Abort(Exception):
    pass


def on_signal(signum, _frame):
    raise Abort("signal %d" % signum)


# ---- a minimal HTTP/1.1 client on raw sockets ------------------------------------
# Raw sockets, because the point is to control exactly when a connection is
# opened, half-used and closed, which http.client and urllib hide.


class Closed(Exception):
    pass


def _recv(sock, buf):
    chunk = sock.recv(262144)
    if not chunk:
        raise Closed("server closed the connection")
    buf += chunk


def read_response(sock, buf):
    """Reads one response from sock (buf holds bytes already read, and keeps
    what follows). Returns (status, headers, body_len, server_closes)."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        if len(buf) > 65536:
            raise Closed("response headers too long")
        _recv(sock, buf)
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    del buf[:end + 4]
    parts = head[0].split(" ", 2)
    status = int(parts[1])
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    closes = headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0"
    body_len = 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            while b"\r\n" not in buf:
                _recv(sock, buf)
            i = buf.find(b"\r\n")
            size = int(bytes(buf[:i]).split(b";")[0], 16)
            del buf[:i + 2]
            if size == 0:
                # no trailers from libsoup: the empty line ends the message
                while len(buf) < 2:
                    _recv(sock, buf)
                del buf[:2]
                break
            while len(buf) < size + 2:
                _recv(sock, buf)
            body_len += size
            del buf[:size + 2]
    elif "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            _recv(sock, buf)
        body_len = n
        del buf[:n]
    elif status >= 200 and status not in (204, 304):
        # close-delimited body
        try:
            while True:
                _recv(sock, buf)
        except Closed:
            pass
        body_len = len(buf)
        del buf[:]
        closes = True
    return status, headers, body_len, closes


def request_bytes(host, port, path, close=False):
    extra = "Connection: close\r\n" if close else ""
    return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: antmon-soak\r\n"
            "Accept: */*\r\n%s\r\n" % (path, host, port, extra)).encode()


def get_json(host, port, path, timeout=10):
    """One request with Connection: close (the sampler's own, so that the
    measurement adds nothing that could linger)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(request_bytes(host, port, path, close=True))
        buf = bytearray()
        while True:
            try:
                _recv(s, buf)
            except Closed:
                break
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0] + b" ":
        raise Closed("%s: %s" % (path, head.split(b"\r\n")[0].decode("latin-1")))
    if b"chunked" in head.lower():
        out = bytearray()
        while body:
            line, _, body = body.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                break
            out += body[:size]
            body = body[size + 2:]
        body = bytes(out)
    return json.loads(body)


# ---- the clients -----------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def get(self, key):
        with self.lock:
            return self.counts.get(key, 0)


class Clients:
    """Every client is a thread that stops by itself at the deadline (or
    when stop is set), with at most max_requests requests."""

    def __init__(self, host, port, deadline, args, stats, rng_seed):
        self.host, self.port, self.deadline, self.args = host, port, deadline, args
        self.stats = stats
        self.stop = threading.Event()
        self.threads = []
        self.seed = rng_seed

    def running(self):
        return not self.stop.is_set() and time.monotonic() < self.deadline

    def pause(self, seconds):
        self.stop.wait(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def connect(self, timeout=10):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def start(self):
        a = self.args
        budget = int(a.seconds * max(a.client_rate, 1.0) * 2) + 10
        for i, path in enumerate(("/api/health", "/api/summary", "/api/miners")):
            self._spawn("newconn%d" % i, self.newconn, path, budget)
        self._spawn("scraper", self.scraper, int(a.seconds / 5) * 2 + 10)
        self._spawn("browser", self.browser, int(a.seconds * 2) + 10)
        for i in range(a.slow_clients):
            self._spawn("slow%d" % i, self.slow, int(a.seconds) + 10, i)

    def _spawn(self, name, fn, *fargs):
        t = threading.Thread(target=self._guard, name=name, args=(fn,) + fargs, daemon=True)
        self.threads.append(t)
        t.start()

    def _guard(self, fn, *fargs):
        try:
            fn(*fargs)
        except Exception as e:  # a client bug must show, not hang the soak
            self.stats.add("client_crashes")
            say("client %s crashed: %r" % (threading.current_thread().name, e))

    def join(self, timeout):
        self.stop.set()
        end = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        return [t.name for t in self.threads if t.is_alive()]

    def _result(self, status):
        self.stats.add("requests")
        if status != 200:
            self.stats.add("failed")
            self.stats.add("status_%d" % status)

    # (1) one new keep-alive connection per request, closed after the reply
    def newconn(self, path, max_requests):
        rng = random.Random("%s-%s" % (self.seed, path))
        period = 1.0 / self.args.client_rate
        for _ in range(max_requests):
            if not self.running():
                return
            try:
                with self.connect() as s:
                    s.sendall(request_bytes(self.host, self.port, path))
                    status, _, _, _ = read_response(s, bytearray())
                self._result(status)
                self.stats.add("newconn_closed")
            except (OSError, Closed, ValueError) as e:
                self.stats.add("requests")
                self.stats.add("failed")
                self.stats.add("error_" + type(e).__name__)
            self.pause(period * rng.uniform(0.8, 1.2))

    # (2) Prometheus: one connection reused, reconnect when the server closes it
    def scraper(self, max_scrapes):
        s = None
        buf = bytearray()
        for _ in range(max_scrapes):
            if not self.running():
                break
            for attempt in (1, 2):
                try:
                    if s is None:
                        s = self.connect()
                        buf = bytearray()
                        self.stats.add("scraper_connects")
                    s.sendall(request_bytes(self.host, self.port, "/metrics"))
                    status, _, _, closes = read_response(s, buf)
                    self._result(status)
                    self.stats.add("scrapes")
                    if closes:
                        s.close()
                        s = None
                    break
                except (OSError, Closed, ValueError) as e:
                    if s is not None:
                        s.close()
                        s = None
                    if attempt == 2:  # a reused connection may be closed under us once
                        self.stats.add("requests")
                        self.stats.add("failed")
                        self.stats.add("error_" + type(e).__name__)
            self.pause(5.0)
        if s is not None:
            s.close()

    # (3) a browser: pages, and connections given up at every stage
    def browser(self, max_actions):
        rng = random.Random("%s-browser" % self.seed)
        pages = ["/", "/api/summary", "/api/miners", "/api/fleet", "/api/events", "/metrics"]
        for _ in range(max_actions):
            if not self.running():
                return
            action = rng.choice(["nothing", "half", "unread", "midread", "page", "page"])
            path = rng.choice(pages)
            try:
                with self.connect() as s:
                    if action == "nothing":  # a preconnect that is never used
                        pass
                    elif action == "half":  # navigated away while sending
                        s.sendall(request_bytes(self.host, self.port, path)[:rng.randint(1, 30)])
                    elif action == "unread":  # request sent, tab closed
                        s.sendall(request_bytes(self.host, self.port, path))
                    elif action == "midread":  # closed after the first bytes
                        s.sendall(request_bytes(self.host, self.port, path))
                        s.recv(rng.choice([16, 512, 4096]))
                    else:  # two requests on one connection, then idle, then close
                        buf = bytearray()
                        for p in (path, "/api/summary"):
                            s.sendall(request_bytes(self.host, self.port, p))
                            status, _, _, closes = read_response(s, buf)
                            self._result(status)
                            if closes:
                                break
                        self.pause(rng.uniform(1.0, 4.0))
                    self.stats.add("browser_" + action)
            except (OSError, Closed, ValueError) as e:
                if action == "page":
                    self.stats.add("requests")
                    self.stats.add("failed")
                    self.stats.add("error_" + type(e).__name__)
            self.pause(rng.uniform(0.2, 0.8))

    # (4) slowloris-like: half a request line, then wait
    def slow(self, max_rounds, index):
        rng = random.Random("%s-slow-%d" % (self.seed, index))
        self.pause(index * 2.0)
        for _ in range(max_rounds):
            if not self.running():
                return
            hold = rng.uniform(10.0, 30.0)
            try:
                with self.connect() as s:
                    s.sendall(b"GET /api/summ")
                    s.settimeout(0.5)
                    start = time.monotonic()
                    while self.running() and time.monotonic() - start < hold:
                        try:
                            if s.recv(4096) == b"":
                                self.stats.add("slow_closed_by_server")
                                break
                        except socket.timeout:
                            continue
                    else:
                        self.stats.add("slow_held")
            except OSError:
                self.stats.add("slow_errors")
            self.pause(rng.uniform(0.5, 2.0))


# ---- the webhook receiver ----------------------------------------------------------


class Receiver:
    """A webhook endpoint on 127.0.0.1:0 that keeps connections alive (as real
    ones do) and closes them after 10 s idle, and answers every 7th POST with
    503 so that retries run too."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = []  # monotonic time of each notification accepted
        self.refused = 0
        self.bad = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    count = len(outer.posts) + outer.refused + 1
                    if count % 7 == 0:
                        outer.refused += 1
                        code = 503
                    else:
                        try:
                            json.loads(body)
                            outer.posts.append(time.monotonic())
                            code = 200
                        except ValueError:
                            outer.bad += 1
                            code = 400
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def since(self, t0):
        with self.lock:
            return sum(1 for t in self.posts if t >= t0)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- the fleet ------------------------------------------------------------------------

# Profiles whose replies carry no MAC or serial: the daemon merges miners
# that report the same one (avalon-7xx does), which would shrink the fleet.
PROFILES = ["antminer-s19pro", "antminer-s9", "whatsminer-m20s", "braiins-s9",
            "antminer-s17pro", "luxos", "antminer-l3plus", "vnish-s9",
            "generic-cgminer", "antminer-s9-degraded"]
FAULTS = ["hang", "garbage", "huge", "drip", "close", "flap"]


def addresses(a, b, n):
    out, c, d = [], b, 1
    for _ in range(n):
        out.append("127.%d.%d.%d" % (a, c, d))
        d += 1
        if d == 255:
            c, d = c + 1, 1
    return out


class Fleet:
    def __init__(self, exe, profiles_dir, work, n, faulty_percent, rng):
        self.proc = None
        every = max(2, round(100.0 / faulty_percent)) if faulty_percent > 0 else 0
        for attempt in range(3):
            self.port = rng.randint(20000, 60000)
            a, b = rng.randint(32, 250), rng.randint(0, 250 - (n // 254 + 1))
            self.hosts = addresses(a, b, n)
            self.fault = {}
            lines = []
            k = 0
            for i, h in enumerate(self.hosts):
                prof = os.path.join(profiles_dir, PROFILES[i % len(PROFILES)])
                extra = ""
                if every and i % every == every // 2:
                    kind = FAULTS[k % len(FAULTS)]
                    k += 1
                    self.fault[h] = kind
                    if kind == "drip":  # half finish within the deadline, half do not
                        extra = " fault=drip drip_ms=%d" % (1 if k % 2 else 50)
                    elif kind != "flap":
                        extra = " fault=" + kind
                lines.append("%s:%d %s%s" % (h, self.port, prof, extra))
            path = os.path.join(work, "soak.fleet")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            self.out = open(os.path.join(work, "fakeminer.out"), "w+")
            self.proc = subprocess.Popen([exe, "--fleet", path, "--control", "127.0.0.1:0"],
                                         stdout=self.out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            self.control = None
            for _ in range(600):
                self.out.seek(0)
                text = self.out.read()
                for line in text.splitlines():
                    if line.startswith("control "):
                        self.control = int(line.split()[1])
                if "ready" in text and self.control:
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
            self.out.seek(0)
            why = self.out.read().strip()
            self.stop()
            if "cannot listen" not in why:
                raise Abort("the fake fleet did not start: " + why[-500:])
            say("fleet port busy, trying another: " + why[-200:])
        raise Abort("the fake fleet could not bind three times")

    def flappers(self):
        return [h for h, k in self.fault.items() if k == "flap"]

    def healthy(self):
        return [h for h in self.hosts if h not in self.fault]

    def send(self, lines):
        with socket.create_connection(("127.0.0.1", self.control), timeout=10) as s:
            f = s.makefile("rw")
            for line in lines:
                f.write(line + "\n")
                f.flush()
                while True:
                    answer = f.readline()
                    if not answer:
                        raise Abort("control port closed")
                    answer = answer.strip()
                    if answer == "ok":
                        break
                    if answer.startswith("error"):
                        raise Abort("control: %s: %s" % (line, answer))
            f.write("quit\n")
            f.flush()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Flapper:
    """Takes the flapping miners down (refused, as a rebooting miner) and up
    again, and heats a few healthy ones up and cools them down, so alerts
    are raised and resolved all along and the sinks keep delivering."""

    def __init__(self, fleet, half_period, deadline, stats):
        self.fleet, self.half, self.deadline, self.stats = fleet, half_period, deadline, stats
        self.stop = threading.Event()
        healthy = fleet.healthy()
        self.hot = healthy[3::max(1, len(healthy) // 10)][:10]
        self.thread = threading.Thread(target=self.run, name="flapper", daemon=True)
        self.thread.start()

    def run(self):
        down = False
        rounds = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            self.stop.wait(self.half)
            if self.stop.is_set() or time.monotonic() >= self.deadline:
                break
            down = not down
            rounds += 1
            lines = ["set %s fault=%s" % (h, "refuse" if down else "none")
                     for h in self.fleet.flappers()]
            if rounds % 4 in (1, 2):
                lines += ["set %s temp_offset=%s" % (h, "+30" if rounds % 4 == 1 else "+0")
                          for h in self.hot]
            try:
                self.fleet.send(lines)
                self.stats.add("flaps")
            except (OSError, Abort) as e:
                self.stats.add("flap_errors")
                say("flapper: %s" % e)
        try:  # leave them up: nothing else to do
            self.fleet.send(["set %s fault=none" % h for h in self.fleet.flappers()])
        except (OSError, Abort):
            pass


# ---- the daemon -------------------------------------------------------------------------


def write_ini(path, work, fleet, receiver, a):
    interval = a.interval
    timeout = min(5.0, max(1.0, interval * 2))
    offline_after_s = 3 * interval
    cooldown = "%ds" % max(5, int(interval * 5))
    lines = [
        "[core]",
        "state_dir=%s" % os.path.join(work, "var"),
        "interval=%dms" % int(interval * 1000),
        "poll_timeout=%dms" % int(timeout * 1000),
        "max_inflight=256",
        "offline_after=3",
        "log_level=message",
        # the agent's own budget is the one this soak holds it to
        "memory_budget=%dMiB" % max(16, int(a.rss_mb)),
        "[store:sqlite]",
        "path=antmon.db",
        "raw_retention=%s" % a.raw_retention,
        "rollup_retention=1h",
        "flush_interval=2s",
        "[http:api]",
        "listen=127.0.0.1:0",
        "[alert:offline]",
        "type=offline",
        "after=%dms" % int(offline_after_s * 1000),
        "cooldown=%s" % cooldown,
        "[alert:board-temperature]",
        "type=temperature",
        "sensor=board",
        "warning=80",
        "critical=90",
        "clear=75",
        "hits=2",
        "cooldown=%s" % cooldown,
        "[alert:hashrate-drop]",
        "type=hashrate_drop",
        "threshold=0.8",
        "clear=0.9",
        "window=1m",
        "warmup=0",
        "hits=2",
        "cooldown=%s" % cooldown,
        "[alert:hardware]",
        "type=hardware",
        "severity=critical",
        "cooldown=%s" % cooldown,
        "[alert:pool]",
        "type=pool",
        "[sink:log]",
        "format=text",
        "digest_window=0",
        "[sink:webhook:soak]",
        "enabled=true",
        "url=http://127.0.0.1:%d/hook" % receiver.port,
        "format=json",
        "timeout=5s",
        "digest_window=5s",
        "retries=2",
        "retry_backoff=1s",
        "deliver_timeout=30s",
    ]
    for i, h in enumerate(fleet.hosts):
        lines += ["[miner:s%05d]" % (i + 1), "host=%s:%d" % (h, fleet.port)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Daemon:
    def __init__(self, exe, plugin_dir, ini, work):
        env = dict(os.environ)
        env["ANTMON_PLUGIN_DIR"] = plugin_dir
        self.log_path = os.path.join(work, "antmon.log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([exe, "run", "-c", ini], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.url = None
        marker = "HTTP API listening on http://"
        for _ in range(300):
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    if marker in line:
                        rest = line.split(marker, 1)[1].split()[0].rstrip("/")
                        host, _, port = rest.rpartition(":")
                        self.host, self.port = host, int(port)
                        self.url = "http://" + rest + "/"
                        break
            if self.url or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not self.url:
            self.stop()
            raise Abort("the daemon did not start:\n" + self.tail())

    def tail(self, n=30):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def stop(self, timeout=20):
        """SIGTERM; returns (exit status, seconds) or (None, timeout) if it hung."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
            return rc, time.monotonic() - t0
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None, timeout


# ---- sampling ---------------------------------------------------------------------------


def proc_status(pid):
    rss = threads = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024.0
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def proc_fds(pid):
    base = "/proc/%d/fd" % pid
    n = 0
    inodes = set()
    for name in os.listdir(base):
        n += 1
        try:
            target = os.readlink(os.path.join(base, name))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return n, inodes


def close_wait(inodes, api_port):
    """{inode: on the API port} of the daemon's sockets in CLOSE-WAIT (state 08)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if len(fields) < 10 or fields[3] != "08" or fields[9] not in inodes:
                        continue
                    found[fields[9]] = int(fields[1].rsplit(":", 1)[1], 16) == api_port
        except FileNotFoundError:
            pass
    return found


def db_sizes(var):
    sizes = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            sizes[suffix] = os.path.getsize(os.path.join(var, "antmon.db" + suffix))
        except OSError:
            sizes[suffix] = 0
    return sum(sizes.values()) / 1048576.0, sizes["-wal"] / 1048576.0


class CloseWaitTracker:
    """Remembers since when each socket has been in CLOSE-WAIT. One seen
    there for a moment is a peer that hung up while the daemon was busy; one
    still there after `after` seconds was left behind."""

    def __init__(self, after):
        self.after = after
        self.since = {}

    def update(self, now, found):
        self.since = {ino: self.since.get(ino, now) for ino in found}
        old = [ino for ino, t in self.since.items() if now - t >= self.after]
        return len(old), sum(1 for ino in old if found[ino])


def take_sample(t0, daemon, var, tracker):
    s = {"t": time.monotonic() - t0, "sqlite": None, "sqlite_caches": None}
    s["rss"], s["threads"] = proc_status(daemon.pid)
    s["fds"], inodes = proc_fds(daemon.pid)
    found = close_wait(inodes, daemon.port)
    s["cw"], s["cw_api"] = len(found), sum(1 for api in found.values() if api)
    s["cw_old"], s["cw_old_api"] = tracker.update(s["t"], found)
    s["db"], s["wal"] = db_sizes(var)
    s["written"] = s["online"] = s["sent"] = s["raised"] = s["dropped"] = None
    try:
        h = get_json(daemon.host, daemon.port, "/api/health")
        store = h.get("store") or {}
        s["written"] = store.get("written", 0)
        s["dropped"] = store.get("dropped", 0)
        poll = h.get("poll") or {}
        s["online"] = poll.get("online", 0) + poll.get("degraded", 0)
        # SQLite's own memory (its page caches, bounded by cache_size= and
        # reader_cache_size=), where the store reports it (plugin ABI 1.1)
        engine = store.get("engine") or {}
        if "sqlite_memory_bytes" in engine:
            s["sqlite"] = engine["sqlite_memory_bytes"] / 1048576.0
            s["sqlite_caches"] = (engine.get("cache_size_bytes", 0) +
                                  engine.get("reader_cache_size_bytes", 0)) / 1048576.0
        alerts = h.get("alerts") or {}
        s["sent"] = alerts.get("sent", 0)
        s["raised"] = alerts.get("raised", 0)
    except (OSError, Closed, ValueError, AttributeError) as e:
        s["health_error"] = str(e)
    s["own"] = s["rss"] - (s["sqlite"] or 0.0)
    return s


# ---- judging ----------------------------------------------------------------------------


def slope_rise(points):
    """Least-squares rise of y over the span of x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    slope = sum((x - mx) * (y - my) for x, y in points) / var
    return slope * (points[-1][0] - points[0][0])


def growth(samples, key, abs_tol, rel_tol, use_slope=True):
    """(grows, text) for one series of post-warm-up samples."""
    n = len(samples)
    mid = [s[key] for s in samples[n // 3: 2 * n // 3]]
    last = [s[key] for s in samples[2 * n // 3:]]
    m2, m3 = max(mid), max(last)
    tol = max(abs_tol, rel_tol * m2)
    rise = slope_rise([(s["t"], s[key]) for s in samples]) if use_slope else None
    grows = m3 - m2 > tol and (rise is None or rise > tol)
    text = "max of middle third %.1f, of last third %.1f (tolerance %.1f)" % (m2, m3, tol)
    if rise is not None:
        text += ", fitted rise %+.1f over %.0f s" % (rise, samples[-1]["t"] - samples[0]["t"])
    return grows, text


def fmt(v, spec):
    return "-" if v is None else spec % v


def print_table(samples, warmup, after):
    say("")
    say("%7s %8s %9s %6s %8s %10s %7s %7s %7s %9s %7s %6s" % (
        "time_s", "rss_mb", "sqlite_mb", "fds", "threads", "close_wait", "cw_old", "db_mb",
        "wal_mb", "polls", "online", "alerts"))
    for s in samples:
        say("%7.0f %8.1f %9s %6d %8d %10s %7s %7.2f %7.2f %9s %7s %6s%s" % (
            s["t"], s["rss"], fmt(s["sqlite"], "%.1f"), s["fds"], s["threads"],
            "%d/%d" % (s["cw"], s["cw_api"]), "%d/%d" % (s["cw_old"], s["cw_old_api"]),
            s["db"], s["wal"],
            fmt(s["written"], "%d"), fmt(s["online"], "%d"), fmt(s["sent"], "%d"),
            "   (warm-up)" if s["t"] < warmup else ""))
    say("sqlite_mb: SQLite's memory as the store reports it (- when it does not)")
    say("close_wait: daemon sockets in CLOSE-WAIT, all/on the API port; cw_old: those of them")
    say("  in CLOSE-WAIT for %g s or more; polls: samples stored; alerts: notifications sent"
        % after)
    say("")


# ---- main -------------------------------------------------------------------------------


def main():
    a = parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    build = os.path.abspath(a.build)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    antmon = os.environ.get("ANTMON_BIN", os.path.join(build, "core", "antmon"))
    fake = os.environ.get("ANTMON_FAKEMINER",
                          os.path.join(build, "tests", "fakeminer", "antmon-fakeminer"))
    plugin_dir = os.environ.get("ANTMON_PLUGIN_DIR", os.path.join(build, "plugins"))
    profiles = os.path.join(root, "tests", "fakeminer", "profiles")
    checks = ["polling kept up", "alerts delivered to the webhook", "http api answered",
              "rss flat", "rss within budget", "fds flat", "fds within budget", "threads flat",
              "no sockets left in CLOSE-WAIT", "database growth within budget",
              "clean exit on SIGTERM"]
    print("1..%d" % len(checks))
    sys.stdout.flush()
    for exe in (antmon, fake):
        if not os.access(exe, os.X_OK):
            print("Bail out! missing %s (build first: ninja -C %s)" % (exe, a.build))
            return 1

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    work = tempfile.mkdtemp(prefix="antmon-soak-")
    os.makedirs(os.path.join(work, "var"))
    fleet = receiver = daemon = clients = flapper = None
    samples = []
    stats = Stats()
    results = []
    try:
        say("soak: %d miners every %gs, %.0f s (warm-up %.0f s), sample every %g s, seed %d, in %s"
            % (a.miners, a.interval, a.seconds, a.warmup, a.sample_every, seed, work))
        receiver = Receiver()
        fleet = Fleet(fake, profiles, work, a.miners, a.faulty_percent, rng)
        kinds = {}
        for k in fleet.fault.values():
            kinds[k] = kinds.get(k, 0) + 1
        say("fleet: %s.x:%d, faulty: %s" % (fleet.hosts[0].rsplit(".", 1)[0], fleet.port,
                                            ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
        ini = os.path.join(work, "antmon.ini")
        write_ini(ini, work, fleet, receiver, a)
        daemon = Daemon(antmon, plugin_dir, ini, work)
        say("daemon pid %d at %s" % (daemon.pid, daemon.url))
        t0 = time.monotonic()
        deadline = t0 + a.seconds
        var = os.path.join(work, "var")
        tracker = CloseWaitTracker(a.close_wait_after)
        samples.append(take_sample(t0, daemon, var, tracker))
        clients = Clients(daemon.host, daemon.port, deadline, a, stats, seed)
        clients.start()
        flapper = Flapper(fleet, max(10.0, 6 * a.interval), deadline, stats)
        next_t = t0 + a.sample_every
        last_note = t0
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            time.sleep(max(0.0, min(next_t, deadline) - now))
            if time.monotonic() < next_t - 0.01:
                continue
            next_t += a.sample_every
            if daemon.proc.poll() is not None:
                break
            samples.append(take_sample(t0, daemon, var, tracker))
            if time.monotonic() - last_note >= 30:
                s = samples[-1]
                last_note = time.monotonic()
                say("t=%.0fs rss %.1f MB, fds %d, close_wait %d, polls %s, requests %d" % (
                    s["t"], s["rss"], s["fds"], s["cw"], s["written"], stats.get("requests")))
        alive = daemon.proc.poll() is None
        if alive:
            samples.append(take_sample(t0, daemon, var, tracker))
        stuck = clients.join(40)
        flapper.stop.set()
        flapper.thread.join(15)
        if stuck:
            say("clients still running after the deadline: %s" % ", ".join(stuck))
        rc, took = daemon.stop()
        print_table(samples, a.warmup, a.close_wait_after)
        if not alive:
            say("the daemon died during the run (status %s):" % daemon.proc.returncode)
            say(daemon.tail())

        # ---- the verdicts ----
        post = [s for s in samples if s["t"] >= a.warmup]
        enough = len(post) >= 6 and alive
        why_short = "the daemon died" if not alive else "only %d samples after warm-up" % len(post)

        # polling kept up: samples stored after warm-up vs healthy miners x elapsed/interval
        if enough and post[0]["written"] is not None and post[-1]["written"] is not None:
            span = post[-1]["t"] - post[0]["t"]
            stored = post[-1]["written"] - post[0]["written"]
            expected = len(fleet.healthy()) * span / (a.interval * 1.1)
            ok = stored >= 0.7 * expected
            results.append((ok, "%d samples stored in the last %.0f s, %.0f expected from %d healthy"
                            " miners (at least 70%% needed); dropped %s" % (
                                stored, span, expected, len(fleet.healthy()), post[-1]["dropped"])))
        else:
            results.append((False, "no poll counts: " + why_short))

        # the sinks kept delivering (flapping miners raise and resolve alerts)
        got = receiver.since(t0 + a.warmup)
        results.append((got > 0, "%d webhook notifications after warm-up (%d in all, %d answered "
                        "503 and retried, %d malformed)" % (got, receiver.since(0), receiver.refused,
                                                           receiver.bad)))
        if receiver.bad:
            results[-1] = (False, results[-1][1])

        # every client request answered
        req, failed = stats.get("requests"), stats.get("failed")
        detail = ", ".join("%s %d" % kv for kv in sorted(stats.counts.items())
                           if kv[0] != "requests")
        ok = req > 0 and failed <= max(2, req // 100) and not stats.get("client_crashes")
        results.append((ok, "%d requests, %d failed (at most 1%% allowed); %s" % (req, failed, detail)))

        if enough:
            # SQLite's page caches fill up as the database grows, up to their
            # configured size: growth by design, judged against that size.
            # The rest of the daemon must be flat.
            if all(s["sqlite"] is not None for s in post):
                grows, text = growth(post, "own", 3.0, 0.05)
                peak = max(s["sqlite"] for s in post)
                limit = post[-1]["sqlite_caches"] + 8.0
                text = ("rss without SQLite's memory: %s MB; SQLite's memory peak %.1f MB, its "
                        "caches %.0f MB (+8 MB allowed)" % (text, peak, limit - 8.0))
                results.append((not grows and peak <= limit, text))
            else:
                grows, text = growth(post, "rss", 3.0, 0.05)
                results.append((not grows, "rss (the store reports no SQLite memory): %s MB" % text))
            peak = max(s["rss"] for s in samples)
            results.append((peak <= a.rss_mb, "rss peak %.1f MB, budget %.0f MB" % (peak, a.rss_mb)))
            grows, text = growth(post, "fds", 10, 0.05)
            results.append((not grows, "fds: " + text))
            # The baseline is the warm-up's median: the fds of a daemon polling
            # and serving, in-flight polls included. Over budget in two samples
            # or more: one burst of in-flight polls (max_inflight is 256) is
            # not a leak, a leak stays over.
            warm = sorted(s["fds"] for s in samples if s["t"] < a.warmup)
            base = warm[len(warm) // 2]
            over = [s for s in post if s["fds"] > base + a.fd_budget]
            peak = max(s["fds"] for s in post)
            results.append((len(over) < 2, "fds peak %d after warm-up, %d samples over the budget "
                            "(warm-up median %d + %d)" % (peak, len(over), base, a.fd_budget)))
            grows, text = growth(post, "threads", 2, 0.0, use_slope=False)
            results.append((not grows, "threads: " + text))
            worst = max(post, key=lambda s: s["cw_old"])
            most = max(post, key=lambda s: s["cw"])
            results.append((worst["cw_old"] <= a.close_wait_max,
                            "at most %d daemon sockets in CLOSE-WAIT for %g s or more (%d on the API "
                            "port, at %.0f s), %d allowed; at most %d in CLOSE-WAIT at one time "
                            "(%d on the API port)" % (
                                worst["cw_old"], a.close_wait_after, worst["cw_old_api"], worst["t"],
                                a.close_wait_max, most["cw"], most["cw_api"])))
            d_db = post[-1]["db"] - post[0]["db"]
            d_n = (post[-1]["written"] or 0) - (post[0]["written"] or 0)
            per = d_db * 1048576.0 / d_n if d_n > 0 else float("inf")
            ok = per <= a.db_bytes_per_sample
            results.append((ok, "database +%.2f MB for %d samples after warm-up: %.0f bytes per "
                            "sample, budget %d (now %.2f MB, WAL %.2f MB)" % (
                                d_db, d_n, per, a.db_bytes_per_sample, post[-1]["db"],
                                post[-1]["wal"])))
        else:
            for name in checks[3:10]:
                results.append((False, why_short))
        results.append((rc == 0, "exit status %s after SIGTERM, in %.1f s" % (rc, took)))
    except Abort as e:
        print("Bail out! %s" % e)
        sys.stdout.flush()
        return 1
    finally:
        if clients is not None:
            clients.stop.set()
        if flapper is not None:
            flapper.stop.set()
        if daemon is not None:
            daemon.stop()
        if fleet is not None:
            fleet.stop()
        if receiver is not None:
            receiver.close()
        if a.keep:
            say("work directory kept: %s" % work)
        else:
            subprocess.run(["rm", "-rf", work])

    failed = 0
    for i, (name, (ok, text)) in enumerate(zip(checks, results), 1):
        print("%s %d - %s: %s" % ("ok" if ok else "not ok", i, name, text))
        failed += not ok
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
