/*
 * mqadmin: Apache RocketMQ's administration tool (tools/.../MQAdminStartup,
 * 4.9.8) in C — the same sub-command names, option letters and output
 * layouts (printf formats copied from each *SubCommand), talking to the name
 * servers (-n or $NAMESRV_ADDR, ';'-separated) and brokers with blocking
 * requests.
 *
 *   mqadmin help | mqadmin help CMD | mqadmin CMD [options]
 *
 * Exit status: 0 on success, 1 with one line on stderr when the command
 * fails (unreachable server, unknown topic or group, an error answer), 2 for
 * a bad command line. Apache prints a stack trace and exits 0 instead.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fjson.h"
#include "common/message.h"
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT_MS 5000                 /* DefaultMQAdminExt timeoutMillis */
#define TIMEOUT_CONSUMER_MS 15000       /* calls relayed to a consumer: timeoutMillis * 3 */
#define MASTER_ID 0
#define TOOLS_CONSUMER_GROUP "TOOLS_CONSUMER"
#define DEFAULT_TOPIC "TBW102"
#define RETRY_PREFIX "%RETRY%"
#define DLQ_PREFIX "%DLQ%"
#define ORDER_TOPIC_CONFIG "ORDER_TOPIC_CONFIG"
#define BODY_DIR "/tmp/rocketmq/msgbodys"

enum {
    RC_SUCCESS = 0, RC_FLUSH_DISK_TIMEOUT = 10, RC_SLAVE_NOT_AVAILABLE = 11, RC_FLUSH_SLAVE_TIMEOUT = 12,
    RC_TOPIC_NOT_EXIST = 17, RC_PULL_NOT_FOUND = 19, RC_PULL_RETRY_IMMEDIATELY = 20, RC_PULL_OFFSET_MOVED = 21,
    RC_CONSUMER_NOT_ONLINE = 206,
};

enum {
    SEND_MESSAGE_V2 = 310, PULL_MESSAGE = 11, QUERY_MESSAGE = 12, UPDATE_CONSUMER_OFFSET = 15,
    UPDATE_AND_CREATE_TOPIC = 17, UPDATE_BROKER_CONFIG = 25, GET_BROKER_CONFIG = 26, GET_BROKER_RUNTIME_INFO = 28,
    SEARCH_OFFSET_BY_TIMESTAMP = 29, GET_MAX_OFFSET = 30, GET_MIN_OFFSET = 31, VIEW_MESSAGE_BY_ID = 33,
    PUT_KV_CONFIG = 100, DELETE_KV_CONFIG = 102, GET_ROUTEINFO_BY_TOPIC = 105, GET_BROKER_CLUSTER_INFO = 106,
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200, GET_TOPIC_STATS_INFO = 202, GET_CONSUMER_CONNECTION_LIST = 203,
    GET_PRODUCER_CONNECTION_LIST = 204, WIPE_WRITE_PERM_OF_BROKER = 205, GET_ALL_TOPIC_LIST_FROM_NAMESERVER = 206,
    DELETE_SUBSCRIPTIONGROUP = 207, GET_CONSUME_STATS = 208, DELETE_TOPIC_IN_BROKER = 215,
    DELETE_TOPIC_IN_NAMESRV = 216, INVOKE_BROKER_TO_RESET_OFFSET = 222, QUERY_TOPIC_CONSUME_BY_WHO = 300,
    CLEAN_EXPIRED_CONSUMEQUEUE = 306, GET_CONSUMER_RUNNING_INFO = 307, CONSUME_MESSAGE_DIRECTLY = 309,
    UPDATE_NAMESRV_CONFIG = 318, GET_NAMESRV_CONFIG = 319,
};

/* ---- failing ---- */

static const char *current_command = "mqadmin";

/* The command failed: one line on stderr, exit 1 (like git's die()). */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fflush(stdout);
    fprintf(stderr, "mqadmin: %s command failed: %s\n", current_command, buf);
    exit(1);
}

/* The command line is wrong: one line on stderr, exit 2. */
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mqadmin: %s (see 'mqadmin help %s')\n", buf, current_command);
    exit(2);
}

/* ---- command line (commons-cli as MQAdminStartup uses it) ---- */

typedef struct opt_spec {
    char letter;
    const char *name;
    bool has_arg;
    bool required;
    const char *desc;
} opt_spec;

typedef struct command {
    const char *name, *desc;
    const opt_spec *opts;
    void (*run)(void);
    const char *one_of;   /* an OptionGroup: one of these letters is required */
} command;

static const opt_spec common_opts[] = {
    {'h', "help", false, false, "Print help"},
    {'n', "namesrvAddr", true, false, "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'"},
    {0, NULL, false, false, NULL},
};

static const char *opt_val[128];
static bool opt_set[128];

static bool has(char c) { return opt_set[(unsigned char)c]; }
static const char *val(char c) { return opt_set[(unsigned char)c] ? opt_val[(unsigned char)c] : NULL; }

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static const opt_spec *find_opt(const command *c, char letter, const char *name)
{
    for (int pass = 0; pass < 2; pass++) {
        for (const opt_spec *o = pass ? common_opts : c->opts; o->letter; o++)
            if (name ? strcmp(o->name, name) == 0 : o->letter == letter) return o;
    }
    return NULL;
}

static void parse_options(const command *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *inline_val = NULL;
        const opt_spec *o;
        if (a[0] != '-' || !a[1]) usage_error("Unrecognized argument: %s", a);
        if (a[1] == '-') {
            char name[64];
            const char *eq = strchr(a + 2, '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - a - 2 : (long)strlen(a + 2)), a + 2);
            if (eq) inline_val = eq + 1;
            o = find_opt(c, 0, name);
        } else {
            o = find_opt(c, a[1], NULL);
            if (a[2]) inline_val = a + 2;
        }
        if (!o || (inline_val && !o->has_arg)) usage_error("Unrecognized option: %s", a);
        const char *v = "";
        if (o->has_arg) {
            if (inline_val) v = inline_val;
            else if (i + 1 < argc) v = argv[++i];
            else usage_error("Missing argument for option: %c", o->letter);
        }
        opt_set[(unsigned char)o->letter] = true;
        opt_val[(unsigned char)o->letter] = trim(xstrdup(v));   /* lives until exit */
    }
    char missing[128] = "";
    int n_missing = 0;
    for (const opt_spec *o = c->opts; o->letter; o++) {
        if (o->required && !has(o->letter)) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%c", n_missing++ ? ", " : "", o->letter);
        }
    }
    if (n_missing) usage_error("Missing required option%s: %s", n_missing > 1 ? "s" : "", missing);
    if (c->one_of) {
        bool any = false;
        for (const char *l = c->one_of; *l; l++) any |= has(*l);
        if (!any) usage_error("one of the options -%c or -%c is required", c->one_of[0], c->one_of[1]);
    }
}

/* ---- values from the command line ---- */

static int64_t long_opt(char c, int64_t dflt)
{
    const char *v = val(c);
    int64_t n;
    if (!v) return dflt;
    if (parse_int64(v, &n)) usage_error("option -%c: For input string: \"%s\"", c, v);
    return n;
}

static bool bool_opt(char c, bool dflt)
{
    return val(c) ? parse_java_bool(val(c)) : dflt;
}

/*
 * A time as the tools take it: "now" (-1 when allowed), milliseconds, or
 * UtilAll.YYYY_MM_DD_HH_MM_SS_SSS "yyyy-MM-dd#HH:mm:ss:SSS" in local time.
 */
