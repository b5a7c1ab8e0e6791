/* test_config.c - the config parser: a full config into typed values,
 * defaults, and every class of error with its FILE:LINE:COL, as tables of
 * YAML snippets written to a temporary directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "cfgdir.h"
#include "test.h"

/* A valid listener + upstream to which cases add or change lines. */
#define HEAD                                                                \
	"listeners:\n"                                                      \
	"  - name: l1\n"                                                    \
	"    bind: 127.0.0.1:8883\n"                                        \
	"    upstream: u1\n"                                                \
	"    tls:\n"                                                        \
	"      cert: s.crt\n"                                               \
	"      key: s.key\n"                                                \
	"      client_ca: ca.crt\n"
#define UPS                                                                 \
	"upstreams:\n"                                                      \
	"  - name: u1\n"                                                    \
	"    servers:\n"                                                    \
	"      - { name: b1, address: 127.0.0.1:1883 }\n"

static void test_full(void)
{
	char *err = NULL;
	struct cfg *c = load(
		"workers: 1\n"
		"user: nobody\n"
		"limits:\n"
		"  max_connections: 500\n"
		"  handshake_timeout: 500ms\n"
		"  connect_timeout: 2s\n"
		"  max_packet_size: 64KiB\n"
		"  drain_timeout: 1m\n"
		"log: { level: debug, format: json }\n"
		"listeners:\n"
		"  - name: l1\n"
		"    bind: \"[::1]:8883\"\n"
		"    proxy_protocol: false\n"
		"    proxy_protocol_from: [10.0.0.0/8, \"::1/128\"]\n"
		"    upstream: u1\n"
		"    tls:\n"
		"      cert: s.crt\n"
		"      key: s.key\n"
		"      client_ca: ca.crt\n"
		"      crl: crl.pem\n"
		"      verify_client: optional\n"
		"      min_version: \"1.3\"\n"
		"      session_tickets: false\n"
		"      staple: off\n"
		"      ocsp: { mode: off, timeout: 3s, cache_size: 10 }\n"
		"    mqtt: { identity: san-uri, client_id_must_match: true,"
		" username_from_cert: true }\n"
		"upstreams:\n"
		"  - name: u1\n"
		"    balance: least-connections\n"
		"    send_proxy: off\n"
		"    connect_timeout: 250ms\n"
		"    resolve_prefer: ipv4\n"
		"    health: { type: tcp, interval: 5s, timeout: 2s, rise: 1,"
		" fall: 4 }\n"
		"    servers:\n"
		"      - name: b1\n"
		"        address: 127.0.0.1:1883\n"
		"        weight: 3\n"
		"      - { name: b2, address: \"[::1]:1884\" }\n"
		"stats: { socket: moat.sock, mode: \"0660\", level: operator }\n",
		&err);

	CHECK(c != NULL, "full config: %s", err ? err : "");
	if (!c) {
		free(err);
		return;
	}
	CHECK(c->workers == 1 && c->user && !strcmp(c->user, "nobody"),
	      "workers/user");
	CHECK(c->limits.max_connections == 500, "max_connections");
	CHECK(c->limits.handshake_timeout_ms == 500, "handshake_timeout");
	CHECK(c->limits.connect_timeout_ms == 2000, "connect_timeout");
	CHECK(c->limits.max_packet_size == 65536, "max_packet_size");
	CHECK(c->limits.drain_timeout_ms == 60000, "drain_timeout");
	CHECK(c->log_level == CFG_LOG_DEBUG && c->log_format == CFG_LOG_JSON,
	      "log");
	CHECK(c->n_listeners == 1, "listeners");
	struct cfg_listener *l = &c->listeners[0];
	CHECK(l->addr.ss_family == AF_INET6, "ipv6 bind");
	CHECK(l->n_proxy_from == 2 && l->proxy_from[0].bits == 8,
	      "proxy_protocol_from");
	CHECK(strstr(l->tls.cert, dir) && strstr(l->tls.cert, "/s.crt"),
	      "cert resolved against the config dir: %s", l->tls.cert);
	CHECK(l->tls.crl != NULL, "crl");
	CHECK(l->tls.verify_client == CFG_VERIFY_OPTIONAL, "verify");
	CHECK(l->tls.min_version == 13, "min_version");
	CHECK(!l->tls.session_tickets, "tickets");
	CHECK(l->tls.staple == CFG_STAPLE_OFF, "staple");
	CHECK(l->tls.ocsp.timeout_ms == 3000 && l->tls.ocsp.cache_size == 10,
	      "ocsp");
	CHECK(l->mqtt.identity == CFG_ID_SAN_URI &&
		      l->mqtt.client_id_must_match && l->mqtt.username_from_cert,
	      "mqtt");
	struct cfg_upstream *u = &c->upstreams[0];
	CHECK(u->balance == CFG_BAL_LEAST_CONN, "balance");
	CHECK(u->connect_timeout_ms == 250, "connect_timeout");
	CHECK(u->health.type == CFG_HEALTH_TCP && u->health.interval_ms == 5000 &&
		      u->health.timeout_ms == 2000 && u->health.rise == 1 &&
		      u->health.fall == 4,
	      "health");
	CHECK(u->n_servers == 2 && u->servers[0].weight == 3 &&
		      u->servers[1].weight == 1,
	      "servers and weights");
	CHECK(u->resolve_prefer == CFG_PREFER_IPV4, "resolve_prefer");
	CHECK(u->servers[1].n_addrs == 1 &&
		      u->servers[1].addrs[0].sa.sa_family == AF_INET6 &&
		      ntohs(u->servers[1].addrs[0].in6.sin6_port) == 1884,
	      "an address written as IP:PORT is the server's one address");
	CHECK(c->stats.mode == 0660 && c->stats.level == CFG_LEVEL_OPERATOR,
	      "stats");
	CHECK(cfg_unsupported(c) == NULL, "nothing unsupported");
	cfg_free(c);
}

