/*
 * The console pages' JSON (console_render.c) from answers shaped as the
 * name server and brokers send them (fastjson bodies with MessageQueue keys,
 * encoded message records): what each page shows, in which order, and that
 * whatever bytes the cluster holds the JSON stays valid UTF-8.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "../check_run.h"

static cJSON *parse(const char *fastjson)
{
    const char *err = NULL;
    cJSON *j = fjson_parse(fastjson, strlen(fastjson), &err);
    ck_assert_msg(j != NULL, "test input does not parse: %s", err);
    return j;
}

/* The page's view of J: printed as the server sends it, parsed back as the browser does. */
static cJSON *round_trip(cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON *back = cJSON_Parse(text);
    ck_assert_msg(back != NULL, "rendered JSON does not parse: %s", text);
    free(text);
    return back;
}

static const char *s_at(const cJSON *o, const char *path_key) { return str_field(o, path_key); }

static const cJSON *at(const cJSON *arr, int i) { return cJSON_GetArrayItem(arr, i); }

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

START_TEST(test_cluster_sorted_with_roles)
{
    cluster_info ci = {0};
    ci.json = parse("{\"brokerAddrTable\":{\"broker-b\":{\"brokerAddrs\":{1:\"127.0.0.1:20911\",0:\"127.0.0.1:10921\"},"
                    "\"brokerName\":\"broker-b\",\"cluster\":\"C1\"},\"broker-a\":{\"brokerAddrs\":{0:\"127.0.0.1:10911\"},"
                    "\"brokerName\":\"broker-a\",\"cluster\":\"C1\"}},"
                    "\"clusterAddrTable\":{\"Z2\":[],\"C1\":[\"broker-b\",\"broker-a\",\"gone\"]}}");
    ci.clusters = get(ci.json, "clusterAddrTable");
    ci.brokers = get(ci.json, "brokerAddrTable");
    cJSON *o = round_trip(render_cluster(&ci));
    const cJSON *clusters = get(o, "clusters");
    ck_assert_int_eq(cJSON_GetArraySize(clusters), 2);
    ck_assert_str_eq(s_at(at(clusters, 0), "name"), "C1");
    ck_assert_str_eq(s_at(at(clusters, 1), "name"), "Z2");
    const cJSON *brokers = get(at(clusters, 0), "brokers");
    ck_assert_int_eq(cJSON_GetArraySize(brokers), 2);   /* "gone" has no address entry */
    ck_assert_str_eq(s_at(at(brokers, 0), "name"), "broker-a");
    const cJSON *b = at(brokers, 1), *addrs = get(b, "addrs");
    ck_assert_str_eq(s_at(b, "name"), "broker-b");
    ck_assert_int_eq(cJSON_GetArraySize(addrs), 2);
    for (int i = 0; i < 2; i++) {
        const cJSON *a = at(addrs, i);
        bool master = int_field(a, "id") == 0;
        ck_assert_str_eq(s_at(a, "role"), master ? "MASTER" : "SLAVE");
        ck_assert_str_eq(s_at(a, "addr"), master ? "127.0.0.1:10921" : "127.0.0.1:20911");
    }
    cJSON_Delete(o);
    cJSON_Delete(ci.json);
}
END_TEST

