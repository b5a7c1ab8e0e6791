/* ocsp.c - the OCSP answer cache and its HTTP fetcher (see ocsp.h).
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
#include "ops/metrics.h"
#include "tls/ocsp.h"
#include "base/util.h"

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
	char serial[84];
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
	void (*revoked_hook)(void *arg, const char *serial);
	void *revoked_arg;
};

struct ocsp_fetch {
	struct ocsp_cache *oc;
	struct ocsp_entry *e; /* NULL once detached (cache freed) */
	struct ocsp_opts opts;
	uv_getaddrinfo_t gai;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	uv_timer_t timer;
	int handles; /* open libuv handles */
	int gai_busy, done;
	char host[256], port[8];
	char *out; /* the HTTP request */
	size_t out_len;
	uint8_t *in;
	size_t in_len;
	uint64_t t0_ns;
};

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
static void evict(struct ocsp_cache *oc)
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
static void unlock_run(struct ocsp_cache *oc)
{
	struct ocsp_waiter *w = oc->local;
	struct revoked_note *r = oc->revoked;

	oc->local = NULL;
	oc->revoked = NULL;
	uv_mutex_unlock(&oc->lock);
	while (r) {
		struct revoked_note *next = r->next;

		if (oc->revoked_hook)
			oc->revoked_hook(oc->revoked_arg, r->serial);
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
	evict(oc);
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
			   void (*hook)(void *arg, const char *serial),
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
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t expires_ms(const struct ocsp_entry *e)
{
	if (e->ans.next_update)
		return e->ans.next_update * 1000;
	return e->fetched_at + e->max_age_ms;
}

static int fresh(const struct ocsp_entry *e)
{
	return e->have && now_ms() < expires_ms(e);
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
static void wake_all(struct ocsp_cache *oc, struct ocsp_entry *e,
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

/* ---- HTTP ---- */

static void fetch_unref(struct ocsp_fetch *f)
{
	if (--f->handles > 0 || f->gai_busy)
		return;
	free(f->out);
	free(f->in);
	free(f);
}

static void on_fetch_close(uv_handle_t *h)
{
	fetch_unref(h->data);
}

static void log_fetch(const struct ocsp_entry *e, const char *result,
		      const char *detail)
{
	log_event(result[0] == 'o' ? LOG_DEBUG : LOG_WARN, "ocsp_fetch",
		  "serial", e->serial, "url", e->url, "result", result,
		  "detail", detail, NULL);
}

/* Lock held. The fetch is over: record the answer or the failure, wake the waiters,
 * close the handles. resp is the HTTP body (NULL on failure). */
static void fetch_done_locked(struct ocsp_fetch *f, const uint8_t *resp,
		       size_t len, const char *why)
{
	struct ocsp_cache *oc = f->oc;
	struct ocsp_entry *e = f->e;
	struct ocsp_answer a;
	struct ocsp_certid id;

	if (f->done)
		return;
	f->done = 1;
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->timer, on_fetch_close);
	if (f->handles > 1 && !uv_is_closing((uv_handle_t *)&f->tcp))
		uv_close((uv_handle_t *)&f->tcp, on_fetch_close);
	if (!e)
		return;
	e->fetch = NULL;
	f->e = NULL;
	histo_observe(&oc->st.latency, (double)(uv_hrtime() - f->t0_ns) / 1e9);
	id.der = e->key;
	id.len = e->key_len;
	id.serial = NULL;
	id.serial_len = 0;
	if (resp && ocsp_resp_parse(resp, len, &id, &a) == 0 &&
	    a.response_status == 0) {
		uint8_t *copy = malloc(len);
		int was_revoked = e->have && e->ans.cert_status == OCSP_CS_REVOKED;

		if (copy) {
			memcpy(copy, resp, len);
			free(e->resp);
			e->resp = copy;
			e->resp_len = len;
			e->ans = a;
			e->have = 1;
			e->fetched_at = now_ms();
			e->max_age_ms = (int64_t)f->opts.max_age_ms;
			if (a.cert_status == OCSP_CS_GOOD)
				oc->st.good++;
			else if (a.cert_status == OCSP_CS_REVOKED)
				oc->st.revoked++;
			else
				oc->st.unknown++;
			log_fetch(e, "ok", ocsp_status_name(a.cert_status));
			if (a.cert_status == OCSP_CS_REVOKED && !was_revoked) {
				struct revoked_note *r = calloc(1, sizeof(*r));

				if (r) {
					memcpy(r->serial, e->serial,
					       sizeof(r->serial));
					r->next = oc->revoked;
					oc->revoked = r;
				}
			}
			wake_all(oc, e, OCSP_OUT_OK);
			evict(oc);
			return;
		}
		why = "out of memory";
	} else if (resp) {
		why = "not a successful OCSP response for this certificate";
	}
	oc->st.errors++;
	log_fetch(e, "error", why);
	{
		enum ocsp_outcome out = OCSP_OUT_FAIL;

		if (e->have && e->ans.cert_status == OCSP_CS_GOOD &&
		    now_ms() < expires_ms(e) + (int64_t)f->opts.stale_ms)
			out = OCSP_OUT_STALE;
		wake_all(oc, e, out);
	}
	evict(oc);
}

static void fetch_done(struct ocsp_fetch *f, const uint8_t *resp,
		       size_t len, const char *why)
{
	struct ocsp_cache *oc = f->oc;

	uv_mutex_lock(&oc->lock);
	fetch_done_locked(f, resp, len, why);
	unlock_run(oc);
}

static void on_fetch_timeout(uv_timer_t *t)
{
	fetch_done(t->data, NULL, 0, "timeout");
}

/* A complete HTTP/1.x response in f->in? Returns 1 and the body when the
 * status is 200 and the body is complete (Content-Length, or at EOF). */
static int http_body(struct ocsp_fetch *f, int eof, const uint8_t **body,
		     size_t *blen, const char **why)
{
	const char *p = (const char *)f->in, *hend = NULL;
	size_t clen = (size_t)-1;

	for (size_t i = 0; i + 3 < f->in_len; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4)) {
			hend = p + i + 4;
			break;
		}
	if (!hend) {
		*why = "truncated HTTP response";
		return eof ? -1 : 0;
	}
	if (f->in_len < 12 || memcmp(p, "HTTP/1.", 7) != 0) {
		*why = "not an HTTP response";
		return -1;
	}
	if (memcmp(p + 9, "200", 3) != 0) {
		*why = "HTTP status not 200";
		return -1;
	}
	for (const char *l = p; l < hend;) {
		const char *nl = memchr(l, '\n', (size_t)(hend - l));

		if (!nl)
			break;
		if ((size_t)(nl - l) > 15 && !strncasecmp(l, "content-length:", 15))
			clen = strtoul(l + 15, NULL, 10);
		l = nl + 1;
	}
	*body = (const uint8_t *)hend;
	*blen = f->in_len - (size_t)(hend - p);
	if (clen != (size_t)-1) {
		if (*blen < clen) {
			*why = "truncated HTTP body";
			return eof ? -1 : 0;
		}
		*blen = clen;
		return 1;
	}
	return eof ? 1 : 0;
}

static void on_fetch_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct ocsp_fetch *f = h->data;
	size_t want = 16384;

	(void)sug;
	if (f->in_len + want > OCSP_MAX_RESPONSE + 4096)
		want = OCSP_MAX_RESPONSE + 4096 - f->in_len;
	if (!want) {
		b->base = NULL;
		b->len = 0;
		return;
	}
	{
		uint8_t *n = realloc(f->in, f->in_len + want);

		if (!n) {
			b->base = NULL;
			b->len = 0;
			return;
		}
		f->in = n;
	}
	b->base = (char *)f->in + f->in_len;
	b->len = want;
}

static void on_fetch_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ocsp_fetch *f = s->data;
	const uint8_t *body;
	size_t blen;
	const char *why = "responder closed the connection";
	int r;

	(void)b;
	if (n == UV_ENOBUFS) {
		fetch_done(f, NULL, 0, "response too large");
		return;
	}
	if (n < 0 && n != UV_EOF) {
		fetch_done(f, NULL, 0, uv_strerror((int)n));
		return;
	}
	if (n > 0)
		f->in_len += (size_t)n;
	r = http_body(f, n == UV_EOF, &body, &blen, &why);
	if (r < 0)
		fetch_done(f, NULL, 0, why);
	else if (r > 0)
		fetch_done(f, body, blen, NULL);
}

