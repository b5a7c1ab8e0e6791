#!/usr/bin/env python3
"""Makes tests/unit/jwt_vectors.h: a JWK Set and signed tokens for
test_jwt.c, with openssl (keys, signatures) and the Python standard library
only. Run once; the output is committed (ECDSA signatures are random, so a
rerun gives other bytes with the same meaning).
usage: python3 tests/unit/gen_jwt_vectors.py > tests/unit/jwt_vectors.h"""
import base64
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from jwt_tool import b64u, genkey, jwk, token  # noqa: E402

NOW = 1800000000  # the tests' clock
ISS = "https://auth.example.com/"
AUD = "mqtt"

work = tempfile.mkdtemp()


def key(name, kind):
    return genkey(os.path.join(work, name + ".pem"), kind)


def claims(**kw):
    c = {"iss": ISS, "aud": AUD, "sub": "dev-1", "exp": NOW + 3600,
         "nbf": NOW - 60, "iat": NOW - 60}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


ec1 = key("ec1", "P-256")
ec2 = key("ec2", "P-256")
ec384 = key("ec384", "P-384")
rsa1 = key("rsa1", "RSA2048")
rsa_small = key("rsa_small", "RSA1024")
ed1 = key("ed1", "Ed25519")

keys = [dict(jwk(ec1, "ec1"), use="sig"), jwk(ec2, "ec2"), jwk(ec384, "ec384"),
        jwk(rsa1, "rsa1"), jwk(ed1, "ed1"),
        # skipped: a shared secret, and a key for encryption
        {"kty": "oct", "kid": "hmac", "k": b64u(b"secret")},
        dict(jwk(rsa1, "rsa-enc"), use="enc")]
jwks = json.dumps({"keys": keys}, indent=1)
small = jwk(rsa_small, "small")

T = {}
T["es256_good"] = token("ES256", ec1, claims(), {"kid": "ec1"})
T["es256_ec2"] = token("ES256", ec2, claims(sub="dev-2"), {"kid": "ec2"})
T["es384_good"] = token("ES384", ec384, claims(), {"kid": "ec384"})
T["rs256_good"] = token("RS256", rsa1, claims(), {"kid": "rsa1"})
T["ps256_good"] = token("PS256", rsa1, claims(), {"kid": "rsa1"})
T["eddsa_good"] = token("EdDSA", ed1, claims(), {"kid": "ed1"})
T["eddsa_nokid"] = token("EdDSA", ed1, claims())
T["es256_nokid"] = token("ES256", ec1, claims())
T["at_jwt_typ"] = token("ES256", ec1, claims(), {"kid": "ec1",
                                                 "typ": "at+jwt"})
T["bad_typ"] = token("ES256", ec1, claims(), {"kid": "ec1",
                                              "typ": "dpop+jwt"})
T["crit"] = token("ES256", ec1, claims(), {"kid": "ec1", "crit": ["exp"]})
T["expired"] = token("ES256", ec1, claims(exp=NOW - 3600), {"kid": "ec1"})
T["exp_edge_ok"] = token("ES256", ec1, claims(exp=NOW - 29), {"kid": "ec1"})
T["exp_edge_bad"] = token("ES256", ec1, claims(exp=NOW - 30), {"kid": "ec1"})
T["exp_real"] = token("ES256", ec1, claims(exp=NOW + 10.5), {"kid": "ec1"})
T["no_exp"] = token("ES256", ec1, claims(exp=None), {"kid": "ec1"})
T["exp_string"] = token("ES256", ec1, claims(exp=str(NOW + 60)),
                        {"kid": "ec1"})
T["nbf_future"] = token("ES256", ec1, claims(nbf=NOW + 31), {"kid": "ec1"})
T["nbf_edge_ok"] = token("ES256", ec1, claims(nbf=NOW + 30), {"kid": "ec1"})
T["wrong_iss"] = token("ES256", ec1, claims(iss="https://evil.example/"),
                       {"kid": "ec1"})
