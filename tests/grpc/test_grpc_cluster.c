/*
 * A cluster of two of our brokers on one host, each serving gRPC on its own port, behind one
 * name server: QueryRoute and QueryAssignment asked of either broker point every broker's
 * queues at that broker's own gRPC port (src/grpc/peers.c learns it with GET_BROKER_CONFIG).
 * A client that does what the SDKs do with a route — sends to each broker at the endpoint the
 * route gives, receives from each assignment's endpoint — gets every message it sent; and a
 * recall sent to one broker of a message the other stored is forwarded there.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/grpc_int.h"
#include "grpc_broker.h"
#include "h2_client.h"
#include "../check_run.h"

#define TIMEOUT 10000
#define GROUP "GroupCluster"
#define TOPIC "TopicCluster"

static test_proc namesrv;
static char *namesrv_dir;
static test_broker tb[2];
static char grpc_addr[2][32];

static void namesrv_start(void)
{
    namesrv_dir = test_tmpdir("grpc-cluster-ns");
    int port = test_free_port();
    char *conf = str_printf("%s/namesrv.properties", namesrv_dir);
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kv.json\n", port, namesrv_dir);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *out = str_printf("%s/stdout", namesrv_dir), *home = str_printf("HOME=%s", namesrv_dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    ck_assert_int_eq(test_proc_start_env(&namesrv, "mqnamesrv", argv, env, port, out), 0);
    free(home), free(out), free(text), free(conf);
}

/* The name server routes T to broker-b, and to broker-e2e too when BOTH (within 10 s). */
static void wait_route(const char *t, bool both)
{
    int64_t deadline = now_ms() + 10000;
    for (;;) {
        rmq_cmd *req = cmd_new_request(105);
        cmd_ext_set(req, "topic", t);
        char err[256];
        rmq_cmd *resp = rmq_invoke_sync(namesrv.addr, req, 3000, err, sizeof err);
        cmd_free(req);
        bool ok = resp && resp->code == 0 && resp->body && memmem(resp->body, resp->body_len, "broker-b", 8) &&
                  (!both || memmem(resp->body, resp->body_len, "broker-e2e", 10));
        cmd_free(resp);
        if (ok) return;
        ck_assert_msg(now_ms() < deadline, "no route of %s", t);
        usleep(100000);
    }
}

/* Index of the broker whose gRPC port is PORT, or -1. */
static int broker_of_port(int port)
{
    for (int i = 0; i < 2; i++)
        if (atoi(strrchr(grpc_addr[i], ':') + 1) == port) return i;
    return -1;
}

static void call(h2_client *c, h2_result *r, const char *method, const ProtobufCMessage *msg)
{
    ck_assert_msg(h2c_call(c, r, method, "cluster-client-1", msg, TIMEOUT), "%s: no answer", method);
}

static void connect_to(h2_client *c, const Apache__Rocketmq__V2__Broker *br)
{
    char addr[300];
    snprintf(addr, sizeof addr, "%s:%d", br->endpoints->addresses[0]->host, br->endpoints->addresses[0]->port);
    ck_assert_int_eq(h2c_connect(c, addr), 0);
}

static void send_one(h2_client *c, const char *body)
{
    char id[40];
    snprintf(id, sizeof id, "0A000000000000000000%s", body);
    h2c_send_req x;
    h2c_send_init(&x, TOPIC, id, body);
    h2_result r;
    call(c, &r, "SendMessage", &x.req.base);
    Apache__Rocketmq__V2__SendMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__send_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    ck_assert_msg(resp->status->code == APACHE__ROCKETMQ__V2__CODE__OK, "send: %s", resp->status->message);
    apache__rocketmq__v2__send_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
}

static void receive_into(h2_client *c, char *got, size_t cap)
{
    ck_assert(h2c_receive_bodies(c, "cluster-client-1", GROUP, TOPIC, got, cap));
}

