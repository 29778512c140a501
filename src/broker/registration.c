/* Registration with the name servers (registration.h). */
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "registration.h"
#include "slave_sync.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "ha/ha.h"

enum { REGISTER_BROKER = 103, UNREGISTER_BROKER = 104, QUERY_DATA_VERSION = 322 };

/* Topics per registration body without enableSplitRegistration: a topic is at most
 * ~680 bytes of JSON (a 271-character %RETRY% name twice, ~130 bytes of fields), so a
 * body stays under 11 MiB, below the 16 MiB frame limit of Apache's and our name servers. */
#define REGISTER_TOPICS_MAX 16000

/*
 * What we know of one name server. A name server that missed a registration gets
 * the whole table next time. An incremental registration goes only to one that
 * has answered a whole table: Apache's name server runs requests on a thread pool,
 * so an increment sent right behind the first table can be applied before it, and
 * the table (same data version) is then taken for old news and dropped.
 */
typedef struct namesrv_state {
    char *addr;
    bool needs_full;
    bool table_answered;      /* a whole table was acknowledged */
    int tables_in_flight;     /* whole-table requests (batches) not answered yet, +1 while encoded */
    char **held;              /* topics changed while a table was in flight: an increment after it */
    size_t n_held, cap_held;
    int encoding;             /* tables for it not snapshot yet (what they carry unknown) */
    struct name_set **sets;   /* the topics of each table in flight to it */
    size_t n_sets;
} namesrv_state;

/* The sorted topic names of one table's snapshot, shared by the name servers it goes to. */
typedef struct name_set {
    int refs;
    char **names;
    size_t n;
} name_set;

/* Callbacks waiting for the name servers' answers to one flush's requests. */
typedef struct waiter {
    void (*fn)(void *arg);
    void *arg;
    struct waiter *next;
} waiter;

typedef struct round {
    int outstanding;          /* requests not answered yet, +1 while the flush sends */
    waiter *waiters;
} round;

/*
 * One whole-table registration: the table is snapshot and encoded by the
 * encoder thread (~19 MB of JSON at 100k topics, hundreds of ms the loop would
 * otherwise not serve requests), then sent from the loop.
 */
typedef struct table_job {
    char **addrs;
    size_t n_addrs;
    struct round *rd;         /* the flush waiting for it, if any */
    int32_t broker_perm;
    bool compressed;
    bool split;               /* enableSplitRegistration */
    size_t split_size;
    struct body *bodies;      /* set by the encoder */
    size_t n_bodies;
    name_set *names;          /* set by the encoder once it has the snapshot */
    struct table_job *snap_next;   /* in registration.snapshotted */
    struct table_job *next;
} table_job;

typedef struct job_queue {
    table_job *head, *tail;
} job_queue;

struct registration {
    broker *b;
    pthread_t encoder;
    pthread_mutex_t lock;     /* the queues and stopping */
    pthread_cond_t cond;
    job_queue to_encode, encoded;
    table_job *snapshotted;   /* jobs whose names the loop has not attached yet */
    bool stopping;
    struct event *encoded_ev; /* the loop sends what the encoder finished */
    struct event *flush_ev;   /* one pass of the loop's pending changes */
    waiter *waiting;          /* registration_then: for the next flush */
    round *sending;           /* the flush's round while it sends */
    char **pending;           /* topics changed since the last flush */
    size_t n_pending, cap_pending;
    bool full_pending;
    namesrv_state *ns;
    size_t n_ns;
};

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void name_set_release(name_set *ns)
{
    if (!ns || --ns->refs > 0) return;
    free_list(ns->names, ns->n);
    free(ns);
}

static bool name_set_has(const name_set *ns, const char *name)
{
    return bsearch(&name, ns->names, ns->n, sizeof *ns->names, cmp_name) != NULL;
}

typedef struct body {
    uint8_t *data;
    size_t len;
} body;

/* ---- bodies ---- */

