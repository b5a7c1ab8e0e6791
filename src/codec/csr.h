/* csr.h - PKCS#10 certification requests (RFC 2986) from devices, and the
 * TBSCertificate moat writes for the certificate it issues. Pure functions
 * over untrusted bytes: bounded, no allocation, fuzzed
 * (tests/fuzz/fuzz_csr.c). The request's signature is checked by the
 * caller with wolfSSL (src/tls/issue.c) over csr_fields.info. */
#ifndef MOAT_CSR_H
#define MOAT_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "codec/der.h"

/* A request is refused above this size (DER, or PEM before decoding). */
#define CSR_MAX 8192

enum csr_key {
	CSR_KEY_UNKNOWN,
	CSR_KEY_EC_P256,
	CSR_KEY_EC_P384,
	CSR_KEY_RSA,
	CSR_KEY_ED25519,
};

enum csr_sig {
	CSR_SIG_UNKNOWN,
	CSR_SIG_ECDSA_SHA256,
	CSR_SIG_ECDSA_SHA384,
	CSR_SIG_RSA_SHA256,
	CSR_SIG_RSA_SHA384,
	CSR_SIG_ED25519,
};

struct csr_fields {
	struct der_span info;	 /* CertificationRequestInfo, whole TLV:
				    the bytes the signature covers */
	struct der_span subject; /* Name, whole TLV */
	struct der_span cn;	 /* its first commonName (n 0: none) */
	struct der_span spki;	 /* SubjectPublicKeyInfo, whole TLV */
	struct der_span key;	 /* subjectPublicKey's bits (EC point, RSA
				    key SEQUENCE, Ed25519 key) */
	enum csr_key key_type;
	enum csr_sig sig_alg;
	struct der_span sig; /* the signature's bits */
};

/* Read a DER request of at most CSR_MAX bytes: 0, or -1 when it is not a
 * well-formed version 1 request (key and signature algorithms outside the
 * enums are read as UNKNOWN, for the caller to refuse by name). */
int csr_read(const uint8_t *der, size_t len, struct csr_fields *f);

/* A request as sent: DER as is, or PEM ("CERTIFICATE REQUEST" or "NEW
 * CERTIFICATE REQUEST", one block, strict base64) decoded into out (cap
 * bytes). Sets *der and *len to the DER. 0, or -1. */
int csr_der_of(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
	       const uint8_t **der, size_t *len);

/* Strict base64 (line breaks allowed between groups' characters, '='
 * padding only at the end) of in[0..n) into out (cap bytes). Its length,
 * or -1. */
long csr_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* A degenerate PKCS#7 / CMS SignedData (RFC 5652; RFC 7030 4.1.3 and
 * 4.2.3 "certs-only"): version 1, no digest algorithms, data content
 * absent, the n certificates (DER, in order), no signers. Its length in
 * out, or -1 when it does not fit in cap. */
int pkcs7_certs_write(const struct der_span *certs, size_t n, uint8_t *out,
		      size_t cap);

/* What the issued certificate says; every name comes from moat's policy
 * and the authenticated identity, never from the request. */
struct tbs_spec {
	const uint8_t *serial;	/* content bytes, first byte 0x01..0x7f */
	size_t serial_len;	/* 1..20 */
	enum csr_sig sig_alg;	/* the CA key's: ECDSA_SHA256/384, RSA_SHA256 */
	struct der_span issuer; /* the CA's subject Name TLV */
	int64_t not_before, not_after;
	const char *cn;	      /* the subject's commonName (UTF8String) */
	const char *san_dns;  /* a dNSName SAN, or NULL */
	const char *san_uri;  /* a URI SAN, or NULL */
	struct der_span spki; /* the request's key, as it sent it */
	int key_encipherment; /* keyUsage adds keyEncipherment (RSA) */
	const uint8_t *ski;   /* subjectKeyIdentifier (20 bytes) */
	struct der_span aki;  /* the CA's key identifier (n 0: none) */
};

/* The TBSCertificate for s into out: its length, or -1 when it does not
 * fit in cap or a field is out of range. */
int x509_tbs_write(const struct tbs_spec *s, uint8_t *out, size_t cap);

#endif
