"""Graceful stop: SIGTERM stops accepting, MQTT 5 clients get DISCONNECT
0x8B between two packets of their stream, MQTT 3 clients are closed at
drain_timeout, and the process exits 0."""
import signal
import socket
import threading
import time

import paho.mqtt.client as mqtt

from conftest import (closed_by_peer, connect_packet, read_connack, recv_exact, tls_connect,
                      tls_context, wait_for)


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


def test_drain_command_redirects_v5_with_0x9c_and_v3_as_before(moat_factory, live_brokers,
                                                                pki):
    """stop.redirect_to: at a graceful stop (here the stats socket's
    `drain`, which does what SIGTERM does) MQTT 5 clients get DISCONNECT
    0x9C (use another server) with the Server Reference; MQTT 3.1.1
    clients are closed at drain_timeout as before."""
    ref = "mqtt-b.example.com:8883"

    def mutate(c):
        c["limits"]["drain_timeout"] = "1s"
        c["stop"] = {"redirect_to": ref}
    m = moat_factory(live_brokers, mutate)
    v5 = tls_connect(pki, m.port, "dev-good")
    v5.sendall(connect_packet("dev-good", 5))
    assert read_connack(v5)[3] == 0
    v3 = tls_connect(pki, m.port, "dev-good2")
    v3.sendall(connect_packet("dev-good2", 4))
    assert read_connack(v3) == b"\x20\x02\x00\x00"
    assert m.ctl("drain").strip() == "ok: draining"
    head = recv_exact(v5, 2)
    assert head[0] == 0xE0, head  # DISCONNECT
    body = recv_exact(v5, head[1])
    assert body[0] == 0x9C, body
    props = body[2:2 + body[1]]
    assert b"\x1c" + len(ref).to_bytes(2, "big") + ref.encode() in props, props
    assert b"\x1f\x00\x12use another server" in props, props
    assert m.proc.wait(timeout=5) == 0
    assert closed_by_peer(v3)


def test_redirect_to_must_be_a_server_reference(moat_factory, live_brokers):
    from conftest import MOAT
    import subprocess
    m = moat_factory(live_brokers, lambda c: c.update(stop={"redirect_to": "two words"}),
                     start=False)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=15)
    assert r.returncode != 0
    assert "stop.redirect_to: 'two words' is not a server reference" in r.stdout + r.stderr
