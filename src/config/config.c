/* config.c - the YAML configuration into typed structs (config.h).
 * libyaml loads the document; each section has one function that walks its
 * mapping, converts every value and reports problems as FILE:LINE:COL at
 * the key or value at fault, collecting as many as it can in one pass.
 * Relative file paths are resolved against the config file's directory, so
 * a config and its certificates can move together.
 * This file is the parser's core: errors, the typed getters, the walk over
 * a mapping, the top level (limits, log, stop, stats), the cross-checks,
 * cfg_load and cfg_free. listeners[] are read in config_listener.c,
 * upstreams[] in config_upstream.c (config_int.h is what they share). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config.h"
#include "config/config_int.h"

#define MAX_ERRORS 50

void err_at(struct pctx *x, int line, int col, const char *fmt, ...)
{
	char msg[768], lineb[1024];
	va_list ap;
	int n;
	char *ne;

	if (++x->nerr > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(lineb, sizeof(lineb), "%s:%d:%d: %s\n", x->path, line,
		     col, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(lineb))
		n = sizeof(lineb) - 1;
	ne = realloc(x->errors, x->elen + (size_t)n + 1);
	if (!ne)
		return;
	memcpy(ne + x->elen, lineb, (size_t)n + 1);
	x->errors = ne;
	x->elen += (size_t)n;
}

void warn_at(struct pctx *x, struct cfg_pos p, const char *fmt, ...)
{
	char msg[768], lineb[1024];
	struct cfg *c = x->cfg;
	size_t have = c->warnings ? strlen(c->warnings) : 0;
	va_list ap;
	int n;
	char *nw;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(lineb, sizeof(lineb), "%s:%d:%d: warning: %s\n", x->path,
		     p.line, p.col, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(lineb))
		n = sizeof(lineb) - 1;
	if (!(nw = realloc(c->warnings, have + (size_t)n + 1)))
		return;
	memcpy(nw + have, lineb, (size_t)n + 1);
	c->warnings = nw;
}

void cfg_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

node_t *N(struct pctx *x, int id)
{
	return yaml_document_get_node(&x->doc, id);
}

struct cfg_pos pos_of(struct pctx *x, const node_t *n)
{
	struct cfg_pos p = {x->cfg->path, (int)n->start_mark.line + 1,
			    (int)n->start_mark.column + 1};
	return p;
}

static const char *kind_name(const node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

const char *scalar(const node_t *n)
{
	return (const char *)n->data.scalar.value;
}

int want_map(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	ERR(x, n, "%s: expected a mapping, found %s", what, kind_name(n));
	return -1;
}

int want_seq(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	ERR(x, n, "%s: expected a list, found %s", what, kind_name(n));
	return -1;
}

int want_scalar(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	ERR(x, n, "%s: expected a scalar value, found %s", what,
	    kind_name(n));
	return -1;
}

int get_str(struct pctx *x, node_t *n, const char *what, char **out)
{
	if (want_scalar(x, n, what))
		return -1;
	free(*out);
	*out = strdup(scalar(n));
	return *out ? 0 : -1;
}

int get_bool(struct pctx *x, node_t *n, const char *what, bool *out)
{
	if (want_scalar(x, n, what))
		return -1;
	if (strcmp(scalar(n), "true") == 0) {
		*out = true;
	} else if (strcmp(scalar(n), "false") == 0) {
		*out = false;
	} else {
		ERR(x, n, "%s: expected true or false, found '%s'", what,
		    scalar(n));
		return -1;
	}
	return 0;
}

int get_uint(struct pctx *x, node_t *n, const char *what, uint64_t min,
	     uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (want_scalar(x, n, what))
		return -1;
	errno = 0;
	v = strtoull(scalar(n), &end, 10);
	if (errno || end == scalar(n) || *end || scalar(n)[0] == '-' ||
	    v < min || v > max) {
		ERR(x, n, "%s: expected an integer from %llu to %llu, found '%s'",
		    what, (unsigned long long)min, (unsigned long long)max,
		    scalar(n));
		return -1;
	}
	*out = v;
	return 0;
}

int get_u32(struct pctx *x, node_t *n, const char *what, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (get_uint(x, n, what, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int get_duration(struct pctx *x, node_t *n, const char *what, uint64_t *out)
{
	if (want_scalar(x, n, what))
		return -1;
	if (util_parse_duration(scalar(n), out) < 0) {
		ERR(x, n, "%s: bad duration '%s' (write 500ms, 2s, 5m, 1h or 90d)",
		    what, scalar(n));
		return -1;
	}
	return 0;
}

int get_size(struct pctx *x, node_t *n, const char *what, uint64_t *out)
{
	if (want_scalar(x, n, what))
		return -1;
	if (util_parse_size(scalar(n), out) < 0) {
		ERR(x, n, "%s: bad size '%s' (write 512, 64KiB or 1MiB)", what,
		    scalar(n));
		return -1;
	}
	return 0;
}

/* names is NULL-terminated; the index found is stored in *out. */
int get_enum(struct pctx *x, node_t *n, const char *what,
	     const char *const *names, int *out)
{
	char allowed[256] = "";

	if (want_scalar(x, n, what))
		return -1;
	for (int i = 0; names[i]; i++) {
		if (strcmp(scalar(n), names[i]) == 0) {
			*out = i;
			return 0;
		}
		snprintf(allowed + strlen(allowed),
			 sizeof(allowed) - strlen(allowed), "%s%s",
			 i ? ", " : "", names[i]);
	}
	ERR(x, n, "%s: '%s' is not one of: %s", what, scalar(n), allowed);
	return -1;
}

