"""MQTT over WebSocket (RFC 6455; MQTT 3.1.1 and 5.0 section 6): a
`websocket:` listener in front of real mosquitto brokers. Real clients
(paho-mqtt with transport="websockets", over wss:// and ws://) with a
certificate and with a token; a raw client of our own (below) for every
rule of the opening handshake and of the frames, each HTTP status and
close code; attacks named as such. Nothing reaches a broker before the
CONNECT inside the WebSocket has passed every check."""
import base64
import json
import os
import queue
import socket
import ssl
import struct
import subprocess
import sys
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import MOAT, connect_packet, free_port, recv_exact, tls_context, wait_for
from test_metrics import scrape, value

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import jwt_tool  # noqa: E402

ISS, AUD = "https://auth.test/", "mqtt"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3


def ws_cfg(**ws):
    def mutate(c):
        c["listeners"][0]["websocket"] = dict(ws)
    return mutate


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("wsjwks")
    k = {"ec": jwt_tool.genkey(str(d / "ec.pem"), "P-256")}
    k["jwks"] = str(d / "jwks.json")
    with open(k["jwks"], "w") as f:
        json.dump({"keys": [jwt_tool.jwk(k["ec"], "k-ec")]}, f)
    return k


def tok(keys, sub, exp=600):
    now = int(time.time())
    return jwt_tool.token("ES256", keys["ec"], {"iss": ISS, "aud": AUD, "sub": sub,
                                                "iat": now, "exp": now + exp},
                          {"kid": "k-ec"})


def token_ws_cfg(keys, frm=("password",), plain=False, **ws):
    def mutate(c):
        lst = c["listeners"][0]
        lst["websocket"] = dict(ws)
        if plain:
            lst["websocket"]["plain"] = True
            del lst["tls"]
        else:
            lst["tls"]["verify_client"] = "optional"
        lst["mqtt"]["token"] = {"when": "no_cert", "jwks": keys["jwks"], "issuer": ISS,
                                "audience": AUD, "leeway": "0s", "from": list(frm)}
    return mutate


# ---- a raw WebSocket client ----------------------------------------------

def request(path="/mqtt", proto="mqtt", version="13", key=KEY, extra=(), method="GET",
            host=True, upgrade=True):
    lines = [f"{method} {path} HTTP/1.1"]
    if host:
        lines.append("Host: localhost")
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if proto is not None:
        lines.append(f"Sec-WebSocket-Protocol: {proto}")
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_http(s, timeout=5):
    """(status, headers dict, bytes after the headers), or (None, ...)
    when the connection closed first."""
    s.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        try:
            chunk = s.recv(4096)
        except (OSError, ssl.SSLError):
            break
        if not chunk:
            break
        buf += chunk
    if b"\r\n\r\n" not in buf:
        return None, {}, buf
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, rest


