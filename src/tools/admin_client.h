/*
 * admin_client.h: the admin protocol as a library — blocking requests to the
 * name servers and brokers, routes and cluster tables, decoded messages, and
 * the multi-request operations (consume stats, connections, message queries,
 * sends, offset resets) that mqadmin and mqconsole both perform.
 *
 * Nothing here exits or prints: a failure returns with an adm_err naming the
 * server or the answer's code and remark, so a long-running console can show
 * it and go on. mqadmin turns the same errors into its one-line deaths.
 */
#ifndef RMQ_TOOLS_ADMIN_CLIENT_H
#define RMQ_TOOLS_ADMIN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/fjson.h"
#include "common/message.h"
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT_MS 5000                 /* DefaultMQAdminExt timeoutMillis */
#define TIMEOUT_CONSUMER_MS 15000       /* calls relayed to a consumer: timeoutMillis * 3 */
#define MASTER_ID 0
#define TOOLS_CONSUMER_GROUP "TOOLS_CONSUMER"
#define DEFAULT_TOPIC "TBW102"
#define RETRY_PREFIX "%RETRY%"
#define DLQ_PREFIX "%DLQ%"

enum {
    RC_SUCCESS = 0, RC_FLUSH_DISK_TIMEOUT = 10, RC_SLAVE_NOT_AVAILABLE = 11, RC_FLUSH_SLAVE_TIMEOUT = 12,
    RC_TOPIC_NOT_EXIST = 17, RC_PULL_NOT_FOUND = 19, RC_PULL_RETRY_IMMEDIATELY = 20, RC_PULL_OFFSET_MOVED = 21,
    RC_QUERY_NOT_FOUND = 22, RC_CONSUMER_NOT_ONLINE = 206,
};

enum {
    SEND_MESSAGE_V2 = 310, PULL_MESSAGE = 11, QUERY_MESSAGE = 12, UPDATE_CONSUMER_OFFSET = 15,
    UPDATE_AND_CREATE_TOPIC = 17, UPDATE_BROKER_CONFIG = 25, GET_BROKER_CONFIG = 26, GET_BROKER_RUNTIME_INFO = 28,
    SEARCH_OFFSET_BY_TIMESTAMP = 29, GET_MAX_OFFSET = 30, GET_MIN_OFFSET = 31, VIEW_MESSAGE_BY_ID = 33,
    PUT_KV_CONFIG = 100, DELETE_KV_CONFIG = 102, GET_ROUTEINFO_BY_TOPIC = 105, GET_BROKER_CLUSTER_INFO = 106,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200, GET_TOPIC_STATS_INFO = 202, GET_CONSUMER_CONNECTION_LIST = 203,
    GET_PRODUCER_CONNECTION_LIST = 204, WIPE_WRITE_PERM_OF_BROKER = 205, GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206,
    DELETE_SUBSCRIPTIONGROUP = 207, GET_CONSUME_STATS = 208, DELETE_TOPIC_IN_BROKER = 215,
    DELETE_TOPIC_IN_NAMESRV = 216, INVOKE_BROKER_TO_RESET_OFFSET = 222, QUERY_TOPIC_CONSUME_BY_WHO = 300,
    CLEAN_EXPIRED_CONSUMEQUEUE = 306, GET_CONSUMER_RUNNING_INFO = 307, CONSUME_MESSAGE_DIRECTLY = 309,
    VIEW_BROKER_STATS_DATA = 315, CLEAN_UNUSED_TOPIC = 316, UPDATE_NAMESRV_CONFIG = 318, GET_NAMESRV_CONFIG = 319,
    GET_KV_CONFIG = 101, GET_BROKER_CONSUME_STATS = 317, QUERY_CONSUME_QUEUE = 321, ADD_WRITE_PERM_OF_BROKER = 327,
    DELETE_EXPIRED_COMMITLOG = 329, GET_SUBSCRIPTIONGROUP_CONFIG = 352, SET_MESSAGE_REQUEST_MODE = 401,
};

/* Why a call failed: the answer's code (-1: no answer, or one we cannot read) and the text to show. */
typedef struct adm_err {
    int code;
    char msg[512];
} adm_err;

