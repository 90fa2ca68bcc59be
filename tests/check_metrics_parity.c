/* SPDX-License-Identifier: MIT */
/*
 * check_metrics_parity: `echodctl stats` and /metrics name every counter alike
 * (issue 24): both outputs of a running echod parsed, and matched key by key.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http-probe.h"

#define GET_METRICS	"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
#define MAX_KEYS	512
#define NOFILE		3001

/* One value under its stats key (scope.name[.label value]). */
struct keyed {
	char key[256];
	double value;
	bool matched;
};

struct keyset {
	struct keyed k[MAX_KEYS];
	size_t n;
	char counters[64][96];		/* families TYPEd counter (their samples end in _total) */
	size_t ncounters;
	char families[128][96];		/* every family TYPEd, counter or gauge */
	size_t nfamilies;
};

static void
keyset_add(struct keyset *s, const char *key, double value)
{
	ck_assert_msg(s->n < MAX_KEYS, "more than %d keys", MAX_KEYS);
	for (size_t i = 0; i < s->n; i++)
		ck_assert_msg(strcmp(s->k[i].key, key) != 0, "key %s twice", key);
	snprintf(s->k[s->n].key, sizeof(s->k[s->n].key), "%s", key);
	s->k[s->n].value = value;
	s->k[s->n++].matched = false;
}

static struct keyed *
keyset_find(struct keyset *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->k[i].key, key) == 0)
			return &s->k[i];
	return NULL;
}

/* --- the stats side: "key=value" lines ------------------------------------------------ */

/*
 * The listeners the test configured, as `echodctl stats` names them:
 * listener[<protocol> <address>]. (echodctl(8)); the prefix is matched whole.
 */
struct listener_ref {
	const char *protocol;
	char address[128];
};

/* Parses out (the text of `echodctl stats`) into s: keys as written, totals apart. */
static void
parse_stats(char *out, const struct listener_ref *ls, size_t nls, struct keyset *s,
    struct keyset *totals)
{
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char *eq = strrchr(line, '=');
		bool known = false;

		ck_assert_msg(eq != NULL, "not key=value: '%s'", line);
		*eq = '\0';
		if (strcmp(line, "echod.version") == 0) {
			keyset_add(s, line, 1);	/* echod_build_info's value */
			continue;
		}
		if (strncmp(line, "total.", 6) == 0) {
			keyset_add(totals, line + 6, strtod(eq + 1, NULL));
			continue;
		}
		known = strncmp(line, "echod.", 6) == 0;
		for (size_t i = 0; i < nls && !known; i++) {
			char prefix[160];

			snprintf(prefix, sizeof(prefix), "listener[%s %s].", ls[i].protocol,
			    ls[i].address);
			known = strncmp(line, prefix, strlen(prefix)) == 0;
		}
		ck_assert_msg(known, "key of no known scope: %s", line);
		keyset_add(s, line, strtod(eq + 1, NULL));
	}
}

/* --- the /metrics side: the Prometheus text format ------------------------------------ */

/* One label pair at *p (name="value", the value unescaped); false at the closing brace. */
static bool
next_label(const char **p, char *name, size_t nsize, char *value, size_t vsize)
{
	const char *s = *p, *eq;
	size_t n = 0;

	if (*s == ',')
		s++;
	if (*s == '}')
		return false;
	eq = strchr(s, '=');
	ck_assert_msg(eq != NULL && eq[1] == '"', "bad label at '%s'", s);
	snprintf(name, nsize, "%.*s", (int)(eq - s), s);
	for (s = eq + 2; *s != '"'; s++) {
		ck_assert_msg(*s != '\0', "label value not closed");
		if (*s == '\\') {
			s++;
			ck_assert_msg(*s == '\\' || *s == '"' || *s == 'n', "bad escape");
		}
		if (n + 1 < vsize)
			value[n++] = *s == 'n' && s[-1] == '\\' ? '\n' : *s;
	}
	value[n] = '\0';
	*p = s + 1;
	return true;
}

static bool
is_counter(const struct keyset *s, const char *family)
{
	for (size_t i = 0; i < s->ncounters; i++)
		if (strcmp(s->counters[i], family) == 0)
			return true;
	return false;
}

/*
 * A sample as the stats key it must match: echod_<name>[_total] with no
 * label is echod.<name>; protocol and address make the scope
 * listener[<protocol> <address>]; reason="r" adds .r, result="r" adds _r
 * (echod.reloads_ok); echod_build_info{version} is echod.version. Returns
 * false for the process_* families of the client libraries, which have no
 * stats key (echodctl(8)).
 */
