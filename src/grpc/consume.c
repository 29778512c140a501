/*
 * Consumption (Apache's proxy ReceiveMessageActivity, AckMessageActivity,
 * ChangeInvisibleDurationActivity, ForwardMessageToDLQActivity) over POP:
 * ReceiveMessage is a POP_MESSAGE (held by the broker's long polling when nothing is
 * there) whose messages stream back with their receipt handles; a receipt handle is
 * ExtraInfoUtil's extra info of the message plus its commit log offset, as the proxy's
 * ReceiptHandle encodes it:
 *   "ckQueueOffset popTime invisibleTime reviveQid retryFlag brokerName queueId queueOffset commitLogOffset".
 */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "grpc_int.h"
#include "meta/meta.h"
#include "processor/response_codes.h"

enum {
    CONSUMER_SEND_MSG_BACK = 36, POP_MESSAGE = 200050, ACK_MESSAGE = 200051, CHANGE_MESSAGE_INVISIBLETIME = 200053,
};
enum { INIT_MODE_MAX = 1 };
#define DEFAULT_INVISIBLE_MS 60000      /* ProxyConfig defaultInvisibleTimeMills (auto renew) */
#define MIN_INVISIBLE_MS 1000
#define MAX_INVISIBLE_MS (12LL * 3600 * 1000)
#define DEFAULT_POLLING_MS 20000
#define POLLING_RESERVE_MS 1000
#define MAX_BATCH 32

/* ---- receipt handles ---- */

typedef struct receipt {
    char *buf;
    const char *part[9];
    int n;
} receipt;

/* ReceiptHandle.decode: nine space-separated parts (eight without the commit log offset). */
static bool receipt_parse(receipt *r, const char *s)
{
    r->buf = xstrdup(s ? s : "");
    r->n = 0;
    char *save = NULL;
    for (char *t = strtok_r(r->buf, " ", &save); t && r->n < 9; t = strtok_r(NULL, " ", &save)) r->part[r->n++] = t;
    int64_t v;
    bool ok = r->n >= 8;
    for (int i = 0; ok && i < r->n; i++)
        if (i != 5 && parse_int64(r->part[i], &v) != RMQ_OK) ok = false;
    return ok;
}

static void receipt_free(receipt *r) { free(r->buf); }

/* ExtraInfoUtil.getRealTopic: the retry topic the message came from, or TOPIC. */
static char *real_topic(const receipt *r, const char *topic, const char *group)
{
    if (!strcmp(r->part[4], "1")) return str_printf("%%RETRY%%%s_%s", group, topic);
    if (!strcmp(r->part[4], "2")) return str_printf("%%RETRY%%%s+%s", group, topic);
    return xstrdup(topic);
}

/* ---- ReceiveMessage ---- */

typedef struct receive_job {
    gcall *call;
    char *topic;
    char *broker_name;
    int64_t invisible_ms;
} receive_job;

static void receive_status(gcall *c, int code, const char *msg)
{
    Apache__Rocketmq__V2__ReceiveMessageResponse r = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__INIT;
    r.content_case = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_STATUS;
    r.status = status_new(code, msg);
    gcall_send(c, &r.base);
    status_free(r.status);
}

/* startOffsetInfo "flag qid offset;..." -> the offset for (flag, qid), or -1. */
static int64_t start_offset_of(const char *info, const char *flag, int32_t qid)
{
    if (!info) return -1;
    char *copy = xstrdup(info), *save = NULL;
    int64_t found = -1;
    for (char *one = strtok_r(copy, ";", &save); one; one = strtok_r(NULL, ";", &save)) {
        char f[8];
        int32_t q;
        int64_t off;
        if (sscanf(one, "%7s %" SCNd32 " %" SCNd64, f, &q, &off) == 3 && !strcmp(f, flag) && q == qid) {
            found = off;
            break;
        }
    }
    free(copy);
    return found;
}

