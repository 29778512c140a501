/*
 * PULL_MESSAGE (11), and LITE_PULL_MESSAGE (361) from 5.x lite pull consumers,
 * with long polling — Apache's PullMessageProcessor and
 * PullRequestHoldService. A pull that finds nothing and may suspend is held
 * (no answer written) until a message for its queue arrives or its
 * suspendTimeoutMillis passes; then it runs once more and answers whatever the
 * store says.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/clients.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "filter/filter.h"
#include "meta/meta.h"
#include "metrics/metrics.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum { PULL_MESSAGE = 11, LITE_PULL_MESSAGE = 361 };
enum { PULL_FLAG_COMMIT_OFFSET = 0x1, PULL_FLAG_SUSPEND = 0x2, PULL_FLAG_SUBSCRIPTION = 0x4 };

typedef struct pull_header {
    const char *consumerGroup, *topic, *subscription, *expressionType;
    int32_t queueId, maxMsgNums, sysFlag;
    int64_t queueOffset, commitOffset, suspendTimeoutMillis, subVersion;
} pull_header;

#define F(member, type, req) {#member, type, req, offsetof(pull_header, member)}
static const hdr_field pull_fields[] = {
    F(consumerGroup, HDR_STR, true), F(topic, HDR_STR, true), F(queueId, HDR_I32, true),
    F(queueOffset, HDR_I64, true), F(maxMsgNums, HDR_I32, true), F(sysFlag, HDR_I32, true),
    F(commitOffset, HDR_I64, true), F(suspendTimeoutMillis, HDR_I64, true),
    F(subscription, HDR_STR, false), F(subVersion, HDR_I64, true), F(expressionType, HDR_STR, false),
};
#undef F

/* ---- held pulls ---- */

typedef struct held_pull {
    broker *b;
    rmq_conn *conn;          /* held */
    rmq_cmd *req;            /* owned */
    char *key;               /* topic@queueId */
    int64_t offset;          /* wake once the queue's max passes it */
    struct event *timer;
    struct held_pull *next, *prev;
} held_pull;

#define HOLD_BUCKETS 1024

struct pull_hold {
    broker *b;
    held_pull *buckets[HOLD_BUCKETS];
};

static unsigned key_bucket(const char *key)
{
    return (unsigned)java_string_hash(key, strlen(key)) % HOLD_BUCKETS;
}

static rmq_cmd *pull_run(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_suspend, bool *suspended);
static rmq_cmd *pull_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_suspend, bool *suspended);

static void held_unlink(held_pull *hp)
{
    struct pull_hold *h = hp->b->pull_hold;
    if (hp->prev) hp->prev->next = hp->next;
    else h->buckets[key_bucket(hp->key)] = hp->next;
    if (hp->next) hp->next->prev = hp->prev;
}

static void held_free(held_pull *hp)
{
    atomic_fetch_sub(&hp->b->arrival_watchers, 1); /* counted by hold() */
    event_free(hp->timer);
    rmq_conn_release(hp->conn);
    cmd_free(hp->req);
    free(hp->key);
    free(hp);
}

/* Run the held pull once more, without suspending again, and answer it. */
static void held_wake(held_pull *hp)
{
    held_unlink(hp);
    if (!rmq_conn_closed(hp->conn)) {
        bool suspended;
        rmq_cmd *resp = pull_answer(hp->b, hp->conn, hp->req, false, &suspended);
        if (resp) rmq_conn_answer(hp->conn, hp->req, resp);
    }
    held_free(hp);
}

static void held_timeout(evutil_socket_t fd, short what, void *arg)
{
    held_wake(arg);
}

static void hold(broker *b, rmq_conn *conn, rmq_cmd *req, const pull_header *h)
{
    held_pull *hp = xcalloc(1, sizeof *hp);
    atomic_fetch_add(&b->arrival_watchers, 1); /* while held (broker.h) */
    hp->b = b;
    hp->conn = conn;
    rmq_conn_hold(conn);
    hp->req = req;
    hp->key = str_printf("%s@%d", h->topic, h->queueId);
    hp->offset = h->queueOffset;
    int64_t ms = b->cfg.longPollingEnable ? h->suspendTimeoutMillis : b->cfg.shortPollingTimeMills;
    if (ms < 0) ms = 0;
    hp->timer = evtimer_new(b->base, held_timeout, hp);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(hp->timer, &tv);
    unsigned bk = key_bucket(hp->key);
    hp->next = b->pull_hold->buckets[bk];
    if (hp->next) hp->next->prev = hp;
    b->pull_hold->buckets[bk] = hp;
}

