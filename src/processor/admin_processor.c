/*
 * Administration requests (Apache 4.9.8 AdminBrokerProcessor, Broker2Client):
 * what mqadmin and the dashboards ask a broker — topics, subscription groups,
 * broker config, runtime info and stats, consume progress, offset reset, and
 * the calls relayed to an online consumer (GET_CONSUMER_RUNNING_INFO,
 * CONSUME_MESSAGE_DIRECTLY, GET_CONSUMER_STATUS_FROM_CLIENT), answered later
 * with RMQ_AGAIN once the client replied or timed out.
 *
 * The broker has no StoreStatsService/BrokerStats of its own, so this file
 * samples the store's counters once a second (admin_stats): the TPS windows
 * of GET_BROKER_RUNTIME_INFO, the morning totals, VIEW_BROKER_STATS_DATA.
 * Everything runs on the broker's event loop.
 */
#include <event2/event.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "broker/broker.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    GET_ALL_TOPIC_CONFIG = 21,
    UPDATE_BROKER_CONFIG = 25,
    GET_BROKER_CONFIG = 26,
    GET_BROKER_RUNTIME_INFO = 28,
    GET_ALL_CONSUMER_OFFSET = 43,
    GET_ALL_DELAY_OFFSET = 45,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201,
    GET_TOPIC_STATS_INFO = 202,
    DELETE_SUBSCRIPTIONGROUP = 207,
    GET_CONSUME_STATS = 208,
    DELETE_TOPIC_IN_BROKER = 215,
    RESET_CONSUMER_CLIENT_OFFSET = 220,
    GET_CONSUMER_STATUS_FROM_CLIENT = 221,
    INVOKE_BROKER_TO_RESET_OFFSET = 222,
    INVOKE_BROKER_TO_GET_CONSUMER_STATUS = 223,
    QUERY_TOPIC_CONSUME_BY_WHO = 300,
    QUERY_CONSUME_TIME_SPAN = 303,
    GET_SYSTEM_TOPIC_LIST_FROM_BROKER = 305,
    CLEAN_EXPIRED_CONSUMEQUEUE = 306,
    GET_CONSUMER_RUNNING_INFO = 307,
    CONSUME_MESSAGE_DIRECTLY = 309,
    CLONE_GROUP_OFFSET = 314,
    VIEW_BROKER_STATS_DATA = 315,
    CLEAN_UNUSED_TOPIC = 316,
    GET_BROKER_CONSUME_STATS = 317,
    QUERY_CONSUME_QUEUE = 321,
    QUERY_TOPICS_BY_CONSUMER = 343,   /* 5.x; cheap to serve, 4.9.8 tools never send it */
    GET_TOPIC_CONFIG = 351,           /* 5.x; the 5.x admin's consume stats read it */
};

#define RC_CONSUME_MSG_TIMEOUT 207
#define CALL_CLIENT_TIMEOUT_MS 10000   /* Broker2Client.callClient */
#define VERSION_V3_0_7_SNAPSHOT 28     /* MQVersion.Version ordinals */
#define VERSION_V3_1_8_SNAPSHOT 62
#define LANGUAGE_CPP 1
#define CQ_UNIT_SIZE 20

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- store counter sampling (StoreStatsService.sampling, BrokerStats.record) ---- */

#define SAMPLES_SEC 602   /* MAX_RECORDS_OF_SAMPLING + 1, and one being written */
#define SAMPLES_MIN 1442  /* a day of minutes, for VIEW_BROKER_STATS_DATA */

typedef struct sample {
    int64_t ms;
    int64_t put, found, miss, transferred;
} sample;

typedef struct ring {
    sample *s;
    int cap, n, head;   /* head: next slot to write */
} ring;

typedef struct admin {
    broker *b;
    struct event *tick;
    int ticks;
    ring secs, mins;
    int today;                     /* day of year of the last sample */
    int64_t put_yesterday_morning, put_today_morning;
    int64_t get_yesterday_morning, get_today_morning;
    data_version config_version;   /* Configuration.dataVersion: bumped by UPDATE_BROKER_CONFIG */
    struct admin *next;
} admin;

/* One admin state per broker, shared by its two servers; it lives as long as
 * the process (the broker has no teardown hook for processors). */
static admin *admins;

static void ring_push(ring *r, const sample *s)
{
    r->s[r->head] = *s;
    r->head = (r->head + 1) % r->cap;
    if (r->n < r->cap) r->n++;
}

/* The i-th newest sample (0 = last). */
static const sample *ring_back(const ring *r, int i)
{
    return &r->s[((r->head - 1 - i) % r->cap + r->cap) % r->cap];
}

static void take_sample(admin *a, sample *s)
{
    store_stats st;
    store_get_stats(a->b->store, &st);
    s->ms = now_ms();
    s->put = st.put_message_times_total;
    s->found = st.get_message_times_total_found;
    s->miss = st.get_message_times_total_miss;
    s->transferred = st.get_message_transfered_msg_count;
}

static int day_of(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_year * 400 + tm.tm_yday;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    admin *a = arg;
    sample s;
    take_sample(a, &s);
    ring_push(&a->secs, &s);
    if (a->ticks++ % 60 == 0) ring_push(&a->mins, &s);
    int day = day_of(s.ms);
    if (day != a->today) {   /* BrokerStats.record, run at midnight */
        a->today = day;
        a->put_yesterday_morning = a->put_today_morning;
        a->put_today_morning = s.put;
        a->get_yesterday_morning = a->get_today_morning;
        a->get_today_morning = s.transferred;
    }
}

static admin *admin_of(broker *b)
{
    for (admin *a = admins; a; a = a->next)
        if (a->b == b) return a;
    admin *a = xcalloc(1, sizeof *a);
    a->b = b;
    a->secs = (ring){xcalloc(SAMPLES_SEC, sizeof(sample)), SAMPLES_SEC, 0, 0};
    a->mins = (ring){xcalloc(SAMPLES_MIN, sizeof(sample)), SAMPLES_MIN, 0, 0};
    a->today = day_of(now_ms());
    a->config_version = (data_version){now_ms(), 0};
    a->tick = event_new(b->base, -1, EV_PERSIST, tick_cb, a);
    struct timeval tv = {1, 0};
    event_add(a->tick, &tv);
    tick_cb(-1, 0, a);
    a->next = admins;
    admins = a;
    return a;
}

typedef int64_t (*sample_field)(const sample *);
static int64_t f_put(const sample *s) { return s->put; }
static int64_t f_found(const sample *s) { return s->found; }
static int64_t f_miss(const sample *s) { return s->miss; }
static int64_t f_total(const sample *s) { return s->found + s->miss; }
static int64_t f_transferred(const sample *s) { return s->transferred; }

/* CallSnapshot.getTPS over the last `secs` seconds (or as many as were sampled). */
static double tps(const ring *r, int secs, sample_field f)
{
    if (r->n < 2) return 0.0;
    int back = secs < r->n - 1 ? secs : r->n - 1;
    const sample *last = ring_back(r, 0), *before = ring_back(r, back);
    int64_t ms = last->ms - before->ms;
    return ms > 0 ? (double)(f(last) - f(before)) * 1000.0 / (double)ms : 0.0;
}

/*
 * "tps10s tps60s tps600s". Apache leaves a window empty until it has filled
 * (and clusterList then fails to parse it); we report what was sampled so far.
 */
static void tps_triple(const admin *a, sample_field f, char *out, size_t cap)
{
    char x[3][32];
    static const int windows[3] = {10, 60, 600};
    for (int i = 0; i < 3; i++) fjson_format_double(x[i], sizeof x[i], tps(&a->secs, windows[i], f));
    snprintf(out, cap, "%s %s %s", x[0], x[1], x[2]);
}

