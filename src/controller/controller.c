/*
 * The controller's server: Apache's ControllerRequestProcessor on its own
 * remoting port, the heartbeat expiry scan (DefaultBrokerHeartbeatManager.
 * scanNotActiveBroker) and re-election (ControllerManager.onBrokerInactive,
 * scanInactiveMasterAndTriggerReelect), and NOTIFY_BROKER_ROLE_CHANGED to a
 * set's live members after an election (ControllerManager.notifyBrokerRoleChanged).
 */
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "controller/controller.h"
#include "remoting/remoting.h"

#define LOG_MOD "controller"
#define RC_SUCCESS 0
#define RC_SYSTEM_ERROR 1
#define NOTIFY_TIMEOUT_MS 3000
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 10000   /* DEFAULT_BROKER_CHANNEL_EXPIRED_TIME */

struct controller {
    struct event_base *base;
    rmq_server *server;
    rmq_client *client;          /* role-change notifications to brokers */
    ctl_state *state;
    struct event *scan_timer;
    char *group, *self_id, *self_addr, *peers;
    /* Several peers: the first one leads, always (no quorum, no re-election of
     * the controller); the others only name it (docs/ha.md, "Several controllers"). */
    char *leader_id, *leader_addr;
    bool follower;
    char *state_file;            /* controllerStorePath/controller.json, NULL: memory only */
    bool notify;
    bool closing;                /* shutting down: closed channels are not broker deaths */
    int64_t started_ms;
};

/* After each change: the next start reads it back (controller.h). */
static void persist(controller *c)
{
    if (!c->state_file) return;
    size_t len;
    char *json = ctl_state_dump(c->state, &len);
    if (write_file_atomic(c->state_file, json, len)) log_error(LOG_MOD, "cannot write %s", c->state_file);
    free(json);
}

static bool decode(const rmq_cmd *req, const hdr_field *f, size_t n, void *out, rmq_cmd **resp)
{
    char err[256];
    if (cmd_decode_header(req, f, n, out, err, sizeof err) == RMQ_OK) return true;
    *resp = cmd_new_response(req, CTL_INVALID_REQUEST, err);
    return false;
}
#define DECODE(req, f, out, resp) decode(req, f, sizeof f / sizeof f[0], out, resp)

static rmq_cmd *answer(const rmq_cmd *req, const ctl_reply *r)
{
    return cmd_new_response(req, r->code, r->code ? r->remark : NULL);
}

/* The master part of RegisterBrokerToController/ElectMaster/GetReplicaInfo response headers. */
static void put_master(rmq_cmd *resp, const ctl_master_info *m, bool with_set_epoch)
{
    if (m->master_id != CTL_NO_ID) {
        cmd_ext_set_int(resp, "masterBrokerId", m->master_id);
        if (m->master_addr) cmd_ext_set(resp, "masterAddress", m->master_addr);
    }
    cmd_ext_set_int(resp, "masterEpoch", m->master_epoch);
    if (with_set_epoch) cmd_ext_set_int(resp, "syncStateSetEpoch", m->sync_state_set_epoch);
}

static void set_json_body(rmq_cmd *resp, char *json, size_t len)
{
    cmd_take_body(resp, json, len);
}

/* ---- notification ---- */

static void notify_members(controller *c, const char *broker_name, const ctl_master_info *m)
{
    if (!c->notify || m->master_id == CTL_NO_ID) return;
    const char *cluster = NULL;
    int64_t ids[CTL_MAX_REPLICAS];
    const char *addrs[CTL_MAX_REPLICAS];
    int n = ctl_members(c->state, broker_name, &cluster, ids, addrs, CTL_MAX_REPLICAS);
    int64_t now = now_ms();
    for (int i = 0; i < n; i++) {
        if (!ctl_broker_alive(c->state, cluster, broker_name, ids[i], now)) continue;
        rmq_cmd *req = cmd_new_request(CTL_CODE_NOTIFY_BROKER_ROLE_CHANGED);
        if (m->master_addr) cmd_ext_set(req, "masterAddress", m->master_addr);
        cmd_ext_set_int(req, "masterBrokerId", m->master_id);
        cmd_ext_set_int(req, "masterEpoch", m->master_epoch);
        cmd_ext_set_int(req, "syncStateSetEpoch", m->sync_state_set_epoch);
        size_t len;
        char *body = ctl_sync_state_set_json(m, &len);
        cmd_take_body(req, body, len);
        rmq_client_oneway(c->client, addrs[i], req);
    }
}

