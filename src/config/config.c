/* config.c - the YAML configuration into typed structs (config.h).
 * libyaml loads the document; each section has one function that walks its
 * mapping, converts every value and reports problems as FILE:LINE:COL at
 * the key or value at fault, collecting as many as it can in one pass.
 * Relative file paths are resolved against the config file's directory, so
 * a config and its certificates can move together. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config/config.h"

#define MAX_SERVERS 256
#define MAX_ERRORS 50

struct pctx {
	const char *path; /* == cfg->path */
	char *dir;        /* directory of the config file, with '/' */
	yaml_document_t doc;
	struct cfg *cfg;
	char *errors;
	size_t elen;
	int nerr;
};

typedef yaml_node_t node_t;

static void err_at(struct pctx *x, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err_at(struct pctx *x, int line, int col, const char *fmt, ...)
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

#define ERR(x, node, ...)                                                   \
	err_at(x, (int)(node)->start_mark.line + 1,                         \
	       (int)(node)->start_mark.column + 1, __VA_ARGS__)

static node_t *N(struct pctx *x, int id)
{
	return yaml_document_get_node(&x->doc, id);
}

static struct cfg_pos pos_of(struct pctx *x, const node_t *n)
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

static const char *scalar(const node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int want_map(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_MAPPING_NODE)
		return 0;
	ERR(x, n, "%s: expected a mapping, found %s", what, kind_name(n));
	return -1;
}

static int want_seq(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return 0;
	ERR(x, n, "%s: expected a list, found %s", what, kind_name(n));
	return -1;
}

static int want_scalar(struct pctx *x, node_t *n, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	ERR(x, n, "%s: expected a scalar value, found %s", what,
	    kind_name(n));
	return -1;
}

static int get_str(struct pctx *x, node_t *n, const char *what, char **out)
{
	if (want_scalar(x, n, what))
		return -1;
	free(*out);
	*out = strdup(scalar(n));
	return *out ? 0 : -1;
}

static int get_bool(struct pctx *x, node_t *n, const char *what, bool *out)
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

static int get_uint(struct pctx *x, node_t *n, const char *what,
		    uint64_t min, uint64_t max, uint64_t *out)
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

static int get_u32(struct pctx *x, node_t *n, const char *what, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (get_uint(x, n, what, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int get_duration(struct pctx *x, node_t *n, const char *what,
			uint64_t *out)
{
	if (want_scalar(x, n, what))
		return -1;
	if (util_parse_duration(scalar(n), out) < 0) {
		ERR(x, n, "%s: bad duration '%s' (write 500ms, 2s, 5m or 1h)",
		    what, scalar(n));
		return -1;
	}
	return 0;
}

static int get_size(struct pctx *x, node_t *n, const char *what,
		    uint64_t *out)
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
static int get_enum(struct pctx *x, node_t *n, const char *what,
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

#define GET_ENUM(x, n, what, names, field)                                 \
	do {                                                                \
		int v_;                                                     \
		if (get_enum(x, n, what, names, &v_) == 0)                  \
			field = v_;                                         \
	} while (0)

/* A file the config names: resolved against the config's directory and
 * checked for reading now, so --check catches a wrong path. */
static int get_path(struct pctx *x, node_t *n, const char *what, char **out,
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

/* Walk a mapping; reports duplicate keys and non-scalar keys, calls fn for
 * each remaining pair. fn returns 1 when it knew the key, 0 otherwise. */
typedef int (*pair_fn)(struct pctx *x, const char *key, node_t *k,
		       node_t *v, void *arg);

static void each_pair(struct pctx *x, node_t *map, const char *section,
		      pair_fn fn, void *arg)
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

static node_t *find_key(struct pctx *x, node_t *map, const char *key)
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

static const char *const verify_names[] = {"required", "optional", "none",
					   NULL};
static const char *const identity_names[] = {"none", "cn", "san-dns",
					     "san-uri", NULL};
static const char *const balance_names[] = {"round-robin",
					    "least-connections", "client-id",
					    NULL};
static const char *const health_names[] = {"none", "tcp", "mqtt", NULL};
static const char *const ocsp_mode_names[] = {"off", "soft", "require", NULL};
static const char *const ocsp_check_names[] = {"leaf", "chain", NULL};
static const char *const proxy_names[] = {"off", "v1", "v2", NULL};
static const char *const prefer_names[] = {"any", "ipv4", "ipv6", NULL};
static const char *const crl_expired_names[] = {"warn", "reject", NULL};
static const char *const revoked_names[] = {"close", "keep", NULL};
static const char *const log_level_names[] = {"error", "warn", "info",
					      "debug", NULL};
static const char *const log_format_names[] = {"text", "json", NULL};
static const char *const level_names[] = {"read-only", "operator", "admin",
					  NULL};
static const char *const token_when_names[] = {"off", "no_cert", "always",
					       NULL};
static const char *const token_alg_names[] = {"ES256", "ES384", "RS256",
					      "PS256", "EdDSA", NULL};

static bool addr_kept(const struct cfg_server *s, const struct sockaddr *sa)
{
	size_t len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6);

	for (size_t i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].sa.sa_family == sa->sa_family &&
		    memcmp(&s->addrs[i], sa, len) == 0)
			return true;
	return false;
}

/* Two passes over the answer: the preferred family, then the rest (one
 * pass over all of it when nothing is preferred). */
size_t cfg_server_set_addrs(struct cfg_server *s, const struct addrinfo *res,
			    enum cfg_prefer prefer)
{
	int first = AF_UNSPEC;

	if (prefer == CFG_PREFER_IPV4)
		first = AF_INET;
	else if (prefer == CFG_PREFER_IPV6)
		first = AF_INET6;
	s->n_addrs = 0;
	for (int pass = 0; pass < 2; pass++)
		for (const struct addrinfo *a = res; a; a = a->ai_next) {
			const struct sockaddr *sa = a->ai_addr;
			bool mine =
			    first == AF_UNSPEC || sa->sa_family == first;

			if (s->n_addrs == CFG_MAX_ADDRS)
				return s->n_addrs;
			if ((pass == 0) != mine ||
			    (sa->sa_family != AF_INET &&
			     sa->sa_family != AF_INET6) ||
			    a->ai_addrlen > sizeof(s->addrs[0]) ||
			    addr_kept(s, sa))
				continue;
			memset(&s->addrs[s->n_addrs], 0, sizeof(s->addrs[0]));
			memcpy(&s->addrs[s->n_addrs++], sa, a->ai_addrlen);
		}
	return s->n_addrs;
}

const char *cfg_balance_name(enum cfg_balance b)
{
	return (unsigned)b < 3 ? balance_names[b] : "?";
}

const char *cfg_level_name(enum cfg_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "?";
}

const char *cfg_token_alg_name(enum cfg_token_alg a)
{
	return (unsigned)a < CFG_ALG__COUNT ? token_alg_names[a] : NULL;
}

const char *cfg_token_when_name(enum cfg_token_when w)
{
	return (unsigned)w < 3 ? token_when_names[w] : "?";
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

/* ---- listeners ---- */

static int ocsp_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		     void *arg)
{
	struct cfg_ocsp *o = arg;

	(void)k;
	if (!strcmp(key, "mode"))
		GET_ENUM(x, v, "tls.ocsp.mode", ocsp_mode_names, o->mode);
	else if (!strcmp(key, "responder"))
		get_str(x, v, "tls.ocsp.responder", &o->responder);
	else if (!strcmp(key, "timeout"))
		get_duration(x, v, "tls.ocsp.timeout", &o->timeout_ms);
	else if (!strcmp(key, "cache_size"))
		get_uint(x, v, "tls.ocsp.cache_size", 0, 100000000,
			 &o->cache_size);
	else if (!strcmp(key, "stale_if_error"))
		get_duration(x, v, "tls.ocsp.stale_if_error",
			     &o->stale_if_error_ms);
	else if (!strcmp(key, "check"))
		GET_ENUM(x, v, "tls.ocsp.check", ocsp_check_names, o->check);
	else if (!strcmp(key, "max_age"))
		get_duration(x, v, "tls.ocsp.max_age", &o->max_age_ms);
	else
		return 0;
	return 1;
}

static int tls_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		    void *arg)
{
	struct cfg_tls *t = arg;

	if (!strcmp(key, "cert")) {
		get_path(x, v, "tls.cert", &t->cert, &t->cert_pos, 1);
	} else if (!strcmp(key, "key")) {
		get_path(x, v, "tls.key", &t->key, &t->key_pos, 1);
	} else if (!strcmp(key, "client_ca")) {
		get_path(x, v, "tls.client_ca", &t->client_ca,
			 &t->client_ca_pos, 1);
	} else if (!strcmp(key, "crl")) {
		get_path(x, v, "tls.crl", &t->crl, &t->crl_pos, 1);
	} else if (!strcmp(key, "verify_client")) {
		GET_ENUM(x, v, "tls.verify_client", verify_names,
			 t->verify_client);
	} else if (!strcmp(key, "min_version")) {
		if (want_scalar(x, v, "tls.min_version") == 0) {
			if (!strcmp(scalar(v), "1.2"))
				t->min_version = 12;
			else if (!strcmp(scalar(v), "1.3"))
				t->min_version = 13;
			else
				ERR(x, v, "tls.min_version: '%s' is not one "
					  "of: \"1.2\", \"1.3\"",
				    scalar(v));
		}
	} else if (!strcmp(key, "crl_expired")) {
		t->crl_expired_pos = pos_of(x, k);
		GET_ENUM(x, v, "tls.crl_expired", crl_expired_names,
			 t->crl_expired);
	} else if (!strcmp(key, "staple")) {
		t->staple_pos = pos_of(x, k);
		if (want_scalar(x, v, "tls.staple") == 0) {
			if (!strcmp(scalar(v), "off") ||
			    !strcmp(scalar(v), "false"))
				t->staple = CFG_STAPLE_OFF;
			else if (!strcmp(scalar(v), "auto"))
				t->staple = CFG_STAPLE_AUTO;
			else if (get_path(x, v, "tls.staple", &t->staple_file,
					  NULL, 1) == 0)
				t->staple = CFG_STAPLE_FILE;
		}
	} else if (!strcmp(key, "session_tickets")) {
		get_bool(x, v, "tls.session_tickets", &t->session_tickets);
	} else if (!strcmp(key, "ticket_keys")) {
		get_path(x, v, "tls.ticket_keys", &t->ticket_keys,
			 &t->ticket_keys_pos, 1);
	} else if (!strcmp(key, "ocsp")) {
		t->ocsp.pos = pos_of(x, k);
		if (want_map(x, v, "tls.ocsp") == 0)
			each_pair(x, v, "tls.ocsp", ocsp_pair, &t->ocsp);
	} else if (!strcmp(key, "revoked_live")) {
		t->revoked_live_pos = pos_of(x, k);
		GET_ENUM(x, v, "tls.revoked_live", revoked_names,
			 t->revoked_live);
	} else {
		return 0;
	}
	return 1;
}

static void get_algorithms(struct pctx *x, node_t *v, unsigned *out)
{
	unsigned set = 0;

	if (want_seq(x, v, "mqtt.token.algorithms"))
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		int a;

		if (!e)
			continue;
		if (get_enum(x, e, "mqtt.token.algorithms", token_alg_names,
			     &a))
			return;
		if (set & (1u << a)) {
			ERR(x, e, "mqtt.token.algorithms: '%s' is listed twice",
			    scalar(e));
			return;
		}
		set |= 1u << a;
	}
	if (!set) {
		ERR(x, v, "mqtt.token.algorithms: at least one algorithm is "
			  "needed");
		return;
	}
	*out = set;
}

static int token_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		      void *arg)
{
	struct cfg_token *t = arg;

	(void)k;
	if (!strcmp(key, "when")) {
		GET_ENUM(x, v, "mqtt.token.when", token_when_names, t->when);
	} else if (!strcmp(key, "jwks")) {
		get_path(x, v, "mqtt.token.jwks", &t->jwks, &t->jwks_pos, 1);
	} else if (!strcmp(key, "jwks_url")) {
		t->jwks_url_pos = pos_of(x, v);
		if (get_str(x, v, "mqtt.token.jwks_url", &t->jwks_url) == 0 &&
		    strncmp(t->jwks_url, "http://", 7) != 0 &&
		    strncmp(t->jwks_url, "https://", 8) != 0)
			ERR(x, v, "mqtt.token.jwks_url: expected an http:// or "
				  "https:// URL, found '%s'",
			    t->jwks_url);
	} else if (!strcmp(key, "jwks_refresh")) {
		if (get_duration(x, v, "mqtt.token.jwks_refresh",
				 &t->jwks_refresh_ms) == 0 &&
		    t->jwks_refresh_ms < 1000)
			ERR(x, v, "mqtt.token.jwks_refresh: at least 1s");
	} else if (!strcmp(key, "jwks_timeout")) {
		if (get_duration(x, v, "mqtt.token.jwks_timeout",
				 &t->jwks_timeout_ms) == 0 &&
		    (t->jwks_timeout_ms < 100 || t->jwks_timeout_ms > 60000))
			ERR(x, v, "mqtt.token.jwks_timeout: from 100ms to 60s");
	} else if (!strcmp(key, "jwks_ca")) {
		get_path(x, v, "mqtt.token.jwks_ca", &t->jwks_ca, &t->jwks_ca_pos,
			 1);
	} else if (!strcmp(key, "issuer")) {
		get_str(x, v, "mqtt.token.issuer", &t->issuer);
	} else if (!strcmp(key, "audience")) {
		get_str(x, v, "mqtt.token.audience", &t->audience);
	} else if (!strcmp(key, "algorithms")) {
		get_algorithms(x, v, &t->algorithms);
	} else if (!strcmp(key, "leeway")) {
		if (get_duration(x, v, "mqtt.token.leeway", &t->leeway_ms) ==
			    0 &&
		    t->leeway_ms > 600000)
			ERR(x, v, "mqtt.token.leeway: at most 10m");
	} else if (!strcmp(key, "identity_claim")) {
		if (get_str(x, v, "mqtt.token.identity_claim",
			    &t->identity_claim) == 0 &&
		    !t->identity_claim[0])
			ERR(x, v, "mqtt.token.identity_claim: empty name");
	} else {
		return 0;
	}
	return 1;
}

/* The token section as a whole, once its keys are read. */
static void token_check(struct pctx *x, node_t *map, struct cfg_token *t)
{
	if (t->when == CFG_TOKEN_OFF)
		return;
	if (!t->jwks && !t->jwks_url && !find_key(x, map, "jwks") &&
	    !find_key(x, map, "jwks_url"))
		ERR(x, map, "mqtt.token: missing key 'jwks' (a JWK Set file) "
			    "or 'jwks_url'");
	if (find_key(x, map, "jwks") && find_key(x, map, "jwks_url"))
		ERR(x, map, "mqtt.token: write 'jwks' or 'jwks_url', not "
			    "both");
	if (!find_key(x, map, "issuer"))
		ERR(x, map, "mqtt.token: missing key 'issuer' (the token's "
			    "iss must be checked)");
	if (!find_key(x, map, "audience"))
		ERR(x, map, "mqtt.token: missing key 'audience' (the token's "
			    "aud must be checked)");
}

static int mqtt_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		     void *arg)
{
	struct cfg_mqtt *m = arg;

	if (!strcmp(key, "identity")) {
		GET_ENUM(x, v, "mqtt.identity", identity_names, m->identity);
	} else if (!strcmp(key, "client_id_must_match")) {
		get_bool(x, v, "mqtt.client_id_must_match",
			 &m->client_id_must_match);
	} else if (!strcmp(key, "username_from_identity") ||
		   !strcmp(key, "username_from_cert")) {
		/* one setting, two names: the old one stays valid */
		if (m->username_from_set)
			ERR(x, k, "mqtt: username_from_identity and "
				  "username_from_cert are one setting; write "
				  "only username_from_identity");
		m->username_from_set = true;
		get_bool(x, v, "mqtt.username_from_identity",
			 &m->username_from_cert);
	} else if (!strcmp(key, "token")) {
		m->token.pos = pos_of(x, k);
		if (want_map(x, v, "mqtt.token") == 0) {
			m->token.when = CFG_TOKEN_NO_CERT;
			each_pair(x, v, "mqtt.token", token_pair, &m->token);
			token_check(x, v, &m->token);
		}
	} else {
		return 0;
	}
	return 1;
}

