/*
 * Transactional messages: END_TRANSACTION's commit and rollback, op records,
 * the periodic check-back and the discard after transactionCheckMax checks
 * (transaction.h says how progress and decisions are kept).
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "sysqueue.h"
#include "transaction.h"

#define CHECK_TRANSACTION_STATE 39
#define TX_KEY_MAX 128

/* ---- decided transactions: a counted set of transaction ids ---- */

typedef struct decided {
    char *key;
    int refs;                    /* op records in the window naming it */
    struct decided *next;
} decided;

/* One op record between the op queue's committed offset and op_scanned. */
typedef struct op_entry {
    int64_t op_offset;
    int64_t store_ts;
    int64_t half_offset;
    decided *d;                  /* NULL when its half could not be read */
} op_entry;

struct transaction_service {
    broker *b;
    struct event *check_ev;
    decided **buckets;
    size_t n_buckets, n_decided;
    op_entry *window;            /* [head, n) live */
    size_t head, n, cap;
    int64_t op_scanned;          /* next op queue offset to read */
    int64_t op_committed;        /* CID_RMQ_SYS_TRANS offset on the op queue */
    msg_host store_host;
};

static size_t key_slot(const transaction_service *t, const char *key)
{
    uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % t->n_buckets);
}

static decided *decided_find(const transaction_service *t, const char *key)
{
    for (decided *d = t->buckets[key_slot(t, key)]; d; d = d->next)
        if (strcmp(d->key, key) == 0) return d;
    return NULL;
}

static void decided_grow(transaction_service *t)
{
    size_t old_n = t->n_buckets;
    decided **old = t->buckets;
    t->n_buckets *= 2;
    t->buckets = xcalloc(t->n_buckets, sizeof *t->buckets);
    for (size_t i = 0; i < old_n; i++) {
        for (decided *d = old[i], *next; d; d = next) {
            next = d->next;
            size_t slot = key_slot(t, d->key);
            d->next = t->buckets[slot];
            t->buckets[slot] = d;
        }
    }
    free(old);
}

static decided *decided_add(transaction_service *t, const char *key)
{
    decided *d = decided_find(t, key);
    if (!d) {
        if (t->n_decided >= 2 * t->n_buckets) decided_grow(t);
        d = xcalloc(1, sizeof *d);
        d->key = xstrdup(key);
        size_t slot = key_slot(t, key);
        d->next = t->buckets[slot];
        t->buckets[slot] = d;
        t->n_decided++;
    }
    d->refs++;
    return d;
}

static void decided_release(transaction_service *t, decided *d)
{
    if (--d->refs > 0) return;
    decided **pp = &t->buckets[key_slot(t, d->key)];
    while (*pp != d) pp = &(*pp)->next;
    *pp = d->next;
    t->n_decided--;
    free(d->key);
    free(d);
}

/* ---- reading the queues ---- */

/* The transaction id: UNIQ_KEY, shared by a half and its copies; the offset when absent. */
static void tx_key(const msg_record *r, char key[TX_KEY_MAX])
{
    if (!sysqueue_prop(r, MSG_PROP_UNIQ_KEY, key, TX_KEY_MAX))
        snprintf(key, TX_KEY_MAX, "@%" PRId64, r->queue_offset);
}

/* The half at a queue offset; on true *sl must be released. */
static bool half_at(transaction_service *t, int64_t offset, store_slice *sl, msg_record *r)
{
    store_get_result res;
    if (store_get_messages(t->b->store, TRANS_SYS_GROUP, TOPIC_TRANS_HALF, 0, offset, 1, NULL, &res)) return false;
    bool ok = false;
    const char *why;
    if (res.count == 1 && msg_record_decode(res.msgs[0].data, res.msgs[0].len, r, &why) == RMQ_OK &&
        r->queue_offset == offset) {
        *sl = res.msgs[0];
        res.count = 0;  /* the reference is the caller's now */
        ok = true;
    }
    store_get_result_release(&res);
    return ok;
}

static void window_push(transaction_service *t, op_entry e)
{
    if (t->head > 0 && t->head * 2 >= t->n) {
        memmove(t->window, t->window + t->head, (t->n - t->head) * sizeof *t->window);
        t->n -= t->head;
        t->head = 0;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->window = xrealloc(t->window, t->cap * sizeof *t->window);
    }
    t->window[t->n++] = e;
}

