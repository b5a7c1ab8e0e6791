"""Devices without certificates: an OAuth 2.0 access token (a JWT signed
with a key of the listener's JWK Set) in the CONNECT password, through
moat to real mosquitto brokers with real mosquitto_pub / paho clients.
Every refusal has its CONNACK, counter and log line; the token is never
logged and never reaches the broker; a token that runs out closes the
session (MQTT 5: DISCONNECT 0x87)."""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import Receiver, connect_packet, free_port, read_connack, tls_context, wait_for
from test_metrics import scrape, value

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import jwt_tool  # noqa: E402

ISS, AUD = "https://auth.test/", "mqtt"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwks")
    k = {"ec": jwt_tool.genkey(str(d / "ec.pem"), "P-256"),
         "rsa": jwt_tool.genkey(str(d / "rsa.pem"), "RSA2048"),
         "other": jwt_tool.genkey(str(d / "other.pem"), "P-256"),
         "new": jwt_tool.genkey(str(d / "new.pem"), "P-256")}
    k["jwks"] = str(d / "jwks.json")
    with open(k["jwks"], "w") as f:
        json.dump({"keys": [jwt_tool.jwk(k["ec"], "k-ec"),
                            jwt_tool.jwk(k["rsa"], "k-rsa")]}, f)
    k["jwks_new"] = str(d / "jwks-new.json")
    with open(k["jwks_new"], "w") as f:
        json.dump({"keys": [jwt_tool.jwk(k["new"], "k-new")]}, f)
    return k


def tok(keys, sub="dev-t1", alg="ES256", kid="k-ec", key="ec", **claims):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": sub, "iat": now, "exp": now + 600}
    c.update(claims)
    c = {k: v for k, v in c.items() if v is not None}
    return jwt_tool.token(alg, keys[key], c, {"kid": kid})


def token_cfg(keys, when="no_cert", **extra):
    def mutate(c):
        lst = c["listeners"][0]
        lst["tls"]["verify_client"] = "optional"
        t = {"when": when, "jwks": keys["jwks"], "issuer": ISS, "audience": AUD,
             "algorithms": ["ES256", "RS256"], "leeway": "0s"}
        t.update(extra)
        lst["mqtt"]["token"] = t
    return mutate


def pub(pki, port, client_id, password=None, user="device", cert=None, version="mqttv311"):
    args = ["mosquitto_pub", "-h", "localhost", "-p", str(port),
            "--cafile", os.path.join(pki, "ca.crt"), "-i", client_id, "-V", version,
            "-t", "moat/tok", "-m", "hi"]
    if cert:
        args += ["--cert", os.path.join(pki, f"{cert}.crt"),
                 "--key", os.path.join(pki, f"{cert}.key")]
    if user is not None:
        args += ["-u", user]
    if password is not None:
        args += ["-P", password]
    return subprocess.run(args, capture_output=True, text=True, timeout=15)


@pytest.fixture
def tmoat(moat_factory, live_brokers, keys):
    return moat_factory(live_brokers, token_cfg(keys))


def test_good_tokens_connect_and_publish(tmoat, pki, keys):
    for alg, kid, key in (("ES256", "k-ec", "ec"), ("RS256", "k-rsa", "rsa")):
        t = tok(keys, alg=alg, kid=kid, key=key)
        r = pub(pki, tmoat.port, "dev-t1", t)
        assert r.returncode == 0, r.stderr + tmoat.log()[-2000:]
        assert t not in tmoat.log()
    assert tmoat.forwarded_to("dev-t1")
    assert tmoat.info()["tokens_ok"] == "2"
    metrics = tmoat.ctl("show tokens")
    assert "key: kid=k-ec kty=EC" in metrics and "key: kid=k-rsa kty=RSA" in metrics
    assert "tokens_ok: 2" in metrics


