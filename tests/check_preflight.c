/* SPDX-License-Identifier: MIT */
/* check_preflight: preflight_check() on loaded configurations, and what echod -t refuses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "harness.h"
#include "preflight.h"

#define UNKNOWN_USER	"no-such-user-echod"
#define UNKNOWN_GROUP	"no-such-group-echod"
#define NOT_ROOT	"echod runs as uid %u without CAP_NET_BIND_SERVICE: run it as root, " \
			"grant the capability, or let systemd pass the socket (echod.socket)"

/* Decided once in main(), before any test forks: see unprivileged_setup(). */
static bool need_netns;
static int port_start;
static uid_t nobody_uid;
static gid_t nobody_gid;

/* Into a static buffer: the next call overwrites it. */
static const char *
data_path(const char *name)
{
	static char path[512];
	const char *dir = getenv("TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "data", name);
	return path;
}

/* "file: message" or "file:line: message", as preflight_check() and echod -t write them. */
static const char *
expect(const char *file, int line, const char *fmt, ...)
{
	static char buf[4][1024];
	static int next;
	char *out = buf[next++ % 4], msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(out, sizeof(buf[0]), "%s:%d: %s", file, line, msg);
	else
		snprintf(out, sizeof(buf[0]), "%s: %s", file, msg);
	return out;
}

/* A scratch directory nobody can enter: an unprivileged echod reads its files there. */
static void
scratch_init(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/echod-preflight-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static void
scratch_cleanup(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void __attribute__((format(printf, 2, 3)))
write_file(const char *path, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	va_list ap;

	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
}

static struct echod_config *
load(const char *path)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = config_load(path, &errs);

	ck_assert_msg(cfg != NULL, "%s: %s", path, errs.count > 0 ? errs.lines[0] : "?");
	config_errors_free(&errs);
	return cfg;
}

/* preflight_check() on a file: its result, and errs holds exactly the lines expected. */
static void
check_file(const char *path, unsigned flags, int nexpected, const char *const *expected)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg = load(path);
	int n = preflight_check(cfg, flags, &errs);

	ck_assert_msg(n == nexpected, "%s: %d problems, expected %d; first: %s", path, n,
	    nexpected, errs.count > 0 ? errs.lines[0] : "none");
	ck_assert_uint_eq(errs.count, (size_t)nexpected);
	for (int i = 0; i < nexpected; i++)
		ck_assert_str_eq(errs.lines[i], expected[i]);
	config_errors_free(&errs);
	config_free(cfg);
}

START_TEST(identity_unknown_user)
{
	const char *path = data_path("preflight-unknown-user.conf");
	const char *want[] = { expect(path, 3, "no such user '" UNKNOWN_USER "'") };

	check_file(path, PREFLIGHT_IDENTITY, 1, want);
}
END_TEST

START_TEST(identity_unknown_group)
{
	const char *path = data_path("preflight-unknown-group.conf");
	const char *want[] = { expect(path, 3, "no such group '" UNKNOWN_GROUP "'") };

	check_file(path, PREFLIGHT_IDENTITY, 1, want);
}
END_TEST

START_TEST(identity_root_refused)
{
	const char *path = data_path("preflight-root-user.conf");
	const char *want_user[] = { expect(path, 3, "user 'root' is root's (uid 0): started as "
	    "root, echod must become someone else; name an unprivileged user") };
	const char *want_group[1];

	check_file(path, PREFLIGHT_IDENTITY, 1, want_user);
	path = data_path("preflight-root-group.conf");
	want_group[0] = expect(path, 3, "group 'root' is root's (gid 0): started as root, echod "
	    "must become someone else; name an unprivileged group");
	check_file(path, PREFLIGHT_IDENTITY, 1, want_group);
}
END_TEST

/* The defaults, nobody and nogroup, are what the harness's echod runs as. */
START_TEST(identity_defaults_pass)
{
	check_file(data_path("preflight-privileged.conf"), PREFLIGHT_IDENTITY, 0, NULL);
}
END_TEST

/* A default set in no file is reported against the main file, as the default. */
START_TEST(identity_default_missing)
{
	const char *path = data_path("preflight-privileged.conf");
	struct echod_config *cfg = load(path);
	struct config_errors errs = { 0 };

	ck_assert_ptr_null(cfg->user_where);
	ck_assert_ptr_null(cfg->group_where);
	free(cfg->user);
	free(cfg->group);
	cfg->user = strdup(UNKNOWN_USER);
	cfg->group = strdup(UNKNOWN_GROUP);
	ck_assert_int_eq(preflight_check(cfg, PREFLIGHT_ALL & ~PREFLIGHT_PORTS, &errs), 2);
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_str_eq(errs.lines[0], expect(path, 0, "no such user '" UNKNOWN_USER "' "
	    "(the default; set user = \"NAME\";)"));
	ck_assert_str_eq(errs.lines[1], expect(path, 0, "no such group '" UNKNOWN_GROUP "' "
	    "(the default; set group = \"NAME\";)"));
	config_errors_free(&errs);
	config_free(cfg);
}
END_TEST

START_TEST(unix_dir_missing)
{
	const char *path = data_path("preflight-unix-dir.conf");
	const char *want[] = { expect(path, 4, "unix listener path "
	    "/nonexistent-echod-preflight/echo.sock: directory /nonexistent-echod-preflight "
	    "does not exist") };

	check_file(path, PREFLIGHT_UNIX_DIRS, 1, want);
}
END_TEST

START_TEST(unix_dir_not_directory)
{
	const char *path = data_path("preflight-unix-notdir.conf");
	const char *want[] = { expect(path, 3, "unix listener path /dev/null/echo.sock: "
	    "/dev/null is not a directory") };

	check_file(path, PREFLIGHT_UNIX_DIRS, 1, want);
}
END_TEST

/* systemd creates /run/echod and /run/echod-NAME for the service; nothing deeper. */
START_TEST(unix_dir_runtime_directory)
{
	char dir[64], conf[128];
	const char *want[1];

	scratch_init(dir, sizeof(dir));
	snprintf(conf, sizeof(conf), "%s/echod.conf", dir);
	write_file(conf, "listeners = (\n"
	    "  { protocol = \"unix\"; path = \"/run/echod/echo.sock\"; },\n"
	    "  { protocol = \"unix\"; path = \"/run/echod-test/echo.sock\"; },\n"
	    "  { protocol = \"unix\"; path = \"/run/echod/no-such-sub/echo.sock\"; },\n"
	    "  { protocol = \"unix\"; path = \"%s/echo.sock\"; }\n"
	    ");\n", dir);
	want[0] = expect(conf, 4, "unix listener path /run/echod/no-such-sub/echo.sock: "
	    "directory /run/echod/no-such-sub does not exist");
	check_file(conf, PREFLIGHT_UNIX_DIRS, 1, want);
	scratch_cleanup(dir);
}
END_TEST

/* Each flag runs its checks only: the reload asks for identity and directories alone. */
START_TEST(flags_select_checks)
{
	char dir[64], conf[128];
	const char *want[2];

	scratch_init(dir, sizeof(dir));
	snprintf(conf, sizeof(conf), "%s/echod.conf", dir);
	write_file(conf, "listeners = (\n"
	    "  { protocol = \"unix\"; path = \"/nonexistent-echod-preflight/echo.sock\"; }\n"
	    ");\nuser = \"" UNKNOWN_USER "\";\n");
	want[0] = expect(conf, 4, "no such user '" UNKNOWN_USER "'");
	want[1] = expect(conf, 2, "unix listener path /nonexistent-echod-preflight/echo.sock: "
	    "directory /nonexistent-echod-preflight does not exist");
	check_file(conf, 0, 0, NULL);
	check_file(conf, PREFLIGHT_PORTS, 0, NULL);
	check_file(conf, PREFLIGHT_IDENTITY, 1, want);
	check_file(conf, PREFLIGHT_UNIX_DIRS, 1, want + 1);
	check_file(conf, PREFLIGHT_IDENTITY | PREFLIGHT_UNIX_DIRS, 2, want);
	check_file(conf, PREFLIGHT_ALL, 2, want);
	scratch_cleanup(dir);
}
END_TEST

START_TEST(ports_root_may_bind)
{
	check_file(data_path("preflight-privileged.conf"), PREFLIGHT_PORTS, 0, NULL);
}
END_TEST

/*
 * In a forked child, before exec or the check: become nobody, in a network
 * namespace of its own when this one lets anyone bind port 7 (containers set
 * ip_unprivileged_port_start to 0; a new namespace starts at 1024).
 */
static void
become_nobody(void)
{
	if (need_netns && unshare(CLONE_NEWNET) == -1)
		_exit(125);
	if (setgroups(0, NULL) == -1 || setgid(nobody_gid) == -1 || setuid(nobody_uid) == -1)
		_exit(126);
}

/* The start in force for an unprivileged child (see become_nobody()). */
static int
child_port_start(void)
{
	return need_netns ? 1024 : port_start;
}

/* preflight_check() as nobody: the lines it wrote, one per line, and its result. */
START_TEST(ports_unprivileged_refused)
{
	const char *path = data_path("preflight-privileged.conf");
	struct echod_config *cfg = load(path);
	char out[4096], want[2048];
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct config_errors errs = { 0 };
		int problems;

		become_nobody();
		problems = preflight_check(cfg, PREFLIGHT_ALL, &errs);
		for (size_t i = 0; i < errs.count; i++)
			dprintf(pipefd[1], "%s\n", errs.lines[i]);
		_exit(problems);
	}
	close(pipefd[1]);
	while (used + 1 < sizeof(out) &&
	    (n = read(pipefd[0], out + used, sizeof(out) - used - 1)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	snprintf(want, sizeof(want), "%s\n%s\n",
	    expect(path, 3, "tcp port 7 is privileged (below net.ipv4.ip_unprivileged_port_start "
	    "= %d) and " NOT_ROOT, child_port_start(), (unsigned)nobody_uid),
	    expect(path, 4, "udp port 7 is privileged (below net.ipv4.ip_unprivileged_port_start "
	    "= %d) and " NOT_ROOT, child_port_start(), (unsigned)nobody_uid));
	ck_assert_str_eq(out, want);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	config_free(cfg);
}
END_TEST

/* How to run echod -t: as nobody or not, with sockets passed as systemd does. */
struct run {
	const char *echod;		/* the binary; a copy nobody can reach for nobody */
	bool nobody;
	const int *fds;			/* passed as 3, 4, ... (LISTEN_FDS, LISTEN_PID) */
	int nfds;
	bool other_pid;			/* LISTEN_PID names another process */
};

static void
read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	while (used + 1 < size && (n = read(fd, buf + used, size - used - 1)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	close(fd);
}

static void
child_pass_fds(const int *fds, int n, bool other_pid)
{
	char count[16], pid[16];
	int moved[8];

	/* Moved above the target range first, so that no dup2 clobbers another. */
	for (int i = 0; i < n && i < 8; i++)
		moved[i] = fcntl(fds[i], F_DUPFD, 100);
	for (int i = 0; i < n && i < 8; i++) {
		dup2(moved[i], 3 + i);
		close(moved[i]);
	}
	snprintf(count, sizeof(count), "%d", n);
	/* The same process after exec: sd_listen_fds() takes only sockets meant for it. */
	snprintf(pid, sizeof(pid), "%d", (int)(other_pid ? getppid() : getpid()));
	setenv("LISTEN_FDS", count, 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDNAMES", "echod.socket", 1);
}

/* echod -t -c conf: its exit status; what it wrote to stdout and to stderr. */
static int
run_test_config(const struct run *how, const char *conf, char *out, size_t outsize, char *err,
    size_t errsize)
{
	int outpipe[2], errpipe[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(outpipe), 0);
	ck_assert_int_eq(pipe(errpipe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(outpipe[1], STDOUT_FILENO);
		dup2(errpipe[1], STDERR_FILENO);
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		if (how->nfds > 0)
			child_pass_fds(how->fds, how->nfds, how->other_pid);
		if (how->nobody)
			become_nobody();
		execl(how->echod, "echod", "-t", "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(outpipe[1]);
	close(errpipe[1]);
	/* A few lines each: neither pipe fills while the other is read. */
	read_all(errpipe[0], err, errsize);
	read_all(outpipe[0], out, outsize);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* stderr is a pipe: plain lines for a person, as on a terminal (issue 15). */
static void
assert_refused(const struct run *how, const char *conf, const char *const *lines, int n)
{
	char out[1024], err[4096], want[4096] = "";
	int status = run_test_config(how, conf, out, sizeof(out), err, sizeof(err));

	for (int i = 0; i < n; i++) {
		strcat(want, "echod: ");
		strcat(want, lines[i]);
		strcat(want, "\n");
	}
	ck_assert_msg(status == 78, "%s: exit %d, expected 78; stderr: %s", conf, status, err);
	ck_assert_str_eq(err, want);
	ck_assert_str_eq(out, "");
}

static void
assert_accepted(const struct run *how, const char *conf)
{
	char out[1024], err[4096];
	int status = run_test_config(how, conf, out, sizeof(out), err, sizeof(err));

	ck_assert_msg(status == 0, "%s: exit %d, expected 0; stderr: %s", conf, status, err);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(out, "configuration OK\n");
}

static const struct run as_root = { NULL, false, NULL, 0, false };

static const struct {
	const char *file;
	int line;
	const char *message;
} refused_as_root[] = {
	{ "preflight-unknown-user.conf", 3, "no such user '" UNKNOWN_USER "'" },
	{ "preflight-unknown-group.conf", 3, "no such group '" UNKNOWN_GROUP "'" },
	{ "preflight-root-user.conf", 3, "user 'root' is root's (uid 0): started as root, echod "
	    "must become someone else; name an unprivileged user" },
	{ "preflight-root-group.conf", 3, "group 'root' is root's (gid 0): started as root, "
	    "echod must become someone else; name an unprivileged group" },
	{ "preflight-unix-dir.conf", 4, "unix listener path /nonexistent-echod-preflight/echo.sock:"
	    " directory /nonexistent-echod-preflight does not exist" },
	{ "preflight-unix-notdir.conf", 3, "unix listener path /dev/null/echo.sock: /dev/null is "
	    "not a directory" },
};

START_TEST(test_config_refuses)
{
	const char *path = data_path(refused_as_root[_i].file);
	const char *want[] = { expect(path, refused_as_root[_i].line, "%s",
	    refused_as_root[_i].message) };
	struct run how = as_root;

	how.echod = getenv("ECHOD");
	assert_refused(&how, path, want, 1);
}
END_TEST

START_TEST(test_config_accepts_as_root)
{
	struct run how = as_root;

	how.echod = getenv("ECHOD");
	assert_accepted(&how, data_path("preflight-valid.conf"));
	assert_accepted(&how, data_path("preflight-privileged.conf"));
}
END_TEST

/*
 * nobody may not reach the build tree (under /root, or a mktemp -d directory
 * in the package build): a copy of echod and of the file in a scratch
 * directory it can read.
 */
static void
nobody_setup(const char *dir, char *echod, size_t echodsize, char *conf, size_t confsize,
    const char *data)
{
	char cmd[1024];

	snprintf(echod, echodsize, "%s/echod", dir);
	snprintf(conf, confsize, "%s/echod.conf", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0755 '%s'", getenv("ECHOD"), echod,
	    echod);
	ck_assert_int_eq(system(cmd), 0);
	if (data != NULL) {
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0644 '%s'", data_path(data), conf,
		    conf);
		ck_assert_int_eq(system(cmd), 0);
	}
}

START_TEST(test_config_refuses_privileged_port_unprivileged)
{
	char dir[64], echod[128], conf[128];
	struct run how = { echod, true, NULL, 0, false };
	const char *want[2];

	scratch_init(dir, sizeof(dir));
	nobody_setup(dir, echod, sizeof(echod), conf, sizeof(conf), "preflight-privileged.conf");
	want[0] = expect(conf, 3, "tcp port 7 is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, child_port_start(),
	    (unsigned)nobody_uid);
	want[1] = expect(conf, 4, "udp port 7 is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, child_port_start(),
	    (unsigned)nobody_uid);
	assert_refused(&how, conf, want, 2);
	scratch_cleanup(dir);
}
END_TEST

/* A privileged port of 127.0.0.1 that is free now, bound (tcp: listening) as root. */
static int
bind_privileged(int type, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), on = 1;

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 8) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Both sockets, tcp and udp, on one port below the start nobody runs under. */
static int
bind_privileged_pair(int fds[2])
{
	for (int port = child_port_start() - 1; port > 0; port--) {
		fds[0] = bind_privileged(SOCK_STREAM, port);
		if (fds[0] == -1)
			continue;
		fds[1] = bind_privileged(SOCK_DGRAM, port);
		if (fds[1] != -1)
			return port;
		close(fds[0]);
	}
	ck_abort_msg("no privileged port of 127.0.0.1 is free for tcp and udp");
	return -1;
}

/* What systemd passes needs no privilege: only a listener it did not pass is refused. */
START_TEST(test_config_accepts_passed_sockets)
{
	char dir[64], echod[128], conf[128];
	struct run how = { echod, true, NULL, 0, false };
	const char *want[1];
	int fds[2], port;

	scratch_init(dir, sizeof(dir));
	nobody_setup(dir, echod, sizeof(echod), conf, sizeof(conf), NULL);
	port = bind_privileged_pair(fds);
	write_file(conf, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; }\n"
	    ");\n", port, port);
	how.fds = fds;
	how.nfds = 2;
	assert_accepted(&how, conf);
	/* Only the tcp socket: the udp listener is the one start would fail on. */
	how.nfds = 1;
	want[0] = expect(conf, 3, "udp port %d is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, port, child_port_start(),
	    (unsigned)nobody_uid);
	assert_refused(&how, conf, want, 1);
	/* The udp socket alone, passed where the tcp one was: a kind is never assumed. */
	how.fds = fds + 1;
	want[0] = expect(conf, 2, "tcp port %d is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, port, child_port_start(),
	    (unsigned)nobody_uid);
	assert_refused(&how, conf, want, 1);
	close(fds[0]);
	close(fds[1]);
	scratch_cleanup(dir);
}
END_TEST

/* A socket for another port covers nothing; fds passed to another process are not ours. */
START_TEST(test_config_ignores_other_sockets)
{
	char dir[64], echod[128], conf[128];
	struct run how = { echod, true, NULL, 0, false };
	const char *want[1];
	int fds[2], port;

	scratch_init(dir, sizeof(dir));
	nobody_setup(dir, echod, sizeof(echod), conf, sizeof(conf), NULL);
	port = bind_privileged_pair(fds);
	write_file(conf, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; }\n"
	    ");\n", port - 1);
	how.fds = fds;
	how.nfds = 1;
	want[0] = expect(conf, 2, "tcp port %d is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, port - 1,
	    child_port_start(), (unsigned)nobody_uid);
	assert_refused(&how, conf, want, 1);
	write_file(conf, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; }\n"
	    ");\n", port);
	assert_accepted(&how, conf);
	how.other_pid = true;
	want[0] = expect(conf, 2, "tcp port %d is privileged (below "
	    "net.ipv4.ip_unprivileged_port_start = %d) and " NOT_ROOT, port, child_port_start(),
	    (unsigned)nobody_uid);
	assert_refused(&how, conf, want, 1);
	close(fds[0]);
	close(fds[1]);
	scratch_cleanup(dir);
}
END_TEST

static int
read_port_start(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	int start = 1024;

	if (f != NULL) {
		if (fscanf(f, "%d", &start) != 1)
			start = 1024;
		fclose(f);
	}
	return start;
}

/*
 * Can a child become an unprivileged user for whom port 7 is privileged?
 * Root and nobody/nogroup are needed; where this namespace's start is 7 or
 * less, a new network namespace must be allowed. Returns why not, or NULL.
 */
static const char *
unprivileged_setup(void)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("nogroup");
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "not root: cannot switch to an unprivileged user";
	if (pw == NULL || gr == NULL)
		return "no user nobody or group nogroup";
	nobody_uid = pw->pw_uid;
	nobody_gid = gr->gr_gid;
	port_start = read_port_start();
	need_netns = port_start <= 7;
	if (!need_netns)
		return NULL;
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	if (pid == -1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return "net.ipv4.ip_unprivileged_port_start lets anyone bind port 7 here, and "
		    "no network namespace of our own can be made";
	return NULL;
}

static Suite *
preflight_suite(bool root, bool unprivileged)
{
	Suite *s = suite_create("preflight");
	TCase *tc;

	tc = harness_tcase(s, "identity", 30);
	tcase_add_test(tc, identity_unknown_user);
	tcase_add_test(tc, identity_unknown_group);
	tcase_add_test(tc, identity_root_refused);
	tcase_add_test(tc, identity_defaults_pass);
	tcase_add_test(tc, identity_default_missing);
	tc = harness_tcase(s, "unix directories", 30);
	tcase_add_test(tc, unix_dir_missing);
	tcase_add_test(tc, unix_dir_not_directory);
	tcase_add_test(tc, unix_dir_runtime_directory);
	tc = harness_tcase(s, "flags", 30);
	tcase_add_test(tc, flags_select_checks);
	tc = harness_tcase(s, "echod -t refuses", 30);
	tcase_add_loop_test(tc, test_config_refuses, 0,
	    (int)(sizeof(refused_as_root) / sizeof(refused_as_root[0])));
	if (root) {
		tc = harness_tcase(s, "as root", 30);
		tcase_add_test(tc, ports_root_may_bind);
		tcase_add_test(tc, test_config_accepts_as_root);
	}
	if (unprivileged) {
		tc = harness_tcase(s, "unprivileged", 30);
		tcase_add_test(tc, ports_unprivileged_refused);
		tcase_add_test(tc, test_config_refuses_privileged_port_unprivileged);
		tcase_add_test(tc, test_config_accepts_passed_sockets);
		tcase_add_test(tc, test_config_ignores_other_sockets);
	}
	return s;
}

int
main(void)
{
	bool root = geteuid() == 0;
	const char *why = unprivileged_setup();
	SRunner *sr = srunner_create(preflight_suite(root, why == NULL));
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed == 0 && why != NULL) {
		/* Reported as a skip, not a pass: the privileged-port cases did not run. */
		printf("%s: the privileged-port cases (as root, as nobody, with passed sockets) "
		    "were not run\n", why);
	}
	return harness_exit_status(failed, why != NULL);
}
