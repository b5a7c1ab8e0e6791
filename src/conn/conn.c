/* conn.c - the life of one proxied device, from accept to close.
 * accept -> TLS handshake -> CONNECT read and checked -> broker chosen and
 * connected (fail-over while nothing was forwarded) -> bytes spliced both
 * ways with MQTT framing checked and backpressure. conn_advance() is the one
 * place where the state moves; every exit goes through conn_reject(),
 * conn_finish() (flush, then close) or conn_close() (close now). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>

#include "conn/conn.h"
#include "base/persource.h"
#include "codec/proxy.h"
#include "base/log.h"
#include "ops/metrics.h"
#include "upstream/server.h"
#include "base/util.h"

/* Stop reading one side while the other side has more than this queued. */
#define WQ_HIGH (256 * 1024)
#define WQ_LOW (64 * 1024)
/* Bytes a client may pipeline after its CONNECT before the broker is up. */
#define PIPELINE_MAX (64 * 1024)
/* How long a rejected client gets to read its alert or CONNACK. */
#define FLUSH_TIMEOUT_MS 2000

/* This worker's counter slots of the connection's server and upstream:
 * written by this thread only, summed by readers (server_sum). */
#define SRV_CTR(c) (&(c)->srv->ctr[(c)->moat->idx])
#define UP_CTR(c) (&(c)->up->ctr[(c)->moat->idx])


struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	int side;
	uint8_t data[];
};

static void conn_advance(struct conn *c);
static void conn_close(struct conn *c, const char *why);
static void conn_finish(struct conn *c);
static void linger_start(struct conn *c);
static void upstream_try(struct conn *c);
static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_ocsp_wake(struct ocsp_waiter *w);
static int proxy_expected(const struct conn *c);
static int conn_admit(struct conn *c);
static int proxy_read(struct conn *c, const uint8_t *p, size_t n);
static int conn_ocsp_io(void *arg, const char *url, int url_len,
			const uint8_t *req, int req_len, uint8_t **resp);

const char *conn_state_name(enum conn_state s)
{
	static const char *names[] = {"handshake", "connect", "upstream",
				      "splice",    "closing", "closed"};

	return s <= CS_CLOSED ? names[s] : "?";
}

static void peer_str(const struct conn *c, char *buf, size_t len)
{
	util_addr_str((const struct sockaddr *)&c->peer, buf, len);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)hint;
	/* One shared buffer per loop: a read is consumed before the next. */
	buf->base = (char *)c->moat->rbuf;
	buf->len = sizeof(c->moat->rbuf);
}

static uv_stream_t *side_stream(struct conn *c, int side)
{
	return side == SIDE_CLIENT ? (uv_stream_t *)&c->client
				   : (uv_stream_t *)&c->upstream;
}

static void read_start(struct conn *c, int side)
{
	if (c->reading[side] || c->eof[side] || c->state >= CS_CLOSING)
		return;
	if (side == SIDE_UPSTREAM && !c->upstream_open)
		return;
	if (uv_read_start(side_stream(c, side), on_alloc,
			  side == SIDE_CLIENT ? on_client_read
					      : on_upstream_read) == 0)
		c->reading[side] = 1;
}

static void read_stop(struct conn *c, int side)
{
	if (!c->reading[side])
		return;
	uv_read_stop(side_stream(c, side));
	c->reading[side] = 0;
}

static void on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *c = w->c;
	int side = w->side;

	CTR_SUB(c->wq[side], w->len);
	free(w);
	if (c->state == CS_CLOSED)
		return;
	if (status < 0) {
		conn_close(c, side == SIDE_CLIENT ? "client write error"
						  : "broker write error");
		return;
	}
	if (c->state == CS_CLOSING) {
		if (side == SIDE_CLIENT && c->wq[SIDE_CLIENT] == 0)
			linger_start(c);
		return;
	}
	/* Backpressure released: the other side may be read again. */
	if (c->wq[side] <= WQ_LOW && c->state == CS_SPLICE)
		read_start(c, !side);
}

/* Write to one side: straight to the socket when nothing is queued,
 * otherwise (or for what the socket did not take) into a write request. */
static int conn_write(struct conn *c, int side, const uint8_t *p, size_t n)
{
	uv_stream_t *s = side_stream(c, side);
	struct wreq *w;
	uv_buf_t b;
	int r;

	if (c->state == CS_CLOSED)
		return -1;
	if (c->wq[side] == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		r = uv_try_write(s, &b, 1);
		if (r >= 0) {
			p += r;
			n -= (size_t)r;
		} else if (r != UV_EAGAIN) {
			return r;
		}
	}
	if (n == 0)
		return 0;
	w = malloc(sizeof(*w) + n);
	if (!w)
		return UV_ENOMEM;
	w->c = c;
	w->len = n;
	w->side = side;
	memcpy(w->data, p, n);
	b = uv_buf_init((char *)w->data, (unsigned)n);
	r = uv_write(&w->req, s, &b, 1, on_written);
	if (r < 0) {
		free(w);
		return r;
	}
	CTR_ADD(c->wq[side], n);
	if (c->wq[side] > WQ_HIGH)
		read_stop(c, !side);
	return 0;
}

/* wolfSSL's send callback: ciphertext for the client. */
static int client_send(void *arg, const uint8_t *p, size_t n)
{
	struct conn *c = arg;

	return conn_write(c, SIDE_CLIENT, p, n) < 0 ? -1 : 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles)
		return;
	/* Last handle closed: no callback can reach c any more. */
	if (c->ssl)
		wolfSSL_free(c->ssl);
	ocsp_cancel(c->moat->ocsp, &c->ocsp_w);
	tls_io_free(&c->io);
	free(c->phdr);
	tls_peer_clear(&c->cert);
	free(c->cbuf);
	free(c->client_id);
	gen_put(c->gen);
	listener_put(c->li);
	free(c);
}

