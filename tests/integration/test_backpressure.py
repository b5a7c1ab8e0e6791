"""Backpressure: a device that stops reading does not make moat buffer
what its broker sends; moat stops reading the broker instead, so memory per
connection stays bounded."""
import struct
import threading
import time

from conftest import _str, _varint, connect_packet, read_connack, tls_connect, wait_for


def conns(moat):
    rows = {}
    for line in moat.ctl("show conns").splitlines()[1:]:
        f = line.split()
        # id peer subject client_id server state age in out qc qb; the
        # subject of the test PKI has no spaces
        rows[f[3]] = {"state": f[5], "out": int(f[8]), "qc": int(f[9]), "qb": int(f[10])}
    return rows


def test_stuck_subscriber_is_bounded(moat, pki):
    sub = tls_connect(pki, moat.port, "dev-good")
    sub.sendall(connect_packet("dev-good"))
    assert read_connack(sub) == b"\x20\x02\x00\x00"
    body = struct.pack(">H", 1) + _str("moat/bp") + b"\x00"
    sub.sendall(b"\x82" + _varint(len(body)) + body)
    assert read_connack(sub)[:1] == b"\x90"  # SUBACK
    # from here on the subscriber reads nothing

    pub = tls_connect(pki, moat.port, "dev-good2")
    pub.sendall(connect_packet("dev-good2"))
    assert read_connack(pub) == b"\x20\x02\x00\x00"
    payload = b"p" * 100_000
    topic = _str("moat/bp")
    packet = b"\x30" + _varint(len(topic) + len(payload)) + topic + payload
    total = 300 * len(packet)  # 30 MB
    peak = {"qc": 0}
    stop = threading.Event()

    def publish():
        try:
            for _ in range(300):
                if stop.is_set():
                    return
                pub.sendall(packet)
        except OSError:
            pass

    t = threading.Thread(target=publish, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while t.is_alive() and time.monotonic() < deadline:
        c = conns(moat).get("dev-good")
        if c:
            peak["qc"] = max(peak["qc"], c["qc"])
        time.sleep(0.05)
    stop.set()
    t.join(5)
    time.sleep(0.5)
    c = conns(moat)["dev-good"]
    peak["qc"] = max(peak["qc"], c["qc"])
    # moat holds at most about its high-water mark (256 KiB) plus one read
    assert peak["qc"] < 1024 * 1024, peak
    # and the stuck device really did not take the 30 MB
    assert c["out"] < total / 2, c
    assert c["state"] == "splice"
    # the publisher was not blocked by the stuck subscriber
    assert wait_for(lambda: conns(moat)["dev-good2"]["state"] == "splice", 2)
    sub.close()
    pub.close()
