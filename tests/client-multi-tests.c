/* SPDX-License-Identifier: MIT */
/* echo-client with several HOSTs against a real echod (UDP echo and STAMP listeners on
 * loopback) and an address nothing answers on: one summary per target, text and JSON
 * (read back with jansson), and the exit status. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-multi-tests.h"
#include "client-run.h"
#include "harness.h"

/* echod serving UDP echo and STAMP on 127.0.0.1 (and ::1 when there is one). */
struct multi_rig {
	struct echod_proc p;
	char udp[8], stamp[8];
	bool ipv6;
};

static void
multi_rig_start(struct multi_rig *r)
{
	char v6[96];
	int u, s;

	r->ipv6 = harness_have_ipv6();
	for (int attempt = 0; attempt < 3; attempt++) {
		harness_init(&r->p);
		u = harness_free_port();
		s = harness_free_port();
		/* The same UDP port on ::1 too: several HOSTs share -p. */
		snprintf(v6, sizeof(v6), ",\n  { protocol = \"udp\"; port = %d; "
		    "address = \"::1\"; }", u);
		/* TCP on the UDP port too: -u or not, one -p. */
		harness_write_config(&r->p, "listeners = (\n"
		    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
		    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
		    "  { protocol = \"stamp\"; port = %d; address = \"127.0.0.1\"; "
		    "stamp_mode = \"stateful\"; }%s\n);\n", u, u, s, r->ipv6 ? v6 : "");
		if (u != s && harness_start(&r->p, NULL, 0) == 0) {
			snprintf(r->udp, sizeof(r->udp), "%d", u);
			snprintf(r->stamp, sizeof(r->stamp), "%d", s);
			return;
		}
		harness_cleanup(&r->p);
	}
	ck_abort_msg("echod with udp and stamp listeners did not start");
}

static void
multi_rig_stop(struct multi_rig *r)
{
	ck_assert_int_eq(harness_stop(&r->p), 0);
	harness_cleanup(&r->p);
}

/* UDP echo to 127.0.0.1 and ::1 (echod) and 127.0.0.2 (nothing there): a line each, in the
 * order given; the silent one makes the exit status 1, and without it the status is 0. */
START_TEST(test_multi_udp_text)
{
	struct multi_rig r;
	struct run_result res;
	char want[160];

	multi_rig_start(&r);
	run_client(&res, NULL, 0, "-u", "-p", r.udp, "-c", "4", "-i", "0.02", "-W", "0.5",
	    "127.0.0.1", "127.0.0.2", r.ipv6 ? "::1" : "127.0.0.1", (char *)NULL);
	ck_assert_msg(res.status == 1, "exit %d\n%s\n%s", res.status, res.out, res.err);
	ck_assert_uint_eq(run_count_lines(res.out, " : xmt/rcv/%loss = "), 3);
	snprintf(want, sizeof(want), "127.0.0.1 (127.0.0.1:%s) : xmt/rcv/%%loss = 4/4/0%%, "
	    "min/avg/max = ", r.udp);
	ck_assert_msg(strncmp(res.out, want, strlen(want)) == 0, "%s", res.out);
	snprintf(want, sizeof(want), "\n127.0.0.2 (127.0.0.2:%s) : xmt/rcv/%%loss = 4/0/100%%\n",
	    r.udp);
	ck_assert_msg(strstr(res.out, want) != NULL, "%s", res.out);
	snprintf(want, sizeof(want), r.ipv6 ? "\n::1 ([::1]:%s) : xmt/rcv/%%loss = 4/4/0%%, " :
	    "\n127.0.0.1 (127.0.0.1:%s) : xmt/rcv/%%loss = 4/4/0%%, ", r.udp);
	ck_assert_msg(strstr(res.out, want) != NULL, "%s", res.out);
	ck_assert_uint_eq(res.errlen, 0);
	run_free(&res);
	/* Every target answering: 0; without -c, one probe each, as fping. */
	run_client(&res, NULL, 0, "-u", "-p", r.udp, "127.0.0.1", r.ipv6 ? "::1" : "127.0.0.1",
	    (char *)NULL);
	ck_assert_msg(res.status == 0, "exit %d\n%s\n%s", res.status, res.out, res.err);
	ck_assert_uint_eq(run_count_lines(res.out, "xmt/rcv/%loss = 1/1/0%"), 2);
	run_free(&res);
	multi_rig_stop(&r);
}
END_TEST

