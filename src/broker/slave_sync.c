/*
 * SlaveSynchronize: the slave's periodic copy of its master's topics,
 * subscription groups, consumer offsets and delay offsets (slave_sync.h).
 */
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "slave_sync.h"
#include "acl2.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"

#define LOG "slave_sync"

/* ---- decoding the master's answers ---- */

/* Parses BODY and finds its TABLE_FIELD object (absent or null: empty) and, if
 * VERSION, its dataVersion. NULL with a reason in ERR. */
static cJSON *parse_doc(const char *body, size_t len, const char *table_field, const cJSON **table,
                        data_version *version, char *err, size_t errlen)
{
    const char *why = "empty body";
    cJSON *doc = len ? fjson_parse(body, len, &why) : NULL;
    if (!doc || !cJSON_IsObject(doc)) {
        snprintf(err, errlen, "not a JSON object: %s", doc ? "wrong type" : why);
        cJSON_Delete(doc);
        return NULL;
    }
    *table = cJSON_GetObjectItemCaseSensitive(doc, table_field);
    if (*table && !cJSON_IsNull(*table) && !cJSON_IsObject(*table)) {
        snprintf(err, errlen, "%s is not an object", table_field);
        cJSON_Delete(doc);
        return NULL;
    }
    if (*table && cJSON_IsNull(*table)) *table = NULL;
    if (version) {
        const cJSON *dv = cJSON_GetObjectItemCaseSensitive(doc, "dataVersion");
        if (!cJSON_IsObject(dv) || fjson_field_int64(dv, "timestamp", &version->timestamp) != FJSON_OK ||
            fjson_field_int64(dv, "counter", &version->counter) != FJSON_OK) {
            snprintf(err, errlen, "no valid dataVersion");
            cJSON_Delete(doc);
            return NULL;
        }
    }
    return doc;
}

/* A TopicConfig or SubscriptionGroupConfig entry through meta's own decoder. */
static int decode_entry(int (*decode)(const char *, const cJSON *, void *, char **), const char *key,
                        const cJSON *obj, void *rec, char *err, size_t errlen)
{
    if (strlen(key) >= META_NAME_MAX) {
        snprintf(err, errlen, "entry %s: name too long", key);
        return RMQ_ERR;
    }
    char *why = NULL;
    if (decode(key, obj, rec, &why) == RMQ_OK) return RMQ_OK;
    snprintf(err, errlen, "%s", why ? why : "malformed entry");
    free(why);
    return RMQ_ERR;
}

static int decode_topic(const char *key, const cJSON *obj, void *rec, char *err, size_t errlen)
{
    return decode_entry(topic_config_decode, key, obj, rec, err, errlen);
}

static int decode_group(const char *key, const cJSON *obj, void *rec, char *err, size_t errlen)
{
    return decode_entry(subscription_group_config_decode, key, obj, rec, err, errlen);
}

/* ---- versioned tables: replaced whole (clear + putAll) ---- */

/* What replacing differs in between topics and groups. Records start with
 * their name, so a record compares as a string (by_name). */
_Static_assert(offsetof(topic_config, topic_name) == 0, "topic_config starts with its name");
_Static_assert(offsetof(subscription_group_config, group_name) == 0, "group config starts with its name");

typedef struct table_kind {
    const char *table_field;
    size_t size;
    int (*decode)(const char *key, const cJSON *obj, void *rec, char *err, size_t errlen);
    void *(*snapshot)(void *t, size_t *n);
    void (*remove)(void *t, const char *name);
    void (*put)(void *t, const void *rec);
    void (*persist)(void *t);
    data_version (*version)(void *t);
} table_kind;

static void *topics_snapshot(void *t, size_t *n) { return topic_table_snapshot(t, n); }
static void topics_remove(void *t, const char *name) { topic_table_delete(t, name); }
static void topics_put(void *t, const void *rec) { topic_table_put(t, rec); }
static void topics_persist(void *t) { topic_table_persist(t); }
static data_version topics_version(void *t) { return topic_table_data_version(t); }

