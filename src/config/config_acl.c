/* config_acl.c - a listener's topic rules (mqtt.acl) and rates
 * (mqtt.rate). Rules are a list inline or a YAML file of their own (shared
 * by listeners: each reads it, errors name the file's own lines); each
 * rule is checked here once, so that a connection only substitutes and
 * matches: one action, known placeholders, filters valid whatever a
 * placeholder stands for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

static const char *const action_names[] = {"publish", "subscribe", "all", NULL};
static const char *const no_match_names[] = {"deny", "allow", NULL};
static const char *const deny_action_names[] = {"ack", "disconnect", NULL};
static const char *const claim_mode_names[] = {"after", "before", "replace",
					       NULL};

/* A rule's topic: placeholders known (%c %u %i %{NAME} %%), and a valid
 * filter once each stands for a plain level part (a value with '/', '+'
 * or '#' is never substituted, see topic_expand). NULL or the problem. */
const char *cfg_acl_pattern_check(const char *pat, uint8_t *vars)
{
	size_t n = strlen(pat), lvl_start = 0, o = 0;
	char *flat = malloc(n + 1);
	const char *why = NULL;

	if (!flat)
		return "out of memory";
	if (strncmp(pat, "eq ", 3) == 0) { /* a string compared as is */
		pat += 3;
		n -= 3;
	}
	if (n == 0)
		why = "an empty topic filter";
	for (size_t i = 0; i < n && !why; i++) {
		if (pat[i] != '%') {
			flat[o++] = pat[i];
			continue;
		}
		switch (pat[i + 1]) {
		case 'c':
			*vars |= CFG_ACL_VAR_C;
			break;
		case 'u':
			*vars |= CFG_ACL_VAR_U;
			break;
		case 'i':
			*vars |= CFG_ACL_VAR_I;
			break;
		case '%':
			break;
		case '{': {
			const char *e = strchr(pat + i + 2, '}');

			if (!e || e == pat + i + 2) {
				why = "%{ without a claim name and }";
				continue;
			}
			*vars |= CFG_ACL_VAR_CLAIM;
			i = (size_t)(e - pat) - 1;
			break;
		}
		default:
			why = "unknown placeholder (write %c, %u, %i, "
			      "%{claim} or %%)";
			continue;
		}
		flat[o++] = 'x';
		i++;
	}
	flat[o] = '\0';
	/* '+' and '#' each a whole level, '#' the last */
	for (size_t i = 0; i <= o && !why; i++) {
		if (i < o && flat[i] != '/')
			continue;
		size_t len = i - lvl_start;
		const char *l = flat + lvl_start;

		if ((memchr(l, '+', len) && !(len == 1 && l[0] == '+')) ||
		    (memchr(l, '#', len) && !(len == 1 && l[0] == '#')))
			why = "'+' and '#' must be whole levels";
		else if (len == 1 && l[0] == '#' && i < o)
			why = "'#' must be the last level";
		lvl_start = i + 1;
	}
	if (!why && strncmp(flat, "$share/", 7) == 0)
		why = "rules judge the filter: write it without $share/GROUP/";
	free(flat);
	return why;
}

static void rule_parse(struct pctx *x, const char *file, node_t *e,
		       struct cfg_acl *a)
{
	struct cfg_acl_rule *r = &a->rules[a->n_rules];
	int have = 0;