/* NotifyMessageArrivingListener: a message reached topic/queue_id at queue_offset. */
void pull_hold_on_arrival(void *arg, const char *topic, int32_t queue_id, int64_t qoffset, int64_t tags_code,
                       const char *props, uint32_t props_len, int64_t store_ts)
{
    broker *b = arg;
    if (!b->pull_hold) return;
    /* "topic@queue" as the held pulls are keyed (snprintf cost ~1k instructions per
     * message here, on every store of every message) */
    char key[META_NAME_MAX + 16];
    size_t tl = strnlen(topic, META_NAME_MAX);
    memcpy(key, topic, tl);
    key[tl] = '@';
    fmt_int64(key + tl + 1, queue_id);
    held_pull *hp = b->pull_hold->buckets[key_bucket(key)], *next;
    for (; hp; hp = next) {
        next = hp->next;
        /* Apache also pre-checks the tag here; re-running the pull filters exactly. */
        if (strcmp(hp->key, key) == 0 && qoffset >= hp->offset) held_wake(hp);
    }
}

struct pull_hold *pull_hold_new(broker *b)
{
    struct pull_hold *h = xcalloc(1, sizeof *h);
    h->b = b;
    return h;
}

void pull_hold_free(struct pull_hold *h)
{
    for (int i = 0; i < HOLD_BUCKETS; i++) {
        held_pull *hp = h->buckets[i], *next;
        for (; hp; hp = next) {
            next = hp->next;
            held_free(hp);
        }
    }
    free(h);
}

/* ---- the pull itself ---- */

typedef struct record_props {
    const char *props;
    uint32_t len;
    char value[1024];
} record_props;

static const char *record_prop(const char *name, void *arg)
{
    record_props *rp = arg;
    const char *v;
    size_t vl;
    if (!msg_props_find(rp->props, rp->len, name, &v, &vl) || vl >= sizeof rp->value) return NULL;
    memcpy(rp->value, v, vl);
    rp->value[vl] = 0;
    return rp->value;
}

static bool match_tags_code(void *arg, int64_t tags_code)
{
    return filter_match_tags_code(arg, tags_code);
}

static bool match_record(void *arg, const uint8_t *record, uint32_t len)
{
    msg_record r;
    const char *why;
    if (msg_record_decode(record, len, &r, &why)) return false;
    record_props rp = {.props = r.props, .len = r.props_len};
    return filter_match_props(arg, record_prop, &rp);
}

static void release_slice(const void *data, size_t len, void *arg)
{
    store_slice *sl = arg;
    store_slice_release(sl);
    free(sl);
}

/* Below this many bytes a run of records is copied into the answer rather than
 * referenced: an evbuffer reference costs a chain, an allocation and a release
 * callback (~400 instructions from add to drain), a copy of a 128-byte record ~30. */
#define PULL_COPY_MAX 4096

/*
 * The body of a FOUND answer: the records, back to back. Records adjacent in one
 * commit-log segment form a run; a run of PULL_COPY_MAX bytes or more is referenced
 * in place (zero copy: the answer points into the mapped commit log, which the
 * run's slice keeps mapped until the bytes are written), a shorter one is copied
 * into one chain reserved for all the copies. Takes the slices it references out of
 * res (their entries' file set to NULL).
 */
/* The end (exclusive) of the run of records from i on, and its bytes in *bytes. */
static int run_end(const store_get_result *res, int i, size_t *bytes)
{
    const store_slice *m = res->msgs;
    int end = i + 1;
    *bytes = m[i].len;
    while (end < res->count && m[end].file == m[i].file && m[end].data == m[end - 1].data + m[end - 1].len)
        *bytes += m[end++].len;
    return end;
}

static void pull_body_fill(struct evbuffer *body, store_get_result *res)
{
    size_t run, copy_bytes = 0;
    for (int i = 0, end; i < res->count; i = end) {
        end = run_end(res, i, &run);
        if (run < PULL_COPY_MAX) copy_bytes += run;
    }
    if (copy_bytes) evbuffer_expand(body, copy_bytes);
    for (int i = 0, end; i < res->count; i = end) {
        end = run_end(res, i, &run);
        if (run < PULL_COPY_MAX) {
            evbuffer_add(body, res->msgs[i].data, run);
            continue;
        }
        store_slice *sl = xmalloc(sizeof *sl);
        *sl = res->msgs[i];
        sl->len = (uint32_t)run;
        res->msgs[i].file = NULL; /* its reference now belongs to the body */
        evbuffer_add_reference(body, sl->data, run, release_slice, sl);
    }
}

