/*
 * mqadmin_group.c: subscription groups and consumers (updateSubGroup,
 * consumerProgress, consumer/producer connections, resetOffsetByTime, ...).
 */
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

/* ---- subscription groups ---- */

void cmd_update_sub_group(void)
{
    const char *group = val('g');
    bool consume_enable = bool_opt('s', true), from_min = bool_opt('m', false), broadcast = bool_opt('d', false);
    bool notify = bool_opt('a', true);
    int64_t retry_queues = long_opt('q', 1), retry_max = long_opt('r', 16), broker_id = long_opt('i', 0);
    int64_t slowly = long_opt('w', 1);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "brokerId", broker_id);
    fjson_prop_bool(&w, "consumeBroadcastEnable", broadcast);
    fjson_prop_bool(&w, "consumeEnable", consume_enable);
    fjson_prop_bool(&w, "consumeFromMinEnable", from_min);
    fjson_prop_string(&w, "groupName", group);
    fjson_prop_bool(&w, "notifyConsumerIdsChangedEnable", notify);
    fjson_prop_int64(&w, "retryMaxTimes", retry_max);
    fjson_prop_int64(&w, "retryQueueNums", retry_queues);
    fjson_prop_int64(&w, "whichBrokerWhenConsumeSlowly", slowly);
    fjson_end_object(&w);
    body_to_brokers(UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, &w, "create subscription group to %s success.\n", false);
    printf("SubscriptionGroupConfig [groupName=%s, consumeEnable=%s, consumeFromMinEnable=%s, consumeBroadcastEnable=%s, "
           "retryQueueNums=%lld, retryMaxTimes=%lld, brokerId=%lld, whichBrokerWhenConsumeSlowly=%lld, "
           "notifyConsumerIdsChangedEnable=%s]",
           group, consume_enable ? "true" : "false", from_min ? "true" : "false", broadcast ? "true" : "false",
           (long long)retry_queues, (long long)retry_max, (long long)broker_id, (long long)slowly,
           notify ? "true" : "false");
}

static void delete_sub_group_at(const char *addr, const char *group, bool remove_offset)
{
    rmq_cmd *req = adm_request(DELETE_SUBSCRIPTIONGROUP);
    cmd_ext_set(req, "groupName", group);
    cmd_ext_set_bool(req, "removeOffset", remove_offset);
    cmd_free(call_ok(addr, req, TIMEOUT_MS));
}

void cmd_delete_sub_group(void)
{
    const char *group = val('g');
    bool remove_offset = bool_opt('r', false);
    if (has('b')) {
        delete_sub_group_at(val('b'), group, remove_offset);
        printf("delete subscription group [%s] from broker [%s] success.\n", group, val('b'));
        return;
    }
    if (!has('c')) return;
    cluster_info ci;
    get_cluster_info(&ci);
    int n;
    const char **addrs = cluster_addrs(&ci, val('c'), false, &n);
    for (int i = 0; i < n; i++) {
        delete_sub_group_at(addrs[i], group, remove_offset);
        printf("delete subscription group [%s] from broker [%s] in cluster [%s] success.\n", group, addrs[i], val('c'));
    }
    char topic[512];
    snprintf(topic, sizeof topic, "%s%s", RETRY_PREFIX, group);
    delete_topic(val('c'), topic);
    snprintf(topic, sizeof topic, "%s%s", DLQ_PREFIX, group);
    delete_topic(val('c'), topic);
    free(addrs);
    cJSON_Delete(ci.json);
}

/* ---- consumers ---- */

static char *retry_topic(const char *group) { return str_printf("%s%s", RETRY_PREFIX, group); }

/* adm_consume_stats; NULL when !must and the group has no retry topic, empty stats fatal when must. */
cJSON **consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, bool must)
{
    adm_err e;
    cJSON **bodies = adm_consume_stats(group, n_bodies, entries, n, tps, &e);
    if (!bodies) {
        if (!must && e.code == RC_TOPIC_NOT_EXIST) return NULL;
        die_err(&e);
    }
    if (!*n && must)
        die("Not found the consumer group consume stats, because return offset table is empty, maybe the consumer "
            "not consume any message");
    return bodies;
}