static void test_defaults(void)
{
	char *err = NULL;
	struct cfg *c = load(HEAD UPS, &err);

	CHECK(c != NULL, "minimal config: %s", err ? err : "");
	if (!c) {
		free(err);
		return;
	}
	CHECK(c->workers == 1, "default workers");
	CHECK(c->limits.max_connections == 100000 &&
		      c->limits.handshake_timeout_ms == 5000 &&
		      c->limits.connect_timeout_ms == 10000 &&
		      c->limits.max_packet_size == 1048576 &&
		      c->limits.drain_timeout_ms == 30000,
	      "default limits");
	CHECK(c->log_level == CFG_LOG_INFO && c->log_format == CFG_LOG_TEXT,
	      "default log");
	CHECK(c->listeners[0].tls.verify_client == CFG_VERIFY_REQUIRED &&
		      c->listeners[0].tls.min_version == 12 &&
		      c->listeners[0].tls.session_tickets &&
		      c->listeners[0].mqtt.identity == CFG_ID_CN,
	      "default tls/mqtt");
	CHECK(c->upstreams[0].balance == CFG_BAL_CLIENT_ID &&
		      c->upstreams[0].health.type == CFG_HEALTH_TCP &&
		      c->upstreams[0].health.rise == 2 &&
		      c->upstreams[0].health.fall == 3 &&
		      c->upstreams[0].connect_timeout_ms == 3000 &&
		      c->upstreams[0].resolve_prefer == CFG_PREFER_ANY,
	      "default upstream");
	CHECK(c->stats.socket == NULL && c->stats.mode == 0600, "stats");
	cfg_free(c);
}

/* HEAD for a listener that takes tokens: verify_client optional, then
 * the token section's keys (lines 12 on, column 9). */
#define TOKHEAD                                                             \
	HEAD "      verify_client: optional\n"                              \
	     "    mqtt:\n"                                                  \
	     "      token:\n"
#define TOKREQ                                                              \
	"        jwks: jwks.json\n"                                         \
	"        issuer: https://auth.example.com/\n"                       \
	"        audience: mqtt\n"

