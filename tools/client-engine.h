/* SPDX-License-Identifier: MIT */
/* The probe engine's state, shared by the schedule (probe), UDP, TCP and report files. */
#ifndef ECHOD_CLIENT_ENGINE_H
#define ECHOD_CLIENT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "client-opts.h"
#include "client-payload.h"
#include "client-peer.h"
#include "client-recv.h"
#include "client-stamp.h"
#include "client-stats.h"

/* What became of one probe. */
enum pstate {
	PS_FREE,		/* slot unused */
	PS_PENDING,		/* sent, no answer yet, its -W not over */
	PS_OK,			/* echoed exactly, in time */
	PS_BAD,			/* answered with different bytes */
	PS_LOST,		/* no answer within -W (so far) */
	PS_LATE,		/* the exact echo came after -W */
	PS_ICMP,		/* an ICMP or local error answered it */
};

struct pslot {
	uint32_t seq;
	uint8_t state;		/* enum pstate */
	double sent;		/* io_now() when it went out */
	uint64_t stamp;		/* CLOCK_REALTIME ns when it went out (and in its header) */
	double rtt;		/* ms once answered in time, else -1 */
};

/* What the report prints for one event of one probe. */
enum pstatus { ST_OK, ST_LOST, ST_LATE, ST_MISMATCH, ST_DUPLICATE, ST_ICMP };

struct pevent {
	enum pstatus status;
	const struct pslot *slot;
	size_t size;		/* bytes that came back (sent, for lost and icmp) */
	double rtt;		/* ms, < 0 when none */
	int ttl, tos;		/* as received, -1 when unknown */
	const struct recv_error *icmp;	/* ST_ICMP */
	const char *detail;	/* ST_MISMATCH: where it differs */
	const struct stamp_result *stamp;	/* --stamp: what the reply measured, or NULL */
};

/* --stamp: the session-sender's state for the run. */
struct stamp_run {
	struct stamp_send send;
	struct stamp_stats st;
};

struct engine {
	int fd;
	const struct peer *peer;
	const struct client_opts *o;
	struct payload pl;
	struct stats st;
	unsigned char *out;	/* the payload being sent */
	unsigned char *in;	/* a reply, or a chunk of the stream */
	unsigned char *expect;	/* TCP: the payload whose echo is being read */
	size_t inlen;
	struct pslot *slots;	/* ring of nslots, by seq % nslots */
	uint32_t nslots;
	uint32_t seq;		/* the last probe sent; 0 before the first */
	uint32_t oldest;	/* no probe before this one is pending */
	uint32_t next_exp;	/* RFC 4737 NextExp: one past the highest seq answered */
	unsigned long pending;	/* probes sent and not answered, not expired */
	double start;		/* io_now() at the start of the schedule */
	double next;		/* when the next probe is due */
	bool verbose;		/* a line per probe (not -q, not --json) */
	bool dots;		/* -f: a dot per probe instead */
	bool fatal;		/* the run ended on an error */
	bool stopped;		/* no more probes go out */
	bool cut;		/* ended by a signal or -w with probes maybe outstanding */
	bool paced;		/* -b or --stream: an interval line a second, no probe lines */
	/* TCP and Unix streams: probes back to back in one byte stream. */
	size_t wr_off;		/* bytes of probe seq written; pl.size once all out */
	uint32_t rd_seq;	/* the probe whose echo is being read */
	size_t rd_off;		/* bytes of it read */
	long rd_diff;		/* its first differing byte, -1 while it matches */
	double progress;	/* io_now() of the last byte moved */
	bool shown_nl;		/* one-message mode: the echo printed ends in a newline */
	/* -b: the interval line once a second. */
	double tick;
	unsigned long long tick_sent, tick_echoed;
	struct stamp_run *stamp;	/* --stamp, else NULL */
};

/* The slot of probe seq, or NULL when seq was never sent or its slot was reused. */
struct pslot *engine_slot(struct engine *e, uint32_t seq);
/*
 * The next probe: its slot, sequence number and payload, both send clocks
 * read and counted as sent. The caller puts it on the wire at once.
 */
struct pslot *engine_slot_start(struct engine *e);

/* Report one event of a probe: a text line, a JSON object, a flood dot, or nothing. */
void report_event(struct engine *e, const struct pevent *ev);
/* A flood dot for a probe sent. */
void report_sent(struct engine *e);
/* -b: the line for the second just over. */
void report_interval(struct engine *e, double now);
/* One-message mode: what came back, as it came; then end its line if it had none (only
 * when something was shown: a reset before any echo prints nothing on stdout). */
void report_show(struct engine *e, const unsigned char *buf, size_t n);
void report_end_echo(struct engine *e);

/* Round trip of slot's probe answered at m, in ms, from the kernel's timestamp when it has
 * one that makes sense (counted in st.kernel_clock by the caller through *kernel). */
double engine_rtt(const struct pslot *s, const struct recv_meta *m, bool *kernel);

/* An in-time exact answer: statistics, reordering, IPDV, flood pacing. */
void engine_ok(struct engine *e, struct pslot *s, double rtt, bool kernel, double now);

/* Stop the run on an error (stated on stderr), keeping the text as the summary's reason. */
void engine_fail(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* UDP: send probe e->seq + 1 now; read what is queued (replies and errors). */
void pdgram_send(struct engine *e);
void pdgram_read(struct engine *e, short revents);

/* --stamp, over the UDP engine: the test packet of a probe just started into e->out; a
 * reply (e->in, n bytes) read; the probe an ICMP error quotes (our test packet). */
void pstamp_fill(struct engine *e, const struct pslot *s);
void pstamp_reply(struct engine *e, size_t n, const struct recv_meta *m);
struct pslot *pstamp_quoted(struct engine *e, size_t n);
/* The number probe s carries on the wire, from 0 (the engine's count from 1, less one). */
uint32_t pstamp_wire_seq(const struct pslot *s);
/* Set up e->stamp from the options; 0, or -1 with errno (ENOMEM). */
int pstamp_init(struct engine *e);

/* Streams: start probe e->seq + 1 (written as the socket allows); move bytes. */
void pstream_start(struct engine *e);
void pstream_io(struct engine *e, short revents);
/* Streams: stop with "no echo" once nothing moved for -W with bytes outstanding. */
void pstream_check_stall(struct engine *e, double now);

#endif
