"""Topic rules at the edge (mqtt.acl): who may publish and subscribe to
what, through moat to real mosquitto brokers, with real clients (paho
3.1.1 and 5, mosquitto_pub/sub) and raw TLS clients for exact answers.
Every denial has its answer (PUBACK/PUBREC 0x87, SUBACK 0x87/0x80, CONNACK
0x05/0x87, DISCONNECT 0x87), its counter and its log line, and a denied
message never reaches a subscriber on the broker. Attacks are named
test_attack_*: placeholder injection, split topics, mixed SUBSCRIBEs,
oversized topics, QoS 2 flows moat must finish itself."""
import os
import socket
import struct
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import MOAT, _str, _varint, connect_packet, free_port, read_connack, \
    recv_exact, tls_connect, wait_for

RULES = [
    {"allow": "publish", "topics": ["devices/%i/up/#"]},
    {"allow": "subscribe", "topics": ["devices/%i/down/#", "broadcast/#"]},
    {"deny": "all", "topics": ["#"]},
]


def acl_cfg(rules=RULES, **kw):
    def mutate(c):
        a = {"rules": rules}
        a.update(kw)
        c["listeners"][0]["mqtt"]["acl"] = a
    return mutate


@pytest.fixture
def amoat(moat_factory, live_brokers):
    return moat_factory(live_brokers, acl_cfg())


class Watcher:
    """Subscribes to everything on every broker, straight (not through
    moat): what reached a broker is seen here."""

    def __init__(self, brokers, topic="#"):
        self.got = []
        self.lock = threading.Lock()
        self.clients = []
        for i, b in enumerate(brokers):
            c = mqtt.Client(client_id=f"watch-{i}-{time.monotonic_ns()}",
                            protocol=mqtt.MQTTv311)
            c.on_message = self._on
            c.connect("127.0.0.1", b.port)
            c.subscribe(topic, 1)
            c.loop_start()
            self.clients.append(c)
        time.sleep(0.3)

    def _on(self, c, u, m):
        with self.lock:
            self.got.append((m.topic, m.payload))

    def topics(self):
        with self.lock:
            return [t for t, _ in self.got]

    def publish(self, topic, payload=b"x", qos=1):
        for c in self.clients:
            c.publish(topic, payload, qos)

    def stop(self):
        for c in self.clients:
            c.loop_stop()
            c.disconnect()


@pytest.fixture
def watcher(live_brokers):
    w = Watcher(live_brokers)
    yield w
    w.stop()


# ---- raw MQTT over TLS ----------------------------------------------------

def publish_packet(topic, payload=b"hi", qos=0, pid=1, version=4):
    t = topic.encode() if isinstance(topic, str) else topic
    body = struct.pack(">H", len(t)) + t
    if qos:
        body += struct.pack(">H", pid)
    if version == 5:
        body += b"\x00"
    body += payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


def subscribe_packet(pid, filters, version=4, qos=1):
    body = struct.pack(">H", pid)
    if version == 5:
        body += b"\x00"
    for f in filters:
        body += _str(f) + bytes([qos])
    return b"\x82" + _varint(len(body)) + body


def pubrel_packet(pid):
    return b"\x62\x02" + struct.pack(">H", pid)


def read_packet(s, timeout=5):
    """One packet: (type_flags, body) or None when the stream ended."""
    h = recv_exact(s, 1, timeout)
    if not h:
        return None
    n, shift = 0, 0
    while True:
        b = recv_exact(s, 1, timeout)
        if not b:
            return None
        n |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    body = recv_exact(s, n, timeout)
    return (h[0], body)


def session(pki, port, cid="dev-good", version=4, cert="dev-good", username=None,
            will=None):
    s = tls_connect(pki, port, cert=cert)
    if will:
        s.sendall(connect_will(cid, version, *will))
    else:
        s.sendall(connect_packet(cid, version=version, username=username))
    ack = read_connack(s)
    return s, ack


def connect_will(cid, version, topic, qos=0):
    flags = 0x02 | 0x04 | qos << 3
    body = _str("MQTT") + bytes([version, flags]) + struct.pack(">H", 60)
    if version == 5:
        body += b"\x00"
    body += _str(cid)
    if version == 5:
        body += b"\x00"
    body += _str(topic) + _str(b"bye")
    return b"\x10" + _varint(len(body)) + body


def ok_connack(ack, version):
    return len(ack) >= 4 and ack[0] == 0x20 and ack[3] == 0


# ---- PUBLISH ----------------------------------------------------------------

@pytest.mark.parametrize("version", [4, 5])
def test_publish_qos1_denied_answer_and_never_on_broker(amoat, pki, watcher, version):
    s, ack = session(pki, amoat.port, version=version)
    assert ok_connack(ack, version), ack
    s.sendall(publish_packet("devices/dev-good2/up/t", b"stolen", qos=1, pid=7,
                             version=version))
    s.sendall(publish_packet("devices/dev-good/up/t", b"mine", qos=1, pid=8,
                             version=version))
    p1 = read_packet(s)
    p2 = read_packet(s)
    got = {p[1][:2]: p for p in (p1, p2)}
    denied = got[b"\x00\x07"]
    allowed = got[b"\x00\x08"]
    assert denied[0] == 0x40
    if version == 5:
        assert denied[1] == b"\x00\x07\x87"
    else:
        assert denied[1] == b"\x00\x07"
    assert allowed[0] == 0x40 and allowed[1][:2] == b"\x00\x08"
    assert wait_for(lambda: "devices/dev-good/up/t" in watcher.topics(), 5)
    time.sleep(0.3)
    assert "devices/dev-good2/up/t" not in watcher.topics()
    s.close()
    assert amoat.rejects("acl_publish") == 1
    assert wait_for(lambda: "acl_deny" in amoat.log(), 5)
    line = [l for l in amoat.log().splitlines() if "acl_deny" in l][0]
    assert "dev-good" in line and "devices/dev-good2/up/t" in line


