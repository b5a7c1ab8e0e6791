"""Renewal over MQTT (mqtt.enroll) and topic rules (mqtt.acl) on one
listener: the client's packets are walked once, enrollment judging first
(a request is moat's, whatever the rules say), then the rules. Attacks:
everything split one byte per TLS record, a request between denied and
allowed packets, QoS 2 flows of both finished by moat, oversized topics."""
import socket

import pytest

from conftest import wait_for
from lifecycle_pki import make_csr
from test_acl import RULES, Watcher, acl_cfg, subscribe_packet
from test_enroll import (TOPIC, ca, enroll_cfg, leaf, no_request_reached,  # noqa: F401
                         publish_packet, read_packet, session)


def both(ca):
    e, a = enroll_cfg(ca), acl_cfg(RULES)

    def mutate(c):
        e(c)
        a(c)
    return mutate


@pytest.fixture
def watcher(live_brokers):
    w = Watcher(live_brokers)
    yield w
    w.stop()


def pid_of(p):
    """The packet id of an ack (fixed header of two bytes)."""
    return p[2] << 8 | p[3]


@pytest.mark.parametrize("version", [4, 5])
def test_attack_renew_between_denied_and_allowed_split_byte_by_byte(
        moat_factory, live_brokers, ca, pki, tmp_path, watcher, version):
    """An allowed PUBLISH, a denied one (QoS 2), a renewal request (QoS 2,
    under a topic the rules deny), a SUBSCRIBE mixing allowed and denied
    filters and another allowed PUBLISH, one byte per TLS record: each is
    judged once and right. The request is answered by moat (not refused by
    the rules), both PUBRELs answered by moat, the allowed messages reach
    the broker and nothing else does."""
    m = moat_factory(live_brokers, both(ca))
    marks = [b.mark() for b in live_brokers]
    d = str(tmp_path)
    leaf(d, "dev-both", ca, days=5)
    s = session(pki, d, "dev-both", m.port, version)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = (publish_packet("devices/dev-both/up/a", b"one", 1, 1, version)
            + publish_packet("x/y", b"no", 2, 2, version)
            + publish_packet(TOPIC, make_csr("dev-both")[0], 2, 3, version)
            + subscribe_packet(4, ["broadcast/z", "secret/z"], version=version)
            + publish_packet("devices/dev-both/up/b", b"two", 1, 5, version))
    for i in range(len(data)):
        s.sendall(data[i:i + 1])
    got = [read_packet(s) for _ in range(6)]
    by = {(p[0] >> 4, pid_of(p)): p for p in got if p[0] >> 4 in (4, 5, 9)}
    assert set(by) == {(4, 1), (5, 2), (5, 3), (9, 4), (4, 5)}, [p[:8] for p in got]
    if version == 5:
        assert by[(5, 2)][4] == 0x87  # PUBREC: not authorized, by moat
        assert len(by[(5, 3)]) == 4 or by[(5, 3)][4] == 0  # the request taken
    assert by[(9, 4)][-2:] == bytes([1, 0x87 if version == 5 else 0x80])
    answer = [p for p in got if p[0] >> 4 == 3]
    assert answer and b"/renew/accepted" in answer[0][:60], got
    assert b"BEGIN CERTIFICATE" in answer[0]
    for pid in (2, 3):  # PUBREL: both flows are moat's to finish
        for b in b"\x62\x02" + bytes([0, pid]):
            s.sendall(bytes([b]))
        assert read_packet(s)[:4] == bytes([0x70, 2, 0, pid])
    assert wait_for(lambda: {"devices/dev-both/up/a", "devices/dev-both/up/b"}
                    <= set(watcher.topics()), 5)
    assert "x/y" not in watcher.topics()
    s.close()
    assert no_request_reached(live_brokers, marks)
    assert m.rejects("acl_publish") == 1 and m.rejects("acl_subscribe") == 1
    assert "renewed: 1" in m.ctl("show enroll")


def test_attack_oversized_topic_beside_enroll(moat_factory, live_brokers, ca, pki, tmp_path,
                                              watcher):
    """With the rules on, a topic longer than moat judges (4 KiB) is refused
    and closed, split or not, as without enrollment: nothing of it reaches
    the broker."""
    m = moat_factory(live_brokers, both(ca))
    d = str(tmp_path)
    leaf(d, "dev-long", ca, days=5)
    s = session(pki, d, "dev-long", m.port)
    pkt = publish_packet("devices/dev-long/up/" + "a" * 5000, b"x", 1, 1)
    for i in range(0, len(pkt), 1000):
        s.sendall(pkt[i:i + 1000])
    assert read_packet(s) in (b"", None)
    assert wait_for(lambda: m.rejects("packet_too_large") == 1, 5)
    assert not [t for t in watcher.topics() if t.startswith("devices/dev-long/")]


def test_long_topic_passes_the_enroll_walk(moat_factory, live_brokers, ca, pki, tmp_path,
                                           watcher):
    """Enrollment alone needs only a topic's start: a 5000-byte topic (one
    beginning like the enroll topic, too) is forwarded, split across records,
    and the session goes on."""
    m = moat_factory(live_brokers, enroll_cfg(ca))
    d = str(tmp_path)
    leaf(d, "dev-wide", ca, days=5)
    s = session(pki, d, "dev-wide", m.port)
    long1 = "wide/" + "a" * 5000
    long2 = "$moat/certsX" + "b" * 5000  # the prefix, but not under it
    data = publish_packet(long1, b"x", 1, 1) + publish_packet(long2, b"y", 1, 2)
    for i in range(0, len(data), 3):
        s.sendall(data[i:i + 3])
    acks = sorted(pid_of(read_packet(s)) for _ in range(2))
    assert acks == [1, 2]
    assert wait_for(lambda: long1 in watcher.topics(), 5)
    assert m.rejects("packet_too_large") == 0
    s.close()
