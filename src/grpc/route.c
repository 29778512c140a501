/*
 * QueryRoute and QueryAssignment (Apache's proxy RouteActivity): the topic's route
 * from the name server (GET_ROUTEINFO_BY_TOPIC; the broker's own topic table when it
 * has no name server), turned into message queues whose broker endpoints are the gRPC
 * endpoints of the brokers — every master of the route, at its host and its own gRPC
 * port (peers.c learns the other brokers' from them).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"
#include "meta/meta.h"
#include "processor/response_codes.h"

enum { GET_ROUTEINFO_BY_TOPIC = 105 };
#define ROUTE_TIMEOUT_MS 3000

typedef Apache__Rocketmq__V2__MessageQueue mq_t;

/* One request's route work: the call and what it asked. */
typedef struct route_job {
    gcall *call;
    char *topic;
    bool assignment;     /* QueryAssignment (else QueryRoute) */
    cJSON *route;        /* the name server's answer, while the brokers' ports are asked */
} route_job;

/* A growing list of protobuf messages, all freed together. */
typedef struct pool {
    void **items;
    size_t n;
} pool;

static void *pool_add(pool *p, void *item)
{
    p->items = xrealloc(p->items, (p->n + 1) * sizeof *p->items);
    p->items[p->n++] = item;
    return item;
}

static char *pool_str(pool *p, const char *s) { return pool_add(p, xstrdup(s)); }

static void pool_free(pool *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->items[i]);
    free(p->items);
}

static int message_type_of(const char *name)
{
    if (!strcmp(name, "FIFO")) return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__FIFO;
    if (!strcmp(name, "DELAY")) return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__DELAY;
    if (!strcmp(name, "TRANSACTION")) return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__TRANSACTION;
    if (!strcmp(name, "NORMAL")) return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__NORMAL;
    return APACHE__ROCKETMQ__V2__MESSAGE_TYPE__MESSAGE_TYPE_UNSPECIFIED;
}

static int permission_of(int perm)
{
    bool r = perm & PERM_READ, w = perm & PERM_WRITE;
    return r && w ? APACHE__ROCKETMQ__V2__PERMISSION__READ_WRITE
           : r    ? APACHE__ROCKETMQ__V2__PERMISSION__READ
           : w    ? APACHE__ROCKETMQ__V2__PERMISSION__WRITE
                  : APACHE__ROCKETMQ__V2__PERMISSION__NONE;
}

/* The Broker message of BROKER_NAME whose master serves remoting at ADDR ("host:port"). */
static Apache__Rocketmq__V2__Broker *broker_msg(grpc_server *g, pool *p, const char *broker_name, const char *addr)
{
    char host[256];
    int port;
    if (split_host_port(addr, host, sizeof host, &port)) snprintf(host, sizeof host, "%s", g->b->cfg.brokerIP1);
    Apache__Rocketmq__V2__Address *a = pool_add(p, xmalloc(sizeof *a));
    apache__rocketmq__v2__address__init(a);
    a->host = pool_str(p, host);
    a->port = grpc_peer_port(g, addr);
    Apache__Rocketmq__V2__Address **list = pool_add(p, xmalloc(sizeof *list));
    list[0] = a;
    Apache__Rocketmq__V2__Endpoints *e = pool_add(p, xmalloc(sizeof *e));
    apache__rocketmq__v2__endpoints__init(e);
    e->scheme = strchr(host, ':') ? APACHE__ROCKETMQ__V2__ADDRESS_SCHEME__IPv6
                : strspn(host, "0123456789.") == strlen(host) ? APACHE__ROCKETMQ__V2__ADDRESS_SCHEME__IPv4
                                                               : APACHE__ROCKETMQ__V2__ADDRESS_SCHEME__DOMAIN_NAME;
    e->n_addresses = 1;
    e->addresses = list;
    Apache__Rocketmq__V2__Broker *br = pool_add(p, xmalloc(sizeof *br));
    apache__rocketmq__v2__broker__init(br);
    br->name = pool_str(p, broker_name);
    br->id = 0;
    br->endpoints = e;
    return br;
}

