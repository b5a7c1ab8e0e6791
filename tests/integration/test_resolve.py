"""A server written as a name that resolves to both ::1 and 127.0.0.1 while
its broker (a real mosquitto) listens on one of them only: moat keeps every
address, tries them in turn (resolve_prefer puts a family first) and counts
the server as failed only when no address answers, for client connects and
health checks alike (issue 18).

The name: one of the machine's own that resolves to both (on a stock Debian
12, `localhost`). On a machine whose /etc/hosts lacks `::1 localhost`, moat
runs in a private mount namespace where a stock Debian /etc/hosts is
bind-mounted over the machine's (conftest.stock_hosts_wrap). Where neither
is possible the tests are skipped, saying why.
"""
import json

import pytest

from conftest import (Broker, connect_packet, free_port, port_open, read_connack,
                      tls_connect, wait_for)


@pytest.fixture(scope="module")
def v6_broker(tmp_path_factory):
    """A mosquitto listening on ::1 only."""
    b = Broker("v6only", str(tmp_path_factory.mktemp("v6broker")), host="::1")
    b.start()
    yield b
    b.stop()


def start_moat(moat_factory, dual, broker, prefer=None, health="mqtt", port=None):
    """moat with one server, NAME:PORT, in front of broker."""
    name, wrap = dual

    def cfg(c):
        up = c["upstreams"][0]
        up["servers"] = [{"name": broker.name, "address": f"{name}:{port or broker.port}"}]
        if prefer:
            up["resolve_prefer"] = prefer
        if health == "none":
            up["health"] = {"type": "none", "fall": 1}
    m = moat_factory([broker], cfg, start=False)
    m.wrap = wrap
    if health == "none":  # no check result will show: wait for the port only
        m.start(wait=False)
        assert wait_for(lambda: port_open(m.port) or m.proc.poll() is not None, 15)
        assert m.proc.poll() is None, m.log()
    else:
        m.start()
    return m


def server_row(m):
    rows = [line.split() for line in m.ctl("show servers").splitlines()[1:] if line.strip()]
    assert len(rows) == 1, rows
    return rows[0]


def server_json(m):
    return json.loads(m.ctl("show stat json"))["upstreams"][0]["servers"][0]


def connack(pki, m, cid="dev-good"):
    s = tls_connect(pki, m.port, cid)
    try:
        s.sendall(connect_packet(cid))
        return read_connack(s)
    finally:
        s.close()


@pytest.mark.parametrize("health", ["mqtt", "none"])
@pytest.mark.parametrize("prefer", [None, "ipv6"])
def test_v6_first_broker_on_v4_only(moat_factory, live_brokers, dual, pki, prefer, health):
    """The issue's case: ::1 comes first (the resolver's order on Debian, or
    resolve_prefer: ipv6) and the broker listens on 127.0.0.1 only."""
    b = live_brokers[0]
    m = start_moat(moat_factory, dual, b, prefer, health)
    if prefer == "ipv6":
        assert server_row(m)[-1] == f"[::1]:{b.port},127.0.0.1:{b.port}", m.ctl("show servers")
    else:
        assert set(server_row(m)[-1].split(",")) == {f"[::1]:{b.port}", f"127.0.0.1:{b.port}"}
    mark = b.mark()
    assert connack(pki, m) == b"\x20\x02\x00\x00", m.log()[-3000:]
    assert "dev-good" in b.clients(since=mark)
    row = server_row(m)
    assert row[3] == "UP", row
    assert server_json(m)["connect_fails"] == 0
    if prefer == "ipv6" and health == "none":
        # the first address was tried and refused, and did not count
        assert f"server_address_failed upstream=brokers server={b.name} " \
               f"address=[::1]:{b.port}" in m.log(), m.log()[-3000:]


@pytest.mark.parametrize("health", ["mqtt", "none"])
def test_v4_first_broker_on_v6_only(moat_factory, v6_broker, dual, pki, health):
    """The reverse: resolve_prefer: ipv4 puts 127.0.0.1 first and the broker
    listens on ::1 only."""
    m = start_moat(moat_factory, dual, v6_broker, "ipv4", health)
    p = v6_broker.port
    assert server_row(m)[-1] == f"127.0.0.1:{p},[::1]:{p}", m.ctl("show servers")
    assert server_json(m)["addresses"] == f"127.0.0.1:{p},[::1]:{p}"
    for i in range(2):  # the second connect starts at the address that answered
        mark = v6_broker.mark()
        assert connack(pki, m) == b"\x20\x02\x00\x00", m.log()[-3000:]
        assert "dev-good" in v6_broker.clients(since=mark)
    assert server_row(m)[3] == "UP"
    assert server_json(m)["connect_fails"] == 0
    # a reload resolves again and keeps both addresses in the same order
    assert m.ctl("reload").strip() == "ok"
    assert server_row(m)[-1] == f"127.0.0.1:{p},[::1]:{p}"
    assert connack(pki, m) == b"\x20\x02\x00\x00"


def test_no_address_answers(moat_factory, dual, pki, tmp_path):
    """Neither ::1 nor 127.0.0.1 answers: one connect fails the server once
    (one connect_fails, not one per address) and the client gets 0x03."""
    nobody = Broker("nobody", str(tmp_path))  # never started
    nobody.port = free_port()
    m = start_moat(moat_factory, dual, nobody, "ipv6", "none")
    assert connack(pki, m) == b"\x20\x02\x00\x03"
    log = m.log()
    for a in (f"[::1]:{nobody.port}", f"127.0.0.1:{nobody.port}"):
        assert f"address={a} check=L4CON" in log, log[-3000:]
    assert server_json(m)["connect_fails"] == 1
    assert server_row(m)[3] == "DOWN"


def test_check_down_only_when_no_address_answers(moat_factory, v6_broker, dual, pki):
    """Health checks walk the addresses too: UP while ::1 answers (127.0.0.1
    refusing), DOWN once neither does, UP again when ::1 is back."""
    m = start_moat(moat_factory, dual, v6_broker, "ipv4", "mqtt")
    assert server_row(m)[3] == "UP" and server_row(m)[7].startswith("L7OK"), server_row(m)
    v6_broker.stop()
    try:
        assert wait_for(lambda: server_row(m)[3] == "DOWN", 10), m.ctl("show servers")
        assert server_row(m)[7].startswith("L4CON")
    finally:
        v6_broker.start()
    assert wait_for(lambda: server_row(m)[3] == "UP", 10), m.ctl("show servers")
    assert connack(pki, m) == b"\x20\x02\x00\x00"
