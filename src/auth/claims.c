/* claims.c - a verified token's claims for the topic rules: string claims
 * by name for %{NAME}, and the rules of an `acl` claim in EMQX's list form
 * (permission, action, topic/topics) or its older {pub, sub, all} form,
 * turned into the rules a file would give, each topic checked the same
 * way. Read once per connection, at CONNECT. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/claims.h"

const char *jwt_doc_string(struct jwt_doc *d, const char *name, size_t nlen)
{
	json_t *v;

	if (!d)
		return NULL;
	v = json_object_getn((json_t *)d, name, nlen);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct jwt_doc *jwt_doc_parse(const char *json, size_t len)
{
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return (struct jwt_doc *)j;
}

void jwt_doc_free(struct jwt_doc *d)
{
	json_decref((json_t *)d);
}

/* ${clientid} -> %c, ${username} -> %u; other text as it is. */
static char *topic_from_emqx(const char *t)
{
	static const struct {
		const char *from, *to;
	} map[] = {{"${clientid}", "%c"}, {"${username}", "%u"}};
	size_t n = strlen(t), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k;

		for (k = 0; k < 2; k++) {
			size_t fl = strlen(map[k].from);

			if (!strncmp(t + i, map[k].from, fl)) {
				memcpy(out + o, map[k].to, 2);
				o += 2;
				i += fl;
				break;
			}
		}
		if (k == 2)
			out[o++] = t[i++];
	}
	out[o] = '\0';
	return out;
}

/* One topic into rule r; -1 with *why when it does not pass. */
static int add_topic(struct cfg_acl_rule *r, json_t *t, size_t cap,
		     const char **why)
{
	char *s;

	if (!json_is_string(t) || r->n_topics >= cap)
		return *why = "a topic is not a string", -1;
	s = topic_from_emqx(json_string_value(t));
	if (!s)
		return *why = "out of memory", -1;
	if ((*why = cfg_acl_pattern_check(s, &r->vars)) != NULL) {
		free(s);
		return -1;
	}
	r->topics[r->n_topics++] = s;
	return 0;
}

static int rule_topics(struct cfg_acl_rule *r, json_t *list, const char **why)
{
	size_t n = json_is_array(list) ? json_array_size(list) : 1;

	if (n == 0)
		return *why = "an empty topic list", -1;
	r->topics = calloc(n, sizeof(char *));
	if (!r->topics)
		return *why = "out of memory", -1;
	if (!json_is_array(list))
		return add_topic(r, list, n, why);
	for (size_t i = 0; i < n; i++)
		if (add_topic(r, json_array_get(list, i), n, why) < 0)
			return -1;
	return 0;
}

static int action_of(const char *a)
{
	if (!strcmp(a, "publish") || !strcmp(a, "pub"))
		return CFG_ACL_PUBLISH;
	if (!strcmp(a, "subscribe") || !strcmp(a, "sub"))
		return CFG_ACL_SUBSCRIBE;
	if (!strcmp(a, "all"))
		return CFG_ACL_ALL;
	return 0;
}

/* [{"permission", "action", "topic" | "topics"}, ...] */
static int list_form(json_t *v, struct cfg_acl_rule *rules, size_t *n,
		     const char **why)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *e = json_array_get(v, i);
		json_t *perm = json_object_get(e, "permission");
		json_t *act = json_object_get(e, "action");
		json_t *t = json_object_get(e, "topics");
		struct cfg_acl_rule *r = &rules[(*n)++];

		if (!t)
			t = json_object_get(e, "topic");
		if (!json_is_object(e) || !json_is_string(perm) ||
		    !json_is_string(act) || !t)
			return *why = "a rule needs permission, action and "
				      "topic",
			       -1;
		if (strcmp(json_string_value(perm), "allow") &&
		    strcmp(json_string_value(perm), "deny"))
			return *why = "permission is allow or deny", -1;
		r->allow = json_string_value(perm)[0] == 'a';
		r->actions = (uint8_t)action_of(json_string_value(act));
		if (!r->actions)
			return *why = "action is publish, subscribe or all", -1;
		if (rule_topics(r, t, why) < 0)
			return -1;
	}
	return 0;
}

/* {"pub": [...], "sub": [...], "all": [...]}: allow rules */
static int map_form(json_t *v, struct cfg_acl_rule *rules, size_t *n,
		    const char **why)
{
	const char *key;
	json_t *t;

	json_object_foreach(v, key, t)
	{
		struct cfg_acl_rule *r = &rules[(*n)++];

		r->allow = true;
		r->actions = (uint8_t)action_of(key);
		if (!r->actions)
			return *why = "keys are pub, sub and all", -1;
		if (!json_is_array(t))
			return *why = "pub, sub and all hold lists", -1;
		if (rule_topics(r, t, why) < 0)
			return -1;
	}
	return 0;
}

int jwt_doc_acl(struct jwt_doc *d, const char *claim,
		struct cfg_acl_rule **rules, size_t *n, const char **why)
{
	json_t *v = d ? json_object_get((json_t *)d, claim) : NULL;
	size_t cap;
	int r;

	*rules = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (json_is_array(v))
		cap = json_array_size(v);
	else if (json_is_object(v))
		cap = json_object_size(v);
	else
		return *why = "the acl claim is not a list or an object", -1;
	*rules = calloc(cap ? cap : 1, sizeof(**rules));
	if (!*rules)
		return *why = "out of memory", -1;
	r = json_is_array(v) ? list_form(v, *rules, n, why)
			     : map_form(v, *rules, n, why);
	if (r < 0) {
		cfg_acl_rules_free(*rules, *n);
		*rules = NULL;
		*n = 0;
		return -1;
	}
	return 1;
}
