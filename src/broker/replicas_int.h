/*
 * Inside the replicas module (controller mode on the broker): its state, shared by
 * replicas_boot.c (the blocking start: broker id, metadata files, first election) and
 * replicas.c (roles, the periodic work on the loop, the SyncStateSet). Nothing else
 * includes this; replicas.h is the module's door.
 */
#ifndef RMQ_BROKER_REPLICAS_INT_H
#define RMQ_BROKER_REPLICAS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "replicas.h"
#include "ha/ha.h"
#include "remoting/remoting.h"

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

/* The master fields of a REGISTER/ELECT/GET_REPLICA_INFO answer or a notification. */
typedef struct master_info {
    int64_t master_id;
    const char *master_addr;
    int32_t master_epoch, set_epoch;
    int64_t set[MAX_SET];
    int n_set;
    bool has_set;
} master_info;

/* Roles (replicas.c), also taken at the start; the answer reader (replicas_boot.c), also used on the loop. */
void replicas_set_role(replicas *r, const char *role);
void replicas_master_role(replicas *r);
void replicas_record(replicas *r, const master_info *m);
void replicas_take_set(replicas *r, const master_info *m);
void replicas_open_epoch(replicas *r, int32_t epoch);
void replicas_become_slave(replicas *r, const master_info *m);
void replicas_read_master_info(const rmq_cmd *c, master_info *m);
/* The controller leader to talk to from now on (replicas_boot.c). */
void replicas_set_leader(replicas *r, const char *addr);

#endif
