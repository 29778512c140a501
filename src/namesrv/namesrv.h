/*
 * namesrv: Apache RocketMQ 4.9.8's name server. Brokers register their topics
 * here (REGISTER_BROKER every 30 s); clients and tools ask for topic routes,
 * cluster membership and a small namespaced key/value store.
 *
 *  - route_table: RouteInfoManager — topic queue data, broker addresses,
 *    clusters, broker liveness, filter servers; answers as Apache's JSON bodies.
 *  - kv_config:   KVConfigManager — namespace/key/value, persisted as kvConfig.json.
 *  - namesrv_config: NamesrvConfig + NettyServerConfig as java.util.Properties.
 *  - namesrv:     the controller — a remoting server with every 4.9.8 request
 *    code, the broker expiry scan, and channel-close housekeeping.
 *
 * Everything runs on one event_base thread: nothing here takes locks. The one
 * exception is the decoding of a large REGISTER_BROKER body, on a worker thread
 * that touches nothing but that body (registrar.c).
 * JSON bodies come back malloc'd (caller frees); maps are iterated in the
 * order Java's HashMap would use, so bodies match Apache's byte for byte.
 */
#ifndef RMQ_NAMESRV_H
#define RMQ_NAMESRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remoting/remoting.h"

struct event_base;
typedef struct rmq_conn rmq_conn;

#define NAMESRV_ORDER_TOPIC_CONFIG "ORDER_TOPIC_CONFIG"   /* NamesrvUtil namespace */
#define NAMESRV_MASTER_ID 0                               /* MixAll.MASTER_ID */
#define NAMESRV_PERM_READ 4                               /* PermName */
#define NAMESRV_PERM_WRITE 2
#define NAMESRV_TOPIC_FLAG_UNIT 0x1                       /* TopicSysFlag */
#define NAMESRV_TOPIC_FLAG_UNIT_SUB 0x2

/* ---- route table ------------------------------------------------------ */

typedef struct route_table route_table;

/* DataVersion: a broker's topic-config version; equal = same timestamp and counter. */
typedef struct data_version {
    int64_t timestamp;
    int64_t counter;
    int64_t state_version;   /* 5.x: the master epoch of a broker in controller mode, else 0 */
} data_version;

/* The part of a broker's TopicConfig the name server keeps. */
typedef struct topic_config {
    char *topic_name;
    int32_t read_queue_nums, write_queue_nums, perm, topic_sys_flag;
} topic_config;

/* One REGISTER_BROKER, decoded. The route table copies what it keeps. */
typedef struct broker_registration {
    const char *cluster_name, *broker_addr, *broker_name, *ha_server_addr;
    int64_t broker_id;
    data_version data_version;
    const topic_config *topics;
    size_t n_topics;
    /* The filter-server list; NULL (with 0) from pre-V3_0_11 brokers, which
     * leave the filter-server table untouched. */
    char *const *filter_servers;
    size_t n_filter_servers;
    bool has_filter_servers;
    rmq_conn *conn;   /* the broker's channel (held while registered); may be NULL */
    /* 5.x: the header's enableActingMaster (-1 when absent: an older broker) and the
     * __ZONE_NAME ext field (NULL when absent). */
    int enable_acting_master;
    const char *zone_name;
    /* The body as received (CRC32 and length; length 0: not remembered), so
     * that the same body again can skip decoding (route_register_seen_body). */
    uint32_t body_crc32;
    size_t body_len;
} broker_registration;

/* What a slave learns about its master; strings malloc'd or NULL. */
typedef struct register_result {
    char *ha_server_addr;
    char *master_addr;
} register_result;

route_table *route_table_new(void);
void route_table_free(route_table *rt);   /* releases held channels */

void route_register_broker(route_table *rt, const broker_registration *reg, int64_t now_ms,
                           register_result *out);
/*
 * The same body again from the same registered broker (a periodic
 * registration of an unchanged table, or of one of its batches): only its
 * liveness, channel and HA address are updated and the data version that
 * body carried restored, nothing decoded or walked. REG's topics are not
 * looked at (the caller has not decoded them). False: not seen, register it.
 */
bool route_register_seen_body(route_table *rt, const broker_registration *reg, int64_t now_ms,
                              register_result *out);
void route_unregister_broker(route_table *rt, const char *cluster_name, const char *broker_addr,
                             const char *broker_name, int64_t broker_id);