START_TEST(test_broker_status_headline_and_sorted_table)
{
    cJSON *body = parse("{\"table\":{\"putTps\":\"12.5 3.0 1.0\",\"brokerVersionDesc\":\"V4_9_8\",\"zeta\":\"1\","
                        "\"alpha\":\"2\",\"msgPutTotalTodayNow\":\"42\"}}");
    cJSON *o = round_trip(render_broker_status("127.0.0.1:10911", get(body, "table")));
    ck_assert_str_eq(s_at(o, "addr"), "127.0.0.1:10911");
    const cJSON *h = get(o, "headline");
    ck_assert_str_eq(s_at(h, "brokerVersionDesc"), "V4_9_8");
    ck_assert_str_eq(s_at(h, "putTps"), "12.5 3.0 1.0");
    ck_assert_str_eq(s_at(h, "msgPutTotalTodayNow"), "42");
    ck_assert_str_eq(s_at(h, "commitLogDiskRatio"), "");   /* absent from this table */
    const cJSON *t = get(o, "table");
    ck_assert_int_eq(cJSON_GetArraySize(t), 5);
    ck_assert_str_eq(at(at(t, 0), 0)->valuestring, "alpha");
    ck_assert_str_eq(at(at(t, 0), 1)->valuestring, "2");
    ck_assert_str_eq(at(at(t, 4), 0)->valuestring, "zeta");
    cJSON_Delete(o);
    cJSON_Delete(body);
}
END_TEST

START_TEST(test_topic_list_kinds)
{
    cJSON *body = parse("{\"topicList\":[\"orders\",\"%RETRY%g1\",\"TBW102\",\"%DLQ%g1\",\"rmq_sys_REVIVE_LOG_C\",\"broker-a\",\"alpha\"]}");
    cJSON *o = round_trip(render_topic_list(body));
    const cJSON *t = get(o, "topics");
    static const char *const names[] = {"%DLQ%g1", "%RETRY%g1", "TBW102", "alpha", "broker-a", "orders", "rmq_sys_REVIVE_LOG_C"};
    static const char *const kinds[] = {"dlq", "retry", "system", "normal", "normal", "normal", "system"};
    ck_assert_int_eq(cJSON_GetArraySize(t), 7);
    for (int i = 0; i < 7; i++) {
        ck_assert_str_eq(s_at(at(t, i), "name"), names[i]);
        ck_assert_str_eq(s_at(at(t, i), "kind"), kinds[i]);
    }
    cJSON_Delete(o);
    cJSON_Delete(body);
}
END_TEST

/* GET_TOPIC_STATS_INFO's offsetTable from two brokers, as a route of two. */
START_TEST(test_topic_route_and_offsets)
{
    route r = {0};
    r.json = parse("{\"brokerDatas\":[{\"brokerAddrs\":{0:\"127.0.0.1:10911\"},\"brokerName\":\"b\",\"cluster\":\"C\"},"
                   "{\"brokerAddrs\":{0:\"127.0.0.1:10921\"},\"brokerName\":\"a\",\"cluster\":\"C\"}],"
                   "\"queueDatas\":[{\"brokerName\":\"a\",\"perm\":6,\"readQueueNums\":2,\"writeQueueNums\":2},"
                   "{\"brokerName\":\"b\",\"perm\":4,\"readQueueNums\":1,\"writeQueueNums\":1}]}");
    const cJSON *bds = get(r.json, "brokerDatas"), *it;
    r.brokers = calloc(2, sizeof *r.brokers);
    cJSON_ArrayForEach(it, bds) parse_broker_data(it, &r.brokers[r.n_brokers++]);
    r.queues = get(r.json, "queueDatas");
    cJSON *stats = parse("{\"offsetTable\":{{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"T\"}:{\"lastUpdateTimestamp\":1700000000000,"
                         "\"maxOffset\":7,\"minOffset\":2},{\"brokerName\":\"a\",\"queueId\":1,\"topic\":\"T\"}:{"
                         "\"lastUpdateTimestamp\":0,\"maxOffset\":3,\"minOffset\":0},{\"brokerName\":\"a\",\"queueId\":0,"
                         "\"topic\":\"T\"}:{\"lastUpdateTimestamp\":1,\"maxOffset\":5,\"minOffset\":0}}}");
    mq_entry *e = NULL;
    int n = 0;
    collect_mq_entries(get(stats, "offsetTable"), &e, &n);
    qsort(e, (size_t)n, sizeof *e, cmp_mq_entry);
    cJSON *o = round_trip(render_topic("T", &r, e, n));
    ck_assert_str_eq(s_at(o, "topic"), "T");
    ck_assert_int_eq(int_field(o, "messages"), 5 + 3 + 5);
    const cJSON *b = get(o, "brokers");
    ck_assert_str_eq(s_at(at(b, 0), "name"), "b");
    ck_assert_int_eq(int_field(at(b, 0), "perm"), 4);
    ck_assert_int_eq(int_field(at(b, 1), "readQueueNums"), 2);
    const cJSON *q = get(o, "queues");
    ck_assert_int_eq(cJSON_GetArraySize(q), 3);
    ck_assert_str_eq(s_at(at(q, 0), "broker"), "a");
    ck_assert_int_eq(int_field(at(q, 0), "queueId"), 0);
    ck_assert_int_eq(int_field(at(q, 0), "maxOffset"), 5);
    ck_assert_int_eq(int_field(at(q, 1), "queueId"), 1);
    ck_assert_str_eq(s_at(at(q, 2), "broker"), "b");
    ck_assert_int_eq(int_field(at(q, 2), "minOffset"), 2);
    ck_assert_int_eq(int_field(at(q, 2), "lastUpdateTimestamp"), 1700000000000LL);
    cJSON_Delete(o);
    free_mq_entries(e, n);
    cJSON_Delete(stats);
    route_free(&r);
}
END_TEST

