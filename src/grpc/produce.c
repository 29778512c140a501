/*
 * SendMessage, EndTransaction and transaction recovery (Apache's proxy
 * SendMessageActivity, EndTransactionActivity, and the check-back it turns into a
 * RecoverOrphanedTransactionCommand). Each message becomes a SEND_MESSAGE_V2 with the
 * properties the proxy sets; its producer group is its topic, as in the proxy. The
 * transaction id handed to the SDK is "<offsetMsgId>@<queueOffset>" of the half
 * message, which is what END_TRANSACTION needs back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "broker/acl2.h"
#include "broker/schedule.h"
#include "grpc_int.h"
#include "meta/meta.h"
#include "processor/response_codes.h"

enum { SEND_MESSAGE_V2 = 310, END_TRANSACTION = 37, RECALL_MESSAGE = 370 };
#define RECALL_TIMEOUT_MS 2000   /* RecallMessageActivity's */
#define MAX_DELAY_MS (3LL * 24 * 3600 * 1000)   /* ProxyConfig maxDelayTimeMills: 3 days */

typedef Apache__Rocketmq__V2__Message pb_msg;

typedef struct send_job {
    gcall *call;
    size_t n, left;
    Apache__Rocketmq__V2__SendResultEntry *entries;
} send_job;

static void entry_status(Apache__Rocketmq__V2__SendResultEntry *e, int code, const char *msg)
{
    status_free(e->status);
    e->status = status_new(code, msg);
}

static void send_job_finish(send_job *j)
{
    Apache__Rocketmq__V2__SendMessageResponse resp = APACHE__ROCKETMQ__V2__SEND_MESSAGE_RESPONSE__INIT;
    Apache__Rocketmq__V2__SendResultEntry **ptrs = xmalloc(j->n * sizeof *ptrs);
    const Apache__Rocketmq__V2__Status **each = xmalloc(j->n * sizeof *each);
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
        pb_str_free(j->entries[i].transaction_id);
        pb_str_free(j->entries[i].recall_handle);
    }
    free(ptrs);
    free(j->entries);
    gcall_release(j->call);
    free(j);
}

typedef struct send_one {
    send_job *job;
    size_t idx;
    bool transactional;
} send_one;

static void send_reply(rmq_cmd *resp, void *arg)
{
    send_one *o = arg;
    Apache__Rocketmq__V2__SendResultEntry *e = &o->job->entries[o->idx];
    if (!resp) {
        entry_status(e, APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR, "client gone");
    } else if (resp->code == RC_SUCCESS) {
        entry_status(e, APACHE__ROCKETMQ__V2__CODE__OK, NULL);
        int64_t qoff = 0;
        cmd_ext_int64(resp, "queueOffset", &qoff);
        e->offset = qoff;
        const char *offset_id = cmd_ext_get(resp, "msgId");
        if (o->transactional && offset_id) e->transaction_id = str_printf("%s@%" PRId64, offset_id, qoff);
        const char *recall = cmd_ext_get(resp, "recallHandle");   /* a timer message's */
        if (recall) e->recall_handle = xstrdup(recall);
    } else if (resp->code == RC_FLUSH_DISK_TIMEOUT) {
        entry_status(e, APACHE__ROCKETMQ__V2__CODE__MASTER_PERSISTENCE_TIMEOUT, "send message failed, sendStatus=FLUSH_DISK_TIMEOUT");
    } else if (resp->code == RC_FLUSH_SLAVE_TIMEOUT) {
        entry_status(e, APACHE__ROCKETMQ__V2__CODE__SLAVE_PERSISTENCE_TIMEOUT, "send message failed, sendStatus=FLUSH_SLAVE_TIMEOUT");
    } else if (resp->code == RC_SLAVE_NOT_AVAILABLE) {
        entry_status(e, APACHE__ROCKETMQ__V2__CODE__HA_NOT_AVAILABLE, "send message failed, sendStatus=SLAVE_NOT_AVAILABLE");
    } else {
        entry_status(e, status_code_of_remoting(resp->code), resp->remark);
    }
    cmd_free(resp);
    if (--o->job->left == 0) send_job_finish(o->job);
    free(o);
}

