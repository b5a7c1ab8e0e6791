/* der.h - the little DER that moat reads itself: the CertID of an OCSP
 * request, the status and dates of the matching answer in an OCSP
 * response, whether a certificate names an OCSP responder (AIA), what moat
 * needs of a certificate (subject, serial, names, expiry) and of a CRL
 * (issuer, dates).
 * Pure functions over untrusted bytes: bounded, no allocation, fuzzed.
 * Signatures are not checked here; wolfSSL checks every response before a
 * handshake relies on it. */
#ifndef MOAT_DER_H
#define MOAT_DER_H

#include <stddef.h>
#include <stdint.h>

/* A CertID as it appears in a request (pointers into the request). */
struct ocsp_certid {
	const uint8_t *der; /* the whole CertID TLV */
	size_t len;
	const uint8_t *serial; /* the INTEGER's content bytes */
	size_t serial_len;
};

enum ocsp_cert_status {
	OCSP_CS_GOOD = 0,
	OCSP_CS_REVOKED = 1,
	OCSP_CS_UNKNOWN = 2,
};

struct ocsp_answer {
	int response_status; /* 0 successful, 1 malformedRequest, ... */
	int cert_status;     /* enum ocsp_cert_status, -1 when no single answer */
	int64_t produced_at; /* UTC seconds */
	int64_t this_update;
	int64_t next_update; /* 0 = absent */
	int64_t revoked_at;  /* when revoked */
};

/* The first CertID of an OCSPRequest. 0 or -1. */
int ocsp_req_certid(const uint8_t *req, size_t len, struct ocsp_certid *id);

/* Parse an OCSPResponse. With a successful status, finds the SingleResponse
 * for id (the same CertID bytes, or else the same serial) and fills its
 * status and dates. Returns 0 when the response is well formed and (for a
 * successful one) holds an answer for id; -1 otherwise. */
int ocsp_resp_parse(const uint8_t *resp, size_t len,
		    const struct ocsp_certid *id, struct ocsp_answer *a);

/* 1 when the certificate (DER) carries an authorityInfoAccess extension
 * with an id-ad-ocsp URI, 0 when not, -1 when it cannot be parsed
 * (x509_read's ocsp_url). */
int ocsp_cert_has_url(const uint8_t *cert, size_t len);

/* "YYYYMMDDHHMMSS[.f]Z" (GeneralizedTime) or "YYMMDDHHMMSSZ" (UTCTime,
 * utc != 0) to UTC seconds; -1 when malformed. */
int64_t ocsp_der_time(const uint8_t *p, size_t n, int utc);

/* Bytes inside the DER that was read. */
struct der_span {
	const uint8_t *p;
	size_t n;
};

/* What moat reads of a certificate. A span is empty (n 0) when the
 * certificate does not have it. */
struct x509_fields {
	struct der_span serial;  /* the INTEGER's content bytes */
	struct der_span subject; /* the Name, whole TLV (for der_name_str) */
	struct der_span issuer;  /* the Name, whole TLV */
	struct der_span cn;      /* the first commonName's value */
	struct der_span san_dns; /* the first dNSName of subjectAltName */
	struct der_span san_uri; /* the first URI of subjectAltName */
	struct der_span spki;    /* SubjectPublicKeyInfo, whole TLV */
	struct der_span ski;     /* subjectKeyIdentifier's octets */
	int64_t not_after;       /* UTC seconds */
	int ocsp_url;            /* 1: the AIA names an OCSP responder */
};

/* Read a certificate (DER). 0, or -1 when it is not a well-formed one. */
int x509_read(const uint8_t *cert, size_t len, struct x509_fields *f);

/* What moat reads of a CRL. */
struct crl_fields {
	struct der_span issuer; /* the Name, whole TLV */
	int64_t this_update;
	int64_t next_update;    /* 0 = absent */
	struct der_span revoked; /* revokedCertificates' content (n 0: none) */
};

/* Read a CRL (DER). 0 or -1. */
int crl_read(const uint8_t *crl, size_t len, struct crl_fields *f);

/* The next revoked serial (the INTEGER's content bytes) of rest (at first
 * crl_fields.revoked), which moves past it: 1, 0 at the end, -1 when
 * malformed. */
int crl_next_revoked(struct der_span *rest, struct der_span *serial);

/* A Name as one line, "/C=US/O=Example/CN=dev-1" (the form OpenSSL's
 * X509_NAME_oneline prints), into buf (always terminated when cap > 0).
 * Bytes below 0x20 and 0x7f print as '?'. Returns 0, or -1 when the Name
 * is malformed (buf then holds what was read before). */
int der_name_str(const uint8_t *name, size_t len, char *buf, size_t cap);

#endif
