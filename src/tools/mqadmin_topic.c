/* mqadmin_topic.c: the topic sub-commands (updateTopic, topicList, topicRoute, ...). */
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

/* ---- topic commands ---- */

static const char *perm_string(int64_t perm, char *buf)
{
    strcpy(buf, "---");
    if (perm & 4) buf[0] = 'R';
    if (perm & 2) buf[1] = 'W';
    if (perm & 1) buf[2] = 'X';
    return buf;
}

void put_kv_config(const char *ns, const char *key, const char *value)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = adm_request(PUT_KV_CONFIG);
        cmd_ext_set(req, "namespace", ns);
        cmd_ext_set(req, "key", key);
        cmd_ext_set(req, "value", value);
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
}

/* createAndUpdateTopicConfig of a TopicConfig built by the tool (SINGLE_TAG). */
static void send_topic_config(const char *addr, const char *topic, int64_t rq, int64_t wq, int64_t perm,
                              int64_t sysflag, bool order)
{
    rmq_cmd *req = adm_request(UPDATE_AND_CREATE_TOPIC);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set(req, "defaultTopic", DEFAULT_TOPIC);
    cmd_ext_set_int(req, "readQueueNums", rq);
    cmd_ext_set_int(req, "writeQueueNums", wq);
    cmd_ext_set_int(req, "perm", perm);
    cmd_ext_set(req, "topicFilterType", "SINGLE_TAG");
    cmd_ext_set_int(req, "topicSysFlag", sysflag);
    cmd_ext_set_bool(req, "order", order);
    cmd_free(call_ok(addr, req, TIMEOUT_MS));
}

void cmd_update_topic(void)
{
    const char *topic = val('t');
    int64_t rq = long_opt('r', 8), wq = long_opt('w', 8), perm = long_opt('p', 6);
    bool unit = bool_opt('u', false), unit_sub = bool_opt('s', false), order = bool_opt('o', false);
    int sysflag = (unit ? 1 : 0) | (unit_sub ? 2 : 0);   /* TopicSysFlag.buildSysFlag */
    cluster_info ci = {0};
    int n;
    const char **addrs = target_brokers(&ci, &n);
    for (int i = 0; i < n; i++) {
        send_topic_config(addrs[i], topic, rq, wq, perm, sysflag, order);
        printf("create topic to %s success.\n", addrs[i]);
    }
    if (order) {
        /* The order conf names brokers: the one of -b, or every broker of the cluster. */
        char conf[1024] = "";
        if (has('b')) {
            get_cluster_info(&ci);
            const cJSON *bd;
            cJSON_ArrayForEach(bd, ci.brokers) {
                broker_data d;
                parse_broker_data(bd, &d);
                for (int k = 0; k < d.n_addrs; k++)
                    if (strcmp(d.addrs[k], addrs[0]) == 0) snprintf(conf, sizeof conf, "%s:%lld", d.name, (long long)wq);
            }
            put_kv_config(ORDER_TOPIC_CONFIG, topic, conf);
            printf("set broker orderConf. isOrder=true, orderConf=[%s]", conf);
        } else {
            int nb;
            const char **names = cluster_brokers(&ci, val('c'), &nb);
            for (int i = 0; i < nb; i++) {
                size_t l = strlen(conf);
                snprintf(conf + l, sizeof conf - l, "%s%s:%lld", i ? ";" : "", names[i], (long long)wq);
            }
            free(names);
            put_kv_config(ORDER_TOPIC_CONFIG, topic, conf);
            printf("set cluster orderConf. isOrder=true, orderConf=[%s]", conf);
        }
    }
    char p[4];
    printf("TopicConfig [topicName=%s, readQueueNums=%lld, writeQueueNums=%lld, perm=%s, topicFilterType=SINGLE_TAG, "
           "topicSysFlag=%d, order=%s]",
           topic, (long long)rq, (long long)wq, perm_string(perm, p), sysflag, order ? "true" : "false");
    free(addrs);
    cJSON_Delete(ci.json);
}

