/* http.c - the HTTP/1.0 client of moat's own fetches (see http.h). One
 * struct per exchange, holding a timer, the TCP handle once resolved, and
 * the request and answer bytes; it is freed when the last handle has
 * closed and no resolve is pending. The host's addresses are dialed in
 * turn (base/dial.c, as brokers are). Over HTTPS a wolfSSL client session
 * runs on the same TCP stream through in-memory IO callbacks, so nothing
 * blocks the loop. Lives in tls/ because its users (OCSP, JWK Sets) do. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "base/dial.h"
#include "tls/http.h"

#define HTTP_RAW 16384	  /* TLS records read from the socket at a time */
#define HTTP_MAX_ADDRS 16 /* addresses of the host tried, as for servers */

struct http_req {
	uv_loop_t *loop;
	uv_getaddrinfo_t gai;
	uv_tcp_t tcp;
	uv_write_t wreq;
	uv_timer_t timer;
	struct dial dial; /* over addrs, with tcp and timer */
	union util_addr addrs[HTTP_MAX_ADDRS];
	uint64_t deadline; /* uv_now() when the exchange times out */
	int handles;	   /* open libuv handles */
	int gai_busy, done, tcp_open;
	http_done_fn fn;
	void *arg;
	size_t max;
	char *out; /* the request */
	size_t out_len;
	uint8_t *in;
	size_t in_len;
	/* HTTPS only */
	WOLFSSL *ssl;
	char *sni;               /* the host name the certificate must match */
	int hs_done, tls_eof;
	uint8_t *raw;            /* HTTP_RAW bytes: what the socket gave */
	const uint8_t *rx;       /* not yet given to wolfSSL */
	size_t rx_len;
};

/* One TLS write of the session, in flight on the socket. */
struct http_wbuf {
	uv_write_t w;
	struct http_req *r;
	char data[];
};

static void req_unref(struct http_req *r)
{
	if (--r->handles > 0 || r->gai_busy)
		return;
	free(r->out);
	free(r->in);
	free(r->raw);
	free(r->sni);
	free(r);
}

static void on_close(uv_handle_t *h)
{
	req_unref(h->data);
}

/* Close what is open; the struct goes with the last handle. */
static void req_close(struct http_req *r)
{
	if (r->done)
		return;
	r->done = 1;
	if (r->ssl) { /* no wolfSSL call follows: its IO ends here */
		wolfSSL_free(r->ssl);
		r->ssl = NULL;
	}
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_close);
	if (dial_busy(&r->dial)) {
		dial_stop(&r->dial);
	} else if (r->tcp_open) {
		r->tcp_open = 0;
		uv_close((uv_handle_t *)&r->tcp, on_close);
	}
}

static void finish(struct http_req *r, const uint8_t *body, size_t len,
		   const char *why)
{
	if (r->done)
		return;
	r->fn(r->arg, body, len, why);
	req_close(r);
}

void http_abort(struct http_req *r)
{
	req_close(r);
}

static void on_timeout(uv_timer_t *t)
{
	struct http_req *r = t->data;

	if (dial_busy(&r->dial)) /* that address's share of the time is up */
		dial_timed_out(&r->dial);
	else
		finish(r, NULL, 0, "timeout");
}

int http_answer(const uint8_t *in, size_t n, int eof, const uint8_t **body,
		size_t *blen, const char **why)
{
	const char *p = (const char *)in, *hend = NULL;
	size_t clen = (size_t)-1;

	for (size_t i = 0; i + 3 < n; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4)) {
			hend = p + i + 4;
			break;
		}
	if (!hend) {
		*why = "truncated HTTP response";
		return eof ? -1 : 0;
	}
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0) {
		*why = "not an HTTP response";
		return -1;
	}
	if (memcmp(p + 9, "200", 3) != 0) {
		*why = "HTTP status not 200";
		return -1;
	}
	for (const char *l = p; l < hend;) {
		const char *nl = memchr(l, '\n', (size_t)(hend - l));

		if (!nl)
			break;
		if ((size_t)(nl - l) > 15 && !strncasecmp(l, "content-length:", 15))
			clen = strtoul(l + 15, NULL, 10);
		l = nl + 1;
	}
	*body = (const uint8_t *)hend;
	*blen = n - (size_t)(hend - p);
	if (clen != (size_t)-1) {
		if (*blen < clen) {
			*why = "truncated HTTP body";
			return eof ? -1 : 0;
		}
		*blen = clen;
		return 1;
	}
	return eof ? 1 : 0;
}

