/*
 * End to end: the real mqbroker on 127.0.0.1 driven over sockets the way
 * clients drive it — Go-style SEND_MESSAGE (long header names), Java-style
 * SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE, both header serializations, pulls in
 * every state, long polling, offsets across a restart, durability of SYNC_FLUSH
 * acknowledgements across kill -9, and Apache's answers to bad headers.
 */
#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_client.h"
#include "common/message.h"
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT 5000

static test_proc broker;
static char *dir;

static void start_broker(const char *flush, const char *extra)
{
    for (int tries = 0; tries < 20; tries++) {
        int port = test_free_broker_port(); /* the fast port (-2) and HA port (+1) too */
        char *root = str_printf("--storePathRootDir=%s/store", dir);
        char *lp = str_printf("--listenPort=%d", port);
        char *fl = str_printf("--flushDiskType=%s", flush);
        char *log = str_printf("%s/broker.log", dir);
        char *argv[] = {"mqbroker", root, lp, fl, "--listenAddress=127.0.0.1", "--brokerIP1=127.0.0.1",
                        "--brokerName=broker-e2e", "--mappedFileSizeCommitLog=8388608",
                        "--maxMessageSize=65536", (char *)extra, NULL};
        int rc = test_proc_start(&broker, "mqbroker", argv, port, log);
        free(root), free(lp), free(fl), free(log);
        if (rc == 0) return;
    }
    ck_abort_msg("mqbroker did not start");
}

static void setup(void)
{
    rmq_remoting_init();
    dir = test_tmpdir("test_broker_e2e");
    start_broker("ASYNC_FLUSH", NULL);
}

static void teardown(void)
{
    test_proc_stop(&broker, SIGTERM);
    test_rmdir(dir);
    free(dir);
}

static rmq_cmd *call(rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(broker.addr, req, TIMEOUT, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d: %s", req->code, err);
    cmd_free(req);
    return resp;
}

static void create_topic(const char *topic, int queues)
{
    rmq_cmd *resp = call(tb_create_topic_req(topic, queues));
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
}

/* A send as the Java client builds it (V2 one-letter keys) or as Go does (code 10, long names). */
static rmq_cmd *send_req(int code, const char *topic, int qid, const char *props, const char *body, size_t blen)
{
    rmq_cmd *req = cmd_new_request(code);
    bool v2 = code != 10;
    cmd_ext_set(req, v2 ? "a" : "producerGroup", "PG_e2e");
    cmd_ext_set(req, v2 ? "b" : "topic", topic);
    cmd_ext_set(req, v2 ? "c" : "defaultTopic", "TBW102");
    cmd_ext_set(req, v2 ? "d" : "defaultTopicQueueNums", "4");
    cmd_ext_set_int(req, v2 ? "e" : "queueId", qid);
    cmd_ext_set(req, v2 ? "f" : "sysFlag", "0");
    cmd_ext_set_int(req, v2 ? "g" : "bornTimestamp", now_ms());
    cmd_ext_set(req, v2 ? "h" : "flag", "0");
    if (props) cmd_ext_set(req, v2 ? "i" : "properties", props);
    cmd_ext_set(req, v2 ? "j" : "reconsumeTimes", "0");
    cmd_ext_set(req, v2 ? "k" : "unitMode", "false");
    if (code == 320) cmd_ext_set(req, "m", "true");
    cmd_set_body(req, body, blen);
    return req;
}

static rmq_cmd *pull_req(const char *topic, int qid, int64_t offset, const char *sub, int sysflag, int64_t suspend)
{
    rmq_cmd *req = cmd_new_request(11);
    cmd_ext_set(req, "consumerGroup", "CG_e2e");
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "queueOffset", offset);
    cmd_ext_set(req, "maxMsgNums", "32");
    cmd_ext_set_int(req, "sysFlag", sysflag | 0x4 /* SUBSCRIPTION */);
    cmd_ext_set(req, "commitOffset", "0");
    cmd_ext_set_int(req, "suspendTimeoutMillis", suspend);
    cmd_ext_set(req, "subscription", sub);
    cmd_ext_set(req, "subVersion", "0");
    cmd_ext_set(req, "expressionType", "TAG");
    return req;
}

