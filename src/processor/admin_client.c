/*
 * Requests relayed to online consumers (Broker2Client): GET_CONSUMER_RUNNING_INFO,
 * CONSUME_MESSAGE_DIRECTLY and GET_CONSUMER_STATUS_FROM_CLIENT are answered
 * later with RMQ_AGAIN once the client replied or timed out; an offset reset
 * is pushed to every client of the group.
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
    RESET_CONSUMER_CLIENT_OFFSET = 220,
    GET_CONSUMER_STATUS_FROM_CLIENT = 221,
    INVOKE_BROKER_TO_RESET_OFFSET = 222,
    INVOKE_BROKER_TO_GET_CONSUMER_STATUS = 223,
    GET_CONSUMER_RUNNING_INFO = 307,
    CONSUME_MESSAGE_DIRECTLY = 309,
};

#define RC_CONSUME_MSG_TIMEOUT 207
#define CALL_CLIENT_TIMEOUT_MS 10000   /* Broker2Client.callClient */
#define VERSION_V3_0_7_SNAPSHOT 28     /* MQVersion.Version ordinals */
#define VERSION_V3_1_8_SNAPSHOT 62
#define LANGUAGE_CPP 1

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
            admin_fail(resp, RC_CONSUME_MSG_TIMEOUT, "consumer <%s> <%s> Timeout: %s", r->group, r->client_id, err);
        else
            admin_fail(resp, RC_SYSTEM_ERROR, "invoke consumer <%s> <%s> Exception: %s", r->group, r->client_id, err);
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
        admin_fail(resp, RC_SYSTEM_ERROR, "The Consumer <%s> <%s> not online", group, client_id ? client_id : "null");
        return RMQ_OK;
    }
    if (ch->version < VERSION_V3_1_8_SNAPSHOT) {
        admin_fail(resp, RC_SYSTEM_ERROR,
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
    if (admin_decode(req, resp, running_fields, N(running_fields), &h)) return RMQ_OK;
    return call_consumer(a, conn, req, resp, h.consumerGroup, h.clientId, req->body, req->body_len);
}

/* The client consumes the stored record of the offset msgId it is sent. */
static int consume_message_directly(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    running_header h = {0};
    if (admin_decode(req, resp, directly_fields, N(directly_fields), &h)) return RMQ_OK;
    msg_host host;
    int64_t offset;
    store_slice sl;
    if (!h.msgId || msg_offset_id_decode(h.msgId, &host, &offset)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "the msgId <%s> is not an offset message id", h.msgId ? h.msgId : "null");
        return RMQ_OK;
    }
    if (store_get_record(a->b->store, offset, &sl)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "can not find message by the offset, %lld", (long long)offset);
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
        admin_copy_item(&r->table, table);
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
    if (admin_decode(req, resp, status_fields, N(status_fields), &h)) return RMQ_OK;
    const consumer_group *g = clients_consumer_group(a->b->clients, h.group);
    if (!g || !g->n_channels) {
        admin_fail(resp, RC_SYSTEM_ERROR, "No Any Consumer online in the consumer group: [%s]", h.group);
        return RMQ_OK;
    }
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].version < VERSION_V3_0_7_SNAPSHOT) {
            admin_fail(resp, RC_SYSTEM_ERROR, "the client does not support this feature. version=%d", g->channels[i].version);
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
            admin_key_message_queue(w, a->b->cfg.brokerName, topic, q);
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
/*
 * 5.x's one-queue reset (ResetOffsetRequestHeader.queueId >= 0, resetOffsetByQueueId of
 * `mqadmin resetOffsetByTime -b -q [-o]`), served broker-side as resetOffsetInner does it:
 * the header's offset (checked against the queue) or the one of the timestamp becomes the
 * group's offset; online clients are told as for a whole-topic reset.
 */
static void reset_one_queue(admin *a, rmq_cmd *req, rmq_cmd *resp, const status_header *h, int32_t queue_id)
{
    broker *b = a->b;
    topic_config tc;
    subscription_group_config g;
    if (broker_is_slave(b)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "Can not reset offset in slave broker");
        return;
    }
    if (!topic_table_get(b->topics, h->topic, &tc)) {
        admin_fail(resp, RC_TOPIC_NOT_EXIST, "Topic %s does not exist", h->topic);
        return;
    }
    if (!subgroup_table_get(b->groups, h->group, &g)) {
        admin_fail(resp, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "Group %s does not exist", h->group);
        return;
    }
    int64_t offset = -1;
    const char *given = cmd_ext_get(req, "offset");
    if (given && *given && parse_int64(given, &offset) != RMQ_OK) {
        admin_fail(resp, RC_SYSTEM_ERROR, "decode ResetOffsetRequestHeader failed: offset %s", given);
        return;
    }
    if (offset != -1) {
        int64_t min = store_min_offset_in_queue(b->store, h->topic, queue_id);
        int64_t max = store_max_offset_in_queue(b->store, h->topic, queue_id);
        if ((min >= 0 && offset < min) || offset > max + 1) {
            admin_fail(resp, RC_SYSTEM_ERROR, "Target offset %lld not in consume queue range [%lld-%lld]",
                       (long long)offset, (long long)min, (long long)max);
            return;
        }
    } else {
        offset = h->timestamp < 0 ? store_max_offset_in_queue(b->store, h->topic, queue_id)
                                  : store_offset_by_time(b->store, h->topic, queue_id, h->timestamp);
    }
    consumer_offset_commit(b->offsets, h->group, h->topic, queue_id, offset);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "offsetTable");
    fjson_begin_object(&w);
    admin_key_message_queue(&w, b->cfg.brokerName, h->topic, queue_id);
    fjson_int64(&w, offset);
    fjson_end_object(&w);
    fjson_end_object(&w);
    size_t len;
    char *body = fjson_writer_finish(&w, &len);
    const consumer_group *cg = clients_consumer_group(b->clients, h->group);
    for (size_t i = 0; cg && i < cg->n_channels; i++) {
        rmq_cmd *push = cmd_new_request(RESET_CONSUMER_CLIENT_OFFSET);
        cmd_ext_set(push, "topic", h->topic);
        cmd_ext_set(push, "group", h->group);
        cmd_ext_set_int(push, "timestamp", h->timestamp);
        cmd_ext_set_bool(push, "isForce", false);
        cmd_set_body(push, body, len);
        rmq_conn_oneway(cg->channels[i].conn, push);
    }
    cmd_take_body(resp, body, len);
    log_info("admin", "[reset-offset] reset offset, topic=%s, group=%s, queue=%d, offset=%lld", h->topic, h->group,
             queue_id, (long long)offset);
}

