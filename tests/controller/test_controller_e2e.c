/*
 * The controller embedded in mqnamesrv (enableControllerInNamesrv=true), on
 * the wire as Apache 5.3's ReplicasManager drives it: GET_METADATA_INFO,
 * GET_NEXT_BROKER_ID, APPLY_BROKER_ID, REGISTER_BROKER (1003), BROKER_HEARTBEAT
 * over the broker's kept channel, ELECT_MASTER, ALTER_SYNC_STATE_SET,
 * GET_REPLICA_INFO; then the master's channel closes and the controller
 * elects the in-sync slave and sends it NOTIFY_BROKER_ROLE_CHANGED.
 */
#include <check.h>
#include <stdarg.h>

#include "ctl_harness.h"

#define TIMEOUT_MS 5000
#define CL "DefaultCluster"
#define BN "broker-ctl"

static ctl_namesrv ns;
static const char *ctl_addr = ns.ctl_addr;

static rmq_cmd *request(int code, ...)
{
    rmq_cmd *req = cmd_new_request(code);
    va_list ap;
    va_start(ap, code);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(req, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

/* Sends REQ over FD (or a fresh connection when fd < 0), frees it, returns the answer. */
static rmq_cmd *call(int fd, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = fd >= 0 ? rmq_invoke_fd(fd, req, TIMEOUT_MS, err, sizeof err)
                            : rmq_invoke_sync(ctl_addr, req, TIMEOUT_MS, err, sizeof err);
    cmd_free(req);
    ck_assert_msg(resp != NULL, "no answer: %s", err);
    return resp;
}

static int64_t ext_int(const rmq_cmd *c, const char *k)
{
    int64_t v = -100;
    cmd_ext_int64(c, k, &v);
    return v;
}

/* A listening socket standing for a broker's remoting port; its address in ADDR. */
static int fake_broker_port(char *addr, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 4) == 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    snprintf(addr, len, "127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

/* ReplicasManager.register: next id, apply it, register; returns the id. */
static int64_t join(const char *addr, rmq_cmd **reg)
{
    rmq_cmd *r = call(-1, request(CTL_CODE_GET_NEXT_BROKER_ID, "clusterName", CL, "brokerName", BN, NULL));
    ck_assert_int_eq(r->code, 0);
    int64_t id = ext_int(r, "nextBrokerId");
    cmd_free(r);
    char idtxt[24], code[128];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
    snprintf(code, sizeof code, "%s;%lld", addr, (long long)now_ms());
    r = call(-1, request(CTL_CODE_APPLY_BROKER_ID, "clusterName", CL, "brokerName", BN, "appliedBrokerId", idtxt,
                         "registerCheckCode", code, NULL));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    *reg = call(-1, request(CTL_CODE_REGISTER_BROKER, "clusterName", CL, "brokerName", BN, "brokerId", idtxt,
                            "brokerAddress", addr, NULL));
    ck_assert_int_eq((*reg)->code, 0);
    return id;
}

static void heartbeat(int fd, const char *addr, int64_t id, int epoch, int64_t max_offset)
{
    char idtxt[24], ep[16], off[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
    snprintf(ep, sizeof ep, "%d", epoch);
    snprintf(off, sizeof off, "%lld", (long long)max_offset);
    rmq_cmd *r = call(fd, request(CTL_CODE_BROKER_HEARTBEAT, "clusterName", CL, "brokerAddr", addr, "brokerName", BN,
                                  "brokerId", idtxt, "epoch", ep, "maxOffset", off, "heartbeatTimeoutMills", "3000",
                                  NULL));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}

START_TEST(test_register_elect_and_fail_over)
{
    rmq_cmd *r = call(-1, request(CTL_CODE_GET_METADATA_INFO, NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "controllerLeaderAddress"), ctl_addr);
    ck_assert_str_eq(cmd_ext_get(r, "isLeader"), "true");
    ck_assert_str_eq(cmd_ext_get(r, "controllerLeaderId"), "n0");
    cmd_free(r);

    char a1[32], a2[32];
    int l1 = fake_broker_port(a1, sizeof a1), l2 = fake_broker_port(a2, sizeof a2);
    rmq_cmd *reg;
    ck_assert_int_eq(join(a1, &reg), 1);
    ck_assert_ptr_null(cmd_ext_get(reg, "masterBrokerId"));
    cmd_free(reg);
    char err[256];
    int hb1 = rmq_connect_blocking(ctl_addr, TIMEOUT_MS, err, sizeof err);
    int hb2 = rmq_connect_blocking(ctl_addr, TIMEOUT_MS, err, sizeof err);
    ck_assert(hb1 >= 0 && hb2 >= 0);
    heartbeat(hb1, a1, 1, 0, 0);
    /* Broker 1 elects itself (the set never had a master). */
    r = call(-1, request(CTL_CODE_ELECT_MASTER, "clusterName", CL, "brokerName", BN, "brokerId", "1",
                         "designateElect", "false", NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(ext_int(r, "masterBrokerId"), 1);
    ck_assert_int_eq(ext_int(r, "masterEpoch"), 1);
    ck_assert_int_eq(ext_int(r, "syncStateSetEpoch"), 1);
    ck_assert_ptr_nonnull(strstr((const char *)r->body, "\"syncStateSet\":[1]"));
    cmd_free(r);

    ck_assert_int_eq(join(a2, &reg), 2);
    ck_assert_int_eq(ext_int(reg, "masterBrokerId"), 1);
    ck_assert_str_eq(cmd_ext_get(reg, "masterAddress"), a1);
    cmd_free(reg);
    heartbeat(hb2, a2, 2, 1, 100);

    /* The master takes broker 2 into the SyncStateSet. */
    r = request(CTL_CODE_ALTER_SYNC_STATE_SET, "brokerName", BN, "masterBrokerId", "1", "masterEpoch", "1", NULL);
    const char *set = "{\"syncStateSet\":[1,2],\"syncStateSetEpoch\":1}";
    cmd_set_body(r, set, strlen(set));
    r = call(-1, r);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(ext_int(r, "newSyncStateSetEpoch"), 2);
    cmd_free(r);

    /* The master's channel closes (its process died): broker 2 is elected and told. */
    int64_t t0 = mono_ms();
    close(hb1);
    int64_t master = -1;
    while (mono_ms() - t0 < 5000) {
        r = call(-1, request(CTL_CODE_GET_REPLICA_INFO, "brokerName", BN, NULL));
        master = ext_int(r, "masterBrokerId");
        int64_t epoch = ext_int(r, "masterEpoch");
        cmd_free(r);
        if (master == 2) {
            ck_assert_int_eq(epoch, 2);
            break;
        }
        usleep(20000);
    }
    ck_assert_int_eq(master, 2);
    /* NOTIFY_BROKER_ROLE_CHANGED reaches broker 2's port. */
    int c = accept(l2, NULL, NULL);
    ck_assert(c >= 0);
    rmq_cmd *note = rmq_read_frame_fd(c, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(note != NULL, "%s", err);
    ck_assert_int_eq(note->code, CTL_CODE_NOTIFY_BROKER_ROLE_CHANGED);
    ck_assert_int_eq(ext_int(note, "masterBrokerId"), 2);
    ck_assert_str_eq(cmd_ext_get(note, "masterAddress"), a2);
    ck_assert_int_eq(ext_int(note, "masterEpoch"), 2);
    cmd_free(note);
    close(c);
    fprintf(stderr, "controller re-elected after channel close in %lld ms\n", (long long)(mono_ms() - t0));

    /* The old master comes back and learns it is a slave now; a stale alter is fenced. */
    r = call(-1, request(CTL_CODE_REGISTER_BROKER, "clusterName", CL, "brokerName", BN, "brokerId", "1",
                         "brokerAddress", a1, NULL));
    ck_assert_int_eq(ext_int(r, "masterBrokerId"), 2);
    cmd_free(r);
    r = request(CTL_CODE_ALTER_SYNC_STATE_SET, "brokerName", BN, "masterBrokerId", "1", "masterEpoch", "1", NULL);
    cmd_set_body(r, set, strlen(set));
    r = call(-1, r);
    ck_assert_int_eq(r->code, CTL_INVALID_MASTER);
    cmd_free(r);
    /* A restarted controller keeps ids, master and epochs (controllerStorePath, here
     * $HOME/DLedgerController); nobody is alive until it beats again. */
    ck_assert_int_eq(ctl_namesrv_restart(&ns), 0);
    r = call(-1, request(CTL_CODE_GET_REPLICA_INFO, "brokerName", BN, NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(ext_int(r, "masterBrokerId"), 2);
    ck_assert_int_eq(ext_int(r, "masterEpoch"), 2);
    cmd_free(r);
    r = call(-1, request(CTL_CODE_GET_NEXT_BROKER_ID, "clusterName", CL, "brokerName", BN, NULL));
    ck_assert_int_eq(ext_int(r, "nextBrokerId"), 3);
    cmd_free(r);
    char *state = str_printf("%s/DLedgerController/controller.json", ns.dir);
    ck_assert(access(state, R_OK) == 0);
    free(state);
    /* Without a brokerId a heartbeat is refused, as Apache does. */
    r = call(-1, request(CTL_CODE_BROKER_HEARTBEAT, "clusterName", CL, "brokerAddr", a1, "brokerName", BN, NULL));
    ck_assert_int_eq(r->code, CTL_INVALID_REQUEST);
    cmd_free(r);
    close(hb2);
    close(l1);
    close(l2);
}
END_TEST

START_TEST(test_heartbeat_timeout_elects)
{
    /* A master that stops beating without closing (a paused process) is dropped
     * after heartbeatTimeoutMills, seen by the scan. */
    const char *bn = "broker-timeout";
    char a1[32], a2[32];
    int l1 = fake_broker_port(a1, sizeof a1), l2 = fake_broker_port(a2, sizeof a2);
    char err[256];
    int hb1 = rmq_connect_blocking(ctl_addr, TIMEOUT_MS, err, sizeof err);
    int hb2 = rmq_connect_blocking(ctl_addr, TIMEOUT_MS, err, sizeof err);
    const char *addrs[] = {a1, a2};
    int fds[] = {hb1, hb2};
    for (int i = 0; i < 2; i++) {
        char id[4], code[64];
        snprintf(id, sizeof id, "%d", i + 1);
        snprintf(code, sizeof code, "%s;1", addrs[i]);
        rmq_cmd *r = call(-1, request(CTL_CODE_APPLY_BROKER_ID, "clusterName", CL, "brokerName", bn, "appliedBrokerId",
                                      id, "registerCheckCode", code, NULL));
        ck_assert_int_eq(r->code, 0);
        cmd_free(r);
        r = call(fds[i], request(CTL_CODE_BROKER_HEARTBEAT, "clusterName", CL, "brokerAddr", addrs[i], "brokerName", bn,
                                 "brokerId", id, "heartbeatTimeoutMills", "1000", NULL));
        cmd_free(r);
    }
    rmq_cmd *r = call(-1, request(CTL_CODE_ELECT_MASTER, "clusterName", CL, "brokerName", bn, "brokerId", "1", NULL));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = request(CTL_CODE_ALTER_SYNC_STATE_SET, "brokerName", bn, "masterBrokerId", "1", "masterEpoch", "1", NULL);
    const char *set = "{\"syncStateSet\":[1,2],\"syncStateSetEpoch\":1}";
    cmd_set_body(r, set, strlen(set));
    r = call(-1, r);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    int64_t t0 = mono_ms(), master = -1;
    while (mono_ms() - t0 < 6000 && master != 2) {
        rmq_cmd *hb = call(hb2, request(CTL_CODE_BROKER_HEARTBEAT, "clusterName", CL, "brokerAddr", a2, "brokerName",
                                        bn, "brokerId", "2", "heartbeatTimeoutMills", "1000", NULL));
        cmd_free(hb);
        r = call(-1, request(CTL_CODE_GET_REPLICA_INFO, "brokerName", bn, NULL));
        master = ext_int(r, "masterBrokerId");
        cmd_free(r);
        usleep(100000);
    }
    ck_assert_int_eq(master, 2);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(took >= 900, "elected after %lld ms, before the 1 s timeout", (long long)took);
    fprintf(stderr, "controller re-elected after heartbeat timeout (1 s) in %lld ms\n", (long long)took);
    close(hb1);
    close(hb2);
    close(l1);
    close(l2);
}
END_TEST

START_TEST(test_missing_peers_refused)
{
    char *d = test_tmpdir("test_controller_bad");
    char *conf = str_printf("%s/namesrv.properties", d);
    int port = test_free_port();
    char *text = str_printf("listenPort=%d\nkvConfigPath=%s/kv.json\nenableControllerInNamesrv=true\n", port, d);
    if (write_file_atomic(conf, text, strlen(text))) abort();
    char *out = str_printf("%s/stdout", d), *home = str_printf("HOME=%s", d);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    test_proc p;
    /* It exits with an error. The name server's port opens before the controller's keys
     * are read (as in Apache's NamesrvStartup, which starts the name server and then the
     * controller manager), so start may find it listening for a moment: then it must be
     * gone within 10 s. One still running fails the test. */
    if (test_proc_start_env(&p, "mqnamesrv", argv, env, port, out) == 0) {
        int status = 0;
        bool exited = false;
        for (int i = 0; i < 200 && !exited; i++) {
            exited = waitpid(p.pid, &status, WNOHANG) == p.pid;
            if (!exited) usleep(50000);
        }
        if (!exited) test_proc_stop(&p, SIGKILL);
        ck_assert_msg(exited, "mqnamesrv still runs without controllerDLegerPeers");
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    }
    char *log = read_file(out, NULL);
    ck_assert_ptr_nonnull(strstr(log, "controllerDLegerPeers"));
    free(log);
    test_rmdir(d);
    free(d);
    free(conf);
    free(text);
    free(out);
    free(home);
}
END_TEST

int main(void)
{
    if (ctl_namesrv_start(&ns, "test_controller_e2e", "scanNotActiveBrokerInterval=200\n")) abort();
    Suite *s = suite_create("controller_e2e");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_register_elect_and_fail_over);
    tcase_add_test(tc, test_heartbeat_timeout_elects);
    tcase_add_test(tc, test_missing_peers_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (ctl_namesrv_stop(&ns)) failed++;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
