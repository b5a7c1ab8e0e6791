"""Certificate renewal and enrollment over MQTT (mqtt.enroll): a device
publishes a PKCS#10 request to $moat/certs/renew and moat answers on
$moat/certs/renew/accepted | /rejected (or the MQTT 5 Response Topic, with
the Correlation Data echoed), itself: the request never reaches a broker.
The certificate is issued for the authenticated identity by the issuing CA
(here the test PKI's intermediate), recorded in an `openssl ca` index, and
refused once revoked from that index. Claim certificates and certificates
in renew_grace get sessions that may do nothing but enroll / renew."""
import datetime
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import paho.mqtt.properties as props
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from conftest import MOAT, _str, _varint, connect_packet, read_connack, recv_exact, wait_for
from lifecycle_pki import load_ca, make_ca, make_csr, make_leaf, write_key

TOPIC = "$moat/certs/renew"


@pytest.fixture
def ca(pki, tmp_path):
    """The issuing CA (the PKI's intermediate, key copied with mode 600),
    its index, a claim CA and a CRL file with the PKI's CRLs and the claim
    CA's (an empty one)."""
    d = tmp_path / "ca"
    d.mkdir()
    shutil.copy(os.path.join(pki, "inter.crt"), d / "inter.crt")
    shutil.copy(os.path.join(pki, "inter.key"), d / "inter.key")
    os.chmod(d / "inter.key", 0o600)
    claim_crt, claim_key = make_ca(str(d), "claim-ca", "moat test claim CA")
    now = datetime.datetime.utcnow()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(claim_crt.subject)
           .last_update(now - datetime.timedelta(hours=1))
           .next_update(now + datetime.timedelta(days=30)).sign(claim_key, hashes.SHA256()))
    with open(d / "claim.crl", "wb") as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    with open(d / "crl.pem", "wb") as f:
        f.write(open(os.path.join(pki, "crl.pem"), "rb").read())
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    return {"dir": str(d), "claim": (claim_crt, claim_key), "inter": load_ca(pki)}


def enroll_cfg(ca, **over):
    def mutate(c):
        d = ca["dir"]
        c["listeners"][0]["tls"]["crl"] = os.path.join(d, "crl.pem")
        e = {"ca_cert": os.path.join(d, "inter.crt"), "ca_key": os.path.join(d, "inter.key"),
             "index": os.path.join(d, "issued.txt"), "validity": "30d",
             "renew_before": "20d", "renew_grace": "1d",
             "bootstrap_ca": os.path.join(d, "claim-ca.crt")}
        e.update(over)
        c["listeners"][0]["mqtt"]["enroll"] = e
    return mutate


@pytest.fixture
def emoat(moat_factory, live_brokers, ca):
    return moat_factory(live_brokers, enroll_cfg(ca))


def ctx_for(pki, d, cn, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(d, f"{cn}.crt"), key or os.path.join(d, f"{cn}.key"))
    return ctx


class Device:
    """A paho client on the device's certificate, collecting what arrives."""

    def __init__(self, pki, d, cn, port, version=mqtt.MQTTv311, cid=None):
        self.got, self.disc = [], {}
        self.event, self.gone = threading.Event(), threading.Event()
        self.c = mqtt.Client(client_id=cid or cn, protocol=version)
        self.c.tls_set_context(ctx_for(pki, d, cn))
        self.c.on_message = self._msg
        self.c.on_disconnect = self._disc
        self.c.connect("localhost", port, keepalive=30)
        self.c.loop_start()
        assert wait_for(self.c.is_connected, 5), "did not connect"

    def _msg(self, client, userdata, m):
        self.got.append(m)
        self.event.set()

    def _disc(self, client, userdata, rc, properties=None):
        self.disc["rc"] = getattr(rc, "value", rc)
        self.disc["reason"] = getattr(properties, "ReasonString", None) if properties else None
        self.gone.set()

    def ask(self, payload, qos=1, response=None, corr=None, topic=TOPIC):
        self.event.clear()
        p = None
        if response or corr:
            p = props.Properties(props.PacketTypes.PUBLISH)
            if response:
                p.ResponseTopic = response
            if corr:
                p.CorrelationData = corr
        self.c.publish(topic, payload, qos=qos, properties=p)
        assert self.event.wait(10), "no answer"
        return self.got[-1]

    def echo(self, topic, payload):
        """Subscribe to topic, publish payload there, QoS 1: does it come
        back through the broker?"""
        self.c.subscribe(topic, qos=1)
        time.sleep(0.3)
        self.event.clear()
        self.c.publish(topic, payload, qos=1)
        return self.event.wait(5) and self.got[-1].payload == payload

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def pem_certs(data):
    """The certificates of a PEM text, in order."""
    end = b"-----END CERTIFICATE-----"
    return [x509.load_pem_x509_certificate(block + end)
            for block in data.split(end) if b"-----BEGIN CERTIFICATE-----" in block]