static void send_messages(receive_job *j, rmq_cmd *resp)
{
    gcall *c = j->call;
    size_t len = cmd_total_body_len(resp);
    uint8_t *body = xmalloc(len ? len : 1);
    if (resp->body_len) memcpy(body, resp->body, resp->body_len);
    if (resp->body_buf) evbuffer_copyout(resp->body_buf, body + resp->body_len, len - resp->body_len);
    int64_t pop_time = 0, invisible = j->invisible_ms;
    int32_t revive_qid = 0;
    cmd_ext_int64(resp, "popTime", &pop_time);
    cmd_ext_int64(resp, "invisibleTime", &invisible);
    cmd_ext_int32(resp, "reviveQid", &revive_qid);
    const char *start_info = cmd_ext_get(resp, "startOffsetInfo");
    bool first = true;
    size_t pos = 0;
    while (pos + 4 <= len) {
        msg_record rec;
        const char *why;
        uint32_t size = get_be32(body + pos);
        if (size < 4 || size > len - pos || msg_record_decode(body + pos, size, &rec, &why) != RMQ_OK) {
            log_warn("grpc", "POP answer with an unreadable message at %zu", pos);
            break;
        }
        pos += size;
        if (first) {
            receive_status(c, APACHE__ROCKETMQ__V2__CODE__OK, NULL);
            first = false;
        }
        Apache__Rocketmq__V2__Message *m = grpc_message_from_record(&rec, j->topic);
        msg_props p;
        msg_props_init(&p);
        msg_props_parse(&p, rec.props, rec.props_len);
        const char *ck = msg_props_get(&p, "POP_CK");
        char *extra;
        if (ck) {
            extra = xstrdup(ck);
        } else {
            int64_t start = start_offset_of(start_info, "0", rec.queue_id);
            extra = str_printf("%" PRId64 " %" PRId64 " %" PRId64 " %d 0 %s %d %" PRId64, start < 0 ? rec.queue_offset : start,
                               pop_time, invisible, revive_qid, j->broker_name, rec.queue_id, rec.queue_offset);
        }
        msg_props_free(&p);
        Apache__Rocketmq__V2__SystemProperties *s = m->system_properties;
        s->receipt_handle = str_printf("%s %" PRId64, extra, rec.phys_offset);
        free(extra);
        s->invisible_duration = xmalloc(sizeof *s->invisible_duration);
        google__protobuf__duration__init(s->invisible_duration);
        s->invisible_duration->seconds = invisible / 1000;
        s->invisible_duration->nanos = (int32_t)(invisible % 1000) * 1000000;
        Apache__Rocketmq__V2__ReceiveMessageResponse r = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__INIT;
        r.content_case = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_MESSAGE;
        r.message = m;
        gcall_send(c, &r.base);
        apache__rocketmq__v2__message__free_unpacked(m, NULL);
    }
    if (first) receive_status(c, APACHE__ROCKETMQ__V2__CODE__MESSAGE_NOT_FOUND, "no match message");
    free(body);
}

static void receive_reply(rmq_cmd *resp, void *arg)
{
    receive_job *j = arg;
    gcall *c = j->call;
    if (!resp) receive_status(c, APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR, "client gone");
    else if (resp->code == RC_SUCCESS) send_messages(j, resp);
    else if (resp->code == RC_POLLING_FULL) receive_status(c, APACHE__ROCKETMQ__V2__CODE__TOO_MANY_REQUESTS, "polling full");
    else if (resp->code == RC_POLLING_TIMEOUT || resp->code == RC_PULL_NOT_FOUND || resp->code == RC_NO_MESSAGE)
        receive_status(c, APACHE__ROCKETMQ__V2__CODE__MESSAGE_NOT_FOUND, "no new message");
    else receive_status(c, status_code_of_remoting(resp->code), resp->remark);
    /* The proxy ends every receive with the time of delivery (the SDKs time consumption from it). */
    Apache__Rocketmq__V2__ReceiveMessageResponse last = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__INIT;
    Google__Protobuf__Timestamp now = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    int64_t ms = now_ms();
    now.seconds = ms / 1000;
    now.nanos = (int32_t)(ms % 1000) * 1000000;
    last.content_case = APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_DELIVERY_TIMESTAMP;
    last.delivery_timestamp = &now;
    gcall_send(c, &last.base);
    gcall_finish(c, GRPC_OK, NULL);
    cmd_free(resp);
    gcall_release(c);
    free(j->topic);
    free(j->broker_name);
    free(j);
}

static int64_t duration_to_ms(const Google__Protobuf__Duration *d)
{
    return d->seconds * 1000 + d->nanos / 1000000;
}

/*
 * The long-polling time of a receive: the client's, else the server's 20 s, and never past
 * the call's deadline less a reserve for the answer to get back (the proxy's
 * longPollingReserveTimeInMillis), or the SDK gives up with DEADLINE_EXCEEDED first.
 */
static int64_t polling_ms(const gcall *c, const Google__Protobuf__Duration *asked)
{
    int64_t poll = asked ? duration_to_ms(asked) : DEFAULT_POLLING_MS;
    if (poll > DEFAULT_POLLING_MS) poll = DEFAULT_POLLING_MS;
    if (c->timeout_ms >= 0) {
        int64_t left = c->timeout_ms - (mono_ms() - c->start_ms) - POLLING_RESERVE_MS;
        if (poll > left) poll = left;
    }
    return poll < 0 ? 0 : poll;
}