/* A file the config names: resolved against the config's directory and
 * checked for reading now, so --check catches a wrong path. */
int get_path(struct pctx *x, node_t *n, const char *what, char **out,
	     struct cfg_pos *pos, int must_read)
{
	const char *v;
	char *p;
	FILE *f;

	if (want_scalar(x, n, what))
		return -1;
	v = scalar(n);
	if (!*v) {
		ERR(x, n, "%s: empty path", what);
		return -1;
	}
	if (v[0] == '/' || !x->dir[0]) {
		p = strdup(v);
	} else {
		p = malloc(strlen(x->dir) + strlen(v) + 1);
		if (p) {
			strcpy(p, x->dir);
			strcat(p, v);
		}
	}
	if (!p)
		return -1;
	free(*out);
	*out = p;
	if (pos)
		*pos = pos_of(x, n);
	if (must_read) {
		f = fopen(p, "r");
		if (!f) {
			ERR(x, n, "%s: cannot read '%s': %s", what, p,
			    strerror(errno));
			return -1;
		}
		fclose(f);
	}
	return 0;
}

void each_pair(struct pctx *x, node_t *map, const char *section, pair_fn fn,
	       void *arg)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		node_t *k = N(x, p->key), *v = N(x, p->value);
		int dup = 0;

		if (!k || !v)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			ERR(x, k, "%s: keys must be plain names", section);
			continue;
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start;
		     q < p; q++) {
			node_t *k2 = N(x, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    strcmp(scalar(k2), scalar(k)) == 0)
				dup = 1;
		}
		if (dup) {
			ERR(x, k, "%s: duplicate key '%s'", section, scalar(k));
			continue;
		}
		if (!fn(x, scalar(k), k, v, arg))
			ERR(x, k, "unknown key '%s' in %s", scalar(k), section);
	}
}

node_t *find_key(struct pctx *x, node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		node_t *k = N(x, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp(scalar(k), key) == 0)
			return N(x, p->value);
	}
	return NULL;
}

static const char *const log_level_names[] = {"error", "warn", "info",
					      "debug", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};
static const char *const level_names[] = {"read-only", "operator", "admin",
					  NULL};

const char *cfg_level_name(enum cfg_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "?";
}

/* ---- limits ---- */

static int per_source_pair(struct pctx *x, const char *key, node_t *k,
			   node_t *v, void *arg)
{
	struct cfg_limits *l = arg;

	(void)k;
	if (!strcmp(key, "max_connections"))
		get_uint(x, v, "limits.per_source.max_connections", 0,
			 UINT32_MAX, &l->per_source_max_connections);
	else if (!strcmp(key, "new_per_second"))
		get_uint(x, v, "limits.per_source.new_per_second", 0,
			 UINT32_MAX, &l->per_source_new_per_second);
	else
		return 0;
	return 1;
}

