"""EST (RFC 7030) served by moat on the MQTT listener's TLS port
(mqtt.enroll.est): told apart from MQTT by the first bytes after the
handshake, answered by moat itself (cacerts, simpleenroll, simplereenroll)
under the same "who may ask" rules as renewal over MQTT, never forwarded.
Clients are curl and openssl (no EST client is packaged) and raw TLS
sockets for the malformed, split and slow requests."""
import base64
import datetime
import json
import os
import socket
import ssl
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import connect_packet, wait_for
from lifecycle_pki import make_csr, make_leaf
from test_enroll import (Device, ca, cn_of, ctx_for, enroll_cfg, leaf, publish_packet,  # noqa: F401
                         read_packet, refused, session)

EST = "/.well-known/est/"


@pytest.fixture
def est_moat(moat_factory, live_brokers, ca):
    return moat_factory(live_brokers, enroll_cfg(ca, est=True))


def curl(m, pki, path, d=None, cn=None, data=None, headers=(), method=None, key=None):
    """(status, headers text, body bytes) of one request with curl."""
    out = os.path.join(m.dir, "curl.body")
    hdr = os.path.join(m.dir, "curl.head")
    cmd = ["curl", "-s", "-o", out, "-D", hdr, "-w", "%{http_code}", "--max-time", "15",
           "--cacert", os.path.join(pki, "ca.crt")]
    if cn:
        cmd += ["--cert", os.path.join(d, f"{cn}.crt"), "--key", key or os.path.join(d, f"{cn}.key")]
    if data is not None:
        with open(os.path.join(m.dir, "curl.data"), "wb") as f:
            f.write(data)
        cmd += ["--data-binary", "@" + os.path.join(m.dir, "curl.data")]
    for h in headers:
        cmd += ["-H", h]
    if method:
        cmd += ["-X", method]
    cmd.append(f"https://localhost:{m.port}{path}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    body = open(out, "rb").read() if os.path.exists(out) else b""
    head = open(hdr).read() if os.path.exists(hdr) else ""
    return int(r.stdout or 0), head, body


def openssl_csr(d, name, cn):
    """A P-256 key (d/name.key) and its request for cn, DER in base64."""
    r = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        os.path.join(d, f"{name}.key"), "-subj", f"/CN={cn}",
                        "-outform", "DER"], capture_output=True, timeout=30, check=True)
    return base64.encodebytes(r.stdout)


def p7_certs(body):
    """The certificates of a base64 PKCS#7 certs-only answer, through
    `base64 -d | openssl pkcs7 -inform DER -print_certs`."""
    der = subprocess.run(["base64", "-d"], input=body, capture_output=True, check=True,
                         timeout=30).stdout
    pem = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs"], input=der,
                         capture_output=True, check=True, timeout=30).stdout
    end = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(b + end) for b in pem.split(end)
            if b"-----BEGIN CERTIFICATE-----" in b]


def enroll(m, pki, d, cn, csr_b64, op="simpleenroll", headers=(), **kw):
    return curl(m, pki, EST + op, d, cn, data=csr_b64,
                headers=["Content-Type: application/pkcs10", *headers], **kw)


