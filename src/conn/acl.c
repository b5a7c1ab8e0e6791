/* acl.c - a session's packets through its topic rules, as walk.c brings
 * them (the client's by way of splice.c): each PUBLISH, SUBSCRIBE, UNSUBSCRIBE
 * and (after a denied QoS 2) PUBREL from the client; a denied PUBLISH is
 * answered by moat and dropped, a SUBSCRIBE loses its denied filters and the
 * broker's SUBACK is widened back; moat's own answers wait for a packet
 * boundary of the broker's stream. No allocation per packet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "codec/topic.h"
#include "conn/acl.h"

/* ---- moat's answers to the client ---- */

bool conn_acl_out_boundary(const struct conn *c)
{
	/* after the broker's CONNACK, between two of its packets */
	return c->state == CS_SPLICE && c->fr[SIDE_UPSTREAM].packets > 0 &&
	       mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]) &&
	       (!c->acl || walk_at_boundary(&c->acl->out));
}

static int to_client(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->state == CS_CLOSED)
		return -1;
	if (conn_tx_mqtt(c, p, n) < 0) { /* TLS, WebSocket frame or both */
		if (c->state != CS_CLOSED)
			conn_close(c, "client TLS write error");
		return -1;
	}
	return 0;
}

bool conn_acl_held(const struct conn *c)
{
	return c->acl && c->acl->alen > ACL_ANS / 2;
}

void conn_acl_flush(struct conn *c)
{
	struct conn_acl *a = c->acl;
	size_t n;

	if (!a || !a->alen || !conn_acl_out_boundary(c))
		return;
	n = a->alen;
	a->alen = 0;
	CTR_ADD(c->bytes_out, n);
	if (to_client(c, a->ans, n) < 0)
		return;
	if (!a->stopped && c->wq[SIDE_UPSTREAM] <= WQ_LOW)
		conn_read_start(c, SIDE_CLIENT);
}

/* An answer of moat's own: now if the broker's stream is between packets
 * (and nothing waits before it), else queued; a client that piles up
 * answers is read no more until they are out. -1: closing. */
static int acl_answer(struct conn *c, const uint8_t *p, size_t n)
{
	struct conn_acl *a = c->acl;

	if (c->client_max && n > c->client_max)
		return 0; /* over the client's Maximum Packet Size: MQTT 5
			     says discard it (a SUBACK of very many codes) */
	if (!a->alen && conn_acl_out_boundary(c)) {
		CTR_ADD(c->bytes_out, n);
		return to_client(c, p, n);
	}
	if (!a->ans && !(a->ans = malloc(ACL_ANS))) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (a->alen + n > ACL_ANS) {
		conn_close(c, "too many answers waiting for the broker");
		return -1;
	}
	memcpy(a->ans + a->alen, p, n);
	a->alen += n;
	if (a->alen > ACL_ANS / 2)
		conn_read_stop(c, SIDE_CLIENT);
	return 0;
}

/* End the session for a rule (deny_action: disconnect, a bad packet):
 * MQTT 5 DISCONNECT `code` at a boundary, 3.x a close; nothing more of
 * the client's is forwarded. */
static void acl_end(struct conn *c, uint8_t code, const char *why)
{
	c->acl->stopped = 1;
	conn_read_stop(c, SIDE_CLIENT);
	conn_end_live_rc(c, code, why);
}

/* ---- client to broker ---- */

uint16_t conn_acl_whole_in(struct conn *c)
{
	return (uint16_t)(1u << MQTT_SUBSCRIBE |
			  (c->acl->nqos2 ? 1u << MQTT_PUBREL : 0) |
			  (c->acl->subs_len ? 1u << MQTT_UNSUBSCRIBE : 0));
}

static void qos2_remember(struct conn_acl *a, uint16_t id)
{
	if (a->nqos2 < ACL_QOS2) {
		a->qos2[a->nqos2++] = id;
		return;
	}
	/* full: the oldest goes (its PUBREL reaches the broker, which
	 * answers PUBCOMP 0x92 / PUBCOMP: harmless) */
	a->qos2[a->qos2_next] = id;
	a->qos2_next = (uint8_t)((a->qos2_next + 1) % ACL_QOS2);
}

static bool qos2_forget(struct conn_acl *a, uint16_t id)
{
	for (unsigned i = 0; i < a->nqos2; i++) {
		if (a->qos2[i] != id)
			continue;
		a->qos2[i] = a->qos2[--a->nqos2];
		a->qos2_next = 0;
		return true;
	}
	return false;
}

