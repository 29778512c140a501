/*
 * Orderly POP (Apache 5.3's ConsumerOrderInfoManager.OrderInfo): per topic,
 * group and queue the batch the last orderly POP returned, which of it is
 * acknowledged, per-offset visibility changes and delivery counts. Persisted
 * as Apache does in config/consumerOrderInfo.json, {"table":{"topic@group":
 * {qid:{"a":attemptId,"cm":ackBits,"i":invisibleTime,"l":lastPop,"o":[first,
 * diff..],"oc":{offset:count},"ot":{offset:visibleAt},"popTime":..}}}},
 * cleaned of gone topics, groups and queues and of batches a day old.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "pop_int.h"

#define CLEAN_SPAN_FROM_LAST_MS (24LL * 3600 * 1000)

typedef struct order_info {
    char *topic, *group;
    int32_t qid;
    char *attempt_id;
    int64_t pop_time, invisible_time;
    int64_t last_pop;                     /* lastConsumeTimestamp */
    int n;
    int64_t offsets[POP_MAX_MSGS];
    int64_t next_visible[POP_MAX_MSGS];   /* 0 = popTime + invisibleTime */
    int32_t consumed[POP_MAX_MSGS];       /* offsetConsumedCount; 0 = first delivery */
    uint64_t acked;                       /* commitOffsetBit */
    struct order_info *next;
} order_info;

static order_info *find(pop_service *p, const char *topic, const char *group, int32_t qid)
{
    for (order_info *o = p->orders; o; o = o->next)
        if (o->qid == qid && strcmp(o->topic, topic) == 0 && strcmp(o->group, group) == 0) return o;
    return NULL;
}

static order_info *find_or_add(pop_service *p, const char *topic, const char *group, int32_t qid)
{
    order_info *o = find(p, topic, group, qid);
    if (!o) {
        o = xcalloc(1, sizeof *o);
        o->topic = xstrdup(topic);
        o->group = xstrdup(group);
        o->qid = qid;
        o->next = p->orders;
        p->orders = o;
    }
    return o;
}

static bool same_attempt(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool pop_order_blocked(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                       int64_t invisible_time, int64_t now)
{
    order_info *o = find(p, topic, group, qid);
    if (!o || o->n == 0 || same_attempt(o->attempt_id, attempt_id)) return false;
    if (o->invisible_time <= 0) o->invisible_time = invisible_time;
    for (int i = 0; i < o->n; i++) {
        if (o->acked & (1ull << i)) continue;
        int64_t visible = o->next_visible[i] ? o->next_visible[i] : o->pop_time + o->invisible_time;
        if (now < visible) return true;
    }
    return false;
}

static void info_piece(char **info, const char *piece)
{
    char *joined = str_printf("%s%s%s", *info ? *info : "", *info ? ";" : "", piece);
    free(*info);
    *info = joined;
}

void pop_order_update(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                      int64_t pop_time, int64_t invisible_time, const int64_t *offsets, int n, char **order_info_out)
{
    order_info *o = find_or_add(p, topic, group, qid);
    p->orders_dirty = true;
    o->last_pop = now_ms();
    /* mergeOffsetConsumedCount: offsets delivered again count once more, unless it is the same attempt. */
    int32_t consumed[POP_MAX_MSGS] = {0};
    bool keep = same_attempt(o->attempt_id, attempt_id);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < o->n; j++)
            if (o->offsets[j] == offsets[i]) consumed[i] = keep ? o->consumed[j] : o->consumed[j] + 1;
    free(o->attempt_id);
    o->attempt_id = attempt_id ? xstrdup(attempt_id) : NULL;
    o->pop_time = pop_time;
    o->invisible_time = invisible_time;
    o->n = n > POP_MAX_MSGS ? POP_MAX_MSGS : n;
    o->acked = 0;
    for (int i = 0; i < o->n; i++) {
        o->offsets[i] = offsets[i];
        o->next_visible[i] = 0;
        o->consumed[i] = consumed[i];
    }
    const char *flag = pop_retry_flag(topic);
    char piece[96];
    int min = o->n ? INT32_MAX : 0;
    for (int i = 0; i < o->n; i++) {
        if (o->consumed[i] > 0) {
            snprintf(piece, sizeof piece, "%s qo%d%%%" PRId64 " %d", flag, qid, o->offsets[i], o->consumed[i]);
            info_piece(order_info_out, piece);
        }
        if (o->consumed[i] < min) min = o->consumed[i];
    }
    /* Older clients read the count per queue: the least of the batch. */
    snprintf(piece, sizeof piece, "%s %d %d", flag, qid, min);
    info_piece(order_info_out, piece);
}

