/* enroll.c - certificate renewal and enrollment over MQTT
 * (listeners[].mqtt.enroll, docs/lifecycle.md). The client's packets are
 * walked one by one (splice.c, walk.c), enrollment judging first: a
 * PUBLISH under the enroll topic is taken, held whole (bounded) and
 * answered by moat on the reply topic, never forwarded; the rest goes on
 * to the topic rules and the broker. A
 * claim certificate, or a certificate past notAfter within renew_grace,
 * gets a session with no broker ("enroll-only") that may do nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "codec/csr.h"
#include "tls/issue.h"
#include "conn/internal.h"

/* The most of a held packet moat keeps: a request, its topic and
 * properties. A larger PUBLISH is cut there, answered "too large", and
 * the rest of it dropped. */
#define ENROLL_HOLD (CSR_MAX + 2048)
/* Replies waiting for the broker's stream to reach a packet boundary. */
#define ENROLL_OUT_MAX (64 * 1024)
/* How long an enroll-only session may last. */
#define ENROLL_ONLY_S 300

struct enroll {
	struct issuer *is;
	const struct cfg_enroll *cfg;
	const char *topic; /* the prefix, e.g. $moat/certs */
	size_t tlen;
	uint8_t only;	/* enum enroll_only */
	uint8_t cut;	/* the held packet did not fit */
	uint8_t issued; /* a certificate went out: one per session */
	uint8_t *buf;	/* a held packet (ENROLL_HOLD, while held) */
	size_t blen;
	uint8_t *out; /* replies waiting for a boundary */
	size_t olen;
	uint16_t qos2[4]; /* QoS 2 requests whose PUBREL moat answers */
	int64_t since;	  /* enroll-only: when it began */
};

static struct enroll *enroll_new(struct conn *c)
{
	struct enroll *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->is = conn_issuer(c);
	e->cfg = &c->lcfg->mqtt.enroll;
	e->topic = cfg_enroll_topic(e->cfg);
	e->tlen = strlen(e->topic);
	return e;
}

void conn_enroll_free(struct conn *c)
{
	if (!c->enr)
		return;
	free(c->enr->buf);
	free(c->enr->out);
	free(c->enr);
	c->enr = NULL;
}

int conn_enroll_start(struct conn *c)
{
	if (!conn_enroll_on(c) || c->enr)
		return 0;
	return (c->enr = enroll_new(c)) ? 0 : -1;
}

/* ---- replies ---- */

static int at_boundary(const struct conn *c)
{
	/* after the broker's CONNACK, between two of its packets */
	return c->enr->only || (c->bytes_out > 0 &&
				mqtt_framer_at_boundary(&c->fr[SIDE_UPSTREAM]));
}

static void client_write(struct conn *c, const uint8_t *p, size_t n)
{
	CTR_ADD(c->bytes_out, (uint64_t)n);
	CTR_ADD(c->li->bytes_out, (uint64_t)n);
	wolfSSL_write(c->ssl, p, (int)n);
}

/* A packet for the client: now at a boundary of the broker's stream,
 * else when it reaches one (conn_enroll_flush). -1: closed. */
static int send_client(struct conn *c, const uint8_t *p, size_t n)
{
	struct enroll *e = c->enr;
	uint8_t *nb;

	if (!e->olen && at_boundary(c)) {
		client_write(c, p, n);
		return 0;
	}
	if (e->olen + n > ENROLL_OUT_MAX ||
	    !(nb = realloc(e->out, e->olen + n))) {
		conn_close(c, "enroll replies pile up");
		return -1;
	}
	e->out = nb;
	memcpy(e->out + e->olen, p, n);
	e->olen += n;
	return 0;
}

void conn_enroll_flush(struct conn *c)
{
	struct enroll *e = c->enr;

	if (!e || !e->olen || !at_boundary(c))
		return;
	client_write(c, e->out, e->olen);
	e->olen = 0;
}

/* ---- a renewal or enrollment request ---- */

/* Answer on the Response Topic (MQTT 5; not one with a wildcard, which
 * no PUBLISH may carry) or <topic>/renew/accepted | /rejected, with the
 * Correlation Data echoed. */
