/* issue.c - the issuing CA (see issue.h): PEM files read with tls.c's
 * helpers, the request read by codec/csr.c and its signature checked with
 * wc_SignatureVerify, the TBSCertificate written by codec/csr.c and signed
 * by wc_SignCert_ex (the shared wolfSSL has certgen but not its extension
 * setters, WOLFSSL_CERT_EXT), then one line appended to the index
 * (O_APPEND, fsync) before the certificate is handed out. Depends on
 * wolfSSL, codec and config only (unit tested alone, test_issue.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/signature.h>

#include "codec/csr.h"
#include "tls/issue.h"

struct issuer {
	uv_mutex_t lock; /* rng, key and the index's appends */
	WC_RNG rng;
	int key_type; /* ECC_TYPE or RSA_TYPE */
	ecc_key ecc;
	RsaKey rsa;
	int sig_type;	      /* CTC_SHA256wECDSA, ... */
	enum csr_sig tbs_sig; /* the same, for the TBSCertificate */
	uint8_t *ca_der;
	size_t ca_len;
	struct x509_fields ca; /* spans into ca_der */
	uint8_t *p7;	       /* EST cacerts: ca_cert's file, PKCS#7 */
	size_t p7_len;
	char *index;
	enum cfg_identity where;
	uint64_t validity_s;
};

/* A whole file, NUL-terminated (n its length), or NULL. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    len < (1L << 24) && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) &&
	    fread(buf, 1, (size_t)len, f) == (size_t)len) {
		buf[len] = '\0';
		*n = (size_t)len;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

#define PEM_END "-----END CERTIFICATE-----"

/* fn with the DER of each certificate of a PEM file, until it returns 1. */
static void each_cert(const char *path,
		      int (*fn)(const uint8_t *der, size_t len, void *arg),
		      void *arg)
{
	size_t n = 0;
	char *pem = path ? slurp(path, &n) : NULL;
	uint8_t *der = pem ? malloc(n + 1) : NULL;

	for (char *p = der ? strstr(pem, "-----BEGIN CERTIFICATE-----") : NULL;
	     p; p = strstr(p, "-----BEGIN CERTIFICATE-----")) {
		char *e = strstr(p, PEM_END);
		int len;

		if (!e)
			break;
		e += strlen(PEM_END);
		len = wc_CertPemToDer((const byte *)p, (int)(e - p), der,
				      (int)n + 1, CERT_TYPE);
		if (len > 0 && fn(der, (size_t)len, arg))
			break;
		p = e;
	}
	free(der);
	free(pem);
}

struct first_der {
	uint8_t *der;
	size_t len;
};

static int take_first(const uint8_t *der, size_t len, void *arg)
{
	struct first_der *f = arg;

	if ((f->der = malloc(len))) {
		memcpy(f->der, der, len);
		f->len = len;
	}
	return 1;
}

/* Every certificate of the file, for the PKCS#7 of EST's cacerts. */
struct all_der {
	struct der_span certs[8];
	size_t n;
};

static int take_all(const uint8_t *der, size_t len, void *arg)
{
	struct all_der *a = arg;
	uint8_t *copy = malloc(len);

	if (!copy)
		return 1;
	memcpy(copy, der, len);
	a->certs[a->n++] = (struct der_span){copy, len};
	return a->n == sizeof(a->certs) / sizeof(a->certs[0]);
}

/* The PKCS#7 certs-only of ca_cert's certificates (the issuing CA first,
 * then its chain as the file has it). 0 or -1. */
static int p7_make(struct issuer *is, const char *path)
{
	struct all_der a = {.n = 0};
	size_t cap = 64;
	int n = -1;

	each_cert(path, take_all, &a);
	for (size_t i = 0; i < a.n; i++)
		cap += a.certs[i].n + 8;
	if (a.n && (is->p7 = malloc(cap)))
		n = pkcs7_certs_write(a.certs, a.n, is->p7, cap);
	for (size_t i = 0; i < a.n; i++)
		free((void *)a.certs[i].p);
	is->p7_len = n > 0 ? (size_t)n : 0;
	return n > 0 ? 0 : -1;
}

