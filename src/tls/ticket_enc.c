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

#include "base/log.h"
#include "base/sbuf.h"
#include "tls/ticket.h"
#include "tls/tls.h"
#include "tls/tls_int.h"

static int (*revoked_lookup)(const char *serial);

void tls_set_revoked_lookup(int (*fn)(const char *serial))
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
 * vouch for (unknown key, bad MAC, no blob, revoked since, older than
 * TICKET_LIFETIME_S since its revocation check) is refused, and the client
 * does a full handshake: never a resumption without identity. */

#define TICKET_LIFETIME_S 3600
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
	n = hex_to_bytes(p->serial, b->serial, sizeof(b->serial));
	b->serial_len = n > 0 ? (size_t)n : 0;
#define STR(f) b->f = (struct ticket_str){p->f, p->f ? strlen(p->f) : 0}
	STR(subject);
	STR(cn);
	STR(san_dns);
	STR(san_uri);
#undef STR
}

static char *str_of(struct ticket_str s)
{
	return s.n ? dup_n(s.p, s.n) : NULL;
}

/* The peer as the ticket says, keeping what the session set up. */
static void peer_of_blob(struct tls_peer *peer, const struct ticket_blob *b)
{
	peer_reset(peer);
	peer->has_cert = b->has_cert;
	peer->ocsp_url = b->ocsp_url;
	peer->ocsp_state = b->ocsp_state;
	peer->checked_at = b->checked_at;
	peer->not_after = b->not_after;
	memcpy(peer->leaf_hash, b->leaf_hash, TICKET_HASH_SZ);
	memcpy(peer->issuer_hash, b->issuer_hash, TICKET_HASH_SZ);
	peer->subject = str_of(b->subject);
	peer->cn = str_of(b->cn);
	peer->san_dns = str_of(b->san_dns);
	peer->san_uri = str_of(b->san_uri);
	if (b->serial_len && (peer->serial = malloc(b->serial_len * 2 + 1))) {
		for (size_t i = 0; i < b->serial_len; i++)
			snprintf(peer->serial + 2 * i, 3, "%02x", b->serial[i]);
		peer->serial[b->serial_len * 2] = '\0';
	}
	peer->resumed = 1;
}

static int ticket_seal(struct tls_ctx *t, struct tls_peer *peer,
		       uint8_t *name, uint8_t *iv, uint8_t *mac,
		       uint8_t *ticket, int inLen, int *outLen)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = &tk->keys.key[0];
	size_t cap = (size_t)inLen + TICKET_ROOM, len;
	struct ticket_blob b;
	int bl, r;

	blob_of_peer(&b, peer);
	bl = ticket_blob_encode(&b, ticket + inLen,
				cap - (size_t)inLen - TRAILER_SZ - 15);
	if (bl < 0) {
		/* a ticket with no blob: made, and refused at resumption */
		if (!tk->warned) {
			tk->warned = 1;
			log_event(LOG_WARN, "ticket_identity_too_big",
				  "listener_cert", t->cfg->cert, "detail",
				  "a client's names do not fit in a session "
				  "ticket; such clients do full handshakes",
				  NULL);
		}
		bl = 0;
	}
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

static int ticket_open(struct tls_ctx *t, struct tls_peer *peer,
		       const uint8_t *name, const uint8_t *iv,
		       const uint8_t *mac, uint8_t *ticket, int inLen,
		       int *outLen, int tls13)
{
	struct tls_tickets *tk = t->tickets;
	const struct ticket_key *k = ticket_keys_find(&tk->keys, name);
	uint8_t want[WOLFSSL_TICKET_MAC_SZ];
	struct ticket_blob b;
	size_t it_len, bl;
	int64_t now = (int64_t)time(NULL);

	if (!k || inLen < 16 || inLen % 16 ||
	    ticket_mac(k, name, iv, ticket, inLen, want) < 0 ||
	    !same_bytes(want, mac, sizeof(want)) ||
	    ticket_aes(k, iv, ticket, inLen, 0) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	it_len = ((size_t)ticket[inLen - 4] << 8) | ticket[inLen - 3];
	bl = ((size_t)ticket[inLen - 2] << 8) | ticket[inLen - 1];
	if (!bl || it_len + bl + TRAILER_SZ > (size_t)inLen ||
	    ticket_blob_decode(ticket + it_len, bl, &b) < 0)
		return WOLFSSL_TICKET_RET_REJECT;
	/* trust no older than the last revocation check allows */
	if (b.checked_at > now + TICKET_SKEW_S ||
	    now - b.checked_at > TICKET_LIFETIME_S)
		return WOLFSSL_TICKET_RET_REJECT;
	/* nor past the certificate's own end: a full handshake decides */
	if (b.has_cert && b.not_after && now >= b.not_after)
		return WOLFSSL_TICKET_RET_REJECT;
	peer_of_blob(peer, &b);
	/* A certificate revoked since the ticket was made does not resume, */
	if (t->cfg->crl && tls_peer_crl_revoked(t, peer))
		goto refuse;
	/* nor one whose OCSP check did not pass, or that OCSP has since
	 * found revoked. */
	if (peer->ocsp_mode != CFG_OCSP_OFF &&
	    (peer->ocsp_state >= TLS_OCSP_UNAVAILABLE ||
	     (revoked_lookup && peer->serial && revoked_lookup(peer->serial))))
		goto refuse;
	*outLen = (int)it_len;
	/* Under an older key, TLS 1.2 resumes and gets a ticket under the
	 * newest (CREATE); TLS 1.3 gets new tickets after every handshake,
	 * and CREATE would refuse the resumption there. */
	return k != &tk->keys.key[0] && !tls13 ? WOLFSSL_TICKET_RET_CREATE
					       : WOLFSSL_TICKET_RET_OK;
refuse:
	peer_reset(peer);
	return WOLFSSL_TICKET_RET_REJECT;
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
	if (enc)
		return ticket_seal(t, peer, name, iv, mac, ticket, inLen,
				   outLen);
	return ticket_open(t, peer, name, iv, mac, ticket, inLen, outLen,
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
	wolfSSL_CTX_set_TicketHint(t->ctx, TICKET_LIFETIME_S);
	return 0;
fail_keys:
	explicit_bzero(tk, sizeof(*tk));
	free(tk);
	return r;
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
