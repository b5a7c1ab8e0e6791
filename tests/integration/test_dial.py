"""moat's HTTP client (OCSP responders, jwks_url) reached by `localhost`
while `localhost` resolves to ::1 and 127.0.0.1, as with Debian 12's stock
/etc/hosts, and the server listens on one of them only (issue 22: the
client took the first address, ::1, was refused by a server on 127.0.0.1
and gave up). It dials every address in turn, as broker connects do
(base/dial.c), so it reaches the server on either family, and an address
that never answers gives way to the next within the fetch's timeout.

On a machine whose /etc/hosts lacks `::1 localhost`, moat runs in a private
mount namespace with the stock file mounted over /etc/hosts
(conftest.stock_localhost). The OCSP responder (`openssl ocsp`) listens on
both families; a socat relay bound to one address stands in front of it.
"""
import os
import signal
import socket
import subprocess

import pytest

from conftest import free_port, port_open, wait_for
from test_jwks_url import WebServer, put, url_cfg
from test_ocsp import OK3, Responder, mqtt_connect
from test_tokens import pub, tok
from test_jwks_url import keys  # noqa: F401 - a fixture

FAMILIES = ["127.0.0.1", "::1"]


def moat_under(moat_factory, brokers, wrap, mutate):
    m = moat_factory(brokers, mutate, start=False)
    m.wrap = wrap
    m.start()
    return m


@pytest.fixture
def https(tmp_path, pki):
    started = []

    def make(host, port=None):
        d = tmp_path / f"www{len(started)}"
        d.mkdir()
        w = WebServer(str(d), pki, host=host)
        if port:
            w.port = port
        started.append(w)
        return w.start()

    yield make
    for w in started:
        w.stop()


@pytest.mark.parametrize("host", FAMILIES)
def test_jwks_url_by_localhost_server_on_one_family(moat_factory, live_brokers, pki, keys,
                                                    https, stock_localhost, host):
    w = https(host)
    put(w, keys["set_ec"])
    m = moat_under(moat_factory, live_brokers, stock_localhost,
                   url_cfg(f"https://localhost:{w.port}/jwks.json",
                           jwks_ca=os.path.join(pki, "ca.crt")))
    r = pub(pki, m.port, "dev-t1", tok(keys))
    assert r.returncode == 0, r.stderr + m.log()[-2000:]
    show = m.ctl("show tokens")
    assert "jwks_fetch_result: ok" in show, show


def test_jwks_url_silent_address_gives_way(moat_factory, live_brokers, pki, keys, https,
                                           stock_localhost):
    """::1 accepts no connection (a listener whose accept queue is full: the
    SYN goes unanswered) and the server is on 127.0.0.1: the fetch still
    succeeds within jwks_timeout, ::1 getting its share of it only."""
    port = free_port()
    silent = socket.socket(socket.AF_INET6)
    filler = socket.socket(socket.AF_INET6)
    try:
        silent.bind(("::1", port))
        silent.listen(0)
        filler.connect(("::1", port))
        w = https("127.0.0.1", port)
        put(w, keys["set_ec"])
        m = moat_under(moat_factory, live_brokers, stock_localhost,
                       url_cfg(f"https://localhost:{port}/jwks.json",
                               jwks_ca=os.path.join(pki, "ca.crt"), jwks_timeout="4s"))
        assert wait_for(lambda: "jwks_fetch_result: ok" in m.ctl("show tokens"), 15), \
            m.ctl("show tokens") + m.log()[-2000:]
        r = pub(pki, m.port, "dev-t1", tok(keys))
        assert r.returncode == 0, r.stderr + m.log()[-2000:]
    finally:
        filler.close()
        silent.close()


class Relay:
    """socat listening on one address only, relaying to the responder."""

    def __init__(self, host, to_port):
        self.port = free_port()
        listen = (f"TCP4-LISTEN:{self.port},bind=127.0.0.1" if host == "127.0.0.1"
                  else f"TCP6-LISTEN:{self.port},bind=[::1],ipv6only=1")
        self.host = host
        self.proc = subprocess.Popen(
            ["socat", f"{listen},reuseaddr,fork", f"TCP4:127.0.0.1:{to_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def listening(port):
    """A socket listens on port (either family), from /proc/net."""
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(f) as t:
            for line in t.readlines()[1:]:
                local, st = line.split()[1], line.split()[3]
                if st == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


@pytest.mark.parametrize("host", FAMILIES)
def test_ocsp_responder_by_localhost_on_one_family(moat_factory, live_brokers, pki,
                                                   stock_localhost, host):
    responder = Responder(pki)
    responder.start()
    relay = Relay(host, responder.port)
    try:
        # ready when it listens, not probed by connecting: a connection
        # closed without a request leaves `openssl ocsp` stuck
        assert wait_for(lambda: listening(relay.port), 10), "socat did not start"
        assert not port_open(relay.port, "::1" if host == "127.0.0.1" else "127.0.0.1")

        def cfg(c):
            tls = c["listeners"][0]["tls"]
            tls.pop("crl")
            tls["ocsp"] = {"mode": "require", "timeout": "2s",
                           "responder": f"http://localhost:{relay.port}/"}
        m = moat_under(moat_factory, live_brokers, stock_localhost, cfg)
        s, code = mqtt_connect(pki, m, "ocsp-good", "1.3", 4)
        s.close()
        assert code == OK3, m.log()[-3000:]
        assert responder.requests() == 1
        assert "result=ok" in m.log()
    finally:
        relay.stop()
        responder.stop()
