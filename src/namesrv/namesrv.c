/*
 * The name server controller (NamesrvController) and its request processor
 * (DefaultRequestProcessor): one remoting server, the route table, the KV
 * store, the broker expiry scan and channel-close housekeeping.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "controller/controller.h"
#include "namesrv/namesrv.h"
#include "namesrv/registrar_int.h"
#include "remoting/remoting.h"

#define LOG_MOD "namesrv"

/* RequestCode (4.9.8) served by DefaultRequestProcessor. */
enum {
    PUT_KV_CONFIG = 100, GET_KV_CONFIG = 101, DELETE_KV_CONFIG = 102,
    REGISTER_BROKER = 103, UNREGISTER_BROKER = 104, GET_ROUTEINFO_BY_TOPIC = 105,
    GET_BROKER_CLUSTER_INFO = 106, WIPE_WRITE_PERM_OF_BROKER = 205,
    GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206, DELETE_TOPIC_IN_NAMESRV = 216,
    GET_KVLIST_BY_NAMESPACE = 219, GET_TOPICS_BY_CLUSTER = 224,
    GET_SYSTEM_TOPIC_LIST_FROM_NS = 304, GET_UNIT_TOPIC_LIST = 311,
    GET_HAS_UNIT_SUB_TOPIC_LIST = 312, GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST = 313,
    UPDATE_NAMESRV_CONFIG = 318, GET_NAMESRV_CONFIG = 319, QUERY_DATA_VERSION = 322,
    ADD_WRITE_PERM_OF_BROKER = 327,
    BROKER_HEARTBEAT = 904,   /* 5.x */
    REGISTER_TOPIC_IN_NAMESRV = 217, GET_BROKER_MEMBER_GROUP = 901,   /* 5.x */
};

/* ResponseCode */
enum { SUCCESS = 0, SYSTEM_ERROR = 1, NO_PERMISSION = 16, TOPIC_NOT_EXIST = 17, QUERY_NOT_FOUND = 22 };

/* MQVersion ordinals that change the name server's behaviour. */
#define VERSION_V4_9_4 401   /* clients from here on get standard JSON routes */
#define VERSION_V5_0_0 413   /* ... and the 5.x fields of BrokerData */

#define FAQ_SUGGEST "\nSee http://rocketmq.apache.org/docs/faq/ for further details."

struct namesrv {
    struct event_base *base;
    namesrv_config *cfg;
    rmq_server *server;
    route_table *routes;
    kv_config *kv;
    registrar *registrar;     /* REGISTER_BROKER, UNREGISTER_BROKER */
    struct event *scan_timer;
    controller *controller;   /* enableControllerInNamesrv=true */
};

/* ---- helpers ---- */

/* Decode a request header; on failure *resp is Apache's SYSTEM_ERROR answer. */
static bool decode_header(const rmq_cmd *req, const hdr_field *fields, size_t n, void *out, rmq_cmd **resp)
{
    char err[256];
    if (cmd_decode_header(req, fields, n, out, err, sizeof err) == RMQ_OK) return true;
    *resp = cmd_new_response(req, SYSTEM_ERROR, err);
    return false;
}
#define DECODE(req, fields, out, resp) decode_header(req, fields, sizeof fields / sizeof fields[0], out, resp)

static rmq_cmd *success(const rmq_cmd *req) { return cmd_new_response(req, SUCCESS, NULL); }

/* SUCCESS carrying a malloc'd body (none when json is NULL). */
static rmq_cmd *success_with_body(const rmq_cmd *req, char *json, size_t len)
{
    rmq_cmd *resp = success(req);
    if (json) cmd_take_body(resp, json, len);
    return resp;
}

static char *data_version_json(const data_version *dv, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "counter", dv->counter);
    fjson_prop_int64(&w, "timestamp", dv->timestamp);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

/* ---- KV config (100, 101, 102, 219) ---- */