/* ---- HTTPS: a wolfSSL client session over the TCP stream ---- */

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct http_req *r = ctx;
	size_t n = r->rx_len < (size_t)sz ? r->rx_len : (size_t)sz;

	(void)ssl;
	if (!n)
		return r->tls_eof ? WOLFSSL_CBIO_ERR_CONN_CLOSE
				  : WOLFSSL_CBIO_ERR_WANT_READ;
	memcpy(buf, r->rx, n);
	r->rx += n;
	r->rx_len -= n;
	return (int)n;
}

static void on_tls_write(uv_write_t *w, int status)
{
	struct http_wbuf *wb = w->data;
	struct http_req *r = wb->r;

	free(wb);
	if (status < 0)
		finish(r, NULL, 0, uv_strerror(status));
}

/* What wolfSSL sends goes out as one libuv write of a copy. */
static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct http_req *r = ctx;
	struct http_wbuf *wb = malloc(sizeof(*wb) + (size_t)sz);
	uv_buf_t b;

	(void)ssl;
	if (!wb)
		return WOLFSSL_CBIO_ERR_GENERAL;
	memcpy(wb->data, buf, (size_t)sz);
	wb->r = r;
	wb->w.data = wb;
	b = uv_buf_init(wb->data, (unsigned)sz);
	if (uv_write(&wb->w, (uv_stream_t *)&r->tcp, &b, 1, on_tls_write) < 0) {
		free(wb);
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	return sz;
}

static const char *tls_why(struct http_req *r, int ret, char *buf,
			   size_t len)
{
	int e = wolfSSL_get_error(r->ssl, ret);

	snprintf(buf, len, "TLS: %s (%d)",
		 wolfSSL_ERR_reason_error_string((unsigned long)e), e);
	return buf;
}

/* The handshake, then the request, then whatever the server answered so
 * far, decrypted into r->in up to the size bound. */
static void tls_pump(struct http_req *r)
{
	const uint8_t *body;
	size_t blen;
	const char *why = "the server closed the connection";
	char ebuf[160];
	int k, ret, eof = 0;

	if (!r->hs_done) {
		ret = wolfSSL_connect(r->ssl);
		if (ret != WOLFSSL_SUCCESS) {
			if (wolfSSL_get_error(r->ssl, ret) !=
				    WOLFSSL_ERROR_WANT_READ ||
			    r->tls_eof)
				finish(r, NULL, 0,
				       tls_why(r, ret, ebuf, sizeof(ebuf)));
			return;
		}
		r->hs_done = 1;
		if (wolfSSL_write(r->ssl, r->out, (int)r->out_len) !=
		    (int)r->out_len) {
			finish(r, NULL, 0, "cannot send the request");
			return;
		}
	}
	for (;;) {
		size_t room = r->max + 4096 - r->in_len;
		uint8_t *n;

		if (!room) {
			finish(r, NULL, 0, "response too large");
			return;
		}
		if (room > HTTP_RAW)
			room = HTTP_RAW;
		if (!(n = realloc(r->in, r->in_len + room))) {
			finish(r, NULL, 0, "out of memory");
			return;
		}
		r->in = n;
		ret = wolfSSL_read(r->ssl, r->in + r->in_len, (int)room);
		if (ret > 0) {
			r->in_len += (size_t)ret;
			continue;
		}
		k = wolfSSL_get_error(r->ssl, ret);
		if (k == WOLFSSL_ERROR_WANT_READ && !r->tls_eof)
			break;
		/* close_notify, or the TCP stream ended with every byte read:
		 * the answer ends here (Content-Length still bounds it) */
		if (k == WOLFSSL_ERROR_ZERO_RETURN ||
		    (r->tls_eof && !r->rx_len)) {
			eof = 1;
			break;
		}
		finish(r, NULL, 0, tls_why(r, ret, ebuf, sizeof(ebuf)));
		return;
	}
	k = http_answer(r->in, r->in_len, eof, &body, &blen, &why);
	if (k < 0)
		finish(r, NULL, 0, why);
	else if (k > 0)
		finish(r, body, blen, NULL);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct http_req *r = h->data;
	size_t want = 16384;
	uint8_t *n;

	(void)sug;
	if (r->ssl) {
		*b = uv_buf_init((char *)r->raw, HTTP_RAW);
		return;
	}
	/* room for the headers beyond the body's bound */
	if (r->in_len + want > r->max + 4096)
		want = r->max + 4096 - r->in_len;
	b->base = NULL;
	b->len = 0;
	if (!want || !(n = realloc(r->in, r->in_len + want)))
		return;
	r->in = n;
	b->base = (char *)r->in + r->in_len;
	b->len = want;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct http_req *r = s->data;
	const uint8_t *body;
	size_t blen;
	const char *why = "the server closed the connection";
	int k;

	(void)b;
	if (n == UV_ENOBUFS) {
		finish(r, NULL, 0, "response too large");
		return;
	}
	if (n < 0 && n != UV_EOF) {
		finish(r, NULL, 0, uv_strerror((int)n));
		return;
	}
	if (r->ssl) {
		if (n > 0) {
			r->rx = r->raw;
			r->rx_len = (size_t)n;
		}
		r->tls_eof = n == UV_EOF;
		tls_pump(r);
		return;
	}
	if (n > 0)
		r->in_len += (size_t)n;
	k = http_answer(r->in, r->in_len, n == UV_EOF, &body, &blen, &why);
	if (k < 0)
		finish(r, NULL, 0, why);
	else if (k > 0)
		finish(r, body, blen, NULL);
}