START_TEST(test_send_go_java_batch_then_pull_back_identical)
{
    create_topic("E2E_T", 2);
    const char *props1 = "TAGS\001TagA\002KEYS\001k1 k2\002UNIQ_KEY\0017F0000010001000000000000AAAA0001";
    rmq_cmd *r1 = call(send_req(10, "E2E_T", 0, props1, "go-body", 7));
    ck_assert_int_eq(r1->code, 0);
    const char *id1 = cmd_ext_get(r1, "msgId");
    ck_assert_uint_eq(strlen(id1), 32);
    ck_assert(strncmp(id1, "7F000001", 8) == 0); /* store host 127.0.0.1 */
    ck_assert_str_eq(cmd_ext_get(r1, "MSG_REGION"), "DefaultRegion");
    /* BrokerConfig.traceOn is true: with "false" the Go and Java trace hooks write no Pub record. */
    ck_assert_str_eq(cmd_ext_get(r1, "TRACE_ON"), "true");
    ck_assert_int_eq(tb_ext_i64(r1, "queueOffset"), 0);
    ck_assert_int_eq(tb_ext_i64(r1, "queueId"), 0);

    rmq_cmd *v2 = send_req(310, "E2E_T", 0, "TAGS\001TagB", "java-body", 9);
    v2->serialize = RMQ_SER_ROCKETMQ;
    rmq_cmd *r2 = call(v2);
    ck_assert_int_eq(r2->code, 0);
    ck_assert_int_eq(r2->serialize, RMQ_SER_ROCKETMQ); /* answered in the request's serialize type */
    ck_assert_int_eq(tb_ext_i64(r2, "queueOffset"), 1);

    /* A batch body of two messages, laid out as MessageDecoder.encodeMessages does. */
    uint8_t batch[256];
    size_t bl = 0;
    const char *bodies[] = {"b-one", "b-two"};
    const char *bprops[] = {"UNIQ_KEY\001ID1", "UNIQ_KEY\001ID2"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(bodies[i]), pn = strlen(bprops[i]);
        put_be32(batch + bl, (uint32_t)(4 + 4 + 4 + 4 + 4 + n + 2 + pn));
        put_be32(batch + bl + 4, 0);
        put_be32(batch + bl + 8, 0);
        put_be32(batch + bl + 12, 0);
        put_be32(batch + bl + 16, (uint32_t)n);
        memcpy(batch + bl + 20, bodies[i], n);
        put_be16(batch + bl + 20 + n, (uint16_t)pn);
        memcpy(batch + bl + 22 + n, bprops[i], pn);
        bl += 22 + n + pn;
    }
    rmq_cmd *r3 = call(send_req(320, "E2E_T", 0, NULL, (const char *)batch, bl));
    ck_assert_int_eq(r3->code, 0);
    ck_assert_ptr_nonnull(strchr(cmd_ext_get(r3, "msgId"), ',')); /* one offset id per message */
    ck_assert_int_eq(tb_ext_i64(r3, "queueOffset"), 2);

    rmq_cmd *p = call(pull_req("E2E_T", 0, 0, "*", 0, 0));
    ck_assert_int_eq(p->code, 0);
    ck_assert_int_eq(tb_ext_i64(p, "nextBeginOffset"), 4);
    ck_assert_int_eq(tb_ext_i64(p, "maxOffset"), 4);
    ck_assert_int_eq(tb_ext_i64(p, "minOffset"), 0);
    ck_assert_int_eq(tb_ext_i64(p, "suggestWhichBrokerId"), 0);
    const char *want[] = {"go-body", "java-body", "b-one", "b-two"};
    size_t pos = 0;
    for (int i = 0; i < 4; i++) {
        msg_record rec;
        const char *why;
        ck_assert_msg(msg_record_decode(p->body + pos, p->body_len - pos, &rec, &why) == RMQ_OK, "%s", why);
        ck_assert_uint_eq(rec.body_len, strlen(want[i]));
        ck_assert(memcmp(rec.body, want[i], rec.body_len) == 0);
        ck_assert_int_eq(rec.queue_offset, i);
        ck_assert_int_eq(rec.store_host.port, broker.port);
        ck_assert(rec.topic_len == 5 && memcmp(rec.topic, "E2E_T", 5) == 0);
        if (i == 0) {
            char id[MSG_ID_MAX_LEN + 1];
            msg_offset_id_create(id, &rec.store_host, rec.phys_offset);
            ck_assert_str_eq(id, id1); /* the msgId the send answered is this record's offset id */
            const char *v;
            size_t vl;
            ck_assert(msg_props_find(rec.props, rec.props_len, "KEYS", &v, &vl) && vl == 5);
        }
        pos += rec.total_size;
    }
    ck_assert_uint_eq(pos, p->body_len);
    cmd_free(r1), cmd_free(r2), cmd_free(r3), cmd_free(p);
}
END_TEST