def test_publish_qos0_denied_dropped_session_goes_on(amoat, pki, watcher):
    s, ack = session(pki, amoat.port, version=5)
    s.sendall(publish_packet("secret/x", b"no", qos=0, version=5))
    s.sendall(publish_packet("devices/dev-good/up/ok", b"yes", qos=1, pid=3, version=5))
    p = read_packet(s)
    assert p == (0x40, b"\x00\x03") or p[1][:2] == b"\x00\x03", p
    assert wait_for(lambda: "devices/dev-good/up/ok" in watcher.topics(), 5)
    assert "secret/x" not in watcher.topics()
    s.close()


@pytest.mark.parametrize("version", [4, 5])
def test_attack_qos2_denied_flow_finished_by_moat(amoat, pki, watcher, version):
    """QoS 2 to a denied topic: PUBREC (0x87 in MQTT 5) from moat, and the
    PUBREL that follows gets PUBCOMP from moat: the broker never sees the
    packet id, the message never arrives."""
    s, ack = session(pki, amoat.port, version=version)
    s.sendall(publish_packet("devices/dev-good2/up/q2", b"no", qos=2, pid=21,
                             version=version))
    p = read_packet(s)
    assert p[0] == 0x50, p
    assert p[1] == (b"\x00\x15\x87" if version == 5 else b"\x00\x15")
    s.sendall(pubrel_packet(21))
    p = read_packet(s)
    assert p == (0x70, b"\x00\x15"), p
    # an allowed QoS 2 flow goes through the broker as before
    s.sendall(publish_packet("devices/dev-good/up/q2", b"yes", qos=2, pid=22,
                             version=version))
    p = read_packet(s)
    assert p[0] == 0x50 and p[1][:2] == b"\x00\x16", p
    s.sendall(pubrel_packet(22))
    p = read_packet(s)
    assert p[0] == 0x70 and p[1][:2] == b"\x00\x16", p
    # a denied QoS 2 id the client reuses at once (MQTT 5 lets it: PUBREC
    # 0x87 ended that flow) for an allowed message: its PUBREL is the
    # broker's again, and the message arrives
    s.sendall(publish_packet("devices/dev-good2/up/q2", b"no", qos=2, pid=23,
                             version=version))
    assert read_packet(s)[0] == 0x50
    if version == 4:
        s.sendall(pubrel_packet(23))
        assert read_packet(s) == (0x70, b"\x00\x17")
    s.sendall(publish_packet("devices/dev-good/up/reused", b"yes", qos=2, pid=23,
                             version=version))
    p = read_packet(s)
    assert p[0] == 0x50 and p[1][:2] == b"\x00\x17" and p[1][2:3] in (b"", b"\x00"), p
    s.sendall(pubrel_packet(23))
    p = read_packet(s)
    assert p[0] == 0x70 and p[1][:2] == b"\x00\x17", p
    assert wait_for(lambda: {"devices/dev-good/up/q2", "devices/dev-good/up/reused"}
                    <= set(watcher.topics()), 5)
    assert "devices/dev-good2/up/q2" not in watcher.topics()
    s.close()


def test_deny_action_disconnect(moat_factory, live_brokers, pki, watcher):
    m = moat_factory(live_brokers, acl_cfg(deny_action="disconnect"))
    s, ack = session(pki, m.port, version=4)
    s.sendall(publish_packet("secret/a", qos=1, pid=1))
    assert read_packet(s) is None  # 3.1.1: closed
    s, ack = session(pki, m.port, version=5)
    s.sendall(publish_packet("secret/a", qos=1, pid=1, version=5))
    p = read_packet(s)
    assert p and p[0] == 0xE0 and p[1][0] == 0x87, p
    assert read_packet(s) is None
    s.close()
    time.sleep(0.3)
    assert "secret/a" not in watcher.topics()
    assert m.rejects("acl_publish") == 2


def test_paho_v311_denied_publish_is_acknowledged(amoat, pki, watcher):
    c = mqtt.Client(client_id="dev-good", protocol=mqtt.MQTTv311)
    c.tls_set(ca_certs=os.path.join(pki, "ca.crt"), certfile=os.path.join(pki, "dev-good.crt"),
              keyfile=os.path.join(pki, "dev-good.key"))
    c.connect("localhost", amoat.port)
    c.loop_start()
    try:
        i1 = c.publish("other/topic", b"x", qos=1)
        i2 = c.publish("devices/dev-good/up/p", b"y", qos=1)
        i1.wait_for_publish(5)
        i2.wait_for_publish(5)
        assert i1.is_published() and i2.is_published()
    finally:
        c.loop_stop()
        c.disconnect()
    assert wait_for(lambda: "devices/dev-good/up/p" in watcher.topics(), 5)
    assert "other/topic" not in watcher.topics()


def test_mosquitto_pub_denied_and_allowed(amoat, pki, watcher):
    base = ["mosquitto_pub", "-h", "localhost", "-p", str(amoat.port), "--cafile",
            os.path.join(pki, "ca.crt"), "--cert", os.path.join(pki, "dev-good.crt"),
            "--key", os.path.join(pki, "dev-good.key"), "-i", "dev-good", "-q", "1",
            "-m", "m"]
    r = subprocess.run(base + ["-V", "mqttv5", "-t", "nope/x"], capture_output=True,
                       text=True, timeout=15)
    assert r.returncode != 0 or "135" in r.stderr + r.stdout or "not authorized" in \
        (r.stderr + r.stdout).lower()
    r = subprocess.run(base + ["-V", "mqttv5", "-t", "devices/dev-good/up/m"],
                       capture_output=True, text=True, timeout=15)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: "devices/dev-good/up/m" in watcher.topics(), 5)
    assert "nope/x" not in watcher.topics()


