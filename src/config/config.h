/* config.h - moat's configuration as typed structs, parsed once from YAML
 * (libyaml) by cfg_load(). Nothing below the config module touches YAML.
 * A struct cfg is immutable once loaded; a reload loads a new one and the
 * old one is freed when nothing refers to it any more. Every string and
 * array is owned by the struct cfg and freed by cfg_free(). */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

#define CFG_MAX_WORKERS 64

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>

#include "base/util.h"

/* Where a value was written, for errors found after parsing (a cert file
 * that does not load, say). file points at cfg->path. */
struct cfg_pos {
	const char *file;
	int line; /* 1-based */
	int col;  /* 1-based */
};

enum cfg_verify { CFG_VERIFY_REQUIRED, CFG_VERIFY_OPTIONAL, CFG_VERIFY_NONE };
enum cfg_identity { CFG_ID_NONE, CFG_ID_CN, CFG_ID_SAN_DNS, CFG_ID_SAN_URI };
enum cfg_balance { CFG_BAL_ROUND_ROBIN, CFG_BAL_LEAST_CONN, CFG_BAL_CLIENT_ID };
enum cfg_health_type { CFG_HEALTH_NONE, CFG_HEALTH_TCP, CFG_HEALTH_MQTT };
enum cfg_ocsp_mode { CFG_OCSP_OFF, CFG_OCSP_SOFT, CFG_OCSP_REQUIRE };
enum cfg_ocsp_check { CFG_OCSP_LEAF, CFG_OCSP_CHAIN };
enum cfg_staple { CFG_STAPLE_OFF, CFG_STAPLE_AUTO, CFG_STAPLE_FILE };
enum cfg_proxy_send { CFG_PROXY_OFF, CFG_PROXY_V1, CFG_PROXY_V2 };
enum cfg_crl_expired { CFG_CRL_EXPIRED_WARN, CFG_CRL_EXPIRED_REJECT };
enum cfg_revoked_live { CFG_REVOKED_CLOSE, CFG_REVOKED_KEEP };
enum cfg_log_level { CFG_LOG_ERROR, CFG_LOG_WARN, CFG_LOG_INFO, CFG_LOG_DEBUG };
enum cfg_log_format { CFG_LOG_TEXT, CFG_LOG_JSON };
enum cfg_level { CFG_LEVEL_READONLY, CFG_LEVEL_OPERATOR, CFG_LEVEL_ADMIN };
enum cfg_prefer { CFG_PREFER_ANY, CFG_PREFER_IPV4, CFG_PREFER_IPV6 };
enum cfg_token_when { CFG_TOKEN_OFF, CFG_TOKEN_NO_CERT, CFG_TOKEN_ALWAYS };
/* JWS algorithms a token may be signed with (bit i of cfg_token.algorithms
 * is algorithm i). Only asymmetric ones: "none" and HMAC never. */
enum cfg_token_alg {
	CFG_ALG_ES256,
	CFG_ALG_ES384,
	CFG_ALG_RS256,
	CFG_ALG_PS256,
	CFG_ALG_EDDSA,
	CFG_ALG__COUNT
};

struct cfg_limits {
	uint64_t max_connections;      /* default 100000 */
	uint64_t handshake_timeout_ms; /* default 5s */
	uint64_t connect_timeout_ms;   /* default 10s */
	uint64_t max_packet_size;      /* default 1MiB; at most 268435455 */
	uint64_t drain_timeout_ms;     /* default 30s */
	bool per_source_set;           /* per_source given */
	uint64_t per_source_max_connections; /* 0 = no limit */
	uint64_t per_source_new_per_second;  /* 0 = no limit */
	struct cfg_pos per_source_pos;
};

struct cfg_ocsp {
	enum cfg_ocsp_mode mode; /* default off */
	char *responder;         /* "" or NULL = the cert's AIA URL */
	uint64_t timeout_ms;     /* default 2s */
	uint64_t cache_size;     /* default 100000 */
	uint64_t stale_if_error_ms; /* default 0 */
	uint64_t max_age_ms;        /* answers without nextUpdate; 5m */
	enum cfg_ocsp_check check;  /* default leaf */
	struct cfg_pos pos;         /* of the `ocsp` key */
};