START_TEST(test_pull_states_as_apache)
{
    create_topic("E2E_P", 1);
    for (int i = 0; i < 3; i++) cmd_free(call(send_req(310, "E2E_P", 0, "TAGS\001TagA", "x", 1)));
    rmq_cmd *r = call(pull_req("E2E_P", 0, 3, "*", 0, 0)); /* caught up */
    ck_assert_int_eq(r->code, 19);
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 3);
    cmd_free(r);
    r = call(pull_req("E2E_P", 0, 10, "*", 0, 0)); /* past the end */
    ck_assert_int_eq(r->code, 21);
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 3);
    cmd_free(r);
    r = call(pull_req("E2E_P", 0, 0, "TagZ", 0, 0)); /* nothing matches the tag */
    ck_assert_int_eq(r->code, 20);
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 3);
    cmd_free(r);
    r = call(pull_req("E2E_P", 0, 0, "TagZ || TagA", 0, 0));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = call(pull_req("E2E_P", 5, 0, "*", 0, 0)); /* queue id beyond readQueueNums */
    ck_assert_int_eq(r->code, 1);
    cmd_free(r);
    r = call(pull_req("NO_SUCH_TOPIC", 0, 0, "*", 0, 0));
    ck_assert_int_eq(r->code, 17);
    cmd_free(r);
}
END_TEST

/* The 5.x DefaultLitePullConsumer pulls with LITE_PULL_MESSAGE (361) and the lite pull sysFlag. */
START_TEST(test_lite_pull_consumer_pull_is_answered_as_a_pull)
{
    create_topic("E2E_LITE", 1);
    for (int i = 0; i < 2; i++) cmd_free(call(send_req(310, "E2E_LITE", 0, NULL, "lite", 4)));
    rmq_cmd *req = pull_req("E2E_LITE", 0, 0, "*", 0x10 /* LITE_PULL_MESSAGE */, 0);
    req->code = 361;
    rmq_cmd *r = call(req);
    ck_assert_msg(r->code == 0, "lite pull answered %d %s", r->code, r->remark ? r->remark : "");
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 2);
    ck_assert_uint_gt(r->body_len, 0);
    cmd_free(r);
}
END_TEST

/* The 5.x admin's consume stats (consumerProgress) read each route broker's topic config (351). */
START_TEST(test_5x_admin_reads_one_topic_config)
{
    create_topic("E2E_TC", 3);
    rmq_cmd *req = cmd_new_request(351);
    cmd_ext_set(req, "topic", "E2E_TC");
    rmq_cmd *r = call(req);
    ck_assert_msg(r->code == 0, "GET_TOPIC_CONFIG answered %d %s", r->code, r->remark ? r->remark : "");
    char *body = strndup((const char *)r->body, r->body_len);
    ck_assert_ptr_nonnull(strstr(body, "\"topicName\":\"E2E_TC\""));
    ck_assert_ptr_nonnull(strstr(body, "\"writeQueueNums\":3"));
    free(body);
    cmd_free(r);
    req = cmd_new_request(351);
    cmd_ext_set(req, "topic", "E2E_NO_SUCH");
    r = call(req);
    ck_assert_int_eq(r->code, 17); /* the only refusal the admin takes as "not on this broker" */
    ck_assert_str_eq(r->remark, "No topic in this broker. topic: E2E_NO_SUCH");
    cmd_free(r);
}
END_TEST

