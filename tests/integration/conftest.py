"""Fixtures for moat's integration tests: a PKI made with openssl, real
mosquitto brokers on loopback, moat itself, and small MQTT/TLS clients.

Every process started here is stopped by its PID; every wait is bounded in
count and time; only loopback is used (127.0.0.1, and ::1 in test_resolve.py).
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOAT = os.environ.get("MOAT_BIN", os.path.join(REPO, "build", "moat"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10.0, step=0.05):
    """Poll pred() until it is truthy; bounded by timeout. Returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# Debian 12's stock /etc/hosts (its 127.0.1.1 line names the machine): with
# it `localhost` resolves to ::1 and then 127.0.0.1. tests/run.sh runs one
# integration pass under it; tests that need it mount it themselves.
STOCK_HOSTS = ("127.0.0.1\tlocalhost\n"
               "::1     localhost ip6-localhost ip6-loopback\n"
               "ff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n")
BOTH = {"::1", "127.0.0.1"}


def addresses_of(name, wrap=()):
    """The addresses name resolves to, under the command prefix wrap."""
    if not wrap:
        try:
            return {a[4][0] for a in socket.getaddrinfo(name, 1883, type=socket.SOCK_STREAM)}
        except socket.gaierror:
            return set()
    r = subprocess.run(list(wrap) + ["getent", "ahosts", name], capture_output=True,
                       text=True, timeout=10)
    return {line.split()[0] for line in r.stdout.splitlines() if line.strip()}


