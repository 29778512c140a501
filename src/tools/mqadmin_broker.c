/* mqadmin_broker.c: cluster and broker sub-commands (clusterList, brokerStatus, broker config, ...). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

/* ---- cluster and broker commands ---- */

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
                    adm_err err;
                    const cJSON *t = adm_runtime_table(bd.addrs[k], &owner, &err);
                    if (!t) fprintf(stderr, "mqadmin: clusterList: broker %s: %s\n", bd.addrs[k], err.msg);
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
    adm_err err;
    const cJSON *t = adm_runtime_table(addr, &owner, &err);
    if (!t) die_err(&err);
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
    rmq_cmd *resp = call_ok(addr, adm_request(GET_BROKER_CONFIG), TIMEOUT_MS);
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
    rmq_cmd *req = adm_request(code);
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
        rmq_cmd *resp = call(addrs[i], adm_request(code), TIMEOUT_MS);
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

/* DeleteExpiredCommitLogSubCommand: the broker deletes its expired commit log files now. */
void cmd_delete_expired_commit_log(void) { clean_on_brokers(DELETE_EXPIRED_COMMITLOG, "delete expired CommitLog"); }

/* BrokerConsumeStatsSubCommad: GET_BROKER_CONSUME_STATS, every group's queues sorted as
 * MessageQueue.compareTo, rows whose diff reaches -l and that were ever consumed. */
void cmd_broker_consume_stats(void)
{
    int64_t timeout = long_opt('t', 50000), level = long_opt('l', 0);
    rmq_cmd *req = adm_request(GET_BROKER_CONSUME_STATS);
    cmd_ext_set_bool(req, "isOrder", bool_opt('o', false));
    rmq_cmd *resp = call_ok(val('b'), req, (int)timeout);
    cJSON *list = body_json(resp);
    cmd_free(resp);
    printf("%-64s  %-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s\n", "#Topic", "#Group", "#Broker Name", "#QID",
           "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime");
    const cJSON *maps = cJSON_GetObjectItemCaseSensitive(list, "consumeStatsList"), *map;
    cJSON_ArrayForEach(map, maps) {
        const cJSON *group;
        cJSON_ArrayForEach(group, map) {
            const cJSON *stats;
            cJSON_ArrayForEach(stats, group) {
                mq_entry *entries = NULL;
                int n = 0;
                collect_mq_entries(cJSON_GetObjectItemCaseSensitive(stats, "offsetTable"), &entries, &n);
                qsort(entries, (size_t)n, sizeof *entries, cmp_mq_entry);
                for (int i = 0; i < n; i++) {
                    int64_t broker_off = int_field(entries[i].value, "brokerOffset");
                    int64_t consumer_off = int_field(entries[i].value, "consumerOffset");
                    int64_t last = int_field(entries[i].value, "lastTimestamp"), diff = broker_off - consumer_off;
                    if (diff < level || last <= 0) continue;
                    char when[32], t[80], bn[40];
                    time_t sec = (time_t)(last / 1000);
                    struct tm tm;
                    localtime_r(&sec, &tm);
                    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
                    printf("%-64s  %-64s  %-32s  %-4d  %-20lld  %-20lld  %-20lld  %s\n",
                           front(entries[i].topic, 64, t, sizeof t), group->string,
                           front(entries[i].broker_name, 32, bn, sizeof bn), entries[i].queue_id,
                           (long long)broker_off, (long long)consumer_off, (long long)diff, when);
                }
                free_mq_entries(entries, n);
            }
        }
    }
    printf("\nDiff Total: %lld\n", (long long)int_field(list, "totalDiff"));
    cJSON_Delete(list);
}

/* SendMsgStatusCommand: -c sends of -s bytes ("hello jodie" repeated) to the broker's own topic,
 * after one untimed warm-up send of 16, each printed with its time and SendResult. */
void cmd_send_msg_status(void)
{
    const char *broker_name = val('b');
    int64_t size = long_opt('s', 128), count = long_opt('c', 50);
    char *body = xcalloc((size_t)(size > 0 ? size : 0) + 16, 1), warm[32] = "";
    for (int64_t i = 0; i < size; i += 11) strcat(body, "hello jodie");
    strcat(warm, "hello jodiehello jodie");   /* buildMessage(topic, 16): two repeats */
    route r;
    get_route(broker_name, &r, true);
    int n_queues;
    mq *queues = publish_queues(&r, broker_name, &n_queues);
    if (!n_queues) die("No route info of this topic: %s", broker_name);
    int64_t next = rand();
    send_result sr;
    publish_one(&queues[(next++) % n_queues], &r, warm, &sr);
    for (int64_t i = 0; i < count; i++) {
        int64_t begin = now_ms();
        if (publish_one(&queues[(next++) % n_queues], &r, body, &sr)) die("%s", sr.error);
        printf("rt=%lldms, SendResult=SendResult [sendStatus=%s, msgId=%s, offsetMsgId=%s, messageQueue=MessageQueue "
               "[topic=%s, brokerName=%s, queueId=%d], queueOffset=%lld]\n",
               (long long)(now_ms() - begin), sr.status, sr.msg_id, sr.offset_msg_id, broker_name, sr.broker_name,
               sr.queue_id, (long long)sr.queue_offset);
    }
    free(queues);
    route_free(&r);
    free(body);
}


