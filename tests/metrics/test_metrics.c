/*
 * End to end: a broker and a name server with metricsExporterType=PROM serve
 * /metrics in Prometheus' text format with Apache 5.x's metric names and labels.
 * A scrape before and after sends and pulls shows the counters move by exactly
 * what was sent and pulled, and rocketmq_consumer_lag_messages equals what
 * GET_CONSUME_STATS (mqadmin consumerProgress) reports for the group.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../broker/broker_client.h"
#include "../grpc/h2_client.h"

static test_broker tb;
static int metrics_port, grpc_port;
static char port_arg[64], grpc_arg[64];

static void setup(void)
{
    metrics_port = test_free_port();
    grpc_port = test_free_port();
    snprintf(port_arg, sizeof port_arg, "--metricsPromExporterPort=%d", metrics_port);
    snprintf(grpc_arg, sizeof grpc_arg, "--grpcServerPort=%d", grpc_port);
    tb_init(&tb, "test_metrics", "--metricsExporterType=PROM", "--metricsPromExporterHost=127.0.0.1", port_arg,
            "--brokerClusterName=MetricsCluster", "--metricsLabel=env:test,bad", grpc_arg, NULL);
}

static void teardown(void) { tb_done(&tb); }

/* GET /metrics over HTTP/1.0: the body (malloc'd); fails the test on any error. */
static char *scrape(int port, const char *path)
{
    char addr[32], err[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    int fd = rmq_connect_blocking(addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "connect %s: %s", addr, err);
    char req[128];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    int64_t deadline = mono_ms() + 5000;
    for (;;) {
        ck_assert_msg(mono_ms() < deadline, "no whole answer within 5 s");
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r == 0) break;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ck_assert_msg(r > 0, "reading the scrape: %s", strerror(errno));
        len += (size_t)r;
        if (len + 1 == cap) buf = xrealloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = 0;
    return buf;
}

static char *scrape_ok(int port)
{
    char *resp = scrape(port, "/metrics");
    ck_assert_msg(strncmp(resp, "HTTP/1.0 200", 12) == 0 || strncmp(resp, "HTTP/1.1 200", 12) == 0,
                  "status line: %.40s", resp);
    ck_assert_ptr_nonnull(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
    char *body = strstr(resp, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    char *out = xstrdup(body + 4);
    free(resp);
    return out;
}

/*
 * The value of the one sample of NAME whose labels include every k="v" of the
 * NULL-terminated LABELS list; 0 when there is none (a counter not yet created).
 * Each line is checked against the text format on the way.
 */
static double sample(const char *text, const char *name, ...)
{
    double found = 0;
    int matches = 0;
    size_t nl = strlen(name);
    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        const char *eol = strchr(l, '\n');
        ck_assert_msg(eol != NULL, "last line without newline");
        if (*l == '#') {
            ck_assert_msg(!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7), "bad comment: %.60s", l);
            continue;
        }
        const char *brace = memchr(l, '{', (size_t)(eol - l)), *close_b = memchr(l, '}', (size_t)(eol - l));
        ck_assert_msg(brace && close_b && close_b[1] == ' ', "bad sample line: %.*s", (int)(eol - l), l);
        if ((size_t)(brace - l) != nl || strncmp(l, name, nl)) continue;
        va_list ap;
        va_start(ap, name);
        bool all = true;
        for (const char *k; (k = va_arg(ap, const char *));) {
            const char *v = va_arg(ap, const char *);
            char want[256];
            snprintf(want, sizeof want, "%s=\"%s\"", k, v);
            char *line = xstrndup(brace, (size_t)(close_b - brace + 1));
            /* a label starts after '{' or ',' */
            char *at = strstr(line, want);
            all = all && at && (at[-1] == '{' || at[-1] == ',');
            free(line);
        }
        va_end(ap);
        if (!all) continue;
        found = strtod(close_b + 2, NULL);
        matches++;
    }
    ck_assert_msg(matches <= 1, "%d samples of %s match", matches, name);
    return found;
}

static rmq_cmd *update_offset(const char *group, const char *topic, int qid, int64_t offset)
{
    rmq_cmd *req = cmd_new_request(15);   /* UPDATE_CONSUMER_OFFSET */
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "commitOffset", offset);
    return tb_call(&tb, req, BC_TIMEOUT);
}