/* Close every handle now; the struct is freed by the last close callback. */
static void conn_close(struct conn *c, const char *why)
{
	struct moat *m = c->moat;
	char peer[64], age[32], bin[32], bout[32], id[24];

	if (c->state == CS_CLOSED)
		return;
	peer_str(c, peer, sizeof(peer));
	snprintf(age, sizeof(age), "%llu",
		 (unsigned long long)(util_now_ms() - c->start_ms));
	snprintf(bin, sizeof(bin), "%llu", (unsigned long long)c->bytes_in);
	snprintf(bout, sizeof(bout), "%llu", (unsigned long long)c->bytes_out);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_INFO, "conn_close", "conn", id, "peer", peer,
		  "client_id", c->client_id, "server",
		  c->srv ? c->srv->cfg->name : NULL, "state",
		  conn_state_name(c->state), "age_ms", age, "bytes_in", bin,
		  "bytes_out", bout, "reason", why, NULL);
	c->state = CS_CLOSED;
	ocsp_cancel(c->moat->ocsp, &c->ocsp_w);
	ocsp_release(m->ocsp, c->ocsp_e);
	c->ocsp_e = NULL;
	src_release(m->sources, c->src);
	c->src = NULL;
	if (c->srv_active) /* counted once forwarding, not while connecting */
		CTR_SUB(SRV_CTR(c)->active, 1);
	CTR_SUB(c->li->active, 1);
	CTR_SUB(m->conns_current, 1);
	__atomic_sub_fetch(&m->main->live, 1, __ATOMIC_RELAXED);
	uv_mutex_lock(&m->wlock);
	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_mutex_unlock(&m->wlock);
	if (m->stopping && !m->conns && m->on_drained)
		m->on_drained(m);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->client, on_handle_closed);
	if (c->upstream_open) {
		c->upstream_open = 0;
		uv_close((uv_handle_t *)&c->upstream, on_handle_closed);
	}
}

static void on_timeout(uv_timer_t *t);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_linger_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* The client's queue is out: send FIN and read (discarding) until the
 * client closes or the flush timer fires. Closing at once could turn our
 * FIN into a RST while the client still has unread bytes in our socket,
 * and the client would never read its alert or CONNACK. */
static void linger_start(struct conn *c)
{
	uv_shutdown_t *req = c->io.eof ? NULL : malloc(sizeof(*req));

	if (!req || uv_shutdown(req, (uv_stream_t *)&c->client,
				on_linger_shutdown) < 0) {
		free(req);
		conn_close(c, NULL);
		return;
	}
	if (!c->reading[SIDE_CLIENT] &&
	    uv_read_start((uv_stream_t *)&c->client, on_alloc,
			  on_client_read) == 0)
		c->reading[SIDE_CLIENT] = 1;
}

/* Drop the broker, send what is queued to the client (an alert, a
 * CONNACK, a close_notify), then close. */
static void conn_finish(struct conn *c)
{
	if (c->state >= CS_CLOSING)
		return;
	c->state = CS_CLOSING;
	read_stop(c, SIDE_UPSTREAM);
	if (c->upstream_open) {
		c->upstream_open = 0;
		uv_close((uv_handle_t *)&c->upstream, on_handle_closed);
	}
	uv_timer_start(&c->timer, on_timeout, FLUSH_TIMEOUT_MS, 0);
	if (c->wq[SIDE_CLIENT] == 0)
		linger_start(c);
	else
		read_stop(c, SIDE_CLIENT);
}

/* A flood of rejects of one cause is logged at REJECT_LOG_PER_S lines a
 * second; the rest are counted and summed up once a second by
 * conn_reject_log_flush(). The reject counters are never limited. */
#define REJECT_LOG_PER_S 20

static int reject_log_allowed(struct moat *m, enum reject_cause why)
{
	uint64_t now = util_now_ms();

	if (now - m->reject_log[why].window_ms >= 1000) {
		conn_reject_log_flush(m);
		m->reject_log[why].window_ms = now;
		m->reject_log[why].logged = 0;
	}
	if (m->reject_log[why].logged < REJECT_LOG_PER_S) {
		m->reject_log[why].logged++;
		return 1;
	}
	m->reject_log[why].suppressed++;
	return 0;
}

void conn_reject_log_flush(struct moat *m)
{
	for (int i = 0; i < REJ__COUNT; i++) {
		char n[24];

		if (!m->reject_log[i].suppressed)
			continue;
		snprintf(n, sizeof(n), "%llu",
			 (unsigned long long)m->reject_log[i].suppressed);
		log_event(LOG_WARN, "reject_suppressed", "cause",
			  reject_name(i), "count", n, NULL);
		m->reject_log[i].suppressed = 0;
	}
}

/* Count, log, answer (code < 0: no CONNACK) and close. */
static void conn_reject(struct conn *c, enum reject_cause why, int code)
{
	struct moat *m = c->moat;
	char peer[64], id[24], cbuf[16];
	uint8_t pkt[8];

	CTR_ADD(m->rejects[why], 1);
	CTR_ADD(c->li->rejects[why], 1);
	peer_str(c, peer, sizeof(peer));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (code >= 0)
		snprintf(cbuf, sizeof(cbuf), "0x%02x", code);
	if (reject_log_allowed(m, why))
		log_event(LOG_WARN, "reject", "conn", id, "peer", peer, "cause",
		  reject_name(why), "subject", c->cert.subject, "serial",
		  c->cert.serial, "client_id", c->client_id, "connack",
		  code >= 0 ? cbuf : NULL, NULL);
	if (code >= 0 && c->ssl && c->version) {
		size_t n = mqtt_build_connack(pkt, c->version, (uint8_t)code);

		CTR_ADD(c->bytes_out, n);
		wolfSSL_write(c->ssl, pkt, (int)n);
	}
	if (c->ssl && c->state > CS_HANDSHAKE)
		wolfSSL_shutdown(c->ssl);
	conn_finish(c);
}