typedef struct queue_list {
    mq_t **q;
    size_t n;
} queue_list;

static mq_t *add_queue(pool *p, queue_list *l, Apache__Rocketmq__V2__Resource *topic, int id, int perm,
                       Apache__Rocketmq__V2__Broker *br, int *types, size_t n_types)
{
    mq_t *q = pool_add(p, xmalloc(sizeof *q));
    apache__rocketmq__v2__message_queue__init(q);
    q->topic = topic;
    q->id = id;
    q->permission = perm;
    q->broker = br;
    q->n_accept_message_types = n_types;
    q->accept_message_types = (Apache__Rocketmq__V2__MessageType *)types;
    l->q = xrealloc(l->q, (l->n + 1) * sizeof *l->q);
    l->q[l->n++] = q;
    return q;
}

/* The master address of BROKER_NAME in the route's brokerDatas, or NULL. */
static const char *master_of(const cJSON *brokers, const char *broker_name)
{
    const cJSON *bd;
    cJSON_ArrayForEach(bd, brokers)
    {
        const char *name;
        if (fjson_field_string(bd, "brokerName", &name) != FJSON_OK || strcmp(name, broker_name)) continue;
        const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(bd, "brokerAddrs"), *a;
        cJSON_ArrayForEach(a, addrs)
        {
            if (!strcmp(a->string, "0") && cJSON_IsString(a)) return a->valuestring;
        }
    }
    return NULL;
}

/* Answers the call from a route (TopicRouteData JSON). */
static void answer_route(route_job *j, const cJSON *route)
{
    grpc_server *g = j->call->srv;
    pool p = {0};
    queue_list l = {0};
    Apache__Rocketmq__V2__Resource *topic = pool_add(&p, xmalloc(sizeof *topic));
    apache__rocketmq__v2__resource__init(topic);
    topic->name = pool_str(&p, j->topic);
    topic_config tc;
    int *types = pool_add(&p, xmalloc(sizeof *types));
    types[0] = message_type_of(topic_table_get(g->b->topics, j->topic, &tc) ? topic_config_message_type(&tc) : "NORMAL");
    const cJSON *brokers = cJSON_GetObjectItemCaseSensitive(route, "brokerDatas");
    const cJSON *qd;
    cJSON_ArrayForEach(qd, cJSON_GetObjectItemCaseSensitive(route, "queueDatas"))
    {
        const char *name;
        int32_t perm = 0, rn = 0, wn = 0;
        if (fjson_field_string(qd, "brokerName", &name) != FJSON_OK) continue;
        fjson_field_int32(qd, "perm", &perm);
        fjson_field_int32(qd, "readQueueNums", &rn);
        fjson_field_int32(qd, "writeQueueNums", &wn);
        const char *addr = master_of(brokers, name);
        if (!addr) continue;
        Apache__Rocketmq__V2__Broker *br = broker_msg(g, &p, name, addr);
        if (j->assignment) {
            /* One assignment per readable broker, queue -1: the broker picks queues (POP). */
            if ((perm & PERM_READ) && rn > 0) add_queue(&p, &l, topic, -1, permission_of(perm), br, types, 1);
            continue;
        }
        /* RouteActivity.genMessageQueueFromQueueData: read-only, write-only, then read-write ids. */
        int r = 0, w = 0, rw = 0;
        if ((perm & PERM_READ) && (perm & PERM_WRITE)) {
            rw = rn < wn ? rn : wn;
            r = rn - rw;
            w = wn - rw;
        } else if (perm & PERM_WRITE) {
            w = wn;
        } else if (perm & PERM_READ) {
            r = rn;
        }
        int id = 0;
        for (int i = 0; i < r; i++) add_queue(&p, &l, topic, id++, APACHE__ROCKETMQ__V2__PERMISSION__READ, br, types, 1);
        for (int i = 0; i < w; i++) add_queue(&p, &l, topic, id++, APACHE__ROCKETMQ__V2__PERMISSION__WRITE, br, types, 1);
        for (int i = 0; i < rw; i++)
            add_queue(&p, &l, topic, id++, APACHE__ROCKETMQ__V2__PERMISSION__READ_WRITE, br, types, 1);
    }
    if (j->assignment) {
        Apache__Rocketmq__V2__QueryAssignmentResponse resp = APACHE__ROCKETMQ__V2__QUERY_ASSIGNMENT_RESPONSE__INIT;
        Apache__Rocketmq__V2__Assignment **as = xcalloc(l.n ? l.n : 1, sizeof *as);
        for (size_t i = 0; i < l.n; i++) {
            as[i] = pool_add(&p, xmalloc(sizeof **as));
            apache__rocketmq__v2__assignment__init(as[i]);
            as[i]->message_queue = l.q[i];
        }
        resp.n_assignments = l.n;
        resp.assignments = as;
        resp.status = l.n ? status_new(APACHE__ROCKETMQ__V2__CODE__OK, NULL)
                          : status_new(APACHE__ROCKETMQ__V2__CODE__FORBIDDEN, "no readable queue");
        gcall_answer(j->call, &resp.base);
        status_free(resp.status);
        free(as);
    } else {
        Apache__Rocketmq__V2__QueryRouteResponse resp = APACHE__ROCKETMQ__V2__QUERY_ROUTE_RESPONSE__INIT;
        resp.status = status_new(APACHE__ROCKETMQ__V2__CODE__OK, NULL);
        resp.n_message_queues = l.n;
        resp.message_queues = l.q;
        gcall_answer(j->call, &resp.base);
        status_free(resp.status);
    }
    free(l.q);
    pool_free(&p);
}