/* The message's properties as SendMessageActivity.buildMessageProperty sets them; NULL with
 * a status code and reason when the message is refused. */
static msg_props *build_props(const pb_msg *m, const char *topic, const char *peer, int *code, char *why, size_t cap)
{
    const Apache__Rocketmq__V2__SystemProperties *s = m->system_properties;
    msg_props *p = xmalloc(sizeof *p);
    msg_props_init(p);
    for (size_t i = 0; i < m->n_user_properties; i++) {
        const char *k = m->user_properties[i]->key, *v = m->user_properties[i]->value;
        if (grpc_reserved_property(k)) {
            *code = APACHE__ROCKETMQ__V2__CODE__ILLEGAL_MESSAGE_PROPERTY_KEY;
            snprintf(why, cap, "property is used by system: %s", k);
            goto refuse;
        }
        msg_props_set(p, k, v);
    }
    if (!s || !s->message_id || !*s->message_id) {
        *code = APACHE__ROCKETMQ__V2__CODE__ILLEGAL_MESSAGE_ID;
        snprintf(why, cap, "message id cannot be empty");
        goto refuse;
    }
    if (s->tag && *s->tag) msg_props_set(p, "TAGS", s->tag);
    if (s->n_keys) {
        size_t len = 0;
        for (size_t i = 0; i < s->n_keys; i++) len += strlen(s->keys[i]) + 1;
        char *keys = xmalloc(len + 1), *q = keys;
        for (size_t i = 0; i < s->n_keys; i++) q += sprintf(q, "%s%s", i ? " " : "", s->keys[i]);
        msg_props_set(p, "KEYS", keys);
        free(keys);
    }
    msg_props_set(p, "UNIQ_KEY", s->message_id);
    char num[32];
    if (s->message_type == APACHE__ROCKETMQ__V2__MESSAGE_TYPE__TRANSACTION) {
        msg_props_set(p, "TRAN_MSG", "true");
        if (s->orphaned_transaction_recovery_duration) {
            snprintf(num, sizeof num, "%" PRId64, (int64_t)s->orphaned_transaction_recovery_duration->seconds);
            msg_props_set(p, "CHECK_IMMUNITY_TIME_IN_SECONDS", num);
        }
    }
    if (s->delivery_timestamp) {
        int64_t at = s->delivery_timestamp->seconds * 1000 + s->delivery_timestamp->nanos / 1000000;
        if (at - now_ms() > MAX_DELAY_MS) {
            *code = APACHE__ROCKETMQ__V2__CODE__ILLEGAL_DELIVERY_TIME;
            snprintf(why, cap, "delay time is too large, max delay time is %lld ms", MAX_DELAY_MS);
            goto refuse;
        }
        snprintf(num, sizeof num, "%" PRId64, at);
        msg_props_set(p, "TIMER_DELIVER_MS", num);
    }
    snprintf(num, sizeof num, "%d", s->delivery_attempt);
    msg_props_set(p, "RECONSUME_TIME", num);
    msg_props_set(p, "PGROUP", topic);
    if (s->message_group && *s->message_group) msg_props_set(p, "__SHARDINGKEY", s->message_group);
    if (s->trace_context && *s->trace_context) msg_props_set(p, "TRACE_CONTEXT", s->trace_context);
    msg_props_set(p, "__BORNHOST", s->born_host && *s->born_host ? s->born_host : peer);
    if (s->born_timestamp) {
        snprintf(num, sizeof num, "%" PRId64, (int64_t)(s->born_timestamp->seconds * 1000 + s->born_timestamp->nanos / 1000000));
        msg_props_set(p, "BORN_TIMESTAMP", num);
    }
    return p;
refuse:
    msg_props_free(p);
    free(p);
    return NULL;
}

