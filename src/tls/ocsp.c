/* ocsp.c - the OCSP answer cache and its fetches (see ocsp.h; the HTTP
 * exchange itself is http.c).
 * One entry per CertID: the last answer (DER, status, dates), at most one
 * fetch in flight, and the lookups waiting for it. Entries sit in a hash
 * table and an LRU list; a fetch in flight pins its entry.
 *
 * Threads: every worker looks up; one lock guards the whole cache (taken
 * per handshake lookup, never while forwarding). Fetches run on the main
 * worker's loop only: a worker that misses queues the entry for the main
 * (start_async). Waiters of the main are woken on it directly once the
 * lock is dropped; waiters of another worker are put on the ready list
 * and that worker's mailbox is signalled (ocsp_run_ready). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/histo.h"
#include "tls/ocsp.h"
#include "base/util.h"

#include "tls/ocsp_int.h"

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void lru_unlink(struct ocsp_cache *oc, struct ocsp_entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		oc->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		oc->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_front(struct ocsp_cache *oc, struct ocsp_entry *e)
{
	if (oc->lru_head == e)
		return;
	if (e->lprev || e->lnext || oc->lru_tail == e)
		lru_unlink(oc, e);
	e->lnext = oc->lru_head;
	if (oc->lru_head)
		oc->lru_head->lprev = e;
	oc->lru_head = e;
	if (!oc->lru_tail)
		oc->lru_tail = e;
}

static void entry_free(struct ocsp_cache *oc, struct ocsp_entry *e)
{
	struct ocsp_entry **pp = &oc->h[e->hash & ((1u << HBITS) - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(oc, e);
	oc->count--;
	free(e->key);
	free(e->url);
	free(e->resp);
	free(e->req);
	free(e);
}

/* Drop least recently used entries over the bound; an entry with a fetch
 * in flight or waiters stays. */
void ocsp_evict(struct ocsp_cache *oc)
{
	struct ocsp_entry *e = oc->lru_tail;

	while (oc->count > oc->max && e) {
		struct ocsp_entry *prev = e->lprev;

		if (!e->fetch && !e->queued && !e->waiters && !e->held) {
			entry_free(oc, e);
			oc->st.evicted++;
		}
		e = prev;
	}
}

static void on_start_async(uv_async_t *a);

struct ocsp_cache *ocsp_cache_new(uv_loop_t *loop)
{
	struct ocsp_cache *oc = calloc(1, sizeof(*oc));

	if (!oc)
		return NULL;
	oc->loop = loop;
	oc->max = 100000;
	uv_mutex_init(&oc->lock);
	uv_async_init(loop, &oc->start_async, on_start_async);
	oc->start_async.data = oc;
	uv_unref((uv_handle_t *)&oc->start_async);
	return oc;
}

/* Drop the lock, then do what had to wait for it (on the main thread
 * only: its waiters' wakes and the revocation hook, either of which may
 * close connections, which comes back here). */
void ocsp_unlock_run(struct ocsp_cache *oc)
{
	struct ocsp_waiter *w = oc->local;
	struct revoked_note *r = oc->revoked;

	oc->local = NULL;
	oc->revoked = NULL;
	uv_mutex_unlock(&oc->lock);
	while (r) {
		struct revoked_note *next = r->next;

		if (oc->revoked_hook)
			oc->revoked_hook(oc->revoked_arg, r->certid, r->len);
		free(r);
		r = next;
	}
	while (w) {
		struct ocsp_waiter *next = w->next;

		w->next = w->prev = NULL;
		w->wake(w);
		w = next;
	}
}

void ocsp_cache_set_size(struct ocsp_cache *oc, size_t max_entries)
{
	uv_mutex_lock(&oc->lock);
	oc->max = max_entries ? max_entries : 1;
	ocsp_evict(oc);
	uv_mutex_unlock(&oc->lock);
}

void ocsp_cache_stats(struct ocsp_cache *oc, struct ocsp_stats *out)
{
	uv_mutex_lock(&oc->lock);
	*out = oc->st;
	uv_mutex_unlock(&oc->lock);
}

