/* jwt.h - verification of an OAuth 2.0 access token: a JWT (RFC 7519) in
 * JWS compact form (RFC 7515), signed with one of the keys of a JWK Set.
 * Pure: no I/O, no clock (the caller passes now), no logging; the token is
 * never copied anywhere but the caller's own buffer. */
#ifndef MOAT_JWT_H
#define MOAT_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwk.h"

/* The outcomes, one per reject cause of the contract. The caller maps
 * JWT_MISSING to token_missing, and so on; comparing the identity with
 * the client id (client_id_mismatch) is the caller's. */
enum jwt_result {
	JWT_OK,
	JWT_MISSING, /* no token (empty password) */
	JWT_INVALID, /* malformed, too long, bad signature, alg none or not
			allowed, unknown kid, wrong key type */
	JWT_EXPIRED, /* exp passed, or nbf not reached (with leeway) */
	JWT_CLAIMS,  /* iss, aud, exp or the identity claim missing/wrong */
};

#define JWT_IDENTITY_MAX 255

/* A verified token's claims, kept when the policy asks (src/auth/claims.h
 * reads them); freed with jwt_doc_free. */
struct jwt_doc;

struct jwt_policy {
	unsigned algorithms;        /* bit per enum cfg_token_alg */
	const char *issuer;         /* NULL: not checked */
	const char *audience;       /* NULL: not checked */
	const char *identity_claim; /* NULL: "sub" */
	int64_t leeway_s;
	size_t max_len;             /* longest token taken (max_packet_size) */
	int keep_claims;            /* out->doc gets the verified claims */
};

struct jwt_claims {
	char identity[JWT_IDENTITY_MAX + 1]; /* the identity claim */
	int64_t exp;     /* seconds since the epoch */
	int alg;         /* enum cfg_token_alg of the token */
	const char *why; /* static text for the log: what failed; never any
			    part of the token */
	struct jwt_doc *doc; /* JWT_OK with keep_claims: the claims (the
				caller frees them), else NULL */
};

/* Verify tok[0..len) against set and policy at time now (seconds since
 * the epoch). The kid rule: a token with a kid uses the key of that kid
 * (none: JWT_INVALID); a token without one is taken only when exactly one
 * key of the set fits its alg (one signature check per token, whatever the
 * set's size). On JWT_OK out holds the identity and exp; out->why is set
 * for every result. */
enum jwt_result jwt_verify(const struct jwks *set, const struct jwt_policy *p,
			   const char *tok, size_t len, int64_t now,
			   struct jwt_claims *out);

/* The claims step alone, on a decoded payload: what jwt_verify does once
 * the signature is good (for the fuzz target, which cannot sign). */
enum jwt_result jwt_check_claims(const struct jwt_policy *p, const char *json,
				 size_t len, int64_t now,
				 struct jwt_claims *out);

const char *jwt_result_name(enum jwt_result r);

#endif