/* ---- small helpers ---- */

static void fail(rmq_cmd *resp, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(rmq_cmd *resp, int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cmd_set_code(resp, code, buf);
}

static int decode(const rmq_cmd *req, rmq_cmd *resp, const hdr_field *f, size_t n, void *out)
{
    char err[512];
    if (cmd_decode_header(req, f, n, out, err, sizeof err) == RMQ_OK) return RMQ_OK;
    cmd_set_code(resp, RC_SYSTEM_ERROR, err);
    return RMQ_ERR;
}

/* validateSlave: topics and groups are changed on masters only. */
static bool refused_on_slave(const admin *a, rmq_cmd *resp)
{
    if (!broker_is_slave(a->b)) return false;
    cmd_set_code(resp, RC_SYSTEM_ERROR,
                 "Can't modify topic or subscription group from slave broker, please execute it from master broker.");
    return true;
}

/* A MessageQueue as a map key: {"brokerName":..,"queueId":..,"topic":..}. */
static void key_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id)
{
    fjson_writer k;
    fjson_writer_init(&k, 0);
    fjson_begin_object(&k);
    fjson_prop_string(&k, "brokerName", broker_name);
    fjson_prop_int64(&k, "queueId", queue_id);
    fjson_prop_string(&k, "topic", topic);
    fjson_end_object(&k);
    char *text = fjson_writer_finish(&k, NULL);
    fjson_key_raw(w, text);
    free(text);
}

static void write_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "brokerName", broker_name);
    fjson_prop_int64(w, "queueId", queue_id);
    fjson_prop_string(w, "topic", topic);
    fjson_end_object(w);
}

/* A parsed tree written back, object keys ({..}:v) kept as keys rather than quoted. */
static void copy_item(fjson_writer *w, const cJSON *item)
{
    if (!cJSON_IsObject(item)) {
        fjson_item(w, item);
        return;
    }
    fjson_begin_object(w);
    const cJSON *c;
    cJSON_ArrayForEach(c, item) {
        const char *k = c->string ? c->string : "";
        if (k[0] == '{') fjson_key_raw(w, k);
        else fjson_key(w, k);
        copy_item(w, c);
    }
    fjson_end_object(w);
}

static void write_string_list(fjson_writer *w, const char *name, char **items, size_t n)
{
    fjson_key(w, name);
    fjson_begin_array(w);
    for (size_t i = 0; i < n; i++) fjson_string(w, items[i]);
    fjson_end_array(w);
}

static bool list_has(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0) return true;
    return false;
}

/* The topic config, or TOPIC_NOT_EXIST "topic[x] not exist". */
static bool topic_or_fail(const admin *a, const char *topic, topic_config *tc, rmq_cmd *resp)
{
    if (topic_table_get(a->b->topics, topic, tc)) return true;
    fail(resp, RC_TOPIC_NOT_EXIST, "topic[%s] not exist", topic);
    return false;
}

/* ---- topics ---- */

typedef struct topic_header {
    const char *topic;
} topic_header;

#define F(member, type, req) {#member, type, req, offsetof(topic_header, member)}
static const hdr_field topic_field[] = {F(topic, HDR_STR, true)};
#undef F

/* TopicValidator.validateTopic + isSystemTopic, with Apache's remarks. */
static bool topic_acceptable(const admin *a, const char *topic, rmq_cmd *resp)
{
    const char *why = topic_validate(topic);
    if (why) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, why);
        return false;
    }
    if (topic_table_is_system_topic(a->b->topics, topic)) {
        fail(resp, RC_SYSTEM_ERROR, "The topic[%s] is conflict with system topic.", topic);
        return false;
    }
    return true;
}

static void delete_topic(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    topic_header h = {0};
    if (refused_on_slave(a, resp) || decode(req, resp, topic_field, 1, &h) || !topic_acceptable(a, h.topic, resp))
        return;
    topic_table_delete(a->b->topics, h.topic);
    broker_topic_deleted(a->b, h.topic);
    consumer_offset_remove_topic(a->b->offsets, h.topic);
    store_delete_topic(a->b->store, h.topic);
}

static void get_all_topic_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t len;
    char *json = topic_table_encode(a->b->topics, false, &len);
    cmd_take_body(resp, json, len);
}

/*
 * GET_TOPIC_CONFIG: TopicConfigAndQueueMapping, i.e. the TopicConfig with no mappingDetail
 * (no static topics here). The 5.x DefaultMQAdminExt.examineConsumeStats (mqadmin
 * consumerProgress) asks every broker of the route and takes only TOPIC_NOT_EXIST as "none".
 */
static void get_topic_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    topic_header h = {0};
    topic_config tc;
    if (decode(req, resp, topic_field, 1, &h)) return;
    if (!topic_table_get(a->b->topics, h.topic, &tc)) {
        fail(resp, RC_TOPIC_NOT_EXIST, "No topic in this broker. topic: %s", h.topic);
        return;
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    topic_config_write(&tc, &w);
    processor_json_body(resp, &w);
}

static void get_topic_stats_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    topic_header h = {0};
    topic_config tc;
    if (decode(req, resp, topic_field, 1, &h) || !topic_or_fail(a, h.topic, &tc, resp)) return;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "offsetTable");
    fjson_begin_object(&w);
    for (int32_t q = 0; q < tc.write_queue_nums; q++) {
        int64_t min = store_min_offset_in_queue(a->b->store, h.topic, q);
        int64_t max = store_max_offset_in_queue(a->b->store, h.topic, q);
        if (min < 0) min = 0;
        if (max < 0) max = 0;
        int64_t ts = max > 0 ? store_message_store_time(a->b->store, h.topic, q, max - 1) : 0;
        key_message_queue(&w, a->b->cfg.brokerName, h.topic, q);
        fjson_begin_object(&w);
        fjson_prop_int64(&w, "lastUpdateTimestamp", ts);
        fjson_prop_int64(&w, "maxOffset", max);
        fjson_prop_int64(&w, "minOffset", min);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

static void get_system_topic_list(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t n;
    topic_config *all = topic_table_snapshot(a->b->topics, &n);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "topicList");
    fjson_begin_array(&w);
    for (size_t i = 0; i < n; i++)
        if (topic_table_is_system_topic(a->b->topics, all[i].topic_name)) fjson_string(&w, all[i].topic_name);
    fjson_end_array(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
    free(all);
}

/* ---- subscription groups ---- */

static void update_and_create_subgroup(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    if (refused_on_slave(a, resp)) return;
    const char *err = "empty body";
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    const char *name = NULL;
    subscription_group_config c;
    if (!j || !cJSON_IsObject(j) || fjson_field_string(j, "groupName", &name) != FJSON_OK ||
        !subscription_group_config_init(&c, name)) {
        fail(resp, RC_SYSTEM_ERROR, "decode SubscriptionGroupConfig failed: %s", j ? "bad groupName" : err);
        cJSON_Delete(j);
        return;
    }
    /* Fields left out keep SubscriptionGroupConfig's defaults, as fastjson does. */
    char *why = NULL;
    if (subscription_group_config_decode(name, j, &c, &why) != RMQ_OK) {
        fail(resp, RC_SYSTEM_ERROR, "decode SubscriptionGroupConfig failed: %s", why);
        free(why);
    } else {
        subgroup_table_put(a->b->groups, &c);
        broker_group_changed(a->b, c.group_name);
    }
    cJSON_Delete(j);
}

typedef struct group_header {
    const char *groupName;
    bool removeOffset;
} group_header;

static const hdr_field delete_group_fields[] = {
    {"groupName", HDR_STR, true, offsetof(group_header, groupName)},
    {"removeOffset", HDR_BOOL, false, offsetof(group_header, removeOffset)},
};

static void delete_subgroup(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    group_header h = {0};
    if (refused_on_slave(a, resp) || decode(req, resp, delete_group_fields, N(delete_group_fields), &h)) return;
    subgroup_table_delete(a->b->groups, h.groupName);
    broker_group_changed(a->b, h.groupName);
    if (h.removeOffset) {
        consumer_offset_remove_group(a->b->offsets, h.groupName);
        consumer_offset_persist(a->b->offsets);
    }
}

static void get_all_subgroup_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t len;
    char *json = subgroup_table_encode(a->b->groups, false, &len);
    cmd_take_body(resp, json, len);
}

