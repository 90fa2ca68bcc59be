/* SPDX-License-Identifier: MIT */
/*
 * check_json: every JSON echod, echodctl and echo-client write, read back by
 * a parser that is not ours (jansson's json_loads(): strict RFC 8259, UTF-8
 * checked, duplicate keys refused), with names that hold a control character
 * and a byte that is not UTF-8 (issue 24).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "client-run.h"
#include "harness.h"

/*
 * A Unix socket the test binds and passes, as systemd would: its path holds
 * \x01 (which echod.conf refuses, but a passed socket can have) and \xff
 * (not UTF-8). In JSON, the control character is itself (escaped by JSON)
 * and the byte is the four characters \xff (echodctl(8), "Names in JSON").
 */
#define PASSED_FILE	"x\x01y\xff.sock"
#define PASSED_JSON	"x\x01y\\xff.sock"
#define PASSED_TEXT	"x\\x01y\\xff.sock"
/* A Unix listener echod binds itself: libconfig's "\xff" is the byte 0xff. */
#define BOUND_CONF	"c.d\\xff.sock"
#define BOUND_FILE	"c.d\xff.sock"
#define BOUND_JSON	"c.d\\xff.sock"

struct rig {
	struct echod_proc p;
	int port;		/* TCP and UDP echo on 127.0.0.1 */
	int stamp_port;		/* a STAMP reflector on 127.0.0.1 */
};

/* One JSON text, which must parse; the caller owns the result. */
static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);

	ck_assert_msg(j != NULL, "not JSON (%s at line %d column %d):\n%s", err.text, err.line,
	    err.column, text);
	return j;
}

/*
 * Every line of text as a JSON object of its own (JSON Lines: one compact
 * object a line): probes, then one summary. Returns how many probes.
 */
static size_t
parse_lines(char *text)
{
	size_t probes = 0, summaries = 0;

	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = parse(line);
		const char *type = json_string_value(json_object_get(j, "type"));

		ck_assert_msg(json_is_object(j) && type != NULL, "not an object with a type: %s",
		    line);
		ck_assert_msg(summaries == 0, "a line after the summary: %s", line);
		if (strcmp(type, "summary") == 0)
			summaries++;
		else
			ck_assert_str_eq(type, "probe");
		probes += strcmp(type, "probe") == 0;
		json_decref(j);
	}
	ck_assert_int_eq(summaries, 1);
	return probes;
}

