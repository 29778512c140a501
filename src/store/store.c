/*
 * store: the facade (DefaultMessageStore) — open/recover, start/close, the
 * append paths (put and the HA raw append) and their single dispatch
 * function. Flushing is in store_flush.c, retention in store_clean.c,
 * reads in store_read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

int64_t store_now(const store *s)
{
    return s->cfg.clock_ms ? s->cfg.clock_ms(s->cfg.hook_arg) : now_ms();
}

void store_config_defaults(store_config *c)
{
    memset(c, 0, sizeof(*c));
    const char *home = getenv("HOME");
    snprintf(c->storePathRootDir, sizeof(c->storePathRootDir), "%s/store", home ? home : ".");
    c->mappedFileSizeCommitLog = 1024LL * 1024 * 1024;
    c->mappedFileSizeConsumeQueue = 300000 * CQ_UNIT_SIZE;
    c->flushDiskType = STORE_ASYNC_FLUSH;
    c->brokerRole = STORE_ASYNC_MASTER;
    c->flushIntervalCommitLog = 500;
    c->flushCommitLogLeastPages = 4;
    c->flushCommitLogThoroughInterval = 10000;
    c->flushIntervalConsumeQueue = 1000;
    c->flushConsumeQueueLeastPages = 2;
    c->flushConsumeQueueThoroughInterval = 60000;
    c->syncFlushTimeout = 5000;
    c->fileReservedTime = 72;
    snprintf(c->deleteWhen, sizeof(c->deleteWhen), "04");
    c->diskMaxUsedSpaceRatio = 75;
    c->diskSpaceCleanForciblyRatio = 0.85;
    c->diskSpaceWarningLevelRatio = 0.90;
    c->cleanFileForciblyEnable = true;
    c->cleanResourceInterval = 10000;
    c->deleteCommitLogFilesInterval = 100;
    c->checkCRCOnRecover = true;
    c->maxMessageSize = 4 * 1024 * 1024;
    c->maxHashSlotNum = 5000000;
    c->maxIndexNum = 20000000;
    c->messageIndexEnable = true;
    c->maxMsgsNumBatch = 64;
    c->maxTransferBytesOnMessageInMemory = 256 * 1024;
    c->maxTransferCountOnMessageInMemory = 32;
    c->maxTransferBytesOnMessageInDisk = 64 * 1024;
    c->maxTransferCountOnMessageInDisk = 8;
    c->accessMessageInMemoryMaxRatio = 40;
    c->osPageCacheBusyTimeOutMills = 1000;
    snprintf(c->messageDelayLevel, sizeof(c->messageDelayLevel),
             "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
    msg_host_parse(&c->storeHost, "127.0.0.1:10911");
}

static void parse_delay_levels(store *s)
{
    const char *bad;
    int n = msg_delay_levels_parse(s->cfg.messageDelayLevel, s->delay_ms, &bad);
    if (n < 0) log_warn("store", "bad messageDelayLevel near \"%s\"", bad);
    s->delay_levels = n < 0 ? 0 : n;
}

void store_put_lock(store *s)
{
    pthread_mutex_lock(&s->put_lock);
    atomic_store(&s->put_lock_since, store_now(s));
}

void store_put_unlock(store *s)
{
    atomic_store(&s->put_lock_since, 0);
    pthread_mutex_unlock(&s->put_lock);
}

/* ---- open / recover ---- */

