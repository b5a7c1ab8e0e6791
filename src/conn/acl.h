/* acl.h - what the two files of the topic rules share (acl_rules.c: the
 * rules of a session, expanded, judged and re-judged at reload; acl.c: the
 * packets judged and answered), and nothing else in src/conn sees. */
#ifndef MOAT_CONN_ACL_H
#define MOAT_CONN_ACL_H

#include "conn/internal.h"

#define ACL_PEND 16    /* partly denied SUBSCRIBEs awaiting their SUBACK */
#define ACL_QOS2 32    /* denied QoS 2 packet ids whose PUBREL moat answers */
#define ACL_ANS 4096   /* moat's answers waiting for a boundary */
#define ACL_SUBS 16384 /* bytes of subscriptions remembered per session */
#define ACL_NO_HITS 0xffff

/* One rule topic, expanded for this session. */
struct acl_exp {
	uint32_t off; /* of the topic in strings */
	uint16_t len;
	uint16_t rule; /* index in cfg->rules (hits), ACL_NO_HITS: a token's */
	uint8_t allow, actions;
	uint8_t eq; /* "eq ": compared as a string */
};

/* The rules in force on a session. */
struct acl_set {
	const struct cfg_acl *cfg; /* in gen (hits) */
	struct gen *gen;	   /* referenced when not the session's own */
	struct acl_exp *x;
	size_t nx;
	char *strings;
	size_t used;
};

struct acl_pend {
	uint16_t id, n;
	struct mqtt_subset deny;
};

struct conn_acl {
	struct acl_set set;
	char *username;	     /* %u as it was at CONNECT, or NULL */
	struct jwt_doc *doc; /* a token's claims (%{NAME}, acl claim) */
	/* the filters the broker was asked to subscribe (NUL-separated),
	 * judged again when the rules change */
	char *subs;
	size_t subs_len, subs_cap;
	uint8_t subs_lost; /* more than ACL_SUBS: not all remembered */
	struct walk out;   /* the broker's packets (the client's: *conn->in) */
	struct acl_pend pend[ACL_PEND];
	uint8_t npend;
	uint8_t nqos2, qos2_next;
	uint8_t stopped; /* the session is ending: nothing forwarded */
	uint16_t qos2[ACL_QOS2];
	uint8_t *ans;
	size_t alen;
};

/* acl_rules.c */
bool acl_allows(const struct acl_set *s, uint8_t action, const char *t,
		size_t len);
/* Log one denial (rate limited per cause); acl_denied also counts it. */
void acl_log(struct conn *c, enum reject_cause why, const uint8_t *t,
	     size_t len);
void acl_denied(struct conn *c, enum reject_cause why, const uint8_t *t,
		size_t len);
/* A SUBSCRIBE's filter was forwarded / an UNSUBSCRIBE's filter dropped. */
void acl_sub_add(struct conn_acl *a, const char *f, size_t len);
void acl_sub_remove(struct conn_acl *a, const char *f, size_t len);

#endif
