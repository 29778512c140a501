/*
 * metrics: Prometheus exposition of the figures Apache RocketMQ 5.x exports
 * (BrokerMetricsConstant, RemotingMetricsConstant, DefaultStoreMetricsConstant):
 * same metric names, same labels, so dashboards built for Apache work.
 *
 * Two halves:
 *  - counters and histograms fed on the hot paths (messages and bytes in and
 *    out per topic/group, RPC latency per request/response code). One
 *    process-wide table of fixed size, claimed and bumped with atomics: no lock
 *    per message, any thread.
 *  - an HTTP server (libevent's evhttp, on the caller's event loop) answering
 *    GET /metrics with those counters, the process figures, and whatever the
 *    server's collector adds (gauges read from its own state on its own loop).
 *
 * Config keys are Apache's BrokerConfig names: metricsExporterType (DISABLE |
 * PROM), metricsPromExporterHost, metricsPromExporterPort (5557), metricsLabel
 * ("k:v,k:v" added to every sample).
 */
#ifndef RMQ_METRICS_H
#define RMQ_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;

/* ---- counters (any thread) ---- */

/*
 * The labels every sample carries: cluster, node_type, node_id, and the
 * "k:v,k:v" pairs of metricsLabel (may be NULL). Call once at start-up,
 * before the server answers.
 */
void metrics_set_node(const char *cluster, const char *node_type, const char *node_id, const char *extra);

/*
 * A send stored COUNT messages of BYTES in all to TOPIC, PROPS being the first one's
 * properties string. As SendMessageProcessor: retry and DLQ topics are not counted,
 * message_type is TopicMessageType's (transaction, fifo, delay, normal). A message
 * parked in a system topic (delay levels, half messages) counts under its REAL_TOPIC.
 */
void metrics_messages_in(const char *topic, const char *props, size_t props_len, int64_t count, int64_t bytes);
/* A pull or pop handed COUNT messages of BYTES on TOPIC to GROUP. */
void metrics_messages_out(const char *topic, const char *group, bool is_retry, int64_t count, int64_t bytes);
/* A pull answered GROUP up to NEXT_OFFSET (nextBeginOffset) on TOPIC's queue: the pull
 * offset behind rocketmq_consumer_inflight_messages and rocketmq_consumer_ready_messages. */
void metrics_pull_offset(const char *topic, const char *group, int32_t queue_id, int64_t next_offset);
/* The highest pull offset recorded for the queue; -1 when none. */
int64_t metrics_pull_offset_get(const char *topic, const char *group, int32_t queue_id);
/* A request answered: REQUEST_CODE, RESPONSE_CODE, after MS milliseconds;
 * DEFERRED when the processor answered later (long polling for pulls and pops). */
void metrics_rpc(int32_t request_code, int32_t response_code, bool deferred, int64_t ms);

/* A gRPC call of METHOD ("send_message") answered RESPONSE (its Status code, "ok",
 * "message_not_found", or its grpc-status, "unimplemented") after MS milliseconds;
 * LONG_POLLING for server streams (ReceiveMessage). Rendered as rocketmq_rpc_latency with
 * protocol_type="grpc" (Apache's proxy has no such series; the label set is the remoting one). */
void metrics_grpc_rpc(const char *method, const char *response, bool long_polling, int64_t ms);
/* ---- processor backlog (rocketmq_processor_watermark; processors.c) ---- */

#define METRICS_N_PROCESSORS 12
/* Apache's processor label of a request code ("send", "pull", ..., "admin" for the default
 * processor), as an index; -1 for codes Apache runs in a pool it does not report. */
int metrics_processor_of(int32_t code);
const char *metrics_processor_name(int p);
/* Whether a request taken to be answered later counts as waiting (not a long poll). */
bool metrics_request_counts_held(int32_t code);
/* A request of CODE taken to be answered later (+1), or freed (-1); any thread. */
void metrics_request_held(int32_t code, int delta);
int64_t metrics_requests_held(int p);

/* Apache's TopicValidator.isSystemTopic / MixAll.isSysConsumerGroup. */
bool metrics_is_system_topic(const char *topic);
bool metrics_is_system_group(const char *group);

/* ---- exposition ---- */

/* "# HELP" and "# TYPE" lines of one metric. */
void metrics_family(struct evbuffer *out, const char *name, const char *type, const char *help);
/* One sample with the node labels and the NULL-terminated name/value label pairs after V. */
void metrics_sample(struct evbuffer *out, const char *name, double v, ...);
/* The counters, histograms and process figures (what every server exports). */
void metrics_render_common(struct evbuffer *out);

typedef struct metrics_server metrics_server;
/* Called on the loop thread for each scrape, after the common part. */
typedef void (*metrics_collect_fn)(struct evbuffer *out, void *arg);

typedef struct metrics_config {
    const char *exporter_type;     /* metricsExporterType; only PROM starts a server */
    const char *host;              /* metricsPromExporterHost (blank: fallback_host) */
    const char *fallback_host;
    int port;                      /* metricsPromExporterPort */
} metrics_config;

/*
 * Starts the /metrics server on BASE if CFG asks for PROM. Returns RMQ_OK with *out
 * NULL when metrics are disabled; RMQ_ERR with a reason for an unknown exporter
 * type or a port that cannot be bound.
 */
int metrics_server_start(struct event_base *base, const metrics_config *cfg, metrics_collect_fn collect,
                         void *arg, metrics_server **out, char *err, size_t errlen);
int metrics_server_port(const metrics_server *s);
void metrics_server_free(metrics_server *s);

/* ---- the broker's collector (src/metrics/broker_collect.c, in mqbroker) ---- */

struct broker;
/* The broker's /metrics server per its config (NULL when disabled); RMQ_ERR + reason. */
int broker_metrics_start(struct broker *b, metrics_server **out, char *err, size_t errlen);

#endif