static void answer_status(route_job *j, int code, const char *msg)
{
    gcall_answer_status(j->call,
                        j->assignment ? &apache__rocketmq__v2__query_assignment_response__descriptor
                                      : &apache__rocketmq__v2__query_route_response__descriptor,
                        code, msg);
}

static void job_free(route_job *j)
{
    gcall_release(j->call);
    free(j->topic);
    free(j);
}

static void route_learned(void *arg)
{
    route_job *j = arg;
    answer_route(j, j->route);
    cJSON_Delete(j->route);
    job_free(j);
}

static void route_reply(rmq_cmd *resp, const char *err, void *arg)
{
    route_job *j = arg;
    if (!resp) {
        answer_status(j, APACHE__ROCKETMQ__V2__CODE__PROXY_TIMEOUT, err ? err : "name server did not answer");
    } else if (resp->code == RC_TOPIC_NOT_EXIST) {
        char why[400];
        snprintf(why, sizeof why, "No topic route info in name server for the topic: %.300s", j->topic);
        answer_status(j, APACHE__ROCKETMQ__V2__CODE__TOPIC_NOT_FOUND, why);
    } else if (resp->code != RC_SUCCESS) {
        answer_status(j, status_code_of_remoting(resp->code), resp->remark);
    } else {
        const char *perr;
        cJSON *route = fjson_parse((const char *)resp->body, resp->body_len, &perr);
        if (route) {
            /* Every master's gRPC port first (peers.c), then the answer. */
            j->route = route;
            const char *addrs[64];
            int n = 0;
            const cJSON *bd, *a;
            cJSON_ArrayForEach(bd, cJSON_GetObjectItemCaseSensitive(route, "brokerDatas"))
            {
                cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(bd, "brokerAddrs"))
                {
                    if (n < 64 && !strcmp(a->string, "0") && cJSON_IsString(a)) addrs[n++] = a->valuestring;
                }
            }
            cmd_free(resp);
            grpc_peers_learn(j->call->srv, addrs, n, route_learned, j);
            return;
        }
        answer_status(j, APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR, perr);
    }
    cmd_free(resp);
    job_free(j);
}

