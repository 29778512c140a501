/*
 * ACK_MESSAGE (200051), BATCH_ACK_MESSAGE (200151) and
 * CHANGE_MESSAGE_INVISIBLETIME (200053) — Apache 5.3's AckMessageProcessor
 * and ChangeInvisibleTimeProcessor (appendAck / appendCheckPointThenAckOrigin):
 * an ack becomes an ack record in the revive queue of its checkpoint; a new
 * invisible time becomes a one-message checkpoint from now plus an ack of the
 * old one. The extraInfo clients send back is ExtraInfoUtil's receipt:
 * "ckQueueOffset popTime invisibleTime reviveQid retryFlag brokerName queueId
 * [queueOffset]"; a malformed one answers SYSTEM_ERROR with the exception
 * Apache's ExtraInfoUtil throws.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/pop.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum { ACK_MESSAGE = 200051, CHANGE_MESSAGE_INVISIBLETIME = 200053, BATCH_ACK_MESSAGE = 200151 };

typedef struct ack_header {
    const char *consumerGroup, *topic, *extraInfo;
    int32_t queueId;
    int64_t offset, invisibleTime;
} ack_header;

#define F(member, type) {#member, type, true, offsetof(ack_header, member)}
static const hdr_field ack_fields[] = {F(consumerGroup, HDR_STR), F(topic, HDR_STR), F(queueId, HDR_I32),
                                       F(extraInfo, HDR_STR), F(offset, HDR_I64)};
static const hdr_field change_fields[] = {F(consumerGroup, HDR_STR), F(topic, HDR_STR), F(queueId, HDR_I32),
                                          F(extraInfo, HDR_STR), F(offset, HDR_I64), F(invisibleTime, HDR_I64)};
#undef F

/* ---- ExtraInfoUtil ---- */

#define XI_MAX 16

typedef struct extra_info {
    char *buf;
    const char *part[XI_MAX];
    int n;
    char err[256];
} extra_info;