/* adm_consumer_connection: NULL (and *code) when the group is not online, or the broker says no and !must. */
cJSON *consumer_connection(const char *group, const char *broker_addr, int *code, bool must)
{
    adm_err e;
    cJSON *cc = adm_consumer_connection(group, broker_addr, &e);
    *code = cc ? RC_SUCCESS : e.code;
    if (!cc && (must || e.code < 0)) die_err(&e);
    return cc;
}

/* getConsumerRunningInfo: relayed by the first broker of the retry topic. */
static cJSON *consumer_running_info(const char *group, const char *client_id, bool jstack)
{
    char *topic = retry_topic(group);
    route r;
    get_route(topic, &r, true);
    free(topic);
    const char *addr = r.n_brokers ? select_addr(&r.brokers[0]) : NULL;
    if (!addr) die("no broker serves %s%s", RETRY_PREFIX, group);
    rmq_cmd *req = adm_request(GET_CONSUMER_RUNNING_INFO);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "clientId", client_id);
    cmd_ext_set_bool(req, "jstackEnable", jstack);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_CONSUMER_MS);
    cJSON *info = body_json(resp);
    cmd_free(resp);
    route_free(&r);
    return info;
}

void cmd_consumer_progress(void)
{
    if (has('g')) {
        const char *group = val('g');
        bool show_ip = val('s') && strcasecmp(val('s'), "true") == 0;
        int n, n_bodies;
        mq_entry *entries;
        double tps;
        cJSON **bodies = consume_stats(group, &n_bodies, &entries, &n, &tps, true);
        qsort(entries, (size_t)n, sizeof *entries, cmp_mq_entry);
        /* -s: which client holds each queue, from the consumers' running info. */
        cJSON *cc = NULL, **infos = NULL;
        int n_infos = 0;
        mq_entry *held = NULL;
        int n_held = 0;
        char **holders = NULL;
        if (show_ip) {
            int code;
            cc = consumer_connection(group, NULL, &code, false);
            const cJSON *conn, *set = cc ? cJSON_GetObjectItemCaseSensitive(cc, "connectionSet") : NULL;
            cJSON_ArrayForEach(conn, set) {
                const char *id = str_field(conn, "clientId");
                infos = xrealloc(infos, (size_t)(n_infos + 1) * sizeof *infos);
                cJSON *info = infos[n_infos++] = consumer_running_info(group, id, false);
                int before = n_held;
                collect_mq_entries(cJSON_GetObjectItemCaseSensitive(info, "mqTable"), &held, &n_held);
                holders = xrealloc(holders, (size_t)n_held * sizeof *holders + 1);
                for (int k = before; k < n_held; k++) holders[k] = xstrndup(id, strcspn(id, "@"));
            }
            printf("%-64s  %-32s  %-4s  %-20s  %-20s  %-20s %-20s  %s\n", "#Topic", "#Broker Name", "#QID",
                   "#Broker Offset", "#Consumer Offset", "#Client IP", "#Diff", "#LastTime");
        } else {
            printf("%-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s\n", "#Topic", "#Broker Name", "#QID", "#Broker Offset",
                   "#Consumer Offset", "#Diff", "#LastTime");
        }
        int64_t diff_total = 0;
        for (int i = 0; i < n; i++) {
            int64_t bo = int_field(entries[i].value, "brokerOffset"), co = int_field(entries[i].value, "consumerOffset");
            int64_t last = int_field(entries[i].value, "lastTimestamp"), diff = bo - co;
            diff_total += diff;
            char when[64] = "N/A", t[80], b[40];
            if (last) {
                human_time(last, when, sizeof when);
                when[19] = '\0';   /* UtilAll.YYYY_MM_DD_HH_MM_SS */
            }
            front(entries[i].topic, 64, t, sizeof t);
            front(entries[i].broker_name, 32, b, sizeof b);
            if (show_ip) {
                const char *ip = "N/A";
                for (int k = 0; k < n_held; k++)
                    if (!cmp_mq_entry(&held[k], &entries[i])) ip = holders[k];
                printf("%-64s  %-32s  %-4d  %-20lld  %-20lld  %-20s %-20lld  %s\n", t, b, entries[i].queue_id,
                       (long long)bo, (long long)co, ip, (long long)diff, when);
            } else {
                printf("%-64s  %-32s  %-4d  %-20lld  %-20lld  %-20lld  %s\n", t, b, entries[i].queue_id, (long long)bo,
                       (long long)co, (long long)diff, when);
            }
        }
        printf("\n");
        printf("Consume TPS: %.2f\n", tps);
        printf("Diff Total: %lld\n", (long long)diff_total);
        for (int k = 0; k < n_held; k++) free(holders[k]);
        free(holders);
        free_mq_entries(held, n_held);
        for (int k = 0; k < n_infos; k++) cJSON_Delete(infos[k]);
        free(infos);
        cJSON_Delete(cc);
        free_mq_entries(entries, n);
        free_bodies(bodies, n_bodies);
        return;
    }
    printf("%-64s  %-6s  %-24s %-5s  %-14s  %-7s  %s\n", "#Group", "#Count", "#Version", "#Type", "#Model", "#TPS",
           "#Diff Total");
    cJSON *list = topic_list();
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(list, "topicList")) {
        if (strncmp(t->valuestring, RETRY_PREFIX, strlen(RETRY_PREFIX))) continue;
        const char *group = t->valuestring + strlen(RETRY_PREFIX);
        int n, n_bodies, code, count = 0;
        mq_entry *entries;
        double tps;
        cJSON **bodies = consume_stats(group, &n_bodies, &entries, &n, &tps, false);
        int64_t diff = 0, min_version = INT64_MAX;
        for (int i = 0; i < n; i++)
            diff += int_field(entries[i].value, "brokerOffset") - int_field(entries[i].value, "consumerOffset");
        cJSON *cc = consumer_connection(group, NULL, &code, false);
        const char *type = "", *model = "";
        char version[40] = "OFFLINE", g[80];
        if (cc) {
            const cJSON *conn;
            cJSON_ArrayForEach(conn, cJSON_GetObjectItemCaseSensitive(cc, "connectionSet")) {
                count++;
                if (int_field(conn, "version") < min_version) min_version = int_field(conn, "version");
            }
            version_desc(min_version, version, sizeof version);
            bool pull_mode = strcmp(str_field(cc, "consumeType"), "CONSUME_ACTIVELY") == 0;
            type = pull_mode ? "PULL" : "PUSH";
            model = pull_mode ? "" : str_field(cc, "messageModel");
        }
        printf("%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %lld\n", front(group, 64, g, sizeof g), count, version, type,
               model, (int)tps, (long long)diff);
        cJSON_Delete(cc);
        free_mq_entries(entries, n);
        free_bodies(bodies, n_bodies);
    }
    cJSON_Delete(list);
}