/* A MessageQueue map key ({"brokerName":..,"queueId":..,"topic":..}) of a parsed body. */
typedef struct mq_entry {
    char *topic, *broker_name;
    int32_t queue_id;
    const cJSON *value;
} mq_entry;

#define MAX_ADDRS 16

typedef struct broker_data {
    const char *name, *cluster;
    int n_addrs;
    int64_t ids[MAX_ADDRS];
    const char *addrs[MAX_ADDRS];
} broker_data;

typedef struct route {
    cJSON *json;
    broker_data *brokers;
    int n_brokers;
    const cJSON *queues;   /* queueDatas */
} route;

typedef struct cluster_info {
    cJSON *json;
    const cJSON *clusters;   /* clusterAddrTable: name -> [brokerName] */
    const cJSON *brokers;    /* brokerAddrTable: brokerName -> BrokerData */
} cluster_info;

/* One decoded record; `rec` points into `raw`, its own copy. */
typedef struct message {
    uint8_t *raw;
    msg_record rec;
    msg_props props;
    char offset_id[MSG_ID_MAX_LEN + 1];
    char broker_name[128];
} message;

typedef struct mq {
    const char *topic, *broker_name, *addr;
    int32_t queue_id;
} mq;

typedef struct pull_result {
    int code;
    int64_t next_begin;
    message *msgs;
    int n;
} pull_result;

/* One queue of ResetOffsetByTimeOldCommand: what the tool itself committed. */
typedef struct reset_row {
    const char *broker_name;   /* points into the route */
    int32_t queue_id;
    int64_t broker_offset, consumer_offset, timestamp_offset, rollback_offset;
} reset_row;

/* ---- requests (admin_client.c) ---- */

extern char **namesrvs;
extern int n_namesrvs;

/* The `;`-separated name server list; -1 if it holds no address. */
int adm_set_namesrvs(const char *list);
rmq_cmd *adm_request(int code);
/* Applied to every request just before it is sent (mqadmin signs with tools.yml's keys). */
extern void (*adm_request_hook)(rmq_cmd *req);
/* One request over a fresh connection; takes req. NULL and e on a transport failure. */
rmq_cmd *adm_call(const char *addr, rmq_cmd *req, int timeout, adm_err *e);
/* As adm_call, and an answer other than SUCCESS is an error too (MQBrokerException's text). */
rmq_cmd *adm_call_ok(const char *addr, rmq_cmd *req, int timeout, adm_err *e);
/* To the first name server that answers (RemotingClient's choice); takes req. */
rmq_cmd *adm_namesrv_call(rmq_cmd *req, adm_err *e);
void adm_transport_err(adm_err *e, const char *addr, const char *err);
void adm_answer_err(adm_err *e, const rmq_cmd *r);
const char *remark_of(const rmq_cmd *r);
cJSON *adm_body_json(const rmq_cmd *r, adm_err *e);

const char *str_field(const cJSON *o, const char *name);
int64_t int_field(const cJSON *o, const char *name);
double double_field(const cJSON *o, const char *name);
bool bool_field(const cJSON *o, const char *name);

/* ---- routes and clusters (admin_client.c) ---- */

void parse_broker_data(const cJSON *o, broker_data *bd);
const char *select_addr(const broker_data *bd);
/* GET_ROUTEINFO_BY_TOPIC; -1 and e (code RC_TOPIC_NOT_EXIST when the topic has none). */
int adm_route(const char *topic, route *r, adm_err *e);
void route_free(route *r);
const cJSON *route_queue_data(const route *r, const char *broker_name);
const broker_data *route_broker(const route *r, const char *broker_name);
int adm_cluster_info(cluster_info *ci, adm_err *e);
const char **cluster_brokers(const cluster_info *ci, const char *cluster, int *n);
void java_hash_order(const char *const *keys, int n, int *order);
/* The same for keys given by their hashCode() (a HashSet of MessageQueue, say). */
void java_hash_order_codes(const int32_t *hashes, int n, int *order);
/* MQVersion.getVersionDesc: the Version enum's name of an ordinal. */
void version_desc(int64_t v, char *buf, size_t cap);

