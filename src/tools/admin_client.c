/*
 * admin_client.c: requests to the name servers and brokers, routes and
 * cluster tables, decoded messages and pulls as DefaultMQPullConsumer does
 * them. Every failure comes back as an adm_err (admin_client.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/admin_client.h"

static void set_err(adm_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(adm_err *e, int code, const char *fmt, ...)
{
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

/* ---- name servers and requests ---- */

char **namesrvs;
int n_namesrvs;

int adm_set_namesrvs(const char *list)
{
    for (int i = 0; i < n_namesrvs; i++) free(namesrvs[i]);
    free(namesrvs);
    namesrvs = NULL;
    n_namesrvs = 0;
    char *copy = xstrdup(list ? list : ""), *save = NULL;
    for (char *a = strtok_r(copy, "; \t", &save); a; a = strtok_r(NULL, "; \t", &save)) {
        namesrvs = xrealloc(namesrvs, (size_t)(n_namesrvs + 1) * sizeof *namesrvs);
        namesrvs[n_namesrvs++] = xstrdup(a);
    }
    free(copy);
    return n_namesrvs ? 0 : -1;
}

rmq_cmd *adm_request(int code)
{
    rmq_cmd *c = cmd_new_request(code);
    cmd_ext_declare(c);
    return c;
}

/* A request that got no answer: the remoting error, naming the server. */
void adm_transport_err(adm_err *e, const char *addr, const char *err)
{
    if (strncmp(err, "connect to ", 11) == 0) set_err(e, -1, "%s", err);
    else set_err(e, -1, "request to %s failed: %s", addr, err);
}

const char *remark_of(const rmq_cmd *r) { return r->remark ? r->remark : "null"; }

/* MQBrokerException's message, without Apache's FAQ link. */
void adm_answer_err(adm_err *e, const rmq_cmd *r)
{
    char remark[400];
    snprintf(remark, sizeof remark, "%s", remark_of(r));
    char *faq = strstr(remark, "\nSee http");
    if (faq) *faq = '\0';
    set_err(e, r->code, "CODE: %d  DESC: %s", r->code, remark);
}

void (*adm_request_hook)(rmq_cmd *req);

rmq_cmd *adm_call(const char *addr, rmq_cmd *req, int timeout, adm_err *e)
{
    char err[256];
    if (adm_request_hook) adm_request_hook(req);
    rmq_cmd *resp = rmq_invoke_sync(addr, req, timeout, err, sizeof err);
    cmd_free(req);
    if (!resp) adm_transport_err(e, addr, err);
    return resp;
}

rmq_cmd *adm_call_ok(const char *addr, rmq_cmd *req, int timeout, adm_err *e)
{
    rmq_cmd *r = adm_call(addr, req, timeout, e);
    if (r && r->code != RC_SUCCESS) {
        adm_answer_err(e, r);
        cmd_free(r);
        return NULL;
    }
    return r;
}

rmq_cmd *adm_namesrv_call(rmq_cmd *req, adm_err *e)
{
    char err[256] = "no name server address";
    if (adm_request_hook) adm_request_hook(req);
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *resp = rmq_invoke_sync(namesrvs[i], req, TIMEOUT_MS, err, sizeof err);
        if (resp) {
            cmd_free(req);
            return resp;
        }
    }
    cmd_free(req);
    adm_transport_err(e, n_namesrvs ? namesrvs[n_namesrvs - 1] : "null", err);
    return NULL;
}

cJSON *adm_body_json(const rmq_cmd *r, adm_err *e)
{
    const char *err = "empty body";
    cJSON *j = r->body_len ? fjson_parse((const char *)r->body, r->body_len, &err) : NULL;
    if (!j) set_err(e, -1, "bad answer body from code %d: %s", r->code, err);
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
    memset(r, 0, sizeof *r);
}

