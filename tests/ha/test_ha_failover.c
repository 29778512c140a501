/*
 * Automatic failover in controller mode, end to end: mqnamesrv with the
 * embedded controller and two mqbrokers (enableControllerMode=true,
 * allAckInSyncStateSet=true) replicating with the auto-switch protocol.
 *
 *  1. The first broker is elected master, the second joins as slave and
 *     enters the SyncStateSet; acknowledged sends are on both.
 *  2. The slave is paused while the master stores one more message, which no
 *     replica acknowledges (FLUSH_SLAVE_TIMEOUT), then the master is killed
 *     with SIGKILL: the slave is elected and takes sends (the time from the
 *     kill to the first SEND_OK is printed), and the name server's route
 *     names it as master.
 *  3. Every acknowledged message is on the new master.
 *  4. The old master restarts, rejoins as slave, cuts its log back to the
 *     epoch boundary (the unacknowledged message goes) and catches up: both
 *     logs end at the same offset and hold the same records.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ha_harness.h"

#define TOPIC HH_TOPIC
#define DEADLINE_MS HH_DEADLINE_MS
#define FAILOVER_BOUND_MS 10000  /* what the test accepts from kill to SEND_OK */

static hh_env env;
static test_broker a, b;

/* The master id the name server's route gives for the topic's broker (GET_ROUTEINFO_BY_TOPIC). */
static bool route_names(const test_broker *master)
{
    rmq_cmd *req = cmd_new_request(105);
    cmd_ext_set(req, "topic", TOPIC);
    char err[128];
    rmq_cmd *resp = rmq_invoke_sync(env.ns_addr, req, 3000, err, sizeof err);
    cmd_free(req);
    if (!resp) return false;
    char *body = resp->body_len ? xstrndup((const char *)resp->body, resp->body_len) : xstrdup("");
    char *want = str_printf("\"0\":\"%s\"", master->proc.addr);   /* brokerAddrs {"0":"ip:port"} */
    bool ok = resp->code == 0 && strstr(body, want);
    free(want);
    free(body);
    cmd_free(resp);
    return ok;
}

START_TEST(test_kill_master_slave_takes_over_old_master_rejoins)
{
    char *sent[512];
    int acked = 0;
    /* 1. a first (master, id 1), b second (slave, id 2); both in the SyncStateSet. */
    /* allAckInSyncStateSet: acknowledged means on the slave too (checked there). */
    int64_t end_epoch1 = hh_start_pair(&env, &a, &b, "test_failover", "before", 50, sent, &acked);

    /* 2. kill -9 the master: the slave is elected and takes sends. */
    int64_t t_kill = mono_ms();
    hh_kill9(&a);
    int64_t t_ok = 0;
    char body[64];
    for (int i = 0; !t_ok && mono_ms() - t_kill < DEADLINE_MS; i++) {
        snprintf(body, sizeof body, "failover-%d", i);
        rmq_cmd *r = hh_send(&b, body);
        if (r && r->code == 0) {
            t_ok = mono_ms();
            sent[acked++] = xstrdup(body);
        } else {
            usleep(20000);
        }
        cmd_free(r);
    }
    ck_assert_msg(t_ok, "the slave never took sends");
    int64_t t_route = 0;
    while (!t_route && mono_ms() - t_kill < DEADLINE_MS) {
        if (route_names(&b)) t_route = mono_ms();
        else usleep(20000);
    }
    ck_assert_msg(t_route, "the name server never named the new master");
    fprintf(stderr, "failover: kill -9 of the master -> first SEND_OK on the new master %lld ms, "
                    "-> the name server's route names it %lld ms\n",
            (long long)(t_ok - t_kill), (long long)(t_route - t_kill));
    ck_assert_int_le(t_ok - t_kill, FAILOVER_BOUND_MS);
    hh_wait_controller(&env.ns, 2, 1);
    hh_send_acked(&b, "after", 20, sent, &acked);

    /* 3. everything acknowledged is on the new master, in order. */
    char *on_b[512];
    int nb = hh_queue_bodies(&b, on_b, 512);
    ck_assert_int_eq(nb, acked);
    for (int i = 0; i < acked; i++) ck_assert_str_eq(on_b[i], sent[i]);
    hh_free_all(on_b, nb);

    /* 4. the old master restarts as a slave of b and catches up; epoch 2 began where a's log ended. */
    tb_start(&a);
    ck_assert_int_eq(hh_assert_same_logs(&a, &b), acked);
    rmq_cmd *r = hh_send(&a, "to-a-slave");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->code, 0);   /* a slave refuses sends */
    cmd_free(r);
    hh_wait_controller(&env.ns, 2, 2);
    char *epochs = str_printf("%s/store/epochFileCheckpoint", a.dir);
    char *text = read_file(epochs, NULL);
    char *line = str_printf("1-0\n2-%lld\n", (long long)end_epoch1);
    /* Apache's CheckpointFile: count, crc, then epoch-startOffset lines. */
    ck_assert_msg(text && strncmp(text, "2\n", 2) == 0 && strstr(text, line), "epoch file: %s", text ? text : "(none)");
    free(line);
    free(text);
    free(epochs);

    /* 5. divergence: the slave dies, the master stores a message no replica has (not
     *    acknowledged: SLAVE_NOT_AVAILABLE), the master dies; the old slave comes back,
     *    is elected, and the former master rejoins cut back to the epoch boundary. */
    hh_kill9(&a);
    r = hh_send(&b, "never-acknowledged");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 11);
    cmd_free(r);
    int64_t b_end = hh_commit_end(&b);
    hh_kill9(&b);
    int64_t t_restart = mono_ms();
    tb_start(&a);
    hh_wait_controller(&env.ns, 1, 1);
    int64_t t_elect = mono_ms();
    t_ok = 0;
    while (!t_ok && mono_ms() - t_restart < DEADLINE_MS) {
        r = hh_send(&a, "on-a-again");
        if (r && r->code == 0) t_ok = mono_ms();
        else usleep(20000);
        cmd_free(r);
    }
    ck_assert_msg(t_ok, "the restarted slave never took sends");
    sent[acked++] = xstrdup("on-a-again");
    fprintf(stderr, "both down, the in-sync slave restarted: elected %lld ms, first SEND_OK %lld ms after its start\n",
            (long long)(t_elect - t_restart), (long long)(t_ok - t_restart));
    tb_start(&b);
    ck_assert_int_eq(hh_assert_same_logs(&a, &b), acked);
    ck_assert_int_lt(hh_commit_end(&b), b_end + 1000);   /* the unacknowledged record went */
    char *on_a[512];
    int na = hh_queue_bodies(&a, on_a, 512);
    for (int i = 0; i < na; i++) ck_assert_str_ne(on_a[i], "never-acknowledged");
    hh_free_all(on_a, na);
    hh_free_all(sent, acked);
    tb_done(&a);
    tb_done(&b);
}
END_TEST

static void setup(void)
{
    hh_env_start(&env, "test_ha_failover");
}

static void teardown(void)
{
    hh_env_stop(&env);
}

int main(void)
{
    const TTest *tests[] = {test_kill_master_slave_takes_over_old_master_rejoins, NULL};
    return tb_run_tests("ha_failover", 120, setup, teardown, tests);
}