/* ---- clusterRT ---- */

/* One message to the topic named after the broker, as producer.send picks a queue;
 * true when stored. Every failure counts the same, as the command counts them. */
static bool send_rt_message(const char *topic, const char *body, int64_t *next_queue)
{
    route r;
    if (!get_route(topic, &r, false)) return false;
    const broker_data *bd = NULL;
    int64_t queues = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, r.queues) {
        bd = route_broker(&r, str_field(q, "brokerName"));
        queues = int_field(q, "writeQueueNums");
        if (bd && select_addr(bd) && (int_field(q, "perm") & 2) && queues > 0) break;
        bd = NULL;
    }
    bool ok = false;
    if (bd) {
        msg_props props;
        msg_props_init(&props);
        char uniq[33];
        adm_err err;
        rmq_cmd *resp = adm_send_one(bd, select_addr(bd), topic, (int32_t)((*next_queue)++ % queues), &props, body,
                                     uniq, &err);
        ok = resp && (resp->code == RC_SUCCESS || resp->code == RC_FLUSH_DISK_TIMEOUT ||
                      resp->code == RC_FLUSH_SLAVE_TIMEOUT || resp->code == RC_SLAVE_NOT_AVAILABLE);
        if (resp) cmd_free(resp);
        msg_props_free(&props);
    }
    route_free(&r);
    return ok;
}

/* Keys of a JSON object (a Java HashMap / HashSet) in Java's iteration order. */
static const char **java_order(const cJSON *obj, bool values, int *n)
{
    const cJSON *it;
    const char **names = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof *names);
    *n = 0;
    cJSON_ArrayForEach(it, obj) names[(*n)++] = values ? it->valuestring : it->string;
    int *order = xcalloc((size_t)*n + 1, sizeof *order);
    java_hash_order(names, *n, order);
    const char **out = xcalloc((size_t)*n + 1, sizeof *out);
    for (int i = 0; i < *n; i++) out[i] = names[order[i]];
    free(order);
    free(names);
    return out;
}

/* CLusterSendMsgRTCommand: every -i seconds, forever, the mean send time of -a
 * messages of -s bytes to each broker's own topic (the first send not timed). */
void cmd_cluster_rt(void)
{
    int64_t amount = long_opt('a', 50), size = long_opt('s', 128), interval = long_opt('i', 10);
    bool tlog = bool_opt('p', false);
    const char *room = has('m') ? val('m') : "noname";
    cluster_info ci;
    get_cluster_info(&ci);
    int n_clusters;
    const char **clusters;
    if (has('c')) {
        clusters = xcalloc(2, sizeof *clusters);
        clusters[0] = val('c');
        n_clusters = 1;
    } else {
        clusters = java_order(ci.clusters, false, &n_clusters);
    }
    char *body = xmalloc((size_t)(size > 0 ? size : 0) + 1);
    memset(body, 'a', (size_t)(size > 0 ? size : 0));
    body[size > 0 ? size : 0] = '\0';
    if (!tlog) printf("%-24s  %-24s  %-4s  %-8s  %-8s\n", "#Cluster Name", "#Broker Name", "#RT", "#successCount",
                      "#failCount");
    int64_t next_queue = 0;
    for (;;) {
        for (int c = 0; c < n_clusters; c++) {
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(ci.clusters, clusters[c]);
            if (!set) {
                printf("cluster [%s] not exist", clusters[c]);
                break;
            }
            int n_brokers;
            const char **brokers = java_order(set, true, &n_brokers);
            for (int b = 0; b < n_brokers; b++) {
                int64_t elapsed = 0, success = 0, fail = 0;
                for (int64_t i = 0; i < amount; i++) {
                    int64_t start = now_ms();
                    if (send_rt_message(brokers[b], body, &next_queue)) success++;
                    else fail++;
                    if (i) elapsed += now_ms() - start;
                }
                double rt = (double)elapsed / (double)(amount - 1);
                char rts[32];
                if (isnan(rt)) snprintf(rts, sizeof rts, "NaN");
                else snprintf(rts, sizeof rts, "%.2f", rt);
                if (!tlog) {
                    printf("%-24s  %-24s  %-8s  %-16lld  %-16lld\n", clusters[c], brokers[b], rts, (long long)success,
                           (long long)fail);
                } else {
                    /* getCurTime: GMT+8 */
                    time_t t = time(NULL) + 8 * 3600;
                    struct tm tm;
                    char when[32];
                    gmtime_r(&t, &tm);
                    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
                    printf("%s|%s|%s|%s|%.0f\n", when, room, clusters[c], brokers[b], floor(rt + 0.5));
                }
            }
            free(brokers);
        }
        fflush(stdout);
        sleep((unsigned)(interval > 0 ? interval : 0));
    }
}
