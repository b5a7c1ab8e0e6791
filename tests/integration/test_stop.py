"""Graceful stop: SIGTERM stops accepting, MQTT 5 clients get DISCONNECT
0x8B between two packets of their stream, MQTT 3 clients are closed at
drain_timeout, and the process exits 0."""
import re
import signal
import subprocess
import socket
import threading
import time

import paho.mqtt.client as mqtt

from conftest import MOAT, connect_packet, read_connack, tls_connect, tls_context, wait_for


def test_sigterm_v5_gets_disconnect_0x8b(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["limits"].update(drain_timeout="5s"))
    got = {}
    done = threading.Event()

    def on_disconnect(client, userdata, rc, properties=None):
        got["rc"] = rc
        done.set()

    c = mqtt.Client(client_id="dev-good", protocol=mqtt.MQTTv5)
    c.tls_set_context(tls_context(pki, "dev-good"))
    c.on_disconnect = on_disconnect
    c.connect("localhost", m.port, keepalive=30)
    c.loop_start()
    try:
        assert wait_for(lambda: c.is_connected(), 5)
        # a stream in flight: subscribe and publish to ourselves
        c.subscribe("moat/stop", qos=0)
        for i in range(50):
            c.publish("moat/stop", b"x" * 1000, qos=0)
        t0 = time.monotonic()
        m.proc.send_signal(signal.SIGTERM)
        assert done.wait(5), m.log()[-2000:]
        rc = got["rc"]
        value = getattr(rc, "value", rc)
        assert value == 0x8B, rc
        code = m.proc.wait(timeout=6)
        assert code == 0
        assert time.monotonic() - t0 < 5
    finally:
        c.loop_stop()


def test_sigterm_v3_closed_at_drain_timeout(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["limits"].update(drain_timeout="1s"))
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", 4))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    # no new connections once stopping
    assert wait_for(lambda: _refused(m.port), 3)
    # the v3 session still works until drain_timeout
    s.sendall(b"\xc0\x00")  # PINGREQ
    assert read_connack(s, timeout=2) == b"\xd0\x00"  # PINGRESP
    assert m.proc.wait(timeout=5) == 0
    assert time.monotonic() - t0 >= 0.9


def _refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except OSError:
        return True


def _v5_client(pki, m, cid="dev-good"):
    got = {}
    done = threading.Event()

    def on_disconnect(client, userdata, rc, properties=None):
        got["rc"] = getattr(rc, "value", rc)
        got["ref"] = getattr(properties, "ServerReference", None) if properties else None
        done.set()

    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5)
    c.tls_set_context(tls_context(pki, cid))
    c.on_disconnect = on_disconnect
    c.connect("localhost", m.port, keepalive=30)
    c.loop_start()
    assert wait_for(lambda: c.is_connected(), 5), m.log()[-2000:]
    return c, got, done


def test_drain_redirects_v5_keeps_v3(moat_factory, live_brokers, pki):
    """`drain`: listeners close, an MQTT 5 client is told DISCONNECT 0x9C
    (Use another server) with stop.redirect_to as Server Reference, an MQTT 3
    session runs on, the process stays up until it is stopped."""
    m = moat_factory(live_brokers, lambda c: (c["limits"].update(drain_timeout="1s"),
                                              c.update(stop={"redirect_to": "moat-b.example:8883"})))
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", 4))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    c, got, done = _v5_client(pki, m, "dev-good2")
    try:
        assert m.info()["draining"] == "0"
        assert m.ctl("drain").startswith("ok: draining")
        assert done.wait(5), m.log()[-2000:]
        assert got["rc"] == 0x9C, got
        assert got["ref"] == "moat-b.example:8883", got
        assert wait_for(lambda: _refused(m.port), 3)
        s.sendall(b"\xc0\x00")  # the v3 session still works
        assert read_connack(s, timeout=2) == b"\xd0\x00"
        assert m.proc.poll() is None
        assert m.info()["draining"] == "1"
        assert m.ctl("drain").startswith("error: already draining")
        assert m.ctl("reload").startswith("error: draining")
    finally:
        c.loop_stop()
    m.proc.send_signal(signal.SIGTERM)
    assert m.proc.wait(timeout=5) == 0


def test_sigterm_with_redirect_to_sends_0x9c(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c.update(stop={"redirect_to": "b1 b2:1884"}))
    c, got, done = _v5_client(pki, m, "dev-good2")
    try:
        m.proc.send_signal(signal.SIGTERM)
        assert done.wait(5), m.log()[-2000:]
        assert got == {"rc": 0x9C, "ref": "b1 b2:1884"}, got
        assert m.proc.wait(timeout=6) == 0
    finally:
        c.loop_stop()


def test_drain_needs_admin_and_redirect_to_is_checked(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["stats"].update(level="operator"))
    assert "permission denied" in m.ctl("drain")
    bad = moat_factory(live_brokers, lambda c: c.update(stop={"redirect_to": "a\tb"}),
                       start=False)
    r = subprocess.run([MOAT, "-c", bad.conf, "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode == 1
    assert re.search(r"moat\.yaml:\d+:\d+: stop\.redirect_to: printable ASCII", r.stdout + r.stderr), \
        r.stdout + r.stderr
