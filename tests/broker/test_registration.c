/*
 * Registration with the name servers (src/broker/registration.c):
 *  - the bodies: fastjson text and the compressed form, checked byte for byte
 *    against RegisterBrokerBody's documented layout;
 *  - a broker against a fake name server (fake_namesrv.h) that records what it
 *    receives: a topic created goes out alone in an incremental registration,
 *    QUERY_DATA_VERSION spares an unchanged table (the whole table's path:
 *    test_registration_table.c);
 *  - a heartbeat that creates a group's retry topic is answered only after the
 *    name servers answered the registration carrying it;
 *  - a broker against our mqnamesrv: a created topic is routable within a second,
 *    a deleted one disappears, a restarted name server gets everything back.
 */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <zlib.h>

#include "broker_client.h"
#include "fake_namesrv.h"
#include "broker/registration.h"
#include "common/fjson.h"
#include "../check_run.h"

/* ---- bodies ---- */

static topic_config topic(const char *name, int r, int w, int perm, bool multi)
{
    topic_config tc;
    topic_config_init(&tc, name);
    tc.read_queue_nums = r;
    tc.write_queue_nums = w;
    tc.perm = perm;
    tc.topic_filter_type = multi ? TOPIC_FILTER_MULTI_TAG : TOPIC_FILTER_SINGLE_TAG;
    return tc;
}

static void put_chunk(uint8_t **p, const char *s)
{
    put_be32(*p, (uint32_t)strlen(s));
    memcpy(*p + 4, s, strlen(s));
    *p += 4 + strlen(s);
}

START_TEST(test_compressed_layout)
{
    topic_config t[] = {topic("TBW102", 8, 8, 7, false), topic("T_sc", 4, 2, 6, true)};
    data_version dv = {.timestamp = 1795444502146LL, .counter = 7};
    size_t zlen;
    uint8_t *z = registration_compressed_body(t, 2, &dv, &zlen);

    uint8_t want[256], *p = want;
    put_chunk(&p, "{\"counter\":7,\"timestamp\":1795444502146}");
    put_be32(p, 2);
    p += 4;
    put_chunk(&p, "TBW102 8 8 7 SINGLE_TAG");
    put_chunk(&p, "T_sc 4 2 6 MULTI_TAG");
    put_chunk(&p, "[]");
    put_be32(p, 0);   /* 5.x: no static-topic mappings */
    p += 4;

    uint8_t raw[512];
    uLongf rlen = sizeof raw;
    ck_assert_int_eq(uncompress(raw, &rlen, z, (uLong)zlen), Z_OK);   /* a zlib stream, as DeflaterOutputStream */
    ck_assert_uint_eq(rlen, (size_t)(p - want));
    ck_assert(memcmp(raw, want, rlen) == 0);
    free(z);

    /* An empty table is still a complete body. */
    z = registration_compressed_body(NULL, 0, &dv, &zlen);
    rlen = sizeof raw;
    ck_assert_int_eq(uncompress(raw, &rlen, z, (uLong)zlen), Z_OK);
    ck_assert_uint_eq(get_be32(raw + 4 + get_be32(raw)), 0);
    free(z);
}
END_TEST

START_TEST(test_json_body)
{
    topic_config t[] = {topic("T1", 2, 3, 6, false)};
    t[0].topic_sys_flag = 1;
    data_version dv = {.timestamp = 5, .counter = 2};
    size_t len;
    char *json = registration_json_body(t, 1, &dv, &len);
    ck_assert_str_eq(json, "{\"filterServerList\":[],\"topicConfigSerializeWrapper\":{\"dataVersion\":"
                           "{\"counter\":2,\"timestamp\":5},\"topicConfigTable\":{\"T1\":{\"order\":false,\"perm\":6,"
                           "\"readQueueNums\":2,\"topicFilterType\":\"SINGLE_TAG\",\"topicName\":\"T1\","
                           "\"topicSysFlag\":1,\"writeQueueNums\":3}}}}");
    ck_assert_uint_eq(len, strlen(json));
    free(json);
}
END_TEST

