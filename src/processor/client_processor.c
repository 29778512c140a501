/*
 * Client management: HEART_BEAT, UNREGISTER_CLIENT and CHECK_CLIENT_CONFIG
 * (Apache's ClientManageProcessor), GET_CONSUMER_LIST_BY_GROUP
 * (ConsumerManageProcessor), LOCK_BATCH_MQ / UNLOCK_BATCH_MQ and the
 * connection lists (AdminBrokerProcessor). The state lives in
 * src/broker/clients.c; this file turns bodies and headers into calls on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/util.h"
#include "filter/filter.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"

enum {
    HEART_BEAT = 34,
    UNREGISTER_CLIENT = 35,
    GET_CONSUMER_LIST_BY_GROUP = 38,
    LOCK_BATCH_MQ = 41,
    UNLOCK_BATCH_MQ = 42,
    CHECK_CLIENT_CONFIG = 46,
    GET_CONSUMER_CONNECTION_LIST = 203,
    GET_PRODUCER_CONNECTION_LIST = 204,
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Apache answers an undecodable body with the exception's text as SYSTEM_ERROR. */
static cJSON *parse_body(const rmq_cmd *req, const char *what, rmq_cmd **resp)
{
    const char *err = "empty body";
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
        err = "not a JSON object";
    }
    if (!j) *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "decode %s failed: %s", what, err);
    return j;
}

/* A string field that must be there; NULL with a reason in *why otherwise. */
static const char *required_string(const cJSON *obj, const char *name, char *why, size_t len)
{
    const char *s = NULL;
    switch (fjson_field_string(obj, name, &s)) {
    case FJSON_OK: return s;
    case FJSON_MISSING: snprintf(why, len, "%s is null", name); break;
    default: snprintf(why, len, "%s is not a string", name); break;
    }
    return NULL;
}

/* A Java enum field: its name or its ordinal, as fastjson accepts either. */
static bool parse_enum(const cJSON *obj, const char *name, int (*from_name)(const char *),
                       const char *(*to_name)(int), int *out, char *why, size_t len)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    int64_t ordinal;
    if (!item || cJSON_IsNull(item)) {
        *out = -1;
        return true;
    }
    if (cJSON_IsString(item) && (*out = from_name(item->valuestring)) >= 0) return true;
    if (cJSON_IsNumber(item) && fjson_get_int64(item, &ordinal) && ordinal >= 0 && ordinal < 64 &&
        to_name((int)ordinal)) {
        *out = (int)ordinal;
        return true;
    }
    snprintf(why, len, "%s: no such enum value", name);
    return false;
}

/* Strings of a JSON array (numbers as their token, as fastjson converts them). */
static bool string_array(const cJSON *obj, const char *name, const char ***out, size_t *n, char *why,
                         size_t len)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr)) return true;
    if (!cJSON_IsArray(arr)) {
        snprintf(why, len, "%s is not an array", name);
        return false;
    }
    *out = xmalloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof **out);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!(cJSON_IsString(it) || cJSON_IsNumber(it)) || !it->valuestring) {
            snprintf(why, len, "%s holds a non-string", name);
            free(*out);
            *out = NULL;
            return false;
        }
        (*out)[(*n)++] = it->valuestring;
    }
    return true;
}

/* SubscriptionData from JSON; NULL with a reason. */
static subscription_data *parse_subscription(const cJSON *o, char *why, size_t len)
{
    if (!cJSON_IsObject(o)) {
        snprintf(why, len, "subscriptionData is not an object");
        return NULL;
    }
    const char *topic = required_string(o, "topic", why, len);
    if (!topic) return NULL;
    const char *sub_string = NULL, *type = NULL;
    int64_t sub_version = now_ms();   /* Java's field initialiser */
    bool class_filter = false;
    if (fjson_field_string(o, "subString", &sub_string) == FJSON_WRONG_TYPE ||
        fjson_field_string(o, "expressionType", &type) == FJSON_WRONG_TYPE ||
        fjson_field_int64(o, "subVersion", &sub_version) == FJSON_WRONG_TYPE ||
        fjson_field_bool(o, "classFilterMode", &class_filter) == FJSON_WRONG_TYPE) {
        snprintf(why, len, "subscription of %s has a field of the wrong type", topic);
        return NULL;
    }
    const char **tags;
    size_t n_tags;
    if (!string_array(o, "tagsSet", &tags, &n_tags, why, len)) return NULL;
    subscription_data *sd = subscription_new(topic, sub_string, type, tags, n_tags, sub_version, class_filter);
    free(tags);
    return sd;
}

