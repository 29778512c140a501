/*
 * Controller mode on the broker: Apache 5.x's ReplicasManager (register,
 * brokerElect, changeToMaster/changeToSlave, schedulingSyncBrokerMetadata,
 * checkSyncStateSetAndDoReport) with the broker's metadata files
 * (brokerIdentity, brokerIdentity-temp) and epoch file.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replicas.h"
#include "schedule.h"
#include "slave_sync.h"
#include "transaction.h"
#include "pop.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "controller/controller.h"
#include "ha/ha.h"
#include "meta/meta.h"
#include "store/store.h"

#define LOG_MOD "broker"
#define CALL_TIMEOUT_MS 3000
#define BOOTSTRAP_MS 30000      /* how long a starting broker waits for the controller */
#define MAX_SET 32
#define MAX_CONTROLLERS 8
#define CONTROLLER_SCAN_MS 3000 /* scanAvailableControllerAddresses' period */

typedef struct controller_peer {
    struct replicas *r;
    char *addr;
    bool available;                  /* answered the last GET_METADATA_INFO */
    bool asking;
} controller_peer;

struct replicas {
    broker *b;
    controller_peer peers[MAX_CONTROLLERS];   /* controllerAddr, ';'-separated */
    int n_peers;
    char *controller;                /* the leader's address */
    int64_t id;                      /* brokerControllerId */
    int32_t master_epoch, set_epoch;
    int64_t master_id;               /* -1 none */
    char *master_addr;
    int64_t sync_set[MAX_SET];
    int n_sync;
    int64_t confirm;                 /* the confirm gate last given to the store (update_confirm) */
    ha_epochs epochs;
    char *ha_master;                 /* slave: the master's HA address */
    bool pop_started, altering, electing;
    /* The master's lease: when the request of the controller's last answer naming us
     * master left (mono ms); past it we are fenced (replicas_fence). */
    int64_t lease_ms, sync_sent_ms;
    bool fenced;
    struct event *heartbeat_ev, *sync_ev, *check_ev, *scan_ev;
};

/* ---- blocking calls (bootstrap) ---- */

static rmq_cmd *call(const char *addr, rmq_cmd *req, char *err, size_t errlen)
{
    rmq_cmd *resp = rmq_invoke_sync(addr, req, CALL_TIMEOUT_MS, err, errlen);
    cmd_free(req);
    return resp;
}

static void id_text(char *out, size_t len, int64_t v) { snprintf(out, len, "%" PRId64, v); }

/* The master fields of a REGISTER/ELECT/GET_REPLICA_INFO answer or a notification. */
typedef struct master_info {
    int64_t master_id;
    const char *master_addr;
    int32_t master_epoch, set_epoch;
    int64_t set[MAX_SET];
    int n_set;
    bool has_set;
} master_info;

static void read_master_info(const rmq_cmd *c, master_info *m)
{
    memset(m, 0, sizeof *m);
    m->master_id = -1;
    m->set_epoch = -1;
    cmd_ext_int64(c, "masterBrokerId", &m->master_id);
    m->master_addr = cmd_ext_get(c, "masterAddress");
    cmd_ext_int32(c, "masterEpoch", &m->master_epoch);
    cmd_ext_int32(c, "syncStateSetEpoch", &m->set_epoch);
    int32_t body_epoch;
    /* ElectMasterResponseBody carries the set without its epoch. */
    if (c->body_len && ctl_parse_sync_state_set((const char *)c->body, c->body_len, m->set, &m->n_set, &body_epoch) == 0) {
        m->has_set = true;
        if (body_epoch > 0) m->set_epoch = body_epoch;
    }
}

/* ---- metadata files (BrokerMetadata, TempBrokerMetadata) ---- */

static char *identity_path(const broker *b, const char *suffix)
{
    return str_printf("%s/brokerIdentity%s", b->cfg.storePathRootDir, suffix);
}

