/* log.c - event logging. Each event is formatted into one buffer and
 * written with a single write(2), so lines from several threads never
 * interleave. Values come from certificates and clients: text mode quotes
 * and escapes them, JSON mode escapes them and replaces invalid UTF-8. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define LOG_LINE_MAX 4096
#define LOG_VALUE_MAX 1024

static enum log_level log_level = LOG_INFO;
static int log_json;

static const char *level_names[] = {"error", "warn", "info", "debug"};

void log_setup(enum log_level level, int json)
{
	log_level = level;
	log_json = json;
}

int log_enabled(enum log_level level)
{
	return level <= log_level;
}

struct lbuf {
	char b[LOG_LINE_MAX];
	size_t n;
};

static void put(struct lbuf *l, const char *s, size_t n)
{
	if (n > sizeof(l->b) - 2 - l->n)
		n = sizeof(l->b) - 2 - l->n;
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void puts_(struct lbuf *l, const char *s)
{
	put(l, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		k = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		k = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		k = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

static void put_json(struct lbuf *l, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), i = 0;
	char esc[8];

	if (n > LOG_VALUE_MAX)
		n = LOG_VALUE_MAX;
	puts_(l, "\"");
	while (i < n) {
		size_t k;

		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			put(l, esc, 2);
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			puts_(l, esc);
			i++;
		} else if ((k = utf8_len(s + i, n - i)) == 0) {
			puts_(l, "\\ufffd");
			i++;
		} else {
			put(l, (const char *)s + i, k);
			i += k;
		}
	}
	if (strlen(v) > LOG_VALUE_MAX)
		puts_(l, "...");
	puts_(l, "\"");
}

static void put_text(struct lbuf *l, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v);
	int quote = n == 0;
	char esc[8];

	if (n > LOG_VALUE_MAX)
		n = LOG_VALUE_MAX;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] == '"' || s[i] == '=' ||
		    s[i] == '\\' || s[i] >= 0x7f)
			quote = 1;
	if (!quote) {
		put(l, v, n);
		return;
	}
	puts_(l, "\"");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)s[i];
			put(l, esc, 2);
		} else if (s[i] < 0x20 || s[i] >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			puts_(l, esc);
		} else {
			put(l, (const char *)s + i, 1);
		}
	}
	if (strlen(v) > LOG_VALUE_MAX)
		puts_(l, "...");
	puts_(l, "\"");
}

void log_event(enum log_level level, const char *event, ...)
{
	struct lbuf l;
	struct timeval tv;
	struct tm tm;
	char ts[96];
	va_list ap;
	const char *k, *v;

	if (level > log_level)
		return;
	l.n = 0;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
	if (log_json) {
		puts_(&l, "{\"ts\":\"");
		puts_(&l, ts);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"event\":");
		put_json(&l, event);
	} else {
		puts_(&l, ts);
		puts_(&l, " ");
		puts_(&l, level_names[level]);
		puts_(&l, " ");
		puts_(&l, event);
	}
	va_start(ap, event);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (!v || !*v)
			continue;
		if (log_json) {
			puts_(&l, ",");
			put_json(&l, k);
			puts_(&l, ":");
			put_json(&l, v);
		} else {
			puts_(&l, " ");
			puts_(&l, k);
			puts_(&l, "=");
			put_text(&l, v);
		}
	}
	va_end(ap);
	if (log_json)
		l.b[l.n++] = '}';
	l.b[l.n++] = '\n';
	if (write(2, l.b, l.n) < 0)
		return;
}
