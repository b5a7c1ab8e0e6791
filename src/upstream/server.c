/* server.c - upstreams and servers at run time. Builds them from the
 * config, turns health results into UP/DOWN with rise and fall, and asks
 * balance.c for the order in which a connection tries them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/balance.h"
#include "upstream/check.h"
#include "base/log.h"
#include "upstream/server.h"
#include "base/util.h"

static struct server *server_take_over(struct gen *old, const char *uname,
				       const char *sname)
{
	if (!old)
		return NULL;
	for (size_t i = 0; i < old->n_upstreams; i++) {
		struct upstream *u = &old->upstreams[i];

		if (strcmp(u->cfg->name, uname) != 0)
			continue;
		for (size_t j = 0; j < u->n_servers; j++)
			if (strcmp(u->servers[j]->cfg->name, sname) == 0)
				return u->servers[j];
	}
	return NULL;
}

int upstreams_init(struct moat *m, struct gen *g, struct gen *old)
{
	const struct cfg *cfg = g->cfg;

	g->upstreams = calloc(cfg->n_upstreams, sizeof(*g->upstreams));
	if (!g->upstreams)
		return -1;
	g->n_upstreams = cfg->n_upstreams;
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		struct upstream *u = &g->upstreams[i];

		u->cfg = &cfg->upstreams[i];
		u->moat = m;
		u->servers = calloc(u->cfg->n_servers, sizeof(*u->servers));
		if (!u->servers)
			return -1;
		for (size_t j = 0; j < u->cfg->n_servers; j++) {
			const struct cfg_server *sc = &u->cfg->servers[j];
			struct server *s = server_take_over(old, u->cfg->name,
							    sc->name);

			if (!s) {
				s = calloc(1, sizeof(*s));
				if (!s)
					return -1;
				/* Servers start UP, as in HAProxy: a first
				 * failed check series takes them down. */
				s->healthy = true;
				s->last_check = "none";
			}
			__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
			/* A reload that resolved other addresses starts the
			 * walks at the first one again. */
			if (s->cfg &&
			    (s->cfg->n_addrs != sc->n_addrs ||
			     memcmp(s->cfg->addrs, sc->addrs,
				    sc->n_addrs * sizeof(sc->addrs[0]))))
				__atomic_store_n(&s->addr_first, 0,
						 __ATOMIC_RELAXED);
			s->cfg = sc;
			s->up = u;
			s->weight = sc->weight;
			u->servers[u->n_servers++] = s;
		}
	}
	return 0;
}

void upstreams_free(struct gen *g)
{
	for (size_t i = 0; i < g->n_upstreams; i++) {
		struct upstream *u = &g->upstreams[i];

		for (size_t j = 0; j < u->n_servers; j++)
			if (__atomic_sub_fetch(&u->servers[j]->refs, 1,
					       __ATOMIC_ACQ_REL) == 0)
				free(u->servers[j]);
		free(u->servers);
	}
	free(g->upstreams);
	g->upstreams = NULL;
	g->n_upstreams = 0;
}

struct upstream *upstream_find(struct moat *m, const char *name)
{
	for (size_t i = 0; i < m->n_upstreams; i++)
		if (strcmp(m->upstreams[i].cfg->name, name) == 0)
			return &m->upstreams[i];
	return NULL;
}

struct server *server_find(struct moat *m, const char *path)
{
	const char *slash = strchr(path, '/');
	char uname[256];
	struct upstream *u;

	if (!slash || (size_t)(slash - path) >= sizeof(uname))
		return NULL;
	memcpy(uname, path, (size_t)(slash - path));
	uname[slash - path] = '\0';
	u = upstream_find(m, uname);
	if (!u)
		return NULL;
	for (size_t i = 0; i < u->n_servers; i++)
		if (strcmp(u->servers[i]->cfg->name, slash + 1) == 0)
			return u->servers[i];
	return NULL;
}

const char *server_status(const struct server *s)
{
	if (s->maint)
		return "MAINT";
	if (!s->healthy)
		return "DOWN";
	if (s->drain)
		return "DRAIN";
	return "UP";
}

bool server_usable(const struct server *s)
{
	return s->healthy && !s->maint && !s->drain && s->weight > 0;
}

static unsigned n_workers = 1;
static uv_mutex_t report_lock; /* health checks and passive failures */

void servers_set_workers(unsigned n)
{
	n_workers = n ? n : 1;
	uv_mutex_init(&report_lock);
}

