/* worker.h - several event loops in one process (`workers`). The main
 * worker runs on the main thread; each other one runs its own libuv loop
 * on a thread of its own, with its own listening sockets on the same
 * addresses (SO_REUSEPORT: the kernel spreads new connections), its own
 * connections and counters. Threads talk through mailboxes: a message is
 * a function run on the receiving worker's loop. Readers of counters (the
 * stats socket, /metrics) add up the workers' own copies: moat_view. */
#ifndef MOAT_WORKER_H
#define MOAT_WORKER_H

#include "core/moat.h"

/* Set up m's mailbox and lock (every worker, the main one included). */
void worker_mbox_init(struct moat *m);
/* How busy w's thread was over the last 100 ms, per mille of a core. */
uint32_t worker_busy(const struct moat *w);

/* Drop what is still in m's mailbox (its loop runs no more). */
void worker_mbox_drop(struct moat *m);

/* The main worker makes n-1 more (not yet running); 0 or -1. */
int workers_create(struct moat *main, unsigned n);

/* Start the threads of workers 1..n-1. */
int workers_start(struct moat *main);

/* Wait for the threads to end, then have close_all(w) close what each
 * left open and free the workers (messages still queued are dropped). */
void workers_join(struct moat *main, void (*close_all)(struct moat *w));

/* Run fn(w, arg) on w's loop. Safe from any thread, w itself included
 * (then it runs at the next loop iteration). */
void worker_post(struct moat *w, void (*fn)(struct moat *w, void *arg),
		 void *arg);

/* Counters of every worker added up; listeners by name of the main's. */
struct listener_view {
	uint64_t accepted, active, bytes_in, bytes_out;
	uint64_t handshakes, resumed;
	uint64_t rejects[REJ__COUNT];
};

struct moat_view {
	uint64_t conns_total, conns_current;
	uint64_t handshakes_ok, handshakes_failed;
	uint64_t rejects[REJ__COUNT];
	uint64_t ocsp_soft_failed, ocsp_stale_used, revoked_closed;
	uint64_t tokens_ok;
	uint64_t enroll[ENR__COUNT], enroll_est[ENR__COUNT];
	struct histo h_handshake, h_upstream_connect;
	size_t n_listeners;
	struct listener_view *l; /* [n_listeners], aligned with main's */
};

/* Fill v from every worker (call on the main thread); free v->l after. */
void moat_view(struct moat *main, struct moat_view *v);


#endif
