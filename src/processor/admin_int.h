/*
 * What the admin processor's files share (admin_processor.c and the handler
 * files admin_topic.c, admin_broker.c, admin_consume.c, admin_client.c,
 * admin5_processor.c, admin_ha.c):
 * the per-broker admin state with its sampled store counters, the handler
 * tables each file exports, and the small reply/header helpers.
 * Private to src/processor.
 */
#ifndef RMQ_PROCESSOR_ADMIN_INT_H
#define RMQ_PROCESSOR_ADMIN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "common/fjson.h"
#include "meta/meta.h"
#include "processor.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- store counter sampling (StoreStatsService.sampling, BrokerStats.record) ---- */

typedef struct sample {
    int64_t ms;
    int64_t put, found, miss, transferred;
} sample;

typedef struct ring {
    sample *s;
    int cap, n, head;   /* head: next slot to write */
} ring;

typedef struct admin {
    broker *b;
    struct event *tick;
    int ticks;
    ring secs, mins;
    int today;                     /* day of year of the last sample */
    int64_t put_yesterday_morning, put_today_morning;
    int64_t get_yesterday_morning, get_today_morning;
    data_version config_version;   /* Configuration.dataVersion: bumped by UPDATE_BROKER_CONFIG */
    struct admin *next;
} admin;

void admin_take_sample(admin *a, sample *s);

/* ---- handler tables ---- */

typedef void (*admin_fn)(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp);
/* Handlers that may answer later (RMQ_AGAIN, taking req). */
typedef int (*admin_async_fn)(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp);

/* One request code and its handler: fn, or async_fn for one that may answer later. */
typedef struct admin_handler {
    int code;
    admin_fn fn;
    admin_async_fn async_fn;
} admin_handler;

/* Each ends with {0}. */
extern const admin_handler admin_topic_handlers[];
extern const admin_handler admin_broker_handlers[];
extern const admin_handler admin_consume_handlers[];
extern const admin_handler admin_client_handlers[];
extern const admin_handler admin5_handlers[];   /* admin5_processor.c: 5.x topic/group/producer codes */
extern const admin_handler admin_ha_handlers[];
extern const admin_handler admin_acl_handlers[];  /* admin_acl.c: ACL 1.0's plain_acl.yml codes (4.9.8) */  /* admin_ha.c: HA status and epoch cache (5.x) */

/* ---- small helpers ---- */

void admin_fail(rmq_cmd *resp, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* cmd_decode_header, or SYSTEM_ERROR with its reason; RMQ_OK or RMQ_ERR. */
int admin_decode(const rmq_cmd *req, rmq_cmd *resp, const hdr_field *f, size_t n, void *out);
/* validateSlave: topics and groups are changed on masters only. */
bool admin_refused_on_slave(const admin *a, rmq_cmd *resp);
/* A MessageQueue as a map key: {"brokerName":..,"queueId":..,"topic":..}. */
void admin_key_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id);
void admin_write_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id);
/* A parsed tree written back, object keys ({..}:v) kept as keys rather than quoted. */
void admin_copy_item(fjson_writer *w, const cJSON *item);
void admin_write_string_list(fjson_writer *w, const char *name, char **items, size_t n);
bool admin_list_has(char **items, size_t n, const char *s);
/* The topic config, or TOPIC_NOT_EXIST "topic[x] not exist". */
bool admin_topic_or_fail(const admin *a, const char *topic, topic_config *tc, rmq_cmd *resp);

/* The request header of the codes that name only a topic. */
typedef struct topic_header {
    const char *topic;
} topic_header;

extern const hdr_field admin_topic_field[1];

#endif
