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
    def __init__(self, pki, index="ocsp.index", signer="ocsp-responder", ca="inter.crt",
                 port_file="ocsp.port", args=()):
        self.pki = pki
        self.args = list(args)  # more `openssl ocsp` options (-nmin N)
        self.index = index
        self.signer = signer
        self.ca = ca
        self.port = int(open(os.path.join(pki, port_file)).read())
        self.log = os.path.join(pki, f"ocsp-{self.port}.log")
        self.proc = None

    def start(self):
        self.since = len(self.text()) if os.path.exists(self.log) else 0
        self.logf = open(self.log, "a")
        self.proc = subprocess.Popen(
            ["openssl", "ocsp", "-index", self.index, "-port", str(self.port),
             "-rsigner", f"{self.signer}.crt", "-rkey", f"{self.signer}.key",
             "-CA", self.ca, "-text", *self.args],
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
    return m.kv("show tls")


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


# ---- stapling moat's own certificate -------------------------------------

def s_client_status(port, version, pki):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", version,
                        "-status", "-CAfile", os.path.join(pki, "ca.crt"),
                        "-cert", os.path.join(pki, "dev-good.crt"),
                        "-key", os.path.join(pki, "dev-good.key")],
                       input="", capture_output=True, text=True, timeout=15)
    return r.stdout + r.stderr


def staple_moat(moat_factory, brokers, staple):
    def mutate(cfg):
        cfg["listeners"][0]["tls"]["staple"] = staple
    return moat_factory(brokers, mutate)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_staple_auto(moat_factory, live_brokers, pki, responder, version):
    m = staple_moat(moat_factory, live_brokers, "auto")
    assert wait_for(lambda: "Cert Status: good" in s_client_status(m.port, version, pki), 10), \
        s_client_status(m.port, version, pki)[-2000:]
    # fetched once at start, served from then on
    s_client_status(m.port, version, pki)
    assert responder.requests() == 1
    info = tls_info(m)
    assert info["staple"] == "good" and info["staple_source"] == "auto", info
    assert info["staple_reason"] == "-" and info["staple_status"] == "good", info


def make_response(pki, tmp_path, index, name):
    """A DER OCSP response for the server certificate from a responder run
    once on `index` (openssl ocsp -reqin/-respout, no network)."""
    req, resp = tmp_path / f"{name}.req", tmp_path / f"{name}.der"
    subprocess.run(["openssl", "ocsp", "-issuer", "inter.crt", "-cert", "server.leaf.crt",
                    "-no_nonce", "-reqout", str(req)], cwd=pki, capture_output=True,
                   check=True, timeout=30)
    subprocess.run(["openssl", "ocsp", "-index", index, "-rsigner", "ocsp-responder.crt",
                    "-rkey", "ocsp-responder.key", "-CA", "inter.crt", "-reqin", str(req),
                    "-respout", str(resp), "-nmin", "60"], cwd=pki, capture_output=True,
                   check=True, timeout=30)
    return str(resp)


def test_staple_file_and_reload(moat_factory, live_brokers, pki, tmp_path):
    good = make_response(pki, tmp_path, "ocsp.index", "good")
    m = staple_moat(moat_factory, live_brokers, good)
    for v in ("-tls1_2", "-tls1_3"):
        out = s_client_status(m.port, v, pki)
        assert "Cert Status: good" in out, out[-2000:]
    # an "unknown" answer is never stapled: replace the file and reload
    empty = os.path.join(str(tmp_path), "empty.index")
    open(empty, "w").close()
    open(empty + ".attr", "w").write("unique_subject = no\n")
    unknown = make_response(pki, tmp_path, empty, "unknown")
    with open(good, "wb") as f:
        f.write(open(unknown, "rb").read())
    assert m.ctl("reload").strip() == "ok"
    out = s_client_status(m.port, "-tls1_2", pki)
    assert "OCSP response: no response sent" in out, out[-2000:]
    assert "staple_unusable" in m.log()


