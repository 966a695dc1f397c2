#!/usr/bin/python3
"""antmon as a systemd service, checked with the real tools (TAP on stdout):

- the unit passes `systemd-analyze verify` (on the installed tree) and
  `systemd-analyze security --offline=true` rates it at most 2.0;
- through a NOTIFY_SOCKET this test binds: READY=1 once the HTTP API
  answers, STATUS= with the miners, WATCHDOG=1 pings that keep coming and
  stop while the process is stopped (SIGSTOP: a stalled loop), STOPPING=1;
- `make install DESTDIR=... PREFIX=<the build's>` installs a tree whose
  antmon runs (seen at its real paths through an overlay mount in a private
  mount namespace) with its plugins found and answers /api/summary; a second
  install keeps a changed /etc/antmon/antmon.ini;
- the man pages render without groff warnings;
- log_format=json lines carry time, level, message, miner and plugin; under
  a JOURNAL_STREAM the messages go to the journal socket (a socket this test
  binds in its own mount namespace) with PRIORITY=, MINER= and PLUGIN=;
- SIGHUP: an added alert rule and an added [miner:NAME] show in the API, a
  changed [core] key is named as needing a restart, log_file= is reopened.

Needs root (mount namespaces), as CI runs it. Environment from
tests/meson.build: ANTMON_BIN, ANTMON_BUILD_ROOT, G_TEST_SRCDIR.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# Everything below runs in a private mount namespace: the journal socket
# and the installed tree are mounted only for this test.
if os.environ.get("ANTMON_TEST_MOUNT_NS") != "1":
    os.environ["ANTMON_TEST_MOUNT_NS"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private",
                          sys.executable, *sys.argv])

BIN = os.environ["ANTMON_BIN"]
BUILD = os.environ["ANTMON_BUILD_ROOT"]
SRC = os.path.dirname(os.path.abspath(os.environ["G_TEST_SRCDIR"]))
TMP = tempfile.mkdtemp(prefix="antmon-systemd-")
# Liveness guard only (a broken daemon must not hang the suite), not speed.
PATIENCE_S = 60

n = 0
failed = False
children = []


def ok(cond, what, detail=""):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, what), flush=True)
    if not cond:
        failed = True
        for line in str(detail).splitlines()[-60:]:
            print("# " + line, flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_ini(path, port, extra="", state=None):
    state = state or os.path.join(TMP, "state")
    with open(path, "w") as f:
        f.write("[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=1s\n%s\n"
                "[store:sqlite]\nenabled=false\n"
                "[http:api]\nlisten=127.0.0.1:%d\n" % (state, extra, port))


def api(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.load(r)


def wait_until(cond, what):
    end = time.monotonic() + PATIENCE_S
    while time.monotonic() < end:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    raise TimeoutError("no %s within %d s" % (what, PATIENCE_S))


class Antmon:
    """antmon run -c INI, its stderr collected to a file."""

    def __init__(self, ini, env=None, binary=BIN, stderr=None, argv_prefix=()):
        self.log = os.path.join(TMP, "antmon-%d.log" % (len(children) + 1))
        self.err = open(self.log, "wb") if stderr is None else stderr
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([*argv_prefix, binary, "run", "-c", ini], env=e,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        children.append(self.proc)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, needle):
        return wait_until(lambda: needle in self.text(), repr(needle) + " in the log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
        try:
            return self.proc.wait(PATIENCE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class NotifySocket:
    """The datagram socket systemd would listen on (NOTIFY_SOCKET)."""

    def __init__(self):
        self.path = os.path.join(TMP, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            msg = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        self.seen.append(msg)
        return msg

    def wait_for(self, pred, what):
        end = time.monotonic() + PATIENCE_S
        while time.monotonic() < end:
            msg = self.recv(max(0.1, end - time.monotonic()))
            if msg is not None and pred(msg):
                return msg
        raise TimeoutError("no %s on NOTIFY_SOCKET; seen: %r" % (what, self.seen[-10:]))

    def drain(self):
        while self.recv(0.05) is not None:
            pass


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# ---- the unit ------------------------------------------------------------

def test_security_score():
    unit = os.path.join(BUILD, "data", "antmon.service")
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for antmon\.service: ([0-9.]+)", r.stdout + r.stderr)
    score = float(m.group(1)) if m else None
    ok(score is not None and score <= 2.0,
       "systemd-analyze security rates antmon.service %s (at most 2.0)" % score, r.stdout + r.stderr)


def test_man_pages():
    for page in ("antmon.1", "antmon.ini.5"):
        path = os.path.join(SRC, "data", "man", page)
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path],
                           capture_output=True, text=True)
        ok(r.returncode == 0 and r.stderr == "", "%s renders without warnings" % page, r.stderr)
    # Every key of the shipped antmon.ini is described in antmon.ini(5).
    with open(os.path.join(SRC, "antmon.ini")) as f:
        keys = set(re.findall(r"^#? ?([a-z_][a-z0-9_]*)=", f.read(), re.M))
    with open(os.path.join(SRC, "data", "man", "antmon.ini.5")) as f:
        man = f.read()
    missing = sorted(k for k in keys if "\\fB%s=\\fR" % k not in man)
    ok(not missing, "antmon.ini(5) describes all %d keys of antmon.ini" % len(keys),
       "missing: %s" % missing)


# ---- sd_notify -----------------------------------------------------------

def test_notify():
    port = free_port()
    ini = os.path.join(TMP, "notify.ini")
    # Port 1 on loopback refuses at once: a miner that is there but down.
    write_ini(ini, port, "[miner:down]\nhost=127.77.0.1:1\n")
    ns = NotifySocket()
    d = Antmon(ini, {"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "1000000"})
    try:
        ns.wait_for(lambda m: "READY=1" in m.split("\n"), "READY=1")
        # Ready means the API listens: the first request is answered.
        summary = api(port, "/api/summary")
        ok(isinstance(summary, dict), "READY=1 once /api/summary answers")
        # A pass may end with no poll in it (the refusing miner waits out
        # its backoff), or poll it more than once: wait for one that did.
        pattern = re.compile(r"STATUS=1 miners, 0 online; last pass: ([0-9]+) polled, 0 ok, "
                             r"([0-9]+) failed in [0-9]+ ms$")
        status = ns.wait_for(lambda m: m.startswith("STATUS=") and "last pass: 0 polled" not in m
                             and "last pass" in m, "STATUS= with a poll pass that polled")
        m = pattern.match(status)
        ok(m is not None and m.group(1) == m.group(2),
           "STATUS= names the miners and the last pass", status)
        for _ in range(3):
            ns.wait_for(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
        ok(True, "WATCHDOG=1 pings keep coming (WATCHDOG_USEC=1s)")

        # A stalled main loop: the process is stopped, nothing more comes
        # (what was queued before the stop is drained first).
        d.proc.send_signal(signal.SIGSTOP)
        wait_until(lambda: process_state(d.proc.pid) == "T", "stopped process")
        ns.drain()
        time.sleep(2.5)
        late = ns.recv(0.01)
        ok(late is None, "no WATCHDOG=1 while the loop is stalled (systemd would restart it)",
           repr(late))
        d.proc.send_signal(signal.SIGCONT)
        ns.wait_for(lambda m: m == "WATCHDOG=1", "WATCHDOG=1 after SIGCONT")
        ok(True, "pings come back once the loop runs again")
        d.proc.terminate()
        ns.wait_for(lambda m: m == "STOPPING=1", "STOPPING=1")
        ok(d.proc.wait(PATIENCE_S) == 0, "STOPPING=1 on SIGTERM, then a clean exit", d.text())
    except TimeoutError as e:
        ok(False, "sd_notify", "%s\n%s" % (e, d.text()))
    finally:
        d.stop()


def test_no_notify_socket():
    # Outside systemd nothing is sent and nothing fails.
    port = free_port()
    ini = os.path.join(TMP, "plain.ini")
    write_ini(ini, port)
    d = Antmon(ini, {"NOTIFY_SOCKET": ""})
    try:
        wait_until(lambda: api(port, "/api/summary"), "/api/summary")
        ok(d.stop() == 0, "without NOTIFY_SOCKET it runs and stops cleanly", d.text())
    except TimeoutError as e:
        ok(False, "without NOTIFY_SOCKET", "%s\n%s" % (e, d.text()))
        d.stop()


# ---- make install --------------------------------------------------------

def build_option(name):
    out = subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                         capture_output=True, text=True, check=True).stdout
    return [o["value"] for o in json.loads(out) if o["name"] == name][0]


def make_install(root, prefix):
    return subprocess.run(["make", "-C", SRC, "install", "BUILD=" + BUILD, "DESTDIR=" + root,
                           "PREFIX=" + prefix], capture_output=True, text=True)


def overlay(upper_tree, target):
    """Shows @upper_tree's files at @target (read-only, this namespace only)."""
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=%s:%s" % (upper_tree, target), target], check=True)


