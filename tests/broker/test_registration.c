/*
 * Registration with the name servers (src/broker/registration.c):
 *  - the bodies: fastjson text and the compressed form, checked byte for byte
 *    against RegisterBrokerBody's documented layout;
 *  - a broker against a fake name server that records what it receives: a
 *    topic created goes out alone in an incremental registration, the table is
 *    split and compressed on request, QUERY_DATA_VERSION spares an unchanged table;
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

/* ---- a fake name server ---- */

#define MAX_SEEN 256
typedef struct seen_register {
    int code;
    bool compressed;
    int64_t counter, timestamp;
    int n_topics;
    char first_topic[64];
    char names[256];       /* ",a,b,...," of a JSON body's first topics */
    int64_t at_ms;         /* when the fake name server read it */
} seen_register;

static struct {
    pthread_mutex_t lock;
    struct event_base *base;
    rmq_server *server;
    pthread_t thread;
    seen_register seen[MAX_SEEN];
    int n_seen;
    bool answer_changed;   /* QUERY_DATA_VERSION's answer */
    int register_delay_ms; /* before answering REGISTER_BROKER */
    const char *register_body; /* REGISTER_BROKER's answer body (the ORDER_TOPIC_CONFIG KVTable) */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The topics of a REGISTER_BROKER body, JSON or compressed. */
static void parse_body(const rmq_cmd *req, seen_register *s)
{
    s->compressed = strcmp(cmd_ext_get(req, "compressed") ? cmd_ext_get(req, "compressed") : "", "true") == 0;
    if (s->compressed) {
        uLongf cap = req->body_len * 20 + 4096;
        uint8_t *raw = xmalloc(cap);
        ck_assert_int_eq(uncompress(raw, &cap, req->body, (uLong)req->body_len), Z_OK);
        uint32_t vlen = get_be32(raw);
        cJSON *v = fjson_parse((const char *)raw + 4, vlen, NULL);
        fjson_field_int64(v, "counter", &s->counter);
        fjson_field_int64(v, "timestamp", &s->timestamp);
        cJSON_Delete(v);
        s->n_topics = (int)get_be32(raw + 4 + vlen);
        if (s->n_topics > 0) {
            const char *line = (const char *)raw + 12 + vlen;
            snprintf(s->first_topic, sizeof s->first_topic, "%.*s", (int)(strchr(line, ' ') - line), line);
        }
        free(raw);
        return;
    }
    cJSON *root = fjson_parse((const char *)req->body, req->body_len, NULL);
    const cJSON *w = cJSON_GetObjectItem(root, "topicConfigSerializeWrapper");
    const cJSON *dv = cJSON_GetObjectItem(w, "dataVersion"), *table = cJSON_GetObjectItem(w, "topicConfigTable");
    fjson_field_int64(dv, "counter", &s->counter);
    fjson_field_int64(dv, "timestamp", &s->timestamp);
    s->n_topics = cJSON_GetArraySize(table);
    if (table && table->child) snprintf(s->first_topic, sizeof s->first_topic, "%s", table->child->string);
    size_t used = (size_t)snprintf(s->names, sizeof s->names, ",");
    for (const cJSON *t = table ? table->child : NULL; t && used < sizeof s->names; t = t->next)
        used += (size_t)snprintf(s->names + used, sizeof s->names - used, "%s,", t->string);
    cJSON_Delete(root);
}

static int fake_request(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    seen_register s = {.code = req->code, .at_ms = now_ms()};
    if (req->code == 103) parse_body(req, &s);
    pthread_mutex_lock(&fake.lock);
    if (fake.n_seen < MAX_SEEN) fake.seen[fake.n_seen++] = s;
    bool changed = fake.answer_changed;
    int delay = req->code == 103 ? fake.register_delay_ms : 0;
    const char *body = req->code == 103 ? fake.register_body : NULL;
    pthread_mutex_unlock(&fake.lock);
    if (delay) usleep((useconds_t)delay * 1000);   /* a slow name server: its loop waits too */
    *resp = cmd_new_response(req, 0, NULL);
    if (body) cmd_set_body(*resp, body, strlen(body));
    if (req->code == 322) cmd_ext_set_bool(*resp, "changed", changed);
    else cmd_ext_declare(*resp);
    return RMQ_OK;
}

static void *fake_loop(void *arg)
{
    event_base_dispatch(fake.base);
    return NULL;
}

static void fake_start(void)
{
    rmq_remoting_init();
    fake.base = event_base_new();
    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = "127.0.0.1";
    sc.port = 0;
    sc.name = "fake-namesrv";
    const char *err;
    fake.server = rmq_server_new(fake.base, &sc, &err);
    ck_assert_ptr_nonnull(fake.server);
    rmq_server_register(fake.server, 103, fake_request, NULL);
    rmq_server_register(fake.server, 104, fake_request, NULL);
    rmq_server_register(fake.server, 322, fake_request, NULL);
    fake.n_seen = 0;
    fake.answer_changed = true;
    fake.register_delay_ms = 0;
    fake.register_body = NULL;
    ck_assert_int_eq(pthread_create(&fake.thread, NULL, fake_loop, NULL), 0);
}

static void fake_stop(void)
{
    event_base_loopexit(fake.base, NULL);
    pthread_join(fake.thread, NULL);
    rmq_server_free(fake.server);
    event_base_free(fake.base);
}

static char *fake_arg(void)
{
    return str_printf("--namesrvAddr=127.0.0.1:%d", rmq_server_port(fake.server));
}

/* Copies of what the fake name server has seen. */
static int seen(seen_register *out)
{
    pthread_mutex_lock(&fake.lock);
    int n = fake.n_seen;
    memcpy(out, fake.seen, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&fake.lock);
    return n;
}

/* Waits (up to 5 s) until at least N frames of CODE arrived; returns how many. */
static int wait_seen(int code, int n)
{
    static seen_register s[MAX_SEEN];
    int64_t deadline = now_ms() + 5000;
    int count;
    do {
        int total = seen(s);
        count = 0;
        for (int i = 0; i < total; i++) count += s[i].code == code;
        if (count >= n) return count;
        usleep(10000);
    } while (now_ms() < deadline);
    return count;
}

/* The index (0-based) of the first REGISTER_BROKER from FROM on that carries the whole table, -1 after 5 s. */
static int wait_table_from(int from)
{
    static seen_register s[MAX_SEEN];
    int64_t deadline = now_ms() + 5000;
    do {
        int n = seen(s);
        for (int i = from; i < n; i++)
            if (s[i].code == 103 && s[i].n_topics >= 8) return i;
        usleep(10000);
    } while (now_ms() < deadline);
    return -1;
}

/* Waits (up to 5 s) for a REGISTER_BROKER carrying the whole table (>= 8 topics: the
 * system topics); returns how many REGISTER_BROKER had arrived with it. */
static int wait_full(void)
{
    int at = wait_table_from(0);
    ck_assert_msg(at >= 0, "no full registration within 5 s");
    static seen_register s[MAX_SEEN];
    seen(s);
    int count = 0;
    for (int i = 0; i <= at; i++) count += s[i].code == 103;
    return count;
}

static seen_register last_register(void)
{
    static seen_register s[MAX_SEEN];
    int n = seen(s);
    for (int i = n - 1; i >= 0; i--)
        if (s[i].code == 103) return s[i];
    ck_abort_msg("no REGISTER_BROKER seen");
    return s[0];
}

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

START_TEST(test_split_compressed_registration)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_split", ns, "--registerNameServerPeriod=600000", "--compressedRegister=true",
            "--enableSplitRegistration=true", "--splitRegistrationSize=3", NULL);
    ck_assert_int_ge(wait_seen(103, 4), 4);
    usleep(300000);   /* the rest of the batches */
    static seen_register s[MAX_SEEN];
    int n = seen(s), total = 0, batches = 0, best_total = 0, best_batches = 0;
    int64_t prev_ts = 0;
    for (int i = 0; i < n; i++) {
        /* The table's batches: each its own version, ascending, the last the table's.
         * An increment at start (the transaction topics) is a group of its own. */
        if (s[i].code != 103) continue;
        ck_assert(s[i].compressed);
        ck_assert_int_le(s[i].n_topics, 3);
        if (s[i].timestamp <= prev_ts) total = batches = 0;
        prev_ts = s[i].timestamp;
        total += s[i].n_topics;
        batches++;
        if (total > best_total) best_total = total, best_batches = batches;
    }
    ck_assert_int_ge(best_total, 8);
    ck_assert_int_eq(best_batches, (best_total + 2) / 3);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/* More than 16,000 topics without enableSplitRegistration: batches of 16,000, so that no
 * body passes the 16 MiB frame limit (a name server would close the connection). */
