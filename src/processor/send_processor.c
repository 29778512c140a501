/*
 * SEND_MESSAGE (10, long header names), SEND_MESSAGE_V2 (310) and
 * SEND_BATCH_MESSAGE (320) with one-letter names, SEND_REPLY_MESSAGE(_V2),
 * and CONSUMER_SEND_MSG_BACK (36) — Apache's SendMessageProcessor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/schedule.h"
#include "broker/clients.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "ha/ha.h"
#include "meta/meta.h"
#include "metrics/metrics.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    SEND_MESSAGE = 10,
    CONSUMER_SEND_MSG_BACK = 36,
    SEND_MESSAGE_V2 = 310,
    SEND_BATCH_MESSAGE = 320,
    SEND_REPLY_MESSAGE = 324,
    SEND_REPLY_MESSAGE_V2 = 325,
    PUSH_REPLY_MESSAGE_TO_CLIENT = 326,
};

/* SendMessageRequestHeader; V2 carries the same fields under the keys a..n. */
typedef struct send_header {
    const char *producerGroup, *topic, *defaultTopic, *properties;
    int32_t defaultTopicQueueNums, queueId, sysFlag, flag, reconsumeTimes, maxReconsumeTimes;
    int64_t bornTimestamp;
    bool unitMode, batch;
} send_header;

#define F(key, member, type, req) {key, type, req, offsetof(send_header, member)}
static const hdr_field send_fields_v1[] = {
    F("producerGroup", producerGroup, HDR_STR, true), F("topic", topic, HDR_STR, true),
    F("defaultTopic", defaultTopic, HDR_STR, true), F("defaultTopicQueueNums", defaultTopicQueueNums, HDR_I32, true),
    F("queueId", queueId, HDR_I32, true), F("sysFlag", sysFlag, HDR_I32, true),
    F("bornTimestamp", bornTimestamp, HDR_I64, true), F("flag", flag, HDR_I32, true),
    F("properties", properties, HDR_STR, false), F("reconsumeTimes", reconsumeTimes, HDR_I32, false),
    F("unitMode", unitMode, HDR_BOOL, false), F("batch", batch, HDR_BOOL, false),
    F("maxReconsumeTimes", maxReconsumeTimes, HDR_I32, false),
};
static const hdr_field send_fields_v2[] = {
    F("a", producerGroup, HDR_STR, true), F("b", topic, HDR_STR, true), F("c", defaultTopic, HDR_STR, true),
    F("d", defaultTopicQueueNums, HDR_I32, true), F("e", queueId, HDR_I32, true), F("f", sysFlag, HDR_I32, true),
    F("g", bornTimestamp, HDR_I64, true), F("h", flag, HDR_I32, true), F("i", properties, HDR_STR, false),
    F("j", reconsumeTimes, HDR_I32, false), F("k", unitMode, HDR_BOOL, false), F("l", maxReconsumeTimes, HDR_I32, false),
    F("m", batch, HDR_BOOL, false),
};
#undef F
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* AbstractSendMessageProcessor.msgCheck: permissions, topic rules, auto-creation, queue id. */
static rmq_cmd *msg_check(broker *b, rmq_conn *conn, const rmq_cmd *req, const send_header *h, topic_config *tc)
{
    if (!(b->cfg.brokerPermission & PERM_WRITE))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] sending message is forbidden",
                              b->cfg.brokerIP1);
    const char *why = topic_validate(h->topic);
    if (why) return cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", why);
    if (topic_is_not_allowed_send(h->topic))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "Sending message to topic[%s] is forbidden.", h->topic);
    if (!topic_table_get(b->topics, h->topic, tc)) {
        bool created = false;
        int32_t sysflag = h->unitMode ? 1 : 0; /* TopicSysFlag.buildSysFlag(unit, false) */
        int rc = topic_table_create_in_send(b->topics, h->topic, h->defaultTopic, h->defaultTopicQueueNums,
                                            sysflag, tc, &created);
        if (rc != RMQ_OK && strncmp(h->topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0) {
            topic_table_create_in_send_back(b->topics, h->topic, 1, PERM_WRITE | PERM_READ, sysflag, tc, &created);
            rc = RMQ_OK;
        }
        if (created) broker_topic_changed(b, h->topic);
        if (rc != RMQ_OK)
            return cmd_new_responsef(req, RC_TOPIC_NOT_EXIST, "topic[%s] not exist, apply first please!" FAQ_URL,
                                  h->topic);
    }
    int32_t valid = tc->write_queue_nums > tc->read_queue_nums ? tc->write_queue_nums : tc->read_queue_nums;
    if (h->queueId >= valid)
        return cmd_new_responsef(req, RC_SYSTEM_ERROR,
                              "request queueId[%d] is illegal, %s Producer: %s", h->queueId, tc->topic_name,
                              rmq_conn_remote(conn));
    return NULL;
}

