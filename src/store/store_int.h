/*
 * store_int: types shared by the store's own files. Not for other modules
 * (they use store.h).
 *
 * Locking order: store.truncate_lock -> store.put_lock -> store.dispatch_lock ->
 * cq_table.lock -> a mapped_queue's lock. store.disp_mu is a leaf (wake-ups only).
 * A consume_queue pointer is only used while cq_table.lock is held.
 */
#ifndef RMQ_STORE_INT_H
#define RMQ_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/store.h"

#define OS_PAGE_SIZE 4096

/*
 * SYNC_FLUSH syncs in flight at once. A sync covers what was appended before it
 * began, so overlapping ones keep the latency of a waiting send near one sync even
 * while another is running. On the shared 2-core VM of bench/README.md, threads each
 * appending 1 KiB and calling fdatasync completed 175-433 syncs/s with 1 thread,
 * 1,374-2,885 with 2 and 3,010-4,827 with 4 (the disk and the host merge flushes).
 */
#define GROUP_COMMIT_THREADS 4

/* Raises *a to v unless it is already higher (flushers may finish out of order); returns
 * the value after. */
static inline int64_t atomic_max(_Atomic int64_t *a, int64_t v)
{
    int64_t cur = atomic_load(a);
    while (cur < v && !atomic_compare_exchange_weak(a, &cur, v)) {
    }
    return cur < v ? v : cur;
}

/* ---- mapped_file.c: one mmap'd segment file and an ordered queue of them ---- */

struct mapped_file {
    char *path;
    int fd;
    uint8_t *base;
    int64_t size;
    int64_t from;                      /* offset of byte 0; also the file name */
    _Atomic int64_t wrote;             /* bytes written and readable */
    _Atomic int64_t flushed;           /* bytes known durable */
    _Atomic int64_t last_store_ts;     /* commit log: store time of the last record */
    _Atomic int refs;                  /* the queue holds one; readers one each */
    /* An msync failed. Linux reports a writeback error once and leaves the pages clean
     * but not on the disk, so a later msync would return 0 without writing them: only
     * mapped_file_repair clears this. */
    _Atomic bool flush_failed;
    /* Sync slots (commit log under SYNC_FLUSH): a mapping (PROT_READ) of the file through
     * a descriptor of its own for each concurrent flusher. Linux reports a writeback
     * error once per open file description; two flushers syncing through one
     * description could see it reported to one while the other returns 0 for the same
     * pages. With its own description each flusher sees every error. */
    uint8_t *saved;                    /* mapped_file_repair: the bytes to write again */
    int64_t saved_start, saved_len;
    int sync_slots;
    int sync_fd[GROUP_COMMIT_THREADS];
    uint8_t *sync_base[GROUP_COMMIT_THREADS];
};

/* Maps PATH of exactly size bytes; create makes a new zeroed file (blocks
 * preallocated when asked), replacing any file of that name. */
/*
 * The files of DIR named by exactly DIGITS decimal digits (segments: 20, index
 * files: 17), sorted; caller frees each name and the array. *count = -1 with err
 * on failure; a missing directory is empty.
 */
char **store_list_files(const char *dir, size_t digits, int *count, char *err, size_t errlen);

mapped_file *mapped_file_open(const char *path, int64_t from, int64_t size, bool create,
                              bool preallocate, char *err, size_t errlen);
void mapped_file_ref(mapped_file *f);
/* Unmaps and frees at the last reference. */
void mapped_file_unref(mapped_file *f);
/* Gives f n sync slots (see struct mapped_file); RMQ_ERR with a reason. */
int mapped_file_add_sync_slots(mapped_file *f, int n, char *err, size_t errlen);
/*
 * After a failed flush: writes what f holds past its flushed position to the disk again
 * and syncs it (see mapped_file.c); nothing may append to f meanwhile, and no two repair
 * one file at once. RMQ_OK clears flush_failed and moves the flushed position.
 */
