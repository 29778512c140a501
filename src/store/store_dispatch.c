/*
 * store_dispatch: the one path from commit-log records to consume queues, the
 * index and the arrival hook (Apache's CommitLogDispatcher chain), and the
 * thread that runs it off the appending thread (ReputMessageService).
 *
 * Who dispatches:
 *  - ASYNC_FLUSH with the store started: the dispatcher thread, woken by each put
 *    (store_dispatch_kick). The appending thread (the broker's network loop) only
 *    writes the record and answers; the queue/index work runs on the other core.
 *  - SYNC_FLUSH: the group-commit threads, only what a sync covered (Apache #8239:
 *    a consumer must never read a message a crash could still take away).
 *  - The HA raw append: inline under put_lock (it must advance the queues' next
 *    offsets, which only put_lock guards).
 *  - A store not started (tools, tests, recovery): inline in store_put.
 *
 * Visibility: dispatch scans only bytes a put published (the segment's `wrote`,
 * stored with release after the record was encoded), in commit-log order, under
 * dispatch_lock; so a consume-queue entry never points at bytes not yet readable
 * and queue offsets appear in commit-log order. Readers that must see every put
 * that returned before them (store_dispatch_catch_up) finish the dispatch
 * themselves when the thread lags.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

#define PROP_DELAY "DELAY"
/* Commit-log bytes the dispatcher thread takes per step (~1,300 records of 128 B). */
#define DISPATCH_STEP_BYTES (256 * 1024)
/* An arrival array grown past this (a reader dispatched a long backlog) is freed once fired. */
#define ARRIVALS_KEPT 4096

/* tagsCode as CommitLog.checkMessageAndReturnSize derives it from a record. */
static int64_t record_tags_code(const store *s, const msg_record *rec)
{
    const char *v;
    size_t n;
    int64_t code = 0;
    if (msg_props_find(rec->props, rec->props_len, MSG_PROP_TAGS, &v, &n))
        code = msg_tags_code(v, n);
    if (rec->topic_len == strlen(SCHEDULE_TOPIC) && memcmp(rec->topic, SCHEDULE_TOPIC, rec->topic_len) == 0 &&
        msg_props_find(rec->props, rec->props_len, PROP_DELAY, &v, &n) && n < 12) {
        char buf[12];
        memcpy(buf, v, n);
        buf[n] = '\0';
        int32_t level;
        if (parse_int32(buf, &level) == RMQ_OK) {
            if (level > s->delay_levels)
                level = s->delay_levels;
            if (level > 0)
                code = rec->store_timestamp + s->delay_ms[level - 1];
        }
    }
    return code;
}

void store_dispatch_record(void *arg, mapped_file *f, const uint8_t *record, const msg_record *rec)
{
    (void)record;
    dispatch_ctx *ctx = arg;
    store *s = ctx->s;
    int tran = MSG_TRANSACTION_TYPE(rec->sysflag);
    /* A record's queue offset comes from its writer (a master's HA stream, a store from
     * elsewhere); one no consume queue can hold is left out of the queues, not wrapped
     * into a position as Java's arithmetic would. */
    if (rec->queue_offset < 0 || rec->queue_offset >= INT64_MAX / CQ_UNIT_SIZE) {
        log_warn("store", "record at %" PRId64 " not dispatched: queue offset %" PRId64 " out of range",
                 rec->phys_offset, rec->queue_offset);
        return;
    }
    if (tran == MSG_TRANS_NOT_TYPE || tran == MSG_TRANS_COMMIT) {
        char topic[MSG_MAX_TOPIC_LEN + 1];
        memcpy(topic, rec->topic, rec->topic_len);
        topic[rec->topic_len] = '\0';
        int64_t tags = record_tags_code(s, rec);
        pthread_rwlock_rdlock(&s->cqs.lock);
        consume_queue *cq = cq_find(&s->cqs, topic, rec->queue_id);
        if (!cq) {
            pthread_rwlock_unlock(&s->cqs.lock);
            cq_ensure(&s->cqs, topic, rec->queue_id);
            pthread_rwlock_rdlock(&s->cqs.lock);
            cq = cq_find(&s->cqs, topic, rec->queue_id);
        }
        cq_put(cq, rec->phys_offset, (int32_t)rec->total_size, tags, rec->queue_offset);
        /* A put assigned the offset under put_lock already; an HA append (put_lock
         * held too) did not. */
        if (ctx->follow && cq->next_queue_offset <= rec->queue_offset)
            cq->next_queue_offset = rec->queue_offset + 1;
        pthread_rwlock_unlock(&s->cqs.lock);
        if (ctx->collect && s->arrival_cb) {
            if (ctx->count == ctx->cap) {
                ctx->cap = ctx->cap ? ctx->cap * 2 : 8;
                ctx->items = xrealloc(ctx->items, (size_t)ctx->cap * sizeof(*ctx->items));
            }
            arrival *a = &ctx->items[ctx->count++];
            mapped_file_ref(f);
            a->file = f;
            memcpy(a->topic, topic, sizeof(topic));
            a->queue_id = rec->queue_id;
            a->queue_offset = rec->queue_offset;
            a->tags_code = tags;
            a->props = rec->props;
            a->props_len = rec->props_len;
            a->store_ts = rec->store_timestamp;
        }
    }
    if (s->cfg.messageIndexEnable)
        index_build(&s->idx, rec, store_now(s));
    atomic_store(&f->last_store_ts, rec->store_timestamp);
    atomic_store(&s->last_dispatch_ts, rec->store_timestamp);
}

