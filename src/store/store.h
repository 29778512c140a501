/*
 * store: the message store — Apache RocketMQ 4.9.8's DefaultMessageStore
 * with byte-compatible files (commitlog, consumequeue, index, checkpoint,
 * abort, lock; docs/store.md). It knows nothing of the
 * network. This header is the only door into the module.
 *
 * Threads: store_put / store_append_raw may be called from any thread
 * (appends serialise on one lock); reads run concurrently with appends.
 * store_start adds threads of its own: commit-log flush (or the group-commit
 * threads under SYNC_FLUSH), consume-queue/index flush, retention, and under
 * ASYNC_FLUSH the dispatcher, which moves appended records into consume queues
 * and the index (and calls the arrival hook) while the appending thread returns
 * at once. Every read of queues or the index first finishes what the dispatcher
 * has not reached, so a put that returned is visible to any later read.
 */
#ifndef RMQ_STORE_H
#define RMQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/message.h"

typedef enum { STORE_ASYNC_FLUSH, STORE_SYNC_FLUSH } store_flush_type;
typedef enum { STORE_ASYNC_MASTER, STORE_SYNC_MASTER, STORE_SLAVE } store_broker_role;

#define STORE_PATH_MAX 512

/* MessageStoreConfig; field names are Apache's so broker.conf keys map 1:1. */
typedef struct store_config {
    char storePathRootDir[STORE_PATH_MAX];
    char storePathCommitLog[STORE_PATH_MAX];      /* "" = <root>/commitlog */
    int64_t mappedFileSizeCommitLog;              /* 1 GiB */
    int32_t mappedFileSizeConsumeQueue;           /* 300000*20, rounded up to 20 */
    store_flush_type flushDiskType;
    store_broker_role brokerRole;
    int flushIntervalCommitLog;                   /* ms, 500 */
    int flushCommitLogLeastPages;                 /* 4 */
    int flushCommitLogThoroughInterval;           /* ms, 10000 */
    int flushIntervalConsumeQueue;                /* ms, 1000 */
    int flushConsumeQueueLeastPages;              /* 2 */
    int flushConsumeQueueThoroughInterval;        /* ms, 60000 */
    int syncFlushTimeout;                         /* ms, 5000 (the broker passes it) */
    int fileReservedTime;                         /* hours, 72 */
    char deleteWhen[64];                          /* "04": hours of day, ';'-separated */
    int diskMaxUsedSpaceRatio;                    /* percent, 75 */
    double diskSpaceCleanForciblyRatio;           /* 0.85 */
    double diskSpaceWarningLevelRatio;            /* 0.90: puts refused above */
    bool cleanFileForciblyEnable;                 /* true */
    int cleanResourceInterval;                    /* ms, 10000 */
    int deleteCommitLogFilesInterval;             /* ms between deletions, 100 */
    bool checkCRCOnRecover;                       /* true */
    int32_t maxMessageSize;                       /* body limit, 4 MiB */
    int32_t maxHashSlotNum;                       /* 5,000,000 */
    int32_t maxIndexNum;                          /* 20,000,000 */
    bool messageIndexEnable;                      /* true */
    int maxMsgsNumBatch;                          /* query-by-key cap, 64 */
    int maxTransferBytesOnMessageInMemory;        /* 256 KiB */
    int maxTransferCountOnMessageInMemory;        /* 32 */
    int maxTransferBytesOnMessageInDisk;          /* 64 KiB */
    int maxTransferCountOnMessageInDisk;          /* 8 */
    int accessMessageInMemoryMaxRatio;            /* percent of RAM, 40 */
    bool offsetCheckInSlave;                      /* false */
    int osPageCacheBusyTimeOutMills;              /* 1000 */
    char messageDelayLevel[256];                  /* "1s 5s 10s 30s 1m ... 2h" */
    msg_host storeHost;                           /* STOREHOST and offset msgIds */

    /* Injectable for tests; NULL = wall clock / statvfs of the path. */
    int64_t (*clock_ms)(void *arg);
    double (*disk_used_ratio)(const char *path, void *arg);
    void *hook_arg;
} store_config;

/* Apache's defaults; root defaults to $HOME/store. */
void store_config_defaults(store_config *cfg);

typedef struct store store;
/* A mapped commit-log segment kept alive by a reference (opaque). */
typedef struct mapped_file mapped_file;

/*
 * Opens the store: creates dirs, takes the lock file, loads and recovers
 * (normal or abnormal after a crash, told by the abort file) and creates
 * abort. NULL with a reason in err on failure (e.g. another process or
 * store holds the lock).
 */
store *store_open(const store_config *cfg, char *err, size_t errlen);
/* Starts the flush, consume-queue flush and retention threads. */
int store_start(store *s);
/* Stops threads, flushes everything, writes the checkpoint, deletes abort, unlocks, frees. */
void store_close(store *s);

/* ---- put ---- */

