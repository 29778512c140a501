/*
 * POP bookkeeping in the revive topic and the revive service (Apache 5.3's
 * PopMessageProcessor.buildCkMsg, AckMessageProcessor.appendAck and
 * PopReviveService.consumeReviveMessage / mergeAndRevive / reviveRetry /
 * rePutCK), on the event loop: every reviveInterval each revive queue is read
 * from its committed offset to its end, and the checkpoints that are due are
 * revived in revive-offset order.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "pop_int.h"
#include "schedule.h"
#include "sysqueue.h"
#include "store/store.h"

#define REVIVE_READ_BATCH 32
#define REVIVE_MAX_RECORDS 100000   /* per queue and pass, so that one pass never stalls the loop */
#define SECOND_MS 1000

/* PopReviveService.ckRewriteIntervalsInSeconds */
static const int ck_rewrite_intervals_s[] = {10, 20, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800,
                                             3600, 7200};
#define N_REWRITE (int)(sizeof ck_rewrite_intervals_s / sizeof ck_rewrite_intervals_s[0])

/* ---- topics ---- */

/* PREFIX GROUP SEP TOPIC into OUT; false (and OUT empty) if it does not fit in CAP. */
static bool join_retry(char *out, size_t cap, const char *group, char sep, const char *topic)
{
    size_t pl = strlen(TOPIC_RETRY_PREFIX), gl = strlen(group), tl = strlen(topic);
    if (pl + gl + 1 + tl >= cap) {
        if (cap) out[0] = 0;
        return false;
    }
    memcpy(out, TOPIC_RETRY_PREFIX, pl);
    memcpy(out + pl, group, gl);
    out[pl + gl] = sep;
    memcpy(out + pl + gl + 1, topic, tl + 1);
    return true;
}

bool pop_retry_topic(char *out, size_t cap, const char *topic, const char *group, bool v2)
{
    return join_retry(out, cap, group, v2 ? '+' : '_', topic);
}

static bool is_retry(const char *topic)
{
    return strncmp(topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0;
}

const char *pop_normal_topic(const char *topic, const char *group)
{
    if (!is_retry(topic)) return topic;
    size_t pre = strlen(TOPIC_RETRY_PREFIX), gl = strlen(group);
    if (strncmp(topic + pre, group, gl) == 0 && (topic[pre + gl] == '+' || topic[pre + gl] == '_'))
        return topic + pre + gl + 1;
    return topic + (strlen(topic) < pre + gl + 1 ? strlen(topic) : pre + gl + 1);
}

const char *pop_retry_flag(const char *topic)
{
    if (is_retry(topic)) return strchr(topic, '+') ? "2" : "1";
    return "0";
}

bool pop_real_topic(char *out, size_t cap, const char *topic, const char *group, const char *flag)
{
    if (strcmp(flag, "0") == 0) return snprintf(out, cap, "%s", topic) < (int)cap;
    if (strcmp(flag, "1") == 0) return pop_retry_topic(out, cap, topic, group, false);
    if (strcmp(flag, "2") == 0) return pop_retry_topic(out, cap, topic, group, true);
    return false;
}

void pop_ensure_retry_topic(pop_service *p, const char *retry_topic, const char *group)
{
    topic_config tc;
    if (topic_table_get(p->b->topics, retry_topic, &tc) || !topic_config_init(&tc, retry_topic)) return;
    tc.read_queue_nums = tc.write_queue_nums = POP_RETRY_QUEUE_NUM;
    tc.perm = PERM_READ | PERM_WRITE;
    topic_table_put(p->b->topics, &tc);
    broker_topics_changed(p->b);
    if (consumer_offset_query(p->b->offsets, group, retry_topic, 0) < 0)
        consumer_offset_commit(p->b->offsets, group, retry_topic, 0, 0);  /* initPopRetryOffset */
}

/* ---- records in the revive topic ---- */

/* A record for revive queue QID, parked by the timer until DELIVER_MS (TIMER_DELIVER_MS). */
static int append(pop_service *p, int qid, const char *tag, const char *uniq, int64_t deliver_ms, const char *body,
                  size_t body_len)
{
    msg_props props;
    msg_props_init(&props);
    msg_props_set(&props, MSG_PROP_TAGS, tag);
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, deliver_ms);
    msg_props_set(&props, "TIMER_DELIVER_MS", buf);
    msg_props_set(&props, MSG_PROP_UNIQ_KEY, uniq);
    int32_t q = qid;
    char why[256];
    int64_t now = now_ms();
    const char *topic = p->revive_topic;
    /* internal: POP keeps working with timerWheelEnable=false (Apache's checkpoints would be refused) */
    enum timer_verdict tv = schedule_timer_redirect(p->b, &props, &topic, &q, now, true, why, sizeof why);
    int rc = RMQ_ERR;
    if (tv == TIMER_NOT_ENABLED || tv == TIMER_ILLEGAL) {
        log_error("pop", "%s record not stored: %s", tag, why);
    } else {
        size_t plen;
        char *ps = msg_props_encode(&props, &plen);
        store_msg m = {.topic = topic, .queue_id = q, .born_timestamp = now, .born_host = p->store_host,
                       .body = (const uint8_t *)body, .body_len = (uint32_t)body_len, .props = ps,
                       .props_len = (uint32_t)plen};
        store_put_entry e;
        store_put_result res = {.entries = &e};
        if (store_put(p->b->store, &m, 1, &res) == STORE_PUT_OK) rc = RMQ_OK;
        else log_error("pop", "%s record to %s-%d not stored: %s", tag, p->revive_topic, qid,
                       res.reason ? res.reason : "put failed");
        free(ps);
    }
    msg_props_free(&props);
    return rc;
}

