/*
 * The controller's server and its group: configuration (Apache's
 * ControllerConfig keys), life cycle, the Raft glue (docs/ha.md, "Several
 * controllers") and the controller's own work on the leader: the heartbeat
 * expiry scan (DefaultBrokerHeartbeatManager.scanNotActiveBroker),
 * re-election (ControllerManager.onBrokerInactive,
 * scanInactiveMasterAndTriggerReelect) and NOTIFY_BROKER_ROLE_CHANGED to a
 * set's live members after an election is committed.
 *
 * A change runs on the leader's state at once (the same code as one node
 * alone); the events it makes become one log entry and the broker's answer
 * waits for its commit. A leader deposed before that has its state rebuilt
 * from the committed log by the Raft core, and the waiting answers become
 * CONTROLLER_NOT_LEADER.
 */
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "controller/ctl_server.h"

#define LOG_MOD CTL_LOG_MOD
#define DEFAULT_HEARTBEAT_TIMEOUT_MS 10000   /* DEFAULT_BROKER_CHANNEL_EXPIRED_TIME */
#define TICK_MS 50
/*
 * Raft timing: the leader beats every 250 ms; a follower that hears nothing
 * for 1.5-3 s stands. DLedger's defaults are slower (heartbeat 2 s, election
 * after 3 missed beats); these keep a lost leader's gap well under the
 * brokers' 10 s heartbeat timeout on a loaded machine.
 */
#define RAFT_HEARTBEAT_MS 250
#define RAFT_ELECTION_MIN_MS 1500
#define RAFT_ELECTION_MAX_MS 3000
#define RAFT_COMPACT_AFTER 1000       /* entries kept before a snapshot replaces them */

/* ---- notification ---- */

static void notify_members(controller *c, const char *broker_name)
{
    ctl_master_info m;
    ctl_reply r;
    if (!c->notify || ctl_replica_info(c->state, broker_name, &m, &r) || m.master_id == CTL_NO_ID) return;
    const char *cluster = NULL;
    int64_t ids[CTL_MAX_REPLICAS];
    const char *addrs[CTL_MAX_REPLICAS];
    int n = ctl_members(c->state, broker_name, &cluster, ids, addrs, CTL_MAX_REPLICAS);
    int64_t now = now_ms();
    for (int i = 0; i < n; i++) {
        if (!ctl_broker_alive(c->state, cluster, broker_name, ids[i], now)) continue;
        rmq_cmd *req = cmd_new_request(CTL_CODE_NOTIFY_BROKER_ROLE_CHANGED);
        if (m.master_addr) cmd_ext_set(req, "masterAddress", m.master_addr);
        cmd_ext_set_int(req, "masterBrokerId", m.master_id);
        cmd_ext_set_int(req, "masterEpoch", m.master_epoch);
        cmd_ext_set_int(req, "syncStateSetEpoch", m.sync_state_set_epoch);
        size_t len;
        char *body = ctl_sync_state_set_json(&m, &len);
        cmd_take_body(req, body, len);
        rmq_client_oneway(c->client, addrs[i], req);
    }
}

/* ---- changes through the log ---- */

bool ctl_leading(const controller *c) { return raft_ready(c->raft); }

static void on_change(void *arg, const char *json, size_t len)
{
    controller *c = arg;
    c->batch = xrealloc(c->batch, c->batch_len + len + 2);
    if (c->batch_len) c->batch[c->batch_len++] = ',';
    memcpy(c->batch + c->batch_len, json, len);
    c->batch_len += len;
    c->batch[c->batch_len] = '\0';
}

void ctl_batch_begin(controller *c) { c->batch_len = 0; }

/* The applied state for people (and tests) to read; the log and snapshot are what count. */
static void write_state_file(controller *c)
{
    if (!c->state_file) return;
    size_t len;
    char *json = ctl_state_dump(c->state, &len);
    if (write_file_atomic(c->state_file, json, len)) log_error(LOG_MOD, "cannot write %s", c->state_file);
    free(json);
}

