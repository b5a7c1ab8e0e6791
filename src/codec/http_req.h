/* http_req.h - the head of an HTTP/1.1 request (RFC 9112): request line
 * and header fields, read whole once the empty line is in. Shared by the
 * WebSocket upgrade (ws.c) and EST (est.c), which judge what the request
 * means. Pure functions over the caller's buffer, bounded, fuzzed
 * (tests/fuzz/fuzz_ws_upgrade.c, fuzz_est.c). */
#ifndef MOAT_HTTP_REQ_H
#define MOAT_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

/* Header lines a request may have: a flood of tiny headers is 431 too. */
#define HTTP_MAX_HEADER_LINES 64

struct http_field {
	const char *name; /* as sent (compare with http_ieq) */
	size_t name_len;
	const char *value; /* whitespace around it trimmed */
	size_t value_len;
};

/* A request head once parsed. Pointers point into the caller's buffer. */
struct http_req {
	const char *method; /* a token: GET, POST, ... */
	size_t method_len;
	const char *target; /* origin-form, starts with '/' */
	size_t target_len;
	size_t path_len; /* of target, up to its '?' */
	struct http_field f[HTTP_MAX_HEADER_LINES];
	size_t n_fields;
	const char *why; /* static detail of a refusal, for the log */
};

/* The end of the request's head in p[0..n): the offset just past its
 * empty line, or 0 while it is not all in. Scans from `from` (bytes
 * already scanned minus 3, so a split CRLFCRLF is found). */
size_t http_head_end(const uint8_t *p, size_t n, size_t from);

/* Parse the whole head p[0..n) (n = http_head_end's answer): 0, or the
 * status to answer with (400 malformed, 431 over max bytes or over
 * HTTP_MAX_HEADER_LINES lines) and rq->why. */
int http_parse_head(const uint8_t *p, size_t n, size_t max,
		    struct http_req *rq);

/* The method is m (case-sensitive, as RFC 9110 says). */
int http_method_is(const struct http_req *rq, const char *m);

/* How many fields are named name (case-insensitive); *v, *vl the last
 * one's value (untouched when none). */
unsigned http_field(const struct http_req *rq, const char *name, const char **v,
		    size_t *vl);

/* Case-insensitive equality of p[0..n) and the NUL-terminated s. */
int http_ieq(const char *p, size_t n, const char *s);

/* Call fn on each element of a comma-separated list value (RFC 9110
 * 5.6.1), with whitespace around elements trimmed; empty ones skipped. */
void http_list_each(const char *v, size_t n,
		    void (*fn)(const char *e, size_t el, void *arg), void *arg);

/* Find name=value among sep-separated pairs of v[0..n); 1 found once,
 * 0 not there, -1 found twice (ambiguous: which one would be checked?). */
int http_pair_find(const char *v, size_t n, char sep, const char *name,
		   const char **val, size_t *vlen);

#endif