/*
 * One put in flight whose answer waits: first for the group commit (SYNC_FLUSH),
 * then for a slave's acknowledgement (SYNC_MASTER) — CommitLog.handleDiskFlush and
 * handleHA, whose statuses Apache combines with the slave's winning.
 */
typedef struct send_ctx {
    broker *b;
    rmq_conn *conn;
    rmq_cmd *resp;
    int64_t end_offset;
    bool wait_slave;
} send_ctx;

static void send_answer(send_ctx *sc)
{
    rmq_conn_reply(sc->conn, sc->resp);
    rmq_conn_release(sc->conn);
    free(sc);
}

static void send_replicated(void *arg, bool acked)
{
    send_ctx *sc = arg;
    if (!acked) cmd_set_code(sc->resp, RC_FLUSH_SLAVE_TIMEOUT, NULL);
    send_answer(sc);
}

/* On the loop, once the local store is durable enough. */
static void send_stored(void *arg)
{
    send_ctx *sc = arg;
    if (!sc->wait_slave || !sc->b->ha) {
        send_answer(sc);
    } else if (!ha_slave_ok(sc->b->ha, sc->end_offset)) {
        cmd_set_code(sc->resp, RC_SLAVE_NOT_AVAILABLE, NULL);
        send_answer(sc);
    } else {
        ha_wait_slave(sc->b->ha, sc->end_offset, sc->b->cfg.syncFlushTimeout, send_replicated, sc);
    }
}

/* On the store's flush thread: hop back to the loop. */
static void send_flushed(void *arg, bool flushed)
{
    send_ctx *sc = arg;
    if (!flushed) cmd_set_code(sc->resp, RC_FLUSH_DISK_TIMEOUT, NULL);
    rmq_async_post(sc->b->async, send_stored, sc);
}

/* SendMessageProcessor.handlePutMessageResult's codes and remarks. */
static void put_status_to_response(rmq_cmd *resp, store_put_status st, const char *reason)
{
    switch (st) {
    case STORE_PUT_OK: return;
    case STORE_PUT_MESSAGE_ILLEGAL:
    case STORE_PUT_PROPERTIES_SIZE_EXCEEDED:
        cmd_set_code(resp, RC_MESSAGE_ILLEGAL,
                     "the message is illegal, maybe msg body or properties length not matched. msg body length "
                     "limit 128k, msg properties length limit 32k.");
        return;
    case STORE_PUT_SERVICE_NOT_AVAILABLE:
        cmd_set_code(resp, RC_SERVICE_NOT_AVAILABLE,
                     "service not available now. It may be caused by one of the following reasons: the broker's "
                     "disk is full [...], messages are put to the slave, message store has been shut down, etc.");
        if (reason) cmd_set_remark(resp, "%s (%s)", resp->remark, reason);
        return;
    case STORE_PUT_CREATE_MAPPED_FILE_FAILED:
        cmd_set_code(resp, RC_SYSTEM_ERROR, "create mapped file failed, server is busy or broken.");
        return;
    default:
        cmd_set_code(resp, RC_SYSTEM_ERROR, "UNKNOWN_ERROR");
        return;
    }
}

/*
 * Puts the messages and answers: at once, or after the group commit covers them
 * (SYNC_FLUSH and WAIT != false). Returns RMQ_OK with *out, or RMQ_AGAIN.
 */
