/*
 * POP_MESSAGE (200050) — Apache 5.3's PopMessageProcessor with its
 * PopLongPollingService — and its read-only companions PEEK_MESSAGE (200052),
 * NOTIFICATION (200054) and POLLING_INFO (200055). POP works without the
 * in-memory buffer merge: each queue a
 * POP takes messages from gets its checkpoint in the revive topic at once
 * (pop.h) and the group's offset moves past them, as Apache does with
 * enablePopBufferMerge=false.
 *
 * A POP reads the POP retry topic first with popFromRetryProbability (20 %),
 * then the topic's queues (all of them, from a random one, for queueId -1),
 * then the retry topic when still short. Retry messages go out re-encoded
 * under the original topic with POP_CK set; for the others the client builds
 * POP_CK from startOffsetInfo / msgOffsetInfo. A POP that finds nothing and
 * has a pollTime is held until a message arrives for its topic or the poll
 * time is over.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "broker/pop.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "filter/filter.h"
#include "meta/meta.h"
#include "metrics/metrics.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum { POP_MESSAGE = 200050, PEEK_MESSAGE = 200052, NOTIFICATION = 200054, POLLING_INFO = 200055 };
enum { INIT_MODE_MIN = 0 };

typedef struct pop_header {
    const char *consumerGroup, *topic, *expType, *exp, *attemptId;
    int32_t queueId, maxMsgNums, initMode;
    int64_t invisibleTime, pollTime, bornTime;
    bool order;
} pop_header;

#define F(member, type, req) {#member, type, req, offsetof(pop_header, member)}
static const hdr_field pop_fields[] = {
    F(consumerGroup, HDR_STR, true), F(topic, HDR_STR, true), F(queueId, HDR_I32, true),
    F(maxMsgNums, HDR_I32, true), F(invisibleTime, HDR_I64, true), F(pollTime, HDR_I64, true),
    F(bornTime, HDR_I64, true), F(initMode, HDR_I32, true), F(expType, HDR_STR, false),
    F(exp, HDR_STR, false), F(order, HDR_BOOL, false), F(attemptId, HDR_STR, false),
};
#undef F

/* ---- one POP ---- */

typedef struct pop_ctx {
    broker *b;
    const pop_header *h;
    const rmq_filter *filter;
    int revive_qid;
    int64_t pop_time;
    int got;
    int64_t rest;
    struct evbuffer *body;
    char *start_info, *msg_info, *order_info;  /* startOffsetInfo, msgOffsetInfo, orderCountInfo */
} pop_ctx;

/* Appends one "flag queueId value" piece to a ';'-separated info string. */
static void info_append(char **info, const char *piece)
{
    char *joined = str_printf("%s%s%s", *info ? *info : "", *info ? ";" : "", piece);
    free(*info);
    *info = joined;
}

static void release_slice(const void *data, size_t len, void *arg)
{
    store_slice *sl = arg;
    store_slice_release(sl);
    free(sl);
}

