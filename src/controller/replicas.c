/*
 * The controller's state machine: Apache's ReplicasInfoManager (broker sets,
 * SyncStateInfo) and DefaultElectPolicy (who becomes master). Each change is
 * also given to the state's change hook as an event (ApplyBrokerIdEvent,
 * UpdateBrokerAddressEvent, ElectMasterEvent, AlterSyncStateSetEvent,
 * CleanBrokerDataEvent in Apache): the leader puts them in the Raft log and the
 * other controllers apply them in log order (ctl_state_apply_events).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/util.h"
#include "controller/ctl_int.h"
#include "remoting/remoting.h"

ctl_state *ctl_state_new(bool elect_unclean_master)
{
    ctl_state *s = xcalloc(1, sizeof *s);
    s->elect_unclean = elect_unclean_master;
    return s;
}

void ctl_set_free(broker_set *b)
{
    for (int i = 0; i < b->n_replicas; i++) {
        free(b->replicas[i].addr);
        free(b->replicas[i].check_code);
    }
    free(b->cluster);
    free(b->name);
    free(b);
}

void ctl_live_free(live *l)
{
    free(l->cluster);
    free(l->name);
    free(l->addr);
    free(l);
}

void ctl_state_free(ctl_state *s)
{
    if (!s) return;
    for (broker_set *b = s->sets, *n; b; b = n) {
        n = b->next;
        ctl_set_free(b);
    }
    for (live *l = s->lives, *n; l; l = n) {
        n = l->next;
        ctl_live_free(l);
    }
    free(s);
}

broker_set *ctl_find_set(const ctl_state *s, const char *name)
{
    for (broker_set *b = s->sets; b; b = b->next)
        if (name && strcmp(b->name, name) == 0) return b;
    return NULL;
}

static replica *find_replica(broker_set *b, int64_t id)
{
    for (int i = 0; i < b->n_replicas; i++)
        if (b->replicas[i].id == id) return &b->replicas[i];
    return NULL;
}

const char *ctl_replica_addr(const broker_set *b, int64_t id)
{
    for (int i = 0; i < b->n_replicas; i++)
        if (b->replicas[i].id == id) return b->replicas[i].addr;
    return NULL;
}

bool ctl_in_sync_set(const broker_set *b, int64_t id)
{
    for (int i = 0; i < b->n_sync; i++)
        if (b->sync_set[i] == id) return true;
    return false;
}

static void reply(ctl_reply *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply(ctl_reply *r, int code, const char *fmt, ...)
{
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->remark, sizeof r->remark, fmt, ap);
    va_end(ap);
}

static int ok(ctl_reply *r)
{
    r->code = 0;
    r->remark[0] = '\0';
    return 0;
}

static void fill_info(const broker_set *b, bool with_master, ctl_master_info *out)
{
    memset(out, 0, sizeof *out);
    out->master_id = CTL_NO_ID;
    if (with_master && b->master_id != CTL_NO_ID) {
        out->master_id = b->master_id;
        out->master_addr = ctl_replica_addr(b, b->master_id);
    }
    out->master_epoch = b->master_epoch;
    out->sync_state_set_epoch = b->set_epoch;
    memcpy(out->sync_state_set, b->sync_set, sizeof b->sync_set[0] * (size_t)b->n_sync);
    out->n_sync_state_set = b->n_sync;
}

/* ---- events ---- */

/* An event to the change hook: {"type":"...Event","brokerName":...,<fields>} */
static fjson_writer *event_begin(fjson_writer *w, const char *type, const char *broker_name)
{
    fjson_writer_init(w, 0);
    fjson_begin_object(w);
    fjson_prop_string(w, "type", type);
    fjson_prop_string(w, "brokerName", broker_name);
    return w;
}

static void event_end(const ctl_state *s, fjson_writer *w)
{
    fjson_end_object(w);
    size_t len;
    char *json = fjson_writer_finish(w, &len);
    if (s->on_change) s->on_change(s->change_arg, json, len);
    free(json);
}