/* DeleteTopicSubCommand.deleteTopic: from the cluster's masters, then from every name server. */
void delete_topic(const char *cluster, const char *topic)
{
    cluster_info ci;
    get_cluster_info(&ci);
    int n;
    const char **addrs = cluster_addrs(&ci, cluster, false, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(DELETE_TOPIC_IN_BROKER);
        cmd_ext_set(req, "topic", topic);
        cmd_free(call_ok(addrs[i], req, TIMEOUT_MS));
    }
    printf("delete topic [%s] from cluster [%s] success.\n", topic, cluster);
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = adm_request(DELETE_TOPIC_IN_NAMESRV);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "clusterName", cluster);
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
    printf("delete topic [%s] from NameServer success.\n", topic);
    free(addrs);
    cJSON_Delete(ci.json);
}

void cmd_delete_topic(void) { delete_topic(val('c'), val('t')); }

cJSON *topic_list(void)
{
    adm_err e;
    cJSON *j = adm_topic_list(&e);
    if (!j) die_err(&e);
    return j;
}

/* GroupList of QUERY_TOPIC_CONSUME_BY_WHO from the topic's first broker; NULL if none. */
cJSON *consume_by_who(const route *r, const char *topic)
{
    const char *addr = r->n_brokers ? select_addr(&r->brokers[0]) : NULL;
    if (!addr) return NULL;
    rmq_cmd *req = adm_request(QUERY_TOPIC_CONSUME_BY_WHO);
    cmd_ext_set(req, "topic", topic);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
    cJSON *j = body_json(resp);
    cmd_free(resp);
    return j;
}

/* The cluster holding the topic's first broker ("" if none). */
static const char *topic_cluster(const cluster_info *ci, const route *r)
{
    if (!r->n_brokers) return "";
    const cJSON *c;
    cJSON_ArrayForEach(c, ci->clusters) {
        const cJSON *name;
        cJSON_ArrayForEach(name, c)
            if (cJSON_IsString(name) && strcmp(name->valuestring, r->brokers[0].name) == 0) return c->string;
    }
    return "";
}

void cmd_topic_list(void)
{
    cJSON *list = topic_list();
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(list, "topicList"), *t;
    if (!has('c')) {
        cJSON_ArrayForEach(t, topics) printf("%s\n", t->valuestring);
        cJSON_Delete(list);
        return;
    }
    cluster_info ci;
    get_cluster_info(&ci);
    printf("%-20s  %-48s  %-48s\n", "#Cluster Name", "#Topic", "#Consumer Group");
    cJSON_ArrayForEach(t, topics) {
        const char *topic = t->valuestring;
        if (!strncmp(topic, RETRY_PREFIX, strlen(RETRY_PREFIX)) || !strncmp(topic, DLQ_PREFIX, strlen(DLQ_PREFIX)))
            continue;
        route r;
        const char *cluster = "";
        cJSON *groups = NULL;
        if (get_route(topic, &r, false)) {
            cluster = topic_cluster(&ci, &r);
            groups = consume_by_who(&r, topic);
            route_free(&r);
        }
        const cJSON *gl = groups ? cJSON_GetObjectItemCaseSensitive(groups, "groupList") : NULL, *g;
        char a[32], b[80], c[80];
        if (!gl || !cJSON_GetArraySize(gl)) {
            printf("%-20s  %-64s  %-64s\n", front(cluster, 20, a, sizeof a), front(topic, 64, b, sizeof b), "");
        } else {
            cJSON_ArrayForEach(g, gl)
                printf("%-20s  %-64s  %-64s\n", front(cluster, 20, a, sizeof a), front(topic, 64, b, sizeof b),
                       front(g->valuestring, 64, c, sizeof c));
        }
        cJSON_Delete(groups);
    }
    cJSON_Delete(ci.json);
    cJSON_Delete(list);
}

/* TopicRouteData.toJson(true): the route re-serialised, broker ids as bare integer keys. */
static void write_route_item(fjson_writer *w, const cJSON *item)
{
    int64_t id;
    if (cJSON_IsArray(item)) {
        const cJSON *c;
        fjson_begin_array(w);
        cJSON_ArrayForEach(c, item) write_route_item(w, c);
        fjson_end_array(w);
    } else if (cJSON_IsObject(item)) {
        const cJSON *c;
        fjson_begin_object(w);
        cJSON_ArrayForEach(c, item) {
            if (parse_int64(c->string, &id) == RMQ_OK) fjson_key_int(w, id);
            else fjson_key(w, c->string);
            write_route_item(w, c);
        }
        fjson_end_object(w);
    } else {
        fjson_item(w, item);
    }
}

