/* jwt.c - a JWS compact token (header.payload.signature) checked in this
 * order: length, shape, header (alg, kid, typ, crit), key choice, the
 * signature with wolfSSL's primitives, then the claims (exp, nbf with
 * leeway, iss, aud, the identity claim). Every failure maps to one of the
 * contract's causes (jwt.h); nothing here logs or keeps the token. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "auth/jwt.h"

const char *jwt_result_name(enum jwt_result r)
{
	switch (r) {
	case JWT_OK:
		return "ok";
	case JWT_MISSING:
		return "token_missing";
	case JWT_INVALID:
		return "token_invalid";
	case JWT_EXPIRED:
		return "token_expired";
	case JWT_CLAIMS:
		return "token_claims";
	}
	return "?";
}

/* The largest signature: RSA 4096. */
#define SIG_MAX JWK_RSA_MAX_BYTES

/* EMSA-PKCS1-v1_5 DigestInfo prefix for SHA-256 (RFC 8017 9.2, note 1). */
static const uint8_t sha256_info[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
				      0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				      0x01, 0x05, 0x00, 0x04, 0x20};

static int verify_ec(const struct jwk *k, const uint8_t *msg, size_t mlen,
		     const uint8_t *sig, size_t slen)
{
	uint8_t hash[WC_SHA384_DIGEST_SIZE], der[2 * 48 + 16];
	word32 hlen, dlen = sizeof(der);
	ecc_key key;
	int res = 0, r;

	/* JWS carries R || S, each the curve's size (RFC 7518 3.4);
	 * wolfSSL verifies a DER SEQUENCE of the two INTEGERs */
	if (slen != 2 * k->coord)
		return 0;
	if (k->coord == 32) {
		hlen = WC_SHA256_DIGEST_SIZE;
		r = wc_Sha256Hash(msg, (word32)mlen, hash);
	} else {
		hlen = WC_SHA384_DIGEST_SIZE;
		r = wc_Sha384Hash(msg, (word32)mlen, hash);
	}
	if (r != 0 ||
	    wc_ecc_rs_raw_to_sig(sig, (word32)k->coord, sig + k->coord,
				 (word32)k->coord, der, &dlen) != 0)
		return 0;
	if (wc_ecc_init(&key) != 0)
		return 0;
	if (wc_ecc_import_unsigned(&key, k->x, k->y, NULL, k->crv_ecc) == 0)
		r = wc_ecc_verify_hash(der, dlen, hash, hlen, &res, &key);
	else
		r = -1;
	wc_ecc_free(&key);
	return r == 0 && res == 1;
}

static int verify_rsa(const struct jwk *k, int pss, const uint8_t *msg,
		      size_t mlen, const uint8_t *sig, size_t slen)
{
	uint8_t hash[WC_SHA256_DIGEST_SIZE], in[SIG_MAX], out[SIG_MAX];
	RsaKey key;
	int r, ok = 0;

	if (slen != k->n_len || slen > sizeof(in))
		return 0;
	if (wc_Sha256Hash(msg, (word32)mlen, hash) != 0)
		return 0;
	memcpy(in, sig, slen);
	if (wc_InitRsaKey(&key, NULL) != 0)
		return 0;
	if (wc_RsaPublicKeyDecodeRaw(k->n, (word32)k->n_len, k->e,
				     (word32)k->e_len, &key) != 0)
		goto out;
	if (pss) {
		/* salt as long as the hash (RFC 7518 3.5), which is what
		 * VerifyCheck requires */
		r = wc_RsaPSS_VerifyCheck(in, (word32)slen, out, sizeof(out),
					  hash, sizeof(hash),
					  WC_HASH_TYPE_SHA256, WC_MGF1SHA256,
					  &key);
		ok = r > 0;
	} else {
		r = wc_RsaSSL_Verify(in, (word32)slen, out, sizeof(out), &key);
		ok = r == (int)(sizeof(sha256_info) + sizeof(hash)) &&
		     memcmp(out, sha256_info, sizeof(sha256_info)) == 0 &&
		     memcmp(out + sizeof(sha256_info), hash, sizeof(hash)) ==
			     0;
	}
out:
	wc_FreeRsaKey(&key);
	return ok;
}

static int verify_ed25519(const struct jwk *k, const uint8_t *msg,
			  size_t mlen, const uint8_t *sig, size_t slen)
{
	ed25519_key key;
	int res = 0, r = -1;

	if (slen != ED25519_SIG_SIZE)
		return 0;
	if (wc_ed25519_init(&key) != 0)
		return 0;
	if (wc_ed25519_import_public(k->x, ED25519_PUB_KEY_SIZE, &key) == 0)
		r = wc_ed25519_verify_msg(sig, (word32)slen, msg, (word32)mlen,
					  &res, &key);
	wc_ed25519_free(&key);
	return r == 0 && res == 1;
}

