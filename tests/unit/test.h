/* test.h - a minimal table-friendly unit test harness (picotest-like).
 * CHECK(cond, fmt...) records a failure with file:line and goes on;
 * test_done() prints "N passed, M failed" and returns the exit code. */
#ifndef MOAT_TEST_H
#define MOAT_TEST_H

#include <stdio.h>

static int test_pass, test_fail;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (cond) {                                                 \
			test_pass++;                                        \
		} else {                                                    \
			test_fail++;                                        \
			fprintf(stderr, "%s:%d: check failed: %s: ",        \
				__FILE__, __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
		}                                                           \
	} while (0)

static inline int test_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_pass, test_fail);
	return test_fail ? 1 : 0;
}

#endif
