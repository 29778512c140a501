/*
 * The broker's gauges, read from its state on its loop thread at each scrape:
 * consumer lag (as consumerProgress computes it), connections by client kind,
 * storage size and flush lag, permission. Linked into mqbroker only.
 */
#include <event2/buffer.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/clients.h"
#include "common/util.h"
#include "meta/meta.h"
#include "metrics.h"
#include "processor/processor.h"
#include "store/store.h"

/* MQVersion.getVersionDesc(ordinal) in lower case: from V4_0_0_SNAPSHOT (212) on, each
 * patch release has a SNAPSHOT and a release ordinal, ten patches a minor, ten minors
 * a major (V4_9_8 = 409, V5_3_3 = 479); HIGHER_VERSION from 612. */
static void version_desc(int32_t v, char *out, size_t cap)
{
    if (v >= 612) {
        snprintf(out, cap, "higher_version");
    } else if (v >= 212) {
        int d = v - 212, idx = d / 2;
        snprintf(out, cap, "v%d_%d_%d%s", 4 + idx / 100, idx / 10 % 10, idx % 10, d % 2 ? "" : "_snapshot");
    } else {
        snprintf(out, cap, "%d", v);
    }
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[i] = 0;
}

/* ---- connections ---- */

/* One (group, language, version) count; the table is small: linear search will do. */
typedef struct conn_count {
    const char *group;    /* NULL for producers (Apache does not label them by group) */
    int language;
    int32_t version;
    int mode;
    int64_t n;
} conn_count;

static void tally(conn_count **rows, size_t *n, size_t *cap, const char *group, int lang, int32_t ver, int mode)
{
    for (size_t i = 0; i < *n; i++) {
        conn_count *r = &(*rows)[i];
        if (r->language == lang && r->version == ver && r->mode == mode &&
            ((!r->group && !group) || (r->group && group && !strcmp(r->group, group)))) {
            r->n++;
            return;
        }
    }
    if (*n == *cap) *rows = xrealloc(*rows, (*cap = *cap ? *cap * 2 : 16) * sizeof **rows);
    (*rows)[(*n)++] = (conn_count){group, lang, ver, mode, 1};
}

static void connections(struct evbuffer *out, broker *b)
{
    conn_count *rows = NULL;
    size_t n = 0, cap = 0, ng;
    char lang[32], ver[32];
    const producer_group **pg = clients_producer_groups(b->clients, &ng);
    for (size_t g = 0; g < ng; g++)
        for (size_t i = 0; i < pg[g]->n_channels; i++)
            tally(&rows, &n, &cap, NULL, pg[g]->channels[i].language, pg[g]->channels[i].version, 0);
    free(pg);
    metrics_family(out, "rocketmq_producer_connections", "gauge", "Producer connections");
    for (size_t i = 0; i < n; i++) {
        lower(language_name(rows[i].language), lang, sizeof lang);
        version_desc(rows[i].version, ver, sizeof ver);
        metrics_sample(out, "rocketmq_producer_connections", (double)rows[i].n, "language", lang, "version", ver,
                       "protocol_type", "remoting", NULL);
    }
    n = 0;
    const consumer_group **cg = clients_consumer_groups(b->clients, &ng);
    for (size_t g = 0; g < ng; g++)
        for (size_t i = 0; i < cg[g]->n_channels; i++)
            tally(&rows, &n, &cap, cg[g]->name, cg[g]->channels[i].language, cg[g]->channels[i].version,
                  cg[g]->consume_type);
    metrics_family(out, "rocketmq_consumer_connections", "gauge", "Consumer connections");
    for (size_t i = 0; i < n; i++) {
        lower(language_name(rows[i].language), lang, sizeof lang);
        version_desc(rows[i].version, ver, sizeof ver);
        /* ConsumeType.getTypeCN: CONSUME_ACTIVELY is PULL, CONSUME_PASSIVELY is PUSH. */
        metrics_sample(out, "rocketmq_consumer_connections", (double)rows[i].n, "consumer_group", rows[i].group,
                       "language", lang, "version", ver, "consume_mode", rows[i].mode == 0 ? "pull" : "push",
                       "protocol_type", "remoting", "is_system",
                       metrics_is_system_group(rows[i].group) ? "true" : "false", NULL);
    }
    free(cg);
    free(rows);
}