/* ---- broker config ---- */

/* The keys UPDATE_BROKER_CONFIG may not touch (BrokerConfig.configBlackList). */
static const char *const config_black_list[] = {"configBlackList", "brokerConfigPath"};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\f') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\f')) *--e = '\0';
    return s;
}

/*
 * MixAll.string2Properties as mqadmin sends it: "key=value" lines (also ':'
 * separators and #/! comments). Calls fn for each pair; stops at a non-OK.
 */
static int each_property(const uint8_t *body, size_t len, int (*fn)(void *, const char *, const char *), void *arg)
{
    char *text = xstrndup((const char *)body, len), *save = NULL;
    int rc = RMQ_OK;
    for (char *line = strtok_r(text, "\n", &save); line && rc == RMQ_OK; line = strtok_r(NULL, "\n", &save)) {
        line = trim(line);
        if (!*line || *line == '#' || *line == '!') continue;
        char *sep = line + strcspn(line, "=:");
        const char *value = "";
        if (*sep) {
            *sep = '\0';
            value = trim(sep + 1);
        }
        rc = fn(arg, trim(line), value);
    }
    free(text);
    return rc;
}

static int check_black_list(void *arg, const char *key, const char *value)
{
    for (size_t i = 0; i < N(config_black_list); i++)
        if (strcmp(key, config_black_list[i]) == 0) return RMQ_ERR;
    return RMQ_OK;
}

typedef struct config_update {
    admin *a;
    bool permission_changed;
    char err[256];
} config_update;

static int apply_property(void *arg, const char *key, const char *value)
{
    config_update *u = arg;
    /* Unknown keys are ignored, as properties2Object ignores them. */
    if (broker_config_set(&u->a->b->cfg, key, value, u->err, sizeof u->err) == RMQ_ERR) return RMQ_ERR;
    if (strcmp(key, "brokerPermission") == 0) u->permission_changed = true;
    if (strcmp(key, "logLevel") == 0) log_set_level((enum log_level)log_level_parse(value));
    return RMQ_OK;
}

/*
 * Applies to the running broker only: Apache also rewrites the -c file
 * (Configuration.persist), but broker_config does not remember its path, so
 * a restart goes back to the file's values.
 */
static void update_broker_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    if (!req->body_len) return;
    if (each_property(req->body, req->body_len, check_black_list, NULL)) {
        cmd_set_code(resp, RC_NO_PERMISSION, "Can not update config in black list.");
        return;
    }
    config_update u = {.a = a};
    if (each_property(req->body, req->body_len, apply_property, &u)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, u.err);
        return;
    }
    log_info("admin", "broker config updated by %s", rmq_conn_remote(conn));
    a->config_version.counter++;
    a->config_version.timestamp = now_ms();
    if (u.permission_changed) broker_request_register(a->b);
}

static void get_broker_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    char *props = broker_config_properties(&a->b->cfg);
    char ver[96];
    snprintf(ver, sizeof ver, "{\"counter\":%lld,\"timestamp\":%lld}", (long long)a->config_version.counter,
             (long long)a->config_version.timestamp);
    cmd_ext_set(resp, "version", ver);
    cmd_take_body(resp, props, strlen(props));
}

/* ---- runtime info ---- */

/* MixAll.humanReadableByteCount(bytes, false). */
static void human_bytes(int64_t bytes, char *out, size_t cap)
{
    if (bytes < 1024) {
        snprintf(out, cap, "%lld B", (long long)bytes);
        return;
    }
    int exp = (int)(log((double)bytes) / log(1024.0));
    snprintf(out, cap, "%.1f %ciB", (double)bytes / pow(1024.0, exp), "KMGTPE"[exp - 1]);
}

/* UtilAll.getDiskPartitionSpaceUsedPercent: used share rounded up to a percent; -1 if unknown. */
static double disk_used_ratio(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) || v.f_blocks == 0) return -1;
    uint64_t total = (uint64_t)v.f_blocks * v.f_frsize, used = total - (uint64_t)v.f_bfree * v.f_frsize;
    uint64_t entire = used + (uint64_t)v.f_bavail * v.f_frsize;
    if (!entire) return -1;
    uint64_t pct = used * 100 / entire + (used * 100 % entire ? 1 : 0);
    return (double)pct / 100.0;
}

static void prop_long(fjson_writer *w, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    fjson_prop_string(w, key, buf);
}

static void prop_double(fjson_writer *w, const char *key, double v)
{
    char buf[32];
    fjson_format_double(buf, sizeof buf, v);
    fjson_prop_string(w, key, buf);
}

/* DefaultMessageStore.getEarliestMessageTime: store time of the first record, -1 if none. */
static int64_t earliest_message_time(store *s)
{
    store_slice sl;
    if (store_get_record(s, store_commitlog_min_offset(s), &sl)) return -1;
    int64_t t = msg_record_store_timestamp(sl.data);
    store_slice_release(&sl);
    return t;
}

