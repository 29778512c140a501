/*
 * Test helper for controller-mode brokers (tests/ha): an mqnamesrv with the
 * embedded controller (ctl_harness.h) and mqbrokers in controller mode built
 * by broker_client.h, plus what the tests check on them — the controller's
 * view, commit-log ends, queue 0's bodies. Every wait has a deadline.
 */
#ifndef TEST_HA_HARNESS_H
#define TEST_HA_HARNESS_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../broker/broker_client.h"
#include "../controller/ctl_harness.h"
#include "common/util.h"

#define HH_TOPIC "broker-e2e"      /* tb_start's brokerName, the broker topic */
#define HH_DEADLINE_MS 20000       /* a guard against hanging, not a speed check */

/*
 * A broker.conf in a new directory (tb_start adds the ports and store):
 * controller mode with short heartbeats, allAckInSyncStateSet. The caller
 * frees the path and removes its directory (hh_conf_remove).
 */
static inline char *hh_write_conf(const char *name, const char *ctl_addr, const char *ns_addr)
{
    char *dir = test_tmpdir(name);
    char *path = str_printf("%s/broker.conf", dir);
    char *text = str_printf("brokerClusterName=FailoverCluster\nenableControllerMode=true\ncontrollerAddr=%s\n"
                            "namesrvAddr=%s\nbrokerTopicEnable=true\nallAckInSyncStateSet=true\n"
                            "brokerHeartbeatInterval=300\ncontrollerHeartBeatTimeoutMills=3000\n"
                            "syncBrokerMetadataPeriod=1000\ncheckSyncStateSetPeriod=1000\nsyncFlushTimeout=1500\n"
                            "haMaxTimeSlaveNotCatchup=60000\n"
                            "registerNameServerPeriod=1000\n",
                            ctl_addr, ns_addr);
    ck_assert_int_eq(write_file_atomic(path, text, strlen(text)), 0);
    free(text);
    free(dir);
    return path;
}

static inline void hh_conf_remove(char *path)
{
    *strrchr(path, '/') = '\0';
    test_rmdir(path);
    free(path);
}

/* The name server with the controller and two brokers' configurations. */
typedef struct hh_env {
    ctl_namesrv ns;
    char ns_addr[32];
    char *conf_a, *conf_b;
} hh_env;

static inline void hh_env_start(hh_env *e, const char *name)
{
    char *n = str_printf("%s_ns", name), *ca = str_printf("%s_conf_a", name), *cb = str_printf("%s_conf_b", name);
    ck_assert_int_eq(ctl_namesrv_start(&e->ns, n, "scanNotActiveBrokerInterval=500\n"), 0);
    snprintf(e->ns_addr, sizeof e->ns_addr, "%s", e->ns.proc.addr);
    e->conf_a = hh_write_conf(ca, e->ns.ctl_addr, e->ns_addr);
    e->conf_b = hh_write_conf(cb, e->ns.ctl_addr, e->ns_addr);
    free(n), free(ca), free(cb);
}

static inline void hh_env_stop(hh_env *e)
{
    ck_assert_int_eq(ctl_namesrv_stop(&e->ns), 0);
    hh_conf_remove(e->conf_a);
    hh_conf_remove(e->conf_b);
}


static inline rmq_cmd *hh_send(const test_broker *tb, const char *body)
{
    char err[256];
    rmq_cmd *req = tb_send_req("PG_failover", HH_TOPIC, 0, 0, NULL, body);
    rmq_cmd *resp = rmq_invoke_sync(tb->proc.addr, req, BC_TIMEOUT, err, sizeof err);
    cmd_free(req);
    return resp;
}

/* Waits until the controller says MASTER leads with SET members in sync (-1: no master). */
static inline void hh_wait_controller(const ctl_namesrv *ns, int64_t master, int set)
{
    int64_t deadline = mono_ms() + HH_DEADLINE_MS, got = -3;
    int n = 0;
    while (mono_ms() < deadline && !((got = ctl_master_of(ns, HH_TOPIC, &n)) == master && n == set)) usleep(50000);
    ck_assert_msg(got == master && n == set, "controller: master %lld with %d in sync, wanted %lld with %d",
                  (long long)got, n, (long long)master, set);
}

static inline int64_t hh_commit_end(const test_broker *tb)
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

/*
 * Waits until master TB itself counts N slaves in its SyncStateSet (GET_BROKER_HA_STATUS's
 * inSyncSlaveNums). The controller has the new set as soon as it commits the master's
 * ALTER_SYNC_STATE_SET; the master only when the answer reaches it, and until then it
 * acknowledges sends without waiting for the slave.
 */