int mapped_file_repair(mapped_file *f);
/* msync of the unflushed written range when >= least_pages dirty (0 = any), through
 * sync slot `slot` when f has it (else the main mapping). RMQ_ERR with errno set when
 * the sync failed (nothing counts as flushed then). */
int mapped_file_flush(mapped_file *f, int least_pages, int slot);
/* Last-modified time in ms. */
int64_t mapped_file_mtime(const mapped_file *f);
/* Zeroes [pos, pos+len) where not already zero (drops stale bytes past a truncation). */
void mapped_file_zero_range(mapped_file *f, int64_t pos, int64_t len);

typedef struct mapped_queue {
    char *dir;
    int64_t file_size;
    bool preallocate;
    pthread_rwlock_t lock;             /* guards files/count */
    mapped_file **files;
    int count;
    int cap;
    _Atomic int64_t flushed_where;
    _Atomic int flush_errno;           /* errno of the failed flush at flushed_where, 0 when none */
    int sync_slots;                    /* given to every file (set before load) */
} mapped_queue;

void mapped_queue_init(mapped_queue *q, const char *dir, int64_t file_size, bool preallocate);
/* Maps every 20-digit-named file in dir, sorted; RMQ_ERR when a size does not match. */
int mapped_queue_load(mapped_queue *q, char *err, size_t errlen);
void mapped_queue_free(mapped_queue *q);
/* The file holding offset, referenced, or NULL. */
mapped_file *mapped_queue_find(mapped_queue *q, int64_t offset);
mapped_file *mapped_queue_first(mapped_queue *q);   /* referenced, or NULL */
mapped_file *mapped_queue_last(mapped_queue *q);    /* referenced, or NULL */
/* Creates and appends the file starting at from; not referenced for the caller. */
mapped_file *mapped_queue_create(mapped_queue *q, int64_t from, char *err, size_t errlen);
int64_t mapped_queue_min_offset(mapped_queue *q);   /* -1 when empty */
int64_t mapped_queue_max_offset(mapped_queue *q);   /* end of written data, 0 when empty */
/* Sets the write end to offset: later files are deleted, stale bytes zeroed up to stale_len. */
void mapped_queue_truncate(mapped_queue *q, int64_t offset, int64_t stale_len);
/* Flushes from flushed_where to the end; returns the new flushed_where. A failed sync
 * stops there and sets flush_errno (the caller clears it once the file is repaired). */
int64_t mapped_queue_flush(mapped_queue *q, int least_pages, int slot);
/* Unlinks the first file (never the last one); its mapping lives on while referenced. */
void mapped_queue_delete_first(mapped_queue *q);
/* Deletes the whole directory's files. */
void mapped_queue_destroy_all(mapped_queue *q);

/* ---- commitlog.c: record framing over a mapped_queue ---- */

typedef enum { REC_OK, REC_BLANK, REC_INCOMPLETE, REC_INVALID } record_check;

/* Checks the record at p with avail bytes readable (CommitLog.checkMessageAndReturnSize). */
record_check commitlog_check_record(const uint8_t *p, int64_t avail, bool check_crc, msg_record *rec);

typedef void (*record_visitor)(void *arg, mapped_file *f, const uint8_t *record, const msg_record *rec);
/*
 * Walks records from offset `from` up to `limit` (exclusive end of readable
 * data, or INT64_MAX to trust the files), skipping blank file ends. Returns
 * the offset after the last good record.
 */
int64_t commitlog_scan(mapped_queue *cl, int64_t from, int64_t limit, bool check_crc,
                       record_visitor visit, void *arg);
/* The size bytes at offset, referenced, if written. */
int commitlog_get(mapped_queue *cl, int64_t offset, uint32_t size, store_slice *out);
/* CommitLog.pickupStoreTimestamp: -1 when not readable. */
int64_t commitlog_store_timestamp(mapped_queue *cl, int64_t offset, uint32_t size);

/* ---- consume_queue.c ---- */

#define CQ_UNIT_SIZE 20

