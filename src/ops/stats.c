/* stats.c - the stats socket and its commands. A Unix stream socket with
 * the configured file mode; every client may send several commands, one
 * per line; a reply ends with an empty line, errors start with "error:".
 * Commands check the socket's level (read-only < operator < admin). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn/conn.h"
#include "base/log.h"
#include "tls/ocsp.h"
#include "moat_build.h"
#include "upstream/server.h"
#include "base/scratch.h"
#include "ops/stats.h"
#include "ops/reload.h"
#include "tls/tls.h"
#include "base/util.h"
#include "core/worker.h"

#define LINE_MAX_LEN 4096

struct stats {
	struct moat *m;
	uv_pipe_t pipe;
	char *path;
	enum cfg_level level;
};

struct sclient {
	uv_pipe_t pipe;
	struct stats *st;
	char line[LINE_MAX_LEN];
	size_t len;
	int closing;
};

struct swrite {
	uv_write_t req;
	char *data;
};

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

void sb_json_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : "");
	     *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(b, "\\u%04x", *p);
		else
			sb_printf(b, "%c", *p);
	}
	sb_printf(b, "\"");
}

static uint64_t sum_rejects(const uint64_t *r)
{
	uint64_t n = 0;

	for (int i = 0; i < REJ__COUNT; i++)
		n += r[i];
	return n;
}

static void cmd_help(struct sbuf *o)
{
	sb_printf(o,
		  "help                      this list\n"
		  "show info                 process counters\n"
		  "show stat [json]          listeners, upstreams, servers\n"
		  "show servers [UPSTREAM]   server states\n"
		  "show conns                live connections\n"
		  "show workers              connections per worker thread\n"
		  "show tls                  certificates, CA, CRL dates, OCSP cache\n"
		  "show ocsp [SERIAL]        cached OCSP answers\n"
		  "disable server U/S        maintenance on (operator)\n"
		  "enable server U/S         maintenance off (operator)\n"
		  "drain server U/S          no new connections (operator)\n"
		  "set weight U/S N          runtime weight 0..256 (operator)\n"
		  "kill conn ID              close that connection (admin)\n"
		  "kill client CLIENTID      close that client's connections (admin)\n"
		  "reload                    as SIGHUP; ok or the errors (admin)\n"
		  "drain                     as SIGTERM: stop gracefully (admin)\n");
}

static void cmd_info(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	free(v.l);
	sb_printf(o, "version: %s\n", MOAT_VERSION);
	sb_printf(o, "pid: %ld\n", (long)getpid());
	sb_printf(o, "uptime: %llu\n",
		  (unsigned long long)((util_now_ms() - m->start_ms) / 1000));
	sb_printf(o, "workers: %u\n", m->n_workers);
	sb_printf(o, "conns_current: %llu\n",
		  (unsigned long long)v.conns_current);
	{
		/* heap in use, for memory per connection: glibc's, and the
		 * handshakes' own (src/scratch.c) in use and mapped */
		struct heap_stats h;

		heap_stats(&h);
		sb_printf(o, "heap_bytes: %llu\n",
			  (unsigned long long)h.malloc_bytes);
		sb_printf(o, "scratch_bytes: %llu\n",
			  (unsigned long long)h.scratch_bytes);
		sb_printf(o, "scratch_mapped_bytes: %llu\n",
			  (unsigned long long)h.scratch_mapped);
	}
	sb_printf(o, "conns_total: %llu\n", (unsigned long long)v.conns_total);
	sb_printf(o, "handshakes_ok: %llu\n",
		  (unsigned long long)v.handshakes_ok);
	sb_printf(o, "handshakes_failed: %llu\n",
		  (unsigned long long)v.handshakes_failed);
	sb_printf(o, "reloads: %llu\n", (unsigned long long)m->reloads);
	sb_printf(o, "reload_failures: %llu\n",
		  (unsigned long long)m->reload_failures);
	sb_printf(o, "generation: %llu\n", (unsigned long long)m->gen->id);
	for (int i = 0; i < REJ__COUNT; i++)
		sb_printf(o, "reject_%s: %llu\n", reject_name(i),
			  (unsigned long long)v.rejects[i]);
}

