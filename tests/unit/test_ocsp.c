/* test_ocsp.c - the DER reads of der.c on real openssl output
 * (ocsp_vectors.h): CertID of a request, status and dates of the matching
 * answer, the AIA check; then every truncation and many single-byte
 * corruptions of each input, which must be refused or parsed, never read
 * out of bounds (run under ASan by tests/run.sh). */
#include <string.h>
#include <time.h>

#include "codec/der.h"
#include "ocsp_vectors.h"
#include "test.h"
#include "x509_vectors.h"
#include "base/util.h"

static void test_times(void)
{
	static const struct {
		const char *s;
		int utc;
		int64_t t;
	} t[] = {
		{"20261125014200Z", 0, 1795570920},
		{"20261125014200.123Z", 0, 1795570920},
		{"261125014200Z", 1, 1795570920},
		{"700101000000Z", 1, 0},
		{"20261125014200", 0, -1},
		{"2026112501420Z", 0, -1},
		{"20261325014200Z", 0, -1},
		{"2026112501420aZ", 0, -1},
		{"20261125014200+0100", 0, -1},
		{"20261125014200.Z", 0, 1795570920},
		{"", 0, -1},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int64_t v = ocsp_der_time((const uint8_t *)t[i].s,
					  strlen(t[i].s), t[i].utc);

		CHECK(v == t[i].t, "time '%s' -> %lld", t[i].s, (long long)v);
	}
}

static void check_answer(const unsigned char *req, size_t rl,
			 const unsigned char *resp, size_t sl, int status)
{
	struct ocsp_certid id;
	struct ocsp_answer a;

	CHECK(ocsp_req_certid(req, rl, &id) == 0, "request parses");
	CHECK(id.serial_len == 2, "serial length %zu", id.serial_len);
	CHECK(ocsp_resp_parse(resp, sl, &id, &a) == 0, "response parses");
	CHECK(a.response_status == 0, "successful");
	CHECK(a.cert_status == status, "status %d, want %d", a.cert_status,
	      status);
	CHECK(a.this_update > 1700000000 && a.produced_at >= a.this_update,
	      "thisUpdate %lld producedAt %lld", (long long)a.this_update,
	      (long long)a.produced_at);
	/* -nmin 10: nextUpdate ten minutes on */
	CHECK(a.next_update - a.this_update == 600, "nextUpdate - thisUpdate %lld",
	      (long long)(a.next_update - a.this_update));
	if (status == OCSP_CS_REVOKED)
		CHECK(a.revoked_at > 1700000000, "revocation time");
}

static void test_answers(void)
{
	struct ocsp_certid good, revoked;
	struct ocsp_answer a;

	check_answer(v_req_good, sizeof(v_req_good), v_resp_good,
		     sizeof(v_resp_good), OCSP_CS_GOOD);
	check_answer(v_req_revoked, sizeof(v_req_revoked), v_resp_revoked,
		     sizeof(v_resp_revoked), OCSP_CS_REVOKED);
	check_answer(v_req_unknown, sizeof(v_req_unknown), v_resp_unknown,
		     sizeof(v_resp_unknown), OCSP_CS_UNKNOWN);
	/* an answer about another certificate is no answer */
	ocsp_req_certid(v_req_good, sizeof(v_req_good), &good);
	ocsp_req_certid(v_req_revoked, sizeof(v_req_revoked), &revoked);
	CHECK(ocsp_resp_parse(v_resp_good, sizeof(v_resp_good), &revoked,
			      &a) < 0,
	      "answer for another serial refused");
	/* a non-successful response status: well formed, no answer */
	{
		static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};

		CHECK(ocsp_resp_parse(try_later, sizeof(try_later), &good, &a) ==
				      0 &&
			      a.response_status == 3 && a.cert_status == -1,
		      "tryLater");
	}
}

static void test_aia(void)
{
	CHECK(ocsp_cert_has_url(v_cert_aia, sizeof(v_cert_aia)) == 1,
	      "cert with AIA OCSP");
	CHECK(ocsp_cert_has_url(v_cert_noaia, sizeof(v_cert_noaia)) == 0,
	      "cert without AIA");
	CHECK(ocsp_cert_has_url(v_req_good, sizeof(v_req_good)) == -1 ||
		      ocsp_cert_has_url(v_req_good, sizeof(v_req_good)) == 0,
	      "not a certificate");
}

static int span_is(struct der_span v, const char *s)
{
	return v.n == strlen(s) && memcmp(v.p, s, v.n) == 0;
}

