"""Reload (SIGHUP and the socket's `reload`): established connections keep
running, new ones use the new settings, an invalid config is refused with
FILE:LINE:COL and the old one stays, a removed server drains, a CRL that
gains an entry refuses that certificate on its next connect."""
import json
import re
import os
import shutil
import signal
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import (closed_by_peer, connect_packet, read_connack, recv_exact, tls_connect,
                      tls_context, wait_for)


def rewrite(moat, mutate):
    mutate(moat.cfg)
    with open(moat.conf, "w") as f:
        json.dump(moat.cfg, f, indent=1)


def test_publisher_survives_five_reloads(moat, pki):
    got = []
    disconnects = []

    def on_message(c, u, msg):
        got.append(int(msg.payload))

    def on_disconnect(c, u, rc, properties=None):
        disconnects.append(rc)

    clients = []
    for cid in ("dev-good", "dev-good2"):
        c = mqtt.Client(client_id=cid, protocol=mqtt.MQTTv311)
        c.tls_set_context(tls_context(pki, cid))
        c.on_disconnect = on_disconnect
        c.connect("localhost", moat.port, keepalive=30)
        c.loop_start()
        clients.append(c)
    sub, pub = clients
    sub.on_message = on_message
    sub.subscribe("moat/reload", qos=1)
    time.sleep(0.3)
    stop = threading.Event()

    def publish():
        i = 0
        while not stop.is_set() and i < 2000:
            pub.publish("moat/reload", str(i), qos=1)
            i += 1
            time.sleep(0.02)

    t = threading.Thread(target=publish, daemon=True)
    t.start()
    try:
        for k in range(5):
            time.sleep(0.3)
            if k == 2:
                good = open(moat.conf).read()
                with open(moat.conf, "w") as f:
                    f.write(good.replace('"limits"', '"limitz"', 1))
                out = moat.ctl("reload")
                assert out.startswith("error:") and "unknown key 'limitz'" in out, out
                assert f"{moat.conf}:" in out
                with open(moat.conf, "w") as f:
                    f.write(good)
            elif k % 2:
                moat.proc.send_signal(signal.SIGHUP)
            else:
                assert moat.ctl("reload").strip() == "ok"
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(5)
    time.sleep(0.5)
    for c in clients:
        c.loop_stop()
    assert disconnects == [], disconnects
    assert len(got) > 20
    # QoS 1 in order, nothing lost across the reloads
    assert got == list(range(got[0], got[0] + len(got))), got[:50]
    info = moat.info()
    assert info["reloads"] == "4" and info["reload_failures"] == "1", info
    assert "reload result=ok" in moat.log()
    for c in clients:
        c.disconnect()


def revoke(own, cert):
    """Revoke cert in the intermediate's CRL and rewrite crl.pem, as an
    operator would (a new file renamed over the old one)."""
    env = dict(os.environ, CA_NAME="inter", CLIENT_ID="none", OCSP_PORT="0", OCSP_ROOT_PORT="0")
    for args in (["-revoke", cert + ".crt"], ["-gencrl", "-out", "inter.crl"]):
        subprocess.run(["openssl", "ca", "-config", "openssl.cnf", "-cert", "inter.crt",
                        "-keyfile", "inter.key", *args], cwd=own, env=env, check=True,
                       capture_output=True)
    tmp = os.path.join(own, "crl.pem.new")
    with open(tmp, "w") as f:
        f.write(open(os.path.join(own, "root.crl")).read())
        f.write(open(os.path.join(own, "inter.crl")).read())
    os.rename(tmp, os.path.join(own, "crl.pem"))


def crl_moat(moat_factory, live_brokers, pki, tmp_path, keep=False):
    own = str(tmp_path / "pki")
    shutil.copytree(pki, own)

    def mutate(c):
        c["listeners"][0]["tls"]["crl"] = os.path.join(own, "crl.pem")
        if keep:
            c["listeners"][0]["tls"]["revoked_live"] = "keep"
    return own, moat_factory(live_brokers, mutate)


def pinged(s):
    s.sendall(b"\xc0\x00")
    return read_connack(s) == b"\xd0\x00"


