/* test_mqtt.c - the MQTT codec: CONNECT of every version, malformed and
 * truncated input, byte-at-a-time framing, username rewriting and the
 * exact bytes of CONNACK and DISCONNECT. */
#include <stdlib.h>
#include <string.h>

#include "codec/mqtt.h"
#include "test.h"

/* A CONNECT builder for the tests, independent of the code under test. */
struct pb {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct pb *p, uint8_t v)
{
	p->b[p->n++] = v;
}
static void u16(struct pb *p, uint16_t v)
{
	u8(p, (uint8_t)(v >> 8));
	u8(p, (uint8_t)v);
}
static void str(struct pb *p, const char *s)
{
	u16(p, (uint16_t)strlen(s));
	memcpy(p->b + p->n, s, strlen(s));
	p->n += strlen(s);
}
/* Wrap body into a packet with fixed header type byte t. */
static size_t wrap(uint8_t t, const struct pb *body, uint8_t *out)
{
	size_t o = 0, v = body->n;

	out[o++] = t;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		out[o++] = (uint8_t)(v ? b | 0x80 : b);
	} while (v);
	memcpy(out + o, body->b, body->n);
	return o + body->n;
}

struct cspec {
	const char *name;
	int version; /* 3, 4, 5 */
	const char *id;
	const char *user, *pass;
	const char *will_topic, *will_msg;
	int will_qos;
	int v5_props; /* add some CONNECT and will properties */
};

static size_t build(const struct cspec *s, uint8_t *out)
{
	struct pb b = {.n = 0};
	uint8_t flags = 0x02;

	if (s->version == 3) {
		str(&b, "MQIsdp");
	} else {
		str(&b, "MQTT");
	}
	u8(&b, (uint8_t)s->version);
	if (s->will_topic)
		flags |= (uint8_t)(0x04 | s->will_qos << 3);
	if (s->user)
		flags |= 0x80;
	if (s->pass)
		flags |= 0x40;
	u8(&b, flags);
	u16(&b, 30);
	if (s->version == 5) {
		if (s->v5_props) {
			/* session expiry(5) + user property + max packet(5) */
			u8(&b, 5 + 6 + 5);
			u8(&b, 0x11);
			u16(&b, 0);
			u16(&b, 3600);
			u8(&b, 0x26);
			str(&b, "a");
			str(&b, "");
			u8(&b, 0x27);
			u16(&b, 1);
			u16(&b, 0);
		} else {
			u8(&b, 0);
		}
	}
	str(&b, s->id);
	if (s->will_topic) {
		if (s->version == 5) {
			if (s->v5_props) {
				u8(&b, 5 + 2);
				u8(&b, 0x18);
				u16(&b, 0);
				u16(&b, 10);
				u8(&b, 0x01);
				u8(&b, 1);
			} else {
				u8(&b, 0);
			}
		}
		str(&b, s->will_topic);
		str(&b, s->will_msg);
	}
	if (s->user)
		str(&b, s->user);
	if (s->pass)
		str(&b, s->pass);
	return wrap(0x10, &b, out);
}

static const struct cspec valid[] = {
	{"v311 minimal", 4, "dev-1", NULL, NULL, NULL, NULL, 0, 0},
	{"v311 empty id", 4, "", NULL, NULL, NULL, NULL, 0, 0},
	{"v311 user+pass", 4, "dev-1", "u", "p", NULL, NULL, 0, 0},
	{"v311 will", 4, "d", "u", NULL, "t/w", "bye", 1, 0},
	{"v31 minimal", 3, "dev-31", NULL, NULL, NULL, NULL, 0, 0},
	{"v31 will+user", 3, "d", "user", "pw", "t", "m", 2, 0},
	{"v5 minimal", 5, "dev-5", NULL, NULL, NULL, NULL, 0, 0},
	{"v5 props", 5, "dev-5", "u", "p", NULL, NULL, 0, 1},
	{"v5 will props", 5, "dev-5", NULL, NULL, "t/will", "x", 0, 1},
	{"v5 password only", 5, "dev-5", NULL, "secret", NULL, NULL, 0, 0},
	{"v5 utf8 id", 5, "ger\xc3\xa4t-\xe2\x82\xac", NULL, NULL, NULL, NULL,
	 0, 0},
};

