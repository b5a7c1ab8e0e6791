/* config_listener.c - listeners[] of the configuration: bind, PROXY
 * protocol, tls (certificates, CA, CRL, staple, tickets, ocsp) and mqtt
 * (identity, token). Called by the top level in config.c through
 * parse_listeners(); uses the getters of config_int.h, so every problem is
 * reported as FILE:LINE:COL like the rest of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"

static const char *const verify_names[] = {"required", "optional", "none",
					   NULL};
static const char *const identity_names[] = {"none", "cn", "san-dns",
					     "san-uri", NULL};
static const char *const ocsp_mode_names[] = {"off", "soft", "require", NULL};
static const char *const ocsp_check_names[] = {"leaf", "chain", NULL};
static const char *const crl_expired_names[] = {"warn", "reject", NULL};
static const char *const revoked_names[] = {"close", "keep", NULL};
static const char *const token_when_names[] = {"off", "no_cert", "always",
					       NULL};
static const char *const token_alg_names[] = {"ES256", "ES384", "RS256",
					      "PS256", "EdDSA", NULL};
static const char *const token_from_names[] = {"password", "query", "cookie",
					       NULL};
static const char *const ws_proto_names[] = {"mqtt", "mqttv3.1", NULL};

const char *cfg_token_alg_name(enum cfg_token_alg a)
{
	return (unsigned)a < CFG_ALG__COUNT ? token_alg_names[a] : NULL;
}

const char *cfg_token_when_name(enum cfg_token_when w)
{
	return (unsigned)w < 3 ? token_when_names[w] : "?";
}

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
	} else if (!strcmp(key, "ticket_lifetime")) {
		if (get_duration(x, v, "tls.ticket_lifetime",
				 &t->ticket_lifetime_ms) == 0 &&
		    (t->ticket_lifetime_ms < 1000 ||
		     t->ticket_lifetime_ms > 7 * 86400000ull))
			ERR(x, v, "tls.ticket_lifetime: from 1s to 7d");
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

/* A list of names from `names` as a bit set (bit i: names[i]); each at
 * most once, at least one. */
static void get_enum_set(struct pctx *x, node_t *v, const char *what,
			 const char *const *names, unsigned *out)
{
	unsigned set = 0;

	if (want_seq(x, v, what))
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		int a;

		if (!e)
			continue;
		if (get_enum(x, e, what, names, &a))
			return;
		if (set & (1u << a)) {
			ERR(x, e, "%s: '%s' is listed twice", what, scalar(e));
			return;
		}
		set |= 1u << a;
	}
	if (!set) {
		ERR(x, v, "%s: at least one is needed", what);
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
	} else if (!strcmp(key, "jwks_insecure_http")) {
		get_bool(x, v, "mqtt.token.jwks_insecure_http",
			 &t->jwks_insecure_http);
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
		get_enum_set(x, v, "mqtt.token.algorithms", token_alg_names,
			     &t->algorithms);
	} else if (!strcmp(key, "from")) {
		get_enum_set(x, v, "mqtt.token.from", token_from_names,
			     &t->from);
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
	if (t->jwks_url && !strncmp(t->jwks_url, "http://", 7) &&
	    !t->jwks_insecure_http)
		ERR(x, find_key(x, map, "jwks_url"),
		    "mqtt.token.jwks_url: plain http:// lets anyone on the "
		    "path replace the keys that tokens are checked with; use "
		    "https://, or write jwks_insecure_http: true");
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
	} else if (!strcmp(key, "enhanced_auth")) {
		get_bool(x, v, "mqtt.enhanced_auth", &m->enhanced_auth);
	} else if (!strcmp(key, "token")) {
		m->token.pos = pos_of(x, k);
		if (want_map(x, v, "mqtt.token") == 0) {
			m->token.when = CFG_TOKEN_NO_CERT;
			each_pair(x, v, "mqtt.token", token_pair, &m->token);
			token_check(x, v, &m->token);
		}
	} else if (!strcmp(key, "acl")) {
		parse_acl(x, k, v, &m->acl);
	} else if (!strcmp(key, "rate")) {
		parse_rate(x, k, v, &m->rate);
	} else if (!strcmp(key, "enroll")) {
		parse_enroll(x, k, v, &m->enroll);
	} else {
		return 0;
	}
	return 1;
}

