/* test_scratch.c - the handshakes' scratch heap (src/scratch.c): slots do
 * not overlap, what is freed is counted back and its chunks given back,
 * realloc keeps the bytes, and a slot freed by another thread returns to
 * its owner. Built with SCRATCH_UNDER_ASAN, so the sanitizer build runs
 * the pool itself (with its poisoning) rather than malloc. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/scratch.h"
#include "test.h"

#define N 4000

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static uint8_t *ptr[N];
static size_t len[N];

static void fill(size_t i)
{
	memset(ptr[i], (int)(i * 7 + 1), len[i]);
}

static int intact(size_t i)
{
	for (size_t k = 0; k < len[i]; k++)
		if (ptr[i][k] != (uint8_t)(i * 7 + 1))
			return 0;
	return 1;
}

static uint64_t in_use(void)
{
	uint64_t b, m;

	scratch_stats(&b, &m);
	return b;
}

static uint64_t mapped(void)
{
	uint64_t b, m;

	scratch_stats(&b, &m);
	return m;
}

/* Sizes from 0 to past the largest class, freed in random order while
 * others are allocated: every slot keeps its own bytes. */
static void test_churn(void)
{
	size_t bad = 0;
	uint64_t base = in_use();

	for (size_t i = 0; i < N; i++) {
		len[i] = rnd() % 9000;
		ptr[i] = scratch_alloc(len[i]);
		CHECK(ptr[i] != NULL, "alloc %zu bytes", len[i]);
		fill(i);
	}
	CHECK(in_use() > base, "slots are counted");
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < N; i++) {
			size_t j = rnd() % N;

			if (!intact(j))
				bad++;
			scratch_free(ptr[j]);
			len[j] = rnd() % 3000;
			ptr[j] = scratch_alloc(len[j]);
			fill(j);
		}
	}
	for (size_t i = 0; i < N; i++) {
		if (!intact(i))
			bad++;
		scratch_free(ptr[i]);
	}
	CHECK(bad == 0, "%zu slots overwritten", bad);
	CHECK(in_use() == base, "all freed: %llu in use",
	      (unsigned long long)in_use());
	/* empty chunks stay mapped for reuse until they have been empty
	 * through a whole trim period; then all but a few go back */
	CHECK(mapped() > 4 * 64 * 1024, "mapped before trim: %llu",
	      (unsigned long long)mapped());
	scratch_trim();
	CHECK(mapped() > 4 * 64 * 1024, "the first trim keeps fresh chunks");
	scratch_trim();
	CHECK(mapped() <= 4 * 64 * 1024, "mapped after trim: %llu",
	      (unsigned long long)mapped());
	for (size_t i = 0; i < 64; i++) /* released chunks are reused */
		ptr[i] = scratch_alloc(4000);
	for (size_t i = 0; i < 64; i++) {
		memset(ptr[i], 1, 4000);
		scratch_free(ptr[i]);
	}
	scratch_free(NULL);
}

static void test_realloc(void)
{
	uint64_t base = in_use();
	uint8_t *p = scratch_realloc(NULL, 100, 1), *q;

	CHECK(p != NULL, "realloc(NULL) allocates");
	memset(p, 0xab, 100);
	q = scratch_realloc(p, 120, 1); /* same 128-byte slot */
	CHECK(q == p, "growing within the slot stays in place");
	q = scratch_realloc(p, 5000, 1);
	CHECK(q && q[0] == 0xab && q[99] == 0xab, "grown: bytes kept");
	p = scratch_realloc(q, 20000, 1); /* past the largest class: malloc */
	CHECK(p && p[0] == 0xab && p[99] == 0xab, "to malloc: bytes kept");
	CHECK(in_use() == base, "the slot was freed when the bytes moved");
	q = scratch_realloc(p, 50, 1); /* malloc's pointer stays malloc's */
	CHECK(q && q[49] == 0xab, "shrunk in malloc");
	scratch_free(q);
	p = scratch_alloc(0);
	q = scratch_alloc(0);
	CHECK(p && q && p != q, "zero bytes: two distinct pointers");
	scratch_free(p);
	scratch_free(q);
	CHECK(in_use() == base, "realloc leaves nothing behind");
}

static void *free_all(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < N; i++)
		scratch_free(ptr[i]);
	return NULL;
}

static void *alloc_and_exit(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < N; i++) {
		len[i] = 64;
		ptr[i] = scratch_alloc(len[i]);
		fill(i);
	}
	return NULL;
}

/* Slots freed by another thread go back to their owner, which takes them
 * in when it next allocates; a thread that ends leaves its pool to the
 * next one. */
static void test_threads(void)
{
	uint64_t base = in_use();
	pthread_t t;
	size_t bad = 0;
	void *p;

	for (size_t i = 0; i < N; i++) {
		len[i] = 200;
		ptr[i] = scratch_alloc(len[i]);
		fill(i);
	}
	pthread_create(&t, NULL, free_all, NULL);
	pthread_join(t, NULL);
	p = scratch_alloc(10); /* the owner takes its slots back */
	scratch_free(p);
	CHECK(in_use() == base, "remote frees returned: %llu in use",
	      (unsigned long long)in_use());

	pthread_create(&t, NULL, alloc_and_exit, NULL);
	pthread_join(t, NULL);
	for (size_t i = 0; i < N; i++)
		if (!intact(i))
			bad++;
	CHECK(bad == 0, "an ended thread's slots are intact");
	free_all(NULL); /* remote frees to an orphaned pool */
	pthread_create(&t, NULL, alloc_and_exit, NULL); /* adopts it */
	pthread_join(t, NULL);
	free_all(NULL);
	pthread_create(&t, NULL, alloc_and_exit, NULL);
	pthread_join(t, NULL);
	free_all(NULL);
	CHECK(in_use() <= base + (uint64_t)N * 64,
	      "slots of ended threads are reused: %llu in use",
	      (unsigned long long)in_use());
}

int main(void)
{
	test_churn();
	test_realloc();
	test_threads();
	return test_done("scratch");
}
