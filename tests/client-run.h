/* SPDX-License-Identifier: MIT */
/* Runs echo-client ($ECHO_CLIENT) as a child, feeds its stdin in steps, captures its output. */
#ifndef ECHOD_TESTS_CLIENT_RUN_H
#define ECHOD_TESTS_CLIENT_RUN_H

#include <stddef.h>

/*
 * One step of a conversation with the client: once its stdout contains `after` (at once
 * when NULL), write `len` bytes of `input` to its stdin (strlen(input) when len is 0), then
 * send it signal `sig` when not 0. Standard input is closed after the last step. Waiting
 * for output instead of sleeping makes the order of events certain.
 */
struct run_step {
	const char *after;
	const char *input;
	size_t len;
	int sig;
};

struct run_result {
	int status;	/* exit status; 128 + n when killed by signal n; -1 on harness failure */
	char *out;	/* standard output, NUL-terminated */
	size_t outlen;
	char *err;	/* standard error, NUL-terminated */
	size_t errlen;
};

enum {
	RUN_NETNS = 1,		/* run the client in a fresh network namespace (no routes) */
	RUN_KEEP_STDIN = 2,	/* leave stdin open after the steps (until the client exits) */
	RUN_LO_1280 = 4,	/* with RUN_NETNS: its loopback up, with an MTU of 1280 */
};

/*
 * Run $ECHO_CLIENT with the NULL-terminated arguments that follow flags, prefixed by the
 * words of $ECHO_CLIENT_WRAPPER (e.g. "valgrind -q --error-exitcode=99"), and wait for it,
 * for at most 60 s. steps may be NULL (stdin closed at once), else ends with a zeroed entry.
 * Returns res->status; free the result with run_free().
 */
int run_client(struct run_result *res, const struct run_step *steps, unsigned flags, ...)
	__attribute__((sentinel));
/* The same with the arguments in a NULL-terminated array. */
int run_clientv(struct run_result *res, const struct run_step *steps, unsigned flags,
    const char *const *args);

void run_free(struct run_result *res);

/* Run this program instead of $ECHO_CLIENT (echod-bench's tests share this runner). */
void run_set_program(const char *path);

/* Count the lines of s that contain needle. */
unsigned run_count_lines(const char *s, const char *needle);

#endif
