/* SPDX-License-Identifier: MIT */
/* check_reload: the real echod reloaded through echodctl and SIGHUP, judged by what answers. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define MAX_LISTENERS	12
#define MAX_POINTS	48
#define REPLY_SIZE	16384

/*
 * Listener sets are written as text: "tcp 127.0.0.1:{P}; udp *:{P}; unix {D}/a.sock", '*'
 * for a listener that names no address (one dual-stack socket: every local address).
 * Tokens: {P} {Q} {K} the test's ports, {D} its private directory, {C} its configuration
 * file, {X} an IPv4 address that is not on this host.
 */
struct lsn {
	char proto[8];
	char addr[48];		/* "" when the listener names no address */
	int port;
	char path[108];		/* unix only */
};

struct lset {
	struct lsn l[MAX_LISTENERS];
	int n;
};

/* A place a client can try, and whether the configuration in force must answer there. */
struct point {
	struct lsn at;
	bool want;
};

/* A connection opened before a reload, that must still echo after it. */
struct held {
	int fd;
	char what[160];
};

struct rtest {
	struct echod_proc p;
	int port[3];		/* {P}, {Q}, {K} */
	char absent[16];	/* {X}, "" when every candidate is local */
	int workers;
	char reply[REPLY_SIZE];	/* what echodctl printed last */
};

/* Kept by every change: the held connections live on these at least. */
#define ANCHORS	"tcp 127.0.0.1:{K}; unix {D}/kept.sock; "

/* Where a probe goes on each (protocol, port) the test uses; ::1 only with IPv6. */
static const char *const probe_addrs[] = { "127.0.0.1", "127.0.0.2", "::1" };

static bool
have_ipv6(void)
{
	static int known = -1;

	if (known == -1)
		known = harness_have_ipv6();
	return known == 1;
}

static void
token_value(const struct rtest *t, char token, char *val, size_t size)
{
	const char *ports = "PQK", *at = token != '\0' ? strchr(ports, token) : NULL;

	if (at != NULL)
		snprintf(val, size, "%d", t->port[at - ports]);
	else if (token == 'D')
		snprintf(val, size, "%s", t->p.dir);
	else if (token == 'C')
		snprintf(val, size, "%s", t->p.conf);
	else if (token == 'X')
		snprintf(val, size, "%s", t->absent);
}

/* in with its {T} tokens replaced, into out. */
static void
expand(const struct rtest *t, const char *in, char *out, size_t size)
{
	size_t used = 0;

	while (*in != '\0' && used + 1 < size) {
		char val[128] = "";

		if (in[0] == '{' && in[1] != '\0' && in[2] == '}')
			token_value(t, in[1], val, sizeof(val));
		if (val[0] != '\0') {
			used += (size_t)snprintf(out + used, size - used, "%s", val);
			in += 3;
		} else {
			out[used++] = *in++;
		}
	}
	out[used < size ? used : size - 1] = '\0';
}

static void
lsn_parse(char *entry, struct lsn *l)
{
	char where[sizeof(l->path)], *colon;

	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(sscanf(entry, "%7s %107s", l->proto, where), 2);
	if (strcmp(l->proto, "unix") == 0) {
		snprintf(l->path, sizeof(l->path), "%s", where);
		return;
	}
	colon = strrchr(where, ':');
	ck_assert_ptr_nonnull(colon);
	*colon = '\0';
	l->port = atoi(colon + 1);
	snprintf(l->addr, sizeof(l->addr), "%.47s", strcmp(where, "*") == 0 ? "" : where);
}

static void
lset_parse(const struct rtest *t, const char *text, struct lset *s)
{
	char buf[2048], *save = NULL;

	expand(t, text, buf, sizeof(buf));
	s->n = 0;
	for (char *e = strtok_r(buf, ";", &save); e != NULL; e = strtok_r(NULL, ";", &save)) {
		if (strspn(e, " ") == strlen(e))
			continue;
		ck_assert_int_lt(s->n, MAX_LISTENERS);
		lsn_parse(e, &s->l[s->n++]);
	}
}

/* As echod names listeners in what it prints: "tcp [::]:7", "tcp 127.0.0.1:7", "unix /x". */
static void
lsn_describe(const struct lsn *l, char *buf, size_t size)
{
	if (l->path[0] != '\0')
		snprintf(buf, size, "unix %s", l->path);
	else if (l->addr[0] == '\0' || strchr(l->addr, ':') != NULL)
		snprintf(buf, size, "%s [%s]:%d", l->proto, l->addr[0] != '\0' ? l->addr : "::",
		    l->port);
	else
		snprintf(buf, size, "%s %s:%d", l->proto, l->addr, l->port);
}

