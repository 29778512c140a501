/*
 * processor: one request family per file, each registering its request codes
 * on a server. Every processor gets the `broker *` as its argument, decodes its
 * header with cmd_decode_header, works on the broker state and the store, and
 * answers as Apache 4.9.x does (codes, remarks, header fields, body shapes).
 */
#ifndef RMQ_PROCESSOR_H
#define RMQ_PROCESSOR_H

#include "broker/broker.h"
#include "metrics/metrics.h"

/* HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, LOCK/UNLOCK_BATCH_MQ,
 * CHECK_CLIENT_CONFIG, GET_CONSUMER_CONNECTION_LIST, GET_PRODUCER_CONNECTION_LIST. */
void processor_register_client(rmq_server *s, broker *b);
/* SEND_MESSAGE(_V2), SEND_BATCH_MESSAGE, CONSUMER_SEND_MSG_BACK. */
void processor_register_send(rmq_server *s, broker *b);
/* PULL_MESSAGE with long polling. */
void processor_register_pull(rmq_server *s, broker *b);
/* Offsets: QUERY/UPDATE_CONSUMER_OFFSET, GET_MAX/MIN_OFFSET, GET_EARLIEST_MSG_STORETIME,
 * SEARCH_OFFSET_BY_TIMESTAMP. */
void processor_register_offset(rmq_server *s, broker *b);
/* Administration: topics, groups, config, runtime info, consume stats (mqadmin). */
void processor_register_admin(rmq_server *s, broker *b);
/* END_TRANSACTION (transactional messages). */
void processor_register_transaction(rmq_server *s, broker *b);
/* QUERY_MESSAGE (by key / unique key) and VIEW_MESSAGE_BY_ID. */
void processor_register_query(rmq_server *s, broker *b);
/* POP_MESSAGE with long polling, PEEK_MESSAGE, NOTIFICATION, POLLING_INFO (5.x POP consumption). */
void processor_register_pop(rmq_server *s, broker *b);
/* ACK_MESSAGE, BATCH_ACK_MESSAGE, CHANGE_MESSAGE_INVISIBLETIME. */
void processor_register_ack(rmq_server *s, broker *b);
/* QUERY_ASSIGNMENT, SET_MESSAGE_REQUEST_MODE, GET_ALL_MESSAGE_REQUEST_MODE. */
void processor_register_assignment(rmq_server *s, broker *b);

/* RECALL_MESSAGE (5.3: cancels a timer message by the handle its send answer carried). */
void processor_register_recall(rmq_server *s, broker *b);

/* Requests waiting per Apache processor label (rocketmq_processor_watermark, the runtime
 * info's *ThreadPoolQueueSize): held by a processor to answer later, or read into a
 * connection's buffer and not yet dispatched. On the loop thread. */
void broker_processor_backlog(broker *b, int64_t out[METRICS_N_PROCESSORS]);

/* AUTH_CREATE_USER .. AUTH_LIST_ACL (ACL 2.0 users and ACLs). */
void processor_register_auth(rmq_server *s, broker *b);

/* Long polling for POP (PopLongPollingService): held POPs, woken by arrivals to their topic
 * or its POP retry topic. */
struct pop_hold *pop_hold_new(void);
void pop_hold_free(struct pop_hold *h);
void pop_hold_on_arrival(broker *b, const char *topic, int32_t queue_id);

#endif

/* Long polling (PullRequestHoldService): held pulls, woken by message arrival. */
struct pull_hold *pull_hold_new(broker *b);
void pull_hold_free(struct pull_hold *h);
/* The store's arrival hook for held pulls (arg = the broker); broker.c chains it with the scheduler's. */
void pull_hold_on_arrival(void *arg, const char *topic, int32_t queue_id, int64_t queue_offset, int64_t tags_code,
                          const char *props, uint32_t props_len, int64_t store_ts);
