/* test_jwt.c - JWK Set parsing and JWT verification on fixed vectors
 * (jwt_vectors.h, made by gen_jwt_vectors.py with openssl): one table of
 * tokens with the policy tweak and the result each must give, one of JWK
 * Sets good and bad, and the edges (truncated, huge, base64url). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/jwk.h"
#include "auth/jwt.h"
#include "test.h"
#include "jwt_vectors.h"

#define ALL_ALGS ((1u << CFG_ALG__COUNT) - 1)

static struct jwks *set;

static struct jwt_policy policy(void)
{
	struct jwt_policy p = {ALL_ALGS, VEC_ISS, VEC_AUD, NULL, 30, 65536, 0};

	return p;
}

struct tok_case {
	const char *name;
	const char *tok;
	enum jwt_result want;
	const char *why;     /* expected out.why, NULL: not checked */
	unsigned algs;       /* 0: all */
	const char *idclaim; /* NULL: sub */
	const char *identity; /* on JWT_OK */
};

#define T(n, w, why) {#n, VEC_##n, w, why, 0, NULL, "dev-1"}

static const struct tok_case tok_cases[] = {
	T(ES256_GOOD, JWT_OK, "ok"),
	T(ES384_GOOD, JWT_OK, "ok"),
	T(RS256_GOOD, JWT_OK, "ok"),
	T(PS256_GOOD, JWT_OK, "ok"),
	T(EDDSA_GOOD, JWT_OK, "ok"),
	{"es256_ec2", VEC_ES256_EC2, JWT_OK, "ok", 0, NULL, "dev-2"},
	T(EDDSA_NOKID, JWT_OK, "ok"), /* one Ed25519 key in the set */
	T(ES256_NOKID, JWT_INVALID, "no kid and several keys fit"),
	T(AT_JWT_TYP, JWT_OK, "ok"),
	T(BAD_TYP, JWT_INVALID, "typ is not JWT"),
	T(CRIT, JWT_INVALID, "crit header"),
	T(EXPIRED, JWT_EXPIRED, "expired"),
	T(EXP_EDGE_OK, JWT_OK, "ok"),
	T(EXP_EDGE_BAD, JWT_EXPIRED, "expired"),
	T(EXP_REAL, JWT_OK, "ok"),
	T(NO_EXP, JWT_CLAIMS, "exp missing or not a number"),
	T(EXP_STRING, JWT_CLAIMS, "exp missing or not a number"),
	T(NBF_FUTURE, JWT_EXPIRED, "not valid yet (nbf)"),
	T(NBF_EDGE_OK, JWT_OK, "ok"),
	T(WRONG_ISS, JWT_CLAIMS, "wrong iss"),
	T(NO_ISS, JWT_CLAIMS, "wrong iss"),
	T(WRONG_AUD, JWT_CLAIMS, "wrong aud"),
	T(AUD_ARRAY, JWT_OK, "ok"),
	T(AUD_ARRAY_WRONG, JWT_CLAIMS, "wrong aud"),
	T(NO_SUB, JWT_CLAIMS, "identity claim missing or not a string"),
	T(SUB_NUMBER, JWT_CLAIMS, "identity claim missing or not a string"),
	T(SUB_CTRL, JWT_CLAIMS, NULL),
	{"client_id_claim", VEC_CLIENT_ID_CLAIM, JWT_OK, "ok", 0, "client_id",
	 "dev-9"},
	{"idclaim_absent", VEC_ES256_GOOD, JWT_CLAIMS, NULL, 0, "client_id",
	 NULL},
	T(UNKNOWN_KID, JWT_INVALID, "unknown kid"),
	T(WRONG_KEY_TYPE, JWT_INVALID, "key of the wrong type for alg"),
	T(RS_ON_EC_KID, JWT_INVALID, "key of the wrong type for alg"),
	T(ENC_KEY_KID, JWT_INVALID, "unknown kid"), /* use: enc is skipped */
	T(HS256, JWT_INVALID, "alg not allowed"),
	T(ALG_NONE_SIG, JWT_INVALID, "alg none"),
	T(ALG_NONE, JWT_INVALID, "empty part"),
	T(BAD_SIG, JWT_INVALID, "bad signature"),
	T(SIG_OTHER_KEY, JWT_INVALID, "bad signature"),
	T(DUP_ALG, JWT_INVALID, "header is not base64url JSON"),
	T(HEADER_BAD_JSON, JWT_INVALID, "header is not base64url JSON"),
	T(PAYLOAD_BAD_JSON, JWT_INVALID, "payload is not base64url JSON"),
	/* alg allowed by the key set but not by the configuration */
	{"es384_not_allowed", VEC_ES384_GOOD, JWT_INVALID, "alg not allowed",
	 1u << CFG_ALG_ES256 | 1u << CFG_ALG_RS256, NULL, NULL},
	{"ps256_not_allowed", VEC_PS256_GOOD, JWT_INVALID, "alg not allowed",
	 1u << CFG_ALG_RS256, NULL, NULL},
	{"empty", "", JWT_MISSING, "no token", 0, NULL, NULL},
	{"one_part", "abc", JWT_INVALID, "not three dot-separated parts", 0,
	 NULL, NULL},
	{"four_parts", "a.b.c.d", JWT_INVALID, "not three dot-separated parts",
	 0, NULL, NULL},
};

