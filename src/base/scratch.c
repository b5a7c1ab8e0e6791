/* scratch.c - a heap of its own for what a TLS handshake needs only while
 * it runs.
 *
 * A handshake allocates about 4 KB that it frees when it ends (records,
 * key shares, the decoded chain, hashes) and, in between, the objects an
 * idle session keeps (cipher keys, the session). From one malloc heap,
 * when many devices connect at once, the kept objects land between the
 * temporaries of the other handshakes; when those are freed the holes
 * stay, pinned by the kept objects around them: 10 KB of RSS per idle
 * connection for 5.6 KB of heap.
 *
 * wolfSSL is built with XMALLOC_USER and calls XMALLOC/XFREE/XREALLOC
 * below with the type of each allocation. The types a handshake frees
 * before it ends come from here: 64 KiB chunks, each cut into slots of
 * one size class, carved from one reserved address range (so a pointer is
 * known to be ours by its address, whatever type it is freed with). A
 * chunk whose slots are all free again is kept for reuse; scratch_trim,
 * once a second in every worker, gives the pages of those that stayed
 * empty for a whole second back to the kernel (MADV_DONTNEED, the
 * header's page too: a storm's hundreds of chunks would otherwise keep a
 * page each), all but
 * SCRATCH_KEEP per thread. (Giving them back as soon as they were empty
 * cost 5 % of a handshake's CPU in madvise, TLB flushes and page faults
 * during a burst.) Everything else goes to malloc, where the kept objects
 * now sit next to each other.
 *
 * One pool per thread, used without a lock: two workers never meet here.
 * A slot freed by another thread than its chunk's owner (a context freed
 * by the worker that held it last) is pushed on the owner's remote stack,
 * which the owner empties when it next allocates. */
#include "base/scratch.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <wolfssl/options.h> /* XMALLOC_USER, for the bundled build */

#if defined(__SANITIZE_ADDRESS__)
#define SCRATCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCRATCH_ASAN 1
#endif
#endif
#ifdef SCRATCH_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHUNK ((size_t)64 * 1024)
#define REGION ((size_t)16 << 30) /* address space only (MAP_NORESERVE) */
#define HDR 64                    /* chunk header, slots start after it */
#define SCRATCH_KEEP 4            /* empty chunks scratch_trim leaves */

static const uint32_t class_size[] = {
	32,   48,   64,   96,   128,  192,  256,  384,  512,
	768,  1024, 1536, 2048, 3072, 4096, 6144, 8192,
};
#define NCLASS (sizeof(class_size) / sizeof(class_size[0]))
#define MAX_SLOT 8192
/* size class by 16-byte step, filled by region_init */
static uint8_t class_tab[MAX_SLOT / 16 + 1];

struct pool;

struct chunk {
	struct pool *pool;
	struct chunk *prev, *next; /* in its class's list, or an empty list */
	void *free;                /* freed slots, linked through their start */
	uint32_t bump;             /* offset of the slots never handed out */
	uint32_t used;             /* slots handed out */
	uint32_t tick;             /* the pool's tick when it became empty */
	uint8_t cls;
	uint8_t state;
};
_Static_assert(sizeof(struct chunk) <= HDR, "chunk header");

enum { C_PARTIAL, C_FULL, C_EMPTY };

struct pool {
	struct chunk *partial[NCLASS]; /* chunks with a free slot */
	struct chunk *empty;           /* all slots free, pages mapped */
	/* all slots free, every page given back, the header's too (it is
	 * written again when the chunk is reused): kept here, not linked
	 * through the header */
	struct chunk **released;
	size_t n_released, released_cap;
	uint32_t tick;                 /* scratch_trim calls */
	_Atomic(void *) remote; /* slots freed by other threads */
	/* written by the owner only, read by scratch_stats */
	atomic_ullong bytes;  /* in slots handed out */
	atomic_ullong mapped; /* chunks with their pages mapped */
	struct pool *next_all, *next_orphan;
};