static void test_token(void)
{
	char *err = NULL, want[128];
	struct cfg *c = load(TOKHEAD TOKREQ
			     "        when: always\n"
			     "        algorithms: [ES384, PS256]\n"
			     "        leeway: 10s\n"
			     "        jwks_refresh: 1m\n"
			     "        identity_claim: client_id\n"
			     "      username_from_identity: true\n" UPS,
			     &err);
	const struct cfg_token *t;

	CHECK(c != NULL, "token config: %s", err ? err : "");
	if (!c) {
		free(err);
		return;
	}
	t = &c->listeners[0].mqtt.token;
	snprintf(want, sizeof(want), "%s/jwks.json", dir);
	CHECK(t->when == CFG_TOKEN_ALWAYS && t->jwks &&
		      !strcmp(t->jwks, want) && t->jwks_pos.line == 12 &&
		      t->jwks_pos.col == 15,
	      "when, jwks resolved against the config's directory: %s:%d:%d",
	      t->jwks ? t->jwks : "(null)", t->jwks_pos.line,
	      t->jwks_pos.col);
	CHECK(!strcmp(t->issuer, "https://auth.example.com/") &&
		      !strcmp(t->audience, "mqtt") &&
		      !strcmp(t->identity_claim, "client_id"),
	      "issuer, audience, identity_claim");
	CHECK(t->algorithms == (1u << CFG_ALG_ES384 | 1u << CFG_ALG_PS256) &&
		      t->leeway_ms == 10000 && t->jwks_refresh_ms == 60000,
	      "algorithms, leeway, refresh");
	CHECK(c->listeners[0].mqtt.username_from_cert,
	      "username_from_identity sets the username setting");
	CHECK(cfg_unsupported(c) == NULL, "a jwks file is supported");
	CHECK(!strcmp(cfg_token_alg_name(CFG_ALG_EDDSA), "EdDSA") &&
		      cfg_token_alg_name(CFG_ALG__COUNT) == NULL &&
		      !strcmp(cfg_token_when_name(CFG_TOKEN_NO_CERT), "no_cert"),
	      "names");
	cfg_free(c);

	c = load(TOKHEAD TOKREQ UPS, &err);
	CHECK(c != NULL, "token defaults: %s", err ? err : "");
	if (c) {
		t = &c->listeners[0].mqtt.token;
		CHECK(t->when == CFG_TOKEN_NO_CERT &&
			      t->algorithms == (1u << CFG_ALG_ES256 |
						1u << CFG_ALG_RS256 |
						1u << CFG_ALG_EDDSA) &&
			      t->leeway_ms == 30000 &&
			      t->jwks_refresh_ms == 300000 &&
			      t->identity_claim == NULL && !t->jwks_url,
		      "defaults: no_cert, [ES256, RS256, EdDSA], 30s, 5m, sub");
		cfg_free(c);
	}
	c = load(HEAD UPS, &err);
	CHECK(c && c->listeners[0].mqtt.token.when == CFG_TOKEN_OFF,
	      "no token section: off");
	cfg_free(c);
	c = load(HEAD "    mqtt: { username_from_cert: true }\n" UPS, &err);
	CHECK(c && c->listeners[0].mqtt.username_from_cert,
	      "the old name username_from_cert still works");
	cfg_free(c);
	c = load(TOKHEAD "        when: off\n" UPS, &err);
	CHECK(c && c->listeners[0].mqtt.token.when == CFG_TOKEN_OFF,
	      "when: off needs nothing else: %s", err ? err : "");
	cfg_free(c);

	c = load(TOKHEAD "        jwks_url: https://auth.example.com/jwks\n"
			 "        jwks_refresh: 1s\n        jwks_timeout: 2s\n"
			 "        issuer: i\n        audience: a\n" UPS,
		 &err);
	CHECK(c != NULL, "jwks_url parses: %s", err ? err : "");
	if (c) {
		const struct cfg_token *tk = &c->listeners[0].mqtt.token;
		char *u = cfg_unsupported(c);

		CHECK(!u, "jwks_url is supported: %s", u ? u : "");
		CHECK(tk->jwks_url && tk->jwks_refresh_ms == 1000 &&
			      tk->jwks_timeout_ms == 2000 && !tk->jwks_ca,
		      "jwks_url, refresh, timeout, system CAs");
		free(u);
		cfg_free(c);
	}
}

struct ecase {
	const char *name;
	const char *yaml;
	const char *where; /* ":LINE:COL:" */
	const char *msg;   /* substring */
};