# (what is wrong, client id, token maker, mosquitto_pub's words, cause)
CASES = [
    ("no password", "dev-t1", None, "bad user name or password", "token_missing"),
    ("signed by another key", "dev-t1",
     lambda k: tok(k, key="other"), "bad user name or password", "token_invalid"),
    ("alg none", "dev-t1",
     lambda k: tok(k).rsplit(".", 1)[0].replace(tok(k).split(".")[0],
                                                jwt_tool.b64u(b'{"alg":"none","typ":"JWT"}')) + ".",
     "bad user name or password", "token_invalid"),
    ("unknown kid", "dev-t1", lambda k: tok(k, kid="k-nope"),
     "bad user name or password", "token_invalid"),
    ("truncated", "dev-t1", lambda k: tok(k)[:-10], "bad user name or password",
     "token_invalid"),
    ("expired", "dev-t1", lambda k: tok(k, exp=int(time.time()) - 60),
     "bad user name or password", "token_expired"),
    ("not yet valid", "dev-t1", lambda k: tok(k, nbf=int(time.time()) + 600),
     "bad user name or password", "token_expired"),
    ("wrong audience", "dev-t1", lambda k: tok(k, aud="other"), "not authorised",
     "token_claims"),
    ("wrong issuer", "dev-t1", lambda k: tok(k, iss="https://evil.test/"),
     "not authorised", "token_claims"),
    ("identity is not the client id", "dev-t2", lambda k: tok(k, sub="dev-t1"),
     "identifier rejected", "client_id_mismatch"),
]


@pytest.mark.parametrize("what,cid,make,words,cause", CASES, ids=[c[0] for c in CASES])
def test_refused_tokens(tmoat, live_brokers, pki, keys, what, cid, make, words, cause):
    marks = [b.mark() for b in live_brokers]
    t = make(keys) if make else None
    r = pub(pki, tmoat.port, cid, t, user=None if t is None else "device")
    assert r.returncode != 0
    assert words in (r.stderr + r.stdout).lower(), r.stderr
    assert wait_for(lambda: tmoat.rejects(cause) == 1, 3), tmoat.info()
    log = tmoat.log()
    assert f"cause={cause}" in log
    if t:
        assert t not in log and "eyJ" not in log, "the token was logged"
    # nothing of a refused client reached a broker
    for b, m in zip(live_brokers, marks):
        assert cid not in b.clients(m)


@pytest.mark.parametrize("version,code", [(4, 0x04), (5, 0x86)])
def test_connack_codes(tmoat, pki, keys, version, code):
    s = socket.create_connection(("127.0.0.1", tmoat.port), timeout=5)
    s = tls_context(pki, None).wrap_socket(s, server_hostname="localhost")
    s.sendall(connect_packet("dev-t1", version, username="d", password=tok(keys, key="other")))
    ack = read_connack(s)
    assert ack[3] == code, ack


def test_device_with_certificate_needs_no_token(tmoat, pki):
    r = pub(pki, tmoat.port, "dev-good", None, user=None, cert="dev-good")
    assert r.returncode == 0, r.stderr
    assert tmoat.rejects("token_missing") == 0


def test_always_wants_a_token_from_certificate_devices_too(moat_factory, live_brokers, pki,
                                                          keys):
    m = moat_factory(live_brokers, token_cfg(keys, when="always"))
    r = pub(pki, m.port, "dev-good", None, user=None, cert="dev-good")
    assert r.returncode != 0 and "bad user name or password" in r.stderr.lower()
    assert m.rejects("token_missing") == 1
    r = pub(pki, m.port, "dev-good", tok(keys, sub="dev-good"), cert="dev-good")
    assert r.returncode == 0, r.stderr


def test_identity_shown_and_token_not_forwarded(tmoat, pki, keys, live_brokers):
    t = tok(keys, sub="dev-t3")
    c = mqtt.Client(client_id="dev-t3", protocol=mqtt.MQTTv311)
    c.tls_set_context(tls_context(pki, None))
    c.username_pw_set("device", t)
    c.connect("localhost", tmoat.port, keepalive=30)
    c.loop_start()
    try:
        assert wait_for(lambda: c.is_connected(), 5), tmoat.log()[-2000:]
        conns = tmoat.ctl("show conns")
        row = [l for l in conns.splitlines() if "dev-t3" in l]
        assert row and row[0].endswith("dev-t3 via=token not_after=-"), conns
    finally:
        c.loop_stop()
        c.disconnect()
    assert t not in tmoat.log()