static int v5(const struct conn *c)
{
	return c->version == MQTT_V5;
}

static void handshake_failed(struct conn *c, int ret)
{
	int err = wolfSSL_get_error(c->ssl, ret);
	enum reject_cause why;

	CTR_ADD(c->moat->handshakes_failed, 1);
	why = (enum reject_cause)tls_reject_cause(c->cert.verify_err, err);
	if (why == REJ_TLS_ERROR) {
		char msg[96], id[24], peer[64], e[16];

		wolfSSL_ERR_error_string_n((unsigned long)err, msg,
					   sizeof(msg));
		snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
		snprintf(e, sizeof(e), "%d", err);
		peer_str(c, peer, sizeof(peer));
		log_event(LOG_DEBUG, "tls_error", "conn", id, "peer", peer,
			  "error", e, "detail", msg, NULL);
	}
	conn_reject(c, why, -1);
}

static void handshake_done(struct conn *c)
{
	struct moat *m = c->moat;

	CTR_ADD(m->handshakes_ok, 1);
	CTR_ADD(c->li->handshakes, 1);
	histo_observe(&m->h_handshake, (double)(uv_hrtime() - c->t0_ns) / 1e9);
	if (wolfSSL_session_reused(c->ssl))
		CTR_ADD(c->li->resumed, 1);
	/* The leaf's DER served the verify callback; a CRL reload checks
	 * live sessions by issuer and serial (tls_peer_crl_revoked). */
	free(c->cert.der);
	c->cert.der = NULL;
	c->cert.der_len = 0;
	switch (c->cert.ocsp_state) {
	case TLS_OCSP_STALE:
		CTR_ADD(m->ocsp_stale_used, 1);
		break;
	case TLS_OCSP_UNAVAILABLE:
	case TLS_OCSP_UNKNOWN:
	case TLS_OCSP_NO_URL:
		if (c->cert.ocsp_mode == CFG_OCSP_SOFT)
			CTR_ADD(m->ocsp_soft_failed, 1);
		break;
	}
	c->state = CS_CONNECT;
	uv_timer_start(&c->timer, on_timeout,
		       c->gen->cfg->limits.connect_timeout_ms, 0);
}

static int cbuf_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->clen + n > c->ccap) {
		size_t cap = c->ccap ? c->ccap : 512;
		uint8_t *nb;

		while (cap < c->clen + n)
			cap *= 2;
		nb = realloc(c->cbuf, cap);
		if (!nb)
			return -1;
		c->cbuf = nb;
		c->ccap = cap;
	}
	memcpy(c->cbuf + c->clen, p, n);
	c->clen += n;
	return 0;
}

/* The protocol level of a CONNECT whose header is in but whose body is
 * not, so that an oversize CONNECT can be answered in its own version. */
static uint8_t peek_version(const uint8_t *p, size_t len, size_t hl)
{
	size_t off = hl;
	uint16_t nl;

	if (len < off + 2)
		return 0;
	nl = (uint16_t)(p[off] << 8 | p[off + 1]);
	off += 2 + nl;
	if (nl > 6 || len < off + 1)
		return 0;
	return p[off];
}

/* Checks the CONNECT once it is complete: grammar, version, identity,
 * then picks the brokers to try. Returns 1 when the connection moved on
 * (or was rejected), 0 when more bytes are needed. */
