/* reload.c - configuration generations. A generation is a loaded config
 * with its TLS contexts and upstreams, reference counted: the moat holds
 * the current one and every connection holds the one it started with, so
 * a reload never changes what a live connection runs on. Listening sockets
 * whose name and bind address stay are kept open across a reload; servers
 * that keep their upstream and name keep their health and counters. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conn.h"
#include "log.h"
#include "ocsp.h"
#include "reload.h"
#include "server.h"
#include "tls.h"
#include "util.h"

static void gen_free(struct gen *g)
{
	upstreams_free(g);
	for (size_t i = 0; g->tls && i < g->cfg->n_listeners; i++)
		tls_ctx_free(g->tls[i]);
	free(g->tls);
	cfg_free(g->cfg);
	free(g);
}

void gen_put(struct gen *g)
{
	if (g && --g->refs == 0)
		gen_free(g);
}

/* Servers written as DNS names get their address now, at load and at
 * every reload (the first address the resolver gives), as HAProxy does
 * by default. This blocks the loop for as long as the resolver takes. */
static void resolve_servers(struct cfg *cfg, char **errors)
{
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		for (size_t j = 0; j < cfg->upstreams[i].n_servers; j++) {
			struct cfg_server *s = &cfg->upstreams[i].servers[j];
			struct addrinfo hints, *res = NULL;
			char host[256], port[8];
			uint16_t p;
			int r;

			if (s->addr_len ||
			    util_parse_hostport(s->address, host, sizeof(host),
						&p) < 0)
				continue;
			snprintf(port, sizeof(port), "%u", p);
			memset(&hints, 0, sizeof(hints));
			hints.ai_socktype = SOCK_STREAM;
			r = getaddrinfo(host, port, &hints, &res);
			if (r != 0 || !res) {
				errtext_add(errors,
					    "%s:%d:%d: server address: cannot "
					    "resolve '%s': %s",
					    s->address_pos.file, s->address_pos.line,
					    s->address_pos.col, host,
					    r ? gai_strerror(r) : "no address");
				continue;
			}
			memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
			s->addr_len = res->ai_addrlen;
			freeaddrinfo(res);
		}
}

struct gen *gen_load(const char *path, char **errors)
{
	static uint64_t next_id;
	struct gen *g;
	struct cfg *cfg = cfg_load(path, errors);
	char *unsup;

	if (!cfg)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g) {
		cfg_free(cfg);
		return NULL;
	}
	g->refs = 1;
	g->id = ++next_id;
	g->cfg = cfg;
	unsup = cfg_unsupported(cfg);
	if (unsup) {
		errtext_add(errors, "%.*s", (int)strlen(unsup) - 1, unsup);
		free(unsup);
	}
	resolve_servers(cfg, errors);
	g->tls = calloc(cfg->n_listeners, sizeof(*g->tls));
	for (size_t i = 0; g->tls && i < cfg->n_listeners; i++)
		g->tls[i] = tls_ctx_new(&cfg->listeners[i].tls, errors);
	if (*errors || !g->tls) {
		gen_free(g);
		return NULL;
	}
	return g;
}

void listener_put(struct listener *l)
{
	if (l && --l->refs == 0)
		free(l);
}

static void listener_closed(uv_handle_t *h)
{
	listener_put(h->data);
}

static void listener_close(struct listener *l)
{
	if (!l->open)
		return;
	l->open = 0;
	uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

void moat_close_listeners(struct moat *m)
{
	for (size_t i = 0; i < m->n_listeners; i++)
		listener_close(m->listeners[i]);
	free(m->listeners);
	m->listeners = NULL;
	m->n_listeners = 0;
}

static int same_addr(const struct cfg_listener *a, const struct cfg_listener *b)
{
	return a->addr_len == b->addr_len &&
	       memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

static struct listener *listener_bind(struct moat *m,
				      const struct cfg_listener *lc,
				      size_t i, char **errors)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return NULL;
	l->moat = m;
	l->refs = 1; /* the listening handle */
	uv_tcp_init(m->loop, &l->tcp);
	l->tcp.data = l;
	l->open = 1;
	r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&lc->addr, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&l->tcp, 1024, conn_on_accept);
	if (r < 0) {
		errtext_add(errors,
			    "%s:%d:%d: listeners[%zu].bind: cannot listen on %s: "
			    "%s",
			    lc->pos.file, lc->pos.line, lc->pos.col, i, lc->bind,
			    uv_strerror(r));
		listener_close(l);
		return NULL;
	}
	return l;
}