static void write_ids(fjson_writer *w, const char *key, const int64_t *ids, int n)
{
    fjson_key(w, key);
    fjson_begin_array(w);
    for (int i = 0; i < n; i++) fjson_int64(w, ids[i]);
    fjson_end_array(w);
}

void ctl_state_on_change(ctl_state *s, ctl_change_fn fn, void *arg)
{
    s->on_change = fn;
    s->change_arg = arg;
}

/* ElectMasterEvent: a new master alone in a new SyncStateSet, both epochs bumped; or
 * (CTL_NO_ID) the master gone, the SyncStateSet kept. */
static void do_elect(ctl_state *s, broker_set *b, int64_t new_master)
{
    fjson_writer w;
    event_begin(&w, "ElectMasterEvent", b->name);
    fjson_prop_int64(&w, "newMasterBrokerId", new_master);
    event_end(s, &w);
    if (new_master != CTL_NO_ID) {
        b->master_id = new_master;
        b->master_epoch++;
        b->sync_set[0] = new_master;
        b->n_sync = 1;
        b->set_epoch++;
    } else if (b->master_id != CTL_NO_ID) {
        b->master_id = CTL_NO_ID;
        b->master_epoch++;
    }
}

static void do_alter(ctl_state *s, broker_set *b, const int64_t *set, int n)
{
    fjson_writer w;
    event_begin(&w, "AlterSyncStateSetEvent", b->name);
    write_ids(&w, "newSyncStateSet", set, n);
    event_end(s, &w);
    memcpy(b->sync_set, set, sizeof set[0] * (size_t)n);
    b->n_sync = n;
    b->set_epoch++;
}

static void do_update_address(ctl_state *s, broker_set *b, replica *rep, const char *addr)
{
    fjson_writer w;
    event_begin(&w, "UpdateBrokerAddressEvent", b->name);
    fjson_prop_int64(&w, "brokerId", rep->id);
    fjson_prop_string(&w, "brokerAddress", addr);
    event_end(s, &w);
    free(rep->addr);
    rep->addr = xstrdup(addr);
}

static void do_clean(ctl_state *s, broker_set *b, const int64_t *ids, int n)
{
    fjson_writer w;
    event_begin(&w, "CleanBrokerDataEvent", b->name);
    if (ids) write_ids(&w, "brokerIdSetToClean", ids, n);
    event_end(s, &w);
    for (int i = 0; ids && i < n; i++) {
        for (int j = 0; j < b->n_replicas; j++)
            if (b->replicas[j].id == ids[i]) {
                free(b->replicas[j].addr);
                free(b->replicas[j].check_code);
                b->replicas[j] = b->replicas[--b->n_replicas];
                break;
            }
        for (int j = 0; j < b->n_sync; j++)
            if (b->sync_set[j] == ids[i]) {
                b->sync_set[j] = b->sync_set[--b->n_sync];
                break;
            }
    }
    if (!ids || b->n_replicas == 0 || b->n_sync == 0) {
        broker_set **pp = &s->sets;
        while (*pp != b) pp = &(*pp)->next;
        *pp = b->next;
        ctl_set_free(b);
    }
}

static void emit_apply_id(const ctl_state *s, const char *cluster, const char *broker_name, int64_t id,
                          const char *check_code)
{
    fjson_writer w;
    event_begin(&w, "ApplyBrokerIdEvent", broker_name);
    fjson_prop_string(&w, "clusterName", cluster ? cluster : "");
    fjson_prop_int64(&w, "brokerId", id);
    fjson_prop_string(&w, "registerCheckCode", check_code);
    event_end(s, &w);
}

/* ---- registration ---- */