int64_t pop_order_commit(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                         int64_t pop_time)
{
    order_info *o = find(p, topic, group, qid);
    if (!o) return offset + 1;
    if (o->n == 0) return -1;
    if (pop_time != o->pop_time) return -2;
    int i = 0;
    while (i < o->n && o->offsets[i] != offset) i++;
    if (i == o->n) return -1;
    o->acked |= 1ull << i;
    p->orders_dirty = true;
    for (i = 0; i < o->n && (o->acked & (1ull << i)); i++) {}
    return i == o->n ? o->offsets[o->n - 1] + 1 : o->offsets[i];
}

void pop_order_set_visible(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                           int64_t pop_time, int64_t next_visible)
{
    order_info *o = find(p, topic, group, qid);
    if (!o || pop_time != o->pop_time) return;
    for (int i = 0; i < o->n; i++)
        if (o->offsets[i] == offset) o->next_visible[i] = next_visible;
    p->orders_dirty = true;
}

static void order_free(order_info *o)
{
    free(o->topic);
    free(o->group);
    free(o->attempt_id);
    free(o);
}

void pop_order_free_all(pop_service *p)
{
    for (order_info *o = p->orders, *next; o; o = next) {
        next = o->next;
        order_free(o);
    }
    p->orders = NULL;
    free(p->orders_path);
}

/* autoClean: batches of gone topics, groups or queues, and those a day old. */
static void auto_clean(pop_service *p, int64_t now)
{
    for (order_info **pp = &p->orders; *pp;) {
        order_info *o = *pp;
        topic_config tc;
        subscription_group_config gc;
        if (topic_table_get(p->b->topics, o->topic, &tc) && subgroup_table_get(p->b->groups, o->group, &gc) &&
            o->qid < tc.read_queue_nums && now - o->last_pop <= CLEAN_SPAN_FROM_LAST_MS) {
            pp = &o->next;
            continue;
        }
        *pp = o->next;
        order_free(o);
        p->orders_dirty = true;
    }
}

static void write_info(fjson_writer *w, const order_info *o)
{
    fjson_begin_object(w);
    if (o->attempt_id) fjson_prop_string(w, "a", o->attempt_id);
    fjson_prop_int64(w, "cm", (int64_t)o->acked);
    fjson_prop_int64(w, "i", o->invisible_time);
    fjson_prop_int64(w, "l", o->last_pop);
    fjson_key(w, "o");
    fjson_begin_array(w);
    for (int i = 0; i < o->n; i++) fjson_int64(w, i ? o->offsets[i] - o->offsets[0] : o->offsets[0]);
    fjson_end_array(w);
    bool any_count = false, any_visible = false;
    for (int i = 0; i < o->n; i++) any_count |= o->consumed[i] > 0, any_visible |= o->next_visible[i] != 0;
    if (any_count) {
        fjson_key(w, "oc");
        fjson_begin_object(w);
        for (int i = 0; i < o->n; i++)
            if (o->consumed[i] > 0) fjson_key_int(w, o->offsets[i]), fjson_int64(w, o->consumed[i]);
        fjson_end_object(w);
    }
    if (any_visible) {
        fjson_key(w, "ot");
        fjson_begin_object(w);
        for (int i = 0; i < o->n; i++)
            if (o->next_visible[i]) fjson_key_int(w, o->offsets[i]), fjson_int64(w, o->next_visible[i]);
        fjson_end_object(w);
    }
    fjson_prop_int64(w, "popTime", o->pop_time);
    fjson_end_object(w);
}