static int take_lock(store *s, char *err, size_t errlen)
{
    char *path = str_printf("%s/lock", s->root);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (s->lock_fd < 0) {
        snprintf(err, errlen, "open lock file in %s: %s", s->root, strerror(errno));
        return RMQ_ERR;
    }
    /* An open-file-description lock conflicts with a second opener in this
     * process too, and with the POSIX lock a Java broker takes on byte 0. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(s->lock_fd, F_OFD_SETLK, &fl) != 0) {
        snprintf(err, errlen, "Lock failed, MQ already started (%s/lock: %s)", s->root, strerror(errno));
        close(s->lock_fd);
        s->lock_fd = -1;
        return RMQ_ERR;
    }
    if (pwrite(s->lock_fd, "lock", 4, 0) != 4)
        log_warn("store", "write lock file: %s", strerror(errno));
    return RMQ_OK;
}

/* isMappedFileMatchedRecover: the file's first record was stored before ts. */
static bool file_starts_before(const mapped_file *f, int64_t ts)
{
    if (get_be32(f->base + 4) != MSG_MAGIC_CODE)
        return false;
    int64_t store_ts = msg_record_store_timestamp(f->base);
    return store_ts != 0 && store_ts <= ts;
}

static void recover(store *s, bool abnormal)
{
    mapped_queue *cl = &s->cl;
    int64_t start = 0;
    if (cl->count > 0) {
        int i;
        if (abnormal) {
            int64_t min_ts = checkpoint_min_timestamp(&s->ckpt);
            for (i = cl->count - 1; i > 0; i--)
                if (file_starts_before(cl->files[i], min_ts))
                    break;
        } else {
            i = cl->count > 3 ? cl->count - 3 : 0;
        }
        start = cl->files[i]->from;
    }
    int64_t end = commitlog_scan(cl, start, INT64_MAX, s->cfg.checkCRCOnRecover, NULL, NULL);
    log_info("store", "%s recovery: commit log valid from %" PRId64 " to %" PRId64,
             abnormal ? "abnormal" : "normal", start, end);
    /* Anything past the end is a torn or corrupt tail: drop it and zero the
     * bytes one record could have left, so they never parse again. */
    mapped_queue_truncate(cl, end, (int64_t)s->cfg.maxMessageSize + 64 * 1024 + 1024);

    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    int64_t replay_from = 0;
    for (int i = 0; i < n; i++) {
        if (all[i]->max_physic_offset > end)
            cq_truncate_dirty(all[i], end);
        if (all[i]->max_physic_offset > replay_from)
            replay_from = all[i]->max_physic_offset;
    }
    /* Normal exit: queues and index are complete up to the newest queue
     * entry. Abnormal: replay from where the checkpoint says all was durable. */
    if (abnormal && start < replay_from)
        replay_from = start;
    int64_t min = mapped_queue_min_offset(cl);
    if (replay_from < min)
        replay_from = min;
    if (replay_from > end)
        replay_from = end;
    dispatch_ctx ctx = {.s = s};
    s->dispatched_upto = commitlog_scan(cl, replay_from, end, false, store_dispatch_record, &ctx);
    atomic_store(&s->dispatched, s->dispatched_upto);
    atomic_store(&s->put_end, end);
    free(all);

    /* recoverTopicQueueTable */
    all = cq_list(&s->cqs, &n);
    for (int i = 0; i < n; i++) {
        all[i]->next_queue_offset = cq_max_offset(all[i]);
        cq_correct_min_offset(all[i], min < 0 ? 0 : min);
    }
    free(all);
}

static void store_free(store *s)
{
    if (s->cqs.root)
        cq_table_free(&s->cqs);
    if (s->cl.dir)
        mapped_queue_free(&s->cl);
    if (s->idx.dir)
        index_free(&s->idx);
    checkpoint_close(&s->ckpt);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->put_lock);
    pthread_rwlock_destroy(&s->truncate_lock);
    pthread_mutex_destroy(&s->dispatch_lock);
    pthread_mutex_destroy(&s->flush_mu);
    pthread_cond_destroy(&s->flush_cv);
    pthread_mutex_destroy(&s->disp_mu);
    pthread_cond_destroy(&s->disp_cv);
    free(s->root);
    free(s->abort_path);
    free(s);
}

