/* ctl.c - `moat ctl [-s SOCKET] COMMAND...`: sends one command to the
 * stats socket, prints the reply and exits 1 when it is an error, 2 on
 * usage, 3 when the socket cannot be reached. Plain blocking sockets: this
 * is a command-line client, not part of the proxy. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ops/stats.h"

#define CTL_DEFAULT_SOCKET "/run/moat/moat.sock"
#define CTL_TIMEOUT_MS 10000

int ctl_main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_SOCKET;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cmd[4096] = "";
	size_t cl = 0, rl = 0, cap = 65536;
	char *rep = NULL;
	int i = 0, fd, code = 0;

	if (argc > 1 && strcmp(argv[0], "-s") == 0) {
		path = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1) {
		fprintf(stderr, "usage: moat ctl [-s SOCKET] COMMAND...\n");
		return 2;
	}
	for (i = 0; i < argc; i++) {
		int n = snprintf(cmd + cl, sizeof(cmd) - cl, "%s%s",
				 i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(cmd) - cl - 1) {
			fprintf(stderr, "moat ctl: command too long\n");
			return 2;
		}
		cl += (size_t)n;
	}
	cmd[cl++] = '\n';
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "moat ctl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "moat ctl: cannot connect to %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	if (write(fd, cmd, cl) != (ssize_t)cl) {
		fprintf(stderr, "moat ctl: write: %s\n", strerror(errno));
		close(fd);
		return 3;
	}
	rep = malloc(cap);
	if (!rep) {
		close(fd);
		return 3;
	}
	/* Read until the empty line that ends a reply. */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (rl >= 2 && rep[rl - 1] == '\n' && rep[rl - 2] == '\n')
			break;
		if (rl == 1 && rep[0] == '\n')
			break;
		if (poll(&p, 1, CTL_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "moat ctl: no reply from %s\n", path);
			code = 3;
			break;
		}
		if (rl == cap) {
			char *nr = realloc(rep, cap * 2);

			if (!nr) {
				code = 3;
				break;
			}
			rep = nr;
			cap *= 2;
		}
		n = read(fd, rep + rl, cap - rl);
		if (n <= 0)
			break;
		rl += (size_t)n;
	}
	close(fd);
	if (rl > 0 && rep[rl - 1] == '\n')
		rl--; /* the empty line that ends the reply */
	fwrite(rep, 1, rl, stdout);
	if (code == 0 && (rl == 0 || strncmp(rep, "error:", 6) == 0))
		code = 1;
	free(rep);
	return code;
}
