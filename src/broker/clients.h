/*
 * clients: who is connected to this broker, as Apache's ProducerManager,
 * ConsumerManager/ConsumerGroupInfo and RebalanceLockManager keep it.
 *
 *  - producer groups and consumer groups, fed by HEART_BEAT and emptied by
 *    UNREGISTER_CLIENT, connection close and expiry (ClientHousekeepingService);
 *  - NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every channel of a consumer group
 *    whose members or topics change (DefaultConsumerIdsChangeListener);
 *  - ordered-consumption queue locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ).
 *
 * Ownership: the registry holds a reference (rmq_conn_hold) on every
 * connection it lists and copies every string it keeps. What the lookups hand
 * out (groups, channels, subscriptions, connections) is borrowed and stays
 * valid until the next call that changes the registry: use it at once.
 * Thread: the broker's event loop only.
 */
#ifndef RMQ_BROKER_CLIENTS_H
#define RMQ_BROKER_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remoting/remoting.h"

struct rmq_filter;

#define CLIENTS_CHANNEL_EXPIRED_MS 120000   /* ConsumerManager.CHANNEL_EXPIRED_TIMEOUT */
#define CLIENTS_LOCK_MAX_LIVE_MS   60000    /* rocketmq.broker.rebalance.lockMaxLiveTime */
#define CLIENTS_SCAN_INTERVAL_MS   10000    /* ClientHousekeepingService period */

/* Java enums of ConsumerData, by ordinal; *_UNSET when the client sent none
 * (fastjson then leaves the field null and omits it when writing). */
enum consume_type { CONSUME_TYPE_UNSET = -1, CONSUME_ACTIVELY, CONSUME_PASSIVELY };
enum message_model { MESSAGE_MODEL_UNSET = -1, BROADCASTING, CLUSTERING };
enum consume_from_where {
    CONSUME_FROM_WHERE_UNSET = -1,
    CONSUME_FROM_LAST_OFFSET,
    CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST,
    CONSUME_FROM_MIN_OFFSET,
    CONSUME_FROM_MAX_OFFSET,
    CONSUME_FROM_FIRST_OFFSET,
    CONSUME_FROM_TIMESTAMP,
};
/* Enum names as Java writes them; NULL for UNSET or out of range. */
const char *consume_type_name(int v);
const char *message_model_name(int v);
const char *consume_from_where_name(int v);
/* Name -> value, or -1 when unknown. */
int consume_type_from_name(const char *s);
int message_model_from_name(const char *s);
int consume_from_where_from_name(const char *s);

/* SubscriptionData: one topic of a consumer group. */
typedef struct subscription_data {
    char *topic;
    char *sub_string;            /* NULL when the client sent none */
    char *expression_type;       /* "TAG" when the client sent none (Java's default) */
    char **tags;                 /* tagsSet, duplicates dropped; for a TAG expression
                                  * sent without tagsSet, the tags of sub_string */
    size_t n_tags;
    int32_t *codes;              /* codeSet, recomputed: String.hashCode of each tag
                                  * (clients' own values are not trusted: C++ sends 0s) */
    size_t n_codes;
    int64_t sub_version;
    bool class_filter_mode;
    struct rmq_filter *filter;   /* the compiled expression; NULL if it does not compile */
} subscription_data;

/*
 * Builds a subscription from a client's fields (copied). expression_type NULL
 * means TAG; tags may be NULL when n_tags is 0. Never fails: a bad expression
 * only leaves `filter` NULL (Apache registers it all the same).
 */
subscription_data *subscription_new(const char *topic, const char *sub_string,
                                    const char *expression_type, const char *const *tags,
                                    size_t n_tags, int64_t sub_version, bool class_filter_mode);
void subscription_free(subscription_data *sd);
/* SubscriptionData as fastjson writes it (ConsumerConnection, ConsumeStats bodies). */
struct fjson_writer;
void subscription_write_json(struct fjson_writer *w, const subscription_data *sd);
/* ExpressionType.isTagType: NULL, "" or "TAG". */
bool expression_type_is_tag(const char *expression_type);

/* ClientChannelInfo: one connection of a group. */
typedef struct client_channel {
    rmq_conn *conn;              /* held by the registry */
    char *client_id;
    int language;                /* LanguageCode of the request that registered it */
    int32_t version;
    int64_t last_update_ms;
} client_channel;

typedef struct producer_group {
    char *name;
    client_channel *channels;
    size_t n_channels, cap_channels;
} producer_group;

/* ConsumerGroupInfo. Channels are in registration order, subscriptions too. */
typedef struct consumer_group {
    char *name;
    client_channel *channels;
    size_t n_channels, cap_channels;
    subscription_data **subs;
    size_t n_subs, cap_subs;
    int consume_type;            /* enum consume_type */
    int message_model;           /* enum message_model */
    int consume_from_where;      /* enum consume_from_where */
    int64_t last_update_ms;
} consumer_group;

/* What the registry asks the broker about subscription-group config (src/meta). */
typedef struct clients_hooks {
    /*
     * HEART_BEAT carried consumer group `group`. Apache finds the group's
     * subscription config here (auto-creating it when autoCreateSubscriptionGroup)
     * and, if there is one, creates the retry topic %RETRY%<group> with the
     * group's retryQueueNums (unit mode: the unit sysflag). Returns the group's
     * notifyConsumerIdsChangedEnable (true when it has no config).
     */
    bool (*consumer_group_seen)(const char *group, bool unit_mode, void *arg);
    /* notifyConsumerIdsChangedEnable of an existing config (no creation); true if none. */
    bool (*notify_enabled)(const char *group, void *arg);
    void *arg;
} clients_hooks;

