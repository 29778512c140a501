/*
 * A group of three controllers (three mqnamesrv with enableControllerInNamesrv,
 * one controllerDLegerPeers) under a master and a slave of ours in controller
 * mode (controllerAddr lists all three), as Apache runs a DLedger group:
 *  - they elect a leader (the time is printed);
 *  - kill -9 of the leader: the other two elect a new one (time printed); the
 *    brokers find it (GET_METADATA_INFO) and beat to it, and it keeps the live
 *    master (no election for lack of heartbeat history) which still takes sends;
 *  - kill -9 of the master broker: the new leader elects the slave, which
 *    answers SEND_OK (kill -> first SEND_OK printed) with every acknowledged
 *    message;
 *  - the state (ids, master, epochs, SyncStateSet) is the same on both live
 *    controllers; the killed one, restarted on its files, catches up to it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ha/ha_harness.h"

#define N 3

static ctl_namesrv nodes[N];
static bool up[N];
static char *conf_a, *conf_b;
static test_broker a, b;

/* The live controllers, NULL for the killed. */
static int live(ctl_namesrv **out)
{
    for (int i = 0; i < N; i++) out[i] = up[i] ? &nodes[i] : NULL;
    return N;
}

/* GET_REPLICA_INFO from whichever controller answers it (the leader): master id, epoch, set size. */
static bool group_master(int64_t *master, int64_t *epoch, int *set)
{
    for (int i = 0; i < N; i++) {
        if (!up[i]) continue;
        rmq_cmd *req = cmd_new_request(CTL_CODE_GET_REPLICA_INFO);
        cmd_ext_set(req, "brokerName", HH_TOPIC);
        char err[128];
        rmq_cmd *r = rmq_invoke_sync(nodes[i].ctl_addr, req, 2000, err, sizeof err);
        cmd_free(req);
        if (r && r->code == 0) {
            *master = -1;
            cmd_ext_int64(r, "masterBrokerId", master);
            cmd_ext_int64(r, "masterEpoch", epoch);
            int64_t ids[CTL_MAX_REPLICAS];
            int32_t se;
            *set = 0;
            if (r->body_len) ctl_parse_sync_state_set((const char *)r->body, r->body_len, ids, set, &se);
            cmd_free(r);
            return true;
        }
        cmd_free(r);
    }
    return false;
}

static void wait_master(int64_t master, int set)
{
    int64_t got = -3, epoch = 0;
    int n = 0;
    for (int64_t end = mono_ms() + HH_DEADLINE_MS; mono_ms() < end; usleep(50000))
        if (group_master(&got, &epoch, &n) && got == master && n == set) return;
    ck_abort_msg("controllers: master %lld with %d in sync, wanted %lld with %d", (long long)got, n, (long long)master,
                 set);
}

static char *state_of(int i)
{
    char *path = str_printf("%s/DLedgerController/controller.json", nodes[i].dir);
    size_t len;
    char *s = read_file(path, &len);
    free(path);
    return s;
}

/* controller.json (the applied state) of every live controller equal, within the deadline. */
static char *wait_same_state(void)
{
    for (int64_t end = mono_ms() + HH_DEADLINE_MS; mono_ms() < end; usleep(100000)) {
        char *first = NULL;
        bool same = true;
        for (int i = 0; i < N && same; i++) {
            if (!up[i]) continue;
            char *s = state_of(i);
            if (!s) same = false;
            else if (!first) first = s, s = NULL;
            else same = strcmp(first, s) == 0;
            free(s);
        }
        if (same && first) return first;
        free(first);
    }
    ck_abort_msg("the controllers' states differ");
    return NULL;
}

/* The new leader has heard both brokers (GET_SYNC_STATE_DATA: alive in its own table). */
static int alive_at(int i)
{
    rmq_cmd *req = cmd_new_request(CTL_CODE_GET_SYNC_STATE_DATA);
    const char *names = "[\"" HH_TOPIC "\"]";
    cmd_set_body(req, names, strlen(names));
    char err[128];
    rmq_cmd *r = rmq_invoke_sync(nodes[i].ctl_addr, req, 2000, err, sizeof err);
    cmd_free(req);
    int n = 0;
    if (r && r->code == 0 && r->body_len) {
        char *body = xstrndup((const char *)r->body, r->body_len);
        for (const char *p = body; (p = strstr(p, "\"alive\":true")); p++) n++;
        free(body);
    }
    cmd_free(r);
    return n;
}