static int upstream_up(const struct upstream *u)
{
	for (size_t j = 0; j < u->n_servers; j++)
		if (server_usable(u->servers[j]))
			return 1;
	return 0;
}

static void cmd_stat_csv(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}
	sb_printf(o, "# type,name,upstream,status,weight,active,total,"
		     "bytes_in,bytes_out,rejects,check\n");
	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];

		sb_printf(o, "listener,%s,%s,OPEN,,%llu,%llu,%llu,%llu,%llu,\n",
			  l->cfg->name, l->cfg->upstream,
			  (unsigned long long)lw->active,
			  (unsigned long long)lw->accepted,
			  (unsigned long long)lw->bytes_in,
			  (unsigned long long)lw->bytes_out,
			  (unsigned long long)sum_rejects(lw->rejects));
	}
	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];
		uint64_t w = 0, act = 0;
		struct up_ctr uc = upstream_sum(u);

		for (size_t j = 0; j < u->n_servers; j++) {
			w += u->servers[j]->weight;
			act += server_sum(u->servers[j]).active;
		}
		sb_printf(o, "upstream,%s,,%s,%llu,%llu,%llu,%llu,%llu,%llu,\n",
			  u->cfg->name, upstream_up(u) ? "UP" : "DOWN",
			  (unsigned long long)w, (unsigned long long)act,
			  (unsigned long long)uc.total,
			  (unsigned long long)uc.bytes_in,
			  (unsigned long long)uc.bytes_out,
			  (unsigned long long)uc.no_server);
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			struct srv_ctr sc = server_sum(s);

			sb_printf(o,
				  "server,%s,%s,%s,%u,%u,%llu,%llu,%llu,%llu,"
				  "%s\n",
				  s->cfg->name, u->cfg->name, server_status(s),
				  s->weight, sc.active,
				  (unsigned long long)sc.total,
				  (unsigned long long)sc.bytes_in,
				  (unsigned long long)sc.bytes_out,
				  (unsigned long long)sc.connect_fails,
				  s->last_check);
		}
	}
	free(v.l);
}

static void cmd_stat_json(struct moat *m, struct sbuf *o)
{
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}
	sb_printf(o, "{\"listeners\":[");
	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];

		sb_printf(o, "%s{\"name\":", i ? "," : "");
		sb_json_str(o, l->cfg->name);
		sb_printf(o, ",\"upstream\":");
		sb_json_str(o, l->cfg->upstream);
		sb_printf(o,
			  ",\"accepted\":%llu,\"active\":%llu,\"bytes_in\":%llu,"
			  "\"bytes_out\":%llu,\"rejects\":{",
			  (unsigned long long)lw->accepted,
			  (unsigned long long)lw->active,
			  (unsigned long long)lw->bytes_in,
			  (unsigned long long)lw->bytes_out);
		for (int r = 0; r < REJ__COUNT; r++)
			sb_printf(o, "%s\"%s\":%llu", r ? "," : "",
				  reject_name(r),
				  (unsigned long long)lw->rejects[r]);
		sb_printf(o, "}}");
	}
	sb_printf(o, "],\"upstreams\":[");
	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];
		struct up_ctr uc = upstream_sum(u);

		sb_printf(o, "%s{\"name\":", i ? "," : "");
		sb_json_str(o, u->cfg->name);
		sb_printf(o,
			  ",\"balance\":\"%s\",\"status\":\"%s\",\"total\":%llu,"
			  "\"bytes_in\":%llu,\"bytes_out\":%llu,"
			  "\"no_server\":%llu,\"servers\":[",
			  cfg_balance_name(u->cfg->balance),
			  upstream_up(u) ? "UP" : "DOWN",
			  (unsigned long long)uc.total,
			  (unsigned long long)uc.bytes_in,
			  (unsigned long long)uc.bytes_out,
			  (unsigned long long)uc.no_server);
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			struct srv_ctr sc = server_sum(s);

			sb_printf(o, "%s{\"name\":", j ? "," : "");
			sb_json_str(o, s->cfg->name);
			sb_printf(o, ",\"address\":");
			sb_json_str(o, s->cfg->address);
			sb_printf(o,
				  ",\"status\":\"%s\",\"weight\":%u,"
				  "\"active\":%u,\"total\":%llu,"
				  "\"bytes_in\":%llu,\"bytes_out\":%llu,"
				  "\"connect_fails\":%llu,\"check\":\"%s\"}",
				  server_status(s), s->weight, sc.active,
				  (unsigned long long)sc.total,
				  (unsigned long long)sc.bytes_in,
				  (unsigned long long)sc.bytes_out,
				  (unsigned long long)sc.connect_fails,
				  s->last_check);
		}
		sb_printf(o, "]}");
	}
	sb_printf(o, "]}\n");
	free(v.l);
}

