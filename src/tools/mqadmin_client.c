/*
 * mqadmin_client.c: what every sub-command builds on — blocking requests to
 * the name servers and brokers, topic routes and cluster tables, decoded
 * messages, pulls as DefaultMQPullConsumer does them, Java-style formatting.
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

/* ---- name servers and requests ---- */

char **namesrvs;
int n_namesrvs;

void load_namesrvs(void)
{
    const char *list = val('n');
    if (!list || !*list) list = getenv("NAMESRV_ADDR");
    if (!list || !*list) die("no name server address: set -n or NAMESRV_ADDR");
    char *copy = xstrdup(list), *save = NULL;
    for (char *a = strtok_r(copy, ";", &save); a; a = strtok_r(NULL, ";", &save)) {
        a = trim(a);
        if (!*a) continue;
        namesrvs = xrealloc(namesrvs, (size_t)(n_namesrvs + 1) * sizeof *namesrvs);
        namesrvs[n_namesrvs++] = xstrdup(a);
    }
    free(copy);
}

rmq_cmd *request(int code)
{
    rmq_cmd *c = cmd_new_request(code);
    cmd_ext_declare(c);
    return c;
}

/* One request over a fresh connection; takes req. NULL + err on a transport failure. */
rmq_cmd *call_try(const char *addr, rmq_cmd *req, int timeout, char *err, size_t errlen)
{
    rmq_cmd *resp = rmq_invoke_sync(addr, req, timeout, err, errlen);
    cmd_free(req);
    return resp;
}

/* A request that got no answer: the remoting error, naming the server. */
void die_transport(const char *addr, const char *err)
{
    if (strncmp(err, "connect to ", 11) == 0) die("%s", err);
    die("request to %s failed: %s", addr, err);
}

rmq_cmd *call(const char *addr, rmq_cmd *req, int timeout)
{
    char err[256];
    rmq_cmd *resp = call_try(addr, req, timeout, err, sizeof err);
    if (!resp) die_transport(addr, err);
    return resp;
}

const char *remark_of(const rmq_cmd *r) { return r->remark ? r->remark : "null"; }

/* MQBrokerException's message. */
void die_answer(const rmq_cmd *r)
{
    char remark[1024];
    snprintf(remark, sizeof remark, "%s", remark_of(r));
    char *faq = strstr(remark, "\nSee http");
    if (faq) *faq = '\0';
    die("CODE: %d  DESC: %s", r->code, remark);
}

/* A request that must succeed. */
rmq_cmd *call_ok(const char *addr, rmq_cmd *req, int timeout)
{
    rmq_cmd *r = call(addr, req, timeout);
    if (r->code != RC_SUCCESS) die_answer(r);
    return r;
}

/* To the first name server that answers (RemotingClient's choice); takes req. */
rmq_cmd *namesrv_call(rmq_cmd *req)
{
    char err[256] = "";
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *resp = rmq_invoke_sync(namesrvs[i], req, TIMEOUT_MS, err, sizeof err);
        if (resp) {
            cmd_free(req);
            return resp;
        }
    }
    cmd_free(req);
    die_transport(n_namesrvs ? namesrvs[n_namesrvs - 1] : "null", err);
}

cJSON *body_json(const rmq_cmd *r)
{
    const char *err = "empty body";
    cJSON *j = r->body_len ? fjson_parse((const char *)r->body, r->body_len, &err) : NULL;
    if (!j) die("bad answer body from code %d: %s", r->code, err);
    return j;
}

const char *str_field(const cJSON *o, const char *name)
{
    const char *s = NULL;
    return fjson_field_string(o, name, &s) == FJSON_OK ? s : "";
}

int64_t int_field(const cJSON *o, const char *name)
{
    int64_t v = 0;
    fjson_field_int64(o, name, &v);
    return v;
}

double double_field(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return it && cJSON_IsNumber(it) ? it->valuedouble : 0.0;
}