/* TCP (the default), a connection per target: echod's answers, 127.0.0.2's refusal. */
START_TEST(test_multi_tcp_text)
{
	struct multi_rig r;
	struct run_result res;
	char want[160];

	multi_rig_start(&r);
	run_client(&res, NULL, 0, "-p", r.udp, "-c", "3", "-i", "0.02", "-W", "0.5",
	    "127.0.0.1", "127.0.0.2", (char *)NULL);
	ck_assert_msg(res.status == 1, "exit %d\n%s\n%s", res.status, res.out, res.err);
	snprintf(want, sizeof(want), "127.0.0.1 (127.0.0.1:%s) : xmt/rcv/%%loss = 3/3/0%%, "
	    "min/avg/max = ", r.udp);
	ck_assert_msg(strncmp(res.out, want, strlen(want)) == 0, "%s", res.out);
	snprintf(want, sizeof(want), "\n127.0.0.2 (127.0.0.2:%s) : xmt/rcv/%%loss = 3/0/100%%\n",
	    r.udp);
	ck_assert_msg(strstr(res.out, want) != NULL, "%s", res.out);
	run_free(&res);
	multi_rig_stop(&r);
}
END_TEST

/* One JSON line of out, parsed, at index i (0 from the start); NULL past the end. */
static json_t *
multi_json_line(const char *out, int i)
{
	const char *p = out, *nl;
	json_error_t err;
	json_t *j;

	while (i-- > 0 && p != NULL)
		p = (nl = strchr(p, '\n')) != NULL ? nl + 1 : NULL;
	if (p == NULL || *p == '\0')
		return NULL;
	nl = strchr(p, '\n');
	ck_assert_ptr_nonnull(nl);
	j = json_loadb(p, (size_t)(nl - p), 0, &err);
	ck_assert_msg(j != NULL, "line %d: %s: %s", i, err.text, p);
	return j;
}

static long long
multi_int(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	ck_assert_msg(json_is_integer(v), "%s.%s is not an integer", path1, path2 ? path2 : "");
	return json_integer_value(v);
}

/* STAMP to echod and to an address with no reflector, --json: one object per target, in
 * order; the answered one with its round trips and the reflector's view (hops 0 on
 * loopback, sent with TTL 255), the silent one all lost, direction unknown. */
START_TEST(test_multi_stamp_json)
{
	struct multi_rig r;
	struct run_result res;
	json_t *a, *b, *rtt;

	multi_rig_start(&r);
	run_client(&res, NULL, 0, "--stamp", "-p", r.stamp, "-c", "5", "-i", "0.02", "-W", "0.5",
	    "--json", "127.0.0.1", "127.0.0.2", (char *)NULL);
	ck_assert_msg(res.status == 1, "exit %d\n%s\n%s", res.status, res.out, res.err);
	ck_assert_ptr_nonnull(a = multi_json_line(res.out, 0));
	ck_assert_ptr_nonnull(b = multi_json_line(res.out, 1));
	ck_assert_ptr_null(multi_json_line(res.out, 2));
	ck_assert_str_eq(json_string_value(json_object_get(a, "type")), "target");
	ck_assert_str_eq(json_string_value(json_object_get(a, "host")), "127.0.0.1");
	ck_assert_str_eq(json_string_value(json_object_get(a, "protocol")), "stamp");
	ck_assert_int_eq(multi_int(a, "schema", NULL), 1);
	ck_assert_int_eq(multi_int(a, "sent", NULL), 5);
	ck_assert_int_eq(multi_int(a, "received", NULL), 5);
	ck_assert_int_eq(multi_int(a, "lost", NULL), 0);
	ck_assert_int_eq(multi_int(a, "stamp", "hops"), 0);
	rtt = json_object_get(a, "rtt_ms");
	ck_assert(json_real_value(json_object_get(rtt, "min")) <=
	    json_real_value(json_object_get(rtt, "p50")));
	ck_assert(json_real_value(json_object_get(rtt, "p99")) <=
	    json_real_value(json_object_get(rtt, "max")));
	ck_assert(json_is_object(json_object_get(json_object_get(a, "stamp"), "dwell_ms")));
	ck_assert_str_eq(json_string_value(json_object_get(b, "host")), "127.0.0.2");
	ck_assert_int_eq(multi_int(b, "sent", NULL), 5);
	ck_assert_int_eq(multi_int(b, "received", NULL), 0);
	ck_assert_int_eq(multi_int(b, "lost", NULL), 5);
	ck_assert_int_eq(multi_int(b, "stamp", "loss_unknown"), 5);
	ck_assert(json_is_null(json_object_get(b, "rtt_ms")));
	ck_assert(json_real_value(json_object_get(b, "loss_percent")) == 100.0);
	json_decref(a);
	json_decref(b);
	run_free(&res);
	multi_rig_stop(&r);
}
END_TEST

void
client_multi_tcases(Suite *s, int timeout)
{
	TCase *tc = harness_tcase(s, "multi", timeout);

	tcase_add_test(tc, test_multi_udp_text);
	tcase_add_test(tc, test_multi_stamp_json);
	tcase_add_test(tc, test_multi_tcp_text);
}