START_TEST(route_points_each_broker_at_its_own_grpc_port)
{
    namesrv_start();
    char *ns = str_printf("--namesrvAddr=%s", namesrv.addr);
    gb_start(&tb[0], grpc_addr[0], "grpc-cluster-a", ns, "--registerNameServerPeriod=1000", NULL);
    gb_start(&tb[1], grpc_addr[1], "grpc-cluster-b", ns, "--brokerName=broker-b", "--recallMessageEnable=true");
    for (int i = 0; i < 2; i++) tb_create_topic(&tb[i], TOPIC, 2);
    rmq_cmd *create = tb_create_topic_req("TopicClusterDelay", 1);
    cmd_ext_set(create, "attributes", "+message.type=DELAY");
    rmq_cmd *created = tb_call(&tb[1], create, BC_TIMEOUT);
    ck_assert_int_eq(created->code, 0);
    cmd_free(created);
    wait_route(TOPIC, true);
    wait_route("TopicClusterDelay", false);

    /* Asked of either broker, the route names both, each at its own gRPC port. */
    Apache__Rocketmq__V2__Broker *brokers[2] = {0};
    Apache__Rocketmq__V2__QueryRouteResponse *routes[2];
    for (int asked = 0; asked < 2; asked++) {
        h2_client c;
        ck_assert_int_eq(h2c_connect(&c, grpc_addr[asked]), 0);
        Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
        topic.name = TOPIC;
        Apache__Rocketmq__V2__QueryRouteRequest q = APACHE__ROCKETMQ__V2__QUERY_ROUTE_REQUEST__INIT;
        q.topic = &topic;
        h2_result r;
        call(&c, &r, "QueryRoute", &q.base);
        routes[asked] = (void *)h2c_message(&r, &apache__rocketmq__v2__query_route_response__descriptor, 0);
        ck_assert_ptr_nonnull(routes[asked]);
        ck_assert_uint_eq(routes[asked]->n_message_queues, 4);
        for (size_t i = 0; i < 4; i++) {
            Apache__Rocketmq__V2__Broker *br = routes[asked]->message_queues[i]->broker;
            int at = broker_of_port(br->endpoints->addresses[0]->port);
            ck_assert_msg(at == (strcmp(br->name, "broker-b") == 0), "%s at port %d", br->name,
                          br->endpoints->addresses[0]->port);
            brokers[at] = br;
        }
        h2c_result_free(&r);
        h2c_close(&c);
    }

    /* A consumer receives from each broker (starting there), a producer sends to each. */
    h2_client conn[2];
    char got[1024] = "";
    for (int i = 0; i < 2; i++) {
        connect_to(&conn[i], brokers[i]);
        receive_into(&conn[i], got, sizeof got);
    }
    const char *bodies[2][3] = {{"a1", "a2", "a3"}, {"b1", "b2", "b3"}};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++) send_one(&conn[i], bodies[i][k]);
    int64_t deadline = now_ms() + 15000;
    int n = 0;
    while (n < 6 && now_ms() < deadline) {
        for (int i = 0; i < 2; i++) receive_into(&conn[i], got, sizeof got);
        n = 0;
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 3; k++) {
                char want[8];
                snprintf(want, sizeof want, "%s;", bodies[i][k]);
                n += strstr(got, want) != NULL;
            }
    }
    ck_assert_msg(n == 6, "received %d of 6: %s", n, got);

    /* A timer message stored by broker-b is recalled through broker-a (an SDK recalls through
     * its access point): the recall is forwarded to the broker the handle names. */
    h2c_send_req x;
    h2c_send_init(&x, "TopicClusterDelay", "0A0000000000000000000000RCB1", "recall-me");
    x.sp.message_type = APACHE__ROCKETMQ__V2__MESSAGE_TYPE__DELAY;
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    at.seconds = now_ms() / 1000 + 60;
    x.sp.delivery_timestamp = &at;
    h2_result r;
    call(&conn[1], &r, "SendMessage", &x.req.base);
    Apache__Rocketmq__V2__SendMessageResponse *sent =
        (void *)h2c_message(&r, &apache__rocketmq__v2__send_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(sent);
    ck_assert_str_ne(sent->entries[0]->recall_handle, "");
    h2c_result_free(&r);
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = "TopicClusterDelay";
    Apache__Rocketmq__V2__RecallMessageRequest rq = APACHE__ROCKETMQ__V2__RECALL_MESSAGE_REQUEST__INIT;
    rq.topic = &topic;
    rq.recall_handle = sent->entries[0]->recall_handle;
    call(&conn[0], &r, "RecallMessage", &rq.base);
    Apache__Rocketmq__V2__RecallMessageResponse *rr =
        (void *)h2c_message(&r, &apache__rocketmq__v2__recall_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(rr);
    ck_assert_msg(rr->status->code == APACHE__ROCKETMQ__V2__CODE__OK, "recall: %d %s", rr->status->code,
                  rr->status->message);
    ck_assert_str_eq(rr->message_id, "0A0000000000000000000000RCB1");
    apache__rocketmq__v2__recall_message_response__free_unpacked(rr, NULL);
    apache__rocketmq__v2__send_message_response__free_unpacked(sent, NULL);
    h2c_result_free(&r);
    for (int i = 0; i < 2; i++) {
        h2c_close(&conn[i]);
        apache__rocketmq__v2__query_route_response__free_unpacked(routes[i], NULL);
    }
    for (int i = 0; i < 2; i++) tb_done(&tb[i]);
    test_proc_stop(&namesrv, SIGTERM);
    test_rmdir(namesrv_dir);
    free(namesrv_dir);
    free(ns);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grpc_cluster");
    TCase *t = tcase_create("brokers");
    tcase_set_timeout(t, 90);
    tcase_add_test(t, route_points_each_broker_at_its_own_grpc_port);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
