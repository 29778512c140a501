/*
 * store_clean: retention — expired commit log segments (time, disk ratio,
 * manual deletes), the queue and index files behind them, and removal of
 * whole consume queues (expired or of a deleted topic).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

#define DELETE_FILES_BATCH_MAX 10
#define MANUAL_DELETE_TIMES 20

/* ---- retention ---- */

static double used_ratio(store *s, const char *path)
{
    if (s->cfg.disk_used_ratio)
        return s->cfg.disk_used_ratio(path, s->cfg.hook_arg);
    struct statvfs st;
    if (statvfs(path, &st) != 0 || st.f_blocks == 0)
        return -1;
    return (double)(st.f_blocks - st.f_bfree) / (double)st.f_blocks;
}

double store_disk_used_ratio(store *s)
{
    return used_ratio(s, s->cl.dir);
}

/* UtilAll.isItTimeToDo */
static bool is_time_to_delete(const char *when, int64_t now)
{
    time_t sec = (time_t)(now / 1000);
    struct tm tm;
    localtime_r(&sec, &tm);
    const char *p = when;
    while (*p) {
        char *end;
        long hour = strtol(p, &end, 10);
        if (end != p && hour == tm.tm_hour)
            return true;
        p = strchr(p, ';');
        if (!p)
            break;
        p++;
    }
    return false;
}

/* CleanCommitLogService.isSpaceToDelete; also raises and clears DISK_FULL. */
static bool is_space_to_delete(store *s, bool *clean_now)
{
    double physic = used_ratio(s, s->cl.dir), logics = used_ratio(s, s->cqs.root);
    double ratio = physic > logics ? physic : logics;
    *clean_now = false;
    if (ratio > s->cfg.diskSpaceWarningLevelRatio) {
        if (!atomic_exchange(&s->disk_full, true))
            log_error("store", "disk maybe full soon (%.2f), so mark disk full", ratio);
        *clean_now = true;
    } else {
        if (ratio > s->cfg.diskSpaceCleanForciblyRatio)
            *clean_now = true;
        if (atomic_exchange(&s->disk_full, false))
            log_info("store", "disk space OK (%.2f), so mark disk ok", ratio);
    }
    return physic < 0 || ratio > s->cfg.diskMaxUsedSpaceRatio / 100.0;
}

/* CleanCommitLogService.deleteExpiredFiles */
static void delete_expired_commitlog(store *s, bool sleep_between)
{
    bool clean_now;
    bool space = is_space_to_delete(s, &clean_now);
    bool time_up = is_time_to_delete(s->cfg.deleteWhen, store_now(s));
    int manual = atomic_load(&s->manual_delete);
    if (!time_up && !space && manual <= 0)
        return;
    if (manual > 0)
        atomic_fetch_sub(&s->manual_delete, 1);
    bool at_once = s->cfg.cleanFileForciblyEnable && clean_now;
    int64_t reserved = (int64_t)s->cfg.fileReservedTime * 3600 * 1000;
    for (int deleted = 0; deleted < DELETE_FILES_BATCH_MAX; deleted++) {
        pthread_rwlock_rdlock(&s->cl.lock);
        bool expired = false;
        if (s->cl.count > 1)           /* never the segment being written */
            expired = at_once || store_now(s) >= mapped_file_mtime(s->cl.files[0]) + reserved;
        pthread_rwlock_unlock(&s->cl.lock);
        if (!expired)
            break;
        mapped_queue_delete_first(&s->cl);
        if (sleep_between && s->cfg.deleteCommitLogFilesInterval > 0)
            usleep((useconds_t)s->cfg.deleteCommitLogFilesInterval * 1000);
    }
}

/* CleanConsumeQueueService */
static void delete_expired_logic(store *s)
{
    int64_t min = mapped_queue_min_offset(&s->cl);
    if (min <= s->last_clean_phys_min)
        return;
    pthread_rwlock_rdlock(&s->cqs.lock);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    for (int i = 0; i < n; i++)
        cq_delete_expired(all[i], min);
    pthread_rwlock_unlock(&s->cqs.lock);
    free(all);
    if (s->cfg.messageIndexEnable)
        index_delete_expired(&s->idx, min);
    s->last_clean_phys_min = min;
}

static void run_clean(store *s, bool sleep_between)
{
    pthread_rwlock_rdlock(&s->truncate_lock);
    delete_expired_commitlog(s, sleep_between);
    delete_expired_logic(s);
    pthread_rwlock_unlock(&s->truncate_lock);
}

void store_run_clean(store *s)
{
    run_clean(s, false);
}

void store_delete_files_manually(store *s)
{
    atomic_store(&s->manual_delete, MANUAL_DELETE_TIMES);
}

void *store_clean_main(void *arg)
{
    store *s = arg;
    pthread_mutex_lock(&s->flush_mu);
    while (store_nap(s, s->cfg.cleanResourceInterval, false)) {
        pthread_mutex_unlock(&s->flush_mu);
        run_clean(s, true);
        pthread_mutex_lock(&s->flush_mu);
    }
    pthread_mutex_unlock(&s->flush_mu);
    return NULL;
}

/* ---- queue removal ---- */

/* Removes the queues doomed() picks; appends wait meanwhile. */
static void remove_queues(store *s, bool (*doomed)(store *s, consume_queue *cq, const void *arg), const void *arg)
{
    store_put_lock(s);
    pthread_rwlock_wrlock(&s->cqs.lock);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    for (int i = 0; i < n; i++) {
        if (doomed(s, all[i], arg)) {
            log_info("store", "remove consume queue %s-%d", all[i]->topic, all[i]->queue_id);
            cq_remove(&s->cqs, all[i]);
        }
    }
    free(all);
    pthread_rwlock_unlock(&s->cqs.lock);
    store_put_unlock(s);
}

static bool of_topic(store *s, consume_queue *cq, const void *topic)
{
    (void)s;
    return strcmp(cq->topic, topic) == 0;
}

void store_delete_topic(store *s, const char *topic)
{
    remove_queues(s, of_topic, topic);
}

static bool all_expired(store *s, consume_queue *cq, const void *arg)
{
    (void)arg;
    if (strcmp(cq->topic, SCHEDULE_TOPIC) == 0)
        return false;
    int64_t last = cq_last_phys_offset(cq);
    return last != -1 && last < store_commitlog_min_offset(s);
}

void store_clean_expired_consume_queues(store *s)
{
    remove_queues(s, all_expired, NULL);
}