START_TEST(test_long_polling_answers_on_arrival)
{
    create_topic("E2E_LP", 1);
    char err[256];
    int fd = rmq_connect_blocking(broker.addr, TIMEOUT, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    rmq_cmd *pull = pull_req("E2E_LP", 0, 0, "*", 0x2 /* SUSPEND */, 20000);
    pull->opaque = 77;
    ck_assert_int_eq(rmq_write_cmd_fd(fd, pull), 0);
    cmd_free(pull);
    /* Held: nothing comes back while the queue is empty. */
    struct pollfd pf = {fd, POLLIN, 0};
    ck_assert_int_eq(poll(&pf, 1, 500), 0);
    cmd_free(call(send_req(310, "E2E_LP", 0, NULL, "wake", 4)));
    /* The held pull is answered long before its 20 s suspend timeout. */
    rmq_cmd *r = rmq_read_frame_fd(fd, TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->opaque, 77);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 1);
    cmd_free(r);
    close(fd);
}
END_TEST

START_TEST(test_message_checks)
{
    create_topic("E2E_C", 1);
    rmq_cmd *r = call(send_req(310, "SCHEDULE_TOPIC_XXXX", 0, NULL, "x", 1));
    ck_assert_int_eq(r->code, 16); /* NO_PERMISSION: system topic */
    cmd_free(r);
    r = call(send_req(310, "bad topic!", 0, NULL, "x", 1));
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(r->remark);
    cmd_free(r);
    rmq_cmd *req = send_req(310, "E2E_NEW", 0, NULL, "x", 1);
    cmd_ext_set(req, "c", "NO_DEFAULT");
    r = call(req);
    ck_assert_int_eq(r->code, 17); /* TOPIC_NOT_EXIST: no inheritable default topic */
    cmd_free(r);
    /* Auto-creation from TBW102 (autoCreateTopicEnable=true by default). */
    r = call(send_req(310, "E2E_AUTO", -1, NULL, "x", 1));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    char *big = calloc(1, 70000);
    r = call(send_req(310, "E2E_C", 0, NULL, big, 70000)); /* > maxMessageSize 65536 */
    ck_assert_int_eq(r->code, 13);
    cmd_free(r);
    free(big);
    r = call(send_req(310, "E2E_C", 9, NULL, "x", 1)); /* queue id beyond the topic's */
    ck_assert_int_eq(r->code, 1);
    cmd_free(r);
}
END_TEST

START_TEST(test_bad_headers_answered_never_crash)
{
    static const int codes[] = {10, 310, 320, 11, 14, 15, 29, 30, 31, 32, 36, 17, 35, 38};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        rmq_cmd *r = call(cmd_new_request(codes[i]));
        ck_assert_msg(r->code == 1, "code %d answered %d", codes[i], r->code);
        ck_assert_msg(r->remark && strstr(r->remark, "the custom field <"), "code %d remark %s", codes[i],
                      r->remark ? r->remark : "(null)");
        cmd_free(r);
    }
    rmq_cmd *req = cmd_new_request(30);
    cmd_ext_set(req, "topic", "E2E_T");
    cmd_ext_set(req, "queueId", "zero");
    rmq_cmd *r = call(req);
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "malformed"));
    cmd_free(r);
    static const int body_codes[] = {34, 41, 42, 46};
    for (size_t i = 0; i < sizeof body_codes / sizeof body_codes[0]; i++) {
        req = cmd_new_request(body_codes[i]);
        cmd_set_body(req, "{not json", 9);
        r = call(req);
        ck_assert_msg(r->code == 1, "code %d answered %d", body_codes[i], r->code);
        cmd_free(r);
    }
    r = call(cmd_new_request(9999));
    ck_assert_int_eq(r->code, 3);
    cmd_free(r);
    /* Still serving. */
    create_topic("E2E_ALIVE", 1);
    r = call(send_req(310, "E2E_ALIVE", 0, NULL, "x", 1));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}
