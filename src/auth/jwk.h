/* jwk.h - a JWK Set (RFC 7517) parsed into public keys that jwt.c verifies
 * with. A set is immutable once made and reference counted: a generation
 * holds one per listener with tokens on, workers read it without locks,
 * and a reload swaps in a new set whole. */
#ifndef MOAT_JWK_H
#define MOAT_JWK_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define JWK_MAX_KEYS 64
#define JWK_MAX_FILE (1024 * 1024)
#define JWK_KID_MAX 128
#define JWK_RSA_MIN_BYTES 256 /* 2048 bits (RFC 7518 3.3) */
#define JWK_RSA_MAX_BYTES 512 /* 4096 bits */

enum jwk_kty { JWK_EC, JWK_RSA, JWK_OKP };

/* One public key. Only the raw public values are kept: wolfSSL's key
 * objects carry per-operation state (RsaKey.state) and so are not shared
 * between threads; jwt.c imports these into a key on its stack for each
 * verification. The values were checked at parse time (the EC point is on
 * its curve, the RSA modulus is 2048 to 4096 bits, the Ed25519 point
 * decodes). */
struct jwk {
	char kid[JWK_KID_MAX + 1]; /* "" when the key has none */
	int has_kid;
	enum jwk_kty kty;
	int alg;      /* enum cfg_token_alg, or -1 when the key names none */
	int crv_ecc;  /* EC: wolfSSL's ECC_SECP256R1 or ECC_SECP384R1 */
	size_t coord; /* EC: bytes of x and of y (32 or 48) */
	uint8_t x[48], y[48]; /* EC: x, y; OKP: x (32 bytes) */
	uint8_t *n;   /* RSA: modulus, owned */
	size_t n_len;
	uint8_t e[8]; /* RSA: public exponent */
	size_t e_len;
};

struct jwks {
	int refs;
	size_t n;          /* usable keys, at least one */
	size_t n_skipped;  /* keys of a kind moat does not verify with */
	struct jwk *keys;  /* owned */
	int64_t loaded;    /* jwks_load_file: when, epoch seconds; else 0 */
};

/* Why a set did not parse. line and col (1-based) are set for a JSON
 * syntax error, 0 otherwise; msg names the key (index and kid) at fault. */
struct jwks_err {
	int line, col;
	char msg[256];
};

/* Parse a JWK Set from buf[0..len). Keys of a type moat does not verify
 * with (oct, X25519, P-521, use "enc", an alg outside moat's list) are
 * skipped, as RFC 7517 section 5 asks; a malformed key of a supported type,
 * a private key, a duplicate kid, or no usable key at all fails the set.
 * Returns 0 and *out (one reference), or -EINVAL/-ENOMEM with *err. */
int jwks_parse(const char *buf, size_t len, struct jwks **out,
	       struct jwks_err *err);

/* Read and parse the file PATH. On failure writes one line (no newline)
 * to msg: "PATH:LINE:COL: JSON: ..." or "PATH: keys[I] (kid "K"): ...". */
int jwks_load_file(const char *path, struct jwks **out, char *msg,
		   size_t msglen);

/* References: any thread. */
struct jwks *jwks_get(struct jwks *s);
void jwks_put(struct jwks *s);

/* Does key k fit algorithm alg (kty, curve, the key's own alg and use)? */
int jwk_fits(const struct jwk *k, enum cfg_token_alg alg);

/* Strict base64url without padding (RFC 7515 section 2): only the URL-safe
 * alphabet, no '=', the unused bits of the last character zero, so each
 * value has one spelling. Returns the decoded length or -EINVAL, -ENOSPC. */
long jwk_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