char *registration_json_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "filterServerList");
    fjson_begin_array(&w);
    fjson_end_array(&w);
    fjson_key(&w, "topicConfigSerializeWrapper");
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    data_version_write(dv, &w);
    fjson_key(&w, "topicConfigTable");
    fjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        fjson_key(&w, topics[i].topic_name);
        topic_config_write(&topics[i], &w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 256;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void bytes_int(bytes *b, uint32_t v)
{
    uint8_t be[4];
    put_be32(be, v);
    bytes_add(b, be, 4);
}

static void bytes_chunk(bytes *b, const char *s, size_t len)
{
    bytes_int(b, (uint32_t)len);
    bytes_add(b, s, len);
}

uint8_t *registration_compressed_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len)
{
    bytes raw = {0};
    fjson_writer w;
    fjson_writer_init(&w, 0);
    data_version_write(dv, &w);
    size_t vlen;
    char *vjson = fjson_writer_finish(&w, &vlen);
    bytes_chunk(&raw, vjson, vlen);
    free(vjson);
    bytes_int(&raw, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        /* TopicConfig.encode(): exactly five fields, which 4.9.x's decode demands. */
        char line[META_NAME_MAX + 64];
        int ll = snprintf(line, sizeof line, "%s %d %d %d %s", topics[i].topic_name, topics[i].read_queue_nums,
                          topics[i].write_queue_nums, topics[i].perm,
                          topics[i].topic_filter_type == TOPIC_FILTER_MULTI_TAG ? "MULTI_TAG" : "SINGLE_TAG");
        bytes_chunk(&raw, line, (size_t)ll);
    }
    bytes_chunk(&raw, "[]", 2);
    /* 5.x reads a static-topic mapping count after the filter servers; 4.9.x stops before it. */
    bytes_int(&raw, 0);

    uLongf zlen = compressBound((uLong)raw.n);
    uint8_t *z = xmalloc(zlen);
    /* Any level is the same format; Apache's BEST_COMPRESSION costs 3x the CPU for ~10% less. */
    if (compress2(z, &zlen, raw.p, (uLong)raw.n, Z_DEFAULT_COMPRESSION) != Z_OK) abort();   /* only on OOM */
    free(raw.p);
    *len = zlen;
    return z;
}

/* BrokerController: with a broker that is not read-write, topics are registered with its permission. */
static void apply_broker_permission(const broker *b, topic_config *topics, size_t n)
{
    int32_t bp = b->cfg.brokerPermission;
    if ((bp & PERM_READ) && (bp & PERM_WRITE)) return;
    for (size_t i = 0; i < n; i++) topics[i].perm &= bp;
}

static body encode_body(bool compressed, const topic_config *topics, size_t n, const data_version *dv)
{
    body out;
    if (compressed) out.data = registration_compressed_body(topics, n, dv, &out.len);
    else out.data = (uint8_t *)registration_json_body(topics, n, dv, &out.len);
    return out;
}

/* ---- requests ---- */

static rmq_cmd *broker_request(const broker *b, int32_t code)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set(req, "brokerAddr", b->addr);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set_int(req, "brokerId", b->cfg.brokerId);
    return req;
}

static rmq_cmd *register_request(const broker *b, const body *bd)
{
    rmq_cmd *req = broker_request(b, REGISTER_BROKER);
    char ha[96];
    snprintf(ha, sizeof ha, "%s:%d", b->cfg.brokerIP2 ? b->cfg.brokerIP2 : b->cfg.brokerIP1, b->cfg.haListenPort);
    cmd_ext_set(req, "haServerAddr", ha);
    cmd_ext_set(req, "compressed", b->cfg.compressedRegister ? "true" : "false");
    cmd_ext_set_int(req, "bodyCrc32", rmq_crc32(bd->data, bd->len));
    cmd_set_body(req, bd->data, bd->len);
    return req;
}

static namesrv_state *state_of(registration *r, const char *addr)
{
    for (size_t i = 0; i < r->n_ns; i++)
        if (strcmp(r->ns[i].addr, addr) == 0) return &r->ns[i];
    r->ns = xrealloc(r->ns, (r->n_ns + 1) * sizeof *r->ns);
    r->ns[r->n_ns] = (namesrv_state){.addr = xstrdup(addr)};
    return &r->ns[r->n_ns++];
}

