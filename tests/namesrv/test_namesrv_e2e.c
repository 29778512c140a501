/*
 * End to end: the real mqnamesrv program on 127.0.0.1 (free ports, its own
 * HOME), driven over sockets with the frames Apache's broker and clients
 * sent in the golden captures, answers compared with what Apache 4.9.8
 * answered. Brokers register over connections they keep open, as real
 * brokers do (closing one unregisters it). Every wait has a deadline.
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
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT_MS 5000
#define V4_9_8 409
#define GO_CLIENT_VERSION 317

typedef struct server_proc {
    test_proc proc;
    char *dir;
} server_proc;

static server_proc main_srv, short_srv;   /* default expiry / 1.5 s expiry */

/* ---- process control ---- */

static char *dir_file(const server_proc *s, const char *name) { return str_printf("%s/%s", s->dir, name); }

/* Starts mqnamesrv (HOME: its directory) with EXTRA config lines; waits until it accepts connections. */
static void start_server(server_proc *s, const char *extra)
{
    s->dir = test_tmpdir("test_namesrv_e2e");
    int port = test_free_port();
    char *conf = dir_file(s, "namesrv.properties");
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/store/kvConfig.json\n%s",
                            port, s->dir, extra);
    if (write_file_atomic(conf, text, strlen(text))) abort();
    free(text);
    char *out = dir_file(s, "stdout");
    char *home = str_printf("HOME=%s", s->dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    if (test_proc_start_env(&s->proc, "mqnamesrv", argv, env, port, out)) {
        fprintf(stderr, "mqnamesrv did not come up on %s\n", s->proc.addr);
        abort();
    }
    free(home);
    free(out);
    free(conf);
}

/* ---- requests ---- */

