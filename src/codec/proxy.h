/* proxy.h - the PROXY protocol (HAProxy's, versions 1 and 2) that an L4
 * balancer puts in front of a connection to say who the client is. A pure,
 * bounded parser over the first bytes of a connection, fuzzed. */
#ifndef MOAT_PROXY_H
#define MOAT_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest header moat accepts: v1 is at most 107 bytes; v2 may carry
 * TLVs, and balancers add a few (AWS, Azure, GCP ids), never kilobytes. */
#define PROXY_MAX_HEADER 1024

enum { PROXY_AGAIN = 0, PROXY_DONE = 1, PROXY_BAD = -1 };

/* Parse a header at the start of p[0..n). DONE: *used is its length and
 * *src the client's address, or src->ss_family == AF_UNSPEC when the
 * header says the connection is the balancer's own (v1 UNKNOWN, v2 LOCAL
 * or an unspecified family): then the socket's peer stands. AGAIN: not all
 * of it is here yet (never when n >= PROXY_MAX_HEADER). BAD: not a PROXY
 * header, or a malformed one. */
int proxy_parse(const uint8_t *p, size_t n, struct sockaddr_storage *src,
		size_t *used);

/* What a v2 header tells the broker of the client's TLS session
 * (PP2_TYPE_SSL, as HAProxy sends it). NULL strings are left out. */
struct proxy_tls {
	int has_cert;        /* the client presented a certificate ... */
	int verified;        /* ... and it verified */
	const char *version; /* "TLSv1.3" */
	const char *cipher;
	const char *cn;      /* the certificate's common name */
};

/* Build a header for a connection from src to dst (both AF_INET or both
 * AF_INET6), or a LOCAL one (v2) / UNKNOWN (v1) when src is NULL (health
 * checks). Returns its length, or -1 when it does not fit in cap. */
int proxy_build_v1(uint8_t *out, size_t cap, const struct sockaddr *src,
		   const struct sockaddr *dst);
int proxy_build_v2(uint8_t *out, size_t cap, const struct sockaddr *src,
		   const struct sockaddr *dst, const struct proxy_tls *tls);

#endif