void rpc_receive_message(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__ReceiveMessageRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__receive_message_request__descriptor, m, n);
    if (!r) return;
    gclient *cl = gclient_of(c);
    const char *group = resource_name(r->group);
    const char *topic = r->message_queue ? resource_name(r->message_queue->topic) : "";
    int64_t invisible = r->invisible_duration ? duration_to_ms(r->invisible_duration) : DEFAULT_INVISIBLE_MS;
    if (r->auto_renew && !r->invisible_duration) invisible = DEFAULT_INVISIBLE_MS;
    if (!*group) {
        receive_status(c, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_CONSUMER_GROUP, "consumer group cannot be empty");
        gcall_finish(c, GRPC_OK, NULL);
    } else if (!*topic) {
        receive_status(c, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_TOPIC, "topic name cannot be empty");
        gcall_finish(c, GRPC_OK, NULL);
    } else if (invisible < MIN_INVISIBLE_MS || invisible > MAX_INVISIBLE_MS) {
        char why[128];
        snprintf(why, sizeof why, "the invisibleTime is out of range [%d, %lld]: %" PRId64, MIN_INVISIBLE_MS,
                 MAX_INVISIBLE_MS, invisible);
        receive_status(c, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_INVISIBLE_TIME, why);
        gcall_finish(c, GRPC_OK, NULL);
    } else {
        int32_t batch = r->batch_size <= 0 ? 1 : r->batch_size > MAX_BATCH ? MAX_BATCH : r->batch_size;
        int64_t poll = polling_ms(c, r->long_polling_timeout);
        bool sql = r->filter_expression && r->filter_expression->type == APACHE__ROCKETMQ__V2__FILTER_TYPE__SQL;
        const char *exp = r->filter_expression && r->filter_expression->expression && *r->filter_expression->expression
                              ? r->filter_expression->expression
                              : "*";
        rmq_cmd *req = cmd_new_request(POP_MESSAGE);
        cmd_ext_set(req, "consumerGroup", group);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set_int(req, "queueId", -1);
        cmd_ext_set_int(req, "maxMsgNums", batch);
        cmd_ext_set_int(req, "invisibleTime", invisible);
        cmd_ext_set_int(req, "pollTime", poll);
        cmd_ext_set_int(req, "bornTime", now_ms());
        cmd_ext_set_int(req, "initMode", INIT_MODE_MAX);
        cmd_ext_set(req, "expType", sql ? "SQL92" : "TAG");
        cmd_ext_set(req, "exp", exp);
        /* An orderly group (consumeMessageOrderly) pops in order, as the proxy's fifo. */
        subscription_group_config gc;
        bool fifo = subgroup_table_get(c->srv->b->groups, group, &gc) && gc.consume_message_orderly;
        cmd_ext_set_bool(req, "order", fifo);
        if (r->attempt_id && *r->attempt_id) cmd_ext_set(req, "attemptId", r->attempt_id);
        receive_job *j = xcalloc(1, sizeof *j);
        gcall_hold(c);
        j->call = c;
        j->topic = xstrdup(topic);
        j->broker_name = xstrdup(c->srv->b->cfg.brokerName);
        j->invisible_ms = invisible;
        gclient_invoke(cl, req, receive_reply, j);
    }
    apache__rocketmq__v2__receive_message_request__free_unpacked(r, NULL);
}

/* ---- AckMessage ---- */

typedef struct ack_job {
    gcall *call;
    size_t n, left;
    Apache__Rocketmq__V2__AckMessageResultEntry *entries;
} ack_job;

static void ack_finish(ack_job *j)
{
    Apache__Rocketmq__V2__AckMessageResponse resp = APACHE__ROCKETMQ__V2__ACK_MESSAGE_RESPONSE__INIT;
    Apache__Rocketmq__V2__AckMessageResultEntry **ptrs = xmalloc((j->n ? j->n : 1) * sizeof *ptrs);
    const Apache__Rocketmq__V2__Status **each = xmalloc((j->n ? j->n : 1) * sizeof *each);
    for (size_t i = 0; i < j->n; i++) {
        ptrs[i] = &j->entries[i];
        each[i] = j->entries[i].status;
    }
    resp.n_entries = j->n;
    resp.entries = ptrs;
    resp.status = status_overall(each, j->n);
    free(each);
    gcall_answer(j->call, &resp.base);
    status_free(resp.status);
    for (size_t i = 0; i < j->n; i++) {
        status_free(j->entries[i].status);
        pb_str_free(j->entries[i].message_id);
        pb_str_free(j->entries[i].receipt_handle);
    }
    free(ptrs);
    free(j->entries);
    gcall_release(j->call);
    free(j);
}