static int connect_check(struct conn *c)
{
	const struct cfg *cfg = c->gen->cfg;
	const struct cfg_mqtt *mq = &c->lcfg->mqtt;
	struct mqtt_connect mc;
	uint8_t tf;
	uint32_t rem;
	size_t hl, total, n;
	const char *ident;
	int r;

	r = mqtt_fixed_header(c->cbuf, c->clen, &tf, &rem, &hl);
	if (r == MQTT_AGAIN)
		return 0;
	if (r < 0 || tf != (MQTT_CONNECT << 4)) {
		conn_reject(c, REJ_BAD_CONNECT, -1);
		return 1;
	}
	total = hl + rem;
	if (total > cfg->limits.max_packet_size) {
		c->version = peek_version(c->cbuf, c->clen, hl);
		conn_reject(c, REJ_PACKET_TOO_LARGE,
			    v5(c) ? MQTT5_RC_PACKET_TOO_LARGE : -1);
		return 1;
	}
	if (c->clen < total)
		return 0;
	memset(&mc, 0, sizeof(mc));
	r = mqtt_parse_connect(c->cbuf, total, &mc);
	c->version = mc.version;
	if (r == MQTT_E_VERSION) {
		/* Answer an unknown level the way its own family reads it. */
		if (c->version >= MQTT_V5) {
			c->version = MQTT_V5;
			conn_reject(c, REJ_BAD_PROTOCOL,
				    MQTT5_RC_UNSUPPORTED_VERSION);
		} else {
			c->version = c->version ? MQTT_V311 : 0;
			conn_reject(c, REJ_BAD_PROTOCOL,
				    MQTT3_RC_UNACCEPTABLE_VERSION);
		}
		return 1;
	}
	if (r < 0) {
		conn_reject(c, REJ_BAD_CONNECT,
			    !v5(c)			 ? -1
			    : r == MQTT_E_MALFORMED ? MQTT5_RC_MALFORMED
						 : MQTT5_RC_PROTOCOL_ERROR);
		return 1;
	}
	if (c->cert.ocsp_mode == CFG_OCSP_REQUIRE &&
	    c->cert.ocsp_state >= TLS_OCSP_UNAVAILABLE) {
		/* Down or slow: a transient fault, the device retries later.
		 * Unknown, or nothing to ask: not authorized. */
		if (c->cert.ocsp_state == TLS_OCSP_UNAVAILABLE)
			conn_reject(c, REJ_OCSP_UNAVAILABLE,
				    v5(c) ? MQTT5_RC_SERVER_UNAVAILABLE
					  : MQTT3_RC_SERVER_UNAVAILABLE);
		else
			conn_reject(c, c->cert.ocsp_state == TLS_OCSP_UNKNOWN
					       ? REJ_OCSP_UNKNOWN
					       : REJ_OCSP_NO_URL,
				    v5(c) ? MQTT5_RC_NOT_AUTHORIZED
					  : MQTT3_RC_NOT_AUTHORIZED);
		return 1;
	}
	c->connect_len = total;
	c->client_id = malloc(mc.client_id.len + 1u);
	if (!c->client_id) {
		conn_close(c, "out of memory");
		return 1;
	}
	memcpy(c->client_id, mc.client_id.p, mc.client_id.len);
	c->client_id[mc.client_id.len] = '\0';

	ident = tls_peer_identity(&c->cert, mq->identity);
	if (mq->identity != CFG_ID_NONE &&
	    (mq->client_id_must_match || mq->username_from_cert) && !ident) {
		conn_reject(c, REJ_NO_IDENTITY,
			    v5(c) ? MQTT5_RC_NOT_AUTHORIZED
				  : MQTT3_RC_NOT_AUTHORIZED);
		return 1;
	}
	if (mq->identity != CFG_ID_NONE && mq->client_id_must_match &&
	    (strlen(ident) != mc.client_id.len ||
	     memchr(c->client_id, 0, mc.client_id.len) ||
	     strcmp(ident, c->client_id) != 0)) {
		conn_reject(c, REJ_CLIENT_ID_MISMATCH,
			    v5(c) ? MQTT5_RC_CLIENT_ID_NOT_VALID
				  : MQTT3_RC_IDENTIFIER_REJECTED);
		return 1;
	}
	if (mq->identity != CFG_ID_NONE && mq->username_from_cert) {
		size_t ulen = strlen(ident);
		size_t cap = c->clen + ulen + 8;
		uint8_t *nb = malloc(cap);
		size_t outlen;

		if (!nb || mqtt_rewrite_username(c->cbuf, total, &mc, ident,
						 ulen, nb, cap,
						 &outlen) != 0) {
			free(nb);
			conn_reject(c, REJ_BAD_CONNECT,
				    v5(c) ? MQTT5_RC_MALFORMED : -1);
			return 1;
		}
		memcpy(nb + outlen, c->cbuf + total, c->clen - total);
		free(c->cbuf);
		c->cbuf = nb;
		c->ccap = cap;
		c->clen = outlen + (c->clen - total);
		c->connect_len = outlen;
	}

	uv_timer_stop(&c->timer);
	/* Hash the client id; a client without one lands by its identity. */
	if (mc.client_id.len)
		n = upstream_pick(c->up, c->moat->idx, c->client_id, mc.client_id.len,
				  c->order, CONN_MAX_TRIES);
	else if (ident)
		n = upstream_pick(c->up, c->moat->idx, ident, strlen(ident), c->order,
				  CONN_MAX_TRIES);
	else
		n = upstream_pick(c->up, c->moat->idx, &c->peer, sizeof(c->peer),
				  c->order, CONN_MAX_TRIES);
	c->n_order = (uint8_t)n;
	c->tries = 0;
	c->state = CS_UPSTREAM;
	upstream_try(c);
	return 1;
}