# ---- SUBSCRIBE --------------------------------------------------------------

@pytest.mark.parametrize("version", [4, 5])
def test_attack_subscribe_mixing_allowed_and_denied(amoat, pki, watcher, version):
    """One SUBSCRIBE, allowed and denied filters mixed: the SUBACK lists
    every filter in order, the denied ones 0x87 (5) / 0x80 (3.1.1), and
    only the allowed ones are subscribed on the broker."""
    s, ack = session(pki, amoat.port, version=version)
    s.sendall(subscribe_packet(5, ["devices/dev-good/down/#", "secret/#", "broadcast/b1",
                                   "#", "$share/g/broadcast/b2", "$share/g/secret/x"],
                               version=version))
    p = read_packet(s)
    assert p[0] == 0x90, p
    no = 0x87 if version == 5 else 0x80
    codes = p[1][3:] if version == 5 else p[1][2:]
    assert p[1][:2] == b"\x00\x05"
    assert list(codes) == [1, no, 1, no, 1, no], p
    watcher.publish("secret/x", b"s")
    watcher.publish("broadcast/b1", b"b")
    got = []
    for _ in range(6):
        q = read_packet(s, timeout=2)
        if q is None:
            break
        if q[0] & 0xF0 == 0x30:
            tl = struct.unpack(">H", q[1][:2])[0]
            got.append(q[1][2:2 + tl].decode())
        if "broadcast/b1" in got:
            break
    assert "broadcast/b1" in got
    assert "secret/x" not in got
    s.close()
    assert amoat.rejects("acl_subscribe") == 3


@pytest.mark.parametrize("version", [4, 5])
def test_subscribe_all_denied_answered_by_moat(amoat, pki, version):
    s, ack = session(pki, amoat.port, version=version)
    s.sendall(subscribe_packet(9, ["secret/#", "devices/dev-good2/down/#"], version=version))
    p = read_packet(s)
    no = 0x87 if version == 5 else 0x80
    assert p == (0x90, b"\x00\x09" + (b"\x00" if version == 5 else b"") + bytes([no, no])), p
    # the session goes on
    s.sendall(subscribe_packet(10, ["broadcast/#"], version=version))
    p = read_packet(s)
    assert p[0] == 0x90 and p[1][:2] == b"\x00\x0a" and p[1][-1] == 1, p
    s.close()


def test_mosquitto_sub_denied_filter(amoat, pki):
    r = subprocess.run(["mosquitto_sub", "-h", "localhost", "-p", str(amoat.port), "--cafile",
                        os.path.join(pki, "ca.crt"), "--cert", os.path.join(pki, "dev-good.crt"),
                        "--key", os.path.join(pki, "dev-good.key"), "-i", "dev-good",
                        "-V", "mqttv311", "-t", "secret/#", "-C", "1", "-W", "3"],
                       capture_output=True, text=True, timeout=15)
    assert "All subscription requests were denied" in r.stderr, r.stderr + r.stdout


# ---- CONNECT ----------------------------------------------------------------

@pytest.mark.parametrize("version,code", [(4, 0x05), (5, 0x87)])
def test_will_topic_denied(amoat, pki, live_brokers, version, code):
    s, ack = session(pki, amoat.port, version=version, will=("secret/will",))
    assert ack[0] == 0x20 and ack[3] == code, ack
    assert amoat.rejects("acl_will") == 1
    s, ack = session(pki, amoat.port, version=version, will=("devices/dev-good/up/will",))
    assert ok_connack(ack, version), ack
    s.close()


def injection_cfg(c):
    acl_cfg([{"allow": "all", "topics": ["devices/%c/#"]},
             {"deny": "all", "topics": ["#"]}])(c)
    c["listeners"][0]["mqtt"]["client_id_must_match"] = False


@pytest.mark.parametrize("cid", ["+", "#", "a/b", "dev+", "x#"])
@pytest.mark.parametrize("version,code", [(4, 0x02), (5, 0x85)])
def test_attack_placeholder_injection_client_id(moat_factory, live_brokers, pki, cid, version,
                                                code):
    """A client id of '+' must not turn devices/%c/# into devices/+/#."""
    m = moat_factory(live_brokers, injection_cfg)
    s, ack = session(pki, m.port, cid=cid, version=version)
    assert ack[0] == 0x20 and ack[3] == code, ack
    assert m.rejects("client_id_mismatch") == 1
    s.close()


def test_attack_placeholder_injection_nul(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, injection_cfg)
    s, ack = session(pki, m.port, cid="a\x00b", version=5)
    assert not ok_connack(ack, 5), ack  # never a session
    s.close()


