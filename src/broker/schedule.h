/*
 * schedule: delayed delivery, internal to the broker module.
 *
 *  - Delay levels (Apache's ScheduleMessageService): a message stored in
 *    SCHEDULE_TOPIC_XXXX queue level-1 is put to its REAL_TOPIC/REAL_QID once
 *    its store time plus the level's delay has passed. Progress per level is
 *    delayOffset.json. Each level has one timer armed for the exact due time
 *    of its next message; a level with nothing pending sleeps until the
 *    store's arrival hook reports an append to its queue.
 *  - Arbitrary delays (5.x TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS):
 *    the send path parks the message in rmq_sys_wheel_timer queue 0 with
 *    TIMER_OUT_MS = due time (schedule_timer_redirect). In memory a min-heap of
 *    (due, queue offset) holds every pending one (16 bytes each) and one timer
 *    is armed for the heap top, so delivery is to the millisecond: due
 *    entries are handed to a delivery thread that reads, drops cancelled
 *    ones, and puts (timer_deliver.c). On disk the pending ones are kept as
 *    Apache 5.x keeps them (timer_store.h): arrivals are filed in the timer
 *    log under their wheel slot within ~20 ms, and every save writes
 *    config/timercheck (slots before the oldest undelivered one's are
 *    delivered; the queue is filed up to its end). At start the heap is
 *    rebuilt from the wheel and the queue's tail the way Apache's recovery
 *    reads them, so pending timers move between the two brokers both ways.
 *    A parked message with TIMER_DEL_UNIQKEY ("<topic>+<unique key>") is a
 *    cancel mark: never delivered, it drops the timer it names.
 * Delivery is at least once: a crash between a delivery and the next
 * persist (every 10 s and at shutdown) delivers those messages again, as
 * Apache does. Everything but the timer's deliveries runs on the broker's
 * event-loop thread.
 */
#ifndef RMQ_BROKER_SCHEDULE_H
#define RMQ_BROKER_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "common/message.h"
#include "store/store.h"

#define TOPIC_TIMER "rmq_sys_wheel_timer"   /* TimerMessageStore.TIMER_TOPIC */
#define SCHEDULE_PERSIST_INTERVAL_MS 10000  /* flushDelayOffsetInterval */

typedef struct schedule_service schedule_service;

/* Parses messageDelayLevel and loads the timer progress; NULL + reason on a bad level string. */
schedule_service *schedule_new(broker *b, char *err, size_t errlen);
/* Rebuilds the timer heap from the store and arms every level (masters only). */
void schedule_start(schedule_service *s);
/* Delivers the rest of a half-delivered timer slot, persists delay offsets and timer files, frees. */
void schedule_free(schedule_service *s);

/* The store's arrival hook, for appends to SCHEDULE_TOPIC_XXXX and rmq_sys_wheel_timer. */
void schedule_on_arrival(schedule_service *s, const char *topic, int32_t queue_id, int64_t qoffset,
                         int64_t tags_code, const char *props, uint32_t props_len, int64_t store_ts);

/* Messages waiting in the timer heap (tests, bench). */
size_t schedule_timer_pending(const schedule_service *s);

/* GET_TIMER_METRICS's body: config/timermetrics' JSON; NULL on a broker without a timer (a slave). */
char *schedule_timer_metrics_json(const broker *b, size_t *len);
/* GET_TIMER_CHECK_POINT's body: TimerCheckpoint.encode (56 bytes); false without a timer. */
bool schedule_timer_checkpoint_bytes(const broker *b, uint8_t out[56]);

/* timerPrecisionMs as the timer runs with it (read once at start). */
int64_t schedule_precision(const broker *b);

/*
 * HookUtils.transformTimerMessage for the send path. When props carry a 5.x
 * delivery time in the future, records TIMER_OUT_MS (rounded down to the
 * slot as Apache stores it: timer_due in schedule.c reads the exact time back),
 * REAL_TOPIC and REAL_QID, points *topic at TOPIC_TIMER with *queue_id 0 and
 * returns TIMER_PARKED. TIMER_PLAIN: nothing to do (no such property, or a time
 * already past). Refusals, with Apache's remark in WHY:
 * TIMER_NOT_ENABLED (timerWheelEnable false, SYSTEM_ERROR; not for INTERNAL
 * records such as POP checkpoints) and TIMER_ILLEGAL (not a number, beyond
 * timerMaxDelaySec, or a cancel mark for a time past; MESSAGE_ILLEGAL).
 * TIMER_DELAY_SEC and TIMER_DELAY_MS count from NOW.
 */
enum timer_verdict { TIMER_PLAIN, TIMER_PARKED, TIMER_NOT_ENABLED, TIMER_ILLEGAL };
enum timer_verdict schedule_timer_redirect(const broker *b, msg_props *props, const char **topic, int32_t *queue_id,
                                           int64_t now, bool internal, char *why, size_t whylen);

/*
 * SendMessageProcessor.attachRecallHandle: for a message parked by
 * schedule_timer_redirect (not a retry), base64url("v1 <topic> <broker name>
 * <TIMER_OUT_MS + 1> <UNIQ_KEY>"); NULL otherwise. Caller frees.
 */
char *schedule_recall_handle(const broker *b, const msg_props *props);

/* RecallMessageHandle.decodeHandle: the fields point into RAW. */
typedef struct recall_handle {
    char *raw;
    const char *topic, *broker_name, *timestamp, *message_id;
} recall_handle;
/* RMQ_OK, or RMQ_ERR for what Apache calls "recall handle is invalid". */
int schedule_recall_decode(const char *handle, recall_handle *h);
void schedule_recall_free(recall_handle *h);

#endif