static bool
sample_key(const struct keyset *s, const char *line, char *key, size_t size, double *value)
{
	char family[96], protocol[160] = "", address[160] = "", suffix[170] = "";
	char name[32], val[160];
	const char *p = line + strcspn(line, "{ ");
	size_t flen = (size_t)(p - line);

	ck_assert_msg(flen < sizeof(family), "name too long: %s", line);
	snprintf(family, sizeof(family), "%.*s", (int)flen, line);
	if (strncmp(family, "process_", 8) == 0)
		return false;
	ck_assert_msg(strncmp(family, "echod_", 6) == 0, "a family not echod's: %s", family);
	if (*p == '{') {
		p++;
		while (next_label(&p, name, sizeof(name), val, sizeof(val))) {
			if (strcmp(name, "protocol") == 0)
				snprintf(protocol, sizeof(protocol), "%s", val);
			else if (strcmp(name, "address") == 0)
				snprintf(address, sizeof(address), "%s", val);
			else if (strcmp(name, "reason") == 0)
				snprintf(suffix, sizeof(suffix), ".%s", val);
			else if (strcmp(name, "result") == 0)
				snprintf(suffix, sizeof(suffix), "_%s", val);
			else
				ck_assert_msg(strcmp(family, "echod_build_info") == 0 &&
				    strcmp(name, "version") == 0, "unknown label %s in %s", name,
				    line);
		}
		p++;
	}
	*value = strtod(p, NULL);
	/* A counter's samples end in _total, which its stats key does not have. */
	if (flen > 6 && strcmp(family + flen - 6, "_total") == 0) {
		family[flen - 6] = '\0';
		ck_assert_msg(is_counter(s, family),
		    "%s: _total on a family not TYPEd counter", line);
	} else {
		ck_assert_msg(!is_counter(s, family), "%s: a counter without _total", line);
	}
	int n;

	if (strcmp(family, "echod_build_info") == 0)
		n = snprintf(key, size, "echod.version");
	else if (protocol[0] != '\0')
		n = snprintf(key, size, "listener[%s %s].%s%s", protocol, address, family + 6,
		    suffix);
	else
		n = snprintf(key, size, "echod.%s%s", family + 6, suffix);
	/* A key cut short would match no stats key: say so rather than fail obscurely. */
	ck_assert_msg(n >= 0 && (size_t)n < size, "key too long for %s", line);
	ck_assert_msg((protocol[0] != '\0') == (address[0] != '\0'),
	    "protocol without address, or the reverse: %s", line);
	return true;
}

/* Parses the exposition in body into s (samples) and its TYPE lines. */
static void
parse_metrics(char *body, struct keyset *s)
{
	for (char *line = strtok(body, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char key[256], fam[96], type[16];
		double v;

		if (sscanf(line, "# TYPE %95s %15s", fam, type) == 2) {
			ck_assert_uint_lt(s->nfamilies, 128);
			snprintf(s->families[s->nfamilies++], sizeof(s->families[0]), "%s", fam);
			if (strcmp(type, "counter") == 0) {
				/* 0.0.4: the family is named with _total; the key is without. */
				size_t len = strlen(fam);

				if (len > 6 && strcmp(fam + len - 6, "_total") == 0)
					fam[len - 6] = '\0';
				ck_assert_uint_lt(s->ncounters, 64);
				snprintf(s->counters[s->ncounters++], sizeof(s->counters[0]), "%s",
				    fam);
			}
			continue;
		}
		if (line[0] == '#')
			continue;
		if (sample_key(s, line, key, sizeof(key), &v))
			keyset_add(s, key, v);
	}
}

/* --- echod with one listener of each kind ---------------------------------------------- */

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* The body of GET /metrics; it must pass `promtool check metrics`. */
static void
scrape(int mport, struct http_response *r)
{
	int fd = http_connect(NULL, "127.0.0.1", mport);
	FILE *p;
	int status;

	ck_assert_int_ge(fd, 0);
	http_send_all(fd, GET_METRICS, strlen(GET_METRICS));
	http_read_response(fd, r, false, 5000);
	close(fd);
	ck_assert_int_eq(r->status, 200);
	p = popen("promtool check metrics >&2", "w");
	ck_assert_ptr_nonnull(p);
	fwrite(r->body, 1, r->body_len, p);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics failed on:\n%.*s", (int)r->body_len, r->body);
}

/* Some of everything: a TCP and a Unix echo, a datagram, a STAMP test packet. */
static void
traffic(int tport, int uport, int sport, const char *path)
{
	unsigned char buf[100], reply[128] = { 0 };
	struct pollfd pfd;
	int fd;

	random_fill(buf, sizeof(buf), 24);
	fd = tcp_connect_port(AF_INET, tport);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stream_echo_check(fd, buf, sizeof(buf), 24, 5000), 0);
	close(fd);
	fd = unix_connect_path(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stream_echo_check(fd, buf, sizeof(buf), 24, 5000), 0);
	close(fd);
	for (int i = 0; i < 2; i++) {
		/* A datagram on the UDP port, then a 44-octet STAMP test packet (sequence 0). */
		fd = udp_socket_for(AF_INET, i == 0 ? uport : sport);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(send(fd, reply, 44, 0), 44);
		pfd = (struct pollfd){ fd, POLLIN, 0 };
		ck_assert_int_eq(poll(&pfd, 1, harness_scale_ms(5000)), 1);
		ck_assert_int_ge(recv(fd, buf, sizeof(buf), 0), 44);
		close(fd);
	}
}

