/* fuzz_config.c - libFuzzer target for the config parser: each input is
 * written to one temporary file and loaded; every outcome must be a config
 * or an error text, never a crash or a leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *err = NULL;
	struct cfg *c;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/moat-fuzz-config-%d.yaml",
			 (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	c = cfg_load(path, &err);
	if (c) {
		free(cfg_unsupported(c));
		cfg_free(c);
	} else if (!err) {
		abort(); /* a failure always says why */
	}
	free(err);
	return 0;
}