static int verify_sig(const struct jwk *k, int alg, const uint8_t *msg,
		      size_t mlen, const uint8_t *sig, size_t slen)
{
	switch (alg) {
	case CFG_ALG_ES256:
	case CFG_ALG_ES384:
		return verify_ec(k, msg, mlen, sig, slen);
	case CFG_ALG_RS256:
		return verify_rsa(k, 0, msg, mlen, sig, slen);
	case CFG_ALG_PS256:
		return verify_rsa(k, 1, msg, mlen, sig, slen);
	case CFG_ALG_EDDSA:
		return verify_ed25519(k, msg, mlen, sig, slen);
	default:
		return 0;
	}
}

/* A base64url segment holding a JSON object. */
static json_t *segment_json(const char *s, size_t len)
{
	uint8_t *buf = malloc(len / 4 * 3 + 3);
	json_t *j = NULL;
	long n;

	if (!buf)
		return NULL;
	n = jwk_b64url_decode(s, len, buf, len / 4 * 3 + 3);
	if (n > 0)
		j = json_loadb((const char *)buf, (size_t)n,
			       JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* typ is optional; when present it must say JWT (RFC 7519 5.1) or an
 * access token (RFC 9068 2.1), so that another kind of signed object
 * from the same issuer is not taken for one. */
static int typ_ok(const char *typ)
{
	if (!strncasecmp(typ, "application/", 12))
		typ += 12;
	return !strcasecmp(typ, "JWT") || !strcasecmp(typ, "at+jwt");
}

/* The header: alg allowed, no crit, typ right; the key chosen. */
static enum jwt_result check_header(const struct jwks *set,
				    const struct jwt_policy *p, json_t *h,
				    const struct jwk **key,
				    struct jwt_claims *out)
{
	json_t *alg = json_object_get(h, "alg");
	json_t *kid = json_object_get(h, "kid");
	json_t *typ = json_object_get(h, "typ");
	const struct jwk *fit = NULL;
	size_t n_fit = 0;

	if (!json_is_string(alg))
		return out->why = "header without alg", JWT_INVALID;
	out->alg = -1;
	for (int a = 0; a < CFG_ALG__COUNT; a++)
		if (!strcmp(json_string_value(alg), cfg_token_alg_name(a)))
			out->alg = a;
	if (!strcasecmp(json_string_value(alg), "none"))
		return out->why = "alg none", JWT_INVALID;
	if (out->alg < 0 || !(p->algorithms & (1u << out->alg)))
		return out->why = "alg not allowed", JWT_INVALID;
	/* RFC 7515 4.1.11: extensions moat does not know must be refused,
	 * and it knows none */
	if (json_object_get(h, "crit"))
		return out->why = "crit header", JWT_INVALID;
	if (typ && (!json_is_string(typ) || !typ_ok(json_string_value(typ))))
		return out->why = "typ is not JWT", JWT_INVALID;
	if (kid && !json_is_string(kid))
		return out->why = "kid is not a string", JWT_INVALID;
	for (size_t i = 0; i < set->n; i++) {
		const struct jwk *k = &set->keys[i];

		if (kid) {
			if (k->has_kid &&
			    strlen(k->kid) == json_string_length(kid) &&
			    !memcmp(k->kid, json_string_value(kid),
				    json_string_length(kid))) {
				if (!jwk_fits(k, out->alg))
					return out->why = "key of the wrong "
							  "type for alg",
					       JWT_INVALID;
				*key = k;
				return JWT_OK;
			}
		} else if (jwk_fits(k, out->alg)) {
			fit = k;
			n_fit++;
		}
	}
	if (kid)
		return out->why = "unknown kid", JWT_INVALID;
	if (n_fit == 0)
		return out->why = "no key for alg", JWT_INVALID;
	if (n_fit > 1)
		return out->why = "no kid and several keys fit", JWT_INVALID;
	*key = fit;
	return JWT_OK;
}

/* A NumericDate (RFC 7519 2): integer or not, in seconds. */
/* Dates outside 1970..9999 are no dates: nothing later computed from
 * one (exp + leeway, seconds to milliseconds) can overflow. */
#define DATE_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
/* An access token is short-lived: one valid for longer than this is a
 * mistake or a forgery made to outlive every key rotation. */
#define EXP_AHEAD_MAX (10LL * 366 * 86400)

static int numeric_date(json_t *j, int64_t *out)
{
	double d;

	if (json_is_integer(j)) {
		*out = json_integer_value(j);
	} else if (json_is_real(j)) {
		d = json_real_value(j);
		if (!isfinite(d) || d > 4e18 || d < -4e18)
			return -1;
		*out = (int64_t)floor(d);
	} else {
		return -1;
	}
	return *out < 0 || *out > DATE_MAX ? -1 : 0;
}

static int aud_has(json_t *aud, const char *want)
{
	size_t i;
	json_t *e;

	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), want);
	if (!json_is_array(aud))
		return 0;
	json_array_foreach(aud, i, e)
		if (json_is_string(e) && !strcmp(json_string_value(e), want))
			return 1;
	return 0;
}