/* A Unix stream socket listening at path, for echod to be passed. */
static int
unix_listening(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/*
 * echod with TCP, UDP, STAMP and two Unix listeners, one of them passed;
 * taken > 0: also a TCP listener on that port, which the test holds (it
 * cannot open: echod serves the rest, as under socket activation).
 */
static void
rig_start(struct rig *r, int taken)
{
	static const struct harness_socket echo[] = {
		{ SOCK_STREAM, "127.0.0.1" }, { SOCK_DGRAM, "127.0.0.1" },
	};
	char path[160], extra[128] = "";
	int ufd;

	harness_init(&r->p);
	r->port = harness_listen_set(&r->p, echo, 2);
	r->stamp_port = harness_listen(&r->p, SOCK_DGRAM, "127.0.0.1", 0);
	ck_assert_int_gt(r->stamp_port, 0);
	snprintf(path, sizeof(path), "%s/" PASSED_FILE, r->p.dir);
	ufd = unix_listening(path);
	if (taken > 0)
		snprintf(extra, sizeof(extra), ",\n  { protocol = \"tcp\"; port = %d; "
		    "address = \"127.0.0.1\"; }", taken);
	harness_write_config(&r->p,
	    "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"stamp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"unix\"; path = \"%s/" BOUND_CONF "\"; }%s\n"
	    ");\nworkers = 1;\n", r->port, r->port, r->stamp_port, r->p.dir, extra);
	ck_assert_int_eq(harness_start_passing(&r->p, NULL, &ufd, 1, "echo", false), 0);
}

static void
rig_stop(struct rig *r)
{
	ck_assert_int_eq(harness_stop(&r->p), 0);
	harness_cleanup(&r->p);
}

/* The listener named "unix DIR/file" in listeners, which must be an object. */
static json_t *
unix_listener(json_t *listeners, const struct rig *r, const char *file)
{
	char name[256];
	json_t *l;

	snprintf(name, sizeof(name), "unix %s/%s", r->p.dir, file);
	l = json_object_get(listeners, name);
	ck_assert_msg(json_is_object(l), "no listener \"%s\"", name);
	return l;
}

START_TEST(stats_json_parses)
{
	static char text[65536];
	struct rig r;
	json_t *j, *listeners, *l;
	char key[64];

	rig_start(&r, 0);
	ck_assert_int_eq(harness_echodctl(&r.p, "stats --json", text, sizeof(text)), 0);
	/* One object on one line. */
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
	j = parse(text);
	ck_assert(json_is_string(json_object_get(j, "version")));
	ck_assert(json_is_integer(json_object_get(j, "workers")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "workers")), 1);
	ck_assert(json_is_integer(json_object_get(json_object_get(json_object_get(j, "total"),
	    "refused"), "acl")));
	listeners = json_object_get(j, "listeners");
	ck_assert_int_eq(json_object_size(listeners), 5);
	l = unix_listener(listeners, &r, PASSED_JSON);
	ck_assert_str_eq(json_string_value(json_object_get(l, "protocol")), "unix");
	ck_assert(json_is_integer(json_object_get(l, "connections_accepted")));
	l = unix_listener(listeners, &r, BOUND_JSON);
	ck_assert(json_is_integer(json_object_get(l, "echoed_bytes")));
	snprintf(key, sizeof(key), "stamp 127.0.0.1:%d", r.stamp_port);
	l = json_object_get(listeners, key);
	ck_assert(json_is_integer(json_object_get(l, "stamp_reflected")));
	json_decref(j);

	/* The text keys: the same names, the control character escaped too. */
	ck_assert_int_eq(harness_echodctl(&r.p, "stats", text, sizeof(text)), 0);
	ck_assert_ptr_null(strchr(text, '\x01'));
	ck_assert_ptr_null(strchr(text, '\xff'));
	snprintf(key, sizeof(key), "/" PASSED_TEXT "].connections_accepted=0\n");
	ck_assert_msg(strstr(text, key) != NULL, "no %s in:\n%s", key, text);
	rig_stop(&r);
}
END_TEST

/* The listener named name in the status JSON's array, which must hold it. */
static json_t *
status_listener(json_t *listeners, const char *name)
{
	size_t i;
	json_t *l;

	json_array_foreach(listeners, i, l)
		if (strcmp(json_string_value(json_object_get(l, "name")), name) == 0)
			return l;
	ck_abort_msg("no listener \"%s\" in status --json", name);
	return NULL;
}