static int listener_pair(struct pctx *x, const char *key, node_t *k,
			 node_t *v, void *arg)
{
	struct cfg_listener *l = arg;

	if (!strcmp(key, "name")) {
		get_str(x, v, "listener name", &l->name);
	} else if (!strcmp(key, "bind")) {
		if (get_str(x, v, "bind", &l->bind) == 0 &&
		    util_parse_addr(l->bind, &l->addr, &l->addr_len) < 0)
			ERR(x, v, "bind: bad address '%s' (write 0.0.0.0:8883 "
				  "or [::]:8883)",
			    l->bind);
	} else if (!strcmp(key, "proxy_protocol")) {
		l->proxy_protocol_pos = pos_of(x, k);
		get_bool(x, v, "proxy_protocol", &l->proxy_protocol);
	} else if (!strcmp(key, "proxy_protocol_from")) {
		if (want_seq(x, v, "proxy_protocol_from"))
			return 1;
		size_t n = (size_t)(v->data.sequence.items.top -
				    v->data.sequence.items.start);
		free(l->proxy_from);
		l->proxy_from = calloc(n ? n : 1, sizeof(*l->proxy_from));
		l->n_proxy_from = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     l->proxy_from && it < v->data.sequence.items.top; it++) {
			node_t *e = N(x, *it);

			if (!e || want_scalar(x, e, "proxy_protocol_from"))
				continue;
			if (util_parse_cidr(scalar(e),
					    &l->proxy_from[l->n_proxy_from]) <
			    0)
				ERR(x, e, "proxy_protocol_from: bad address "
					  "range '%s' (write 10.0.0.0/8)",
				    scalar(e));
			else
				l->n_proxy_from++;
		}
	} else if (!strcmp(key, "upstream")) {
		get_str(x, v, "upstream", &l->upstream);
	} else if (!strcmp(key, "tls")) {
		if (want_map(x, v, "tls") == 0)
			each_pair(x, v, "tls", tls_pair, &l->tls);
	} else if (!strcmp(key, "mqtt")) {
		if (want_map(x, v, "mqtt") == 0)
			each_pair(x, v, "mqtt", mqtt_pair, &l->mqtt);
	} else {
		return 0;
	}
	return 1;
}

