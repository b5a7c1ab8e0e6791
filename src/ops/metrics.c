/* metrics.c - a minimal HTTP/1.x endpoint for Prometheus. It answers
 * GET /metrics with the text exposition format (0.0.4) and anything else
 * with 404, one request per connection, then closes. Requests are bounded
 * (8 KiB, 5 s); the reply is built from the counters at that moment. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth/jwks_url.h"
#include "ops/certs.h"
#include "ops/metrics.h"
#include "tls/ocsp.h"
#include "base/scratch.h"
#include "moat_build.h"
#include "upstream/server.h"
#include "ops/stats.h"
#include "tls/tls.h"
#include "base/util.h"
#include "core/worker.h"

#define REQ_MAX 8192
#define REQ_TIMEOUT_MS 5000

struct metrics {
	struct moat *m;
	uv_tcp_t tcp;
};

struct mclient {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct moat *m;
	char req[REQ_MAX];
	size_t len;
	char *reply;
	int handles;
	int done;
};

static void histo_render(struct sbuf *o, const char *name, const char *help,
			 const struct histo *h)
{
	uint64_t cum = 0;

	sb_printf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < HISTO_BUCKETS; i++) {
		cum += h->n[i];
		sb_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name, histo_bounds[i],
			  (unsigned long long)cum);
	}
	sb_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		  (unsigned long long)h->count);
	sb_printf(o, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
		  (unsigned long long)h->count);
}

/* Label values are names from the config: escape \ " and newline. */
static void lv(struct sbuf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sb_printf(o, "\\%c", *v);
		else if (*v == '\n')
			sb_printf(o, "\\n");
		else
			sb_printf(o, "%c", *v);
	}
}

enum {
	SM_UP,
	SM_STATUS,
	SM_WEIGHT,
	SM_ACTIVE,
	SM_TOTAL,
	SM_FAILS,
	SM_BYTES,
	SM__COUNT
};

static const struct {
	const char *name, *type, *help;
} server_fams[SM__COUNT] = {
	{"moat_server_up", "gauge",
	 "1 when the server takes new connections (UP), else 0."},
	{"moat_server_status", "gauge",
	 "1 for the server's status among UP, DOWN, MAINT and DRAIN."},
	{"moat_server_weight", "gauge", "Runtime weight."},
	{"moat_server_connections_active", "gauge",
	 "Connections forwarded to the server now."},
	{"moat_server_connections_total", "counter",
	 "Connections forwarded to the server."},
	{"moat_server_connect_failures_total", "counter",
	 "Failed or timed-out connects to the server."},
	{"moat_server_bytes_total", "counter",
	 "MQTT bytes: in = to the server, out = from the server."},
};

static void slabels(struct sbuf *o, const char *name, const struct upstream *u,
		    const struct server *s)
{
	sb_printf(o, "%s{upstream=\"", name);
	lv(o, u->cfg->name);
	sb_printf(o, "\",server=\"");
	lv(o, s->cfg->name);
	sb_printf(o, "\"");
}

/* One metric family for every server: samples of a family stay together. */
static void server_family(struct moat *m, struct sbuf *o, int k)
{
	static const char *const st[] = {"UP", "DOWN", "MAINT", "DRAIN"};
	const char *name = server_fams[k].name;

	sb_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name,
		  server_fams[k].help, name, server_fams[k].type);
	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];

		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			struct srv_ctr sc = server_sum(s);

			switch (k) {
			case SM_STATUS:
				for (int q = 0; q < 4; q++) {
					slabels(o, name, u, s);
					sb_printf(o, ",status=\"%s\"} %d\n", st[q],
						  !strcmp(server_status(s),
							  st[q]));
				}
				continue;
			case SM_BYTES:
				slabels(o, name, u, s);
				sb_printf(o, ",direction=\"in\"} %llu\n",
					  (unsigned long long)sc.bytes_in);
				slabels(o, name, u, s);
				sb_printf(o, ",direction=\"out\"} %llu\n",
					  (unsigned long long)sc.bytes_out);
				continue;
			}
			slabels(o, name, u, s);
			sb_printf(o, "} %llu\n",
				  (unsigned long long)(
					  k == SM_UP ? server_usable(s)
					  : k == SM_WEIGHT ? s->weight
					  : k == SM_ACTIVE ? sc.active
					  : k == SM_TOTAL ? sc.total
							  : sc.connect_fails));
		}
	}
}

