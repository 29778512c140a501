/*
 * Replication status as the 5.x mqadmin reads it: GET_BROKER_HA_STATUS
 * (HARuntimeInfo) and GET_BROKER_EPOCH_CACHE (EpochEntryCache) from a
 * controller-mode master and slave and from a classic broker, byte for byte
 * in fastjson's layout, and what `mqadmin haStatus` and `mqadmin
 * getBrokerEpoch` print from them (HAStatusSubCommand,
 * GetBrokerEpochSubCommand), also after a failover added an epoch.
 */
#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ha_harness.h"
#include "common/fjson.h"

static hh_env env;
static test_broker a, b;
static char *out_text;

/* mqadmin ARGS... (NULL-terminated) against our name server: its exit status, stdout in out_text. */
static int mqadmin(const char *first, ...)
{
    const char *argv[16] = {"mqadmin", first};
    int n = 2;
    va_list ap;
    va_start(ap, first);
    for (const char *s; n < 15 && (s = va_arg(ap, const char *));) argv[n++] = s;
    va_end(ap);
    argv[n] = NULL;
    char *out = str_printf("%s.mqadmin.out", env.conf_a);
    char *prog = test_program("mqadmin");
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1);
        setenv("NAMESRV_ADDR", env.ns_addr, 1);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    int status = -1;
    ck_assert_int_eq(test_wait_exit(pid, mono_ms() + HH_DEADLINE_MS, &status), 0);
    free(out_text);
    out_text = read_file(out, NULL);
    if (!out_text) out_text = xstrdup("");
    unlink(out);
    free(out);
    free(prog);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define OUT_HAS(s) ck_assert_msg(strstr(out_text, s), "mqadmin's output lacks [%s]:\n%s", s, out_text)

/* The answer to a code without header from ADDR: its body (code must be WANT_CODE). */
static char *ask(const char *addr, int code, int want_code, const char *want_remark)
{
    rmq_cmd *req = cmd_new_request(code);
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr, req, BC_TIMEOUT, err, sizeof err);
    cmd_free(req);
    ck_assert_msg(resp, "no answer to %d: %s", code, err);
    ck_assert_int_eq(resp->code, want_code);
    if (want_remark) ck_assert_str_eq(resp->remark ? resp->remark : "(null)", want_remark);
    char *body = resp->body_len ? xstrndup((const char *)resp->body, resp->body_len) : xstrdup("");
    cmd_free(resp);
    return body;
}

static int64_t num(const cJSON *o, const char *name)
{
    int64_t v = -12345;
    ck_assert_msg(fjson_field_int64(o, name, &v) == FJSON_OK, "no %s", name);
    return v;
}

/* The master's HA status once its slave acknowledged END: the exact body. */
static void check_master_status(const test_broker *m, int64_t end)
{
    char *body = NULL;
    cJSON *j = NULL, *c = NULL;
    for (int64_t deadline = mono_ms() + HH_DEADLINE_MS; mono_ms() < deadline; usleep(100000)) {
        free(body);
        cJSON_Delete(j);
        body = ask(m->proc.addr, 907, 0, NULL);
        j = fjson_parse(body, strlen(body), NULL);
        ck_assert_ptr_nonnull(j);
        c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "haConnectionInfo"), 0);
        if (c && num(c, "slaveAckOffset") == end) break;
    }
    ck_assert_msg(c && num(c, "slaveAckOffset") == end, "the slave never acknowledged %lld: %s", (long long)end, body);
    const char *addr = NULL;
    ck_assert_int_eq(fjson_field_string(c, "addr", &addr), FJSON_OK);
    ck_assert(strncmp(addr, "127.0.0.1:", 10) == 0);
    /* fastjson: properties by name; HAClientRuntimeInfo is a fresh one on a master. */
    char *want = str_printf("{\"haClientRuntimeInfo\":{\"lastReadTimestamp\":0,\"lastWriteTimestamp\":0,"
                            "\"masterFlushOffset\":0,\"maxOffset\":0,\"transferredByteInSecond\":0},"
                            "\"haConnectionInfo\":[{\"addr\":\"%s\",\"diff\":0,\"inSync\":true,\"slaveAckOffset\":%"
                            PRId64 ",\"transferFromWhere\":%" PRId64 ",\"transferredByteInSecond\":%" PRId64 "}],"
                            "\"inSyncSlaveNums\":1,\"master\":true,\"masterCommitLogMaxOffset\":%" PRId64 "}",
                            addr, end, end, num(c, "transferredByteInSecond"), end);
    ck_assert_str_eq(body, want);
    free(want);
    free(body);
    cJSON_Delete(j);
}