/* A request as a Java 4.9.8 peer sends it: ext fields are NULL-terminated name/value pairs. */
static rmq_cmd *request(int code, int version, ...)
{
    rmq_cmd *req = cmd_new_request(code);
    req->version = version;
    va_list ap;
    va_start(ap, version);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(req, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

/* Sends REQ (consumed) over FD, or over a fresh connection when fd < 0. */
static rmq_cmd *call(const server_proc *s, int fd, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = fd >= 0 ? rmq_invoke_fd(fd, req, TIMEOUT_MS, err, sizeof err)
                            : rmq_invoke_sync(s->proc.addr, req, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d failed: %s", req->code, err);
    cmd_free(req);
    return resp;
}

static char *body_str(const rmq_cmd *c) { return xstrndup((const char *)c->body, c->body_len); }

/* Asserts RESP's code, remark and (if want_body) body, then frees it. */
static void expect(rmq_cmd *resp, int code, const char *remark, const char *want_body)
{
    ck_assert_int_eq(resp->code, code);
    ck_assert(cmd_is_response(resp));
    if (remark) ck_assert_str_eq(resp->remark ? resp->remark : "(null)", remark);
    else ck_assert_msg(resp->remark == NULL, "unexpected remark %s", resp->remark);
    if (want_body) {
        char *b = body_str(resp);
        ck_assert_msg(strcmp(b, want_body) == 0, "\n got: %s\nwant: %s", b, want_body);
        free(b);
    }
    cmd_free(resp);
}

static int connect_to(const server_proc *s)
{
    char err[256];
    int fd = rmq_connect_blocking(s->proc.addr, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(fd >= 0, "connect: %s", err);
    return fd;
}

/* ---- golden frames ---- */

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* A golden frame turned back into a command: header fields, ext fields in order, body. */
static rmq_cmd *frame_to_cmd(const cJSON *line)
{
    const cJSON *h = cJSON_GetObjectItem(line, "header");
    rmq_cmd *c = cmd_new_request(num(h, "code"));
    c->version = num(h, "version");
    c->flag = num(h, "flag") & ~RMQ_FLAG_ONEWAY;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(h, "extFields")) cmd_ext_set(c, e->string, e->valuestring);
    const cJSON *r = cJSON_GetObjectItem(h, "remark");
    if (cJSON_IsString(r)) c->remark = xstrdup(r->valuestring);
    const char *hex = cJSON_GetObjectItem(line, "body_hex") ? cJSON_GetObjectItem(line, "body_hex")->valuestring : "";
    size_t n = strlen(hex) / 2;
    if (n) {
        uint8_t *b = xmalloc(n);
        hex_decode(b, n, hex);
        cmd_take_body(c, b, n);
    }
    return c;
}

/* The first frame from SRC with this code (requests), or answering REQ_CODE with code RESP_CODE. */
typedef struct frame_pick {
    const char *src, *dst;   /* dst NULL = any */
    int code, req_code, nth;
    int seen;
    rmq_cmd *cmd;
} frame_pick;

static void pick_frame(cJSON *line, void *arg)
{
    frame_pick *fp = arg;
    const cJSON *src = cJSON_GetObjectItem(line, "src"), *dst = cJSON_GetObjectItem(line, "dst");
    if (fp->cmd || strcmp(src->valuestring, fp->src) != 0 || num(line, "code") != fp->code) return;
    if (fp->dst && strcmp(dst->valuestring, fp->dst) != 0) return;
    if (fp->req_code != num(line, "req_code")) return;
    if (fp->seen++ == fp->nth) fp->cmd = frame_to_cmd(line);
}

static rmq_cmd *golden_frame_to(const char *file, const char *src, const char *dst, int code, int req_code,
                                int nth)
{
    frame_pick fp = {src, dst, code, req_code, nth, 0, NULL};
    ck_assert_int_gt(golden_each(file, pick_frame, &fp), 0);
    ck_assert_msg(fp.cmd != NULL, "no frame %s/%d/%d in %s", src, code, req_code, file);
    return fp.cmd;
}

static rmq_cmd *golden_frame(const char *file, const char *src, int code, int req_code, int nth)
{
    return golden_frame_to(file, src, NULL, code, req_code, nth);
}

/* The golden answer to GET_ROUTEINFO_BY_TOPIC(topic): body or remark. */
typedef struct route_pick {
    const char *topic;
    int conn, opaque;
    rmq_cmd *resp;
} route_pick;

static void pick_route(cJSON *line, void *arg)
{
    route_pick *rp = arg;
    if (rp->resp) return;
    if (num(line, "code") == 105 && num(line, "flag") == 0) {
        const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "header"), "extFields"), "topic");
        if (strcmp(t->valuestring, rp->topic) == 0) {
            rp->conn = num(line, "conn");
            rp->opaque = num(line, "opaque");
        }
    } else if (num(line, "req_code") == 105 && num(line, "conn") == rp->conn && num(line, "opaque") == rp->opaque) {
        rp->resp = frame_to_cmd(line);
    }
}

static rmq_cmd *golden_route(const char *file, const char *topic)
{
    route_pick rp = {topic, -1, -1, NULL};
    golden_each(file, pick_route, &rp);
    ck_assert_msg(rp.resp != NULL, "no answer for %s in %s", topic, file);
    return rp.resp;
}

static rmq_cmd *route_request(const char *topic, int version)
{
    return request(105, version, "topic", topic, NULL);
}

/* The master of broker-to-namesrv.jsonl registers on fd, exactly as captured. */
static void register_golden_master(int fd)
{
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    ck_assert_str_eq(cmd_ext_get(req, "bodyCrc32"), "562562200");
    /* Apache answered code 0, extFields {} and no body (no ORDER_TOPIC_CONFIG yet). */
    rmq_cmd *resp = call(&main_srv, fd, req);
    ck_assert_int_eq(resp->n_ext, 0);
    ck_assert_uint_eq(resp->body_len, 0);
    expect(resp, 0, NULL, NULL);
}

/* ---- tests ---- */

