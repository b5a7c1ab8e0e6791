"""Token keys fetched from mqtt.token.jwks_url: a real HTTP server
(python3 -m http.server) and a real HTTPS one (http.server wrapped in TLS
with the test PKI's localhost certificate), both on loopback, serve the
JWK Set. A token verifies with the fetched set; a new set on the server is
taken at the next refresh (old key refused, new accepted); a server that
answers garbage or is gone leaves the last good set in force (errors
counted and logged); a reload keeps it; the HTTPS server's certificate is
verified (a private CA with jwks_ca; the system CAs refuse it)."""
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import MOAT, free_port, port_open, wait_for
from test_metrics import scrape, value
from test_tokens import ISS, AUD, pub, tok

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import jwt_tool  # noqa: E402

HTTPS_SERVER = """
import http.server, ssl, sys, os
import socket
port, directory, cert, key, host = int(sys.argv[1]), *sys.argv[2:6]
os.chdir(directory)
class Server(http.server.HTTPServer):
    address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
srv = Server((host, port), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"""


class WebServer:
    """python3's http.server serving one directory on host (127.0.0.1 unless
    told), plain or over TLS; started and stopped by PID."""

    def __init__(self, directory, pki=None, host="127.0.0.1"):
        self.dir = directory
        self.port = free_port()
        self.pki = pki
        self.host = host
        self.proc = None

    def start(self):
        if self.pki:
            args = [sys.executable, "-c", HTTPS_SERVER, str(self.port), self.dir,
                    os.path.join(self.pki, "server.crt"), os.path.join(self.pki, "server.key"),
                    self.host]
        else:
            args = [sys.executable, "-m", "http.server", str(self.port), "--bind",
                    self.host, "--directory", self.dir]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: port_open(self.port, self.host), 10), \
            "the web server did not start"
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture
def web(tmp_path):
    started = []

    def make(pki=None, start=True):
        d = tmp_path / f"www{len(started)}"
        d.mkdir()
        w = WebServer(str(d), pki)
        started.append(w)
        return w.start() if start else w

    yield make
    for w in started:
        w.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwks-url")
    k = {"ec": jwt_tool.genkey(str(d / "ec.pem"), "P-256"),
         "new": jwt_tool.genkey(str(d / "new.pem"), "P-256")}
    k["set_ec"] = json.dumps({"keys": [jwt_tool.jwk(k["ec"], "k-ec")]})
    k["set_new"] = json.dumps({"keys": [jwt_tool.jwk(k["new"], "k-new")]})
    return k


