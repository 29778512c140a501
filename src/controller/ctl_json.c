/*
 * The controller's JSON: the bodies brokers decode (SyncStateSet,
 * ElectMasterResponseBody, BrokerReplicasInfo) and the durable state's dump,
 * the Raft snapshot.
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
    const broker_set *b = ctl_find_set(s, broker_name);
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
        if (ctl_in_sync_set(b, r->id) != in_sync) continue;
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
        const broker_set *b = ctl_find_set(s, names[i]);
        if (!b) continue;
        fjson_key(&w, b->name);
        fjson_begin_object(&w);   /* ReplicasInfo */
        fjson_key(&w, "inSyncReplicas");
        write_replicas(&w, s, b, true, now_ms);
        const char *maddr = b->master_id != CTL_NO_ID ? ctl_replica_addr(b, b->master_id) : NULL;
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
        ctl_add_replica(b, id, addr, code);
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

int ctl_state_restore(ctl_state *s, const char *json, size_t len, char *err, size_t errlen)
{
    for (broker_set *b = s->sets, *n; b; b = n) {
        n = b->next;
        ctl_set_free(b);
    }
    s->sets = NULL;
    return json && len ? ctl_state_load(s, json, len, err, errlen) : RMQ_OK;
}