/* Forward plaintext from the client to the broker, checking the framing. */
static int splice_to_upstream(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	int r = mqtt_framer_feed(&c->fr[SIDE_CLIENT], p, n, max);

	if (r < 0) {
		conn_reject(c,
			    r == MQTT_E_TOO_LARGE ? REJ_PACKET_TOO_LARGE
						  : REJ_BAD_CONNECT,
			    -1);
		return -1;
	}
	CTR_ADD(c->bytes_in, n);
	CTR_ADD(SRV_CTR(c)->bytes_in, n);
	CTR_ADD(c->li->bytes_in, n);
	CTR_ADD(UP_CTR(c)->bytes_in, n);
	if (conn_write(c, SIDE_UPSTREAM, p, n) < 0) {
		conn_close(c, "broker write error");
		return -1;
	}
	return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* The client has finished sending (close_notify or TCP FIN). */
static void client_eof(struct conn *c)
{
	uv_shutdown_t *req;

	c->eof[SIDE_CLIENT] = 1;
	read_stop(c, SIDE_CLIENT);
	if (c->state != CS_SPLICE) {
		conn_close(c, "client closed");
		return;
	}
	if (c->eof[SIDE_UPSTREAM]) {
		conn_finish(c);
		return;
	}
	/* Pass the half-close on: FIN to the broker once its queue is out. */
	req = malloc(sizeof(*req));

	if (!req || uv_shutdown(req, (uv_stream_t *)&c->upstream,
				on_shutdown) < 0) {
		free(req);
		conn_finish(c);
	}
}

/* Decrypt what the client sent and hand it on, by state. */
static void client_pump(struct conn *c)
{
	struct moat *m = c->moat;

	/* Forwarding, the plaintext of several TLS records goes to the
	 * broker in one write: a record per small PUBLISH is common. */
	size_t held = 0;

	while (c->state == CS_CONNECT || c->state == CS_UPSTREAM ||
	       c->state == CS_SPLICE) {
		int r = wolfSSL_read(c->ssl, m->pbuf + held,
				     (int)(sizeof(m->pbuf) - held));

		if (r <= 0) {
			int e = wolfSSL_get_error(c->ssl, r);

			if (held && splice_to_upstream(c, m->pbuf, held) < 0)
				return;
			held = 0;
			if (e == WOLFSSL_ERROR_WANT_READ && !c->io.eof)
				return;
			if (e == WOLFSSL_ERROR_WANT_READ ||
			    e == WOLFSSL_ERROR_ZERO_RETURN ||
			    e == SOCKET_PEER_CLOSED_E) {
				client_eof(c);
				return;
			}
			conn_close(c, "client TLS error");
			return;
		}
		if (c->state == CS_SPLICE) {
			held += (size_t)r;
			/* room for another full record, or flush now */
			if (sizeof(m->pbuf) - held < 16384 + 1024) {
				if (splice_to_upstream(c, m->pbuf, held) < 0)
					return;
				held = 0;
			}
			continue;
		}
		CTR_ADD(c->bytes_in, (uint64_t)r);
		if (cbuf_append(c, m->pbuf, (size_t)r) < 0) {
			conn_close(c, "out of memory");
			return;
		}
		if (c->state == CS_CONNECT)
			connect_check(c);
		else if (c->clen - c->connect_len > PIPELINE_MAX)
			read_stop(c, SIDE_CLIENT);
	}
}

static void conn_advance(struct conn *c)
{
	int r;

	if (c->state == CS_HANDSHAKE) {
		r = wolfSSL_accept(c->ssl);
		if (r != WOLFSSL_SUCCESS) {
			int e = wolfSSL_get_error(c->ssl, r);

			if ((e == WOLFSSL_ERROR_WANT_READ ||
			     e == WOLFSSL_ERROR_WANT_WRITE) &&
			    !c->io.eof)
				return;
			if (e == OCSP_WANT_READ) { /* on_ocsp_wake goes on */
				if (tls_io_stash(&c->io) < 0)
					conn_close(c, "out of memory");
				return;
			}
			/* A client that leaves mid-handshake (a port probe,
			 * or one that does not trust us) is not a reject. */
			if (c->io.eof && !c->cert.verify_err) {
				CTR_ADD(c->moat->handshakes_failed, 1);
				conn_close(c, "client closed during handshake");
				return;
			}
			handshake_failed(c, r);
			return;
		}
		handshake_done(c);
	}
	client_pump(c);
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;

	if (n == 0)
		return;
	if (c->state == CS_CLOSING) { /* lingering: discard until EOF */
		if (n < 0)
			conn_close(c, NULL);
		return;
	}
	if (n < 0) {
		c->io.eof = 1;
		read_stop(c, SIDE_CLIENT);
		if (n != UV_EOF) {
			conn_close(c, "client read error");
			return;
		}
	} else {
		c->io.rx = (const uint8_t *)b->base;
		c->io.rx_len = (size_t)n;
	}
	if (c->proxy_wait) {
		int r = proxy_read(c, n > 0 ? (const uint8_t *)b->base : NULL,
				   n > 0 ? (size_t)n : 0);

		if (r <= 0) {
			c->io.rx_len = 0;
			return;
		}
	}
	conn_advance(c);
	c->io.rx_len = 0;
}

/* MQTT 5 DISCONNECT (c->say_goodbye: 0x8B server shutting down, 0x9C use
 * another server: stop.redirect_to, 0x87 certificate revoked), then close.
 * Called only at a packet boundary of the broker's stream, so the client
 * can parse it. */
static void goodbye(struct conn *c)
{
	uint8_t pkt[160];
	int rc = c->say_goodbye ? c->say_goodbye
				: MQTT5_RC_SERVER_SHUTTING_DOWN;
	int n = mqtt_build_disconnect_v5(
		pkt, sizeof(pkt), (uint8_t)rc,
		rc == MQTT5_RC_NOT_AUTHORIZED	   ? "certificate revoked"
		: rc == MQTT5_RC_USE_ANOTHER_SERVER ? "use another server"
						    : "server shutting down",
		rc == MQTT5_RC_USE_ANOTHER_SERVER ? c->moat->cfg->stop_redirect_to
						  : NULL);

	c->say_goodbye = 0;
	if (n > 0) {
		CTR_ADD(c->bytes_out, (uint64_t)n);
		wolfSSL_write(c->ssl, pkt, n);
	}
	wolfSSL_shutdown(c->ssl);
	conn_finish(c);
}

static void on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	int r;

	if (n == 0)
		return;
	if (n < 0) {
		c->eof[SIDE_UPSTREAM] = 1;
		read_stop(c, SIDE_UPSTREAM);
		if (n != UV_EOF) {
			conn_close(c, "broker read error");
			return;
		}
		/* The broker ended the session: close_notify to the client,
		 * flush, close. */
		wolfSSL_shutdown(c->ssl);
		conn_finish(c);
		return;
	}
	if (c->say_goodbye) {
		/* Forward only the rest of the packet in flight, then leave. */
		n = (ssize_t)mqtt_framer_span(&c->fr[SIDE_UPSTREAM], (size_t)n);
		if (n == 0) {
			goodbye(c);
			return;
		}
	}
	r = mqtt_framer_feed(&c->fr[SIDE_UPSTREAM], (const uint8_t *)b->base,
			     (size_t)n, max);
	if (r < 0) {
		conn_close(c, r == MQTT_E_TOO_LARGE
				      ? "broker packet over max_packet_size"
				      : "broker sent a malformed packet");
		return;
	}
	CTR_ADD(c->bytes_out, (uint64_t)n);
	CTR_ADD(SRV_CTR(c)->bytes_out, (uint64_t)n);
	CTR_ADD(c->li->bytes_out, (uint64_t)n);
	CTR_ADD(UP_CTR(c)->bytes_out, (uint64_t)n);
	r = wolfSSL_write(c->ssl, b->base, (int)n);
	if (r != (int)n && c->state != CS_CLOSED) {
		conn_close(c, "client TLS write error");
		return;
	}
	if (c->say_goodbye && mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
		goodbye(c);
}

static void on_upstream_connect(uv_connect_t *req, int status);

static void on_upstream_closed_retry(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (c->state == CS_UPSTREAM) {
		c->handles--;
		upstream_try(c);
		return;
	}
	on_handle_closed(h); /* the connection was closed meanwhile */
}

static void upstream_failed(struct conn *c, const char *code)
{
	server_report(c->srv, false, code);
	CTR_ADD(SRV_CTR(c)->connect_fails, 1);
	c->srv = NULL;
	uv_timer_stop(&c->timer);
	c->upstream_open = 0;
	uv_close((uv_handle_t *)&c->upstream, on_upstream_closed_retry);
}

static void upstream_try(struct conn *c)
{
	struct moat *m = c->moat;
	const struct cfg_upstream *uc = c->up->cfg;
	uv_connect_t *req;
	int r;

	while (c->tries < c->n_order) {
		struct server *s = c->order[c->tries++];

		if (!server_usable(s))
			continue;
		uv_tcp_init(m->loop, &c->upstream);
		c->upstream.data = c;
		c->handles++;
		c->upstream_open = 1;
		c->srv = s;
		c->t0_ns = uv_hrtime();
		req = malloc(sizeof(*req));
		if (!req) { /* not the broker's fault */
			conn_close(c, "out of memory");
			return;
		}
		r = uv_tcp_connect(req, &c->upstream,
				   (const struct sockaddr *)&s->cfg->addr,
				   on_upstream_connect);
		if (r < 0) {
			free(req);
			upstream_failed(c, "L4CON");
			return;
		}
		uv_timer_start(&c->timer, on_timeout, uc->connect_timeout_ms,
			       0);
		return;
	}
	CTR_ADD(UP_CTR(c)->no_server, 1);
	conn_reject(c, REJ_NO_SERVER,
		    v5(c) ? MQTT5_RC_SERVER_UNAVAILABLE
			  : MQTT3_RC_SERVER_UNAVAILABLE);
}

/* The PROXY header for the broker: the client's address (as moat knows
 * it, from its own PROXY header if one was trusted), the address it
 * connected to, and for v2 the TLS session and the certificate's CN. */
static int send_proxy(struct conn *c)
{
	struct sockaddr_storage dst;
	int dl = sizeof(dst), n;
	uint8_t hdr[768];

	memset(&dst, 0, sizeof(dst));
	uv_tcp_getsockname(&c->client, (struct sockaddr *)&dst, &dl);
	if (c->up->cfg->send_proxy == CFG_PROXY_V1) {
		n = proxy_build_v1(hdr, sizeof(hdr),
				   (const struct sockaddr *)&c->peer,
				   (const struct sockaddr *)&dst);
	} else {
		struct proxy_tls t = {
			.has_cert = c->cert.has_cert,
			.verified = c->cert.has_cert && !c->cert.verify_err,
			.version = wolfSSL_get_version(c->ssl),
			.cipher = wolfSSL_get_cipher_name(c->ssl),
			.cn = c->cert.cn,
		};

		n = proxy_build_v2(hdr, sizeof(hdr),
				   (const struct sockaddr *)&c->peer,
				   (const struct sockaddr *)&dst, &t);
	}
	if (n < 0)
		return -1;
	return conn_write(c, SIDE_UPSTREAM, hdr, (size_t)n);
}

static void on_upstream_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->handle->data;
	struct server *s = c->srv;
	const uint8_t *rest;
	size_t nrest;
	char id[24];

	free(req);
	if (status == UV_ECANCELED || c->state != CS_UPSTREAM)
		return;
	if (status < 0) {
		upstream_failed(c, "L4CON");
		return;
	}
	uv_timer_stop(&c->timer);
	histo_observe(&c->moat->h_upstream_connect,
		      (double)(uv_hrtime() - c->t0_ns) / 1e9);
	uv_tcp_nodelay(&c->upstream, 1);
	CTR_ADD(SRV_CTR(c)->active, 1);
	c->srv_active = 1;
	CTR_ADD(SRV_CTR(c)->total, 1);
	CTR_ADD(UP_CTR(c)->total, 1);
	c->state = CS_SPLICE;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_INFO, "forward", "conn", id, "client_id", c->client_id,
		  "server", s->cfg->name, "subject", c->cert.subject, NULL);
	/* The CONNECT passed every check: now, and only now, the broker
	 * gets it, with whatever the client pipelined behind it. */
	if (c->up->cfg->send_proxy != CFG_PROXY_OFF && send_proxy(c) < 0) {
		conn_close(c, "broker write error");
		return;
	}
	rest = c->cbuf + c->connect_len;
	nrest = c->clen - c->connect_len;
	CTR_ADD(SRV_CTR(c)->bytes_in, c->connect_len);
	CTR_ADD(c->li->bytes_in, c->connect_len);
	CTR_ADD(UP_CTR(c)->bytes_in, c->connect_len);
	if (conn_write(c, SIDE_UPSTREAM, c->cbuf, c->connect_len) < 0) {
		conn_close(c, "broker write error");
		return;
	}
	if (nrest) {
		uint8_t *tmp = c->cbuf;

		c->bytes_in -= nrest; /* counted again by splice */
		c->cbuf = NULL;
		c->clen = c->ccap = 0;
		if (splice_to_upstream(c, rest, nrest) < 0) {
			free(tmp);
			return;
		}
		free(tmp);
	} else {
		free(c->cbuf);
		c->cbuf = NULL;
		c->clen = c->ccap = 0;
	}
	read_start(c, SIDE_UPSTREAM);
	if (c->io.eof) {
		client_eof(c);
		return;
	}
	read_start(c, SIDE_CLIENT);
}

