/*
 * timer_metrics: Apache 5.x's config/timermetrics (org.apache.rocketmq.store.timer.
 * TimerMetrics): per real topic, how many timer messages are pending, plus a
 * DataVersion bumped on every change. The same JSON is the body of
 * GET_TIMER_METRICS, which a 5.x slave copies from its master.
 *
 *   {"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1700000000000},
 *    "timingCount":{"TopicA":{"count":2,"timeStamp":1700000000000}}}
 *
 * Counting as Apache's TimerMessageStore.addMetric: +1 when a timer is parked,
 * -1 when it is delivered, -1 for a cancel mark (its message is then dropped
 * without a count), +1 back for a mark whose message never came. Internal to
 * the broker module; the broker's event-loop thread only.
 */
#ifndef RMQ_BROKER_TIMER_METRICS_H
#define RMQ_BROKER_TIMER_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct timer_metrics timer_metrics;

/* Reads ROOT/config/timermetrics when there is one (a broken file is logged and ignored: metrics only). */
timer_metrics *timer_metrics_open(const char *root);
void timer_metrics_close(timer_metrics *m);

/* Every topic's count to zero, times and version kept (before counting what a start found pending). */
void timer_metrics_zero(timer_metrics *m);

/* Adds DELTA to TOPIC's count (TOPIC_LEN bytes) and bumps the data version. */
void timer_metrics_add(timer_metrics *m, const char *topic, size_t topic_len, int64_t delta, int64_t now);

/* The topic's pending count (0 when unknown). */
int64_t timer_metrics_count(const timer_metrics *m, const char *topic);

/* The JSON above, NUL-terminated; *len its length. Caller frees. */
char *timer_metrics_encode(const timer_metrics *m, size_t *len);

/* Writes config/timermetrics when something changed since the last write. */
void timer_metrics_persist(timer_metrics *m);

#endif