static bool read_op_visit(void *ctx, const msg_record *op)
{
    transaction_service *t = ctx;
    op_entry e = {.op_offset = op->queue_offset, .store_ts = op->store_timestamp, .half_offset = -1};
    char num[24];
    store_slice sl;
    msg_record half;
    if (op->body_len < sizeof num) {
        memcpy(num, op->body, op->body_len);
        num[op->body_len] = 0;
        if (parse_int64(num, &e.half_offset) == RMQ_OK && half_at(t, e.half_offset, &sl, &half)) {
            char key[TX_KEY_MAX];
            tx_key(&half, key);
            e.d = decided_add(t, key);
            store_slice_release(&sl);
        }
    }
    window_push(t, e);
    return true;
}

/* Reads op records written since the last call into the decided set. */
static void read_ops(transaction_service *t)
{
    sysqueue_scan(t->b->store, TRANS_SYS_GROUP, TOPIC_TRANS_OP_HALF, &t->op_scanned, read_op_visit, t);
}

/* TransactionalMessageBridge.putOpMessage: tags "d", body the half's queue offset. */
static int write_op(transaction_service *t, int64_t half_offset)
{
    char body[24];
    int len = snprintf(body, sizeof body, "%" PRId64, half_offset);
    /* new Message(topic, "d", body): TAGS and WAIT, in the order Java's HashMap writes them. */
    static const char props[] = "WAIT\001true\002TAGS\001" TRANS_REMOVE_TAG;
    store_msg m = {
        .topic = TOPIC_TRANS_OP_HALF, .queue_id = 0, .born_timestamp = now_ms(), .born_host = t->store_host,
        .body = (const uint8_t *)body, .body_len = (uint32_t)len, .props = props, .props_len = sizeof props - 1,
    };
    store_put_entry e;
    store_put_result res = {.entries = &e};
    if (store_put(t->b->store, &m, 1, &res) != STORE_PUT_OK) {
        log_error("transaction", "op record for half offset %" PRId64 " not stored: %s", half_offset,
                  res.reason ? res.reason : "put failed");
        return RMQ_ERR;
    }
    return RMQ_OK;
}

/* ---- END_TRANSACTION ---- */

tx_end_result transaction_end(transaction_service *t, const end_transaction *req, store_put_status *put_status)
{
    store_slice sl;
    msg_record r;
    const char *why;
    if (store_get_record(t->b->store, req->commit_log_offset, &sl)) return TX_END_NOT_FOUND;
    tx_end_result rc = TX_END_DONE;
    char pgroup[META_NAME_MAX], key[TX_KEY_MAX], topic[MSG_MAX_TOPIC_LEN + 1];
    int32_t qid = 0;
    if (msg_record_decode(sl.data, sl.len, &r, &why) || r.topic_len != strlen(TOPIC_TRANS_HALF) ||
        memcmp(r.topic, TOPIC_TRANS_HALF, r.topic_len) != 0) {
        rc = TX_END_NOT_FOUND;
    } else if (!sysqueue_prop(&r, "PGROUP", pgroup, sizeof pgroup) || strcmp(pgroup, req->producer_group) != 0) {
        rc = TX_END_WRONG_GROUP;
    } else if (r.queue_offset != req->tran_state_table_offset) {
        rc = TX_END_WRONG_QUEUE_OFFSET;
    } else if (r.phys_offset != req->commit_log_offset) {
        rc = TX_END_WRONG_COMMITLOG_OFFSET;
    } else if (tx_key(&r, key), decided_find(t, key)) {
        log_info("transaction", "transaction %s already decided; END_TRANSACTION %d ignored", key,
                 req->commit_or_rollback);
        rc = TX_END_ALREADY_DECIDED;
    } else if (req->commit_or_rollback == MSG_TRANS_COMMIT && !sysqueue_real_queue(&r, topic, &qid)) {
        rc = TX_END_NOT_FOUND;
    }
    if (rc != TX_END_DONE) {
        store_slice_release(&sl);
        return rc;
    }
    if (req->commit_or_rollback == MSG_TRANS_COMMIT) {
        /* endMessageTransaction: the half's properties string is stored as it is
         * (REAL_TOPIC/REAL_QID leave only Apache's property map). */
        store_msg m;
        sysqueue_msg_from_record(&m, &r, topic, qid);
        m.sysflag = (m.sysflag & ~MSG_SYSFLAG_TRANS_MASK) | MSG_TRANS_COMMIT;
        m.prepared_tx_offset = req->commit_log_offset;
        store_put_entry e;
        store_put_result res = {.entries = &e};
        if ((*put_status = store_put(t->b->store, &m, 1, &res)) != STORE_PUT_OK) {
            store_slice_release(&sl);
            return TX_END_PUT_FAILED;
        }
    }
    write_op(t, r.queue_offset);
    store_slice_release(&sl);
    read_ops(t);
    return TX_END_DONE;
}

/* ---- check ---- */

