/*
 * pop: the broker's side of POP consumption (Apache 5.3 PopMessageProcessor's
 * bookkeeping, AckMessageProcessor's ack records, PopReviveService and
 * MessageRequestModeManager), internal to the broker and its processors.
 *
 * Bookkeeping lives in the store as Apache keeps it, so a store moves
 * between Apache 5.3 and us: every POP that returns messages from a queue
 * appends a checkpoint (PopCheckPoint JSON, tag "ck") and every ACK an ack
 * record (AckMsg / BatchAckMsg JSON, tags "ack" / "bAck") to one of the
 * queues of rmq_sys_REVIVE_LOG_<cluster>. Both carry TIMER_DELIVER_MS, so the
 * timer (schedule.h) parks them in rmq_sys_wheel_timer until the checkpoint's
 * revive time (less ackTimeInterval for checkpoints). The revive service
 * reads each revive queue from CID_RMQ_SYS_REVIVE_GROUP's offset, matches
 * acks to checkpoints, and puts every message a due checkpoint still holds
 * unacknowledged to the POP retry topic %RETRY%<group>_<topic> with
 * reconsumeTimes + 1, then commits its offset past that checkpoint.
 *
 * Everything runs on the broker's event-loop thread.
 */
#ifndef RMQ_BROKER_POP_H
#define RMQ_BROKER_POP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "meta/meta.h"

#define POP_REVIVE_GROUP "CID_RMQ_SYS_REVIVE_GROUP"  /* PopAckConstants.REVIVE_GROUP */
#define POP_REVIVE_TOPIC_PREFIX "rmq_sys_REVIVE_LOG_"
#define POP_REVIVE_QUEUE_NUM 8                        /* BrokerConfig.reviveQueueNum's default */
#define POP_ORDER_REVIVE_QUEUE 999                    /* KeyBuilder.POP_ORDER_REVIVE_QUEUE */
#define POP_ACK_TIME_INTERVAL_MS 1000                 /* PopAckConstants.ackTimeInterval */
#define POP_MAX_MSGS 32                               /* checkpoint bitmap width */
#define POP_RETRY_QUEUE_NUM 1                         /* PopAckConstants.retryQueueNum */

/* PopCheckPoint: the messages one POP took from one queue. */
typedef struct pop_ck {
    char topic[META_NAME_MAX];
    char group[META_NAME_MAX];
    char broker_name[META_NAME_MAX];
    int32_t queue_id;
    int64_t start_offset;
    int64_t pop_time;
    int64_t invisible_time;
    uint32_t bitmap;          /* bit i: message i acknowledged */
    int num;
    int32_t diff[POP_MAX_MSGS];  /* queue offset of message i - start_offset */
    int64_t revive_offset;    /* its offset in the revive queue (set when read back) */
    int reput_times;
} pop_ck;

/* AckMsg (n == 1, tag "ack") or BatchAckMsg (tag "bAck"). */
typedef struct pop_ack {
    const char *topic, *group, *broker_name;
    int32_t queue_id;
    int64_t start_offset, pop_time, invisible_time;
    const int64_t *offsets;
    int n;
    bool batch;
} pop_ack;

typedef struct pop_service pop_service;

/* Creates the revive topic if absent and loads config/messageRequestMode.json; NULL + reason. */
pop_service *pop_new(broker *b, char *err, size_t errlen);
/* Starts reviving (masters only). */
void pop_start(pop_service *p);
/* Persists the request modes, frees. */
void pop_free(pop_service *p);

const char *pop_revive_topic(const pop_service *p);
/* The revive queue for the next non-orderly POP (round robin). */
int pop_next_revive_qid(pop_service *p);
/* reviveQueueNum as read at start: the revive topic's queues 0..n-1. */
int pop_revive_queue_num(const pop_service *p);

/* Appends a checkpoint / an ack record; RMQ_OK or RMQ_ERR (logged) when the store refused. */
int pop_append_ck(pop_service *p, const pop_ck *ck, int revive_qid);
int pop_append_ack(pop_service *p, const pop_ack *ack, int revive_qid);

/* Runs one revive pass over every revive queue now (the timer does it every reviveInterval). */
void pop_revive_now(pop_service *p);

/* ---- topics ---- */

/* KeyBuilder.buildPopRetryTopic: %RETRY%group_topic, or group+topic when V2; false if cut to CAP. */
bool pop_retry_topic(char *out, size_t cap, const char *topic, const char *group, bool v2);
/* KeyBuilder.parseNormalTopic(topic, group). */
const char *pop_normal_topic(const char *topic, const char *group);
/* ExtraInfoUtil.getRetry: "0" normal, "1" retry v1, "2" retry v2. */
const char *pop_retry_flag(const char *topic);
/* ExtraInfoUtil.getRealTopic(topic, group, flag); false for an unknown flag (or a name cut to CAP). */
bool pop_real_topic(char *out, size_t cap, const char *topic, const char *group, const char *flag);
/* addRetryTopicIfNotExist: one queue, perm RW, and offset 0 for GROUP. */
void pop_ensure_retry_topic(pop_service *p, const char *retry_topic, const char *group);

/* ---- message request modes (MessageRequestModeManager) ---- */

typedef enum { POP_MODE_PULL = 0, POP_MODE_POP = 1 } pop_request_mode;
const char *pop_mode_name(pop_request_mode m);
/* -1 for an unknown name. */
int pop_mode_from_name(const char *s);

typedef struct pop_mode_setting {
    pop_request_mode mode;
    int32_t pop_share_queue_num;
} pop_mode_setting;

bool pop_mode_get(pop_service *p, const char *topic, const char *group, pop_mode_setting *out);
/* Sets and persists config/messageRequestMode.json. */
void pop_mode_set(pop_service *p, const char *topic, const char *group, const pop_mode_setting *s);
/* SetMessageRequestModeRequestBody's mode and popShareQueueNum (defaults PULL, 0); RMQ_ERR + *why. */
struct cJSON;
int pop_mode_decode_setting(const struct cJSON *obj, pop_mode_setting *out, const char **why);
/* The file's JSON (GET_ALL_MESSAGE_REQUEST_MODE body); caller frees. */
char *pop_mode_encode(pop_service *p, bool pretty, size_t *len);

/* ---- orderly POP (ConsumerOrderInfoManager, kept in memory) ---- */

/*
 * checkBlock: a queue is blocked while messages an orderly POP returned from
 * it are neither acknowledged nor past their invisible time; a POP with the
 * same attemptId as the one that took them is never blocked.
 */
bool pop_order_blocked(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                       int64_t invisible_time, int64_t now);
/*
 * update: records what an orderly POP returned (ascending offsets) and
 * appends to *order_info (a ';'-separated string, malloc'd) how often each
 * was delivered before (orderCountInfo).
 */
void pop_order_update(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                      int64_t pop_time, int64_t invisible_time, const int64_t *offsets, int n, char **order_info);
/*
 * commitAndNext: acknowledges OFFSET of the batch popped at POP_TIME; returns
 * the offset to commit (the first unacknowledged, or past the batch), -1 when
 * the offset is not in the batch, -2 when POP_TIME is not the batch's.
 */
int64_t pop_order_commit(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                         int64_t pop_time);
/* updateNextVisibleTime for one offset of the batch popped at POP_TIME. */
void pop_order_set_visible(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                           int64_t pop_time, int64_t next_visible);

#endif
