/*
 * The controller's broker-facing processors: Apache's ControllerRequestProcessor.
 * Reads and changes go to the leader only (CONTROLLER_NOT_LEADER elsewhere, as
 * DLedgerController); a change is answered once its log entry is committed
 * (ctl_finish). Heartbeats are taken by every controller: each keeps liveness
 * of its own.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "controller/ctl_server.h"

#define LOG_MOD CTL_LOG_MOD
#define RC_SUCCESS 0
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 10000   /* DEFAULT_BROKER_CHANNEL_EXPIRED_TIME */

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
    int leader = raft_leader(c->raft);
    *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    cmd_ext_set(*resp, "group", c->group);
    /* No leader known (an election under way): no leader fields; brokers ask again. */
    if (leader >= 0) {
        cmd_ext_set(*resp, "controllerLeaderId", c->node_ids[leader]);
        cmd_ext_set(*resp, "controllerLeaderAddress", c->node_addrs[leader]);
    }
    cmd_ext_set_bool(*resp, "isLeader", raft_role(c->raft) == RAFT_LEADER);
    cmd_ext_set(*resp, "peers", c->peers_meta);
    return RMQ_OK;
}

/*
 * DLedgerController answers anything but metadata and heartbeats from a
 * follower so; a new leader too until its term's first entry is committed.
 */
static bool refused(const controller *c, const rmq_cmd *req, rmq_cmd **resp)
{
    if (ctl_leading(c)) return false;
    *resp = cmd_new_response(req, CTL_NOT_LEADER, "The controller is not in leader state");
    return true;
}

static int get_next_broker_id(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"clusterName", HDR_STR, false, offsetof(names_header, cluster)},
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
    };
    controller *c = arg;
    names_header h = {0};
    if (refused(c, req, resp)) return RMQ_OK;
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
    if (refused(c, req, resp)) return RMQ_OK;
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_reply r;
    ctl_batch_begin(c);
    ctl_apply_broker_id(c->state, h.cluster, h.broker_name, h.broker_id, h.check_code, &r);
    *resp = answer(req, &r);
    if (h.cluster) cmd_ext_set(*resp, "clusterName", h.cluster);
    cmd_ext_set(*resp, "brokerName", h.broker_name);
    if (!r.code)
        log_info(LOG_MOD, "broker set %s: id %lld applied by %s", h.broker_name, (long long)h.broker_id, h.check_code);
    return ctl_finish(c, conn, req, resp, NULL);
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
    if (refused(c, req, resp)) return RMQ_OK;
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_master_info m;
    ctl_reply r;
    ctl_batch_begin(c);   /* the address may have changed */
    ctl_register_broker(c->state, h.cluster, h.broker_name, h.broker_id, h.broker_addr, now_ms(), &m, &r);
    *resp = answer(req, &r);
    if (h.cluster) cmd_ext_set(*resp, "clusterName", h.cluster);
    cmd_ext_set(*resp, "brokerName", h.broker_name);
    if (r.code) return RMQ_OK;
    if (m.master_id != CTL_NO_ID) put_master(*resp, &m, true);
    size_t len;
    char *body = ctl_sync_state_set_json(&m, &len);
    set_json_body(*resp, body, len);
    return ctl_finish(c, conn, req, resp, NULL);
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
    if (refused(c, req, resp)) return RMQ_OK;
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    ctl_master_info m;
    ctl_reply r;
    ctl_batch_begin(c);
    ctl_elect_master(c->state, h.broker_name, h.broker_id, h.designate, now_ms(), &m, &r);
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
    }
    return ctl_finish(c, conn, req, resp, r.code == 0 ? h.broker_name : NULL);
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
    if (refused(c, req, resp)) return RMQ_OK;
    if (!DECODE(req, f, &h, resp)) return RMQ_OK;
    int64_t set[CTL_MAX_REPLICAS];
    int n;
    int32_t set_epoch, new_epoch = 0;
    if (!req->body_len || ctl_parse_sync_state_set((const char *)req->body, req->body_len, set, &n, &set_epoch)) {
        *resp = cmd_new_response(req, CTL_INVALID_REQUEST, "the body is not a SyncStateSet");
        return RMQ_OK;
    }
    ctl_reply r;
    ctl_batch_begin(c);
    ctl_alter_sync_state_set(c->state, h.broker_name, h.master_id, h.epoch, set, n, set_epoch, now_ms(), &new_epoch, &r);
    *resp = answer(req, &r);
    if (r.code) return RMQ_OK;
    cmd_ext_set_int(*resp, "newSyncStateSetEpoch", new_epoch);
    ctl_master_info m = {.sync_state_set_epoch = new_epoch, .n_sync_state_set = n};
    memcpy(m.sync_state_set, set, sizeof set[0] * (size_t)n);
    size_t len;
    char *json = ctl_sync_state_set_json(&m, &len);
    set_json_body(*resp, json, len);
    log_info(LOG_MOD, "broker set %s: SyncStateSet of %d members, epoch %d", h.broker_name, n, new_epoch);
    return ctl_finish(c, conn, req, resp, NULL);
}

static int get_replica_info(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    static const hdr_field f[] = {
        {"brokerName", HDR_STR, true, offsetof(names_header, broker_name)},
    };
    controller *c = arg;
    names_header h = {0};
    if (refused(c, req, resp)) return RMQ_OK;
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
    if (refused(c, req, resp)) return RMQ_OK;
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
    if (refused(c, req, resp)) return RMQ_OK;
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
    ctl_batch_begin(c);
    ctl_clean_broker_data(c->state, h.broker_name, n ? ids : NULL, n, h.clean_living, now_ms(), &r);
    *resp = answer(req, &r);
    return ctl_finish(c, conn, req, resp, NULL);
}

void ctl_register_processors(controller *c)
{
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
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        rmq_server_register(c->server, procs[i].code, procs[i].fn, c);
}
