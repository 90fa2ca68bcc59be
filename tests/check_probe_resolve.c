/* SPDX-License-Identifier: MIT */
/* check_probe_resolve: probe names resolved off the control thread, backoff, own addresses, -t. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "config.h"
#include "ownaddr.h"
#include "probe_resolve.h"

static char scratch[64];

static void
scratch_setup(void)
{
	snprintf(scratch, sizeof(scratch), "/tmp/check-probe-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void
scratch_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
	(void)system(cmd);
}

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A configuration of one stamp listener and the probes text. */
static struct echod_config *
load_probes(const char *probes)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg;
	char path[256], text[4096];

	snprintf(text, sizeof(text), "listeners = ( { protocol = \"stamp\"; } );\n%s\n", probes);
	write_file("echod.conf", text);
	snprintf(path, sizeof(path), "%s/echod.conf", scratch);
	cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "config: %s\n", errs.lines[i]);
	ck_assert_ptr_nonnull(cfg);
	config_errors_free(&errs);
	return cfg;
}

/* Poll as the control loop would until no name is being asked (the tcase timeout bounds it). */
static void
settle(struct probe_resolver *r)
{
	probe_resolver_poll(r);
	while (probe_resolver_busy(r)) {
		struct pollfd pfd = { probe_resolver_fd(r), POLLIN, 0 };

		ck_assert_int_ge(poll(&pfd, 1, 1000), 0);
		probe_resolver_poll(r);
	}
}

START_TEST(backoff_schedule)
{
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000,
	    256000, 300000, 300000 };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_uint_eq(probe_resolve_backoff_ms(i + 1), want[i]);
	ck_assert_uint_eq(probe_resolve_backoff_ms(1000), RESOLVE_BACKOFF_MAX_MS);
	ck_assert_uint_eq(probe_resolve_backoff_ms(UINT32_MAX), RESOLVE_BACKOFF_MAX_MS);
}
END_TEST

/* Names an /etc/hosts answers, a literal, and one under .invalid (RFC 6761: never a host). */
START_TEST(resolves_local_names)
{
	struct echod_config *cfg = load_probes("probes = ( { name = \"p\"; targets = [ "
	    "\"localhost\", \"127.0.0.1\", \"nothing.invalid\", \"[::1]:9\" ]; } );");
	struct probe_resolver *r = probe_resolver_new(NULL);
	const struct resolve_entry *e;
	struct ownaddr own;
	char buf[ADDR_STRLEN];

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(probe_resolver_load(r, cfg), 0);
	ck_assert_uint_eq(probe_resolver_count(r), 4);
	/* A literal needs no helper: done before the first poll. */
	e = probe_resolver_entry(r, 1);
	ck_assert_int_eq(e->state, RESOLVE_DONE);
	ck_assert_str_eq(addr_format((const void *)&e->addrs[0], sizeof(e->addrs[0]), buf,
	    sizeof(buf)), "127.0.0.1:862");
	ck_assert_int_eq(probe_resolver_entry(r, 0)->state, RESOLVE_WAITING);
	ck_assert(probe_resolver_busy(r));
	settle(r);
	e = probe_resolver_entry(r, 0);
	ck_assert_int_eq(e->state, RESOLVE_DONE);
	ck_assert_uint_ge(e->naddrs, 1);
	ck_assert_int_eq(addr_port((const void *)&e->addrs[0]), 862);
	ck_assert_int_eq(ownaddr_load(&own), 0);
	ck_assert(probe_resolve_is_own(e, &own));
	e = probe_resolver_entry(r, 2);
	ck_assert_int_eq(e->state, RESOLVE_FAILED);
	ck_assert_int_ne(e->error, 0);
	ck_assert_uint_eq(e->failures, 1);
	ck_assert(!probe_resolve_is_own(e, &own));
	/* Asked again in a second, not at once. */
	ck_assert_uint_gt(probe_resolver_next_ms(r), e->due_ms - RESOLVE_BACKOFF_FIRST_MS);
	ck_assert_uint_eq(probe_resolver_next_ms(r), e->due_ms);
	e = probe_resolver_entry(r, 3);
	ck_assert_int_eq(e->state, RESOLVE_DONE);
	ck_assert_int_eq(addr_port((const void *)&e->addrs[0]), 9);
	ck_assert(probe_resolve_is_own(e, &own));
	ownaddr_free(&own);
	probe_resolver_free(r);
	config_free(cfg);
}
END_TEST

