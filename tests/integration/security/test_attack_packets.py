"""Attacks after admission: once a device's CONNECT has passed every check,
moat forwards its stream. A device must not use that stream to make the
broker authenticate it as someone else (a second CONNECT, MQTT 5 AUTH,
a CONNECT that asks for enhanced authentication) or to send what only a
server sends. What came before the forbidden packet still arrives; the
packet never does. The threat model is in docs/security.md."""
import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import (_str, _varint, closed_by_peer, connect_packet, read_connack,
                      recv_exact, tls_connect, wait_for)

OWNER = "dev-good"


def publish(topic, payload):
    body = _str(topic) + payload
    return b"\x30" + _varint(len(body)) + body


def publish5(topic, payload):
    body = _str(topic) + b"\x00" + payload
    return b"\x30" + _varint(len(body)) + body


def connect5_with_auth(client_id, method=b"SCRAM-SHA-1", data=None):
    props = b"\x15" + _str(method)
    if data is not None:
        props += b"\x16" + _str(data)
    body = _str("MQTT") + bytes([5, 0x02]) + struct.pack(">H", 60)
    body += _varint(len(props)) + props + _str(client_id)
    return b"\x10" + _varint(len(body)) + body


def subscriber(broker, topic, n=1, timeout=8):
    """mosquitto_sub straight on the broker: what reaches the broker."""
    return subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
                             "-t", topic, "-C", str(n), "-W", str(timeout), "-v"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def admitted(pki, port, version=4):
    s = tls_connect(pki, port, OWNER)
    s.sendall(connect_packet(OWNER, version))
    ack = read_connack(s)
    assert ack[0] == 0x20 and ack[-1 if version == 4 else 3] == 0, ack
    return s


def single_broker(c):
    c["upstreams"][0]["servers"] = c["upstreams"][0]["servers"][:1]


@pytest.mark.parametrize("version", [4, 5])
def test_attack_second_connect_as_another_device(moat_factory, live_brokers, pki, version):
    """After its own CONNECT, a device sends a second one naming another
    client id, right behind a PUBLISH in the same write. The PUBLISH
    arrives; the second CONNECT does not; MQTT 5 gets DISCONNECT 0x82."""
    m = moat_factory(live_brokers, single_broker)
    sub = subscriber(live_brokers[0], "attack/second-connect")
    time.sleep(0.5)
    s = admitted(pki, m.port, version)
    pub = (publish5 if version == 5 else publish)("attack/second-connect", b"before")
    s.sendall(pub + connect_packet("dev-good2", version))
    if version == 5:
        d = recv_exact(s, 2)
        assert d[:1] == b"\xe0", d
        body = recv_exact(s, d[1])
        assert body[0] == 0x82, body
    assert closed_by_peer(s)
    out, _ = sub.communicate(timeout=15)
    assert "attack/second-connect before" in out
    assert wait_for(lambda: m.rejects("protocol_violation") == 1, 5), m.info()
    assert "packet_type=1" in m.log()
    assert "dev-good2" not in "".join(m.forwarded_to("dev-good2"))


def test_attack_auth_packet_after_connack(moat_factory, live_brokers, pki):
    """MQTT 5 AUTH (re-authentication) is not passed to the broker unless
    the listener allows enhanced authentication."""
    m = moat_factory(live_brokers)
    s = admitted(pki, m.port, 5)
    s.sendall(b"\xf0\x02\x18\x00")  # AUTH, 0x18 re-authenticate, no properties
    d = recv_exact(s, 2)
    assert d[:1] == b"\xe0", d
    assert recv_exact(s, d[1])[0] == 0x82
    assert closed_by_peer(s)
    assert wait_for(lambda: m.rejects("protocol_violation") == 1, 5), m.info()


def test_attack_connect_asking_for_enhanced_authentication(moat_factory, live_brokers, pki):
    """A CONNECT with an Authentication Method would have the broker run
    an authentication of the client's choosing: refused 0x8C."""
    m = moat_factory(live_brokers)
    for pkt in (connect5_with_auth(OWNER), connect5_with_auth(OWNER, data=b"x")):
        s = tls_connect(pki, m.port, OWNER)
        s.sendall(pkt)
        ack = read_connack(s)
        assert ack[:1] == b"\x20" and ack[3] == 0x8C, ack
        s.close()
    assert wait_for(lambda: m.rejects("auth_method") == 2, 5), m.info()
    assert not m.forwarded_to(OWNER)


def test_enhanced_auth_passes_when_the_listener_allows_it(moat_factory, live_brokers, pki):
    """mqtt.enhanced_auth: true passes the method to the broker, which
    (mosquitto without an auth plugin) answers for itself."""
    def mutate(c):
        c["listeners"][0]["mqtt"]["enhanced_auth"] = True
    m = moat_factory(live_brokers, mutate)
    s = tls_connect(pki, m.port, OWNER)
    s.sendall(connect5_with_auth(OWNER))
    ack = read_connack(s)
    s.close()
    assert ack[:1] == b"\x20", ack
    assert m.rejects("auth_method") == 0
    assert m.forwarded_to(OWNER)


@pytest.mark.parametrize("first", [b"\x20\x02\x00\x00",   # CONNACK
                                   b"\x90\x03\x00\x01\x00",  # SUBACK
                                   b"\xd0\x00",            # PINGRESP
                                   b"\x00\x00"])           # type 0, reserved
def test_attack_server_packets_from_a_client(moat_factory, live_brokers, pki, first):
    m = moat_factory(live_brokers)
    s = admitted(pki, m.port, 4)
    s.sendall(first)
    assert closed_by_peer(s)
    assert wait_for(lambda: m.rejects("protocol_violation") == 1, 5), m.info()


def test_attack_second_connect_split_byte_by_byte(moat_factory, live_brokers, pki):
    """The same second CONNECT, one byte per TLS record."""
    m = moat_factory(live_brokers)
    s = admitted(pki, m.port, 4)
    for b in connect_packet("dev-good2"):
        try:
            s.sendall(bytes([b]))
        except OSError:
            break
    assert closed_by_peer(s)
    assert wait_for(lambda: m.rejects("protocol_violation") == 1, 5), m.info()


def test_pipelined_packets_behind_the_connect_still_pass(moat_factory, live_brokers, pki):
    """CONNECT, SUBSCRIBE, PINGREQ in one write (what clients do): all
    client packets, all forwarded."""
    m = moat_factory(live_brokers)
    s = tls_connect(pki, m.port, OWNER)
    sub = b"\x82" + _varint(2 + 2 + 3 + 1) + b"\x00\x01" + _str("a/b") + b"\x00"
    s.sendall(connect_packet(OWNER) + sub + b"\xc0\x00")
    assert read_connack(s) == b"\x20\x02\x00\x00"
    assert recv_exact(s, 5)[:1] == b"\x90"
    assert recv_exact(s, 2) == b"\xd0\x00"
    s.close()
    assert m.rejects("protocol_violation") == 0
