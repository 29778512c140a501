/*
 * A master demoted while it runs (not restarted) cuts its commit log back to
 * the epoch boundary and follows the new master, as Apache 5.x's
 * AutoSwitchHAClient.doTruncate does:
 *
 *  1. a is master, b its in-sync slave; acknowledged sends are on both.
 *  2. b dies; a stores one more message no replica has (SLAVE_NOT_AVAILABLE).
 *  3. a is paused (SIGSTOP) past its heartbeat timeout: the controller clears
 *     the master; b restarts and is elected (it is in the SyncStateSet), takes
 *     sends under a new epoch.
 *  4. a resumes — the same process — learns of the new master, cuts its log
 *     back to where b's epoch began (the unacknowledged message goes) and
 *     replicates: both logs end alike and hold every acknowledged message,
 *     a's epoch cache has b's epoch, a rejoins the SyncStateSet.
 *  5. b dies: a, whose log was cut while running, is elected and serves.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ha_harness.h"

static hh_env env;
static test_broker a, b;

/* GET_BROKER_EPOCH_CACHE's epochList as text. */
static char *epoch_list(const test_broker *tb)
{
    rmq_cmd *resp = tb_call(tb, cmd_new_request(1007), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    char *body = xstrndup((const char *)resp->body, resp->body_len);
    cmd_free(resp);
    char *from = strstr(body, "\"epochList\":"), *to = from ? strstr(from, "]") : NULL;
    ck_assert_msg(from && to, "no epochList in %s", body);
    char *list = xstrndup(from, (size_t)(to - from + 1));
    free(body);
    return list;
}

START_TEST(test_master_demoted_while_running_cuts_back_and_follows)
{
    char *sent[512];
    int acked = 0;
    /* 1. */
    int64_t boundary = hh_start_pair(&env, &a, &b, "test_ha_demote", "before", 20, sent, &acked);

    /* 2. */
    hh_kill9(&b);
    rmq_cmd *r = hh_send(&a, "never-acknowledged");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 11);   /* SLAVE_NOT_AVAILABLE: stored on a alone */
    cmd_free(r);
    int64_t a_long_end = hh_commit_end(&a);
    ck_assert_int_gt(a_long_end, boundary);

    /* 3. */
    pid_t a_pid = a.proc.pid;
    ck_assert_int_eq(kill(a_pid, SIGSTOP), 0);
    hh_wait_controller(&env.ns, -1, 2);   /* a timed out; nobody alive to elect */
    tb_start(&b);
    hh_wait_controller(&env.ns, 2, 1);
    hh_send_until_ok(&b, "after-0", sent, &acked);
    hh_send_acked(&b, "after", 9, sent, &acked);
    ck_assert_int_eq(hh_commit_end(&b) > boundary, 1);

    /* 4. the same process resumes. */
    int64_t t_resume = mono_ms();
    ck_assert_int_eq(kill(a_pid, SIGCONT), 0);
    ck_assert_int_eq(hh_assert_same_logs(&a, &b), acked);
    fprintf(stderr, "demoted master resumed -> its log cut back and equal to the new master's: %lld ms\n",
            (long long)(mono_ms() - t_resume));
    ck_assert_int_eq(a.proc.pid, a_pid);
    ck_assert_int_eq(kill(a_pid, 0), 0);   /* never restarted */
    char *on_a[512];
    int na = hh_queue_bodies(&a, on_a, 512);
    for (int i = 0; i < na; i++) ck_assert_str_eq(on_a[i], sent[i]);
    hh_free_all(on_a, na);
    r = hh_send(&a, "to-a-slave");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->code, 0);   /* a slave refuses sends */
    cmd_free(r);
    /* b's epoch (3: the controller's clearing took 2) began at the boundary; a has it too. */
    char *want = str_printf("\"epochList\":[{\"endOffset\":%" PRId64 ",\"epoch\":1,\"startOffset\":0},"
                            "{\"endOffset\":9223372036854775807,\"epoch\":3,\"startOffset\":%" PRId64 "}]",
                            boundary, boundary);
    char *on_b_list = epoch_list(&b), *on_a_list = epoch_list(&a);
    ck_assert_str_eq(on_b_list, want);
    ck_assert_str_eq(on_a_list, want);
    free(on_a_list), free(on_b_list), free(want);
    hh_wait_controller(&env.ns, 2, 2);

    /* 5. */
    hh_kill9(&b);
    hh_wait_controller(&env.ns, 1, 1);
    hh_send_until_ok(&a, "on-a", sent, &acked);
    na = hh_queue_bodies(&a, on_a, 512);
    ck_assert_int_eq(na, acked);
    for (int i = 0; i < na; i++) ck_assert_str_eq(on_a[i], sent[i]);
    hh_free_all(on_a, na);
    hh_free_all(sent, acked);
    tb_done(&a);
    test_rmdir(b.dir);
    free(b.dir);
}
END_TEST

static void setup(void)
{
    hh_env_start(&env, "test_ha_demote");
}

static void teardown(void)
{
    hh_env_stop(&env);
}

int main(void)
{
    const TTest *tests[] = {test_master_demoted_while_running_cuts_back_and_follows, NULL};
    return tb_run_tests("ha_demote", 120, setup, teardown, tests);
}