/* SendMessageQueueSelector on this broker's queues: by message group, else round robin. */
static int32_t select_queue(grpc_server *g, const char *topic, const char *group)
{
    static uint32_t rr;
    topic_config tc;
    int32_t n = topic_table_get(g->b->topics, topic, &tc) && tc.write_queue_nums > 0 ? tc.write_queue_nums : 1;
    if (group && *group) {
        int32_t h = java_string_hash(group, strlen(group));
        int32_t q = h % n;
        return q < 0 ? -q : q;
    }
    return (int32_t)(rr++ % (uint32_t)n);
}

void rpc_send_message(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__SendMessageRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__send_message_request__descriptor, m, n);
    if (!r) return;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__send_message_response__descriptor;
    if (!r->n_messages) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__MESSAGE_CORRUPTED, "no message to send");
        goto out;
    }
    const char *topic = resource_name(r->messages[0]->topic);
    if (!*topic) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_TOPIC, "topic name cannot be empty");
        goto out;
    }
    gclient *cl = gclient_of(c);
    send_job *j = xcalloc(1, sizeof *j);
    gcall_hold(c);
    j->call = c;
    j->n = r->n_messages;
    j->left = j->n + 1;   /* + the loop's own: answers may come back while it runs */
    j->entries = xcalloc(j->n, sizeof *j->entries);
    for (size_t i = 0; i < j->n; i++) apache__rocketmq__v2__send_result_entry__init(&j->entries[i]);
    for (size_t i = 0; i < j->n; i++) {
        const pb_msg *pm = r->messages[i];
        Apache__Rocketmq__V2__SendResultEntry *e = &j->entries[i];
        if (pm->system_properties && pm->system_properties->message_id)
            e->message_id = xstrdup(pm->system_properties->message_id);
        int code = 0;
        char why[256];
        int max = c->srv->b->cfg.maxMessageSize;
        if (pm->body.len > (size_t)max) {
            snprintf(why, sizeof why, "message body cannot exceed the max %d", max);
            entry_status(e, APACHE__ROCKETMQ__V2__CODE__MESSAGE_BODY_TOO_LARGE, why);
            j->left--;
            continue;
        }
        msg_props *props = build_props(pm, topic, c->peer, &code, why, sizeof why);
        if (!props) {
            entry_status(e, code, why);
            j->left--;
            continue;
        }
        const Apache__Rocketmq__V2__SystemProperties *s = pm->system_properties;
        bool tx = s->message_type == APACHE__ROCKETMQ__V2__MESSAGE_TYPE__TRANSACTION;
        size_t plen;
        char *ptext = msg_props_encode(props, &plen);
        msg_props_free(props);
        free(props);
        rmq_cmd *req = cmd_new_request(SEND_MESSAGE_V2);
        cmd_ext_set(req, "a", topic);
        cmd_ext_set(req, "b", resource_name(pm->topic));
        cmd_ext_set(req, "c", "TBW102");
        cmd_ext_set_int(req, "d", 4);
        cmd_ext_set_int(req, "e", select_queue(c->srv, topic, s->message_group));
        cmd_ext_set_int(req, "f", tx ? MSG_TRANS_PREPARED : 0);
        cmd_ext_set_int(req, "g", s->born_timestamp ? s->born_timestamp->seconds * 1000 + s->born_timestamp->nanos / 1000000
                                                    : now_ms());
        cmd_ext_set_int(req, "h", 0);
        cmd_ext_set(req, "i", ptext);
        cmd_ext_set_int(req, "j", s->delivery_attempt);
        cmd_ext_set_bool(req, "k", false);
        cmd_ext_set_bool(req, "m", false);
        free(ptext);
        cmd_set_body(req, pm->body.data, pm->body.len);
        send_one *o = xcalloc(1, sizeof *o);
        o->job = j;
        o->idx = i;
        o->transactional = tx;
        gclient_invoke(cl, req, send_reply, o);
    }
    if (--j->left == 0) send_job_finish(j);
