"""PROXY protocol on listeners (v1 and v2, from raw clients and from a real
HAProxy in front) and per-source limits (limits.per_source)."""
import os
import shutil
import socket
import struct
import subprocess
import re
import time

import pytest

from conftest import (Receiver, closed_by_peer, connect_packet, free_port, port_open, read_connack,
                      tls_connect, wait_for)

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src, sport, dport):
    return f"PROXY TCP4 {src} 127.0.0.1 {sport} {dport}\r\n".encode()


def v2(src, sport, dport, tlv=b""):
    addrs = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack(">HH", sport, dport)
    body = addrs + tlv
    return V2SIG + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body


def proxied_moat(moat_factory, brokers, frm=None, per_source=None):
    def mutate(cfg):
        cfg["listeners"][0]["proxy_protocol"] = True
        if frm is not None:
            cfg["listeners"][0]["proxy_protocol_from"] = frm
        if per_source:
            cfg["limits"]["per_source"] = per_source
    return moat_factory(brokers, mutate)


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_proxy_header_gives_the_client_address(moat_factory, live_brokers, pki, kind):
    m = proxied_moat(moat_factory, live_brokers)
    hdr = (v1 if kind == "v1" else v2)("192.0.2.7", 51000, m.port)
    if kind == "v2":
        hdr = v2("192.0.2.7", 51000, m.port, tlv=b"\x04\x00\x03abc")  # a NOOP TLV
    s = tls_connect(pki, m.port, "dev-good", before=hdr)
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    assert "192.0.2.7:51000" in m.ctl("show conns")
    assert "conn_open conn=2 peer=192.0.2.7:51000" in m.log() or \
        "peer=192.0.2.7:51000 listener=mqtts" in m.log()


@pytest.mark.parametrize("first", [
    b"",                                        # plain TLS where a header is due
    b"PROXY TCP4 192.0.2.7 127.0.0.1 1 2 3\r\n",  # seven fields
    V2SIG + b"\x21\x12\x00\x0c" + b"\x00" * 12,  # UDP
])
def test_missing_or_bad_proxy_header_is_refused(moat_factory, live_brokers, pki, first):
    m = proxied_moat(moat_factory, live_brokers)
    marks = [b.mark() for b in live_brokers]
    with pytest.raises((OSError, ConnectionError)):
        s = tls_connect(pki, m.port, "dev-good", before=first, timeout=3)
        s.sendall(connect_packet("dev-good"))
        assert read_connack(s, 3) == b""
        raise ConnectionError("closed")
    assert wait_for(lambda: m.rejects("bad_proxy") == 1, 5), m.info()
    for b, mk in zip(live_brokers, marks):
        assert "dev-good" not in b.clients(since=mk)


def test_proxy_protocol_from_others_connect_directly(moat_factory, live_brokers, pki):
    # 127.0.0.1 is not a trusted balancer: its connections carry no header
    m = proxied_moat(moat_factory, live_brokers, frm=["10.0.0.0/8"])
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    # and a header from it is not believed: it is not TLS
    with pytest.raises((OSError, ConnectionError)):
        tls_connect(pki, m.port, "dev-good", before=v1("192.0.2.7", 1, m.port), timeout=3)
    assert "192.0.2.7" not in m.ctl("show conns")


def test_per_source_max_connections(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["limits"].update(
        per_source={"max_connections": 2}))
    a = tls_connect(pki, m.port, "dev-good")
    b = tls_connect(pki, m.port, "dev-good2")
    assert wait_for(lambda: m.info()["conns_current"] == "2", 5)
    with pytest.raises((OSError, ConnectionError)):
        c = tls_connect(pki, m.port, "dev-good", timeout=3)
        c.sendall(connect_packet("dev-good"))
        if read_connack(c, 3) == b"":
            raise ConnectionError("closed")
    assert wait_for(lambda: m.rejects("per_source_limit") == 1, 5), m.info()
    a.close()
    assert wait_for(lambda: m.info()["conns_current"] == "1", 5)
    c = tls_connect(pki, m.port, "dev-good")
    c.sendall(connect_packet("dev-good"))
    assert read_connack(c) == b"\x20\x02\x00\x00"
    b.close()