static void test_valid(void)
{
	uint8_t pkt[4096];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct cspec *s = &valid[i];
		size_t n = build(s, pkt);
		struct mqtt_connect c;
		int r = mqtt_parse_connect(pkt, n, &c);

		CHECK(r == 0, "%s: parse returned %d", s->name, r);
		if (r)
			continue;
		CHECK(c.version == s->version, "%s: version %d", s->name,
		      c.version);
		CHECK(c.client_id.len == strlen(s->id) &&
			      memcmp(c.client_id.p, s->id, c.client_id.len) ==
				      0,
		      "%s: client id", s->name);
		CHECK(c.has_username == (s->user != NULL), "%s: has_username",
		      s->name);
		CHECK(c.has_password == (s->pass != NULL), "%s: has_password",
		      s->name);
		CHECK(c.has_will == (s->will_topic != NULL), "%s: has_will",
		      s->name);
		CHECK(c.keepalive == 30, "%s: keepalive", s->name);
		CHECK(c.clean_start, "%s: clean start", s->name);
		if (s->user)
			CHECK(c.username.len == strlen(s->user) &&
				      !memcmp(c.username.p, s->user,
					      c.username.len),
			      "%s: username", s->name);
		if (s->will_topic)
			CHECK(c.will_qos == s->will_qos, "%s: will qos",
			      s->name);
		if (s->v5_props) {
			CHECK(c.session_expiry == 3600, "%s: expiry %u",
			      s->name, c.session_expiry);
			CHECK(c.max_packet_size == 65536, "%s: max packet %u",
			      s->name, c.max_packet_size);
		}
	}
}

/* Every strict prefix of a valid packet is an error, never a success or a
 * read past the end (ASan watches the latter: the copy is exact-size). */
static void test_truncated(void)
{
	uint8_t pkt[4096];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t n = build(&valid[i], pkt);

		for (size_t k = 0; k < n; k++) {
			uint8_t *cp = malloc(k ? k : 1);
			struct mqtt_connect c;
			uint8_t tf;
			uint32_t rem;
			size_t hl;
			int r;

			memcpy(cp, pkt, k);
			r = mqtt_parse_connect(cp, k, &c);
			CHECK(r < 0, "%s: prefix %zu parsed (%d)",
			      valid[i].name, k, r);
			r = mqtt_fixed_header(cp, k, &tf, &rem, &hl);
			if (k < 2)
				CHECK(r == MQTT_AGAIN, "%s: header of %zu",
				      valid[i].name, k);
			free(cp);
		}
	}
}

struct bad {
	const char *name;
	const uint8_t *p;
	size_t n;
	int want;
};

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

static const struct bad bads[] = {
	{"publish not connect", B(0x30, 0x02, 0x00, 0x00), MQTT_E_PROTOCOL},
	{"connect flags nibble", B(0x11, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2,
				   0, 30, 0, 0),
	 MQTT_E_PROTOCOL},
	{"reserved flag", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 3, 0, 30,
			    0, 0),
	 MQTT_E_PROTOCOL},
	{"will qos 3", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x1e, 0, 30,
			 0, 0),
	 MQTT_E_PROTOCOL},
	{"will retain without will", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T',
				       4, 0x22, 0, 30, 0, 0),
	 MQTT_E_PROTOCOL},
	{"v311 password without user", B(0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T',
					 4, 0x42, 0, 30, 0, 0, 0, 1, 'p'),
	 MQTT_E_PROTOCOL},
	{"level 6", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 30, 0, 0),
	 MQTT_E_VERSION},
	{"MQTT level 3", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 30,
			   0, 0),
	 MQTT_E_VERSION},
	{"bad protocol name", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0,
				30, 0, 0),
	 MQTT_E_VERSION},
	{"trailing byte", B(0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30,
			    0, 0, 0xff),
	 MQTT_E_MALFORMED},
	{"length lies long", B(0x10, 0x20, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0,
			       30, 0, 0),
	 MQTT_E_MALFORMED},
	{"id string overruns", B(0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0,
				 30, 0, 9),
	 MQTT_E_MALFORMED},
	{"id with NUL", B(0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0,
			  1, 0),
	 MQTT_E_MALFORMED},
	{"id bad utf8", B(0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0,
			  2, 0xc0, 0x80),
	 MQTT_E_MALFORMED},
	{"id surrogate", B(0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30,
			   0, 3, 0xed, 0xa0, 0x80),
	 MQTT_E_MALFORMED},
	{"varint 5 bytes", B(0x10, 0x80, 0x80, 0x80, 0x80, 0x01),
	 MQTT_E_MALFORMED},
	{"v5 unknown property", B(0x10, 0x0f, 0, 4, 'M', 'Q', 'T', 'T', 5, 2,
				  0, 30, 2, 0x7f, 0, 0, 0),
	 MQTT_E_MALFORMED},
	{"v5 duplicate expiry", B(0x10, 0x17, 0, 4, 'M', 'Q', 'T', 'T', 5, 2,
				  0, 30, 10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0,
				  2, 0, 0),
	 MQTT_E_PROTOCOL},
	{"v5 property overruns block", B(0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T',
					 5, 2, 0, 30, 2, 0x11, 0, 0, 0, 0, 0),
	 MQTT_E_MALFORMED},
	{"v5 receive max 0", B(0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0,
			       30, 3, 0x21, 0, 0, 0, 0),
	 MQTT_E_PROTOCOL},
	{"v5 props length overruns", B(0x10, 0x0d, 0, 4, 'M', 'Q', 'T', 'T', 5,
				       2, 0, 30, 0x40, 0, 0),
	 MQTT_E_MALFORMED},
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct mqtt_connect c;
		int r = mqtt_parse_connect(bads[i].p, bads[i].n, &c);

		CHECK(r == bads[i].want, "%s: got %d want %d", bads[i].name, r,
		      bads[i].want);
	}
	/* The level is still reported for an unknown MQTT level. */
	{
		struct mqtt_connect c;

		mqtt_parse_connect(bads[6].p, bads[6].n, &c);
		CHECK(c.version == 6, "level 6 version %d", c.version);
	}
}