static void pending_done(controller *c, ctl_pending *p, bool committed)
{
    if (committed && p->notify_set) notify_members(c, p->notify_set);
    if (p->conn) {
        rmq_cmd *resp = p->resp;
        if (!committed) {
            cmd_free(resp);
            resp = cmd_new_response(p->req, CTL_NOT_LEADER, "The controller is not in leader state");
        }
        rmq_conn_reply(p->conn, resp);
        rmq_conn_release(p->conn);
    } else {
        cmd_free(p->resp);
    }
    cmd_free(p->req);
    free(p->notify_set);
    free(p);
}

int ctl_finish(controller *c, rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, const char *notify_set)
{
    if (!c->batch_len) return RMQ_OK;
    char *entry = str_printf("[%.*s]", (int)c->batch_len, c->batch);
    c->batch_len = 0;
    int64_t index = raft_propose(c->raft, entry, strlen(entry));
    free(entry);
    if (index < 0) {
        /* Checked as leader before the change; on one event loop nothing can intervene. */
        log_error(LOG_MOD, "a change could not be put in the log");
        if (resp) {
            cmd_free(*resp);
            *resp = cmd_new_response(req, CTL_NOT_LEADER, "The controller is not in leader state");
        }
        return RMQ_OK;
    }
    ctl_pending *p = xcalloc(1, sizeof *p);
    p->index = index;
    p->notify_set = notify_set ? xstrdup(notify_set) : NULL;
    if (conn) {
        rmq_conn_hold(conn);
        p->conn = conn;
        p->req = req;
        p->resp = *resp;
        *resp = NULL;
    }
    if (raft_commit_index(c->raft) >= index) {   /* a group of one */
        write_state_file(c);
        if (conn) {
            *resp = p->resp;
            rmq_conn_release(conn);
            p->conn = NULL;
            p->resp = NULL;
            p->req = NULL;
        }
        pending_done(c, p, true);
        return RMQ_OK;
    }
    ctl_pending **pp = &c->pending;
    while (*pp) pp = &(*pp)->next;
    *pp = p;
    return conn ? RMQ_AGAIN : RMQ_OK;
}

static void raft_apply(void *arg, int64_t index, const char *data, size_t len)
{
    controller *c = arg;
    char err[256];
    if (ctl_state_apply_events(c->state, data, len, err, sizeof err))
        log_error(LOG_MOD, "log entry %lld: %s", (long long)index, err);
}

static char *raft_snapshot(void *arg, size_t *len) { return ctl_state_dump(((controller *)arg)->state, len); }

static int raft_restore(void *arg, const char *data, size_t len)
{
    controller *c = arg;
    char err[256];
    if (ctl_state_restore(c->state, data, len, err, sizeof err)) {
        log_error(LOG_MOD, "snapshot: %s", err);
        return -1;
    }
    return 0;
}

static void raft_committed(void *arg, int64_t commit)
{
    controller *c = arg;
    write_state_file(c);
    while (c->pending && c->pending->index <= commit) {
        ctl_pending *p = c->pending;
        c->pending = p->next;
        pending_done(c, p, true);
    }
}

