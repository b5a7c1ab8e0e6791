"""deploy/: the systemd unit passes systemd-analyze verify (with the unit's
binary path pointed at this build)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import MOAT, REPO


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path):
    text = open(os.path.join(REPO, "deploy", "moat.service")).read()
    text = text.replace("/usr/local/bin/moat", os.path.abspath(MOAT))
    unit = tmp_path / "moat.service"
    unit.write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                       text=True, timeout=60)
    bad = [l for l in (r.stdout + r.stderr).splitlines() if "moat.service" in l]
    assert r.returncode == 0 and not bad, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_meson_install_puts_binary_and_unit_where_the_unit_expects(tmp_path):
    """`meson install` (into a DESTDIR) of the build MOAT_BIN comes from:
    the binary, the unit and the README land where the unit names them,
    and the installed unit verifies."""
    import json
    build = os.path.dirname(os.path.abspath(MOAT))
    opts = subprocess.run(["meson", "introspect", "--buildoptions", build],
                          capture_output=True, text=True, timeout=60)
    if opts.returncode != 0:
        pytest.skip("MOAT_BIN is not in a meson build directory")
    prefix = {o["name"]: o["value"] for o in json.loads(opts.stdout)}["prefix"]
    dest = tmp_path / "dest"
    r = subprocess.run(["meson", "install", "-C", build, "--destdir", str(dest), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    root = str(dest)
    unit = open(root + prefix + "/lib/systemd/system/moat.service").read()
    if prefix == "/usr/local":
        assert unit == open(os.path.join(REPO, "deploy", "moat.service")).read()
    named = re.findall(r"^ExecStart=(\S+)", unit, re.M) + \
        re.findall(r"^Documentation=file:(\S+)", unit, re.M)
    assert len(named) == 2
    for path in named:
        assert os.path.exists(root + path), path  # installed where the unit looks
    assert os.access(root + named[0], os.X_OK)
    moved = tmp_path / "moat.service"  # the unit as it would read installed at /
    moved.write_text(unit.replace(prefix + "/", root + prefix + "/"))
    r = subprocess.run(["systemd-analyze", "verify", str(moved)], capture_output=True,
                       text=True, timeout=60)
    bad = [l for l in (r.stdout + r.stderr).splitlines() if "moat.service" in l]
    assert r.returncode == 0 and not bad, r.stdout + r.stderr


K8S = os.path.join(REPO, "deploy", "kubernetes", "moat.yaml")
LINT = "{extends: default, rules: {line-length: {max: 100}, document-start: disable, " \
       "truthy: {check-keys: false}}}"


def k8s_docs():
    import yaml
    with open(K8S) as f:
        return {(d["kind"] if d["kind"] not in ("Service", "Secret")
                 else d["kind"] + "/" + d["metadata"]["name"]): d
                for d in yaml.safe_load_all(f) if d}


@pytest.mark.skipif(shutil.which("yamllint") is None, reason="no yamllint")
def test_kubernetes_manifests_lint():
    r = subprocess.run(["yamllint", "-f", "parsable", "-d", LINT, K8S], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kubernetes_manifests_hang_together():
    import yaml
    d = k8s_docs()
    assert {"Namespace", "ConfigMap", "Secret/moat-tls", "Secret/moat-ticket-keys",
            "Deployment", "Service/moat",
            "Service/moat-metrics", "PodDisruptionBudget"} <= set(d)
    cfg = yaml.safe_load(d["ConfigMap"]["data"]["moat.yaml"])
    dep = d["Deployment"]["spec"]
    pod = dep["template"]["spec"]
    c = pod["containers"][0]
    drain = int(cfg["limits"]["drain_timeout"].rstrip("s"))
    assert pod["terminationGracePeriodSeconds"] > drain
    metrics_port = int(cfg["stats"]["metrics"].rsplit(":", 1)[1])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["metrics"] == metrics_port
    assert ports["mqtts"] == int(cfg["listeners"][0]["bind"].rsplit(":", 1)[1])
    assert c["readinessProbe"]["httpGet"]["path"] == "/metrics"
    assert dep["replicas"] > d["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1
    assert d["Service/moat"]["spec"]["type"] == "LoadBalancer"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert cfg["upstreams"][0]["balance"] == "client-id"
    # the ticket key file comes from its Secret, mounted whole (a subPath
    # mount would never see the Secret's updates)
    keys = cfg["listeners"][0]["tls"]["ticket_keys"]
    mount = [m for m in c["volumeMounts"] if keys.startswith(m["mountPath"] + "/")]
    assert len(mount) == 1 and "subPath" not in mount[0]
    vol = [v for v in pod["volumes"] if v["name"] == mount[0]["name"]][0]
    assert vol["secret"]["secretName"] == "moat-ticket-keys"


def test_kubernetes_config_passes_moat_check(tmp_path, pki, brokers):
    """The ConfigMap's moat.yaml with the test PKI in place of the Secret and
    the test brokers in place of the cluster's: `moat --check` accepts it."""
    import yaml
    d = k8s_docs()
    text = d["ConfigMap"]["data"]["moat.yaml"]
    files = {"server.crt": "server.crt", "server.key": "server.key",
             "clients-ca.pem": "ca.crt", "clients.crl": "crl.pem"}
    for k, v in files.items():
        text = text.replace(f"/etc/moat/tls/{k}", os.path.join(pki, v))
    keys = tmp_path / "ticket-keys.bin"
    subprocess.run(["bash", os.path.join(REPO, "scripts", "ticket-keys.sh"), "new", str(keys)],
                   check=True, capture_output=True, timeout=10)
    text = text.replace("/etc/moat/tickets/ticket-keys.bin", str(keys))
    cfg = yaml.safe_load(text)
    for s, b in zip(cfg["upstreams"][0]["servers"], brokers):
        s["address"] = f"localhost:{b.port}"
    cfg["stats"]["socket"] = str(tmp_path / "moat.sock")
    p = tmp_path / "moat.yaml"
    p.write_text(yaml.safe_dump(cfg))
    r = subprocess.run([MOAT, "-c", str(p), "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr


def test_grafana_dashboard_uses_real_metric_names(moat_factory, live_brokers, pki):
    """Every metric the dashboard queries is one moat serves (with OCSP on,
    so that the OCSP families are there)."""
    import json
    import re
    from conftest import free_port
    from test_metrics import scrape
    port = free_port()

    def mutate(c):
        c["stats"]["metrics"] = f"127.0.0.1:{port}"
        c["listeners"][0]["tls"]["ocsp"] = {"mode": "soft"}
    moat_factory(live_brokers, mutate)
    _, body = scrape(port)
    served = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    dash = json.load(open(os.path.join(REPO, "deploy", "grafana", "moat-dashboard.json")))
    used = set()
    for p in dash["panels"]:
        for t in p["targets"]:
            for name in re.findall(r"\b(?:moat|process)_[a-z_]+", t["expr"]):
                used.add(re.sub(r"_(bucket|count|sum)$", "", name))
    assert used and used <= served, used - served


def test_dockerfile_shape():
    text = open(os.path.join(REPO, "deploy", "Dockerfile")).read()
    import re
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(froms) == 2 and all(f.startswith("debian:12") for f in froms)
    assert "USER 10001" in text and "STOPSIGNAL SIGTERM" in text
    assert 'ENTRYPOINT ["/usr/local/bin/moat"]' in text


def test_prometheus_rules_check_and_fire(moat_factory, live_brokers, pki):
    """deploy/prometheus/moat-rules.yaml passes promtool (check, and its
    unit test: the expiry alert fires after `for`, only where a device is
    within 14 days), and the metric it reads is one moat serves."""
    import re
    import shutil
    from conftest import free_port
    from test_metrics import scrape
    d = os.path.join(REPO, "deploy", "prometheus")
    if shutil.which("promtool"):
        for args in (["check", "rules", "moat-rules.yaml"],
                     ["test", "rules", "moat-rules.test.yaml"]):
            r = subprocess.run(["promtool", *args], cwd=d, capture_output=True, text=True,
                               timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
    port = free_port()
    moat_factory(live_brokers, lambda c: c["stats"].update(metrics=f"127.0.0.1:{port}"))
    _, body = scrape(port)
    served = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    rules = open(os.path.join(d, "moat-rules.yaml")).read()
    used = {re.sub(r"_(bucket|count|sum)$", "", n)
            for n in re.findall(r"\bmoat_[a-z_]+", rules)}
    assert used and used <= served, used - served
    assert 'moat_client_cert_expiry_seconds_bucket{le="1209600"}' in body
