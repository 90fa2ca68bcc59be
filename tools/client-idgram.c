/* SPDX-License-Identifier: MIT */
/* Interactive mode over UDP: one datagram per input line, each reply printed as it comes. */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-interactive.h"
#include "client-io.h"
#include "client-stats.h"

#define IDGRAM_BUF	(OPTS_MAX_DGRAM + 1)	/* a line, its newline */

/* A line sent and not yet answered. */
struct idgram_line {
	char *data;
	size_t len;
	double sent_at;
};

struct idgram {
	int fd;
	const struct peer *peer;
	const struct client_opts *o;
	struct stats st;
	char in[IDGRAM_BUF];	/* input not yet split into lines */
	size_t inlen;
	char reply[65536 + 1];	/* a reply and the newline printed after it */
	struct idgram_line *wait;	/* FIFO of lines waiting for their echo */
	size_t whead, wlen, wcap;
	double last;		/* io_now() of the last send or reply */
	bool in_eof, skipping, failed;
};

static int
idgram_push(struct idgram *ig, const char *line, size_t len, double now)
{
	struct idgram_line *p;
	size_t cap;

	if (ig->whead > 0 && ig->whead + ig->wlen == ig->wcap) {
		memmove(ig->wait, ig->wait + ig->whead, ig->wlen * sizeof(*ig->wait));
		ig->whead = 0;
	}
	if (ig->whead + ig->wlen == ig->wcap) {
		cap = ig->wcap ? ig->wcap * 2 : 64;
		p = realloc(ig->wait, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		ig->wait = p;
		ig->wcap = cap;
	}
	p = &ig->wait[ig->whead + ig->wlen];
	p->data = malloc(len > 0 ? len : 1);
	if (p->data == NULL)
		return -1;
	memcpy(p->data, line, len);
	p->len = len;
	p->sent_at = now;
	ig->wlen++;
	return 0;
}

/* Take entry i (counted from the oldest) out of the FIFO. */
static void
idgram_drop(struct idgram *ig, size_t i)
{
	struct idgram_line *w = ig->wait + ig->whead;

	free(w[i].data);
	memmove(w + i, w + i + 1, (ig->wlen - i - 1) * sizeof(*w));
	ig->wlen--;
}

static int
idgram_send(struct idgram *ig, const char *line, size_t len)
{
	struct pollfd pfd = { .fd = ig->fd, .events = POLLOUT };
	double now = io_now();

	ig->st.sent++;
	while (send(ig->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		if (errno == EAGAIN && io_wait(&pfd, 1, -1) >= 0)
			continue;
		if (errno != EINTR || io_interrupted()) {
			warn("%s", ig->peer->name);
			return -1;
		}
	}
	ig->last = now;
	if (idgram_push(ig, line, len, now) == -1) {
		warn("interactive");
		return -1;
	}
	return 0;
}

/* Send every complete line in the input buffer; at end of input, the rest too. */
static int
idgram_lines(struct idgram *ig)
{
	char *nl, *p = ig->in;
	size_t left = ig->inlen, len;

	while ((nl = memchr(p, '\n', left)) != NULL || (ig->in_eof && left > 0)) {
		len = nl != NULL ? (size_t)(nl - p) : left;
		if (!ig->skipping && idgram_send(ig, p, len) == -1)
			return -1;
		ig->skipping = false;
		p += len + (nl != NULL);
		left -= len + (nl != NULL);
	}
	if (left == sizeof(ig->in)) {
		warnx("a line longer than %d bytes does not fit one datagram: skipped",
		    OPTS_MAX_DGRAM);
		ig->failed = ig->skipping = true;
		left = 0;
	}
	memmove(ig->in, p, left);
	ig->inlen = left;
	return 0;
}

static int
idgram_read(struct idgram *ig)
{
	ssize_t r;

	r = read(STDIN_FILENO, ig->in + ig->inlen, sizeof(ig->in) - ig->inlen);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == -1)
		warn("standard input");
	if (r <= 0)
		ig->in_eof = true;
	else
		ig->inlen += (size_t)r;
	return idgram_lines(ig);
}

/* Match a reply to the oldest line it repeats; one that repeats none answers (wrongly)
 * the oldest line still waiting, or nothing at all. */
static void
idgram_match(struct idgram *ig, size_t n, double now)
{
	struct idgram_line *w = ig->wait + ig->whead;
	size_t i;

	for (i = 0; i < ig->wlen; i++) {
		if (w[i].len == n && memcmp(w[i].data, ig->reply, n) == 0) {
			ig->st.received++;
			stats_add(&ig->st, (now - w[i].sent_at) * 1000.0);
			idgram_drop(ig, i);
			return;
		}
	}
	if (ig->wlen > 0) {
		warnx("%s: a reply of %zu byte%s matches no line sent", ig->peer->name, n,
		    n == 1 ? "" : "s");
		ig->st.mismatched++;
		idgram_drop(ig, 0);
	} else {
		warnx("%s: unexpected reply of %zu byte%s", ig->peer->name, n, n == 1 ? "" : "s");
		ig->st.unexpected++;
	}
}

static int
idgram_recv(struct idgram *ig)
{
	ssize_t r;

	r = recv(ig->fd, ig->reply, sizeof(ig->reply) - 1, MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r == -1 && errno == ECONNREFUSED) {
		warnx("%s: connection refused (port unreachable)", ig->peer->name);
		return -1;
	}
	if (r == -1) {
		warn("%s", ig->peer->name);
		return -1;
	}
	ig->last = io_now();
	idgram_match(ig, (size_t)r, ig->last);
	ig->reply[r] = '\n';
	if (io_write_all(STDOUT_FILENO, ig->reply, (size_t)r + 1) == -1) {
		warn("standard output");
		return -1;
	}
	return 0;
}

/* One round of the loop. Returns 1 to go on, 0 when done, -1 on failure. */
static int
idgram_step(struct idgram *ig)
{
	struct pollfd pfd[2] = {
		{ .fd = ig->fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	int r;

	if (ig->in_eof && ig->wlen == 0)
		return 0;
	r = io_wait(pfd, ig->in_eof ? 1 : 2, ig->in_eof ? ig->last + ig->o->timeout : -1);
	if (r == 0)
		warnx("%s: no echo of %zu line%s within %g s", ig->peer->name, ig->wlen,
		    ig->wlen == 1 ? "" : "s", ig->o->timeout);
	if (r <= 0)
		return r;
	if ((pfd[0].revents & (POLLIN | POLLERR)) && idgram_recv(ig) == -1)
		return -1;
	if (!ig->in_eof && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
	    idgram_read(ig) == -1)
		return -1;
	return 1;
}

int
idgram_run(int fd, const struct peer *peer, const struct client_opts *o)
{
	struct idgram *ig;
	struct stats_info info = { .peer = peer->name, .proto = "udp" };
	int r, ret = -1;

	ig = calloc(1, sizeof(*ig));
	if (ig == NULL) {
		warn("interactive");
		return -1;
	}
	ig->fd = fd;
	ig->peer = peer;
	ig->o = o;
	stats_init(&ig->st);
	ig->last = io_now();
	while ((r = idgram_step(ig)) > 0)
		;
	if (r == -1 && io_interrupted())
		r = 0;	/* the summary still says what came back */
	if (!o->quiet)
		stats_print(&ig->st, &info, stderr);
	if (r == 0 && !ig->failed && ig->st.received == ig->st.sent && ig->st.unexpected == 0)
		ret = 0;
	while (ig->wlen > 0)
		idgram_drop(ig, 0);
	free(ig->wait);
	stats_free(&ig->st);
	free(ig);
	return ret;
}
