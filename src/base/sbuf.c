/* sbuf.c - the growing text buffer (see sbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/sbuf.h"

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

void sb_json_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : "");
	     *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(b, "\\u%04x", *p);
		else
			sb_printf(b, "%c", *p);
	}
	sb_printf(b, "\"");
}

void sb_word(struct sbuf *o, const char *v)
{
	const unsigned char *p = (const unsigned char *)(v ? v : "-");
	int plain = *p != 0;

	for (const unsigned char *q = p; *q; q++)
		if (*q <= ' ' || *q == '"' || *q == '\\' || *q >= 0x7f)
			plain = 0;
	if (plain) {
		sb_printf(o, "%s", (const char *)p);
		return;
	}
	sb_printf(o, "\"");
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(o, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			sb_printf(o, "\\x%02x", *p);
		else
			sb_printf(o, "%c", *p);
	}
	sb_printf(o, "\"");
}
