/*
 * Administration requests that 5.x clients and the 5.x mqadmin send
 * (Apache 5.3 AdminBrokerProcessor): UPDATE_AND_CREATE_TOPIC with topic
 * attributes, UPDATE_AND_CREATE_TOPIC_LIST, GET_SUBSCRIPTIONGROUP_CONFIG, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST
 * and GET_ALL_PRODUCER_INFO. A 4.9.8 request (no `attributes`) is answered as
 * 4.9.8 answers it. Dispatched by admin_processor.c through admin5_handlers.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/clients.h"
#include "broker/schedule.h"
#include "common/fjson.h"
#include "common/util.h"
#include "meta/meta.h"
#include "admin_int.h"
#include "response_codes.h"

enum {
    UPDATE_AND_CREATE_TOPIC = 17,
    UPDATE_AND_CREATE_TOPIC_LIST = 18,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST = 225,
    GET_ALL_PRODUCER_INFO = 328,
    GET_SUBSCRIPTIONGROUP_CONFIG = 352,
    GET_TIMER_CHECK_POINT = 60,
    GET_TIMER_METRICS = 61,
};

/* ---- UPDATE_AND_CREATE_TOPIC ---- */

typedef struct create_topic_header {
    const char *topic, *defaultTopic, *topicFilterType, *attributes;
    int32_t readQueueNums, writeQueueNums, perm, topicSysFlag;
    bool order;
} create_topic_header;

#define F(member, type, req) {#member, type, req, offsetof(create_topic_header, member)}
static const hdr_field create_topic_fields[] = {
    F(topic, HDR_STR, true), F(defaultTopic, HDR_STR, true), F(readQueueNums, HDR_I32, true),
    F(writeQueueNums, HDR_I32, true), F(perm, HDR_I32, true), F(topicFilterType, HDR_STR, true),
    F(topicSysFlag, HDR_I32, false), F(order, HDR_BOOL, true), F(attributes, HDR_STR, false),
};
#undef F

static void update_and_create_topic(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    create_topic_header h = {0};
    if (admin_refused_on_slave(a, resp) ||
        admin_decode(req, resp, create_topic_fields, N(create_topic_fields), &h) != RMQ_OK)
        return;
    /* TopicValidator.validateTopic + isSystemTopic, with 4.9.8's code */
    const char *why = topic_validate(h.topic);
    if (why) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, why);
        return;
    }
    char text[512];
    if (topic_table_is_system_topic(b->topics, h.topic)) {
        snprintf(text, sizeof text, "The topic[%s] is conflict with system topic.", h.topic);
        cmd_set_code(resp, RC_SYSTEM_ERROR, text);
        return;
    }
    topic_config tc, old;
    bool exists = topic_table_get(b->topics, h.topic, &old);
    topic_config_init(&tc, h.topic);
    tc.read_queue_nums = h.readQueueNums;
    tc.write_queue_nums = h.writeQueueNums;
    tc.perm = h.perm;
    tc.topic_filter_type = strcmp(h.topicFilterType, "MULTI_TAG") == 0 ? TOPIC_FILTER_MULTI_TAG : TOPIC_FILTER_SINGLE_TAG;
    tc.topic_sys_flag = h.topicSysFlag;   /* 4.9.8 takes no `order` from this request */
    /* 5.x: the modification is parsed first, MIXED refused (enableMixedMessageType is
     * false), then applied over the topic's current attributes. */
    if (exists) memcpy(tc.attributes, old.attributes, sizeof tc.attributes);
    bool mixed;
    if ((why = topic_attributes_parse(h.attributes, &mixed, text, sizeof text))) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, why);
        return;
    }
    if (mixed) {
        cmd_set_code(resp, RC_INVALID_PARAMETER, "MIXED message type is not supported.");
        return;
    }
    if ((why = topic_attributes_alter(&tc, h.attributes, !exists, text, sizeof text))) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, why);
        return;
    }
    topic_table_put(b->topics, &tc);
    broker_topic_changed(b, tc.topic_name);
    /* Apache leaves the remark of createResponseCommand(null) in place. */
    cmd_set_remark(resp, "not set any response code");
}

/*
 * AttributeParser.parseToString of a TopicConfig's `attributes` map as 5.x admins send it
 * ({"+message.type":"FIFO","-reserve.time":""}); false when it is no map of strings.
 */
static bool modification_of(const cJSON *attrs, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    if (!attrs || cJSON_IsNull(attrs)) return true;
    if (!cJSON_IsObject(attrs)) return false;
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        if (!cJSON_IsString(a)) return false;
        int w = snprintf(out + n, cap - n, "%s%s%s%s", n ? "," : "", a->string, a->valuestring[0] ? "=" : "",
                         a->valuestring);
        if (w < 0 || (size_t)w >= cap - n) return false;
        n += (size_t)w;
    }
    return true;
}