/* getInitOffset: MIN (and retry topics) from the queue's first message, else its last. */
static int64_t init_offset(broker *b, const char *topic, int32_t qid, int32_t init_mode)
{
    int64_t min = store_min_offset_in_queue(b->store, topic, qid);
    if (init_mode == INIT_MODE_MIN || strncmp(topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0) return min;
    /* initPopOffsetByCheckMsgInMem: a queue that still starts at 0 is read from 0. */
    if (min <= 0 && store_max_offset_in_queue(b->store, topic, qid) > 0) return 0;
    int64_t last = store_max_offset_in_queue(b->store, topic, qid) - 1;
    return last < 0 ? 0 : last;
}

static int64_t pop_offset(pop_ctx *c, const char *topic, int32_t qid)
{
    broker *b = c->b;
    int64_t offset = consumer_offset_query(b->offsets, c->h->consumerGroup, topic, qid);
    if (offset < 0) {
        offset = init_offset(b, topic, qid, c->h->initMode);
        consumer_offset_commit(b->offsets, c->h->consumerGroup, topic, qid, offset);
    }
    return offset;
}

/* A retry message goes out under the topic asked for, with its POP_CK (putIfAbsent). */
static void add_retry_record(pop_ctx *c, const msg_record *r, int64_t start_offset)
{
    msg_props props;
    msg_props_init(&props);
    msg_props_parse(&props, r->props, r->props_len);
    if (!msg_props_get(&props, "POP_CK")) {
        char ck[512];
        char retry[MSG_MAX_TOPIC_LEN + 1];
        snprintf(retry, sizeof retry, "%.*s", (int)r->topic_len, r->topic);
        snprintf(ck, sizeof ck, "%" PRId64 " %" PRId64 " %" PRId64 " %d %s %s %d %" PRId64, start_offset, c->pop_time,
                 c->h->invisibleTime, c->revive_qid, pop_retry_flag(retry), c->b->cfg.brokerName, r->queue_id,
                 r->queue_offset);
        msg_props_set(&props, "POP_CK", ck);
    }
    size_t plen;
    char *ps = msg_props_encode(&props, &plen);
    msg_props_free(&props);
    msg_record out = *r;
    out.topic = c->h->topic;
    out.topic_len = (uint32_t)strlen(c->h->topic);
    out.props = ps;
    out.props_len = (uint32_t)plen;
    uint32_t size = msg_record_size(out.body_len, out.topic_len, out.props_len, out.born_host.v6, out.store_host.v6);
    uint8_t *buf = xmalloc(size);
    msg_record_encode(buf, &out);
    evbuffer_add(c->body, buf, size);
    free(buf);
    free(ps);
}

static bool status_offset_wrong(store_get_status st)
{
    return st == STORE_GET_OFFSET_TOO_SMALL || st == STORE_GET_OFFSET_OVERFLOW_BADLY ||
           st == STORE_GET_OFFSET_FOUND_NULL;
}

/* popMsgFromQueue */
static void pop_queue(pop_ctx *c, const char *topic, bool is_retry, int32_t qid)
{
    broker *b = c->b;
    const pop_header *h = c->h;
    int64_t offset = pop_offset(c, topic, qid);
    if (c->got >= h->maxMsgNums) {
        c->rest += store_max_offset_in_queue(b->store, topic, qid) - offset;
        return;
    }
    /* A queue whose last orderly batch is still invisible waits (its backlog is not counted). */
    if (h->order && pop_order_blocked(b->pop, topic, h->consumerGroup, qid, h->attemptId, h->invisibleTime, now_ms()))
        return;
    store_filter sf = processor_store_filter(c->filter, !is_retry || b->cfg.filterSupportRetry);
    store_get_result res;
    if (store_get_messages(b->store, h->consumerGroup, topic, qid, offset, h->maxMsgNums - c->got, &sf, &res)) return;
    if (status_offset_wrong(res.status)) {
        /* The stored offset is off the queue: start again where the store says. */
        offset = res.next_begin_offset;
        consumer_offset_commit(b->offsets, h->consumerGroup, topic, qid, offset);
        store_get_result_release(&res);
        if (store_get_messages(b->store, h->consumerGroup, topic, qid, offset, h->maxMsgNums - c->got, &sf, &res))
            return;
    }
    if (res.count > 0) {
        int64_t offsets[POP_MAX_MSGS];
        for (int i = 0; i < res.count; i++) {
            msg_record r;
            const char *why;
            offsets[i] = msg_record_decode(res.msgs[i].data, res.msgs[i].len, &r, &why) ? offset + i : r.queue_offset;
        }
        if (h->order) {
            /* No checkpoint: the offset stays at the batch until it is acknowledged. */
            pop_order_update(b->pop, topic, h->consumerGroup, qid, h->attemptId, c->pop_time, h->invisibleTime,
                             offsets, res.count, &c->order_info);
            consumer_offset_commit(b->offsets, h->consumerGroup, topic, qid, offset);
        } else {
            pop_ck ck = {.queue_id = qid, .start_offset = offset, .pop_time = c->pop_time,
                         .invisible_time = h->invisibleTime, .num = res.count};
            snprintf(ck.topic, sizeof ck.topic, "%s", topic);
            snprintf(ck.group, sizeof ck.group, "%s", h->consumerGroup);
            snprintf(ck.broker_name, sizeof ck.broker_name, "%s", b->cfg.brokerName);
            for (int i = 0; i < res.count; i++) ck.diff[i] = (int32_t)(offsets[i] - offset);
            if (pop_append_ck(b->pop, &ck, c->revive_qid)) {
                c->rest += res.max_offset - res.next_begin_offset + res.count;
                store_get_result_release(&res);
                return;
            }
            consumer_offset_commit(b->offsets, h->consumerGroup, topic, qid, res.next_begin_offset);
        }
        char piece[POP_MAX_MSGS * 21 + 32];
        snprintf(piece, sizeof piece, "%s %d %" PRId64, pop_retry_flag(topic), qid, offset);
        info_append(&c->start_info, piece);
        size_t off = (size_t)snprintf(piece, sizeof piece, "%s %d ", pop_retry_flag(topic), qid);
        for (int i = 0; i < res.count; i++)
            off += (size_t)snprintf(piece + off, sizeof piece - off, "%s%" PRId64, i ? "," : "", offsets[i]);
        info_append(&c->msg_info, piece);
        /* popResponseReturnActualRetryTopic: retry messages go out as stored, under their retry topic. */
        bool recode = is_retry && !b->cfg.popResponseReturnActualRetryTopic;
        if (recode) {
            for (int i = 0; i < res.count; i++) {
                msg_record r;
                const char *why;
                if (msg_record_decode(res.msgs[i].data, res.msgs[i].len, &r, &why) == RMQ_OK)
                    add_retry_record(c, &r, offset);
            }
        } else {
            /* Zero copy: the answer points into the mapped commitlog until it is written. */
            for (int i = 0; i < res.count; i++) {
                store_slice *sl = xmalloc(sizeof *sl);
                *sl = res.msgs[i];
                evbuffer_add_reference(c->body, sl->data, sl->len, release_slice, sl);
            }
        }
        /* As PopMessageProcessor: the topic asked for, retry messages labelled is_retry. */
        metrics_messages_out(h->topic, h->consumerGroup, is_retry, res.count, res.total_bytes);
        c->got += res.count;
        if (!recode) res.count = 0;  /* the references now belong to the body */
    } else if ((res.status == STORE_GET_NO_MATCHED_MESSAGE || res.status == STORE_GET_OFFSET_FOUND_NULL ||
                res.status == STORE_GET_MESSAGE_WAS_REMOVING || res.status == STORE_GET_NO_MATCHED_LOGIC_QUEUE) &&
               res.next_begin_offset > -1) {
        /* addCkMock: nothing to deliver here, only the offset moves. */
        consumer_offset_commit(b->offsets, h->consumerGroup, topic, qid, res.next_begin_offset);
    }
    c->rest += res.max_offset - res.next_begin_offset;
    store_get_result_release(&res);
}

static void pop_topic(pop_ctx *c, const char *topic, bool is_retry, int random_q)
{
    topic_config tc;
    if (!topic_table_get(c->b->topics, topic, &tc)) return;
    for (int i = 0; i < tc.read_queue_nums; i++) pop_queue(c, topic, is_retry, (random_q + i) % tc.read_queue_nums);
}

/* ---- held POPs (PopLongPollingService) ---- */

/* Runs a request; NULL and *held when it was held (then the hold owns req). */
typedef rmq_cmd *(*run_fn)(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held);

static rmq_cmd *notification_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held);

