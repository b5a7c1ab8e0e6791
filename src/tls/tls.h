/* tls.h - wolfSSL for moat: one context per listener built from its cfg_tls
 * (server cert and key, client CA, CRL for the whole chain, versions,
 * tickets), and sessions whose I/O goes through memory callbacks so that
 * wolfSSL never owns a socket: libuv reads and writes, wolfSSL only
 * transforms bytes. */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "config/config.h"
#include "tls/ticket.h"

struct tls_tickets;

/* Validity dates of what a context was loaded from, for `show tls`, the
 * log and crl_expired. Times are UTC seconds (0 = unknown). */
#define TLS_MAX_CRLS 16
struct tls_info {
	char cert_subject[256];
	int64_t cert_not_after;
	char ca_first_expiring[256]; /* subject of the CA that expires first */
	int64_t ca_not_after;
	int n_crls;
	struct {
		char issuer[256];
		int64_t this_update, next_update;
	} crl[TLS_MAX_CRLS];
};

/* The OCSP response moat staples for its own certificate (tls.staple). */
struct tls_staple {
	int mode;            /* enum cfg_staple */
	char *url;           /* auto: the responder in tls.cert's AIA */
	uint8_t *req;        /* the request wolfSSL makes for tls.cert */
	size_t req_len;
	uint8_t *file;       /* FILE: the response as read at load */
	size_t file_len;
	int file_status;     /* FILE: enum ocsp_cert_status of tls.cert */
	int64_t file_this_update;
	int64_t file_next_update; /* 0 = none */
	const char *logged_why; /* FILE: the reason staple_unusable gave last */
};

struct tls_ctx {
	WOLFSSL_CTX *ctx;
	const struct cfg_tls *cfg;
	struct tls_tickets *tickets; /* owned; NULL without tickets */
	/* the CRLs' revoked serials, for sessions with no certificate at
	 * hand (resumed): sorted SHA-256 of issuer Name DER and serial */
	uint8_t (*revoked)[TICKET_HASH_SZ];
	size_t n_revoked, cap_revoked;
	struct tls_info info;
	struct tls_staple staple;
	/* What a session ticket is bound to: SHA-256 over the listener's
	 * name, client CAs, CRL issuers, verify_client, OCSP and identity
	 * settings (tickets_trust). A ticket made under other trust (another
	 * listener, or before a reload that changed any of them) does a full
	 * handshake. */
	uint8_t trust[TICKET_HASH_SZ];
	/* mqtt.enroll (tls_ctx_enroll): SHA-256 of the subject Name of each
	 * bootstrap_ca certificate (claim certificates' issuers), and how
	 * long past notAfter a certificate may still connect to renew */
	uint8_t (*claim)[TICKET_HASH_SZ];
	size_t n_claim;
	int64_t grace_s;
};

struct ocsp_cache;

/* Is req (an OCSP request wolfSSL made) the one for our own certificate? */
int tls_is_staple_request(const struct tls_ctx *t, const uint8_t *req,
			  size_t req_len);
/* The staple to send now, good and not expired, as a malloc'd copy; or
 * NULL (no staple). */
uint8_t *tls_staple_get(struct tls_ctx *t, struct ocsp_cache *oc,
			const uint8_t *req, size_t req_len, size_t *len);

/* `show tls` lines on session tickets: where the keys come from, how
 * many, and the first bytes of each key's name (sent in clear in every
 * ticket, so no secret), the encrypting key first. */
struct sbuf;
void tls_tickets_describe(const struct tls_ctx *t, struct sbuf *o);

/* `show tls` lines on the staple ("staple: good|none|off", its dates and
 * why none is sent) into buf, NUL-terminated. */
void tls_staple_describe(const struct tls_ctx *t, struct ocsp_cache *oc,
			 char *buf, size_t len);

/* "2027-11-24T23:40:00Z" (or "-" for 0) into buf of 24 bytes. */
const char *tls_time_str(int64_t t, char *buf, size_t len);

/* What the session's I/O callbacks read from and write to. rx/rx_len are
 * the ciphertext bytes just read from the socket (consumed by wolfSSL);
 * send() must take all n bytes (queue what the socket cannot take). */
struct tls_peer;
struct tls_io;

/* Keep what is left of io->rx for the next read (-1: out of memory). */
int tls_io_stash(struct tls_io *io);
void tls_io_free(struct tls_io *io);

struct tls_io {
	const uint8_t *rx;
	size_t rx_len;
	/* Bytes read from the socket that wolfSSL did not take before it
	 * paused (OCSP): served before rx. tls_io_stash() keeps rx's rest. */
	uint8_t *held;
	size_t held_len, held_off;
	int eof;
	int (*send)(void *arg, const uint8_t *p, size_t n);
	/* OCSP for the client's chain (wolfSSL's OCSP I/O callback, see
	 * wolfSSL_SetOCSP_Cb): returns the response length with *resp
	 * malloc'd, WOLFSSL_CBIO_ERR_WANT_READ while the answer is being
	 * fetched (wolfSSL_accept then fails with OCSP_WANT_READ and is
	 * called again later), or -1 when there is no answer. */
	int (*ocsp)(void *arg, const char *url, int url_len,
		    const uint8_t *req, int req_len, uint8_t **resp);
	void *arg;
	struct tls_peer *peer; /* set by tls_session_new */
	struct tls_ctx *tls;   /* the context the session was made from */
	/* The identity of the one session ticket moat vouched for in this
	 * handshake, held aside: it becomes *peer only if wolfSSL resumed
	 * the session (tls_session_settle). Owned; NULL when none. */
	struct tls_peer *resume;
	uint8_t resume_mac[32]; /* which ticket: its MAC */
};

