"""Several workers (`workers: 2`): each runs its own event loop with its own
listening socket on the same address (SO_REUSEPORT), so the kernel spreads
new connections over them; with `worker_placement: spread` they stay there,
with `pack` (the default) a worker hands them to the first worker under
half a core. These tests check that both workers serve, that the stats
socket and /metrics add the workers' counters up, that kill, reload and a
graceful stop reach every worker, and that packing puts idle connections
on the first worker and they work there. (The whole suite also runs once
more with MOAT_TEST_WORKERS=2, see tests/run.sh: packed.)"""
import json
import signal
import time
import urllib.request

from conftest import (closed_by_peer, connect_packet, free_port, read_connack,
                      recv_exact, tls_connect, wait_for)

N = 32  # connections: all on one worker by chance has odds 2 ** -31


def workers_cfg(n=2, metrics=None, placement="spread"):
    def mutate(c):
        c["workers"] = n
        c["worker_placement"] = placement
        # many sessions with one certificate: client ids of their own
        c["listeners"][0]["mqtt"] = {"identity": "cn", "client_id_must_match": False}
        c["limits"]["drain_timeout"] = "5s"
        if metrics:
            c["stats"]["metrics"] = f"127.0.0.1:{metrics}"
    return mutate


def per_worker(m):
    """`show workers` as {worker: {current, total, ok, failed, listeners}}."""
    rows = {}
    for line in m.ctl("show workers").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        w, cur, tot, ok, failed, nl = line.split()
        rows[int(w)] = {"current": int(cur), "total": int(tot), "ok": int(ok),
                        "failed": int(failed), "listeners": int(nl)}
    return rows


def hold(pki, port, cid, version=4):
    s = tls_connect(pki, port, "dev-good")
    s.sendall(connect_packet(cid, version))
    ack = read_connack(s)
    assert ack[:1] == b"\x20" and ack[3:4] == b"\x00", (cid, ack)
    return s


def ping(s):
    s.sendall(b"\xc0\x00")
    return recv_exact(s, 2, timeout=5) == b"\xd0\x00"


def stat_rows(m):
    rows = {}
    for line in m.ctl("show stat").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split(",")
        rows[(f[0], f[1])] = f
    return rows


def test_both_workers_serve_and_stats_add_up(moat_factory, live_brokers, pki):
    mport = free_port()
    m = moat_factory(live_brokers, workers_cfg(metrics=mport))
    assert m.info()["workers"] == "2"
    socks = [hold(pki, m.port, f"w-{i}") for i in range(N)]
    try:
        rows = per_worker(m)
        assert sorted(rows) == [0, 1], rows
        assert all(r["current"] > 0 for r in rows.values()), rows
        assert sum(r["current"] for r in rows.values()) == N, rows
        assert all(r["listeners"] == 1 for r in rows.values()), rows

        info = m.info()
        assert int(info["conns_current"]) == N, info
        assert int(info["conns_total"]) == sum(r["total"] for r in rows.values())
        assert int(info["handshakes_ok"]) == N, info

        st = stat_rows(m)
        # listener,name,upstream,status,weight,active,total,bytes_in,...
        assert int(st[("listener", "mqtts")][5]) == N, st
        # accepted: N and the start-up probe of the port
        assert int(st[("listener", "mqtts")][6]) == int(info["conns_total"]), st
        assert int(st[("upstream", "brokers")][5]) == N, st  # active
        assert int(st[("upstream", "brokers")][6]) == N, st  # total
        assert sum(int(f[5]) for k, f in st.items() if k[0] == "server") == N, st

        body = urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics",
                                      timeout=5).read().decode()
        assert f"moat_connections_active {N}\n" in body
        assert (f'moat_listener_connections_total{{listener="mqtts",transport="tcp"}} '
                f'{info["conns_total"]}\n') in body

        conns = [l.split() for l in m.ctl("show conns").splitlines()
                 if l and not l.startswith("#")]
        assert sorted(c[3] for c in conns) == sorted(f"w-{i}" for i in range(N))

        # kill reaches the connection on whichever worker holds it
        for c in conns:
            out = m.ctl("kill", "conn", c[0])
            assert out.startswith("ok: 1 closed"), out
        assert all(closed_by_peer(s, 5) for s in socks)
        assert wait_for(lambda: int(m.info()["conns_current"]) == 0, 5), m.info()
        rows = per_worker(m)
        assert sum(r["current"] for r in rows.values()) == 0, rows
        assert sum(r["total"] for r in rows.values()) == int(info["conns_total"])
    finally:
        for s in socks:
            s.close()