static int limits_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_limits *l = arg;

	if (!strcmp(key, "max_connections")) {
		get_uint(x, v, "limits.max_connections", 1, 10000000,
			 &l->max_connections);
	} else if (!strcmp(key, "handshake_timeout")) {
		get_duration(x, v, "limits.handshake_timeout",
			     &l->handshake_timeout_ms);
	} else if (!strcmp(key, "connect_timeout")) {
		get_duration(x, v, "limits.connect_timeout",
			     &l->connect_timeout_ms);
	} else if (!strcmp(key, "drain_timeout")) {
		get_duration(x, v, "limits.drain_timeout",
			     &l->drain_timeout_ms);
	} else if (!strcmp(key, "max_packet_size")) {
		if (get_size(x, v, "limits.max_packet_size",
			     &l->max_packet_size) == 0 &&
		    (l->max_packet_size < 16 ||
		     l->max_packet_size > 268435460)) {
			ERR(x, v, "limits.max_packet_size: must be from 16 "
				  "bytes to 256MiB");
		}
	} else if (!strcmp(key, "per_source")) {
		l->per_source_set = true;
		l->per_source_pos = pos_of(x, k);
		if (want_map(x, v, "limits.per_source") == 0)
			each_pair(x, v, "limits.per_source", per_source_pair,
				  l);
	} else {
		return 0;
	}
	return 1;
}

static int log_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		    void *arg)
{
	struct cfg *c = arg;

	(void)k;
	if (!strcmp(key, "level"))
		GET_ENUM(x, v, "log.level", log_level_names, c->log_level);
	else if (!strcmp(key, "format"))
		GET_ENUM(x, v, "log.format", log_format_names, c->log_format);
	else
		return 0;
	return 1;
}

/* stop.redirect_to: the MQTT 5 Server Reference sent with DISCONNECT
 * 0x9C; a "host[:port]" or several separated by spaces (MQTT 5, 4.11),
 * printable ASCII so that it reaches clients as written. */
static int stop_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		     void *arg)
{
	struct cfg *c = arg;

	(void)k;
	if (strcmp(key, "redirect_to"))
		return 0;
	if (get_str(x, v, "stop.redirect_to", &c->stop_redirect_to) < 0)
		return 1;
	if (!*c->stop_redirect_to || strlen(c->stop_redirect_to) > 1024) {
		ERR(x, v, "stop.redirect_to: 1 to 1024 characters");
		return 1;
	}
	for (const char *p = c->stop_redirect_to; *p; p++)
		if (*p < 0x20 || *p > 0x7e) {
			ERR(x, v, "stop.redirect_to: printable ASCII only "
				  "(host:port, space-separated)");
			break;
		}
	return 1;
}

/* ---- stats and root ---- */

static int stats_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		      void *arg)
{
	struct cfg_stats *s = arg;

	if (!strcmp(key, "socket")) {
		get_path(x, v, "stats.socket", &s->socket, NULL, 0);
	} else if (!strcmp(key, "mode")) {
		if (want_scalar(x, v, "stats.mode") == 0) {
			char *end;
			unsigned long m = strtoul(scalar(v), &end, 8);

			if (!*scalar(v) || *end || m > 0777)
				ERR(x, v, "stats.mode: expected an octal file "
					  "mode like \"0600\", found '%s'",
				    scalar(v));
			else
				s->mode = (uint32_t)m;
		}
	} else if (!strcmp(key, "level")) {
		GET_ENUM(x, v, "stats.level", level_names, s->level);
	} else if (!strcmp(key, "metrics")) {
		s->metrics_pos = pos_of(x, k);
		if (get_str(x, v, "stats.metrics", &s->metrics) == 0 &&
		    util_parse_addr(s->metrics, &s->metrics_addr,
				    &s->metrics_addr_len) < 0)
			ERR(x, v, "stats.metrics: bad address '%s'",
			    s->metrics);
	} else {
		return 0;
	}
	return 1;
}