static char *region;
static atomic_size_t region_used;
static pthread_once_t region_once = PTHREAD_ONCE_INIT;
static pthread_key_t pool_key;
static pthread_mutex_t pools_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pool *pools;   /* every pool, for scratch_stats */
static struct pool *orphans; /* pools of threads that ended, for reuse */
static _Thread_local struct pool *my_pool;

static void add(atomic_ullong *v, long long d)
{
	atomic_store_explicit(
		v, atomic_load_explicit(v, memory_order_relaxed) + (unsigned long long)d,
		memory_order_relaxed);
}

static void pool_orphan(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&pools_mu);
	p->next_orphan = orphans;
	orphans = p;
	pthread_mutex_unlock(&pools_mu);
}

static void region_init(void)
{
	void *r = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED)
		return; /* everything goes to malloc */
	/* chunks are aligned to CHUNK: start at the first aligned address */
	uintptr_t a = ((uintptr_t)r + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1);
	atomic_store(&region_used, (size_t)(a - (uintptr_t)r));
	for (unsigned i = 0, k = 0; i <= MAX_SLOT / 16; i++) {
		while (class_size[k] < i * 16)
			k++;
		class_tab[i] = (uint8_t)k;
	}
	region = r;
	pthread_key_create(&pool_key, pool_orphan);
}

static struct pool *pool_get(void)
{
	struct pool *p = my_pool;

	if (p)
		return p;
	pthread_once(&region_once, region_init);
	if (!region)
		return NULL;
	pthread_mutex_lock(&pools_mu);
	p = orphans;
	if (p) {
		orphans = p->next_orphan;
	} else if ((p = calloc(1, sizeof(*p)))) {
		p->next_all = pools;
		pools = p;
	}
	pthread_mutex_unlock(&pools_mu);
	if (!p)
		return NULL;
	pthread_setspecific(pool_key, p);
	my_pool = p;
	return p;
}

static int in_region(const void *ptr)
{
	return region && (const char *)ptr >= region &&
	       (const char *)ptr < region + REGION;
}

static struct chunk *chunk_of(const void *ptr)
{
	uintptr_t a = (uintptr_t)ptr & ~(uintptr_t)(CHUNK - 1);

	return (struct chunk *)a;
}

static int class_of(size_t n)
{
	return n <= MAX_SLOT ? class_tab[(n + 15) / 16] : -1;
}