static const table_kind TOPICS = {"topicConfigTable", sizeof(topic_config), decode_topic, topics_snapshot,
                                  topics_remove, topics_put, topics_persist, topics_version};

static void *groups_snapshot(void *t, size_t *n) { return subgroup_table_snapshot(t, n); }
static void groups_remove(void *t, const char *name) { subgroup_table_delete(t, name); }
static void groups_put(void *t, const void *rec) { subgroup_table_put(t, rec); }
static void groups_persist(void *t) { subgroup_table_persist(t); }
static data_version groups_version(void *t) { return subgroup_table_data_version(t); }

static const table_kind GROUPS = {"subscriptionGroupTable", sizeof(subscription_group_config), decode_group,
                                  groups_snapshot, groups_remove, groups_put, groups_persist, groups_version};

static bool same_version(data_version a, data_version b)
{
    return a.timestamp == b.timestamp && a.counter == b.counter;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int apply_versioned(const table_kind *k, void *t, sync_mark *mark, const char *body, size_t len,
                           bool *changed, char *err, size_t errlen)
{
    if (changed) *changed = false;
    const cJSON *table;
    data_version master;
    cJSON *doc = parse_doc(body, len, k->table_field, &table, &master, err, errlen);
    if (!doc) return RMQ_ERR;
    if (mark->taken && same_version(mark->master, master) && same_version(mark->local, k->version(t))) {
        cJSON_Delete(doc);
        return RMQ_OK;
    }
    size_t n = table ? (size_t)cJSON_GetArraySize(table) : 0, i = 0;
    char *recs = xcalloc(n ? n : 1, k->size);
    const cJSON *e;
    if (table) cJSON_ArrayForEach(e, table) {
        if (k->decode(e->string, e, recs + i++ * k->size, err, errlen)) {
            free(recs);
            cJSON_Delete(doc);
            return RMQ_ERR;
        }
    }
    cJSON_Delete(doc);
    qsort(recs, n, k->size, by_name);
    size_t old_n;
    char *old = k->snapshot(t, &old_n);
    for (size_t j = 0; j < old_n; j++)
        if (!bsearch(old + j * k->size, recs, n, k->size, by_name)) k->remove(t, old + j * k->size);
    free(old);
    for (size_t j = 0; j < n; j++) k->put(t, recs + j * k->size);
    free(recs);
    k->persist(t);
    *mark = (sync_mark){true, master, k->version(t)};
    if (changed) *changed = true;
    return RMQ_OK;
}

int slave_sync_apply_topics(topic_table *t, sync_mark *mark, const char *body, size_t len, bool *changed,
                            char *err, size_t errlen)
{
    return apply_versioned(&TOPICS, t, mark, body, len, changed, err, errlen);
}

int slave_sync_apply_groups(subgroup_table *t, sync_mark *mark, const char *body, size_t len, bool *changed,
                            char *err, size_t errlen)
{
    return apply_versioned(&GROUPS, t, mark, body, len, changed, err, errlen);
}

/* ---- offset tables: taken entry by entry (putAll) ---- */

/* A fastjson Map<Integer,Long> ({0:17,1:19}): each entry to FN, or with FN
 * NULL only checked. */
static int walk_queue_map(const cJSON *map, const char *what, void (*fn)(int32_t, int64_t, void *), void *arg,
                          char *err, size_t errlen)
{
    if (!cJSON_IsObject(map)) {
        snprintf(err, errlen, "%s is not an object", what);
        return RMQ_ERR;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, map) {
        int32_t key;
        int64_t value;
        if (parse_int32(e->string, &key) || !fjson_get_int64(e, &value)) {
            snprintf(err, errlen, "%s: bad entry %s", what, e->string);
            return RMQ_ERR;
        }
        if (fn) fn(key, value, arg);
    }
    return RMQ_OK;
}

typedef struct offset_target {
    consumer_offset_table *t;
    char *group, *topic;
} offset_target;

static void commit_offset(int32_t queue_id, int64_t offset, void *arg)
{
    offset_target *o = arg;
    consumer_offset_commit(o->t, o->group, o->topic, queue_id, offset);
}

/* Every "topic@group" entry of TABLE checked (T NULL) or committed. */
static int walk_consumer_offsets(const cJSON *table, consumer_offset_table *t, char *err, size_t errlen)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, table) {
        const char *at = strchr(e->string, '@');   /* '@' is in neither a topic nor a group name */
        if (!at) {
            snprintf(err, errlen, "offset key %s is not topic@group", e->string);
            return RMQ_ERR;
        }
        offset_target o = {t, xstrdup(at + 1), xstrndup(e->string, (size_t)(at - e->string))};
        int rc = walk_queue_map(e, e->string, t ? commit_offset : NULL, &o, err, errlen);
        free(o.group);
        free(o.topic);
        if (rc) return RMQ_ERR;
    }
    return RMQ_OK;
}

