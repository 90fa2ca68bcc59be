/* SPDX-License-Identifier: MIT */
/*
 * check_control: the real echod's control socket (issue 23): replies larger
 * than the socket buffers reach a slow reader whole, idle clients never lock
 * echodctl out, and a reload waiting for a worker keeps the watchdog fed.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Unix listeners (no port to race for): enough for replies of several hundred KB. */
#define MANY_LISTENERS	1200
/* Descriptors for them, the control socket and its clients. */
#define MANY_NOFILE	4096
/* More idle clients than the control socket's 32 places. */
#define IDLE_CLIENTS	40

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* echod with a control socket, nunix Unix listeners in its directory, and workers. */
static void
start_echod(struct echod_proc *p, int nunix, int workers)
{
	size_t size = 256 + (size_t)nunix * 128, used;
	char control[128], *conf = malloc(size);

	ck_assert_ptr_nonnull(conf);
	harness_init(p);
	harness_control_path(p, control, sizeof(control));
	used = (size_t)snprintf(conf, size, "control_socket = \"%s\";\nworkers = %d;\n"
	    "listeners = (\n", control, workers);
	for (int i = 0; i < nunix; i++)
		used += (size_t)snprintf(conf + used, size - used,
		    "%s  { protocol = \"unix\"; path = \"%s/l%d.sock\"; }\n",
		    i == 0 ? "" : ",", p->dir, i);
	snprintf(conf + used, size - used, ");\n");
	harness_write_config(p, "%s", conf);
	free(conf);
	ck_assert_int_eq(harness_start(p, NULL, MANY_NOFILE), 0);
}