static int delay_level_count(const char *levels)
{
    int n = 0;
    for (const char *p = levels; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

static void get_broker_runtime_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    sample now;
    take_sample(a, &now);
    store_stats st;
    store_get_stats(b->store, &st);
    char buf[700], path[600];
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "table");
    fjson_begin_object(&w);

    /* AdminBrokerProcessor.prepareRuntimeInfo */
    fjson_prop_string(&w, "brokerVersionDesc", "V4_9_8");
    prop_long(&w, "brokerVersion", RMQ_OUR_VERSION);
    prop_long(&w, "msgPutTotalYesterdayMorning", a->put_yesterday_morning);
    prop_long(&w, "msgPutTotalTodayMorning", a->put_today_morning);
    prop_long(&w, "msgPutTotalTodayNow", now.put);
    prop_long(&w, "msgGetTotalYesterdayMorning", a->get_yesterday_morning);
    prop_long(&w, "msgGetTotalTodayMorning", a->get_today_morning);
    prop_long(&w, "msgGetTotalTodayNow", now.transferred);
    /* Requests are served on the event loop as they come: no thread-pool queues wait. */
    static const char *const pools[][2] = {
        {"sendThreadPoolQueue", "10000"}, {"pullThreadPoolQueue", "100000"}, {"queryThreadPoolQueue", "20000"}};
    for (size_t i = 0; i < N(pools); i++) {
        snprintf(buf, sizeof buf, "%sSize", pools[i][0]);
        fjson_prop_string(&w, buf, "0");
        snprintf(buf, sizeof buf, "%sCapacity", pools[i][0]);
        fjson_prop_string(&w, buf, pools[i][1]);
        snprintf(buf, sizeof buf, "%sHeadWaitTimeMills", pools[i][0]);
        fjson_prop_string(&w, buf, "0");
    }
    fjson_prop_string(&w, "EndTransactionQueueSize", "0");
    fjson_prop_string(&w, "EndTransactionThreadPoolQueueCapacity", "100000");
    fjson_prop_string(&w, "dispatchBehindBytes", "0");   /* dispatch happens inside store_put */
    prop_long(&w, "pageCacheLockTimeMills", 0);
    prop_long(&w, "earliestMessageTimeStamp", earliest_message_time(b->store));
    fjson_prop_string(&w, "startAcceptSendRequestTimeStamp", "0");
    fjson_prop_string(&w, "remainTransientStoreBufferNumbs", "2147483647");   /* no transient pool */
    struct statvfs v;
    if (statvfs(b->cfg.storePathRootDir, &v) == 0) {
        char total[32], free_[32];
        human_bytes((int64_t)v.f_blocks * (int64_t)v.f_frsize, total, sizeof total);
        human_bytes((int64_t)v.f_bavail * (int64_t)v.f_frsize, free_, sizeof free_);
        snprintf(buf, sizeof buf, "Total : %s, Free : %s.", total, free_);
        fjson_prop_string(&w, "commitLogDirCapacity", buf);
    }

    /* StoreStatsService.getRuntimeInfo */
    prop_long(&w, "bootTimestamp", b->boot_ms);
    int64_t up = (now.ms - b->boot_ms) / 1000;
    snprintf(buf, sizeof buf, "[ %lld days, %lld hours, %lld minutes, %lld seconds ]", (long long)(up / 86400),
             (long long)(up % 86400 / 3600), (long long)(up % 3600 / 60), (long long)(up % 60));
    fjson_prop_string(&w, "runtime", buf);
    prop_long(&w, "putMessageTimesTotal", st.put_message_times_total);
    prop_long(&w, "putMessageSizeTotal", st.put_message_size_total);
    prop_double(&w, "putMessageAverageSize",
                (double)st.put_message_size_total /
                    (double)(st.put_message_times_total ? st.put_message_times_total : 1));
    static const struct { const char *key; sample_field f; } rates[] = {
        {"putTps", f_put}, {"getFoundTps", f_found}, {"getMissTps", f_miss},
        {"getTotalTps", f_total}, {"getTransferedTps", f_transferred}};
    for (size_t i = 0; i < N(rates); i++) {
        tps_triple(a, rates[i].f, buf, sizeof buf);
        fjson_prop_string(&w, rates[i].key, buf);
    }

    /* DefaultMessageStore.getRuntimeInfo */
    prop_long(&w, "commitLogMinOffset", store_commitlog_min_offset(b->store));
    prop_long(&w, "commitLogMaxOffset", store_commitlog_max_offset(b->store));
    if (b->cfg.storePathCommitLog && *b->cfg.storePathCommitLog)
        snprintf(path, sizeof path, "%s", b->cfg.storePathCommitLog);
    else
        snprintf(path, sizeof path, "%s/commitlog", b->cfg.storePathRootDir);
    double ratio = disk_used_ratio(path);
    snprintf(buf, sizeof buf, "commitLogDiskRatio_%s", path);
    prop_double(&w, buf, ratio);
    prop_double(&w, "commitLogDiskRatio", ratio);
    snprintf(path, sizeof path, "%s/consumequeue", b->cfg.storePathRootDir);
    prop_double(&w, "consumeQueueDiskRatio", disk_used_ratio(path));
    /* ScheduleMessageService.buildRunningStats: "delayOffset,maxOffset" per level. */
    int levels = delay_level_count(b->cfg.messageDelayLevel);
    for (int level = 1; level <= levels; level++) {
        int64_t off;
        if (!delay_offset_get(b->delay_offsets, level, &off)) continue;
        char key[64];
        snprintf(key, sizeof key, "scheduleMessageOffset_%d", level);
        snprintf(buf, sizeof buf, "%lld,%lld", (long long)off,
                 (long long)store_max_offset_in_queue(b->store, TOPIC_SCHEDULE, level - 1));
        fjson_prop_string(&w, key, buf);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

/* VIEW_BROKER_STATS_DATA for the broker-wide counters BROKER_PUT_NUMS / BROKER_GET_NUMS
 * (key: the cluster name); per-topic and per-group stats are not kept. */
typedef struct stats_header {
    const char *statsName, *statsKey;
} stats_header;

static const hdr_field stats_fields[] = {
    {"statsName", HDR_STR, true, offsetof(stats_header, statsName)},
    {"statsKey", HDR_STR, true, offsetof(stats_header, statsKey)},
};

static void write_stats_item(fjson_writer *w, const char *name, const ring *r, int window, sample_field f)
{
    fjson_key(w, name);
    fjson_begin_object(w);
    int64_t sum = 0;
    double rate = 0.0;
    if (r->n >= 2) {
        int back = window < r->n - 1 ? window : r->n - 1;
        const sample *last = ring_back(r, 0), *before = ring_back(r, back);
        sum = f(last) - f(before);
        rate = last->ms > before->ms ? (double)sum * 1000.0 / (double)(last->ms - before->ms) : 0.0;
    }
    fjson_prop_double(w, "avgpt", 0.0);   /* these counters record no call times */
    fjson_prop_int64(w, "sum", sum);
    fjson_prop_double(w, "tps", rate);
    fjson_end_object(w);
}

static void view_broker_stats_data(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    stats_header h = {0};
    if (decode(req, resp, stats_fields, N(stats_fields), &h)) return;
    sample_field f = strcmp(h.statsName, "BROKER_PUT_NUMS") == 0   ? f_put
                     : strcmp(h.statsName, "BROKER_GET_NUMS") == 0 ? f_transferred
                                                                   : NULL;
    if (!f || strcmp(h.statsKey, a->b->cfg.brokerClusterName) != 0) {
        fail(resp, RC_SYSTEM_ERROR, "The stats <%s> <%s> not exist", h.statsName, h.statsKey);
        return;
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    write_stats_item(&w, "statsDay", &a->mins, 1440, f);
    write_stats_item(&w, "statsHour", &a->mins, 60, f);
    write_stats_item(&w, "statsMinute", &a->secs, 60, f);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

/* ---- consume progress ---- */

typedef struct consume_header {
    const char *consumerGroup, *topic;
    bool isOrder;
} consume_header;

static const hdr_field consume_stats_fields[] = {
    {"consumerGroup", HDR_STR, true, offsetof(consume_header, consumerGroup)},
    {"topic", HDR_STR, false, offsetof(consume_header, topic)},
};
static const hdr_field broker_consume_stats_fields[] = {{"isOrder", HDR_BOOL, true, offsetof(consume_header, isOrder)}};

/* A topic whose stats are skipped: the group is online but does not subscribe to it. */
static bool unsubscribed_online(const admin *a, const char *group, const char *topic)
{
    const consumer_group *g = clients_consumer_group(a->b->clients, group);
    return g && g->n_subs > 0 && !consumer_group_subscription(g, topic);
}

/* OffsetWrapper entries of one topic into an open offsetTable; returns the total lag. */
static int64_t write_offset_entries(const admin *a, fjson_writer *w, const char *group, const char *topic,
                                    int32_t queues)
{
    int64_t diff = 0;
    for (int32_t q = 0; q < queues; q++) {
        int64_t broker_off = store_max_offset_in_queue(a->b->store, topic, q);
        int64_t consumer_off = consumer_offset_query(a->b->offsets, group, topic, q);
        if (broker_off < 0) broker_off = 0;
        if (consumer_off < 0) consumer_off = 0;
        int64_t last = consumer_off > 0 ? store_message_store_time(a->b->store, topic, q, consumer_off - 1) : 0;
        diff += broker_off - consumer_off;
        key_message_queue(w, a->b->cfg.brokerName, topic, q);
        fjson_begin_object(w);
        fjson_prop_int64(w, "brokerOffset", broker_off);
        fjson_prop_int64(w, "consumerOffset", consumer_off);
        fjson_prop_int64(w, "lastTimestamp", last > 0 ? last : 0);
        fjson_end_object(w);
    }
    return diff;
}

/* ConsumeStats head: per-group get rates are not measured, consumeTps stays 0. */
static void begin_consume_stats(fjson_writer *w)
{
    fjson_begin_object(w);
    fjson_prop_double(w, "consumeTps", 0.0);
    fjson_key(w, "offsetTable");
    fjson_begin_object(w);
}

static void end_consume_stats(fjson_writer *w)
{
    fjson_end_object(w);
    fjson_end_object(w);
}

/* One ConsumeStats for the group: the header topic, or every topic it has offsets on. */
static void get_consume_stats(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    consume_header h = {0};
    if (decode(req, resp, consume_stats_fields, N(consume_stats_fields), &h)) return;
    char *one[2] = {(char *)h.topic, NULL};
    char **topics = h.topic && *h.topic ? one : consumer_offset_topics_of_group(a->b->offsets, h.consumerGroup);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    begin_consume_stats(&w);
    for (char **t = topics; *t; t++) {
        topic_config tc;
        if (topic_table_get(a->b->topics, *t, &tc) && !unsubscribed_online(a, h.consumerGroup, *t))
            write_offset_entries(a, &w, h.consumerGroup, *t, tc.read_queue_nums);
    }
    end_consume_stats(&w);
    processor_json_body(resp, &w);
    if (topics != one) meta_names_free(topics);
}

static void get_broker_consume_stats(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    consume_header h = {0};
    if (decode(req, resp, broker_consume_stats_fields, N(broker_consume_stats_fields), &h)) return;
    size_t n_groups;
    subscription_group_config *groups = subgroup_table_snapshot(a->b->groups, &n_groups);
    int64_t total_diff = 0;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_string(&w, "brokerAddr", a->b->addr);
    fjson_key(&w, "consumeStatsList");
    fjson_begin_array(&w);
    for (size_t i = 0; i < n_groups; i++) {
        const char *group = groups[i].group_name;
        char **topics = consumer_offset_topics_of_group(a->b->offsets, group);
        fjson_begin_object(&w);
        fjson_key(&w, group);
        fjson_begin_array(&w);
        for (char **t = topics; *t; t++) {
            topic_config tc;
            if (!topic_table_get(a->b->topics, *t, &tc) || (h.isOrder && !tc.order) ||
                unsubscribed_online(a, group, *t))
                continue;
            begin_consume_stats(&w);
            total_diff += write_offset_entries(a, &w, group, *t, tc.write_queue_nums);
            end_consume_stats(&w);
        }
        fjson_end_array(&w);
        fjson_end_object(&w);
        meta_names_free(topics);
    }
    fjson_end_array(&w);
    fjson_prop_int64(&w, "totalDiff", total_diff);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
    free(groups);
}

static void query_topic_consume_by_who(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    topic_header h = {0};
    if (decode(req, resp, topic_field, 1, &h)) return;
    size_t n_online;
    const char **online = clients_groups_by_topic(a->b->clients, h.topic, &n_online);
    char **stored = consumer_offset_groups_of_topic(a->b->offsets, h.topic);
    size_t n_stored = 0;
    while (stored[n_stored]) n_stored++;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "groupList");
    fjson_begin_array(&w);
    for (size_t i = 0; i < n_online; i++)
        if (!list_has(stored, n_stored, online[i])) fjson_string(&w, online[i]);
    for (size_t i = 0; i < n_stored; i++) fjson_string(&w, stored[i]);
    fjson_end_array(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
    free(online);
    meta_names_free(stored);
}

typedef struct by_consumer_header {
    const char *group;
} by_consumer_header;

static const hdr_field by_consumer_fields[] = {{"group", HDR_STR, true, offsetof(by_consumer_header, group)}};

static void query_topics_by_consumer(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    by_consumer_header h = {0};
    if (decode(req, resp, by_consumer_fields, 1, &h)) return;
    char **topics = consumer_offset_topics_of_group(a->b->offsets, h.group);
    size_t n = 0;
    while (topics[n]) n++;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_string(&w, "brokerAddr", a->b->addr);
    write_string_list(&w, "topicList", topics, n);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
    meta_names_free(topics);
}

typedef struct span_header {
    const char *topic, *group;
} span_header;

static const hdr_field span_fields[] = {
    {"topic", HDR_STR, true, offsetof(span_header, topic)},
    {"group", HDR_STR, true, offsetof(span_header, group)},
};

static void query_consume_time_span(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    span_header h = {0};
    topic_config tc;
    if (decode(req, resp, span_fields, N(span_fields), &h) || !topic_or_fail(a, h.topic, &tc, resp)) return;
    store *s = a->b->store;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "consumeTimeSpanSet");
    fjson_begin_array(&w);
    for (int32_t q = 0; q < tc.write_queue_nums; q++) {
        int64_t min_time = store_earliest_message_time(s, h.topic, q);
        int64_t max = store_max_offset_in_queue(s, h.topic, q);
        int64_t max_time = store_message_store_time(s, h.topic, q, max - 1);
        int64_t consumer_off = consumer_offset_query(a->b->offsets, h.group, h.topic, q);
        int64_t consume_time = consumer_off > 0 ? store_message_store_time(s, h.topic, q, consumer_off - 1) : min_time;
        int64_t delay = consumer_off < max ? now_ms() - store_message_store_time(s, h.topic, q, consumer_off) : 0;
        fjson_begin_object(&w);
        fjson_prop_int64(&w, "consumeTimeStamp", consume_time);
        fjson_prop_int64(&w, "delayTime", delay);
        fjson_prop_int64(&w, "maxTimeStamp", max_time);
        fjson_key(&w, "messageQueue");
        write_message_queue(&w, a->b->cfg.brokerName, h.topic, q);
        fjson_prop_int64(&w, "minTimeStamp", min_time);
        fjson_end_object(&w);
    }
    fjson_end_array(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

typedef struct clone_header {
    const char *srcGroup, *destGroup, *topic;
    bool offline;
} clone_header;

static const hdr_field clone_fields[] = {
    {"srcGroup", HDR_STR, true, offsetof(clone_header, srcGroup)},
    {"destGroup", HDR_STR, true, offsetof(clone_header, destGroup)},
    {"topic", HDR_STR, false, offsetof(clone_header, topic)},
    {"offline", HDR_BOOL, true, offsetof(clone_header, offline)},
};

/* Apache clones `requestHeader.getTopic()` inside its loop, which copies nothing
 * when the topic is left out; we clone each topic the loop selected. */
static void clone_group_offset(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    clone_header h = {0};
    if (decode(req, resp, clone_fields, N(clone_fields), &h)) return;
    char *one[2] = {(char *)h.topic, NULL};
    char **topics = h.topic && *h.topic ? one : consumer_offset_topics_of_group(a->b->offsets, h.srcGroup);
    for (char **t = topics; *t; t++) {
        topic_config tc;
        if (!topic_table_get(a->b->topics, *t, &tc) || (!h.offline && unsubscribed_online(a, h.srcGroup, *t)))
            continue;
        consumer_offset_clone(a->b->offsets, h.srcGroup, h.destGroup, *t);
    }
    consumer_offset_persist(a->b->offsets);
    if (topics != one) meta_names_free(topics);
}

/* ---- consume queues ---- */

static void clean_expired_consume_queue(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    log_warn("admin", "invoke cleanExpiredConsumeQueue by %s", rmq_conn_remote(conn));
    store_clean_expired_consume_queues(a->b->store);
}

typedef struct queue_walk {
    admin *a;
    const char *topic;    /* find: the queue looked for */
    int32_t queue_id;
    bool found;
    char **unused;        /* collect: topics with queues but no config */
    size_t n_unused;
} queue_walk;

static void collect_unused(void *arg, const char *topic, int32_t queue_id)
{
    queue_walk *qw = arg;
    topic_config tc;
    if (strcmp(topic, TOPIC_SCHEDULE) == 0 || strcmp(topic, TOPIC_TRANS_OP_HALF) == 0 ||
        topic_table_get(qw->a->b->topics, topic, &tc) || list_has(qw->unused, qw->n_unused, topic))
        return;
    qw->unused = xrealloc(qw->unused, (qw->n_unused + 1) * sizeof *qw->unused);
    qw->unused[qw->n_unused++] = xstrdup(topic);
}

/* DefaultMessageStore.cleanUnusedTopic: drop the consume queues of topics no longer configured. */
static void clean_unused_topic(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    queue_walk qw = {.a = a};
    store_foreach_queue(a->b->store, collect_unused, &qw);
    for (size_t i = 0; i < qw.n_unused; i++) {
        log_warn("admin", "cleanUnusedTopic: %s", qw.unused[i]);
        store_delete_topic(a->b->store, qw.unused[i]);
        free(qw.unused[i]);
    }
    free(qw.unused);
}

static void find_queue(void *arg, const char *topic, int32_t queue_id)
{
    queue_walk *qw = arg;
    if (queue_id == qw->queue_id && strcmp(topic, qw->topic) == 0) qw->found = true;
}

typedef struct cq_header {
    const char *topic, *consumerGroup;
    int32_t queueId, count;
    int64_t index;
} cq_header;

static const hdr_field cq_fields[] = {
    {"topic", HDR_STR, true, offsetof(cq_header, topic)},
    {"queueId", HDR_I32, true, offsetof(cq_header, queueId)},
    {"index", HDR_I64, true, offsetof(cq_header, index)},
    {"count", HDR_I32, true, offsetof(cq_header, count)},
    {"consumerGroup", HDR_STR, false, offsetof(cq_header, consumerGroup)},
};

/*
 * QUERY_CONSUME_QUEUE: the consume-queue units from `index`. The store has no
 * raw consume-queue reader, so each unit is rebuilt from the record it points
 * to (commit-log offset, size, and the tags hash the dispatcher wrote).
 */
static void query_consume_queue(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    cq_header h = {0};
    if (decode(req, resp, cq_fields, N(cq_fields), &h)) return;
    queue_walk qw = {.a = a, .topic = h.topic, .queue_id = h.queueId};
    store_foreach_queue(a->b->store, find_queue, &qw);
    if (!qw.found) {
        fail(resp, RC_SYSTEM_ERROR, "%d@%s is not exist!", h.queueId, h.topic);
        return;
    }
    int64_t min = store_min_offset_in_queue(a->b->store, h.topic, h.queueId);
    int64_t max = store_max_offset_in_queue(a->b->store, h.topic, h.queueId);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    const subscription_data *sd = NULL;
    if (h.consumerGroup) {
        const consumer_group *g = clients_consumer_group(a->b->clients, h.consumerGroup);
        sd = g ? consumer_group_subscription(g, h.topic) : NULL;
        /* TAG subscriptions have no ConsumerFilterData: Apache writes JSON.toJSONString(null). */
        char fd[META_NAME_MAX * 2 + 32] = "null";
        if (!sd) snprintf(fd, sizeof fd, "%s@%s is not online!", h.consumerGroup, h.topic);
        fjson_prop_string(&w, "filterData", fd);
    }
    fjson_prop_int64(&w, "maxQueueIndex", max);
    fjson_prop_int64(&w, "minQueueIndex", min);
    if (h.index < min || h.index >= max) {
        cmd_set_remark(resp, "Index %lld of %d@%s is not exist!", (long long)h.index, h.queueId, h.topic);
    } else {
        fjson_key(&w, "queueData");
        fjson_begin_array(&w);
        for (int64_t i = h.index; i < max && i < h.index + h.count; i++) {
            store_get_result r;
            if (store_get_messages(a->b->store, NULL, h.topic, h.queueId, i, 1, NULL, &r)) break;
            if (r.status == STORE_GET_FOUND && r.count == 1) {
                msg_record rec;
                const char *why;
                int64_t tags_code = 0;
                const char *tags;
                size_t tags_len;
                if (msg_record_decode(r.msgs[0].data, r.msgs[0].len, &rec, &why) == RMQ_OK &&
                    msg_props_find(rec.props, rec.props_len, MSG_PROP_TAGS, &tags, &tags_len))
                    tags_code = msg_tags_code(tags, tags_len);
                fjson_begin_object(&w);
                fjson_prop_bool(&w, "eval", false);
                fjson_prop_int64(&w, "physicOffset", r.msgs[0].phys_offset);
                fjson_prop_int64(&w, "physicSize", r.msgs[0].len);
                fjson_prop_int64(&w, "tagsCode", tags_code);
                fjson_end_object(&w);
            }
            store_get_result_release(&r);
        }
        fjson_end_array(&w);
    }
    if (sd) {
        fjson_key(&w, "subscriptionData");
        subscription_write_json(&w, sd);
    }
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

/* ---- calls to consumers ---- */

/*
 * One request from an admin tool waiting on consumers: the original request
 * (owned since RMQ_AGAIN), its connection (held), and the answers gathered
 * so far when several clients are asked (GET_CONSUMER_STATUS_FROM_CLIENT).
 */
typedef struct relay {
    admin *a;
    rmq_conn *conn;
    rmq_cmd *req;
    char *group, *client_id;
    int outstanding;
    fjson_writer table;   /* consumerTable entries (consumer status) */
} relay;

static relay *relay_new(admin *a, rmq_conn *conn, rmq_cmd *req, const char *group, const char *client_id)
{
    relay *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->conn = conn;
    r->req = req;
    r->group = xstrdup(group);
    r->client_id = xstrdup(client_id ? client_id : "");
    rmq_conn_hold(conn);
    return r;
}

static void relay_finish(relay *r, rmq_cmd *resp)
{
    rmq_conn_reply(r->conn, resp);
    rmq_conn_release(r->conn);
    cmd_free(r->req);
    free(r->group);
    free(r->client_id);
    free(r);
}

/* Broker2Client.callClient's answer: the client's response, or why there is none. */
static void call_client_done(rmq_cmd *client_resp, const char *err, void *arg)
{
    relay *r = arg;
    rmq_cmd *resp = cmd_new_response(r->req, RC_SUCCESS, NULL);
    if (!client_resp) {
        if (strstr(err, "timed out"))
            fail(resp, RC_CONSUME_MSG_TIMEOUT, "consumer <%s> <%s> Timeout: %s", r->group, r->client_id, err);
        else
            fail(resp, RC_SYSTEM_ERROR, "invoke consumer <%s> <%s> Exception: %s", r->group, r->client_id, err);
    } else {
        cmd_set_code(resp, client_resp->code, client_resp->remark);
        for (int i = 0; i < client_resp->n_ext; i++)
            cmd_ext_set(resp, client_resp->ext[i].key, client_resp->ext[i].val);
        if (client_resp->body_len) cmd_set_body(resp, client_resp->body, client_resp->body_len);
        cmd_free(client_resp);
    }
    relay_finish(r, resp);
}

/* callConsumer: forward the request's fields and body to the client's connection. */
static int call_consumer(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp, const char *group,
                         const char *client_id, const uint8_t *body, size_t body_len)
{
    const consumer_group *g = clients_consumer_group(a->b->clients, group);
    const client_channel *ch = g && client_id ? consumer_group_channel(g, client_id) : NULL;
    if (!ch) {
        fail(resp, RC_SYSTEM_ERROR, "The Consumer <%s> <%s> not online", group, client_id ? client_id : "null");
        return RMQ_OK;
    }
    if (ch->version < VERSION_V3_1_8_SNAPSHOT) {
        fail(resp, RC_SYSTEM_ERROR,
             "The Consumer <%s> Version <%d> too low to finish, please upgrade it to V3_1_8_SNAPSHOT", client_id,
             ch->version);
        return RMQ_OK;
    }
    rmq_cmd *call = cmd_new_request(req->code);
    for (int i = 0; i < req->n_ext; i++) cmd_ext_set(call, req->ext[i].key, req->ext[i].val);
    if (req->code == CONSUME_MESSAGE_DIRECTLY) cmd_ext_set(call, "brokerName", a->b->cfg.brokerName);
    if (body_len) cmd_set_body(call, body, body_len);
    relay *r = relay_new(a, conn, req, group, client_id);
    rmq_conn_request(ch->conn, call, CALL_CLIENT_TIMEOUT_MS, call_client_done, r);
    return RMQ_AGAIN;
}

typedef struct running_header {
    const char *consumerGroup, *clientId, *msgId;
} running_header;

static const hdr_field running_fields[] = {
    {"consumerGroup", HDR_STR, true, offsetof(running_header, consumerGroup)},
    {"clientId", HDR_STR, true, offsetof(running_header, clientId)},
};
static const hdr_field directly_fields[] = {
    {"consumerGroup", HDR_STR, true, offsetof(running_header, consumerGroup)},
    {"clientId", HDR_STR, false, offsetof(running_header, clientId)},
    {"msgId", HDR_STR, false, offsetof(running_header, msgId)},
};

static int get_consumer_running_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    running_header h = {0};
    if (decode(req, resp, running_fields, N(running_fields), &h)) return RMQ_OK;
    return call_consumer(a, conn, req, resp, h.consumerGroup, h.clientId, req->body, req->body_len);
}

/* The client consumes the stored record of the offset msgId it is sent. */
static int consume_message_directly(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    running_header h = {0};
    if (decode(req, resp, directly_fields, N(directly_fields), &h)) return RMQ_OK;
    msg_host host;
    int64_t offset;
    store_slice sl;
    if (!h.msgId || msg_offset_id_decode(h.msgId, &host, &offset)) {
        fail(resp, RC_SYSTEM_ERROR, "the msgId <%s> is not an offset message id", h.msgId ? h.msgId : "null");
        return RMQ_OK;
    }
    if (store_get_record(a->b->store, offset, &sl)) {
        fail(resp, RC_SYSTEM_ERROR, "can not find message by the offset, %lld", (long long)offset);
        return RMQ_OK;
    }
    int rc = call_consumer(a, conn, req, resp, h.consumerGroup, h.clientId, sl.data, sl.len);
    store_slice_release(&sl);
    return rc;
}

typedef struct status_header {
    const char *topic, *group, *clientAddr;
    int64_t timestamp;
    bool isForce;
} status_header;

static const hdr_field status_fields[] = {
    {"topic", HDR_STR, true, offsetof(status_header, topic)},
    {"group", HDR_STR, true, offsetof(status_header, group)},
    {"clientAddr", HDR_STR, false, offsetof(status_header, clientAddr)},
};
static const hdr_field reset_fields[] = {
    {"topic", HDR_STR, true, offsetof(status_header, topic)},
    {"group", HDR_STR, true, offsetof(status_header, group)},
    {"timestamp", HDR_I64, true, offsetof(status_header, timestamp)},
    {"isForce", HDR_BOOL, true, offsetof(status_header, isForce)},
};

static void consumer_status_reply(relay *r)
{
    fjson_writer *w = &r->table;
    fjson_end_object(w);
    fjson_key(w, "messageQueueTable");
    fjson_begin_object(w);
    fjson_end_object(w);
    fjson_end_object(w);
    rmq_cmd *resp = cmd_new_response(r->req, RC_SUCCESS, NULL);
    processor_json_body(resp, w);
    relay_finish(r, resp);
}

/* One client's GetConsumerStatusBody: its messageQueueTable goes under its client id. */
static void consumer_status_done(rmq_cmd *client_resp, const char *err, void *arg)
{
    void **pair = arg;
    relay *r = pair[0];
    char *client_id = pair[1];
    free(pair);
    cJSON *j = client_resp && client_resp->code == RC_SUCCESS && client_resp->body_len
                   ? fjson_parse((const char *)client_resp->body, client_resp->body_len, NULL)
                   : NULL;
    const cJSON *table = j ? cJSON_GetObjectItemCaseSensitive(j, "messageQueueTable") : NULL;
    if (table && cJSON_IsObject(table)) {
        fjson_key(&r->table, client_id);
        copy_item(&r->table, table);
    } else if (!client_resp) {
        log_warn("admin", "get consumer status of %s failed: %s", client_id, err);
    }
    cJSON_Delete(j);
    cmd_free(client_resp);
    free(client_id);
    if (--r->outstanding == 0) consumer_status_reply(r);
}

/* Broker2Client.getConsumeStatus: GET_CONSUMER_STATUS_FROM_CLIENT to each client (or the one asked). */
static int get_consumer_status(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    status_header h = {0};
    if (decode(req, resp, status_fields, N(status_fields), &h)) return RMQ_OK;
    const consumer_group *g = clients_consumer_group(a->b->clients, h.group);
    if (!g || !g->n_channels) {
        fail(resp, RC_SYSTEM_ERROR, "No Any Consumer online in the consumer group: [%s]", h.group);
        return RMQ_OK;
    }
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].version < VERSION_V3_0_7_SNAPSHOT) {
            fail(resp, RC_SYSTEM_ERROR, "the client does not support this feature. version=%d", g->channels[i].version);
            return RMQ_OK;
        }
    }
    relay *r = relay_new(a, conn, req, h.group, h.clientAddr);
    fjson_writer_init(&r->table, 0);
    fjson_begin_object(&r->table);
    fjson_key(&r->table, "consumerTable");
    fjson_begin_object(&r->table);
    r->outstanding = 1;   /* released below, so an answer arriving early cannot finish */
    for (size_t i = 0; i < g->n_channels; i++) {
        const client_channel *ch = &g->channels[i];
        if (h.clientAddr && *h.clientAddr && strcmp(h.clientAddr, ch->client_id) != 0) continue;
        rmq_cmd *call = cmd_new_request(GET_CONSUMER_STATUS_FROM_CLIENT);
        cmd_ext_set(call, "topic", h.topic);
        cmd_ext_set(call, "group", h.group);
        void **pair = xmalloc(2 * sizeof *pair);
        pair[0] = r;
        pair[1] = xstrdup(ch->client_id);
        r->outstanding++;
        rmq_conn_request(ch->conn, call, 5000, consumer_status_done, pair);
    }
    if (--r->outstanding == 0) consumer_status_reply(r);
    return RMQ_AGAIN;
}

static void write_reset_body(fjson_writer *w, const admin *a, const char *topic, const int64_t *offsets, int32_t n,
                             bool for_cpp)
{
    fjson_begin_object(w);
    fjson_key(w, "offsetTable");
    if (for_cpp) {   /* ResetOffsetBodyForC: a list of MessageQueueForC */
        fjson_begin_array(w);
        for (int32_t q = 0; q < n; q++) {
            fjson_begin_object(w);
            fjson_prop_string(w, "brokerName", a->b->cfg.brokerName);
            fjson_prop_int64(w, "offset", offsets[q]);
            fjson_prop_int64(w, "queueId", q);
            fjson_prop_string(w, "topic", topic);
            fjson_end_object(w);
        }
        fjson_end_array(w);
    } else {
        fjson_begin_object(w);
        for (int32_t q = 0; q < n; q++) {
            key_message_queue(w, a->b->cfg.brokerName, topic, q);
            fjson_int64(w, offsets[q]);
        }
        fjson_end_object(w);
    }
    fjson_end_object(w);
}

/*
 * Broker2Client.resetOffset: the offset of `timestamp` in each queue (-1 = the
 * end), pushed to every online client with RESET_CONSUMER_CLIENT_OFFSET; the
 * clients then commit them. Like Apache, the broker's own table is left to
 * them, and a group with no client online gets CONSUMER_NOT_ONLINE (mqadmin
 * then commits the offsets itself with UPDATE_CONSUMER_OFFSET).
 */
static void reset_offset(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    status_header h = {0};
    topic_config tc;
    if (decode(req, resp, reset_fields, N(reset_fields), &h)) return;
    if (!topic_table_get(a->b->topics, h.topic, &tc)) {
        fail(resp, RC_SYSTEM_ERROR, "[reset-offset] reset offset failed, no topic in this broker. topic=%s", h.topic);
        return;
    }
    int64_t *offsets = xcalloc((size_t)tc.write_queue_nums + 1, sizeof *offsets);
    for (int32_t q = 0; q < tc.write_queue_nums; q++) {
        int64_t consumer_off = consumer_offset_query(a->b->offsets, h.group, h.topic, q);
        if (consumer_off == -1) {
            fail(resp, RC_SYSTEM_ERROR, "THe consumer group <%s> not exist", h.group);
            free(offsets);
            return;
        }
        int64_t ts_off = h.timestamp == -1 ? store_max_offset_in_queue(a->b->store, h.topic, q)
                                           : store_offset_by_time(a->b->store, h.topic, q, h.timestamp);
        if (ts_off < 0) ts_off = 0;
        offsets[q] = h.isForce || ts_off < consumer_off ? ts_off : consumer_off;
    }
    const consumer_group *g = clients_consumer_group(a->b->clients, h.group);
    if (!g || !g->n_channels) {
        fail(resp, RC_CONSUMER_NOT_ONLINE,
             "Consumer not online, so can not reset offset, Group: %s Topic: %s Timestamp: %lld", h.group, h.topic,
             (long long)h.timestamp);
        free(offsets);
        return;
    }
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].version < VERSION_V3_0_7_SNAPSHOT) {
            fail(resp, RC_SYSTEM_ERROR, "the client does not support this feature. version=%d", g->channels[i].version);
            free(offsets);
            return;
        }
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    write_reset_body(&w, a, h.topic, offsets, tc.write_queue_nums, req->language == LANGUAGE_CPP);
    size_t len;
    char *push_body = fjson_writer_finish(&w, &len);
    for (size_t i = 0; i < g->n_channels; i++) {
        rmq_cmd *push = cmd_new_request(RESET_CONSUMER_CLIENT_OFFSET);
        cmd_ext_set(push, "topic", h.topic);
        cmd_ext_set(push, "group", h.group);
        cmd_ext_set_int(push, "timestamp", h.timestamp);
        cmd_ext_set_bool(push, "isForce", false);   /* Apache's header leaves it unset */
        cmd_set_body(push, push_body, len);
        rmq_conn_oneway(g->channels[i].conn, push);
        log_info("admin", "[reset-offset] reset offset success. topic=%s, group=%s, clientId=%s", h.topic, h.group,
                 g->channels[i].client_id);
    }
    free(push_body);
    fjson_writer_init(&w, 0);
    write_reset_body(&w, a, h.topic, offsets, tc.write_queue_nums, false);
    processor_json_body(resp, &w);
    free(offsets);
}