def frame(op, payload=b"", fin=True, mask=True, rsv=0):
    n = len(payload)
    h = bytes([(0x80 if fin else 0) | rsv | op])
    m = 0x80 if mask else 0
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return h + payload
    key = os.urandom(4)
    return h + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WS:
    """A client connection after a good upgrade: frames in and out."""

    def __init__(self, sock, rest=b""):
        self.s = sock
        self.buf = rest

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, n, timeout):
        self.s.settimeout(timeout)
        while len(self.buf) < n:
            try:
                chunk = self.s.recv(65536)
            except (OSError, ssl.SSLError):
                return False
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_frame(self, timeout=5):
        """(fin, opcode, payload), or None at the end of the stream."""
        if not self._fill(2, timeout):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "a server frame is never masked"
        n, off = b1 & 0x7F, 2
        if n == 126:
            if not self._fill(4, timeout):
                return None
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            if not self._fill(10, timeout):
                return None
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        if not self._fill(off + n, timeout):
            return None
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def read_mqtt(self, timeout=5):
        """The payload of the next binary frame (skipping pongs)."""
        while True:
            f = self.read_frame(timeout)
            if f is None or f[1] != 0x2:
                return f
            return f[2]

    def read_close(self, timeout=5):
        """The code of the server's close frame (skipping data), or None."""
        while True:
            f = self.read_frame(timeout)
            if f is None:
                return None
            if f[1] == 0x8:
                return struct.unpack(">H", f[2][:2])[0] if len(f[2]) >= 2 else 1005

    def closed(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            while True:
                if not self.s.recv(4096):
                    return True
        except socket.timeout:
            return False
        except (OSError, ssl.SSLError):
            return True


def ws_connect(pki, port, req=None, cert="dev-good", plain=False):
    """Open TLS (or not), send the request; (status, headers, sock, rest)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    s = raw if plain else tls_context(pki, cert).wrap_socket(raw, server_hostname="localhost")
    s.sendall(req if req is not None else request())
    st, hdrs, rest = read_http(s)
    return st, hdrs, s, rest


def ws_open(pki, port, req=None, cert="dev-good", plain=False):
    st, hdrs, s, rest = ws_connect(pki, port, req, cert, plain)
    assert st == 101, (st, hdrs)
    return WS(s, rest)


def devices_seen(brokers, marks):
    """Client ids brokers saw since marks, moat's health checks aside."""
    return [c for b, mk in zip(brokers, marks) for c in b.clients(mk)
            if not c.startswith("moat-health")]


# ---- real clients ---------------------------------------------------------

def paho_roundtrip(pki, port, client_id, version, cert=None, password=None, plain=False,
                   path="/mqtt", topic="moat/ws"):
    """Subscribe, publish to itself, receive: the message that came back."""
    proto = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
    c = mqtt.Client(client_id=client_id, protocol=proto, transport="websockets")
    c.ws_set_options(path=path)
    if not plain:
        c.tls_set(ca_certs=os.path.join(pki, "ca.crt"),
                  certfile=os.path.join(pki, f"{cert}.crt") if cert else None,
                  keyfile=os.path.join(pki, f"{cert}.key") if cert else None)
    if password is not None:
        c.username_pw_set("device", password)
    got, rc = queue.Queue(), queue.Queue()
    c.on_connect = lambda cl, u, f, r, p=None: rc.put(int(r.value) if hasattr(r, "value") else r)
    c.on_message = lambda cl, u, msg: got.put(msg.payload)
    c.connect("localhost", port, keepalive=30)
    c.loop_start()
    try:
        code = rc.get(timeout=10)
        if code != 0:
            return code, None
        c.subscribe(topic, qos=1)
        time.sleep(0.3)
        c.publish(topic, f"hello from {client_id}".encode(), qos=1).wait_for_publish(5)
        try:
            return 0, got.get(timeout=10)
        except queue.Empty:
            return 0, None
    finally:
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("version", [4, 5])
def test_paho_wss_with_certificate(moat_factory, live_brokers, pki, version):
    m = moat_factory(live_brokers, ws_cfg())
    code, msg = paho_roundtrip(pki, m.port, "dev-good", version, cert="dev-good")
    assert code == 0 and msg == b"hello from dev-good", m.log()[-3000:]
    assert "ws_upgrade" in m.log() and "path=/mqtt" in m.log()


def test_paho_wss_with_token_in_password(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys))
    for v in (4, 5):
        code, msg = paho_roundtrip(pki, m.port, "dev-w1", v, password=tok(keys, "dev-w1"))
        assert code == 0 and msg == b"hello from dev-w1", m.log()[-3000:]
    assert m.kv("show info")["tokens_ok"] == "2"


def test_paho_plain_ws_behind_a_terminator(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, plain=True, paths=["/mqtt", "/ws"]))
    code, msg = paho_roundtrip(pki, m.port, "dev-w2", 5, password=tok(keys, "dev-w2"),
                               plain=True, path="/ws")
    assert code == 0 and msg == b"hello from dev-w2", m.log()[-3000:]
    # no token, no way in: a plain listener has no certificates
    code, _ = paho_roundtrip(pki, m.port, "dev-w2", 4, plain=True)
    assert code == 4 and m.rejects("token_missing") == 1