/* "cluster#name#id[#checkCode]": the id, -1 when absent or for another broker set. */
static int64_t read_identity(const broker *b, const char *suffix, char **check_code)
{
    char *path = identity_path(b, suffix), *text = read_file(path, NULL);
    free(path);
    if (!text) return -1;
    int64_t id = -1;
    char *f[4] = {0};
    int n = 0;
    for (char *p = text, *save; n < 4 && (f[n] = strtok_r(n ? NULL : p, "#\n", &save)); n++) {
    }
    if (n >= 3 && strcmp(f[0], b->cfg.brokerClusterName) == 0 && strcmp(f[1], b->cfg.brokerName) == 0) {
        id = atoll(f[2]);
        if (check_code) *check_code = n == 4 ? xstrdup(f[3]) : NULL;
    } else {
        log_warn(LOG_MOD, "brokerIdentity%s names another broker set; ignored", suffix);
    }
    free(text);
    return id;
}

static int write_identity(const broker *b, const char *suffix, int64_t id, const char *check_code)
{
    char *path = identity_path(b, suffix);
    char *text = check_code ? str_printf("%s#%s#%" PRId64 "#%s", b->cfg.brokerClusterName, b->cfg.brokerName, id, check_code)
                            : str_printf("%s#%s#%" PRId64, b->cfg.brokerClusterName, b->cfg.brokerName, id);
    int rc = write_file_atomic(path, text, strlen(text));
    free(text);
    free(path);
    return rc;
}

/* ReplicasManager.register: the id from the files, or a new one applied for. */
static int obtain_id(replicas *r, char *err, size_t errlen)
{
    broker *b = r->b;
    if ((r->id = read_identity(b, "", NULL)) > 0) return RMQ_OK;
    char *code = NULL;
    int64_t id = read_identity(b, "-temp", &code);
    if (id <= 0 || !code) {
        rmq_cmd *req = cmd_new_request(CTL_CODE_GET_NEXT_BROKER_ID);
        cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
        cmd_ext_set(req, "brokerName", b->cfg.brokerName);
        rmq_cmd *resp = call(r->controller, req, err, errlen);
        if (!resp) return RMQ_ERR;
        id = -1;
        cmd_ext_int64(resp, "nextBrokerId", &id);
        cmd_free(resp);
        free(code);
        code = str_printf("%s;%" PRId64, b->addr, now_ms());   /* registerCheckCode */
        if (id <= 0 || write_identity(b, "-temp", id, code)) {
            snprintf(err, errlen, "no broker id from the controller");
            free(code);
            return RMQ_ERR;
        }
    }
    char idt[24];
    id_text(idt, sizeof idt, id);
    rmq_cmd *req = cmd_new_request(CTL_CODE_APPLY_BROKER_ID);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set(req, "appliedBrokerId", idt);
    cmd_ext_set(req, "registerCheckCode", code);
    free(code);
    rmq_cmd *resp = call(r->controller, req, err, errlen);
    if (!resp) return RMQ_ERR;
    int code_rc = resp->code;
    snprintf(err, errlen, "apply broker id %" PRId64 ": %s", id, resp->remark ? resp->remark : "refused");
    cmd_free(resp);
    char *temp = identity_path(b, "-temp");
    unlink(temp);   /* applied: made final below; refused: the next try asks for a new id */
    free(temp);
    if (code_rc != 0 || write_identity(b, "", id, NULL)) return RMQ_ERR;
    r->id = id;
    log_info(LOG_MOD, "controller gave broker id %" PRId64, id);
    return RMQ_OK;
}

/* ---- roles ---- */

/* Controller mode writes as SYNC_MASTER; a send waits for the slaves only with
 * allAckInSyncStateSet and someone beside the master in the SyncStateSet. */
static void set_role(replicas *r, const char *role)
{
    broker *b = r->b;
    if (strcmp(b->cfg.brokerRole, role) == 0) return;
    free(b->cfg.brokerRole);
    b->cfg.brokerRole = xstrdup(role);
}

static void update_confirm(replicas *r);

static void master_role(replicas *r)
{
    set_role(r, r->b->cfg.allAckInSyncStateSet && r->n_sync > 1 ? "SYNC_MASTER" : "ASYNC_MASTER");
    update_confirm(r);
}

static void take_set(replicas *r, const master_info *m)
{
    if (!m->has_set || m->set_epoch < r->set_epoch) return;
    r->set_epoch = m->set_epoch;
    r->n_sync = m->n_set;
    memcpy(r->sync_set, m->set, sizeof m->set[0] * (size_t)m->n_set);
    if (!broker_is_slave(r->b)) master_role(r);
}