START_TEST(status_json_parses)
{
	static char text[65536];
	struct rig r;
	json_t *j, *l;
	char name[256];
	int held = harness_socket(SOCK_STREAM, "127.0.0.1", 0);

	ck_assert_int_ge(held, 0);
	rig_start(&r, harness_socket_port(held));
	ck_assert_int_eq(harness_echodctl(&r.p, "status --json", text, sizeof(text)), 0);
	ck_assert_ptr_eq(strchr(text, '\n'), text + strlen(text) - 1);
	j = parse(text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "version")), PACKAGE_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), r.p.pid);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "workers")), 1);
	ck_assert(json_is_integer(json_object_get(j, "uptime_seconds")));
	ck_assert(json_is_integer(json_object_get(j, "connections_open")));
	/* The configuration by its absolute path (the harness gives it one already). */
	ck_assert_str_eq(json_string_value(json_object_get(j, "configuration")), r.p.conf);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "files"), 0)),
	    r.p.conf);
	ck_assert(json_is_null(json_object_get(j, "last_reload")));
	ck_assert_int_eq(json_array_size(json_object_get(j, "listeners")), 6);
	snprintf(name, sizeof(name), "unix %s/" PASSED_JSON, r.p.dir);
	l = status_listener(json_object_get(j, "listeners"), name);
	ck_assert_str_eq(json_string_value(json_object_get(l, "origin")),
	    "passed by systemd (echo)");
	ck_assert(json_is_false(json_object_get(l, "serving")));
	snprintf(name, sizeof(name), "unix %s/" BOUND_JSON, r.p.dir);
	l = status_listener(json_object_get(j, "listeners"), name);
	ck_assert_str_eq(json_string_value(json_object_get(l, "origin")), "bound by echod");
	ck_assert(json_is_true(json_object_get(l, "serving")));
	ck_assert_str_eq(json_string_value(json_object_get(l, "state")), "serving");
	snprintf(name, sizeof(name), "tcp 127.0.0.1:%d", harness_socket_port(held));
	l = status_listener(json_object_get(j, "listeners"), name);
	ck_assert(json_is_null(json_object_get(l, "origin")));
	ck_assert(json_is_false(json_object_get(l, "serving")));
	ck_assert_msg(strncmp(json_string_value(json_object_get(l, "state")),
	    "not open: Address already in use", 32) == 0, "state: %s",
	    json_string_value(json_object_get(l, "state")));
	/* Line 6 of the configuration rig_start() writes. */
	snprintf(name, sizeof(name), "%s:6", r.p.conf);
	ck_assert_str_eq(json_string_value(json_object_get(l, "configured")), name);
	json_decref(j);

	/* After a reload (which fails: the port is still held), its lines. */
	ck_assert_int_eq(harness_echodctl(&r.p, "reload", text, sizeof(text)), 1);
	ck_assert_int_eq(harness_echodctl(&r.p, "status --json", text, sizeof(text)), 0);
	j = parse(text);
	l = json_object_get(j, "last_reload");
	ck_assert_str_eq(json_string_value(json_object_get(l, "result")), "failed");
	ck_assert(json_is_string(json_object_get(l, "at")));
	ck_assert_int_gt(json_array_size(json_object_get(l, "lines")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "reloads_failed")), 1);
	json_decref(j);
	close(held);
	rig_stop(&r);
}
END_TEST

/* Where each column of the header starts: NAME, ORIGIN, CONFIGURED, STATE. */
static void
header_columns(const char *header, size_t col[4])
{
	static const char *const names[4] = { "NAME", "ORIGIN", "CONFIGURED", "STATE" };

	for (int c = 0; c < 4; c++) {
		const char *at = strstr(header, names[c]);

		ck_assert_msg(at != NULL, "no %s in the header: %s", names[c], header);
		col[c] = (size_t)(at - header);
	}
}

/*
 * echodctl status as text: every listener row, the one that failed to open
 * included, has each field start in its header's column, after a space.
 */
START_TEST(status_text_aligned)
{
	static char text[65536];
	char *line, *save = NULL, want[256];
	size_t col[4], rows = 0;
	bool in_list = false, failed_seen = false;
	struct rig r;
	int held = harness_socket(SOCK_STREAM, "127.0.0.1", 0);

	ck_assert_int_ge(held, 0);
	rig_start(&r, harness_socket_port(held));
	ck_assert_int_eq(harness_echodctl(&r.p, "status", text, sizeof(text)), 0);
	ck_assert_ptr_null(strchr(text, '\x01'));
	snprintf(want, sizeof(want), "\nconfiguration: %s\n", r.p.conf);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want + 1, text);
	snprintf(want, sizeof(want), "\npid:           %d\n", (int)r.p.pid);
	ck_assert_msg(strstr(text, want) != NULL, "no %s in:\n%s", want + 1, text);
	ck_assert_msg(strstr(text, "\nworkers:       1\n") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\nconnections:   0 open\n") != NULL, "%s", text);
	ck_assert_msg(strncmp(text, "version:       " PACKAGE_VERSION "\n",
	    strlen("version:       " PACKAGE_VERSION "\n")) == 0, "%s", text);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "listeners:") == 0) {
			in_list = true;
			line = strtok_r(NULL, "\n", &save);
			ck_assert_ptr_nonnull(line);
			header_columns(line, col);
			continue;
		}
		if (!in_list)
			continue;
		for (int c = 0; c < 4; c++)
			ck_assert_msg(strlen(line) > col[c] && line[col[c] - 1] == ' ' &&
			    line[col[c]] != ' ', "column %d does not start at %zu: \"%s\"", c,
			    col[c], line);
		if (strstr(line + col[3], "not open: Address already in use") == line + col[3]) {
			ck_assert_int_eq(line[col[1]], '-');
			failed_seen = true;
		}
		rows++;
	}
	ck_assert_int_eq(rows, 6);
	ck_assert(failed_seen);
	close(held);
	rig_stop(&r);
}
END_TEST

