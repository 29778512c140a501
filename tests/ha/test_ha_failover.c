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

#include "../broker/broker_client.h"
#include "../controller/ctl_harness.h"
#include "common/util.h"

#define TOPIC "broker-e2e"       /* tb_start's brokerName, the broker topic */
#define DEADLINE_MS 20000        /* a guard against hanging, not a speed check */
#define FAILOVER_BOUND_MS 10000  /* what the test accepts from kill to SEND_OK */

static ctl_namesrv ns;
static char ns_addr[32];
static test_broker a, b;
static char *conf_a, *conf_b;

/* The broker.conf both brokers use (tb_start adds the ports and store). */
static char *write_conf(const char *name)
{
    char *dir = test_tmpdir(name);
    char *path = str_printf("%s/broker.conf", dir);
    char *text = str_printf("brokerClusterName=FailoverCluster\nenableControllerMode=true\ncontrollerAddr=%s\n"
                            "namesrvAddr=%s\nbrokerTopicEnable=true\nallAckInSyncStateSet=true\n"
                            "brokerHeartbeatInterval=300\ncontrollerHeartBeatTimeoutMills=3000\n"
                            "syncBrokerMetadataPeriod=1000\ncheckSyncStateSetPeriod=1000\nsyncFlushTimeout=1500\n"
                            "haMaxTimeSlaveNotCatchup=60000\n"
                            "registerNameServerPeriod=1000\n",
                            ns.ctl_addr, ns_addr);
    ck_assert_int_eq(write_file_atomic(path, text, strlen(text)), 0);
    free(text);
    free(dir);   /* the file stays until the test's end (removed with /tmp's test dirs) */
    return path;
}

static rmq_cmd *send_to(const test_broker *tb, const char *body)
{
    char err[256];
    rmq_cmd *req = tb_send_req("PG_failover", TOPIC, 0, 0, NULL, body);
    rmq_cmd *resp = rmq_invoke_sync(tb->proc.addr, req, BC_TIMEOUT, err, sizeof err);
    cmd_free(req);
    return resp;
}

/* Waits until the controller says MASTER leads with SET members in sync. */
static void wait_controller(int64_t master, int set)
{
    int64_t deadline = mono_ms() + DEADLINE_MS, got = -3;
    int n = 0;
    while (mono_ms() < deadline && !((got = ctl_master_of(&ns, TOPIC, &n)) == master && n == set)) usleep(50000);
    ck_assert_msg(got == master && n == set, "controller: master %lld with %d in sync, wanted %lld with %d",
                  (long long)got, n, (long long)master, set);
}

static int64_t commit_end(const test_broker *tb)
{
    /* GET_BROKER_RUNTIME_INFO's commitLogMaxOffset */
    rmq_cmd *resp = tb_call(tb, cmd_new_request(28), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    char *body = xstrndup((const char *)resp->body, resp->body_len);
    char *p = strstr(body, "\"commitLogMaxOffset\":\"");
    ck_assert_ptr_nonnull(p);
    int64_t v = atoll(p + strlen("\"commitLogMaxOffset\":\""));
    free(body);
    cmd_free(resp);
    return v;
}

/* Every body of queue 0 of TB, in order, into bodies (strdup'd); returns the count. */
static int queue_bodies(const test_broker *tb, char **bodies, int max)
{
    int n = 0;
    for (int64_t off = 0; n < max;) {
        rmq_cmd *r = tb_pull(tb, "CG_failover", TOPIC, 0, off, 0);
        if (r->code != 0) {
            cmd_free(r);
            break;
        }
        msg_record recs[32];
        int k = tb_records(r, recs, 32);
        for (int i = 0; i < k && n < max; i++) bodies[n++] = xstrndup((const char *)recs[i].body, recs[i].body_len);
        cmd_free(r);
        if (!k) break;
        off += k;
    }
    return n;
}

/* The master id the name server's route gives for the topic's broker (GET_ROUTEINFO_BY_TOPIC). */
static bool route_names(const test_broker *master)
{
    rmq_cmd *req = cmd_new_request(105);
    cmd_ext_set(req, "topic", TOPIC);
    char err[128];
    rmq_cmd *resp = rmq_invoke_sync(ns_addr, req, 3000, err, sizeof err);
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

static void free_all(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
}

static void send_acked(const test_broker *tb, const char *prefix, int n, char **sent, int *acked)
{
    char body[64];
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "%s-%d", prefix, i);
        rmq_cmd *r = send_to(tb, body);
        ck_assert_msg(r && r->code == 0, "send %s: %d %s", body, r ? r->code : -1, r && r->remark ? r->remark : "");
        sent[(*acked)++] = xstrdup(body);
        cmd_free(r);
    }
}