static void test_tokens(void)
{
	for (size_t i = 0; i < sizeof(tok_cases) / sizeof(tok_cases[0]); i++) {
		const struct tok_case *c = &tok_cases[i];
		struct jwt_policy p = policy();
		struct jwt_claims out;
		enum jwt_result r;

		if (c->algs)
			p.algorithms = c->algs;
		p.identity_claim = c->idclaim;
		r = jwt_verify(set, &p, c->tok, strlen(c->tok), VEC_NOW, &out);
		CHECK(r == c->want, "%s: %s (%s), want %s", c->name,
		      jwt_result_name(r), out.why, jwt_result_name(c->want));
		CHECK(out.why != NULL, "%s: no why", c->name);
		if (c->why && out.why)
			CHECK(!strcmp(out.why, c->why), "%s: why '%s', want '%s'",
			      c->name, out.why, c->why);
		if (r == JWT_OK && c->want == JWT_OK) {
			CHECK(!strcmp(out.identity, c->identity),
			      "%s: identity '%s'", c->name, out.identity);
			CHECK(out.exp > VEC_NOW - 30, "%s: exp %lld", c->name,
			      (long long)out.exp);
		}
	}
}

/* The good token cut at every length is never accepted, never crashes;
 * mangled in one character it is never accepted either. */
static void test_truncated_and_mangled(void)
{
	const char *good = VEC_ES256_GOOD;
	size_t len = strlen(good);
	struct jwt_policy p = policy();
	struct jwt_claims out;
	char *buf = malloc(len + 1);
	int accepted = 0, missing = 0;

	for (size_t n = 0; n < len; n++) {
		memcpy(buf, good, n); /* exactly n bytes, no terminator used */
		enum jwt_result r = jwt_verify(set, &p, buf, n, VEC_NOW, &out);

		accepted += r == JWT_OK;
		missing += r == JWT_MISSING;
	}
	CHECK(accepted == 0, "a truncated token was accepted %d times",
	      accepted);
	CHECK(missing == 1, "only the empty token is missing (%d)", missing);
	accepted = 0;
	for (size_t i = 0; i < len; i++) {
		static const char subst[] = {'A', '+', '=', '.', ' '};

		for (size_t j = 0; j < sizeof(subst); j++) {
			memcpy(buf, good, len);
			if (buf[i] == subst[j])
				continue;
			buf[i] = subst[j];
			accepted += jwt_verify(set, &p, buf, len, VEC_NOW,
					       &out) == JWT_OK;
		}
	}
	CHECK(accepted == 0, "a mangled token was accepted %d times", accepted);
	free(buf);
}