/* The master's HA address: its remoting host and port + 1 (haListenPort's default). */
static char *ha_address_of(const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) return NULL;
    return str_printf("%.*s:%d", (int)(colon - addr), addr, atoi(colon + 1) + 1);
}

static void record(replicas *r, const master_info *m)
{
    /* DataVersion.nextVersion(masterEpoch): the name servers prefer the newest epoch's master. */
    if (m->master_epoch > r->master_epoch) topic_table_next_state_version(r->b->topics, m->master_epoch);
    r->master_epoch = m->master_epoch;
    r->master_id = m->master_id;
    free(r->master_addr);
    r->master_addr = m->master_addr ? xstrdup(m->master_addr) : NULL;
}

/* The epoch begins at our log's end; an old entry of this epoch or later goes. */
static void open_epoch(replicas *r, int32_t epoch)
{
    if (ha_epochs_last(&r->epochs) >= epoch) ha_epochs_truncate_from_epoch(&r->epochs, epoch);
    int64_t end = store_commitlog_max_offset(r->b->store);
    if (!ha_epochs_append(&r->epochs, epoch, end))
        log_warn(LOG_MOD, "epoch %" PRId32 " at %" PRId64 " not recorded: the last entry starts there already", epoch,
                 end);
}

/* changeToMaster (at run time; bootstrap sets the role before the services exist). */
static void become_master(replicas *r, const master_info *m)
{
    broker *b = r->b;
    bool was_slave = broker_is_slave(b);
    r->lease_ms = mono_ms();
    r->fenced = false;
    record(r, m);
    take_set(r, m);
    open_epoch(r, m->master_epoch);
    b->cfg.brokerId = 0;   /* MixAll.MASTER_ID towards the name servers */
    master_role(r);
    if (!was_slave) {
        log_info(LOG_MOD, "still master of %s, epoch %" PRId32, b->cfg.brokerName, m->master_epoch);
        broker_request_register(b);
        return;
    }
    free(r->ha_master);
    r->ha_master = NULL;
    if (b->ha) ha_set_master_address(b->ha, NULL);
    if (b->slave_sync) slave_sync_set_master(b->slave_sync, NULL);
    char err[256];
    if (!b->schedule && (b->schedule = schedule_new(b, err, sizeof err))) schedule_start(b->schedule);
    if (!b->transactions && (b->transactions = transaction_new(b))) transaction_start(b->transactions);
    if (b->pop && !r->pop_started) {
        pop_start(b->pop);
        r->pop_started = true;
    }
    log_info(LOG_MOD, "now master of %s, epoch %" PRId32 ", log end %" PRId64, b->cfg.brokerName, m->master_epoch,
             store_commitlog_max_offset(b->store));
    broker_request_register(b);
}

/* changeToSlave */
static void become_slave(replicas *r, const master_info *m)
{
    broker *b = r->b;
    r->fenced = false;
    record(r, m);
    set_role(r, "SLAVE");
    update_confirm(r);
    b->cfg.brokerId = r->id;
    free(r->ha_master);
    r->ha_master = ha_address_of(m->master_addr);
    if (b->ha) ha_set_master_address(b->ha, r->ha_master);
    /* A slave writes nothing of its own: delayed and half messages are the master's. */
    if (b->schedule) {
        schedule_free(b->schedule);
        b->schedule = NULL;
    }
    if (b->transactions) {
        transaction_free(b->transactions);
        b->transactions = NULL;
    }
    if (b->server && !b->slave_sync) {
        b->slave_sync = slave_sync_new(b);
        slave_sync_start(b->slave_sync);
    }
    if (b->slave_sync) slave_sync_set_master(b->slave_sync, m->master_addr);
    log_info(LOG_MOD, "now slave of %s (broker %" PRId64 ", epoch %" PRId32 ")", m->master_addr ? m->master_addr : "?",
             m->master_id, m->master_epoch);
    if (b->server) broker_request_register(b);
}

/* changeBrokerRole: only a newer master epoch changes anything. */
static void follow(replicas *r, const master_info *m)
{
    if (m->master_id < 0 || !m->master_addr) return;
    if (m->master_epoch <= r->master_epoch) {
        if (m->master_id == r->id) take_set(r, m);
        return;
    }
    if (m->master_id == r->id) become_master(r, m);
    else become_slave(r, m);
}

