#!/usr/bin/env bash
# Builds wolfSSL 5.7.2 from Debian 13's source package into a static prefix
# inside the build tree, with the features moat needs (see docs/development.md, "Building").
# What is built is upstream's tarball (its SHA-256 checked by
# fetch-wolfssl.sh) with the patches of that Debian revision (its security
# fixes), then moat's own below; the revision is part of the stamp and is
# recorded in PREFIX/.moat-debian-revision for `moat --version`.
# usage: build-wolfssl.sh PREFIX [SRCCACHE]
# Idempotent: does nothing when PREFIX already holds this exact build.
set -euo pipefail
prefix=$1
cache=${2:-$(cd "$(dirname "$0")/.." && pwd)/.deps}
version=5.7.2
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
# 480 bytes in each connection's WOLFSSL_SESSION (its static ticket buffer)
# unless that buffer is cut down: see the third patch below.
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
# A third: WOLFSSL_SESSION holds a static buffer as large as the largest
# ticket (654 bytes with the padding above), in every connection for as
# long as it lives, though a server needs its ticket only until it is sent.
# WOLFSSL_STATIC_TICKET_LEN sizes that buffer (a larger ticket is
# allocated, as wolfSSL already does for tickets over it), and
# wolfSSL_set_SessionTicket(ssl, NULL, 0) now frees an allocated ticket:
# moat calls it once the handshake is done (tls_session_settle).
# And: a TLS 1.3 server keeps its DRBG after the handshake (160 bytes and
# two allocations a connection) only to be able to send more tickets
# later; moat never does (its one ticket is written when the handshake
# ends), so with WOLFSSL_NO_LATE_TICKETS the end of the handshake frees it
# as wolfSSL already does for clients, and the ClientHello's extensions
# that the server kept (read again only by a renegotiation, which TLS 1.3
# has not, or by SNI and ALPN getters, which moat's server side does not
# call).
cflags="$cflags -DWOLFSSL_STATIC_TICKET_LEN=8 -DWOLFSSL_NO_LATE_TICKETS"
# A fourth: every TLS 1.3 handshake with an X25519 key share (what
# OpenSSL's clients, libmosquitto's and paho's, send first) makes the
# server a key pair, and wolfSSL 5.7.2 computes its public half with the
# generic Montgomery ladder from the base point u = 9: a quarter of the
# CPU of a resumed MQTT connect. With MOAT_X25519_EDWARDS_BASE it is
# ed25519's constant-time fixed-base multiplication (a precomputed table,
# no doublings) on the birationally equivalent Edwards curve, then
# u = (Z + Y) / (Z - Y), as later wolfSSL and OpenSSL do.
# tests/unit/test_x25519.c checks it against the ladder and RFC 7748.
cflags="$cflags -DMOAT_X25519_EDWARDS_BASE"
patches="revoked-alert-2 ticket-enc-len-1 static-ticket-3 x25519-base-1"
# The source first (quick and offline when .deps/ has it): its Debian
# revision is part of what is built.
mkdir -p "$cache"
tarball="$cache/wolfssl_$version.orig.tar.gz"
bash "$(dirname "$0")/fetch-wolfssl.sh" "$cache" >&2 || {
  echo "build-wolfssl: cannot fetch the wolfssl source package;" \
       "run scripts/install-deps.sh first (or configure with -Dwolfssl=system)" >&2
  exit 1
}
revision=$(cat "$cache/wolfssl.revision")
debian="$cache/wolfssl_$revision.debian.tar.xz"
stamp="$version $revision $flags $cflags $patches"
# Several build directories may share one prefix (-Dwolfssl_prefix): one
# build at a time, the others wait for it and then find it done.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
# stdout: the Debian revision built (meson puts it in `moat --version`);
# everything else goes to stderr or the log
if [ -f "$prefix/.moat-stamp" ] && [ "$(cat "$prefix/.moat-stamp")" = "$stamp" ]; then
  echo "$revision"
  exit 0
