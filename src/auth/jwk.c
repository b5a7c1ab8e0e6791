/* jwk.c - JWK Set (RFC 7517, key types of RFC 7518 and RFC 8037) into the
 * public keys that token verification uses. JSON is parsed by jansson
 * (length-delimited input, duplicate names refused, NUL in strings refused);
 * each key's values are decoded strictly and imported into wolfSSL once
 * here to prove they are a usable public key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "auth/jwk.h"
#include "base/util.h"

long jwk_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	/* a length of 1 mod 4 cannot come from whole bytes */
	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = util_b64_val((unsigned char)in[i], 1);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* left-over bits must be zero: one spelling only */
		return -EINVAL;
	return (long)o;
}

struct jwks *jwks_get(struct jwks *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void jwks_put(struct jwks *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i].n);
	free(s->keys);
	free(s);
}

int jwk_fits(const struct jwk *k, enum cfg_token_alg alg)
{
	if (k->alg >= 0 && k->alg != (int)alg)
		return 0;
	switch (alg) {
	case CFG_ALG_ES256:
		return k->kty == JWK_EC && k->crv_ecc == ECC_SECP256R1;
	case CFG_ALG_ES384:
		return k->kty == JWK_EC && k->crv_ecc == ECC_SECP384R1;
	case CFG_ALG_RS256:
	case CFG_ALG_PS256:
		return k->kty == JWK_RSA;
	case CFG_ALG_EDDSA:
		return k->kty == JWK_OKP;
	default:
		return 0;
	}
}

/* ---- one key ---- */

/* Result of looking at one key: parsed, skipped (not a kind moat uses),
 * or bad (the set fails, with the reason in why). */
enum { KEY_OK, KEY_SKIP, KEY_BAD };

struct kctx {
	json_t *obj;
	char why[200];
};

static int bad(struct kctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct kctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return KEY_BAD;
}

/* A member that must be a string if present: 1 found, 0 absent, -1 wrong
 * type (why set). *len: its length (jansson refuses NUL in strings). */
static int opt_strn(struct kctx *c, const char *name, const char **v,
		    size_t *len)
{
	json_t *j = json_object_get(c->obj, name);

	*v = NULL;
	*len = 0;
	if (!j)
		return 0;
	if (!json_is_string(j)) {
		bad(c, "'%s' is not a string", name);
		return -1;
	}
	*v = json_string_value(j);
	*len = json_string_length(j);
	return 1;
}

static int opt_str(struct kctx *c, const char *name, const char **v)
{
	size_t len;

	return opt_strn(c, name, v, &len);
}

/* A base64url member of exactly want bytes (want 0: 1..cap bytes). */
static int get_b64(struct kctx *c, const char *name, uint8_t *out, size_t cap,
		   size_t want, size_t *got)
{
	const char *s;
	size_t len;
	long n;
	int r = opt_strn(c, name, &s, &len);

	if (r < 0)
		return -1;
	if (r == 0) {
		bad(c, "missing '%s'", name);
		return -1;
	}
	n = jwk_b64url_decode(s, len, out, cap);
	if (n == -ENOSPC || (want && n >= 0 && (size_t)n != want) || n == 0) {
		if (want)
			bad(c, "'%s' must be %zu bytes", name, want);
		else
			bad(c, "'%s' must be 1 to %zu bytes", name, cap);
		return -1;
	}
	if (n < 0) {
		bad(c, "'%s' is not base64url without padding", name);
		return -1;
	}
	*got = (size_t)n;
	return 0;
}

/* The curve of an EC or OKP key: 0, or -1 with why set. */
static int need_crv(struct kctx *c, const char *kty, const char **crv)
{
	if (opt_str(c, "crv", crv) < 0)
		return -1;
	if (!*crv) {
		bad(c, "%s key without 'crv'", kty);
		return -1;
	}
	return 0;
}

static int parse_ec(struct kctx *c, struct jwk *k)
{
	const char *crv;
	size_t got;
	ecc_key key;
	int r;

	if (need_crv(c, "EC", &crv))
		return KEY_BAD;
	if (!strcmp(crv, "P-256")) {
		k->crv_ecc = ECC_SECP256R1;
		k->coord = 32;
	} else if (!strcmp(crv, "P-384")) {
		k->crv_ecc = ECC_SECP384R1;
		k->coord = 48;
	} else {
		return KEY_SKIP; /* P-521, secp256k1: not in moat's list */
	}
	if (get_b64(c, "x", k->x, sizeof(k->x), k->coord, &got) ||
	    get_b64(c, "y", k->y, sizeof(k->y), k->coord, &got))
		return KEY_BAD;
	if (wc_ecc_init(&key) != 0)
		return bad(c, "out of memory");
	r = wc_ecc_import_unsigned(&key, k->x, k->y, NULL, k->crv_ecc);
	if (r == 0)
		r = wc_ecc_check_key(&key);
	wc_ecc_free(&key);
	if (r != 0)
		return bad(c, "EC key: (x, y) is not a point of %s", crv);
	return KEY_OK;
}

