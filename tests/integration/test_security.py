"""What moat promises about secrets and privileges (README, "Security"):
privileges dropped after binding, loose key permissions warned about, no
CONNECT password in any log or stats output, no TLS renegotiation."""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import connect_packet, free_port, read_connack, tls_connect, wait_for


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
def test_privileges_dropped_after_binding(moat_factory, live_brokers, pki, tmp_path):
    os.chmod(tmp_path, 0o755)

    def mutate(c):
        c["user"] = "nobody"
        c["group"] = "nogroup"
    m = moat_factory(live_brokers, mutate)
    status = open(f"/proc/{m.proc.pid}/status").read()
    uid = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1:]
    gid = [l for l in status.splitlines() if l.startswith("Gid:")][0].split()[1:]
    assert set(uid) == {"65534"} and set(gid) == {"65534"}, status
    s = tls_connect(pki, m.port, "dev-good")  # still serving
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"


def test_loose_key_permissions_are_warned_about(moat_factory, live_brokers, pki, tmp_path):
    key = tmp_path / "server.key"
    shutil.copy(os.path.join(pki, "server.key"), key)
    os.chmod(key, 0o644)
    m = moat_factory(live_brokers, lambda c: c["listeners"][0]["tls"].update(key=str(key)))
    assert "warn key_permissions file=" + str(key) in m.log()
    os.chmod(key, 0o600)
    assert m.ctl("reload").strip() == "ok"
    assert m.log().count("warn key_permissions") == 1


def test_connect_password_never_shown(moat_factory, live_brokers, pki):
    from test_metrics import scrape
    port = free_port()
    m = moat_factory(live_brokers, lambda c: c["stats"].update(metrics=f"127.0.0.1:{port}"))
    secret = "s3cr3t-pa55word"
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("dev-good", 5, username="someone", password=secret))
    assert read_connack(s)[0] == 0x20
    bad = tls_connect(pki, m.port, "dev-good2")  # refused: client id mismatch
    bad.sendall(connect_packet("mallory", 4, username="x", password=secret))
    read_connack(bad)
    assert wait_for(lambda: m.rejects("client_id_mismatch") == 1, 5)
    outputs = [m.log(), scrape(port)[1]] + [m.ctl(*c.split()) for c in
                                              ("show conns", "show info", "show stat",
                                               "show stat json", "show tls", "show servers")]
    for out in outputs:
        assert secret not in out


def test_no_tls_renegotiation(moat, pki):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{moat.port}", "-tls1_2",
                        "-CAfile", os.path.join(pki, "ca.crt"),
                        "-cert", os.path.join(pki, "dev-good.crt"),
                        "-key", os.path.join(pki, "dev-good.key")],
                       input="R\n", capture_output=True, text=True, timeout=15)
    out = r.stdout + r.stderr
    assert "RENEGOTIATING" in out  # the client asked
    assert "alert unexpected message" in out, out[-2000:]  # and was refused
