/* reload.c - configuration generations. A generation is a loaded config
 * with its TLS contexts and upstreams, reference counted: the moat holds
 * the current one and every connection holds the one it started with, so
 * a reload never changes what a live connection runs on. Listening sockets
 * whose name and bind address stay are kept open across a reload; servers
 * that keep their upstream and name keep their health and counters. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwk.h"
#include "auth/jwks_url.h"
#include "upstream/check.h"
#include "conn/conn.h"
#include "base/log.h"
#include "tls/issue.h"
#include "tls/ocsp.h"
#include "ops/reload.h"
#include "upstream/server.h"
#include "tls/tls.h"
#include "base/util.h"
#include "core/worker.h"

static void gen_free(struct gen *g)
{
	upstreams_free(g);
	for (size_t i = 0; g->tls && i < g->cfg->n_listeners; i++)
		tls_ctx_free(g->tls[i]);
	free(g->tls);
	for (size_t i = 0; g->jwks && i < g->cfg->n_listeners; i++)
		jwks_put(g->jwks[i]);
	free(g->jwks);
	for (size_t i = 0; g->jwks_src && i < g->cfg->n_listeners; i++)
		jwks_src_put(g->jwks_src[i]);
	free(g->jwks_src);
	for (size_t i = 0; g->issuers && i < g->cfg->n_listeners; i++)
		issuer_free(g->issuers[i]);
	free(g->issuers);
	cfg_free(g->cfg);
	free(g);
}

void gen_put(struct gen *g)
{
	if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
		gen_free(g);
}

/* Servers written as DNS names get their addresses now, at load and at
 * every reload: every IPv4 and IPv6 address the resolver gives, in its
 * order unless the upstream's resolve_prefer puts one family first. A
 * connect tries them in turn (server_dial). This blocks the loop for
 * as long as the resolver takes. */
