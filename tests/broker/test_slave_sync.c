/*
 * SlaveSynchronize: the apply functions fed with the master's answers Apache
 * 4.9.8 sent its slave (golden GET_ALL_TOPIC_CONFIG / GET_ALL_CONSUMER_OFFSET /
 * GET_ALL_DELAY_OFFSET / GET_ALL_SUBSCRIPTIONGROUP_CONFIG responses), and end
 * to end a master and a slave mqbroker (haMasterAddress, no name server):
 * what is created on the master reaches the slave's tables, and the messages
 * HA replicated can be pulled from the slave under the synced topic.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_client.h"
#include "../remoting/golden.h"
#include "broker/slave_sync.h"
#include "common/fjson.h"
#include "common/util.h"
#include "meta/meta.h"
#include "../check_run.h"

static const char *RUN1 = "broker-to-namesrv.jsonl";     /* a busy master: 47/48 topics, 28 groups */
static const char *RUN2 = "ha-run-broker-remoting.jsonl";

/* ---- golden bodies ---- */

typedef struct golden_pick {
    int req_code;
    const char *needle;   /* the body must contain this */
    char *body;
} golden_pick;

static void pick_cb(cJSON *line, void *arg)
{
    golden_pick *p = arg;
    const cJSON *rpc = cJSON_GetObjectItem(line, "rpc"), *req = cJSON_GetObjectItem(line, "req_code");
    const cJSON *hex = cJSON_GetObjectItem(line, "body_hex");
    if (p->body || !cJSON_IsString(rpc) || strcmp(rpc->valuestring, "response") || !cJSON_IsNumber(req) ||
        req->valueint != p->req_code || !cJSON_IsString(hex))
        return;
    size_t n = strlen(hex->valuestring) / 2;
    char *body = xcalloc(1, n + 1);
    hex_decode((uint8_t *)body, n, hex->valuestring);
    if (strstr(body, p->needle)) p->body = body;
    else free(body);
}

/* The first answer to REQ_CODE in FILE whose body contains NEEDLE (caller frees). */
static char *golden_answer(const char *file, int req_code, const char *needle)
{
    golden_pick p = {req_code, needle, NULL};
    ck_assert_int_gt(golden_each(file, pick_cb, &p), 0);
    ck_assert_msg(p.body, "%s: no answer to %d with %s", file, req_code, needle);
    return p.body;
}

/* ---- unit: applying answers ---- */

static char *dir;

static void unit_setup(void)
{
    dir = test_tmpdir("test_slave_sync");
}

static void unit_teardown(void)
{
    test_rmdir(dir);
    free(dir);
}

static topic_table *open_topics(void)
{
    topic_table_options opt;
    topic_table_options_default(&opt);
    opt.store_root = dir;
    opt.broker_name = "broker-java";
    char *err = NULL;
    topic_table *t = topic_table_open(&opt, &err);
    ck_assert_msg(t, "%s", err);
    return t;
}

static void put_topic(topic_table *t, const char *name)
{
    topic_config tc;
    topic_config_init(&tc, name);
    topic_table_put(t, &tc);
}

static bool apply_topics(topic_table *t, sync_mark *mark, const char *body)
{
    char err[256];
    bool changed;
    ck_assert_msg(slave_sync_apply_topics(t, mark, body, strlen(body), &changed, err, sizeof err) == RMQ_OK, "%s",
                  err);
    return changed;
}