static void on_fetch_write(uv_write_t *w, int status)
{
	struct ocsp_fetch *f = w->data;

	if (status < 0 && !f->done)
		fetch_done(f, NULL, 0, uv_strerror(status));
}

static void on_fetch_connect(uv_connect_t *c, int status)
{
	struct ocsp_fetch *f = c->data;
	uv_buf_t b;

	if (f->done)
		return;
	if (status < 0) {
		fetch_done(f, NULL, 0, uv_strerror(status));
		return;
	}
	b = uv_buf_init(f->out, (unsigned)f->out_len);
	f->wreq.data = f;
	if (uv_write(&f->wreq, (uv_stream_t *)&f->tcp, &b, 1, on_fetch_write) < 0 ||
	    uv_read_start((uv_stream_t *)&f->tcp, on_fetch_alloc, on_fetch_read) < 0)
		fetch_done(f, NULL, 0, "cannot send the request");
}

static void on_fetch_resolved(uv_getaddrinfo_t *g, int status,
			      struct addrinfo *res)
{
	struct ocsp_fetch *f = g->data;

	f->gai_busy = 0;
	if (f->done) {
		uv_freeaddrinfo(res);
		f->handles++; /* balance the unref below */
		fetch_unref(f);
		return;
	}
	if (status < 0 || !res) {
		uv_freeaddrinfo(res);
		fetch_done(f, NULL, 0, "cannot resolve the responder");
		return;
	}
	uv_tcp_init(f->oc->loop, &f->tcp);
	f->tcp.data = f;
	f->handles++;
	f->creq.data = f;
	if (uv_tcp_connect(&f->creq, &f->tcp, res->ai_addr, on_fetch_connect) < 0)
		fetch_done(f, NULL, 0, "cannot connect to the responder");
	uv_freeaddrinfo(res);
}

