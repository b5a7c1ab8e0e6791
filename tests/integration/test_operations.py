"""Health checks, the stats socket and moat ctl, identity options, the
command line."""
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (MOAT, connect_packet, read_connack, tls_connect, wait_for)


def server_status(moat, name):
    for line in moat.ctl("show servers").splitlines():
        f = line.split()
        if len(f) >= 4 and f[1] == name:
            return f[3]
    return None


def connect_ok(pki, port, cid, version=4, cert=None, tls=None, chain=False):
    s = tls_connect(pki, port, cert or cid, version=tls, chain=chain)
    s.sendall(connect_packet(cid, version))
    ack = read_connack(s)
    s.close()
    return ack


def test_broker_down_and_up(moat, live_brokers, pki):
    # interval 200ms, fall 2, rise 2: DOWN well within 2 s, UP likewise
    assert all(server_status(moat, b.name) == "UP" for b in live_brokers)
    victim = live_brokers[0]
    victim.stop()
    assert wait_for(lambda: server_status(moat, victim.name) == "DOWN", 3), moat.ctl("show servers")
    assert "server_down" in moat.log()
    # every client now lands elsewhere: all 5 good certs' ids
    for cid in ("dev-good", "dev-good2"):
        assert connect_ok(pki, moat.port, cid) == b"\x20\x02\x00\x00"
        assert moat.forwarded_to(cid)[-1] != victim.name
    victim.start()
    assert wait_for(lambda: server_status(moat, victim.name) == "UP", 3), moat.ctl("show servers")
    assert "server_up" in moat.log()


def test_failed_forward_connect_fails_over(moat_factory, live_brokers, pki):
    # no active checks: the dead server is found by the forward connect
    def cfg(c):
        up = c["upstreams"][0]
        up["health"] = {"type": "none", "fall": 1}
        up["balance"] = "round-robin"
        up["servers"].insert(0, {"name": "dead", "address": "127.0.0.1:1"})
    m = moat_factory(live_brokers, cfg)
    for _ in range(3):
        assert connect_ok(pki, m.port, "dev-good") == b"\x20\x02\x00\x00"
    assert "dead" not in m.forwarded_to("dev-good")
    assert server_status(m, "dead") == "DOWN"


def test_disable_enable_server(moat, live_brokers, pki):
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    home = moat.forwarded_to("dev-good")[-1]
    assert moat.ctl("disable", "server", f"brokers/{home}", check=True).strip() == "ok"
    assert server_status(moat, home) == "MAINT"
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    assert moat.forwarded_to("dev-good")[-1] != home
    moat.ctl("enable", "server", f"brokers/{home}", check=True)
    assert server_status(moat, home) == "UP"
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    assert moat.forwarded_to("dev-good")[-1] == home
    # drain: no new connections, status DRAIN
    moat.ctl("drain", "server", f"brokers/{home}", check=True)
    assert server_status(moat, home) == "DRAIN"
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    assert moat.forwarded_to("dev-good")[-1] != home
    # weight 0 takes it out too; weight is shown
    moat.ctl("enable", "server", f"brokers/{home}", check=True)
    moat.ctl("set", "weight", f"brokers/{home}", "0", check=True)
    assert re.search(rf"brokers {home} \S+ UP 0 ", moat.ctl("show servers"))
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    assert moat.forwarded_to("dev-good")[-1] != home