def test_placeholder_username_and_safe_client_id(moat_factory, live_brokers, pki, watcher):
    def mutate(c):
        injection_cfg(c)
        c["listeners"][0]["mqtt"]["acl"]["rules"].insert(
            0, {"allow": "publish", "topics": ["users/%u/#"]})
    m = moat_factory(live_brokers, mutate)
    s, ack = session(pki, m.port, cid="box-1", version=4, username="alice")
    assert ok_connack(ack, 4)
    s.sendall(publish_packet("users/alice/x", qos=1, pid=1))
    s.sendall(publish_packet("devices/box-1/y", qos=1, pid=2))
    s.sendall(publish_packet("devices/box-2/y", qos=1, pid=3))
    for _ in range(3):
        assert read_packet(s)[0] == 0x40
    assert wait_for(lambda: {"users/alice/x", "devices/box-1/y"} <= set(watcher.topics()), 5)
    assert "devices/box-2/y" not in watcher.topics()
    assert m.rejects("acl_publish") == 1
    s.close()
    # a username with a slash may not stand for %u: refused at CONNECT
    s, ack = session(pki, m.port, cid="box-1", version=4, username="alice/../bob")
    assert ack[3] == 0x02, ack
    s.close()


# ---- split, oversized -----------------------------------------------------------

@pytest.mark.parametrize("version", [4, 5])
def test_attack_publish_split_byte_by_byte(amoat, pki, watcher, version):
    """A denied PUBLISH sent one byte per TLS record (and so per read):
    judged whole all the same; then an allowed one, split too, passes."""
    s, ack = session(pki, amoat.port, version=version)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in publish_packet("devices/dev-good2/up/split", b"no", qos=1, pid=4, version=version):
        s.sendall(bytes([b]))
    p = read_packet(s)
    assert p[0] == 0x40 and p[1][:2] == b"\x00\x04", p
    if version == 5:
        assert p[1][2] == 0x87
    for b in publish_packet("devices/dev-good/up/split", b"yes" * 50, qos=1, pid=5,
                            version=version):
        s.sendall(bytes([b]))
    p = read_packet(s)
    assert p[0] == 0x40 and p[1][:2] == b"\x00\x05", p
    # a SUBSCRIBE split the same way
    for b in subscribe_packet(6, ["broadcast/z", "secret/z"], version=version):
        s.sendall(bytes([b]))
    p = read_packet(s)
    assert p[0] == 0x90 and p[1][-2:] == bytes([1, 0x87 if version == 5 else 0x80]), p
    assert wait_for(lambda: "devices/dev-good/up/split" in watcher.topics(), 5)
    assert "devices/dev-good2/up/split" not in watcher.topics()
    s.close()


def test_attack_many_packets_in_one_record(amoat, pki, watcher):
    """Denied and allowed packets back to back in one write: each judged."""
    s, ack = session(pki, amoat.port, version=5)
    blob = b"".join(publish_packet(t, qos=1, pid=i + 1, version=5) for i, t in enumerate(
        ["devices/dev-good/up/a", "x/y", "devices/dev-good/up/b", "devices/dev-good2/up/c"]))
    s.sendall(blob)
    acks = {}
    for _ in range(4):
        p = read_packet(s)
        acks[p[1][:2]] = p[1][2:3]
    assert acks[b"\x00\x02"] == b"\x87" and acks[b"\x00\x04"] == b"\x87"
    assert acks[b"\x00\x01"] in (b"", b"\x00") and acks[b"\x00\x03"] in (b"", b"\x00")
    assert wait_for(lambda: {"devices/dev-good/up/a", "devices/dev-good/up/b"}
                    <= set(watcher.topics()), 5)
    assert "x/y" not in watcher.topics()
    s.close()


def test_attack_oversized_topic(amoat, pki, watcher):
    """A topic longer than moat judges (4 KiB): refused and closed,
    nothing of it reaches the broker."""
    s, ack = session(pki, amoat.port, version=4)
    t = "devices/dev-good/up/" + "a" * 5000
    s.sendall(publish_packet(t, qos=1, pid=1))
    assert read_packet(s) is None
    assert amoat.rejects("packet_too_large") == 1
    time.sleep(0.3)
    assert not [x for x in watcher.topics() if x.startswith("devices/dev-good/up/aaa")]


def test_attack_wildcard_in_publish_topic(amoat, pki, watcher):
    s, ack = session(pki, amoat.port, version=5)
    s.sendall(publish_packet("devices/dev-good/up/+", qos=1, pid=1, version=5))
    p = read_packet(s)
    assert p is None or p[0] == 0xE0
    s.close()


# ---- rules file, reload, show acl, /metrics, --check ---------------------------

def write_rules(path, text):
    with open(path, "w") as f:
        f.write(text)


FILE_RULES = """\
# shared by listeners
- allow: publish
  topics: ["devices/%i/up/#"]
- allow: subscribe
  topics: ["devices/%i/down/#", "broadcast/#"]
- deny: all
  topics: ["#"]
"""


def test_rules_file_show_acl_metrics_and_reload(moat_factory, live_brokers, pki, tmp_path,
                                                watcher):
    from test_metrics import scrape, value
    rules = str(tmp_path / "acl.yaml")
    write_rules(rules, FILE_RULES)
    mport = free_port()

    def mutate(c):
        acl_cfg(rules)(c)
        c["stats"]["metrics"] = f"127.0.0.1:{mport}"
    m = moat_factory(live_brokers, mutate)
    s, ack = session(pki, m.port, version=5)
    s.sendall(publish_packet("devices/dev-good/up/1", qos=1, pid=1, version=5))
    s.sendall(publish_packet("other/1", qos=1, pid=2, version=5))
    read_packet(s)
    read_packet(s)
    s.close()
    out = m.ctl("show acl")
    assert "acl: on" in out and f"rules: {rules}" in out, out
    assert f"rule: 1 allow publish hits=1 at={rules}:2:3" in out, out
    assert "rule: 3 deny all hits=1" in out and "acl_publish: 1" in out, out
    _, body = scrape(mport)
    assert value(body, "moat_rejects_total", listener="mqtts", cause="acl_publish") == 1
    assert value(body, "moat_acl_rule_hits_total", listener="mqtts", rule="1") == 1
    # the file changes: moat reloads it by itself; new sessions follow it
    write_rules(rules, "- allow: all\n  topics: [\"other/#\"]\n- deny: all\n  topics: [\"#\"]\n")
    assert wait_for(lambda: "other/#" in m.ctl("show acl"), 10), m.ctl("show acl")
    s, ack = session(pki, m.port, version=5)
    s.sendall(publish_packet("other/2", qos=1, pid=1, version=5))
    p = read_packet(s)
    assert p[0] == 0x40 and p[1] in (b"\x00\x01", b"\x00\x01\x00"), p
    assert wait_for(lambda: "other/2" in watcher.topics(), 5)
    s.close()
    # a broken file is refused as a whole at reload, the rules stay
    write_rules(rules, "- allow: publsh\n  topics: [\"a/#\"]\n")
    r = m.ctl("reload")
    assert f"{rules}:1:10: acl rule action" in r, r
    assert "other/#" in m.ctl("show acl")