static int same_der(const uint8_t *der, size_t len, void *arg)
{
	struct first_der *f = arg;

	if (len == f->len && !memcmp(der, f->der, len))
		f->len = 0; /* found */
	return f->len == 0;
}

/* The CA key from PEM (PKCS#8, SEC 1 or PKCS#1); 0 or -1. */
static int key_load(struct issuer *is, const char *path)
{
	size_t n = 0;
	char *pem = slurp(path, &n);
	uint8_t *der = pem ? malloc(n) : NULL;
	word32 idx = 0;
	int len, r = -1;

	if (!der || (len = wc_KeyPemToDer((const byte *)pem, (int)n, der,
					  (word32)n, NULL)) <= 0)
		goto out;
	/* both decoders take PKCS#8 as well (and the curve from it) */
	if (wc_ecc_init(&is->ecc) == 0) {
		word32 i = idx;

		if (wc_EccPrivateKeyDecode(der, &i, &is->ecc, (word32)len) ==
		    0) {
			is->key_type = ECC_TYPE;
			r = 0;
			goto out;
		}
		wc_ecc_free(&is->ecc);
	}
	if (wc_InitRsaKey(&is->rsa, NULL) == 0) {
		word32 i = idx;

		if (wc_RsaPrivateKeyDecode(der, &i, &is->rsa, (word32)len) ==
		    0) {
			is->key_type = RSA_TYPE;
			r = 0;
			goto out;
		}
		wc_FreeRsaKey(&is->rsa);
	}
out:
	if (der)
		memset(der, 0, n);
	if (pem)
		memset(pem, 0, n);
	free(der);
	free(pem);
	return r;
}

/* The key signs and the CA certificate's key verifies: they are a pair. */
static int key_matches(struct issuer *is)
{
	static const uint8_t msg[] = "moat issuing CA key check";
	uint8_t sig[1024];
	word32 sl = sizeof(sig);
	int r = -1;

	if (is->key_type == ECC_TYPE) {
		ecc_key pub;
		word32 i = 0;

		if (wc_ecc_init(&pub) < 0)
			return -1;
		if (wc_EccPublicKeyDecode(is->ca.spki.p, &i, &pub,
					  (word32)is->ca.spki.n) == 0 &&
		    wc_SignatureGenerate(WC_HASH_TYPE_SHA256,
					 WC_SIGNATURE_TYPE_ECC, msg,
					 sizeof(msg), sig, &sl, &is->ecc,
					 sizeof(is->ecc), &is->rng) == 0 &&
		    wc_SignatureVerify(WC_HASH_TYPE_SHA256,
				       WC_SIGNATURE_TYPE_ECC, msg, sizeof(msg),
				       sig, sl, &pub, sizeof(pub)) == 0)
			r = 0;
		wc_ecc_free(&pub);
	} else {
		RsaKey pub;
		word32 i = 0;

		if (wc_InitRsaKey(&pub, NULL) < 0)
			return -1;
		if (wc_RsaPublicKeyDecode(is->ca.spki.p, &i, &pub,
					  (word32)is->ca.spki.n) == 0 &&
		    wc_SignatureGenerate(WC_HASH_TYPE_SHA256,
					 WC_SIGNATURE_TYPE_RSA_W_ENC, msg,
					 sizeof(msg), sig, &sl, &is->rsa,
					 sizeof(is->rsa), &is->rng) == 0 &&
		    wc_SignatureVerify(
			WC_HASH_TYPE_SHA256, WC_SIGNATURE_TYPE_RSA_W_ENC, msg,
			sizeof(msg), sig, sl, &pub, sizeof(pub)) == 0)
			r = 0;
		wc_FreeRsaKey(&pub);
	}
	return r;
}

/* The index can be appended to: the file, or its directory when it does
 * not exist yet. */