typedef struct kv_header {
    const char *namespace_, *key, *value;
} kv_header;

static int put_kv_config(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {
        {"namespace", HDR_STR, true, offsetof(kv_header, namespace_)},
        {"key", HDR_STR, true, offsetof(kv_header, key)},
        {"value", HDR_STR, true, offsetof(kv_header, value)},
    };
    namesrv *ns = arg;
    kv_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    kv_config_put(ns->kv, h.namespace_, h.key, h.value);
    *resp = success(req);
    return RMQ_OK;
}

static const hdr_field ns_key_fields[] = {
    {"namespace", HDR_STR, true, offsetof(kv_header, namespace_)},
    {"key", HDR_STR, true, offsetof(kv_header, key)},
};

static int get_kv_config(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    kv_header h = {0};
    if (!DECODE(req, ns_key_fields, &h, resp)) return RMQ_OK;
    const char *value = kv_config_get(ns->kv, h.namespace_, h.key);
    if (value) {
        *resp = success(req);
        cmd_ext_set(*resp, "value", value);
    } else {
        *resp = cmd_new_response(req, QUERY_NOT_FOUND, NULL);
        cmd_ext_declare(*resp); /* GetKVConfigResponseHeader */
        cmd_set_remark(*resp, "No config item, Namespace: %s Key: %s", h.namespace_, h.key);
    }
    return RMQ_OK;
}

static int delete_kv_config(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    kv_header h = {0};
    if (!DECODE(req, ns_key_fields, &h, resp)) return RMQ_OK;
    kv_config_delete(ns->kv, h.namespace_, h.key);
    *resp = success(req);
    return RMQ_OK;
}

static int get_kvlist_by_namespace(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {{"namespace", HDR_STR, true, offsetof(kv_header, namespace_)}};
    namesrv *ns = arg;
    kv_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    size_t len;
    char *json = kv_config_namespace_json(ns->kv, h.namespace_, &len);
    if (json) {
        *resp = success_with_body(req, json, len);
    } else {
        *resp = cmd_new_response(req, QUERY_NOT_FOUND, NULL);
        cmd_set_remark(*resp, "No config item, Namespace: %s", h.namespace_);
    }
    return RMQ_OK;
}

/* ---- brokers (322, 904; 103 and 104 in registrar.c) ---- */

typedef struct broker_header {
    const char *broker_name, *broker_addr, *cluster_name;
    int64_t broker_id;
} broker_header;

static const hdr_field broker_id_fields[] = {
    {"brokerName", HDR_STR, true, offsetof(broker_header, broker_name)},
    {"brokerAddr", HDR_STR, true, offsetof(broker_header, broker_addr)},
    {"clusterName", HDR_STR, true, offsetof(broker_header, cluster_name)},
    {"brokerId", HDR_I64, true, offsetof(broker_header, broker_id)},
};

static int query_data_version(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    broker_header h = {0};
    if (!DECODE(req, broker_id_fields, &h, resp)) return RMQ_OK;
    cJSON *j = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    data_version dv = {0};
    bool ok = cJSON_IsObject(j) && fjson_field_int64(j, "timestamp", &dv.timestamp) != FJSON_WRONG_TYPE &&
              fjson_field_int64(j, "counter", &dv.counter) != FJSON_WRONG_TYPE;
    cJSON_Delete(j);
    if (!ok) {
        *resp = cmd_new_response(req, SYSTEM_ERROR, "DataVersion body missing or malformed");
        return RMQ_OK;
    }
    bool changed = route_data_version_changed(ns->routes, h.broker_addr, &dv);
    if (!changed) route_touch_broker(ns->routes, h.broker_addr, now_ms());
    data_version mine;
    size_t len = 0;
    char *json = route_broker_data_version(ns->routes, h.broker_addr, &mine) ? data_version_json(&mine, &len)
                                                                              : NULL;
    *resp = success_with_body(req, json, len);
    cmd_ext_set_bool(*resp, "changed", changed);
    return RMQ_OK;
}