/* String.split(" "): empty pieces kept except trailing ones. */
static void xi_split(extra_info *x, const char *s)
{
    x->buf = xstrdup(s);
    x->n = 0;
    char *p = x->buf;
    for (;;) {
        char *sp = strchr(p, ' ');
        if (x->n < XI_MAX) x->part[x->n++] = p;
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    while (x->n > 1 && !*x->part[x->n - 1]) x->n--;
    if (x->n == 1 && !*x->part[0]) x->n = 1;  /* "".split(" ") is [""] */
}

static bool xi_need(extra_info *x, int idx, const char *getter)
{
    if (x->n > idx) return true;
    snprintf(x->err, sizeof x->err, "java.lang.IllegalArgumentException: %s fail, extraInfoStrs length %d", getter,
             x->n);
    return false;
}

static bool xi_long(extra_info *x, int idx, const char *getter, int64_t *out)
{
    if (!xi_need(x, idx, getter)) return false;
    if (parse_int64(x->part[idx], out) == RMQ_OK) return true;
    snprintf(x->err, sizeof x->err, "java.lang.NumberFormatException: For input string: \"%.200s\"", x->part[idx]);
    return false;
}

static bool xi_int(extra_info *x, int idx, const char *getter, int32_t *out)
{
    int64_t v;
    if (!xi_long(x, idx, getter, &v)) return false;
    if (v < INT32_MIN || v > INT32_MAX) {
        snprintf(x->err, sizeof x->err, "java.lang.NumberFormatException: For input string: \"%.200s\"", x->part[idx]);
        return false;
    }
    *out = (int32_t)v;
    return true;
}

/* ---- shared checks ---- */

/*
 * Decodes the header and makes the checks ACK and CHANGE share: the topic, the
 * queue, and the offset against the queue's [min, max] (*min, *max); an
 * answer, or NULL to go on.
 */
static rmq_cmd *decode_and_check(broker *b, rmq_conn *conn, rmq_cmd *req, const hdr_field *fields, size_t n,
                                 ack_header *h, int64_t *min, int64_t *max)
{
    char err[512];
    if (cmd_decode_header(req, fields, n, h, err, sizeof err))
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
    topic_config tc;
    if (!topic_table_get(b->topics, h->topic, &tc))
        return cmd_new_responsef(req, RC_TOPIC_NOT_EXIST, "topic[%s] not exist, apply first please! %s", h->topic,
                                 FAQ_URL);
    if (h->queueId >= tc.read_queue_nums || h->queueId < 0)
        return cmd_new_responsef(req, RC_MESSAGE_ILLEGAL,
                                 "queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d] consumer:[/%s]",
                                 h->queueId, h->topic, tc.read_queue_nums, rmq_conn_remote(conn));
    *min = store_min_offset_in_queue(b->store, h->topic, h->queueId);
    *max = store_max_offset_in_queue(b->store, h->topic, h->queueId);
    return NULL;
}

/* A revive queue this broker reads: 0..reviveQueueNum-1. */
static bool revive_qid_ok(const broker *b, int32_t rq)
{
    return rq >= 0 && rq < pop_revive_queue_num(b->pop);
}

/* ---- orderly ---- */

/* ackOrderly: the group's offset moves to the first message of the batch not yet acknowledged. */
static void ack_orderly(broker *b, rmq_conn *conn, rmq_cmd *resp, const char *topic, const char *group, int32_t qid,
                        int64_t offset, int64_t pop_time, int64_t invisible)
{
    int64_t old = consumer_offset_query(b->offsets, group, topic, qid);
    if (offset < old) return;
    int64_t next = pop_order_commit(b->pop, topic, group, qid, offset, pop_time);
    if (next > -1) {
        consumer_offset_commit(b->offsets, group, topic, qid, next);
        if (!pop_order_blocked(b->pop, topic, group, qid, NULL, invisible, now_ms()))
            pop_hold_on_arrival(b, topic, qid);  /* the queue is free: wake who waits for it */
    } else if (next == -1) {
        cmd_set_code(resp, RC_MESSAGE_ILLEGAL, NULL);
        cmd_set_remark(resp, "offset is illegal, key:%s@%s@%d, old:%" PRId64 ", commit:%" PRId64 ", next:%" PRId64
                       ", /%s", topic, group, qid, old, offset, next, rmq_conn_remote(conn));
    }
}

/* ---- ACK_MESSAGE ---- */

static rmq_cmd *ack_one(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    ack_header h = {0};
    int64_t min, max;
    rmq_cmd *bad = decode_and_check(b, conn, req, ack_fields, sizeof ack_fields / sizeof ack_fields[0], &h, &min, &max);
    if (bad) return bad;
    if (h.offset < min || h.offset > max)
        return cmd_new_responsef(req, RC_NO_MESSAGE, "offset is illegal, key:%s@%d, commit:%" PRId64 ", store:%" PRId64
                                 "~%" PRId64, h.topic, h.queueId, h.offset, min, max);
    extra_info x;
    xi_split(&x, h.extraInfo);
    int32_t rq;
    int64_t ck_offset, pop_time, invisible;
    rmq_cmd *resp;
    if (!xi_need(&x, 5, "getBrokerName") || !xi_int(&x, 3, "getReviveQid", &rq) ||
        !xi_long(&x, 0, "getCkQueueOffset", &ck_offset) || !xi_long(&x, 1, "getPopTime", &pop_time) ||
        !xi_long(&x, 2, "getInvisibleTime", &invisible)) {
        resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", x.err);
    } else if (rq == POP_ORDER_REVIVE_QUEUE) {
        resp = cmd_new_response(req, RC_SUCCESS, NULL);
        ack_orderly(b, conn, resp, h.topic, h.consumerGroup, h.queueId, h.offset, pop_time, invisible);
    } else {
        resp = cmd_new_response(req, RC_SUCCESS, NULL);
        pop_ack a = {.topic = h.topic, .group = h.consumerGroup, .broker_name = x.part[5], .queue_id = h.queueId,
                     .start_offset = ck_offset, .pop_time = pop_time, .invisible_time = invisible,
                     .offsets = &h.offset, .n = 1};
        /* Apache answers SUCCESS whatever the put did (the failure is logged). */
        if (revive_qid_ok(b, rq)) pop_append_ack(b->pop, &a, rq);
        else log_warn("pop", "ack with revive queue %d from %s ignored", rq, rmq_conn_remote(conn));
    }
    free(x.buf);
    return resp;
}

/* ---- BATCH_ACK_MESSAGE ---- */

/* BitSet.valueOf of fastjson's base64 byte[]: bit i is byte i/8, bit i%8. */
static int bitset_decode(const char *b64, uint8_t *out, size_t cap)
{
    size_t len = strlen(b64);
    if (len % 4 || len / 4 * 3 > cap) return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0) return -1;
    if (len >= 1 && b64[len - 1] == '=') n--;
    if (len >= 2 && b64[len - 2] == '=') n--;
    return n;
}

