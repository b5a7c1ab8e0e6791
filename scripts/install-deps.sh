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

src=/etc/apt/sources.list.d/moat-trixie-src.sources
if [ ! -f "$top/.deps/wolfssl_5.7.2.orig.tar.gz" ]; then
  if [ ! -f "$src" ]; then
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
        sed -e 's/^Types:.*/Types: deb-src/' -e 's/^Suites:.*/Suites: trixie/' > /tmp/moat-src.$$
    else
      line=$(grep -m1 '^deb ' /etc/apt/sources.list)
      uri=$(echo "$line" | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}')
      printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > /tmp/moat-src.$$
    fi
    sudo_ mv /tmp/moat-src.$$ "$src"
    sudo_ apt-get update -q >/dev/null
  fi
  mkdir -p "$top/.deps"
  (cd "$top/.deps" && apt-get source --download-only wolfssl=5.7.2-0.1+deb13u2 >/dev/null 2>&1) || {
    sudo_ apt-get update -q >/dev/null
    (cd "$top/.deps" && apt-get source --download-only wolfssl=5.7.2-0.1+deb13u2 >/dev/null)
  }
fi
echo "install-deps: ok"