BAD_RULES = [
    ("- allow: publish\n  topics: [\"a/#/b\"]\n", ":2:12: acl rule topic 'a/#/b': '#' must be"),
    ("- allow: publish\n  topics: [\"a/x+\"]\n", ":2:12: acl rule topic 'a/x+': '+' and '#'"),
    ("- allow: publish\n  topics: [\"a/%z\"]\n", ":2:12: acl rule topic 'a/%z': unknown placeholder"),
    ("- allow: publish\n  topics: [\"$share/g/a\"]\n", "without $share/GROUP/"),
    ("- allow: publish\n", ":1:3: acl rule: missing key 'topics'"),
    ("- topics: [\"a\"]\n", ":1:3: acl rule: missing 'allow' or 'deny'"),
    ("- allow: publish\n  deny: all\n  topics: [a]\n", ":2:3: acl rule: write one of allow"),
    ("- allow: publish\n  topic: [a]\n", ":2:3: acl rule: unknown key 'topic'"),
    ("- allow: publish\n  topics: [\"%{\"]\n", "%{ without a claim name"),
    ("[", ":2:1: YAML"),
]


@pytest.mark.parametrize("text,err", BAD_RULES)
def test_check_bad_rules_file_line_col(moat_factory, live_brokers, tmp_path, text, err):
    rules = str(tmp_path / "bad.yaml")
    write_rules(rules, text)
    m = moat_factory(live_brokers, acl_cfg(rules), start=False)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 1
    assert rules + err.split(":", 1)[0] in r.stderr + r.stdout or err in r.stderr + r.stdout, \
        r.stderr + r.stdout
    assert err in r.stderr + r.stdout, r.stderr + r.stdout


def test_check_inline_rules_and_keys(moat_factory, live_brokers):
    m = moat_factory(live_brokers, acl_cfg([{"allow": "pub", "topics": ["a"]}],
                                           no_match="maybe"), start=False)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 1
    assert "acl rule action" in r.stderr and "mqtt.acl.no_match" in r.stderr, r.stderr
    assert m.conf + ":" in r.stderr


def test_no_match_allow(moat_factory, live_brokers, pki, watcher):
    m = moat_factory(live_brokers, acl_cfg([{"deny": "publish", "topics": ["secret/#"]}],
                                           no_match="allow"))
    s, ack = session(pki, m.port, version=4)
    s.sendall(publish_packet("secret/a", qos=1, pid=1))
    s.sendall(publish_packet("free/a", qos=1, pid=2))
    read_packet(s)
    read_packet(s)
    assert wait_for(lambda: "free/a" in watcher.topics(), 5)
    assert "secret/a" not in watcher.topics()
    s.close()


def test_without_acl_everything_passes(moat, pki, watcher):
    s, ack = session(pki, moat.port, version=5)
    s.sendall(publish_packet("anything/at/all", qos=1, pid=1, version=5))
    assert read_packet(s)[0] == 0x40
    assert wait_for(lambda: "anything/at/all" in watcher.topics(), 5)
    assert "acl: off" in moat.ctl("show acl")
    s.close()


# ---- tokens: the acl claim and %{claim} ------------------------------------------

from test_tokens import keys, tok, token_cfg  # noqa: E402,F401


def token_acl_cfg(keys, rules, **acl):
    def mutate(c):
        token_cfg(keys)(c)
        acl_cfg(rules, **acl)(c)
    return mutate


def token_session(pki, port, cid, token, version=5):
    s = tls_connect(pki, port, cert=None)
    s.sendall(connect_packet(cid, version=version, username="device", password=token))
    return s, read_connack(s)


def publish_all(s, topics, version=5):
    """Publish each at QoS 1; the reason code of each PUBACK (0: success,
    including 0x10 No matching subscribers)."""
    for i, t in enumerate(topics):
        s.sendall(publish_packet(t, qos=1, pid=i + 1, version=version))
    codes = {}
    for _ in topics:
        p = read_packet(s)
        assert p and p[0] == 0x40, p
        pid = struct.unpack(">H", p[1][:2])[0]
        rc = p[1][2] if len(p[1]) > 2 else 0
        codes[topics[pid - 1]] = 0 if rc == 0x10 else rc
    return codes


