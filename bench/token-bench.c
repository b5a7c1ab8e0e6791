/* token-bench - access tokens verified per CPU-second by moat's own JWT
 * code (src/auth/jwt.c, jwk.c, wolfSSL's primitives), one thread.
 *
 *   token-bench [-t SECONDS] [-i ISSUER] [-a AUDIENCE] JWKS TOKEN_FILE...
 *
 * Each token (the first line of its file) is verified against the JWK Set
 * JWKS, with the full checks of a CONNECT (signature, kid, exp, iss, aud,
 * identity claim), over and over for SECONDS (1) of this process's CPU
 * time; prints one line per token: its alg, verifications, CPU seconds,
 * verified per CPU-second and µs per token. A token that does not verify
 * is an error (exit 1): the figure is only for tokens moat would take. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/jwk.h"
#include "auth/jwt.h"

#define TOKEN_MAX 16384

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first line of PATH into buf (NUL-terminated); its length or -errno. */
static long read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	n = strcspn(buf, "\r\n");
	buf[n] = 0;
	return n && n < cap - 1 ? (long)n : -EINVAL;
}

static void usage(void)
{
	fprintf(stderr, "usage: token-bench [-t SECONDS] [-i ISSUER] "
			"[-a AUDIENCE] JWKS TOKEN_FILE...\n");
	exit(2);
}

static int bench_one(const struct jwks *set, const struct jwt_policy *p,
		     const char *path, double seconds)
{
	static char tok[TOKEN_MAX];
	struct jwt_claims cl;
	long len = read_line(path, tok, sizeof(tok)), n = 0;
	double t0, el;
	enum jwt_result r;

	if (len < 0) {
		fprintf(stderr, "token-bench: %s: no token\n", path);
		return -EINVAL;
	}
	r = jwt_verify(set, p, tok, (size_t)len, (int64_t)time(NULL), &cl);
	if (r != JWT_OK) {
		fprintf(stderr, "token-bench: %s: %s (%s)\n", path,
			jwt_result_name(r), cl.why);
		return -EINVAL;
	}
	t0 = cpu_now();
	do { /* 16 at a time between clock reads */
		for (int i = 0; i < 16; i++) {
			r = jwt_verify(set, p, tok, (size_t)len,
				       (int64_t)time(NULL), &cl);
			if (r != JWT_OK)
				return -EINVAL;
		}
		n += 16;
		el = cpu_now() - t0;
	} while (el < seconds);
	printf("token=%s alg=%s len=%ld verified=%ld cpu_s=%.3f "
	       "per_cpu_s=%.0f us_per_token=%.1f\n",
	       path, cfg_token_alg_name((enum cfg_token_alg)cl.alg), len, n, el,
	       (double)n / el, el * 1e6 / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	struct jwt_policy p = {.algorithms = (1u << CFG_ALG__COUNT) - 1,
			       .max_len = TOKEN_MAX};
	struct jwks *set;
	char msg[512];
	double seconds = 1;
	int ch, rc = 0;

	while ((ch = getopt(argc, argv, "t:i:a:")) != -1) {
		switch (ch) {
		case 't': seconds = atof(optarg); break;
		case 'i': p.issuer = optarg; break;
		case 'a': p.audience = optarg; break;
		default: usage();
		}
	}
	if (argc - optind < 2 || seconds <= 0)
		usage();
	if (jwks_load_file(argv[optind], &set, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "token-bench: %s\n", msg);
		return 2;
	}
	for (int i = optind + 1; i < argc; i++)
		if (bench_one(set, &p, argv[i], seconds) < 0)
			rc = 1;
	jwks_put(set);
	return rc;
}
