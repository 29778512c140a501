/*
 * Replication status for the 5.x mqadmin (Apache 5.3 AdminBrokerProcessor):
 * GET_BROKER_HA_STATUS answers HARuntimeInfo as DefaultHAService /
 * AutoSwitchHAService.getRuntimeInfo build it, GET_BROKER_EPOCH_CACHE the
 * EpochEntryCache of a broker in controller mode (docs/ha.md, "Status
 * requests"). Dispatched by admin_processor.c through admin_ha_handlers.
 */
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "broker/replicas.h"
#include "common/fjson.h"
#include "ha/ha.h"
#include "store/store.h"
#include "admin_int.h"
#include "response_codes.h"

enum {
    GET_BROKER_HA_STATUS = 907,
    GET_BROKER_EPOCH_CACHE = 1007,
};

/* MessageStoreConfig.haMaxGapNotInSync's default: classic HA's "in sync" (not configurable here). */
#define HA_MAX_GAP_NOT_IN_SYNC (256LL * 1024 * 1024)

/* HAConnectionRuntimeInfo, fastjson's property order. */
static void write_connection(fjson_writer *w, const ha_conn_info *c, int64_t put_where, bool in_sync)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "addr", c->addr);
    fjson_prop_int64(w, "diff", put_where - c->ack);
    fjson_prop_bool(w, "inSync", in_sync);
    fjson_prop_int64(w, "slaveAckOffset", c->ack);
    fjson_prop_int64(w, "transferFromWhere", c->transfer_from);
    fjson_prop_int64(w, "transferredByteInSecond", c->bytes_per_sec);
    fjson_end_object(w);
}

static void get_broker_ha_status(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    if (!b->ha) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "Can not get HARuntimeInfo, may be duplicationEnable is true");
        return;
    }
    bool master = !broker_is_slave(b);
    int64_t put_where = store_commitlog_max_offset(b->store);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    /* HAClientRuntimeInfo: filled for a slave, defaults for a master (a new object). */
    ha_client_info ci = {0};
    if (!master) ha_client_status(b->ha, &ci);
    fjson_key(&w, "haClientRuntimeInfo");
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "lastReadTimestamp", ci.last_read_ms);
    fjson_prop_int64(&w, "lastWriteTimestamp", ci.last_write_ms);
    fjson_prop_string(&w, "masterAddr", ci.master);
    fjson_prop_int64(&w, "masterFlushOffset", 0);   /* no master flush offset is kept (enableSlaveActingMaster) */
    fjson_prop_int64(&w, "maxOffset", master ? 0 : put_where);
    fjson_prop_int64(&w, "transferredByteInSecond", ci.bytes_per_sec);
    fjson_end_object(&w);
    fjson_key(&w, "haConnectionInfo");
    fjson_begin_array(&w);
    int in_sync = 0;
    if (master) {
        ha_conn_info *conns;
        int n = ha_connections(b->ha, &conns);
        for (int i = 0; i < n; i++) {
            /* Auto-switch: a member of the SyncStateSet; classic: within haMaxGapNotInSync. */
            bool ok = b->replicas ? replicas_in_sync_set(b->replicas, conns[i].slave_id)
                                  : put_where - conns[i].ack < HA_MAX_GAP_NOT_IN_SYNC;
            in_sync += ok;
            write_connection(&w, &conns[i], put_where, ok);
        }
        free(conns);
        /* AutoSwitchHAService counts the SyncStateSet less the master itself. */
        if (b->replicas) in_sync = replicas_sync_set_size(b->replicas) - 1;
    }
    fjson_end_array(&w);
    fjson_prop_int64(&w, "inSyncSlaveNums", in_sync);
    fjson_prop_bool(&w, "master", master);
    fjson_prop_int64(&w, "masterCommitLogMaxOffset", master ? put_where : 0);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

static void get_broker_epoch_cache(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    if (!b->cfg.enableControllerMode || !b->replicas) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, "this request only for controllerMode ");
        return;
    }
    const ha_epochs *e = replicas_epochs(b->replicas);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "brokerId", b->cfg.brokerId);
    fjson_prop_string(&w, "brokerName", b->cfg.brokerName);
    fjson_prop_string(&w, "clusterName", b->cfg.brokerClusterName);
    fjson_key(&w, "epochList");
    fjson_begin_array(&w);
    for (int i = 0; i < e->n; i++) {
        /* EpochFileCache: an entry ends where the next starts; the last at Long.MAX_VALUE. */
        fjson_begin_object(&w);
        fjson_prop_int64(&w, "endOffset", i + 1 < e->n ? e->v[i + 1].start : INT64_MAX);
        fjson_prop_int64(&w, "epoch", e->v[i].epoch);
        fjson_prop_int64(&w, "startOffset", e->v[i].start);
        fjson_end_object(&w);
    }
    fjson_end_array(&w);
    fjson_prop_int64(&w, "maxOffset", store_commitlog_max_offset(b->store));
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

const admin_handler admin_ha_handlers[] = {
    {GET_BROKER_HA_STATUS, get_broker_ha_status, NULL},
    {GET_BROKER_EPOCH_CACHE, get_broker_epoch_cache, NULL},
    {0},
};