static size_t
lsn_config(const struct lsn *l, bool last, char *out, size_t size)
{
	const char *sep = last ? "" : ",";

	if (l->path[0] != '\0')
		return (size_t)snprintf(out, size, "  { protocol = \"unix\"; path = \"%s\"; }%s\n",
		    l->path, sep);
	if (l->addr[0] == '\0')
		return (size_t)snprintf(out, size, "  { protocol = \"%s\"; port = %d; }%s\n",
		    l->proto, l->port, sep);
	return (size_t)snprintf(out, size,
	    "  { protocol = \"%s\"; port = %d; address = \"%s\"; }%s\n", l->proto, l->port,
	    l->addr, sep);
}

/*
 * The configuration of set s: control socket on line 1, workers on 2, then extra (whole
 * lines), then the listeners, one a line.
 */
static void
config_write(struct rtest *t, const struct lset *s, const char *extra)
{
	char text[4096], control[128];
	size_t used;

	harness_control_path(&t->p, control, sizeof(control));
	used = (size_t)snprintf(text, sizeof(text), "control_socket = \"%s\";\nworkers = %d;\n"
	    "%slisteners = (\n", control, t->workers, extra);
	for (int i = 0; i < s->n; i++)
		used += lsn_config(&s->l[i], i + 1 == s->n, text + used, sizeof(text) - used);
	ck_assert_uint_lt(used + 4, sizeof(text));
	snprintf(text + used, sizeof(text) - used, ");\n");
	harness_write_config(&t->p, "%s", text);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	/* echod reads it after dropping root. */
	ck_assert_int_eq(chmod(path, 0644), 0);
}

/* Does listener l answer a client at `at`? */
static bool
lsn_covers(const struct lsn *l, const struct lsn *at)
{
	if (strcmp(l->proto, at->proto) != 0)
		return false;
	if (at->path[0] != '\0')
		return strcmp(l->path, at->path) == 0;
	return l->port == at->port && (l->addr[0] == '\0' || strcmp(l->addr, at->addr) == 0);
}

static bool
lset_serves(const struct lset *s, const struct lsn *at)
{
	for (int i = 0; i < s->n; i++)
		if (lsn_covers(&s->l[i], at))
			return true;
	return false;
}

static int
points_add(struct point *pts, int n, const struct lsn *at)
{
	for (int i = 0; i < n; i++)
		if (memcmp(&pts[i].at, at, sizeof(*at)) == 0)
			return n;
	ck_assert_int_lt(n, MAX_POINTS);
	pts[n].at = *at;
	return n + 1;
}

/*
 * Every place a client could reach a listener of a or b: each Unix path, and each probe
 * address on each (protocol, port). What must answer is what `now` serves.
 */
static int
points_of(const struct lset *a, const struct lset *b, const struct lset *now, struct point *pts)
{
	const struct lset *sets[2] = { a, b };
	int n = 0;

	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < sets[s]->n; i++) {
			struct lsn at = sets[s]->l[i];

			if (at.path[0] != '\0') {
				n = points_add(pts, n, &at);
				continue;
			}
			for (int k = 0; k < 3 && (k < 2 || have_ipv6()); k++) {
				snprintf(at.addr, sizeof(at.addr), "%s", probe_addrs[k]);
				n = points_add(pts, n, &at);
			}
		}
	}
	for (int i = 0; i < n; i++)
		pts[i].want = lset_serves(now, &pts[i].at);
	return n;
}

static int
lsn_connect(const struct lsn *at)
{
	if (at->path[0] != '\0')
		return unix_connect_path(at->path);
	return tcp_connect_ip(at->addr, at->port);
}

static void
check_streams(const struct point *pts, int n, const char *when)
{
	for (int i = 0; i < n; i++) {
		enum probe_result r;
		char what[160];
		bool ok;

		if (strcmp(pts[i].at.proto, "udp") == 0)
			continue;
		r = stream_probe(lsn_connect(&pts[i].at), 3000);
		/* Not served: refused, or (a socket systemd passed) reset at once. */
		ok = pts[i].want ? r == PROBE_ECHOED : r == PROBE_REFUSED || r == PROBE_CLOSED;
		lsn_describe(&pts[i].at, what, sizeof(what));
		ck_assert_msg(ok, "%s: %s %s; it must %s", when, what, probe_result_name(r),
		    pts[i].want ? "echo" : "not answer");
	}
}

static void
datagram_send(int fd, const struct lsn *at, int i)
{
	struct sockaddr_storage ss;
	int len = harness_sockaddr(at->addr, at->port, &ss);
	char out[32];
	int n = snprintf(out, sizeof(out), "datagram %d", i);

	ck_assert_int_eq(sendto(fd, out, (size_t)n, 0, (struct sockaddr *)&ss, (socklen_t)len), n);
}

