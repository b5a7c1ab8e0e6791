/* test_ticket.c - the ticket key file parser and the identity blob that
 * rides in session tickets (src/tls/ticket.c): tables of good and bad key
 * files, blobs that round-trip, and damaged blobs refused without reading
 * past their end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tls/ticket.h"

/* n records; record i's name starts with i + 1 (dup: record 1 = record 0;
 * zero: record 0's name all zeros) */
static size_t keyfile(uint8_t *buf, size_t n, int dup, int zero)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *r = buf + i * TICKET_RECORD_SZ;

		for (size_t j = 0; j < TICKET_RECORD_SZ; j++)
			r[j] = (uint8_t)(i * 31 + j);
		r[0] = (uint8_t)(i + 1);
	}
	if (dup && n > 1)
		memcpy(buf + TICKET_RECORD_SZ, buf, TICKET_NAME_SZ);
	if (zero)
		memset(buf, 0, TICKET_NAME_SZ);
	return n * TICKET_RECORD_SZ;
}

static void test_keys(void)
{
	static const struct {
		const char *name;
		size_t records;
		int extra; /* bytes added (+) or cut (-) */
		int dup, zero;
		const char *why; /* NULL: parses */
	} cases[] = {
		{"one key", 1, 0, 0, 0, NULL},
		{"three keys", 3, 0, 0, 0, NULL},
		{"the most", TICKET_KEYS_MAX, 0, 0, 0, NULL},
		{"empty", 0, 0, 0, 0, "holds no key"},
		{"79 bytes", 1, -1, 0, 0, "not a multiple of 80"},
		{"81 bytes", 1, 1, 0, 0, "not a multiple of 80"},
		{"48-byte HAProxy key", 0, 48, 0, 0, "not a multiple of 80"},
		{"too many", TICKET_KEYS_MAX + 1, 0, 0, 0, "more than 64"},
		{"same name twice", 2, 0, 1, 0, "same name"},
		{"zero name", 2, 0, 0, 1, "all zeros"},
	};
	static uint8_t buf[(TICKET_KEYS_MAX + 2) * TICKET_RECORD_SZ];
	static struct ticket_keys k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		size_t len = keyfile(buf, cases[i].records, cases[i].dup,
				     cases[i].zero);
		int r;

		len = (size_t)((long)len + cases[i].extra);
		r = ticket_keys_parse(buf, len, &k, &why);
		if (!cases[i].why) {
			CHECK(r == 0 && k.n == cases[i].records, "%s: %d",
			      cases[i].name, r);
			CHECK(!memcmp(k.key[0].name, buf, TICKET_NAME_SZ) &&
				      !memcmp(k.key[0].hmac, buf + 48, 32),
			      "%s: record 0 split as name, AES, HMAC",
			      cases[i].name);
			continue;
		}
		CHECK(r == -EINVAL && k.n == 0 && why &&
			      strstr(why, cases[i].why),
		      "%s: %d '%s'", cases[i].name, r, why ? why : "");
	}
	keyfile(buf, 3, 0, 0);
	CHECK(ticket_keys_parse(buf, 3 * TICKET_RECORD_SZ, &k, NULL) == 0,
	      "three keys");
	CHECK(ticket_keys_find(&k, buf + 2 * TICKET_RECORD_SZ) == &k.key[2],
	      "the third by name");
	buf[0] = 0x77;
	CHECK(ticket_keys_find(&k, buf) == NULL, "an unknown name");
}

#define S(x) ((struct ticket_str){x, sizeof(x) - 1})

static void fill(struct ticket_blob *b, int has_cert)
{
	memset(b, 0, sizeof(*b));
	if (!has_cert)
		return;
	b->has_cert = 1;
	b->ocsp_url = 1;
	b->ocsp_state = 2;
	b->checked_at = 1795000000;
	b->not_after = 1802776000;
	memset(b->leaf_hash, 0xab, TICKET_HASH_SZ);
	memset(b->issuer_hash, 0xcd, TICKET_HASH_SZ);
	b->serial_len = 3;
	memcpy(b->serial, "\x00\xa1\xb2", 3);
	memset(b->trust, 0x5a, TICKET_HASH_SZ);
	b->certid_len = 5;
	memcpy(b->certid, "\x30\x03\x02\x01\x07", 5);
	b->subject = S("/O=moat tests/CN=dev-good");
	b->cn = S("dev-good");
	b->san_dns = S("dev-good.example");
}

static int str_eq(struct ticket_str a, struct ticket_str b)
{
	return a.n == b.n && (!a.n || !memcmp(a.p, b.p, a.n));
}

