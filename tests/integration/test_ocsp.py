"""OCSP for client certificates, against a real responder (`openssl ocsp
-index ... -port`, answering for the test PKI's intermediate CA with a
delegated id-kp-OCSPSigning certificate). The ocsp-* client certificates
name that responder in their AIA. Answers carry no nextUpdate, so moat's
own cache (max_age) is what keeps them, and each request the responder
gets is counted from its log ("Received request")."""
import os
import signal
import time
import subprocess
import threading

import pytest

from conftest import closed_by_peer, connect_packet, read_connack, tls_connect, wait_for

OK3, OK5 = b"\x20\x02\x00\x00", 0x00
NOT_AUTH = {4: b"\x20\x02\x00\x05", 5: 0x87}
UNAVAILABLE = {4: b"\x20\x02\x00\x03", 5: 0x88}


class Responder:
    def __init__(self, pki):
        self.pki = pki
        self.port = int(open(os.path.join(pki, "ocsp.port")).read())
        self.log = os.path.join(pki, f"ocsp-{self.port}.log")
        self.proc = None

    def start(self):
        self.since = len(self.text()) if os.path.exists(self.log) else 0
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            ["openssl", "ocsp", "-index", "ocsp.index", "-port", str(self.port),
             "-rsigner", "ocsp-responder.crt", "-rkey", "ocsp-responder.key",
             "-CA", "inter.crt", "-text"],
            cwd=self.pki, stdout=self.logf, stderr=subprocess.STDOUT)
        # not probed by connecting: a connection closed without a request
        # leaves `openssl ocsp` stuck
        assert wait_for(lambda: "waiting for OCSP client connections" in self.text(), 10), \
            "OCSP responder did not start"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def pause(self):  # slow: connections are accepted by the kernel, never answered
        self.proc.send_signal(signal.SIGSTOP)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()[getattr(self, "since", 0):]

    def requests(self):
        return self.text().count("Received request, 1st line:")


@pytest.fixture
def responder(pki):
    r = Responder(pki)
    r.start()
    yield r
    r.stop()


def ocsp_moat(moat_factory, brokers, mode="require", limits=None, **extra):
    def mutate(cfg):
        cfg["limits"].update(limits or {})
        tls = cfg["listeners"][0]["tls"]
        tls.pop("crl")  # OCSP alone decides here
        tls["ocsp"] = {"mode": mode, "timeout": "1s", **extra}
    return moat_factory(brokers, mutate)


def connack(s, version):
    got = read_connack(s)
    return got if version == 4 else got[3]


def mqtt_connect(pki, m, cert, tls, version):
    s = tls_connect(pki, m.port, cert, tls)
    s.sendall(connect_packet(cert, version))
    return s, connack(s, version)


def tls_info(m):
    out = {}
    for line in m.ctl("show tls").splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k] = v
    return out


CASES = [("1.2", 4), ("1.2", 5), ("1.3", 4), ("1.3", 5)]


@pytest.mark.parametrize("tls,version", CASES)
def test_good_is_accepted(moat_factory, live_brokers, pki, responder, tls, version):
    m = ocsp_moat(moat_factory, live_brokers)
    s, code = mqtt_connect(pki, m, "ocsp-good", tls, version)
    assert code == (OK3 if version == 4 else OK5), m.log()[-3000:]
    assert responder.requests() == 1
    assert "ocsp_fetch" in m.log() and "result=ok" in m.log()


@pytest.mark.parametrize("tls,version", CASES)
def test_revoked_gets_the_alert(moat_factory, live_brokers, pki, responder, tls, version):
    from test_rejects import handshake_alert
    m = ocsp_moat(moat_factory, live_brokers, mode="soft")
    assert "CERTIFICATE_REVOKED" in handshake_alert(pki, m.port, "ocsp-revoked", tls)
    assert wait_for(lambda: m.rejects("cert_revoked") == 1, 5), m.info()
    assert "serial=" in m.log() and "subject=" in m.log()
    for b in live_brokers:
        assert "ocsp-revoked" not in b.clients()


@pytest.mark.parametrize("tls,version", CASES)
def test_unknown_require_not_authorized_soft_accepted(moat_factory, live_brokers, pki,
                                                      responder, tls, version):
    m = ocsp_moat(moat_factory, live_brokers)
    s, code = mqtt_connect(pki, m, "ocsp-unknown", tls, version)
    assert code == NOT_AUTH[version]
    assert closed_by_peer(s)
    assert m.rejects("ocsp_unknown") == 1
    soft = ocsp_moat(moat_factory, live_brokers, mode="soft")
    s, code = mqtt_connect(pki, soft, "ocsp-unknown", tls, version)
    assert code == (OK3 if version == 4 else OK5)
    assert tls_info(soft)["ocsp_soft_failed"] == "1"


@pytest.mark.parametrize("tls,version", CASES)
def test_responder_down(moat_factory, live_brokers, pki, tls, version):
    m = ocsp_moat(moat_factory, live_brokers)
    s, code = mqtt_connect(pki, m, "ocsp-good", tls, version)
    assert code == UNAVAILABLE[version]  # retry later, not "banned"
    assert closed_by_peer(s)
    assert m.rejects("ocsp_unavailable") == 1
    assert int(tls_info(m)["ocsp_errors"]) >= 1
    soft = ocsp_moat(moat_factory, live_brokers, mode="soft")
    s, code = mqtt_connect(pki, soft, "ocsp-good", tls, version)
    assert code == (OK3 if version == 4 else OK5)
    assert tls_info(soft)["ocsp_soft_failed"] == "1"