/* echo-client --json in one mode: every line an object, probes (0: any number) then a summary. */
static void
client_json(const char *const *args, size_t probes)
{
	struct run_result res;
	size_t n;

	ck_assert_int_eq(run_clientv(&res, NULL, 0, args), 0);
	n = parse_lines(res.out);
	ck_assert_msg(probes == 0 ? n > 0 : n == probes, "%zu probes, not %zu", n, probes);
	run_free(&res);
}

START_TEST(client_json_parses)
{
	char port[16], stamp_port[16], unix_peer[200], bound_peer[200];
	struct rig r;
	json_t *j;
	struct run_result res;
	char want[256];

	rig_start(&r, 0);
	snprintf(port, sizeof(port), "%d", r.port);
	snprintf(stamp_port, sizeof(stamp_port), "%d", r.stamp_port);
	snprintf(unix_peer, sizeof(unix_peer), "unix:%s/" PASSED_FILE, r.p.dir);
	snprintf(bound_peer, sizeof(bound_peer), "unix:%s/" BOUND_FILE, r.p.dir);
	{
		const char *udp[] = { "--json", "-u", "-c", "3", "-i", "0.01", "-p", port,
		    "127.0.0.1", NULL };
		const char *tcp[] = { "--json", "-c", "3", "-i", "0.01", "-p", port,
		    "127.0.0.1", NULL };
		const char *stamp[] = { "--json", "--stamp", "--cos", "-c", "3", "-i", "0.01",
		    "-p", stamp_port, "127.0.0.1", NULL };
		const char *stream[] = { "--json", "--stream", "-w", "0.2", "-p", port,
		    "127.0.0.1", NULL };
		const char *bound[] = { "--json", "-c", "2", "-i", "0.01", bound_peer, NULL };

		client_json(udp, 3);
		client_json(tcp, 3);
		client_json(stamp, 3);
		client_json(stream, 0);
		client_json(bound, 2);
	}
	/*
	 * The passed socket is not in the configuration: echod closes what
	 * connects to it. The summary still names the peer, \x01 and all.
	 */
	{
		const char *passed[] = { "--json", "-c", "1", "-W", "1", unix_peer, NULL };

		run_clientv(&res, NULL, 0, passed);
		ck_assert_ptr_nonnull(strrchr(res.out, '{'));
		j = parse(strstr(res.out, "{\"type\":\"summary\""));
		snprintf(want, sizeof(want), "unix:%s/" PASSED_JSON, r.p.dir);
		ck_assert_str_eq(json_string_value(json_object_get(j, "peer")), want);
		json_decref(j);
		run_free(&res);
	}
	rig_stop(&r);
}
END_TEST

static Suite *
json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = harness_tcase(s, "echod", 60);
	tcase_add_test(tc, stats_json_parses);
	tcase_add_test(tc, status_json_parses);
	tcase_add_test(tc, status_text_aligned);
	tc = harness_tcase(s, "echo-client", 60);
	tcase_add_test(tc, client_json_parses);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
