/* test_acl.c - the pure parts of the topic rules, as tables: topic and
 * filter validity, covering and meeting (publish and subscribe judged),
 * $share prefixes, placeholder substitution (and what it refuses), the
 * packet codec moat judges with (PUBLISH prefix, SUBSCRIBE rewritten,
 * SUBACK widened, acknowledgements), and the rule parser with its
 * FILE:LINE:COL errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/mqtt.h"
#include "codec/topic.h"
#include "config/config.h"
#include "cfgdir.h"
#include "test.h"

#define S(x) x, strlen(x)

static const struct {
	const char *f;
	bool ok;
} filters[] = {
    {"a", true},      {"a/b", true},	{"+", true},	{"#", true},
    {"a/+/c", true},  {"a/#", true},	{"/", true},	{"a//b", true},
    {"+/+", true},    {"$SYS/#", true}, {"", false},	{"a#", false},
    {"a/#/b", false}, {"a+/b", false},	{"#/a", false}, {"a/b+", false},
    {"++", false},    {"a/##", false},
};

static const struct {
	const char *rule, *sub;
	bool covers, meets;
} pairs[] = {
    /* topic names as sub: MQTT's matching */
    {"a/b", "a/b", true, true},
    {"a/b", "a/c", false, false},
    {"a/+", "a/b", true, true},
    {"a/+", "a/b/c", false, false},
    {"a/#", "a", true, true}, /* the parent level too */
    {"a/#", "a/b/c", true, true},
    {"#", "x/y", true, true},
    {"+", "", true, true},
    {"+/+", "/x", true, true},
    {"a/+/c", "a//c", true, true},
    {"a", "a/b", false, false},
    {"a/b", "a", false, false},
    {"#", "$SYS/x", true, true}, /* rules see $-topics like any */
    /* filters as sub: covered only if every topic of it is */
    {"a/#", "a/+", true, true},
    {"a/+", "a/#", false, true},
    {"a/+", "a/+", true, true},
    {"a/b", "a/+", false, true},
    {"secret/#", "#", false, true}, /* a deny rule meets "#" */
    {"secret/#", "+/x", false, true},
    {"secret/#", "other/+", false, false},
    {"+/down/#", "dev/down/x", true, true},
    {"a/+/c", "a/#", false, true},
    {"a/+/c", "+/b/c", false, true},
    {"a/+/c", "+/b/d", false, false},
    {"#", "#", true, true},
    {"a/b/c", "a/b", false, false},
};

static void test_match(void)
{
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		CHECK(topic_filter_valid(S(filters[i].f)) == filters[i].ok,
		      "filter '%s'", filters[i].f);
	CHECK(topic_name_valid(S("a/b")) && !topic_name_valid(S("a/+")) &&
		  !topic_name_valid(S("#")) && !topic_name_valid(S("")) &&
		  !topic_name_valid("a\0b", 3),
	      "topic names");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		CHECK(topic_covers(S(pairs[i].rule), S(pairs[i].sub)) ==
			  pairs[i].covers,
		      "covers(%s, %s)", pairs[i].rule, pairs[i].sub);
		CHECK(topic_meets(S(pairs[i].rule), S(pairs[i].sub)) ==
			  pairs[i].meets,
		      "meets(%s, %s)", pairs[i].rule, pairs[i].sub);
		CHECK(topic_meets(S(pairs[i].sub), S(pairs[i].rule)) ==
			  pairs[i].meets,
		      "meets is symmetric (%s, %s)", pairs[i].rule,
		      pairs[i].sub);
	}
}

static const struct {
	const char *in, *out; /* out NULL: not a share; "" malformed */
} shares[] = {
    {"$share/g/a/b", "a/b"}, {"$share/g/#", "#"},   {"a/b", NULL},
    {"$share/g", ""},	     {"$share//a", ""},	    {"$share/g/", ""},
    {"$share/+/a", ""},	     {"$shared/g/a", NULL}, {"$share/#/a", ""},
};

