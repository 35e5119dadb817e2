/*
 * Shared runner for the unit suites: TAP on stdout (meson reads it with
 * protocol: 'tap'), nothing else. CK_TAP_LOG_FILE_NAME in the environment
 * still wins over the name set here, as Check documents.
 */
#ifndef ORDERLY_TESTS_UNIT_MAIN_H
#define ORDERLY_TESTS_UNIT_MAIN_H

#include <check.h>
#include <stdlib.h>

#include "../check_case.h"

/* Seconds each test may run before Check kills it. */
#define UNIT_TIMEOUT 30

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Runs every suite in the NULL-terminated list; exit status for main. */
static int unit_run(Suite *const *suites)
{
    SRunner *sr = srunner_create(suites[0]);
    size_t i;
    int failed;

    for (i = 1; suites[i] != NULL; i++)
        srunner_add_suite(sr, suites[i]);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
