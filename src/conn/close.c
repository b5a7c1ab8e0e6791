/* close.c - every way out: conn_reject() counts, logs (rate-limited
 * per cause) and answers a refused client; conn_finish() flushes what the
 * client is owed, half-closes and lingers; conn_close() closes the handles
 * now; the struct is freed by the last close callback, never before.
 * Also the graceful stop (DISCONNECT 0x8B) and closing on shutdown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/claims.h"
#include "base/log.h"
#include "base/persource.h"
#include "upstream/server.h"
#include "conn/internal.h"

void conn_setup_free(struct conn *c)
{
	struct conn_setup *su = c->su;

	if (!su)
		return;
	ocsp_cancel(c->moat->ocsp, &su->ocsp_w);
	scratch_free(su->phdr);
	scratch_free(su->cbuf);
	scratch_free(su);
	c->su = NULL;
}

void conn_on_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles)
		return;
	/* Last handle closed: no callback can reach c any more. */
	if (c->ssl)
		wolfSSL_free(c->ssl);
	conn_setup_free(c);
	tls_io_free(&c->io);
	conn_ws_free(c);
	conn_est_free(c);
	scratch_free(c->cork);
	tls_peer_clear(&c->cert);
	free(c->client_id);
	free(c->token_ident);
	conn_acl_free(c);
	if (c->in) {
		walk_free(c->in);
		free(c->in);
	}
	free(c->rate);
	jwt_doc_free(c->token_doc);
	conn_enroll_free(c);
	gen_put(c->gen);
	listener_put(c->li);
	free(c);
}

/* Close every handle now; the struct is freed by the last close callback. */
void conn_close(struct conn *c, const char *why)
{
	struct moat *m = c->moat;
	char peer[64], age[32], bin[32], bout[32], id[24];

	if (c->state == CS_CLOSED)
		return;
	conn_peer_str(c, peer, sizeof(peer));
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
	if (c->su)
		ocsp_cancel(c->moat->ocsp, &c->su->ocsp_w);
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
	uv_close((uv_handle_t *)&c->timer, conn_on_handle_closed);
	conn_rate_close(c);
	uv_close((uv_handle_t *)&c->client, conn_on_handle_closed);
	conn_upstream_close(c);
}

static void on_linger_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* The client's queue is out: send FIN and read (discarding) until the
 * client closes or the flush timer fires. Closing at once could turn our
 * FIN into a RST while the client still has unread bytes in our socket,
 * and the client would never read its alert or CONNACK. */
void conn_linger_start(struct conn *c)
{
	uv_shutdown_t *req = c->io.eof ? NULL : malloc(sizeof(*req));

	if (!req || uv_shutdown(req, (uv_stream_t *)&c->client,
				on_linger_shutdown) < 0) {
		free(req);
		conn_close(c, NULL);
		return;
	}
	if (!c->reading[SIDE_CLIENT] &&
	    uv_read_start((uv_stream_t *)&c->client, conn_on_alloc,
			  conn_on_client_read) == 0)
		c->reading[SIDE_CLIENT] = 1;
}

/* Drop the broker, send what is queued to the client (an alert, a
 * CONNACK, a close_notify), then close. */
void conn_finish(struct conn *c)
{
	if (c->state >= CS_CLOSING)
		return;
	if (c->corked) { /* the alert or CONNACK (with the ticket) goes now */
		conn_uncork(c);
		if (c->state == CS_CLOSED)
			return;
	}
	c->state = CS_CLOSING;
	conn_read_stop(c, SIDE_UPSTREAM);
	conn_upstream_close(c);
	uv_timer_start(&c->timer, conn_on_timeout, FLUSH_TIMEOUT_MS, 0);
	if (c->wq[SIDE_CLIENT] == 0)
		conn_linger_start(c);
	else
		conn_read_stop(c, SIDE_CLIENT);
}

/* A flood of rejects of one cause is logged at REJECT_LOG_PER_S lines a
 * second; the rest are counted and summed up once a second by
 * conn_reject_log_flush(). The reject counters are never limited. */
#define REJECT_LOG_PER_S 20