typedef struct store_msg {
    const char *topic;                 /* NUL-terminated, <= 127 bytes */
    int32_t queue_id;
    int32_t flag;
    int32_t sysflag;                   /* host bits are set by the store */
    int64_t born_timestamp;
    msg_host born_host;
    int32_t reconsume_times;
    int64_t prepared_tx_offset;
    const uint8_t *body;
    uint32_t body_len;
    const char *props;                 /* final properties string */
    uint32_t props_len;
} store_msg;

typedef enum {
    STORE_PUT_OK,
    STORE_PUT_MESSAGE_ILLEGAL,
    STORE_PUT_PROPERTIES_SIZE_EXCEEDED,
    STORE_PUT_SERVICE_NOT_AVAILABLE,
    STORE_PUT_CREATE_MAPPED_FILE_FAILED,
    STORE_PUT_UNKNOWN_ERROR,
} store_put_status;

typedef struct store_put_entry {
    int64_t phys_offset;
    int32_t size;
    int64_t queue_offset;
    int64_t store_timestamp;
    char msg_id[MSG_ID_MAX_LEN + 1];   /* offset msgId */
} store_put_entry;

typedef struct store_put_result {
    store_put_status status;
    const char *reason;                /* static text, NULL when OK */
    store_put_entry *entries;          /* caller-provided, one per message */
    int64_t end_offset;                /* wait for this with store_wait_flush */
} store_put_result;

/*
 * Appends one message, or a batch (n > 1, stored contiguously in one
 * segment), under one lock: assigns queue offsets, store time, physical
 * offsets and body CRCs, dispatches to consume queues and the index, then
 * calls the arrival hook (outside the lock). res->entries must point to n
 * entries. Returns res->status.
 */
store_put_status store_put(store *s, const store_msg *msgs, int n, store_put_result *res);

/*
 * Group commit: cb(arg, true) runs on the flush thread once an fsync covers
 * end_offset, cb(arg, false) once timeout_ms passed first. Never calls cb
 * from inside this function.
 */
typedef void (*store_flush_cb)(void *arg, bool flushed);
void store_wait_flush(store *s, int64_t end_offset, int timeout_ms, store_flush_cb cb, void *arg);

/*
 * Called after each record reaches a consume queue, outside the store's locks
 * (it may call back into the store): once the store runs, on the dispatcher
 * thread, one record after the other in commit-log order (ASYNC_FLUSH), or on a
 * group-commit thread (SYNC_FLUSH); on the appending thread before store_start
 * and for HA appends.
 * queue_offset is the record's own offset; the queue's max is queue_offset+1.
 */
typedef void (*store_arrival_cb)(void *arg, const char *topic, int32_t queue_id, int64_t queue_offset,
                                 int64_t tags_code, const char *props, uint32_t props_len,
                                 int64_t store_timestamp);
void store_set_arrival_cb(store *s, store_arrival_cb cb, void *arg);

/*
 * CommitLog.getConfirmOffset in controller mode with allAckInSyncStateSet: consume
 * queues (and so consumers) take records only up to CONFIRM, what every member of the
 * SyncStateSet has, and catch up to it at once when it moves. A consumer thus never reads
 * past a record that a failover to another member could take away, after which it would
 * skip what the new master stores at the same queue offsets. -1: no limit (a master
 * alone in its set, a slave, every other mode). Any thread.
 */
void store_set_confirm_offset(store *s, int64_t confirm);

/* ---- get ---- */

/* GetMessageStatus, same names and meaning. */
typedef enum {
    STORE_GET_FOUND,
    STORE_GET_NO_MATCHED_MESSAGE,
    STORE_GET_MESSAGE_WAS_REMOVING,
    STORE_GET_OFFSET_FOUND_NULL,
    STORE_GET_OFFSET_OVERFLOW_BADLY,
    STORE_GET_OFFSET_OVERFLOW_ONE,
    STORE_GET_OFFSET_TOO_SMALL,
    STORE_GET_NO_MATCHED_LOGIC_QUEUE,  /* never produced: like Apache, an unknown queue reads as empty */
    STORE_GET_NO_MESSAGE_IN_QUEUE,
} store_get_status;

const char *store_get_status_name(store_get_status st);

/* Bytes inside a mapped segment, valid until released (any thread). */
typedef struct store_slice {
    const uint8_t *data;
    uint32_t len;
    int64_t phys_offset;
    mapped_file *file;                 /* the reference */
} store_slice;
void store_slice_release(store_slice *sl);

/* MessageFilter: NULL callbacks match everything. */
typedef struct store_filter {
    bool (*by_tags_code)(void *arg, int64_t tags_code);
    bool (*by_record)(void *arg, const uint8_t *record, uint32_t len);
    void *arg;
} store_filter;

typedef struct store_get_result {
    store_get_status status;
    int64_t next_begin_offset;
    int64_t min_offset;
    int64_t max_offset;                /* exclusive */
    bool suggest_pulling_from_slave;
    int count;
    uint32_t total_bytes;
    store_slice *msgs;                 /* count records, pointers into segments */
} store_get_result;

