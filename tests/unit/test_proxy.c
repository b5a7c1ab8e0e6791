/* test_proxy.c - PROXY protocol v1/v2 headers: good ones of each kind in
 * every fragmentation, malformed ones refused, and no read past the end
 * for any prefix of any of them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "codec/proxy.h"
#include "test.h"
#include "base/util.h"

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static size_t v2_hdr(uint8_t *b, uint8_t vc, uint8_t fam, const uint8_t *a,
		     size_t alen, size_t tlv)
{
	memcpy(b, sig, 12);
	b[12] = vc;
	b[13] = fam;
	b[14] = (uint8_t)((alen + tlv) >> 8);
	b[15] = (uint8_t)(alen + tlv);
	memcpy(b + 16, a, alen);
	memset(b + 16 + alen, 0xee, tlv);
	return 16 + alen + tlv;
}

static void expect(const char *name, const uint8_t *p, size_t n, int want,
		   int family, const char *addr, uint16_t port, size_t used)
{
	struct sockaddr_storage ss;
	size_t u = 99;
	int r = proxy_parse(p, n, &ss, &u);
	char buf[64];

	CHECK(r == want, "%s: result %d, want %d", name, r, want);
	if (r != PROXY_DONE || want != PROXY_DONE)
		return;
	CHECK(u == used, "%s: used %zu, want %zu", name, u, used);
	CHECK(ss.ss_family == family, "%s: family %d", name, ss.ss_family);
	if (family != AF_UNSPEC) {
		util_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
		char want_s[64];

		snprintf(want_s, sizeof(want_s),
			 family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, port);
		CHECK(!strcmp(buf, want_s), "%s: address %s, want %s", name, buf,
		      want_s);
	}
	/* any shorter prefix is incomplete, never a wrong answer */
	for (size_t k = 0; k < used; k++) {
		int rk = proxy_parse(p, k, &ss, &u);

		CHECK(rk == PROXY_AGAIN, "%s: prefix %zu gives %d", name, k, rk);
	}
}

static void test_v1(void)
{
	const char *ok4 = "PROXY TCP4 192.0.2.7 10.0.0.1 51000 8883\r\nTLS...";
	const char *ok6 = "PROXY TCP6 2001:db8::7 2001:db8::1 51000 8883\r\n";
	const char *unk = "PROXY UNKNOWN\r\n";
	const char *bad[] = {
		"PROXY TCP4 192.0.2.7 10.0.0.1 51000\r\n",
		"PROXY TCP4 192.0.2.7 10.0.0.1 51000 8883 extra\r\n",
		"PROXY TCP4 300.0.2.7 10.0.0.1 51000 8883\r\n",
		"PROXY TCP4 192.0.2.7 10.0.0.1 65536 8883\r\n",
		"PROXY TCP4 192.0.2.7 10.0.0.1 051000 8883\r\n",
		"PROXY TCP4 192.0.2.7  10.0.0.1 51000 8883\r\n",
		"PROXY TCP4 2001:db8::7 10.0.0.1 51000 8883\r\n",
		"PROXY TCP4 192.0.2.7 nothere 51000 8883\r\n",
		"PROXY UDP4 192.0.2.7 10.0.0.1 51000 8883\r\n",
		"PROXY TCP4 192.0.2.7 10.0.0.1 -1 8883\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GET / HTTP/1.1\r\n",
	};
	char longline[200];

	expect("v1 tcp4", (const uint8_t *)ok4, strlen(ok4), PROXY_DONE, AF_INET,
	       "192.0.2.7", 51000, 42);
	expect("v1 tcp6", (const uint8_t *)ok6, strlen(ok6), PROXY_DONE,
	       AF_INET6, "2001:db8::7", 51000, strlen(ok6));
	expect("v1 unknown", (const uint8_t *)unk, strlen(unk), PROXY_DONE,
	       AF_UNSPEC, NULL, 0, strlen(unk));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect(bad[i], (const uint8_t *)bad[i], strlen(bad[i]), PROXY_BAD,
		       0, NULL, 0, 0);
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY TCP4 ", 11);
	expect("v1 without CRLF in 107 bytes", (const uint8_t *)longline,
	       sizeof(longline), PROXY_BAD, 0, NULL, 0, 0);
}