int pop_append_ck(pop_service *p, const pop_ck *ck, int revive_qid)
{
    /* PopCheckPoint as fastjson 1.2.83 writes it: sorted names, reviveTime from its getter,
     * rp only once set. */
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "bm", ck->bitmap);
    fjson_prop_string(&w, "bn", ck->broker_name);
    fjson_prop_string(&w, "c", ck->group);
    fjson_key(&w, "d");
    fjson_begin_array(&w);
    for (int i = 0; i < ck->num; i++) fjson_int64(&w, ck->diff[i]);
    fjson_end_array(&w);
    fjson_prop_int64(&w, "it", ck->invisible_time);
    fjson_prop_int64(&w, "n", ck->num);
    fjson_prop_int64(&w, "pt", ck->pop_time);
    fjson_prop_int64(&w, "q", ck->queue_id);
    fjson_prop_int64(&w, "reviveTime", ck->pop_time + ck->invisible_time);
    fjson_prop_int64(&w, "ro", ck->revive_offset);
    if (ck->reput_times > 0) {
        char rp[16];
        snprintf(rp, sizeof rp, "%d", ck->reput_times);
        fjson_prop_string(&w, "rp", rp);
    }
    fjson_prop_int64(&w, "so", ck->start_offset);
    fjson_prop_string(&w, "t", ck->topic);
    fjson_end_object(&w);
    size_t len;
    char *body = fjson_writer_finish(&w, &len);
    /* genCkUniqueId */
    char *uniq = str_printf("%s@%d@%" PRId64 "@%s@%" PRId64 "@%s@ck", ck->topic, ck->queue_id, ck->start_offset,
                            ck->group, ck->pop_time, ck->broker_name);
    int rc = append(p, revive_qid, "ck", uniq, ck->pop_time + ck->invisible_time - POP_ACK_TIME_INTERVAL_MS, body, len);
    free(uniq);
    free(body);
    return rc;
}