static inline void hh_wait_master_set(const test_broker *tb, int n)
{
    int64_t deadline = mono_ms() + HH_DEADLINE_MS;
    int got = -1;
    char want[48];
    snprintf(want, sizeof want, "\"inSyncSlaveNums\":%d", n);
    while (mono_ms() < deadline) {
        rmq_cmd *resp = tb_call(tb, cmd_new_request(907), BC_TIMEOUT);
        ck_assert_int_eq(resp->code, 0);
        char *body = xstrndup((const char *)resp->body, resp->body_len);
        got = strstr(body, want) != NULL;
        free(body);
        cmd_free(resp);
        if (got) return;
        usleep(50000);
    }
    ck_abort_msg("the master never counted %d slaves in its SyncStateSet", n);
}

/* Every body of queue 0 of TB, in order, into bodies (strdup'd); returns the count. */
static inline int hh_queue_bodies(const test_broker *tb, char **bodies, int max)
{
    int n = 0;
    for (int64_t off = 0; n < max;) {
        rmq_cmd *r = tb_pull(tb, "CG_failover", HH_TOPIC, 0, off, 0);
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

static inline void hh_free_all(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
}

/* Sends BODY until SEND_OK (or the deadline fails the test); BODY goes to sent[(*acked)++]. */
static inline void hh_send_until_ok(const test_broker *tb, const char *body, char **sent, int *acked)
{
    bool ok = false;
    for (int64_t t0 = mono_ms(); !ok && mono_ms() - t0 < HH_DEADLINE_MS;) {
        rmq_cmd *r = hh_send(tb, body);
        ok = r && r->code == 0;
        if (!ok) usleep(50000);
        cmd_free(r);
    }
    ck_assert_msg(ok, "%s never took a send", tb->proc.addr);
    sent[(*acked)++] = xstrdup(body);
}

/* N sends named PREFIX-i, each must be SEND_OK; their bodies go to sent[*acked...]. */
static inline void hh_send_acked(const test_broker *tb, const char *prefix, int n, char **sent, int *acked)
{
    char body[64];
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "%s-%d", prefix, i);
        rmq_cmd *r = hh_send(tb, body);
        ck_assert_msg(r && r->code == 0, "send %s: %d %s", body, r ? r->code : -1, r && r->remark ? r->remark : "");
        sent[(*acked)++] = xstrdup(body);
        cmd_free(r);
    }
}

/*
 * A started first: master (id 1); B second: slave (id 2); both in the SyncStateSet.
 * Then N acknowledged sends to A (bodies PREFIX-i into sent[*acked...]), on B too
 * (allAckInSyncStateSet); returns where A's commit log ends.
 */
static inline int64_t hh_start_pair(hh_env *e, test_broker *a, test_broker *b, const char *name, const char *prefix,
                                    int n, char **sent, int *acked)
{
    char *na = str_printf("%s_a", name), *nb = str_printf("%s_b", name);
    tb_init(a, na, "-c", e->conf_a, NULL);
    hh_wait_controller(&e->ns, 1, 1);
    tb_init(b, nb, "-c", e->conf_b, NULL);
    hh_wait_controller(&e->ns, 1, 2);
    hh_wait_master_set(a, 1);
    free(na), free(nb);
    hh_send_acked(a, prefix, n, sent, acked);
    int64_t end = hh_commit_end(a);
    ck_assert_int_eq(hh_commit_end(b), end);
    return end;
}

/* Both logs end at the same offset and queue 0 holds the same bodies; returns how many. */
static inline int hh_assert_same_logs(const test_broker *x, const test_broker *y)
{
    int64_t deadline = mono_ms() + HH_DEADLINE_MS;
    while (mono_ms() < deadline && hh_commit_end(x) != hh_commit_end(y)) usleep(50000);
    ck_assert_int_eq(hh_commit_end(x), hh_commit_end(y));
    char *on_x[512], *on_y[512];
    int nx = hh_queue_bodies(x, on_x, 512), ny = hh_queue_bodies(y, on_y, 512);
    ck_assert_int_eq(nx, ny);
    for (int i = 0; i < nx; i++) ck_assert_str_eq(on_x[i], on_y[i]);
    hh_free_all(on_x, nx);
    hh_free_all(on_y, ny);
    return nx;
}

static inline void hh_kill9(test_broker *tb)
{
    kill(tb->proc.pid, SIGKILL);
    int status;
    ck_assert_int_eq(test_wait_exit(tb->proc.pid, mono_ms() + 5000, &status), 0);
}

#endif