/* A held request is on two bucket lists: by its topic and by its POP retry topic. */
typedef struct hold_link {
    struct held_pop *next, *prev;
} hold_link;

typedef struct held_pop {
    broker *b;
    rmq_conn *conn;          /* held */
    rmq_cmd *req;            /* owned */
    run_fn run;              /* POP or NOTIFICATION, run again when woken */
    char *topic, *group, *retry;
    int32_t queue_id;
    int64_t expired;         /* bornTime + pollTime */
    struct event *timer;
    hold_link by_topic, by_retry;
    struct held_pop *woken;  /* pop_hold_on_arrival's list */
} held_pop;

#define HOLD_BUCKETS 1024

struct pop_hold {
    held_pop *by_topic[HOLD_BUCKETS], *by_retry[HOLD_BUCKETS];
    size_t count;
};

static unsigned bucket_of(const char *topic)
{
    return (unsigned)java_string_hash(topic, strlen(topic)) % HOLD_BUCKETS;
}

static void list_link(held_pop **head, held_pop *hp, hold_link *(*link)(held_pop *))
{
    link(hp)->prev = NULL;
    link(hp)->next = *head;
    if (*head) link(*head)->prev = hp;
    *head = hp;
}

static void list_unlink(held_pop **head, held_pop *hp, hold_link *(*link)(held_pop *))
{
    hold_link *l = link(hp);
    if (l->prev) link(l->prev)->next = l->next;
    else *head = l->next;
    if (l->next) link(l->next)->prev = l->prev;
}

static hold_link *topic_link(held_pop *hp) { return &hp->by_topic; }
static hold_link *retry_link(held_pop *hp) { return &hp->by_retry; }

static void held_link(struct pop_hold *ph, held_pop *hp)
{
    list_link(&ph->by_topic[bucket_of(hp->topic)], hp, topic_link);
    list_link(&ph->by_retry[bucket_of(hp->retry)], hp, retry_link);
    ph->count++;
}

