/*
 * console.h: mqconsole, a web console for a whole cluster. It speaks the
 * admin protocol (tools/admin_client.h) to the name servers and brokers and
 * serves a small page with its JSON endpoints over evhttp.
 *
 * Two halves: the server (console_http.c, console_api.c) and the pages' JSON
 * (console_render.c), pure functions of the cluster's answers so they are
 * tested without a cluster.
 */
#ifndef RMQ_CONSOLE_CONSOLE_H
#define RMQ_CONSOLE_CONSOLE_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/admin_client.h"

/* ---- the server ---- */

typedef struct console console;

/* Listens on host:port (port 0: any free port, see console_port); the name
 * servers must have been set with adm_set_namesrvs. NULL and err on failure. */
console *console_start(struct event_base *base, const char *host, int port, char *err, size_t errlen);
int console_port(const console *c);
void console_free(console *c);

/* One built-in file of the page (generated from src/console/assets/ at build time). */
typedef struct console_asset {
    const char *path, *content_type;
    const unsigned char *data;
    size_t len;
} console_asset;

extern const console_asset console_assets[];
extern const size_t console_n_assets;

/* ---- the pages' JSON (console_render.c) ---- */

#define CONSOLE_PREVIEW_MAX 4096   /* body bytes shown of one message */

/* {"error": msg, "code": code}: what the page shows when the cluster said no. */
cJSON *render_error(const adm_err *e);
/* Clusters with their brokers and addresses, from GET_BROKER_CLUSTER_INFO. */
cJSON *render_cluster(const cluster_info *ci);
/* The headline figures of one broker's runtime table (the whole table under "table"). */
cJSON *render_broker_status(const char *addr, const cJSON *table);
/* Topic names, sorted, each marked normal, retry, dlq or system. */
cJSON *render_topic_list(const cJSON *topic_list_body);
/* A topic: its route (brokers, queue counts, perm) and each queue's min/max offset. */
cJSON *render_topic(const char *topic, const route *r, const mq_entry *stats, int n);
/* A group's consume progress per queue (entries sorted) with its lag, and totals. */
cJSON *render_group(const char *group, const mq_entry *entries, int n, double tps);
/* A ConsumerConnection / ProducerConnection body as the page lists it. */
cJSON *render_connections(const cJSON *body);
/* One message: ids, queue, offsets, times, hosts, properties and a preview of the body
 * (text when it is printable UTF-8, else hex; at most CONSOLE_PREVIEW_MAX bytes). */
cJSON *render_message(const message *m);
/* The offsets a reset set: the broker's table, or the rows the console committed itself. */
cJSON *render_reset(const mq_entry *entries, int n, const reset_row *rows, int n_rows);

#endif