static void cmd_servers(struct moat *m, const char *only, struct sbuf *o)
{
	uint64_t now = util_now_ms();
	int found = 0;

	for (size_t i = 0; i < m->n_upstreams; i++) {
		struct upstream *u = &m->upstreams[i];

		if (only && strcmp(only, u->cfg->name) != 0)
			continue;
		if (!found++)
			sb_printf(o, "# upstream server address status weight "
				     "active total last_check\n");
		for (size_t j = 0; j < u->n_servers; j++) {
			struct server *s = u->servers[j];
			char ago[32] = "";
			struct srv_ctr sc = server_sum(s);

			if (s->last_check_ms)
				snprintf(ago, sizeof(ago), "/%llums",
					 (unsigned long long)(now -
							      s->last_check_ms));
			sb_printf(o, "%s %s %s %s %u %u %llu %s%s\n",
				  u->cfg->name, s->cfg->name, s->cfg->address,
				  server_status(s), s->weight, sc.active,
				  (unsigned long long)sc.total, s->last_check,
				  ago);
		}
	}
	if (!found) {
		o->len = 0;
		sb_printf(o, "error: no upstream '%s'\n", only);
	}
}

/* A value for a space-separated line: bare when it is plain, else quoted
 * with \" \\ and \xNN escapes (subjects have spaces, client ids
 * anything). */
static void sb_word(struct sbuf *o, const char *v)
{
	const unsigned char *p = (const unsigned char *)(v ? v : "-");
	int plain = *p != 0;

	for (const unsigned char *q = p; *q; q++)
		if (*q <= ' ' || *q == '"' || *q == '\\' || *q >= 0x7f)
			plain = 0;
	if (plain) {
		sb_printf(o, "%s", (const char *)p);
		return;
	}
	sb_printf(o, "\"");
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(o, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			sb_printf(o, "\\x%02x", *p);
		else
			sb_printf(o, "%c", *p);
	}
	sb_printf(o, "\"");
}

static void conns_of(struct moat *m, uint64_t now, struct sbuf *o);

static void cmd_conns(struct moat *m, struct sbuf *o)
{
	uint64_t now = util_now_ms();

	sb_printf(o, "# id peer subject client_id server state age_ms "
		     "bytes_in bytes_out queued_client queued_broker\n");
	for (unsigned k = 0; k < m->n_workers; k++) {
		struct moat *w = m->workers[k];

		/* a worker unlinks a connection under its lock before it
		 * frees it: what is listed here stays readable */
		uv_mutex_lock(&w->wlock);
		conns_of(w, now, o);
		uv_mutex_unlock(&w->wlock);
	}
}