store *store_open(const store_config *cfg, char *err, size_t errlen)
{
    store *s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    s->lock_fd = -1;
    pthread_mutex_init(&s->put_lock, NULL);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
#ifdef __GLIBC__
    /* A truncation must not wait behind a steady stream of group-commit flushes. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&s->truncate_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->dispatch_lock, NULL);
    pthread_mutex_init(&s->disp_mu, NULL);
    s->defer_dispatch = cfg->flushDiskType == STORE_SYNC_FLUSH;
    atomic_store(&s->confirm_gate, -1);
    pthread_mutex_init(&s->flush_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->flush_cv, &ca);
    pthread_cond_init(&s->disp_cv, &ca);
    pthread_condattr_destroy(&ca);
    parse_delay_levels(s);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    s->memory_for_hot_data = (int64_t)pages * page / 100 * cfg->accessMessageInMemoryMaxRatio;

    s->root = xstrdup(cfg->storePathRootDir);
    char *cl_dir = cfg->storePathCommitLog[0] ? xstrdup(cfg->storePathCommitLog)
                                              : str_printf("%s/commitlog", s->root);
    char *cq_dir = str_printf("%s/consumequeue", s->root);
    char *ix_dir = str_printf("%s/index", s->root);
    char *ck_path = str_printf("%s/checkpoint", s->root);
    s->abort_path = str_printf("%s/abort", s->root);
    /* ConsumeQueue file size is rounded up to whole entries, as Apache does. */
    int64_t cq_size = ((int64_t)cfg->mappedFileSizeConsumeQueue + CQ_UNIT_SIZE - 1) / CQ_UNIT_SIZE * CQ_UNIT_SIZE;
    mapped_queue_init(&s->cl, cl_dir, cfg->mappedFileSizeCommitLog, true);
    if (s->defer_dispatch)
        s->cl.sync_slots = GROUP_COMMIT_THREADS;
    cq_table_init(&s->cqs, cq_dir, cq_size);
    index_init(&s->idx, ix_dir, cfg->maxHashSlotNum, cfg->maxIndexNum);

    int rc = RMQ_ERR;
    if (mkdirs(s->root) != RMQ_OK || mkdirs(cl_dir) != RMQ_OK || mkdirs(cq_dir) != RMQ_OK) {
        snprintf(err, errlen, "create store dirs under %s: %s", s->root, strerror(errno));
        goto out;
    }
    if (take_lock(s, err, errlen) != RMQ_OK)
        goto out;
    bool abnormal = access(s->abort_path, F_OK) == 0;
    if (mapped_queue_load(&s->cl, err, errlen) != RMQ_OK || cq_table_load(&s->cqs, err, errlen) != RMQ_OK ||
        checkpoint_open(&s->ckpt, ck_path, err, errlen) != RMQ_OK ||
        (cfg->messageIndexEnable && index_load(&s->idx, err, errlen) != RMQ_OK))
        goto out;
    recover(s, abnormal);
    int fd = open(s->abort_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", s->abort_path, strerror(errno));
        goto out;
    }
    close(fd);
    rc = RMQ_OK;
out:
    free(cl_dir);
    free(cq_dir);
    free(ix_dir);
    free(ck_path);
    if (rc != RMQ_OK) {
        store_free(s);
        return NULL;
    }
    return s;
}

/* ---- put ---- */

static const char *check_writable(store *s)
{
    if (atomic_load(&s->shutdown))
        return "message store has shut down";
    if (s->cfg.brokerRole == STORE_SLAVE)
        return "message store is a slave";
    if (atomic_load(&s->disk_full))
        return "disk full: usage is above diskSpaceWarningLevelRatio";
    /* Like Apache's RunningFlags after a failed queue write: refused until the flush
     * thread's next attempt gets the unflushed bytes onto the disk. */
    if (atomic_load(&s->cl.flush_errno))
        return "commit log flush failed";
    return NULL;
}

static store_put_status put_fail(store_put_result *res, store_put_status st, const char *reason)
{
    res->status = st;
    res->reason = reason;
    return st;
}