def test_no_url_refused_under_require_accepted_with_override(moat_factory, live_brokers, pki,
                                                             responder):
    m = ocsp_moat(moat_factory, live_brokers)
    s, code = mqtt_connect(pki, m, "dev-good", "1.2", 5)  # no AIA in dev-good
    assert code == 0x87
    assert m.rejects("ocsp_no_url") == 1
    o = ocsp_moat(moat_factory, live_brokers,
                  responder=f"http://127.0.0.1:{responder.port}/")
    s, code = mqtt_connect(pki, o, "dev-good", "1.2", 4)
    assert code == OK3
    assert responder.requests() == 1


def test_cache_second_connection_sends_no_request(moat_factory, live_brokers, pki, responder):
    m = ocsp_moat(moat_factory, live_brokers)
    for i in range(3):
        s, code = mqtt_connect(pki, m, "ocsp-good", "1.3", 4)
        assert code == OK3
        s.close()
    assert responder.requests() == 1
    info = tls_info(m)
    assert info["ocsp_hits"] == "2" and info["ocsp_misses"] == "1", info
    show = m.ctl("show ocsp")
    assert " good " in show and f"127.0.0.1:{responder.port}" in show, show


def test_storm_of_one_certificate_sends_one_request(moat_factory, live_brokers, pki, responder):
    """200 simultaneous handshakes of one certificate while the responder
    is held: they all wait on the one request in flight."""
    m = ocsp_moat(moat_factory, live_brokers, timeout="20s",
                  limits={"handshake_timeout": "30s"})
    responder.pause()
    results = []

    def one():
        try:
            s = tls_connect(pki, m.port, "ocsp-good", "1.2", timeout=20)
            results.append("ok")
            s.close()
        except Exception as e:  # noqa: BLE001 - counted below
            results.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(200)]
    for t in threads:
        t.start()
    assert wait_for(lambda: int(tls_info(m)["ocsp_coalesced"]) >= 150, 15), tls_info(m)
    responder.proc.send_signal(signal.SIGCONT)
    for t in threads:
        t.join(30)
    assert results.count("ok") == 200, [r for r in results if r != "ok"][:3]
    info = tls_info(m)
    assert info["ocsp_requests"] == "1" and info["ocsp_errors"] == "0", \
        (info, m.log()[-3000:], responder.text()[-2000:])
    assert wait_for(lambda: responder.requests() == 1, 5), responder.text()[-2000:]


def test_slow_responder_is_down_and_cached_clients_do_not_wait(moat_factory, live_brokers, pki,
                                                              responder):
    m = ocsp_moat(moat_factory, live_brokers)
    s, code = mqtt_connect(pki, m, "ocsp-good2", "1.2", 4)  # cached now
    assert code == OK3
    responder.pause()
    slow = {}

    def unlucky():
        slow["s"], slow["code"] = mqtt_connect(pki, m, "ocsp-good", "1.2", 5)

    t = threading.Thread(target=unlucky)
    t.start()
    # meanwhile a client with a cached answer goes straight through
    s2, code = mqtt_connect(pki, m, "ocsp-good2", "1.3", 5)
    assert code == OK5
    assert t.is_alive()  # still waiting for the held responder
    t.join(10)
    assert slow["code"] == UNAVAILABLE[5]
    assert m.rejects("ocsp_unavailable") == 1


def test_stale_if_error_serves_a_cached_good(moat_factory, live_brokers, pki, responder):
    m = ocsp_moat(moat_factory, live_brokers, max_age="1s", stale_if_error="1h")
    s, code = mqtt_connect(pki, m, "ocsp-good", "1.2", 4)
    assert code == OK3
    responder.stop()
    time.sleep(1.3)  # the answer is past its max_age now
    s, code = mqtt_connect(pki, m, "ocsp-good", "1.3", 5)
    assert code == OK5
    assert tls_info(m)["ocsp_stale_used"] == "1"
    # without stale_if_error the same is "responder down"
    n = ocsp_moat(moat_factory, live_brokers, max_age="1s")
    s, code = mqtt_connect(pki, n, "ocsp-good", "1.2", 4)
    assert code == UNAVAILABLE[4]


def test_ocsp_metrics(moat_factory, live_brokers, pki, responder):
    """OCSP counters and the request latency histogram on /metrics,
    checked with promtool and against show tls."""
    import shutil
    from conftest import free_port
    from test_metrics import scrape, value
    port = free_port()

    def mutate(cfg):
        cfg["stats"]["metrics"] = f"127.0.0.1:{port}"
        tls = cfg["listeners"][0]["tls"]
        tls.pop("crl")
        tls["ocsp"] = {"mode": "require", "timeout": "1s"}
    m = moat_factory(live_brokers, mutate)
    for cert in ("ocsp-good", "ocsp-good", "ocsp-unknown"):
        s, code = mqtt_connect(pki, m, cert, "1.2", 4)
        s.close()
    _, body = scrape(port)
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=body,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
    info = tls_info(m)
    assert value(body, "moat_ocsp_lookups_total", result="hit") == int(info["ocsp_hits"]) == 1
    assert value(body, "moat_ocsp_lookups_total", result="miss") == 2
    assert value(body, "moat_ocsp_responses_total", result="good") == 1
    assert value(body, "moat_ocsp_responses_total", result="unknown") == 1
    assert value(body, "moat_ocsp_request_duration_seconds_count") == 2
    assert value(body, "moat_rejects_total", listener="mqtts", cause="ocsp_unknown") == 1