/* GET_CONSUME_STATS as consumerProgress sends it: the sum of brokerOffset - consumerOffset. */
static int64_t consume_stats_diff(const char *group)
{
    rmq_cmd *req = cmd_new_request(208);
    cmd_ext_set(req, "consumerGroup", group);
    rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    char *body = xstrndup((const char *)resp->body, resp->body_len);
    int64_t diff = 0;
    for (const char *p = body; (p = strstr(p, "\"brokerOffset\":")); p++) diff += strtoll(p + 15, NULL, 10);
    for (const char *p = body; (p = strstr(p, "\"consumerOffset\":")); p++) diff -= strtoll(p + 17, NULL, 10);
    free(body);
    cmd_free(resp);
    return diff;
}

/* The entries of the table FIELD in the answer to CODE (GET_ALL_TOPIC_CONFIG, GET_ALL_SUBSCRIPTIONGROUP_CONFIG). */
static int count_keys(int code, const char *field)
{
    rmq_cmd *resp = tb_call(&tb, cmd_new_request(code), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cJSON *root = cJSON_ParseWithLength((const char *)resp->body, resp->body_len);
    ck_assert_ptr_nonnull(root);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(root, field));
    cJSON_Delete(root);
    cmd_free(resp);
    ck_assert_int_gt(n, 0);
    return n;
}

#define TOPIC "MetricsT"
#define GROUP "CG_metrics"