/* "http://host[:port][/path]" -> host, port, path. */
static int parse_url(const char *url, size_t len, char *host, size_t hl,
		     char *port, size_t pl, const char **path, size_t *path_len)
{
	const char *p, *end = url + len, *h, *he, *slash;

	if (len < 8 || strncasecmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	slash = memchr(p, '/', (size_t)(end - p));
	he = slash ? slash : end;
	h = p;
	if (*h == '[') { /* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(he - h));

		if (!rb)
			return -1;
		if ((size_t)(rb - h - 1) >= hl)
			return -1;
		memcpy(host, h + 1, (size_t)(rb - h - 1));
		host[rb - h - 1] = 0;
		p = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(he - h));
		const char *hend = colon ? colon : he;

		if (hend == h || (size_t)(hend - h) >= hl)
			return -1;
		memcpy(host, h, (size_t)(hend - h));
		host[hend - h] = 0;
		p = hend;
	}
	if (p < he && *p == ':') {
		size_t n = (size_t)(he - p - 1);

		if (n == 0 || n >= pl)
			return -1;
		memcpy(port, p + 1, n);
		port[n] = 0;
		for (size_t i = 0; i < n; i++)
			if (port[i] < '0' || port[i] > '9')
				return -1;
	} else if (p == he) {
		snprintf(port, pl, "80");
	} else {
		return -1;
	}
	*path = slash ? slash : "/";
	*path_len = slash ? (size_t)(end - slash) : 1;
	for (size_t i = 0; i < *path_len; i++)
		if ((*path)[i] <= ' ' || (*path)[i] == 0x7f)
			return -1;
	for (const char *c = host; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return -1;
	return 0;
}

/* base64 of req, URL-encoded (RFC 6960 appendix A.1) into out. */
static size_t b64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		for (int k = 0; k < 4; k++) {
			const char *enc = q[k] == '+' ? "%2B"
					  : q[k] == '/' ? "%2F"
					  : q[k] == '=' ? "%3D"
							: NULL;
			size_t l = enc ? 3 : 1;

			if (o + l >= cap)
				return 0;
			if (enc)
				memcpy(out + o, enc, 3);
			else
				out[o] = q[k];
			o += l;
		}
	}
	out[o] = 0;
	return o;
}

static int fetch_start(struct ocsp_cache *oc, struct ocsp_entry *e,
		       const uint8_t *req, size_t req_len,
		       const struct ocsp_opts *o)
{
	struct ocsp_fetch *f = calloc(1, sizeof(*f));
	const char *path;
	size_t path_len, cap;
	char enc[OCSP_GET_MAX + 1];
	size_t enc_len;
	struct addrinfo hints;

	if (!f)
		return -1;
	if (parse_url(e->url, strlen(e->url), f->host, sizeof(f->host),
		      f->port, sizeof(f->port), &path, &path_len) < 0) {
		free(f);
		return -1;
	}
	cap = path_len + req_len * 2 + 512 + OCSP_GET_MAX;
	f->out = malloc(cap);
	if (!f->out) {
		free(f);
		return -1;
	}
	enc_len = b64url(req, req_len, enc, sizeof(enc));
	if (enc_len && path_len + 1 + enc_len <= OCSP_GET_MAX) {
		int slash = path[path_len - 1] == '/';

		f->out_len = (size_t)snprintf(
			f->out, cap,
			"GET %.*s%s%s HTTP/1.0\r\nHost: %s\r\n"
			"Connection: close\r\n\r\n",
			(int)path_len, path, slash ? "" : "/", enc, f->host);
	} else {
		f->out_len = (size_t)snprintf(
			f->out, cap,
			"POST %.*s HTTP/1.0\r\nHost: %s\r\n"
			"Content-Type: application/ocsp-request\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			(int)path_len, path, f->host, req_len);
		memcpy(f->out + f->out_len, req, req_len);
		f->out_len += req_len;
	}
	if (!e->req || e->req_len != req_len || memcmp(e->req, req, req_len)) {
		uint8_t *r = malloc(req_len);

		if (r) {
			memcpy(r, req, req_len);
			free(e->req);
			e->req = r;
			e->req_len = req_len;
		}
	}
	f->oc = oc;
	f->e = e;
	f->opts = *o;
	f->t0_ns = uv_hrtime();
	uv_timer_init(oc->loop, &f->timer);
	f->timer.data = f;
	f->handles = 1;
	uv_timer_start(&f->timer, on_fetch_timeout, o->timeout_ms, 0);
	e->fetch = f;
	oc->st.requests++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	f->gai.data = f;
	f->gai_busy = 1;
	if (uv_getaddrinfo(oc->loop, &f->gai, on_fetch_resolved, f->host,
			   f->port, &hints) < 0) {
		f->gai_busy = 0;
		fetch_done_locked(f, NULL, 0, "cannot resolve the responder");
	}
	return 0;
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
		return fetch_start(oc, e, req, req_len, o) < 0 || !e->fetch
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
		if (!e->fetch && fetch_start(oc, e, e->req, e->req_len,
					      &e->qopts) < 0)
			wake_all(oc, e, OCSP_OUT_FAIL);
	}
	unlock_run(oc);
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
		unlock_run(oc);
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
		evict(oc);
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
	    e->ans.this_update * 1000 <= now_ms() + 60000 &&
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
	int64_t to = expires_ms(e);

	return !e->have || now_ms() >= from + (to - from) * num / den;
}

static void refresh(struct ocsp_cache *oc, struct ocsp_entry *e,
		    const uint8_t *req, size_t req_len,
		    const struct ocsp_opts *o, int num, int den)
{
	int64_t now = now_ms();

	if (e->fetch || e->queued || !due(e, num, den) ||
	    now - e->last_try_ms < 10000)
		return;
	e->last_try_ms = now;
	oc->st.refreshed++;
	fetch_start(oc, e, req, req_len, o);
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
	unlock_run(oc);
}

void ocsp_tick(struct ocsp_cache *oc, const struct ocsp_opts *o, int max)
{
	uv_mutex_lock(&oc->lock);
	for (struct ocsp_entry *e = oc->lru_head; e && max > 0; e = e->lnext) {
		if (!e->held || !e->req || e->fetch || e->queued ||
		    !due(e, 3, 4))
			continue;
		if (now_ms() - e->last_try_ms < 10000)
			continue;
		refresh(oc, e, e->req, e->req_len, o, 3, 4);
		max--;
	}
	unlock_run(oc);
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

		if (e->fetch) {
			struct ocsp_fetch *f = e->fetch;

			f->e = NULL;
			e->fetch = NULL;
			fetch_done_locked(f, NULL, 0, "stopping");
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

int ocsp_cache_says_revoked(struct ocsp_cache *oc, const char *serial)
{
	int r = 0;

	uv_mutex_lock(&oc->lock);
	for (const struct ocsp_entry *e = oc->lru_head; e && !r; e = e->lnext)
		r = e->have && e->ans.cert_status == OCSP_CS_REVOKED &&
		    strcasecmp(e->serial, serial) == 0;
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