typedef struct consume_queue {
    char *topic;
    int32_t queue_id;
    mapped_queue q;
    _Atomic int64_t min_logic_offset;  /* bytes */
    int64_t max_physic_offset;         /* end of the last record dispatched here */
    int64_t next_queue_offset;         /* topicQueueTable entry; under put_lock */
    struct consume_queue *next;        /* hash chain */
} consume_queue;

typedef struct cq_table {
    char *root;                        /* <store>/consumequeue */
    int64_t file_size;
    pthread_rwlock_t lock;
    consume_queue **buckets;
    int nbuckets;
    int count;
    /* Removed queues keep their (file-less) struct until the table is
     * freed, so threads holding a cq_list snapshot never see freed memory. */
    consume_queue *removed;
} cq_table;

void cq_table_init(cq_table *t, const char *root, int64_t file_size);
/* Loads every <topic>/<queueId> directory and recovers each queue. */
int cq_table_load(cq_table *t, char *err, size_t errlen);
void cq_table_free(cq_table *t);
/* Under t->lock (read or write). */
consume_queue *cq_find(cq_table *t, const char *topic, int32_t queue_id);
/* Takes and releases the write lock itself; call without holding t->lock. */
void cq_ensure(cq_table *t, const char *topic, int32_t queue_id);
/* Unlinks the queue from the table and deletes its files; call with the write lock held. */
void cq_remove(cq_table *t, consume_queue *cq);
/* Snapshot of all queues (under the read lock); caller frees the array. */
consume_queue **cq_list(cq_table *t, int *n);

int64_t cq_min_offset(consume_queue *cq);
int64_t cq_max_offset(consume_queue *cq);
/* putMessagePositionInfo: writes the entry for queue_offset (skipping repeats). */
int cq_put(consume_queue *cq, int64_t phys, int32_t size, int64_t tags_code, int64_t queue_offset);
/* getIndexBuffer: entries from queue_offset to the end of its file, referenced. */
int cq_entries(consume_queue *cq, int64_t queue_offset, store_slice *out);
/* Drops entries pointing at or past phys_end. */
void cq_truncate_dirty(consume_queue *cq, int64_t phys_end);
void cq_correct_min_offset(consume_queue *cq, int64_t phys_min);
/* Deletes files (never the last) whose last entry is below phys_min. */
void cq_delete_expired(consume_queue *cq, int64_t phys_min);
/* Physical offset in the last entry, -1 when empty (getLastOffset). */
int64_t cq_last_phys_offset(consume_queue *cq);
int64_t cq_offset_by_time(consume_queue *cq, mapped_queue *cl, int64_t timestamp);
/* Entry at queue_offset; RMQ_ERR when not written. */
int cq_read_entry(consume_queue *cq, int64_t queue_offset, int64_t *phys, int32_t *size, int64_t *tags);

/* ---- index_file.c: IndexService ---- */

typedef struct index_service {
    char *dir;
    int32_t hash_slots;
    int32_t index_num;
    int64_t last_file_ms;              /* name time of the newest file */
    pthread_rwlock_t lock;             /* guards files/count */
    mapped_file **files;
    int count;
    int cap;
} index_service;

void index_init(index_service *ix, const char *dir, int32_t hash_slots, int32_t index_num);
int index_load(index_service *ix, char *err, size_t errlen);
void index_free(index_service *ix);
/* buildIndex for one record (caller holds put_lock). now_ms names new files. */
void index_build(index_service *ix, const msg_record *rec, int64_t now_ms);
void index_query(index_service *ix, const char *topic, const char *key, int max,
                 int64_t begin, int64_t end, store_query_result *out);
void index_flush(index_service *ix);
void index_delete_expired(index_service *ix, int64_t phys_min);

/* ---- checkpoint.c: StoreCheckpoint ---- */

typedef struct checkpoint {
    mapped_file *f;
} checkpoint;