/* ControllerManager.triggerElectMaster: a controller-triggered election of the set. */
static void elect_for(void *arg, const char *broker_name)
{
    controller *c = arg;
    ctl_master_info m;
    ctl_reply r;
    char *name = xstrdup(broker_name);   /* the set may be the caller's iteration key */
    int rc = ctl_elect_master(c->state, name, CTL_NO_ID, false, now_ms(), &m, &r);
    if (rc != CTL_MASTER_STILL_EXIST) persist(c);
    if (rc == 0) {
        log_info(LOG_MOD, "broker set %s: elected broker %lld (%s) as master, epoch %d", name,
                 (long long)m.master_id, m.master_addr ? m.master_addr : "?", m.master_epoch);
        notify_members(c, name, &m);
    } else if (r.code != CTL_MASTER_STILL_EXIST) {
        log_warn(LOG_MOD, "broker set %s: no new master: %s", name, r.remark);
    }
    free(name);
}

/* onBrokerInactive: only the master's going triggers an election. */
static void on_inactive(void *arg, const char *cluster, const char *broker_name, int64_t id)
{
    controller *c = arg;
    ctl_master_info m;
    ctl_reply r;
    log_warn(LOG_MOD, "broker %s/%s id %lld inactive", cluster, broker_name, (long long)id);
    if (ctl_replica_info(c->state, broker_name, &m, &r) == 0 && m.master_id == id) elect_for(c, broker_name);
}

static void scan_cb(evutil_socket_t fd, short what, void *arg)
{
    controller *c = arg;
    int64_t now = now_ms();
    ctl_expire(c->state, now, NULL, on_inactive, c);
    /* After a restart nobody is alive until they beat again: a master is not
     * replaced for being slower to beat than its slave. */
    if (now - c->started_ms >= DEFAULT_HEARTBEAT_TIMEOUT_MS) ctl_sets_needing_election(c->state, now, elect_for, c);
}

/* BrokerHousekeepingService: a closed channel makes its broker inactive at once. */
static void on_close(rmq_conn *conn, void *arg)
{
    controller *c = arg;
    if (!c->closing) ctl_expire(c->state, now_ms(), conn, on_inactive, c);
}

/* ---- processors ---- */

typedef struct names_header {
    const char *cluster, *broker_name, *broker_addr, *check_code, *ids_to_clean;
    int64_t broker_id, master_id, timeout_ms, max_offset, confirm_offset;
    int32_t epoch, priority;
    bool designate, clean_living;
} names_header;

static int get_metadata(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    controller *c = arg;
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_set(*resp, "group", c->group);
    cmd_ext_set(*resp, "controllerLeaderId", c->leader_id);
    cmd_ext_set(*resp, "controllerLeaderAddress", c->leader_addr);
    cmd_ext_set_bool(*resp, "isLeader", !c->follower);
    cmd_ext_set(*resp, "peers", c->peers);
    return RMQ_OK;
}

/* A follower: DLedgerController's answer to anything but metadata and heartbeats. */
static int not_leader(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    *resp = cmd_new_response(req, CTL_NOT_LEADER, "The controller is not in leader state");
    return RMQ_OK;
}

/* A follower takes heartbeats (a DLedger follower records them) but, never leading, keeps nothing. */
static int follower_heartbeat(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    *resp = cmd_new_response(req, RC_SUCCESS, "Heart beat success");
    return RMQ_OK;
}

static int get_next_broker_id(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    if (h.cluster) cmd_ext_set(*resp, "clusterName", h.cluster);
    cmd_ext_set(*resp, "brokerName", h.broker_name);
    cmd_ext_set_int(*resp, "nextBrokerId", ctl_next_broker_id(c->state, h.broker_name));
    return RMQ_OK;
}