def test_token_acl_claim_list_form_after_file(moat_factory, live_brokers, pki, keys, watcher):
    m = moat_factory(live_brokers, token_acl_cfg(
        keys, [{"allow": "publish", "topics": ["devices/%i/up/#"]},
               {"deny": "publish", "topics": ["fleet/locked/#"]}], claim="acl"))
    claim = [{"permission": "allow", "action": "publish", "topic": "fleet/${clientid}/#"},
             {"permission": "allow", "action": "all", "topics": ["fleet/locked/x"]},
             {"permission": "deny", "action": "all", "topic": "#"}]
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1", acl=claim))
    assert ok_connack(ack, 5), ack
    codes = publish_all(s, ["devices/dev-t1/up/a", "fleet/dev-t1/b", "fleet/dev-t2/c",
                            "fleet/locked/x"])
    # the file first (after: the token adds to what the file leaves open)
    assert codes == {"devices/dev-t1/up/a": 0, "fleet/dev-t1/b": 0, "fleet/dev-t2/c": 0x87,
                     "fleet/locked/x": 0x87}, codes
    assert wait_for(lambda: {"devices/dev-t1/up/a", "fleet/dev-t1/b"} <= set(watcher.topics()), 5)
    assert "fleet/dev-t2/c" not in watcher.topics()
    s.close()


def test_token_acl_claim_map_form_replace(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_acl_cfg(
        keys, [{"allow": "all", "topics": ["devices/%i/#"]}], claim="acl",
        claim_mode="replace"))
    s, ack = token_session(pki, m.port, "dev-t1",
                           tok(keys, sub="dev-t1", acl={"pub": ["only/this"],
                                                        "sub": ["eq feed/+"]}))
    assert ok_connack(ack, 5), ack
    codes = publish_all(s, ["only/this", "devices/dev-t1/x"])
    assert codes == {"only/this": 0, "devices/dev-t1/x": 0x87}, codes
    s.sendall(subscribe_packet(3, ["feed/+", "feed/a"], version=5))
    p = read_packet(s)
    assert p[0] == 0x90 and list(p[1][3:]) == [1, 0x87], p
    s.close()
    # a token without the claim: the file's rules
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1"))
    assert publish_all(s, ["devices/dev-t1/x", "only/this"]) == \
        {"devices/dev-t1/x": 0, "only/this": 0x87}
    s.close()


def test_token_claim_placeholder(moat_factory, live_brokers, pki, keys):
    m = moat_factory(live_brokers, token_acl_cfg(
        keys, [{"allow": "publish", "topics": ["sites/%{site}/%i/#"]}]))
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1", site="plant-7"))
    assert ok_connack(ack, 5), ack
    assert publish_all(s, ["sites/plant-7/dev-t1/t", "sites/plant-8/dev-t1/t"]) == \
        {"sites/plant-7/dev-t1/t": 0, "sites/plant-8/dev-t1/t": 0x87}
    s.close()
    # no such claim: the rule cannot match (nothing allowed)
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1"))
    assert publish_all(s, ["sites/plant-7/dev-t1/t"]) == {"sites/plant-7/dev-t1/t": 0x87}
    s.close()


@pytest.mark.parametrize("site", ["+", "#", "a/b"])
def test_attack_placeholder_injection_token_claim(moat_factory, live_brokers, pki, keys, site):
    m = moat_factory(live_brokers, token_acl_cfg(
        keys, [{"allow": "publish", "topics": ["sites/%{site}/#"]}]))
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1", site=site))
    assert ack[0] == 0x20 and ack[3] == 0x85, ack
    s.close()


@pytest.mark.parametrize("claim", [
    "not rules", [{"permission": "maybe", "action": "publish", "topic": "a"}],
    [{"permission": "allow", "action": "publish", "topic": "a/#/b"}],
    {"pub": "a/b"}, [{"permission": "allow", "action": "write", "topic": "a"}]])
def test_attack_malformed_acl_claim_refused(moat_factory, live_brokers, pki, keys, claim):
    m = moat_factory(live_brokers, token_acl_cfg(keys, [], claim="acl"))
    s, ack = token_session(pki, m.port, "dev-t1", tok(keys, sub="dev-t1", acl=claim))
    assert ack[0] == 0x20 and ack[3] == 0x87, ack
    assert m.rejects("token_claims") == 1
    s.close()


# ---- live sessions after a reload -------------------------------------------------

LIVE_RULES = """\
- allow: subscribe
  topics: ["devices/%i/down/#", "broadcast/#"]
- allow: publish
  topics: ["devices/%i/up/#", "fleet/#"]
- deny: all
  topics: ["#"]
"""
REVOKED_RULES = """\
- allow: subscribe
  topics: ["devices/%i/down/#"]
- allow: publish
  topics: ["devices/%i/up/#"]
- deny: all
  topics: ["#"]
"""


@pytest.fixture
def live_moat(moat_factory, live_brokers, tmp_path):
    rules = str(tmp_path / "live.yaml")
    write_rules(rules, LIVE_RULES)
    m = moat_factory(live_brokers, acl_cfg(rules))
    m.rules = rules
    return m


def subscribed(s, pid, filters, version):
    s.sendall(subscribe_packet(pid, filters, version=version))
    p = read_packet(s)
    assert p[0] == 0x90, p
    return p


@pytest.mark.parametrize("version", [4, 5])
def test_attack_reload_revokes_live_subscription(live_moat, pki, version):
    """The rules change under a session that holds a now-denied
    subscription: moat ends it (MQTT 5: DISCONNECT 0x87), so the broker's
    subscription cannot outlive the rule."""
    m = live_moat
    s, ack = session(pki, m.port, version=version)
    subscribed(s, 1, ["broadcast/#", "devices/dev-good/down/#"], version)
    write_rules(m.rules, REVOKED_RULES)
    assert m.ctl("reload").startswith("ok"), m.ctl("reload")
    p = read_packet(s)
    if version == 5:
        assert p and p[0] == 0xE0 and p[1][0] == 0x87, p
        p = read_packet(s)
    assert p is None
    assert m.rejects("acl_live") == 1
    assert "acl_live" in m.log() and "broadcast/#" in m.log()