/* Sends CHECK_TRANSACTION_STATE about the copy (AbstractTransactionalMessageCheckListener.sendCheckMessage). */
static void send_check(transaction_service *t, const msg_record *copy, const store_put_entry *e)
{
    char pgroup[META_NAME_MAX], topic[MSG_MAX_TOPIC_LEN + 1], qbuf[16], uniq[TX_KEY_MAX];
    if (!sysqueue_prop(copy, "PGROUP", pgroup, sizeof pgroup)) pgroup[0] = 0;
    rmq_conn *conn = clients_producer_channel(t->b->clients, pgroup);
    if (!conn) {
        log_warn("transaction", "Check transaction failed, channel is null. groupId=%s", pgroup);
        return;
    }
    /* The body is the message as its producer knows it: real topic and queue, the copy's offsets. */
    msg_record m = *copy;
    int32_t qid = 0;
    if (sysqueue_prop(copy, "REAL_TOPIC", topic, sizeof topic)) {
        m.topic = topic;
        m.topic_len = (uint32_t)strlen(topic);
    }
    if (sysqueue_prop(copy, "REAL_QID", qbuf, sizeof qbuf) && parse_int32(qbuf, &qid) == RMQ_OK) m.queue_id = qid;
    m.queue_offset = e->queue_offset;
    m.phys_offset = e->phys_offset;
    uint32_t size = msg_record_size(m.body_len, m.topic_len, m.props_len, m.born_host.v6, m.store_host.v6);
    uint8_t *body = xmalloc(size);
    msg_record_encode(body, &m);

    rmq_cmd *req = cmd_new_request(CHECK_TRANSACTION_STATE);
    bool has_uniq = sysqueue_prop(copy, MSG_PROP_UNIQ_KEY, uniq, sizeof uniq);
    cmd_ext_set_int(req, "commitLogOffset", e->phys_offset);
    if (has_uniq) cmd_ext_set(req, "msgId", uniq);
    cmd_ext_set_int(req, "tranStateTableOffset", e->queue_offset);
    cmd_ext_set(req, "offsetMsgId", e->msg_id);
    if (has_uniq) cmd_ext_set(req, "transactionId", uniq);
    cmd_take_body(req, body, size);
    rmq_conn_oneway(conn, req);
}

/* putBackHalfMsgQueue + the check: the half again with one more check counted. */
static int check_half(transaction_service *t, const msg_record *r, int times)
{
    msg_props props;
    msg_props_init(&props);
    msg_props_parse(&props, r->props, r->props_len);
    char buf[16];
    snprintf(buf, sizeof buf, "%d", times + 1);
    msg_props_set(&props, "TRANSACTION_CHECK_TIMES", buf);
    size_t plen;
    char *ps = msg_props_encode(&props, &plen);
    msg_props_free(&props);
    store_msg m;
    sysqueue_msg_from_record(&m, r, TOPIC_TRANS_HALF, 0);
    m.props = ps;
    m.props_len = (uint32_t)plen;
    store_put_entry e;
    store_put_result res = {.entries = &e};
    int rc = RMQ_ERR;
    if (store_put(t->b->store, &m, 1, &res) == STORE_PUT_OK) {
        msg_record copy = *r;
        copy.props = ps;
        copy.props_len = (uint32_t)plen;
        send_check(t, &copy, &e);
        rc = RMQ_OK;
    } else {
        log_warn("transaction", "half message %" PRId64 " not appended again: %s", r->queue_offset,
                 res.reason ? res.reason : "put failed");
    }
    free(ps);
    return rc;
}

/* resolveDiscardMsg: checked too often; kept in TRANS_CHECK_MAX_TIME_TOPIC. */
static void discard_half(transaction_service *t, const msg_record *r, const char *key)
{
    topic_config tc;
    bool created = false;
    topic_table_create_in_send_back(t->b->topics, TOPIC_TRANS_CHECK_MAX_TIME, 1, PERM_READ | PERM_WRITE, 0, &tc,
                                    &created);
    if (created) broker_topic_changed(t->b, TOPIC_TRANS_CHECK_MAX_TIME);
    store_msg m;
    sysqueue_msg_from_record(&m, r, TOPIC_TRANS_CHECK_MAX_TIME, 0);
    store_put_entry e;
    store_put_result res = {.entries = &e};
    store_put(t->b->store, &m, 1, &res);
    log_warn("transaction", "half message %s (queue offset %" PRId64 ") checked %d times without an answer: "
             "discarded to %s", key, r->queue_offset, t->b->cfg.transactionCheckMax, TOPIC_TRANS_CHECK_MAX_TIME);
}

static int64_t committed_offset(transaction_service *t, const char *topic)
{
    int64_t off = consumer_offset_query(t->b->offsets, TRANS_SYS_GROUP, topic, 0);
    int64_t min = store_min_offset_in_queue(t->b->store, topic, 0);
    return off > min ? off : min;
}

