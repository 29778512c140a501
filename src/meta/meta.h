/*
 * meta: the broker's metadata tables, kept in memory and persisted as
 * Apache's <storePathRootDir>/config/<name>.json files (docs/store.md) in the exact
 * fastjson shapes Apache 4.9.8 writes and sends over the wire:
 *
 *   topic_table          topics.json             TopicConfigManager
 *   subgroup_table       subscriptionGroup.json  SubscriptionGroupManager
 *   consumer_offset_table consumerOffset.json    ConsumerOffsetManager
 *   delay_offset_table   delayOffset.json        ScheduleMessageService offsets
 *
 * Opening a table loads its file (falling back to .bak, like
 * ConfigManager.load). Nothing is written until the caller calls
 * *_persist (pretty-printed, atomic, previous file kept as .bak). The
 * *_encode functions return the compact body Apache sends for
 * GET_ALL_TOPIC_CONFIG (21), GET_ALL_CONSUMER_OFFSET (43),
 * GET_ALL_DELAY_OFFSET (45) and GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201).
 *
 * Every table has its own lock, so any thread may call any function;
 * lookups copy records out. Map entries are written in insertion order.
 */
#ifndef RMQ_META_H
#define RMQ_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fjson.h"

/* Longest topic or group name the tables hold, NUL included: a 255-char
 * group (the client limit) behind %RETRY% or %DLQ% fits. */
#define META_NAME_MAX 272

/* PermName bits. */
enum { PERM_PRIORITY = 0x8, PERM_READ = 0x4, PERM_WRITE = 0x2, PERM_INHERIT = 0x1 };

/* Bumped on every change; namesrv and slaves compare it to spot news. */
typedef struct data_version {
    int64_t timestamp;   /* ms of the last change */
    int64_t counter;
    /* 5.x stateVersion: the master epoch in controller mode (the name server keeps
     * a master of an older one from taking over); 0, the 4.x default, is not written. */
    int64_t state_version;
} data_version;

/* {"counter":..,"timestamp":..} as fastjson writes DataVersion. */
void data_version_write(const data_version *v, fjson_writer *w);

/* ---- topics ------------------------------------------------------------ */

enum topic_filter_type { TOPIC_FILTER_SINGLE_TAG, TOPIC_FILTER_MULTI_TAG };

/*
 * 5.x TopicAttributes, the only keys a topic's `attributes` map may hold, in
 * the order fastjson writes that HashMap.
 */
enum topic_attr {
    TOPIC_ATTR_CLEANUP_POLICY,   /* cleanup.policy: DELETE|COMPACTION, fixed at creation */
    TOPIC_ATTR_MESSAGE_TYPE,     /* message.type: NORMAL|FIFO|DELAY|TRANSACTION|MIXED|UNSPECIFIED */
    TOPIC_ATTR_QUEUE_TYPE,       /* queue.type: SimpleCQ|BatchCQ, fixed at creation */
    TOPIC_ATTR_RESERVE_TIME,     /* reserve.time: -1..Long.MAX_VALUE */
    TOPIC_ATTR_COUNT
};
#define TOPIC_ATTR_VALUE_MAX 24   /* the longest legal value (a long) fits */

typedef struct topic_config {
    char topic_name[META_NAME_MAX];
    int32_t read_queue_nums;
    int32_t write_queue_nums;
    int32_t perm;
    enum topic_filter_type topic_filter_type;
    int32_t topic_sys_flag;
    bool order;
    char attributes[TOPIC_ATTR_COUNT][TOPIC_ATTR_VALUE_MAX];   /* "" = not set */
} topic_config;

#define TOPIC_MAX_LENGTH 127
#define TOPIC_AUTO_CREATE_KEY "TBW102"
#define TOPIC_SCHEDULE "SCHEDULE_TOPIC_XXXX"
#define TOPIC_BENCHMARK "BenchmarkTest"
#define TOPIC_TRANS_HALF "RMQ_SYS_TRANS_HALF_TOPIC"
#define TOPIC_TRANS_OP_HALF "RMQ_SYS_TRANS_OP_HALF_TOPIC"
#define TOPIC_TRANS_CHECK_MAX_TIME "TRANS_CHECK_MAX_TIME_TOPIC"
#define TOPIC_TRACE "RMQ_SYS_TRACE_TOPIC"
#define TOPIC_SELF_TEST "SELF_TEST_TOPIC"
#define TOPIC_OFFSET_MOVED_EVENT "OFFSET_MOVED_EVENT"
#define TOPIC_RETRY_PREFIX "%RETRY%"
#define TOPIC_DLQ_PREFIX "%DLQ%"