static int64_t timestamp_opt(char c)
{
    const char *v = val(c);
    int64_t n;
    if (parse_int64(v, &n) == RMQ_OK) return n;
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(v, "%d-%d-%d#%d:%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &ms) != 7)
        usage_error("option -%c: bad timestamp '%s' (currentTimeMillis or yyyy-MM-dd#HH:mm:ss:SSS)", c, v);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + ms;
}

/* ---- name servers and requests ---- */

static char **namesrvs;
static int n_namesrvs;

static void load_namesrvs(void)
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

static rmq_cmd *request(int code)
{
    rmq_cmd *c = cmd_new_request(code);
    cmd_ext_declare(c);
    return c;
}

/* One request over a fresh connection; takes req. NULL + err on a transport failure. */
static rmq_cmd *call_try(const char *addr, rmq_cmd *req, int timeout, char *err, size_t errlen)
{
    rmq_cmd *resp = rmq_invoke_sync(addr, req, timeout, err, errlen);
    cmd_free(req);
    return resp;
}

/* A request that got no answer: the remoting error, naming the server. */
static void die_transport(const char *addr, const char *err) __attribute__((noreturn));
static void die_transport(const char *addr, const char *err)
{
    if (strncmp(err, "connect to ", 11) == 0) die("%s", err);
    die("request to %s failed: %s", addr, err);
}

static rmq_cmd *call(const char *addr, rmq_cmd *req, int timeout)
{
    char err[256];
    rmq_cmd *resp = call_try(addr, req, timeout, err, sizeof err);
    if (!resp) die_transport(addr, err);
    return resp;
}

static const char *remark_of(const rmq_cmd *r) { return r->remark ? r->remark : "null"; }

/* MQBrokerException's message. */
static void die_answer(const rmq_cmd *r) __attribute__((noreturn));
static void die_answer(const rmq_cmd *r)
{
    char remark[1024];
    snprintf(remark, sizeof remark, "%s", remark_of(r));
    char *faq = strstr(remark, "\nSee http");
    if (faq) *faq = '\0';
    die("CODE: %d  DESC: %s", r->code, remark);
}

/* A request that must succeed. */
static rmq_cmd *call_ok(const char *addr, rmq_cmd *req, int timeout)
{
    rmq_cmd *r = call(addr, req, timeout);
    if (r->code != RC_SUCCESS) die_answer(r);
    return r;
}

/* To the first name server that answers (RemotingClient's choice); takes req. */
static rmq_cmd *namesrv_call(rmq_cmd *req)
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

static cJSON *body_json(const rmq_cmd *r)
{
    const char *err = "empty body";
    cJSON *j = r->body_len ? fjson_parse((const char *)r->body, r->body_len, &err) : NULL;
    if (!j) die("bad answer body from code %d: %s", r->code, err);
    return j;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const char *s = NULL;
    return fjson_field_string(o, name, &s) == FJSON_OK ? s : "";
}

static int64_t int_field(const cJSON *o, const char *name)
{
    int64_t v = 0;
    fjson_field_int64(o, name, &v);
    return v;
}

static double double_field(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return it && cJSON_IsNumber(it) ? it->valuedouble : 0.0;
}

static bool bool_field(const cJSON *o, const char *name)
{
    bool b = false;
    fjson_field_bool(o, name, &b);
    return b;
}

/* ---- routes and clusters ---- */

#define MAX_ADDRS 16

typedef struct broker_data {
    const char *name, *cluster;
    int n_addrs;
    int64_t ids[MAX_ADDRS];
    const char *addrs[MAX_ADDRS];
} broker_data;

static void parse_broker_data(const cJSON *o, broker_data *bd)
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
static const char *select_addr(const broker_data *bd)
{
    for (int i = 0; i < bd->n_addrs; i++)
        if (bd->ids[i] == MASTER_ID) return bd->addrs[i];
    return bd->n_addrs ? bd->addrs[0] : NULL;
}

typedef struct route {
    cJSON *json;
    broker_data *brokers;
    int n_brokers;
    const cJSON *queues;   /* queueDatas */
} route;

static void route_free(route *r)
{
    free(r->brokers);
    cJSON_Delete(r->json);
}

/* GET_ROUTEINFO_BY_TOPIC; false (when allowed) or death if the topic has none. */
static bool get_route(const char *topic, route *r, bool must)
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

static const cJSON *route_queue_data(const route *r, const char *broker_name)
{
    const cJSON *q;
    cJSON_ArrayForEach(q, r->queues)
        if (strcmp(str_field(q, "brokerName"), broker_name) == 0) return q;
    return NULL;
}

static const broker_data *route_broker(const route *r, const char *broker_name)
{
    for (int i = 0; i < r->n_brokers; i++)
        if (strcmp(r->brokers[i].name, broker_name) == 0) return &r->brokers[i];
    return NULL;
}

typedef struct cluster_info {
    cJSON *json;
    const cJSON *clusters;   /* clusterAddrTable: name -> [brokerName] */
    const cJSON *brokers;    /* brokerAddrTable: brokerName -> BrokerData */
} cluster_info;

static void get_cluster_info(cluster_info *ci)
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
static const char **cluster_brokers(const cluster_info *ci, const char *cluster, int *n)
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
static const char **cluster_addrs(const cluster_info *ci, const char *cluster, bool with_slaves, int *n)
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
static const char **target_brokers(cluster_info *ci, int *n)
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
static void human_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* UtilAll.frontStringAtLeast: at most `len` characters. */
static const char *front(const char *s, int len, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", len, s);
    return buf;
}

/* MQVersion.getVersionDesc: the Version enum's name of an ordinal. */
static void version_desc(int64_t v, char *buf, size_t cap)
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
static void java_hash_order(const char *const *keys, int n, int *order)
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

/* One decoded record; `rec` points into `raw`, its own copy. */
typedef struct message {
    uint8_t *raw;
    msg_record rec;
    msg_props props;
    char offset_id[MSG_ID_MAX_LEN + 1];
    char broker_name[128];
} message;

/* The records of a pull/query body; *n messages, malloc'd. */
static message *decode_messages(const uint8_t *body, size_t len, int *n)
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

static void free_messages(message *m, int n)
{
    for (int i = 0; i < n; i++) {
        msg_props_free(&m[i].props);
        free(m[i].raw);
    }
    free(m);
}

/* MessageClientExt.getMsgId: the producer's UNIQ_KEY, else the offset msgId. */
static const char *msg_id(const message *m)
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

static void print_track(const message *m);

/* QueryMsgByIdSubCommand.printMsg / QueryMsgByUniqueKeySubCommand.showMessage. */
static void print_message_detail(const message *m, int index, bool with_offset_id)
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
static void print_message_line(const message *m, bool print_body)
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

typedef struct mq {
    const char *topic, *broker_name, *addr;
    int32_t queue_id;
} mq;

static int64_t queue_offset_call(int code, const mq *q, int64_t timestamp)
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

typedef struct pull_result {
    int code;
    int64_t next_begin;
    message *msgs;
    int n;
} pull_result;

static void pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out)
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

static const char *pull_status(int code)
{
    switch (code) {
    case RC_SUCCESS: return "FOUND";
    case RC_PULL_NOT_FOUND: return "NO_NEW_MSG";
    case RC_PULL_RETRY_IMMEDIATELY: return "NO_MATCHED_MSG";
    default: return "OFFSET_ILLEGAL";
    }
}

static void mq_string(const mq *q, char *buf, size_t cap)
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
static mq *subscribe_queues(const route *r, const char *topic, int *n)
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

/* ---- topic commands ---- */

static const char *perm_string(int64_t perm, char *buf)
{
    strcpy(buf, "---");
    if (perm & 4) buf[0] = 'R';
    if (perm & 2) buf[1] = 'W';
    if (perm & 1) buf[2] = 'X';
    return buf;
}

static void put_kv_config(const char *ns, const char *key, const char *value)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = request(PUT_KV_CONFIG);
        cmd_ext_set(req, "namespace", ns);
        cmd_ext_set(req, "key", key);
        cmd_ext_set(req, "value", value);
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
}