/* Both logs end at the same offset and queue 0 holds the same bodies; returns how many. */
static int assert_same_logs(const test_broker *x, const test_broker *y)
{
    int64_t deadline = mono_ms() + DEADLINE_MS;
    while (mono_ms() < deadline && commit_end(x) != commit_end(y)) usleep(50000);
    ck_assert_int_eq(commit_end(x), commit_end(y));
    char *on_x[512], *on_y[512];
    int nx = queue_bodies(x, on_x, 512), ny = queue_bodies(y, on_y, 512);
    ck_assert_int_eq(nx, ny);
    for (int i = 0; i < nx; i++) ck_assert_str_eq(on_x[i], on_y[i]);
    free_all(on_x, nx);
    free_all(on_y, ny);
    return nx;
}

static void kill9(test_broker *tb)
{
    kill(tb->proc.pid, SIGKILL);
    int status;
    ck_assert_int_eq(test_wait_exit(tb->proc.pid, mono_ms() + 5000, &status), 0);
}

START_TEST(test_kill_master_slave_takes_over_old_master_rejoins)
{
    char *sent[512];
    int acked = 0;
    /* 1. a first (master, id 1), b second (slave, id 2); both in the SyncStateSet. */
    tb_init(&a, "test_failover_a", "-c", conf_a, NULL);
    wait_controller(1, 1);
    tb_init(&b, "test_failover_b", "-c", conf_b, NULL);
    wait_controller(1, 2);
    send_acked(&a, "before", 50, sent, &acked);
    /* allAckInSyncStateSet: acknowledged means on the slave too. */
    ck_assert_int_eq(commit_end(&b), commit_end(&a));
    int64_t end_epoch1 = commit_end(&a);

    /* 2. kill -9 the master: the slave is elected and takes sends. */
    int64_t t_kill = mono_ms();
    kill9(&a);
    int64_t t_ok = 0;
    char body[64];
    for (int i = 0; !t_ok && mono_ms() - t_kill < DEADLINE_MS; i++) {
        snprintf(body, sizeof body, "failover-%d", i);
        rmq_cmd *r = send_to(&b, body);
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
    wait_controller(2, 1);
    send_acked(&b, "after", 20, sent, &acked);

    /* 3. everything acknowledged is on the new master, in order. */
    char *on_b[512];
    int nb = queue_bodies(&b, on_b, 512);
    ck_assert_int_eq(nb, acked);
    for (int i = 0; i < acked; i++) ck_assert_str_eq(on_b[i], sent[i]);
    free_all(on_b, nb);

    /* 4. the old master restarts as a slave of b and catches up; epoch 2 began where a's log ended. */
    tb_start(&a);
    ck_assert_int_eq(assert_same_logs(&a, &b), acked);
    rmq_cmd *r = send_to(&a, "to-a-slave");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(r->code, 0);   /* a slave refuses sends */
    cmd_free(r);
    wait_controller(2, 2);
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
    kill9(&a);
    r = send_to(&b, "never-acknowledged");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 11);
    cmd_free(r);
    int64_t b_end = commit_end(&b);
    kill9(&b);
    int64_t t_restart = mono_ms();
    tb_start(&a);
    wait_controller(1, 1);
    int64_t t_elect = mono_ms();
    t_ok = 0;
    while (!t_ok && mono_ms() - t_restart < DEADLINE_MS) {
        r = send_to(&a, "on-a-again");
        if (r && r->code == 0) t_ok = mono_ms();
        else usleep(20000);
        cmd_free(r);
    }
    ck_assert_msg(t_ok, "the restarted slave never took sends");
    sent[acked++] = xstrdup("on-a-again");
    fprintf(stderr, "both down, the in-sync slave restarted: elected %lld ms, first SEND_OK %lld ms after its start\n",
            (long long)(t_elect - t_restart), (long long)(t_ok - t_restart));
    tb_start(&b);
    ck_assert_int_eq(assert_same_logs(&a, &b), acked);
    ck_assert_int_lt(commit_end(&b), b_end + 1000);   /* the unacknowledged record went */
    char *on_a[512];
    int na = queue_bodies(&a, on_a, 512);
    for (int i = 0; i < na; i++) ck_assert_str_ne(on_a[i], "never-acknowledged");
    free_all(on_a, na);
    free_all(sent, acked);
    tb_done(&a);
    tb_done(&b);
}
END_TEST

static void setup(void)
{
    ck_assert_int_eq(ctl_namesrv_start(&ns, "test_ha_failover_ns", "scanNotActiveBrokerInterval=500\n"), 0);
    snprintf(ns_addr, sizeof ns_addr, "%s", ns.proc.addr);
    conf_a = write_conf("test_failover_conf_a");
    conf_b = write_conf("test_failover_conf_b");
}

static void teardown(void)
{
    ck_assert_int_eq(ctl_namesrv_stop(&ns), 0);
    char *dirs[] = {conf_a, conf_b};
    for (int i = 0; i < 2; i++) {
        *strrchr(dirs[i], '/') = '\0';
        test_rmdir(dirs[i]);
        free(dirs[i]);
    }
}

int main(void)
{
    const TTest *tests[] = {test_kill_master_slave_takes_over_old_master_rejoins, NULL};
    return tb_run_tests("ha_failover", 120, setup, teardown, tests);
}
