/* fuzz_ocsp.c - libFuzzer target for the DER reads of ocsp_der.c: the
 * input as an OCSP request, as a response (answered for the CertID of the
 * input's own request if it has one), and as a certificate. */
#include <stddef.h>
#include <stdint.h>

#include "ocsp_der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_certid id;
	struct ocsp_answer a;

	if (ocsp_req_certid(data, size, &id) == 0)
		ocsp_resp_parse(data, size, &id, &a);
	else
		ocsp_resp_parse(data, size, NULL, &a);
	ocsp_cert_has_url(data, size);
	ocsp_der_time(data, size, size & 1);
	return 0;
}