static void cmd_update_topic(void)
{
    const char *topic = val('t');
    int64_t rq = long_opt('r', 8), wq = long_opt('w', 8), perm = long_opt('p', 6);
    bool unit = bool_opt('u', false), unit_sub = bool_opt('s', false), order = bool_opt('o', false);
    int sysflag = (unit ? 1 : 0) | (unit_sub ? 2 : 0);   /* TopicSysFlag.buildSysFlag */
    cluster_info ci = {0};
    int n;
    const char **addrs = target_brokers(&ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = request(UPDATE_AND_CREATE_TOPIC);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "defaultTopic", DEFAULT_TOPIC);
        cmd_ext_set_int(req, "readQueueNums", rq);
        cmd_ext_set_int(req, "writeQueueNums", wq);
        cmd_ext_set_int(req, "perm", perm);
        cmd_ext_set(req, "topicFilterType", "SINGLE_TAG");
        cmd_ext_set_int(req, "topicSysFlag", sysflag);
        cmd_ext_set_bool(req, "order", order);
        cmd_free(call_ok(addrs[i], req, TIMEOUT_MS));
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
static void delete_topic(const char *cluster, const char *topic)
{
    cluster_info ci;
    get_cluster_info(&ci);
    int n;
    const char **addrs = cluster_addrs(&ci, cluster, false, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = request(DELETE_TOPIC_IN_BROKER);
        cmd_ext_set(req, "topic", topic);
        cmd_free(call_ok(addrs[i], req, TIMEOUT_MS));
    }
    printf("delete topic [%s] from cluster [%s] success.\n", topic, cluster);
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = request(DELETE_TOPIC_IN_NAMESRV);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "clusterName", cluster);
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
    printf("delete topic [%s] from NameServer success.\n", topic);
    free(addrs);
    cJSON_Delete(ci.json);
}

static void cmd_delete_topic(void) { delete_topic(val('c'), val('t')); }

static cJSON *topic_list(void)
{
    rmq_cmd *resp = namesrv_call(request(GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    if (resp->code != RC_SUCCESS) die_answer(resp);
    cJSON *j = body_json(resp);
    cmd_free(resp);
    return j;
}

/* GroupList of QUERY_TOPIC_CONSUME_BY_WHO from the topic's first broker; NULL if none. */
static cJSON *consume_by_who(const route *r, const char *topic)
{
    const char *addr = r->n_brokers ? select_addr(&r->brokers[0]) : NULL;
    if (!addr) return NULL;
    rmq_cmd *req = request(QUERY_TOPIC_CONSUME_BY_WHO);
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

static void cmd_topic_list(void)
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

static void cmd_topic_route(void)
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

/* A MessageQueue map key ({"brokerName":..,"queueId":..,"topic":..}) of a parsed body. */
typedef struct mq_entry {
    char *topic, *broker_name;
    int32_t queue_id;
    const cJSON *value;
} mq_entry;

static int cmp_mq_entry(const void *a, const void *b)
{
    const mq_entry *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (!c) c = strcmp(x->broker_name, y->broker_name);
    return c ? c : x->queue_id - y->queue_id;
}

/* Appends the entries of an offsetTable-like object keyed by MessageQueue. */
static void collect_mq_entries(const cJSON *table, mq_entry **out, int *n)
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

static void free_mq_entries(mq_entry *e, int n)
{
    for (int i = 0; i < n; i++) {
        free(e[i].topic);
        free(e[i].broker_name);
    }
    free(e);
}

static void cmd_topic_status(void)
{
    const char *topic = val('t');
    route r;
    get_route(topic, &r, true);
    cJSON **bodies = xcalloc((size_t)r.n_brokers + 1, sizeof *bodies);
    mq_entry *entries = NULL;
    int n = 0;
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = request(GET_TOPIC_STATS_INFO);
        cmd_ext_set(req, "topic", topic);
        rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
        bodies[i] = body_json(resp);
        cmd_free(resp);
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(bodies[i], "offsetTable"), &entries, &n);
    }
    if (!n) die("Not found the topic stats info");
    qsort(entries, (size_t)n, sizeof *entries, cmp_mq_entry);
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
    for (int i = 0; i < r.n_brokers; i++) cJSON_Delete(bodies[i]);
    free(bodies);
    route_free(&r);
}

static void cmd_topic_cluster_list(void)
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

static void cmd_cluster_list(void)
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

static void cmd_broker_status(void)
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
static void print_properties(const uint8_t *body, size_t len)
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

static void cmd_get_broker_config(void)
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

static rmq_cmd *properties_request(int code, const char *key, const char *value)
{
    rmq_cmd *req = request(code);
    char *body = str_printf("%s=%s\n", key, value);
    cmd_take_body(req, body, strlen(body));
    return req;
}

static void cmd_update_broker_config(void)
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

static void cmd_clean_expired_cq(void)
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
        rmq_cmd *resp = call(addrs[i], request(CLEAN_EXPIRED_CONSUMEQUEUE), TIMEOUT_MS);
        result = resp->code == RC_SUCCESS;
        cmd_free(resp);
    }
    printf(result ? "success" : "false");
    free(addrs);
    cJSON_Delete(ci.json);
    if (!result) die("clean expired ConsumeQueue failed");
}

/* ---- name-server commands ---- */

static void cmd_update_kv_config(void)
{
    put_kv_config(val('s'), val('k'), val('v'));
    printf("create or update kv config to namespace success.\n");
}

static void cmd_delete_kv_config(void)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = request(DELETE_KV_CONFIG);
        cmd_ext_set(req, "namespace", val('s'));
        cmd_ext_set(req, "key", val('k'));
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
    printf("delete kv config from namespace success.\n");
}

static void cmd_get_namesrv_config(void)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *resp = call_ok(namesrvs[i], request(GET_NAMESRV_CONFIG), TIMEOUT_MS);
        printf("============%s============\n", namesrvs[i]);
        print_properties(resp->body, resp->body_len);
        cmd_free(resp);
    }
}

static void cmd_update_namesrv_config(void)
{
    for (int i = 0; i < n_namesrvs; i++)
        cmd_free(call_ok(namesrvs[i], properties_request(UPDATE_NAMESRV_CONFIG, val('k'), val('v')), TIMEOUT_MS));
    /* Java prints the List given with -n: "[a, b]". */
    printf("update name server config success!");
    if (has('n')) {
        printf("[");
        for (int i = 0; i < n_namesrvs; i++) printf("%s%s", i ? ", " : "", namesrvs[i]);
        printf("]");
    }
    printf("\n%s : %s\n", val('k'), val('v'));
}

static void cmd_wipe_write_perm(void)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = request(WIPE_WRITE_PERM_OF_BROKER);
        cmd_ext_set(req, "brokerName", val('b'));
        char err[256];
        rmq_cmd *resp = call_try(namesrvs[i], req, TIMEOUT_MS, err, sizeof err);
        int64_t count = 0;
        if (resp && resp->code == RC_SUCCESS && cmd_ext_int64(resp, "wipeTopicCount", &count) == EXT_OK) {
            printf("wipe write perm of broker[%s] in name server[%s] OK, %lld\n", val('b'), namesrvs[i], (long long)count);
        } else {
            printf("wipe write perm of broker[%s] in name server[%s] Failed\n", val('b'), namesrvs[i]);
            if (resp) die_answer(resp);
            die_transport(namesrvs[i], err);
        }
        cmd_free(resp);
    }
}

/* ---- subscription groups ---- */

static void cmd_update_sub_group(void)
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
    size_t len;
    char *body = fjson_writer_finish(&w, &len);
    cluster_info ci = {0};
    int n;
    const char **addrs = target_brokers(&ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = request(UPDATE_AND_CREATE_SUBSCRIPTIONGROUP);
        cmd_set_body(req, body, len);
        cmd_free(call_ok(addrs[i], req, TIMEOUT_MS));
        printf("create subscription group to %s success.\n", addrs[i]);
    }
    printf("SubscriptionGroupConfig [groupName=%s, consumeEnable=%s, consumeFromMinEnable=%s, consumeBroadcastEnable=%s, "
           "retryQueueNums=%lld, retryMaxTimes=%lld, brokerId=%lld, whichBrokerWhenConsumeSlowly=%lld, "
           "notifyConsumerIdsChangedEnable=%s]",
           group, consume_enable ? "true" : "false", from_min ? "true" : "false", broadcast ? "true" : "false",
           (long long)retry_queues, (long long)retry_max, (long long)broker_id, (long long)slowly,
           notify ? "true" : "false");
    free(body);
    free(addrs);
    cJSON_Delete(ci.json);
}

static void delete_sub_group_at(const char *addr, const char *group, bool remove_offset)
{
    rmq_cmd *req = request(DELETE_SUBSCRIPTIONGROUP);
    cmd_ext_set(req, "groupName", group);
    cmd_ext_set_bool(req, "removeOffset", remove_offset);
    cmd_free(call_ok(addr, req, TIMEOUT_MS));
}