static int deny_publish(struct conn *c, const struct mqtt_peek *pk)
{
	struct conn_acl *a = c->acl;
	uint8_t ack[8];
	size_t n;

	acl_denied(c, REJ_ACL_PUBLISH, pk->topic.p, pk->topic.len);
	if (a->set.cfg->deny_disconnect) {
		acl_end(c, MQTT5_RC_NOT_AUTHORIZED, "publish not authorized");
		return WALK_STOP;
	}
	if (pk->qos == 0)
		return WALK_DROP;
	n = mqtt_build_ack(ack, pk->qos == 1 ? MQTT_PUBACK : MQTT_PUBREC,
			   c->version, pk->id, MQTT5_RC_NOT_AUTHORIZED);
	if (pk->qos == 2)
		qos2_remember(a, pk->id);
	return acl_answer(c, ack, n) < 0 ? WALK_STOP : WALK_DROP;
}

/* A PUBREL for a QoS 2 PUBLISH moat refused: PUBCOMP from moat. */
static int judge_pubrel(struct conn *c, const uint8_t *pre,
			const struct mqtt_peek *pk)
{
	struct conn_acl *a = c->acl;
	uint16_t id = mqtt_packet_id(pre, pk->total, pk->hdr_len);
	uint8_t ack[8];

	if (!qos2_forget(a, id))
		return WALK_PASS;
	return acl_answer(
		   c, ack,
		   mqtt_build_ack(ack, MQTT_PUBCOMP, c->version, id, 0)) < 0
		   ? WALK_STOP
		   : WALK_DROP;
}

static int judge_subscribe(struct conn *c, const uint8_t *pre,
			   const struct mqtt_peek *pk, uint8_t *out, size_t cap,
			   size_t *outlen)
{
	struct conn_acl *a = c->acl;
	struct mqtt_subscribe s;
	struct mqtt_subset deny;
	struct mqtt_bytes f;
	size_t off;
	uint8_t opts;
	unsigned i = 0, ndeny = 0;
	uint8_t code =
	    conn_v5(c) ? MQTT5_RC_NOT_AUTHORIZED : MQTT3_SUBACK_FAILURE;
	int n;

	if (mqtt_parse_subscribe(pre, pk->total, c->version, &s) < 0) {
		conn_reject(c, REJ_BAD_CONNECT, -1);
		return WALK_STOP;
	}
	memset(&deny, 0, sizeof(deny));
	off = s.props_end;
	while (mqtt_subscribe_next(pre, &s, &off, &f, &opts)) {
		const char *t = (const char *)f.p;
		size_t len = f.len;

		/* $share/GROUP/FILTER is judged on FILTER */
		if (topic_unshare(&t, &len) < 0 ||
		    !topic_filter_valid(t, len) ||
		    !acl_allows(&a->set, CFG_ACL_SUBSCRIBE, t, len)) {
			acl_denied(c, REJ_ACL_SUBSCRIBE, f.p, f.len);
			mqtt_subset_add(&deny, i);
			ndeny++;
		}
		i++;
	}
	if (ndeny) {
		for (unsigned k = 0; k < a->npend; k++)
			if (a->pend[k].id == s.id) /* an id reused early */
				a->pend[k] = a->pend[--a->npend];
		if (ndeny == s.n || s.n > MQTT_SUB_MAX ||
		    a->npend == ACL_PEND) {
			/* nothing to forward, or no room to remember the
			 * positions: every filter of it is refused, by moat */
			n = mqtt_build_suback_all(out, cap, c->version, s.id,
						  s.n, code);
			if (n < 0 || acl_answer(c, out, (size_t)n) < 0)
				return WALK_STOP;
			return WALK_DROP;
		}
	}
	/* what the broker is asked for, for a later reload to judge
	 * (remembered before its SUBACK: a refusal by the broker only makes
	 * that judgement stricter) */
	off = s.props_end;
	i = 0;
	while (mqtt_subscribe_next(pre, &s, &off, &f, &opts)) {
		const char *t = (const char *)f.p;
		size_t len = f.len;

		if (!mqtt_subset_has(&deny, i++) &&
		    topic_unshare(&t, &len) >= 0)
			acl_sub_add(a, t, len);
	}
	if (!ndeny)
		return WALK_PASS;
	n = mqtt_build_subscribe_without(pre, &s, &deny, out, cap);
	if (n < 0) {
		conn_close(c, "subscribe rewrite failed");
		return WALK_STOP;
	}
	a->pend[a->npend++] = (struct acl_pend){s.id, (uint16_t)s.n, deny};
	*outlen = (size_t)n;
	return WALK_REPLACE;
}