/* A fake clock, and a getaddrinfo() that fails until told otherwise. */
static uint64_t fake_now;
static atomic_int lookups, fail_first;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static int
fake_lookup(const char *host, const char *port, const struct addrinfo *hints,
    struct addrinfo **res)
{
	struct addrinfo h = *hints;

	ck_assert_str_eq(host, "flaky.example");
	if (atomic_fetch_add(&lookups, 1) < atomic_load(&fail_first))
		return EAI_AGAIN;
	h.ai_flags |= AI_NUMERICHOST;
	return getaddrinfo("192.0.2.7", port, &h, res);
}

/* Each failure waits its backoff on the resolver's clock; a success resets the count. */
START_TEST(backoff_on_fake_clock)
{
	struct resolve_ops ops = { fake_clock, NULL, fake_lookup };
	struct echod_config *cfg = load_probes("probes = ( { name = \"p\"; protocol = \"udp\"; "
	    "targets = [ \"flaky.example:7007\" ]; } );");
	struct probe_resolver *r;
	const struct resolve_entry *e;
	uint64_t delay = RESOLVE_BACKOFF_FIRST_MS;
	char buf[ADDR_STRLEN];
	int n = 12;

	fake_now = 5000;
	atomic_store(&lookups, 0);
	atomic_store(&fail_first, n);
	r = probe_resolver_new(&ops);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(probe_resolver_load(r, cfg), 0);
	e = probe_resolver_entry(r, 0);
	settle(r);
	for (int i = 1; i <= n; i++) {
		ck_assert_int_eq(atomic_load(&lookups), i);
		ck_assert_int_eq(e->state, RESOLVE_FAILED);
		ck_assert_int_eq(e->error, EAI_AGAIN);
		ck_assert_uint_eq(e->failures, (unsigned)i);
		ck_assert_uint_eq(e->due_ms, fake_now + delay);
		ck_assert_uint_eq(probe_resolver_next_ms(r), e->due_ms);
		/* A millisecond early: nothing is asked. */
		fake_now = e->due_ms - 1;
		probe_resolver_poll(r);
		ck_assert_int_eq(e->state, RESOLVE_FAILED);
		ck_assert(!probe_resolver_busy(r));
		fake_now++;
		settle(r);
		delay = delay * 2 < RESOLVE_BACKOFF_MAX_MS ? delay * 2 : RESOLVE_BACKOFF_MAX_MS;
	}
	/* The 13th try is answered. */
	ck_assert_int_eq(atomic_load(&lookups), n + 1);
	ck_assert_int_eq(e->state, RESOLVE_DONE);
	ck_assert_uint_eq(e->failures, 0);
	ck_assert_uint_eq(e->naddrs, 1);
	ck_assert_str_eq(addr_format((const void *)&e->addrs[0], sizeof(e->addrs[0]), buf,
	    sizeof(buf)), "192.0.2.7:7007");
	ck_assert_uint_eq(probe_resolver_next_ms(r), UINT64_MAX);
	/* A reload asks again at once, from no failures. */
	atomic_store(&fail_first, 0);
	ck_assert_int_eq(probe_resolver_load(r, cfg), 0);
	e = probe_resolver_entry(r, 0);
	ck_assert_int_eq(e->state, RESOLVE_WAITING);
	ck_assert_uint_eq(probe_resolver_next_ms(r), fake_now);
	settle(r);
	ck_assert_int_eq(e->state, RESOLVE_DONE);
	ck_assert_int_eq(atomic_load(&lookups), n + 2);
	probe_resolver_free(r);
	config_free(cfg);
}
END_TEST

/* A getaddrinfo() that fails, but only once the test opens the gate. */
static atomic_bool gate_open;
static atomic_int returned;

static int
gate_lookup(const char *host, const char *port, const struct addrinfo *hints,
    struct addrinfo **res)
{
	(void)host, (void)port, (void)hints, (void)res;
	atomic_fetch_add(&lookups, 1);
	while (!atomic_load(&gate_open))
		usleep(1000);
	atomic_fetch_add(&returned, 1);
	return EAI_AGAIN;
}

