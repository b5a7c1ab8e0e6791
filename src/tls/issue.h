/* issue.h - moat's issuing CA (listeners[].mqtt.enroll): the CA
 * certificate and key loaded once per generation, a device's PKCS#10
 * request checked (well formed, signature good, key type and size in
 * policy) and a certificate issued for the authenticated identity, signed
 * with wolfSSL (wc_SignCert_ex) and recorded in the `openssl ca` index
 * before it is handed out. Shared by the workers: one lock. */
#ifndef MOAT_ISSUE_H
#define MOAT_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct issuer;

/* Load e's CA certificate and key and check them (the key signs what the
 * certificate's key verifies; the CA is one of client_ca, so what it
 * issues connects; the index can be written). NULL with the message in
 * err and *at the position of the key it is about. */
struct issuer *issuer_new(const struct cfg_enroll *e, const char *client_ca,
			  enum cfg_identity where, char *err, size_t errlen,
			  const struct cfg_pos **at);
void issuer_free(struct issuer *is);

enum issue_result {
	ISSUE_OK,
	ISSUE_MALFORMED, /* not a PKCS#10 request (DER or PEM), or too big */
	ISSUE_SIGNATURE, /* its signature does not verify with its key */
	ISSUE_KEY,	 /* key type or size outside the policy */
	ISSUE_ERROR,	 /* moat's side failed (signing, index): retry */
};

struct issued {
	uint8_t der[4096]; /* the certificate */
	size_t len;
	char serial[41]; /* upper-case hex, as in the index */
	int64_t not_after;
	const char *why; /* what was wrong, for a refusal (static text) */
};

/* Issue a certificate for identity from the request req (DER or PEM, n
 * bytes). The request's names are ignored: the subject is CN=identity
 * (and the SAN that mqtt.identity reads, san-dns or san-uri), validity
 * and extensions come from the policy. */
enum issue_result issuer_sign(struct issuer *is, const uint8_t *req, size_t n,
			      const char *identity, struct issued *out);

/* The CA's certificate (DER), for a reply that carries the chain. */
const uint8_t *issuer_ca_der(const struct issuer *is, size_t *len);

/* EST's /cacerts answer: the certificates of ca_cert's file (the issuing
 * CA, then what follows it there), a PKCS#7 certs-only made at load. */
const uint8_t *issuer_cacerts_p7(const struct issuer *is, size_t *len);

#endif
