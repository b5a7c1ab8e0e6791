/* proxy.c - PROXY protocol v1 and v2 headers (see proxy.h and HAProxy's
 * proxy-protocol.txt). Only TCP over IPv4 and IPv6 carries an address;
 * everything else is accepted as "the balancer's own connection" where the
 * specification says so, and refused where it is malformed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "codec/proxy.h"

static const uint8_t v2sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A decimal port, 0..65535, no sign, no leading zero but "0". */
static int port_parse(const char *s, size_t n, uint16_t *port)
{
	uint32_t v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int v1(const uint8_t *p, size_t n, struct sockaddr_storage *src,
	      size_t *used)
{
	const char *s = (const char *)p, *f[6];
	size_t fl[6], len, nf = 0, i = 6;
	const uint8_t *crlf = NULL;
	char a[64];
	uint16_t port;

	for (size_t k = 0; k + 1 < n && k + 1 < 107; k++) /* 107 with CRLF */
		if (p[k] == '\r' && p[k + 1] == '\n') {
			crlf = p + k;
			break;
		}
	if (!crlf)
		return n >= 107 ? PROXY_BAD : PROXY_AGAIN;
	len = (size_t)(crlf - p);
	*used = len + 2;
	/* "PROXY" SP proto [SP src SP dst SP sport SP dport] */
	while (i < len && nf < 6) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		f[nf] = s + i;
		fl[nf++] = j - i;
		i = j + 1;
	}
	if (nf == 0 || i < len + 1)
		return PROXY_BAD; /* more than six fields */
	if (fl[0] == 7 && !memcmp(f[0], "UNKNOWN", 7)) {
		src->ss_family = AF_UNSPEC;
		return PROXY_DONE;
	}
	if (nf != 5 || fl[0] != 4 || (memcmp(f[0], "TCP4", 4) &&
				      memcmp(f[0], "TCP6", 4)))
		return PROXY_BAD;
	if (fl[1] == 0 || fl[1] >= sizeof(a) ||
	    port_parse(f[3], fl[3], &port) < 0 ||
	    port_parse(f[4], fl[4], &(uint16_t){0}) < 0)
		return PROXY_BAD;
	if (fl[2] == 0 || fl[2] >= sizeof(a))
		return PROXY_BAD;
	memcpy(a, f[2], fl[2]); /* the destination must be an address too */
	a[fl[2]] = 0;
	{
		uint8_t tmp[16];

		if (inet_pton(f[0][3] == '4' ? AF_INET : AF_INET6, a, tmp) != 1)
			return PROXY_BAD;
	}
	memcpy(a, f[1], fl[1]);
	a[fl[1]] = 0;
	memset(src, 0, sizeof(*src));
	if (f[0][3] == '4') {
		struct sockaddr_in *in = (struct sockaddr_in *)src;

		if (inet_pton(AF_INET, a, &in->sin_addr) != 1)
			return PROXY_BAD;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)src;

		if (inet_pton(AF_INET6, a, &in6->sin6_addr) != 1)
			return PROXY_BAD;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	}
	return PROXY_DONE;
}

static int v2(const uint8_t *p, size_t n, struct sockaddr_storage *src,
	      size_t *used)
{
	size_t len, total;
	uint8_t cmd, fam;

	if (n < 16)
		return PROXY_AGAIN;
	if ((p[12] & 0xf0) != 0x20)
		return PROXY_BAD;
	cmd = p[12] & 0x0f;
	fam = p[13];
	len = (size_t)p[14] << 8 | p[15];
	total = 16 + len;
	if (total > PROXY_MAX_HEADER || cmd > 1)
		return PROXY_BAD;
	if (n < total)
		return PROXY_AGAIN;
	*used = total;
	memset(src, 0, sizeof(*src));
	src->ss_family = AF_UNSPEC;
	if (cmd == 0) /* LOCAL: the balancer's own connection (health check) */
		return PROXY_DONE;
	switch (fam) {
	case 0x11: { /* TCP over IPv4 */
		struct sockaddr_in *in = (struct sockaddr_in *)src;

		if (len < 12)
			return PROXY_BAD;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, p + 16, 4);
		memcpy(&in->sin_port, p + 24, 2);
		return PROXY_DONE;
	}
	case 0x21: { /* TCP over IPv6 */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)src;

		if (len < 36)
			return PROXY_BAD;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, p + 16, 16);
		memcpy(&in6->sin6_port, p + 48, 2);
		return PROXY_DONE;
	}
	case 0x00: /* UNSPEC: keep the socket's address */
		return PROXY_DONE;
	default:   /* UDP, UNIX: not what a TLS client comes over */
		return PROXY_BAD;
	}
}

