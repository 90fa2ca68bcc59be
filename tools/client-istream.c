/* SPDX-License-Identifier: MIT */
/* Interactive mode over a stream: stdin to the server, the echo to stdout, line by line. */
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-interactive.h"
#include "client-io.h"
#include "client-stats.h"

/* Input read but not yet echoed; reading stops when it is full, which bounds memory and lets
 * a server that does not keep up push back all the way to whoever writes our input. */
#define ISTREAM_WINDOW	(1024 * 1024)
/* Echoed bytes held while waiting for the end of their line; a longer line is printed in
 * pieces. */
#define ISTREAM_LINE	65536

struct istream {
	int fd;
	const struct peer *peer;
	const struct client_opts *o;
	struct stats st;
	unsigned char *q;	/* input: q[head..qsent) sent, q[qsent..qlen) not yet */
	size_t head, qsent, qlen;
	double *marks;		/* when each sent, not yet echoed newline was sent (FIFO) */
	size_t mhead, mlen, mcap;
	char line[ISTREAM_LINE];	/* echo waiting for its newline */
	size_t linelen;
	uint64_t echoed;	/* echo bytes checked so far */
	uint64_t extra;		/* echo bytes beyond what was sent */
	double last;		/* io_now() of the last progress */
	bool tail;		/* input ends without a newline: one more line to count */
	bool line_bad;		/* the line being echoed differs from its input */
	bool in_eof, wr_shut, sock_eof, failed, differed;
};

static int
istream_mark(struct istream *is, double t)
{
	double *p;
	size_t cap;

	if (is->mhead > 0 && is->mhead + is->mlen == is->mcap) {
		memmove(is->marks, is->marks + is->mhead, is->mlen * sizeof(*is->marks));
		is->mhead = 0;
	}
	if (is->mhead + is->mlen == is->mcap) {
		cap = is->mcap ? is->mcap * 2 : 256;
		p = realloc(is->marks, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		is->marks = p;
		is->mcap = cap;
	}
	is->marks[is->mhead + is->mlen++] = t;
	return 0;
}

/* Print complete lines of echo; a line longer than the buffer goes out in pieces. */
static int
istream_print(struct istream *is, const char *buf, size_t n, bool all)
{
	size_t take, upto;
	char *nl;

	do {
		take = n < sizeof(is->line) - is->linelen ? n : sizeof(is->line) - is->linelen;
		memcpy(is->line + is->linelen, buf, take);
		is->linelen += take;
		buf += take;
		n -= take;
		nl = memrchr(is->line, '\n', is->linelen);
		upto = all || is->linelen == sizeof(is->line) ? is->linelen :
		    nl != NULL ? (size_t)(nl - is->line) + 1 : 0;
		if (upto > 0 && io_write_all(STDOUT_FILENO, is->line, upto) == -1) {
			warn("standard output");
			return -1;
		}
		memmove(is->line, is->line + upto, is->linelen - upto);
		is->linelen -= upto;
	} while (n > 0);
	return 0;
}

/* One input line has been echoed entirely: count it. */
static void
istream_line_done(struct istream *is, double now, bool timed)
{
	double t = 0;

	if (timed && is->mlen > 0) {
		t = is->marks[is->mhead++];
		is->mlen--;
	}
	if (is->line_bad) {
		is->st.mismatched++;
	} else {
		is->st.received++;
		if (timed)
			stats_add(&is->st, (now - t) * 1000.0);
	}
	is->line_bad = false;
}

/* Check echo bytes against the input they should repeat. */
static void
istream_check(struct istream *is, const unsigned char *buf, size_t n, double now)
{
	size_t i;

	for (i = 0; i < n && is->head < is->qsent; i++, is->head++, is->echoed++) {
		if (buf[i] != is->q[is->head]) {
			if (!is->differed)
				warnx("%s: echo differs from the input at byte %ju",
				    is->peer->name, (uintmax_t)is->echoed);
			is->differed = is->line_bad = true;
		}
		if (is->q[is->head] == '\n')
			istream_line_done(is, now, true);
	}
	if (i < n) {
		if (is->extra == 0)
			warnx("%s: the server sent more than it was sent", is->peer->name);
		is->extra += n - i;
	}
}

static int
istream_recv(struct istream *is)
{
	char buf[65536];
	ssize_t r;

	r = recv(is->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == -1) {
		warn("%s", is->peer->name);
		return -1;
	}
	if (r == 0) {
		is->sock_eof = true;
		if (!is->in_eof || is->head < is->qlen)
			warnx("%s: connection closed by the server", is->peer->name);
		return 0;
	}
	is->last = io_now();
	istream_check(is, (unsigned char *)buf, (size_t)r, is->last);
	return istream_print(is, buf, (size_t)r, false);
}

static int
istream_send(struct istream *is)
{
	unsigned char *p, *end;
	ssize_t r;
	double now;

	r = send(is->fd, is->q + is->qsent, is->qlen - is->qsent, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == -1) {
		warn("%s", is->peer->name);
		return -1;
	}
	now = io_now();
	/* A line's round trip runs from sending its newline to seeing that newline again. */
	end = is->q + is->qsent + r;
	for (p = is->q + is->qsent; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		is->st.sent++;
		if (istream_mark(is, now) == -1) {
			warn("interactive");
			return -1;
		}
	}
	is->qsent += (size_t)r;
	is->last = now;
	return 0;
}

static void
istream_read(struct istream *is)
{
	ssize_t r;

	if (is->head > 0) {
		memmove(is->q, is->q + is->head, is->qlen - is->head);
		is->qsent -= is->head;
		is->qlen -= is->head;
		is->head = 0;
	}
	r = read(STDIN_FILENO, is->q + is->qlen, ISTREAM_WINDOW - is->qlen);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		if (r == -1)
			warn("standard input");
		is->in_eof = true;
		return;
	}
	is->qlen += (size_t)r;
	is->last = io_now();
	is->tail = is->q[is->qlen - 1] != '\n';
}

