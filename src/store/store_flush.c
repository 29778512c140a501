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
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
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

/*
 * The commit log's last sync failed: the file at the flushed position gets its unflushed
 * bytes written again, with appends held off (put_lock), once they still check out
 * (records complete, body CRCs right: the cached pages are what is written back).
 */
static void repair_commitlog(store *s)
{
    store_put_lock(s);
    int64_t where = atomic_load(&s->cl.flushed_where);
    mapped_file *f = mapped_queue_find(&s->cl, where);
    /* flush_errno goes after the file's flush_failed, so clearing it here when the file
     * is sound loses no failure: its thread sets flush_errno again after this. */
    if (!f || !atomic_load(&f->flush_failed)) {
        atomic_store(&s->cl.flush_errno, 0);
    } else {
        int64_t end = f->from + atomic_load(&f->wrote);
        /* Checked before the first attempt only: a failed one leaves them set aside. */
        int64_t good = f->saved ? end : commitlog_scan(&s->cl, where, end, true, NULL, NULL);
        if (good < end) {
            if (!s->repair_refused)
                log_error("store", "commit log from %" PRId64 " to %" PRId64 " no longer checks out in memory "
                          "(bad at %" PRId64 "); not written again, puts stay refused", where, end, good);
            s->repair_refused = true;
        } else if (mapped_file_repair(f) == RMQ_OK) {
            atomic_store(&s->cl.flush_errno, 0);
        }
    }
    if (f)
        mapped_file_unref(f);
    store_put_unlock(s);
}

void store_flush_commitlog(store *s, int least_pages, int slot)
{
    pthread_rwlock_rdlock(&s->truncate_lock);
    if (atomic_load(&s->cl.flush_errno))
        repair_commitlog(s);
    mapped_file *last = mapped_queue_last(&s->cl);
    if (!last) {
        pthread_rwlock_unlock(&s->truncate_lock);
        return;
    }
    /* Read the time before the end: the record it belongs to is then inside. */
    int64_t ts = atomic_load(&last->last_store_ts);
    mapped_file_unref(last);
    int64_t end = mapped_queue_max_offset(&s->cl);
    int64_t where = mapped_queue_flush(&s->cl, least_pages, slot);
    if (ts > 0 && where >= end)
        checkpoint_set(&s->ckpt, CKPT_PHYSIC, ts);
    pthread_rwlock_unlock(&s->truncate_lock);
}

/* Completes covered waiters, and the expired ones (all when final). While the commit
 * log's last sync failed, the uncovered ones fail at once: none of them may be told
 * SEND_OK (Apache #5235), and they need not wait out the timeout to learn it. */
void store_complete_waiters(store *s, bool final)
{
    int64_t flushed = atomic_load(&s->cl.flushed_where), now = mono_ms();
    /* SYNC_FLUSH: answered once readable too, so a consumer told of the send finds it;
     * not while the confirm gate holds dispatch back: the slave's ack, which such a send
     * waits for next, opens the gate before the send is answered. */
    if (s->defer_dispatch && atomic_load(&s->confirm_gate) < 0 && atomic_load(&s->dispatched) < flushed)
        flushed = atomic_load(&s->dispatched);
    bool failed = atomic_load(&s->cl.flush_errno) != 0;
    flush_waiter *done = NULL;
    pthread_mutex_lock(&s->flush_mu);
    for (flush_waiter **pp = &s->waiters; *pp;) {
        flush_waiter *w = *pp;
        if (w->offset <= flushed || failed || now >= w->deadline || final) {
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
        store_flush_commitlog(s, least, -1);
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
    int slot = atomic_fetch_add(&s->next_slot, 1);
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
        store_flush_commitlog(s, 0, slot);
        store_dispatch_flushed(s);
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
        mapped_queue_flush(&all[i]->q, least_pages, -1);
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
