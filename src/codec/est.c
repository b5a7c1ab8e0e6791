/* est.c - EST requests judged and answered (see est.h): only the three
 * operations moat serves, each with its one method; a POST's body has a
 * Content-Length within EST_BODY_MAX (no chunked bodies: 411); one
 * Authorization field at most. Answers always close the connection. */
#include <stdio.h>
#include <string.h>

#include "codec/est.h"

#define PREFIX "/.well-known/est/"

static int bad(struct est_request *rq, int st, const char *why)
{
	rq->why = why;
	return st;
}

/* The operation of the path after PREFIX; *known for a path of RFC 7030
 * that moat does not serve. */
static enum est_op op_of(const char *p, size_t n)
{
	static const struct {
		const char *name;
		enum est_op op;
	} ops[] = {{"cacerts", EST_CACERTS},
		   {"simpleenroll", EST_SIMPLEENROLL},
		   {"simplereenroll", EST_SIMPLEREENROLL}};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strlen(ops[i].name) == n && !memcmp(p, ops[i].name, n))
			return ops[i].op;
	return EST_NONE;
}

/* Content-Length: digits only, every copy the same (RFC 9112 6.3). */
static int length_of(const struct http_req *h, size_t *len)
{
	int seen = 0;

	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->f[i];
		size_t v = 0;

		if (!http_ieq(f->name, f->name_len, "content-length"))
			continue;
		if (!f->value_len || f->value_len > 9)
			return -1;
		for (size_t k = 0; k < f->value_len; k++) {
			if (f->value[k] < '0' || f->value[k] > '9')
				return -1;
			v = v * 10 + (size_t)(f->value[k] - '0');
		}
		if (seen && v != *len)
			return -1;
		seen = 1;
		*len = v;
	}
	return seen;
}

static int auth_of(const struct http_req *h, struct est_request *rq)
{
	const char *v = NULL;
	size_t vl = 0, sl = 0;
	unsigned k = http_field(h, "authorization", &v, &vl);

	if (!k)
		return 0;
	if (k > 1)
		return -1;
	while (sl < vl && v[sl] != ' ')
		sl++;
	rq->cred = v + sl;
	rq->cred_len = vl - sl;
	while (rq->cred_len && *rq->cred == ' ') {
		rq->cred++;
		rq->cred_len--;
	}
	if (http_ieq(v, sl, "bearer"))
		rq->auth = EST_AUTH_BEARER;
	else if (http_ieq(v, sl, "basic"))
		rq->auth = EST_AUTH_BASIC;
	else
		rq->auth = EST_AUTH_OTHER;
	if (rq->auth != EST_AUTH_OTHER && !rq->cred_len)
		return -1;
	return 0;
}

int est_parse_head(const uint8_t *p, size_t n, struct est_request *rq)
{
	struct http_req h;
	const char *v = NULL;
	size_t vl = 0, pl = strlen(PREFIX);
	int st = http_parse_head(p, n, EST_MAX_HEADER, &h), len;

	memset(rq, 0, sizeof(*rq));
	if (st)
		return bad(rq, st, h.why);
	rq->path = h.target;
	rq->path_len = h.path_len;
	if (http_field(&h, "host", &v, &vl) != 1)
		return bad(rq, 400, "no Host, or two");
	if (auth_of(&h, rq) < 0)
		return bad(rq, 400, "bad Authorization");
	if (h.path_len <= pl || memcmp(h.target, PREFIX, pl) != 0)
		return bad(rq, 404, "not an EST path");
	/* csrattrs, serverkeygen, fullcmc, a CA label: not served */
	rq->op = op_of(h.target + pl, h.path_len - pl);
	if (rq->op == EST_NONE)
		return bad(rq, 404, "EST operation not served");
	if (!http_method_is(&h, rq->op == EST_CACERTS ? "GET" : "POST"))
		return bad(rq, 405, "method not allowed");
	if (rq->op == EST_CACERTS)
		return 0;
	if (http_field(&h, "transfer-encoding", &v, &vl))
		return bad(rq, 411, "Transfer-Encoding (chunked) not taken");
	if ((len = length_of(&h, &rq->body_len)) < 0)
		return bad(rq, 400, "bad Content-Length");
	if (!len)
		return bad(rq, 411, "no Content-Length");
	if (rq->body_len > EST_BODY_MAX)
		return bad(rq, 413, "body over the request limit");
	if (http_field(&h, "content-transfer-encoding", &v, &vl) &&
	    !http_ieq(v, vl, "base64"))
		return bad(rq, 400, "Content-Transfer-Encoding not base64");
	return 0;
}

long est_basic_password(const char *b64, size_t n, char *out, size_t cap)
{
	long got;
	char *colon;

	if (!cap || n > 4 * (cap - 1) / 3)
		return -1;
	got = csr_b64_decode((const uint8_t *)b64, n, (uint8_t *)out, cap - 1);
	if (got < 0)
		return -1;
	out[got] = '\0';
	if (memchr(out, '\0', (size_t)got) || !(colon = strchr(out, ':')))
		return -1;
	got -= colon + 1 - out;
	memmove(out, colon + 1, (size_t)got + 1);
	return got;
}

static const char *reason(int st)
{
	switch (st) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

size_t est_build_head(char *out, size_t cap, int status, const char *ctype,
		      int b64, const char *extra, size_t body_len)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n%s%s%s%s%sContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason(status), ctype ? "Content-Type: " : "",
			 ctype ? ctype : "", ctype ? "\r\n" : "",
			 b64 ? "Content-Transfer-Encoding: base64\r\n" : "",
			 extra ? extra : "", body_len);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
