/*
 * The route table's entries, shared by routeinfo.c (the tables, RouteInfoManager)
 * and routejson.c (the bodies answered from them). Internal to the name server.
 */
#ifndef RMQ_NAMESRV_ROUTEINFO_INT_H
#define RMQ_NAMESRV_ROUTEINFO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "namesrv/jmap.h"
#include "namesrv/namesrv.h"
#include "remoting/remoting.h"

typedef struct queue_data {
    char *broker_name;
    int32_t read_queue_nums, write_queue_nums, perm, topic_sys_flag;
} queue_data;

typedef struct broker_data {
    char *cluster;
    char *broker_name;
    jmap addrs;               /* brokerId (long) -> char *addr */
    /* 5.x BrokerData: the REGISTER_BROKER header's enableActingMaster (false from a
     * broker that does not send it) and the __ZONE_NAME ext field (NULL: not written). */
    bool enable_acting_master;
    char *zone_name;
} broker_data;

/* A REGISTER_BROKER body already applied: its CRC, length and data version. */
typedef struct seen_body {
    uint32_t crc;
    size_t len;
    data_version data_version;
} seen_body;

/* Enough for a split table's batches (100k topics in 800s: 125). */
#define SEEN_BODIES 256

typedef struct broker_live {
    int64_t last_update_ms;
    data_version data_version;
    rmq_conn *conn;           /* held; NULL when registered without a channel */
    char *ha_server_addr;
    seen_body *seen;          /* ring of SEEN_BODIES, oldest overwritten */
    uint32_t n_seen, next_seen;
} broker_live;

typedef struct str_list {
    size_t n;
    char **v;
} str_list;

struct route_table {
    jmap topic_queue;         /* topic -> jmap * (brokerName -> queue_data *) */
    jmap broker_addr;         /* brokerName -> broker_data * */
    jmap cluster_addr;        /* clusterName -> jmap * (set of brokerName) */
    jmap broker_live;         /* brokerAddr -> broker_live * */
    jmap filter_server;       /* brokerAddr -> str_list * */
};

#endif
