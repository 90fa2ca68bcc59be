/* SPDX-License-Identifier: MIT */
/* check_systemd: socket activation, sd_notify sequence and log targets, over real sockets. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

static void
tcp_echo_ok(int family, int port)
{
	unsigned char out[3000];
	int fd = tcp_connect_port(family, port);

	ck_assert_msg(fd >= 0, "port %d not served", port);
	random_fill(out, sizeof(out), (unsigned)port);
	ck_assert_int_eq(stream_echo_check(fd, out, sizeof(out), 1, 5000), 0);
	close(fd);
}

/* Not served: the connection is refused, or reset before it echoes a byte. */
static void
tcp_not_served(int family, int port)
{
	int fd = tcp_connect_port(family, port);
	char in[16];

	if (fd < 0)
		return;
	(void)send(fd, "ping", 4, MSG_NOSIGNAL);
	ck_assert_msg(peer_closed(fd, 3000), "port %d still open", port);
	ck_assert_int_le(recv(fd, in, sizeof(in), MSG_DONTWAIT), 0);
	close(fd);
}

static void
udp_echo_ok(int port)
{
	int fd = udp_socket_for(AF_INET, port);
	struct pollfd pfd = { fd, POLLIN, 0 };
	char in[64];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send(fd, "datagram", 8, 0), 8);
	ck_assert_int_eq(poll(&pfd, 1, 3000), 1);
	ck_assert_int_eq(recv(fd, in, sizeof(in), 0), 8);
	ck_assert_mem_eq(in, "datagram", 8);
	close(fd);
}