/* LIMIT, or the confirm gate when that is lower (store_set_confirm_offset). A record
 * the gate cuts through waits for the gate to pass its end. */
static int64_t gated(const store *s, int64_t limit)
{
    int64_t gate = atomic_load(&s->confirm_gate);
    return gate >= 0 && gate < limit ? gate : limit;
}

void store_dispatch_upto(store *s, int64_t limit, dispatch_ctx *ctx)
{
    pthread_mutex_lock(&s->dispatch_lock);
    if (limit < 0)
        limit = atomic_load(&s->cl.flushed_where);
    limit = gated(s, limit);
    if (limit > s->dispatched_upto)
        s->dispatched_upto = commitlog_scan(&s->cl, s->dispatched_upto, limit, false, store_dispatch_record, ctx);
    atomic_store(&s->dispatched, s->dispatched_upto);
    pthread_mutex_unlock(&s->dispatch_lock);
}

/* Runs the hook for what ctx collected and empties it, keeping its array. */
static void fire_kept(store *s, dispatch_ctx *ctx)
{
    for (int i = 0; i < ctx->count; i++) {
        arrival *a = &ctx->items[i];
        s->arrival_cb(s->arrival_arg, a->topic, a->queue_id, a->queue_offset, a->tags_code,
                      a->props, a->props_len, a->store_ts);
        mapped_file_unref(a->file);
    }
    ctx->count = 0;
    if (ctx->cap > ARRIVALS_KEPT) {
        free(ctx->items);
        ctx->items = NULL;
        ctx->cap = 0;
    }
}

void store_fire_arrivals(store *s, dispatch_ctx *ctx)
{
    fire_kept(s, ctx);
    free(ctx->items);
    ctx->items = NULL;
    ctx->cap = 0;
}

void store_dispatch_flushed(store *s)
{
    if (!s->defer_dispatch)
        return;
    dispatch_ctx ctx = {.s = s, .collect = true};
    store_dispatch_upto(s, -1, &ctx);
    store_fire_arrivals(s, &ctx);
}

/* Everything published so far (ASYNC_FLUSH), its arrivals queued on s->pending in
 * commit-log order. The end is read under dispatch_lock, so a truncation (which
 * holds it) cannot slip in between. With take, hands the queued arrivals (this
 * call's and any a reader queued before) to the caller to fire. */
static void dispatch_published(store *s, dispatch_ctx *take)
{
    pthread_mutex_lock(&s->dispatch_lock);
    int64_t limit = gated(s, atomic_load(&s->put_end)), from = s->dispatched_upto;
    /* The thread takes a bounded step at a time, so that the arrivals it holds before
     * firing them stay a few hundred KiB however far it lags (a reader catching up
     * takes everything: it must). A record longer than the step is taken whole. */
    if (take && limit - from > DISPATCH_STEP_BYTES) {
        s->dispatched_upto = commitlog_scan(&s->cl, from, from + DISPATCH_STEP_BYTES, false, store_dispatch_record,
                                            &s->pending);
        if (s->dispatched_upto > from)
            limit = s->dispatched_upto;
    }
    if (limit > s->dispatched_upto)
        s->dispatched_upto = commitlog_scan(&s->cl, s->dispatched_upto, limit, false, store_dispatch_record,
                                            &s->pending);
    atomic_store(&s->dispatched, s->dispatched_upto);
    if (take) {
        /* Swapped with the taker's emptied array, so neither side reallocates per batch. */
        arrival *items = take->items;
        int cap = take->cap;
        take->items = s->pending.items;
        take->count = s->pending.count;
        take->cap = s->pending.cap;
        s->pending.items = items;
        s->pending.count = 0;
        s->pending.cap = cap;
    }
    pthread_mutex_unlock(&s->dispatch_lock);
}

