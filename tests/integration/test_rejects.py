"""Every reject of the spec's table (OCSP aside): the exact TLS alert or
CONNACK, the counter, the log line, and nothing reaching a broker."""
import re
import socket
import ssl
import time

import pytest

from conftest import (closed_by_peer, connect_packet, read_connack, tls_connect,
                      wait_for)

TLS_CASES = [
    # cert, alert text python reports, cause
    ("dev-expired", "CERTIFICATE_EXPIRED", "cert_expired"),
    ("dev-notyet", "CERTIFICATE_EXPIRED", "cert_not_yet_valid"),
    ("dev-foreign", "UNKNOWN_CA", "unknown_ca"),
    ("dev-revoked", "CERTIFICATE_REVOKED", "cert_revoked"),
]


def handshake_alert(pki, port, cert, version):
    """The alert the client gets: at the handshake (1.2) or at its first
    read after it (1.3, where the server checks the client's Finished
    flight after the client considers the handshake done)."""
    try:
        s = tls_connect(pki, port, cert, version)
    except ssl.SSLError as e:
        return str(e)
    try:
        s.sendall(connect_packet(cert or "anonymous"))
        s.settimeout(5)
        data = s.recv(100)
        return f"no alert, got {data!r}"
    except ssl.SSLError as e:
        return str(e)
    finally:
        s.close()


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("cert,alert,cause", TLS_CASES)
def test_certificate_rejects(moat, live_brokers, pki, version, cert, alert, cause):
    before = moat.rejects(cause)
    err = handshake_alert(pki, moat.port, cert, version)
    assert alert in err, err
    assert wait_for(lambda: moat.rejects(cause) == before + 1, 5), moat.info()
    log = moat.log()
    assert f"cause={cause}" in log
    line = [l for l in log.splitlines() if f"cause={cause}" in l][-1]
    assert "subject=" in line and "serial=" in line and "peer=127.0.0.1:" in line
    for b in live_brokers:
        assert cert not in b.clients()


@pytest.mark.parametrize("version,alert", [("1.2", "HANDSHAKE_FAILURE"),
                                           ("1.3", "CERTIFICATE_REQUIRED")])
def test_no_certificate(moat, pki, version, alert):
    err = handshake_alert(pki, moat.port, None, version)
    assert alert in err, err
    assert wait_for(lambda: moat.rejects("no_cert") >= 1, 5)


@pytest.mark.parametrize("version,code", [(4, b"\x20\x02\x00\x02"),
                                          (3, b"\x20\x02\x00\x02"),
                                          (5, b"\x20\x03\x00\x85\x00")])
def test_client_id_mismatch(moat, live_brokers, pki, version, code):
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("someone-else", version))
    assert read_connack(s) == code
    assert closed_by_peer(s)
    assert moat.rejects("client_id_mismatch") == 1
    assert "cause=client_id_mismatch" in moat.log()
    for b in live_brokers:
        assert "someone-else" not in b.clients()


@pytest.mark.parametrize("version,code", [(4, b"\x20\x02\x00\x03"),
                                          (5, b"\x20\x03\x00\x88\x00")])
def test_no_healthy_broker(moat, live_brokers, pki, version, code):
    for b in live_brokers:
        moat.ctl("disable", "server", f"brokers/{b.name}", check=True)
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("dev-good", version))
    assert read_connack(s) == code
    assert closed_by_peer(s)
    assert moat.rejects("no_server") == 1


def test_dead_brokers_give_server_unavailable(moat_factory, live_brokers, pki):
    def dead(cfg):
        up = cfg["upstreams"][0]
        up["health"] = {"type": "none"}
        up["servers"] = [{"name": "gone", "address": "127.0.0.1:1"}]
    m = moat_factory(live_brokers, dead)
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", 5))
    assert read_connack(s) == b"\x20\x03\x00\x88\x00"
    assert m.rejects("no_server") == 1


@pytest.mark.parametrize("packet,cause,answer", [
    # a PUBLISH first
    (b"\x30\x05\x00\x01tx" + b"y", "bad_connect", b""),
    # garbage remaining length (5 varint bytes)
    (b"\x10\xff\xff\xff\xff\x01", "bad_connect", b""),
    # unknown protocol level 7 on "MQTT"
    (b"\x10\x0e\x00\x04MQTT\x07\x02\x00\x3c\x00\x02ab", "bad_protocol", b"\x20\x03\x00\x84\x00"),
    # unknown level 2 on "MQTT": v3-style answer
    (b"\x10\x0e\x00\x04MQTT\x02\x02\x00\x3c\x00\x02ab", "bad_protocol", b"\x20\x02\x00\x01"),
    # v5 CONNECT with a reserved flag set: malformed in v5 terms
    (b"\x10\x0f\x00\x04MQTT\x05\x03\x00\x3c\x00\x00\x02ab", "bad_connect", b"\x20\x03\x00\x82\x00"),
])
def test_bad_first_packet(moat, live_brokers, pki, packet, cause, answer):
    marks = [b.mark() for b in live_brokers]
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(packet)
    got = read_connack(s) if answer else b""
    assert got == answer
    assert closed_by_peer(s)
    assert wait_for(lambda: moat.rejects(cause) == 1, 5), moat.info()
    for b, mk in zip(live_brokers, marks):
        assert "dev-good" not in b.clients(since=mk)