int slave_sync_apply_consumer_offsets(consumer_offset_table *t, const char *body, size_t len, char *err,
                                      size_t errlen)
{
    const cJSON *table;
    cJSON *doc = parse_doc(body, len, "offsetTable", &table, NULL, err, errlen);
    if (!doc) return RMQ_ERR;
    int rc = table ? walk_consumer_offsets(table, NULL, err, errlen) : RMQ_OK;
    if (rc == RMQ_OK && table) walk_consumer_offsets(table, t, err, errlen);
    cJSON_Delete(doc);
    if (rc == RMQ_OK) consumer_offset_persist(t);
    return rc;
}

static void update_delay_offset(int32_t level, int64_t offset, void *arg)
{
    delay_offset_update(arg, level, offset);
}

int slave_sync_apply_delay_offsets(delay_offset_table *t, const char *body, size_t len, char *err, size_t errlen)
{
    const cJSON *table;
    cJSON *doc = parse_doc(body, len, "offsetTable", &table, NULL, err, errlen);
    if (!doc) return RMQ_ERR;
    int rc = table ? walk_queue_map(table, "offsetTable", NULL, NULL, err, errlen) : RMQ_OK;
    if (rc == RMQ_OK && table) walk_queue_map(table, "offsetTable", update_delay_offset, t, err, errlen);
    cJSON_Delete(doc);
    if (rc == RMQ_OK) delay_offset_persist(t);
    return rc;
}

/* ---- the periodic round ---- */

enum { GET_ALL_TOPIC_CONFIG = 21, GET_ALL_CONSUMER_OFFSET = 43, GET_ALL_DELAY_OFFSET = 45,
       GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201 };

/* A round's requests, in Apache's order (syncAll). */
static const struct {
    int32_t code;
    const char *what;
} STEPS[] = {
    {GET_ALL_TOPIC_CONFIG, "topic config"},
    {GET_ALL_CONSUMER_OFFSET, "consumer offset"},
    {GET_ALL_DELAY_OFFSET, "delay offset"},
    {GET_ALL_SUBSCRIPTIONGROUP_CONFIG, "subscription group"},
};
#define N_STEPS (sizeof STEPS / sizeof STEPS[0])

struct slave_sync {
    broker *b;
    struct event *timer;
    char *master;          /* the master's remoting address; NULL = unknown */
    bool fixed;            /* derived from haMasterAddress: the name server does not move it */
    char *round_master;    /* the address the round in flight talks to; NULL = idle */
    size_t step;           /* index into STEPS of the request in flight */
    sync_mark topics, groups;
};

/* "host:port" with the port moved by DELTA; NULL when ADDR is not host:port. */
static char *port_shifted(const char *addr, int delta)
{
    char host[256];
    int port;
    if (split_host_port(addr, host, sizeof host, &port) || port + delta <= 0) return NULL;
    return str_printf("%s:%d", host, port + delta);
}

static void send_step(slave_sync *s);