typedef struct call {
    registration *r;
    round *rd;                /* the flush it belongs to, if anyone waits for it */
    bool table;               /* a whole-table registration (or one batch of it) */
    char addr[];
} call;

static call *new_call(registration *r, const char *addr)
{
    call *c = xmalloc(sizeof *c + strlen(addr) + 1);
    c->r = r;
    c->table = false;
    c->rd = r->sending;
    if (c->rd) c->rd->outstanding++;
    strcpy(c->addr, addr);
    return c;
}

static void run_waiters(waiter *w)
{
    while (w) {
        waiter *next = w->next;
        w->fn(w->arg);
        free(w);
        w = next;
    }
}

static void round_done(round *rd)
{
    if (--rd->outstanding) return;
    run_waiters(rd->waiters);
    free(rd);
}

/*
 * TopicConfigManager.updateOrderTopicConfig: a REGISTER_BROKER answer's body is the
 * name server's ORDER_TOPIC_CONFIG namespace as a KVTable ({"table":{topic:conf}}).
 * When there is one, it decides which of our topics are ordered: those it names
 * become order=true, every other one order=false. No body: nothing changes.
 */
static void update_order_topics(broker *b, const rmq_cmd *resp)
{
    if (!resp->body || resp->body_len == 0) return;
    cJSON *root = fjson_parse((const char *)resp->body, resp->body_len, NULL);
    const cJSON *table = root ? cJSON_GetObjectItemCaseSensitive(root, "table") : NULL;
    if (!cJSON_IsObject(table)) {
        cJSON_Delete(root);
        return;
    }
    size_t n;
    topic_config *all = topic_table_snapshot(b->topics, &n);
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        bool order = cJSON_GetObjectItemCaseSensitive(table, all[i].topic_name) != NULL;
        if (all[i].order == order) continue;
        all[i].order = order;
        topic_table_put(b->topics, &all[i]);
        log_info("broker", "update order topic config, topic=%s, order=%s", all[i].topic_name,
                 order ? "true" : "false");
        changed = true;
    }
    free(all);
    cJSON_Delete(root);
    if (changed) broker_topics_changed(b);
}

static void send_table(registration *r, char *const *addrs, size_t n_addrs);

static void send_increment(registration *r, char *const *addrs, size_t n_addrs, char *const *names, size_t n_names);

/*
 * The last batch of a whole table answered: the topics changed meanwhile follow
 * as an increment (as another table where this one failed). They were held back
 * because Apache's name server may apply requests out of order (a thread pool):
 * a table with an older snapshot applied after an increment would undo it.
 */
static void table_done(registration *r, const char *addr, bool ok)
{
    namesrv_state *st = state_of(r, addr);
    if (!ok) st->needs_full = true;
    if (--st->tables_in_flight > 0) return;
    for (size_t i = 0; i < st->n_sets; i++) name_set_release(st->sets[i]);
    free(st->sets);
    st->sets = NULL;
    st->n_sets = 0;
    if (!st->needs_full) st->table_answered = true;
    if (!st->n_held) return;
    char **held = st->held;
    size_t n_held = st->n_held;
    st->held = NULL;
    st->n_held = st->cap_held = 0;
    if (!r->b->shutting_down) {
        char *addrs[] = {(char *)addr};
        if (st->needs_full) send_table(r, addrs, 1);
        else send_increment(r, addrs, 1, held, n_held);
    }
    free_list(held, n_held);
}

static void hold(namesrv_state *st, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (st->n_held == st->cap_held) {
            st->cap_held = st->cap_held ? st->cap_held * 2 : 16;
            st->held = xrealloc(st->held, st->cap_held * sizeof *st->held);
        }
        st->held[st->n_held++] = xstrdup(names[i]);
    }
}

