/*
 * Inside the controller module: the server's struct, shared by controller.c
 * (configuration, life cycle, the Raft glue), ctl_procs.c (the broker-facing
 * processors) and peers.c (Raft messages between the controllers). Not a
 * door: controller.h is.
 */
#ifndef RMQ_CTL_SERVER_H
#define RMQ_CTL_SERVER_H

#include "controller/controller.h"
#include "raft/raft.h"
#include "remoting/remoting.h"

#define CTL_LOG_MOD "controller"

/* Our own peer-to-peer codes (docs/ha.md, "Controller group protocol"); not DLedger's. */
enum {
    CTL_CODE_RAFT_VOTE = 40901,
    CTL_CODE_RAFT_APPEND = 40902,
    CTL_CODE_RAFT_SNAPSHOT = 40903,
};

/* A state-changing request waiting for its log entry to commit. */
typedef struct ctl_pending {
    struct ctl_pending *next;
    int64_t index;
    rmq_conn *conn;          /* held; NULL for the controller's own elections */
    rmq_cmd *req, *resp;
    char *notify_set;        /* a broker set whose members hear of the new master at commit */
} ctl_pending;

struct controller {
    struct event_base *base;
    rmq_server *server;
    rmq_client *client;          /* role-change notifications to brokers, Raft messages to peers */
    ctl_state *state;
    raft *raft;
    struct event *scan_timer, *tick_timer;
    char *group, *self_id, *self_addr;
    char *peers_meta;            /* GetMetaDataResponseHeader.peers "n0:ip:port;n1:ip:port;" */
    int n_nodes, self;
    char *node_ids[RAFT_MAX_NODES], *node_addrs[RAFT_MAX_NODES];
    char *state_file;            /* controllerStorePath/controller.json: the applied state, for people */
    bool notify;
    bool closing;                /* shutting down: closed channels are not broker deaths */
    int64_t started_ms;
    char *batch;                 /* the events of the request being handled, a JSON list's items */
    size_t batch_len;
    ctl_pending *pending;
};

/* controller.c */
bool ctl_leading(const controller *c);          /* a leader whose state holds every committed entry */
void ctl_batch_begin(controller *c);
/* After a state-changing call: RMQ_OK (answer now) or RMQ_AGAIN (answered at commit). */
int ctl_finish(controller *c, rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, const char *notify_set);
void ctl_elect_for(void *arg, const char *broker_name);
void ctl_on_inactive(void *arg, const char *cluster, const char *broker_name, int64_t id);

/* ctl_procs.c */
void ctl_register_processors(controller *c);

/* peers.c */
void ctl_peers_register(controller *c);
void ctl_peers_send(void *arg, const raft_msg *m);

#endif
