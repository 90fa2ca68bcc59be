/* SPDX-License-Identifier: MIT */
/* harness: runs the real echod for integration tests, and small socket helpers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

static void harness_give_dir(struct echod_proc *p);

int
harness_scale_ms(int ms)
{
	static int scale;

	if (scale == 0) {
		const char *env = getenv("ECHOD_TIMEOUT_SCALE");

		scale = env != NULL && atoi(env) > 0 ? atoi(env) : 1;
	}
	return ms * scale;
}

static const char *
echod_path(void)
{
	const char *p = getenv("ECHOD");

	return p != NULL ? p : "../src/echod";
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TCase *
harness_tcase(Suite *s, const char *name, int timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

void
harness_init(struct echod_proc *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->stderr_fd = -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/echod-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(p->dir));
	snprintf(p->conf, sizeof(p->conf), "%s/echod.conf", p->dir);
	snprintf(p->notify_path, sizeof(p->notify_path), "%.60s/notify", p->dir);
	p->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(p->notify_fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->notify_path);
	ck_assert_int_eq(bind(p->notify_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	harness_give_dir(p);
}

/*
 * Started as root, echod drops to nobody/nogroup (its default user and
 * group) once its listeners are open: it must still reach the notify
 * socket, re-read its configuration on reload, and remove its Unix sockets.
 */
static void
harness_give_dir(struct echod_proc *p)
{
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return;
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	ck_assert_msg(pw != NULL && gr != NULL, "running as root without nobody/nogroup");
	ck_assert_int_eq(chown(p->dir, pw->pw_uid, gr->gr_gid), 0);
	ck_assert_int_eq(chown(p->notify_path, pw->pw_uid, gr->gr_gid), 0);
}

void
harness_cleanup(struct echod_proc *p)
{
	char cmd[128];

	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
	}
	if (p->notify_fd >= 0)
		close(p->notify_fd);
	if (p->stderr_fd >= 0)
		close(p->stderr_fd);
	for (int i = 0; i < p->nlisten; i++)
		close(p->listen_fds[i]);
	p->nlisten = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", p->dir);
}

void
harness_write_config(struct echod_proc *p, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	FILE *f;

	/* Written aside and renamed: a reload never reads half a file. */
	snprintf(tmp, sizeof(tmp), "%s.new", p->conf);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, p->conf), 0);
}

static int read_notify(struct echod_proc *p, char *buf, size_t size, int timeout_ms);

static void
exec_echod(struct echod_proc *p, const char *const *args, long nofile, int errpipe)
{
	const char *argv[32];
	int n = 0;

	/* Never outlive the test process, even when an assertion kills it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (nofile > 0) {
		struct rlimit rl = { (rlim_t)nofile, (rlim_t)nofile };

		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (errpipe >= 0)
		dup2(errpipe, STDERR_FILENO);
	setenv("NOTIFY_SOCKET", p->notify_path, 1);
	/* As systemd's RuntimeDirectory= would: the control socket goes to p->dir/control. */
	setenv("RUNTIME_DIRECTORY", p->dir, 1);
	argv[n++] = echod_path();
	argv[n++] = "-c";
	argv[n++] = p->conf;
	argv[n++] = "--log-target=stderr";
	for (int i = 0; args != NULL && args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/*
 * In the child: the sockets held in p, then fds[0..n), moved to 3, 4, ...
 * with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES ("echo" for p's, then names).
 */
static void
pass_fds(const struct echod_proc *p, const int *fds, int n, const char *names)
{
	char count[16], pid[16], all[512];
	int moved[HARNESS_MAX_LISTEN + 32], total = 0;

	ck_assert_int_le(n, 32);
	all[0] = '\0';
	/* Move them above the target range first, so that no dup2 clobbers another. */
	for (int i = 0; i < p->nlisten; i++) {
		moved[total++] = fcntl(p->listen_fds[i], F_DUPFD, 100);
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%secho",
		    i > 0 ? ":" : "");
	}
	for (int i = 0; i < n; i++)
		moved[total++] = fcntl(fds[i], F_DUPFD, 100);
	if (n > 0)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
		    p->nlisten > 0 ? ":" : "", names);
	for (int i = 0; i < total; i++) {
		dup2(moved[i], 3 + i);
		close(moved[i]);
	}
	snprintf(count, sizeof(count), "%d", total);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_FDS", count, 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDNAMES", all, 1);
}

