/* ticket_enc.c - session tickets for a context: wolfSSL's ticket
 * encryption callback, which seals the client's identity (ticket.c's blob)
 * into each ticket and opens and vouches for it at resumption, and the
 * keys (tls.ticket_keys, or one made for the process). The format and
 * parsing are in ticket.c, which knows nothing of wolfSSL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "base/log.h"
#include "base/sbuf.h"
#include "tls/ticket.h"
#include "tls/tls.h"
#include "tls/tls_int.h"

static int (*revoked_lookup)(const uint8_t *certid, size_t len);

void tls_set_revoked_lookup(int (*fn)(const uint8_t *certid, size_t len))
{
	revoked_lookup = fn;
}

#ifdef HAVE_SESSION_TICKET
/* Stateless session tickets that keep the client's identity.
 *
 * A resumed handshake has no client certificate, and wolfSSL's tickets do
 * not carry it, so moat encrypts tickets itself and puts after wolfSSL's
 * session state a blob with what the full handshake learnt of the leaf
 * (src/tls/ticket.h). The plaintext is
 *     wolfSSL's state | blob | zeros | state length 2 | blob length 2
 * padded to the AES block; it is encrypted with AES-256-CBC (the IV random
 * per ticket) and authenticated with HMAC-SHA256 over key name, IV, length
 * and ciphertext (encrypt-then-MAC; the MAC is checked before anything is
 * decrypted), under the first key of tls.ticket_keys, or a key made at
 * start. Any instance holding the key resumes the ticket; one it cannot
 * vouch for (unknown key, bad MAC, no blob, made under other trust: another
 * listener, other CAs, before a reload that changed them; revoked since,
 * the CRL past its nextUpdate under crl_expired: reject, older than
 * tls.ticket_lifetime since its revocation check) is refused, and the client
 * does a full handshake: never a resumption without identity.
 *
 * Opening a ticket does not make it the connection's identity: wolfSSL may
 * still decline to resume (another cipher suite, the ticket's age, a bad
 * binder) and run a full handshake, where a client that shows no
 * certificate must not keep the ticket's. The opened identity waits in
 * io->resume, and tls_session_settle() adopts it only once the handshake
 * has completed as a resumption. At most one ticket is vouched for per
 * handshake (a ClientHello may offer several PSK identities). */

#define TICKET_SKEW_S 300 /* clocks of instances sharing a key may differ */
#ifdef WOLFSSL_TICKET_EXTRA_PADDING_SZ
#define TICKET_ROOM WOLFSSL_TICKET_EXTRA_PADDING_SZ
#else
#define TICKET_ROOM 32 /* wolfSSL's default: no identity fits */
#endif
#define TRAILER_SZ 4

struct tls_tickets {
	uv_mutex_t lock; /* workers share the RNG */
	WC_RNG rng;
	struct ticket_keys keys; /* keys.key[0] encrypts */
	int warned;              /* ticket_identity_too_big logged */
};

/* Without tls.ticket_keys: one key for the process, made at start, so
 * that a reload keeps its tickets valid. */
static struct ticket_key proc_key;
static int proc_key_ok;
static uv_once_t proc_key_once = UV_ONCE_INIT;

static void proc_key_make(void)
{
	WC_RNG rng;

	if (wc_InitRng(&rng) != 0)
		return;
	proc_key_ok = wc_RNG_GenerateBlock(&rng, (byte *)&proc_key,
					   sizeof(proc_key)) == 0;
	proc_key.name[0] |= 1; /* never all zeros */
	wc_FreeRng(&rng);
}

static int ticket_mac(const struct ticket_key *k, const uint8_t *name,
		      const uint8_t *iv, const uint8_t *ct, int len,
		      uint8_t *mac)
{
	Hmac h;
	uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	int r;

	if (wc_HmacInit(&h, NULL, INVALID_DEVID))
		return -1;
	r = wc_HmacSetKey(&h, WC_SHA256, k->hmac, TICKET_HMAC_SZ) ||
	    wc_HmacUpdate(&h, name, TICKET_NAME_SZ) ||
	    wc_HmacUpdate(&h, iv, WOLFSSL_TICKET_IV_SZ) ||
	    wc_HmacUpdate(&h, l, 2) || wc_HmacUpdate(&h, ct, (word32)len) ||
	    wc_HmacFinal(&h, mac);
	wc_HmacFree(&h);
	return r ? -1 : 0;
}

