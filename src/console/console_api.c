/*
 * console_api.c: the JSON endpoints. Each asks the cluster through the admin
 * library and renders the answers (console_render.c); a failure becomes
 * {"error": ...} with status 502, a bad request 400, so the page shows why.
 * Calls are blocking with the admin timeouts: the console is one operator's
 * tool, not a proxy under load.
 */
#include <errno.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_int.h"

#define MAX_LISTED 64   /* messages one lookup shows */

/* A parameter: the POST body's field, else the query's; NULL when absent or empty. */
static const char *arg(const api_req *r, const char *name)
{
    const char *v = NULL;
    if (r->body) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->body, name);
        if (cJSON_IsString(it)) v = it->valuestring;
    }
    if (!v && r->query) v = evhttp_find_header(r->query, name);
    return v && *v ? v : NULL;
}

static cJSON *bad_request(int *status, const char *fmt, const char *what)
{
    adm_err e = {.code = -1};
    snprintf(e.msg, sizeof e.msg, fmt, what);
    *status = 400;
    return render_error(&e);
}

static cJSON *failed(int *status, const adm_err *e)
{
    *status = 502;
    return render_error(e);
}

/* An integer parameter; false when present but not a number. */
static bool int_arg(const api_req *r, const char *name, int64_t dflt, int64_t *out)
{
    const char *v = arg(r, name);
    *out = dflt;
    if (r->body && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r->body, name))) {
        *out = (int64_t)cJSON_GetObjectItemCaseSensitive(r->body, name)->valuedouble;
        return true;
    }
    return !v || parse_int64(v, out) == 0;
}

#define REQUIRE(var, name)                                                   \
    const char *var = arg(r, name);                                          \
    if (!var) return bad_request(status, "missing parameter \"%s\"", name)

/* ---- cluster and brokers ---- */

static cJSON *api_cluster(const api_req *r, int *status)
{
    cluster_info ci;
    adm_err e;
    if (adm_cluster_info(&ci, &e)) return failed(status, &e);
    cJSON *o = render_cluster(&ci), *c, *b, *a;
    cJSON *ns = cJSON_AddArrayToObject(o, "namesrvs");
    for (int i = 0; i < n_namesrvs; i++) cJSON_AddItemToArray(ns, cJSON_CreateString(namesrvs[i]));
    /* Each broker's headline figures, or why it could not tell them. */
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "clusters"))
        cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(c, "brokers"))
            cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(b, "addrs")) {
                cJSON *owner;
                const char *addr = str_field(a, "addr");
                const cJSON *table = adm_runtime_table(addr, &owner, &e);
                cJSON *st = table ? render_broker_status(addr, table) : render_error(&e);
                cJSON_DeleteItemFromObject(st, "table");
                cJSON_AddItemToObject(a, "status", st);
                cJSON_Delete(owner);
            }
    cJSON_Delete(ci.json);
    return o;
}

static cJSON *api_broker(const api_req *r, int *status)
{
    REQUIRE(addr, "addr");
    cJSON *owner;
    adm_err e;
    const cJSON *table = adm_runtime_table(addr, &owner, &e);
    cJSON *o = table ? render_broker_status(addr, table) : failed(status, &e);
    cJSON_Delete(owner);
    return o;
}

/* ---- topics ---- */

static cJSON *api_topics(const api_req *r, int *status)
{
    adm_err e;
    cJSON *list = adm_topic_list(&e);
    if (!list) return failed(status, &e);
    cJSON *o = render_topic_list(list);
    cJSON_Delete(list);
    return o;
}

static cJSON *api_topic(const api_req *r, int *status)
{
    REQUIRE(topic, "topic");
    route rt;
    adm_err e;
    if (adm_route(topic, &rt, &e)) return failed(status, &e);
    mq_entry *entries;
    int n, n_bodies;
    cJSON **bodies = adm_topic_stats(&rt, topic, &n_bodies, &entries, &n, &e);
    cJSON *o = bodies ? render_topic(topic, &rt, entries, n) : failed(status, &e);
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
    route_free(&rt);
    return o;
}

/* ---- consumer groups and connections ---- */

