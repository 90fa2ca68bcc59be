/* SPDX-License-Identifier: MIT */
/* Stream probes (TCP, Unix): pipelined back to back on one connection, matched by offset. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client-engine.h"
#include "client-io.h"

static void pstream_write(struct engine *e);

void
pstream_start(struct engine *e)
{
	struct pslot *s = engine_slot_start(e);

	e->pending++;
	e->wr_off = 0;
	if (e->pending == 1)
		e->progress = s->sent;	/* the stall clock starts with the first byte owed */
	pstream_write(e);	/* at once: the send time is now, not at the next wake-up */
}

static void
pstream_write(struct engine *e)
{
	ssize_t r;

	if (e->wr_off >= e->pl.size)
		return;
	r = send(e->fd, e->out + e->wr_off, e->pl.size - e->wr_off,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r > 0) {
		e->wr_off += (size_t)r;
		e->st.bytes_sent += (size_t)r;
		e->tick_sent += (size_t)r;
		e->progress = io_now();
	} else if (r == -1 && errno != EAGAIN && errno != EINTR) {
		engine_fail(e, "%s seq=%u: %s", e->peer->name, e->seq, strerror(errno));
	}
}

/* The probe being read is complete: judge it. */
static void
pstream_done(struct engine *e, struct pslot *s, const struct recv_meta *m)
{
	struct pevent ev = { .slot = s, .size = e->pl.size, .ttl = -1, .tos = -1 };
	char what[64];
	bool kernel;

	ev.rtt = engine_rtt(s, m, &kernel);
	e->pending--;
	if (e->rd_diff >= 0) {
		s->state = PS_BAD;
		e->st.mismatched++;
		snprintf(what, sizeof(what), "mismatch at byte %ld", e->rd_diff);
		ev.status = ST_MISMATCH;
		ev.detail = what;
	} else {
		engine_ok(e, s, ev.rtt, kernel, m->mono);
		e->st.bytes_echoed += e->pl.size;
		e->tick_echoed += e->pl.size;
		ev.status = ST_OK;
	}
	report_event(e, &ev);
	e->rd_seq++;
	e->rd_off = 0;
	e->rd_diff = -1;
}

/* Check n echoed bytes at p against the probes they belong to, in stream order. */
static void
pstream_feed(struct engine *e, const unsigned char *p, size_t n, const struct recv_meta *m)
{
	struct pslot *s;
	size_t k, i, written;

	while (n > 0 && !e->fatal) {
		s = engine_slot(e, e->rd_seq);
		written = e->rd_seq < e->seq ? e->pl.size : e->rd_seq == e->seq ? e->wr_off : 0;
		if (s == NULL || e->rd_off >= written) {
			e->st.unexpected++;
			engine_fail(e, "%s: %zu byte%s came back that %s never sent",
			    e->peer->name, n, n == 1 ? "" : "s", n == 1 ? "was" : "were");
			return;
		}
		if (e->rd_off == 0)
			payload_fill(&e->pl, s->seq, s->stamp, e->expect);
		k = written - e->rd_off < n ? written - e->rd_off : n;
		report_show(e, p, k);
		if (e->rd_diff < 0 && memcmp(e->expect + e->rd_off, p, k) != 0) {
			for (i = 0; e->expect[e->rd_off + i] == p[i]; i++)
				;
			e->rd_diff = (long)(e->rd_off + i);
		}
		e->rd_off += k;
		p += k;
		n -= k;
		if (e->rd_off == e->pl.size)
			pstream_done(e, s, m);
	}
}

static void
pstream_read(struct engine *e)
{
	struct recv_meta m;
	ssize_t r;

	r = recv_meta(e->fd, e->in, e->inlen, MSG_DONTWAIT, &m);
	if (r > 0) {
		e->progress = m.mono;
		pstream_feed(e, e->in, (size_t)r, &m);
		return;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 0)
		engine_fail(e, "%s seq=%u: connection closed by the server (%zu of %zu byte%s came "
		    "back)", e->peer->name, e->rd_seq, e->rd_off, e->pl.size,
		    e->pl.size == 1 ? "" : "s");
	else
		engine_fail(e, "%s seq=%u: %s (%zu of %zu byte%s came back)", e->peer->name,
		    e->rd_seq, strerror(errno), e->rd_off, e->pl.size, e->pl.size == 1 ? "" : "s");
}

void
pstream_io(struct engine *e, short revents)
{
	if (revents & POLLOUT)
		pstream_write(e);
	if (!e->fatal && (revents & (POLLIN | POLLHUP | POLLERR)))
		pstream_read(e);
}

void
pstream_check_stall(struct engine *e, double now)
{
	if (e->fatal || (e->pending == 0 && e->wr_off >= e->pl.size))
		return;
	if (now < e->progress + e->o->timeout)
		return;
	engine_fail(e, "%s seq=%u: no echo within %g s (%zu of %zu byte%s came back)",
	    e->peer->name, e->rd_seq, e->o->timeout, e->rd_off, e->pl.size,
	    e->pl.size == 1 ? "" : "s");
}
