/* Registration with the name servers (registration.h): requests, increments, life. */
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registration_int.h"
#include "slave_sync.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "ha/ha.h"

void reg_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

int reg_cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void reg_name_set_release(name_set *ns)
{
    if (!ns || --ns->refs > 0) return;
    reg_free_list(ns->names, ns->n);
    free(ns);
}

bool reg_name_set_has(const name_set *ns, const char *name)
{
    return bsearch(&name, ns->names, ns->n, sizeof *ns->names, reg_cmp_name) != NULL;
}

/* ---- requests ---- */

rmq_cmd *reg_broker_request(const broker *b, int32_t code)
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
    rmq_cmd *req = reg_broker_request(b, REGISTER_BROKER);
    char ha[96];
    snprintf(ha, sizeof ha, "%s:%d", b->cfg.brokerIP2 ? b->cfg.brokerIP2 : b->cfg.brokerIP1, b->cfg.haListenPort);
    cmd_ext_set(req, "haServerAddr", ha);
    cmd_ext_set(req, "compressed", b->cfg.compressedRegister ? "true" : "false");
    cmd_ext_set_int(req, "bodyCrc32", rmq_crc32(bd->data, bd->len));
    cmd_set_body(req, bd->data, bd->len);
    return req;
}

namesrv_state *reg_state_of(registration *r, const char *addr)
{
    for (size_t i = 0; i < r->n_ns; i++)
        if (strcmp(r->ns[i].addr, addr) == 0) return &r->ns[i];
    r->ns = xrealloc(r->ns, (r->n_ns + 1) * sizeof *r->ns);
    r->ns[r->n_ns] = (namesrv_state){.addr = xstrdup(addr)};
    return &r->ns[r->n_ns++];
}