@pytest.mark.parametrize("version", [4, 5])
def test_connect_over_max_packet_size(moat_factory, live_brokers, pki, version):
    def small(cfg):
        cfg["limits"]["max_packet_size"] = "64"
    m = moat_factory(live_brokers, small)
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", version, username="u" * 100))
    got = read_connack(s)
    assert got == (b"\x20\x03\x00\x95\x00" if version == 5 else b"")
    assert closed_by_peer(s)
    assert m.rejects("packet_too_large") == 1


def test_packet_over_max_after_connect_closes(moat_factory, live_brokers, pki):
    def small(cfg):
        cfg["limits"]["max_packet_size"] = "1KiB"
    m = moat_factory(live_brokers, small)
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    # PUBLISH with a 2000-byte body
    s.sendall(b"\x30\xd0\x0f\x00\x03a/b" + b"x" * 1995)
    assert closed_by_peer(s)
    assert m.rejects("packet_too_large") == 1


def test_handshake_timeout(moat_factory, live_brokers, pki):
    def fast(cfg):
        cfg["limits"]["handshake_timeout"] = "500ms"
    m = moat_factory(live_brokers, fast)
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    t0 = time.monotonic()
    assert closed_by_peer(s, 5)
    assert time.monotonic() - t0 < 4
    assert wait_for(lambda: m.rejects("handshake_timeout") == 1, 3)


def test_connect_timeout(moat_factory, live_brokers, pki):
    def fast(cfg):
        cfg["limits"]["connect_timeout"] = "1s"
    m = moat_factory(live_brokers, fast)
    marks = [b.mark() for b in live_brokers]
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good")[:5])  # a CONNECT that never ends
    assert closed_by_peer(s, 6)
    assert wait_for(lambda: m.rejects("connect_timeout") == 1, 3)
    for b, mk in zip(live_brokers, marks):
        assert "dev-good" not in b.clients(since=mk)


def test_max_connections(moat_factory, live_brokers, pki):
    def one(cfg):
        cfg["limits"]["max_connections"] = 1
    m = moat_factory(live_brokers, one)
    first = tls_connect(pki, m.port, "dev-good")
    first.sendall(connect_packet("dev-good"))
    assert read_connack(first) == b"\x20\x02\x00\x00"
    s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
    assert closed_by_peer(s)
    assert wait_for(lambda: m.rejects("max_connections") == 1, 3)
    first.close()


def test_reject_flood_is_rate_limited_in_the_log_not_in_counters(moat, live_brokers, pki):
    """150 identical rejects as fast as 6 clients can make them: the log keeps
    at most 20 reject lines per cause and second and sums up the rest in
    reject_suppressed lines; the counter sees every one."""
    from concurrent.futures import ThreadPoolExecutor
    n = 150

    def one(_):
        s = tls_connect(pki, moat.port, "dev-good")
        s.sendall(b"\x30\x05\x00\x01tx" + b"y")
        closed_by_peer(s)
        s.close()

    with ThreadPoolExecutor(6) as ex:
        list(ex.map(one, range(n)))
    assert wait_for(lambda: moat.rejects("bad_connect") == n, 10), moat.info()
    # the once-a-second flush reports what was held back
    def summed():
        log = moat.log()
        lines = len(re.findall(r"reject conn=\d+ .*cause=bad_connect", log))
        held = sum(int(x) for x in
                   re.findall(r"reject_suppressed cause=bad_connect count=(\d+)", log))
        return lines, held
    assert wait_for(lambda: sum(summed()) == n, 5), (summed(), moat.log()[-3000:])
    lines, held = summed()
    assert held > 0 and lines < n


@pytest.mark.parametrize("mode", ["warn", "reject"])
def test_crl_past_next_update(moat_factory, live_brokers, pki, tmp_path, mode):
    """A CRL past its nextUpdate: shown EXPIRED and logged; with
    crl_expired: reject, certificates are refused (cause crl_expired)."""
    import os
    import subprocess
    env = dict(os.environ, CA_NAME="inter", CLIENT_ID="none", OCSP_PORT="0", OCSP_ROOT_PORT="0")
    old = str(tmp_path / "old.crl")
    subprocess.run(["openssl", "ca", "-config", "openssl.cnf", "-cert", "inter.crt",
                    "-keyfile", "inter.key", "-gencrl", "-crl_lastupdate", "20250101000000Z",
                    "-crl_nextupdate", "20250201000000Z", "-out", old],
                   cwd=pki, env=env, check=True, capture_output=True)
    both = str(tmp_path / "crl.pem")
    with open(both, "w") as f:
        f.write(open(os.path.join(pki, "root.crl")).read() + open(old).read())

    def mutate(cfg):
        cfg["listeners"][0]["tls"].update(crl=both, crl_expired=mode)
    m = moat_factory(live_brokers, mutate)
    assert "EXPIRED" in m.ctl("show tls") and "crl_expired" in m.log()
    if mode == "warn":
        s = tls_connect(pki, m.port, "dev-good", "1.2")
        s.sendall(connect_packet("dev-good"))
        assert read_connack(s) == b"\x20\x02\x00\x00"
    else:
        assert "BAD_CERTIFICATE" in handshake_alert(pki, m.port, "dev-good", "1.2")
        assert wait_for(lambda: m.rejects("crl_expired") == 1, 5), m.info()
