/* SPDX-License-Identifier: MIT */
/*
 * check_probes: echod runs its configured probes (issue 25). Two real echods
 * on loopback: one a STAMP reflector and UDP echo server, the other probing
 * it (and a port nobody answers); /metrics (promtool-checked and parsed),
 * `echodctl probes [--json]`, a reload that keeps what stays.
 *
 * Loopback is this host's own address (ownaddr.h), which a mesh file skips:
 * the probes here say skip_own = false (echod.conf(5)), and one that does
 * not must stay unprobed.
 */
#include <check.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "http-probe.h"
#include "probe_metrics.h"

#define GET_METRICS	"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

/* The reflector's ports, the prober's, and the port nobody listens on. */
struct mesh {
	struct echod_proc refl, prober;
	int stamp_port, udp_port, own_port, metrics_port, dead_port;
	char good[64], dead[64], echo[64], added[64];	/* target texts */
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The body of GET /metrics into r; it must pass `promtool check metrics`. */
static void
scrape(const struct mesh *m, struct http_response *r)
{
	int fd = http_connect(NULL, "127.0.0.1", m->metrics_port);
	FILE *p;
	int status;

	ck_assert_int_ge(fd, 0);
	ck_assert(http_send_all(fd, GET_METRICS, strlen(GET_METRICS)));
	http_read_response(fd, r, false, harness_scale_ms(5000));
	close(fd);
	ck_assert_int_eq(r->status, 200);
	ck_assert_msg(system("command -v promtool >/dev/null") == 0,
	    "promtool not found: install the prometheus package (tools/deps.sh)");
	p = popen("promtool check metrics >&2", "w");
	ck_assert_ptr_nonnull(p);
	fwrite(r->body, 1, r->body_len, p);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics failed on:\n%.*s", (int)r->body_len, r->body);
}

/*
 * The value of name{probe="probe",target="target",protocol="proto"EXTRA} in
 * the body (extra: more labels, as ",direction=\"unknown\"", or ""); -1 when
 * there is no such series.
 */
static double
value(const struct http_response *r, const char *name, const char *probe, const char *target,
    const char *proto, const char *extra)
{
	char key[512], *body = strndup(r->body, r->body_len), *at;
	double v = -1;

	ck_assert_ptr_nonnull(body);
	snprintf(key, sizeof(key), "\n%s{probe=\"%s\",target=\"%s\",protocol=\"%s\"%s} ", name,
	    probe, target, proto, extra);
	if ((at = strstr(body, key)) != NULL)
		v = strtod(at + strlen(key), NULL);
	free(body);
	return v;
}

static double
sent(const struct http_response *r, const char *probe, const char *target, const char *proto)
{
	return value(r, "echod_probe_sent_total", probe, target, proto, "");
}

/* The reflector: STAMP (stateful) and UDP echo on 127.0.0.1. */
static void
start_reflector(struct mesh *m)
{
	harness_init(&m->refl);
	m->stamp_port = harness_free_port();
	m->udp_port = harness_free_port();
	harness_write_config(&m->refl, "control_socket = \"\";\nworkers = 1;\nlisteners = (\n"
	    "  { protocol = \"stamp\"; port = %d; address = \"127.0.0.1\"; "
	    "stamp_mode = \"stateful\"; stamp_sessions = 64; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; }\n);\n",
	    m->stamp_port, m->udp_port);
	ck_assert_int_eq(harness_start(&m->refl, NULL, 0), 0);
}

/*
 * The prober's configuration: "mesh" (STAMP, 20 a second) to the reflector
 * and to dead (or, with reloaded, to added instead), "echo" (UDP) to the
 * reflector, and "skipped", to the reflector too but without skip_own =
 * false: loopback is this host's, so it must never be probed.
 */
static void
write_prober(struct mesh *m, bool reloaded)
{
	char control[128];

	harness_control_path(&m->prober, control, sizeof(control));
	harness_write_config(&m->prober, "control_socket = \"%s\";\nworkers = 1;\n"
	    "listeners = ( { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; } );\n"
	    "metrics = { port = %d; address = \"127.0.0.1\"; };\n"
	    "probes = (\n"
	    "  { name = \"mesh\"; targets = [ \"%s\", \"%s\" ]; interval = 0.05; "
	    "skip_own = false; },\n"
	    "  { name = \"echo\"; protocol = \"udp\"; targets = [ \"%s\" ]; interval = 0.05; "
	    "skip_own = false; },\n"
	    "  { name = \"skipped\"; targets = [ \"%s\" ]; ssid = 9; }\n);\n",
	    control, m->own_port, m->metrics_port, m->good, reloaded ? m->added : m->dead,
	    m->echo, m->good);
}

static void
start_prober(struct mesh *m)
{
	long deadline;
	int fd;

	harness_init(&m->prober);
	m->own_port = harness_free_port();
	m->metrics_port = harness_free_port();
	m->dead_port = harness_free_port();
	snprintf(m->good, sizeof(m->good), "127.0.0.1:%d", m->stamp_port);
	snprintf(m->echo, sizeof(m->echo), "127.0.0.1:%d", m->udp_port);
	/* Nobody listens there: ICMP port unreachable, every probe lost. */
	snprintf(m->dead, sizeof(m->dead), "127.0.0.2:%d", m->dead_port);
	snprintf(m->added, sizeof(m->added), "127.0.0.3:%d", m->dead_port);
	write_prober(m, false);
	ck_assert_int_eq(harness_start(&m->prober, NULL, 0), 0);
	deadline = now_ms() + harness_scale_ms(5000);
	while ((fd = http_connect(NULL, "127.0.0.1", m->metrics_port)) == -1 &&
	    now_ms() < deadline)
		poll(NULL, 0, 20);
	ck_assert_msg(fd != -1, "the prober's metrics endpoint never answered");
	close(fd);
}

static void
stop_all(struct mesh *m)
{
	ck_assert_int_eq(harness_stop(&m->prober), 0);
	ck_assert_int_eq(harness_stop(&m->refl), 0);
	harness_cleanup(&m->prober);
	harness_cleanup(&m->refl);
}

/* Scrape until every good target has sent and been answered at least n times. */
static void
scrape_until(const struct mesh *m, double n, struct http_response *r)
{
	long deadline = now_ms() + harness_scale_ms(10000);

	for (;;) {
		scrape(m, r);
		if (value(r, "echod_probe_received_total", "mesh", m->good, "stamp", "") >= n &&
		    value(r, "echod_probe_received_total", "echo", m->echo, "udp", "") >= n &&
		    value(r, "echod_probe_lost_total", "mesh", m->dead, "stamp",
		    ",direction=\"unknown\"") >= 1)
			return;
		ck_assert_msg(now_ms() < deadline, "probes never reached %g replies:\n%.*s", n,
		    (int)r->body_len, r->body);
		poll(NULL, 0, 100);
	}
}

/* A target answered: every probe but those in flight, none lost, up. */
static void
assert_answered(const struct http_response *r, const char *probe, const char *target,
    const char *proto)
{
	static const char *const dirs[] = { "forward", "backward", "unknown" };
	double s = sent(r, probe, target, proto);
	double got = value(r, "echod_probe_received_total", probe, target, proto, "");

	ck_assert_msg(s - got >= 0 && s - got <= 2, "%s %s: sent %g, received %g", probe, target,
	    s, got);
	for (size_t d = 0; d < 3; d++) {
		char extra[64];

		snprintf(extra, sizeof(extra), ",direction=\"%s\"", dirs[d]);
		ck_assert_double_eq(value(r, "echod_probe_lost_total", probe, target, proto,
		    extra), 0);
	}
	ck_assert_double_eq(value(r, "echod_probe_up", probe, target, proto, ""), 1);
	/* Every reply in time is in the histogram, +Inf bucket and count alike. */
	ck_assert_double_eq(value(r, "echod_probe_rtt_seconds_count", probe, target, proto, ""),
	    got);
	ck_assert_double_eq(value(r, "echod_probe_rtt_seconds_bucket", probe, target, proto,
	    ",le=\"+Inf\""), got);
}

START_TEST(probes_run_and_are_exported)
{
	struct mesh m;
	struct http_response r1, r2;

	start_reflector(&m);
	start_prober(&m);
	scrape_until(&m, 10, &r1);
	assert_answered(&r1, "mesh", m.good, "stamp");
	assert_answered(&r1, "echo", m.echo, "udp");
	/* STAMP's reflector says how long the probe stayed: a gauge. */
	ck_assert_msg(strstr(r1.body, "\n# TYPE echod_probe_reflector_dwell_seconds gauge\n") !=
	    NULL, "no dwell gauge");
	ck_assert_double_ge(value(&r1, "echod_probe_reflector_dwell_seconds", "mesh", m.good,
	    "stamp", ""), 0);
	ck_assert_double_eq(value(&r1, "echod_probe_received_total", "mesh", m.dead, "stamp",
	    ""), 0);
	ck_assert_double_eq(value(&r1, "echod_probe_up", "mesh", m.dead, "stamp", ""), 0);
	/* Own address, no skip_own = false: not probed at all. */
	ck_assert_msg(strstr(r1.body, "probe=\"skipped\"") == NULL, "own address probed:\n%.*s",
	    (int)r1.body_len, r1.body);
	poll(NULL, 0, harness_scale_ms(600));
	scrape(&m, &r2);
	ck_assert_double_gt(sent(&r2, "mesh", m.good, "stamp"), sent(&r1, "mesh", m.good,
	    "stamp"));
	ck_assert_double_gt(sent(&r2, "echo", m.echo, "udp"), sent(&r1, "echo", m.echo, "udp"));
	ck_assert_double_gt(value(&r2, "echod_probe_lost_total", "mesh", m.dead, "stamp",
	    ",direction=\"unknown\""), value(&r1, "echod_probe_lost_total", "mesh", m.dead,
	    "stamp", ",direction=\"unknown\""));
	assert_answered(&r2, "mesh", m.good, "stamp");
	stop_all(&m);
}
END_TEST

/* The entry of `echodctl probes --json` for probe and target; it must be there. */
static json_t *
json_entry(json_t *doc, const char *probe, const char *target)
{
	json_t *list = json_object_get(doc, "probes"), *e;
	size_t i;

	ck_assert(json_is_array(list));
	json_array_foreach(list, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "probe")), probe) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "target")), target) == 0)
			return e;
	}
	ck_abort_msg("no %s %s in echodctl probes --json", probe, target);
	return NULL;
}