static int root_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		     void *arg)
{
	struct cfg *c = arg;

	if (!strcmp(key, "workers")) {
		c->workers_pos = pos_of(x, k);
		if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "auto")) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);

			c->workers = n <= 0		   ? 1
				     : n > CFG_MAX_WORKERS ? CFG_MAX_WORKERS
							   : (uint32_t)n;
		} else if (v->type == YAML_SCALAR_NODE &&
			   (scalar(v)[0] < '0' || scalar(v)[0] > '9')) {
			ERR(x, v, "workers: expected auto or an integer from 1 "
				  "to %d, found '%s'",
			    CFG_MAX_WORKERS, scalar(v));
		} else {
			get_u32(x, v, "workers", 1, CFG_MAX_WORKERS,
				&c->workers);
		}
	} else if (!strcmp(key, "worker_placement")) {
		const char *s = v->type == YAML_SCALAR_NODE ? scalar(v) : "";

		if (!strcmp(s, "spread"))
			c->spread = 1;
		else if (strcmp(s, "pack"))
			ERR(x, v,
			    "worker_placement: expected pack or spread, found "
			    "'%s'",
			    s);
	} else if (!strcmp(key, "user")) {
		get_str(x, v, "user", &c->user);
	} else if (!strcmp(key, "group")) {
		get_str(x, v, "group", &c->group);
	} else if (!strcmp(key, "limits")) {
		if (want_map(x, v, "limits") == 0)
			each_pair(x, v, "limits", limits_pair, &c->limits);
	} else if (!strcmp(key, "log")) {
		if (want_map(x, v, "log") == 0)
			each_pair(x, v, "log", log_pair, c);
	} else if (!strcmp(key, "stop")) {
		if (want_map(x, v, "stop") == 0)
			each_pair(x, v, "stop", stop_pair, c);
	} else if (!strcmp(key, "listeners")) {
		parse_listeners(x, v);
	} else if (!strcmp(key, "upstreams")) {
		parse_upstreams(x, v);
	} else if (!strcmp(key, "stats")) {
		if (want_map(x, v, "stats") == 0)
			each_pair(x, v, "stats", stats_pair, &c->stats);
	} else {
		return 0;
	}
	return 1;
}

static void cross_check(struct pctx *x, node_t *root)
{
	struct cfg *c = x->cfg;
	node_t *ls = find_key(x, root, "listeners");
	node_t *us = find_key(x, root, "upstreams");

	if (!ls)
		ERR(x, root, "missing key 'listeners'");
	else if (c->n_listeners == 0 && ls->type == YAML_SEQUENCE_NODE)
		ERR(x, ls, "listeners: at least one listener is needed");
	if (!us)
		ERR(x, root, "missing key 'upstreams'");
	else if (c->n_upstreams == 0 && us->type == YAML_SEQUENCE_NODE)
		ERR(x, us, "upstreams: at least one upstream is needed");
	for (size_t i = 0; i < c->n_upstreams; i++)
		for (size_t j = 0; j < i; j++)
			if (c->upstreams[i].name && c->upstreams[j].name &&
			    !strcmp(c->upstreams[i].name, c->upstreams[j].name))
				err_at(x, c->upstreams[i].pos.line,
				       c->upstreams[i].pos.col,
				       "upstreams[%zu]: duplicate upstream name "
				       "'%s'",
				       i, c->upstreams[i].name);
	for (size_t i = 0; i < c->n_listeners; i++) {
		struct cfg_listener *l = &c->listeners[i];
		int found = 0;

		for (size_t j = 0; j < i; j++)
			if (l->name && c->listeners[j].name &&
			    !strcmp(l->name, c->listeners[j].name))
				err_at(x, l->pos.line, l->pos.col,
				       "listeners[%zu]: duplicate listener name "
				       "'%s'",
				       i, l->name);
		for (size_t j = 0; l->upstream && j < c->n_upstreams; j++) {
			if (c->upstreams[j].name &&
			    !strcmp(c->upstreams[j].name, l->upstream)) {
				l->upstream_ix = j;
				found = 1;
			}
		}
		if (l->upstream && !found)
			err_at(x, l->pos.line, l->pos.col,
			       "listeners[%zu]: upstream '%s' is not defined "
			       "in upstreams",
			       i, l->upstream);
	}
}

