/*
 * Consume progress and consume queues (AdminBrokerProcessor): consume stats
 * of a group or of the whole broker, who consumes a topic, time spans,
 * offset cloning, consume-queue queries and cleanup, and the offset tables
 * slaves and tools read whole.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "meta/meta.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    GET_ALL_CONSUMER_OFFSET = 43,
    GET_ALL_DELAY_OFFSET = 45,
    GET_CONSUME_STATS = 208,
    QUERY_TOPIC_CONSUME_BY_WHO = 300,
    QUERY_CONSUME_TIME_SPAN = 303,
    CLEAN_EXPIRED_CONSUMEQUEUE = 306,
    CLONE_GROUP_OFFSET = 314,
    CLEAN_UNUSED_TOPIC = 316,
    GET_BROKER_CONSUME_STATS = 317,
    QUERY_CONSUME_QUEUE = 321,
    DELETE_EXPIRED_COMMITLOG = 329,
    QUERY_TOPICS_BY_CONSUMER = 343,   /* 5.x; cheap to serve, 4.9.8 tools never send it */
};

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
        admin_key_message_queue(w, a->b->cfg.brokerName, topic, q);
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
    if (admin_decode(req, resp, consume_stats_fields, N(consume_stats_fields), &h)) return;
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
    if (admin_decode(req, resp, broker_consume_stats_fields, N(broker_consume_stats_fields), &h)) return;
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
    if (admin_decode(req, resp, admin_topic_field, 1, &h)) return;
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
        if (!admin_list_has(stored, n_stored, online[i])) fjson_string(&w, online[i]);
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
    if (admin_decode(req, resp, by_consumer_fields, 1, &h)) return;
    char **topics = consumer_offset_topics_of_group(a->b->offsets, h.group);
    size_t n = 0;
    while (topics[n]) n++;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_string(&w, "brokerAddr", a->b->addr);
    admin_write_string_list(&w, "topicList", topics, n);
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
    if (admin_decode(req, resp, span_fields, N(span_fields), &h) || !admin_topic_or_fail(a, h.topic, &tc, resp)) return;
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
        admin_write_message_queue(&w, a->b->cfg.brokerName, h.topic, q);
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
    if (admin_decode(req, resp, clone_fields, N(clone_fields), &h)) return;
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

/* AdminBrokerProcessor.deleteExpiredCommitLog: executeDeleteFilesManually, so the cleaner's next
 * passes delete expired commit log files whatever the hour (deleteWhen) and the disk use. */
static void delete_expired_commitlog(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    log_warn("admin", "invoke deleteExpiredCommitLog by %s", rmq_conn_remote(conn));
    store_delete_files_manually(a->b->store);
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
        topic_table_get(qw->a->b->topics, topic, &tc) || admin_list_has(qw->unused, qw->n_unused, topic))
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
    if (admin_decode(req, resp, cq_fields, N(cq_fields), &h)) return;
    queue_walk qw = {.a = a, .topic = h.topic, .queue_id = h.queueId};
    store_foreach_queue(a->b->store, find_queue, &qw);
    if (!qw.found) {
        admin_fail(resp, RC_SYSTEM_ERROR, "%d@%s is not exist!", h.queueId, h.topic);
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

const admin_handler admin_consume_handlers[] = {
    {GET_CONSUME_STATS, get_consume_stats, NULL},
    {GET_BROKER_CONSUME_STATS, get_broker_consume_stats, NULL},
    {QUERY_TOPIC_CONSUME_BY_WHO, query_topic_consume_by_who, NULL},
    {QUERY_TOPICS_BY_CONSUMER, query_topics_by_consumer, NULL},
    {QUERY_CONSUME_TIME_SPAN, query_consume_time_span, NULL},
    {CLONE_GROUP_OFFSET, clone_group_offset, NULL},
    {CLEAN_EXPIRED_CONSUMEQUEUE, clean_expired_consume_queue, NULL},
    {CLEAN_UNUSED_TOPIC, clean_unused_topic, NULL},
    {DELETE_EXPIRED_COMMITLOG, delete_expired_commitlog, NULL},
    {QUERY_CONSUME_QUEUE, query_consume_queue, NULL},
    {GET_ALL_CONSUMER_OFFSET, get_all_consumer_offset, NULL},
    {GET_ALL_DELAY_OFFSET, get_all_delay_offset, NULL},
    {0, NULL, NULL},
};