void cmd_topic_route(void)
{
    route r;
    get_route(val('t'), &r, true);
    if (!has('l')) {
        fjson_writer w;
        fjson_writer_init(&w, FJSON_PRETTY);
        write_route_item(&w, r.json);
        char *text = fjson_writer_finish(&w, NULL);
        printf("%s\n", text);
        free(text);
        route_free(&r);
        return;
    }
    static const char *FORMAT = "%-45s %-32s %-50s %-10s %-11s %-5s\n";
    printf(FORMAT, "#ClusterName", "#BrokerName", "#BrokerAddrs", "#ReadQueue", "#WriteQueue", "#Perm");
    int64_t total_r = 0, total_w = 0;
    int n_named = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, r.queues) n_named++;
    broker_data *sorted = xcalloc((size_t)r.n_brokers + 1, sizeof *sorted);
    memcpy(sorted, r.brokers, (size_t)r.n_brokers * sizeof *sorted);
    for (int i = 1; i < r.n_brokers; i++)
        for (int k = i; k > 0 && strcmp(sorted[k - 1].name, sorted[k].name) > 0; k--) {
            broker_data t = sorted[k];
            sorted[k] = sorted[k - 1];
            sorted[k - 1] = t;
        }
    for (int i = 0; i < r.n_brokers; i++) {
        const cJSON *qd = route_queue_data(&r, sorted[i].name);
        if (!qd) continue;
        char addrs[512] = "{", rq[24], wq[24], perm[24];
        for (int k = 0; k < sorted[i].n_addrs; k++) {
            size_t l = strlen(addrs);
            snprintf(addrs + l, sizeof addrs - l, "%s%lld=%s", k ? ", " : "", (long long)sorted[i].ids[k], sorted[i].addrs[k]);
        }
        strcat(addrs, "}");
        total_r += int_field(qd, "readQueueNums");
        total_w += int_field(qd, "writeQueueNums");
        snprintf(rq, sizeof rq, "%lld", (long long)int_field(qd, "readQueueNums"));
        snprintf(wq, sizeof wq, "%lld", (long long)int_field(qd, "writeQueueNums"));
        snprintf(perm, sizeof perm, "%lld", (long long)int_field(qd, "perm"));
        printf(FORMAT, sorted[i].cluster, sorted[i].name, addrs, rq, wq, perm);
    }
    for (int i = 0; i < 158; i++) putchar('-');
    printf("\n");
    char nb[24], tr[24], tw[24];
    snprintf(nb, sizeof nb, "%d", n_named);
    snprintf(tr, sizeof tr, "%lld", (long long)total_r);
    snprintf(tw, sizeof tw, "%lld", (long long)total_w);
    printf(FORMAT, "Total:", nb, "", tr, tw, "");
    free(sorted);
    route_free(&r);
}

void cmd_topic_status(void)
{
    const char *topic = val('t');
    route r;
    get_route(topic, &r, true);
    mq_entry *entries;
    int n, n_bodies;
    adm_err e;
    cJSON **bodies = adm_topic_stats(&r, topic, &n_bodies, &entries, &n, &e);
    if (!bodies) die_err(&e);
    if (!n) die("Not found the topic stats info");
    printf("%-32s  %-4s  %-20s  %-20s    %s\n", "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated");
    for (int i = 0; i < n; i++) {
        char when[64] = "", bn[40];
        int64_t ts = int_field(entries[i].value, "lastUpdateTimestamp");
        if (ts > 0) human_time(ts, when, sizeof when);
        printf("%-32s  %-4d  %-20lld  %-20lld    %s\n", front(entries[i].broker_name, 32, bn, sizeof bn),
               entries[i].queue_id, (long long)int_field(entries[i].value, "minOffset"),
               (long long)int_field(entries[i].value, "maxOffset"), when);
    }
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
    route_free(&r);
}