int checkpoint_open(checkpoint *c, const char *path, char *err, size_t errlen);
void checkpoint_close(checkpoint *c);
int64_t checkpoint_get(const checkpoint *c, int field);
void checkpoint_set(checkpoint *c, int field, int64_t ts);
void checkpoint_flush(checkpoint *c);
/* getMinTimestampIndex: min of the three, less 3 s, floored at 0. */
int64_t checkpoint_min_timestamp(const checkpoint *c);
enum { CKPT_PHYSIC = 0, CKPT_LOGICS = 8, CKPT_INDEX = 16 };

/* ---- store.c, store_flush.c, store_clean.c, store_read.c: the facade ---- */

#define SCHEDULE_TOPIC "SCHEDULE_TOPIC_XXXX"

typedef struct arrival {
    mapped_file *file;                 /* keeps props readable */
    char topic[MSG_MAX_TOPIC_LEN + 1];
    int32_t queue_id;
    int64_t queue_offset;
    int64_t tags_code;
    const char *props;
    uint32_t props_len;
    int64_t store_ts;
} arrival;

typedef struct dispatch_ctx {
    store *s;
    bool collect;                      /* remember arrivals for the hook */
    bool follow;                       /* queue offsets come from the records (HA) */
    arrival *items;
    int count;
    int cap;
} dispatch_ctx;

typedef struct flush_waiter {
    int64_t offset;
    int64_t deadline;                  /* mono ms */
    store_flush_cb cb;
    void *arg;
    struct flush_waiter *next;
} flush_waiter;

struct store {
    store_config cfg;
    char *root;
    char *abort_path;
    int lock_fd;
    mapped_queue cl;
    cq_table cqs;
    index_service idx;
    checkpoint ckpt;
    int64_t delay_ms[MSG_MAX_DELAY_LEVELS];
    int delay_levels;
    int64_t memory_for_hot_data;       /* accessMessageInMemoryMaxRatio of RAM */

    pthread_mutex_t put_lock;
    /* Flushes and cleaning passes hold it to read; a truncation while the store
     * runs (store_truncate.c) holds it to write, so none sees the log shrink. */
    pthread_rwlock_t truncate_lock;
    _Atomic int64_t put_lock_since;    /* 0 when free */
    /* Dispatch (consume queues, index, arrivals) runs under dispatch_lock, taken after
     * put_lock when both are held. ASYNC_FLUSH dispatches each put at once; SYNC_FLUSH
     * only what a sync covered (Apache #8239: a consumer must never read a message a
     * crash could still take away), from the group-commit threads. */
    pthread_mutex_t dispatch_lock;
    bool defer_dispatch;               /* SYNC_FLUSH */
    int64_t dispatched_upto;           /* reput offset; under dispatch_lock */
    _Atomic int64_t dispatched;        /* the same, readable without the lock */
    /* Controller mode with allAckInSyncStateSet (store_set_confirm_offset): no dispatch past
     * it, -1 when there is no such limit. */
    _Atomic int64_t confirm_gate;
    _Atomic int64_t last_dispatch_ts;
    /* End of the bytes puts (and HA appends) published; set under put_lock, cut back
     * by a truncation. The dispatcher thread's limit. */
    _Atomic int64_t put_end;
    /* Dispatcher thread (store_dispatch.c): puts leave dispatch to it while on. */
    _Atomic bool dispatcher_on;
    _Atomic uint64_t put_seq;          /* bumped by each put: new work */
    _Atomic bool disp_sleeping;
    pthread_mutex_t disp_mu;           /* disp_stop; pairs with disp_cv */
    pthread_cond_t disp_cv;
    bool disp_stop;
    pthread_t disp_thread;
    /* Arrivals dispatched but not yet given to the hook, in commit-log order; under
     * dispatch_lock. Only the dispatcher thread fires them, so the hook sees them in
     * that order on one thread. */
    dispatch_ctx pending;
    _Atomic bool shutdown;
    _Atomic bool disk_full;
    _Atomic int manual_delete;
    int64_t last_clean_phys_min;       /* retention thread only */