static double
jnum(json_t *e, const char *key)
{
	json_t *v = json_object_get(e, key);

	ck_assert_msg(json_is_number(v), "%s is not a number", key);
	return json_number_value(v);
}

START_TEST(echodctl_probes_agrees_with_metrics)
{
	struct mesh m;
	struct http_response before, after;
	static char out[65536];
	json_error_t err;
	json_t *doc, *e;

	start_reflector(&m);
	start_prober(&m);
	scrape_until(&m, 5, &before);
	ck_assert_int_eq(harness_echodctl(&m.prober, "probes --json", out, sizeof(out)), 0);
	scrape(&m, &after);
	doc = json_loads(out, 0, &err);
	ck_assert_msg(doc != NULL, "not JSON (%s): %s", err.text, out);
	/* Read between two scrapes: its figures lie between theirs. */
	e = json_entry(doc, "mesh", m.good);
	ck_assert_str_eq(json_string_value(json_object_get(e, "address")), m.good);
	ck_assert_str_eq(json_string_value(json_object_get(e, "protocol")), "stamp");
	ck_assert_double_ge(jnum(e, "sent"), sent(&before, "mesh", m.good, "stamp"));
	ck_assert_double_le(jnum(e, "sent"), sent(&after, "mesh", m.good, "stamp"));
	ck_assert(json_is_true(json_object_get(e, "up")));
	ck_assert_double_eq(jnum(e, "lost"), 0);
	ck_assert_double_gt(jnum(e, "rtt_p50_seconds"), 0);
	ck_assert_double_ge(jnum(e, "rtt_p99_seconds"), jnum(e, "rtt_p50_seconds"));
	e = json_entry(doc, "mesh", m.dead);
	ck_assert(json_is_false(json_object_get(e, "up")));
	ck_assert_double_ge(jnum(e, "lost_unknown"), value(&before, "echod_probe_lost_total",
	    "mesh", m.dead, "stamp", ",direction=\"unknown\""));
	ck_assert_double_le(jnum(e, "lost_unknown"), value(&after, "echod_probe_lost_total",
	    "mesh", m.dead, "stamp", ",direction=\"unknown\""));
	ck_assert(json_is_null(json_object_get(e, "last_reply_age_seconds")));
	e = json_entry(doc, "echo", m.echo);
	ck_assert_str_eq(json_string_value(json_object_get(e, "protocol")), "udp");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "probes")), 3);
	json_decref(doc);
	/* The text: a header, then one line per target. */
	ck_assert_int_eq(harness_echodctl(&m.prober, "probes", out, sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "PROBE ", 6) == 0 && strstr(out, " UP\n") != NULL,
	    "no header: %s", out);
	ck_assert_msg(strstr(out, m.good) != NULL && strstr(out, m.dead) != NULL &&
	    strstr(out, m.echo) != NULL, "a target missing: %s", out);
	stop_all(&m);
}
END_TEST