START_TEST(test_boot_line)
{
    char *path = dir_file(&main_srv, "stdout");
    size_t len;
    char *out = read_file(path, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(strstr(out, "load config properties file OK, "));
    ck_assert_ptr_nonnull(strstr(out, "The Name Server boot success. serializeType=JSON\n"));
    free(out);
    free(path);
}
END_TEST

START_TEST(test_register_and_routes_as_apache)
{
    int fd = connect_to(&main_srv);
    register_golden_master(fd);

    /* Java 4.9.8 client (409: standard JSON), Go client (317: fastjson keys). */
    rmq_cmd *want = golden_route("java-client-4.9.8.jsonl", "TBW102");
    char *want_body = body_str(want);
    expect(call(&main_srv, -1, route_request("TBW102", V4_9_8)), 0, NULL, want_body);
    free(want_body);
    cmd_free(want);
    want = golden_route("go-client-v2.jsonl", "TBW102");
    want_body = body_str(want);
    expect(call(&main_srv, -1, route_request("TBW102", GO_CLIENT_VERSION)), 0, NULL, want_body);
    /* acceptStandardJsonOnly=true asks an old client's way for the standard form. */
    rmq_cmd *req = request(105, GO_CLIENT_VERSION, "topic", "TBW102", "acceptStandardJsonOnly", "true", NULL);
    rmq_cmd *resp = call(&main_srv, -1, req);
    char *b = body_str(resp);
    ck_assert_ptr_nonnull(strstr(b, "{\"0\":\"127.0.0.1:20911\"}"));
    free(b);
    cmd_free(resp);
    free(want_body);
    cmd_free(want);

    /* Unknown topic: TOPIC_NOT_EXIST with Apache's remark, verbatim. */
    want = golden_route("java-client-4.9.8.jsonl", "%RETRY%G_scc_qi1vt");
    ck_assert_int_eq(want->code, 17);
    expect(call(&main_srv, -1, route_request("%RETRY%G_scc_qi1vt", V4_9_8)), 17, want->remark, NULL);
    cmd_free(want);

    /* GET_BROKER_CLUSTER_INFO as mqadmin got it. */
    want = golden_frame("mqadmin-4.9.8.jsonl", "namesrv", 0, 106, 0);
    want_body = body_str(want);
    expect(call(&main_srv, -1, request(106, V4_9_8, NULL)), 0, NULL, want_body);
    free(want_body);
    cmd_free(want);

    /* The same registration in ROCKETMQ binary headers is answered in kind. */
    req = route_request("TBW102", V4_9_8);
    req->serialize = RMQ_SER_ROCKETMQ;
    resp = call(&main_srv, -1, req);
    ck_assert_int_eq(resp->serialize, RMQ_SER_ROCKETMQ);
    expect(resp, 0, NULL, NULL);

    /* Unregistering (as the broker does on shutdown) removes it all. */
    req = golden_frame("broker-to-namesrv.jsonl", "broker", 104, -1, 0);
    expect(call(&main_srv, fd, req), 0, NULL, NULL);
    expect(call(&main_srv, -1, route_request("TBW102", V4_9_8)), 17,
           "No topic route info in name server for the topic: TBW102\nSee http://rocketmq.apache.org/docs/faq/ "
           "for further details.", NULL);
    close(fd);
}
END_TEST

START_TEST(test_slave_learns_master)
{
    int master = connect_to(&main_srv), slave = connect_to(&main_srv);
    register_golden_master(master);
    /* The run-1 slave's registration; Apache told it the master's HA and remoting addresses. */
    rmq_cmd *want = golden_frame_to("broker-to-namesrv.jsonl", "namesrv", "slave", 0, 103, 0);
    ck_assert_str_eq(cmd_ext_get(want, "masterAddr"), "127.0.0.1:20911");
    rmq_cmd *resp = call(&main_srv, slave, golden_frame("broker-to-namesrv.jsonl", "slave", 103, -1, 0));
    ck_assert_str_eq(cmd_ext_get(resp, "masterAddr"), cmd_ext_get(want, "masterAddr"));
    ck_assert_str_eq(cmd_ext_get(resp, "haServerAddr"), cmd_ext_get(want, "haServerAddr"));
    expect(resp, 0, NULL, NULL);
    cmd_free(want);
    rmq_cmd *r = call(&main_srv, -1, route_request("TBW102", V4_9_8));
    char *b = body_str(r);
    ck_assert_ptr_nonnull(strstr(b, "{\"0\":\"127.0.0.1:20911\",\"1\":\"127.0.0.1:21911\"}"));
    free(b);
    cmd_free(r);
    close(slave);
    close(master);
}
END_TEST

START_TEST(test_malformed_requests)
{
    /* Missing / malformed header fields: SYSTEM_ERROR with Java's exception text. */
    expect(call(&main_srv, -1, request(105, V4_9_8, NULL)), 1,
           "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <topic> is null", NULL);
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_remove(req, "brokerName");
    expect(call(&main_srv, -1, req), 1,
           "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <brokerName> is null",
           NULL);
    req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_set(req, "brokerId", "zero");
    expect(call(&main_srv, -1, req), 1,
           "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <brokerId> is "
           "malformed: zero", NULL);
    /* A body that does not match its bodyCrc32. */
    req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    req->body[10] ^= 1;
    expect(call(&main_srv, -1, req), 1, "crc32 not match", NULL);
    /* bodyCrc32 0 skips the check; then the body must still decode. */
    req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_set(req, "bodyCrc32", "0");
    req->body_len = 20;
    rmq_cmd *resp = call(&main_srv, -1, req);
    ck_assert_int_eq(resp->code, 1);
    ck_assert_ptr_nonnull(strstr(resp->remark, "Failed to decode RegisterBrokerBody"));
    cmd_free(resp);
    /* Codes no name server serves (217 and 901 are 5.x's, below). */
    expect(call(&main_srv, -1, request(218, V4_9_8, NULL)), 3, " request type 218 not supported", NULL);
}
END_TEST

START_TEST(test_kv_config_codes)
{
    /* mqadmin updateKvConfig, as captured: SUCCESS, no header fields. */
    rmq_cmd *resp = call(&main_srv, -1, golden_frame("mqadmin-4.9.8.jsonl", "client", 100, -1, 0));
    ck_assert_int_eq(resp->n_ext, 0);
    expect(resp, 0, NULL, NULL);
    resp = call(&main_srv, -1, request(101, V4_9_8, "namespace", "GoldenNamespace", "key", "goldenKey", NULL));
    ck_assert_str_eq(cmd_ext_get(resp, "value"), "goldenValue");
    expect(resp, 0, NULL, NULL);
    expect(call(&main_srv, -1, request(219, V4_9_8, "namespace", "GoldenNamespace", NULL)), 0, NULL,
           "{\"table\":{\"goldenKey\":\"goldenValue\"}}");
    expect(call(&main_srv, -1, request(102, V4_9_8, "namespace", "GoldenNamespace", "key", "goldenKey", NULL)), 0,
           NULL, NULL);
    expect(call(&main_srv, -1, request(101, V4_9_8, "namespace", "GoldenNamespace", "key", "goldenKey", NULL)), 22,
           "No config item, Namespace: GoldenNamespace Key: goldenKey", NULL);
    expect(call(&main_srv, -1, request(219, V4_9_8, "namespace", "nothing", NULL)), 22,
           "No config item, Namespace: nothing", NULL);
    expect(call(&main_srv, -1, request(100, V4_9_8, "namespace", "n", "key", "k", NULL)), 1,
           "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <value> is null", NULL);

    /* Persisted where kvConfigPath says. */
    expect(call(&main_srv, -1, request(100, V4_9_8, "namespace", "n", "key", "k", "value", "v", NULL)), 0, NULL, NULL);
    char *path = dir_file(&main_srv, "store/kvConfig.json");
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    /* Namespace order: Java's HashMap of {GoldenNamespace, n}; the emptied namespace stays. */
    ck_assert_str_eq(text, "{\"configTable\":{\"GoldenNamespace\":{},\"n\":{\"k\":\"v\"}}}");
    free(text);
    free(path);
}
END_TEST

START_TEST(test_topic_admin_codes)
{
    int fd = connect_to(&main_srv);
    register_golden_master(fd);
    rmq_cmd *resp = call(&main_srv, -1, request(206, V4_9_8, NULL));
    char *b = body_str(resp);
    ck_assert_ptr_eq(strstr(b, "{\"topicList\":["), b);
    ck_assert_ptr_nonnull(strstr(b, "\"TBW102\""));
    free(b);
    cmd_free(resp);
    resp = call(&main_srv, -1, request(224, V4_9_8, "cluster", "DefaultCluster", NULL));
    b = body_str(resp);
    ck_assert_ptr_nonnull(strstr(b, "\"SELF_TEST_TOPIC\""));
    free(b);
    cmd_free(resp);
    expect(call(&main_srv, -1, request(304, V4_9_8, NULL)), 0, NULL,
           "{\"brokerAddr\":\"127.0.0.1:20911\",\"topicList\":[\"broker-java\",\"DefaultCluster\"]}");
    expect(call(&main_srv, -1, request(311, V4_9_8, NULL)), 0, NULL, "{\"topicList\":[]}");
    expect(call(&main_srv, -1, request(312, V4_9_8, NULL)), 0, NULL, "{\"topicList\":[]}");
    expect(call(&main_srv, -1, request(313, V4_9_8, NULL)), 0, NULL, "{\"topicList\":[]}");

    resp = call(&main_srv, -1, request(205, V4_9_8, "brokerName", "broker-java", NULL));
    ck_assert_str_eq(cmd_ext_get(resp, "wipeTopicCount"), "8");
    expect(resp, 0, NULL, NULL);
    resp = call(&main_srv, -1, route_request("TBW102", V4_9_8));
    b = body_str(resp);
    ck_assert_ptr_nonnull(strstr(b, "\"perm\":5"));
    free(b);
    cmd_free(resp);
    resp = call(&main_srv, -1, request(327, V4_9_8, "brokerName", "broker-java", NULL));
    ck_assert_str_eq(cmd_ext_get(resp, "addTopicCount"), "8");
    expect(resp, 0, NULL, NULL);

    /* mqadmin deleteTopic's DELETE_TOPIC_IN_NAMESRV, then the route is gone. */
    rmq_cmd *del = request(216, V4_9_8, "clusterName", "DefaultCluster", "topic", "BenchmarkTest", NULL);
    expect(call(&main_srv, -1, del), 0, NULL, NULL);
    expect(call(&main_srv, -1, route_request("BenchmarkTest", V4_9_8)), 17,
           "No topic route info in name server for the topic: BenchmarkTest\nSee "
           "http://rocketmq.apache.org/docs/faq/ for further details.", NULL);

    /* QUERY_DATA_VERSION with the registered version: unchanged, our copy back. */
    rmq_cmd *q = request(322, V4_9_8, "brokerName", "broker-java", "brokerAddr", "127.0.0.1:20911", "clusterName",
                         "DefaultCluster", "brokerId", "0", NULL);
    const char *dv = "{\"counter\":0,\"timestamp\":1795444502146}";
    cmd_set_body(q, dv, strlen(dv));
    resp = call(&main_srv, fd, q);
    ck_assert_str_eq(cmd_ext_get(resp, "changed"), "false");
    expect(resp, 0, NULL, dv);
    q = request(322, V4_9_8, "brokerName", "broker-java", "brokerAddr", "127.0.0.1:20911", "clusterName",
                "DefaultCluster", "brokerId", "0", NULL);
    cmd_set_body(q, "{\"counter\":1,\"timestamp\":1}", 27);
    resp = call(&main_srv, fd, q);
    ck_assert_str_eq(cmd_ext_get(resp, "changed"), "true");
    expect(resp, 0, NULL, dv);
    close(fd);
}
END_TEST

START_TEST(test_order_topic_conf_and_config_codes)
{
    int fd = connect_to(&main_srv);
    register_golden_master(fd);
    expect(call(&main_srv, -1, request(100, V4_9_8, "namespace", "ORDER_TOPIC_CONFIG", "key", "TBW102", "value",
                                       "broker-java:8", NULL)), 0, NULL, NULL);
    /* orderMessageEnable is off by default: no orderTopicConf in routes... */
    rmq_cmd *resp = call(&main_srv, -1, route_request("TBW102", V4_9_8));
    char *b = body_str(resp);
    ck_assert_ptr_null(strstr(b, "orderTopicConf"));
    free(b);
    cmd_free(resp);
    /* ...but brokers get the ORDER_TOPIC_CONFIG table back when they register. */
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    expect(call(&main_srv, fd, req), 0, NULL, "{\"table\":{\"TBW102\":\"broker-java:8\"}}");

    /* UPDATE_NAMESRV_CONFIG: a black-listed key is refused, a normal one applied. */
    req = request(318, V4_9_8, NULL);
    cmd_set_body(req, "kvConfigPath=/tmp/x\n", 20);
    expect(call(&main_srv, -1, req), 16, "Can not update config in black list.", NULL);
    req = request(318, V4_9_8, NULL);
    cmd_set_body(req, "orderMessageEnable=true\n", 24);
    expect(call(&main_srv, -1, req), 0, NULL, NULL);
    resp = call(&main_srv, -1, route_request("TBW102", V4_9_8));
    b = body_str(resp);
    ck_assert_ptr_nonnull(strstr(b, ",\"orderTopicConf\":\"broker-java:8\",\"queueDatas\":"));
    free(b);
    cmd_free(resp);

    /* GET_NAMESRV_CONFIG: Properties text with Apache's keys (cf. mqadmin getNamesrvConfig). */
    rmq_cmd *want = golden_frame("mqadmin-4.9.8.jsonl", "namesrv", 0, 319, 0);
    resp = call(&main_srv, -1, request(319, V4_9_8, NULL));
    b = body_str(resp);
    char *w = body_str(want);
    for (char *save = NULL, *line = strtok_r(w, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[128];
        snprintf(key, sizeof key, "%.*s=", (int)strcspn(line, "="), line);
        if (strcmp(key, "rocketmqHome=") == 0) continue;   /* unset in our environment */
        ck_assert_msg(strstr(b, key), "GET_NAMESRV_CONFIG lacks %s", key);
    }
    ck_assert_ptr_nonnull(strstr(b, "orderMessageEnable=true\n"));
    ck_assert_ptr_nonnull(strstr(b, "serverSocketBacklog=1024\n"));
    free(w);
    free(b);
    cmd_free(resp);
    cmd_free(want);

    req = request(318, V4_9_8, NULL);
    cmd_set_body(req, "orderMessageEnable=false\n", 25);
    expect(call(&main_srv, -1, req), 0, NULL, NULL);
    close(fd);
}
END_TEST

/* Polls GET_BROKER_CLUSTER_INFO until it lacks NEEDLE; false on timeout. */
static bool wait_broker_gone(const server_proc *s, const char *needle, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        rmq_cmd *resp = call(s, -1, request(106, V4_9_8, NULL));
        char *b = body_str(resp);
        bool gone = !strstr(b, needle);
        free(b);
        cmd_free(resp);
        if (gone) return true;
        if (mono_ms() > deadline) return false;
        usleep(20000);
    }
}

START_TEST(test_channel_close_unregisters)
{
    int fd = connect_to(&main_srv);
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_set(req, "brokerName", "closing-broker");
    cmd_ext_set(req, "brokerAddr", "127.0.0.1:1");
    expect(call(&main_srv, fd, req), 0, NULL, NULL);
    ck_assert(!wait_broker_gone(&main_srv, "closing-broker", 0));
    close(fd);
    ck_assert_msg(wait_broker_gone(&main_srv, "closing-broker", TIMEOUT_MS), "broker still listed after close");
}
END_TEST

START_TEST(test_expiry_closes_silent_broker)
{
    /* short_srv drops brokers 1.5 s after their last registration. */
    int fd = connect_to(&short_srv);
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    expect(call(&short_srv, fd, req), 0, NULL, NULL);
    ck_assert_msg(wait_broker_gone(&short_srv, "broker-java", 15000), "silent broker not expired");
    /* ...and its channel was closed (RemotingUtil.closeChannel). */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ck_assert_int_eq(poll(&p, 1, TIMEOUT_MS), 1);
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 0);
    close(fd);
}
END_TEST