int64_t ctl_next_broker_id(const ctl_state *s, const char *broker_name)
{
    const broker_set *b = ctl_find_set(s, broker_name);
    if (!b) return CTL_FIRST_BROKER_ID;
    int64_t max = 0;   /* BrokerReplicaInfo.getNextAssignBrokerId: the highest id + 1 */
    for (int i = 0; i < b->n_replicas; i++)
        if (b->replicas[i].id > max) max = b->replicas[i].id;
    return max + 1;
}

void ctl_add_replica(broker_set *b, int64_t id, const char *addr, const char *check_code)
{
    replica *r = &b->replicas[b->n_replicas++];
    r->id = id;
    r->addr = xstrdup(addr);
    r->check_code = xstrdup(check_code);
}

int ctl_apply_broker_id(ctl_state *s, const char *cluster, const char *broker_name, int64_t id,
                        const char *check_code, ctl_reply *r)
{
    if (!broker_name || !check_code || id < 0) {
        reply(r, CTL_INVALID_REQUEST, "brokerName, appliedBrokerId and registerCheckCode are required");
        return r->code;
    }
    /* registerCheckCode is "brokerAddress;timestamp". */
    const char *semi = strchr(check_code, ';');
    char *addr = semi ? xstrndup(check_code, (size_t)(semi - check_code)) : xstrdup(check_code);
    broker_set *b = ctl_find_set(s, broker_name);
    if (!b) {
        if (id != CTL_FIRST_BROKER_ID) {
            reply(r, CTL_BROKER_ID_INVALID,
                  "Broker-set: %s hasn't been registered in controller, but broker try to apply brokerId: %lld",
                  broker_name, (long long)id);
        } else {
            b = xcalloc(1, sizeof *b);
            b->cluster = xstrdup(cluster ? cluster : "");
            b->name = xstrdup(broker_name);
            b->master_id = CTL_NO_ID;
            ctl_add_replica(b, id, addr, check_code);
            b->next = s->sets;
            s->sets = b;
            emit_apply_id(s, cluster, broker_name, id, check_code);
            ok(r);
        }
        free(addr);
        return r->code;
    }
    replica *rep = find_replica(b, id);
    if (!rep && b->n_replicas < CTL_MAX_REPLICAS) {
        ctl_add_replica(b, id, addr, check_code);
        emit_apply_id(s, cluster, broker_name, id, check_code);
        ok(r);
    } else if (rep && strcmp(rep->check_code, check_code) == 0) {
        ok(r);
    } else {
        reply(r, CTL_BROKER_ID_INVALID, "Fail to apply brokerId: %lld in broker-set: %s", (long long)id, broker_name);
    }
    free(addr);
    return r->code;
}

int ctl_register_broker(ctl_state *s, const char *cluster, const char *broker_name, int64_t id,
                        const char *addr, int64_t now_ms, ctl_master_info *out, ctl_reply *r)
{
    broker_set *b = ctl_find_set(s, broker_name);
    if (!b) {
        reply(r, CTL_BROKER_NEED_TO_BE_REGISTERED, "Broker-set: %s hasn't been registered in controller",
              broker_name ? broker_name : "null");
        return r->code;
    }
    replica *rep = find_replica(b, id);
    if (!rep) {
        reply(r, CTL_BROKER_NEED_TO_BE_REGISTERED, "BrokerId: %lld hasn't been registered in broker-set: %s",
              (long long)id, broker_name);
        return r->code;
    }
    if (addr && strcmp(rep->addr, addr) != 0) do_update_address(s, b, rep, addr);
    bool master_alive = b->master_id != CTL_NO_ID && ctl_broker_alive(s, b->cluster, b->name, b->master_id, now_ms);
    fill_info(b, master_alive, out);
    return ok(r);
}

int ctl_replica_info(const ctl_state *s, const char *broker_name, ctl_master_info *out, ctl_reply *r)
{
    const broker_set *b = ctl_find_set(s, broker_name);
    if (!b) {
        reply(r, CTL_BROKER_METADATA_NOT_EXIST, "Broker metadata is not existed");
        return r->code;
    }
    fill_info(b, true, out);
    return ok(r);
}

