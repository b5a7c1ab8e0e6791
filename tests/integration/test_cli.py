"""The command line: --version, --check with good and bad configs, exit
codes, and refusal of what is not supported yet."""
import json
import os
import subprocess

import pytest

from conftest import MOAT, REPO, base_config, free_port


def run(*args):
    return subprocess.run([MOAT, *args], capture_output=True, text=True, timeout=20)


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert "wolfSSL" in r.stdout and "libuv" in r.stdout and "tls1.3" in r.stdout
    assert "crl" in r.stdout


def test_usage():
    assert run().returncode == 2
    assert run("--frobnicate").returncode == 2


def write(tmp_path, text, name="moat.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_check_good(tmp_path, pki, brokers):
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    path = write(tmp_path, json.dumps(cfg))
    r = run("-c", path, "--check")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_check_example_config_shape():
    # the example names the demo PKI, which may not exist: only parse errors
    # about missing files are acceptable here
    r = run("-c", os.path.join(REPO, "config", "moat.example.yaml"), "--check")
    if r.returncode != 0:
        for line in r.stderr.splitlines():
            assert "cannot read" in line, r.stderr


def test_check_reports_file_line_col(tmp_path, pki):
    path = write(tmp_path, "limits:\n  connect_timeout: soon\nlisteners: []\nupstreams: 3\nfoo: 1\n")
    r = run("-c", path, "--check")
    assert r.returncode == 1
    err = r.stderr
    assert f"{path}:2:20: limits.connect_timeout: bad duration 'soon'" in err, err
    assert f"{path}:3:12: listeners: at least one listener" in err, err
    assert f"{path}:4:12: upstreams: expected a list" in err, err
    assert f"{path}:5:1: unknown key 'foo'" in err, err


def test_check_mismatched_key(tmp_path, pki, brokers):
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["listeners"][0]["tls"]["key"] = os.path.join(pki, "dev-good.key")
    path = write(tmp_path, json.dumps(cfg, indent=1))
    r = run("-c", path, "--check")
    assert r.returncode == 1
    assert "does not match the certificate" in r.stderr, r.stderr
    assert r.stderr.startswith(path + ":"), r.stderr


def test_check_not_a_certificate(tmp_path, pki, brokers):
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["listeners"][0]["tls"]["cert"] = os.path.join(pki, "openssl.cnf")
    path = write(tmp_path, json.dumps(cfg, indent=1))
    r = run("-c", path, "--check")
    assert r.returncode == 1 and "tls.cert" in r.stderr, r.stderr


@pytest.mark.parametrize("content,why", [
    ("-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n", "a CRL in it does not load"),
    ("junk\n", "not a CRL (PEM or DER)"),
    ("-----BEGIN X509 CRL-----\n", "no CRL found in it"),
])
def test_check_bad_crl_file(tmp_path, pki, brokers, content, why):
    crl = write(tmp_path, content, "bad.crl")
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["listeners"][0]["tls"]["crl"] = crl
    path = write(tmp_path, json.dumps(cfg, indent=1))
    r = run("-c", path, "--check")
    assert r.returncode == 1 and "tls.crl" in r.stderr and why in r.stderr, r.stderr


def test_workers_out_of_range_is_refused(tmp_path, pki, brokers):
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["workers"] = 65
    path = write(tmp_path, json.dumps(cfg, indent=1))
    for args in (["--check"], []):
        r = run("-c", path, *args)
        assert r.returncode == 1, r.stderr
        assert path + ":" in r.stderr and "workers" in r.stderr, r.stderr
        assert "64" in r.stderr, r.stderr


def test_cannot_bind_exits_3(tmp_path, pki, brokers):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    cfg = base_config(pki, brokers, port, str(tmp_path / "s.sock"))
    path = write(tmp_path, json.dumps(cfg))
    r = run("-c", path)
    s.close()
    assert r.returncode == 3
    assert "cannot listen" in r.stderr


def test_server_by_dns_name(tmp_path, pki, live_brokers, moat_factory):
    """Servers may be DNS names (resolved at load and at each reload); a
    name that does not resolve is a config error at its position."""
    from conftest import connect_packet, read_connack, tls_connect
    m = moat_factory(live_brokers, lambda c: [
        s.update(address=s["address"].replace("127.0.0.1", "localhost"))
        for s in c["upstreams"][0]["servers"]])
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    cfg = base_config(pki, live_brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["upstreams"][0]["servers"][0]["address"] = "no-such-host.invalid:1883"
    path = write(tmp_path, json.dumps(cfg, indent=1))
    r = run("-c", path, "--check")
    assert r.returncode == 1
    assert "cannot resolve 'no-such-host.invalid'" in r.stderr and r.stderr.startswith(path + ":"), \
        r.stderr


def token_config(tmp_path, pki, brokers, jwks_text):
    """A config whose listener takes tokens, with jwks_text as its JWK Set
    (written next to the config: a relative path, as users write it)."""
    write(tmp_path, jwks_text, "jwks.json")
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["listeners"][0]["tls"]["verify_client"] = "optional"
    cfg["listeners"][0]["mqtt"]["token"] = {
        "jwks": "jwks.json", "issuer": "https://auth.example.com/",
        "audience": "mqtt", "algorithms": ["ES256", "EdDSA"]}
    return write(tmp_path, json.dumps(cfg, indent=1))


def test_check_token_jwks_good(tmp_path, pki, brokers):
    import sys
    sys.path.insert(0, os.path.join(REPO, "tests"))
    import jwt_tool
    ec = jwt_tool.genkey(str(tmp_path / "ec.pem"), "P-256")
    ed = jwt_tool.genkey(str(tmp_path / "ed.pem"), "Ed25519")
    jwks = json.dumps({"keys": [jwt_tool.jwk(ec, "ec1"), jwt_tool.jwk(ed, "ed1")]})
    r = run("-c", token_config(tmp_path, pki, brokers, jwks), "--check")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


@pytest.mark.parametrize("text,why", [
    ('{"keys": [\n  {"kty": "EC",}\n]}', ":2:"),
    ('{"keys": []}', "no usable key"),
    ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "no usable key (1 skipped"),
    ('{"keys": [{"kid": "a", "kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}',
     "keys[0] (kid \"a\"): 'x' must be 32 bytes"),
    ('{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]}',
     "private key member 'd'"),
])
def test_check_token_jwks_bad(tmp_path, pki, brokers, text, why):
    path = token_config(tmp_path, pki, brokers, text)
    r = run("-c", path, "--check")
    assert r.returncode == 1, r.stderr
    jwks = str(tmp_path / "jwks.json")
    assert r.stderr.startswith(jwks + ":"), r.stderr
    assert why in r.stderr, r.stderr
    # and where the config names the file
    assert f"(mqtt.token.jwks at {path}:" in r.stderr, r.stderr


def test_check_token_section_errors(tmp_path, pki, brokers):
    cfg = base_config(pki, brokers, free_port(), str(tmp_path / "s.sock"))
    cfg["listeners"][0]["mqtt"]["token"] = {"jwks": "nope.json",
                                            "algorithms": ["ES256", "none"]}
    path = write(tmp_path, json.dumps(cfg, indent=1))
    r = run("-c", path, "--check")
    assert r.returncode == 1
    assert "mqtt.token.jwks: cannot read" in r.stderr, r.stderr
    assert "'none' is not one of: ES256, ES384, RS256, PS256, EdDSA" in r.stderr, r.stderr
    assert "missing key 'issuer'" in r.stderr, r.stderr
    assert "when: no_cert needs tls.verify_client: optional or none" in r.stderr, r.stderr
    for line in r.stderr.splitlines():
        assert line.startswith(path + ":"), line
