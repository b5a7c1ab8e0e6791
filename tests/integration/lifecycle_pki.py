"""Certificates made during a test, for the certificate lifecycle tests:
short-lived leaves (a notAfter seconds ahead), claim CAs, CSRs (good, for
another name, with a broken signature). Made with python3-cryptography,
signed by the session PKI's intermediate (tests/pki.sh)."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def load_ca(pki, name="inter"):
    with open(os.path.join(pki, f"{name}.crt"), "rb") as f:
        crt = x509.load_pem_x509_certificate(f.read())
    with open(os.path.join(pki, f"{name}.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    return crt, key


def write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)


def write_pair(outdir, name, crt, key):
    with open(os.path.join(outdir, f"{name}.crt"), "wb") as f:
        f.write(crt.public_bytes(serialization.Encoding.PEM))
    write_key(os.path.join(outdir, f"{name}.key"), key)
    return crt, key


def make_ca(outdir, name, cn):
    """A self-signed CA (a claim CA): name.crt, name.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    crt = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj)
           .public_key(key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(_now() - datetime.timedelta(days=1))
           .not_valid_after(_now() + datetime.timedelta(days=365))
           .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                        False), critical=True)
           .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                          critical=False)
           .sign(key, hashes.SHA256()))
    return write_pair(outdir, name, crt, key)


def make_leaf(outdir, cn, seconds=None, start=None, ca=None, days=30):
    """A client certificate for cn valid until now + seconds (or days),
    from start (default an hour ago): outdir/cn.crt, outdir/cn.key."""
    ca_crt, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    begin = start if start is not None else _now() - datetime.timedelta(hours=1)
    end = _now() + (datetime.timedelta(seconds=seconds) if seconds is not None
                    else datetime.timedelta(days=days))
    crt = (x509.CertificateBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "moat tests"),
                                    x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .issuer_name(ca_crt.subject).public_key(key.public_key())
           .serial_number(x509.random_serial_number())
           .not_valid_before(begin).not_valid_after(end)
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                        False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                          critical=False)
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"{cn}.example")]),
                          critical=False)
           .sign(ca_key, hashes.SHA256()))
    return write_pair(outdir, cn, crt, key)


def make_csr(cn, key=None, der=False):
    """A PKCS#10 request for cn; (bytes, key)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    enc = serialization.Encoding.DER if der else serialization.Encoding.PEM
    return csr.public_bytes(enc), key