void cmd_topic_cluster_list(void)
{
    cluster_info ci;
    get_cluster_info(&ci);
    route r;
    get_route(val('t'), &r, true);
    if (!r.n_brokers) die("the route of topic %s holds no broker", val('t'));
    const cJSON *c;
    cJSON_ArrayForEach(c, ci.clusters) {
        const cJSON *name;
        cJSON_ArrayForEach(name, c) {
            if (cJSON_IsString(name) && strcmp(name->valuestring, r.brokers[0].name) == 0) {
                printf("%s\n", c->string);
                break;
            }
        }
    }
    route_free(&r);
    cJSON_Delete(ci.json);
}


/* ---- statsAll ---- */

/* An answer with a JSON body, or NULL: statsAll skips what a broker cannot tell it. */
static cJSON *try_json(const char *addr, rmq_cmd *req)
{
    adm_err e;
    rmq_cmd *resp = adm_call(addr, req, TIMEOUT_MS, &e);
    const char *why;
    cJSON *j = resp && resp->code == RC_SUCCESS && resp->body_len
                   ? fjson_parse((const char *)resp->body, resp->body_len, &why)
                   : NULL;
    if (resp) cmd_free(resp);
    return j;
}

/* VIEW_BROKER_STATS_DATA: adds the minute TPS and compute24HourSum (day, else hour, else minute sum). */
static void add_stats(const char *addr, const char *name, const char *key, double *tps, int64_t *day)
{
    rmq_cmd *req = adm_request(VIEW_BROKER_STATS_DATA);
    cmd_ext_set(req, "statsName", name);
    cmd_ext_set(req, "statsKey", key);
    cJSON *j = try_json(addr, req);
    if (!j) return;
    const cJSON *minute = cJSON_GetObjectItemCaseSensitive(j, "statsMinute");
    *tps += double_field(minute, "tps");
    const char *windows[] = {"statsDay", "statsHour", "statsMinute"};
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        int64_t sum = int_field(cJSON_GetObjectItemCaseSensitive(j, windows[i]), "sum");
        if (sum) {
            *day += sum;
            break;
        }
    }
    cJSON_Delete(j);
}

static const char *master_of(const broker_data *bd)
{
    for (int i = 0; i < bd->n_addrs; i++)
        if (bd->ids[i] == MASTER_ID) return bd->addrs[i];
    return NULL;
}

/* examineConsumeStats(group, topic).computeTotalDiff(), 0 when unknown or negative. */
static int64_t accumulation(const route *r, const char *group, const char *topic)
{
    int64_t diff = 0;
    for (int i = 0; i < r->n_brokers; i++) {
        const char *addr = select_addr(&r->brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = adm_request(GET_CONSUME_STATS);
        cmd_ext_set(req, "consumerGroup", group);
        cmd_ext_set(req, "topic", topic);
        cJSON *j = try_json(addr, req);
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "offsetTable"))
            diff += int_field(e, "brokerOffset") - int_field(e, "consumerOffset");
        cJSON_Delete(j);
    }
    return diff < 0 ? 0 : diff;
}