/* QUERY_DATA_VERSION's questions. */
bool route_data_version_changed(const route_table *rt, const char *broker_addr, const data_version *dv);
bool route_broker_data_version(const route_table *rt, const char *broker_addr, data_version *out);
void route_touch_broker(route_table *rt, const char *broker_addr, int64_t now_ms);

/* Drops brokers not registered for longer than expire_ms (RouteInfoManager.
 * scanNotActiveBroker); their channels are closed. Returns how many. */
int route_scan_not_active(route_table *rt, int64_t now_ms, int64_t expire_ms);
/* A channel closed: forget the broker registered over it, or else the broker
 * whose address is remote_addr (RouteInfoManager.onChannelDestroy). */
void route_on_channel_destroy(route_table *rt, const char *remote_addr, const rmq_conn *conn);

/* DELETE_TOPIC_IN_NAMESRV: everywhere, or (cluster non-empty) on that cluster's brokers. */
void route_delete_topic(route_table *rt, const char *topic, const char *cluster_name);
/* WIPE_/ADD_WRITE_PERM_OF_BROKER: returns the number of topics touched. */
int route_wipe_write_perm(route_table *rt, const char *broker_name);
int route_add_write_perm(route_table *rt, const char *broker_name);

/*
 * TopicRouteData JSON, or NULL when the topic has no route. order_topic_conf
 * (may be NULL) is included as is. FORM: ROUTE_STANDARD selects the quoted-key,
 * sorted, browser-compatible form Apache sends to clients >= V4_9_4
 * (docs/remoting.md); ROUTE_5X adds what a 5.x name server writes in each
 * BrokerData (enableActingMaster, zoneName when known), for clients >= V5_0_0.
 */
enum { ROUTE_STANDARD = 1, ROUTE_5X = 2 };
char *route_topic_route_json(const route_table *rt, const char *topic, const char *order_topic_conf,
                             unsigned form, size_t *len);

/* GET_BROKER_MEMBER_GROUP's body: {"brokerMemberGroup":{"brokerAddrs":{..},"brokerName":..,"cluster":..}}. */
char *route_broker_member_group_json(const route_table *rt, const char *cluster, const char *broker_name,
                                     size_t *len);

/*
 * REGISTER_TOPIC_IN_NAMESRV (RouteInfoManager.registerTopic): the queue data of a
 * TopicRouteData body become TOPIC's route, unless one names a broker that is
 * not registered (then nothing changes). Queue data of other brokers stay.
 */
typedef struct route_queue {
    const char *broker_name;
    int32_t read_queue_nums, write_queue_nums, perm, topic_sys_flag;
} route_queue;
void route_register_topic(route_table *rt, const char *topic, const route_queue *queues, size_t n);
char *route_cluster_info_json(const route_table *rt, size_t *len);    /* ClusterInfo */
/* TopicList bodies. */
char *route_all_topics_json(const route_table *rt, size_t *len);
char *route_topics_by_cluster_json(const route_table *rt, const char *cluster, size_t *len);
char *route_system_topics_json(const route_table *rt, size_t *len);
enum unit_topic_kind { UNIT_TOPICS, HAS_UNIT_SUB_TOPICS, HAS_UNIT_SUB_UNUNIT_TOPICS };
char *route_unit_topics_json(const route_table *rt, enum unit_topic_kind kind, size_t *len);

/* ---- register body ------------------------------------------------------ */

/* A RegisterBrokerBody (or a bare TopicConfigSerializeWrapper from pre-V3_0_11
 * brokers), decoded; free with register_body_free. */
typedef struct register_body {
    data_version data_version;
    topic_config *topics;
    size_t n_topics;
    char **filter_servers;
    size_t n_filter_servers;
} register_body;

/*
 * Decode BODY as the broker sent it: JSON, or with `compressed` the zlib
 * stream of RegisterBrokerBody.encode(true). `wrapper_only` = the body is a
 * TopicConfigSerializeWrapper (pre-V3_0_11). A NULL body gives Apache's
 * default (version 0/0, no topics). RMQ_ERR with a reason in err.
 */
int register_body_decode(const uint8_t *body, size_t len, bool compressed, bool wrapper_only,
                         register_body *out, char *err, size_t errlen);
void register_body_free(register_body *b);

/* ---- kv config ------------------------------------------------------------ */

typedef struct kv_config kv_config;