static int apply_broker_id(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"appliedBrokerId", HDR_I64, true, offsetof(names_header, broker_id)},
        {"registerCheckCode", HDR_STR, true, offsetof(names_header, check_code)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_reply r;
    if (ctl_apply_broker_id(c->state, h.cluster, h.broker_name, h.broker_id, h.check_code, &r) == 0) persist(c);
    *resp = answer(req, &r);
    if (h.cluster) cmd_ext_set(*resp, "clusterName", h.cluster);
    cmd_ext_set(*resp, "brokerName", h.broker_name);
    if (!r.code)
        log_info(LOG_MOD, "broker set %s: id %lld applied by %s", h.broker_name, (long long)h.broker_id, h.check_code);
    return RMQ_OK;
}

static int register_broker(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"brokerId", HDR_I64, true, offsetof(names_header, broker_id)},
        {"brokerAddress", HDR_STR, true, offsetof(names_header, broker_addr)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_master_info m;
    ctl_reply r;
    if (ctl_register_broker(c->state, h.cluster, h.broker_name, h.broker_id, h.broker_addr, now_ms(), &m, &r) == 0)
        persist(c);   /* the address may have changed */
    *resp = answer(req, &r);
    if (h.cluster) cmd_ext_set(*resp, "clusterName", h.cluster);
    cmd_ext_set(*resp, "brokerName", h.broker_name);
    if (r.code) return RMQ_OK;
    if (m.master_id != CTL_NO_ID) put_master(*resp, &m, true);
    size_t len;
    char *body = ctl_sync_state_set_json(&m, &len);
    set_json_body(*resp, body, len);
    return RMQ_OK;
}

static int elect_master(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"brokerId", HDR_I64, false, offsetof(names_header, broker_id)},
        {"designateElect", HDR_BOOL, false, offsetof(names_header, designate)},
    };
    controller *c = arg;
    names_header h = {.broker_id = CTL_NO_ID};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_master_info m;
    ctl_reply r;
    ctl_elect_master(c->state, h.broker_name, h.broker_id, h.designate, now_ms(), &m, &r);
    if (r.code != CTL_MASTER_STILL_EXIST) persist(c);
    *resp = answer(req, &r);
    if (r.code == 0 || r.code == CTL_MASTER_STILL_EXIST) {
        put_master(*resp, &m, true);
        size_t len;
        char *body = ctl_elect_body_json(c->state, h.broker_name, &m, &len);
        set_json_body(*resp, body, len);
    }
    if (r.code == 0) {
        log_info(LOG_MOD, "broker set %s: broker %lld elected master on request, epoch %d", h.broker_name,
                 (long long)m.master_id, m.master_epoch);
        notify_members(c, h.broker_name, &m);
    }
    return RMQ_OK;
}

static int alter_sync_state_set(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"masterBrokerId", HDR_I64, true, offsetof(names_header, master_id)},
        {"masterEpoch", HDR_I32, true, offsetof(names_header, epoch)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    int64_t set[CTL_MAX_REPLICAS];
    int n;
    int32_t set_epoch, new_epoch = 0;
    if (!req->body_len || ctl_parse_sync_state_set((const char *)req->body, req->body_len, set, &n, &set_epoch)) {
        *resp = cmd_new_response(req, CTL_INVALID_REQUEST, "the body is not a SyncStateSet");
        return RMQ_OK;
    }
    ctl_reply r;
    ctl_alter_sync_state_set(c->state, h.broker_name, h.master_id, h.epoch, set, n, set_epoch, now_ms(), &new_epoch, &r);
    *resp = answer(req, &r);
    if (r.code) return RMQ_OK;
    persist(c);
    cmd_ext_set_int(*resp, "newSyncStateSetEpoch", new_epoch);
    ctl_master_info m = {.sync_state_set_epoch = new_epoch, .n_sync_state_set = n};
    memcpy(m.sync_state_set, set, sizeof set[0] * (size_t)n);
    size_t len;
    char *json = ctl_sync_state_set_json(&m, &len);
    set_json_body(*resp, json, len);
    log_info(LOG_MOD, "broker set %s: SyncStateSet of %d members, epoch %d", h.broker_name, n, new_epoch);
    return RMQ_OK;
}

