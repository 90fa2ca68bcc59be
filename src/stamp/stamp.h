/* SPDX-License-Identifier: MIT */
/* stamp: STAMP (RFC 8762, RFC 8972) wire formats, TLVs, HMAC and sessions for both ends. */
#ifndef ECHOD_STAMP_H
#define ECHOD_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/*
 * Nothing here touches a socket: the caller brings the datagram, the kernel's
 * receive time, TTL and TOS, and sends what comes back. Every function works
 * on a caller's buffer of known length and never reads or writes past it.
 */
#define STAMP_PORT		862
#define STAMP_UNAUTH_LEN	44	/* RFC 8762 4.2.1 / 4.3.1: both directions */
#define STAMP_AUTH_LEN		112	/* RFC 8762 4.2.2 / 4.3.2: both directions */
/*
 * The shortest test packet answered (RFC 8762 4.6): a TWAMP-Light sender's
 * unauthenticated test packet of RFC 5357 4.1.2, Sequence Number (4),
 * Timestamp (8) and Error Estimate (2), the fields the reply copies.
 */
#define STAMP_TWAMP_LIGHT_LEN	14
#define STAMP_HMAC_LEN		16	/* HMAC-SHA-256 truncated to 128 bits */
#define STAMP_AUTH_HMAC_OFF	96	/* the base HMAC covers the 96 octets before it */
/* Where a reflector packet carries the Session-Sender Sequence Number (RFC 8762 4.3). */
#define STAMP_UNAUTH_SENDER_SEQ	24
#define STAMP_AUTH_SENDER_SEQ	48
#define STAMP_KEY_MIN		16
#define STAMP_KEY_MAX		64

/* ---- stamp_packet.c: timestamps, Error Estimate, base packets ---- */

/* The Z bit (RFC 8762 4.2.1): how every timestamp of a packet is encoded. */
enum stamp_ts_format {
	STAMP_TS_NTP = 0,	/* NTP 64-bit: UTC seconds since 1900, 2^-32 s fractions */
	STAMP_TS_PTP = 1,	/* PTPv2 truncated: TAI seconds since 1970, nanoseconds */
};

/*
 * TAI - UTC in seconds when the kernel does not know it (adjtimex()'s tai
 * is 0 until an NTP or PTP daemon sets it): 37 s since 2017-01-01, and no
 * leap second is scheduled. Update with the IERS Bulletin C if one is.
 */
#define STAMP_TAI_UTC_DEFAULT	37

/* What the Error Estimate (RFC 4656 4.1.2) says about the local clock. */
struct stamp_clock {
	bool	synced;		/* S bit: synchronised to UTC by an external source */
	uint8_t	scale;		/* 6 bits */
	uint8_t	multiplier;	/* never 0; error = multiplier * 2^(scale - 32) s */
};

/*
 * ts is CLOCK_REALTIME (UTC). PTP counts TAI (IEEE 1588): encoding adds
 * stamp_tai_offset(), decoding takes it off again, so both ends of a
 * process agree and a reply's T2/T3 compare with a local UTC T1/T4.
 */
uint64_t stamp_ts_encode(const struct timespec *ts, enum stamp_ts_format fmt);
void	stamp_ts_decode(uint64_t wire, enum stamp_ts_format fmt, struct timespec *ts);
/*
 * TAI - UTC in seconds: the kernel's (adjtimex()'s tai) as last read by
 * stamp_clock_state(), else STAMP_TAI_UTC_DEFAULT. One value per process.
 */
int	stamp_tai_offset(void);

/*
 * The clock state from adjtimex()'s results, kept pure for the tests: state
 * is its return value, status its STA_* bits, esterror_us its estimate. An
 * unsynchronised clock (TIME_ERROR or STA_UNSYNC) gives S = 0; the error is
 * rounded up to the next value the 14 bits can say, at least 2^-32 s.
 */
void	stamp_clock_from_timex(int state, int status, long esterror_us, struct stamp_clock *c);
/*
 * Read the kernel's clock state with adjtimex(); 0, or -1 and errno (c set
 * to unsynced). Also refreshes stamp_tai_offset() when the kernel knows it.
 */
int	stamp_clock_state(struct stamp_clock *c);
uint16_t stamp_error_estimate(const struct stamp_clock *c, enum stamp_ts_format fmt);
/* The error an Error Estimate states, in seconds, and its S and Z bits. */
double	stamp_error_seconds(uint16_t ee);
#define STAMP_EE_S	0x8000u
#define STAMP_EE_Z	0x4000u