static void test_unshare(void)
{
	for (size_t i = 0; i < sizeof(shares) / sizeof(shares[0]); i++) {
		const char *f = shares[i].in;
		size_t len = strlen(f);
		int r = topic_unshare(&f, &len);

		if (!shares[i].out)
			CHECK(r == 0 && f == shares[i].in, "%s", shares[i].in);
		else if (!shares[i].out[0])
			CHECK(r == -1, "%s malformed: %d", shares[i].in, r);
		else
			CHECK(r == 1 && len == strlen(shares[i].out) &&
				  !memcmp(f, shares[i].out, len),
			      "%s -> %.*s", shares[i].in, (int)len, f);
	}
}

static const char *claim(void *arg, const char *name, size_t n)
{
	(void)arg;
	if (n == 4 && !memcmp(name, "site", 4))
		return "plant-7";
	if (n == 3 && !memcmp(name, "bad", 3))
		return "x/y";
	return NULL;
}

static const struct {
	const char *pat, *cid, *user, *ident;
	int r; /* >= 0: out */
	const char *out;
} exps[] = {
    {"devices/%c/up", "d1", NULL, NULL, 0, "devices/d1/up"},
    {"u/%u/%i/#", "d1", "alice", "CN1", 0, "u/alice/CN1/#"},
    {"s/%{site}/x", "d1", NULL, NULL, 0, "s/plant-7/x"},
    {"p-%c-s", "d1", NULL, NULL, 0, "p-d1-s"},
    {"100%%/%c", "d1", NULL, NULL, 0, "100%/d1"},
    {"no/placeholder", NULL, NULL, NULL, 0, "no/placeholder"},
    {"u/%u", "d1", NULL, NULL, TOPIC_E_UNKNOWN, NULL},
    {"c/%c", "", NULL, NULL, TOPIC_E_UNKNOWN, NULL},
    {"s/%{nope}", "d1", NULL, NULL, TOPIC_E_UNKNOWN, NULL},
    {"c/%c/#", "+", NULL, NULL, TOPIC_E_UNSAFE, NULL},
    {"c/%c/#", "#", NULL, NULL, TOPIC_E_UNSAFE, NULL},
    {"c/%c/#", "a/b", NULL, NULL, TOPIC_E_UNSAFE, NULL},
    {"c/%i", "d", NULL, "x+y", TOPIC_E_UNSAFE, NULL},
    {"s/%{bad}", "d1", NULL, NULL, TOPIC_E_UNSAFE, NULL},
    {"c/%x", "d1", NULL, NULL, TOPIC_E_SYNTAX, NULL},
    {"c/%", "d1", NULL, NULL, TOPIC_E_SYNTAX, NULL},
    {"c/%{", "d1", NULL, NULL, TOPIC_E_SYNTAX, NULL},
    {"c/%{}", "d1", NULL, NULL, TOPIC_E_SYNTAX, NULL},
};

static void test_expand(void)
{
	char out[64];

	for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
		struct topic_vars v = {exps[i].cid, exps[i].user, exps[i].ident,
				       claim, NULL};
		int r = topic_expand(S(exps[i].pat), &v, out, sizeof(out));

		if (exps[i].out)
			CHECK(r == (int)strlen(exps[i].out) &&
				  !strcmp(out, exps[i].out),
			      "%s -> %s (%d)", exps[i].pat, out, r);
		else
			CHECK(r == exps[i].r, "%s: %d, want %d", exps[i].pat, r,
			      exps[i].r);
	}
	{
		struct topic_vars v = {"0123456789", NULL, NULL, NULL, NULL};

		CHECK(topic_expand(S("%c%c"), &v, out, 20) == TOPIC_E_NOSPACE,
		      "no room");
		/* a client id holding NUL (it cannot come from a CONNECT,
		 * which moat refuses, but the check holds anyway) */
		CHECK(!topic_value_safe("a\0b", 3), "NUL unsafe");
	}
}

/* ---- packets ---- */