/* A 5.x broker's BROKER_HEARTBEAT (904) between registrations keeps it alive; its header is checked. */
START_TEST(test_5x_broker_heartbeat_keeps_broker_alive)
{
    int fd = connect_to(&short_srv);
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_set(req, "brokerName", "hb5-broker");
    expect(call(&short_srv, fd, req), 0, NULL, NULL);
    for (int64_t end = mono_ms() + 3000; mono_ms() < end; usleep(300000)) {
        rmq_cmd *hb = request(904, 453, "clusterName", "DefaultCluster", "brokerAddr", "127.0.0.1:20911",
                              "brokerName", "hb5-broker", "brokerId", "0", NULL);
        expect(call(&short_srv, fd, hb), 0, NULL, NULL);
    }
    rmq_cmd *info = call(&short_srv, -1, request(106, V4_9_8, NULL));
    char *b = body_str(info);
    ck_assert_msg(strstr(b, "hb5-broker") != NULL, "expired despite heartbeats: %s", b);
    free(b);
    cmd_free(info);
    expect(call(&short_srv, fd, request(904, 453, "clusterName", "DefaultCluster", "brokerName", "hb5-broker", NULL)),
           1, "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <brokerAddr> is null",
           NULL);
    ck_assert_msg(wait_broker_gone(&short_srv, "hb5-broker", 15000), "broker without heartbeats not expired");
    close(fd);
}
END_TEST

