/* test_csr.c - the PKCS#10 reader and the TBSCertificate writer
 * (src/codec/csr.c) as tables: a real request (openssl, P-256) read
 * whole, as PEM, and refused when damaged (every prefix, a byte more,
 * version 1, PEM with something around it or bad base64); the writer's
 * refusals and its bounds; util_pem's base64 read back by csr_der_of. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "codec/csr.h"
#include "test.h"

/* openssl req -new -subj /CN=dev-1, EC P-256, ecdsa-with-SHA256 */
static const char req_hex[] =
    "3081c930720201003010310e300c06035504030c056465762d313059301306072a"
    "8648ce3d020106082a8648ce3d03010703420004eb760c748d80186b86305c6597"
    "c231307e36355b2c1a2c04bbbcf93d65ad0fd2455c831b42aae9efe350907f3d5e"
    "2e6a7d55579e3d2cf7187617c002e27da2f6a000300a06082a8648ce3d04030203"
    "4700304402207268717cc12119a836e891399a22b929041f0a485fc0b4b392c1a4"
    "1a80a248fe0220719dee886df2837e2b278a07aa102d6f2d41a2128bfbac3094ce"
    "99bb3d0c40f7";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_read(const uint8_t *der, size_t n)
{
	struct csr_fields f;
	uint8_t *p;

	CHECK(csr_read(der, n, &f) == 0, "reads");
	CHECK(f.key_type == CSR_KEY_EC_P256 && f.key.n == 65 &&
		  f.sig_alg == CSR_SIG_ECDSA_SHA256,
	      "key and signature algorithm");
	CHECK(f.cn.n == 5 && !memcmp(f.cn.p, "dev-1", 5), "CN");
	CHECK(f.info.p == der + 3 && f.info.n == 0x72 + 2,
	      "the signed part is CertificationRequestInfo");
	CHECK(f.spki.n == 0x59 + 2 && f.sig.n == 0x46, "spki, signature");
	for (size_t k = 0; k < n; k++) { /* every prefix, on the heap */
		p = malloc(k + 1);
		memcpy(p, der, k);
		CHECK(csr_read(p, k, &f) < 0, "prefix %zu", k);
		free(p);
	}
	p = malloc(n + 1);
	memcpy(p, der, n);
	p[n] = 0;
	CHECK(csr_read(p, n + 1, &f) < 0, "a byte left over");
	p[5] = 1; /* version 2 of CertificationRequestInfo */
	CHECK(csr_read(p, n, &f) < 0, "version other than 1");
	p[5] = 0;
	p[n - 0x47] ^= 1; /* the signature's unused-bits byte */
	CHECK(csr_read(p, n, &f) < 0, "unused bits in the signature");
	free(p);
	CHECK(csr_read(der, CSR_MAX + 1, &f) < 0, "over CSR_MAX");
}

static void test_pem(const uint8_t *der, size_t n)
{
	static char pem[2048], bad[2200];
	static uint8_t out[CSR_MAX];
	const uint8_t *got;
	size_t len, pl;
	char *q;

	pl = util_pem("CERTIFICATE REQUEST", der, n, pem, sizeof(pem));
	CHECK(pl > 0 &&
		  !strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36),
	      "util_pem");
	CHECK(csr_der_of((uint8_t *)pem, pl, out, sizeof(out), &got, &len) ==
		      0 &&
		  len == n && !memcmp(got, der, n),
	      "PEM read back");
	CHECK(csr_der_of(der, n, out, sizeof(out), &got, &len) == 0 &&
		  got == der && len == n,
	      "DER as it is");
	CHECK(util_pem("X", der, n, pem, 10) == 0, "util_pem: no room");
	pl = util_pem("CERTIFICATE REQUEST", der, n, pem, sizeof(pem));
	{
		static const struct {
			const char *name, *before, *after;
		} wrap[] = {
		    {"text before", "hello\n", ""},
		    {"text after", "", "trailing\n"},
		    {"a second block", "", "-----BEGIN X-----\n"},
		};

		for (size_t i = 0; i < sizeof(wrap) / sizeof(wrap[0]); i++) {
			snprintf(bad, sizeof(bad), "%s%s%s", wrap[i].before,
				 pem, wrap[i].after);
			CHECK(csr_der_of((uint8_t *)bad, strlen(bad), out,
					 sizeof(out), &got, &len) < 0,
			      "%s", wrap[i].name);
		}
	}
	memcpy(bad, pem, pl + 1);
	q = strchr(bad + 40, '\n');
	q[-1] = '*'; /* not base64 */
	CHECK(csr_der_of((uint8_t *)bad, pl, out, sizeof(out), &got, &len) < 0,
	      "bad base64");
	memcpy(bad, pem, pl + 1);
	q = strstr(bad, "-----END");
	q[-2] = '='; /* padding in the middle of a group */
	CHECK(csr_der_of((uint8_t *)bad, pl, out, sizeof(out), &got, &len) <
		      0 ||
		  len != n,
	      "misplaced padding");
	CHECK(csr_der_of((uint8_t *)pem, pl, out, 100, &got, &len) < 0,
	      "output too small");
	CHECK(csr_der_of((uint8_t *)"-----BEGIN CERTIFICATE REQUEST-----\n", 36,
			 out, sizeof(out), &got, &len) < 0,
	      "no END line");
}

