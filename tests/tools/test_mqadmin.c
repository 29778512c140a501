/*
 * mqadmin end to end: the real mqnamesrv and mqbroker (free 127.0.0.1 ports,
 * their own directory), every sub-command run as a program, its output and
 * exit status checked, and what it changed checked on the servers with
 * requests of our own. A socket of the test plays an online consumer where a
 * command needs one (connections, running info, offset reset). The broker's
 * admin answers are also compared with Apache 4.9.8's in the golden capture.
 * Every wait has a deadline.
 */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../remoting/golden.h"
#include "../testproc.h"
#include "common/fjson.h"
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT_MS 5000
#define RUN_TIMEOUT_MS 20000

static char *dir;
static test_proc ns, broker;

/* ---- processes ---- */

/* Starts NAME (HOME: the test directory, output to NAME.log there) and waits until it listens on PORT. */
static void spawn(test_proc *s, const char *name, char *const argv[], int port)
{
    char *log = str_printf("%s/%s.log", dir, name), *home = str_printf("HOME=%s", dir);
    char *env[] = {home, NULL};
    if (test_proc_start_env(s, name, argv, env, port, log)) {
        fprintf(stderr, "%s did not start on %s\n", name, s->addr);
        abort();
    }
    free(log);
    free(home);
}

static void stop(test_proc *s)
{
    if (s->pid <= 0) return;
    test_proc_stop(s, SIGTERM);
    s->pid = 0;
}

static void write_text(const char *name, const char *text)
{
    char *path = str_printf("%s/%s", dir, name);
    if (write_file_atomic(path, text, strlen(text))) abort();
    free(path);
}

static rmq_cmd *call(const char *addr, rmq_cmd *req);

static void start_servers(void)
{
    dir = test_tmpdir("test_mqadmin");
    int ns_port = test_free_port();
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kvConfig.json\n", ns_port, dir);
    write_text("namesrv.properties", text);
    free(text);
    char *ns_conf = str_printf("%s/namesrv.properties", dir);
    char *ns_argv[] = {"mqnamesrv", "-c", ns_conf, NULL};
    spawn(&ns, "mqnamesrv", ns_argv, ns_port);
    free(ns_conf);

    int broker_port = test_free_broker_port();
    text = str_printf("brokerClusterName=DefaultCluster\nbrokerName=broker-t\nbrokerId=0\nbrokerIP1=127.0.0.1\n"
                      "listenAddress=127.0.0.1\nlistenPort=%d\nstorePathRootDir=%s/store\n"
                      "mappedFileSizeCommitLog=67108864\nflushDiskType=ASYNC_FLUSH\nbrokerTopicEnable=true\n",
                      broker_port, dir);
    write_text("broker.conf", text);
    free(text);
    /* A consume queue left behind by a topic the broker no longer has, for cleanUnusedTopic. */
    char *unused = str_printf("%s/store/consumequeue/ADMINTEST_UNUSED/0", dir);
    if (mkdirs(unused) != RMQ_OK) abort();
    free(unused);
    char *b_conf = str_printf("%s/broker.conf", dir);
    char *b_argv[] = {"mqbroker", "-c", b_conf, "-n", ns.addr, NULL};
    spawn(&broker, "mqbroker", b_argv, broker_port);
    free(b_conf);

    /* Registered once the name server lists the broker. */
    int64_t deadline = mono_ms() + 10000;
    for (;;) {
        rmq_cmd *resp = call(ns.addr, cmd_new_request(106));
        bool ok = resp->body_len && memmem(resp->body, resp->body_len, broker.addr, strlen(broker.addr));
        cmd_free(resp);
        if (ok) break;
        if (mono_ms() > deadline) abort();
        usleep(50000);
    }
}

static void stop_servers(void)
{
    stop(&broker);
    stop(&ns);
    char *cmd = str_printf("rm -rf '%s' %s", dir, "/tmp/rocketmq/msgbodys/*ADMINTEST* 2>/dev/null");
    if (system(cmd)) { /* best effort */ }
    free(cmd);
    free(dir);
}

/* ---- requests of our own ---- */

static rmq_cmd *call(const char *addr, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr, req, TIMEOUT_MS, err, sizeof err);
    if (!resp) {
        fprintf(stderr, "request %d to %s: %s\n", req->code, addr, err);
        abort();
    }
    cmd_free(req);
    return resp;
}

static rmq_cmd *req_ext(int code, ...)
{
    rmq_cmd *c = cmd_new_request(code);
    cmd_ext_declare(c);
    va_list ap;
    va_start(ap, code);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(c, k, va_arg(ap, const char *));
    va_end(ap);
    return c;
}

static char *body_of(const rmq_cmd *r) { return xstrndup((const char *)r->body, r->body_len); }

static int64_t queue_offset(int code, const char *topic, int queue)
{
    char q[16];
    snprintf(q, sizeof q, "%d", queue);
    rmq_cmd *r = call(broker.addr, req_ext(code, "topic", topic, "queueId", q, NULL));
    ck_assert_int_eq(r->code, 0);
    int64_t off = -1;
    ck_assert_int_eq(cmd_ext_int64(r, "offset", &off), EXT_OK);
    cmd_free(r);
    return off;
}

/* QUERY_CONSUMER_OFFSET: what a consumer of the group resumes from (-22 if none). */
static int64_t consumer_offset(const char *group, const char *topic, int queue)
{
    char q[16];
    snprintf(q, sizeof q, "%d", queue);
    rmq_cmd *r = call(broker.addr, req_ext(14, "consumerGroup", group, "topic", topic, "queueId", q, NULL));
    int64_t off = -r->code;
    if (r->code == 0) cmd_ext_int64(r, "offset", &off);
    cmd_free(r);
    return off;
}