/* A reload while a name is being asked: the answer for the old entries is dropped. */
START_TEST(reload_drops_stale_answers)
{
	struct resolve_ops ops = { fake_clock, NULL, gate_lookup };
	struct echod_config *cfg = load_probes("probes = ( { name = \"p\"; "
	    "targets = [ \"gate.example\" ]; } );");
	struct probe_resolver *r;
	const struct resolve_entry *e;

	fake_now = 100;
	atomic_store(&lookups, 0);
	atomic_store(&gate_open, false);
	r = probe_resolver_new(&ops);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(probe_resolver_load(r, cfg), 0);
	probe_resolver_poll(r);
	while (atomic_load(&lookups) < 1)
		usleep(1000);
	ck_assert_int_eq(probe_resolver_load(r, cfg), 0);
	e = probe_resolver_entry(r, 0);
	ck_assert_int_eq(e->state, RESOLVE_WAITING);
	probe_resolver_poll(r);
	while (atomic_load(&lookups) < 2)
		usleep(1000);
	atomic_store(&returned, 0);
	atomic_store(&gate_open, true);
	settle(r);
	/*
	 * Both answers in (a helper hands its answer over right after the lookup
	 * returns): had the stale one counted, the entry would show 2 failures.
	 */
	while (atomic_load(&returned) < 2)
		usleep(1000);
	usleep(50000);
	probe_resolver_poll(r);
	ck_assert_int_eq(e->state, RESOLVE_FAILED);
	ck_assert_uint_eq(e->failures, 1);
	ck_assert_uint_eq(e->due_ms, fake_now + RESOLVE_BACKOFF_FIRST_MS);
	probe_resolver_free(r);
	config_free(cfg);
}
END_TEST

/* Is text (a literal) one of the addresses getifaddrs() lists, by a walk of this test's own? */
static bool
listed(const char *text)
{
	struct sockaddr_storage want;
	struct ifaddrs *list;
	unsigned char a[16], b[16];
	socklen_t len;
	bool found = false;

	ck_assert_int_eq(addr_parse(text, 0, &want, &len), 0);
	ck_assert_int_eq(getifaddrs(&list), 0);
	(void)addr_to_v6((const void *)&want, a);
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && addr_to_v6(i->ifa_addr, b) == 0 && memcmp(a, b, 16) == 0)
			found = true;
	freeifaddrs(list);
	return found;
}

static bool
own_text(const struct ownaddr *own, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(addr_parse(text, 862, &ss, &len), 0);
	return ownaddr_contains(own, (const void *)&ss);
}

START_TEST(own_addresses)
{
	struct ownaddr own;
	struct ifaddrs *list;
	char host[ADDR_STRLEN];

	ck_assert_int_eq(ownaddr_load(&own), 0);
	ck_assert_uint_gt(own.n, 0);
	ck_assert(own_text(&own, "127.0.0.1"));
	ck_assert(own_text(&own, "127.0.0.2"));		/* all of 127/8 is this host */
	ck_assert(own_text(&own, "::1"));
	ck_assert(own_text(&own, "::ffff:127.0.0.1"));	/* IPv4-mapped: the same address */
	ck_assert_msg(!listed("192.0.2.1"), "this host has 192.0.2.1: the case cannot be checked");
	ck_assert(!own_text(&own, "192.0.2.1"));
	ck_assert(!own_text(&own, "2001:db8::1"));
	/* Every address of every interface, and each IPv4 one mapped too. */
	ck_assert_int_eq(getifaddrs(&list), 0);
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
		struct sockaddr_in6 m = { .sin6_family = AF_INET6 };

		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6))
			continue;
		ck_assert_msg(ownaddr_contains(&own, i->ifa_addr), "%s not own",
		    addr_format(i->ifa_addr, sizeof(struct sockaddr_storage), host, sizeof(host)));
		if (i->ifa_addr->sa_family != AF_INET)
			continue;
		m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m.sin6_addr.s6_addr[12],
		    &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		ck_assert(ownaddr_contains(&own, (const void *)&m));
	}
	freeifaddrs(list);
	ownaddr_free(&own);
}
END_TEST

/* Run echod -t on the scratch configuration: its exit status, stdout and stderr in out. */
static int
echod_t(char *out, size_t size)
{
	const char *echod = getenv("ECHOD");
	char cmd[512];
	size_t n = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "env -u CREDENTIALS_DIRECTORY %s -t -c %s/echod.conf 2>&1",
	    echod != NULL ? echod : "../src/echod", scratch);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (n + 1 < size && fgets(out + n, (int)(size - n), p) != NULL)
		n += strlen(out + n);
	out[n] = '\0';
	status = pclose(p);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* echod -t: a line per probe, each target with what start would make of it. */