static int ticket_aes(const struct ticket_key *k, const uint8_t *iv,
		      uint8_t *buf, int len, int enc)
{
	Aes aes;
	int r;

	if (wc_AesInit(&aes, NULL, INVALID_DEVID))
		return -1;
	r = wc_AesSetKey(&aes, k->aes, TICKET_AES_SZ, iv,
			 enc ? AES_ENCRYPTION : AES_DECRYPTION) ||
	    (enc ? wc_AesCbcEncrypt(&aes, buf, buf, (word32)len)
		 : wc_AesCbcDecrypt(&aes, buf, buf, (word32)len));
	wc_AesFree(&aes);
	return r ? -1 : 0;
}

static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void blob_of_peer(struct ticket_blob *b, const struct tls_peer *p)
{
	int n;

	memset(b, 0, sizeof(*b));
	b->has_cert = p->has_cert;
	b->ocsp_url = p->ocsp_url;
	b->ocsp_state = p->ocsp_state;
	/* no certificate, no revocation check: the ticket's age counts */
	b->checked_at = p->has_cert ? p->checked_at : (int64_t)time(NULL);
	b->not_after = p->not_after;
	memcpy(b->leaf_hash, p->leaf_hash, TICKET_HASH_SZ);
	memcpy(b->issuer_hash, p->issuer_hash, TICKET_HASH_SZ);
	if (p->certid && p->certid_len <= TICKET_CERTID_MAX) {
		memcpy(b->certid, p->certid, p->certid_len);
		b->certid_len = p->certid_len;
	}
	n = hex_to_bytes(p->serial, b->serial, sizeof(b->serial));
	b->serial_len = n > 0 ? (size_t)n : 0;
#define STR(f) b->f = (struct ticket_str){p->f, p->f ? strlen(p->f) : 0}
	STR(subject);
	STR(cn);
	STR(san_dns);
	STR(san_uri);
#undef STR
}

static struct peer_str str_of(struct ticket_str s)
{
	struct peer_str r = {s.n ? s.p : NULL, s.n};

	return r;
}

/* The peer as the ticket says (peer is zeroed). */
static void peer_of_blob(struct tls_peer *peer, const struct ticket_blob *b)
{
	peer->has_cert = b->has_cert;
	peer->ocsp_url = b->ocsp_url;
	peer->ocsp_state = b->ocsp_state;
	peer->checked_at = b->checked_at;
	peer->not_after = b->not_after;
	memcpy(peer->leaf_hash, b->leaf_hash, TICKET_HASH_SZ);
	memcpy(peer->issuer_hash, b->issuer_hash, TICKET_HASH_SZ);
	{
		struct peer_str s[4] = {str_of(b->subject), str_of(b->cn),
					str_of(b->san_dns), str_of(b->san_uri)};

		(void)peer_names(peer, s, b->serial, b->serial_len);
	}
	if (b->certid_len && (peer->certid = malloc(b->certid_len))) {
		memcpy(peer->certid, b->certid, b->certid_len);
		peer->certid_len = b->certid_len;
	}
	peer->resumed = 1;
}

static int ticket_seal(struct tls_ctx *t, const struct tls_peer *peer,
		       uint8_t *name, uint8_t *iv, uint8_t *mac,
		       uint8_t *ticket, int inLen, int *outLen)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = &tk->keys.key[0];
	size_t cap = (size_t)inLen + TICKET_ROOM, len;
	struct ticket_blob b;
	int bl, r;

	bl = -EINVAL;
	if (peer) {
		blob_of_peer(&b, peer);
		memcpy(b.trust, t->trust, TICKET_HASH_SZ);
		bl = ticket_blob_encode(&b, ticket + inLen,
					cap - (size_t)inLen - TRAILER_SZ - 15);
	}
	if (bl < 0 && peer) {
		/* a ticket with no blob: made, and refused at resumption */
		if (!tk->warned) {
			tk->warned = 1;
			log_event(LOG_WARN, "ticket_identity_too_big",
				  "listener_cert", t->cfg->cert, "detail",
				  "a client's names do not fit in a session "
				  "ticket; such clients do full handshakes",
				  NULL);
		}
	}
	if (bl < 0)
		bl = 0;
	len = ((size_t)inLen + (size_t)bl + TRAILER_SZ + 15) / 16 * 16;
	memset(ticket + inLen + bl, 0, len - (size_t)inLen - (size_t)bl);
	ticket[len - 4] = (uint8_t)(inLen >> 8);
	ticket[len - 3] = (uint8_t)inLen;
	ticket[len - 2] = (uint8_t)(bl >> 8);
	ticket[len - 1] = (uint8_t)bl;
	memcpy(name, k->name, TICKET_NAME_SZ);
	uv_mutex_lock(&tk->lock);
	r = wc_RNG_GenerateBlock(&tk->rng, iv, WOLFSSL_TICKET_IV_SZ);
	uv_mutex_unlock(&tk->lock);
	if (r || ticket_aes(k, iv, ticket, (int)len, 1) < 0 ||
	    ticket_mac(k, name, iv, ticket, (int)len, mac) < 0)
		return WOLFSSL_TICKET_RET_FATAL;
	*outLen = (int)len;
	return WOLFSSL_TICKET_RET_OK;
}

