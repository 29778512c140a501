/*
 * The counters and histograms: one open-addressed table of SLOTS entries, each
 * a label key (claimed once with a compare-and-swap, never freed or moved) and
 * a row of atomic values. Updating a known series is a probe and a few relaxed
 * atomic adds; a new series costs one allocation. When the table is full new
 * series are counted in `dropped` instead (Apache caps cardinality as well).
 */
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/message.h"
#include "common/util.h"
#include "metrics.h"
#include "metrics_int.h"

#define SLOTS 8192
#define VALUES 12
#define SEP '\001'
#define MAX_PROBES 256             /* a nearly full table costs this much at worst */

typedef struct slot {
    _Atomic(char *) key;           /* kind letter, then label values separated by SEP */
    _Atomic int64_t v[VALUES];
} slot;

static slot table[SLOTS];
static _Atomic int64_t dropped;
static char node_labels[1024];     /* cluster="..",node_type="..",node_id=".."[,k="v"...] */

/* rocketmq_message_size buckets (BrokerMetricsManager) and rocketmq_rpc_latency's. */
static const int64_t size_bounds[] = {1024, 4096, 512 * 1024, 1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024};
static const int64_t latency_bounds[] = {1, 3, 5, 7, 10, 100, 1000, 2000, 3000};
#define N_SIZE (sizeof size_bounds / sizeof size_bounds[0])
#define N_LATENCY (sizeof latency_bounds / sizeof latency_bounds[0])
/* Row layouts: 'I' count, bytes, size buckets (N_SIZE + 1), size count, size sum;
 * 'O' count, bytes; 'R' latency buckets (N_LATENCY + 1), sum, count. */
enum { IN_COUNT, IN_BYTES, IN_BUCKETS, IN_HCOUNT = IN_BUCKETS + N_SIZE + 1, IN_HSUM };
enum { R_BUCKETS, R_SUM = N_LATENCY + 1, R_COUNT };

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

/* The slot of KEY, claimed if new when CREATE; NULL when absent or the table is full. */
static slot *lookup(const char *key, bool create)
{
    uint64_t h = fnv1a(key);
    for (size_t i = 0; i < MAX_PROBES; i++) {
        slot *s = &table[(h + i) % SLOTS];
        char *k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (!k) {
            if (!create) return NULL;
            char *mine = xstrdup(key);
            if (atomic_compare_exchange_strong(&s->key, &k, mine)) return s;
            free(mine);  /* another thread claimed it first: k is now its key */
        }
        if (strcmp(k, key) == 0) return s;
    }
    if (create) atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
    return NULL;
}

static slot *series(const char *key) { return lookup(key, true); }

/*
 * Series keys are built on every update, by hand: snprintf costs more than the rest of
 * an update. A kind letter, then each part after a SEP; parts are cut to fit.
 */
typedef struct key_buf {
    char *p;
    size_t n, cap;
} key_buf;

static key_buf key_begin(char *buf, size_t cap, char kind)
{
    buf[0] = kind;
    buf[1] = 0;
    return (key_buf){buf, 1, cap};
}

static void key_str(key_buf *k, const char *s)
{
    size_t l = strlen(s);
    if (k->n + l + 2 > k->cap) l = k->cap - k->n - 2;
    k->p[k->n++] = SEP;
    memcpy(k->p + k->n, s, l);
    k->n += l;
    k->p[k->n] = 0;
}

static void key_int(key_buf *k, int64_t v)
{
    char digits[24];
    int i = sizeof digits;
    digits[--i] = 0;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do digits[--i] = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) digits[--i] = '-';
    key_str(k, digits + i);
}

static void add(slot *s, int i, int64_t v) { atomic_fetch_add_explicit(&s->v[i], v, memory_order_relaxed); }

static int bucket_of(const int64_t *bounds, size_t n, int64_t v)
{
    size_t i = 0;
    while (i < n && v > bounds[i]) i++;
    return (int)i;
}

static bool key_is(const msg_prop_view *pv, const char *k)
{
    return pv->key_len == strlen(k) && memcmp(pv->key, k, pv->key_len) == 0;
}

/* One walk over the properties: BrokerMetricsManager.getMessageType (transaction before
 * fifo before delay) and the REAL_TOPIC of a parked message (copied into REAL). */
