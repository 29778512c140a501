/*
 * mqadmin_ha.c: replication sub-commands of the 5.x mqadmin — haStatus
 * (HAStatusSubCommand: GET_BROKER_HA_STATUS's HARuntimeInfo) and
 * getBrokerEpoch (GetBrokerEpochSubCommand: GET_BROKER_EPOCH_CACHE's
 * EpochEntryCache), printed with Apache's formats.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

enum { GET_BROKER_HA_STATUS = 907, GET_BROKER_EPOCH_CACHE = 1007 };

const opt_spec mqadmin_ha_status_opts[] = {
    {'c', "clusterName", true, false, "which cluster"},
    {'b', "brokerAddr", true, false, "which broker to fetch"},
    {'i', "interval", true, false, "the interval(second) of get info"},
    {0, NULL, false, false, NULL},
};

const opt_spec mqadmin_broker_epoch_opts[] = {
    {'c', "clusterName", true, false, "which cluster"},
    {'b', "brokerName", true, false, "which broker to fetch"},
    {'i', "interval", true, false, "the interval(second) of get info"},
    {0, NULL, false, false, NULL},
};

/*
 * PRINT for each address once (the commands collect a Set<String>), in Java
 * HashSet order; frees ADDRS.
 */
static void each_address(const char **addrs, int n, void (*print)(const char *addr))
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int k = 0; k < m && !seen; k++) seen = strcmp(addrs[k], addrs[i]) == 0;
        if (!seen) addrs[m++] = addrs[i];
    }
    int *order = xcalloc((size_t)m + 1, sizeof *order);
    java_hash_order(addrs, m, order);
    for (int i = 0; i < m; i++) print(addrs[order[i]]);
    free(order);
    free(addrs);
}

/* Java's "%s" of a String that may be null. */
static const char *or_null(const cJSON *o, const char *name)
{
    const char *s = NULL;
    return fjson_field_string(o, name, &s) == FJSON_OK ? s : "null";
}

/* -i: run again every N seconds (3 when empty) until killed, as Apache's loop. */
static void repeat(void (*once)(void))
{
    const char *iv = val('i');
    if (!iv) {
        once();
        return;
    }
    int64_t secs = *iv ? long_opt('i', 3) : 3;
    for (;;) {
        once();
        fflush(stdout);
        sleep((unsigned)(secs > 0 ? secs : 0));
    }
}

/* ---- haStatus ---- */

static void print_ha_status(const char *addr)
{
    rmq_cmd *resp = call_ok(addr, adm_request(GET_BROKER_HA_STATUS), TIMEOUT_MS);
    cJSON *info = body_json(resp);
    cmd_free(resp);
    const cJSON *conns = cJSON_GetObjectItemCaseSensitive(info, "haConnectionInfo");
    if (bool_field(info, "master")) {
        printf("\n#MasterAddr\t%s\n#MasterCommitLogMaxOffset\t%" PRId64 "\n#SlaveNum\t%d\n#InSyncSlaveNum\t%" PRId64
               "\n",
               addr, int_field(info, "masterCommitLogMaxOffset"), cJSON_GetArraySize(conns),
               int_field(info, "inSyncSlaveNums"));
        printf("%-32s  %-16s %16s %16s %16s %16s\n", "#SlaveAddr", "#SlaveAckOffset", "#Diff", "#TransferSpeed(KB/s)",
               "#Status", "#TransferFromWhere");
        const cJSON *c;
        cJSON_ArrayForEach(c, conns) {
            printf("%-32s  %-16" PRId64 " %16" PRId64 " %16.2f %16s %16" PRId64 "\n", or_null(c, "addr"),
                   int_field(c, "slaveAckOffset"), int_field(c, "diff"),
                   (double)int_field(c, "transferredByteInSecond") / 1024.0,
                   bool_field(c, "inSync") ? "OK" : "Fall Behind", int_field(c, "transferFromWhere"));
        }
    } else {
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(info, "haClientRuntimeInfo");
        char read_at[64], write_at[64];
        human_time(int_field(ci, "lastReadTimestamp"), read_at, sizeof read_at);
        human_time(int_field(ci, "lastWriteTimestamp"), write_at, sizeof write_at);
        printf("\n#MasterAddr\t%s\n", or_null(ci, "masterAddr"));
        printf("#CommitLogMaxOffset\t%" PRId64 "\n", int_field(ci, "maxOffset"));
        printf("#TransferSpeed(KB/s)\t%.2f\n", (double)int_field(ci, "transferredByteInSecond") / 1024.0);
        printf("#LastReadTime\t%s\n", read_at);
        printf("#LastWriteTime\t%s\n", write_at);
        printf("#MasterFlushOffset\t%" PRId64 "\n", int_field(ci, "masterFlushOffset"));
    }
    cJSON_Delete(info);
}

static void ha_status_once(void)
{
    if (has('b')) {
        print_ha_status(val('b'));
        return;
    }
    cluster_info ci;
    get_cluster_info(&ci);
    int n;
    const char **masters = cluster_addrs(&ci, val('c'), false, &n);   /* fetchMasterAddrByClusterName */
    each_address(masters, n, print_ha_status);
    cJSON_Delete(ci.json);
}

void cmd_ha_status(void) { repeat(ha_status_once); }

/* ---- getBrokerEpoch ---- */

static void print_epochs(const char *addr)
{
    rmq_cmd *resp = call_ok(addr, adm_request(GET_BROKER_EPOCH_CACHE), TIMEOUT_MS);
    cJSON *cache = body_json(resp);
    cmd_free(resp);
    printf("\n#clusterName\t%s\n#brokerName\t%s\n#brokerAddr\t%s\n#brokerId\t%" PRId64, or_null(cache, "clusterName"),
           or_null(cache, "brokerName"), addr, int_field(cache, "brokerId"));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cache, "epochList"), *e;
    int i = 0, n = cJSON_GetArraySize(list);
    cJSON_ArrayForEach(e, list) {
        /* The last entry is shown ending at the broker's commit-log end. */
        int64_t end = ++i == n ? int_field(cache, "maxOffset") : int_field(e, "endOffset");
        printf("\n#Epoch: EpochEntry{epoch=%" PRId64 ", startOffset=%" PRId64 ", endOffset=%" PRId64 "}",
               int_field(e, "epoch"), int_field(e, "startOffset"), end);
    }
    printf("\n");
    cJSON_Delete(cache);
}

static void broker_epoch_once(void)
{
    cluster_info ci;
    get_cluster_info(&ci);
    int n = 0;
    const char **addrs;
    if (has('b')) {   /* fetchMasterAndSlaveAddrByBrokerName: none when the name is unknown */
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ci.brokers, val('b'));
        broker_data bd = {0};
        if (o) parse_broker_data(o, &bd);
        addrs = xcalloc((size_t)bd.n_addrs + 1, sizeof *addrs);
        for (int k = 0; k < bd.n_addrs; k++) addrs[n++] = bd.addrs[k];
    } else {
        addrs = cluster_addrs(&ci, val('c'), true, &n);
    }
    each_address(addrs, n, print_epochs);
    cJSON_Delete(ci.json);
}

void cmd_get_broker_epoch(void) { repeat(broker_epoch_once); }