static void resume_drop(struct tls_io *io)
{
	if (io->resume) {
		tls_peer_clear(io->resume);
		free(io->resume);
		io->resume = NULL;
	}
}

/* Would this identity be refused by a full handshake now? */
static int ticket_stale(const struct tls_ctx *t, const struct tls_peer *live,
			const struct tls_peer *p, int64_t now)
{
	/* crl_expired: reject: a CRL past its nextUpdate vouches for no one */
	if (live->crl_reject_after && now > live->crl_reject_after)
		return 1;
	/* past the certificate's own end (a full handshake decides: it may
	 * be let in for renew_grace, which a ticket does not carry) */
	if (p->has_cert && p->not_after && now >= p->not_after)
		return 1;
	/* revoked since the ticket was made (by issuer and serial) */
	if (t->cfg->crl && tls_peer_crl_revoked(t, p))
		return 1;
	/* an OCSP check that did not pass, or that OCSP has since found
	 * revoked (by the leaf's CertID: issuer and serial) */
	if (live->ocsp_mode != CFG_OCSP_OFF && p->has_cert &&
	    (p->ocsp_state >= TLS_OCSP_UNAVAILABLE || !p->certid ||
	     (revoked_lookup && revoked_lookup(p->certid, p->certid_len))))
		return 1;
	return 0;
}

static int ticket_open(struct tls_ctx *t, struct tls_io *io,
		       const uint8_t *name, const uint8_t *iv,
		       const uint8_t *mac, uint8_t *ticket, int inLen,
		       int *outLen, int tls13)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = ticket_keys_find(&tk->keys, name);
	uint8_t want[WOLFSSL_TICKET_MAC_SZ];
	struct ticket_blob b;
	struct tls_peer *cand;
	const uint8_t *blob;
	size_t it_len, bl;
	int64_t now = (int64_t)time(NULL);

	/* One ticket per handshake: another one (a second PSK identity)
	 * is refused, the same one again (after a HelloRetryRequest) is
	 * opened again. */
	if (io->resume && !same_bytes(io->resume_mac, mac, sizeof(want)))
		return WOLFSSL_TICKET_RET_REJECT;
	resume_drop(io);
	if (!k || inLen < 16 || inLen % 16 ||
	    ticket_mac(k, name, iv, ticket, inLen, want) < 0 ||
	    !same_bytes(want, mac, sizeof(want)) ||
	    ticket_aes(k, iv, ticket, inLen, 0) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	if (ticket_plain_split(ticket, (size_t)inLen, &it_len, &blob, &bl) <
		0 ||
	    ticket_blob_decode(blob, bl, &b) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	/* made under the trust this listener has now, */
	if (!same_bytes(b.trust, t->trust, TICKET_HASH_SZ))
		return WOLFSSL_TICKET_RET_REJECT;
	/* and no older than the last revocation check allows */
	if (b.checked_at > now + TICKET_SKEW_S ||
	    now - b.checked_at > (int64_t)(t->cfg->ticket_lifetime_ms / 1000))
		return WOLFSSL_TICKET_RET_REJECT;
	if (!(cand = calloc(1, sizeof(*cand))))
		return WOLFSSL_TICKET_RET_REJECT;
	peer_of_blob(cand, &b);
	if (ticket_stale(t, io->peer, cand, now)) {
		tls_peer_clear(cand);
		free(cand);
		return WOLFSSL_TICKET_RET_REJECT;
	}
	io->resume = cand;
	memcpy(io->resume_mac, mac, sizeof(want));
	*outLen = (int)it_len;
	/* Under an older key, TLS 1.2 resumes and gets a ticket under the
	 * newest (CREATE); TLS 1.3 gets new tickets after every handshake,
	 * and CREATE would refuse the resumption there. */
	return k != &tk->keys.key[0] && !tls13 ? WOLFSSL_TICKET_RET_CREATE
					       : WOLFSSL_TICKET_RET_OK;
}

static int ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
		     unsigned char iv[WOLFSSL_TICKET_IV_SZ],
		     unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
		     unsigned char *ticket, int inLen, int *outLen,
		     void *userCtx)
{
	struct tls_ctx *t = userCtx;
	struct tls_io *io = wolfSSL_GetIOReadCtx(ssl);
	struct tls_peer *peer = io ? io->peer : NULL;

	if (!t->tickets || !peer)
		return WOLFSSL_TICKET_RET_FATAL;
	if (enc) {
		/* A resumed session's next ticket carries the identity of the
		 * ticket it resumed; without one (never: settle refuses such
		 * a session) a ticket with no blob, refused at resumption. */
		if (wolfSSL_session_reused(ssl))
			peer = io->resume;
		return ticket_seal(t, peer, name, iv, mac, ticket, inLen,
				   outLen);
	}
	return ticket_open(t, io, name, iv, mac, ticket, inLen, outLen,
			   wolfSSL_GetVersion(ssl) == WOLFSSL_TLSV1_3);
}