static void on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	switch (c->state) {
	case CS_HANDSHAKE:
		CTR_ADD(c->moat->handshakes_failed, 1);
		conn_reject(c, REJ_HANDSHAKE_TIMEOUT, -1);
		break;
	case CS_CONNECT:
		conn_reject(c, REJ_CONNECT_TIMEOUT, -1);
		break;
	case CS_UPSTREAM:
		upstream_failed(c, "L4TOUT");
		break;
	case CS_CLOSING:
		conn_close(c, "flush timeout");
		break;
	default:
		break;
	}
}

void conn_on_accept(uv_stream_t *server, int status)
{
	struct listener *li = server->data;
	struct moat *m = li->moat;
	struct conn *c;
	int len = sizeof(c->peer);

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->moat = m;
	c->li = li;
	li->refs++;
	c->gen = m->gen;
	__atomic_add_fetch(&m->gen->refs, 1, __ATOMIC_RELAXED);
	c->lcfg = li->cfg;
	c->up = li->up;
	/* ids are unique across workers */
	c->id = __atomic_add_fetch(&m->main->next_conn_id, 1,
				   __ATOMIC_RELAXED);
	c->start_ms = util_now_ms();
	c->t0_ns = uv_hrtime();
	uv_tcp_init(m->loop, &c->client);
	c->client.data = c;
	uv_timer_init(m->loop, &c->timer);
	c->timer.data = c;
	c->handles = 2;
	mqtt_framer_init(&c->fr[0]);
	mqtt_framer_init(&c->fr[1]);
	uv_mutex_lock(&m->wlock);
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	uv_mutex_unlock(&m->wlock);
	CTR_ADD(m->conns_current, 1);
	__atomic_add_fetch(&m->main->live, 1, __ATOMIC_RELAXED);
	CTR_ADD(m->conns_total, 1);
	CTR_ADD(li->accepted, 1);
	CTR_ADD(li->active, 1);
	if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
		conn_close(c, "accept failed");
		return;
	}
	uv_tcp_getpeername(&c->client, (struct sockaddr *)&c->peer, &len);
	if (CTR_GET(m->main->live) >
	    c->gen->cfg->limits.max_connections) {
		conn_reject(c, REJ_MAX_CONNECTIONS, -1);
		return;
	}
	if (m->stopping) {
		conn_close(c, "stopping");
		return;
	}
	uv_tcp_nodelay(&c->client, 1);
	uv_timer_start(&c->timer, on_timeout,
		       c->gen->cfg->limits.handshake_timeout_ms, 0);
	c->proxy_wait = proxy_expected(c);
	if (!c->proxy_wait && conn_admit(c) < 0)
		return;
	read_start(c, SIDE_CLIENT);
}