static void conns_of(struct moat *m, uint64_t now, struct sbuf *o)
{
	char peer[64];

	for (struct conn *c = m->conns; c; c = c->next) {
		util_addr_str((const struct sockaddr *)&c->peer, peer,
			      sizeof(peer));
		sb_printf(o, "%llu %s ", (unsigned long long)c->id, peer);
		sb_word(o, c->cert.subject);
		sb_printf(o, " ");
		sb_word(o, c->client_id);
		sb_printf(o, " %s %s %llu %llu %llu %zu %zu\n",
			  c->srv ? c->srv->cfg->name : "-",
			  conn_state_name(c->state),
			  (unsigned long long)(now - c->start_ms),
			  (unsigned long long)CTR_GET(c->bytes_in),
			  (unsigned long long)CTR_GET(c->bytes_out),
			  CTR_GET(c->wq[SIDE_CLIENT]), CTR_GET(c->wq[SIDE_UPSTREAM]));
	}
}

static void cmd_server_op(struct moat *m, const char *verb, const char *path,
			  const char *arg, struct sbuf *o)
{
	struct server *s = path ? server_find(m, path) : NULL;
	char *end;
	unsigned long w;

	if (!s) {
		sb_printf(o, "error: no server '%s' (write UPSTREAM/SERVER)\n",
			  path ? path : "");
		return;
	}
	if (strcmp(verb, "disable") == 0) {
		s->maint = true;
	} else if (strcmp(verb, "enable") == 0) {
		s->maint = false;
		s->drain = false;
	} else if (strcmp(verb, "drain") == 0) {
		s->drain = true;
	} else { /* set weight */
		if (!arg || !*arg) {
			sb_printf(o, "error: set weight U/S N\n");
			return;
		}
		errno = 0;
		w = strtoul(arg, &end, 10);
		if (errno || *end || w > 256) {
			sb_printf(o, "error: weight must be 0..256\n");
			return;
		}
		s->weight = (uint32_t)w;
	}
	log_event(LOG_INFO, "server_admin", "upstream", s->up->cfg->name,
		  "server", s->cfg->name, "action", verb, "status",
		  server_status(s), NULL);
	sb_printf(o, "ok\n");
}