/* tls.ticket_keys, or the process's key. */
static int tickets_keys(struct tls_ctx *t, struct ticket_keys *k,
			char **errors)
{
	const struct cfg_tls *cfg = t->cfg;
	const char *why = NULL;
	size_t len = 0;
	char *buf;
	struct stat st;
	int r;

	if (!cfg->ticket_keys) {
		uv_once(&proc_key_once, proc_key_make);
		if (!proc_key_ok) {
			errtext_add(errors,
				    "%s:%d:%d: tls: cannot make a session "
				    "ticket key",
				    POSF(cfg->cert_pos));
			return -EINVAL;
		}
		k->key[0] = proc_key;
		k->n = 1;
		return 0;
	}
	buf = read_file(cfg->ticket_keys, &len);
	if (!buf) {
		why = strerror(errno);
		r = -EINVAL;
	} else {
		r = ticket_keys_parse((const uint8_t *)buf, len, k, &why);
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r < 0) {
		errtext_add(errors, "%s:%d:%d: tls.ticket_keys: %s: %s",
			    POSF(cfg->ticket_keys_pos), cfg->ticket_keys, why);
		return r;
	}
	if (stat(cfg->ticket_keys, &st) == 0 && (st.st_mode & 0077))
		log_event(LOG_WARN, "key_permissions", "file", cfg->ticket_keys,
			  "detail",
			  "readable or writable by group or others; chmod 600 "
			  "it",
			  NULL);
	return 0;
}

int tickets_init(struct tls_ctx *t, char **errors)
{
	struct tls_tickets *tk = calloc(1, sizeof(*tk));
	int r;

	if (!tk)
		return -ENOMEM;
	if ((r = tickets_keys(t, &tk->keys, errors)) < 0)
		goto fail_keys;
	if (wc_InitRng(&tk->rng) != 0) {
		r = -EIO;
		goto fail_keys;
	}
	uv_mutex_init(&tk->lock);
	t->tickets = tk;
	wolfSSL_CTX_set_TicketEncCtx(t->ctx, t);
	wolfSSL_CTX_set_TicketEncCb(t->ctx, ticket_cb);
	{
		unsigned life = (unsigned)(t->cfg->ticket_lifetime_ms / 1000);

		wolfSSL_CTX_set_TicketHint(t->ctx, (int)life);
		/* wolfSSL's own limit on a session's age (500 s by default)
		 * agrees with the tickets' lifetime */
		wolfSSL_CTX_set_timeout(t->ctx, life);
	}
	return 0;
fail_keys:
	explicit_bzero(tk, sizeof(*tk));
	free(tk);
	return r;
}

int tls_session_settle(WOLFSSL *ssl, struct tls_io *io)
{
	struct tls_peer *p = io->peer, *r = io->resume;

	io->resume = NULL;
	/* The ticket is written (TLS 1.3: waiting in the cork for the
	 * CONNACK): the session's copy of it is not needed again. With the
	 * bundled wolfSSL this frees it (scripts/build-wolfssl.sh, "static
	 * ticket"); elsewhere it only forgets its length. */
	wolfSSL_set_SessionTicket(ssl, NULL, 0);
	if (!wolfSSL_session_reused(ssl)) {
		/* a full handshake: the ticket, if any, meant nothing */
		if (r) {
			tls_peer_clear(r);
			free(r);
		}
		return 0;
	}
	if (!r) /* resumed, but not on a ticket moat vouched for */
		return -1;
	/* keep the session's settings, take the ticket's certificate */
	r->ocsp_mode = p->ocsp_mode;
	r->ocsp_override = p->ocsp_override;
	r->cm = p->cm;
	r->crl_on = p->crl_on;
	r->crl_reject_after = p->crl_reject_after;
	r->resumed = 1;
	tls_peer_clear(p);
	*p = *r;
	free(r);
	return 0;
}

