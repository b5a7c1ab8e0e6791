/* cfgdir.h - config files for the parser tests: a temporary directory
 * with the listener's placeholder certificate and key files, files
 * written into it, a config loaded from YAML text, the directory removed.
 * Included by one test file each (static). */
#ifndef MOAT_TEST_CFGDIR_H
#define MOAT_TEST_CFGDIR_H

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static struct cfg *load(const char *text, char **err)
{
	char path[128];

	write_file("c.yaml", text);
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	return cfg_load(path, err);
}

/* A fresh /tmp/moat-TAG-XXXXXX (an mkdtemp template) with s.crt, s.key
 * and ca.crt; -1 when it cannot be made. */
static int cfgdir_open(const char *tag)
{
	snprintf(dir, sizeof(dir), "/tmp/moat-%s-XXXXXX", tag);
	if (!mkdtemp(dir))
		return -1;
	write_file("s.crt", "x");
	write_file("s.key", "x");
	write_file("ca.crt", "x");
	return 0;
}

static void cfgdir_close(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
