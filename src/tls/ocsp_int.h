/* ocsp_int.h - the OCSP cache's insides, shared by ocsp.c (entries,
 * lookups, waiters) and ocsp_fetch.c (asking the responder) only. */
#ifndef MOAT_OCSP_INT_H
#define MOAT_OCSP_INT_H

#include <stdint.h>
#include <uv.h>

#include "tls/ocsp.h"

#define OCSP_MAX_RESPONSE 65536  /* a bigger answer is an error */
#define OCSP_GET_MAX 255         /* RFC 5019: GET under 255 bytes */
#define HBITS 16

struct ocsp_fetch;

struct ocsp_entry {
	struct ocsp_entry *hnext;
	struct ocsp_entry *lprev, *lnext; /* LRU: head = most recent */
	uint32_t hash;
	uint8_t *key; /* CertID DER */
	size_t key_len;
	char serial[84]; /* hex, truncated for absurd serials */
	char *url;
	uint8_t *resp; /* last well-formed successful answer */
	size_t resp_len;
	struct ocsp_answer ans;
	int have;                /* resp/ans valid */
	int64_t fetched_at;      /* wall clock of the last answer */
	int64_t max_age_ms;      /* for an answer without nextUpdate */
	uint64_t hits;
	uint32_t held;            /* connections it let in, still open */
	int64_t last_try_ms;      /* of a fetch not asked for by a handshake */
	uint8_t *req;             /* the request, for refreshes */
	size_t req_len;
	int queued;               /* on the start queue (another worker) */
	struct ocsp_entry *qnext;
	struct ocsp_opts qopts;
	struct ocsp_fetch *fetch; /* in flight */
	struct ocsp_waiter *waiters;
};

struct revoked_note {
	struct revoked_note *next;
	size_t len;
	uint8_t certid[]; /* the entry's key */
};

struct ocsp_cache {
	uv_loop_t *loop;
	uv_mutex_t lock;
	uv_async_t start_async;       /* the main: fetches asked by workers */
	struct ocsp_entry *startq;
	struct ocsp_waiter *local;    /* the main's waiters to wake */
	struct ocsp_waiter *ready;    /* other workers' waiters to wake */
	struct revoked_note *revoked; /* hooks to call */
	struct ocsp_entry *h[1u << HBITS];
	struct ocsp_entry *lru_head, *lru_tail;
	size_t count, max;
	struct ocsp_stats st;
	void (*revoked_hook)(void *arg, const uint8_t *certid, size_t len);
	void *revoked_arg;
};

struct ocsp_fetch {
	struct ocsp_cache *oc;
	struct ocsp_entry *e;
	struct ocsp_opts opts;
	struct http_req *http;
	uint64_t t0_ns;
};

int64_t ocsp_now_ms(void);
/* When e's answer stops being fresh (nextUpdate, or fetched + max_age). */
int64_t ocsp_expires_ms(const struct ocsp_entry *e);
/* Lock held: wake e's waiters with `out`. */
void ocsp_wake_all(struct ocsp_cache *oc, struct ocsp_entry *e,
		   enum ocsp_outcome out);
/* Lock held: drop least recently used entries over the bound. */
void ocsp_evict(struct ocsp_cache *oc);
/* Drop the lock, then wake the main's waiters and call the hooks. */
void ocsp_unlock_run(struct ocsp_cache *oc);
/* Lock held: fetch e now; -1 when it cannot even start. */
int ocsp_fetch_start(struct ocsp_cache *oc, struct ocsp_entry *e,
		     const uint8_t *req, size_t req_len,
		     const struct ocsp_opts *o);
/* The cache goes away: stop f without a word to anyone, free it. */
void ocsp_fetch_abort(struct ocsp_fetch *f);

#endif
