/*
 * A stored message (the record format POP answers and transaction checks carry) as an
 * apache.rocketmq.v2.Message, the way Apache's proxy GrpcConverter builds it: system
 * properties out of the reserved keys, the rest as user properties, the body
 * inflated when stored compressed, and its MD5 (upper-case hex) as the digest the
 * SDKs verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "common/message.h"
#include "common/util.h"
#include "grpc_int.h"

/* MessageConst.STRING_HASH_SET: keys that never go out as user properties. */
static const char *const reserved[] = {
    "TRACE_ON", "MSG_REGION", "KEYS", "TAGS", "WAIT", "DELAY", "RETRY_TOPIC", "REAL_TOPIC", "REAL_QID", "TRAN_MSG",
    "PGROUP", "MIN_OFFSET", "MAX_OFFSET", "BUYER_ID", "ORIGIN_MESSAGE_ID", "TRANSFER_FLAG", "CORRECTION_FLAG",
    "MQ2_FLAG", "RECONSUME_TIME", "UNIQ_KEY", "MAX_RECONSUME_TIMES", "CONSUME_START_TIME", "POP_CK", "POP_CK_OFFSET",
    "1ST_POP_TIME", "TRAN_PREPARED_QUEUE_OFFSET", "DUP_INFO", "EXTEND_UNIQ_INFO", "INSTANCE_ID", "CORRELATION_ID",
    "REPLY_TO_CLIENT", "TTL", "ARRIVE_TIME", "PUSH_REPLY_TIME", "CLUSTER", "MSG_TYPE", "__SHARDINGKEY",
    "TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS", "TIMER_OUT_MS", "TIMER_ENQUEUE_MS",
    "TIMER_DEQUEUE_MS", "TIMER_ROLL_TIMES", "TIMER_DEL_UNIQKEY", "TRANSACTION_CHECK_TIMES",
    "CHECK_IMMUNITY_TIME_IN_SECONDS", "TRACE_CONTEXT", "BORN_TIMESTAMP", "__BORNHOST", "DLQ_ORIGIN_TOPIC",
    "DLQ_ORIGIN_MESSAGE_ID", "INNER_NUM", "INNER_BASE", "__STARTDELIVERTIME", "__transactionId__",
    NULL,
};

bool grpc_reserved_property(const char *key)
{
    for (int i = 0; reserved[i]; i++)
        if (!strcmp(reserved[i], key)) return true;
    return false;
}

static Google__Protobuf__Timestamp *timestamp_ms(int64_t ms)
{
    Google__Protobuf__Timestamp *t = xmalloc(sizeof *t);
    google__protobuf__timestamp__init(t);
    t->seconds = ms / 1000;
    t->nanos = (int32_t)(ms % 1000) * 1000000;
    return t;
}

static void host_only(const msg_host *h, char *buf, size_t cap)
{
    msg_host_format(h, buf, cap);
    char *colon = strrchr(buf, ':');
    if (colon) *colon = 0;
}

static int message_type(const msg_props *p, int sysflag)
{
    const char *tran = msg_props_get(p, "TRAN_MSG");
    if ((tran && !strcmp(tran, "true")) || MSG_TRANSACTION_TYPE(sysflag) == MSG_TRANS_PREPARED)
        return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__TRANSACTION;
    if (msg_props_get(p, "DELAY") || msg_props_get(p, "TIMER_DELIVER_MS") || msg_props_get(p, "TIMER_DELAY_SEC") ||
        msg_props_get(p, "TIMER_DELAY_MS"))
        return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__DELAY;
    if (msg_props_get(p, "__SHARDINGKEY")) return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__FIFO;
    return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__NORMAL;
}