/* 5.x BROKER_HEARTBEAT (BrokerHeartbeatRequestHeader; its optional HA fields unused): the
 * broker's live time is refreshed as a registration would. */
static int broker_heartbeat(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {
        {"clusterName", HDR_STR, true, offsetof(broker_header, cluster_name)},
        {"brokerAddr", HDR_STR, true, offsetof(broker_header, broker_addr)},
        {"brokerName", HDR_STR, true, offsetof(broker_header, broker_name)},
    };
    namesrv *ns = arg;
    broker_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    route_touch_broker(ns->routes, h.broker_addr, now_ms());
    *resp = success(req);
    return RMQ_OK;
}

/* ---- routes and topics (105, 106, 205, 206, 216, 224, 304, 311-313, 327) ---- */

typedef struct topic_header {
    const char *topic, *cluster;
    bool accept_standard_json_only;
} topic_header;

static int get_routeinfo_by_topic(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {
        {"topic", HDR_STR, true, offsetof(topic_header, topic)},
        {"acceptStandardJsonOnly", HDR_BOOL, false, offsetof(topic_header, accept_standard_json_only)},
    };
    namesrv *ns = arg;
    topic_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    const char *order_conf = ns->cfg->order_message_enable
                                 ? kv_config_get(ns->kv, NAMESRV_ORDER_TOPIC_CONFIG, h.topic) : NULL;
    unsigned form = (req->version >= VERSION_V4_9_4 || h.accept_standard_json_only ? ROUTE_STANDARD : 0) |
                    (req->version >= VERSION_V5_0_0 ? ROUTE_5X : 0);
    size_t len;
    char *json = route_topic_route_json(ns->routes, h.topic, order_conf, form, &len);
    if (json) {
        *resp = success_with_body(req, json, len);
    } else {
        *resp = cmd_new_response(req, TOPIC_NOT_EXIST, NULL);
        cmd_set_remark(*resp, "No topic route info in name server for the topic: %s" FAQ_SUGGEST, h.topic);
    }
    return RMQ_OK;
}

/*
 * 5.x REGISTER_TOPIC_IN_NAMESRV: a TopicRouteData body's queueDatas become the topic's route.
 * 5.x's header decoding lets a missing @CFNotNull field through as null (docs/remoting.md):
 * without a topic Apache files the route under a null key no client can ask for; we skip it.
 */
static int register_topic_in_namesrv(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {{"topic", HDR_STR, false, offsetof(topic_header, topic)}};
    namesrv *ns = arg;
    topic_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    if (!req->body || !req->body_len || !h.topic) {  /* TopicRouteData.decode(null): nothing to register */
        *resp = success(req);
        return RMQ_OK;
    }
    const char *why = NULL;
    cJSON *root = fjson_parse((const char *)req->body, req->body_len, &why);
    const cJSON *qds = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "queueDatas") : NULL, *q;
    if (!cJSON_IsObject(root) || (qds && !cJSON_IsNull(qds) && !cJSON_IsArray(qds))) {
        *resp = cmd_new_response(req, SYSTEM_ERROR, NULL);
        cmd_set_remark(*resp, "com.alibaba.fastjson.JSONException: %s", why ? why : "not a TopicRouteData");
        cJSON_Delete(root);
        return RMQ_OK;
    }
    size_t n = 0, cap = cJSON_IsArray(qds) ? (size_t)cJSON_GetArraySize(qds) : 0;
    route_queue *queues = xcalloc(cap + 1, sizeof *queues);
    bool ok = true;
    if (!cJSON_IsArray(qds)) qds = NULL;
    cJSON_ArrayForEach(q, qds)
    {
        route_queue *r = &queues[n];
        ok = cJSON_IsObject(q) && fjson_field_string(q, "brokerName", &r->broker_name) == FJSON_OK &&
             fjson_field_int32(q, "readQueueNums", &r->read_queue_nums) != FJSON_WRONG_TYPE &&
             fjson_field_int32(q, "writeQueueNums", &r->write_queue_nums) != FJSON_WRONG_TYPE &&
             fjson_field_int32(q, "perm", &r->perm) != FJSON_WRONG_TYPE &&
             fjson_field_int32(q, "topicSysFlag", &r->topic_sys_flag) != FJSON_WRONG_TYPE;
        if (!ok) break;
        n++;
    }
    if (ok) {
        route_register_topic(ns->routes, h.topic, queues, n);
        *resp = success(req);
    } else {
        *resp = cmd_new_response(req, SYSTEM_ERROR, "com.alibaba.fastjson.JSONException: bad QueueData");
    }
    free(queues);
    cJSON_Delete(root);
    return RMQ_OK;
}