/* A list of strings, each passing ok (which says what is wrong, or
 * NULL), none twice. */
static void get_strv(struct pctx *x, node_t *v, const char *what,
		     const char *(*ok)(const char *s), char ***out,
		     size_t *n_out)
{
	size_t n;
	char **a;

	if (want_seq(x, v, what))
		return;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n) {
		ERR(x, v,
		    "%s: an empty list allows nothing; list at least one, "
		    "or leave the key out",
		    what);
		return;
	}
	cfg_strv_free(*out, *n_out);
	*n_out = 0;
	if (!(*out = a = calloc(n, sizeof(*a))))
		return;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);
		const char *why;

		if (!e || want_scalar(x, e, what))
			continue;
		if ((why = ok(scalar(e)))) {
			ERR(x, e, "%s: '%s': %s", what, scalar(e), why);
			continue;
		}
		for (size_t i = 0; i < *n_out; i++)
			if (!strcmp(a[i], scalar(e))) {
				ERR(x, e, "%s: '%s' is listed twice", what,
				    scalar(e));
				why = "twice";
			}
		if (!why && (a[*n_out] = strdup(scalar(e))))
			(*n_out)++;
	}
}

static const char *path_ok(const char *s)
{
	if (s[0] != '/')
		return "a path starts with '/'";
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '?' ||
		    *c == '#')
			return "no spaces, control characters, '?' or '#' in a "
			       "path";
	return NULL;
}

/* An Origin is a scheme, "://" and a host (RFC 6454), as browsers send it:
 * no path, no trailing slash. */
static const char *origin_ok(const char *s)
{
	const char *h = strstr(s, "://");

	if (!h || h == s || !h[3])
		return "write scheme://host[:port], e.g. "
		       "https://dash.example.com";
	for (const char *c = h + 3; *c; c++)
		if (*c == '/' || (unsigned char)*c <= 0x20 || *c == 0x7f)
			return "an Origin has no path, spaces or control "
			       "characters";
	return NULL;
}

static int ws_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		   void *arg)
{
	struct cfg_websocket *w = arg;

	(void)k;
	if (!strcmp(key, "paths")) {
		get_strv(x, v, "websocket.paths", path_ok, &w->paths,
			 &w->n_paths);
	} else if (!strcmp(key, "origins")) {
		get_strv(x, v, "websocket.origins", origin_ok, &w->origins,
			 &w->n_origins);
	} else if (!strcmp(key, "subprotocols")) {
		get_enum_set(x, v, "websocket.subprotocols", ws_proto_names,
			     &w->subprotocols);
	} else if (!strcmp(key, "max_header")) {
		if (get_size(x, v, "websocket.max_header", &w->max_header) ==
			0 &&
		    (w->max_header < 256 || w->max_header > 65536))
			ERR(x, v, "websocket.max_header: from 256 to 64KiB");
	} else if (!strcmp(key, "max_frame")) {
		if (get_size(x, v, "websocket.max_frame", &w->max_frame) == 0 &&
		    (w->max_frame < 16 || w->max_frame > 268435460))
			ERR(x, v, "websocket.max_frame: from 16 to 256MiB");
	} else if (!strcmp(key, "plain")) {
		get_bool(x, v, "websocket.plain", &w->plain);
	} else {
		return 0;
	}
	return 1;
}

static void ws_defaults(struct cfg_websocket *w)
{
	w->on = true;
	w->subprotocols = CFG_WS_PROTO_MQTT | CFG_WS_PROTO_MQTTV31;
	w->max_header = 8192;
	w->max_frame = 1024 * 1024;
}