START_TEST(test_incremental_registration)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_incr", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();
    usleep(200000);   /* anything else of the start */
    n = wait_seen(103, n);
    seen_register full = last_register();
    ck_assert(!full.compressed);

    tb_create_topic(&tb, "T_incr_1", 4);
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    seen_register inc = last_register();
    ck_assert_int_eq(inc.n_topics, 1);
    ck_assert_str_eq(inc.first_topic, "T_incr_1");
    ck_assert_int_gt(inc.counter, full.counter);

    tb_create_topic(&tb, "T_incr_2", 4);
    ck_assert_int_eq(wait_seen(103, n + 2), n + 2);
    seen_register inc2 = last_register();
    ck_assert_int_eq(inc2.n_topics, 1);
    ck_assert_str_eq(inc2.first_topic, "T_incr_2");
    ck_assert_int_gt(inc2.counter, inc.counter);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

START_TEST(test_query_data_version_first)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_query", ns, "--registerNameServerPeriod=500", "--forceRegister=false", NULL);
    /* At start the name server does not know the broker: asked, then the table. */
    ck_assert_int_ge(wait_seen(322, 1), 1);
    pthread_mutex_lock(&fake.lock);
    fake.answer_changed = false;
    pthread_mutex_unlock(&fake.lock);
    int registers = wait_full();
    usleep(200000);
    registers = wait_seen(103, registers);
    int queries = wait_seen(322, 1);
    /* Unchanged: asked again and again, the table not sent. */
    ck_assert_int_ge(wait_seen(322, queries + 3), queries + 3);
    ck_assert_int_eq(wait_seen(103, registers), registers);
    pthread_mutex_lock(&fake.lock);
    fake.answer_changed = true;
    pthread_mutex_unlock(&fake.lock);
    ck_assert_int_ge(wait_seen(103, registers + 1), registers + 1);
    ck_assert_int_ge(last_register().n_topics, 8);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/* ---- against our name server ---- */

static test_proc namesrv;
static char *namesrv_dir;

static void namesrv_start(int port)
{
    char *conf = str_printf("%s/namesrv.properties", namesrv_dir);
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kvConfig.json\n", port,
                            namesrv_dir);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *out = str_printf("%s/stdout", namesrv_dir);
    char *home = str_printf("HOME=%s", namesrv_dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    int rc = -1;
    for (int tries = 0; tries < 20 && rc != 0; tries++) {   /* a restart: the port may still be closing */
        rc = test_proc_start_env(&namesrv, "mqnamesrv", argv, env, port, out);
        if (rc != 0) usleep(200000);
    }
    ck_assert_int_eq(rc, 0);
    free(home), free(out), free(text), free(conf);
}

/* GET_ROUTEINFO_BY_TOPIC's response code. */
static int route_code(const char *topic)
{
    rmq_cmd *req = cmd_new_request(105);
    cmd_ext_set(req, "topic", topic);
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(namesrv.addr, req, 3000, err, sizeof err);
    cmd_free(req);
    ck_assert_msg(resp != NULL, "route %s: %s", topic, err);
    int code = resp->code;
    cmd_free(resp);
    return code;
}

/* ms until TOPIC's route answers WANT (0 or 17), -1 after WITHIN_MS. */
static int64_t ms_until_route(const char *topic, int want, int within_ms)
{
    int64_t start = now_ms();
    do {
        if (route_code(topic) == want) return now_ms() - start;
        usleep(5000);
    } while (now_ms() - start < within_ms);
    return -1;
}