T["no_iss"] = token("ES256", ec1, claims(iss=None), {"kid": "ec1"})
T["wrong_aud"] = token("ES256", ec1, claims(aud="other"), {"kid": "ec1"})
T["aud_array"] = token("ES256", ec1, claims(aud=["other", AUD]),
                       {"kid": "ec1"})
T["aud_array_wrong"] = token("ES256", ec1, claims(aud=["other", "x"]),
                             {"kid": "ec1"})
T["no_sub"] = token("ES256", ec1, claims(sub=None), {"kid": "ec1"})
T["sub_number"] = token("ES256", ec1, claims(sub=42), {"kid": "ec1"})
T["sub_ctrl"] = token("ES256", ec1, claims(sub="dev\n1"), {"kid": "ec1"})
T["client_id_claim"] = token("ES256", ec1, claims(client_id="dev-9"),
                             {"kid": "ec1"})
T["unknown_kid"] = token("ES256", ec1, claims(), {"kid": "nope"})
T["wrong_key_type"] = token("ES256", ec1, claims(), {"kid": "rsa1"})
T["rs_on_ec_kid"] = token("RS256", rsa1, claims(), {"kid": "ec1"})
T["hs256"] = token("ES256", ec1, claims(), {"kid": "ec1", "alg": "HS256"})
T["alg_none_sig"] = token("ES256", ec1, claims(), {"kid": "ec1",
                                                   "alg": "none"})
T["payload_bad_json"] = token("ES256", ec1, None, {"kid": "ec1"},
                              raw_payload=b'{"sub":"dev-1",')
T["enc_key_kid"] = token("RS256", rsa1, claims(), {"kid": "rsa-enc"})
# bad signature: the good token's signature with one bit flipped
h, p, s = T["es256_good"].split(".")
raw = bytearray(base64.urlsafe_b64decode(s + "=="))
raw[5] ^= 1
T["bad_sig"] = h + "." + p + "." + b64u(bytes(raw))
# the signature of another token (other key, same kid claimed)
T["sig_other_key"] = h + "." + p + "." + T["es256_ec2"].split(".")[2]
# alg none, no signature at all
T["alg_none"] = (b64u(b'{"alg":"none","typ":"JWT"}') + "." +
                 b64u(json.dumps(claims()).encode()) + ".")
# duplicate member in the header: a second alg must not slip through
T["dup_alg"] = (b64u(b'{"alg":"ES256","kid":"ec1","alg":"none"}') + "." +
                p + "." + s)
T["header_bad_json"] = b64u(b'{"alg":"ES256",') + "." + p + "." + s

out = sys.stdout
out.write("/* jwt_vectors.h - made by tests/unit/gen_jwt_vectors.py (openssl "
          "and\n * Python's standard library); do not edit. */\n")
out.write("#define VEC_NOW %dLL\n" % NOW)
out.write('#define VEC_ISS "%s"\n#define VEC_AUD "%s"\n' % (ISS, AUD))


def cstr(s):
    lines = s.split("\n")
    esc = [ln.replace("\\", "\\\\").replace('"', '\\"') for ln in lines]
    return "\n".join('\t"%s%s"' % (ln, "\\n" if i < len(esc) - 1 else "")
                     for i, ln in enumerate(esc))


out.write("static const char VEC_JWKS[] =\n%s;\n" % cstr(jwks))
out.write("static const char VEC_JWK_RSA_SMALL[] =\n%s;\n"
          % cstr(json.dumps({"keys": [small]})))
# ec1's point, and the same with y changed: off the curve
x, y = keys[0]["x"], keys[0]["y"]
y_off = y[:-1] + ("A" if y[-1] != "A" else "E")
out.write('#define VEC_EC1_XY "\\"x\\":\\"%s\\",\\"y\\":\\"%s\\""\n' % (x, y))
out.write('#define VEC_EC1_XY_OFF "\\"x\\":\\"%s\\",\\"y\\":\\"%s\\""\n' % (x, y_off))
for name, tok in T.items():
    out.write("static const char VEC_%s[] =\n" % name.upper())
    for i in range(0, len(tok), 64):
        out.write('\t"%s"\n' % tok[i:i + 64])
    out.write("\t;\n")