static int reply(struct conn *c, const struct mqtt_publish *pb, int ok,
		 const uint8_t *payload, size_t plen)
{
	struct enroll *e = c->enr;
	const struct mqtt_bytes *rt = &pb->response_topic;
	int own = rt->len && !memchr(rt->p, '+', rt->len) &&
		  !memchr(rt->p, '#', rt->len);
	size_t tl = own ? rt->len : e->tlen + 16;
	size_t cap = plen + tl + pb->correlation.len + 32;
	char *topic = malloc(tl + 1);
	uint8_t *pkt = malloc(cap);
	int n, r = -1;

	if (!topic || !pkt) {
		conn_close(c, "out of memory");
		goto out;
	}
	if (own)
		snprintf(topic, tl + 1, "%.*s", (int)rt->len,
			 (const char *)rt->p);
	else
		snprintf(topic, tl + 1, "%s/renew/%s", e->topic,
			 ok ? "accepted" : "rejected");
	n = mqtt_build_publish(pkt, cap, c->version, topic, pb->correlation.p,
			       pb->correlation.len, payload, plen);
	r = n > 0 ? send_client(c, pkt, (size_t)n) : 0;
out:
	free(topic);
	free(pkt);
	return r;
}

static int renew(struct conn *c, const struct mqtt_publish *pb)
{
	struct enroll *e = c->enr;
	struct enroll_ask a = {.kind = "renew"};
	char text[256];
	int r;
	size_t len;
	char *pem = NULL;

	if (e->cut) {
		snprintf(a.buf, sizeof(a.buf), "request over %d bytes",
			 CSR_MAX);
		a.why = a.buf;
		a.outcome = ENR_TOO_LARGE;
	} else if (e->issued) {
		a.why = "a certificate was issued on this session already: "
			"connect with it";
		a.outcome = ENR_NOT_ALLOWED;
	} else if (conn_enroll_may(c, 0, &a) == 0) {
		if (conn_enroll_sign(c, pb->payload, pb->payload_len, &a) < 0) {
			conn_close(c, "out of memory");
			return -1;
		}
		e->issued =
		    a.outcome == ENR_RENEWED || a.outcome == ENR_ENROLLED;
	}
	conn_enroll_done(c, 0, &a);
	if (a.outcome == ENR_RENEWED || a.outcome == ENR_ENROLLED) {
		size_t ca_len, cap = 2 * (a.out->len + 4096) + 256;
		const uint8_t *ca = issuer_ca_der(e->is, &ca_len);

		pem = malloc(cap);
		len = pem ? util_pem("CERTIFICATE", a.out->der, a.out->len, pem,
				     cap)
			  : 0;
		if (len)
			len += util_pem("CERTIFICATE", ca, ca_len, pem + len,
					cap - len);
		r = len ? reply(c, pb, 1, (const uint8_t *)pem, len) : -1;
		if (!len)
			conn_close(c, "out of memory");
	} else {
		len = (size_t)snprintf(text, sizeof(text), "rejected: %s: %s\n",
				       conn_enroll_outcome_name(a.outcome),
				       a.why ? a.why : "refused");
		r = reply(c, pb, 0, (const uint8_t *)text,
			  len < sizeof(text) ? len : sizeof(text) - 1);
	}
	free(pem);
	free(a.out);
	return r;
}

/* ---- the client's packets ---- */

static int ours(const struct enroll *e, struct mqtt_bytes t)
{
	return t.len >= e->tlen && !memcmp(t.p, e->topic, e->tlen) &&
	       (t.len == e->tlen || t.p[e->tlen] == '/');
}

static int is_renew(const struct enroll *e, struct mqtt_bytes t)
{
	return t.len == e->tlen + 6 && ours(e, t) &&
	       !memcmp(t.p + e->tlen, "/renew", 6);
}

/* The session may not do that (enroll-only): MQTT 5 DISCONNECT 0x87 with
 * the reason, else closed (cause enroll_only). */
static int only_refuse(struct conn *c)
{
	char id[24];

	CTR_ADD(c->moat->rejects[REJ_ENROLL_ONLY], 1);
	CTR_ADD(c->li->rejects[REJ_ENROLL_ONLY], 1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_WARN, "enroll_only", "conn", id, "subject",
		  c->cert.subject, "client_id", c->client_id, "detail",
		  c->enr->only == ENROLL_ONLY_CLAIM
		      ? "a claim certificate may only enroll"
		      : "an expired certificate may only renew",
		  NULL);
	conn_end_live(c, c->enr->only == ENROLL_ONLY_CLAIM
			     ? "claim certificate may only enroll"
			     : "expired certificate may only renew");
	return -1;
}

struct filters {
	struct conn *c;
	int sub;
	uint8_t codes[64];
	int n;
};

