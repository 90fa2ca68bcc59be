/* SPDX-License-Identifier: MIT */
/* echo-client --stamp's tests, in check_client's suite: golden packets, sessions against
 * libstamp's reflector and echod, authentication, CoS, hops, loss per direction. */
#ifndef ECHOD_TESTS_STAMP_CLIENT_TESTS_H
#define ECHOD_TESTS_STAMP_CLIENT_TESTS_H

#include <check.h>

/* Add the test cases to s, each test allowed timeout seconds. */
void	stamp_client_tcases(Suite *s, int timeout);

#endif
