/*
 * Route table, register body, KV store and config of the name server,
 * checked against Apache 4.9.8: bodies it answered in the golden captures,
 * iteration orders computed with Java's own HashMap/HashSet, and the
 * documented formats.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../remoting/golden.h"
#include "common/util.h"
#include "namesrv/jmap.h"
#include "namesrv/namesrv.h"
#include "../check_run.h"

#define CLUSTER "DefaultCluster"
#define MASTER_ADDR "127.0.0.1:20911"
#define SLAVE_ADDR "127.0.0.1:21911"

/* ---- golden helpers ---- */

static uint8_t *hex_body(const cJSON *line, size_t *len)
{
    const cJSON *hex = cJSON_GetObjectItem(line, "body_hex");
    const char *s = cJSON_IsString(hex) ? hex->valuestring : "";
    uint8_t *buf = xmalloc(strlen(s) / 2 + 1);
    int n = hex_decode(buf, strlen(s) / 2 + 1, s);
    *len = n > 0 ? (size_t)n : 0;
    buf[*len] = '\0';
    return buf;
}

static int num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* The first REGISTER_BROKER request of the master in broker-to-namesrv.jsonl. */
typedef struct first_register {
    uint8_t *body;
    size_t len;
} first_register;

static void find_register(cJSON *line, void *arg)
{
    first_register *fr = arg;
    if (fr->body || num(line, "code") != 103 || num(line, "flag") != 0) return;
    fr->body = hex_body(line, &fr->len);
}

/* The body of the first SUCCESS answer to GET_ROUTEINFO_BY_TOPIC for `topic`. */
typedef struct route_answer {
    const char *topic;
    int conn, opaque;   /* of the matching request, -1 until seen */
    char *body;
} route_answer;

static void find_route_answer(cJSON *line, void *arg)
{
    route_answer *ra = arg;
    if (ra->body) return;
    if (num(line, "code") == 105 && num(line, "flag") == 0) {
        const cJSON *ext = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "header"), "extFields");
        const cJSON *t = cJSON_GetObjectItem(ext, "topic");
        if (cJSON_IsString(t) && strcmp(t->valuestring, ra->topic) == 0) {
            ra->conn = num(line, "conn");
            ra->opaque = num(line, "opaque");
        }
    } else if (num(line, "req_code") == 105 && num(line, "code") == 0 && num(line, "conn") == ra->conn &&
               num(line, "opaque") == ra->opaque) {
        size_t len;
        ra->body = (char *)hex_body(line, &len);
    }
}

static char *golden_route(const char *file, const char *topic)
{
    route_answer ra = {topic, -1, -1, NULL};
    ck_assert_int_gt(golden_each(file, find_route_answer, &ra), 0);
    ck_assert_msg(ra.body != NULL, "no route answer for %s in %s", topic, file);
    return ra.body;
}

typedef struct first_answer {
    int req_code;
    char *body;
} first_answer;

static void find_answer(cJSON *line, void *arg)
{
    first_answer *fa = arg;
    if (fa->body || num(line, "req_code") != fa->req_code || num(line, "code") != 0) return;
    size_t len;
    fa->body = (char *)hex_body(line, &len);
}

/* ---- route table helpers ---- */

static topic_config topic(const char *name, int r, int w, int perm, int sys_flag)
{
    return (topic_config){(char *)name, r, w, perm, sys_flag};
}

static void reg(route_table *rt, const char *name, const char *addr, int64_t id, int64_t counter,
                const topic_config *topics, size_t n, int64_t now, register_result *out)
{
    broker_registration r = {
        .cluster_name = CLUSTER, .broker_addr = addr, .broker_name = name,
        .ha_server_addr = id == 0 ? "127.0.0.1:20912" : "127.0.0.1:21912", .broker_id = id,
        .data_version = {1700000000000, counter}, .topics = topics, .n_topics = n,
        .has_filter_servers = true,
    };
    register_result tmp;
    route_register_broker(rt, &r, now, out ? out : &tmp);
    if (!out) {
        free(tmp.ha_server_addr);
        free(tmp.master_addr);
    }
}

/* Compare a malloc'd JSON body (or NULL) with the expected text, then free it. */
#define ck_json(got, want)                                                                    \
    do {                                                                                       \
        char *g_ = (got);                                                                      \
        const char *w_ = (want);                                                               \
        if (!w_) ck_assert_msg(g_ == NULL, "expected no body, got %s", g_);                    \
        else ck_assert_msg(g_ && strcmp(g_, w_) == 0, "\n got: %s\nwant: %s", g_ ? g_ : "(null)", w_); \
        free(g_);                                                                              \
    } while (0)

static char *route(route_table *rt, const char *t, bool standard)
{
    size_t len;
    return route_topic_route_json(rt, t, NULL, standard, &len);
}

/* Whether the topic's route exists and contains NEEDLE. */
static bool route_has(route_table *rt, const char *t, bool standard, const char *needle)
{
    char *json = route(rt, t, standard);
    bool found = json && strstr(json, needle);
    free(json);
    return found;
}

#define QD(name, perm, r, sys, w) \
    "{\"brokerName\":\"" name "\",\"perm\":" #perm ",\"readQueueNums\":" #r ",\"topicSysFlag\":" #sys \
    ",\"writeQueueNums\":" #w "}"

/* ---- jmap ---- */

static char *keys_of(const jmap *m)
{
    char *s = xstrdup("");
    JMAP_FOREACH(m, e) {
        char *n = str_printf("%s%s%s", s, *s ? "," : "", e->key);
        free(s);
        s = n;
    }
    return s;
}