START_TEST(test_large_table_split_anyway)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_large", NULL);
    ck_assert_int_eq(test_proc_stop(&tb.proc, SIGTERM), 0);
    enum { N = 16100 };
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "topicConfigTable");
    fjson_begin_object(&w);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "T_large_%05d", i);
        fjson_key(&w, name);
        fjson_begin_object(&w);
        fjson_prop_string(&w, "topicName", name);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    size_t len;
    char *json = fjson_writer_finish(&w, &len);
    char *path = str_printf("%s/store/config/topics.json", tb.dir);
    ck_assert_int_eq(write_file_atomic(path, json, len), 0);
    free(path);
    free(json);
    tb.extra[0] = ns;
    tb.extra[1] = "--registerNameServerPeriod=600000";
    tb_start(&tb);

    ck_assert_int_ge(wait_seen(103, 2), 2);
    usleep(500000);
    static seen_register s[MAX_SEEN];
    int n = seen(s), total = 0, batches = 0, best_total = 0, best_batches = 0;
    int64_t prev_ts = 0;
    for (int i = 0; i < n; i++) {
        /* The table's batches carry ascending versions; an increment at start is apart. */
        if (s[i].code != 103) continue;
        ck_assert_int_le(s[i].n_topics, 16000);
        if (s[i].timestamp <= prev_ts) total = batches = 0;
        prev_ts = s[i].timestamp;
        total += s[i].n_topics;
        batches++;
        if (total > best_total) best_total = total, best_batches = batches;
    }
    ck_assert_int_ge(best_total, N);
    ck_assert_int_eq(best_batches, 2);
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