int pop_append_ack(pop_service *p, const pop_ack *a, int revive_qid)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "ao", a->batch ? -1 : a->offsets[0]);
    if (a->batch) {
        fjson_key(&w, "aol");
        fjson_begin_array(&w);
        for (int i = 0; i < a->n; i++) fjson_int64(&w, a->offsets[i]);
        fjson_end_array(&w);
    }
    fjson_prop_string(&w, "bn", a->broker_name);
    fjson_prop_string(&w, "c", a->group);
    fjson_prop_int64(&w, "pt", a->pop_time);
    fjson_prop_int64(&w, "q", a->queue_id);
    fjson_prop_int64(&w, "so", a->start_offset);
    fjson_prop_string(&w, "t", a->topic);
    fjson_end_object(&w);
    size_t len;
    char *body = fjson_writer_finish(&w, &len);
    char *uniq;
    if (a->batch) {
        /* genBatchAckUniqueId: the list as Java's List.toString, "[1, 2]". */
        size_t cap = 16 + (size_t)a->n * 22, off = 0;
        char *list = xmalloc(cap);
        off += (size_t)snprintf(list, cap, "[");
        for (int i = 0; i < a->n; i++)
            off += (size_t)snprintf(list + off, cap - off, "%s%" PRId64, i ? ", " : "", a->offsets[i]);
        snprintf(list + off, cap - off, "]");
        uniq = str_printf("%s@%d@%s@%s@%" PRId64 "@bAck", a->topic, a->queue_id, list, a->group, a->pop_time);
        free(list);
    } else {
        uniq = str_printf("%s@%d@%" PRId64 "@%s@%" PRId64 "@%s@ack", a->topic, a->queue_id, a->offsets[0], a->group,
                          a->pop_time, a->broker_name);
    }
    int rc = append(p, revive_qid, a->batch ? "bAck" : "ack", uniq, a->pop_time + a->invisible_time, body, len);
    free(uniq);
    free(body);
    return rc;
}

int pop_next_revive_qid(pop_service *p)
{
    return (int)(p->ck_counter++ % (uint64_t)p->revive_queue_num);
}

int pop_revive_queue_num(const pop_service *p) { return p->revive_queue_num; }

const char *pop_revive_topic(const pop_service *p)
{
    return p->revive_topic;
}

/* ---- reading records back ---- */

/* FIELD under its short name or its long alternate (AckMsg's alternateNames). */
static enum fjson_field field_str(const cJSON *o, const char *a, const char *b, const char **out)
{
    enum fjson_field r = fjson_field_string(o, a, out);
    return r == FJSON_MISSING && b ? fjson_field_string(o, b, out) : r;
}

static enum fjson_field field_i64(const cJSON *o, const char *a, const char *b, int64_t *out)
{
    enum fjson_field r = fjson_field_int64(o, a, out);
    return r == FJSON_MISSING && b ? fjson_field_int64(o, b, out) : r;
}

static bool copy_name(char *dst, const char *src)
{
    if (!src || strlen(src) >= META_NAME_MAX) return false;
    strcpy(dst, src);
    return true;
}

