/* acl.c - topic rules on a live session. At CONNECT the listener's rules
 * are expanded once for this client (placeholders substituted; an identity
 * that would smuggle '+', '#' or '/' into a rule is refused) and the will
 * topic is judged. Then each PUBLISH, SUBSCRIBE and PUBREL from the client
 * is judged as walk.c brings it: a denied PUBLISH is answered by moat and
 * dropped, a SUBSCRIBE loses its denied filters and the broker's SUBACK is
 * widened back, moat's own answers wait for a packet boundary of the
 * broker's stream. First match wins; no allocation per packet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/claims.h"
#include "base/log.h"
#include "codec/topic.h"
#include "conn/internal.h"

#define ACL_PEND 16  /* partly denied SUBSCRIBEs awaiting their SUBACK */
#define ACL_QOS2 32  /* denied QoS 2 packet ids whose PUBREL moat answers */
#define ACL_ANS 4096 /* moat's answers waiting for a boundary */

struct acl_exp {
	uint32_t off; /* of the topic in strings */
	uint16_t len;
	uint16_t rule; /* index in cfg->rules (hits), NO_HITS: a token's */
	uint8_t allow, actions;
	uint8_t eq; /* "eq ": compared as a string */
};

struct acl_pend {
	uint16_t id, n;
	struct mqtt_subset deny;
};

struct conn_acl {
	const struct cfg_acl *cfg; /* in c->gen */
	struct acl_exp *x;
	size_t nx;
	char *strings;
	size_t used;
	struct walk in, out;
	struct acl_pend pend[ACL_PEND];
	uint8_t npend;
	uint8_t nqos2, qos2_next;
	uint8_t stopped; /* the session is ending: nothing more forwarded */
	uint16_t qos2[ACL_QOS2];
	uint8_t *ans;
	size_t alen;
};

/* ---- the rules ---- */

static bool acl_allows(struct conn_acl *a, uint8_t action, const char *t,
		       size_t len)
{
	for (size_t i = 0; i < a->nx; i++) {
		const struct acl_exp *e = &a->x[i];
		const char *rt = a->strings + e->off;
		bool hit;

		if (!(e->actions & action))
			continue;
		/* An allowed subscription must stay inside the rule; a denied
		 * one is any that could receive a topic the rule names. */
		if (e->eq)
			hit = len == e->len && !memcmp(rt, t, len);
		else if (action == CFG_ACL_SUBSCRIBE && !e->allow)
			hit = topic_meets(rt, e->len, t, len);
		else
			hit = topic_covers(rt, e->len, t, len);
		if (hit) {
			if (e->rule != 0xffff)
				__atomic_fetch_add(&a->cfg->hits[e->rule], 1,
						   __ATOMIC_RELAXED);
			return e->allow;
		}
	}
	__atomic_fetch_add(&a->cfg->hits[a->cfg->n_rules], 1, __ATOMIC_RELAXED);
	return a->cfg->no_match_allow;
}

static const char *conn_ident(const struct conn *c)
{
	return c->token_ident
		   ? c->token_ident
		   : tls_peer_identity(&c->cert, c->lcfg->mqtt.identity);
}

/* Log one denial with who and what (rate limited per cause). */
static void acl_log(struct conn *c, enum reject_cause why, const uint8_t *t,
		    size_t len)
{
	struct moat *m = c->moat;
	char id[24], topic[512];

	if (!conn_reject_log_allowed(m, why))
		return;
	if (len >= sizeof(topic))
		len = sizeof(topic) - 1;
	memcpy(topic, t, len);
	topic[len] = '\0';
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	log_event(LOG_WARN, "acl_deny", "conn", id, "listener", c->lcfg->name,
		  "cause", reject_name(why), "client_id", c->client_id,
		  "identity", conn_ident(c), "topic", topic, NULL);
}

/* Count (by action and listener) and log one denial. */
static void acl_denied(struct conn *c, enum reject_cause why, const uint8_t *t,
		       size_t len)
{
	CTR_ADD(c->moat->rejects[why], 1);
	CTR_ADD(c->li->rejects[why], 1);
	acl_log(c, why, t, len);
}

/* ---- at CONNECT ---- */

static const char *claim_of(void *arg, const char *name, size_t nlen)
{
	return jwt_doc_string(arg, name, nlen);
}

/* Expand rules[0..n) into a->x; -1 when a value may not stand in a topic
 * (refused) or memory runs out (closed). rule_base: the index of the
 * first one in the listener's hits, or NO_HITS. */