/* ---- election ---- */

/* DefaultElectPolicy's order: higher epoch, then larger max offset, then lower priority value. */
static bool better(const live *a, const live *b)
{
    if (!b) return true;
    if (!a) return false;
    if (a->epoch != b->epoch) return a->epoch > b->epoch;
    if (a->max_offset != b->max_offset) return a->max_offset > b->max_offset;
    return a->priority < b->priority;
}

static int64_t try_elect(const ctl_state *s, const broker_set *b, const int64_t *ids, int n, int64_t prefer,
                         int64_t now_ms)
{
    int64_t alive[CTL_MAX_REPLICAS];
    int na = 0;
    for (int i = 0; i < n; i++)
        if (ctl_broker_alive(s, b->cluster, b->name, ids[i], now_ms)) alive[na++] = ids[i];
    if (!na) return CTL_NO_ID;
    for (int i = 0; i < na; i++)
        if (alive[i] == b->master_id && (prefer == CTL_NO_ID || prefer == b->master_id)) return b->master_id;
    if (prefer != CTL_NO_ID) {
        for (int i = 0; i < na; i++)
            if (alive[i] == prefer) return prefer;
        return CTL_NO_ID;
    }
    int64_t best = CTL_NO_ID;
    const live *best_live = NULL;
    for (int i = 0; i < na; i++) {
        const live *l = ctl_find_live(s, b->cluster, b->name, alive[i]);
        if (best == CTL_NO_ID || better(l, best_live)) {
            best = alive[i];
            best_live = l;
        }
    }
    return best;
}

int ctl_elect_master(ctl_state *s, const char *broker_name, int64_t broker_id, bool designate, int64_t now_ms,
                     ctl_master_info *out, ctl_reply *r)
{
    broker_set *b = ctl_find_set(s, broker_name);
    if (!b) {
        reply(r, CTL_BROKER_NEED_TO_BE_REGISTERED, "Broker hasn't been registered");
        return r->code;
    }
    int64_t new_master = CTL_NO_ID;
    if (b->master_epoch == 0) new_master = broker_id;   /* isFirstTimeForElect */
    if (new_master == CTL_NO_ID) {
        int64_t prefer = designate ? broker_id : CTL_NO_ID;
        new_master = try_elect(s, b, b->sync_set, b->n_sync, prefer, now_ms);
        if (new_master == CTL_NO_ID && s->elect_unclean) {
            int64_t all[CTL_MAX_REPLICAS];
            for (int i = 0; i < b->n_replicas; i++) all[i] = b->replicas[i].id;
            new_master = try_elect(s, b, all, b->n_replicas, prefer, now_ms);
        }
    }
    if (new_master != CTL_NO_ID && new_master == b->master_id) {
        fill_info(b, true, out);
        reply(r, CTL_MASTER_STILL_EXIST,
              "The old master %lld is still alive, not need to elect new master for broker %s",
              (long long)b->master_id, b->name);
        return r->code;
    }
    if (new_master != CTL_NO_ID && find_replica(b, new_master)) {
        do_elect(s, b, new_master);
        fill_info(b, true, out);
        return ok(r);
    }
    if (broker_id == CTL_NO_ID) {
        if (b->master_id != CTL_NO_ID) do_elect(s, b, CTL_NO_ID);
        reply(r, CTL_MASTER_NOT_AVAILABLE, "Old master has down and failed to elect a new broker master");
    } else {
        reply(r, CTL_ELECT_MASTER_FAILED, "Failed to elect a new master");
    }
    return r->code;
}