void pop_order_persist(pop_service *p)
{
    auto_clean(p, now_ms());
    if (!p->orders_dirty) return;
    fjson_writer w;
    fjson_writer_init(&w, FJSON_PRETTY);
    fjson_begin_object(&w);
    fjson_key(&w, "table");
    fjson_begin_object(&w);
    /* One object per topic@group, its queues together (each pair once, at its first batch). */
    for (order_info *t = p->orders; t; t = t->next) {
        bool seen = false;
        for (order_info *q = p->orders; q != t && !seen; q = q->next)
            seen = strcmp(q->topic, t->topic) == 0 && strcmp(q->group, t->group) == 0;
        if (seen) continue;
        char *key = str_printf("%s@%s", t->topic, t->group);
        fjson_key(&w, key);
        free(key);
        fjson_begin_object(&w);
        for (order_info *o = t; o; o = o->next)
            if (strcmp(o->topic, t->topic) == 0 && strcmp(o->group, t->group) == 0) {
                fjson_key_int(&w, o->qid);
                write_info(&w, o);
            }
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    size_t len;
    char *text = fjson_writer_finish(&w, &len);
    if (pop_config_write(p, p->orders_path, text, len)) p->orders_dirty = false;
    free(text);
}

/* An OrderInfo read back; false when it lacks its offsets. */
static bool read_info(order_info *o, const cJSON *v)
{
    const char *attempt = NULL;
    int64_t x;
    if (fjson_field_string(v, "a", &attempt) == FJSON_OK) o->attempt_id = xstrdup(attempt);
    if (fjson_field_int64(v, "cm", &x) == FJSON_OK) o->acked = (uint64_t)x;
    if (fjson_field_int64(v, "i", &x) == FJSON_OK) o->invisible_time = x;
    if (fjson_field_int64(v, "l", &x) == FJSON_OK) o->last_pop = x;
    if (fjson_field_int64(v, "popTime", &x) == FJSON_OK) o->pop_time = x;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(v, "o"), *it;
    cJSON_ArrayForEach(it, list) {
        if (o->n == POP_MAX_MSGS || !fjson_get_int64(it, &x)) break;
        o->offsets[o->n] = o->n ? o->offsets[0] + x : x;
        o->n++;
    }
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(v, "oc");
    const cJSON *visible = cJSON_GetObjectItemCaseSensitive(v, "ot");
    for (int i = 0; i < o->n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%" PRId64, o->offsets[i]);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, key);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(visible, key);
        if (c && fjson_get_int64(c, &x)) o->consumed[i] = (int32_t)x;
        if (t && fjson_get_int64(t, &x)) o->next_visible[i] = x;
    }
    return o->n > 0;
}

int pop_order_load(pop_service *p, char *err, size_t errlen)
{
    p->orders_path = pop_config_path(p, "consumerOrderInfo.json");
    cJSON *root;
    if (pop_config_read(p->orders_path, &root, err, errlen)) return RMQ_ERR;
    const cJSON *pair, *queue;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItemCaseSensitive(root, "table")) {
        const char *at = strchr(pair->string, '@');
        int32_t qid;
        if (!at || strchr(at + 1, '@')) continue;  /* decodeKey: exactly topic@group */
        char *topic = xstrndup(pair->string, (size_t)(at - pair->string));
        cJSON_ArrayForEach(queue, pair) {
            if (parse_int32(queue->string, &qid) != RMQ_OK) continue;
            order_info *o = find_or_add(p, topic, at + 1, qid);
            if (!read_info(o, queue)) o->n = 0;
        }
        free(topic);
    }
    cJSON_Delete(root);
    return RMQ_OK;
}
