"""Prometheus: GET /metrics during a load passes `promtool check metrics`,
and its counters agree with `show stat json`."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from conftest import connect_packet, free_port, read_connack, tls_connect


def scrape(port, path="/metrics"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(), body.decode()


def value(body, name, **labels):
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name, labels)


@pytest.fixture
def mmoat(moat_factory, live_brokers):
    port = free_port()
    m = moat_factory(live_brokers, lambda c: c["stats"].update(metrics=f"127.0.0.1:{port}"))
    m.metrics_port = port
    return m


def test_metrics_under_load(mmoat, pki):
    m = mmoat
    errors = []

    def client(cid, n):
        try:
            for _ in range(n):
                s = tls_connect(pki, m.port, cid)
                s.sendall(connect_packet(cid))
                assert read_connack(s) == b"\x20\x02\x00\x00"
                s.sendall(b"\x30\x0b\x00\x04load" + b"x" * 5)
                s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=client, args=(cid, 15))
               for cid in ("dev-good", "dev-good2")]
    for t in threads:
        t.start()
    scrapes = []
    while any(t.is_alive() for t in threads):
        scrapes.append(scrape(m.metrics_port))
    for t in threads:
        t.join()
    assert not errors, errors
    # one rejected connection too
    s = tls_connect(pki, m.port, "dev-good")
    s.sendall(connect_packet("not-me"))
    read_connack(s)
    s.close()
    head, body = scrape(m.metrics_port)
    assert head.startswith("HTTP/1.1 200") and "text/plain; version=0.0.4" in head
    if shutil.which("promtool"):
        for _, b in scrapes[-3:] + [(head, body)]:
            r = subprocess.run(["promtool", "check", "metrics"], input=b,
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stdout + r.stderr
    j = json.loads(m.ctl("show stat json"))
    lst = j["listeners"][0]
    assert value(body, "moat_listener_connections_total", listener="mqtts") == lst["accepted"]
    assert value(body, "moat_listener_bytes_total", listener="mqtts",
                 direction="in") == lst["bytes_in"]
    assert value(body, "moat_rejects_total", listener="mqtts",
                 cause="client_id_mismatch") == lst["rejects"]["client_id_mismatch"] == 1
    for srv in j["upstreams"][0]["servers"]:
        assert value(body, "moat_server_connections_total", upstream="brokers",
                     server=srv["name"]) == srv["total"]
        assert value(body, "moat_server_up", upstream="brokers",
                     server=srv["name"]) == (1 if srv["status"] == "UP" else 0)
    assert value(body, "moat_handshake_duration_seconds_count") >= 31
    assert value(body, "moat_upstream_connect_duration_seconds_count") >= 30
    assert re.search(r'moat_handshake_duration_seconds_bucket\{le="\+Inf"\} \d+', body)
    # the process figures Prometheus users expect, read from the process
    status = open(f"/proc/{m.proc.pid}/status").read()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
    assert abs(value(body, "process_resident_memory_bytes") - rss) < rss / 2, rss
    assert value(body, "process_cpu_seconds_total") > 0
    fds = len(os.listdir(f"/proc/{m.proc.pid}/fd"))
    assert abs(value(body, "process_open_fds") - fds) <= 8, fds
    assert value(body, "process_start_time_seconds") > 1.7e9
    heap = value(body, "moat_heap_bytes", heap="malloc")
    scratch = value(body, "moat_heap_bytes", heap="scratch")
    mapped = value(body, "moat_heap_bytes", heap="scratch_mapped")
    # under ASan, mallinfo2 counts nothing and wolfSSL keeps to malloc
    if not os.environ.get("ASAN_OPTIONS"):
        assert heap > 100000, heap
        # 31 handshakes ran on the scratch heap; idle now, it holds what
        # the TLS contexts keep there, in the chunks still mapped
        assert 0 < scratch < mapped, (scratch, mapped)


def test_metrics_other_paths(mmoat):
    head, body = scrape(mmoat.metrics_port, "/")
    assert head.startswith("HTTP/1.1 404")