static void test_huge(void)
{
	struct jwt_policy p = policy();
	struct jwt_claims out;
	size_t len = strlen(VEC_RS256_GOOD);
	char *big = malloc(300000);

	/* the limit is the caller's max_packet_size */
	p.max_len = len - 1;
	CHECK(jwt_verify(set, &p, VEC_RS256_GOOD, len, VEC_NOW, &out) ==
		      JWT_INVALID &&
		      !strcmp(out.why, "token too long"),
	      "a token over max_len: %s", out.why);
	p.max_len = len;
	CHECK(jwt_verify(set, &p, VEC_RS256_GOOD, len, VEC_NOW, &out) ==
		      JWT_OK,
	      "a token of exactly max_len: %s", out.why);
	/* a huge header of valid base64url under a big limit: refused,
	 * no crash */
	memset(big, 'A', 299990);
	memcpy(big + 299990, ".AA.AA", 6);
	p.max_len = 1 << 20;
	CHECK(jwt_verify(set, &p, big, 299996, VEC_NOW, &out) == JWT_INVALID,
	      "huge header: %s", out.why);
	free(big);
}

static void test_claims_direct(void)
{
	struct jwt_policy p = policy();
	struct jwt_claims out;
	static const char ok[] = "{\"iss\":\"" VEC_ISS "\",\"aud\":\"mqtt\","
				 "\"sub\":\"d\",\"exp\":1800000100}";
	static const char dup[] = "{\"iss\":\"" VEC_ISS "\",\"aud\":\"mqtt\","
				  "\"sub\":\"d\",\"sub\":\"e\",\"exp\":1800000100}";
	static const char nul[] = "{\"iss\":\"" VEC_ISS "\",\"aud\":\"mqtt\","
				  "\"sub\":\"d\\u0000x\",\"exp\":1800000100}";
	static const char noaud[] = "{\"sub\":\"d\",\"exp\":1800000100}";
	char longsub[400];

	CHECK(jwt_check_claims(&p, ok, strlen(ok), VEC_NOW, &out) == JWT_OK &&
		      !strcmp(out.identity, "d") && out.exp == 1800000100 &&
		      out.why && !strcmp(out.why, "ok"),
	      "claims ok: %s", out.why);
	CHECK(jwt_check_claims(&p, dup, strlen(dup), VEC_NOW, &out) ==
		      JWT_INVALID,
	      "duplicate sub refused: %s", out.why);
	CHECK(jwt_check_claims(&p, nul, strlen(nul), VEC_NOW, &out) ==
		      JWT_INVALID,
	      "NUL in a string refused: %s", out.why);
	{ /* dates made to overflow or to outlive every key rotation */
		static const struct {
			const char *exp, *nbf;
			enum jwt_result want;
		} far[] = {
		    {"9223372036854775807", NULL, JWT_CLAIMS},
		    {"-9223372036854775808", NULL, JWT_CLAIMS},
		    {"1e300", NULL, JWT_CLAIMS},
		    {"253402300800", NULL, JWT_CLAIMS}, /* year 10000 */
		    {"2200000000", NULL, JWT_CLAIMS},	/* 2039: > 10 y */
		    {"1800000100", "9223372036854775807", JWT_CLAIMS},
		    {"1800000100", "-1", JWT_CLAIMS},
		    {"1800000100", "1.5e19", JWT_CLAIMS},
		    {"2000000000", NULL, JWT_OK}, /* 2033: < 10 y */
		};
		char buf[256];

		for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
			snprintf(buf, sizeof(buf),
				 "{\"iss\":\"" VEC_ISS "\",\"aud\":\"mqtt\","
				 "\"sub\":\"d\",\"exp\":%s%s%s}",
				 far[i].exp, far[i].nbf ? ",\"nbf\":" : "",
				 far[i].nbf ? far[i].nbf : "");
			CHECK(jwt_check_claims(&p, buf, strlen(buf), VEC_NOW,
					       &out) == far[i].want,
			      "exp %s nbf %s: %s", far[i].exp,
			      far[i].nbf ? far[i].nbf : "-", out.why);
		}
	}
	snprintf(longsub, sizeof(longsub),
		 "{\"iss\":\"%s\",\"aud\":\"mqtt\",\"exp\":1800000100,"
		 "\"sub\":\"%0256d\"}",
		 VEC_ISS, 0);
	CHECK(jwt_check_claims(&p, longsub, strlen(longsub), VEC_NOW, &out) ==
		      JWT_CLAIMS,
	      "256-byte identity refused: %s", out.why);
	p.issuer = NULL;
	p.audience = NULL;
	CHECK(jwt_check_claims(&p, noaud, strlen(noaud), VEC_NOW, &out) ==
		      JWT_OK,
	      "no iss/aud check when not configured: %s", out.why);
}

