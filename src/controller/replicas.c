/*
 * The controller's state machine: Apache's ReplicasInfoManager (broker sets,
 * SyncStateInfo), DefaultBrokerHeartbeatManager (liveness) and
 * DefaultElectPolicy (who becomes master). Decisions are applied at once:
 * there is no replicated log between controllers (controller.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/util.h"
#include "controller/controller.h"
#include "remoting/remoting.h"

typedef struct replica {
    int64_t id;
    char *addr;
    char *check_code;     /* registerCheckCode: "addr;timestamp" */
} replica;

/* BrokerReplicaInfo + SyncStateInfo of one broker set (brokerName). */
typedef struct broker_set {
    struct broker_set *next;
    char *cluster, *name;
    replica replicas[CTL_MAX_REPLICAS];
    int n_replicas;
    int64_t master_id;                 /* CTL_NO_ID */
    int32_t master_epoch, set_epoch;
    int64_t sync_set[CTL_MAX_REPLICAS];
    int n_sync;
} broker_set;

/* BrokerLiveInfo, keyed by (cluster, name, id). */
typedef struct live {
    struct live *next;
    char *cluster, *name, *addr;
    int64_t id, last_ms, timeout_ms, max_offset, confirm_offset;
    int32_t epoch, priority;
    const rmq_conn *conn;
} live;

struct ctl_state {
    broker_set *sets;
    live *lives;
    bool elect_unclean;
};

ctl_state *ctl_state_new(bool elect_unclean_master)
{
    ctl_state *s = xcalloc(1, sizeof *s);
    s->elect_unclean = elect_unclean_master;
    return s;
}

static void set_free(broker_set *b)
{
    for (int i = 0; i < b->n_replicas; i++) {
        free(b->replicas[i].addr);
        free(b->replicas[i].check_code);
    }
    free(b->cluster);
    free(b->name);
    free(b);
}

static void live_free(live *l)
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
        set_free(b);
    }
    for (live *l = s->lives, *n; l; l = n) {
        n = l->next;
        live_free(l);
    }
    free(s);
}

static broker_set *find_set(const ctl_state *s, const char *name)
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

static const char *replica_addr(const broker_set *b, int64_t id)
{
    for (int i = 0; i < b->n_replicas; i++)
        if (b->replicas[i].id == id) return b->replicas[i].addr;
    return NULL;
}

static bool in_sync_set(const broker_set *b, int64_t id)
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
        out->master_addr = replica_addr(b, b->master_id);
    }
    out->master_epoch = b->master_epoch;
    out->sync_state_set_epoch = b->set_epoch;
    memcpy(out->sync_state_set, b->sync_set, sizeof b->sync_set[0] * (size_t)b->n_sync);
    out->n_sync_state_set = b->n_sync;
}

/* ---- liveness ---- */

static live *find_live(const ctl_state *s, const char *cluster, const char *name, int64_t id)
{
    for (live *l = s->lives; l; l = l->next)
        if (l->id == id && strcmp(l->name, name) == 0 && strcmp(l->cluster, cluster ? cluster : "") == 0) return l;
    return NULL;
}

bool ctl_broker_alive(const ctl_state *s, const char *cluster, const char *broker_name, int64_t id, int64_t now_ms)
{
    const live *l = find_live(s, cluster, broker_name, id);
    return l && l->last_ms + l->timeout_ms >= now_ms;
}

void ctl_on_heartbeat(ctl_state *s, const ctl_heartbeat *hb, int64_t now_ms)
{
    live *l = find_live(s, hb->cluster, hb->broker_name, hb->broker_id);
    if (!l) {
        l = xcalloc(1, sizeof *l);
        l->cluster = xstrdup(hb->cluster ? hb->cluster : "");
        l->name = xstrdup(hb->broker_name);
        l->addr = xstrdup(hb->broker_addr ? hb->broker_addr : "");
        l->id = hb->broker_id;
        l->epoch = hb->epoch;
        l->max_offset = hb->max_offset;
        l->confirm_offset = hb->confirm_offset;
        l->next = s->lives;
        s->lives = l;
    } else if (hb->epoch > l->epoch || (hb->epoch == l->epoch && hb->max_offset > l->max_offset)) {
        l->epoch = hb->epoch;
        l->max_offset = hb->max_offset;
        l->confirm_offset = hb->confirm_offset;
    }
    l->last_ms = now_ms;
    l->timeout_ms = hb->timeout_ms;
    l->priority = hb->election_priority;
    l->conn = hb->conn;
}

