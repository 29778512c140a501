/*
 * Administration of topics and subscription groups (AdminBrokerProcessor):
 * delete a topic, read topic configs and per-queue stats, the system topic
 * list, create/update/delete subscription groups and list them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    GET_ALL_TOPIC_CONFIG = 21,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201,
    GET_TOPIC_STATS_INFO = 202,
    DELETE_SUBSCRIPTIONGROUP = 207,
    DELETE_TOPIC_IN_BROKER = 215,
    GET_SYSTEM_TOPIC_LIST_FROM_BROKER = 305,
    GET_TOPIC_CONFIG = 351,           /* 5.x; the 5.x admin's consume stats read it */
};

/* TopicValidator.validateTopic + isSystemTopic, with Apache's remarks. */
static bool topic_acceptable(const admin *a, const char *topic, rmq_cmd *resp)
{
    const char *why = topic_validate(topic);
    if (why) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, why);
        return false;
    }
    if (topic_table_is_system_topic(a->b->topics, topic)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "The topic[%s] is conflict with system topic.", topic);
        return false;
    }
    return true;
}

static void delete_topic(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    topic_header h = {0};
    if (admin_refused_on_slave(a, resp) || admin_decode(req, resp, admin_topic_field, 1, &h) || !topic_acceptable(a, h.topic, resp))
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
    if (admin_decode(req, resp, admin_topic_field, 1, &h)) return;
    if (!topic_table_get(a->b->topics, h.topic, &tc)) {
        admin_fail(resp, RC_TOPIC_NOT_EXIST, "No topic in this broker. topic: %s", h.topic);
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
    if (admin_decode(req, resp, admin_topic_field, 1, &h) || !admin_topic_or_fail(a, h.topic, &tc, resp)) return;
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
        admin_key_message_queue(&w, a->b->cfg.brokerName, h.topic, q);
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
    if (admin_refused_on_slave(a, resp)) return;
    const char *err = "empty body";
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    const char *name = NULL;
    subscription_group_config c;
    if (!j || !cJSON_IsObject(j) || fjson_field_string(j, "groupName", &name) != FJSON_OK ||
        !subscription_group_config_init(&c, name)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "admin_decode SubscriptionGroupConfig failed: %s", j ? "bad groupName" : err);
        cJSON_Delete(j);
        return;
    }
    /* Fields left out keep SubscriptionGroupConfig's defaults, as fastjson does. */
    char *why = NULL;
    if (subscription_group_config_decode(name, j, &c, &why) != RMQ_OK) {
        admin_fail(resp, RC_SYSTEM_ERROR, "admin_decode SubscriptionGroupConfig failed: %s", why);
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
    if (admin_refused_on_slave(a, resp) || admin_decode(req, resp, delete_group_fields, N(delete_group_fields), &h)) return;
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

const admin_handler admin_topic_handlers[] = {
    {DELETE_TOPIC_IN_BROKER, delete_topic, NULL},
    {GET_ALL_TOPIC_CONFIG, get_all_topic_config, NULL},
    {GET_TOPIC_CONFIG, get_topic_config, NULL},
    {GET_TOPIC_STATS_INFO, get_topic_stats_info, NULL},
    {GET_SYSTEM_TOPIC_LIST_FROM_BROKER, get_system_topic_list, NULL},
    {UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, update_and_create_subgroup, NULL},
    {DELETE_SUBSCRIPTIONGROUP, delete_subgroup, NULL},
    {GET_ALL_SUBSCRIPTIONGROUP_CONFIG, get_all_subgroup_config, NULL},
    {0, NULL, NULL},
};