static void commit_offset(const char *group, const char *topic, int queue, int64_t offset)
{
    char q[16], o[32];
    snprintf(q, sizeof q, "%d", queue);
    snprintf(o, sizeof o, "%lld", (long long)offset);
    rmq_cmd *r = call(broker.addr,
                      req_ext(15, "consumerGroup", group, "topic", topic, "queueId", q, "commitOffset", o, NULL));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}

/* ---- running mqadmin ---- */

typedef struct run {
    pid_t pid;
    int out_fd, err_fd;
} run;

static char *out_text, *err_text;   /* of the last finished run */

static void run_start(run *r, const char *namesrv, const char *const *args)
{
    int out[2], err[2];
    if (pipe(out) || pipe(err)) abort();
    const char *argv[64] = {"mqadmin"};
    int n = 1;
    for (; args[n - 1]; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    char *prog = test_program("mqadmin");
    r->pid = fork();
    if (r->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        if (namesrv) setenv("NAMESRV_ADDR", namesrv, 1);
        else unsetenv("NAMESRV_ADDR");
        chdir(dir);   /* consumerStatus writes its files in the working directory */
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    free(prog);
    close(out[1]);
    close(err[1]);
    r->out_fd = out[0];
    r->err_fd = err[0];
}

/* Collects the output and the exit status (-1 when killed at the deadline). */
static int run_finish(run *r)
{
    free(out_text);
    free(err_text);
    size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
    char *buf[2] = {xmalloc(cap[0]), xmalloc(cap[1])};
    struct pollfd p[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
    int open_fds = 2;
    int64_t deadline = mono_ms() + RUN_TIMEOUT_MS;
    while (open_fds && mono_ms() < deadline) {
        if (poll(p, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP))) continue;
            if (len[i] + 4096 > cap[i]) buf[i] = xrealloc(buf[i], cap[i] *= 2);
            ssize_t n = read(p[i].fd, buf[i] + len[i], 4096);
            if (n > 0) {
                len[i] += (size_t)n;
            } else {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (p[i].fd >= 0) close(p[i].fd);
        buf[i][len[i]] = '\0';
    }
    out_text = buf[0];
    err_text = buf[1];
    int status;
    if (test_wait_exit(r->pid, deadline, &status)) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* mqadmin ARGS... NULL against our name server; its exit status. */
static int mqadmin(const char *first, ...)
{
    const char *args[64];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    run r;
    run_start(&r, ns.addr, args);
    return run_finish(&r);
}

/* A command that runs until stopped: its stdout up to `want` (or 20 s) in out_text, then SIGTERM. */
static void mqadmin_until(const char *want, const char *const *args)
{
    run r;
    run_start(&r, ns.addr, args);
    size_t len = 0, cap = 8192;
    char *buf = xmalloc(cap);
    buf[0] = '\0';
    int64_t deadline = mono_ms() + 20000;
    while (mono_ms() < deadline && len + 1 < cap && !strstr(buf, want)) {
        struct pollfd p = {r.out_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = read(r.out_fd, buf + len, cap - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    kill(r.pid, SIGTERM);
    run_finish(&r);
    free(out_text);
    out_text = buf;
}

#define OUT_HAS(s) ck_assert_msg(strstr(out_text, s), "stdout lacks [%s]:\n%s\nstderr: %s", s, out_text, err_text)
#define OUT_LACKS(s) ck_assert_msg(!strstr(out_text, s), "stdout has [%s]:\n%s", s, out_text)
#define OK(...) ck_assert_msg(mqadmin(__VA_ARGS__, NULL) == 0, "failed: %s%s", err_text, out_text)

/* A failure: status 1 (or 2 for a bad command line), nothing or a report on stdout,
 * and exactly one line on stderr holding `why`. */
static void expect_failure(int want_status, const char *why)
{
    size_t lines = 0;
    for (const char *p = err_text; *p; p++) lines += *p == '\n';
    ck_assert_msg(lines == 1, "stderr should be one line:\n%s", err_text);
    ck_assert_msg(strstr(err_text, why), "stderr lacks [%s]: %s", why, err_text);
    (void)want_status;
}

#define FAILS(status, why, ...)                                                              \
    do {                                                                                     \
        int rc_ = mqadmin(__VA_ARGS__, NULL);                                                \
        ck_assert_msg(rc_ == (status), "status %d, want %d; stderr: %s", rc_, status, err_text); \
        expect_failure(status, why);                                                         \
    } while (0)

/* ---- a consumer played by the test ---- */

#define SIM_CLIENT "127.0.0.1@ADMINTEST_SIM"

static int sim_connect(const char *group, const char *topic)
{
    char err[256];
    int fd = rmq_connect_blocking(broker.addr, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    char *body = str_printf(
        "{\"clientID\":\"%s\",\"consumerDataSet\":[{\"consumeFromWhere\":\"CONSUME_FROM_FIRST_OFFSET\","
        "\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\",\"messageModel\":\"CLUSTERING\","
        "\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"TAG\","
        "\"subString\":\"*\",\"subVersion\":1,\"tagsSet\":[],\"topic\":\"%s\"}],\"unitMode\":false}],"
        "\"producerDataSet\":[{\"groupName\":\"ADMINTEST_PG\"}]}",
        SIM_CLIENT, group, topic);
    rmq_cmd *hb = cmd_new_request(34);
    cmd_take_body(hb, body, strlen(body));
    rmq_cmd *resp = rmq_invoke_fd(fd, hb, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(resp && resp->code == 0, "heartbeat: %s", resp ? resp->remark : err);
    cmd_free(resp);
    cmd_free(hb);
    return fd;
}

/* The next request of CODE the broker sends the simulated client (others skipped). */
static rmq_cmd *sim_receive(int fd, int code)
{
    int64_t deadline = mono_ms() + 10000;
    while (mono_ms() < deadline) {
        char err[256];
        rmq_cmd *c = rmq_read_frame_fd(fd, 1000, err, sizeof err);
        if (c && c->code == code && !cmd_is_response(c)) return c;
        cmd_free(c);
    }
    ck_abort_msg("the broker sent no request %d", code);
    return NULL;
}

/* ---- the tests (run in order, sharing the servers) ---- */

#define TOPIC "ADMINTEST_T"
#define GROUP "ADMINTEST_G"

START_TEST(help_and_bad_command_lines)
{
    OK("help");
    static const char *const all[] = {
        "updateTopic", "deleteTopic", "topicList", "topicRoute", "topicStatus", "topicClusterList", "clusterList",
        "brokerStatus", "updateSubGroup", "deleteSubGroup", "consumerProgress", "consumerConnection",
        "producerConnection", "consumerStatus", "queryMsgById", "queryMsgByKey", "queryMsgByUniqueKey",
        "queryMsgByOffset", "printMsg", "sendMessage", "consumeMessage", "resetOffsetByTime", "updateBrokerConfig",
        "getBrokerConfig", "updateKvConfig", "deleteKvConfig", "getNamesrvConfig", "updateNamesrvConfig",
        "wipeWritePerm", "cleanExpiredCQ", "printMsgByQueue", "cleanUnusedTopic", "statsAll", "clusterRT"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "   %-20s ", all[i]);
        OUT_HAS(line);
    }
    OK("help", "updateTopic");
    OUT_HAS("usage: mqadmin updateTopic");
    OUT_HAS(" -t,--topic <arg>");
    OUT_HAS(" -n,--namesrvAddr <arg>");

    FAILS(2, "The sub command noSuchCommand not exist.", "noSuchCommand");
    FAILS(2, "Missing required option: t", "updateTopic", "-c", "DefaultCluster");
    FAILS(2, "Unrecognized option: -z", "topicList", "-z");
    FAILS(2, "Missing argument for option: t", "topicRoute", "-t");
    FAILS(2, "one of the options -b or -c is required", "updateTopic", "-t", TOPIC);
    FAILS(2, "For input string: \"many\"", "updateTopic", "-c", "DefaultCluster", "-t", TOPIC, "-r", "many");
    /* Unreachable name server. */
    FAILS(1, "connect to 127.0.0.1:1 failed", "topicList", "-n", "127.0.0.1:1");
}
END_TEST

START_TEST(topic_lifecycle)
{
    OK("updateTopic", "-c", "DefaultCluster", "-t", TOPIC, "-r", "3", "-w", "3");
    char line[128];
    snprintf(line, sizeof line, "create topic to %s success.\n", broker.addr);
    OUT_HAS(line);
    OUT_HAS("TopicConfig [topicName=" TOPIC ", readQueueNums=3, writeQueueNums=3, perm=RW-, topicFilterType=SINGLE_TAG, "
            "topicSysFlag=0, order=false]");

    /* Routable: the name server has it (the broker re-registered), with 3 queues. */
    int64_t deadline = mono_ms() + 5000;
    rmq_cmd *r;
    while ((r = call(ns.addr, req_ext(105, "topic", TOPIC, NULL)))->code != 0 && mono_ms() < deadline) {
        cmd_free(r);
        usleep(50000);
    }
    ck_assert_int_eq(r->code, 0);
    char *route = body_of(r);
    ck_assert_ptr_nonnull(strstr(route, "\"writeQueueNums\":3"));
    free(route);
    cmd_free(r);

    OK("topicList");
    OUT_HAS(TOPIC "\n");
    OK("topicList", "-c");
    OUT_HAS("#Cluster Name         #Topic");
    OUT_HAS("DefaultCluster        " TOPIC);
    OK("topicRoute", "-t", TOPIC);
    OUT_HAS("\"brokerAddrs\":{0:\"");
    OK("topicRoute", "-t", TOPIC, "-l");
    OUT_HAS("#ClusterName                                  #BrokerName");
    OUT_HAS("DefaultCluster                                broker-t                         {0=");
    OUT_HAS("Total:                                        1");
    OK("topicClusterList", "-t", TOPIC);
    ck_assert_str_eq(out_text, "DefaultCluster\n");

    /* Sendable: sendMessage stores it where topicStatus and the broker say. */
    OK("sendMessage", "-t", TOPIC, "-p", "hello-admin", "-k", "ADMINTEST_KEY", "-c", "TagA", "-b", "broker-t", "-i", "1");
    OUT_HAS("#Broker Name                      #QID  #Send Result            #MsgId\n");
    OUT_HAS("broker-t                          1     SEND_OK                 ");
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 1);
    OK("sendMessage", "-t", TOPIC, "-p", "second", "-b", "broker-t", "-i", "1");
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 2);
    OK("topicStatus", "-t", TOPIC);
    OUT_HAS("#Broker Name                      #QID  #Min Offset           #Max Offset             #Last Updated\n");
    OUT_HAS("broker-t                          1     0                     2                       20");
    OUT_HAS("broker-t                          2     0                     0                       \n");

    /* Unknown topics. */
    FAILS(1, "CODE: 17  DESC: No topic route info in name server for the topic: ADMINTEST_NONE", "topicStatus", "-t",
          "ADMINTEST_NONE");
    FAILS(1, "CODE: 17", "topicRoute", "-t", "ADMINTEST_NONE");

    /* Deleted: gone from the broker and the name server. */
    OK("updateTopic", "-b", broker.addr, "-t", "ADMINTEST_DEL");
    OK("deleteTopic", "-c", "DefaultCluster", "-t", "ADMINTEST_DEL");
    OUT_HAS("delete topic [ADMINTEST_DEL] from cluster [DefaultCluster] success.\n");
    OUT_HAS("delete topic [ADMINTEST_DEL] from NameServer success.\n");
    r = call(ns.addr, req_ext(105, "topic", "ADMINTEST_DEL", NULL));
    ck_assert_int_eq(r->code, 17);
    cmd_free(r);
    r = call(broker.addr, req_ext(21, NULL));
    char *topics = body_of(r);
    ck_assert_ptr_null(strstr(topics, "ADMINTEST_DEL"));
    ck_assert_ptr_nonnull(strstr(topics, TOPIC));
    free(topics);
    cmd_free(r);
    FAILS(1, "cluster: NoCluster", "deleteTopic", "-c", "NoCluster", "-t", TOPIC);
}
END_TEST

START_TEST(messages)
{
    OK("queryMsgByKey", "-t", TOPIC, "-k", "ADMINTEST_KEY");
    OUT_HAS("#Message ID                                        #QID                                  #Offset\n");
    char id[64] = "";
    ck_assert_int_eq(sscanf(strchr(out_text, '\n') + 1, "%63s", id), 1);
    ck_assert_int_eq(strlen(id), 32);
    OUT_HAS("    1                                        0\n");

    OK("queryMsgByUniqueKey", "-t", TOPIC, "-i", id);
    OUT_HAS("Topic:               " TOPIC "\n");
    OUT_HAS("Tags:                [TagA]\n");
    OUT_HAS("Keys:                [ADMINTEST_KEY]\n");
    OUT_HAS("Queue ID:            1\n");
    OUT_HAS("WARN: No Consumer");

    OK("queryMsgByOffset", "-t", TOPIC, "-b", "broker-t", "-i", "1", "-o", "0");
    OUT_HAS("Queue Offset:        0\n");
    char offset_id[64] = "";
    ck_assert_int_eq(sscanf(strstr(out_text, "OffsetID:") + 9, "%63s", offset_id), 1);
    OK("queryMsgById", "-i", offset_id);
    OUT_HAS("OffsetID:            ");
    OUT_HAS(offset_id);
    OUT_HAS("Keys:                [ADMINTEST_KEY]\n");
    char path[160], shown[200];
    snprintf(path, sizeof path, "/tmp/rocketmq/msgbodys/%s", id);
    snprintf(shown, sizeof shown, "Message Body Path:   %s\n", path);
    OUT_HAS(shown);
    size_t len;
    char *body = read_file(path, &len);
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body, "hello-admin");
    free(body);

    OK("printMsg", "-t", TOPIC);
    OUT_HAS("minOffset=0, maxOffset=2, MessageQueue [topic=" TOPIC ", brokerName=broker-t, queueId=1]\n");
    OUT_HAS("BODY: hello-admin\n");
    OUT_HAS("BODY: second\n");
    OK("printMsg", "-t", TOPIC, "-d", "false", "-s", "TagA");
    OUT_HAS("BODY: NOT PRINT BODY\n");
    OK("consumeMessage", "-t", TOPIC, "-b", "broker-t", "-i", "1", "-o", "1");
    OUT_HAS("Consume ok\n");
    OUT_HAS("BODY: second\n");
    OUT_LACKS("hello-admin");

    FAILS(1, "is not an offset message id", "queryMsgById", "-i", "NOT_AN_ID");

    /* printMsgByQueue: nothing but the tag counts unless -p true. */
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-f", "true");
    ck_assert_str_eq(out_text, "Tag: TagA                           Count: 1\n");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-p", "true", "-d", "true");
    OUT_HAS("BODY: hello-admin\n");
    OUT_HAS("BODY: second\n");
    OUT_LACKS("Tag: ");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-p", "true");
    OUT_HAS("queueOffset=1, ");
    OUT_HAS("BODY: NOT PRINT BODY\n");
    OUT_LACKS("BODY: second");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "2", "-p", "true", "-f", "true");
    ck_assert_str_eq(out_text, "");
    FAILS(1, "The broker[broker-none] not exist", "printMsgByQueue", "-t", TOPIC, "-a", "broker-none", "-i", "1");

    /* statsAll: a group that consumed 1 of the 2 messages of queue 1 has 1 left. */
    OK("statsAll", "-t", "ADMINTEST_STATS_NONE");
    ck_assert_str_eq(out_text, "#Topic                            #Consumer Group                  #Accumulation      #InTPS"
                               "     #OutTPS   #InMsg24Hour  #OutMsg24Hour\n");
    commit_offset("ADMINTEST_STATS_G", TOPIC, 1, 1);
    OK("statsAll", "-t", TOPIC);
    char row[400];
    snprintf(row, sizeof row, "%-64s  %-64s %12d %11.2f %11.2f ", TOPIC, "ADMINTEST_STATS_G", 1, 0.0, 0.0);
    OUT_HAS(row);
    OK("updateTopic", "-b", broker.addr, "-t", "ADMINTEST_STATS_NOC");
    OK("statsAll", "-t", "ADMINTEST_STATS_NOC");
    snprintf(row, sizeof row, "%-64s  %-32s %12d %11.2f %11s %14d %14s\n", "ADMINTEST_STATS_NOC", "", 0, 0.0, "", 0,
             "NO_CONSUMER");
    OUT_HAS(row);
    OK("statsAll", "-a", "-t", "ADMINTEST_STATS_NOC");
    OUT_LACKS("NO_CONSUMER");
}
END_TEST

START_TEST(broker_and_cluster_status)
{
    OK("clusterList");
    OUT_HAS("#Cluster Name     #Broker Name            #BID  #Addr                  #Version");
    char line[160];
    snprintf(line, sizeof line, "DefaultCluster    broker-t                0     %-22s V4_9_8", broker.addr);
    OUT_HAS(line);
    OK("clusterList", "-m");
    OUT_HAS("#InTotalYest");
    snprintf(line, sizeof line, "DefaultCluster    broker-t                                      0              0 ");
    OUT_HAS(line);

    OK("brokerStatus", "-b", broker.addr);
    OUT_HAS("brokerVersionDesc               : V4_9_8\n");
    OUT_HAS("msgPutTotalTodayNow             : 2\n");
    OUT_HAS("putMessageTimesTotal            : 2\n");
    OUT_HAS("commitLogMinOffset              : 0\n");
    /* TPS are "10s 60s 600s" numbers; the commit log grew by the two records. */
    double a, b, c;
    ck_assert_int_eq(sscanf(strstr(out_text, "putTps                          : ") + 34, "%lf %lf %lf", &a, &b, &c), 3);
    ck_assert(a >= 0 && b >= 0 && c >= 0);
    long long max = 0;
    ck_assert_int_eq(sscanf(strstr(out_text, "commitLogMaxOffset              : ") + 34, "%lld", &max), 1);
    ck_assert_int_gt(max, 0);
    OK("brokerStatus", "-c", "DefaultCluster");
    snprintf(line, sizeof line, "%-24s %-32s: V4_9_8", broker.addr, "brokerVersionDesc");
    OUT_HAS(line);
    FAILS(1, "connect to 127.0.0.1:1 failed", "brokerStatus", "-b", "127.0.0.1:1");

    OK("cleanExpiredCQ", "-b", broker.addr);
    ck_assert_str_eq(out_text, "success");
    OK("cleanExpiredCQ", "-c", "DefaultCluster");
    ck_assert_str_eq(out_text, "success");

    /* cleanUnusedTopic drops the queue of the unconfigured topic, keeps the configured one's. */
    char *unused = str_printf("%s/store/consumequeue/ADMINTEST_UNUSED", dir);
    ck_assert_int_eq(access(unused, F_OK), 0);
    OK("cleanUnusedTopic", "-b", broker.addr);
    ck_assert_str_eq(out_text, "success");
    ck_assert_int_ne(access(unused, F_OK), 0);
    free(unused);
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 2);
    OK("cleanUnusedTopic", "-c", "DefaultCluster");
    ck_assert_str_eq(out_text, "success");

    /* clusterRT: 3 messages to the broker's own topic (brokerTopicEnable), stored, every second until stopped. */
    int64_t before = queue_offset(30, "broker-t", 0);
    const char *rt[] = {"clusterRT", "-a", "3", "-s", "16", "-i", "1", NULL};
    char counts[64];
    snprintf(counts, sizeof counts, "  %-16d  %-16d\n", 3, 0);
    mqadmin_until(counts, rt);
    OUT_HAS("#Cluster Name             #Broker Name              #RT   #successCount  #failCount\n");
    OUT_HAS("DefaultCluster            broker-t                  ");
    OUT_HAS(counts);
    ck_assert_int_ge(queue_offset(30, "broker-t", 0), before + 3);
    const char *rt_tlog[] = {"clusterRT", "-a", "2", "-s", "8", "-p", "true", "-m", "room1", "-i", "1", NULL};
    mqadmin_until("|room1|DefaultCluster|broker-t|", rt_tlog);
    OUT_HAS("|room1|DefaultCluster|broker-t|");
    OUT_LACKS("#Cluster Name");
    const char *rt_none[] = {"clusterRT", "-s", "8", "-c", "NoCluster", "-i", "1", NULL};
    mqadmin_until("cluster [NoCluster] not exist", rt_none);
    OUT_HAS("cluster [NoCluster] not exist");
}
END_TEST

START_TEST(broker_config)
{
    OK("updateBrokerConfig", "-b", broker.addr, "-k", "defaultTopicQueueNums", "-v", "5");
    char line[128];
    snprintf(line, sizeof line, "update broker config success, %s\n", broker.addr);
    OUT_HAS(line);
    rmq_cmd *r = call(broker.addr, req_ext(26, NULL));
    char *props = body_of(r);
    ck_assert_ptr_nonnull(strstr(props, "defaultTopicQueueNums=5\n"));
    ck_assert_str_eq(cmd_ext_get(r, "version") + strlen(cmd_ext_get(r, "version")) - 1, "}");
    ck_assert_ptr_nonnull(strstr(cmd_ext_get(r, "version"), "\"counter\":1"));
    free(props);
    cmd_free(r);
    OK("getBrokerConfig", "-b", broker.addr);
    snprintf(line, sizeof line, "============%s============\n", broker.addr);
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-50s=  %s\n", "defaultTopicQueueNums", "5");
    OUT_HAS(line);
    OK("getBrokerConfig", "-c", "DefaultCluster");
    snprintf(line, sizeof line, "============Master: %s============\n", broker.addr);
    OUT_HAS(line);
    FAILS(1, "CODE: 16  DESC: Can not update config in black list.", "updateBrokerConfig", "-b", broker.addr, "-k",
          "brokerConfigPath", "-v", "/x");
    FAILS(1, "CODE: 1", "updateBrokerConfig", "-b", broker.addr, "-k", "defaultTopicQueueNums", "-v", "lots");
}
END_TEST

START_TEST(namesrv_commands)
{
    OK("updateKvConfig", "-s", "ADMINTEST_NS", "-k", "k1", "-v", "v1");
    ck_assert_str_eq(out_text, "create or update kv config to namespace success.\n");
    rmq_cmd *r = call(ns.addr, req_ext(101, "namespace", "ADMINTEST_NS", "key", "k1", NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "value"), "v1");
    cmd_free(r);
    OK("deleteKvConfig", "-s", "ADMINTEST_NS", "-k", "k1");
    ck_assert_str_eq(out_text, "delete kv config from namespace success.\n");
    r = call(ns.addr, req_ext(101, "namespace", "ADMINTEST_NS", "key", "k1", NULL));
    ck_assert_int_eq(r->code, 22);
    cmd_free(r);

    OK("updateNamesrvConfig", "-k", "orderMessageEnable", "-v", "true");
    OUT_HAS("update name server config success!\norderMessageEnable : true\n");
    OK("getNamesrvConfig");
    char line[128];
    snprintf(line, sizeof line, "============%s============\n", ns.addr);
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-50s=  %s\n", "orderMessageEnable", "true");
    OUT_HAS(line);
}
END_TEST

START_TEST(subscription_groups)
{
    OK("updateSubGroup", "-c", "DefaultCluster", "-g", "ADMINTEST_SUB", "-r", "3");
    OUT_HAS("SubscriptionGroupConfig [groupName=ADMINTEST_SUB, consumeEnable=true, consumeFromMinEnable=false, "
            "consumeBroadcastEnable=false, retryQueueNums=1, retryMaxTimes=3, brokerId=0, "
            "whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=true]");
    rmq_cmd *r = call(broker.addr, req_ext(201, NULL));
    char *groups = body_of(r);
    ck_assert_ptr_nonnull(strstr(groups, "\"groupName\":\"ADMINTEST_SUB\""));
    ck_assert_ptr_nonnull(strstr(groups, "\"retryMaxTimes\":3"));
    free(groups);
    cmd_free(r);
    OK("deleteSubGroup", "-c", "DefaultCluster", "-g", "ADMINTEST_SUB");
    char line[160];
    snprintf(line, sizeof line, "delete subscription group [ADMINTEST_SUB] from broker [%s] in cluster [DefaultCluster] success.\n",
             broker.addr);
    OUT_HAS(line);
    OUT_HAS("delete topic [%RETRY%ADMINTEST_SUB] from NameServer success.\n");
    OUT_HAS("delete topic [%DLQ%ADMINTEST_SUB] from NameServer success.\n");
    r = call(broker.addr, req_ext(201, NULL));
    groups = body_of(r);
    ck_assert_ptr_null(strstr(groups, "ADMINTEST_SUB"));
    free(groups);
    cmd_free(r);
}
END_TEST

START_TEST(consumers_online)
{
    int fd = sim_connect(GROUP, TOPIC);   /* creates %RETRY%ADMINTEST_G; wait until it is routable */
    int64_t deadline = mono_ms() + 5000;
    rmq_cmd *r;
    while ((r = call(ns.addr, req_ext(105, "topic", "%RETRY%" GROUP, NULL)))->code != 0 && mono_ms() < deadline) {
        cmd_free(r);
        usleep(50000);
    }
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);

    OK("consumerConnection", "-g", GROUP);
    OUT_HAS("#ClientId                            #ClientAddr            #Language  #Version\n");
    char line[256];
    snprintf(line, sizeof line, "%-36s 127.0.0.1:", SIM_CLIENT);
    OUT_HAS(line);
    OUT_HAS("JAVA       V4_9_8\n");
    OUT_HAS(TOPIC "          *\n");
    OUT_HAS("ConsumeType: CONSUME_PASSIVELY\nMessageModel: CLUSTERING\nConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n");
    OK("producerConnection", "-g", "ADMINTEST_PG", "-t", TOPIC);
    snprintf(line, sizeof line, "0001  %-32s 127.0.0.1:", SIM_CLIENT);
    OUT_HAS(line);
    FAILS(1, "CODE: 206", "consumerConnection", "-g", "ADMINTEST_NOBODY", "-b", broker.addr);
    FAILS(1, "CODE: 1  DESC: the producer group[ADMINTEST_NOPG] not exist", "producerConnection", "-g",
          "ADMINTEST_NOPG", "-t", TOPIC);

    /* Progress: offsets the consumer committed against what the queues hold. */
    commit_offset(GROUP, TOPIC, 1, 1);
    OK("consumerProgress", "-g", GROUP);
    OUT_HAS("#Topic                                                            #Broker Name                      #QID  "
            "#Broker Offset        #Consumer Offset      #Diff                 #LastTime\n");
    snprintf(line, sizeof line, "%-64s  %-32s  %-4d  %-20d  %-20d  %-20d  ", TOPIC, "broker-t", 1, 2, 1, 1);
    OUT_HAS(line);
    OUT_HAS("Diff Total: 1\n");
    OK("consumerProgress");
    snprintf(line, sizeof line, "%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %d\n", GROUP, 1, "V4_9_8", "PUSH", "CLUSTERING", 0, 1);
    OUT_HAS(line);

    /* consumerStatus: the broker relays GET_CONSUMER_RUNNING_INFO to the client and back. */
    const char *args[] = {"consumerStatus", "-g", GROUP, "-i", SIM_CLIENT, NULL};
    run rn;
    run_start(&rn, ns.addr, args);
    rmq_cmd *asked = sim_receive(fd, 307);
    ck_assert_str_eq(cmd_ext_get(asked, "clientId"), SIM_CLIENT);
    rmq_cmd *answer = cmd_new_response(asked, 0, NULL);
    const char *info = "{\"jstack\":\"\",\"mqTable\":{{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"" TOPIC
                       "\"}:{\"commitOffset\":1}},\"properties\":{\"consumerGroup\":\"" GROUP "\"},"
                       "\"statusTable\":{},\"subscriptionSet\":[{\"classFilterMode\":false,\"subString\":\"*\","
                       "\"topic\":\"" TOPIC "\"}]}";
    cmd_set_body(answer, info, strlen(info));
    rmq_write_cmd_fd(fd, answer);
    cmd_free(answer);
    cmd_free(asked);
    ck_assert_int_eq(run_finish(&rn), 0);
    OUT_HAS("#Consumer Properties#\n");
    snprintf(line, sizeof line, "%-40s: %s\n", "consumerGroup", GROUP);
    OUT_HAS(line);
    OUT_HAS("001 Topic: " TOPIC);
    snprintf(line, sizeof line, "%-32s  %-32s  %-4d  %-20d\n", TOPIC, "broker-t", 1, 1);
    OUT_HAS(line);

    /* A client that does not answer: the broker gives up (CONSUME_MSG_TIMEOUT) — not waited for here;
     * an unknown client is refused at once. */
    FAILS(1, "The Consumer <" GROUP "> <nobody> not online", "consumerStatus", "-g", GROUP, "-i", "nobody");

    /* resetOffsetByTime with the consumer online: the broker pushes the offsets to it. */
    commit_offset(GROUP, TOPIC, 0, 0);
    commit_offset(GROUP, TOPIC, 2, 0);
    const char *reset[] = {"resetOffsetByTime", "-g", GROUP, "-t", TOPIC, "-s", "now", NULL};
    run_start(&rn, ns.addr, reset);
    rmq_cmd *push = sim_receive(fd, 220);
    ck_assert_str_eq(cmd_ext_get(push, "group"), GROUP);
    ck_assert_str_eq(cmd_ext_get(push, "timestamp"), "-1");
    char *pushed = body_of(push);
    ck_assert_ptr_nonnull(strstr(pushed, "{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"" TOPIC "\"}:2"));
    free(pushed);
    cmd_free(push);
    ck_assert_int_eq(run_finish(&rn), 0);
    OUT_HAS("rollback consumer offset by specified group[" GROUP "], topic[" TOPIC "], force[true], "
            "timestamp(string)[now], timestamp(long)[-1]\n");
    snprintf(line, sizeof line, "%-40s  %-40d  %-40d\n", "broker-t", 1, 2);
    OUT_HAS(line);
    close(fd);
}
END_TEST

START_TEST(reset_offline_consumer)
{
    /* No client online: mqadmin commits the offsets itself, and they are what a consumer resumes from. */
    commit_offset("ADMINTEST_OFF", TOPIC, 0, 0);
    commit_offset("ADMINTEST_OFF", TOPIC, 1, 1);
    commit_offset("ADMINTEST_OFF", TOPIC, 2, 0);
    OK("resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", TOPIC, "-s", "now");
    char line[256];
    snprintf(line, sizeof line, "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n", "#brokerName", "#queueId",
             "#brokerOffset", "#consumerOffset", "#timestampOffset", "#rollbackOffset");
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d\n", "broker-t", 1, 2, 1, 2, 2);
    OUT_HAS(line);
    ck_assert_int_eq(consumer_offset("ADMINTEST_OFF", TOPIC, 1), 2);
    /* Back to the beginning by a time before every message. */
    OK("resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", TOPIC, "-s", "1000");
    ck_assert_int_eq(consumer_offset("ADMINTEST_OFF", TOPIC, 1), 0);
    /* As with Apache, progress is looked up through the group's retry topic, which an offline group lacks. */
    FAILS(1, "No topic route info in name server for the topic: %RETRY%ADMINTEST_OFF", "consumerProgress", "-g",
          "ADMINTEST_OFF");
    FAILS(1, "CODE: 17", "resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", "ADMINTEST_NONE", "-s", "now");
    FAILS(1, "CODE: 17", "consumerProgress", "-g", "ADMINTEST_NOGROUP");
}
END_TEST

/* The broker's answers to the admin requests Apache answered in the capture:
 * same codes, remarks and body shapes (values differ with the data). */
typedef struct golden_ctx {
    cJSON *requests;   /* opaque -> request line, per connection */
    int compared;
} golden_ctx;

static void keys_of(const cJSON *obj, char *out, size_t cap)
{
    out[0] = '\0';
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s,", c->string[0] == '{' ? "{mq}" : c->string);
    }
}

static void compare_golden(cJSON *line, void *arg)
{
    golden_ctx *g = arg;
    const char *src = cJSON_GetObjectItem(line, "src")->valuestring;
    int code = cJSON_GetObjectItem(line, "code")->valueint;
    char key[64];
    snprintf(key, sizeof key, "%d/%d", cJSON_GetObjectItem(line, "conn")->valueint,
             cJSON_GetObjectItem(line, "opaque")->valueint);
    if (strcmp(src, "client") == 0) {
        if (strcmp(cJSON_GetObjectItem(line, "dst")->valuestring, "broker") == 0)
            cJSON_AddItemToObject(g->requests, key, cJSON_Duplicate(line, true));
        return;
    }
    cJSON *req_line = cJSON_GetObjectItem(g->requests, key);
    const cJSON *rc = cJSON_GetObjectItem(line, "req_code");
    if (strcmp(src, "broker") || !req_line || !rc) return;
    int req_code = rc->valueint;
    if (req_code != 17 && req_code != 202 && req_code != 28 && req_code != 200 && req_code != 207 &&
        req_code != 300 && req_code != 26 && req_code != 208)
        return;
    /* Replay the request against our broker, with its topic/group names. */
    rmq_cmd *req = cmd_new_request(req_code);
    cmd_ext_declare(req);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(req_line, "header"), "extFields")) {
        if (!strcmp(f->string, "Signature") || !strcmp(f->string, "AccessKey")) continue;
        cmd_ext_set(req, f->string, f->valuestring);
    }
    const char *hex = cJSON_GetObjectItem(req_line, "body_hex")->valuestring;
    if (*hex) {
        uint8_t *body = xmalloc(strlen(hex) / 2 + 1);
        int n = hex_decode(body, strlen(hex) / 2 + 1, hex);
        cmd_take_body(req, body, (size_t)n);
    }
    if (req_code == 208) commit_offset(cmd_ext_get(req, "consumerGroup"), "GoldenAdminTopic", 0, 0);
    rmq_cmd *ours = call(broker.addr, req);
    ck_assert_int_eq(ours->code, code);
    const cJSON *remark = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "header"), "remark");
    if (remark) ck_assert_str_eq(ours->remark ? ours->remark : "", remark->valuestring);
    else ck_assert_ptr_null(ours->remark);
    const char *want_hex = cJSON_GetObjectItem(line, "body_hex")->valuestring;
    if (*want_hex && req_code != 26) {
        uint8_t *want = xmalloc(strlen(want_hex) / 2 + 1);
        int n = hex_decode(want, strlen(want_hex) / 2 + 1, want_hex);
        cJSON *w = fjson_parse((const char *)want, (size_t)n, NULL), *o = fjson_parse((const char *)ours->body, ours->body_len, NULL);
        ck_assert_ptr_nonnull(w);
        ck_assert_ptr_nonnull(o);
        char wk[4096], ok[4096];
        if (req_code == 28) {
            /* Every key clusterList and brokerStatus readers use is there. */
            const cJSON *k;
            cJSON_ArrayForEach(k, cJSON_GetObjectItem(w, "table")) {
                static const char *const optional[] = {"putMessageDistributeTime", "putMessageEntireTimeMax",
                    "getMessageEntireTimeMax", "putLatency99", "putLatency999", "dispatchMaxBuffer",
                    "putMessageFailedTimes", "remainHowManyDataToFlush", "scheduleMessageOffset_2",
                    "scheduleMessageOffset_3", "commitLogDiskRatio_/data/rocketmq/store/commitlog"};
                bool skip = false;
                for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) skip |= !strcmp(k->string, optional[i]);
                if (!skip) ck_assert_msg(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "table"), k->string), "no %s", k->string);
            }
        } else {
            keys_of(w, wk, sizeof wk);
            keys_of(o, ok, sizeof ok);
            ck_assert_str_eq(ok, wk);
            /* Entries of the MessageQueue-keyed tables have Apache's fields. */
            const cJSON *wt = cJSON_GetObjectItem(w, "offsetTable"), *ot = cJSON_GetObjectItem(o, "offsetTable");
            if (wt && ot && wt->child && ot->child) {
                keys_of(wt->child, wk, sizeof wk);
                keys_of(ot->child, ok, sizeof ok);
                ck_assert_str_eq(ok, wk);
                cJSON *wkey = fjson_parse_key(wt->child, NULL), *okey = fjson_parse_key(ot->child, NULL);
                keys_of(wkey, wk, sizeof wk);
                keys_of(okey, ok, sizeof ok);
                ck_assert_str_eq(ok, wk);
                cJSON_Delete(wkey);
                cJSON_Delete(okey);
            }
        }
        cJSON_Delete(w);
        cJSON_Delete(o);
        free(want);
    }
    cmd_free(ours);
    g->compared++;
}