#define HEAD(name, type, help)                                              \
	sb_printf(o, "# HELP " name " " help "\n# TYPE " name " " type "\n")

/* The process figures every Prometheus client library exports (same
 * names), and moat's two heaps. */
static void process_render(const struct moat *m, struct sbuf *o)
{
	struct rusage ru;
	struct heap_stats h;
	long pages = 0, fds = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	DIR *d = opendir("/proc/self/fd");

	if (f) {
		if (fscanf(f, "%*s %ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)))
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--; /* the directory's own descriptor */
	}
	getrusage(RUSAGE_SELF, &ru);
	HEAD("process_cpu_seconds_total", "counter",
	     "User and system CPU time spent in seconds.");
	sb_printf(o, "process_cpu_seconds_total %.3f\n",
		  (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			  ((double)ru.ru_utime.tv_usec +
			   (double)ru.ru_stime.tv_usec) / 1e6);
	HEAD("process_resident_memory_bytes", "gauge",
	     "Resident memory size in bytes.");
	sb_printf(o, "process_resident_memory_bytes %lld\n",
		  (long long)pages * sysconf(_SC_PAGESIZE));
	HEAD("process_open_fds", "gauge", "Number of open file descriptors.");
	sb_printf(o, "process_open_fds %ld\n", fds);
	HEAD("process_start_time_seconds", "gauge",
	     "Start time of the process since unix epoch in seconds.");
	sb_printf(o, "process_start_time_seconds %lld\n",
		  (long long)m->start_time);
	heap_stats(&h);
	HEAD("moat_heap_bytes", "gauge",
	     "Memory moat has allocated, by heap: malloc (sessions, "
	     "connections) and scratch (TLS handshakes in progress; "
	     "scratch_mapped: its chunks with pages mapped).");
	sb_printf(o, "moat_heap_bytes{heap=\"malloc\"} %llu\n",
		  (unsigned long long)h.malloc_bytes);
	sb_printf(o, "moat_heap_bytes{heap=\"scratch\"} %llu\n",
		  (unsigned long long)h.scratch_bytes);
	sb_printf(o, "moat_heap_bytes{heap=\"scratch_mapped\"} %llu\n",
		  (unsigned long long)h.scratch_mapped);
}

void metrics_render(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		o->oom = 1;
		return;
	}
	HEAD("moat_info", "gauge", "Version of moat.");
	sb_printf(o, "moat_info{version=\"%s\"} 1\n", MOAT_VERSION);
	HEAD("moat_uptime_seconds", "gauge", "Seconds since start.");
	sb_printf(o, "moat_uptime_seconds %llu\n",
		  (unsigned long long)((util_now_ms() - m->start_ms) / 1000));
	HEAD("moat_draining", "gauge",
	     "1 once `drain` closed the listeners.");
	sb_printf(o, "moat_draining %d\n", m->draining);
	HEAD("moat_tokens_total", "counter",
	     "Access tokens (JWT) checked at CONNECT, by result.");
	{
		static const struct {
			const char *result;
			enum reject_cause r;
		} tk[] = {{"missing", REJ_TOKEN_MISSING},
			  {"invalid", REJ_TOKEN_INVALID},
			  {"expired", REJ_TOKEN_EXPIRED},
			  {"claims", REJ_TOKEN_CLAIMS}};

		sb_printf(o, "moat_tokens_total{result=\"ok\"} %llu\n",
			  (unsigned long long)v.tokens_ok);
		for (size_t i = 0; i < sizeof(tk) / sizeof(tk[0]); i++)
			sb_printf(o, "moat_tokens_total{result=\"%s\"} %llu\n",
				  tk[i].result,
				  (unsigned long long)v.rejects[tk[i].r]);
	}
	HEAD("moat_jwks_fetch_total", "counter",
	     "Fetches of a listener's JWK Set from its jwks_url, by result.");
	for (size_t i = 0; i < m->gen->cfg->n_listeners; i++) {
		const struct jwks_src *s = m->gen->jwks_src[i];

		for (int ok = 1; s && ok >= 0; ok--) {
			sb_printf(o, "moat_jwks_fetch_total{listener=\"");
			lv(o, m->gen->cfg->listeners[i].name);
			sb_printf(o, "\",result=\"%s\"} %llu\n",
				  ok ? "ok" : "error",
				  (unsigned long long)(ok ? s->fetch_ok
							  : s->fetch_errors));
		}
	}
	process_render(m, o);
	HEAD("moat_connections_active", "gauge", "Connections open now.");
	sb_printf(o, "moat_connections_active %llu\n",
		  (unsigned long long)v.conns_current);
	HEAD("moat_handshakes_total", "counter", "TLS handshakes by result.");
	sb_printf(o, "moat_handshakes_total{result=\"ok\"} %llu\n",
		  (unsigned long long)v.handshakes_ok);
	sb_printf(o, "moat_handshakes_total{result=\"failed\"} %llu\n",
		  (unsigned long long)v.handshakes_failed);
	HEAD("moat_reloads_total", "counter", "Configuration reloads by result.");
	sb_printf(o, "moat_reloads_total{result=\"ok\"} %llu\n",
		  (unsigned long long)m->reloads);
	sb_printf(o, "moat_reloads_total{result=\"refused\"} %llu\n",
		  (unsigned long long)m->reload_failures);

	HEAD("moat_listener_connections_total", "counter",
	     "Connections accepted per listener (transport tcp or ws).");
	for (size_t i = 0; i < m->n_listeners; i++) {
		sb_printf(o, "moat_listener_connections_total{listener=\"");
		lv(o, m->listeners[i]->cfg->name);
		sb_printf(o, "\",transport=\"%s\"} %llu\n",
			  m->listeners[i]->cfg->ws.on ? "ws" : "tcp",
			  (unsigned long long)v.l[i].accepted);
	}
	HEAD("moat_listener_connections_active", "gauge",
	     "Connections open now per listener.");
	for (size_t i = 0; i < m->n_listeners; i++) {
		sb_printf(o, "moat_listener_connections_active{listener=\"");
		lv(o, m->listeners[i]->cfg->name);
		sb_printf(o, "\",transport=\"%s\"} %llu\n",
			  m->listeners[i]->cfg->ws.on ? "ws" : "tcp",
			  (unsigned long long)v.l[i].active);
	}
	HEAD("moat_listener_resumed_handshakes_total", "counter",
	     "Handshakes that resumed a session (ticket) per listener.");
	for (size_t i = 0; i < m->n_listeners; i++) {
		sb_printf(o, "moat_listener_resumed_handshakes_total{listener=\"");
		lv(o, m->listeners[i]->cfg->name);
		sb_printf(o, "\"} %llu\n",
			  (unsigned long long)v.l[i].resumed);
	}
	HEAD("moat_listener_bytes_total", "counter",
	     "MQTT bytes per listener: in = from devices, out = to devices.");
	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];

		sb_printf(o, "moat_listener_bytes_total{listener=\"");
		lv(o, l->cfg->name);
		sb_printf(o, "\",direction=\"in\"} %llu\n",
			  (unsigned long long)v.l[i].bytes_in);
		sb_printf(o, "moat_listener_bytes_total{listener=\"");
		lv(o, l->cfg->name);
		sb_printf(o, "\",direction=\"out\"} %llu\n",
			  (unsigned long long)v.l[i].bytes_out);
	}
	HEAD("moat_rejects_total", "counter",
	     "Refusals per listener and cause: connections, and packets "
	     "denied by topic rules (acl_publish, acl_subscribe).");
	for (size_t i = 0; i < m->n_listeners; i++)
		for (int r = 0; r < REJ__COUNT; r++) {
			sb_printf(o, "moat_rejects_total{listener=\"");
			lv(o, m->listeners[i]->cfg->name);
			sb_printf(o, "\",cause=\"%s\"} %llu\n", reject_name(r),
				  (unsigned long long)v.l[i].rejects[r]);
		}

	HEAD("moat_acl_rule_hits_total", "counter",
	     "Packets each topic rule decided (rule=\"no_match\": none did), "
	     "since the rules were loaded.");
	for (size_t i = 0; i < m->gen->cfg->n_listeners; i++) {
		const struct cfg_listener *lc = &m->gen->cfg->listeners[i];
		const struct cfg_acl *a = &lc->mqtt.acl;

		for (size_t r = 0; a->on && r <= a->n_rules; r++) {
			sb_printf(o, "moat_acl_rule_hits_total{listener=\"");
			lv(o, lc->name);
			if (r < a->n_rules)
				sb_printf(o, "\",rule=\"%zu\"} ", r + 1);
			else
				sb_printf(o, "\",rule=\"no_match\"} ");
			sb_printf(o, "%llu\n",
				  (unsigned long long)__atomic_load_n(
				      &a->hits[r], __ATOMIC_RELAXED));
		}
	}
	for (int k = 0; k < SM__COUNT; k++)
		server_family(m, o, k);
	histo_render(o, "moat_handshake_duration_seconds",
		     "Time from accept to the end of the TLS handshake.",
		     &v.h_handshake);
	histo_render(o, "moat_upstream_connect_duration_seconds",
		     "Time to connect to a broker.", &v.h_upstream_connect);
	certs_metrics(m, o);
	enroll_metrics(m, o);
	if (m->ocsp) {
		struct ocsp_stats st, *s = &st;
		static const char *res[] = {"hit", "miss", "coalesced"};
		uint64_t lk[3];
		uint64_t an[4];

		ocsp_cache_stats(m->ocsp, &st);
		lk[0] = s->hits;
		lk[1] = s->misses;
		lk[2] = s->coalesced;
		static const char *ans[] = {"good", "revoked", "unknown",
					    "error"};
		an[0] = s->good;
		an[1] = s->revoked;
		an[2] = s->unknown;
		an[3] = s->errors;

		HEAD("moat_ocsp_lookups_total", "counter",
		     "OCSP lookups of client certificates by how the cache "
		     "answered.");
		for (int i = 0; i < 3; i++)
			sb_printf(o, "moat_ocsp_lookups_total{result=\"%s\"} %llu\n",
				  res[i], (unsigned long long)lk[i]);
		HEAD("moat_ocsp_responses_total", "counter",
		     "OCSP requests sent to responders by result.");
		for (int i = 0; i < 4; i++)
			sb_printf(o,
				  "moat_ocsp_responses_total{result=\"%s\"} %llu\n",
				  ans[i], (unsigned long long)an[i]);
		HEAD("moat_ocsp_stale_used_total", "counter",
		     "Handshakes accepted on a stale cached good answer "
		     "(stale_if_error).");
		sb_printf(o, "moat_ocsp_stale_used_total %llu\n",
			  (unsigned long long)v.ocsp_stale_used);
		HEAD("moat_ocsp_soft_failed_total", "counter",
		     "Handshakes accepted without a usable answer (mode soft).");
		sb_printf(o, "moat_ocsp_soft_failed_total %llu\n",
			  (unsigned long long)v.ocsp_soft_failed);
		HEAD("moat_ocsp_cache_entries", "gauge",
		     "OCSP answers in the cache.");
		sb_printf(o, "moat_ocsp_cache_entries %zu\n",
			  ocsp_cache_count(m->ocsp));
		HEAD("moat_revoked_closed_total", "counter",
		     "Live sessions closed because their certificate was "
		     "revoked.");
		sb_printf(o, "moat_revoked_closed_total %llu\n",
			  (unsigned long long)v.revoked_closed);
		histo_render(o, "moat_ocsp_request_duration_seconds",
			     "Time from sending an OCSP request to its answer "
			     "or failure.",
			     &s->latency);
	}
	free(v.l);
}