/* A session-sender test packet as received (RFC 8762 4.2, SSID of RFC 8972 3). */
struct stamp_test {
	uint32_t seq;
	uint64_t timestamp;	/* T1 as on the wire; its format is in error_estimate's Z */
	uint16_t error_estimate;
	uint16_t ssid;
	bool	authenticated;
	size_t	base_len;	/* STAMP_UNAUTH_LEN or STAMP_AUTH_LEN: TLVs start here */
	size_t	len;		/* the whole datagram */
};

/*
 * Parse a session-sender packet. The mode is the listener's, not guessed
 * from the length. 0, or -1 with errno EMSGSIZE (shorter than the base).
 * The HMAC is not checked here: stamp_auth_verify().
 */
int	stamp_test_parse(const uint8_t *pkt, size_t len, bool authenticated,
	    struct stamp_test *t);

/* What the reflector writes into its base packet (RFC 8762 4.3). */
struct stamp_reflection {
	uint32_t seq;		/* stateless: the sender's; stateful: the session's count */
	struct timespec t2;	/* receive time */
	uint8_t	ttl;		/* TTL / hop limit the test packet arrived with */
	enum stamp_ts_format fmt;
	struct stamp_clock clock;
};

/*
 * Write the reflector's base packet over buf[0 .. t->base_len), buf holding
 * t->len bytes: in place over the received packet (t was parsed from it
 * first) or into another buffer. Octets from t->base_len on (the sender's
 * padding and TLVs) are left alone, so the reply is exactly as long as the
 * test packet (stamp_reflect() makes a short one base-long first). The
 * Timestamp (T3) and the HMAC are left for
 * stamp_reflect_send_time(), called as late as possible.
 */
void	stamp_reflect_build(uint8_t *buf, const struct stamp_test *t,
	    const struct stamp_reflection *r);

struct stamp_key;
/* T3 into a built reply, then, in authenticated mode, its HMAC (key not NULL). */
void	stamp_reflect_send_time(uint8_t *buf, const struct stamp_test *t,
	    const struct timespec *t3, enum stamp_ts_format fmt, const struct stamp_key *key);

/* A session-sender probe (the client's side). */
struct stamp_probe {
	uint32_t seq;
	struct timespec t1;
	uint16_t ssid;
	enum stamp_ts_format fmt;
	struct stamp_clock clock;
};

/*
 * Build a test packet of len bytes (at least the base for the mode) into buf:
 * MBZ and padding zeroed, HMAC set when key is not NULL (authenticated).
 * Add TLVs after the base with stamp_tlv_put() before the HMAC TLV, if any.
 * 0, or -1 with errno EMSGSIZE.
 */
int	stamp_probe_build(uint8_t *buf, size_t len, const struct stamp_probe *p,
	    const struct stamp_key *key);

/* A session-reflector packet as received by the sender. */
struct stamp_reply {
	uint32_t seq;		/* reflector's */
	uint64_t t3;		/* reflector's Timestamp, as on the wire */
	uint16_t error_estimate;
	uint16_t ssid;
	uint64_t t2;		/* Receive Timestamp */
	uint32_t sender_seq;
	uint64_t t1;		/* Session-Sender Timestamp */
	uint16_t sender_error_estimate;
	uint8_t	sender_ttl;
	size_t	base_len;
};

/*
 * Parse a reflector packet; authenticated when key is not NULL, and then
 * -1 with errno EBADMSG if its HMAC does not verify. -1 with EMSGSIZE if
 * shorter than the base (STAMP_AUTH_LEN) or, unauthenticated, than 41
 * octets: RFC 5357 4.2.1's TWAMP-Light reply ends at the Sender TTL, and
 * every field lies within those. r->base_len: where TLVs would start, the
 * base's length or len when shorter (no TLVs then).
 */
int	stamp_reply_parse(const uint8_t *pkt, size_t len, const struct stamp_key *key,
	    struct stamp_reply *r);

/* ---- stamp_auth.c: HMAC-SHA-256 (RFC 8762 4.4) ---- */

struct stamp_key {
	uint8_t	key[STAMP_KEY_MAX];
	size_t	len;
};

/*
 * Load a key file: one line of 32 to 128 hex digits (16 to 64 octets), e.g.
 * `openssl rand -hex 32`. The file must be a regular file that others may
 * neither read nor write and its group may not write (root:echod 0640 is fine).
 * 0, or -1 with errno: EPERM (mode), EINVAL (content), or open()'s.
 */