START_TEST(golden_admin_answers)
{
    OK("sendMessage", "-t", "GoldenAdminTopic", "-p", "x");   /* auto-created like Apache's first run had it */
    golden_ctx g = {cJSON_CreateObject(), 0};
    ck_assert_int_ge(golden_each("mqadmin-4.9.8.jsonl", compare_golden, &g), 0);
    ck_assert_int_ge(g.compared, 8);
    cJSON_Delete(g.requests);
}
END_TEST

/* Last: it takes the broker's write permission away on the name server. */
START_TEST(wipe_write_perm)
{
    OK("wipeWritePerm", "-b", "broker-t");
    char line[128];
    snprintf(line, sizeof line, "wipe write perm of broker[broker-t] in name server[%s] OK, ", ns.addr);
    OUT_HAS(line);
    rmq_cmd *r = call(ns.addr, req_ext(105, "topic", TOPIC, NULL));
    char *route = body_of(r);
    ck_assert_ptr_nonnull(strstr(route, "\"perm\":4"));
    free(route);
    cmd_free(r);
}
END_TEST

static void teardown_outputs(void)
{
    free(out_text);
    free(err_text);
    out_text = err_text = NULL;
}

int main(void)
{
    rmq_remoting_init();
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("mqadmin");
    TCase *tc = tcase_create("e2e");
    tcase_add_unchecked_fixture(tc, start_servers, stop_servers);
    tcase_add_checked_fixture(tc, NULL, teardown_outputs);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, help_and_bad_command_lines);
    tcase_add_test(tc, topic_lifecycle);
    tcase_add_test(tc, messages);
    tcase_add_test(tc, broker_and_cluster_status);
    tcase_add_test(tc, broker_config);
    tcase_add_test(tc, namesrv_commands);
    tcase_add_test(tc, subscription_groups);
    tcase_add_test(tc, consumers_online);
    tcase_add_test(tc, reset_offline_consumer);
    tcase_add_test(tc, golden_admin_answers);
    tcase_add_test(tc, wipe_write_perm);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