static void cmd_delete_sub_group(void)
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

/* examineConsumeStats: GET_CONSUME_STATS from every broker of the group's retry topic. */
static cJSON **consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, bool must)
{
    char *topic = retry_topic(group);
    route r;
    bool routed = get_route(topic, &r, must);
    free(topic);
    *n = 0;
    *entries = NULL;
    *tps = 0;
    *n_bodies = 0;
    if (!routed) return NULL;
    cJSON **bodies = xcalloc((size_t)r.n_brokers + 1, sizeof *bodies);
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = request(GET_CONSUME_STATS);
        cmd_ext_set(req, "consumerGroup", group);
        rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS * 3);
        cJSON *b = bodies[(*n_bodies)++] = body_json(resp);
        cmd_free(resp);
        *tps += double_field(b, "consumeTps");
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(b, "offsetTable"), entries, n);
    }
    route_free(&r);
    if (!*n && must)
        die("Not found the consumer group consume stats, because return offset table is empty, maybe the consumer "
            "not consume any message");
    return bodies;
}

static void free_bodies(cJSON **bodies, int n)
{
    for (int i = 0; i < n; i++) cJSON_Delete(bodies[i]);
    free(bodies);
}

/* examineConsumerConnectionInfo: NULL (and *code) when the group is not online. */
static cJSON *consumer_connection(const char *group, const char *broker_addr, int *code, bool must)
{
    const char *addr = broker_addr;
    route r = {0};
    if (!addr) {
        char *topic = retry_topic(group);
        bool routed = get_route(topic, &r, must);
        free(topic);
        if (!routed || !r.n_brokers) {
            *code = RC_CONSUMER_NOT_ONLINE;
            if (routed) route_free(&r);
            if (must) die("Not found the consumer group connection");
            return NULL;
        }
        addr = select_addr(&r.brokers[rand() % r.n_brokers]);
    }
    rmq_cmd *req = request(GET_CONSUMER_CONNECTION_LIST);
    cmd_ext_set(req, "consumerGroup", group);
    rmq_cmd *resp = call(addr, req, TIMEOUT_MS);
    if (r.json) route_free(&r);
    *code = resp->code;
    if (resp->code != RC_SUCCESS) {
        if (must) die_answer(resp);
        cmd_free(resp);
        return NULL;
    }
    cJSON *cc = body_json(resp);
    cmd_free(resp);
    if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cc, "connectionSet"))) {
        *code = RC_CONSUMER_NOT_ONLINE;
        cJSON_Delete(cc);
        if (must) die("Not found the consumer group connection");
        return NULL;
    }
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
    rmq_cmd *req = request(GET_CONSUMER_RUNNING_INFO);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "clientId", client_id);
    cmd_ext_set_bool(req, "jstackEnable", jstack);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_CONSUMER_MS);
    cJSON *info = body_json(resp);
    cmd_free(resp);
    route_free(&r);
    return info;
}

static void cmd_consumer_progress(void)
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

static void cmd_consumer_connection(void)
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

static void cmd_producer_connection(void)
{
    route r;
    get_route(val('t'), &r, true);
    if (!r.n_brokers) die("the route of topic %s holds no broker", val('t'));
    const char *addr = select_addr(&r.brokers[rand() % r.n_brokers]);
    rmq_cmd *req = request(GET_PRODUCER_CONNECTION_LIST);
    cmd_ext_set(req, "producerGroup", val('g'));
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
    cJSON *pc = body_json(resp);
    cmd_free(resp);
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
    route_free(&r);
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

static void cmd_consumer_status(void)
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

/*
 * ResetOffsetByTimeOldCommand: with no consumer online the tool itself commits,
 * per queue, the offset found for the timestamp (UPDATE_CONSUMER_OFFSET).
 */
static void reset_offset_old(const char *group, const char *topic, int64_t timestamp, bool force, const char *ts_str)
{
    route r;
    get_route(topic, &r, true);
    printf("rollback consumer offset by specified consumerGroup[%s], topic[%s], force[%s], timestamp(string)[%s], "
           "timestamp(long)[%lld]\n",
           group, topic, force ? "true" : "false", ts_str, (long long)timestamp);
    printf("%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n", "#brokerName", "#queueId", "#brokerOffset", "#consumerOffset",
           "#timestampOffset", "#rollbackOffset");
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        const cJSON *qd = route_queue_data(&r, r.brokers[i].name);
        if (!addr || !qd) continue;
        rmq_cmd *req = request(GET_CONSUME_STATS);
        cmd_ext_set(req, "consumerGroup", group);
        rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
        cJSON *stats = body_json(resp);
        cmd_free(resp);
        mq_entry *entries = NULL;
        int n = 0;
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(stats, "offsetTable"), &entries, &n);
        int64_t queues = int_field(qd, "readQueueNums");
        for (int64_t q = 0; q < queues; q++) {
            mq m = {topic, r.brokers[i].name, addr, (int32_t)q};
            int64_t broker_off = queue_offset_call(GET_MAX_OFFSET, &m, 0), consumer_off = 0;
            bool consumed = false;
            for (int k = 0; k < n; k++) {
                if (strcmp(entries[k].topic, topic) || entries[k].queue_id != q) continue;
                consumed = true;
                broker_off = int_field(entries[k].value, "brokerOffset");
                consumer_off = int_field(entries[k].value, "consumerOffset");
            }
            if (!consumed) consumer_off = queue_offset_call(GET_MIN_OFFSET, &m, 0);
            int64_t reset = timestamp == -1 ? queue_offset_call(GET_MAX_OFFSET, &m, 0)
                                            : queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &m, timestamp);
            int64_t rollback = consumer_off;
            if (force || reset <= consumer_off) {
                rollback = reset;
                rmq_cmd *u = request(UPDATE_CONSUMER_OFFSET);
                cmd_ext_set(u, "consumerGroup", group);
                cmd_ext_set(u, "topic", topic);
                cmd_ext_set_int(u, "queueId", q);
                cmd_ext_set_int(u, "commitOffset", reset);
                cmd_free(call_ok(addr, u, TIMEOUT_MS));
            }
            char bn[40];
            printf("%-20s  %-20lld  %-20lld  %-20lld  %-20lld  %-20lld\n", front(r.brokers[i].name, 32, bn, sizeof bn),
                   (long long)q, (long long)broker_off, (long long)consumer_off, (long long)reset, (long long)rollback);
        }
        free_mq_entries(entries, n);
        cJSON_Delete(stats);
    }
    route_free(&r);
}

static void cmd_reset_offset_by_time(void)
{
    const char *group = val('g'), *topic = val('t'), *ts_str = val('s');
    int64_t timestamp = strcmp(ts_str, "now") == 0 ? -1 : timestamp_opt('s');
    bool force = bool_opt('f', true), for_cpp = has('c');
    route r;
    get_route(topic, &r, true);
    mq_entry *entries = NULL;
    int n = 0;
    cJSON **bodies = xcalloc((size_t)r.n_brokers + 1, sizeof *bodies);
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = request(INVOKE_BROKER_TO_RESET_OFFSET);
        if (for_cpp) req->language = 1;   /* the broker answers C++ clients' body shape */
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "group", group);
        cmd_ext_set_int(req, "timestamp", timestamp);
        cmd_ext_set_bool(req, "isForce", force);
        rmq_cmd *resp = call(addr, req, TIMEOUT_MS);
        if (resp->code == RC_CONSUMER_NOT_ONLINE) {
            cmd_free(resp);
            free_bodies(bodies, r.n_brokers);
            free_mq_entries(entries, n);
            route_free(&r);
            reset_offset_old(group, topic, timestamp, force, ts_str);
            return;
        }
        if (resp->code != RC_SUCCESS) die_answer(resp);
        bodies[i] = body_json(resp);
        cmd_free(resp);
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(bodies[i], "offsetTable"), &entries, &n);
    }
    printf("rollback consumer offset by specified group[%s], topic[%s], force[%s], timestamp(string)[%s], "
           "timestamp(long)[%lld]\n",
           group, topic, force ? "true" : "false", ts_str, (long long)timestamp);
    printf("%-40s  %-40s  %-40s\n", "#brokerName", "#queueId", "#offset");
    for (int i = 0; i < n; i++) {
        int64_t off = 0;
        fjson_get_int64(entries[i].value, &off);
        char bn[40];
        printf("%-40s  %-40d  %-40lld\n", front(entries[i].broker_name, 32, bn, sizeof bn), entries[i].queue_id,
               (long long)off);
    }
    free_mq_entries(entries, n);
    free_bodies(bodies, r.n_brokers);
    route_free(&r);
}

