/* persource.c - the per-source table (see persource.h): a chained hash of
 * addresses with an active count and a token bucket of new connections
 * (refilled at new_per_second, holding at most one second's worth).
 * Workers share it: one lock, taken at admission, close and sweep. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/persource.h"

#define SRC_BUCKETS 4096

struct src_entry {
	struct src_entry *next;
	uint8_t key[17]; /* family byte + address */
	uint32_t active;
	uint64_t mtokens; /* thousandths of a connection */
	uint64_t last_ms; /* of the last refill */
};

struct src_table {
	pthread_mutex_t lock;
	struct src_entry *b[SRC_BUCKETS];
	size_t count;
};

struct src_table *src_table_new(void)
{
	struct src_table *t = calloc(1, sizeof(struct src_table));

	if (t)
		pthread_mutex_init(&t->lock, NULL);
	return t;
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
	pthread_mutex_destroy(&t->lock);
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

static int admit_locked(struct src_table *t, const struct sockaddr *sa,
			uint64_t max_conns, uint64_t per_second,
			uint64_t now_ms, struct src_entry **out)
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

		/* another worker may have read the clock a little later */
		if (now_ms > e->last_ms) {
			e->mtokens += (now_ms - e->last_ms) * per_second;
			e->last_ms = now_ms;
		}
		if (e->mtokens > cap)
			e->mtokens = cap;
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

int src_admit(struct src_table *t, const struct sockaddr *sa,
	      uint64_t max_conns, uint64_t per_second, uint64_t now_ms,
	      struct src_entry **out)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = admit_locked(t, sa, max_conns, per_second, now_ms, out);
	pthread_mutex_unlock(&t->lock);
	return r;
}

void src_release(struct src_table *t, struct src_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&t->lock);
	if (e->active)
		e->active--;
	pthread_mutex_unlock(&t->lock);
}

void src_sweep(struct src_table *t, uint64_t now_ms)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < SRC_BUCKETS; i++) {
		struct src_entry **pp = &t->b[i];

		while (*pp) {
			struct src_entry *e = *pp;

			/* idle for a second: its bucket is full again */
			if (!e->active && now_ms >= e->last_ms + 1000) {
				*pp = e->next;
				free(e);
				t->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	pthread_mutex_unlock(&t->lock);
}

size_t src_count(struct src_table *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