START_TEST(test_group_survives_leader_and_master_loss)
{
    ctl_namesrv *view[N];
    int64_t t0 = mono_ms();
    int leader = ctl_wait_leader((live(view), view), N, HH_DEADLINE_MS);
    ck_assert_int_ge(leader, 0);
    fprintf(stderr, "controller group: n%d leads after %lld ms\n", leader, (long long)(mono_ms() - t0));

    char *sent[64];
    int acked = 0;
    tb_init(&a, "test_controller_group_a", "-c", conf_a, NULL);
    wait_master(1, 1);
    tb_init(&b, "test_controller_group_b", "-c", conf_b, NULL);
    wait_master(1, 2);
    hh_send_acked(&a, "m", 10, sent, &acked);

    /* kill -9 of the leader: the two others elect one of them. */
    kill(nodes[leader].proc.pid, SIGKILL);
    int status;
    ck_assert_int_eq(test_wait_exit(nodes[leader].proc.pid, mono_ms() + 5000, &status), 0);
    up[leader] = false;
    t0 = mono_ms();
    int next = ctl_wait_leader((live(view), view), N, HH_DEADLINE_MS);
    ck_assert_int_ge(next, 0);
    ck_assert_int_ne(next, leader);
    fprintf(stderr, "controller leader n%d killed: n%d elected in %lld ms\n", leader, next, (long long)(mono_ms() - t0));
    /* Past the brokers' heartbeat timeout (3 s): the new leader hears both and keeps the live master. */
    usleep(4000 * 1000);
    ck_assert_int_eq(alive_at(next), 2);
    wait_master(1, 2);
    hh_send_acked(&a, "after-leader", 5, sent, &acked);

    /* The slave takes no send while the master lives. */
    rmq_cmd *r = hh_send(&b, "refused");
    ck_assert_msg(r && r->code != 0, "the slave took a send: %d", r ? r->code : -1);
    cmd_free(r);

    /* kill -9 of the master broker: the new leader elects the slave. */
    hh_kill9(&a);
    t0 = mono_ms();
    hh_send_until_ok(&b, "after-master", sent, &acked);
    fprintf(stderr, "master killed with the controller leader gone: slave took a send after %lld ms\n",
            (long long)(mono_ms() - t0));
    wait_master(2, 1);
    char *on_b[64];
    int nb = hh_queue_bodies(&b, on_b, 64);
    ck_assert_int_eq(nb, acked);
    for (int i = 0; i < nb; i++) ck_assert_str_eq(on_b[i], sent[i]);
    hh_free_all(on_b, nb);
    hh_free_all(sent, acked);

    /* The same state on both live controllers: ids 1 and 2, master 2, epoch 2, SyncStateSet {2}. */
    char *state = wait_same_state();
    ck_assert_msg(strstr(state, "\"masterBrokerId\":2,\"masterEpoch\":2,") && strstr(state, "\"syncStateSet\":[2]") &&
                      strstr(state, "\"brokerId\":1,") && strstr(state, "\"brokerId\":2,"),
                  "state: %s", state);

    /* The killed controller comes back on its files and catches up. */
    t0 = mono_ms();
    ck_assert_int_eq(ctl_namesrv_start_again(&nodes[leader]), 0);
    up[leader] = true;
    char *again = wait_same_state();
    ck_assert_str_eq(again, state);
    fprintf(stderr, "restarted controller n%d caught up in %lld ms\n", leader, (long long)(mono_ms() - t0));
    free(again);
    free(state);
    tb_done(&b);
    test_rmdir(a.dir);
    free(a.dir);
}
END_TEST

static void setup(void)
{
    int ports[N];
    char *peers = xstrdup("");
    for (int i = 0; i < N; i++) {
        bool dup;
        do {
            ports[i] = test_free_port();
            dup = false;
            for (int k = 0; k < i; k++) dup |= ports[k] == ports[i];
        } while (dup);
        char *next = str_printf("%s%sn%d-127.0.0.1:%d", peers, i ? ";" : "", i, ports[i]);
        free(peers);
        peers = next;
    }
    for (int i = 0; i < N; i++) {
        char name[32], self[8];
        snprintf(name, sizeof name, "test_controller_group_n%d", i);
        snprintf(self, sizeof self, "n%d", i);
        ck_assert_int_eq(ctl_namesrv_start_peer(&nodes[i], name, ports[i], peers, self, "scanNotActiveBrokerInterval=500\n"),
                         0);
        up[i] = true;
    }
    free(peers);
    char *ctl = str_printf("%s;%s;%s", nodes[0].ctl_addr, nodes[1].ctl_addr, nodes[2].ctl_addr);
    char *ns = str_printf("%s;%s;%s", nodes[0].proc.addr, nodes[1].proc.addr, nodes[2].proc.addr);
    conf_a = hh_write_conf("test_controller_group_conf_a", ctl, ns);
    conf_b = hh_write_conf("test_controller_group_conf_b", ctl, ns);
    free(ctl);
    free(ns);
}

static void teardown(void)
{
    for (int i = 0; i < N; i++) {
        if (!up[i]) {   /* killed and not restarted: only its files are left */
            test_rmdir(nodes[i].dir);
            free(nodes[i].dir);
            continue;
        }
        ck_assert_int_eq(ctl_namesrv_stop(&nodes[i]), 0);
    }
    hh_conf_remove(conf_a);
    hh_conf_remove(conf_b);
}

int main(void)
{
    const TTest *tests[] = {test_group_survives_leader_and_master_loss, NULL};
    return tb_run_tests("controller_group", 150, setup, teardown, tests);
}