static void check_slave_status(const test_broker *s, const test_broker *m, int64_t end)
{
    char *body = ask(s->proc.addr, 907, 0, NULL);
    cJSON *j = fjson_parse(body, strlen(body), NULL);
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(j, "haClientRuntimeInfo");
    int64_t read_at = num(ci, "lastReadTimestamp"), write_at = num(ci, "lastWriteTimestamp");
    ck_assert_int_le(now_ms() - read_at, 10000);   /* heartbeats at least every 5 s */
    ck_assert_int_le(now_ms() - write_at, 10000);
    char *want = str_printf("{\"haClientRuntimeInfo\":{\"lastReadTimestamp\":%" PRId64 ",\"lastWriteTimestamp\":%"
                            PRId64 ",\"masterAddr\":\"127.0.0.1:%d\",\"masterFlushOffset\":0,\"maxOffset\":%" PRId64
                            ",\"transferredByteInSecond\":%" PRId64 "},\"haConnectionInfo\":[],\"inSyncSlaveNums\":0,"
                            "\"master\":false,\"masterCommitLogMaxOffset\":0}",
                            read_at, write_at, m->port + 1, end, num(ci, "transferredByteInSecond"));
    ck_assert_str_eq(body, want);
    free(want);
    cJSON_Delete(j);
    free(body);
}

static void check_epochs(const test_broker *tb, int64_t broker_id, const char *entries, int64_t end)
{
    char *body = ask(tb->proc.addr, 1007, 0, NULL);
    char *want = str_printf("{\"brokerId\":%" PRId64 ",\"brokerName\":\"broker-e2e\",\"clusterName\":\"FailoverCluster\","
                            "\"epochList\":[%s],\"maxOffset\":%" PRId64 "}",
                            broker_id, entries, end);
    ck_assert_str_eq(body, want);
    free(want);
    free(body);
}

