/* test_est.c - the EST codec as tables: requests and the status, operation
 * and body each gets (RFC 7030 paths and methods, Content-Length, chunked
 * bodies, sizes, Authorization), the HTTP head layer it shares with the
 * WebSocket upgrade, Basic credentials, answer heads, and the PKCS#7
 * certs-only writer against bytes worked out by hand. */
#include <stdio.h>
#include <string.h>

#include "codec/est.h"
#include "test.h"

#define P "/.well-known/est/"
#define H "Host: moat\r\n"

static const struct {
	const char *req;
	int status;
	enum est_op op;
	size_t body_len;
	enum est_auth auth;
} reqs[] = {
    {"GET " P "cacerts HTTP/1.1\r\n" H "\r\n", 0, EST_CACERTS, 0,
     EST_AUTH_NONE},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H "Content-Length: 12\r\n"
     "Content-Type: application/pkcs10\r\n\r\n",
     0, EST_SIMPLEENROLL, 12, EST_AUTH_NONE},
    {"POST " P "simplereenroll HTTP/1.1\r\n" H "content-length:  7 \r\n"
     "Content-Transfer-Encoding: BASE64\r\nAuthorization: Bearer a.b.c\r\n\r\n",
     0, EST_SIMPLEREENROLL, 7, EST_AUTH_BEARER},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H "Content-Length: 1\r\n"
     "Content-Length: 1\r\nAuthorization: basic dTp0\r\n\r\n",
     0, EST_SIMPLEENROLL, 1, EST_AUTH_BASIC},
    {"GET " P "cacerts?x=1 HTTP/1.1\r\n" H "Authorization: Digest x\r\n\r\n", 0,
     EST_CACERTS, 0, EST_AUTH_OTHER},
    /* not served: 404 */
    {"GET " P "csrattrs HTTP/1.1\r\n" H "\r\n", 404, 0, 0, 0},
    {"POST " P "serverkeygen HTTP/1.1\r\n" H "Content-Length: 1\r\n\r\n", 404,
     0, 0, 0},
    {"GET " P "label/cacerts HTTP/1.1\r\n" H "\r\n", 404, 0, 0, 0},
    {"GET /.well-known/est HTTP/1.1\r\n" H "\r\n", 404, 0, 0, 0},
    {"GET / HTTP/1.1\r\n" H "\r\n", 404, 0, 0, 0},
    /* wrong method: 405 */
    {"POST " P "cacerts HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", 405,
     EST_CACERTS, 0, 0},
    {"GET " P "simpleenroll HTTP/1.1\r\n" H "\r\n", 405, EST_SIMPLEENROLL, 0,
     0},
    {"get " P "cacerts HTTP/1.1\r\n" H "\r\n", 405, EST_CACERTS, 0, 0},
    /* bodies: no length or chunked 411, too large 413, bad length 400 */
    {"POST " P "simpleenroll HTTP/1.1\r\n" H "\r\n", 411, 0, 0, 0},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H
     "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
     411, 0, 0, 0},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H "Content-Length: 99999\r\n\r\n",
     413, 0, 0, 0},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400,
     0, 0, 0},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H
     "Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
     400, 0, 0, 0},
    {"POST " P "simpleenroll HTTP/1.1\r\n" H
     "Content-Length: 1\r\nContent-Transfer-Encoding: binary\r\n\r\n",
     400, 0, 0, 0},
    /* malformed heads: 400 */
    {"GET " P "cacerts HTTP/1.1\r\n\r\n", 400, 0, 0, 0},
    {"GET " P "cacerts HTTP/1.1\r\n" H H "\r\n", 400, 0, 0, 0},
    {"GET " P "cacerts HTTP/1.0\r\n" H "\r\n", 400, 0, 0, 0},
    {"GARBAGE\r\n\r\n", 400, 0, 0, 0},
    {"GET  " P "cacerts HTTP/1.1\r\n" H "\r\n", 400, 0, 0, 0},
    {"GET " P "cacerts HTTP/1.1\r\n" H " folded\r\n\r\n", 400, 0, 0, 0},
    {"GET " P "cacerts HTTP/1.1\r\n" H "X: a\nY: b\r\n\r\n", 400, 0, 0, 0},
    {"GET " P "cacerts HTTP/1.1\r\n" H "Authorization: Bearer\r\n\r\n", 400, 0,
     0, 0},
    {"GET " P "cacerts HTTP/1.1\r\n" H "Authorization: Bearer a\r\n"
     "Authorization: Bearer b\r\n\r\n",
     400, 0, 0, 0},
};

