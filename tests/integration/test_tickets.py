"""Session tickets: a resumed handshake keeps the device's identity (so the
client-id binding still holds), and a ticket moat did not issue, or cannot
vouch for, gives a full handshake instead of a resumption without identity."""
import socket

import pytest

from conftest import connect_packet, read_connack, tls_context


def connect(ctx, port, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="localhost", session=session)


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_resumed_session_keeps_identity(moat, pki, version):
    ctx = tls_context(pki, "dev-good", version)
    s = connect(ctx, moat.port)
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    sess = s.session
    s.close()
    assert sess is not None and sess.has_ticket
    s2 = connect(ctx, moat.port, sess)
    assert s2.session_reused
    s2.sendall(connect_packet("dev-good", 5))
    ack = read_connack(s2)
    assert ack[0] == 0x20 and ack[3] == 0, ack  # v5 CONNACK, success
    s2.close()
    # the identity, not just any session, is bound: another id is refused
    s3 = connect(ctx, moat.port, sess)
    assert s3.session_reused
    s3.sendall(connect_packet("dev-good2"))
    assert read_connack(s3) == b"\x20\x02\x00\x02"
    s3.close()


def test_foreign_ticket_gives_full_handshake(moat_factory, live_brokers, pki):
    a = moat_factory(live_brokers)
    b = moat_factory(live_brokers)
    ctx = tls_context(pki, "dev-good", "1.3")
    s = connect(ctx, a.port)
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    sess = s.session
    s.close()
    s2 = connect(ctx, b.port, sess)
    assert not s2.session_reused
    s2.sendall(connect_packet("dev-good"))
    assert read_connack(s2) == b"\x20\x02\x00\x00"
    s2.close()


def test_tickets_off(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["listeners"][0]["tls"].update(
        session_tickets=False))
    ctx = tls_context(pki, "dev-good", "1.3")
    s = connect(ctx, m.port)
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    sess = s.session
    s.close()
    assert sess is None or not sess.has_ticket