/* ---- bootstrap ---- */

/* updateControllerAddr: controllerAddr split at ';' (blanks around each dropped). */
static void parse_controllers(replicas *r, const char *list)
{
    char *copy = xstrdup(list ? list : ""), *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t && r->n_peers < MAX_CONTROLLERS; t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        char *e = t + strlen(t);
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*t) continue;
        r->peers[r->n_peers].r = r;
        r->peers[r->n_peers++].addr = xstrdup(t);
    }
    free(copy);
}

static void set_leader(replicas *r, const char *addr)
{
    if (r->controller && strcmp(r->controller, addr) == 0) return;
    log_info(LOG_MOD, "controller leader: %s -> %s", r->controller ? r->controller : "(none)", addr);
    free(r->controller);
    r->controller = xstrdup(addr);
}

/* updateControllerMetadata: the first controller that names a leader (a DLedger
 * follower names the leader too; ours always names itself). */
static int find_leader(replicas *r, char *err, size_t errlen)
{
    if (!r->n_peers) {
        snprintf(err, errlen, "enableControllerMode=true needs controllerAddr");
        return RMQ_ERR;
    }
    char why[256] = "";
    for (int i = 0; i < r->n_peers; i++) {
        controller_peer *p = &r->peers[i];
        rmq_cmd *resp = call(p->addr, cmd_new_request(CTL_CODE_GET_METADATA_INFO), why, sizeof why);
        p->available = resp != NULL;
        const char *leader = resp && resp->code == 0 ? cmd_ext_get(resp, "controllerLeaderAddress") : NULL;
        if (leader && *leader) {
            set_leader(r, leader);
            cmd_free(resp);
            return RMQ_OK;
        }
        if (resp) snprintf(why, sizeof why, "%s names no leader", p->addr);
        cmd_free(resp);
    }
    snprintf(err, errlen, "no controller leader in %s (%s)", r->b->cfg.controllerAddr, why);
    return RMQ_ERR;
}

static int register_and_elect(replicas *r, master_info *m, rmq_cmd **keep, char *err, size_t errlen)
{
    broker *b = r->b;
    char idt[24];
    id_text(idt, sizeof idt, r->id);
    rmq_cmd *req = cmd_new_request(CTL_CODE_REGISTER_BROKER);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set(req, "brokerId", idt);
    cmd_ext_set(req, "brokerAddress", b->addr);
    rmq_cmd *resp = call(r->controller, req, err, errlen);
    if (!resp) return RMQ_ERR;
    if (resp->code) {
        snprintf(err, errlen, "controller refused the registration: %d %s", resp->code, resp->remark ? resp->remark : "");
        cmd_free(resp);
        return RMQ_ERR;
    }
    read_master_info(resp, m);
    if (m->master_id >= 0) {
        *keep = resp;
        return RMQ_OK;
    }
    cmd_free(resp);
    /* brokerElect: no live master, offer ourselves. */
    req = cmd_new_request(CTL_CODE_ELECT_MASTER);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set(req, "brokerId", idt);
    cmd_ext_set(req, "designateElect", "false");
    if (!(resp = call(r->controller, req, err, errlen))) return RMQ_ERR;
    read_master_info(resp, m);
    *keep = resp;
    return RMQ_OK;
}

/* Before serving as a slave: cut our log back to where it agrees with the master's. */
static void cut_back(replicas *r)
{
    broker *b = r->b;
    if (!r->epochs.n || !r->ha_master) return;
    ha_epochs theirs;
    ha_epochs_init(&theirs, NULL);
    int64_t their_end = 0, mine = store_commitlog_max_offset(b->store);
    char err[256];
    if (ha_autoswitch_probe(r->ha_master, r->id, CALL_TIMEOUT_MS, &theirs, &their_end, err, sizeof err)) {
        log_warn(LOG_MOD, "cannot compare epochs with the master: %s", err);
    } else {
        int64_t cp = ha_epochs_consistent_point(&r->epochs, mine, &theirs, their_end);
        if (cp >= 0 && cp < mine) {
            if (store_truncate(b->store, cp, err, sizeof err)) log_error(LOG_MOD, "cannot cut the log back: %s", err);
            else ha_epochs_truncate_from(&r->epochs, cp);
        } else if (cp < 0) {
            log_warn(LOG_MOD, "our log and the master's agree nowhere; replication will refuse it");
        }
    }
    ha_epochs_free(&theirs);
}