def test_staple_file_for_another_certificate_is_a_config_error(moat_factory, live_brokers, pki,
                                                               tmp_path):
    from conftest import MOAT
    m = staple_moat(moat_factory, live_brokers, "auto")
    # a response for ocsp-good, not for the server certificate
    req, resp = tmp_path / "o.req", tmp_path / "o.der"
    subprocess.run(["openssl", "ocsp", "-issuer", "inter.crt", "-cert", "ocsp-good.crt",
                    "-no_nonce", "-reqout", str(req)], cwd=pki, check=True, capture_output=True)
    subprocess.run(["openssl", "ocsp", "-index", "ocsp.index", "-rsigner", "ocsp-responder.crt",
                    "-rkey", "ocsp-responder.key", "-CA", "inter.crt", "-reqin", str(req),
                    "-respout", str(resp)], cwd=pki, check=True, capture_output=True)
    text = open(m.conf).read().replace('"staple": "auto"', f'"staple": "{resp}"')
    open(m.conf, "w").write(text)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True)
    assert r.returncode == 1 and "not a successful DER OCSP response for tls.cert" in r.stderr, \
        r.stderr


# ---- a refreshed answer revokes a live session ----------------------------

def test_ocsp_refresh_closes_a_newly_revoked_live_session(moat_factory, live_brokers, pki,
                                                          tmp_path):
    import shutil
    own = str(tmp_path / "pki")
    shutil.copytree(pki, own)
    r = Responder(own)
    r.start()
    try:
        m = ocsp_moat(moat_factory, live_brokers, max_age="2s")
        s, code = mqtt_connect(pki, m, "ocsp-good2", "1.3", 5)
        assert code == OK5
        other, code = mqtt_connect(pki, m, "ocsp-good", "1.2", 4)
        assert code == OK3
        # the CA revokes ocsp-good2; the responder rereads its index
        env = dict(os.environ, CA_NAME="inter", CLIENT_ID="none", OCSP_PORT="0", OCSP_ROOT_PORT="0")
        subprocess.run(["openssl", "ca", "-config", "openssl.cnf", "-cert", "inter.crt",
                        "-keyfile", "inter.key", "-revoke", "ocsp-good2.crt"], cwd=own, env=env,
                       check=True, capture_output=True)
        shutil.copy(os.path.join(own, "inter.index"), os.path.join(own, "ocsp.index"))
        # within the answer's max_age, moat asks again and closes the session
        from conftest import recv_exact
        pkt = recv_exact(s, 2, timeout=15)
        assert pkt[0] == 0xE0, pkt
        assert recv_exact(s, pkt[1])[0] == 0x87
        assert closed_by_peer(s)
        assert "revoked_close" in m.log() and "source=ocsp" in m.log()
        other.sendall(b"\xc0\x00")
        assert read_connack(other) == b"\xd0\x00"
    finally:
        r.stop()


def test_cache_size_bounds_the_cache(moat_factory, live_brokers, pki, responder):
    m = ocsp_moat(moat_factory, live_brokers, cache_size=1)
    for cert in ("ocsp-good", "ocsp-good2", "ocsp-good"):
        s, code = mqtt_connect(pki, m, cert, "1.2", 4)
        assert code == OK3
        s.close()
        # wait until the connection is gone, so that its answer is not held
        assert wait_for(lambda: m.info()["conns_current"] == "0", 5)
    info = tls_info(m)
    assert responder.requests() == 3 and info["ocsp_cache_size"] == "1", info
    assert int(info["ocsp_evicted"]) >= 1
    # show ocsp SERIAL finds the one that is cached, not the evicted one
    serial = subprocess.run(["openssl", "x509", "-in", os.path.join(pki, "ocsp-good.crt"),
                             "-noout", "-serial"], capture_output=True, text=True
                            ).stdout.strip().split("=")[1].lower()
    lines = m.ctl("show ocsp", serial).splitlines()
    assert len(lines) == 2 and lines[1].startswith(serial + " good "), lines
    other = subprocess.run(["openssl", "x509", "-in", os.path.join(pki, "ocsp-good2.crt"),
                            "-noout", "-serial"], capture_output=True, text=True
                           ).stdout.strip().split("=")[1].lower()
    assert len(m.ctl("show ocsp", other).splitlines()) == 1