void ctl_expire(ctl_state *s, int64_t now_ms, const rmq_conn *conn, ctl_inactive_fn fn, void *arg)
{
    live **pp = &s->lives;
    while (*pp) {
        live *l = *pp;
        bool gone = conn ? l->conn == conn : now_ms - l->last_ms > l->timeout_ms;
        if (!gone) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        if (fn) fn(arg, l->cluster, l->name, l->id);
        live_free(l);
    }
}

void ctl_sets_needing_election(const ctl_state *s, int64_t now_ms, void (*fn)(void *arg, const char *name), void *arg)
{
    for (const broker_set *b = s->sets; b; b = b->next) {
        if (b->master_id == CTL_NO_ID || ctl_broker_alive(s, b->cluster, b->name, b->master_id, now_ms)) continue;
        for (int i = 0; i < b->n_replicas; i++)
            if (ctl_broker_alive(s, b->cluster, b->name, b->replicas[i].id, now_ms)) {
                fn(arg, b->name);
                break;
            }
    }
}

/* ---- registration ---- */

int64_t ctl_next_broker_id(const ctl_state *s, const char *broker_name)
{
    const broker_set *b = find_set(s, broker_name);
    if (!b) return CTL_FIRST_BROKER_ID;
    int64_t max = 0;   /* BrokerReplicaInfo.getNextAssignBrokerId: the highest id + 1 */
    for (int i = 0; i < b->n_replicas; i++)
        if (b->replicas[i].id > max) max = b->replicas[i].id;
    return max + 1;
}

static void add_replica(broker_set *b, int64_t id, const char *addr, const char *check_code)
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
    broker_set *b = find_set(s, broker_name);
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
            add_replica(b, id, addr, check_code);
            b->next = s->sets;
            s->sets = b;
            ok(r);
        }
        free(addr);
        return r->code;
    }
    replica *rep = find_replica(b, id);
    if (!rep && b->n_replicas < CTL_MAX_REPLICAS) {
        add_replica(b, id, addr, check_code);
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
    broker_set *b = find_set(s, broker_name);
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
    /* UpdateBrokerAddressEvent */
    if (addr && strcmp(rep->addr, addr) != 0) {
        free(rep->addr);
        rep->addr = xstrdup(addr);
    }
    bool master_alive = b->master_id != CTL_NO_ID && ctl_broker_alive(s, b->cluster, b->name, b->master_id, now_ms);
    fill_info(b, master_alive, out);
    return ok(r);
}

int ctl_replica_info(const ctl_state *s, const char *broker_name, ctl_master_info *out, ctl_reply *r)
{
    const broker_set *b = find_set(s, broker_name);
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
        const live *l = find_live(s, b->cluster, b->name, alive[i]);
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
    broker_set *b = find_set(s, broker_name);
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
        /* ElectMasterEvent: the new master alone in a new SyncStateSet, both epochs bumped. */
        b->master_id = new_master;
        b->master_epoch++;
        b->sync_set[0] = new_master;
        b->n_sync = 1;
        b->set_epoch++;
        fill_info(b, true, out);
        return ok(r);
    }
    if (broker_id == CTL_NO_ID) {
        /* ElectMasterEvent(false): the master is gone, the SyncStateSet is kept. */
        if (b->master_id != CTL_NO_ID) {
            b->master_id = CTL_NO_ID;
            b->master_epoch++;
        }
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
    broker_set *b = find_set(s, broker_name);
    if (!b) {
        reply(r, CTL_ALTER_SYNC_STATE_SET_FAILED, "Broker metadata is not existed");
        return r->code;
    }
    bool same = n == b->n_sync;
    for (int i = 0; same && i < n; i++) same = in_sync_set(b, set[i]);
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
    memcpy(b->sync_set, set, sizeof set[0] * (size_t)n);
    b->n_sync = n;
    *new_epoch = ++b->set_epoch;
    return ok(r);
}

int ctl_clean_broker_data(ctl_state *s, const char *broker_name, const int64_t *ids, int n, bool clean_living,
                          int64_t now_ms, ctl_reply *r)
{
    broker_set *b = find_set(s, broker_name);
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
        set_free(b);
    }
    return ok(r);
}

