"""The Debian package (debian/, scripts/build-deb.sh) and the man pages.

The package is built from this tree with the documented script (reusing the
wolfSSL prefix of the build under test, as debian/rules allows), unpacked
with dpkg-deb -x into a temporary folder, and the packaged moat is run from
there: --version, and --check on the packaged configuration. The file list,
the conffile, the unit and the dependencies are checked. A package built
from the same sources is reused by later runs of the suite (build-pkgtest/,
keyed by a hash of every source file). The wolfSSL prefix is copied first:
build-wolfssl.sh rebuilds a prefix whose build stamp differs, and the
prefix under test may be shared."""
import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import MOAT, REPO

TOOLS = ["dpkg-buildpackage", "dh", "scdoc", "dpkg-deb", "readelf"]
missing = [t for t in TOOLS if shutil.which(t) is None]
needs_tools = pytest.mark.skipif(bool(missing), reason=f"no {' '.join(missing)}"
                                 " (scripts/install-deps.sh installs them)")

FILES = ["./usr/sbin/moat", "./lib/systemd/system/moat.service", "./etc/moat/moat.yaml",
         "./usr/share/man/man8/moat.8.gz", "./usr/share/man/man8/moat-ctl.8.gz",
         "./usr/share/man/man5/moat.yaml.5.gz", "./usr/share/doc/moat/copyright",
         "./usr/share/doc/moat/README.md"]


def source_files():
    r = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       cwd=REPO, capture_output=True, timeout=60)
    if r.returncode != 0:
        pytest.skip("not a git checkout")
    skip = re.compile(r"^(\.deps|build[^/]*|demo)(/|$)")
    return sorted(f for f in r.stdout.decode().split("\0")
                  if f and not skip.match(f) and os.path.isfile(os.path.join(REPO, f)))


