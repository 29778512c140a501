/*
 * The brokers' registrations (registrar_int.h).
 *
 * A broker's periodic whole table is ~19 MB of JSON at 100,000 topics (7 bodies of
 * 16,000 topics); decoding it on the loop held every lookup and every other
 * registration for seconds. A body of REGISTRAR_ASYNC_MIN_BODY or more is decoded
 * on the worker thread instead; what it decoded is merged into the route table on
 * the loop, in one callback, so a reader sees a registration whole or not at all
 * (the table has no lock: only the loop touches it).
 *
 * Order per broker (by brokerAddr): while one of its large bodies waits for the
 * worker, its later REGISTER_BROKER / UNREGISTER_BROKER requests queue behind it.
 * A small one (an incremental registration: a created topic) is not made to wait:
 * it is decoded, applied and answered at once, and applied again right after each
 * large body queued before it is merged — the route table ends as if every request
 * had been applied in arrival order (registering sets, it does not add up), and a
 * new topic is routable without waiting for the table it arrived behind. Without
 * the replay, the older table merged after it would undo an update it carried.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "namesrv/jmap.h"
#include "namesrv/registrar_int.h"

#define LOG_MOD "namesrv"

enum { SUCCESS = 0, SYSTEM_ERROR = 1 };
#define VERSION_V3_0_11 37   /* brokers from here on send RegisterBrokerBody */
#define REMOTING_EXCEPTION "org.apache.rocketmq.remoting.exception.RemotingCommandException"

typedef struct reg_header {
    const char *broker_name, *broker_addr, *cluster_name, *ha_server_addr;
    int64_t broker_id;
    bool compressed;
    int32_t body_crc32;
    bool enable_acting_master;
} reg_header;

enum entry_kind {
    E_LARGE,        /* a body for the worker; answered once merged */
    E_UNREGISTER,   /* waits for the large bodies before it */
    E_SMALL,        /* applied and answered on arrival; applied again after earlier large ones */
};

typedef struct broker_queue broker_queue;

typedef struct entry {
    enum entry_kind kind;
    rmq_conn *conn;           /* held */
    rmq_cmd *req;             /* owned; the strings of `reg` point into it */
    broker_registration reg;
    bool compressed, legacy;
    register_body body;       /* E_SMALL: decoded on arrival; E_LARGE: by the worker */
    int rc;                   /* the worker's decoding */
    char err[256];
    int64_t decode_ms;
    broker_queue *q;
    struct entry *next;       /* in q */
    struct entry *work_next;  /* in the worker's queue */
} entry;

/* One broker's requests not done yet, oldest first; exists only while not empty. */
struct broker_queue {
    struct registrar *g;
    char *addr;
    entry *head, *tail;
    bool busy;                /* head is with the worker */
};

struct registrar {
    route_table *rt;
    kv_config *kv;
    jmap queues;              /* brokerAddr -> broker_queue * */
    rmq_async *async;         /* the worker's results to the loop */
    pthread_t worker;
    pthread_mutex_t lock;     /* work_head/tail, stopping */
    pthread_cond_t cond;
    entry *work_head, *work_tail;
    bool stopping;
    void (*decode_hook)(void *);
    void *hook_arg;
};

static const hdr_field register_fields[] = {
    {"brokerName", HDR_STR, true, offsetof(reg_header, broker_name)},
    {"brokerAddr", HDR_STR, true, offsetof(reg_header, broker_addr)},
    {"clusterName", HDR_STR, true, offsetof(reg_header, cluster_name)},
    {"haServerAddr", HDR_STR, true, offsetof(reg_header, ha_server_addr)},
    {"brokerId", HDR_I64, true, offsetof(reg_header, broker_id)},
    {"compressed", HDR_BOOL, false, offsetof(reg_header, compressed)},
    {"bodyCrc32", HDR_I32, false, offsetof(reg_header, body_crc32)},
    {"enableActingMaster", HDR_BOOL, false, offsetof(reg_header, enable_acting_master)},
};

static const hdr_field unregister_fields[] = {
    {"brokerName", HDR_STR, true, offsetof(reg_header, broker_name)},
    {"brokerAddr", HDR_STR, true, offsetof(reg_header, broker_addr)},
    {"clusterName", HDR_STR, true, offsetof(reg_header, cluster_name)},
    {"brokerId", HDR_I64, true, offsetof(reg_header, broker_id)},
};

