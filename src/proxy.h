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

#endif