out:
    apache__rocketmq__v2__send_message_request__free_unpacked(r, NULL);
}

/* ---- transactions ---- */

static void end_reply(rmq_cmd *resp, void *arg)
{
    gcall *c = arg;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__end_transaction_response__descriptor;
    if (!resp) gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR, "client gone");
    else if (resp->code == RC_SUCCESS) gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    else gcall_answer_status(c, d, status_code_of_remoting(resp->code), resp->remark);
    cmd_free(resp);
    gcall_release(c);
}

/* "<offsetMsgId>@<queueOffset>" -> commit log offset and queue offset. */
static bool parse_transaction_id(const char *id, int64_t *commit_log_offset, int64_t *table_offset)
{
    const char *at = strrchr(id, '@');
    if (!at) return false;
    char offset_id[64];
    if ((size_t)(at - id) >= sizeof offset_id) return false;
    snprintf(offset_id, sizeof offset_id, "%.*s", (int)(at - id), id);
    msg_host host;
    return msg_offset_id_decode(offset_id, &host, commit_log_offset) == RMQ_OK &&
           parse_int64(at + 1, table_offset) == RMQ_OK;
}

void rpc_end_transaction(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__EndTransactionRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__end_transaction_request__descriptor, m, n);
    if (!r) return;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__end_transaction_response__descriptor;
    int64_t clo, qo;
    int state = r->resolution == APACHE__ROCKETMQ__V2__TRANSACTION_RESOLUTION__COMMIT     ? MSG_TRANS_COMMIT
                : r->resolution == APACHE__ROCKETMQ__V2__TRANSACTION_RESOLUTION__ROLLBACK ? MSG_TRANS_ROLLBACK
                                                                                          : -1;
    if (!r->transaction_id || !parse_transaction_id(r->transaction_id, &clo, &qo)) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__INVALID_TRANSACTION_ID, "transaction id is invalid");
    } else if (state < 0) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__BAD_REQUEST, "unknown transaction resolution");
    } else {
        gclient *cl = gclient_of(c);
        rmq_cmd *req = cmd_new_request(END_TRANSACTION);
        cmd_ext_set(req, "producerGroup", resource_name(r->topic));
        cmd_ext_set_int(req, "tranStateTableOffset", qo);
        cmd_ext_set_int(req, "commitLogOffset", clo);
        cmd_ext_set_int(req, "commitOrRollback", state);
        cmd_ext_set_bool(req, "fromTransactionCheck", r->source == APACHE__ROCKETMQ__V2__TRANSACTION_SOURCE__SOURCE_SERVER_CHECK);
        cmd_ext_set(req, "msgId", r->message_id ? r->message_id : "");
        cmd_ext_set(req, "transactionId", r->transaction_id);
        gcall_hold(c);
        gclient_invoke(cl, req, end_reply, c);
    }
    apache__rocketmq__v2__end_transaction_request__free_unpacked(r, NULL);
}

/* ---- recall (RecallMessageActivity, ProducerProcessor.recallMessage in local mode) ---- */

static void recall_reply(rmq_cmd *resp, void *arg)
{
    gcall *c = arg;
    Apache__Rocketmq__V2__RecallMessageResponse out = APACHE__ROCKETMQ__V2__RECALL_MESSAGE_RESPONSE__INIT;
    if (resp && resp->code == RC_SUCCESS) {
        out.status = status_new(APACHE__ROCKETMQ__V2__CODE__OK, "OK");
        out.message_id = (char *)(cmd_ext_get(resp, "msgId") ? cmd_ext_get(resp, "msgId") : "");
    } else {
        /* LocalMessageService: any refusal is INTERNAL_SERVER_ERROR with the broker's remark. */
        out.status = status_new(APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR,
                                resp ? resp->remark : "client gone");
    }
    gcall_answer(c, &out.base);
    status_free(out.status);
    cmd_free(resp);
    gcall_release(c);
}

typedef struct recall_fwd {
    gcall *call;
    rmq_cmd *req;
} recall_fwd;