static void test_v2(void)
{
	uint8_t b[2048];
	uint8_t a4[12] = {192, 0, 2, 7, 10, 0, 0, 1, 0xc7, 0x38, 0x22, 0xb3};
	uint8_t a6[36] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7,
			  0x20, 0x01, 0x0d, 0xb8, [31] = 1,
			  0xc7, 0x38, 0x22, 0xb3};
	size_t n;

	n = v2_hdr(b, 0x21, 0x11, a4, 12, 0);
	expect("v2 tcp4", b, n, PROXY_DONE, AF_INET, "192.0.2.7", 51000, n);
	n = v2_hdr(b, 0x21, 0x11, a4, 12, 40); /* with TLVs */
	expect("v2 tcp4 tlv", b, n, PROXY_DONE, AF_INET, "192.0.2.7", 51000, n);
	n = v2_hdr(b, 0x21, 0x21, a6, 36, 0);
	expect("v2 tcp6", b, n, PROXY_DONE, AF_INET6, "2001:db8::7", 51000, n);
	n = v2_hdr(b, 0x20, 0x00, a4, 0, 0);
	expect("v2 local", b, n, PROXY_DONE, AF_UNSPEC, NULL, 0, n);
	n = v2_hdr(b, 0x21, 0x11, a4, 8, 0);
	expect("v2 short addresses", b, n, PROXY_BAD, 0, NULL, 0, 0);
	n = v2_hdr(b, 0x11, 0x11, a4, 12, 0);
	expect("v2 version 1", b, n, PROXY_BAD, 0, NULL, 0, 0);
	n = v2_hdr(b, 0x22, 0x11, a4, 12, 0);
	expect("v2 command 2", b, n, PROXY_BAD, 0, NULL, 0, 0);
	n = v2_hdr(b, 0x21, 0x12, a4, 12, 0);
	expect("v2 udp", b, n, PROXY_BAD, 0, NULL, 0, 0);
	n = v2_hdr(b, 0x21, 0x11, a4, 12, PROXY_MAX_HEADER);
	expect("v2 too long", b, 16, PROXY_BAD, 0, NULL, 0, 0);
}

/* What moat sends to brokers parses back to the same addresses. */
static void test_build(void)
{
	struct sockaddr_storage src, dst, got;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src,
			   *d4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 s6, d6;
	struct proxy_tls tls = {1, 1, "TLSv1.3", "TLS_AES_128_GCM_SHA256",
				"dev-42"};
	uint8_t b[1024];
	size_t used;
	char buf[64];
	int n;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	s4->sin_family = d4->sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &s4->sin_addr);
	inet_pton(AF_INET, "10.0.0.1", &d4->sin_addr);
	s4->sin_port = htons(51000);
	d4->sin_port = htons(8883);
	n = proxy_build_v1(b, sizeof(b), (struct sockaddr *)&src,
			   (struct sockaddr *)&dst);
	CHECK(n > 0 && !memcmp(b, "PROXY TCP4 192.0.2.7 10.0.0.1 51000 8883\r\n",
			       (size_t)n),
	      "v1 text");
	n = proxy_build_v2(b, sizeof(b), (struct sockaddr *)&src,
			   (struct sockaddr *)&dst, &tls);
	CHECK(n > 28 && proxy_parse(b, (size_t)n, &got, &used) == PROXY_DONE &&
		      used == (size_t)n,
	      "v2 with TLVs parses back");
	util_addr_str((struct sockaddr *)&got, buf, sizeof(buf));
	CHECK(!strcmp(buf, "192.0.2.7:51000"), "v2 address %s", buf);
	/* the SSL TLV: type 0x20, client 0x07, verify 0, then version, CN */
	CHECK(b[28] == 0x20 && b[31] == 0x07 && !memcmp(b + 32, "\0\0\0\0", 4),
	      "PP2_TYPE_SSL header");
	CHECK(memmem(b, (size_t)n, "\x22\x00\x06" "dev-42", 9) != NULL,
	      "PP2_SUBTYPE_SSL_CN");
	CHECK(memmem(b, (size_t)n, "\x21\x00\x07TLSv1.3", 10) != NULL,
	      "PP2_SUBTYPE_SSL_VERSION");
	memset(&s6, 0, sizeof(s6));
	memset(&d6, 0, sizeof(d6));
	s6.sin6_family = d6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr);
	inet_pton(AF_INET6, "2001:db8::1", &d6.sin6_addr);
	s6.sin6_port = htons(1);
	d6.sin6_port = htons(2);
	n = proxy_build_v2(b, sizeof(b), (struct sockaddr *)&s6,
			   (struct sockaddr *)&d6, NULL);
	CHECK(n == 52 && proxy_parse(b, (size_t)n, &got, &used) == PROXY_DONE,
	      "v2 IPv6");
	util_addr_str((struct sockaddr *)&got, buf, sizeof(buf));
	CHECK(!strcmp(buf, "[2001:db8::7]:1"), "v2 IPv6 address %s", buf);
	n = proxy_build_v1(b, sizeof(b), (struct sockaddr *)&s6,
			   (struct sockaddr *)&d6);
	CHECK(n > 0 && proxy_parse(b, (size_t)n, &got, &used) == PROXY_DONE,
	      "v1 IPv6 parses back");
	/* health checks: LOCAL / UNKNOWN */
	n = proxy_build_v2(b, sizeof(b), NULL, NULL, NULL);
	CHECK(n == 16 && proxy_parse(b, 16, &got, &used) == PROXY_DONE &&
		      got.ss_family == AF_UNSPEC,
	      "v2 LOCAL");
	n = proxy_build_v1(b, sizeof(b), NULL, NULL);
	CHECK(n == 15 && proxy_parse(b, 15, &got, &used) == PROXY_DONE &&
		      got.ss_family == AF_UNSPEC,
	      "v1 UNKNOWN");
	CHECK(proxy_build_v2(b, 40, (struct sockaddr *)&src,
			     (struct sockaddr *)&dst, &tls) == -1,
	      "too small a buffer");
}

int main(void)
{
	test_v1();
	test_v2();
	test_build();
	return test_done("proxy");
}