/* 5.x TopicConfig.equals against what is stored: the request's map holds "+key" entries,
 * so only a request without attributes can equal a topic without any. */
static bool same_topic_config(const topic_config *a, const topic_config *stored, const char *modification)
{
    return !modification[0] && !topic_config_has_attributes(stored) && a->read_queue_nums == stored->read_queue_nums &&
           a->write_queue_nums == stored->write_queue_nums && a->perm == stored->perm &&
           a->topic_filter_type == stored->topic_filter_type && a->topic_sys_flag == stored->topic_sys_flag &&
           a->order == stored->order;
}

/*
 * UPDATE_AND_CREATE_TOPIC_LIST (CreateTopicListRequestBody {"topicConfigList":[TopicConfig...]}):
 * every topic validated first (INVALID_PARAMETER, 5.x's code), and, as Apache does, a topic equal
 * to its stored config ends the request with SUCCESS; then each is applied in turn
 * (updateSingleTopicConfigWithoutPersist), a refused attribute stopping there with SYSTEM_ERROR.
 */
static void update_and_create_topic_list(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    if (admin_refused_on_slave(a, resp)) return;
    const char *err = "empty body";
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    const cJSON *list = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "topicConfigList") : NULL;
    if (!cJSON_IsArray(list)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "decode CreateTopicListRequestBody failed");
        cJSON_Delete(j);
        return;
    }
    int n = cJSON_GetArraySize(list);
    topic_config *tcs = xcalloc((size_t)n + 1, sizeof *tcs);
    char (*mods)[512] = xcalloc((size_t)n + 1, sizeof *mods);
    char text[600];
    int code = RC_SUCCESS;
    for (int i = 0; i < n && code == RC_SUCCESS; i++) {
        cJSON *it = cJSON_GetArrayItem(list, i);
        const char *name = NULL;
        char *why = NULL;
        cJSON *attrs = cJSON_IsObject(it) ? cJSON_DetachItemFromObjectCaseSensitive(it, "attributes") : NULL;
        bool ok = cJSON_IsObject(it) && fjson_field_string(it, "topicName", &name) == FJSON_OK &&
                  modification_of(attrs, mods[i], sizeof mods[i]);
        cJSON_Delete(attrs);
        const char *bad = ok ? topic_validate(name) : NULL;
        bool mixed = false;
        topic_config stored;
        if (!ok) {
            code = RC_SYSTEM_ERROR, snprintf(text, sizeof text, "decode CreateTopicListRequestBody failed");
        } else if (bad) {
            code = RC_INVALID_PARAMETER, snprintf(text, sizeof text, "%s", bad);
        } else if (topic_table_is_system_topic(b->topics, name)) {
            code = RC_INVALID_PARAMETER, snprintf(text, sizeof text, "The topic[%s] is conflict with system topic.", name);
        } else if (topic_config_decode(name, it, &tcs[i], &why) != RMQ_OK) {
            code = RC_SYSTEM_ERROR, snprintf(text, sizeof text, "decode CreateTopicListRequestBody failed: %s", why);
        } else if ((bad = topic_attributes_parse(mods[i], &mixed, text, sizeof text))) {
            code = RC_SYSTEM_ERROR;
        } else if (mixed) {
            code = RC_INVALID_PARAMETER, snprintf(text, sizeof text, "MIXED message type is not supported.");
        } else if (topic_table_get(b->topics, name, &stored) && same_topic_config(&tcs[i], &stored, mods[i])) {
            n = 0;   /* idempotent: Apache answers SUCCESS and applies none */
        }
        free(why);
    }
    for (int i = 0; i < n && code == RC_SUCCESS; i++) {
        topic_config stored;
        bool exists = topic_table_get(b->topics, tcs[i].topic_name, &stored);
        if (exists) memcpy(tcs[i].attributes, stored.attributes, sizeof tcs[i].attributes);
        if (topic_attributes_alter(&tcs[i], mods[i], !exists, text, sizeof text)) {
            code = RC_SYSTEM_ERROR;
            break;
        }
        topic_table_put(b->topics, &tcs[i]);
        broker_topic_changed(b, tcs[i].topic_name);
    }
    if (code != RC_SUCCESS) cmd_set_code(resp, code, text);
    free(mods);
    free(tcs);
    cJSON_Delete(j);
}

/* ---- subscription groups ---- */

typedef struct group_header {
    const char *group;
} group_header;

static const hdr_field group_field[] = {{"group", HDR_STR, true, offsetof(group_header, group)}};

/* findSubscriptionGroupConfig (creating it when autoCreateSubscriptionGroup), or
 * SUBSCRIPTION_GROUP_NOT_EXIST. */
