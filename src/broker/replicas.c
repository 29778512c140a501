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

#include "replicas_int.h"

/* ---- roles ---- */

/* Controller mode writes as SYNC_MASTER; a send waits for the slaves only with
 * allAckInSyncStateSet and someone beside the master in the SyncStateSet. */
void replicas_set_role(replicas *r, const char *role)
{
    broker *b = r->b;
    if (strcmp(b->cfg.brokerRole, role) == 0) return;
    free(b->cfg.brokerRole);
    b->cfg.brokerRole = xstrdup(role);
}

static void update_confirm(replicas *r);

void replicas_master_role(replicas *r)
{
    replicas_set_role(r, r->b->cfg.allAckInSyncStateSet && r->n_sync > 1 ? "SYNC_MASTER" : "ASYNC_MASTER");
    update_confirm(r);
}

void replicas_take_set(replicas *r, const master_info *m)
{
    if (!m->has_set || m->set_epoch < r->set_epoch) return;
    r->set_epoch = m->set_epoch;
    r->n_sync = m->n_set;
    memcpy(r->sync_set, m->set, sizeof m->set[0] * (size_t)m->n_set);
    if (!broker_is_slave(r->b)) replicas_master_role(r);
}

/* The master's HA address: its remoting host and port + 1 (haListenPort's default). */
static char *ha_address_of(const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) return NULL;
    return str_printf("%.*s:%d", (int)(colon - addr), addr, atoi(colon + 1) + 1);
}

void replicas_record(replicas *r, const master_info *m)
{
    /* DataVersion.nextVersion(masterEpoch): the name servers prefer the newest epoch's master. */
    if (m->master_epoch > r->master_epoch) topic_table_next_state_version(r->b->topics, m->master_epoch);
    r->master_epoch = m->master_epoch;
    r->master_id = m->master_id;
    free(r->master_addr);
    r->master_addr = m->master_addr ? xstrdup(m->master_addr) : NULL;
}

/* The epoch begins at our log's end; an old entry of this epoch or later goes. */
void replicas_open_epoch(replicas *r, int32_t epoch)
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
    replicas_record(r, m);
    replicas_take_set(r, m);
    replicas_open_epoch(r, m->master_epoch);
    b->cfg.brokerId = 0;   /* MixAll.MASTER_ID towards the name servers */
    replicas_master_role(r);
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
void replicas_become_slave(replicas *r, const master_info *m)
{
    broker *b = r->b;
    r->fenced = false;
    replicas_record(r, m);
    replicas_set_role(r, "SLAVE");
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
        if (m->master_id == r->id) replicas_take_set(r, m);
        return;
    }
    if (m->master_id == r->id) become_master(r, m);
    else replicas_become_slave(r, m);
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
        replicas_set_role(r, "SLAVE");
    } else {
        log_info(LOG_MOD, "the controller confirms us as master again: unfenced");
        b->cfg.brokerId = 0;
        replicas_master_role(r);
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
    if (leader && *leader) replicas_set_leader(p->r, leader);
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
    replicas_read_master_info(resp, &m);
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
    replicas_read_master_info(resp, &m);
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
    replicas_read_master_info(req, &m);
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
        replicas_read_master_info(resp, &m);
        cmd_ext_int32(resp, "newSyncStateSetEpoch", &m.set_epoch);
        replicas_take_set(r, &m);
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