static void test_blob(void)
{
	static uint8_t out[70000];
	struct ticket_blob b, d;
	char big[300];
	int n;

	for (int has = 0; has < 2; has++) { /* round trips */
		fill(&b, has);
		n = ticket_blob_encode(&b, out, sizeof(out));
		CHECK(n > 0 && (size_t)n == ticket_blob_size(&b), "size %d", n);
		CHECK(ticket_blob_decode(out, (size_t)n, &d) == 0, "decodes");
		CHECK(d.has_cert == b.has_cert && d.ocsp_url == b.ocsp_url &&
			  d.ocsp_state == b.ocsp_state &&
			  d.checked_at == b.checked_at &&
			  d.not_after == b.not_after &&
			  d.serial_len == b.serial_len &&
			  !memcmp(d.serial, b.serial, b.serial_len) &&
			  !memcmp(d.leaf_hash, b.leaf_hash, 32) &&
			  !memcmp(d.issuer_hash, b.issuer_hash, 32) &&
			  !memcmp(d.trust, b.trust, 32) &&
			  d.certid_len == b.certid_len &&
			  !memcmp(d.certid, b.certid, b.certid_len),
		      "fields come back (has_cert %d)", has);
		CHECK(str_eq(d.subject, b.subject) && str_eq(d.cn, b.cn) &&
			      str_eq(d.san_dns, b.san_dns) &&
			      str_eq(d.san_uri, b.san_uri) && !d.san_uri.p,
		      "strings come back, absent stays absent");
	}
	/* a typical device's blob leaves room in wolfSSL's 512-byte padding */
	fill(&b, 1);
	b.san_uri = S("urn:dev:0123456789abcdef");
	b.certid_len = 79; /* SHA-1 CertID with a 20-byte serial */
	CHECK(ticket_blob_size(&b) < 360, "typical size %zu",
	      ticket_blob_size(&b));

	/* encode refuses */
	n = ticket_blob_encode(&b, out, ticket_blob_size(&b) - 1);
	CHECK(n == -ENOSPC, "one byte short: %d", n);
	b.serial_len = TICKET_SERIAL_MAX + 1;
	CHECK(ticket_blob_encode(&b, out, sizeof(out)) == -EINVAL,
	      "serial too long");
	fill(&b, 1);
	b.certid_len = TICKET_CERTID_MAX + 1;
	CHECK(ticket_blob_encode(&b, out, sizeof(out)) == -EINVAL,
	      "CertID too long");
	fill(&b, 1);
	b.cn = (struct ticket_str){"dev\0evil", 8};
	CHECK(ticket_blob_encode(&b, out, sizeof(out)) == -EINVAL,
	      "NUL in a name");
	memset(big, 'x', sizeof(big));
	fill(&b, 1);
	b.subject = (struct ticket_str){big, sizeof(big)};
	CHECK(ticket_blob_encode(&b, out, 300) == -ENOSPC, "big subject");

	/* decode refuses damage */
	fill(&b, 1);
	n = ticket_blob_encode(&b, out, sizeof(out));
	{
		static const struct {
			const char *name;
			size_t at;
			uint8_t val;
		} bad[] = {
		    /* 1 had no trust binding, 2 no not_after (its session
		     * would not know when to end) */
		    {"version 1 (before trust binding)", 0, 1},
		    {"version 2 (before not_after)", 0, 2},
		    {"version 4", 0, 4},
		    {"unknown flag", 1, 0x80},
		    {"serial length 33", 83, 33},
		    {"serial length overruns", 83, 0xff},
		    {"CertID length over the maximum", 119, 0xa1},
		    {"CertID length overruns", 119, 0xff},
		    {"subject length overruns", 125, 0xff},
		    {"NUL in subject", 127, 0},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t copy[512];

			memcpy(copy, out, (size_t)n);
			copy[bad[i].at] = bad[i].val;
			CHECK(ticket_blob_decode(copy, (size_t)n, &d) == -EINVAL,
			      "%s", bad[i].name);
		}
	}
	CHECK(ticket_blob_decode(out, (size_t)n + 1, &d) == -EINVAL,
	      "a byte left over");
	for (int k = 0; k < n; k++) { /* every prefix, on the heap for ASan */
		uint8_t *p = malloc((size_t)k + 1);

		memcpy(p, out, (size_t)k);
		CHECK(ticket_blob_decode(p, (size_t)k, &d) == -EINVAL,
		      "prefix %d", k);
		free(p);
	}
}

/* The decrypted ticket's trailer is the sender's word: hostile lengths
 * are refused without a read outside the plaintext (on the heap, so ASan
 * sees any). */
static void test_split(void)
{
	static const struct {
		const char *name;
		size_t n;     /* plaintext bytes */
		size_t state; /* trailer: state length */
		size_t blob;  /* trailer: blob length */
		int ok;
	} cases[] = {
	    {"state and blob fit", 64, 20, 30, 1},
	    {"exactly full", 64, 30, 30, 1},
	    {"no blob", 64, 20, 0, 0},
	    {"blob overruns", 64, 20, 41, 0},
	    {"state overruns", 64, 61, 1, 0},
	    {"state length 65535", 64, 0xffff, 1, 0},
	    {"blob length 65535", 64, 1, 0xffff, 0},
	    {"both 65535 (wraps nothing)", 64, 0xffff, 0xffff, 0},
	    {"not a whole block", 63, 1, 1, 0},
	    {"shorter than a block", 8, 1, 1, 0},
	    {"empty", 0, 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].n, sl = 0, bl = 0;
		uint8_t *p = malloc(n ? n : 1);
		const uint8_t *blob = NULL;
		int r;

		memset(p, 0, n);
		if (n >= 4) {
			p[n - 4] = (uint8_t)(cases[i].state >> 8);
			p[n - 3] = (uint8_t)cases[i].state;
			p[n - 2] = (uint8_t)(cases[i].blob >> 8);
			p[n - 1] = (uint8_t)cases[i].blob;
		}
		r = ticket_plain_split(p, n, &sl, &blob, &bl);
		CHECK((r == 0) == cases[i].ok, "%s: %d", cases[i].name, r);
		if (r == 0)
			CHECK(sl == cases[i].state && bl == cases[i].blob &&
				  blob == p + sl &&
				  sl + bl + TICKET_TRAILER_SZ <= n,
			      "%s: lengths", cases[i].name);
		free(p);
	}
}

int main(void)
{
	test_split();
	test_keys();
	test_blob();
	return test_done("ticket");
}