/* The last segment with room for len bytes + a blank, ending the current one with a blank. */
static mapped_file *segment_with_room(store *s, int64_t len, const char **reason)
{
    char err[256];
    mapped_file *f = mapped_queue_last(&s->cl);
    if (f) {
        int64_t wrote = atomic_load(&f->wrote);
        int64_t remaining = f->size - wrote;
        if (len + 8 <= remaining)
            return f;
        /* END_OF_FILE: a blank record covering the rest, then a new segment. */
        if (remaining >= 8) {
            put_be32(f->base + wrote, (uint32_t)remaining);
            put_be32(f->base + wrote + 4, MSG_BLANK_MAGIC_CODE);
        }
        atomic_store_explicit(&f->wrote, f->size, memory_order_release);
        int64_t next = f->from + f->size;
        mapped_file_unref(f);
        f = mapped_queue_create(&s->cl, next, err, sizeof(err));
    } else {
        f = mapped_queue_create(&s->cl, 0, err, sizeof(err));
    }
    if (!f) {
        log_error("store", "create commit log segment: %s", err);
        *reason = "create mapped file failed";
        return NULL;
    }
    mapped_file_ref(f);
    return f;
}

static int64_t next_queue_offset(store *s, const char *topic, int32_t queue_id, int sysflag)
{
    int tran = MSG_TRANSACTION_TYPE(sysflag);
    if (tran == MSG_TRANS_PREPARED || tran == MSG_TRANS_ROLLBACK)
        return 0;
    pthread_rwlock_rdlock(&s->cqs.lock);
    consume_queue *cq = cq_find(&s->cqs, topic, queue_id);
    if (!cq) {
        pthread_rwlock_unlock(&s->cqs.lock);
        cq_ensure(&s->cqs, topic, queue_id);
        pthread_rwlock_rdlock(&s->cqs.lock);
        cq = cq_find(&s->cqs, topic, queue_id);
    }
    int64_t off = cq->next_queue_offset++;
    pthread_rwlock_unlock(&s->cqs.lock);
    return off;
}

static store_put_status put_timed(store *s, const store_msg *msgs, int n, store_put_result *res);

/* StoreStatsService.incPutMessageEntireTime's buckets: upper bounds 1..20 by 1, ..50 by 2, ..100
 * by 5, ..200 by 10, ..500 by 50, ..1000 by 100, ..10000 by 1000, then Long.MAX_VALUE. */
static int64_t bucket_bound(int i)
{
    static const int steps[][2] = {{1, 20}, {2, 15}, {5, 10}, {10, 10}, {50, 6}, {100, 5}, {1000, 9}};
    int64_t bound = 0;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        for (int j = 0; j < steps[k][1]; j++, i--) {
            bound += steps[k][0];
            if (i == 0) return bound;
        }
    return INT64_MAX;
}

/* setPutMessageEntireTimeMax: the range and bucket of one put's time, and the maximum. */
static void record_put_time(store *s, int64_t ms)
{
    static const int64_t upper[STORE_PUT_DIST_RANGES - 1] = {1, 10, 50, 100, 200, 500, 1000, 2000, 3000, 4000,
                                                             5000, 10000};
    int r = 0;
    if (ms > 0)
        for (r = 1; r < STORE_PUT_DIST_RANGES - 1 && ms >= upper[r]; r++) {}
    atomic_fetch_add_explicit(&s->put_dist[r], 1, memory_order_relaxed);
    int b = 0;
    while (b < STORE_PUT_TIME_BUCKETS - 1 && bucket_bound(b) < ms) b++;
    atomic_fetch_add_explicit(&s->put_buckets[b], 1, memory_order_relaxed);
    int64_t max = atomic_load_explicit(&s->put_time_max, memory_order_relaxed);
    while (ms > max && !atomic_compare_exchange_weak(&s->put_time_max, &max, ms)) {}
}