/*
 * What a 5.x broker and client get beyond 4.9.8: enableActingMaster in each BrokerData of a
 * route answered to a client >= V5_0_0 (not to 4.9.8's), GET_BROKER_MEMBER_GROUP (901) and
 * REGISTER_TOPIC_IN_NAMESRV (217), their missing fields answered as 5.3.3's (which lets them
 * through as null, compat/apache5 Timer5CrossTest).
 */
START_TEST(test_5x_route_fields_and_codes)
{
    const int V5_3_3 = 479;
    rmq_cmd *req = golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0);
    cmd_ext_set(req, "brokerName", "b5-broker");
    cmd_ext_set(req, "brokerAddr", "127.0.0.1:20999");
    cmd_ext_set(req, "enableActingMaster", "true");
    int fd = connect_to(&main_srv);  /* registered while this channel is open */
    expect(call(&main_srv, fd, req), 0, NULL, NULL);
    int fd4 = connect_to(&main_srv);
    rmq_cmd *resp0 = call(&main_srv, fd4, golden_frame("broker-to-namesrv.jsonl", "broker", 103, -1, 0));
    ck_assert_int_eq(resp0->code, 0);  /* a 4.9.8 broker: no enableActingMaster in its header */
    cmd_free(resp0);

    rmq_cmd *resp = call(&main_srv, -1, route_request("TBW102", V5_3_3));
    char *b = body_str(resp);
    ck_assert_msg(strstr(b, "\"brokerName\":\"b5-broker\",\"cluster\":\"DefaultCluster\",\"enableActingMaster\":true}"),
                  "%s", b);
    ck_assert_msg(strstr(b, "\"enableActingMaster\":false}"), "a broker that did not send it: %s", b);
    free(b);
    cmd_free(resp);
    resp = call(&main_srv, -1, route_request("TBW102", V4_9_8));
    b = body_str(resp);
    ck_assert_msg(!strstr(b, "enableActingMaster"), "4.9.8 clients get 4.9.8's BrokerData: %s", b);
    free(b);
    cmd_free(resp);

    const char *unset = "not set any response code";  /* createResponseCommand(null)'s, kept by 5.3.3 */
    expect(call(&main_srv, -1, request(901, V5_3_3, "clusterName", "DefaultCluster", "brokerName", "b5-broker", NULL)),
           0, unset, "{\"brokerMemberGroup\":{\"brokerAddrs\":{0:\"127.0.0.1:20999\"},\"brokerName\":\"b5-broker\","
                    "\"cluster\":\"DefaultCluster\"}}");
    expect(call(&main_srv, -1, request(901, V5_3_3, "clusterName", "C", "brokerName", "nobody", NULL)), 0, unset,
           "{\"brokerMemberGroup\":{\"brokerAddrs\":{},\"brokerName\":\"nobody\",\"cluster\":\"C\"}}");
    /* 5.3 decodes a missing @CFNotNull field as null: no refusal, the null name left out. */
    expect(call(&main_srv, -1, request(901, V5_3_3, "clusterName", "C", NULL)), 0, unset,
           "{\"brokerMemberGroup\":{\"brokerAddrs\":{},\"cluster\":\"C\"}}");

    const char *body = "{\"queueDatas\":[{\"brokerName\":\"b5-broker\",\"perm\":6,\"readQueueNums\":2,"
                       "\"topicSysFlag\":0,\"writeQueueNums\":2}]}";
    req = request(217, V5_3_3, "topic", "T5_REG", NULL);
    cmd_set_body(req, body, strlen(body));
    expect(call(&main_srv, -1, req), 0, NULL, NULL);
    resp = call(&main_srv, -1, route_request("T5_REG", V4_9_8));
    ck_assert_int_eq(resp->code, 0);
    b = body_str(resp);
    ck_assert_msg(strstr(b, "\"queueDatas\":[{\"brokerName\":\"b5-broker\",\"perm\":6,\"readQueueNums\":2"), "%s", b);
    free(b);
    cmd_free(resp);
    /* A queue of an unregistered broker: nothing registered. */
    const char *stranger = "{\"queueDatas\":[{\"brokerName\":\"nobody\",\"perm\":6,\"readQueueNums\":1,"
                           "\"topicSysFlag\":0,\"writeQueueNums\":1}]}";
    req = request(217, V5_3_3, "topic", "T5_STRANGER", NULL);
    cmd_set_body(req, stranger, strlen(stranger));
    expect(call(&main_srv, -1, req), 0, NULL, NULL);
    resp = call(&main_srv, -1, route_request("T5_STRANGER", V4_9_8));
    ck_assert_int_eq(resp->code, 17);
    cmd_free(resp);
    req = request(217, V5_3_3, NULL);  /* no topic: nothing a client could ask for is registered */
    cmd_set_body(req, body, strlen(body));
    expect(call(&main_srv, -1, req), 0, NULL, NULL);
    req = request(217, V5_3_3, "topic", "T5_BAD", NULL);
    cmd_set_body(req, "{not json", 9);
    resp = call(&main_srv, -1, req);
    ck_assert_int_eq(resp->code, 1);
    ck_assert_ptr_nonnull(strstr(resp->remark, "JSONException"));
    cmd_free(resp);
    expect(call(&main_srv, -1, request(217, V5_3_3, "topic", "T5_NOBODY", NULL)), 0, NULL, NULL);  /* no body */
    close(fd4);
    close(fd);
}
END_TEST