static const struct ecase errs[] = {
    {"yaml syntax", HEAD UPS "stats: [\n", ":14:", "YAML"},
    {"unknown top key", "bogus: 1\n" HEAD UPS,
     ":1:1:", "unknown key 'bogus' in the configuration"},
    {"unknown tls key", HEAD "      certs: x\n" UPS,
     ":9:7:", "unknown key 'certs' in tls"},
    {"wrong type", "limits: 5\n" HEAD UPS,
     ":1:9:", "limits: expected a mapping"},
    {"bad bool", HEAD "      session_tickets: yes\n" UPS,
     ":9:24:", "expected true or false"},
    {"bad duration", "limits: { handshake_timeout: 5 }\n" HEAD UPS,
     ":1:30:", "bad duration '5'"},
    {"bad duration unit", "limits: { connect_timeout: 5w }\n" HEAD UPS,
     ":1:28:", "bad duration"},
    {"bad size", "limits: { max_packet_size: 1XB }\n" HEAD UPS,
     ":1:28:", "bad size"},
    {"size too big", "limits: { max_packet_size: 1GiB }\n" HEAD UPS,
     ":1:28:", "max_packet_size"},
    {"bad enum", HEAD "      verify_client: maybe\n" UPS,
     ":9:22:", "'maybe' is not one of: required, optional, none"},
    {"bad address", "listeners:\n  - name: l1\n    bind: 1.2.3:80\n",
     ":3:11:", "bad address"},
    {"bad port", "listeners:\n  - name: l1\n    bind: 127.0.0.1:99999\n",
     ":3:11:", "bad address"},
    {"bad server address",
     HEAD "upstreams:\n  - name: u1\n    servers:\n"
	  "      - { name: b1, address: no_where }\n",
     ":12:30:", "bad address"},
    {"bad cidr", HEAD "    proxy_protocol_from: [10.0.0.0/33]\n" UPS,
     ":9:27:", "bad address range"},
    {"missing file", HEAD "      crl: nope.pem\n" UPS, ":9:12:", "cannot read"},
    {"missing required",
     "listeners:\n  - name: l1\n    upstream: u1\n"
     "    tls: { cert: s.crt, key: s.key, client_ca: ca.crt }\n" UPS,
     ":2:5:", "missing key 'bind'"},
    {"missing cert",
     "listeners:\n  - name: l1\n    bind: 127.0.0.1:1\n"
     "    upstream: u1\n    tls: { key: s.key, client_ca: ca.crt }\n" UPS,
     ":5:10:", "missing key 'cert'"},
    {"duplicate key", HEAD "    upstream: u2\n" UPS,
     ":9:5:", "duplicate key 'upstream'"},
    {"duplicate server",
     HEAD "upstreams:\n  - name: u1\n    servers:\n"
	  "      - { name: b1, address: 127.0.0.1:1 }\n"
	  "      - { name: b1, address: 127.0.0.1:2 }\n",
     ":13:9:", "duplicate server name 'b1'"},
    {"undefined upstream",
     "listeners:\n  - name: l1\n    bind: 127.0.0.1:1\n    upstream: nope\n"
     "    tls: { cert: s.crt, key: s.key, client_ca: ca.crt }\n" UPS,
     ":2:5:", "upstream 'nope' is not defined"},
    {"no servers", HEAD "upstreams:\n  - name: u1\n    servers: []\n",
     ":11:14:", "at least one server"},
    {"bad weight",
     HEAD "upstreams:\n  - name: u1\n    servers:\n"
	  "      - { name: b1, address: 127.0.0.1:1, weight: 300 }\n",
     ":12:51:", "from 0 to 256"},
    {"bad workers", "workers: many\n" HEAD UPS, ":1:10:", "workers"},
    {"bad worker_placement", "worker_placement: round\n" HEAD UPS,
     ":1:19:", "worker_placement: expected pack or spread"},
    {"bad mode", HEAD UPS "stats: { mode: \"999\" }\n", ":13:16:", "octal"},
    {"bad min_version", HEAD "      min_version: \"1.1\"\n" UPS,
     ":9:20:", "min_version"},
    {"rise zero",
     HEAD "upstreams:\n  - name: u1\n    health: { rise: 0 }\n"
	  "    servers: [ { name: b1, address: 127.0.0.1:1 } ]\n",
     ":11:21:", "health.rise"},
    {"bad resolve_prefer", HEAD UPS "    resolve_prefer: ipv5\n",
     ":13:21:", "resolve_prefer"},
    {"token bad when", TOKHEAD TOKREQ "        when: sometimes\n" UPS,
     ":15:15:", "'sometimes' is not one of: off, no_cert, always"},
    {"token bad alg", TOKHEAD TOKREQ "        algorithms: [ES256, HS256]\n" UPS,
     ":15:29:", "'HS256' is not one of: ES256, ES384, RS256, PS256, EdDSA"},
    {"token alg none", TOKHEAD TOKREQ "        algorithms: [none]\n" UPS,
     ":15:22:", "'none' is not one of"},
    {"token alg twice",
     TOKHEAD TOKREQ "        algorithms: [ES256, ES256]\n" UPS,
     ":15:29:", "'ES256' is listed twice"},
    {"token no alg", TOKHEAD TOKREQ "        algorithms: []\n" UPS,
     ":15:21:", "mqtt.token.algorithms: at least one"},
    {"token no jwks", TOKHEAD "        issuer: i\n        audience: a\n" UPS,
     ":12:9:", "missing key 'jwks'"},
    {"token both", TOKHEAD TOKREQ "        jwks_url: http://x/\n" UPS,
     ":12:9:", "not both"},
    {"token no issuer",
     TOKHEAD "        jwks: jwks.json\n        audience: a\n" UPS,
     ":12:9:", "missing key 'issuer'"},
    {"token no audience",
     TOKHEAD "        jwks: jwks.json\n        issuer: i\n" UPS,
     ":12:9:", "missing key 'audience'"},
    {"token jwks missing",
     TOKHEAD "        jwks: nope.json\n"
	     "        issuer: i\n        audience: a\n" UPS,
     ":12:15:", "mqtt.token.jwks: cannot read"},
    {"token plain http",
     TOKHEAD "        jwks_url: http://x/\n"
	     "        issuer: i\n        audience: a\n" UPS,
     ":12:19:", "plain http:// lets anyone on the path replace"},
    {"token url scheme",
     TOKHEAD "        jwks_url: ftp://x/\n"
	     "        issuer: i\n        audience: a\n" UPS,
     ":12:19:", "expected an http:// or https:// URL"},
    {"token leeway", TOKHEAD TOKREQ "        leeway: 1h\n" UPS,
     ":15:17:", "leeway: at most 10m"},
    {"token refresh", TOKHEAD TOKREQ "        jwks_refresh: 500ms\n" UPS,
     ":15:23:", "at least 1s"},
    {"token timeout", TOKHEAD TOKREQ "        jwks_timeout: 2m\n" UPS,
     ":15:23:", "from 100ms to 60s"},
    {"token ca", TOKHEAD TOKREQ "        jwks_ca: nothere.pem\n" UPS,
     ":15:18:", "jwks_ca"},
    {"token unknown key", TOKHEAD TOKREQ "        audiences: x\n" UPS,
     ":15:9:", "unknown key 'audiences' in mqtt.token"},
    {"token empty claim", TOKHEAD TOKREQ "        identity_claim: \"\"\n" UPS,
     ":15:25:", "empty name"},
    {"token no_cert, cert required",
     HEAD "    mqtt:\n      token:\n" TOKREQ UPS,
     ":10:7:", "when: no_cert needs tls.verify_client: optional or none"},
    {"username both names",
     HEAD "    mqtt: { username_from_cert: true, username_from_identity: true "
	  "}\n" UPS,
     ":9:39:", "one setting"},
    {"ws path without slash", HEAD "    websocket: { paths: [mqtt] }\n" UPS,
     ":9:26:", "websocket.paths: 'mqtt': a path starts with '/'"},
    {"ws path with query", HEAD "    websocket: { paths: [/a?b] }\n" UPS,
     ":9:26:", "'?'"},
    {"ws path twice", HEAD "    websocket: { paths: [/a, /a] }\n" UPS,
     ":9:30:", "listed twice"},
    {"ws origins empty", HEAD "    websocket: { origins: [] }\n" UPS,
     ":9:27:", "an empty list allows nothing"},
    {"ws origin with path",
     HEAD "    websocket: { origins: [https://a.example/x] }\n" UPS,
     ":9:28:", "no path"},
    {"ws origin without scheme",
     HEAD "    websocket: { origins: [a.example] }\n" UPS,
     ":9:28:", "scheme://host"},
    {"ws subprotocol",
     HEAD "    websocket: { subprotocols: [mqtt, wamp] }\n" UPS,
     ":9:39:", "'wamp' is not one of"},
    {"ws max_header", HEAD "    websocket: { max_header: 100 }\n" UPS,
     ":9:30:", "from 256 to 64KiB"},
    {"ws max_frame", HEAD "    websocket: { max_frame: 1GiB }\n" UPS,
     ":9:29:", "from 16 to 256MiB"},
    {"ws unknown key", HEAD "    websocket: { path: /mqtt }\n" UPS,
     ":9:18:", "unknown key 'path' in websocket"},
    {"ws plain with tls", HEAD "    websocket: { plain: true }\n" UPS,
     ":9:5:", "remove 'tls'"},
    {"no tls, not plain",
     "listeners:\n  - { name: l1, bind: 127.0.0.1:1, upstream: u1, "
     "websocket: {} }\n" UPS,
     ":2:5:", "missing key 'tls'"},
    {"token from query without websocket",
     TOKHEAD TOKREQ "        from: [password, query]\n" UPS,
     ":11:7:", "need a websocket listener"},
    {"token from twice", TOKHEAD TOKREQ "        from: [cookie, cookie]\n" UPS,
     ":15:24:", "listed twice"},
    {"empty", "", ":1:1:", "empty"},
    {"not a mapping", "- a\n- b\n", ":1:1:", "expected a mapping"},
};