START_TEST(test_jmap_java_order)
{
    /* Expected orders printed by Java 17's HashMap / HashSet for the same operations. */
    jmap m;
    jmap_init(&m, 0);
    for (int i = 0; i < 40; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        jmap_put(&m, k, NULL, NULL);
    }
    ck_json(keys_of(&m), "k31,k30,k11,k33,k10,k32,k13,k35,k12,k34,k15,k37,k14,k36,k17,k39,k16,k38,k19,k18,"
                         "k0,k1,k2,k3,k20,k4,k5,k22,k6,k21,k7,k24,k8,k23,k9,k26,k25,k28,k27,k29");
    ck_assert(jmap_remove(&m, "k7", NULL));
    ck_assert(jmap_remove(&m, "k30", NULL));
    ck_assert(!jmap_remove(&m, "k30", NULL));
    ck_assert(jmap_put(&m, "k7", NULL, NULL));
    ck_json(keys_of(&m), "k31,k11,k33,k10,k32,k13,k35,k12,k34,k15,k37,k14,k36,k17,k39,k16,k38,k19,k18,"
                         "k0,k1,k2,k3,k20,k4,k5,k22,k6,k21,k24,k7,k8,k23,k9,k26,k25,k28,k27,k29");
    ck_assert_uint_eq(m.size, 39);
    jmap_clear(&m, NULL);

    /* new HashMap<>(1024), "Aa"/"BB" share a hashCode; then new HashSet<>(keySet()). */
    static const char *const topics[] = {"TBW102", "SELF_TEST_TOPIC", "BenchmarkTest", "OFFSET_MOVED_EVENT",
                                         "broker-java", "DefaultCluster", "SCHEDULE_TOPIC_XXXX",
                                         "DefaultCluster_REPLY_TOPIC", "RMQ_SYS_TRANS_HALF_TOPIC",
                                         "%RETRY%G_scc_qi1vt", "T_sc_qi1vt", "Aa", "BB"};
    jmap big, set;
    jmap_init(&big, 1024);
    jmap_init(&set, 0);
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) jmap_put(&big, topics[i], NULL, NULL);
    ck_json(keys_of(&big), "%RETRY%G_scc_qi1vt,Aa,BB,RMQ_SYS_TRANS_HALF_TOPIC,SCHEDULE_TOPIC_XXXX,"
                           "SELF_TEST_TOPIC,broker-java,TBW102,BenchmarkTest,DefaultCluster,T_sc_qi1vt,"
                           "DefaultCluster_REPLY_TOPIC,OFFSET_MOVED_EVENT");
    JMAP_FOREACH(&big, e) jmap_put(&set, e->key, NULL, NULL);
    ck_json(keys_of(&set), "Aa,BB,T_sc_qi1vt,broker-java,RMQ_SYS_TRANS_HALF_TOPIC,BenchmarkTest,"
                           "OFFSET_MOVED_EVENT,TBW102,SELF_TEST_TOPIC,DefaultCluster,SCHEDULE_TOPIC_XXXX,"
                           "%RETRY%G_scc_qi1vt,DefaultCluster_REPLY_TOPIC");
    jmap_clear(&big, NULL);
    jmap_clear(&set, NULL);

    /* HashMap<Long,String>: 1, 4, 0, 17 iterate as [0, 1, 17, 4]. */
    jmap ids;
    jmap_init_long(&ids, 0);
    jmap_put(&ids, "1", NULL, NULL);
    jmap_put(&ids, "4", NULL, NULL);
    jmap_put(&ids, "0", NULL, NULL);
    jmap_put(&ids, "17", NULL, NULL);
    ck_json(keys_of(&ids), "0,1,17,4");
    jmap_clear(&ids, NULL);
}
END_TEST

/* ---- against Apache's answers ---- */

