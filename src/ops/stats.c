/* stats.c - the stats socket and its commands. A Unix stream socket with
 * the configured file mode; every client may send several commands, one
 * per line; a reply ends with an empty line, errors start with "error:".
 * Commands check the socket's level (read-only < operator < admin). */
#include <errno.h>
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
#include "ops/show.h"
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
		  "show tokens               access tokens: policy, JWK Set, results\n"
		  "show acl                  topic rules in force, hits, denials\n"
		  "show certs [expiring DAYS] connected devices' certificates, notAfter\n"
		  "show enroll               issuing CA, renewals by outcome\n"
		  "show ocsp [SERIAL]        cached OCSP answers\n"
		  "disable server U/S        maintenance on (operator)\n"
		  "enable server U/S         maintenance off (operator)\n"
		  "drain server U/S          no new connections (operator)\n"
		  "set weight U/S N          runtime weight 0..256 (operator)\n"
		  "kill conn ID              close that connection (admin)\n"
		  "kill client CLIENTID      close that client's connections (admin)\n"
		  "reload                    as SIGHUP; ok or the errors (admin)\n"
		  "drain                     stop accepting; MQTT 5 clients are sent\n"
		  "                          elsewhere (stop.redirect_to) (admin)\n");
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

struct kill_msg {
	struct conn_match k;
	char client_id[];
};

/* On the connection's own worker. */
static void kill_in(struct moat *w, void *arg)
{
	struct kill_msg *km = arg;

	if (w)
		conn_kill_matching(w, &km->k, "killed from the stats socket");
	free(km);
}

struct kill_count {
	const struct conn_match *k;
	int n;
};

static void kill_count_one(const struct conn_info *ci, void *arg)
{
	struct kill_count *kc = arg;

	kc->n += conn_matches(ci, kc->k);
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
		struct kill_msg *km = calloc(1, sizeof(*km) + strlen(arg) + 1);
		struct kill_count kc = {km ? &km->k : NULL, 0};

		if (!km)
			break;
		strcpy(km->client_id, arg);
		km->k = (struct conn_match){by_id, id, km->client_id};
		conn_each(w, kill_count_one, &kc);
		killed += kc.n;
		if (!kc.n)
			free(km);
		else if (w == m)
			kill_in(m, km);
		else
			worker_post(w, kill_in, km);
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
	    strcmp(w[0], "drain") == 0)
		need = CFG_LEVEL_ADMIN;
	if (need > level) {
		sb_printf(o, "error: permission denied ('%s' needs level %s)\n",
			  w[0], cfg_level_name(need));
		return;
	}
	if (strcmp(w[0], "help") == 0 && n == 1) {
		cmd_help(o);
	} else if (n >= 2 && strcmp(w[0], "show") == 0) {
		if (stats_show(m, w, n, o) < 0)
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
	} else if (n == 1 && strcmp(w[0], "drain") == 0) {
		if (moat_drain(m) == 0)
			sb_printf(o, "ok: draining\n");
		else
			sb_printf(o, "error: already %s\n",
				  m->stopping ? "stopping" : "draining");
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
