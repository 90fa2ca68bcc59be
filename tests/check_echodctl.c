/* SPDX-License-Identifier: MIT */
/* check_echodctl: echodctl ($ECHODCTL) against a scripted fake control server on a Unix socket. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <check.h>

/* Bounds on waits, never expectations: a correct run is far inside each. */
#define RUN_LIMIT_S	30
#define FAKE_WAIT_MS	20000

/* In a reply script: stop here until the test, having seen the output so far, says go. */
#define FAKE_PAUSE	((const char *)1)

enum {
	FAKE_BYTEWISE = 1,	/* one byte per send, once the client took the last */
	FAKE_NO_READ = 2,	/* reply without reading the request */
	FAKE_SILENT = 4,	/* read the request, then answer nothing until stopped */
	FAKE_NO_ACCEPT = 8,	/* never accept */
};

struct fake {
	char dir[64];
	char path[128];
	int lfd;
	int ctl[2];			/* test -> server: 'r' release a pause, 's' stop */
	pthread_t thread;
	const char *const *reply;	/* chunks, NULL-terminated; FAKE_PAUSE between them */
	unsigned flags;
	char request[256];
	size_t reqlen;
	int accepted;
	bool released;
};

struct run {
	int status;		/* exit status; 128 + n when killed by signal n */
	char out[65536];
	size_t outlen;
	char err[4096];
	size_t errlen;
};

static void
fake_dir(struct fake *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/check_echodctl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
}