static int index_writable(const char *path)
{
	char dir[4096];
	const char *slash;

	if (access(path, F_OK) == 0)
		return access(path, W_OK);
	slash = strrchr(path, '/');
	if (!slash)
		return access(".", W_OK);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return access(dir[0] ? dir : "/", W_OK);
}

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), NULL)

struct issuer *issuer_new(const struct cfg_enroll *e, const char *client_ca,
			  enum cfg_identity where, char *err, size_t errlen,
			  const struct cfg_pos **at)
{
	struct issuer *is = calloc(1, sizeof(*is));
	struct first_der ca = {0};

	*at = &e->pos;
	if (!is || uv_mutex_init(&is->lock) < 0) {
		free(is);
		return FAIL("mqtt.enroll: out of memory");
	}
	if (wc_InitRng(&is->rng) != 0) {
		uv_mutex_destroy(&is->lock);
		free(is);
		return FAIL("mqtt.enroll: no random number generator");
	}
	is->where = where;
	is->validity_s = e->validity_ms / 1000;
	each_cert(e->ca_cert, take_first, &ca);
	is->ca_der = ca.der;
	is->ca_len = ca.len;
	if (!ca.der || x509_read(ca.der, ca.len, &is->ca) < 0) {
		*at = &e->ca_cert_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.ca_cert: '%s' holds no "
			 "readable certificate (PEM)",
			 e->ca_cert);
		goto fail;
	}
	if (p7_make(is, e->ca_cert) < 0) {
		*at = &e->ca_cert_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.ca_cert: '%s': its certificates do not "
			 "fit a PKCS#7 (EST cacerts)",
			 e->ca_cert);
		goto fail;
	}
	if (key_load(is, e->ca_key) < 0) {
		*at = &e->ca_key_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.ca_key: '%s' holds no EC "
			 "or RSA private key (PEM, unencrypted)",
			 e->ca_key);
		goto fail;
	}
	if (key_matches(is) < 0) {
		*at = &e->ca_key_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.ca_key: '%s' is not the "
			 "key of ca_cert '%s'",
			 e->ca_key, e->ca_cert);
		goto fail;
	}
	if (is->key_type == ECC_TYPE) {
		int big = wc_ecc_size(&is->ecc) > 32;

		is->sig_type = big ? CTC_SHA384wECDSA : CTC_SHA256wECDSA;
		is->tbs_sig = big ? CSR_SIG_ECDSA_SHA384 : CSR_SIG_ECDSA_SHA256;
	} else {
		is->sig_type = CTC_SHA256wRSA;
		is->tbs_sig = CSR_SIG_RSA_SHA256;
	}
	/* what the CA issues must connect: it is one of client_ca */
	ca.len = is->ca_len;
	each_cert(client_ca, same_der, &ca);
	if (ca.len != 0) {
		*at = &e->ca_cert_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.ca_cert: '%s' is not one "
			 "of tls.client_ca: the certificates it issues "
			 "would not connect",
			 e->ca_cert);
		goto fail;
	}
	if (index_writable(e->index) < 0) {
		*at = &e->index_pos;
		snprintf(err, errlen,
			 "mqtt.enroll.index: '%s' cannot be "
			 "written: %s",
			 e->index, strerror(errno));
		goto fail;
	}
	if (!(is->index = strdup(e->index)))
		goto fail;
	return is;
fail:
	issuer_free(is);
	return NULL;
}

void issuer_free(struct issuer *is)
{
	if (!is)
		return;
	if (is->key_type == ECC_TYPE)
		wc_ecc_free(&is->ecc);
	else if (is->key_type == RSA_TYPE)
		wc_FreeRsaKey(&is->rsa);
	wc_FreeRng(&is->rng);
	uv_mutex_destroy(&is->lock);
	free(is->ca_der);
	free(is->p7);
	free(is->index);
	free(is);
}

const uint8_t *issuer_ca_der(const struct issuer *is, size_t *len)
{
	*len = is->ca_len;
	return is->ca_der;
}

const uint8_t *issuer_cacerts_p7(const struct issuer *is, size_t *len)
{
	*len = is->p7_len;
	return is->p7;
}

