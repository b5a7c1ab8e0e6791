/* ocsp.h - OCSP answers for client certificates: one cache per process,
 * shared by every listener and kept across reloads, keyed by the request's
 * CertID. A lookup either has a fresh answer at once or joins the one
 * request in flight for that certificate (coalescing: a reconnect storm of
 * one certificate sends one request). Requests go over HTTP (GET when the
 * encoded request is small, else POST) on the event loop, never blocking.
 * Answers are kept until their nextUpdate (max_age when they have none),
 * least recently used out past the size bound. */
#ifndef MOAT_OCSP_H
#define MOAT_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/histo.h"
#include "config/config.h"
#include "codec/der.h"

struct ocsp_cache;
struct ocsp_entry;

/* How a waiting lookup ended. */
enum ocsp_outcome {
	OCSP_OUT_NONE,  /* not waiting, or still waiting */
	OCSP_OUT_OK,    /* a fresh answer is in the cache: look up again */
	OCSP_OUT_FAIL,  /* responder unreachable, slow, or a bad answer */
	OCSP_OUT_STALE, /* as FAIL, but a "good" within stale_if_error exists */
};

/* Embedded in whoever waits (a connection). wake() is called once, on
 * the waiter's own loop, with outcome set; w is detached before. owner:
 * NULL on the main worker (the loop the cache fetches on); else the
 * async handle of the waiter's worker, which is signalled and which then
 * calls ocsp_run_ready. */
struct ocsp_waiter {
	struct ocsp_waiter *next, *prev;
	struct ocsp_entry *e; /* non-NULL while queued on an entry */
	int ready;            /* on the ready list, not yet woken */
	enum ocsp_outcome outcome;
	void (*wake)(struct ocsp_waiter *w);
	uv_async_t *owner;
};

struct ocsp_stats {
	uint64_t lookups, hits, misses, coalesced, requests, errors, stale;
	uint64_t good, revoked, unknown; /* answers received, by status */
	uint64_t refreshed, evicted;
	struct histo latency; /* request sent -> answer in (or failure) */
};

struct ocsp_opts {
	uint64_t timeout_ms;
	uint64_t stale_ms; /* stale_if_error */
	uint64_t max_age_ms; /* how long an answer without nextUpdate lasts */
};

/* loop: the main worker's; every fetch runs on it. Lookups may come from
 * any worker's thread. */
struct ocsp_cache *ocsp_cache_new(uv_loop_t *loop);
/* Cancels fetches; handles close on the loop (run it once more). Every
 * other worker must be gone. */
void ocsp_cache_free(struct ocsp_cache *oc);
void ocsp_cache_set_size(struct ocsp_cache *oc, size_t max_entries);
void ocsp_cache_stats(struct ocsp_cache *oc, struct ocsp_stats *out);
size_t ocsp_cache_count(struct ocsp_cache *oc);

enum { OCSP_LK_ANSWER, OCSP_LK_WAIT, OCSP_LK_FAIL };

/* Look up the answer to req (a DER OCSPRequest) at url. ANSWER: *resp
 * (malloc'd, the caller frees it) and *resp_len hold a copy of the cached
 * DER response. WAIT: w was queued (or already was). FAIL: the request
 * cannot be made (bad URL or request). */
int ocsp_lookup(struct ocsp_cache *oc, const char *url, size_t url_len,
		const uint8_t *req, size_t req_len, const struct ocsp_opts *o,
		struct ocsp_waiter *w, uint8_t **resp, size_t *resp_len);

/* Leave the queue (a connection closing while it waits). */
void ocsp_cancel(struct ocsp_cache *oc, struct ocsp_waiter *w);

/* In a worker other than the main, when owner is signalled: wake its
 * waiters whose answer came. */
void ocsp_run_ready(struct ocsp_cache *oc, uv_async_t *owner);

/* The entry of req, held while a connection it let in is open: held
 * entries are not evicted and are refreshed before they expire (see
 * ocsp_tick). NULL when the cache has no entry for req. */
struct ocsp_entry *ocsp_hold(struct ocsp_cache *oc, const uint8_t *req,
			     size_t req_len);
void ocsp_release(struct ocsp_cache *oc, struct ocsp_entry *e);

/* A copy (malloc'd) of the cached answer for req if it is GOOD and not
 * expired, else NULL (never a stale or non-good one: for stapling). */
uint8_t *ocsp_copy_good(struct ocsp_cache *oc, const uint8_t *req,
			size_t req_len, size_t *len);

/* The cached answer for req, whatever its status: 1 when it is still
 * fresh, 0 when past its nextUpdate (or max_age), -1 when the cache has
 * none (a is then zeroed). For `show tls` on the staple. */
int ocsp_peek(struct ocsp_cache *oc, const uint8_t *req, size_t req_len,
	      struct ocsp_answer *a);

/* Keep req's answer fresh without anyone waiting: fetch it when the cache
 * has none, or when half of its validity has passed (at most one attempt
 * per entry every 10 s). For the proxy's own staple. */
void ocsp_prefetch(struct ocsp_cache *oc, const char *url, const uint8_t *req,
		   size_t req_len, const struct ocsp_opts *o);

/* Once a second: refresh held entries past three quarters of their
 * validity (so a live session's certificate is rechecked), at most `max`
 * fetches per call. */
void ocsp_tick(struct ocsp_cache *oc, const struct ocsp_opts *o, int max);

/* Called when a fetched answer for the certificate of this CertID (DER:
 * issuer name and key hashes, serial) says REVOKED where the cache said
 * GOOD before (or said nothing): live sessions of that certificate must
 * go. Set once by main. */
void ocsp_set_revoked_hook(struct ocsp_cache *oc,
			   void (*hook)(void *arg, const uint8_t *certid,
					size_t len),
			   void *arg);

/* 1 when the cached answer for this CertID (DER) says revoked: one hash
 * lookup, never a walk over the cache. */
int ocsp_cache_says_revoked(struct ocsp_cache *oc, const uint8_t *certid,
			    size_t len);

/* Answers for `show ocsp [SERIAL]`: one line each into out (malloc'd). */
char *ocsp_show(struct ocsp_cache *oc, const char *serial);

/* "good" "revoked" "unknown" */
const char *ocsp_status_name(int cert_status);

#endif