/* One BatchAck: its set bits as offsets from startOffset, acknowledged as one bAck record. */
static const char *batch_ack_one(broker *b, rmq_conn *conn, rmq_cmd *resp, const cJSON *o, const char *broker_name)
{
    const char *group = NULL, *topic = NULL, *retry = NULL, *bits = NULL;
    int64_t so = 0, pt = 0, it = 0;
    int32_t q = 0, rq = 0;
    if (fjson_field_string(o, "c", &group) == FJSON_MISSING) fjson_field_string(o, "consumerGroup", &group);
    if (fjson_field_string(o, "t", &topic) == FJSON_MISSING) fjson_field_string(o, "topic", &topic);
    if (fjson_field_string(o, "r", &retry) == FJSON_MISSING) fjson_field_string(o, "retry", &retry);
    if (fjson_field_int64(o, "so", &so) == FJSON_MISSING) fjson_field_int64(o, "startOffset", &so);
    if (fjson_field_int32(o, "q", &q) == FJSON_MISSING) fjson_field_int32(o, "queueId", &q);
    if (fjson_field_int32(o, "rq", &rq) == FJSON_MISSING) fjson_field_int32(o, "reviveQueueId", &rq);
    if (fjson_field_int64(o, "pt", &pt) == FJSON_MISSING) fjson_field_int64(o, "popTime", &pt);
    if (fjson_field_int64(o, "it", &it) == FJSON_MISSING) fjson_field_int64(o, "invisibleTime", &it);
    if (fjson_field_string(o, "b", &bits) == FJSON_MISSING) fjson_field_string(o, "bitSet", &bits);
    if (!group || !topic || !retry) return "java.lang.NullPointerException";
    char real[META_NAME_MAX];
    if (!pop_real_topic(real, sizeof real, topic, group, retry))
        return "java.lang.IllegalArgumentException: getRetry fail, format is wrong";
    int64_t min = store_min_offset_in_queue(b->store, real, q), max = store_max_offset_in_queue(b->store, real, q);
    uint8_t set[512];
    int nbytes = bits ? bitset_decode(bits, set, sizeof set) : 0;
    if (min < 0 || max < 0 || nbytes <= 0) return NULL;
    int64_t offsets[sizeof set * 8];
    int n = 0;
    for (int i = 0; i < nbytes * 8; i++) {
        if (!(set[i / 8] & (1u << (i % 8)))) continue;
        int64_t off = so + i;
        if (off < min || off > max) continue;
        if (rq == POP_ORDER_REVIVE_QUEUE) ack_orderly(b, conn, resp, real, group, q, off, pt, it);
        else offsets[n++] = off;
    }
    if (rq == POP_ORDER_REVIVE_QUEUE || n == 0) return NULL;
    pop_ack a = {.topic = real, .group = group, .broker_name = broker_name ? broker_name : b->cfg.brokerName,
                 .queue_id = q, .start_offset = so, .pop_time = pt, .invisible_time = it, .offsets = offsets, .n = n,
                 .batch = true};
    if (revive_qid_ok(b, rq)) pop_append_ack(b->pop, &a, rq);
    return NULL;
}

static rmq_cmd *ack_batch(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    cJSON *root = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    const cJSON *acks = root ? cJSON_GetObjectItemCaseSensitive(root, "acks") : NULL;
    if (!cJSON_IsArray(acks) || cJSON_GetArraySize(acks) == 0) {
        cJSON_Delete(root);
        return cmd_new_response(req, RC_NO_MESSAGE, NULL);
    }
    const char *broker_name = NULL;
    fjson_field_string(root, "brokerName", &broker_name);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    const cJSON *one;
    cJSON_ArrayForEach(one, acks) {
        const char *why = batch_ack_one(b, conn, resp, one, broker_name);
        if (why) {
            cmd_set_code(resp, RC_SYSTEM_ERROR, why);
            break;
        }
    }
    cJSON_Delete(root);
    return resp;
}