static void register_done(rmq_cmd *resp, const char *err, void *arg)
{
    call *c = arg;
    broker *b = c->r->b;
    if (c->table) table_done(c->r, c->addr, resp && resp->code == 0);
    if (!resp || resp->code != 0) {
        if (!resp) log_warn("broker", "register to name server %s failed: %s", c->addr, err);
        else log_warn("broker", "register to name server %s refused: %d %s", c->addr, resp->code,
                      resp->remark ? resp->remark : "");
        state_of(c->r, c->addr)->needs_full = true;
    } else {
        /* updateMasterHAServerAddrPeriodically: a slave without haMasterAddress follows the name
         * server; in controller mode the controller names the master instead (replicas.c). */
        bool follow_ns = !b->replicas;
        if (follow_ns && b->ha && broker_is_slave(b) && !(b->cfg.haMasterAddress && *b->cfg.haMasterAddress))
            ha_set_master_address(b->ha, cmd_ext_get(resp, "haServerAddr"));
        if (follow_ns && b->slave_sync) slave_sync_set_master(b->slave_sync, cmd_ext_get(resp, "masterAddr"));
        update_order_topics(b, resp);
    }
    cmd_free(resp);
    if (c->rd) round_done(c->rd);
    free(c);
}

static void send_body(registration *r, const char *addr, const body *bd, bool table)
{
    call *c = new_call(r, addr);
    c->table = table;
    if (table) state_of(r, addr)->tables_in_flight++;
    rmq_client_request(r->b->client, addr, register_request(r->b, bd), r->b->cfg.registerBrokerTimeoutMills,
                       register_done, c);
}

/* The namesrvAddr list ("a:9876;b:9876"), malloc'd strings; it may change at run time. */
static char **namesrv_list(const broker *b, size_t *n)
{
    *n = 0;
    if (!b->cfg.namesrvAddr || !*b->cfg.namesrvAddr) return NULL;
    char *list = xstrdup(b->cfg.namesrvAddr), *save = NULL;
    char **out = NULL;
    for (char *a = strtok_r(list, ";, ", &save); a; a = strtok_r(NULL, ";, ", &save)) {
        out = xrealloc(out, (*n + 1) * sizeof *out);
        out[(*n)++] = xstrdup(a);
    }
    free(list);
    return out;
}

/* ---- the whole table ---- */

static void queue_push(job_queue *q, table_job *j)
{
    j->next = NULL;
    if (q->tail) q->tail->next = j;
    else q->head = j;
    q->tail = j;
}

static table_job *queue_take_all(job_queue *q)
{
    table_job *all = q->head;
    q->head = q->tail = NULL;
    return all;
}

/*
 * Encoder thread: the table's snapshot, in one body or in batches. Batches carry
 * distinct data versions, the last one the table's: a name server applies a
 * batch's topics only when the version differs from what it holds (4.9.x
 * entirely, 5.x for topics it already has), so equal versions would drop the
 * updates carried by every batch after the first. A stand-in version
 * (earlier timestamp, current counter) never equals a real one. The snapshot and
 * its version are taken together, under the table's lock.
 */
static void encode_table(registration *r, table_job *j)
{
    size_t n;
    data_version dv;
    topic_config *all = topic_table_snapshot_at(r->b->topics, &n, &dv);
    name_set *ns = xcalloc(1, sizeof *ns);
    ns->refs = 1;
    ns->n = n;
    ns->names = xmalloc((n ? n : 1) * sizeof *ns->names);
    for (size_t i = 0; i < n; i++) ns->names[i] = xstrdup(all[i].topic_name);
    qsort(ns->names, n, sizeof *ns->names, cmp_name);
    j->names = ns;
    /* The loop learns what this table carries before it is encoded: changes to other
     * topics need not wait for it. */
    pthread_mutex_lock(&r->lock);
    j->snap_next = r->snapshotted;
    r->snapshotted = j;
    event_active(r->encoded_ev, EV_READ, 0);
    pthread_mutex_unlock(&r->lock);
    if (!((j->broker_perm & PERM_READ) && (j->broker_perm & PERM_WRITE)))
        for (size_t i = 0; i < n; i++) all[i].perm &= j->broker_perm;
    size_t batch = n;
    if (j->split && j->split_size > 0) {
        batch = j->split_size;
    } else if (n > REGISTER_TOPICS_MAX) {
        /* Past a name server's frame limit the request would be refused and the
         * connection closed, which unregisters the broker: split instead. */
        batch = REGISTER_TOPICS_MAX;
        log_info("broker", "%zu topics: registered in batches of %d (enableSplitRegistration)", n,
                 REGISTER_TOPICS_MAX);
    }
    j->n_bodies = n && batch ? (n + batch - 1) / batch : 1;
    j->bodies = xmalloc(j->n_bodies * sizeof *j->bodies);
    for (size_t k = 0; k < j->n_bodies; k++) {
        data_version v = dv;
        v.timestamp -= (int64_t)(j->n_bodies - 1 - k);
        size_t from = k * batch, count = n - from < batch ? n - from : batch;
        j->bodies[k] = encode_body(j->compressed, all + from, count, &v);
    }
    free(all);
}

