/* test_ocsp.c - the DER reads of ocsp_der.c on real openssl output
 * (ocsp_vectors.h): CertID of a request, status and dates of the matching
 * answer, the AIA check; then every truncation and many single-byte
 * corruptions of each input, which must be refused or parsed, never read
 * out of bounds (run under ASan by tests/run.sh). */
#include <string.h>
#include <time.h>

#include "ocsp_der.h"
#include "ocsp_vectors.h"
#include "test.h"
#include "util.h"

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
		}
		for (size_t i = 0; i < v[k].n; i++) {
			struct ocsp_certid r;

			memcpy(buf, v[k].p, v[k].n);
			buf[i] ^= 0xff;
			ocsp_resp_parse(buf, v[k].n, &id, &a);
			ocsp_req_certid(buf, v[k].n, &r);
			ocsp_cert_has_url(buf, v[k].n);
		}
	}
	CHECK(truncated_ok == 0, "%d truncated responses parsed", truncated_ok);
}

int main(void)
{
	test_times();
	test_answers();
	test_aia();
	test_damage();
	return test_done("ocsp");
}