/* findPutMessageEntireTimePX over the buckets. */
static double put_time_px(store *s, double px)
{
    int64_t counts[STORE_PUT_TIME_BUCKETS], total = 0;
    for (int i = 0; i < STORE_PUT_TIME_BUCKETS; i++) total += counts[i] = atomic_load(&s->put_buckets[i]);
    int64_t index = (int64_t)((double)total * px), passed = 0;
    for (int i = 0; i < STORE_PUT_TIME_BUCKETS; i++) {
        if (index <= passed + counts[i]) {
            int64_t rel = index - passed;
            double lo = i ? (double)bucket_bound(i - 1) : 0, hi = (double)bucket_bound(i);
            return counts[i] == 0 ? lo : lo + (hi - lo) * (double)rel / (double)counts[i];
        }
        passed += counts[i];
    }
    return 0;
}

void store_record_get_time(store *s, int64_t ms)
{
    int64_t max = atomic_load_explicit(&s->get_time_max, memory_order_relaxed);
    while (ms > max && !atomic_compare_exchange_weak(&s->get_time_max, &max, ms)) {}
}

store_put_status store_put(store *s, const store_msg *msgs, int n, store_put_result *res)
{
    int64_t begin = mono_ms();
    store_put_status st = put_timed(s, msgs, n, res);
    record_put_time(s, mono_ms() - begin);
    if (st != STORE_PUT_OK) atomic_fetch_add_explicit(&s->put_failed, 1, memory_order_relaxed);
    return st;
}

static store_put_status put_timed(store *s, const store_msg *msgs, int n, store_put_result *res)
{
    res->status = STORE_PUT_OK;
    res->reason = NULL;
    res->end_offset = 0;
    const char *why = check_writable(s);
    if (why)
        return put_fail(res, STORE_PUT_SERVICE_NOT_AVAILABLE, why);
    if (n <= 0)
        return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "no message");
    int64_t total = 0, batch_body = 0;
    for (int i = 0; i < n; i++) {
        const store_msg *m = &msgs[i];
        size_t topic_len = strlen(m->topic);
        if (topic_len == 0 || topic_len > MSG_MAX_TOPIC_LEN)
            return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "topic length invalid");
        if (m->props_len > MSG_MAX_PROPS_LEN)
            return put_fail(res, STORE_PUT_PROPERTIES_SIZE_EXCEEDED, "properties size exceeded");
        if (m->body_len > (uint32_t)s->cfg.maxMessageSize)
            return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "message body size exceeded");
        if (n > 1 && MSG_TRANSACTION_TYPE(m->sysflag) != MSG_TRANS_NOT_TYPE)
            return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "a batch can not be transactional");
        total += msg_record_size(m->body_len, (uint32_t)topic_len, m->props_len, m->born_host.v6,
                                 s->cfg.storeHost.v6);
        batch_body += 20 + m->body_len + 2 + m->props_len;
    }
    if (n > 1 && batch_body > s->cfg.maxMessageSize)
        return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "message body size exceeded");
    if (total + 8 > s->cfg.mappedFileSizeCommitLog)
        return put_fail(res, STORE_PUT_MESSAGE_ILLEGAL, "message larger than a commit log segment");
    int32_t crc_small[16];
    int32_t *crc = n <= 16 ? crc_small : xmalloc((size_t)n * sizeof(*crc));
    for (int i = 0; i < n; i++)
        crc[i] = rmq_crc32(msgs[i].body, msgs[i].body_len);

    dispatch_ctx ctx = {.s = s, .collect = true};
    store_put_lock(s);
    mapped_file *f = NULL;
    if ((why = check_writable(s)) != NULL) {
        put_fail(res, STORE_PUT_SERVICE_NOT_AVAILABLE, why);
    } else if ((f = segment_with_room(s, total, &why)) == NULL) {
        put_fail(res, STORE_PUT_CREATE_MAPPED_FILE_FAILED, why);
    } else {
        int64_t now = store_now(s);
        int64_t pos = atomic_load(&f->wrote);
        for (int i = 0; i < n; i++) {
            const store_msg *m = &msgs[i];
            msg_record r = {
                .body_crc = crc[i],
                .queue_id = m->queue_id,
                .flag = m->flag,
                .queue_offset = next_queue_offset(s, m->topic, m->queue_id, m->sysflag),
                .phys_offset = f->from + pos,
                .sysflag = m->sysflag,
                .born_timestamp = m->born_timestamp,
                .born_host = m->born_host,
                .store_timestamp = now,
                .store_host = s->cfg.storeHost,
                .reconsume_times = m->reconsume_times,
                .prepared_tx_offset = m->prepared_tx_offset,
                .body = m->body,
                .body_len = m->body_len,
                .topic = m->topic,
                .topic_len = (uint32_t)strlen(m->topic),
                .props = m->props,
                .props_len = m->props_len,
            };
            uint32_t size = msg_record_encode(f->base + pos, &r);
            store_put_entry *e = &res->entries[i];
            e->phys_offset = r.phys_offset;
            e->size = (int32_t)size;
            e->queue_offset = r.queue_offset;
            e->store_timestamp = now;
            msg_offset_id_create(e->msg_id, &s->cfg.storeHost, r.phys_offset);
            pos += size;
        }
        atomic_store_explicit(&f->wrote, pos, memory_order_release);
        res->end_offset = f->from + pos;
        atomic_store(&s->put_end, res->end_offset);
        if (!s->defer_dispatch && !atomic_load_explicit(&s->dispatcher_on, memory_order_relaxed))
            store_dispatch_upto(s, res->end_offset, &ctx);
        atomic_fetch_add(&s->put_times, n);
        atomic_fetch_add(&s->put_size, total);
        mapped_file_unref(f);
    }
    bool kick = res->status == STORE_PUT_OK && atomic_load_explicit(&s->dispatcher_on, memory_order_relaxed);
    store_put_unlock(s);
    if (crc != crc_small)
        free(crc);
    if (kick)
        store_dispatch_kick(s);
    store_fire_arrivals(s, &ctx);
    return res->status;
}