static void routes_case(const char *name, const char *extra1, const char *extra2, const char *extra3)
{
    namesrv_dir = test_tmpdir("test_reg_namesrv");
    namesrv_start(test_free_port());
    char *ns = str_printf("--namesrvAddr=%s", namesrv.addr);
    test_broker tb;
    tb_init(&tb, name, ns, "--registerNameServerPeriod=1000", extra1, extra2, extra3, NULL);
    char topic[32];
    for (int i = 0; i < 40; i++) {
        snprintf(topic, sizeof topic, "T_route_%d", i);
        tb_create_topic(&tb, topic, 2);
        if (i % 10 == 0) {
            int64_t ms = ms_until_route(topic, 0, 1000);
            ck_assert_msg(ms >= 0, "%s not routable within 1 s", topic);
        }
    }
    for (int i = 0; i < 40; i++) {
        snprintf(topic, sizeof topic, "T_route_%d", i);
        ck_assert_msg(ms_until_route(topic, 0, 1000) >= 0, "%s not routable", topic);
    }

    /* mqadmin deleteTopic: the broker, then the name server. */
    rmq_cmd *del = cmd_new_request(215);
    cmd_ext_set(del, "topic", "T_route_7");
    rmq_cmd *resp = tb_call(&tb, del, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
    del = cmd_new_request(216);
    cmd_ext_set(del, "topic", "T_route_7");
    char err[256];
    resp = rmq_invoke_sync(namesrv.addr, del, 3000, err, sizeof err);
    cmd_free(del);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
    ck_assert_int_eq(route_code("T_route_7"), 17);
    usleep(2500000);   /* periodic registrations do not bring it back */
    ck_assert_int_eq(route_code("T_route_7"), 17);

    /* A restarted name server knows nothing until the broker's next registration restores everything. */
    int port = namesrv.port;
    ck_assert_int_eq(test_proc_stop(&namesrv, SIGKILL), 128 + SIGKILL);
    namesrv_start(port);
    ck_assert_int_eq(route_code("T_route_39"), 17);
    ck_assert_msg(ms_until_route("T_route_39", 0, 5000) >= 0, "not restored after a name-server restart");
    for (int i = 0; i < 40; i++) {
        snprintf(topic, sizeof topic, "T_route_%d", i);
        ck_assert_int_eq(route_code(topic), i == 7 ? 17 : 0);
    }
    ck_assert_int_eq(route_code("broker-e2e"), 0);   /* the system topics too */

    tb_done(&tb);
    free(ns);
    ck_assert_int_eq(test_proc_stop(&namesrv, SIGTERM), 0);
    test_rmdir(namesrv_dir);
    free(namesrv_dir);
}

START_TEST(test_routes_json_forced)
{
    routes_case("test_reg_json", NULL, NULL, NULL);
}
END_TEST

START_TEST(test_routes_compressed_split_queried)
{
    routes_case("test_reg_zsplit", "--compressedRegister=true", "--enableSplitRegistration=true",
                "--splitRegistrationSize=7");
}
END_TEST

START_TEST(test_routes_queried)
{
    routes_case("test_reg_query_ns", "--forceRegister=false", NULL, NULL);
}
END_TEST

/* HEART_BEAT of consumer group GROUP on a fresh connection; returns how long its answer took. */
static int64_t heartbeat_ms(const test_broker *tb, const char *group)
{
    char err[256];
    int fd = rmq_connect_blocking(tb->proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    char *body = str_printf("{\"clientID\":\"127.0.0.1@hb\",\"consumerDataSet\":[{\"consumeFromWhere\":"
                            "\"CONSUME_FROM_LAST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":"
                            "\"%s\",\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[{\"classFilterMode\":"
                            "false,\"codeSet\":[],\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1,"
                            "\"tagsSet\":[],\"topic\":\"T_hb\"}],\"unitMode\":false}],\"producerDataSet\":[]}",
                            group);
    rmq_cmd *hb = cmd_new_request(34);
    cmd_set_body(hb, body, strlen(body));
    int64_t t0 = mono_ms();
    rmq_cmd *r = rmq_invoke_fd(fd, hb, BC_TIMEOUT, err, sizeof err);
    int64_t took = mono_ms() - t0;
    ck_assert_msg(r && r->code == 0, "heartbeat: %s", r ? r->remark : err);
    cmd_free(r);
    cmd_free(hb);
    free(body);
    close(fd);
    return took;
}

/*
 * ClientManageProcessor.heartBeat registers a group's new retry topic with the
 * name servers, waiting for their answers, before it answers: the Java client
 * looks up %RETRY%group's route right after and keeps it 30 s, so a route without
 * this broker would leave retried messages here unconsumed that long.
 */
START_TEST(test_heartbeat_waits_for_the_retry_topic_registration)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_hb", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();
    usleep(200000);   /* anything else of the start */
    n = wait_seen(103, n);
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 600;
    pthread_mutex_unlock(&fake.lock);

    int64_t took = heartbeat_ms(&tb, "G_hb");
    ck_assert_int_ge(wait_seen(103, n + 1), n + 1);
    seen_register reg = last_register();
    ck_assert_str_eq(reg.first_topic, "%RETRY%G_hb");
    ck_assert_msg(took >= 550, "answered after %lld ms, before the name server answered (600 ms)", (long long)took);
    /* The topic exists now: the next heartbeat is answered at once. */
    took = heartbeat_ms(&tb, "G_hb");
    ck_assert_msg(took < 400, "second heartbeat took %lld ms", (long long)took);
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

static void set_register_body(const char *body)
{
    pthread_mutex_lock(&fake.lock);
    fake.register_body = body;
    pthread_mutex_unlock(&fake.lock);
}

/* The "order" of TOPIC in the broker's config/topics.json, waited for (5 s) to become WANT. */
static void wait_order_on_disk(const test_broker *tb, const char *topic, bool want)
{
    char *path = str_printf("%s/store/config/topics.json", tb->dir);
    int64_t deadline = now_ms() + 5000;
    bool order = !want;
    do {
        size_t len;
        char *text = read_file(path, &len);
        cJSON *root = text ? fjson_parse(text, len, NULL) : NULL;
        const cJSON *tc = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "topicConfigTable"), topic);
        order = cJSON_IsTrue(cJSON_GetObjectItem(tc, "order"));
        cJSON_Delete(root);
        free(text);
        if (order == want) break;
        usleep(20000);
    } while (now_ms() < deadline);
    free(path);
    ck_assert_msg(order == want, "topic %s: order is %d, want %d", topic, order, want);
}

