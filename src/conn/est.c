/* est.c - EST (RFC 7030) on the TLS port of a listener with
 * mqtt.enroll.est (docs/lifecycle.md, "EST"): a connection whose first
 * plaintext byte opens an HTTP request (a letter; a CONNECT starts with
 * 0x10) is read here instead, bounded in size and by connect_timeout,
 * answered by moat (cacerts, simpleenroll, simplereenroll; the decision
 * and signing are enroll_ask.c's, as for MQTT) and closed. It never
 * reaches a broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "codec/est.h"
#include "tls/issue.h"
#include "conn/internal.h"

/* A request being read: head and body, then the answer. */
struct conn_est {
	uint8_t *buf; /* EST_BUF bytes */
	size_t len;
	size_t head; /* the head's length once whole, else 0 */
	struct est_request rq;
	char detail[160]; /* a refusal's detail for the log */
};

#define EST_BUF (EST_MAX_HEADER + 1 + EST_BODY_MAX)

int conn_est_wants(const struct conn *c, uint8_t first)
{
	return c->lcfg->mqtt.enroll.est && !c->ws && first >= 'A' &&
	       first <= 'Z' && conn_enroll_on(c);
}

void conn_est_free(struct conn *c)
{
	if (!c->est)
		return;
	if (c->est->buf) /* may hold a bearer token */
		memset(c->est->buf, 0, c->est->len);
	free(c->est->buf);
	free(c->est);
	c->est = NULL;
}

/* The answer, then close_notify and close. */
static void answer(struct conn *c, int status, const char *ctype, int b64,
		   const char *extra, const char *body, size_t blen)
{
	char head[512];
	size_t hl =
	    est_build_head(head, sizeof(head), status, ctype, b64, extra, blen);

	if (hl && conn_tx(c, (const uint8_t *)head, hl) == 0 && blen)
		conn_tx(c, (const uint8_t *)body, blen);
	/* after a TLS 1.3 handshake the session ticket waited for this */
	if (c->corked && c->state != CS_CLOSED)
		conn_uncork(c);
}

/* Refused at the HTTP level: the status, one line of text, the cause
 * counted and logged, closed. */
static void refuse(struct conn *c, int status, enum reject_cause why,
		   const char *detail, const char *extra)
{
	struct conn_est *e = c->est;
	char text[200];
	int n;

	snprintf(e->detail, sizeof(e->detail), "%d %s", status,
		 detail ? detail : "refused");
	c->why = e->detail;
	n = snprintf(text, sizeof(text), "%s\n", e->detail);
	answer(c, status, "text/plain", 0, extra, text,
	       n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0);
	if (c->state != CS_CLOSED)
		conn_reject(c, why, REJECT_NO_CONNACK);
}

static enum reject_cause cause_of(int status)
{
	return status == 413 || status == 431 ? REJ_EST_TOO_LARGE
					      : REJ_EST_BAD_REQUEST;
}

/* 200 with der[0..n) in base64 (lines of 64). 0, or -1 out of memory. */
static int answer_b64(struct conn *c, const uint8_t *der, size_t n,
		      const char *ctype)
{
	size_t cap = n / 3 * 4 + n / 48 + 16;
	char *b64 = malloc(cap);

	if (!b64)
		return -1;
	answer(c, 200, ctype, 1, NULL, b64, util_b64_lines(der, n, b64, cap));
	free(b64);
	return 0;
}

/* 200 with a PKCS#7 certs-only of the certificate. 0, or -1 out of
 * memory. */
static int answer_cert(struct conn *c, const struct issued *out)
{
	struct der_span cert = {out->der, out->len};
	size_t cap = out->len + 64;
	uint8_t *p7 = malloc(cap);
	int len = p7 ? pkcs7_certs_write(&cert, 1, p7, cap) : -1, r;

	r = len < 0
		? -1
		: answer_b64(c, p7, (size_t)len,
			     "application/pkcs7-mime; smime-type=certs-only");
	free(p7);
	return r;
}

/* The device: a token when one is needed (Bearer, or Basic's password),
 * else its certificate. 0, or -1 answered 401 (or closed). */
static int authenticate(struct conn *c)
{
	const struct est_request *rq = &c->est->rq;
	const char *www = c->lcfg->mqtt.token.when != CFG_TOKEN_OFF
			      ? "WWW-Authenticate: Bearer realm=\"moat\"\r\n"
				"WWW-Authenticate: Basic realm=\"moat\"\r\n"
			      : NULL;
	enum reject_cause cause;
	char pw[EST_MAX_HEADER / 4 * 3 + 4]; /* any Basic that fits a head */
	const char *tok = NULL;
	long tlen = 0;
	int r;

	if (!conn_token_needed(c)) {
		if (c->cert.has_cert)
			return 0;
		refuse(c, 401, REJ_EST_UNAUTHORIZED, "no client certificate",
		       www);
		return -1;
	}
	if (rq->auth == EST_AUTH_BEARER) {
		tok = rq->cred;
		tlen = (long)rq->cred_len;
	} else if (rq->auth == EST_AUTH_BASIC) {
		tlen =
		    est_basic_password(rq->cred, rq->cred_len, pw, sizeof(pw));
		tok = tlen > 0 ? pw : NULL;
	}
	r = conn_token_check(c, tok, tok ? (size_t)tlen : 0, &cause);
	memset(pw, 0, sizeof(pw));
	if (r < 0) {
		conn_close(c, "out of memory");
		return -1;
	}
	if (r > 0) {
		refuse(c, 401, cause, c->why, www);
		return -1;
	}
	return 0;
}