static void cmd_tls(struct moat *m, struct sbuf *o)
{
	int64_t now = (int64_t)time(NULL);
	char t1[32], t2[32];
	struct moat_view v;

	moat_view(m, &v);
	if (!v.l) {
		sb_printf(o, "error: out of memory\n");
		return;
	}

	for (size_t i = 0; i < m->n_listeners; i++) {
		struct listener *l = m->listeners[i];
		const struct listener_view *lw = &v.l[i];
		const struct tls_info *in = &l->tls->info;
		const struct cfg_tls *tc = &l->cfg->tls;

		sb_printf(o, "%slistener: %s\n", i ? "\n" : "", l->cfg->name);
		sb_printf(o, "cert: %s\n", tc->cert);
		sb_printf(o, "cert_subject: %s\n", in->cert_subject);
		sb_printf(o, "cert_not_after: %s\n",
			  tls_time_str(in->cert_not_after, t1, sizeof(t1)));
		sb_printf(o, "verify_client: %s\n",
			  tc->verify_client == CFG_VERIFY_REQUIRED ? "required"
			  : tc->verify_client == CFG_VERIFY_OPTIONAL ? "optional"
								  : "none");
		sb_printf(o, "client_ca: %s\n", tc->client_ca ? tc->client_ca : "-");
		sb_printf(o, "ca_first_expiring: %s\n",
			  in->ca_first_expiring[0] ? in->ca_first_expiring : "-");
		sb_printf(o, "ca_not_after: %s\n",
			  tls_time_str(in->ca_not_after, t1, sizeof(t1)));
		sb_printf(o, "crl: %s\n", tc->crl ? tc->crl : "-");
		for (int k = 0; k < in->n_crls; k++)
			sb_printf(o,
				  "crl_%d: issuer=%s this_update=%s "
				  "next_update=%s status=%s\n",
				  k, in->crl[k].issuer,
				  tls_time_str(in->crl[k].this_update, t1,
					       sizeof(t1)),
				  tls_time_str(in->crl[k].next_update, t2,
					       sizeof(t2)),
				  in->crl[k].next_update &&
						  in->crl[k].next_update < now
					  ? "EXPIRED"
					  : "ok");
		sb_printf(o, "session_tickets: %s\n",
			  tc->session_tickets ? "on" : "off");
		sb_printf(o, "handshakes: %llu\n",
			  (unsigned long long)lw->handshakes);
		sb_printf(o, "resumed: %llu\n", (unsigned long long)lw->resumed);
		if (tc->ocsp.mode == CFG_OCSP_OFF) {
			sb_printf(o, "ocsp: off\n");
		} else {
			sb_printf(o, "ocsp: %s check=%s responder=%s\n",
				  tc->ocsp.mode == CFG_OCSP_REQUIRE ? "require"
								    : "soft",
				  tc->ocsp.check == CFG_OCSP_CHAIN ? "chain"
								   : "leaf",
				  tc->ocsp.responder && tc->ocsp.responder[0]
					  ? tc->ocsp.responder
					  : "aia");
		}
		sb_printf(o, "revoked_live: %s\n",
			  tc->revoked_live == CFG_REVOKED_CLOSE ? "close"
								: "keep");
	}
	if (m->ocsp) {
		struct ocsp_stats st, *s = &st;

		ocsp_cache_stats(m->ocsp, &st);
		const struct {
			const char *name;
			uint64_t v;
		} rows[] = {
			{"ocsp_cache_size", ocsp_cache_count(m->ocsp)},
			{"ocsp_lookups", s->lookups},
			{"ocsp_hits", s->hits},
			{"ocsp_misses", s->misses},
			{"ocsp_coalesced", s->coalesced},
			{"ocsp_requests", s->requests},
			{"ocsp_errors", s->errors},
			{"ocsp_stale_used", v.ocsp_stale_used},
			{"ocsp_soft_failed", v.ocsp_soft_failed},
		};

		sb_printf(o, "\n# ocsp cache\n");
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			sb_printf(o, "%s: %llu\n", rows[i].name,
				  (unsigned long long)rows[i].v);
		sb_printf(o, "ocsp_answers: good=%llu revoked=%llu unknown=%llu\n",
			  (unsigned long long)s->good,
			  (unsigned long long)s->revoked,
			  (unsigned long long)s->unknown);
		sb_printf(o, "ocsp_evicted: %llu\n", (unsigned long long)s->evicted);
		sb_printf(o, "revoked_closed: %llu\n",
			  (unsigned long long)v.revoked_closed);
	}
	free(v.l);
}

static void cmd_ocsp(struct moat *m, const char *serial, struct sbuf *o)
{
	char *t = m->ocsp ? ocsp_show(m->ocsp, serial) : NULL;

	if (t)
		sb_printf(o, "%s", t);
	free(t);
}

struct kill_msg {
	int by_id;
	uint64_t id;
	char client_id[];
};

static int kill_match(const struct conn *c, const struct kill_msg *k)
{
	return c->state < CS_CLOSING &&
	       (k->by_id ? c->id == k->id
			 : (c->client_id &&
			    strcmp(c->client_id, k->client_id) == 0));
}

/* On the connection's own worker. */
static void kill_in(struct moat *w, void *arg)
{
	struct kill_msg *k = arg;
	struct conn *next;

	for (struct conn *c = w ? w->conns : NULL; c; c = next) {
		next = c->next;
		if (kill_match(c, k))
			conn_kill(c, "killed from the stats socket");
	}
	free(k);
}

static void cmd_kill(struct moat *m, int by_id, const char *arg,
		     struct sbuf *o)
{
	int killed = 0;
	char *end;
	unsigned long long id = by_id ? strtoull(arg, &end, 10) : 0;

	if (by_id && *end) {
		sb_printf(o, "error: kill conn ID: '%s' is not a number\n", arg);
		return;
	}
	/* Count here, close on each connection's own worker. */
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct moat *w = m->workers[i];
		struct kill_msg *k = calloc(1, sizeof(*k) + strlen(arg) + 1);
		int n = 0;

