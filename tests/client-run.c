/* SPDX-License-Identifier: MIT */
/* Runs echo-client ($ECHO_CLIENT) as a child, feeds its stdin in steps, captures its output. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client-run.h"

#define RUN_MAX_ARGS	64
#define RUN_LIMIT_S	60

struct run_buf {
	char *data;
	size_t len, cap;
};

static int
run_append(struct run_buf *b, const char *p, size_t n)
{
	char *d;
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		d = realloc(b->data, cap);
		if (d == NULL)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static const char *program;	/* run_set_program(), else $ECHO_CLIENT */

void
run_set_program(const char *path)
{
	program = path;
}

/* argv: the wrapper's words, the client, then the caller's arguments (NULL-terminated). */
static int
run_argv(char **argv, char *wrapper, const char *const *args)
{
	const char *client = program != NULL ? program : getenv("ECHO_CLIENT");
	char *w, *save = NULL;
	int n = 0;

	if (client == NULL)
		client = "tools/echo-client";
	for (w = strtok_r(wrapper, " \t", &save); w != NULL && n < RUN_MAX_ARGS / 2;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)client;
	for (; n < RUN_MAX_ARGS - 1 && *args != NULL; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return n;
}

/* The namespace's loopback up with the smallest IPv6 MTU (what ip link set lo mtu 1280
 * does), so that a 2000-byte datagram exceeds the path MTU without leaving the host. */
static int
run_lo_1280(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ifr.ifr_mtu = 1280;
	r = ioctl(fd, SIOCSIFMTU, &ifr);
	if (r == 0)
		r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (r == 0)
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return r;
}

static void
run_child(char **argv, int in, int out, int err, unsigned flags)
{
	/* The client must not outlive a test that crashed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	/* Unprivileged, a user namespace of our own grants the right to make the network one. */
	if ((flags & RUN_NETNS) && unshare(CLONE_NEWNET) == -1 &&
	    unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) {
		fprintf(stderr, "run_client: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		_exit(125);
	}
	if ((flags & RUN_LO_1280) && run_lo_1280() == -1) {
		fprintf(stderr, "run_client: lo mtu 1280: %s\n", strerror(errno));
		_exit(125);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "run_client: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

struct run_state {
	const struct run_step *step;	/* the current step, NULL when all are done */
	size_t done;			/* bytes of its input written */
	bool writing;			/* its `after` was seen */
	int in;				/* our end of the client's stdin, -1 once closed */
	unsigned flags;
};

/* Move through the steps as far as the output so far allows. */
static void
run_steps(struct run_state *s, struct run_buf *out, pid_t pid)
{
	const struct run_step *st;
	size_t len;
	ssize_t r;

	while ((st = s->step) != NULL) {
		if (st->after == NULL && st->input == NULL && st->sig == 0) {
			s->step = NULL;
			break;
		}
		if (!s->writing && st->after != NULL &&
		    (out->data == NULL || strstr(out->data, st->after) == NULL))
			return;
		s->writing = true;
		len = st->input == NULL ? 0 : st->len ? st->len : strlen(st->input);
		while (s->done < len && s->in != -1) {
			r = write(s->in, st->input + s->done, len - s->done);
			if (r == -1 && errno == EAGAIN)
				return;
			if (r == -1) {
				close(s->in);	/* the client closed its stdin: so be it */
				s->in = -1;
				break;
			}
			s->done += (size_t)r;
		}
		if (st->sig != 0)
			kill(pid, st->sig);
		s->step++;
		s->done = 0;
		s->writing = false;
	}
	if (s->in != -1 && !(s->flags & RUN_KEEP_STDIN)) {
		close(s->in);
		s->in = -1;
	}
}

/* Collect output until both pipes close, feeding stdin as the steps say. */
static int
run_collect(pid_t pid, int out, int err, struct run_state *s, struct run_result *res)
{
	struct run_buf bo = { 0 }, be = { 0 };
	struct pollfd pfd[3];
	time_t limit = time(NULL) + RUN_LIMIT_S;
	char buf[65536];
	ssize_t r;
	int i, ret = 0;

	run_append(&bo, "", 0);
	run_append(&be, "", 0);
	run_steps(s, &bo, pid);
	while ((out != -1 || err != -1) && time(NULL) < limit) {
		pfd[0] = (struct pollfd){ .fd = out, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = err, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = s->step != NULL ? s->in : -1, .events = POLLOUT };
		if (poll(pfd, 3, 1000) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pfd[i].fd, buf, sizeof(buf));
			if (r > 0 && run_append(i == 0 ? &bo : &be, buf, (size_t)r) == -1)
				ret = -1;
			if (r == 0 || (r == -1 && errno != EINTR && errno != EAGAIN)) {
				close(pfd[i].fd);
				*(i == 0 ? &out : &err) = -1;
			}
		}
		run_steps(s, &bo, pid);
	}
	if (out != -1 || err != -1) {
		fprintf(stderr, "run_client: still running after %d s: killed\n", RUN_LIMIT_S);
		kill(pid, SIGKILL);
		ret = -1;
	}
	if (out != -1)
		close(out);
	if (err != -1)
		close(err);
	res->out = bo.data;
	res->outlen = bo.len;
	res->err = be.data;
	res->errlen = be.len;
	return ret;
}

int
run_client(struct run_result *res, const struct run_step *steps, unsigned flags, ...)
{
	const char *args[RUN_MAX_ARGS];
	size_t n = 0;
	va_list ap;

	va_start(ap, flags);
	while (n < RUN_MAX_ARGS - 1 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return run_clientv(res, steps, flags, args);
}

int
run_clientv(struct run_result *res, const struct run_step *steps, unsigned flags,
    const char *const *args)
{
	static const struct run_step none[] = { { 0 } };
	char *argv[RUN_MAX_ARGS], *wrapper;
	int in[2], out[2], err[2], status, r;
	struct run_state s = { .step = steps != NULL ? steps : none, .flags = flags };
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	signal(SIGPIPE, SIG_IGN);	/* a client that closed its stdin gives EPIPE, no more */
	wrapper = strdup(getenv("ECHO_CLIENT_WRAPPER") ? getenv("ECHO_CLIENT_WRAPPER") : "");
	run_argv(argv, wrapper, args);
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1) {
		free(wrapper);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		run_child(argv, in[0], out[1], err[1], flags);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	free(wrapper);
	if (pid == -1)
		return -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	s.in = in[1];
	r = run_collect(pid, out[0], err[0], &s, res);
	if (s.in != -1)
		close(s.in);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (r == 0)
		res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return res->status;
}

void
run_free(struct run_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

unsigned
run_count_lines(const char *s, const char *needle)
{
	const char *end;
	unsigned n = 0;
	size_t len;

	for (; *s != '\0'; s = *end ? end + 1 : end) {
		end = strchr(s, '\n');
		if (end == NULL)
			end = s + strlen(s);
		len = (size_t)(end - s);
		if (memmem(s, len, needle, strlen(needle)) != NULL)
			n++;
	}
	return n;
}