def issued(msg):
    """The certificates of an accepted answer (PEM: the new one, the CA)."""
    return pem_certs(msg.payload)


def cn_of(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def leaf(d, cn, ca, **kw):
    make_leaf(d, cn, ca=ca["inter"], **kw)


def test_renew_with_mosquitto_rr_then_connect_with_it(emoat, pki, ca, tmp_path, live_brokers):
    """MQTT 5 request/response with mosquitto_rr: the answer on its
    response topic; the new certificate connects; one index line."""
    marks = [b.mark() for b in live_brokers]
    d = str(tmp_path)
    leaf(d, "dev-win", ca, days=10)
    csr, key = make_csr("dev-win")
    # (mosquitto_rr 2.0.11 sends an empty message with -f: -m instead)
    r = subprocess.run(["mosquitto_rr", "-h", "localhost", "-p", str(emoat.port),
                        "--cafile", os.path.join(pki, "ca.crt"),
                        "--cert", os.path.join(d, "dev-win.crt"),
                        "--key", os.path.join(d, "dev-win.key"), "-i", "dev-win",
                        "-t", TOPIC, "-e", "dev-win/answer", "-m", csr.decode(),
                        "-W", "10"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"BEGIN CERTIFICATE" in r.stdout, (r.stdout, r.stderr, emoat.log()[-3000:])
    new, chain = pem_certs(r.stdout)
    assert cn_of(new) == "dev-win"
    assert chain.subject == ca["inter"][0].subject
    assert new.issuer == ca["inter"][0].subject
    assert new.public_key().public_numbers() == key.public_key().public_numbers()
    days = (new.not_valid_after - datetime.datetime.utcnow()).days
    assert 29 <= days <= 30, days
    serial = format(new.serial_number, "X")
    index = open(os.path.join(ca["dir"], "issued.txt")).read()
    assert index.count("\n") == 1 and f"\t{serial.zfill(32)}\tunknown\t/CN=dev-win\n" in index
    assert index.startswith("V\t")
    assert no_request_reached(live_brokers, marks)
    # the new certificate and the device's new key connect
    (tmp_path / "dev-new.crt").write_bytes(new.public_bytes(serialization.Encoding.PEM))
    write_key(str(tmp_path / "dev-new.key"), key)
    dev = Device(pki, d, "dev-new", emoat.port, cid="dev-win")
    dev.close()
    out = emoat.ctl("show enroll")
    assert "renewed: 1" in out and "topic=$moat/certs" in out, out
    assert "validity=30d renew_before=20d renew_grace=1d" in out, out
    assert "cert_issued" in emoat.log() and serial.zfill(32) in emoat.log()


@pytest.mark.parametrize("version", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_renew_with_paho(emoat, pki, ca, tmp_path, version, live_brokers):
    """Paho, MQTT 3.1.1 (answer on .../accepted, subscribed through the
    broker) and 5 (Response Topic and Correlation Data echoed), QoS 1 and
    the PEM and DER forms of the request; the session goes on forwarding."""
    marks = [b.mark() for b in live_brokers]
    d = str(tmp_path)
    leaf(d, "dev-p", ca, days=5)
    dev = Device(pki, d, "dev-p", emoat.port, version)
    try:
        if version == mqtt.MQTTv5:
            m = dev.ask(make_csr("dev-p", der=True)[0], response="dev-p/reply",
                        corr=b"\x00req-1")
            assert m.topic == "dev-p/reply"
            assert m.properties.CorrelationData == b"\x00req-1"
            # one certificate per session: the next request is refused
            again = dev.ask(make_csr("dev-p")[0], response="dev-p/reply", corr=b"2")
            assert again.payload.startswith(b"rejected: not_allowed: a certificate was issued")
            assert again.properties.CorrelationData == b"2"
            assert cn_of(issued(m)[0]) == "dev-p"
        else:
            dev.c.subscribe(TOPIC + "/accepted", qos=1)
            time.sleep(0.5)
            m = dev.ask(make_csr("dev-p")[0])
            assert m.topic == TOPIC + "/accepted"
        assert cn_of(issued(m)[0]) == "dev-p"
        # forwarding still works both ways after the answer
        assert dev.echo("t/dev-p", b"hello")
    finally:
        dev.close()
    assert no_request_reached(live_brokers, marks)


def test_attack_response_topic_with_a_wildcard(emoat, pki, ca, tmp_path):
    """No PUBLISH may carry a wildcard topic: a Response Topic with one is
    not used (the answer goes to .../accepted); long Correlation Data is
    echoed whole."""
    d = str(tmp_path)
    leaf(d, "dev-w", ca, days=5)
    dev = Device(pki, d, "dev-w", emoat.port, mqtt.MQTTv5)
    try:
        m = dev.ask(make_csr("dev-w")[0], response="dev-w/+", corr=b"c" * 3000)
        assert m.topic == TOPIC + "/accepted"
        assert m.properties.CorrelationData == b"c" * 3000
        assert cn_of(issued(m)[0]) == "dev-w"
    finally:
        dev.close()


def test_attack_csr_asking_for_another_identity(emoat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-a", ca, days=5)
    dev = Device(pki, d, "dev-a", emoat.port, mqtt.MQTTv5)
    try:
        m = dev.ask(make_csr("dev-admin")[0], response="a")
        cert = issued(m)[0]
        assert cn_of(cert) == "dev-a"  # what was authenticated, not asked
        assert b"dev-admin" not in cert.public_bytes(serialization.Encoding.DER)
    finally:
        dev.close()


def test_attack_csr_with_a_bad_signature(emoat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-b", ca, days=5)
    der = bytearray(make_csr("dev-b", der=True)[0])
    der[-3] ^= 0x55
    dev = Device(pki, d, "dev-b", emoat.port)
    try:
        dev.c.subscribe(TOPIC + "/rejected")
        time.sleep(0.3)
        m = dev.ask(bytes(der))
        assert m.topic == TOPIC + "/rejected"
        assert m.payload.startswith(b"rejected: bad_signature"), m.payload
    finally:
        dev.close()
    assert "bad_signature: 1" in emoat.ctl("show enroll")
    assert not os.path.exists(os.path.join(ca["dir"], "issued.txt")) or \
        open(os.path.join(ca["dir"], "issued.txt")).read() == ""


def test_attack_renewal_far_before_the_window(emoat, pki, ca, tmp_path):
    d = str(tmp_path)
    leaf(d, "dev-far", ca, days=60)  # renew_before is 20d
    dev = Device(pki, d, "dev-far", emoat.port, mqtt.MQTTv5)
    try:
        m = dev.ask(make_csr("dev-far")[0], response="x")
        assert m.payload.startswith(b"rejected: too_early: renewal opens at "), m.payload
    finally:
        dev.close()
    assert "too_early: 1" in emoat.ctl("show enroll")


def no_request_reached(brokers, marks):
    """No broker received a PUBLISH under $moat/ since the marks."""
    for b, since in zip(brokers, marks):
        for line in b.text()[since:].splitlines():
            assert not ("Received PUBLISH" in line and "$moat" in line), line
    return True


def test_attack_oversized_csr(emoat, pki, ca, tmp_path, live_brokers):
    """A request over 8 KiB is answered too_large and dropped as it comes;
    the session goes on."""
    marks = [b.mark() for b in live_brokers]
    d = str(tmp_path)
    leaf(d, "dev-big", ca, days=5)
    dev = Device(pki, d, "dev-big", emoat.port, mqtt.MQTTv5)
    try:
        m = dev.ask(b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"A" * 200000, response="x")
        assert m.payload.startswith(b"rejected: too_large"), m.payload
        m = dev.ask(make_csr("dev-big")[0], response="x")
        assert cn_of(issued(m)[0]) == "dev-big"
    finally:
        dev.close()
    assert "too_large: 1" in emoat.ctl("show enroll")
    assert no_request_reached(live_brokers, marks)


def session(pki, d, cn, port, version=4):
    """A raw TLS session past a successful CONNACK."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx_for(pki, d, cn).wrap_socket(raw, server_hostname="localhost")
    s.sendall(connect_packet(cn, version))
    ack = read_connack(s)
    assert ack[0] == 0x20 and ack[3] == 0, ack
    return s


def publish_packet(topic, payload, qos=0, pid=1, version=4):
    body = _str(topic) + (struct.pack(">H", pid) if qos else b"")
    if version == 5:
        body += b"\x00"
    body += payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


def read_packet(s, timeout=10):
    head = recv_exact(s, 2, timeout)
    if len(head) < 2:
        return head
    n, shift, i = head[1] & 0x7F, 7, 1
    while head[i] & 0x80:
        b = recv_exact(s, 1, timeout)
        head += b
        n |= (b[0] & 0x7F) << shift
        shift += 7
        i += 1
    return head + recv_exact(s, n, timeout)


def test_attack_csr_split_across_packets(emoat, pki, ca, tmp_path):
    """The PUBLISH carrying the request arrives a few bytes at a time (TLS
    records of 7 bytes, the fixed header and topic split too), with a
    QoS 1 PUBLISH to the broker before and after it: the request is
    answered, the others forwarded."""
    d = str(tmp_path)
    leaf(d, "dev-split", ca, days=5)
    s = session(pki, d, "dev-split", emoat.port)
    sub = b"\x82" + _varint(2 + 2 + len("t/split") + 1) + b"\x00\x07" + _str("t/split") + b"\x01"
    s.sendall(sub)
    assert read_packet(s)[:1] == b"\x90"
    req = publish_packet(TOPIC, make_csr("dev-split")[0], qos=1, pid=9)
    data = publish_packet("t/split", b"one", 1, 7) + req + publish_packet("t/split", b"two", 1, 8)
    for i in range(0, len(data), 7):
        s.sendall(data[i:i + 7])
    got = [read_packet(s) for _ in range(6)]
    types = sorted(p[0] >> 4 for p in got)
    assert types == [3, 3, 3, 4, 4, 4], [p[:8] for p in got]  # 3 PUBLISH, 3 PUBACK
    answer = [p for p in got if p[0] >> 4 == 3 and TOPIC.encode() in p[:40]]
    assert answer and b"BEGIN CERTIFICATE" in answer[0], got
    assert b"/renew/accepted" in answer[0][:60]
    echoed = [p for p in got if p[0] >> 4 == 3 and b"t/split" in p[:20]]
    assert len(echoed) == 2
    s.close()


def test_claim_certificate_enrolls(emoat, pki, ca, tmp_path, live_brokers):
    """A claim certificate (bootstrap_ca) gets a session from moat alone:
    CONNACK, SUBACK for the reply topics only, PINGRESP, and a first
    certificate for its identity."""
    d = str(tmp_path)
    make_leaf(d, "dev-claim", ca=ca["claim"], days=365)
    marks = [b.mark() for b in live_brokers]
    dev = Device(pki, d, "dev-claim", emoat.port, mqtt.MQTTv311)
    try:
        r = dev.c.subscribe([(TOPIC + "/accepted", 0), ("devices/#", 1)])
        assert r[0] == mqtt.MQTT_ERR_SUCCESS
        time.sleep(0.5)
        m = dev.ask(make_csr("whatever")[0])
        assert m.topic == TOPIC + "/accepted"
        cert = issued(m)[0]
        assert cn_of(cert) == "dev-claim" and cert.issuer == ca["inter"][0].subject
        row = [ln for ln in emoat.ctl("show conns").splitlines() if "dev-claim" in ln]
        assert row and "via=claim" in row[0] and " - splice " in row[0], row
    finally:
        dev.close()
    assert all("dev-claim" not in b.clients(since) for b, since in zip(live_brokers, marks))
    assert "enrolled: 1" in emoat.ctl("show enroll")


@pytest.mark.parametrize("version", [4, 5])
def test_attack_claim_certificate_used_for_mqtt_traffic(emoat, pki, ca, tmp_path, version,
                                                        live_brokers):
    d = str(tmp_path)
    make_leaf(d, "dev-claim2", ca=ca["claim"], days=365)
    marks = [b.mark() for b in live_brokers]
    s = session(pki, d, "dev-claim2", emoat.port, version)
    s.sendall(publish_packet("devices/dev-claim2/up", b"data", version=version))
    p = read_packet(s)
    if version == 5:
        assert p[0] == 0xE0 and p[2] == 0x87 and b"claim certificate may only enroll" in p, p
        p = read_packet(s)
    assert p == b"", p
    s.close()
    assert wait_for(lambda: emoat.rejects("enroll_only") == 1, 5)
    assert all("dev-claim2" not in b.text()[since:] for b, since in zip(live_brokers, marks))


def test_expired_certificate_in_grace_renews(emoat, pki, ca, tmp_path):
    d = str(tmp_path)
    past = datetime.datetime.utcnow() - datetime.timedelta(days=10)
    leaf(d, "dev-late", ca, seconds=-3600, start=past)
    dev = Device(pki, d, "dev-late", emoat.port, mqtt.MQTTv5)
    try:
        m = dev.ask(make_csr("dev-late")[0], response="x")
        assert cn_of(issued(m)[0]) == "dev-late"
        row = [ln for ln in emoat.ctl("show conns").splitlines() if "dev-late" in ln]
        assert row and "via=grace" in row[0], row
    finally:
        dev.close()
    assert "renewed: 1" in emoat.ctl("show enroll")


@pytest.mark.parametrize("version", [4, 5])
def test_attack_expired_certificate_in_grace_trying_to_publish(emoat, pki, ca, tmp_path,
                                                               version, live_brokers):
    d = str(tmp_path)
    past = datetime.datetime.utcnow() - datetime.timedelta(days=10)
    leaf(d, "dev-late2", ca, seconds=-3600, start=past)
    marks = [b.mark() for b in live_brokers]
    s = session(pki, d, "dev-late2", emoat.port, version)
    s.sendall(publish_packet("devices/x", b"data", qos=1, version=version))
    p = read_packet(s)
    if version == 5:
        assert p[0] == 0xE0 and b"expired certificate may only renew" in p, p
        p = read_packet(s)
    assert p == b""
    s.close()
    assert wait_for(lambda: emoat.rejects("enroll_only") == 1, 5)
    assert all("dev-late2" not in b.text()[since:] for b, since in zip(live_brokers, marks))


def refused(pki, d, cn, port, cid=None):
    """True when a session with that certificate gets no CONNACK (the
    handshake fails, or the server closes)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s = ctx_for(pki, d, cn).wrap_socket(raw, server_hostname="localhost")
        s.sendall(connect_packet(cid or cn))
        return read_connack(s) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True
    finally:
        raw.close()


def test_attack_expired_past_grace_is_refused(emoat, pki, ca, tmp_path):
    d = str(tmp_path)
    past = datetime.datetime.utcnow() - datetime.timedelta(days=20)
    leaf(d, "dev-gone", ca, seconds=-3 * 86400, start=past)  # grace is 1d
    assert refused(pki, d, "dev-gone", emoat.port)
    assert wait_for(lambda: emoat.rejects("cert_expired") >= 1, 5)


def test_renewed_certificate_refused_after_revocation(emoat, pki, ca, tmp_path):
    """Revoked with `openssl ca -revoke` on moat's index and a CRL made
    with `openssl ca -gencrl`: the new certificate no longer connects."""
    d = str(tmp_path)
    leaf(d, "dev-r", ca, days=5)
    csr, key = make_csr("dev-r")
    dev = Device(pki, d, "dev-r", emoat.port, mqtt.MQTTv5)
    try:
        new = issued(dev.ask(csr, response="x"))[0]
    finally:
        dev.close()
    (tmp_path / "dev-rn.crt").write_bytes(new.public_bytes(serialization.Encoding.PEM))
    write_key(str(tmp_path / "dev-rn.key"), key)
    live = Device(pki, d, "dev-rn", emoat.port, mqtt.MQTTv5, cid="dev-r")
    cad = ca["dir"]
    with open(os.path.join(cad, "ca.cnf"), "w") as f:
        # (unique_subject comes from issued.txt.attr, which moat wrote)
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = issued.txt\ndefault_md = sha256\n"
                "crlnumber = crlnum\ndefault_crl_days = 30\n")
    with open(os.path.join(cad, "crlnum"), "w") as f:
        f.write("2000\n")
    run = dict(cwd=cad, capture_output=True, text=True, timeout=30)
    r = subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-cert", "inter.crt",
                        "-keyfile", "inter.key", "-revoke", str(tmp_path / "dev-rn.crt")], **run)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-cert", "inter.crt",
                        "-keyfile", "inter.key", "-gencrl", "-out", "inter.crl"], **run)
    assert r.returncode == 0, r.stderr
    lines = open(os.path.join(cad, "issued.txt")).read().splitlines()
    assert lines[0].startswith("R\t") and len(lines) == 1, lines
    with open(os.path.join(cad, "crl.pem"), "w") as f:
        f.write(open(os.path.join(pki, "root.crl")).read())
        f.write(open(os.path.join(cad, "inter.crl")).read())
    assert emoat.ctl("reload").startswith("ok"), emoat.log()[-2000:]
    # the live session on it ends (revoked_live: close), then it is refused
    assert live.gone.wait(10) and live.disc["rc"] == 0x87, live.disc
    live.close()
    assert refused(pki, d, "dev-rn", emoat.port, "dev-r")
    assert wait_for(lambda: emoat.rejects("cert_revoked") >= 1, 5)
    # the device's other certificate (not revoked) still connects
    Device(pki, d, "dev-r", emoat.port).close()


def test_token_device_enrolls(moat_factory, live_brokers, ca, pki, tmp_path):
    """A device without a certificate, admitted by an access token, gets a
    first certificate for the token's identity (mosquitto_rr, MQTT 5), and
    then connects with it."""
    from test_tokens import AUD, ISS, jwt_tool  # tests/jwt_tool.py, on its path
    d = tmp_path / "jwks"
    d.mkdir()
    k = jwt_tool.genkey(str(d / "ec.pem"), "P-256")
    with open(d / "jwks.json", "w") as f:
        json.dump({"keys": [jwt_tool.jwk(k, "k-ec")]}, f)

    def mutate(c):
        enroll_cfg(ca)(c)
        c["listeners"][0]["tls"]["verify_client"] = "optional"
        c["listeners"][0]["mqtt"]["token"] = {
            "when": "no_cert", "jwks": str(d / "jwks.json"), "issuer": ISS, "audience": AUD}
    m = moat_factory(live_brokers, mutate)
    now = int(time.time())
    token = jwt_tool.token("ES256", k, {"iss": ISS, "aud": AUD, "sub": "dev-tok",
                                        "exp": now + 600}, {"kid": "k-ec"})
    csr, key = make_csr("something-else")
    r = subprocess.run(["mosquitto_rr", "-h", "localhost", "-p", str(m.port),
                        "--cafile", os.path.join(pki, "ca.crt"), "-i", "dev-tok",
                        "-u", "dev-tok", "-P", token, "-t", TOPIC, "-e", "dev-tok/answer",
                        "-m", csr.decode(), "-W", "10"], capture_output=True, timeout=30)
    assert r.returncode == 0 and b"BEGIN CERTIFICATE" in r.stdout, (r.stdout, r.stderr)
    new = pem_certs(r.stdout)[0]
    assert cn_of(new) == "dev-tok"
    (tmp_path / "dev-tok.crt").write_bytes(new.public_bytes(serialization.Encoding.PEM))
    write_key(str(tmp_path / "dev-tok.key"), key)
    Device(pki, str(tmp_path), "dev-tok", m.port).close()
    assert "enrolled: 1" in m.ctl("show enroll")


def test_renew_at_qos2(emoat, pki, ca, tmp_path, live_brokers):
    """QoS 2: PUBREC from moat, and the PUBREL of that packet id answered
    with PUBCOMP by moat (the broker never saw the PUBLISH)."""
    marks = [b.mark() for b in live_brokers]
    d = str(tmp_path)
    leaf(d, "dev-q2", ca, days=5)
    s = session(pki, d, "dev-q2", emoat.port, 5)
    s.sendall(publish_packet(TOPIC, make_csr("dev-q2")[0], qos=2, pid=33, version=5))
    got = [read_packet(s), read_packet(s)]
    assert got[0][:4] == b"\x50\x02\x00\x21", got[0][:8]  # PUBREC 33
    assert got[1][0] == 0x30 and b"BEGIN CERTIFICATE" in got[1]
    s.sendall(b"\x62\x02\x00\x21")  # PUBREL 33
    assert read_packet(s)[:4] == b"\x70\x02\x00\x21"  # PUBCOMP 33
    s.close()
    assert no_request_reached(live_brokers, marks)
    assert all("PUBREL" not in line or "dev-q2" not in line
               for b, since in zip(live_brokers, marks) for line in b.text()[since:].splitlines())


def test_attack_revoked_certificate_in_grace(moat_factory, live_brokers, ca, pki, tmp_path):
    """An expired certificate that a CRL revokes may not renew in grace."""
    d = str(tmp_path)
    past = datetime.datetime.utcnow() - datetime.timedelta(days=10)
    crt, _ = make_leaf(d, "dev-lost", ca=ca["inter"], seconds=-3600, start=past)
    inter_crt, inter_key = ca["inter"]
    now = datetime.datetime.utcnow()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(inter_crt.subject)
           .last_update(now - datetime.timedelta(hours=1))
           .next_update(now + datetime.timedelta(days=30))
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(crt.serial_number)
                                    .revocation_date(now - datetime.timedelta(hours=2))
                                    .build())
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
               inter_key.public_key()), critical=False)
           .sign(inter_key, hashes.SHA256()))
    path = os.path.join(ca["dir"], "crl.pem")
    with open(path, "wb") as f:
        f.write(open(os.path.join(pki, "root.crl"), "rb").read())
        f.write(crl.public_bytes(serialization.Encoding.PEM))
        f.write(open(os.path.join(ca["dir"], "claim.crl"), "rb").read())
    m = moat_factory(live_brokers, enroll_cfg(ca))
    assert refused(pki, d, "dev-lost", m.port)
    assert wait_for(lambda: m.rejects("cert_revoked") == 1, 5), m.info()
    assert "renewed: 0" in m.ctl("show enroll")


def test_check_refuses_an_open_ca_key(moat_factory, live_brokers, ca, tmp_path):
    os.chmod(os.path.join(ca["dir"], "inter.key"), 0o644)
    m = moat_factory(live_brokers, enroll_cfg(ca), start=False)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert "mqtt.enroll.ca_key" in r.stderr and "has mode 0644" in r.stderr, r.stderr
    os.chmod(os.path.join(ca["dir"], "inter.key"), 0o600)
    r = subprocess.run([MOAT, "-c", m.conf, "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