void cmd_consumer_connection(void)
{
    int code;
    cJSON *cc = consumer_connection(val('g'), val('b'), &code, true);
    printf("%-36s %-22s %-10s %s\n", "#ClientId", "#ClientAddr", "#Language", "#Version");
    const cJSON *conn, *sub;
    cJSON_ArrayForEach(conn, cJSON_GetObjectItemCaseSensitive(cc, "connectionSet")) {
        char v[40];
        version_desc(int_field(conn, "version"), v, sizeof v);
        printf("%-36s %-22s %-10s %s\n", str_field(conn, "clientId"), str_field(conn, "clientAddr"),
               str_field(conn, "language"), v);
    }
    printf("\nBelow is subscription:\n");
    printf("%-20s %s\n", "#Topic", "#SubExpression");
    cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(cc, "subscriptionTable"))
        printf("%-20s %s\n", str_field(sub, "topic"), str_field(sub, "subString"));
    printf("\n");
    printf("ConsumeType: %s\n", str_field(cc, "consumeType"));
    printf("MessageModel: %s\n", str_field(cc, "messageModel"));
    printf("ConsumeFromWhere: %s\n", str_field(cc, "consumeFromWhere"));
    cJSON_Delete(cc);
}

void cmd_producer_connection(void)
{
    adm_err e;
    cJSON *pc = adm_producer_connection(val('g'), val('t'), &e);
    if (!pc) die_err(&e);
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(pc, "connectionSet"), *conn;
    if (!cJSON_GetArraySize(set)) die("Not found the producer group connection");
    int i = 1;
    cJSON_ArrayForEach(conn, set) {
        char v[40];
        version_desc(int_field(conn, "version"), v, sizeof v);
        printf("%04d  %-32s %-22s %-8s %s\n", i++, str_field(conn, "clientId"), str_field(conn, "clientAddr"),
               str_field(conn, "language"), v);
    }
    cJSON_Delete(pc);
}