bool bool_field(const cJSON *o, const char *name)
{
    bool b = false;
    fjson_field_bool(o, name, &b);
    return b;
}

/* ---- routes and clusters ---- */

void parse_broker_data(const cJSON *o, broker_data *bd)
{
    memset(bd, 0, sizeof *bd);
    bd->name = str_field(o, "brokerName");
    bd->cluster = str_field(o, "cluster");
    const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(o, "brokerAddrs"), *a;
    cJSON_ArrayForEach(a, addrs) {
        if (bd->n_addrs == MAX_ADDRS || !cJSON_IsString(a) || parse_int64(a->string, &bd->ids[bd->n_addrs])) continue;
        bd->addrs[bd->n_addrs++] = a->valuestring;
    }
}

/* BrokerData.selectBrokerAddr: the master, else any. */
const char *select_addr(const broker_data *bd)
{
    for (int i = 0; i < bd->n_addrs; i++)
        if (bd->ids[i] == MASTER_ID) return bd->addrs[i];
    return bd->n_addrs ? bd->addrs[0] : NULL;
}

void route_free(route *r)
{
    free(r->brokers);
    cJSON_Delete(r->json);
}

/* GET_ROUTEINFO_BY_TOPIC; false (when allowed) or death if the topic has none. */
bool get_route(const char *topic, route *r, bool must)
{
    rmq_cmd *req = request(GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    rmq_cmd *resp = namesrv_call(req);
    if (resp->code != RC_SUCCESS) {
        if (!must && resp->code == RC_TOPIC_NOT_EXIST) {
            cmd_free(resp);
            return false;
        }
        die_answer(resp);
    }
    memset(r, 0, sizeof *r);
    r->json = body_json(resp);
    cmd_free(resp);
    const cJSON *bds = cJSON_GetObjectItemCaseSensitive(r->json, "brokerDatas"), *it;
    r->brokers = xcalloc((size_t)cJSON_GetArraySize(bds) + 1, sizeof *r->brokers);
    cJSON_ArrayForEach(it, bds) parse_broker_data(it, &r->brokers[r->n_brokers++]);
    r->queues = cJSON_GetObjectItemCaseSensitive(r->json, "queueDatas");
    return true;
}

const cJSON *route_queue_data(const route *r, const char *broker_name)
{
    const cJSON *q;
    cJSON_ArrayForEach(q, r->queues)
        if (strcmp(str_field(q, "brokerName"), broker_name) == 0) return q;
    return NULL;
}

const broker_data *route_broker(const route *r, const char *broker_name)
{
    for (int i = 0; i < r->n_brokers; i++)
        if (strcmp(r->brokers[i].name, broker_name) == 0) return &r->brokers[i];
    return NULL;
}

void get_cluster_info(cluster_info *ci)
{
    rmq_cmd *resp = namesrv_call(request(GET_BROKER_CLUSTER_INFO));
    if (resp->code != RC_SUCCESS) die_answer(resp);
    ci->json = body_json(resp);
    cmd_free(resp);
    ci->clusters = cJSON_GetObjectItemCaseSensitive(ci->json, "clusterAddrTable");
    ci->brokers = cJSON_GetObjectItemCaseSensitive(ci->json, "brokerAddrTable");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The broker names of a cluster, sorted (TreeSet); NULL if there is no such cluster. */
const char **cluster_brokers(const cluster_info *ci, const char *cluster, int *n)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(ci->clusters, cluster), *it;
    *n = 0;
    if (!names) return NULL;
    const char **out = xcalloc((size_t)cJSON_GetArraySize(names) + 1, sizeof *out);
    cJSON_ArrayForEach(it, names)
        if (cJSON_IsString(it)) out[(*n)++] = it->valuestring;
    qsort(out, (size_t)*n, sizeof *out, cmp_str);
    return out;
}

/* CommandUtil.fetchMasterAddrByClusterName (with_slaves: fetchMasterAndSlaveAddrByClusterName). */
const char **cluster_addrs(const cluster_info *ci, const char *cluster, bool with_slaves, int *n)
{
    int nb;
    const char **names = cluster_brokers(ci, cluster, &nb);
    if (!names)
        die("Make sure the specified clusterName exists or the name server connected to is correct. cluster: %s",
            cluster);
    const char **out = xcalloc((size_t)nb * MAX_ADDRS + 1, sizeof *out);
    *n = 0;
    for (int i = 0; i < nb; i++) {
        broker_data bd;
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ci->brokers, names[i]);
        if (!o) continue;
        parse_broker_data(o, &bd);
        for (int k = 0; k < bd.n_addrs; k++)
            if (with_slaves || bd.ids[k] == MASTER_ID) out[(*n)++] = bd.addrs[k];
    }
    free(names);
    return out;
}