int adm_route(const char *topic, route *r, adm_err *e)
{
    memset(r, 0, sizeof *r);
    rmq_cmd *req = adm_request(GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    rmq_cmd *resp = adm_namesrv_call(req, e);
    if (!resp) return -1;
    if (resp->code != RC_SUCCESS) {
        adm_answer_err(e, resp);
        cmd_free(resp);
        return -1;
    }
    r->json = adm_body_json(resp, e);
    cmd_free(resp);
    if (!r->json) return -1;
    const cJSON *bds = cJSON_GetObjectItemCaseSensitive(r->json, "brokerDatas"), *it;
    r->brokers = xcalloc((size_t)cJSON_GetArraySize(bds) + 1, sizeof *r->brokers);
    cJSON_ArrayForEach(it, bds) parse_broker_data(it, &r->brokers[r->n_brokers++]);
    r->queues = cJSON_GetObjectItemCaseSensitive(r->json, "queueDatas");
    return 0;
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

int adm_cluster_info(cluster_info *ci, adm_err *e)
{
    memset(ci, 0, sizeof *ci);
    rmq_cmd *resp = adm_namesrv_call(adm_request(GET_BROKER_CLUSTER_INFO), e);
    if (!resp) return -1;
    if (resp->code != RC_SUCCESS) adm_answer_err(e, resp);
    else ci->json = adm_body_json(resp, e);
    cmd_free(resp);
    if (!ci->json) return -1;
    ci->clusters = cJSON_GetObjectItemCaseSensitive(ci->json, "clusterAddrTable");
    ci->brokers = cJSON_GetObjectItemCaseSensitive(ci->json, "brokerAddrTable");
    return 0;
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

/* java.util.HashMap iteration order of string keys: by bucket of the spread
 * hash (table of 16 doubling past 3/4 full), insertion order within a bucket. */
void java_hash_order(const char *const *keys, int n, int *order)
{
    int32_t *hashes = xcalloc((size_t)n + 1, sizeof *hashes);
    for (int i = 0; i < n; i++) hashes[i] = java_string_hash(keys[i], strlen(keys[i]));
    java_hash_order_codes(hashes, n, order);
    free(hashes);
}

void java_hash_order_codes(const int32_t *hashes, int n, int *order)
{
    uint32_t cap = 16;
    while ((double)n > cap * 0.75) cap *= 2;
    uint32_t *bucket = xcalloc((size_t)n + 1, sizeof *bucket);
    for (int i = 0; i < n; i++) {
        uint32_t h = (uint32_t)hashes[i];
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

/* ---- messages and queues ---- */

/* The records of a pull/query body, each in its own copy. */
int adm_decode_messages(const uint8_t *body, size_t len, message **out, int *n, adm_err *e)
{
    *out = NULL;
    *n = 0;
    for (size_t off = 0; off < len;) {
        msg_record rec;
        const char *why;
        if (msg_record_decode(body + off, len - off, &rec, &why)) {
            free_messages(*out, *n);
            *out = NULL;
            *n = 0;
            set_err(e, -1, "bad message in answer: %s", why);
            return -1;
        }
        *out = xrealloc(*out, (size_t)(*n + 1) * sizeof **out);
        message *m = &(*out)[(*n)++];
        memset(m, 0, sizeof *m);
        m->raw = xmalloc(rec.total_size);
        memcpy(m->raw, body + off, rec.total_size);
        msg_record_decode(m->raw, rec.total_size, &m->rec, &why);
        msg_props_init(&m->props);
        msg_props_parse(&m->props, m->rec.props, m->rec.props_len);
        msg_offset_id_create(m->offset_id, &m->rec.store_host, m->rec.phys_offset);
        off += rec.total_size;
    }
    return 0;
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

int adm_queue_offset(int code, const mq *q, int64_t timestamp, int64_t *out, adm_err *e)
{
    rmq_cmd *req = adm_request(code);
    cmd_ext_set(req, "topic", q->topic);
    cmd_ext_set_int(req, "queueId", q->queue_id);
    if (code == SEARCH_OFFSET_BY_TIMESTAMP) cmd_ext_set_int(req, "timestamp", timestamp);
    rmq_cmd *resp = adm_call_ok(q->addr, req, TIMEOUT_MS, e);
    if (!resp) return -1;
    *out = 0;
    int rc = cmd_ext_int64(resp, "offset", out) == EXT_OK ? 0 : -1;
    if (rc) set_err(e, -1, "answer to code %d carries no offset", code);
    cmd_free(resp);
    return rc;
}

int adm_pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out, adm_err *e)
{
    rmq_cmd *req = adm_request(PULL_MESSAGE);
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
    memset(out, 0, sizeof *out);
    rmq_cmd *resp = adm_call(q->addr, req, TIMEOUT_MS, e);
    if (!resp) return -1;
    out->code = resp->code;
    if (resp->code != RC_SUCCESS && resp->code != RC_PULL_NOT_FOUND && resp->code != RC_PULL_RETRY_IMMEDIATELY &&
        resp->code != RC_PULL_OFFSET_MOVED) {
        adm_answer_err(e, resp);
        cmd_free(resp);
        return -1;
    }
    cmd_ext_int64(resp, "nextBeginOffset", &out->next_begin);
    int rc = 0;
    if (resp->code == RC_SUCCESS) {
        int64_t min = 0, max_off = 0;
        cmd_ext_int64(resp, "minOffset", &min);
        cmd_ext_int64(resp, "maxOffset", &max_off);
        rc = adm_decode_messages(resp->body, resp->body_len, &out->msgs, &out->n, e);
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
    return rc;
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

int cmp_mq_entry(const void *a, const void *b)
{
    const mq_entry *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (!c) c = strcmp(x->broker_name, y->broker_name);
    return c ? c : x->queue_id - y->queue_id;
}

/* Appends the entries of an offsetTable-like object keyed by MessageQueue. */
void collect_mq_entries(const cJSON *table, mq_entry **out, int *n)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, table) {
        cJSON *key = fjson_parse_key(e, NULL);
        if (!key) continue;
        *out = xrealloc(*out, (size_t)(*n + 1) * sizeof **out);
        (*out)[(*n)++] = (mq_entry){xstrdup(str_field(key, "topic")), xstrdup(str_field(key, "brokerName")),
                                    (int32_t)int_field(key, "queueId"), e};
        cJSON_Delete(key);
    }
}

void free_mq_entries(mq_entry *e, int n)
{
    for (int i = 0; i < n; i++) {
        free(e[i].topic);
        free(e[i].broker_name);
    }
    free(e);
}

void free_bodies(cJSON **bodies, int n)
{
    for (int i = 0; i < n; i++) cJSON_Delete(bodies[i]);
    free(bodies);
}
