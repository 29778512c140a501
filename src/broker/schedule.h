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
 *    is armed for the heap top, so delivery is to the millisecond. On disk the
 *    pending ones are kept as Apache 5.x keeps them (timer_store.h): every
 *    save files the messages parked since in the timer log under their wheel
 *    slot and writes config/timercheck (slots before the heap top's are
 *    delivered; the queue is filed up to its end). At start the heap is
 *    rebuilt from the wheel and the queue's tail the way Apache's recovery
 *    reads them, so pending timers move between the two brokers both ways.
 *    A parked message with TIMER_DEL_UNIQKEY ("<topic>+<unique key>") is a
 *    cancel mark: never delivered, it drops the timer it names.
 * Delivery is at least once: a crash between a delivery and the next
 * persist (every 10 s and at shutdown) delivers those messages again, as
 * Apache does. Everything runs on the broker's event-loop thread.
 */
#ifndef RMQ_BROKER_SCHEDULE_H
#define RMQ_BROKER_SCHEDULE_H

#include <stdint.h>

#include "broker.h"
#include "common/message.h"
#include "store/store.h"

#define TOPIC_TIMER "rmq_sys_wheel_timer"   /* TimerMessageStore.TIMER_TOPIC */
#define SCHEDULE_PERSIST_INTERVAL_MS 10000  /* flushDelayOffsetInterval */
#define TIMER_MAX_DELAY_MS (3LL * 24 * 3600 * 1000)  /* timerMaxDelaySec: 3 days */
#define TIMER_PRECISION_MS 1000                       /* timerPrecisionMs: one wheel slot */

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

/*
 * HookUtils.transformTimerMessage for the send path: when props carry a 5.x
 * delivery time in the future, records TIMER_OUT_MS, REAL_TOPIC, REAL_QID and
 * returns TOPIC_TIMER with *queue_id 0; otherwise returns topic unchanged.
 * NULL with *why (static text) when the value is not a number or the delay
 * exceeds TIMER_MAX_DELAY_MS (Apache: WHEEL_TIMER_MSG_ILLEGAL). TIMER_DELAY_SEC
 * and TIMER_DELAY_MS count from `now`. Apache 5.x rounds the due time down to
 * timerPrecisionMs (1 s); this timer keeps the millisecond.
 */
const char *schedule_timer_redirect(msg_props *props, const char *topic, int32_t *queue_id, int64_t now,
                                    const char **why);

#endif