int ctl_alter_sync_state_set(ctl_state *s, const char *broker_name, int64_t master_id, int32_t master_epoch,
                             const int64_t *set, int n, int32_t set_epoch, int64_t now_ms, int32_t *new_epoch,
                             ctl_reply *r)
{
    broker_set *b = ctl_find_set(s, broker_name);
    if (!b) {
        reply(r, CTL_ALTER_SYNC_STATE_SET_FAILED, "Broker metadata is not existed");
        return r->code;
    }
    bool same = n == b->n_sync;
    for (int i = 0; same && i < n; i++) same = ctl_in_sync_set(b, set[i]);
    if (same) {
        reply(r, CTL_ALTER_SYNC_STATE_SET_FAILED,
              "The newSyncStateSet is equal with oldSyncStateSet, no needed to update syncStateSet");
        return r->code;
    }
    if (b->master_id == CTL_NO_ID || b->master_id != master_id) {
        reply(r, CTL_INVALID_MASTER, "Rejecting alter syncStateSet request because the current leader is:{%lld}, not {%lld}",
              (long long)b->master_id, (long long)master_id);
        return r->code;
    }
    if (master_epoch != b->master_epoch) {
        reply(r, CTL_FENCED_MASTER_EPOCH,
              "Rejecting alter syncStateSet request because the current master epoch is:{%d}, not {%d}",
              b->master_epoch, master_epoch);
        return r->code;
    }
    if (set_epoch != b->set_epoch) {
        reply(r, CTL_FENCED_SYNC_STATE_SET_EPOCH,
              "Rejecting alter syncStateSet request because the current syncStateSet epoch is:{%d}, not {%d}",
              b->set_epoch, set_epoch);
        return r->code;
    }
    bool has_master = false;
    for (int i = 0; i < n; i++) {
        if (!find_replica(b, set[i])) {
            reply(r, CTL_INVALID_REPLICAS, "Rejecting alter syncStateSet request because the replicas {%lld} don't exist",
                  (long long)set[i]);
            return r->code;
        }
        if (!ctl_broker_alive(s, b->cluster, b->name, set[i], now_ms)) {
            reply(r, CTL_BROKER_NOT_ALIVE, "Rejecting alter syncStateSet request because the replicas {%lld} don't alive",
                  (long long)set[i]);
            return r->code;
        }
        if (set[i] == b->master_id) has_master = true;
    }
    if (!has_master) {
        reply(r, CTL_ALTER_SYNC_STATE_SET_FAILED,
              "Rejecting alter syncStateSet request because the newSyncStateSet don't contains origin leader {%lld}",
              (long long)b->master_id);
        return r->code;
    }
    do_alter(s, b, set, n);
    *new_epoch = b->set_epoch;
    return ok(r);
}

int ctl_clean_broker_data(ctl_state *s, const char *broker_name, const int64_t *ids, int n, bool clean_living,
                          int64_t now_ms, ctl_reply *r)
{
    broker_set *b = ctl_find_set(s, broker_name);
    if (!clean_living && b) {
        if (!ids && b->master_id != CTL_NO_ID) {
            reply(r, CTL_INVALID_CLEAN_BROKER_METADATA, "Broker %s is still alive, clean up failure", broker_name);
            return r->code;
        }
        for (int i = 0; ids && i < n; i++)
            if (ctl_broker_alive(s, b->cluster, b->name, ids[i], now_ms)) {
                reply(r, CTL_INVALID_CLEAN_BROKER_METADATA, "Broker [%s,  %lld] is still alive, clean up failure",
                      broker_name, (long long)ids[i]);
                return r->code;
            }
    }
    if (!b) {
        reply(r, CTL_INVALID_CLEAN_BROKER_METADATA, "Broker %s is not existed,clean broker data failure.",
              broker_name ? broker_name : "null");
        return r->code;
    }
    do_clean(s, b, ids, n);
    return ok(r);
}