/* Drops the decisions of op records old enough that no answer can still come for them. */
static void advance_op_window(transaction_service *t, int64_t half_offset, int64_t now)
{
    const broker_config *c = &t->b->cfg;
    int64_t keep_ms = (int64_t)c->transactionCheckMax * c->transactionCheckInterval + c->transactionTimeOut;
    while (t->head < t->n) {
        op_entry *e = &t->window[t->head];
        if (e->half_offset >= half_offset || e->store_ts > now - keep_ms) break;
        if (e->d) decided_release(t, e->d);
        t->op_committed = e->op_offset + 1;
        t->head++;
    }
    consumer_offset_commit(t->b->offsets, TRANS_SYS_GROUP, TOPIC_TRANS_OP_HALF, 0, t->op_committed);
}

typedef struct check_pass {
    transaction_service *t;
    int64_t start;
} check_pass;

/* One half of a check pass; false stops the pass before it. */
static bool check_visit(void *ctx, const msg_record *r)
{
    check_pass *pass = ctx;
    transaction_service *t = pass->t;
    const broker_config *c = &t->b->cfg;
    char key[TX_KEY_MAX], buf[24];
    tx_key(r, key);
    int32_t times = 0, immunity_s;
    if (sysqueue_prop(r, "TRANSACTION_CHECK_TIMES", buf, sizeof buf) && parse_int32(buf, &times) != RMQ_OK)
        times = 0;
    if (decided_find(t, key)) return true;  /* decided: nothing to do */
    if (times >= c->transactionCheckMax) {
        discard_half(t, r, key);
        return true;
    }
    if (r->store_timestamp >= pass->start) return false;  /* appended during this pass */
    int64_t immunity = c->transactionTimeOut;
    if (sysqueue_prop(r, "CHECK_IMMUNITY_TIME_IN_SECONDS", buf, sizeof buf) && parse_int32(buf, &immunity_s) == RMQ_OK)
        immunity = (int64_t)immunity_s * 1000;
    int64_t age = pass->start - r->born_timestamp;
    /* Halves come in store order: once one is too young, the rest wait too. */
    return !((age >= 0 && age <= immunity) || check_half(t, r, times) != RMQ_OK);
}

void transaction_check(transaction_service *t)
{
    check_pass pass = {t, now_ms()};
    int64_t offset = committed_offset(t, TOPIC_TRANS_HALF);
    read_ops(t);
    if (sysqueue_scan(t->b->store, TRANS_SYS_GROUP, TOPIC_TRANS_HALF, &offset, check_visit, &pass)) return;
    consumer_offset_commit(t->b->offsets, TRANS_SYS_GROUP, TOPIC_TRANS_HALF, 0, offset);
    advance_op_window(t, offset, pass.start);
}

static void check_cb(evutil_socket_t fd, short what, void *arg) { transaction_check(arg); }

/* ---- service ---- */

transaction_service *transaction_new(broker *b)
{
    transaction_service *t = xcalloc(1, sizeof *t);
    t->b = b;
    t->n_buckets = 1024;
    t->buckets = xcalloc(t->n_buckets, sizeof *t->buckets);
    if (msg_host_parse(&t->store_host, b->addr)) memset(&t->store_host, 0, sizeof t->store_host);
    return t;
}

void transaction_start(transaction_service *t)
{
    /* TransactionalMessageBridge.selectTopicConfig: both queues exist as 1-queue topics. */
    const char *topics[] = {TOPIC_TRANS_HALF, TOPIC_TRANS_OP_HALF};
    for (int i = 0; i < 2; i++) {
        topic_config tc;
        bool created = false;
        topic_table_create_in_send_back(t->b->topics, topics[i], 1, PERM_READ | PERM_WRITE, 0, &tc, &created);
        if (created) broker_topic_changed(t->b, topics[i]);
    }
    t->op_committed = t->op_scanned = committed_offset(t, TOPIC_TRANS_OP_HALF);
    read_ops(t);
    log_info("transaction", "%zu decided transactions in the op window from offset %" PRId64, t->n_decided,
             t->op_committed);
    t->check_ev = event_new(t->b->base, -1, EV_PERSIST, check_cb, t);
    int64_t ms = t->b->cfg.transactionCheckInterval > 0 ? t->b->cfg.transactionCheckInterval : 60000;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(t->check_ev, &tv);
}

void transaction_free(transaction_service *t)
{
    if (!t) return;
    if (t->check_ev) event_free(t->check_ev);
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (decided *d = t->buckets[i], *next; d; d = next) {
            next = d->next;
            free(d->key);
            free(d);
        }
    }
    free(t->buckets);
    free(t->window);
    free(t);
}
