/*
 * Administration requests of AdminBrokerProcessor that clients and slaves use:
 * UPDATE_AND_CREATE_TOPIC (17), GET_ALL_TOPIC_CONFIG (21), GET_BROKER_CONFIG (26),
 * VIEW_MESSAGE_BY_ID (33), GET_ALL_CONSUMER_OFFSET (43), GET_ALL_DELAY_OFFSET (45),
 * GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201), DELETE_TOPIC_IN_BROKER (215).
 */
#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "common/fjson.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    UPDATE_AND_CREATE_TOPIC = 17,
    GET_ALL_TOPIC_CONFIG = 21,
    GET_BROKER_CONFIG = 26,
    VIEW_MESSAGE_BY_ID = 33,
    GET_ALL_CONSUMER_OFFSET = 43,
    GET_ALL_DELAY_OFFSET = 45,
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG = 201,
    DELETE_TOPIC_IN_BROKER = 215,
};

typedef struct create_topic_header {
    const char *topic, *defaultTopic, *topicFilterType;
    int32_t readQueueNums, writeQueueNums, perm, topicSysFlag;
    bool order;
} create_topic_header;

#define F(member, type, req) {#member, type, req, offsetof(create_topic_header, member)}
static const hdr_field create_topic_fields[] = {
    F(topic, HDR_STR, true), F(defaultTopic, HDR_STR, true), F(readQueueNums, HDR_I32, true),
    F(writeQueueNums, HDR_I32, true), F(perm, HDR_I32, true), F(topicFilterType, HDR_STR, true),
    F(topicSysFlag, HDR_I32, false), F(order, HDR_BOOL, true),
};
#undef F

static int admin_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    *out = resp;
    char err[512];
    size_t len;
    switch (req->code) {
    case UPDATE_AND_CREATE_TOPIC: {
        create_topic_header h = {0};
        if (cmd_decode_header(req, create_topic_fields, sizeof create_topic_fields / sizeof create_topic_fields[0],
                              &h, err, sizeof err)) {
            cmd_set_code(resp, RC_SYSTEM_ERROR, err);
            break;
        }
        if (strcmp(h.topic, b->cfg.brokerClusterName) == 0) {
            cmd_set_code(resp, RC_SYSTEM_ERROR, NULL);
            cmd_set_remark(resp, "The topic[%s] is conflict with system reserved words.", h.topic);
            break;
        }
        const char *why = topic_validate(h.topic);
        if (why) {
            cmd_set_code(resp, RC_SYSTEM_ERROR, why);
            break;
        }
        topic_config tc;
        topic_config_init(&tc, h.topic);
        tc.read_queue_nums = h.readQueueNums;
        tc.write_queue_nums = h.writeQueueNums;
        tc.perm = h.perm;
        tc.topic_filter_type = strcmp(h.topicFilterType, "MULTI_TAG") == 0 ? TOPIC_FILTER_MULTI_TAG
                                                                           : TOPIC_FILTER_SINGLE_TAG;
        tc.topic_sys_flag = h.topicSysFlag;
        tc.order = h.order;
        topic_table_put(b->topics, &tc);
        broker_topics_changed(b);
        /* Apache leaves the remark of createResponseCommand in place. */
        cmd_set_remark(resp, "not set any response code");
        break;
    }
    case GET_ALL_TOPIC_CONFIG: {
        char *json = topic_table_encode(b->topics, false, &len);
        cmd_take_body(resp, json, len);
        break;
    }
    case GET_BROKER_CONFIG: {
        char *props = broker_config_properties(&b->cfg);
        data_version dv = topic_table_data_version(b->topics);
        char ver[96];
        snprintf(ver, sizeof ver, "{\"counter\":%lld,\"timestamp\":%lld}", (long long)dv.counter, (long long)dv.timestamp);
        cmd_ext_set(resp, "version", ver);
        cmd_take_body(resp, props, strlen(props));
        break;
    }
    case VIEW_MESSAGE_BY_ID: {
        int64_t off;
        if (cmd_ext_int64(req, "offset", &off) != EXT_OK) {
            cmd_set_code(resp, RC_SYSTEM_ERROR,
                         "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <offset> is null");
            break;
        }
        store_slice sl;
        if (store_get_record(b->store, off, &sl)) {
            cmd_set_code(resp, RC_SYSTEM_ERROR, NULL);
            cmd_set_remark(resp, "can not find message by the offset, %lld", (long long)off);
            break;
        }
        cmd_set_body(resp, sl.data, sl.len);
        store_slice_release(&sl);
        break;
    }
    case GET_ALL_CONSUMER_OFFSET:
        cmd_take_body(resp, consumer_offset_encode(b->offsets, false, &len), len);
        break;
    case GET_ALL_DELAY_OFFSET:
        cmd_take_body(resp, delay_offset_encode(b->delay_offsets, false, &len), len);
        break;
    case GET_ALL_SUBSCRIPTIONGROUP_CONFIG:
        cmd_take_body(resp, subgroup_table_encode(b->groups, false, &len), len);
        break;
    case DELETE_TOPIC_IN_BROKER: {
        const char *topic = cmd_ext_get(req, "topic");
        if (!topic) {
            cmd_set_code(resp, RC_SYSTEM_ERROR,
                         "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <topic> is null");
            break;
        }
        topic_table_delete(b->topics, topic);
        broker_topics_changed(b);
        consumer_offset_remove_topic(b->offsets, topic);
        store_delete_topic(b->store, topic);
        break;
    }
    }
    return RMQ_OK;
}

void processor_register_admin(rmq_server *s, broker *b)
{
    static const int codes[] = {UPDATE_AND_CREATE_TOPIC, GET_ALL_TOPIC_CONFIG, GET_BROKER_CONFIG, VIEW_MESSAGE_BY_ID,
                                GET_ALL_CONSUMER_OFFSET, GET_ALL_DELAY_OFFSET, GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
                                DELETE_TOPIC_IN_BROKER};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) rmq_server_register(s, codes[i], admin_processor, b);
}
