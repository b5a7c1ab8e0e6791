/* test_persource.c - per-source limits on a clock the test controls: the
 * concurrent cap, the token bucket (burst of one second's worth, refilled
 * at the rate), separate addresses, and the sweep of idle entries. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "base/persource.h"
#include "test.h"
#include "base/util.h"

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

int main(void)
{
	struct src_table *t = src_table_new();
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.2");
	struct src_entry *e[8];
	int r;

	/* concurrent cap 2 */
	CHECK(src_admit(t, (struct sockaddr *)&a, 2, 0, 0, &e[0]) == SRC_OK, "1st");
	CHECK(src_admit(t, (struct sockaddr *)&a, 2, 0, 0, &e[1]) == SRC_OK, "2nd");
	r = src_admit(t, (struct sockaddr *)&a, 2, 0, 0, &e[2]);
	CHECK(r == SRC_TOO_MANY && e[2] == NULL, "3rd refused: %d", r);
	CHECK(src_admit(t, (struct sockaddr *)&b, 2, 0, 0, &e[3]) == SRC_OK,
	      "another address has its own cap");
	src_release(t, e[0]);
	CHECK(src_admit(t, (struct sockaddr *)&a, 2, 0, 0, &e[0]) == SRC_OK,
	      "a slot again after a close");
	src_release(t, e[0]);
	src_release(t, e[1]);
	src_release(t, e[3]);

	/* bucket: 4 a second */
	{
		struct sockaddr_storage c = addr("198.51.100.1");
		int ok = 0;

		for (int i = 0; i < 10; i++)
			if (src_admit(t, (struct sockaddr *)&c, 0, 4, 1000, &e[4]) ==
			    SRC_OK) {
				ok++;
				src_release(t, e[4]);
			}
		CHECK(ok == 4, "burst of 4, got %d", ok);
		CHECK(src_admit(t, (struct sockaddr *)&c, 0, 4, 1100, &e[4]) ==
			      SRC_TOO_FAST,
		      "0.4 token after 100 ms");
		CHECK(src_admit(t, (struct sockaddr *)&c, 0, 4, 1250, &e[4]) ==
			      SRC_OK,
		      "one token after 250 ms");
		src_release(t, e[4]);
		ok = 0;
		for (int i = 0; i < 10; i++)
			if (src_admit(t, (struct sockaddr *)&c, 0, 4, 60000, &e[4]) ==
			    SRC_OK) {
				ok++;
				src_release(t, e[4]);
			}
		CHECK(ok == 4, "a long pause refills only one second's worth: %d",
		      ok);
	}
	/* sweep: idle entries go, held ones stay */
	CHECK(src_admit(t, (struct sockaddr *)&a, 0, 0, 70000, &e[5]) == SRC_OK,
	      "held");
	src_sweep(t, 80000);
	CHECK(src_count(t) == 1, "only the held entry is left: %zu",
	      src_count(t));
	src_release(t, e[5]);
	src_sweep(t, 90000);
	CHECK(src_count(t) == 0, "all idle entries swept: %zu", src_count(t));
	src_table_free(t);
	return test_done("persource");
}