replicas *replicas_bootstrap(broker *b, char *err, size_t errlen)
{
    replicas *r = xcalloc(1, sizeof *r);
    r->confirm = -1;
    r->b = b;
    r->master_id = -1;
    parse_controllers(r, b->cfg.controllerAddr);
    char *path = str_printf("%s/epochFileCheckpoint", b->cfg.storePathRootDir);
    ha_epochs_init(&r->epochs, path);
    free(path);
    ha_epochs_load(&r->epochs);
    int64_t deadline = mono_ms() + BOOTSTRAP_MS;
    master_info m;
    rmq_cmd *answer = NULL;
    for (;;) {
        if (find_leader(r, err, errlen) == RMQ_OK && obtain_id(r, err, errlen) == RMQ_OK &&
            register_and_elect(r, &m, &answer, err, errlen) == RMQ_OK)
            break;
        if (mono_ms() > deadline) {
            replicas_free(r);
            return NULL;
        }
        log_warn(LOG_MOD, "controller %s: %s; retrying", b->cfg.controllerAddr, err);
        usleep(500 * 1000);
    }
    if (m.master_id == r->id) {
        record(r, &m);
        take_set(r, &m);
        open_epoch(r, m.master_epoch);
        b->cfg.brokerId = 0;
        set_role(r, "ASYNC_MASTER");
        master_role(r);
        r->pop_started = true;   /* broker_run starts it for a master */
        r->lease_ms = mono_ms();
        log_info(LOG_MOD, "controller: master of %s, epoch %" PRId32, b->cfg.brokerName, m.master_epoch);
    } else {
        /* A slave, or fenced until an election names a master (the periodic sync asks again). */
        become_slave(r, &m);
        cut_back(r);
    }
    cmd_free(answer);
    return r;
}

void replicas_ha_config(replicas *r, ha_config *hc)
{
    hc->auto_switch = true;
    hc->epochs = &r->epochs;
    hc->local_broker_id = r->id;
    hc->master_address = broker_is_slave(r->b) ? r->ha_master : NULL;
}

/* ---- on the loop ---- */

static void add_ms(struct event *ev, int64_t ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
}

/*
 * Ours (Apache leaves it to the name server's stateVersion check): a master
 * the controller has not confirmed for its heartbeat timeout, less one
 * heartbeat interval, may have been replaced by an election it cannot hear
 * of (its link was cut). It stops taking sends and registers as a slave, so
 * the name server does not send clients back to it, until the controller
 * confirms it again or names another master.
 */
static void fence(replicas *r, bool on)
{
    broker *b = r->b;
    if (r->fenced == on) return;
    r->fenced = on;
    if (on) {
        log_warn(LOG_MOD, "no word from the controller for %" PRId64 " ms: fenced (sends refused) until it answers",
                 mono_ms() - r->lease_ms);
        b->cfg.brokerId = r->id;
        set_role(r, "SLAVE");
    } else {
        log_info(LOG_MOD, "the controller confirms us as master again: unfenced");
        b->cfg.brokerId = 0;
        master_role(r);
    }
    broker_request_register(b);
}

static bool lease_expired(const replicas *r)
{
    const broker *b = r->b;
    return mono_ms() - r->lease_ms > b->cfg.controllerHeartBeatTimeoutMills - b->cfg.brokerHeartbeatInterval;
}

bool replicas_lease_ok(const replicas *r)
{
    return r->master_id != r->id || broker_is_slave(r->b) || (!r->fenced && !lease_expired(r));
}