/* Fork and exec echod (see harness_start_passing()); waits for READY=1. */
static int
spawn(struct echod_proc *p, const char *const *args, long nofile, const int *fds, int n,
    const char *names, bool stderr_pipe)
{
	int errpipe[2] = { -1, -1 };

	if (stderr_pipe)
		ck_assert_int_eq(pipe(errpipe), 0);
	p->pid = fork();
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		/* None: no LISTEN_* at all, as when started without socket activation. */
		if (n > 0 || p->nlisten > 0)
			pass_fds(p, fds, n, names);
		exec_echod(p, args, nofile, errpipe[1]);
	}
	/* echod has them now: a copy left here would keep a port open that echod closed. */
	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int i = 0; i < p->nlisten; i++)
		close(p->listen_fds[i]);
	p->nlisten = 0;
	if (stderr_pipe) {
		close(errpipe[1]);
		p->stderr_fd = errpipe[0];
		fcntl(p->stderr_fd, F_SETFL, O_NONBLOCK);
	}
	return harness_wait_notify(p, "READY=1", 10000);
}

int
harness_start_passing(struct echod_proc *p, const char *const *args, const int *fds, int n,
    const char *names, bool stderr_pipe)
{
	return spawn(p, args, 0, fds, n, names, stderr_pipe);
}