/*
 * 5.x GET_BROKER_MEMBER_GROUP: the addresses of one broker group (an empty map when unknown).
 * Missing fields are null, not refused, as 5.x decodes headers; the success keeps the remark
 * createResponseCommand(null) put there.
 */
static int get_broker_member_group(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {
        {"clusterName", HDR_STR, false, offsetof(broker_header, cluster_name)},
        {"brokerName", HDR_STR, false, offsetof(broker_header, broker_name)},
    };
    namesrv *ns = arg;
    broker_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    size_t len;
    char *json = route_broker_member_group_json(ns->routes, h.cluster_name, h.broker_name, &len);
    *resp = success_with_body(req, json, len);
    cmd_set_remark(*resp, "not set any response code");
    return RMQ_OK;
}

static int get_broker_cluster_info(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    size_t len;
    char *json = route_cluster_info_json(ns->routes, &len);
    *resp = success_with_body(req, json, len);
    return RMQ_OK;
}

static int operate_write_perm(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, namesrv *ns, bool wipe)
{
    static const hdr_field fields[] = {{"brokerName", HDR_STR, true, offsetof(broker_header, broker_name)}};
    broker_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    int count = wipe ? route_wipe_write_perm(ns->routes, h.broker_name)
                     : route_add_write_perm(ns->routes, h.broker_name);
    log_info(LOG_MOD, "%s write perm of broker[%s], client: %s, %d", wipe ? "wipe" : "add", h.broker_name,
             rmq_conn_remote(c), count);
    *resp = success(req);
    cmd_ext_set_int(*resp, wipe ? "wipeTopicCount" : "addTopicCount", count);
    return RMQ_OK;
}

static int wipe_write_perm_of_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    return operate_write_perm(c, req, resp, arg, true);
}

static int add_write_perm_of_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    return operate_write_perm(c, req, resp, arg, false);
}

static int get_all_topic_list(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    size_t len;
    char *json = route_all_topics_json(ns->routes, &len);
    *resp = success_with_body(req, json, len);
    return RMQ_OK;
}

static int delete_topic_in_namesrv(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {
        {"topic", HDR_STR, true, offsetof(topic_header, topic)},
        {"clusterName", HDR_STR, false, offsetof(topic_header, cluster)},
    };
    namesrv *ns = arg;
    topic_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    route_delete_topic(ns->routes, h.topic, h.cluster);
    *resp = success(req);
    return RMQ_OK;
}

static int get_topics_by_cluster(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field fields[] = {{"cluster", HDR_STR, true, offsetof(topic_header, cluster)}};
    namesrv *ns = arg;
    topic_header h = {0};
    if (!DECODE(req, fields, &h, resp)) return RMQ_OK;
    size_t len;
    char *json = route_topics_by_cluster_json(ns->routes, h.cluster, &len);
    *resp = success_with_body(req, json, len);
    return RMQ_OK;
}

static int get_system_topic_list(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    size_t len;
    char *json = route_system_topics_json(ns->routes, &len);
    *resp = success_with_body(req, json, len);
    return RMQ_OK;
}

