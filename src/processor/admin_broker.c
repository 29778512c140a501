/*
 * Administration of the broker itself (AdminBrokerProcessor): read and update
 * its config, GET_BROKER_RUNTIME_INFO and VIEW_BROKER_STATS_DATA, both read
 * from the store counters sampled by admin_processor.c.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "admin_int.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "meta/meta.h"
#include "response_codes.h"
#include "store/store.h"

enum {
    UPDATE_BROKER_CONFIG = 25,
    GET_BROKER_CONFIG = 26,
    GET_BROKER_RUNTIME_INFO = 28,
    VIEW_BROKER_STATS_DATA = 315,
};

/* The i-th newest sample (0 = last). */
static const sample *ring_back(const ring *r, int i)
{
    return &r->s[((r->head - 1 - i) % r->cap + r->cap) % r->cap];
}

typedef int64_t (*sample_field)(const sample *);
static int64_t f_put(const sample *s) { return s->put; }
static int64_t f_found(const sample *s) { return s->found; }
static int64_t f_miss(const sample *s) { return s->miss; }
static int64_t f_total(const sample *s) { return s->found + s->miss; }
static int64_t f_transferred(const sample *s) { return s->transferred; }

/* CallSnapshot.getTPS over the last `secs` seconds (or as many as were sampled). */
static double tps(const ring *r, int secs, sample_field f)
{
    if (r->n < 2) return 0.0;
    int back = secs < r->n - 1 ? secs : r->n - 1;
    const sample *last = ring_back(r, 0), *before = ring_back(r, back);
    int64_t ms = last->ms - before->ms;
    return ms > 0 ? (double)(f(last) - f(before)) * 1000.0 / (double)ms : 0.0;
}

/*
 * "tps10s tps60s tps600s". Apache leaves a window empty until it has filled
 * (and clusterList then fails to parse it); we report what was sampled so far.
 */
static void tps_triple(const admin *a, sample_field f, char *out, size_t cap)
{
    char x[3][32];
    static const int windows[3] = {10, 60, 600};
    for (int i = 0; i < 3; i++) fjson_format_double(x[i], sizeof x[i], tps(&a->secs, windows[i], f));
    snprintf(out, cap, "%s %s %s", x[0], x[1], x[2]);
}

/* ---- broker config ---- */

/* The keys UPDATE_BROKER_CONFIG may not touch (BrokerConfig.configBlackList). */
static const char *const config_black_list[] = {"configBlackList", "brokerConfigPath"};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\f') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\f')) *--e = '\0';
    return s;
}

/*
 * MixAll.string2Properties as mqadmin sends it: "key=value" lines (also ':'
 * separators and #/! comments). Calls fn for each pair; stops at a non-OK.
 */
static int each_property(const uint8_t *body, size_t len, int (*fn)(void *, const char *, const char *), void *arg)
{
    char *text = xstrndup((const char *)body, len), *save = NULL;
    int rc = RMQ_OK;
    for (char *line = strtok_r(text, "\n", &save); line && rc == RMQ_OK; line = strtok_r(NULL, "\n", &save)) {
        line = trim(line);
        if (!*line || *line == '#' || *line == '!') continue;
        char *sep = line + strcspn(line, "=:");
        const char *value = "";
        if (*sep) {
            *sep = '\0';
            value = trim(sep + 1);
        }
        rc = fn(arg, trim(line), value);
    }
    free(text);
    return rc;
}

static int check_black_list(void *arg, const char *key, const char *value)
{
    for (size_t i = 0; i < N(config_black_list); i++)
        if (strcmp(key, config_black_list[i]) == 0) return RMQ_ERR;
    return RMQ_OK;
}

typedef struct config_update {
    admin *a;
    bool permission_changed;
    char err[256];
} config_update;