#define NO_HITS 0xffff
static int acl_add(struct conn *c, const struct cfg_acl_rule *rules, size_t n,
		   unsigned rule_base, const struct topic_vars *v, size_t *cap)
{
	struct conn_acl *a = c->acl;
	char tmp[WALK_HOLD];

	for (size_t i = 0; i < n; i++) {
		const struct cfg_acl_rule *r = &rules[i];

		for (size_t j = 0; j < r->n_topics; j++) {
			const char *pat = r->topics[j];
			bool eq = strncmp(pat, "eq ", 3) == 0;
			int k = topic_expand(pat + (eq ? 3 : 0),
					     strlen(pat) - (eq ? 3 : 0), v, tmp,
					     sizeof(tmp));
			struct acl_exp *e = &a->x[a->nx];
			size_t need = a->used + (size_t)k + 1;

			if (k == TOPIC_E_UNSAFE) {
				c->why = "identity, client id, username or "
					 "claim holds + # / or NUL and a "
					 "rule substitutes it";
				conn_refuse(c, REJ_CLIENT_ID_MISMATCH);
				return -1;
			}
			if (k < 0) /* a placeholder without value: no match */
				continue;
			if (!a->strings || need > *cap) {
				size_t nc = need > *cap ? need * 2 : *cap;
				char *ns = realloc(a->strings, nc);

				if (!ns) {
					conn_close(c, "out of memory");
					return -1;
				}
				a->strings = ns;
				*cap = nc;
			}
			memcpy(a->strings + a->used, tmp, (size_t)k + 1);
			e->off = (uint32_t)a->used;
			e->len = (uint16_t)k;
			e->rule =
			    (uint16_t)(rule_base == NO_HITS ? NO_HITS
							    : rule_base + i);
			e->allow = r->allow;
			e->actions = r->actions;
			e->eq = eq;
			a->used = need;
			a->nx++;
		}
	}
	return 0;
}

static size_t topics_of(const struct cfg_acl_rule *r, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += r[i].n_topics;
	return t;
}

int conn_acl_connect(struct conn *c, const struct mqtt_connect *mc,
		     const char *ident, const char *username)
{
	const struct cfg_acl *cfg = &c->lcfg->mqtt.acl;
	struct topic_vars v = {c->client_id, username, ident, claim_of,
			       c->token_doc};
	struct cfg_acl_rule *cr = NULL;
	size_t ncr = 0, cap = 0;
	const char *why = NULL;
	struct conn_acl *a;
	int r = 0, has_claim;

	if (!cfg->on)
		return 0;
	/* the token's own rules (mqtt.acl.claim) */
	has_claim = cfg->claim && c->token_doc
			? jwt_doc_acl(c->token_doc, cfg->claim, &cr, &ncr, &why)
			: 0;
	if (has_claim < 0) {
		c->why = why;
		conn_refuse(c, REJ_TOKEN_CLAIMS);
		return -1;
	}
	a = calloc(1, sizeof(*a));
	c->acl = a;
	if (!a || !(a->x = calloc(topics_of(cfg->rules, cfg->n_rules) +
				      topics_of(cr, ncr) + 1,
				  sizeof(*a->x)))) {
		cfg_acl_rules_free(cr, ncr);
		conn_close(c, "out of memory");
		return -1;
	}
	a->cfg = cfg;
	/* claim_mode: after (the file's rules first), before, or replace
	 * (the token's rules alone when it has them) */
	if (has_claim && cfg->claim_mode != CFG_ACL_CLAIM_AFTER)
		r = acl_add(c, cr, ncr, NO_HITS, &v, &cap);
	if (r == 0 && !(has_claim && cfg->claim_mode == CFG_ACL_CLAIM_REPLACE))
		r = acl_add(c, cfg->rules, cfg->n_rules, 0, &v, &cap);
	if (r == 0 && has_claim && cfg->claim_mode == CFG_ACL_CLAIM_AFTER)
		r = acl_add(c, cr, ncr, NO_HITS, &v, &cap);
	cfg_acl_rules_free(cr, ncr);
	if (r < 0)
		return -1;
	if (mc->has_will &&
	    (!topic_name_valid((const char *)mc->will_topic.p,
			       mc->will_topic.len) ||
	     !acl_allows(a, CFG_ACL_PUBLISH, (const char *)mc->will_topic.p,
			 mc->will_topic.len))) {
		acl_log(c, REJ_ACL_WILL, mc->will_topic.p, mc->will_topic.len);
		c->why = "will topic denied";
		conn_refuse(c, REJ_ACL_WILL);
		return -1;
	}
	return 0;
}