/* The brokers -b or -c name: one address, or the masters of a cluster. */
const char **target_brokers(cluster_info *ci, int *n)
{
    if (has('b')) {
        const char **one = xcalloc(2, sizeof *one);
        one[0] = val('b');
        *n = 1;
        ci->json = NULL;
        return one;
    }
    get_cluster_info(ci);
    return cluster_addrs(ci, val('c'), false, n);
}

/* ---- Java formatting ---- */

/* UtilAll.timeMillisToHumanString2: "yyyy-MM-dd HH:mm:ss,SSS", local time. */
void human_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* UtilAll.frontStringAtLeast: at most `len` characters. */
const char *front(const char *s, int len, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", len, s);
    return buf;
}

/* MQVersion.getVersionDesc: the Version enum's name of an ordinal. */
void version_desc(int64_t v, char *buf, size_t cap)
{
    static const char *const first[] = {
        "V3_0_0_SNAPSHOT", "V3_0_0_ALPHA1", "V3_0_0_BETA1", "V3_0_0_BETA2", "V3_0_0_BETA3", "V3_0_0_BETA4",
        "V3_0_0_BETA5", "V3_0_0_BETA6_SNAPSHOT", "V3_0_0_BETA6", "V3_0_0_BETA7_SNAPSHOT", "V3_0_0_BETA7",
        "V3_0_0_BETA8_SNAPSHOT", "V3_0_0_BETA8", "V3_0_0_BETA9_SNAPSHOT", "V3_0_0_BETA9", "V3_0_0_FINAL"};
    /* Then a SNAPSHOT and a release for each patch of each minor version. */
    static const struct { int major, minor, first_patch, last_patch; } runs[] = {
        {3, 0, 1, 15}, {3, 1, 0, 9}, {3, 2, 0, 9}, {3, 3, 1, 9}, {3, 4, 1, 9}, {3, 5, 1, 9}, {3, 6, 1, 9},
        {3, 7, 1, 9}, {3, 8, 1, 9}, {3, 9, 1, 9}, {4, 0, 0, 9}, {4, 1, 0, 9}, {4, 2, 0, 9}, {4, 3, 0, 9},
        {4, 4, 0, 9}, {4, 5, 0, 9}, {4, 6, 0, 9}, {4, 7, 0, 9}, {4, 8, 0, 9}, {4, 9, 0, 9}, {5, 0, 0, 9},
        {5, 1, 0, 9}, {5, 2, 0, 9}, {5, 3, 0, 9}, {5, 4, 0, 9}, {5, 5, 0, 9}, {5, 6, 0, 9}, {5, 7, 0, 9},
        {5, 8, 0, 9}, {5, 9, 0, 9}};
    if (v < 0) v = 0;
    if (v < 16) {
        snprintf(buf, cap, "%s", first[v]);
        return;
    }
    int64_t i = v - 16;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        int64_t span = 2 * (runs[r].last_patch - runs[r].first_patch + 1);
        if (i < span) {
            snprintf(buf, cap, "V%d_%d_%lld%s", runs[r].major, runs[r].minor, (long long)(runs[r].first_patch + i / 2),
                     i % 2 ? "" : "_SNAPSHOT");
            return;
        }
        i -= span;
    }
    snprintf(buf, cap, "HIGHER_VERSION");
}