static void test_peek(void)
{
	/* PUBLISH QoS 1 topic "a/b" id 0x0102, payload "xy" */
	const uint8_t pub[] = {0x32, 9, 0, 3, 'a', '/', 'b', 1, 2, 'x', 'y'};
	struct mqtt_peek pk;
	int r;

	for (size_t n = 0; n < 7; n++) {
		r = mqtt_peek(pub, n, 0, 4096, SIZE_MAX, &pk);
		CHECK(r == MQTT_AGAIN && pk.need > n, "short %zu: %d need %zu",
		      n, r, pk.need);
	}
	r = mqtt_peek(pub, 9, 0, 4096, SIZE_MAX, &pk);
	CHECK(r == 0 && pk.type == MQTT_PUBLISH && pk.qos == 1 &&
		  pk.id == 0x0102 && pk.topic.len == 3 &&
		  !memcmp(pk.topic.p, "a/b", 3) && pk.need == 9 &&
		  pk.total == 11,
	      "publish prefix: %d", r);
	CHECK(mqtt_peek(pub, 9, 0, 8, SIZE_MAX, &pk) == MQTT_E_TOO_LARGE,
	      "over max");
	/* only the topic's start: 2 of its 3 bytes, no packet id */
	r = mqtt_peek(pub, 5, 0, 4096, 2, &pk);
	CHECK(r == MQTT_AGAIN && pk.need == 6, "cut short: %d %zu", r, pk.need);
	r = mqtt_peek(pub, 6, 0, 4096, 2, &pk);
	CHECK(r == 0 && pk.cut && pk.topic.len == 2 && pk.id == 0 &&
		  !memcmp(pk.topic.p, "a/", 2) && pk.total == 11,
	      "cut: %d", r);
	r = mqtt_peek(pub, 9, 0, 4096, 3, &pk);
	CHECK(r == 0 && !pk.cut && pk.id == 0x0102, "not cut at its length");
	{
		const uint8_t q3[] = {0x36, 5, 0, 1, 'a', 0, 1};
		const uint8_t lie[] = {0x30, 3, 0, 9, 'a'};
		const uint8_t varint5[] = {0x30, 0xff, 0xff, 0xff, 0xff, 1};

		CHECK(mqtt_peek(q3, sizeof(q3), 0, 4096, SIZE_MAX, &pk) ==
			  MQTT_E_MALFORMED,
		      "qos 3");
		CHECK(mqtt_peek(lie, sizeof(lie), 0, 4096, SIZE_MAX, &pk) ==
			  MQTT_E_MALFORMED,
		      "topic past the packet");
		CHECK(mqtt_peek(varint5, sizeof(varint5), 0, 4096, SIZE_MAX,
				&pk) == MQTT_E_MALFORMED,
		      "five varint bytes");
	}
	{
		const uint8_t sub[] = {0x82, 6, 0, 1, 0, 1, 'a', 1};

		r = mqtt_peek(sub, 4, 1u << MQTT_SUBSCRIBE, 4096, SIZE_MAX,
			      &pk);
		CHECK(r == MQTT_AGAIN && pk.need == 8, "whole wanted: %zu",
		      pk.need);
		r = mqtt_peek(sub, 4, 0, 4096, SIZE_MAX, &pk);
		CHECK(r == 0 && pk.need == 2, "header only");
	}
}