static int put_and_answer(broker *b, rmq_conn *conn, const rmq_cmd *req, const store_msg *msgs, int n,
                          bool wait_store, const char *recall, rmq_cmd **out)
{
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_declare(resp);
    if (store_os_page_cache_busy(b->store)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "[PC_SYNCHRONIZED]broker busy, start flow control for a while");
        *out = resp;
        return RMQ_OK;
    }
    store_put_entry *entries = xcalloc((size_t)n, sizeof *entries);
    store_put_result res = {.entries = entries};
    store_put(b->store, msgs, n, &res);
    put_status_to_response(resp, res.status, res.reason);
    if (res.status == STORE_PUT_OK) {
        /* Batch: comma-joined offset ids; queueOffset is the first message's. The keys are
         * literals and the values go straight into the answer's chunk (cmd_ext_put). */
        size_t cap = (size_t)n * (MSG_ID_MAX_LEN + 1) + 1, len = 0;
        char one[MSG_ID_MAX_LEN + 2], *ids = n == 1 ? one : xmalloc(cap);
        for (int i = 0; i < n; i++) {
            size_t l = strlen(entries[i].msg_id);
            if (i) ids[len++] = ',';
            memcpy(ids + len, entries[i].msg_id, l + 1);
            len += l;
        }
        char num[24];
        cmd_ext_put(resp, "msgId", strs_dup(&resp->strs, ids, len));
        if (ids != one) free(ids);
        cmd_ext_put(resp, "queueId", strs_dup(&resp->strs, num, fmt_int64(num, msgs[0].queue_id)));
        cmd_ext_put(resp, "queueOffset", strs_dup(&resp->strs, num, fmt_int64(num, entries[0].queue_offset)));
        cmd_ext_put(resp, "MSG_REGION", strs_dup(&resp->strs, b->cfg.regionId, strlen(b->cfg.regionId)));
        cmd_ext_put(resp, "TRACE_ON", b->cfg.traceOn ? "true" : "false");
        if (recall) cmd_ext_set(resp, "recallHandle", recall);
        int64_t bytes = 0;
        for (int i = 0; i < n; i++) bytes += entries[i].size;
        metrics_messages_in(msgs[0].topic, msgs[0].props, msgs[0].props_len, n, bytes);
    }
    free(entries);
    bool wait_flush = strcmp(b->cfg.flushDiskType, "SYNC_FLUSH") == 0;
    bool wait_slave = strcmp(b->cfg.brokerRole, "SYNC_MASTER") == 0;
    if (res.status == STORE_PUT_OK && wait_store && (wait_flush || wait_slave) && !cmd_is_oneway(req)) {
        send_ctx *sc = xcalloc(1, sizeof *sc);
        sc->b = b;
        sc->conn = conn;
        sc->resp = resp;
        sc->end_offset = res.end_offset;
        sc->wait_slave = wait_slave;
        rmq_conn_hold(conn);
        if (wait_flush) store_wait_flush(b->store, res.end_offset, b->cfg.syncFlushTimeout, send_flushed, sc);
        else send_stored(sc);
        *out = NULL;
        return RMQ_AGAIN;
    }
    *out = resp;
    return RMQ_OK;
}

/* The delay ladder's length, from messageDelayLevel ("1s 5s ... 2h"). */
static int max_delay_level(const broker *b)
{
    int64_t delays[MSG_MAX_DELAY_LEVELS];
    const char *bad;
    int n = msg_delay_levels_parse(b->cfg.messageDelayLevel, delays, &bad);
    return n < 0 ? 0 : n;
}

/*
 * What CommitLog.putMessage and TransactionalMessageBridge do to a message before
 * storing it: a half message goes to RMQ_SYS_TRANS_HALF_TOPIC queue 0, a delayed
 * one to SCHEDULE_TOPIC_XXXX queue level-1, both keeping REAL_TOPIC/REAL_QID.
 * Returns the (possibly new) topic; *qid and *sysflag are adjusted.
 */