/* An UNSUBSCRIBE: those filters are no longer held (one that does not
 * parse changes nothing: the broker refuses it). */
static void unsubscribed(struct conn *c, const uint8_t *pre,
			 const struct mqtt_peek *pk)
{
	struct mqtt_subscribe s;
	struct mqtt_bytes f;
	size_t off;
	uint8_t opts;

	if (mqtt_parse_subscribe(pre, pk->total, c->version, &s) < 0 ||
	    !s.unsub)
		return;
	off = s.props_end;
	while (mqtt_subscribe_next(pre, &s, &off, &f, &opts)) {
		const char *t = (const char *)f.p;
		size_t len = f.len;

		if (topic_unshare(&t, &len) >= 0)
			acl_sub_remove(c->acl, t, len);
	}
}

int conn_acl_judge_in(struct conn *c, const uint8_t *pre,
		      const struct mqtt_peek *pk, uint8_t *out, size_t cap,
		      size_t *outlen)
{
	switch (pk->type) {
	case MQTT_PUBLISH:
		/* An empty topic uses an MQTT 5 Topic Alias: the broker only
		 * knows aliases set by PUBLISHes moat let through, so it
		 * names a topic the rules allowed. */
		if (pk->topic.len == 0)
			return WALK_PASS;
		if (!topic_name_valid((const char *)pk->topic.p,
				      pk->topic.len)) {
			acl_end(c, MQTT5_RC_PROTOCOL_ERROR,
				"topic name with a wildcard");
			return WALK_STOP;
		}
		if (acl_allows(&c->acl->set, CFG_ACL_PUBLISH,
			       (const char *)pk->topic.p, pk->topic.len)) {
			/* an id moat answered for is free again: its PUBREL
			 * now belongs to the broker */
			if (pk->qos == 2 && c->acl->nqos2)
				qos2_forget(c->acl, pk->id);
			return WALK_PASS;
		}
		return deny_publish(c, pk);
	case MQTT_PUBREL:
		return c->acl->nqos2 ? judge_pubrel(c, pre, pk) : WALK_PASS;
	case MQTT_SUBSCRIBE:
		return judge_subscribe(c, pre, pk, out, cap, outlen);
	case MQTT_UNSUBSCRIBE:
		if (c->acl->subs_len)
			unsubscribed(c, pre, pk);
		return WALK_PASS;
	default:
		return WALK_PASS;
	}
}

bool conn_acl_stopped(const struct conn *c)
{
	return c->acl && c->acl->stopped;
}

/* ---- broker to client ---- */

static uint16_t whole_out(struct conn *c)
{
	return c->acl->npend ? 1u << MQTT_SUBACK : 0;
}

static int judge_out(struct conn *c, const uint8_t *pre,
		     const struct mqtt_peek *pk, uint8_t *out, size_t cap,
		     size_t *outlen)
{
	struct conn_acl *a = c->acl;
	uint16_t id;
	int n;

	if (pk->type != MQTT_SUBACK || !a->npend)
		return WALK_PASS;
	id = mqtt_packet_id(pre, pk->total, pk->hdr_len);
	for (unsigned k = 0; k < a->npend; k++) {
		struct acl_pend *p = &a->pend[k];

		if (p->id != id)
			continue;
		n = mqtt_merge_suback(
		    pre, pk->total, c->version, &p->deny, p->n,
		    conn_v5(c) ? MQTT5_RC_NOT_AUTHORIZED : MQTT3_SUBACK_FAILURE,
		    out, cap);
		a->pend[k] = a->pend[--a->npend];
		if (n < 0) {
			conn_close(c, "broker SUBACK does not fit its "
				      "SUBSCRIBE");
			return WALK_STOP;
		}
		*outlen = (size_t)n;
		return WALK_REPLACE;
	}
	return WALK_PASS;
}

static void bad_out(struct conn *c, int err)
{
	conn_close(c, err == MQTT_E_TOO_LARGE
			  ? "broker SUBACK too large"
			  : "broker sent a malformed packet");
}

static const struct walk_ops ops_out = {
    .whole = whole_out, .judge = judge_out, .bad = bad_out, .sink = to_client};

int conn_acl_out(struct conn *c, const uint8_t *p, size_t n)
{
	return walk_feed(c, &c->acl->out, p, n, &ops_out, NULL);
}