/* ConsumerRunningInfo.formatString: properties, subscriptions, offsets. */
static char *format_running_info(const cJSON *info)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    const cJSON *e;
    fprintf(f, "#Consumer Properties#\n");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(info, "properties")) {
        char v[64];
        const char *s = cJSON_IsString(e) ? e->valuestring : (e->valuestring ? e->valuestring : "");
        if (cJSON_IsBool(e)) s = cJSON_IsTrue(e) ? "true" : "false";
        else if (cJSON_IsNumber(e) && !e->valuestring) s = (snprintf(v, sizeof v, "%g", e->valuedouble), v);
        fprintf(f, "%-40s: %s\n", e->string, s);
    }
    fprintf(f, "\n\n#Consumer Subscription#\n");
    int i = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(info, "subscriptionSet"))
        fprintf(f, "%03d Topic: %-40s ClassFilter: %-8s SubExpression: %s\n", ++i, str_field(e, "topic"),
                bool_field(e, "classFilterMode") ? "true" : "false", str_field(e, "subString"));
    fprintf(f, "\n\n#Consumer Offset#\n");
    fprintf(f, "%-64s  %-32s  %-4s  %-20s\n", "#Topic", "#Broker Name", "#QID", "#Consumer Offset");
    mq_entry *entries = NULL;
    int n = 0;
    collect_mq_entries(cJSON_GetObjectItemCaseSensitive(info, "mqTable"), &entries, &n);
    for (i = 0; i < n; i++)
        fprintf(f, "%-32s  %-32s  %-4d  %-20lld\n", entries[i].topic, entries[i].broker_name, entries[i].queue_id,
                (long long)int_field(entries[i].value, "commitOffset"));
    free_mq_entries(entries, n);
    fclose(f);
    return out;
}

void cmd_consumer_status(void)
{
    const char *group = val('g');
    bool jstack = has('s');
    if (has('i')) {
        cJSON *info = consumer_running_info(group, val('i'), jstack);
        char *text = format_running_info(info);
        printf("%s", text);
        free(text);
        cJSON_Delete(info);
        return;
    }
    int code;
    cJSON *cc = consumer_connection(group, val('b'), &code, true);
    int64_t now = now_ms();
    printf("%-10s %-40s %-20s %s\n", "#Index", "#ClientId", "#Version", "#ConsumerRunningInfoFile");
    const cJSON *conn;
    int i = 1;
    cJSON_ArrayForEach(conn, cJSON_GetObjectItemCaseSensitive(cc, "connectionSet")) {
        const char *id = str_field(conn, "clientId");
        cJSON *info = consumer_running_info(group, id, jstack);
        char *text = format_running_info(info);
        char dir[64], path[512], v[40];
        snprintf(dir, sizeof dir, "%lld", (long long)now);
        snprintf(path, sizeof path, "%s/%s", dir, id);
        mkdirs(dir);
        if (write_file_atomic(path, text, strlen(text))) die("cannot write %s: %s", path, strerror(errno));
        version_desc(int_field(conn, "version"), v, sizeof v);
        printf("%-10d %-40s %-20s %s\n", i++, id, v, path);
        free(text);
        cJSON_Delete(info);
    }
    cJSON_Delete(cc);
}

/* ResetOffsetByTimeOldCommand: with no consumer online the tool itself commits the offsets. */
static void reset_offset_old(const char *group, const char *topic, int64_t timestamp, bool force, const char *ts_str)
{
    /* ts_str NULL: skipAccumulatedMessage, which prints the table alone. */
    route r;
    reset_row *rows;
    int n;
    adm_err e;
    int rc = adm_reset_offset_old(group, topic, timestamp, force, &r, &rows, &n, &e);
    if (ts_str)
        printf("rollback consumer offset by specified consumerGroup[%s], topic[%s], force[%s], timestamp(string)[%s], "
               "timestamp(long)[%lld]\n",
               group, topic, force ? "true" : "false", ts_str, (long long)timestamp);
    printf("%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n", "#brokerName", "#queueId", "#brokerOffset", "#consumerOffset",
           "#timestampOffset", "#rollbackOffset");
    for (int i = 0; i < n; i++) {
        char bn[40];
        printf("%-20s  %-20lld  %-20lld  %-20lld  %-20lld  %-20lld\n", front(rows[i].broker_name, 32, bn, sizeof bn),
               (long long)rows[i].queue_id, (long long)rows[i].broker_offset, (long long)rows[i].consumer_offset,
               (long long)rows[i].timestamp_offset, (long long)rows[i].rollback_offset);
    }
    free(rows);
    route_free(&r);
    if (rc) die_err(&e);
}