def test_per_source_rate_counts_each_proxied_client_apart(moat_factory, live_brokers, pki):
    m = proxied_moat(moat_factory, live_brokers, per_source={"new_per_second": 1})
    # a burst of 4 from one source against a bucket of 1 refilled at 1/s:
    # whatever the machine's speed, some are refused unless the burst
    # takes 3 s
    ok = refused = 0
    t0 = time.monotonic()
    for i in range(4):
        try:
            s = tls_connect(pki, m.port, "dev-good", before=v2("192.0.2.9", 40000 + i, m.port),
                            timeout=3)
            s.sendall(connect_packet("dev-good"))
            if read_connack(s, 3) == b"\x20\x02\x00\x00":
                ok += 1
            else:
                refused += 1
            s.close()
        except (OSError, ConnectionError):
            refused += 1
    elapsed = time.monotonic() - t0
    if elapsed < 0.9:  # within the first second exactly one gets through
        assert (ok, refused) == (1, 3), m.log()[-2000:]
    if elapsed < 2.5:
        assert refused >= 1
    assert m.rejects("per_source_limit") == refused
    # another source has its own budget
    s = tls_connect(pki, m.port, "dev-good2", before=v2("192.0.2.10", 40000, m.port))
    s.sendall(connect_packet("dev-good2"))
    assert read_connack(s) == b"\x20\x02\x00\x00"


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="no haproxy")
def test_real_haproxy_in_front_sends_proxy_v2(moat_factory, live_brokers, pki, tmp_path):
    """mosquitto_pub -> HAProxy (mode tcp, send-proxy-v2) -> moat -> broker."""
    from conftest import mosq_args
    m = proxied_moat(moat_factory, live_brokers)
    port = free_port()
    cfgf = tmp_path / "haproxy.cfg"
    cfgf.write_text(f"""global
    log stderr format raw local0 info
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    log global
    option tcplog
frontend edge
    bind 127.0.0.1:{port}
    default_backend moat
backend moat
    server moat1 127.0.0.1:{m.port} send-proxy-v2
""")
    hp = subprocess.Popen(["haproxy", "-db", "-f", str(cfgf)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: port_open(port), 10)
        r = subprocess.run(["mosquitto_pub", *mosq_args(pki, port, "dev-good"),
                            "-t", "t/proxy", "-m", "hi"],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: "forward conn=" in m.log(), 5), m.log()[-2000:]
        assert m.rejects("bad_proxy") == 0
    finally:
        hp.terminate()
        hp.wait(10)



# ---- send_proxy: moat tells the broker who the client is ------------------

NGINX_MOD = "/usr/lib/nginx/modules/ngx_stream_module.so"


@pytest.mark.skipif(shutil.which("nginx") is None or not os.path.exists(NGINX_MOD),
                    reason="no nginx with the stream module")
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_send_proxy_to_a_real_receiver(moat_factory, live_brokers, pki, tmp_path, version):
    """moat -> nginx (stream, listen ... proxy_protocol) -> broker: the whole
    chain works, health checks included, and nginx logs the device's own
    address and port as moat saw them."""
    from conftest import mosq_args
    port = free_port()
    log = tmp_path / "access.log"
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""load_module {NGINX_MOD};
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log info;
events {{ worker_connections 64; }}
stream {{
    log_format pp '$proxy_protocol_addr:$proxy_protocol_port via $remote_addr';
    access_log {log} pp;
    server {{
        listen 127.0.0.1:{port} proxy_protocol;
        proxy_pass 127.0.0.1:{live_brokers[0].port};
    }}
}}
""")
    ng = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: (tmp_path / "nginx.pid").exists(), 10)

        def mutate(c):
            up = c["upstreams"][0]
            up["send_proxy"] = version
            up["servers"] = [{"name": "via-nginx", "address": f"127.0.0.1:{port}"}]
        m = moat_factory(live_brokers, mutate)
        assert wait_for(lambda: " UP " in m.ctl("show servers"), 10), m.ctl("show servers")
        r = subprocess.run(["mosquitto_pub", *mosq_args(pki, m.port, "dev-good"),
                            "-t", "t/pp", "-m", "hello"], capture_output=True, text=True,
                           timeout=20)
        assert r.returncode == 0, r.stderr
        peer = re.search(r"forward conn=(\d+)", m.log())
        assert peer, m.log()[-2000:]
        opened = re.search(rf"conn_open conn={peer.group(1)} peer=(\S+)", m.log()).group(1)
        assert wait_for(lambda: log.exists() and f"{opened} via 127.0.0.1" in log.read_text(),
                        10), (opened, log.read_text() if log.exists() else "")
    finally:
        ng.terminate()
        ng.wait(10)


def test_send_proxy_v2_carries_the_certificate_identity(moat_factory, live_brokers, pki):
    """A receiver that parses the v2 header (stands in for mosquitto 2.1 /
    EMQX, which read PP2_SUBTYPE_SSL_CN; Debian 12's mosquitto 2.0 does
    not): the SSL TLV says verified, the TLS version and the CN."""
    rcv = Receiver()

    def mutate(c):
        up = c["upstreams"][0]
        up["send_proxy"] = "v2"
        up["health"] = {"type": "none"}
        up["servers"] = [{"name": "receiver", "address": f"127.0.0.1:{rcv.port}"}]
    m = moat_factory(live_brokers, mutate)
    s = tls_connect(pki, m.port, "dev-good", "1.3")
    s.sendall(connect_packet("dev-good"))
    h = rcv.join()
    assert h[:12] == V2SIG and h[12] == 0x21 and h[13] == 0x11
    assert socket.inet_ntoa(h[16:20]) == "127.0.0.1"
    sport = struct.unpack(">H", h[24:26])[0]
    assert f"peer=127.0.0.1:{sport} " in m.log()
    tlvs, i, end = {}, 28, 16 + struct.unpack(">H", h[14:16])[0]
    while i < end:
        typ, ln = h[i], struct.unpack(">H", h[i + 1:i + 3])[0]
        tlvs[typ] = h[i + 3:i + 3 + ln]
        i += 3 + ln
    ssl_tlv = tlvs[0x20]
    assert ssl_tlv[0] == 0x07 and ssl_tlv[1:5] == b"\0\0\0\0"  # cert given, verified
    sub, j = {}, 5
    while j < len(ssl_tlv):
        typ, ln = ssl_tlv[j], struct.unpack(">H", ssl_tlv[j + 1:j + 3])[0]
        sub[typ] = ssl_tlv[j + 3:j + 3 + ln]
        j += 3 + ln
    assert sub[0x22] == b"dev-good" and sub[0x21] == b"TLSv1.3" and sub[0x23]