int proxy_parse(const uint8_t *p, size_t n, struct sockaddr_storage *src,
		size_t *used)
{
	size_t k = n < sizeof(v2sig) ? n : sizeof(v2sig);

	*used = 0;
	if (n == 0)
		return PROXY_AGAIN;
	if (!memcmp(p, v2sig, k))
		return n < sizeof(v2sig) ? PROXY_AGAIN : v2(p, n, src, used);
	k = n < 6 ? n : 6;
	if (!memcmp(p, "PROXY ", k))
		return n < 6 ? PROXY_AGAIN : v1(p, n, src, used);
	return PROXY_BAD;
}

/* ---- building headers (send_proxy) ---- */

int proxy_build_v1(uint8_t *out, size_t cap, const struct sockaddr *src,
		   const struct sockaddr *dst)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int n;

	if (!src || !dst || src->sa_family != dst->sa_family) {
		n = snprintf((char *)out, cap, "PROXY UNKNOWN\r\n");
	} else if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)src;
		const struct sockaddr_in *d4 = (const void *)dst;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		inet_ntop(AF_INET, &d4->sin_addr, b, sizeof(b));
		n = snprintf((char *)out, cap, "PROXY TCP4 %s %s %u %u\r\n", a, b,
			     ntohs(s4->sin_port), ntohs(d4->sin_port));
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)src;
		const struct sockaddr_in6 *d6 = (const void *)dst;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		inet_ntop(AF_INET6, &d6->sin6_addr, b, sizeof(b));
		n = snprintf((char *)out, cap, "PROXY TCP6 %s %s %u %u\r\n", a, b,
			     ntohs(s6->sin6_port), ntohs(d6->sin6_port));
	} else {
		n = snprintf((char *)out, cap, "PROXY UNKNOWN\r\n");
	}
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Appends a TLV; returns the new length or 0 when it does not fit. */
static size_t tlv(uint8_t *out, size_t len, size_t cap, uint8_t type,
		  const void *v, size_t vl)
{
	if (vl > 0xffff || len + 3 + vl > cap)
		return 0;
	out[len] = type;
	out[len + 1] = (uint8_t)(vl >> 8);
	out[len + 2] = (uint8_t)vl;
	memcpy(out + len + 3, v, vl);
	return len + 3 + vl;
}

int proxy_build_v2(uint8_t *out, size_t cap, const struct sockaddr *src,
		   const struct sockaddr *dst, const struct proxy_tls *tls)
{
	size_t len = 16;

	if (cap < 16 + 36)
		return -1;
	memcpy(out, v2sig, 12);
	if (!src || !dst || src->sa_family != dst->sa_family ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6)) {
		out[12] = 0x20; /* LOCAL */
		out[13] = 0x00;
		out[14] = out[15] = 0;
		return 16;
	}
	out[12] = 0x21; /* version 2, PROXY */
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)src;
		const struct sockaddr_in *d4 = (const void *)dst;

		out[13] = 0x11;
		memcpy(out + 16, &s4->sin_addr, 4);
		memcpy(out + 20, &d4->sin_addr, 4);
		memcpy(out + 24, &s4->sin_port, 2);
		memcpy(out + 26, &d4->sin_port, 2);
		len += 12;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)src;
		const struct sockaddr_in6 *d6 = (const void *)dst;

		out[13] = 0x21;
		memcpy(out + 16, &s6->sin6_addr, 16);
		memcpy(out + 32, &d6->sin6_addr, 16);
		memcpy(out + 48, &s6->sin6_port, 2);
		memcpy(out + 50, &d6->sin6_port, 2);
		len += 36;
	}
	if (tls) { /* PP2_TYPE_SSL: client flags, verify, then sub-TLVs */
		uint8_t ssl[512];
		size_t sl = 5;
		uint32_t verify = tls->verified ? 0 : 1;

		ssl[0] = 0x01 | (tls->has_cert ? 0x02 | 0x04 : 0);
		ssl[1] = (uint8_t)(verify >> 24);
		ssl[2] = (uint8_t)(verify >> 16);
		ssl[3] = (uint8_t)(verify >> 8);
		ssl[4] = (uint8_t)verify;
		if (tls->version)
			sl = tlv(ssl, sl, sizeof(ssl), 0x21, tls->version,
				 strlen(tls->version));
		if (sl && tls->cn)
			sl = tlv(ssl, sl, sizeof(ssl), 0x22, tls->cn,
				 strlen(tls->cn));
		if (sl && tls->cipher)
			sl = tlv(ssl, sl, sizeof(ssl), 0x23, tls->cipher,
				 strlen(tls->cipher));
		if (!sl)
			return -1;
		len = tlv(out, len, cap, 0x20, ssl, sl);
		if (!len)
			return -1;
	}
	out[14] = (uint8_t)((len - 16) >> 8);
	out[15] = (uint8_t)(len - 16);
	return (int)len;
}
