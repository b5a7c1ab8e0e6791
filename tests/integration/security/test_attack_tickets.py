"""Attacks on session resumption. A session ticket travels in clear in every
resuming ClientHello (and in TLS 1.2's NewSessionTicket), so anyone on the
path has a device's ticket bytes, but not its session secret. Each test
tries to get in as the ticket's owner (or on the wrong listener, or under
trust that has changed) with such bytes, and checks that the connection
ends in a full handshake judged on its own: never `forward` with the
owner's identity. A genuine resumption still keeps its identity
(tests/integration/test_tickets.py).

The threat model is in docs/security.md."""
import os
import select
import shutil
import socket
import struct
import subprocess
import time

from conftest import (connect_packet, read_connack, tls_context, wait_for)

OWNER = "dev-good"
CONNACK_OK = b"\x20\x02\x00\x00"


def optional_listener(c):
    """The token set-up: a certificate is optional, the client id must be
    the certificate's CN (a client with no certificate has no identity)."""
    c["listeners"][0]["tls"]["verify_client"] = "optional"
    c["listeners"][0]["mqtt"] = {"identity": "cn", "client_id_must_match": True}


def s_client(port, pki, *, version="1.3", cert=None, sess_in=None, sess_out=None,
             suites=None, ciphers=None, send=b"", timeout=8):
    """openssl s_client as the attacker's (or the owner's) TLS stack:
    resumes from a session file, with the cipher suites it is told,
    with or without a certificate. Sends `send` once the handshake is
    done and returns (stdout, stderr): stdout holds s_client's session
    report ("New" or "Reused") and the bytes moat answered."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
            "-servername", "localhost", "-CAfile", os.path.join(pki, "ca.crt"),
            "-tls1_3" if version == "1.3" else "-tls1_2", "-ign_eof"]
    if cert:
        args += ["-cert", os.path.join(pki, f"{cert}.crt"),
                 "-key", os.path.join(pki, f"{cert}.key")]
    if sess_in:
        args += ["-sess_in", sess_in]
    if sess_out:
        args += ["-sess_out", sess_out]
    if suites:
        args += ["-ciphersuites", suites]
    if ciphers:
        args += ["-cipher", ciphers]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = b""
    try:
        deadline = time.monotonic() + timeout
        sent = False
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 0.1)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
            # the session report is printed once the handshake is done
            if not sent and (b"Reused," in out or b"New," in out):
                time.sleep(0.2)
                try:
                    p.stdin.write(send)
                    p.stdin.flush()
                except BrokenPipeError:
                    break
                sent = True
                mark = len(out)
            # a CONNACK (0x20 0x02 ...) or a close ends it
            if sent and b"\x20\x02\x00" in out[mark:]:
                time.sleep(0.2)
                break
    finally:
        p.kill()
        _, err = p.communicate(timeout=5)
    return out, err


def owner_session(pki, port, path, version="1.3", suites=None, ciphers=None):
    """The owner's genuine session (ticket included), saved as a file."""
    out, err = s_client(port, pki, version=version, cert=OWNER, sess_out=path,
                        suites=suites, ciphers=ciphers, send=connect_packet(OWNER))
    assert CONNACK_OK in out, (out[-300:], err)
    assert wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 5)
    return path


def attempts_as_owner(moat, before):
    """`forward` lines for the owner's client id since `before`."""
    return len(moat.forwarded_to(OWNER)) - before


def full_session(ctx, port, client_id=OWNER):
    """A full handshake and CONNECT: the session (with its ticket)."""
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                        server_hostname="localhost")
    s.sendall(connect_packet(client_id))
    assert read_connack(s) == CONNACK_OK
    sess = s.session
    s.close()
    return sess


def try_resume(ctx, port, sess, client_id=OWNER):
    """Offer sess and CONNECT as client_id: (resumed?, CONNACK bytes)."""
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                            server_hostname="localhost", session=sess)
        reused = s.session_reused
        s.sendall(connect_packet(client_id))
        ack = read_connack(s)
        s.close()
    except OSError:
        return False, b""
    return reused, ack