END_TEST

static rmq_cmd *offset_req(int code, const char *topic, int qid, int64_t commit)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_ext_set(req, "consumerGroup", "CG_e2e");
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    if (code == 15) cmd_ext_set_int(req, "commitOffset", commit);
    return req;
}

START_TEST(test_offsets_survive_restart)
{
    create_topic("E2E_O", 2);
    for (int i = 0; i < 5; i++) cmd_free(call(send_req(310, "E2E_O", 1, NULL, "x", 1)));
    rmq_cmd *r = call(offset_req(15, "E2E_O", 1, 3));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = call(offset_req(14, "E2E_O", 1, 0));
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "offset"), 3);
    cmd_free(r);
    rmq_cmd *mx = cmd_new_request(30);
    cmd_ext_set(mx, "topic", "E2E_O");
    cmd_ext_set(mx, "queueId", "1");
    r = call(mx);
    ck_assert_int_eq(tb_ext_i64(r, "offset"), 5);
    cmd_free(r);
    ck_assert_int_eq(test_proc_stop(&broker, SIGTERM), 0);
    start_broker("ASYNC_FLUSH", NULL);
    r = call(offset_req(14, "E2E_O", 1, 0));
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "offset"), 3);
    cmd_free(r);
    r = call(pull_req("E2E_O", 1, 3, "*", 0, 0));
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "nextBeginOffset"), 5);
    cmd_free(r);
}
END_TEST

START_TEST(test_sync_flush_acks_survive_kill9)
{
    ck_assert_int_eq(test_proc_stop(&broker, SIGTERM), 0);
    start_broker("SYNC_FLUSH", NULL);
    create_topic("E2E_SYNC", 1);
    char body[64];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(body, sizeof body, "durable-%d", i);
        rmq_cmd *r = call(send_req(310, "E2E_SYNC", 0, NULL, body, (size_t)n));
        ck_assert_int_eq(r->code, 0); /* SEND_OK only after the fsync covering it */
        cmd_free(r);
    }
    ck_assert_int_eq(test_proc_stop(&broker, SIGKILL), 128 + SIGKILL);
    start_broker("SYNC_FLUSH", NULL);
    int got = 0;
    int64_t off = 0;
    while (got < 50) {
        rmq_cmd *r = call(pull_req("E2E_SYNC", 0, off, "*", 0, 0));
        ck_assert_msg(r->code == 0, "pull at %lld answered %d after %d messages", (long long)off, r->code, got);
        size_t pos = 0;
        while (pos < r->body_len) {
            msg_record rec;
            const char *why;
            ck_assert(msg_record_decode(r->body + pos, r->body_len - pos, &rec, &why) == RMQ_OK);
            int n = snprintf(body, sizeof body, "durable-%d", got);
            ck_assert(rec.body_len == (uint32_t)n && memcmp(rec.body, body, (size_t)n) == 0);
            got++;
            pos += rec.total_size;
        }
        off = tb_ext_i64(r, "nextBeginOffset");
        cmd_free(r);
    }
    ck_assert_int_eq(got, 50);
}
END_TEST

static rmq_cmd *sql_pull(const char *topic, const char *expr)
{
    rmq_cmd *req = pull_req(topic, 0, 0, expr, 0, 0);
    cmd_ext_set(req, "expressionType", "SQL92");
    return req;
}