static void test_framer(void)
{
	uint8_t stream[8192];
	size_t n = 0;
	int npk = 0;
	struct mqtt_framer f;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		n += build(&valid[i], stream + n);
		npk++;
	}
	/* a PINGREQ (empty body) and a 300-byte PUBLISH (2-byte varint) */
	stream[n++] = 0xc0;
	stream[n++] = 0x00;
	npk++;
	stream[n++] = 0x30;
	stream[n++] = 0xac;
	stream[n++] = 0x02;
	memset(stream + n, 'x', 300);
	n += 300;
	npk++;

	mqtt_framer_init(&f);
	for (size_t i = 0; i < n; i++)
		CHECK(mqtt_framer_feed(&f, stream + i, 1, 0) == 0,
		      "byte %zu", i);
	CHECK(f.packets == (uint64_t)npk, "one byte at a time: %llu packets",
	      (unsigned long long)f.packets);
	CHECK(mqtt_framer_at_boundary(&f), "at boundary at the end");

	srand(7);
	for (int round = 0; round < 50; round++) {
		size_t i = 0;

		mqtt_framer_init(&f);
		while (i < n) {
			size_t k = 1 + (size_t)rand() % 97;

			if (k > n - i)
				k = n - i;
			CHECK(mqtt_framer_feed(&f, stream + i, k, 0) == 0,
			      "chunk");
			i += k;
		}
		CHECK(f.packets == (uint64_t)npk, "random chunks: %llu",
		      (unsigned long long)f.packets);
	}

	/* mid-packet is not a boundary */
	mqtt_framer_init(&f);
	mqtt_framer_feed(&f, stream, 3, 0);
	CHECK(!mqtt_framer_at_boundary(&f), "mid packet");

	/* size limit: the 303-byte PUBLISH is over 200, fed byte by byte */
	{
		const uint8_t *pub = stream + n - 303;
		int r = 0;

		mqtt_framer_init(&f);
		for (size_t i = 0; i < 303 && r == 0; i++)
			r = mqtt_framer_feed(&f, pub + i, 1, 200);
		CHECK(r == MQTT_E_TOO_LARGE, "limit: %d", r);
		mqtt_framer_init(&f);
		CHECK(mqtt_framer_feed(&f, pub, 303, 303) == 0,
		      "exactly the limit");
		mqtt_framer_init(&f);
		CHECK(mqtt_framer_feed(&f, pub, 303, 302) == MQTT_E_TOO_LARGE,
		      "one over the limit");
	}
	/* bad varint */
	{
		static const uint8_t bad[] = {0x30, 0xff, 0xff, 0xff, 0xff};

		mqtt_framer_init(&f);
		CHECK(mqtt_framer_feed(&f, bad, sizeof(bad), 0) ==
			      MQTT_E_MALFORMED,
		      "bad varint");
		CHECK(mqtt_framer_feed(&f, bad, 1, 0) == MQTT_E_MALFORMED,
		      "stays in error");
	}
	/* forbidden types: refused where they start, whatever the chunks */
	{
		/* PINGREQ, PUBLISH (a 0x10 byte inside its payload), CONNECT */
		static const uint8_t s[] = {0xc0, 0x00, 0x30, 0x05, 0x00,
					    0x01, 'a',	0x10, 0x10, 0x10,
					    0x02, 0x00, 0x04};
		const size_t at = 9; /* where the CONNECT starts */

		for (size_t k = 1; k <= sizeof(s); k++) {
			size_t i = 0, stop = 0;
			int r = 0;

			mqtt_framer_init(&f);
			f.forbid = 1u << MQTT_CONNECT;
			while (i < sizeof(s) && r == 0) {
				size_t take =
				    k < sizeof(s) - i ? k : sizeof(s) - i;

				r = mqtt_framer_feed(&f, s + i, take, 0);
				stop = r ? i + f.stop : 0;
				i += take;
			}
			CHECK(r == MQTT_E_FORBIDDEN && stop == at &&
				  f.type == 0x10 && f.packets == 2,
			      "chunks of %zu: %d at %zu", k, r, stop);
		}
		mqtt_framer_init(&f);
		f.forbid = 1u << MQTT_AUTH;
		CHECK(mqtt_framer_feed(&f, s, at, 0) == 0,
		      "allowed types pass");
	}
}