static void test_websocket(void)
{
	char *err = NULL;
	struct cfg *c = load(HEAD "    websocket: {}\n" UPS, &err);
	const struct cfg_websocket *w;

	CHECK(c != NULL, "websocket defaults: %s", err ? err : "");
	if (c) {
		w = &c->listeners[0].ws;
		CHECK(w->on && w->n_paths == 1 &&
			  !strcmp(w->paths[0], "/mqtt") && !w->origins &&
			  w->subprotocols ==
			      (CFG_WS_PROTO_MQTT | CFG_WS_PROTO_MQTTV31) &&
			  w->max_header == 8192 && w->max_frame == 1048576 &&
			  !w->plain,
		      "defaults: /mqtt, any origin, both, 8KiB, 1MiB");
		CHECK(c->warnings &&
			  strstr(c->warnings, "c.yaml:9:5: warning:") &&
			  strstr(c->warnings, "no 'origins'"),
		      "no origins: a warning at the key: %s",
		      c->warnings ? c->warnings : "(none)");
		CHECK(!c->listeners[0].mqtt.token.from ||
			  c->listeners[0].mqtt.token.from ==
			      CFG_TOKEN_FROM_PASSWORD,
		      "token from: password by default");
		cfg_free(c);
	}
	c = load("listeners:\n  - name: l1\n    bind: 127.0.0.1:1\n"
		 "    upstream: u1\n    mqtt:\n      token:\n" TOKREQ
		 "        from: [query, cookie, password]\n"
		 "    websocket:\n      paths: [/mqtt, /ws]\n"
		 "      origins: [https://dash.example.com]\n"
		 "      subprotocols: [mqtt]\n      max_header: 4KiB\n"
		 "      max_frame: 64KiB\n      plain: true\n" UPS,
		 &err);
	CHECK(c != NULL, "websocket plain: %s", err ? err : "");
	if (c) {
		w = &c->listeners[0].ws;
		CHECK(w->plain && w->n_paths == 2 &&
			  !strcmp(w->paths[1], "/ws") && w->n_origins == 1 &&
			  w->subprotocols == CFG_WS_PROTO_MQTT &&
			  w->max_header == 4096 && w->max_frame == 65536,
		      "keys read: plain %d paths %zu origins %zu proto %u hdr "
		      "%llu "
		      "frame %llu",
		      w->plain, w->n_paths, w->n_origins, w->subprotocols,
		      (unsigned long long)w->max_header,
		      (unsigned long long)w->max_frame);
		CHECK(c->listeners[0].mqtt.token.from ==
			  (CFG_TOKEN_FROM_PASSWORD | CFG_TOKEN_FROM_QUERY |
			   CFG_TOKEN_FROM_COOKIE),
		      "token from all three");
		CHECK(!c->warnings, "origins listed: no warning");
		CHECK(c->listeners[0].tls.verify_client == CFG_VERIFY_NONE,
		      "plain: no client certificates");
		cfg_free(c);
	}
}

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		char *err = NULL;
		struct cfg *c = load(errs[i].yaml, &err);

		CHECK(c == NULL, "%s: loaded", errs[i].name);
		CHECK(err && strstr(err, errs[i].where) &&
			      strstr(err, errs[i].msg),
		      "%s: want %s %s, got: %s", errs[i].name, errs[i].where,
		      errs[i].msg, err ? err : "(none)");
		CHECK(err && strstr(err, "/c.yaml:"), "%s: file named",
		      errs[i].name);
		cfg_free(c);
		free(err);
	}
}

