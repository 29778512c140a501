/*
 * The end of every Check test program's main(): runs the suite (in forked children, so a
 * crash fails one test, not the program) and gives main's exit status.
 */
#ifndef RMQ_TESTS_CHECK_RUN_H
#define RMQ_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
