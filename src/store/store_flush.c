/*
 * store_flush: FlushRealTimeService / GroupCommitService for the commit log
 * (with the group-commit waiters) and FlushConsumeQueueService for queues,
 * index and checkpoint.
 *
 * SYNC_FLUSH: a send is appended on the network loop and waits (store_wait_flush)
 * for the sync that covers it; the loop goes on appending meanwhile. Each of
 * GROUP_COMMIT_THREADS threads starts a sync as soon as some waiter asks for bytes
 * no sync in progress covers, claiming everything appended so far: one sync answers
 * every send before it, and a send arriving during a sync does not wait for it to end
 * before its own sync begins.
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
    /* Wake a group-commit thread only when no sync in progress covers the offset. */
    bool uncovered = end_offset > s->sync_claimed;
    if (end_offset > s->waiter_max)
        s->waiter_max = end_offset;
    if (s->cfg.flushDiskType != STORE_SYNC_FLUSH)
        pthread_cond_broadcast(&s->flush_cv);
    else if (uncovered)
        pthread_cond_signal(&s->flush_cv);
    pthread_mutex_unlock(&s->flush_mu);
}

/* Flushes the commit log; records the checkpoint time when all was covered. */
void store_flush_commitlog(store *s, int least_pages)
{
    pthread_rwlock_rdlock(&s->truncate_lock);
    mapped_file *last = mapped_queue_last(&s->cl);
    if (!last) {
        pthread_rwlock_unlock(&s->truncate_lock);
        return;
    }
    /* Read the time before the end: the record it belongs to is then inside. */
    int64_t ts = atomic_load(&last->last_store_ts);
    mapped_file_unref(last);
    int64_t end = mapped_queue_max_offset(&s->cl);
    int64_t where = mapped_queue_flush(&s->cl, least_pages);
    if (ts > 0 && where >= end)
        checkpoint_set(&s->ckpt, CKPT_PHYSIC, ts);
    pthread_rwlock_unlock(&s->truncate_lock);
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

static struct timespec deadline_in(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Sleeps up to ms on flush_cv unless woken; returns false once stopping. Holds flush_mu. */
bool store_nap(store *s, int ms, bool wake_on_request)
{
    struct timespec ts = deadline_in(ms);
    while (!s->stopping && !(wake_on_request && s->flush_requested))
        if (pthread_cond_timedwait(&s->flush_cv, &s->flush_mu, &ts) == ETIMEDOUT)
            break;
    return !s->stopping;
}

/* FlushRealTimeService (ASYNC_FLUSH); a waiter, if any, makes the next pass flush everything */
void *store_flush_main(void *arg)
{
    store *s = arg;
    int64_t last_thorough = mono_ms();
    pthread_mutex_lock(&s->flush_mu);
    for (;;) {
        int interval = s->waiters ? 10 : s->cfg.flushIntervalCommitLog;
        if (!store_nap(s, interval, true))
            break;
        bool waiters = s->waiters != NULL;
        s->flush_requested = false;
        pthread_mutex_unlock(&s->flush_mu);
        int least = s->cfg.flushCommitLogLeastPages;
        int64_t now = mono_ms();
        if (waiters || now - last_thorough >= s->cfg.flushCommitLogThoroughInterval) {
            least = 0;
            if (!waiters)
                last_thorough = now;
        }
        store_flush_commitlog(s, least);
        store_complete_waiters(s, false);
        pthread_mutex_lock(&s->flush_mu);
    }
    pthread_mutex_unlock(&s->flush_mu);
    return NULL;
}

/* GroupCommitService, one of GROUP_COMMIT_THREADS (see the top of the file). Every
 * 10 ms without a request it flushes what is unflushed (sends without WAIT) and times
 * out expired waiters. */
void *store_group_commit_main(void *arg)
{
    store *s = arg;
    pthread_mutex_lock(&s->flush_mu);
    while (!s->stopping) {
        if (s->waiter_max <= s->sync_claimed) {
            struct timespec ts = deadline_in(10);
            if (pthread_cond_timedwait(&s->flush_cv, &s->flush_mu, &ts) != ETIMEDOUT)
                continue; /* woken: look again */
            if (mapped_queue_max_offset(&s->cl) <= atomic_load(&s->cl.flushed_where)) {
                pthread_mutex_unlock(&s->flush_mu);
                store_complete_waiters(s, false);
                pthread_mutex_lock(&s->flush_mu);
                continue;
            }
        }
        /* Claimed under flush_mu, so two threads never start a sync for the same new
         * bytes; the end is read after the waiter was queued, so it covers its record. */
        int64_t end = mapped_queue_max_offset(&s->cl);
        if (end > s->sync_claimed)
            s->sync_claimed = end;
        pthread_mutex_unlock(&s->flush_mu);
        store_flush_commitlog(s, 0);
        store_complete_waiters(s, false);
        pthread_mutex_lock(&s->flush_mu);
    }
    pthread_mutex_unlock(&s->flush_mu);
    return NULL;
}

void store_flush_logic(store *s, int least_pages)
{
    int64_t ts = atomic_load(&s->last_dispatch_ts);
    pthread_rwlock_rdlock(&s->truncate_lock);
    pthread_rwlock_rdlock(&s->cqs.lock);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    pthread_rwlock_unlock(&s->cqs.lock);
    for (int i = 0; i < n; i++)
        mapped_queue_flush(&all[i]->q, least_pages);
    pthread_rwlock_unlock(&s->truncate_lock);
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