/* ---- HEART_BEAT ------------------------------------------------------- */

static void free_consumers(consumer_data *cds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < cds[i].n_subs; k++) subscription_free(cds[i].subs[k]);
        free(cds[i].subs);
    }
    free(cds);
}

/* ConsumerData; false with a reason (then cd->subs holds what was parsed so far). */
static bool parse_consumer(const cJSON *o, consumer_data *cd, char *why, size_t len)
{
    if (!cJSON_IsObject(o)) {
        snprintf(why, len, "consumerDataSet holds a non-object");
        return false;
    }
    if (!(cd->group = required_string(o, "groupName", why, len))) return false;
    if (!parse_enum(o, "consumeType", consume_type_from_name, consume_type_name, &cd->consume_type, why, len) ||
        !parse_enum(o, "messageModel", message_model_from_name, message_model_name, &cd->message_model, why, len) ||
        !parse_enum(o, "consumeFromWhere", consume_from_where_from_name, consume_from_where_name,
                    &cd->consume_from_where, why, len))
        return false;
    if (fjson_field_bool(o, "unitMode", &cd->unit_mode) == FJSON_WRONG_TYPE) {
        snprintf(why, len, "unitMode is not a boolean");
        return false;
    }
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "subscriptionDataSet");
    if (!subs || cJSON_IsNull(subs)) return true;
    if (!cJSON_IsArray(subs)) {
        snprintf(why, len, "subscriptionDataSet is not an array");
        return false;
    }
    cd->subs = xmalloc(((size_t)cJSON_GetArraySize(subs) + 1) * sizeof *cd->subs);
    const cJSON *it;
    cJSON_ArrayForEach(it, subs) {
        subscription_data *sd = parse_subscription(it, why, len);
        if (!sd) return false;
        cd->subs[cd->n_subs++] = sd;
    }
    return true;
}

/*
 * ClientManageProcessor.heartBeat creates a new group's retry topic and calls
 * registerBrokerAll, which waits for the name servers' answers, before it
 * registers the consumer, notifies the group and answers. The Java client looks
 * up %RETRY%group's route right after such a heartbeat or notification and keeps
 * what it got until its next route poll (30 s): a route without this broker
 * leaves messages retried here unconsumed until then and the rebalance after it
 * (up to ~50 s, against the delay level's 10 s). So a heartbeat that creates a
 * retry topic runs again, and is answered, once that registration is answered.
 */
typedef struct deferred_heartbeat {
    broker *b;
    rmq_conn *conn;   /* held */
    rmq_cmd *req;     /* owned */
} deferred_heartbeat;

static int heart_beat(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg);

static void heartbeat_registered(void *arg)
{
    deferred_heartbeat *d = arg;
    rmq_cmd *resp = NULL;
    bool taken = false;
    if (!d->b->shutting_down && !rmq_conn_closed(d->conn)) {
        taken = heart_beat(d->conn, d->req, &resp, d->b) == RMQ_AGAIN;   /* a topic deleted meanwhile */
        if (resp) rmq_conn_reply(d->conn, resp);
    }
    if (!taken) cmd_free(d->req);
    rmq_conn_release(d->conn);
    free(d);
}

static bool retry_topic_exists(broker *b, const char *group)
{
    char topic[META_NAME_MAX + sizeof TOPIC_RETRY_PREFIX];
    snprintf(topic, sizeof topic, "%s%s", TOPIC_RETRY_PREFIX, group);
    topic_config tc;
    return topic_table_get(b->topics, topic, &tc);
}

