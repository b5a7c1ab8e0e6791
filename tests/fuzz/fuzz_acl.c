/* fuzz_acl.c - libFuzzer target for the topic rules file: each input is
 * written as a rules file that a fixed configuration names, and loaded;
 * every outcome must be a config or an error text, never a crash or a
 * leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const void *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cfg[] =
	    "listeners:\n"
	    "  - name: l1\n"
	    "    bind: 127.0.0.1:8883\n"
	    "    upstream: u1\n"
	    "    tls: { cert: x, key: x, client_ca: x }\n"
	    "    mqtt: { acl: { rules: acl.yaml } }\n"
	    "upstreams:\n"
	    "  - name: u1\n"
	    "    servers: [ { name: b1, address: 127.0.0.1:1883 } ]\n";
	char path[128], *err = NULL;
	struct cfg *c;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/moat-fuzz-acl-%d",
			 (int)getpid());
		mkdir(dir, 0700);
		put("x", "x", 1);
		put("c.yaml", cfg, sizeof(cfg) - 1);
	}
	put("acl.yaml", data, size);
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	c = cfg_load(path, &err);
	if (c)
		cfg_free(c);
	else if (!err)
		abort(); /* a failure always says why */
	free(err);
	return 0;
}