static void *encoder_main(void *arg)
{
    registration *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->to_encode.head && !r->stopping) pthread_cond_wait(&r->cond, &r->lock);
        if (r->stopping) break;
        table_job *j = r->to_encode.head;
        r->to_encode.head = j->next;
        if (!r->to_encode.head) r->to_encode.tail = NULL;
        pthread_mutex_unlock(&r->lock);
        encode_table(r, j);
        pthread_mutex_lock(&r->lock);
        queue_push(&r->encoded, j);
        event_active(r->encoded_ev, EV_READ, 0);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void job_free(table_job *j)
{
    for (size_t k = 0; k < j->n_bodies; k++) free(j->bodies[k].data);
    free(j->bodies);
    free_list(j->addrs, j->n_addrs);
    name_set_release(j->names);
    if (j->rd) round_done(j->rd);   /* whoever waits learns it is over (sent or not) */
    free(j);
}

/* Loop: the encoder's tables go out, every batch to every name server of the job. */
static void encoded_cb(evutil_socket_t fd, short what, void *arg)
{
    registration *r = arg;
    pthread_mutex_lock(&r->lock);
    table_job *snap = r->snapshotted;
    r->snapshotted = NULL;
    table_job *j = queue_take_all(&r->encoded);
    pthread_mutex_unlock(&r->lock);
    /* First the snapshots' names (a job in `encoded` had its notice here or before). */
    for (; snap; snap = snap->snap_next)
        for (size_t i = 0; i < snap->n_addrs; i++) {
            namesrv_state *st = state_of(r, snap->addrs[i]);
            st->encoding--;
            st->sets = xrealloc(st->sets, (st->n_sets + 1) * sizeof *st->sets);
            st->sets[st->n_sets++] = snap->names;
            snap->names->refs++;
        }
    while (j) {
        table_job *next = j->next;
        r->sending = j->rd;
        for (size_t i = 0; i < j->n_addrs; i++) {
            if (!r->b->shutting_down)
                for (size_t k = 0; k < j->n_bodies; k++) send_body(r, j->addrs[i], &j->bodies[k], true);
            table_done(r, j->addrs[i], true);   /* the encoding's own count */
        }
        r->sending = NULL;
        job_free(j);
        j = next;
    }
}

/* The whole table to ADDRS, encoded off the loop; until it is answered, changes to
 * the topics it carries wait (held). */
