/*
 * Controller mode on the broker, the start: the broker's id from the controller and its
 * metadata files (brokerIdentity, brokerIdentity-temp), the controller leader, the first
 * election (Apache 5.x ReplicasManager.startBasicService), blocking before the loop runs.
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

/* ---- blocking calls (bootstrap) ---- */

static rmq_cmd *call(const char *addr, rmq_cmd *req, char *err, size_t errlen)
{
    rmq_cmd *resp = rmq_invoke_sync(addr, req, CALL_TIMEOUT_MS, err, errlen);
    cmd_free(req);
    return resp;
}

static void id_text(char *out, size_t len, int64_t v) { snprintf(out, len, "%" PRId64, v); }


void replicas_read_master_info(const rmq_cmd *c, master_info *m)
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

void replicas_set_leader(replicas *r, const char *addr)
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
            replicas_set_leader(r, leader);
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
    replicas_read_master_info(resp, m);
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
    replicas_read_master_info(resp, m);
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
        replicas_record(r, &m);
        replicas_take_set(r, &m);
        replicas_open_epoch(r, m.master_epoch);
        b->cfg.brokerId = 0;
        replicas_set_role(r, "ASYNC_MASTER");
        replicas_master_role(r);
        r->pop_started = true;   /* broker_run starts it for a master */
        r->lease_ms = mono_ms();
        log_info(LOG_MOD, "controller: master of %s, epoch %" PRId32, b->cfg.brokerName, m.master_epoch);
    } else {
        /* A slave, or fenced until an election names a master (the periodic sync asks again). */
        replicas_become_slave(r, &m);
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

