/* persource.h - per-source limits (limits.per_source): how many connections one
 * client address may hold, and how many it may open per second. One small
 * table per process, keyed by the address (IPv4, or IPv6 whole); an entry
 * lives while it has connections or a window to remember. */
#ifndef MOAT_PERSOURCE_H
#define MOAT_PERSOURCE_H

#include <stdint.h>
#include <sys/socket.h>

struct src_table;
struct src_entry;

struct src_table *src_table_new(void);
void src_table_free(struct src_table *t);

enum { SRC_OK = 0, SRC_TOO_MANY = -1, SRC_TOO_FAST = -2 };

/* Count a new connection from sa. max_conns/per_second 0 = no limit. On
 * SRC_OK, *e is held (release it at close); otherwise nothing is held. */
int src_admit(struct src_table *t, const struct sockaddr *sa,
	      uint64_t max_conns, uint64_t per_second, uint64_t now_ms,
	      struct src_entry **e);
void src_release(struct src_table *t, struct src_entry *e);

/* Forget idle entries whose window is over (call about once a second). */
void src_sweep(struct src_table *t, uint64_t now_ms);
size_t src_count(struct src_table *t);

#endif
