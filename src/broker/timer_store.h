/*
 * timer_store: Apache RocketMQ 5.x's timer files under the store root, byte
 * for byte (TimerWheel, TimerLog, TimerCheckpoint in
 * org.apache.rocketmq.store.timer; docs/store.md, "Timer files"):
 *
 *   timerwheel         one 32-byte slot per time slot, a ring of 2 x 7 days
 *   timerlog/<offset>  52-byte units, each naming a parked message by its
 *                      commit-log offset and size, chained per slot
 *   config/timercheck  how far the wheel was read and the timer queue enqueued
 *
 * Only the files: what is pending and when it is due is schedule.c's. Internal
 * to the broker module; everything runs on the broker's event-loop thread.
 */
#ifndef RMQ_BROKER_TIMER_STORE_H
#define RMQ_BROKER_TIMER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_SLOTS_TOTAL (7 * 86400)      /* TIMER_WHEEL_TTL_DAY * DAY_SECS */
#define TIMER_SLOT_SIZE 32
#define TIMER_UNIT_SIZE 52
#define TIMER_MAGIC_DEFAULT 1
#define TIMER_MAGIC_ROLL 2
#define TIMER_MAGIC_DELETE 4
#define TIMERLOG_FILE_SIZE (100 * 1024 * 1024)   /* mappedFileSizeTimerLog */

/* config/timercheck (the first 56 of its 4,096 bytes). */
typedef struct timer_checkpoint {
    int64_t last_read_ms;          /* every slot before it has been delivered */
    int64_t timerlog_flush_pos;    /* end of the timer log when written */
    int64_t queue_offset;          /* rmq_sys_wheel_timer entries below it are in the log */
    int64_t master_queue_offset;   /* the same as the master saw it */
    int64_t state_version, dv_timestamp, dv_counter;   /* DataVersion */
} timer_checkpoint;

/* One timer-log unit as a walk sees it. */
typedef struct timer_unit {
    int32_t magic;
    int64_t delayed_ms;            /* the slot time it was filed under */
    int64_t phys_offset;           /* the parked message in the commit log */
    int32_t size;
} timer_unit;

typedef struct timer_store timer_store;

/*
 * Opens (creating what is missing) the files under ROOT, finds the end of the
 * timer log and, as Apache's recovery does, relinks the wheel slots of units
 * written after the checkpoint. NULL with a reason when a file has a size
 * Apache would refuse too.
 */
timer_store *timer_store_open(const char *root, int32_t precision_ms, char *err, size_t errlen);
void timer_store_close(timer_store *t);

/* The checkpoint read at open; false when there was none (a store without timer files). */
bool timer_store_checkpoint(const timer_store *t, timer_checkpoint *cp);

/* The commit-log offset of the newest unit; false when the log is empty. */
bool timer_store_last_unit(const timer_store *t, timer_unit *u);

/*
 * Appends a unit filed under the slot of DELAYED_MS and links it into that
 * slot (TimerMessageStore.doEnqueue). RMQ_OK or RMQ_ERR (logged).
 */
int timer_store_append(timer_store *t, int64_t now_ms, int32_t magic, int64_t delayed_ms, int64_t phys_offset,
                       int32_t size, int32_t topic_hash);

/* Writes the units appended so far to the log file (appends are gathered). RMQ_OK or RMQ_ERR (logged). */
int timer_store_flush(timer_store *t);

/*
 * Hands every unit filed under a slot from FROM_MS on (the whole ring) to
 * VISIT, newest first within a slot; VISIT returns false to stop.
 */
typedef bool (*timer_unit_fn)(void *ctx, const timer_unit *u);
void timer_store_walk(timer_store *t, int64_t from_ms, timer_unit_fn visit, void *ctx);

/*
 * Syncs the wheel and the log, then writes config/timercheck with CP's read
 * time and queue offsets (the log end is filled in). RMQ_OK or RMQ_ERR.
 */
int timer_store_save(timer_store *t, const timer_checkpoint *cp);

/* Deletes timer-log files whose every unit names a message below MIN_PHYS (retention). */
void timer_store_clean(timer_store *t, int64_t min_phys);

#endif