static void list_del(struct chunk **head, struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void list_add(struct chunk **head, struct chunk *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

/* A chunk for class k: an empty one, a released one, or a new one. */
static struct chunk *chunk_new(struct pool *p, int k)
{
	struct chunk *c = p->empty;

	if (c) {
		list_del(&p->empty, c);
	} else if (p->n_released) {
		c = p->released[--p->n_released];
		c->pool = p; /* the header page was given back too */
		add(&p->mapped, CHUNK);
	} else {
		size_t off = atomic_fetch_add(&region_used, CHUNK);

		if (off + CHUNK > REGION)
			return NULL;
		c = (struct chunk *)(region + off);
		c->pool = p;
		add(&p->mapped, CHUNK);
	}
	c->free = NULL;
	c->bump = HDR;
	c->used = 0;
	c->cls = (uint8_t)k;
	c->state = C_PARTIAL;
	POISON((char *)c + HDR, CHUNK - HDR);
	list_add(&p->partial[k], c);
	return c;
}

/* Give a slot back to its chunk; the caller owns the chunk's pool. */
static void slot_put_local(struct pool *p, void *s)
{
	struct chunk *c = chunk_of(s);
	uint32_t sz = class_size[c->cls];

	add(&p->bytes, -(long long)sz);
	*(void **)s = c->free;
	c->free = s;
	POISON(s, sz);
	if (c->state == C_FULL) {
		c->state = C_PARTIAL;
		list_add(&p->partial[c->cls], c);
	}
	if (--c->used)
		return;
	list_del(&p->partial[c->cls], c);
	c->state = C_EMPTY;
	c->tick = p->tick;
	list_add(&p->empty, c);
}

void scratch_trim(void)
{
	struct pool *p = my_pool;
	struct chunk *c, *next;
	unsigned kept = 0;

	if (!p)
		return;
	/* newest first: keep SCRATCH_KEEP, give back the pages of the rest
	 * if they were already empty at the previous call */
	for (c = p->empty; c; c = next) {
		next = c->next;
		if (kept < SCRATCH_KEEP || c->tick == p->tick) {
			kept++;
			continue;
		}
		if (p->n_released == p->released_cap) {
			size_t cap = p->released_cap ? 2 * p->released_cap : 64;
			struct chunk **r =
			    realloc(p->released, cap * sizeof(*r));

			if (!r) /* keep it mapped: the next call tries again */
				break;
			p->released = r;
			p->released_cap = cap;
		}
		list_del(&p->empty, c);
		madvise((char *)c, CHUNK, MADV_DONTNEED);
		p->released[p->n_released++] = c;
		add(&p->mapped, -(long long)CHUNK);
	}
	p->tick++;
}

static void *slot_get(struct pool *p, int k)
{
	struct chunk *c;
	uint32_t sz = class_size[k];
	void *s;

	if (atomic_load_explicit(&p->remote, memory_order_relaxed)) {
		s = atomic_exchange_explicit(&p->remote, NULL,
					     memory_order_acquire);
		while (s) {
			void *next;

			UNPOISON(s, sizeof(void *));
			next = *(void **)s;
			slot_put_local(p, s);
			s = next;
		}
	}
	c = p->partial[k];
	if (!c && !(c = chunk_new(p, k)))
		return NULL;
	if (c->free) {
		s = c->free;
		UNPOISON(s, sizeof(void *));
		c->free = *(void **)s;
	} else {
		s = (char *)c + c->bump;
		c->bump += sz;
	}
	c->used++;
	if (!c->free && c->bump + sz > CHUNK) {
		list_del(&p->partial[k], c);
		c->state = C_FULL;
	}
	UNPOISON(s, sz);
	add(&p->bytes, sz);
	return s;
}

static void slot_put(void *s)
{
	struct pool *p = chunk_of(s)->pool;
	void *head;

	if (p == my_pool) {
		slot_put_local(p, s);
		return;
	}
	/* another thread's chunk: onto its owner's remote stack */
	POISON(s, class_size[chunk_of(s)->cls]);
	UNPOISON(s, sizeof(void *));
	head = atomic_load_explicit(&p->remote, memory_order_relaxed);
	do
		*(void **)s = head;
	while (!atomic_compare_exchange_weak_explicit(
		&p->remote, &head, s, memory_order_release,
		memory_order_relaxed));
}

void *scratch_alloc(size_t n)
{
	struct pool *p = pool_get(); /* the first call sets class_tab up */
	int k = class_of(n ? n : 1);
	void *s;

#if defined(SCRATCH_ASAN) && !defined(SCRATCH_UNDER_ASAN)
	/* under AddressSanitizer everything stays in malloc, where the leak
	 * checker sees it (it neither scans nor tracks this heap); the unit
	 * test builds the pool under ASan with SCRATCH_UNDER_ASAN */
	k = -1;
#endif
	if (k < 0 || !p)
		return malloc(n);
	s = slot_get(p, k);
	return s ? s : malloc(n);
}

void scratch_free(void *s)
{
	if (!s)
		return;
	if (in_region(s))
		slot_put(s);
	else
		free(s);
}

void *scratch_realloc(void *s, size_t n, int scratch)
{
	void *d;
	size_t old;

	if (!s)
		return scratch ? scratch_alloc(n) : malloc(n);
	if (!in_region(s))
		return realloc(s, n);
	old = class_size[chunk_of(s)->cls];
	if (n <= old && n > 0)
		return s;
	d = scratch ? scratch_alloc(n) : malloc(n);
	if (!d)
		return NULL;
	memcpy(d, s, n < old ? n : old);
	slot_put(s);
	return d;
}

void scratch_stats(uint64_t *bytes, uint64_t *mapped)
{
	*bytes = *mapped = 0;
	pthread_mutex_lock(&pools_mu);
	for (struct pool *p = pools; p; p = p->next_all) {
		*bytes += atomic_load_explicit(&p->bytes, memory_order_relaxed);
		*mapped += atomic_load_explicit(&p->mapped, memory_order_relaxed);
	}
	pthread_mutex_unlock(&pools_mu);
}

void heap_stats(struct heap_stats *h)
{
	struct mallinfo2 mi = mallinfo2();

	h->malloc_bytes = mi.uordblks + mi.hblkhd;
	scratch_stats(&h->scratch_bytes, &h->scratch_mapped);
}

#ifdef XMALLOC_USER
/* wolfSSL's allocator (XMALLOC_USER, see scripts/build-wolfssl.sh). The
 * types below are what a handshake frees before it ends (measured: with
 * 1,000 idle sessions held, none of them has a live allocation); the
 * session's own objects (DYNAMIC_TYPE_SSL, _CIPHER, _SESSION, _RNG, ...)
 * and everything a context holds go to malloc. */
static int short_lived(int type)
{
	switch (type) {
	case 1:  /* DYNAMIC_TYPE_CA (loading) */
	case 4:  /* DYNAMIC_TYPE_FILE (loading) */
	case 6:  /* DYNAMIC_TYPE_PUBLIC_KEY */
	case 12: /* DYNAMIC_TYPE_OUT_BUFFER */
	case 13: /* DYNAMIC_TYPE_IN_BUFFER */
	case 29: /* DYNAMIC_TYPE_ALTNAME */
	case 30: /* DYNAMIC_TYPE_SUITES */
	case 32: /* DYNAMIC_TYPE_RNG (a TLS 1.3 server's: freed at the end,
		    scripts/build-wolfssl.sh, "static ticket") */
	case 33: /* DYNAMIC_TYPE_ARRAYS */
	case 37: /* DYNAMIC_TYPE_ECC (21 KB a handshake, in small pieces) */
	case 38: /* DYNAMIC_TYPE_TMP_BUFFER */
	case 41: /* DYNAMIC_TYPE_TLSX (a TLS 1.3 server frees them at the end,
		    scripts/build-wolfssl.sh, "static ticket") */
	case 43: /* DYNAMIC_TYPE_SIGNATURE */
	case 44: /* DYNAMIC_TYPE_HASHES */
	case 51: /* DYNAMIC_TYPE_X509_CTX */
	case 55: /* DYNAMIC_TYPE_SESSION_TICK (freed by tls_session_settle) */
	case 66: /* DYNAMIC_TYPE_ASYNC */
	case 71: /* DYNAMIC_TYPE_SECRET */
	case 72: /* DYNAMIC_TYPE_DIGEST */
	case 74: /* DYNAMIC_TYPE_DCERT */
	case 75: /* DYNAMIC_TYPE_STRING */
	case 77: /* DYNAMIC_TYPE_DER */
	case 78: /* DYNAMIC_TYPE_CERT_EXT */
	case 85: /* DYNAMIC_TYPE_ECC_BUFFER */
	case 88: /* DYNAMIC_TYPE_HASH_TMP */
		return 1;
	}
	return 0;
}

void *XMALLOC(size_t n, void *heap, int type)
{
	(void)heap;
	return short_lived(type) ? scratch_alloc(n) : malloc(n);
}

void *XREALLOC(void *p, size_t n, void *heap, int type)
{
	(void)heap;
	return scratch_realloc(p, n, short_lived(type));
}

void XFREE(void *p, void *heap, int type)
{
	(void)heap;
	(void)type;
	scratch_free(p);
}
#endif
