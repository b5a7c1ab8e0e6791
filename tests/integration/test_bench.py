"""The load generator of bench/ (build/bench/moat-bench) against a real moat
and a real mosquitto: what bench/compare.sh measures must be what it says
(full handshakes are full, resumed ones resumed, messages arrive, idle
connections are held, token CONNECTs carry their token). Counts only, never
timings."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import MOAT, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import jwt_tool  # noqa: E402

BENCH = os.path.join(os.path.dirname(MOAT), "bench", "moat-bench")

pytestmark = pytest.mark.skipif(not os.access(BENCH, os.X_OK),
                                reason="moat-bench not built")


def one_broker(c):
    # publishers and subscribers must meet on one broker (compare.sh runs one)
    c["upstreams"][0]["servers"] = c["upstreams"][0]["servers"][:1]
    c["listeners"][0]["tls"]["session_tickets"] = True
    c["listeners"][0]["mqtt"] = {"identity": "none", "client_id_must_match": False}


def tls_args(pki):
    return ["--ca", os.path.join(pki, "ca.crt"),
            "--cert", os.path.join(pki, "dev-good.crt"),
            "--key", os.path.join(pki, "dev-good.key")]


def bench(m, pki, *args, timeout=60, tls=None):
    out = subprocess.run([BENCH, args[0], "-H", f"127.0.0.1:{m.port}",
                          *(tls_args(pki) if tls is None else tls), *args[1:]],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    r = {k: v for k, v in re.findall(r"(\w+)=(\S+)", lines[-1])}
    r["lines"] = lines
    return r


def resumed_count(m):
    return int(re.search(r"^resumed: (\d+)$", m.ctl("show tls"), re.M).group(1))


def test_bench_connect_full_and_resumed(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, one_broker)
    r = bench(m, pki, "connect", "-c", "4", "-n", "20")
    assert (r["mode"], r["ok"], r["failed"], r["reused"]) == \
        ("connect", "20", "0", "0"), r
    before = resumed_count(m)
    r = bench(m, pki, "connect", "-c", "4", "-n", "20", "-r")
    assert (r["mode"], r["ok"], r["failed"], r["reused"]) == \
        ("connect-resumed", "20", "0", "20"), r
    # moat saw them resume too: the bench's reused= is not its own guess
    assert resumed_count(m) - before >= 20, m.ctl("show tls")
    assert wait_for(lambda: int(m.info()["conns_current"]) == 0, 5), m.info()


def test_bench_connect_with_nagle_on(moat_factory, live_brokers, pki):
    """--nagle: the bench's client leaves Nagle on, as users' clients do,
    and still completes every connect, full and resumed."""
    m = moat_factory(live_brokers, one_broker)
    for extra in ([], ["-r"]):
        r = bench(m, pki, "connect", "-c", "2", "-n", "10", "--nagle", *extra)
        assert (r["ok"], r["failed"]) == ("10", "0"), r


def test_bench_pubsub_qos1_arrives_whole(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, one_broker)
    r = bench(m, pki, "pubsub", "-p", "2", "-s", "1024", "-q", "1",
              "-R", "50", "-t", "2")
    # compare.sh starts the proxy's counters on this line: every pair is
    # subscribed, and the messages counted come after it
    assert r["lines"][0] == "ready 2", r
    sent, received = int(r["sent"]), int(r["received"])
    assert sent >= 100, r
    # QoS 1 through moat: what was acknowledged to the publisher arrives;
    # at most the last message of each pair may still be on its way
    assert received >= sent - 2, r
    assert float(r["p99_ms"]) > 0, r


def test_bench_idle_holds_its_connections(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, one_broker)
    p = subprocess.Popen([BENCH, "idle", "-H", f"127.0.0.1:{m.port}",
                          *tls_args(pki), "-n", "40", "-c", "10", "-t", "20"],
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.strip() == "ready 40", line
        assert wait_for(lambda: int(m.info()["conns_current"]) == 40, 5), m.info()
        assert int(m.info()["handshakes_ok"]) >= 40, m.info()
    finally:
        p.terminate()
        p.wait(timeout=10)
    assert wait_for(lambda: int(m.info()["conns_current"]) == 0, 10), m.info()


def test_bench_token_connects_without_a_certificate(moat_factory, live_brokers, pki,
                                                     tmp_path):
    """connect --token-file: no client certificate, the token as the CONNECT
    password (what bench/compare.sh's token rows measure); moat counts each
    as tokens_ok, and a token it refuses makes the bench fail, not pass."""
    key = jwt_tool.genkey(str(tmp_path / "ec.pem"), "P-256")
    other = jwt_tool.genkey(str(tmp_path / "other.pem"), "P-256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwt_tool.jwk(key, "k-ec")]}))
    now = int(time.time())
    claims = {"iss": "https://auth.test/", "aud": "mqtt", "sub": "dev-b",
              "exp": now + 600}
    good, bad = tmp_path / "good.tok", tmp_path / "bad.tok"
    good.write_text(jwt_tool.token("ES256", key, claims, {"kid": "k-ec"}) + "\n")
    bad.write_text(jwt_tool.token("ES256", other, claims, {"kid": "k-ec"}) + "\n")

    def tokens(c):
        one_broker(c)
        c["listeners"][0]["tls"]["verify_client"] = "optional"
        c["listeners"][0]["mqtt"]["token"] = {
            "when": "no_cert", "jwks": str(jwks), "issuer": claims["iss"],
            "audience": "mqtt", "algorithms": ["ES256"]}
    m = moat_factory(live_brokers, tokens)
    ca = ["--ca", os.path.join(pki, "ca.crt")]
    r = bench(m, pki, "connect", "-c", "2", "-n", "8", "--token-file", str(good), tls=ca)
    assert (r["ok"], r["failed"], r["reused"]) == ("8", "0", "0"), r
    r = bench(m, pki, "connect", "-c", "2", "-n", "8", "-r", "--token-file", str(good),
              tls=ca)
    assert (r["ok"], r["failed"], r["reused"]) == ("8", "0", "8"), r
    # 8 full, the resumed run's first (full) connect, 8 resumed
    assert wait_for(lambda: m.info().get("tokens_ok") == "17", 5), m.info()
    assert int(m.info()["handshakes_ok"]) >= 17, m.info()
    # a token moat refuses: CONNACK refused, the bench counts a failure
    out = subprocess.run([BENCH, "connect", "-H", f"127.0.0.1:{m.port}", *ca,
                          "-c", "1", "-n", "3", "--token-file", str(bad)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "ok=0 failed=3" in out.stdout, out.stdout + out.stderr
    assert wait_for(lambda: m.rejects("token_invalid") == 3, 5), m.info()
    assert m.info().get("tokens_ok") == "17", m.info()
    assert good.read_text().strip() not in m.log()
