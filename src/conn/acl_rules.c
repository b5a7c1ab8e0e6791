/* acl_rules.c - the topic rules of one session. At CONNECT the
 * listener's rules (and a token's, by claim_mode) are expanded once for
 * this client: placeholders substituted, and a client id, username,
 * identity or claim that would smuggle '+', '#' or '/' into a rule is
 * refused. The will topic is judged. First match wins. At a reload the
 * new rules are expanded the same way and every subscription the session
 * holds is judged again: one now denied ends the session (acl_live),
 * otherwise the session goes on under the new rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/claims.h"
#include "base/log.h"
#include "codec/topic.h"
#include "conn/acl.h"

/* ---- deciding ---- */

static bool acl_decide(const struct acl_set *s, uint8_t action, const char *t,
		       size_t len, bool count)
{
	for (size_t i = 0; i < s->nx; i++) {
		const struct acl_exp *e = &s->x[i];
		const char *rt = s->strings + e->off;
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
			if (count && e->rule != ACL_NO_HITS)
				__atomic_fetch_add(&s->cfg->hits[e->rule], 1,
						   __ATOMIC_RELAXED);
			return e->allow;
		}
	}
	if (count)
		__atomic_fetch_add(&s->cfg->hits[s->cfg->n_rules], 1,
				   __ATOMIC_RELAXED);
	return s->cfg->no_match_allow;
}

bool acl_allows(const struct acl_set *s, uint8_t action, const char *t,
		size_t len)
{
	return acl_decide(s, action, t, len, true);
}

static const char *conn_ident(const struct conn *c)
{
	return c->token_ident
		   ? c->token_ident
		   : tls_peer_identity(&c->cert, c->lcfg->mqtt.identity);
}

