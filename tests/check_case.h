/*
 * One TCase per behaviour. Every suite registers each test as a case of its
 * own, named by the test, whose name states the behaviour: a failure report
 * then names the behaviour that broke, and a case's timeout bounds one test
 * rather than a themed group that grows.
 */
#ifndef ORDERLY_TESTS_CHECK_CASE_H
#define ORDERLY_TESTS_CHECK_CASE_H

#include <check.h>

/* Adds test to s as its own case; timeout_s 0 keeps Check's default. */
static inline TCase *orderly_test_case(Suite *s, const TTest *test, double timeout_s)
{
    TCase *tc = tcase_create(test->name);

    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    tcase_add_test(tc, test);
    suite_add_tcase(s, tc);
    return tc;
}

/* The same for a loop test run with _i in [start, end). */
static inline TCase *orderly_test_loop(Suite *s, const TTest *test, int start, int end,
                                       double timeout_s)
{
    TCase *tc = tcase_create(test->name);

    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    tcase_add_loop_test(tc, test, start, end);
    suite_add_tcase(s, tc);
    return tc;
}

#endif
