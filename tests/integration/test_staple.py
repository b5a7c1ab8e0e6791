"""tls.staple: FILE for a server certificate without an OCSP URL (no
authorityInfoAccess), as a private PKI issues them: the response is fetched
by the operator with `openssl ocsp -url` from a real responder (signed by a
delegated id-kp-OCSPSigning certificate, or by the issuing CA itself), and
moat staples it over TLS 1.2 and 1.3 (checked with `openssl s_client
-status`). When moat holds a staple it cannot send, the log
(`staple_unusable reason=...`), `show tls` and `--check` say why."""
import datetime
import os
import shutil
import subprocess

import pytest

from conftest import MOAT, connect_packet, read_connack, tls_connect, wait_for
from test_ocsp import Responder, s_client_status

OK3 = b"\x20\x02\x00\x00"


def fetch_staple(pki, out, nonce):
    """What the issue's operator ran: ask the running responder (the test
    PKI's, on ocsp.port) about server-noaia and keep the DER response."""
    port = open(os.path.join(pki, "ocsp.port")).read().strip()
    r = subprocess.run(["openssl", "ocsp", "-issuer", "inter.crt", "-cert",
                        "server-noaia.leaf.crt", "-url", f"http://127.0.0.1:{port}",
                        "-CAfile", "ca.crt", "-respout", str(out)]
                       + ([] if nonce else ["-no_nonce"]),
                       cwd=pki, capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    assert "Response verify OK" in text and "server-noaia.leaf.crt: good" in text, text
    return str(out)


def offline_response(pki, out, index, signer):
    """A response for server-noaia from `openssl ocsp` run once on index
    (-reqin/-respout, no network)."""
    req = str(out) + ".req"
    subprocess.run(["openssl", "ocsp", "-issuer", "inter.crt", "-cert", "server-noaia.leaf.crt",
                    "-no_nonce", "-reqout", req], cwd=pki, capture_output=True, check=True,
                   timeout=30)
    subprocess.run(["openssl", "ocsp", "-index", index, "-rsigner", f"{signer}.crt",
                    "-rkey", f"{signer}.key", "-CA", "inter.crt", "-reqin", req,
                    "-respout", str(out), "-nmin", "60"], cwd=pki, capture_output=True,
                   check=True, timeout=30)
    return str(out)


def dated_response(pki, out, this_update, next_update):
    """A good response for server-noaia with chosen dates, signed by the
    delegated responder (python cryptography: `openssl ocsp` always dates
    its answers now)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    def cert(name):
        with open(os.path.join(pki, name), "rb") as f:
            return x509.load_pem_x509_certificate(f.read())
    signer = cert("ocsp-responder.crt")
    with open(os.path.join(pki, "ocsp-responder.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    resp = (ocsp.OCSPResponseBuilder()
            .add_response(cert=cert("server-noaia.leaf.crt"), issuer=cert("inter.crt"),
                          algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.GOOD,
                          this_update=this_update, next_update=next_update,
                          revocation_time=None, revocation_reason=None)
            .responder_id(ocsp.OCSPResponderEncoding.NAME, signer)
            .certificates([signer])
            .sign(key, hashes.SHA256()))
    with open(out, "wb") as f:
        f.write(resp.public_bytes(serialization.Encoding.DER))
    return str(out)


def noaia(cfg, staple):
    tls = cfg["listeners"][0]["tls"]
    tls["cert"] = tls["cert"].replace("server.crt", "server-noaia.crt")
    tls["key"] = tls["key"].replace("server.key", "server-noaia.key")
    tls["staple"] = staple


def noaia_moat(moat_factory, brokers, staple, start=True):
    return moat_factory(brokers, lambda cfg: noaia(cfg, staple), start=start)


def check(m):
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def staple_lines(m):
    return {k: v for k, v in m.kv("show tls").items() if k.startswith("staple")}


def stapled(m, pki, version):
    return "Cert Status: good" in s_client_status(m.port, version, pki)


@pytest.mark.parametrize("signer,responder_cn", [
    ("ocsp-responder", "moat test OCSP responder"),
    ("inter", "moat test intermediate CA")], ids=["delegated", "issuer"])
@pytest.mark.parametrize("nonce", [False, True], ids=["no_nonce", "nonce"])
def test_file_is_stapled_for_a_certificate_without_aia(moat_factory, live_brokers, pki, tmp_path,
                                                       signer, responder_cn, nonce):
    r = Responder(pki, signer=signer, args=["-nmin", "10"])  # nextUpdate 10 min ahead
    r.start()
    try:
        staple = fetch_staple(pki, tmp_path / "staple.der", nonce)
    finally:
        r.stop()  # moat never asks a responder for a FILE staple
    m = noaia_moat(moat_factory, live_brokers, staple)
    code, out = check(m)
    assert code == 0 and "staple_unusable" not in out, out
    for v in ("-tls1_2", "-tls1_3"):
        out = s_client_status(m.port, v, pki)
        assert "Cert Status: good" in out and f"Responder Id: CN = {responder_cn}" in out, \
            out[-3000:]
    lines = staple_lines(m)
    assert lines["staple"] == "good" and lines["staple_reason"] == "-", lines
    assert lines["staple_source"] == staple and lines["staple_status"] == "good"
    assert lines["staple_next_update"] != "-" and lines["staple_this_update"] != "-", lines
    assert "staple_unusable" not in m.log()
    # client certificates are not OCSP-checked for it (tls.ocsp is off): an
    # ocsp-* device whose AIA names the (stopped) responder connects
    s = tls_connect(pki, m.port, "ocsp-good", "1.2")
    s.sendall(connect_packet("ocsp-good"))
    assert read_connack(s) == OK3
    assert "ocsp_fetch" not in m.log()


def test_unusable_file_is_said_at_load_and_reload(moat_factory, live_brokers, pki, tmp_path):
    empty = os.path.join(str(tmp_path), "empty.index")
    open(empty, "w").close()
    open(empty + ".attr", "w").write("unique_subject = no\n")
    unknown = offline_response(pki, tmp_path / "unknown.der", empty, "ocsp-responder")
    staple = str(tmp_path / "staple.der")
    shutil.copy(unknown, staple)
    m = noaia_moat(moat_factory, live_brokers, staple)
    code, out = check(m)  # --check reports it, and the config is still valid
    assert code == 0 and "staple_unusable" in out and "reason=status_unknown" in out, out
    assert "staple_unusable" in m.log() and "reason=status_unknown" in m.log(), m.log()
    lines = staple_lines(m)
    assert lines["staple"] == "none" and lines["staple_reason"] == "status_unknown", lines
    assert lines["staple_status"] == "unknown"
    for v in ("-tls1_2", "-tls1_3"):
        out = s_client_status(m.port, v, pki)
        assert "OCSP response: no response sent" in out, out[-2000:]

    # a good one in its place: stapled after reload
    shutil.copy(offline_response(pki, tmp_path / "good.der", "ocsp.index", "ocsp-responder"),
                staple)
    assert m.ctl("reload").strip() == "ok"
    assert stapled(m, pki, "-tls1_3") and stapled(m, pki, "-tls1_2")
    assert staple_lines(m)["staple"] == "good"

    # one past its nextUpdate: said at reload, not stapled
    now = datetime.datetime.utcnow()
    dated_response(pki, staple, now - datetime.timedelta(hours=2),
                   now - datetime.timedelta(hours=1))
    before = len(m.log())
    assert m.ctl("reload").strip() == "ok"
    assert "staple_unusable" in m.log()[before:] and "reason=expired" in m.log()[before:]
    lines = staple_lines(m)
    assert lines["staple"] == "none" and lines["staple_reason"] == "expired", lines
    out = s_client_status(m.port, "-tls1_2", pki)
    assert "OCSP response: no response sent" in out, out[-2000:]


def test_file_that_runs_out_is_said_once(moat_factory, live_brokers, pki, tmp_path):
    now = datetime.datetime.utcnow()
    staple = dated_response(pki, str(tmp_path / "staple.der"),
                            now - datetime.timedelta(minutes=5),
                            now + datetime.timedelta(seconds=3))
    m = noaia_moat(moat_factory, live_brokers, staple)
    assert stapled(m, pki, "-tls1_3"), m.log()[-2000:]
    assert wait_for(lambda: staple_lines(m)["staple"] == "none", 15)
    assert staple_lines(m)["staple_reason"] == "expired"
    for v in ("-tls1_2", "-tls1_3"):
        out = s_client_status(m.port, v, pki)
        assert "OCSP response: no response sent" in out, out[-2000:]
    log = m.log()
    assert log.count("staple_unusable") == 1 and "reason=expired" in log, log[-3000:]
    assert "staple_none" in log  # each handshake without one, at debug


def test_file_signed_by_an_unauthorised_key_is_a_config_error(moat_factory, live_brokers, pki,
                                                              tmp_path):
    """dev-good's certificate is not for OCSP signing: wolfSSL would never
    accept the response, so moat refuses to load it."""
    bad = offline_response(pki, tmp_path / "bad.der", "ocsp.index", "dev-good")
    m = noaia_moat(moat_factory, live_brokers, bad, start=False)
    code, out = check(m)
    assert code == 1 and "wolfSSL does not accept" in out and "id-kp-OCSPSigning" in out, out


def client_ocsp(responder_url, staple):
    def mutate(cfg):
        tls = cfg["listeners"][0]["tls"]
        tls.pop("crl")  # OCSP alone decides here
        tls["ocsp"] = {"mode": "require", "timeout": "1s"}
        if responder_url:
            tls["ocsp"]["responder"] = responder_url
        noaia(cfg, staple)
    return mutate


def test_file_without_aia_and_client_ocsp(moat_factory, live_brokers, pki, tmp_path):
    r = Responder(pki)
    r.start()
    try:
        staple = fetch_staple(pki, tmp_path / "staple.der", False)
        # tls.ocsp on with the client certificates' own responders (AIA):
        # wolfSSL would ask for the staple only at an override URL, which
        # would replace those responders: refused, saying what to set
        m = moat_factory(live_brokers, client_ocsp(None, staple), start=False)
        code, out = check(m)
        assert code == 1 and "tls.ocsp.responder" in out, out

        # with tls.ocsp.responder: the staple is sent, and client
        # certificates are checked at that responder as before
        o = moat_factory(live_brokers, client_ocsp(f"http://127.0.0.1:{r.port}/", staple))
        for v in ("-tls1_2", "-tls1_3"):
            out = s_client_status(o.port, v, pki)
            assert "Cert Status: good" in out, out[-3000:]
        assert staple_lines(o)["staple"] == "good"
        s = tls_connect(pki, o.port, "ocsp-good", "1.3")
        s.sendall(connect_packet("ocsp-good"))
        assert read_connack(s) == OK3
        s = tls_connect(pki, o.port, "ocsp-unknown", "1.2")
        s.sendall(connect_packet("ocsp-unknown"))
        assert read_connack(s) == b"\x20\x02\x00\x05"
        assert o.rejects("ocsp_unknown") == 1
    finally:
        r.stop()