START_TEST(topics_replace_the_table_when_a_version_moves)
{
    char *v40 = golden_answer(RUN1, 21, "\"counter\":40,");
    char *v41 = golden_answer(RUN1, 21, "\"counter\":41,");
    topic_table *t = open_topics();
    put_topic(t, "SlaveOnly");
    sync_mark mark = {0};

    ck_assert(apply_topics(t, &mark, v40));
    ck_assert_uint_eq(topic_table_count(t), 47);   /* the master's table, no more */
    topic_config tc;
    ck_assert(!topic_table_get(t, "SlaveOnly", &tc));
    ck_assert(topic_table_get(t, "T_rt_qi1vt", &tc));
    ck_assert_str_eq(tc.topic_name, "T_rt_qi1vt");
    ck_assert_int_eq(tc.read_queue_nums, 2);
    ck_assert_int_eq(tc.write_queue_nums, 2);
    ck_assert_int_eq(tc.perm, 6);
    ck_assert_int_eq(tc.topic_filter_type, TOPIC_FILTER_SINGLE_TAG);
    ck_assert(topic_table_get(t, "SCHEDULE_TOPIC_XXXX", &tc));
    ck_assert_int_eq(tc.read_queue_nums, 18);

    /* The same master version again: nothing to do. */
    data_version before = topic_table_data_version(t);
    ck_assert(!apply_topics(t, &mark, v40));
    ck_assert_int_eq(topic_table_data_version(t).counter, before.counter);

    /* The master moved on. */
    ck_assert(apply_topics(t, &mark, v41));
    ck_assert_uint_eq(topic_table_count(t), 48);

    /* Our own table moved: the master's copy wins again (Apache compares its own version). */
    put_topic(t, "SlaveOnly");
    ck_assert(apply_topics(t, &mark, v41));
    ck_assert(!topic_table_get(t, "SlaveOnly", &tc));
    ck_assert_uint_eq(topic_table_count(t), 48);
    topic_table_free(t);

    /* Persisted. */
    t = open_topics();
    ck_assert(topic_table_get(t, "T_rt_qi1vt", &tc));
    ck_assert(topic_table_get(t, "TopicTest", &tc));
    ck_assert(!topic_table_get(t, "SlaveOnly", &tc));
    topic_table_free(t);
    free(v40);
    free(v41);
}
END_TEST

START_TEST(topics_of_a_young_master)
{
    char *v1 = golden_answer(RUN2, 21, "\"counter\":1,");
    char *v2 = golden_answer(RUN2, 21, "\"counter\":2,");
    topic_table *t = open_topics();
    sync_mark mark = {0};
    topic_config tc;
    ck_assert(apply_topics(t, &mark, v1));
    ck_assert(!topic_table_get(t, "TopicTest", &tc));
    ck_assert(apply_topics(t, &mark, v2));
    ck_assert(topic_table_get(t, "TopicTest", &tc));
    ck_assert_int_eq(tc.read_queue_nums, 4);
    ck_assert(topic_table_get(t, "broker-java", &tc));
    ck_assert_int_eq(tc.perm, 7);
    topic_table_free(t);
    free(v1);
    free(v2);
}
END_TEST

START_TEST(malformed_topics_leave_the_table_alone)
{
    topic_table *t = open_topics();
    size_t count = topic_table_count(t);
    data_version before = topic_table_data_version(t);
    sync_mark mark = {0};
    const char *bad[] = {
        "{\"dataVersion\":{\"counter\":1,\"timestamp\":5},\"topicConfigTable\":{"
        "\"A\":{\"perm\":6,\"readQueueNums\":4,\"topicName\":\"A\",\"writeQueueNums\":4},"
        "\"B\":{\"perm\":6,\"readQueueNums\":\"many\",\"topicName\":\"B\",\"writeQueueNums\":4}}}",
        "{\"dataVersion\":{\"counter\":1,\"timestamp\":5},\"topicConfigTable\":{"
        "\"A\":{\"topicFilterType\":\"NO_SUCH\",\"topicName\":\"A\"}}}",
        "{\"topicConfigTable\":{}}",   /* no dataVersion */
        "{\"dataVersion\":{\"counter\":1,\"timestamp\":5},\"topicConfigTable\":[]}",
        "not json",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        bool changed = true;
        ck_assert_int_eq(slave_sync_apply_topics(t, &mark, bad[i], strlen(bad[i]), &changed, err, sizeof err),
                         RMQ_ERR);
        ck_assert(!changed);
        ck_assert_msg(*err, "no reason for case %zu", i);
    }
    ck_assert_uint_eq(topic_table_count(t), count);
    ck_assert_int_eq(topic_table_data_version(t).counter, before.counter);
    ck_assert(!mark.taken);
    topic_table_free(t);
}
END_TEST

