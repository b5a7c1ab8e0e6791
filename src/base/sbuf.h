/* sbuf.h - a growing text buffer for replies (stats socket, /metrics,
 * descriptions): printf into it, it grows; out of memory is sticky and
 * checked once at the end (oom). */
#ifndef MOAT_SBUF_H
#define MOAT_SBUF_H

#include <stddef.h>

/* A growing text buffer for replies. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);
/* A value for a space-separated line: bare when it is plain, else quoted
 * with \" \\ and \xNN escapes (subjects have spaces, client ids
 * anything); NULL prints "-". */
void sb_word(struct sbuf *o, const char *v);

#endif