static void on_write(uv_write_t *w, int status)
{
	struct http_req *r = w->data;

	if (status < 0)
		finish(r, NULL, 0, uv_strerror(status));
}

/* The dial is over: connected to one of the host's addresses (the rest
 * of the exchange gets what is left of its time), or none answered. */
static void on_dialed(struct dial *d, int status)
{
	struct http_req *r = d->data;
	uint64_t left;
	uv_buf_t b;

	if (status < 0) { /* the handle is closed */
		r->handles--;
		finish(r, NULL, 0,
		       status == UV_ETIMEDOUT ? "timeout"
					      : uv_strerror(status));
		return;
	}
	r->tcp_open = 1;
	left =
	    r->deadline > uv_now(r->loop) ? r->deadline - uv_now(r->loop) : 0;
	uv_timer_start(&r->timer, on_timeout, left ? left : 1, 0);
	if (r->ssl) {
		if (uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) < 0)
			finish(r, NULL, 0, "cannot read from the server");
		else
			tls_pump(r); /* the ClientHello */
		return;
	}
	b = uv_buf_init(r->out, (unsigned)r->out_len);
	r->wreq.data = r;
	if (uv_write(&r->wreq, (uv_stream_t *)&r->tcp, &b, 1, on_write) < 0 ||
	    uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) < 0)
		finish(r, NULL, 0, "cannot send the request");
}

static const struct dial_ops http_dial = {
    .timer_cb = on_timeout,
    .close_cb = on_close,
    .done = on_dialed,
};

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
	struct http_req *r = g->data;
	size_t n = 0;
	uint64_t now;

	r->gai_busy = 0;
	if (r->done) {
		uv_freeaddrinfo(res);
		r->handles++; /* balance the unref below */
		req_unref(r);
		return;
	}
	/* every address, in the resolver's order (as for a server without
	 * resolve_prefer) */
	if (status == 0 && res)
		n = util_addr_list(r->addrs, HTTP_MAX_ADDRS, res, AF_UNSPEC);
	uv_freeaddrinfo(res);
	if (!n) {
		finish(r, NULL, 0, "cannot resolve the server");
		return;
	}
	now = uv_now(r->loop);
	r->handles++;
	dial_init(&r->dial, &http_dial, &r->tcp, &r->timer, r);
	dial_start(&r->dial, r->addrs, n, 0, 0,
		   r->deadline > now ? r->deadline - now : 1);
}

/* A name, not an address literal: only names go in SNI (RFC 6066 3). */
static int is_name(const char *host)
{
	if (strchr(host, ':'))
		return 0;
	for (const char *c = host; *c; c++)
		if ((*c < '0' || *c > '9') && *c != '.')
			return 1;
	return 0;
}

/* The session of an HTTPS exchange: the peer's certificate must chain to
 * the context's CAs (verify is on in http_tls_ctx_new) and name host. */
static int tls_setup(struct http_req *r, struct WOLFSSL_CTX *ctx,
		     const char *host)
{
	if (!(r->ssl = wolfSSL_new(ctx)) || !(r->sni = strdup(host)) ||
	    !(r->raw = malloc(HTTP_RAW)))
		return -1;
	wolfSSL_SSLSetIORecv(r->ssl, io_recv);
	wolfSSL_SSLSetIOSend(r->ssl, io_send);
	wolfSSL_SetIOReadCtx(r->ssl, r);
	wolfSSL_SetIOWriteCtx(r->ssl, r);
	if (wolfSSL_check_domain_name(r->ssl, host) != WOLFSSL_SUCCESS)
		return -1;
	if (is_name(host) &&
	    wolfSSL_UseSNI(r->ssl, WOLFSSL_SNI_HOST_NAME, host,
			   (unsigned short)strlen(host)) != WOLFSSL_SUCCESS)
		return -1;
	return 0;
}