/* Collect replies for ms: an unconnected socket takes them from any address. */
static void
datagrams_collect(const int *fd, int n, bool *got, int ms)
{
	time_t end = time(NULL) + (harness_scale_ms(ms) + 999) / 1000;
	struct pollfd pfd[MAX_POINTS];

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ fd[i], POLLIN, 0 };
	while (time(NULL) <= end && poll(pfd, (nfds_t)n, harness_scale_ms(ms)) > 0) {
		for (int i = 0; i < n; i++) {
			char in[64], want[32];
			ssize_t r;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = recv(fd[i], in, sizeof(in) - 1, MSG_DONTWAIT);
			snprintf(want, sizeof(want), "datagram %d", i);
			if (r == (ssize_t)strlen(want) && memcmp(in, want, (size_t)r) == 0)
				got[i] = true;
		}
	}
}

/*
 * Every UDP point at once: one wait catches any answer from where nothing may answer;
 * where something must, a lost first datagram is sent again (twice at most).
 */
static void
check_datagrams(const struct point *pts, int n, const char *when)
{
	int fd[MAX_POINTS];
	bool got[MAX_POINTS] = { false }, missing = true;

	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		bool udp = strcmp(pts[i].at.proto, "udp") == 0;

		fd[i] = udp ? socket(harness_sockaddr(pts[i].at.addr, 0, &ss) > 0 ?
		    ss.ss_family : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
		ck_assert(!udp || fd[i] >= 0);
	}
	for (int round = 0; round < 3 && missing; round++) {
		for (int i = 0; i < n; i++)
			if (fd[i] >= 0 && !got[i] && (round == 0 || pts[i].want))
				datagram_send(fd[i], &pts[i].at, i);
		datagrams_collect(fd, n, got, round == 0 ? 500 : 1000);
		missing = false;
		for (int i = 0; i < n; i++)
			missing |= fd[i] >= 0 && pts[i].want && !got[i];
	}
	for (int i = 0; i < n; i++) {
		char what[160];

		if (fd[i] < 0)
			continue;
		close(fd[i]);
		lsn_describe(&pts[i].at, what, sizeof(what));
		ck_assert_msg(got[i] == pts[i].want, "%s: %s %s; it must %s", when, what,
		    got[i] ? "echoed" : "did not answer", pts[i].want ? "echo" : "not answer");
	}
}

/* Probe every place a or b lists: what `now` lists must echo, nothing else may answer. */
static void
check_served(const struct lset *a, const struct lset *b, const struct lset *now,
    const char *when)
{
	struct point pts[MAX_POINTS];
	int n = points_of(a, b, now, pts);

	check_streams(pts, n, when);
	check_datagrams(pts, n, when);
}

static void
held_echo(const struct held *h, const char *when)
{
	unsigned char buf[1000];

	random_fill(buf, sizeof(buf), (unsigned)h->fd);
	ck_assert_msg(stream_echo_check(h->fd, buf, sizeof(buf), 1, 3000) == 0,
	    "%s: the connection held on %s no longer echoes", when, h->what);
}

/* A connection on every stream place that both before and after serve (over 127.0.0.1). */
static int
hold_connections(const struct lset *before, const struct lset *after, struct held *h)
{
	int n = 0;

	for (int i = 0; i < before->n; i++) {
		struct lsn at = before->l[i];
		bool seen = false;

		if (strcmp(at.proto, "udp") == 0)
			continue;
		if (at.path[0] == '\0')
			snprintf(at.addr, sizeof(at.addr), "127.0.0.1");
		lsn_describe(&at, h[n].what, sizeof(h[n].what));
		for (int k = 0; k < n; k++)
			seen |= strcmp(h[k].what, h[n].what) == 0;
		if (seen || !lset_serves(after, &at))
			continue;
		h[n].fd = lsn_connect(&at);
		ck_assert_msg(h[n].fd >= 0, "cannot connect to %s", h[n].what);
		held_echo(&h[n++], "before the reload");
	}
	return n;
}

static void
held_check(struct held *h, int n, const char *when)
{
	for (int i = 0; i < n; i++) {
		held_echo(&h[i], when);
		close(h[i].fd);
	}
}

/* The first of the documentation prefixes that this host cannot bind. */
static void
pick_absent(struct rtest *t)
{
	static const char *const candidates[] = { "192.0.2.1", "198.51.100.1", "203.0.113.1" };

	t->absent[0] = '\0';
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		struct sockaddr_storage ss;
		int len = harness_sockaddr(candidates[i], 0, &ss);
		int fd = socket(AF_INET, SOCK_STREAM, 0), r, err;

		ck_assert_int_ge(fd, 0);
		r = bind(fd, (struct sockaddr *)&ss, (socklen_t)len);
		err = errno;
		close(fd);
		if (r == -1 && err == EADDRNOTAVAIL) {
			snprintf(t->absent, sizeof(t->absent), "%s", candidates[i]);
			return;
		}
	}
}

static void
rtest_init(struct rtest *t, int workers)
{
	harness_init(&t->p);
	for (int i = 0; i < 3; i++)
		t->port[i] = harness_free_port();
	t->workers = workers;
	t->reply[0] = '\0';
	pick_absent(t);
}

