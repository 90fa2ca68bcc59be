/* SPDX-License-Identifier: MIT */
/* check_apply_park: a reload that cannot tell a worker to drop a listener (out of memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "apply.h"
#include "compile.h"
#include "generation.h"
#include "log.h"
#include "view.h"

/*
 * These replace worker.c's (not linked): a worker holds a listener from
 * "add" until it processes "remove". fail_removes: posting fails, as when
 * calloc() fails in worker.c's post().
 */
static bool fail_removes;

int
worker_add_listener(struct worker *w, struct listener *l)
{
	listener_hold(l);
	return 0;
}

int
worker_remove_listener(struct worker *w, struct listener *l)
{
	if (fail_removes)
		return -1;
	listener_release(l);
	return 0;
}

static char dir[] = "/tmp/check_apply_park.XXXXXX";

/* A configuration with one Unix listener at dir/name, through the real loader. */
static struct echod_config *
cfg_unix(const char *name)
{
	char path[300], text[400];
	struct config_errors errs = { 0 };
	struct echod_config *cfg;
	FILE *f;

	snprintf(path, sizeof(path), "%s/echod.conf", dir);
	snprintf(text, sizeof(text),
	    "listeners = ( { protocol = \"unix\"; path = \"%s/%s\"; } );\n", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	cfg = config_load(path, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.count > 0 ? errs.lines[0] : "?");
	return cfg;
}

static bool
report_has(const struct report *r, const char *text)
{
	for (size_t i = 0; i < r->count; i++)
		if (strstr(r->lines[i], text) != NULL)
			return true;
	return false;
}

/* One reload as reload.c does it: apply cfg, compile its generation, publish it. */
static int
reload(struct apply_ctx *ctx, struct echod_config *cfg, struct report *rep)
{
	struct status_rows unserved = { 0 };
	struct generation *gen;
	int failures;

	report_clear(rep);
	failures = apply_config(ctx, cfg, rep, &unserved);
	gen = compile_generation(ctx->set, cfg, rep);
	ck_assert_ptr_nonnull(gen);
	apply_publish(ctx, gen, rep);
	status_rows_clear(&unserved);
	return failures;
}

/* The generation in force has a view for the socket: something serves it. */
static bool
has_view(const struct apply_ctx *ctx, const struct listener *l)
{
	return generation_view(ctx->generations->current, l) != NULL;
}

/*
 * The listener a worker may still watch must not keep a view into the old
 * configuration, which is freed with its generation (ASan would see the use):
 * the new generation has none for it.
 */
START_TEST(unremovable_listener_is_parked)
{
	struct listener_set set = { 0 };
	struct worker *workers[2] = { NULL, NULL };
	struct generation_slot slot = { 0 };
	struct apply_ctx ctx = { .set = &set, .workers = workers, .nworkers = 2,
	    .generations = &slot };
	struct echod_config *a, *b;
	struct report rep = { 0 };
	char cmd[64];

	log_init(LOG_TARGET_STDERR, LOG_ERR);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	a = cfg_unix("a.sock");
	b = cfg_unix("b.sock");
	ck_assert_int_eq(reload(&ctx, a, &rep), 0);
	ck_assert_uint_eq(set.count, 1);

	fail_removes = true;
	reload(&ctx, b, &rep);
	ck_assert_uint_eq(set.count, 2);
	ck_assert(set.items[0]->parked);
	ck_assert(!has_view(&ctx, set.items[0]));
	ck_assert(has_view(&ctx, set.items[1]));
	ck_assert_msg(report_has(&rep, "stays open and answers nothing until the next reload"),
	    "%s", rep.count > 0 ? rep.lines[0] : "(empty report)");
	ck_assert(rep.failed);

	/* The next reload tries again, and this time the workers hear it. */
	fail_removes = false;
	b = cfg_unix("b.sock");
	ck_assert_int_eq(reload(&ctx, b, &rep), 0);
	ck_assert_uint_eq(set.count, 1);
	ck_assert(!set.items[0]->parked);
	ck_assert(has_view(&ctx, set.items[0]));
	ck_assert(report_has(&rep, "closed"));

	report_clear(&rep);
	/* The workers stop: they drop what they watch. */
	for (size_t w = 0; w < ctx.nworkers; w++)
		worker_remove_listener(workers[w], set.items[0]);
	listener_set_clear(&set);
	/* Every configuration belongs to a generation: freed with them. */
	generation_writer_fini();
	generation_free(slot.current);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("apply_park");
	TCase *tc = tcase_create("out of memory");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, unremovable_listener_is_parked);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