call *reg_new_call(registration *r, const char *addr)
{
    call *c = xmalloc(sizeof *c + strlen(addr) + 1);
    c->r = r;
    c->table = false;
    c->job = NULL;
    c->batch = 0;
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

void reg_round_done(round *rd)
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

static void register_done(rmq_cmd *resp, const char *err, void *arg)
{
    call *c = arg;
    broker *b = c->r->b;
    if (c->table) {
        /* A table's batches go one at a time, the next once this one is answered: an
         * increment written meanwhile is not behind the rest of the table on the
         * connection (~19 MB at 100k topics). Sent before this batch counts as done,
         * so the table stays in flight. */
        bool ok = resp && resp->code == 0;
        bool more = c->job && ok && c->batch + 1 < c->job->n_bodies && !b->shutting_down;
        if (more) reg_send_body(c->r, c->addr, &c->job->bodies[c->batch + 1], c->job, c->batch + 1);
        reg_table_done(c->r, c->addr, ok);
        if (c->job && !more) reg_job_release(c->job);
    }
    if (!resp || resp->code != 0) {
        if (!resp) log_warn("broker", "register to name server %s failed: %s", c->addr, err);
        else log_warn("broker", "register to name server %s refused: %d %s", c->addr, resp->code,
                      resp->remark ? resp->remark : "");
        reg_state_of(c->r, c->addr)->needs_full = true;
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
    if (c->rd) reg_round_done(c->rd);
    free(c);
}

void reg_send_body(registration *r, const char *addr, const body *bd, table_job *job, size_t batch)
{
    call *c = reg_new_call(r, addr);
    c->table = job != NULL;
    c->job = job;
    c->batch = batch;
    if (job) reg_state_of(r, addr)->tables_in_flight++;
    rmq_client_request(r->b->client, addr, register_request(r->b, bd), r->b->cfg.registerBrokerTimeoutMills,
                       register_done, c);
}

/* The namesrvAddr list ("a:9876;b:9876"), malloc'd strings; it may change at run time. */
char **reg_namesrv_list(const broker *b, size_t *n)
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

/* ---- incremental registration ---- */

static void clear_pending(registration *r)
{
    reg_free_list(r->pending, r->n_pending);
    r->pending = NULL;
    r->n_pending = r->cap_pending = 0;
}

/* registerIncrementBrokerData of NAMES (their current configs and the table's version) to ADDRS. */
/* The increment body for NAMES (their current configs and the table's version); false
 * when none of them exists any more. */
static bool increment_body(registration *r, char *const *names, size_t n_names, body *out)
{
    broker *b = r->b;
    topic_config *topics = xmalloc((n_names ? n_names : 1) * sizeof *topics);
    size_t n = 0;
    for (size_t i = 0; i < n_names; i++)
        if (topic_table_get(b->topics, names[i], &topics[n])) n++;   /* deleted since: nothing to say */
    if (n) {
        data_version dv = topic_table_data_version(b->topics);
        reg_apply_broker_permission(b, topics, n);
        *out = reg_encode_body(b->cfg.compressedRegister, topics, n, &dv);
    }
    free(topics);
    return n > 0;
}

/* registerIncrementBrokerData of NAMES to ADDRS. */
void reg_send_increment(registration *r, char *const *addrs, size_t n_addrs, char *const *names, size_t n_names)
{
    body bd;
    if (!n_addrs || !increment_body(r, names, n_names, &bd)) return;
    for (size_t i = 0; i < n_addrs; i++) reg_send_body(r, addrs[i], &bd, NULL, 0);
    free(bd.data);
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

/*
 * NAMES to the name server ADDR, which has answered a table before, while tables are
 * in flight to it: a topic that a table carries waits for the tables' answers (held),
 * the others cannot be undone by one and go now. The tables snapshot already carry
 * the names in st->sets. A table not snapshot yet will be after this increment's
 * configs are read (both under r->lock), so it carries these configs or newer ones;
 * but a snapshot taken whose names the loop has not got yet could carry anything, and
 * then everything waits until they come (reg_encoded_cb).
 */
void reg_send_unless_carried(registration *r, const char *addr, char *const *names, size_t n)
{
    namesrv_state *st = reg_state_of(r, addr);
    char **fresh = xmalloc((n ? n : 1) * sizeof *fresh);
    size_t n_fresh = 0;
    for (size_t k = 0; k < n; k++) {
        bool carried = false;
        for (size_t t = 0; t < st->n_sets && !carried; t++) carried = reg_name_set_has(st->sets[t], names[k]);
        if (carried) hold(st, &names[k], 1);
        else fresh[n_fresh++] = names[k];
    }
    body bd;
    bool have = false, unnoticed = false;
    if (n_fresh) {
        pthread_mutex_lock(&r->lock);
        unnoticed = r->unnoticed_snapshots > 0;
        if (!unnoticed) have = increment_body(r, fresh, n_fresh, &bd);
        pthread_mutex_unlock(&r->lock);
    }
    if (unnoticed) hold(st, fresh, n_fresh);
    if (have) {   /* sent outside the lock: a failure may call back into it */
        reg_send_body(r, addr, &bd, NULL, 0);
        free(bd.data);
    }
    free(fresh);
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
    qsort(r->pending, r->n_pending, sizeof *r->pending, reg_cmp_name);
    size_t n = 0;
    for (size_t i = 0; i < r->n_pending; i++) {   /* unique names, in place */
        if (n && strcmp(r->pending[i], r->pending[n - 1]) == 0) free(r->pending[i]);
        else r->pending[n++] = r->pending[i];
    }
    r->n_pending = n;
    size_t n_addrs, n_now = 0;
    char **addrs = reg_namesrv_list(b, &n_addrs);
    char **now = xmalloc((n_addrs ? n_addrs : 1) * sizeof *now);
    for (size_t i = 0; i < n_addrs; i++) {
        namesrv_state *st = reg_state_of(r, addrs[i]);
        if (!st->tables_in_flight) {
            if (st->table_answered) now[n_now++] = addrs[i];
            else reg_send_table(r, &addrs[i], 1);
        } else if (!st->table_answered) {
            hold(st, r->pending, n);
        } else {
            reg_send_unless_carried(r, addrs[i], r->pending, n);
        }
    }
    reg_send_increment(r, now, n_now, r->pending, n);
    free(now);
    reg_free_list(addrs, n_addrs);
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
    if (rd) reg_round_done(rd);
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
    r->encoded_ev = event_new(b->base, -1, 0, reg_encoded_cb, r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->encoder, NULL, reg_encoder_main, r) != 0) {
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
    for (table_job *j = reg_queue_take_all(&r->to_encode), *next; j; j = next) next = j->next, reg_job_free(j);
    for (table_job *j = reg_queue_take_all(&r->encoded), *next; j; j = next) next = j->next, reg_job_free(j);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    event_free(r->encoded_ev);
    event_free(r->flush_ev);
    run_waiters(r->waiting);   /* never flushed: the broker is stopping */
    clear_pending(r);
    for (size_t i = 0; i < r->n_ns; i++) {
        free(r->ns[i].addr);
        reg_free_list(r->ns[i].held, r->ns[i].n_held);
        for (size_t k = 0; k < r->ns[i].n_sets; k++) reg_name_set_release(r->ns[i].sets[k]);
        free(r->ns[i].sets);
    }
    free(r->ns);
    free(r);
}

void registration_unregister_all(registration *r)
{
    size_t n;
    char **addrs = reg_namesrv_list(r->b, &n);
    for (size_t i = 0; i < n; i++) {
        rmq_cmd *req = reg_broker_request(r->b, UNREGISTER_BROKER);
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
    reg_free_list(addrs, n);
}