/* A checkpoint record's body; false when it lacks topic or group (Apache skips those). */
static bool ck_parse(const char *body, size_t len, const char *own_broker, pop_ck *ck)
{
    cJSON *o = fjson_parse(body, len, NULL);
    if (!o) return false;
    memset(ck, 0, sizeof *ck);
    const char *topic = NULL, *group = NULL, *bn = NULL, *rp = NULL;
    int64_t v;
    field_str(o, "t", "topic", &topic);
    field_str(o, "c", NULL, &group);
    bool ok = copy_name(ck->topic, topic) && copy_name(ck->group, group);
    if (field_str(o, "bn", "brokerName", &bn) != FJSON_OK || !copy_name(ck->broker_name, bn))
        copy_name(ck->broker_name, own_broker);
    if (field_i64(o, "so", "startOffset", &v) == FJSON_OK) ck->start_offset = v;
    if (field_i64(o, "pt", "popTime", &v) == FJSON_OK) ck->pop_time = v;
    if (field_i64(o, "it", "invisibleTime", &v) == FJSON_OK) ck->invisible_time = v;
    if (field_i64(o, "bm", "bitMap", &v) == FJSON_OK) ck->bitmap = (uint32_t)v;
    if (field_i64(o, "n", "num", &v) == FJSON_OK) ck->num = (int)(v < 0 ? 0 : v > POP_MAX_MSGS ? POP_MAX_MSGS : v);
    if (field_i64(o, "q", "queueId", &v) == FJSON_OK) ck->queue_id = (int32_t)v;
    if (field_str(o, "rp", "rePutTimes", &rp) == FJSON_OK) {
        int32_t n;
        ck->reput_times = parse_int32(rp, &n) == RMQ_OK ? n : 127;  /* parseRePutTimes: Byte.MAX_VALUE */
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "d");
    if (!d) d = cJSON_GetObjectItemCaseSensitive(o, "queueOffsetDiff");
    const cJSON *it;
    int i = 0;
    bool has_diff = cJSON_IsArray(d) && cJSON_GetArraySize(d) > 0;
    if (has_diff) {
        cJSON_ArrayForEach(it, d) {
            if (i < POP_MAX_MSGS && fjson_get_int64(it, &v)) ck->diff[i++] = (int32_t)v;
        }
        if (i < ck->num) ck->num = i;
    } else {
        for (i = 0; i < ck->num; i++) ck->diff[i] = i;  /* old checkpoints: consecutive offsets */
    }
    cJSON_Delete(o);
    return ok;
}

/* PopCheckPoint.indexOfAck */
static int ck_index_of(const pop_ck *ck, int64_t offset)
{
    if (offset < ck->start_offset) return -1;
    for (int i = 0; i < ck->num; i++)
        if (ck->start_offset + ck->diff[i] == offset) return i;
    return -1;
}

typedef struct revive_pass {
    pop_service *p;
    pop_ck *cks;
    size_t n, cap;
    int64_t end_time;
} revive_pass;

static pop_ck *find_ck(revive_pass *rp, const char *topic, const char *group, int32_t qid, int64_t so, int64_t pt,
                       const char *bn)
{
    for (size_t i = 0; i < rp->n; i++) {
        pop_ck *c = &rp->cks[i];
        if (c->queue_id == qid && c->start_offset == so && c->pop_time == pt && strcmp(c->topic, topic) == 0 &&
            strcmp(c->group, group) == 0 && strcmp(c->broker_name, bn) == 0)
            return c;
    }
    return NULL;
}

static void see_ck(revive_pass *rp, const msg_record *r)
{
    pop_ck ck;
    if (!ck_parse((const char *)r->body, r->body_len, rp->p->b->cfg.brokerName, &ck)) return;
    ck.revive_offset = r->queue_offset;
    pop_ck *same = find_ck(rp, ck.topic, ck.group, ck.queue_id, ck.start_offset, ck.pop_time, ck.broker_name);
    if (same) {
        *same = ck;  /* map.put: the later record replaces the earlier */
        return;
    }
    if (rp->n == rp->cap) {
        rp->cap = rp->cap ? rp->cap * 2 : 16;
        rp->cks = xrealloc(rp->cks, rp->cap * sizeof *rp->cks);
    }
    rp->cks[rp->n++] = ck;
}