	if (want_map(x, e, "acl rule"))
		return;
	r->pos = (struct cfg_pos){file, (int)e->start_mark.line + 1,
				  (int)e->start_mark.column + 1};
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
	     p < e->data.mapping.pairs.top; p++) {
		node_t *k = N(x, p->key), *v = N(x, p->value);
		const char *key =
		    k && k->type == YAML_SCALAR_NODE ? scalar(k) : "";
		int act;

		if (!strcmp(key, "allow") || !strcmp(key, "deny")) {
			if (have++) {
				ERR(x, k,
				    "acl rule: write one of allow or "
				    "deny");
				continue;
			}
			r->allow = key[0] == 'a';
			if (get_enum(x, v, "acl rule action", action_names,
				     &act) == 0)
				r->actions = (uint8_t)(act + 1);
		} else if (!strcmp(key, "topics")) {
			size_t n;

			if (r->topics) {
				ERR(x, k, "acl rule: 'topics' written twice");
				continue;
			}
			if (want_seq(x, v, "acl rule topics"))
				continue;
			n = (size_t)(v->data.sequence.items.top -
				     v->data.sequence.items.start);
			if (n == 0)
				ERR(x, v, "acl rule topics: an empty list");
			r->topics = calloc(n ? n : 1, sizeof(char *));
			for (yaml_node_item_t *it =
				 v->data.sequence.items.start;
			     r->topics && it < v->data.sequence.items.top;
			     it++) {
				node_t *t = N(x, *it);
				const char *why;

				if (!t || want_scalar(x, t, "acl rule topic"))
					continue;
				why = cfg_acl_pattern_check(scalar(t), &r->vars);
				if (why) {
					ERR(x, t, "acl rule topic '%s': %s",
					    scalar(t), why);
					continue;
				}
				r->topics[r->n_topics] = strdup(scalar(t));
				if (r->topics[r->n_topics])
					r->n_topics++;
			}
		} else {
			ERR(x, k,
			    "acl rule: unknown key '%s' (allow, deny, "
			    "topics)",
			    key);
		}
	}
	if (!have)
		ERR(x, e,
		    "acl rule: missing 'allow' or 'deny' (publish, "
		    "subscribe or all)");
	if (!find_key(x, e, "topics"))
		ERR(x, e, "acl rule: missing key 'topics'");
	a->vars |= r->vars;
	a->n_rules++;
}

static void rules_parse(struct pctx *x, const char *file, node_t *seq,
			struct cfg_acl *a)
{
	size_t n;

	if (want_seq(x, seq, "acl rules"))
		return;
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	a->rules = calloc(n ? n : 1, sizeof(*a->rules));
	a->hits = calloc(n + 1, sizeof(*a->hits));
	if (!a->rules || !a->hits)
		return;
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		node_t *e = N(x, *it);

		if (e)
			rule_parse(x, file, e, a);
	}
}

/* The rules file: a YAML list of rules; its errors are its own lines. */
static void rules_file(struct pctx *x, struct cfg_acl *a)
{
	struct pctx y = {.path = a->rules_file, .dir = x->dir, .cfg = x->cfg};
	yaml_parser_t parser;
	node_t *root;
	FILE *f = fopen(a->rules_file, "rb");

	if (!f) {
		err_at(x, a->rules_pos.line, a->rules_pos.col,
		       "mqtt.acl.rules: cannot read %s", a->rules_file);
		return;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &y.doc)) {
		err_at(&y, (int)parser.problem_mark.line + 1,
		       (int)parser.problem_mark.column + 1, "YAML: %s",
		       parser.problem ? parser.problem : "syntax error");
	} else {
		root = yaml_document_get_root_node(&y.doc);
		if (!root)
			err_at(&y, 1, 1,
			       "acl rules: the file is empty (write "
			       "a list of rules)");
		else
			rules_parse(&y, a->rules_file, root, a);
		yaml_document_delete(&y.doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (y.errors) { /* the file's errors join the configuration's */
		char *ne = realloc(x->errors, x->elen + y.elen + 1);

		if (ne) {
			memcpy(ne + x->elen, y.errors, y.elen + 1);
			x->errors = ne;
			x->elen += y.elen;
		}
		x->nerr += y.nerr;
		free(y.errors);
	}
}

static int acl_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		    void *arg)
{
	struct cfg_acl *a = arg;

	(void)k;
	if (!strcmp(key, "rules")) {
		if (v->type == YAML_SEQUENCE_NODE) {
			rules_parse(x, x->cfg->path, v, a);
		} else if (get_path(x, v, "mqtt.acl.rules", &a->rules_file,
				    &a->rules_pos, 1) == 0) {
			rules_file(x, a);
		}
	} else if (!strcmp(key, "claim")) {
		if (get_str(x, v, "mqtt.acl.claim", &a->claim) == 0 &&
		    !a->claim[0])
			ERR(x, v, "mqtt.acl.claim: empty name");
	} else if (!strcmp(key, "claim_mode")) {
		GET_ENUM(x, v, "mqtt.acl.claim_mode", claim_mode_names,
			 a->claim_mode);
	} else if (!strcmp(key, "no_match")) {
		GET_ENUM(x, v, "mqtt.acl.no_match", no_match_names,
			 a->no_match_allow);
	} else if (!strcmp(key, "deny_action")) {
		GET_ENUM(x, v, "mqtt.acl.deny_action", deny_action_names,
			 a->deny_disconnect);
	} else {
		return 0;
	}
	return 1;
}