START_TEST(test_config_lists_probes)
{
	char out[8192], dir[256];
	struct ownaddr own;

	ck_assert_int_eq(ownaddr_load(&own), 0);
	ck_assert_msg(!own_text(&own, "198.51.100.1"), "this host has 198.51.100.1");
	ownaddr_free(&own);
	snprintf(dir, sizeof(dir), "%s/conf.d", scratch);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	write_file("echod.conf", "include_dir = \"conf.d\";\nuser = \"nobody\";\n"
	    "listeners = ( { protocol = \"stamp\"; port = 8620; address = \"127.0.0.1\"; } );\n");
	write_file("conf.d/mesh.conf", "probes = (\n"
	    "  { name = \"mesh\"; targets = [ \"198.51.100.1\", \"127.0.0.1\", "
	    "\"nothing.invalid\", \"localhost:9\" ]; dscp = \"af41\"; },\n"
	    "  { name = \"echo\"; protocol = \"udp\"; targets = [ \"[::1]:7007\" ]; "
	    "interval = 0.5; }\n"
	    ");\n");
	ck_assert_int_eq(echod_t(out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "probe mesh: stamp every 1 s, 44 octets, dscp af41: "
	    "198.51.100.1:862, 127.0.0.1:862 (own address: skipped), nothing.invalid:862 (")
	    != NULL, "%s", out);
	/* NXDOMAIN at once where a server answers; a builder without one may wait it out. */
	ck_assert_msg(strstr(out, "nothing.invalid:862 (unresolvable: ") != NULL ||
	    strstr(out, "nothing.invalid:862 (no answer yet)") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "localhost:9 = ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, ":9 (own address: skipped)\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "probe echo: udp every 0.5 s, 64 octets, dscp default: "
	    "[::1]:7007 (own address: skipped)\nconfiguration OK\n") != NULL, "%s", out);
	/* A bad key: its file:line, exit 78 (EX_CONFIG), no "configuration OK". */
	write_file("conf.d/mesh.conf",
	    "\nprobes = ( { name = \"mesh\"; targets = [ \"a..b\" ]; } );\n");
	ck_assert_int_eq(echod_t(out, sizeof(out)), 78);
	snprintf(dir, sizeof(dir), "%s/conf.d/mesh.conf:2: target 'a..b' is neither", scratch);
	ck_assert_msg(strstr(out, dir) != NULL, "%s", out);
	ck_assert_ptr_null(strstr(out, "configuration OK"));
}
END_TEST

/* A probe's auth_key_file is read at start and by -t, as a listener's key is. */
START_TEST(test_config_reads_probe_keys)
{
	char out[8192], text[1024], want[512], path[256];

	snprintf(path, sizeof(path), "%s/probe.key", scratch);
	write_file("probe.key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(text, sizeof(text), "listeners = ( { protocol = \"stamp\"; port = 8620; "
	    "address = \"127.0.0.1\"; } );\nuser = \"nobody\";\n"
	    "probes = ( { name = \"auth\"; targets = [ \"127.0.0.1\" ];\n"
	    "  auth_key_file = \"%s\"; } );\n", path);
	write_file("echod.conf", text);
	ck_assert_int_eq(echod_t(out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "probe auth: stamp every 1 s, 112 octets, dscp default: "
	    "127.0.0.1:862 (own address: skipped)\nconfiguration OK\n") != NULL, "%s", out);
	/* Missing: its file:line and the path, exit 78. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(echod_t(out, sizeof(out)), 78);
	snprintf(want, sizeof(want), "%s/echod.conf:4: auth_key_file %s: No such file", scratch,
	    path);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	/* Readable by others: refused as a listener's key is. */
	write_file("probe.key", "00112233445566778899aabbccddeeff\n");
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(echod_t(out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, "others may read it") != NULL, "%s", out);
	/* A credential name, with no credentials given. */
	snprintf(text, sizeof(text), "listeners = ( { protocol = \"stamp\"; port = 8620; "
	    "address = \"127.0.0.1\"; } );\nuser = \"nobody\";\n"
	    "probes = ( { name = \"auth\"; targets = [ \"127.0.0.1\" ]; "
	    "auth_key_file = \"probe\"; } );\n");
	write_file("echod.conf", text);
	ck_assert_int_eq(echod_t(out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, "echod.conf:3: auth_key_file 'probe' is a credential name")
	    != NULL, "%s", out);
}
END_TEST

static Suite *
probe_resolve_suite(void)
{
	Suite *s = suite_create("probe_resolve");
	TCase *tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
	/* A resolver that does not answer fails the test, not the suite. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, backoff_schedule);
	tcase_add_test(tc, resolves_local_names);
	tcase_add_test(tc, backoff_on_fake_clock);
	tcase_add_test(tc, reload_drops_stale_answers);
	tcase_add_test(tc, own_addresses);
	tcase_add_test(tc, test_config_lists_probes);
	tcase_add_test(tc, test_config_reads_probe_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(probe_resolve_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
