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