size_t ocsp_cache_count(struct ocsp_cache *oc)
{
	size_t n;

	uv_mutex_lock(&oc->lock);
	n = oc->count;
	uv_mutex_unlock(&oc->lock);
	return n;
}

void ocsp_set_revoked_hook(struct ocsp_cache *oc,
			   void (*hook)(void *arg, const uint8_t *certid,
					size_t len),
			   void *arg)
{
	oc->revoked_hook = hook;
	oc->revoked_arg = arg;
}

const char *ocsp_status_name(int s)
{
	switch (s) {
	case OCSP_CS_GOOD:
		return "good";
	case OCSP_CS_REVOKED:
		return "revoked";
	case OCSP_CS_UNKNOWN:
		return "unknown";
	}
	return "none";
}

/* Wall-clock milliseconds. */
int64_t ocsp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ocsp_expires_ms(const struct ocsp_entry *e)
{
	if (e->ans.next_update)
		return e->ans.next_update * 1000;
	return e->fetched_at + e->max_age_ms;
}

static int fresh(const struct ocsp_entry *e)
{
	return e->have && ocsp_now_ms() < ocsp_expires_ms(e);
}

/* ---- waking ---- */

/* Waiter lists (an entry's, the ready list, the main's local list). */
static void wl_push(struct ocsp_waiter **head, struct ocsp_waiter *w)
{
	w->prev = NULL;
	w->next = *head;
	if (*head)
		(*head)->prev = w;
	*head = w;
}

static void wl_unlink(struct ocsp_waiter **head, struct ocsp_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->next = w->prev = NULL;
}

/* Lock held: the waiters leave the entry with their outcome; the main's
 * are woken by unlock_run, the others' by their worker (ocsp_run_ready). */
void ocsp_wake_all(struct ocsp_cache *oc, struct ocsp_entry *e,
		     enum ocsp_outcome out)
{
	struct ocsp_waiter *list = e->waiters;

	e->waiters = NULL;
	while (list) {
		struct ocsp_waiter *w = list;

		list = w->next;
		w->e = NULL;
		w->outcome = out;
		wl_push(w->owner ? &oc->ready : &oc->local, w);
		if (w->owner) {
			w->ready = 1;
			uv_async_send(w->owner);
		}
	}
}

void ocsp_run_ready(struct ocsp_cache *oc, uv_async_t *owner)
{
	struct ocsp_waiter *mine = NULL, *next;

	uv_mutex_lock(&oc->lock);
	for (struct ocsp_waiter *w = oc->ready; w; w = next) {
		next = w->next;
		if (w->owner != owner)
			continue;
		wl_unlink(&oc->ready, w);
		w->ready = 0;
		w->next = mine;
		mine = w;
	}
	uv_mutex_unlock(&oc->lock);
	while (mine) {
		struct ocsp_waiter *w = mine;

		mine = w->next;
		w->next = NULL;
		w->wake(w);
	}
}

static void cancel_locked(struct ocsp_cache *oc, struct ocsp_waiter *w)
{
	struct ocsp_entry *e = w->e;
	struct ocsp_waiter **head = e ? &e->waiters : w->ready ? &oc->ready
								 : NULL;

	if (!head)
		return;
	wl_unlink(head, w);
	w->e = NULL;
	w->ready = 0;
}

void ocsp_cancel(struct ocsp_cache *oc, struct ocsp_waiter *w)
{
	if (!oc || (!w->e && !w->ready))
		return;
	uv_mutex_lock(&oc->lock);
	cancel_locked(oc, w);
	uv_mutex_unlock(&oc->lock);
}

/* ---- lookups ---- */