def save(d, name, cert):
    with open(os.path.join(d, f"{name}.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def raw(m, pki, d, cn, chunks, delay=0.0, timeout=15, cert=True):
    """Send chunks over one TLS connection (a pause between them); what
    came back until the server closed."""
    ctx = ctx_for(pki, d, cn) if cert else ssl.create_default_context(
        cafile=os.path.join(pki, "ca.crt"))
    sock = socket.create_connection(("127.0.0.1", m.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(sock, server_hostname="localhost")
    got = b""
    try:
        for c in chunks:
            s.sendall(c)
            if delay:
                time.sleep(delay)
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    finally:
        s.close()
    return got


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def test_cacerts_returns_the_issuing_ca(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-ca", ca, days=60)
    st, head, body = curl(est_moat, pki, EST + "cacerts", d, "dev-ca")
    assert st == 200, (head, body, est_moat.log()[-2000:])
    assert "content-type: application/pkcs7-mime\n" in head.lower()
    assert "content-transfer-encoding: base64" in head.lower()
    certs = p7_certs(body)
    assert [c.public_bytes(serialization.Encoding.DER) for c in certs] == \
        [ca["inter"][0].public_bytes(serialization.Encoding.DER)]


def test_claim_certificate_enrolls_over_est_then_connects(est_moat, pki, ca, tmp_path,
                                                        live_brokers):
    """simpleenroll with a claim certificate: a first certificate for the
    claim certificate's identity, which then does MQTT through moat to a
    broker, a message passing both ways."""
    d = str(tmp_path)
    make_leaf(d, "dev-est", ca=ca["claim"], days=365)
    csr = openssl_csr(d, "dev-est-new", "dev-est")
    st, head, body = enroll(est_moat, pki, d, "dev-est", csr)
    assert st == 200, (head, body, est_moat.log()[-3000:])
    assert "application/pkcs7-mime; smime-type=certs-only" in head
    certs = p7_certs(body)
    assert len(certs) == 1 and cn_of(certs[0]) == "dev-est"
    assert certs[0].issuer == ca["inter"][0].subject
    save(d, "dev-est-new", certs[0])
    log = est_moat.log()
    assert "cert_issued" in log and "via=est" in log
    assert "enrolled: 1 mqtt=0 est=1" in est_moat.ctl("show enroll")
    dev = Device(pki, d, "dev-est-new", est_moat.port, mqtt.MQTTv311, cid="dev-est")
    try:
        assert dev.echo("t/dev-est", b"hello over est")
    finally:
        dev.close()
    assert any("dev-est" in b.clients() for b in live_brokers)


def test_attack_est_csr_for_other_identity(est_moat, pki, ca, tmp_path):
    """The request asks for another name: the certificate is for the one
    authenticated (the claim certificate's), nothing of the request's
    subject in it."""
    d = str(tmp_path)
    make_leaf(d, "dev-who", ca=ca["claim"], days=365)
    st, _, body = enroll(est_moat, pki, d, "dev-who", openssl_csr(d, "k", "dev-admin"))
    assert st == 200
    cert = p7_certs(body)[0]
    assert cn_of(cert) == "dev-who"
    assert b"dev-admin" not in cert.public_bytes(serialization.Encoding.DER)


def test_reenroll_inside_the_window_and_too_early(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-re", ca, days=5)  # renew_before is 20d
    st, head, body = enroll(est_moat, pki, d, "dev-re", openssl_csr(d, "n", "x"),
                            op="simplereenroll")
    assert st == 200, (head, body)
    assert cn_of(p7_certs(body)[0]) == "dev-re"
    # simpleenroll with a device certificate is a renewal too
    st, _, body = enroll(est_moat, pki, d, "dev-re", openssl_csr(d, "n2", "x"))
    assert st == 200 and cn_of(p7_certs(body)[0]) == "dev-re"
    leaf(d, "dev-early", ca, days=60)
    st, head, body = enroll(est_moat, pki, d, "dev-early", openssl_csr(d, "n3", "x"),
                            op="simplereenroll")
    assert st == 403, (head, body)
    assert body.startswith(b"rejected: too_early: renewal opens at "), body
    out = est_moat.ctl("show enroll")
    assert "renewed: 2 mqtt=0 est=2" in out and "too_early: 1 mqtt=0 est=1" in out, out


def test_certificate_in_grace_reenrolls_but_does_no_mqtt(est_moat, pki, ca, tmp_path,
                                                         live_brokers):
    d = str(tmp_path)
    past = datetime.datetime.utcnow() - datetime.timedelta(days=10)
    leaf(d, "dev-late", ca, seconds=-3600, start=past)  # grace is 1d
    st, head, body = enroll(est_moat, pki, d, "dev-late", openssl_csr(d, "n", "x"),
                            op="simplereenroll")
    assert st == 200, (head, body, est_moat.log()[-2000:])
    assert cn_of(p7_certs(body)[0]) == "dev-late"
    marks = [b.mark() for b in live_brokers]
    s = session(pki, d, "dev-late", est_moat.port)
    s.sendall(publish_packet("devices/dev-late", b"data", qos=1))
    assert read_packet(s) == b""
    s.close()
    assert wait_for(lambda: est_moat.rejects("enroll_only") == 1, 5)
    assert all("dev-late" not in b.text()[since:] for b, since in zip(live_brokers, marks))


def test_attack_est_claim_certificate_does_mqtt(est_moat, pki, ca, tmp_path, live_brokers):
    """A claim certificate on the MQTT side of the port: its PUBLISH to a
    normal topic ends the session and never reaches a broker."""
    d = str(tmp_path)
    make_leaf(d, "dev-cl", ca=ca["claim"], days=365)
    marks = [b.mark() for b in live_brokers]
    s = session(pki, d, "dev-cl", est_moat.port)
    s.sendall(publish_packet("devices/dev-cl/up", b"data"))
    assert read_packet(s) == b""
    s.close()
    assert wait_for(lambda: est_moat.rejects("enroll_only") == 1, 5)
    assert all("dev-cl" not in b.text()[since:] for b, since in zip(live_brokers, marks))


def test_est_certificate_refused_after_revocation(est_moat, pki, ca, tmp_path):
    """Revoked in moat's index with `openssl ca`, a CRL made from it with
    -gencrl, moat reloaded: the certificate EST issued is refused at the
    handshake."""
    d = str(tmp_path)
    make_leaf(d, "dev-rv", ca=ca["claim"], days=365)
    st, _, body = enroll(est_moat, pki, d, "dev-rv", openssl_csr(d, "dev-rv-new", "z"))
    assert st == 200
    save(d, "dev-rv-new", p7_certs(body)[0])
    Device(pki, d, "dev-rv-new", est_moat.port, cid="dev-rv").close()
    cad = ca["dir"]
    with open(os.path.join(cad, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = issued.txt\ndefault_md = sha256\n"
                "crlnumber = crlnum\ndefault_crl_days = 30\n")
    with open(os.path.join(cad, "crlnum"), "w") as f:
        f.write("3000\n")
    run = dict(cwd=cad, capture_output=True, text=True, timeout=30)
    r = subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-cert", "inter.crt", "-keyfile",
                        "inter.key", "-revoke", os.path.join(d, "dev-rv-new.crt")], **run)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-cert", "inter.crt", "-keyfile",
                        "inter.key", "-gencrl", "-out", "inter.crl"], **run)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(cad, "crl.pem"), "w") as f:
        f.write(open(os.path.join(pki, "root.crl")).read())
        f.write(open(os.path.join(cad, "inter.crl")).read())
        f.write(open(os.path.join(cad, "claim.crl")).read())
    assert est_moat.ctl("reload").startswith("ok"), est_moat.log()[-2000:]
    assert refused(pki, d, "dev-rv-new", est_moat.port, "dev-rv")
    assert wait_for(lambda: est_moat.rejects("cert_revoked") >= 1, 5)
    # and EST with it is refused at the handshake too
    st, _, _ = curl(est_moat, pki, EST + "cacerts", d, "dev-rv-new")
    assert st == 0


@pytest.fixture
def token_moat(moat_factory, live_brokers, ca, tmp_path):
    from test_tokens import AUD, ISS, jwt_tool
    d = tmp_path / "jwks"
    d.mkdir()
    k = jwt_tool.genkey(str(d / "ec.pem"), "P-256")
    with open(d / "jwks.json", "w") as f:
        json.dump({"keys": [jwt_tool.jwk(k, "k-ec")]}, f)

    def mutate(c):
        enroll_cfg(ca, est=True)(c)
        c["listeners"][0]["tls"]["verify_client"] = "optional"
        c["listeners"][0]["mqtt"]["token"] = {
            "when": "no_cert", "jwks": str(d / "jwks.json"), "issuer": ISS, "audience": AUD}
    m = moat_factory(live_brokers, mutate)

    def token(sub, key=k):
        return jwt_tool.token("ES256", key, {"iss": ISS, "aud": AUD, "sub": sub,
                                             "exp": int(time.time()) + 600}, {"kid": "k-ec"})
    m.token = token
    m.other_key = jwt_tool.genkey(str(d / "other.pem"), "P-256")
    return m


def test_token_enrolls_over_est(token_moat, pki, tmp_path):
    """Authorization: Bearer, and Basic with the token as the password: a
    first certificate for the token's identity."""
    d = str(tmp_path)
    st, head, body = enroll(token_moat, pki, d, None, openssl_csr(d, "t1", "other"),
                            headers=["Content-Type: application/pkcs10",
                                     "Authorization: Bearer " + token_moat.token("dev-tok")])
    assert st == 200, (head, body, token_moat.log()[-2000:])
    assert cn_of(p7_certs(body)[0]) == "dev-tok"
    basic = base64.b64encode(b"dev-tok2:" + token_moat.token("dev-tok2").encode()).decode()
    st, _, body = enroll(token_moat, pki, d, None, openssl_csr(d, "t2", "x"),
                         headers=["Authorization: Basic " + basic])
    assert st == 200 and cn_of(p7_certs(body)[0]) == "dev-tok2"
    assert "enrolled: 2 mqtt=0 est=2" in token_moat.ctl("show enroll")


def test_attack_est_bad_token(token_moat, pki, tmp_path):
    d = str(tmp_path)
    forged = token_moat.token("dev-admin", key=token_moat.other_key)
    st, head, body = enroll(token_moat, pki, d, None, openssl_csr(d, "t", "x"),
                            headers=["Authorization: Bearer " + forged])
    assert st == 401, (head, body)
    assert "www-authenticate: bearer" in head.lower()
    assert wait_for(lambda: token_moat.rejects("token_invalid") == 1, 5)
    assert forged not in body.decode()
    assert forged not in token_moat.log()


def test_attack_est_no_certificate_no_token(token_moat, pki, tmp_path):
    d = str(tmp_path)
    st, head, body = enroll(token_moat, pki, d, None, openssl_csr(d, "t", "x"))
    assert st == 401, (head, body)
    assert "www-authenticate: basic" in head.lower()
    assert token_moat.rejects("token_missing") == 1
    assert "enrolled: 0" in token_moat.ctl("show enroll")


def test_attack_est_claim_certificate_on_simplereenroll(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    make_leaf(d, "dev-cr", ca=ca["claim"], days=365)
    st, head, body = enroll(est_moat, pki, d, "dev-cr", openssl_csr(d, "n", "x"),
                            op="simplereenroll")
    assert st == 403, (head, body)
    assert body.startswith(b"rejected: not_allowed: a claim certificate"), body
    assert not os.path.exists(os.path.join(ca["dir"], "issued.txt")) or \
        open(os.path.join(ca["dir"], "issued.txt")).read() == ""


def test_attack_est_oversized_body(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-big", ca, days=5)
    head = (f"POST {EST}simplereenroll HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/pkcs10\r\nContent-Length: 200000\r\n\r\n").encode()
    resp = raw(est_moat, pki, d, "dev-big", [head, b"A" * 16000])
    assert status_of(resp) == 413, resp
    assert est_moat.rejects("est_too_large") == 1
    # curl's way, the whole body sent
    st, _, _ = enroll(est_moat, pki, d, "dev-big", b"QUFB" * 10000, op="simplereenroll")
    assert st in (413, 0)


def test_attack_est_oversized_headers(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-hd", ca, days=5)
    req = (f"GET {EST}cacerts HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + "a" * 9000).encode()
    resp = raw(est_moat, pki, d, "dev-hd", [req])
    assert status_of(resp) in (431, 400), resp
    lines = "".join(f"X-{i}: y\r\n" for i in range(100))
    resp = raw(est_moat, pki, d, "dev-hd",
               [f"GET {EST}cacerts HTTP/1.1\r\nHost: localhost\r\n{lines}\r\n".encode()])
    assert status_of(resp) == 431, resp


@pytest.mark.parametrize("req", [b"GARBAGE\r\n\r\n", b"GET /\x01 HTTP/1.1\r\n\r\n",
                                 b"POST  HTTP/1.1\r\n\r\n",
                                 b"GET /.well-known/est/cacerts HTTP/1.0\r\nHost: x\r\n\r\n",
                                 b"GET /.well-known/est/cacerts HTTP/1.1\r\n\r\n"])
def test_attack_est_garbage_request_line(est_moat, pki, ca, tmp_path, req):
    d = str(tmp_path)
    leaf(d, "dev-g", ca, days=5)
    resp = raw(est_moat, pki, d, "dev-g", [req])
    assert status_of(resp) == 400, resp
    assert wait_for(lambda: est_moat.rejects("est_bad_request") == 1, 5)


def test_est_paths_and_methods(est_moat, pki, ca, tmp_path):
    """csrattrs, serverkeygen, CA labels, unknown paths: 404; the wrong
    method: 405 with Allow; chunked bodies: 411."""
    d = str(tmp_path)
    leaf(d, "dev-p", ca, days=5)
    for path in ("csrattrs", "serverkeygen", "fullcmc", "lab/cacerts", "", "../cacerts"):
        st, _, _ = curl(est_moat, pki, EST + path, d, "dev-p")
        assert st == 404, path
    st, head, _ = curl(est_moat, pki, EST + "cacerts", d, "dev-p", method="POST", data=b"x")
    assert st == 405 and "Allow: GET" in head
    st, head, _ = curl(est_moat, pki, EST + "simpleenroll", d, "dev-p")
    assert st == 405 and "Allow: POST" in head
    st, _, _ = enroll(est_moat, pki, d, "dev-p", b"QUFB",
                      headers=["Transfer-Encoding: chunked"])
    assert st == 411


def test_attack_est_request_split_byte_by_byte(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-sp", ca, days=5)
    req = get(EST + "cacerts")
    resp = raw(est_moat, pki, d, "dev-sp", [req[i:i + 1] for i in range(len(req))], delay=0.01)
    assert status_of(resp) == 200, resp
    body = resp.split(b"\r\n\r\n", 1)[1]
    assert p7_certs(body)[0].subject == ca["inter"][0].subject


def test_attack_est_slowloris(est_moat, pki, ca, tmp_path):
    """An incomplete request: 408 and closed at connect_timeout (3s)."""
    d = str(tmp_path)
    leaf(d, "dev-slow", ca, days=5)
    t0 = time.monotonic()
    resp = raw(est_moat, pki, d, "dev-slow",
               [b"GET /.well-known/est/cacerts HTTP/1.1\r\nHost: local"], timeout=20)
    assert time.monotonic() - t0 < 15
    assert status_of(resp) == 408, resp
    assert wait_for(lambda: est_moat.rejects("est_timeout") == 1, 5)


def test_attack_est_csr_with_a_bad_signature(est_moat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-bs", ca, days=5)
    der = bytearray(make_csr("dev-bs", der=True)[0])
    der[-3] ^= 0x55
    st, head, body = enroll(est_moat, pki, d, "dev-bs", base64.encodebytes(bytes(der)),
                            op="simplereenroll")
    assert st == 400, (head, body)
    assert body.startswith(b"rejected: bad_signature"), body
    st, _, body = enroll(est_moat, pki, d, "dev-bs", b"not base64 at all!",
                         op="simplereenroll")
    assert st == 400 and body.startswith(b"rejected: malformed"), body
    out = est_moat.ctl("show enroll")
    assert "bad_signature: 1 mqtt=0 est=1" in out and "malformed: 1 mqtt=0 est=1" in out


def test_attack_est_http_on_a_listener_without_est(moat_factory, live_brokers, ca, pki,
                                                   tmp_path):
    """Without est: true an HTTP request is a malformed CONNECT, as ever:
    no HTTP answer, nothing forwarded."""
    m = moat_factory(live_brokers, enroll_cfg(ca))
    d = str(tmp_path)
    leaf(d, "dev-n", ca, days=5)
    marks = [b.mark() for b in live_brokers]
    resp = raw(m, pki, d, "dev-n", [get(EST + "cacerts")])
    assert not resp.startswith(b"HTTP/"), resp
    assert wait_for(lambda: m.rejects("bad_connect") == 1, 5)
    assert all(not b.clients(since) for b, since in zip(live_brokers, marks))


def test_attack_est_pipelined_connect_after_request(est_moat, pki, ca, tmp_path,
                                                    live_brokers):
    """An MQTT CONNECT sent behind an EST request in the same write: the
    request is answered, the connection closed, the CONNECT never reaches
    a broker."""
    d = str(tmp_path)
    leaf(d, "dev-pl", ca, days=5)
    marks = [b.mark() for b in live_brokers]
    resp = raw(est_moat, pki, d, "dev-pl",
               [get(EST + "cacerts") + connect_packet("dev-pl")])
    assert status_of(resp) == 200, resp
    assert b"\x20\x02" not in resp.split(b"\r\n\r\n", 1)[1][-8:]
    time.sleep(0.5)
    assert all("dev-pl" not in b.text()[since:] for b, since in zip(live_brokers, marks))
    assert "forward conn=" not in est_moat.log()


def test_est_issuer_failure_is_503(est_moat, pki, ca, tmp_path):
    """The index cannot be written (a directory where the file should be):
    503 with Retry-After, outcome error, nothing handed out."""
    d = str(tmp_path)
    make_leaf(d, "dev-503", ca=ca["claim"], days=365)
    os.mkdir(os.path.join(ca["dir"], "issued.txt"))
    st, head, body = enroll(est_moat, pki, d, "dev-503", openssl_csr(d, "n", "x"))
    assert st == 503, (head, body)
    assert "Retry-After: 60" in head and body.startswith(b"rejected: error"), body
    assert "error: 1 mqtt=0 est=1" in est_moat.ctl("show enroll")
