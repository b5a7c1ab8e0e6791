/* http_req.c - an HTTP/1.1 request head read whole (see http_req.h): the
 * request line (token method, origin-form target, HTTP/1.1 only) and each
 * header line checked strictly (no folding, no bare CR or LF, token names,
 * no control characters in values), at most max bytes and
 * HTTP_MAX_HEADER_LINES lines. What the fields mean is the caller's. */
#include <string.h>

#include "codec/http_req.h"

size_t http_head_end(const uint8_t *p, size_t n, size_t from)
{
	for (size_t i = from; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' &&
		    p[i + 3] == '\n')
			return i + 4;
	return 0;
}

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

int http_ieq(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	if (n != sl)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != lower((unsigned char)s[i]))
			return 0;
	return 1;
}

static int tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

void http_list_each(const char *v, size_t n,
		    void (*fn)(const char *e, size_t el, void *arg), void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t s = i, e;

		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s)
			fn(v + s, e - s, arg);
		i++;
	}
}

int http_pair_find(const char *v, size_t n, char sep, const char *name,
		   const char **val, size_t *vlen)
{
	size_t nl = strlen(name), i = 0;
	int found = 0;

	while (i <= n) {
		size_t s = i, e;

		while (i < n && v[i] != sep)
			i++;
		e = i;
		while (s < e && v[s] == ' ')
			s++;
		if (e - s > nl && memcmp(v + s, name, nl) == 0 &&
		    v[s + nl] == '=') {
			if (found)
				return -1;
			found = 1;
			*val = v + s + nl + 1;
			*vlen = e - s - nl - 1;
		}
		i++;
	}
	return found;
}

static int bad(struct http_req *rq, int st, const char *why)
{
	rq->why = why;
	return st;
}

/* method SP origin-form SP HTTP/1.1 */
static int request_line(const char *s, size_t n, struct http_req *rq)
{
	const char *t, *sp;
	size_t ml = 0, tl;

	while (ml < n && ml < 16 && tchar((unsigned char)s[ml]))
		ml++;
	if (!ml || ml >= n || s[ml] != ' ')
		return bad(rq, 400, "bad method");
	t = s + ml + 1;
	sp = memchr(t, ' ', n - ml - 1);
	if (!sp || sp == t || *t != '/')
		return bad(rq, 400, "bad request target");
	tl = (size_t)(sp - t);
	if ((size_t)(s + n - sp) != 9 || memcmp(sp, " HTTP/1.1", 9) != 0)
		return bad(rq, 400, "not HTTP/1.1");
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return bad(rq, 400, "bad request target");
	rq->method = s;
	rq->method_len = ml;
	rq->target = t;
	rq->target_len = tl;
	sp = memchr(t, '?', tl);
	rq->path_len = sp ? (size_t)(sp - t) : tl;
	return 0;
}

/* One header line l[0..len): name ':' OWS value OWS. */
static int field_line(const char *l, size_t len, struct http_req *rq)
{
	const char *colon = memchr(l, ':', len), *vs, *ve, *eol = l + len;
	struct http_field *f;

	if (memchr(l, '\n', len))
		return bad(rq, 400, "bare LF");
	if (!colon || colon == l)
		return bad(rq, 400, "bad header line");
	for (const char *c = l; c < colon; c++)
		if (!tchar((unsigned char)*c))
			return bad(rq, 400, "bad header name");
	vs = colon + 1;
	ve = eol;
	while (vs < ve && (*vs == ' ' || *vs == '\t'))
		vs++;
	while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (const char *c = vs; c < ve; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return bad(rq, 400, "control character in a header");
	f = &rq->f[rq->n_fields++];
	f->name = l;
	f->name_len = (size_t)(colon - l);
	f->value = vs;
	f->value_len = (size_t)(ve - vs);
	return 0;
}

int http_parse_head(const uint8_t *p, size_t n, size_t max, struct http_req *rq)
{
	const char *s = (const char *)p, *end, *eol;
	int st;

	memset(rq, 0, sizeof(*rq));
	if (n > max)
		return bad(rq, 431, "headers over max_header");
	if (n < 4 || memcmp(s + n - 4, "\r\n\r\n", 4) != 0)
		return bad(rq, 400, "incomplete request");
	end = s + n - 2; /* the empty line */
	eol = memchr(s, '\r', (size_t)(end - s));
	if (!eol || eol[1] != '\n' || memchr(s, '\n', (size_t)(eol - s)))
		return bad(rq, 400, "bad request line");
	if ((st = request_line(s, (size_t)(eol - s), rq)) != 0)
		return st;
	for (const char *l = eol + 2; l < end; l = eol + 2) {
		if (rq->n_fields >= HTTP_MAX_HEADER_LINES)
			return bad(rq, 431, "too many header lines");
		eol = memchr(l, '\r', (size_t)(end - l));
		if (!eol || eol[1] != '\n')
			return bad(rq, 400, "bare CR or LF");
		if ((st = field_line(l, (size_t)(eol - l), rq)) != 0)
			return st;
	}
	return 0;
}

int http_method_is(const struct http_req *rq, const char *m)
{
	return rq->method_len == strlen(m) &&
	       memcmp(rq->method, m, rq->method_len) == 0;
}

unsigned http_field(const struct http_req *rq, const char *name, const char **v,
		    size_t *vl)
{
	unsigned k = 0;

	for (size_t i = 0; i < rq->n_fields; i++)
		if (http_ieq(rq->f[i].name, rq->f[i].name_len, name)) {
			k++;
			*v = rq->f[i].value;
			*vl = rq->f[i].value_len;
		}
	return k;
}