def test_attack_tls13_ticket_with_other_cipher_suite_and_no_certificate(
        moat_factory, live_brokers, pki, tmp_path):
    """The reviewer's attack: the owner's ticket offered with another TLS
    1.3 suite (wolfSSL then declines to resume and runs a full handshake)
    and no certificate. The ticket's identity must not survive into that
    full handshake."""
    m = moat_factory(live_brokers, optional_listener)
    sess = owner_session(pki, m.port, str(tmp_path / "owner.sess"),
                         suites="TLS_AES_128_GCM_SHA256")
    before = len(m.forwarded_to(OWNER))
    out, err = s_client(m.port, pki, sess_in=sess, suites="TLS_CHACHA20_POLY1305_SHA256",
                        send=connect_packet(OWNER))
    assert b"Reused," not in out, out
    assert CONNACK_OK not in out, out
    assert b"\x20\x02\x00\x05" in out, out  # not authorized: no identity
    assert attempts_as_owner(m, before) == 0, m.log()[-3000:]
    assert m.rejects("no_identity") == 1


def test_attack_tls12_ticket_with_other_cipher_and_no_certificate(
        moat_factory, live_brokers, pki, tmp_path):
    m = moat_factory(live_brokers, optional_listener)
    sess = owner_session(pki, m.port, str(tmp_path / "owner.sess"), version="1.2",
                         ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    before = len(m.forwarded_to(OWNER))
    out, err = s_client(m.port, pki, version="1.2", sess_in=sess,
                        ciphers="ECDHE-ECDSA-AES256-GCM-SHA384", send=connect_packet(OWNER))
    assert b"Reused," not in out, out
    assert CONNACK_OK not in out, out
    assert attempts_as_owner(m, before) == 0, m.log()[-3000:]


def test_genuine_resumption_keeps_its_identity_with_openssl(moat_factory, live_brokers, pki,
                                                            tmp_path):
    """The same tools, the owner resuming as it should: Reused, forwarded."""
    m = moat_factory(live_brokers, optional_listener)
    sess = owner_session(pki, m.port, str(tmp_path / "owner.sess"),
                         suites="TLS_AES_128_GCM_SHA256")
    out, err = s_client(m.port, pki, sess_in=sess, suites="TLS_AES_128_GCM_SHA256",
                        send=connect_packet(OWNER))
    assert b"Reused," in out and CONNACK_OK in out, (out, err)


def test_attack_ticket_past_its_lifetime(moat_factory, live_brokers, pki, tmp_path):
    """A ticket older than tls.ticket_lifetime (wolfSSL's own session
    timeout agrees with it) does a full handshake, without identity."""
    def mutate(c):
        optional_listener(c)
        c["listeners"][0]["tls"]["ticket_lifetime"] = "2s"
    m = moat_factory(live_brokers, mutate)
    sess = owner_session(pki, m.port, str(tmp_path / "owner.sess"))
    time.sleep(3.2)
    before = len(m.forwarded_to(OWNER))
    out, err = s_client(m.port, pki, sess_in=sess, send=connect_packet(OWNER))
    assert b"Reused," not in out and CONNACK_OK not in out, out
    assert attempts_as_owner(m, before) == 0


def two_listeners(pki, other_ca=None, other_identity=None):
    def mutate(c):
        b = dict(c["listeners"][0])
        b["tls"] = dict(b["tls"])
        b["mqtt"] = dict(b["mqtt"])
        b["name"] = "other"
        from conftest import free_port
        b["bind"] = f"127.0.0.1:{free_port()}"
        if other_ca:
            b["tls"]["client_ca"] = os.path.join(pki, other_ca)
            b["tls"].pop("crl", None)
        if other_identity:
            b["mqtt"]["identity"] = other_identity
        c["listeners"].append(b)
    return mutate


def port_of(m, i):
    return int(m.cfg["listeners"][i]["bind"].rsplit(":", 1)[1])


def test_attack_ticket_from_another_listener_with_another_ca(moat_factory, live_brokers, pki):
    """Listener `other` trusts only the foreign CA: dev-good is refused
    there (unknown_ca). Its ticket from the first listener must not carry
    it in."""
    m = moat_factory(live_brokers, two_listeners(pki, other_ca="foreign.crt"))
    ctx = tls_context(pki, OWNER, "1.3")
    sess = full_session(ctx, m.port)
    before = len(m.forwarded_to(OWNER))
    reused, ack = try_resume(ctx, port_of(m, 1), sess)
    assert not reused
    assert ack != CONNACK_OK
    assert wait_for(lambda: m.rejects("unknown_ca") == 1, 5), m.info()
    assert attempts_as_owner(m, before) == 0


def test_attack_ticket_from_another_listener_with_the_same_ca(moat_factory, live_brokers,
                                                              pki):
    """Same CA, other identity settings: the ticket is bound to its
    listener; on the other one the device does a full handshake."""
    m = moat_factory(live_brokers, two_listeners(pki))
    ctx = tls_context(pki, OWNER, "1.3")
    sess = full_session(ctx, m.port)
    s2 = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port_of(m, 1)), timeout=5),
                         server_hostname="localhost", session=sess)
    assert not s2.session_reused
    s2.sendall(connect_packet(OWNER))
    assert read_connack(s2) == CONNACK_OK  # its own certificate, checked
    s2.close()