static void get_subscription_group_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    group_header h = {0};
    if (admin_decode(req, resp, group_field, N(group_field), &h) != RMQ_OK) return;
    subscription_group_config c;
    bool created = false;
    if (!subgroup_table_find(b->groups, h.group, &c, &created)) {
        cmd_set_code(resp, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "No group in this broker");
        return;
    }
    if (created) broker_group_changed(b, c.group_name);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    subscription_group_config_write(&c, &w);
    processor_json_body(resp, &w);
}

/* SubscriptionGroupList {"groupConfigList":[SubscriptionGroupConfig...]}: all or nothing. */
static void update_and_create_subgroup_list(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    if (admin_refused_on_slave(a, resp)) return;
    const char *err = "empty body";
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    const cJSON *list = j ? cJSON_GetObjectItemCaseSensitive(j, "groupConfigList") : NULL;
    if (!j || !cJSON_IsObject(j) || (list && !cJSON_IsArray(list) && !cJSON_IsNull(list))) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, j ? "decode SubscriptionGroupList failed: groupConfigList is not a list"
                                              : "decode SubscriptionGroupList failed");
        cJSON_Delete(j);
        return;
    }
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    subscription_group_config *cs = xcalloc((size_t)n + 1, sizeof *cs);
    char text[512];
    const char *bad = NULL;
    for (int i = 0; i < n && !bad; i++) {
        const cJSON *it = cJSON_GetArrayItem(list, i);
        const char *name = NULL;
        char *why = NULL;
        if (!cJSON_IsObject(it) || fjson_field_string(it, "groupName", &name) != FJSON_OK ||
            !subscription_group_config_init(&cs[i], name)) {
            bad = "bad groupName";
        } else if (subscription_group_config_decode(name, it, &cs[i], &why) != RMQ_OK) {
            snprintf(text, sizeof text, "%s", why);
            free(why);
            bad = text;
        }
    }
    if (bad) {
        char msg[600];
        snprintf(msg, sizeof msg, "decode SubscriptionGroupConfig failed: %s", bad);
        cmd_set_code(resp, RC_SYSTEM_ERROR, msg);
    } else {
        for (int i = 0; i < n; i++) {
            subgroup_table_put(b->groups, &cs[i]);
            broker_group_changed(b, cs[i].group_name);
        }
    }
    free(cs);
    cJSON_Delete(j);
}

/* ---- GET_ALL_PRODUCER_INFO: ProducerTableInfo {"data":{group:[ProducerInfo...]}} ---- */

static void get_all_producer_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    size_t n;
    const producer_group **groups = clients_producer_groups(b->clients, &n);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "data");
    fjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        fjson_key(&w, groups[i]->name);
        fjson_begin_array(&w);
        for (size_t k = 0; k < groups[i]->n_channels; k++) {
            const client_channel *ch = &groups[i]->channels[k];
            char remote[128];
            snprintf(remote, sizeof remote, "/%s", rmq_conn_remote(ch->conn));   /* SocketAddress.toString */
            fjson_begin_object(&w);
            fjson_prop_string(&w, "clientId", ch->client_id);
            fjson_prop_string(&w, "language", language_name(ch->language));
            fjson_prop_int64(&w, "lastUpdateTimestamp", ch->last_update_ms);
            fjson_prop_string(&w, "remoteIP", remote);
            fjson_prop_int64(&w, "version", ch->version);
            fjson_end_object(&w);
        }
        fjson_end_array(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    free(groups);
    processor_json_body(resp, &w);
}

/* ---- GET_TIMER_CHECK_POINT, GET_TIMER_METRICS: what a 5.x slave copies from its master ---- */

static void get_timer_check_point(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    uint8_t cp[56];
    if (!schedule_timer_checkpoint_bytes(a->b, cp)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "The checkpoint is null");
        return;
    }
    cmd_set_body(resp, cp, sizeof cp);
}

static void get_timer_metrics(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    size_t len;
    char *json = schedule_timer_metrics_json(a->b, &len);
    if (!json) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "The timer message store is null");
        return;
    }
    cmd_set_body(resp, json, len);
    free(json);
}

/* ---- handler table (admin_int.h) ---- */

const admin_handler admin5_handlers[] = {
    {UPDATE_AND_CREATE_TOPIC, update_and_create_topic, NULL},
    {UPDATE_AND_CREATE_TOPIC_LIST, update_and_create_topic_list, NULL},
    {UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, update_and_create_subgroup_list, NULL},
    {GET_ALL_PRODUCER_INFO, get_all_producer_info, NULL},
    {GET_SUBSCRIPTIONGROUP_CONFIG, get_subscription_group_config, NULL},
    {GET_TIMER_CHECK_POINT, get_timer_check_point, NULL},
    {GET_TIMER_METRICS, get_timer_metrics, NULL},
    {0},
};
