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
 --enable-session-ticket --enable-sni --enable-alpn
 --enable-certgen --enable-curve25519 --enable-ed25519 --enable-aesgcm=small
 --disable-examples --disable-crypttests --disable-shared --enable-static"
# No OpenSSL compatibility layer: it keeps a decoded copy of the peer's
# certificate in every session (KEEP_PEER_CERT, ~4.7 KB per idle
# connection). moat reads the leaf's DER itself in the verify callback
# (src/codec/der.c). aesgcm=small: no 4-bit GHASH table per key (2 x 512 B per
# connection); with AES-NI the GCM code never uses that table.
# WOLFSSL_NO_CRL_DATE_CHECK: a CRL past its nextUpdate still loads and its
# revocations still apply; moat itself applies tls.crl_expired (warn | reject).
# WOLFSSL_ALWAYS_VERIFY_CB, WOLFSSL_VERIFY_CB_ALL_CERTS: the verify callback
# runs for every certificate of the chain, passed or not (the compatibility
# layer turned these on): moat takes the leaf's identity there.
# WOLFSSL_EXTRA_ALERTS: a fatal handshake error is answered with an alert
# (handshake_failure, unexpected_message, ...), not a silent close.
# WOLFSSL_TICKET_EXTRA_PADDING_SZ=512: room after wolfSSL's own session state
# in a session ticket (32 bytes by default) for moat's identity blob (the
# client's names, serial, the leaf's hash: see src/tls/ticket.h), so that a
# ticket resumes on any instance holding the key with no table. It costs
# 480 bytes in each connection's WOLFSSL_SESSION (its static ticket buffer).
# XMALLOC_USER: wolfSSL calls XMALLOC/XFREE/XREALLOC, defined by moat
# (src/base/scratch.c), with the type of each allocation: a handshake's
# temporaries go to moat's scratch heap, the session's objects to malloc.
cflags="-O2 -fPIC -DWOLFSSL_NONBLOCK_OCSP -DWOLFSSL_NO_CRL_DATE_CHECK"
# WOLFSSL_GETRANDOM: each session's DRBG is seeded with one getrandom()
# call, not open/read/close of /dev/urandom (three system calls a handshake).
cflags="$cflags -DWOLFSSL_GETRANDOM"
cflags="$cflags -DWOLFSSL_TICKET_EXTRA_PADDING_SZ=512"
cflags="$cflags -DXMALLOC_USER -DWOLFSSL_ALWAYS_VERIFY_CB -DWOLFSSL_VERIFY_CB_ALL_CERTS -DWOLFSSL_EXTRA_ALERTS"
# One patch, applied below: wolfSSL answers a revoked certificate with the
# alert bad_certificate (for a CRL revocation it sends certificate_revoked,
# but only with the compatibility layer); RFC 8446/5246 and moat's spec want
# certificate_revoked for a CRL and an OCSP revocation alike.
# A second one: wolfSSL 5.7.2 hands the ticket callback the encrypted
# length the ticket claims (and its MAC at that offset) without checking it
# against the bytes the client sent, so a forged ticket makes the callback
# read past it (fixed upstream after 5.7.2): refuse such a ticket first.
patches="revoked-alert-2 ticket-enc-len-1"
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
perl -0pi -e 's/#ifdef OPENSSL_EXTRA\n    else if \(ret == WC_NO_ERR_TRACE\(CRL_CERT_REVOKED\)\) \{\n        alertWhy = certificate_revoked;\n    \}\n#endif\n/    else if (ret == WC_NO_ERR_TRACE(CRL_CERT_REVOKED) || ret == WC_NO_ERR_TRACE(OCSP_CERT_REVOKED)) {\n        alertWhy = certificate_revoked;\n    }\n/' src/internal.c
[ "$(grep -c 'ret == WC_NO_ERR_TRACE(OCSP_CERT_REVOKED)) {' src/internal.c)" = 1 ] &&
  ! grep -B1 'ret == WC_NO_ERR_TRACE(OCSP_CERT_REVOKED)) {' src/internal.c | grep -q OPENSSL_EXTRA || {
  echo "build-wolfssl: the revoked alert patch did not apply" >&2; exit 1; }
grep -q '        if (inLen > WOLFSSL_TICKET_ENC_SZ) {' src/internal.c || {
  echo "build-wolfssl: src/internal.c is not what the ticket length patch expects" >&2; exit 1; }
perl -0pi -e 's/(ato16\(et->enc_len, &inLen\);\n        if \(inLen > WOLFSSL_TICKET_ENC_SZ)\) \{/$1 ||\n                (word32)inLen + WOLFSSL_TICKET_FIXED_SZ > len) {/' src/internal.c
grep -q '(word32)inLen + WOLFSSL_TICKET_FIXED_SZ > len) {' src/internal.c || {
  echo "build-wolfssl: the ticket length patch did not apply" >&2; exit 1; }
{
  ./autogen.sh
  # shellcheck disable=SC2086
  CFLAGS="$cflags" ./configure --prefix="$prefix" $flags
  make -j"$(nproc)"
  make install
} > "$work.log" 2>&1 || { tail -40 "$work.log" >&2; exit 1; }
echo "$stamp" > "$prefix/.moat-stamp"