/* ---- messages ---- */

static void print_track(const message *m)
{
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", (int)m->rec.topic_len, m->rec.topic);
    route r;
    cJSON *groups = NULL;
    if (get_route(topic, &r, false)) {
        groups = consume_by_who(&r, topic);
        route_free(&r);
    }
    const cJSON *g, *gl = groups ? cJSON_GetObjectItemCaseSensitive(groups, "groupList") : NULL;
    if (!cJSON_GetArraySize(gl)) {
        printf("\n\nWARN: No Consumer");
    } else {
        printf("\n\n");
        /* MessageAdminImpl.messageTrackDetail */
        cJSON_ArrayForEach(g, gl) {
            int code;
            cJSON *cc = consumer_connection(g->valuestring, NULL, &code, false);
            const char *track = "UNKNOWN";
            char desc[128] = "null";
            if (!cc) {
                track = "NOT_ONLINE";
                snprintf(desc, sizeof desc, "CODE:%d DESC:the consumer group[%s] not online", code, g->valuestring);
            } else if (strcmp(str_field(cc, "consumeType"), "CONSUME_ACTIVELY") == 0) {
                track = "PULL";
            } else {
                int n, n_bodies;
                mq_entry *entries;
                double tps;
                cJSON **bodies = consume_stats(g->valuestring, &n_bodies, &entries, &n, &tps, false);
                track = "NOT_CONSUME_YET";
                for (int i = 0; i < n; i++)
                    if (strcmp(entries[i].topic, topic) == 0 && entries[i].queue_id == m->rec.queue_id &&
                        int_field(entries[i].value, "consumerOffset") > m->rec.queue_offset)
                        track = "CONSUMED";
                free_mq_entries(entries, n);
                free_bodies(bodies, n_bodies);
            }
            printf("MessageTrack [consumerGroup=%s, trackType=%s, exceptionDesc=%s]", g->valuestring, track, desc);
            cJSON_Delete(cc);
        }
    }
    printf("\n");
    cJSON_Delete(groups);
}

/* VIEW_MESSAGE_BY_ID at the store host written in the offset msgId. */
static message *view_message(const char *id, int *n)
{
    msg_host host;
    int64_t offset;
    if (msg_offset_id_decode(id, &host, &offset)) die("%s is not an offset message id", id);
    char addr[80];
    msg_host_format(&host, addr, sizeof addr);
    rmq_cmd *req = request(VIEW_MESSAGE_BY_ID);
    cmd_ext_set_int(req, "offset", offset);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
    message *m = decode_messages(resp->body, resp->body_len, n);
    cmd_free(resp);
    if (!*n) die("query message by id finished, but no message.");
    return m;
}

/* CONSUME_MESSAGE_DIRECTLY through the broker holding the message. */
static void consume_directly(const char *group, const char *client_id, const char *offset_id, const message *m)
{
    char addr[80];
    msg_host_format(&m->rec.store_host, addr, sizeof addr);
    rmq_cmd *req = request(CONSUME_MESSAGE_DIRECTLY);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "clientId", client_id);
    cmd_ext_set(req, "msgId", offset_id);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_CONSUMER_MS);
    cJSON *r = body_json(resp);
    cmd_free(resp);
    printf("ConsumeMessageDirectlyResult [order=%s, autoCommit=%s, consumeResult=%s, remark=%s, spentTimeMills=%lld]",
           bool_field(r, "order") ? "true" : "false", bool_field(r, "autoCommit") ? "true" : "false",
           *str_field(r, "consumeResult") ? str_field(r, "consumeResult") : "null",
           *str_field(r, "remark") ? str_field(r, "remark") : "null", (long long)int_field(r, "spentTimeMills"));
    cJSON_Delete(r);
}

static void cmd_query_msg_by_id(void)
{
    char *ids = xstrdup(val('i')), *save = NULL;
    for (char *id = strtok_r(ids, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        id = trim(id);
        if (!*id) continue;
        int n;
        message *m = view_message(id, &n);
        if (has('g') && has('d')) consume_directly(val('g'), val('d'), id, m);
        else print_message_detail(m, 0, true);
        free_messages(m, n);
    }
    free(ids);
}

/* QUERY_MESSAGE to every broker of the topic; keeps what matches the key. */
static message *query_messages(const char *topic, const char *key, bool unique, int *n)
{
    route r;
    get_route(topic, &r, true);
    message *all = NULL;
    *n = 0;
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = request(QUERY_MESSAGE);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "key", key);
        cmd_ext_set_int(req, "maxNum", unique ? 32 : 64);
        cmd_ext_set_int(req, "beginTimestamp", 0);
        cmd_ext_set_int(req, "endTimestamp", INT64_MAX);
        cmd_ext_set_bool(req, "_UNIQUE_KEY_QUERY", unique);
        rmq_cmd *resp = call(addr, req, TIMEOUT_MS);
        if (resp->code != RC_SUCCESS && resp->code != 22 /* QUERY_NOT_FOUND */) die_answer(resp);
        int k;
        message *some = resp->code == RC_SUCCESS ? decode_messages(resp->body, resp->body_len, &k) : NULL;
        cmd_free(resp);
        for (int j = 0; some && j < k; j++) {
            /* MQAdminImpl.queryMessage: the key must be one of KEYS, or the UNIQ_KEY. */
            const char *keys = msg_props_get(&some[j].props, unique ? "UNIQ_KEY" : "KEYS");
            bool match = false;
            if (keys && unique) match = strcmp(keys, key) == 0;
            for (const char *p = unique ? "" : (keys ? keys : ""); *p && !match;) {
                size_t l = strcspn(p, " ");
                match = l == strlen(key) && strncmp(p, key, l) == 0;
                p += l + (p[l] == ' ');
            }
            if (!match) {
                msg_props_free(&some[j].props);
                free(some[j].raw);
                continue;
            }
            all = xrealloc(all, (size_t)(*n + 1) * sizeof *all);
            all[(*n)++] = some[j];
        }
        free(some);   /* the kept messages moved into `all` */
    }
    route_free(&r);
    return all;
}

static void cmd_query_msg_by_key(void)
{
    int n;
    message *m = query_messages(val('t'), val('k'), false, &n);
    printf("%-50s %4s %40s\n", "#Message ID", "#QID", "#Offset");
    for (int i = 0; i < n; i++) printf("%-50s %4d %40lld\n", msg_id(&m[i]), m[i].rec.queue_id, (long long)m[i].rec.queue_offset);
    free_messages(m, n);
}

static int cmp_store_time(const void *a, const void *b)
{
    const message *x = a, *y = b;
    return (x->rec.store_timestamp > y->rec.store_timestamp) - (x->rec.store_timestamp < y->rec.store_timestamp);
}

static void cmd_query_msg_by_unique_key(void)
{
    int n;
    message *m = query_messages(val('t'), val('i'), true, &n);
    if (has('g') && has('d')) {
        if (!n) die("query message by unique key finished, but no message.");
        consume_directly(val('g'), val('d'), m[0].offset_id, &m[0]);
    } else {
        qsort(m, (size_t)n, sizeof *m, cmp_store_time);
        for (int i = 0; i < (has('a') ? n : (n ? 1 : 0)); i++) print_message_detail(&m[i], i, false);
    }
    free_messages(m, n);
}

static void cmd_query_msg_by_offset(void)
{
    route r;
    get_route(val('t'), &r, true);
    const broker_data *bd = route_broker(&r, val('b'));
    const char *addr = bd ? select_addr(bd) : NULL;
    if (!addr) die("the broker %s does not serve topic %s", val('b'), val('t'));
    mq q = {val('t'), bd->name, addr, (int32_t)long_opt('i', 0)};
    pull_result pr;
    pull(&q, TOOLS_CONSUMER_GROUP, "*", long_opt('o', 0), 1, &pr);
    if (pr.code == RC_SUCCESS && pr.n) print_message_detail(&pr.msgs[0], 0, true);
    free_messages(pr.msgs, pr.n);
    route_free(&r);
}