/* ---- messages and queues (admin_client.c) ---- */

int adm_decode_messages(const uint8_t *body, size_t len, message **out, int *n, adm_err *e);
void free_messages(message *m, int n);
const char *msg_id(const message *m);
int adm_queue_offset(int code, const mq *q, int64_t timestamp, int64_t *out, adm_err *e);
int adm_pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out,
             adm_err *e);
mq *subscribe_queues(const route *r, const char *topic, int *n);
int cmp_mq_entry(const void *a, const void *b);
void collect_mq_entries(const cJSON *table, mq_entry **out, int *n);
void free_mq_entries(mq_entry *e, int n);
void free_bodies(cJSON **bodies, int n);

/* ---- operations (admin_ops.c) ---- */

cJSON *adm_topic_list(adm_err *e);
/* GET_BROKER_RUNTIME_INFO's KVTable (inside *owner, to delete). */
cJSON *adm_runtime_table(const char *addr, cJSON **owner, adm_err *e);
/* GET_TOPIC_STATS_INFO from every broker of the route: *entries sorted, bodies to free. */
cJSON **adm_topic_stats(const route *r, const char *topic, int *n_bodies, mq_entry **entries, int *n, adm_err *e);
/* examineConsumeStats: GET_CONSUME_STATS from every broker of the group's retry topic.
 * NULL and e (RC_TOPIC_NOT_EXIST: the group has no retry topic yet) on failure. */
cJSON **adm_consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, adm_err *e);
/* examineConsumerConnectionInfo at broker_addr (or a broker of the retry topic);
 * NULL and e, code RC_CONSUMER_NOT_ONLINE when nobody is connected. */
cJSON *adm_consumer_connection(const char *group, const char *broker_addr, adm_err *e);
/* GET_PRODUCER_CONNECTION_LIST at a broker of the topic. */
cJSON *adm_producer_connection(const char *group, const char *topic, adm_err *e);
/* VIEW_MESSAGE_BY_ID at the store host written in the offset msgId. */
int adm_view_message(const char *id, message **out, int *n, adm_err *e);
/* QUERY_MESSAGE to every broker of the topic; what matches the key (or the UNIQ_KEY when unique). */
int adm_query_messages(const char *topic, const char *key, bool unique, message **out, int *n, adm_err *e);
/* The same with the query's maxNum and time range. */
int adm_query_messages_in(const char *topic, const char *key, bool unique, int max, int64_t begin, int64_t end,
                          message **out, int *n, adm_err *e);
/* SEND_MESSAGE_V2 of one message as DefaultMQProducer sends it (UNIQ_KEY into uniq). */
rmq_cmd *adm_send_one(const broker_data *bd, const char *addr, const char *topic, int32_t queue_id,
                      msg_props *props, const char *body, char uniq[33], adm_err *e);
const char *send_status(int code);

typedef struct adm_send_result {
    char broker_name[128];
    int32_t queue_id;
    int code;            /* SUCCESS or one of the flush/slave statuses (send_status) */
    char msg_id[33];     /* the UNIQ_KEY */
} adm_send_result;

/* sendMessage: to `broker` (NULL: the first writable one) of the topic's route, or TBW102's
 * when the topic has none (the broker creates it); queue_id -1 picks one. */
int adm_send_message(const char *topic, const char *broker, int32_t queue_id, msg_props *props, const char *body,
                     adm_send_result *out, adm_err *e);
/* INVOKE_BROKER_TO_RESET_OFFSET at every broker of the topic; the offsets set, sorted.
 * NULL with code RC_CONSUMER_NOT_ONLINE: nobody to tell, adm_reset_offset_old applies. */
cJSON **adm_reset_offset(const char *group, const char *topic, int64_t timestamp, bool force, bool for_cpp,
                         int *n_bodies, mq_entry **entries, int *n, adm_err *e);
/* ResetOffsetByTimeOldCommand's commits; -1 = now. The rows point into *r, which the caller frees. */
int adm_reset_offset_old(const char *group, const char *topic, int64_t timestamp, bool force, route *r,
                         reset_row **rows, int *n, adm_err *e);

#endif