static struct ocsp_entry *entry_get(struct ocsp_cache *oc,
				    const struct ocsp_certid *id,
				    const char *url, size_t url_len)
{
	uint32_t h = hash_bytes(id->der, id->len);
	struct ocsp_entry **b = &oc->h[h & ((1u << HBITS) - 1)], *e;

	for (e = *b; e; e = e->hnext)
		if (e->hash == h && e->key_len == id->len &&
		    !memcmp(e->key, id->der, id->len))
			break;
	if (e) {
		if (strlen(e->url) != url_len || memcmp(e->url, url, url_len)) {
			char *u = strndup(url, url_len);

			if (u) { /* a reload changed the responder */
				free(e->url);
				e->url = u;
			}
		}
		lru_front(oc, e);
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = malloc(id->len)) ||
	    !(e->url = strndup(url, url_len))) {
		if (e)
			free(e->key);
		free(e);
		return NULL;
	}
	memcpy(e->key, id->der, id->len);
	e->key_len = id->len;
	e->hash = h;
	for (size_t i = 0; i < id->serial_len && 2 * i + 2 < sizeof(e->serial);
	     i++)
		snprintf(e->serial + 2 * i, 3, "%02x", id->serial[i]);
	e->hnext = *b;
	*b = e;
	oc->count++;
	lru_front(oc, e);
	return e;
}

/* Lock held: fetch e now (on the main), or queue it for the main. */
static int fetch_or_queue(struct ocsp_cache *oc, struct ocsp_entry *e,
			  const uint8_t *req, size_t req_len,
			  const struct ocsp_opts *o, int on_main)
{
	uint8_t *r;

	if (on_main)
		return ocsp_fetch_start(oc, e, req, req_len, o) < 0 || !e->fetch
			       ? -1 /* failed at once, waiters already woken */
			       : 0;
	if (!e->req || e->req_len != req_len ||
	    memcmp(e->req, req, req_len) != 0) {
		if (!(r = malloc(req_len)))
			return -1;
		memcpy(r, req, req_len);
		free(e->req);
		e->req = r;
		e->req_len = req_len;
	}
	e->qopts = *o;
	e->queued = 1;
	e->qnext = oc->startq;
	oc->startq = e;
	uv_async_send(&oc->start_async);
	return 0;
}

/* On the main: start the fetches other workers asked for. */
static void on_start_async(uv_async_t *a)
{
	struct ocsp_cache *oc = a->data;
	struct ocsp_entry *q;

	uv_mutex_lock(&oc->lock);
	q = oc->startq;
	oc->startq = NULL;
	while (q) {
		struct ocsp_entry *e = q;

		q = e->qnext;
		e->qnext = NULL;
		e->queued = 0;
		if (!e->fetch && ocsp_fetch_start(oc, e, e->req, e->req_len,
					      &e->qopts) < 0)
			ocsp_wake_all(oc, e, OCSP_OUT_FAIL);
	}
	ocsp_unlock_run(oc);
}

static int lookup_locked(struct ocsp_cache *oc, const char *url,
			 size_t url_len, const uint8_t *req, size_t req_len,
			 const struct ocsp_opts *o, struct ocsp_waiter *w,
			 uint8_t **resp, size_t *resp_len)
{
	struct ocsp_certid id;
	struct ocsp_entry *e;
	int after_ok;

	if (w->e || w->ready) /* asked again while waiting */
		return OCSP_LK_WAIT;
	if (ocsp_req_certid(req, req_len, &id) < 0)
		return OCSP_LK_FAIL;
	e = entry_get(oc, &id, url, url_len);
	if (!e)
		return OCSP_LK_FAIL;
	after_ok = w->outcome == OCSP_OUT_OK;
	w->outcome = OCSP_OUT_NONE;
	if (!after_ok)
		oc->st.lookups++;
	/* Just fetched: hand over what came, even if already past its
	 * nextUpdate (wolfSSL then refuses it), rather than fetch again. */
	if (fresh(e) || (after_ok && e->have)) {
		if (!(*resp = malloc(e->resp_len)))
			return OCSP_LK_FAIL;
		memcpy(*resp, e->resp, e->resp_len);
		*resp_len = e->resp_len;
		if (!after_ok) {
			oc->st.hits++;
			e->hits++;
		}
		return OCSP_LK_ANSWER;
	}
	if (after_ok)
		return OCSP_LK_FAIL;
	if (e->fetch || e->queued) {
		oc->st.coalesced++;
	} else {
		oc->st.misses++;
		if (fetch_or_queue(oc, e, req, req_len, o, !w->owner) < 0)
			return OCSP_LK_FAIL;
	}
	w->e = e;
	wl_push(&e->waiters, w);
	return OCSP_LK_WAIT;
}