/* ---- consumer lag ---- */

typedef struct lag_row {
    char *group, *topic;
    int64_t lag, earliest_ts;    /* store time of the first unconsumed message, 0 if none */
    /* ConsumerLagCalculator's pull-offset figures: pulled but not committed, not pulled yet,
     * and the store time of the first message not pulled (0 if none) */
    int64_t inflight, ready, unpulled_ts;
} lag_row;

/* The group is online and does not subscribe to TOPIC (consumerProgress skips it too). */
static bool unsubscribed_online(broker *b, const char *group, const char *topic)
{
    const consumer_group *g = clients_consumer_group(b->clients, group);
    return g && g->n_subs > 0 && !consumer_group_subscription(g, topic);
}

/* Every (group, topic) with committed offsets, lag summed over the topic's read queues as
 * GET_CONSUME_STATS does (brokerOffset - consumerOffset, a missing offset counting as 0);
 * a queue never pulled has its pull offset at the committed one. */
static lag_row *consumer_lag(broker *b, size_t *count)
{
    size_t n_groups, n = 0, cap = 0;
    lag_row *rows = NULL;
    subscription_group_config *groups = subgroup_table_snapshot(b->groups, &n_groups);
    for (size_t i = 0; i < n_groups; i++) {
        const char *group = groups[i].group_name;
        char **topics = consumer_offset_topics_of_group(b->offsets, group);
        for (char **t = topics; *t; t++) {
            topic_config tc;
            if (!topic_table_get(b->topics, *t, &tc) || unsubscribed_online(b, group, *t)) continue;
            lag_row r = {.group = xstrdup(group), .topic = xstrdup(*t)};
            for (int32_t q = 0; q < tc.read_queue_nums; q++) {
                int64_t max = store_max_offset_in_queue(b->store, *t, q);
                int64_t off = consumer_offset_query(b->offsets, group, *t, q);
                if (max < 0) max = 0;
                if (off < 0) off = 0;
                r.lag += max - off;
                if (max > off) {
                    int64_t ts = store_message_store_time(b->store, *t, q, off);
                    if (ts > 0 && (!r.earliest_ts || ts < r.earliest_ts)) r.earliest_ts = ts;
                }
                int64_t pulled = metrics_pull_offset_get(*t, group, q);
                if (pulled < off) pulled = off;
                if (pulled > max) pulled = max;
                r.inflight += pulled - off;
                r.ready += max - pulled;
                if (max > pulled) {
                    int64_t ts = store_message_store_time(b->store, *t, q, pulled);
                    if (ts > 0 && (!r.unpulled_ts || ts < r.unpulled_ts)) r.unpulled_ts = ts;
                }
            }
            if (n == cap) rows = xrealloc(rows, (cap = cap ? cap * 2 : 16) * sizeof *rows);
            rows[n++] = r;
        }
        meta_names_free(topics);
    }
    free(groups);
    *count = n;
    return rows;
}

static void lag_sample(struct evbuffer *out, const char *name, double v, const lag_row *r)
{
    bool sys = metrics_is_system_topic(r->topic) || metrics_is_system_group(r->group);
    metrics_sample(out, name, v, "consumer_group", r->group, "topic", r->topic, "is_retry",
                   strncmp(r->topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) ? "false" : "true",
                   "is_system", sys ? "true" : "false", NULL);
}

static void lag(struct evbuffer *out, broker *b)
{
    size_t n;
    lag_row *rows = consumer_lag(b, &n);
    int64_t now = now_ms();
    metrics_family(out, "rocketmq_consumer_lag_messages", "gauge", "Consumer lag messages");
    for (size_t i = 0; i < n; i++) lag_sample(out, "rocketmq_consumer_lag_messages", (double)rows[i].lag, &rows[i]);
    metrics_family(out, "rocketmq_consumer_lag_latency", "gauge", "Consumer lag time in milliseconds");
    for (size_t i = 0; i < n; i++)
        lag_sample(out, "rocketmq_consumer_lag_latency",
                   rows[i].earliest_ts ? (double)(now - rows[i].earliest_ts) : 0.0, &rows[i]);
    metrics_family(out, "rocketmq_consumer_inflight_messages", "gauge", "Consumer inflight messages");
    for (size_t i = 0; i < n; i++)
        lag_sample(out, "rocketmq_consumer_inflight_messages", (double)rows[i].inflight, &rows[i]);
    metrics_family(out, "rocketmq_consumer_ready_messages", "gauge", "Consumer ready messages");
    for (size_t i = 0; i < n; i++) lag_sample(out, "rocketmq_consumer_ready_messages", (double)rows[i].ready, &rows[i]);
    metrics_family(out, "rocketmq_consumer_queueing_latency", "gauge", "Consumer queueing time in milliseconds");
    for (size_t i = 0; i < n; i++)
        lag_sample(out, "rocketmq_consumer_queueing_latency",
                   rows[i].unpulled_ts ? (double)(now - rows[i].unpulled_ts) : 0.0, &rows[i]);
    for (size_t i = 0; i < n; i++) free(rows[i].group), free(rows[i].topic);
    free(rows);
}

