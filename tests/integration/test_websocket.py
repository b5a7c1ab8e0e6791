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