static const char *message_type(const char *props, size_t len, char *real, size_t cap)
{
    bool tran = false, fifo = false, delay = false;
    const char *cur = props, *end = props ? props + len : NULL;
    msg_prop_view pv;
    while (props && msg_props_next(&cur, end, &pv)) {
        if (key_is(&pv, "TRAN_MSG")) tran = pv.value_len == 4 && strncasecmp(pv.value, "true", 4) == 0;
        else if (key_is(&pv, "__SHARDINGKEY")) fifo = true;
        else if (key_is(&pv, "__STARTDELIVERTIME") || key_is(&pv, "DELAY") || key_is(&pv, "TIMER_DELIVER_MS") ||
                 key_is(&pv, "TIMER_DELAY_SEC") || key_is(&pv, "TIMER_DELAY_MS"))
            delay = true;
        else if (key_is(&pv, "REAL_TOPIC") && pv.value_len < cap) {
            memcpy(real, pv.value, pv.value_len);
            real[pv.value_len] = 0;
        }
    }
    return tran ? "transaction" : fifo ? "fifo" : delay ? "delay" : "normal";
}

void metrics_messages_in(const char *topic, const char *props, size_t props_len, int64_t count, int64_t bytes)
{
    if (count <= 0 || !strncmp(topic, "%RETRY%", 7) || !strncmp(topic, "%DLQ%", 5)) return;
    char real[256] = "";
    const char *type = message_type(props, props_len, real, sizeof real);
    if (real[0]) topic = real;
    char key[512];
    key_buf k = key_begin(key, sizeof key, 'I');
    key_str(&k, topic);
    key_str(&k, type);
    slot *s = series(key);
    if (!s) return;
    add(s, IN_COUNT, count);
    add(s, IN_BYTES, bytes);
    int64_t avg = bytes / count;
    add(s, IN_BUCKETS + bucket_of(size_bounds, N_SIZE, avg), 1);
    add(s, IN_HCOUNT, 1);
    add(s, IN_HSUM, avg);
}

void metrics_messages_out(const char *topic, const char *group, bool is_retry, int64_t count, int64_t bytes)
{
    if (count <= 0) return;
    char key[640];
    key_buf k = key_begin(key, sizeof key, 'O');
    key_str(&k, topic);
    key_str(&k, group);
    key_int(&k, is_retry);
    slot *s = series(key);
    if (!s) return;
    add(s, 0, count);
    add(s, 1, bytes);
}

/* One observation of rocketmq_rpc_latency in row S (NULL: the table was full). */
static void observe_latency(slot *s, int64_t ms)
{
    if (!s) return;
    if (ms < 0) ms = 0;
    add(s, R_BUCKETS + bucket_of(latency_bounds, N_LATENCY, ms), 1);
    add(s, R_SUM, ms);
    add(s, R_COUNT, 1);
}

void metrics_rpc(int32_t request_code, int32_t response_code, bool deferred, int64_t ms)
{
    bool long_polling = deferred && metrics_code_long_polling(request_code);
    char key[64];
    key_buf k = key_begin(key, sizeof key, 'R');
    key_int(&k, request_code);
    key_int(&k, response_code);
    key_int(&k, long_polling);
    observe_latency(series(key), ms);
}

void metrics_grpc_rpc(const char *method, const char *response, bool long_polling, int64_t ms)
{
    char key[128];
    key_buf k = key_begin(key, sizeof key, 'G');
    key_str(&k, method);
    key_str(&k, response);
    key_int(&k, long_polling);
    observe_latency(series(key), ms);
}

static void pull_key(char *key, size_t cap, const char *topic, const char *group, int32_t queue_id)
{
    key_buf k = key_begin(key, cap, 'P');
    key_str(&k, topic);
    key_str(&k, group);
    key_int(&k, queue_id);
}

