/* SPDX-License-Identifier: MIT */
/* check_refusal_log: first lines, minute summaries, the line bound under floods, threads. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "alloc-count.h"
#include "log.h"
#include "refusal_log.h"

/* Fake monotonic time: far from 0, so that no window starts at the epoch. */
#define T0 UINT64_C(1000000000)
#define MAX_KEPT 256

/* One line as the emit seam saw it: what log_struct() would have sent to the journal. */
struct kept {
	int priority;
	char msgid[40];
	char fields[LOG_MAX_FIELDS][160];
	int nfields;
	char message[512];
};

/* Every line goes through here; may be called from several threads. */
static struct capture {
	pthread_mutex_t mu;
	struct kept kept[MAX_KEPT];
	int lines;			/* all lines, kept or not */
	uint64_t first, summarised, unlogged;	/* ECHOD_REFUSALS summed by kind */
	int warnings;
} cap = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *
field(const struct kept *k, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < k->nfields; i++)
		if (strncmp(k->fields[i], name, n) == 0 && k->fields[i][n] == '=')
			return k->fields[i] + n + 1;
	return NULL;
}

static void
capture_cb(void *arg, int priority, const char *message_id, const char *const *fields,
    const char *message)
{
	struct kept k = { .priority = priority };
	const char *count;
	uint64_t n;

	snprintf(k.msgid, sizeof(k.msgid), "%s", message_id != NULL ? message_id : "");
	for (; fields != NULL && fields[k.nfields] != NULL && k.nfields < LOG_MAX_FIELDS;
	    k.nfields++)
		snprintf(k.fields[k.nfields], sizeof(k.fields[0]), "%s", fields[k.nfields]);
	snprintf(k.message, sizeof(k.message), "%s", message);
	count = field(&k, "ECHOD_REFUSALS");
	n = count != NULL ? strtoull(count, NULL, 10) : 0;
	pthread_mutex_lock(&cap.mu);
	if (cap.lines < MAX_KEPT)
		cap.kept[cap.lines] = k;
	cap.lines++;
	if (strcmp(k.msgid, ECHOD_MSGID_REFUSED) == 0)
		cap.first += n;
	else if (strcmp(k.msgid, ECHOD_MSGID_REFUSED_SUMMARY) == 0)
		cap.summarised += n;
	else if (strcmp(k.msgid, ECHOD_MSGID_REFUSALS_UNLOGGED) == 0) {
		cap.unlogged += n;
		cap.warnings++;
	}
	pthread_mutex_unlock(&cap.mu);
}

static void
capture_reset(void)
{
	pthread_mutex_lock(&cap.mu);
	cap.lines = cap.warnings = 0;
	cap.first = cap.summarised = cap.unlogged = 0;
	pthread_mutex_unlock(&cap.mu);
}

static struct refusal_log *
new_captured(size_t capacity, unsigned max_lines)
{
	struct refusal_log *rl = refusal_log_new(capacity, max_lines);

	ck_assert_ptr_nonnull(rl);
	refusal_log_set_emit(rl, capture_cb, NULL);
	capture_reset();
	return rl;
}

static struct sockaddr_storage
peer(const char *text, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_msg(addr_parse(text, port, &ss, &len) == 0, "peer %s", text);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

/* A worker's note, then the control thread's drain at the same time: the lines it writes. */
static void
note_drained(struct refusal_log *rl, const struct sockaddr *sa, enum refusal_reason why,
    const char *listener, uint64_t now_ms)
{
	refusal_log_note(rl, sa, why, listener, now_ms);
	refusal_log_drain(rl, now_ms);
}

/*
 * The n-th of a stream of distinct spoofed sources: odd ones IPv6, even ones
 * IPv4. Built by hand: Check's assertions allocate (they report each point).
 */
static struct sockaddr_storage
spoofed(uint32_t n)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (n % 2 == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(0x0a000000u + n / 2);	/* 10.x.y.z */
		sin->sin_port = htons((uint16_t)(1024 + n % 60000));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		uint32_t be = htonl(n / 2);

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0x20;
		sin6->sin6_addr.s6_addr[1] = 0x01;
		sin6->sin6_addr.s6_addr[2] = 0x0d;
		sin6->sin6_addr.s6_addr[3] = 0xb8;
		memcpy(&sin6->sin6_addr.s6_addr[12], &be, 4);	/* 2001:db8::N */
		sin6->sin6_port = htons((uint16_t)(1024 + n % 60000));
	}
	return ss;
}

