/*
 * The SDK clients (x-mq-client-id): each gets a local connection into the broker's
 * remoting server, over which its RPCs run as remoting requests, and over which the
 * broker registers it (HEART_BEAT, built from the Settings the client reported on its
 * Telemetry stream, as Apache's proxy ClientActivity does) and reaches it back
 * (CHECK_TRANSACTION_STATE, sent on to the Telemetry stream). A client that stops
 * calling for CLIENT_EXPIRE_MS is dropped, as the broker drops a silent channel.
 * Also here: the method table and the server's life cycle.
 */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"

enum { HEART_BEAT = 34, UNREGISTER_CLIENT = 35, CHECK_TRANSACTION_STATE = 39 };
#define CLIENT_EXPIRE_MS 120000
#define SWEEP_MS 10000

typedef struct gpending {
    int32_t opaque;
    gclient_reply_fn cb;
    void *arg;
    struct gpending *next;
} gpending;

/* ---- local invocation ---- */

static void sink(rmq_conn *conn, rmq_cmd *cmd, void *arg)
{
    gclient *cl = arg;
    if (!cmd_is_response(cmd)) {
        if (cmd->code == CHECK_TRANSACTION_STATE) grpc_recover_transaction(cl, cmd);
        cmd_free(cmd);   /* other broker -> client calls (consumer ids changed, ...) have no gRPC form */
        return;
    }
    for (gpending **pp = &cl->pendings; *pp; pp = &(*pp)->next) {
        gpending *p = *pp;
        if (p->opaque == cmd->opaque) {
            *pp = p->next;
            p->cb(cmd, p->arg);
            free(p);
            return;
        }
    }
    cmd_free(cmd);
}

void gclient_invoke(gclient *cl, rmq_cmd *req, gclient_reply_fn cb, void *arg)
{
    gpending *p = xcalloc(1, sizeof *p);
    p->opaque = req->opaque = ++cl->next_opaque;
    p->cb = cb;
    p->arg = arg;
    p->next = cl->pendings;
    cl->pendings = p;
    req->language = cl->language;
    req->version = RMQ_OUR_VERSION;
    rmq_local_invoke(cl->conn, req);
}

static int language_of(const char *name)
{
    if (!name) return RMQ_LANGUAGE_JAVA;
    int l = language_from_name(name);
    if (l < 0 && !strcmp(name, "GOLANG")) l = language_from_name("GO");
    return l < 0 ? language_from_name("OTHER") : l;
}

gclient *gclient_of(gcall *c)
{
    grpc_server *g = c->srv;
    const char *id = c->client_id ? c->client_id : "";
    for (gclient *cl = g->clients; cl; cl = cl->next)
        if (!strcmp(cl->id, id)) {
            cl->last_seen_ms = mono_ms();
            return cl;
        }
    gclient *cl = xcalloc(1, sizeof *cl);
    cl->srv = g;
    cl->id = xstrdup(id);
    cl->language = language_of(c->language);
    cl->conn = rmq_local_conn_new(g->b->server, c->peer, sink, cl);
    rmq_conn_hold(cl->conn);   /* ours, beside the server's that closing drops */
    rmq_local_conn_trust(cl->conn);   /* access.c checked the call; its requests skip the broker's ACL */
    cl->last_seen_ms = mono_ms();
    cl->next = g->clients;
    g->clients = cl;
    log_info("grpc", "new client %s from %s", cl->id, c->peer);
    return cl;
}

void gclient_destroy(gclient *cl)
{
    while (cl->pendings) {
        gpending *p = cl->pendings;
        cl->pendings = p->next;
        p->cb(NULL, p->arg);
        free(p);
    }
    rmq_conn_close(cl->conn);     /* the broker forgets what was registered over it */
    rmq_conn_release(cl->conn);
    if (cl->telemetry) gcall_release(cl->telemetry);
    if (cl->settings) apache__rocketmq__v2__settings__free_unpacked(cl->settings, NULL);
    free(cl->group);
    free(cl->id);
    free(cl);
}