def test_stats_commands(moat, live_brokers, pki):
    assert connect_ok(pki, moat.port, "dev-good") == b"\x20\x02\x00\x00"
    assert "show servers" in moat.ctl("help")
    info = moat.info()
    for k in ("version", "pid", "uptime", "workers", "conns_current", "conns_total",
              "handshakes_ok", "handshakes_failed", "reject_no_server"):
        assert k in info, info
    assert int(info["pid"]) == moat.proc.pid
    csv = moat.ctl("show stat").splitlines()
    assert csv[0] == ("# type,name,upstream,status,weight,active,total,bytes_in,bytes_out,"
                      "rejects,check,transport")
    rows = [l.split(",") for l in csv[1:]]
    assert all(len(r) == 12 for r in rows), rows
    assert {r[0]: r[11] for r in rows} == {"listener": "tcp", "upstream": "", "server": ""}
    types = [r[0] for r in rows]
    assert types.count("listener") == 1 and types.count("upstream") == 1
    assert types.count("server") == len(live_brokers)
    j = json.loads(moat.ctl("show stat json"))
    assert j["listeners"][0]["name"] == "mqtts"
    assert j["listeners"][0]["accepted"] >= 1
    srv = j["upstreams"][0]["servers"]
    assert {s["name"] for s in srv} == {b.name for b in live_brokers}
    for s in srv:
        for k in ("address", "status", "weight", "active", "total", "bytes_in",
                  "bytes_out", "check"):
            assert k in s
    assert sum(s["total"] for s in srv) >= 1
    assert moat.ctl("show servers", "nope").startswith("error:")
    r = subprocess.run([MOAT, "ctl", "-s", moat.sock, "bogus"], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.startswith("error:")
    r = subprocess.run([MOAT, "ctl", "-s", moat.sock + ".missing", "help"],
                       capture_output=True, text=True)
    assert r.returncode != 0


def test_socket_levels(moat_factory, live_brokers):
    def ro(c):
        c["stats"]["level"] = "read-only"
    m = moat_factory(live_brokers, ro)
    assert "brokers" in m.ctl("show servers")
    out = m.ctl("disable", "server", "brokers/b1")
    assert out.startswith("error: permission denied"), out
    assert m.ctl("set", "weight", "brokers/b1", "3").startswith("error: permission denied")
    assert oct(os.stat(m.sock).st_mode & 0o777) == "0o600"

    def op(c):
        c["stats"]["level"] = "operator"
    m2 = moat_factory(live_brokers, op)
    assert m2.ctl("disable", "server", "brokers/b1").strip() == "ok"
    assert m2.ctl("reload").startswith("error: permission denied")


@pytest.mark.parametrize("identity,cid", [("san-dns", "dev-good.example"),
                                          ("san-uri", "urn:dev:dev-good")])
def test_identity_from_san(moat_factory, live_brokers, pki, identity, cid):
    def ident(c):
        c["listeners"][0]["mqtt"]["identity"] = identity
    m = moat_factory(live_brokers, ident)
    assert connect_ok(pki, m.port, cid, cert="dev-good") == b"\x20\x02\x00\x00"
    assert connect_ok(pki, m.port, "dev-good", cert="dev-good") == b"\x20\x02\x00\x02"


@pytest.mark.parametrize("version", [4, 5])
def test_username_from_cert(moat_factory, live_brokers, pki, version):
    def uname(c):
        c["listeners"][0]["mqtt"]["username_from_cert"] = True
    m = moat_factory(live_brokers, uname)
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", version, username="forged", password="pw"))
    ack = read_connack(s)
    assert ack[0] == 0x20 and ack[3] == 0, ack
    s.close()
    server = m.forwarded_to("dev-good")[-1]
    broker = [b for b in live_brokers if b.name == server][0]
    assert wait_for(lambda: re.search(r"as dev-good \(.*u'dev-good'\)", broker.text()), 3), \
        broker.text()[-2000:]
    assert "u'forged'" not in broker.text()


def test_verify_optional_without_certificate(moat_factory, live_brokers, pki):
    def optional(c):
        c["listeners"][0]["tls"]["verify_client"] = "optional"
        c["listeners"][0]["mqtt"]["client_id_must_match"] = False
    m = moat_factory(live_brokers, optional)
    s = tls_connect(pki, m.port, None)
    s.sendall(connect_packet("anon-1"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    s.close()
    # with client_id_must_match, a client without identity is not authorized
    m2 = moat_factory(live_brokers, lambda c: c["listeners"][0]["tls"].update(
        verify_client="optional"))
    s = tls_connect(pki, m2.port, None)
    s.sendall(connect_packet("anon-1", 5))
    assert read_connack(s) == b"\x20\x03\x00\x87\x00"


def test_client_sends_intermediate_root_only_ca(moat_factory, live_brokers, pki):
    # The CRL's issuers must be in client_ca (wolfSSL checks a CRL's
    # signature when it loads it), so this listener has no CRL.
    def root_only(c):
        c["listeners"][0]["tls"]["client_ca"] = os.path.join(pki, "root.crt")
        del c["listeners"][0]["tls"]["crl"]
    m = moat_factory(live_brokers, root_only)
    assert connect_ok(pki, m.port, "dev-good", chain=True) == b"\x20\x02\x00\x00"


def test_rsa_server_key(moat_factory, live_brokers, pki):
    def rsa(c):
        c["listeners"][0]["tls"]["cert"] = os.path.join(pki, "server-rsa.crt")
        c["listeners"][0]["tls"]["key"] = os.path.join(pki, "server-rsa.key")
    m = moat_factory(live_brokers, rsa)
    for v in ("1.2", "1.3"):
        assert connect_ok(pki, m.port, "dev-good", tls=v) == b"\x20\x02\x00\x00"


def test_json_logs(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, lambda c: c["log"].update(format="json"))
    connect_ok(pki, m.port, "dev-good2", cert="dev-good")
    lines = [json.loads(l) for l in m.log().splitlines() if l.startswith("{")]
    rej = [l for l in lines if l["event"] == "reject"]
    assert rej and rej[0]["cause"] == "client_id_mismatch"
    assert rej[0]["subject"].endswith("CN=dev-good") and rej[0]["serial"]
    assert {"ts", "level", "event"} <= set(lines[0])


def test_kill_conn_and_client(moat, pki):
    from conftest import closed_by_peer
    a = tls_connect(pki, moat.port, "dev-good")
    a.sendall(connect_packet("dev-good"))
    assert read_connack(a) == b"\x20\x02\x00\x00"
    b = tls_connect(pki, moat.port, "dev-good2")
    b.sendall(connect_packet("dev-good2"))
    assert read_connack(b) == b"\x20\x02\x00\x00"
    rows = [l.split() for l in moat.ctl("show conns").splitlines()[1:]]
    ids = {r[3]: r[0] for r in rows}
    assert set(ids) == {"dev-good", "dev-good2"}, rows
    assert moat.ctl("kill", "conn", ids["dev-good"]).startswith("ok")
    assert closed_by_peer(a)
    assert moat.ctl("kill", "client", "dev-good2").startswith("ok")
    assert closed_by_peer(b)
    assert moat.ctl("kill", "client", "nobody").startswith("error:")
    assert moat.ctl("kill", "conn", "x").startswith("error:")
    assert "killed from the stats socket" in moat.log()


def test_kill_needs_admin(moat_factory, live_brokers):
    m = moat_factory(live_brokers, lambda c: c["stats"].update(level="operator"))
    assert m.ctl("kill", "conn", "1").startswith("error: permission denied")


def test_show_tls(moat, pki):
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    out = moat.ctl("show tls")
    kv = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    assert kv["listener"] == "mqtts"
    assert kv["cert_subject"].endswith("CN=localhost")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", kv["cert_not_after"])
    assert re.match(r"\d{4}-", kv["ca_not_after"])
    crls = [v for k, v in kv.items() if k.startswith("crl_")]
    assert len(crls) == 2 and all("status=ok" in c and "next_update=" in c for c in crls), out
    assert int(kv["handshakes"]) >= 1


def test_several_socket_clients_at_once(moat):
    import socket as so
    clients = []
    for _ in range(5):
        c = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        c.connect(moat.sock)
        clients.append(c)
    for c in clients:
        c.sendall(b"show info\nshow servers\n")
    for c in clients:
        c.settimeout(5)
        buf = b""
        while buf.count(b"\n\n") < 2:
            chunk = c.recv(65536)
            assert chunk
            buf += chunk
        assert b"version:" in buf and b"# upstream server" in buf
        c.close()


def test_socket_mode_refuses_other_users(moat_factory, live_brokers, tmp_path):
    # the socket is 0600 and owned by the user running moat: another user
    # cannot connect, though it can reach the directory; with 0666 it can
    import pwd
    import tempfile
    d = tempfile.mkdtemp(prefix="moat-sock-")
    os.chmod(d, 0o755)
    moat = moat_factory(live_brokers, lambda c: c["stats"].update(
        socket=os.path.join(d, "s.sock")))
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    if os.getuid() != 0:
        pytest.skip("needs root to switch user")
    # a copy of the binary the other user can execute wherever the tree is
    ctl = os.path.join(d, "moat")
    shutil.copy(MOAT, ctl)
    os.chmod(ctl, 0o755)
    r = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid",
                        str(nobody.pw_gid), "--clear-groups", ctl, "ctl", "-s", moat.sock,
                        "show", "info"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 3 and "Permission denied" in r.stderr, r.stdout + r.stderr
    open_one = moat_factory(live_brokers, lambda c: c["stats"].update(
        socket=os.path.join(d, "o.sock"), mode="0666", level="read-only"))
    r = subprocess.run(["setpriv", "--reuid", str(nobody.pw_uid), "--regid",
                        str(nobody.pw_gid), "--clear-groups", ctl, "ctl", "-s",
                        open_one.sock, "show", "info"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0 and "version:" in r.stdout, r.stdout + r.stderr


def test_client_leaving_while_the_broker_connect_hangs(moat_factory, live_brokers, pki):
    """A broker whose accept queue is full never completes the TCP
    handshake; a client that gives up meanwhile is closed, and the
    server's active count (only counted once forwarding) stays 0."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue: later SYNs are dropped
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(hang.getsockname())
        fillers.append(f)
    time.sleep(0.2)

    def cfg(c):
        up = c["upstreams"][0]
        up["health"] = {"type": "none"}
        up["servers"] = [{"name": "hang", "address": "127.0.0.1:%d" % hang.getsockname()[1]}]
    m = moat_factory(live_brokers, cfg)
    try:
        s = tls_connect(pki, m.port, "dev-good")
        s.sendall(connect_packet("dev-good"))
        def connecting():
            rows = [l.split() for l in m.ctl("show conns").splitlines()[1:] if l.strip()]
            return any("upstream" in r for r in rows)
        assert wait_for(connecting, 5), m.ctl("show conns")
        s.close()
        assert wait_for(lambda: m.info()["conns_current"] == "0", 5), m.info()
        j = json.loads(m.ctl("show stat json"))
        srv = j["upstreams"][0]["servers"][0]
        assert srv["active"] == 0, srv
    finally:
        for f in fillers:
            f.close()
        hang.close()