START_TEST(test_sql92_filter_over_properties)
{
    create_topic("E2E_SQL", 1);
    rmq_cmd *r = call(sql_pull("E2E_SQL", "a > 5"));
    ck_assert_int_eq(r->code, 1); /* enablePropertyFilter=false: refused with a remark */
    ck_assert_ptr_nonnull(strstr(r->remark, "SQL92"));
    cmd_free(r);
    ck_assert_int_eq(test_proc_stop(&broker, SIGTERM), 0);
    start_broker("ASYNC_FLUSH", "--enablePropertyFilter=true");
    cmd_free(call(send_req(310, "E2E_SQL", 0, "a\0013\002region\001eu", "low", 3)));
    cmd_free(call(send_req(310, "E2E_SQL", 0, "a\0017\002region\001eu", "high", 4)));
    cmd_free(call(send_req(310, "E2E_SQL", 0, "region\001us", "none", 4)));
    r = call(sql_pull("E2E_SQL", "a > 5 AND region IN ('eu', 'asia')"));
    ck_assert_int_eq(r->code, 0);
    msg_record rec;
    const char *why;
    ck_assert(msg_record_decode(r->body, r->body_len, &rec, &why) == RMQ_OK);
    ck_assert_uint_eq(rec.total_size, r->body_len); /* exactly one message matched */
    ck_assert(rec.body_len == 4 && memcmp(rec.body, "high", 4) == 0);
    cmd_free(r);
    r = call(sql_pull("E2E_SQL", "a >"));
    ck_assert_int_eq(r->code, 23); /* SUBSCRIPTION_PARSE_FAILED */
    cmd_free(r);
    r = call(sql_pull("E2E_SQL", "a IS NULL"));
    ck_assert_int_eq(r->code, 0);
    ck_assert(msg_record_decode(r->body, r->body_len, &rec, &why) == RMQ_OK);
    ck_assert(rec.body_len == 4 && memcmp(rec.body, "none", 4) == 0);
    cmd_free(r);
}
END_TEST

/* A consumer gives a message back after its last allowed retry: it lands in %DLQ%group. */
START_TEST(test_send_back_past_max_retries_goes_to_dlq)
{
    create_topic("E2E_DLQ", 1);
    rmq_cmd *sent = call(send_req(310, "E2E_DLQ", 0, "TAGS\001TagA", "poison", 6));
    ck_assert_int_eq(sent->code, 0);
    char *orig_id = xstrdup(cmd_ext_get(sent, "msgId"));
    cmd_free(sent);
    rmq_cmd *p = call(pull_req("E2E_DLQ", 0, 0, "*", 0, 0));
    ck_assert_int_eq(p->code, 0);
    msg_record rec;
    const char *why;
    ck_assert(msg_record_decode(p->body, p->body_len, &rec, &why) == RMQ_OK);
    rmq_cmd *back = cmd_new_request(36);
    cmd_ext_set_int(back, "offset", rec.phys_offset);
    cmd_ext_set(back, "group", "CG_dlq");
    cmd_ext_set(back, "delayLevel", "0");
    cmd_ext_set(back, "originMsgId", orig_id);
    cmd_ext_set(back, "originTopic", "E2E_DLQ");
    cmd_ext_set(back, "maxReconsumeTimes", "0");
    cmd_free(p);
    rmq_cmd *r = call(back);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    rmq_cmd *dlq = pull_req("%DLQ%CG_dlq", 0, 0, "*", 0, 0);
    r = call(dlq);
    ck_assert_msg(r->code == 0, "DLQ pull answered %d %s", r->code, r->remark ? r->remark : "");
    ck_assert(msg_record_decode(r->body, r->body_len, &rec, &why) == RMQ_OK);
    ck_assert(rec.body_len == 6 && memcmp(rec.body, "poison", 6) == 0);
    ck_assert_int_eq(rec.reconsume_times, 1);
    const char *v;
    size_t vl;
    ck_assert(msg_props_find(rec.props, rec.props_len, "RETRY_TOPIC", &v, &vl) && vl == 7 && !memcmp(v, "E2E_DLQ", 7));
    ck_assert(msg_props_find(rec.props, rec.props_len, "ORIGIN_MESSAGE_ID", &v, &vl));
    ck_assert(vl == strlen(orig_id) && memcmp(v, orig_id, vl) == 0);
    cmd_free(r);
    free(orig_id);
}
END_TEST

