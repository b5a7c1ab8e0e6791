#!/usr/bin/env bash
# Installs what moat needs to build and test on Debian 12 (run as root),
# and fetches the wolfSSL 5.7.2 source package of Debian 13 into .deps/.
# The deb-src entry for trixie is derived from the machine's own apt
# source, so no mirror is named here. Idempotent and quick when done.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# usage: install-deps.sh [--demo | --package]
#   (none)     everything: build, demo, tests, benchmarks, the package
#              (what .ci/run and tests/run.sh need)
#   --demo     only what scripts/demo.sh runs: build, mosquitto, openssl
#   --package  what scripts/build-deb.sh runs: build and Debian packaging
# Every command the tests and scripts run, by package, so that the
# README's two commands pass on a minimal Debian 12 (debootstrap
# --variant=minbase): some of these are in every Debian system, and are
# listed so that nothing the tests use is left to chance.
#   build: meson ninja cc make (build-essential) pkg-config, libuv,
#     libyaml, jansson (JSON of JWK Sets and tokens); wolfSSL's
#     autogen.sh: autoconf automake libtool; perl (perl-base) patches it;
#     tar gzip unpack it; apt-get source (dpkg-dev) fetches it
#   demo: mosquitto, mosquitto_pub/sub (mosquitto-clients), openssl (the
#     demo PKI, tests/pki.sh), date (coreutils)
#   package: dpkg-buildpackage's helpers (debhelper), the man
#     pages (scdoc), lintian
#   tests: python3 (pytest, paho-mqtt, yaml, cryptography: OCSP answers
#     with chosen dates), openssl (OCSP responder, s_client), fuzz targets:
#     clang libclang-rt-14-dev, stdbuf (coreutils), setpriv unshare
#     (util-linux), mount (mount), getent (libc-bin), systemd-analyze
#     (systemd), /bin/kill that the unit's ExecReload names (procps),
#     yamllint, promtool (prometheus), haproxy, nginx with its stream
#     module, MQTT.js (nodejs, node-mqtt) and a headless browser
#     (chromium) as WebSocket clients, man (man-db: the man pages render),
#     curl (EST requests), the package test (the package list above, and
#     git: it builds from the files git knows)
#   by hand: socat, to type commands into the stats socket
build_pkgs=(build-essential meson ninja-build pkg-config libuv1-dev libyaml-dev
            libjansson-dev autoconf automake libtool perl-base tar gzip dpkg-dev
            ca-certificates)
demo_pkgs=(mosquitto mosquitto-clients openssl coreutils)
package_pkgs=(debhelper scdoc lintian)
test_pkgs=(python3 python3-paho-mqtt python3-pytest python3-yaml
           python3-cryptography clang libclang-rt-14-dev socat util-linux mount
           libc-bin procps systemd prometheus yamllint haproxy nginx
           libnginx-mod-stream man-db nodejs node-mqtt chromium curl git)
case ${1:-} in
  --demo) pkgs=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
  --package) pkgs=("${build_pkgs[@]}" "${package_pkgs[@]}") ;;
  "") pkgs=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${package_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: install-deps.sh [--demo | --package]" >&2; exit 2 ;;
esac
export DEBIAN_FRONTEND=noninteractive
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_ apt-get update -q >/dev/null
  # haproxy and nginx (tests and benchmarks) and mosquitto (the demo) are
  # started by the tests and the demo themselves: keep the packages from
  # starting system services while installing.
  rc=/usr/sbin/policy-rc.d
  own_rc=
  if [ ! -e "$rc" ]; then
    printf '#!/bin/sh\nexit 101\n' | sudo_ tee "$rc" >/dev/null
    sudo_ chmod 755 "$rc"
    own_rc=1
  fi
  sudo_ apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_rc" ]; then sudo_ rm -f "$rc"; fi
fi
# A system broker started by the package would take port 1883; the tests
# and the demo start their own brokers on other ports, so it may stay.

# wolfSSL's source: the newest Debian 13 revision of 5.7.2, fetched with a
# private apt configuration (see fetch-wolfssl.sh): the machine's apt
# sources stay as they were. Earlier versions of this script left a
# deb-src entry for trixie behind; it is moat's own, so it goes.
old_src=/etc/apt/sources.list.d/moat-trixie-src.sources
if [ -f "$old_src" ]; then
  echo "install-deps: removing $old_src (left by an earlier install-deps)"
  sudo_ rm -f "$old_src"
fi
bash "$top/scripts/fetch-wolfssl.sh" "$top/.deps"
echo "install-deps: ok"