/*
 * What one pull of queue QS brought, as PrintMessageSubCommand and
 * ConsumeMessageCommand print it (SUCCESS_LINE, if any, first); frees the
 * messages. False once the queue has nothing more.
 */
static bool print_pulled(pull_result *pr, const char *qs, const char *success_line, bool print_body)
{
    bool more = true;
    if (pr->code == RC_SUCCESS) {
        if (success_line) printf("%s\n", success_line);
        for (int k = 0; k < pr->n; k++) print_message_line(&pr->msgs[k], print_body);
    } else if (pr->code == RC_PULL_RETRY_IMMEDIATELY) {
        printf("%s no matched msg. status=%s, offset=%lld\n", qs, pull_status(pr->code), (long long)pr->next_begin);
    } else {
        printf("%s print msg finished. status=%s, offset=%lld\n", qs, pull_status(pr->code), (long long)pr->next_begin);
        more = false;
    }
    free_messages(pr->msgs, pr->n);
    return more;
}

static void cmd_print_msg(void)
{
    const char *topic = val('t'), *sub = has('s') ? val('s') : "*";
    bool print_body = !has('d') || parse_java_bool(val('d'));
    route r;
    get_route(topic, &r, true);
    int n;
    mq *queues = subscribe_queues(&r, topic, &n);
    for (int i = 0; i < n; i++) {
        int64_t min = queue_offset_call(GET_MIN_OFFSET, &queues[i], 0);
        int64_t max = queue_offset_call(GET_MAX_OFFSET, &queues[i], 0);
        if (has('b')) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], timestamp_opt('b'));
        if (has('e')) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], timestamp_opt('e'));
        char qs[400];
        mq_string(&queues[i], qs, sizeof qs);
        printf("minOffset=%lld, maxOffset=%lld, %s\n", (long long)min, (long long)max, qs);
        for (int64_t off = min; off < max;) {
            pull_result pr;
            pull(&queues[i], TOOLS_CONSUMER_GROUP, sub, off, 32, &pr);
            off = pr.next_begin;
            if (!print_pulled(&pr, qs, NULL, print_body)) break;
        }
        printf("--------------------------------------------------------\n");
    }
    free(queues);
    route_free(&r);
}

/* ConsumeMessageCommand.pullMessageByQueue: [min, max] inclusive. */
static void consume_queue(const mq *q, const char *group, int64_t min, int64_t max)
{
    char qs[400];
    mq_string(q, qs, sizeof qs);
    for (int64_t off = min; off <= max;) {
        pull_result pr;
        int64_t want = max - off + 1;
        pull(q, group, "*", off, (int)(want > 32 ? 32 : want), &pr);
        off = pr.next_begin;
        if (!print_pulled(&pr, qs, "Consume ok", true)) break;
    }
}

static void cmd_consume_message(void)
{
    const char *topic = val('t'), *group = has('g') ? val('g') : TOOLS_CONSUMER_GROUP;
    int64_t count = long_opt('c', 128), now = now_ms(), begin = 0, end = 0;
    if (count <= 0) die("Please input a positive messageNumber!");
    if (has('i') && !has('b')) die("Please set the brokerName before queueId!");
    if (has('o') && !has('i')) die("Please set queueId before offset!");
    if (has('s') && (begin = timestamp_opt('s')) > now) die("Please set the beginTimestamp before now!");
    if (has('e')) {
        end = timestamp_opt('e');
        if (end > now) die("Please set the endTimestamp before now!");
        if (begin > end) die("Please make sure that the beginTimestamp is less than or equal to the endTimestamp");
    }
    route r;
    get_route(topic, &r, true);
    if (has('i')) {
        const broker_data *bd = route_broker(&r, val('b'));
        const char *addr = bd ? select_addr(bd) : NULL;
        if (!addr) die("the broker %s does not serve topic %s", val('b'), topic);
        mq q = {topic, bd->name, addr, (int32_t)long_opt('i', 0)};
        int64_t min = queue_offset_call(GET_MIN_OFFSET, &q, 0), max = queue_offset_call(GET_MAX_OFFSET, &q, 0);
        int64_t offset = long_opt('o', 0);
        if (begin > 0) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, begin);
        if (end > 0) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, end);
        if (offset > max) {
            char qs[400];
            mq_string(&q, qs, sizeof qs);
            printf("%s no matched msg, offset=%lld\n", qs, (long long)offset);
        } else {
            if (offset > min) min = offset;
            if (max - min > count) {
                printf("The oldler %lld message will be provided\n", (long long)count);
                max = min + count - 1;
            }
            consume_queue(&q, group, min, max);
        }
    } else {
        int n;
        mq *queues = subscribe_queues(&r, topic, &n);
        int64_t left = count;
        for (int i = 0; i < n && left; i++) {
            int64_t min = queue_offset_call(GET_MIN_OFFSET, &queues[i], 0);
            int64_t max = queue_offset_call(GET_MAX_OFFSET, &queues[i], 0);
            if (begin > 0) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], begin);
            if (end > 0) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], end);
            if (max - min > left) {
                printf("The older %lld message of the %d queue will be provided\n", (long long)left, queues[i].queue_id);
                max = min + left - 1;
                left = 0;
            } else {
                left = left - (max - min) - 1;
            }
            consume_queue(&queues[i], group, min, max);
        }
        free(queues);
    }
    route_free(&r);
}

/* MessageClientIDSetter.createUniqID: ip, pid, a per-process number, ms since the month began, a counter. */
static void unique_id(char out[33])
{
    static uint32_t process_key;
    static uint16_t counter;
    if (!process_key) process_key = (uint32_t)(now_ms() ^ ((int64_t)getpid() << 16));
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    int64_t since_month = now_ms() - (int64_t)mktime(&tm) * 1000;
    uint8_t b[16] = {127, 0, 0, 1};
    put_be16(b + 4, (uint16_t)getpid());
    put_be32(b + 6, process_key);
    put_be32(b + 10, (uint32_t)since_month);
    put_be16(b + 14, counter++);
    hex_upper(out, b, 16);
}

static const char *send_status(int code)
{
    switch (code) {
    case RC_FLUSH_DISK_TIMEOUT: return "FLUSH_DISK_TIMEOUT";
    case RC_FLUSH_SLAVE_TIMEOUT: return "FLUSH_SLAVE_TIMEOUT";
    case RC_SLAVE_NOT_AVAILABLE: return "SLAVE_NOT_AVAILABLE";
    default: return "SEND_OK";
    }
}