START_TEST(groups_replace_the_table)
{
    char *body = golden_answer(RUN1, 201, "\"counter\":23,");
    char *err = NULL;
    subgroup_table *t = subgroup_table_open(dir, true, &err);
    ck_assert_msg(t, "%s", err);
    subscription_group_config c;
    subscription_group_config_init(&c, "SlaveOnlyGroup");
    subgroup_table_put(t, &c);
    sync_mark mark = {0};
    char why[256];
    bool changed;
    ck_assert_int_eq(slave_sync_apply_groups(t, &mark, body, strlen(body), &changed, why, sizeof why), RMQ_OK);
    ck_assert(changed);
    ck_assert_uint_eq(subgroup_table_count(t), 28);
    ck_assert(!subgroup_table_get(t, "SlaveOnlyGroup", &c));
    ck_assert(subgroup_table_get(t, "GoldenAdminCG", &c));
    ck_assert_str_eq(c.group_name, "GoldenAdminCG");
    ck_assert(c.consume_enable && c.consume_from_min_enable && c.consume_broadcast_enable);
    ck_assert_int_eq(c.retry_queue_nums, 1);
    ck_assert_int_eq(c.retry_max_times, 16);
    ck_assert_int_eq(c.broker_id, 0);
    ck_assert_int_eq(c.which_broker_when_consume_slowly, 1);
    ck_assert(subgroup_table_get(t, "", &c));   /* Apache's master really had a group named "" */
    ck_assert_int_eq(slave_sync_apply_groups(t, &mark, body, strlen(body), &changed, why, sizeof why), RMQ_OK);
    ck_assert(!changed);
    subgroup_table_free(t);

    t = subgroup_table_open(dir, true, &err);
    ck_assert(subgroup_table_get(t, "CG_go20599xmwtdcbsz", &c));
    ck_assert(!subgroup_table_get(t, "SlaveOnlyGroup", &c));
    subgroup_table_free(t);
    free(body);
}
END_TEST

START_TEST(consumer_offsets_are_taken_per_queue)
{
    char *body = golden_answer(RUN1, 43, "GoldenGoTopic");
    char *err = NULL;
    consumer_offset_table *t = consumer_offset_open(dir, &err);
    ck_assert_msg(t, "%s", err);
    consumer_offset_commit(t, "SlaveOnlyGroup", "SlaveOnlyTopic", 0, 5);
    consumer_offset_commit(t, "G_aobc_qi1vt", "T_aob_qi1vt", 2, 3);
    char why[256];
    ck_assert_int_eq(slave_sync_apply_consumer_offsets(t, body, strlen(body), why, sizeof why), RMQ_OK);
    ck_assert_int_eq(consumer_offset_query(t, "CGTX_go20599xmwtdcbsz", "GoldenGoTopic", 1), 19);
    ck_assert_int_eq(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 2), 75);
    ck_assert_int_eq(consumer_offset_query(t, "CID_RMQ_SYS_TRANS", "RMQ_SYS_TRANS_HALF_TOPIC", 0), 21);
    ck_assert_int_eq(consumer_offset_query(t, "CGTX_go20599xmwtdcbsz", "%RETRY%CGTX_go20599xmwtdcbsz", 0), 0);
    /* putAll: what only the slave has stays. */
    ck_assert_int_eq(consumer_offset_query(t, "SlaveOnlyGroup", "SlaveOnlyTopic", 0), 5);
    consumer_offset_free(t);

    t = consumer_offset_open(dir, &err);
    ck_assert_int_eq(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 2), 75);
    /* All or nothing: a bad entry after a good one commits neither. */
    const char *bad = "{\"offsetTable\":{\"T_new@G_new\":{0:3},\"T_bad@G_bad\":{x:1}}}";
    ck_assert_int_eq(slave_sync_apply_consumer_offsets(t, bad, strlen(bad), why, sizeof why), RMQ_ERR);
    ck_assert_int_eq(consumer_offset_query(t, "G_new", "T_new", 0), -1);
    const char *no_at = "{\"offsetTable\":{\"T_new\":{0:3}}}";
    ck_assert_int_eq(slave_sync_apply_consumer_offsets(t, no_at, strlen(no_at), why, sizeof why), RMQ_ERR);
    consumer_offset_free(t);
    free(body);
}
END_TEST