static void test_rewrite(void)
{
	uint8_t pkt[4096], out[4096];

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct cspec *s = &valid[i];
		size_t n = build(s, pkt), on = 0;
		struct mqtt_connect c, c2;
		const char *user = "CN-identity";
		int r;

		if (mqtt_parse_connect(pkt, n, &c) != 0)
			continue; /* reported by test_valid */
		r = mqtt_rewrite_username(pkt, n, &c, user, strlen(user), out,
					  sizeof(out), &on);
		CHECK(r == 0, "%s: rewrite %d", s->name, r);
		r = mqtt_parse_connect(out, on, &c2);
		CHECK(r == 0, "%s: reparse %d", s->name, r);
		if (r)
			continue;
		CHECK(c2.has_username && c2.username.len == strlen(user) &&
			      !memcmp(c2.username.p, user, c2.username.len),
		      "%s: new username", s->name);
		CHECK(c2.client_id.len == c.client_id.len &&
			      !memcmp(c2.client_id.p, c.client_id.p,
				      c.client_id.len),
		      "%s: same client id", s->name);
		CHECK(c2.has_password == c.has_password &&
			      c2.password.len == c.password.len &&
			      (!c.password.len ||
			       !memcmp(c2.password.p, c.password.p,
				       c.password.len)),
		      "%s: password kept", s->name);
		CHECK(c2.has_will == c.has_will, "%s: will kept", s->name);
		CHECK(mqtt_rewrite_username(pkt, n, &c, user, strlen(user),
					    out, 5, &on) == MQTT_E_NOSPACE,
		      "%s: no space", s->name);
		/* the token consumed: password dropped, username kept */
		r = mqtt_rewrite_credentials(pkt, n, &c, NULL, 0, true, out,
					     sizeof(out), &on);
		CHECK(r == 0 && mqtt_parse_connect(out, on, &c2) == 0,
		      "%s: drop password %d", s->name, r);
		if (r == 0 && mqtt_parse_connect(out, on, &c2) == 0) {
			CHECK(!c2.has_password && c2.password.len == 0,
			      "%s: no password left", s->name);
			CHECK(c2.has_username == c.has_username &&
				      c2.username.len == c.username.len &&
				      (!c.username.len ||
				       !memcmp(c2.username.p, c.username.p,
					       c.username.len)),
			      "%s: username as sent", s->name);
			CHECK(on == n - (c.has_password ? 2 + c.password.len
							 : 0),
			      "%s: shorter by the password field", s->name);
			CHECK(c2.client_id.len == c.client_id.len &&
				      c2.has_will == c.has_will,
			      "%s: the rest kept", s->name);
		}
		/* both: the identity as username, the token dropped */
		r = mqtt_rewrite_credentials(pkt, n, &c, user, strlen(user),
					     true, out, sizeof(out), &on);
		CHECK(r == 0 && mqtt_parse_connect(out, on, &c2) == 0 &&
			      !c2.has_password && c2.has_username &&
			      c2.username.len == strlen(user),
		      "%s: username set, password dropped", s->name);
	}
	/* a rewrite that crosses the 127-byte remaining-length boundary */
	{
		struct cspec s = {"long", 4, "d", NULL, NULL, NULL, NULL, 0, 0};
		char user[200];
		size_t n = build(&s, pkt), on;
		struct mqtt_connect c, c2;

		memset(user, 'u', sizeof(user));
		mqtt_parse_connect(pkt, n, &c);
		CHECK(mqtt_rewrite_username(pkt, n, &c, user, sizeof(user), out,
					    sizeof(out), &on) == 0,
		      "long rewrite");
		CHECK(mqtt_parse_connect(out, on, &c2) == 0 &&
			      c2.username.len == sizeof(user),
		      "long reparse");
	}
}

