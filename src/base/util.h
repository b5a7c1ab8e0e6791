/* util.h - small pure helpers shared by every module: parsing of durations,
 * sizes and socket addresses as the config file writes them, a monotonic
 * clock, and error codes. Nothing here allocates or touches the event loop. */
#ifndef MOAT_UTIL_H
#define MOAT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* moat's own error codes; functions return 0, -errno or -MOAT_E... */
#define MOAT_EBASE 10000
#define MOAT_EINVAL_DURATION (-(MOAT_EBASE + 1))
#define MOAT_EINVAL_SIZE (-(MOAT_EBASE + 2))
#define MOAT_EINVAL_ADDR (-(MOAT_EBASE + 3))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "500ms", "2s", "5m", "1h", also "0"; a bare number is an error (the unit
 * is required, so "30" cannot mean seconds to one reader and ms to another).
 * Returns 0 and stores milliseconds, or MOAT_EINVAL_DURATION. */
int util_parse_duration(const char *s, uint64_t *ms);

/* The value of a base64 character (RFC 4648): the URL-safe alphabet when
 * url, else the standard one; -1 for any other byte. */
int util_b64_val(unsigned char c, int url);

/* der in base64 (RFC 4648, padded) in lines of 64 characters, each
 * ending in \n, NUL-terminated, into out: its length, or 0 when it does
 * not fit in cap. */
size_t util_b64_lines(const uint8_t *der, size_t n, char *out, size_t cap);

/* der as PEM ("-----BEGIN label-----", base64 in lines of 64, "-----END
 * label-----", each line ending in \n) into out: its length, or 0 when it
 * does not fit in cap. */
size_t util_pem(const char *label, const uint8_t *der, size_t n, char *out,
		size_t cap);

/* "512", "64KiB", "1MiB", "1GiB" (also "KB"/"MB"/"GB" as powers of 1000).
 * Returns 0 and stores bytes, or MOAT_EINVAL_SIZE. */
int util_parse_size(const char *s, uint64_t *bytes);

/* "1.2.3.4:80", "[::1]:80", "*:80" (any IPv4), "[::]:80". Port required,
 * 1..65535. Returns 0 or MOAT_EINVAL_ADDR. */
/* An IPv4 or IPv6 socket address: 28 bytes where sockaddr_storage takes
 * 128, for what is kept per connection. */
union util_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

int util_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* "broker-0.mqtt.svc:1883": a DNS name (letters, digits, '-', '.', at
 * most 253) and a port 1..65535, for addresses resolved at load time.
 * Returns 0 or MOAT_EINVAL_ADDR. */
int util_parse_hostport(const char *s, char *host, size_t hostlen,
			uint16_t *port);

/* "10.0.0.0/8", "::1/128", "1.2.3.4" (= /32). */
struct util_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t bits;
};
int util_parse_cidr(const char *s, struct util_cidr *c);
int util_cidr_match(const struct util_cidr *c, const struct sockaddr *sa);

/* "ADDR:PORT" for logs; buf must hold at least 64 bytes. */
const char *util_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* The addresses of a resolver's answer RES (a getaddrinfo list, in the
 * resolver's order) into out: IPv4 and IPv6 only, duplicates dropped, at
 * most max, and with family_first AF_INET or AF_INET6 that family's
 * addresses first, each family in the resolver's order (AF_UNSPEC: the
 * resolver's order). Returns how many (0: none usable). */
struct addrinfo;
size_t util_addr_list(union util_addr *out, size_t max,
		      const struct addrinfo *res, int family_first);

/* Monotonic milliseconds. */
uint64_t util_now_ms(void);

#endif