def test_attack_ticket_after_a_reload_that_drops_its_ca(moat_factory, live_brokers, pki,
                                                       tmp_path):
    """dev-foreign is let in while its CA is trusted; a reload drops that
    CA. Its ticket from before must not let it in afterwards."""
    bundle = str(tmp_path / "cas.pem")
    shutil.copy(os.path.join(pki, "ca.crt"), bundle)
    with open(bundle, "a") as f:
        f.write(open(os.path.join(pki, "foreign.crt")).read())

    def mutate(c):
        c["listeners"][0]["tls"]["client_ca"] = bundle
        c["listeners"][0]["tls"].pop("crl", None)
    m = moat_factory(live_brokers, mutate)
    ctx = tls_context(pki, "dev-foreign", "1.3")
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    sess = full_session(ctx, m.port, "dev-foreign")
    shutil.copy(os.path.join(pki, "ca.crt"), bundle + ".new")
    os.rename(bundle + ".new", bundle)
    m.ctl("reload", check=True)
    before = len(m.forwarded_to("dev-foreign"))
    reused, ack = try_resume(ctx, m.port, sess, "dev-foreign")
    assert not reused and ack != CONNACK_OK
    assert len(m.forwarded_to("dev-foreign")) == before


def test_attack_resumption_while_the_crl_is_past_next_update(moat_factory, live_brokers,
                                                            pki, tmp_path):
    """crl_expired: reject refuses full handshakes while a CRL is stale;
    a ticket from before the CRL went stale must not get around it."""
    crl = str(tmp_path / "crl.pem")
    shutil.copy(os.path.join(pki, "crl.pem"), crl)

    def mutate(c):
        c["listeners"][0]["tls"].update(crl=crl, crl_expired="reject")
    m = moat_factory(live_brokers, mutate)
    ctx = tls_context(pki, OWNER, "1.3")
    sess = full_session(ctx, m.port)
    env = dict(os.environ, CA_NAME="inter", CLIENT_ID="none", OCSP_PORT="0",
               OCSP_ROOT_PORT="0")
    old = str(tmp_path / "old.crl")
    subprocess.run(["openssl", "ca", "-config", "openssl.cnf", "-cert", "inter.crt",
                    "-keyfile", "inter.key", "-gencrl", "-crl_lastupdate", "20250101000000Z",
                    "-crl_nextupdate", "20250201000000Z", "-out", old],
                   cwd=pki, env=env, check=True, capture_output=True)
    with open(crl + ".new", "w") as f:
        f.write(open(os.path.join(pki, "root.crl")).read() + open(old).read())
    os.rename(crl + ".new", crl)
    m.ctl("reload")
    assert wait_for(lambda: "EXPIRED" in m.ctl("show tls"), 5)
    before = len(m.forwarded_to(OWNER))
    reused, ack = try_resume(ctx, m.port, sess)
    assert not reused and ack != CONNACK_OK
    assert len(m.forwarded_to(OWNER)) == before
    assert wait_for(lambda: m.rejects("crl_expired") == 1, 5), m.info()