    store_arrival_cb arrival_cb;
    void *arrival_arg;

    pthread_mutex_t flush_mu;          /* waiters ... stopping */
    pthread_cond_t flush_cv;
    flush_waiter *waiters;
    int64_t waiter_max;                /* highest offset a waiter asked for */
    int64_t sync_claimed;              /* SYNC_FLUSH: end covered by the newest sync started */
    bool flush_requested;
    bool stopping;
    int n_threads;                     /* started */
    _Atomic int next_slot;             /* sync slot of the next group-commit thread */
    bool repair_refused;               /* under put_lock: the unflushed tail is damaged */
    pthread_t threads[2 + GROUP_COMMIT_THREADS]; /* queue flush, retention, commit log */

    _Atomic int64_t put_times, put_size, get_found, get_miss, get_transferred;
    /* StoreStatsService's put and get timing (ms): maxima, failures, putMessageDistributeTime's
     * 13 ranges and the finer buckets its putLatency99/999 are read from, since start. */
    _Atomic int64_t put_time_max, get_time_max, put_failed;
    _Atomic int64_t put_dist[STORE_PUT_DIST_RANGES];
    _Atomic int64_t put_buckets[STORE_PUT_TIME_BUCKETS];
};

/* ---- store_dispatch.c ---- */

/* record_visitor: one record into its consume queue and the index. */
void store_dispatch_record(void *arg, mapped_file *f, const uint8_t *record, const msg_record *rec);
/* Dispatches the records written past dispatched_upto and ending by limit (-1: by the
 * flushed offset, read under the lock so that a truncation cannot slip in between). */
void store_dispatch_upto(store *s, int64_t limit, dispatch_ctx *ctx);
/* Runs the arrival hook for what ctx collected, outside the locks; empties ctx. */
void store_fire_arrivals(store *s, dispatch_ctx *ctx);
/* Wakes the dispatcher thread after a put published its bytes (put_lock released). */
void store_dispatch_kick(store *s);
/* The dispatcher thread (ASYNC_FLUSH only; SYNC_FLUSH dispatches on its group-commit
 * threads). Stop dispatches what it left. */
int store_dispatch_start(store *s);
void store_dispatch_stop(store *s);
/* A reader about to look at consume queues or the index: dispatches whatever a put
 * published and the dispatcher has not reached yet, so a put that returned is visible
 * to every read that starts after it (as when puts dispatched inline). */
void store_dispatch_catch_up(store *s);

/* Now in ms from the configured clock (cfg.clock_ms, else the wall clock). */
int64_t store_now(const store *s);
/* Takes put_lock and notes when (for store_os_page_cache_busy). */
void store_put_lock(store *s);
void store_put_unlock(store *s);
/* Sleeps up to ms on flush_cv unless woken; returns false once stopping. Holds flush_mu. */
bool store_nap(store *s, int ms, bool wake_on_request);
/* Flushes the commit log (through sync slot `slot`, -1 = the main mapping); records the
 * checkpoint time when all was covered. */
void store_flush_commitlog(store *s, int least_pages, int slot);
/* SYNC_FLUSH: dispatches what the commit log's syncs cover (no-op otherwise). */
void store_dispatch_flushed(store *s);
/* Completes covered waiters, and the expired ones (all when final). */
void store_complete_waiters(store *s, bool final);
/* Flushes queues and index; a thorough flush (least_pages 0) moves the checkpoint. */
void store_flush_logic(store *s, int least_pages);
/* Thread mains started by store_start: commit log flush (ASYNC_FLUSH) or group
 * commit (SYNC_FLUSH, GROUP_COMMIT_THREADS of them), queue flush, retention. */
void *store_flush_main(void *arg);
void *store_group_commit_main(void *arg);
void *store_logic_flush_main(void *arg);
void *store_clean_main(void *arg);

/* getMessageEntireTimeMax: one get's time (ms). */
void store_record_get_time(store *s, int64_t ms);

#endif