/* Text safe to put in logs, show conns and a PROXY v2 TLV. */
static int identity_ok(const char *s, size_t len)
{
	if (len == 0 || len > JWT_IDENTITY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static enum jwt_result check_claims(const struct jwt_policy *p, json_t *c,
				    int64_t now, struct jwt_claims *out)
{
	const char *idc = p->identity_claim ? p->identity_claim : "sub";
	json_t *exp = json_object_get(c, "exp");
	json_t *nbf = json_object_get(c, "nbf");
	json_t *iss = json_object_get(c, "iss");
	json_t *id = json_object_get(c, idc);
	int64_t t;

	/* an access token without exp would be good forever */
	if (!exp || numeric_date(exp, &out->exp) < 0)
		return out->why = "exp missing or not a number", JWT_CLAIMS;
	if (now - p->leeway_s >= out->exp)
		return out->why = "expired", JWT_EXPIRED;
	if (out->exp - now > EXP_AHEAD_MAX)
		return out->why = "exp more than ten years ahead", JWT_CLAIMS;
	if (nbf) {
		if (numeric_date(nbf, &t) < 0)
			return out->why = "nbf not a number", JWT_CLAIMS;
		if (now + p->leeway_s < t)
			return out->why = "not valid yet (nbf)", JWT_EXPIRED;
	}
	if (p->issuer && (!json_is_string(iss) ||
			  strcmp(json_string_value(iss), p->issuer) != 0))
		return out->why = "wrong iss", JWT_CLAIMS;
	if (p->audience && !aud_has(json_object_get(c, "aud"), p->audience))
		return out->why = "wrong aud", JWT_CLAIMS;
	if (!json_is_string(id))
		return out->why = "identity claim missing or not a string",
		       JWT_CLAIMS;
	if (!identity_ok(json_string_value(id), json_string_length(id)))
		return out->why = "identity claim empty, too long or with "
				  "control characters",
		       JWT_CLAIMS;
	memcpy(out->identity, json_string_value(id), json_string_length(id));
	out->identity[json_string_length(id)] = 0;
	out->why = "ok";
	return JWT_OK;
}

enum jwt_result jwt_verify(const struct jwks *set, const struct jwt_policy *p,
			   const char *tok, size_t len, int64_t now,
			   struct jwt_claims *out)
{
	const char *d1, *d2;
	const struct jwk *key = NULL;
	uint8_t sig[SIG_MAX];
	json_t *h = NULL, *c = NULL;
	enum jwt_result r;
	long slen;

	memset(out, 0, sizeof(*out));
	out->alg = -1;
	if (len == 0)
		return out->why = "no token", JWT_MISSING;
	if (len > p->max_len)
		return out->why = "token too long", JWT_INVALID;
	d1 = memchr(tok, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
		return out->why = "not three dot-separated parts", JWT_INVALID;
	if (d1 == tok || d2 == d1 + 1 || d2 + 1 == tok + len)
		return out->why = "empty part", JWT_INVALID;
	h = segment_json(tok, (size_t)(d1 - tok));
	if (!h)
		return out->why = "header is not base64url JSON", JWT_INVALID;
	r = check_header(set, p, h, &key, out);
	json_decref(h);
	if (r != JWT_OK)
		return r;
	slen = jwk_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - tok), sig,
				 sizeof(sig));
	if (slen <= 0)
		return out->why = "signature is not base64url", JWT_INVALID;
	if (!verify_sig(key, out->alg, (const uint8_t *)tok,
			(size_t)(d2 - tok), sig, (size_t)slen))
		return out->why = "bad signature", JWT_INVALID;
	/* only a signed payload is parsed: a forger's JSON never is */
	c = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!c)
		return out->why = "payload is not base64url JSON", JWT_INVALID;
	r = check_claims(p, c, now, out);
	if (r == JWT_OK && p->keep_claims) {
		out->doc = (struct jwt_doc *)c; /* the reference moves */
		return r;
	}
	json_decref(c);
	return r;
}

enum jwt_result jwt_check_claims(const struct jwt_policy *p, const char *json,
				 size_t len, int64_t now,
				 struct jwt_claims *out)
{
	json_t *c = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	enum jwt_result r;

	memset(out, 0, sizeof(*out));
	out->alg = -1;
	if (!json_is_object(c)) {
		json_decref(c);
		return out->why = "payload is not a JSON object", JWT_INVALID;
	}
	r = check_claims(p, c, now, out);
	json_decref(c);
	return r;
}