fi
# Debian's patches of the revision, as its .dsc lists the file
grep -q " $(sha256sum "$debian" | cut -d' ' -f1) [0-9]* ${debian##*/}\$" \
  "$cache/wolfssl_$revision.dsc" || {
  echo "build-wolfssl: $debian is not what wolfssl_$revision.dsc lists" >&2; exit 1; }
work="$prefix.src"
rm -rf "$work" && mkdir -p "$work"
tar -xzf "$tarball" -C "$work" --strip-components=1
tar -xJf "$debian" -C "$work" debian/patches
cd "$work"
# shellcheck disable=SC2013
for p in $(grep -v '^#' debian/patches/series); do
  patch -p1 -s --no-backup-if-mismatch <"debian/patches/$p" || {
    echo "build-wolfssl: Debian's $p does not apply" >&2; exit 1; }
done
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
perl -0pi -e 's/(#define SESSION_TICKET_LEN \(\(int\)sizeof\(ExternalTicket\)\)\n)/$1#ifndef WOLFSSL_STATIC_TICKET_LEN\n#define WOLFSSL_STATIC_TICKET_LEN SESSION_TICKET_LEN\n#endif\n/; s/byte               staticTicket\[SESSION_TICKET_LEN\];/byte               staticTicket[WOLFSSL_STATIC_TICKET_LEN];/' wolfssl/internal.h
perl -pi -e 's/(ticketLen|ticLen) (>|<=) SESSION_TICKET_LEN\)/$1 $2 WOLFSSL_STATIC_TICKET_LEN)/' src/ssl_sess.c
perl -0pi -e 's/(    if \(ssl == NULL \|\| \(buf == NULL && bufSz > 0\)\)\n        return BAD_FUNC_ARG;\n)/$1    if (bufSz == 0 && ssl->session->ticketLenAlloc > 0) {\n        XFREE(ssl->session->ticket, ssl->session->heap,\n              DYNAMIC_TYPE_SESSION_TICK);\n        ssl->session->ticketLenAlloc = 0;\n        ssl->session->ticket = ssl->session->staticTicket;\n    }\n/; s/if \(bufSz <= SESSION_TICKET_LEN\) \{/if (bufSz <= WOLFSSL_STATIC_TICKET_LEN) {/' src/ssl.c
# CreateTicket writes the ticket into the static buffer: allocate one when
# that buffer is smaller than a ticket
perl -0pi -e "$(cat <<'PERL'
s{        WOLFSSL_ASSERT_SIZEOF_GE\(ssl->session->staticTicket, \*et\);\n(        WOLFSSL_ASSERT_SIZEOF_GE\(et->enc_ticket, \*it\);\n\n)        if \(ssl->session->ticket != ssl->session->staticTicket\) \{}{$1        if (sizeof(ssl->session->staticTicket) < sizeof(*et)) {
            if (ssl->session->ticketLenAlloc < sizeof(*et)) {
                if (ssl->session->ticketLenAlloc > 0)
                    XFREE(ssl->session->ticket, NULL,
                          DYNAMIC_TYPE_SESSION_TICK);
                ssl->session->ticketLenAlloc = 0;
                ssl->session->ticket = (byte*)XMALLOC(sizeof(*et), NULL,
                                                DYNAMIC_TYPE_SESSION_TICK);
                if (ssl->session->ticket == NULL) {
                    ssl->session->ticket = ssl->session->staticTicket;
                    return MEMORY_E;
                }
                ssl->session->ticketLenAlloc = (word16)sizeof(*et);
            }
        }
        else if (ssl->session->ticket != ssl->session->staticTicket) \{}
PERL
)" src/internal.c
perl -0pi -e 's/(    #elif !defined\(WOLFSSL_POST_HANDSHAKE_AUTH\) && defined\(HAVE_SESSION_TICKET\)\n)(        \|\| \(ssl->options.tls1_3 && ssl->options.side == WOLFSSL_CLIENT_END\)\n)/    #elif !defined(WOLFSSL_POST_HANDSHAKE_AUTH) && defined(HAVE_SESSION_TICKET) && defined(WOLFSSL_NO_LATE_TICKETS)\n        || ssl->options.tls1_3\n$1$2/' src/internal.c
perl -0pi -e 's/(        if \(ssl->options.saveArrays == 0\)\n            FreeArrays\(ssl, 1\);\n)/$1#if defined(WOLFSSL_NO_LATE_TICKETS) && defined(HAVE_TLS_EXTENSIONS)\n    if (ssl->options.tls1_3 && ssl->options.side == WOLFSSL_SERVER_END) {\n        TLSX_FreeAll(ssl->extensions, ssl->heap);\n        ssl->extensions = NULL;\n    }\n#endif\n/' src/internal.c
[ "$(grep -c 'WOLFSSL_STATIC_TICKET_LEN' wolfssl/internal.h)" = 3 ] &&
  [ "$(grep -c 'WOLFSSL_STATIC_TICKET_LEN)' src/ssl_sess.c)" = 4 ] &&
  ! grep -q '[ (]SESSION_TICKET_LEN)' src/ssl_sess.c &&
  grep -q 'if (bufSz <= WOLFSSL_STATIC_TICKET_LEN) {' src/ssl.c &&
  grep -q 'if (bufSz == 0 && ssl->session->ticketLenAlloc > 0) {' src/ssl.c &&
  grep -q 'if (sizeof(ssl->session->staticTicket) < sizeof(\*et)) {' src/internal.c &&
  grep -q 'defined(HAVE_SESSION_TICKET) && defined(WOLFSSL_NO_LATE_TICKETS)$' src/internal.c &&
  grep -q '^#if defined(WOLFSSL_NO_LATE_TICKETS) && defined(HAVE_TLS_EXTENSIONS)$' src/internal.c || {
  echo "build-wolfssl: the static ticket patch did not apply" >&2; exit 1; }
perl -0pi -e "$(cat <<'PERL'
s{(#include <wolfssl/wolfcrypt/error-crypt.h>\n)}{$1#if defined(MOAT_X25519_EDWARDS_BASE) && defined(HAVE_ED25519) && \\
    !defined(ED25519_SMALL) && !defined(CURVE25519_SMALL)
    #include <wolfssl/wolfcrypt/ge_operations.h>
    #define MOAT_X25519_BASE_BY_EDWARDS
#endif
};
s{\n    ret = curve25519\(pub, priv, \(byte\*\)kCurve25519BasePoint\);\n}{
#ifdef MOAT_X25519_BASE_BY_EDWARDS
    {
        ge_p3 A;
        fe n, d, di, u;

        ge_scalarmult_base(&A, priv);
        fe_add(n, A.Z, A.Y);
        fe_sub(d, A.Z, A.Y);
        fe_invert(di, d);
        fe_mul(u, n, di);
        fe_tobytes(pub, u);
        ret = 0;
    }
#else
    ret = curve25519(pub, priv, (byte*)kCurve25519BasePoint);
#endif
}
PERL
)" wolfcrypt/src/curve25519.c
[ "$(grep -c 'MOAT_X25519_BASE_BY_EDWARDS' wolfcrypt/src/curve25519.c)" = 2 ] &&
  grep -q '        ge_scalarmult_base(&A, priv);' wolfcrypt/src/curve25519.c || {
  echo "build-wolfssl: the x25519 base patch did not apply" >&2; exit 1; }
{
  ./autogen.sh
  # shellcheck disable=SC2086
  CFLAGS="$cflags" ./configure --prefix="$prefix" $flags
  make -j"$(nproc)"
  make install
} > "$work.log" 2>&1 || { tail -40 "$work.log" >&2; exit 1; }
echo "$revision" > "$prefix/.moat-debian-revision"
echo "$stamp" > "$prefix/.moat-stamp"
echo "$revision"
