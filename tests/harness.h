/* SPDX-License-Identifier: MIT */
/* harness: runs the real echod for integration tests, and small socket helpers. */
#ifndef ECHOD_HARNESS_H
#define ECHOD_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The most sockets harness_listen() holds for one start. */
#define HARNESS_MAX_LISTEN	16

struct echod_proc {
	pid_t pid;
	int notify_fd;			/* NOTIFY_SOCKET the test owns */
	int stderr_fd;			/* read end of echod's stderr, or -1 */
	char dir[64];			/* private temporary directory */
	char conf[128];
	char notify_path[100];		/* fits sun_path */
	int listen_fds[HARNESS_MAX_LISTEN];	/* harness_listen()'s, for the next start */
	int nlisten;
};

/*
 * Every timeout of the harness goes through this: ECHOD_TIMEOUT_SCALE (an
 * integer, set by make check-valgrind) stretches them for a slow echod.
 * Timeouts only bound how long a test waits for an answer; none is asserted.
 */
int	harness_scale_ms(int ms);

/* A test case named name in s, each test of it allowed timeout seconds. */
TCase	*harness_tcase(Suite *s, const char *name, int timeout);

/* A scratch directory and notify socket; echod is not started yet. */
void	harness_init(struct echod_proc *p);
/* Remove the scratch directory (echod must be stopped). */
void	harness_cleanup(struct echod_proc *p);
void	harness_write_config(struct echod_proc *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Start echod on p->conf with extra arguments (NULL-terminated, may be NULL)
 * and wait up to 10 s for READY=1. Returns 0, or -1 if it exited or never
 * became ready. nofile > 0 sets its descriptor limit (soft and hard). The
 * sockets of harness_listen() are passed to it (LISTEN_FDS, each named
 * "echo") and closed here; without any, echod binds its listeners itself.
 */
int	harness_start(struct echod_proc *p, const char *const *args, long nofile);
/*
 * The same, passing fds[0..n) as systemd does: moved to 3, 4, ... with
 * LISTEN_FDS, LISTEN_PID (echod's own pid) and LISTEN_FDNAMES set. The fds
 * are closed in the test process; n == 0 passes nothing (but the sockets of
 * harness_listen(), which go first). stderr_pipe: keep echod's stderr
 * readable on p->stderr_fd.
 */
int	harness_start_passing(struct echod_proc *p, const char *const *args, const int *fds,
	    int n, const char *names, bool stderr_pipe);
/* What echod wrote on stderr so far (needs stderr_pipe), appended to buf. */
void	harness_read_stderr(struct echod_proc *p, char *buf, size_t size, int timeout_ms);
/* Every notify message until one containing text arrives, joined with '|' into buf. */
int	harness_collect_notify(struct echod_proc *p, const char *until, char *buf, size_t size,
	    int timeout_ms);
/* Wait for a notify message containing text; 0 when seen, -1 on timeout. */
int	harness_wait_notify(struct echod_proc *p, const char *text, int timeout_ms);
/* Last STATUS= seen within timeout_ms into buf (0), or -1. */
int	harness_wait_status(struct echod_proc *p, char *buf, size_t size, int timeout_ms);
/* Send a signal; then harness_wait_exit() returns the exit status (-1 on timeout). */
void	harness_signal(struct echod_proc *p, int sig);
int	harness_wait_exit(struct echod_proc *p, int timeout_ms);
/* SIGTERM and wait: the exit status. */
int	harness_stop(struct echod_proc *p);

/* Run echod to completion with args; its stderr goes to out. Returns the exit status. */
int	harness_run(const char *const *args, char *out, size_t size);

/*
 * Sockets for echod, bound here and passed as systemd passes them: no port
 * can be taken between the choice and the bind, since the test holds it
 * from the start. ip: an IPv4 or IPv6 address; NULL: dual-stack [::] (what
 * serves a listener without address, as ListenStream=PORT does); "::":
 * IPv6 only. port 0: the kernel picks a free one.
 *
 * harness_socket: a socket of type bound there, listening if a stream; the
 * caller owns it. -1 when it cannot be bound (errno: EADDRINUSE, ...).
 */
int	harness_socket(int type, const char *ip, int port);
/* The port fd is bound to. */
int	harness_socket_port(int fd);
/*
 * harness_socket(), held in p for the next harness_start*() of p (closed
 * by harness_cleanup() if none comes). Returns the port, or -1 with errno.
 */
int	harness_listen(struct echod_proc *p, int type, const char *ip, int port);

/* One socket of a set for harness_listen_set(). */
struct harness_socket {
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	const char *ip;			/* as for harness_socket() */
};
/*
 * harness_listen() for each of set[0..n) on one port, the first one's
 * choice: when a later one finds it taken (UDP and TCP ports, IPv4 and IPv6
 * are separate), the set is given back and tried again on another. Returns
 * the port; fails the test when none would do.
 */
int	harness_listen_set(struct echod_proc *p, const struct harness_socket *set, int n);

/* The echod most tests need; zero is the default of every field. */
struct harness_service {
	int workers;			/* 0: 1 */
	bool ipv6;			/* TCP and UDP on ::1 too, when the host has IPv6 */
	const char *unix_name;		/* a Unix listener DIR/unix_name, bound by echod */
	const char *limits;		/* inside "limits = { ... };", or NULL */
	const char *settings;		/* more top-level settings ("user = x;\n"), or NULL */
	long nofile;			/* as for harness_start() */
	bool stderr_pipe;		/* as for harness_start_passing() */
	/*
	 * echod binds its ports itself (harness_free_port()), for the tests
	 * of that path: a port taken before echod binds it is tried again.
	 */
	bool self_bind;
};
/*
 * harness_init(p), a configuration of TCP and UDP on 127.0.0.1:PORT (and
 * what svc adds), sockets bound here and passed, and echod started and ready
 * (or the test fails). Returns PORT.
 */
int	harness_serve(struct echod_proc *p, const struct harness_service *svc);

/*
 * A port free for TCP and UDP on 127.0.0.1 and ::1 right now, for the tests
 * where echod binds itself: another process may take it before echod does.
 */
int	harness_free_port(void);
/* Is there an IPv6 loopback? When not, the caller skips a part: harness_skip() is recorded. */
bool	harness_have_ipv6(void);
/*
 * Part of a test cannot run here (no IPv6 loopback, say): say why on stderr
 * and remember it across Check's forks, so that harness_exit_status()
 * reports the suite as skipped (77), never as a plain pass.
 */
void	harness_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * main()'s exit status: EXIT_FAILURE when a test failed; else 77 when any
 * part was skipped (each reason printed once) or skipped_too is set; else
 * EXIT_SUCCESS.
 */
int	harness_exit_status(int failed, bool skipped_too);

int	tcp_connect_port(int family, int port);
int	unix_connect_path(const char *path);
int	udp_socket_for(int family, int port);
/* Send and receive all of buf, interleaved with poll (never deadlocks); chunked at random. */
int	stream_echo_check(int fd, const unsigned char *buf, size_t len, unsigned seed,
	    int timeout_ms);
/* Read exactly len bytes within timeout_ms; returns bytes read (less on EOF/timeout). */
size_t	recv_exact(int fd, void *buf, size_t len, int timeout_ms);
/* Is the peer's end closed (EOF or reset) within timeout_ms? */
bool	peer_closed(int fd, int timeout_ms);
void	random_fill(unsigned char *buf, size_t len, unsigned seed);

long	proc_rss_kb(pid_t pid);
long	proc_cpu_ticks(pid_t pid);
int	proc_threads(pid_t pid);

/*
 * Reloads (issue 11). Every reload test configures its control socket as
 * DIR/control, DIR being the harness's private directory.
 */
void	harness_control_path(const struct echod_proc *p, char *buf, size_t size);
/*
 * Run $ECHODCTL -s DIR/control COMMAND ("reload", "status"): its stdout into
 * out (its stderr stays the test's). Returns its exit status.
 */
int	harness_echodctl(const struct echod_proc *p, const char *command, char *out,
	    size_t size);
/*
 * Wait until echod has sent no notify message but its periodic STATUS= and
 * WATCHDOG= for quiet_ms: 0, or -1 after timeout_ms.
 */
int	harness_wait_quiet(struct echod_proc *p, int quiet_ms, int timeout_ms);
struct sockaddr_storage;
/* ip (IPv4 or IPv6 text) and port into ss; returns its length, 0 if ip is no address. */
int	harness_sockaddr(const char *ip, int port, struct sockaddr_storage *ss);
/* A TCP socket connected to ip:port, or -1 (errno says why). */
int	tcp_connect_ip(const char *ip, int port);
/* A dual-stack [::]:port socket as systemd passes one: bound, and listening if a stream. */
int	harness_wildcard_socket(int type, int port);

/* What a stream connection made of a probe. */
enum probe_result {
	PROBE_REFUSED,		/* the connection could not be made */
	PROBE_CLOSED,		/* closed or reset by the peer before anything came back */
	PROBE_ECHOED,		/* the bytes came back */
	PROBE_SILENT,		/* open, but nothing came back within the wait */
	PROBE_GARBLED,		/* something else came back */
};
/* Send a few bytes on fd (a connected stream, or -1) and see what comes back; closes fd. */
enum probe_result stream_probe(int fd, int timeout_ms);
const char *probe_result_name(enum probe_result r);

#endif