/* The request's signature, by its own key: proof the device holds it. */
static enum issue_result csr_verify(const struct csr_fields *f,
				    const char **why)
{
	enum wc_HashType h = f->sig_alg == CSR_SIG_ECDSA_SHA384 ||
				     f->sig_alg == CSR_SIG_RSA_SHA384
				 ? WC_HASH_TYPE_SHA384
				 : WC_HASH_TYPE_SHA256;
	int r = -1;

	if (f->key_type == CSR_KEY_EC_P256 || f->key_type == CSR_KEY_EC_P384) {
		ecc_key k;

		if (f->sig_alg != CSR_SIG_ECDSA_SHA256 &&
		    f->sig_alg != CSR_SIG_ECDSA_SHA384)
			return *why =
				   "signature algorithm does not fit the key",
			       ISSUE_SIGNATURE;
		if (wc_ecc_init(&k) < 0)
			return ISSUE_ERROR;
		if (wc_ecc_import_x963_ex(f->key.p, (word32)f->key.n, &k,
					  f->key_type == CSR_KEY_EC_P256
					      ? ECC_SECP256R1
					      : ECC_SECP384R1) == 0 &&
		    wc_ecc_check_key(&k) == 0)
			r = wc_SignatureVerify(h, WC_SIGNATURE_TYPE_ECC,
					       f->info.p, (word32)f->info.n,
					       f->sig.p, (word32)f->sig.n, &k,
					       sizeof(k));
		else
			r = -2;
		wc_ecc_free(&k);
	} else if (f->key_type == CSR_KEY_RSA) {
		RsaKey k;
		word32 i = 0;
		int bits;

		if (f->sig_alg != CSR_SIG_RSA_SHA256 &&
		    f->sig_alg != CSR_SIG_RSA_SHA384)
			return *why =
				   "signature algorithm does not fit the key",
			       ISSUE_SIGNATURE;
		if (wc_InitRsaKey(&k, NULL) < 0)
			return ISSUE_ERROR;
		if (wc_RsaPublicKeyDecode(f->spki.p, &i, &k,
					  (word32)f->spki.n) != 0) {
			wc_FreeRsaKey(&k);
			return *why = "the RSA key does not decode", ISSUE_KEY;
		}
		bits = wc_RsaEncryptSize(&k) * 8;
		if (bits < 2048 || bits > 4096) {
			wc_FreeRsaKey(&k);
			return *why = "RSA keys must have 2048 to 4096 bits",
			       ISSUE_KEY;
		}
		r = wc_SignatureVerify(h, WC_SIGNATURE_TYPE_RSA_W_ENC,
				       f->info.p, (word32)f->info.n, f->sig.p,
				       (word32)f->sig.n, &k, sizeof(k));
		wc_FreeRsaKey(&k);
	} else {
		return *why = "key type not allowed (EC P-256, P-384, RSA "
			      "2048 to 4096)",
		       ISSUE_KEY;
	}
	if (r == -2)
		return *why = "the EC key is not a point of its curve",
		       ISSUE_KEY;
	if (r != 0)
		return *why = "signature does not verify", ISSUE_SIGNATURE;
	return ISSUE_OK;
}

/* A renewal gives a device a second valid certificate with the same
 * subject: `openssl ca` (-revoke, -gencrl) on the index refuses that
 * unless its .attr file says unique_subject = no. Written once, when
 * missing; an operator's own file is left alone. */
static void attr_write(const char *index)
{
	static const char text[] = "unique_subject = no\n";
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.attr", index);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, sizeof(text) - 1) < 0)
		(void)0; /* openssl then says why; moat's index is intact */
	close(fd);
}

/* One line of `openssl ca`'s index.txt: status, expiry, revocation date
 * (empty), serial, file name ("unknown"), subject. */
