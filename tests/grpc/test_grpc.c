/*
 * The gRPC endpoint (src/grpc): framing and protobuf round trips in-process, then a real
 * mqbroker (no name server: routes from its own topics) driven by an HTTP/2 client the
 * way the 5.x SDKs drive it — QueryRoute, SendMessage, ReceiveMessage, AckMessage,
 * ChangeInvisibleDuration — and by bad input: an unknown method, undecodable protobuf,
 * an oversized and a truncated message, and bytes that are not HTTP/2.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../testproc.h"
#include "../broker/broker_client.h"
#include "grpc/grpc_int.h"
#include "h2_client.h"
#include "../check_run.h"

#define SVC "/apache.rocketmq.v2.MessagingService/"
#define TIMEOUT 10000
#define TOPIC "TopicGrpc"

/* ---- framing and messages ---- */

START_TEST(frame_prefix)
{
    uint8_t buf[16] = {0};
    bool compressed = true;
    size_t n = 99;
    ck_assert_int_eq(grpc_frame_parse(buf, 4, 100, &compressed, &n), GRPC_FRAME_MORE);
    grpc_frame_prefix(buf, 3);
    ck_assert_int_eq(grpc_frame_parse(buf, 7, 100, &compressed, &n), GRPC_FRAME_MORE);
    ck_assert_int_eq(grpc_frame_parse(buf, 8, 100, &compressed, &n), GRPC_FRAME_OK);
    ck_assert(!compressed);
    ck_assert_uint_eq(n, 3);
    grpc_frame_prefix(buf, 101);
    ck_assert_int_eq(grpc_frame_parse(buf, 5, 100, &compressed, &n), GRPC_FRAME_TOO_BIG);
    buf[0] = 1;
    grpc_frame_prefix(buf + 8, 0);
    put_be32(buf + 1, 0);
    ck_assert_int_eq(grpc_frame_parse(buf, 5, 100, &compressed, &n), GRPC_FRAME_OK);
    ck_assert(compressed);
    ck_assert_int_eq(grpc_timeout_ms("23S", 3), 23000);
    ck_assert_int_eq(grpc_timeout_ms("1500000u", 8), 1500);
    ck_assert_int_eq(grpc_timeout_ms("2M", 2), 120000);
    ck_assert_int_eq(grpc_timeout_ms("5", 1), -1);
    ck_assert_int_eq(grpc_timeout_ms("1x", 2), -1);
    ck_assert_int_eq(grpc_timeout_ms("123456789S", 10), -1);
    char *enc = grpc_percent_encode("a b%\n\xc3\xa9");
    ck_assert_str_eq(enc, "a b%25%0A%C3%A9");
    free(enc);
}
END_TEST

START_TEST(protobuf_round_trip)
{
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = "T";
    Apache__Rocketmq__V2__SystemProperties sp = APACHE__ROCKETMQ__V2__SYSTEM_PROPERTIES__INIT;
    sp.tag = "TagA";
    sp.message_id = "01ABC";
    sp.message_group = "g1";
    sp.message_type = APACHE__ROCKETMQ__V2__MESSAGE_TYPE__FIFO;
    Apache__Rocketmq__V2__Message m = APACHE__ROCKETMQ__V2__MESSAGE__INIT;
    m.topic = &topic;
    m.system_properties = &sp;
    m.body.data = (uint8_t *)"hello";
    m.body.len = 5;
    Apache__Rocketmq__V2__Message *mp = &m;
    Apache__Rocketmq__V2__SendMessageRequest req = APACHE__ROCKETMQ__V2__SEND_MESSAGE_REQUEST__INIT;
    req.n_messages = 1;
    req.messages = &mp;
    size_t len;
    uint8_t *framed = h2c_frame(&req.base, &len);
    /* Field 1 (messages), length-delimited: the published field numbers. */
    ck_assert_int_eq(framed[5], (1 << 3) | 2);
    Apache__Rocketmq__V2__SendMessageRequest *back =
        apache__rocketmq__v2__send_message_request__unpack(NULL, len - 5, framed + 5);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->messages[0]->topic->name, "T");
    ck_assert_str_eq(back->messages[0]->system_properties->message_group, "g1");
    ck_assert_int_eq(back->messages[0]->system_properties->message_type, APACHE__ROCKETMQ__V2__MESSAGE_TYPE__FIFO);
    ck_assert_mem_eq(back->messages[0]->body.data, "hello", 5);
    apache__rocketmq__v2__send_message_request__free_unpacked(back, NULL);
    /* Truncated input is refused, not read past. */
    ck_assert_ptr_null(apache__rocketmq__v2__send_message_request__unpack(NULL, len - 7, framed + 5));
    free(framed);
}
END_TEST