static int parse_rsa(struct kctx *c, struct jwk *k)
{
	uint8_t n[JWK_RSA_MAX_BYTES + 1];
	size_t nl, el, z = 0;
	RsaKey key;
	int r;

	if (get_b64(c, "n", n, sizeof(n), 0, &nl) ||
	    get_b64(c, "e", k->e, sizeof(k->e), 0, &el))
		return KEY_BAD;
	while (z < nl && n[z] == 0) /* RFC 7518 6.3.1.1: no leading zeros,
				       tolerated as some issuers write them */
		z++;
	if (nl - z < JWK_RSA_MIN_BYTES || nl - z > JWK_RSA_MAX_BYTES)
		return bad(c, "RSA modulus of %zu bits: 2048 to 4096 needed",
			   (nl - z) * 8);
	if (!(k->e[el - 1] & 1) || (el == 1 && k->e[0] < 3))
		return bad(c, "RSA exponent is not an odd number above 1");
	k->n = malloc(nl - z);
	if (!k->n)
		return bad(c, "out of memory");
	memcpy(k->n, n + z, nl - z);
	k->n_len = nl - z;
	k->e_len = el;
	if (wc_InitRsaKey(&key, NULL) != 0)
		return bad(c, "out of memory");
	r = wc_RsaPublicKeyDecodeRaw(k->n, (word32)k->n_len, k->e,
				     (word32)k->e_len, &key);
	wc_FreeRsaKey(&key);
	if (r != 0)
		return bad(c, "RSA key: wolfSSL does not take it (%d)", r);
	return KEY_OK;
}

static int parse_okp(struct kctx *c, struct jwk *k)
{
	const char *crv;
	size_t got;
	ed25519_key key;
	int r;

	if (need_crv(c, "OKP", &crv))
		return KEY_BAD;
	if (strcmp(crv, "Ed25519") != 0)
		return KEY_SKIP; /* X25519 (encryption), Ed448 */
	if (get_b64(c, "x", k->x, sizeof(k->x), 32, &got))
		return KEY_BAD;
	if (wc_ed25519_init(&key) != 0)
		return bad(c, "out of memory");
	r = wc_ed25519_import_public(k->x, 32, &key);
	wc_ed25519_free(&key);
	if (r != 0)
		return bad(c, "Ed25519 key: 'x' is not a curve point");
	return KEY_OK;
}

static int parse_key(struct kctx *c, struct jwk *k)
{
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi",
					   "oth"};
	const char *kty, *kid, *alg, *use;
	size_t kid_len;

	if (!json_is_object(c->obj))
		return bad(c, "not a JSON object");
	if (opt_str(c, "kty", &kty) < 0 || opt_strn(c, "kid", &kid, &kid_len) < 0 ||
	    opt_str(c, "alg", &alg) < 0 || opt_str(c, "use", &use) < 0)
		return KEY_BAD;
	if (kid) {
		if (kid_len > JWK_KID_MAX)
			return bad(c, "'kid' longer than %d bytes",
				   JWK_KID_MAX);
		strcpy(k->kid, kid);
		k->has_kid = 1;
	}
	if (!kty)
		return bad(c, "missing 'kty'");
	if (use && strcmp(use, "sig") != 0) {
		if (!strcmp(use, "enc"))
			return KEY_SKIP;
		return bad(c, "'use' is '%s', expected sig or enc", use);
	}
	k->alg = -1;
	if (alg) {
		for (int a = 0; a < CFG_ALG__COUNT; a++)
			if (!strcmp(alg, cfg_token_alg_name(a)))
				k->alg = a;
		if (k->alg < 0)
			return KEY_SKIP; /* RS512, ES512, HS256...: not moat's */
	}
	if (!strcmp(kty, "EC"))
		k->kty = JWK_EC;
	else if (!strcmp(kty, "RSA"))
		k->kty = JWK_RSA;
	else if (!strcmp(kty, "OKP"))
		k->kty = JWK_OKP;
	else
		return KEY_SKIP; /* "oct" (shared secrets) and the unknown */
	for (size_t i = 0; i < ARRAY_SIZE(priv); i++)
		if (json_object_get(c->obj, priv[i]))
			return bad(c, "holds private key member '%s': a JWK "
				      "Set for verification has public keys "
				      "only",
				   priv[i]);
	switch (k->kty) {
	case JWK_EC: {
		int r = parse_ec(c, k);

		if (r != KEY_OK)
			return r;
		break;
	}
	case JWK_RSA:
		if (parse_rsa(c, k) != KEY_OK)
			return KEY_BAD;
		break;
	case JWK_OKP: {
		int r = parse_okp(c, k);

		if (r != KEY_OK)
			return r;
		break;
	}
	}
	if (k->alg >= 0 && !jwk_fits(k, k->alg))
		return bad(c, "'alg' %s does not fit a %s key", alg, kty);
	return KEY_OK;
}

