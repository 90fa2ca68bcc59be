/* SPDX-License-Identifier: MIT */
/* Echo servers for echo-client's tests: the table of peers (xinetd), and what all servers share. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client-servers.h"
#include "harness.h"

#define SERVER_READY_S	10

static const char *xinetd_missing(void);
static int xinetd_start(struct test_server *s, int family);
static const char *echod_missing(void);
static int echod_start(struct test_server *s, int family);

const struct peer_kind peer_kinds[] = {
	{ "xinetd", xinetd_start, xinetd_missing, true },
	{ "echod", echod_start, echod_missing, false },
};
const size_t npeer_kinds = sizeof(peer_kinds) / sizeof(peer_kinds[0]);

/* Servers of this process, stopped at exit too: a failed assertion exits the test's
 * process at once, and its servers' scratch directories should not stay behind. */
static struct test_server *server_live[16];

static void
server_track(struct test_server *s, bool on)
{
	for (size_t i = 0; i < sizeof(server_live) / sizeof(server_live[0]); i++) {
		if (on && server_live[i] == NULL) {
			server_live[i] = s;
			return;
		}
		if (!on && server_live[i] == s)
			server_live[i] = NULL;
	}
}

void
server_stop_all(void)
{
	for (size_t i = 0; i < sizeof(server_live) / sizeof(server_live[0]); i++)
		if (server_live[i] != NULL)
			server_stop(server_live[i]);
}

void
server_init(struct test_server *s, int family)
{
	memset(s, 0, sizeof(*s));
	server_track(s, true);
	s->family = family;
	for (size_t i = 0; i < sizeof(s->fds) / sizeof(s->fds[0]); i++)
		s->fds[i] = -1;
}

int
server_mkdir(struct test_server *s)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(s->dir, sizeof(s->dir), "%s/echo-client-test.XXXXXX",
	    tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp");
	if (mkdtemp(s->dir) == NULL) {
		perror("mkdtemp");
		s->dir[0] = '\0';
		return -1;
	}
	return 0;
}

socklen_t
server_addr(struct sockaddr_storage *ss, int family, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	return sizeof(*a);
}

/* A socket bound to loopback; port 0 picks a free one. Returns the fd or -1. */
int
server_bind(int family, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = server_addr(&ss, family, port);
	int fd, on = 1;

	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
server_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

void
server_name(struct test_server *s, int port)
{
	snprintf(s->host, sizeof(s->host), "%s", s->family == AF_INET6 ? "::1" : "127.0.0.1");
	snprintf(s->port, sizeof(s->port), "%d", port);
}

/* A port free for both TCP and UDP right now, for a server that binds it itself. */
static int
server_free_port(int family)
{
	int t, u, port;

	t = server_bind(family, SOCK_STREAM, 0);
	if (t == -1)
		return -1;
	port = server_port_of(t);
	u = server_bind(family, SOCK_DGRAM, port);
	close(t);
	if (u == -1)
		return 0;	/* taken for UDP: the caller tries another */
	close(u);
	return port;
}

bool
server_have_ipv6(void)
{
	int fd = server_bind(AF_INET6, SOCK_STREAM, 0);

	if (fd == -1)
		return false;
	close(fd);
	return true;
}

/*
 * Is it serving yet? TCP: a connection succeeds. UDP: the port is taken. No datagram is
 * sent: xinetd discards datagrams that arrive just after it answered one (it drains its
 * socket), so a probe here could make a test's first datagram vanish. 1 yes, 0 not yet.
 */
static int
server_answers(const struct test_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = server_addr(&ss, s->family, atoi(s->port));
	int fd, ok;

	fd = socket(s->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd != -1 && connect(fd, (struct sockaddr *)&ss, len) == 0;
	if (fd != -1)
		close(fd);
	if (!ok)
		return 0;
	fd = server_bind(s->family, SOCK_DGRAM, atoi(s->port));
	if (fd != -1)
		close(fd);
	return fd == -1 && errno == EADDRINUSE;
}

/* Wait until the child serves, or dies. Polling a readiness probe, not sleeping blind. */
static int
server_wait_ready(struct test_server *s)
{
	time_t limit = time(NULL) + SERVER_READY_S;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int status;

	while (time(NULL) < limit) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		if (server_answers(s))
			return 0;
		nanosleep(&pause, NULL);
	}
	return -1;
}

static const char *
xinetd_path(void)
{
	const char *p = getenv("XINETD");

	return p != NULL ? p : "/usr/sbin/xinetd";
}

static const char *
xinetd_missing(void)
{
	if (access(xinetd_path(), X_OK) != 0)
		return "xinetd is not installed (Debian package xinetd; or set XINETD)";
	if (geteuid() != 0)
		return "xinetd needs a private /etc/hosts, which takes root (see xinetd_spawn)";
	return NULL;
}

/* xinetd's own echo (builtin, "INTERNAL"), stream and datagram, from a private config:
 * UNLISTED because the port is not echo's in /etc/services, and no rate limits, which
 * would otherwise switch the service off in the middle of a test run. */
static int
xinetd_conf(const struct test_server *s, const char *path)
{
	static const char *const types[][3] = {
		{ "echo-stream", "stream", "tcp" },
		{ "echo-dgram", "dgram", "udp" },
	};
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "defaults\n{\n\tlog_type = FILE %s/xinetd.log\n\tinstances = UNLIMITED\n"
	    "\tper_source = UNLIMITED\n\tcps = 100000 1\n"
	    /* Logging a peer's HOST makes xinetd look its name up: DNS, off loopback. */
	    "\tlog_on_success =\n\tlog_on_failure =\n}\n", s->dir);
	for (size_t i = 0; i < 2; i++)
		fprintf(f, "service echo\n{\n\ttype = INTERNAL UNLISTED\n\tid = %s\n"
		    "\tsocket_type = %s\n\tprotocol = %s\n\twait = %s\n\tbind = %s\n%s"
		    "\tport = %s\n}\n", types[i][0], types[i][1], types[i][2],
		    i == 0 ? "no" : "yes", s->host,
		    /* No libwrap: it would look peers' names up, i.e. query DNS off loopback. */
		    s->family == AF_INET6 ? "\tflags = IPv6 NOLIBWRAP\n" : "\tflags = NOLIBWRAP\n",
		    s->port);
	return fclose(f);
}