START_TEST(reload_keeps_what_stays)
{
	struct mesh m;
	struct http_response before, after;
	static char out[4096];
	long deadline;

	start_reflector(&m);
	start_prober(&m);
	scrape_until(&m, 10, &before);
	write_prober(&m, true);
	ck_assert_int_eq(harness_echodctl(&m.prober, "reload", out, sizeof(out)), 0);
	deadline = now_ms() + harness_scale_ms(5000);
	for (;;) {
		scrape(&m, &after);
		if (sent(&after, "mesh", m.added, "stamp") >= 1)
			break;
		ck_assert_msg(now_ms() < deadline, "the added target never probed:\n%.*s",
		    (int)after.body_len, after.body);
		poll(NULL, 0, 50);
	}
	/* What stayed counts on from where it was: nothing drops. */
	ck_assert_double_ge(sent(&after, "mesh", m.good, "stamp"), sent(&before, "mesh", m.good,
	    "stamp"));
	ck_assert_double_ge(value(&after, "echod_probe_received_total", "mesh", m.good, "stamp",
	    ""), value(&before, "echod_probe_received_total", "mesh", m.good, "stamp", ""));
	ck_assert_double_ge(value(&after, "echod_probe_rtt_seconds_count", "echo", m.echo, "udp",
	    ""), value(&before, "echod_probe_rtt_seconds_count", "echo", m.echo, "udp", ""));
	assert_answered(&after, "mesh", m.good, "stamp");
	/* What went is gone, every series of it. */
	ck_assert_msg(strstr(after.body, m.dead) == NULL, "%s still exported:\n%.*s", m.dead,
	    (int)after.body_len, after.body);
	stop_all(&m);
}
END_TEST