/* What fd holds now (it never blocks), NUL-terminated. */
static void
read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (used + 1 < size && (n = read(fd, buf + used, size - used - 1)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
}

START_TEST(passed_fds_served_and_missing_ones_bound)
{
	static const struct harness_socket passed[] = {
		{ SOCK_STREAM, "127.0.0.1" }, { SOCK_DGRAM, "127.0.0.1" },
	};
	struct echod_proc p;
	int a, b;
	char log[8192] = "";

	harness_init(&p);
	/* a: passed; b: bound by echod, the port free a moment ago. */
	a = harness_listen_set(&p, passed, 2);
	b = harness_free_port();
	harness_write_config(&p, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"udp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; }\n);\n", a, a, b);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, "", true), 0);
	tcp_echo_ok(AF_INET, a);
	udp_echo_ok(a);
	tcp_echo_ok(AF_INET, b);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_ptr_nonnull(strstr(log, "listening on tcp 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(log, "passed by systemd (echo)"));
	ck_assert_ptr_null(strstr(log, "in no configured listener"));
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* Nothing is served that the file does not list, not even what systemd passed. */
START_TEST(unmatched_fd_is_refused_with_a_notice)
{
	struct echod_proc p;
	int a, c, fds[1];
	char log[8192] = "";

	harness_init(&p);
	/* a: passed and configured; c: passed as "extra", and in no listener. */
	a = harness_listen(&p, SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_gt(a, 0);
	fds[0] = harness_socket(SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_ge(fds[0], 0);
	c = harness_socket_port(fds[0]);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", a);
	ck_assert_int_eq(harness_start_passing(&p, NULL, fds, 1, "extra", true), 0);
	tcp_not_served(AF_INET, c);
	tcp_echo_ok(AF_INET, a);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_msg(strstr(log, "is in no configured listener: connections to it are reset") !=
	    NULL,
	    "ports %d (configured) and %d (passed); echod said:\n%s", a, c, log);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* Started by systemd: a listener it cannot open yet does not take the passed ones dark. */
START_TEST(activated_start_serves_what_was_passed_when_a_listener_cannot_open)
{
	struct echod_proc p;
	int a;
	char log[8192] = "";

	harness_init(&p);
	a = harness_listen(&p, SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_gt(a, 0);
	/* 192.0.2.1 (TEST-NET-1) is on no interface here: EADDRNOTAVAIL, whatever the port. */
	harness_write_config(&p, "listeners = (\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"127.0.0.1\"; },\n"
	    "  { protocol = \"tcp\"; port = %d; address = \"192.0.2.1\"; }\n);\n", a, a);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, "", true), 0);
	tcp_echo_ok(AF_INET, a);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_msg(strstr(log, "1 configured listener is not open") != NULL, "%s", log);
	ck_assert_int_eq(harness_stop(&p), 0);
	/* The same file without systemd: nothing was passed, and the start fails. */
	{
		const char *args[] = { "-c", p.conf, "--log-target=stderr", NULL };

		ck_assert_int_eq(harness_run(args, log, sizeof(log)), 69);
		ck_assert_ptr_nonnull(strstr(log, "192.0.2.1"));
	}
	harness_cleanup(&p);
}
END_TEST

/*
 * A passed IPv6-only [::]:P cannot stand in for a listener without address
 * (every IPv4 and IPv6 address): echod binds the rest beside it, and says so.
 */
START_TEST(passed_ipv6_only_wildcard_does_not_hide_ipv4)
{
	struct echod_proc p;
	int a;
	char log[8192] = "";

	if (!harness_have_ipv6()) {
		fprintf(stderr, "no IPv6: IPv6-only wildcard test not run\n");
		return;
	}
	harness_init(&p);
	/* Passed: an IPv6-only [::]:a; echod binds the IPv4 half itself. */
	a = harness_listen(&p, SOCK_STREAM, "::", 0);
	ck_assert_int_gt(a, 0);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; } );\n", a);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, "", true), 0);
	tcp_echo_ok(AF_INET6, a);
	tcp_echo_ok(AF_INET, a);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_msg(strstr(log, "listening on tcp [::]:") != NULL, "%s", log);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

START_TEST(unusable_fds_are_closed_cleanly)
{
	struct echod_proc p;
	int a, pipefd[2], fds[3];
	char log[8192] = "";

	harness_init(&p);
	ck_assert_int_eq(pipe(pipefd), 0);
	close(pipefd[1]);
	fds[0] = pipefd[0];
	fds[1] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	fds[2] = harness_socket(SOCK_STREAM, "127.0.0.1", 0);
	ck_assert_int_ge(fds[2], 0);
	a = harness_socket_port(fds[2]);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", a);
	ck_assert_int_ge(fds[1], 0);
	ck_assert_int_eq(harness_start_passing(&p, NULL, fds, 3, "fifo:seqpacket:echo", true), 0);
	tcp_echo_ok(AF_INET, a);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_ptr_nonnull(strstr(log, "passed fd 3 (fifo) is not a listening stream"));
	ck_assert_ptr_nonnull(strstr(log, "passed fd 4 (seqpacket) is not a listening stream"));
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* A Unix socket listening at dir/name, as a socket unit's ListenStream=PATH. */
static int
unix_listening(const char *dir, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, name);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

/*
 * echod -t with fds[0..n) (n <= 8) passed as fd 3, 4, ... (LISTEN_PID its own):
 * its exit status, and what it printed into out.
 */
static int
test_config_passing(const char *conf, const int *fds, int n, char *out, size_t size)
{
	int pipefd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char count[16], self[16];
		int high[8];

		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		/* Out of the way first: one of fds may already be 3 + i. */
		for (int i = 0; i < n && i < 8; i++)
			high[i] = fcntl(fds[i], F_DUPFD, 100);
		for (int i = 0; i < n && i < 8; i++)
			if (high[i] == -1 || dup2(high[i], 3 + i) == -1)
				_exit(126);
		snprintf(count, sizeof(count), "%d", n);
		snprintf(self, sizeof(self), "%d", (int)getpid());
		setenv("LISTEN_FDS", count, 1);
		setenv("LISTEN_PID", self, 1);
		execl(getenv("ECHOD"), "echod", "-t", "-c", conf, "--log-target=stderr",
		    (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* A few lines: the pipe holds them all until echod -t has exited. */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	read_all(pipefd[0], out, size);
	close(pipefd[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Issue 23: a passed fd that is no socket at all, after one that describes
 * fine (a Unix socket at another path), once freed the first one's path a
 * second time while -t looked for a socket serving the Unix listener
 * (glibc: "double free detected", SIGABRT). Now: the usual error, exit 78.
 */
START_TEST(test_config_with_a_passed_non_socket_reports_cleanly)
{
	struct echod_proc p;
	char out[4096];
	int fds[2];

	harness_init(&p);
	fds[0] = unix_listening(p.dir, "other.sock");
	fds[1] = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fds[1], 0);
	harness_write_config(&p, "listeners = ( { protocol = \"unix\"; "
	    "path = \"%s/missing/echo.sock\"; } );\n", p.dir);
	ck_assert_int_eq(test_config_passing(p.conf, fds, 2, out, sizeof(out)), 78);
	ck_assert_msg(strstr(out, "/missing does not exist") != NULL, "got: %s", out);
	ck_assert_ptr_null(strstr(out, "free"));
	close(fds[0]);
	close(fds[1]);
	harness_cleanup(&p);
}
END_TEST

START_TEST(wildcard_fd_matches_listener_without_address_and_survives_reload)
{
	struct echod_proc p;
	int a, b;
	char log[8192] = "";

	if (!harness_have_ipv6()) {
		fprintf(stderr, "no IPv6: dual-stack wildcard test not run\n");
		return;
	}
	harness_init(&p);
	/* a: a passed dual-stack [::]; b: bound by echod at the reload. */
	a = harness_listen(&p, SOCK_STREAM, NULL, 0);
	ck_assert_int_gt(a, 0);
	b = harness_free_port();
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; } );\n", a);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, "", true), 0);
	tcp_echo_ok(AF_INET, a);
	tcp_echo_ok(AF_INET6, a);
	/* The file no longer names it: systemd's socket stays open, and answers nothing. */
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", b);
	harness_signal(&p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&p, "READY=1", 5000), 0);
	tcp_not_served(AF_INET, a);
	tcp_not_served(AF_INET6, a);
	tcp_echo_ok(AF_INET, b);
	/* Named again: served again, through the same socket. */
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; } );\n", a);
	harness_signal(&p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&p, "READY=1", 5000), 0);
	tcp_echo_ok(AF_INET6, a);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_ptr_nonnull(strstr(log, "in no configured listener"));
	ck_assert_ptr_null(strstr(log, "closing tcp [::]"));
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/* Does pid hold the socket of inode ino open? */
static bool
holds_socket(pid_t pid, unsigned long ino)
{
	char dir[64], target[64], want[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d)) != NULL) {
		ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);

		if (len > 0) {
			target[len] = '\0';
			found = strcmp(target, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/*
 * The inodes of the UDP sockets (IPv4 and IPv6) pid holds that are bound
 * to port; returns how many (at most max). Others' sockets are left out.
 */
static size_t
udp_port_sockets(pid_t pid, int port, unsigned long *out, size_t max)
{
	static const char *const tables[] = { "udp", "udp6" };
	char path[64], line[512];
	size_t n = 0;

	for (size_t t = 0; t < 2; t++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, tables[t]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL && n < max) {
			char local[64];
			unsigned int lport;
			unsigned long ino;

			/* sl local rem st queues tr retrnsmt uid timeout inode */
			if (sscanf(line, " %*s %63s %*s %*s %*s %*s %*s %*s %*s %lu", local,
			    &ino) != 2 || strchr(local, ':') == NULL ||
			    sscanf(strchr(local, ':') + 1, "%x", &lport) != 1)
				continue;
			if ((int)lport == port && holds_socket(pid, ino))
				out[n++] = ino;
		}
		fclose(f);
	}
	return n;
}

/* A STAMP test packet to 127.0.0.1:port: a reply comes back, and it is no echo. */
static void
stamp_reflected(int port)
{
	unsigned char out[44], in[128];
	int fd = udp_socket_for(AF_INET, port);
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	memset(out, 0, sizeof(out));
	out[3] = 1;	/* sequence number 1 */
	ck_assert_int_eq(send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	ck_assert_int_eq(poll(&pfd, 1, harness_scale_ms(3000)), 1);
	n = recv(fd, in, sizeof(in), 0);
	ck_assert_int_ge(n, (ssize_t)sizeof(out));
	ck_assert_msg(memcmp(in, out, sizeof(out)) != 0, "echoed, not reflected");
	close(fd);
}

/*
 * Issue 23: udp and stamp listeners are one kind of socket. A passed
 * 0.0.0.0:P narrowed to a udp listener on 127.0.0.1, then made a stamp
 * listener, was rebound beside systemd's socket: EACCES under the unit's
 * empty capability set when P < 1024. The plan keeps it now: no socket is
 * opened, and systemd's socket reflects STAMP.
 */
START_TEST(passed_udp_socket_becomes_stamp_without_a_rebind)
{
	unsigned long held[4];
	struct echod_proc p;
	char log[8192] = "";
	struct stat st;
	int port, mine;

	harness_init(&p);
	port = harness_listen(&p, SOCK_DGRAM, "0.0.0.0", 0);
	ck_assert_int_gt(port, 0);
	/* The test's copy, to know the socket by its inode. */
	mine = dup(p.listen_fds[p.nlisten - 1]);
	ck_assert_int_ge(mine, 0);
	ck_assert_int_eq(fstat(mine, &st), 0);
	harness_write_config(&p, "listeners = ( { protocol = \"udp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", port);
	ck_assert_int_eq(harness_start_passing(&p, NULL, NULL, 0, "", true), 0);
	udp_echo_ok(port);
	harness_write_config(&p, "listeners = ( { protocol = \"stamp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", port);
	harness_signal(&p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&p, "READY=1", 5000), 0);
	stamp_reflected(port);
	/* One socket on the port, systemd's: nothing was bound beside it. */
	ck_assert_uint_eq(udp_port_sockets(p.pid, port, held, 4), 1);
	ck_assert_uint_eq(held[0], (unsigned long)st.st_ino);
	harness_read_stderr(&p, log, sizeof(log), 300);
	ck_assert_msg(strstr(log, "listening on stamp") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "cannot open") == NULL, "%s", log);
	close(mine);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

/*
 * Issue 23: a reload set SO_REUSEPORT to 0 on every socket, systemd's too:
 * a unit with ReusePort=yes lost it. What systemd set stays as it set it.
 */
START_TEST(passed_socket_options_survive_a_reload)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct echod_proc p;
	socklen_t len = sizeof(sin);
	int fd, mine, on = 1, port;

	harness_init(&p);
	/* As systemd does for ReusePort=yes: set before bind(). */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	/* The test's copy: harness_start_passing() closes the one it passes. */
	mine = dup(fd);
	ck_assert_int_ge(mine, 0);
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", port);
	ck_assert_int_eq(harness_start_passing(&p, NULL, &fd, 1, "echo", false), 0);
	tcp_echo_ok(AF_INET, port);
	harness_signal(&p, SIGHUP);
	ck_assert_int_eq(harness_wait_notify(&p, "READY=1", 5000), 0);
	tcp_echo_ok(AF_INET, port);
	on = 0;
	len = sizeof(on);
	ck_assert_int_eq(getsockopt(mine, SOL_SOCKET, SO_REUSEPORT, &on, &len), 0);
	ck_assert_int_eq(on, 1);
	close(mine);
	ck_assert_int_eq(harness_stop(&p), 0);
	harness_cleanup(&p);
}
END_TEST

START_TEST(systemd_socket_activate_passes_tcp)
{
	struct echod_proc p;
	char listen[64];
	pid_t pid;
	int a, status;

	harness_init(&p);
	a = harness_free_port();
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", a);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", a);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("NOTIFY_SOCKET", p.notify_path, 1);
		execlp("systemd-socket-activate", "systemd-socket-activate", "-l", listen,
		    "-E", "NOTIFY_SOCKET",
		    "--fdname=echo", getenv("ECHOD"), "-c", p.conf, "--log-target=stderr",
		    (char *)NULL);
		_exit(127);
	}
	/* Wait for systemd-socket-activate to listen; echod starts on the first connection. */
	for (int i = 0; i < 100; i++) {
		int fd = tcp_connect_port(AF_INET, a);

		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(50000);
	}
	tcp_echo_ok(AF_INET, a);
	ck_assert_int_eq(harness_wait_notify(&p, "READY=1", 5000), 0);
	tcp_echo_ok(AF_INET, a);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	harness_cleanup(&p);
}
END_TEST

