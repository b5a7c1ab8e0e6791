/* fuzz_est.c - libFuzzer target for the EST request parser (codec/est.c
 * over codec/http_req.c): the head judged and routed, every pointer it
 * hands back inside the input, the body decoded from base64 and read as
 * a PKCS#10 request, Basic credentials decoded, and the answers' heads
 * and a PKCS#7 around the decoded bytes written within their bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/est.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *data, size_t size, const char *p, size_t n)
{
	return (const uint8_t *)p >= data &&
	       (const uint8_t *)p + n <= data + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t der[CSR_MAX], p7[CSR_MAX + 128];
	struct est_request rq;
	struct csr_fields f;
	size_t end = http_head_end(data, size, 0), half, blen;
	char out[512], pw[1024];
	long n;
	int st;

	half = size / 2 > 3 ? size / 2 - 3 : 0;
	if (end && half + 3 <= size && !http_head_end(data, half + 3, 0) &&
	    http_head_end(data, size, half) != end)
		abort();
	st = est_parse_head(data, end ? end : size, &rq);
	if (st) {
		if (!rq.why || st < 400 || st > 431 ||
		    !est_build_head(out, sizeof(out), st, "text/plain", 0,
				    "Allow: GET\r\n", 12))
			abort();
		return 0;
	}
	if (!end || rq.op == EST_NONE ||
	    !inside(data, end, rq.path, rq.path_len) ||
	    (rq.op == EST_CACERTS && rq.body_len) || rq.body_len > EST_BODY_MAX)
		abort();
	if (rq.auth != EST_AUTH_NONE &&
	    !inside(data, end, rq.cred, rq.cred_len))
		abort();
	if (rq.auth == EST_AUTH_BASIC) {
		n = est_basic_password(rq.cred, rq.cred_len, pw, sizeof(pw));
		if (n >= 0 &&
		    ((size_t)n >= sizeof(pw) || strlen(pw) != (size_t)n))
			abort();
	}
	blen = size - end < rq.body_len ? size - end : rq.body_len;
	n = csr_b64_decode(data + end, blen, der, sizeof(der));
	if (n > (long)sizeof(der))
		abort();
	if (n > 0) {
		struct der_span c = {der, (size_t)n};
		int w;

		(void)csr_read(der, (size_t)n, &f);
		w = pkcs7_certs_write(&c, 1, p7, sizeof(p7));
		if (w >= 0 && ((size_t)w < (size_t)n + 30 || p7[0] != 0x30))
			abort();
	}
	return 0;
}