static void test_b64url(void)
{
	uint8_t out[8];

	CHECK(jwk_b64url_decode("AQAB", 4, out, sizeof(out)) == 3 &&
		      out[0] == 1 && out[2] == 1,
	      "AQAB");
	CHECK(jwk_b64url_decode("AQ", 2, out, sizeof(out)) == 1, "AQ");
	CHECK(jwk_b64url_decode("AR", 2, out, sizeof(out)) == -EINVAL,
	      "non-zero left-over bits refused");
	CHECK(jwk_b64url_decode("AQ==", 4, out, sizeof(out)) == -EINVAL,
	      "padding refused");
	CHECK(jwk_b64url_decode("A+8/", 4, out, sizeof(out)) == -EINVAL,
	      "the non-URL alphabet refused");
	CHECK(jwk_b64url_decode("A", 1, out, sizeof(out)) == -EINVAL,
	      "length 1 mod 4 refused");
	CHECK(jwk_b64url_decode("_-_-", 4, out, sizeof(out)) == 3 &&
		      out[0] == 0xff && out[1] == 0xef,
	      "_ and -");
	CHECK(jwk_b64url_decode("AAAAAAAAAAAA", 12, out, 8) == -ENOSPC,
	      "too long for out");
}

/* ---- JWK Sets ---- */

static void test_jwks_good(void)
{
	CHECK(set && set->n == 5, "five usable keys, got %zu", set ? set->n : 0);
	CHECK(set && set->n_skipped == 2, "oct and use=enc skipped, got %zu",
	      set ? set->n_skipped : 0);
	CHECK(set && !strcmp(set->keys[0].kid, "ec1") &&
		      set->keys[3].kty == JWK_RSA && set->keys[3].n_len == 256,
	      "keys in order");
	CHECK(jwks_get(set) == set && set->refs == 2, "reference taken");
	jwks_put(set);
	CHECK(set->refs == 1, "reference dropped");
}

struct jwks_case {
	const char *name;
	const char *json;
	int line;          /* expected err.line (0: none) */
	const char *msg;   /* a substring of err.msg */
};

#define EC_XY VEC_EC1_XY
#define EC_XY_OFF VEC_EC1_XY_OFF

static const struct jwks_case jwks_cases[] = {
	{"syntax", "{\"keys\": [\n  {\"kty\": \"EC\",,}\n]}", 2, "JSON:"},
	{"not a set", "[]", 0, "not a JWK Set"},
	{"keys not array", "{\"keys\": {}}", 0, "not a JWK Set"},
	{"empty", "{\"keys\": []}", 0, "no usable key"},
	{"only skipped", "{\"keys\": [{\"kty\":\"oct\",\"k\":\"AA\"}]}", 0,
	 "no usable key (1 skipped"},
	{"no kty", "{\"keys\": [{\"kid\":\"a\"}]}", 0,
	 "keys[0] (kid \"a\"): missing 'kty'"},
	{"kty number", "{\"keys\": [{\"kty\":3}]}", 0,
	 "keys[0]: 'kty' is not a string"},
	{"ec no crv", "{\"keys\": [{\"kty\":\"EC\"," EC_XY "}]}", 0,
	 "EC key without 'crv'"},
	{"ec short x",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
	 "\"y\":\"AAAA\"}]}",
	 0, "'x' must be 32 bytes"},
	{"ec bad b64",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a+b/\","
	 "\"y\":\"AAAA\"}]}",
	 0, "'x' is not base64url"},
	{"ec off curve",
	 "{\"keys\": [{\"kid\":\"k\",\"kty\":\"EC\",\"crv\":\"P-256\"," EC_XY_OFF
	 "}]}",
	 0, "keys[0] (kid \"k\"): EC key: (x, y) is not a point of P-256"},
	{"ec private",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\"," EC_XY
	 ",\"d\":\"AAAA\"}]}",
	 0, "private key member 'd'"},
	{"alg mismatch",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"RS256\","
	 EC_XY "}]}",
	 0, "'alg' RS256 does not fit a EC key"},
	{"es384 on p256",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES384\","
	 EC_XY "}]}",
	 0, "does not fit"},
	{"bad use",
	 "{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-256\",\"use\":\"x\"," EC_XY
	 "}]}",
	 0, "'use' is 'x'"},
	{"dup kid",
	 "{\"keys\": [{\"kid\":\"a\",\"kty\":\"EC\",\"crv\":\"P-256\"," EC_XY
	 "},{\"kid\":\"a\",\"kty\":\"EC\",\"crv\":\"P-256\"," EC_XY "}]}",
	 0, "keys[1] (kid \"a\"): a key with this kid comes before it"},
	{"dup member", "{\"keys\": [], \"keys\": []}", 1, "duplicate"},
	{"rsa small", VEC_JWK_RSA_SMALL, 0,
	 "RSA modulus of 1024 bits: 2048 to 4096 needed"},
	{"rsa no e",
	 "{\"keys\": [{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}", 0, "missing 'e'"},
	{"okp short",
	 "{\"keys\": [{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}]}",
	 0, "'x' must be 32 bytes"},
	{"key not object", "{\"keys\": [3]}", 0, "keys[0]: not a JSON object"},
};

