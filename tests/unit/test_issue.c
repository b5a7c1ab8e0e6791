/* test_issue.c - moat's issuing CA end to end without the network: a CA,
 * keys and requests made with openssl in a temporary directory; requests
 * read (DER and PEM), refused (damaged, bad signature, weak key, another
 * kind of file), a certificate issued for the identity whatever the
 * request asks, which OpenSSL verifies against the CA, and its index line
 * in `openssl ca`'s format. Also the CA checks at load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/csr.h"
#include "tls/issue.h"
#include "test.h"

static char dir[64];

static int sh(const char *fmt, const char *arg)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd %s && ", dir);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, arg, arg,
		 arg, arg);
	return system(cmd);
}

static uint8_t *slurp(const char *name, size_t *n)
{
	char path[256];
	FILE *f;
	uint8_t *b = malloc(65536);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	*n = f ? fread(b, 1, 65536, f) : 0;
	if (f)
		fclose(f);
	return b;
}

static void spit(const char *name, const uint8_t *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	fwrite(p, 1, n, f);
	fclose(f);
}

static void make_pki(void)
{
	int r =
	    sh("openssl ecparam -name prime256v1 -genkey -noout -out ca.key "
	       "2>/dev/null && chmod 600 ca.key && "
	       "openssl req -x509 -new -key ca.key -subj '/CN=issuing CA' "
	       "-days 30 -addext basicConstraints=critical,CA:TRUE "
	       "-addext keyUsage=critical,keyCertSign,cRLSign -out ca.crt "
	       "2>/dev/null && "
	       "openssl ecparam -name prime256v1 -genkey -noout -out other.key "
	       "2>/dev/null && "
	       "openssl ecparam -name prime256v1 -genkey -noout -out dev.key "
	       "2>/dev/null && "
	       "openssl req -new -key dev.key -subj '/CN=someone-else' "
	       "-out dev.pem 2>/dev/null && "
	       "openssl req -in dev.pem -outform DER -out dev.der && "
	       "openssl genrsa -out rsa1024.key 1024 2>/dev/null && "
	       "openssl req -new -key rsa1024.key -subj '/CN=x' -outform DER "
	       "-out rsa1024.der && "
	       "openssl genrsa -out rsa2048.key 2048 2>/dev/null && "
	       "openssl req -new -key rsa2048.key -subj '/CN=x' -outform DER "
	       "-out rsa2048.der%s",
	       "");

	CHECK(r == 0, "openssl made the test PKI");
}

static struct issuer *load(const char *key, const char *client_ca,
			   const char *index, char *err, size_t errlen)
{
	struct cfg_enroll e = {0};
	char cert[128], k[128], idx[128], ca[128];
	const struct cfg_pos *at;
	struct issuer *is;

	snprintf(cert, sizeof(cert), "%s/ca.crt", dir);
	snprintf(k, sizeof(k), "%s/%s", dir, key);
	snprintf(idx, sizeof(idx), "%s/%s", dir, index);
	snprintf(ca, sizeof(ca), "%s/%s", dir, client_ca);
	e.on = 1;
	e.ca_cert = cert;
	e.ca_key = k;
	e.index = idx;
	e.validity_ms = 7 * 86400000ull;
	is = issuer_new(&e, ca, CFG_ID_CN, err, errlen, &at);
	CHECK(is || at, "a position with the error");
	return is;
}

static void test_load(void)
{
	char err[512];
	struct issuer *is;

	is = load("other.key", "ca.crt", "index.txt", err, sizeof(err));
	CHECK(!is && strstr(err, "is not the key of ca_cert"), "%s", err);
	is = load("ca.key", "dev.pem", "index.txt", err, sizeof(err));
	CHECK(!is && strstr(err, "is not one of tls.client_ca"), "%s", err);
	is = load("ca.crt", "ca.crt", "index.txt", err, sizeof(err));
	CHECK(!is && strstr(err, "holds no EC or RSA private key"), "%s", err);
	is = load("ca.key", "ca.crt", "nodir/index.txt", err, sizeof(err));
	CHECK(!is && strstr(err, "cannot be written"), "%s", err);
	is = load("ca.key", "ca.crt", "index.txt", err, sizeof(err));
	CHECK(is != NULL, "loads: %s", err);
	issuer_free(is);
}

static void test_sign(void)
{
	char err[512];
	struct issuer *is =
	    load("ca.key", "ca.crt", "index.txt", err, sizeof(err));
	struct issued *out = calloc(1, sizeof(*out));
	struct x509_fields f;
	size_t n, pn;
	uint8_t *der = slurp("dev.der", &n), *pem = slurp("dev.pem", &pn);
	char line[512];
	FILE *idx;
	int64_t now = (int64_t)time(NULL);

	if (!is) {
		CHECK(0, "no issuer: %s", err);
		return;
	}
	/* DER: issued for the identity, not for what the request asks */
	CHECK(issuer_sign(is, der, n, "dev-42", out) == ISSUE_OK, "DER: %s",
	      out->why ? out->why : "");
	CHECK(x509_read(out->der, out->len, &f) == 0 && f.cn.n == 6 &&
		  !memcmp(f.cn.p, "dev-42", 6),
	      "the CN is the identity");
	CHECK(f.not_after > now + 7 * 86400 - 5 &&
		  f.not_after <= now + 7 * 86400,
	      "validity from the policy");
	CHECK(strlen(out->serial) == 32 && f.serial.n == 16, "serial %s",
	      out->serial);
	spit("issued.der", out->der, out->len);
	CHECK(sh("openssl x509 -inform DER -in issued.der -out issued.pem && "
		 "openssl verify -CAfile ca.crt -purpose sslclient issued.pem "
		 ">/dev/null%s",
		 "") == 0,
	      "OpenSSL verifies the certificate for client authentication");
	CHECK(sh("openssl x509 -in issued.pem -noout -pubkey > a.pub && "
		 "openssl ec -in dev.key -pubout 2>/dev/null > b.pub && "
		 "cmp -s a.pub b.pub%s",
		 "") == 0,
	      "it certifies the request's key");
	snprintf(line, sizeof(line), "%s/index.txt", dir);
	idx = fopen(line, "r");
	CHECK(idx && fgets(line, sizeof(line), idx) && line[0] == 'V' &&
		  strstr(line, out->serial) && strstr(line, "\t\t") &&
		  strstr(line, "\tunknown\t/CN=dev-42\n"),
	      "index line: %s", line);
	if (idx)
		fclose(idx);
	CHECK(sh("openssl ca -help >/dev/null 2>&1; grep -c . index.txt | "
		 "grep -qx 1%s",
		 "") == 0,
	      "one line per certificate");

	/* PEM, the same request */
	CHECK(issuer_sign(is, pem, pn, "dev-43", out) == ISSUE_OK, "PEM: %s",
	      out->why ? out->why : "");
	/* RSA 2048 is in policy, 1024 is not */
	free(der);
	der = slurp("rsa2048.der", &n);
	CHECK(issuer_sign(is, der, n, "dev-rsa", out) == ISSUE_OK, "RSA: %s",
	      out->why ? out->why : "");
	free(der);
	der = slurp("rsa1024.der", &n);
	CHECK(issuer_sign(is, der, n, "dev-rsa", out) == ISSUE_KEY,
	      "RSA 1024 refused");
	free(der);
	/* a signature that does not verify */
	der = slurp("dev.der", &n);
	der[n - 5] ^= 0x01;
	CHECK(issuer_sign(is, der, n, "dev-42", out) == ISSUE_SIGNATURE,
	      "bad signature: %s", out->why ? out->why : "");
	/* the signed part changed: the signature no longer covers it */
	der[n - 5] ^= 0x01;
	for (size_t i = 0; i + 8 < n; i++)
		if (!memcmp(der + i, "someone", 7)) {
			der[i] = 'S';
			break;
		}
	CHECK(issuer_sign(is, der, n, "dev-42", out) == ISSUE_SIGNATURE,
	      "tampered request");
	CHECK(issuer_sign(is, (const uint8_t *)"hello", 5, "dev-42", out) ==
		  ISSUE_MALFORMED,
	      "not a request");
	CHECK(issuer_sign(is, pem, pn, "dev/42", out) == ISSUE_ERROR,
	      "an identity that cannot be a name");
	free(der);
	der = slurp("ca.crt", &n);
	CHECK(issuer_sign(is, der, n, "dev-42", out) == ISSUE_MALFORMED,
	      "a certificate is not a request");
	free(der);
	free(pem);
	free(out);
	issuer_free(is);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/moat-issue-XXXXXX");
	if (!mkdtemp(dir))
		return 2;
	make_pki();
	test_load();
	test_sign();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 2;
	return test_done("issue");
}