/* Creates what the groups lack (consumer_group_seen); true if a retry topic was created. */
static bool create_retry_topics(broker *b, const consumer_data *cds, size_t n)
{
    bool created = false;
    for (size_t i = 0; i < n; i++) {
        if (retry_topic_exists(b, cds[i].group)) continue;
        clients_consumer_group_seen(b->clients, cds[i].group, cds[i].unit_mode);
        created |= retry_topic_exists(b, cds[i].group);   /* not when the group may not be created */
    }
    return created;
}

static int heart_beat(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    cJSON *body = parse_body(req, "HeartbeatData", resp);
    if (!body) return RMQ_OK;
    char why[256] = "";
    consumer_data *cds = NULL;
    size_t n_cds = 0;
    const cJSON *consumers = cJSON_GetObjectItemCaseSensitive(body, "consumerDataSet");
    const cJSON *producers = cJSON_GetObjectItemCaseSensitive(body, "producerDataSet");
    const char *client_id = required_string(body, "clientID", why, sizeof why);
    bool ok = client_id != NULL;
    if (ok && consumers && !cJSON_IsNull(consumers)) {
        if (!(ok = cJSON_IsArray(consumers))) snprintf(why, sizeof why, "consumerDataSet is not an array");
    }
    if (ok && cJSON_IsArray(consumers)) {
        cds = xcalloc((size_t)cJSON_GetArraySize(consumers) + 1, sizeof *cds);
        const cJSON *it;
        cJSON_ArrayForEach(it, consumers) {
            if (!(ok = parse_consumer(it, &cds[n_cds++], why, sizeof why))) break;
        }
    }
    if (ok && producers && !cJSON_IsNull(producers)) {
        if (!(ok = cJSON_IsArray(producers))) snprintf(why, sizeof why, "producerDataSet is not an array");
    }
    if (ok && cJSON_IsArray(producers)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, producers) {
            if (!cJSON_IsObject(it)) {
                snprintf(why, sizeof why, "producerDataSet holds a non-object");
                ok = false;
            } else {
                ok = required_string(it, "groupName", why, sizeof why) != NULL;
            }
            if (!ok) break;
        }
    }
    /* 5.x: a fingerprint makes it a v2 heartbeat, which may leave the subscriptions out. */
    int32_t fingerprint = 0;
    bool without_sub = false, sub_change = false;
    if (ok && (fjson_field_int32(body, "heartbeatFingerprint", &fingerprint) == FJSON_WRONG_TYPE ||
               fjson_field_bool(body, "withoutSub", &without_sub) == FJSON_WRONG_TYPE)) {
        snprintf(why, sizeof why, "heartbeatFingerprint or withoutSub of the wrong type");
        ok = false;
    }
    if (!ok) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "decode HeartbeatData failed: %s", why);
        free_consumers(cds, n_cds);
        cJSON_Delete(body);
        return RMQ_OK;
    }

    if (b->registration && create_retry_topics(b, cds, n_cds)) {
        deferred_heartbeat *d = xmalloc(sizeof *d);
        *d = (deferred_heartbeat){b, conn, req};
        rmq_conn_hold(conn);
        broker_after_registration(b, heartbeat_registered, d);
        free_consumers(cds, n_cds);
        cJSON_Delete(body);
        return RMQ_AGAIN;
    }
    client_identity who = {conn, client_id, req->language, req->version};
    for (size_t i = 0; i < n_cds; i++) {
        sub_change |= clients_fingerprint_changed(b->clients, cds[i].group, fingerprint) && fingerprint;
        bool notify = clients_consumer_group_seen(b->clients, cds[i].group, cds[i].unit_mode);
        if (fingerprint && without_sub) {
            clients_register_consumer_without_sub(b->clients, &who, &cds[i], notify);
        } else {
            clients_register_consumer(b->clients, &who, &cds[i], notify);
            cds[i].n_subs = 0;   /* the registry has them now */
        }
    }
    if (cJSON_IsArray(producers)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, producers) {
            const char *group = NULL;
            fjson_field_string(it, "groupName", &group);
            clients_register_producer(b->clients, group, &who);
        }
    }
    free_consumers(cds, n_cds);
    cJSON_Delete(body);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    if (fingerprint) {   /* a 4.9.8 heartbeat gets 4.9.8's answer, without ext fields */
        cmd_ext_set(*resp, "IS_SUPPORT_HEART_BEAT_V2", "true");
        cmd_ext_set(*resp, "IS_SUB_CHANGE", sub_change ? "true" : "false");
    }
    return RMQ_OK;
}