/*
 * Start echod on the set `text` (parsed into s). A port another suite took between the
 * pick and the bind: new ports, three times at most.
 */
static void
rtest_start(struct rtest *t, int workers, const char *text, struct lset *s, const char *extra)
{
	for (int attempt = 1;; attempt++) {
		rtest_init(t, workers);
		lset_parse(t, text, s);
		config_write(t, s, extra);
		if (harness_start(&t->p, NULL, 0) == 0)
			break;
		harness_cleanup(&t->p);
		ck_assert_msg(attempt < 3, "echod did not become ready on ports %d, %d, %d, "
		    "three times over", t->port[0], t->port[1], t->port[2]);
	}
}

static void
rtest_stop(struct rtest *t)
{
	ck_assert_int_eq(harness_stop(&t->p), 0);
	harness_cleanup(&t->p);
}

/*
 * Run echodctl COMMAND; its reply into t->reply, its exit status returned. The notify
 * messages of earlier reloads are read first: echod's sd_notify() blocks once the test's
 * notify socket holds more than net.unix.max_dgram_qlen (10) unread.
 */
static int
ctl_run(struct rtest *t, const char *command)
{
	ck_assert_int_eq(harness_wait_quiet(&t->p, 0, 2000), 0);
	return harness_echodctl(&t->p, command, t->reply, sizeof(t->reply));
}

/* Run echodctl COMMAND; its exit status must be `want`. */
static void
ctl_expect(struct rtest *t, const char *command, int want)
{
	int status = ctl_run(t, command);

	ck_assert_msg(status == want, "echodctl %s exited %d, not %d; it said:\n%s", command,
	    status, want, t->reply);
}

/* Does line hold every '|'-separated part of parts (and none of those marked '!')? */
static bool
line_has_all(const char *line, const char *parts)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", parts);
	for (char *s = strtok_r(buf, "|", &save); s != NULL; s = strtok_r(NULL, "|", &save))
		if ((s[0] == '!') != (strstr(line, s + (s[0] == '!')) == NULL))
			return false;
	return true;
}

/* Does one line of echodctl's last reply hold every '|'-separated part of want? */
static bool
reply_has(const struct rtest *t, const char *want)
{
	char parts[512], line[1024];

	expand(t, want, parts, sizeof(parts));
	for (const char *s = t->reply; *s != '\0'; s += strcspn(s, "\n") + 1) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
		if (line_has_all(line, parts))
			return true;
		if (s[strcspn(s, "\n")] == '\0')
			break;
	}
	return false;
}

static void
assert_said(const struct rtest *t, const char *want)
{
	char parts[512];

	expand(t, want, parts, sizeof(parts));
	ck_assert_msg(reply_has(t, want), "no line of echodctl's reply holds \"%s\"; it said:\n%s",
	    parts, t->reply);
}

static void
assert_not_said(const struct rtest *t, const char *unwanted)
{
	ck_assert_msg(!reply_has(t, unwanted), "echodctl's reply holds \"%s\":\n%s", unwanted,
	    t->reply);
}

/* One kind of change: the listeners before and after, and what the reply must say. */
struct change {
	const char *name;
	int workers;
	const char *before, *after;
	const char *said[5];	/* each: '|'-separated parts that one line of the reply holds */
};

static const struct change changes[] = {
	{ "address narrowed", 1, "tcp *:{P}; udp *:{P}", "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}",
	    { "tcp [::]:{P}", "tcp 127.0.0.1:{P}", "udp [::]:{P}", "udp 127.0.0.1:{P}" } },
	{ "address narrowed", 4, "tcp *:{P}; udp *:{P}", "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}",
	    { "tcp [::]:{P}", "tcp 127.0.0.1:{P}", "udp [::]:{P}", "udp 127.0.0.1:{P}" } },
	{ "address widened", 1, "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}", "tcp *:{P}; udp *:{P}",
	    { "tcp [::]:{P}", "tcp 127.0.0.1:{P}", "udp [::]:{P}", "udp 127.0.0.1:{P}" } },
	{ "address widened", 4, "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}", "tcp *:{P}; udp *:{P}",
	    { "tcp [::]:{P}", "tcp 127.0.0.1:{P}", "udp [::]:{P}", "udp 127.0.0.1:{P}" } },
	{ "protocol added", 2, "tcp 127.0.0.1:{P}", "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}",
	    { "opened|udp 127.0.0.1:{P}" } },
	{ "protocol removed", 2, "tcp *:{P}; udp *:{P}", "tcp *:{P}",
	    { "closed|udp [::]:{P}" } },
	{ "port moved", 2, "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}",
	    "tcp 127.0.0.1:{Q}; udp 127.0.0.1:{Q}",
	    { "tcp 127.0.0.1:{Q}", "udp 127.0.0.1:{Q}", "tcp 127.0.0.1:{P}",
	    "udp 127.0.0.1:{P}" } },
	{ "unix path changed", 2, "unix {D}/old.sock", "unix {D}/new.sock",
	    { "{D}/old.sock", "{D}/new.sock" } },
	{ "nothing changed", 2, "tcp *:{P}; udp 127.0.0.1:{P}; unix {D}/a.sock",
	    "tcp *:{P}; udp 127.0.0.1:{P}; unix {D}/a.sock", { NULL } },
};