struct http_req *http_start(uv_loop_t *loop, const char *host,
			    const char *port, const char *request, size_t len,
			    uint64_t timeout_ms, size_t max_response,
			    http_done_fn done, void *arg)
{
	return http_start_tls(loop, host, port, request, len, timeout_ms,
			      max_response, NULL, done, arg);
}

struct http_req *http_start_tls(uv_loop_t *loop, const char *host,
				const char *port, const char *request,
				size_t len, uint64_t timeout_ms,
				size_t max_response, struct WOLFSSL_CTX *ctx,
				http_done_fn done, void *arg)
{
	struct http_req *r = calloc(1, sizeof(*r));
	struct addrinfo hints;

	if (!r || !(r->out = malloc(len)) ||
	    (ctx && tls_setup(r, ctx, host) < 0))
		goto fail;
	memcpy(r->out, request, len);
	r->out_len = len;
	r->loop = loop;
	r->fn = done;
	r->arg = arg;
	r->max = max_response;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r->gai.data = r;
	if (uv_getaddrinfo(loop, &r->gai, on_resolved, host, port, &hints) < 0)
		goto fail;
	r->gai_busy = 1;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->handles = 1;
	r->deadline = uv_now(loop) + timeout_ms;
	uv_timer_start(&r->timer, on_timeout, timeout_ms, 0);
	return r;
fail:
	if (r) {
		if (r->ssl)
			wolfSSL_free(r->ssl);
		free(r->sni);
		free(r->raw);
		free(r->out);
	}
	free(r);
	return NULL;
}

struct WOLFSSL_CTX *http_tls_ctx_new(const char *ca_file, char *err,
				     size_t errlen)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	const char *ca = ca_file ? ca_file : HTTP_SYSTEM_CA;

	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* the system bundle may hold a certificate wolfSSL cannot parse:
	 * skip it rather than trust nothing; a named CA file must load */
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_load_verify_locations_ex(
		    ctx, ca, NULL,
		    ca_file ? WOLFSSL_LOAD_VERIFY_DEFAULT_FLAGS
			    : WOLFSSL_LOAD_FLAG_IGNORE_ERR) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot load CA certificates from %s",
			 ca);
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	return ctx;
}

void http_tls_ctx_free(struct WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_free(ctx);
}

int http_url_parse(const char *url, size_t len, char *host, size_t hl,
		   char *port, size_t pl, const char **path, size_t *path_len)
{
	int tls;

	if (http_url_parse_any(url, len, &tls, host, hl, port, pl, path,
			       path_len) < 0 ||
	    tls)
		return -1;
	return 0;
}

int http_url_parse_any(const char *url, size_t len, int *tls, char *host,
		       size_t hl, char *port, size_t pl, const char **path,
		       size_t *path_len)
{
	const char *p, *end = url + len, *h, *he, *slash;

	if (len >= 8 && strncasecmp(url, "http://", 7) == 0)
		*tls = 0;
	else if (len >= 9 && strncasecmp(url, "https://", 8) == 0)
		*tls = 1;
	else
		return -1;
	p = url + (*tls ? 8 : 7);
	slash = memchr(p, '/', (size_t)(end - p));
	he = slash ? slash : end;
	h = p;
	if (*h == '[') { /* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(he - h));

		if (!rb || (size_t)(rb - h - 1) >= hl)
			return -1;
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = 0;
		p = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(he - h));
		const char *hend = colon ? colon : he;

		if (hend == h || (size_t)(hend - h) >= hl)
			return -1;
		memcpy(host, h, (size_t)(hend - h));
		host[hend - h] = 0;
		p = hend;
	}
	if (p < he && *p == ':') {
		size_t n = (size_t)(he - p - 1);

		if (n == 0 || n >= pl)
			return -1;
		memcpy(port, p + 1, n);
		port[n] = 0;
		for (size_t i = 0; i < n; i++)
			if (port[i] < '0' || port[i] > '9')
				return -1;
	} else if (p == he) {
		snprintf(port, pl, *tls ? "443" : "80");
	} else {
		return -1;
	}
	*path = slash ? slash : "/";
	*path_len = slash ? (size_t)(end - slash) : 1;
	for (size_t i = 0; i < *path_len; i++)
		if ((*path)[i] <= ' ' || (*path)[i] == 0x7f)
			return -1;
	for (const char *c = host; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return -1;
	return 0;
}