struct srv_ctr server_sum(const struct server *s)
{
	struct srv_ctr t;

	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < n_workers; i++) {
		const struct srv_ctr *c = &s->ctr[i];

		t.total += CTR_GET(c->total);
		t.bytes_in += CTR_GET(c->bytes_in);
		t.bytes_out += CTR_GET(c->bytes_out);
		t.connect_fails += CTR_GET(c->connect_fails);
		t.active += CTR_GET(c->active);
	}
	return t;
}

struct up_ctr upstream_sum(const struct upstream *u)
{
	struct up_ctr t;

	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < n_workers; i++) {
		const struct up_ctr *c = &u->ctr[i];

		t.total += CTR_GET(c->total);
		t.bytes_in += CTR_GET(c->bytes_in);
		t.bytes_out += CTR_GET(c->bytes_out);
		t.no_server += CTR_GET(c->no_server);
	}
	return t;
}

static void report_locked(struct server *s, bool ok, const char *code)
{
	const struct cfg_health *h = &s->up->cfg->health;
	uint32_t rise = h->rise ? h->rise : 1, fall = h->fall ? h->fall : 1;
	bool was = s->healthy;

	s->last_check = code;
	s->last_check_ms = util_now_ms();
	if (ok) {
		s->fail_streak = 0;
		if (s->ok_streak < UINT32_MAX)
			s->ok_streak++;
		if (!s->healthy && s->ok_streak >= rise)
			s->healthy = true;
	} else {
		s->ok_streak = 0;
		if (s->fail_streak < UINT32_MAX)
			s->fail_streak++;
		if (s->healthy && s->fail_streak >= fall)
			s->healthy = false;
	}
	if (was != s->healthy) {
		s->last_change_ms = s->last_check_ms;
		log_event(s->healthy ? LOG_INFO : LOG_WARN,
			  s->healthy ? "server_up" : "server_down", "upstream",
			  s->up->cfg->name, "server", s->cfg->name, "address",
			  s->cfg->address, "check", code, NULL);
	}
}

void server_report(struct server *s, bool ok, const char *code)
{
	uv_mutex_lock(&report_lock);
	report_locked(s, ok, code);
	uv_mutex_unlock(&report_lock);
}

const struct cfg_server *upstream_server_cfg(const struct upstream *u,
					     const struct server *s)
{
	/* u->servers[i] was made from u->cfg->servers[i] */
	for (size_t i = 0; i < u->n_servers; i++)
		if (u->servers[i] == s)
			return &u->cfg->servers[i];
	return s->cfg;
}

void server_dial(struct server *s, const struct cfg_server *cs, struct dial *d,
		 uint64_t timeout_ms)
{
	uint32_t first = __atomic_load_n(&s->addr_first, __ATOMIC_RELAXED);

	dial_start(d, cs->addrs, cs->n_addrs, first,
		   timeout_ms < UINT32_MAX ? (uint32_t)timeout_ms : UINT32_MAX,
		   0);
}

const char *server_l4_code(int status)
{
	return status == UV_ETIMEDOUT ? "L4TOUT" : "L4CON";
}

void server_addr_failed(const struct server *s, const struct sockaddr *sa,
			int status)
{
	char a[64];

	if (log_enabled(LOG_DEBUG))
		log_event(LOG_DEBUG, "server_address_failed", "upstream",
			  s->up->cfg->name, "server", s->cfg->name, "address",
			  util_addr_str(sa, a, sizeof(a)), "check",
			  server_l4_code(status), NULL);
}

void server_addr_answered(struct server *s, const struct dial *d)
{
	__atomic_store_n(&s->addr_first, d->at, __ATOMIC_RELAXED);
}

const char *server_addrs_str(const struct server *s, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->cfg->n_addrs && at < len; i++) {
		char a[64];
		int w =
		    snprintf(buf + at, len - at, "%s%s", i ? "," : "",
			     util_addr_str(&s->cfg->addrs[i].sa, a, sizeof(a)));

		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

size_t upstream_pick(struct upstream *u, unsigned worker, const void *key,
		     size_t klen, struct server **order, size_t max)
{
	struct balance_cand cand[256];
	size_t idx[256], n = u->n_servers < 256 ? u->n_servers : 256, k;

	for (size_t i = 0; i < n; i++) {
		cand[i].name = u->servers[i]->cfg->name;
		cand[i].weight = u->servers[i]->weight;
		cand[i].active = u->cfg->balance == CFG_BAL_LEAST_CONN
					 ? server_sum(u->servers[i]).active
					 : 0;
		cand[i].usable = server_usable(u->servers[i]);
	}
	k = balance_order(u->cfg->balance, cand, n, key, klen, &u->ctr[worker].rr, idx,
			  max < 256 ? max : 256);
	for (size_t i = 0; i < k; i++)
		order[i] = u->servers[idx[i]];
	return k;
}