def put(web, text):
    """Replace the served file whole (a reader never sees half of it)."""
    tmp = os.path.join(web.dir, ".jwks.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(web.dir, "jwks.json"))


def url_cfg(url, metrics_port=None, **extra):
    def mutate(c):
        lst = c["listeners"][0]
        lst["tls"]["verify_client"] = "optional"
        t = {"when": "no_cert", "jwks_url": url, "jwks_refresh": "1s",
             "jwks_timeout": "2s", "issuer": ISS, "audience": AUD,
             "algorithms": ["ES256"], "leeway": "0s"}
        if url.startswith("http://"):
            t["jwks_insecure_http"] = True
        t.update(extra)
        lst["mqtt"]["token"] = t
        if metrics_port:
            c["stats"]["metrics"] = f"127.0.0.1:{metrics_port}"
    return mutate


def fetches(m):
    kv = m.kv("show tokens")
    return int(kv.get("jwks_fetches_ok", 0)), int(kv.get("jwks_fetch_errors", 0))


def test_fetched_set_rotates_and_survives_bad_answers_and_outages(moat_factory, live_brokers,
                                                                  pki, keys, web):
    w = web()
    put(w, keys["set_ec"])
    url = f"http://127.0.0.1:{w.port}/jwks.json"
    mport = free_port()
    m = moat_factory(live_brokers, url_cfg(url, mport))
    old, new = tok(keys, kid="k-ec", key="ec"), tok(keys, kid="k-new", key="new")
    r = pub(pki, m.port, "dev-t1", old)
    assert r.returncode == 0, r.stderr + m.log()[-2000:]
    show = m.ctl("show tokens")
    assert f"jwks_source: {url}" in show and "jwks_fetch_result: ok" in show, show
    assert "key: kid=k-ec" in show

    # the server's set changes: the next refresh takes it whole
    put(w, keys["set_new"])
    assert wait_for(lambda: "key: kid=k-new" in m.ctl("show tokens"), 10), m.ctl("show tokens")
    r = pub(pki, m.port, "dev-t1", new)
    assert r.returncode == 0, r.stderr
    assert pub(pki, m.port, "dev-t1", old).returncode != 0
    assert m.rejects("token_invalid") == 1

    # garbage, then a set that parses but has no usable key: the last good set stays
    for text, why in (("<html>not json</html>", "not a JWK Set"),
                      ('{"keys": [{"kty": "oct", "k": "AAAA"}]}', "no usable key")):
        _, errs = fetches(m)
        put(w, text)
        assert wait_for(lambda: fetches(m)[1] > errs, 10), m.ctl("show tokens")
        assert why in m.ctl("show tokens")
        assert pub(pki, m.port, "dev-t1", new).returncode == 0
    assert "jwks_fetch listener=mqtts" in m.log() and "result=error" in m.log()

    # the server goes away: errors counted, tokens still verify, also after a reload
    w.stop()
    _, errs = fetches(m)
    assert wait_for(lambda: fetches(m)[1] > errs, 10)
    assert "jwks_fetch_result: error" in m.ctl("show tokens")
    assert pub(pki, m.port, "dev-t1", new).returncode == 0
    assert m.ctl("reload").startswith("ok")
    assert "key: kid=k-new" in m.ctl("show tokens")
    r = pub(pki, m.port, "dev-t1", new)
    assert r.returncode == 0, r.stderr + m.log()[-2000:]

    _, body = scrape(mport)
    assert value(body, "moat_jwks_fetch_total", listener="mqtts", result="ok") >= 2
    assert value(body, "moat_jwks_fetch_total", listener="mqtts", result="error") >= 3
    assert old not in m.log() and new not in m.log()
    # every fetch over plain http is logged as such
    assert m.log().count("jwks_insecure_http") >= 3


def test_starts_without_a_set_and_takes_the_first_good_one(moat_factory, live_brokers, pki,
                                                           keys, web):
    w = web(start=False)
    put(w, keys["set_ec"])
    m = moat_factory(live_brokers, url_cfg(f"http://127.0.0.1:{w.port}/jwks.json"))
    assert "starting without a JWK Set" in m.log()
    t = tok(keys)
    assert pub(pki, m.port, "dev-t1", t).returncode != 0
    assert m.rejects("token_invalid") == 1
    assert "no JWK Set loaded" in m.log()
    assert "jwks_keys: 0" in m.ctl("show tokens")
    w.start()
    assert wait_for(lambda: "key: kid=k-ec" in m.ctl("show tokens"), 10), m.ctl("show tokens")
    r = pub(pki, m.port, "dev-t1", t)
    assert r.returncode == 0, r.stderr


def test_https_with_a_private_ca(moat_factory, live_brokers, pki, keys, web):
    w = web(pki=pki)
    put(w, keys["set_ec"])
    url = f"https://localhost:{w.port}/jwks.json"
    m = moat_factory(live_brokers, url_cfg(url, jwks_ca=os.path.join(pki, "ca.crt")))
    r = pub(pki, m.port, "dev-t1", tok(keys))
    assert r.returncode == 0, r.stderr + m.log()[-2000:]
    assert "jwks_fetch_result: ok" in m.ctl("show tokens")


def test_https_server_not_trusted_by_the_system_cas(moat_factory, live_brokers, pki, keys,
                                                    web):
    w = web(pki=pki)
    put(w, keys["set_ec"])
    m = moat_factory(live_brokers, url_cfg(f"https://localhost:{w.port}/jwks.json"))
    assert wait_for(lambda: fetches(m)[1] >= 1, 10)
    show = m.ctl("show tokens")
    assert "jwks_fetch_result: error" in show and "no signer" in show, show
    assert pub(pki, m.port, "dev-t1", tok(keys)).returncode != 0
    assert m.rejects("token_invalid") == 1


def test_https_host_name_is_checked(moat_factory, live_brokers, pki, keys, web):
    """The certificate names localhost; the URL names 127.0.0.1."""
    w = web(pki=pki)
    put(w, keys["set_ec"])
    m = moat_factory(live_brokers, url_cfg(f"https://127.0.0.1:{w.port}/jwks.json",
                                           jwks_ca=os.path.join(pki, "ca.crt")))
    assert wait_for(lambda: fetches(m)[1] >= 1, 10)
    assert fetches(m)[0] == 0
    assert "name mismatch" in m.ctl("show tokens")
    assert pub(pki, m.port, "dev-t1", tok(keys)).returncode != 0


@pytest.mark.parametrize("url,ca,why", [
    ("http://", None, ":jwks_url: not a valid"),
    ("https://host:99999999/x", None, "not a valid"),
    ("https://localhost/jwks", "crl.pem", "jwks_ca: cannot load CA certificates"),
])
def test_check_validates_the_url_without_network(tmp_path, pki, brokers, url, ca, why):
    from conftest import base_config
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    extra = {"jwks_ca": os.path.join(pki, ca)} if ca else {}
    url_cfg(url, **extra)(cfg)
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(cfg, indent=1))
    r = subprocess.run([MOAT, "-c", str(path), "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 1, r.stdout + r.stderr
    assert str(path) + ":" in r.stderr and why.lstrip(":") in r.stderr, r.stderr
    # plain http only when the listener says so
    url_cfg(f"http://127.0.0.1:{free_port()}/jwks.json", jwks_insecure_http=False)(cfg)
    path.write_text(json.dumps(cfg, indent=1))
    r = subprocess.run([MOAT, "-c", str(path), "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 1 and "jwks_insecure_http: true" in r.stderr, r.stderr
    # a well-formed URL nobody serves is fine: --check does not fetch
    url_cfg(f"http://127.0.0.1:{free_port()}/jwks.json")(cfg)
    path.write_text(json.dumps(cfg, indent=1))
    r = subprocess.run([MOAT, "-c", str(path), "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 0, r.stderr