static int get_replica_info(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_master_info m;
    ctl_reply r;
    ctl_replica_info(c->state, h.broker_name, &m, &r);
    *resp = answer(req, &r);
    if (r.code) return RMQ_OK;
    put_master(*resp, &m, false);
    size_t len;
    char *body = ctl_sync_state_set_json(&m, &len);
    set_json_body(*resp, body, len);
    return RMQ_OK;
}

static int broker_heartbeat(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, true, offsetof(names_header, cluster)},
        {"brokerAddr", HDR_STR, true, offsetof(names_header, broker_addr)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"brokerId", HDR_I64, false, offsetof(names_header, broker_id)},
        {"epoch", HDR_I32, false, offsetof(names_header, epoch)},
        {"maxOffset", HDR_I64, false, offsetof(names_header, max_offset)},
        {"confirmOffset", HDR_I64, false, offsetof(names_header, confirm_offset)},
        {"heartbeatTimeoutMills", HDR_I64, false, offsetof(names_header, timeout_ms)},
        {"electionPriority", HDR_I32, false, offsetof(names_header, priority)},
    };
    controller *c = arg;
    names_header h = {.broker_id = INT64_MIN, .epoch = -1, .max_offset = -1, .confirm_offset = -1,
                      .timeout_ms = DEFAULT_HEARTBEAT_TIMEOUT_MS, .priority = INT32_MAX};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    if (h.broker_id == INT64_MIN) {
        *resp = cmd_new_response(req, CTL_INVALID_REQUEST, "Heart beat with empty brokerId");
        return RMQ_OK;
    }
    ctl_heartbeat hb = {.cluster = h.cluster, .broker_name = h.broker_name, .broker_addr = h.broker_addr,
                        .broker_id = h.broker_id, .epoch = h.epoch, .max_offset = h.max_offset,
                        .confirm_offset = h.confirm_offset, .timeout_ms = h.timeout_ms,
                        .election_priority = h.priority, .conn = conn};
    ctl_on_heartbeat(c->state, &hb, now_ms());
    *resp = cmd_new_response(req, RC_SUCCESS, "Heart beat success");
    return RMQ_OK;
}

static int get_sync_state_data(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    controller *c = arg;
    const char *err;
    cJSON *root = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &err) : NULL;
    if (!root || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        *resp = cmd_new_response(req, RC_SUCCESS, NULL);   /* Apache: an empty answer */
        return RMQ_OK;
    }
    int n = cJSON_GetArraySize(root), k = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) if (cJSON_IsString(it)) names[k++] = it->valuestring;
    size_t len;
    char *json = ctl_sync_state_data_json(c->state, names, k, now_ms(), &len);
    free(names);
    cJSON_Delete(root);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    set_json_body(*resp, json, len);
    return RMQ_OK;
}

static int clean_broker_data(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
        {"brokerControllerIdsToClean", HDR_STR, false, offsetof(names_header, ids_to_clean)},
        {"isCleanLivingBroker", HDR_BOOL, false, offsetof(names_header, clean_living)},
    };
    controller *c = arg;
    names_header h = {0};
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    int64_t ids[CTL_MAX_REPLICAS];
    int n = 0;
    if (h.ids_to_clean && *h.ids_to_clean) {
        /* "1;2;3" */
        for (const char *p = h.ids_to_clean; *p && n < CTL_MAX_REPLICAS;) {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p || (*end && *end != ';')) {
                *resp = cmd_new_responsef(req, CTL_INVALID_CLEAN_BROKER_METADATA,
                                          "Please set the option <brokerControllerIdsToClean> according to the format, "
                                          "exception: java.lang.NumberFormatException: For input string: \"%s\"",
                                          h.ids_to_clean);
                return RMQ_OK;
            }
            ids[n++] = v;
            p = *end ? end + 1 : end;
        }
    }
    ctl_reply r;
    if (ctl_clean_broker_data(c->state, h.broker_name, n ? ids : NULL, n, h.clean_living, now_ms(), &r) == 0)
        persist(c);
    *resp = answer(req, &r);
    return RMQ_OK;
}

/* ---- configuration and life cycle ---- */