#define ENR                                                                 \
	"    mqtt:\n"                                                      \
	"      enroll:\n"                                                  \
	"        ca_cert: ica.crt\n"                                       \
	"        ca_key: ica.key\n"                                        \
	"        index: issued.txt\n"

static void test_enroll(void)
{
	static const struct ecase bad[] = {
		{"enroll without ca_cert",
		 HEAD "    mqtt:\n      enroll: { ca_key: ica.key, index: i }\n" UPS,
		 ":10:15:", "missing key 'ca_cert'"},
		{"enroll key readable by others", HEAD
		 "    mqtt:\n      enroll: { ca_cert: ica.crt, ca_key: open.key, "
		 "index: i }\n" UPS,
		 ":10:43:", "has mode 0644: the issuing CA's key must"},
		{"enroll est on a websocket listener",
		 HEAD "    websocket: { paths: [/mqtt] }\n" ENR
		      "        est: true\n" UPS,
		 ":15:14:", "not on a websocket listener"},
		{"enroll topic wildcard", HEAD ENR "        topic: a/+/b\n" UPS,
		 ":14:16:", "without + or #"},
		{"enroll window longer than validity",
		 HEAD ENR "        validity: 30d\n        renew_before: 30d\n" UPS,
		 ":11:9:", "renew_before must be shorter than validity"},
		{"enroll validity too short", HEAD ENR "        validity: 10m\n" UPS,
		 ":14:19:", "from 1h to 3650d"},
	};
	char *err = NULL, want[128];
	struct cfg *c = load(HEAD ENR "        validity: 30d\n"
				      "        renew_before: 10d\n"
				      "        renew_grace: 2d\n"
				      "        topic: fleet/certs\n"
				      "        est: true\n" UPS,
			     &err);
	const struct cfg_enroll *e;

	CHECK(c != NULL, "enroll config: %s", err ? err : "");
	if (c) {
		e = &c->listeners[0].mqtt.enroll;
		snprintf(want, sizeof(want), "%s/issued.txt", dir);
		CHECK(e->on && !strcmp(e->index, want) &&
			      e->validity_ms == 30 * 86400000ull &&
			      e->renew_before_ms == 10 * 86400000ull &&
			      e->renew_grace_ms == 2 * 86400000ull &&
			      !strcmp(cfg_enroll_topic(e), "fleet/certs") &&
			      !e->bootstrap_ca && e->est,
		      "enroll values");
		cfg_free(c);
	}
	free(err);
	err = NULL;
	c = load(HEAD ENR UPS, &err);
	CHECK(c != NULL, "enroll defaults: %s", err ? err : "");
	if (c) {
		e = &c->listeners[0].mqtt.enroll;
		CHECK(e->validity_ms == 90 * 86400000ull &&
			      e->renew_before_ms == 30 * 86400000ull &&
			      e->renew_grace_ms == 0 &&
			      !strcmp(cfg_enroll_topic(e), "$moat/certs"),
		      "enroll defaults");
		cfg_free(c);
	}
	free(err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		c = load(bad[i].yaml, &err);
		CHECK(c == NULL && err && strstr(err, bad[i].where) &&
			      strstr(err, bad[i].msg),
		      "%s: want %s %s, got: %s", bad[i].name, bad[i].where,
		      bad[i].msg, err ? err : "(none)");
		cfg_free(c);
		free(err);
	}
}