/* Whether this client must start with a PROXY header: the listener asks
 * for one, and the peer is one of proxy_protocol_from (all, if empty). */
static int proxy_expected(const struct conn *c)
{
	const struct cfg_listener *l = c->lcfg;

	if (!l->proxy_protocol)
		return 0;
	if (!l->n_proxy_from)
		return 1;
	for (size_t i = 0; i < l->n_proxy_from; i++)
		if (util_cidr_match(&l->proxy_from[i],
				    (const struct sockaddr *)&c->peer))
			return 1;
	return 0;
}

/* Once the client's address is known (socket, or PROXY header): the
 * per-source limits, the log line, the TLS session. -1: closed. */
static int conn_admit(struct conn *c)
{
	struct moat *m = c->moat;
	const struct cfg_limits *lim = &c->gen->cfg->limits;
	char peer[64], id[24];

	if (lim->per_source_set &&
	    src_admit(m->sources, (const struct sockaddr *)&c->peer,
		      lim->per_source_max_connections,
		      lim->per_source_new_per_second, util_now_ms(),
		      &c->src) != SRC_OK) {
		conn_reject(c, REJ_PER_SOURCE, -1);
		return -1;
	}
	peer_str(c, peer, sizeof(peer));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_INFO, "conn_open", "conn", id, "peer", peer, "listener",
		  c->li->cfg->name, NULL);
	c->io.send = client_send;
	c->io.ocsp = conn_ocsp_io;
	c->io.arg = c;
	c->ocsp_w.wake = on_ocsp_wake;
	/* another worker is woken through its mailbox */
	c->ocsp_w.owner = m->idx ? &m->mbox_async : NULL;
	c->ssl = tls_session_new(c->li->tls, &c->io, &c->cert);
	if (!c->ssl) {
		conn_close(c, "out of memory");
		return -1;
	}
	return 0;
}

/* Bytes before the TLS ClientHello: the PROXY header. Returns 1 when the
 * connection goes on (with io.rx at what follows the header), 0 when more
 * is needed, -1 when it was refused. */
static int proxy_read(struct conn *c, const uint8_t *p, size_t n)
{
	struct sockaddr_storage src;
	size_t used, room;
	int r;

	if (!c->phdr && !(c->phdr = malloc(PROXY_MAX_HEADER))) {
		conn_close(c, "out of memory");
		return -1;
	}
	room = PROXY_MAX_HEADER - c->phdr_len;
	if (n > room) { /* more than a header: keep the rest for TLS */
		memcpy(c->phdr + c->phdr_len, p, room);
		c->phdr_len += room;
		r = proxy_parse(c->phdr, c->phdr_len, &src, &used);
		if (r == PROXY_DONE) {
			/* what follows the header is in p, past room */
			size_t extra = c->phdr_len - used;

			c->io.rx = p + room - extra;
			c->io.rx_len = n - room + extra;
		}
	} else {
		if (n)
			memcpy(c->phdr + c->phdr_len, p, n);
		c->phdr_len += n;
		r = proxy_parse(c->phdr, c->phdr_len, &src, &used);
		if (r == PROXY_DONE) {
			c->io.rx = p + n - (c->phdr_len - used);
			c->io.rx_len = c->phdr_len - used;
		}
	}
	if (r == PROXY_AGAIN && !c->io.eof)
		return 0;
	if (r == PROXY_AGAIN && c->phdr_len == 0) {
		/* a port probe (a balancer's health check): not a reject */
		conn_close(c, "client closed before the PROXY header");
		return -1;
	}
	if (r != PROXY_DONE) {
		conn_reject(c, REJ_BAD_PROXY, -1);
		return -1;
	}
	if (src.ss_family != AF_UNSPEC) /* IPv4 or IPv6: fits */
		memcpy(&c->peer, &src, sizeof(c->peer));
	c->proxy_wait = 0;
	/* the header came within handshake_timeout; TLS gets its own */
	uv_timer_start(&c->timer, on_timeout,
		       c->gen->cfg->limits.handshake_timeout_ms, 0);
	free(c->phdr);
	c->phdr = NULL;
	return conn_admit(c) < 0 ? -1 : 1;
}