static void ws_default_path(struct cfg_websocket *w)
{
	if (!w->paths && (w->paths = calloc(1, sizeof(char *))) &&
	    (w->paths[0] = strdup("/mqtt")))
		w->n_paths = 1;
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
	} else if (!strcmp(key, "websocket")) {
		l->ws.pos = pos_of(x, k);
		if (want_map(x, v, "websocket") == 0) {
			ws_defaults(&l->ws);
			each_pair(x, v, "websocket", ws_pair, &l->ws);
			ws_default_path(&l->ws);
		}
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
	l->tls.ticket_lifetime_ms = 3600000;
	l->tls.ocsp.timeout_ms = 2000;
	l->tls.ocsp.cache_size = 100000;
	l->tls.ocsp.max_age_ms = 300000;
	l->mqtt.identity = CFG_ID_CN;
	l->mqtt.token.jwks_refresh_ms = 300000;
	l->mqtt.token.jwks_timeout_ms = 5000;
	l->mqtt.token.leeway_ms = 30000;
	l->mqtt.token.from = CFG_TOKEN_FROM_PASSWORD;
	l->mqtt.token.algorithms = 1u << CFG_ALG_ES256 | 1u << CFG_ALG_RS256 |
				   1u << CFG_ALG_EDDSA;
	enroll_defaults(&l->mqtt.enroll);
}

/* websocket: and what depends on it: plain only without tls, tokens
 * from the query or a cookie only on a WebSocket listener. */
static void listener_ws_check(struct pctx *x, node_t *e,
			      struct cfg_listener *l, const char *sect)
{
	const struct cfg_token *t = &l->mqtt.token;

	if ((t->from & (CFG_TOKEN_FROM_QUERY | CFG_TOKEN_FROM_COOKIE)) &&
	    !l->ws.on)
		err_at(x, t->pos.line, t->pos.col,
		       "%s.mqtt.token.from: query and cookie need a websocket "
		       "listener (MQTT over TCP has neither)",
		       sect);
	if (!l->ws.on)
		return;
	if (l->ws.plain && find_key(x, e, "tls"))
		err_at(x, l->ws.pos.line, l->ws.pos.col,
		       "%s.websocket.plain: true serves ws:// without TLS; "
		       "remove 'tls' or write plain: false",
		       sect);
	if (l->ws.plain && l->tls.verify_client == CFG_VERIFY_REQUIRED)
		l->tls.verify_client = CFG_VERIFY_NONE;
	if (!l->ws.origins)
		warn_at(x, l->ws.pos,
			"%s.websocket: no 'origins': a page from any web site "
			"may open a WebSocket to this listener with a "
			"browser's cookies; list the allowed Origins",
			sect);
}

void parse_listeners(struct pctx *x, node_t *seq)
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
		l->tls.claim_ca = l->mqtt.enroll.bootstrap_ca;
		if (!l->name)
			ERR(x, e, "%s: missing key 'name'", sect);
		if (!l->bind)
			ERR(x, e, "%s: missing key 'bind'", sect);
		if (!l->upstream)
			ERR(x, e, "%s: missing key 'upstream'", sect);
		listener_ws_check(x, e, l, sect);
		if (l->mqtt.enroll.est && l->ws.on)
			err_at(x, l->mqtt.enroll.est_pos.line,
			       l->mqtt.enroll.est_pos.col,
			       "%s.mqtt.enroll.est: EST is served on an MQTT "
			       "listener's TLS port, not on a websocket "
			       "listener (whose HTTP requests are upgrades)",
			       sect);
		if (l->ws.plain)
			continue;
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
		if (l->mqtt.acl.on && l->mqtt.token.when == CFG_TOKEN_OFF &&
		    (l->mqtt.acl.claim ||
		     (l->mqtt.acl.vars & CFG_ACL_VAR_CLAIM)))
			err_at(x, l->mqtt.acl.pos.line, l->mqtt.acl.pos.col,
			       "%s.mqtt.acl: %s reads token claims: it needs "
			       "mqtt.token",
			       sect,
			       l->mqtt.acl.claim ? "claim" : "a %{NAME} rule");
		if (l->mqtt.token.when == CFG_TOKEN_NO_CERT &&
		    l->tls.verify_client == CFG_VERIFY_REQUIRED)
			err_at(x, l->mqtt.token.pos.line, l->mqtt.token.pos.col,
			       "%s.mqtt.token: when: no_cert needs "
			       "tls.verify_client: optional or none (with "
			       "required every device has a certificate)",
			       sect);
	}
}
