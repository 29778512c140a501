/*
 * Offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
 * SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
 * GET_EARLIEST_MSG_STORETIME (32) — ConsumerManageProcessor and AdminBrokerProcessor.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    QUERY_CONSUMER_OFFSET = 14,
    UPDATE_CONSUMER_OFFSET = 15,
    SEARCH_OFFSET_BY_TIMESTAMP = 29,
    GET_MAX_OFFSET = 30,
    GET_MIN_OFFSET = 31,
    GET_EARLIEST_MSG_STORETIME = 32,
};

/* One header shape covers every request here; each code requires its own fields. */
typedef struct offset_header {
    const char *consumerGroup, *topic;
    int32_t queueId;
    int64_t commitOffset, timestamp;
} offset_header;

#define F(member, type, req) {#member, type, req, offsetof(offset_header, member)}
static const hdr_field query_fields[] = {F(consumerGroup, HDR_STR, true), F(topic, HDR_STR, true), F(queueId, HDR_I32, true)};
static const hdr_field update_fields[] = {F(consumerGroup, HDR_STR, true), F(topic, HDR_STR, true),
                                          F(queueId, HDR_I32, true), F(commitOffset, HDR_I64, true)};
static const hdr_field queue_fields[] = {F(topic, HDR_STR, true), F(queueId, HDR_I32, true)};
static const hdr_field search_fields[] = {F(topic, HDR_STR, true), F(queueId, HDR_I32, true), F(timestamp, HDR_I64, true)};
#undef F
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int offset_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    offset_header h = {0};
    const hdr_field *fields;
    size_t n;
    switch (req->code) {
    case QUERY_CONSUMER_OFFSET: fields = query_fields; n = N(query_fields); break;
    case UPDATE_CONSUMER_OFFSET: fields = update_fields; n = N(update_fields); break;
    case SEARCH_OFFSET_BY_TIMESTAMP: fields = search_fields; n = N(search_fields); break;
    default: fields = queue_fields; n = N(queue_fields); break;
    }
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_declare(resp);
    *out = resp;
    char err[512];
    if (cmd_decode_header(req, fields, n, &h, err, sizeof err)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    switch (req->code) {
    case QUERY_CONSUMER_OFFSET: {
        int64_t off = consumer_offset_query(b->offsets, h.consumerGroup, h.topic, h.queueId);
        if (off >= 0) {
            cmd_ext_set_int(resp, "offset", off);
        } else if (store_min_offset_in_queue(b->store, h.topic, h.queueId) <= 0) {
            /* A young queue whose first message is still in memory: start at 0 (Apache 4.9.8). */
            cmd_ext_set_int(resp, "offset", 0);
        } else {
            cmd_set_code(resp, RC_QUERY_NOT_FOUND, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
        }
        break;
    }
    case UPDATE_CONSUMER_OFFSET:
        consumer_offset_commit(b->offsets, h.consumerGroup, h.topic, h.queueId, h.commitOffset);
        break;
    case SEARCH_OFFSET_BY_TIMESTAMP:
        cmd_ext_set_int(resp, "offset", store_offset_by_time(b->store, h.topic, h.queueId, h.timestamp));
        break;
    case GET_MAX_OFFSET:
        cmd_ext_set_int(resp, "offset", store_max_offset_in_queue(b->store, h.topic, h.queueId));
        break;
    case GET_MIN_OFFSET:
        cmd_ext_set_int(resp, "offset", store_min_offset_in_queue(b->store, h.topic, h.queueId));
        break;
    case GET_EARLIEST_MSG_STORETIME:
        cmd_ext_set_int(resp, "timestamp", store_earliest_message_time(b->store, h.topic, h.queueId));
        break;
    }
    return RMQ_OK;
}

void processor_register_offset(rmq_server *s, broker *b)
{
    static const int codes[] = {QUERY_CONSUMER_OFFSET, UPDATE_CONSUMER_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP,
                                GET_MAX_OFFSET, GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME};
    for (size_t i = 0; i < N(codes); i++) rmq_server_register(s, codes[i], offset_processor, b);
}