kv_config *kv_config_new(const char *path);   /* path of kvConfig.json (copied) */
void kv_config_free(kv_config *kv);
/* Load the file (or its .bak); a missing file is an empty table. RMQ_ERR on bad JSON. */
int kv_config_load(kv_config *kv, char *err, size_t errlen);
/* Put/delete persist at once, as KVConfigManager does. RMQ_ERR if the write failed. */
int kv_config_put(kv_config *kv, const char *ns, const char *key, const char *value);
int kv_config_delete(kv_config *kv, const char *ns, const char *key);
const char *kv_config_get(const kv_config *kv, const char *ns, const char *key);
/* KVTable JSON of a namespace, NULL if the namespace does not exist. */
char *kv_config_namespace_json(const kv_config *kv, const char *ns, size_t *len);
int kv_config_persist(const kv_config *kv);

/* ---- configuration --------------------------------------------------------- */

/* java.util.Properties: ordered key/value strings. */
typedef struct props {
    char **keys, **vals;
    size_t n, cap;
} props;

/* Properties.load text format: comments, continuations, escapes, = : or blank separators. */
void props_parse(props *p, const char *text, size_t len);
const char *props_get(const props *p, const char *key);
void props_set(props *p, const char *key, const char *val);
void props_free(props *p);

typedef struct namesrv_config {
    /* NamesrvConfig */
    char *rocketmq_home;           /* $ROCKETMQ_HOME; NULL if unset */
    char *kv_config_path;          /* $HOME/namesrv/kvConfig.json */
    char *config_store_path;       /* $HOME/namesrv/namesrv.properties, or the -c file */
    char *product_env_name;
    bool cluster_test;
    bool order_message_enable;     /* add orderTopicConf to routes */
    char *config_black_list;
    /* NettyServerConfig (listenPort 9876 as NamesrvStartup sets it) */
    int32_t listen_port;
    int32_t server_worker_threads, server_callback_executor_threads, server_selector_threads;
    int32_t server_oneway_semaphore_value, server_async_semaphore_value;
    int32_t server_channel_max_idle_time_seconds;
    int32_t server_socket_snd_buf_size, server_socket_rcv_buf_size;
    int32_t write_buffer_high_water_mark, write_buffer_low_water_mark, server_socket_backlog;
    bool server_pooled_byte_buf_allocator_enable, use_epoll_native_selector;
    /* Every other key of the -c file, reported back like Apache's Configuration. */
    props extra;
    /* Ours, read from `extra`: listenAddress (default 0.0.0.0),
     * scanNotActiveBrokerInterval and brokerChannelExpiredTime in ms. */
    const char *listen_address;
    int64_t scan_interval_ms, broker_expired_ms;
    /* tls.server.* of the -c file (Apache: system properties / tls.properties);
     * taken out of `extra` so they are never reported back (keyPassword). */
    rmq_tls_config tls;
} namesrv_config;

void namesrv_config_init(namesrv_config *cfg);          /* Apache's defaults */
void namesrv_config_free(namesrv_config *cfg);
/* MixAll.properties2Object onto both config objects; unparsable values are ignored as in Java. */
void namesrv_config_apply(namesrv_config *cfg, const props *p);
/* -c FILE: apply it, keep unknown keys, remember it as configStorePath. */
int namesrv_config_load_file(namesrv_config *cfg, const char *path, char *err, size_t errlen);
/* "key=value\n" lines of every non-null setting (GET_NAMESRV_CONFIG, -p). */
char *namesrv_config_format(const namesrv_config *cfg);
/*
 * UPDATE_NAMESRV_CONFIG: refuses (RMQ_ERR) if any key is black-listed;
 * otherwise updates known keys and keys already present, then persists to
 * configStorePath (a failed write is logged, as in Java).
 */
int namesrv_config_update(namesrv_config *cfg, const props *p);

/* ---- the server ---------------------------------------------------------------- */

typedef struct namesrv namesrv;

/* Loads kvConfig, listens, starts the expiry scan. cfg is borrowed and must outlive ns. */
namesrv *namesrv_new(struct event_base *base, namesrv_config *cfg, const char **err);
void namesrv_free(namesrv *ns);     /* closes every connection, persists kv config */
/* Tests: FN(ARG) runs on the registration worker thread before it decodes a large
 * REGISTER_BROKER body (a test holds it there to see what is served meanwhile). */
void namesrv_on_decode(namesrv *ns, void (*fn)(void *arg), void *arg);

#endif