def wolfssl_prefix():
    """The wolfSSL prefix the build under test used (its meson option, or
    BUILDDIR/wolfssl), when it holds a finished build."""
    build = os.path.dirname(os.path.abspath(MOAT))
    r = subprocess.run(["meson", "introspect", "--buildoptions", build],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None
    opt = {o["name"]: o["value"] for o in json.loads(r.stdout)}.get("wolfssl_prefix", "")
    prefix = opt or os.path.join(build, "wolfssl")
    return prefix if os.path.exists(os.path.join(prefix, ".moat-stamp")) else None


@pytest.fixture(scope="module")
def deb():
    h = hashlib.sha256()
    for f in source_files():
        h.update(f.encode() + b"\0")
        with open(os.path.join(REPO, f), "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    out = os.path.join(REPO, "build-pkgtest", h.hexdigest()[:16])
    debs = [f for f in os.listdir(out) if re.match(r"moat_.*\.deb$", f)] \
        if os.path.isdir(out) else []
    if not debs:
        shutil.rmtree(os.path.join(REPO, "build-pkgtest"), ignore_errors=True)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noddebs")
        prefix = wolfssl_prefix()
        if prefix:  # a copy: a stamp that differs rebuilds the copy, never the original
            shutil.copytree(prefix, os.path.join(out, "wolfssl"), symlinks=True)
            env["MOAT_WOLFSSL_PREFIX"] = os.path.join(out, "wolfssl")
        r = subprocess.run(["bash", os.path.join(REPO, "scripts", "build-deb.sh"), "--no-deps",
                            "--no-lintian", out], capture_output=True, text=True, env=env,
                           timeout=900)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        debs = [f for f in os.listdir(out) if re.match(r"moat_.*\.deb$", f)]
    assert len(debs) == 1, debs
    return os.path.join(out, debs[0])


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    d = tmp_path_factory.mktemp("pkgroot")
    subprocess.run(["dpkg-deb", "-x", deb, str(d)], check=True, timeout=60)
    subprocess.run(["dpkg-deb", "-e", deb, str(d / "DEBIAN")], check=True, timeout=60)
    return str(d)


@needs_tools
def test_package_name_files_and_conffile(deb, root):
    version = field(deb, "Version")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert os.path.basename(deb) == f"moat_{version}_{arch}.deb"
    listed = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    paths = {line.split()[-1] for line in listed.splitlines()}
    for f in FILES:
        assert f in paths, f
    assert not [p for p in paths if "wolfssl" in p.lower()]  # no library, no headers
    docs = {f for f in os.listdir(os.path.join(REPO, "docs")) if f.endswith(".md")}
    assert docs and {f"./usr/share/doc/moat/docs/{f}" for f in docs} <= paths
    assert open(os.path.join(root, "DEBIAN", "conffiles")).read().split() == \
        ["/etc/moat/moat.yaml"]
    for script in ("postinst", "postrm"):  # the moat user: added, and removed on purge
        assert "moat" in open(os.path.join(root, "DEBIAN", script)).read()


@needs_tools
def test_package_depends_on_shared_libraries_but_not_wolfssl(deb, root):
    depends = field(deb, "Depends")
    names = {d.strip().split()[0] for d in depends.split(",")}
    # procps: the /bin/kill of the unit's ExecReload
    assert {"libc6", "libuv1", "libyaml-0-2", "libjansson4", "adduser", "procps"} <= names, depends
    assert not [n for n in names if "wolfssl" in n], depends
    # linked in statically, from this revision of Debian's wolfssl source
    built = re.fullmatch(r"wolfssl \(= (5\.7\.\d+-\S+)\)", field(deb, "Built-Using"))
    assert built, field(deb, "Built-Using")
    version = subprocess.run([os.path.join(root, "usr/sbin/moat"), "--version"],
                             capture_output=True, text=True, timeout=30).stdout
    assert f"Debian {built.group(1)}" in version, version
    needed = subprocess.run(["readelf", "-d", os.path.join(root, "usr/sbin/moat")],
                            capture_output=True, text=True, check=True, timeout=30).stdout
    libs = re.findall(r"\(NEEDED\).*\[(\S+)\]", needed)
    assert libs and not [l for l in libs if "wolfssl" in l], libs


@needs_tools
def test_packaged_moat_version(deb, root):
    r = subprocess.run([os.path.join(root, "usr/sbin/moat"), "--version"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "moat " + field(deb, "Version")
    assert re.match(r"wolfSSL 5\.7\.\d+ \(bundled", lines[1]), lines[1]


@needs_tools
def test_packaged_config_check_says_what_is_missing_then_passes(root, pki, tmp_path):
    moat = os.path.join(root, "usr/sbin/moat")
    conf = os.path.join(root, "etc/moat/moat.yaml")
    text = open(conf).read()
    # as shipped: the certificates the operator has not put in place yet
    # (on this machine /etc/moat/tls is not there either)
    if not os.path.exists("/etc/moat/tls/server.crt"):
        r = subprocess.run([moat, "-c", conf, "--check"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 1
        errs = r.stderr.splitlines()
        for key, path in (("cert", "server.crt"), ("key", "server.key"),
                          ("client_ca", "clients-ca.pem")):
            assert [e for e in errs if re.match(
                re.escape(conf) + rf":\d+:\d+: tls\.{key}: cannot read '/etc/moat/tls/{path}'",
                e)], r.stderr
        assert len(errs) == 3, r.stderr  # nothing else is wrong with it
    # once the operator names their certificates, it passes
    named = text.replace("/etc/moat/tls/server.crt", os.path.join(pki, "server.crt")) \
        .replace("/etc/moat/tls/server.key", os.path.join(pki, "server.key")) \
        .replace("/etc/moat/tls/clients-ca.pem", os.path.join(pki, "ca.crt"))
    assert named != text
    p = tmp_path / "moat.yaml"
    p.write_text(named)
    r = subprocess.run([moat, "-c", str(p), "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{p}: ok"


@needs_tools
def test_packaged_unit_is_the_hardened_one_and_verifies(root, tmp_path):
    unit = open(os.path.join(root, "lib/systemd/system/moat.service")).read()
    source = open(os.path.join(REPO, "deploy", "moat.service")).read()
    assert unit == source.replace("/usr/local/sbin/", "/usr/sbin/")
    assert re.findall(r"^ExecStart=(\S+)", unit, re.M) == ["/usr/sbin/moat"]
    for line in ("User=moat", "RuntimeDirectory=moat", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"):
        assert re.search("^" + re.escape(line) + "$", unit, re.M), line
    if shutil.which("systemd-analyze") is None:
        return
    moved = tmp_path / "moat.service"
    moved.write_text(unit.replace("/usr/sbin/moat", os.path.join(root, "usr/sbin/moat")))
    # its Documentation= man pages are looked up where the package put them
    r = subprocess.run(["systemd-analyze", "verify", str(moved)], capture_output=True,
                       text=True, timeout=60,
                       env=dict(os.environ, MANPATH=os.path.join(root, "usr/share/man")))
    bad = [l for l in (r.stdout + r.stderr).splitlines() if "moat.service" in l]
    assert r.returncode == 0 and not bad, r.stdout + r.stderr


@needs_tools
@pytest.mark.skipif(shutil.which("man") is None or shutil.which("lexgrog") is None,
                    reason="no man-db")
def test_packaged_man_pages_render(root):
    for page, name, must in (("man8/moat.8.gz", "moat", ["EXIT STATUS", "SIGNALS", "FILES"]),
                             ("man8/moat-ctl.8.gz", "moat-ctl", ["COMMANDS", "show info"]),
                             ("man5/moat.yaml.5.gz", "moat.yaml", ["EXAMPLE", "listeners"])):
        path = os.path.join(root, "usr/share/man", page)
        r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING=""),
                           timeout=60)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr
        for word in must:
            assert word in r.stdout, (page, word)
        # apropos/whatis can read its NAME line (lintian's bad-whatis-entry)
        r = subprocess.run(["lexgrog", path], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and f": \"{name} - " in r.stdout, r.stdout + r.stderr