def test_reload_keeps_allowed_sessions_under_new_rules(live_moat, pki, watcher):
    m = live_moat
    s, ack = session(pki, m.port, version=5)
    subscribed(s, 1, ["devices/dev-good/down/#"], 5)
    assert publish_all(s, ["fleet/a"]) == {"fleet/a": 0}
    write_rules(m.rules, REVOKED_RULES)
    assert m.ctl("reload").startswith("ok")
    # still connected; what it publishes now follows the new rules
    assert publish_all(s, ["fleet/b", "devices/dev-good/up/b"]) == \
        {"fleet/b": 0x87, "devices/dev-good/up/b": 0}
    assert wait_for(lambda: "devices/dev-good/up/b" in watcher.topics(), 5)
    assert "fleet/b" not in watcher.topics()
    assert m.rejects("acl_live") == 0
    s.close()


def test_unsubscribed_filter_is_not_held_against_a_session(live_moat, pki):
    m = live_moat
    s, ack = session(pki, m.port, version=5)
    subscribed(s, 1, ["broadcast/#", "$share/g/devices/dev-good/down/x"], 5)
    body = struct.pack(">H", 2) + b"\x00" + _str("broadcast/#")
    s.sendall(b"\xa2" + _varint(len(body)) + body)
    p = read_packet(s)
    assert p[0] == 0xB0, p
    write_rules(m.rules, REVOKED_RULES)
    assert m.ctl("reload").startswith("ok")
    assert publish_all(s, ["devices/dev-good/up/c"]) == {"devices/dev-good/up/c": 0}
    assert m.rejects("acl_live") == 0
    s.close()


def test_rules_added_by_reload_end_sessions_without_rules(moat_factory, live_brokers, pki,
                                                         tmp_path):
    m = moat_factory(live_brokers)
    s, ack = session(pki, m.port, version=5)
    subscribed(s, 1, ["anything/#"], 5)
    m.cfg["listeners"][0]["mqtt"]["acl"] = {"rules": RULES}
    import json
    with open(m.conf, "w") as f:
        json.dump(m.cfg, f)
    assert m.ctl("reload").startswith("ok")
    p = read_packet(s)
    assert p and p[0] == 0xE0 and p[1][0] == 0x87, p
    assert m.rejects("acl_live") == 1


# ---- rates ---------------------------------------------------------------------

def rate_cfg(**rate):
    def mutate(c):
        c["listeners"][0]["mqtt"]["rate"] = rate
    return mutate


@pytest.mark.parametrize("version", [4, 5])
def test_rate_messages_paused_not_lost(moat_factory, live_brokers, pki, watcher, version):
    """Over messages_per_second the client is read no faster: every
    message arrives, none is dropped, and it takes at least what the rate
    allows (a lower bound: it never flakes on a slow machine)."""
    m = moat_factory(live_brokers, rate_cfg(messages_per_second=20, burst="1s"))
    s, ack = session(pki, m.port, version=version)
    assert ok_connack(ack, version)
    t0 = time.monotonic()
    s.sendall(b"".join(publish_packet(f"rate/{version}/{i}", b"x" * 8, version=version)
                       for i in range(60)))
    s.sendall(publish_packet(f"rate/{version}/last", qos=1, pid=99, version=version))
    p = read_packet(s, timeout=20)
    assert p and p[0] == 0x40, p
    took = time.monotonic() - t0
    assert took >= 1.0, took  # 61 messages, 20 ahead, then 20 a second
    assert wait_for(lambda: len([t for t in watcher.topics()
                                 if t.startswith(f"rate/{version}/")]) == 61, 10)
    assert "rate_pause" in m.log()
    s.close()


def test_rate_bytes_paused_not_lost(moat_factory, live_brokers, pki, watcher):
    m = moat_factory(live_brokers, rate_cfg(bytes_per_second="4KiB", burst="1s"))
    s, ack = session(pki, m.port, version=5)
    t0 = time.monotonic()
    s.sendall(b"".join(publish_packet(f"bytes/{i}", b"y" * 1000, version=5)
                       for i in range(12)))
    s.sendall(publish_packet("bytes/last", qos=1, pid=7, version=5))
    p = read_packet(s, timeout=20)
    assert p and p[0] == 0x40, p
    assert time.monotonic() - t0 >= 1.0
    assert wait_for(lambda: len([t for t in watcher.topics() if t.startswith("bytes/")]) == 13,
                    10)
    s.close()


@pytest.mark.parametrize("version", [4, 5])
def test_attack_flood_over_disconnect_over(moat_factory, live_brokers, pki, version):
    """A client far over its rate: MQTT 5 DISCONNECT 0x96, 3.1.1 closed."""
    m = moat_factory(live_brokers, rate_cfg(messages_per_second=2, burst="1s",
                                            disconnect_over=5))
    s, ack = session(pki, m.port, version=version)
    s.sendall(b"".join(publish_packet("flood/x", version=version) for _ in range(50)))
    p = read_packet(s)
    if version == 5:
        assert p and p[0] == 0xE0 and p[1][0] == 0x96, p
        p = read_packet(s)
    assert p is None
    assert m.rejects("rate_limit") == 1