int ocsp_lookup(struct ocsp_cache *oc, const char *url, size_t url_len,
		const uint8_t *req, size_t req_len, const struct ocsp_opts *o,
		struct ocsp_waiter *w, uint8_t **resp, size_t *resp_len)
{
	int r;

	uv_mutex_lock(&oc->lock);
	r = lookup_locked(oc, url, url_len, req, req_len, o, w, resp,
			  resp_len);
	if (w->owner)
		uv_mutex_unlock(&oc->lock);
	else
		ocsp_unlock_run(oc);
	return r;
}

static struct ocsp_entry *entry_find(struct ocsp_cache *oc,
				     const uint8_t *req, size_t req_len)
{
	struct ocsp_certid id;
	uint32_t h;

	if (ocsp_req_certid(req, req_len, &id) < 0)
		return NULL;
	h = hash_bytes(id.der, id.len);
	for (struct ocsp_entry *e = oc->h[h & ((1u << HBITS) - 1)]; e;
	     e = e->hnext)
		if (e->hash == h && e->key_len == id.len &&
		    !memcmp(e->key, id.der, id.len))
			return e;
	return NULL;
}

struct ocsp_entry *ocsp_hold(struct ocsp_cache *oc, const uint8_t *req,
			     size_t req_len)
{
	struct ocsp_entry *e;

	uv_mutex_lock(&oc->lock);
	e = entry_find(oc, req, req_len);
	if (e)
		e->held++;
	uv_mutex_unlock(&oc->lock);
	return e;
}

void ocsp_release(struct ocsp_cache *oc, struct ocsp_entry *e)
{
	if (!e)
		return;
	uv_mutex_lock(&oc->lock);
	if (e->held && --e->held == 0)
		ocsp_evict(oc);
	uv_mutex_unlock(&oc->lock);
}

uint8_t *ocsp_copy_good(struct ocsp_cache *oc, const uint8_t *req,
			size_t req_len, size_t *len)
{
	struct ocsp_entry *e;
	uint8_t *copy = NULL;

	uv_mutex_lock(&oc->lock);
	e = entry_find(oc, req, req_len);
	if (e && fresh(e) && e->ans.cert_status == OCSP_CS_GOOD &&
	    e->ans.this_update * 1000 <= ocsp_now_ms() + 60000 &&
	    (copy = malloc(e->resp_len))) {
		memcpy(copy, e->resp, e->resp_len);
		*len = e->resp_len;
	}
	uv_mutex_unlock(&oc->lock);
	return copy;
}

int ocsp_peek(struct ocsp_cache *oc, const uint8_t *req, size_t req_len,
	      struct ocsp_answer *a)
{
	struct ocsp_entry *e;
	int r = -1;

	memset(a, 0, sizeof(*a));
	a->cert_status = -1;
	uv_mutex_lock(&oc->lock);
	e = entry_find(oc, req, req_len);
	if (e && e->have) {
		*a = e->ans;
		r = fresh(e);
	}
	uv_mutex_unlock(&oc->lock);
	return r;
}

/* num/den of the way from the answer to its expiry. */
static int due(const struct ocsp_entry *e, int num, int den)
{
	int64_t from = e->ans.next_update ? e->ans.this_update * 1000
					  : e->fetched_at;
	int64_t to = ocsp_expires_ms(e);

	return !e->have || ocsp_now_ms() >= from + (to - from) * num / den;
}

static void refresh(struct ocsp_cache *oc, struct ocsp_entry *e,
		    const uint8_t *req, size_t req_len,
		    const struct ocsp_opts *o, int num, int den)
{
	int64_t now = ocsp_now_ms();

	if (e->fetch || e->queued || !due(e, num, den) ||
	    now - e->last_try_ms < 10000)
		return;
	e->last_try_ms = now;
	oc->st.refreshed++;
	ocsp_fetch_start(oc, e, req, req_len, o);
}

void ocsp_prefetch(struct ocsp_cache *oc, const char *url, const uint8_t *req,
		   size_t req_len, const struct ocsp_opts *o)
{
	struct ocsp_certid id;
	struct ocsp_entry *e;

	if (ocsp_req_certid(req, req_len, &id) < 0)
		return;
	uv_mutex_lock(&oc->lock);
	e = entry_get(oc, &id, url, strlen(url));
	if (e) /* a staple: halfway through its validity */
		refresh(oc, e, req, req_len, o, 1, 2);
	ocsp_unlock_run(oc);
}