def test_crl_reload_refuses_newly_revoked_and_closes_its_sessions(moat_factory, live_brokers,
                                                                   pki, tmp_path):
    own, m = crl_moat(moat_factory, live_brokers, pki, tmp_path)
    s = tls_connect(pki, m.port, "dev-good2", "1.2")
    s.sendall(connect_packet("dev-good2"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    other = tls_connect(pki, m.port, "dev-good", "1.3")
    other.sendall(connect_packet("dev-good", 5))
    assert read_connack(other)[::3][:2] == b"\x20\x00"
    revoke(own, "dev-good2")
    assert m.ctl("reload").strip() == "ok"
    with pytest.raises(Exception, match="CERTIFICATE_REVOKED"):
        tls_connect(pki, m.port, "dev-good2", "1.2")
    assert m.rejects("cert_revoked") == 1
    # the live session of the revoked certificate is closed (MQTT 3.1.1:
    # no DISCONNECT exists from server to client), logged; others go on
    assert closed_by_peer(s)
    assert re.search(r"revoked_close conn=\d+ .*serial=\S+ client_id=dev-good2 source=crl",
                     m.log()), m.log()[-2000:]
    assert pinged(other)


def test_crl_file_change_without_signal_disconnects_v5_with_0x87(moat_factory, live_brokers,
                                                                 pki, tmp_path):
    own, m = crl_moat(moat_factory, live_brokers, pki, tmp_path)
    s = tls_connect(pki, m.port, "dev-good2", "1.3")
    s.sendall(connect_packet("dev-good2", 5))
    assert read_connack(s)[::3][:2] == b"\x20\x00"
    other = tls_connect(pki, m.port, "dev-good", "1.2")
    other.sendall(connect_packet("dev-good"))
    assert read_connack(other) == b"\x20\x02\x00\x00"
    revoke(own, "dev-good2")  # no SIGHUP, no socket command
    # MQTT 5: DISCONNECT with reason 0x87 (Not authorized), then close
    pkt = recv_exact(s, 2, timeout=8)
    assert pkt[0] == 0xE0, pkt
    body = recv_exact(s, pkt[1])
    assert body[0] == 0x87, body
    assert closed_by_peer(s)
    assert "crl_changed" in m.log()
    with pytest.raises(Exception, match="CERTIFICATE_REVOKED"):
        tls_connect(pki, m.port, "dev-good2", "1.2")
    assert pinged(other)


def test_revoked_live_keep_leaves_the_session(moat_factory, live_brokers, pki, tmp_path):
    own, m = crl_moat(moat_factory, live_brokers, pki, tmp_path, keep=True)
    s = tls_connect(pki, m.port, "dev-good2", "1.2")
    s.sendall(connect_packet("dev-good2"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    revoke(own, "dev-good2")
    assert m.ctl("reload").strip() == "ok"
    with pytest.raises(Exception, match="CERTIFICATE_REVOKED"):
        tls_connect(pki, m.port, "dev-good2", "1.2")
    assert pinged(s)
    assert "revoked_close" not in m.log()


def test_invalid_reload_keeps_old_settings(moat, pki):
    good = open(moat.conf).read()
    with open(moat.conf, "w") as f:
        f.write("listeners: [\n")
    moat.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload result=\"refused" in moat.log(), 5), moat.log()
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    with open(moat.conf, "w") as f:
        f.write(good)


def test_removed_server_drains(moat, live_brokers, pki):
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    home = moat.forwarded_to("dev-good")[-1]
    rewrite(moat, lambda c: c["upstreams"][0].update(
        servers=[x for x in c["upstreams"][0]["servers"] if x["name"] != home]))
    assert moat.ctl("reload").strip() == "ok"
    assert home not in moat.ctl("show servers")
    # the old session still goes to its broker
    s.sendall(b"\xc0\x00")
    assert read_connack(s) == b"\xd0\x00"
    # new sessions go elsewhere
    s2 = tls_connect(pki, moat.port, "dev-good")
    s2.sendall(connect_packet("dev-good"))
    assert read_connack(s2) == b"\x20\x02\x00\x00"
    assert moat.forwarded_to("dev-good")[-1] != home
    s.close()
    s2.close()


def test_reload_changes_settings_for_new_connections(moat, pki):
    s = tls_connect(pki, moat.port, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    rewrite(moat, lambda c: c["listeners"][0]["mqtt"].update(client_id_must_match=False))
    assert moat.ctl("reload").strip() == "ok"
    s2 = tls_connect(pki, moat.port, "dev-good")
    s2.sendall(connect_packet("any-id-now"))
    assert read_connack(s2) == b"\x20\x02\x00\x00"
    s.sendall(b"\xc0\x00")
    assert read_connack(s) == b"\xd0\x00"


def test_reload_adds_and_removes_listeners(moat, pki):
    from conftest import free_port, port_open
    port2 = free_port()

    def add(c):
        extra = json.loads(json.dumps(c["listeners"][0]))
        extra["name"] = "second"
        extra["bind"] = f"127.0.0.1:{port2}"
        c["listeners"].append(extra)
    rewrite(moat, add)
    assert moat.ctl("reload").strip() == "ok"
    s = tls_connect(pki, port2, "dev-good")
    s.sendall(connect_packet("dev-good"))
    assert read_connack(s) == b"\x20\x02\x00\x00"
    rewrite(moat, lambda c: c.update(listeners=c["listeners"][:1]))
    assert moat.ctl("reload").strip() == "ok"
    assert wait_for(lambda: not port_open(port2), 3)
    # the session accepted on the removed listener keeps running
    s.sendall(b"\xc0\x00")
    assert read_connack(s) == b"\xd0\x00"
