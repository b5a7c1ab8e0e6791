/* splice.c - the forwarding stage: plaintext from the client to the
 * broker (as it comes, or walked packet by packet through enrollment and
 * the topic rules) and from the broker (encrypted) to the client, each
 * direction's MQTT framing checked against max_packet_size, half-closes
 * passed on, and a pending DISCONNECT (stop, revocation) sent at a packet
 * boundary. */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "upstream/server.h"
#include "conn/internal.h"

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

static void count_in(struct conn *c, size_t n)
{
	CTR_ADD(c->bytes_in, n);
	CTR_ADD(SRV_CTR(c)->bytes_in, n);
	CTR_ADD(c->li->bytes_in, n);
	CTR_ADD(UP_CTR(c)->bytes_in, n);
}

/* What was read is on its way; more waits if the rate says so. */
static int rate_in(struct conn *c, size_t n)
{
	if (c->rate && c->state == CS_SPLICE)
		return conn_rate_account(c, n);
	return 0;
}

/* Bytes the framer passed: count them and write them to the broker. */
static int conn_splice_in_ok(struct conn *c, const uint8_t *p, size_t n)
{
	count_in(c, n);
	if (conn_write(c, SIDE_UPSTREAM, p, n) < 0) {
		conn_close(c, "broker write error");
		return -1;
	}
	return rate_in(c, n);
}

/* A client packet moat cannot take: forbidden (MQTT_E_FORBIDDEN: the
 * framer's type says which), too large or malformed. */
static void bad_in(struct conn *c, int err)
{
	if (err == MQTT_E_FORBIDDEN) {
		conn_violation(c, c->fr[SIDE_CLIENT].type);
		return;
	}
	conn_reject(
	    c, err == MQTT_E_TOO_LARGE ? REJ_PACKET_TOO_LARGE : REJ_BAD_CONNECT,
	    -1);
}

/* Plaintext from the client to the broker as it comes, the framing
 * checked. */
static int conn_splice_fwd(struct conn *c, const uint8_t *p, size_t n)
{
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	struct mqtt_framer *fr = &c->fr[SIDE_CLIENT];
	int r = mqtt_framer_feed(fr, p, n, max);

	if (r == MQTT_E_FORBIDDEN) {
		/* what came before it goes on; the packet does not */
		if (fr->stop && conn_splice_in_ok(c, p, fr->stop) < 0)
			return -1;
	}
	if (r < 0) {
		bad_in(c, r);
		return -1;
	}
	return conn_splice_in_ok(c, p, n);
}

/* ---- the client's packets walked: enrollment, framing, topic rules ---- */

static uint16_t whole_in(struct conn *c)
{
	uint16_t w = c->enr ? conn_enroll_whole(c) : 0;

	if (c->acl && !conn_enroll_kind(c))
		w |= conn_acl_whole_in(c);
	return w;
}

/* The topic rules see a PUBLISH's whole topic, enrollment its start. */
static size_t topic_in(struct conn *c)
{
	return c->acl && !conn_enroll_kind(c) ? SIZE_MAX : conn_enroll_topic(c);
}

/* Enrollment first (what it takes never reaches the framing or the rules,
 * as if never sent to the broker), then what the framer checks of a
 * packet passed as it comes, then the topic rules. */
static int judge_in(struct conn *c, const uint8_t *pre,
		    const struct mqtt_peek *pk, uint8_t *out, size_t cap,
		    size_t *outlen)
{
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	struct mqtt_framer *fr = &c->fr[SIDE_CLIENT];
	int r;

	if (c->enr && (r = conn_enroll_judge(c, pre, pk)) != WALK_PASS)
		return r;
	if (fr->forbid & (1u << pk->type)) {
		fr->type = pre[0];
		return MQTT_E_FORBIDDEN;
	}
	if (max && pk->total > max) {
		conn_reject(c, REJ_PACKET_TOO_LARGE, -1);
		return WALK_STOP;
	}
	fr->publishes += pk->type == MQTT_PUBLISH;
	if (c->acl)
		return conn_acl_judge_in(c, pre, pk, out, cap, outlen);
	return WALK_PASS;
}

static int to_broker(struct conn *c, const uint8_t *p, size_t n)
{
	if (conn_write(c, SIDE_UPSTREAM, p, n) < 0) {
		if (c->state != CS_CLOSED)
			conn_close(c, "broker write error");
		return -1;
	}
	return 0;
}

static const struct walk_ops ops_in = {
    .whole = whole_in,
    .topic = topic_in,
    .judge = judge_in,
    .bad = bad_in,
    .sink = to_broker,
    .take = conn_enroll_take,
    .taken = conn_enroll_taken,
};

int conn_splice_in(struct conn *c, const uint8_t *p, size_t n)
{
	size_t given;

	if (!c->enr && !c->acl)
		return conn_splice_fwd(c, p, n);
	if (!c->in && !(c->in = calloc(1, sizeof(*c->in)))) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (conn_acl_stopped(c) ||
	    walk_feed(c, c->in, p, n, &ops_in, &given) < 0)
		return -1;
	/* none when enrollment took all (an enroll-only session has no
	 * broker to count) */
	if (!given)
		return 0;
	count_in(c, given);
	return rate_in(c, given);
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

	if (!req ||
	    uv_shutdown(req, (uv_stream_t *)&c->upstream, on_shutdown) < 0) {
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
	if (c->acl &&
	    c->state == CS_SPLICE) /* moat's answers, between packets */
		conn_acl_flush(c);
	if (c->say_goodbye && mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]))
		conn_goodbye(c);
}
