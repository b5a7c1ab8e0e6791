"""Certificate expiry at the edge: a live session ends when its client
certificate's notAfter passes (MQTT 5: DISCONNECT 0x87 "certificate
expired" first; MQTT 3.1.1: closed), also a session resumed from a ticket;
`show conns` and `show certs [expiring DAYS]` show notAfter, and /metrics
has the connected certificates by days to expiry."""
import os
import socket
import ssl
import threading

import paho.mqtt.client as mqtt

from conftest import connect_packet, free_port, read_connack, wait_for
from lifecycle_pki import load_ca, make_leaf
from test_metrics import scrape


def ctx_for(pki, d, cn, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(d, f"{cn}.crt"), os.path.join(d, f"{cn}.key"))
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def raw_session(ctx, port, cid, version=4, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    s.sendall(connect_packet(cid, version))
    ack = read_connack(s)
    assert ack[:1] == b"\x20" and ack[3 if version == 5 else 3] == 0, ack
    return s


def paho_v5(ctx, port, cid):
    got, done = {}, threading.Event()

    def on_disconnect(client, userdata, rc, properties=None):
        got["rc"] = getattr(rc, "value", rc)
        got["reason"] = getattr(properties, "ReasonString", None) if properties else None
        done.set()

    c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv5)
    c.on_disconnect = on_disconnect
    c.tls_set_context(ctx)
    c.connect("localhost", port, keepalive=30)
    c.loop_start()
    return c, got, done


def test_live_session_closed_at_certificate_expiry(moat, pki, tmp_path):
    d = str(tmp_path)
    ca = load_ca(pki)
    make_leaf(d, "dev-short5", seconds=4, ca=ca)
    make_leaf(d, "dev-short3", seconds=4, ca=ca)
    c, got, done = paho_v5(ctx_for(pki, d, "dev-short5"), moat.port, "dev-short5")
    s = raw_session(ctx_for(pki, d, "dev-short3"), moat.port, "dev-short3")
    try:
        assert wait_for(lambda: c.is_connected(), 5), moat.log()[-2000:]
        assert done.wait(15), moat.log()[-2000:]
        assert got["rc"] == 0x87, got
        assert got["reason"] == "certificate expired", got
        # MQTT 3.1.1 has no DISCONNECT from the server: closed outright
        s.settimeout(10)
        assert s.recv(100) == b""
        assert wait_for(lambda: moat.rejects("cert_expired_live") == 2, 5), moat.info()
        assert "cert_expired_live" in moat.log()
        # and a new session with it is refused at the handshake
        try:
            raw_session(ctx_for(pki, d, "dev-short3"), moat.port, "dev-short3")
            assert False, "an expired certificate connected"
        except (ssl.SSLError, ConnectionResetError, AssertionError, OSError):
            pass
    finally:
        c.loop_stop()
        s.close()


def test_resumed_session_closed_at_certificate_expiry(moat, pki, tmp_path):
    """The ticket carries notAfter: a session resumed without the
    certificate still ends when it expires."""
    d = str(tmp_path)
    make_leaf(d, "dev-resume", seconds=5, ca=load_ca(pki))
    ctx = ctx_for(pki, d, "dev-resume", "1.2")
    s = raw_session(ctx, moat.port, "dev-resume")
    sess = s.session
    s.close()
    s2 = raw_session(ctx, moat.port, "dev-resume", session=sess)
    try:
        assert s2.session_reused
        row = [ln for ln in moat.ctl("show conns").splitlines() if "dev-resume" in ln]
        assert row and "not_after=20" in row[0], row
        s2.settimeout(15)
        assert s2.recv(100) == b""
        assert wait_for(lambda: moat.rejects("cert_expired_live") == 1, 5), moat.info()
    finally:
        s2.close()
    # past notAfter the ticket no longer resumes (a full handshake refuses)
    try:
        raw_session(ctx, moat.port, "dev-resume", session=sess)
        assert False, "resumed past notAfter"
    except (ssl.SSLError, ConnectionResetError, AssertionError, OSError):
        pass


def test_show_certs_and_metrics(moat_factory, live_brokers, pki, tmp_path):
    port = free_port()
    m = moat_factory(live_brokers, lambda c: c["stats"].update(metrics=f"127.0.0.1:{port}"))
    d = str(tmp_path)
    ca = load_ca(pki)
    make_leaf(d, "dev-soon", days=10, ca=ca)
    make_leaf(d, "dev-later", days=200, ca=ca)
    ss = [raw_session(ctx_for(pki, d, cn), m.port, cn) for cn in ("dev-soon", "dev-later")]
    try:
        conns = m.ctl("show conns")
        assert conns.splitlines()[0].endswith("via not_after"), conns
        assert all("not_after=20" in ln for ln in conns.splitlines()[1:]), conns
        every = m.ctl("show certs")
        assert every.startswith("# id client_id identity subject serial not_after days_left")
        assert "dev-soon" in every and "dev-later" in every, every
        soon = m.ctl("show certs expiring 30")
        assert "dev-soon" in soon and "dev-later" not in soon, soon
        row = [ln for ln in soon.splitlines() if "dev-soon" in ln][0]
        assert 9.0 < float(row.split()[-1]) <= 10.0, row
        assert "dev-soon" not in m.ctl("show certs expiring 5")
        assert m.ctl("show certs expiring soon").startswith("error:")
        text = scrape(port)[1]
        assert 'moat_client_cert_expiry_seconds_bucket{le="604800"} 0' in text, text
        assert 'moat_client_cert_expiry_seconds_bucket{le="1209600"} 1' in text
        assert 'moat_client_cert_expiry_seconds_bucket{le="15552000"} 1' in text
        assert 'moat_client_cert_expiry_seconds_bucket{le="31536000"} 2' in text
        assert "moat_client_cert_expiry_seconds_count 2" in text
    finally:
        for s in ss:
            s.close()
    assert wait_for(lambda: "moat_client_cert_expiry_seconds_count 0" in scrape(port)[1], 5)