static void held_unlink(struct pop_hold *ph, held_pop *hp)
{
    list_unlink(&ph->by_topic[bucket_of(hp->topic)], hp, topic_link);
    list_unlink(&ph->by_retry[bucket_of(hp->retry)], hp, retry_link);
    ph->count--;
}

/* Held requests for one topic, group and queue (PopLongPollingService's per-key set). */
static size_t held_count(const struct pop_hold *ph, const char *topic, const char *group, int32_t qid)
{
    size_t n = 0;
    for (const held_pop *hp = ph->by_topic[bucket_of(topic)]; hp; hp = hp->by_topic.next)
        n += hp->queue_id == qid && !strcmp(hp->topic, topic) && !strcmp(hp->group, group);
    return n;
}

static void held_free(held_pop *hp)
{
    atomic_fetch_sub(&hp->b->arrival_watchers, 1); /* counted by hold() */
    event_free(hp->timer);
    rmq_conn_release(hp->conn);
    cmd_free(hp->req);
    free(hp->topic);
    free(hp->group);
    free(hp->retry);
    free(hp);
}

/* Runs an unlinked held request again; it may be held anew (woken by messages it does not match). */
static void held_run(held_pop *hp, bool timed_out)
{
    if (!rmq_conn_closed(hp->conn)) {
        bool held = false;
        rmq_cmd *resp = hp->run(hp->b, hp->conn, hp->req, !timed_out, &held);
        if (held) {
            hp->req = NULL;  /* the new hold owns it */
        } else if (resp) {
            rmq_conn_answer(hp->conn, hp->req, resp);
        }
    }
    held_free(hp);
}

static void held_timeout(evutil_socket_t fd, short what, void *arg)
{
    held_pop *hp = arg;
    held_unlink(hp->b->pop_hold, hp);
    held_run(hp, true);
}

/* PopLongPollingService.polling: RC_SUCCESS when held, else POLLING_FULL or POLLING_TIMEOUT. */
static int hold(broker *b, rmq_conn *conn, rmq_cmd *req, run_fn run, const char *topic, const char *group,
                int32_t qid, int64_t born, int64_t poll)
{
    if ((int64_t)b->pop_hold->count >= b->cfg.maxPopPollingSize) return RC_POLLING_FULL;
    if ((int64_t)held_count(b->pop_hold, topic, group, qid) > b->cfg.popPollingSize) return RC_POLLING_FULL;
    int64_t expired = born + poll, now = now_ms();
    if (now > expired - 50) return RC_POLLING_TIMEOUT;
    held_pop *hp = xcalloc(1, sizeof *hp);
    atomic_fetch_add(&b->arrival_watchers, 1); /* while held (broker.h) */
    hp->b = b;
    hp->conn = conn;
    rmq_conn_hold(conn);
    hp->req = req;
    hp->run = run;
    hp->topic = xstrdup(topic);
    hp->group = xstrdup(group);
    char retry[META_NAME_MAX];
    pop_retry_topic(retry, sizeof retry, topic, group, b->cfg.enableRetryTopicV2);  /* where revive puts */
    hp->retry = xstrdup(retry);
    hp->queue_id = qid;
    hp->expired = expired;
    hp->timer = evtimer_new(b->base, held_timeout, hp);
    int64_t ms = expired - now;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(hp->timer, &tv);
    held_link(b->pop_hold, hp);
    return RC_SUCCESS;
}

/*
 * notifyMessageArriving: a message in TOPIC/QUEUE_ID wakes the requests held
 * for that queue (or any queue) of the topic; one in a POP retry topic
 * (notifyMessageArrivingWithRetryTopic) those of its group and topic.
 */
void pop_hold_on_arrival(broker *b, const char *topic, int32_t queue_id)
{
    struct pop_hold *ph = b->pop_hold;
    if (!ph || !ph->count) return;
    unsigned k = bucket_of(topic);
    held_pop *woken = NULL;
    for (held_pop *hp = ph->by_topic[k]; hp; hp = hp->by_topic.next)
        if (strcmp(hp->topic, topic) == 0 && (hp->queue_id < 0 || hp->queue_id == queue_id)) {
            hp->woken = woken;
            woken = hp;
        }
    for (held_pop *hp = ph->by_retry[k]; hp; hp = hp->by_retry.next)
        if (strcmp(hp->retry, topic) == 0) {
            hp->woken = woken;
            woken = hp;
        }
    /* Unlinked first: a request run again may be held anew, onto the same lists. Notifications
     * are answered before the POPs (oldest first) take what arrived. */
    for (held_pop *hp = woken; hp; hp = hp->woken) held_unlink(ph, hp);
    for (int pass = 0; pass < 2; pass++) {
        held_pop **pp = &woken;
        while (*pp) {
            held_pop *hp = *pp;
            if ((hp->run == notification_answer) == (pass == 0)) {
                *pp = hp->woken;
                held_run(hp, false);
            } else {
                pp = &hp->woken;
            }
        }
    }
}