Apache__Rocketmq__V2__Message *grpc_message_from_record(const msg_record *r, const char *topic)
{
    msg_props p;
    msg_props_init(&p);
    msg_props_parse(&p, r->props, r->props_len);
    Apache__Rocketmq__V2__Message *m = xmalloc(sizeof *m);
    apache__rocketmq__v2__message__init(m);
    m->topic = xmalloc(sizeof *m->topic);
    apache__rocketmq__v2__resource__init(m->topic);
    m->topic->name = topic ? xstrdup(topic) : xstrndup(r->topic, r->topic_len);

    /* Body: inflated when the store holds it compressed. */
    uint8_t *body = NULL;
    size_t body_len = r->body_len;
    if ((r->sysflag & MSG_SYSFLAG_COMPRESSED) && r->body_len) {
        uLongf cap = (uLongf)r->body_len * 4 + 1024;
        for (int tries = 0; tries < 6; tries++, cap *= 4) {
            body = xrealloc(body, cap);
            uLongf out = cap;
            int zrc = uncompress(body, &out, r->body, r->body_len);
            if (zrc == Z_OK) {
                body_len = out;
                break;
            }
            if (zrc != Z_BUF_ERROR) {
                free(body);
                body = NULL;
                break;
            }
        }
    }
    if (!body) {
        body = xmalloc(r->body_len ? r->body_len : 1);
        if (r->body_len) memcpy(body, r->body, r->body_len);
        body_len = r->body_len;
    }
    m->body.data = body;
    m->body.len = body_len;

    Apache__Rocketmq__V2__SystemProperties *s = xmalloc(sizeof *s);
    apache__rocketmq__v2__system_properties__init(s);
    m->system_properties = s;
    const char *v;
    if ((v = msg_props_get(&p, "TAGS"))) s->tag = xstrdup(v);
    if ((v = msg_props_get(&p, "KEYS")) && *v) {
        char *copy = xstrdup(v), *save = NULL;
        for (char *k = strtok_r(copy, " ", &save); k; k = strtok_r(NULL, " ", &save)) {
            s->keys = xrealloc(s->keys, (s->n_keys + 1) * sizeof *s->keys);
            s->keys[s->n_keys++] = xstrdup(k);
        }
        free(copy);
    }
    char idbuf[64];
    if ((v = msg_props_get(&p, "UNIQ_KEY"))) {
        s->message_id = xstrdup(v);
    } else {
        msg_offset_id_create(idbuf, &r->store_host, r->phys_offset);
        s->message_id = xstrdup(idbuf);
    }
    s->body_digest = xmalloc(sizeof *s->body_digest);
    apache__rocketmq__v2__digest__init(s->body_digest);
    s->body_digest->type = APACHE__ROCKETMQ__V2__DIGEST_TYPE__MD5;
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    EVP_Digest(body, body_len, md5, &md5_len, EVP_md5(), NULL);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    hex_upper(hex, md5, md5_len);
    s->body_digest->checksum = xstrdup(hex);
    s->body_encoding = APACHE__ROCKETMQ__V2__ENCODING__IDENTITY;
    s->message_type = message_type(&p, r->sysflag);
    s->born_timestamp = timestamp_ms(r->born_timestamp);
    char host[80];
    host_only(&r->born_host, host, sizeof host);
    s->born_host = xstrdup(host);
    s->store_timestamp = timestamp_ms(r->store_timestamp);
    msg_host_format(&r->store_host, host, sizeof host);
    s->store_host = xstrdup(host);
    int64_t at;
    if ((v = msg_props_get(&p, "TIMER_DELIVER_MS")) && parse_int64(v, &at) == RMQ_OK) s->delivery_timestamp = timestamp_ms(at);
    s->queue_id = r->queue_id;
    s->queue_offset = r->queue_offset;
    /* getReconsumeTimes() + 1 in Java: a stored INT_MAX wraps to INT_MIN there, no overflow fault. */
    s->delivery_attempt = msg_next_reconsume_times(r->reconsume_times);
    if ((v = msg_props_get(&p, "__SHARDINGKEY"))) s->message_group = xstrdup(v);
    if ((v = msg_props_get(&p, "TRACE_CONTEXT"))) s->trace_context = xstrdup(v);

    for (int i = 0; i < p.count; i++) {
        if (grpc_reserved_property(p.items[i].key)) continue;
        Apache__Rocketmq__V2__Message__UserPropertiesEntry *e = xmalloc(sizeof *e);
        apache__rocketmq__v2__message__user_properties_entry__init(e);
        e->key = xstrdup(p.items[i].key);
        e->value = xstrdup(p.items[i].value);
        m->user_properties = xrealloc(m->user_properties, (m->n_user_properties + 1) * sizeof *m->user_properties);
        m->user_properties[m->n_user_properties++] = e;
    }
    msg_props_free(&p);
    return m;
}