struct cfg_tls {
	char *cert;      /* required */
	char *key;       /* required */
	char *client_ca; /* required unless verify_client: none */
	char *crl;       /* NULL = none */
	struct cfg_pos cert_pos, key_pos, client_ca_pos, crl_pos;
	enum cfg_verify verify_client; /* default required */
	int min_version;               /* 12 or 13; default 12 */
	enum cfg_crl_expired crl_expired;     /* default warn */
	struct cfg_pos crl_expired_pos;
	enum cfg_staple staple;               /* default off */
	char *staple_file;                    /* when staple == FILE */
	struct cfg_pos staple_pos;
	bool session_tickets;                 /* default true */
	uint64_t ticket_lifetime_ms;	      /* default 1h */
	char *ticket_keys;                    /* NULL = a key made at start */
	struct cfg_pos ticket_keys_pos;
	struct cfg_ocsp ocsp;
	enum cfg_revoked_live revoked_live;   /* default close */
	/* mqtt.enroll.bootstrap_ca (not owned): trusted next to client_ca
	 * (before the CRLs load, so a claim CA's CRL is accepted) */
	const char *claim_ca;
	struct cfg_pos revoked_live_pos;
};

/* listeners[].mqtt.token: an OAuth 2.0 access token (JWT) as the CONNECT
 * password. The JWK Set file is loaded by the auth module (src/auth/jwk.c)
 * into the generation; here it is only a path checked for reading. */
struct cfg_token {
	enum cfg_token_when when; /* default off; no_cert once the section is
				     written */
	char *jwks;               /* NULL = none; resolved path */
	struct cfg_pos jwks_pos;
	char *jwks_url;           /* NULL = none */
	struct cfg_pos jwks_url_pos;
	bool jwks_insecure_http;  /* an http:// jwks_url is allowed */
	uint64_t jwks_refresh_ms; /* default 5m */
	uint64_t jwks_timeout_ms; /* one fetch of jwks_url; default 5s */
	char *jwks_ca;            /* NULL = the system CAs; resolved path */
	struct cfg_pos jwks_ca_pos;
	char *issuer;             /* required when on */
	char *audience;           /* required when on */
	unsigned algorithms;      /* bit per enum cfg_token_alg; default
				     ES256, RS256, EdDSA */
	uint64_t leeway_ms;       /* default 30s */
	char *identity_claim;     /* NULL = "sub" (the default) */
	unsigned from;            /* CFG_TOKEN_FROM_*; default password */
	struct cfg_pos pos;       /* of the `token` key */
};

/* listeners[].mqtt.enroll: certificate renewal and enrollment over MQTT
 * (docs/lifecycle.md). Paths are resolved; durations in ms. */
struct cfg_enroll {
	bool on;                  /* the section is written */
	bool est;                 /* EST (RFC 7030) on the TLS port */
	struct cfg_pos est_pos;
	char *topic;              /* NULL = "$moat/certs" (cfg_enroll_topic) */
	char *ca_cert;            /* the issuing CA (PEM) */
	struct cfg_pos ca_cert_pos;
	char *ca_key;             /* its key (PEM), mode 600 */
	struct cfg_pos ca_key_pos;
	char *index;              /* `openssl ca` index.txt moat appends to */
	struct cfg_pos index_pos;
	uint64_t validity_ms;     /* default 90d */
	uint64_t renew_before_ms; /* default 30d */
	uint64_t renew_grace_ms;  /* default 0 */
	char *bootstrap_ca;       /* claim certificates' CA (PEM), or NULL */
	struct cfg_pos bootstrap_ca_pos;
	struct cfg_pos pos;       /* of the `enroll` key */
};

/* The topic prefix: mqtt.enroll.topic or "$moat/certs". */
const char *cfg_enroll_topic(const struct cfg_enroll *e);
/* Where a token may come from (bits of cfg_token.from). */
#define CFG_TOKEN_FROM_PASSWORD 1u /* the CONNECT password */
#define CFG_TOKEN_FROM_QUERY 2u    /* ?access_token= (WebSocket only) */
#define CFG_TOKEN_FROM_COOKIE 4u   /* Cookie access_token= (WebSocket) */
/* listeners[].mqtt.acl: topic rules (src/config/config_acl.c). */
enum cfg_acl_action { CFG_ACL_PUBLISH = 1, CFG_ACL_SUBSCRIBE = 2,
		      CFG_ACL_ALL = 3 };
