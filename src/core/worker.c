/* worker.c - the threads of `workers`, their mailboxes, and the sum of
 * their counters. What is shared between threads and how:
 *   - generations: each worker holds its own reference to the current
 *     one and takes a new one from a message (reload.c); refcounts are
 *     atomic, the contents read-only;
 *   - servers' health: written under a lock by the checks (main thread)
 *     and by passive failures, read without one;
 *   - counters: per worker (struct moat, listeners, the servers' and
 *     upstreams' slots), written only by their worker, summed here;
 *   - OCSP cache, per-source table, ticket table: their own locks, taken
 *     at handshake, admission and close, never while forwarding.
 * Nothing on the forwarding path takes a lock. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/ocsp.h"
#include "core/worker.h"

_Static_assert(CFG_MAX_WORKERS <= MOAT_MAX_WORKERS,
	       "every configurable worker has its counter slots");

/* Run what was sent to m, as m (on its loop), or as NULL: dropped. */
static void mbox_run(struct moat *m, struct moat *as)
{
	struct moat_msg *q;

	uv_mutex_lock(&m->mbox_lock);
	q = m->mbox_head;
	m->mbox_head = m->mbox_tail = NULL;
	uv_mutex_unlock(&m->mbox_lock);
	while (q) {
		struct moat_msg *next = q->next;

		q->fn(as, q->arg);
		free(q);
		q = next;
	}
}

void worker_mbox_drop(struct moat *m)
{
	mbox_run(m, NULL);
}

static void on_mbox(uv_async_t *a)
{
	struct moat *m = a->data;

	mbox_run(m, m);
	if (m->idx && m->ocsp) /* OCSP answers for this worker's handshakes */
		ocsp_run_ready(m->ocsp, &m->mbox_async);
}

/* Every 100 ms, on the worker's own thread: how much of a core it used. */
#define BUSY_MS 100

static void on_busy(uv_timer_t *t)
{
	struct moat *m = t->data;
	struct timespec ts;
	uint64_t now, d;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return;
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (!m->busy_cpu_ns) { /* the first tick on this thread */
		m->busy_cpu_ns = now;
		return;
	}
	d = now - m->busy_cpu_ns;
	m->busy_cpu_ns = now;
	d = d / (BUSY_MS * 1000u); /* ns per BUSY_MS -> per mille */
	__atomic_store_n(&m->busy_pm, (uint32_t)(d > 1000 ? 1000 : d),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->adopted, 0, __ATOMIC_RELAXED);
}

uint32_t worker_busy(const struct moat *w)
{
	return __atomic_load_n(&w->busy_pm, __ATOMIC_RELAXED);
}

void worker_mbox_init(struct moat *m)
{
	uv_mutex_init(&m->mbox_lock);
	uv_mutex_init(&m->wlock);
	uv_async_init(m->loop, &m->mbox_async, on_mbox);
	m->mbox_async.data = m;
	/* the mailbox alone does not keep a loop running */
	uv_unref((uv_handle_t *)&m->mbox_async);
}

void worker_post(struct moat *w, void (*fn)(struct moat *w, void *arg),
		 void *arg)
{
	struct moat_msg *q = malloc(sizeof(*q));

	if (!q) { /* out of memory: the message is lost, say so */
		fn(NULL, arg);
		return;
	}
	q->next = NULL;
	q->fn = fn;
	q->arg = arg;
	uv_mutex_lock(&w->mbox_lock);
	if (w->mbox_tail)
		w->mbox_tail->next = q;
	else
		w->mbox_head = q;
	w->mbox_tail = q;
	uv_mutex_unlock(&w->mbox_lock);
	uv_async_send(&w->mbox_async);
}

int workers_create(struct moat *main, unsigned n)
{
	main->main = main;
	main->idx = 0;
	main->n_workers = n ? n : 1;
	main->workers = calloc(main->n_workers, sizeof(*main->workers));
	if (!main->workers)
		return -1;
	main->workers[0] = main;
	for (unsigned i = 1; i < main->n_workers; i++) {
		struct moat *w = calloc(1, sizeof(*w));

		if (!w)
			return -1;
		w->loop = malloc(sizeof(*w->loop));
		if (!w->loop || uv_loop_init(w->loop) < 0) {
			free(w->loop);
			free(w);
			return -1;
		}
		w->main = main;
		w->idx = i;
		w->config_path = main->config_path;
		w->ocsp = main->ocsp;
		w->sources = main->sources;
		w->start_ms = main->start_ms;
		w->start_time = main->start_time;
		worker_mbox_init(w);
		main->workers[i] = w;
	}
	return 0;
}