struct pop_hold *pop_hold_new(void)
{
    return xcalloc(1, sizeof(struct pop_hold));
}

void pop_hold_free(struct pop_hold *h)
{
    for (int i = 0; i < HOLD_BUCKETS; i++)
        for (held_pop *hp = h->by_topic[i], *next; hp; hp = next) {
            next = hp->by_topic.next;
            held_free(hp);
        }
    free(h);
}

/* ---- the request ---- */

static void answer_header(rmq_cmd *resp, int64_t pop_time, int64_t invisible, int revive_qid, int64_t rest)
{
    cmd_ext_set_int(resp, "popTime", pop_time);
    cmd_ext_set_int(resp, "invisibleTime", invisible);
    cmd_ext_set_int(resp, "reviveQid", revive_qid);
    cmd_ext_set_int(resp, "restNum", rest);
}

/*
 * The checks POP, PEEK, NOTIFICATION and POLLING_INFO make in this order
 * (WHAT names the request in the broker's refusal); an answer, or NULL to go on.
 */
static rmq_cmd *check_queue(broker *b, rmq_conn *conn, rmq_cmd *req, const char *what, const char *topic,
                            const char *group, int32_t qid)
{
    if (!(b->cfg.brokerPermission & PERM_READ))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] %s message is forbidden", b->cfg.brokerIP1,
                                 what);
    topic_config tc;
    if (!topic_table_get(b->topics, topic, &tc))
        return cmd_new_responsef(req, RC_TOPIC_NOT_EXIST, "topic[%s] not exist, apply first please! %s", topic,
                                 FAQ_URL);
    if (!(tc.perm & PERM_READ))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the topic[%s] peeking message is forbidden", topic);
    if (qid >= tc.read_queue_nums)
        return cmd_new_responsef(req, RC_INVALID_PARAMETER,
                                 "queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d] consumer:[/%s]",
                                 qid, topic, tc.read_queue_nums, rmq_conn_remote(conn));
    subscription_group_config gc;
    bool created = false;
    if (!subgroup_table_find(b->groups, group, &gc, &created))
        return cmd_new_responsef(req, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "subscription group [%s] does not exist, %s",
                                 group, FAQ_URL);
    if (created) subgroup_table_persist(b->groups);
    if (!gc.consume_enable)
        return cmd_new_responsef(req, RC_NO_PERMISSION, "subscription group no permission, %s", group);
    return NULL;
}

/* Apache fills a missing or zero bornTime with the time it got the request (POP, NOTIFICATION). */
static void fill_born_time(rmq_cmd *req)
{
    const char *born = cmd_ext_get(req, "bornTime");
    if (!born || strcmp(born, "0") == 0) cmd_ext_set_int(req, "bornTime", now_ms());
}

static rmq_cmd *pop_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held);

