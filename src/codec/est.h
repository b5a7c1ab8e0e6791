/* est.h - EST (RFC 7030) requests as moat serves them on an MQTT
 * listener's TLS port: the HTTP/1.1 head judged (http_req.h) and routed
 * (/.well-known/est/cacerts, simpleenroll, simplereenroll), the body's
 * length bounded, the credentials of an Authorization field found, and
 * the answers' heads written. Pure functions, bounded, fuzzed
 * (tests/fuzz/fuzz_est.c). */
#ifndef MOAT_EST_H
#define MOAT_EST_H

#include <stddef.h>
#include <stdint.h>

#include "codec/csr.h"
#include "codec/http_req.h"

/* The request line and header fields, bytes. */
#define EST_MAX_HEADER 8192
/* A body: a CSR_MAX request in base64, in lines, with room to spare. */
#define EST_BODY_MAX ((CSR_MAX + 2) / 3 * 4 * 66 / 64 + 256)

enum est_op {
	EST_NONE,
	EST_CACERTS,	    /* GET: the issuing CA, PKCS#7 certs-only */
	EST_SIMPLEENROLL,   /* POST a PKCS#10: a first certificate */
	EST_SIMPLEREENROLL, /* POST a PKCS#10: a renewal */
};

enum est_auth {
	EST_AUTH_NONE,
	EST_AUTH_BEARER, /* Authorization: Bearer <token> */
	EST_AUTH_BASIC,	 /* Authorization: Basic <base64 user:password> */
	EST_AUTH_OTHER,	 /* another scheme: not moat's */
};

struct est_request {
	enum est_op op;
	size_t body_len; /* Content-Length of a POST (0 for GET) */
	enum est_auth auth;
	const char *cred; /* the token, or Basic's base64 (into the head) */
	size_t cred_len;
	const char *path; /* the target's path, for the log */
	size_t path_len;
	const char *why; /* static detail of a refusal, for the log */
};

/* Judge the head p[0..n) (n = http_head_end's answer, or the bytes so far
 * when they passed EST_MAX_HEADER): 0 with *rq filled (rq->body_len
 * bytes of body follow), or the status to answer with: 400 malformed,
 * 404 a path moat does not serve (csrattrs, serverkeygen, fullcmc, CA
 * labels, anything else), 405 the wrong method, 411 a POST without
 * Content-Length or with Transfer-Encoding, 413 a body over EST_BODY_MAX,
 * 431 the head over EST_MAX_HEADER or HTTP_MAX_HEADER_LINES lines. */
int est_parse_head(const uint8_t *p, size_t n, struct est_request *rq);

/* The password of Basic credentials (base64 of user:password) into out
 * (cap bytes, NUL-terminated): its length, or -1 when malformed. */
long est_basic_password(const char *b64, size_t n, char *out, size_t cap);

/* The head of an answer of this status (the reason phrase is moat's),
 * with Content-Type ctype (NULL: none), Content-Transfer-Encoding base64
 * when b64, extra fields (NULL, or lines each ending in \r\n) and a body
 * of body_len bytes; always Connection: close. Its length, or 0 when it
 * does not fit in cap. */
size_t est_build_head(char *out, size_t cap, int status, const char *ctype,
		      int b64, const char *extra, size_t body_len);

#endif
