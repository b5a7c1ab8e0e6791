#!/usr/bin/env bash
# Builds wolfSSL 5.7.2 from Debian 13's source package into a static prefix
# inside the build tree, with the features moat needs (see README, "wolfSSL").
# usage: build-wolfssl.sh PREFIX [SRCCACHE]
# Idempotent: does nothing when PREFIX already holds this exact build.
set -euo pipefail
prefix=$1
cache=${2:-$(cd "$(dirname "$0")/.." && pwd)/.deps}
version=5.7.2
debver=5.7.2-0.1+deb13u2
flags="--enable-aesni --enable-intelasm --enable-sp --enable-sp-asm --enable-tls13
 --enable-ocsp --enable-ocspstapling --enable-ocspstapling2 --enable-crl
 --enable-session-ticket --enable-sni --enable-alpn --enable-opensslextra
 --enable-certgen --enable-curve25519 --enable-ed25519
 --disable-examples --disable-crypttests --disable-shared --enable-static"
# WOLFSSL_NO_CRL_DATE_CHECK: a CRL past its nextUpdate still loads and its
# revocations still apply; moat itself applies tls.crl_expired (warn | reject).
cflags="-O2 -fPIC -DWOLFSSL_NONBLOCK_OCSP -DWOLFSSL_NO_CRL_DATE_CHECK"
# One patch, applied below: wolfSSL answers a certificate that OCSP found
# revoked with the alert bad_certificate; RFC 8446/5246 and moat's spec
# want certificate_revoked, which it already sends for a CRL revocation.
patches="ocsp-revoked-alert"
stamp="$version $flags $cflags $patches"
if [ -f "$prefix/.moat-stamp" ] && [ "$(cat "$prefix/.moat-stamp")" = "$stamp" ]; then
  exit 0
fi
mkdir -p "$cache"
tarball="$cache/wolfssl_$version.orig.tar.gz"
if [ ! -f "$tarball" ]; then
  # Needs the deb-src entry that scripts/install-deps.sh adds.
  (cd "$cache" && apt-get source --download-only "wolfssl=$debver" >&2) || {
    echo "build-wolfssl: cannot fetch the wolfssl source package;" \
         "run scripts/install-deps.sh as root first (or configure with -Dwolfssl=system)" >&2
    exit 1
  }
fi
work="$prefix.src"
rm -rf "$work" && mkdir -p "$work"
tar -xzf "$tarball" -C "$work" --strip-components=1
cd "$work"
grep -q 'ret == WC_NO_ERR_TRACE(CRL_CERT_REVOKED)) {' src/internal.c || {
  echo "build-wolfssl: src/internal.c is not what the patch expects" >&2; exit 1; }
sed -i 's/else if (ret == WC_NO_ERR_TRACE(CRL_CERT_REVOKED)) {/else if (ret == WC_NO_ERR_TRACE(CRL_CERT_REVOKED) || ret == WC_NO_ERR_TRACE(OCSP_CERT_REVOKED)) {/' src/internal.c
[ "$(grep -c 'ret == WC_NO_ERR_TRACE(OCSP_CERT_REVOKED)) {' src/internal.c)" = 1 ] || {
  echo "build-wolfssl: the OCSP alert patch did not apply" >&2; exit 1; }
{
  ./autogen.sh
  # shellcheck disable=SC2086
  CFLAGS="$cflags" ./configure --prefix="$prefix" $flags
  make -j"$(nproc)"
  make install
} > "$work.log" 2>&1 || { tail -40 "$work.log" >&2; exit 1; }
echo "$stamp" > "$prefix/.moat-stamp"
