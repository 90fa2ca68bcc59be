/* SPDX-License-Identifier: MIT */
/* check_dropins: include_dir drop-ins, control_socket and "no listeners" in config_load(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "config.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_dropins.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write dir/name (creating dir/conf.d when name is under it); returns the path. */
static const char *
put(const char *name, const char *fmt, ...)
{
	static char path[256];
	char sub[128];
	va_list ap;
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	(void)mkdir(sub, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

static struct echod_config *
load_main(struct config_errors *errs)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/echod.conf", dir);
	return config_load(path, errs);
}

/* Some line of errs starts with dir/file:line: and holds words. */
static bool
has_error(const struct config_errors *errs, const char *file, int line, const char *words)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "%s/%s:%d: ", dir, file, line);
	for (size_t i = 0; i < errs->count; i++)
		if (strncmp(errs->lines[i], prefix, strlen(prefix)) == 0 &&
		    strstr(errs->lines[i], words) != NULL)
			return true;
	return false;
}

START_TEST(dropins_append_listeners_and_replace_keys_in_order)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg;

	put("echod.conf", "include_dir = \"conf.d\";\nworkers = 2;\nallow = [ \"10.0.0.0/8\" ];\n"
	    "limits = { idle_timeout = 5; buffer_size = 4096; };\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	put("conf.d/20-b.conf", "workers = 4;\nlisteners = ( { protocol = \"udp\"; port = 7002; } );\n");
	put("conf.d/10-a.conf", "workers = 3;\nlimits = { idle_timeout = 9; };\n"
	    "allow = [ \"192.0.2.0/24\" ];\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7003; deny = [ \"192.0.2.1/32\" ]; } );\n");
	put("conf.d/30-c.conf.disabled", "workers = 99;\n");
	put("conf.d/.40-hidden.conf", "workers = 98;\n");
	cfg = load_main(&errs);
	ck_assert_msg(cfg != NULL, "%s", errs.count ? errs.lines[0] : "");
	ck_assert_uint_eq(cfg->nfiles, 3);
	ck_assert_ptr_nonnull(strstr(cfg->files[1], "/conf.d/10-a.conf"));
	ck_assert_ptr_nonnull(strstr(cfg->files[2], "/conf.d/20-b.conf"));
	ck_assert_uint_eq(cfg->nlisteners, 3);
	ck_assert_int_eq(cfg->listeners[0].port, 7001);
	ck_assert_int_eq(cfg->listeners[1].port, 7003);
	ck_assert_int_eq(cfg->listeners[2].port, 7002);
	ck_assert_ptr_nonnull(strstr(cfg->listeners[1].where, "/conf.d/10-a.conf:4"));
	ck_assert_int_eq(cfg->workers, 4);
	/* limits member by member: idle_timeout from the drop-in, buffer_size kept. */
	ck_assert_int_eq(cfg->limits.idle_timeout, 9);
	ck_assert_int_eq(cfg->limits.buffer_size, 4096);
	/* Top-level allow replaced by the drop-in; listeners without their own take it. */
	ck_assert_uint_eq(cfg->acl.nallow, 1);
	ck_assert_uint_eq(cfg->listeners[0].acl.nallow, 1);
	ck_assert_uint_eq(cfg->listeners[1].acl.ndeny, 1);
	config_free(cfg);
}
END_TEST

START_TEST(errors_name_the_dropin_file_and_line)
{
	struct config_errors errs = { 0 };

	put("echod.conf", "include_dir = \"conf.d\";\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	put("conf.d/a.conf", "\n\nlisteners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	put("conf.d/b.conf", "workers = 1;\nprot = 1;\n");
	put("conf.d/c.conf", "control_socket = \"/run/x\";\ninclude_dir = \"x\";\n");
	put("conf.d/d.conf", "workers = ;\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "conf.d/b.conf", 2, "unknown key 'prot' in the top level"));
	ck_assert(has_error(&errs, "conf.d/c.conf", 1, "control_socket may only be set in the "
	    "main configuration file"));
	ck_assert(has_error(&errs, "conf.d/c.conf", 2, "include_dir may only be set"));
	ck_assert(has_error(&errs, "conf.d/d.conf", 1, "syntax error"));
	config_errors_free(&errs);
	/* Once the others are fixed, the duplicate across files is named too. */
	put("conf.d/b.conf", "workers = 1;\n");
	put("conf.d/c.conf", "\n");
	put("conf.d/d.conf", "\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "conf.d/a.conf", 3, "duplicate listener"));
	config_errors_free(&errs);
}
END_TEST

START_TEST(missing_dropin_directory_is_no_dropins)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg;

	put("echod.conf", "include_dir = \"nowhere.d\";\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	cfg = load_main(&errs);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->nfiles, 1);
	config_free(cfg);
	/* A file where the directory should be is a mistake worth saying. */
	put("nowhere.d", "\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "echod.conf", 1, "include_dir"));
	config_errors_free(&errs);
}
END_TEST

START_TEST(no_listeners_is_an_error)
{
	struct config_errors errs = { 0 };

	put("echod.conf", "workers = 1;\n\nlisteners = ( );\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "echod.conf", 3, "no listeners"));
	config_errors_free(&errs);
	put("echod.conf", "workers = 1;\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "echod.conf", 1, "no listeners"));
	config_errors_free(&errs);
}
END_TEST

START_TEST(control_socket_values)
{
	struct config_errors errs = { 0 };
	struct echod_config *cfg;

	put("echod.conf", "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	cfg = load_main(&errs);
	ck_assert_ptr_null(cfg->control_socket);
	config_free(cfg);
	put("echod.conf", "control_socket = \"\";\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	cfg = load_main(&errs);
	ck_assert_str_eq(cfg->control_socket, "");
	config_free(cfg);
	put("echod.conf", "control_socket = \"run/ctl\";\n"
	    "listeners = ( { protocol = \"tcp\"; port = 7001; } );\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "echod.conf", 1, "must be an absolute path"));
	config_errors_free(&errs);
}
END_TEST

/* What the generator could not write into echod.socket is refused where it is written. */
START_TEST(what_a_socket_unit_cannot_carry_is_refused)
{
	struct config_errors errs = { 0 };

	put("echod.conf", "listeners = (\n"
	    "{ protocol = \"tcp\"; port = 7001; address = \"::ffff:127.0.0.1\"; },\n"
	    "{ protocol = \"unix\"; path = \"/run/echod/a\\\\\"; },\n"
	    "{ protocol = \"unix\"; path = \"/run/echod/b \"; },\n"
	    "{ protocol = \"unix\"; path = \"/run/echod/c\\td\"; } );\n");
	ck_assert_ptr_null(load_main(&errs));
	ck_assert(has_error(&errs, "echod.conf", 2, "IPv4-mapped"));
	ck_assert(has_error(&errs, "echod.conf", 3, "not end in a blank or a backslash"));
	ck_assert(has_error(&errs, "echod.conf", 4, "not end in a blank or a backslash"));
	ck_assert(has_error(&errs, "echod.conf", 5, "no control character"));
	config_errors_free(&errs);
}
END_TEST

static Suite *
dropins_suite(void)
{
	Suite *s = suite_create("dropins");
	TCase *tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dropins_append_listeners_and_replace_keys_in_order);
	tcase_add_test(tc, errors_name_the_dropin_file_and_line);
	tcase_add_test(tc, missing_dropin_directory_is_no_dropins);
	tcase_add_test(tc, no_listeners_is_an_error);
	tcase_add_test(tc, control_socket_values);
	tcase_add_test(tc, what_a_socket_unit_cannot_carry_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dropins_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