/* ---- UNREGISTER_CLIENT / GET_CONSUMER_LIST_BY_GROUP -------------------- */

typedef struct unregister_header {
    const char *clientID, *producerGroup, *consumerGroup;
} unregister_header;

static const hdr_field unregister_fields[] = {
    {"clientID", HDR_STR, true, offsetof(unregister_header, clientID)},
    {"producerGroup", HDR_STR, false, offsetof(unregister_header, producerGroup)},
    {"consumerGroup", HDR_STR, false, offsetof(unregister_header, consumerGroup)},
};

static int unregister_client(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    unregister_header h = {0};
    char err[256];
    if (cmd_decode_header(req, unregister_fields, NFIELDS(unregister_fields), &h, err, sizeof err)) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
        return RMQ_OK;
    }
    client_identity who = {conn, h.clientID, req->language, req->version};
    if (h.producerGroup) clients_unregister_producer(b->clients, h.producerGroup, &who);
    if (h.consumerGroup)
        clients_unregister_consumer(b->clients, h.consumerGroup, &who,
                                    clients_notify_enabled(b->clients, h.consumerGroup));
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_declare(*resp);   /* UnregisterClientResponseHeader */
    return RMQ_OK;
}

/* The one-field headers: consumerGroup (38, 203) or producerGroup (204). */
typedef struct group_header {
    const char *group;
} group_header;

static const hdr_field consumer_group_field[] = {{"consumerGroup", HDR_STR, true, offsetof(group_header, group)}};
static const hdr_field producer_group_field[] = {{"producerGroup", HDR_STR, true, offsetof(group_header, group)}};

static const char *decode_group(const rmq_cmd *req, const hdr_field *field, rmq_cmd **resp)
{
    group_header h = {0};
    char err[256];
    if (cmd_decode_header(req, field, 1, &h, err, sizeof err)) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
        return NULL;
    }
    return h.group;
}

static int get_consumer_list_by_group(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    const char *group = decode_group(req, consumer_group_field, resp);
    if (!group) return RMQ_OK;
    size_t n;
    const char **ids = clients_consumer_ids(b->clients, group, &n);
    if (!n) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "no consumer for this group, %s", group);
    } else {
        fjson_writer w;
        fjson_writer_init(&w, 0);
        fjson_begin_object(&w);
        fjson_key(&w, "consumerIdList");
        fjson_begin_array(&w);
        for (size_t i = 0; i < n; i++) fjson_string(&w, ids[i]);
        fjson_end_array(&w);
        fjson_end_object(&w);
        *resp = cmd_new_response(req, RC_SUCCESS, NULL);
        processor_json_body(*resp, &w);
    }
    cmd_ext_declare(*resp);   /* GetConsumerListByGroupResponseHeader */
    free(ids);
    return RMQ_OK;
}

/* ---- LOCK_BATCH_MQ / UNLOCK_BATCH_MQ ----------------------------------- */

typedef struct lock_request {
    cJSON *body;
    const char *group, *client_id;
    message_queue *mqs;
    size_t n;
} lock_request;

static bool same_queue(const message_queue *a, const message_queue *b)
{
    return a->queue_id == b->queue_id && strcmp(a->topic, b->topic) == 0 &&
           strcmp(a->broker_name, b->broker_name) == 0;
}