typedef struct client_registry client_registry;

/* hooks may be NULL (every group then notifies and nothing is created). */
client_registry *clients_new(const clients_hooks *hooks);
/* Releases every held connection (it does not close them). */
void clients_free(client_registry *reg);
/* The clock for heartbeats and locks (default now_ms); tests inject their own. */
void clients_set_clock(client_registry *reg, int64_t (*clock)(void));

/* The hooks, with their defaults when unset. */
bool clients_consumer_group_seen(client_registry *reg, const char *group, bool unit_mode);
bool clients_notify_enabled(client_registry *reg, const char *group);

/* Who sent a heartbeat or unregister: the connection and the request's fields. */
typedef struct client_identity {
    rmq_conn *conn;
    const char *client_id;
    int language;
    int32_t version;
} client_identity;

/* HeartbeatData.ConsumerData. */
typedef struct consumer_data {
    const char *group;
    int consume_type, message_model, consume_from_where;
    bool unit_mode;
    subscription_data **subs;    /* the registry takes every element; the array stays yours */
    size_t n_subs;
} consumer_data;

/*
 * ConsumerManager.registerConsumer: refreshes the channel (new channel, or
 * heartbeat time), then the subscriptions (a newer subVersion replaces a topic,
 * topics missing from `cd` are dropped). When a channel or topic came or went
 * and `notify`, every channel of the group gets NOTIFY_CONSUMER_IDS_CHANGED.
 * Returns whether anything came or went.
 */
bool clients_register_consumer(client_registry *reg, const client_identity *who,
                               const consumer_data *cd, bool notify);
/*
 * Heartbeat v2 (heartbeat_v2.c). clients_fingerprint_changed records FINGERPRINT as
 * GROUP's last one (consumerGroupHeartbeatTable) and tells whether another was
 * recorded before (the answer's IS_SUB_CHANGE). clients_register_consumer_without_sub
 * is registerConsumerWithoutSub: as clients_register_consumer, but the group keeps its
 * subscriptions (CD's are not looked at).
 */
bool clients_fingerprint_changed(client_registry *reg, const char *group, int32_t fingerprint);
bool clients_register_consumer_without_sub(client_registry *reg, const client_identity *who,
                                           const consumer_data *cd, bool notify);
/* Drops REG's fingerprints (clients_free calls it). */
void clients_forget_fingerprints(const client_registry *reg);
/* ProducerManager.registerProducer: a new channel, or its heartbeat time. */
void clients_register_producer(client_registry *reg, const char *group, const client_identity *who);
/* UNREGISTER_CLIENT halves. The consumer one notifies the rest when `notify`. */
void clients_unregister_consumer(client_registry *reg, const char *group, const client_identity *who,
                                 bool notify);
void clients_unregister_producer(client_registry *reg, const char *group, const client_identity *who);

/* The connection closed: drop it everywhere; consumer groups it left are notified. */
void clients_on_conn_closed(client_registry *reg, rmq_conn *conn);
/*
 * scanNotActiveChannel: channels not heart-beaten for more than expiry_ms
 * (CLIENTS_CHANNEL_EXPIRED_MS) before now_ms are dropped and their connections
 * closed; the rest of their consumer groups are notified.
 */
void clients_scan_expired(client_registry *reg, int64_t now_ms, int64_t expiry_ms);

/* ---- lookups ---- */

const consumer_group *clients_consumer_group(const client_registry *reg, const char *group);
const subscription_data *consumer_group_subscription(const consumer_group *g, const char *topic);
const client_channel *consumer_group_channel(const consumer_group *g, const char *client_id);
/* getAllClientId: the group's client ids in channel order (malloc'd array of borrowed
 * strings, caller frees the array); NULL with *n = 0 when the group is unknown. */
const char **clients_consumer_ids(const client_registry *reg, const char *group, size_t *n);
/* queryTopicConsumeByWho: consumer groups subscribed to topic (malloc'd array of
 * borrowed names, caller frees the array). */
const char **clients_groups_by_topic(const client_registry *reg, const char *topic, size_t *n);

const producer_group *clients_producer_group(const client_registry *reg, const char *group);
/* Every producer / consumer group, any order (malloc'd array of borrowed groups; caller frees it). */
const producer_group **clients_producer_groups(const client_registry *reg, size_t *n);
const consumer_group **clients_consumer_groups(const client_registry *reg, size_t *n);
/* getAvailableChannel: a producer connection of the group, round robin, preferring
 * one with little output pending (CHECK_TRANSACTION_STATE); NULL if none is open. */
rmq_conn *clients_producer_channel(client_registry *reg, const char *group);
/* ProducerManager.findChannel: the producer connection of a client id (request-reply). */
rmq_conn *clients_find_producer_conn(const client_registry *reg, const char *client_id);

/* ---- ordered-consumption locks (RebalanceLockManager) ---- */

typedef struct message_queue {
    const char *topic;
    const char *broker_name;
    int32_t queue_id;
} message_queue;

/*
 * tryLockBatch: locked[i] tells whether mqs[i] is now held by client_id —
 * already its own (renewed), free, or held by another client whose lock
 * expired (more than CLIENTS_LOCK_MAX_LIVE_MS without renewal).
 */
void clients_try_lock_batch(client_registry *reg, const char *group, const message_queue *mqs,
                            size_t n, const char *client_id, bool *locked);
/* unlockBatch: releases the queues held by client_id (expired or not); others stay. */
void clients_unlock_batch(client_registry *reg, const char *group, const message_queue *mqs,
                          size_t n, const char *client_id);

#endif