/* ---- offsets and messages for slaves and tools ---- */

static void get_all_consumer_offset(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t len;
    char *json = consumer_offset_encode(a->b->offsets, false, &len);
    cmd_take_body(resp, json, len);
}

static void get_all_delay_offset(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t len;
    char *json = delay_offset_encode(a->b->delay_offsets, false, &len);
    cmd_take_body(resp, json, len);
}

/* ---- dispatch ---- */

typedef void (*admin_fn)(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp);
/* Handlers that may answer later (RMQ_AGAIN, taking req). */
typedef int (*admin_async_fn)(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp);

static const struct {
    int code;
    admin_fn fn;
    admin_async_fn async_fn;
} handlers[] = {
    {DELETE_TOPIC_IN_BROKER, delete_topic, NULL},
    {GET_ALL_TOPIC_CONFIG, get_all_topic_config, NULL},
    {GET_TOPIC_CONFIG, get_topic_config, NULL},
    {GET_TOPIC_STATS_INFO, get_topic_stats_info, NULL},
    {GET_SYSTEM_TOPIC_LIST_FROM_BROKER, get_system_topic_list, NULL},
    {UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, update_and_create_subgroup, NULL},
    {DELETE_SUBSCRIPTIONGROUP, delete_subgroup, NULL},
    {GET_ALL_SUBSCRIPTIONGROUP_CONFIG, get_all_subgroup_config, NULL},
    {UPDATE_BROKER_CONFIG, update_broker_config, NULL},
    {GET_BROKER_CONFIG, get_broker_config, NULL},
    {GET_BROKER_RUNTIME_INFO, get_broker_runtime_info, NULL},
    {VIEW_BROKER_STATS_DATA, view_broker_stats_data, NULL},
    {GET_CONSUME_STATS, get_consume_stats, NULL},
    {GET_BROKER_CONSUME_STATS, get_broker_consume_stats, NULL},
    {QUERY_TOPIC_CONSUME_BY_WHO, query_topic_consume_by_who, NULL},
    {QUERY_TOPICS_BY_CONSUMER, query_topics_by_consumer, NULL},
    {QUERY_CONSUME_TIME_SPAN, query_consume_time_span, NULL},
    {CLONE_GROUP_OFFSET, clone_group_offset, NULL},
    {CLEAN_EXPIRED_CONSUMEQUEUE, clean_expired_consume_queue, NULL},
    {CLEAN_UNUSED_TOPIC, clean_unused_topic, NULL},
    {QUERY_CONSUME_QUEUE, query_consume_queue, NULL},
    {INVOKE_BROKER_TO_RESET_OFFSET, reset_offset, NULL},
    {INVOKE_BROKER_TO_GET_CONSUMER_STATUS, NULL, get_consumer_status},
    {GET_CONSUMER_RUNNING_INFO, NULL, get_consumer_running_info},
    {CONSUME_MESSAGE_DIRECTLY, NULL, consume_message_directly},
    {GET_ALL_CONSUMER_OFFSET, get_all_consumer_offset, NULL},
    {GET_ALL_DELAY_OFFSET, get_all_delay_offset, NULL},
};

static int admin_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    admin *a = arg;
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    for (size_t i = 0; i < N(handlers); i++) {
        if (handlers[i].code != req->code) continue;
        if (handlers[i].fn) {
            handlers[i].fn(a, conn, req, resp);
            break;
        }
        if (handlers[i].async_fn(a, conn, req, resp) == RMQ_AGAIN) {
            cmd_free(resp);
            *out = NULL;
            return RMQ_AGAIN;
        }
        break;
    }
    *out = resp;
    return RMQ_OK;
}

void processor_register_admin(rmq_server *s, broker *b)
{
    admin *a = admin_of(b);
    for (size_t i = 0; i < N(handlers); i++) rmq_server_register(s, handlers[i].code, admin_processor, a);
    processor_register_admin5(s, b);   /* UPDATE_AND_CREATE_TOPIC and the 5.x codes */
}