START_TEST(delay_offsets_are_taken_per_level)
{
    char *body = golden_answer(RUN1, 45, "{2:4,3:2}");
    char *err = NULL;
    delay_offset_table *t = delay_offset_open(dir, &err);
    ck_assert_msg(t, "%s", err);
    char why[256];
    ck_assert_int_eq(slave_sync_apply_delay_offsets(t, body, strlen(body), why, sizeof why), RMQ_OK);
    int64_t off;
    ck_assert(delay_offset_get(t, 2, &off));
    ck_assert_int_eq(off, 4);
    ck_assert(delay_offset_get(t, 3, &off));
    ck_assert_int_eq(off, 2);
    ck_assert(!delay_offset_get(t, 1, &off));
    delay_offset_free(t);
    t = delay_offset_open(dir, &err);
    ck_assert(delay_offset_get(t, 2, &off));
    ck_assert_int_eq(off, 4);
    const char *bad = "{\"offsetTable\":{5:7,6:\"x\"}}";
    ck_assert_int_eq(slave_sync_apply_delay_offsets(t, bad, strlen(bad), why, sizeof why), RMQ_ERR);
    ck_assert(!delay_offset_get(t, 5, &off));
    delay_offset_free(t);
    free(body);
}
END_TEST

/* ---- end to end ---- */

#define TOPIC "SyncTopic"
#define GROUP "SyncGroup"
#define SYNC_DEADLINE_MS 40000 /* a guard against hanging (sync runs every 10 s), not a speed check */

static test_broker master, slave;
static char *slave_master_arg;

static void e2e_setup(void)
{
    tb_init(&master, "test_sync_master", NULL);
    slave_master_arg = str_printf("--haMasterAddress=127.0.0.1:%d", master.port + 1);
    tb_init(&slave, "test_sync_slave", "--brokerRole=SLAVE", "--brokerId=1", slave_master_arg, NULL);
}

static void e2e_teardown(void)
{
    tb_done(&slave);
    tb_done(&master);
    free(slave_master_arg);
}

static char *answer_body(const test_broker *tb, int code)
{
    rmq_cmd *r = tb_call(tb, cmd_new_request(code), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    char *body = xstrndup((const char *)r->body, r->body_len);
    cmd_free(r);
    return body;
}

/* Does the table TABLE_FIELD of tb's answer to CODE have an entry NAME? */
static bool lists(const test_broker *tb, int code, const char *table_field, const char *name)
{
    char *body = answer_body(tb, code);
    cJSON *doc = fjson_parse(body, strlen(body), NULL);
    ck_assert_ptr_nonnull(doc);
    bool found = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, table_field), name) != NULL;
    cJSON_Delete(doc);
    free(body);
    return found;
}

static int64_t query_offset(const test_broker *tb, int qid)
{
    rmq_cmd *req = cmd_new_request(14);   /* QUERY_CONSUMER_OFFSET */
    cmd_ext_set(req, "consumerGroup", GROUP);
    cmd_ext_set(req, "topic", TOPIC);
    cmd_ext_set_int(req, "queueId", qid);
    rmq_cmd *r = tb_call(tb, req, BC_TIMEOUT);
    int64_t off = r->code == 0 ? tb_ext_i64(r, "offset") : -1;
    cmd_free(r);
    return off;
}

static void commit_offset(const test_broker *tb, int qid, int64_t offset)
{
    rmq_cmd *req = cmd_new_request(15);   /* UPDATE_CONSUMER_OFFSET */
    cmd_ext_set(req, "consumerGroup", GROUP);
    cmd_ext_set(req, "topic", TOPIC);
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "commitOffset", offset);
    rmq_cmd *r = tb_call(tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}

