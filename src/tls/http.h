/* http.h - one HTTP/1.0 exchange on a libuv loop, for what moat fetches
 * itself (OCSP answers, JWK Sets): resolve the host, connect, send the
 * request bytes as given, read the answer up to a size bound and a
 * deadline, and hand the body of a 200 answer to a callback. Never blocks
 * the loop; "Connection: close" requests, so the body ends at EOF when the
 * answer has no Content-Length. */
#ifndef MOAT_HTTP_H
#define MOAT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_req;

/* The exchange is over: body (NULL on failure, with why saying what went
 * wrong) is valid during the call only. Called once, on the loop, unless
 * the request was aborted; the request frees itself afterwards. */
typedef void (*http_done_fn)(void *arg, const uint8_t *body, size_t len,
			     const char *why);

/* Start sending `request` (len bytes, copied) to host:port. NULL when it
 * cannot start (out of memory, resolver refused): done is not called. */
struct http_req *http_start(uv_loop_t *loop, const char *host,
			    const char *port, const char *request, size_t len,
			    uint64_t timeout_ms, size_t max_response,
			    http_done_fn done, void *arg);

/* Stop it now; done is not called. Safe while a resolve is in flight. */
void http_abort(struct http_req *r);

/* "http://host[:port][/path]" into host, port ("80" if absent) and path
 * ("/" if absent; not NUL-terminated, path_len bytes). 0 or -1. */
int http_url_parse(const char *url, size_t len, char *host, size_t hl,
		   char *port, size_t pl, const char **path, size_t *path_len);

/* From a whole HTTP/1.x answer in p[0..n): 1 and the body when the status
 * is 200 and the body is complete (Content-Length, or eof), 0 when more
 * is needed, -1 (and why) when it failed. */
int http_answer(const uint8_t *p, size_t n, int eof, const uint8_t **body,
		size_t *blen, const char **why);

#endif
