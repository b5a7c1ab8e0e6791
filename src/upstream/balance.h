/* balance.h - choosing a server: round-robin, least-connections and
 * weighted rendezvous hashing of the client id. Pure functions over an
 * array of candidates, so they can be tested without a network and so two
 * moat processes with the same server list rank a client id the same way. */
#ifndef MOAT_BALANCE_H
#define MOAT_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct balance_cand {
	const char *name;  /* server name: the hash input, stable across hosts */
	uint32_t weight;   /* 0 = never chosen */
	uint32_t active;   /* current connections, for least-connections */
	int usable;        /* UP, not in maintenance, not draining */
};

/* 64-bit hash of key (stable across builds and hosts: FNV-1a 64 followed by
 * a murmur3 fmix64 finaliser). */
uint64_t balance_hash(const void *key, size_t len, uint64_t seed);

/* Weighted rendezvous score of (key, server); higher wins. With equal
 * weights a server's share is 1/n; with weights w_i it is w_i / sum(w). */
double balance_score(const void *key, size_t klen, const char *server,
		     uint32_t weight);

/* Order candidates for one connection: writes up to max indices of usable
 * candidates with weight > 0 into order[], best first, and returns how
 * many. client-id: by descending rendezvous score of key; round-robin:
 * starting at *rr (which is advanced by one); least-connections: by
 * ascending active/weight, ties by index. The rest of the order is the
 * fail-over sequence. */
size_t balance_order(enum cfg_balance how, const struct balance_cand *c,
		     size_t n, const void *key, size_t klen, uint32_t *rr,
		     size_t *order, size_t max);

#endif