/* Placeholders a rule uses (bits of cfg_acl_rule.vars). */
enum { CFG_ACL_VAR_C = 1, CFG_ACL_VAR_U = 2, CFG_ACL_VAR_I = 4,
       CFG_ACL_VAR_CLAIM = 8 };
enum cfg_acl_claim_mode { CFG_ACL_CLAIM_AFTER, CFG_ACL_CLAIM_BEFORE,
			  CFG_ACL_CLAIM_REPLACE };

struct cfg_acl_rule {
	bool allow;
	uint8_t actions;   /* enum cfg_acl_action bits */
	uint8_t vars;      /* CFG_ACL_VAR_ bits over its topics */
	char **topics;     /* filters with placeholders, as written */
	size_t n_topics;
	struct cfg_pos pos; /* file: the rules file's path, or cfg->path */
};

struct cfg_acl {
	bool on;                  /* the acl key was written */
	char *rules_file;         /* NULL: the rules are inline */
	struct cfg_pos rules_pos;
	struct cfg_acl_rule *rules;
	size_t n_rules;
	uint8_t vars;             /* every rule's vars */
	char *claim;              /* token claim with rules; NULL = none */
	enum cfg_acl_claim_mode claim_mode; /* default after */
	bool no_match_allow;      /* default false (deny) */
	bool deny_disconnect;     /* 3.1.1 publish: default ack and drop */
	/* Hits: one per rule, then one for no_match. Counters, not
	 * configuration: every worker adds to them (atomically); they start
	 * from zero with each loaded configuration. */
	uint64_t *hits;
	struct cfg_pos pos;       /* of the `acl` key */
};

/* listeners[].mqtt.rate: per connection, client to broker. */
struct cfg_rate {
	bool on;
	uint64_t messages_per_second; /* 0 = no limit */
	uint64_t bytes_per_second;    /* 0 = no limit */
	uint64_t burst_ms;            /* default 1s */
	uint32_t disconnect_over;     /* 0 = never */
	struct cfg_pos pos;
};

struct cfg_mqtt {
	enum cfg_identity identity; /* default cn */
	bool client_id_must_match;  /* default false */
	/* username_from_identity, or its old name username_from_cert: the
	 * identity (certificate or token) becomes the CONNECT username */
	bool username_from_cert;    /* default false */
	bool username_from_set;     /* either name was written */
	/* MQTT 5 enhanced authentication (CONNECT Authentication Method,
	 * AUTH packets) passed through to the broker; default false: such
	 * a CONNECT is refused (0x8C) and an AUTH ends the session */
	bool enhanced_auth;
	struct cfg_token token;
	struct cfg_acl acl;
	struct cfg_rate rate;
	struct cfg_enroll enroll;
};

/* MQTT over WebSocket (RFC 6455) on a listener. */
#define CFG_WS_PROTO_MQTT 1u	/* subprotocol "mqtt" */
#define CFG_WS_PROTO_MQTTV31 2u /* "mqttv3.1" (MQIsdp clients) */
struct cfg_websocket {
	bool on;      /* the `websocket` key is there */
	char **paths; /* default ["/mqtt"] */
	size_t n_paths;
	char **origins; /* NULL: any Origin */
	size_t n_origins;
	unsigned subprotocols; /* CFG_WS_PROTO_*; default both */
	uint64_t max_header;   /* request line and headers; default 8KiB */
	uint64_t max_frame;    /* a frame's or message's payload; 1MiB */
	bool plain;	       /* ws:// without TLS; default false */
	struct cfg_pos pos;    /* of the `websocket` key */
};

struct cfg_listener {
	char *name; /* required, unique */
	char *bind; /* as written */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool proxy_protocol; /* default false */
	struct cfg_pos proxy_protocol_pos;
	struct util_cidr *proxy_from; /* proxy_protocol_from */
	size_t n_proxy_from;
	char *upstream;     /* required; names an upstream */
	size_t upstream_ix; /* index into cfg->upstreams, resolved by cfg_load */
	struct cfg_tls tls;
	struct cfg_mqtt mqtt;
	struct cfg_websocket ws;
	struct cfg_pos pos;
};

struct cfg_health {
	enum cfg_health_type type; /* default tcp; "none" disables checks (extension) */
	uint64_t interval_ms;      /* default 2s */
	uint64_t timeout_ms;       /* default 1s */
	uint32_t rise;             /* default 2 */
	uint32_t fall;             /* default 3 */
};