static void test_unsupported(void)
{
	char *err = NULL;
	struct cfg *c = load("workers: 2\n" HEAD
			     "      ocsp: { mode: require }\n"
			     "      staple: auto\n" UPS
			     "    send_proxy: v2\n"
			     "stats: { metrics: 127.0.0.1:9883 }\n",
			     &err);
	char *u;

	CHECK(c != NULL, "config loads: %s", err ? err : "");
	if (!c) {
		free(err);
		return;
	}
	CHECK(c->workers == 2, "workers: %u", c->workers);
	u = cfg_unsupported(c);
	CHECK(u == NULL, "everything is supported: %s", u ? u : "");
	free(u);
	cfg_free(c);
	c = load("workers: 65\n" HEAD UPS, &err);
	CHECK(c == NULL && err && strstr(err, ":1:10: workers"),
	      "workers over 64 refused with its place: %s", err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load("workers: auto\n" HEAD UPS, &err);
	CHECK(c && c->workers >= 1 && c->workers <= CFG_MAX_WORKERS,
	      "workers: auto is the number of cores: %s", err ? err : "");
	cfg_free(c);
	free(err);
}

/* A resolver answer as getaddrinfo gives it: "4" an IPv4 address, "6"
 * an IPv6 one, "u" a family moat does not connect to; the digit after it
 * makes the address (127.0.0.D / ::D). */
static struct addrinfo *answer(const char *spec, struct addrinfo *ai,
			       union util_addr *sa)
{
	size_t n = strlen(spec) / 2;

	memset(ai, 0, n * sizeof(*ai));
	memset(sa, 0, n * sizeof(*sa));
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(spec[2 * i + 1] - '0');

		if (spec[2 * i] == '4') {
			sa[i].in.sin_family = AF_INET;
			sa[i].in.sin_port = htons(1883);
			sa[i].in.sin_addr.s_addr = htonl(0x7f000000u | d);
			ai[i].ai_addrlen = sizeof(sa[i].in);
		} else {
			sa[i].in6.sin6_family = spec[2 * i] == '6' ? AF_INET6
								   : AF_UNIX;
			sa[i].in6.sin6_port = htons(1883);
			sa[i].in6.sin6_addr.s6_addr[15] = (uint8_t)d;
			ai[i].ai_addrlen = sizeof(sa[i].in6);
		}
		ai[i].ai_family = sa[i].sa.sa_family;
		ai[i].ai_addr = &sa[i].sa;
		ai[i].ai_next = i + 1 < n ? &ai[i + 1] : NULL;
	}
	return n ? ai : NULL;
}