/* java.util.HashMap iteration order of string keys: by bucket of the spread
 * hash (table of 16 doubling past 3/4 full), insertion order within a bucket. */
void java_hash_order(const char *const *keys, int n, int *order)
{
    uint32_t cap = 16;
    while ((double)n > cap * 0.75) cap *= 2;
    uint32_t *bucket = xcalloc((size_t)n + 1, sizeof *bucket);
    for (int i = 0; i < n; i++) {
        uint32_t h = (uint32_t)java_string_hash(keys[i], strlen(keys[i]));
        bucket[i] = (h ^ (h >> 16)) & (cap - 1);
        order[i] = i;
    }
    for (int i = 1; i < n; i++)   /* stable insertion sort */
        for (int k = i; k > 0 && bucket[order[k - 1]] > bucket[order[k]]; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    free(bucket);
}

/* ---- messages ---- */

/* The records of a pull/query body; *n messages, malloc'd. */
message *decode_messages(const uint8_t *body, size_t len, int *n)
{
    message *out = NULL;
    *n = 0;
    for (size_t off = 0; off < len;) {
        msg_record rec;
        const char *why;
        if (msg_record_decode(body + off, len - off, &rec, &why)) die("bad message in answer: %s", why);
        out = xrealloc(out, (size_t)(*n + 1) * sizeof *out);
        message *m = &out[(*n)++];
        memset(m, 0, sizeof *m);
        m->raw = xmalloc(rec.total_size);
        memcpy(m->raw, body + off, rec.total_size);
        msg_record_decode(m->raw, rec.total_size, &m->rec, &why);
        msg_props_init(&m->props);
        msg_props_parse(&m->props, m->rec.props, m->rec.props_len);
        msg_offset_id_create(m->offset_id, &m->rec.store_host, m->rec.phys_offset);
        off += rec.total_size;
    }
    return out;
}

void free_messages(message *m, int n)
{
    for (int i = 0; i < n; i++) {
        msg_props_free(&m[i].props);
        free(m[i].raw);
    }
    free(m);
}

/* MessageClientExt.getMsgId: the producer's UNIQ_KEY, else the offset msgId. */
const char *msg_id(const message *m)
{
    const char *u = msg_props_get(&m->props, "UNIQ_KEY");
    return u ? u : m->offset_id;
}

static const char *prop_or_null(const message *m, const char *key)
{
    const char *v = msg_props_get(&m->props, key);
    return v ? v : "null";
}

/* AbstractMap.toString of the properties HashMap: {K=V, K=V}. */
static void print_props(FILE *f, const msg_props *p)
{
    const char **keys = xcalloc((size_t)p->count + 1, sizeof *keys);
    int *order = xcalloc((size_t)p->count + 1, sizeof *order);
    for (int i = 0; i < p->count; i++) keys[i] = p->items[i].key;
    java_hash_order(keys, p->count, order);
    fputc('{', f);
    for (int i = 0; i < p->count; i++)
        fprintf(f, "%s%s=%s", i ? ", " : "", p->items[order[i]].key, p->items[order[i]].value);
    fputc('}', f);
    free(keys);
    free(order);
}

static void host_string(const msg_host *h, char *buf, size_t cap) { msg_host_format(h, buf, cap); }

/* QueryMsgByIdSubCommand.createBodyFile. */
static void body_file(const message *m, int index, char *path, size_t cap)
{
    mkdirs(BODY_DIR);
    if (index > 0) snprintf(path, cap, "%s/%s_%d", BODY_DIR, msg_id(m), index);
    else snprintf(path, cap, "%s/%s", BODY_DIR, msg_id(m));
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot write %s: %s", path, strerror(errno));
    fwrite(m->rec.body, 1, m->rec.body_len, f);
    fclose(f);
}

/* QueryMsgByIdSubCommand.printMsg / QueryMsgByUniqueKeySubCommand.showMessage. */
void print_message_detail(const message *m, int index, bool with_offset_id)
{
    char path[512], born[64], stored[64], bh[80], sh[80];
    body_file(m, index, path, sizeof path);
    human_time(m->rec.born_timestamp, born, sizeof born);
    human_time(m->rec.store_timestamp, stored, sizeof stored);
    host_string(&m->rec.born_host, bh, sizeof bh);
    host_string(&m->rec.store_host, sh, sizeof sh);
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", (int)m->rec.topic_len, m->rec.topic);
    if (with_offset_id) printf("%-20s %s\n", "OffsetID:", m->offset_id);
    printf("%-20s %s\n", "Topic:", topic);
    printf("%-20s [%s]\n", "Tags:", prop_or_null(m, "TAGS"));
    printf("%-20s [%s]\n", "Keys:", prop_or_null(m, "KEYS"));
    printf("%-20s %d\n", "Queue ID:", m->rec.queue_id);
    printf("%-20s %lld\n", "Queue Offset:", (long long)m->rec.queue_offset);
    printf("%-20s %lld\n", "CommitLog Offset:", (long long)m->rec.phys_offset);
    printf("%-20s %d\n", "Reconsume Times:", m->rec.reconsume_times);
    printf("%-20s %s\n", "Born Timestamp:", born);
    printf("%-20s %s\n", "Store Timestamp:", stored);
    printf("%-20s %s\n", "Born Host:", bh);
    printf("%-20s %s\n", "Store Host:", sh);
    printf("%-20s %d\n", "System Flag:", m->rec.sysflag);
    printf("%-20s ", "Properties:");
    print_props(stdout, &m->props);
    printf("\n%-20s %s\n", "Message Body Path:", path);
    print_track(m);
}

/* MessageExt.toString as printMsg / consumeMessage print it. */
void print_message_line(const message *m, bool print_body)
{
    char bh[80], sh[80];
    host_string(&m->rec.born_host, bh, sizeof bh);
    host_string(&m->rec.store_host, sh, sizeof sh);
    printf("MSGID: %s MessageExt [brokerName=%s, queueId=%d, storeSize=%u, queueOffset=%lld, sysFlag=%d, "
           "bornTimestamp=%lld, bornHost=/%s, storeTimestamp=%lld, storeHost=/%s, msgId=%s, commitLogOffset=%lld, "
           "bodyCRC=%d, reconsumeTimes=%d, preparedTransactionOffset=%lld, toString()=Message{topic='%.*s', "
           "flag=%d, properties=",
           msg_id(m), m->broker_name, m->rec.queue_id, m->rec.total_size, (long long)m->rec.queue_offset,
           m->rec.sysflag, (long long)m->rec.born_timestamp, bh, (long long)m->rec.store_timestamp, sh, m->offset_id,
           (long long)m->rec.phys_offset, m->rec.body_crc, m->rec.reconsume_times,
           (long long)m->rec.prepared_tx_offset, (int)m->rec.topic_len, m->rec.topic, m->rec.flag);
    print_props(stdout, &m->props);
    printf(", body=[");
    for (uint32_t i = 0; i < m->rec.body_len; i++) printf("%s%d", i ? ", " : "", (int8_t)m->rec.body[i]);
    printf("], transactionId='null'}] BODY: ");
    if (print_body) fwrite(m->rec.body, 1, m->rec.body_len, stdout);
    else printf("NOT PRINT BODY");
    printf("\n");
}

/* ---- pull (DefaultMQPullConsumer as the tools use it) ---- */

int64_t queue_offset_call(int code, const mq *q, int64_t timestamp)
{
    rmq_cmd *req = request(code);
    cmd_ext_set(req, "topic", q->topic);
    cmd_ext_set_int(req, "queueId", q->queue_id);
    if (code == SEARCH_OFFSET_BY_TIMESTAMP) cmd_ext_set_int(req, "timestamp", timestamp);
    rmq_cmd *resp = call_ok(q->addr, req, TIMEOUT_MS);
    int64_t off = 0;
    if (cmd_ext_int64(resp, "offset", &off) != EXT_OK) die("answer to code %d carries no offset", code);
    cmd_free(resp);
    return off;
}

void pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out)
{
    rmq_cmd *req = request(PULL_MESSAGE);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", q->topic);
    cmd_ext_set_int(req, "queueId", q->queue_id);
    cmd_ext_set_int(req, "queueOffset", offset);
    cmd_ext_set_int(req, "maxMsgNums", max);
    cmd_ext_set_int(req, "sysFlag", 4);   /* PullSysFlag.FLAG_SUBSCRIPTION: no suspend, no commit */
    cmd_ext_set_int(req, "commitOffset", 0);
    cmd_ext_set_int(req, "suspendTimeoutMillis", 0);
    cmd_ext_set(req, "subscription", sub);
    cmd_ext_set_int(req, "subVersion", 0);
    cmd_ext_set(req, "expressionType", "TAG");
    rmq_cmd *resp = call(q->addr, req, TIMEOUT_MS);
    memset(out, 0, sizeof *out);
    out->code = resp->code;
    if (resp->code != RC_SUCCESS && resp->code != RC_PULL_NOT_FOUND && resp->code != RC_PULL_RETRY_IMMEDIATELY &&
        resp->code != RC_PULL_OFFSET_MOVED)
        die_answer(resp);
    cmd_ext_int64(resp, "nextBeginOffset", &out->next_begin);
    if (resp->code == RC_SUCCESS) {
        int64_t min = 0, max_off = 0;
        cmd_ext_int64(resp, "minOffset", &min);
        cmd_ext_int64(resp, "maxOffset", &max_off);
        out->msgs = decode_messages(resp->body, resp->body_len, &out->n);
        char v[32];
        for (int i = 0; i < out->n; i++) {
            snprintf(out->msgs[i].broker_name, sizeof out->msgs[i].broker_name, "%s", q->broker_name);
            /* PullAPIWrapper.processPullResult adds these. */
            snprintf(v, sizeof v, "%lld", (long long)min);
            msg_props_set(&out->msgs[i].props, "MIN_OFFSET", v);
            snprintf(v, sizeof v, "%lld", (long long)max_off);
            msg_props_set(&out->msgs[i].props, "MAX_OFFSET", v);
        }
    }
    cmd_free(resp);
}