/* controllerDLegerPeers "n0-127.0.0.1:9878;n1-..." : the address of SELF_ID. */
static char *peer_address(const char *peers, const char *self_id)
{
    size_t idlen = strlen(self_id);
    for (const char *p = peers; p && *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > idlen && strncmp(p, self_id, idlen) == 0 && p[idlen] == '-')
            return xstrndup(p + idlen + 1, len - idlen - 1);
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

int controller_config_from(controller_config *cfg, const char *(*get)(void *arg, const char *key), void *arg,
                           char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    const char *peers = get(arg, "controllerDLegerPeers"), *self = get(arg, "controllerDLegerSelfId");
    const char *group = get(arg, "controllerDLegerGroup"), *scan = get(arg, "scanNotActiveBrokerInterval");
    const char *unclean = get(arg, "enableElectUncleanMaster"), *notify = get(arg, "notifyBrokerRoleChanged");
    const char *store = get(arg, "controllerStorePath");
    if (!peers || !*peers) {
        snprintf(err, errlen, "Attribute value controllerDLegerPeers of ControllerConfig is null or empty");
        return RMQ_ERR;
    }
    if (!self || !*self) {
        snprintf(err, errlen, "Attribute value controllerDLegerSelfId of ControllerConfig is null or empty");
        return RMQ_ERR;
    }
    char *addr = peer_address(peers, self);
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    int port = colon ? atoi(colon + 1) : 0;
    if (port <= 0 || port > 65535) {
        snprintf(err, errlen, "controllerDLegerPeers '%s' gives no host:port for controllerDLegerSelfId '%s'", peers, self);
        free(addr);
        return RMQ_ERR;
    }
    cfg->listen_port = port;
    cfg->self_addr = addr;
    cfg->self_id = xstrdup(self);
    cfg->peers = xstrdup(peers);
    cfg->group = xstrdup(group && *group ? group : "DefaultControllerGroup");
    cfg->scan_interval_ms = scan && atoll(scan) > 0 ? atoll(scan) : 5000;
    cfg->elect_unclean_master = unclean && strcmp(unclean, "true") == 0;
    cfg->notify_broker_role_changed = !notify || strcmp(notify, "false") != 0;
    /* ControllerConfig.getControllerStorePath: $HOME/DLedgerController when unset. */
    const char *home = getenv("HOME");
    cfg->store_path = store && *store ? xstrdup(store) : str_printf("%s/DLedgerController", home ? home : ".");
    if (strstr(peers, ";"))
        log_warn(LOG_MOD, "controllerDLegerPeers names several controllers: the first leads alone, always; "
                          "nothing is replicated between them (no quorum)");
    return RMQ_OK;
}

void controller_config_free(controller_config *cfg)
{
    free((char *)cfg->self_addr);
    free((char *)cfg->self_id);
    free((char *)cfg->peers);
    free((char *)cfg->group);
    free((char *)cfg->store_path);
}

/* controller.json (or its .bak) under DIR into the empty state; a missing file is a first start. */
static int load_state(controller *c, const char *dir, char *err, size_t errlen)
{
    if (mkdirs(dir)) {
        snprintf(err, errlen, "cannot create controllerStorePath %s", dir);
        return RMQ_ERR;
    }
    c->state_file = str_printf("%s/controller.json", dir);
    size_t len;
    char *json = read_file_or_bak(c->state_file, &len);
    if (!json) return RMQ_OK;
    char why[256];
    int rc = ctl_state_load(c->state, json, len, why, sizeof why);
    free(json);
    if (rc) snprintf(err, errlen, "%s: %s", c->state_file, why);
    else log_info(LOG_MOD, "state read from %s", c->state_file);
    return rc;
}

/*
 * GetMetaDataResponseHeader.peers as DLedgerController writes it ("n0:ip:port;n1:ip:port;")
 * from controllerDLegerPeers ("n0-ip:port;n1-ip:port"); the first peer, the leader, into
 * *leader_id / *leader_addr (NULL when none parses).
 */
static char *metadata_peers(const char *peers, char **leader_id, char **leader_addr)
{
    char *out = xstrdup(""), *copy = xstrdup(peers), *save = NULL;
    *leader_id = *leader_addr = NULL;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        char *dash = strchr(t, '-');
        if (!dash) continue;
        *dash = '\0';
        char *next = str_printf("%s%s:%s;", out, t, dash + 1);
        free(out);
        out = next;
        if (!*leader_id) *leader_id = xstrdup(t), *leader_addr = xstrdup(dash + 1);
    }
    free(copy);
    return out;
}