void conn_acl_free(struct conn *c)
{
	struct conn_acl *a = c->acl;

	if (!a)
		return;
	walk_free(&a->in);
	walk_free(&a->out);
	free(a->x);
	free(a->strings);
	free(a->ans);
	free(a);
	c->acl = NULL;
}

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
	if (wolfSSL_write(c->ssl, p, (int)n) != (int)n) {
		if (c->state != CS_CLOSED)
			conn_close(c, "client TLS write error");
		return -1;
	}
	return 0;
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

static uint16_t whole_in(struct conn *c)
{
	return (uint16_t)(1u << MQTT_SUBSCRIBE |
			  (c->acl->nqos2 ? 1u << MQTT_PUBREL : 0));
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

static int deny_publish(struct conn *c, const struct mqtt_peek *pk)
{
	struct conn_acl *a = c->acl;
	uint8_t ack[8];
	size_t n;

	acl_denied(c, REJ_ACL_PUBLISH, pk->topic.p, pk->topic.len);
	if (a->cfg->deny_disconnect) {
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

	for (unsigned i = 0; i < a->nqos2; i++) {
		if (a->qos2[i] != id)
			continue;
		a->qos2[i] = a->qos2[--a->nqos2];
		a->qos2_next = 0;
		return acl_answer(c, ack,
				  mqtt_build_ack(ack, MQTT_PUBCOMP, c->version,
						 id, 0)) < 0
			   ? WALK_STOP
			   : WALK_DROP;
	}
	return WALK_PASS;
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
		    !acl_allows(a, CFG_ACL_SUBSCRIBE, t, len)) {
			acl_denied(c, REJ_ACL_SUBSCRIBE, f.p, f.len);
			mqtt_subset_add(&deny, i);
			ndeny++;
		}
		i++;
	}
	if (!ndeny)
		return WALK_PASS;
	for (unsigned k = 0; k < a->npend; k++)
		if (a->pend[k].id == s.id) /* an id reused early: the last */
			a->pend[k] = a->pend[--a->npend];
	if (ndeny == s.n || s.n > MQTT_SUB_MAX || a->npend == ACL_PEND) {
		/* nothing to forward, or no room to remember the positions:
		 * every filter of it is refused, by moat */
		n = mqtt_build_suback_all(out, cap, c->version, s.id, s.n,
					  code);
		if (n < 0 || acl_answer(c, out, (size_t)n) < 0)
			return WALK_STOP;
		return WALK_DROP;
	}
	n = mqtt_build_subscribe_without(pre, &s, &deny, out, cap);
	if (n < 0) {
		conn_close(c, "subscribe rewrite failed");
		return WALK_STOP;
	}
	a->pend[a->npend++] = (struct acl_pend){s.id, (uint16_t)s.n, deny};
	*outlen = (size_t)n;
	return WALK_REPLACE;
}

static int judge_in(struct conn *c, const uint8_t *pre,
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
		if (acl_allows(c->acl, CFG_ACL_PUBLISH,
			       (const char *)pk->topic.p, pk->topic.len))
			return WALK_PASS;
		return deny_publish(c, pk);
	case MQTT_PUBREL:
		return c->acl->nqos2 ? judge_pubrel(c, pre, pk) : WALK_PASS;
	case MQTT_SUBSCRIBE:
		return judge_subscribe(c, pre, pk, out, cap, outlen);
	default:
		return WALK_PASS;
	}
}

static void bad_in(struct conn *c, int err)
{
	conn_reject(
	    c, err == MQTT_E_TOO_LARGE ? REJ_PACKET_TOO_LARGE : REJ_BAD_CONNECT,
	    -1);
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

static const struct walk_ops ops_in = {whole_in, judge_in, bad_in, to_broker};

int conn_acl_in(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->acl->stopped)
		return -1;
	return walk_feed(c, &c->acl->in, p, n, &ops_in);
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

static const struct walk_ops ops_out = {whole_out, judge_out, bad_out,
					to_client};

int conn_acl_out(struct conn *c, const uint8_t *p, size_t n)
{
	return walk_feed(c, &c->acl->out, p, n, &ops_out);
}