/* Consumer groups are the retry topics' names, as consumerProgress without -g finds them. */
static cJSON *api_groups(const api_req *r, int *status)
{
    adm_err e;
    cJSON *list = adm_topic_list(&e);
    if (!list) return failed(status, &e);
    cJSON *o = cJSON_CreateObject(), *groups = cJSON_AddArrayToObject(o, "groups"), *t;
    cJSON *sorted = render_topic_list(list);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(sorted, "topics")) {
        if (strcmp(str_field(t, "kind"), "retry")) continue;
        const char *group = str_field(t, "name") + strlen(RETRY_PREFIX);
        mq_entry *entries;
        int n, n_bodies;
        double tps;
        cJSON **bodies = adm_consume_stats(group, &n_bodies, &entries, &n, &tps, &e);
        cJSON *g = bodies ? render_group(group, entries, n, tps) : render_error(&e);
        cJSON_DeleteItemFromObject(g, "queues");
        if (!bodies) cJSON_AddStringToObject(g, "group", group);
        free_mq_entries(entries, n);
        free_bodies(bodies, n_bodies);
        cJSON *cc = adm_consumer_connection(group, NULL, &e);
        cJSON_AddNumberToObject(g, "clients",
                                cc ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cc, "connectionSet")) : 0);
        cJSON_Delete(cc);
        cJSON_AddItemToArray(groups, g);
    }
    cJSON_Delete(sorted);
    cJSON_Delete(list);
    return o;
}

static cJSON *api_group(const api_req *r, int *status)
{
    REQUIRE(group, "group");
    mq_entry *entries;
    int n, n_bodies;
    double tps;
    adm_err e;
    cJSON **bodies = adm_consume_stats(group, &n_bodies, &entries, &n, &tps, &e);
    if (!bodies) return failed(status, &e);
    cJSON *o = render_group(group, entries, n, tps);
    free_mq_entries(entries, n);
    free_bodies(bodies, n_bodies);
    cJSON *cc = adm_consumer_connection(group, NULL, &e);
    cJSON_AddItemToObject(o, "connections", cc ? render_connections(cc) : render_error(&e));
    cJSON_Delete(cc);
    return o;
}

static cJSON *api_connections(const api_req *r, int *status)
{
    REQUIRE(group, "group");
    const char *topic = arg(r, "topic");   /* with a topic: the producer group's connections */
    adm_err e;
    cJSON *body = topic ? adm_producer_connection(group, topic, &e) : adm_consumer_connection(group, NULL, &e);
    if (!body) return failed(status, &e);
    cJSON *o = render_connections(body);
    cJSON_AddStringToObject(o, "kind", topic ? "producer" : "consumer");
    cJSON_Delete(body);
    return o;
}

/* ---- messages ---- */

static cJSON *messages_json(message *m, int n)
{
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "messages");
    for (int i = 0; i < n && i < MAX_LISTED; i++) cJSON_AddItemToArray(list, render_message(&m[i]));
    cJSON_AddBoolToObject(o, "more", n > MAX_LISTED);
    free_messages(m, n);
    return o;
}

static cJSON *api_message_by_id(const api_req *r, int *status)
{
    REQUIRE(id, "id");
    const char *topic = arg(r, "topic");
    message *m;
    int n;
    adm_err e;
    /* An offset msgId names its broker; a producer's UNIQ_KEY needs the topic to search. */
    int rc = adm_view_message(id, &m, &n, &e);
    if (rc && topic) rc = adm_query_messages(topic, id, true, &m, &n, &e);
    if (rc) return failed(status, &e);
    return messages_json(m, n);
}

static cJSON *api_message_by_key(const api_req *r, int *status)
{
    REQUIRE(topic, "topic");
    REQUIRE(key, "key");
    message *m;
    int n;
    adm_err e;
    if (adm_query_messages(topic, key, false, &m, &n, &e)) return failed(status, &e);
    return messages_json(m, n);
}

static int cmp_store_time(const void *a, const void *b)
{
    const message *x = a, *y = b;
    return (x->rec.store_timestamp > y->rec.store_timestamp) - (x->rec.store_timestamp < y->rec.store_timestamp);
}

