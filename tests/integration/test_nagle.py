"""Clients as they are: libmosquitto, paho and most embedded stacks leave
Nagle's algorithm on. Such a client holds its CONNECT until its last
handshake flight is acknowledged; if moat has nothing to send then, the
ACK waits for the delayed-ACK timer (40 ms on Linux) and every connect
stalls. The one timed test of the suite: the median connect-to-CONNACK
of a Nagle-on client must stay far from that stall (a loose bound of
20 ms; a direct TLS connect to mosquitto takes about 1 ms here)."""
import socket
import statistics
import time

import pytest

from conftest import connect_packet, read_connack, tls_context

STALL_BOUND_S = 0.020


def nagle_connect(ctx, port, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    # what libmosquitto and paho do: nothing (Nagle stays on)
    assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    t0 = time.monotonic()
    s.sendall(connect_packet("dev-good"))
    ack = read_connack(s)
    dt = time.monotonic() - t0
    assert ack == b"\x20\x02\x00\x00", ack
    return s, dt


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("resumed", [False, True])
def test_nagle_client_connect_does_not_stall(moat, pki, version, resumed):
    ctx = tls_context(pki, "dev-good", version)
    times = []
    sess = None
    for _ in range(7):
        s, dt = nagle_connect(ctx, moat.port, sess if resumed else None)
        if resumed and sess is not None:
            assert s.session_reused
            times.append(dt)
        elif not resumed:
            times.append(dt)
        sess = s.session
        s.close()
    med = statistics.median(times)
    assert med < STALL_BOUND_S, f"median connect-to-CONNACK {med * 1000:.1f} ms: {times}"