/* StatsAllSubCommand.printTopicDetail: one line per consuming group, or NO_CONSUMER. */
static void print_topic_stats(const char *topic, bool active_only)
{
    route r;
    if (!get_route(topic, &r, false)) return;
    const char *first = r.n_brokers ? select_addr(&r.brokers[0]) : NULL;
    cJSON *groups = NULL;
    if (first) {
        rmq_cmd *req = adm_request(QUERY_TOPIC_CONSUME_BY_WHO);
        cmd_ext_set(req, "topic", topic);
        groups = try_json(first, req);
    }
    double in_tps = 0;
    int64_t in_day = 0;
    for (int i = 0; i < r.n_brokers; i++)
        if (master_of(&r.brokers[i])) add_stats(master_of(&r.brokers[i]), "TOPIC_PUT_NUMS", topic, &in_tps, &in_day);
    char t64[80], g64[80];
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(groups, "groupList"), *g;
    if (cJSON_GetArraySize(list) > 0) {
        cJSON_ArrayForEach(g, list) {
            if (!cJSON_IsString(g)) continue;
            double out_tps = 0;
            int64_t out_day = 0;
            char *key = str_printf("%s@%s", topic, g->valuestring);
            for (int i = 0; i < r.n_brokers; i++)
                if (master_of(&r.brokers[i]))
                    add_stats(master_of(&r.brokers[i]), "GROUP_GET_NUMS", key, &out_tps, &out_day);
            free(key);
            int64_t acc = accumulation(&r, g->valuestring, topic);
            if (!active_only || in_day > 0 || out_day > 0)
                printf("%-64s  %-64s %12lld %11.2f %11.2f %14lld %14lld\n", front(topic, 64, t64, sizeof t64),
                       front(g->valuestring, 64, g64, sizeof g64), (long long)acc, in_tps, out_tps,
                       (long long)in_day, (long long)out_day);
        }
    } else if (!active_only || in_day > 0) {
        printf("%-64s  %-32s %12d %11.2f %11s %14lld %14s\n", front(topic, 64, t64, sizeof t64), "", 0, in_tps, "",
               (long long)in_day, "NO_CONSUMER");
    }
    cJSON_Delete(groups);
    route_free(&r);
}

void cmd_stats_all(void)
{
    cJSON *list = topic_list();
    printf("%-32s  %-32s %12s %11s %11s %14s %14s\n", "#Topic", "#Consumer Group", "#Accumulation", "#InTPS",
           "#OutTPS", "#InMsg24Hour", "#OutMsg24Hour");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(list, "topicList")) {
        if (!cJSON_IsString(t)) continue;
        const char *topic = t->valuestring;
        if (strncmp(topic, RETRY_PREFIX, strlen(RETRY_PREFIX)) == 0 || strncmp(topic, DLQ_PREFIX, strlen(DLQ_PREFIX)) == 0)
            continue;
        if (has('t') && *val('t') && strcmp(topic, val('t')) != 0) continue;
        print_topic_stats(topic, has('a'));
    }
    cJSON_Delete(list);
}

/* ---- updateTopicPerm, updateOrderConf, allocateMQ ---- */

/* UpdateTopicPermSubCommand: the queue counts and flags of the route's first queue data, the new
 * perm, to the master -b names (when it serves the topic) or to every master of -c. */
void cmd_update_topic_perm(void)
{
    const char *topic = val('t');
    route r;
    get_route(topic, &r, true);
    const cJSON *first = cJSON_GetArrayItem(r.queues, 0);
    if (!first) die("the route of %s has no queue data", topic);
    int64_t rq = int_field(first, "readQueueNums"), wq = int_field(first, "writeQueueNums");
    int64_t sysflag = int_field(first, "topicSysFlag"), perm = long_opt('p', 0);
    if (has('b')) {
        const char *addr = val('b'), *broker_name = NULL;
        for (int i = 0; i < r.n_brokers && !broker_name; i++)
            for (int k = 0; k < r.brokers[i].n_addrs; k++)
                if (r.brokers[i].ids[k] == MASTER_ID && strcmp(r.brokers[i].addrs[k], addr) == 0)
                    broker_name = r.brokers[i].name;
        if (!broker_name) {
            printf("updateTopicPerm error broker not exit or broker is not master!.\n");
            route_free(&r);
            return;
        }
        const cJSON *qd = route_queue_data(&r, broker_name);
        int64_t old = qd ? int_field(qd, "perm") : 0;
        if (qd && old == perm) {
            printf("new perm equals to the old one!\n");
            route_free(&r);
            return;
        }
        send_topic_config(addr, topic, rq, wq, perm, sysflag, false);
        char p[4];
        printf("update topic perm from %lld to %lld in %s success.\n", (long long)old, (long long)perm, addr);
        printf("TopicConfig [topicName=%s, readQueueNums=%lld, writeQueueNums=%lld, perm=%s, topicFilterType=SINGLE_TAG, "
               "topicSysFlag=%lld, order=false].\n",
               topic, (long long)rq, (long long)wq, perm_string(perm, p), (long long)sysflag);
    } else {
        cluster_info ci;
        get_cluster_info(&ci);
        int n;
        const char **addrs = cluster_addrs(&ci, val('c'), false, &n);
        for (int i = 0; i < n; i++) {
            send_topic_config(addrs[i], topic, rq, wq, perm, sysflag, false);
            printf("update topic perm from %lld to %lld in %s success.\n", (long long)int_field(first, "perm"),
                   (long long)perm, addrs[i]);
        }
        free(addrs);
        cJSON_Delete(ci.json);
    }
    route_free(&r);
}