START_TEST(notify_sequence)
{
	struct echod_proc p;
	char seen[8192], *ready, *status, *reloading, *ready2, *stopping;
	int a;

	harness_init(&p);
	a = harness_free_port();
	harness_write_config(&p, "listeners = ( { protocol = \"tcp\"; port = %d; "
	    "address = \"127.0.0.1\"; } );\n", a);
	p.pid = fork();
	ck_assert_int_ge(p.pid, 0);
	if (p.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("NOTIFY_SOCKET", p.notify_path, 1);
		execl(getenv("ECHOD"), "echod", "-c", p.conf, "--log-target=stderr", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(harness_collect_notify(&p, "STATUS=", seen, sizeof(seen), 5000), 0);
	tcp_echo_ok(AF_INET, a);
	harness_signal(&p, SIGHUP);
	ck_assert_int_eq(harness_collect_notify(&p, "READY=1", seen + strlen(seen),
	    sizeof(seen) - strlen(seen), 5000), 0);
	harness_signal(&p, SIGTERM);
	ck_assert_int_eq(harness_collect_notify(&p, "STOPPING=1", seen + strlen(seen),
	    sizeof(seen) - strlen(seen), 5000), 0);
	ck_assert_int_eq(harness_wait_exit(&p, 5000), 0);
	ready = strstr(seen, "READY=1");
	status = strstr(seen, "STATUS=");
	reloading = strstr(seen, "RELOADING=1\nMONOTONIC_USEC=");
	ck_assert_ptr_nonnull(ready);
	ck_assert_ptr_nonnull(status);
	ck_assert_ptr_nonnull(reloading);
	ready2 = strstr(reloading, "READY=1");
	ck_assert_ptr_nonnull(ready2);
	stopping = strstr(ready2, "STOPPING=1");
	ck_assert_ptr_nonnull(stopping);
	ck_assert(ready < reloading);
	harness_cleanup(&p);
}
END_TEST

/* Run echod -t with stderr on fd errfd; returns what it printed there. */
static void
run_with_stderr(const char *conf, int errfd, const char *target, const char *journal_stream)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(errfd, STDERR_FILENO);
		if (journal_stream != NULL)
			setenv("JOURNAL_STREAM", journal_stream, 1);
		/* A config error is logged through the chosen back end, then exit 78. */
		execl(getenv("ECHOD"), "echod", "-c", conf, target, (char *)NULL);
		_exit(127);
	}
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 78);
}

