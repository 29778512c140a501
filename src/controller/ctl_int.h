/*
 * Inside the controller module: the state machine's tables, shared by
 * replicas.c (broker sets, elections, events), liveness.c (heartbeats) and
 * ctl_json.c (bodies, snapshot). Not a door: controller.h is.
 */
#ifndef RMQ_CTL_INT_H
#define RMQ_CTL_INT_H

#include "controller/controller.h"

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
    ctl_change_fn on_change;   /* each change as an event (replicas.c), for the Raft log */
    void *change_arg;
};

broker_set *ctl_find_set(const ctl_state *s, const char *name);
const char *ctl_replica_addr(const broker_set *b, int64_t id);
bool ctl_in_sync_set(const broker_set *b, int64_t id);
void ctl_add_replica(broker_set *b, int64_t id, const char *addr, const char *check_code);
void ctl_set_free(broker_set *b);
void ctl_live_free(live *l);
live *ctl_find_live(const ctl_state *s, const char *cluster, const char *name, int64_t id);

#endif
