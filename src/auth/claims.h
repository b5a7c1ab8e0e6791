/* claims.h - what moat reads from a verified token besides its identity:
 * string claims that topic rules substitute (%{NAME}) and topic rules the
 * token carries itself, in EMQX's `acl` claim formats. */
#ifndef MOAT_CLAIMS_H
#define MOAT_CLAIMS_H

#include <stddef.h>

#include "auth/jwt.h"
#include "config/config.h"

/* The claim NAME[0..nlen) when it is a string (numbers and booleans as
 * their JSON text are not taken: a topic gets only what was meant as
 * text); NULL otherwise. Valid while d lives. */
const char *jwt_doc_string(struct jwt_doc *d, const char *name, size_t nlen);

/* The rules of claim `claim`: 1 with *rules (the caller frees them with
 * cfg_acl_rules_free) and *n, 0 when the token has no such claim, -1 when
 * it is malformed (*why says how). Both EMQX forms:
 *   [{"permission": "allow", "action": "publish", "topic": "t/${clientid}"},
 *    {"permission": "deny", "action": "all", "topics": ["#"]}]
 *   {"pub": ["a/#"], "sub": ["b/#"], "all": ["c/#"]}   (allow rules)
 * ${clientid} and ${username} become %c and %u; "eq " keeps its meaning;
 * every topic is checked as a rules file's would be. */
int jwt_doc_acl(struct jwt_doc *d, const char *claim,
		struct cfg_acl_rule **rules, size_t *n, const char **why);

/* Claims from JSON text (tests and the fuzz target; moat itself keeps a
 * verified token's). NULL when not a JSON object. */
struct jwt_doc *jwt_doc_parse(const char *json, size_t len);
void jwt_doc_free(struct jwt_doc *d);

#endif