static void test_requests(void)
{
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const char *s = reqs[i].req;
		size_t n = strlen(s),
		       end = http_head_end((const uint8_t *)s, n, 0);
		struct est_request rq;
		int st;

		CHECK(end == n, "case %zu: head end %zu of %zu", i, end, n);
		st = est_parse_head((const uint8_t *)s, end, &rq);
		CHECK(st == reqs[i].status, "case %zu: %d, want %d (%s)", i, st,
		      reqs[i].status, rq.why ? rq.why : "-");
		if (st == 405)
			CHECK(rq.op == reqs[i].op, "case %zu: op %d", i, rq.op);
		if (st)
			continue;
		CHECK(rq.op == reqs[i].op && rq.body_len == reqs[i].body_len &&
			  rq.auth == reqs[i].auth,
		      "case %zu: op %d body %zu auth %d", i, rq.op, rq.body_len,
		      rq.auth);
	}
}

static void test_limits(void)
{
	char big[EST_MAX_HEADER + 200];
	struct est_request rq;
	size_t o;

	o = (size_t)snprintf(big, sizeof(big),
			     "GET " P "cacerts HTTP/1.1\r\n" H
			     "X: %0*d\r\n\r\n",
			     EST_MAX_HEADER, 0);
	CHECK(est_parse_head((const uint8_t *)big, o, &rq) == 431,
	      "over the head limit");
	o = (size_t)snprintf(big, sizeof(big),
			     "GET " P "cacerts HTTP/1.1\r\n" H);
	for (int i = 0; i < HTTP_MAX_HEADER_LINES; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "a: b\r\n");
	o += (size_t)snprintf(big + o, sizeof(big) - o, "\r\n");
	CHECK(est_parse_head((const uint8_t *)big, o, &rq) == 431,
	      "too many lines: %s", rq.why);
	/* an 8 KiB request in base64 with CRLF lines fits the body limit */
	CHECK((CSR_MAX + 2) / 3 * 4 / 64 * 66 + 70 <= EST_BODY_MAX,
	      "body limit %d", EST_BODY_MAX);
}

static void test_basic_and_heads(void)
{
	char pw[64], out[256];
	size_t n;

	/* "dev:tok:en" */
	CHECK(est_basic_password("ZGV2OnRvazplbg==", 16, pw, sizeof(pw)) == 6 &&
		  !strcmp(pw, "tok:en"),
	      "basic %s", pw);
	CHECK(est_basic_password("ZGV2", 4, pw, sizeof(pw)) < 0, "no colon");
	CHECK(est_basic_password("ZG!2", 4, pw, sizeof(pw)) < 0, "bad base64");
	CHECK(est_basic_password("ZGV2OnRvazplbg==", 16, pw, 4) < 0, "small");
	n = est_build_head(out, sizeof(out), 503, "text/plain", 0,
			   "Retry-After: 60\r\n", 5);
	CHECK(n && !strcmp(out,
			   "HTTP/1.1 503 Service Unavailable\r\n"
			   "Content-Type: text/plain\r\nRetry-After: 60\r\n"
			   "Content-Length: 5\r\nConnection: close\r\n\r\n"),
	      "head %s", out);
	n = est_build_head(out, sizeof(out), 200, "application/pkcs7-mime", 1,
			   NULL, 100);
	CHECK(n && strstr(out, "\r\nContent-Transfer-Encoding: base64\r\n"),
	      "b64 head %s", out);
	CHECK(!est_build_head(out, 20, 200, NULL, 0, NULL, 0), "too small");
}

static void test_pkcs7(void)
{
	static const uint8_t cert[] = {0x30, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t want[] = {
	    0x30, 0x2a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	    0x07, 0x02, 0xa0, 0x1d, 0x30, 0x1b, 0x02, 0x01, 0x01, 0x31, 0x00,
	    0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	    0x07, 0x01, 0xa0, 0x05, 0x30, 0x03, 0x02, 0x01, 0x05, 0x31, 0x00};
	struct der_span c[2] = {{cert, sizeof(cert)}, {cert, sizeof(cert)}};
	uint8_t out[128];
	int n = pkcs7_certs_write(c, 1, out, sizeof(out));

	CHECK(n == (int)sizeof(want) && !memcmp(out, want, sizeof(want)),
	      "pkcs7 %d bytes", n);
	n = pkcs7_certs_write(c, 2, out, sizeof(out));
	CHECK(n == (int)sizeof(want) + 5 && out[1] == 0x2f, "two certs %d", n);
	CHECK(pkcs7_certs_write(c, 1, out, 40) < 0, "does not fit");
}

int main(void)
{
	test_requests();
	test_limits();
	test_basic_and_heads();
	test_pkcs7();
	return test_done("est");
}