int ctl_members(const ctl_state *s, const char *broker_name, const char **cluster, int64_t *ids, const char **addrs,
                int max)
{
    const broker_set *b = ctl_find_set(s, broker_name);
    if (!b) return 0;
    *cluster = b->cluster;
    int n = 0;
    for (int i = 0; i < b->n_replicas && n < max; i++, n++) {
        ids[n] = b->replicas[i].id;
        addrs[n] = b->replicas[i].addr;
    }
    return n;
}


/* ---- applying the log ---- */

static int apply_one(ctl_state *s, const cJSON *ev, char *err, size_t errlen)
{
    const char *type = NULL, *name = NULL;
    if (fjson_field_string(ev, "type", &type) || fjson_field_string(ev, "brokerName", &name)) {
        snprintf(err, errlen, "an event without type or brokerName");
        return RMQ_ERR;
    }
    ctl_reply r;
    if (strcmp(type, "ApplyBrokerIdEvent") == 0) {
        const char *cluster = NULL, *code = NULL;
        int64_t id;
        if (fjson_field_string(ev, "clusterName", &cluster) || fjson_field_string(ev, "registerCheckCode", &code) ||
            fjson_field_int64(ev, "brokerId", &id)) {
            snprintf(err, errlen, "a malformed %s", type);
            return RMQ_ERR;
        }
        ctl_apply_broker_id(s, cluster, name, id, code, &r);
        return RMQ_OK;   /* refused here as on the leader: the same state, the same answer */
    }
    broker_set *b = ctl_find_set(s, name);
    if (!b) {
        snprintf(err, errlen, "%s for an unknown broker set %s", type, name);
        return RMQ_ERR;
    }
    int64_t ids[CTL_MAX_REPLICAS], id = CTL_NO_ID;
    int n = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(ev, "newSyncStateSet");
    if (!arr) arr = cJSON_GetObjectItemCaseSensitive(ev, "brokerIdSetToClean");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (n >= CTL_MAX_REPLICAS || !fjson_get_int64(it, &ids[n])) {
            snprintf(err, errlen, "a malformed id list in %s", type);
            return RMQ_ERR;
        }
        n++;
    }
    if (strcmp(type, "ElectMasterEvent") == 0 && fjson_field_int64(ev, "newMasterBrokerId", &id) == FJSON_OK &&
        (id == CTL_NO_ID || find_replica(b, id))) {
        do_elect(s, b, id);
    } else if (strcmp(type, "AlterSyncStateSetEvent") == 0 && arr) {
        do_alter(s, b, ids, n);
    } else if (strcmp(type, "UpdateBrokerAddressEvent") == 0) {
        const char *addr = NULL;
        replica *rep = fjson_field_int64(ev, "brokerId", &id) == FJSON_OK ? find_replica(b, id) : NULL;
        if (!rep || fjson_field_string(ev, "brokerAddress", &addr)) {
            snprintf(err, errlen, "a malformed %s", type);
            return RMQ_ERR;
        }
        do_update_address(s, b, rep, addr);
    } else if (strcmp(type, "CleanBrokerDataEvent") == 0) {
        do_clean(s, b, arr ? ids : NULL, n);
    } else {
        snprintf(err, errlen, "an unknown or malformed event %s", type);
        return RMQ_ERR;
    }
    return RMQ_OK;
}

int ctl_state_apply_events(ctl_state *s, const char *json, size_t len, char *err, size_t errlen)
{
    const char *why;
    cJSON *root = fjson_parse(json, len, &why);
    if (!root || !cJSON_IsArray(root)) {
        snprintf(err, errlen, "not a JSON list of events");
        cJSON_Delete(root);
        return RMQ_ERR;
    }
    /* Applying is not a change of ours to pass on. */
    ctl_change_fn fn = s->on_change;
    s->on_change = NULL;
    int rc = RMQ_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) if (rc == RMQ_OK) rc = apply_one(s, it, err, errlen);
    s->on_change = fn;
    cJSON_Delete(root);
    return rc;
}