static rmq_cmd *pop_run(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held)
{
    *held = false;
    fill_born_time(req);
    pop_header h = {0};
    char err[512];
    if (cmd_decode_header(req, pop_fields, sizeof pop_fields / sizeof pop_fields[0], &h, err, sizeof err))
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
    if (now_ms() - h.bornTime - h.pollTime > 500)
        return cmd_new_responsef(req, RC_POLLING_TIMEOUT, "the broker[%s] pop message is timeout too much",
                                 b->cfg.brokerIP1);
    if (!(b->cfg.brokerPermission & PERM_READ))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] pop message is forbidden", b->cfg.brokerIP1);
    if (h.maxMsgNums > POP_MAX_MSGS)
        return cmd_new_responsef(req, RC_INVALID_PARAMETER, "the broker[%s] pop message's num is greater than 32",
                                 b->cfg.brokerIP1);
    rmq_cmd *bad = check_queue(b, conn, req, "pop", h.topic, h.consumerGroup, h.queueId);
    if (bad) return bad;
    rmq_filter *filter = filter_compile(h.expType && *h.expType ? h.expType : "TAG", h.exp && *h.exp ? h.exp : "*",
                                        err, sizeof err);
    if (!filter)
        return cmd_new_responsef(req, RC_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");

    /* With v2 retry topics, half the POPs read the v1 ones that may still hold messages. */
    int random_q = rand() % 100;
    bool v2 = b->cfg.enableRetryTopicV2, need_retry = random_q < b->cfg.popFromRetryProbability;
    char retry[META_NAME_MAX];
    pop_retry_topic(retry, sizeof retry, h.topic, h.consumerGroup,
                    v2 && !(b->cfg.retrieveMessageFromPopRetryTopicV1 && random_q % 2 == 0));
    pop_ctx c = {.b = b, .h = &h, .filter = filter, .pop_time = now_ms(), .body = evbuffer_new(),
                 .revive_qid = h.order ? POP_ORDER_REVIVE_QUEUE : pop_next_revive_qid(b->pop)};
    if (need_retry && !h.order) pop_topic(&c, retry, true, random_q);
    if (h.queueId < 0) pop_topic(&c, h.topic, false, random_q);
    else pop_queue(&c, h.topic, false, h.queueId);
    if (!need_retry && c.got < h.maxMsgNums && !h.order) pop_topic(&c, retry, true, random_q);
    filter_free(filter);

    rmq_cmd *resp;
    if (c.got > 0) {
        resp = cmd_new_response(req, RC_SUCCESS, "FOUND");
        evbuffer_add_buffer(cmd_body_buf(resp), c.body);
    } else {
        int code = RC_POLLING_TIMEOUT;
        if (allow_hold && h.pollTime > 0) {
            code = hold(b, conn, req, pop_answer, h.topic, h.consumerGroup, h.queueId, h.bornTime, h.pollTime);
            if (code == RC_SUCCESS) {
                *held = true;
                evbuffer_free(c.body);
                free(c.start_info), free(c.msg_info), free(c.order_info);
                return NULL;
            }
        }
        resp = cmd_new_response(req, code, "NO_MESSAGE_IN_QUEUE");
    }
    answer_header(resp, c.pop_time, h.invisibleTime, c.revive_qid, c.rest);
    cmd_ext_set(resp, "startOffsetInfo", c.start_info ? c.start_info : "");
    cmd_ext_set(resp, "msgOffsetInfo", c.msg_info ? c.msg_info : "");
    if (h.order) cmd_ext_set(resp, "orderCountInfo", c.order_info ? c.order_info : "");
    evbuffer_free(c.body);
    free(c.start_info), free(c.msg_info), free(c.order_info);
    return resp;
}

/* Every answer carries PopMessageResponseHeader's numbers, zero on errors, as Apache's does. */
static rmq_cmd *pop_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held)
{
    rmq_cmd *resp = pop_run(b, conn, req, allow_hold, held);
    if (resp && !cmd_ext_get(resp, "popTime")) answer_header(resp, 0, 0, 0, 0);
    return resp;
}

/* ---- PEEK_MESSAGE: what a POP would take, taking nothing ---- */

/* consumerGroup, topic, queueId: what PEEK, NOTIFICATION and POLLING_INFO headers start with. */
typedef struct queue_header {
    const char *consumerGroup, *topic;
    int32_t queueId;
} queue_header;

/* Decodes a header that starts with a queue_header and makes check_queue's checks. */
static rmq_cmd *decode_checked(broker *b, rmq_conn *conn, rmq_cmd *req, const hdr_field *fields, size_t n,
                               queue_header *out)
{
    char err[512];
    if (cmd_decode_header(req, fields, n, out, err, sizeof err))
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
    return check_queue(b, conn, req, "peeking", out->topic, out->consumerGroup, out->queueId);
}

typedef struct peek_header {
    queue_header q;
    int32_t maxMsgNums;
} peek_header;

#define F(member, type) {#member, type, true, offsetof(peek_header, member)}
static const hdr_field peek_fields[] = {{"topic", HDR_STR, true, offsetof(peek_header, q.topic)},
                                        {"queueId", HDR_I32, true, offsetof(peek_header, q.queueId)},
                                        F(maxMsgNums, HDR_I32),
                                        {"consumerGroup", HDR_STR, true, offsetof(peek_header, q.consumerGroup)}};
#undef F

/* PeekMessageProcessor.getPopOffset: the group's offset, else the queue's first. */
static int64_t peek_offset(broker *b, const char *group, const char *topic, int32_t qid)
{
    int64_t offset = consumer_offset_query(b->offsets, group, topic, qid);
    return offset < 0 ? store_min_offset_in_queue(b->store, topic, qid) : offset;
}

