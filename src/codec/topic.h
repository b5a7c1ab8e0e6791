/* topic.h - MQTT topic names and filters as moat's topic rules need them:
 * matching a topic against a filter, whether one filter covers or meets
 * another (subscriptions judged against rules), shared-subscription
 * prefixes, and the substitution of placeholders (%c %u %i %{claim}) into
 * a rule. Pure code over byte strings: no allocation, no I/O. */
#ifndef MOAT_TOPIC_H
#define MOAT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* A topic name: not empty, no '+', '#' or NUL. */
bool topic_name_valid(const char *t, size_t len);

/* A topic filter: not empty, no NUL, '+' a whole level, '#' a whole
 * level and the last one. */
bool topic_filter_valid(const char *f, size_t len);

/* Every topic that sub matches is matched by rule. With a topic name as
 * sub this is MQTT's matching ("a/#" matches "a", "+" matches an empty
 * level). '$' has no special meaning here: rules see $-topics like any
 * other. Both must be valid filters. */
bool topic_covers(const char *rule, size_t rlen, const char *sub, size_t slen);

/* Some topic name is matched by both filters. */
bool topic_meets(const char *a, size_t alen, const char *b, size_t blen);

/* $share/GROUP/FILTER: sets *f and *len to FILTER and returns 1; returns
 * 0 for any other filter (unchanged), -1 for a malformed share (no group,
 * no filter, a wildcard in the group). */
int topic_unshare(const char **f, size_t *len);

/* What placeholders stand for on one connection; NULL = unknown (a rule
 * that needs it cannot match). claim() looks a token claim up by name
 * (NULL: no such claim, or no token). */
struct topic_vars {
	const char *client_id; /* %c */
	const char *username;  /* %u */
	const char *identity;  /* %i */
	const char *(*claim)(void *arg, const char *name, size_t nlen);
	void *arg;
};

#define TOPIC_E_UNKNOWN (-1) /* a placeholder with no value */
#define TOPIC_E_NOSPACE (-2)
#define TOPIC_E_UNSAFE (-3) /* a value holds '+', '#', '/' or NUL */
#define TOPIC_E_SYNTAX (-4) /* '%' not followed by c, u, i, {NAME} or % */

/* Expand the placeholders of pat into out (NUL-terminated). Returns the
 * length, or a TOPIC_E_ code. A value containing '+', '#', '/' or NUL is
 * never put into a topic (TOPIC_E_UNSAFE): an identity "+" must not turn
 * "devices/%c/#" into "devices/+/#". %% is a literal '%'. */
int topic_expand(const char *pat, size_t plen, const struct topic_vars *v,
		 char *out, size_t cap);

/* Whether a value may stand in a topic: no '+', '#', '/', NUL. */
bool topic_value_safe(const char *s, size_t len);

#endif