static int apply_property(void *arg, const char *key, const char *value)
{
    config_update *u = arg;
    /* Unknown keys are ignored, as properties2Object ignores them. */
    if (broker_config_set(&u->a->b->cfg, key, value, u->err, sizeof u->err) == RMQ_ERR) return RMQ_ERR;
    if (strcmp(key, "brokerPermission") == 0) u->permission_changed = true;
    if (strcmp(key, "logLevel") == 0) log_set_level((enum log_level)log_level_parse(value));
    return RMQ_OK;
}

/*
 * Applies to the running broker only: Apache also rewrites the -c file
 * (Configuration.persist), but broker_config does not remember its path, so
 * a restart goes back to the file's values.
 */
static void update_broker_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    if (!req->body_len) return;
    if (each_property(req->body, req->body_len, check_black_list, NULL)) {
        cmd_set_code(resp, RC_NO_PERMISSION, "Can not update config in black list.");
        return;
    }
    config_update u = {.a = a};
    if (each_property(req->body, req->body_len, apply_property, &u)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, u.err);
        return;
    }
    log_info("admin", "broker config updated by %s", rmq_conn_remote(conn));
    a->config_version.counter++;
    a->config_version.timestamp = now_ms();
    if (u.permission_changed) broker_request_register(a->b);
}

static void get_broker_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    char *props = broker_config_properties(&a->b->cfg);
    char ver[96];
    snprintf(ver, sizeof ver, "{\"counter\":%lld,\"timestamp\":%lld}", (long long)a->config_version.counter,
             (long long)a->config_version.timestamp);
    cmd_ext_set(resp, "version", ver);
    cmd_take_body(resp, props, strlen(props));
}

/* ---- runtime info ---- */

static void count_buffered(int32_t code, void *arg)
{
    int p = metrics_processor_of(code);
    if (p >= 0) ((int64_t *)arg)[p]++;
}

void broker_processor_backlog(broker *b, int64_t out[METRICS_N_PROCESSORS])
{
    for (int p = 0; p < METRICS_N_PROCESSORS; p++) out[p] = metrics_requests_held(p);
    if (b->server) rmq_server_buffered_requests(b->server, count_buffered, out);
    if (b->fast_server) rmq_server_buffered_requests(b->fast_server, count_buffered, out);
}

/* MixAll.humanReadableByteCount(bytes, false). */
static void human_bytes(int64_t bytes, char *out, size_t cap)
{
    if (bytes < 1024) {
        snprintf(out, cap, "%lld B", (long long)bytes);
        return;
    }
    int exp = (int)(log((double)bytes) / log(1024.0));
    snprintf(out, cap, "%.1f %ciB", (double)bytes / pow(1024.0, exp), "KMGTPE"[exp - 1]);
}

/* UtilAll.getDiskPartitionSpaceUsedPercent: used share rounded up to a percent; -1 if unknown. */
static double disk_used_ratio(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) || v.f_blocks == 0) return -1;
    uint64_t total = (uint64_t)v.f_blocks * v.f_frsize, used = total - (uint64_t)v.f_bfree * v.f_frsize;
    uint64_t entire = used + (uint64_t)v.f_bavail * v.f_frsize;
    if (!entire) return -1;
    uint64_t pct = used * 100 / entire + (used * 100 % entire ? 1 : 0);
    return (double)pct / 100.0;
}

static void prop_long(fjson_writer *w, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    fjson_prop_string(w, key, buf);
}

static void prop_double(fjson_writer *w, const char *key, double v)
{
    char buf[32];
    fjson_format_double(buf, sizeof buf, v);
    fjson_prop_string(w, key, buf);
}

/* DefaultMessageStore.getEarliestMessageTime: store time of the first record, -1 if none. */
static int64_t earliest_message_time(store *s)
{
    store_slice sl;
    if (store_get_record(s, store_commitlog_min_offset(s), &sl)) return -1;
    int64_t t = msg_record_store_timestamp(sl.data);
    store_slice_release(&sl);
    return t;
}

static int delay_level_count(const char *levels)
{
    int n = 0;
    for (const char *p = levels; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        n++;
        while (*p && *p != ' ') p++;
    }
    return n;
}

