"""A good device's traffic goes through moat to a broker and back."""
import os
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import mosq_args, tls_context, wait_for


@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_message_round_trip(moat, pki, version):
    sub = subprocess.Popen(["mosquitto_sub", *mosq_args(pki, moat.port, "dev-good", version),
                            "-t", "moat/rt", "-C", "1", "-W", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the subscriber is forwarded before the publisher sends
        assert wait_for(lambda: moat.forwarded_to("dev-good"), 5), moat.log()
        time.sleep(0.3)
        pub = subprocess.run(["mosquitto_pub", *mosq_args(pki, moat.port, "dev-good2", version),
                              "-t", "moat/rt", "-m", f"hello {version}"],
                             capture_output=True, text=True, timeout=10)
        assert pub.returncode == 0, pub.stderr
        out, err = sub.communicate(timeout=10)
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    assert out.strip() == f"hello {version}", err
    info = moat.info()
    assert int(info["handshakes_ok"]) >= 2


def paho_client(pki, port, cid, protocol=mqtt.MQTTv311):
    c = mqtt.Client(client_id=cid, protocol=protocol)
    c.tls_set_context(tls_context(pki, cid))
    c.connect("localhost", port, keepalive=30)
    return c


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5])
def test_one_mib_payload(moat, pki, protocol):
    payload = os.urandom(1024 * 1024)
    got = threading.Event()
    received = {}

    def on_message(client, userdata, msg):
        received["p"] = msg.payload
        got.set()

    sub = paho_client(pki, moat.port, "dev-good", protocol)
    sub.on_message = on_message
    sub.subscribe("moat/big", qos=1)
    sub.loop_start()
    pub = paho_client(pki, moat.port, "dev-good2", protocol)
    pub.loop_start()
    try:
        time.sleep(0.5)
        info = pub.publish("moat/big", payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert got.wait(15), moat.log()[-3000:]
        assert received["p"] == payload
    finally:
        for c in (sub, pub):
            c.loop_stop()
            c.disconnect()
    st = moat.ctl("show stat json")
    import json
    j = json.loads(st)
    assert j["listeners"][0]["bytes_in"] >= 1024 * 1024
    assert j["listeners"][0]["bytes_out"] >= 1024 * 1024


def test_same_client_id_same_broker(moat, pki):
    for _ in range(4):
        r = subprocess.run(["mosquitto_pub", *mosq_args(pki, moat.port, "dev-good"),
                            "-t", "moat/x", "-m", "1"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
    servers = moat.forwarded_to("dev-good")
    assert len(servers) == 4 and len(set(servers)) == 1, servers