/* The addresses a server name resolves to that moat keeps (more are
 * dropped). */
#define CFG_MAX_ADDRS 16

struct cfg_server {
	char *name;    /* required, unique within its upstream */
	char *address; /* as written */
	/* In the order connects try them (see cfg_server_set_addrs). One for
	 * an address written as IP:PORT; a DNS name has none until gen_load()
	 * resolves it. */
	union util_addr addrs[CFG_MAX_ADDRS];
	size_t n_addrs;
	struct cfg_pos address_pos;
	uint32_t weight; /* default 1; 0..256 (0 = takes no new connections) */
	struct cfg_pos pos;
};

struct cfg_upstream {
	char *name; /* required, unique */
	enum cfg_balance balance;     /* default client-id */
	enum cfg_proxy_send send_proxy; /* default off */
	struct cfg_pos send_proxy_pos;
	uint64_t connect_timeout_ms;  /* extension; default 3s */
	enum cfg_prefer resolve_prefer; /* default any: the resolver's order */
	struct cfg_health health;
	struct cfg_server *servers; /* 1..256 */
	size_t n_servers;
	struct cfg_pos pos;
};

struct cfg_stats {
	char *socket; /* NULL = no stats socket */
	uint32_t mode; /* file mode, default 0600; written as a string "0600" */
	enum cfg_level level; /* default admin */
	char *metrics; /* NULL = off */
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addr_len;
	struct cfg_pos metrics_pos;
};

struct cfg {
	char *path;        /* the file as given */
	uint32_t workers;  /* resolved: auto = number of cores; default 1;
			      at most CFG_MAX_WORKERS */
	struct cfg_pos workers_pos;
	uint8_t spread;	   /* worker_placement: spread (else pack) */
	char *user;        /* NULL = do not change */
	char *group;
	struct cfg_limits limits;
	enum cfg_log_level log_level;   /* default info */
	enum cfg_log_format log_format; /* default text */
	struct cfg_listener *listeners; /* at least one */
	size_t n_listeners;
	struct cfg_upstream *upstreams; /* at least one */
	size_t n_upstreams;
	struct cfg_stats stats;
	char *stop_redirect_to; /* MQTT 5 Server Reference on stop/drain */
	/* "FILE:LINE:COL: warning: ...\n" lines (the config is valid, but
	 * says something it may not mean), or NULL */
	char *warnings;
};

/* Parse and validate PATH. On success returns the config and sets *errors
 * to NULL. On failure returns NULL and sets *errors to a malloc'd text of
 * one or more lines "FILE:LINE:COL: message\n" (caller frees). Checks here:
 * YAML syntax, unknown keys, types, enums, durations, sizes, addresses,
 * references between sections, duplicates, and that every named file can
 * be opened for reading. Loading certificates into TLS is the tls module's. */
struct cfg *cfg_load(const char *path, char **errors);

/* Features whose keys the parser accepts but this build does not
 * support: appends "FILE:LINE:COL: KEY: not supported yet\n" lines to a
 * malloc'd text and returns it, or NULL when everything is supported. */
char *cfg_unsupported(const struct cfg *cfg);

void cfg_free(struct cfg *cfg);

/* Set s->addrs from the resolver's answer RES (a getaddrinfo list, in
 * the resolver's order): duplicates dropped, at most CFG_MAX_ADDRS kept,
 * and with PREFER ipv4 or ipv6 that family's addresses first, each family
 * in the resolver's order. Addresses of other families are skipped.
 * Returns how many were kept (0: none usable). */
size_t cfg_server_set_addrs(struct cfg_server *s, const struct addrinfo *res,
			    enum cfg_prefer prefer);

/* A topic rule's filter: placeholders known (%c %u %i %{NAME} %%), a
 * valid filter whatever they stand for, no $share/. NULL when good (the
 * placeholders used are added to *vars), else what is wrong. "eq " at
 * the start: the rest is compared as a string (EMQX's form). */
const char *cfg_acl_pattern_check(const char *pat, uint8_t *vars);
void cfg_acl_rules_free(struct cfg_acl_rule *rules, size_t n);

const char *cfg_balance_name(enum cfg_balance b);
const char *cfg_level_name(enum cfg_level l);
/* "ES256", ...; NULL when out of range */
const char *cfg_token_alg_name(enum cfg_token_alg a);
const char *cfg_token_when_name(enum cfg_token_when w);

#endif