static rmq_cmd *heartbeat_request(const replicas *r)
{
    broker *b = r->b;
    rmq_cmd *req = cmd_new_request(CTL_CODE_BROKER_HEARTBEAT);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set(req, "brokerAddr", b->addr);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set_int(req, "brokerId", r->id);
    cmd_ext_set_int(req, "epoch", ha_epochs_last(&r->epochs));
    int64_t end = store_commitlog_max_offset(b->store);
    cmd_ext_set_int(req, "maxOffset", end);
    cmd_ext_set_int(req, "confirmOffset", end);
    cmd_ext_set_int(req, "heartbeatTimeoutMills", b->cfg.controllerHeartBeatTimeoutMills);
    cmd_ext_set_int(req, "electionPriority", b->cfg.brokerElectionPriority);
    return req;
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    replicas *r = arg;
    broker *b = r->b;
    if (r->master_id == r->id && !r->fenced && lease_expired(r)) fence(r, true);
    /* sendHeartbeatToController: to every available controller, so that a new
     * leader knows at once who is alive (each keeps liveness of its own). */
    bool leader_done = false;
    for (int i = 0; i < r->n_peers; i++) {
        controller_peer *p = &r->peers[i];
        bool leader = r->controller && strcmp(p->addr, r->controller) == 0;
        if (!p->available && !leader) continue;
        leader_done |= leader;
        rmq_client_oneway(b->client, p->addr, heartbeat_request(r));
    }
    if (!leader_done && r->controller) rmq_client_oneway(b->client, r->controller, heartbeat_request(r));
}

/* ---- the controller leader (scanAvailableControllerAddresses, updateControllerMetadata) ---- */

static void metadata_done(rmq_cmd *resp, const char *err, void *arg)
{
    controller_peer *p = arg;
    p->asking = false;
    bool was = p->available;
    p->available = resp != NULL;
    if (was && !p->available) log_warn(LOG_MOD, "controller %s unreachable: %s", p->addr, err ? err : "");
    const char *leader = resp && resp->code == 0 ? cmd_ext_get(resp, "controllerLeaderAddress") : NULL;
    if (leader && *leader) set_leader(p->r, leader);
    cmd_free(resp);
}

static void scan_cb(evutil_socket_t fd, short what, void *arg)
{
    replicas *r = arg;
    for (int i = 0; i < r->n_peers; i++) {
        controller_peer *p = &r->peers[i];
        if (p->asking) continue;
        p->asking = true;
        rmq_client_request(r->b->client, p->addr, cmd_new_request(CTL_CODE_GET_METADATA_INFO), CALL_TIMEOUT_MS,
                           metadata_done, p);
    }
}

/* An answer from the leader: CONTROLLER_NOT_LEADER or none means asking again who leads. */
static bool leader_answered(replicas *r, const rmq_cmd *resp)
{
    if (resp && resp->code != CTL_NOT_LEADER) return true;
    if (r->scan_ev && r->n_peers > 1) event_active(r->scan_ev, EV_TIMEOUT, 0);
    return false;
}

static void elect_done(rmq_cmd *resp, const char *err, void *arg)
{
    replicas *r = arg;
    r->electing = false;
    if (!leader_answered(r, resp)) {
        cmd_free(resp);
        return;
    }
    master_info m;
    read_master_info(resp, &m);
    if (resp->code == 0 || resp->code == CTL_MASTER_STILL_EXIST) follow(r, &m);
    cmd_free(resp);
}

static void replica_info_done(rmq_cmd *resp, const char *err, void *arg)
{
    replicas *r = arg;
    if (!leader_answered(r, resp) || resp->code) {
        cmd_free(resp);
        return;
    }
    master_info m;
    read_master_info(resp, &m);
    if (m.master_id >= 0) {
        if (m.master_id == r->id && m.master_epoch == r->master_epoch) {
            r->lease_ms = r->sync_sent_ms;
            fence(r, false);
        }
        follow(r, &m);
    }
    cmd_free(resp);   /* m's strings were copied by follow */
    if (m.master_id >= 0 || r->electing) return;
    /* No master (all went down): offer ourselves, as brokerElect does at start. */
    broker *b = r->b;
    rmq_cmd *req = cmd_new_request(CTL_CODE_ELECT_MASTER);
    cmd_ext_set(req, "clusterName", b->cfg.brokerClusterName);
    cmd_ext_set(req, "brokerName", b->cfg.brokerName);
    cmd_ext_set_int(req, "brokerId", r->id);
    cmd_ext_set(req, "designateElect", "false");
    r->electing = true;
    rmq_client_request(b->client, r->controller, req, CALL_TIMEOUT_MS, elect_done, r);
}