static void gclient_remove(gclient *cl)
{
    grpc_server *g = cl->srv;
    for (gclient **pp = &g->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    gclient_destroy(cl);
}

void gclient_free_all(grpc_server *g)
{
    while (g->clients) gclient_remove(g->clients);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    grpc_server *g = arg;
    int64_t now = mono_ms();
    for (gclient *cl = g->clients, *nx; cl; cl = nx) {
        nx = cl->next;
        bool streaming = cl->telemetry && gcall_alive(cl->telemetry);
        if (!streaming && now - cl->last_seen_ms > CLIENT_EXPIRE_MS) {
            log_info("grpc", "client %s silent for %d s: dropped", cl->id, CLIENT_EXPIRE_MS / 1000);
            gclient_remove(cl);
        }
    }
}

void gclient_start_sweep(grpc_server *g)
{
    g->sweep_ev = event_new(g->b->base, -1, EV_PERSIST, sweep_cb, g);
    struct timeval tv = {SWEEP_MS / 1000, 0};
    event_add(g->sweep_ev, &tv);
}

/* ---- registration ---- */

/* SubscriptionData of one entry: the TAG expression's tags and their hash codes. */
static cJSON *subscription_json(const Apache__Rocketmq__V2__SubscriptionEntry *e)
{
    const char *expr = e->expression && e->expression->expression && *e->expression->expression
                           ? e->expression->expression
                           : "*";
    bool sql = e->expression && e->expression->type == APACHE__ROCKETMQ__V2__FILTER_TYPE__SQL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "classFilterMode", false);
    cJSON_AddStringToObject(o, "topic", resource_name(e->topic));
    cJSON_AddStringToObject(o, "subString", expr);
    cJSON *tags = cJSON_AddArrayToObject(o, "tagsSet"), *codes = cJSON_AddArrayToObject(o, "codeSet");
    if (!sql && strcmp(expr, "*") != 0) {
        char *copy = xstrdup(expr), *save = NULL;
        for (char *t = strtok_r(copy, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
            while (*t == ' ') t++;
            size_t n = strlen(t);
            while (n && t[n - 1] == ' ') t[--n] = 0;
            if (!n) continue;
            cJSON_AddItemToArray(tags, cJSON_CreateString(t));
            cJSON_AddItemToArray(codes, cJSON_CreateNumber(java_string_hash(t, n)));
        }
        free(copy);
    }
    cJSON_AddNumberToObject(o, "subVersion", (double)now_ms());
    cJSON_AddStringToObject(o, "expressionType", sql ? "SQL92" : "TAG");
    return o;
}

static void heartbeat_done(rmq_cmd *resp, void *arg)
{
    gclient *cl = arg;
    if (resp && resp->code != 0)
        log_warn("grpc", "client %s: HEART_BEAT refused: %d %s", cl->id, resp->code, resp->remark ? resp->remark : "");
    cmd_free(resp);
}

void gclient_heartbeat(gclient *cl)
{
    const Apache__Rocketmq__V2__Settings *s = cl->settings;
    if (!s) return;
    cJSON *hb = cJSON_CreateObject();
    cJSON_AddStringToObject(hb, "clientID", cl->id);
    cJSON *producers = cJSON_AddArrayToObject(hb, "producerDataSet");
    cJSON *consumers = cJSON_AddArrayToObject(hb, "consumerDataSet");
    if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_PUBLISHING) {
        /* Apache's proxy: a gRPC producer's group is the topic it publishes to. */
        for (size_t i = 0; i < s->publishing->n_topics; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "groupName", resource_name(s->publishing->topics[i]));
            cJSON_AddItemToArray(producers, p);
        }
    } else if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_SUBSCRIPTION && cl->group) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "groupName", cl->group);
        cJSON_AddStringToObject(c, "consumeType", cl->client_type == APACHE__ROCKETMQ__V2__CLIENT_TYPE__PUSH_CONSUMER
                                                      ? "CONSUME_PASSIVELY"
                                                      : "CONSUME_ACTIVELY");
        cJSON_AddStringToObject(c, "messageModel", "CLUSTERING");
        cJSON_AddStringToObject(c, "consumeFromWhere", "CONSUME_FROM_LAST_OFFSET");
        cJSON *subs = cJSON_AddArrayToObject(c, "subscriptionDataSet");
        for (size_t i = 0; i < s->subscription->n_subscriptions; i++)
            cJSON_AddItemToArray(subs, subscription_json(s->subscription->subscriptions[i]));
        cJSON_AddBoolToObject(c, "unitMode", false);
        cJSON_AddItemToArray(consumers, c);
    }
    char *body = cJSON_PrintUnformatted(hb);
    cJSON_Delete(hb);
    rmq_cmd *req = cmd_new_request(HEART_BEAT);
    cmd_take_body(req, body, strlen(body));
    gclient_invoke(cl, req, heartbeat_done, cl);
}