void conn_close_all(struct moat *m)
{
	struct conn *next;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		conn_close(c, "shutdown");
	}
}

void conn_kill(struct conn *c, const char *why)
{
	conn_close(c, why);
}

void conn_stop_all(struct moat *m)
{
	struct conn *next;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if (c->state != CS_SPLICE) {
			if (c->state < CS_CLOSING)
				conn_close(c, "shutdown");
			continue;
		}
		if (c->version != MQTT_V5)
			continue;
		c->say_goodbye = m->cfg->stop_redirect_to
					 ? MQTT5_RC_USE_ANOTHER_SERVER
					 : MQTT5_RC_SERVER_SHUTTING_DOWN;
		if (mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
			goodbye(c);
	}
}

/* ---- OCSP during the handshake ---- */

static void on_ocsp_wake(struct ocsp_waiter *w)
{
	struct conn *c = (struct conn *)((char *)w -
					 offsetof(struct conn, ocsp_w));

	if (c->state == CS_HANDSHAKE)
		conn_advance(c);
}

static int conn_ocsp_io(void *arg, const char *url, int url_len,
			const uint8_t *req, int req_len, uint8_t **resp)
{
	struct conn *c = arg;
	const struct cfg_ocsp *o = &c->lcfg->tls.ocsp;
	struct ocsp_opts opts = {o->timeout_ms, o->stale_if_error_ms,
				 o->max_age_ms};
	uint8_t *r = NULL;
	size_t rl;

	if (url_len <= 0 || req_len <= 0)
		return -1;
	if (tls_is_staple_request(c->io.tls, req, (size_t)req_len)) {
		/* wolfSSL wants the staple for our own certificate */
		static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01,
						    0x03};
		size_t sl = 0;

		*resp = tls_staple_get(c->io.tls, c->moat->ocsp, req,
				       (size_t)req_len, &sl);
		/* No staple this time: wolfSSL sends none when handed an
		 * OCSP "tryLater" (but fails the handshake, and frees its
		 * request twice, on a plain error). */
		if (!*resp) {
			if (!(*resp = malloc(sizeof(try_later))))
				return -1;
			memcpy(*resp, try_later, sizeof(try_later));
			sl = sizeof(try_later);
		}
		return (int)sl;
	}
	switch (c->ocsp_w.outcome) {
	case OCSP_OUT_FAIL:
		c->ocsp_w.outcome = OCSP_OUT_NONE;
		c->cert.ocsp_io_failed = 1;
		return -1;
	case OCSP_OUT_STALE:
		c->ocsp_w.outcome = OCSP_OUT_NONE;
		c->cert.ocsp_io_stale = 1;
		return -1;
	default:
		break;
	}
	switch (ocsp_lookup(c->moat->ocsp, url, (size_t)url_len, req,
			    (size_t)req_len, &opts, &c->ocsp_w, &r, &rl)) {
	case OCSP_LK_ANSWER:
		*resp = r; /* wolfSSL frees it */
		/* wolfSSL asks for the chain top down: the last answer is the
		 * leaf's, held (and kept fresh) while this connection lives */
		ocsp_release(c->moat->ocsp, c->ocsp_e);
		c->ocsp_e = ocsp_hold(c->moat->ocsp, req, (size_t)req_len);
		return (int)rl;
	case OCSP_LK_WAIT:
		return WOLFSSL_CBIO_ERR_WANT_READ;
	default:
		c->cert.ocsp_io_failed = 1;
		return -1;
	}
}

/* ---- revoked live sessions ---- */

static void on_revoke_timeout(uv_timer_t *t)
{
	conn_close(t->data, "certificate revoked");
}

static void revoke_one(struct conn *c, const char *source)
{
	struct moat *m = c->moat;
	char id[24], peer[64];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	peer_str(c, peer, sizeof(peer));
	log_event(LOG_WARN, "revoked_close", "conn", id, "peer", peer,
		  "subject", c->cert.subject, "serial", c->cert.serial,
		  "client_id", c->client_id, "source", source, NULL);
	CTR_ADD(m->revoked_closed, 1);
	if (c->state != CS_SPLICE || c->version != MQTT_V5) {
		conn_close(c, "certificate revoked");
		return;
	}
	c->say_goodbye = MQTT5_RC_NOT_AUTHORIZED;
	if (mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM])) {
		goodbye(c);
		return;
	}
	/* mid-packet from the broker: the rest of it, then DISCONNECT, or
	 * a plain close if it does not come soon */
	uv_timer_start(&c->timer, on_revoke_timeout, FLUSH_TIMEOUT_MS, 0);
}

static int live(const struct conn *c)
{
	return c->state >= CS_CONNECT && c->state < CS_CLOSING &&
	       c->lcfg->tls.revoked_live == CFG_REVOKED_CLOSE;
}

int conn_revoked(struct moat *m, const char *serial, const char *source)
{
	struct conn *next;
	int n = 0;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if (live(c) && c->cert.serial &&
		    strcasecmp(c->cert.serial, serial) == 0) {
			revoke_one(c, source);
			n++;
		}
	}
	return n;
}

int conn_recheck_crl(struct moat *m)
{
	struct conn *next;
	int n = 0;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if (!live(c) || !c->li->tls || !c->li->open)
			continue;
		/* by issuer and serial: a resumed session has no DER */
		if (tls_peer_crl_revoked(c->li->tls, &c->cert)) {
			revoke_one(c, "crl");
			n++;
		}
	}
	return n;
}