/* GET_CONSUME_STATS: lag per queue is brokerOffset - consumerOffset, as consumerProgress prints #Diff. */
START_TEST(test_group_lag)
{
    cJSON *stats = parse("{\"consumeTps\":2.5,\"offsetTable\":{{\"brokerName\":\"a\",\"queueId\":1,\"topic\":\"T\"}:{"
                         "\"brokerOffset\":10,\"consumerOffset\":4,\"lastTimestamp\":5},{\"brokerName\":\"a\",\"queueId\":0,"
                         "\"topic\":\"T\"}:{\"brokerOffset\":3,\"consumerOffset\":3,\"lastTimestamp\":0}}}");
    mq_entry *e = NULL;
    int n = 0;
    collect_mq_entries(get(stats, "offsetTable"), &e, &n);
    qsort(e, (size_t)n, sizeof *e, cmp_mq_entry);
    cJSON *o = round_trip(render_group("g1", e, n, 2.5));
    ck_assert_str_eq(s_at(o, "group"), "g1");
    ck_assert_int_eq(int_field(o, "lag"), 6);
    ck_assert(double_field(o, "consumeTps") == 2.5);
    const cJSON *q = get(o, "queues");
    ck_assert_int_eq(int_field(at(q, 0), "queueId"), 0);
    ck_assert_int_eq(int_field(at(q, 0), "lag"), 0);
    ck_assert_int_eq(int_field(at(q, 1), "lag"), 6);
    ck_assert_int_eq(int_field(at(q, 1), "consumerOffset"), 4);
    ck_assert_int_eq(int_field(at(q, 1), "lastTimestamp"), 5);
    cJSON_Delete(o);
    free_mq_entries(e, n);
    cJSON_Delete(stats);
}
END_TEST

START_TEST(test_connections_consumer_and_producer)
{
    cJSON *cc = parse("{\"connectionSet\":[{\"clientAddr\":\"127.0.0.1:5000\",\"clientId\":\"127.0.0.1@1\",\"language\":\"JAVA\","
                      "\"version\":409}],\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\","
                      "\"messageModel\":\"CLUSTERING\",\"subscriptionTable\":{\"T\":{\"subString\":\"a || b\",\"topic\":\"T\"}}}");
    cJSON *o = round_trip(render_connections(cc));
    const cJSON *c = at(get(o, "clients"), 0);
    ck_assert_str_eq(s_at(c, "clientId"), "127.0.0.1@1");
    ck_assert_str_eq(s_at(c, "language"), "JAVA");
    ck_assert_str_eq(s_at(c, "version"), "V4_9_8");   /* MQVersion.Version ordinal 409 */
    ck_assert_str_eq(s_at(o, "messageModel"), "CLUSTERING");
    ck_assert_str_eq(s_at(at(get(o, "subscriptions"), 0), "expression"), "a || b");
    cJSON_Delete(o);
    cJSON_Delete(cc);
    cJSON *pc = parse("{\"connectionSet\":[]}");
    o = round_trip(render_connections(pc));
    ck_assert_int_eq(cJSON_GetArraySize(get(o, "clients")), 0);
    ck_assert_ptr_null(get(o, "subscriptions"));
    ck_assert_ptr_null(get(o, "consumeType"));
    cJSON_Delete(o);
    cJSON_Delete(pc);
}
END_TEST