static const char *redirect_special(broker *b, msg_props *props, const char *topic, int32_t *qid, int32_t *sysflag)
{
    char qbuf[16];
    const char *tran = msg_props_get(props, "TRAN_MSG");
    if (tran && parse_java_bool(tran) && MSG_TRANSACTION_TYPE(*sysflag) == MSG_TRANS_PREPARED) {
        msg_props_set(props, "REAL_TOPIC", topic);
        snprintf(qbuf, sizeof qbuf, "%d", *qid);
        msg_props_set(props, "REAL_QID", qbuf);
        /* parseHalfMessageInner adds only these two: the producer's WAIT stays, so the
         * committed message (the half's properties string) reaches consumers as sent. */
        *sysflag &= ~MSG_SYSFLAG_TRANS_MASK;
        *qid = 0;
        return TOPIC_TRANS_HALF;
    }
    int t = MSG_TRANSACTION_TYPE(*sysflag);
    const char *delay = msg_props_get(props, "DELAY");
    int32_t level;
    if ((t == MSG_TRANS_NOT_TYPE || t == MSG_TRANS_COMMIT) && delay && parse_int32(delay, &level) == RMQ_OK &&
        level > 0) {
        int max = max_delay_level(b);
        if (level > max) {
            level = max;
            snprintf(qbuf, sizeof qbuf, "%d", level);
            msg_props_set(props, "DELAY", qbuf);
        }
        /* HookUtils.checkIfTimerMessage: a delay level wins, the 5.x delivery time is dropped. */
        msg_props_remove(props, "TIMER_DELIVER_MS");
        msg_props_remove(props, "TIMER_DELAY_SEC");
        msg_props_remove(props, "TIMER_DELAY_MS");
        msg_props_set(props, "REAL_TOPIC", topic);
        snprintf(qbuf, sizeof qbuf, "%d", *qid);
        msg_props_set(props, "REAL_QID", qbuf);
        *qid = level - 1;
        return TOPIC_SCHEDULE;
    }
    return topic;
}

/*
 * SendMessageProcessor.handleRetryAndDLQ: a message sent to %RETRY%group that has been
 * retried enough goes to %DLQ%group. Returns NULL to go on, or an error answer.
 */
static rmq_cmd *retry_or_dlq(broker *b, const rmq_cmd *req, const send_header *h, char *dlq, size_t dlq_cap,
                             const char **topic, int32_t *qid, topic_config *tc)
{
    size_t pl = strlen(TOPIC_RETRY_PREFIX);
    if (strncmp(*topic, TOPIC_RETRY_PREFIX, pl) != 0) return NULL;
    const char *group = *topic + pl;
    subscription_group_config gc;
    if (!subgroup_table_get(b->groups, group, &gc))
        return cmd_new_responsef(req, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "subscription group not exist, %s %s", group,
                              FAQ_URL);
    int max = gc.retry_max_times;
    if (req->version >= 107 /* V3_4_9 */ && cmd_ext_get(req, req->code == SEND_MESSAGE ? "maxReconsumeTimes" : "l"))
        max = h->maxReconsumeTimes;
    if (h->reconsumeTimes < max) return NULL;
    snprintf(dlq, dlq_cap, "%s%s", TOPIC_DLQ_PREFIX, group);
    bool created = false;
    topic_table_create_in_send_back(b->topics, dlq, 1, PERM_WRITE | PERM_READ, 0, tc, &created);
    if (created) broker_topic_changed(b, dlq);
    *topic = dlq;
    *qid = 0;
    return NULL;
}

static int reply_processor(broker *b, rmq_conn *conn, const rmq_cmd *req, const send_header *h,
                           msg_props *props, const store_msg *m, rmq_cmd **out);

