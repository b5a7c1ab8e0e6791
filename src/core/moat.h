/* moat.h - the process: its loop, its listeners and upstreams, the counters
 * that the stats socket reads, and the reject causes every module counts.
 * One struct moat per process; modules get it passed, never a global
 * other than the pointer main() sets for signal handlers. */
#ifndef MOAT_MOAT_H
#define MOAT_MOAT_H

#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "base/histo.h"
#include "base/reject.h"
#include "config/config.h"


struct tls_ctx;
struct jwks;
struct jwks_src;
struct jwks_fetcher;
struct upstream;
struct conn;
struct stats;

/* One loaded configuration and what is built from it: TLS contexts and
 * upstreams. Swapped whole on reload; every connection holds a reference
 * to the generation it started with, so it keeps running on it. */
struct gen {
	int refs;
	uint64_t id;
	struct cfg *cfg;          /* owned */
	struct tls_ctx **tls;     /* owned, one per cfg listener */
	/* owned references, one per cfg listener: its mqtt.token JWK Set,
	 * NULL when tokens are off (src/auth/jwk.h) */
	struct jwks **jwks;
	/* owned references, one per cfg listener: the source of a JWK Set
	 * fetched from mqtt.token.jwks_url (src/auth/jwks_url.h), else NULL;
	 * jwks[i] is NULL then */
	struct jwks_src **jwks_src;
	/* owned, one per cfg listener: its mqtt.enroll issuing CA
	 * (src/tls/issue.h), NULL when enrollment is off */
	struct issuer **issuers;
	struct upstream *upstreams; /* owned array */
	size_t n_upstreams;
};

/* A listening socket. It outlives reloads that keep its name and bind
 * address (the socket stays open: no connection is refused meanwhile);
 * cfg, tls and up follow the current generation. Counters live here. */
struct listener {
	int refs;  /* the moat's list + each connection accepted on it */
	int open;  /* the socket is listening */
	const struct cfg_listener *cfg; /* in moat->gen->cfg */
	struct moat *moat;
	struct tls_ctx *tls;  /* in moat->gen */
	struct upstream *up;  /* in moat->gen */
	uv_tcp_t tcp;
	uint64_t accepted, active, bytes_in, bytes_out;
	uint64_t handshakes, resumed;
	uint64_t rejects[REJ__COUNT];
};

void listener_put(struct listener *l);
void gen_put(struct gen *g);

/* A counter of one worker: only its own thread writes it, the main thread
 * reads it (moat_view, server_sum). Relaxed atomic stores: plain moves on
 * x86-64 and arm64, no lock prefix, and no data race for the readers. */
#define CTR_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)
#define CTR_SUB(x, n) __atomic_store_n(&(x), (x) - (n), __ATOMIC_RELAXED)
#define CTR_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Certificate renewals and enrollments (MQTT and EST) by outcome (names in
 * src/conn/enroll.c, conn_enroll_outcome_name). */
enum enroll_outcome {
	ENR_RENEWED,     /* a device's certificate renewed */
	ENR_ENROLLED,    /* a first certificate (claim certificate, token) */
	ENR_MALFORMED,   /* not a PKCS#10 request */
	ENR_SIGNATURE,   /* its signature does not verify */
	ENR_KEY,         /* key type or size outside the policy */
	ENR_TOO_EARLY,   /* before renew_before of notAfter */
	ENR_TOO_LARGE,   /* over CSR_MAX */
	ENR_NOT_ALLOWED, /* no identity, no certificate, past renew_grace */
	ENR_RESERVED,    /* a PUBLISH to another topic under the prefix */
	ENR_ERROR,       /* moat's side (signing, index) */
	ENR__COUNT
};

struct metrics;
struct ocsp_cache;
struct src_table;

/* workers: the first runs on the main thread (with the stats socket,
 * health checks, OCSP fetches, signals and reloads); the others each run
 * a loop of their own with their own listening sockets (SO_REUSEPORT). */
#define MOAT_MAX_WORKERS 64

/* A message to a worker, run on its loop. fn(NULL, arg) drops it (the
 * worker is gone): it must free what arg holds. */