static int
control_connect(const struct echod_proc *p)
{
	char control[128];
	int fd;

	harness_control_path(p, control, sizeof(control));
	fd = unix_connect_path(control);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/*
 * Read echod's notify messages for ms: the number of WATCHDOG=1, and whether
 * text came. Also the way to wait: the kernel queues 10 datagrams at most,
 * and echod's STATUS= (once a second) would block in sd_notify() after that.
 */
static int
watch_notify(struct echod_proc *p, int ms, const char *text, bool *seen)
{
	long end = now_ms() + ms;
	char buf[4096];
	int pings = 0;

	*seen = false;
	while (now_ms() < end) {
		struct pollfd pfd = { p->notify_fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(p->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (char *s = buf; (s = strstr(s, "WATCHDOG=1")) != NULL; s += 10)
			pings++;
		*seen |= strstr(buf, text) != NULL;
	}
	return pings;
}

/*
 * Send command, read nothing for a while (the reply fills every buffer on
 * the way and echod meets EAGAIN), then read it all to the end in small
 * bites, each wait bounded. Returns the bytes read into a malloc'd *out.
 */
static size_t
slow_request(const struct echod_proc *p, const char *command, char **out)
{
	int fd = control_connect(p);
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	struct pollfd pfd = { fd, POLLIN, 0 };

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(send(fd, command, strlen(command), MSG_NOSIGNAL), (ssize_t)strlen(command));
	usleep(300 * 1000);
	for (;;) {
		ssize_t n;

		if (poll(&pfd, 1, harness_scale_ms(5000)) <= 0)
			break;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = recv(fd, buf + len, cap - len < 4096 ? cap - len : 4096, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		/* A reader slower than echod: each bite lets only a little more in. */
		if (len % (64 * 1024) < 4096)
			usleep(10 * 1000);
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	return len;
}

/* The default send buffer of a Unix stream socket, as the kernel reports it. */
static size_t
unix_sndbuf(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), size = 0;
	socklen_t len = sizeof(size);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len), 0);
	close(fd);
	return (size_t)size;
}

static void
assert_whole_reply(const char *command, const char *reply, size_t len, size_t least)
{
	int n = (int)strcspn(command, "\n");

	ck_assert_msg(len > least, "%.*s: %zu bytes, not over twice the send buffer (%zu): "
	    "the test proves nothing", n, command, len, least);
	ck_assert_msg(len >= 11 && strcmp(reply + len - 11, "result: ok\n") == 0,
	    "%.*s: %zu bytes and no final 'result: ok'", n, command, len);
}

/*
 * Defect 1: a reply went out until the second EAGAIN, then the client was
 * dropped (1 200 listeners: 401 984 bytes of metrics and no result line).
 */
START_TEST(long_reply_reaches_a_slow_reader_whole)
{
	static const char *const commands[] = { "metrics\n", "stats\n", "stats json\n" };
	struct echod_proc p;
	size_t least = 2 * unix_sndbuf();
	char *reply, *out;

	start_echod(&p, MANY_LISTENERS, 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t len = slow_request(&p, commands[i], &reply);

		if (i < 2)
			assert_whole_reply(commands[i], reply, len, least);
		else
			ck_assert_msg(len > 11 && strcmp(reply + len - 11, "result: ok\n") == 0,
			    "stats json: %zu bytes and no final 'result: ok'", len);
		free(reply);
	}
	/* echodctl itself, for status and metrics: exit 0 (it checks the result line). */
	out = malloc(1 << 20);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(harness_echodctl(&p, "status", out, 1 << 20), 0);
	ck_assert_ptr_nonnull(strstr(out, "l1199.sock"));
	ck_assert_int_eq(harness_echodctl(&p, "metrics", out, 1 << 20), 0);
	ck_assert_uint_gt(strlen(out), least);
	free(out);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * Defect 6: 32 idle connections filled the control socket and every new
 * client, echodctl and ExecReload's included, was closed at once. Now a new
 * client takes the oldest idle one's place, and an idle one is closed after
 * 5 s without a command.
 */
START_TEST(idle_clients_never_lock_out_echodctl)
{
	struct echod_proc p;
	int fds[IDLE_CLIENTS];
	char out[8192];
	long start;
	bool seen;

	start_echod(&p, 1, 1);
	for (int i = 0; i < IDLE_CLIENTS; i++)
		fds[i] = control_connect(&p);
	start = now_ms();
	ck_assert_int_eq(harness_echodctl(&p, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "listeners:"));
	/* Well before any idle client's deadline: it got in by taking a place, not waiting. */
	ck_assert_int_lt(now_ms() - start, 3000);
	/* The oldest gave their places; the newest still wait for a command. */
	ck_assert(peer_closed(fds[0], 1000));
	ck_assert(!peer_closed(fds[IDLE_CLIENTS - 1], 200));
	/* ... until their deadline: 5 s without a full command line. */
	(void)watch_notify(&p, harness_scale_ms(6000), "", &seen);
	ck_assert(peer_closed(fds[IDLE_CLIENTS - 1], 1000));
	for (int i = 0; i < IDLE_CLIENTS; i++)
		close(fds[i]);
	ck_assert_int_eq(harness_echodctl(&p, "status", out, sizeof(out)), 0);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A command sent, its reply never read: closed once it has made no progress for 10 s. */
START_TEST(unread_reply_is_dropped)
{
	struct echod_proc p;
	int fd;
	char out[8192];
	bool seen;

	start_echod(&p, MANY_LISTENERS, 1);
	fd = control_connect(&p);
	ck_assert_int_eq(send(fd, "metrics\n", 8, MSG_NOSIGNAL), 8);
	(void)watch_notify(&p, harness_scale_ms(11500), "", &seen);
	/* What the kernel holds comes through, then the end: echod gave the rest up. */
	ck_assert(peer_closed(fd, harness_scale_ms(5000)));
	close(fd);
	ck_assert_int_eq(harness_echodctl(&p, "status", out, sizeof(out)), 0);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A thread of echod's other than its main one (the control thread): a worker's tid. */
static pid_t
worker_thread(pid_t pid)
{
	char path[64];
	struct dirent *e;
	pid_t tid = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while (tid == -1 && (e = readdir(d)) != NULL) {
		pid_t t = (pid_t)atoi(e->d_name);

		if (t > 0 && t != pid)
			tid = t;
	}
	closedir(d);
	return tid;
}

/*
 * Defect 7: while a reload waited for the workers, echod sent neither
 * STATUS= nor WATCHDOG=1: a worker slow to apply it (stopped here with
 * ptrace, which stops one thread, as SIGSTOP cannot) looked like a hung echod
 * and the watchdog would kill it. WATCHDOG_USEC=1000000: a ping every 0.5 s.
 */
START_TEST(reload_waiting_for_a_worker_keeps_the_watchdog_fed)
{
	struct echod_proc p;
	char cmd[512], control[128], out[4096];
	const char *ctl = getenv("ECHODCTL");
	bool reloading;
	size_t n;
	pid_t tid;
	FILE *f;
	int pings, status;

	setenv("WATCHDOG_USEC", "1000000", 1);
	unsetenv("WATCHDOG_PID");
	start_echod(&p, 1, 2);
	unsetenv("WATCHDOG_USEC");
	tid = worker_thread(p.pid);
	ck_assert_int_gt(tid, 0);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == -1) {
		harness_skip("ptrace of echod's worker thread refused (%s): cannot hold a "
		    "worker to make a reload wait", strerror(errno));
		harness_stop(&p);
		harness_cleanup(&p);
		return;
	}
	ck_assert_int_eq(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL), 0);
	ck_assert_int_eq(waitpid(tid, &status, __WALL), tid);
	harness_control_path(&p, control, sizeof(control));
	snprintf(cmd, sizeof(cmd), "'%s' -s '%s' -T 30 reload", ctl != NULL ? ctl :
	    "../src/echodctl", control);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	pings = watch_notify(&p, 3000, "STATUS=reloading", &reloading);
	ck_assert_int_eq(ptrace(PTRACE_DETACH, tid, NULL, NULL), 0);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	status = pclose(f);
	ck_assert_msg(pings >= 4, "%d WATCHDOG=1 in 3 s of a reload waiting for a worker; "
	    "every 500 ms makes 6", pings);
	ck_assert_msg(reloading, "no STATUS=reloading... while the reload waited");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "echodctl reload: %s", out);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = harness_tcase(s, "replies", 90);

	tcase_add_test(tc, long_reply_reaches_a_slow_reader_whole);
	tcase_add_test(tc, unread_reply_is_dropped);
	tc = harness_tcase(s, "clients", 60);
	tcase_add_test(tc, idle_clients_never_lock_out_echodctl);
	tc = harness_tcase(s, "reload", 60);
	tcase_add_test(tc, reload_waiting_for_a_worker_keeps_the_watchdog_fed);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(control_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