/* ---- against a real broker ---- */

static test_proc server;
static char *dir;
static char grpc_addr[32];
static int grpc_port;

static void setup(void)
{
    rmq_remoting_init();
    dir = test_tmpdir("test_grpc");
    for (int tries = 0; tries < 20; tries++) {
        int port = test_free_broker_port();
        grpc_port = test_free_port();
        char *root = str_printf("--storePathRootDir=%s/store", dir);
        char *lp = str_printf("--listenPort=%d", port);
        char *gp = str_printf("--grpcServerPort=%d", grpc_port);
        char *log = str_printf("%s/broker.log", dir);
        char *argv[] = {"mqbroker", root, lp, gp, "--listenAddress=127.0.0.1", "--brokerIP1=127.0.0.1",
                        "--brokerName=broker-grpc", "--mappedFileSizeCommitLog=8388608", NULL};
        int rc = test_proc_start(&server, "mqbroker", argv, port, log);
        free(root), free(lp), free(gp), free(log);
        if (rc == 0) break;
        ck_assert_msg(tries < 19, "mqbroker did not start");
    }
    snprintf(grpc_addr, sizeof grpc_addr, "127.0.0.1:%d", grpc_port);
    char err[256];
    rmq_cmd *req = tb_create_topic_req(TOPIC, 4);
    rmq_cmd *resp = rmq_invoke_sync(server.addr, req, TIMEOUT, err, sizeof err);
    ck_assert_msg(resp && resp->code == 0, "create topic: %s", resp ? resp->remark : err);
    cmd_free(req);
    cmd_free(resp);
}

static void teardown(void)
{
    test_proc_stop(&server, SIGTERM);
    test_rmdir(dir);
    free(dir);
}

static void connect_grpc(h2_client *c)
{
    ck_assert_int_eq(h2c_connect(c, grpc_addr), 0);
}

/* One unary call with a protobuf request; the response stream closed (or a failure). */
static void unary(h2_client *c, h2_result *r, const char *method, const ProtobufCMessage *msg)
{
    ck_assert_msg(h2c_call(c, r, method, "test-client-1", msg, TIMEOUT), "%s: no answer", method);
}

/* The raw-body variant for bad input. */
static void raw(h2_client *c, h2_result *r, const char *path, const void *body, size_t len)
{
    h2c_start(c, r, path, "test-client-1", body, len, true);
    ck_assert_msg(h2c_pump(c, r, h2c_closed, TIMEOUT), "%s: no answer", path);
}

/* A call with a raw request body answered with gRPC status STATUS (HTTP 200). */
static void expect_status(h2_client *c, const char *path, const void *body, size_t len, int status)
{
    h2_result r;
    raw(c, &r, path, body, len);
    ck_assert_int_eq(r.http_status, 200);
    ck_assert_msg(r.grpc_status == status, "%s: status %d (%s), want %d", path, r.grpc_status, r.grpc_message, status);
    h2c_result_free(&r);
}