/* The broker's offsetTable of a reset, as "#brokerName #queueId #offset" rows. */
static void print_reset_table(mq_entry *entries, int n)
{
    printf("%-40s  %-40s  %-40s\n", "#brokerName", "#queueId", "#offset");
    for (int i = 0; i < n; i++) {
        int64_t off = 0;
        fjson_get_int64(entries[i].value, &off);
        char bn[40];
        printf("%-40s  %-40d  %-40lld\n", front(entries[i].broker_name, 32, bn, sizeof bn), entries[i].queue_id,
               (long long)off);
    }
}

/* 5.3's one-queue form (-b -q [-o]): the queue's offset of the time (or -o) committed at the
 * broker, then the broker told with INVOKE_BROKER_TO_RESET_OFFSET's queueId and offset. */
static void reset_one_queue(const char *group, const char *topic, const char *ts_str)
{
    const char *addr = val('b');
    int64_t queue_id = long_opt('q', -1);
    int64_t timestamp = strcmp(ts_str, "now") == 0 ? now_ms() : timestamp_opt('s');   /* 5.3: now is the time */
    printf("start reset consumer offset by specified, group[%s], topic[%s], queueId[%lld], broker[%s], "
           "timestamp(string)[%s], timestamp(long)[%lld]\n",
           group, topic, (long long)queue_id, addr, ts_str, (long long)timestamp);
    int64_t offset;
    if (has('o')) {
        offset = long_opt('o', 0);
    } else {
        mq q = {topic, "", addr, (int32_t)queue_id};
        offset = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, timestamp);
    }
    printf("reset consumer offset to %lld\n", (long long)offset);
    if (offset <= 0) return;   /* as Apache: nothing is reset to 0 this way */
    rmq_cmd *req = adm_request(UPDATE_CONSUMER_OFFSET);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", queue_id);
    cmd_ext_set_int(req, "commitOffset", offset);
    cmd_free(call_ok(addr, req, TIMEOUT_MS));
    req = adm_request(INVOKE_BROKER_TO_RESET_OFFSET);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set(req, "group", group);
    cmd_ext_set_int(req, "timestamp", 0);
    cmd_ext_set_bool(req, "isForce", false);
    cmd_ext_set_int(req, "queueId", queue_id);
    cmd_ext_set_int(req, "offset", offset);
    cmd_free(call_ok(addr, req, TIMEOUT_MS));
}

void cmd_reset_offset_by_time(void)
{
    const char *group = val('g'), *topic = val('t'), *ts_str = val('s');
    if (has('b') && long_opt('q', -1) >= 0) {
        reset_one_queue(group, topic, ts_str);
        return;
    }
    int64_t timestamp = strcmp(ts_str, "now") == 0 ? -1 : timestamp_opt('s');
    bool force = bool_opt('f', true), for_cpp = has('c');
    mq_entry *entries;
    int n, n_bodies;
    adm_err e;
    cJSON **bodies = adm_reset_offset(group, topic, timestamp, force, for_cpp, &n_bodies, &entries, &n, &e);
    if (!bodies && e.code == RC_CONSUMER_NOT_ONLINE) {
        reset_offset_old(group, topic, timestamp, force, ts_str);
        return;
    }
    if (!bodies) die_err(&e);
    printf("rollback consumer offset by specified group[%s], topic[%s], force[%s], timestamp(string)[%s], "
           "timestamp(long)[%lld]\n",
           group, topic, force ? "true" : "false", ts_str, (long long)timestamp);
    print_reset_table(entries, n);
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
}

/* SkipAccumulationSubCommand: resetOffsetByTimestamp to -1, each queue's max offset (the
 * online consumers are told; with none online the tool commits them itself). */
void cmd_skip_accumulated_message(void)
{
    const char *group = val('g'), *topic = val('t');
    bool force = bool_opt('f', true);
    mq_entry *entries;
    int n, n_bodies;
    adm_err e;
    cJSON **bodies = adm_reset_offset(group, topic, -1, force, false, &n_bodies, &entries, &n, &e);
    if (!bodies && e.code == RC_CONSUMER_NOT_ONLINE) {
        reset_offset_old(group, topic, -1, force, NULL);
        return;
    }
    if (!bodies) die_err(&e);
    print_reset_table(entries, n);
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
}