/* LockBatchRequestBody / UnlockBatchRequestBody; mqSet is a Set: duplicates collapse. */
static bool parse_lock_request(const rmq_cmd *req, const char *what, lock_request *lr, rmq_cmd **resp)
{
    memset(lr, 0, sizeof *lr);
    if (!(lr->body = parse_body(req, what, resp))) return false;
    char why[256] = "";
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(lr->body, "mqSet");
    bool ok = (lr->group = required_string(lr->body, "consumerGroup", why, sizeof why)) &&
              (lr->client_id = required_string(lr->body, "clientId", why, sizeof why));
    if (ok && set && !cJSON_IsNull(set) && !(ok = cJSON_IsArray(set)))
        snprintf(why, sizeof why, "mqSet is not an array");
    if (ok && cJSON_IsArray(set)) {
        lr->mqs = xmalloc(((size_t)cJSON_GetArraySize(set) + 1) * sizeof *lr->mqs);
        const cJSON *it;
        cJSON_ArrayForEach(it, set) {
            message_queue mq = {0};
            if (!cJSON_IsObject(it)) {
                snprintf(why, sizeof why, "mqSet holds a non-object");
                ok = false;
            } else if (!(mq.topic = required_string(it, "topic", why, sizeof why)) ||
                       !(mq.broker_name = required_string(it, "brokerName", why, sizeof why))) {
                ok = false;
            } else if (fjson_field_int32(it, "queueId", &mq.queue_id) == FJSON_WRONG_TYPE) {
                snprintf(why, sizeof why, "queueId is not an int");
                ok = false;
            }
            if (!ok) break;
            bool dup = false;
            for (size_t i = 0; i < lr->n && !dup; i++) dup = same_queue(&lr->mqs[i], &mq);
            if (!dup) lr->mqs[lr->n++] = mq;
        }
    }
    if (!ok) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "decode %s failed: %s", what, why);
        free(lr->mqs);
        cJSON_Delete(lr->body);
    }
    return ok;
}

static void write_message_queue(fjson_writer *w, const message_queue *mq)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "brokerName", mq->broker_name);
    fjson_prop_int64(w, "queueId", mq->queue_id);
    fjson_prop_string(w, "topic", mq->topic);
    fjson_end_object(w);
}

static int lock_batch_mq(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    lock_request lr;
    if (!parse_lock_request(req, "LockBatchRequestBody", &lr, resp)) return RMQ_OK;
    bool *locked = xcalloc(lr.n + 1, sizeof *locked);
    clients_try_lock_batch(b->clients, lr.group, lr.mqs, lr.n, lr.client_id, locked);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "lockOKMQSet");
    fjson_begin_array(&w);
    for (size_t i = 0; i < lr.n; i++)
        if (locked[i]) write_message_queue(&w, &lr.mqs[i]);
    fjson_end_array(&w);
    fjson_end_object(&w);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    processor_json_body(*resp, &w);
    free(locked);
    free(lr.mqs);
    cJSON_Delete(lr.body);
    return RMQ_OK;
}

static int unlock_batch_mq(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    lock_request lr;
    if (!parse_lock_request(req, "UnlockBatchRequestBody", &lr, resp)) return RMQ_OK;
    clients_unlock_batch(b->clients, lr.group, lr.mqs, lr.n, lr.client_id);
    free(lr.mqs);
    cJSON_Delete(lr.body);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    return RMQ_OK;
}

/* ---- CHECK_CLIENT_CONFIG ------------------------------------------------ */