static void test_builders(void)
{
	uint8_t b[8];
	uint8_t conn[160];
	struct mqtt_connect c;
	int n;

	CHECK(mqtt_build_connack(b, 4, 0x02) == 4 &&
		      !memcmp(b, (uint8_t[]){0x20, 2, 0, 2}, 4),
	      "connack v311");
	CHECK(mqtt_build_connack(b, 3, 0x05) == 4 &&
		      !memcmp(b, (uint8_t[]){0x20, 2, 0, 5}, 4),
	      "connack v31");
	CHECK(mqtt_build_connack(b, 5, 0x85) == 5 &&
		      !memcmp(b, (uint8_t[]){0x20, 3, 0, 0x85, 0}, 5),
	      "connack v5");
	CHECK(mqtt_build_disconnect(b, 5, 0x8b) == 4 &&
		      !memcmp(b, (uint8_t[]){0xe0, 2, 0x8b, 0}, 4),
	      "disconnect v5");
	CHECK(mqtt_build_disconnect(b, 4, 0) == 2 &&
		      !memcmp(b, (uint8_t[]){0xe0, 0}, 2),
	      "disconnect v311");
	CHECK(mqtt_build_disconnect_v5(conn, sizeof(conn), 0x8b, "bye", NULL) == 10 &&
		      !memcmp(conn, (uint8_t[]){0xe0, 8, 0x8b, 6, 0x1f, 0, 3,
						'b', 'y', 'e'},
			      10),
	      "disconnect v5 with reason string");
	CHECK(mqtt_build_disconnect_v5(conn, 6, 0x8b, "bye", NULL) == MQTT_E_NOSPACE,
	      "disconnect v5 no space");
	CHECK(mqtt_build_disconnect_v5(conn, sizeof(conn), 0x9c, "bye",
				       "b:1") == 16 &&
		      !memcmp(conn, (uint8_t[]){0xe0, 14, 0x9c, 12, 0x1c, 0, 3,
						'b', ':', '1', 0x1f, 0, 3,
						'b', 'y', 'e'},
			      16),
	      "disconnect v5 with server reference");
	{
		/* a reference long enough for two-byte lengths */
		char ref[201];
		uint8_t big[300];
		struct mqtt_framer f;

		memset(ref, 'r', 200);
		ref[200] = 0;
		n = mqtt_build_disconnect_v5(big, sizeof(big), 0x9c, NULL, ref);
		mqtt_framer_init(&f);
		CHECK(n == 1 + 2 + 1 + 2 + 3 + 200 && big[1] == ((206 & 0x7f) | 0x80) &&
			      big[2] == 1 && big[4] == ((203 & 0x7f) | 0x80) &&
			      big[5] == 1 && big[6] == 0x1c,
		      "disconnect v5, 200-byte reference: %d", n);
		CHECK(n > 0 && mqtt_framer_feed(&f, big, (size_t)n, 1024) == 0 &&
			      mqtt_framer_at_boundary(&f),
		      "disconnect v5 frames as one packet");
		CHECK(mqtt_build_disconnect_v5(big, 100, 0x9c, NULL, ref) ==
			      MQTT_E_NOSPACE,
		      "disconnect v5 reference does not fit");
	}
	n = mqtt_build_connect(conn, sizeof(conn), "moat-check");
	CHECK(n > 0 && mqtt_parse_connect(conn, (size_t)n, &c) == 0 &&
		      c.version == 4 && c.client_id.len == 10,
	      "health-check connect");
	CHECK(mqtt_build_connect(conn, 8, "moat-check") == MQTT_E_NOSPACE,
	      "connect no space");
}

int main(void)
{
	test_valid();
	test_truncated();
	test_bad();
	test_framer();
	test_rewrite();
	test_builders();
	return test_done("mqtt");
}