static void test_x509(void)
{
	struct x509_fields f;
	struct crl_fields c;
	char buf[256], small[12];

	CHECK(x509_read(v_cert_x, sizeof(v_cert_x), &f) == 0, "cert parses");
	CHECK(f.serial.n == 3 && !memcmp(f.serial.p, "\x00\xa1\xb2", 3),
	      "serial, content bytes as in an OCSP CertID");
	CHECK(span_is(f.cn, "dev-7"), "the first CN");
	CHECK(span_is(f.san_dns, "dev-7.example"), "the first DNS SAN");
	CHECK(span_is(f.san_uri, "urn:dev:7"), "the URI SAN");
	CHECK(f.not_after == 2110951656, "notAfter %lld",
	      (long long)f.not_after);
	CHECK(der_name_str(f.subject.p, f.subject.n, buf, sizeof(buf)) == 0,
	      "subject prints");
	CHECK(!strcmp(buf, "/C=DE/O=moat test/OU=fleet/2.5.4.15=x/CN=dev-7"
			   "/CN=second/emailAddress=d7@example.com"),
	      "subject '%s'", buf);
	CHECK(der_name_str(f.subject.p, f.subject.n, small, sizeof(small)) ==
			      0 &&
		      !strcmp(small, "/C=DE/O=moa"),
	      "truncated to the buffer: '%s'", small);
	/* without subjectAltName */
	CHECK(x509_read(v_cert_noaia, sizeof(v_cert_noaia), &f) == 0 &&
		      f.cn.n > 0,
	      "the other cert parses");
	CHECK(x509_read(v_crl, sizeof(v_crl), &f) < 0, "a CRL is no cert");

	CHECK(crl_read(v_crl, sizeof(v_crl), &c) == 0, "CRL parses");
	CHECK(c.next_update - c.this_update == 30 * 86400,
	      "CRL dates %lld %lld", (long long)c.this_update,
	      (long long)c.next_update);
	CHECK(der_name_str(c.issuer.p, c.issuer.n, buf, sizeof(buf)) == 0 &&
		      !strcmp(buf, "/CN=moat test intermediate CA"),
	      "CRL issuer '%s'", buf);
	{ /* its revoked serials, in order (openssl crl -text: 1004, 1009) */
		static const uint8_t want[][2] = {{0x10, 0x04}, {0x10, 0x09}};
		struct der_span rest = c.revoked, serial;
		size_t k = 0;
		int r;

		while ((r = crl_next_revoked(&rest, &serial)) == 1 && k < 3) {
			CHECK(k < 2 && serial.n == 2 &&
				      !memcmp(serial.p, want[k], 2),
			      "revoked serial %zu", k);
			k++;
		}
		CHECK(r == 0 && k == 2, "two revoked serials, then the end");
	}
	CHECK(x509_read(v_cert_x, sizeof(v_cert_x), &f) == 0 &&
		      der_name_str(f.issuer.p, f.issuer.n, buf, sizeof(buf)) ==
			      0 &&
		      !strncmp(buf, "/C=DE/O=moat test", 17),
	      "self-signed: issuer is the subject: '%s'", buf);
	CHECK(crl_read(v_cert_x, sizeof(v_cert_x), &c) < 0, "a cert is no CRL");
	{ /* control bytes never reach a log line */
		static const uint8_t name[] = {0x30, 0x0e, 0x31, 0x0c, 0x30,
					       0x0a, 0x06, 0x03, 0x55, 0x04,
					       0x03, 0x0c, 0x03, 'a', '\n',
					       'b'};

		CHECK(der_name_str(name, sizeof(name), buf, sizeof(buf)) == 0 &&
			      !strcmp(buf, "/CN=a?b"),
		      "control byte: '%s'", buf);
	}
}

static void damaged_x509(const uint8_t *p, size_t n)
{
	struct x509_fields f;
	struct crl_fields c;
	char buf[64];

	if (x509_read(p, n, &f) == 0)
		der_name_str(f.subject.p, f.subject.n, buf, sizeof(buf));
	if (crl_read(p, n, &c) == 0) {
		struct der_span rest = c.revoked, serial;

		der_name_str(c.issuer.p, c.issuer.n, buf, sizeof(buf));
		for (int k = 0; k < 1000 && crl_next_revoked(&rest, &serial) == 1;
		     k++)
			;
	}
	der_name_str(p, n, buf, sizeof(buf));
}

/* Every prefix, and every byte flipped, of each vector: no crash, and a
 * truncated input never parses as a complete answer. */
static void test_damage(void)
{
	static const struct {
		const unsigned char *p;
		size_t n;
	} v[] = {
		{v_resp_good, sizeof(v_resp_good)},
		{v_resp_revoked, sizeof(v_resp_revoked)},
		{v_req_good, sizeof(v_req_good)},
		{v_cert_aia, sizeof(v_cert_aia)},
		{v_cert_x, sizeof(v_cert_x)},
		{v_crl, sizeof(v_crl)},
	};
	static uint8_t buf[2048];
	struct ocsp_certid id;
	struct ocsp_answer a;
	int truncated_ok = 0;

	ocsp_req_certid(v_req_good, sizeof(v_req_good), &id);
	for (size_t k = 0; k < ARRAY_SIZE(v); k++) {
		for (size_t n = 0; n < v[k].n; n++) {
			struct ocsp_certid r;

			memcpy(buf, v[k].p, n);
			if (ocsp_resp_parse(buf, n, &id, &a) == 0 &&
			    a.cert_status >= 0)
				truncated_ok++;
			ocsp_req_certid(buf, n, &r);
			ocsp_cert_has_url(buf, n);
			damaged_x509(buf, n);
		}
		for (size_t i = 0; i < v[k].n; i++) {
			struct ocsp_certid r;

			memcpy(buf, v[k].p, v[k].n);
			buf[i] ^= 0xff;
			ocsp_resp_parse(buf, v[k].n, &id, &a);
			ocsp_req_certid(buf, v[k].n, &r);
			ocsp_cert_has_url(buf, v[k].n);
			damaged_x509(buf, v[k].n);
		}
	}
	CHECK(truncated_ok == 0, "%d truncated responses parsed", truncated_ok);
}

int main(void)
{
	test_times();
	test_answers();
	test_aia();
	test_x509();
	test_damage();
	return test_done("ocsp");
}