def stock_hosts_wrap(tmp_path_factory):
    """A command prefix that runs a command in a private mount namespace
    (unshare -m, or unshare -rm when not root) where Debian's stock
    /etc/hosts is bind-mounted over the machine's: the machine's file is not
    touched and nothing else sees the private one. Skips when impossible."""
    if not shutil.which("unshare"):
        pytest.skip("unshare is missing: cannot mount a stock /etc/hosts")
    hosts = tmp_path_factory.mktemp("hosts") / "hosts"
    hosts.write_text(STOCK_HOSTS)
    ns = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    wrap = ns + ["sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', str(hosts)]
    if not BOTH <= addresses_of("localhost", wrap):
        pytest.skip("a private /etc/hosts cannot be mounted here")
    return wrap


@pytest.fixture(scope="module")
def stock_localhost(tmp_path_factory):
    """wrap: a command prefix under which `localhost` resolves to both ::1
    and 127.0.0.1, as on a stock Debian 12 ([] when it already does)."""
    if BOTH <= addresses_of("localhost"):
        return []
    return stock_hosts_wrap(tmp_path_factory)


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """(name, wrap): a name resolving to ::1 and 127.0.0.1 for a moat started
    under the command prefix wrap."""
    for name in ("localhost", "ip6-localhost", "localhost6", socket.gethostname()):
        if BOTH <= addresses_of(name):
            return name, []
    return "localhost", stock_hosts_wrap(tmp_path_factory)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    port = free_port()  # of the OCSP responder named in ocsp-* certificates
    root_port = free_port()  # of the root's responder, named in the intermediate
    subprocess.run(["bash", os.path.join(REPO, "tests", "pki.sh"), str(d)], check=True,
                   env=dict(os.environ, OCSP_PORT=str(port), OCSP_ROOT_PORT=str(root_port)))
    for name, p in (("ocsp.port", port), ("ocsp-root.port", root_port)):
        with open(os.path.join(d, name), "w") as f:
            f.write(str(p))
    return str(d)


class Broker:
    def __init__(self, name, workdir, host="127.0.0.1"):
        self.name = name
        self.host = host  # the one loopback address it listens on
        self.port = free_port()
        self.log = os.path.join(workdir, f"{name}.log")
        self.conf = os.path.join(workdir, f"{name}.conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} {host}\nallow_anonymous true\n"
                    "log_type all\nlog_dest stdout\npersistence false\n")
        self.proc = None

    def start(self):
        self.logf = open(self.log, "a")
        # line-buffered: mosquitto's stdout into a file is block-buffered,
        # and a line of one test would show up after the next test's mark
        self.proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto", "-c", self.conf],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        assert wait_for(lambda: port_open(self.port, self.host), 10), \
            f"{self.name} did not start"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def mark(self):
        """Where the log ends now, for clients(since=...)."""
        return len(self.text())

    def clients(self, since=0):
        """Client ids that completed a CONNECT on this broker (since a mark)."""
        return re.findall(r"New client connected from \S+ as (\S+)", self.text()[since:])


@pytest.fixture(scope="module")
def brokers(tmp_path_factory):
    d = tmp_path_factory.mktemp("brokers")
    bs = [Broker(f"b{i + 1}", str(d)) for i in range(3)]
    for b in bs:
        b.start()
    yield bs
    for b in bs:
        b.stop()


@pytest.fixture
def live_brokers(brokers):
    """The module's brokers, restarted if an earlier test killed one."""
    for b in brokers:
        if b.proc is None or b.proc.poll() is not None:
            b.start()
    return brokers


def base_config(pki, brokers, port, sock):
    cfg = {
        "log": {"level": "debug", "format": "text"},
        "limits": {"handshake_timeout": "3s", "connect_timeout": "3s",
                   "max_packet_size": "2MiB", "drain_timeout": "2s"},
        "listeners": [{
            "name": "mqtts",
            "bind": f"127.0.0.1:{port}",
            "upstream": "brokers",
            "tls": {
                "cert": os.path.join(pki, "server.crt"),
                "key": os.path.join(pki, "server.key"),
                "client_ca": os.path.join(pki, "ca.crt"),
                "crl": os.path.join(pki, "crl.pem"),
                "verify_client": "required",
            },
            "mqtt": {"identity": "cn", "client_id_must_match": True},
        }],
        "upstreams": [{
            "name": "brokers",
            "balance": "client-id",
            "connect_timeout": "1s",
            "health": {"type": "mqtt", "interval": "200ms", "timeout": "200ms",
                       "rise": 2, "fall": 2},
            "servers": [{"name": b.name, "address": f"127.0.0.1:{b.port}"}
                        for b in brokers],
        }],
        "stats": {"socket": sock, "mode": "0600", "level": "admin"},
    }
    # tests/run.sh runs the suite once more with several workers
    if os.environ.get("MOAT_TEST_WORKERS"):
        cfg["workers"] = int(os.environ["MOAT_TEST_WORKERS"])
    return cfg


class Moat:
    def __init__(self, workdir, cfg):
        self.dir = workdir
        self.cfg = cfg
        self.port = int(cfg["listeners"][0]["bind"].rsplit(":", 1)[1])
        self.sock = cfg.get("stats", {}).get("socket")
        self.conf = os.path.join(workdir, "moat.yaml")
        self.logpath = os.path.join(workdir, "moat.log")
        with open(self.conf, "w") as f:
            json.dump(cfg, f, indent=1)
        self.proc = None
        self.wrap = []  # a command moat runs under, exec'ing it (same PID)

    def start(self, wait=True, preexec_fn=None):
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.wrap + [MOAT, "-c", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        if wait:
            ok = wait_for(lambda: port_open(self.port) or self.proc.poll() is not None, 15)
            assert ok and self.proc.poll() is None, "moat did not start:\n" + self.log()
            # the first health checks have run once a check result shows
            if self.sock:
                wait_for(lambda: "none" not in self.ctl("show servers"), 5)
        return self

    def stop(self):
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait(timeout=5)
        elif self.proc:
            code = self.proc.returncode
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None
        return code

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def ctl(self, *cmd, check=False):
        r = subprocess.run([MOAT, "ctl", "-s", self.sock, *cmd], capture_output=True,
                           text=True, timeout=15)
        if check:
            assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    def kv(self, *cmd):
        """A `key: value` reply of the stats socket as a dict (the last
        value wins for a key that repeats)."""
        out = {}
        for line in self.ctl(*cmd).splitlines():
            if ": " in line:
                k, v = line.split(": ", 1)
                out[k] = v
        return out

    def info(self):
        return self.kv("show info")

    def rejects(self, cause):
        return int(self.info().get(f"reject_{cause}", "0"))

    def forwarded_to(self, client_id):
        """Servers that connections of client_id were forwarded to, in order."""
        return re.findall(rf"forward conn=\d+ client_id={re.escape(client_id)} server=(\S+)",
                          self.log())


@pytest.fixture
def moat_factory(pki, tmp_path):
    started = []

    def make(brokers, mutate=None, start=True):
        d = tempfile.mkdtemp(dir=str(tmp_path))
        cfg = base_config(pki, brokers, free_port(), os.path.join(d, "moat.sock"))
        if mutate:
            mutate(cfg)
        m = Moat(d, cfg)
        started.append(m)
        if start:
            m.start()
        return m

    yield make
    for m in started:
        code = m.stop()
        text = m.log()
        assert code in (0, None), f"moat exited {code}:\n{text[-6000:]}"
        for mark in SANITIZER_MARKS:
            assert mark not in text, f"sanitizer report in moat's log:\n{text[-6000:]}"


@pytest.fixture
def moat(moat_factory, live_brokers):
    return moat_factory(live_brokers)


# ---- clients -------------------------------------------------------------

def tls_context(pki, cert="dev-good", version=None, chain=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    if cert:
        crt = f"{cert}-chain.crt" if chain else f"{cert}.crt"
        ctx.load_cert_chain(os.path.join(pki, crt), os.path.join(pki, f"{cert}.key"))
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    elif version == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def tls_connect(pki, port, cert="dev-good", version=None, chain=False, timeout=5,
                before=b""):
    """A TLS client; `before` is sent first in clear (a PROXY header)."""
    ctx = tls_context(pki, cert, version, chain)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if before:
        raw.sendall(before)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    return s


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">H", len(b)) + b


def connect_packet(client_id, version=4, username=None, password=None, keepalive=60):
    flags = 0x02
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    name = "MQIsdp" if version == 3 else "MQTT"
    body = _str(name) + bytes([version, flags]) + struct.pack(">H", keepalive)
    if version == 5:
        body += b"\x00"
    body += _str(client_id)
    if username is not None:
        body += _str(username)
    if password is not None:
        body += _str(password)
    return b"\x10" + _varint(len(body)) + body


def recv_exact(s, n, timeout=5):
    s.settimeout(timeout)
    buf = b""
    while len(buf) < n:
        try:
            chunk = s.recv(n - len(buf))
        except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            break
        if not chunk:
            break
        buf += chunk
    return buf


def read_connack(s, timeout=5):
    """The CONNACK bytes (fixed header + body), or what came before close."""
    head = recv_exact(s, 2, timeout)
    if len(head) < 2:
        return head
    return head + recv_exact(s, head[1], timeout)


def closed_by_peer(s, timeout=5):
    """True once the peer closes (EOF, reset or TLS close)."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError, ssl.SSLEOFError):
        return True
    except socket.timeout:
        return False
    except OSError:
        return True


def mosq_args(pki, port, cert="dev-good", version="mqttv311"):
    return ["-h", "localhost", "-p", str(port), "--cafile", os.path.join(pki, "ca.crt"),
            "--cert", os.path.join(pki, f"{cert}.crt"), "--key", os.path.join(pki, f"{cert}.key"),
            "-i", cert, "-V", version]


class Receiver:
    """A stand-in broker that reads what moat sends it (a PROXY v2 header
    and what follows) on one connection: for checks no real broker can
    show. Started on a thread; .join() then .data."""

    def __init__(self, linger=0.0):
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(15)
        self.port = self.sock.getsockname()[1]
        self.linger = linger
        self.data = b""
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(5)
        try:
            while len(self.data) < 16 or \
                    len(self.data) < 16 + struct.unpack(">H", self.data[14:16])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.data += chunk
            deadline = time.monotonic() + self.linger
            while time.monotonic() < deadline:  # what follows the header
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                self.data += chunk
        except OSError:
            pass
        finally:
            conn.close()

    def join(self, timeout=20):
        self.thread.join(timeout)
        self.sock.close()
        return self.data