# ---- forged ticket bytes -----------------------------------------------------

def _ext(t, body):
    return struct.pack(">HH", t, len(body)) + body


def client_hello_with_psk(identity, tls12_ticket=None):
    """A TLS 1.3 ClientHello offering `identity` as its PSK (with a binder
    nobody could compute), or a TLS 1.2 one carrying `tls12_ticket`."""
    rnd = os.urandom(32)
    sid = os.urandom(32)
    host = b"localhost"
    exts = _ext(0, struct.pack(">HBH", len(host) + 3, 0, len(host)) + host)
    exts += _ext(10, struct.pack(">H", 4) + b"\x00\x1d\x00\x17")
    exts += _ext(13, struct.pack(">H", 4) + b"\x04\x03\x08\x04")
    if tls12_ticket is not None:
        suites = b"\xc0\x2b\xc0\x2f"
        exts += _ext(35, tls12_ticket)
    else:
        suites = b"\x13\x01\x13\x02\x13\x03"
        exts += _ext(43, b"\x02\x03\x04")
        exts += _ext(51, struct.pack(">HHH", 36, 0x1d, 32) + os.urandom(32))
        exts += _ext(45, b"\x01\x01")
        ids = struct.pack(">H", len(identity)) + identity + b"\x00\x00\x00\x00"
        binders = b"\x20" + os.urandom(32)
        exts += _ext(41, struct.pack(">H", len(ids)) + ids +
                     struct.pack(">H", len(binders)) + binders)
    body = (b"\x03\x03" + rnd + bytes([len(sid)]) + sid + struct.pack(">H", len(suites)) +
            suites + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def forged_ticket(key_name, claimed_len, sent_len):
    """moat's ticket layout as wolfSSL frames it: key name 16, IV 16,
    encrypted length 2, that many bytes, MAC 32; the length claims more
    than is sent."""
    return (key_name + os.urandom(16) + struct.pack(">H", claimed_len) +
            os.urandom(sent_len) + os.urandom(32))


def test_attack_forged_ticket_length_longer_than_the_ticket(moat_factory, live_brokers, pki,
                                                            tmp_path):
    """A ticket under a real key name whose encrypted length claims more
    bytes than the client sent: refused before anything reads past it
    (on the sanitizer build, a read past the ticket fails this test through
    the moat log check). Then a device still connects."""
    keyfile = str(tmp_path / "ticket.keys")
    subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                         "scripts", "ticket-keys.sh"), "new", keyfile],
                   check=True, capture_output=True, timeout=10)
    name = open(keyfile, "rb").read()[:16]

    def mutate(c):
        c["listeners"][0]["tls"]["ticket_keys"] = keyfile
    m = moat_factory(live_brokers, mutate)
    for claimed, sent in ((400, 16), (300, 48), (160, 0), (0xffff, 16)):
        t = forged_ticket(name, claimed, sent)
        for hello in (client_hello_with_psk(t), client_hello_with_psk(None, tls12_ticket=t)):
            raw = socket.create_connection(("127.0.0.1", m.port), timeout=5)
            raw.sendall(hello)
            raw.settimeout(3)
            try:
                while raw.recv(4096):
                    pass
            except OSError:
                pass
            raw.close()
    assert m.proc.poll() is None, m.log()[-3000:]
    s = tls_context(pki, OWNER, "1.3").wrap_socket(
        socket.create_connection(("127.0.0.1", m.port), timeout=5), server_hostname="localhost")
    s.sendall(connect_packet(OWNER))
    assert read_connack(s) == CONNACK_OK
    s.close()