static void raft_role_changed(void *arg, int role, int leader, int64_t term)
{
    controller *c = arg;
    log_info(LOG_MOD, "controller %s is %s in term %lld, leader %s", c->self_id, raft_role_name(role),
             (long long)term, leader >= 0 ? c->node_ids[leader] : "unknown");
    if (role == RAFT_LEADER) return;
    while (c->pending) {
        ctl_pending *p = c->pending;
        c->pending = p->next;
        pending_done(c, p, false);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    controller *c = arg;
    raft_tick(c->raft, now_ms());
}

/* ---- the leader's own elections ---- */

/* ControllerManager.triggerElectMaster: a controller-triggered election of the set. */
void ctl_elect_for(void *arg, const char *broker_name)
{
    controller *c = arg;
    if (!ctl_leading(c)) return;
    ctl_master_info m;
    ctl_reply r;
    char *name = xstrdup(broker_name);   /* the set may be the caller's iteration key */
    ctl_batch_begin(c);
    int rc = ctl_elect_master(c->state, name, CTL_NO_ID, false, now_ms(), &m, &r);
    if (rc == 0) {
        log_info(LOG_MOD, "broker set %s: elected broker %lld (%s) as master, epoch %d", name,
                 (long long)m.master_id, m.master_addr ? m.master_addr : "?", m.master_epoch);
    } else if (r.code != CTL_MASTER_STILL_EXIST) {
        log_warn(LOG_MOD, "broker set %s: no new master: %s", name, r.remark);
    }
    ctl_finish(c, NULL, NULL, NULL, rc == 0 ? name : NULL);
    free(name);
}

/* onBrokerInactive: only the master's going triggers an election, and only the leader's. */
void ctl_on_inactive(void *arg, const char *cluster, const char *broker_name, int64_t id)
{
    controller *c = arg;
    ctl_master_info m;
    ctl_reply r;
    log_warn(LOG_MOD, "broker %s/%s id %lld inactive", cluster, broker_name, (long long)id);
    if (ctl_leading(c) && ctl_replica_info(c->state, broker_name, &m, &r) == 0 && m.master_id == id)
        ctl_elect_for(c, broker_name);
}

static void scan_cb(evutil_socket_t fd, short what, void *arg)
{
    controller *c = arg;
    int64_t now = now_ms();
    ctl_expire(c->state, now, NULL, ctl_on_inactive, c);
    /*
     * Every controller records the heartbeats brokers send to all of them,
     * from its own start; until it has heard a whole timeout's worth, a
     * master it has not heard yet is not taken for dead. So a controller that
     * just started (or restarted) and became leader does not elect away a
     * live master for lack of history.
     */
    if (ctl_leading(c) && now - c->started_ms >= DEFAULT_HEARTBEAT_TIMEOUT_MS)
        ctl_sets_needing_election(c->state, now, ctl_elect_for, c);
}

/* BrokerHousekeepingService: a closed channel makes its broker inactive at once. */
static void on_close(rmq_conn *conn, void *arg)
{
    controller *c = arg;
    if (!c->closing) ctl_expire(c->state, now_ms(), conn, ctl_on_inactive, c);
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

/*
 * controllerDLegerPeers ("n0-ip:port;n1-ip:port") into the node table, in
 * the order given (every controller of the group must list the same peers),
 * and GetMetaDataResponseHeader.peers as DLedgerController writes it
 * ("n0:ip:port;n1:ip:port;"). RMQ_ERR with a reason.
 */
static int parse_peers(controller *c, const char *peers, char *err, size_t errlen)
{
    char *copy = xstrdup(peers ? peers : ""), *save = NULL;
    c->peers_meta = xstrdup("");
    c->self = -1;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        char *dash = strchr(t, '-');
        if (!dash) continue;
        if (c->n_nodes == RAFT_MAX_NODES) {
            snprintf(err, errlen, "controllerDLegerPeers: at most %d controllers", RAFT_MAX_NODES);
            free(copy);
            return RMQ_ERR;
        }
        *dash = '\0';
        char *next = str_printf("%s%s:%s;", c->peers_meta, t, dash + 1);
        free(c->peers_meta);
        c->peers_meta = next;
        if (strcmp(t, c->self_id) == 0) c->self = c->n_nodes;
        c->node_ids[c->n_nodes] = xstrdup(t);
        c->node_addrs[c->n_nodes++] = xstrdup(dash + 1);
    }
    free(copy);
    if (c->self < 0) {
        /* Alone without a peer list naming it (tests, embedded defaults): a group of one. */
        if (c->n_nodes) {
            snprintf(err, errlen, "controllerDLegerPeers does not name controllerDLegerSelfId %s", c->self_id);
            return RMQ_ERR;
        }
        c->self = 0;
        c->node_ids[0] = xstrdup(c->self_id);
        c->node_addrs[0] = xstrdup(c->self_addr);
        c->n_nodes = 1;
    }
    return RMQ_OK;
}

controller *controller_new(struct event_base *base, const controller_config *cfg, char *err, size_t errlen)
{
    controller *c = xcalloc(1, sizeof *c);
    c->base = base;
    c->state = ctl_state_new(cfg->elect_unclean_master);
    ctl_state_on_change(c->state, on_change, c);
    c->group = xstrdup(cfg->group ? cfg->group : "DefaultControllerGroup");
    c->self_id = xstrdup(cfg->self_id ? cfg->self_id : "n0");
    c->self_addr = xstrdup(cfg->self_addr ? cfg->self_addr : "");
    c->notify = cfg->notify_broker_role_changed;
    c->started_ms = now_ms();
    if (parse_peers(c, cfg->peers, err, errlen)) {
        controller_free(c);
        return NULL;
    }
    const char *dir = cfg->store_path && *cfg->store_path ? cfg->store_path : NULL;
    if (dir && mkdirs(dir)) {
        snprintf(err, errlen, "cannot create controllerStorePath %s", dir);
        controller_free(c);
        return NULL;
    }
    if (dir) c->state_file = str_printf("%s/controller.json", dir);
    raft_config rc = {.self = c->self, .n_nodes = c->n_nodes, .dir = dir, .election_min_ms = RAFT_ELECTION_MIN_MS,
                      .election_max_ms = RAFT_ELECTION_MAX_MS, .heartbeat_ms = RAFT_HEARTBEAT_MS,
                      .compact_after = RAFT_COMPACT_AFTER, .max_batch = 64,
                      .seed = (unsigned)now_ms() ^ (unsigned)getpid()};
    raft_callbacks cb = {ctl_peers_send, raft_apply, raft_snapshot, raft_restore, raft_committed, raft_role_changed};
    char why[256];
    if (!(c->raft = raft_new(&rc, &cb, c, now_ms(), why, sizeof why))) {
        snprintf(err, errlen, "controllerStorePath %s: %s", dir ? dir : "-", why);
        controller_free(c);
        return NULL;
    }
    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = cfg->listen_host;
    sc.port = cfg->listen_port;
    sc.name = LOG_MOD;
    const char *bad = NULL;
    if (!(c->server = rmq_server_new(base, &sc, &bad))) {
        snprintf(err, errlen, "controller port %d: %s", cfg->listen_port, bad ? bad : "cannot listen");
        controller_free(c);
        return NULL;
    }
    ctl_register_processors(c);
    ctl_peers_register(c);
    c->client = rmq_client_new(base);
    rmq_server_on_close(c->server, on_close, c);
    int64_t ms = cfg->scan_interval_ms > 0 ? cfg->scan_interval_ms : 5000;
    c->scan_timer = event_new(base, -1, EV_PERSIST, scan_cb, c);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->scan_timer, &tv);
    c->tick_timer = event_new(base, -1, EV_PERSIST, tick_cb, c);
    struct timeval tick = {0, TICK_MS * 1000};
    event_add(c->tick_timer, &tick);
    raft_tick(c->raft, now_ms());   /* a group of one leads before its first request */
    log_info(LOG_MOD, "controller %s of group %s (%d controllers) listening on port %d, log at %lld, term %lld",
             c->self_id, c->group, c->n_nodes, rmq_server_port(c->server), (long long)raft_last_index(c->raft),
             (long long)raft_term(c->raft));
    return c;
}

void controller_free(controller *c)
{
    if (!c) return;
    if (c->scan_timer) event_free(c->scan_timer);
    if (c->tick_timer) event_free(c->tick_timer);
    c->closing = true;
    while (c->pending) {
        ctl_pending *p = c->pending;
        c->pending = p->next;
        pending_done(c, p, false);
    }
    rmq_client_free(c->client);
    c->client = NULL;
    rmq_server_free(c->server);
    raft_free(c->raft);
    ctl_state_free(c->state);
    free(c->group);
    free(c->self_id);
    free(c->self_addr);
    free(c->peers_meta);
    for (int i = 0; i < c->n_nodes; i++) {
        free(c->node_ids[i]);
        free(c->node_addrs[i]);
    }
    free(c->state_file);
    free(c->batch);
    free(c);
}

int controller_port(const controller *c) { return rmq_server_port(c->server); }
