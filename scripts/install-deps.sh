#!/usr/bin/env bash
# Installs what moat needs to build and test on Debian 12 (run as root),
# and fetches the wolfSSL 5.7.2 source package of Debian 13 into .deps/.
# The deb-src entry for trixie is derived from the machine's own apt
# source, so no mirror is named here. Idempotent and quick when done.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Every command the tests and scripts run, by package, so that the
# README's two commands pass on a minimal Debian 12 (debootstrap
# --variant=minbase): some of these are in every Debian system, and are
# listed so that nothing the tests use is left to chance.
#   build: meson ninja cc make (build-essential) pkg-config, libuv,
#     libyaml, jansson (JSON of JWK Sets and tokens); wolfSSL's
#     autogen.sh: autoconf automake libtool; perl (perl-base) patches it;
#     tar gzip unpack it; fuzz targets: clang libclang-rt-14-dev
#   tests: python3 (pytest, paho-mqtt, yaml, cryptography: OCSP answers
#     with chosen dates), mosquitto, mosquitto_pub/sub
#     (mosquitto-clients), openssl (PKI, OCSP responder, s_client),
#     stdbuf (coreutils), setpriv unshare (util-linux), mount (mount),
#     getent (libc-bin), systemd-analyze (systemd), /bin/kill that the
#     unit's ExecReload names (procps), yamllint, promtool (prometheus),
#     haproxy, nginx with its stream module, MQTT.js (nodejs, node-mqtt)
#     and a headless browser (chromium) as WebSocket clients
#   by hand: socat, to type commands into the stats socket
pkgs=(build-essential meson ninja-build pkg-config libuv1-dev libyaml-dev
      mosquitto mosquitto-clients python3 python3-paho-mqtt python3-pytest
      python3-yaml openssl autoconf automake libtool perl-base tar gzip
      dpkg-dev clang libclang-rt-14-dev socat ca-certificates coreutils
      util-linux mount libc-bin procps systemd prometheus yamllint
      haproxy nginx libnginx-mod-stream python3-cryptography libjansson-dev
      nodejs node-mqtt chromium)
export DEBIAN_FRONTEND=noninteractive
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_ apt-get update -q >/dev/null
  # haproxy and nginx are for tests and benchmarks, which start their own:
  # keep the packages from starting system services while installing.
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