/* A message record as a broker stores it, decoded as a query answer. */
static message *make_message(const void *body, uint32_t body_len, const char *props)
{
    msg_record r = {0};
    r.queue_id = 3;
    r.queue_offset = 17;
    r.phys_offset = 4096;
    r.born_timestamp = 1700000000123LL;
    r.store_timestamp = 1700000000456LL;
    msg_host_parse(&r.born_host, "10.0.0.9:40000");
    msg_host_parse(&r.store_host, "127.0.0.1:10911");
    r.body = body;
    r.body_len = body_len;
    r.topic = "orders";
    r.topic_len = 6;
    r.props = props;
    r.props_len = (uint32_t)strlen(props);
    uint32_t size = msg_record_size(body_len, r.topic_len, r.props_len, false, false);
    uint8_t *buf = malloc(size);
    msg_record_encode(buf, &r);
    message *m;
    int n;
    adm_err e;
    ck_assert_int_eq(adm_decode_messages(buf, size, &m, &n, &e), 0);
    ck_assert_int_eq(n, 1);
    free(buf);
    snprintf(m->broker_name, sizeof m->broker_name, "broker-a");
    return m;
}

START_TEST(test_message_text_body_and_properties)
{
    const char props[] = "KEYS\001order-1 order-2\002TAGS\001tagA\002UNIQ_KEY\001AC110001000018B4AAC2\002";
    message *m = make_message("héllo\nworld", 12, props);
    cJSON *o = round_trip(render_message(m));
    ck_assert_str_eq(s_at(o, "msgId"), "AC110001000018B4AAC2");
    ck_assert_str_eq(s_at(o, "offsetMsgId"), m->offset_id);
    ck_assert_str_eq(s_at(o, "topic"), "orders");
    ck_assert_str_eq(s_at(o, "broker"), "broker-a");
    ck_assert_int_eq(int_field(o, "queueId"), 3);
    ck_assert_int_eq(int_field(o, "queueOffset"), 17);
    ck_assert_int_eq(int_field(o, "storeTimestamp"), 1700000000456LL);
    ck_assert_str_eq(s_at(o, "bornHost"), "10.0.0.9:40000");
    ck_assert_str_eq(s_at(o, "storeHost"), "127.0.0.1:10911");
    ck_assert_str_eq(s_at(get(o, "properties"), "KEYS"), "order-1 order-2");
    ck_assert_str_eq(s_at(get(o, "properties"), "TAGS"), "tagA");
    ck_assert_str_eq(s_at(o, "bodyEncoding"), "text");
    ck_assert_str_eq(s_at(o, "body"), "héllo\nworld");
    ck_assert_int_eq(int_field(o, "bodySize"), 12);
    ck_assert(!bool_field(o, "bodyTruncated"));
    cJSON_Delete(o);
    free_messages(m, 1);
}
END_TEST

START_TEST(test_message_binary_body_is_hex_and_bad_utf8_replaced)
{
    const uint8_t body[] = {0x00, 0xff, 0x10, 'A'};
    message *m = make_message(body, sizeof body, "KEYS\001bad\xff\xfekey\002");
    cJSON *o = round_trip(render_message(m));
    ck_assert_str_eq(s_at(o, "bodyEncoding"), "hex");
    ck_assert_str_eq(s_at(o, "body"), "00FF1041");
    /* Each invalid byte is U+FFFD, so the page gets valid JSON. */
    ck_assert_str_eq(s_at(get(o, "properties"), "KEYS"), "bad\xEF\xBF\xBD\xEF\xBF\xBDkey");
    cJSON_Delete(o);
    free_messages(m, 1);
}
END_TEST

