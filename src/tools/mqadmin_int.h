/*
 * mqadmin_int.h: what the mqadmin sub-command files share — the parsed
 * command line, blocking requests to name servers and brokers, routes,
 * decoded messages, pulls and Java-style formatting. Private to src/tools.
 */
#ifndef RMQ_TOOLS_MQADMIN_INT_H
#define RMQ_TOOLS_MQADMIN_INT_H

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
#define ORDER_TOPIC_CONFIG "ORDER_TOPIC_CONFIG"
#define BODY_DIR "/tmp/rocketmq/msgbodys"

enum {
    RC_SUCCESS = 0, RC_FLUSH_DISK_TIMEOUT = 10, RC_SLAVE_NOT_AVAILABLE = 11, RC_FLUSH_SLAVE_TIMEOUT = 12,
    RC_TOPIC_NOT_EXIST = 17, RC_PULL_NOT_FOUND = 19, RC_PULL_RETRY_IMMEDIATELY = 20, RC_PULL_OFFSET_MOVED = 21,
    RC_CONSUMER_NOT_ONLINE = 206,
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
};

typedef struct opt_spec {
    char letter;
    const char *name;
    bool has_arg;
    bool required;
    const char *desc;
} opt_spec;

typedef struct command {
    const char *name, *desc;
    const opt_spec *opts;
    void (*run)(void);
    const char *one_of;   /* an OptionGroup: one of these letters is required */
} command;

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

/* ---- command line (mqadmin.c) ---- */

extern const char *current_command;
extern const char *opt_val[128];
extern bool opt_set[128];

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
bool has(char c);
const char *val(char c);
char *trim(char *s);
int64_t long_opt(char c, int64_t dflt);
bool bool_opt(char c, bool dflt);
int64_t timestamp_opt(char c);

/* ---- requests, routes, messages, pulls (mqadmin_client.c) ---- */

extern char **namesrvs;
extern int n_namesrvs;

void load_namesrvs(void);
rmq_cmd *request(int code);
rmq_cmd *call_try(const char *addr, rmq_cmd *req, int timeout, char *err, size_t errlen);
void die_transport(const char *addr, const char *err) __attribute__((noreturn));
rmq_cmd *call(const char *addr, rmq_cmd *req, int timeout);
const char *remark_of(const rmq_cmd *r);
void die_answer(const rmq_cmd *r) __attribute__((noreturn));
rmq_cmd *call_ok(const char *addr, rmq_cmd *req, int timeout);
rmq_cmd *namesrv_call(rmq_cmd *req);
cJSON *body_json(const rmq_cmd *r);
const char *str_field(const cJSON *o, const char *name);
int64_t int_field(const cJSON *o, const char *name);
double double_field(const cJSON *o, const char *name);
bool bool_field(const cJSON *o, const char *name);
void parse_broker_data(const cJSON *o, broker_data *bd);
const char *select_addr(const broker_data *bd);
void route_free(route *r);
bool get_route(const char *topic, route *r, bool must);
const cJSON *route_queue_data(const route *r, const char *broker_name);
const broker_data *route_broker(const route *r, const char *broker_name);
void get_cluster_info(cluster_info *ci);
const char **cluster_brokers(const cluster_info *ci, const char *cluster, int *n);
const char **cluster_addrs(const cluster_info *ci, const char *cluster, bool with_slaves, int *n);
const char **target_brokers(cluster_info *ci, int *n);
void human_time(int64_t ms, char *buf, size_t cap);
const char *front(const char *s, int len, char *buf, size_t cap);
void version_desc(int64_t v, char *buf, size_t cap);
void java_hash_order(const char *const *keys, int n, int *order);
message *decode_messages(const uint8_t *body, size_t len, int *n);
void free_messages(message *m, int n);
const char *msg_id(const message *m);
void print_message_detail(const message *m, int index, bool with_offset_id);
void print_message_line(const message *m, bool print_body);
int64_t queue_offset_call(int code, const mq *q, int64_t timestamp);
void pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out);
const char *pull_status(int code);
void mq_string(const mq *q, char *buf, size_t cap);
mq *subscribe_queues(const route *r, const char *topic, int *n);

/* ---- topics (mqadmin_topic.c) ---- */

void put_kv_config(const char *ns, const char *key, const char *value);
void delete_topic(const char *cluster, const char *topic);
cJSON *topic_list(void);
cJSON *consume_by_who(const route *r, const char *topic);
int cmp_mq_entry(const void *a, const void *b);
void collect_mq_entries(const cJSON *table, mq_entry **out, int *n);
void free_mq_entries(mq_entry *e, int n);

void cmd_update_topic(void);
void cmd_delete_topic(void);
void cmd_topic_list(void);
void cmd_topic_route(void);
void cmd_topic_status(void);
void cmd_topic_cluster_list(void);
void cmd_stats_all(void);

/* ---- clusters and brokers (mqadmin_broker.c) ---- */

void print_properties(const uint8_t *body, size_t len);
rmq_cmd *properties_request(int code, const char *key, const char *value);

void cmd_cluster_list(void);
void cmd_broker_status(void);
void cmd_get_broker_config(void);
void cmd_update_broker_config(void);
void cmd_clean_expired_cq(void);
void cmd_clean_unused_topic(void);
void cmd_cluster_rt(void);

/* ---- name servers (mqadmin_namesrv.c) ---- */

void cmd_update_kv_config(void);
void cmd_delete_kv_config(void);
void cmd_get_namesrv_config(void);
void cmd_update_namesrv_config(void);
void cmd_wipe_write_perm(void);

/* ---- groups and consumers (mqadmin_group.c) ---- */

cJSON **consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, bool must);
void free_bodies(cJSON **bodies, int n);
cJSON *consumer_connection(const char *group, const char *broker_addr, int *code, bool must);

void cmd_update_sub_group(void);
void cmd_delete_sub_group(void);
void cmd_consumer_progress(void);
void cmd_consumer_connection(void);
void cmd_producer_connection(void);
void cmd_consumer_status(void);
void cmd_reset_offset_by_time(void);

/* ---- messages (mqadmin_message.c) ---- */

rmq_cmd *send_one(const broker_data *bd, const char *addr, const char *topic, int32_t queue_id, msg_props *props,
                  const char *body, char uniq[33], char *err, size_t errlen);
void print_track(const message *m);

void cmd_query_msg_by_id(void);
void cmd_query_msg_by_key(void);
void cmd_query_msg_by_unique_key(void);
void cmd_query_msg_by_offset(void);
void cmd_print_msg(void);
void cmd_print_msg_by_queue(void);
void cmd_consume_message(void);
void cmd_send_message(void);

#endif