void store_set_arrival_cb(store *s, store_arrival_cb cb, void *arg)
{
    pthread_mutex_lock(&s->put_lock);
    s->arrival_cb = cb;
    s->arrival_arg = arg;
    pthread_mutex_unlock(&s->put_lock);
}

/* ---- start / close ---- */

static void stop_threads(store *s)
{
    pthread_mutex_lock(&s->flush_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->flush_cv);
    pthread_mutex_unlock(&s->flush_mu);
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    s->n_threads = 0;
}

int store_start(store *s)
{
    atomic_store(&s->next_slot, 0);
    void *(*mains[2 + GROUP_COMMIT_THREADS])(void *) = {store_logic_flush_main, store_clean_main};
    int n = 2;
    if (s->cfg.flushDiskType == STORE_SYNC_FLUSH)
        for (int i = 0; i < GROUP_COMMIT_THREADS; i++)
            mains[n++] = store_group_commit_main;
    else
        mains[n++] = store_flush_main;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&s->threads[i], NULL, mains[i], s) != 0) {
            log_error("store", "cannot start store threads");
            stop_threads(s);
            s->stopping = false;
            return RMQ_ERR;
        }
        s->n_threads++;
    }
    if (store_dispatch_start(s) != RMQ_OK) {
        log_error("store", "cannot start the dispatcher thread");
        stop_threads(s);
        s->stopping = false;
        return RMQ_ERR;
    }
    return RMQ_OK;
}

void store_close(store *s)
{
    atomic_store(&s->shutdown, true);
    stop_threads(s);
    /* No appender can start now; wait out one in progress. */
    pthread_mutex_lock(&s->put_lock);
    pthread_mutex_unlock(&s->put_lock);
    store_dispatch_stop(s);
    /* Slot 0: the threads are gone; its description has seen the errors already handled. */
    store_flush_commitlog(s, 0, 0);
    store_dispatch_flushed(s);
    store_complete_waiters(s, true);
    store_flush_logic(s, 0);
    int64_t last = atomic_load(&s->last_dispatch_ts);
    if (last > 0) {
        checkpoint_set(&s->ckpt, CKPT_PHYSIC, last);
        checkpoint_flush(&s->ckpt);
    }
    if (unlink(s->abort_path) != 0)
        log_warn("store", "unlink %s: %s", s->abort_path, strerror(errno));
    store_free(s);
}