/* The kept addresses in the same notation. */
static void kept(const struct cfg_server *s, char *out)
{
	for (size_t i = 0; i < s->n_addrs; i++) {
		const union util_addr *a = &s->addrs[i];

		*out++ = a->sa.sa_family == AF_INET ? '4' : '6';
		*out++ = (char)('0' + (a->sa.sa_family == AF_INET
					       ? ntohl(a->in.sin_addr.s_addr) & 0xff
					       : a->in6.sin6_addr.s6_addr[15]));
	}
	*out = '\0';
}

static void test_server_addrs(void)
{
	static const struct {
		const char *answer;
		enum cfg_prefer prefer;
		const char *want;
	} cases[] = {
		{"6141", CFG_PREFER_ANY, "6141"},
		{"6141", CFG_PREFER_IPV4, "4161"},
		{"4161", CFG_PREFER_IPV6, "6141"},
		{"41426162", CFG_PREFER_IPV6, "61624142"},
		{"41426162", CFG_PREFER_ANY, "41426162"},
		{"4141616141", CFG_PREFER_ANY, "4161"},
		{"61u141", CFG_PREFER_IPV4, "4161"},
		{"u1", CFG_PREFER_ANY, ""},
		{"", CFG_PREFER_ANY, ""},
		{"61", CFG_PREFER_IPV4, "61"},
		{"4142434445464748494041424344", CFG_PREFER_ANY,
		 "41424344454647484940"},
	};
	struct addrinfo ai[64];
	union util_addr sa[64];
	char got[2 * CFG_MAX_ADDRS + 1];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_server s;
		size_t n;

		memset(&s, 0, sizeof(s));
		n = cfg_server_set_addrs(&s, answer(cases[i].answer, ai, sa),
					 cases[i].prefer);
		kept(&s, got);
		CHECK(n == s.n_addrs && !strcmp(got, cases[i].want),
		      "answer %s prefer %d: want %s, got %s", cases[i].answer,
		      (int)cases[i].prefer, cases[i].want, got);
	}
	/* more distinct addresses than CFG_MAX_ADDRS: the first ones stay */
	{
		struct cfg_server s;

		memset(&s, 0, sizeof(s));
		memset(ai, 0, sizeof(ai));
		memset(sa, 0, sizeof(sa));
		for (size_t i = 0; i < 40; i++) {
			sa[i].in.sin_family = AF_INET;
			sa[i].in.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)i);
			ai[i].ai_addr = &sa[i].sa;
			ai[i].ai_addrlen = sizeof(sa[i].in);
			ai[i].ai_next = i + 1 < 40 ? &ai[i + 1] : NULL;
		}
		CHECK(cfg_server_set_addrs(&s, ai, CFG_PREFER_IPV6) ==
				      CFG_MAX_ADDRS &&
			      ntohl(s.addrs[CFG_MAX_ADDRS - 1].in.sin_addr.s_addr) ==
				      0x0a000000u + CFG_MAX_ADDRS - 1,
		      "at most CFG_MAX_ADDRS kept, in order");
	}
}

int main(void)
{
	if (cfgdir_open("cfg") < 0)
		return 2;
	write_file("crl.pem", "x");
	write_file("jwks.json", "{}");
	write_file("ica.crt", "x");
	write_file("ica.key", "x");
	write_file("open.key", "x");
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/ica.key", dir);
		chmod(p, 0600);
		snprintf(p, sizeof(p), "%s/open.key", dir);
		chmod(p, 0644);
	}
	test_full();
	test_enroll();
	test_token();
	test_defaults();
	test_websocket();
	test_errors();
	test_unsupported();
	test_server_addrs();
	cfgdir_close();
	return test_done("config");
}