void acl_log(struct conn *c, enum reject_cause why, const uint8_t *t,
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

void acl_denied(struct conn *c, enum reject_cause why, const uint8_t *t,
		size_t len)
{
	CTR_ADD(c->moat->rejects[why], 1);
	CTR_ADD(c->li->rejects[why], 1);
	acl_log(c, why, t, len);
}

/* ---- the subscriptions a session holds ---- */

static char *sub_find(struct conn_acl *a, const char *f, size_t len)
{
	for (size_t o = 0; o < a->subs_len;) {
		size_t l = strlen(a->subs + o);

		if (l == len && !memcmp(a->subs + o, f, len))
			return a->subs + o;
		o += l + 1;
	}
	return NULL;
}

void acl_sub_add(struct conn_acl *a, const char *f, size_t len)
{
	char *ns;

	if (sub_find(a, f, len))
		return;
	if (a->subs_len + len + 1 > ACL_SUBS) {
		a->subs_lost = 1; /* judged as "may hold anything" */
		return;
	}
	if (a->subs_len + len + 1 > a->subs_cap) { /* doubling: a few
						       allocations a session */
		size_t cap = a->subs_cap ? a->subs_cap : 256;

		while (cap < a->subs_len + len + 1)
			cap *= 2;
		if (cap > ACL_SUBS)
			cap = ACL_SUBS;
		if (!(ns = realloc(a->subs, cap))) {
			a->subs_lost = 1;
			return;
		}
		a->subs = ns;
		a->subs_cap = cap;
	}
	memcpy(a->subs + a->subs_len, f, len);
	a->subs[a->subs_len + len] = '\0';
	a->subs_len += len + 1;
}

void acl_sub_remove(struct conn_acl *a, const char *f, size_t len)
{
	char *at = sub_find(a, f, len);
	size_t rest;

	if (!at)
		return;
	rest = a->subs_len - (size_t)(at - a->subs) - (len + 1);
	memmove(at, at + len + 1, rest);
	a->subs_len -= len + 1;
}

/* ---- building a session's rules ---- */

static const char *claim_of(void *arg, const char *name, size_t nlen)
{
	return jwt_doc_string(arg, name, nlen);
}

enum { SET_OK = 0, SET_NOMEM = -1, SET_UNSAFE = -2, SET_CLAIM = -3 };

/* Expand rules[0..n) into s; rule_base: the index of the first one in the
 * listener's hits, or ACL_NO_HITS. */
static int set_add(struct acl_set *s, const struct cfg_acl_rule *rules,
		   size_t n, unsigned rule_base, const struct topic_vars *v,
		   size_t *cap)
{
	char tmp[WALK_HOLD];

	for (size_t i = 0; i < n; i++) {
		const struct cfg_acl_rule *r = &rules[i];

		for (size_t j = 0; j < r->n_topics; j++) {
			const char *pat = r->topics[j];
			bool eq = strncmp(pat, "eq ", 3) == 0;
			int k = topic_expand(pat + (eq ? 3 : 0),
					     strlen(pat) - (eq ? 3 : 0), v, tmp,
					     sizeof(tmp));
			struct acl_exp *e = &s->x[s->nx];
			size_t need;

			if (k == TOPIC_E_UNSAFE)
				return SET_UNSAFE;
			if (k < 0) /* a placeholder without value: no match */
				continue;
			need = s->used + (size_t)k + 1;
			if (!s->strings || need > *cap) {
				size_t nc = need > *cap ? need * 2 : *cap;
				char *ns = realloc(s->strings, nc);

				if (!ns)
					return SET_NOMEM;
				s->strings = ns;
				*cap = nc;
			}
			memcpy(s->strings + s->used, tmp, (size_t)k + 1);
			e->off = (uint32_t)s->used;
			e->len = (uint16_t)k;
			e->rule = (uint16_t)(rule_base == ACL_NO_HITS
						 ? ACL_NO_HITS
						 : rule_base + i);
			e->allow = r->allow;
			e->actions = r->actions;
			e->eq = eq;
			s->used = need;
			s->nx++;
		}
	}
	return SET_OK;
}

static size_t topics_of(const struct cfg_acl_rule *r, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += r[i].n_topics;
	return t;
}

static void set_free(struct acl_set *s)
{
	free(s->x);
	free(s->strings);
	if (s->gen)
		gen_put(s->gen);
	memset(s, 0, sizeof(*s));
}

/* The listener's rules (cfg) and, by claim_mode, the token's, expanded
 * for one client. SET_* (why: a malformed claim). */
static int set_build(struct acl_set *s, const struct cfg_acl *cfg,
		     const struct topic_vars *v, struct jwt_doc *doc,
		     const char **why)
{
	struct cfg_acl_rule *cr = NULL;
	size_t ncr = 0, cap = 0;
	int r = SET_OK, has;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	has = cfg->claim && doc ? jwt_doc_acl(doc, cfg->claim, &cr, &ncr, why)
				: 0;
	if (has < 0)
		return SET_CLAIM;
	s->x =
	    calloc(topics_of(cfg->rules, cfg->n_rules) + topics_of(cr, ncr) + 1,
		   sizeof(*s->x));
	if (!s->x)
		r = SET_NOMEM;
	/* claim_mode: after (the file's rules first), before, or replace
	 * (the token's rules alone when it has them) */
	if (r == SET_OK && has && cfg->claim_mode != CFG_ACL_CLAIM_AFTER)
		r = set_add(s, cr, ncr, ACL_NO_HITS, v, &cap);
	if (r == SET_OK && !(has && cfg->claim_mode == CFG_ACL_CLAIM_REPLACE))
		r = set_add(s, cfg->rules, cfg->n_rules, 0, v, &cap);
	if (r == SET_OK && has && cfg->claim_mode == CFG_ACL_CLAIM_AFTER)
		r = set_add(s, cr, ncr, ACL_NO_HITS, v, &cap);
	cfg_acl_rules_free(cr, ncr);
	if (r != SET_OK)
		set_free(s);
	return r;
}

/* ---- at CONNECT ---- */

int conn_acl_connect(struct conn *c, const struct mqtt_connect *mc,
		     const char *ident, const char *username)
{
	const struct cfg_acl *cfg = &c->lcfg->mqtt.acl;
	struct topic_vars v = {c->client_id, username, ident, claim_of,
			       c->token_doc};
	const char *why = NULL;
	struct conn_acl *a;
	int r;

	if (!cfg->on)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a || (username && !(a->username = strdup(username)))) {
		free(a);
		conn_close(c, "out of memory");
		return -1;
	}
	c->acl = a;
	/* kept for the rules of a later reload */
	a->doc = c->token_doc;
	c->token_doc = NULL;
	r = set_build(&a->set, cfg, &v, a->doc, &why);
	if (r == SET_CLAIM) {
		c->why = why;
		conn_refuse(c, REJ_TOKEN_CLAIMS);
		return -1;
	}
	if (r == SET_UNSAFE) {
		c->why = "identity, client id, username or claim holds + # / "
			 "or NUL and a rule substitutes it";
		conn_refuse(c, REJ_CLIENT_ID_MISMATCH);
		return -1;
	}
	if (r != SET_OK) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (mc->has_will &&
	    (!topic_name_valid((const char *)mc->will_topic.p,
			       mc->will_topic.len) ||
	     !acl_allows(&a->set, CFG_ACL_PUBLISH,
			 (const char *)mc->will_topic.p, mc->will_topic.len))) {
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
	walk_free(&a->out);
	set_free(&a->set);
	jwt_doc_free(a->doc);
	free(a->username);
	free(a->subs);
	free(a->ans);
	free(a);
	c->acl = NULL;
}

/* ---- at a reload ---- */

static void end_live(struct conn *c, const char *sub, const char *why)
{
	struct moat *m = c->moat;
	char id[24];

	CTR_ADD(m->rejects[REJ_ACL_LIVE], 1);
	CTR_ADD(c->li->rejects[REJ_ACL_LIVE], 1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	if (conn_reject_log_allowed(m, REJ_ACL_LIVE))
		log_event(LOG_WARN, "acl_live", "conn", id, "listener",
			  c->li->cfg->name, "client_id", c->client_id,
			  "identity", conn_ident(c), "topic", sub, "detail",
			  why, NULL);
	if (c->acl) {
		c->acl->stopped = 1;
		conn_read_stop(c, SIDE_CLIENT);
	}
	conn_end_live_rc(c, MQTT5_RC_NOT_AUTHORIZED, why);
}

/* One session under the rules now in force on its listener. */
static void recheck_one(struct conn *c, struct gen *g)
{
	const struct cfg_acl *cfg = &c->li->cfg->mqtt.acl;
	struct conn_acl *a = c->acl;
	struct acl_set s;
	const char *why = NULL;
	int r;

	if (!a) {
		end_live(c, NULL, "topic rules now apply");
		return;
	}
	{
		struct topic_vars v = {c->client_id, a->username, conn_ident(c),
				       claim_of, a->doc};

		r = set_build(&s, cfg, &v, a->doc, &why);
	}
	if (r != SET_OK) {
		end_live(c, NULL,
			 r == SET_NOMEM ? "out of memory"
					: "identity no longer fits the "
					  "rules");
		return;
	}
	if (a->subs_lost) {
		set_free(&s);
		end_live(c, NULL, "too many subscriptions to judge again");
		return;
	}
	for (size_t o = 0; o < a->subs_len;) {
		const char *f = a->subs + o;
		size_t l = strlen(f);

		if (!acl_decide(&s, CFG_ACL_SUBSCRIBE, f, l, false)) {
			set_free(&s);
			end_live(c, f, "subscription no longer allowed");
			return;
		}
		o += l + 1;
	}
	/* the session goes on under the new rules (their hits) */
	__atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
	s.gen = g;
	set_free(&a->set);
	a->set = s;
}

int conn_recheck_acl(struct moat *m)
{
	struct conn *next;
	int n = 0;

	for (struct conn *c = m->conns; c; c = next) {
		next = c->next;
		if ((c->state != CS_SPLICE && c->state != CS_UPSTREAM) ||
		    !c->li->open || !c->li->cfg->mqtt.acl.on ||
		    (c->acl && c->acl->stopped))
			continue;
		recheck_one(c, m->gen);
		n++;
	}
	return n;
}