int moat_apply(struct moat *m, struct gen *g, char **errors)
{
	const struct cfg *cfg = g->cfg;
	struct gen *old = m->gen;
	struct listener **ls = calloc(cfg->n_listeners, sizeof(*ls));
	char *reused = calloc(m->n_listeners + 1, 1);

	if (!ls || !reused)
		goto fail;
	/* Keep the sockets of listeners whose name and address stay; bind
	 * the others. Nothing is closed before everything new is bound. */
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &cfg->listeners[i];

		for (size_t j = 0; j < m->n_listeners && !ls[i]; j++) {
			struct listener *l = m->listeners[j];

			if (!reused[j] && !strcmp(l->cfg->name, lc->name) &&
			    same_addr(l->cfg, lc)) {
				ls[i] = l;
				reused[j] = 1;
			}
		}
		if (!ls[i] && !(ls[i] = listener_bind(m, lc, i, errors)))
			goto fail;
	}
	if (upstreams_init(m, g, old) < 0) {
		errtext_add(errors, "%s: out of memory", cfg->path);
		goto fail;
	}
	/* The point of no return: swap. */
	for (size_t j = 0; j < m->n_listeners; j++)
		if (!reused[j])
			listener_close(m->listeners[j]);
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		ls[i]->cfg = &cfg->listeners[i];
		ls[i]->tls = g->tls[i];
		ls[i]->up = &g->upstreams[cfg->listeners[i].upstream_ix];
	}
	free(m->listeners);
	free(reused);
	m->listeners = ls;
	m->n_listeners = cfg->n_listeners;
	if (old)
		checks_stop(old);
	m->gen = g;
	m->cfg = g->cfg;
	m->upstreams = g->upstreams;
	m->n_upstreams = g->n_upstreams;
	log_setup((enum log_level)cfg->log_level,
		  cfg->log_format == CFG_LOG_JSON);
	{
		uint64_t most = 0;

		for (size_t i = 0; i < cfg->n_listeners; i++)
			if (cfg->listeners[i].tls.ocsp.mode != CFG_OCSP_OFF &&
			    cfg->listeners[i].tls.ocsp.cache_size > most)
				most = cfg->listeners[i].tls.ocsp.cache_size;
		if (most && m->ocsp)
			ocsp_cache_set_size(m->ocsp, (size_t)most);
	}
	if (old) /* a new CRL may revoke live sessions */
		conn_recheck_crl(m);
	gen_put(old);
	if (checks_start(m, g) < 0)
		log_event(LOG_ERROR, "checks", "result",
			  "cannot start health checks", NULL);
	return 0;
fail:
	for (size_t i = 0; ls && i < cfg->n_listeners; i++) {
		int kept = 0;

		for (size_t j = 0; j < m->n_listeners; j++)
			kept |= ls[i] == m->listeners[j];
		if (ls[i] && !kept)
			listener_close(ls[i]);
	}
	free(ls);
	free(reused);
	gen_put(g);
	return -1;
}

int moat_reload(struct moat *m, char **errors)
{
	struct gen *g;
	char id[24];
	int r = -1;

	if (m->stopping) {
		errtext_add(errors, "stopping: no reload");
		return -1;
	}
	g = gen_load(m->config_path, errors);
	if (g)
		r = moat_apply(m, g, errors);
	if (r == 0) {
		m->reloads++;
		snprintf(id, sizeof(id), "%llu", (unsigned long long)m->gen->id);
		log_event(LOG_INFO, "reload", "result", "ok", "generation", id,
			  "config", m->config_path, NULL);
	} else {
		m->reload_failures++;
		log_event(LOG_ERROR, "reload", "result",
			  "refused, the running configuration stays", "errors",
			  *errors ? *errors : "unknown", NULL);
	}
	return r;
}