START_TEST(slave_takes_the_masters_topics_groups_and_offsets)
{
    /* Created on the master after both started: the periodic sync must bring them. */
    tb_create_topic(&master, TOPIC, 4);
    const char *group = "{\"brokerId\":0,\"consumeBroadcastEnable\":true,\"consumeEnable\":true,"
                        "\"consumeFromMinEnable\":true,\"groupName\":\"" GROUP "\","
                        "\"notifyConsumerIdsChangedEnable\":true,\"retryMaxTimes\":3,\"retryQueueNums\":1,"
                        "\"whichBrokerWhenConsumeSlowly\":1}";
    rmq_cmd *req = cmd_new_request(200);   /* UPDATE_AND_CREATE_SUBSCRIPTIONGROUP */
    cmd_set_body(req, group, strlen(group));
    rmq_cmd *r = tb_call(&master, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    commit_offset(&master, 1, 7);
    for (int i = 0; i < 5; i++) {
        char body[32];
        snprintf(body, sizeof body, "sync-%d", i);
        cmd_free(tb_send(&master, TOPIC, 0, "TAGS\001t", body));
    }

    int64_t deadline = mono_ms() + SYNC_DEADLINE_MS;
    bool topic = false, grp = false;
    int64_t off = -1;
    while (mono_ms() < deadline) {
        topic = lists(&slave, 21, "topicConfigTable", TOPIC);
        grp = lists(&slave, 201, "subscriptionGroupTable", GROUP);
        off = query_offset(&slave, 1);
        if (topic && grp && off == 7) break;
        usleep(200000);
    }
    ck_assert_msg(topic, "the slave never listed " TOPIC);
    ck_assert_msg(grp, "the slave never listed " GROUP);
    ck_assert_int_eq(off, 7);

    /* HA brought the messages: the slave serves them under the synced topic. */
    int n = 0;
    msg_record recs[32];
    rmq_cmd *p = NULL;
    while (mono_ms() < deadline) {
        p = tb_pull(&slave, GROUP, TOPIC, 0, 0, 0);
        if (p->code == 0 && (n = tb_records(p, recs, 32)) == 5) break;
        cmd_free(p);
        p = NULL;
        usleep(100000);
    }
    ck_assert_msg(p, "the slave never served the 5 messages (last count %d)", n);
    for (int i = 0; i < 5; i++) {
        char want[32];
        snprintf(want, sizeof want, "sync-%d", i);
        ck_assert_int_eq(recs[i].queue_offset, i);
        ck_assert_uint_eq(recs[i].body_len, strlen(want));
        ck_assert(memcmp(recs[i].body, want, strlen(want)) == 0);
    }
    cmd_free(p);

    /* Later commits follow on the next rounds. */
    commit_offset(&master, 1, 9);
    while (mono_ms() < deadline && (off = query_offset(&slave, 1)) != 9) usleep(200000);
    ck_assert_int_eq(off, 9);
}
END_TEST

/* Without haMasterAddress the slave learns the master from the name server's REGISTER_BROKER answer. */
static test_proc namesrv;
static char *namesrv_dir, *namesrv_arg;

static void namesrv_start(void)
{
    tb_namesrv_start(&namesrv, &namesrv_dir, "test_sync_namesrv");
    namesrv_arg = str_printf("--namesrvAddr=%s", namesrv.addr);
}

static void namesrv_setup(void)
{
    namesrv_start();
    /* Registering every second: the slave's first answer may come before the master registered. */
    tb_init(&master, "test_sync_master", namesrv_arg, "--registerNameServerPeriod=1000", NULL);
    tb_init(&slave, "test_sync_slave", "--brokerRole=SLAVE", "--brokerId=1", namesrv_arg,
            "--registerNameServerPeriod=1000", NULL);
}

static void namesrv_teardown(void)
{
    tb_done(&slave);
    tb_done(&master);
    tb_namesrv_stop(&namesrv, namesrv_dir);
    free(namesrv_arg);
}

START_TEST(slave_finds_its_master_through_the_name_server)
{
    tb_create_topic(&master, TOPIC, 4);
    cmd_free(tb_send(&master, TOPIC, 2, "TAGS\001t", "via-namesrv"));
    int64_t deadline = mono_ms() + SYNC_DEADLINE_MS;
    bool topic = false;
    while (mono_ms() < deadline && !(topic = lists(&slave, 21, "topicConfigTable", TOPIC))) usleep(200000);
    ck_assert_msg(topic, "the slave never listed " TOPIC);
    /* The name server's haServerAddr brought the message too. */
    int n = 0;
    rmq_cmd *p = NULL;
    msg_record rec;
    while (mono_ms() < deadline) {
        p = tb_pull(&slave, GROUP, TOPIC, 2, 0, 0);
        if (p->code == 0 && (n = tb_records(p, &rec, 1)) == 1) break;
        cmd_free(p);
        p = NULL;
        usleep(100000);
    }
    ck_assert_msg(p, "the slave never served the message");
    ck_assert(rec.body_len == strlen("via-namesrv") && memcmp(rec.body, "via-namesrv", rec.body_len) == 0);
    cmd_free(p);
    char *log = str_printf("%s/broker.log", slave.dir), *want = str_printf("(none) -> %s\n", master.proc.addr);
    size_t len;
    char *text = read_file(log, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, want), "the slave's log does not show it took %s from the name server", master.proc.addr);
    free(text), free(want), free(log);
}
END_TEST