static void peek_queue(broker *b, const peek_header *h, const char *topic, int32_t qid, struct evbuffer *body,
                       int *got, int64_t *rest)
{
    int64_t offset = peek_offset(b, h->q.consumerGroup, topic, qid);
    *rest += store_max_offset_in_queue(b->store, topic, qid) - offset;
    if (*got >= h->maxMsgNums) return;
    store_get_result res;
    if (store_get_messages(b->store, h->q.consumerGroup, topic, qid, offset, h->maxMsgNums - *got, NULL, &res)) return;
    if (res.status == STORE_GET_OFFSET_TOO_SMALL || res.status == STORE_GET_OFFSET_OVERFLOW_BADLY) {
        offset = res.next_begin_offset;
        store_get_result_release(&res);
        if (store_get_messages(b->store, h->q.consumerGroup, topic, qid, offset, h->maxMsgNums - *got, NULL, &res))
            return;
    }
    for (int i = 0; i < res.count; i++) {
        store_slice *sl = xmalloc(sizeof *sl);
        *sl = res.msgs[i];
        evbuffer_add_reference(body, sl->data, sl->len, release_slice, sl);
    }
    *got += res.count;
    res.count = 0;  /* the references now belong to the body */
    store_get_result_release(&res);
}

static void peek_topic(broker *b, const peek_header *h, const char *topic, int random_q, struct evbuffer *body,
                       int *got, int64_t *rest)
{
    topic_config tc;
    if (!topic_table_get(b->topics, topic, &tc)) return;
    for (int i = 0; i < tc.read_queue_nums; i++)
        peek_queue(b, h, topic, (random_q + i) % tc.read_queue_nums, body, got, rest);
}

static rmq_cmd *peek_run(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    peek_header h = {0};
    rmq_cmd *bad = decode_checked(b, conn, req, peek_fields, sizeof peek_fields / sizeof peek_fields[0], &h.q);
    if (bad) return bad;
    char retry[META_NAME_MAX];
    pop_retry_topic(retry, sizeof retry, h.q.topic, h.q.consumerGroup, b->cfg.enableRetryTopicV2);
    int random_q = rand() % 100, got = 0;
    bool need_retry = random_q % 5 == 0;
    int64_t rest = 0;
    struct evbuffer *body = evbuffer_new();
    if (need_retry) peek_topic(b, &h, retry, random_q, body, &got, &rest);
    if (h.q.queueId < 0) peek_topic(b, &h, h.q.topic, random_q, body, &got, &rest);
    else peek_queue(b, &h, h.q.topic, h.q.queueId, body, &got, &rest);
    if (!need_retry && got < h.maxMsgNums) peek_topic(b, &h, retry, random_q, body, &got, &rest);
    rmq_cmd *resp = got ? cmd_new_response(req, RC_SUCCESS, "FOUND")
                        : cmd_new_response(req, RC_PULL_NOT_FOUND, "NO_MESSAGE_IN_QUEUE");
    evbuffer_add_buffer(cmd_body_buf(resp), body);
    evbuffer_free(body);
    answer_header(resp, 0, 0, 0, rest);
    return resp;
}

/* ---- NOTIFICATION: is there something to POP (held until there is) ---- */

typedef struct notify_header {
    queue_header q;
    const char *attemptId;
    int64_t pollTime, bornTime;
    bool order;
} notify_header;

#define F(member, type, req) {#member, type, req, offsetof(notify_header, member)}
static const hdr_field notify_fields[] = {
    {"consumerGroup", HDR_STR, true, offsetof(notify_header, q.consumerGroup)},
    {"topic", HDR_STR, true, offsetof(notify_header, q.topic)},
    {"queueId", HDR_I32, true, offsetof(notify_header, q.queueId)},
    F(pollTime, HDR_I64, true), F(bornTime, HDR_I64, true), F(order, HDR_BOOL, false), F(attemptId, HDR_STR, false),
};
#undef F

static bool has_msg_queue(broker *b, const notify_header *h, const char *topic, int32_t qid)
{
    if (h->order && pop_order_blocked(b->pop, h->q.topic, h->q.consumerGroup, qid, h->attemptId, 0, now_ms()))
        return false;
    return store_max_offset_in_queue(b->store, topic, qid) - peek_offset(b, h->q.consumerGroup, topic, qid) > 0;
}

static bool has_msg_topic(broker *b, const notify_header *h, const char *topic, int random_q)
{
    topic_config tc;
    if (!topic_table_get(b->topics, topic, &tc)) return false;
    for (int i = 0; i < tc.read_queue_nums; i++)
        if (has_msg_queue(b, h, topic, (random_q + i) % tc.read_queue_nums)) return true;
    return false;
}