const char *pull_status(int code)
{
    switch (code) {
    case RC_SUCCESS: return "FOUND";
    case RC_PULL_NOT_FOUND: return "NO_NEW_MSG";
    case RC_PULL_RETRY_IMMEDIATELY: return "NO_MATCHED_MSG";
    default: return "OFFSET_ILLEGAL";
    }
}

void mq_string(const mq *q, char *buf, size_t cap)
{
    snprintf(buf, cap, "MessageQueue [topic=%s, brokerName=%s, queueId=%d]", q->topic, q->broker_name, q->queue_id);
}

static int cmp_mq(const void *a, const void *b)
{
    const mq *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (!c) c = strcmp(x->broker_name, y->broker_name);
    return c ? c : x->queue_id - y->queue_id;
}

/* fetchSubscribeMessageQueues: the readable queues of the topic's route. */
mq *subscribe_queues(const route *r, const char *topic, int *n)
{
    mq *out = NULL;
    *n = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, r->queues) {
        const broker_data *bd = route_broker(r, str_field(q, "brokerName"));
        const char *addr = bd ? select_addr(bd) : NULL;
        if (!addr || !(int_field(q, "perm") & 4)) continue;
        for (int64_t i = 0; i < int_field(q, "readQueueNums"); i++) {
            out = xrealloc(out, (size_t)(*n + 1) * sizeof *out);
            out[(*n)++] = (mq){topic, bd->name, addr, (int32_t)i};
        }
    }
    qsort(out, (size_t)*n, sizeof *out, cmp_mq);
    return out;
}