/* After the last input byte went out: count an unterminated last line, half-close. */
static void
istream_shut(struct istream *is)
{
	if (is->tail)
		is->st.sent++;
	if (shutdown(is->fd, SHUT_WR) == -1 && errno != ENOTCONN)
		warn("%s: shutdown", is->peer->name);
	is->wr_shut = true;
	is->last = io_now();
}

/* One round of the loop. Returns 1 to go on, 0 when done, -1 on failure. */
static int
istream_step(struct istream *is)
{
	struct pollfd pfd[2] = { { .fd = is->fd }, { .fd = STDIN_FILENO } };
	nfds_t n = 1;
	int r;

	if (is->in_eof && !is->wr_shut && is->qsent == is->qlen)
		istream_shut(is);
	if (is->sock_eof)
		return 0;
	pfd[0].events = POLLIN | (is->qsent < is->qlen && !is->wr_shut ? POLLOUT : 0);
	if (!is->in_eof && is->qlen - is->head < ISTREAM_WINDOW) {
		pfd[1].events = POLLIN;
		n = 2;
	}
	/* Waiting for the user has no time limit; waiting for the server, when input is over
	 * or the window is full, has. */
	r = io_wait(pfd, n, n == 1 ? is->last + is->o->timeout : -1);
	if (r == 0 && is->head < is->qlen)
		warnx("%s: no echo of the last %zu byte%s within %g s", is->peer->name,
		    is->qlen - is->head, is->qlen - is->head == 1 ? "" : "s", is->o->timeout);
	if (r <= 0)
		return r;
	if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && istream_recv(is) == -1)
		return -1;
	if ((pfd[0].revents & POLLOUT) && !is->sock_eof && istream_send(is) == -1)
		return -1;
	if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
		istream_read(is);
	return 1;
}

int
istream_run(int fd, const struct peer *peer, const struct client_opts *o)
{
	struct istream *is;
	struct stats_info info = { .peer = peer->name,
	    .proto = peer->family == AF_UNIX ? "unix" : "tcp" };
	int r, ret = -1;

	is = calloc(1, sizeof(*is));
	if (is == NULL || (is->q = malloc(ISTREAM_WINDOW)) == NULL) {
		warn("interactive");
		free(is);
		return -1;
	}
	is->fd = fd;
	is->peer = peer;
	is->o = o;
	stats_init(&is->st);
	is->last = io_now();
	while ((r = istream_step(is)) > 0)
		;
	if (r == -1 && io_interrupted())
		r = 0;	/* the summary still says what came back */
	/* An unterminated last line is complete once every input byte came back. */
	if (is->tail && is->wr_shut && is->head == is->qlen)
		istream_line_done(is, 0, false);
	if (istream_print(is, "", 0, true) == -1)
		r = -1;
	if (!o->quiet)
		stats_print(&is->st, &info, stderr);
	if (r == 0 && !is->differed && is->extra == 0 && is->head == is->qlen &&
	    is->st.received == is->st.sent)
		ret = 0;
	stats_free(&is->st);
	free(is->marks);
	free(is->q);
	free(is);
	return ret;
}