/* The group's POP retry topic, and with v2 names the v1 one too (retrieveMessageFromPopRetryTopicV1). */
static bool has_msg_retry(broker *b, const notify_header *h, int random_q)
{
    char retry[META_NAME_MAX];
    bool v2 = b->cfg.enableRetryTopicV2;
    pop_retry_topic(retry, sizeof retry, h->q.topic, h->q.consumerGroup, v2);
    if (has_msg_topic(b, h, retry, random_q)) return true;
    if (!v2 || !b->cfg.retrieveMessageFromPopRetryTopicV1) return false;
    pop_retry_topic(retry, sizeof retry, h->q.topic, h->q.consumerGroup, false);
    return has_msg_topic(b, h, retry, random_q);
}

static rmq_cmd *notification_run(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held)
{
    *held = false;
    fill_born_time(req);
    notify_header h = {0};
    rmq_cmd *bad = decode_checked(b, conn, req, notify_fields, sizeof notify_fields / sizeof notify_fields[0], &h.q);
    if (bad) return bad;
    int random_q = rand() % 100;
    bool need_retry = random_q % 5 == 0, has = need_retry && has_msg_retry(b, &h, random_q);
    if (!has) {
        has = h.q.queueId < 0 ? has_msg_topic(b, &h, h.q.topic, random_q)
                              : has_msg_queue(b, &h, h.q.topic, h.q.queueId);
        if (!need_retry && !has) has = has_msg_retry(b, &h, random_q);
    }
    bool full = false;
    if (!has && allow_hold && h.pollTime > 0) {
        int code = hold(b, conn, req, notification_answer, h.q.topic, h.q.consumerGroup, h.q.queueId, h.bornTime,
                        h.pollTime);
        if (code == RC_SUCCESS) {
            *held = true;
            return NULL;
        }
        full = code == RC_POLLING_FULL;
    }
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_set_bool(resp, "hasMsg", has);
    cmd_ext_set_bool(resp, "pollingFull", full);
    return resp;
}

/* NotificationResponseHeader's booleans go on every answer, false when unset. */
static rmq_cmd *notification_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_hold, bool *held)
{
    rmq_cmd *resp = notification_run(b, conn, req, allow_hold, held);
    if (resp && !cmd_ext_get(resp, "hasMsg")) {
        cmd_ext_set_bool(resp, "hasMsg", false);
        cmd_ext_set_bool(resp, "pollingFull", false);
    }
    return resp;
}

/* ---- POLLING_INFO: how many POPs wait on a queue ---- */

static rmq_cmd *polling_info(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    /* PollingInfoRequestHeader: NOTIFICATION's first three fields. */
    queue_header h = {0};
    rmq_cmd *bad = decode_checked(b, conn, req, notify_fields, 3, &h);
    if (bad) return bad;
    int64_t n = 0;
    for (held_pop *hp = b->pop_hold->by_topic[bucket_of(h.topic)]; hp; hp = hp->by_topic.next)
        n += hp->run == pop_answer && hp->queue_id == h.queueId && strcmp(hp->topic, h.topic) == 0 &&
             strcmp(hp->group, h.consumerGroup) == 0;
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_set_int(resp, "pollingNum", n);
    return resp;
}

static int pop_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    bool held = false;
    /* From before the store read until a hold, if any, counts itself (broker.h). */
    atomic_fetch_add(&b->arrival_watchers, 1);
    switch (req->code) {
    case POP_MESSAGE: *out = pop_answer(arg, conn, req, true, &held); break;
    case NOTIFICATION: *out = notification_answer(arg, conn, req, true, &held); break;
    case PEEK_MESSAGE:
        *out = peek_run(arg, conn, req);
        if (!cmd_ext_get(*out, "popTime")) answer_header(*out, 0, 0, 0, 0);
        break;
    default:
        *out = polling_info(arg, conn, req);
        if (!cmd_ext_get(*out, "pollingNum")) cmd_ext_set_int(*out, "pollingNum", 0);
        break;
    }
    atomic_fetch_sub(&b->arrival_watchers, 1);
    return held ? RMQ_AGAIN : RMQ_OK;
}

void processor_register_pop(rmq_server *s, broker *b)
{
    rmq_server_register(s, POP_MESSAGE, pop_processor, b);
    rmq_server_register(s, PEEK_MESSAGE, pop_processor, b);
    rmq_server_register(s, NOTIFICATION, pop_processor, b);
    rmq_server_register(s, POLLING_INFO, pop_processor, b);
}