/*
 * echod with a TCP, a UDP, a Unix and a stateful STAMP listener, a control
 * socket and a metrics port; fills ls with the listeners as stats name them.
 */
static void
serve_all_kinds(struct echod_proc *p, int *mport, int *tport, int *uport, int *sport,
    struct listener_ref ls[4])
{
	char control[128];

	for (int attempt = 1; attempt <= 3; attempt++) {
		*tport = harness_free_port();
		*uport = harness_free_port();
		*sport = harness_free_port();
		*mport = harness_free_port();
		harness_init(p);
		harness_control_path(p, control, sizeof(control));
		ls[0] = (struct listener_ref){ "tcp", "" };
		ls[1] = (struct listener_ref){ "udp", "" };
		ls[2] = (struct listener_ref){ "unix", "" };
		ls[3] = (struct listener_ref){ "stamp", "" };
		snprintf(ls[0].address, sizeof(ls[0].address), "127.0.0.1:%d", *tport);
		snprintf(ls[1].address, sizeof(ls[1].address), "127.0.0.1:%d", *uport);
		snprintf(ls[2].address, sizeof(ls[2].address), "%s/echo.sock", p->dir);
		snprintf(ls[3].address, sizeof(ls[3].address), "127.0.0.1:%d", *sport);
		harness_write_config(p, "control_socket = \"%s\";\nworkers = 2;\nlisteners = (\n"
		    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
		    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
		    "  { protocol = \"unix\"; path = \"%s\"; },\n"
		    "  { protocol = \"stamp\"; port = %d; address = \"127.0.0.1\"; "
		    "stamp_mode = \"stateful\"; stamp_sessions = 64; }\n);\n"
		    "metrics = { port = %d; };\n", control, *tport, *uport, ls[2].address,
		    *sport, *mport);
		/* A descriptor limit of the test's own: process_max_fds must say it. */
		if (harness_start(p, NULL, NOFILE) == 0) {
			long deadline = now_ms() + harness_scale_ms(5000);
			int fd;

			while ((fd = http_connect(NULL, "127.0.0.1", *mport)) == -1 &&
			    now_ms() < deadline)
				poll(NULL, 0, 20);
			if (fd != -1) {
				close(fd);
				return;
			}
		}
		harness_stop(p);
		harness_cleanup(p);
	}
	ck_abort_msg("echod with every kind of listener never served its metrics");
}

/* The uptime's value blanked: the one value that may move while nothing happens. */
static void
blank_uptime(char *text)
{
	char *up = strstr(text, "echod.uptime_seconds=");

	ck_assert_ptr_nonnull(up);
	for (up += strlen("echod.uptime_seconds="); *up >= '0' && *up <= '9'; up++)
		*up = '0';
}

/* Stats, then metrics, then stats again, until nothing moved between the two stats. */
static void
read_both(struct echod_proc *p, int mport, const struct listener_ref *ls,
    struct keyset *stats, struct keyset *totals, struct keyset *metrics)
{
	static char before[65536], after[65536], body[65536];
	static struct http_response r;
	bool still = false;

	for (int tries = 0; tries < 20 && !still; tries++) {
		ck_assert_int_eq(harness_echodctl(p, "stats", before, sizeof(before)), 0);
		scrape(mport, &r);
		ck_assert_int_eq(harness_echodctl(p, "stats", after, sizeof(after)), 0);
		blank_uptime(before);
		blank_uptime(after);
		still = strcmp(before, after) == 0;
		if (!still)
			poll(NULL, 0, 50);
	}
	ck_assert_msg(still, "the counters kept moving");
	memset(stats, 0, sizeof(*stats));
	memset(totals, 0, sizeof(*totals));
	memset(metrics, 0, sizeof(*metrics));
	parse_stats(after, ls, 4, stats, totals);
	ck_assert_uint_lt(r.body_len, sizeof(body));
	memcpy(body, r.body, r.body_len);
	body[r.body_len] = '\0';
	parse_metrics(body, metrics);
}

