/*
 * A controller-mode master with allAckInSyncStateSet lets consumers read only
 * what its in-sync slave acknowledged (Apache 5.x: the reput stops at
 * CommitLog.getConfirmOffset, readUnCommitted=false). Without that a consumer
 * could read a record the slave never got; after a failover to the slave the
 * new master stores other records at the same queue offsets and the consumer,
 * already past them, never gets those acknowledged messages (the 5.3.3 push
 * consumer did so in compat/apache5 NetnsClusterTest when the master's link
 * was cut).
 *
 *  1. a is master, b its in-sync slave; acknowledged sends are readable on a.
 *  2. b is paused (SIGSTOP): a stores a send but cannot acknowledge it
 *     (FLUSH_SLAVE_TIMEOUT); the queue's max offset on a stays where it was
 *     and a pull finds nothing past the acknowledged ones.
 *  3. b resumes and acknowledges: the record becomes readable on a.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "ha_harness.h"
#include "processor/response_codes.h"

static hh_env env;
static test_broker a, b;

START_TEST(test_consumers_read_only_what_the_in_sync_slave_has)
{
    char *sent[64];
    int acked = 0;
    /* 1. */
    int64_t end = hh_start_pair(&env, &a, &b, "test_ha_confirm", "acked", 5, sent, &acked);
    ck_assert_int_eq(tb_max_offset(&a, HH_TOPIC, 0), 5);

    /* 2. */
    ck_assert_int_eq(kill(b.proc.pid, SIGSTOP), 0);
    rmq_cmd *r = hh_send(&a, "unconfirmed");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, RC_FLUSH_SLAVE_TIMEOUT);   /* stored on a, b does not have it */
    cmd_free(r);
    ck_assert_int_gt(hh_commit_end(&a), end);
    ck_assert_int_eq(tb_max_offset(&a, HH_TOPIC, 0), 5);
    char *on_a[64];
    int n = hh_queue_bodies(&a, on_a, 64);
    ck_assert_int_eq(n, 5);
    hh_free_all(on_a, n);

    /* 3. */
    ck_assert_int_eq(kill(b.proc.pid, SIGCONT), 0);
    int64_t deadline = mono_ms() + HH_DEADLINE_MS;
    while (mono_ms() < deadline && tb_max_offset(&a, HH_TOPIC, 0) != 6) usleep(50000);
    ck_assert_int_eq(tb_max_offset(&a, HH_TOPIC, 0), 6);
    n = hh_queue_bodies(&a, on_a, 64);
    ck_assert_int_eq(n, 6);
    ck_assert_str_eq(on_a[5], "unconfirmed");
    hh_free_all(on_a, n);
    hh_free_all(sent, acked);
    tb_done(&b);
    tb_done(&a);
}
END_TEST

static void setup(void)
{
    hh_env_start(&env, "test_ha_confirm");
}

static void teardown(void)
{
    hh_env_stop(&env);
}

int main(void)
{
    const TTest *tests[] = {test_consumers_read_only_what_the_in_sync_slave_has, NULL};
    return tb_run_tests("ha_confirm", 90, setup, teardown, tests);
}