/* Sends RESP for a request this file answers later (or at once but keeps). */
static void reply(rmq_conn *c, const rmq_cmd *req, rmq_cmd *resp)
{
    if (cmd_is_oneway(req)) cmd_free(resp);
    else rmq_conn_reply(c, resp);
}

static void entry_free(entry *e)
{
    register_body_free(&e->body);
    cmd_free(e->req);
    if (e->conn) rmq_conn_release(e->conn);
    free(e);
}

/* RegisterBrokerResponseHeader and the ORDER_TOPIC_CONFIG namespace as the body. */
static rmq_cmd *register_answer(registrar *g, const rmq_cmd *req, register_result *result)
{
    size_t len = 0;
    char *order_conf = kv_config_namespace_json(g->kv, NAMESRV_ORDER_TOPIC_CONFIG, &len);
    rmq_cmd *resp = cmd_new_response(req, SUCCESS, NULL);
    if (order_conf) cmd_take_body(resp, order_conf, len);
    cmd_ext_declare(resp); /* {} even when both fields are null */
    if (result->ha_server_addr) cmd_ext_set(resp, "haServerAddr", result->ha_server_addr);
    if (result->master_addr) cmd_ext_set(resp, "masterAddr", result->master_addr);
    free(result->ha_server_addr);
    free(result->master_addr);
    return resp;
}

static rmq_cmd *decode_error(const rmq_cmd *req, const rmq_conn *c, const char *err)
{
    log_warn(LOG_MOD, "bad REGISTER_BROKER body from %s: %s", rmq_conn_remote(c), err);
    rmq_cmd *resp = cmd_new_response(req, SYSTEM_ERROR, NULL);
    cmd_set_remark(resp, REMOTING_EXCEPTION ": Failed to decode RegisterBrokerBody, %s", err);
    return resp;
}

/* E's decoded body into the route table. */
static void apply(registrar *g, entry *e, register_result *result)
{
    broker_registration reg = e->reg;
    reg.data_version = e->body.data_version;
    reg.topics = e->body.topics;
    reg.n_topics = e->body.n_topics;
    reg.filter_servers = e->body.filter_servers;
    reg.n_filter_servers = e->body.n_filter_servers;
    route_register_broker(g->rt, &reg, now_ms(), result);
}

static void apply_quietly(registrar *g, entry *e)
{
    register_result result;
    apply(g, e, &result);
    free(result.ha_server_addr);
    free(result.master_addr);
}

/* ---- the worker ---- */

static void decoded(void *arg);