START_TEST(test_counters_move_with_sends_and_pulls_and_lag_matches_consumer_progress)
{
    tb_create_topic(&tb, TOPIC, 2);
    char *before = scrape_ok(metrics_port);
    ck_assert(sample(before, "rocketmq_messages_in_total", "topic", TOPIC, NULL) == 0);
    double sends_before = sample(before, "rocketmq_rpc_latency_count", "request_code", "send_message_v2",
                                 "response_code", "success", "is_long_polling", "false", NULL);
    ck_assert(sample(before, "process_resident_memory_bytes", NULL) > 0);
    ck_assert(sample(before, "process_open_fds", NULL) > 0);
    /* every sample carries the node labels and metricsLabel's well-formed pairs */
    ck_assert(sample(before, "rocketmq_broker_permission", "cluster", "MetricsCluster", "node_type", "broker",
                     "node_id", "broker-e2e", "env", "test", NULL) == 6);
    free(before);

    const char *bodies[] = {"one", "two-two", "three-three-three", "four", "five-five"};
    for (int i = 0; i < 5; i++) cmd_free(tb_send(&tb, TOPIC, i < 3 ? 0 : 1, "TAGS\001m", bodies[i]));
    /* a delay-level message counts under its own topic as message_type="delay" (2 h: never delivered here) */
    cmd_free(tb_send(&tb, "MetricsDelayT", 0, "DELAY\00118", "later"));
    /* a half (prepared) message counts as "transaction" under its real topic, a sharding key as "fifo" */
    rmq_cmd *half = tb_call(&tb, tb_send_req("PG_tx", "MetricsTxT", 0, 0x4, "TRAN_MSG\001true\002PGROUP\001PG_tx",
                                             "half"), BC_TIMEOUT);
    ck_assert_int_eq(half->code, 0);
    cmd_free(half);
    cmd_free(tb_send(&tb, "MetricsFifoT", 0, "__SHARDINGKEY\001order-1", "fifo"));

    rmq_cmd *p0 = tb_pull(&tb, GROUP, TOPIC, 0, 0, 0), *p1 = tb_pull(&tb, GROUP, TOPIC, 1, 0, 0);
    ck_assert_int_eq(p0->code, 0);
    ck_assert_int_eq(p1->code, 0);
    msg_record recs[8];
    ck_assert_int_eq(tb_records(p0, recs, 8), 3);
    ck_assert_int_eq(tb_records(p1, recs, 8), 2);
    size_t pulled_bytes = p0->body_len + p1->body_len;
    /* a held pull answered empty when its 300 ms run out: a long-polling latency sample */
    rmq_cmd *held = tb_pull(&tb, GROUP, TOPIC, 1, 2, 300);
    ck_assert_int_eq(held->code, 19);  /* PULL_NOT_FOUND */
    cmd_free(held), cmd_free(p0), cmd_free(p1);

    /* committed: queue 0 at 2 of 3, queue 1 at 0 of 2 -> lag 1 + 2 */
    cmd_free(update_offset(GROUP, TOPIC, 0, 2));
    cmd_free(update_offset(GROUP, TOPIC, 1, 0));

    char *after = scrape_ok(metrics_port);
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", TOPIC, "message_type", "normal", "is_system",
                     "false", NULL) == 5);
    /* stored records of the five messages are exactly the bytes the two pulls carried */
    ck_assert(sample(after, "rocketmq_throughput_in_total", "topic", TOPIC, NULL) == (double)pulled_bytes);
    ck_assert(sample(after, "rocketmq_message_size_count", "topic", TOPIC, NULL) == 5);
    ck_assert(sample(after, "rocketmq_message_size_bucket", "topic", TOPIC, "le", "1024", NULL) == 5);
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", "MetricsDelayT", "message_type", "delay", NULL) ==
              1);
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", "MetricsTxT", "message_type", "transaction",
                     NULL) == 1);
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", "RMQ_SYS_TRANS_HALF_TOPIC", NULL) == 0);
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", "MetricsFifoT", "message_type", "fifo", NULL) ==
              1);
    ck_assert(sample(after, "rocketmq_messages_out_total", "topic", TOPIC, "consumer_group", GROUP, "is_system",
                     "false", NULL) == 5);
    ck_assert(sample(after, "rocketmq_throughput_out_total", "topic", TOPIC, "consumer_group", GROUP, NULL) ==
              (double)pulled_bytes);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "request_code", "send_message_v2", "response_code",
                     "success", "is_long_polling", "false", "protocol_type", "remoting", NULL) == sends_before + 8);
    ck_assert(sample(after, "rocketmq_rpc_latency_bucket", "request_code", "send_message_v2", "response_code",
                     "success", "le", "+Inf", NULL) == sends_before + 8);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "request_code", "pull_message", "response_code", "success",
                     NULL) == 2);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "request_code", "pull_message", "response_code",
                     "pull_not_found", "is_long_polling", "true", NULL) == 1);
    ck_assert(sample(after, "rocketmq_rpc_latency_sum", "request_code", "pull_message", "response_code",
                     "pull_not_found", NULL) >= 250);

    /* the topics and groups the broker knows, as GET_ALL_TOPIC_CONFIG / subscription groups list them */
    ck_assert(sample(after, "rocketmq_topic_number", NULL) == (double)count_keys(21, "topicConfigTable"));
    ck_assert(sample(after, "rocketmq_consumer_group_number", NULL) == (double)count_keys(201, "subscriptionGroupTable"));

    int64_t progress = consume_stats_diff(GROUP);
    ck_assert_int_eq(progress, 3);
    ck_assert(sample(after, "rocketmq_consumer_lag_messages", "consumer_group", GROUP, "topic", TOPIC, "is_retry",
                     "false", NULL) == (double)progress);
    ck_assert(sample(after, "rocketmq_consumer_lag_latency", "consumer_group", GROUP, "topic", TOPIC, NULL) > 0);
    /* everything was pulled: the three uncommitted are in flight, none ready, nothing queueing */
    ck_assert(sample(after, "rocketmq_consumer_inflight_messages", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              3);
    ck_assert(sample(after, "rocketmq_consumer_ready_messages", "consumer_group", GROUP, "topic", TOPIC, NULL) == 0);
    ck_assert(sample(after, "rocketmq_consumer_queueing_latency", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              0);
    ck_assert(sample(after, "rocketmq_storage_size", "storage_type", "local", NULL) > (double)pulled_bytes);
    ck_assert(sample(after, "rocketmq_storage_flush_behind_bytes", NULL) >= 0);
    free(after);

    /* the group catches up: lag 0 */
    cmd_free(update_offset(GROUP, TOPIC, 0, 3));
    cmd_free(update_offset(GROUP, TOPIC, 1, 2));
    char *caught_up = scrape_ok(metrics_port);
    ck_assert_int_eq(consume_stats_diff(GROUP), 0);
    ck_assert(sample(caught_up, "rocketmq_consumer_lag_messages", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              0);
    ck_assert(sample(caught_up, "rocketmq_consumer_lag_latency", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              0);
    ck_assert(sample(caught_up, "rocketmq_consumer_inflight_messages", "consumer_group", GROUP, "topic", TOPIC,
                     NULL) == 0);
    free(caught_up);

    /* two more arrive, not pulled yet: ready and lagging, not in flight */
    cmd_free(tb_send(&tb, TOPIC, 0, "TAGS\001m", "six"));
    cmd_free(tb_send(&tb, TOPIC, 1, "TAGS\001m", "seven"));
    caught_up = scrape_ok(metrics_port);
    ck_assert(sample(caught_up, "rocketmq_consumer_ready_messages", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              2);
    ck_assert(sample(caught_up, "rocketmq_consumer_inflight_messages", "consumer_group", GROUP, "topic", TOPIC,
                     NULL) == 0);
    ck_assert(sample(caught_up, "rocketmq_consumer_lag_messages", "consumer_group", GROUP, "topic", TOPIC, NULL) ==
              (double)consume_stats_diff(GROUP));
    ck_assert(sample(caught_up, "rocketmq_consumer_queueing_latency", "consumer_group", GROUP, "topic", TOPIC,
                     NULL) >= 0);
    free(caught_up);
}
END_TEST

START_TEST(test_pop_counts_messages_out)
{
    tb_create_topic(&tb, "MetricsPopT", 1);
    for (int i = 0; i < 4; i++) cmd_free(tb_send(&tb, "MetricsPopT", 0, "TAGS\001p", "popped"));
    /* POP_MESSAGE as the 5.x client sends it (PopMessageRequestHeader) */
    rmq_cmd *req = cmd_new_request(200050);
    cmd_ext_set(req, "consumerGroup", "CG_pop_metrics");
    cmd_ext_set(req, "topic", "MetricsPopT");
    cmd_ext_set_int(req, "queueId", -1);
    cmd_ext_set_int(req, "maxMsgNums", 3);
    cmd_ext_set_int(req, "invisibleTime", 60000);
    cmd_ext_set_int(req, "pollTime", 0);
    cmd_ext_set_int(req, "bornTime", now_ms());
    cmd_ext_set_int(req, "initMode", 0);
    cmd_ext_set(req, "expType", "TAG");
    cmd_ext_set(req, "exp", "*");
    cmd_ext_set(req, "order", "false");
    rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    msg_record recs[4];
    ck_assert_int_eq(tb_records(resp, recs, 4), 3);
    char *m = scrape_ok(metrics_port);
    ck_assert(sample(m, "rocketmq_messages_out_total", "topic", "MetricsPopT", "consumer_group", "CG_pop_metrics",
                     "is_retry", "false", NULL) == 3);
    ck_assert(sample(m, "rocketmq_throughput_out_total", "topic", "MetricsPopT", "consumer_group", "CG_pop_metrics",
                     NULL) == (double)resp->body_len);
    ck_assert(sample(m, "rocketmq_rpc_latency_count", "request_code", "pop_message", "response_code", "success",
                     NULL) == 1);
    free(m);
    cmd_free(resp);
}
END_TEST

/*
 * UPDATE_BROKER_CONFIG of string keys (logLevel, metricsLabel) on the running broker, then a
 * clean stop: the running copy owns its strings (the update used to free strings main()
 * still held: a double free at exit under AddressSanitizer). A bad level is refused.
 */
START_TEST(test_string_settings_updated_at_run_time_then_clean_stop)
{
    const char *bodies[] = {"logLevel=DEBUG\nmetricsLabel=env:changed\n", "logLevel=LOUD\n"};
    for (int i = 0; i < 2; i++) {
        rmq_cmd *req = cmd_new_request(25);   /* UPDATE_BROKER_CONFIG */
        cmd_set_body(req, bodies[i], strlen(bodies[i]));
        rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
        ck_assert_int_eq(resp->code, i == 0 ? 0 : 1);
        if (i == 1) ck_assert_ptr_nonnull(strstr(resp->remark, "logLevel"));
        cmd_free(resp);
    }
    rmq_cmd *resp = tb_call(&tb, cmd_new_request(26), BC_TIMEOUT);   /* GET_BROKER_CONFIG */
    char *props = xstrndup((const char *)resp->body, resp->body_len);
    ck_assert_ptr_nonnull(strstr(props, "logLevel=DEBUG\n"));
    ck_assert_ptr_nonnull(strstr(props, "metricsLabel=env:changed\n"));
    free(props);
    cmd_free(resp);
}
END_TEST

/* A connection heart-beating as a 4.9.8 Java client (language JAVA, version 409): the client
 * id, a push consumer of GROUP on TOPIC, and a producer of PRODUCER_GROUP unless NULL. */
static int heartbeat_client(const char *client_id, const char *group, const char *topic, const char *producer_group)
{
    char err[128];
    int fd = rmq_connect_blocking(tb.proc.addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    char *producers = producer_group ? str_printf("{\"groupName\":\"%s\"}", producer_group) : xstrdup("");
    char *body = str_printf("{\"clientID\":\"%s\",\"producerDataSet\":[%s],"
                            "\"consumerDataSet\":[{\"groupName\":\"%s\",\"consumeType\":\"CONSUME_PASSIVELY\","
                            "\"messageModel\":\"CLUSTERING\",\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\","
                            "\"subscriptionDataSet\":[{\"topic\":\"%s\",\"subString\":\"*\"}],\"unitMode\":false}]}",
                            client_id, producers, group, topic);
    rmq_cmd *req = cmd_new_request(34);   /* HEART_BEAT */
    req->version = 409;
    cmd_take_body(req, body, strlen(body));
    rmq_cmd *resp = rmq_invoke_fd(fd, req, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp && resp->code == 0, "heartbeat: %s", resp ? resp->remark : err);
    cmd_free(resp), cmd_free(req);
    free(producers);
    return fd;
}

/* One connection heart-beating a producer and a push consumer: the connection gauges count it. */
START_TEST(test_connections_by_client_kind)
{
    int fd = heartbeat_client("127.0.0.1@metrics", "CG_conn", "ConnT", "PG_conn");
    char *m = scrape_ok(metrics_port);
    ck_assert(sample(m, "rocketmq_producer_connections", "language", "java", "version", "v4_9_8", "protocol_type",
                     "remoting", NULL) == 1);
    ck_assert(sample(m, "rocketmq_consumer_connections", "consumer_group", "CG_conn", "language", "java", "version",
                     "v4_9_8", "consume_mode", "push", "is_system", "false", NULL) == 1);
    ck_assert(sample(m, "rocketmq_remoting_connections", "listener", "main", NULL) >= 1);
    free(m);
    close(fd);
}
END_TEST

/* The sample of rocketmq_processor_watermark for PROCESSOR, after checking all of Apache's 12 are there. */
static double watermark(const char *m, const char *processor)
{
    static const char *const all[] = {"send", "async_put", "pull", "ack", "query_message", "client_manager",
                                      "heartbeat", "lite_pull", "transaction", "consumer_manager", "admin", "reply"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char want[96];
        snprintf(want, sizeof want, "rocketmq_processor_watermark{cluster=");
        ck_assert_ptr_nonnull(strstr(m, want));
        snprintf(want, sizeof want, "processor=\"%s\"", all[i]);
        ck_assert_msg(strstr(m, want), "no watermark sample for %s", all[i]);
    }
    return sample(m, "rocketmq_processor_watermark", "processor", processor, NULL);
}

/*
 * rocketmq_processor_watermark counts a request its processor holds to answer later:
 * GET_CONSUMER_RUNNING_INFO waits at the admin processor while the broker asks the
 * consumer, and is gone once the consumer has answered. A long-polling pull held for
 * a message is not counted (Apache keeps those outside its pools too).
 */
START_TEST(test_processor_watermark_counts_requests_held_for_a_client)
{
    tb_create_topic(&tb, "WmT", 1);
    char err[128];
    int consumer = heartbeat_client("127.0.0.1@wm", "CG_wm", "WmT", NULL);

    char *m = scrape_ok(metrics_port);
    ck_assert(watermark(m, "admin") == 0);
    free(m);

    /* A pull held for 3 s on the empty queue: waiting for a message, not for the loop. */
    int puller = rmq_connect_blocking(tb.proc.addr, 2000, err, sizeof err);
    ck_assert_msg(puller >= 0, "%s", err);
    rmq_cmd *pull = tb_pull_req("CG_wm", "WmT", 0, 0, 3000);
    ck_assert_int_eq(rmq_write_cmd_fd(puller, pull), 0);
    cmd_free(pull);

    /* The running-info call, relayed to our consumer, which does not answer yet. */
    int admin = rmq_connect_blocking(tb.proc.addr, 2000, err, sizeof err);
    ck_assert_msg(admin >= 0, "%s", err);
    rmq_cmd *info = cmd_new_request(307);
    cmd_ext_set(info, "consumerGroup", "CG_wm");
    cmd_ext_set(info, "clientId", "127.0.0.1@wm");
    cmd_ext_set(info, "jstackEnable", "false");
    ck_assert_int_eq(rmq_write_cmd_fd(admin, info), 0);
    cmd_free(info);
    rmq_cmd *relayed = NULL;
    int64_t deadline = mono_ms() + 5000;
    while (!relayed && mono_ms() < deadline) {
        rmq_cmd *c = rmq_read_frame_fd(consumer, 500, err, sizeof err);
        if (c && c->code == 307 && !cmd_is_response(c)) relayed = c;
        else cmd_free(c);
    }
    ck_assert_msg(relayed, "the broker did not ask the consumer");
    m = scrape_ok(metrics_port);
    ck_assert(watermark(m, "admin") == 1);
    ck_assert(watermark(m, "pull") == 0);
    ck_assert(watermark(m, "send") == 0);
    free(m);

    /* The consumer answers; the broker answers the caller and lets the request go. */
    rmq_cmd *answer = cmd_new_response(relayed, 0, NULL);
    const char *info_body = "{\"properties\":{},\"subscriptionSet\":[],\"mqTable\":{},\"statusTable\":{}}";
    cmd_set_body(answer, info_body, strlen(info_body));
    ck_assert_int_eq(rmq_write_cmd_fd(consumer, answer), 0);
    cmd_free(answer), cmd_free(relayed);
    rmq_cmd *done = rmq_read_frame_fd(admin, 5000, err, sizeof err);
    ck_assert_msg(done && cmd_is_response(done), "no answer to the running-info call: %s", err);
    cmd_free(done);
    m = scrape_ok(metrics_port);
    ck_assert(watermark(m, "admin") == 0);
    free(m);
    close(admin), close(puller), close(consumer);
}
END_TEST

START_TEST(test_other_paths_are_not_found)
{
    char *resp = scrape(metrics_port, "/nothing");
    ck_assert_msg(strstr(resp, " 404 ") != NULL, "%.40s", resp);
    free(resp);
}
END_TEST

START_TEST(test_name_server_exports_rpc_latency)
{
    char *dir = test_tmpdir("test_metrics_ns");
    int port = test_free_port(), mport = test_free_port();
    char *conf = str_printf("%s/namesrv.conf", dir), *log = str_printf("%s/namesrv.log", dir);
    char *text = str_printf("listenPort=%d\nlistenAddress=127.0.0.1\nkvConfigPath=%s/kv.json\n"
                            "metricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\n"
                            "metricsPromExporterPort=%d\n", port, dir, mport);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    test_proc ns;
    ck_assert_int_eq(test_proc_start(&ns, "mqnamesrv", argv, port, log), 0);
    char err[128];
    rmq_cmd *req = cmd_new_request(106);   /* GET_BROKER_CLUSTER_INFO */
    rmq_cmd *resp = rmq_invoke_sync(ns.addr, req, 3000, err, sizeof err);
    ck_assert_ptr_nonnull(resp);
    cmd_free(resp), cmd_free(req);
    char *m = scrape_ok(mport);
    char node[64];
    snprintf(node, sizeof node, "127.0.0.1:%d", port);
    ck_assert(sample(m, "rocketmq_rpc_latency_count", "node_type", "namesrv", "node_id", node, "request_code",
                     "get_broker_cluster_info", "response_code", "success", NULL) == 1);
    ck_assert(sample(m, "process_resident_memory_bytes", "node_type", "namesrv", NULL) > 0);
    free(m);
    ck_assert_int_eq(test_proc_stop(&ns, SIGTERM), 0);
    test_rmdir(dir);
    free(dir), free(conf), free(log), free(text);
}
END_TEST

/* gRPC calls join rocketmq_rpc_latency as protocol_type="grpc" (method and Status code in
 * snake case); the remoting requests they run on inside the broker are not counted again. */
START_TEST(test_grpc_calls_counted_as_grpc)
{
    tb_create_topic(&tb, "TopicGrpcMetrics", 1);
    char *before = scrape_ok(metrics_port);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", grpc_port);
    h2_client c;
    ck_assert_int_eq(h2c_connect(&c, addr), 0);
    h2c_send_req x;
    h2c_send_init(&x, "TopicGrpcMetrics", "0A0000000000000000000000GM01", "x");
    h2_result r;
    for (int i = 0; i < 2; i++) {
        ck_assert(h2c_call(&c, &r, "SendMessage", "metrics-client", &x.req.base, 5000));
        h2c_result_free(&r);
    }
    Apache__Rocketmq__V2__UpdateOffsetRequest uo = APACHE__ROCKETMQ__V2__UPDATE_OFFSET_REQUEST__INIT;
    ck_assert(h2c_call(&c, &r, "UpdateOffset", "metrics-client", &uo.base, 5000));
    h2c_result_free(&r);
    h2c_close(&c);
    char *after = scrape_ok(metrics_port);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "protocol_type", "grpc", "request_code", "send_message",
                     "response_code", "ok", "is_long_polling", "false", NULL) == 2);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "protocol_type", "grpc", "request_code", "update_offset",
                     "response_code", "unimplemented", NULL) == 1);
    ck_assert(sample(after, "rocketmq_rpc_latency_sum", "protocol_type", "grpc", "request_code", "send_message",
                     NULL) >= 0);
    ck_assert(sample(after, "rocketmq_rpc_latency_count", "protocol_type", "remoting", "request_code",
                     "send_message_v2", NULL) == sample(before, "rocketmq_rpc_latency_count", "protocol_type",
                                                        "remoting", "request_code", "send_message_v2", NULL));
    ck_assert(sample(after, "rocketmq_messages_in_total", "topic", "TopicGrpcMetrics", NULL) == 2);
    free(before);
    free(after);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_counters_move_with_sends_and_pulls_and_lag_matches_consumer_progress,
                                  test_pop_counts_messages_out, test_string_settings_updated_at_run_time_then_clean_stop,
                                  test_connections_by_client_kind,
                                  test_processor_watermark_counts_requests_held_for_a_client,
                                  test_other_paths_are_not_found,
                                  test_name_server_exports_rpc_latency, test_grpc_calls_counted_as_grpc, NULL};
    return tb_run_tests("metrics", 60, setup, teardown, tests);
}