void store_get_stats(store *s, store_stats *out)
{
    out->put_message_entire_time_max = atomic_load(&s->put_time_max);
    out->get_message_entire_time_max = atomic_load(&s->get_time_max);
    out->put_message_failed_times = atomic_load(&s->put_failed);
    for (int i = 0; i < STORE_PUT_DIST_RANGES; i++) out->put_distribute[i] = atomic_load(&s->put_dist[i]);
    out->put_latency_99 = put_time_px(s, 0.99);
    out->put_latency_999 = put_time_px(s, 0.999);
    out->put_message_times_total = atomic_load(&s->put_times);
    out->put_message_size_total = atomic_load(&s->put_size);
    out->get_message_times_total_found = atomic_load(&s->get_found);
    out->get_message_times_total_miss = atomic_load(&s->get_miss);
    out->get_message_transfered_msg_count = atomic_load(&s->get_transferred);
}

bool store_os_page_cache_busy(store *s)
{
    int64_t since = atomic_load(&s->put_lock_since);
    if (since == 0)
        return false;
    int64_t held = store_now(s) - since;
    return held > s->cfg.osPageCacheBusyTimeOutMills && held < 10000000;
}

/* ---- HA ---- */

int store_append_raw(store *s, int64_t phys_offset, const uint8_t *data, size_t len,
                     char *err, size_t errlen)
{
    dispatch_ctx ctx = {.s = s, .collect = true};
    int rc = RMQ_ERR;
    char cerr[256];
    store_put_lock(s);
    mapped_file *f = mapped_queue_last(&s->cl);
    int64_t seg = s->cfg.mappedFileSizeCommitLog;
    if (!f) {
        if (phys_offset % seg != 0) {
            snprintf(err, errlen, "an empty commit log must start at a segment boundary, not %" PRId64, phys_offset);
            goto out;
        }
        if (!mapped_queue_create(&s->cl, phys_offset, cerr, sizeof(cerr))) {
            snprintf(err, errlen, "%s", cerr);
            goto out;
        }
        pthread_mutex_lock(&s->dispatch_lock);
        s->dispatched_upto = phys_offset;
        atomic_store(&s->dispatched, phys_offset);
        atomic_store(&s->put_end, phys_offset);
        pthread_mutex_unlock(&s->dispatch_lock);
        f = mapped_queue_last(&s->cl);
    } else if (phys_offset != f->from + atomic_load(&f->wrote)) {
        snprintf(err, errlen, "offset %" PRId64 " is not the commit log end %" PRId64, phys_offset,
                 f->from + atomic_load(&f->wrote));
        goto out;
    } else if (atomic_load(&f->wrote) == f->size) {
        mapped_file_unref(f);
        if (!mapped_queue_create(&s->cl, phys_offset, cerr, sizeof(cerr))) {
            f = NULL;
            snprintf(err, errlen, "%s", cerr);
            goto out;
        }
        f = mapped_queue_last(&s->cl);
    }
    int64_t wrote = atomic_load(&f->wrote);
    if ((int64_t)len > f->size - wrote) {
        snprintf(err, errlen, "%zu bytes at %" PRId64 " cross the segment end", len, phys_offset);
        goto out;
    }
    memcpy(f->base + wrote, data, len);
    atomic_store_explicit(&f->wrote, wrote + (int64_t)len, memory_order_release);
    /* At once even under SYNC_FLUSH: a slave serves no consumer by default, and when
     * it becomes master its puts must find every queue offset taken so far. */
    ctx.follow = true;
    atomic_store(&s->put_end, f->from + atomic_load(&f->wrote));
    store_dispatch_upto(s, f->from + atomic_load(&f->wrote), &ctx);
    rc = RMQ_OK;
out:
    if (f)
        mapped_file_unref(f);
    store_put_unlock(s);
    store_fire_arrivals(s, &ctx);
    return rc;
}