static void recall_forwarded(rmq_cmd *resp, const char *err, void *arg)
{
    (void)err;
    recall_reply(resp, arg);
}

static void recall_forward(const char *addr, void *arg)
{
    recall_fwd *f = arg;
    if (!addr) {
        /* Not in the topic's route: this broker answers (ILLEGAL_OPERATION, not its message). */
        gclient_invoke(gclient_of(f->call), f->req, recall_reply, f->call);
    } else {
        auth_sign_inner(f->call->srv->b->auth, f->req);
        rmq_client_request(f->call->srv->b->client, addr, f->req, RECALL_TIMEOUT_MS, recall_forwarded, f->call);
    }
    free(f);
}

void rpc_recall_message(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__RecallMessageRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__recall_message_request__descriptor, m, n);
    if (!r) return;
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__recall_message_response__descriptor;
    const char *topic = resource_name(r->topic);
    topic_config tc;
    const char *type = topic_table_get(c->srv->b->topics, topic, &tc) ? topic_config_message_type(&tc) : NULL;
    if (type && strcmp(type, "DELAY") != 0 && strcmp(type, "MIXED") != 0) {
        /* enableTopicMessageTypeCheck: only a DELAY (or MIXED) topic has messages to recall. */
        char why[160];
        snprintf(why, sizeof why, "TopicMessageType validate failed, the expected type is %s, but actual type is DELAY",
                 type);
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, why);
    } else {
        rmq_cmd *req = cmd_new_request(RECALL_MESSAGE);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "recallHandle", r->recall_handle ? r->recall_handle : "");
        recall_handle h;
        bool decoded = schedule_recall_decode(r->recall_handle ? r->recall_handle : "", &h) == RMQ_OK;
        bool elsewhere = decoded && strcmp(h.broker_name, c->srv->b->cfg.brokerName) != 0;
        gcall_hold(c);
        if (elsewhere) {
            /* The SDKs recall through their access point: the message's broker is asked, as
             * Apache's proxy (ClusterMessageService) resolves the handle's broker name. */
            recall_fwd *f = xcalloc(1, sizeof *f);
            f->call = c;
            f->req = req;
            grpc_broker_addr(c->srv, topic, h.broker_name, recall_forward, f);
        } else {
            gclient_invoke(gclient_of(c), req, recall_reply, c);
        }
        if (decoded) schedule_recall_free(&h);
    }
    apache__rocketmq__v2__recall_message_request__free_unpacked(r, NULL);
}

void grpc_recover_transaction(gclient *cl, rmq_cmd *req)
{
    gcall *t = cl->telemetry;
    if (!t || !gcall_alive(t)) {
        log_info("grpc", "client %s: transaction check with no Telemetry stream open", cl->id);
        return;
    }
    msg_record rec;
    const char *why;
    uint8_t *body = req->body;
    size_t len = req->body_len;
    if (!body || msg_record_decode(body, len, &rec, &why) != RMQ_OK) {
        log_warn("grpc", "client %s: transaction check without a readable message", cl->id);
        return;
    }
    const char *offset_id = cmd_ext_get(req, "offsetMsgId");
    int64_t qo = 0;
    cmd_ext_int64(req, "tranStateTableOffset", &qo);
    Apache__Rocketmq__V2__RecoverOrphanedTransactionCommand rc = APACHE__ROCKETMQ__V2__RECOVER_ORPHANED_TRANSACTION_COMMAND__INIT;
    rc.message = grpc_message_from_record(&rec, NULL);
    rc.transaction_id = str_printf("%s@%" PRId64, offset_id ? offset_id : "", qo);
    Apache__Rocketmq__V2__TelemetryCommand out = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__INIT;
    out.command_case = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_RECOVER_ORPHANED_TRANSACTION_COMMAND;
    out.recover_orphaned_transaction_command = &rc;
    gcall_send(t, &out.base);
    apache__rocketmq__v2__message__free_unpacked(rc.message, NULL);
    free(rc.transaction_id);
}