typedef struct ack_one {
    ack_job *job;
    size_t idx;
} ack_one;

static void ack_reply(rmq_cmd *resp, void *arg)
{
    ack_one *o = arg;
    Apache__Rocketmq__V2__AckMessageResultEntry *e = &o->job->entries[o->idx];
    int code = !resp ? APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR : status_code_of_remoting(resp->code);
    e->status = status_new(code, resp && resp->code != RC_SUCCESS ? resp->remark : NULL);
    cmd_free(resp);
    if (--o->job->left == 0) ack_finish(o->job);
    free(o);
}

/* The remoting header both ACK and CHANGE carry, from a receipt handle. */
static rmq_cmd *receipt_request(int code, const receipt *rh, const char *handle, const char *group, const char *topic)
{
    rmq_cmd *req = cmd_new_request(code);
    char *real = real_topic(rh, topic, group);
    int64_t msg_offset;
    parse_int64(rh->part[7], &msg_offset);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", real);
    cmd_ext_set(req, "queueId", rh->part[6]);
    cmd_ext_set(req, "extraInfo", handle);
    cmd_ext_set_int(req, "offset", msg_offset);
    free(real);
    return req;
}

void rpc_ack_message(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__AckMessageRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__ack_message_request__descriptor, m, n);
    if (!r) return;
    gclient *cl = gclient_of(c);
    const char *group = resource_name(r->group), *topic = resource_name(r->topic);
    ack_job *j = xcalloc(1, sizeof *j);
    gcall_hold(c);
    j->call = c;
    j->n = r->n_entries;
    j->left = j->n + 1;
    j->entries = xcalloc(j->n ? j->n : 1, sizeof *j->entries);
    for (size_t i = 0; i < j->n; i++) {
        const Apache__Rocketmq__V2__AckMessageEntry *in = r->entries[i];
        Apache__Rocketmq__V2__AckMessageResultEntry *e = &j->entries[i];
        apache__rocketmq__v2__ack_message_result_entry__init(e);
        e->message_id = xstrdup(in->message_id ? in->message_id : "");
        e->receipt_handle = xstrdup(in->receipt_handle ? in->receipt_handle : "");
        receipt rh;
        if (!receipt_parse(&rh, in->receipt_handle)) {
            e->status = status_new(APACHE__ROCKETMQ__V2__CODE__INVALID_RECEIPT_HANDLE, "receipt handle is not valid");
            j->left--;
        } else {
            ack_one *o = xcalloc(1, sizeof *o);
            o->job = j;
            o->idx = i;
            gclient_invoke(cl, receipt_request(ACK_MESSAGE, &rh, in->receipt_handle, group, topic), ack_reply, o);
        }
        receipt_free(&rh);
    }
    if (--j->left == 0) ack_finish(j);
    apache__rocketmq__v2__ack_message_request__free_unpacked(r, NULL);
}

/* ---- ChangeInvisibleDuration ---- */

typedef struct change_job {
    gcall *call;
    receipt rh;
    char *real_topic;
} change_job;

static void change_reply(rmq_cmd *resp, void *arg)
{
    change_job *j = arg;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__change_invisible_duration_response__descriptor;
    if (!resp || resp->code != RC_SUCCESS) {
        gcall_answer_status(j->call, d, resp ? status_code_of_remoting(resp->code) : APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR,
                            resp ? resp->remark : "client gone");
    } else {
        int64_t pop_time = 0, invisible = 0;
        int32_t revive_qid = 0;
        cmd_ext_int64(resp, "popTime", &pop_time);
        cmd_ext_int64(resp, "invisibleTime", &invisible);
        cmd_ext_int32(resp, "reviveQid", &revive_qid);
        const receipt *rh = &j->rh;
        /* A one-message checkpoint at the message's own offset (ConsumerProcessor.changeInvisibleTime). */
        Apache__Rocketmq__V2__ChangeInvisibleDurationResponse out = APACHE__ROCKETMQ__V2__CHANGE_INVISIBLE_DURATION_RESPONSE__INIT;
        out.status = status_new(APACHE__ROCKETMQ__V2__CODE__OK, NULL);
        out.receipt_handle = str_printf("%s %" PRId64 " %" PRId64 " %d %s %s %s %s %s", rh->part[7], pop_time, invisible,
                                        revive_qid, rh->part[4], rh->part[5], rh->part[6], rh->part[7],
                                        rh->n > 8 ? rh->part[8] : "0");
        gcall_answer(j->call, &out.base);
        status_free(out.status);
        free(out.receipt_handle);
    }
    cmd_free(resp);
    gcall_release(j->call);
    receipt_free(&j->rh);
    free(j);
}

