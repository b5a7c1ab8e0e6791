/* topic.c - topic names and filters for moat's topic rules: validity,
 * matching level by level (one filter covering another, two filters
 * meeting), $share prefixes and placeholder substitution. A topic name is
 * a filter without wildcards, so one walk serves publish and subscribe.
 * Every function reads only the bytes it is given. */
#include <string.h>

#include "codec/topic.h"

/* One level of a filter or topic: [p, p + n); *rest moves past it. */
struct lvl {
	const char *s, *end;
	const char *p;
	size_t n;
	bool last; /* no level after this one */
};

static void lvl_init(struct lvl *l, const char *s, size_t len)
{
	l->s = s;
	l->end = s + len;
}

/* Next level; false when the string is used up. */
static bool lvl_next(struct lvl *l)
{
	const char *slash;

	if (!l->s)
		return false;
	slash = memchr(l->s, '/', (size_t)(l->end - l->s));
	l->p = l->s;
	if (slash) {
		l->n = (size_t)(slash - l->s);
		l->s = slash + 1;
		l->last = false;
	} else {
		l->n = (size_t)(l->end - l->s);
		l->s = NULL;
		l->last = true;
	}
	return true;
}

static bool is_wild(const struct lvl *l, char w)
{
	return l->n == 1 && l->p[0] == w;
}

bool topic_name_valid(const char *t, size_t len)
{
	return len > 0 && !memchr(t, '+', len) && !memchr(t, '#', len) &&
	       !memchr(t, 0, len);
}

bool topic_filter_valid(const char *f, size_t len)
{
	struct lvl l;

	if (len == 0 || memchr(f, 0, len))
		return false;
	lvl_init(&l, f, len);
	while (lvl_next(&l)) {
		bool plus = memchr(l.p, '+', l.n) != NULL;
		bool hash = memchr(l.p, '#', l.n) != NULL;

		if ((plus && !is_wild(&l, '+')) || (hash && !is_wild(&l, '#')))
			return false;
		if (hash && !l.last)
			return false;
	}
	return true;
}

bool topic_covers(const char *rule, size_t rlen, const char *sub, size_t slen)
{
	struct lvl r, s;

	lvl_init(&r, rule, rlen);
	lvl_init(&s, sub, slen);
	for (;;) {
		bool hr = lvl_next(&r), hs = lvl_next(&s);

		if (!hs)
			return !hr || (is_wild(&r, '#') && r.last);
		if (!hr)
			return false;
		if (is_wild(&r, '#'))
			return true;
		if (is_wild(&s, '#'))
			return false; /* many levels, the rule takes one */
		if (is_wild(&r, '+'))
			continue;
		if (is_wild(&s, '+'))
			return false; /* any level, the rule takes one */
		if (r.n != s.n || memcmp(r.p, s.p, r.n) != 0)
			return false;
	}
}

bool topic_meets(const char *a, size_t alen, const char *b, size_t blen)
{
	struct lvl x, y;

	lvl_init(&x, a, alen);
	lvl_init(&y, b, blen);
	for (;;) {
		bool hx = lvl_next(&x), hy = lvl_next(&y);

		if (!hx && !hy)
			return true;
		if (!hx)
			return is_wild(&y, '#');
		if (!hy)
			return is_wild(&x, '#');
		if (is_wild(&x, '#') || is_wild(&y, '#'))
			return true;
		if (is_wild(&x, '+') || is_wild(&y, '+'))
			continue;
		if (x.n != y.n || memcmp(x.p, y.p, x.n) != 0)
			return false;
	}
}

int topic_unshare(const char **f, size_t *len)
{
	static const char pfx[] = "$share/";
	const size_t pl = sizeof(pfx) - 1;
	const char *g, *slash;

	if (*len < pl || memcmp(*f, pfx, pl) != 0)
		return 0;
	g = *f + pl;
	slash = memchr(g, '/', *len - pl);
	if (!slash || slash == g || memchr(g, '+', (size_t)(slash - g)) ||
	    memchr(g, '#', (size_t)(slash - g)))
		return -1;
	*len -= (size_t)(slash + 1 - *f);
	*f = slash + 1;
	return *len ? 1 : -1;
}

bool topic_value_safe(const char *s, size_t len)
{
	return !memchr(s, '+', len) && !memchr(s, '#', len) &&
	       !memchr(s, '/', len) && !memchr(s, 0, len);
}

static int put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n >= cap)
		return TOPIC_E_NOSPACE;
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

int topic_expand(const char *pat, size_t plen, const struct topic_vars *v,
		 char *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return TOPIC_E_NOSPACE;
	while (i < plen) {
		const char *val = NULL;
		bool literal = false;
		const char *pct = memchr(pat + i, '%', plen - i);
		size_t lit = pct ? (size_t)(pct - (pat + i)) : plen - i;

		if (put(out, cap, &o, pat + i, lit) < 0)
			return TOPIC_E_NOSPACE;
		i += lit;
		if (i == plen)
			break;
		if (i + 1 >= plen)
			return TOPIC_E_SYNTAX;
		switch (pat[i + 1]) {
		case '%':
			val = "%";
			literal = true;
			i += 2;
			break;
		case 'c':
			val = v->client_id;
			i += 2;
			break;
		case 'u':
			val = v->username;
			i += 2;
			break;
		case 'i':
			val = v->identity;
			i += 2;
			break;
		case '{': {
			const char *close =
			    memchr(pat + i + 2, '}', plen - i - 2);
			size_t nl;

			if (!close || close == pat + i + 2)
				return TOPIC_E_SYNTAX;
			nl = (size_t)(close - (pat + i + 2));
			val =
			    v->claim ? v->claim(v->arg, pat + i + 2, nl) : NULL;
			i += nl + 3;
			break;
		}
		default:
			return TOPIC_E_SYNTAX;
		}
		if (!val)
			return TOPIC_E_UNKNOWN;
		if (!literal && !val[0])
			return TOPIC_E_UNKNOWN;
		if (!literal && !topic_value_safe(val, strlen(val)))
			return TOPIC_E_UNSAFE;
		if (put(out, cap, &o, val, strlen(val)) < 0)
			return TOPIC_E_NOSPACE;
	}
	out[o] = '\0';
	return (int)o;
}