START_TEST(every_stats_key_is_a_series_and_back)
{
	static struct keyset stats, totals, metrics;
	struct listener_ref ls[4];
	struct echod_proc p;
	int mport, tport, uport, sport;

	serve_all_kinds(&p, &mport, &tport, &uport, &sport, ls);
	traffic(tport, uport, sport, ls[2].address);
	read_both(&p, mport, ls, &stats, &totals, &metrics);
	ck_assert_uint_gt(stats.n, 50);
	/*
	 * A series that can never rise is in neither: a Unix peer has no
	 * address, so no ACL or per-source refusal (a TCP listener has them).
	 */
	{
		static const char *const never[] = {
			"acl", "source_connections", "connection_rate", "unlisted",
		};
		char key[300];

		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
			snprintf(key, sizeof(key), "listener[unix %s].refused.%s", ls[2].address,
			    never[i]);
			ck_assert_msg(keyset_find(&stats, key) == NULL, "%s is shown", key);
			ck_assert_msg(keyset_find(&metrics, key) == NULL, "%s is exported", key);
			snprintf(key, sizeof(key), "listener[tcp %s].refused.%s", ls[0].address,
			    never[i]);
			ck_assert_msg(keyset_find(&metrics, key) != NULL, "%s is not exported", key);
		}
		snprintf(key, sizeof(key), "listener[unix %s].refused.max_connections",
		    ls[2].address);
		ck_assert_ptr_nonnull(keyset_find(&metrics, key));
		/* STAMP drops: one counter by reason. */
		snprintf(key, sizeof(key), "listener[stamp %s].stamp_dropped.auth_failed",
		    ls[3].address);
		ck_assert_ptr_nonnull(keyset_find(&metrics, key));
		/* The open connections per listener, a gauge. */
		snprintf(key, sizeof(key), "listener[unix %s].connections_open", ls[2].address);
		ck_assert_ptr_nonnull(keyset_find(&metrics, key));
	}
	/* Each stats key is one series, with the same value (the uptime may have ticked). */
	for (size_t i = 0; i < stats.n; i++) {
		struct keyed *m = keyset_find(&metrics, stats.k[i].key);

		ck_assert_msg(m != NULL, "stats key %s has no series in /metrics", stats.k[i].key);
		m->matched = true;
		if (strcmp(stats.k[i].key, "echod.uptime_seconds") != 0)
			ck_assert_msg(m->value == stats.k[i].value, "%s: %g in stats, %g in /metrics",
			    stats.k[i].key, stats.k[i].value, m->value);
	}
	for (size_t i = 0; i < metrics.n; i++)
		ck_assert_msg(metrics.k[i].matched, "series %s has no stats key",
		    metrics.k[i].key);
	/*
	 * Each total is its family summed over the listeners (nothing was
	 * removed by a reload), and that family is TYPEd, samples or none.
	 */
	for (size_t i = 0; i < totals.n; i++) {
		char fam[128], key[300];
		double sum = 0;
		bool typed = false;

		snprintf(fam, sizeof(fam), "echod_%.*s", (int)strcspn(totals.k[i].key, "."),
		    totals.k[i].key);
		for (size_t f = 0; f < metrics.nfamilies; f++)
			typed |= strcmp(metrics.families[f], fam) == 0 ||
			    (strncmp(metrics.families[f], fam, strlen(fam)) == 0 &&
			    strcmp(metrics.families[f] + strlen(fam), "_total") == 0);
		ck_assert_msg(typed, "total.%s: no family %s in /metrics", totals.k[i].key, fam);
		for (size_t j = 0; j < 4; j++) {
			struct keyed *k;

			snprintf(key, sizeof(key), "listener[%s %s].%s", ls[j].protocol,
			    ls[j].address, totals.k[i].key);
			k = keyset_find(&stats, key);
			sum += k != NULL ? k->value : 0;
		}
		ck_assert_msg(sum == totals.k[i].value, "total.%s = %g, its listeners sum to %g",
		    totals.k[i].key, totals.k[i].value, sum);
	}
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * Item 4 of issue 24, in the scrape of a running echod: the reload gauges
 * (and what a failed reload does to them), the process_* metrics, the
 * per-listener open-connections gauge.
 */