START_TEST(bad_input_gets_status)
{
    h2_client c;
    connect_grpc(&c);
    expect_status(&c, SVC "NoSuchMethod", "\0\0\0\0\0", 5, GRPC_UNIMPLEMENTED);
    expect_status(&c, "/other.Service/QueryRoute", "\0\0\0\0\0", 5, GRPC_UNIMPLEMENTED);
    /* Not protobuf: a field 1 length running past the end. */
    expect_status(&c, SVC "QueryRoute", "\0\0\0\0\3\x0a\x7f\x01", 8, GRPC_INVALID_ARGUMENT);
    /* A declared length past the limit. */
    expect_status(&c, SVC "SendMessage", "\0\x7f\xff\xff\xff", 5, GRPC_RESOURCE_EXHAUSTED);
    /* The stream ends inside a message. */
    expect_status(&c, SVC "SendMessage", "\0\0\0\0\x64\x0a\x02", 7, GRPC_INTERNAL);
    /* A compressed message (we accept identity only). */
    expect_status(&c, SVC "QueryRoute", "\1\0\0\0\0", 5, GRPC_UNIMPLEMENTED);
    /* No request message at all. */
    expect_status(&c, SVC "QueryRoute", "", 0, GRPC_INTERNAL);
    /* Settings with an unknown field numbered 0, which protobuf-c reads once but not from its
     * own packing (fuzz_grpc): answered BAD_REQUEST on the stream, the client is not kept. */
    static const uint8_t settings0[] = {0, 0, 0, 0, 12, 0x12, 10, 0x81, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
    h2_result r;
    raw(&c, &r, SVC "Telemetry", settings0, sizeof settings0);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__TelemetryCommand *tc =
        (void *)h2c_message(&r, &apache__rocketmq__v2__telemetry_command__descriptor, 0);
    ck_assert_ptr_nonnull(tc);
    ck_assert_int_eq(tc->status->code, APACHE__ROCKETMQ__V2__CODE__BAD_REQUEST);
    apache__rocketmq__v2__telemetry_command__free_unpacked(tc, NULL);
    h2c_result_free(&r);
    h2c_close(&c);

    /* Bytes that are not HTTP/2: the connection is closed, the server goes on. */
    char err[256];
    int fd = rmq_connect_blocking(grpc_addr, 3000, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(write(fd, junk, sizeof junk - 1), (ssize_t)sizeof junk - 1);
    struct pollfd pfd = {fd, POLLIN, 0};
    char buf[4096];
    ssize_t got = 1;
    int64_t deadline = mono_ms() + TIMEOUT;
    while (got > 0 && mono_ms() < deadline)
        if (poll(&pfd, 1, 100) > 0) got = read(fd, buf, sizeof buf);
    ck_assert_int_le(got, 0);
    close(fd);

    connect_grpc(&c);
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    Apache__Rocketmq__V2__QueryRouteRequest q = APACHE__ROCKETMQ__V2__QUERY_ROUTE_REQUEST__INIT;
    q.topic = &topic;
    unary(&c, &r, "QueryRoute", &q.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    h2c_result_free(&r);
    h2c_close(&c);
}
END_TEST

START_TEST(query_route)
{
    h2_client c;
    connect_grpc(&c);
    h2_result r;
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    Apache__Rocketmq__V2__QueryRouteRequest q = APACHE__ROCKETMQ__V2__QUERY_ROUTE_REQUEST__INIT;
    q.topic = &topic;
    unary(&c, &r, "QueryRoute", &q.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__QueryRouteResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__query_route_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->status->code, APACHE__ROCKETMQ__V2__CODE__OK);
    ck_assert_uint_eq(resp->n_message_queues, 4);
    for (size_t i = 0; i < 4; i++) {
        const Apache__Rocketmq__V2__MessageQueue *mq = resp->message_queues[i];
        ck_assert_int_eq(mq->id, (int)i);
        ck_assert_int_eq(mq->permission, APACHE__ROCKETMQ__V2__PERMISSION__READ_WRITE);
        ck_assert_str_eq(mq->broker->name, "broker-grpc");
        ck_assert_str_eq(mq->broker->endpoints->addresses[0]->host, "127.0.0.1");
        ck_assert_int_eq(mq->broker->endpoints->addresses[0]->port, grpc_port);
        ck_assert_int_eq(mq->accept_message_types[0], APACHE__ROCKETMQ__V2__MESSAGE_TYPE__NORMAL);
    }
    apache__rocketmq__v2__query_route_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);

    topic.name = "NoSuchTopic";
    unary(&c, &r, "QueryRoute", &q.base);
    resp = (void *)h2c_message(&r, &apache__rocketmq__v2__query_route_response__descriptor, 0);
    ck_assert_int_eq(resp->status->code, APACHE__ROCKETMQ__V2__CODE__TOPIC_NOT_FOUND);
    apache__rocketmq__v2__query_route_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);

    /* Heartbeat before any Settings on a Telemetry stream: the proxy's answer. */
    Apache__Rocketmq__V2__HeartbeatRequest hb = APACHE__ROCKETMQ__V2__HEARTBEAT_REQUEST__INIT;
    unary(&c, &r, "Heartbeat", &hb.base);
    Apache__Rocketmq__V2__HeartbeatResponse *hr =
        (void *)h2c_message(&r, &apache__rocketmq__v2__heartbeat_response__descriptor, 0);
    ck_assert_int_eq(hr->status->code, APACHE__ROCKETMQ__V2__CODE__UNRECOGNIZED_CLIENT_TYPE);
    apache__rocketmq__v2__heartbeat_response__free_unpacked(hr, NULL);
    h2c_result_free(&r);
    h2c_close(&c);
}
END_TEST

static void send_one(h2_client *c, const char *id, const char *body)
{
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    Apache__Rocketmq__V2__SystemProperties sp = APACHE__ROCKETMQ__V2__SYSTEM_PROPERTIES__INIT;
    char *keys[] = {"k1", "k2"};
    sp.tag = "TagA";
    sp.keys = keys;
    sp.n_keys = 2;
    sp.message_id = (char *)id;
    sp.message_type = APACHE__ROCKETMQ__V2__MESSAGE_TYPE__NORMAL;
    Apache__Rocketmq__V2__Message__UserPropertiesEntry up = APACHE__ROCKETMQ__V2__MESSAGE__USER_PROPERTIES_ENTRY__INIT;
    up.key = "color";
    up.value = "blue";
    Apache__Rocketmq__V2__Message__UserPropertiesEntry *ups = &up;
    Apache__Rocketmq__V2__Message m = APACHE__ROCKETMQ__V2__MESSAGE__INIT;
    m.topic = &topic;
    m.system_properties = &sp;
    m.user_properties = &ups;
    m.n_user_properties = 1;
    m.body.data = (uint8_t *)body;
    m.body.len = strlen(body);
    Apache__Rocketmq__V2__Message *mp = &m;
    Apache__Rocketmq__V2__SendMessageRequest req = APACHE__ROCKETMQ__V2__SEND_MESSAGE_REQUEST__INIT;
    req.n_messages = 1;
    req.messages = &mp;
    h2_result r;
    unary(c, &r, "SendMessage", &req.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__SendMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__send_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    ck_assert_msg(resp->status->code == APACHE__ROCKETMQ__V2__CODE__OK, "send: %d %s", resp->status->code,
                  resp->status->message);
    ck_assert_uint_eq(resp->n_entries, 1);
    ck_assert_str_eq(resp->entries[0]->message_id, id);
    apache__rocketmq__v2__send_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
}

/* A ReceiveMessage; the stream's responses in *OUT (caller frees each), their count returned. */
static int receive(h2_client *c, int64_t poll_ms, int64_t invisible_ms, Apache__Rocketmq__V2__ReceiveMessageResponse **out,
                   int max)
{
    h2c_receive_req x;
    h2c_receive_init(&x, "GroupGrpc", TOPIC, "TagA", poll_ms, invisible_ms);
    h2_result r;
    unary(c, &r, "ReceiveMessage", &x.req.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    int n = 0;
    while (n < max && (out[n] = (void *)h2c_message(&r, &apache__rocketmq__v2__receive_message_response__descriptor, n)))
        n++;
    h2c_result_free(&r);
    return n;
}

static void free_responses(Apache__Rocketmq__V2__ReceiveMessageResponse **rs, int n)
{
    for (int i = 0; i < n; i++) apache__rocketmq__v2__receive_message_response__free_unpacked(rs[i], NULL);
}

static int ack(h2_client *c, const char *receipt)
{
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT, group = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    group.name = "GroupGrpc";
    Apache__Rocketmq__V2__AckMessageEntry e = APACHE__ROCKETMQ__V2__ACK_MESSAGE_ENTRY__INIT;
    e.receipt_handle = (char *)receipt;
    e.message_id = "x";
    Apache__Rocketmq__V2__AckMessageEntry *ep = &e;
    Apache__Rocketmq__V2__AckMessageRequest req = APACHE__ROCKETMQ__V2__ACK_MESSAGE_REQUEST__INIT;
    req.group = &group;
    req.topic = &topic;
    req.entries = &ep;
    req.n_entries = 1;
    h2_result r;
    unary(c, &r, "AckMessage", &req.base);
    Apache__Rocketmq__V2__AckMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__ack_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    int code = resp->n_entries ? (int)resp->entries[0]->status->code : -1;
    apache__rocketmq__v2__ack_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
    return code;
}

START_TEST(send_receive_ack)
{
    h2_client c;
    connect_grpc(&c);
    send_one(&c, "ID-0001", "hello grpc");
    Apache__Rocketmq__V2__ReceiveMessageResponse *rs[8];
    int n = receive(&c, 2000, 20000, rs, 8);
    ck_assert_int_eq(n, 3);  /* status OK, the message, the delivery timestamp (as the proxy ends) */
    ck_assert_int_eq(rs[2]->content_case, APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_DELIVERY_TIMESTAMP);
    ck_assert_int_ge(rs[2]->delivery_timestamp->seconds, 1700000000);
    ck_assert_int_eq(rs[0]->content_case, APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_STATUS);
    ck_assert_int_eq(rs[0]->status->code, APACHE__ROCKETMQ__V2__CODE__OK);
    ck_assert_int_eq(rs[1]->content_case, APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_MESSAGE);
    const Apache__Rocketmq__V2__Message *m = rs[1]->message;
    ck_assert_str_eq(m->topic->name, TOPIC);
    ck_assert_mem_eq(m->body.data, "hello grpc", 10);
    ck_assert_str_eq(m->system_properties->message_id, "ID-0001");
    ck_assert_str_eq(m->system_properties->tag, "TagA");
    ck_assert_uint_eq(m->system_properties->n_keys, 2);
    /* Apache's proxy: MD5, upper-case hex (the SDKs refuse a body whose digest differs). */
    ck_assert_int_eq(m->system_properties->body_digest->type, APACHE__ROCKETMQ__V2__DIGEST_TYPE__MD5);
    ck_assert_str_eq(m->system_properties->body_digest->checksum, "19B1DF330594FA92956C3054058D1DB5");
    ck_assert_int_eq(m->system_properties->delivery_attempt, 1);
    ck_assert_uint_eq(m->n_user_properties, 1);
    ck_assert_str_eq(m->user_properties[0]->key, "color");
    char *receipt = xstrdup(m->system_properties->receipt_handle);
    free_responses(rs, n);
    /* Invisible now: a second receive finds nothing (after its long poll). */
    int64_t t0 = mono_ms();
    n = receive(&c, 1000, 20000, rs, 8);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(rs[0]->status->code, APACHE__ROCKETMQ__V2__CODE__MESSAGE_NOT_FOUND);
    ck_assert_int_ge(mono_ms() - t0, 800);
    free_responses(rs, n);
    ck_assert_int_eq(ack(&c, receipt), APACHE__ROCKETMQ__V2__CODE__OK);
    ck_assert_int_eq(ack(&c, "not a receipt"), APACHE__ROCKETMQ__V2__CODE__INVALID_RECEIPT_HANDLE);
    free(receipt);
    h2c_close(&c);
}
END_TEST

START_TEST(unacked_message_comes_back)
{
    h2_client c;
    connect_grpc(&c);
    send_one(&c, "ID-0002", "again");
    Apache__Rocketmq__V2__ReceiveMessageResponse *rs[8];
    int n = receive(&c, 2000, 20000, rs, 8);
    ck_assert_int_eq(n, 3);
    /* ChangeInvisibleDuration to 1 s: it is delivered again, a second attempt. */
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT, group = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    group.name = "GroupGrpc";
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = 1;
    Apache__Rocketmq__V2__ChangeInvisibleDurationRequest req = APACHE__ROCKETMQ__V2__CHANGE_INVISIBLE_DURATION_REQUEST__INIT;
    req.group = &group;
    req.topic = &topic;
    req.receipt_handle = rs[1]->message->system_properties->receipt_handle;
    req.invisible_duration = &d;
    h2_result r;
    unary(&c, &r, "ChangeInvisibleDuration", &req.base);
    Apache__Rocketmq__V2__ChangeInvisibleDurationResponse *cr =
        (void *)h2c_message(&r, &apache__rocketmq__v2__change_invisible_duration_response__descriptor, 0);
    ck_assert_ptr_nonnull(cr);
    ck_assert_msg(cr->status->code == APACHE__ROCKETMQ__V2__CODE__OK, "change: %s", cr->status->message);
    ck_assert_str_ne(cr->receipt_handle, "");
    apache__rocketmq__v2__change_invisible_duration_response__free_unpacked(cr, NULL);
    h2c_result_free(&r);
    free_responses(rs, n);
    bool again = false;
    int64_t deadline = mono_ms() + 15000;
    while (!again && mono_ms() < deadline) {
        n = receive(&c, 2000, 20000, rs, 8);
        if (n == 3) {
            ck_assert_str_eq(rs[1]->message->system_properties->message_id, "ID-0002");
            ck_assert_int_eq(rs[1]->message->system_properties->delivery_attempt, 2);
            ck_assert_int_eq(ack(&c, rs[1]->message->system_properties->receipt_handle), APACHE__ROCKETMQ__V2__CODE__OK);
            again = true;
        }
        free_responses(rs, n);
    }
    ck_assert_msg(again, "the message did not come back after its invisible time");
    h2c_close(&c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grpc");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, frame_prefix);
    tcase_add_test(unit, protobuf_round_trip);
    suite_add_tcase(s, unit);
    TCase *e2e = tcase_create("broker");
    tcase_add_checked_fixture(e2e, setup, teardown);
    tcase_set_timeout(e2e, 60);
    tcase_add_test(e2e, bad_input_gets_status);
    tcase_add_test(e2e, query_route);
    tcase_add_test(e2e, send_receive_ack);
    tcase_add_test(e2e, unacked_message_comes_back);
    suite_add_tcase(s, e2e);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