static int send_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    send_header h = {.queueId = -1};
    char err[512];
    bool v2 = req->code == SEND_MESSAGE_V2 || req->code == SEND_BATCH_MESSAGE || req->code == SEND_REPLY_MESSAGE_V2;
    int rc_h;
    if (v2) {
        /* V2's keys are the letters a..m in send_fields_v2's order: one pass over the ext
         * fields puts each value in its slot (instead of a lookup per field). */
        const char *vals[NFIELDS(send_fields_v2)] = {0};
        for (int i = 0; i < req->n_ext; i++) {
            const char *k = req->ext[i].key;
            if (k[0] >= 'a' && k[0] < 'a' + (int)NFIELDS(send_fields_v2) && !k[1]) vals[k[0] - 'a'] = req->ext[i].val;
        }
        rc_h = cmd_decode_header_values(vals, send_fields_v2, NFIELDS(send_fields_v2), &h, err, sizeof err);
    } else {
        rc_h = cmd_decode_header(req, send_fields_v1, NFIELDS(send_fields_v1), &h, err, sizeof err);
    }
    if (rc_h) {
        *out = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
        return RMQ_OK;
    }
    if (!broker_may_write(b)) {
        *out = cmd_new_responsef(req, RC_SERVICE_NOT_AVAILABLE, "service not available now, maybe disk full, %s",
                              broker_is_slave(b) ? "the broker is a slave"
                                                 : "the controller has not confirmed this master");
        return RMQ_OK;
    }
    topic_config tc;
    if ((*out = msg_check(b, conn, req, &h, &tc))) return RMQ_OK;
    if (topic_message_type_refusal(&tc, h.properties, err, sizeof err)) {
        *out = cmd_new_responsef(req, RC_MESSAGE_ILLEGAL, "%s", err);
        return RMQ_OK;
    }
    bool batch = req->code == SEND_BATCH_MESSAGE;
    int32_t qid = h.queueId < 0 ? (int32_t)(random() % (tc.write_queue_nums > 0 ? tc.write_queue_nums : 1)) : h.queueId;
    msg_host born;
    if (msg_host_parse(&born, rmq_conn_remote(conn))) memset(&born, 0, sizeof born);

    msg_props props;
    msg_props_init(&props);
    if (h.properties) msg_props_parse(&props, h.properties, strlen(h.properties));
    const char *topic = h.topic;
    int32_t sysflag = h.sysFlag;
    int rc = RMQ_OK;
    char *recall = NULL;  /* the answer's recallHandle, for a timer message */
    char dlq[META_NAME_MAX + 8];
    if ((*out = retry_or_dlq(b, req, &h, dlq, sizeof dlq, &topic, &qid, &tc))) goto done;
    const char *asked = topic; /* the topic before a delay, half or timer redirect */
    if (!batch) {
        const char *tran = msg_props_get(&props, "TRAN_MSG");
        if (tran && parse_java_bool(tran) && b->cfg.rejectTransactionMessage) {
            *out = cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] sending transaction message is forbidden",
                                  b->cfg.brokerIP1);
            goto done;
        }
        char timer_why[256];
        asked = topic;
        topic = redirect_special(b, &props, topic, &qid, &sysflag);
        enum timer_verdict tv = TIMER_PLAIN;
        if (topic == asked)
            tv = schedule_timer_redirect(b, &props, &topic, &qid, now_ms(), false, timer_why, sizeof timer_why);
        if (tv == TIMER_NOT_ENABLED || tv == TIMER_ILLEGAL) {
            *out = cmd_new_responsef(req, tv == TIMER_ILLEGAL ? RC_MESSAGE_ILLEGAL : RC_SYSTEM_ERROR, "%s", timer_why);
            goto done;
        }
        if (tv == TIMER_PARKED) recall = schedule_recall_handle(b, &props);
    }
    msg_props_set(&props, "CLUSTER", b->cfg.brokerClusterName);
    const char *wait = msg_props_get(&props, MSG_PROP_WAIT);
    bool wait_store = !wait || parse_java_bool(wait);
    /* SendMessageProcessor.asyncSendMessage stores a plain message without WAIT (9 bytes
     * saved per message); a delayed, half or timer message is re-encoded on its way to
     * the schedule/half topic with WAIT kept, and a reply is stored as sent. */
    if (!batch && topic == asked && req->code != SEND_REPLY_MESSAGE && req->code != SEND_REPLY_MESSAGE_V2)
        msg_props_remove(&props, MSG_PROP_WAIT);

    store_msg base = {
        .topic = topic, .queue_id = qid, .flag = h.flag, .sysflag = sysflag,
        .born_timestamp = h.bornTimestamp, .born_host = born, .reconsume_times = h.reconsumeTimes,
    };
    if (!batch) {
        size_t plen;
        char *ps = msg_props_encode(&props, &plen);
        store_msg m = base;
        m.body = req->body;
        m.body_len = (uint32_t)req->body_len;
        m.props = ps;
        m.props_len = (uint32_t)plen;
        if (req->code == SEND_REPLY_MESSAGE || req->code == SEND_REPLY_MESSAGE_V2)
            rc = reply_processor(b, conn, req, &h, &props, &m, out);
        else
            rc = put_and_answer(b, conn, req, &m, 1, wait_store, recall, out);
        free(ps);
        goto done;
    }
    if (strncmp(h.topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0) {
        *out = cmd_new_responsef(req, RC_MESSAGE_ILLEGAL, "batch request does not support retry group %s", h.topic);
        goto done;
    }
    msg_batch_item *items = NULL;
    int n = 0;
    const char *why = NULL;
    if (msg_batch_decode(req->body, req->body_len, &items, &n, &why)) {
        *out = cmd_new_responsef(req, RC_MESSAGE_ILLEGAL, "the batch body is illegal: %s", why);
        goto done;
    }
    store_msg *msgs = xcalloc((size_t)n, sizeof *msgs);
    for (int i = 0; i < n; i++) {
        msgs[i] = base;
        msgs[i].flag = items[i].flag;
        msgs[i].body = items[i].body;
        msgs[i].body_len = items[i].body_len;
        msgs[i].props = items[i].props;
        msgs[i].props_len = items[i].props_len;
    }
    rc = put_and_answer(b, conn, req, msgs, n, wait_store, NULL, out);
    free(msgs);
    free(items);
done:
    free(recall);
    msg_props_free(&props);
    if (rc == RMQ_AGAIN) cmd_free(req); /* deferred: the answer is built, the request is ours to drop */
    return rc;
}