def test_token_running_out_closes_the_session(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_cfg(keys))
    got, done = {}, threading.Event()

    def on_disconnect(client, userdata, rc, properties=None):
        got["rc"] = getattr(rc, "value", rc)
        done.set()

    c = mqtt.Client(client_id="dev-t4", protocol=mqtt.MQTTv5)
    logs = []
    c.on_log = lambda cl, u, lv, buf: logs.append(buf)
    c.on_disconnect = on_disconnect
    c.tls_set_context(tls_context(pki, None))
    c.username_pw_set("device", tok(keys, sub="dev-t4", exp=int(time.time()) + 3))
    c.connect("localhost", m.port, keepalive=30)
    c.loop_start()
    # an MQTT 3.1.1 session of the same kind is closed outright
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s = tls_context(pki, None).wrap_socket(s, server_hostname="localhost")
    s.sendall(connect_packet("dev-t5", 4, username="d",
                             password=tok(keys, sub="dev-t5", exp=int(time.time()) + 3)))
    try:
        assert read_connack(s) == b"\x20\x02\x00\x00"
        assert wait_for(lambda: c.is_connected(), 5)
        assert done.wait(10), "\n".join(logs)
        assert got["rc"] == 0x87, got
        assert any("token expired" in line for line in logs), logs
        s.settimeout(5)
        assert s.recv(100) == b""
        assert wait_for(lambda: m.rejects("token_expired_live") == 2, 3), m.info()
    finally:
        c.loop_stop()
        s.close()


def test_jwks_reload_takes_new_keys(moat_factory, live_brokers, pki, keys, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(open(keys["jwks"]).read())
    m = moat_factory(live_brokers, token_cfg(keys, jwks=str(path)))
    new = tok(keys, kid="k-new", key="new")
    assert pub(pki, m.port, "dev-t1", new).returncode != 0
    path.write_text(open(keys["jwks_new"]).read())
    assert m.ctl("reload").startswith("ok")
    r = pub(pki, m.port, "dev-t1", new)
    assert r.returncode == 0, r.stderr
    assert pub(pki, m.port, "dev-t1", tok(keys)).returncode != 0
    assert "key: kid=k-new" in m.ctl("show tokens")


def test_metrics_count_token_results(moat_factory, live_brokers, pki, keys):
    port = free_port()

    def mutate(c):
        token_cfg(keys)(c)
        c["stats"]["metrics"] = f"127.0.0.1:{port}"
    m = moat_factory(live_brokers, mutate)
    assert pub(pki, m.port, "dev-t1", tok(keys)).returncode == 0
    assert pub(pki, m.port, "dev-t1", tok(keys, key="other")).returncode != 0
    assert pub(pki, m.port, "dev-t1", tok(keys, exp=int(time.time()) - 60)).returncode != 0
    _, body = scrape(port)
    assert value(body, "moat_tokens_total", result="ok") == 1
    assert value(body, "moat_tokens_total", result="invalid") == 1
    assert value(body, "moat_tokens_total", result="expired") == 1
    assert value(body, "moat_rejects_total", cause="token_invalid") == 1


def test_send_proxy_v2_carries_the_token_identity_and_no_token(moat_factory, live_brokers,
                                                               pki, keys):
    """A receiver that reads what moat sends a broker: the PROXY v2 header's
    CN sub-TLV holds the token's identity, and the CONNECT behind it has
    the username as sent and no password (the token stays with moat)."""
    rcv = Receiver(linger=0.5)

    def mutate(c):
        token_cfg(keys)(c)
        up = c["upstreams"][0]
        up["send_proxy"] = "v2"
        up["health"] = {"type": "none"}
        up["servers"] = [{"name": "receiver", "address": f"127.0.0.1:{rcv.port}"}]
    m = moat_factory(live_brokers, mutate)
    t_ = tok(keys, sub="dev-t6")
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s = tls_context(pki, None).wrap_socket(s, server_hostname="localhost")
    s.sendall(connect_packet("dev-t6", 4, username="device-user", password=t_))
    d = rcv.join()
    s.close()
    hl = 16 + struct.unpack(">H", d[14:16])[0]
    assert b"dev-t6" in d[:hl]  # the CN sub-TLV
    connect = d[hl:]
    assert connect[:1] == b"\x10", connect
    assert b"device-user" in connect and b"eyJ" not in connect and t_.encode() not in connect
    assert connect[9] & 0x40 == 0 and connect[9] & 0x80, hex(connect[9])  # no password flag
