"""Session tickets: a resumed handshake keeps the device's identity (so the
client-id binding still holds), and a ticket moat did not issue, or cannot
vouch for, gives a full handshake instead of a resumption without identity."""
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (MOAT, REPO, connect_packet, read_connack, tls_context,
                      wait_for)
from test_reload import revoke


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


def test_session_without_certificate_resumes(moat_factory, live_brokers, pki):
    """verify_client: optional and no certificate: the ticket carries "no
    certificate" and resumes as such."""
    def mutate(c):
        c["listeners"][0]["tls"]["verify_client"] = "optional"
        c["listeners"][0]["mqtt"] = {"identity": "none", "client_id_must_match": False}
    m = moat_factory(live_brokers, mutate)
    ctx, sess = session_from(pki, m.port, None, client_id="anon-1")
    s = connect(ctx, m.port, sess)
    assert s.session_reused
    s.sendall(connect_packet("anon-1"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    s.close()


# ---- several instances sharing tls.ticket_keys -----------------------------

KEYS_SH = os.path.join(REPO, "scripts", "ticket-keys.sh")


def keys(*args):
    r = subprocess.run(["bash", KEYS_SH, *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r


def shared(moat_factory, live_brokers, keyfile, crl=None, n=2):
    """n moat processes reading one ticket key file (and CRL)."""
    def mutate(c):
        c["listeners"][0]["tls"]["ticket_keys"] = keyfile
        if crl:
            c["listeners"][0]["tls"]["crl"] = crl
    return [moat_factory(live_brokers, mutate) for _ in range(n)]


def resumed(m):
    return int(re.search(r"^resumed: (\d+)$", m.ctl("show tls"), re.M).group(1))


def session_from(pki, port, cert="dev-good", version="1.3", client_id=None):
    """A session (with its ticket) from a full handshake and CONNECT."""
    ctx = tls_context(pki, cert, version)
    s = connect(ctx, port)
    s.sendall(connect_packet(client_id or cert))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    sess = s.session
    s.close()
    assert sess is not None and sess.has_ticket
    return ctx, sess


def reloaded(m, before):
    """The key or CRL file watch has reloaded m once more than `before`."""
    return wait_for(lambda: m.log().count("crl_changed") > before, 10)


def s_client(pki, port, sess_arg, path, cert="dev-good"):
    """openssl s_client over TLS 1.3 sending an MQTT CONNECT; returns its
    output once the CONNACK arrived (then the ticket has too)."""
    p = subprocess.Popen(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_3",
         "-servername", "localhost", "-CAfile", os.path.join(pki, "ca.crt"),
         "-cert", os.path.join(pki, f"{cert}.crt"), "-key", os.path.join(pki, f"{cert}.key"),
         sess_arg, path, "-ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    try:
        p.stdin.write(connect_packet(cert))
        p.stdin.flush()
        deadline = time.monotonic() + 10
        while b"\x20\x02\x00\x00" not in out and time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        time.sleep(0.2)  # let s_client write the session it got
    finally:
        p.kill()
        p.wait(timeout=5)
    assert b"\x20\x02\x00\x00" in out, out[-2000:]
    return out.decode(errors="replace")


def test_ticket_from_one_instance_resumes_on_the_other(moat_factory, live_brokers, pki, tmp_path):
    keyfile = str(tmp_path / "ticket-keys.bin")
    keys("new", keyfile)
    a, b = shared(moat_factory, live_brokers, keyfile)
    sess = str(tmp_path / "sess.pem")
    first = s_client(pki, a.port, "-sess_out", sess)
    assert "New, TLSv1.3" in first and os.path.getsize(sess) > 0
    second = s_client(pki, b.port, "-sess_in", sess)
    assert "Reused, TLSv1.3" in second, second[-2000:]
    assert resumed(b) == 1 and resumed(a) == 0


def test_identity_is_enforced_after_a_resume_elsewhere(moat_factory, live_brokers, pki,
                                                      tmp_path):
    keyfile = str(tmp_path / "ticket-keys.bin")
    keys("new", keyfile)
    a, b = shared(moat_factory, live_brokers, keyfile)
    for version in ("1.2", "1.3"):
        ctx, sess = session_from(pki, a.port, "dev-good", version)
        s = connect(ctx, b.port, sess)
        assert s.session_reused
        s.sendall(connect_packet("dev-good2"))  # not the certificate's CN
        assert read_connack(s) == b"\x20\x02\x00\x02"
        s.close()
        s = connect(ctx, b.port, sess)
        assert s.session_reused
        s.sendall(connect_packet("dev-good", 5))
        ack = read_connack(s)
        assert ack[0] == 0x20 and ack[3] == 0, ack
        s.close()
    assert b.rejects("client_id_mismatch") == 2


def test_revoked_serial_is_refused_on_resume_at_the_other_instance(moat_factory, live_brokers,
                                                                  pki, tmp_path):
    own = str(tmp_path / "pki")
    shutil.copytree(pki, own)
    keyfile = str(tmp_path / "ticket-keys.bin")
    keys("new", keyfile)
    a, b = shared(moat_factory, live_brokers, keyfile, os.path.join(own, "crl.pem"))
    ctx, sess = session_from(pki, a.port, "dev-good2")
    s = connect(ctx, b.port, sess)  # resumes while the serial is good
    assert s.session_reused
    s.close()
    revoke(own, "dev-good2")
    assert b.ctl("reload").strip() == "ok"
    # the ticket is refused: a full handshake, where the certificate is
    # refused (TLS 1.3: after the client's Finished, so the client sees the
    # alert or the close at its first read)
    s = connect(ctx, b.port, sess)
    assert not s.session_reused
    try:
        s.sendall(connect_packet("dev-good2"))
        ack = read_connack(s)
    except (ssl.SSLError, OSError):
        ack = b""
    assert ack == b""
    assert wait_for(lambda: b.rejects("cert_revoked") == 1, 5), b.info()
    assert resumed(b) == 1


def test_rotation_keeps_old_tickets_and_a_removed_key_gives_full_handshakes(
        moat_factory, live_brokers, pki, tmp_path):
    keyfile = str(tmp_path / "ticket-keys.bin")
    keys("new", keyfile)
    old_key = open(keyfile, "rb").read()
    a, b = shared(moat_factory, live_brokers, keyfile)
    ctx, old = session_from(pki, a.port)
    before = b.log().count("crl_changed")
    keys("rotate", keyfile)  # a new key first, the old one second
    assert open(keyfile, "rb").read()[80:] == old_key
    assert reloaded(b, before), b.log()[-2000:]  # the file watch, no signal
    tls = b.kv("show tls")
    names = open(keyfile, "rb").read()
    assert tls["ticket_key_count"] == "2", tls
    assert tls["ticket_key_names"] == f"{names[0:4].hex()} {names[80:84].hex()}", tls
    s = connect(ctx, b.port, old)
    assert s.session_reused  # made under the old key
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    new = s.session  # a new ticket, under the new key
    s.close()
    before = b.log().count("crl_changed")
    keys("rotate", keyfile, "1")  # only a newer key: both earlier ones gone
    assert reloaded(b, before), b.log()[-2000:]
    for sess in (old, new):
        s = connect(ctx, b.port, sess)
        assert not s.session_reused  # a full handshake, not a failure
        s.sendall(connect_packet("dev-good"))
        assert read_connack(s) == b"\x20\x02\x00\x00"
        s.close()


def test_malformed_key_file_is_a_config_error(moat_factory, live_brokers, tmp_path):
    keyfile = str(tmp_path / "ticket-keys.bin")
    for content, why in ((os.urandom(79), "not a multiple of 80"),
                         (b"", "holds no key"),
                         (bytes(16) + os.urandom(64), "all zeros"),
                         (os.urandom(80) * 2, "same name")):
        with open(keyfile, "wb") as f:
            f.write(content)
        m = moat_factory(live_brokers, lambda c: c["listeners"][0]["tls"].update(
            ticket_keys=keyfile), start=False)
        r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                           timeout=15)
        assert r.returncode != 0
        assert re.search(r"moat\.yaml:\d+:\d+: tls\.ticket_keys: " + re.escape(keyfile)
                         + ": .*" + why, r.stdout + r.stderr), r.stdout + r.stderr


def test_malformed_key_file_at_runtime_keeps_the_old_keys(moat_factory, live_brokers, pki,
                                                          tmp_path):
    keyfile = str(tmp_path / "ticket-keys.bin")
    keys("new", keyfile)
    a, b = shared(moat_factory, live_brokers, keyfile)
    ctx, sess = session_from(pki, a.port)
    tmp = keyfile + ".new"
    with open(tmp, "wb") as f:
        f.write(b"not keys")
    os.rename(tmp, keyfile)
    assert b.ctl("reload").strip() != "ok"
    s = connect(ctx, b.port, sess)
    assert s.session_reused  # still the keys it had
    s.close()