void rpc_change_invisible(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__ChangeInvisibleDurationRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__change_invisible_duration_request__descriptor, m, n);
    if (!r) return;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__change_invisible_duration_response__descriptor;
    change_job *j = xcalloc(1, sizeof *j);
    int64_t invisible = r->invisible_duration ? duration_to_ms(r->invisible_duration) : -1;
    if (!receipt_parse(&j->rh, r->receipt_handle)) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__INVALID_RECEIPT_HANDLE, "receipt handle is not valid");
        receipt_free(&j->rh);
        free(j);
    } else if (invisible < 0 || invisible > MAX_INVISIBLE_MS) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_INVISIBLE_TIME, "the invisibleTime is out of range");
        receipt_free(&j->rh);
        free(j);
    } else {
        gclient *cl = gclient_of(c);
        rmq_cmd *req = receipt_request(CHANGE_MESSAGE_INVISIBLETIME, &j->rh, r->receipt_handle, resource_name(r->group),
                                       resource_name(r->topic));
        cmd_ext_set_int(req, "invisibleTime", invisible);
        gcall_hold(c);
        j->call = c;
        gclient_invoke(cl, req, change_reply, j);
    }
    apache__rocketmq__v2__change_invisible_duration_request__free_unpacked(r, NULL);
}

/* ---- ForwardMessageToDeadLetterQueue ---- */

typedef struct dlq_job {
    gcall *call;
    gclient *client;
    rmq_cmd *ack;     /* sent once the message is in the DLQ: it must not come back */
} dlq_job;

static void dlq_acked(rmq_cmd *resp, void *arg)
{
    dlq_job *j = arg;
    gcall_answer_status(j->call, &apache__rocketmq__v2__forward_message_to_dead_letter_queue_response__descriptor,
                        APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    cmd_free(resp);
    gcall_release(j->call);
    free(j);
}

static void dlq_reply(rmq_cmd *resp, void *arg)
{
    dlq_job *j = arg;
    if (resp && resp->code == RC_SUCCESS) {
        rmq_cmd *ack = j->ack;
        j->ack = NULL;
        cmd_free(resp);
        gclient_invoke(j->client, ack, dlq_acked, j);
        return;
    }
    gcall_answer_status(j->call, &apache__rocketmq__v2__forward_message_to_dead_letter_queue_response__descriptor,
                        resp ? status_code_of_remoting(resp->code) : APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR,
                        resp ? resp->remark : "client gone");
    cmd_free(resp);
    cmd_free(j->ack);
    gcall_release(j->call);
    free(j);
}

void rpc_forward_dlq(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__ForwardMessageToDeadLetterQueueRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__forward_message_to_dead_letter_queue_request__descriptor, m, n);
    if (!r) return;
    receipt rh;
    const char *group = resource_name(r->group), *topic = resource_name(r->topic);
    if (!receipt_parse(&rh, r->receipt_handle) || rh.n < 9) {
        gcall_answer_status(c, &apache__rocketmq__v2__forward_message_to_dead_letter_queue_response__descriptor,
                            APACHE__ROCKETMQ__V2__CODE__INVALID_RECEIPT_HANDLE, "receipt handle is not valid");
    } else {
        dlq_job *j = xcalloc(1, sizeof *j);
        gcall_hold(c);
        j->call = c;
        j->client = gclient_of(c);
        j->ack = receipt_request(ACK_MESSAGE, &rh, r->receipt_handle, group, topic);
        char *real = real_topic(&rh, topic, group);
        rmq_cmd *req = cmd_new_request(CONSUMER_SEND_MSG_BACK);
        cmd_ext_set(req, "offset", rh.part[8]);
        cmd_ext_set(req, "group", group);
        cmd_ext_set_int(req, "delayLevel", -1);
        cmd_ext_set(req, "originMsgId", r->message_id ? r->message_id : "");
        cmd_ext_set(req, "originTopic", real);
        cmd_ext_set_bool(req, "unitMode", false);
        cmd_ext_set_int(req, "maxReconsumeTimes", r->max_delivery_attempts);
        free(real);
        gclient_invoke(j->client, req, dlq_reply, j);
    }
    receipt_free(&rh);
    apache__rocketmq__v2__forward_message_to_dead_letter_queue_request__free_unpacked(r, NULL);
}