void ocsp_tick(struct ocsp_cache *oc, const struct ocsp_opts *o, int max)
{
	uv_mutex_lock(&oc->lock);
	for (struct ocsp_entry *e = oc->lru_head; e && max > 0; e = e->lnext) {
		if (!e->held || !e->req || e->fetch || e->queued ||
		    !due(e, 3, 4))
			continue;
		if (ocsp_now_ms() - e->last_try_ms < 10000)
			continue;
		refresh(oc, e, e->req, e->req_len, o, 3, 4);
		max--;
	}
	ocsp_unlock_run(oc);
}

static void on_cache_closed(uv_handle_t *h)
{
	struct ocsp_cache *oc = h->data;

	uv_mutex_destroy(&oc->lock);
	free(oc);
}

void ocsp_cache_free(struct ocsp_cache *oc)
{
	if (!oc)
		return;
	while (oc->lru_head) {
		struct ocsp_entry *e = oc->lru_head;

		if (e->fetch) { /* its answer would find no cache */
			ocsp_fetch_abort(e->fetch);
			e->fetch = NULL;
		}
		while (e->waiters)
			cancel_locked(oc, e->waiters);
		entry_free(oc, e);
	}
	while (oc->ready)
		cancel_locked(oc, oc->ready);
	oc->local = NULL;
	while (oc->revoked) {
		struct revoked_note *r = oc->revoked;

		oc->revoked = r->next;
		free(r);
	}
	uv_close((uv_handle_t *)&oc->start_async, on_cache_closed);
}

int ocsp_cache_says_revoked(struct ocsp_cache *oc, const uint8_t *certid,
			    size_t len)
{
	uint32_t h = hash_bytes(certid, len);
	int r = 0;

	uv_mutex_lock(&oc->lock);
	for (const struct ocsp_entry *e = oc->h[h & ((1u << HBITS) - 1)]; e;
	     e = e->hnext)
		if (e->hash == h && e->key_len == len &&
		    !memcmp(e->key, certid, len)) {
			r = e->have && e->ans.cert_status == OCSP_CS_REVOKED;
			break;
		}
	uv_mutex_unlock(&oc->lock);
	return r;
}

/* ---- show ocsp ---- */

static void time_str(int64_t v, char buf[32])
{
	struct tm tm;
	time_t t = (time_t)v;

	if (!v || !gmtime_r(&t, &tm) ||
	    !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "-");
}

char *ocsp_show(struct ocsp_cache *oc, const char *serial)
{
	size_t cap, len = 0;
	char *out;

	uv_mutex_lock(&oc->lock);
	cap = 256 + oc->count * 200;
	out = malloc(cap);
	if (!out) {
		uv_mutex_unlock(&oc->lock);
		return NULL;
	}
	len += (size_t)snprintf(out, cap,
				"# serial status this_update next_update "
				"fetched hits url\n");
	for (const struct ocsp_entry *e = oc->lru_head; e; e = e->lnext) {
		char tu[32], nu[32], fa[32];

		if (serial && strcasecmp(serial, e->serial) != 0)
			continue;
		time_str(e->have ? e->ans.this_update : 0, tu);
		time_str(e->have ? e->ans.next_update : 0, nu);
		time_str(e->have ? e->fetched_at / 1000 : 0, fa);
		if (len + 512 + strlen(e->url) > cap) {
			char *n;

			cap = cap * 2 + 512 + strlen(e->url);
			n = realloc(out, cap);
			if (!n)
				break;
			out = n;
		}
		len += (size_t)snprintf(
			out + len, cap - len, "%s %s %s %s %s %llu %s\n",
			e->serial,
			e->have ? ocsp_status_name(e->ans.cert_status)
			: e->fetch ? "pending"
				   : "error",
			tu, nu, fa, (unsigned long long)e->hits, e->url);
	}
	uv_mutex_unlock(&oc->lock);
	return out;
}