		if (!k)
			break;
		k->by_id = by_id;
		k->id = id;
		strcpy(k->client_id, arg);
		uv_mutex_lock(&w->wlock);
		for (struct conn *c = w->conns; c; c = c->next)
			n += kill_match(c, k);
		uv_mutex_unlock(&w->wlock);
		killed += n;
		if (!n)
			free(k);
		else if (w == m)
			kill_in(m, k);
		else
			worker_post(w, kill_in, k);
	}
	if (!killed)
		sb_printf(o, "error: no such %s '%s'\n",
			  by_id ? "connection" : "client", arg);
	else
		sb_printf(o, "ok: %d closed\n", killed);
}

/* Split a line into at most max words (modifies line). */
static int split(char *line, char **w, int max)
{
	int n = 0;

	for (char *tok = strtok(line, " \t\r"); tok && n < max;
	     tok = strtok(NULL, " \t\r"))
		w[n++] = tok;
	return n;
}

void stats_exec(struct moat *m, enum cfg_level level, const char *line,
		struct sbuf *o)
{
	char buf[LINE_MAX_LEN];
	char *w[6] = {0};
	int n;
	enum cfg_level need = CFG_LEVEL_READONLY;

	snprintf(buf, sizeof(buf), "%s", line);
	n = split(buf, w, 6);
	if (n == 0) {
		sb_printf(o, "error: empty command, try 'help'\n");
		return;
	}
	if (strcmp(w[0], "disable") == 0 || strcmp(w[0], "enable") == 0 ||
	    strcmp(w[0], "drain") == 0 || strcmp(w[0], "set") == 0)
		need = CFG_LEVEL_OPERATOR;
	if (strcmp(w[0], "kill") == 0 || strcmp(w[0], "reload") == 0 ||
	    (n == 1 && strcmp(w[0], "drain") == 0))
		need = CFG_LEVEL_ADMIN;
	if (need > level) {
		sb_printf(o, "error: permission denied ('%s' needs level %s)\n",
			  w[0], cfg_level_name(need));
		return;
	}
	if (strcmp(w[0], "help") == 0 && n == 1) {
		cmd_help(o);
	} else if (n >= 2 && strcmp(w[0], "show") == 0) {
		if (strcmp(w[1], "info") == 0 && n == 2)
			cmd_info(m, o);
		else if (strcmp(w[1], "stat") == 0 && n == 2)
			cmd_stat_csv(m, o);
		else if (strcmp(w[1], "stat") == 0 && n == 3 &&
			 strcmp(w[2], "json") == 0)
			cmd_stat_json(m, o);
		else if (strcmp(w[1], "servers") == 0 && n <= 3)
			cmd_servers(m, w[2], o);
		else if (strcmp(w[1], "conns") == 0 && n == 2)
			cmd_conns(m, o);
		else if (strcmp(w[1], "workers") == 0 && n == 2)
			workers_show(m, o);
		else if (strcmp(w[1], "tls") == 0 && n == 2)
			cmd_tls(m, o);
		else if (strcmp(w[1], "ocsp") == 0 && n <= 3)
			cmd_ocsp(m, n == 3 ? w[2] : NULL, o);
		else
			sb_printf(o, "error: unknown command '%s', try "
				     "'help'\n", line);
	} else if (n == 3 && strcmp(w[1], "server") == 0 &&
		   (strcmp(w[0], "disable") == 0 ||
		    strcmp(w[0], "enable") == 0 ||
		    strcmp(w[0], "drain") == 0)) {
		cmd_server_op(m, w[0], w[2], NULL, o);
	} else if (n == 3 && strcmp(w[0], "kill") == 0 &&
		   (strcmp(w[1], "conn") == 0 || strcmp(w[1], "client") == 0)) {
		cmd_kill(m, w[1][0] == 'c' && w[1][1] == 'o', w[2], o);
	} else if (n == 1 && strcmp(w[0], "reload") == 0) {
		char *errors = NULL;

		if (moat_reload(m, &errors) == 0) {
			sb_printf(o, "ok\n");
		} else {
			/* one "error:" line per problem, as --check prints */
			for (char *l = strtok(errors ? errors : (char *)"failed",
					      "\n");
			     l; l = strtok(NULL, "\n"))
				sb_printf(o, "error: %s\n", l);
		}
		free(errors);
	} else if (n == 1 && strcmp(w[0], "drain") == 0) {
		/* the whole process: exactly what SIGTERM does (stop
		 * accepting, MQTT 5 DISCONNECT 0x9C or 0x8B, drain, exit) */
		sb_printf(o, "ok: draining\n");
		uv_kill(getpid(), SIGTERM);
	} else if (n == 4 && strcmp(w[0], "set") == 0 &&
		   strcmp(w[1], "weight") == 0) {
		cmd_server_op(m, "set weight", w[2], w[3], o);
	} else {
		sb_printf(o, "error: unknown command '%s', try 'help'\n", line);
	}
}

