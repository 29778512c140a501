/*
 * POP requests as the 5.3.x remoting client sends them and the receipts it builds
 * (ExtraInfoUtil), for the POP end-to-end tests. Include after broker_client.h and
 * after defining `static test_broker tb;` (the broker the helpers talk to) and
 * BROKER_NAME.
 */
#ifndef TEST_POP_CLIENT_H
#define TEST_POP_CLIENT_H

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* PopMessageRequestHeader as the 5.3 client fills it. */
static inline rmq_cmd *pop_req(const char *group, const char *topic, int qid, int max, int64_t invisible, int64_t poll,
                        bool order, const char *attempt)
{
    rmq_cmd *req = cmd_new_request(200050);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "maxMsgNums", max);
    cmd_ext_set_int(req, "invisibleTime", invisible);
    cmd_ext_set_int(req, "pollTime", poll);
    cmd_ext_set_int(req, "bornTime", now_ms());
    cmd_ext_set_int(req, "initMode", 0);
    cmd_ext_set(req, "expType", "TAG");
    cmd_ext_set(req, "exp", "*");
    cmd_ext_set(req, "order", order ? "true" : "false");
    if (attempt) cmd_ext_set(req, "attemptId", attempt);
    return req;
}

static inline rmq_cmd *pop(const char *group, const char *topic, int max, int64_t invisible)
{
    return tb_call(&tb, pop_req(group, topic, -1, max, invisible, 0, false, NULL), BC_TIMEOUT);
}

/* The receipt the client puts in POP_CK (processPopResponse): from the record, or built from the header. */
static inline char *receipt(const rmq_cmd *resp, const msg_record *r)
{
    char *ck = tb_prop(r, "POP_CK");
    if (ck) return ck;
    char key[32];
    snprintf(key, sizeof key, "0 %d ", r->queue_id);
    const char *info = cmd_ext_get(resp, "startOffsetInfo"), *at = info ? strstr(info, key) : NULL;
    ck_assert_msg(at, "no startOffsetInfo for queue %d in %s", r->queue_id, info ? info : "(none)");
    int64_t start = strtoll(at + strlen(key), NULL, 10);
    return str_printf("%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " 0 " BROKER_NAME " %d %" PRId64, start,
                      tb_ext_i64(resp, "popTime"), tb_ext_i64(resp, "invisibleTime"), tb_ext_i64(resp, "reviveQid"),
                      r->queue_id, r->queue_offset);
}

/* ExtraInfoUtil.getRealTopic of a receipt: the retry flag is its fifth field. */
static inline char *real_topic(const char *ck, const char *topic, const char *group)
{
    const char *p = ck;
    for (int i = 0; i < 4; i++) p = strchr(p, ' ') + 1;
    return *p == '1' ? str_printf("%%RETRY%%%s_%s", group, topic) : xstrdup(topic);
}

static inline int ck_queue(const char *ck)
{
    const char *p = ck;
    for (int i = 0; i < 6; i++) p = strchr(p, ' ') + 1;
    return atoi(p);
}

static inline int64_t ck_offset(const char *ck)
{
    const char *p = ck;
    for (int i = 0; i < 7; i++) p = strchr(p, ' ') + 1;
    return strtoll(p, NULL, 10);
}

/* ACK_MESSAGE as DefaultMQPushConsumerImpl.ackAsync sends it. */
static inline rmq_cmd *ack_req(const char *group, const char *topic, const char *ck)
{
    rmq_cmd *req = cmd_new_request(200051);
    char *real = real_topic(ck, topic, group);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", real);
    cmd_ext_set_int(req, "queueId", ck_queue(ck));
    cmd_ext_set(req, "extraInfo", ck);
    cmd_ext_set_int(req, "offset", ck_offset(ck));
    free(real);
    return req;
}

static inline void ack(const char *group, const char *topic, const char *ck)
{
    rmq_cmd *resp = tb_call(&tb, ack_req(group, topic, ck), BC_TIMEOUT);
    ck_assert_msg(resp->code == 0, "ack: %d %s", resp->code, resp->remark ? resp->remark : "");
    cmd_free(resp);
}

static inline void body_of(const msg_record *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)r->body_len, (const char *)r->body);
}

/* N messages "<prefix>0".."<prefix>N-1" to queue 0 of TOPIC. */
static inline void send_bodies(const char *topic, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char body[16];
        snprintf(body, sizeof body, "%s%d", prefix, i);
        cmd_free(tb_send(&tb, topic, 0, NULL, body));
    }
}

/* A one-queue TOPIC with N messages "<prefix>i", POPped at once by GROUP into RECS; the answer (caller frees). */
static inline rmq_cmd *popped(const char *topic, const char *group, const char *prefix, int n, int64_t invisible,
                       msg_record *recs)
{
    tb_create_topic(&tb, topic, 1);
    send_bodies(topic, prefix, n);
    rmq_cmd *r = pop(group, topic, 32, invisible);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_records(r, recs, n), n);
    return r;
}

/* POPs until a message comes or MS pass; the answer (caller frees) or NULL. */
static inline rmq_cmd *pop_within(const char *group, const char *topic, int64_t invisible, int ms)
{
    int64_t end = now_ms() + ms;
    do {
        rmq_cmd *r = pop(group, topic, 32, invisible);
        if (r->code == 0) return r;
        ck_assert_int_eq(r->code, 210);
        cmd_free(r);
        usleep(200000);
    } while (now_ms() < end);
    return NULL;
}

#endif