/* probe_metrics_render() of rows, as text (or OpenMetrics) into a malloc'd string. */
static char *
render(const struct probe_row *rows, size_t n, bool om)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(out);
	probe_metrics_render(rows, n, om, out);
	ck_assert_int_eq(fclose(out), 0);
	return text;
}

static void
promtool_accepts(const char *text)
{
	FILE *p = popen("promtool check metrics >&2", "w");
	int status;

	ck_assert_ptr_nonnull(p);
	fputs(text, p);
	status = pclose(p);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "promtool check metrics failed on:\n%s", text);
}

/*
 * Label values escaped as the exposition format wants them (a name could
 * hold none of these, but a target's text is the configuration's string),
 * cumulative buckets, one-way delays only where both clocks are synchronised,
 * and a gauge only for the targets that have a value.
 */
START_TEST(rendering_escapes_and_buckets)
{
	struct probe_row rows[2];
	char *text;

	memset(rows, 0, sizeof(rows));
	rows[0].probe = "p";
	rows[0].target = "a\"b\\c\nd";
	rows[0].protocol = "stamp";
	rows[0].f.sent = 3;
	rows[0].f.received = 2;
	rows[0].f.lost_unknown = 1;
	rows[0].f.hops = -1;
	rows[0].f.reply_dscp = -1;
	rows[0].f.oneway = true;
	probe_hist_add(&rows[0].f.rtt, 0.0003);
	probe_hist_add(&rows[0].f.rtt, 0.002);
	probe_hist_add(&rows[0].f.forward, 0.0001);
	probe_hist_add(&rows[0].f.backward, 0.0002);
	rows[1] = rows[0];
	rows[1].target = "plain";
	rows[1].protocol = "udp";
	rows[1].f.oneway = false;
	rows[1].f.reply_dscp = 46;
	rows[1].f.up = true;
	text = render(rows, 2, false);
	promtool_accepts(text);
	ck_assert_msg(strstr(text,
	    "\nechod_probe_sent_total{probe=\"p\",target=\"a\\\"b\\\\c\\nd\","
	    "protocol=\"stamp\"} 3\n") != NULL, "not escaped:\n%s", text);
	ck_assert_ptr_nonnull(strstr(text, "target=\"plain\",protocol=\"udp\",le=\"0.00025\"} "
	    "0\n"));
	ck_assert_ptr_nonnull(strstr(text, "target=\"plain\",protocol=\"udp\",le=\"0.0005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "target=\"plain\",protocol=\"udp\",le=\"0.0025\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "target=\"plain\",protocol=\"udp\",le=\"+Inf\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nechod_probe_rtt_seconds_count{probe=\"p\","
	    "target=\"plain\",protocol=\"udp\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "protocol=\"stamp\",direction=\"backward\","
	    "le=\"0.00025\"} 1\n"));
	ck_assert_msg(strstr(text, "one_way_delay_seconds_count{probe=\"p\",target=\"plain\"") ==
	    NULL, "one-way delays without synchronised clocks:\n%s", text);
	/* No dwell or hops anywhere: no family; the DSCP of the one that has it. */
	ck_assert_ptr_null(strstr(text, "dwell"));
	ck_assert_ptr_null(strstr(text, "echod_probe_hops"));
	ck_assert_ptr_nonnull(strstr(text, "\nechod_probe_reply_dscp{probe=\"p\",target=\"plain\","
	    "protocol=\"udp\"} 46\n"));
	ck_assert_ptr_null(strstr(text, "echod_probe_reply_dscp{probe=\"p\",target=\"a"));
	ck_assert_ptr_nonnull(strstr(text, "\nechod_probe_up{probe=\"p\",target=\"plain\","
	    "protocol=\"udp\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nechod_probe_up{probe=\"p\",target=\"a\\\"b"));
	ck_assert_ptr_nonnull(strstr(text, "protocol=\"stamp\"} 0\n"));
	free(text);
	/* OpenMetrics: a counter family is named without _total, its samples with it. */
	text = render(rows, 2, true);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE echod_probe_sent counter\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nechod_probe_sent_total{probe=\"p\""));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE echod_probe_rtt_seconds histogram\n"));
	free(text);
	/* No target, no family at all. */
	text = render(rows, 0, false);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

/* skip_own takes true or false, and says where when it is anything else. */
START_TEST(skip_own_is_a_boolean)
{
	struct echod_proc p;
	char out[4096];
	const char *args[] = { "-t", "-c", p.conf, NULL };

	harness_init(&p);
	harness_write_config(&p, "listeners = ( { protocol = \"udp\"; port = 7; } );\n"
	    "probes = ( { name = \"m\"; targets = [ \"192.0.2.1\" ];\n"
	    "  skip_own = \"no\"; } );\n");
	ck_assert_int_eq(harness_run(args, out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, "echod.conf:3: skip_own must be true or false") != NULL,
	    "no file:line: %s", out);
	harness_cleanup(&p);
}
END_TEST

static Suite *
probes_suite(void)
{
	Suite *s = suite_create("probes");
	TCase *tc = harness_tcase(s, "echod", 60);

	tcase_add_test(tc, probes_run_and_are_exported);
	tcase_add_test(tc, echodctl_probes_agrees_with_metrics);
	tcase_add_test(tc, reload_keeps_what_stays);
	tc = harness_tcase(s, "unit", 30);
	tcase_add_test(tc, rendering_escapes_and_buckets);
	tcase_add_test(tc, skip_own_is_a_boolean);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(probes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