/* Without a name server: this broker's own queues of the topic. */
static void route_from_own_table(route_job *j)
{
    topic_config tc;
    grpc_server *g = j->call->srv;
    if (!topic_table_get(g->b->topics, j->topic, &tc)) {
        char why[400];
        snprintf(why, sizeof why, "No topic route info in name server for the topic: %.300s", j->topic);
        answer_status(j, APACHE__ROCKETMQ__V2__CODE__TOPIC_NOT_FOUND, why);
        return;
    }
    cJSON *route = cJSON_CreateObject();
    cJSON *bd = cJSON_CreateObject(), *addrs = cJSON_CreateObject(), *qd = cJSON_CreateObject();
    cJSON_AddStringToObject(bd, "brokerName", g->b->cfg.brokerName);
    cJSON_AddStringToObject(addrs, "0", g->b->addr);
    cJSON_AddItemToObject(bd, "brokerAddrs", addrs);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(route, "brokerDatas"), bd);
    cJSON_AddStringToObject(qd, "brokerName", g->b->cfg.brokerName);
    cJSON_AddNumberToObject(qd, "perm", tc.perm & g->b->cfg.brokerPermission);
    cJSON_AddNumberToObject(qd, "readQueueNums", tc.read_queue_nums);
    cJSON_AddNumberToObject(qd, "writeQueueNums", tc.write_queue_nums);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(route, "queueDatas"), qd);
    answer_route(j, route);
    cJSON_Delete(route);
}

static void query(gcall *c, const char *topic, bool assignment)
{
    route_job *j = xcalloc(1, sizeof *j);
    gcall_hold(c);
    j->call = c;
    j->topic = xstrdup(topic);
    j->assignment = assignment;
    if (!*topic) {
        answer_status(j, APACHE__ROCKETMQ__V2__CODE__ILLEGAL_TOPIC, "topic name cannot be empty");
        job_free(j);
        return;
    }
    broker *b = c->srv->b;
    if (!b->cfg.namesrvAddr || !*b->cfg.namesrvAddr) {
        route_from_own_table(j);
        job_free(j);
        return;
    }
    char addr[256];
    snprintf(addr, sizeof addr, "%.*s", (int)strcspn(b->cfg.namesrvAddr, ";"), b->cfg.namesrvAddr);
    rmq_cmd *req = cmd_new_request(GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    rmq_client_request(b->client, addr, req, ROUTE_TIMEOUT_MS, route_reply, j);
}

/* ---- a broker's remoting address by name (recalls of another broker's messages) ---- */

typedef struct addr_job {
    char *broker_name;
    grpc_addr_fn cb;
    void *arg;
} addr_job;

static void addr_reply(rmq_cmd *resp, const char *err, void *arg)
{
    addr_job *j = arg;
    cJSON *route = resp && resp->code == RC_SUCCESS && resp->body
                       ? fjson_parse((const char *)resp->body, resp->body_len, &err)
                       : NULL;
    const char *addr = route ? master_of(cJSON_GetObjectItemCaseSensitive(route, "brokerDatas"), j->broker_name) : NULL;
    j->cb(addr, j->arg);
    cJSON_Delete(route);
    cmd_free(resp);
    free(j->broker_name);
    free(j);
}

void grpc_broker_addr(grpc_server *g, const char *topic, const char *broker_name, grpc_addr_fn cb, void *arg)
{
    broker *b = g->b;
    if (!b->cfg.namesrvAddr || !*b->cfg.namesrvAddr) {
        cb(NULL, arg);
        return;
    }
    addr_job *j = xcalloc(1, sizeof *j);
    j->broker_name = xstrdup(broker_name);
    j->cb = cb;
    j->arg = arg;
    char addr[256];
    snprintf(addr, sizeof addr, "%.*s", (int)strcspn(b->cfg.namesrvAddr, ";"), b->cfg.namesrvAddr);
    rmq_cmd *req = cmd_new_request(GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    rmq_client_request(b->client, addr, req, ROUTE_TIMEOUT_MS, addr_reply, j);
}

void rpc_query_route(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__QueryRouteRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__query_route_request__descriptor, m, n);
    if (!r) return;
    query(c, resource_name(r->topic), false);
    apache__rocketmq__v2__query_route_request__free_unpacked(r, NULL);
}

void rpc_query_assignment(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__QueryAssignmentRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__query_assignment_request__descriptor, m, n);
    if (!r) return;
    gclient_of(c);
    query(c, resource_name(r->topic), true);
    apache__rocketmq__v2__query_assignment_request__free_unpacked(r, NULL);
}