START_TEST(test_golden_register_and_routes)
{
    first_register fr = {0};
    ck_assert_int_gt(golden_each("broker-to-namesrv.jsonl", find_register, &fr), 0);
    ck_assert_ptr_nonnull(fr.body);
    register_body body;
    char err[256];
    ck_assert_int_eq(register_body_decode(fr.body, fr.len, false, false, &body, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(body.data_version.counter, 0);
    ck_assert_int_eq(body.data_version.timestamp, 1795444502146LL);
    ck_assert_uint_eq(body.n_topics, 8);
    ck_assert_uint_eq(body.n_filter_servers, 0);
    const topic_config *tbw = NULL;
    for (size_t i = 0; i < body.n_topics; i++)
        if (strcmp(body.topics[i].topic_name, "TBW102") == 0) tbw = &body.topics[i];
    ck_assert_ptr_nonnull(tbw);
    ck_assert_int_eq(tbw->read_queue_nums, 8);
    ck_assert_int_eq(tbw->write_queue_nums, 8);
    ck_assert_int_eq(tbw->perm, 7);

    route_table *rt = route_table_new();
    broker_registration r = {
        .cluster_name = CLUSTER, .broker_addr = MASTER_ADDR, .broker_name = "broker-java",
        .ha_server_addr = "192.0.2.2:20912", .broker_id = 0, .data_version = body.data_version,
        .topics = body.topics, .n_topics = body.n_topics, .has_filter_servers = true,
    };
    register_result res;
    route_register_broker(rt, &r, 1000, &res);
    ck_assert_ptr_null(res.ha_server_addr);   /* a master learns nothing: extFields {} */
    ck_assert_ptr_null(res.master_addr);
    register_body_free(&body);
    free(fr.body);

    /* Java 4.9.8 clients (version 409) got the standard form, Go (317) the fastjson one. */
    char *want = golden_route("java-client-4.9.8.jsonl", "TBW102");
    ck_json(route(rt, "TBW102", true), want);
    free(want);
    want = golden_route("go-client-v2.jsonl", "TBW102");
    ck_json(route(rt, "TBW102", false), want);
    free(want);

    first_answer fa = {106, NULL};
    golden_each("mqadmin-4.9.8.jsonl", find_answer, &fa);
    ck_assert_ptr_nonnull(fa.body);
    size_t len;
    ck_json(route_cluster_info_json(rt, &len), fa.body);
    free(fa.body);

    /* TopicList: the HashSet Java builds from topicQueueTable.keySet() (order from Java 17). */
    ck_json(route_all_topics_json(rt, &len),
            "{\"topicList\":[\"SCHEDULE_TOPIC_XXXX\",\"broker-java\",\"DefaultCluster_REPLY_TOPIC\","
            "\"BenchmarkTest\",\"OFFSET_MOVED_EVENT\",\"TBW102\",\"SELF_TEST_TOPIC\",\"DefaultCluster\"]}");
    route_table_free(rt);
}
END_TEST

/* ---- registration rules ---- */

START_TEST(test_reregister_data_version)
{
    route_table *rt = route_table_new();
    topic_config v1[] = {topic("T", 4, 4, 6, 0)};
    topic_config v2[] = {topic("T", 8, 8, 6, 0), topic("U", 1, 1, 6, 0)};
    reg(rt, "b", MASTER_ADDR, 0, 1, v1, 1, 1000, NULL);
    /* Same dataVersion: known topics are not updated, topics new to the broker are added
     * (5.x isTopicConfigChanged: a later batch of a split registration). */
    reg(rt, "b", MASTER_ADDR, 0, 1, v2, 2, 2000, NULL);
    ck_json(route(rt, "T", false), "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"" MASTER_ADDR "\"},\"brokerName\":\"b\","
            "\"cluster\":\"" CLUSTER "\"}],\"filterServerTable\":{},\"queueDatas\":[" QD("b", 6, 4, 0, 4) "]}");
    ck_assert(route_has(rt, "U", false, "\"readQueueNums\":1"));
    /* Changed dataVersion: applied (topics only added or updated, never dropped). */
    topic_config u2[] = {topic("U", 2, 2, 6, 0)};
    reg(rt, "b", MASTER_ADDR, 0, 2, u2, 1, 3000, NULL);
    ck_json(route(rt, "U", true), "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"" MASTER_ADDR "\"},"
            "\"brokerName\":\"b\",\"cluster\":\"" CLUSTER "\"}],\"filterServerTable\":{},\"queueDatas\":["
            QD("b", 6, 2, 0, 2) "]}");
    ck_assert(route_has(rt, "T", true, "\"readQueueNums\":4"));
    route_table_free(rt);
}
END_TEST

/* The same body again (same CRC and length) from the registered broker: liveness only. */
START_TEST(test_seen_body_skips_decoding)
{
    route_table *rt = route_table_new();
    topic_config t1[] = {topic("T", 4, 4, 6, 0)};
    broker_registration r = {
        .cluster_name = CLUSTER, .broker_addr = MASTER_ADDR, .broker_name = "b", .ha_server_addr = "h:1",
        .broker_id = 0, .data_version = {1700000000000, 1}, .topics = t1, .n_topics = 1,
        .has_filter_servers = true, .body_crc32 = 0xCAFE, .body_len = 100,
    };
    register_result res;
    ck_assert(!route_register_seen_body(rt, &r, 1000, &res));   /* unknown broker */
    route_register_broker(rt, &r, 1000, &res);
    /* A second body (the next version) is remembered too. */
    broker_registration r2 = r;
    r2.data_version.counter = 2;
    r2.body_crc32 = 0xBEEF;
    route_register_broker(rt, &r2, 2000, &res);

    /* Seen: the version it carried comes back, nothing else is touched. */
    broker_registration again = {.cluster_name = CLUSTER, .broker_addr = MASTER_ADDR, .broker_name = "b",
                                 .ha_server_addr = "h:2", .broker_id = 0, .body_crc32 = 0xCAFE, .body_len = 100};
    ck_assert(route_register_seen_body(rt, &again, 3000, &res));
    data_version dv;
    ck_assert(route_broker_data_version(rt, MASTER_ADDR, &dv));
    ck_assert_int_eq(dv.counter, 1);
    ck_assert(route_has(rt, "T", false, "\"readQueueNums\":4"));
    /* Other length, other CRC, other broker id or name: decode and register. */
    again.body_len = 101;
    ck_assert(!route_register_seen_body(rt, &again, 3000, &res));
    again.body_len = 100;
    again.body_crc32 = 0xF00D;
    ck_assert(!route_register_seen_body(rt, &again, 3000, &res));
    again.body_crc32 = 0xBEEF;
    again.broker_id = 1;
    ck_assert(!route_register_seen_body(rt, &again, 3000, &res));
    again.broker_id = 0;
    again.broker_name = "c";
    ck_assert(!route_register_seen_body(rt, &again, 3000, &res));
    /* Unregistered: forgotten. */
    route_unregister_broker(rt, CLUSTER, MASTER_ADDR, "b", 0);
    again.broker_name = "b";
    ck_assert(!route_register_seen_body(rt, &again, 4000, &res));
    route_table_free(rt);
}
END_TEST

START_TEST(test_slave_registration)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("T", 4, 4, 6, 0)};
    topic_config other[] = {topic("S", 2, 2, 6, 0)};
    register_result res;
    /* A slave before its master: no master to report, topics ignored. */
    reg(rt, "b", SLAVE_ADDR, 1, 1, other, 1, 1000, &res);
    ck_assert_ptr_null(res.master_addr);
    ck_json(route(rt, "S", false), NULL);
    reg(rt, "b", MASTER_ADDR, 0, 1, t, 1, 1000, NULL);
    reg(rt, "b", SLAVE_ADDR, 1, 1, other, 1, 2000, &res);
    ck_assert_str_eq(res.master_addr, MASTER_ADDR);
    ck_assert_str_eq(res.ha_server_addr, "127.0.0.1:20912");
    free(res.master_addr);
    free(res.ha_server_addr);
    ck_json(route(rt, "S", false), NULL);
    ck_json(route(rt, "T", false), "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"" MASTER_ADDR "\",1:\"" SLAVE_ADDR
            "\"},\"brokerName\":\"b\",\"cluster\":\"" CLUSTER "\"}],\"filterServerTable\":{},\"queueDatas\":["
            QD("b", 6, 4, 0, 4) "]}");
    /* The slave's address promoted to master replaces its id-1 entry. */
    reg(rt, "b", SLAVE_ADDR, 0, 2, t, 1, 3000, NULL);
    ck_json(route(rt, "T", true), "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"" SLAVE_ADDR "\"},"
            "\"brokerName\":\"b\",\"cluster\":\"" CLUSTER "\"}],\"filterServerTable\":{},\"queueDatas\":["
            QD("b", 6, 4, 0, 4) "]}");
    route_table_free(rt);
}
END_TEST