/* ---- the method table ---- */

#define SERVICE "/apache.rocketmq.v2.MessagingService/"

/* ServerCalls.asyncUnimplementedUnaryCall: "Method <service>/<method> is unimplemented". */
static void rpc_unimplemented(gcall *c, const uint8_t *m, size_t n)
{
    (void)m, (void)n;
    char *why = str_printf("Method %s is unimplemented", c->path + (*c->path == '/'));
    gcall_finish(c, GRPC_UNIMPLEMENTED, why);
    free(why);
}

#define M(n, kind, req, resp, handle, closed)                                                                  \
    {n, kind, &apache__rocketmq__v2__##req##__descriptor, &apache__rocketmq__v2__##resp##__descriptor, handle, closed}
static const grpc_method methods[] = {
    M("QueryRoute", GRPC_UNARY, query_route_request, query_route_response, rpc_query_route, NULL),
    M("Heartbeat", GRPC_UNARY, heartbeat_request, heartbeat_response, rpc_heartbeat, NULL),
    M("SendMessage", GRPC_UNARY, send_message_request, send_message_response, rpc_send_message, NULL),
    M("QueryAssignment", GRPC_UNARY, query_assignment_request, query_assignment_response, rpc_query_assignment,
      NULL),
    M("ReceiveMessage", GRPC_SERVER_STREAM, receive_message_request, receive_message_response, rpc_receive_message,
      NULL),
    M("AckMessage", GRPC_UNARY, ack_message_request, ack_message_response, rpc_ack_message, NULL),
    M("ForwardMessageToDeadLetterQueue", GRPC_UNARY, forward_message_to_dead_letter_queue_request,
      forward_message_to_dead_letter_queue_response, rpc_forward_dlq, NULL),
    M("EndTransaction", GRPC_UNARY, end_transaction_request, end_transaction_response, rpc_end_transaction, NULL),
    M("Telemetry", GRPC_BIDI, telemetry_command, telemetry_command, rpc_telemetry, rpc_telemetry_closed),
    M("NotifyClientTermination", GRPC_UNARY, notify_client_termination_request,
      notify_client_termination_response, rpc_notify_termination, NULL),
    M("ChangeInvisibleDuration", GRPC_UNARY, change_invisible_duration_request,
      change_invisible_duration_response, rpc_change_invisible, NULL),
    M("RecallMessage", GRPC_UNARY, recall_message_request, recall_message_response, rpc_recall_message, NULL),
    /* In the service Apache 5.3 serves (rocketmq-proto 2.0.4) but not implemented by its proxy,
     * nor called by any released SDK's consumer: grpc-java's answer, before any access check. */
    {"PullMessage", GRPC_SERVER_STREAM, NULL, NULL, rpc_unimplemented, NULL},
    {"UpdateOffset", GRPC_UNARY, NULL, NULL, rpc_unimplemented, NULL},
    {"GetOffset", GRPC_UNARY, NULL, NULL, rpc_unimplemented, NULL},
    {"QueryOffset", GRPC_UNARY, NULL, NULL, rpc_unimplemented, NULL},
};
#undef M

const grpc_method *grpc_method_find(const char *path)
{
    size_t n = strlen(SERVICE);
    if (strncmp(path, SERVICE, n) != 0) return NULL;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(path + n, methods[i].name)) return &methods[i];
    return NULL;
}

/* ---- life cycle ---- */

grpc_server *grpc_server_new(broker *b, int port, char *err, size_t errlen)
{
    grpc_server *g = xcalloc(1, sizeof *g);
    g->b = b;
    /* A message is at most maxMessageSize of body; the rest of a request is small. */
    g->max_message = (size_t)b->cfg.maxMessageSize + (1u << 20);
    if (h2_listen(g, port, err, errlen)) {
        grpc_server_free(g);
        return NULL;
    }
    gclient_start_sweep(g);
    return g;
}

void grpc_server_free(grpc_server *g)
{
    if (!g) return;
    h2_close_all(g);
    grpc_peers_free(g);
    gclient_free_all(g);
    if (g->sweep_ev) event_free(g->sweep_ev);
    if (g->ssl_ctx) SSL_CTX_free(g->ssl_ctx);
    free(g);
}

int grpc_server_port(const grpc_server *g) { return g->port; }