/* CloneGroupOffsetCommand: the consumer offsets of every queue of -s's consume stats, committed
 * for -d at the broker of -t's route with that broker name (a queue of a broker the route lacks
 * is left out: Apache would send it to a null address). */
void cmd_clone_group_offset(void)
{
    const char *src = val('s'), *dest = val('d'), *topic = val('t');
    mq_entry *entries;
    int n, n_bodies;
    double tps;
    adm_err e;
    cJSON **bodies = adm_consume_stats(src, &n_bodies, &entries, &n, &tps, &e);
    if (!bodies) die_err(&e);
    if (n) {
        route r;
        get_route(topic, &r, true);
        for (int i = 0; i < n; i++) {
            const broker_data *bd = route_broker(&r, entries[i].broker_name);
            const char *addr = bd ? select_addr(bd) : NULL;
            int64_t offset = int_field(entries[i].value, "consumerOffset");
            if (!addr || offset < 0) continue;
            rmq_cmd *req = adm_request(UPDATE_CONSUMER_OFFSET);
            cmd_ext_set(req, "consumerGroup", dest);
            cmd_ext_set(req, "topic", entries[i].topic);
            cmd_ext_set_int(req, "queueId", entries[i].queue_id);
            cmd_ext_set_int(req, "commitOffset", offset);
            cmd_free(call_ok(addr, req, TIMEOUT_MS));
        }
        route_free(&r);
    }
    printf("clone group offset success. srcGroup[%s], destGroup=[%s], topic[%s]", src, dest, topic);
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
}

/* The first cluster (HashMap order) whose broker set holds the name, "null" as Java prints it. */
static const char *cluster_of(const cluster_info *ci, const char *broker_name)
{
    int n = cJSON_GetArraySize(ci->clusters), i = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    int *order = xcalloc((size_t)n + 1, sizeof *order);
    const cJSON *c;
    cJSON_ArrayForEach(c, ci->clusters) names[i++] = c->string;
    java_hash_order(names, n, order);
    const char *found = "null";
    for (i = 0; i < n && !strcmp(found, "null"); i++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(ci->clusters, names[order[i]]), *b;
        cJSON_ArrayForEach(b, set)
            if (cJSON_IsString(b) && strcmp(b->valuestring, broker_name) == 0) found = names[order[i]];
    }
    free(order);
    free(names);
    return found;
}

/* One field of a SubscriptionGroupConfig as Field.get(config).toString() shows it. */
static void print_group_field(const cJSON *cfg, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, name);
    char buf[64];
    const char *text = dflt;
    if (cJSON_IsBool(v)) text = cJSON_IsTrue(v) ? "true" : "false";
    else if (cJSON_IsString(v)) text = v->valuestring;
    else if (cJSON_IsNumber(v)) {
        int64_t n = 0;
        fjson_get_int64(v, &n);
        snprintf(buf, sizeof buf, "%lld", (long long)n);
        text = buf;
    }
    printf("%s%-40s=  %s\n", "", name, text);
}

/* GetConsumerConfigSubCommand: GET_SUBSCRIPTIONGROUP_CONFIG at each broker (brokerAddrTable's
 * HashMap order), every field of 5.3's SubscriptionGroupConfig in declaration order; a field
 * the broker did not send shows the Java default (as the tool's deserialised object has it). */