static void trust_add(wc_Sha256 *h, const void *p, size_t n)
{
	uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16),
			  (uint8_t)(n >> 8), (uint8_t)n};

	wc_Sha256Update(h, len, sizeof(len));
	if (n)
		wc_Sha256Update(h, p, (word32)n);
}

static void trust_byte(wc_Sha256 *h, int v)
{
	uint8_t b = (uint8_t)v;

	trust_add(h, &b, 1);
}

void tickets_trust(struct tls_ctx *t, const struct cfg_listener *l)
{
	const struct cfg_tls *c = &l->tls;
	static const char tag[] = "moat ticket trust 1";
	wc_Sha256 h;
	size_t n = 0;
	char *ca = NULL;

	/* A CRL's contents are not in it: a new CRL from the same issuers
	 * leaves tickets valid, and each resumption is checked against the
	 * CRLs in force (by issuer and serial). */
	if (wc_InitSha256(&h) != 0) {
		memset(t->trust, 0xff, sizeof(t->trust));
		return;
	}
	trust_add(&h, tag, sizeof(tag));
	trust_add(&h, l->name, strlen(l->name));
	trust_byte(&h, c->verify_client);
	if (c->verify_client != CFG_VERIFY_NONE && c->client_ca &&
	    (ca = read_file(c->client_ca, &n)))
		trust_add(&h, ca, n);
	else
		trust_add(&h, "", 0);
	free(ca);
	trust_byte(&h, c->crl != NULL);
	trust_byte(&h, c->crl_expired);
	trust_byte(&h, t->info.n_crls);
	for (int i = 0; i < t->info.n_crls; i++)
		trust_add(&h, t->info.crl[i].issuer,
			  strlen(t->info.crl[i].issuer));
	trust_byte(&h, c->ocsp.mode);
	trust_byte(&h, c->ocsp.check);
	trust_byte(&h, l->mqtt.identity);
	trust_byte(&h, l->mqtt.client_id_must_match);
	trust_byte(&h, l->mqtt.username_from_cert);
	wc_Sha256Final(&h, t->trust);
	wc_Sha256Free(&h);
}

void tickets_free(struct tls_tickets *tk)
{
	if (!tk)
		return;
	wc_FreeRng(&tk->rng);
	uv_mutex_destroy(&tk->lock);
	explicit_bzero(tk, sizeof(*tk));
	free(tk);
}
void tls_tickets_describe(const struct tls_ctx *t, struct sbuf *o)
{
	const struct tls_tickets *tk = t->tickets;

	if (!tk) {
		sb_printf(o, "ticket_keys: -\n");
		return;
	}
	sb_printf(o, "ticket_keys: %s\nticket_key_count: %zu\nticket_key_names:",
		  t->cfg->ticket_keys ? t->cfg->ticket_keys
				      : "made at start (this process only)",
		  tk->keys.n);
	for (size_t i = 0; i < tk->keys.n; i++)
		sb_printf(o, " %02x%02x%02x%02x", tk->keys.key[i].name[0],
			  tk->keys.key[i].name[1], tk->keys.key[i].name[2],
			  tk->keys.key[i].name[3]);
	sb_printf(o, "\n");
}
#else
int tls_session_settle(WOLFSSL *ssl, struct tls_io *io)
{
	(void)io;
	return wolfSSL_session_reused(ssl) ? -1 : 0;
}

void tickets_trust(struct tls_ctx *t, const struct cfg_listener *l)
{
	(void)t;
	(void)l;
}

int tickets_init(struct tls_ctx *t, char **errors)
{
	(void)t;
	(void)errors;
	return 0;
}

void tickets_free(struct tls_tickets *tk)
{
	(void)tk;
}

void tls_tickets_describe(const struct tls_ctx *t, struct sbuf *o)
{
	(void)t;
	sb_printf(o, "ticket_keys: -\n");
}
#endif