/* UpdateOrderConfCommand: the ORDER_TOPIC_CONFIG KV entry of a topic; like Apache, no newline. */
void cmd_update_order_conf(void)
{
    const char *topic = val('t'), *method = val('m');
    if (strcmp(method, "get") == 0) {
        rmq_cmd *req = adm_request(GET_KV_CONFIG);
        cmd_ext_set(req, "namespace", ORDER_TOPIC_CONFIG);
        cmd_ext_set(req, "key", topic);
        rmq_cmd *resp = namesrv_call(req);
        if (resp->code != RC_SUCCESS) die_answer(resp);
        const char *conf = cmd_ext_get(resp, "value");
        printf("get orderConf success. topic=[%s], orderConf=[%s] ", topic, conf ? conf : "null");
        cmd_free(resp);
    } else if (strcmp(method, "put") == 0) {
        const char *conf = has('v') ? val('v') : "";
        if (!*conf) die("please set orderConf with option -v.");
        put_kv_config(ORDER_TOPIC_CONFIG, topic, conf);
        printf("update orderConf success. topic=[%s], orderConf=[%s]", topic, conf);
    } else if (strcmp(method, "delete") == 0) {
        delete_kv_config(ORDER_TOPIC_CONFIG, topic);
        printf("delete orderConf success. topic=[%s]", topic);
    } else {
        usage_error("option -m: put, get or delete, not '%s'", method);
    }
}

/* MessageQueue.hashCode. */
static int32_t mq_hash(const mq *q)
{
    uint32_t h = 1;
    h = 31 * h + (uint32_t)java_string_hash(q->broker_name, strlen(q->broker_name));
    h = 31 * h + (uint32_t)q->queue_id;
    h = 31 * h + (uint32_t)java_string_hash(q->topic, strlen(q->topic));
    return (int32_t)h;
}

static void write_mq(fjson_writer *w, const mq *q)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "brokerName", q->broker_name);
    fjson_prop_int64(w, "queueId", q->queue_id);
    fjson_prop_string(w, "topic", q->topic);
    fjson_end_object(w);
}

/* AllocateMQSubCommand: AllocateMessageQueueAveragely over the topic's readable queues (in the
 * order of the HashSet the client keeps them in) for each of the -i client ids, printed as a
 * RebalanceResult {"result":{cid:[MessageQueue..]}} whose HashMap is in Java's order. */