int ctl_members(const ctl_state *s, const char *broker_name, const char **cluster, int64_t *ids, const char **addrs,
                int max)
{
    const broker_set *b = find_set(s, broker_name);
    if (!b) return 0;
    *cluster = b->cluster;
    int n = 0;
    for (int i = 0; i < b->n_replicas && n < max; i++, n++) {
        ids[n] = b->replicas[i].id;
        addrs[n] = b->replicas[i].addr;
    }
    return n;
}

/* ---- bodies ---- */

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* A Set<Long> as fastjson writes a HashSet of small Longs: ascending. */
static void write_id_set(fjson_writer *w, const int64_t *ids, int n)
{
    int64_t sorted[CTL_MAX_REPLICAS];
    memcpy(sorted, ids, sizeof ids[0] * (size_t)n);
    qsort(sorted, (size_t)n, sizeof sorted[0], cmp_id);
    fjson_begin_array(w);
    for (int i = 0; i < n; i++) fjson_int64(w, sorted[i]);
    fjson_end_array(w);
}

char *ctl_sync_state_set_json(const ctl_master_info *m, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "syncStateSet");
    write_id_set(&w, m->sync_state_set, m->n_sync_state_set);
    fjson_prop_int64(&w, "syncStateSetEpoch", m->sync_state_set_epoch);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