static void get_broker_runtime_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    broker *b = a->b;
    sample now;
    admin_take_sample(a, &now);
    store_stats st;
    store_get_stats(b->store, &st);
    char buf[700], path[600];
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "table");
    fjson_begin_object(&w);

    /* AdminBrokerProcessor.prepareRuntimeInfo */
    fjson_prop_string(&w, "brokerVersionDesc", "V4_9_8");
    prop_long(&w, "brokerVersion", RMQ_OUR_VERSION);
    prop_long(&w, "msgPutTotalYesterdayMorning", a->put_yesterday_morning);
    prop_long(&w, "msgPutTotalTodayMorning", a->put_today_morning);
    prop_long(&w, "msgPutTotalTodayNow", now.put);
    prop_long(&w, "msgGetTotalYesterdayMorning", a->get_yesterday_morning);
    prop_long(&w, "msgGetTotalTodayMorning", a->get_today_morning);
    prop_long(&w, "msgGetTotalTodayNow", now.transferred);
    /* Apache's executor queues; ours are what waits for the loop or its processor
     * (broker_processor_backlog). No queue has a head that waits for a thread. */
    int64_t backlog[METRICS_N_PROCESSORS];
    broker_processor_backlog(b, backlog);
    static const struct { const char *key, *processor, *capacity; } pools[] = {
        {"sendThreadPoolQueue", "send", "10000"}, {"pullThreadPoolQueue", "pull", "100000"},
        {"litePullThreadPoolQueue", "lite_pull", "100000"}, {"queryThreadPoolQueue", "query_message", "20000"},
        {"ackThreadPoolQueue", "ack", "100000"}};
    for (size_t i = 0; i < N(pools); i++) {
        int64_t size = 0;
        for (int p = 0; p < METRICS_N_PROCESSORS; p++)
            if (!strcmp(metrics_processor_name(p), pools[i].processor)) size = backlog[p];
        snprintf(buf, sizeof buf, "%sSize", pools[i].key);
        prop_long(&w, buf, size);
        snprintf(buf, sizeof buf, "%sCapacity", pools[i].key);
        fjson_prop_string(&w, buf, pools[i].capacity);
        snprintf(buf, sizeof buf, "%sHeadWaitTimeMills", pools[i].key);
        fjson_prop_string(&w, buf, "0");
    }
    int64_t txn = 0;
    for (int p = 0; p < METRICS_N_PROCESSORS; p++)
        if (!strcmp(metrics_processor_name(p), "transaction")) txn = backlog[p];
    prop_long(&w, "EndTransactionQueueSize", txn);
    fjson_prop_string(&w, "EndTransactionThreadPoolQueueCapacity", "100000");
    /* isSpecialServiceRunning: the schedule, transaction check and POP revive services run
     * on a master only. */
    fjson_prop_string(&w, "brokerActive", broker_is_slave(b) ? "false" : "true");
    /* The timer wheel takes a timer message as it is stored and delivers it from its own
     * loop: nothing waits to be enqueued, no slot is congested (TimerMessageStore's
     * figures, whose rates we do not sample). */
    fjson_prop_string(&w, "timerReadBehind", "0");
    fjson_prop_string(&w, "timerOffsetBehind", "0");
    fjson_prop_string(&w, "timerCongestNum", "0");
    fjson_prop_string(&w, "timerEnqueueTps", "0.0");
    fjson_prop_string(&w, "timerDequeueTps", "0.0");
    char flush[32];
    int64_t unflushed = store_commitlog_max_offset(b->store) - store_commitlog_flushed_offset(b->store);
    human_bytes(unflushed > 0 ? unflushed : 0, flush, sizeof flush);
    fjson_prop_string(&w, "remainHowManyDataToFlush", flush);
    fjson_prop_string(&w, "dispatchBehindBytes", "0");   /* dispatch happens inside store_put */
    prop_long(&w, "pageCacheLockTimeMills", 0);
    prop_long(&w, "earliestMessageTimeStamp", earliest_message_time(b->store));
    fjson_prop_string(&w, "startAcceptSendRequestTimeStamp", "0");
    fjson_prop_string(&w, "remainTransientStoreBufferNumbs", "2147483647");   /* no transient pool */
    struct statvfs v;
    if (statvfs(b->cfg.storePathRootDir, &v) == 0) {
        char total[32], free_[32];
        human_bytes((int64_t)v.f_blocks * (int64_t)v.f_frsize, total, sizeof total);
        human_bytes((int64_t)v.f_bavail * (int64_t)v.f_frsize, free_, sizeof free_);
        snprintf(buf, sizeof buf, "Total : %s, Free : %s.", total, free_);
        fjson_prop_string(&w, "commitLogDirCapacity", buf);
    }

    /* StoreStatsService.getRuntimeInfo */
    prop_long(&w, "bootTimestamp", b->boot_ms);
    int64_t up = (now.ms - b->boot_ms) / 1000;
    snprintf(buf, sizeof buf, "[ %lld days, %lld hours, %lld minutes, %lld seconds ]", (long long)(up / 86400),
             (long long)(up % 86400 / 3600), (long long)(up % 3600 / 60), (long long)(up % 60));
    fjson_prop_string(&w, "runtime", buf);
    int64_t put_times = st.put_message_times_total ? st.put_message_times_total : 1;   /* Apache: never 0 */
    prop_long(&w, "putMessageTimesTotal", put_times);
    prop_long(&w, "putMessageSizeTotal", st.put_message_size_total);
    prop_double(&w, "putMessageAverageSize", (double)st.put_message_size_total / (double)put_times);
    prop_long(&w, "putMessageEntireTimeMax", st.put_message_entire_time_max);
    prop_long(&w, "putMessageFailedTimes", st.put_message_failed_times);
    prop_long(&w, "getMessageEntireTimeMax", st.get_message_entire_time_max);
    /* Records are dispatched to the queues inside the put: no reput buffer fills. */
    fjson_prop_string(&w, "dispatchMaxBuffer", "0");
    static const char *const ranges[STORE_PUT_DIST_RANGES] = {
        "[<=0ms]", "[0~10ms]", "[10~50ms]", "[50~100ms]", "[100~200ms]", "[200~500ms]", "[500ms~1s]", "[1~2s]",
        "[2~3s]", "[3~4s]", "[4~5s]", "[5~10s]", "[10s~]"};
    size_t used = 0;
    for (int i = 0; i < STORE_PUT_DIST_RANGES; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s:%lld ", ranges[i],
                                 (long long)st.put_distribute[i]);
    fjson_prop_string(&w, "putMessageDistributeTime", buf);
    snprintf(buf, sizeof buf, "%.2f", st.put_latency_99);
    fjson_prop_string(&w, "putLatency99", buf);
    snprintf(buf, sizeof buf, "%.2f", st.put_latency_999);
    fjson_prop_string(&w, "putLatency999", buf);
    static const struct { const char *key; sample_field f; } rates[] = {
        {"putTps", f_put}, {"getFoundTps", f_found}, {"getMissTps", f_miss},
        {"getTotalTps", f_total}, {"getTransferedTps", f_transferred},
        {"getTransferredTps", f_transferred}};   /* 4.9's spelling and 5.x's */
    for (size_t i = 0; i < N(rates); i++) {
        tps_triple(a, rates[i].f, buf, sizeof buf);
        fjson_prop_string(&w, rates[i].key, buf);
    }

    /* DefaultMessageStore.getRuntimeInfo */
    prop_long(&w, "commitLogMinOffset", store_commitlog_min_offset(b->store));
    prop_long(&w, "commitLogMaxOffset", store_commitlog_max_offset(b->store));
    if (b->cfg.storePathCommitLog && *b->cfg.storePathCommitLog)
        snprintf(path, sizeof path, "%s", b->cfg.storePathCommitLog);
    else
        snprintf(path, sizeof path, "%s/commitlog", b->cfg.storePathRootDir);
    double ratio = disk_used_ratio(path);
    snprintf(buf, sizeof buf, "commitLogDiskRatio_%s", path);
    prop_double(&w, buf, ratio);
    prop_double(&w, "commitLogDiskRatio", ratio);
    snprintf(path, sizeof path, "%s/consumequeue", b->cfg.storePathRootDir);
    prop_double(&w, "consumeQueueDiskRatio", disk_used_ratio(path));
    /* ScheduleMessageService.buildRunningStats: "delayOffset,maxOffset" per level. */
    int levels = delay_level_count(b->cfg.messageDelayLevel);
    for (int level = 1; level <= levels; level++) {
        int64_t off;
        if (!delay_offset_get(b->delay_offsets, level, &off)) continue;
        char key[64];
        snprintf(key, sizeof key, "scheduleMessageOffset_%d", level);
        snprintf(buf, sizeof buf, "%lld,%lld", (long long)off,
                 (long long)store_max_offset_in_queue(b->store, TOPIC_SCHEDULE, level - 1));
        fjson_prop_string(&w, key, buf);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

/* VIEW_BROKER_STATS_DATA for the broker-wide counters BROKER_PUT_NUMS / BROKER_GET_NUMS
 * (key: the cluster name); per-topic and per-group stats are not kept. */
typedef struct stats_header {
    const char *statsName, *statsKey;
} stats_header;

static const hdr_field stats_fields[] = {
    {"statsName", HDR_STR, true, offsetof(stats_header, statsName)},
    {"statsKey", HDR_STR, true, offsetof(stats_header, statsKey)},
};

static void write_stats_item(fjson_writer *w, const char *name, const ring *r, int window, sample_field f)
{
    fjson_key(w, name);
    fjson_begin_object(w);
    int64_t sum = 0;
    double rate = 0.0;
    if (r->n >= 2) {
        int back = window < r->n - 1 ? window : r->n - 1;
        const sample *last = ring_back(r, 0), *before = ring_back(r, back);
        sum = f(last) - f(before);
        rate = last->ms > before->ms ? (double)sum * 1000.0 / (double)(last->ms - before->ms) : 0.0;
    }
    fjson_prop_double(w, "avgpt", 0.0);   /* these counters record no call times */
    fjson_prop_int64(w, "sum", sum);
    fjson_prop_double(w, "tps", rate);
    fjson_end_object(w);
}

static void view_broker_stats_data(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    stats_header h = {0};
    if (admin_decode(req, resp, stats_fields, N(stats_fields), &h)) return;
    sample_field f = strcmp(h.statsName, "BROKER_PUT_NUMS") == 0   ? f_put
                     : strcmp(h.statsName, "BROKER_GET_NUMS") == 0 ? f_transferred
                                                                   : NULL;
    if (!f || strcmp(h.statsKey, a->b->cfg.brokerClusterName) != 0) {
        admin_fail(resp, RC_SYSTEM_ERROR, "The stats <%s> <%s> not exist", h.statsName, h.statsKey);
        return;
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    write_stats_item(&w, "statsDay", &a->mins, 1440, f);
    write_stats_item(&w, "statsHour", &a->mins, 60, f);
    write_stats_item(&w, "statsMinute", &a->secs, 60, f);
    fjson_end_object(&w);
    processor_json_body(resp, &w);
}

const admin_handler admin_broker_handlers[] = {
    {UPDATE_BROKER_CONFIG, update_broker_config, NULL},
    {GET_BROKER_CONFIG, get_broker_config, NULL},
    {GET_BROKER_RUNTIME_INFO, get_broker_runtime_info, NULL},
    {VIEW_BROKER_STATS_DATA, view_broker_stats_data, NULL},
    {0, NULL, NULL},
};