START_TEST(test_status_of_master_slave_and_classic_broker)
{
    char *sent[64];
    int acked = 0;
    int64_t end = hh_start_pair(&env, &a, &b, "test_ha_status", "m", 10, sent, &acked);
    ck_assert_int_gt(end, 0);

    check_master_status(&a, end);
    check_slave_status(&b, &a, end);
    const char *epoch1 = "{\"endOffset\":9223372036854775807,\"epoch\":1,\"startOffset\":0}";
    check_epochs(&a, 0, epoch1, end);
    check_epochs(&b, 2, epoch1, end);

    /* mqadmin haStatus: the master's table (by address and by cluster), the slave's client. */
    char line[256];
    ck_assert_int_eq(mqadmin("haStatus", "-b", a.proc.addr, NULL), 0);
    snprintf(line, sizeof line, "\n#MasterAddr\t%s\n#MasterCommitLogMaxOffset\t%lld\n#SlaveNum\t1\n#InSyncSlaveNum\t1\n",
             a.proc.addr, (long long)end);
    OUT_HAS(line);
    OUT_HAS("#SlaveAddr                        #SlaveAckOffset             #Diff #TransferSpeed(KB/s)"
            "          #Status #TransferFromWhere\n");
    snprintf(line, sizeof line, "  %-16lld %16d ", (long long)end, 0);
    OUT_HAS(line);
    OUT_HAS("               OK ");
    ck_assert_int_eq(mqadmin("haStatus", "-c", "FailoverCluster", NULL), 0);
    snprintf(line, sizeof line, "#MasterAddr\t%s\n", a.proc.addr);
    OUT_HAS(line);
    ck_assert_msg(!strstr(out_text, "#CommitLogMaxOffset"), "a slave in the cluster output:\n%s", out_text);
    ck_assert_int_eq(mqadmin("haStatus", "-b", b.proc.addr, NULL), 0);
    snprintf(line, sizeof line, "\n#MasterAddr\t127.0.0.1:%d\n#CommitLogMaxOffset\t%lld\n#TransferSpeed(KB/s)\t",
             a.port + 1, (long long)end);
    OUT_HAS(line);
    OUT_HAS("#LastReadTime\t20");
    OUT_HAS("#MasterFlushOffset\t0\n");

    /* mqadmin getBrokerEpoch: both members, the last entry shown ending at the log's end. */
    ck_assert_int_eq(mqadmin("getBrokerEpoch", "-b", "broker-e2e", NULL), 0);
    snprintf(line, sizeof line, "\n#clusterName\tFailoverCluster\n#brokerName\tbroker-e2e\n#brokerAddr\t%s\n#brokerId\t0"
             "\n#Epoch: EpochEntry{epoch=1, startOffset=0, endOffset=%lld}\n", a.proc.addr, (long long)end);
    OUT_HAS(line);
    snprintf(line, sizeof line, "#brokerAddr\t%s\n#brokerId\t2\n#Epoch: EpochEntry{epoch=1, startOffset=0, endOffset=%lld}\n",
             b.proc.addr, (long long)end);
    OUT_HAS(line);
    ck_assert_int_eq(mqadmin("getBrokerEpoch", "-c", "FailoverCluster", NULL), 0);
    OUT_HAS(line);

    /* A failover: the new master's cache has the old epoch ending where its own began. */
    hh_kill9(&a);
    hh_wait_controller(&env.ns, 2, 1);
    hh_send_acked(&b, "n", 3, sent, &acked);
    int64_t end2 = hh_commit_end(&b);
    char *two = str_printf("{\"endOffset\":%lld,\"epoch\":1,\"startOffset\":0},"
                           "{\"endOffset\":9223372036854775807,\"epoch\":2,\"startOffset\":%lld}",
                           (long long)end, (long long)end);
    check_epochs(&b, 0, two, end2);
    free(two);
    ck_assert_int_eq(mqadmin("getBrokerEpoch", "-b", "broker-e2e", NULL), 0);
    snprintf(line, sizeof line, "#brokerId\t0\n#Epoch: EpochEntry{epoch=1, startOffset=0, endOffset=%lld}\n"
             "#Epoch: EpochEntry{epoch=2, startOffset=%lld, endOffset=%lld}\n", (long long)end, (long long)end,
             (long long)end2);
    OUT_HAS(line);
    hh_free_all(sent, acked);
    test_proc_stop(&a.proc, SIGKILL);   /* reaped already; only its files go */
    tb_done(&b);
    test_rmdir(a.dir);
    free(a.dir);

    /* A classic broker: a master with no slave; no epochs outside controller mode. */
    test_broker c;
    tb_init(&c, "test_ha_status_c", NULL);
    int64_t c_end = hh_commit_end(&c);
    char *body = ask(c.proc.addr, 907, 0, NULL);
    char *want = str_printf("{\"haClientRuntimeInfo\":{\"lastReadTimestamp\":0,\"lastWriteTimestamp\":0,"
                            "\"masterFlushOffset\":0,\"maxOffset\":0,\"transferredByteInSecond\":0},"
                            "\"haConnectionInfo\":[],\"inSyncSlaveNums\":0,\"master\":true,"
                            "\"masterCommitLogMaxOffset\":%lld}", (long long)c_end);
    ck_assert_str_eq(body, want);
    free(want);
    free(body);
    free(ask(c.proc.addr, 1007, 1, "this request only for controllerMode "));
    tb_done(&c);
}
END_TEST

static void setup(void)
{
    hh_env_start(&env, "test_ha_status");
}

static void teardown(void)
{
    hh_env_stop(&env);
    free(out_text);
    out_text = NULL;
}

int main(void)
{
    const TTest *tests[] = {test_status_of_master_slave_and_classic_broker, NULL};
    return tb_run_tests("ha_status", 120, setup, teardown, tests);
}