/* ---- storage ---- */

static int64_t tree_bytes;
static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    if (flag == FTW_F) tree_bytes += st->st_size;
    return 0;
}

static void storage(struct evbuffer *out, broker *b)
{
    tree_bytes = 0;  /* the loop thread is the only caller */
    nftw(b->cfg.storePathRootDir, add_size, 16, FTW_PHYS);
    if (b->cfg.storePathCommitLog && strncmp(b->cfg.storePathCommitLog, b->cfg.storePathRootDir,
                                             strlen(b->cfg.storePathRootDir)))
        nftw(b->cfg.storePathCommitLog, add_size, 16, FTW_PHYS);
    metrics_family(out, "rocketmq_storage_size", "gauge", "Broker storage size in bytes");
    metrics_sample(out, "rocketmq_storage_size", (double)tree_bytes, "storage_type", "local", "storage_medium",
                   "disk", NULL);
    int64_t behind = store_commitlog_max_offset(b->store) - store_commitlog_flushed_offset(b->store);
    metrics_family(out, "rocketmq_storage_flush_behind_bytes", "gauge", "Commit log bytes not yet flushed to disk");
    metrics_sample(out, "rocketmq_storage_flush_behind_bytes", (double)(behind > 0 ? behind : 0), "storage_type",
                   "local", "storage_medium", "disk", NULL);
}

static void collect(struct evbuffer *out, void *arg)
{
    broker *b = arg;
    metrics_family(out, "rocketmq_broker_permission", "gauge", "Broker permission");
    metrics_sample(out, "rocketmq_broker_permission", (double)b->cfg.brokerPermission, NULL);
    metrics_family(out, "rocketmq_topic_number", "gauge", "Active topic number");
    metrics_sample(out, "rocketmq_topic_number", (double)topic_table_count(b->topics), NULL);
    metrics_family(out, "rocketmq_consumer_group_number", "gauge", "Active subscription group number");
    metrics_sample(out, "rocketmq_consumer_group_number", (double)subgroup_table_count(b->groups), NULL);
    connections(out, b);
    lag(out, b);
    storage(out, b);
    int64_t backlog[METRICS_N_PROCESSORS];
    broker_processor_backlog(b, backlog);
    metrics_family(out, "rocketmq_processor_watermark", "gauge", "Request processor watermark");
    for (int p = 0; p < METRICS_N_PROCESSORS; p++)
        metrics_sample(out, "rocketmq_processor_watermark", (double)backlog[p], "processor", metrics_processor_name(p),
                       NULL);
    metrics_family(out, "rocketmq_remoting_connections", "gauge", "Open client connections per listener");
    if (b->server)
        metrics_sample(out, "rocketmq_remoting_connections", (double)rmq_server_connections(b->server),
                       "listener", "main", NULL);
    if (b->fast_server)
        metrics_sample(out, "rocketmq_remoting_connections", (double)rmq_server_connections(b->fast_server),
                       "listener", "fast", NULL);
}

int broker_metrics_start(broker *b, metrics_server **out, char *err, size_t errlen)
{
    metrics_set_node(b->cfg.brokerClusterName, "broker", b->cfg.brokerName, b->cfg.metricsLabel);
    metrics_config mc = {
        .exporter_type = b->cfg.metricsExporterType,
        .host = b->cfg.metricsPromExporterHost,
        .fallback_host = b->cfg.brokerIP1,
        .port = b->cfg.metricsPromExporterPort,
    };
    return metrics_server_start(b->base, &mc, collect, b, out, err, errlen);
}