START_TEST(reload_gauges_and_process_metrics)
{
	static struct http_response r;
	struct listener_ref ls[4];
	struct echod_proc p;
	char want[512], out[4096];
	int mport, tport, uport, sport;
	double started = (double)time(NULL);

	serve_all_kinds(&p, &mport, &tport, &uport, &sport, ls);
	scrape(mport, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\nechod_config_last_reload_successful 1\n"));
	{
		const char *ts = strstr(r.body, "\nechod_config_last_reload_success_timestamp_"
		    "seconds ");
		const char *st = strstr(r.body, "\nprocess_start_time_seconds ");
		double t;

		ck_assert_ptr_nonnull(ts);
		ck_assert_ptr_nonnull(st);
		t = strtod(ts + strlen("\nechod_config_last_reload_success_timestamp_seconds "),
		    NULL);
		ck_assert_msg(fabs(t - started) < 5, "load time %f, started %f", t, started);
		t = strtod(st + strlen("\nprocess_start_time_seconds "), NULL);
		ck_assert_msg(fabs(t - started) < 5, "process start %f, started %f", t, started);
	}
	ck_assert_ptr_nonnull(strstr(r.body, "\n# TYPE process_cpu_seconds_total counter\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nprocess_cpu_seconds_total "));
	ck_assert_ptr_nonnull(strstr(r.body, "\nprocess_virtual_memory_bytes "));
	snprintf(want, sizeof(want), "\nprocess_max_fds %d\n", NOFILE);
	ck_assert_msg(strstr(r.body, want) != NULL, "no %s in:\n%s", want + 1, r.body);
	/* What the kernel says of echod's process, read here beside the scrape. */
	{
		const char *rss = strstr(r.body, "\nprocess_resident_memory_bytes ");
		const char *fds = strstr(r.body, "\nprocess_open_fds ");
		double kb = (double)proc_rss_kb(p.pid), v;
		char dir[64];
		long n = 0;
		DIR *d;
		struct dirent *e;

		ck_assert_ptr_nonnull(rss);
		ck_assert_ptr_nonnull(fds);
		v = strtod(rss + strlen("\nprocess_resident_memory_bytes "), NULL) / 1024;
		ck_assert_msg(kb > 0 && v > kb / 2 && v < kb * 2, "resident %g KiB, VmRSS %g KiB",
		    v, kb);
		snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)p.pid);
		d = opendir(dir);
		ck_assert_ptr_nonnull(d);
		while ((e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		closedir(d);
		/* The scrape's own connection and directory stream come and go: +-3. */
		v = strtod(fds + strlen("\nprocess_open_fds "), NULL);
		ck_assert_msg(v >= (double)n - 3 && v <= (double)n + 3, "open fds %g, /proc says %ld",
		    v, n);
	}
	snprintf(want, sizeof(want), "\nechod_connections_open{protocol=\"unix\",address=\"%s\"}"
	    " 0\n", ls[2].address);
	ck_assert_msg(strstr(r.body, want) != NULL, "no %s in:\n%s", want + 1, r.body);
	snprintf(want, sizeof(want), "\nechod_stamp_dropped_total{protocol=\"stamp\","
	    "address=\"127.0.0.1:%d\",reason=\"auth_failed\"} 0\n", sport);
	ck_assert_msg(strstr(r.body, want) != NULL, "no %s in:\n%s", want + 1, r.body);
	ck_assert_ptr_null(strstr(r.body, "listener="));
	/* A Unix peer has no address: its listener shows no ACL or per-source series. */
	snprintf(want, sizeof(want), "{protocol=\"unix\",address=\"%s\",reason=\"acl\"}",
	    ls[2].address);
	ck_assert_ptr_null(strstr(r.body, want));
	snprintf(want, sizeof(want), "{protocol=\"unix\",address=\"%s\",reason=\"connection_rate"
	    "\"}", ls[2].address);
	ck_assert_ptr_null(strstr(r.body, want));
	snprintf(want, sizeof(want), "{protocol=\"tcp\",address=\"127.0.0.1:%d\",reason=\"acl\"}",
	    tport);
	ck_assert_ptr_nonnull(strstr(r.body, want));
	/* A reload that cannot read its file: 0, and the last success keeps its time. */
	harness_write_config(&p, "listeners = (;\n");
	ck_assert_int_ne(harness_echodctl(&p, "reload", out, sizeof(out)), 0);
	scrape(mport, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\nechod_config_last_reload_successful 0\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "\nechod_reloads_total{result=\"failed\"} 1\n"));
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

static Suite *
parity_suite(void)
{
	Suite *s = suite_create("metrics_parity");
	TCase *tc = harness_tcase(s, "echod", 60);

	tcase_add_test(tc, every_stats_key_is_a_series_and_back);
	tcase_add_test(tc, reload_gauges_and_process_metrics);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parity_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