struct cfg *cfg_load(const char *path, char **errors)
{
	struct pctx x = {0};
	yaml_parser_t parser;
	FILE *f;
	node_t *root;
	struct cfg *c = calloc(1, sizeof(*c));
	const char *slash;

	*errors = NULL;
	if (!c)
		return NULL;
	c->path = strdup(path);
	x.path = path;
	x.cfg = c;
	slash = strrchr(path, '/');
	x.dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0);
	c->workers = 1;
	c->limits.max_connections = 100000;
	c->limits.handshake_timeout_ms = 5000;
	c->limits.connect_timeout_ms = 10000;
	c->limits.max_packet_size = 1024 * 1024;
	c->limits.drain_timeout_ms = 30000;
	c->log_level = CFG_LOG_INFO;
	c->stats.mode = 0600;
	c->stats.level = CFG_LEVEL_ADMIN;
	if (!c->path || !x.dir)
		goto fail;

	f = fopen(path, "rb");
	if (!f) {
		err_at(&x, 1, 1, "cannot read the configuration: %s",
		       strerror(errno));
		goto fail;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &x.doc)) {
		err_at(&x, (int)parser.problem_mark.line + 1,
		       (int)parser.problem_mark.column + 1, "YAML: %s%s%s",
		       parser.problem ? parser.problem : "syntax error",
		       parser.context ? " " : "",
		       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		goto fail;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	root = yaml_document_get_root_node(&x.doc);
	if (!root) {
		err_at(&x, 1, 1, "the configuration is empty");
	} else if (want_map(&x, root, "configuration") == 0) {
		each_pair(&x, root, "the configuration", root_pair, c);
		cross_check(&x, root);
	}
	yaml_document_delete(&x.doc);
	if (x.nerr)
		goto fail;
	free(x.dir);
	return c;
fail:
	if (x.nerr > MAX_ERRORS) {
		char more[64];
		char *ne;

		snprintf(more, sizeof(more), "%s: %d more errors\n", path,
			 x.nerr - MAX_ERRORS);
		ne = realloc(x.errors, x.elen + strlen(more) + 1);
		if (ne) {
			strcpy(ne + x.elen, more);
			x.errors = ne;
		}
	}
	*errors = x.errors ? x.errors : strdup("configuration: out of memory\n");
	free(x.dir);
	cfg_free(c);
	return NULL;
}

/* Every key the parser accepts is implemented in this build: the hook
 * stays for keys a future build parses before it implements them. */
char *cfg_unsupported(const struct cfg *c)
{
	(void)c;
	return NULL;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_listeners; i++) {
		struct cfg_listener *l = &c->listeners[i];

		free(l->name);
		free(l->bind);
		free(l->proxy_from);
		free(l->upstream);
		free(l->tls.cert);
		free(l->tls.key);
		free(l->tls.client_ca);
		free(l->tls.crl);
		free(l->tls.staple_file);
		free(l->tls.ticket_keys);
		free(l->tls.ocsp.responder);
		free(l->mqtt.token.jwks);
		free(l->mqtt.token.jwks_url);
		free(l->mqtt.token.jwks_ca);
		free(l->mqtt.token.issuer);
		free(l->mqtt.token.audience);
		free(l->mqtt.token.identity_claim);
		cfg_acl_free(&l->mqtt.acl);
		enroll_free(&l->mqtt.enroll);
		cfg_strv_free(l->ws.paths, l->ws.n_paths);
		cfg_strv_free(l->ws.origins, l->ws.n_origins);
	}
	free(c->listeners);
	for (size_t i = 0; i < c->n_upstreams; i++) {
		struct cfg_upstream *u = &c->upstreams[i];

		for (size_t j = 0; j < u->n_servers; j++) {
			free(u->servers[j].name);
			free(u->servers[j].address);
		}
		free(u->servers);
		free(u->name);
	}
	free(c->upstreams);
	free(c->user);
	free(c->stop_redirect_to);
	free(c->warnings);
	free(c->group);
	free(c->stats.socket);
	free(c->stats.metrics);
	free(c->path);
	free(c);
}
