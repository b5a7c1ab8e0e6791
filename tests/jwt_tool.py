#!/usr/bin/env python3
"""JWK Sets and signed JWTs with openssl and Python's standard library only
(no python3-cryptography needed), for tests and for trying tokens by hand.
  python3 tests/jwt_tool.py jwk KEY.pem KID          one JWK (public part)
  python3 tests/jwt_tool.py sign ALG KEY.pem KID '{"sub":"dev-1",...}'
Keys: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 (or
P-384), -algorithm RSA -pkeyopt rsa_keygen_bits:2048, -algorithm ED25519."""
import base64
import json
import os
import subprocess
import sys
import tempfile


def run(*args):
    return subprocess.run(args, capture_output=True, check=True).stdout


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def genkey(path, kind):
    """kind: P-256, P-384, RSA2048, RSA1024, Ed25519."""
    opts = {"P-256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "P-384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "RSA2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "RSA1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "Ed25519": ["-algorithm", "ED25519"]}[kind]
    run("openssl", "genpkey", "-out", path, *opts)
    return path


def jwk(path, kid):
    """The public JWK of a private key file (EC, RSA or Ed25519)."""
    text = run("openssl", "pkey", "-in", path, "-noout", "-text").decode()
    spki = run("openssl", "pkey", "-in", path, "-pubout", "-outform", "DER")
    if "ED25519" in text:
        return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64u(spki[-32:])}
    if "P-256" in text or "P-384" in text:
        size = 32 if "P-256" in text else 48
        pt = spki[-2 * size:]  # the point 04 || X || Y ends the SPKI
        return {"kty": "EC", "crv": "P-256" if size == 32 else "P-384",
                "kid": kid, "x": b64u(pt[:size]), "y": b64u(pt[size:])}
    mod = run("openssl", "rsa", "-in", path, "-noout", "-modulus").decode()
    n = bytes.fromhex(mod.strip().split("=", 1)[1])
    return {"kty": "RSA", "kid": kid, "n": b64u(n), "e": "AQAB"}


def _der_ints(der):
    """The two INTEGERs of an ECDSA-Sig-Value SEQUENCE."""
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = []
    for _ in range(2):
        n = der[i + 1]
        out.append(der[i + 2:i + 2 + n])
        i += 2 + n
    return out


def sign(alg, key, msg):
    """The JWS signature of msg (bytes) with alg: ES256, ES384, RS256,
    PS256 or EdDSA."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(msg)
        f.flush()
        if alg in ("ES256", "ES384"):
            size = 32 if alg == "ES256" else 48
            r, s = _der_ints(run("openssl", "dgst", "-sha" + alg[2:], "-sign", key, f.name))
            # JWS wants R || S, each the curve's size (RFC 7518 3.4)
            return r.lstrip(b"\0").rjust(size, b"\0") + s.lstrip(b"\0").rjust(size, b"\0")
        if alg == "RS256":
            return run("openssl", "dgst", "-sha256", "-sign", key, f.name)
        if alg == "PS256":
            return run("openssl", "dgst", "-sha256", "-sign", key,
                       "-sigopt", "rsa_padding_mode:pss",
                       "-sigopt", "rsa_pss_saltlen:digest", f.name)
        if alg == "EdDSA":
            return run("openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", f.name)
    raise ValueError(alg)


def token(alg, key, claims, header=None, raw_payload=None):
    """A compact JWS: header {alg, typ: JWT} updated by header (a None value
    removes a member), payload claims as JSON (or raw_payload bytes)."""
    h = {"alg": alg, "typ": "JWT"}
    h.update(header or {})
    h = {k: v for k, v in h.items() if v is not None}
    p = raw_payload if raw_payload is not None else \
        json.dumps(claims, separators=(",", ":")).encode()
    inp = (b64u(json.dumps(h, separators=(",", ":")).encode()) + "." + b64u(p)).encode()
    return inp.decode() + "." + b64u(sign(alg, key, inp))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "jwk":
        print(json.dumps(jwk(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) == 6 and sys.argv[1] == "sign":
        print(token(sys.argv[2], sys.argv[3], json.loads(sys.argv[5]),
                    {"kid": sys.argv[4]}))
    else:
        sys.exit(__doc__)