void parse_acl(struct pctx *x, node_t *k, node_t *map, struct cfg_acl *a)
{
	a->pos = pos_of(x, k);
	if (want_map(x, map, "mqtt.acl"))
		return;
	a->on = true;
	each_pair(x, map, "mqtt.acl", acl_pair, a);
	if (!find_key(x, map, "rules") && !a->claim)
		ERR(x, map,
		    "mqtt.acl: missing key 'rules' (a file or a list)"
		    " or 'claim'");
	if (!a->hits)
		a->hits = calloc(1, sizeof(*a->hits));
}

static int rate_pair(struct pctx *x, const char *key, node_t *k, node_t *v,
		     void *arg)
{
	struct cfg_rate *r = arg;
	uint64_t n;

	(void)k;
	if (!strcmp(key, "messages_per_second")) {
		get_uint(x, v, "mqtt.rate.messages_per_second", 1, 1000000000,
			 &r->messages_per_second);
	} else if (!strcmp(key, "bytes_per_second")) {
		if (get_size(x, v, "mqtt.rate.bytes_per_second", &n) == 0) {
			if (n == 0)
				ERR(x, v,
				    "mqtt.rate.bytes_per_second: at "
				    "least 1");
			r->bytes_per_second = n;
		}
	} else if (!strcmp(key, "burst")) {
		if (get_duration(x, v, "mqtt.rate.burst", &r->burst_ms) == 0 &&
		    (r->burst_ms < 1 || r->burst_ms > 3600000))
			ERR(x, v, "mqtt.rate.burst: from 1ms to 1h");
	} else if (!strcmp(key, "disconnect_over")) {
		get_u32(x, v, "mqtt.rate.disconnect_over", 2, 1000000,
			&r->disconnect_over);
	} else {
		return 0;
	}
	return 1;
}

void parse_rate(struct pctx *x, node_t *k, node_t *map, struct cfg_rate *r)
{
	r->pos = pos_of(x, k);
	r->burst_ms = 1000;
	if (want_map(x, map, "mqtt.rate"))
		return;
	r->on = true;
	each_pair(x, map, "mqtt.rate", rate_pair, r);
	if (!r->messages_per_second && !r->bytes_per_second)
		ERR(x, map,
		    "mqtt.rate: write messages_per_second, "
		    "bytes_per_second or both");
}

void cfg_acl_rules_free(struct cfg_acl_rule *rules, size_t n)
{
	for (size_t i = 0; rules && i < n; i++) {
		for (size_t j = 0; j < rules[i].n_topics; j++)
			free(rules[i].topics[j]);
		free(rules[i].topics);
	}
	free(rules);
}

void cfg_acl_free(struct cfg_acl *a)
{
	cfg_acl_rules_free(a->rules, a->n_rules);
	free(a->hits);
	free(a->rules_file);
	free(a->claim);
}