/* A reply topic (under ours, no wildcard) is granted, nothing else. */
static int grant(struct mqtt_bytes f, void *arg)
{
	struct filters *q = arg;
	int ok = ours(q->c->enr, f) && !memchr(f.p, '#', f.len) &&
		 !memchr(f.p, '+', f.len);

	if (q->n >= (int)sizeof(q->codes))
		return MQTT_E_MALFORMED;
	if (q->sub)
		q->codes[q->n++] = ok ? 0x00 : conn_v5(q->c) ? 0x87 : 0x80;
	else /* UNSUBACK (5): success, or no subscription existed */
		q->codes[q->n++] = ok ? 0x00 : 0x11;
	return 0;
}

/* SUBSCRIBE / UNSUBSCRIBE of an enroll-only session: SUBACK granting the
 * reply topics (QoS 0) and refusing the rest, or UNSUBACK. */
static int only_filters(struct conn *c, const uint8_t *p, size_t n)
{
	struct filters q = {.c = c, .sub = p[0] == 0x82};
	uint8_t out[80];
	uint16_t pid;
	size_t o = 0;
	int k = mqtt_filters_each(p, n, c->version, &pid, grant, &q);

	if (k < 0 || (p[0] != 0x82 && p[0] != 0xa2)) {
		conn_reject(c, REJ_BAD_CONNECT, -1);
		return -1;
	}
	out[o++] = q.sub ? 0x90 : 0xb0;
	out[o++] =
	    (uint8_t)(2 + (conn_v5(c) ? 1 : 0) + (q.sub || conn_v5(c) ? k : 0));
	out[o++] = (uint8_t)(pid >> 8);
	out[o++] = (uint8_t)pid;
	if (conn_v5(c))
		out[o++] = 0; /* no properties */
	if (q.sub || conn_v5(c)) {
		memcpy(out + o, q.codes, (size_t)k);
		o += (size_t)k;
	}
	return send_client(c, out, o);
}

static int held_packet(struct conn *c)
{
	struct enroll *e = c->enr;
	const uint8_t *p = e->buf;
	size_t n = e->blen;
	struct mqtt_publish pb;
	uint8_t type = p[0] >> 4, ack[8];
	int r;

	if (type == MQTT_PUBLISH) {
		r = mqtt_parse_publish(p, n, c->version, &pb);
		if (r < 0) {
			conn_reject(c, REJ_BAD_CONNECT, -1);
			return -1;
		}
		if (!ours(e, pb.topic))
			return only_refuse(c); /* only sessions hold others */
		if (pb.qos == 1 &&
		    send_client(c, ack,
				mqtt_build_ack(ack, 4, c->version, pb.packet_id,
					       0)) < 0)
			return -1;
		if (pb.qos == 2) {
			for (int i = 0; i < 4; i++)
				if (!e->qos2[i]) {
					e->qos2[i] = pb.packet_id;
					break;
				}
			if (send_client(c, ack,
					mqtt_build_ack(ack, 5, c->version,
						       pb.packet_id, 0)) < 0)
				return -1;
		}
		if (is_renew(e, pb.topic))
			return renew(c, &pb);
		CTR_ADD(c->moat->enroll[ENR_RESERVED], 1);
		return 0;
	}
	if (type == 6 && n >= 4) { /* PUBREL of a request moat took */
		uint16_t id = (uint16_t)(p[2] << 8 | p[3]);

		for (int i = 0; i < 4; i++)
			if (e->qos2[i] == id) {
				e->qos2[i] = 0;
				return send_client(
				    c, ack,
				    mqtt_build_ack(ack, 7, c->version, id, 0));
			}
	}
	/* an enroll-only session: moat is its whole server */
	switch (type) {
	case 8:	 /* SUBSCRIBE */
	case 10: /* UNSUBSCRIBE */
		return only_filters(c, p, n);
	case MQTT_PINGREQ:
		return send_client(c, (const uint8_t *)"\xd0\x00", 2);
	case MQTT_DISCONNECT:
		wolfSSL_shutdown(c->ssl);
		conn_finish(c);
		return -1;
	}
	return only_refuse(c);
}

uint16_t conn_enroll_whole(struct conn *c)
{
	for (int i = 0; i < 4; i++)
		if (c->enr->qos2[i]) /* its PUBREL may be moat's */
			return 1u << MQTT_PUBREL;
	return 0;
}

/* Enough of a topic to tell whether it is under ours. */
size_t conn_enroll_topic(struct conn *c)
{
	return c->enr->tlen + 1;
}

