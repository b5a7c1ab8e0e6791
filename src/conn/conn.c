/* conn.c - moving a connection along. conn_advance() is the one place
 * where a connection goes on from what its client sent: the handshake
 * while it runs, then the plaintext by state; conn_on_timeout() is the one
 * place where the state's deadline strikes. Also the read-only view of
 * connections that the operations layer gets (conn_each). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/server.h"
#include "conn/internal.h"

const char *conn_state_name(enum conn_state s)
{
	static const char *names[] = {"handshake", "websocket", "connect",
				      "est",	   "upstream",	"splice",
				      "closing",   "closed"};

	return s <= CS_CLOSED ? names[s] : "?";
}

void conn_peer_str(const struct conn *c, char *buf, size_t len)
{
	util_addr_str((const struct sockaddr *)&c->peer, buf, len);
}

/* The client's plaintext: decrypted, or as it came (ws:// without TLS).
 * wolfSSL_read's answer; on r <= 0, *e says why. */
static int client_read(struct conn *c, uint8_t *p, size_t cap, int *e)
{
	int r;

	if (c->ssl) {
		r = wolfSSL_read(c->ssl, p, (int)cap);
		if (r <= 0)
			*e = wolfSSL_get_error(c->ssl, r);
		return r;
	}
	if (!c->io.rx_len) {
		*e = c->io.eof ? WOLFSSL_ERROR_ZERO_RETURN
			       : WOLFSSL_ERROR_WANT_READ;
		return -1;
	}
	r = (int)(c->io.rx_len < cap ? c->io.rx_len : cap);
	memcpy(p, c->io.rx, (size_t)r);
	c->io.rx += r;
	c->io.rx_len -= (size_t)r;
	return r;
}

/* Decrypt what the client sent and hand it on, by state. */
static void conn_client_pump(struct conn *c)
{
	struct moat *m = c->moat;

	/* Forwarding, the plaintext of several TLS records goes to the
	 * broker in one write: a record per small PUBLISH is common. */
	size_t held = 0;

	while (c->state == CS_WS || c->state == CS_CONNECT ||
	       c->state == CS_EST || c->state == CS_UPSTREAM ||
	       c->state == CS_SPLICE) {
		int e = 0, ws_eof = 0;
		int r = client_read(c, m->pbuf + held,
				    sizeof(m->pbuf) - held, &e);

		if (r > 0 && c->ws) { /* frames in, MQTT out (in place) */
			r = conn_ws_in(c, m->pbuf + held, (size_t)r, &ws_eof);
			if (r < 0)
				return;
			if (ws_eof) /* the client's close frame: its EOF */
				c->io.eof = 1;
			if (r == 0 && !ws_eof)
				continue;
		}
		if (r <= 0 && !ws_eof) {
			if (held && conn_splice_in(c, m->pbuf, held) < 0)
				return;
			held = 0;
			if (e == WOLFSSL_ERROR_WANT_READ && !c->io.eof)
				return;
			if (e == WOLFSSL_ERROR_WANT_READ ||
			    e == WOLFSSL_ERROR_ZERO_RETURN ||
			    e == SOCKET_PEER_CLOSED_E) {
				conn_client_eof(c);
				return;
			}
			conn_close(c, "client TLS error");
			return;
		}
		if (ws_eof) { /* what came before the close, then the EOF */
			if (c->state == CS_SPLICE) {
				if (held + (size_t)r &&
				    conn_splice_in(c, m->pbuf,
						   held + (size_t)r) < 0)
					return;
			} else if (c->state == CS_CONNECT && r) {
				CTR_ADD(c->bytes_in, (uint64_t)r);
				if (conn_connect_buffer(c, m->pbuf + held,
							(size_t)r) == 0)
					conn_connect_check(c);
			}
			if (c->state < CS_CLOSING)
				conn_ws_closed(c);
			return;
		}
		if (c->state == CS_SPLICE) {
			held += (size_t)r;
			/* room for another full record, or flush now */
			if (sizeof(m->pbuf) - held < 16384 + 1024) {
				if (conn_splice_in(c, m->pbuf, held) < 0)
					return;
				held = 0;
			}
			continue;
		}
		CTR_ADD(c->bytes_in, (uint64_t)r);
		/* an HTTP request instead of a CONNECT: EST (never a broker) */
		if (c->state == CS_CONNECT && !c->su->clen &&
		    conn_est_wants(c, m->pbuf[0]))
			c->state = CS_EST;
		if (c->state == CS_EST) {
			conn_est_in(c, m->pbuf, (size_t)r);
			continue;
		}
		if (conn_connect_buffer(c, m->pbuf, (size_t)r) < 0) {
			conn_close(c, "out of memory");
			return;
		}
		if (c->state == CS_CONNECT)
			conn_connect_check(c);
		else if (c->su->clen - c->su->connect_len > PIPELINE_MAX)
			conn_read_stop(c, SIDE_CLIENT);
	}
}