/* new TopicConfig(name): 16/16 queues, perm RW, SINGLE_TAG, flag 0, not ordered.
 * False if NAME does not fit topic_name. */
bool topic_config_init(topic_config *tc, const char *name);

/*
 * TopicValidator.validateTopic: NULL when TOPIC is acceptable, else the
 * remark Apache answers with (response code SYSTEM_ERROR): blank, characters
 * outside ^[%|a-zA-Z0-9_-]+$, longer than 127.
 */
const char *topic_validate(const char *topic);
/* "cleanup.policy", ... */
const char *topic_attr_name(enum topic_attr a);
bool topic_config_has_attributes(const topic_config *tc);
/*
 * CreateTopicRequestHeader.attributes ("+message.type=FIFO,-reserve.time") applied
 * to TC as AttributeParser.parseToMap and AttributeUtil.alterCurrentAttributes do
 * (CREATE: the topic is new, only additions allowed). NULL on success; else the
 * exception message Apache answers with (SYSTEM_ERROR), written into WHY, and TC
 * is unchanged.
 */
const char *topic_attributes_alter(topic_config *tc, const char *modification, bool create, char *why,
                                   size_t cap);
/* AttributeParser.parseToMap alone: NULL when MODIFICATION parses (*ADDS_MIXED: it holds
 * +message.type=MIXED, refused unless enableMixedMessageType), else the exception message. */
const char *topic_attributes_parse(const char *modification, bool *adds_mixed, char *why, size_t cap);
/* TopicConfig.getTopicMessageType: message.type, "NORMAL" when not set. */
const char *topic_config_message_type(const topic_config *tc);
/*
 * TopicMessageType.parseFromMessageProperty on a message's properties string:
 * TRANSACTION (TRAN_MSG=true), DELAY (DELAY / TIMER_DELIVER_MS / TIMER_DELAY_SEC /
 * TIMER_DELAY_MS), FIFO (__SHARDINGKEY), else NORMAL.
 */
const char *topic_message_type_of(const char *props, size_t len);
/* The 5.x message-type check of a send to TC (see topic_attributes.c): NULL when PROPS
 * (NULL: none) may go there, else the remark of the MESSAGE_ILLEGAL answer, in WHY. */
const char *topic_message_type_refusal(const topic_config *tc, const char *props, char *why, size_t cap);

/* TopicValidator.isNotAllowedSendTopic (producers get NO_PERMISSION). */
bool topic_is_not_allowed_send(const char *topic);

/* The BrokerConfig settings TopicConfigManager reads; defaults as Apache's. */
typedef struct topic_table_options {
    const char *store_root;             /* storePathRootDir */
    const char *broker_cluster_name;    /* "DefaultCluster" */
    const char *broker_name;            /* required (Apache: the host name) */
    bool auto_create_topic_enable;      /* true */
    int32_t default_topic_queue_nums;   /* 8 */
    bool cluster_topic_enable;          /* true */
    bool broker_topic_enable;           /* true */
    bool trace_topic_enable;            /* false */
    const char *msg_trace_topic_name;   /* "RMQ_SYS_TRACE_TOPIC" */
} topic_table_options;

void topic_table_options_default(topic_table_options *opt);

typedef struct topic_table topic_table;

/*
 * Create the system topics TopicConfigManager's constructor creates, then
 * load topics.json over them. NULL + *err (malloc'd, caller frees) when
 * the file and its .bak are both unreadable or malformed.
 */
topic_table *topic_table_open(const topic_table_options *opt, char **err);
void topic_table_free(topic_table *t);
/* Writes topics.json (pretty, atomic, .bak kept) and drops the journal entries it covers. */
int topic_table_persist(topic_table *t);
/*
 * Records TOPIC's current config (or its absence) in topics.json.journal:
 * cheap whatever the table size, and replayed by topic_table_open, so a
 * change survives a crash of the process before topics.json is rewritten
 * (meta_persister).
 */
int topic_table_journal(topic_table *t, const char *topic);

bool topic_table_get(topic_table *t, const char *topic, topic_config *out);
size_t topic_table_count(topic_table *t);
/* A copy of every config (caller frees), in table order. */
topic_config *topic_table_snapshot(topic_table *t, size_t *count);
/* The snapshot and the data version it is at, taken together (any thread). */
topic_config *topic_table_snapshot_at(topic_table *t, size_t *count, data_version *version);
data_version topic_table_data_version(topic_table *t);
/* DataVersion.nextVersion(stateVersion): a new version carrying the master epoch. */
void topic_table_next_state_version(topic_table *t, int64_t state_version);
/* Default topics, the cluster/broker/reply/trace topics of this broker,
 * and rmq_sys_* (TopicValidator.isSystemTopic after the constructor ran). */