/*
 * BrokerController.start registers again 10 s after start, not one
 * registerNameServerPeriod (30 s) later: a SYNC_MASTER whose slave was started
 * first answers SEND_OK to a producer within seconds of the slave's second
 * registration, instead of SLAVE_NOT_AVAILABLE for half a minute.
 */
static void slave_first_setup(void)
{
    namesrv_start();
    tb_init(&slave, "test_sync_slave", "--brokerRole=SLAVE", "--brokerId=1", namesrv_arg, NULL);
    tb_init(&master, "test_sync_master", namesrv_arg, "--brokerRole=SYNC_MASTER", NULL);
}

START_TEST(sync_master_serves_soon_after_a_slave_started_first)
{
    int64_t start = mono_ms(), deadline = start + 20000;
    tb_create_topic(&master, TOPIC, 4);
    int code = -1;
    while (mono_ms() < deadline) {
        rmq_cmd *r = tb_call(&master, tb_send_req("PG_e2e", TOPIC, 0, 0, NULL, "after-slave"), BC_TIMEOUT);
        code = r->code;
        cmd_free(r);
        if (code == 0) break;
        usleep(250000);
    }
    ck_assert_msg(code == 0, "no SEND_OK within 20 s of the master's start (last code %d)", code);
    ck_assert_msg(mono_ms() - start < 15000, "first SEND_OK after %lld ms", (long long)(mono_ms() - start));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slave_sync");
    TCase *unit = tcase_create("apply");
    tcase_add_checked_fixture(unit, unit_setup, unit_teardown);
    tcase_add_test(unit, topics_replace_the_table_when_a_version_moves);
    tcase_add_test(unit, topics_of_a_young_master);
    tcase_add_test(unit, malformed_topics_leave_the_table_alone);
    tcase_add_test(unit, groups_replace_the_table);
    tcase_add_test(unit, consumer_offsets_are_taken_per_queue);
    tcase_add_test(unit, delay_offsets_are_taken_per_level);
    suite_add_tcase(s, unit);
    TCase *e2e = tcase_create("e2e");
    tcase_add_checked_fixture(e2e, e2e_setup, e2e_teardown);
    tcase_set_timeout(e2e, 120);
    tcase_add_test(e2e, slave_takes_the_masters_topics_groups_and_offsets);
    suite_add_tcase(s, e2e);
    TCase *ns = tcase_create("e2e-namesrv");
    tcase_add_checked_fixture(ns, namesrv_setup, namesrv_teardown);
    tcase_set_timeout(ns, 120);
    tcase_add_test(ns, slave_finds_its_master_through_the_name_server);
    suite_add_tcase(s, ns);
    TCase *first = tcase_create("e2e-slave-first");
    tcase_add_checked_fixture(first, slave_first_setup, namesrv_teardown);
    tcase_set_timeout(first, 60);
    tcase_add_test(first, sync_master_serves_soon_after_a_slave_started_first);
    suite_add_tcase(s, first);
    return test_run_suite(s);
}