START_TEST(change_applies)
{
	const struct change *c = &changes[_i];
	struct held h[MAX_LISTENERS];
	struct lset before, after;
	char text[1024], when[128];
	struct rtest t;
	int n;

	snprintf(text, sizeof(text), ANCHORS "%s", c->before);
	rtest_start(&t, c->workers, text, &before, "");
	snprintf(text, sizeof(text), ANCHORS "%s", c->after);
	lset_parse(&t, text, &after);
	snprintf(when, sizeof(when), "%s, %d workers, before", c->name, c->workers);
	check_served(&before, &after, &before, when);
	n = hold_connections(&before, &after, h);
	config_write(&t, &after, "");
	ctl_expect(&t, "reload", 0);
	assert_said(&t, "configuration reloaded from {C}");
	for (int i = 0; i < 5 && c->said[i] != NULL; i++)
		assert_said(&t, c->said[i]);
	if (strcmp(c->before, c->after) == 0) {
		assert_not_said(&t, "opened ");
		assert_not_said(&t, "closed ");
		assert_not_said(&t, "replaced ");
	}
	snprintf(when, sizeof(when), "%s, %d workers, after the reload", c->name, c->workers);
	held_check(h, n, when);
	check_served(&before, &after, &after, when);
	rtest_stop(&t);
}
END_TEST

/*
 * Sockets passed as systemd passes them ([::]:P and [::]:Q, TCP and UDP), then a file that
 * narrows P to 127.0.0.1 and drops Q: echod cannot close systemd's sockets, but it must
 * serve nothing the file does not list, at once, and say what would finish the job.
 */
START_TEST(passed_sockets_narrowed_and_removed)
{
	static const struct harness_socket wildcard_pair[] = {
		{ SOCK_STREAM, NULL }, { SOCK_DGRAM, NULL },
	};
	struct held h[MAX_LISTENERS];
	struct lset before, after;
	struct rtest t;
	int n, status;

	if (!have_ipv6()) {
		fprintf(stderr, "no IPv6: passed dual-stack sockets not tested\n");
		return;
	}
	rtest_init(&t, 2);
	/* P and Q: passed, TCP and UDP on [::], each pair on a port of the kernel's choice. */
	t.port[0] = harness_listen_set(&t.p, wildcard_pair, 2);
	t.port[1] = harness_listen_set(&t.p, wildcard_pair, 2);
	lset_parse(&t, ANCHORS "tcp *:{P}; udp *:{P}; tcp *:{Q}; udp *:{Q}", &before);
	lset_parse(&t, ANCHORS "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}", &after);
	config_write(&t, &before, "");
	ck_assert_int_eq(harness_start(&t.p, NULL, 0), 0);
	check_served(&before, &after, &before, "passed sockets, before");
	n = hold_connections(&before, &after, h);
	config_write(&t, &after, "");
	status = ctl_run(&t, "reload");
	/* Whether a narrowing systemd has yet to follow counts as applied is echod's call. */
	ck_assert_msg(status == 0 || status == 1, "echodctl reload exited %d:\n%s", status,
	    t.reply);
	fprintf(stderr, "passed sockets narrowed: echodctl reload exited %d\n", status);
	assert_said(&t, "systemctl daemon-reload && systemctl restart echod.socket");
	held_check(h, n, "passed sockets, after the reload");
	check_served(&before, &after, &after, "passed sockets, after the reload");
	ctl_expect(&t, "status", 0);
	assert_said(&t, "tcp [::]:{P}|passed by systemd|narrowed");
	assert_said(&t, "udp [::]:{P}|passed by systemd|narrowed");
	assert_said(&t, "tcp [::]:{Q}|passed by systemd|not served: not in the configuration");
	assert_said(&t, "udp [::]:{Q}|passed by systemd|not served: not in the configuration");
	rtest_stop(&t);
}
END_TEST