/* ---- request-reply (ReplyMessageProcessor) ---- */

typedef struct reply_ctx {
    rmq_conn *conn;     /* the replier, held */
    rmq_cmd *resp;      /* its answer, finished when the push is done */
    char *requester;
} reply_ctx;

static void reply_pushed(rmq_cmd *push_resp, const char *err, void *arg)
{
    reply_ctx *rc = arg;
    if (!push_resp || push_resp->code != RC_SUCCESS) {
        cmd_set_code(rc->resp, RC_SYSTEM_ERROR, NULL);
        cmd_set_remark(rc->resp, "push reply message to %s failed: %s", rc->requester,
                       push_resp ? (push_resp->remark ? push_resp->remark : "error") : err);
    }
    cmd_free(push_resp);
    rmq_conn_reply(rc->conn, rc->resp);
    rmq_conn_release(rc->conn);
    free(rc->requester);
    free(rc);
}

/*
 * SEND_REPLY_MESSAGE(_V2): push the reply to the requesting client (found by the
 * REPLY_TO_CLIENT property among producer connections) as PUSH_REPLY_MESSAGE_TO_CLIENT,
 * store it as well (storeReplyMessageEnable), and answer once the push is settled.
 */
static int reply_processor(broker *b, rmq_conn *conn, const rmq_cmd *req, const send_header *h,
                           msg_props *props, const store_msg *m, rmq_cmd **out)
{
    int rc = put_and_answer(b, conn, req, m, 1, false, NULL, out);
    if (rc != RMQ_OK || (*out)->code != RC_SUCCESS) return rc;
    const char *requester = msg_props_get(props, "REPLY_TO_CLIENT");
    rmq_conn *target = requester ? clients_find_producer_conn(b->clients, requester) : NULL;
    if (!target) {
        cmd_set_code(*out, RC_SYSTEM_ERROR, NULL);
        cmd_set_remark(*out, "push reply message fail, channel of <%s> not found.", requester ? requester : "");
        return RMQ_OK;
    }
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)now_ms());
    msg_props_set(props, "PUSH_REPLY_TIME", ts);
    size_t plen;
    char *ps = msg_props_encode(props, &plen);
    rmq_cmd *push = cmd_new_request(PUSH_REPLY_MESSAGE_TO_CLIENT);
    cmd_ext_set(push, "producerGroup", h->producerGroup);
    cmd_ext_set(push, "topic", h->topic);
    cmd_ext_set(push, "defaultTopic", h->defaultTopic);
    cmd_ext_set_int(push, "defaultTopicQueueNums", h->defaultTopicQueueNums);
    cmd_ext_set_int(push, "queueId", m->queue_id);
    cmd_ext_set_int(push, "sysFlag", h->sysFlag);
    cmd_ext_set_int(push, "bornTimestamp", h->bornTimestamp);
    cmd_ext_set_int(push, "flag", h->flag);
    cmd_ext_set(push, "properties", ps);
    cmd_ext_set_int(push, "reconsumeTimes", h->reconsumeTimes);
    cmd_ext_set_bool(push, "unitMode", h->unitMode);
    cmd_ext_set(push, "bornHost", rmq_conn_remote(conn));
    cmd_ext_set(push, "storeHost", b->addr);
    cmd_ext_set(push, "storeTimestamp", ts);
    cmd_set_body(push, m->body, m->body_len);
    free(ps);
    reply_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->conn = conn;
    rmq_conn_hold(conn);
    ctx->resp = *out;
    ctx->resp->opaque = req->opaque;
    ctx->resp->serialize = req->serialize;
    ctx->requester = xstrdup(requester);
    *out = NULL;
    rmq_conn_request(target, push, 3000, reply_pushed, ctx);
    return RMQ_AGAIN;
}