/* What we learn of the client certificate (leaf) during verification.
 * The five strings live in one allocation, `names` (an idle connection
 * holds them), set by peer_names() and freed by tls_peer_clear(). */
struct tls_peer {
	char *names;	/* the block the five below point into */
	char *subject;  /* one line, "/C=../CN=.." */
	char *serial;   /* lower-case hex */
	char *cn;
	char *san_dns;  /* first DNS SAN */
	char *san_uri;  /* first URI SAN */
	uint8_t *der;   /* the leaf, DER, kept only until the handshake ends */
	int der_len;
	int verify_err; /* first wolfSSL error seen in the chain, 0 = none */
	uint8_t has_cert;
	uint8_t ocsp_url;   /* the leaf's AIA names an OCSP responder */
	uint8_t resumed;    /* identity restored from a session ticket */
	int64_t checked_at; /* UTC s: the full handshake's revocation check */
	int64_t not_after;  /* UTC s: the leaf's notAfter (0 = no leaf) */
	int64_t grace_s;    /* mqtt.enroll.renew_grace, from the context */
	uint8_t in_grace;   /* connected past notAfter, within grace_s: may
			       only renew */
	uint8_t leaf_hash[TICKET_HASH_SZ];   /* SHA-256 of the leaf's DER */
	uint8_t issuer_hash[TICKET_HASH_SZ]; /* SHA-256 of its issuer Name */
	/* The leaf's OCSP CertID (DER: issuer name and key hashes, serial)
	 * when OCSP was asked about it: how a revocation found later by
	 * OCSP is matched to this session (issuer and serial, exactly). */
	uint8_t *certid;
	size_t certid_len;
	/* OCSP (set up by tls_session_new from the listener's config) */
	uint8_t ocsp_mode;      /* enum cfg_ocsp_mode */
	uint8_t ocsp_override;  /* a responder URL is configured */
	uint8_t ocsp_io_failed; /* the I/O callback had no answer to give */
	uint8_t ocsp_io_stale;  /* ... but a good within stale_if_error */
	uint8_t ocsp_state;     /* enum tls_ocsp_state: the verdict */
	uint8_t crl_on;
	WOLFSSL_CERT_MANAGER *cm; /* for the CRL check next to OCSP */
	int64_t crl_reject_after; /* crl_expired: reject: the first nextUpdate */
};

/* What OCSP left for the CONNECT to answer (a revoked certificate never
 * gets this far: it gets the TLS alert). */
enum tls_ocsp_state {
	TLS_OCSP_OK,          /* good, or OCSP off */
	TLS_OCSP_STALE,       /* responder down; a cached good within
				 stale_if_error was used */
	TLS_OCSP_UNAVAILABLE, /* responder down or slow, or a bad answer */
	TLS_OCSP_UNKNOWN,     /* the responder does not know the cert */
	TLS_OCSP_NO_URL,      /* no AIA OCSP URL and no override */
};
void tls_peer_clear(struct tls_peer *p);
const char *tls_peer_identity(const struct tls_peer *p, enum cfg_identity id);

int tls_global_init(void);
void tls_global_cleanup(void);

/* Build a listener's context. On error returns NULL and appends
 * "FILE:LINE:COL: message\n" lines (positions of the cfg keys) to *errors
 * (malloc'd, caller frees). */
struct tls_ctx *tls_ctx_new(const struct cfg_listener *l, char **errors);
void tls_ctx_free(struct tls_ctx *t);

WOLFSSL *tls_session_new(struct tls_ctx *t, struct tls_io *io,
			 struct tls_peer *peer);

/* The handshake has completed: adopt a session ticket's identity if and
 * only if wolfSSL resumed the session, else drop every trace of it (the
 * peer is then what the full handshake verified, or nothing). -1 when
 * the session was resumed without a ticket moat vouched for: refuse. */
int tls_session_settle(WOLFSSL *ssl, struct tls_io *io);

/* Features compiled into the wolfSSL in use, for --version. */
void tls_describe(char *buf, size_t len);

/* Append a formatted line to a malloc'd error text. */
void errtext_add(char **text, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Asked on resumption under OCSP: 1 when OCSP has found the certificate
 * of this CertID (DER) revoked. */
void tls_set_revoked_lookup(int (*fn)(const uint8_t *certid, size_t len));

/* 1 when the CRLs loaded for t revoke p's certificate (by issuer and
 * serial: works for a resumed session, which has no certificate). */
int tls_peer_crl_revoked(const struct tls_ctx *t, const struct tls_peer *p);

/* mqtt.enroll on t: the bootstrap_ca certificates trusted for claim
 * certificates (which may only enroll) and renew_grace. -1 with
 * "FILE:LINE:COL: message" lines in *errors. */
int tls_ctx_enroll(struct tls_ctx *t, const struct cfg_enroll *e,
		   char **errors);

/* 1 when p's certificate was issued by a bootstrap_ca certificate. */
int tls_peer_is_claim(const struct tls_ctx *t, const struct tls_peer *p);

/* The reject cause (enum reject_cause) for a failed handshake. */
int tls_reject_cause(int verify_err, int ssl_err);
#endif