START_TEST(status_lists_every_listener)
{
	struct lset s;
	struct rtest t;

	rtest_init(&t, 2);
	t.port[0] = harness_listen(&t.p, SOCK_STREAM, NULL, 0);
	ck_assert_int_gt(t.port[0], 0);
	lset_parse(&t, ANCHORS "tcp *:{P}; udp 127.0.0.1:{Q}", &s);
	config_write(&t, &s, "");
	ck_assert_int_eq(harness_start(&t.p, NULL, 0), 0);
	ctl_expect(&t, "status", 0);
	assert_said(&t, "configuration: {C}");
	assert_said(&t, "files:|{C}");
	assert_said(&t, "loaded: ");
	assert_said(&t, "last reload:|none");
	assert_said(&t, "listeners:");
	/* Line 3 opens the list: the listeners are on lines 4, 5, ... in the order above. */
	assert_said(&t, "tcp 127.0.0.1:{K}|bound by echod|serving|{C}:4");
	assert_said(&t, "{D}/kept.sock|bound by echod|serving|{C}:5");
	assert_said(&t, "udp 127.0.0.1:{Q}|bound by echod|serving|{C}:7");
	assert_said(&t, "tcp [::]:{P}|passed by systemd (echo)|serving");
	ctl_expect(&t, "reload", 0);
	ctl_expect(&t, "status", 0);
	assert_said(&t, "last reload:|ok");
	/* A passed socket is listed with the configured listener it serves, like the rest. */
	assert_said(&t, "tcp [::]:{P}|passed by systemd (echo)|serving|{C}:6");
	rtest_stop(&t);
}
END_TEST

/* A client connecting and echoing in a loop on the address every file keeps. */
struct dark_client {
	int port;
	int stop;
	int attempts, refused, failed;
	enum probe_result failure;	/* of the first that failed */
	bool bounded;		/* stopped by its own bound, not by the test */
};

