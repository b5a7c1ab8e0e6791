/* persource.c - the per-source table (see persource.h): a chained hash of
 * addresses with an active count and a token bucket of new connections
 * (refilled at new_per_second, holding at most one second's worth). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "persource.h"

#define SRC_BUCKETS 4096

struct src_entry {
	struct src_entry *next;
	uint8_t key[17]; /* family byte + address */
	uint32_t active;
	uint64_t mtokens; /* thousandths of a connection */
	uint64_t last_ms; /* of the last refill */
};

struct src_table {
	struct src_entry *b[SRC_BUCKETS];
	size_t count;
};

struct src_table *src_table_new(void)
{
	return calloc(1, sizeof(struct src_table));
}

void src_table_free(struct src_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < SRC_BUCKETS; i++)
		while (t->b[i]) {
			struct src_entry *e = t->b[i];

			t->b[i] = e->next;
			free(e);
		}
	free(t);
}

static uint32_t key_of(const struct sockaddr *sa, uint8_t key[17])
{
	uint32_t h = 2166136261u;

	memset(key, 0, 17);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
	}
	for (int i = 0; i < 17; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

int src_admit(struct src_table *t, const struct sockaddr *sa,
	      uint64_t max_conns, uint64_t per_second, uint64_t now_ms,
	      struct src_entry **out)
{
	uint8_t key[17];
	uint32_t h = key_of(sa, key);
	struct src_entry **pp = &t->b[h % SRC_BUCKETS], *e;

	*out = NULL;
	for (e = *pp; e; e = e->next)
		if (!memcmp(e->key, key, sizeof(key)))
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return SRC_OK; /* no memory: do not refuse for that */
		memcpy(e->key, key, sizeof(key));
		e->mtokens = per_second * 1000;
		e->last_ms = now_ms;
		e->next = *pp;
		*pp = e;
		t->count++;
	}
	if (per_second) {
		uint64_t cap = per_second * 1000;

		e->mtokens += (now_ms - e->last_ms) * per_second;
		if (e->mtokens > cap)
			e->mtokens = cap;
		e->last_ms = now_ms;
		if (e->mtokens < 1000)
			return SRC_TOO_FAST;
		e->mtokens -= 1000;
	}
	if (max_conns && e->active >= max_conns)
		return SRC_TOO_MANY;
	e->active++;
	*out = e;
	return SRC_OK;
}

void src_release(struct src_table *t, struct src_entry *e)
{
	(void)t;
	if (e && e->active)
		e->active--;
}

void src_sweep(struct src_table *t, uint64_t now_ms)
{
	for (size_t i = 0; i < SRC_BUCKETS; i++) {
		struct src_entry **pp = &t->b[i];

		while (*pp) {
			struct src_entry *e = *pp;

			/* idle for a second: its bucket is full again */
			if (!e->active && now_ms - e->last_ms >= 1000) {
				*pp = e->next;
				free(e);
				t->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

size_t src_count(const struct src_table *t)
{
	return t->count;
}
