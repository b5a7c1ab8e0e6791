/* ticket.h - what moat's session tickets are made of, without the crypto:
 * the shared key file (tls.ticket_keys: 80-byte records, newest first) and
 * the identity blob that rides inside each ticket next to wolfSSL's own
 * session state, so that any instance holding the key resumes a device
 * with what its full handshake learnt of the certificate. Pure functions
 * over bytes (no wolfSSL), unit tested in tests/unit/test_ticket.c. */
#ifndef MOAT_TICKET_H
#define MOAT_TICKET_H

#include <stddef.h>
#include <stdint.h>

#define TICKET_NAME_SZ 16
#define TICKET_AES_SZ 32
#define TICKET_HMAC_SZ 32
#define TICKET_RECORD_SZ (TICKET_NAME_SZ + TICKET_AES_SZ + TICKET_HMAC_SZ)
#define TICKET_KEYS_MAX 64 /* records in one file */

struct ticket_key {
	uint8_t name[TICKET_NAME_SZ]; /* sent in clear in every ticket */
	uint8_t aes[TICKET_AES_SZ];   /* AES-256-CBC */
	uint8_t hmac[TICKET_HMAC_SZ]; /* HMAC-SHA256 over name, IV, ciphertext */
};

/* A key file's records in file order: key[0] encrypts, all decrypt. */
struct ticket_keys {
	size_t n;
	struct ticket_key key[TICKET_KEYS_MAX];
};

/* Parse a key file's bytes into k. 0, or -EINVAL with *why set to what is
 * wrong (size not a multiple of 80, empty, too many records, a record
 * whose name is all zeros, two records with one name). */
int ticket_keys_parse(const uint8_t *buf, size_t len, struct ticket_keys *k,
		      const char **why);

/* The record named name, or NULL. */
const struct ticket_key *ticket_keys_find(const struct ticket_keys *k,
					  const uint8_t *name);

/* ---- the identity blob ---- */

/* 1: before trust binding and the CertID; 2: before not_after. An older
 * blob is refused (its session would not know when its certificate
 * expires): the client does a full handshake. */
#define TICKET_BLOB_VERSION 3
#define TICKET_HASH_SZ 32   /* SHA-256 */
#define TICKET_SERIAL_MAX 32 /* RFC 5280 allows 20 octets; some CAs go over */
#define TICKET_CERTID_MAX 160 /* an OCSP CertID: SHA-1 or SHA-256 hashes */

/* A string inside a blob (not terminated; n 0 = absent). */
struct ticket_str {
	const char *p;
	size_t n;
};

/* What a full handshake learnt of the client's leaf. */
struct ticket_blob {
	uint8_t has_cert;    /* 0: a session without a client certificate */
	uint8_t ocsp_url;    /* the leaf's AIA names an OCSP responder */
	uint8_t ocsp_state;  /* enum tls_ocsp_state at the full handshake */
	int64_t checked_at;  /* UTC seconds: the revocation check (CRL, OCSP)
				of the full handshake */
	int64_t not_after;   /* UTC seconds: the leaf's notAfter (0: none) */
	uint8_t leaf_hash[TICKET_HASH_SZ];   /* SHA-256 of the leaf's DER */
	uint8_t issuer_hash[TICKET_HASH_SZ]; /* SHA-256 of its issuer Name */
	uint8_t serial[TICKET_SERIAL_MAX];   /* the INTEGER's content bytes */
	size_t serial_len;
	/* the trust the session was checked under: a hash of the listener's
	 * name, client CAs, CRL issuers, verify_client, OCSP and identity
	 * settings (tls_ctx.trust); a ticket resumes only where it matches */
	uint8_t trust[TICKET_HASH_SZ];
	/* the leaf's OCSP CertID DER (issuer name and key hashes, serial),
	 * when OCSP checked it: matched against the cache at resumption */
	uint8_t certid[TICKET_CERTID_MAX];
	size_t certid_len;
	struct ticket_str subject, cn, san_dns, san_uri;
};

/* Bytes b takes when encoded. */
size_t ticket_blob_size(const struct ticket_blob *b);

/* Encode b into out (cap bytes). Returns the length, or -ENOSPC when it
 * does not fit, -EINVAL when a field is out of range (serial_len, a string
 * longer than 65535 or holding a NUL). */
int ticket_blob_encode(const struct ticket_blob *b, uint8_t *out, size_t cap);

/* Decode a blob of exactly n bytes; strings point into p. 0, or -EINVAL
 * (unknown version, lengths that overrun or leave bytes, a NUL in a
 * string). */
int ticket_blob_decode(const uint8_t *p, size_t n, struct ticket_blob *b);

/* ---- the decrypted ticket ---- */

/* The plaintext of a ticket is
 *     wolfSSL's state | blob | zeros | state length 2 | blob length 2
 * padded to the AES block. The trailer's lengths are the sender's word
 * (authenticated, but checked all the same): split a plaintext of n bytes
 * into state and blob. 0 with *state_len, *blob, *blob_len set; -EINVAL
 * when n is not a whole number of blocks, the lengths overrun n, or there
 * is no blob. Reads nothing outside p[0..n). */
#define TICKET_TRAILER_SZ 4
int ticket_plain_split(const uint8_t *p, size_t n, size_t *state_len,
		       const uint8_t **blob, size_t *blob_len);

#endif
