/* mqadmin_broker.c: cluster and broker sub-commands (clusterList, brokerStatus, broker config, ...). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

/* ---- cluster and broker commands ---- */

/* GET_BROKER_RUNTIME_INFO's KVTable; NULL + err when the broker cannot be asked. */
static cJSON *runtime_table(const char *addr, cJSON **owner, char *err, size_t errlen)
{
    rmq_cmd *resp = call_try(addr, request(GET_BROKER_RUNTIME_INFO), TIMEOUT_MS, err, errlen);
    if (!resp) return NULL;
    if (resp->code != RC_SUCCESS) {
        snprintf(err, errlen, "CODE: %d  DESC: %s", resp->code, remark_of(resp));
        cmd_free(resp);
        return NULL;
    }
    *owner = body_json(resp);
    cmd_free(resp);
    return cJSON_GetObjectItemCaseSensitive(*owner, "table");
}

static int64_t table_long(const cJSON *t, const char *key)
{
    int64_t v = 0;
    const char *s = str_field(t, key);
    parse_int64(s, &v);
    return v;
}

void cmd_cluster_list(void)
{
    int64_t interval = has('i') ? long_opt('i', 1) * 1000 : 0;
    bool more = has('m');
    do {
        cluster_info ci;
        get_cluster_info(&ci);
        if (more)
            printf("%-16s  %-32s %14s %14s %14s %14s\n", "#Cluster Name", "#Broker Name", "#InTotalYest",
                   "#OutTotalYest", "#InTotalToday", "#OutTotalToday");
        else
            printf("%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s\n", "#Cluster Name", "#Broker Name", "#BID",
                   "#Addr", "#Version", "#InTPS(LOAD)", "#OutTPS(LOAD)", "#PCWait(ms)", "#Hour", "#SPACE");
        const cJSON *c;
        cJSON_ArrayForEach(c, ci.clusters) {
            int nb;
            const char **names = cluster_brokers(&ci, c->string, &nb);
            for (int i = 0; i < nb; i++) {
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(ci.brokers, names[i]);
                if (!o) continue;
                broker_data bd;
                parse_broker_data(o, &bd);
                for (int k = 0; k < bd.n_addrs; k++) {
                    cJSON *owner = NULL;
                    char err[256];
                    const cJSON *t = runtime_table(bd.addrs[k], &owner, err, sizeof err);
                    if (!t) fprintf(stderr, "mqadmin: clusterList: broker %s: %s\n", bd.addrs[k], err);
                    if (more) {
                        int64_t in_yest = table_long(t, "msgPutTotalTodayMorning") - table_long(t, "msgPutTotalYesterdayMorning");
                        int64_t out_yest = table_long(t, "msgGetTotalTodayMorning") - table_long(t, "msgGetTotalYesterdayMorning");
                        int64_t in_today = table_long(t, "msgPutTotalTodayNow") - table_long(t, "msgPutTotalTodayMorning");
                        int64_t out_today = table_long(t, "msgGetTotalTodayNow") - table_long(t, "msgGetTotalTodayMorning");
                        printf("%-16s  %-32s %14lld %14lld %14lld %14lld\n", c->string, names[i], (long long)in_yest,
                               (long long)out_yest, (long long)in_today, (long long)out_today);
                    } else {
                        double in = t ? atof(str_field(t, "putTps")) : 0, out = t ? atof(str_field(t, "getTransferedTps")) : 0;
                        double hour = 0, space = 0;
                        const char *earliest = t ? str_field(t, "earliestMessageTimeStamp") : "";
                        const char *ratio = t ? str_field(t, "commitLogDiskRatio") : "";
                        if (*earliest) hour = (double)(now_ms() - atoll(earliest)) / 1000.0 / 60.0 / 60.0;
                        if (*ratio) space = atof(ratio);
                        char id[24], in_s[96], out_s[96], hour_s[32], space_s[32];
                        snprintf(id, sizeof id, "%lld", (long long)bd.ids[k]);
                        snprintf(in_s, sizeof in_s, "%9.2f(%s,%sms)", in, t ? str_field(t, "sendThreadPoolQueueSize") : "",
                                 t ? str_field(t, "sendThreadPoolQueueHeadWaitTimeMills") : "");
                        snprintf(out_s, sizeof out_s, "%9.2f(%s,%sms)", out, t ? str_field(t, "pullThreadPoolQueueSize") : "",
                                 t ? str_field(t, "pullThreadPoolQueueHeadWaitTimeMills") : "");
                        snprintf(hour_s, sizeof hour_s, "%2.2f", hour);
                        snprintf(space_s, sizeof space_s, "%.4f", space);
                        printf("%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s\n", c->string, names[i], id,
                               bd.addrs[k], t ? str_field(t, "brokerVersionDesc") : "", in_s, out_s,
                               t ? str_field(t, "pageCacheLockTimeMills") : "", hour_s, space_s);
                    }
                    cJSON_Delete(owner);
                }
            }
            free(names);
        }
        cJSON_Delete(ci.json);
        fflush(stdout);
        if (interval) usleep((useconds_t)(interval * 1000));
    } while (interval);
}