/* ConsumerSendMsgBackRequestHeader */
typedef struct send_back_header {
    int64_t offset;
    const char *group, *originMsgId, *originTopic;
    int32_t delayLevel, maxReconsumeTimes;
    bool unitMode;
} send_back_header;

static const hdr_field send_back_fields[] = {
    {"offset", HDR_I64, true, offsetof(send_back_header, offset)},
    {"group", HDR_STR, true, offsetof(send_back_header, group)},
    {"delayLevel", HDR_I32, true, offsetof(send_back_header, delayLevel)},
    {"originMsgId", HDR_STR, false, offsetof(send_back_header, originMsgId)},
    {"originTopic", HDR_STR, false, offsetof(send_back_header, originTopic)},
    {"unitMode", HDR_BOOL, false, offsetof(send_back_header, unitMode)},
    {"maxReconsumeTimes", HDR_I32, false, offsetof(send_back_header, maxReconsumeTimes)},
};

/* SendMessageProcessor.asyncConsumerSendMsgBack. */
static int send_back_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    send_back_header h = {.maxReconsumeTimes = -1};
    char err[512];
    if (cmd_decode_header(req, send_back_fields, NFIELDS(send_back_fields), &h, err, sizeof err)) {
        *out = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
        return RMQ_OK;
    }
    subscription_group_config gc;
    bool created = false;
    if (!subgroup_table_find(b->groups, h.group, &gc, &created)) {
        *out = cmd_new_responsef(req, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "subscription group not exist, %s %s", h.group,
                              FAQ_URL);
        return RMQ_OK;
    }
    if (created) broker_group_changed(b, h.group);
    if (!(b->cfg.brokerPermission & PERM_WRITE)) {
        *out = cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] sending message is forbidden", b->cfg.brokerIP1);
        return RMQ_OK;
    }
    if (gc.retry_queue_nums <= 0) {
        *out = cmd_new_response(req, RC_SUCCESS, NULL);
        return RMQ_OK;
    }
    char topic[META_NAME_MAX + 8];
    snprintf(topic, sizeof topic, "%s%s", TOPIC_RETRY_PREFIX, h.group);
    topic_config tc;
    bool tcreated = false;
    topic_table_create_in_send_back(b->topics, topic, gc.retry_queue_nums, PERM_WRITE | PERM_READ,
                                    h.unitMode ? 1 : 0, &tc, &tcreated);
    store_slice sl;
    if (store_get_record(b->store, h.offset, &sl)) {
        *out = cmd_new_responsef(req, RC_SYSTEM_ERROR, "look message by offset failed, %lld", (long long)h.offset);
        if (tcreated) broker_topic_changed(b, topic);
        return RMQ_OK;
    }
    msg_record r;
    const char *why;
    if (msg_record_decode(sl.data, sl.len, &r, &why)) {
        store_slice_release(&sl);
        *out = cmd_new_responsef(req, RC_SYSTEM_ERROR, "look message by offset failed: %s", why);
        return RMQ_OK;
    }
    msg_props props;
    msg_props_init(&props);
    msg_props_parse(&props, r.props, r.props_len);
    char *orig_topic = xstrndup(r.topic, r.topic_len);
    if (!msg_props_get(&props, "RETRY_TOPIC")) msg_props_set(&props, "RETRY_TOPIC", orig_topic);
    int max = gc.retry_max_times;
    if (req->version >= 107 && h.maxReconsumeTimes >= 0) max = h.maxReconsumeTimes;
    int32_t delay = h.delayLevel, qid;
    const char *dest = topic;
    char dlq[META_NAME_MAX + 8];
    if (r.reconsume_times >= max || delay < 0) {
        snprintf(dlq, sizeof dlq, "%s%s", TOPIC_DLQ_PREFIX, h.group);
        topic_table_create_in_send_back(b->topics, dlq, 1, PERM_WRITE | PERM_READ, 0, &tc, &tcreated);
        dest = dlq;
        qid = 0;
        delay = 0;
    } else {
        if (delay == 0) delay = 3 + r.reconsume_times;
        qid = (int32_t)(random() % (gc.retry_queue_nums > 0 ? gc.retry_queue_nums : 1));
        char lv[16];
        snprintf(lv, sizeof lv, "%d", delay);
        msg_props_set(&props, "DELAY", lv);
    }
    if (tcreated) {   /* the retry topic, the DLQ or both */
        broker_topic_changed(b, topic);
        if (dest != topic) broker_topic_changed(b, dest);
    }
    if (!msg_props_get(&props, "ORIGIN_MESSAGE_ID")) {
        char id[MSG_ID_MAX_LEN + 1];
        msg_offset_id_create(id, &r.store_host, r.phys_offset);
        msg_props_set(&props, "ORIGIN_MESSAGE_ID", id);
    }
    int32_t sysflag = r.sysflag & ~(MSG_SYSFLAG_BORNHOST_V6 | MSG_SYSFLAG_STOREHOST_V6);
    const char *final_topic = delay > 0 ? redirect_special(b, &props, dest, &qid, &sysflag) : dest;
    size_t plen;
    char *ps = msg_props_encode(&props, &plen);
    store_msg m = {
        .topic = final_topic, .queue_id = qid, .flag = r.flag, .sysflag = sysflag,
        .born_timestamp = r.born_timestamp, .born_host = r.born_host,
        .reconsume_times = msg_next_reconsume_times(r.reconsume_times), .body = r.body, .body_len = r.body_len,
        .props = ps, .props_len = (uint32_t)plen,
    };
    rmq_cmd *resp = NULL;
    int rc = put_and_answer(b, conn, req, &m, 1, false, NULL, &resp);
    if (resp && resp->code == RC_SUCCESS) {
        /* Apache answers send-back with a bare SUCCESS, no header fields. */
        rmq_cmd *bare = cmd_new_response(req, RC_SUCCESS, NULL);
        cmd_free(resp);
        resp = bare;
    }
    *out = resp;
    free(ps);
    free(orig_topic);
    msg_props_free(&props);
    store_slice_release(&sl);
    if (rc == RMQ_AGAIN) cmd_free(req);
    return rc;
}

void processor_register_send(rmq_server *s, broker *b)
{
    rmq_server_register(s, SEND_MESSAGE, send_processor, b);
    rmq_server_register(s, SEND_MESSAGE_V2, send_processor, b);
    rmq_server_register(s, SEND_BATCH_MESSAGE, send_processor, b);
    rmq_server_register(s, SEND_REPLY_MESSAGE, send_processor, b);
    rmq_server_register(s, SEND_REPLY_MESSAGE_V2, send_processor, b);
    rmq_server_register(s, CONSUMER_SEND_MSG_BACK, send_back_processor, b);
}