/* Wait until fd is readable (or the peer is gone): true, or false after ms. */
static bool
fake_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	while ((r = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	return r > 0;
}

/* The next word from the test: 'r', 's', or 0 when none came in time. */
static char
fake_order(struct fake *f, int ms)
{
	char c = 0;

	if (fake_wait(f->ctl[0], ms) && read(f->ctl[0], &c, 1) != 1)
		c = 0;
	return c;
}

/* Until the client has read everything sent so far (SIOCOUTQ: bytes it has not taken). */
static void
fake_drained(int fd)
{
	struct timespec tick = { 0, 1000000 };
	int queued = 0;

	for (int i = 0; i < FAKE_WAIT_MS; i++) {
		if (ioctl(fd, SIOCOUTQ, &queued) == -1 || queued == 0)
			return;
		nanosleep(&tick, NULL);
	}
}

static void
fake_send(struct fake *f, int fd, const char *s)
{
	size_t len = strlen(s), step;
	ssize_t n;

	while (len > 0) {
		step = (f->flags & FAKE_BYTEWISE) ? 1 : len;
		n = send(fd, s, step, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
		if (f->flags & FAKE_BYTEWISE)
			fake_drained(fd);
	}
}

/* Read the request until its newline, EOF or the bound. */
static void
fake_read_request(struct fake *f, int fd)
{
	ssize_t n;

	while (f->reqlen < sizeof(f->request) - 1 && fake_wait(fd, FAKE_WAIT_MS)) {
		n = read(fd, f->request + f->reqlen, sizeof(f->request) - 1 - f->reqlen);
		if (n <= 0)
			break;
		f->reqlen += (size_t)n;
		if (memchr(f->request, '\n', f->reqlen) != NULL)
			break;
	}
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd pfd[2] = { { .fd = f->lfd, .events = POLLIN },
	    { .fd = f->ctl[0], .events = POLLIN } };
	int fd;

	if (poll(pfd, 2, FAKE_WAIT_MS) <= 0 || !(pfd[0].revents & POLLIN))
		return NULL;
	fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd == -1)
		return NULL;
	f->accepted++;
	if (!(f->flags & FAKE_NO_READ))
		fake_read_request(f, fd);
	for (const char *const *c = f->reply; c != NULL && *c != NULL; c++) {
		if (*c != FAKE_PAUSE) {
			fake_send(f, fd, *c);
			continue;
		}
		f->released = fake_order(f, FAKE_WAIT_MS) == 'r';
		if (!f->released)
			break;
	}
	if (f->flags & FAKE_SILENT)
		fake_order(f, FAKE_WAIT_MS);
	close(fd);
	return NULL;
}

/* A listening control socket at f->path, served by a thread that plays the script. */
static void
fake_start(struct fake *f, unsigned flags, const char *const *reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->flags = flags;
	f->reply = reply;
	fake_dir(f);
	strcpy(sun.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(f->lfd, -1);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	/* Backlog 0: one pending connection fits, a second waits (the connect timeout case). */
	ck_assert_int_eq(listen(f->lfd, (flags & FAKE_NO_ACCEPT) ? 0 : 8), 0);
	ck_assert_int_eq(pipe2(f->ctl, O_CLOEXEC), 0);
	if (!(flags & FAKE_NO_ACCEPT))
		ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	if (!(f->flags & FAKE_NO_ACCEPT)) {
		ck_assert_int_eq(write(f->ctl[1], "s", 1), 1);
		pthread_join(f->thread, NULL);
	}
	close(f->ctl[0]);
	close(f->ctl[1]);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
}

static void
run_child(char **argv, int out, int err, bool as_nobody)
{
	int null = open("/dev/null", O_RDONLY);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null == -1 || dup2(null, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	/* Root passes every permission check: be someone the socket's mode keeps out. */
	if (as_nobody && geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(65534, 65534, 65534) == -1 || setresuid(65534, 65534, 65534) == -1))
		_exit(125);
	execv(argv[0], argv);
	fprintf(stderr, "check_echodctl: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Append what fd has; false once it is closed. */
static bool
run_read(int fd, char *buf, size_t *len, size_t cap)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n == -1 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if ((size_t)n > cap - 1 - *len)
		n = (ssize_t)(cap - 1 - *len);
	memcpy(buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	buf[*len] = '\0';
	return true;
}

/*
 * Run $ECHODCTL with the NULL-terminated args and collect its output until it exits.
 * When release is set, tell that fake server to go on once stdout holds `after`.
 */
static void
run_ctl(struct run *r, const char *const *args, struct fake *release, const char *after,
    bool as_nobody)
{
	const char *prog = getenv("ECHODCTL");
	char *argv[32];
	int out[2], err[2], status, n = 0, open_fds = 2;
	time_t limit = time(NULL) + RUN_LIMIT_S;
	bool sent = false;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	argv[n++] = (char *)(prog != NULL ? prog : "src/echodctl");
	for (; *args != NULL && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		run_child(argv, out[1], err[1], as_nobody);
	close(out[1]);
	close(err[1]);
	while (open_fds > 0 && time(NULL) < limit) {
		struct pollfd pfd[2] = { { .fd = out[0], .events = POLLIN },
		    { .fd = err[0], .events = POLLIN } };

		if (poll(pfd, 2, 1000) == -1 && errno != EINTR)
			break;
		if (pfd[0].fd != -1 && pfd[0].revents &&
		    !run_read(out[0], r->out, &r->outlen, sizeof(r->out)))
			open_fds--, close(out[0]), out[0] = -1;
		if (pfd[1].fd != -1 && pfd[1].revents &&
		    !run_read(err[0], r->err, &r->errlen, sizeof(r->err)))
			open_fds--, close(err[0]), err[0] = -1;
		if (release != NULL && !sent && strstr(r->out, after) != NULL)
			sent = write(release->ctl[1], "r", 1) == 1;
	}
	if (open_fds > 0)
		kill(pid, SIGKILL);
	if (out[0] != -1)
		close(out[0]);
	if (err[0] != -1)
		close(err[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	ck_assert_msg(open_fds == 0, "echodctl still running after %d s", RUN_LIMIT_S);
}

/* Run echodctl -s <fake> <args...> against a scripted server; stop the server. */
static void
run_against(struct run *r, struct fake *f, unsigned flags, const char *const *reply,
    const char *const *args)
{
	const char *argv[16] = { "-s", NULL };
	int n = 2;

	fake_start(f, flags, reply);
	argv[1] = f->path;
	for (; *args != NULL && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	run_ctl(r, argv, NULL, NULL, false);
	fake_stop(f);
}

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(reload_ok_prints_every_line_but_the_result)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("configuration reloaded from /etc/echod/echod.conf "
	    "(2 files): 3 listeners\n", "opened tcp 127.0.0.1:7007\nresult: ok\n"),
	    ARGS("reload"));
	ck_assert_str_eq(f.request, "reload\n");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "configuration reloaded from /etc/echod/echod.conf (2 files): "
	    "3 listeners\nopened tcp 127.0.0.1:7007\n");
	ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(reload_failed_exits_1)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("/etc/echod/echod.conf:12: unknown key 'prot' in "
	    "listener\nresult: failed\n"), ARGS("reload"));
	ck_assert_str_eq(f.request, "reload\n");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "/etc/echod/echod.conf:12: unknown key 'prot' in listener\n");
}
END_TEST

/* status --json asks for "status json" and prints the one line that comes back. */
START_TEST(status_json_sends_status_json)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("{\"version\":\"0.1.0\",\"pid\":1}\nresult: ok\n"),
	    ARGS("status", "--json"));
	ck_assert_str_eq(f.request, "status json\n");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "{\"version\":\"0.1.0\",\"pid\":1}\n");
}
END_TEST