static int cmp_json_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static void print_runtime_stats(const char *addr, bool print_broker)
{
    cJSON *owner = NULL;
    char err[256];
    const cJSON *t = runtime_table(addr, &owner, err, sizeof err);
    if (!t) die_transport(addr, err);
    int n = cJSON_GetArraySize(t), i = 0;
    const cJSON **items = xcalloc((size_t)n + 1, sizeof *items), *e;
    cJSON_ArrayForEach(e, t) items[i++] = e;
    qsort(items, (size_t)n, sizeof *items, cmp_json_key);   /* TreeMap */
    for (i = 0; i < n; i++) {
        const char *v = cJSON_IsString(items[i]) ? items[i]->valuestring : "";
        if (print_broker) printf("%-24s %-32s: %s\n", addr, items[i]->string, v);
        else printf("%-32s: %s\n", items[i]->string, v);
    }
    free(items);
    cJSON_Delete(owner);
}

void cmd_broker_status(void)
{
    if (has('b')) {
        print_runtime_stats(val('b'), false);
        return;
    }
    if (!has('c')) return;
    cluster_info ci;
    get_cluster_info(&ci);
    int n;
    const char **addrs = cluster_addrs(&ci, val('c'), true, &n);
    for (int i = 0; i < n; i++) print_runtime_stats(addrs[i], true);
    free(addrs);
    cJSON_Delete(ci.json);
}

/* Properties text ("k=v" lines) printed as "%-50s=  %s". */
void print_properties(const uint8_t *body, size_t len)
{
    char *text = xstrndup((const char *)body, len), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        printf("%-50s=  %s\n", line, eq + 1);
    }
    free(text);
}

static void print_broker_config(const char *prefix, const char *addr)
{
    printf("%s", prefix);
    rmq_cmd *resp = call_ok(addr, request(GET_BROKER_CONFIG), TIMEOUT_MS);
    if (!resp->body_len) printf("Broker[%s] has no config property!\n", addr);
    else print_properties(resp->body, resp->body_len);
    printf("\n");
    cmd_free(resp);
}

void cmd_get_broker_config(void)
{
    char prefix[256];
    if (has('b')) {
        snprintf(prefix, sizeof prefix, "============%s============\n", val('b'));
        print_broker_config(prefix, val('b'));
        return;
    }
    if (!has('c')) return;
    cluster_info ci;
    get_cluster_info(&ci);
    int nb;
    const char **names = cluster_brokers(&ci, val('c'), &nb);
    if (!names) die("Make sure the specified clusterName exists or the name server connected to is correct. cluster: %s", val('c'));
    for (int i = 0; i < nb; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ci.brokers, names[i]);
        if (!o) continue;
        broker_data bd;
        parse_broker_data(o, &bd);
        const char *master = NULL;
        for (int k = 0; k < bd.n_addrs; k++)
            if (bd.ids[k] == MASTER_ID) master = bd.addrs[k];
        if (!master) continue;
        snprintf(prefix, sizeof prefix, "============Master: %s============\n", master);
        print_broker_config(prefix, master);
        for (int k = 0; k < bd.n_addrs; k++) {
            if (bd.ids[k] == MASTER_ID) continue;
            snprintf(prefix, sizeof prefix, "============My Master: %s=====Slave: %s============\n", master, bd.addrs[k]);
            print_broker_config(prefix, bd.addrs[k]);
        }
    }
    free(names);
    cJSON_Delete(ci.json);
}

rmq_cmd *properties_request(int code, const char *key, const char *value)
{
    rmq_cmd *req = request(code);
    char *body = str_printf("%s=%s\n", key, value);
    cmd_take_body(req, body, strlen(body));
    return req;
}

void cmd_update_broker_config(void)
{
    cluster_info ci = {0};
    int n;
    const char **addrs = target_brokers(&ci, &n);
    for (int i = 0; i < n; i++) {
        cmd_free(call_ok(addrs[i], properties_request(UPDATE_BROKER_CONFIG, val('k'), val('v')), TIMEOUT_MS));
        printf("update broker config success, %s\n", addrs[i]);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

/*
 * cleanExpiredCQ / cleanUnusedTopic: ask one broker (-b) or every broker,
 * slaves too, of one cluster (-c) or of all; "success" when the last one
 * answered SUCCESS, as DefaultMQAdminExtImpl reports it.
 */
static void clean_on_brokers(int code, const char *what)
{
    bool result = false;
    int n = 0;
    const char **addrs;
    cluster_info ci = {0};
    if (has('b')) {
        addrs = xcalloc(2, sizeof *addrs);
        addrs[n++] = val('b');
    } else {
        get_cluster_info(&ci);
        addrs = xcalloc(256, sizeof *addrs);
        const cJSON *c;
        cJSON_ArrayForEach(c, ci.clusters) {
            if (has('c') && strcmp(c->string, val('c')) != 0) continue;
            int k;
            const char **some = cluster_addrs(&ci, c->string, true, &k);
            for (int i = 0; i < k && n < 255; i++) addrs[n++] = some[i];
            free(some);
        }
    }
    for (int i = 0; i < n; i++) {
        rmq_cmd *resp = call(addrs[i], request(code), TIMEOUT_MS);
        result = resp->code == RC_SUCCESS;
        cmd_free(resp);
    }
    printf(result ? "success" : "false");
    free(addrs);
    cJSON_Delete(ci.json);
    if (!result) die("%s failed", what);
}

void cmd_clean_expired_cq(void) { clean_on_brokers(CLEAN_EXPIRED_CONSUMEQUEUE, "clean expired ConsumeQueue"); }

/* Apache's command hands -c to cleanUnusedTopicByAddr as if it were an
 * address; the cluster is walked here as cleanExpiredCQ walks it. */
void cmd_clean_unused_topic(void) { clean_on_brokers(CLEAN_UNUSED_TOPIC, "clean unused topic"); }