/*
 * DefaultMessageStore.getMessage. RMQ_ERR when the store is shutting down
 * (Apache returns null). On RMQ_OK the result must be released.
 */
int store_get_messages(store *s, const char *group, const char *topic, int32_t queue_id,
                       int64_t offset, int max_msgs, const store_filter *filter,
                       store_get_result *res);
/* Drops the references and frees the array; callable from any thread. */
void store_get_result_release(store_get_result *res);

/* ---- lookups ---- */

int64_t store_min_offset_in_queue(store *s, const char *topic, int32_t queue_id);
int64_t store_max_offset_in_queue(store *s, const char *topic, int32_t queue_id);  /* exclusive */
/* ConsumeQueue.getOffsetInQueueByTime: approximate (closest store time), 0 if none. */
int64_t store_offset_by_time(store *s, const char *topic, int32_t queue_id, int64_t timestamp);
int64_t store_earliest_message_time(store *s, const char *topic, int32_t queue_id);  /* -1 if none */
int64_t store_message_store_time(store *s, const char *topic, int32_t queue_id, int64_t queue_offset);
/* The whole record at a commit-log offset (VIEW_MESSAGE_BY_ID). RMQ_ERR if absent. */
int store_get_record(store *s, int64_t phys_offset, store_slice *out);

/* QUERY_MESSAGE through the index; max is capped at maxMsgsNumBatch. */
typedef struct store_query_result {
    int64_t offsets[256];
    int count;
    int64_t index_last_update_timestamp;
    int64_t index_last_update_phy_offset;
} store_query_result;
void store_query_by_key(store *s, const char *topic, const char *key, int max,
                        int64_t begin, int64_t end, store_query_result *out);

int64_t store_commitlog_min_offset(store *s);
int64_t store_commitlog_max_offset(store *s);
/* How far the commit log is known durable (max - this = rocketmq_storage_flush_behind_bytes). */
int64_t store_commitlog_flushed_offset(store *s);

/* Calls cb for every consume queue present (on a snapshot; cb may call the store). */
void store_foreach_queue(store *s, void (*cb)(void *arg, const char *topic, int32_t queue_id), void *arg);
/* DefaultMessageStore.deleteTopics for one topic: drops its consume queues. */
void store_delete_topic(store *s, const char *topic);
/* cleanExpiredConsumerQueue: drops queues whose every entry is below the commit-log min. */
void store_clean_expired_consume_queues(store *s);

#define STORE_PUT_DIST_RANGES 13
#define STORE_PUT_TIME_BUCKETS 76

typedef struct store_stats {
    int64_t put_message_entire_time_max, get_message_entire_time_max, put_message_failed_times;
    int64_t put_distribute[STORE_PUT_DIST_RANGES];   /* [<=0ms] [0~10ms] ... [10s~] */
    double put_latency_99, put_latency_999;           /* ms, interpolated within the buckets */
    int64_t put_message_times_total;
    int64_t put_message_size_total;
    int64_t get_message_times_total_found;
    int64_t get_message_times_total_miss;
    int64_t get_message_transfered_msg_count;
} store_stats;
void store_get_stats(store *s, store_stats *out);
/* Used share of the commit-log partition, 0..1. */
double store_disk_used_ratio(store *s);
/* isOSPageCacheBusy: the append lock is held longer than osPageCacheBusyTimeOutMills. */
bool store_os_page_cache_busy(store *s);

/* ---- retention ---- */

/* One pass of CleanCommitLogService + CleanConsumeQueueService (the thread runs it too). */
void store_run_clean(store *s);
/* executeDeleteFilesManually: the next 20 passes delete expired files regardless of the hour. */
void store_delete_files_manually(store *s);

/* ---- HA ---- */

/*
 * Slave side: appends commit-log bytes from a master at exactly the current
 * end (or at a segment start on an empty store) and dispatches every
 * complete record. RMQ_ERR with a reason on an offset mismatch.
 */
int store_append_raw(store *s, int64_t phys_offset, const uint8_t *data, size_t len,
                     char *err, size_t errlen);
/*
 * Controller mode: drops the commit log from OFFSET (a record boundary) on, and
 * the consume-queue entries pointing there; before store_start or while the
 * store runs (flushes, cleaning and puts wait meanwhile). A slice read
 * before must not be used after. RMQ_ERR when OFFSET is before the log's
 * start or not where a record starts.
 */
int store_truncate(store *s, int64_t offset, char *err, size_t errlen);
/*
 * Master side: up to max bytes of commit log from phys_offset within one
 * segment. RMQ_OK, RMQ_AGAIN when nothing is written there yet, RMQ_ERR
 * when the offset is not in the store.
 */
int store_read_raw(store *s, int64_t phys_offset, uint32_t max, store_slice *out);

#endif