/* ---- CHANGE_MESSAGE_INVISIBLETIME ---- */

static rmq_cmd *change_invisible(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    ack_header h = {0};
    int64_t min, max;
    rmq_cmd *bad = decode_and_check(b, conn, req, change_fields, sizeof change_fields / sizeof change_fields[0], &h,
                                    &min, &max);
    if (bad) return bad;
    if (h.offset < min || h.offset >= max) return cmd_new_response(req, RC_NO_MESSAGE, NULL);
    extra_info x;
    xi_split(&x, h.extraInfo);
    int32_t rq;
    int64_t ck_offset, pop_time, invisible;
    rmq_cmd *resp = NULL;
    if (!xi_int(&x, 3, "getReviveQid", &rq)) goto malformed;
    if (rq == POP_ORDER_REVIVE_QUEUE) {
        if (!xi_long(&x, 1, "getPopTime", &pop_time)) goto malformed;
        resp = cmd_new_response(req, RC_SUCCESS, NULL);
        /* processChangeInvisibleTimeForOrder: only offsets not yet committed change. */
        if (h.offset >= consumer_offset_query(b->offsets, h.consumerGroup, h.topic, h.queueId)) {
            int64_t next_visible = now_ms() + h.invisibleTime;
            pop_order_set_visible(b->pop, h.topic, h.consumerGroup, h.queueId, h.offset, pop_time, next_visible);
            cmd_ext_set_int(resp, "popTime", pop_time);
            cmd_ext_set_int(resp, "invisibleTime", next_visible - pop_time);
            cmd_ext_set_int(resp, "reviveQid", rq);
        }
        goto out;
    }
    if (!xi_need(&x, 5, "getBrokerName") || !xi_long(&x, 1, "getPopTime", &pop_time) ||
        !xi_long(&x, 0, "getCkQueueOffset", &ck_offset) || !xi_long(&x, 2, "getInvisibleTime", &invisible))
        goto malformed;
    int64_t now = now_ms();
    pop_ck ck = {.queue_id = h.queueId, .start_offset = h.offset, .pop_time = now, .invisible_time = h.invisibleTime,
                 .num = 1};
    snprintf(ck.topic, sizeof ck.topic, "%s", h.topic);
    snprintf(ck.group, sizeof ck.group, "%s", h.consumerGroup);
    snprintf(ck.broker_name, sizeof ck.broker_name, "%s", x.part[5]);
    if (!revive_qid_ok(b, rq) || pop_append_ck(b->pop, &ck, rq)) {
        resp = cmd_new_response(req, RC_SYSTEM_ERROR, NULL);
        goto out;
    }
    pop_ack a = {.topic = h.topic, .group = h.consumerGroup, .broker_name = x.part[5], .queue_id = h.queueId,
                 .start_offset = ck_offset, .pop_time = pop_time, .invisible_time = invisible, .offsets = &h.offset,
                 .n = 1};
    pop_append_ack(b->pop, &a, rq);
    resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_set_int(resp, "popTime", now);
    cmd_ext_set_int(resp, "invisibleTime", h.invisibleTime);
    cmd_ext_set_int(resp, "reviveQid", rq);
    goto out;
malformed:
    resp = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", x.err);
out:
    free(x.buf);
    return resp;
}

static int ack_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    switch (req->code) {
    case ACK_MESSAGE: *out = ack_one(b, conn, req); break;
    case BATCH_ACK_MESSAGE: *out = ack_batch(b, conn, req); break;
    default:
        *out = change_invisible(b, conn, req);
        /* ChangeInvisibleTimeResponseHeader's numbers go on every answer, zero when unset. */
        if (!cmd_ext_get(*out, "popTime")) {
            cmd_ext_set_int(*out, "popTime", 0);
            cmd_ext_set_int(*out, "invisibleTime", 0);
            cmd_ext_set_int(*out, "reviveQid", 0);
        }
        break;
    }
    return RMQ_OK;
}

void processor_register_ack(rmq_server *s, broker *b)
{
    rmq_server_register(s, ACK_MESSAGE, ack_processor, b);
    rmq_server_register(s, BATCH_ACK_MESSAGE, ack_processor, b);
    rmq_server_register(s, CHANGE_MESSAGE_INVISIBLETIME, ack_processor, b);
}
