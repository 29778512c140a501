/*
 * replicas: the broker in controller mode (enableControllerMode=true), as
 * Apache 5.x's ReplicasManager. The controller (controllerAddr) gives the
 * broker its id and says who is master of the broker set; the broker beats
 * to it, follows its elections (NOTIFY_BROKER_ROLE_CHANGED and a periodic
 * GET_REPLICA_INFO), keeps the epoch file, replicates with the auto-switch
 * HA protocol, and as master keeps the SyncStateSet up to date
 * (docs/ha.md, "Controller mode").
 *
 * replicas_bootstrap runs before the broker serves: it registers (blocking),
 * decides the role and cuts the log back to where it agrees with the
 * master's. Everything after runs on the broker's loop.
 */
#ifndef RMQ_BROKER_REPLICAS_H
#define RMQ_BROKER_REPLICAS_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"

struct ha_config;
struct ha_epochs;
typedef struct replicas replicas;

/*
 * Between store_open and store_start, before the role-dependent services are
 * made: sets b->cfg.brokerRole and brokerId from the controller's answer.
 * NULL with a reason when the controller cannot be reached in time or
 * refuses the broker.
 */
replicas *replicas_bootstrap(broker *b, char *err, size_t errlen);
/* The auto-switch settings and, for a slave, its master's HA address. */
void replicas_ha_config(replicas *r, struct ha_config *hc);
/* Heartbeats, metadata sync, SyncStateSet checks, the notification handler (b->server must exist). */
void replicas_start(replicas *r);
/* A master may store sends only within its lease (replicas.c, fencing): checked per
 * send, so requests read after the process was paused are not taken. True for slaves. */
bool replicas_lease_ok(const replicas *r);
/* GET_BROKER_EPOCH_CACHE / GET_BROKER_HA_STATUS: the epoch entries, the SyncStateSet. */
const struct ha_epochs *replicas_epochs(const replicas *r);
bool replicas_in_sync_set(const replicas *r, int64_t broker_id);
int replicas_sync_set_size(const replicas *r);
void replicas_free(replicas *r);

#endif