static int unit_topics(rmq_cmd *req, rmq_cmd **resp, namesrv *ns, enum unit_topic_kind kind)
{
    size_t len;
    char *json = route_unit_topics_json(ns->routes, kind, &len);
    *resp = success_with_body(req, json, len);
    return RMQ_OK;
}

static int get_unit_topic_list(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    return unit_topics(req, resp, arg, UNIT_TOPICS);
}

static int get_has_unit_sub_topic_list(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    return unit_topics(req, resp, arg, HAS_UNIT_SUB_TOPICS);
}

static int get_has_unit_sub_ununit_topic_list(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    return unit_topics(req, resp, arg, HAS_UNIT_SUB_UNUNIT_TOPICS);
}

/* ---- configuration (318, 319) ---- */

static int update_namesrv_config(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    log_info(LOG_MOD, "updateConfig called by %s", rmq_conn_remote(c));
    if (req->body_len) {
        props p = {0};
        props_parse(&p, (const char *)req->body, req->body_len);
        int rc = namesrv_config_update(ns->cfg, &p);
        props_free(&p);
        if (rc != RMQ_OK) {
            *resp = cmd_new_response(req, NO_PERMISSION, "Can not update config in black list.");
            return RMQ_OK;
        }
    }
    *resp = success(req);
    return RMQ_OK;
}

static int get_namesrv_config(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    namesrv *ns = arg;
    char *text = namesrv_config_format(ns->cfg);
    size_t len = strlen(text);
    if (len) {
        *resp = success_with_body(req, text, len);
    } else {
        free(text);
        *resp = success(req);
    }
    return RMQ_OK;
}

/* ---- controller ---- */

static void on_channel_close(rmq_conn *c, void *arg)
{
    namesrv *ns = arg;
    route_on_channel_destroy(ns->routes, rmq_conn_remote(c), c);
}

static void scan_not_active_broker(evutil_socket_t fd, short what, void *arg)
{
    namesrv *ns = arg;
    route_scan_not_active(ns->routes, now_ms(), ns->cfg->broker_expired_ms);
}

static void mkdirs_parent(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdirs(dir) != RMQ_OK) log_warn(LOG_MOD, "cannot create %s: %s", dir, strerror(errno));
    }
    free(dir);
}

static const char *extra_get(void *arg, const char *key) { return props_get(arg, key); }

/*
 * NamesrvStartup.controllerManagerMain: with enableControllerInNamesrv=true
 * the process also runs the controller, on the port its DLedger self peer
 * names (controller.h). RMQ_ERR when its keys are wrong or the port is taken.
 */
static int start_controller(namesrv *ns, const char **err)
{
    const char *on = props_get(&ns->cfg->extra, "enableControllerInNamesrv");
    if (!on || strcmp(on, "true") != 0) return RMQ_OK;
    static char why[512];
    controller_config cc;
    if (controller_config_from(&cc, extra_get, &ns->cfg->extra, why, sizeof why) == RMQ_OK) {
        cc.listen_host = ns->cfg->listen_address;
        ns->controller = controller_new(ns->base, &cc, why, sizeof why);
        controller_config_free(&cc);
        if (ns->controller) return RMQ_OK;
    }
    log_error(LOG_MOD, "controller: %s", why);
    *err = why;
    return RMQ_ERR;
}