static void test_subscribe(void)
{
	/* v5 SUBSCRIBE id 7, props {0x0b sub id 5}, a/b q1, c q0, d/# q2 */
	const uint8_t sub[] = {0x82, 21,  0,   7,   2,	 0x0b, 5, 0,
			       3,    'a', '/', 'b', 1,	 0,    1, 'c',
			       0,    0,	  3,   'd', '/', '#',  2};
	struct mqtt_subscribe s;
	struct mqtt_subset deny;
	uint8_t out[64];
	int n;

	CHECK(mqtt_parse_subscribe(sub, sizeof(sub), MQTT_V5, &s) == 0 &&
		  s.id == 7 && s.n == 3,
	      "parse v5");
	memset(&deny, 0, sizeof(deny));
	mqtt_subset_add(&deny, 1);
	n = mqtt_build_subscribe_without(sub, &s, &deny, out, sizeof(out));
	{
		const uint8_t want[] = {0x82, 17,  0,	7,   2,	  0x0b, 5,
					0,    3,   'a', '/', 'b', 1,	0,
					3,    'd', '/', '#', 2};

		CHECK(n == (int)sizeof(want) &&
			  !memcmp(out, want, sizeof(want)),
		      "rewritten without c: %d", n);
	}
	{ /* the broker's SUBACK for the two it saw, widened to three */
		const uint8_t back[] = {0x90, 5, 0, 7, 0, 1, 2};
		const uint8_t want[] = {0x90, 6, 0, 7, 0, 1, 0x87, 2};

		n = mqtt_merge_suback(back, sizeof(back), MQTT_V5, &deny, 3,
				      0x87, out, sizeof(out));
		CHECK(n == (int)sizeof(want) &&
			  !memcmp(out, want, sizeof(want)),
		      "merged: %d", n);
		CHECK(mqtt_merge_suback(back, sizeof(back), MQTT_V5, &deny, 4,
					0x87, out,
					sizeof(out)) == MQTT_E_MALFORMED,
		      "a SUBACK with too few codes");
	}
	{
		const uint8_t back3[] = {0x90, 4, 0, 9, 0, 0x80};
		struct mqtt_subset d2;
		const uint8_t want[] = {0x90, 5, 0, 9, 0x80, 0, 0x80};

		memset(&d2, 0, sizeof(d2));
		mqtt_subset_add(&d2, 0);
		n = mqtt_merge_suback(back3, sizeof(back3), MQTT_V311, &d2, 3,
				      0x80, out, sizeof(out));
		CHECK(n == (int)sizeof(want) &&
			  !memcmp(out, want, sizeof(want)),
		      "merged 3.1.1: %d", n);
	}
	n = mqtt_build_suback_all(out, sizeof(out), MQTT_V311, 0x0102, 2, 0x80);
	CHECK(n == 6 && !memcmp(out, "\x90\x04\x01\x02\x80\x80", 6),
	      "suback all 3.1.1");
	n = mqtt_build_suback_all(out, sizeof(out), MQTT_V5, 3, 1, 0x87);
	CHECK(n == 6 && !memcmp(out, "\x90\x04\x00\x03\x00\x87", 6),
	      "suback all 5");
	{
		const uint8_t bad[][8] = {
		    {0x80, 5, 0, 1, 0, 1, 'a', 1}, /* flags 0 */
		    {0x82, 5, 0, 0, 0, 1, 'a', 1}, /* id 0 */
		    {0x82, 6, 0, 1, 0, 2, 'a', 1}, /* filter past end */
		    {0x82, 2, 0, 1},		   /* no filter */
		};
		const size_t len[] = {7, 7, 8, 4};

		for (size_t i = 0; i < 4; i++)
			CHECK(mqtt_parse_subscribe(bad[i], len[i], MQTT_V311,
						   &s) == MQTT_E_MALFORMED,
			      "bad subscribe %zu", i);
	}
	{ /* an UNSUBSCRIBE parses (no options bytes) but is never rebuilt
	     as a SUBSCRIBE (found by fuzz_topic: a read past its end) */
		const uint8_t un[] = {0xa2, 8, 0, 13, 0, 1, 'a', 0, 1, 'b'};

		CHECK(mqtt_parse_subscribe(un, sizeof(un), MQTT_V311, &s) ==
			      0 &&
			  s.unsub && s.n == 2,
		      "unsubscribe parsed");
		CHECK(mqtt_build_subscribe_without(
			  un, &s, &deny, out, sizeof(out)) == MQTT_E_MALFORMED,
		      "unsubscribe not rebuilt");
	}
	CHECK(mqtt_build_ack(out, MQTT_PUBACK, MQTT_V5, 0x0a0b, 0x87) == 5 &&
		  !memcmp(out, "\x40\x03\x0a\x0b\x87", 5),
	      "puback 0x87");
	CHECK(mqtt_build_ack(out, MQTT_PUBREC, MQTT_V311, 5, 0x87) == 4 &&
		  !memcmp(out, "\x50\x02\x00\x05", 4),
	      "pubrec 3.1.1");
	CHECK(mqtt_build_ack(out, MQTT_PUBCOMP, MQTT_V5, 5, 0) == 4 &&
		  !memcmp(out, "\x70\x02\x00\x05", 4),
	      "pubcomp 5 success");
}

/* ---- the rule parser ---- */

#define HEAD                                                                   \
	"listeners:\n"                                                         \
	"  - name: l1\n"                                                       \
	"    bind: 127.0.0.1:8883\n"                                           \
	"    upstream: u1\n"                                                   \
	"    tls: { cert: s.crt, key: s.key, client_ca: ca.crt }\n"