bool topic_table_is_system_topic(topic_table *t, const char *topic);

/* updateTopicConfig: insert or replace, bump the data version. */
void topic_table_put(topic_table *t, const topic_config *tc);
/* deleteTopicConfig: RMQ_ERR if TOPIC was not there. */
int topic_table_delete(topic_table *t, const char *topic);

/*
 * createTopicInSendMessageMethod: TOPIC if it exists; else a new topic
 * modelled on DEFAULT_TOPIC (normally TBW102) when that one exists and is
 * inheritable: min(client_default_queue_nums, its writeQueueNums) queues,
 * its perm without INHERIT, its filter type. RMQ_ERR when it cannot be
 * created (the caller answers TOPIC_NOT_EXIST). *created tells the caller
 * to persist and re-register with the name servers.
 */
int topic_table_create_in_send(topic_table *t, const char *topic, const char *default_topic,
                               int32_t client_default_queue_nums, int32_t topic_sys_flag,
                               topic_config *out, bool *created);
/*
 * createTopicInSendMessageBackMethod (also createTopicOfTranCheckMaxTime):
 * TOPIC if it exists, else created with QUEUE_NUMS queues, PERM, SYS_FLAG.
 * RMQ_ERR only when TOPIC is longer than the table holds.
 */
int topic_table_create_in_send_back(topic_table *t, const char *topic, int32_t queue_nums,
                                    int32_t perm, int32_t topic_sys_flag,
                                    topic_config *out, bool *created);

/*
 * One TopicConfig as fastjson reads it (absent fields keep new TopicConfig()'s
 * values, enums by name or ordinal) into OUT, a topic_config named KEY unless the
 * entry names itself; KEY must fit META_NAME_MAX. RMQ_ERR + *err (malloc'd).
 */
int topic_config_decode(const char *key, const cJSON *obj, void *out, char **err);

/* One TopicConfig object as fastjson writes it. */
void topic_config_write(const topic_config *tc, fjson_writer *w);
/* TopicConfigSerializeWrapper {"dataVersion":..,"topicConfigTable":..}. */
char *topic_table_encode(topic_table *t, bool pretty, size_t *len);
/* The same object into W (REGISTER_BROKER's topicConfigSerializeWrapper). */
void topic_table_write(topic_table *t, fjson_writer *w);

/* ---- coalesced persistence --------------------------------------------- */

/*
 * One background thread that writes tables marked as changed: a burst of
 * changes costs one write after a gathering delay of delay_ms (longer when
 * writes are slow: at most ~5% of the time goes to writing). The tables'
 * journals (topic_table_journal) carry the changes meanwhile;
 * meta_persister_stop writes what is still marked.
 */
typedef struct meta_persister meta_persister;
typedef int (*meta_persist_fn)(void *table);

meta_persister *meta_persister_start(int delay_ms);   /* NULL if no thread */
/* TABLE changed: FN(TABLE) (e.g. a wrapper of topic_table_persist) runs soon. */
void meta_persister_mark(meta_persister *p, meta_persist_fn fn, void *table);
/* Writes every marked table, then stops the thread and frees P. */
void meta_persister_stop(meta_persister *p);

/* ---- subscription groups ---------------------------------------------- */

#define GROUP_TOOLS_CONSUMER "TOOLS_CONSUMER"
#define GROUP_FILTERSRV_CONSUMER "FILTERSRV_CONSUMER"
#define GROUP_SELF_TEST_CONSUMER "SELF_TEST_C_GROUP"
#define GROUP_ONS_HTTP_PROXY "CID_ONS-HTTP-PROXY"
#define GROUP_ONSAPI_PULL "CID_ONSAPI_PULL"
#define GROUP_ONSAPI_PERMISSION "CID_ONSAPI_PERMISSION"
#define GROUP_ONSAPI_OWNER "CID_ONSAPI_OWNER"
#define GROUP_SYS_PREFIX "CID_RMQ_SYS_"

typedef struct subscription_group_config {
    char group_name[META_NAME_MAX];
    bool consume_enable;                      /* true */
    bool consume_from_min_enable;             /* true */
    bool consume_broadcast_enable;            /* true */
    int32_t retry_queue_nums;                 /* 1 */
    int32_t retry_max_times;                  /* 16 */
    int64_t broker_id;                        /* 0 (master) */
    int64_t which_broker_when_consume_slowly; /* 1 */
    bool notify_consumer_ids_changed_enable;  /* true */
    bool consume_message_orderly;             /* false; 5.x: gRPC consumers of the group get FIFO */
} subscription_group_config;

/* new SubscriptionGroupConfig() named NAME; false if NAME does not fit. */
bool subscription_group_config_init(subscription_group_config *c, const char *name);

