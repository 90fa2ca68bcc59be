/* SPDX-License-Identifier: MIT */
/* Echo servers for echo-client's tests: peers no one here wrote, and small misbehaving fakes. */
#ifndef ECHOD_TESTS_CLIENT_SERVERS_H
#define ECHOD_TESTS_CLIENT_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct test_server {
	pid_t pid;		/* the server process, 0 when in-process or stopped */
	int family;		/* AF_INET, AF_INET6 or AF_UNIX */
	char host[128];		/* "127.0.0.1", "::1" or "unix:/tmp/.../sock": echo-client's HOST */
	char port[8];		/* "40123"; empty for AF_UNIX */
	char dir[64];		/* scratch directory: configuration, logs, sockets */
	int fds[4];		/* in-process sockets held open while the test runs */
	void *echod;		/* echod started by harness_serve() (struct echod_proc) */
};

/*
 * An echo server someone else wrote, serving TCP and UDP on one loopback port. Each row is
 * one kind; the tests loop over all rows and both address families. To add a server
 * (echod, say), write its start function and add a row in client-servers.c.
 */
struct peer_kind {
	const char *name;
	/* Start on a free port of 127.0.0.1 (AF_INET) or ::1 (AF_INET6), ready to answer.
	 * Returns 0, or -1 after printing why. */
	int (*start)(struct test_server *s, int family);
	/* NULL when usable, else why this machine cannot run it (the test run is skipped). */
	const char *(*missing)(void);
	/* The server may discard UDP datagrams that arrive back to back (xinetd reads and
	 * drops whatever is queued right after it answered), so tests sending several
	 * datagrams check accounting rather than demand that all come back. */
	bool udp_lossy;
};

extern const struct peer_kind peer_kinds[];
extern const size_t npeer_kinds;

/* What a fake server does. */
enum fake_stream {
	FAKE_ECHO,	/* echo at once (flipping byte corrupt_at of each connection) */
	FAKE_SINK,	/* read and never answer */
	FAKE_JOIN,	/* read until the client half-closes, then answer all in one write */
	FAKE_RESET,	/* read, then reset the connection (RST: SO_LINGER 0) */
};

struct fake_spec {
	int socktype;		/* SOCK_STREAM (AF_UNIX too) or SOCK_DGRAM */
	enum fake_stream stream;
	long corrupt_at;	/* stream offset to corrupt, -1 for none */
	/* For each datagram in turn, the script repeating: e echo, d drop, c corrupt one
	 * byte, t truncate to half, 2 echo twice, h hold until the next datagram comes and
	 * answer it first then, r hold it and answer it after the next one (reordering).
	 * Every datagram's length is logged to dir/dgrams. */
	const char *script;
};

/* Start a fake server (in a child process) on a free port of family (or on dir/sock for
 * AF_UNIX). Returns 0, or -1 after printing why. */
int fake_start(struct test_server *s, int family, const struct fake_spec *spec);

/* A TCP port whose accept queue is full, so that connecting times out. Returns 0 or -1. */
int stuck_start(struct test_server *s);

/* A TCP port where a socket is bound but not listening: connections are refused. */
int refusing_start(struct test_server *s);

/* A UDP port nobody is bound to (ICMP port unreachable). */
int closed_udp_port(struct test_server *s);

/* Stop the server, close its sockets, remove its scratch directory. */
void server_stop(struct test_server *s);

/* Stop every server this process started and has not stopped (for atexit()). */
void server_stop_all(void);

/* True when ::1 can be bound here. */
bool server_have_ipv6(void);

/* Building blocks for server implementations (client-servers.c, client-fakes.c). */
struct sockaddr_storage;
void server_init(struct test_server *s, int family);	/* zero s; stopped at exit too */
int server_mkdir(struct test_server *s);		/* create s->dir */
/* Loopback address of family with port; returns its length. */
socklen_t server_addr(struct sockaddr_storage *ss, int family, int port);
/* A socket bound to loopback (port 0: a free one). Returns it, or -1 with errno. */
int server_bind(int family, int type, int port);
int server_port_of(int fd);
void server_name(struct test_server *s, int port);	/* fill host and port */

/* Read dir/name of the server into a malloc()ed string, NULL when missing. */
char *server_file(const struct test_server *s, const char *name);

#endif
