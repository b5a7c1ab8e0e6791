/* test_log.c - log lines: text quoting and JSON escaping of hostile values
 * (quotes, newlines, invalid UTF-8, very long), levels, and one line per
 * event. stderr is redirected to a temp file and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "test.h"

static char out[16384];

/* Run one log_event into a file and return the line without timestamp. */
static const char *capture(int json, const char *k, const char *v)
{
	char path[] = "/tmp/moat-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	dup2(fd, 2);
	log_setup(LOG_INFO, json);
	log_event(LOG_INFO, "reject", "conn", "12", k, v, "empty", "", NULL);
	log_event(LOG_DEBUG, "hidden", "a", "b", NULL);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return json ? out : out + 25; /* skip "2026-...Z " */
}

int main(void)
{
	const char *l;
	char big[5000];

	l = capture(0, "peer", "127.0.0.1:5555");
	CHECK(!strcmp(l, "info reject conn=12 peer=127.0.0.1:5555\n"),
	      "plain text: [%s]", l);
	CHECK(out[4] == '-' && out[10] == 'T' && out[23] == 'Z',
	      "timestamp: [%.24s]", out);
	l = capture(0, "subject", "/CN=dev 1\"x\"\n=");
	CHECK(!strcmp(l, "info reject conn=12 subject=\"/CN=dev 1\\\"x\\\"\\x0a=\"\n"),
	      "text quoting: [%s]", l);
	l = capture(0, "id", "a\xff" "b");
	CHECK(!strcmp(l, "info reject conn=12 id=\"a\\xffb\"\n"),
	      "text non-ascii: [%s]", l);

	l = capture(1, "subject", "/CN=\"q\"\\\n\x01");
	CHECK(strstr(l, "\"level\":\"info\",\"event\":\"reject\",\"conn\":\"12\","
			"\"subject\":\"/CN=\\\"q\\\"\\\\\\u000a\\u0001\"}\n") != NULL,
	      "json escaping: [%s]", l);
	CHECK(!strncmp(l, "{\"ts\":\"", 7), "json ts: [%s]", l);
	l = capture(1, "id", "ok-\xc3\xa4-\xff-\xe2\x82");
	CHECK(strstr(l, "\"id\":\"ok-\xc3\xa4-\\ufffd-\\ufffd\\ufffd\"") != NULL,
	      "json invalid utf-8: [%s]", l);
	CHECK(strstr(l, "empty") == NULL, "empty value left out");
	CHECK(strstr(l, "hidden") == NULL, "debug below level");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	l = capture(1, "big", big);
	CHECK(strlen(l) < 4096 && l[strlen(l) - 1] == '\n' &&
		      strstr(l, "...\"}") != NULL,
	      "long value truncated, line closed (%zu)", strlen(l));
	CHECK(strchr(l, '\n') == l + strlen(l) - 1, "one line");
	return test_done("log");
}
