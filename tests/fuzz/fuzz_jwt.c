/* fuzz_jwt.c - libFuzzer target for the JWK Set parser and the JWT
 * verifier. The first byte picks the target: 0 the JWK Set parser, 1 the
 * whole verification against the fixed set of the unit tests, 2 the claims
 * step alone (a fuzzer cannot sign, so this is how the claims are reached),
 * 3 the topic rules of an `acl` claim and string claims (src/auth/claims). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/claims.h"
#include "auth/jwk.h"
#include "auth/jwt.h"
#include "../unit/jwt_vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_out(enum jwt_result r, const struct jwt_claims *out)
{
	size_t n = strnlen(out->identity, sizeof(out->identity));

	if (!out->why || n == sizeof(out->identity))
		abort();
	if (r == JWT_OK && n == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jwks *set;
	struct jwt_policy p = {(1u << CFG_ALG__COUNT) - 1, VEC_ISS, VEC_AUD,
			       NULL, 30, 65536, 0};
	struct jwt_claims out;
	struct jwks_err err;
	struct jwks *s;
	enum jwt_result r;

	if (!set && jwks_parse(VEC_JWKS, strlen(VEC_JWKS), &set, &err) < 0)
		abort();
	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		if (jwks_parse((const char *)data + 1, size - 1, &s, &err) == 0) {
			if (s->n == 0 || s->n > JWK_MAX_KEYS)
				abort();
			jwks_put(s);
		} else if (s != NULL || !err.msg[0]) {
			abort();
		}
		break;
	case 1:
		r = jwt_verify(set, &p, (const char *)data + 1, size - 1,
			       VEC_NOW, &out);
		check_out(r, &out);
		break;
	case 2:
		r = jwt_check_claims(&p, (const char *)data + 1, size - 1,
				     VEC_NOW, &out);
		check_out(r, &out);
		break;
	case 3: {
		struct jwt_doc *d = jwt_doc_parse((const char *)data + 1,
						  size - 1);
		struct cfg_acl_rule *rules;
		const char *why = NULL;
		size_t n;
		int k = jwt_doc_acl(d, "acl", &rules, &n, &why);

		if (k < 0 && (!why || rules))
			abort();
		if (k == 1)
			cfg_acl_rules_free(rules, n);
		jwt_doc_string(d, "site", 4);
		jwt_doc_free(d);
		break;
	}
	}
	return 0;
}