static void *
dark_client_main(void *arg)
{
	struct dark_client *d = arg;
	struct linger reset = { 1, 0 };
	time_t end = time(NULL) + harness_scale_ms(10000) / 1000;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		enum probe_result r;
		int fd;

		if (d->attempts >= 50000 || time(NULL) > end) {
			d->bounded = true;
			break;
		}
		fd = tcp_connect_ip("127.0.0.1", d->port);
		/* Closed by a reset: thousands of TIME_WAITs would use up the client's ports. */
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		r = stream_probe(fd, 3000);
		if (r != PROBE_ECHOED && d->refused + d->failed == 0)
			d->failure = r;
		d->refused += r == PROBE_REFUSED;
		d->failed += r != PROBE_REFUSED && r != PROBE_ECHOED;
		__atomic_add_fetch(&d->attempts, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(reload_never_takes_a_listener_dark)
{
	static const int workers[] = { 1, 4 };
	struct dark_client d = { 0 };
	struct lset wide, narrow;
	struct rtest t;
	pthread_t thread;

	rtest_start(&t, workers[_i], "tcp *:{P}", &wide, "");
	lset_parse(&t, "tcp 127.0.0.1:{P}", &narrow);
	d.port = t.port[0];
	ck_assert_int_eq(pthread_create(&thread, NULL, dark_client_main, &d), 0);
	for (int i = 0; i < 500 && __atomic_load_n(&d.attempts, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(10000);
	for (int round = 0; round < 3; round++) {
		config_write(&t, &narrow, "");
		ctl_expect(&t, "reload", 0);
		config_write(&t, &wide, "");
		ctl_expect(&t, "reload", 0);
	}
	__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	if (d.bounded)
		fprintf(stderr, "the client reached its bound before the last reload\n");
	fprintf(stderr, "never dark, %d workers: %d connections to 127.0.0.1:%d during 6 reloads, "
	    "%d refused, %d without their echo\n", workers[_i], d.attempts, d.port, d.refused,
	    d.failed);
	ck_assert_msg(d.attempts > 0 && d.refused == 0 && d.failed == 0,
	    "%d workers: of %d connections to 127.0.0.1:%d during 6 reloads, %d refused and "
	    "%d did not echo (the first: %s)", workers[_i], d.attempts, d.port, d.refused,
	    d.failed, probe_result_name(d.failure));
	rtest_stop(&t);
}
END_TEST

/*
 * Once every reload so far is done: SIGHUP with set a in the file, then, as soon as echod
 * says RELOADING=1 (it is applying a), set b and another SIGHUP. Dropped, that second
 * SIGHUP would leave a in force.
 */
static void
hup_during_reload(struct rtest *t, const struct lset *a, const struct lset *b)
{
	ck_assert_int_eq(harness_wait_quiet(&t->p, 200, 10000), 0);
	config_write(t, a, "");
	harness_signal(&t->p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&t->p, "RELOADING=1", 5000), 0);
	config_write(t, b, "");
	harness_signal(&t->p, SIGHUP);
	ck_assert_msg(harness_wait_quiet(&t->p, 1000, 20000) == 0, "echod never went quiet");
	ck_assert_msg(waitpid(t->p.pid, NULL, WNOHANG) == 0, "echod died");
}

#define STORM_A	ANCHORS "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}"
#define STORM_B	ANCHORS "tcp *:{Q}; udp 127.0.0.1:{Q}; unix {D}/b.sock"

/*
 * 20 SIGHUPs within a second, the file rewritten before each, alternating between two
 * port sets; the last two as hup_during_reload() sends them.
 */
START_TEST(sighup_storm_ends_in_the_last_file)
{
	struct lset a, b;
	struct rtest t;

	rtest_start(&t, 4, STORM_A, &a, "");
	lset_parse(&t, STORM_B, &b);
	for (int i = 0; i < 18; i++) {
		config_write(&t, i % 2 == 0 ? &a : &b, "");
		harness_signal(&t.p, SIGHUP);
		usleep(30000);
	}
	hup_during_reload(&t, &a, &b);
	check_served(&a, &b, &b, "after the SIGHUP storm");
	ctl_expect(&t, "status", 0);
	assert_said(&t, "udp 127.0.0.1:{Q}|serving");
	assert_not_said(&t, "udp 127.0.0.1:{P}|serving");
	rtest_stop(&t);
}
END_TEST

/* The same race five times over, each judged by the TCP listener of each set. */
START_TEST(sighup_during_reload_is_queued)
{
	struct lsn at_a = { .proto = "tcp", .addr = "127.0.0.1" }, at_b = at_a;
	struct lset a, b;
	struct rtest t;

	rtest_start(&t, 2, STORM_A, &a, "");
	lset_parse(&t, STORM_B, &b);
	at_a.port = t.port[0];
	at_b.port = t.port[1];
	for (int round = 1; round <= 5; round++) {
		hup_during_reload(&t, round % 2 ? &a : &b, round % 2 ? &b : &a);
		ck_assert_msg(stream_probe(lsn_connect(round % 2 ? &at_b : &at_a), 3000) ==
		    PROBE_ECHOED, "round %d: the last SIGHUP was not applied", round);
		ck_assert_msg(stream_probe(lsn_connect(round % 2 ? &at_a : &at_b), 3000) ==
		    PROBE_REFUSED, "round %d: the set before the last SIGHUP still serves", round);
	}
	rtest_stop(&t);
}
END_TEST

START_TEST(bad_file_keeps_the_old_set)
{
	struct held h[MAX_LISTENERS];
	char control[128];
	struct lset old;
	struct rtest t;
	int n;

	rtest_start(&t, 2, ANCHORS "tcp 127.0.0.1:{P}; udp 127.0.0.1:{P}", &old, "");
	n = hold_connections(&old, &old, h);
	harness_control_path(&t.p, control, sizeof(control));
	harness_write_config(&t.p, "control_socket = \"%s\";\nworkers = 2;\nlisteners = (\n"
	    "  { protocol = \"tcp\"; port = %d; prot = \"tcp\"; }\n);\n", control, t.port[0]);
	ctl_expect(&t, "reload", 1);
	assert_said(&t, "{C}:4: ");
	held_check(h, n, "after a bad file");
	check_served(&old, &old, &old, "after a bad file");
	ctl_expect(&t, "status", 0);
	assert_said(&t, "last reload:|failed");
	rtest_stop(&t);
}
END_TEST

/* A bad drop-in is named by its own file and line, and nothing of the new set applies. */
START_TEST(bad_dropin_is_named_and_nothing_applies)
{
	struct lset old, full;
	char dir[128], path[192], text[256];
	struct rtest t;

	rtest_start(&t, 2, ANCHORS "tcp 127.0.0.1:{P}", &old, "include_dir = \"conf.d\";\n");
	lset_parse(&t, ANCHORS "tcp 127.0.0.1:{P}; tcp 127.0.0.1:{Q}", &full);
	snprintf(dir, sizeof(dir), "%s/conf.d", t.p.dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	expand(&t, "listeners = ( { protocol = \"tcp\"; port = {Q}; "
	    "address = \"127.0.0.1\"; } );\n", text, sizeof(text));
	snprintf(path, sizeof(path), "%s/10-more.conf", dir);
	write_file(path, text);
	snprintf(path, sizeof(path), "%s/20-bad.conf", dir);
	write_file(path, "# a drop-in with a mistake on line 2\nworkers = \"two\";\n");
	ctl_expect(&t, "reload", 1);
	assert_said(&t, "{D}/conf.d/20-bad.conf:2: ");
	check_served(&old, &full, &old, "after a bad drop-in");
	write_file(path, "# fixed\n");
	ctl_expect(&t, "reload", 0);
	assert_said(&t, "opened|tcp 127.0.0.1:{Q}");
	check_served(&old, &full, &full, "after the drop-in was fixed");
	rtest_stop(&t);
}
END_TEST

/*
 * [::]:P becomes 127.0.0.1:P plus an address this host does not have (EADDRNOTAVAIL: no
 * packet is sent). The reload fails naming that listener; P keeps answering 127.0.0.1 and
 * answers nothing the file does not list.
 */
START_TEST(unopenable_replacement_keeps_the_old_listener)
{
	struct held h[MAX_LISTENERS];
	struct lset old, next;
	struct rtest t;
	int n;

	rtest_start(&t, 2, ANCHORS "tcp *:{P}; udp *:{P}", &old, "");
	if (t.absent[0] == '\0') {
		fprintf(stderr, "192.0.2.1, 198.51.100.1 and 203.0.113.1 are all local: not run\n");
		rtest_stop(&t);
		return;
	}
	lset_parse(&t, ANCHORS "tcp 127.0.0.1:{P}; tcp {X}:{P}; udp 127.0.0.1:{P}; udp {X}:{P}",
	    &next);
	n = hold_connections(&old, &next, h);
	config_write(&t, &next, "");
	ctl_expect(&t, "reload", 1);
	assert_said(&t, "tcp {X}:{P}|cannot open|Cannot assign requested address");
	assert_said(&t, "udp {X}:{P}|cannot open|Cannot assign requested address");
	held_check(h, n, "after a failed replacement");
	check_served(&old, &next, &next, "after a failed replacement");
	ctl_expect(&t, "status", 0);
	/* The state, not the reply of the last reload ("cannot open") that status repeats. */
	assert_said(&t, "tcp {X}:{P}|not open|!cannot open");
	assert_said(&t, "last reload:|failed");
	rtest_stop(&t);
}
END_TEST

/*
 * Issue 24: a listener that cannot open during a reload is logged once (its
 * LISTENER_FAILED entry; the reload's report, logged line by line, skips
 * it), and a count of one is singular.
 */
START_TEST(failed_listener_logged_once)
{
	struct echod_proc p;
	char control[128], err[16384] = "", out[4096], want[64];
	int port, busy_port, busy, n = 0;

	busy = harness_socket(SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_ge(busy, 0);
	busy_port = harness_socket_port(busy);
	port = harness_free_port();
	harness_init(&p);
	harness_control_path(&p, control, sizeof(control));
	harness_write_config(&p, "control_socket = \"%s\";\nworkers = 1;\nlisteners = ( { protocol "
	    "= \"tcp\"; address = \"127.0.0.1\"; port = %d; } );\n", control, port);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, NULL, true), 0);
	harness_read_stderr(&p, err, sizeof(err), 200);
	ck_assert_msg(strstr(err, "started: 1 listener, 1 worker\n") != NULL, "%s", err);
	/* The port the test holds: EADDRINUSE. */
	harness_write_config(&p, "control_socket = \"%s\";\nworkers = 1;\nlisteners = (\n"
	    "  { protocol = \"tcp\"; address = \"127.0.0.1\"; port = %d; },\n"
	    "  { protocol = \"tcp\"; address = \"127.0.0.1\"; port = %d; }\n);\n", control, port,
	    busy_port);
	ck_assert_int_eq(harness_echodctl(&p, "reload", out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "cannot open") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "but not all of it applied: 1 listener open\n") != NULL, "%s",
	    out);
	err[0] = '\0';
	harness_read_stderr(&p, err, sizeof(err), 500);
	snprintf(want, sizeof(want), "127.0.0.1:%d", busy_port);
	for (const char *line = err; line != NULL && *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (memmem(line, len, want, strlen(want)) != NULL &&
		    memmem(line, len, "cannot open", 11) != NULL)
			n++;
		line = nl != NULL ? nl + 1 : NULL;
	}
	ck_assert_msg(n == 1, "%d lines say %s cannot open:\n%s", n, want, err);
	close(busy);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

START_TEST(echodctl_without_echod_exits_69)
{
	struct lset s;
	struct rtest t;

	rtest_start(&t, 1, ANCHORS "tcp 127.0.0.1:{P}", &s, "");
	ctl_expect(&t, "status", 0);
	ck_assert_int_eq(harness_stop(&t.p), 0);
	/* Stopped: its control socket is gone, or nobody listens on it any more. */
	ctl_expect(&t, "reload", 69);
	ctl_expect(&t, "status", 69);
	harness_cleanup(&t.p);
}
END_TEST

static Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("changes");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, change_applies, 0, sizeof(changes) / sizeof(changes[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("passed sockets");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, passed_sockets_narrowed_and_removed);
	tcase_add_test(tc, status_lists_every_listener);
	suite_add_tcase(s, tc);
	tc = tcase_create("never dark");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, reload_never_takes_a_listener_dark, 0, 2);
	tcase_add_test(tc, sighup_storm_ends_in_the_last_file);
	tcase_add_test(tc, sighup_during_reload_is_queued);
	suite_add_tcase(s, tc);
	tc = tcase_create("failures");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_file_keeps_the_old_set);
	tcase_add_test(tc, bad_dropin_is_named_and_nothing_applies);
	tcase_add_test(tc, unopenable_replacement_keeps_the_old_listener);
	tcase_add_test(tc, failed_listener_logged_once);
	tcase_add_test(tc, echodctl_without_echod_exits_69);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