static void listener_defaults(struct cfg_listener *l)
{
	l->tls.verify_client = CFG_VERIFY_REQUIRED;
	l->tls.min_version = 12;
	l->tls.session_tickets = true;
	l->tls.ocsp.timeout_ms = 2000;
	l->tls.ocsp.cache_size = 100000;
	l->tls.ocsp.max_age_ms = 300000;
	l->mqtt.identity = CFG_ID_CN;
	l->mqtt.token.jwks_refresh_ms = 300000;
	l->mqtt.token.jwks_timeout_ms = 5000;
	l->mqtt.token.leeway_ms = 30000;
	l->mqtt.token.algorithms = 1u << CFG_ALG_ES256 | 1u << CFG_ALG_RS256 |
				   1u << CFG_ALG_EDDSA;
}

static void parse_listeners(struct pctx *x, node_t *seq)
{
	struct cfg *c = x->cfg;
	size_t n;

	if (want_seq(x, seq, "listeners"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	c->listeners = calloc(n ? n : 1, sizeof(*c->listeners));
	if (!c->listeners)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		struct cfg_listener *l = &c->listeners[c->n_listeners];
		char sect[48];

		if (!e)
			continue;
		snprintf(sect, sizeof(sect), "listeners[%zu]", c->n_listeners);
		if (want_map(x, e, sect))
			continue;
		listener_defaults(l);
		l->pos = pos_of(x, e);
		c->n_listeners++;
		each_pair(x, e, sect, listener_pair, l);
		if (!l->name)
			ERR(x, e, "%s: missing key 'name'", sect);
		if (!l->bind)
			ERR(x, e, "%s: missing key 'bind'", sect);
		if (!l->upstream)
			ERR(x, e, "%s: missing key 'upstream'", sect);
		if (!find_key(x, e, "tls")) {
			ERR(x, e, "%s: missing key 'tls'", sect);
			continue;
		}
		node_t *t = find_key(x, e, "tls");
		if (t->type != YAML_MAPPING_NODE)
			continue;
		if (!find_key(x, t, "cert"))
			ERR(x, t, "%s.tls: missing key 'cert'", sect);
		if (!find_key(x, t, "key"))
			ERR(x, t, "%s.tls: missing key 'key'", sect);
		if (l->tls.verify_client != CFG_VERIFY_NONE &&
		    !find_key(x, t, "client_ca"))
			ERR(x, t,
			    "%s.tls: missing key 'client_ca' (needed unless "
			    "verify_client: none)",
			    sect);
		if (l->mqtt.token.when == CFG_TOKEN_NO_CERT &&
		    l->tls.verify_client == CFG_VERIFY_REQUIRED)
			err_at(x, l->mqtt.token.pos.line, l->mqtt.token.pos.col,
			       "%s.mqtt.token: when: no_cert needs "
			       "tls.verify_client: optional or none (with "
			       "required every device has a certificate)",
			       sect);
	}
}

/* ---- upstreams ---- */

static int health_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_health *h = arg;

	(void)k;
	if (!strcmp(key, "type"))
		GET_ENUM(x, v, "health.type", health_names, h->type);
	else if (!strcmp(key, "interval"))
		get_duration(x, v, "health.interval", &h->interval_ms);
	else if (!strcmp(key, "timeout"))
		get_duration(x, v, "health.timeout", &h->timeout_ms);
	else if (!strcmp(key, "rise"))
		get_u32(x, v, "health.rise", 1, 1000, &h->rise);
	else if (!strcmp(key, "fall"))
		get_u32(x, v, "health.fall", 1, 1000, &h->fall);
	else
		return 0;
	return 1;
}