static void client_closed(uv_handle_t *h)
{
	struct mclient *c = h->data;

	if (--c->handles == 0) {
		free(c->reply);
		free(c);
	}
}

static void client_close(struct mclient *c)
{
	if (c->done)
		return;
	c->done = 1;
	uv_close((uv_handle_t *)&c->timer, client_closed);
	uv_close((uv_handle_t *)&c->tcp, client_closed);
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	client_close(req->data);
}

static void respond(struct mclient *c, const char *status, struct sbuf *body)
{
	struct sbuf o = {0};
	uv_buf_t b[1];

	sb_printf(&o,
		  "HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4; "
		  "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		  status, body->len);
	if (o.oom || body->oom) {
		free(o.p);
		free(body->p);
		client_close(c);
		return;
	}
	/* one buffer for the headers and the body, freed with the client */
	c->reply = realloc(o.p, o.len + body->len + 1);
	if (!c->reply) {
		free(o.p);
		free(body->p);
		client_close(c);
		return;
	}
	memcpy(c->reply + o.len, body->p ? body->p : "", body->len);
	free(body->p);
	b[0] = uv_buf_init(c->reply, (unsigned)(o.len + body->len));
	c->wreq.data = c;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, b, 1, on_written) < 0)
		client_close(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct mclient *c = h->data;

	(void)hint;
	b->base = c->req + c->len;
	b->len = sizeof(c->req) - 1 - c->len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mclient *c = s->data;
	struct sbuf body = {0};

	(void)b;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n")) {
		if (c->len >= sizeof(c->req) - 1)
			client_close(c);
		return;
	}
	if (strncmp(c->req, "GET /metrics ", 13) == 0 ||
	    strncmp(c->req, "GET /metrics?", 13) == 0) {
		metrics_render(c->m, &body);
		respond(c, "200 OK", &body);
	} else {
		sb_printf(&body, "not found: try /metrics\n");
		respond(c, "404 Not Found", &body);
	}
}