static void send_table(registration *r, char *const *addrs, size_t n_addrs)
{
    broker *b = r->b;
    if (!n_addrs) return;
    table_job *j = xcalloc(1, sizeof *j);
    j->addrs = xmalloc(n_addrs * sizeof *j->addrs);
    for (size_t i = 0; i < n_addrs; i++) {
        j->addrs[i] = xstrdup(addrs[i]);
        namesrv_state *st = state_of(r, addrs[i]);
        st->needs_full = false;
        st->tables_in_flight++;
        st->encoding++;
    }
    j->n_addrs = n_addrs;
    j->broker_perm = b->cfg.brokerPermission;
    j->compressed = b->cfg.compressedRegister;
    j->split = b->cfg.enableSplitRegistration;
    j->split_size = b->cfg.splitRegistrationSize > 0 ? (size_t)b->cfg.splitRegistrationSize : 0;
    j->rd = r->sending;
    if (j->rd) j->rd->outstanding++;
    pthread_mutex_lock(&r->lock);
    queue_push(&r->to_encode, j);
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* BrokerOuterAPI.needRegister, one name server: an error counts as changed. */
static void query_done(rmq_cmd *resp, const char *err, void *arg)
{
    call *c = arg;
    const char *changed = resp && resp->code == 0 ? cmd_ext_get(resp, "changed") : NULL;
    bool needed = !changed || strcmp(changed, "false") != 0 || state_of(c->r, c->addr)->needs_full;
    if (!resp) log_warn("broker", "query data version from %s failed: %s", c->addr, err);
    cmd_free(resp);
    if (needed && !c->r->b->shutting_down) {
        char *addrs[] = {c->addr};
        send_table(c->r, addrs, 1);
    }
    free(c);
}

static void query_data_version(registration *r, const char *addr)
{
    broker *b = r->b;
    data_version dv = topic_table_data_version(b->topics);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    data_version_write(&dv, &w);
    size_t len;
    char *json = fjson_writer_finish(&w, &len);
    rmq_cmd *req = broker_request(b, QUERY_DATA_VERSION);
    cmd_take_body(req, json, len);
    rmq_client_request(b->client, addr, req, b->cfg.registerBrokerTimeoutMills, query_done, new_call(r, addr));
}

void registration_register_all(registration *r, bool force)
{
    size_t n;
    char **addrs = namesrv_list(r->b, &n);
    if (force) send_table(r, addrs, n);
    else
        for (size_t i = 0; i < n; i++) query_data_version(r, addrs[i]);
    free_list(addrs, n);
}

/* ---- incremental registration ---- */


static void clear_pending(registration *r)
{
    free_list(r->pending, r->n_pending);
    r->pending = NULL;
    r->n_pending = r->cap_pending = 0;
}

/* registerIncrementBrokerData of NAMES (their current configs and the table's version) to ADDRS. */
static void send_increment(registration *r, char *const *addrs, size_t n_addrs, char *const *names, size_t n_names)
{
    broker *b = r->b;
    topic_config *topics = xmalloc((n_names ? n_names : 1) * sizeof *topics);
    size_t n = 0;
    for (size_t i = 0; i < n_names; i++)
        if (topic_table_get(b->topics, names[i], &topics[n])) n++;   /* deleted since: nothing to say */
    if (n && n_addrs) {
        data_version dv = topic_table_data_version(b->topics);
        apply_broker_permission(b, topics, n);
        body bd = encode_body(b->cfg.compressedRegister, topics, n, &dv);
        for (size_t i = 0; i < n_addrs; i++) send_body(r, addrs[i], &bd, false);
        free(bd.data);
    }
    free(topics);
}

/* registerIncrementBrokerData for everything changed in this loop pass. */
static void flush(registration *r)
{
    broker *b = r->b;
    if (r->full_pending) {
        r->full_pending = false;
        clear_pending(r);
        registration_register_all(r, true);
        return;
    }
    if (!r->n_pending) return;
    qsort(r->pending, r->n_pending, sizeof *r->pending, cmp_name);
    size_t n = 0;
    for (size_t i = 0; i < r->n_pending; i++) {   /* unique names, in place */
        if (n && strcmp(r->pending[i], r->pending[n - 1]) == 0) free(r->pending[i]);
        else r->pending[n++] = r->pending[i];
    }
    r->n_pending = n;
    size_t n_addrs, n_now = 0;
    char **addrs = namesrv_list(b, &n_addrs);
    char **now = xmalloc((n_addrs ? n_addrs : 1) * sizeof *now);
    char **fresh = xmalloc((n ? n : 1) * sizeof *fresh);
    for (size_t i = 0; i < n_addrs; i++) {
        namesrv_state *st = state_of(r, addrs[i]);
        if (!st->tables_in_flight) {
            if (st->table_answered) now[n_now++] = addrs[i];
            else send_table(r, &addrs[i], 1);
        } else if (!st->table_answered || st->encoding) {
            hold(st, r->pending, n);
        } else {
            /* A topic that no table in flight carries cannot be undone by one: it goes
             * now, the others after the tables' answers. */
            size_t n_fresh = 0;
            for (size_t k = 0; k < n; k++) {
                bool carried = false;
                for (size_t t = 0; t < st->n_sets && !carried; t++) carried = name_set_has(st->sets[t], r->pending[k]);
                if (carried) hold(st, &r->pending[k], 1);
                else fresh[n_fresh++] = r->pending[k];
            }
            send_increment(r, &addrs[i], 1, fresh, n_fresh);
        }
    }
    free(fresh);
    send_increment(r, now, n_now, r->pending, n);
    free(now);
    free_list(addrs, n_addrs);
    clear_pending(r);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    registration *r = arg;
    round *rd = NULL;
    if (r->waiting) {
        rd = xcalloc(1, sizeof *rd);
        rd->outstanding = 1;
        rd->waiters = r->waiting;
        r->waiting = NULL;
    }
    r->sending = rd;
    flush(r);
    r->sending = NULL;
    if (rd) round_done(rd);
}

void registration_then(registration *r, void (*fn)(void *arg), void *arg)
{
    waiter *w = xmalloc(sizeof *w);
    *w = (waiter){.fn = fn, .arg = arg, .next = r->waiting};
    r->waiting = w;
    event_active(r->flush_ev, EV_READ, 0);
}

void registration_topic_changed(registration *r, const char *topic)
{
    if (r->n_pending == r->cap_pending) {
        r->cap_pending = r->cap_pending ? r->cap_pending * 2 : 16;
        r->pending = xrealloc(r->pending, r->cap_pending * sizeof *r->pending);
    }
    r->pending[r->n_pending++] = xstrdup(topic);
    event_active(r->flush_ev, EV_READ, 0);
}

void registration_request_full(registration *r)
{
    r->full_pending = true;
    event_active(r->flush_ev, EV_READ, 0);
}

/* ---- life ---- */

registration *registration_new(broker *b)
{
    registration *r = xcalloc(1, sizeof *r);
    r->b = b;
    r->flush_ev = event_new(b->base, -1, 0, flush_cb, r);
    r->encoded_ev = event_new(b->base, -1, 0, encoded_cb, r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->encoder, NULL, encoder_main, r) != 0) {
        log_error("broker", "cannot start the registration encoder thread");
        abort();
    }
    return r;
}