store_filter processor_store_filter(const rmq_filter *filter, bool sql_on_records)
{
    store_filter sf = {.by_tags_code = match_tags_code, .arg = (void *)filter};
    if (filter_type(filter) == FILTER_SQL92 && sql_on_records) sf.by_record = match_record;
    return sf;
}

static const char *const status_names[] = {
    "FOUND", "NO_MATCHED_MESSAGE", "MESSAGE_WAS_REMOVING", "OFFSET_FOUND_NULL", "OFFSET_OVERFLOW_BADLY",
    "OFFSET_OVERFLOW_ONE", "OFFSET_TOO_SMALL", "NO_MATCHED_LOGIC_QUEUE", "NO_MESSAGE_IN_QUEUE",
};

/*
 * Returns the answer, or NULL when the request was held (*suspended; the hold
 * service owns req then).
 */
static rmq_cmd *pull_run(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_suspend, bool *suspended)
{
    *suspended = false;
    pull_header h = {0};
    char err[512];
    if (cmd_decode_header(req, pull_fields, sizeof pull_fields / sizeof pull_fields[0], &h, err, sizeof err))
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
    if (!(b->cfg.brokerPermission & PERM_READ))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the broker[%s] pulling message is forbidden", b->cfg.brokerIP1);
    subscription_group_config gc;
    bool created = false;
    if (!subgroup_table_find(b->groups, h.consumerGroup, &gc, &created))
        return cmd_new_responsef(req, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "subscription group [%s] does not exist, %s",
                              h.consumerGroup, FAQ_URL);
    if (created) broker_group_changed(b, h.consumerGroup);
    if (!gc.consume_enable)
        return cmd_new_responsef(req, RC_NO_PERMISSION, "subscription group no permission, %s", h.consumerGroup);
    topic_config tc;
    if (!topic_table_get(b->topics, h.topic, &tc))
        return cmd_new_responsef(req, RC_TOPIC_NOT_EXIST, "topic[%s] not exist, apply first please! %s", h.topic, FAQ_URL);
    if (!(tc.perm & PERM_READ))
        return cmd_new_responsef(req, RC_NO_PERMISSION, "the topic[%s] pulling message is forbidden", h.topic);
    if (h.queueId < 0 || h.queueId >= tc.read_queue_nums)
        return cmd_new_responsef(req, RC_SYSTEM_ERROR,
                              "queueId[%d] is illegal, topic:[%s] topicConfig.readQueueNums:[%d] consumer:[%s]",
                              h.queueId, h.topic, tc.read_queue_nums, rmq_conn_remote(conn));

    rmq_filter *own = NULL;
    const rmq_filter *filter = NULL;
    const char *type = h.expressionType;
    if (h.sysFlag & PULL_FLAG_SUBSCRIPTION) {
        own = filter_compile(h.expressionType, h.subscription ? h.subscription : "*", err, sizeof err);
        if (!own)
            return cmd_new_responsef(req, RC_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");
        filter = own;
    } else {
        const consumer_group *cg = clients_consumer_group(b->clients, h.consumerGroup);
        if (!cg) return cmd_new_responsef(req, RC_SUBSCRIPTION_NOT_EXIST, "the consumer's group info not exist");
        if (cg->message_model == BROADCASTING && !gc.consume_broadcast_enable)
            return cmd_new_responsef(req, RC_NO_PERMISSION, "the consumer group[%s] can not consume by broadcast way",
                                  h.consumerGroup);
        const subscription_data *sd = consumer_group_subscription(cg, h.topic);
        if (!sd) return cmd_new_responsef(req, RC_SUBSCRIPTION_NOT_EXIST, "the consumer's subscription not exist");
        if (sd->sub_version < h.subVersion)
            return cmd_new_responsef(req, RC_SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest");
        if (!sd->filter) return cmd_new_responsef(req, RC_SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed");
        filter = sd->filter;
        type = sd->expression_type;
    }
    if (type && *type && strcmp(type, "TAG") && !b->cfg.enablePropertyFilter) {
        filter_free(own);
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "The broker does not support consumer to filter message by %s", type);
    }
    bool is_retry = strncmp(h.topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0;
    store_filter sf = processor_store_filter(filter, !is_retry || b->cfg.filterSupportRetry);

    store_get_result res;
    if (store_get_messages(b->store, h.consumerGroup, h.topic, h.queueId, h.queueOffset, h.maxMsgNums, &sf, &res)) {
        filter_free(own);
        return cmd_new_responsef(req, RC_SYSTEM_ERROR, "store getMessage return null");
    }
    filter_free(own);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, status_names[res.status]);
    /* PullMessageProcessor: with slaveReadEnable a consumer lagging more than
     * accessMessageInMemoryMaxRatio of RAM is sent to whichBrokerWhenConsumeSlowly,
     * one that keeps up to the group's brokerId; without it always to the master. */
    int64_t suggest = !b->cfg.slaveReadEnable ? 0
                      : res.suggest_pulling_from_slave ? gc.which_broker_when_consume_slowly : gc.broker_id;
    cmd_ext_set_int(resp, "suggestWhichBrokerId", suggest);
    cmd_ext_set_int(resp, "nextBeginOffset", res.next_begin_offset);
    cmd_ext_set_int(resp, "minOffset", res.min_offset);
    cmd_ext_set_int(resp, "maxOffset", res.max_offset);
    switch (res.status) {
    case STORE_GET_FOUND: resp->code = RC_SUCCESS; break;
    case STORE_GET_MESSAGE_WAS_REMOVING:
    case STORE_GET_NO_MATCHED_MESSAGE: resp->code = RC_PULL_RETRY_IMMEDIATELY; break;
    case STORE_GET_NO_MATCHED_LOGIC_QUEUE:
    case STORE_GET_NO_MESSAGE_IN_QUEUE:
        resp->code = h.queueOffset != 0 ? RC_PULL_OFFSET_MOVED : RC_PULL_NOT_FOUND;
        break;
    case STORE_GET_OFFSET_FOUND_NULL:
    case STORE_GET_OFFSET_OVERFLOW_ONE: resp->code = RC_PULL_NOT_FOUND; break;
    case STORE_GET_OFFSET_OVERFLOW_BADLY:
    case STORE_GET_OFFSET_TOO_SMALL: resp->code = RC_PULL_OFFSET_MOVED; break;
    }
    if (resp->code == RC_PULL_OFFSET_MOVED && broker_is_slave(b) && !b->cfg.offsetCheckInSlave) {
        resp->code = RC_PULL_RETRY_IMMEDIATELY;
        cmd_ext_set_int(resp, "suggestWhichBrokerId", gc.broker_id);
    }
    if (resp->code == RC_SUCCESS) {
        /* As DefaultPullMessageResultHandler: retry topics are not counted out. */
        if (!is_retry) metrics_messages_out(h.topic, h.consumerGroup, false, res.count, res.total_bytes);
        metrics_pull_offset(h.topic, h.consumerGroup, h.queueId, res.next_begin_offset);
        pull_body_fill(cmd_body_buf(resp), &res);
    }
    store_get_result_release(&res);

    if (resp->code == RC_PULL_NOT_FOUND && allow_suspend && (h.sysFlag & PULL_FLAG_SUSPEND)) {
        cmd_free(resp);
        resp = NULL;
        hold(b, conn, req, &h);
        *suspended = true;
    }
    if (allow_suspend && (h.sysFlag & PULL_FLAG_COMMIT_OFFSET) && !broker_is_slave(b))
        consumer_offset_commit(b->offsets, h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return resp;
}

/* Every answer carries extFields, {} on errors too, as PullMessageResponseHeader makes Apache's. */
static rmq_cmd *pull_answer(broker *b, rmq_conn *conn, rmq_cmd *req, bool allow_suspend, bool *suspended)
{
    rmq_cmd *resp = pull_run(b, conn, req, allow_suspend, suspended);
    if (resp) cmd_ext_declare(resp);
    return resp;
}

static int pull_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    bool suspended;
    /* From before the store read until a hold, if any, counts itself (broker.h). */
    atomic_fetch_add(&b->arrival_watchers, 1);
    *out = pull_answer(b, conn, req, true, &suspended);
    atomic_fetch_sub(&b->arrival_watchers, 1);
    return suspended ? RMQ_AGAIN : RMQ_OK;
}

void processor_register_pull(rmq_server *s, broker *b)
{
    rmq_server_register(s, PULL_MESSAGE, pull_processor, b);
    /* Apache 5.x registers its PullMessageProcessor for both (litePullMessageEnable is on by default). */
    rmq_server_register(s, LITE_PULL_MESSAGE, pull_processor, b);
}