/* The one place where a connection moves on from what the client sent:
 * the handshake while it runs, then the plaintext by state (CONNECT being
 * read, broker being connected, forwarding). */
void conn_advance(struct conn *c)
{
	if (c->state == CS_HANDSHAKE && !conn_handshake_step(c))
		return;
	conn_client_pump(c);
}

void conn_on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
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
		conn_read_stop(c, SIDE_CLIENT);
		if (n != UV_EOF) {
			conn_close(c, "client read error");
			return;
		}
	} else {
		c->io.rx = (const uint8_t *)b->base;
		c->io.rx_len = (size_t)n;
	}
	if (c->proxy_wait) {
		int r = conn_proxy_read(c, n > 0 ? (const uint8_t *)b->base : NULL,
				   n > 0 ? (size_t)n : 0);

		if (r <= 0) {
			c->io.rx_len = 0;
			return;
		}
	}
	conn_advance(c);
	c->io.rx_len = 0;
}

void conn_on_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	switch (c->state) {
	case CS_HANDSHAKE:
		CTR_ADD(c->moat->handshakes_failed, 1);
		conn_refuse(c, REJ_HANDSHAKE_TIMEOUT);
		break;
	case CS_CONNECT:
		conn_refuse(c, REJ_CONNECT_TIMEOUT);
		break;
	case CS_EST:
		conn_est_timeout(c);
		break;
	case CS_UPSTREAM: /* this address's time is up */
		dial_timed_out(&c->su->dial);
		break;
	case CS_CLOSING:
		conn_close(c, "flush timeout");
		break;
	default:
		break;
	}
}

void conn_each(struct moat *w, void (*fn)(const struct conn_info *ci,
					  void *arg),
	       void *arg)
{
	/* a worker unlinks a connection under this lock before it frees
	 * it: what fn sees stays readable */
	uv_mutex_lock(&w->wlock);
	for (struct conn *c = w->conns; c; c = c->next) {
		struct conn_info ci = {
			.id = c->id,
			.peer = (const struct sockaddr *)&c->peer,
			.subject = c->cert.subject,
			.serial = c->cert.serial,
			.not_after = c->cert.has_cert ? c->cert.not_after : 0,
			.identity = c->token_ident
					    ? c->token_ident
					    : tls_peer_identity(
						      &c->cert,
						      c->lcfg->mqtt.identity),
			.via = conn_enroll_kind(c) == ENROLL_ONLY_CLAIM ? "claim"
			       : conn_enroll_kind(c) == ENROLL_ONLY_GRACE ? "grace"
			       : c->token_ident			 ? "token"
			       : c->cert.has_cert		 ? "cert"
						 : "-",
			.client_id = c->client_id,
			.server = c->srv ? c->srv->cfg->name : NULL,
			.state = conn_state_name(c->state),
			.transport = c->lcfg->ws.on ? "ws"
				     : c->est	    ? "est"
						    : "tcp",
			.closing = c->state >= CS_CLOSING,
			.start_ms = c->start_ms,
			.bytes_in = CTR_GET(c->bytes_in),
			.bytes_out = CTR_GET(c->bytes_out),
			.queued_client = CTR_GET(c->wq[SIDE_CLIENT]),
			.queued_broker = CTR_GET(c->wq[SIDE_UPSTREAM]),
		};

		fn(&ci, arg);
	}
	uv_mutex_unlock(&w->wlock);
}

int conn_matches(const struct conn_info *ci, const struct conn_match *k)
{
	return !ci->closing &&
	       (k->by_id ? ci->id == k->id
			 : (ci->client_id &&
			    strcmp(ci->client_id, k->client_id) == 0));
}

int conn_kill_matching(struct moat *w, const struct conn_match *k,
		       const char *why)
{
	struct conn *next;
	int n = 0;

	for (struct conn *c = w->conns; c; c = next) {
		struct conn_info ci = {.id = c->id,
				       .client_id = c->client_id,
				       .closing = c->state >= CS_CLOSING};

		next = c->next;
		if (conn_matches(&ci, k)) {
			conn_close(c, why);
			n++;
		}
	}
	return n;
}