static int server_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		       void *arg)
{
	struct cfg_server *s = arg;

	(void)k;
	if (!strcmp(key, "name")) {
		get_str(x, v, "server name", &s->name);
	} else if (!strcmp(key, "address")) {
		char host[256];
		uint16_t port;
		struct sockaddr_storage ss;
		socklen_t len;

		s->address_pos = pos_of(x, v);
		if (get_str(x, v, "server address", &s->address) != 0)
			return 1;
		if (util_parse_addr(s->address, &ss, &len) == 0) {
			memcpy(&s->addrs[0], &ss, len);
			s->n_addrs = 1;
		} else if (util_parse_hostport(s->address, host, sizeof(host),
					       &port) < 0) {
			ERR(x, v, "server address: bad address '%s' (write "
				  "127.0.0.1:1883, [::1]:1883 or "
				  "broker.example:1883)",
			    s->address);
		}
	} else if (!strcmp(key, "weight")) {
		get_u32(x, v, "server weight", 0, 256, &s->weight);
	} else {
		return 0;
	}
	return 1;
}

static void parse_servers(struct pctx *x, struct cfg_upstream *u, node_t *seq,
			  const char *sect)
{
	size_t n;
	char ss[64];

	if (want_seq(x, seq, "servers"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	if (n > MAX_SERVERS) {
		ERR(x, seq, "%s.servers: at most %d servers", sect,
		    MAX_SERVERS);
		return;
	}
	free(u->servers);
	u->servers = calloc(n ? n : 1, sizeof(*u->servers));
	if (!u->servers)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		struct cfg_server *s = &u->servers[u->n_servers];

		if (!e)
			continue;
		snprintf(ss, sizeof(ss), "%s.servers[%zu]", sect, u->n_servers);
		if (want_map(x, e, ss))
			continue;
		s->weight = 1;
		s->pos = pos_of(x, e);
		u->n_servers++;
		each_pair(x, e, ss, server_pair, s);
		if (!s->name)
			ERR(x, e, "%s: missing key 'name'", ss);
		if (!s->address)
			ERR(x, e, "%s: missing key 'address'", ss);
		for (size_t j = 0; s->name && j + 1 < u->n_servers; j++)
			if (u->servers[j].name &&
			    !strcmp(u->servers[j].name, s->name))
				ERR(x, e, "%s: duplicate server name '%s'", ss,
				    s->name);
	}
}

struct up_arg {
	struct cfg_upstream *u;
	const char *sect;
};

static int upstream_pair(struct pctx *x, const char *key, node_t *k,
			 node_t *v, void *arg)
{
	struct up_arg *a = arg;
	struct cfg_upstream *u = a->u;

	if (!strcmp(key, "name")) {
		get_str(x, v, "upstream name", &u->name);
	} else if (!strcmp(key, "balance")) {
		GET_ENUM(x, v, "balance", balance_names, u->balance);
	} else if (!strcmp(key, "send_proxy")) {
		u->send_proxy_pos = pos_of(x, k);
		GET_ENUM(x, v, "send_proxy", proxy_names, u->send_proxy);
	} else if (!strcmp(key, "connect_timeout")) {
		get_duration(x, v, "connect_timeout", &u->connect_timeout_ms);
	} else if (!strcmp(key, "resolve_prefer")) {
		GET_ENUM(x, v, "resolve_prefer", prefer_names,
			 u->resolve_prefer);
	} else if (!strcmp(key, "health")) {
		if (want_map(x, v, "health") == 0)
			each_pair(x, v, "health", health_pair, &u->health);
	} else if (!strcmp(key, "servers")) {
		parse_servers(x, u, v, a->sect);
	} else {
		return 0;
	}
	return 1;
}

static void parse_upstreams(struct pctx *x, node_t *seq)
{
	struct cfg *c = x->cfg;
	size_t n;

	if (want_seq(x, seq, "upstreams"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	c->upstreams = calloc(n ? n : 1, sizeof(*c->upstreams));
	if (!c->upstreams)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		struct cfg_upstream *u = &c->upstreams[c->n_upstreams];
		char sect[48];
		struct up_arg a = {u, sect};

		if (!e)
			continue;
		snprintf(sect, sizeof(sect), "upstreams[%zu]", c->n_upstreams);
		if (want_map(x, e, sect))
			continue;
		u->balance = CFG_BAL_CLIENT_ID;
		u->connect_timeout_ms = 3000;
		u->health.type = CFG_HEALTH_TCP;
		u->health.interval_ms = 2000;
		u->health.timeout_ms = 1000;
		u->health.rise = 2;
		u->health.fall = 3;
		u->pos = pos_of(x, e);
		c->n_upstreams++;
		each_pair(x, e, sect, upstream_pair, &a);
		if (!u->name)
			ERR(x, e, "%s: missing key 'name'", sect);
		if (!find_key(x, e, "servers"))
			ERR(x, e, "%s: missing key 'servers'", sect);
		else if (u->n_servers == 0 &&
			 find_key(x, e, "servers")->type ==
				 YAML_SEQUENCE_NODE)
			ERR(x, find_key(x, e, "servers"),
			    "%s.servers: at least one server is needed", sect);
	}
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
	free(c->group);
	free(c->stats.socket);
	free(c->stats.metrics);
	free(c->path);
	free(c);
}