int	stamp_key_load(const char *path, struct stamp_key *k);
/* HMAC-SHA-256 of a then b (b may be NULL), truncated to 16 octets. */
void	stamp_hmac(const struct stamp_key *k, const uint8_t *a, size_t alen,
	    const uint8_t *b, size_t blen, uint8_t out[STAMP_HMAC_LEN]);
/* Constant-time comparison of a computed HMAC with the one received. */
bool	stamp_hmac_equal(const uint8_t a[STAMP_HMAC_LEN], const uint8_t b[STAMP_HMAC_LEN]);
/* The base HMAC of an authenticated packet (either direction): true if it verifies. */
bool	stamp_auth_verify(const struct stamp_key *k, const uint8_t *pkt, size_t len);
/* Write the base HMAC of an authenticated packet of len >= STAMP_AUTH_LEN. */
void	stamp_auth_sign(const struct stamp_key *k, uint8_t *pkt);

/* ---- stamp_tlv.c: RFC 8972 4 TLVs ---- */

#define STAMP_TLV_HDR		4
#define STAMP_TLV_U		0x80	/* Unrecognized: set by the reflector */
#define STAMP_TLV_M		0x40	/* Malformed: set by the reflector */
#define STAMP_TLV_I		0x20	/* Integrity: HMAC TLV did not verify */

enum stamp_tlv_type {
	STAMP_TLV_PADDING = 1,
	STAMP_TLV_LOCATION = 2,
	STAMP_TLV_TIMESTAMP_INFO = 3,
	STAMP_TLV_COS = 4,
	STAMP_TLV_DIRECT = 5,
	STAMP_TLV_ACCESS_REPORT = 6,
	STAMP_TLV_FOLLOW_UP = 7,
	STAMP_TLV_HMAC = 8,
};

/*
 * Timestamp Information TLV values (RFC 8972 4.3 and its IANA registries
 * "Synchronization Source" and "Timestamping Method", RFC 8972 5.5, 5.6).
 */
enum stamp_sync_src {
	STAMP_SYNC_NTP = 1, STAMP_SYNC_PTP = 2, STAMP_SYNC_SSU = 3, STAMP_SYNC_GNSS = 4,
	STAMP_SYNC_FREE = 5,	/* "Local free-running": what an unsynchronised clock is */
};
enum stamp_ts_method { STAMP_TSM_HW = 1, STAMP_TSM_SW = 2, STAMP_TSM_CONTROL = 3 };

struct stamp_tlv {
	uint8_t	flags;
	uint8_t	type;
	uint16_t len;		/* of the value */
	const uint8_t *value;
};

/*
 * Iterate over TLVs in p[0 .. len): *off starts at 0. 1 with *t filled and
 * *off moved on; 0 at the end; -1 if the next TLV does not fit (a header
 * cut short or a Length past the end), *off left on it.
 */
int	stamp_tlv_next(const uint8_t *p, size_t len, size_t *off, struct stamp_tlv *t);
/*
 * Append a TLV at *off in buf[0 .. cap): value may be NULL (zeros). 0 and
 * *off moved on, or -1 with errno EMSGSIZE.
 */
int	stamp_tlv_put(uint8_t *buf, size_t cap, size_t *off, uint8_t type, const void *value,
	    uint16_t vlen);
/* A Class of Service request value: DSCP1 = dscp, the rest zero. */
void	stamp_tlv_cos_request(uint8_t value[4], uint8_t dscp);
/*
 * Fill the HMAC TLV that ends pkt's TLVs (at pkt + hmac_off): HMAC over the
 * packet's Sequence Number and every TLV before it (RFC 8972 4.8).
 */
void	stamp_tlv_sign(const struct stamp_key *k, uint8_t *pkt, size_t base_len,
	    size_t hmac_off);

struct stamp_session_view;

/* What the reflector knows for the TLVs of one packet. */
struct stamp_tlv_env {
	int	tos;		/* TOS / traffic class received (DSCP and ECN), -1 unknown */
	/*
	 * Timestamp Information answers. sync_src is the source when the clock
	 * is synchronised; synced false (the Error Estimate's S = 0) answers
	 * STAMP_SYNC_FREE instead, so the TLV never contradicts the S bit.
	 */
	uint8_t	sync_src, ts_in, ts_out;
	bool	synced;
	uint64_t dscp_allow;	/* bit d: DSCP d may be asked for (Class of Service) */
	/* Direct Measurement counts (this packet included); NULL: none, the TLV gets U. */
	const struct stamp_session_view *session;
	const struct stamp_key *key;		/* NULL: unauthenticated */
};

