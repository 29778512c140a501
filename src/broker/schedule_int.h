/*
 * The schedule service's state, shared by its files: schedule.c (delay
 * levels, the timer heap, its files and checkpoint) and timer_deliver.c (the
 * timer's delivery thread and cancel marks). Internal to the broker module;
 * schedule.h is the door.
 */
#ifndef RMQ_BROKER_SCHEDULE_INT_H
#define RMQ_BROKER_SCHEDULE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "schedule.h"
#include "timer_metrics.h"
#include "timer_store.h"

#define MAX_LEVELS MSG_MAX_DELAY_LEVELS

/* One delay level: queue level-1 of SCHEDULE_TOPIC_XXXX. */
typedef struct delay_level {
    schedule_service *svc;
    int32_t level;               /* 1-based */
    int64_t delay_ms;
    int64_t offset;              /* next queue offset to deliver */
    struct event *timer;
    int64_t due_ms;              /* what the timer is armed for; 0 = idle */
} delay_level;

typedef struct timer_entry {
    int64_t due;                 /* the time asked for (timer_due), never before the store time */
    int64_t offset;              /* queue offset in rmq_sys_wheel_timer */
} timer_entry;

/*
 * A pending timer whose unit lies in a slot before its own (a roll unit, ours
 * or Apache's): before the checkpoint's read time passes that slot it is filed
 * again, or a later start would not find it.
 */
typedef struct refile_entry {
    timer_entry e;
    int64_t slot;                /* where its newest unit is */
} refile_entry;

/* A cancel mark: a parked message whose REAL_TOPIC+UNIQ_KEY is KEY is not delivered. */
typedef struct cancel_mark {
    char *key;                   /* TIMER_DEL_UNIQKEY: "<topic>+<unique key>" */
    int64_t due;                 /* the mark's own due time, to forget it later */
} cancel_mark;

struct schedule_service {
    broker *b;
    delay_level levels[MAX_LEVELS];
    int n_levels;
    struct event *persist_ev;
    bool started;

    timer_entry *heap;
    size_t n_heap, cap_heap;
    struct event *timer_ev;
    int64_t timer_armed_due;     /* 0 = not armed */
    int64_t scanned_upto;        /* every timer offset below is in the heap or delivered */
    timer_entry handed;          /* the last entry handed to the delivery thread (loop only) */
    timer_store *files;          /* timerwheel, timerlog/, config/timercheck */
    int64_t filed_upto;          /* timer offsets below have a unit in the timer log */
    int64_t last_filed;          /* queue offset of the newest unit's message, -1 = none */
    cancel_mark *cancels;        /* TIMER_DEL_UNIQKEY marks seen (recalls are rare: a plain array) */
    size_t n_cancels, cap_cancels;
    pthread_mutex_t cancel_mu;   /* cancels: noted on the loop, taken on the delivery thread */
    int64_t precision;           /* timerPrecisionMs as read at start: the wheel's slot */
    refile_entry *refiles;       /* timers due beyond the roll window (rare: a plain array) */
    size_t n_refiles, cap_refiles;
    timer_metrics *metrics;      /* config/timermetrics */
    int64_t read_floor;          /* the read time the save in progress writes: no roll unit goes below it */
    struct event *file_ev;       /* files arrivals in the timer log soon after they come */
    bool file_armed;
    int64_t file_budget;         /* arrivals the filing pass in progress may still file */

    /* The delivery thread (timer_deliver.c); the queue and the watermark under dq_mu. */
    pthread_t dq_thread;
    bool dq_running, dq_stop;
    pthread_mutex_t dq_mu;
    pthread_cond_t dq_cond;
    timer_entry *dq;             /* ring of entries due and handed over, oldest first */
    size_t dq_head, dq_len;
    timer_entry delivered;       /* watermark: everything ordered at or before it is delivered */
};


/* Orders timers by (due, queue offset): the heap's and the delivery's order. */
bool timer_entry_before(const timer_entry *a, const timer_entry *b);
/* REAL_TOPIC of a parked message as a pointer into PROPS ("" when missing). */
const char *timer_real_topic(const char *props, uint32_t props_len, size_t *len);
bool timer_is_cancel_mark(const char *props, uint32_t props_len);
/* Puts a due message to REAL_TOPIC/REAL_QID: RMQ_OK, RMQ_AGAIN (store refused), RMQ_ERR (skipped). */
int schedule_deliver_record(schedule_service *s, const msg_record *r, const char *what);

/* ---- timer_deliver.c ---- */

void timer_deliver_init(schedule_service *s);
/* Starts the delivery thread. */
void timer_deliver_start(schedule_service *s);
/* Delivers what was handed over, then joins the thread (RMQ_AGAIN ends it early). */
void timer_deliver_stop(schedule_service *s);
void timer_deliver_free(schedule_service *s);
/* Hands a due entry over (loop); false when the queue is full. */
bool timer_deliver_push(schedule_service *s, timer_entry e);
/* The oldest entry handed over and not delivered yet; false when none. */
bool timer_deliver_oldest(schedule_service *s, timer_entry *e);
/* The delivery watermark. */
timer_entry timer_delivered(schedule_service *s);
/* Delivers one parked message now, on the calling thread: RMQ_OK (done, or skipped), RMQ_AGAIN, RMQ_ERR (store closing). */
int timer_deliver_one(schedule_service *s, timer_entry e);
/* Cancel marks (TIMER_DEL_UNIQKEY). */
void cancel_note(schedule_service *s, const char *props, uint32_t props_len, int64_t due);
void cancel_expire(schedule_service *s, int64_t now);

#endif