static void resolve_servers(struct cfg *cfg, char **errors)
{
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		for (size_t j = 0; j < cfg->upstreams[i].n_servers; j++) {
			struct cfg_upstream *u = &cfg->upstreams[i];
			struct cfg_server *s = &u->servers[j];
			struct addrinfo hints, *res = NULL;
			char host[256], port[8];
			uint16_t p;
			size_t n = 0;
			int r;

			if (s->n_addrs ||
			    util_parse_hostport(s->address, host, sizeof(host),
						&p) < 0)
				continue;
			snprintf(port, sizeof(port), "%u", p);
			memset(&hints, 0, sizeof(hints));
			hints.ai_socktype = SOCK_STREAM;
			r = getaddrinfo(host, port, &hints, &res);
			if (r == 0 && res)
				n = cfg_server_set_addrs(s, res,
							 u->resolve_prefer);
			if (n == 0)
				errtext_add(errors,
					    "%s:%d:%d: server address: cannot "
					    "resolve '%s': %s",
					    s->address_pos.file,
					    s->address_pos.line,
					    s->address_pos.col, host,
					    r ? gai_strerror(r)
					      : "no IPv4 or IPv6 address");
			if (res)
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
		if (!cfg->listeners[i].ws.plain) /* ws:// has no TLS */
			g->tls[i] = tls_ctx_new(&cfg->listeners[i], errors);
	g->jwks = calloc(cfg->n_listeners, sizeof(*g->jwks));
	g->jwks_src = calloc(cfg->n_listeners, sizeof(*g->jwks_src));
	for (size_t i = 0; g->jwks && g->jwks_src && i < cfg->n_listeners;
	     i++) {
		const struct cfg_token *t = &cfg->listeners[i].mqtt.token;
		const struct cfg_pos *at =
			t->jwks_ca ? &t->jwks_ca_pos : &t->jwks_url_pos;
		char msg[512];

		if (t->when == CFG_TOKEN_OFF)
			continue;
		if (t->jwks &&
		    jwks_load_file(t->jwks, &g->jwks[i], msg, sizeof(msg)) < 0)
			errtext_add(errors, "%s (mqtt.token.jwks at %s:%d:%d)",
				    msg, t->jwks_pos.file, t->jwks_pos.line,
				    t->jwks_pos.col);
		/* the URL and the CAs are checked here, with no network */
		if (t->jwks_url &&
		    jwks_src_new(t, &g->jwks_src[i], msg, sizeof(msg)) < 0)
			errtext_add(errors, "%s:%d:%d: %s", at->file, at->line,
				    at->col, msg);
	}
	g->issuers = calloc(cfg->n_listeners, sizeof(*g->issuers));
	for (size_t i = 0; g->issuers && i < cfg->n_listeners; i++) {
		const struct cfg_listener *l = &cfg->listeners[i];
		const struct cfg_pos *at;
		char msg[512];

		if (!l->mqtt.enroll.on || !l->mqtt.enroll.ca_cert ||
		    !l->mqtt.enroll.ca_key || !l->mqtt.enroll.index)
			continue;
		if (g->tls && g->tls[i] &&
		    tls_ctx_enroll(g->tls[i], &l->mqtt.enroll, errors) < 0)
			continue;
		g->issuers[i] = issuer_new(&l->mqtt.enroll, l->tls.client_ca,
					   l->mqtt.identity, msg, sizeof(msg),
					   &at);
		if (!g->issuers[i])
			errtext_add(errors, "%s:%d:%d: %s", at->file, at->line,
				    at->col, msg);
	}
	if (*errors || !g->tls || !g->jwks || !g->jwks_src || !g->issuers) {
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
	uv_mutex_lock(&m->wlock);
	for (size_t i = 0; i < m->n_listeners; i++)
		listener_close(m->listeners[i]);
	free(m->listeners);
	m->listeners = NULL;
	m->n_listeners = 0;
	uv_mutex_unlock(&m->wlock);
}

static int same_addr(const struct cfg_listener *a, const struct cfg_listener *b)
{
	return a->addr_len == b->addr_len &&
	       memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

/* With several workers each binds its own socket to the same address
 * with SO_REUSEPORT, and the kernel spreads new connections over them.
 * libuv has no flag for it: the socket is made here and uv_tcp_open'ed.
 * Returns the listening fd or a negative errno. */
static int reuseport_socket(const struct cfg_listener *lc)
{
	int one = 1, e;
	int fd = socket(lc->addr.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&lc->addr,
		 (socklen_t)lc->addr_len) < 0 ||
	    listen(fd, 1024) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* fd: a socket made by reuseport_socket, or -1 to make one here. */
static struct listener *listener_bind(struct moat *m,
				      const struct cfg_listener *lc,
				      size_t i, int fd, char **errors)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	l->moat = m;
	l->refs = 1; /* the listening handle */
	uv_tcp_init(m->loop, &l->tcp);
	l->tcp.data = l;
	l->open = 1;
	if (fd < 0 && m->main->n_workers > 1)
		fd = reuseport_socket(lc);
	if (fd >= 0) {
		r = uv_tcp_open(&l->tcp, fd);
		if (r < 0)
			close(fd);
	} else if (m->main->n_workers > 1) {
		r = fd;
	} else {
		r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&lc->addr, 0);
	}
	/* accepted sockets inherit TCP_NODELAY: one system call less per
	 * connection than setting it on each */
	if (r == 0)
		r = uv_tcp_nodelay(&l->tcp, 1);
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

/* What a worker other than the main one gets on a reload: the new
 * generation (one reference for it) and, per listener, a socket already
 * bound for it, or -1 where it keeps its own. */
struct apply_msg {
	struct gen *g;
	size_t n;
	int fds[];
};

static struct listener *find_kept(struct listener **old, size_t n,
				  char *reused, const struct cfg_listener *lc)
{
	for (size_t j = 0; j < n; j++) {
		struct listener *l = old[j];

		if (!reused[j] && !strcmp(l->cfg->name, lc->name) &&
		    same_addr(l->cfg, lc)) {
			reused[j] = 1;
			return l;
		}
	}
	return NULL;
}

/* Swap a worker's listeners and generation; the caller made them. */
static void swap_in(struct moat *m, struct gen *g, struct listener **ls,
		    const char *reused)
{
	const struct cfg *cfg = g->cfg;
	struct gen *old = m->gen;

	uv_mutex_lock(&m->wlock);
	for (size_t j = 0; j < m->n_listeners; j++)
		if (!reused[j])
			listener_close(m->listeners[j]);
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		ls[i]->cfg = &cfg->listeners[i];
		ls[i]->tls = g->tls[i];
		ls[i]->up = &g->upstreams[cfg->listeners[i].upstream_ix];
	}
	free(m->listeners);
	m->listeners = ls;
	m->n_listeners = cfg->n_listeners;
	m->gen = g;
	m->cfg = g->cfg;
	m->upstreams = g->upstreams;
	m->n_upstreams = g->n_upstreams;
	uv_mutex_unlock(&m->wlock);
	if (old) { /* a new CRL may revoke live sessions, new topic rules
		      deny their subscriptions */
		conn_recheck_crl(m);
		conn_recheck_acl(m);
	}
	gen_put(old);
}

/* Close what was made for a change that does not happen: the listeners
 * of ls[0..n) that are not among m's own, and sockets never opened. */
static void close_unused(struct moat *m, struct listener **ls, size_t n)
{
	for (size_t i = 0; ls && i < n; i++) {
		int kept = 0;

		for (size_t j = 0; j < m->n_listeners; j++)
			kept |= ls[i] == m->listeners[j];
		if (ls[i] && !kept)
			listener_close(ls[i]);
	}
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* On a worker's loop (or before its thread starts). */
static void worker_apply(struct moat *w, void *arg)
{
	struct apply_msg *a = arg;
	const struct cfg *cfg = a->g->cfg;
	struct listener **ls = NULL;
	char *reused = NULL;
	size_t i = 0;

	if (w && !w->stopping) {
		ls = calloc(cfg->n_listeners, sizeof(*ls));
		reused = calloc(w->n_listeners + 1, 1);
	}
	for (; ls && reused && i < cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &cfg->listeners[i];
		char *err = NULL;

		if (a->fds[i] >= 0)
			ls[i] = listener_bind(w, lc, i, a->fds[i], &err);
		else
			ls[i] = find_kept(w->listeners, w->n_listeners, reused,
					  lc);
		a->fds[i] = -1;
		if (!ls[i]) { /* the main bound it: should not happen */
			log_event(LOG_ERROR, "worker", "result",
				  "cannot listen", "listener", lc->name,
				  "errors", err, NULL);
			free(err);
			break;
		}
	}
	if (ls && reused && i == cfg->n_listeners) {
		swap_in(w, a->g, ls, reused);
	} else { /* gone, stopping, or out of memory: keep what runs */
		if (w)
			close_unused(w, ls, cfg->n_listeners);
		free(ls);
		gen_put(a->g);
	}
	close_fds(a->fds, a->n);
	free(reused);
	free(a);
}

void moat_jwks_stop(struct moat *m)
{
	for (size_t i = 0; i < m->n_jwks_fetchers; i++)
		jwks_fetcher_free(m->jwks_fetchers[i]);
	free(m->jwks_fetchers);
	m->jwks_fetchers = NULL;
	m->n_jwks_fetchers = 0;
}

/* The JWK Sets of g's jwks_url listeners: each starts with the set of the
 * same-named listener of old, if any, so a reload never leaves a listener
 * without keys while its first fetch runs; then fetched at once. At start
 * (no old) the first fetch is waited for, bounded by jwks_timeout, so
 * tokens are checked from the first CONNECT; if it fails moat starts
 * anyway and refuses tokens (token_invalid) until a fetch succeeds. */
static void jwks_apply(struct moat *m, struct gen *g, struct gen *old)
{
	const struct cfg *cfg = g->cfg;
	struct jwks_fetcher **fs = calloc(cfg->n_listeners, sizeof(*fs));

	moat_jwks_stop(m);
	if (!fs) {
		log_event(LOG_ERROR, "jwks_fetch", "result",
			  "out of memory: no JWK Set fetch", NULL);
		return;
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct jwks_src *s = g->jwks_src[i];
		const char *name = cfg->listeners[i].name;

		if (!s)
			continue;
		for (size_t j = 0; old && j < old->cfg->n_listeners; j++)
			if (old->jwks_src[j] &&
			    !strcmp(old->cfg->listeners[j].name, name))
				jwks_src_inherit(s, old->jwks_src[j]);
		if (!old && jwks_src_fetch_now(s, name) < 0)
			log_event(LOG_ERROR, "jwks_fetch", "listener", name,
				  "url", s->url, "result",
				  "starting without a JWK Set: tokens are "
				  "refused until a fetch succeeds",
				  NULL);
		fs[i] = jwks_fetcher_new(m->loop, s, name);
		if (fs[i])
			jwks_fetcher_start(fs[i],
					   old ? 0 : jwks_src_next_delay(s));
	}
	m->jwks_fetchers = fs;
	m->n_jwks_fetchers = cfg->n_listeners;
}

int moat_apply(struct moat *m, struct gen *g, char **errors)
{
	const struct cfg *cfg = g->cfg;
	struct gen *old = m->gen;
	struct listener **ls = calloc(cfg->n_listeners, sizeof(*ls));
	char *reused = calloc(m->n_listeners + 1, 1);
	unsigned nw = m->n_workers ? m->n_workers : 1;
	struct apply_msg **msgs = calloc(nw, sizeof(*msgs));

	if (!ls || !reused || !msgs)
		goto fail;
	for (unsigned k = 1; k < nw; k++) {
		msgs[k] = calloc(1, sizeof(**msgs) +
					   cfg->n_listeners * sizeof(int));
		if (!msgs[k])
			goto fail;
		msgs[k]->n = cfg->n_listeners;
		for (size_t i = 0; i < cfg->n_listeners; i++)
			msgs[k]->fds[i] = -1;
	}
	/* Keep the sockets of listeners whose name and address stay; bind
	 * the others (for every worker). Nothing is closed before everything
	 * new is bound. */
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &cfg->listeners[i];

		ls[i] = find_kept(m->listeners, m->n_listeners, reused, lc);
		if (ls[i])
			continue;
		if (!(ls[i] = listener_bind(m, lc, i, -1, errors)))
			goto fail;
		for (unsigned k = 1; k < nw; k++) {
			int fd = reuseport_socket(lc);

			if (fd < 0) {
				errtext_add(errors,
					    "%s:%d:%d: listeners[%zu].bind: "
					    "cannot listen on %s (worker %u): %s",
					    lc->pos.file, lc->pos.line,
					    lc->pos.col, i, lc->bind, k,
					    uv_strerror(fd));
				goto fail;
			}
			msgs[k]->fds[i] = fd;
		}
	}
	if (upstreams_init(m, g, old) < 0) {
		errtext_add(errors, "%s: out of memory", cfg->path);
		goto fail;
	}
	/* The point of no return: swap, here and in every worker. */
	if (old)
		checks_stop(old);
	jwks_apply(m, g, old);
	swap_in(m, g, ls, reused);
	free(reused);
	for (unsigned k = 1; k < nw; k++) {
		struct moat *w = m->workers[k];

		__atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
		msgs[k]->g = g;
		if (w->running)
			worker_post(w, worker_apply, msgs[k]);
		else
			worker_apply(w, msgs[k]);
	}
	free(msgs);
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
	if (checks_start(m, g) < 0)
		log_event(LOG_ERROR, "checks", "result",
			  "cannot start health checks", NULL);
	return 0;
fail:
	close_unused(m, ls, cfg->n_listeners);
	for (unsigned k = 1; msgs && k < nw; k++) {
		if (msgs[k])
			close_fds(msgs[k]->fds, msgs[k]->n);
		free(msgs[k]);
	}
	free(msgs);
	free(ls);
	free(reused);
	gen_put(g);
	return -1;
}

uint64_t moat_files_signature(const struct cfg *c)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t j = 0; c && j < 4 * c->n_listeners; j++) {
		const struct cfg_listener *l = &c->listeners[j / 4];
		const char *path = j % 4 == 0	? l->tls.crl
				   : j % 4 == 1 ? l->tls.ticket_keys
				   : j % 4 == 2 ? l->mqtt.token.jwks
						: l->mqtt.acl.rules_file;
		struct stat st;
		uint64_t v[4] = {0, 0, 0, 0};

		if (!path)
			continue;
		if (stat(path, &st) == 0) {
			v[0] = (uint64_t)st.st_mtim.tv_sec;
			v[1] = (uint64_t)st.st_mtim.tv_nsec;
			v[2] = (uint64_t)st.st_size;
			v[3] = (uint64_t)st.st_ino;
		}
		for (int k = 0; k < 4; k++)
			h = (h ^ v[k]) * 1099511628211ull;
	}
	return h;
}

