/* balance.c - server choice. client-id uses weighted rendezvous hashing
 * (highest random weight): each (client id, server name) pair gets a score
 * from a stable hash, so every process with the same list ranks servers
 * the same way and removing one server moves only the ids it held. */
#include <math.h>
#include <string.h>

#include "upstream/balance.h"

uint64_t balance_hash(const void *key, size_t len, uint64_t seed)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	/* murmur3 fmix64: FNV alone mixes the last bytes poorly */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

double balance_score(const void *key, size_t klen, const char *server,
		     uint32_t weight)
{
	uint64_t hs = balance_hash(server, strlen(server), 0);
	uint64_t h = balance_hash(key, klen, hs);
	/* u in (0, 1): 53 bits, never 0 nor 1 */
	double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;

	if (weight == 0)
		return -INFINITY;
	return (double)weight / -log(u);
}

static void sort_by(size_t *idx, double *key, size_t n, int descending)
{
	/* insertion sort: n is a handful of servers; stable on ties */
	for (size_t i = 1; i < n; i++) {
		size_t vi = idx[i];
		double vk = key[i];
		size_t j = i;

		while (j > 0 && (descending ? key[j - 1] < vk
					    : key[j - 1] > vk)) {
			idx[j] = idx[j - 1];
			key[j] = key[j - 1];
			j--;
		}
		idx[j] = vi;
		key[j] = vk;
	}
}

size_t balance_order(enum cfg_balance how, const struct balance_cand *c,
		     size_t n, const void *key, size_t klen, uint32_t *rr,
		     size_t *order, size_t max)
{
	size_t idx[256];
	double k[256];
	size_t m = 0, out = 0;

	for (size_t i = 0; i < n && m < 256; i++) {
		if (!c[i].usable || c[i].weight == 0)
			continue;
		idx[m] = i;
		switch (how) {
		case CFG_BAL_CLIENT_ID:
			k[m] = balance_score(key, klen, c[i].name,
					     c[i].weight);
			break;
		case CFG_BAL_LEAST_CONN:
			k[m] = (double)c[i].active / c[i].weight;
			break;
		case CFG_BAL_ROUND_ROBIN:
			k[m] = 0;
			break;
		}
		m++;
	}
	if (m == 0)
		return 0;
	if (how == CFG_BAL_ROUND_ROBIN) {
		size_t start = *rr % m;

		(*rr)++;
		for (size_t i = 0; i < m && out < max; i++)
			order[out++] = idx[(start + i) % m];
		return out;
	}
	sort_by(idx, k, m, how == CFG_BAL_CLIENT_ID);
	for (size_t i = 0; i < m && out < max; i++)
		order[out++] = idx[i];
	return out;
}