controller *controller_new(struct event_base *base, const controller_config *cfg, char *err, size_t errlen)
{
    controller *c = xcalloc(1, sizeof *c);
    c->base = base;
    c->state = ctl_state_new(cfg->elect_unclean_master);
    c->group = xstrdup(cfg->group ? cfg->group : "DefaultControllerGroup");
    c->self_id = xstrdup(cfg->self_id ? cfg->self_id : "n0");
    c->self_addr = xstrdup(cfg->self_addr ? cfg->self_addr : "");
    c->peers = metadata_peers(cfg->peers ? cfg->peers : "", &c->leader_id, &c->leader_addr);
    if (!c->leader_id) c->leader_id = xstrdup(c->self_id), c->leader_addr = xstrdup(c->self_addr);
    c->follower = strcmp(c->leader_id, c->self_id) != 0;
    c->notify = cfg->notify_broker_role_changed;
    c->started_ms = now_ms();
    if (!c->follower && cfg->store_path && *cfg->store_path && load_state(c, cfg->store_path, err, errlen)) {
        controller_free(c);
        return NULL;
    }
    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = cfg->listen_host;
    sc.port = cfg->listen_port;
    sc.name = LOG_MOD;
    const char *why = NULL;
    if (!(c->server = rmq_server_new(base, &sc, &why))) {
        snprintf(err, errlen, "controller port %d: %s", cfg->listen_port, why ? why : "cannot listen");
        controller_free(c);
        return NULL;
    }
    static const struct {
        int32_t code;
        rmq_processor_fn fn;
    } procs[] = {
        {CTL_CODE_GET_METADATA_INFO, get_metadata},
        {CTL_CODE_GET_NEXT_BROKER_ID, get_next_broker_id},
        {CTL_CODE_APPLY_BROKER_ID, apply_broker_id},
        {CTL_CODE_REGISTER_BROKER, register_broker},
        {CTL_CODE_ELECT_MASTER, elect_master},
        {CTL_CODE_ALTER_SYNC_STATE_SET, alter_sync_state_set},
        {CTL_CODE_GET_REPLICA_INFO, get_replica_info},
        {CTL_CODE_BROKER_HEARTBEAT, broker_heartbeat},
        {CTL_CODE_GET_SYNC_STATE_DATA, get_sync_state_data},
        {CTL_CODE_CLEAN_BROKER_DATA, clean_broker_data},
    };
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
        rmq_processor_fn fn = procs[i].fn;
        if (c->follower && fn != get_metadata) fn = fn == broker_heartbeat ? follower_heartbeat : not_leader;
        rmq_server_register(c->server, procs[i].code, fn, c);
    }
    c->client = rmq_client_new(base);
    if (c->follower) {
        log_warn(LOG_MOD, "controller %s of group %s listening on port %d: a follower of %s (%s), which alone decides",
                 c->self_id, c->group, rmq_server_port(c->server), c->leader_id, c->leader_addr);
        return c;
    }
    rmq_server_on_close(c->server, on_close, c);
    int64_t ms = cfg->scan_interval_ms > 0 ? cfg->scan_interval_ms : 5000;
    c->scan_timer = event_new(base, -1, EV_PERSIST, scan_cb, c);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->scan_timer, &tv);
    log_info(LOG_MOD, "controller %s of group %s listening on port %d (the leader; no quorum)", c->self_id,
             c->group, rmq_server_port(c->server));
    return c;
}

void controller_free(controller *c)
{
    if (!c) return;
    if (c->scan_timer) event_free(c->scan_timer);
    c->closing = true;
    rmq_server_free(c->server);
    rmq_client_free(c->client);
    ctl_state_free(c->state);
    free(c->group);
    free(c->self_id);
    free(c->self_addr);
    free(c->peers);
    free(c->leader_id);
    free(c->leader_addr);
    free(c->state_file);
    free(c);
}

int controller_port(const controller *c) { return rmq_server_port(c->server); }