/*
 * A failed start on a pipe prints plain lines, for whoever reads them (issue
 * 15); <N> prefixes only when the pipe is the journal's (JOURNAL_STREAM names
 * it). A running echod's prefixes: check_edges.
 */
START_TEST(startup_errors_on_pipe_plain_unless_journal)
{
	char conf[512], out[4096], stream[64];
	struct stat st;
	int pipefd[2];

	snprintf(conf, sizeof(conf), "%s/port-range.conf", getenv("TEST_DATA"));
	ck_assert_int_eq(pipe(pipefd), 0);
	/* A JOURNAL_STREAM that is not our stderr must not switch to the journal. */
	run_with_stderr(conf, pipefd[1], "--log-target=auto", "1:1");
	close(pipefd[1]);
	read_all(pipefd[0], out, sizeof(out));
	ck_assert_msg(strncmp(out, "echod: ", 7) == 0, "got: %s", out);
	ck_assert_ptr_null(strstr(out, "<3>"));
	ck_assert_ptr_nonnull(strstr(out, "port 70000 out of range"));
	close(pipefd[0]);
	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_eq(fstat(pipefd[1], &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	run_with_stderr(conf, pipefd[1], "--log-target=stderr", stream);
	close(pipefd[1]);
	read_all(pipefd[0], out, sizeof(out));
	ck_assert_msg(strncmp(out, "<3>", 3) == 0, "got: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "port 70000 out of range"));
	close(pipefd[0]);
}
END_TEST

START_TEST(stderr_to_terminal_is_plain)
{
	char conf[512], out[4096];
	int master, slave;

	snprintf(conf, sizeof(conf), "%s/port-range.conf", getenv("TEST_DATA"));
	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	run_with_stderr(conf, slave, "--log-target=stderr", NULL);
	usleep(50000);
	read_all(master, out, sizeof(out));
	ck_assert_msg(strncmp(out, "echod: ", 7) == 0, "got: %s", out);
	ck_assert_ptr_null(strstr(out, "<3>"));
	close(slave);
	close(master);
}
END_TEST

static Suite *
systemd_suite(void)
{
	Suite *s = suite_create("systemd");
	TCase *tc = harness_tcase(s, "activation", 30);

	tcase_add_test(tc, passed_fds_served_and_missing_ones_bound);
	tcase_add_test(tc, unmatched_fd_is_refused_with_a_notice);
	tcase_add_test(tc, passed_ipv6_only_wildcard_does_not_hide_ipv4);
	tcase_add_test(tc, activated_start_serves_what_was_passed_when_a_listener_cannot_open);
	tcase_add_test(tc, unusable_fds_are_closed_cleanly);
	tcase_add_test(tc, test_config_with_a_passed_non_socket_reports_cleanly);
	tcase_add_test(tc, wildcard_fd_matches_listener_without_address_and_survives_reload);
	tcase_add_test(tc, passed_udp_socket_becomes_stamp_without_a_rebind);
	tcase_add_test(tc, passed_socket_options_survive_a_reload);
	tcase_add_test(tc, systemd_socket_activate_passes_tcp);
	tcase_add_test(harness_tcase(s, "notify", 30), notify_sequence);
	tc = harness_tcase(s, "log targets", 30);
	tcase_add_test(tc, startup_errors_on_pipe_plain_unless_journal);
	tcase_add_test(tc, stderr_to_terminal_is_plain);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(systemd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return harness_exit_status(failed, false);
}
