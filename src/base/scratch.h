/* scratch.h - a heap of its own for a TLS handshake's temporaries */
#ifndef MOAT_SCRATCH_H
#define MOAT_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

void *scratch_alloc(size_t n);
void scratch_free(void *p);
/* p from either heap; the result from scratch when scratch is set */
void *scratch_realloc(void *p, size_t n, int scratch);
/* Once a second on every thread that runs handshakes: the pages of the
 * calling thread's chunks that stayed empty since its last call go back
 * to the kernel. */
void scratch_trim(void);
/* bytes in slots handed out, bytes of chunks with their pages mapped */
void scratch_stats(uint64_t *bytes, uint64_t *mapped);

/* moat's two heaps, for show info and /metrics */
struct heap_stats {
	uint64_t malloc_bytes;   /* glibc's heap in use */
	uint64_t scratch_bytes;  /* scratch slots in use */
	uint64_t scratch_mapped; /* scratch chunks with pages mapped */
};
void heap_stats(struct heap_stats *h);

#endif