int conn_enroll_judge(struct conn *c, const uint8_t *pre,
		      const struct mqtt_peek *pk)
{
	struct enroll *e = c->enr;
	uint32_t max = (uint32_t)c->gen->cfg->limits.max_packet_size;
	uint16_t id;

	if (pk->total > max) {
		conn_reject(c, REJ_PACKET_TOO_LARGE, -1);
		return WALK_STOP;
	}
	if (e->only) /* every packet is moat's to answer */
		return WALK_TAKE;
	if (pk->type == MQTT_PUBREL) { /* moat's when it took the request */
		if (pk->total < 4)     /* malformed: the broker's to refuse */
			return WALK_PASS;
		id = mqtt_packet_id(pre, pk->total, pk->hdr_len);
		for (int i = 0; i < 4; i++)
			if (e->qos2[i] && e->qos2[i] == id)
				return WALK_TAKE;
		return WALK_PASS;
	}
	if (pk->type == MQTT_PUBLISH && ours(e, pk->topic))
		return WALK_TAKE;
	return WALK_PASS;
}

/* Keep n more bytes of the packet taken (the big buffer, taken when a
 * packet is held and given back after it, but in enroll-only sessions);
 * past ENROLL_HOLD the rest is only counted as cut. */
int conn_enroll_take(struct conn *c, const uint8_t *p, size_t n)
{
	struct enroll *e = c->enr;

	CTR_ADD(c->bytes_in, n);
	CTR_ADD(c->li->bytes_in, n);
	if (!e->buf && !(e->buf = malloc(ENROLL_HOLD))) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (n > ENROLL_HOLD - e->blen) {
		n = ENROLL_HOLD - e->blen;
		e->cut = 1;
	}
	memcpy(e->buf + e->blen, p, n);
	e->blen += n;
	return 0;
}

/* The packet taken is whole: answer it. 0 go on, -1 the session ended. */
int conn_enroll_taken(struct conn *c)
{
	struct enroll *e = c->enr;
	int r = held_packet(c);

	e->blen = 0;
	e->cut = 0;
	if (!e->only) { /* a renewal is rare: hold nothing between them */
		free(e->buf);
		e->buf = NULL;
	}
	return r < 0 || c->state != CS_SPLICE ? -1 : 0;
}

/* ---- enroll-only sessions ---- */

int conn_enroll_only(struct conn *c)
{
	uint8_t pkt[8];
	char id[24];
	size_t n;

	if (!c->cert.in_grace &&
	    !(c->cert.has_cert && tls_peer_is_claim(c->li->tls, &c->cert)))
		return 0;
	if (conn_grace_revoked(c)) {
		c->why = "revoked, in renew_grace";
		conn_refuse(c, REJ_CERT_REVOKED);
		return 1;
	}
	if (conn_enroll_start(c) < 0 || !c->enr) {
		conn_close(c, "out of memory");
		return -1;
	}
	c->enr->only = c->cert.in_grace ? ENROLL_ONLY_GRACE : ENROLL_ONLY_CLAIM;
	c->enr->since = (int64_t)time(NULL);
	uv_timer_stop(&c->timer);
	c->state = CS_SPLICE;
	n = mqtt_build_connack(pkt, c->version, 0);
	client_write(c, pkt, n);
	if (c->corked)
		conn_uncork(c);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_INFO, "enroll_only", "conn", id, "client_id",
		  c->client_id, "subject", c->cert.subject, "why",
		  c->enr->only == ENROLL_ONLY_CLAIM
		      ? "claim certificate"
		      : "certificate in renew_grace",
		  NULL);
	conn_live_watch(c);
	/* what the client sent behind its CONNECT */
	if (c->su->clen > c->su->connect_len) {
		uint8_t *tmp = c->su->cbuf;
		size_t off = c->su->connect_len, len = c->su->clen - off;

		c->su->cbuf = NULL;
		c->su->clen = c->su->ccap = 0;
		if (conn_splice_in(c, tmp + off, len) < 0) {
			scratch_free(tmp);
			return 1;
		}
		scratch_free(tmp);
	}
	conn_setup_free(c);
	if (c->io.eof) {
		conn_client_eof(c);
		return 1;
	}
	conn_read_start(c, SIDE_CLIENT);
	return 1;
}

int64_t conn_enroll_deadline(const struct conn *c, int64_t end)
{
	const struct enroll *e = c->enr;
	int64_t d;

	if (!e || !e->only)
		return end;
	d = e->since + ENROLL_ONLY_S;
	if (e->only == ENROLL_ONLY_GRACE)
		end = c->cert.not_after +
		      (int64_t)(e->cfg->renew_grace_ms / 1000);
	return end && end < d ? end : d;
}

int conn_enroll_kind(const struct conn *c)
{
	return c->enr ? c->enr->only : ENROLL_ONLY_NONE;
}