def test_reload_reaches_every_worker(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, workers_cfg())
    socks = [hold(pki, m.port, f"r-{i}") for i in range(16)]
    try:
        gen = int(m.info()["generation"])
        port2 = free_port()
        second = dict(m.cfg["listeners"][0], name="second", bind=f"127.0.0.1:{port2}")
        m.cfg["listeners"].append(second)
        with open(m.conf, "w") as f:
            json.dump(m.cfg, f, indent=1)
        assert m.ctl("reload").strip() == "ok"
        assert int(m.info()["generation"]) == gen + 1
        # every worker listens on the new address too
        rows = per_worker(m)
        assert all(r["listeners"] == 2 for r in rows.values()), rows
        new = [hold(pki, port2, f"n-{i}") for i in range(N)]
        rows = per_worker(m)
        assert all(r["current"] > 0 for r in rows.values()), rows
        st = stat_rows(m)
        assert int(st[("listener", "second")][6]) == N, st
        # the sessions from before the reload still run on their workers
        assert all(ping(s) for s in socks)
        for s in new:
            s.close()
    finally:
        for s in socks:
            s.close()


def test_graceful_stop_reaches_every_worker(moat_factory, live_brokers, pki):
    m = moat_factory(live_brokers, workers_cfg())
    socks = [hold(pki, m.port, f"s-{i}", version=5) for i in range(16)]
    try:
        rows = per_worker(m)
        assert all(r["current"] > 0 for r in rows.values()), rows
        m.proc.send_signal(signal.SIGTERM)
        for s in socks:
            pkt = recv_exact(s, 3, timeout=5)
            # DISCONNECT, reason 0x8B: server shutting down
            assert pkt[:1] == b"\xe0" and pkt[2:3] == b"\x8b", pkt
        assert m.proc.wait(timeout=8) == 0
        assert "info stop signal=" in m.log()
    finally:
        for s in socks:
            s.close()


def test_pack_puts_idle_connections_on_the_first_worker(moat_factory, live_brokers, pki):
    """With pack, connections the kernel gave the second worker are handed
    to the first (under half a core): all N run there, and work there
    (a PINGREQ answered, kill reaches them, a reload keeps them)."""
    m = moat_factory(live_brokers, workers_cfg(placement="pack"))
    socks = []
    for i in range(N):  # 4 at a time: a worker takes at most 16 per 100 ms
        socks.append(hold(pki, m.port, f"p-{i}"))
        if i % 4 == 3:  # and stays under half a core (ASan builds too)
            time.sleep(0.3)
    try:
        rows = per_worker(m)
        assert rows[0]["current"] == N and rows[1]["current"] == 0, rows
        assert rows[1]["total"] == 0, rows
        assert all(ping(s) for s in socks)
        assert int(m.info()["handshakes_ok"]) == N
        assert m.ctl("reload").strip() == "ok"
        assert all(ping(s) for s in socks)
        conns = [l.split() for l in m.ctl("show conns").splitlines()
                 if l and not l.startswith("#")]
        assert len(conns) == N
        out = m.ctl("kill", "conn", conns[0][0])
        assert out.startswith("ok: 1 closed"), out
    finally:
        for s in socks:
            s.close()


def test_spread_keeps_connections_where_the_kernel_put_them(moat_factory, live_brokers, pki):
    """worker_placement: spread, set by a reload: new connections stay on
    both workers (all on one by chance: odds 2 ** -31)."""
    m = moat_factory(live_brokers, workers_cfg(placement="pack"))
    m.cfg["worker_placement"] = "spread"
    with open(m.conf, "w") as f:
        json.dump(m.cfg, f, indent=1)
    assert m.ctl("reload").strip() == "ok"
    socks = [hold(pki, m.port, f"s-{i}") for i in range(N)]
    try:
        rows = per_worker(m)
        assert all(r["current"] > 0 for r in rows.values()), rows
    finally:
        for s in socks:
            s.close()