void cmd_allocate_mq(void)
{
    const char *topic = val('t');
    char *ips = xstrdup(val('i'));
    const char *cids[256];
    int n_cids = 0;
    for (char *save = NULL, *tok = strtok_r(ips, ",", &save); tok && n_cids < 256; tok = strtok_r(NULL, ",", &save))
        cids[n_cids++] = tok;
    route r;
    get_route(topic, &r, true);
    int n_mqs = 0;
    mq *all = NULL;
    const cJSON *q;
    cJSON_ArrayForEach(q, r.queues) {   /* topicRouteData2TopicSubscribeInfo: readable queues */
        if (!(int_field(q, "perm") & 4)) continue;
        for (int64_t i = 0; i < int_field(q, "readQueueNums"); i++) {
            all = xrealloc(all, (size_t)(n_mqs + 1) * sizeof *all);
            all[n_mqs++] = (mq){topic, str_field(q, "brokerName"), NULL, (int32_t)i};
        }
    }
    if (!n_mqs) die("mqAll is null or mqAll empty");
    int32_t *hashes = xcalloc((size_t)n_mqs, sizeof *hashes);
    int *mq_order = xcalloc((size_t)n_mqs, sizeof *mq_order);
    for (int i = 0; i < n_mqs; i++) hashes[i] = mq_hash(&all[i]);
    java_hash_order_codes(hashes, n_mqs, mq_order);
    int *cid_order = xcalloc((size_t)n_cids + 1, sizeof *cid_order);
    java_hash_order(cids, n_cids, cid_order);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "result");
    fjson_begin_object(&w);
    for (int c = 0; c < n_cids; c++) {
        int index = cid_order[c];
        for (int k = 0; k < index; k++)   /* cidAll.indexOf: the first equal id */
            if (strcmp(cids[k], cids[index]) == 0) index = k;
        bool later_dup = false;   /* HashMap.put: a repeated id is one key */
        for (int k = 0; k < c; k++)
            if (strcmp(cids[cid_order[k]], cids[cid_order[c]]) == 0) later_dup = true;
        if (later_dup) continue;
        int mod = n_mqs % n_cids;
        int average = n_mqs <= n_cids ? 1 : (mod > 0 && index < mod ? n_mqs / n_cids + 1 : n_mqs / n_cids);
        int start = (mod > 0 && index < mod) ? index * average : index * average + mod;
        int range = average < n_mqs - start ? average : n_mqs - start;
        fjson_key(&w, cids[cid_order[c]]);
        fjson_begin_array(&w);
        for (int i = 0; i < range; i++) write_mq(&w, &all[mq_order[start + i]]);
        fjson_end_array(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    char *json = fjson_writer_finish(&w, NULL);
    printf("%s\n", json);
    free(json);
    free(cid_order);
    free(mq_order);
    free(hashes);
    free(all);
    route_free(&r);
    free(ips);
}

/* ---- updateTopicList (and updateSubGroupList's file and requests) ---- */

cJSON *read_config_list(void)
{
    const char *path = val('f');
    if (access(path, F_OK) != 0) {
        printf("the file path %s does not exists\n", path);
        return NULL;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) die("cannot read %s: %s", path, strerror(errno));
    const char *err = "not a JSON array";
    cJSON *list = fjson_parse(text, len, &err);
    free(text);
    if (!cJSON_IsArray(list)) die("JSON.parseArray of %s: %s", path, list ? "not a JSON array" : err);
    return list;
}

void submit_config_list(int code, const char *field, cJSON *items, const char *done_b, const char *done_c)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, field);
    fjson_item(&w, items);
    fjson_end_object(&w);
    body_to_brokers(code, &w, has('b') ? done_b : done_c, false);
    /* Apache's -c branch falls through to printCommandLineHelp. */
    if (!has('b')) print_running_help();
}

/* UpdateTopicListSubCommand: the file's TopicConfigs as fastjson writes them back, every field
 * there with TopicConfig's defaults for those the file leaves out. */
void cmd_update_topic_list(void)
{
    cJSON *list = read_config_list();
    if (!list) return;
    if (!cJSON_GetArraySize(list)) {
        cJSON_Delete(list);
        return;
    }
    cJSON *configs = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, list) {
        if (!cJSON_IsObject(t)) die("JSON.parseArray: an element is not a TopicConfig");
        cJSON *c = cJSON_CreateObject();
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attributes");
        cJSON_AddItemToObject(c, "attributes", attrs ? cJSON_Duplicate(attrs, true) : cJSON_CreateObject());
        static const struct { const char *name; const char *dflt; } fields[] = {
            {"order", "false"}, {"perm", "6"}, {"readQueueNums", "16"}, {"topicFilterType", "\"SINGLE_TAG\""},
            {"topicName", "null"}, {"topicSysFlag", "0"}, {"writeQueueNums", "16"}};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, fields[i].name);
            if (v) cJSON_AddItemToObject(c, fields[i].name, cJSON_Duplicate(v, true));
            else if (strcmp(fields[i].dflt, "null") != 0)
                cJSON_AddItemToObject(c, fields[i].name, fjson_parse(fields[i].dflt, strlen(fields[i].dflt), NULL));
        }
        cJSON_AddItemToArray(configs, c);
    }
    submit_config_list(18 /* UPDATE_AND_CREATE_TOPIC_LIST */, "topicConfigList", configs,
                       "submit batch of topic config to %s success, please check the result later.\n",
                       "submit batch of topic config to %s success, please check the result later.\n");
    cJSON_Delete(configs);
    cJSON_Delete(list);
}