int moat_reload(struct moat *m, char **errors)
{
	struct gen *g;
	char id[24];
	int r = -1;

	if (m->stopping || m->draining) {
		errtext_add(errors, m->stopping ? "stopping: no reload"
						: "draining: no reload (the "
						  "listeners stay closed)");
		return -1;
	}
	uint64_t sig = 0;

	g = gen_load(m->config_path, errors);
	if (g) {
		/* the watched files as this load read them: the watch then
		 * reloads only when they change again (a reload that adds a
		 * listener changes the set of files, not the files) */
		sig = moat_files_signature(g->cfg);
		r = moat_apply(m, g, errors);
	}
	if (r == 0)
		m->crl_sig = sig;
	if (r == 0 && m->gen->cfg->workers != m->n_workers) {
		char want[16], run[16];

		snprintf(want, sizeof(want), "%u", m->gen->cfg->workers);
		snprintf(run, sizeof(run), "%u", m->n_workers);
		log_event(LOG_WARN, "reload", "workers", want, "running", run,
			  "result", "workers changes at the next restart", NULL);
	}
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

static void w_drain(struct moat *w, void *arg)
{
	(void)arg;
	if (!w)
		return;
	moat_close_listeners(w);
	conn_stop_all(w);
}

int moat_drain(struct moat *m)
{
	char n[24];

	if (m->stopping || m->draining)
		return -1;
	m->draining = 1;
	snprintf(n, sizeof(n), "%llu", (unsigned long long)CTR_GET(m->live));
	log_event(LOG_INFO, "drain", "connections", n, "redirect_to",
		  m->cfg->stop_redirect_to, NULL);
	for (unsigned k = 1; k < m->n_workers; k++)
		worker_post(m->workers[k], w_drain, NULL);
	w_drain(m, NULL);
	return 0;
}