def test_mqttv31_subprotocol_and_mqtt_preferred(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    st, hdrs, s, _ = ws_connect(pki, m.port, request(proto="mqttv3.1"))
    assert st == 101 and hdrs["sec-websocket-protocol"] == "mqttv3.1"
    assert hdrs["sec-websocket-accept"] == ACCEPT and hdrs["upgrade"].lower() == "websocket"
    s.close()
    st, hdrs, s, _ = ws_connect(pki, m.port, request(proto="mqttv3.1, mqtt"))
    assert st == 101 and hdrs["sec-websocket-protocol"] == "mqtt"
    s.close()
    # an MQIsdp (3.1) CONNECT inside it
    w = ws_open(pki, m.port, request(proto="mqttv3.1"))
    w.send(frame(2, connect_packet("dev-good", version=3)))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.s.close()


# ---- the opening handshake: each status, each cause -----------------------

UPGRADE_CASES = [
    # name, request, status, cause
    ("plain GET", b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, "ws_bad_request"),
    ("no Connection: Upgrade", request(extra=()).replace(b"Connection: Upgrade\r\n", b""),
     400, "ws_bad_request"),
    ("POST", request(method="POST"), 400, "ws_bad_request"),
    ("no Host", request(host=False), 400, "ws_bad_request"),
    ("short key", request(key="c2hvcnQ="), 400, "ws_bad_request"),
    ("no key", request(key=None), 400, "ws_bad_request"),
    ("no subprotocol", request(proto=None), 400, "ws_bad_request"),
    ("other subprotocol", request(proto="wamp"), 400, "ws_bad_request"),
    ("version 8", request(version="8"), 426, "ws_version"),
    ("no version", request(version=None), 426, "ws_version"),
    ("wrong path", request(path="/other"), 404, "ws_path"),
    ("HTTP/1.0", request().replace(b"HTTP/1.1", b"HTTP/1.0", 1), 400, "ws_bad_request"),
]


@pytest.mark.parametrize("name,req,status,cause", UPGRADE_CASES,
                         ids=[c[0] for c in UPGRADE_CASES])
def test_upgrade_refusals(moat_factory, live_brokers, pki, name, req, status, cause):
    m = moat_factory(live_brokers, ws_cfg(origins=["https://dash.example.com"]))
    st, hdrs, s, _ = ws_connect(pki, m.port, req)
    assert st == status, (name, st, hdrs)
    assert hdrs.get("connection") == "close"
    if status == 426:
        assert hdrs["sec-websocket-version"] == "13"
    assert WS(s).closed()
    assert wait_for(lambda: m.rejects(cause) == 1, 3), m.info()
    assert f"cause={cause}" in m.log()


def test_attack_wrong_origin(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg(origins=["https://dash.example.com"]))
    st, _, s, _ = ws_connect(pki, m.port, request(extra=["Origin: https://evil.example.net"]))
    assert st == 403 and WS(s).closed()
    assert m.rejects("ws_origin") == 1
    # the allowed one, any case; a client that sends none (not a browser)
    for extra in (["Origin: https://DASH.example.com"], []):
        w = ws_open(pki, m.port, request(extra=extra))
        w.send(frame(2, connect_packet("dev-good")))
        assert w.read_mqtt() == b"\x20\x02\x00\x00"
        w.s.close()


def test_attack_header_flood(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg(max_header="1KiB"))
    # one big header: over max_header, with or without an end in sight
    st, _, s, _ = ws_connect(pki, m.port, request(extra=["X-Pad: " + "a" * 2000]))
    assert st == 431 and WS(s).closed()
    raw = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s = tls_context(pki, "dev-good").wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET /mqtt HTTP/1.1\r\n" + b"X-A: b\r\n" * 400)
    st, _, _ = read_http(s)
    assert st == 431 and WS(s).closed()
    # many tiny header lines within the size
    m2 = moat_factory(live_brokers, ws_cfg(max_header="16KiB"))
    st, _, s, _ = ws_connect(pki, m2.port, request(extra=["a: b"] * 100))
    assert st == 431
    assert m.rejects("ws_headers_too_large") == 2 and m2.rejects("ws_headers_too_large") == 1


def test_attack_bytes_after_a_refused_upgrade_never_reach_a_broker(moat_factory, live_brokers,
                                                                   pki):
    m = moat_factory(live_brokers, ws_cfg())
    marks = [b.mark() for b in live_brokers]
    # a refused upgrade with a whole CONNECT right behind it, framed and not
    for req in (request(path="/nope"), request(version="7"),
                b"GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n"):
        for tail in (frame(2, connect_packet("dev-good")), connect_packet("dev-good")):
            st, _, s, _ = ws_connect(pki, m.port, req + tail)
            assert st in (400, 404, 426) and WS(s).closed()
    # a CONNECT without any upgrade at all
    raw = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s = tls_context(pki, "dev-good").wrap_socket(raw, server_hostname="localhost")
    s.sendall(connect_packet("dev-good"))
    st, _, _ = read_http(s)
    assert st == 400
    time.sleep(0.3)
    assert devices_seen(live_brokers, marks) == []


def test_request_line_logged_without_the_query(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("query",)))
    t = tok(keys, "dev-w3")
    w = ws_open(pki, m.port, request(path=f"/mqtt?access_token={t}"), cert=None)
    w.send(frame(2, connect_packet("dev-w3")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.s.close()
    st, _, s, _ = ws_connect(pki, m.port, request(path=f"/nope?access_token={t}"), cert=None)
    assert st == 404
    log = m.log()
    assert "path=/mqtt" in log and "GET /nope" in log
    assert t not in log and "access_token" not in log


# ---- frames ---------------------------------------------------------------

FRAME_ATTACKS = [
    # name, frames after a good CONNECT, close code
    ("unmasked frame", frame(2, b"\xc0\x00", mask=False), 1002),
    ("text frame", frame(1, b"\xc0\x00"), 1003),
    ("oversized frame", frame(2, b"\x30" + b"\x00" * 300), 1009),
    ("oversized message", frame(2, b"\x00" * 200, fin=False) + frame(0, b"\x00" * 100), 1009),
    ("RSV bit", frame(2, b"\xc0\x00", rsv=0x40), 1002),
    ("continuation without a start", frame(0, b"\xc0\x00"), 1002),
    ("unknown opcode", frame(3, b"\xc0\x00"), 1002),
    ("fragmented ping", frame(9, b"x", fin=False), 1002),
]


@pytest.mark.parametrize("name,frames,code", FRAME_ATTACKS, ids=[a[0] for a in FRAME_ATTACKS])
def test_attack_frames(moat_factory, live_brokers, pki, name, frames, code):
    m = moat_factory(live_brokers, ws_cfg(max_frame=256))
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.send(frames)
    assert w.read_close() == code, name
    assert w.closed()
    assert wait_for(lambda: m.rejects("ws_protocol") == 1, 3), m.info()


def test_attack_frame_before_connect(moat_factory, live_brokers, pki):
    """A frame error before the CONNECT: nothing reaches a broker."""
    m = moat_factory(live_brokers, ws_cfg())
    marks = [b.mark() for b in live_brokers]
    w = ws_open(pki, m.port)
    w.send(frame(1, connect_packet("dev-good")))  # a text frame
    assert w.read_close() == 1003 and w.closed()
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good"), mask=False))
    assert w.read_close() == 1002 and w.closed()
    time.sleep(0.3)
    assert devices_seen(live_brokers, marks) == []
    assert m.rejects("ws_protocol") == 2


def test_frame_header_split_byte_by_byte(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    w = ws_open(pki, m.port)
    for b in frame(2, connect_packet("dev-good")):
        w.send(bytes([b]))
        time.sleep(0.002)
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    # a 16-bit length form, header split too
    sub = b"\x82\x06\x00\x05\x00\x01m\x00"  # SUBSCRIBE id 5, "m" QoS 0
    f = frame(2, sub + b"\xc0\x00" * 70)  # + 70 PINGREQs: 147 bytes
    for i in range(0, len(f), 3):
        w.send(f[i:i + 3])
    got = b""
    while len(got) < 5 + 70 * 2:
        p = w.read_mqtt()
        assert isinstance(p, bytes), p
        got += p
    assert got == b"\x90\x03\x00\x05\x00" + b"\xd0\x00" * 70


def test_mqtt_split_across_frames_and_several_in_one(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    w = ws_open(pki, m.port)
    c = connect_packet("dev-good")
    # the CONNECT in three fragments, a ping and a pong between them
    w.send(frame(2, c[:3], fin=False) + frame(9, b"are you there") +
           frame(0, c[3:10], fin=False) + frame(10, b"") + frame(0, c[10:]))
    f = w.read_frame()
    assert f == (True, 10, b"are you there"), f  # the pong, same payload
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    # a SUBSCRIBE, a PUBLISH split over two frames and a PINGREQ in one frame
    pub = b"\x30\x08\x00\x01m" + b"hello"
    w.send(frame(2, b"\x82\x06\x00\x07\x00\x01m\x00" + pub[:4]) + frame(2, pub[4:] + b"\xc0\x00"))
    got = b""
    while len(got) < 5 + len(pub) + 2:
        p = w.read_mqtt()
        assert isinstance(p, bytes), (p, got)
        got += p
    assert got[:5] == b"\x90\x03\x00\x07\x00"
    assert pub in got and b"\xd0\x00" in got
    # an empty binary frame is nothing
    w.send(frame(2, b"") + frame(2, b"\xc0\x00"))
    assert w.read_mqtt() == b"\xd0\x00"


def test_close_handshake_from_the_client(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.send(frame(2, b"\xe0\x00") + frame(8, struct.pack(">H", 1000) + b"bye"))
    assert w.read_close() == 1000
    assert w.closed()
    # a close without a status is answered 1000
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.send(frame(8, b""))
    assert w.read_close() == 1000 and w.closed()
    # before any CONNECT, in the same write as the request: answered too
    w = ws_open(pki, m.port, request() + frame(8, struct.pack(">H", 1001)))
    assert w.read_close() == 1001 and w.closed()
    assert m.rejects("ws_protocol") == 0


def test_broker_frames_are_binary_and_batched(moat_factory, live_brokers, pki):
    """Frames to the client are binary and unmasked, one per read from the
    broker, not one per MQTT packet: 200 QoS 0 messages published in one
    write come back in far fewer frames than packets."""
    m = moat_factory(live_brokers, ws_cfg())
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    w.send(frame(2, b"\x82\x06\x00\x01\x00\x01b\x00"))
    assert w.read_mqtt() == b"\x90\x03\x00\x01\x00"
    pub = b"\x30\x0a\x00\x01b" + b"message"
    w.send(frame(2, pub * 200))
    got, frames = b"", 0
    while len(got) < len(pub) * 200:
        f = w.read_frame()
        assert f is not None and f[0] and f[1] == 2, f
        got += f[2]
        frames += 1
    assert got == pub * 200
    assert frames < 200, frames


def test_attack_connect_refused_inside_the_websocket(moat_factory, live_brokers, pki):
    """A CONNECT that fails a check gets its CONNACK in a binary frame, then
    close 1008; the broker never sees it."""
    m = moat_factory(live_brokers, ws_cfg())
    marks = [b.mark() for b in live_brokers]
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-other")))  # not dev-good's identity
    assert w.read_mqtt() == b"\x20\x02\x00\x02"
    assert w.read_close() == 1008 and w.closed()
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-other", version=5)))
    assert w.read_mqtt()[:4] == b"\x20\x03\x00\x85"
    assert w.read_close() == 1008
    time.sleep(0.3)
    assert devices_seen(live_brokers, marks) == []
    assert m.rejects("client_id_mismatch") == 2


def test_attack_revoked_certificate_never_upgrades(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    try:  # TLS 1.3: the alert comes after the client's Finished
        st, _, _, _ = ws_connect(pki, m.port, cert="dev-revoked")
    except (ssl.SSLError, OSError):
        st = None
    assert st is None
    assert wait_for(lambda: m.rejects("cert_revoked") == 1, 3), m.info()
    assert "ws_upgrade" not in m.log()


def test_drain_sends_disconnect_then_close_1001(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, ws_cfg())
    w5 = ws_open(pki, m.port)
    w5.send(frame(2, connect_packet("dev-good", version=5)))
    ack = w5.read_mqtt()
    assert ack[0] == 0x20 and ack[3] == 0, ack
    assert m.ctl("drain").startswith("ok")
    d = w5.read_mqtt()
    assert d[0] == 0xE0 and d[2] == 0x8B, d
    assert w5.read_close() == 1001 and w5.closed()


def test_show_conns_and_metrics_say_the_transport(moat_factory, live_brokers, pki):
    mport = free_port()

    def mutate(c):
        ws_cfg()(c)
        tcp = json.loads(json.dumps(c["listeners"][0]))
        del tcp["websocket"]
        tcp["name"] = "mqtts"
        tcp["bind"] = f"127.0.0.1:{free_port()}"
        c["listeners"][0]["name"] = "wss"
        c["listeners"].append(tcp)
        c["stats"]["metrics"] = f"127.0.0.1:{mport}"
    m = moat_factory(live_brokers, mutate)
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    rows = [l.split() for l in m.ctl("show conns").splitlines()
            if l and not l.startswith("#")]
    assert len(rows) == 1 and rows[0][11] == "ws" and rows[0][5] == "splice", rows
    assert "transport" in m.ctl("show conns").splitlines()[0]
    j = json.loads(m.ctl("show stat json"))
    assert {l["name"]: l["transport"] for l in j["listeners"]} == {"wss": "ws", "mqtts": "tcp"}
    csv = [l.split(",") for l in m.ctl("show stat").splitlines()]
    assert csv[0][-1] == "transport"
    assert {r[1]: r[11] for r in csv[1:] if r[0] == "listener"} == {"wss": "ws", "mqtts": "tcp"}
    _, body = scrape(mport)
    assert value(body, "moat_listener_connections_active", listener="wss", transport="ws") == 1
    assert value(body, "moat_listener_connections_total", listener="mqtts", transport="tcp") == 0
    assert "transport=ws" in m.log()
    w.s.close()


def test_check_warns_without_origins(tmp_path, pki):
    cfg = {"listeners": [{"name": "wss", "bind": "127.0.0.1:1", "upstream": "u",
                          "tls": {"cert": os.path.join(pki, "server.crt"),
                                  "key": os.path.join(pki, "server.key"),
                                  "client_ca": os.path.join(pki, "ca.crt")},
                          "websocket": {"paths": ["/mqtt"]}}],
           "upstreams": [{"name": "u", "servers": [{"name": "b", "address": "127.0.0.1:1"}]}]}
    p = tmp_path / "moat.yaml"
    p.write_text(json.dumps(cfg))
    r = subprocess.run([MOAT, "-c", str(p), "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"{p}:1:" in r.stderr and "warning: listeners[0].websocket: no 'origins'" in r.stderr
    cfg["listeners"][0]["websocket"]["origins"] = ["https://dash.example.com"]
    p.write_text(json.dumps(cfg))
    r = subprocess.run([MOAT, "-c", str(p), "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr
    cfg["listeners"][0]["websocket"]["plain"] = True
    p.write_text(json.dumps(cfg))
    r = subprocess.run([MOAT, "-c", str(p), "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "remove 'tls'" in r.stderr


# ---- tokens from the query string and the cookie --------------------------

def test_token_in_query_and_cookie(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("password", "query", "cookie")))
    t = tok(keys, "dev-w4")
    for req in (request(path=f"/mqtt?x=1&access_token={t}"),
                request(extra=[f"Cookie: theme=dark; access_token={t}"])):
        for v in (4, 5):
            w = ws_open(pki, m.port, req, cert=None)
            w.send(frame(2, connect_packet("dev-w4", version=v)))
            ack = w.read_mqtt()
            assert ack[0] == 0x20 and ack[3] == 0, (ack, m.log()[-2000:])
            w.s.close()
    assert m.kv("show info")["tokens_ok"] == "4"
    assert t not in m.log()


def test_attack_query_token_for_a_wrong_identity(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("query",)))
    marks = [b.mark() for b in live_brokers]
    w = ws_open(pki, m.port, request(path=f"/mqtt?access_token={tok(keys, 'dev-w5')}"),
                cert=None)
    w.send(frame(2, connect_packet("dev-victim")))
    assert w.read_mqtt() == b"\x20\x02\x00\x02"
    assert w.read_close() == 1008
    # a token of another issuer's key, an expired one: refused as in the password
    other = jwt_tool.genkey(str(os.path.join(m.dir, "other.pem")), "P-256")
    now = int(time.time())
    forged = jwt_tool.token("ES256", other, {"iss": ISS, "aud": AUD, "sub": "dev-w5",
                                             "exp": now + 600}, {"kid": "k-ec"})
    expired = tok(keys, "dev-w5", exp=-60)
    for t, cause in ((forged, "token_invalid"), (expired, "token_expired")):
        w = ws_open(pki, m.port, request(path=f"/mqtt?access_token={t}"), cert=None)
        w.send(frame(2, connect_packet("dev-w5")))
        assert w.read_mqtt() == b"\x20\x02\x00\x04", cause
        assert m.rejects(cause) == 1
    # the same token given twice: which one would be checked? neither
    t = tok(keys, "dev-w5")
    st, _, _, _ = ws_connect(pki, m.port, request(path=f"/mqtt?access_token={t}&access_token={t}"),
                             cert=None)
    assert st == 400
    time.sleep(0.3)
    assert devices_seen(live_brokers, marks) == []
    assert m.rejects("client_id_mismatch") == 1


def test_attack_query_token_where_only_the_password_counts(moat_factory, live_brokers, pki,
                                                          keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("password",)))
    t = tok(keys, "dev-w6")
    w = ws_open(pki, m.port, request(path=f"/mqtt?access_token={t}",
                                     extra=[f"Cookie: access_token={t}"]), cert=None)
    w.send(frame(2, connect_packet("dev-w6")))
    assert w.read_mqtt() == b"\x20\x02\x00\x04"
    assert m.rejects("token_missing") == 1


def test_query_token_never_reaches_the_broker(moat_factory, live_brokers, pki, keys):
    """A receiver in the broker's place reads what moat sends: the PROXY v2
    header names the token's identity, the CONNECT has no password and no
    trace of the token, whether it came in the query or the password."""
    from conftest import Receiver
    for where in ("query", "password"):
        rcv = Receiver(linger=0.5)

        def mutate(c):
            token_ws_cfg(keys, frm=("password", "query"))(c)
            up = c["upstreams"][0]
            up["send_proxy"] = "v2"
            up["health"] = {"type": "none"}
            up["servers"] = [{"name": "receiver", "address": f"127.0.0.1:{rcv.port}"}]
        m = moat_factory(live_brokers, mutate)
        t = tok(keys, "dev-w7")
        if where == "query":
            w = ws_open(pki, m.port, request(path=f"/mqtt?access_token={t}"), cert=None)
            w.send(frame(2, connect_packet("dev-w7", username="u")))
        else:
            w = ws_open(pki, m.port, cert=None)
            w.send(frame(2, connect_packet("dev-w7", username="u", password=t)))
        d = rcv.join()
        w.s.close()
        hl = 16 + struct.unpack(">H", d[14:16])[0]
        assert b"dev-w7" in d[:hl], d
        connect = d[hl:]
        assert connect[:1] == b"\x10" and b"eyJ" not in connect and t.encode() not in d
        assert connect[9] & 0x40 == 0, hex(connect[9])
        assert t not in m.log()


def test_token_running_out_closes_the_websocket(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("query",)))
    w5 = ws_open(pki, m.port, request(path=f"/mqtt?access_token={tok(keys, 'dev-w8', exp=2)}"),
                 cert=None)
    w5.send(frame(2, connect_packet("dev-w8", version=5)))
    assert w5.read_mqtt()[3] == 0
    w3 = ws_open(pki, m.port, request(path=f"/mqtt?access_token={tok(keys, 'dev-w9', exp=2)}"),
                 cert=None)
    w3.send(frame(2, connect_packet("dev-w9")))
    assert w3.read_mqtt() == b"\x20\x02\x00\x00"
    d = w5.read_mqtt(timeout=10)
    assert d[0] == 0xE0 and d[2] == 0x87, d
    assert w5.read_close() == 1008 and w5.closed()
    assert w3.closed(timeout=10)
    assert wait_for(lambda: m.rejects("token_expired_live") == 2, 3)


# ---- the same pipeline as a TLS listener ----------------------------------

def test_crl_reload_closes_a_live_websocket_session(moat_factory, live_brokers, pki, tmp_path):
    from test_reload import revoke
    import shutil
    own = str(tmp_path / "pki")
    shutil.copytree(pki, own)

    def mutate(c):
        ws_cfg()(c)
        c["listeners"][0]["tls"]["crl"] = os.path.join(own, "crl.pem")
    m = moat_factory(live_brokers, mutate)
    w = ws_open(pki, m.port, cert="dev-good2")
    w.send(frame(2, connect_packet("dev-good2", version=5)))
    assert w.read_mqtt()[3] == 0
    other = ws_open(pki, m.port)
    other.send(frame(2, connect_packet("dev-good")))
    assert other.read_mqtt() == b"\x20\x02\x00\x00"
    revoke(own, "dev-good2")
    assert m.ctl("reload").strip() == "ok"
    d = w.read_mqtt(timeout=8)
    assert d[0] == 0xE0 and d[2] == 0x87, d
    assert w.read_close() == 1008 and w.closed()
    other.send(frame(2, b"\xc0\x00"))
    assert other.read_mqtt() == b"\xd0\x00"
    # and its next upgrade never happens
    try:
        st = ws_connect(pki, m.port, cert="dev-good2")[0]
    except (ssl.SSLError, OSError):
        st = None
    assert st is None


def test_per_source_limit_and_reload_keep_the_websocket_listener(moat_factory, live_brokers,
                                                                 pki):
    def mutate(c):
        ws_cfg()(c)
        c["limits"]["per_source"] = {"max_connections": 2}
    m = moat_factory(live_brokers, mutate)
    a, b = ws_open(pki, m.port), ws_open(pki, m.port)
    raw = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    assert WS(raw).closed()  # the third from 127.0.0.1: closed before TLS
    assert wait_for(lambda: m.rejects("per_source_limit") == 1, 3)
    a.s.close()
    b.s.close()
    # a reload that changes the paths: the new ones from then on
    m.cfg["listeners"][0]["websocket"]["paths"] = ["/v2/mqtt"]
    with open(m.conf, "w") as f:
        json.dump(m.cfg, f)
    assert m.ctl("reload").strip() == "ok"
    assert wait_for(lambda: ws_connect(pki, m.port)[0] == 404, 3)
    w = ws_open(pki, m.port, request(path="/v2/mqtt"))
    w.send(frame(2, connect_packet("dev-good")))
    assert w.read_mqtt() == b"\x20\x02\x00\x00"


def test_backpressure_on_a_websocket_subscriber(moat_factory, live_brokers, pki):
    """A subscriber that stops reading: moat stops reading the broker, its
    queue for the client stays bounded (show conns queued_client)."""
    m = moat_factory(live_brokers, ws_cfg())
    sub = ws_open(pki, m.port, cert="dev-good2")
    sub.send(frame(2, connect_packet("dev-good2")))
    assert sub.read_mqtt() == b"\x20\x02\x00\x00"
    sub.send(frame(2, b"\x82\x07\x00\x01\x00\x02bp\x00"))
    assert sub.read_mqtt() == b"\x90\x03\x00\x01\x00"
    pub = ws_open(pki, m.port)
    pub.send(frame(2, connect_packet("dev-good")))
    assert pub.read_mqtt() == b"\x20\x02\x00\x00"
    msg = b"\x30" + b"\x80\x80\x01" + b"\x00\x02bp" + b"x" * 16380  # 16 KiB packet body
    pub.s.settimeout(0.5)
    sent = 0
    try:
        for _ in range(1500):  # 24 MiB, or until moat stops reading us
            pub.s.sendall(frame(2, msg))
            sent += 1
    except (socket.timeout, ssl.SSLWantWriteError):
        pass

    def queued():
        for line in m.ctl("show conns").splitlines()[1:]:
            f = line.split()
            if len(f) > 9 and f[3] == "dev-good2":
                return int(f[9])
        return -1
    # what moat holds for the stuck client stays near WQ_HIGH (256 KiB),
    # however much was published behind it (the broker queues the rest)
    q = queued()
    assert 0 <= q <= 512 * 1024, (q, sent)


def test_attack_second_connect_inside_the_websocket(moat_factory, live_brokers, pki):
    """After admission only client packets pass: a second CONNECT in a frame
    ends the session (MQTT 5 DISCONNECT 0x82, then close 1002) and never
    reaches the broker."""
    m = moat_factory(live_brokers, ws_cfg())
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good", version=5)))
    assert w.read_mqtt()[3] == 0
    w.send(frame(2, b"\xc0\x00" + connect_packet("dev-good2", version=5)))
    got = w.read_mqtt()
    if got == b"\xd0\x00":  # the PINGREQ before it went through
        got = w.read_mqtt()
    assert got[0] == 0xE0 and got[2] == 0x82, got
    assert w.read_close() == 1002 and w.closed()
    assert m.rejects("protocol_violation") == 1


# ---- MQTT.js (Debian's node-mqtt) ------------------------------------------

NODE_CLIENT = os.path.join(os.path.dirname(__file__), "clients", "mqttjs_roundtrip.js")


def mqttjs(url, client_id, version, pki, password=None, cert=None):
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs:/usr/lib/nodejs")
    args = ["node", NODE_CLIENT, url, client_id, str(version),
            os.path.join(pki, "ca.crt") if pki else "-", password or "-"]
    if cert:
        args += [os.path.join(pki, f"{cert}.crt"), os.path.join(pki, f"{cert}.key")]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30, env=env)
    assert r.stdout.strip(), r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def have_mqttjs():
    return os.path.isdir("/usr/share/nodejs/mqtt") and \
        subprocess.run(["which", "node"], capture_output=True).returncode == 0


@pytest.mark.skipif(not have_mqttjs(), reason="node and node-mqtt (scripts/install-deps.sh)")
@pytest.mark.parametrize("version", [4, 5])
def test_mqttjs_wss_certificate_and_token(moat_factory, live_brokers, pki, keys, version):
    m = moat_factory(live_brokers, token_ws_cfg(keys, frm=("password", "query")))
    # the address moat listens on: Debian's Node 18 tries only the first
    # address of "localhost", which Debian's stock /etc/hosts makes ::1
    # (the server certificate names 127.0.0.1 too)
    base = f"wss://127.0.0.1:{m.port}/mqtt"
    r = mqttjs(base, "dev-good", version, pki, cert="dev-good")
    assert r["ok"] and r["got"] == "hello from dev-good", (r, m.log()[-6000:])
    r = mqttjs(base, "dev-j1", version, pki, password=tok(keys, "dev-j1"))
    assert r["ok"] and r["got"] == "hello from dev-j1", (r, m.log()[-3000:])
    r = mqttjs(f"{base}?access_token={tok(keys, 'dev-j2')}", "dev-j2", version, pki)
    assert r["ok"] and r["got"] == "hello from dev-j2", (r, m.log()[-3000:])
    # a token of another device: refused with its CONNACK code
    r = mqttjs(f"{base}?access_token={tok(keys, 'dev-j3')}", "dev-j4", version, pki)
    assert not r["ok"], r
    assert m.rejects("client_id_mismatch") == 1


# ---- a real browser --------------------------------------------------------

def chromium():
    for name in ("chromium", "chromium-browser"):
        r = subprocess.run(["which", name], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.strip()
    return None


@pytest.mark.skipif(not chromium(), reason="chromium (scripts/install-deps.sh)")
def test_headless_chromium_over_wss_with_a_token(moat_factory, live_brokers, pki, keys,
                                                 tmp_path):
    """Headless Chromium loads a page from the test's own HTTP server; the
    page's WebSocket (wss://, token in the query, Origin of that server)
    goes through moat to mosquitto and back; the page reports to the
    server. A page from another Origin is refused (403)."""
    import http.server
    import threading
    import urllib.parse
    page = open(os.path.join(os.path.dirname(__file__), "clients", "browser_page.html")).read()
    reports = queue.Queue()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            if u.path == "/report":
                reports.put(urllib.parse.parse_qs(u.query))
                body = b"ok"
            else:
                body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if u.path != "/report" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{srv.server_port}"
    def mutate(c):
        token_ws_cfg(keys, frm=("query",), origins=[origin])(c)
        # no CertificateRequest: a headless browser has no way to answer one
        c["listeners"][0]["tls"]["verify_client"] = "none"
    m = moat_factory(live_brokers, mutate)

    def browse(page_origin_host, cid):
        t = tok(keys, cid)
        ws = f"wss://localhost:{m.port}/mqtt?access_token={t}"
        url = (f"http://{page_origin_host}:{srv.server_port}/page.html?" +
               urllib.parse.urlencode({"ws": ws, "cid": cid,
                                       "report": f"http://{page_origin_host}:{srv.server_port}/report"}))
        prof = tmp_path / f"profile-{cid}"
        p = subprocess.Popen([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
                              "--ignore-certificate-errors", "--no-first-run",
                              f"--user-data-dir={prof}", url],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return reports.get(timeout=40)
        finally:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)

    try:
        r = browse("127.0.0.1", "dev-b1")
        assert r["ok"] == ["1"] and r["what"] == ["got hello from dev-b1"], (r, m.log()[-3000:])
        assert m.kv("show info")["tokens_ok"] == "1"
        # the same page from another origin (localhost is not 127.0.0.1)
        r = browse("localhost", "dev-b2")
        assert r["ok"] == ["0"], r
        assert m.rejects("ws_origin") == 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_plain_ws_behind_a_proxy_protocol_terminator(moat_factory, live_brokers, pki, keys):
    """ws:// behind a TLS terminator that sends PROXY v1: the header, the
    upgrade request and the first frame in one write; moat sees the
    client's address from the header."""
    def mutate(c):
        token_ws_cfg(keys, plain=True)(c)
        c["listeners"][0]["proxy_protocol"] = True
    m = moat_factory(live_brokers, mutate)
    t = tok(keys, "dev-w10")
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    s.sendall(b"PROXY TCP4 192.0.2.9 127.0.0.1 40000 8084\r\n" + request() +
              frame(2, connect_packet("dev-w10", username="u", password=t)))
    st, _, rest = read_http(s)
    assert st == 101, m.log()[-2000:]
    w = WS(s, rest)
    assert w.read_mqtt() == b"\x20\x02\x00\x00"
    rows = [l for l in m.ctl("show conns").splitlines() if "dev-w10" in l]
    assert rows and "192.0.2.9:40000" in rows[0] and " ws " in rows[0], rows
    s.close()


def test_ocsp_require_over_websocket(moat_factory, live_brokers, pki):
    """OCSP of the client's certificate during the handshake, as on TLS:
    good goes through the upgrade to the broker, unknown gets its CONNACK
    (Not authorized) inside the WebSocket, revoked never upgrades."""
    from test_ocsp import Responder
    r = Responder(pki)
    r.start()
    try:
        def mutate(c):
            ws_cfg()(c)
            tls = c["listeners"][0]["tls"]
            tls.pop("crl")
            tls["ocsp"] = {"mode": "require", "timeout": "1s"}
        m = moat_factory(live_brokers, mutate)
        w = ws_open(pki, m.port, cert="ocsp-good")
        w.send(frame(2, connect_packet("ocsp-good")))
        assert w.read_mqtt() == b"\x20\x02\x00\x00", m.log()[-2000:]
        w = ws_open(pki, m.port, cert="ocsp-unknown")
        w.send(frame(2, connect_packet("ocsp-unknown")))
        assert w.read_mqtt() == b"\x20\x02\x00\x05"
        assert w.read_close() == 1008
        assert m.rejects("ocsp_unknown") == 1
        try:
            st = ws_connect(pki, m.port, cert="ocsp-revoked")[0]
        except (ssl.SSLError, OSError):
            st = None
        assert st is None
        assert wait_for(lambda: m.rejects("cert_revoked") == 1, 5)
    finally:
        r.stop()
