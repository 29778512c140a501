/*
 * The whole table to the name servers (registration_int.h): snapshot and encoded on
 * the encoder thread, sent from the loop, and what waits for its answer.
 */
#include <stdlib.h>
#include <string.h>

#include "registration_int.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"

/*
 * The last batch of a whole table answered: the topics changed meanwhile follow
 * as an increment (as another table where this one failed). They were held back
 * because Apache's name server may apply requests out of order (a thread pool):
 * a table with an older snapshot applied after an increment would undo it.
 */
void reg_table_done(registration *r, const char *addr, bool ok)
{
    namesrv_state *st = reg_state_of(r, addr);
    if (!ok) st->needs_full = true;
    if (--st->tables_in_flight > 0) return;
    for (size_t i = 0; i < st->n_sets; i++) reg_name_set_release(st->sets[i]);
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
        if (st->needs_full) reg_send_table(r, addrs, 1);
        else reg_send_increment(r, addrs, 1, held, n_held);
    }
    reg_free_list(held, n_held);
}

static void queue_push(job_queue *q, table_job *j)
{
    j->next = NULL;
    if (q->tail) q->tail->next = j;
    else q->head = j;
    q->tail = j;
}

table_job *reg_queue_take_all(job_queue *q)
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
    /* Under r->lock: an increment read before it is carried by it or older
     * (reg_send_unless_carried), one read after waits for the names below. */
    pthread_mutex_lock(&r->lock);
    topic_config *all = topic_table_snapshot_at(r->b->topics, &n, &dv);
    r->unnoticed_snapshots++;
    pthread_mutex_unlock(&r->lock);
    name_set *ns = xcalloc(1, sizeof *ns);
    ns->refs = 1;
    ns->n = n;
    ns->names = xmalloc((n ? n : 1) * sizeof *ns->names);
    for (size_t i = 0; i < n; i++) ns->names[i] = xstrdup(all[i].topic_name);
    qsort(ns->names, n, sizeof *ns->names, reg_cmp_name);
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
        j->bodies[k] = reg_encode_body(j->compressed, all + from, count, &v);
    }
    free(all);
}

void *reg_encoder_main(void *arg)
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

void reg_job_free(table_job *j)
{
    for (size_t k = 0; k < j->n_bodies; k++) free(j->bodies[k].data);
    free(j->bodies);
    reg_free_list(j->addrs, j->n_addrs);
    reg_name_set_release(j->names);
    if (j->rd) reg_round_done(j->rd);   /* whoever waits learns it is over (sent or not) */
    free(j);
}

void reg_job_release(table_job *j)
{
    if (--j->sending == 0) reg_job_free(j);
}

/* Loop: the encoder's tables go out to every name server of the job, the first batch
 * now, each next one once the previous is answered (register_done). */
void reg_encoded_cb(evutil_socket_t fd, short what, void *arg)
{
    registration *r = arg;
    pthread_mutex_lock(&r->lock);
    table_job *snap = r->snapshotted;
    r->snapshotted = NULL;
    for (table_job *k = snap; k; k = k->snap_next) r->unnoticed_snapshots--;
    table_job *j = reg_queue_take_all(&r->encoded);
    pthread_mutex_unlock(&r->lock);
    /* First the snapshots' names (a job in `encoded` had its notice here or before). */
    for (; snap; snap = snap->snap_next)
        for (size_t i = 0; i < snap->n_addrs; i++) {
            namesrv_state *st = reg_state_of(r, snap->addrs[i]);
            st->encoding--;
            st->sets = xrealloc(st->sets, (st->n_sets + 1) * sizeof *st->sets);
            st->sets[st->n_sets++] = snap->names;
            snap->names->refs++;
            /* Topics changed while a snapshot was on its way to the loop were held:
             * those no table carries go now, not after the answers (seconds at 100k
             * topics, a created topic was routable that much later). */
            if (st->table_answered && st->n_held && !r->b->shutting_down) {
                char **held = st->held;
                size_t n_held = st->n_held;
                st->held = NULL;
                st->n_held = st->cap_held = 0;
                reg_send_unless_carried(r, snap->addrs[i], held, n_held);
                reg_free_list(held, n_held);
            }
        }
    while (j) {
        table_job *next = j->next;
        r->sending = j->rd;
        j->sending = 1;
        for (size_t i = 0; i < j->n_addrs; i++) {
            if (!r->b->shutting_down) {
                j->sending++;
                reg_send_body(r, j->addrs[i], &j->bodies[0], j, 0);
            }
            reg_table_done(r, j->addrs[i], true);   /* the encoding's own count */
        }
        r->sending = NULL;
        reg_job_release(j);
        j = next;
    }
}

/* The whole table to ADDRS, encoded off the loop; until it is answered, changes to
 * the topics it carries wait (held). */
void reg_send_table(registration *r, char *const *addrs, size_t n_addrs)
{
    broker *b = r->b;
    if (!n_addrs) return;
    table_job *j = xcalloc(1, sizeof *j);
    j->addrs = xmalloc(n_addrs * sizeof *j->addrs);
    for (size_t i = 0; i < n_addrs; i++) {
        j->addrs[i] = xstrdup(addrs[i]);
        namesrv_state *st = reg_state_of(r, addrs[i]);
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
    bool needed = !changed || strcmp(changed, "false") != 0 || reg_state_of(c->r, c->addr)->needs_full;
    if (!resp) log_warn("broker", "query data version from %s failed: %s", c->addr, err);
    cmd_free(resp);
    if (needed && !c->r->b->shutting_down) {
        char *addrs[] = {c->addr};
        reg_send_table(c->r, addrs, 1);
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
    rmq_cmd *req = reg_broker_request(b, QUERY_DATA_VERSION);
    cmd_take_body(req, json, len);
    rmq_client_request(b->client, addr, req, b->cfg.registerBrokerTimeoutMills, query_done, reg_new_call(r, addr));
}

void registration_register_all(registration *r, bool force)
{
    size_t n;
    char **addrs = reg_namesrv_list(r->b, &n);
    if (force) reg_send_table(r, addrs, n);
    else
        for (size_t i = 0; i < n; i++) query_data_version(r, addrs[i]);
    reg_free_list(addrs, n);
}