def test_disconnect_fits_client_maximum_packet_size(moat_factory, live_brokers, pki):
    """A client that takes packets of at most 12 bytes gets the bare
    DISCONNECT (no Reason String) when its session ends."""
    m = moat_factory(live_brokers, rate_cfg(messages_per_second=1, burst="1s",
                                            disconnect_over=2))
    s = tls_connect(pki, m.port)
    props = b"\x27" + struct.pack(">I", 12)  # Maximum Packet Size
    body = _str("MQTT") + bytes([5, 0x02]) + struct.pack(">H", 60) + _varint(len(props)) + \
        props + _str("dev-good")
    s.sendall(b"\x10" + _varint(len(body)) + body)
    ack = read_connack(s)
    assert ack[0] == 0x20 and ack[3] == 0, ack
    s.sendall(b"".join(publish_packet("flood/y", version=5) for _ in range(20)))
    p = read_packet(s)
    assert p == (0xE0, b"\x96\x00"), p


def test_attack_denials_while_broker_streams_a_large_message(amoat, pki, watcher):
    """moat's own answers never land inside a packet of the broker's: a
    1.5 MB message to the client and a stream of denied QoS 1 publishes
    from it at the same time; the client parses every packet whole."""
    s, ack = session(pki, amoat.port, version=5)
    subscribed(s, 1, ["devices/dev-good/down/#"], 5)
    big = b"B" * 1500000
    watcher.publish("devices/dev-good/down/big", big, qos=0)
    s.sendall(b"".join(publish_packet("nope/x", qos=1, pid=i + 1, version=5)
                       for i in range(300)))
    acks, got_big = set(), False
    for _ in range(400):
        p = read_packet(s, timeout=10)
        assert p is not None
        if p[0] == 0x40:
            assert p[1][2] == 0x87, p
            acks.add(p[1][:2])
        elif p[0] & 0xF0 == 0x30:
            tl = struct.unpack(">H", p[1][:2])[0]
            assert p[1][2:2 + tl] == b"devices/dev-good/down/big"
            assert p[1].endswith(big)
            got_big = True
        if got_big and len(acks) == 300:
            break
    assert got_big and len(acks) == 300
    s.close()


def test_paho_v5_subscribe_reason_codes(amoat, pki, watcher):
    got = {}
    done = threading.Event()
    msgs = []
    c = mqtt.Client(client_id="dev-good", protocol=mqtt.MQTTv5)
    c.tls_set(ca_certs=os.path.join(pki, "ca.crt"), certfile=os.path.join(pki, "dev-good.crt"),
              keyfile=os.path.join(pki, "dev-good.key"))

    def on_subscribe(cl, u, mid, codes, props):
        got["codes"] = [rc.value for rc in codes]
        done.set()
    c.on_subscribe = on_subscribe
    c.on_message = lambda cl, u, m: msgs.append(m.topic)
    c.connect("localhost", amoat.port)
    c.loop_start()
    try:
        c.subscribe([("devices/dev-good/down/#", 1), ("secret/#", 1), ("broadcast/p", 0)])
        assert done.wait(10)
        assert got["codes"] == [1, 0x87, 0], got
        watcher.publish("secret/p", b"s")
        watcher.publish("broadcast/p", b"b")
        assert wait_for(lambda: "broadcast/p" in msgs, 5)
        assert "secret/p" not in msgs
    finally:
        c.loop_stop()
        c.disconnect()


@pytest.mark.parametrize("version", [4, 5])
def test_attack_denied_publish_pipelined_behind_connect(amoat, pki, watcher, version):
    """CONNECT and a denied PUBLISH in one write, before any broker is
    connected: the PUBLISH is judged like any other, and moat's PUBACK
    comes after the broker's CONNACK, never before it."""
    s = tls_connect(pki, amoat.port)
    s.sendall(connect_packet("dev-good", version=version) +
              publish_packet("secret/pipelined", qos=1, pid=5, version=version) +
              publish_packet("devices/dev-good/up/pipelined", qos=1, pid=6, version=version))
    ack = read_connack(s)
    assert ok_connack(ack, version), ack
    acks = {}
    for _ in range(2):
        p = read_packet(s)
        assert p and p[0] == 0x40, p
        acks[p[1][:2]] = p[1][2:3]
    assert acks[b"\x00\x05"] == (b"\x87" if version == 5 else b"")
    assert wait_for(lambda: "devices/dev-good/up/pipelined" in watcher.topics(), 5)
    assert "secret/pipelined" not in watcher.topics()
    s.close()


# ---- over WebSocket ----------------------------------------------------------------

def test_rules_over_websocket(moat_factory, live_brokers, pki, watcher):
    """The same rules on a WebSocket listener: moat's answers and the
    broker's widened SUBACK and large messages reach the client in frames."""
    from test_websocket import frame, ws_cfg, ws_open

    def mutate(c):
        ws_cfg()(c)
        acl_cfg()(c)
    m = moat_factory(live_brokers, mutate)
    w = ws_open(pki, m.port)
    w.send(frame(2, connect_packet("dev-good", version=5)))
    ack = w.read_mqtt()
    assert ack[0] == 0x20 and ack[3] == 0, ack
    w.send(frame(2, publish_packet("secret/ws", qos=1, pid=3, version=5)))
    assert w.read_mqtt() == b"\x40\x03\x00\x03\x87"
    w.send(frame(2, subscribe_packet(4, ["devices/dev-good/down/#", "secret/#"], version=5)))
    got = w.read_mqtt()
    assert got[0] == 0x90 and got[-2:] == b"\x01\x87", got
    big = b"W" * 100000
    watcher.publish("devices/dev-good/down/big", big, qos=0)
    data = b""
    for _ in range(200):
        p = w.read_mqtt(timeout=10)
        assert isinstance(p, bytes), p
        data += p
        if len(data) > len(big):
            break
    assert data[0] & 0xF0 == 0x30 and data.endswith(big)
    assert "secret/ws" not in watcher.topics()