START_TEST(status_sends_status)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("configuration: /etc/echod/echod.conf\nlisteners:\n"
	    "  tcp 127.0.0.1:7  bound by echod  serving  /etc/echod/echod.conf:12\n"
	    "result: ok\n"), ARGS("status"));
	ck_assert_str_eq(f.request, "status\n");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "configuration: /etc/echod/echod.conf\nlisteners:\n"
	    "  tcp 127.0.0.1:7  bound by echod  serving  /etc/echod/echod.conf:12\n");
}
END_TEST

/* Every byte its own read: lines, and the result line, reassembled across reads. */
START_TEST(reply_one_byte_at_a_time)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, FAKE_BYTEWISE, ARGS("closed udp [::]:9\nreplaced tcp [::]:7 by "
	    "tcp 127.0.0.1:7\nresult: failed\n"), ARGS("-T", "20", "reload"));
	ck_assert_str_eq(f.request, "reload\n");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "closed udp [::]:9\nreplaced tcp [::]:7 by tcp 127.0.0.1:7\n");
}
END_TEST

/* A slow reload shows its progress: a line is out before the next one is sent. */
START_TEST(lines_are_printed_as_they_arrive)
{
	static const char *const reply[] = { "opened tcp 127.0.0.1:7007\n", FAKE_PAUSE,
	    "result: ok\n", NULL };
	struct fake f;
	struct run r;

	fake_start(&f, 0, reply);
	run_ctl(&r, ARGS("--socket", f.path, "reload"), &f, "opened tcp 127.0.0.1:7007\n",
	    false);
	fake_stop(&f);
	ck_assert_msg(f.released, "the first line was not printed before the second was sent");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "opened tcp 127.0.0.1:7007\n");
}
END_TEST

START_TEST(long_line_passes_whole)
{
	static char line[20001];
	char expect[sizeof(line) + 1];
	struct fake f;
	struct run r;

	for (size_t i = 0; i < sizeof(line) - 1; i++)
		line[i] = (char)('a' + i % 26);
	snprintf(expect, sizeof(expect), "%s\n", line);
	run_against(&r, &f, 0, ARGS(line, "\nresult: ok\n"), ARGS("status"));
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, expect);
}
END_TEST

/* echod may answer and close before reading the request: the answer still counts. */
START_TEST(reply_without_reading_the_request)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, FAKE_NO_READ, ARGS("error: busy\nresult: failed\n"),
	    ARGS("reload"));
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "error: busy\n");
}
END_TEST

static void
assert_no_result(const struct run *r, const char *out, const char *why)
{
	ck_assert_int_eq(r->status, 69);
	ck_assert_str_eq(r->out, out);
	ck_assert_msg(strstr(r->err, why) != NULL, "stderr '%s' lacks '%s'", r->err, why);
	/* One line, naming what went wrong. */
	ck_assert_msg(r->errlen > 0 && strchr(r->err, '\n') == r->err + r->errlen - 1,
	    "stderr is not one line: '%s'", r->err);
}

START_TEST(no_result_line_exits_69)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("opened tcp 127.0.0.1:7007\n"), ARGS("reload"));
	assert_no_result(&r, "opened tcp 127.0.0.1:7007\n", "closed the connection without a "
	    "result");
}
END_TEST

START_TEST(closed_mid_line_exits_69)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("opened tcp 127.0.0.1:7007\nresult: o"), ARGS("reload"));
	assert_no_result(&r, "opened tcp 127.0.0.1:7007\nresult: o\n", "in the middle of a line");
}
END_TEST

