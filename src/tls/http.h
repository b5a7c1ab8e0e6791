/* http.h - one HTTP/1.0 exchange (plain or over TLS) on a libuv loop, for what moat fetches
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

/* The same over HTTPS: a wolfSSL client session of ctx (from
 * http_tls_ctx_new) runs over the TCP stream; the server's certificate
 * must chain to ctx's CAs and name host (which also goes in SNI). ctx
 * must outlive the call; the session keeps its own reference. */
struct WOLFSSL_CTX;
struct http_req *http_start_tls(uv_loop_t *loop, const char *host,
				const char *port, const char *request,
				size_t len, uint64_t timeout_ms,
				size_t max_response, struct WOLFSSL_CTX *ctx,
				http_done_fn done, void *arg);

/* The system's CA bundle (Debian's ca-certificates). */
#define HTTP_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* A client context for http_start_tls: TLS 1.2 or newer, the peer's
 * certificate verified against ca_file (NULL: HTTP_SYSTEM_CA). NULL and
 * err when the CAs do not load. Free from any thread. */
struct WOLFSSL_CTX *http_tls_ctx_new(const char *ca_file, char *err,
				     size_t errlen);
void http_tls_ctx_free(struct WOLFSSL_CTX *ctx);

/* Stop it now; done is not called. Safe while a resolve is in flight. */
void http_abort(struct http_req *r);

/* "http://host[:port][/path]" into host, port ("80" if absent) and path
 * ("/" if absent; not NUL-terminated, path_len bytes). 0 or -1. */
int http_url_parse(const char *url, size_t len, char *host, size_t hl,
		   char *port, size_t pl, const char **path, size_t *path_len);

/* The same for "http://" or "https://" (port "443" if absent there);
 * *tls says which. */
int http_url_parse_any(const char *url, size_t len, int *tls, char *host,
		       size_t hl, char *port, size_t pl, const char **path,
		       size_t *path_len);

/* From a whole HTTP/1.x answer in p[0..n): 1 and the body when the status
 * is 200 and the body is complete (Content-Length, or eof), 0 when more
 * is needed, -1 (and why) when it failed. */
int http_answer(const uint8_t *p, size_t n, int eof, const uint8_t **body,
		size_t *blen, const char **why);

#endif
