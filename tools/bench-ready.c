/* SPDX-License-Identifier: MIT */
/* bench-ready: time from starting a server to its READY=1 on a NOTIFY_SOCKET we own. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define READY_MAX_RUNS	100

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Bind an abstract datagram socket (no file to clean up) and name it as NOTIFY_SOCKET wants. */
static int
ready_socket(char *name, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	snprintf(name, size, "@echod-bench-ready-%d", (int)getpid());
	len = strlen(name);
	memcpy(sun.sun_path + 1, name + 1, len - 1);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* True when a datagram holds the line READY=1 (sd_notify sends newline-separated pairs). */
static bool
ready_seen(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) >= 0) {
		buf[n] = '\0';
		for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
			if (strcmp(line, "READY=1") == 0)
				return true;
		}
	}
	return false;
}

/* SIGTERM, then SIGKILL after 2 s: the child never outlives a run. */
static void
ready_stop(pid_t pid)
{
	double deadline = now_ms() + 2000;
	struct timespec ts = { 0, 5000000 };
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* One start: milliseconds from fork() to READY=1, or -1 (message printed). */
static double
ready_once(int fd, const char *name, char **argv, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double t0, deadline;
	int status;
	pid_t pid;

	while (recv(fd, &status, sizeof(status), 0) >= 0)
		;	/* whatever an earlier run left behind */
	t0 = now_ms();
	deadline = t0 + timeout_ms;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", name, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "bench-ready: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (now_ms() < deadline) {
		if (poll(&pfd, 1, 2) > 0 && ready_seen(fd)) {
			double t = now_ms() - t0;

			ready_stop(pid);
			return t;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "bench-ready: %s exited before READY=1\n", argv[0]);
			return -1;
		}
	}
	fprintf(stderr, "bench-ready: no READY=1 within %d ms\n", timeout_ms);
	ready_stop(pid);
	return -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int ch, runs = 5, timeout_ms = 5000, json = 0, fd, i, ok = 0;
	double t[READY_MAX_RUNS];
	char name[64];

	while ((ch = getopt(argc, argv, "+n:t:j")) != -1) {
		if (ch == 'n')
			runs = atoi(optarg);
		else if (ch == 't')
			timeout_ms = atoi(optarg);
		else if (ch == 'j')
			json = 1;
		else
			break;
	}
	if (optind >= argc || runs < 1 || runs > READY_MAX_RUNS || timeout_ms < 1) {
		fprintf(stderr, "usage: bench-ready [-n RUNS] [-t TIMEOUT_MS] [-j] COMMAND...\n"
			"Starts COMMAND RUNS times with NOTIFY_SOCKET set; reports the time\n"
			"from fork() to READY=1, then stops it with SIGTERM.\n");
		return EX_USAGE;
	}
	fd = ready_socket(name, sizeof(name));
	if (fd == -1) {
		fprintf(stderr, "bench-ready: notify socket: %s\n", strerror(errno));
		return EX_OSERR;
	}
	for (i = 0; i < runs; i++) {
		t[ok] = ready_once(fd, name, argv + optind, timeout_ms);
		ok += t[ok] >= 0;
	}
	close(fd);
	qsort(t, (size_t)ok, sizeof(t[0]), cmp_double);
	if (json)
		printf("{\"runs\":%d,\"ready\":%d,\"errors\":%d,\"ready_ms_min\":%.3f"
		       ",\"ready_ms_median\":%.3f,\"ready_ms_max\":%.3f}\n", runs, ok, runs - ok,
		       ok ? t[0] : 0, ok ? t[ok / 2] : 0, ok ? t[ok - 1] : 0);
	else if (ok > 0)
		printf("READY=1 after %.3f ms min, %.3f ms median, %.3f ms max (%d of %d runs)\n",
		       t[0], t[ok / 2], t[ok - 1], ok, runs);
	return ok == runs ? 0 : 1;
}