/* simpleenroll / simplereenroll: who asks, the request, the answer. */
static void enroll(struct conn *c)
{
	static const int status[ENR__COUNT] = {
	    [ENR_RENEWED] = 200,   [ENR_ENROLLED] = 200,
	    [ENR_MALFORMED] = 400, [ENR_SIGNATURE] = 400,
	    [ENR_KEY] = 400,	   [ENR_TOO_EARLY] = 403,
	    [ENR_TOO_LARGE] = 413, [ENR_NOT_ALLOWED] = 403,
	    [ENR_RESERVED] = 404,  [ENR_ERROR] = 503,
	};
	struct conn_est *e = c->est;
	const uint8_t *body = e->buf + e->head;
	size_t blen = e->rq.body_len;
	struct enroll_ask a = {.kind = "renew"};
	uint8_t der[CSR_MAX];
	char text[256];
	int n;

	if (authenticate(c) < 0)
		return;
	if (conn_grace_revoked(c)) {
		refuse(c, 403, REJ_CERT_REVOKED, "revoked, in renew_grace",
		       NULL);
		return;
	}
	if (conn_enroll_may(c, e->rq.op == EST_SIMPLEREENROLL, &a) == 0) {
		/* base64 of the DER (RFC 7030 4.2.1); PEM taken too */
		long dl = blen >= 5 && !memcmp(body, "-----", 5)
			      ? 0
			      : csr_b64_decode(body, blen, der, sizeof(der));

		if (dl < 0) {
			a.outcome = ENR_MALFORMED;
			a.why = "the body is not base64 of a PKCS#10 request";
		} else if (conn_enroll_sign(c, dl ? der : body,
					    dl ? (size_t)dl : blen, &a) < 0) {
			conn_close(c, "out of memory");
			return;
		}
	}
	conn_enroll_done(c, 1, &a);
	if (a.outcome == ENR_RENEWED || a.outcome == ENR_ENROLLED) {
		if (answer_cert(c, a.out) < 0) {
			free(a.out);
			conn_close(c, "out of memory");
			return;
		}
	} else {
		n = snprintf(text, sizeof(text), "rejected: %s: %s\n",
			     conn_enroll_outcome_name(a.outcome),
			     a.why ? a.why : "refused");
		answer(c, status[a.outcome], "text/plain", 0,
		       a.outcome == ENR_ERROR ? "Retry-After: 60\r\n" : NULL,
		       text,
		       n > 0 && (size_t)n < sizeof(text) ? (size_t)n
							 : sizeof(text) - 1);
	}
	free(a.out);
	if (c->state == CS_CLOSED)
		return;
	conn_tx_end(c);
	conn_finish(c);
}

/* The whole request is in: answer it. */
static void serve(struct conn *c)
{
	struct conn_est *e = c->est;
	struct der_span ca;
	char id[24], path[64];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->id);
	snprintf(path, sizeof(path), "%.*s",
		 (int)(e->rq.path_len < 60 ? e->rq.path_len : 60), e->rq.path);
	log_event(LOG_INFO, "est_request", "conn", id, "path", path, "subject",
		  c->cert.subject, NULL);
	if (e->rq.op != EST_CACERTS) {
		enroll(c);
		return;
	}
	/* the CA's certificates are public: no credentials asked */
	ca.p = issuer_cacerts_p7(conn_issuer(c), &ca.n);
	if (answer_b64(c, ca.p, ca.n, "application/pkcs7-mime") < 0) {
		conn_close(c, "out of memory");
		return;
	}
	if (c->state == CS_CLOSED)
		return;
	conn_tx_end(c);
	conn_finish(c);
}

void conn_est_in(struct conn *c, const uint8_t *p, size_t n)
{
	struct conn_est *e = c->est;
	size_t old, take, end;
	int st;

	if (!e) {
		if (!(e = c->est = calloc(1, sizeof(*e))) ||
		    !(e->buf = malloc(EST_BUF))) {
			conn_close(c, "out of memory");
			return;
		}
	}
	old = e->len;
	take = n < EST_BUF - e->len ? n : EST_BUF - e->len;
	memcpy(e->buf + e->len, p, take);
	e->len += take;
	if (!e->head) {
		end = http_head_end(e->buf, e->len, old > 3 ? old - 3 : 0);
		if (!end) {
			if (e->len > EST_MAX_HEADER)
				refuse(c, 431, REJ_EST_TOO_LARGE,
				       "headers over 8 KiB", NULL);
			return;
		}
		st = est_parse_head(e->buf, end, &e->rq);
		if (st) {
			refuse(c, st, cause_of(st), e->rq.why,
			       st != 405		 ? NULL
			       : e->rq.op == EST_CACERTS ? "Allow: GET\r\n"
							 : "Allow: POST\r\n");
			return;
		}
		e->head = end;
	}
	if (e->len - e->head < e->rq.body_len)
		return;
	/* what follows the request (pipelined bytes) is never read */
	conn_read_stop(c, SIDE_CLIENT);
	serve(c);
}

void conn_est_timeout(struct conn *c)
{
	if (!c->est) {
		conn_close(c, "est without state");
		return;
	}
	refuse(c, 408, REJ_EST_TIMEOUT, "no whole request in time", NULL);
}
