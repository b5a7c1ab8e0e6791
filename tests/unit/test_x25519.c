/* test_x25519.c - the public half of an X25519 key pair, as the TLS
 * server makes one for every handshake with an X25519 key share: moat's
 * wolfSSL computes it by ed25519's fixed-base table (scripts/
 * build-wolfssl.sh, MOAT_X25519_EDWARDS_BASE), and it must be the
 * Montgomery ladder's u-coordinate bit for bit: RFC 7748's vectors, the
 * smallest and largest clamped scalars, and 20,000 pseudo-random ones. */
#include <stdint.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/curve25519.h>

#include "test.h"

static void unhex(uint8_t *out, const char *h)
{
	for (size_t i = 0; i < 32; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void clamp(uint8_t *k)
{
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

static const uint8_t nine[32] = {9};

/* make_pub (the fixed base) against the ladder from u = 9 */
static int same_as_ladder(const uint8_t *k)
{
	uint8_t a[32], b[32];

	if (wc_curve25519_make_pub(32, a, 32, k) != 0 ||
	    wc_curve25519_generic(32, b, 32, k, 32, nine) != 0)
		return 0;
	return memcmp(a, b, 32) == 0;
}

int main(void)
{
	uint8_t a[32], b[32], pub[32], want[32], shared[32];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int bad = 0;

	/* RFC 7748 6.1: Alice's and Bob's keys, then their shared secret */
	static const char *const rfc[2][2] = {
	    {"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	     "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6"
	     "a"},
	    {"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	     "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4"
	     "f"},
	};
	for (int i = 0; i < 2; i++) {
		unhex(i ? b : a, rfc[i][0]);
		clamp(i ? b : a);
		unhex(want, rfc[i][1]);
		CHECK(wc_curve25519_make_pub(32, pub, 32, i ? b : a) == 0 &&
			  memcmp(pub, want, 32) == 0,
		      "RFC 7748 public key %d", i);
	}
	unhex(
	    want,
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK(wc_curve25519_generic(32, shared, 32, a, 32, pub) == 0 &&
		  memcmp(shared, want, 32) == 0,
	      "their shared secret");

	/* the ends of the clamped range */
	memset(a, 0, 32);
	clamp(a);
	CHECK(same_as_ladder(a), "the smallest clamped scalar");
	memset(a, 0xff, 32);
	clamp(a);
	CHECK(same_as_ladder(a), "the largest clamped scalar");

	/* an unclamped scalar is refused, as before */
	memset(a, 0xff, 32);
	CHECK(wc_curve25519_make_pub(32, pub, 32, a) != 0,
	      "an unclamped scalar");

	/* pseudo-random scalars (xorshift64*, fixed seed) */
	for (int i = 0; i < 20000; i++) {
		for (int j = 0; j < 32; j++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			a[j] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
		}
		clamp(a);
		if (!same_as_ladder(a) && bad++ < 5)
			CHECK(0, "scalar %d differs from the ladder", i);
	}
	CHECK(bad == 0, "%d of 20000 scalars differ from the ladder", bad);
	return test_done("x25519");
}
