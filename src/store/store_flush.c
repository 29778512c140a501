/*
 * store_flush: FlushRealTimeService / GroupCommitService for the commit log
 * (with the group-commit waiters) and FlushConsumeQueueService for queues,
 * index and checkpoint.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/util.h"
#include "store/store_int.h"

void store_wait_flush(store *s, int64_t end_offset, int timeout_ms, store_flush_cb cb, void *arg)
{
    flush_waiter *w = xmalloc(sizeof(*w));
    w->offset = end_offset;
    w->deadline = mono_ms() + timeout_ms;
    w->cb = cb;
    w->arg = arg;
    pthread_mutex_lock(&s->flush_mu);
    w->next = s->waiters;
    s->waiters = w;
    s->flush_requested = true;
    pthread_cond_broadcast(&s->flush_cv);
    pthread_mutex_unlock(&s->flush_mu);
}

/* Flushes the commit log; records the checkpoint time when all was covered. */
void store_flush_commitlog(store *s, int least_pages)
{
    mapped_file *last = mapped_queue_last(&s->cl);
    if (!last)
        return;
    /* Read the time before the end: the record it belongs to is then inside. */
    int64_t ts = atomic_load(&last->last_store_ts);
    mapped_file_unref(last);
    int64_t end = mapped_queue_max_offset(&s->cl);
    int64_t where = mapped_queue_flush(&s->cl, least_pages);
    if (ts > 0 && where >= end)
        checkpoint_set(&s->ckpt, CKPT_PHYSIC, ts);
}

/* Completes covered waiters, and the expired ones (all when final). */
void store_complete_waiters(store *s, bool final)
{
    int64_t flushed = atomic_load(&s->cl.flushed_where), now = mono_ms();
    flush_waiter *done = NULL;
    pthread_mutex_lock(&s->flush_mu);
    for (flush_waiter **pp = &s->waiters; *pp;) {
        flush_waiter *w = *pp;
        if (w->offset <= flushed || now >= w->deadline || final) {
            *pp = w->next;
            w->next = done;
            done = w;
        } else {
            pp = &w->next;
        }
    }
    pthread_mutex_unlock(&s->flush_mu);
    while (done) {
        flush_waiter *w = done;
        done = w->next;
        w->cb(w->arg, w->offset <= flushed);
        free(w);
    }
}

/* Sleeps up to ms on flush_cv unless woken; returns false once stopping. Holds flush_mu. */
bool store_nap(store *s, int ms, bool wake_on_request)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (!s->stopping && !(wake_on_request && s->flush_requested))
        if (pthread_cond_timedwait(&s->flush_cv, &s->flush_mu, &ts) == ETIMEDOUT)
            break;
    return !s->stopping;
}

/* FlushRealTimeService / GroupCommitService */
void *store_flush_main(void *arg)
{
    store *s = arg;
    int64_t last_thorough = mono_ms();
    bool sync = s->cfg.flushDiskType == STORE_SYNC_FLUSH;
    pthread_mutex_lock(&s->flush_mu);
    for (;;) {
        int interval = sync || s->waiters ? 10 : s->cfg.flushIntervalCommitLog;
        if (!store_nap(s, interval, true))
            break;
        bool waiters = s->waiters != NULL;
        s->flush_requested = false;
        pthread_mutex_unlock(&s->flush_mu);
        int least = s->cfg.flushCommitLogLeastPages;
        int64_t now = mono_ms();
        if (sync || waiters || now - last_thorough >= s->cfg.flushCommitLogThoroughInterval) {
            least = 0;
            if (!sync && !waiters)
                last_thorough = now;
        }
        store_flush_commitlog(s, least);
        store_complete_waiters(s, false);
        pthread_mutex_lock(&s->flush_mu);
    }
    pthread_mutex_unlock(&s->flush_mu);
    return NULL;
}

void store_flush_logic(store *s, int least_pages)
{
    int64_t ts = atomic_load(&s->last_dispatch_ts);
    pthread_rwlock_rdlock(&s->cqs.lock);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    pthread_rwlock_unlock(&s->cqs.lock);
    for (int i = 0; i < n; i++)
        mapped_queue_flush(&all[i]->q, least_pages);
    free(all);
    if (s->cfg.messageIndexEnable)
        index_flush(&s->idx);
    /* Like FlushConsumeQueueService, only a thorough flush moves the checkpoint. */
    if (least_pages == 0 && ts > 0) {
        checkpoint_set(&s->ckpt, CKPT_LOGICS, ts);
        checkpoint_set(&s->ckpt, CKPT_INDEX, ts);
        checkpoint_flush(&s->ckpt);
    }
}

/* FlushConsumeQueueService */
void *store_logic_flush_main(void *arg)
{
    store *s = arg;
    int64_t last_thorough = mono_ms();
    pthread_mutex_lock(&s->flush_mu);
    while (store_nap(s, s->cfg.flushIntervalConsumeQueue, false)) {
        pthread_mutex_unlock(&s->flush_mu);
        int least = s->cfg.flushConsumeQueueLeastPages;
        int64_t now = mono_ms();
        if (now - last_thorough >= s->cfg.flushConsumeQueueThoroughInterval) {
            least = 0;
            last_thorough = now;
        }
        store_flush_logic(s, least);
        pthread_mutex_lock(&s->flush_mu);
    }
    pthread_mutex_unlock(&s->flush_mu);
    return NULL;
}