static void cmd_send_message(void)
{
    const char *topic = val('t'), *body = val('p');
    if (has('i') && !has('b')) die("Broker name must be set if the queue is chosen!");
    /* DefaultMQProducerImpl.tryToFindTopicPublishInfo: an unknown topic goes by TBW102's route (auto-creation). */
    route r;
    bool known = get_route(topic, &r, false);
    if (!known) get_route(DEFAULT_TOPIC, &r, true);
    const cJSON *qd = NULL, *q;
    const broker_data *bd = NULL;
    cJSON_ArrayForEach(q, r.queues) {
        const broker_data *d = route_broker(&r, str_field(q, "brokerName"));
        if (!d || !(int_field(q, "perm") & 2) || !int_field(q, "writeQueueNums")) continue;
        if (has('b') && strcmp(d->name, val('b')) != 0) continue;
        qd = q;
        bd = d;
        break;
    }
    const char *addr = bd ? select_addr(bd) : NULL;
    if (!qd || !addr) die("No route info of this topic: %s", topic);
    int64_t queues = int_field(qd, "writeQueueNums");
    if (!known && queues > 4) queues = 4;   /* defaultTopicQueueNums of a topic to create */
    int32_t queue_id = has('i') ? (int32_t)long_opt('i', 0) : (int32_t)(now_ms() % queues);
    char uniq[33], group[24];
    unique_id(uniq);
    snprintf(group, sizeof group, "%lld", (long long)now_ms());
    msg_props props;
    msg_props_init(&props);
    if (has('k')) msg_props_set(&props, "KEYS", val('k'));
    msg_props_set(&props, "UNIQ_KEY", uniq);
    msg_props_set(&props, "WAIT", "true");
    if (has('c')) msg_props_set(&props, "TAGS", val('c'));
    /* Message properties travel in their HashMap's order. */
    const char **keys = xcalloc((size_t)props.count + 1, sizeof *keys);
    int order[8];
    for (int i = 0; i < props.count; i++) keys[i] = props.items[i].key;
    java_hash_order(keys, props.count, order);
    msg_props ordered;
    msg_props_init(&ordered);
    for (int i = 0; i < props.count; i++) msg_props_set(&ordered, props.items[order[i]].key, props.items[order[i]].value);
    size_t plen;
    char *ptext = msg_props_encode(&ordered, &plen);
    rmq_cmd *req = request(SEND_MESSAGE_V2);
    cmd_ext_set(req, "a", group);
    cmd_ext_set(req, "b", topic);
    cmd_ext_set(req, "c", DEFAULT_TOPIC);
    cmd_ext_set_int(req, "d", 4);
    cmd_ext_set_int(req, "e", queue_id);
    cmd_ext_set_int(req, "f", 0);
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set_int(req, "h", 0);
    cmd_ext_set(req, "i", ptext);
    cmd_ext_set_int(req, "j", 0);
    cmd_ext_set_bool(req, "k", false);
    cmd_ext_set_bool(req, "m", false);
    cmd_ext_set(req, "n", bd->name);
    cmd_set_body(req, body, strlen(body));
    rmq_cmd *resp = call(addr, req, TIMEOUT_MS);
    if (resp->code != RC_SUCCESS && resp->code != RC_FLUSH_DISK_TIMEOUT && resp->code != RC_FLUSH_SLAVE_TIMEOUT &&
        resp->code != RC_SLAVE_NOT_AVAILABLE)
        die_answer(resp);
    int32_t qid = queue_id;
    cmd_ext_int32(resp, "queueId", &qid);
    printf("%-32s  %-4s  %-20s    %s\n", "#Broker Name", "#QID", "#Send Result", "#MsgId");
    char qs[16];
    snprintf(qs, sizeof qs, "%d", qid);
    printf("%-32s  %-4s  %-20s    %s\n", bd->name, qs, send_status(resp->code), uniq);
    cmd_free(resp);
    free(ptext);
    free(keys);
    msg_props_free(&ordered);
    msg_props_free(&props);
    route_free(&r);
}

/* ---- the command table ---- */

#define END {0, NULL, false, false, NULL}
static const opt_spec o_update_topic[] = {
    {'b', "brokerAddr", true, false, "create topic to which broker"},
    {'c', "clusterName", true, false, "create topic to which cluster"},
    {'t', "topic", true, true, "topic name"},
    {'r', "readQueueNums", true, false, "set read queue nums"},
    {'w', "writeQueueNums", true, false, "set write queue nums"},
    {'p', "perm", true, false, "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]"},
    {'o', "order", true, false, "set topic's order(true|false)"},
    {'u', "unit", true, false, "is unit topic (true|false)"},
    {'s', "hasUnitSub", true, false, "has unit sub (true|false)"}, END};
static const opt_spec o_delete_topic[] = {
    {'t', "topic", true, true, "topic name"},
    {'c', "clusterName", true, true, "delete topic from which cluster"}, END};
static const opt_spec o_topic_list[] = {{'c', "clusterModel", false, false, "clusterModel"}, END};
static const opt_spec o_topic_route[] = {
    {'t', "topic", true, true, "topic name"},
    {'l', "list", false, false, "Use list format to print data"}, END};
static const opt_spec o_topic[] = {{'t', "topic", true, true, "topic name"}, END};
static const opt_spec o_cluster_list[] = {
    {'m', "moreStats", false, false, "Print more stats"},
    {'i', "interval", true, false, "specify intervals numbers, it is in seconds"}, END};
static const opt_spec o_broker_status[] = {
    {'b', "brokerAddr", true, false, "Broker address"},
    {'c', "clusterName", true, false, "which cluster"}, END};
static const opt_spec o_update_sub_group[] = {
    {'b', "brokerAddr", true, false, "create subscription group to which broker"},
    {'c', "clusterName", true, false, "create subscription group to which cluster"},
    {'g', "groupName", true, true, "consumer group name"},
    {'s', "consumeEnable", true, false, "consume enable"},
    {'m', "consumeFromMinEnable", true, false, "from min offset"},
    {'d', "consumeBroadcastEnable", true, false, "broadcast"},
    {'q', "retryQueueNums", true, false, "retry queue nums"},
    {'r', "retryMaxTimes", true, false, "retry max times"},
    {'i', "brokerId", true, false, "consumer from which broker id"},
    {'w', "whichBrokerWhenConsumeSlowly", true, false, "which broker id when consume slowly"},
    {'a', "notifyConsumerIdsChanged", true, false, "notify consumerId changed"}, END};
static const opt_spec o_delete_sub_group[] = {
    {'b', "brokerAddr", true, false, "delete subscription group from which broker"},
    {'c', "clusterName", true, false, "delete subscription group from which cluster"},
    {'g', "groupName", true, true, "subscription group name"},
    {'r', "removeOffset", true, false, "remove offset"}, END};
static const opt_spec o_consumer_progress[] = {
    {'g', "groupName", true, false, "consumer group name"},
    {'s', "showClientIP", true, false, "Show Client IP per Queue"}, END};
static const opt_spec o_consumer_connection[] = {
    {'g', "consumerGroup", true, true, "consumer group name"},
    {'b', "brokerAddr", true, false, "broker address"}, END};
static const opt_spec o_producer_connection[] = {
    {'g', "producerGroup", true, true, "producer group name"},
    {'t', "topic", true, true, "topic name"}, END};
static const opt_spec o_consumer_status[] = {
    {'g', "consumerGroup", true, true, "consumer group name"},
    {'i', "clientId", true, false, "The consumer's client id"},
    {'b', "brokerAddr", true, false, "broker address"},
    {'s', "jstack", false, false, "Run jstack command in the consumer progress"}, END};
static const opt_spec o_query_msg_by_id[] = {
    {'i', "msgId", true, true, "Message Id"},
    {'g', "consumerGroup", true, false, "consumer group name"},
    {'d', "clientId", true, false, "The consumer's client id"}, END};
static const opt_spec o_query_msg_by_key[] = {
    {'t', "topic", true, true, "topic name"},
    {'k', "msgKey", true, true, "Message Key"}, END};
static const opt_spec o_query_msg_by_unique_key[] = {
    {'i', "msgId", true, true, "Message Id"},
    {'g', "consumerGroup", true, false, "consumer group name"},
    {'d', "clientId", true, false, "The consumer's client id"},
    {'t', "topic", true, true, "The topic of msg"},
    {'a', "showAll", false, false, "Print all message, the limit is 32"}, END};
static const opt_spec o_query_msg_by_offset[] = {
    {'t', "topic", true, true, "topic name"},
    {'b', "brokerName", true, true, "Broker Name"},
    {'i', "queueId", true, true, "Queue Id"},
    {'o', "offset", true, true, "Queue Offset"}, END};
static const opt_spec o_print_msg[] = {
    {'t', "topic", true, true, "topic name"},
    {'c', "charsetName", true, false, "CharsetName(eg: UTF-8,GBK)"},
    {'s', "subExpression", true, false, "Subscribe Expression(eg: TagA || TagB)"},
    {'b', "beginTimestamp", true, false, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'e', "endTimestamp", true, false, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'d', "printBody", true, false, "print body"}, END};
static const opt_spec o_send_message[] = {
    {'t', "topic", true, true, "Topic name"},
    {'p', "body", true, true, "UTF-8 string format of the message body"},
    {'k', "key", true, false, "Message keys"},
    {'c', "tags", true, false, "Message tags"},
    {'b', "broker", true, false, "Send message to target broker"},
    {'i', "qid", true, false, "Send message to target queue"},
    {'m', "msgTraceEnable", true, false, "Message Trace Enable, Default: false"}, END};