typedef struct subgroup_table subgroup_table;

/* The groups of SubscriptionGroupManager.init, then subscriptionGroup.json
 * loaded over them. auto_create: autoCreateSubscriptionGroup (true). */
subgroup_table *subgroup_table_open(const char *store_root, bool auto_create, char **err);
void subgroup_table_free(subgroup_table *t);
int subgroup_table_persist(subgroup_table *t);
/* GROUP's config (or its absence) into subscriptionGroup.json.journal, as topic_table_journal. */
int subgroup_table_journal(subgroup_table *t, const char *group);

/* Lookup without side effects. */
bool subgroup_table_get(subgroup_table *t, const char *group, subscription_group_config *out);
/*
 * findSubscriptionGroupConfig: an unknown group is created with defaults
 * when auto-creation is on or it is a CID_RMQ_SYS_ group (*created set:
 * persist). False when the group neither exists nor may be created.
 */
bool subgroup_table_find(subgroup_table *t, const char *group, subscription_group_config *out,
                         bool *created);
void subgroup_table_put(subgroup_table *t, const subscription_group_config *c);
int subgroup_table_delete(subgroup_table *t, const char *group);
/* disableConsume: consumeEnable=false, version bumped, not persisted. */
void subgroup_table_disable_consume(subgroup_table *t, const char *group);
size_t subgroup_table_count(subgroup_table *t);
subscription_group_config *subgroup_table_snapshot(subgroup_table *t, size_t *count);
data_version subgroup_table_data_version(subgroup_table *t);
/* One SubscriptionGroupConfig, as topic_config_decode does it; OUT is a subscription_group_config. */
int subscription_group_config_decode(const char *key, const cJSON *obj, void *out, char **err);
/* {"dataVersion":..,"subscriptionGroupTable":..} */
char *subgroup_table_encode(subgroup_table *t, bool pretty, size_t *len);
/* One SubscriptionGroupConfig object as fastjson writes it (GET_SUBSCRIPTIONGROUP_CONFIG). */
void subscription_group_config_write(const subscription_group_config *c, fjson_writer *w);

/* ---- consumer offsets ------------------------------------------------- */

typedef struct queue_offset {
    int32_t queue_id;
    int64_t offset;
} queue_offset;

typedef struct consumer_offset_table consumer_offset_table;

consumer_offset_table *consumer_offset_open(const char *store_root, char **err);
void consumer_offset_free(consumer_offset_table *t);
int consumer_offset_persist(consumer_offset_table *t);

void consumer_offset_commit(consumer_offset_table *t, const char *group, const char *topic,
                            int32_t queue_id, int64_t offset);
/* The committed offset, -1 if none. */
int64_t consumer_offset_query(consumer_offset_table *t, const char *group, const char *topic,
                              int32_t queue_id);
/* All queues of topic@group by ascending queue id (caller frees); NULL and
 * *count 0 when the pair has no offsets. */
queue_offset *consumer_offset_query_all(consumer_offset_table *t, const char *group,
                                        const char *topic, size_t *count);
/* removeOffset: every topic of GROUP. */
void consumer_offset_remove_group(consumer_offset_table *t, const char *group);
/* Every group's offsets of TOPIC (topic deletion). */
void consumer_offset_remove_topic(consumer_offset_table *t, const char *topic);
/* cloneOffset: SRC's offsets on TOPIC copied to DST (replacing DST's). */
void consumer_offset_clone(consumer_offset_table *t, const char *src_group, const char *dst_group,
                           const char *topic);
/* whichGroupByTopic / whichTopicByConsumer: NULL-terminated arrays of
 * malloc'd names, free with meta_names_free. */
char **consumer_offset_groups_of_topic(consumer_offset_table *t, const char *topic);
char **consumer_offset_topics_of_group(consumer_offset_table *t, const char *group);
/* {"offsetTable":{"topic@group":{0:12,1:5}}} */
char *consumer_offset_encode(consumer_offset_table *t, bool pretty, size_t *len);

void meta_names_free(char **names);

/* ---- delay offsets ---------------------------------------------------- */

typedef struct delay_offset_table delay_offset_table;

delay_offset_table *delay_offset_open(const char *store_root, char **err);
void delay_offset_free(delay_offset_table *t);
int delay_offset_persist(delay_offset_table *t);
/* Delay level -> SCHEDULE_TOPIC_XXXX queue offset. */
void delay_offset_update(delay_offset_table *t, int32_t level, int64_t offset);
bool delay_offset_get(delay_offset_table *t, int32_t level, int64_t *offset);
/* {"offsetTable":{1:0,2:5}} */
char *delay_offset_encode(delay_offset_table *t, bool pretty, size_t *len);

#endif