static void see_ack(revive_pass *rp, const msg_record *r, bool batch)
{
    cJSON *o = fjson_parse((const char *)r->body, r->body_len, NULL);
    if (!o) return;
    const char *topic = NULL, *group = NULL, *bn = NULL;
    int64_t so = 0, pt = 0, qid = 0, ao = -1;
    field_str(o, "t", "topic", &topic);
    field_str(o, "c", "consumerGroup", &group);
    if (field_str(o, "bn", "brokerName", &bn) != FJSON_OK || !*bn) bn = rp->p->b->cfg.brokerName;
    field_i64(o, "so", "startOffset", &so);
    field_i64(o, "pt", "popTime", &pt);
    field_i64(o, "q", "queueId", &qid);
    pop_ck *ck = topic && group ? find_ck(rp, topic, group, (int32_t)qid, so, pt, bn) : NULL;
    if (ck && !batch) {
        field_i64(o, "ao", "ackOffset", &ao);
        int i = ck_index_of(ck, ao);
        if (i >= 0) ck->bitmap |= 1u << i;
        else log_warn("pop", "invalid ack index, offset %" PRId64 " of %s@%s-%d", ao, group, topic, ck->queue_id);
    } else if (ck) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "aol");
        if (!list) list = cJSON_GetObjectItemCaseSensitive(o, "ackOffsetList");
        const cJSON *it;
        cJSON_ArrayForEach(it, list) {
            int64_t off;
            int i = fjson_get_int64(it, &off) ? ck_index_of(ck, off) : -1;
            if (i >= 0) ck->bitmap |= 1u << i;
        }
    }
    cJSON_Delete(o);
}

/* One record of the revive queue: checkpoints collect, acks mark, and time moves on. */
static void see_record(revive_pass *rp, const msg_record *r)
{
    char tag[8], deliver[24];
    if (sysqueue_prop(r, MSG_PROP_TAGS, tag, sizeof tag)) {
        if (strcmp(tag, "ck") == 0) see_ck(rp, r);
        else if (strcmp(tag, "ack") == 0) see_ack(rp, r, false);
        else if (strcmp(tag, "bAck") == 0) see_ack(rp, r, true);
    }
    int64_t t;
    if (sysqueue_prop(r, "TIMER_DELIVER_MS", deliver, sizeof deliver) && parse_int64(deliver, &t) == RMQ_OK &&
        t > rp->end_time)
        rp->end_time = t;
}

/*
 * Reads revive queue QID from FROM to its end (or REVIVE_MAX_RECORDS);
 * true when it reached the end.
 */
static bool scan_queue(revive_pass *rp, int qid, int64_t from)
{
    pop_service *p = rp->p;
    int64_t offset = from, seen = 0;
    for (;;) {
        store_get_result res;
        if (store_get_messages(p->b->store, POP_REVIVE_GROUP, p->revive_topic, qid, offset, REVIVE_READ_BATCH, NULL,
                               &res))
            return false;
        if (res.count == 0) {
            int64_t next = res.next_begin_offset, max = res.max_offset;
            store_get_result_release(&res);
            if (next <= offset || next > max) return true;
            offset = next;  /* a gap the store skips */
            continue;
        }
        for (int i = 0; i < res.count; i++) {
            msg_record r;
            const char *why;
            if (msg_record_decode(res.msgs[i].data, res.msgs[i].len, &r, &why) == RMQ_OK) see_record(rp, &r);
        }
        offset = res.next_begin_offset;
        seen += res.count;
        store_get_result_release(&res);
        if (seen >= REVIVE_MAX_RECORDS) return false;
    }
}

/* reviveRetry: one unacknowledged message to the POP retry topic, reconsumeTimes + 1. */
static bool revive_message(pop_service *p, const pop_ck *ck, const msg_record *r)
{
    char retry[META_NAME_MAX];
    if (is_retry(ck->topic)) snprintf(retry, sizeof retry, "%s", ck->topic);
    else pop_retry_topic(retry, sizeof retry, ck->topic, ck->group, p->b->cfg.enableRetryTopicV2);
    msg_props props;
    msg_props_init(&props);
    msg_props_parse(&props, r->props, r->props_len);
    if (r->reconsume_times == 0 || !msg_props_get(&props, "1ST_POP_TIME")) {
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRId64, ck->pop_time);
        msg_props_set(&props, "1ST_POP_TIME", buf);
    }
    size_t plen;
    char *ps = msg_props_encode(&props, &plen);
    msg_props_free(&props);
    pop_ensure_retry_topic(p, retry, ck->group);
    store_msg m;
    sysqueue_msg_from_record(&m, r, retry, 0);
    m.born_host = p->store_host;
    m.reconsume_times = msg_next_reconsume_times(r->reconsume_times);
    m.props = ps;
    m.props_len = (uint32_t)plen;
    store_put_entry e;
    store_put_result res = {.entries = &e};
    bool ok = store_put(p->b->store, &m, 1, &res) == STORE_PUT_OK;
    if (!ok) log_error("pop", "revive of %s-%d@%" PRId64 " to %s failed: %s", ck->topic, ck->queue_id, r->queue_offset,
                       retry, res.reason ? res.reason : "put failed");
    free(ps);
    return ok;
}