static void test_tbs(const uint8_t *der, size_t n)
{
	static uint8_t out[2048];
	static const uint8_t serial[] = {0x40, 1, 2, 3}, ski[20],
			     issuer[] = {0x30, 0x00};
	struct csr_fields f;
	struct tbs_spec s = {0}, t;
	struct x509_fields x;
	int len;

	csr_read(der, n, &f);
	s.serial = serial;
	s.serial_len = sizeof(serial);
	s.sig_alg = CSR_SIG_ECDSA_SHA256;
	s.issuer = (struct der_span){issuer, sizeof(issuer)};
	s.not_before = 1800000000;
	s.not_after = 1800000000 + 90 * 86400;
	s.cn = "dev-42";
	s.san_dns = "dev-42.example";
	s.spki = f.spki;
	s.ski = ski;
	len = x509_tbs_write(&s, out, sizeof(out));
	CHECK(len > 0 && out[0] == 0x30, "written: %d", len);
	{ /* wrapped as a Certificate, x509_read reads what was written */
		static uint8_t cert[2100];
		size_t o = 0;
		size_t body = (size_t)len + 12 + 4;

		cert[o++] = 0x30;
		cert[o++] = 0x82;
		cert[o++] = (uint8_t)(body >> 8);
		cert[o++] = (uint8_t)body;
		memcpy(cert + o, out, (size_t)len);
		o += (size_t)len;
		memcpy(cert + o,
		       "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"
		       "\x03\x02\x00\x00",
		       16);
		o += 16;
		CHECK(x509_read(cert, o, &x) == 0 && x.cn.n == 6 &&
			  !memcmp(x.cn.p, "dev-42", 6) && x.san_dns.n == 14 &&
			  x.not_after == s.not_after && x.serial.n == 4 &&
			  x.ski.n == 20,
		      "read back: CN, SAN, notAfter, serial, SKI");
	}
	CHECK(x509_tbs_write(&s, out, (size_t)len - 1) < 0, "one byte short");
	for (int i = 0; i < 6; i++) {
		static const uint8_t zero[] = {0x00, 1}, high[] = {0x80, 1};

		t = s;
		switch (i) {
		case 0:
			t.serial = zero;
			break;
		case 1:
			t.serial = high;
			break;
		case 2:
			t.cn = "";
			break;
		case 3:
			t.not_after = t.not_before;
			break;
		case 4:
			t.sig_alg = CSR_SIG_ED25519;
			break;
		case 5:
			t.serial_len = 21;
			break;
		}
		CHECK(x509_tbs_write(&t, out, sizeof(out)) < 0, "refused %d",
		      i);
	}
	t = s; /* 2050 on: GeneralizedTime */
	t.not_after = 2600000000;
	len = x509_tbs_write(&t, out, sizeof(out));
	CHECK(len > 0 && memmem(out, (size_t)len,
				"\x18\x0f"
				"2052",
				6),
	      "GeneralizedTime after 2049");
}

int main(void)
{
	static uint8_t der[512];
	size_t n = unhex(req_hex, der);

	test_read(der, n);
	test_pem(der, n);
	test_tbs(der, n);
	return test_done("csr");
}