#define UPS                                                                    \
	"upstreams:\n"                                                         \
	"  - name: u1\n"                                                       \
	"    servers:\n"                                                       \
	"      - { name: b1, address: 127.0.0.1:1883 }\n"

static void test_rules(void)
{
	char *err = NULL;
	struct cfg *c;
	const struct cfg_acl *a;

	write_file("acl.yaml", "- allow: publish\n"
			       "  topics: [\"devices/%i/up/#\"]\n"
			       "- deny: all\n"
			       "  topics: [\"#\", \"x/%{site}\"]\n");
	c = load(
	    HEAD
	    "    mqtt:\n"
	    "      token: { when: always, jwks: ca.crt, issuer: i, "
	    "audience: a }\n"
	    "      acl: { rules: acl.yaml, deny_action: disconnect }\n" UPS,
	    &err);
	CHECK(c != NULL, "loads: %s", err ? err : "");
	if (c) {
		a = &c->listeners[0].mqtt.acl;
		CHECK(a->on && a->n_rules == 2 && a->rules[0].allow &&
			  a->rules[0].actions == CFG_ACL_PUBLISH &&
			  !a->rules[1].allow &&
			  a->rules[1].actions == CFG_ACL_ALL &&
			  a->rules[1].n_topics == 2 && !a->no_match_allow &&
			  a->deny_disconnect,
		      "rules read");
		CHECK(a->vars == (CFG_ACL_VAR_I | CFG_ACL_VAR_CLAIM), "vars %u",
		      a->vars);
		CHECK(a->rules[1].pos.line == 3 && a->rules[1].pos.col == 3 &&
			  strstr(a->rules[1].pos.file, "acl.yaml"),
		      "rule position in its file");
	}
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD
		 "    mqtt:\n"
		 "      acl:\n"
		 "        no_match: allow\n"
		 "        rules:\n"
		 "          - { deny: subscribe, topics: [\"a/+/b\"] }\n" UPS,
		 &err);
	CHECK(c && c->listeners[0].mqtt.acl.no_match_allow &&
		  c->listeners[0].mqtt.acl.n_rules == 1 &&
		  c->listeners[0].mqtt.acl.rules[0].actions ==
		      CFG_ACL_SUBSCRIBE,
	      "inline: %s", err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	/* errors: in the rules file, at its own lines */
	write_file("bad.yaml", "- allow: publish\n"
			       "  topics: [\"a/#/b\"]\n");
	c = load(HEAD "    mqtt: { acl: { rules: bad.yaml } }\n" UPS, &err);
	CHECK(!c && err && strstr(err, "bad.yaml:2:12: acl rule topic"),
	      "bad file: %s", err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD "    mqtt: { acl: { rules: none.yaml } }\n" UPS, &err);
	CHECK(!c && err && strstr(err, "c.yaml:6:27:"), "missing file: %s",
	      err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD "    mqtt: { acl: { claim: acl, rules: [] } }\n" UPS,
		 &err);
	CHECK(!c && err &&
		  strstr(err, "c.yaml:6:13: listeners[0].mqtt.acl: "
			      "claim reads token claims"),
	      "claim without token: %s", err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD "    mqtt: { acl: { no_match: deny } }\n" UPS, &err);
	CHECK(!c && err && strstr(err, "missing key 'rules'"), "no rules: %s",
	      err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD
		 "    mqtt:\n"
		 "      rate: { messages_per_second: 10, burst: 2s }\n" UPS,
		 &err);
	CHECK(c && c->listeners[0].mqtt.rate.on &&
		  c->listeners[0].mqtt.rate.messages_per_second == 10 &&
		  c->listeners[0].mqtt.rate.burst_ms == 2000,
	      "rate: %s", err ? err : "");
	cfg_free(c);
	free(err);
	err = NULL;
	c = load(HEAD "    mqtt:\n"
		      "      rate: { burst: 2s }\n" UPS,
		 &err);
	CHECK(!c && err && strstr(err, "mqtt.rate: write"), "rate empty: %s",
	      err ? err : "");
	cfg_free(c);
	free(err);
}

int main(void)
{
	test_match();
	test_unshare();
	test_expand();
	test_peek();
	test_subscribe();
	if (cfgdir_open("acl") < 0)
		return 2;
	test_rules();
	cfgdir_close();
	return test_done("acl");
}