/*
 * xinetd looks up the name of every peer it serves. ::1 is in no /etc/hosts
 * on some machines, and the lookup would then go to a DNS server: traffic
 * off loopback. In a mount namespace of its own, xinetd gets an /etc/hosts
 * that names both loopback addresses.
 */
static int
private_hosts(const struct test_server *s)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/hosts", s->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n", f);
	if (fclose(f) != 0 || unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	return mount(path, "/etc/hosts", NULL, MS_BIND, NULL);
}

static int
xinetd_spawn(struct test_server *s)
{
	char conf[128], log[128];
	int fd;

	snprintf(conf, sizeof(conf), "%s/xinetd.conf", s->dir);
	snprintf(log, sizeof(log), "%s/xinetd.out", s->dir);
	if (xinetd_conf(s, conf) == -1)
		return -1;
	s->pid = fork();
	if (s->pid == -1)
		return -1;
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (private_hosts(s) == -1) {
			perror("private /etc/hosts for xinetd");
			_exit(126);
		}
		execl(xinetd_path(), "xinetd", "-dontfork", "-f", conf, (char *)NULL);
		_exit(127);
	}
	return 0;
}

/*
 * Start a server process with spawn() on a free port of family and wait until it answers.
 * The port is free when picked but bound by the server later: retry if someone won.
 */
static int
spawned_start(struct test_server *s, int family, int (*spawn)(struct test_server *),
    const char *name, const char *log)
{
	char *out;
	int attempt, port;

	server_init(s, family);
	if (server_mkdir(s) == -1)
		return -1;
	for (attempt = 0; attempt < 5; attempt++) {
		port = server_free_port(family);
		if (port == -1)
			break;
		if (port == 0)
			continue;
		server_name(s, port);
		if (spawn(s) == -1)
			break;
		if (server_wait_ready(s) == 0)
			return 0;
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
			s->pid = 0;
		}
	}
	out = server_file(s, log);
	fprintf(stderr, "%s did not start on %s; its output:\n%s\n", name, s->host,
	    out != NULL ? out : "(none)");
	free(out);
	server_stop(s);
	return -1;
}

static int
xinetd_start(struct test_server *s, int family)
{
	return spawned_start(s, family, xinetd_spawn, "xinetd", "xinetd.out");
}

static const char *
echod_missing(void)
{
	const char *p = getenv("ECHOD");

	return p != NULL && access(p, X_OK) == 0 ? NULL : "echod is not built (set ECHOD)";
}

/* echod itself, TCP and UDP on one loopback port (and ::1 for AF_INET6), from sockets the
 * harness binds and passes as systemd would: no port can be taken in between. */
static int
echod_start(struct test_server *s, int family)
{
	struct harness_service svc = { .workers = 2, .ipv6 = family == AF_INET6 };
	struct echod_proc *p = calloc(1, sizeof(*p));

	server_init(s, family);
	if (p == NULL)
		return -1;
	s->echod = p;
	server_name(s, harness_serve(p, &svc));
	return 0;
}

char *
server_file(const struct test_server *s, const char *name)
{
	char path[128], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (buf != NULL && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

void
server_stop(struct test_server *s)
{
	static const char *const files[] = {
		"xinetd.conf", "xinetd.log", "xinetd.out", "dgrams", "sock",
	};
	char path[128];

	server_track(s, false);
	if (s->echod != NULL) {
		harness_stop(s->echod);
		harness_cleanup(s->echod);
		free(s->echod);
		s->echod = NULL;
	}
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	for (size_t i = 0; i < sizeof(s->fds) / sizeof(s->fds[0]); i++) {
		if (s->fds[i] != -1)
			close(s->fds[i]);
		s->fds[i] = -1;
	}
	if (s->dir[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", s->dir, files[i]);
		unlink(path);
	}
	rmdir(s->dir);
	s->dir[0] = '\0';
}
