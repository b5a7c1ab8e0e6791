/* util.c - parsing of the config's value syntaxes (durations, sizes,
 * socket addresses, CIDRs), address printing and a monotonic clock. Pure
 * functions: every input is a NUL-terminated string from the config. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"

/* Leading decimal digits into *v; returns the rest, or NULL on no digits
 * or overflow. */
static const char *parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	const char *p = s;

	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
		p++;
	}
	if (p == s)
		return NULL;
	*v = n;
	return p;
}

static int scale(uint64_t n, uint64_t mul, uint64_t *out)
{
	if (mul && n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

int util_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {{"ms", 1},
		     {"s", 1000},
		     {"m", 60000},
		     {"h", 3600000},
		     {"d", 86400000}};
	uint64_t n;
	const char *rest;

	if (!s)
		return MOAT_EINVAL_DURATION;
	rest = parse_u64(s, &n);
	if (!rest)
		return MOAT_EINVAL_DURATION;
	if (*rest == '\0')
		return n == 0 ? (*ms = 0, 0) : MOAT_EINVAL_DURATION;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(rest, units[i].unit) == 0)
			return scale(n, units[i].mul, ms) ? MOAT_EINVAL_DURATION
							  : 0;
	return MOAT_EINVAL_DURATION;
}

int util_b64_val(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

size_t util_b64_lines(const uint8_t *der, size_t n, char *out, size_t cap)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	if ((n + 2) / 3 * 4 + (n + 47) / 48 + 1 > cap)
		return 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < n)
			v |= der[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
		if ((i / 3 + 1) % 16 == 0 || i + 3 >= n) /* 64 a line */
			out[o++] = '\n';
	}
	out[o] = '\0';
	return o;
}

size_t util_pem(const char *label, const uint8_t *der, size_t n, char *out,
		size_t cap)
{
	size_t o, need = 2 * (11 + 5 + strlen(label) + 1) + (n + 2) / 3 * 4 +
			 (n + 47) / 48 + 1;

	if (need > cap)
		return 0;
	o = (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", label);
	o += util_b64_lines(der, n, out + o, cap - o);
	o += (size_t)snprintf(out + o, cap - o, "-----END %s-----\n", label);
	return o;
}

int util_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {{"", 1},
		     {"B", 1},
		     {"KiB", 1024},
		     {"MiB", 1024 * 1024},
		     {"GiB", 1024 * 1024 * 1024},
		     {"KB", 1000},
		     {"MB", 1000 * 1000},
		     {"GB", 1000 * 1000 * 1000}};
	uint64_t n;
	const char *rest;

	if (!s)
		return MOAT_EINVAL_SIZE;
	rest = parse_u64(s, &n);
	if (!rest)
		return MOAT_EINVAL_SIZE;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(rest, units[i].unit) == 0)
			return scale(n, units[i].mul, bytes) ? MOAT_EINVAL_SIZE
							     : 0;
	return MOAT_EINVAL_SIZE;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;
	const char *rest = parse_u64(s, &v);

	if (!rest || *rest || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int util_parse_hostport(const char *s, char *host, size_t hostlen,
			uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	size_t n;
	unsigned long p = 0;

	if (!colon || colon == s)
		return MOAT_EINVAL_ADDR;
	n = (size_t)(colon - s);
	if (n > 253 || n + 1 > hostlen || s[0] == '-' || s[0] == '.' ||
	    colon[-1] == '-')
		return MOAT_EINVAL_ADDR;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return MOAT_EINVAL_ADDR;
		if (ch == '.' && i + 1 < n && s[i + 1] == '.')
			return MOAT_EINVAL_ADDR;
	}
	if (!colon[1] || strlen(colon + 1) > 5)
		return MOAT_EINVAL_ADDR;
	for (const char *q = colon + 1; *q; q++) {
		if (*q < '0' || *q > '9')
			return MOAT_EINVAL_ADDR;
		p = p * 10 + (unsigned long)(*q - '0');
	}
	if (p < 1 || p > 65535)
		return MOAT_EINVAL_ADDR;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int util_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon;
	uint16_t port;

	if (!s)
		return MOAT_EINVAL_ADDR;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (!end || end[1] != ':' ||
		    (size_t)(end - s - 1) >= sizeof(host))
			return MOAT_EINVAL_ADDR;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		if (parse_port(end + 2, &port) < 0 ||
		    inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return MOAT_EINVAL_ADDR;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host) ||
	    memchr(s, ':', (size_t)(colon - s)))
		return MOAT_EINVAL_ADDR;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	{
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (parse_port(colon + 1, &port) < 0)
			return MOAT_EINVAL_ADDR;
		if (strcmp(host, "*") == 0)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return MOAT_EINVAL_ADDR;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
}

int util_parse_cidr(const char *s, struct util_cidr *c)
{
	char host[64];
	const char *slash;
	uint64_t bits;
	size_t hl;
	int max;

	if (!s)
		return MOAT_EINVAL_ADDR;
	memset(c, 0, sizeof(*c));
	slash = strchr(s, '/');
	hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return MOAT_EINVAL_ADDR;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return MOAT_EINVAL_ADDR;
	}
	bits = (uint64_t)max;
	if (slash) {
		const char *rest = parse_u64(slash + 1, &bits);

		if (!rest || *rest || bits > (uint64_t)max)
			return MOAT_EINVAL_ADDR;
	}
	c->bits = (uint8_t)bits;
	return 0;
}

int util_cidr_match(const struct util_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t mapped[4];

	if (sa->sa_family == AF_INET) {
		if (c->family != AF_INET)
			return 0;
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)
			->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		a = s6->sin6_addr.s6_addr;
		if (c->family == AF_INET) {
			/* ::ffff:a.b.c.d against an IPv4 range */
			if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
				return 0;
			memcpy(mapped, a + 12, 4);
			a = mapped;
		}
	} else {
		return 0;
	}
	for (unsigned i = 0; i < c->bits; i += 8) {
		unsigned left = c->bits - i;
		uint8_t mask = left >= 8 ? 0xff : (uint8_t)(0xff << (8 - left));

		if ((a[i / 8] & mask) != (c->addr[i / 8] & mask))
			return 0;
	}
	return 1;
}

const char *util_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		snprintf(buf, len, "-");
	}
	return buf;
}

static int addr_in(const union util_addr *list, size_t n,
		   const struct sockaddr *sa)
{
	size_t len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6);

	for (size_t i = 0; i < n; i++)
		if (list[i].sa.sa_family == sa->sa_family &&
		    memcmp(&list[i], sa, len) == 0)
			return 1;
	return 0;
}

/* Two passes over the answer: the family put first, then the rest (one
 * pass over all of it when none is). */
size_t util_addr_list(union util_addr *out, size_t max,
		      const struct addrinfo *res, int family_first)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (const struct addrinfo *a = res; a; a = a->ai_next) {
			const struct sockaddr *sa = a->ai_addr;
			int mine = family_first == AF_UNSPEC ||
				   sa->sa_family == family_first;

			if (n == max)
				return n;
			if ((pass == 0) != mine ||
			    (sa->sa_family != AF_INET &&
			     sa->sa_family != AF_INET6) ||
			    a->ai_addrlen > sizeof(out[0]) ||
			    addr_in(out, n, sa))
				continue;
			memset(&out[n], 0, sizeof(out[0]));
			memcpy(&out[n++], sa, a->ai_addrlen);
		}
	return n;
}

uint64_t util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