/* Only the last line is the result: one followed by more is just text. */
START_TEST(result_not_last_is_text)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("result: ok\nmore\n"), ARGS("reload"));
	assert_no_result(&r, "result: ok\nmore\n", "without a result");
}
END_TEST

START_TEST(unknown_result_exits_69)
{
	struct fake f;
	struct run r;

	run_against(&r, &f, 0, ARGS("result: maybe\n"), ARGS("reload"));
	assert_no_result(&r, "", "'result: maybe'");
}
END_TEST

START_TEST(server_never_answers_times_out)
{
	char why[200];
	struct fake f;
	struct run r;

	run_against(&r, &f, FAKE_SILENT, ARGS(NULL), ARGS("-T", "1", "reload"));
	ck_assert_str_eq(f.request, "reload\n");
	snprintf(why, sizeof(why), "no answer from echod at %s within 1 s", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

/* The timeout covers the connect too: a full backlog holds it, and it gives up. */
START_TEST(connect_blocked_times_out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char why[200];
	struct fake f;
	struct run r;
	int filler;

	fake_start(&f, FAKE_NO_ACCEPT, NULL);
	strcpy(sun.sun_path, f.path);
	/* Backlog 0 holds one pending connection (Linux allows backlog + 1): take it. */
	filler = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(connect(filler, (struct sockaddr *)&sun, sizeof(sun)), 0);
	run_ctl(&r, ARGS("-s", f.path, "-T", "1", "status"), NULL, NULL, false);
	close(filler);
	fake_stop(&f);
	snprintf(why, sizeof(why), "no answer from echod at %s within 1 s", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

START_TEST(socket_missing)
{
	char why[300];
	struct fake f;
	struct run r;

	fake_dir(&f);
	run_ctl(&r, ARGS("-s", f.path, "reload"), NULL, NULL, false);
	rmdir(f.dir);
	snprintf(why, sizeof(why), "echodctl: cannot reach echod at %s: No such file or "
	    "directory (is echod running?)\n", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

START_TEST(not_a_socket)
{
	char why[300];
	struct fake f;
	struct run r;
	int fd;

	fake_dir(&f);
	fd = open(f.path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	run_ctl(&r, ARGS("-s", f.path, "status"), NULL, NULL, false);
	unlink(f.path);
	rmdir(f.dir);
	snprintf(why, sizeof(why), "cannot reach echod at %s: Connection refused", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

/* The socket file of an echod that is gone: nothing listens on it. */
START_TEST(stale_socket_refused)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char why[300];
	struct fake f;
	struct run r;
	int fd;

	fake_dir(&f);
	strcpy(sun.sun_path, f.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	run_ctl(&r, ARGS("-s", f.path, "reload"), NULL, NULL, false);
	unlink(f.path);
	rmdir(f.dir);
	snprintf(why, sizeof(why), "cannot reach echod at %s: Connection refused (no echod "
	    "listens there: the file is left from one that stopped", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

/* Mode 0000 (as echod's 0600 is to others): permission denied, said as such. */
START_TEST(permission_denied)
{
	char why[300];
	struct fake f;
	struct run r;

	char copy[300], cmd[800], *prog = strdup(getenv("ECHODCTL"));

	fake_start(&f, FAKE_NO_ACCEPT, NULL);
	ck_assert_int_eq(chmod(f.dir, 0755), 0);
	ck_assert_int_eq(chmod(f.path, 0), 0);
	/* nobody may not reach the build tree (under /root, or the package build's): a copy. */
	snprintf(copy, sizeof(copy), "%s/echodctl", f.dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s'", prog, copy, copy);
	ck_assert_int_eq(system(cmd), 0);
	setenv("ECHODCTL", copy, 1);
	run_ctl(&r, ARGS("-s", f.path, "reload"), NULL, NULL, true);
	setenv("ECHODCTL", prog, 1);
	free(prog);
	unlink(copy);
	fake_stop(&f);
	ck_assert_msg(r.status != 125 && r.status != 127, "could not run echodctl as nobody: %s",
	    r.err);
	snprintf(why, sizeof(why), "cannot reach echod at %s: Permission denied", f.path);
	assert_no_result(&r, "", why);
}
END_TEST

/* Bad usage never reaches the server. */
static const struct {
	const char *args[4];
	const char *why;
} usage_errors[] = {
	{ { "frobnicate" }, "unknown command 'frobnicate'" },
	{ { "reload", "now" }, "unexpected argument 'now'" },
	{ { NULL }, "missing command" },
	{ { "-T", "0", "reload" }, "--timeout: '0'" },
	{ { "-T", "1x", "reload" }, "--timeout: '1x'" },
	{ { "--bogus", "status" }, "echodctl: unrecognized option '--bogus'\n" },
	{ { "--json", "reload" }, "--json is for status, stats and probes only" },
};

START_TEST(bad_usage_exits_64)
{
	const char *argv[8] = { "-s", NULL };
	struct fake f;
	struct run r;
	int n = 2;

	fake_start(&f, 0, ARGS("result: ok\n"));
	argv[1] = f.path;
	for (int i = 0; i < 4 && usage_errors[_i].args[i] != NULL; i++)
		argv[n++] = usage_errors[_i].args[i];
	argv[n] = NULL;
	run_ctl(&r, argv, NULL, NULL, false);
	fake_stop(&f);
	ck_assert_int_eq(r.status, 64);
	ck_assert_int_eq(f.accepted, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, usage_errors[_i].why) != NULL, "stderr '%s' lacks '%s'",
	    r.err, usage_errors[_i].why);
	/* One line on what is wrong, then where to look (coreutils); not the whole help. */
	ck_assert_msg(strstr(r.err, "\nTry 'echodctl --help' for more information.\n") ==
	    strchr(r.err, '\n'), "stderr: %s", r.err);
	ck_assert_ptr_null(strstr(r.err, "usage:"));
}
END_TEST

START_TEST(help_and_version)
{
	struct run r;

	run_ctl(&r, ARGS("-h"), NULL, NULL, false);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: echodctl [-s|--socket SOCKET]"));
	ck_assert_ptr_nonnull(strstr(r.out, "/run/echod/control"));
	run_ctl(&r, ARGS("--help"), NULL, NULL, false);
	ck_assert_int_eq(r.status, 0);
	run_ctl(&r, ARGS("-V"), NULL, NULL, false);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "echodctl " PACKAGE_VERSION "\n");
	run_ctl(&r, ARGS("--version"), NULL, NULL, false);
	ck_assert_str_eq(r.out, "echodctl " PACKAGE_VERSION "\n");
}
END_TEST

/* Without -s it asks /run/echod/control (unless an echod answers there, say so). */
START_TEST(default_socket)
{
	struct run r;

	if (access("/run/echod/control", F_OK) == 0) {
		printf("default_socket: /run/echod/control exists here: not checked\n");
		return;
	}
	run_ctl(&r, ARGS("status"), NULL, NULL, false);
	assert_no_result(&r, "", "cannot reach echod at /run/echod/control: ");
}
END_TEST

static Suite *
echodctl_suite(void)
{
	Suite *s = suite_create("echodctl");
	TCase *tc;

	tc = tcase_create("reply");
	tcase_add_test(tc, reload_ok_prints_every_line_but_the_result);
	tcase_add_test(tc, reload_failed_exits_1);
	tcase_add_test(tc, status_sends_status);
	tcase_add_test(tc, status_json_sends_status_json);
	tcase_add_test(tc, reply_one_byte_at_a_time);
	tcase_add_test(tc, lines_are_printed_as_they_arrive);
	tcase_add_test(tc, long_line_passes_whole);
	tcase_add_test(tc, reply_without_reading_the_request);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("no answer");
	tcase_add_test(tc, no_result_line_exits_69);
	tcase_add_test(tc, closed_mid_line_exits_69);
	tcase_add_test(tc, result_not_last_is_text);
	tcase_add_test(tc, unknown_result_exits_69);
	tcase_add_test(tc, server_never_answers_times_out);
	tcase_add_test(tc, connect_blocked_times_out);
	tcase_add_test(tc, socket_missing);
	tcase_add_test(tc, not_a_socket);
	tcase_add_test(tc, stale_socket_refused);
	tcase_add_test(tc, permission_denied);
	tcase_add_test(tc, default_socket);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("usage");
	tcase_add_loop_test(tc, bad_usage_exits_64, 0,
	    sizeof(usage_errors) / sizeof(usage_errors[0]));
	tcase_add_test(tc, help_and_version);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(echodctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
