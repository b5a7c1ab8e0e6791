/* test_util.c - the value syntaxes of the config: durations, sizes,
 * socket addresses and CIDR ranges, as tables of good and bad inputs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "test.h"
#include "base/util.h"

static void test_durations(void)
{
	static const struct {
		const char *s;
		int ok;
		uint64_t ms;
	} t[] = {
		{"500ms", 1, 500}, {"2s", 1, 2000},   {"5m", 1, 300000},
		{"1h", 1, 3600000}, {"0", 1, 0},      {"0s", 1, 0},
		{"90d", 1, 7776000000ull}, {"1D", 0, 0}, {"999999999999999d", 0, 0},
		{"", 0, 0},        {"5", 0, 0},       {"1x", 0, 0},
		{"-1s", 0, 0},     {"1.5s", 0, 0},    {"s", 0, 0},
		{" 1s", 0, 0},     {"1s ", 0, 0},     {"1S", 0, 0},
		{"99999999999999999999s", 0, 0},      {"18446744073709552h", 0, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 12345;
		int r = util_parse_duration(t[i].s, &v);

		CHECK((r == 0) == t[i].ok, "duration '%s': %d", t[i].s, r);
		if (t[i].ok)
			CHECK(v == t[i].ms, "duration '%s' = %llu", t[i].s,
			      (unsigned long long)v);
	}
}

static void test_sizes(void)
{
	static const struct {
		const char *s;
		int ok;
		uint64_t b;
	} t[] = {
		{"512", 1, 512},       {"64KiB", 1, 65536},
		{"1MiB", 1, 1048576},  {"1GiB", 1, 1073741824},
		{"2KB", 1, 2000},      {"0", 1, 0},
		{"", 0, 0},            {"1kib", 0, 0},
		{"1.5MiB", 0, 0},      {"-1", 0, 0},
		{"MiB", 0, 0},         {"99999999999999999GiB", 0, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		uint64_t v = 0;
		int r = util_parse_size(t[i].s, &v);

		CHECK((r == 0) == t[i].ok, "size '%s': %d", t[i].s, r);
		if (t[i].ok)
			CHECK(v == t[i].b, "size '%s' = %llu", t[i].s,
			      (unsigned long long)v);
	}
}

static void test_addrs(void)
{
	static const struct {
		const char *s;
		int family; /* 0 = invalid */
		const char *str;
	} t[] = {
		{"127.0.0.1:8883", AF_INET, "127.0.0.1:8883"},
		{"0.0.0.0:1", AF_INET, "0.0.0.0:1"},
		{"*:8883", AF_INET, "0.0.0.0:8883"},
		{"[::1]:8883", AF_INET6, "[::1]:8883"},
		{"[::]:65535", AF_INET6, "[::]:65535"},
		{"127.0.0.1", 0, NULL},
		{"127.0.0.1:", 0, NULL},
		{"127.0.0.1:0", 0, NULL},
		{"127.0.0.1:65536", 0, NULL},
		{"127.0.0.1:80x", 0, NULL},
		{"::1:80", 0, NULL},
		{"[::1]80", 0, NULL},
		{"[::1:80", 0, NULL},
		{"localhost:80", 0, NULL},
		{"1.2.3:80", 0, NULL},
		{"", 0, NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		char buf[64];
		int r = util_parse_addr(t[i].s, &ss, &len);

		CHECK((r == 0) == (t[i].family != 0), "addr '%s': %d", t[i].s,
		      r);
		if (r == 0 && t[i].family) {
			CHECK(ss.ss_family == t[i].family, "family '%s'",
			      t[i].s);
			util_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
			CHECK(!strcmp(buf, t[i].str), "str '%s' -> '%s'",
			      t[i].s, buf);
		}
	}
}

static void test_cidr(void)
{
	static const struct {
		const char *cidr;
		const char *ip;
		int match; /* -1: cidr invalid */
	} t[] = {
		{"10.0.0.0/8", "10.1.2.3", 1},
		{"10.0.0.0/8", "11.0.0.1", 0},
		{"192.168.1.0/24", "192.168.1.255", 1},
		{"192.168.1.0/24", "192.168.2.1", 0},
		{"192.168.1.128/25", "192.168.1.127", 0},
		{"1.2.3.4", "1.2.3.4", 1},
		{"1.2.3.4", "1.2.3.5", 0},
		{"0.0.0.0/0", "8.8.8.8", 1},
		{"::1/128", "::1", 1},
		{"fd00::/8", "fd12::1", 1},
		{"fd00::/8", "fe80::1", 0},
		{"10.0.0.0/8", "::ffff:10.9.9.9", 1},
		{"10.0.0.0/8", "::1", 0},
		{"::/0", "10.0.0.1", 0},
		{"10.0.0.0/33", NULL, -1},
		{"::/129", NULL, -1},
		{"10.0.0/8", NULL, -1},
		{"/8", NULL, -1},
		{"10.0.0.0/", NULL, -1},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct util_cidr c;
		int r = util_parse_cidr(t[i].cidr, &c);

		CHECK((r == 0) == (t[i].match >= 0), "cidr '%s': %d",
		      t[i].cidr, r);
		if (r || t[i].match < 0)
			continue;
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof(ss));
		if (strchr(t[i].ip, ':')) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			a->sin6_family = AF_INET6;
			inet_pton(AF_INET6, t[i].ip, &a->sin6_addr);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			a->sin_family = AF_INET;
			inet_pton(AF_INET, t[i].ip, &a->sin_addr);
		}
		CHECK(util_cidr_match(&c, (struct sockaddr *)&ss) ==
			      t[i].match,
		      "%s in %s", t[i].ip, t[i].cidr);
	}
}

static void test_hostports(void)
{
	static const struct {
		const char *s;
		int ok;
		const char *host;
		uint16_t port;
	} t[] = {
		{"broker-0.mqtt.svc:1883", 1, "broker-0.mqtt.svc", 1883},
		{"localhost:1", 1, "localhost", 1},
		{"a:65535", 1, "a", 65535},
		{"a:65536", 0, NULL, 0},
		{"a:0", 0, NULL, 0},
		{":1883", 0, NULL, 0},
		{"broker:", 0, NULL, 0},
		{"broker", 0, NULL, 0},
		{"-broker:1883", 0, NULL, 0},
		{"bro ker:1883", 0, NULL, 0},
		{"broker..x:1883", 0, NULL, 0},
		{"broker_x:1883", 0, NULL, 0},
		{"broker:18x3", 0, NULL, 0},
		{"[::1]:1883", 0, NULL, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char host[256] = "";
		uint16_t port = 0;
		int r = util_parse_hostport(t[i].s, host, sizeof(host), &port);

		CHECK((r == 0) == t[i].ok, "hostport '%s': %d", t[i].s, r);
		if (t[i].ok && r == 0)
			CHECK(!strcmp(host, t[i].host) && port == t[i].port,
			      "hostport '%s' -> %s %u", t[i].s, host, port);
	}
}

int main(void)
{
	uint64_t a = util_now_ms(), b = util_now_ms();

	test_durations();
	test_sizes();
	test_addrs();
	test_hostports();
	test_cidr();
	CHECK(b >= a && a > 0, "monotonic clock");
	return test_done("util");
}