static void client_closed(uv_handle_t *h)
{
	free(h->data);
}

static void client_close(struct sclient *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->pipe, client_closed);
}

static void on_reply_written(uv_write_t *req, int status)
{
	struct swrite *w = (struct swrite *)req;

	(void)status;
	free(w->data);
	free(w);
}

static void reply(struct sclient *c, struct sbuf *o)
{
	struct swrite *w;
	uv_buf_t b;

	sb_printf(o, "\n");
	if (o->oom) {
		free(o->p);
		client_close(c);
		return;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		free(o->p);
		client_close(c);
		return;
	}
	w->data = o->p;
	b = uv_buf_init(o->p, (unsigned)o->len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
		     on_reply_written) < 0) {
		free(w->data);
		free(w);
		client_close(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct sclient *c = h->data;

	(void)hint;
	b->base = c->line + c->len;
	b->len = sizeof(c->line) - c->len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct sclient *c = s->data;
	char *nl;

	(void)b;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->line, '\n', c->len))) {
		struct sbuf o = {0};
		size_t used = (size_t)(nl - c->line) + 1;

		*nl = '\0';
		stats_exec(c->st->m, c->st->m->cfg->stats.level, c->line, &o);
		reply(c, &o);
		memmove(c->line, c->line + used, c->len - used);
		c->len -= used;
		if (c->closing)
			return;
	}
	if (c->len == sizeof(c->line)) {
		struct sbuf o = {0};

		sb_printf(&o, "error: line too long\n");
		reply(c, &o);
		client_close(c);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct stats *st = server->data;
	struct sclient *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->st = st;
	uv_pipe_init(st->m->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		client_close(c);
}

int stats_start(struct moat *m, char **errors)
{
	const struct cfg_stats *sc = &m->cfg->stats;
	struct stats *st;
	int r;

	if (!sc->socket)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	st->m = m;
	st->level = sc->level;
	st->path = strdup(sc->socket);
	uv_pipe_init(m->loop, &st->pipe, 0);
	st->pipe.data = st;
	m->stats = st;
	unlink(sc->socket); /* a stale socket from a previous run */
	r = uv_pipe_bind(&st->pipe, sc->socket);
	if (r == 0)
		r = chmod(sc->socket, sc->mode) < 0 ? -errno : 0;
	if (r == 0)
		r = uv_listen((uv_stream_t *)&st->pipe, 16, on_connection);
	if (r < 0) {
		errtext_add(errors, "%s: stats.socket: cannot listen on '%s': %s",
			    m->cfg->path, sc->socket, uv_strerror(r));
		return -1;
	}
	return 0;
}

static void stats_closed(uv_handle_t *h)
{
	struct stats *st = h->data;

	free(st->path);
	free(st);
}

void stats_stop(struct moat *m)
{
	struct stats *st = m->stats;

	if (!st)
		return;
	m->stats = NULL;
	unlink(st->path);
	uv_close((uv_handle_t *)&st->pipe, stats_closed);
}