static void reset_offset(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    status_header h = {0};
    topic_config tc;
    if (admin_decode(req, resp, reset_fields, N(reset_fields), &h)) return;
    int64_t queue_id = -1;
    const char *qid = cmd_ext_get(req, "queueId");
    if (qid && parse_int64(qid, &queue_id) == RMQ_OK && queue_id >= 0) {
        reset_one_queue(a, req, resp, &h, (int32_t)queue_id);
        return;
    }
    if (!topic_table_get(a->b->topics, h.topic, &tc)) {
        admin_fail(resp, RC_SYSTEM_ERROR, "[reset-offset] reset offset failed, no topic in this broker. topic=%s", h.topic);
        return;
    }
    int64_t *offsets = xcalloc((size_t)tc.write_queue_nums + 1, sizeof *offsets);
    for (int32_t q = 0; q < tc.write_queue_nums; q++) {
        int64_t consumer_off = consumer_offset_query(a->b->offsets, h.group, h.topic, q);
        if (consumer_off == -1) {
            admin_fail(resp, RC_SYSTEM_ERROR, "THe consumer group <%s> not exist", h.group);
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
        admin_fail(resp, RC_CONSUMER_NOT_ONLINE,
             "Consumer not online, so can not reset offset, Group: %s Topic: %s Timestamp: %lld", h.group, h.topic,
             (long long)h.timestamp);
        free(offsets);
        return;
    }
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].version < VERSION_V3_0_7_SNAPSHOT) {
            admin_fail(resp, RC_SYSTEM_ERROR, "the client does not support this feature. version=%d", g->channels[i].version);
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

const admin_handler admin_client_handlers[] = {
    {INVOKE_BROKER_TO_RESET_OFFSET, reset_offset, NULL},
    {INVOKE_BROKER_TO_GET_CONSUMER_STATUS, NULL, get_consumer_status},
    {GET_CONSUMER_RUNNING_INFO, NULL, get_consumer_running_info},
    {CONSUME_MESSAGE_DIRECTLY, NULL, consume_message_directly},
    {0, NULL, NULL},
};