static int check_client_config(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    cJSON *body = parse_body(req, "CheckClientRequestBody", resp);
    if (!body) return RMQ_OK;
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(body, "subscriptionData");
    const char *type = NULL, *expr = NULL;
    if (sub && !cJSON_IsNull(sub)) {
        if (!cJSON_IsObject(sub) || fjson_field_string(sub, "expressionType", &type) == FJSON_WRONG_TYPE ||
            fjson_field_string(sub, "subString", &expr) == FJSON_WRONG_TYPE) {
            *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR,
                                   "decode CheckClientRequestBody failed: bad subscriptionData");
            cJSON_Delete(body);
            return RMQ_OK;
        }
    }
    if (expression_type_is_tag(type)) {   /* absent: Java's default, TAG */
        *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    } else if (!b->cfg.enablePropertyFilter) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR,
                               "The broker does not support consumer to filter message by %s", type);
    } else {
        char err[512];
        rmq_filter *f = filter_compile(type, expr ? expr : "", err, sizeof err);
        if (f) *resp = cmd_new_response(req, RC_SUCCESS, NULL);
        else *resp = cmd_new_responsef(req, RC_SUBSCRIPTION_PARSE_FAILED, "%s", err);
        filter_free(f);
    }
    cJSON_Delete(body);
    return RMQ_OK;
}

/* ---- connection lists -------------------------------------------------- */

/* Connection: clientAddr, clientId, language, version. */
static void write_connections(fjson_writer *w, const client_channel *ch, size_t n)
{
    fjson_key(w, "connectionSet");
    fjson_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        fjson_begin_object(w);
        fjson_prop_string(w, "clientAddr", rmq_conn_remote(ch[i].conn));
        fjson_prop_string(w, "clientId", ch[i].client_id);
        fjson_prop_string(w, "language", language_name(ch[i].language));
        fjson_prop_int64(w, "version", ch[i].version);
        fjson_end_object(w);
    }
    fjson_end_array(w);
}

static int get_consumer_connection_list(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    const char *group = decode_group(req, consumer_group_field, resp);
    if (!group) return RMQ_OK;
    const consumer_group *g = clients_consumer_group(b->clients, group);
    if (!g) {
        *resp = cmd_new_responsef(req, RC_CONSUMER_NOT_ONLINE, "the consumer group[%s] not online", group);
        return RMQ_OK;
    }
    /* ConsumerConnection: connectionSet, consumeFromWhere, consumeType, messageModel,
     * subscriptionTable (topic -> SubscriptionData). */
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    write_connections(&w, g->channels, g->n_channels);
    fjson_prop_string(&w, "consumeFromWhere", consume_from_where_name(g->consume_from_where));
    fjson_prop_string(&w, "consumeType", consume_type_name(g->consume_type));
    fjson_prop_string(&w, "messageModel", message_model_name(g->message_model));
    fjson_key(&w, "subscriptionTable");
    fjson_begin_object(&w);
    for (size_t i = 0; i < g->n_subs; i++) {
        fjson_key(&w, g->subs[i]->topic);
        subscription_write_json(&w, g->subs[i]);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    processor_json_body(*resp, &w);
    return RMQ_OK;
}

static int get_producer_connection_list(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    broker *b = arg;
    const char *group = decode_group(req, producer_group_field, resp);
    if (!group) return RMQ_OK;
    const producer_group *g = clients_producer_group(b->clients, group);
    if (!g) {
        *resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "the producer group[%s] not exist", group);
        return RMQ_OK;
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    write_connections(&w, g->channels, g->n_channels);
    fjson_end_object(&w);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    processor_json_body(*resp, &w);
    return RMQ_OK;
}

void processor_register_client(rmq_server *s, broker *b)
{
    rmq_server_register(s, HEART_BEAT, heart_beat, b);
    rmq_server_register(s, UNREGISTER_CLIENT, unregister_client, b);
    rmq_server_register(s, GET_CONSUMER_LIST_BY_GROUP, get_consumer_list_by_group, b);
    rmq_server_register(s, LOCK_BATCH_MQ, lock_batch_mq, b);
    rmq_server_register(s, UNLOCK_BATCH_MQ, unlock_batch_mq, b);
    rmq_server_register(s, CHECK_CLIENT_CONFIG, check_client_config, b);
    rmq_server_register(s, GET_CONSUMER_CONNECTION_LIST, get_consumer_connection_list, b);
    rmq_server_register(s, GET_PRODUCER_CONNECTION_LIST, get_producer_connection_list, b);
}