namesrv *namesrv_new(struct event_base *base, namesrv_config *cfg, const char **err)
{
    namesrv *ns = xcalloc(1, sizeof *ns);
    ns->base = base;
    ns->cfg = cfg;
    ns->routes = route_table_new();
    /* Files are written later with no chance to create their directories. */
    mkdirs_parent(cfg->kv_config_path);
    mkdirs_parent(cfg->config_store_path);
    ns->kv = kv_config_new(cfg->kv_config_path);
    char why[512];
    if (kv_config_load(ns->kv, why, sizeof why) != RMQ_OK) {
        log_error(LOG_MOD, "load KV config failed: %s", why);
        *err = "cannot load the KV config file (see log)";
        namesrv_free(ns);
        return NULL;
    }

    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = cfg->listen_address;
    sc.port = cfg->listen_port;
    sc.idle_seconds = cfg->server_channel_max_idle_time_seconds;
    if (cfg->write_buffer_high_water_mark > 0) sc.write_high_water = (size_t)cfg->write_buffer_high_water_mark;
    sc.name = LOG_MOD;
    sc.tls = cfg->tls;
    ns->server = rmq_server_new(base, &sc, err);
    if (!ns->server) {
        namesrv_free(ns);
        return NULL;
    }
    static const struct {
        int32_t code;
        rmq_processor_fn fn;
    } procs[] = {
        {PUT_KV_CONFIG, put_kv_config},
        {GET_KV_CONFIG, get_kv_config},
        {DELETE_KV_CONFIG, delete_kv_config},
        {QUERY_DATA_VERSION, query_data_version},
        {GET_ROUTEINFO_BY_TOPIC, get_routeinfo_by_topic},
        {GET_BROKER_CLUSTER_INFO, get_broker_cluster_info},
        {WIPE_WRITE_PERM_OF_BROKER, wipe_write_perm_of_broker},
        {ADD_WRITE_PERM_OF_BROKER, add_write_perm_of_broker},
        {GET_ALL_TOPIC_LIST_FROM_NAMESERVER, get_all_topic_list},
        {DELETE_TOPIC_IN_NAMESRV, delete_topic_in_namesrv},
        {GET_KVLIST_BY_NAMESPACE, get_kvlist_by_namespace},
        {GET_TOPICS_BY_CLUSTER, get_topics_by_cluster},
        {GET_SYSTEM_TOPIC_LIST_FROM_NS, get_system_topic_list},
        {GET_UNIT_TOPIC_LIST, get_unit_topic_list},
        {GET_HAS_UNIT_SUB_TOPIC_LIST, get_has_unit_sub_topic_list},
        {GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, get_has_unit_sub_ununit_topic_list},
        {UPDATE_NAMESRV_CONFIG, update_namesrv_config},
        {GET_NAMESRV_CONFIG, get_namesrv_config},
        {BROKER_HEARTBEAT, broker_heartbeat},
        {REGISTER_TOPIC_IN_NAMESRV, register_topic_in_namesrv},
        {GET_BROKER_MEMBER_GROUP, get_broker_member_group},
    };
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        rmq_server_register(ns->server, procs[i].code, procs[i].fn, ns);
    ns->registrar = registrar_new(base, ns->routes, ns->kv);
    rmq_server_register(ns->server, REGISTER_BROKER, registrar_register_broker, ns->registrar);
    rmq_server_register(ns->server, UNREGISTER_BROKER, registrar_unregister_broker, ns->registrar);
    rmq_server_on_close(ns->server, on_channel_close, ns);
    if (start_controller(ns, err)) {
        namesrv_free(ns);
        return NULL;
    }

    ns->scan_timer = event_new(base, -1, EV_PERSIST, scan_not_active_broker, ns);
    struct timeval tv = {cfg->scan_interval_ms / 1000, (cfg->scan_interval_ms % 1000) * 1000};
    event_add(ns->scan_timer, &tv);
    return ns;
}

void namesrv_on_decode(namesrv *ns, void (*fn)(void *arg), void *arg)
{
    registrar_on_decode(ns->registrar, fn, arg);
}

void namesrv_free(namesrv *ns)
{
    if (!ns) return;
    bool started = ns->server != NULL;
    if (ns->scan_timer) event_free(ns->scan_timer);
    controller_free(ns->controller);
    registrar_free(ns->registrar);   /* before the connections and routes it uses */
    rmq_server_free(ns->server);   /* closing connections updates the routes */
    if (started) kv_config_persist(ns->kv);
    route_table_free(ns->routes);
    kv_config_free(ns->kv);
    free(ns);
}
