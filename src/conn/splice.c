/* splice.c - the forwarding stage: plaintext from the client to the
 * broker and from the broker (encrypted) to the client, each direction's
 * MQTT framing checked against max_packet_size, half-closes passed on,
 * and a pending DISCONNECT (stop, revocation) sent at a packet boundary. */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "upstream/server.h"
#include "conn/internal.h"

static int conn_splice_in_ok(struct conn *c, const uint8_t *p, size_t n);

/* After its CONNECT a client may send only what MQTT lets a client send:
 * not a second CONNECT (a broker would take it for a new session of
 * whoever it names), not what only a server sends, and no AUTH unless the
 * listener passes MQTT 5 enhanced authentication through. */
#define CLIENT_FORBID                                                          \
	((1u << 0) | (1u << MQTT_CONNECT) | (1u << MQTT_CONNACK) |             \
	 (1u << MQTT_SUBACK) | (1u << MQTT_UNSUBACK) | (1u << MQTT_PINGRESP))

void conn_splice_init(struct conn *c)
{
	c->fr[SIDE_CLIENT].forbid =
	    (uint16_t)(CLIENT_FORBID |
		       (c->lcfg->mqtt.enhanced_auth ? 0 : 1u << MQTT_AUTH));
}

/* The client sent a packet it may not: nothing more is read from it, and
 * the session ends (MQTT 5: DISCONNECT 0x82 Protocol Error first). */
static void conn_violation(struct conn *c, uint8_t type)
{
	struct moat *m = c->moat;
	char id[24], t[8];

	CTR_ADD(m->rejects[REJ_PROTOCOL_VIOLATION], 1);
	CTR_ADD(c->li->rejects[REJ_PROTOCOL_VIOLATION], 1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	snprintf(t, sizeof(t), "%u", type >> 4);
	log_event(LOG_WARN, "reject", "conn", id, "cause",
		  reject_name(REJ_PROTOCOL_VIOLATION), "subject",
		  c->cert.subject, "client_id", c->client_id, "packet_type", t,
		  NULL);
	conn_read_stop(c, SIDE_CLIENT);
	c->eof[SIDE_CLIENT] = 1; /* and never read again */
	conn_end_live_rc(c, MQTT5_RC_PROTOCOL_ERROR,
			 (type >> 4) == MQTT_CONNECT ? "second CONNECT"
			 : (type >> 4) == MQTT_AUTH  ? "AUTH not accepted"
						     : "packet not allowed "
						       "from a client");
}

/* Forward plaintext from the client to the broker: walked packet by
 * packet when enrollment is on (enroll.c), else as it comes. */
int conn_splice_in(struct conn *c, const uint8_t *p, size_t n)
{
	return c->enr ? conn_enroll_in(c, p, n) : conn_splice_fwd(c, p, n);
}

/* Forward plaintext from the client to the broker, checking the framing. */
int conn_splice_fwd(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	struct mqtt_framer *fr = &c->fr[SIDE_CLIENT];
	int r = mqtt_framer_feed(fr, p, n, max);

	if (r == MQTT_E_FORBIDDEN) {
		/* what came before it goes on; the packet does not */
		if (fr->stop && conn_splice_in_ok(c, p, fr->stop) < 0)
			return -1;
		conn_violation(c, fr->type);
		return -1;
	}
	if (r < 0) {
		conn_reject(c,
			    r == MQTT_E_TOO_LARGE ? REJ_PACKET_TOO_LARGE
						  : REJ_BAD_CONNECT,
			    -1);
		return -1;
	}
	return conn_splice_in_ok(c, p, n);
}

/* Bytes the framer passed: count them and write them to the broker. */
static int conn_splice_in_ok(struct conn *c, const uint8_t *p, size_t n)
{
	CTR_ADD(c->bytes_in, n);
	CTR_ADD(SRV_CTR(c)->bytes_in, n);
	CTR_ADD(c->li->bytes_in, n);
	CTR_ADD(UP_CTR(c)->bytes_in, n);
	if (c->acl) { /* packet by packet, through the topic rules */
		if (conn_acl_in(c, p, n) < 0)
			return -1;
	} else if (conn_write(c, SIDE_UPSTREAM, p, n) < 0) {
		conn_close(c, "broker write error");
		return -1;
	}
	/* what was read is on its way; more waits if the rate says so */
	if (c->rate && c->state == CS_SPLICE)
		return conn_rate_account(c, n);
	return 0;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

/* The client has finished sending (close_notify or TCP FIN). */
void conn_client_eof(struct conn *c)
{
	uv_shutdown_t *req;

	c->eof[SIDE_CLIENT] = 1;
	conn_read_stop(c, SIDE_CLIENT);
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

void conn_on_upstream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	int r;

	if (n == 0)
		return;
	if (n < 0) {
		c->eof[SIDE_UPSTREAM] = 1;
		conn_read_stop(c, SIDE_UPSTREAM);
		if (n != UV_EOF) {
			conn_close(c, "broker read error");
			return;
		}
		/* The broker ended the session: close_notify to the client,
		 * flush, close. */
		conn_tx_end(c);
		conn_finish(c);
		return;
	}
	if (c->say_goodbye) {
		/* Forward only the rest of the packet in flight, then leave. */
		n = (ssize_t)mqtt_framer_span(&c->fr[SIDE_UPSTREAM], (size_t)n);
		if (n == 0) {
			conn_goodbye(c);
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
	/* one TLS write (one WebSocket frame) for what this read brought;
	 * with topic rules, packet by packet (SUBACKs widened) */
	if (c->acl) {
		if (conn_acl_out(c, (uint8_t *)b->base, (size_t)n) < 0)
			return;
	} else if (conn_tx_framed(c, (uint8_t *)b->base, (size_t)n) < 0 &&
		   c->state != CS_CLOSED) {
		conn_close(c, "client write error");
		return;
	}
	if (c->corked) /* the CONNACK, with the session ticket before it */
		conn_uncork(c);
	conn_enroll_flush(c);
	if (c->acl && c->state == CS_SPLICE) /* moat's answers, between packets */
		conn_acl_flush(c);
	if (c->say_goodbye && mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
		conn_goodbye(c);
}