/* What the TLVs asked for and how they were answered. */
struct stamp_tlv_result {
	/* DSCP to send the reply with (Class of Service), or -1: the socket's. */
	int	dscp;
	unsigned known, unknown, malformed;
	unsigned unprotected;	/* authenticated mode: TLVs no HMAC TLV covers (I, not acted on) */
	bool	cos_refused;	/* DSCP1 outside dscp_allow: DSCP2 (or 0) used, RP = 1 */
	bool	integrity_failed;	/* an HMAC TLV did not verify: I flags set */
	bool	legacy_padding;		/* only zeros after the base: RFC 8762 padding */
};

/*
 * Process the TLVs of a reply being built in place: pkt[base_len .. len) as
 * received, pkt[0 .. 4) already the reflector's Sequence Number,
 * sender_seq_be the 4 octets of the test packet's. Known TLVs are answered,
 * unknown ones get U. The first malformed TLV (RFC 8972 4: cut short, or a
 * Length wrong for its type) gets M and ends the walk: what follows it is
 * left as received. Authenticated mode (RFC 8972 4.8): TLVs are acted on
 * only when an HMAC TLV verifies, and only those before it; an HMAC TLV that
 * does not verify sets I on all; with none, or after it, every TLV but Extra
 * Padding gets I and is not acted on (res->unprotected). Unauthenticated
 * mode has no key: the HMAC TLV gets U. Trailing zeros are RFC 8762 padding
 * (TWAMP-Light senders) and stay as they are. Never changes the length.
 */
void	stamp_tlv_reflect(uint8_t *pkt, size_t len, size_t base_len,
	    const uint8_t sender_seq_be[4], const struct stamp_tlv_env *env,
	    struct stamp_tlv_result *res);

/* ---- stamp_session.c: stateful mode (RFC 8762 4.2, 4.3.1) ---- */

/* A session's numbers after the packet just counted. */
struct stamp_session_view {
	uint32_t seq;		/* reflector's Sequence Number for this reply (0, 1, ...) */
	uint32_t rx;		/* test packets received, this one included (R-Rx) */
	uint32_t tx;		/* replies built, this one included */
	bool	restarted;	/* this packet began the session again at zero */
};

struct stamp_sessions_stats {
	uint64_t created, evicted, refused;
	size_t	entries, capacity;
};

struct stamp_sessions;

/*
 * A fixed table of sessions keyed by source address, port and SSID, all
 * allocated here and never again. capacity is rounded up to a multiple of 8;
 * a session idle for idle_s seconds may be evicted (least recently used of
 * its 8-slot group) to make room; an active one never is: a new session that
 * finds its group full of active ones is refused and counted. Sessions are
 * spread by a keyed hash (key from getrandom()), so spoofed sources cannot
 * aim at one group. Thread-safe (a mutex per group). NULL with errno EINVAL
 * (capacity 0 or over 2^24), ENOMEM, or getrandom()'s.
 */
struct stamp_sessions *stamp_sessions_new(size_t capacity, uint32_t idle_s);
/* Another holder (a reloaded configuration keeps its sessions); returns s. */
struct stamp_sessions *stamp_sessions_ref(struct stamp_sessions *s);
/* Drop a holder; the last one frees the table. */
void	stamp_sessions_free(struct stamp_sessions *s);
/*
 * Count one test packet of (src, ssid) carrying the Session-Sender Sequence
 * Number sender_seq at now_s (monotonic seconds) and fill *v. 0, or -1 with
 * errno ENOSPC (refused: no room) or EAFNOSUPPORT.
 */
int	stamp_sessions_count(struct stamp_sessions *s, const struct sockaddr *src, uint16_t ssid,
	    uint32_t sender_seq, uint64_t now_s, struct stamp_session_view *v);
void	stamp_sessions_stats(struct stamp_sessions *s, struct stamp_sessions_stats *st);

/* ---- stamp_packet.c: the reflector in one call ---- */

/*
 * A stateless listener's Direct Measurement counts (RFC 8972 4.5): every
 * test packet it answers, whoever sent it. Shared by the workers.
 */
struct stamp_counters {
	_Atomic uint32_t rx;
};

#define STAMP_DSCP_ALLOW_DEFAULT	(~(UINT64_C(1) << 48 | UINT64_C(1) << 56))