static int index_append(struct issuer *is, const char *serial,
			int64_t not_after, const char *identity)
{
	time_t t = (time_t)not_after;
	struct tm tm;
	char when[20], line[512];
	int fd, n, r = -1;

	if (!gmtime_r(&t, &tm))
		return -1;
	strftime(when, sizeof(when),
		 tm.tm_year + 1900 < 2050 ? "%y%m%d%H%M%SZ" : "%Y%m%d%H%M%SZ",
		 &tm);
	n = snprintf(line, sizeof(line), "V\t%s\t\t%s\tunknown\t/CN=%s\n", when,
		     serial, identity);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	fd = open(is->index, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	attr_write(is->index);
	if (write(fd, line, (size_t)n) == n && fsync(fd) == 0)
		r = 0;
	close(fd);
	return r;
}

/* A name moat would write into the certificate: printable ASCII, no '/'
 * (the index's subject field is /-separated). */
static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 255)
		return 0;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '/')
			return 0;
	return 1;
}

enum issue_result issuer_sign(struct issuer *is, const uint8_t *req, size_t n,
			      const char *identity, struct issued *out)
{
	uint8_t buf[CSR_MAX], serial[16], ski[WC_SHA_DIGEST_SIZE];
	const uint8_t *der;
	size_t len;
	struct csr_fields f;
	struct tbs_spec s;
	enum issue_result r;
	int64_t now = (int64_t)time(NULL);
	int tl, cl;

	memset(out, 0, sizeof(*out));
	if (csr_der_of(req, n, buf, sizeof(buf), &der, &len) < 0 ||
	    csr_read(der, len, &f) < 0)
		return out->why = "not a PKCS#10 request (DER or PEM)",
		       ISSUE_MALFORMED;
	if ((r = csr_verify(&f, &out->why)) != ISSUE_OK)
		return r;
	if (!identity || !name_ok(identity))
		return out->why = "the identity cannot be a certificate name",
		       ISSUE_ERROR;
	memset(&s, 0, sizeof(s));
	uv_mutex_lock(&is->lock);
	if (wc_RNG_GenerateBlock(&is->rng, serial, sizeof(serial)) != 0) {
		uv_mutex_unlock(&is->lock);
		return out->why = "no random serial", ISSUE_ERROR;
	}
	serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
	wc_ShaHash(f.key.p, (word32)f.key.n, ski); /* RFC 5280 4.2.1.2 (1) */
	s.serial = serial;
	s.serial_len = sizeof(serial);
	s.sig_alg = is->tbs_sig;
	s.issuer = is->ca.subject;
	s.not_before = now - 60; /* a device's clock a little behind */
	s.not_after = now + (int64_t)is->validity_s;
	if (is->ca.not_after && s.not_after > is->ca.not_after)
		s.not_after = is->ca.not_after; /* never past the CA's own */
	s.cn = identity;
	s.san_dns = is->where == CFG_ID_SAN_DNS ? identity : NULL;
	s.san_uri = is->where == CFG_ID_SAN_URI ? identity : NULL;
	s.spki = f.spki;
	s.key_encipherment = f.key_type == CSR_KEY_RSA;
	s.ski = ski;
	s.aki = is->ca.ski;
	tl = x509_tbs_write(&s, out->der, sizeof(out->der));
	cl = tl < 0
		 ? -1
		 : wc_SignCert_ex(tl, is->sig_type, out->der,
				  (word32)sizeof(out->der), is->key_type,
				  is->key_type == ECC_TYPE ? (void *)&is->ecc
							   : (void *)&is->rsa,
				  &is->rng);
	for (size_t i = 0; i < sizeof(serial); i++)
		snprintf(out->serial + 2 * i, 3, "%02X", serial[i]);
	out->not_after = s.not_after;
	/* recorded before it is handed out: what moat issued can be revoked */
	if (cl > 0 && index_append(is, out->serial, s.not_after, identity) < 0)
		cl = -1, out->why = "the index cannot be written";
	uv_mutex_unlock(&is->lock);
	if (cl <= 0) {
		if (!out->why)
			out->why = "signing failed";
		return ISSUE_ERROR;
	}
	out->len = (size_t)cl;
	return ISSUE_OK;
}
