/* jwks_url.h - a JWK Set fetched over HTTP(S) (mqtt.token.jwks_url). A
 * source is made with its generation and holds the set in force; a
 * fetcher on the main loop refreshes it every jwks_refresh. A set that
 * arrives and parses replaces the old one whole; a failed fetch keeps it.
 * Workers read the set through jwks_src_get, under a short lock. */
#ifndef MOAT_JWKS_URL_H
#define MOAT_JWKS_URL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/jwk.h"
#include "config/config.h"

/* After a failed fetch the next one comes after jwks_refresh or this,
 * whichever is sooner. */
#define JWKS_RETRY_MS 30000

struct WOLFSSL_CTX;

struct jwks_src {
	int refs;	  /* atomic: the generations holding it */
	uv_mutex_t lock;  /* guards set */
	struct jwks *set; /* the last good set (one reference), or NULL */
	/* what to fetch, fixed when made */
	char *url; /* owned */
	char host[256], port[8];
	char *request; /* the HTTP request, owned */
	size_t request_len;
	struct WOLFSSL_CTX *ctx; /* https: owned; NULL for http */
	uint64_t refresh_ms, timeout_ms;
	/* The fetch record: written by the fetcher and read by show and
	 * metrics, all on the main thread. */
	uint64_t fetch_ok, fetch_errors;
	int64_t last_fetch; /* epoch seconds of the last result, 0 = none */
	int last_ok;
	char last_detail[200];
	int64_t next_fetch; /* epoch seconds, 0 = none planned */
};

/* A source for t->jwks_url (and t->jwks_ca): the URL checked, the TLS
 * context made. No network. -EINVAL or -ENOMEM with msg ("KEY: what"). */
int jwks_src_new(const struct cfg_token *t, struct jwks_src **out, char *msg,
		 size_t msglen);

/* Any thread. */
void jwks_src_put(struct jwks_src *s);
/* A reference to the set in force, or NULL before the first good fetch. */
struct jwks *jwks_src_get(struct jwks_src *s);

/* On a reload: s starts with old's set (kept until s fetches one of its
 * own); when both fetch the same URL it also takes old's fetch record. */
void jwks_src_inherit(struct jwks_src *s, struct jwks_src *old);

/* When to fetch again: after jwks_refresh when the last fetch worked,
 * else after jwks_refresh or JWKS_RETRY_MS, whichever is sooner. */
uint64_t jwks_src_next_delay(const struct jwks_src *s);

/* The fetcher of one source, on loop (main thread). Its timer does not
 * keep the loop alive. listener names it in logs. */
struct jwks_fetcher;
struct jwks_fetcher *jwks_fetcher_new(uv_loop_t *loop, struct jwks_src *src,
				      const char *listener);
/* Fetch after delay_ms (0: now), then every refresh. */
void jwks_fetcher_start(struct jwks_fetcher *f, uint64_t delay_ms);
/* Abort a fetch in flight; freed once its timer has closed. */
void jwks_fetcher_free(struct jwks_fetcher *f);

/* One fetch now, waited for on a loop of its own (bounded by the
 * source's timeout): at start, before anything is served. 0 when the
 * source has a set afterwards. */
int jwks_src_fetch_now(struct jwks_src *s, const char *listener);

#endif