/*
 * A topic created while the whole table is on its way to a name server (answered
 * only after 1.5 s here) is held, and follows the table's answer as an increment
 * (with whatever else the start changed meanwhile), not as another whole table.
 */
START_TEST(test_change_during_a_table_follows_as_an_increment)
{
    fake_start();
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 1500;
    pthread_mutex_unlock(&fake.lock);
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_held", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();   /* read; its answer comes 1.5 s later */
    static seen_register s[MAX_SEEN];
    seen(s);
    int64_t table_read = 0;
    for (int i = 0, k = 0; i < MAX_SEEN && !table_read; i++)
        if (s[i].code == 103 && ++k == n) table_read = s[i].at_ms;
    tb_create_topic(&tb, "T_held", 4);
    ck_assert_msg(now_ms() < table_read + 1500, "created after the table was answered: nothing held");
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    seen_register inc = last_register();
    ck_assert_msg(inc.n_topics < 8, "a whole table (%d topics) instead of an increment", inc.n_topics);
    ck_assert_msg(strstr(inc.names, ",T_held,") != NULL, "T_held not in %s", inc.names);
    usleep(2000000);   /* nothing else follows: no second table */
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/*
 * While a whole table is in flight to a name server that has one already, a topic
 * that table does not carry (created after its snapshot) is sent at once, and an
 * update of a topic it does carry waits for the table's answer.
 */
START_TEST(test_topic_absent_from_the_table_in_flight_goes_at_once)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_fresh", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();
    usleep(300000);   /* anything else of the start */
    n = wait_seen(103, n);
    tb_create_topic(&tb, "T_old", 4);
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 1500;
    pthread_mutex_unlock(&fake.lock);
    /* brokerPermission changed: a whole table follows. */
    rmq_cmd *req = cmd_new_request(25);
    cmd_set_body(req, "brokerPermission=4\n", strlen("brokerPermission=4\n"));
    rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
    int table = wait_table_from(n + 1);
    ck_assert_int_ge(table, 0);
    static seen_register s[MAX_SEEN];
    seen(s);
    int64_t table_read = s[table].at_ms;
    tb_create_topic(&tb, "T_new", 4);
    tb_create_topic(&tb, "T_old", 8);
    ck_assert_msg(now_ms() < table_read + 1500, "created after the table was answered");
    ck_assert_int_ge(wait_seen(103, table + 3), table + 3);
    int total = seen(s);
    ck_assert_msg(strstr(s[table + 1].names, ",T_new,") && !strstr(s[table + 1].names, ",T_old,"),
                  "right after the table: %s", s[table + 1].names);
    bool old_after = false;
    for (int i = table + 2; i < total; i++) old_after |= s[i].code == 103 && strstr(s[i].names, ",T_old,") != NULL;
    ck_assert_msg(old_after, "the update of T_old did not follow");
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
    tcase_add_test(tc, test_split_compressed_registration);
    tcase_add_test(tc, test_large_table_split_anyway);
    tcase_add_test(tc, test_query_data_version_first);
    tcase_add_test(tc, test_change_during_a_table_follows_as_an_increment);
    tcase_add_test(tc, test_topic_absent_from_the_table_in_flight_goes_at_once);
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