/* Request-reply: a reply sent with SEND_REPLY_MESSAGE_V2 is pushed to the requester's connection. */
START_TEST(test_reply_is_pushed_to_the_requesting_client)
{
    char err[256];
    int requester = rmq_connect_blocking(broker.addr, TIMEOUT, err, sizeof err);
    ck_assert_int_ge(requester, 0);
    rmq_cmd *hb = cmd_new_request(34);
    const char *body = "{\"clientID\":\"127.0.0.1@req#1\",\"consumerDataSet\":[],"
                       "\"producerDataSet\":[{\"groupName\":\"PG_requester\"}]}";
    cmd_set_body(hb, body, strlen(body));
    rmq_cmd *r = rmq_invoke_fd(requester, hb, TIMEOUT, err, sizeof err);
    ck_assert_msg(r && r->code == 0, "heartbeat: %s", r ? r->remark : err);
    cmd_free(r);
    cmd_free(hb);

    const char *props = "REPLY_TO_CLIENT\001127.0.0.1@req#1\002CORRELATION_ID\001corr-7\002MSG_TYPE\001reply";
    int replier = rmq_connect_blocking(broker.addr, TIMEOUT, err, sizeof err);
    ck_assert_int_ge(replier, 0);
    rmq_cmd *reply = send_req(325, "DefaultCluster_REPLY_TOPIC", 0, props, "the answer", 10);
    reply->opaque = 501;
    ck_assert_int_eq(rmq_write_cmd_fd(replier, reply), 0);
    cmd_free(reply);

    /* The requester's connection receives PUSH_REPLY_MESSAGE_TO_CLIENT and answers it. */
    rmq_cmd *push = rmq_read_frame_fd(requester, TIMEOUT, err, sizeof err);
    ck_assert_msg(push != NULL, "%s", err);
    ck_assert_int_eq(push->code, 326);
    ck_assert(!cmd_is_response(push));
    ck_assert(push->body_len == 10 && memcmp(push->body, "the answer", 10) == 0);
    ck_assert_ptr_nonnull(strstr(cmd_ext_get(push, "properties"), "CORRELATION_ID\001corr-7"));
    ck_assert_ptr_nonnull(strstr(cmd_ext_get(push, "properties"), "PUSH_REPLY_TIME\001"));
    ck_assert_str_eq(cmd_ext_get(push, "topic"), "DefaultCluster_REPLY_TOPIC");
    ck_assert_str_eq(cmd_ext_get(push, "storeHost"), broker.addr);
    rmq_cmd *ok = cmd_new_response(push, 0, NULL);
    ck_assert_int_eq(rmq_write_cmd_fd(requester, ok), 0);
    cmd_free(ok);
    cmd_free(push);

    /* Only then does the replier get its SEND_OK. */
    r = rmq_read_frame_fd(replier, TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->opaque, 501);
    ck_assert_int_eq(r->code, 0);
    ck_assert_uint_eq(strlen(cmd_ext_get(r, "msgId")), 32);
    cmd_free(r);

    /* No such requester online: the replier is told so. */
    rmq_cmd *orphan = send_req(325, "DefaultCluster_REPLY_TOPIC", 0, "REPLY_TO_CLIENT\001nobody@x", "lost", 4);
    r = call(orphan);
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "nobody@x"));
    cmd_free(r);
    close(requester);
    close(replier);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_send_go_java_batch_then_pull_back_identical,
        test_pull_states_as_apache,
        test_lite_pull_consumer_pull_is_answered_as_a_pull,
        test_5x_admin_reads_one_topic_config,
        test_long_polling_answers_on_arrival,
        test_message_checks,
        test_bad_headers_answered_never_crash,
        test_offsets_survive_restart,
        test_sync_flush_acks_survive_kill9,
        test_sql92_filter_over_properties,
        test_send_back_past_max_retries_goes_to_dlq,
        test_reply_is_pushed_to_the_requesting_client,
        NULL,
    };
    return tb_run_tests("broker_e2e", 60, setup, teardown, tests);
}
