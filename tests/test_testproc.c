/*
 * The test harness's ports (testproc.h): a port handed to one test program stays its own
 * while it lives, even while nothing listens on it (a server stopped to be restarted), and
 * lies outside the kernel's ephemeral range so no outgoing connection can take it.
 * Regression: test_controller_e2e restarted its name server on a port a parallel test had
 * meanwhile been given by the kernel.
 */
#include <check.h>
#include <sys/wait.h>

#include "testproc.h"
#include "check_run.h"

/* In a child process: 0 if PORT can be claimed there, 1 if not. */
static int child_claims(int port)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(test_claim_port(port) >= 0 ? 0 : 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_port_below_ephemeral_range_and_free)
{
    for (int i = 0; i < 50; i++) {
        int p = test_free_port();
        ck_assert_int_ge(p, TEST_PORT_LOW);
        ck_assert_int_lt(p, TEST_PORT_HIGH);
        ck_assert(p < 32768);
        ck_assert(test_port_is_free(p));
    }
}
END_TEST

START_TEST(test_port_stays_claimed_while_nothing_listens)
{
    int p = test_free_port();
    /* Another test program asking for ports never gets this one ... */
    ck_assert_int_eq(child_claims(p), 1);
    /* ... nor does this one a second time. */
    for (int i = 0; i < 200; i++) ck_assert_int_ne(test_free_port(), p);
}
END_TEST

START_TEST(test_broker_port_claims_its_neighbours)
{
    int p = test_free_broker_port();
    ck_assert_int_eq(child_claims(p - 2), 1);
    ck_assert_int_eq(child_claims(p), 1);
    ck_assert_int_eq(child_claims(p + 1), 1);
}
END_TEST

START_TEST(test_claim_ends_with_its_process)
{
    /* A port claimed by a process that has exited can be claimed again. */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int port = test_free_port();
        (void)!write(fds[1], &port, sizeof port);
        _exit(0);
    }
    int port = 0;
    ck_assert_int_eq(read(fds[0], &port, sizeof port), (ssize_t)sizeof port);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    ck_assert_int_eq(child_claims(port), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("testproc");
    TCase *tc = tcase_create("ports");
    tcase_add_test(tc, test_port_below_ephemeral_range_and_free);
    tcase_add_test(tc, test_port_stays_claimed_while_nothing_listens);
    tcase_add_test(tc, test_broker_port_claims_its_neighbours);
    tcase_add_test(tc, test_claim_ends_with_its_process);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