def test_install():
    prefix = build_option("prefix")
    sysconfdir = os.path.join(prefix, build_option("sysconfdir"))
    root = os.path.join(TMP, "root")
    r = make_install(root, prefix)
    if not ok(r.returncode == 0, "make install DESTDIR=... PREFIX=%s" % prefix,
              r.stdout + r.stderr):
        return
    etc = root + sysconfdir
    unit = os.path.join(root + prefix, "lib", "systemd", "system", "antmon.service")
    man = os.path.join(root + prefix, "share", "man")
    want = [os.path.join(root + prefix, "bin", "antmon"), unit,
            os.path.join(etc, "antmon", "antmon.ini"), os.path.join(etc, "antmon", "antmon.ini.dist"),
            os.path.join(man, "man1", "antmon.1"), os.path.join(man, "man5", "antmon.ini.5"),
            os.path.join(root + prefix, "include", "antmon", "plugin.h")]
    missing = [p for p in want if not os.path.exists(p)]
    ok(not missing, "the binary, unit, configuration, man pages and headers are installed",
       "missing: %s" % missing)
    with open(unit) as f:
        text = f.read()
    ok("ExecStart=%s/bin/antmon run -c %s/antmon/antmon.ini" % (prefix, sysconfdir) in text,
       "the unit runs the installed binary with the installed configuration")
    with open(os.path.join(etc, "antmon", "antmon.ini")) as f:
        ini = f.read()
    ok(re.search(r"^state_dir=/var/lib/antmon$", ini, re.M) is not None,
       "the installed configuration keeps its state in /var/lib/antmon")

    # The installed tree at its real paths, in this namespace only.
    port = free_port()
    state = os.path.join(TMP, "installed-state")
    ini = re.sub(r"^state_dir=.*$", "state_dir=" + state, ini, flags=re.M)
    ini = re.sub(r"^listen=.*$", "listen=127.0.0.1:%d" % port, ini, count=1, flags=re.M)
    with open(os.path.join(etc, "antmon", "antmon.ini"), "w") as f:
        f.write(ini + "\n[miner:down]\nhost=127.77.0.2:1\n")
    overlay(root + prefix, prefix)
    overlay(etc, sysconfdir)
    try:
        r = subprocess.run(["systemd-analyze", "verify", unit.replace(root, "", 1)],
                           capture_output=True, text=True, env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
        ok(r.returncode == 0 and r.stderr.strip() == "",
           "systemd-analyze verify is clean on the installed unit", r.stdout + r.stderr)
        # Without ANTMON_PLUGIN_DIR: the compiled-in plugin directory.
        saved = os.environ.pop("ANTMON_PLUGIN_DIR", None)
        try:
            d = Antmon(os.path.join(sysconfdir, "antmon", "antmon.ini"),
                       binary=os.path.join(prefix, "bin", "antmon"))
        finally:
            if saved is not None:
                os.environ["ANTMON_PLUGIN_DIR"] = saved
        try:
            summary = wait_until(lambda: api(port, "/api/summary"), "/api/summary")
            ok(summary["miners"]["total"] == 1,
               "the installed antmon answers /api/summary with its miner", json.dumps(summary))
            loaded = api(port, "/api/health")["plugins"]["loaded"]
            ok("driver:antminer" in loaded and "http:api" in loaded,
               "it found its plugins in the compiled-in directory", loaded)
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as r:
                page = r.read().decode(errors="replace")
            ok("app.js" in page, "and serves its dashboard", page[:2000])
        except TimeoutError as err:
            ok(False, "the installed antmon runs", "%s\n%s" % (err, d.text()))
        ok(d.stop() == 0, "the installed antmon stops cleanly", d.text())
    finally:
        subprocess.run(["umount", sysconfdir])
        subprocess.run(["umount", prefix])

    # An upgrade: the user's file stays, the shipped one is refreshed.
    conf = os.path.join(etc, "antmon", "antmon.ini")
    with open(conf, "a") as f:
        f.write("# changed by the user\n")
    os.remove(os.path.join(etc, "antmon", "antmon.ini.dist"))
    r = make_install(root, prefix)
    with open(conf) as f:
        kept = f.read().endswith("# changed by the user\n")
    ok(r.returncode == 0 and kept and os.path.exists(conf + ".dist"),
       "a second make install keeps the changed antmon.ini and refreshes antmon.ini.dist",
       r.stdout + r.stderr)


# ---- logging ---------------------------------------------------------------

class FakeMiner:
    """One fake Antminer (tests/fakeminer) on a 127.x address."""

    def __init__(self, host):
        self.port = free_port()
        self.host = host
        profile = os.path.join(SRC, "tests", "fakeminer", "profiles", "antminer-s17pro")
        self.proc = subprocess.Popen([os.environ["ANTMON_FAKEMINER"], "--base=" + host,
                                      "--port=%d" % self.port, "--profile=" + profile],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(self.proc)
        wait_until(lambda: socket.create_connection((host, self.port), 1).close() or True,
                   "the fake miner listening")

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def test_json_log():
    fake = FakeMiner("127.77.3.1")
    port = free_port()
    ini = os.path.join(TMP, "json.ini")
    write_ini(ini, port, "log_format=json\n[miner:s17]\nhost=%s\n" % fake.address)
    d = Antmon(ini)
    try:
        d.wait_log(fake.address + ": unreachable -> online")
        d.wait_log("HTTP API listening")
    except TimeoutError as e:
        ok(False, "log_format=json", "%s\n%s" % (e, d.text()))
        d.stop()
        fake.stop()
        return
    d.stop()
    fake.stop()
    lines = [json.loads(line) for line in d.text().splitlines() if line.startswith("{")]
    ok(lines and all({"time", "level", "message"} <= set(o) for o in lines),
       "log_format=json: every line is an object with time, level and message", d.text())
    online = [o for o in lines if o["message"].endswith("unreachable -> online")]
    ok(online and online[0].get("miner") == fake.address and online[0]["level"] == "message"
       and online[0].get("priority") == "5",
       "a miner's state change carries miner= and priority=", online)
    http = [o for o in lines if o["message"].startswith("HTTP API listening")]
    ok(http and http[0].get("plugin") == "http-api", "a plugin's message carries plugin=", http)


def parse_journal_datagram(data):
    """The journal's native protocol: KEY=VALUE lines, or KEY\\n, a 64-bit
    little-endian length and the value for values with newlines."""
    fields = {}
    while data:
        nl = data.index(b"\n")
        line, data = data[:nl], data[nl + 1:]
        if b"=" in line:
            k, v = line.split(b"=", 1)
        else:
            size = int.from_bytes(data[:8], "little")
            k, v, data = line, data[8:8 + size], data[8 + size + 1:]
        fields[k.decode()] = v.decode(errors="replace")
    return fields


def test_journal():
    # journald's socket, at its real path in this namespace only.
    os.makedirs("/run/systemd", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/systemd"], check=True)
    try:
        os.makedirs("/run/systemd/journal")
        journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        journal.bind("/run/systemd/journal/socket")
        # systemd connects stderr to the journal with a stream socket and
        # names it in JOURNAL_STREAM (device:inode): a pair stands for it.
        ours, theirs = socket.socketpair()
        st = os.fstat(theirs.fileno())
        fake = FakeMiner("127.77.4.1")
        port = free_port()
        ini = os.path.join(TMP, "journal.ini")
        write_ini(ini, port, "[miner:s17]\nhost=%s\n" % fake.address)
        d = Antmon(ini, {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}, stderr=theirs)
        theirs.close()
        got = []
        journal.settimeout(PATIENCE_S)
        try:
            while not any(f.get("MINER") == fake.address for f in got):
                got.append(parse_journal_datagram(journal.recv(65536)))
            while not any(f.get("PLUGIN") for f in got):
                got.append(parse_journal_datagram(journal.recv(65536)))
        except socket.timeout:
            pass
        d.stop()
        fake.stop()
        ours.settimeout(1)
        try:
            stream = ours.recv(65536)
        except socket.timeout:
            stream = b""
        state = [f for f in got if f.get("MINER") == fake.address]
        ok(state and state[0].get("PRIORITY") == "5" and "-> online" in state[0].get("MESSAGE", ""),
           "under JOURNAL_STREAM a state change goes to the journal with MINER= and PRIORITY=",
           got)
        plugin = [f for f in got if f.get("PLUGIN")]
        ok(plugin and plugin[0]["PLUGIN"] == "http-api" and plugin[0].get("GLIB_DOMAIN") ==
           "antmon-http-api", "a plugin's message carries PLUGIN=", plugin)
        ok(b"-> online" not in stream, "and not to stderr as well", stream[:2000])
    finally:
        subprocess.run(["umount", "-l", "/run/systemd"])


# ---- SIGHUP ----------------------------------------------------------------

def test_sighup():
    port = free_port()
    ini = os.path.join(TMP, "hup.ini")
    logfile = os.path.join(TMP, "hup.log")
    base = "log_file=%s\n[miner:a]\nhost=127.77.5.1:1\n" % logfile
    write_ini(ini, port, base)
    d = Antmon(ini)
    try:
        wait_until(lambda: api(port, "/api/health"), "/api/health")
        rules_before = api(port, "/api/health")["alerts"]["rules"]
        # logrotate: the file is moved away, SIGHUP makes a new one.
        os.rename(logfile, logfile + ".1")
        write_ini(ini, port, base + "[miner:b]\nhost=127.77.5.2:1\n"
                  "[alert:down]\ntype=offline\nenabled=true\nscope=all\nseverity=warning\n")
        with open(ini) as f:
            text = f.read().replace("interval=1s", "interval=2s")
        with open(ini, "w") as f:
            f.write(text)
        d.proc.send_signal(signal.SIGHUP)
        miners = wait_until(lambda: (lambda m: m if "127.77.5.2:1" in json.dumps(m) else None)(
            api(port, "/api/miners")), "miner b in /api/miners")
        ok("127.77.5.1:1" in json.dumps(miners), "SIGHUP: an added [miner:NAME] is polled, "
           "the others stay", json.dumps(miners)[:2000])
        rules = api(port, "/api/health")["alerts"]["rules"]
        ok(rules == rules_before + 1, "SIGHUP: the added alert rule counts in /api/health "
           "(%d -> %d)" % (rules_before, rules))
        log = wait_until(lambda: open(logfile).read() if os.path.exists(logfile) and
                         "needs a restart" in open(logfile).read() else None, "the reload's log")
        ok("[core] interval= changed (1s -> 2s): needs a restart" in log,
           "SIGHUP names the changed key that needs a restart", log)
        ok("reload: [alert:down] added" in log and "reload: [miner:b] added" in log,
           "SIGHUP logs what it applied, into the reopened log file", log)
        # A miner whose host changed is polled at the new address only.
        with open(ini) as f:
            text = f.read().replace("host=127.77.5.2:1", "host=127.77.5.4:1")
        with open(ini, "w") as f:
            f.write(text)
        d.proc.send_signal(signal.SIGHUP)
        miners = wait_until(lambda: (lambda m: m if "127.77.5.4:1" in m else None)(
            json.dumps(api(port, "/api/miners"))), "miner b at its new address")
        ok("127.77.5.2:1" not in miners and "127.77.5.1:1" in miners,
           "SIGHUP: a changed [miner:NAME] moves to its new address", miners[:2000])
        # A broken file changes nothing.
        with open(ini, "a") as f:
            f.write("[miner:c]\nhost=127.77.5.3:1\nport=notaport\n")
        d.proc.send_signal(signal.SIGHUP)
        log = wait_until(lambda: open(logfile).read() if "nothing changed" in
                         open(logfile).read() else None, "the refused reload")
        ok("127.77.5.3" not in json.dumps(api(port, "/api/miners")) and
           api(port, "/api/health")["alerts"]["rules"] == rules,
           "a reload of a wrong file says why and changes nothing", log)
    except TimeoutError as e:
        ok(False, "SIGHUP reload", "%s\n%s" % (e, d.text()))
    ok(d.stop() == 0, "and the daemon still stops cleanly", d.text())


def main():
    print("1..34", flush=True)
    try:
        test_security_score()
        test_man_pages()
        test_notify()
        test_no_notify_socket()
        test_install()
        test_json_log()
        test_journal()
        test_sighup()
    finally:
        for p in children:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)


main()
