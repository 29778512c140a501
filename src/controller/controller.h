/*
 * controller: Apache RocketMQ 5.x's controller (ControllerManager,
 * ReplicasInfoManager, DefaultBrokerHeartbeatManager, DefaultElectPolicy),
 * speaking its request codes so that brokers in controller mode
 * (enableControllerMode=true) — ours or Apache's — get broker ids, report
 * liveness and are told who is master of their broker set (docs/ha.md,
 * "Controller mode").
 *
 * A group of controllers (controllerDLegerPeers) is replicated through
 * src/raft as Apache's through DLedger: the leader's changes become events in
 * a log committed by a majority and applied by every controller in log order;
 * term, vote, log and snapshots live under controllerStorePath, so a node
 * restarted rejoins and catches up. One controller alone is a group of one.
 *
 *  - ctl_state: the broker sets (ids, addresses, register check codes), their
 *    master, master epoch and SyncStateSet with its epoch (replicated), and
 *    the heartbeat table (each controller's own). Pure: the caller passes the
 *    time; tests drive it directly.
 *  - controller: a remoting server on the controller's own port (Apache's
 *    embedded controller also listens apart from the name server, on its
 *    DLedger peer address) serving CONTROLLER_* and BROKER_HEARTBEAT to
 *    brokers and the Raft messages to its peers; on the leader, the expiry
 *    scan that re-elects when a master stops beating or its channel closes,
 *    and NOTIFY_BROKER_ROLE_CHANGED to the live members after an election.
 *
 * Everything runs on one event loop; nothing here takes locks.
 */
#ifndef RMQ_CONTROLLER_H
#define RMQ_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
typedef struct rmq_conn rmq_conn;

/* RequestCode (5.3) */
enum {
    CTL_CODE_BROKER_HEARTBEAT = 904,
    CTL_CODE_ALTER_SYNC_STATE_SET = 1001,
    CTL_CODE_ELECT_MASTER = 1002,
    CTL_CODE_REGISTER_BROKER = 1003,
    CTL_CODE_GET_REPLICA_INFO = 1004,
    CTL_CODE_GET_METADATA_INFO = 1005,
    CTL_CODE_GET_SYNC_STATE_DATA = 1006,
    CTL_CODE_GET_BROKER_EPOCH_CACHE = 1007,
    CTL_CODE_NOTIFY_BROKER_ROLE_CHANGED = 1008,
    CTL_CODE_CLEAN_BROKER_DATA = 1011,
    CTL_CODE_GET_NEXT_BROKER_ID = 1012,
    CTL_CODE_APPLY_BROKER_ID = 1013,
};

/* ResponseCode (5.3) */
enum {
    CTL_FENCED_MASTER_EPOCH = 2000,
    CTL_FENCED_SYNC_STATE_SET_EPOCH = 2001,
    CTL_INVALID_MASTER = 2002,
    CTL_INVALID_REPLICAS = 2003,
    CTL_MASTER_NOT_AVAILABLE = 2004,
    CTL_INVALID_REQUEST = 2005,
    CTL_BROKER_NOT_ALIVE = 2006,
    CTL_NOT_LEADER = 2007,
    CTL_BROKER_METADATA_NOT_EXIST = 2008,
    CTL_INVALID_CLEAN_BROKER_METADATA = 2009,
    CTL_BROKER_NEED_TO_BE_REGISTERED = 2010,
    CTL_MASTER_STILL_EXIST = 2011,
    CTL_ELECT_MASTER_FAILED = 2012,
    CTL_ALTER_SYNC_STATE_SET_FAILED = 2013,
    CTL_BROKER_ID_INVALID = 2014,
};

#define CTL_FIRST_BROKER_ID 1      /* MixAll.FIRST_BROKER_CONTROLLER_ID */
#define CTL_NO_ID (-1)             /* a null Long */
#define CTL_MAX_REPLICAS 32

/* ---- state machine ---------------------------------------------------- */

typedef struct ctl_state ctl_state;

/*
 * Every change the state makes (apply broker id, address update, election,
 * SyncStateSet, clean) is also passed as an event, a JSON object, to this
 * hook; the controller collects them into one Raft log entry, a JSON list,
 * which the other controllers apply with ctl_state_apply_events in log order.
 */
typedef void (*ctl_change_fn)(void *arg, const char *event_json, size_t len);
void ctl_state_on_change(ctl_state *s, ctl_change_fn fn, void *arg);
int ctl_state_apply_events(ctl_state *s, const char *json, size_t len, char *err, size_t errlen);

/* What REGISTER_BROKER, ELECT_MASTER and GET_REPLICA_INFO answer. */
typedef struct ctl_master_info {
    int64_t master_id;          /* CTL_NO_ID: no master */
    const char *master_addr;    /* borrowed from the state; NULL without a master */
    int32_t master_epoch, sync_state_set_epoch;
    int64_t sync_state_set[CTL_MAX_REPLICAS];
    int n_sync_state_set;
} ctl_master_info;

/* One broker's heartbeat (BrokerHeartbeatRequestHeader); absent numbers as Apache defaults them. */
typedef struct ctl_heartbeat {
    const char *cluster, *broker_name, *broker_addr;
    int64_t broker_id;
    int32_t epoch;              /* -1 */
    int64_t max_offset;         /* -1 */
    int64_t confirm_offset;     /* -1 */
    int64_t timeout_ms;         /* 10000 when absent */
    int32_t election_priority;  /* INT32_MAX */
    rmq_conn *conn;             /* the channel it came on (not held); may be NULL */
} ctl_heartbeat;

ctl_state *ctl_state_new(bool elect_unclean_master);
void ctl_state_free(ctl_state *s);

