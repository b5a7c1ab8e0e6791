/* fuzz_proxy.c - libFuzzer target for the PROXY protocol parser: the whole
 * input and every prefix must give the same answer class, in bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	size_t used, u2;
	int r = proxy_parse(data, size, &ss, &used);

	if (r == PROXY_DONE) {
		if (used == 0 || used > size)
			abort();
		/* a prefix short of the header is incomplete */
		if (proxy_parse(data, used - 1, &ss, &u2) != PROXY_AGAIN)
			abort();
	}
	if (r == PROXY_AGAIN && size >= PROXY_MAX_HEADER)
		abort();
	return 0;
}