/* rePutCK: a new one-message checkpoint for what could not be revived now. */
static void reput_ck(pop_service *p, const pop_ck *old, int64_t offset, int qid)
{
    pop_ck ck = *old;
    ck.bitmap = 0;
    ck.num = 1;
    ck.start_offset = offset;
    ck.diff[0] = 0;
    ck.revive_offset = 0;
    ck.reput_times = old->reput_times + 1;
    if (old->pop_time + old->invisible_time <= now_ms()) {
        int i = old->reput_times >= N_REWRITE ? N_REWRITE - 1 : old->reput_times;
        ck.invisible_time = old->invisible_time + (int64_t)ck_rewrite_intervals_s[i] * 1000;
    }
    pop_append_ck(p, &ck, qid);
}

/* reviveMsgFromCk: every message of CK not acknowledged goes to the retry topic. */
static void revive_ck(pop_service *p, const pop_ck *ck, int qid)
{
    for (int j = 0; j < ck->num; j++) {
        if (ck->bitmap & (1u << j)) continue;
        int64_t offset = ck->start_offset + ck->diff[j];
        store_get_result res;
        if (store_get_messages(p->b->store, POP_REVIVE_GROUP, ck->topic, ck->queue_id, offset, 1, NULL, &res)) {
            reput_ck(p, ck, offset, qid);
            continue;
        }
        msg_record r;
        const char *why;
        if (res.count == 0 || msg_record_decode(res.msgs[0].data, res.msgs[0].len, &r, &why) ||
            r.queue_offset != offset) {
            /* Gone (retention, or never there): nothing to redeliver. */
            log_info("pop", "revive: no message at %s-%d@%" PRId64 ", skipped", ck->topic, ck->queue_id, offset);
        } else if (!revive_message(p, ck, &r)) {
            reput_ck(p, ck, offset, qid);
        }
        store_get_result_release(&res);
    }
}

static int by_revive_offset(const void *a, const void *b)
{
    const pop_ck *x = a, *y = b;
    return x->revive_offset < y->revive_offset ? -1 : x->revive_offset > y->revive_offset;
}

/* consumeReviveMessage + mergeAndRevive for one revive queue. */
static void revive_queue(pop_service *p, int qid)
{
    broker *b = p->b;
    int64_t committed = consumer_offset_query(b->offsets, POP_REVIVE_GROUP, p->revive_topic, qid);
    int64_t old = p->revive_offset[qid] > committed ? p->revive_offset[qid] : committed;
    revive_pass rp = {.p = p};
    bool at_end = scan_queue(&rp, qid, old + 1);
    int64_t now = now_ms();
    /* Nothing newer in sight for 3 s (the timer delivers on time): time is now. */
    if (at_end && rp.end_time != 0 && now - rp.end_time > 3 * SECOND_MS) rp.end_time = now;
    if (rp.n > 1) qsort(rp.cks, rp.n, sizeof *rp.cks, by_revive_offset);  /* no checkpoints: cks is NULL */
    int64_t next = old;
    for (size_t i = 0; i < rp.n; i++) {
        const pop_ck *ck = &rp.cks[i];
        if (rp.end_time - (ck->pop_time + ck->invisible_time) <= POP_ACK_TIME_INTERVAL_MS + SECOND_MS) break;
        topic_config tc;
        subscription_group_config gc;
        if (topic_table_get(b->topics, pop_normal_topic(ck->topic, ck->group), &tc) &&
            subgroup_table_get(b->groups, ck->group, &gc))
            revive_ck(p, ck, qid);
        else
            log_warn("pop", "revive queue %d: topic %s or group %s is gone, checkpoint skipped", qid, ck->topic,
                     ck->group);
        next = ck->revive_offset;
    }
    if (next > old) consumer_offset_commit(b->offsets, POP_REVIVE_GROUP, p->revive_topic, qid, next);
    p->revive_offset[qid] = next;
    free(rp.cks);
}