static void on_timeout(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct metrics *mt = server->data;
	struct mclient *c;

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->m = mt->m;
	uv_tcp_init(mt->m->loop, &c->tcp);
	uv_timer_init(mt->m->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		client_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, REQ_TIMEOUT_MS, 0);
}

int metrics_start(struct moat *m, char **errors)
{
	const struct cfg_stats *sc = &m->cfg->stats;
	struct metrics *mt;
	int r;

	if (!sc->metrics)
		return 0;
	mt = calloc(1, sizeof(*mt));
	if (!mt)
		return -1;
	mt->m = m;
	m->metrics = mt;
	uv_tcp_init(m->loop, &mt->tcp);
	mt->tcp.data = mt;
	r = uv_tcp_bind(&mt->tcp, (const struct sockaddr *)&sc->metrics_addr, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&mt->tcp, 64, on_connection);
	if (r < 0) {
		errtext_add(errors, "%s:%d:%d: stats.metrics: cannot listen on %s: %s",
			    sc->metrics_pos.file, sc->metrics_pos.line,
			    sc->metrics_pos.col, sc->metrics, uv_strerror(r));
		return -1;
	}
	return 0;
}

static void metrics_closed(uv_handle_t *h)
{
	free(h->data);
}

void metrics_stop(struct moat *m)
{
	if (!m->metrics)
		return;
	uv_close((uv_handle_t *)&m->metrics->tcp, metrics_closed);
	m->metrics = NULL;
}