START_TEST(test_unregister)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("T", 4, 4, 6, 0)};
    reg(rt, "b", MASTER_ADDR, 0, 1, t, 1, 1000, NULL);
    reg(rt, "b", SLAVE_ADDR, 1, 1, t, 1, 1000, NULL);
    reg(rt, "c", "127.0.0.1:30911", 0, 1, t, 1, 1000, NULL);
    size_t len;
    /* The master leaves, its slave stays: the topic keeps b's queue data. */
    route_unregister_broker(rt, CLUSTER, MASTER_ADDR, "b", 0);
    ck_json(route(rt, "T", false),
            "{\"brokerDatas\":[{\"brokerAddrs\":{1:\"" SLAVE_ADDR "\"},\"brokerName\":\"b\",\"cluster\":\""
            CLUSTER "\"},{\"brokerAddrs\":{0:\"127.0.0.1:30911\"},\"brokerName\":\"c\",\"cluster\":\"" CLUSTER
            "\"}],\"filterServerTable\":{},\"queueDatas\":[" QD("b", 6, 4, 0, 4) "," QD("c", 6, 4, 0, 4) "]}");
    route_unregister_broker(rt, CLUSTER, SLAVE_ADDR, "b", 1);
    ck_json(route_cluster_info_json(rt, &len),
            "{\"brokerAddrTable\":{\"c\":{\"brokerAddrs\":{0:\"127.0.0.1:30911\"},\"brokerName\":\"c\","
            "\"cluster\":\"" CLUSTER "\"}},\"clusterAddrTable\":{\"" CLUSTER "\":[\"c\"]}}");
    ck_assert(!route_has(rt, "T", false, "\"b\""));
    route_unregister_broker(rt, CLUSTER, "127.0.0.1:30911", "c", 0);
    ck_json(route(rt, "T", false), NULL);
    ck_json(route_cluster_info_json(rt, &len), "{\"brokerAddrTable\":{},\"clusterAddrTable\":{}}");
    route_table_free(rt);
}
END_TEST

START_TEST(test_expiry_and_channel_destroy)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("T", 4, 4, 6, 0)};
    topic_config u[] = {topic("U", 4, 4, 6, 0)};
    reg(rt, "b", MASTER_ADDR, 0, 1, t, 1, 1000, NULL);
    reg(rt, "c", "127.0.0.1:30911", 0, 1, u, 1, 5000, NULL);
    /* Not yet: a broker lives exactly `expire` ms after its last registration. */
    ck_assert_int_eq(route_scan_not_active(rt, 1000 + 120000, 120000), 0);
    ck_assert_int_eq(route_scan_not_active(rt, 1000 + 120001, 120000), 1);
    ck_json(route(rt, "T", false), NULL);
    ck_assert(route_has(rt, "U", false, "30911"));
    /* QUERY_DATA_VERSION's touch keeps a broker alive. */
    route_touch_broker(rt, "127.0.0.1:30911", 200000);
    ck_assert_int_eq(route_scan_not_active(rt, 5000 + 120001, 120000), 0);
    /* A closed channel not known as a broker's falls back to its remote address. */
    route_on_channel_destroy(rt, "10.9.9.9:1234", NULL);
    ck_assert(route_has(rt, "U", false, "30911"));
    route_on_channel_destroy(rt, "127.0.0.1:30911", NULL);
    ck_json(route(rt, "U", false), NULL);
    size_t len;
    ck_json(route_cluster_info_json(rt, &len), "{\"brokerAddrTable\":{},\"clusterAddrTable\":{}}");
    route_table_free(rt);
}
END_TEST

START_TEST(test_data_version_queries)
{
    route_table *rt = route_table_new();
    data_version dv = {.timestamp = 1700000000000, .counter = 3}, got;
    ck_assert(route_data_version_changed(rt, MASTER_ADDR, &dv));
    ck_assert(!route_broker_data_version(rt, MASTER_ADDR, &got));
    reg(rt, "b", MASTER_ADDR, 0, 3, NULL, 0, 1000, NULL);
    ck_assert(!route_data_version_changed(rt, MASTER_ADDR, &dv));
    dv.counter = 4;
    ck_assert(route_data_version_changed(rt, MASTER_ADDR, &dv));
    ck_assert(route_broker_data_version(rt, MASTER_ADDR, &got));
    ck_assert_int_eq(got.counter, 3);
    ck_assert_int_eq(got.timestamp, 1700000000000LL);
    route_table_free(rt);
}
END_TEST