/* A listener's reflector settings (config: stamp_mode, stamp_auth_key, stamp_timestamp). */
struct stamp_reflector {
	const struct stamp_key *key;		/* NULL: unauthenticated */
	struct stamp_sessions *sessions;	/* NULL: stateless */
	enum stamp_ts_format fmt;
	bool	tlvs;				/* process RFC 8972 TLVs */
	/* stamp_short_packets = "drop": no RFC 8762 4.6 base-packet reply to a short one. */
	bool	short_drop;
	/*
	 * dscp_allow: bit d set, DSCP d may be asked for in a Class of Service
	 * TLV (RFC 8972 4.4); 0 allows none. STAMP_DSCP_ALLOW_DEFAULT: all but
	 * CS6 and CS7, the network control classes a stranger must not get.
	 */
	uint64_t dscp_allow;
	uint8_t	sync_src, ts_in, ts_out;	/* Timestamp Information answers */
	/* Where stamp_arrival.counters points for this listener (zeroed with it). */
	struct stamp_counters counters;
};

/* One received test packet's surroundings. */
struct stamp_arrival {
	const struct sockaddr *src;
	struct timespec t2;	/* kernel receive time (SO_TIMESTAMPNS) */
	/* No kernel timestamp came: t2 was read in user space (Timestamp In: control plane). */
	bool	t2_user;
	/*
	 * The listener's counters (its reflector's, mutable: the reflector is
	 * shared read-only). NULL: a stateless reflector answers Direct
	 * Measurement with U.
	 */
	struct stamp_counters *counters;
	uint64_t now_s;		/* monotonic seconds, for the session table */
	int	ttl;		/* IP_RECVTTL / IPV6_RECVHOPLIMIT, -1 unknown (sent as 0) */
	int	tos;		/* IP_RECVTOS / IPV6_RECVTCLASS, -1 unknown */
	struct stamp_clock clock;
};

enum stamp_drop {
	STAMP_OK = 0,
	/*
	 * Shorter than the base packet of the mode and not answered: under
	 * STAMP_TWAMP_LIGHT_LEN, or authenticated, or short_drop.
	 */
	STAMP_DROP_SHORT,
	STAMP_DROP_AUTH,	/* base HMAC did not verify */
	STAMP_DROP_SESSIONS,	/* stateful table full of active sessions */
};

struct stamp_outcome {
	enum stamp_drop drop;
	bool	short_answered;	/* RFC 8762 4.6: a short test packet got a base-long reply */
	bool	session_restarted;	/* stateful: its session began again at zero */
	struct stamp_test test;	/* test.len: the reply's length */
	struct stamp_tlv_result tlv;	/* tlv.dscp: what to send the reply with */
};

/*
 * Turn the test packet in pkt[0 .. len) into the reply, in place: the same
 * length, except that an unauthenticated test packet of at least
 * STAMP_TWAMP_LIGHT_LEN octets but shorter than the base gets a base-long
 * reply (RFC 8762 4.6; unless r->short_drop), its missing octets read as
 * zeros. So pkt must have room for STAMP_UNAUTH_LEN octets whatever len is;
 * the reply is pkt[0 .. out->test.len). An authenticated short packet is
 * never answered: it cannot carry the HMAC a reply may only answer.
 * 0, or -1 with out->drop saying why (pkt untouched). Then the caller
 * applies out->tlv.dscp if >= 0, and right before sending calls
 * stamp_reflect_send_time(pkt, &out->test, &t3, r->fmt, r->key).
 */
int	stamp_reflect(uint8_t *pkt, size_t len, const struct stamp_reflector *r,
	    const struct stamp_arrival *a, struct stamp_outcome *out);

/* ---- wire helpers shared by the stamp_*.c files: network byte order ---- */

static inline void
stamp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
stamp_put32(uint8_t *p, uint32_t v)
{
	stamp_put16(p, (uint16_t)(v >> 16));
	stamp_put16(p + 2, (uint16_t)v);
}

static inline void
stamp_put64(uint8_t *p, uint64_t v)
{
	stamp_put32(p, (uint32_t)(v >> 32));
	stamp_put32(p + 4, (uint32_t)v);
}

static inline uint16_t
stamp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
stamp_get32(const uint8_t *p)
{
	return (uint32_t)stamp_get16(p) << 16 | stamp_get16(p + 2);
}

static inline uint64_t
stamp_get64(const uint8_t *p)
{
	return (uint64_t)stamp_get32(p) << 32 | stamp_get32(p + 4);
}

#endif