void metrics_pull_offset(const char *topic, const char *group, int32_t queue_id, int64_t next_offset)
{
    char key[640];
    pull_key(key, sizeof key, topic, group, queue_id);
    slot *s = series(key);
    if (!s) return;
    /* offsets only grow (a reset moves the committed offset, which bounds the gauges) */
    int64_t cur = atomic_load_explicit(&s->v[0], memory_order_relaxed);
    while (next_offset > cur &&
           !atomic_compare_exchange_weak_explicit(&s->v[0], &cur, next_offset, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

int64_t metrics_pull_offset_get(const char *topic, const char *group, int32_t queue_id)
{
    char key[640];
    pull_key(key, sizeof key, topic, group, queue_id);
    slot *s = lookup(key, false);
    return s ? atomic_load_explicit(&s->v[0], memory_order_relaxed) : -1;
}

bool metrics_is_system_topic(const char *topic)
{
    /* TopicValidator.isSystemTopic: the system topic set and the rmq_sys_ prefix. */
    static const char *const names[] = {"TBW102", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT", "SCHEDULE_TOPIC_XXXX",
                                        "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
                                        "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC",
                                        "rmq_sys_REVIVE_LOG", "rmq_sys_wheel_timer", "rmq_sys_SYNC_BROKER_MEMBER"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(topic, names[i]) == 0) return true;
    return strncmp(topic, "rmq_sys_", 8) == 0;
}

bool metrics_is_system_group(const char *group)
{
    return strncasecmp(group, "CID_RMQ_SYS_", 12) == 0;
}

/* ---- labels and text ---- */

/* A label value as the text format wants it: backslash, quote and newline escaped. */
static void put_escaped(struct evbuffer *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') evbuffer_add(out, "\\\\", 2);
        else if (*v == '"') evbuffer_add(out, "\\\"", 2);
        else if (*v == '\n') evbuffer_add(out, "\\n", 2);
        else evbuffer_add(out, v, 1);
    }
}

static void append_label(char *dst, size_t cap, const char *k, const char *v)
{
    size_t n = strlen(dst);
    if (n + strlen(k) + strlen(v) + 8 >= cap) return;
    if (n) dst[n++] = ',';
    n += (size_t)snprintf(dst + n, cap - n, "%s=\"", k);
    for (; *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') dst[n++] = '\\';
        dst[n++] = *v == '\n' ? ' ' : *v;
    }
    dst[n++] = '"';
    dst[n] = 0;
}

void metrics_set_node(const char *cluster, const char *node_type, const char *node_id, const char *extra)
{
    node_labels[0] = 0;
    append_label(node_labels, sizeof node_labels, "cluster", cluster ? cluster : "");
    append_label(node_labels, sizeof node_labels, "node_type", node_type);
    append_label(node_labels, sizeof node_labels, "node_id", node_id ? node_id : "");
    /* metricsLabel: "k:v,k:v"; malformed pairs are skipped as Apache skips them. */
    char *copy = xstrdup(extra ? extra : ""), *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(kv, ':');
        if (!colon || strchr(colon + 1, ':') || colon == kv) continue;
        *colon = 0;
        append_label(node_labels, sizeof node_labels, kv, colon + 1);
    }
    free(copy);
}

void metrics_family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void vsample(struct evbuffer *out, const char *name, double v, va_list ap)
{
    evbuffer_add_printf(out, "%s{%s", name, node_labels);
    bool first = !node_labels[0];
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *val = va_arg(ap, const char *);
        evbuffer_add_printf(out, "%s%s=\"", first ? "" : ",", k);
        put_escaped(out, val);
        evbuffer_add(out, "\"", 1);
        first = false;
    }
    if (v == (double)(int64_t)v) evbuffer_add_printf(out, "} %lld\n", (long long)v);
    else evbuffer_add_printf(out, "} %.6f\n", v);
}

void metrics_sample(struct evbuffer *out, const char *name, double v, ...)
{
    va_list ap;
    va_start(ap, v);
    vsample(out, name, v, ap);
    va_end(ap);
}

/* Splits a slot key into its label values (at most MAX) in BUF. */
static int key_fields(const char *key, char *buf, size_t cap, const char **f, int max)
{
    snprintf(buf, cap, "%s", key + 2);  /* after the kind letter and its SEP */
    int n = 0;
    for (char *p = buf; n < max;) {
        f[n++] = p;
        char *sep = strchr(p, SEP);
        if (!sep) break;
        *sep = 0;
        p = sep + 1;
    }
    return n;
}

static int64_t val(slot *s, int i) { return atomic_load_explicit(&s->v[i], memory_order_relaxed); }

/* NAME_bucket (cumulative, le per bound and +Inf), NAME_sum and NAME_count of slot S, whose
 * columns from BUCKETS hold the per-bucket counts; LABELS: escaped k="v" pairs. */
static void histogram(struct evbuffer *out, const char *name, slot *s, const int64_t *bounds, size_t n,
                      int buckets, int sum, int count, const char *labels)
{
    const char *sep = node_labels[0] ? "," : "";
    int64_t cum = 0;
    for (size_t b = 0; b <= n; b++) {
        char le[32];
        if (b < n) snprintf(le, sizeof le, "%lld", (long long)bounds[b]);
        else snprintf(le, sizeof le, "+Inf");
        cum += val(s, buckets + (int)b);
        evbuffer_add_printf(out, "%s_bucket{%s%s%s,le=\"%s\"} %lld\n", name, node_labels, sep, labels, le,
                            (long long)cum);
    }
    evbuffer_add_printf(out, "%s_sum{%s%s%s} %lld\n", name, node_labels, sep, labels, (long long)val(s, sum));
    evbuffer_add_printf(out, "%s_count{%s%s%s} %lld\n", name, node_labels, sep, labels, (long long)val(s, count));
}

