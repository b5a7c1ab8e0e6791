/* test_balance.c - server choice: rendezvous spread and stability,
 * weights, minimal movement on removal, fail-over order, round-robin and
 * least-connections, and golden values that catch a change of the hash
 * (which would move every device of every fleet on upgrade). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "upstream/balance.h"
#include "test.h"

#define IDS 10000

static size_t pick(struct balance_cand *c, size_t n, const char *id)
{
	size_t order[16];
	uint32_t rr = 0;
	size_t k = balance_order(CFG_BAL_CLIENT_ID, c, n, id, strlen(id), &rr,
				 order, 16);

	return k ? order[0] : (size_t)-1;
}

static void names(struct balance_cand *c, size_t n)
{
	static const char *nm[] = {"b1", "b2", "b3", "b4", "b5", "b6"};

	for (size_t i = 0; i < n; i++) {
		c[i].name = nm[i];
		c[i].weight = 1;
		c[i].active = 0;
		c[i].usable = 1;
	}
}

static void test_spread(void)
{
	for (size_t k = 2; k <= 5; k++) {
		struct balance_cand c[6];
		size_t count[6] = {0};
		char id[32];

		names(c, k);
		for (int i = 0; i < IDS; i++) {
			snprintf(id, sizeof(id), "dev-%05d", i);
			count[pick(c, k, id)]++;
		}
		for (size_t s = 0; s < k; s++) {
			double share = (double)count[s] / IDS;
			double want = 1.0 / (double)k;

			CHECK(fabs(share - want) <= 0.1 * want,
			      "k=%zu server %zu share %.3f want %.3f", k, s,
			      share, want);
		}
	}
}

static void test_weights(void)
{
	struct balance_cand c[2];
	size_t count[2] = {0};
	char id[32];

	names(c, 2);
	c[1].weight = 2;
	for (int i = 0; i < IDS; i++) {
		snprintf(id, sizeof(id), "dev-%05d", i);
		count[pick(c, 2, id)]++;
	}
	CHECK(fabs((double)count[1] / IDS - 2.0 / 3) <= 0.1 * 2.0 / 3,
	      "weight 2 share %.3f", (double)count[1] / IDS);
}

static void test_removal(void)
{
	struct balance_cand c[4];
	size_t before[IDS];
	int moved = 0, wrong = 0;
	char id[32];

	names(c, 4);
	for (int i = 0; i < IDS; i++) {
		snprintf(id, sizeof(id), "dev-%05d", i);
		before[i] = pick(c, 4, id);
	}
	c[2].usable = 0;
	for (int i = 0; i < IDS; i++) {
		size_t now;

		snprintf(id, sizeof(id), "dev-%05d", i);
		now = pick(c, 4, id);
		CHECK(now != 2, "removed server chosen");
		if (now != before[i]) {
			moved++;
			if (before[i] != 2)
				wrong++;
		}
	}
	CHECK(moved >= IDS * 20 / 100 && moved <= IDS * 30 / 100,
	      "moved %d of %d", moved, IDS);
	CHECK(wrong == 0, "%d ids moved that were not on the removed server",
	      wrong);
}

static void test_order(void)
{
	struct balance_cand c[5];
	size_t order[8], order2[8];
	uint32_t rr = 0;
	size_t n;

	names(c, 5);
	c[1].usable = 0;
	c[3].weight = 0;
	n = balance_order(CFG_BAL_CLIENT_ID, c, 5, "dev-x", 5, &rr, order, 8);
	CHECK(n == 3, "fail-over order has every usable server: %zu", n);
	for (size_t i = 0; i < n; i++) {
		CHECK(order[i] != 1 && order[i] != 3, "excluded server %zu",
		      order[i]);
		for (size_t j = 0; j < i; j++)
			CHECK(order[i] != order[j], "server twice");
	}
	balance_order(CFG_BAL_CLIENT_ID, c, 5, "dev-x", 5, &rr, order2, 8);
	CHECK(!memcmp(order, order2, n * sizeof(size_t)), "deterministic");
	CHECK(balance_order(CFG_BAL_CLIENT_ID, c, 0, "x", 1, &rr, order, 8) ==
		      0,
	      "no candidates");
	CHECK(balance_order(CFG_BAL_CLIENT_ID, c, 5, "x", 1, &rr, order, 2) ==
		      2,
	      "max respected");
}

static void test_golden(void)
{
	/* Computed once; a change here moves devices between brokers. */
	static const struct {
		const char *id;
		size_t want;
	} g[] = {{"dev-good", 0}, {"dev-00001", 1}, {"sensor-42", 3},
		 {"a", 0}};
	struct balance_cand c[4];

	names(c, 4);
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		CHECK(pick(c, 4, g[i].id) == g[i].want, "golden %s", g[i].id);
	CHECK(balance_hash("moat", 4, 0) == 0x7fba8d566347f7e0ull, "golden hash");
}

static void test_rr_lc(void)
{
	struct balance_cand c[3];
	size_t order[4];
	uint32_t rr = 0;
	int seen[3] = {0};

	names(c, 3);
	for (int i = 0; i < 6; i++) {
		balance_order(CFG_BAL_ROUND_ROBIN, c, 3, NULL, 0, &rr, order,
			      4);
		seen[order[0]]++;
	}
	CHECK(seen[0] == 2 && seen[1] == 2 && seen[2] == 2,
	      "round-robin cycles %d %d %d", seen[0], seen[1], seen[2]);
	c[0].active = 5;
	c[1].active = 2;
	c[2].active = 3;
	c[2].weight = 2; /* 1.5 per weight unit */
	balance_order(CFG_BAL_LEAST_CONN, c, 3, NULL, 0, &rr, order, 4);
	CHECK(order[0] == 2 && order[1] == 1 && order[2] == 0,
	      "least-connections order %zu %zu %zu", order[0], order[1],
	      order[2]);
}

int main(void)
{
	test_spread();
	test_weights();
	test_removal();
	test_order();
	test_golden();
	test_rr_lc();
	return test_done("balance");
}