void cmd_get_consumer_config(void)
{
    static const char *const fields[][2] = {
        {"groupName", ""}, {"consumeEnable", "true"}, {"consumeFromMinEnable", "true"},
        {"consumeBroadcastEnable", "true"}, {"consumeMessageOrderly", "false"}, {"retryQueueNums", "1"},
        {"retryMaxTimes", "16"},
        {"groupRetryPolicy", "GroupRetryPolicy{type=CUSTOMIZED, exponentialRetryPolicy=null, customizedRetryPolicy=null}"},
        {"brokerId", "0"}, {"whichBrokerWhenConsumeSlowly", "1"}, {"notifyConsumerIdsChangedEnable", "true"},
        {"groupSysFlag", "0"}, {"consumeTimeoutMinute", "15"}, {"subscriptionDataSet", ""}, {"attributes", "{}"},
    };
    const char *group = val('g');
    cluster_info ci;
    get_cluster_info(&ci);
    int n = cJSON_GetArraySize(ci.brokers), i = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    int *order = xcalloc((size_t)n + 1, sizeof *order);
    const cJSON *b;
    cJSON_ArrayForEach(b, ci.brokers) names[i++] = b->string;
    java_hash_order(names, n, order);
    cJSON **configs = xcalloc((size_t)n + 1, sizeof *configs);
    for (i = 0; i < n; i++) {   /* all asked before anything is printed, as Apache collects them */
        broker_data bd;
        parse_broker_data(cJSON_GetObjectItemCaseSensitive(ci.brokers, names[order[i]]), &bd);
        const char *addr = select_addr(&bd);
        if (!addr) continue;
        rmq_cmd *req = adm_request(GET_SUBSCRIPTIONGROUP_CONFIG);
        cmd_ext_set(req, "group", group);
        rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
        configs[i] = body_json(resp);
        cmd_free(resp);
    }
    for (i = 0; i < n; i++) {
        if (!configs[i]) continue;
        printf("=============================%s:%s=============================\n",
               cluster_of(&ci, names[order[i]]), names[order[i]]);
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            print_group_field(configs[i], fields[f][0], fields[f][1]);
        cJSON_Delete(configs[i]);
    }
    free(configs);
    free(order);
    free(names);
    cJSON_Delete(ci.json);
}

/* SetConsumeModeSubCommand: SET_MESSAGE_REQUEST_MODE (PULL or POP) at -b, or at every master of -c
 * (a master that refuses is reported and the others still get it, as Apache goes on). */
void cmd_set_consume_mode(void)
{
    const char *topic = val('t'), *group = val('g'), *mode = val('m');
    int64_t share = long_opt('q', 0);
    if (strcmp(mode, "PULL") != 0 && strcmp(mode, "POP") != 0)
        die("No enum constant org.apache.rocketmq.common.message.MessageRequestMode.%s", mode);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);   /* SetMessageRequestModeRequestBody, fastjson's sorted properties */
    fjson_prop_string(&w, "consumerGroup", group);
    fjson_prop_string(&w, "mode", mode);
    fjson_prop_int64(&w, "popShareQueueNum", share);
    fjson_prop_string(&w, "topic", topic);
    fjson_end_object(&w);
    body_to_brokers(SET_MESSAGE_REQUEST_MODE, &w, "set consume mode to %s success.\n", true);
    printf("topic[%s] group[%s] consume mode[%s] popShareQueueNum[%lld]", topic, group, mode, (long long)share);
}

/* ---- updateSubGroupList, producer ---- */

/* UpdateSubGroupListSubCommand: the file's SubscriptionGroupConfigs in a SubscriptionGroupList
 * (the broker gives the fields left out their defaults, as Java's decoding does). */
void cmd_update_sub_group_list(void)
{
    cJSON *list = read_config_list();
    if (!list) return;
    if (cJSON_GetArraySize(list))
        submit_config_list(225 /* UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST */, "groupConfigList", list,
                           "submit batch of group config to %s success, please check the result later.\n",
                           "submit batch of subscription group config to %s success, please check the result later.\n");
    cJSON_Delete(list);
}

/* ProducerSubCommand: GET_ALL_PRODUCER_INFO, each group's instances (groups in HashMap order). */
void cmd_producer(void)
{
    rmq_cmd *resp = call_ok(val('b'), adm_request(328 /* GET_ALL_PRODUCER_INFO */), TIMEOUT_MS);
    cJSON *info = body_json(resp);
    cmd_free(resp);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(info, "data"), *g;
    int n = cJSON_GetArraySize(data), i = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    int *order = xcalloc((size_t)n + 1, sizeof *order);
    cJSON_ArrayForEach(g, data) names[i++] = g->string;
    java_hash_order(names, n, order);
    for (i = 0; i < n; i++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, names[order[i]]), *p;
        if (!cJSON_GetArraySize(list)) {
            printf("producer group (%s) instances are empty\n", names[order[i]]);
            continue;
        }
        cJSON_ArrayForEach(p, list)
            printf("producer group (%s) instance : clientId=%s,remoteIP=%s, language=%s, version=%lld, "
                   "lastUpdateTimestamp=%lld\n",
                   names[order[i]], str_field(p, "clientId"), str_field(p, "remoteIP"), str_field(p, "language"),
                   (long long)int_field(p, "version"), (long long)int_field(p, "lastUpdateTimestamp"));
    }
    free(order);
    free(names);
    cJSON_Delete(info);
}