/* Messages stored in [begin, end]: each queue from SEARCH_OFFSET_BY_TIMESTAMP(begin), pulled until past end. */
static cJSON *api_message_by_time(const api_req *r, int *status)
{
    REQUIRE(topic, "topic");
    int64_t begin, end;
    if (!int_arg(r, "begin", 0, &begin) || !int_arg(r, "end", INT64_MAX, &end) || begin > end)
        return bad_request(status, "%s", "begin and end are times in milliseconds, begin first");
    route rt;
    adm_err e;
    if (adm_route(topic, &rt, &e)) return failed(status, &e);
    int nq, n = 0, rc = 0;
    mq *queues = subscribe_queues(&rt, topic, &nq);
    message *all = NULL;
    for (int i = 0; i < nq && !rc; i++) {
        int64_t off, max;
        rc = adm_queue_offset(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], begin, &off, &e);
        if (!rc) rc = adm_queue_offset(GET_MAX_OFFSET, &queues[i], 0, &max, &e);
        int taken = 0;
        while (!rc && off < max && taken <= MAX_LISTED) {
            pull_result pr;
            rc = adm_pull(&queues[i], TOOLS_CONSUMER_GROUP, "*", off, 32, &pr, &e);
            if (rc || pr.code != RC_SUCCESS || !pr.n) {
                free_messages(pr.msgs, pr.n);
                break;
            }
            off = pr.next_begin;
            bool past = false;
            for (int k = 0; k < pr.n; k++) {
                if (pr.msgs[k].rec.store_timestamp < begin || pr.msgs[k].rec.store_timestamp > end) {
                    past |= pr.msgs[k].rec.store_timestamp > end;
                    msg_props_free(&pr.msgs[k].props);
                    free(pr.msgs[k].raw);
                    continue;
                }
                all = xrealloc(all, (size_t)(n + 1) * sizeof *all);
                all[n++] = pr.msgs[k];
                taken++;
            }
            free(pr.msgs);   /* the kept messages moved into `all` */
            if (past) break;
        }
    }
    free(queues);
    route_free(&rt);
    if (rc) {
        free_messages(all, n);
        return failed(status, &e);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_store_time);
    return messages_json(all, n);
}

static cJSON *api_send(const api_req *r, int *status)
{
    REQUIRE(topic, "topic");
    const char *body = arg(r, "body"), *tags = arg(r, "tags"), *keys = arg(r, "keys");
    if (!body) return bad_request(status, "%s", "a message needs a body");
    msg_props props;
    msg_props_init(&props);
    if (keys) msg_props_set(&props, "KEYS", keys);
    if (tags) msg_props_set(&props, "TAGS", tags);
    adm_send_result res;
    adm_err e;
    int rc = adm_send_message(topic, arg(r, "broker"), -1, &props, body, &res, &e);
    msg_props_free(&props);
    if (rc) return failed(status, &e);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", send_status(res.code));
    cJSON_AddStringToObject(o, "msgId", res.msg_id);
    cJSON_AddStringToObject(o, "broker", res.broker_name);
    cJSON_AddNumberToObject(o, "queueId", res.queue_id);
    return o;
}

/* resetOffsetByTime: the broker tells the group's consumers; with none online the console commits. */
static cJSON *api_reset(const api_req *r, int *status)
{
    REQUIRE(group, "group");
    REQUIRE(topic, "topic");
    int64_t ts;
    if (!int_arg(r, "timestamp", -1, &ts) || ts < -1)
        return bad_request(status, "%s", "timestamp is milliseconds since the epoch, or -1 for now");
    const cJSON *f = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "force") : NULL;
    bool force = !cJSON_IsFalse(f);
    mq_entry *entries;
    int n, n_bodies;
    adm_err e;
    cJSON **bodies = adm_reset_offset(group, topic, ts, force, false, &n_bodies, &entries, &n, &e);
    if (bodies) {
        cJSON *o = render_reset(entries, n, NULL, 0);
        free_mq_entries(entries, n);
        free_bodies(bodies, n_bodies);
        return o;
    }
    if (e.code != RC_CONSUMER_NOT_ONLINE) return failed(status, &e);
    route rt;
    reset_row *rows;
    int rc = adm_reset_offset_old(group, topic, ts, force, &rt, &rows, &n, &e);
    cJSON *o = rc ? failed(status, &e) : render_reset(NULL, 0, rows, n);
    free(rows);
    route_free(&rt);
    return o;
}

const api_route console_api[] = {
    {"GET", "/api/cluster", api_cluster},
    {"GET", "/api/broker", api_broker},
    {"GET", "/api/topics", api_topics},
    {"GET", "/api/topic", api_topic},
    {"GET", "/api/groups", api_groups},
    {"GET", "/api/group", api_group},
    {"GET", "/api/connections", api_connections},
    {"GET", "/api/message/id", api_message_by_id},
    {"GET", "/api/message/key", api_message_by_key},
    {"GET", "/api/message/time", api_message_by_time},
    {"POST", "/api/send", api_send},
    {"POST", "/api/reset", api_reset},
    {NULL, NULL, NULL},
};