static void worker_run(void *arg)
{
	struct moat *w = arg;

	uv_run(w->loop, UV_RUN_DEFAULT);
}

int workers_start(struct moat *main)
{
	/* how busy each one is, for placing connections (one worker: none
	 * to place) */
	for (unsigned i = 0; main->n_workers > 1 && i < main->n_workers; i++) {
		struct moat *w = main->workers[i];

		uv_timer_init(w->loop, &w->busy_timer);
		w->busy_timer.data = w;
		uv_timer_start(&w->busy_timer, on_busy, BUSY_MS, BUSY_MS);
		uv_unref((uv_handle_t *)&w->busy_timer);
	}
	for (unsigned i = 1; i < main->n_workers; i++) {
		struct moat *w = main->workers[i];

		if (uv_thread_create(&w->thread, worker_run, w) < 0)
			return -1;
		w->running = 1;
	}
	return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void workers_join(struct moat *main, void (*close_all)(struct moat *w))
{
	for (unsigned i = 1; main->workers && i < main->n_workers; i++) {
		struct moat *w = main->workers[i];

		if (!w)
			continue;
		if (w->running)
			uv_thread_join(&w->thread);
		w->running = 0;
		/* the thread is gone: drop what was still sent to it */
		worker_mbox_drop(w);
		close_all(w);
		uv_walk(w->loop, close_walk, NULL);
		uv_run(w->loop, UV_RUN_DEFAULT);
		uv_loop_close(w->loop);
		free(w->loop);
		free(w->listeners);
		gen_put(w->gen);
		uv_mutex_destroy(&w->mbox_lock);
		uv_mutex_destroy(&w->wlock);
		free(w);
		main->workers[i] = NULL;
	}
}

void moat_view(struct moat *main, struct moat_view *v)
{
	memset(v, 0, sizeof(*v));
	v->n_listeners = main->n_listeners;
	v->l = calloc(main->n_listeners ? main->n_listeners : 1,
		      sizeof(*v->l));
	for (unsigned k = 0; k < main->n_workers; k++) {
		struct moat *w = main->workers[k];

		if (!w)
			continue;
		v->conns_total += CTR_GET(w->conns_total);
		v->conns_current += CTR_GET(w->conns_current);
		v->handshakes_ok += CTR_GET(w->handshakes_ok);
		v->handshakes_failed += CTR_GET(w->handshakes_failed);
		for (int r = 0; r < REJ__COUNT; r++)
			v->rejects[r] += CTR_GET(w->rejects[r]);
		v->ocsp_soft_failed += CTR_GET(w->ocsp_soft_failed);
		v->ocsp_stale_used += CTR_GET(w->ocsp_stale_used);
		v->revoked_closed += CTR_GET(w->revoked_closed);
		v->tokens_ok += CTR_GET(w->tokens_ok);
		for (int o = 0; o < ENR__COUNT; o++) {
			v->enroll[o] += CTR_GET(w->enroll[o]);
			v->enroll_est[o] += CTR_GET(w->enroll_est[o]);
		}
		histo_add(&v->h_handshake, &w->h_handshake);
		histo_add(&v->h_upstream_connect, &w->h_upstream_connect);
		if (!v->l)
			continue;
		uv_mutex_lock(&w->wlock);
		for (size_t i = 0; i < main->n_listeners; i++) {
			const char *name = main->listeners[i]->cfg->name;
			struct listener_view *d = &v->l[i];

			for (size_t j = 0; j < w->n_listeners; j++) {
				struct listener *l = w->listeners[j];

				if (strcmp(l->cfg->name, name) != 0)
					continue;
				d->accepted += CTR_GET(l->accepted);
				d->active += CTR_GET(l->active);
				d->bytes_in += CTR_GET(l->bytes_in);
				d->bytes_out += CTR_GET(l->bytes_out);
				d->handshakes += CTR_GET(l->handshakes);
				d->resumed += CTR_GET(l->resumed);
				for (int r = 0; r < REJ__COUNT; r++)
					d->rejects[r] += CTR_GET(l->rejects[r]);
				break;
			}
		}
		uv_mutex_unlock(&w->wlock);
	}
}