/*
 * After a put published its bytes (put_end moved, put_lock released). The
 * sequence store and the sleeping flag pair up as in Dekker's scheme: either the
 * putter sees the dispatcher going to sleep and signals it (under disp_mu, so the
 * signal cannot fall before its wait), or the dispatcher sees the new sequence
 * before it sleeps. A busy dispatcher costs the putter two atomics, no syscall.
 */
void store_dispatch_kick(store *s)
{
    atomic_fetch_add(&s->put_seq, 1);
    if (atomic_load(&s->disp_sleeping)) {
        pthread_mutex_lock(&s->disp_mu);
        pthread_cond_signal(&s->disp_cv);
        pthread_mutex_unlock(&s->disp_mu);
    }
}

/* The reader dispatches, but leaves the arrivals it queued to the dispatcher thread:
 * the hook then runs on one thread in commit-log order, and never inside a reader
 * (which may itself be running in the hook, or on the broker's loop). */
void store_dispatch_catch_up(store *s)
{
    if (!atomic_load_explicit(&s->dispatcher_on, memory_order_acquire))
        return;
    if (atomic_load(&s->dispatched) >= gated(s, atomic_load(&s->put_end)))
        return;
    dispatch_published(s, NULL);
    store_dispatch_kick(s);
}

/* ReputMessageService, woken per put rather than polling every millisecond as
 * Apache's does (a millisecond would be most of a send-to-receive budget here). */
void *store_dispatch_main(void *arg)
{
    store *s = arg;
    uint64_t seen = 0;
    dispatch_ctx ctx = {.s = s};       /* the batch being fired; its array is reused */
    bool stalled = false;
    for (;;) {
        pthread_mutex_lock(&s->disp_mu);
        atomic_store(&s->disp_sleeping, true);
        /* Asleep only when no put came since the last look and the last step reached
         * the end (a step is bounded). */
        while (!s->disp_stop && atomic_load(&s->put_seq) == seen &&
               (stalled || atomic_load(&s->dispatched) >= gated(s, atomic_load(&s->put_end)))) {
            /* The timeout only bounds a lost wake-up, which the scheme above rules out. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&s->disp_cv, &s->disp_mu, &ts);
        }
        atomic_store(&s->disp_sleeping, false);
        bool stop = s->disp_stop;
        pthread_mutex_unlock(&s->disp_mu);
        if (stop)
            break;
        seen = atomic_load(&s->put_seq);
        int64_t before = atomic_load(&s->dispatched);
        dispatch_published(s, &ctx);
        /* No step forward (a record the scan cannot pass): wait for the next put
         * rather than spin. */
        stalled = atomic_load(&s->dispatched) == before;
        fire_kept(s, &ctx);
    }
    free(ctx.items);
    return NULL;
}

void store_set_confirm_offset(store *s, int64_t confirm)
{
    int64_t was = atomic_exchange(&s->confirm_gate, confirm);
    if (was == confirm || (confirm >= 0 && confirm <= atomic_load(&s->dispatched)))
        return;
    /* What the gate held back: the dispatcher thread takes it (arrivals stay in order);
     * without it (SYNC_FLUSH, not started) as far as the flush or the writes allow. */
    if (atomic_load_explicit(&s->dispatcher_on, memory_order_acquire)) {
        store_dispatch_kick(s);
        return;
    }
    dispatch_ctx ctx = {.s = s, .collect = true};
    store_dispatch_upto(s, s->defer_dispatch ? -1 : atomic_load(&s->put_end), &ctx);
    store_fire_arrivals(s, &ctx);
}

int store_dispatch_start(store *s)
{
    if (s->defer_dispatch)
        return RMQ_OK;
    s->disp_stop = false;
    s->pending = (dispatch_ctx){.s = s, .collect = true};
    /* Until the thread runs, puts dispatch inline; from here on they leave it to it. */
    if (pthread_create(&s->disp_thread, NULL, store_dispatch_main, s) != 0)
        return RMQ_ERR;
    atomic_store_explicit(&s->dispatcher_on, true, memory_order_release);
    return RMQ_OK;
}

void store_dispatch_stop(store *s)
{
    if (!atomic_load(&s->dispatcher_on))
        return;
    pthread_mutex_lock(&s->disp_mu);
    s->disp_stop = true;
    pthread_cond_signal(&s->disp_cv);
    pthread_mutex_unlock(&s->disp_mu);
    pthread_join(s->disp_thread, NULL);
    /* What the thread left: puts still running dispatch inline from now on. */
    store_put_lock(s);
    atomic_store(&s->dispatcher_on, false);
    store_put_unlock(s);
    dispatch_ctx ctx = {.s = s};
    dispatch_published(s, &ctx);
    store_fire_arrivals(s, &ctx);
    free(s->pending.items);
    s->pending.items = NULL;
    s->pending.cap = 0;
}