/* The remark of a refused call; codes are Apache's ResponseCodes, 0 = SUCCESS. */
typedef struct ctl_reply {
    int code;
    char remark[256];
} ctl_reply;

int64_t ctl_next_broker_id(const ctl_state *s, const char *broker_name);
int ctl_apply_broker_id(ctl_state *s, const char *cluster, const char *broker_name, int64_t id,
                        const char *check_code, ctl_reply *r);
int ctl_register_broker(ctl_state *s, const char *cluster, const char *broker_name, int64_t id,
                        const char *addr, int64_t now_ms, ctl_master_info *out, ctl_reply *r);
/*
 * ElectMaster: broker_id is the broker's own id (broker trigger; elected when
 * the set never had a master), or with `designate` the admin's choice, or
 * CTL_NO_ID (controller trigger). SUCCESS means a new master and epochs
 * bumped; MASTER_STILL_EXIST fills `out` with the current one.
 */
int ctl_elect_master(ctl_state *s, const char *broker_name, int64_t broker_id, bool designate, int64_t now_ms,
                     ctl_master_info *out, ctl_reply *r);
int ctl_alter_sync_state_set(ctl_state *s, const char *broker_name, int64_t master_id, int32_t master_epoch,
                             const int64_t *set, int n, int32_t set_epoch, int64_t now_ms, int32_t *new_epoch,
                             ctl_reply *r);
int ctl_replica_info(const ctl_state *s, const char *broker_name, ctl_master_info *out, ctl_reply *r);
/* CLEAN_BROKER_DATA: ids NULL = the whole set (refused while it has a master unless clean_living). */
int ctl_clean_broker_data(ctl_state *s, const char *broker_name, const int64_t *ids, int n, bool clean_living,
                          int64_t now_ms, ctl_reply *r);

void ctl_on_heartbeat(ctl_state *s, const ctl_heartbeat *hb, int64_t now_ms);
bool ctl_broker_alive(const ctl_state *s, const char *cluster, const char *broker_name, int64_t id, int64_t now_ms);
/*
 * Drops heartbeats older than their timeout, and those that came over CONN
 * when conn is not NULL (the channel closed); fn(arg, cluster, name, id) for
 * each dropped broker, as Apache's lifecycle listener.
 */
typedef void (*ctl_inactive_fn)(void *arg, const char *cluster, const char *broker_name, int64_t id);
void ctl_expire(ctl_state *s, int64_t now_ms, const rmq_conn *conn, ctl_inactive_fn fn, void *arg);
/* scanNeedReelectBrokerSets: the master is not alive but some member is. fn(arg, name) for each. */
void ctl_sets_needing_election(const ctl_state *s, int64_t now_ms, void (*fn)(void *arg, const char *name),
                               void *arg);
/* The cluster and every member's id and address of a set, for the notification. */
int ctl_members(const ctl_state *s, const char *broker_name, const char **cluster, int64_t *ids,
                const char **addrs, int max);

/* JSON bodies: SyncStateSet, ElectMasterResponseBody, BrokerReplicasInfo (GET_SYNC_STATE_DATA). */
char *ctl_sync_state_set_json(const ctl_master_info *m, size_t *len);
char *ctl_elect_body_json(const ctl_state *s, const char *broker_name, const ctl_master_info *m, size_t *len);
char *ctl_sync_state_data_json(const ctl_state *s, const char *const *names, int n, int64_t now_ms, size_t *len);
/*
 * The durable part (sets, ids, addresses, check codes, master, epochs, SyncStateSets)
 * as JSON, and back into an empty state (RMQ_ERR with a reason). Liveness is not kept:
 * after a restart every broker is dead until it beats again.
 */
char *ctl_state_dump(const ctl_state *s, size_t *len);
int ctl_state_load(ctl_state *s, const char *json, size_t len, char *err, size_t errlen);
/* The durable part replaced by a dump's (NULL: emptied); the liveness table is kept. */
int ctl_state_restore(ctl_state *s, const char *json, size_t len, char *err, size_t errlen);
/* Parses a SyncStateSet body. RMQ_ERR on bad JSON or more than CTL_MAX_REPLICAS ids. */
int ctl_parse_sync_state_set(const char *body, size_t len, int64_t *set, int *n, int32_t *epoch);

/* ---- the server --------------------------------------------------------- */

typedef struct controller_config {
    const char *listen_host;             /* default 0.0.0.0 */
    int listen_port;                     /* from controllerDLegerPeers[controllerDLegerSelfId] */
    const char *group;                   /* controllerDLegerGroup */
    const char *self_id;                 /* controllerDLegerSelfId */
    const char *self_addr;               /* the self peer's ip:port (GET_METADATA_INFO leader address) */
    const char *peers;                   /* controllerDLegerPeers as given */
    int64_t scan_interval_ms;            /* scanNotActiveBrokerInterval, 5000 */
    bool elect_unclean_master;           /* enableElectUncleanMaster, false */
    bool notify_broker_role_changed;     /* notifyBrokerRoleChanged, true */
    const char *store_path;              /* controllerStorePath: Raft files and controller.json */
} controller_config;

/*
 * The controller's settings from Apache's ControllerConfig keys (GET: a
 * key -> value lookup over the name server's properties). RMQ_ERR with a
 * reason when the DLedger peer keys are missing or do not name this node.
 */
int controller_config_from(controller_config *cfg, const char *(*get)(void *arg, const char *key), void *arg,
                           char *err, size_t errlen);
void controller_config_free(controller_config *cfg);

typedef struct controller controller;
controller *controller_new(struct event_base *base, const controller_config *cfg, char *err, size_t errlen);
void controller_free(controller *c);
int controller_port(const controller *c);

#endif
