/* SPDX-License-Identifier: MIT */
/* echo-client with several HOSTs (the probe engine), in check_client's suite. */
#ifndef ECHOD_TESTS_CLIENT_MULTI_TESTS_H
#define ECHOD_TESTS_CLIENT_MULTI_TESTS_H

#include <check.h>

/* Add the test cases to s, each test allowed timeout seconds. */
void	client_multi_tcases(Suite *s, int timeout);

#endif
