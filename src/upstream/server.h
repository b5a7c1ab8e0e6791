/* server.h - upstreams and their servers at run time: status (health,
 * maintenance, drain), runtime weight, counters, and the choice of a server
 * for a connection. The static description stays in struct cfg_upstream. */
#ifndef MOAT_SERVER_H
#define MOAT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dial.h"
#include "config/config.h"
#include "core/moat.h"

struct check;

struct srv_ctr {
	uint64_t total, bytes_in, bytes_out, connect_fails;
	uint32_t active;
} __attribute__((aligned(64)));

struct up_ctr {
	uint64_t total, bytes_in, bytes_out, no_server;
	uint32_t rr; /* round-robin position of this worker */
} __attribute__((aligned(64)));

/* A server keeps its state and counters across reloads that keep its
 * upstream and name: each generation's upstream points at it. */
struct server {
	int refs;                     /* generations holding it (atomic) */
	const struct cfg_server *cfg; /* in the newest generation holding it */
	struct upstream *up;          /* likewise */
	uint32_t weight;   /* runtime weight (set weight) */
	bool healthy;      /* health-check verdict */
	bool maint;        /* disable server */
	bool drain;        /* drain server */
	uint32_t ok_streak, fail_streak;
	const char *last_check; /* "none", "L4OK", "L4CON", "L4TOUT", "L7OK",
				   "L7RSP", "L7TOUT" */
	uint64_t last_check_ms; /* util_now_ms() of the last result, 0 = never */
	uint64_t last_change_ms;
	/* Index in cfg->addrs of the address that answered last (a check or
	 * a connect); connects and checks start there. Atomic: every worker
	 * and the checks read and write it. */
	uint32_t addr_first;
	struct check *check; /* owned; NULL when health.type is none */
	/* Counters, one slot per worker (only that worker writes it; readers
	 * add the slots up: server_sum), so the forwarding path shares no
	 * cache line with another thread. */
	struct srv_ctr ctr[MOAT_MAX_WORKERS];
};

/* The sum over the workers' slots. */
struct srv_ctr server_sum(const struct server *s);

struct upstream {
	const struct cfg_upstream *cfg;
	struct moat *moat;
	struct server **servers; /* referenced (see struct server) */
	size_t n_servers;
	struct up_ctr ctr[MOAT_MAX_WORKERS]; /* per worker, see server */
};

struct up_ctr upstream_sum(const struct upstream *u);

/* How many workers run (their slots are summed); set once at start. */
void servers_set_workers(unsigned n);

/* Build g's upstreams from g->cfg; servers of old (may be NULL) with the
 * same upstream and name are taken over with their state. */
int upstreams_init(struct moat *m, struct gen *g, struct gen *old);
void upstreams_free(struct gen *g);

struct upstream *upstream_find(struct moat *m, const char *name);
/* "UPSTREAM/SERVER" */
struct server *server_find(struct moat *m, const char *path);

/* UP, DOWN, MAINT or DRAIN */
const char *server_status(const struct server *s);
bool server_usable(const struct server *s);

/* A health check or a forward connect reports its result; rise and fall
 * decide the verdict, and changes are logged. code: see last_check. */
void server_report(struct server *s, bool ok, const char *code);

/* The cfg_server of s in u's generation: the addresses a connect made
 * under that generation walks (s->cfg is the newest generation's, which
 * two reloads during a walk could free). */
const struct cfg_server *upstream_server_cfg(const struct upstream *u,
					     const struct server *s);

/* Start d's walk over cs's addresses (cs: s's in the generation of the
 * caller, see upstream_server_cfg), each under timeout_ms, from the one
 * that answered last (the first one until one has), round the list once. */
void server_dial(struct server *s, const struct cfg_server *cs, struct dial *d,
		 uint64_t timeout_ms);

/* A dial's status as a check code: "L4TOUT" for a timeout, else "L4CON". */
const char *server_l4_code(int status);

/* One address of s failed in a walk: logged at debug level
 * (server_address_failed); the server itself failed only when none
 * answers. */
void server_addr_failed(const struct server *s, const struct sockaddr *sa,
			int status);

/* d's walk over s's addresses answered: the next walks start there. */
void server_addr_answered(struct server *s, const struct dial *d);

/* The addresses of s, "A:P,B:P" in configured order, into buf. */
const char *server_addrs_str(const struct server *s, char *buf, size_t len);

/* Fill order[] with servers to try, best first (see balance_order). */
size_t upstream_pick(struct upstream *u, unsigned worker, const void *key,
		     size_t klen, struct server **order, size_t max);

#endif