/*
 * mqadmin updateOrderConf writes the name server's ORDER_TOPIC_CONFIG namespace; the
 * broker learns it from REGISTER_BROKER's answer (TopicConfigManager.updateOrderTopicConfig)
 * and marks those topics ordered, so brokerConsumeStats -o true lists them as on Apache's
 * broker (compat/apache found ours ignoring the answer body).
 */
START_TEST(test_order_topics_follow_the_registration_answer)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_order", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();
    tb_create_topic(&tb, "T_ord", 2);
    tb_create_topic(&tb, "T_plain", 2);
    n = wait_seen(103, n + 2);
    wait_order_on_disk(&tb, "T_ord", false);

    set_register_body("{\"table\":{\"T_ord\":\"broker-e2e:2\"}}");
    tb_create_topic(&tb, "T_trigger1", 1);   /* an incremental registration brings the answer */
    wait_order_on_disk(&tb, "T_ord", true);
    wait_order_on_disk(&tb, "T_plain", false);

    /* A namespace that no longer names the topic turns it back. */
    set_register_body("{\"table\":{}}");
    tb_create_topic(&tb, "T_trigger2", 1);
    wait_order_on_disk(&tb, "T_ord", false);

    /* No body (no such namespace on the name server): order flags stay as they are. */
    set_register_body("{\"table\":{\"T_ord\":\"broker-e2e:2\"}}");
    tb_create_topic(&tb, "T_trigger3", 1);
    wait_order_on_disk(&tb, "T_ord", true);
    set_register_body(NULL);
    n = wait_seen(103, 0);
    tb_create_topic(&tb, "T_trigger4", 1);
    ck_assert_int_gt(wait_seen(103, n + 1), n);
    usleep(300000);   /* the answer handled */
    wait_order_on_disk(&tb, "T_ord", true);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registration");
    TCase *tc = tcase_create("bodies");
    tcase_add_test(tc, test_compressed_layout);
    tcase_add_test(tc, test_json_body);
    suite_add_tcase(s, tc);
    tc = tcase_create("fake_namesrv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_incremental_registration);
    tcase_add_test(tc, test_query_data_version_first);
    tcase_add_test(tc, test_heartbeat_waits_for_the_retry_topic_registration);
    tcase_add_test(tc, test_order_topics_follow_the_registration_answer);
    suite_add_tcase(s, tc);
    tc = tcase_create("namesrv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_routes_json_forced);
    tcase_add_test(tc, test_routes_compressed_split_queried);
    tcase_add_test(tc, test_routes_queried);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