/* ---- the set ---- */

static int set_err(struct jwks_err *err, int line, int col, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static int set_err(struct jwks_err *err, int line, int col, const char *fmt,
		   ...)
{
	va_list ap;

	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int jwks_parse(const char *buf, size_t len, struct jwks **out,
	       struct jwks_err *err)
{
	json_error_t je;
	json_t *root, *keys;
	struct jwks *s = NULL;
	size_t n;
	int r = -EINVAL;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return set_err(err, je.line > 0 ? je.line : 1,
			       je.column > 0 ? je.column : 1, "JSON: %s",
			       je.text);
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || !json_is_array(keys)) {
		set_err(err, 0, 0, "not a JWK Set: expected an object with a "
				   "'keys' array");
		goto fail_root;
	}
	n = json_array_size(keys);
	if (n > JWK_MAX_KEYS) {
		set_err(err, 0, 0, "%zu keys: at most %d", n, JWK_MAX_KEYS);
		goto fail_root;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->keys = calloc(n ? n : 1, sizeof(*s->keys));
	if (!s || !s->keys) {
		r = -ENOMEM;
		set_err(err, 0, 0, "out of memory");
		goto fail_set;
	}
	s->refs = 1;
	for (size_t i = 0; i < n; i++) {
		struct kctx c = {json_array_get(keys, i), ""};
		struct jwk *k = &s->keys[s->n];
		int kr;

		memset(k, 0, sizeof(*k));
		kr = parse_key(&c, k);
		if (kr == KEY_BAD) {
			set_err(err, 0, 0, "keys[%zu]%s%s%s: %s", i,
				k->has_kid ? " (kid \"" : "",
				k->has_kid ? k->kid : "",
				k->has_kid ? "\")" : "", c.why);
			free(k->n);
			goto fail_set;
		}
		if (kr == KEY_SKIP) {
			free(k->n);
			s->n_skipped++;
			continue;
		}
		for (size_t j = 0; k->has_kid && j < s->n; j++)
			if (s->keys[j].has_kid &&
			    !strcmp(s->keys[j].kid, k->kid)) {
				set_err(err, 0, 0,
					"keys[%zu] (kid \"%s\"): a key with "
					"this kid comes before it",
					i, k->kid);
				free(k->n);
				goto fail_set;
			}
		s->n++;
	}
	if (s->n == 0) {
		set_err(err, 0, 0,
			"no usable key (%zu skipped: moat verifies EC P-256, "
			"P-384, RSA and Ed25519 signature keys)",
			s->n_skipped);
		goto fail_set;
	}
	json_decref(root);
	*out = s;
	return 0;
fail_set:
	jwks_put(s);
fail_root:
	json_decref(root);
	return r;
}

int jwks_load_file(const char *path, struct jwks **out, char *msg,
		   size_t msglen)
{
	struct jwks_err err;
	FILE *f;
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		r = -errno;
		snprintf(msg, msglen, "%s: cannot read the JWK Set: %s", path,
			 strerror(-r));
		return r;
	}
	buf = malloc(JWK_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(buf, 1, JWK_MAX_FILE + 1, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r == 0 && len > JWK_MAX_FILE) {
		snprintf(msg, msglen, "%s: JWK Set larger than %d bytes", path,
			 JWK_MAX_FILE);
		r = -EFBIG;
	} else if (r < 0) {
		snprintf(msg, msglen, "%s: cannot read the JWK Set", path);
	} else {
		r = jwks_parse(buf, len, out, &err);
		if (r == 0)
			(*out)->loaded = (int64_t)time(NULL);
		if (r < 0 && err.line)
			snprintf(msg, msglen, "%s:%d:%d: %s", path, err.line,
				 err.col, err.msg);
		else if (r < 0)
			snprintf(msg, msglen, "%s: %s", path, err.msg);
	}
	free(buf);
	return r;
}