static void render_in(struct evbuffer *out)
{
    static const struct { const char *name, *help; int col; } fams[] = {
        {"rocketmq_messages_in_total", "Total number of incoming messages", IN_COUNT},
        {"rocketmq_throughput_in_total", "Total traffic of incoming messages", IN_BYTES},
    };
    char buf[512];
    const char *f[2];
    for (size_t m = 0; m < 2; m++) {
        metrics_family(out, fams[m].name, "counter", fams[m].help);
        for (size_t i = 0; i < SLOTS; i++) {
            char *k = atomic_load_explicit(&table[i].key, memory_order_acquire);
            if (!k || k[0] != 'I' || key_fields(k, buf, sizeof buf, f, 2) != 2) continue;
            metrics_sample(out, fams[m].name, (double)val(&table[i], fams[m].col), "topic", f[0], "message_type",
                           f[1], "is_system", metrics_is_system_topic(f[0]) ? "true" : "false", NULL);
        }
    }
    metrics_family(out, "rocketmq_message_size", "histogram", "Incoming messages size");
    for (size_t i = 0; i < SLOTS; i++) {
        char *k = atomic_load_explicit(&table[i].key, memory_order_acquire);
        if (!k || k[0] != 'I' || key_fields(k, buf, sizeof buf, f, 2) != 2) continue;
        char labels[640] = "";
        append_label(labels, sizeof labels, "topic", f[0]);
        append_label(labels, sizeof labels, "message_type", f[1]);
        append_label(labels, sizeof labels, "is_system", metrics_is_system_topic(f[0]) ? "true" : "false");
        histogram(out, "rocketmq_message_size", &table[i], size_bounds, N_SIZE, IN_BUCKETS, IN_HSUM, IN_HCOUNT,
                  labels);
    }
}

static void render_out(struct evbuffer *out)
{
    static const struct { const char *name, *help; } fams[] = {
        {"rocketmq_messages_out_total", "Total number of outgoing messages"},
        {"rocketmq_throughput_out_total", "Total traffic of outgoing messages"},
    };
    char buf[640];
    const char *f[3];
    for (int m = 0; m < 2; m++) {
        metrics_family(out, fams[m].name, "counter", fams[m].help);
        for (size_t i = 0; i < SLOTS; i++) {
            char *k = atomic_load_explicit(&table[i].key, memory_order_acquire);
            if (!k || k[0] != 'O' || key_fields(k, buf, sizeof buf, f, 3) != 3) continue;
            bool sys = metrics_is_system_topic(f[0]) || metrics_is_system_group(f[1]);
            metrics_sample(out, fams[m].name, (double)val(&table[i], m), "topic", f[0], "consumer_group", f[1],
                           "is_system", sys ? "true" : "false", "is_retry", f[2][0] == '1' ? "true" : "false",
                           NULL);
        }
    }
}

static void render_rpc(struct evbuffer *out)
{
    metrics_family(out, "rocketmq_rpc_latency", "histogram", "Rpc latency");
    char buf[128];
    const char *f[3];
    for (size_t i = 0; i < SLOTS; i++) {
        char *k = atomic_load_explicit(&table[i].key, memory_order_acquire);
        if (!k || (k[0] != 'R' && k[0] != 'G') || key_fields(k, buf, sizeof buf, f, 3) != 3) continue;
        bool grpc = k[0] == 'G';
        char req[64], resp[64];
        if (grpc) {
            snprintf(req, sizeof req, "%s", f[0]);
            snprintf(resp, sizeof resp, "%s", f[1]);
        } else {
            metrics_request_code_name(atoi(f[0]), req, sizeof req);
            metrics_response_code_name(atoi(f[1]), resp, sizeof resp);
        }
        char labels[320] = "";
        append_label(labels, sizeof labels, "protocol_type", grpc ? "grpc" : "remoting");
        append_label(labels, sizeof labels, "request_code", req);
        append_label(labels, sizeof labels, "response_code", resp);
        append_label(labels, sizeof labels, "is_long_polling", f[2][0] == '1' ? "true" : "false");
        append_label(labels, sizeof labels, "result", "success");
        histogram(out, "rocketmq_rpc_latency", &table[i], latency_bounds, N_LATENCY, R_BUCKETS, R_SUM, R_COUNT,
                  labels);
    }
}

void metrics_render_common(struct evbuffer *out)
{
    render_in(out);
    render_out(out);
    render_rpc(out);
    metrics_render_process(out);
    metrics_family(out, "rocketmq_metrics_dropped_series_total", "counter",
                   "Series not recorded because the metrics table was full");
    metrics_sample(out, "rocketmq_metrics_dropped_series_total", (double)atomic_load(&dropped), NULL);
}