def test_drill_held_responder_does_not_slow_others(moat_factory, live_brokers, pki, responder):
    """Drill: the responder hangs while 50 handshakes wait on it; a client
    with a cached answer keeps connecting as fast as before (the loop never
    waits for the responder). The ratio is printed for the notes; the
    assertion is only that no such connect waits for the responder."""
    m = ocsp_moat(moat_factory, live_brokers, timeout="20s",
                  limits={"handshake_timeout": "30s"})

    def connect_time():
        t = time.monotonic()
        s, code = mqtt_connect(pki, m, "ocsp-good2", "1.3", 4)
        assert code == OK3
        s.close()
        return time.monotonic() - t
    connect_time()  # cached from now on
    base = sorted(connect_time() for _ in range(20))
    responder.pause()
    waiting = []

    def hang():
        try:
            waiting.append(tls_connect(pki, m.port, "ocsp-good", "1.2", timeout=30))
        except OSError:
            pass
    threads = [threading.Thread(target=hang) for _ in range(50)]
    for t in threads:
        t.start()
    assert wait_for(lambda: int(tls_info(m)["ocsp_coalesced"]) >= 40, 15)
    during = sorted(connect_time() for _ in range(20))
    assert during[-1] < 5  # none of them waited for the held responder
    responder.proc.send_signal(signal.SIGCONT)
    for t in threads:
        t.join(30)
    print(f"\nOCSP drill: cached client connect p50 {base[10] * 1000:.1f} ms before, "
          f"{during[10] * 1000:.1f} ms with 50 handshakes waiting on a held responder "
          f"(x{during[10] / base[10]:.2f})")


def test_answer_signed_by_an_unauthorized_key_is_not_believed(moat_factory, live_brokers, pki):
    """A "good" signed by a key that is neither the issuing CA nor a
    delegated OCSP signer of it (here: a client certificate of a foreign
    CA) is a bad answer: under require the device is told to retry later,
    never let in on it."""
    r = Responder(pki, signer="dev-foreign")
    r.start()
    try:
        m = ocsp_moat(moat_factory, live_brokers)
        s, code = mqtt_connect(pki, m, "ocsp-good", "1.2", 5)
        assert code == UNAVAILABLE[5]
        assert m.rejects("ocsp_unavailable") == 1
        assert r.requests() == 1
    finally:
        r.stop()


def test_check_chain_asks_about_the_intermediate_too(moat_factory, live_brokers, pki, responder):
    """check: chain: the intermediate (whose AIA names the root's responder)
    is checked as well as the leaf; with the root's responder down the
    chain is not vouched for (require: retry later)."""
    root = Responder(pki, index="root.index", signer="root", ca="root.crt",
                     port_file="ocsp-root.port")
    root.start()
    try:
        m = ocsp_moat(moat_factory, live_brokers, check="chain")
        s = tls_connect(pki, m.port, "ocsp-good", "1.3", chain=True)
        s.sendall(connect_packet("ocsp-good"))
        assert read_connack(s) == OK3
        assert responder.requests() == 1 and root.requests() == 1
    finally:
        root.stop()
    n = ocsp_moat(moat_factory, live_brokers, check="chain")
    s = tls_connect(pki, n.port, "ocsp-good", "1.2", chain=True)
    s.sendall(connect_packet("ocsp-good"))
    assert read_connack(s) == UNAVAILABLE[4]
    # with check: leaf the root's responder is never asked
    leaf = ocsp_moat(moat_factory, live_brokers)
    s = tls_connect(pki, leaf.port, "ocsp-good", "1.2", chain=True)
    s.sendall(connect_packet("ocsp-good"))
    assert read_connack(s) == OK3