static const opt_spec o_consume_message[] = {
    {'t', "topic", true, true, "Topic name"},
    {'b', "brokerName", true, false, "Broker name"},
    {'i', "queueId", true, false, "Queue Id"},
    {'o', "offset", true, false, "Queue offset"},
    {'g', "consumerGroup", true, false, "Consumer group name"},
    {'s', "beginTimestamp", true, false, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'e', "endTimestamp", true, false, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'c', "MessageNumber", true, false, "Number of message to be consumed"}, END};
static const opt_spec o_reset_offset[] = {
    {'g', "group", true, true, "set the consumer group"},
    {'t', "topic", true, true, "set the topic"},
    {'s', "timestamp", true, true, "set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'f', "force", true, false, "set the force rollback by timestamp switch[true|false]"},
    {'c', "cplus", false, false, "reset c++ client offset"}, END};
static const opt_spec o_update_broker_config[] = {
    {'b', "brokerAddr", true, false, "update which broker"},
    {'c', "clusterName", true, false, "update which cluster"},
    {'k', "key", true, true, "config key"},
    {'v', "value", true, true, "config value"}, END};
static const opt_spec o_get_broker_config[] = {
    {'b', "brokerAddr", true, false, "get which broker"},
    {'c', "clusterName", true, false, "get which cluster"}, END};
static const opt_spec o_update_kv[] = {
    {'s', "namespace", true, true, "set the namespace"},
    {'k', "key", true, true, "set the key name"},
    {'v', "value", true, true, "set the key value"}, END};
static const opt_spec o_delete_kv[] = {
    {'s', "namespace", true, true, "set the namespace"},
    {'k', "key", true, true, "set the key name"}, END};
static const opt_spec o_none[] = {END};
static const opt_spec o_update_namesrv_config[] = {
    {'k', "key", true, true, "config key"},
    {'v', "value", true, true, "config value"}, END};
static const opt_spec o_wipe_write_perm[] = {{'b', "brokerName", true, true, "broker name"}, END};
static const opt_spec o_clean_expired_cq[] = {
    {'b', "brokerAddr", true, false, "Broker address"},
    {'c', "cluster", true, false, "clustername"}, END};

static const command commands[] = {
    {"updateTopic", "Update or create topic", o_update_topic, cmd_update_topic, "bc"},
    {"deleteTopic", "Delete topic from broker and NameServer.", o_delete_topic, cmd_delete_topic, NULL},
    {"updateSubGroup", "Update or create subscription group", o_update_sub_group, cmd_update_sub_group, "bc"},
    {"deleteSubGroup", "Delete subscription group from broker.", o_delete_sub_group, cmd_delete_sub_group, "bc"},
    {"updateBrokerConfig", "Update broker's config", o_update_broker_config, cmd_update_broker_config, "bc"},
    {"topicRoute", "Examine topic route info", o_topic_route, cmd_topic_route, NULL},
    {"topicStatus", "Examine topic Status info", o_topic, cmd_topic_status, NULL},
    {"topicClusterList", "get cluster info for topic", o_topic, cmd_topic_cluster_list, NULL},
    {"brokerStatus", "Fetch broker runtime status data", o_broker_status, cmd_broker_status, "bc"},
    {"queryMsgById", "Query Message by Id", o_query_msg_by_id, cmd_query_msg_by_id, NULL},
    {"queryMsgByKey", "Query Message by Key", o_query_msg_by_key, cmd_query_msg_by_key, NULL},
    {"queryMsgByUniqueKey", "Query Message by Unique key", o_query_msg_by_unique_key, cmd_query_msg_by_unique_key, NULL},
    {"queryMsgByOffset", "Query Message by offset", o_query_msg_by_offset, cmd_query_msg_by_offset, NULL},
    {"printMsg", "Print Message Detail", o_print_msg, cmd_print_msg, NULL},
    {"sendMessage", "Send a message", o_send_message, cmd_send_message, NULL},
    {"consumeMessage", "Consume message", o_consume_message, cmd_consume_message, NULL},
    {"producerConnection", "Query producer's socket connection and client version", o_producer_connection,
     cmd_producer_connection, NULL},
    {"consumerConnection", "Query consumer's socket connection, client version and subscription",
     o_consumer_connection, cmd_consumer_connection, NULL},
    {"consumerProgress", "Query consumers's progress, speed", o_consumer_progress, cmd_consumer_progress, NULL},
    {"consumerStatus", "Query consumer's internal data structure", o_consumer_status, cmd_consumer_status, NULL},
    {"clusterList", "List all of clusters", o_cluster_list, cmd_cluster_list, NULL},
    {"topicList", "Fetch all topic list from name server", o_topic_list, cmd_topic_list, NULL},
    {"updateKvConfig", "Create or update KV config.", o_update_kv, cmd_update_kv_config, NULL},
    {"deleteKvConfig", "Delete KV config.", o_delete_kv, cmd_delete_kv_config, NULL},
    {"wipeWritePerm", "Wipe write perm of broker in all name server you defined in the -n param", o_wipe_write_perm,
     cmd_wipe_write_perm, NULL},
    {"resetOffsetByTime", "Reset consumer offset by timestamp(without client restart).", o_reset_offset,
     cmd_reset_offset_by_time, NULL},
    {"cleanExpiredCQ", "Clean expired ConsumeQueue on broker.", o_clean_expired_cq, cmd_clean_expired_cq, NULL},
    {"updateNamesrvConfig", "Update configs of name server.", o_update_namesrv_config, cmd_update_namesrv_config, NULL},
    {"getNamesrvConfig", "Get configs of name server.", o_none, cmd_get_namesrv_config, NULL},
    {"getBrokerConfig", "Get broker config by cluster or special broker!", o_get_broker_config, cmd_get_broker_config,
     "bc"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static void print_help(void)
{
    printf("The most commonly used mqadmin commands are:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) printf("   %-20s %s\n", commands[i].name, commands[i].desc);
    printf("\nSee 'mqadmin help <command>' for more information on a specific command.\n");
}

static int cmp_opt(const void *a, const void *b)
{
    return (*(const opt_spec *const *)a)->letter - (*(const opt_spec *const *)b)->letter;
}

/* commons-cli HelpFormatter.printHelp(app, options, true): usage line, then the options by name. */
static void print_command_help(const command *c)
{
    const opt_spec *all[64];
    int n = 0;
    for (const opt_spec *o = common_opts; o->letter; o++) all[n++] = o;
    for (const opt_spec *o = c->opts; o->letter; o++) all[n++] = o;
    qsort(all, (size_t)n, sizeof *all, cmp_opt);
    printf("usage: mqadmin %s", c->name);
    for (int i = 0; i < n; i++) {
        bool grouped = c->one_of && strchr(c->one_of, all[i]->letter);
        const char *arg = all[i]->has_arg ? " <arg>" : "";
        if (grouped) printf(" %s-%c%s", all[i]->letter == c->one_of[0] ? "" : "| ", all[i]->letter, arg);
        else if (all[i]->required) printf(" -%c%s", all[i]->letter, arg);
        else printf(" [-%c%s]", all[i]->letter, arg);
    }
    printf("\n");
    int width = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(all[i]->name) + (all[i]->has_arg ? 6 : 0);
        if (w > width) width = w;
    }
    for (int i = 0; i < n; i++) {
        char left[128];
        snprintf(left, sizeof left, "%s%s", all[i]->name, all[i]->has_arg ? " <arg>" : "");
        printf(" -%c,--%-*s   %s\n", all[i]->letter, width, left, all[i]->desc);
    }
}

int main(int argc, char **argv)
{
    srand((unsigned)now_ms());
    if (argc < 2) {
        print_help();
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            print_help();
            return 0;
        }
        const command *c = find_command(argv[2]);
        if (!c) {
            fprintf(stderr, "mqadmin: The sub command %s not exist.\n", argv[2]);
            return 2;
        }
        print_command_help(c);
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "mqadmin: The sub command %s not exist.\n", argv[1]);
        return 2;
    }
    current_command = c->name;
    parse_options(c, argc - 2, argv + 2);
    if (has('h')) {
        print_command_help(c);
        return 0;
    }
    load_namesrvs();
    c->run();
    fflush(stdout);
    return 0;
}