struct moat_msg {
	struct moat_msg *next;
	void (*fn)(struct moat *w, void *arg);
	void *arg;
};

/* Per-loop scratch space: every read lands here first, so an idle
 * connection holds no read buffer of its own. */
#define MOAT_RBUF 65536

/* One struct moat per worker. The main one (idx 0) owns what is shared:
 * generations, upstreams, the OCSP cache, per-source table, stats,
 * metrics; the others point at the same shared objects and hold their own
 * reference to the current generation, their own listeners, connections
 * and counters (summed by readers, see moat_view in stats.h). */
struct moat {
	uv_loop_t *loop;
	struct moat *main;     /* the main worker (itself in the main) */
	unsigned idx;          /* 0 = main */
	unsigned n_workers;    /* main: how many run, itself included */
	struct moat **workers; /* main: [0] is itself */
	uv_thread_t thread;
	int running;           /* the thread was started */
	/* How busy this worker's thread was over the last 100 ms, in per
	 * mille of a core (its own CPU time): written by it, read by the
	 * others to place new connections (conn/accept.c). */
	uint32_t busy_pm;
	uint32_t adopted; /* connections handed to it since its last tick */
	uv_timer_t busy_timer;
	uint64_t busy_cpu_ns;
	uv_async_t mbox_async; /* messages in (unreferenced) */
	uv_mutex_t mbox_lock;
	struct moat_msg *mbox_head, *mbox_tail;
	/* Held by the worker when it changes its conns list or listeners,
	 * and by the main thread when it reads another worker's. */
	uv_mutex_t wlock;
	uint64_t live;         /* main: connections open in all workers */
	uint64_t fd_limit;     /* main: RLIMIT_NOFILE in force */
	uint64_t fd_conns;     /* main: connections the descriptors allow */
	unsigned workers_done; /* main: workers drained after a stop */
	const char *config_path;
	struct gen *gen;  /* current generation (one reference) */
	struct cfg *cfg;  /* == gen->cfg */
	struct listener **listeners; /* current listeners */
	size_t n_listeners;
	struct upstream *upstreams; /* == gen->upstreams */
	size_t n_upstreams;
	uint64_t reloads, reload_failures;
	struct metrics *metrics;
	struct ocsp_cache *ocsp; /* one per process, kept across reloads */
	/* main: the fetchers of gen->jwks_src, one per listener (NULL where
	 * the keys do not come from a URL); remade at each reload */
	struct jwks_fetcher **jwks_fetchers;
	size_t n_jwks_fetchers;
	struct src_table *sources; /* limits.per_source */
	uint64_t ocsp_soft_failed; /* soft mode: accepted without an answer */
	uint64_t ocsp_stale_used;  /* accepted on a stale cached good */
	uint64_t revoked_closed;   /* live sessions closed on revocation */
	uint64_t tokens_ok;        /* access tokens accepted */
	uint64_t enroll[ENR__COUNT]; /* renewal requests by outcome */
	uint64_t enroll_est[ENR__COUNT]; /* those of them over EST */
	/* Reject log lines per cause per second; the counters see them all. */
	struct {
		uint64_t window_ms;
		uint32_t logged;
		uint64_t suppressed;
	} reject_log[REJ__COUNT];
	uv_timer_t reject_log_timer;
	uv_timer_t crl_watch_timer;
	uint64_t crl_sig; /* of the CRL files' stat, see main.c */
	struct histo h_handshake;        /* accept -> TLS handshake done */
	struct histo h_upstream_connect; /* broker connect */
	struct stats *stats;
	uint64_t start_ms;
	time_t start_time;
	uint64_t conns_total, conns_current;
	uint64_t handshakes_ok, handshakes_failed;
	uint64_t rejects[REJ__COUNT];
	uint64_t next_conn_id;
	struct conn *conns; /* every live connection, for show conns / stop */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t drain_timer;
	int stopping;
	int draining; /* main: `drain` was asked: listeners closed */
	void (*on_drained)(struct moat *m); /* the last connection closed */
	int rbuf_busy;
	uint8_t rbuf[MOAT_RBUF];
	uint8_t pbuf[MOAT_RBUF];
};

#endif