static void
assert_field(const struct kept *k, const char *name, const char *want)
{
	const char *got = field(k, name);

	ck_assert_msg(got != NULL, "no %s in line \"%s\"", name, k->message);
	ck_assert_msg(strcmp(got, want) == 0, "%s=%s, want %s", name, got, want);
}

START_TEST(reason_names)
{
	for (int i = 0; i < REFUSAL_COUNT; i++) {
		const char *name = refusal_reason_name((enum refusal_reason)i);

		ck_assert_msg(name[0] != '\0' && strspn(name, "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(name), "reason %d: \"%s\"", i, name);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(name, refusal_reason_name((enum refusal_reason)j));
	}
	ck_assert_str_eq(refusal_reason_name(REFUSAL_ACL), "acl");
	ck_assert_str_eq(refusal_reason_name(REFUSAL_CONNECTION_RATE), "connection_rate");
	ck_assert_str_eq(refusal_reason_name(REFUSAL_MAX_CONNECTIONS), "max_connections");
	ck_assert_str_eq(refusal_reason_name(REFUSAL_COUNT), "unknown");
}
END_TEST

START_TEST(new_rejects_nonsense)
{
	errno = 0;
	ck_assert_ptr_null(refusal_log_new(0, 10));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(refusal_log_new(64, 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(first_refusal_logged_once_with_fields)
{
	struct refusal_log *rl = new_captured(256, 100);
	struct sockaddr_storage a = peer("192.0.2.1", 40000), a2 = peer("192.0.2.1", 40001);
	struct sockaddr_storage mapped = peer("::ffff:192.0.2.1", 40002);
	struct sockaddr_storage b = peer("2001:db8::1", 5);
	const struct kept *k = &cap.kept[0];

	refusal_log_note(rl, SA(a), REFUSAL_ACL, "udp 127.0.0.1:7", T0);
	/* Workers only queue: nothing is written until the control thread drains. */
	ck_assert_int_eq(cap.lines, 0);
	refusal_log_drain(rl, T0);
	ck_assert_int_eq(cap.lines, 1);
	ck_assert_int_eq(k->priority, LOG_NOTICE);
	ck_assert_str_eq(k->msgid, ECHOD_MSGID_REFUSED);
	assert_field(k, "ECHOD_PEER", "192.0.2.1:40000");
	assert_field(k, "ECHOD_SOURCE", "192.0.2.1");
	assert_field(k, "ECHOD_LIMIT", "acl");
	assert_field(k, "ECHOD_LISTENER", "udp 127.0.0.1:7");
	assert_field(k, "ECHOD_REFUSALS", "1");
	ck_assert_ptr_nonnull(strstr(k->message, "192.0.2.1:40000"));

	/* The same source (another port, the same address mapped): counted, not logged. */
	note_drained(rl, SA(a2), REFUSAL_ACL, "udp 127.0.0.1:7", T0 + 1);
	note_drained(rl, SA(mapped), REFUSAL_ACL, "tcp [::]:7", T0 + 2);
	refusal_log_tick(rl, T0 + 1000);
	ck_assert_int_eq(cap.lines, 1);

	/* Another reason of that source, another source: each a first line. */
	note_drained(rl, SA(a), REFUSAL_CONNECTION_RATE, "tcp 127.0.0.1:7", T0 + 3);
	ck_assert_int_eq(cap.lines, 2);
	assert_field(&cap.kept[1], "ECHOD_LIMIT", "connection_rate");
	note_drained(rl, SA(b), REFUSAL_ACL, "tcp [::]:7", T0 + 4);
	ck_assert_int_eq(cap.lines, 3);
	assert_field(&cap.kept[2], "ECHOD_PEER", "[2001:db8::1]:5");
	assert_field(&cap.kept[2], "ECHOD_SOURCE", "2001:db8::1");
	/* A Unix peer (or none) is one source, "local". */
	note_drained(rl, NULL, REFUSAL_MAX_CONNECTIONS, "unix /run/echod/echo.sock", T0 + 5);
	ck_assert_int_eq(cap.lines, 4);
	assert_field(&cap.kept[3], "ECHOD_PEER", "local");
	assert_field(&cap.kept[3], "ECHOD_LIMIT", "max_connections");
	refusal_log_free(rl);
}
END_TEST

/*
 * An IPv4 client of a dual-stack socket comes as ::ffff:a.b.c.d: every line
 * and field writes it as IPv4, the first line and the summary alike.
 */
START_TEST(mapped_peer_written_as_ipv4)
{
	struct refusal_log *rl = new_captured(256, 100);
	struct sockaddr_storage mapped = peer("::ffff:192.0.2.7", 40003);
	const struct kept *k = &cap.kept[0];

	note_drained(rl, SA(mapped), REFUSAL_ACL, "tcp [::]:7", T0);
	ck_assert_int_eq(cap.lines, 1);
	assert_field(k, "ECHOD_PEER", "192.0.2.7:40003");
	assert_field(k, "ECHOD_SOURCE", "192.0.2.7");
	ck_assert_msg(strstr(k->message, "refused 192.0.2.7:40003 on tcp [::]:7: acl") != NULL,
	    "%s", k->message);
	ck_assert_ptr_null(strstr(k->message, "::ffff:"));
	note_drained(rl, SA(mapped), REFUSAL_ACL, "tcp [::]:7", T0 + 1);
	refusal_log_tick(rl, T0 + REFUSAL_WINDOW_MS);
	ck_assert_int_eq(cap.lines, 2);
	assert_field(&cap.kept[1], "ECHOD_PEER", "192.0.2.7");
	ck_assert_ptr_null(strstr(cap.kept[1].message, "::ffff:"));
	refusal_log_free(rl);
}
END_TEST

/* The default emitter writes through log.c: the line reaches stderr, once. */
START_TEST(default_emitter_writes_stderr)
{
	struct refusal_log *rl = refusal_log_new(64, 10);
	struct sockaddr_storage a = peer("198.51.100.7", 9);
	char path[] = "/tmp/check_refusal_log.XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), lines = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(rl);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	log_init(LOG_TARGET_STDERR, LOG_INFO);
	dup2(fd, STDERR_FILENO);
	for (int i = 0; i < 100; i++)
		refusal_log_note(rl, SA(a), REFUSAL_DATAGRAM_RATE, "udp 127.0.0.1:7", T0 + i);
	refusal_log_drain(rl, T0 + 100);
	/* Below the level: nothing at all, not even counted for a warning. */
	log_init(LOG_TARGET_STDERR, LOG_WARNING);
	refusal_log_note(rl, SA(a), REFUSAL_OVERSIZE, "udp 127.0.0.1:7", T0 + 100);
	refusal_log_tick(rl, T0 + 1000);
	log_init(LOG_TARGET_STDERR, LOG_INFO);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	for (char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_msg(lines == 1, "%d lines: %s", lines, buf);
	ck_assert_msg(strstr(buf, "refused 198.51.100.7:9") != NULL &&
	    strstr(buf, "datagram_rate") != NULL, "line: %s", buf);
	refusal_log_free(rl);
}
END_TEST

START_TEST(later_refusals_summarised_once_a_minute)
{
	struct refusal_log *rl = new_captured(256, 100);
	struct sockaddr_storage a = peer("192.0.2.9", 1234);
	const struct kept *k;

	note_drained(rl, SA(a), REFUSAL_CONNECTION_RATE, "tcp 127.0.0.1:7", T0);
	for (int i = 0; i < 1000; i++)
		refusal_log_note(rl, SA(a), REFUSAL_CONNECTION_RATE, "tcp 127.0.0.1:7",
		    T0 + 1 + (uint64_t)i * 50);
	for (uint64_t t = T0; t < T0 + REFUSAL_WINDOW_MS; t += 1000)
		refusal_log_tick(rl, t);
	ck_assert_int_eq(cap.lines, 1);

	refusal_log_tick(rl, T0 + REFUSAL_WINDOW_MS);
	ck_assert_int_eq(cap.lines, 2);
	k = &cap.kept[1];
	ck_assert_str_eq(k->msgid, ECHOD_MSGID_REFUSED_SUMMARY);
	assert_field(k, "ECHOD_REFUSALS", "1000");
	assert_field(k, "ECHOD_PEER", "192.0.2.9");
	assert_field(k, "ECHOD_LIMIT", "connection_rate");
	assert_field(k, "ECHOD_LISTENER", "tcp 127.0.0.1:7");

	/* Refused on: counted into the next window, one summary a minute later. */
	for (int i = 0; i < 5; i++)
		refusal_log_note(rl, SA(a), REFUSAL_CONNECTION_RATE, "tcp 127.0.0.1:7",
		    T0 + REFUSAL_WINDOW_MS + 10 + (uint64_t)i);
	refusal_log_tick(rl, T0 + 2 * REFUSAL_WINDOW_MS - 1);
	ck_assert_int_eq(cap.lines, 2);
	refusal_log_tick(rl, T0 + 2 * REFUSAL_WINDOW_MS);
	ck_assert_int_eq(cap.lines, 3);
	assert_field(&cap.kept[2], "ECHOD_REFUSALS", "5");

	/* A quiet window ends the pair: no line, and the next refusal is a first again. */
	refusal_log_tick(rl, T0 + 3 * REFUSAL_WINDOW_MS);
	ck_assert_int_eq(cap.lines, 3);
	note_drained(rl, SA(a), REFUSAL_CONNECTION_RATE, "tcp 127.0.0.1:7",
	    T0 + 3 * REFUSAL_WINDOW_MS + 1);
	ck_assert_int_eq(cap.lines, 4);
	ck_assert_str_eq(cap.kept[3].msgid, ECHOD_MSGID_REFUSED);
	ck_assert_int_eq(cap.warnings, 0);
	refusal_log_free(rl);
}
END_TEST

#define FLOOD_NOTES	100000
#define FLOOD_SOURCES	50000
#define FLOOD_SECONDS	5
#define FLOOD_LINES	10

START_TEST(spoofed_flood_bounded)
{
	struct refusal_log *rl = new_captured(1024, FLOOD_LINES);
	uint64_t t = T0;

	alloc_count_start();
	for (uint32_t i = 0; i < FLOOD_NOTES; i++) {
		struct sockaddr_storage ss = spoofed(i % FLOOD_SOURCES);

		t = T0 + (uint64_t)i * FLOOD_SECONDS * 1000 / FLOOD_NOTES;
		refusal_log_note(rl, SA(ss), REFUSAL_DATAGRAM_RATE, "udp 127.0.0.1:7", t);
		/* The control thread drains meanwhile, well before the queue is full. */
		if (i % 100 == 99)
			refusal_log_drain(rl, t);
	}
	ck_assert_int_eq(alloc_count_stop(), 0);
	ck_assert_int_le(cap.lines, FLOOD_SECONDS * FLOOD_LINES);
	refusal_log_tick(rl, t + 1);
	ck_assert_int_le(cap.lines, FLOOD_SECONDS * FLOOD_LINES + 1);
	ck_assert_int_eq(cap.warnings, 1);
	ck_assert_uint_gt(cap.unlogged, 0);

	/* Summaries of the logged sources, bounded too; still every refusal told about once. */
	for (uint64_t s = t + 1000; s < t + 3 * REFUSAL_WINDOW_MS; s += 1000) {
		int before = cap.lines;

		refusal_log_tick(rl, s);
		ck_assert_int_le(cap.lines - before, FLOOD_LINES + 1);
	}
	ck_assert_uint_eq(cap.first + cap.summarised + cap.unlogged, FLOOD_NOTES);
	refusal_log_free(rl);
}
END_TEST

/*
 * No drain while more than a queue's worth is noted: the ones with no room
 * are counted for the warning, the rest summarised: each told about once.
 */
START_TEST(full_queue_counted)
{
	struct refusal_log *rl = new_captured(256, 100);
	struct sockaddr_storage a = peer("192.0.2.77", 7);

	alloc_count_start();
	for (int i = 0; i < REFUSAL_QUEUE_LEN + 5; i++)
		refusal_log_note(rl, SA(a), REFUSAL_ACL, "udp 127.0.0.1:7", T0 + (uint64_t)i);
	ck_assert_int_eq(alloc_count_stop(), 0);
	ck_assert_int_eq(cap.lines, 0);
	refusal_log_tick(rl, T0 + 2000);
	ck_assert_int_eq(cap.lines, 2);
	ck_assert_str_eq(cap.kept[0].msgid, ECHOD_MSGID_REFUSED);
	ck_assert_str_eq(cap.kept[1].msgid, ECHOD_MSGID_REFUSALS_UNLOGGED);
	assert_field(&cap.kept[1], "ECHOD_REFUSALS", "5");
	refusal_log_tick(rl, T0 + REFUSAL_WINDOW_MS);
	ck_assert_int_eq(cap.lines, 3);
	ck_assert_uint_eq(cap.summarised, REFUSAL_QUEUE_LEN - 1);
	ck_assert_uint_eq(cap.first + cap.summarised + cap.unlogged, REFUSAL_QUEUE_LEN + 5);
	refusal_log_free(rl);
}
END_TEST

/* The eventfd: readable once something is queued, quiet again after a drain. */
START_TEST(wake_fd_readable_when_queued)
{
	struct refusal_log *rl = new_captured(256, 100);
	struct sockaddr_storage a = peer("192.0.2.78", 7);
	struct pollfd pfd = { .fd = refusal_log_wake_fd(rl), .events = POLLIN };

	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	refusal_log_note(rl, SA(a), REFUSAL_ACL, "udp 127.0.0.1:7", T0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	refusal_log_drain(rl, T0);
	ck_assert_int_eq(cap.lines, 1);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	/* Re-armed at that drain: the next record wakes the consumer at once... */
	refusal_log_note(rl, SA(a), REFUSAL_OVERSIZE, "udp 127.0.0.1:7", T0 + 1);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	refusal_log_drain(rl, T0 + 1);
	ck_assert_int_eq(cap.lines, 2);
	/* ...but that drain does not re-arm (too soon): a burst writes the eventfd no more. */
	ck_assert_uint_eq(refusal_log_next_ms(rl), T0 + REFUSAL_WAKE_MS);
	for (int i = 0; i < 100; i++)
		refusal_log_note(rl, SA(a), REFUSAL_SOURCE_PORT, "udp 127.0.0.1:7", T0 + 2);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	/* The re-arm deadline drains them; after it nothing is pending. */
	refusal_log_drain(rl, T0 + REFUSAL_WAKE_MS);
	ck_assert_int_eq(cap.lines, 3);
	ck_assert_uint_eq(refusal_log_next_ms(rl), UINT64_MAX);
	refusal_log_free(rl);
}
END_TEST

/* Two workers note while a third thread ticks (the consumer): fake time moves with the ticks. */
#define THREAD_NOTES	100000
#define THREAD_SOURCES	500

static _Atomic uint64_t fake_now;
static atomic_bool noting_done;

struct noter {
	struct refusal_log *rl;
	uint32_t seed;
};

static void *
noter_thread(void *arg)
{
	struct noter *n = arg;

	for (uint32_t i = 0; i < THREAD_NOTES; i++) {
		uint32_t src = (i * 7 + n->seed) % THREAD_SOURCES;
		struct sockaddr_storage ss = spoofed(src);

		refusal_log_note(n->rl, SA(ss), (enum refusal_reason)(i % 3), "udp 127.0.0.1:7",
		    atomic_load(&fake_now));
	}
	return NULL;
}

static void *
ticker_thread(void *arg)
{
	struct refusal_log *rl = arg;

	while (!atomic_load(&noting_done)) {
		refusal_log_tick(rl, atomic_fetch_add(&fake_now, 250) + 250);
		sched_yield();
	}
	return NULL;
}

START_TEST(threads_lose_nothing)
{
	struct refusal_log *rl = new_captured(4096, 50);
	struct noter n1 = { rl, 1 }, n2 = { rl, 3 };
	pthread_t t1, t2, tt;
	uint64_t end;

	atomic_store(&fake_now, T0);
	atomic_store(&noting_done, false);
	ck_assert_int_eq(pthread_create(&tt, NULL, ticker_thread, rl), 0);
	ck_assert_int_eq(pthread_create(&t1, NULL, noter_thread, &n1), 0);
	ck_assert_int_eq(pthread_create(&t2, NULL, noter_thread, &n2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	atomic_store(&noting_done, true);
	pthread_join(tt, NULL);
	/* Two windows later every count has been told: in a summary or a warning. */
	end = atomic_load(&fake_now);
	for (uint64_t s = end + 1000; s <= end + 2 * REFUSAL_WINDOW_MS + 1000; s += 1000)
		refusal_log_tick(rl, s);
	ck_assert_uint_eq(cap.first + cap.summarised + cap.unlogged, 2 * THREAD_NOTES);
	ck_assert_uint_gt(cap.first, 0);
	refusal_log_free(rl);
}
END_TEST

static Suite *
refusal_log_suite(void)
{
	Suite *s = suite_create("refusal_log");
	TCase *tc = tcase_create("lines");
	TCase *load = tcase_create("load");

	tcase_add_test(tc, reason_names);
	tcase_add_test(tc, new_rejects_nonsense);
	tcase_add_test(tc, first_refusal_logged_once_with_fields);
	tcase_add_test(tc, mapped_peer_written_as_ipv4);
	tcase_add_test(tc, default_emitter_writes_stderr);
	tcase_add_test(tc, later_refusals_summarised_once_a_minute);
	tcase_add_test(tc, full_queue_counted);
	tcase_add_test(tc, wake_fd_readable_when_queued);
	suite_add_tcase(s, tc);
	tcase_set_timeout(load, 60);
	tcase_add_test(load, spoofed_flood_bounded);
	tcase_add_test(load, threads_lose_nothing);
	suite_add_tcase(s, load);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(refusal_log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
