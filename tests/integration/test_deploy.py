"""deploy/: the systemd unit passes systemd-analyze verify (with the unit's
binary path pointed at this build)."""
import os
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


K8S = os.path.join(REPO, "deploy", "kubernetes", "moat.yaml")
LINT = "{extends: default, rules: {line-length: {max: 100}, document-start: disable, " \
       "truthy: {check-keys: false}}}"


def k8s_docs():
    import yaml
    with open(K8S) as f:
        return {(d["kind"] if d["kind"] != "Service" else "Service/" + d["metadata"]["name"]): d
                for d in yaml.safe_load_all(f) if d}


@pytest.mark.skipif(shutil.which("yamllint") is None, reason="no yamllint")
def test_kubernetes_manifests_lint():
    r = subprocess.run(["yamllint", "-f", "parsable", "-d", LINT, K8S], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kubernetes_manifests_hang_together():
    import yaml
    d = k8s_docs()
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service/moat",
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