int conn_reject_log_allowed(struct moat *m, enum reject_cause why)
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
void conn_reject(struct conn *c, enum reject_cause why, int code)
{
	struct moat *m = c->moat;
	char peer[64], id[24], cbuf[16];
	uint8_t pkt[8];

	CTR_ADD(m->rejects[why], 1);
	CTR_ADD(c->li->rejects[why], 1);
	conn_peer_str(c, peer, sizeof(peer));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (code >= 0)
		snprintf(cbuf, sizeof(cbuf), "0x%02x", code);
	if (conn_reject_log_allowed(m, why))
		log_event(LOG_WARN, "reject", "conn", id, "peer", peer, "cause",
		  reject_name(why), "subject", c->cert.subject, "serial",
		  c->cert.serial, "client_id", c->client_id, "connack",
		  code >= 0 ? cbuf : NULL, "detail", c->why, NULL);
	if (code >= 0 && c->version) {
		size_t n = mqtt_build_connack(pkt, c->version, (uint8_t)code);

		CTR_ADD(c->bytes_out, n);
		conn_tx_mqtt(c, pkt, n);
	}
	if (!c->ssl && c->state == CS_HANDSHAKE) {
		/* Nothing to say before TLS (max_connections, per-source
		 * limits, a bad PROXY header): close now rather than linger,
		 * so that a flood of them holds no descriptors (which the
		 * max_connections budget guards, see fd_budget) */
		conn_close(c, reject_name(why));
		return;
	}
	if (c->ws && c->ws->upgraded)
		c->ws->close_code = why == REJ_PACKET_TOO_LARGE
					    ? WS_CLOSE_TOO_BIG
				    : why == REJ_WS_PROTOCOL
					    ? c->ws->close_code
					    : WS_CLOSE_POLICY;
	if (c->state > CS_HANDSHAKE)
		conn_tx_end(c);
	conn_finish(c);
}

/* MQTT 5 DISCONNECT (c->say_goodbye: 0x8B server shutting down, 0x87
 * certificate revoked), then close. Called only at a packet boundary of
 * the broker's stream, so the client can parse it. */
void conn_refuse(struct conn *c, enum reject_cause why)
{
	conn_reject(c, why, reject_connack(why, c->version));
}

void conn_goodbye(struct conn *c)
{
	uint8_t pkt[1100]; /* room for a 1024-byte stop.redirect_to */
	int rc = c->say_goodbye ? c->say_goodbye
				: MQTT5_RC_SERVER_SHUTTING_DOWN;
	const char *ref = rc == MQTT5_RC_USE_ANOTHER_SERVER
				  ? c->moat->cfg->stop_redirect_to
				  : NULL;
	int n = mqtt_build_disconnect_v5(
		pkt, sizeof(pkt), (uint8_t)rc,
		c->bye_why			    ? c->bye_why
		: rc == MQTT5_RC_USE_ANOTHER_SERVER ? "use another server"
						    : "server shutting down",
		ref);

	c->say_goodbye = 0;
	if (n > 0 && c->client_max && (uint32_t)n > c->client_max)
		/* over the client's Maximum Packet Size: the bare DISCONNECT
		 * (4 bytes), or none when even that does not fit */
		n = c->client_max >= 4 ? (int)mqtt_build_disconnect(
						 pkt, MQTT_V5, (uint8_t)rc)
				       : 0;
	if (n > 0) {
		CTR_ADD(c->bytes_out, (uint64_t)n);
		conn_tx_mqtt(c, pkt, (size_t)n);
	}
	/* WebSocket: going away (stop, drain), a policy (revoked, expired),
	 * a protocol error (a packet a client may not send) */
	if (c->ws)
		c->ws->close_code = rc == MQTT5_RC_NOT_AUTHORIZED ? WS_CLOSE_POLICY
				    : rc == MQTT5_RC_PROTOCOL_ERROR
					    ? WS_CLOSE_PROTOCOL
					    : WS_CLOSE_GOING_AWAY;
	conn_tx_end(c);
	conn_finish(c);
}

void conn_close_all(struct moat *m)
{
	struct conn *next;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		conn_close(c, "shutdown");
	}
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
		/* with somewhere else to go, say where (MQTT 5, 4.11) */
		c->say_goodbye = m->cfg && m->cfg->stop_redirect_to
					 ? MQTT5_RC_USE_ANOTHER_SERVER
					 : MQTT5_RC_SERVER_SHUTTING_DOWN;
		if (mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
			conn_goodbye(c);
	}
}