void
harness_read_stderr(struct echod_proc *p, char *buf, size_t size, int timeout_ms)
{
	size_t used = strlen(buf);
	long deadline = now_ms() + harness_scale_ms(timeout_ms);

	while (used + 1 < size && now_ms() < deadline) {
		struct pollfd pfd = { p->stderr_fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(p->stderr_fd, buf + used, size - used - 1);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
}

int
harness_collect_notify(struct echod_proc *p, const char *until, char *out, size_t size,
    int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	char buf[4096];

	out[0] = '\0';
	while (now_ms() < deadline) {
		if (read_notify(p, buf, sizeof(buf), 100) != 0)
			continue;
		if (strlen(out) + strlen(buf) + 2 < size) {
			strcat(out, buf);
			strcat(out, "|");
		}
		if (strstr(buf, until) != NULL)
			return 0;
	}
	return -1;
}

int
harness_start(struct echod_proc *p, const char *const *args, long nofile)
{
	return spawn(p, args, nofile, NULL, 0, "", false);
}

static int
read_notify(struct echod_proc *p, char *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { p->notify_fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	n = recv(p->notify_fd, buf, size - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int
harness_wait_notify(struct echod_proc *p, const char *text, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	char buf[4096];

	while (now_ms() < deadline) {
		if (p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = -1;
			return -1;
		}
		if (read_notify(p, buf, sizeof(buf), 100) == 0 && strstr(buf, text) != NULL)
			return 0;
	}
	return -1;
}

int
harness_wait_status(struct echod_proc *p, char *out, size_t size, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	char buf[4096], *s;

	while (now_ms() < deadline) {
		if (read_notify(p, buf, sizeof(buf), 100) != 0)
			continue;
		if ((s = strstr(buf, "STATUS=")) != NULL) {
			snprintf(out, size, "%s", s + 7);
			return 0;
		}
	}
	return -1;
}

void
harness_signal(struct echod_proc *p, int sig)
{
	ck_assert_int_gt(p->pid, 0);
	ck_assert_int_eq(kill(p->pid, sig), 0);
}

int
harness_wait_exit(struct echod_proc *p, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	int status;

	while (now_ms() < deadline) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		if (r == p->pid) {
			p->pid = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(5000);
	}
	return -1;
}

int
harness_stop(struct echod_proc *p)
{
	harness_signal(p, SIGTERM);
	return harness_wait_exit(p, 5000);
}

int
harness_run(const char *const *args, char *out, size_t size)
{
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *argv[32];
		int k = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		argv[k++] = echod_path();
		for (int i = 0; args[i] != NULL && k < 31; i++)
			argv[k++] = args[i];
		argv[k] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (used + 1 < size && (n = read(pipefd[0], out + used, size - used - 1)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static socklen_t
loopback(int family, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*sin);
}

static int
port_is_free(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd, ok;

	fd = socket(family, type, 0);
	if (fd == -1)
		return family == AF_INET6;	/* no IPv6: nothing can collide there */
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

int
harness_free_port(void)
{
	static unsigned salt;
	static int given[64];	/* handed out already: free until the test binds them */
	static unsigned ngiven;

	/*
	 * Random, checked on every protocol and family echod may use, and below
	 * the kernel's ephemeral range (32768 and up by default): the client
	 * sockets of suites running in parallel (make -j) cannot take it between
	 * this check and echod's bind. Never one of the last 64 given: two ports
	 * picked before either is bound would otherwise be the same, now and then.
	 */
	srand((unsigned)getpid() ^ (unsigned)now_ms() ^ (salt += 7919));
	for (int tries = 0; tries < 1000; tries++) {
		int port = 20000 + rand() % 12000;
		bool seen = false;

		for (unsigned i = 0; i < ngiven && i < 64; i++)
			seen |= given[i] == port;
		if (!seen && port_is_free(AF_INET, SOCK_STREAM, port) &&
		    port_is_free(AF_INET, SOCK_DGRAM, port) &&
		    port_is_free(AF_INET6, SOCK_STREAM, port) &&
		    port_is_free(AF_INET6, SOCK_DGRAM, port)) {
			given[ngiven++ % 64] = port;
			return port;
		}
	}
	ck_abort_msg("no free port");
	return -1;
}

bool
harness_have_ipv6(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd == -1) {
		harness_skip("no IPv6 loopback: the IPv6 part of a test was not run");
		return false;
	}
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	if (!ok)
		harness_skip("no IPv6 loopback: the IPv6 part of a test was not run");
	return ok;
}

/* Where skips are written: named by the suite's own pid, shared by the tests it forks. */
static char skip_path[64];

__attribute__((constructor)) static void
skip_path_init(void)
{
	snprintf(skip_path, sizeof(skip_path), "/tmp/echod-test-skips.%ld", (long)getpid());
}

void
harness_skip(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	fprintf(stderr, "skipped: %s\n", line);
	strcat(line, "\n");
	fd = open(skip_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd != -1) {
		if (write(fd, line, strlen(line)) < 0)
			fprintf(stderr, "harness_skip: %s: %s\n", skip_path, strerror(errno));
		close(fd);
	}
}

int
harness_exit_status(int failed, bool skipped_too)
{
	char line[256], seen[16][256];
	size_t nseen = 0;
	bool skipped = false;
	FILE *f = fopen(skip_path, "r");

	/* Each reason once: a suite asks harness_have_ipv6() in many tests. */
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		bool dup = false;

		skipped = true;
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = strcmp(seen[i], line) == 0;
		if (dup || nseen == sizeof(seen) / sizeof(seen[0]))
			continue;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", line);
		printf("SKIP: %s", line);
	}
	if (f != NULL)
		fclose(f);
	unlink(skip_path);
	if (failed > 0)
		return EXIT_FAILURE;
	return skipped || skipped_too ? 77 : EXIT_SUCCESS;
}

/* A socket of type connected to the loopback address of family at port, or -1. */
static int
loopback_connect(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
tcp_connect_port(int family, int port)
{
	return loopback_connect(family, SOCK_STREAM, port);
}

int
unix_connect_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

int
udp_socket_for(int family, int port)
{
	return loopback_connect(family, SOCK_DGRAM, port);
}

void
random_fill(unsigned char *buf, size_t len, unsigned seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

int
stream_echo_check(int fd, const unsigned char *buf, size_t len, unsigned seed, int timeout_ms)
{
	unsigned char *got = malloc(len + 1);
	size_t sent = 0, recvd = 0;
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	int ok = -1;

	ck_assert_ptr_nonnull(got);
	srand(seed);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (recvd < len && now_ms() < deadline) {
		struct pollfd pfd = { fd, POLLIN | (sent < len ? POLLOUT : 0), 0 };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (sent < len && (pfd.revents & POLLOUT)) {
			/* Random chunks: the server must cope with any split. */
			size_t chunk = 1 + (size_t)rand() % 70000;

			if (chunk > len - sent)
				chunk = len - sent;
			n = send(fd, buf + sent, chunk, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, got + recvd, len - recvd, 0);
			if (n <= 0 && !(n == -1 && errno == EAGAIN))
				break;
			if (n > 0)
				recvd += (size_t)n;
		}
	}
	if (recvd == len && memcmp(got, buf, len) == 0)
		ok = 0;
	else
		fprintf(stderr, "stream echo: sent %zu, received %zu of %zu\n", sent, recvd, len);
	free(got);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return ok;
}

size_t
recv_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (n > 0)
			got += (size_t)n;
	}
	return got;
}

bool
peer_closed(int fd, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	char c;

	while (now_ms() < deadline) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return true;
	}
	return false;
}

static long
status_field_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			value = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return value;
}

long
proc_rss_kb(pid_t pid)
{
	return status_field_kb(pid, "VmRSS:");
}

int
proc_threads(pid_t pid)
{
	return (int)status_field_kb(pid, "Threads:");
}

long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* Fields after the command name: state is 3rd, utime 14th, stime 15th. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
	return (long)(utime + stime);
}

void
harness_control_path(const struct echod_proc *p, char *buf, size_t size)
{
	snprintf(buf, size, "%s/control", p->dir);
}

static const char *
echodctl_path(void)
{
	const char *p = getenv("ECHODCTL");

	return p != NULL ? p : "../src/echodctl";
}

int
harness_echodctl(const struct echod_proc *p, const char *command, char *out, size_t size)
{
	char cmd[512], control[128], rest[512];
	size_t used = 0, n;
	FILE *f;
	int status;

	/* -T only bounds the wait: a reload answers once every worker has applied it. */
	harness_control_path(p, control, sizeof(control));
	snprintf(cmd, sizeof(cmd), "'%s' -s '%s' -T %d %s", echodctl_path(), control,
	    harness_scale_ms(30000) / 1000, command);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (used + 1 < size && (n = fread(out + used, 1, size - used - 1, f)) > 0)
		used += n;
	out[used] = '\0';
	/* Whatever did not fit is read all the same, so that echodctl never blocks on us. */
	while (fread(rest, 1, sizeof(rest), f) > 0)
		continue;
	status = pclose(f);
	ck_assert_int_ne(status, -1);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Only what echod sends on its own every second or so: STATUS= and WATCHDOG= lines. */
static bool
notify_is_periodic(const char *msg)
{
	for (const char *line = msg; *line != '\0'; ) {
		const char *end = strchr(line, '\n');

		if (strncmp(line, "STATUS=", 7) != 0 && strncmp(line, "WATCHDOG=", 9) != 0)
			return false;
		if (end == NULL)
			break;
		line = end + 1;
	}
	return true;
}

int
harness_wait_quiet(struct echod_proc *p, int quiet_ms, int timeout_ms)
{
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	long quiet_since = now_ms();
	char buf[4096];

	while (now_ms() < deadline) {
		long left = quiet_since + harness_scale_ms(quiet_ms) - now_ms();

		/* Nothing within what is left of the window (0: nothing pending now). */
		if (read_notify(p, buf, sizeof(buf), left > 0 ? (int)left : 0) != 0)
			return 0;
		if (!notify_is_periodic(buf))
			quiet_since = now_ms();
	}
	return -1;
}

int
harness_sockaddr(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return (int)sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return (int)sizeof(*sin6);
	}
	return 0;
}

int
tcp_connect_ip(const char *ip, int port)
{
	struct sockaddr_storage ss;
	struct timeval tv = { harness_scale_ms(5000) / 1000, 0 };
	int len = harness_sockaddr(ip, port, &ss), fd, saved;

	ck_assert_msg(len > 0, "not an address: %s", ip);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	/* Bounds connect() too: a listener nobody accepts on ends up dropping SYNs. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
harness_socket(int type, const char *ip, int port)
{
	struct sockaddr_storage ss;
	int len = harness_sockaddr(ip != NULL ? ip : "::", port, &ss);
	int fd, on = 1, v6only = ip != NULL, saved;

	ck_assert_msg(len > 0, "not an address: %s", ip);
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/*
	 * What systemd does: SO_REUSEADDR on every socket (echod relies on it to
	 * bind 127.0.0.1:P beside a passed [::]:P), and IPV6_V6ONLY off for a
	 * wildcard unless asked (BindIPv6Only=both).
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == -1 ||
	    (type == SOCK_STREAM && listen(fd, SOMAXCONN) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
harness_socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int
harness_listen(struct echod_proc *p, int type, const char *ip, int port)
{
	int fd;

	ck_assert_int_lt(p->nlisten, HARNESS_MAX_LISTEN);
	fd = harness_socket(type, ip, port);
	if (fd == -1)
		return -1;
	p->listen_fds[p->nlisten++] = fd;
	return harness_socket_port(fd);
}

int
harness_listen_set(struct echod_proc *p, const struct harness_socket *set, int n)
{
	int base = p->nlisten;

	/*
	 * Holding a port keeps it out of the kernel's ephemeral choices, but only
	 * in that protocol: a UDP client may hold the port a TCP listener got.
	 */
	for (int tries = 0; tries < 100; tries++) {
		int port = 0, i;

		for (i = 0; i < n; i++) {
			int got = harness_listen(p, set[i].type, set[i].ip, port);

			if (got == -1)
				break;
			port = got;
		}
		if (i == n)
			return port;
		ck_assert_msg(errno == EADDRINUSE, "cannot bind %s port %d: %s",
		    set[i].ip != NULL ? set[i].ip : "[::]", port, strerror(errno));
		while (p->nlisten > base)
			close(p->listen_fds[--p->nlisten]);
	}
	ck_abort_msg("no port free for all %d sockets in 100 tries", n);
	return -1;
}

/* svc's configuration on port; its listeners other than Unix on port. */
static void
serve_config(struct echod_proc *p, const struct harness_service *svc, int port, bool ipv6)
{
	char unix_listener[256] = "", ip6[256] = "";

	if (svc->unix_name != NULL)
		snprintf(unix_listener, sizeof(unix_listener),
		    ",\n  { protocol = \"unix\"; path = \"%s/%s\"; }", p->dir, svc->unix_name);
	if (ipv6)
		snprintf(ip6, sizeof(ip6),
		    ",\n  { protocol = \"tcp\"; port = %d; address = \"::1\"; },\n"
		    "  { protocol = \"udp\"; port = %d; address = \"::1\"; }", port, port);
	harness_write_config(p,
	    "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; }%s%s\n"
	    ");\n%slimits = { %s };\nworkers = %d;\n",
	    port, port, ip6, unix_listener, svc->settings != NULL ? svc->settings : "",
	    svc->limits != NULL ? svc->limits : "", svc->workers > 0 ? svc->workers : 1);
}

int
harness_serve(struct echod_proc *p, const struct harness_service *svc)
{
	static const struct harness_socket set[] = {
		{ SOCK_STREAM, "127.0.0.1" }, { SOCK_DGRAM, "127.0.0.1" },
		{ SOCK_STREAM, "::1" }, { SOCK_DGRAM, "::1" },
	};
	bool ipv6 = svc->ipv6 && harness_have_ipv6();
	int port;

	if (svc->self_bind) {
		/* A port free when picked may be another's before echod binds it: 3 tries. */
		for (int attempt = 1; attempt <= 3; attempt++) {
			harness_init(p);
			port = harness_free_port();
			serve_config(p, svc, port, ipv6);
			if (spawn(p, NULL, svc->nofile, NULL, 0, "", svc->stderr_pipe) == 0)
				return port;
			fprintf(stderr, "echod did not become ready on port %d (attempt %d)\n",
			    port, attempt);
			harness_cleanup(p);
		}
		ck_abort_msg("echod did not become ready");
	}
	harness_init(p);
	port = harness_listen_set(p, set, ipv6 ? 4 : 2);
	serve_config(p, svc, port, ipv6);
	if (spawn(p, NULL, svc->nofile, NULL, 0, "", svc->stderr_pipe) != 0) {
		char err[4096] = "";

		if (svc->stderr_pipe)
			harness_read_stderr(p, err, sizeof(err), 500);
		ck_abort_msg("echod on port %d did not become ready%s%s", port,
		    err[0] != '\0' ? ": " : "", err);
	}
	return port;
}

int
harness_wildcard_socket(int type, int port)
{
	int fd = harness_socket(type, NULL, port);

	ck_assert_msg(fd >= 0, "cannot bind [::]:%d: %s", port, strerror(errno));
	return fd;
}

enum probe_result
stream_probe(int fd, int timeout_ms)
{
	static const char ping[] = "are you there?\n";
	const size_t len = sizeof(ping) - 1;
	long deadline = now_ms() + harness_scale_ms(timeout_ms);
	enum probe_result r = PROBE_SILENT;
	char got[sizeof(ping)];
	size_t have = 0;

	if (fd == -1)
		return PROBE_REFUSED;
	/* A reset that came before the send fails the send: closed all the same. */
	if (send(fd, ping, len, MSG_NOSIGNAL) != (ssize_t)len)
		r = PROBE_CLOSED;
	while (r == PROBE_SILENT && now_ms() < deadline) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recv(fd, got + have, len - have, MSG_DONTWAIT);
		if (n > 0 && (have += (size_t)n) == len)
			r = memcmp(got, ping, len) == 0 ? PROBE_ECHOED : PROBE_GARBLED;
		else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			r = have == 0 ? PROBE_CLOSED : PROBE_GARBLED;
	}
	close(fd);
	return r;
}

const char *
probe_result_name(enum probe_result r)
{
	static const char *const names[] = {
		[PROBE_REFUSED] = "refused", [PROBE_CLOSED] = "closed without an echo",
		[PROBE_ECHOED] = "echoed", [PROBE_SILENT] = "open but silent",
		[PROBE_GARBLED] = "answered something else",
	};

	return names[r];
}