START_TEST(test_sigterm_stops_cleanly)
{
    ck_assert_int_eq(test_proc_stop(&main_srv.proc, SIGTERM), 0);
    main_srv.proc.pid = 0;
    char err[256];
    ck_assert_int_lt(rmq_connect_blocking(main_srv.proc.addr, 500, err, sizeof err), 0);
    ck_assert_int_eq(test_proc_stop(&short_srv.proc, SIGTERM), 0);
    short_srv.proc.pid = 0;
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    start_server(&main_srv, "");
    start_server(&short_srv, "brokerChannelExpiredTime=1500\nscanNotActiveBrokerInterval=200\n");

    Suite *s = suite_create("namesrv_e2e");
    TCase *tc = tcase_create("mqnamesrv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_boot_line);
    tcase_add_test(tc, test_register_and_routes_as_apache);
    tcase_add_test(tc, test_slave_learns_master);
    tcase_add_test(tc, test_malformed_requests);
    tcase_add_test(tc, test_kv_config_codes);
    tcase_add_test(tc, test_topic_admin_codes);
    tcase_add_test(tc, test_order_topic_conf_and_config_codes);
    tcase_add_test(tc, test_channel_close_unregisters);
    tcase_add_test(tc, test_expiry_closes_silent_broker);
    tcase_add_test(tc, test_5x_broker_heartbeat_keeps_broker_alive);
    tcase_add_test(tc, test_5x_route_fields_and_codes);
    tcase_add_test(tc, test_sigterm_stops_cleanly);   /* last: stops both servers */
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    /* In-process and in order: the tests share the two server processes. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    if (main_srv.proc.pid > 0) test_proc_stop(&main_srv.proc, SIGTERM);
    if (short_srv.proc.pid > 0) test_proc_stop(&short_srv.proc, SIGTERM);
    test_rmdir(main_srv.dir);
    test_rmdir(short_srv.dir);
    free(main_srv.dir);
    free(short_srv.dir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