static void sync_cb(evutil_socket_t fd, short what, void *arg)
{
    replicas *r = arg;
    r->sync_sent_ms = mono_ms();
    rmq_cmd *req = cmd_new_request(CTL_CODE_GET_REPLICA_INFO);
    cmd_ext_set(req, "brokerName", r->b->cfg.brokerName);
    rmq_client_request(r->b->client, r->controller, req, CALL_TIMEOUT_MS, replica_info_done, r);
}

/* NOTIFY_BROKER_ROLE_CHANGED from the controller. */
static int role_changed(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    master_info m;
    read_master_info(req, &m);
    follow(arg, &m);
    *resp = cmd_is_oneway(req) ? NULL : cmd_new_response(req, 0, NULL);
    return RMQ_OK;
}

/* ---- the SyncStateSet (master) ---- */

static bool in_set(const replicas *r, int64_t id)
{
    for (int i = 0; i < r->n_sync; i++)
        if (r->sync_set[i] == id) return true;
    return false;
}

static void alter_done(rmq_cmd *resp, const char *err, void *arg)
{
    replicas *r = arg;
    r->altering = false;
    if (!leader_answered(r, resp)) {
        cmd_free(resp);
        return;
    }
    if (resp->code) {
        log_warn(LOG_MOD, "SyncStateSet change refused: %d %s", resp->code, resp->remark ? resp->remark : "");
    } else {
        master_info m;
        read_master_info(resp, &m);
        cmd_ext_int32(resp, "newSyncStateSetEpoch", &m.set_epoch);
        take_set(r, &m);
        log_info(LOG_MOD, "SyncStateSet now has %d members, epoch %" PRId32, r->n_sync, r->set_epoch);
    }
    cmd_free(resp);
}

static void alter(replicas *r, const int64_t *set, int n)
{
    if (r->altering || broker_is_slave(r->b)) return;
    rmq_cmd *req = cmd_new_request(CTL_CODE_ALTER_SYNC_STATE_SET);
    cmd_ext_set(req, "brokerName", r->b->cfg.brokerName);
    cmd_ext_set_int(req, "masterBrokerId", r->id);
    cmd_ext_set_int(req, "masterEpoch", r->master_epoch);
    ctl_master_info body = {.sync_state_set_epoch = r->set_epoch, .n_sync_state_set = n};
    memcpy(body.sync_state_set, set, sizeof set[0] * (size_t)n);
    size_t len;
    char *json = ctl_sync_state_set_json(&body, &len);
    cmd_take_body(req, json, len);
    r->altering = true;
    rmq_client_request(r->b->client, r->controller, req, CALL_TIMEOUT_MS, alter_done, r);
}

typedef struct confirm_walk {
    const replicas *r;
    int64_t confirm;
    int found;
} confirm_walk;

static void lower_confirm(void *arg, int64_t id, int64_t ack, int64_t caught_up_ms)
{
    confirm_walk *w = arg;
    if (id == w->r->id || !in_set(w->r, id)) return;
    if (ack < w->confirm) w->confirm = ack;
    w->found++;
}

/*
 * CommitLog.getConfirmOffset: a SYNC_MASTER (allAckInSyncStateSet, others in the set)
 * lets consumers read only what every member of the SyncStateSet acknowledged
 * (AutoSwitchHAService.computeConfirmOffset), so a failover to any of them loses nothing
 * a consumer saw; alone in the set, or a slave, it does not hold anything back. A member
 * without a connection now holds the gate where it is (0 when it was open: nothing new).
 */
static void update_confirm(replicas *r)
{
    broker *b = r->b;
    if (broker_is_slave(b) || !b->cfg.allAckInSyncStateSet || r->n_sync <= 1 || !b->ha) {
        store_set_confirm_offset(b->store, -1);
        return;
    }
    confirm_walk w = {.r = r, .confirm = store_commitlog_max_offset(b->store)};
    ha_foreach_slave(b->ha, lower_confirm, &w);
    if (w.found < r->n_sync - (in_set(r, r->id) ? 1 : 0)) {
        if (r->confirm < 0) r->confirm = 0;
        store_set_confirm_offset(b->store, r->confirm);
        return;
    }
    r->confirm = w.confirm;
    store_set_confirm_offset(b->store, w.confirm);
}