void pop_revive_now(pop_service *p)
{
    if (p->b->shutting_down) return;
    for (int q = 0; q < p->revive_queue_num; q++) revive_queue(p, q);
}

static void revive_cb(evutil_socket_t fd, short what, void *arg)
{
    pop_revive_now(arg);
}

/* ---- life ---- */

pop_service *pop_new(broker *b, char *err, size_t errlen)
{
    pop_service *p = xcalloc(1, sizeof *p);
    p->b = b;
    snprintf(p->revive_topic, sizeof p->revive_topic, POP_REVIVE_TOPIC_PREFIX "%s", b->cfg.brokerClusterName);
    if (msg_host_parse(&p->store_host, b->addr)) memset(&p->store_host, 0, sizeof p->store_host);
    /* The revive topic has this many queues; a store whose topic has more keeps its config, the queues beyond
     * are not read (as Apache, which reads 0..reviveQueueNum-1). */
    p->revive_queue_num = b->cfg.reviveQueueNum > 0 && b->cfg.reviveQueueNum <= 1024 ? b->cfg.reviveQueueNum
                                                                                     : POP_REVIVE_QUEUE_NUM;
    p->revive_offset = xmalloc((size_t)p->revive_queue_num * sizeof *p->revive_offset);
    for (int q = 0; q < p->revive_queue_num; q++) p->revive_offset[q] = -1;
    if (pop_mode_load(p, err, errlen) || pop_order_load(p, err, errlen)) {
        pop_mode_free_all(p);
        pop_order_free_all(p);
        free(p->revive_offset);
        free(p);
        return NULL;
    }
    /* TopicConfigManager: the cluster's revive topic, reviveQueueNum queues. */
    topic_config tc;
    if (!topic_table_get(b->topics, p->revive_topic, &tc) && topic_config_init(&tc, p->revive_topic)) {
        tc.read_queue_nums = tc.write_queue_nums = p->revive_queue_num;
        topic_table_put(b->topics, &tc);
        topic_table_persist(b->topics);
    }
    return p;
}

static void persist_cb(evutil_socket_t fd, short what, void *arg)
{
    pop_order_persist(arg);
}

void pop_start(pop_service *p)
{
    p->revive_ev = event_new(p->b->base, -1, EV_PERSIST, revive_cb, p);
    int64_t every = p->b->cfg.reviveInterval > 0 ? p->b->cfg.reviveInterval : 1000;  /* reviveInterval, at start */
    struct timeval tv = {every / 1000, (every % 1000) * 1000};
    event_add(p->revive_ev, &tv);
    /* consumerOrderInfo.json with the consumer offsets' period (flushConsumerOffsetInterval) */
    int ms = p->b->cfg.flushConsumerOffsetInterval > 0 ? p->b->cfg.flushConsumerOffsetInterval : 5000;
    p->persist_ev = event_new(p->b->base, -1, EV_PERSIST, persist_cb, p);
    struct timeval ptv = {ms / 1000, (ms % 1000) * 1000};
    event_add(p->persist_ev, &ptv);
}

void pop_free(pop_service *p)
{
    if (!p) return;
    if (p->revive_ev) event_free(p->revive_ev);
    if (p->persist_ev) {
        event_free(p->persist_ev);
        pop_order_persist(p);  /* masters only: a slave's are the master's */
    }
    pop_mode_free_all(p);
    pop_order_free_all(p);
    free(p->revive_offset);
    free(p);
}