START_TEST(test_delete_topic_and_write_perm)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("T", 4, 4, 6, 0), topic("V", 2, 2, 4, 0)};
    reg(rt, "b", MASTER_ADDR, 0, 1, t, 2, 1000, NULL);
    broker_registration other = {.cluster_name = "Other", .broker_addr = "127.0.0.1:30911",
                                 .broker_name = "c", .ha_server_addr = "x", .topics = t, .n_topics = 1};
    register_result res;
    route_register_broker(rt, &other, 1000, &res);

    ck_assert_int_eq(route_wipe_write_perm(rt, "b"), 2);
    ck_assert(route_has(rt, "T", false, QD("b", 4, 4, 0, 4)));
    ck_assert_int_eq(route_add_write_perm(rt, "b"), 2);
    ck_assert(route_has(rt, "V", false, QD("b", 6, 2, 0, 2)));
    ck_assert_int_eq(route_wipe_write_perm(rt, "nobody"), 0);

    /* By cluster: only that cluster's brokers lose the topic. */
    route_delete_topic(rt, "T", "Other");
    ck_json(route(rt, "T", false), "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"" MASTER_ADDR "\"},\"brokerName\":"
            "\"b\",\"cluster\":\"" CLUSTER "\"}],\"filterServerTable\":{},\"queueDatas\":[" QD("b", 6, 4, 0, 4) "]}");
    route_delete_topic(rt, "T", CLUSTER);
    ck_json(route(rt, "T", false), NULL);
    route_delete_topic(rt, "V", "");
    ck_json(route(rt, "V", false), NULL);
    route_table_free(rt);
}
END_TEST

START_TEST(test_topic_lists)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("plain", 1, 1, 6, 0), topic("unit", 1, 1, 6, NAMESRV_TOPIC_FLAG_UNIT),
                        topic("sub", 1, 1, 6, NAMESRV_TOPIC_FLAG_UNIT_SUB),
                        topic("both", 1, 1, 6, NAMESRV_TOPIC_FLAG_UNIT | NAMESRV_TOPIC_FLAG_UNIT_SUB)};
    reg(rt, "b", MASTER_ADDR, 0, 1, t, 4, 1000, NULL);
    broker_registration other = {.cluster_name = "Other", .broker_addr = "127.0.0.1:30911",
                                 .broker_name = "c", .ha_server_addr = "x", .topics = t, .n_topics = 1};
    register_result res;
    route_register_broker(rt, &other, 1000, &res);
    size_t len;
    /* Orders: a Java HashSet of these names. */
    ck_json(route_unit_topics_json(rt, UNIT_TOPICS, &len), "{\"topicList\":[\"unit\",\"both\"]}");
    ck_json(route_unit_topics_json(rt, HAS_UNIT_SUB_TOPICS, &len), "{\"topicList\":[\"sub\",\"both\"]}");
    ck_json(route_unit_topics_json(rt, HAS_UNIT_SUB_UNUNIT_TOPICS, &len), "{\"topicList\":[\"sub\"]}");
    ck_json(route_topics_by_cluster_json(rt, "Other", &len), "{\"topicList\":[\"plain\"]}");
    ck_json(route_topics_by_cluster_json(rt, "nope", &len), "{\"topicList\":[]}");
    ck_json(route_system_topics_json(rt, &len),
            "{\"brokerAddr\":\"" MASTER_ADDR "\",\"topicList\":[\"b\",\"c\",\"" CLUSTER "\",\"Other\"]}");
    route_table_free(rt);
}
END_TEST

START_TEST(test_filter_servers_and_order_conf)
{
    route_table *rt = route_table_new();
    topic_config t[] = {topic("T", 4, 4, 6, 0)};
    char *fs[] = {"127.0.0.1:40000", "127.0.0.1:40001"};
    broker_registration r = {.cluster_name = CLUSTER, .broker_addr = MASTER_ADDR, .broker_name = "b",
                             .ha_server_addr = "x", .topics = t, .n_topics = 1, .filter_servers = fs,
                             .n_filter_servers = 2, .has_filter_servers = true};
    register_result res;
    route_register_broker(rt, &r, 1000, &res);
    size_t len;
    ck_json(route_topic_route_json(rt, "T", "b:4", false, &len),
            "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"" MASTER_ADDR "\"},\"brokerName\":\"b\",\"cluster\":\""
            CLUSTER "\"}],\"filterServerTable\":{\"" MASTER_ADDR "\":[\"127.0.0.1:40000\",\"127.0.0.1:40001\"]},"
            "\"orderTopicConf\":\"b:4\",\"queueDatas\":[" QD("b", 6, 4, 0, 4) "]}");
    /* An empty list (what a 4.x broker sends) clears them; a legacy body leaves them alone. */
    r.has_filter_servers = false;
    r.n_filter_servers = 0;
    route_register_broker(rt, &r, 2000, &res);
    ck_assert(route_has(rt, "T", false, "40001"));
    r.has_filter_servers = true;
    route_register_broker(rt, &r, 3000, &res);
    ck_assert(route_has(rt, "T", false, "\"filterServerTable\":{}"));
    route_table_free(rt);
}
END_TEST

/* ---- register body forms ---- */

static void put_chunk(uint8_t **p, const char *s)
{
    put_be32(*p, (uint32_t)strlen(s));
    memcpy(*p + 4, s, strlen(s));
    *p += 4 + strlen(s);
}

static void put_count(uint8_t **p, uint32_t n)
{
    put_be32(*p, n);
    *p += 4;
}

/* RAW..END deflated as DeflaterOutputStream does (a zlib stream); malloc'd. */
static uint8_t *deflate_body(const uint8_t *raw, const uint8_t *end, size_t *len)
{
    uLongf zlen = compressBound((uLong)(end - raw));
    uint8_t *z = xmalloc(zlen);
    ck_assert_int_eq(compress2(z, &zlen, raw, (uLong)(end - raw), Z_BEST_COMPRESSION), Z_OK);
    *len = zlen;
    return z;
}