void registration_free(registration *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->encoder, NULL);   /* after the table it is encoding, if any */
    r->snapshotted = NULL;   /* notices of jobs that are in `encoded` */
    for (table_job *j = queue_take_all(&r->to_encode), *next; j; j = next) next = j->next, job_free(j);
    for (table_job *j = queue_take_all(&r->encoded), *next; j; j = next) next = j->next, job_free(j);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    event_free(r->encoded_ev);
    event_free(r->flush_ev);
    run_waiters(r->waiting);   /* never flushed: the broker is stopping */
    clear_pending(r);
    for (size_t i = 0; i < r->n_ns; i++) {
        free(r->ns[i].addr);
        free_list(r->ns[i].held, r->ns[i].n_held);
        for (size_t k = 0; k < r->ns[i].n_sets; k++) name_set_release(r->ns[i].sets[k]);
        free(r->ns[i].sets);
    }
    free(r->ns);
    free(r);
}

void registration_unregister_all(registration *r)
{
    size_t n;
    char **addrs = namesrv_list(r->b, &n);
    for (size_t i = 0; i < n; i++) {
        rmq_cmd *req = broker_request(r->b, UNREGISTER_BROKER);
        char err[256];
        /* Over TLS when registration used it (BrokerOuterAPI.unregisterBrokerAll). */
        rmq_cmd *resp = rmq_invoke_sync_tls(addrs[i], req, 3000,
                                            rmq_tls_client_enabled(&r->b->cfg.tls) ? &r->b->cfg.tls : NULL, err,
                                            sizeof err);
        if (!resp) log_warn("broker", "unregister from %s failed: %s", addrs[i], err);
        else log_info("broker", "unregistered from name server %s", addrs[i]);
        cmd_free(resp);
        cmd_free(req);
    }
    free_list(addrs, n);
}
