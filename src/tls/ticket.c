/* ticket.c - the ticket key file and the identity blob (see ticket.h).
 * The blob, version 3, big-endian:
 *   version 1 | flags 1 (1 has_cert, 2 ocsp_url) | ocsp_state 1 |
 *   checked_at 8 | not_after 8 | leaf_hash 32 | issuer_hash 32 |
 *   serial_len 1 | serial | trust 32 | certid_len 1 | certid |
 *   4 x (len 2 | bytes): subject, cn, san_dns, san_uri
 * ticket_enc.c encrypts and authenticates it with wolfSSL's session state. */
#include <errno.h>
#include <string.h>

#include "tls/ticket.h"

static const uint8_t zero_name[TICKET_NAME_SZ];

int ticket_keys_parse(const uint8_t *buf, size_t len, struct ticket_keys *k,
		      const char **why)
{
	size_t n = len / TICKET_RECORD_SZ;

	k->n = 0;
	if (len % TICKET_RECORD_SZ) {
		*why = "size is not a multiple of 80 bytes (records of name 16, "
		       "AES key 32, HMAC key 32)";
		return -EINVAL;
	}
	if (n == 0) {
		*why = "holds no key (an 80-byte record at least)";
		return -EINVAL;
	}
	if (n > TICKET_KEYS_MAX) {
		*why = "holds more than 64 keys";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct ticket_key *r = &k->key[i];

		memcpy(r, buf + i * TICKET_RECORD_SZ, TICKET_RECORD_SZ);
		if (!memcmp(r->name, zero_name, TICKET_NAME_SZ)) {
			*why = "a key's name (its first 16 bytes) is all zeros";
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (!memcmp(k->key[j].name, r->name, TICKET_NAME_SZ)) {
				*why = "two keys have the same name (first 16 "
				       "bytes of a record)";
				return -EINVAL;
			}
	}
	k->n = n;
	return 0;
}

const struct ticket_key *ticket_keys_find(const struct ticket_keys *k,
					  const uint8_t *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (!memcmp(k->key[i].name, name, TICKET_NAME_SZ))
			return &k->key[i];
	return NULL;
}

#define BLOB_FIXED (1 + 1 + 1 + 8 + 8 + 3 * TICKET_HASH_SZ + 1 + 1)

static const struct ticket_str *blob_strs(const struct ticket_blob *b, int i)
{
	const struct ticket_str *s[] = {&b->subject, &b->cn, &b->san_dns,
					&b->san_uri};

	return s[i];
}

size_t ticket_blob_size(const struct ticket_blob *b)
{
	size_t n = BLOB_FIXED + b->serial_len + b->certid_len;

	for (int i = 0; i < 4; i++)
		n += 2 + blob_strs(b, i)->n;
	return n;
}

int ticket_blob_encode(const struct ticket_blob *b, uint8_t *out, size_t cap)
{
	size_t n = ticket_blob_size(b);
	uint64_t t = (uint64_t)b->checked_at, na = (uint64_t)b->not_after;
	uint8_t *p = out;

	if (b->serial_len > TICKET_SERIAL_MAX ||
	    b->certid_len > TICKET_CERTID_MAX)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		const struct ticket_str *s = blob_strs(b, i);

		if (s->n > 0xffff || (s->n && memchr(s->p, '\0', s->n)))
			return -EINVAL;
	}
	if (n > cap)
		return -ENOSPC;
	*p++ = TICKET_BLOB_VERSION;
	*p++ = (uint8_t)((b->has_cert ? 1 : 0) | (b->ocsp_url ? 2 : 0));
	*p++ = b->ocsp_state;
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(t >> (8 * i));
	for (int i = 7; i >= 0; i--)
		*p++ = (uint8_t)(na >> (8 * i));
	memcpy(p, b->leaf_hash, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	memcpy(p, b->issuer_hash, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	*p++ = (uint8_t)b->serial_len;
	memcpy(p, b->serial, b->serial_len);
	p += b->serial_len;
	memcpy(p, b->trust, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	*p++ = (uint8_t)b->certid_len;
	memcpy(p, b->certid, b->certid_len);
	p += b->certid_len;
	for (int i = 0; i < 4; i++) {
		const struct ticket_str *s = blob_strs(b, i);

		*p++ = (uint8_t)(s->n >> 8);
		*p++ = (uint8_t)s->n;
		if (s->n)
			memcpy(p, s->p, s->n);
		p += s->n;
	}
	return (int)n;
}

int ticket_blob_decode(const uint8_t *p, size_t n, struct ticket_blob *b)
{
	const uint8_t *end = p + n;
	struct ticket_str *s[4];
	uint64_t t = 0, na = 0;

	memset(b, 0, sizeof(*b));
	s[0] = &b->subject;
	s[1] = &b->cn;
	s[2] = &b->san_dns;
	s[3] = &b->san_uri;
	if (n < BLOB_FIXED || p[0] != TICKET_BLOB_VERSION || (p[1] & ~3))
		return -EINVAL;
	b->has_cert = p[1] & 1;
	b->ocsp_url = (p[1] >> 1) & 1;
	b->ocsp_state = p[2];
	p += 3;
	for (int i = 0; i < 8; i++)
		t = (t << 8) | *p++;
	b->checked_at = (int64_t)t;
	for (int i = 0; i < 8; i++)
		na = (na << 8) | *p++;
	b->not_after = (int64_t)na;
	memcpy(b->leaf_hash, p, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	memcpy(b->issuer_hash, p, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	b->serial_len = *p++;
	if (b->serial_len > TICKET_SERIAL_MAX ||
	    (size_t)(end - p) < b->serial_len)
		return -EINVAL;
	memcpy(b->serial, p, b->serial_len);
	p += b->serial_len;
	if ((size_t)(end - p) < TICKET_HASH_SZ + 1)
		return -EINVAL;
	memcpy(b->trust, p, TICKET_HASH_SZ);
	p += TICKET_HASH_SZ;
	b->certid_len = *p++;
	if (b->certid_len > TICKET_CERTID_MAX ||
	    (size_t)(end - p) < b->certid_len)
		return -EINVAL;
	memcpy(b->certid, p, b->certid_len);
	p += b->certid_len;
	for (int i = 0; i < 4; i++) {
		size_t len;

		if (end - p < 2)
			return -EINVAL;
		len = ((size_t)p[0] << 8) | p[1];
		p += 2;
		if ((size_t)(end - p) < len || memchr(p, '\0', len))
			return -EINVAL;
		s[i]->p = len ? (const char *)p : NULL;
		s[i]->n = len;
		p += len;
	}
	return p == end ? 0 : -EINVAL;
}

int ticket_plain_split(const uint8_t *p, size_t n, size_t *state_len,
		       const uint8_t **blob, size_t *blob_len)
{
	size_t sl, bl;

	if (n < 16 || n % 16)
		return -EINVAL;
	sl = ((size_t)p[n - 4] << 8) | p[n - 3];
	bl = ((size_t)p[n - 2] << 8) | p[n - 1];
	if (!bl || sl + bl + TICKET_TRAILER_SZ > n)
		return -EINVAL;
	*state_len = sl;
	*blob = p + sl;
	*blob_len = bl;
	return 0;
}
