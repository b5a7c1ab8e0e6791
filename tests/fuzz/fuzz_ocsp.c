/* fuzz_ocsp.c - libFuzzer target for the DER reads of der.c: the
 * input as an OCSP request, as a response (answered for the CertID of the
 * input's own request if it has one), as a certificate (the AIA check and
 * the fields moat reads, subject printed), as a CRL and as a Name. */
#include <stddef.h>
#include <stdint.h>

#include "codec/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_certid id;
	struct ocsp_answer a;
	struct x509_fields f;
	struct crl_fields c;
	char buf[128];

	if (ocsp_req_certid(data, size, &id) == 0)
		ocsp_resp_parse(data, size, &id, &a);
	else
		ocsp_resp_parse(data, size, NULL, &a);
	ocsp_cert_has_url(data, size);
	ocsp_der_time(data, size, size & 1);
	if (x509_read(data, size, &f) == 0)
		der_name_str(f.subject.p, f.subject.n, buf, sizeof(buf));
	if (crl_read(data, size, &c) == 0)
		der_name_str(c.issuer.p, c.issuer.n, buf, sizeof(buf));
	der_name_str(data, size, buf, sizeof(buf));
	return 0;
}