/* A long text body is cut before the UTF-8 character the limit would split. */
START_TEST(test_message_preview_cut_on_a_character)
{
    size_t len = CONSOLE_PREVIEW_MAX + 100;
    char *body = malloc(len);
    memset(body, 'x', len);
    memcpy(body + CONSOLE_PREVIEW_MAX - 1, "\xE2\x82\xAC", 3);   /* a euro sign across the limit */
    message *m = make_message(body, (uint32_t)len, "");
    cJSON *o = round_trip(render_message(m));
    ck_assert_str_eq(s_at(o, "bodyEncoding"), "text");
    ck_assert(bool_field(o, "bodyTruncated"));
    ck_assert_int_eq(strlen(s_at(o, "body")), CONSOLE_PREVIEW_MAX - 1);
    ck_assert_int_eq(int_field(o, "bodySize"), (int64_t)len);
    cJSON_Delete(o);
    free_messages(m, 1);
    free(body);
}
END_TEST

START_TEST(test_reset_by_broker_and_by_console)
{
    cJSON *body = parse("{\"offsetTable\":{{\"brokerName\":\"a\",\"queueId\":2,\"topic\":\"T\"}:9}}");
    mq_entry *e = NULL;
    int n = 0;
    collect_mq_entries(get(body, "offsetTable"), &e, &n);
    cJSON *o = round_trip(render_reset(e, n, NULL, 0));
    ck_assert_str_eq(s_at(o, "by"), "broker");
    ck_assert_int_eq(int_field(at(get(o, "queues"), 0), "queueId"), 2);
    ck_assert_int_eq(int_field(at(get(o, "queues"), 0), "offset"), 9);
    cJSON_Delete(o);
    free_mq_entries(e, n);
    cJSON_Delete(body);
    reset_row rows[] = {{"a", 0, 10, 8, 3, 3}, {"a", 1, 4, 4, 4, 4}};
    o = round_trip(render_reset(NULL, 0, rows, 2));
    ck_assert_str_eq(s_at(o, "by"), "console");
    ck_assert_int_eq(cJSON_GetArraySize(get(o, "queues")), 2);
    ck_assert_int_eq(int_field(at(get(o, "queues"), 0), "offset"), 3);
    ck_assert_int_eq(int_field(at(get(o, "queues"), 0), "previousOffset"), 8);
    cJSON_Delete(o);
}
END_TEST

START_TEST(test_error)
{
    adm_err e = {.code = 17};
    snprintf(e.msg, sizeof e.msg, "CODE: 17  DESC: No topic route info in name server for the topic: nope");
    cJSON *o = round_trip(render_error(&e));
    ck_assert_int_eq(int_field(o, "code"), 17);
    ck_assert_str_eq(s_at(o, "error"), e.msg);
    cJSON_Delete(o);
}
END_TEST

static Suite *console_render_suite(void)
{
    Suite *s = suite_create("console_render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_cluster_sorted_with_roles);
    tcase_add_test(tc, test_broker_status_headline_and_sorted_table);
    tcase_add_test(tc, test_topic_list_kinds);
    tcase_add_test(tc, test_topic_route_and_offsets);
    tcase_add_test(tc, test_group_lag);
    tcase_add_test(tc, test_connections_consumer_and_producer);
    tcase_add_test(tc, test_message_text_body_and_properties);
    tcase_add_test(tc, test_message_binary_body_is_hex_and_bad_utf8_replaced);
    tcase_add_test(tc, test_message_preview_cut_on_a_character);
    tcase_add_test(tc, test_reset_by_broker_and_by_console);
    tcase_add_test(tc, test_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(console_render_suite());
}
