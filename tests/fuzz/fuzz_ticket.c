/* fuzz_ticket.c - libFuzzer target for what moat reads of a decrypted
 * session ticket: the trailer's lengths (ticket_plain_split), the identity
 * blob (ticket_blob_decode) and the key file parser. Hostile lengths must
 * be refused in bounds; a blob that decodes must encode back to the same
 * bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p =
	    malloc(size ? size : 1); /* exact size: ASan sees overruns */
	const uint8_t *blob;
	size_t sl, bl;
	struct ticket_blob b;
	struct ticket_keys *k = malloc(sizeof(*k));
	const char *why;

	if (!p || !k)
		abort();
	memcpy(p, data, size);
	if (ticket_plain_split(p, size, &sl, &blob, &bl) == 0) {
		if (sl + bl + TICKET_TRAILER_SZ > size || blob != p + sl)
			abort();
		if (ticket_blob_decode(blob, bl, &b) == 0) {
			uint8_t *out = malloc(bl);
			int n = out ? ticket_blob_encode(&b, out, bl) : -1;

			if (n != (int)bl || memcmp(out, blob, bl) != 0)
				abort();
			free(out);
		}
	}
	if (ticket_blob_decode(p, size, &b) == 0 &&
	    ticket_blob_size(&b) != size)
		abort();
	(void)ticket_keys_parse(p, size, k, &why);
	free(k);
	free(p);
	return 0;
}
