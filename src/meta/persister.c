/*
 * Coalesced persistence. Rewriting the whole file on every change, as
 * Apache's ConfigManager.persist does, costs ~20 MB of JSON per topic created
 * once there are 100k topics. Here a change only marks its table (and is in
 * the table's journal already); one background thread writes marked tables
 * after a short gathering delay and never spends more than about
 * 1/PACE_FACTOR of its time writing, so a burst of N changes costs a bounded
 * number of writes whatever the table size. meta_persister_stop writes
 * whatever is still marked: a clean stop leaves complete files.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

#define MAX_TABLES 8
/* After a write that took T ms, the next waits at least PACE_FACTOR * T: the
 * writes' share of the time stays ~5%, so their cost per change does not grow
 * with the table (a larger table is written less often). */
#define PACE_FACTOR 20
#define SLOW_WRITE_MS 100

typedef struct persisted_table {
    meta_persist_fn fn;
    void *table;
    bool dirty;
    int64_t last_write_ms;   /* duration of its last write */
} persisted_table;

struct meta_persister {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    persisted_table tables[MAX_TABLES];
    int n_tables;
    int delay_ms;
    bool stopping;
};

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static bool any_dirty(const meta_persister *p)
{
    for (int i = 0; i < p->n_tables; i++)
        if (p->tables[i].dirty) return true;
    return false;
}

/* Writes every marked table; called with the lock held, drops it while writing. */
static void write_dirty(meta_persister *p)
{
    for (int i = 0; i < p->n_tables; i++) {
        persisted_table *t = &p->tables[i];
        if (!t->dirty) continue;
        t->dirty = false;   /* a change during the write marks it again */
        pthread_mutex_unlock(&p->lock);
        int64_t start = mono_ms();
        int rc = t->fn(t->table);
        int64_t took = mono_ms() - start;
        pthread_mutex_lock(&p->lock);
        t->last_write_ms = took;
        if (took >= SLOW_WRITE_MS) log_info(META_LOG, "coalesced write took %lld ms", (long long)took);
        if (rc != RMQ_OK) {
            log_error(META_LOG, "coalesced persist failed; retrying later");
            t->dirty = true;
        }
    }
}

static int64_t pace_ms(const meta_persister *p)
{
    int64_t wait = p->delay_ms;
    for (int i = 0; i < p->n_tables; i++)
        if (p->tables[i].last_write_ms * PACE_FACTOR > wait) wait = p->tables[i].last_write_ms * PACE_FACTOR;
    return wait;
}

static void *run(void *arg)
{
    meta_persister *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (!any_dirty(p)) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        /* Gather the rest of the burst; stop cuts the wait short. */
        struct timespec until;
        deadline_after(&until, pace_ms(p));
        while (!p->stopping && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0) {}
        write_dirty(p);
    }
    write_dirty(p);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

meta_persister *meta_persister_start(int delay_ms)
{
    meta_persister *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->delay_ms = delay_ms > 0 ? delay_ms : 1;
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void meta_persister_mark(meta_persister *p, meta_persist_fn fn, void *table)
{
    pthread_mutex_lock(&p->lock);
    persisted_table *t = NULL;
    for (int i = 0; i < p->n_tables && !t; i++)
        if (p->tables[i].table == table) t = &p->tables[i];
    if (!t && p->n_tables < MAX_TABLES) {
        t = &p->tables[p->n_tables++];
        t->fn = fn;
        t->table = table;
    }
    bool was_idle = !any_dirty(p);
    if (t) t->dirty = true;
    if (was_idle) pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (!t) fn(table);   /* more tables than slots: write at once rather than lose it */
}

void meta_persister_stop(meta_persister *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