/* maybeExpandInSyncStateSet: a slave that has all we have joins. */
static void on_ack(void *arg, int64_t id, int64_t offset)
{
    replicas *r = arg;
    if (!broker_is_slave(r->b) && in_set(r, id)) update_confirm(r);
    if (broker_is_slave(r->b) || in_set(r, id) || r->n_sync >= MAX_SET) return;
    if (offset < store_commitlog_max_offset(r->b->store)) return;
    int64_t set[MAX_SET];
    memcpy(set, r->sync_set, sizeof set[0] * (size_t)r->n_sync);
    set[r->n_sync] = id;
    alter(r, set, r->n_sync + 1);
}

typedef struct shrink_walk {
    int64_t ids[MAX_SET];
    int n;
    int64_t since;
} shrink_walk;

static void keep_caught_up(void *arg, int64_t id, int64_t ack, int64_t caught_up_ms)
{
    shrink_walk *w = arg;
    if (caught_up_ms >= w->since && w->n < MAX_SET) w->ids[w->n++] = id;
}

/* checkSyncStateSetAndDoReport: members not caught up within haMaxTimeSlaveNotCatchup leave. */
static void check_cb(evutil_socket_t fd, short what, void *arg)
{
    replicas *r = arg;
    if (broker_is_slave(r->b) || !r->b->ha) return;
    shrink_walk w = {.since = mono_ms() - r->b->cfg.haMaxTimeSlaveNotCatchup};
    ha_foreach_slave(r->b->ha, keep_caught_up, &w);
    int64_t set[MAX_SET];
    int n = 0;
    for (int i = 0; i < r->n_sync; i++) {
        bool keep = r->sync_set[i] == r->id;
        for (int j = 0; !keep && j < w.n; j++) keep = w.ids[j] == r->sync_set[i];
        if (keep) set[n++] = r->sync_set[i];
    }
    if (n < r->n_sync && n > 0) alter(r, set, n);
}

void replicas_start(replicas *r)
{
    broker *b = r->b;
    rmq_server_register(b->server, CTL_CODE_NOTIFY_BROKER_ROLE_CHANGED, role_changed, r);
    /* broker_run made the slave's metadata sync; the name server does not name its master here. */
    if (broker_is_slave(b) && b->slave_sync && r->master_addr) slave_sync_set_master(b->slave_sync, r->master_addr);
    if (b->ha) ha_on_slave_ack(b->ha, on_ack, r);
    update_confirm(r);   /* b->ha exists now */
    r->heartbeat_ev = event_new(b->base, -1, EV_PERSIST, heartbeat_cb, r);
    r->sync_ev = event_new(b->base, -1, EV_PERSIST, sync_cb, r);
    r->check_ev = event_new(b->base, -1, EV_PERSIST, check_cb, r);
    r->scan_ev = event_new(b->base, -1, EV_PERSIST, scan_cb, r);
    add_ms(r->scan_ev, CONTROLLER_SCAN_MS);
    add_ms(r->heartbeat_ev, b->cfg.brokerHeartbeatInterval);
    add_ms(r->sync_ev, b->cfg.syncBrokerMetadataPeriod);
    add_ms(r->check_ev, b->cfg.checkSyncStateSetPeriod);
    heartbeat_cb(-1, 0, r);   /* alive at once: an election may need us */
}

const ha_epochs *replicas_epochs(const replicas *r) { return &r->epochs; }

bool replicas_in_sync_set(const replicas *r, int64_t broker_id) { return in_set(r, broker_id); }

int replicas_sync_set_size(const replicas *r) { return r->n_sync; }

void replicas_free(replicas *r)
{
    if (!r) return;
    if (r->heartbeat_ev) event_free(r->heartbeat_ev);
    if (r->sync_ev) event_free(r->sync_ev);
    if (r->check_ev) event_free(r->check_ev);
    if (r->scan_ev) event_free(r->scan_ev);
    if (r->b->ha) ha_on_slave_ack(r->b->ha, NULL, NULL);
    ha_epochs_free(&r->epochs);
    for (int i = 0; i < r->n_peers; i++) free(r->peers[i].addr);
    free(r->controller);
    free(r->master_addr);
    free(r->ha_master);
    free(r);
}
