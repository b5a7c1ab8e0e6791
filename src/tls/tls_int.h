/* tls_int.h - what the pieces of a TLS context share, and nothing
 * outside src/tls sees:
 *   tls.c        contexts (cert, key, CA, CRL), sessions' I/O, describe
 *   verify.c     the verify callback, the peer's identity, reject causes
 *   ticket_enc.c session tickets: wolfSSL's callback, keys
 *   staple.c     tls.staple */
#ifndef MOAT_TLS_INT_H
#define MOAT_TLS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"

#define POSF(pos) (pos).file, (pos).line, (pos).col

/* The responder wolfSSL is told of when tls.cert names none (no
 * authorityInfoAccess): wolfSSL asks for a staple only when it has a URL.
 * Nothing is ever sent there: conn's OCSP callback knows the request by
 * its CertID (tls_is_staple_request) and answers with the file. */
#define STAPLE_URL "http://staple.invalid/"

#define PEM_CERT "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"

typedef int (*der_fn)(const uint8_t *der, size_t len, void *arg);

/* tls.c: a whole file, NUL-terminated (NULL and errno on failure). */
char *read_file(const char *path, size_t *len);
/* tls.c: fn with the DER of each PEM block of the file at path (see
 * pem_each). */
void each_pem(const char *path, const char *begin, const char *end,
	      der_fn fn, void *arg);
/* tls.c: hex into at most cap bytes; their count, or -1. */
int hex_to_bytes(const char *hex, uint8_t *out, size_t cap);
/* tls.c: frees what an OCSP callback gave wolfSSL. */
void ocsp_free_cb(void *ctx, unsigned char *resp);

/* verify.c */
char *dup_n(const char *s, size_t n);
/* Set p's names in one allocation: subject, cn, san_dns, san_uri (a name
 * whose pointer is NULL is absent) and the serial's bytes (kept as
 * lower-case hex). -1: out of memory, p's names stay NULL. */
struct peer_str {
	const char *p;
	size_t n;
};
int peer_names(struct tls_peer *p, const struct peer_str s[4],
	       const uint8_t *serial, size_t serial_len);
/* Forget the certificate, keep the session's settings. */
void peer_reset(struct tls_peer *p);
/* wolfSSL asks OCSP about a certificate of the client's chain with req:
 * keep its CertID (the chain is asked top down, so the leaf's stays). */
void peer_note_certid(struct tls_peer *p, const uint8_t *req, size_t len);
int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

/* ticket_enc.c: t->tickets from tls.ticket_keys (or the process's key),
 * and wolfSSL's ticket callback on t->ctx; -EINVAL when the error is in
 * *errors. */
int tickets_init(struct tls_ctx *t, char **errors);
/* ticket_enc.c: t->trust from the listener l (after t->info is loaded). */
void tickets_trust(struct tls_ctx *t, const struct cfg_listener *l);
void tickets_free(struct tls_tickets *tk);

/* staple.c: tls.staple for t (see there); -1 with *errors. */
int staple_init(struct tls_ctx *t, char **errors);

#endif