static void apply_answer(slave_sync *s, const rmq_cmd *resp)
{
    broker *b = s->b;
    const char *body = (const char *)resp->body;
    char err[256];
    bool changed = true;
    int rc;
    switch (STEPS[s->step].code) {
    case GET_ALL_TOPIC_CONFIG:
        rc = slave_sync_apply_topics(b->topics, &s->topics, body, resp->body_len, &changed, err, sizeof err);
        break;
    case GET_ALL_CONSUMER_OFFSET:
        rc = slave_sync_apply_consumer_offsets(b->offsets, body, resp->body_len, err, sizeof err);
        break;
    case GET_ALL_DELAY_OFFSET:
        rc = slave_sync_apply_delay_offsets(b->delay_offsets, body, resp->body_len, err, sizeof err);
        break;
    default:
        rc = slave_sync_apply_groups(b->groups, &s->groups, body, resp->body_len, &changed, err, sizeof err);
        break;
    }
    if (rc) log_warn(LOG, "%s from master %s not taken: %s", STEPS[s->step].what, s->round_master, err);
    else if (changed) log_info(LOG, "Update slave %s from master, %s", STEPS[s->step].what, s->round_master);
}

static void end_round(slave_sync *s)
{
    free(s->round_master);
    s->round_master = NULL;
}

static void step_done(rmq_cmd *resp, const char *err, void *arg)
{
    slave_sync *s = arg;
    if (!resp) {
        /* The master is away (or we are shutting down): the next round tries again. */
        log_warn(LOG, "%s sync from master %s failed: %s", STEPS[s->step].what, s->round_master, err);
        end_round(s);
        return;
    }
    if (resp->code != 0)
        log_warn(LOG, "%s sync refused by master %s: %d %s", STEPS[s->step].what, s->round_master, resp->code,
                 resp->remark ? resp->remark : "");
    else
        apply_answer(s, resp);
    cmd_free(resp);
    if (++s->step < N_STEPS) send_step(s);
    else end_round(s);
}

static void send_step(slave_sync *s)
{
    rmq_cmd *req = cmd_new_request(STEPS[s->step].code);
    /* BrokerOuterAPI.getAllTopicConfig asks the master's VIP channel (brokerVIPChannel). */
    char *vip = STEPS[s->step].code == GET_ALL_TOPIC_CONFIG ? port_shifted(s->round_master, -2) : NULL;
    auth_sign_inner(s->b->auth, req);  /* a master running ACL 2.0 authenticates its slave */
    rmq_client_request(s->b->client, vip ? vip : s->round_master, req, SLAVE_SYNC_TIMEOUT_MS, step_done, s);
    free(vip);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    slave_sync *s = arg;
    struct timeval tv = {SLAVE_SYNC_PERIOD_MS / 1000, (SLAVE_SYNC_PERIOD_MS % 1000) * 1000};
    event_add(s->timer, &tv);
    if (!s->master || s->round_master || s->b->shutting_down) return;
    s->round_master = xstrdup(s->master);
    s->step = 0;
    send_step(s);
}

slave_sync *slave_sync_new(broker *b)
{
    slave_sync *s = xcalloc(1, sizeof *s);
    s->b = b;
    s->timer = evtimer_new(b->base, timer_cb, s);
    const char *ha = b->cfg.haMasterAddress;
    if (ha && *ha) {
        s->fixed = true;
        if (!(s->master = port_shifted(ha, -1)))
            log_warn(LOG, "haMasterAddress %s is not host:port: no metadata sync with the master", ha);
    }
    return s;
}

void slave_sync_start(slave_sync *s)
{
    struct timeval tv = {SLAVE_SYNC_FIRST_DELAY_MS / 1000, (SLAVE_SYNC_FIRST_DELAY_MS % 1000) * 1000};
    event_add(s->timer, &tv);
}

void slave_sync_set_master(slave_sync *s, const char *master_addr)
{
    if (s->fixed) return;
    if (master_addr && !*master_addr) master_addr = NULL;
    if (!master_addr == !s->master && (!master_addr || strcmp(master_addr, s->master) == 0)) return;
    log_info(LOG, "master address: %s -> %s", s->master ? s->master : "(none)",
             master_addr ? master_addr : "(none)");
    free(s->master);
    s->master = master_addr ? xstrdup(master_addr) : NULL;
}

void slave_sync_free(slave_sync *s)
{
    if (!s) return;
    event_free(s->timer);
    free(s->master);
    free(s->round_master);
    free(s);
}