static void *worker_main(void *arg)
{
    registrar *g = arg;
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (!g->work_head && !g->stopping) pthread_cond_wait(&g->cond, &g->lock);
        if (g->stopping) break;
        entry *e = g->work_head;
        g->work_head = e->work_next;
        if (!g->work_head) g->work_tail = NULL;
        void (*hook)(void *) = g->decode_hook;
        void *hook_arg = g->hook_arg;
        pthread_mutex_unlock(&g->lock);
        if (hook) hook(hook_arg);
        int64_t t0 = mono_ms();
        /* Only this thread touches e (and reads e->req's body) until the loop gets it back. */
        e->rc = register_body_decode(e->req->body, e->req->body_len, e->compressed, e->legacy, &e->body, e->err,
                                     sizeof e->err);
        e->decode_ms = mono_ms() - t0;
        rmq_async_post(g->async, decoded, e);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* ---- one broker's queue, on the loop ---- */

/*
 * The head of Q is done (merged, answered or dropped): the small registrations after
 * it are applied again so the table reads as if they had come after it, as they did.
 * Those before the next large body are then in order and leave the queue.
 */
static void finish_head(registrar *g, broker_queue *q)
{
    entry *done = q->head;
    for (entry *e = done->next; e; e = e->next)
        if (e->kind == E_SMALL && !rmq_conn_closed(e->conn)) apply_quietly(g, e);
    q->head = done->next;
    entry_free(done);
    while (q->head && q->head->kind == E_SMALL) {
        entry *e = q->head;
        q->head = e->next;
        entry_free(e);
    }
    if (!q->head) q->tail = NULL;
}

static void to_worker(registrar *g, entry *e)
{
    e->q->busy = true;
    pthread_mutex_lock(&g->lock);
    e->work_next = NULL;
    if (g->work_tail) g->work_tail->work_next = e;
    else g->work_head = e;
    g->work_tail = e;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* Runs Q's head requests until one goes to the worker; frees Q when it is empty. */
static void run_queue(registrar *g, broker_queue *q)
{
    while (q->head && !q->busy) {
        entry *e = q->head;
        if (e->kind == E_UNREGISTER) {
            route_unregister_broker(g->rt, e->reg.cluster_name, e->reg.broker_addr, e->reg.broker_name,
                                    e->reg.broker_id);
            reply(e->conn, e->req, cmd_new_response(e->req, SUCCESS, NULL));
        } else if (rmq_conn_closed(e->conn)) {
            /* Its broker was forgotten when the channel closed; registering it now
             * would hold a dead channel until the expiry scan. */
        } else {
            register_result result;
            /* The same table again (every 30 s): no decoding, no walk. */
            if (!route_register_seen_body(g->rt, &e->reg, now_ms(), &result)) {
                bool stopping;
                pthread_mutex_lock(&g->lock);
                stopping = g->stopping;
                pthread_mutex_unlock(&g->lock);
                if (stopping) return;   /* registrar_free drops it */
                to_worker(g, e);
                return;
            }
            reply(e->conn, e->req, register_answer(g, e->req, &result));
        }
        finish_head(g, q);
    }
    if (!q->head) {
        jmap_remove(&g->queues, q->addr, NULL);
        free(q->addr);
        free(q);
    }
}

/* Loop: a body the worker decoded (called through rmq_async). */
static void decoded(void *arg)
{
    entry *e = arg;
    broker_queue *q = e->q;
    registrar *g = q->g;
    q->busy = false;
    if (e->rc != RMQ_OK) {
        reply(e->conn, e->req, decode_error(e->req, e->conn, e->err));
    } else if (!rmq_conn_closed(e->conn)) {
        int64_t t0 = mono_ms();
        register_result result;
        apply(g, e, &result);
        log_info(LOG_MOD, "registration of %zu topics (%zu bytes) from %s: decoded in %lld ms, merged in %lld ms",
                 e->body.n_topics, e->req->body_len, e->reg.broker_addr, (long long)e->decode_ms,
                 (long long)(mono_ms() - t0));
        reply(e->conn, e->req, register_answer(g, e->req, &result));
    }
    finish_head(g, q);
    run_queue(g, q);
}

static broker_queue *queue_append(registrar *g, entry *e)
{
    broker_queue *q = jmap_get(&g->queues, e->reg.broker_addr);
    if (!q) {
        q = xcalloc(1, sizeof *q);
        q->g = g;
        q->addr = xstrdup(e->reg.broker_addr);
        jmap_put(&g->queues, q->addr, q, NULL);
    }
    e->q = q;
    e->next = NULL;
    if (q->tail) q->tail->next = e;
    else q->head = e;
    q->tail = e;
    return q;
}

/* ---- the processors ---- */

int registrar_register_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    registrar *g = arg;
    reg_header h = {0};
    char err[256];
    if (cmd_decode_header(req, register_fields, sizeof register_fields / sizeof register_fields[0], &h, err,
                          sizeof err) != RMQ_OK) {
        *resp = cmd_new_response(req, SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    size_t body_len = req->body ? req->body_len : 0;
    int32_t crc = rmq_crc32(req->body, body_len);
    if (h.body_crc32 != 0 && crc != h.body_crc32) {
        log_warn(LOG_MOD, "receive registerBroker request,crc32 not match,from %s", rmq_conn_remote(c));
        *resp = cmd_new_response(req, SYSTEM_ERROR, "crc32 not match");
        return RMQ_OK;
    }
    /* Brokers older than V3_0_11 send a bare TopicConfigSerializeWrapper. */
    bool legacy = req->version < VERSION_V3_0_11;
    entry *e = xcalloc(1, sizeof *e);
    e->reg = (broker_registration){
        .cluster_name = h.cluster_name, .broker_addr = h.broker_addr, .broker_name = h.broker_name,
        .ha_server_addr = h.ha_server_addr, .broker_id = h.broker_id, .has_filter_servers = !legacy, .conn = c,
        .body_crc32 = (uint32_t)crc, .body_len = legacy ? 0 : body_len,
        .enable_acting_master = cmd_ext_get(req, "enableActingMaster") ? h.enable_acting_master : -1,
        .zone_name = cmd_ext_get(req, "__ZONE_NAME"),
    };
    e->compressed = !legacy && h.compressed;
    e->legacy = legacy;
    broker_queue *q = jmap_get(&g->queues, h.broker_addr);
    register_result result;

    if (body_len >= REGISTRAR_ASYNC_MIN_BODY) {
        e->kind = E_LARGE;
        e->req = req;
        e->conn = c;
        rmq_conn_hold(c);
        q = queue_append(g, e);
        if (q->head == e) run_queue(g, q);
        return RMQ_AGAIN;
    }
    if (!q && e->reg.body_len && route_register_seen_body(g->rt, &e->reg, now_ms(), &result)) {
        *resp = register_answer(g, req, &result);   /* nothing queued before it: as it came */
        free(e);
        return RMQ_OK;
    }
    if (register_body_decode(req->body, req->body_len, e->compressed, legacy, &e->body, err, sizeof err) !=
        RMQ_OK) {
        *resp = decode_error(req, c, err);
        free(e);
        return RMQ_OK;
    }
    apply(g, e, &result);
    *resp = register_answer(g, req, &result);
    if (!q) {
        register_body_free(&e->body);
        free(e);
        return RMQ_OK;
    }
    /* Behind a large body of its broker: kept to be applied again after it. */
    e->kind = E_SMALL;
    e->req = req;
    e->conn = c;
    rmq_conn_hold(c);
    queue_append(g, e);
    reply(c, req, *resp);
    *resp = NULL;
    return RMQ_AGAIN;
}

int registrar_unregister_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    registrar *g = arg;
    reg_header h = {0};
    char err[256];
    if (cmd_decode_header(req, unregister_fields, sizeof unregister_fields / sizeof unregister_fields[0], &h,
                          err, sizeof err) != RMQ_OK) {
        *resp = cmd_new_response(req, SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    if (!jmap_has(&g->queues, h.broker_addr)) {
        route_unregister_broker(g->rt, h.cluster_name, h.broker_addr, h.broker_name, h.broker_id);
        *resp = cmd_new_response(req, SUCCESS, NULL);
        return RMQ_OK;
    }
    /* After the registrations it came behind, or they would register the broker again. */
    entry *e = xcalloc(1, sizeof *e);
    e->kind = E_UNREGISTER;
    e->reg = (broker_registration){.cluster_name = h.cluster_name, .broker_addr = h.broker_addr,
                                   .broker_name = h.broker_name, .broker_id = h.broker_id};
    e->req = req;
    e->conn = c;
    rmq_conn_hold(c);
    queue_append(g, e);
    return RMQ_AGAIN;
}

/* ---- life ---- */

registrar *registrar_new(struct event_base *base, route_table *rt, kv_config *kv)
{
    registrar *g = xcalloc(1, sizeof *g);
    g->rt = rt;
    g->kv = kv;
    jmap_init(&g->queues, 0);
    g->async = rmq_async_new(base);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    if (pthread_create(&g->worker, NULL, worker_main, g) != 0) {
        log_error(LOG_MOD, "cannot start the registration worker thread");
        abort();
    }
    return g;
}

void registrar_on_decode(registrar *g, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&g->lock);
    g->decode_hook = fn;
    g->hook_arg = arg;
    pthread_mutex_unlock(&g->lock);
}

void registrar_free(registrar *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->worker, NULL);   /* after the body it is decoding, if any */
    rmq_async_free(g->async);        /* merges what the worker finished */
    for (jmap_entry *je = jmap_first(&g->queues); je; je = jmap_next(&g->queues, je)) {
        broker_queue *q = je->val;
        for (entry *e = q->head, *next; e; e = next) next = e->next, entry_free(e);
        free(q->addr);
        free(q);
    }
    jmap_clear(&g->queues, NULL);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
