/* fuzz_csr.c - libFuzzer target for the PKCS#10 reader (csr_der_of,
 * csr_read): every span it hands back lies inside the input (or the PEM
 * decoding buffer), and a request that reads writes a TBSCertificate with
 * its key that x509_tbs_write keeps within bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct der_span s, const uint8_t *p, size_t n)
{
	if (s.n && (s.p < p || s.p + s.n > p + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[CSR_MAX], out[4096];
	static const uint8_t serial[] = {0x40, 1, 2, 3}, ski[20];
	static const uint8_t issuer[] = {0x30, 0x00};
	const uint8_t *der;
	size_t len;
	struct csr_fields f;
	struct tbs_spec s = {0};
	int n;

	if (csr_der_of(data, size, buf, sizeof(buf), &der, &len) < 0)
		return 0;
	if (len > CSR_MAX)
		abort();
	if (csr_read(der, len, &f) < 0)
		return 0;
	inside(f.info, der, len);
	inside(f.subject, der, len);
	inside(f.cn, der, len);
	inside(f.spki, der, len);
	inside(f.key, der, len);
	inside(f.sig, der, len);
	s.serial = serial;
	s.serial_len = sizeof(serial);
	s.sig_alg = CSR_SIG_ECDSA_SHA256;
	s.issuer = (struct der_span){issuer, sizeof(issuer)};
	s.not_before = 1700000000;
	s.not_after = 1800000000;
	s.cn = "dev-1";
	s.san_dns = "dev-1.example";
	s.spki = f.spki;
	s.ski = ski;
	n = x509_tbs_write(&s, out, sizeof(out));
	if (n > (int)sizeof(out))
		abort();
	return 0;
}