static void test_jwks_bad(void)
{
	for (size_t i = 0; i < sizeof(jwks_cases) / sizeof(jwks_cases[0]);
	     i++) {
		const struct jwks_case *c = &jwks_cases[i];
		struct jwks *s = (struct jwks *)1;
		struct jwks_err err;
		int r = jwks_parse(c->json, strlen(c->json), &s, &err);

		CHECK(r == -EINVAL && s == NULL, "%s: r=%d", c->name, r);
		CHECK(err.line == c->line, "%s: line %d, want %d (%s)",
		      c->name, err.line, c->line, err.msg);
		CHECK(strstr(err.msg, c->msg) != NULL, "%s: '%s' lacks '%s'",
		      c->name, err.msg, c->msg);
	}
}

static void test_jwks_skips(void)
{
	/* RFC 7517 5: kinds not understood are ignored, not fatal */
	static const char js[] =
		"{\"keys\": [{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"A\"},"
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AA\"},"
		"{\"kty\":\"RSA\",\"alg\":\"RS512\",\"n\":\"AA\",\"e\":\"AQAB\"},"
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\"," EC_XY "}]}";
	struct jwks *s;
	struct jwks_err err;

	CHECK(jwks_parse(js, strlen(js), &s, &err) == 0 && s->n == 1 &&
		      s->n_skipped == 3 && s->keys[0].alg == CFG_ALG_ES256,
	      "three skipped, one taken: %s", err.msg);
	if (s)
		jwks_put(s);
}

static void test_jwks_file(void)
{
	char dir[] = "/tmp/moat-jwt-XXXXXX", path[64], msg[300];
	struct jwks *s;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/jwks.json", dir);
	CHECK(jwks_load_file(path, &s, msg, sizeof(msg)) == -ENOENT &&
		      strstr(msg, "jwks.json: cannot read the JWK Set"),
	      "missing file: %s", msg);
	f = fopen(path, "w");
	fputs("{\"keys\": [\n\n  {\"kty\": }\n]}\n", f);
	fclose(f);
	CHECK(jwks_load_file(path, &s, msg, sizeof(msg)) == -EINVAL &&
		      strstr(msg, "jwks.json:3:") && strstr(msg, ": JSON: "),
	      "syntax error with line: %s", msg);
	f = fopen(path, "w");
	fputs(VEC_JWKS, f);
	fclose(f);
	CHECK(jwks_load_file(path, &s, msg, sizeof(msg)) == 0 && s->n == 5,
	      "the vector set from a file");
	jwks_put(s);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	struct jwks_err err;

	if (jwks_parse(VEC_JWKS, strlen(VEC_JWKS), &set, &err) < 0) {
		fprintf(stderr, "the vector JWK Set does not parse: %s\n",
			err.msg);
		return 1;
	}
	test_jwks_good();
	test_jwks_bad();
	test_jwks_skips();
	test_jwks_file();
	test_b64url();
	test_tokens();
	test_truncated_and_mangled();
	test_huge();
	test_claims_direct();
	jwks_put(set);
	return test_done("jwt");
}