START_TEST(test_compressed_body)
{
    /* RegisterBrokerBody.encode(true), laid out by hand from the format. */
    uint8_t raw[512], *p = raw;
    put_chunk(&p, "{\"counter\":7,\"timestamp\":1795444502146}");
    put_count(&p, 2);
    put_chunk(&p, "TBW102 8 8 7 SINGLE_TAG");
    put_chunk(&p, "T_sc 4 2 6 MULTI_TAG");
    put_chunk(&p, "[\"127.0.0.1:40000\"]");
    size_t zlen;
    uint8_t *z = deflate_body(raw, p, &zlen);

    register_body b;
    char err[256];
    ck_assert_int_eq(register_body_decode(z, zlen, true, false, &b, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(b.data_version.counter, 7);
    ck_assert_int_eq(b.data_version.timestamp, 1795444502146LL);
    ck_assert_uint_eq(b.n_topics, 2);
    ck_assert_str_eq(b.topics[1].topic_name, "T_sc");
    ck_assert_int_eq(b.topics[1].read_queue_nums, 4);
    ck_assert_int_eq(b.topics[1].write_queue_nums, 2);
    ck_assert_int_eq(b.topics[1].perm, 6);
    ck_assert_uint_eq(b.n_filter_servers, 1);
    ck_assert_str_eq(b.filter_servers[0], "127.0.0.1:40000");
    register_body_free(&b);

    /* Cut short, or not zlib at all. */
    ck_assert_int_eq(register_body_decode(z, zlen - 6, true, false, &b, err, sizeof err), RMQ_ERR);
    ck_assert_int_eq(register_body_decode(raw, (size_t)(p - raw), true, false, &b, err, sizeof err), RMQ_ERR);
    free(z);
}
END_TEST

/* A name server must not be made to allocate without bound by one small frame: a body of
 * ~260 KiB of deflated zeros inflating past 256 MiB is refused, not inflated. */
START_TEST(test_compressed_body_bomb_refused)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit(&zs, Z_BEST_COMPRESSION), Z_OK);
    size_t chunk = 1 << 20, cap = 1 << 20, zlen = 0;
    uint8_t *zeros = calloc(1, chunk), *z = xmalloc(cap);
    for (int i = 0; i < 257; i++) {
        zs.next_in = zeros;
        zs.avail_in = (uInt)chunk;
        do {
            zs.next_out = z + zlen;
            zs.avail_out = (uInt)(cap - zlen);
            ck_assert_int_ne(deflate(&zs, i == 256 ? Z_FINISH : Z_NO_FLUSH), Z_STREAM_ERROR);
            zlen = cap - zs.avail_out;
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    ck_assert_uint_lt(zlen, cap);

    register_body b;
    char err[256];
    ck_assert_int_eq(register_body_decode(z, zlen, true, false, &b, err, sizeof err), RMQ_ERR);
    ck_assert(strstr(err, "inflates past") != NULL);
    free(zeros);
    free(z);
}
END_TEST

/* 5.x's TopicConfig.encode adds a separator and the attributes JSON; mappings follow the filter servers. */
START_TEST(test_compressed_body_5x)
{
    uint8_t raw[512], *p = raw;
    put_chunk(&p, "{\"counter\":3,\"stateVersion\":0,\"timestamp\":1795444502146}");
    put_count(&p, 3);
    put_chunk(&p, "T5 8 4 6 SINGLE_TAG {}");
    put_chunk(&p, "T6 2 2 4 MULTI_TAG {\"+message.type\":\"NORMAL\"}");
    put_chunk(&p, "T7 1 1 6 SINGLE_TAG ");
    put_chunk(&p, "[]");
    put_count(&p, 0);
    size_t zlen;
    uint8_t *z = deflate_body(raw, p, &zlen);
    register_body b;
    char err[256];
    ck_assert_int_eq(register_body_decode(z, zlen, true, false, &b, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(b.data_version.counter, 3);
    ck_assert_uint_eq(b.n_topics, 3);
    ck_assert_str_eq(b.topics[0].topic_name, "T5");
    ck_assert_int_eq(b.topics[0].write_queue_nums, 4);
    ck_assert_str_eq(b.topics[1].topic_name, "T6");
    ck_assert_int_eq(b.topics[1].perm, 4);
    ck_assert_str_eq(b.topics[2].topic_name, "T7");
    register_body_free(&b);
    free(z);

    /* Four fields, an empty field, an unknown filter type: refused as Java's decode fails. */
    const char *bad[] = {"T 1 1 6", "T  1 1 6 SINGLE_TAG", "T 1 1 6 NO_TAG"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = raw;
        put_chunk(&p, "{\"counter\":1,\"timestamp\":1}");
        put_count(&p, 1);
        put_chunk(&p, bad[i]);
        put_chunk(&p, "[]");
        z = deflate_body(raw, p, &zlen);
        ck_assert_msg(register_body_decode(z, zlen, true, false, &b, err, sizeof err) == RMQ_ERR, "%s", bad[i]);
        free(z);
    }
}
END_TEST

START_TEST(test_json_body_forms)
{
    register_body b;
    char err[256];
    /* No body: DataVersion 0/0, nothing to register. */
    ck_assert_int_eq(register_body_decode(NULL, 0, false, false, &b, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(b.data_version.timestamp, 0);
    ck_assert_uint_eq(b.n_topics, 0);
    /* Pre-V3_0_11: a bare TopicConfigSerializeWrapper; TopicConfig defaults for absent fields. */
    const char *legacy = "{\"dataVersion\":{\"counter\":2,\"timestamp\":5},\"topicConfigTable\":"
                         "{\"t\":{\"topicName\":\"t\"}}}";
    ck_assert_int_eq(register_body_decode((const uint8_t *)legacy, strlen(legacy), false, true, &b, err,
                                          sizeof err), RMQ_OK);
    ck_assert_int_eq(b.data_version.counter, 2);
    ck_assert_uint_eq(b.n_topics, 1);
    ck_assert_int_eq(b.topics[0].read_queue_nums, 16);
    ck_assert_int_eq(b.topics[0].write_queue_nums, 16);
    ck_assert_int_eq(b.topics[0].perm, 6);
    register_body_free(&b);
    const char *bad = "{\"topicConfigSerializeWrapper\":{\"topicConfigTable\":{\"t\":{\"perm\":6}}}}";
    ck_assert_int_eq(register_body_decode((const uint8_t *)bad, strlen(bad), false, false, &b, err, sizeof err),
                     RMQ_ERR);
    ck_assert_int_eq(register_body_decode((const uint8_t *)"{", 1, false, false, &b, err, sizeof err), RMQ_ERR);
}
END_TEST

/* ---- kv config ---- */

START_TEST(test_kv_config_roundtrip)
{
    char dir[] = "/tmp/test_kvconfig.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = str_printf("%s/kvConfig.json", dir);
    kv_config *kv = kv_config_new(path);
    char err[256];
    ck_assert_int_eq(kv_config_load(kv, err, sizeof err), RMQ_OK);   /* no file yet */
    ck_assert_int_eq(kv_config_put(kv, NAMESRV_ORDER_TOPIC_CONFIG, "T", "b:4"), RMQ_OK);
    ck_assert_int_eq(kv_config_put(kv, "ns", "k", "v1"), RMQ_OK);
    ck_assert_int_eq(kv_config_put(kv, "ns", "k", "v2"), RMQ_OK);
    ck_assert_int_eq(kv_config_put(kv, "ns", "gone", "x"), RMQ_OK);
    ck_assert_int_eq(kv_config_delete(kv, "ns", "gone"), RMQ_OK);
    ck_assert_str_eq(kv_config_get(kv, "ns", "k"), "v2");
    ck_assert_ptr_null(kv_config_get(kv, "ns", "gone"));
    ck_assert_ptr_null(kv_config_get(kv, "none", "k"));
    size_t len;
    ck_json(kv_config_namespace_json(kv, "ns", &len), "{\"table\":{\"k\":\"v2\"}}");
    ck_json(kv_config_namespace_json(kv, "none", &len), NULL);
    kv_config_free(kv);

    /* KVConfigSerializeWrapper.toJson(); HashMap order of the two namespaces. */
    char *text = read_file(path, &len);
    ck_assert_str_eq(text, "{\"configTable\":{\"ORDER_TOPIC_CONFIG\":{\"T\":\"b:4\"},\"ns\":{\"k\":\"v2\"}}}");
    free(text);

    kv = kv_config_new(path);
    ck_assert_int_eq(kv_config_load(kv, err, sizeof err), RMQ_OK);
    ck_assert_str_eq(kv_config_get(kv, NAMESRV_ORDER_TOPIC_CONFIG, "T"), "b:4");
    ck_assert_str_eq(kv_config_get(kv, "ns", "k"), "v2");
    kv_config_free(kv);

    /* A file Apache wrote, pretty or not, loads too; garbage does not. */
    const char *apache = "{\n\t\"configTable\":{\n\t\t\"GoldenNamespace\":{\n\t\t\t\"goldenKey\":\"goldenValue\"\n\t\t}\n\t}\n}";
    ck_assert_int_eq(write_file_atomic(path, apache, strlen(apache)), RMQ_OK);
    kv = kv_config_new(path);
    ck_assert_int_eq(kv_config_load(kv, err, sizeof err), RMQ_OK);
    ck_assert_str_eq(kv_config_get(kv, "GoldenNamespace", "goldenKey"), "goldenValue");
    kv_config_free(kv);

    char *cmd = str_printf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(path);
}
END_TEST

/* ---- configuration ---- */

START_TEST(test_props_parse)
{
    const char *text = "# comment\n"
                       "! also a comment\n"
                       "  listenPort = 19876\n"
                       "a:b\n"
                       "c d\n"
                       "key\\ with\\ spaces=v\\tx\\u0041\n"
                       "long = one \\\n"
                       "       two\n"
                       "empty\n"
                       "colon=x:y=z\r\n"
                       "last=1";
    props p = {0};
    props_parse(&p, text, strlen(text));
    ck_assert_uint_eq(p.n, 8);
    ck_assert_str_eq(props_get(&p, "listenPort"), "19876");
    ck_assert_str_eq(props_get(&p, "a"), "b");
    ck_assert_str_eq(props_get(&p, "c"), "d");
    ck_assert_str_eq(props_get(&p, "key with spaces"), "v\txA");
    ck_assert_str_eq(props_get(&p, "long"), "one two");
    ck_assert_str_eq(props_get(&p, "empty"), "");
    ck_assert_str_eq(props_get(&p, "colon"), "x:y=z");
    ck_assert_str_eq(props_get(&p, "last"), "1");
    props_free(&p);
}
END_TEST

START_TEST(test_config_file_update_and_format)
{
    char dir[] = "/tmp/test_nsconfig.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = str_printf("%s/namesrv.properties", dir);
    const char *text = "listenPort=19876\nkvConfigPath=/x/kv.json\norderMessageEnable=true\n"
                       "listenAddress=127.0.0.1\nbrokerChannelExpiredTime=1500\ncustomKey=1\n";
    ck_assert_int_eq(write_file_atomic(path, text, strlen(text)), RMQ_OK);

    namesrv_config cfg;
    namesrv_config_init(&cfg);
    ck_assert_int_eq(cfg.listen_port, 9876);
    ck_assert_int_eq(cfg.broker_expired_ms, 120000);
    char err[256];
    ck_assert_int_eq(namesrv_config_load_file(&cfg, path, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(cfg.listen_port, 19876);
    ck_assert_str_eq(cfg.kv_config_path, "/x/kv.json");
    ck_assert_str_eq(cfg.config_store_path, path);
    ck_assert(cfg.order_message_enable);
    ck_assert_str_eq(cfg.listen_address, "127.0.0.1");
    ck_assert_int_eq(cfg.broker_expired_ms, 1500);

    char *out = namesrv_config_format(&cfg);
    /* Apache's keys (values as in the golden GET_NAMESRV_CONFIG answer), then the file's others. */
    static const char *const lines[] = {
        "kvConfigPath=/x/kv.json\n", "productEnvName=center\n", "clusterTest=false\n",
        "orderMessageEnable=true\n", "configBlackList=configBlackList;configStorePath;kvConfigPath\n",
        "listenPort=19876\n", "serverWorkerThreads=8\n", "serverCallbackExecutorThreads=0\n",
        "serverSelectorThreads=3\n", "serverOnewaySemaphoreValue=256\n", "serverAsyncSemaphoreValue=64\n",
        "serverChannelMaxIdleTimeSeconds=120\n", "serverSocketSndBufSize=0\n", "serverSocketRcvBufSize=0\n",
        "writeBufferHighWaterMark=0\n", "writeBufferLowWaterMark=0\n", "serverSocketBacklog=1024\n",
        "serverPooledByteBufAllocatorEnable=true\n", "useEpollNativeSelector=false\n",
        "listenAddress=127.0.0.1\n", "customKey=1\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        ck_assert_msg(strstr(out, lines[i]), "missing %s in\n%s", lines[i], out);
    free(out);

    /* Black-listed keys are refused whole; others update, unknown new keys are dropped. */
    props p = {0};
    props_set(&p, "listenPort", "1");
    props_set(&p, "kvConfigPath", "/evil");
    ck_assert_int_eq(namesrv_config_update(&cfg, &p), RMQ_ERR);
    ck_assert_int_eq(cfg.listen_port, 19876);
    props_free(&p);
    props_set(&p, "orderMessageEnable", "false");
    props_set(&p, "customKey", "2");
    props_set(&p, "brandNew", "3");
    props_set(&p, "serverWorkerThreads", "many");
    ck_assert_int_eq(namesrv_config_update(&cfg, &p), RMQ_OK);
    props_free(&p);
    ck_assert(!cfg.order_message_enable);
    ck_assert_int_eq(cfg.server_worker_threads, 8);
    /* Persisted to configStorePath (the -c file, as Apache does). */
    size_t len;
    char *saved = read_file(path, &len);
    ck_assert_ptr_nonnull(strstr(saved, "orderMessageEnable=false\n"));
    ck_assert_ptr_nonnull(strstr(saved, "customKey=2\n"));
    ck_assert_ptr_null(strstr(saved, "brandNew"));
    free(saved);
    namesrv_config_free(&cfg);

    char *cmd = str_printf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(path);
}
END_TEST

START_TEST(test_stale_master_epoch_ignored)
{
    /* 5.x RouteInfoManager.registerBroker: a broker whose stateVersion (master epoch in
     * controller mode) is older than that of the address holding its id is ignored and
     * dropped from the live table; a newer one takes the id over. */
    route_table *rt = route_table_new();
    broker_registration r = {.cluster_name = CLUSTER, .broker_addr = SLAVE_ADDR, .broker_name = "b",
                             .broker_id = 0, .data_version = {.timestamp = 1, .counter = 1, .state_version = 3},
                             .has_filter_servers = true};
    register_result out;
    route_register_broker(rt, &r, 1000, &out);
    r.broker_addr = MASTER_ADDR;
    r.data_version.state_version = 2;
    route_register_broker(rt, &r, 1001, &out);
    ck_assert_ptr_null(out.master_addr);
    size_t len;
    char *cluster = route_cluster_info_json(rt, &len);
    ck_assert_ptr_nonnull(strstr(cluster, "0:\"" SLAVE_ADDR "\""));
    ck_assert_ptr_null(strstr(cluster, MASTER_ADDR));
    free(cluster);
    data_version dv;
    ck_assert(!route_broker_data_version(rt, MASTER_ADDR, &dv));
    r.data_version.state_version = 4;
    route_register_broker(rt, &r, 1002, &out);
    cluster = route_cluster_info_json(rt, &len);
    ck_assert_ptr_nonnull(strstr(cluster, "0:\"" MASTER_ADDR "\""));
    free(cluster);
    ck_assert(route_broker_data_version(rt, MASTER_ADDR, &dv));
    ck_assert_int_eq(dv.state_version, 4);
    route_table_free(rt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("namesrv_routeinfo");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jmap_java_order);
    tcase_add_test(tc, test_golden_register_and_routes);
    tcase_add_test(tc, test_reregister_data_version);
    tcase_add_test(tc, test_seen_body_skips_decoding);
    tcase_add_test(tc, test_slave_registration);
    tcase_add_test(tc, test_unregister);
    tcase_add_test(tc, test_expiry_and_channel_destroy);
    tcase_add_test(tc, test_data_version_queries);
    tcase_add_test(tc, test_stale_master_epoch_ignored);
    tcase_add_test(tc, test_delete_topic_and_write_perm);
    tcase_add_test(tc, test_topic_lists);
    tcase_add_test(tc, test_filter_servers_and_order_conf);
    tcase_add_test(tc, test_compressed_body);
    tcase_add_test(tc, test_compressed_body_5x);
    tcase_add_test(tc, test_compressed_body_bomb_refused);
    tcase_add_test(tc, test_json_body_forms);
    tcase_add_test(tc, test_kv_config_roundtrip);
    tcase_add_test(tc, test_props_parse);
    tcase_add_test(tc, test_config_file_update_and_format);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