char *ctl_elect_body_json(const ctl_state *s, const char *broker_name, const ctl_master_info *m, size_t *len)
{
    const broker_set *b = find_set(s, broker_name);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    if (b) {
        /* BrokerMemberGroup {brokerAddrs, brokerName, cluster} */
        fjson_key(&w, "brokerMemberGroup");
        fjson_begin_object(&w);
        fjson_key(&w, "brokerAddrs");
        fjson_begin_object(&w);
        for (int i = 0; i < b->n_replicas; i++) {
            fjson_key_int(&w, b->replicas[i].id);
            fjson_string(&w, b->replicas[i].addr);
        }
        fjson_end_object(&w);
        fjson_prop_string(&w, "brokerName", b->name);
        fjson_prop_string(&w, "cluster", b->cluster);
        fjson_end_object(&w);
    }
    fjson_key(&w, "syncStateSet");
    write_id_set(&w, m->sync_state_set, m->n_sync_state_set);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

static void write_replicas(fjson_writer *w, const ctl_state *s, const broker_set *b, bool in_sync, int64_t now_ms)
{
    fjson_begin_array(w);
    for (int i = 0; i < b->n_replicas; i++) {
        const replica *r = &b->replicas[i];
        if (in_sync_set(b, r->id) != in_sync) continue;
        fjson_begin_object(w);   /* ReplicaIdentity */
        fjson_prop_bool(w, "alive", ctl_broker_alive(s, b->cluster, b->name, r->id, now_ms));
        fjson_prop_string(w, "brokerAddress", r->addr);
        fjson_prop_int64(w, "brokerId", r->id);
        fjson_prop_string(w, "brokerName", b->name);
        fjson_end_object(w);
    }
    fjson_end_array(w);
}

char *ctl_sync_state_data_json(const ctl_state *s, const char *const *names, int n, int64_t now_ms, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "replicasInfoTable");
    fjson_begin_object(&w);
    for (int i = 0; i < n; i++) {
        const broker_set *b = find_set(s, names[i]);
        if (!b) continue;
        fjson_key(&w, b->name);
        fjson_begin_object(&w);   /* ReplicasInfo */
        fjson_key(&w, "inSyncReplicas");
        write_replicas(&w, s, b, true, now_ms);
        const char *maddr = b->master_id != CTL_NO_ID ? replica_addr(b, b->master_id) : NULL;
        if (maddr) fjson_prop_string(&w, "masterAddress", maddr);
        if (b->master_id != CTL_NO_ID) fjson_prop_int64(&w, "masterBrokerId", b->master_id);
        fjson_prop_int64(&w, "masterEpoch", b->master_epoch);
        fjson_key(&w, "notInSyncReplicas");
        write_replicas(&w, s, b, false, now_ms);
        fjson_prop_int64(&w, "syncStateSetEpoch", b->set_epoch);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

int ctl_parse_sync_state_set(const char *body, size_t len, int64_t *set, int *n, int32_t *epoch)
{
    const char *err;
    cJSON *root = fjson_parse(body, len, &err);
    if (!root) return RMQ_ERR;
    int rc = RMQ_ERR;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "syncStateSet");
    *n = 0;
    *epoch = 0;
    if (fjson_field_int32(root, "syncStateSetEpoch", epoch) == FJSON_WRONG_TYPE) goto out;
    if (arr && !cJSON_IsArray(arr)) goto out;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (*n >= CTL_MAX_REPLICAS || !fjson_get_int64(it, &set[*n])) goto out;
        (*n)++;
    }
    rc = RMQ_OK;
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- snapshot ---- */

char *ctl_state_dump(const ctl_state *s, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "brokerSets");
    fjson_begin_array(&w);
    for (const broker_set *b = s->sets; b; b = b->next) {
        fjson_begin_object(&w);
        fjson_prop_string(&w, "brokerName", b->name);
        fjson_prop_string(&w, "clusterName", b->cluster);
        fjson_prop_int64(&w, "masterBrokerId", b->master_id);
        fjson_prop_int64(&w, "masterEpoch", b->master_epoch);
        fjson_key(&w, "replicas");
        fjson_begin_array(&w);
        for (int i = 0; i < b->n_replicas; i++) {
            fjson_begin_object(&w);
            fjson_prop_string(&w, "brokerAddress", b->replicas[i].addr);
            fjson_prop_int64(&w, "brokerId", b->replicas[i].id);
            fjson_prop_string(&w, "registerCheckCode", b->replicas[i].check_code);
            fjson_end_object(&w);
        }
        fjson_end_array(&w);
        fjson_key(&w, "syncStateSet");
        write_id_set(&w, b->sync_set, b->n_sync);
        fjson_prop_int64(&w, "syncStateSetEpoch", b->set_epoch);
        fjson_end_object(&w);
    }
    fjson_end_array(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

static int load_set(ctl_state *s, const cJSON *o, char *err, size_t errlen)
{
    const char *name = NULL, *cluster = NULL;
    int64_t master = CTL_NO_ID, master_epoch = 0, set_epoch = 0;
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(o, "replicas");
    const cJSON *sync = cJSON_GetObjectItemCaseSensitive(o, "syncStateSet");
    if (fjson_field_string(o, "brokerName", &name) || fjson_field_string(o, "clusterName", &cluster) ||
        fjson_field_int64(o, "masterBrokerId", &master) || fjson_field_int64(o, "masterEpoch", &master_epoch) ||
        fjson_field_int64(o, "syncStateSetEpoch", &set_epoch) || !cJSON_IsArray(reps) || !cJSON_IsArray(sync) ||
        cJSON_GetArraySize(reps) > CTL_MAX_REPLICAS || cJSON_GetArraySize(sync) > CTL_MAX_REPLICAS) {
        snprintf(err, errlen, "a broker set is malformed");
        return RMQ_ERR;
    }
    broker_set *b = xcalloc(1, sizeof *b);
    b->name = xstrdup(name);
    b->cluster = xstrdup(cluster);
    b->master_id = master;
    b->master_epoch = (int32_t)master_epoch;
    b->set_epoch = (int32_t)set_epoch;
    b->next = s->sets;
    s->sets = b;
    const cJSON *it;
    cJSON_ArrayForEach(it, reps) {
        const char *addr = NULL, *code = NULL;
        int64_t id;
        if (fjson_field_string(it, "brokerAddress", &addr) || fjson_field_string(it, "registerCheckCode", &code) ||
            fjson_field_int64(it, "brokerId", &id)) {
            snprintf(err, errlen, "a replica of %s is malformed", name);
            return RMQ_ERR;
        }
        add_replica(b, id, addr, code);
    }
    cJSON_ArrayForEach(it, sync) {
        if (!fjson_get_int64(it, &b->sync_set[b->n_sync])) {
            snprintf(err, errlen, "the SyncStateSet of %s is malformed", name);
            return RMQ_ERR;
        }
        b->n_sync++;
    }
    return RMQ_OK;
}

int ctl_state_load(ctl_state *s, const char *json, size_t len, char *err, size_t errlen)
{
    const char *why;
    cJSON *root = fjson_parse(json, len, &why);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", why);
        return RMQ_ERR;
    }
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(root, "brokerSets"), *it;
    int rc = cJSON_IsArray(sets) ? RMQ_OK : RMQ_ERR;
    if (rc) snprintf(err, errlen, "no brokerSets list");
    cJSON_ArrayForEach(it, sets) if (rc == RMQ_OK) rc = load_set(s, it, err, errlen);
    cJSON_Delete(root);
    return rc;
}
