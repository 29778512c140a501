/*
 * Server-side rebalance — Apache 5.3's QueryAssignmentProcessor:
 * QUERY_ASSIGNMENT (400), SET_MESSAGE_REQUEST_MODE (401), and
 * GET_ALL_MESSAGE_REQUEST_MODE (402, an AdminBrokerProcessor code).
 *
 * A client with clientRebalance=false asks which queues of a topic are its
 * own and whether to PULL or POP them. In POP mode with the default
 * popShareQueueNum (-1) every client gets the whole topic as queue -1 and
 * the broker spreads the messages. Retry topics (%RETRY%) are always PULL.
 * The queues are the topic's in the whole cluster, from the name server's
 * route (asked at each query, answered when it comes); without a name server,
 * or when it does not answer, this broker's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/clients.h"
#include "broker/pop.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"

enum { QUERY_ASSIGNMENT = 400, SET_MESSAGE_REQUEST_MODE = 401, GET_ALL_MESSAGE_REQUEST_MODE = 402,
       GET_ROUTEINFO_BY_TOPIC = 105 };

static bool is_retry(const char *topic)
{
    return strncmp(topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0;
}

/* A queue of the topic somewhere in the cluster; queue -1 is "any queue of that broker" (POP). */
typedef struct mq {
    const char *broker;
    int32_t qid;
} mq;

typedef struct mq_set {
    mq *v;
    int n, cap;
} mq_set;

/* Adds M unless there (a Set); keeps the order of first addition. */
static void add(mq_set *s, mq m)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i].qid == m.qid && strcmp(s->v[i].broker, m.broker) == 0) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
    }
    s->v[s->n++] = m;
}

/* MessageQueue.compareTo: topic (one here), broker name, queue id. */
static int by_queue(const void *a, const void *b)
{
    const mq *x = a, *y = b;
    int c = strcmp(x->broker, y->broker);
    return c ? c : x->qid < y->qid ? -1 : x->qid > y->qid;
}

static int index_of(char **cids, int n, const char *cid)
{
    for (int i = 0; i < n; i++)
        if (strcmp(cids[i], cid) == 0) return i;
    return -1;
}

/* AllocateMessageQueueAveragely / AllocateMessageQueueAveragelyByCircle over ALL (sorted). */
static void allocate(bool circle, const mq_set *all, char **cids, int nc, const char *cid, mq_set *out)
{
    int index = index_of(cids, nc, cid), nq = all->n;
    if (index < 0 || nq == 0) return;
    if (circle) {
        for (int i = index; i < nq; i += nc) add(out, all->v[i]);
        return;
    }
    int mod = nq % nc;
    int avg = nq <= nc ? 1 : (mod > 0 && index < mod ? nq / nc + 1 : nq / nc);
    int start = (mod > 0 && index < mod) ? index * avg : index * avg + mod;
    int range = avg < nq - start ? avg : nq - start;
    for (int i = 0; i < range; i++) add(out, all->v[(start + i) % nq]);
}

/* allocate4Pop */
static void allocate_pop(bool circle, const mq_set *all, char **cids, int nc, const char *cid, int share,
                         mq_set *out)
{
    if (share <= 0 || share >= nc - 1) {
        for (int i = 0; i < all->n; i++) add(out, (mq){all->v[i].broker, -1});  /* every client POPs all */
    } else if (nc <= all->n) {
        allocate(circle, all, cids, nc, cid, out);
        int index = index_of(cids, nc, cid);
        for (int i = 1; index >= 0 && i <= share; i++) allocate(circle, all, cids, nc, cids[(index + i) % nc], out);
    } else {
        int index = index_of(cids, nc, cid);
        if (index >= 0 && all->n) add(out, all->v[index % all->n]);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The topic's readable queues in the cluster (TopicRouteInfoManager.getTopicSubscribeInfo):
 * from the name server's route when ROUTE is a TopicRouteData body, else this broker's own.
 * Broker names point into ROUTE or the broker's config. False when the topic has none.
 */
static bool topic_queues(broker *b, const char *topic, const cJSON *route, mq_set *all)
{
    const cJSON *qds = route ? cJSON_GetObjectItemCaseSensitive(route, "queueDatas") : NULL, *qd;
    if (cJSON_IsArray(qds)) {
        cJSON_ArrayForEach(qd, qds) {
            const char *name;
            int32_t n, perm;
            if (fjson_field_string(qd, "brokerName", &name) || fjson_field_int32(qd, "readQueueNums", &n) ||
                fjson_field_int32(qd, "perm", &perm) || !(perm & PERM_READ))
                continue;
            for (int i = 0; i < n; i++) add(all, (mq){name, i});
        }
    } else {
        topic_config tc;
        if (!topic_table_get(b->topics, topic, &tc) || !(tc.perm & PERM_READ)) return false;
        for (int i = 0; i < tc.read_queue_nums; i++) add(all, (mq){b->cfg.brokerName, i});
    }
    if (all->n > 1) qsort(all->v, (size_t)all->n, sizeof *all->v, by_queue);  /* none: v is NULL */
    return all->n > 0;
}

/* doLoadBalance and the answer; no list at all (null) when the topic, group or strategy is unknown. */
static rmq_cmd *assignment_answer(broker *b, rmq_cmd *req, const cJSON *route)
{
    cJSON *root = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    const char *topic = NULL, *group = NULL, *cid = NULL, *strategy = NULL, *model = NULL;
    if (root) {
        fjson_field_string(root, "topic", &topic);
        fjson_field_string(root, "consumerGroup", &group);
        fjson_field_string(root, "clientId", &cid);
        fjson_field_string(root, "strategyName", &strategy);
        fjson_field_string(root, "messageModel", &model);
    }
    if (!topic || !group) {
        cJSON_Delete(root);
        return cmd_new_response(req, RC_SYSTEM_ERROR, "java.lang.NullPointerException");
    }
    pop_mode_setting mode;
    if (!pop_mode_get(b->pop, topic, group, &mode)) {
        mode.mode = POP_MODE_PULL;  /* retry topics always, others as defaultMessageRequestMode */
        mode.pop_share_queue_num = 0;
    }
    mq_set all = {0}, got = {0};
    bool answer = topic_queues(b, topic, route, &all);
    if (answer && model && strcmp(model, "BROADCASTING") == 0) {
        for (int i = 0; i < all.n; i++) add(&got, all.v[i]);
    } else if (answer) {
        const consumer_group *cg = clients_consumer_group(b->clients, group);
        bool circle = strategy && strcmp(strategy, "AVG_BY_CIRCLE") == 0;
        if (!cg || !cid || !strategy || (!circle && strcmp(strategy, "AVG"))) {
            if (strategy && strcmp(strategy, "AVG") && strcmp(strategy, "AVG_BY_CIRCLE"))
                log_warn("pop", "QueryLoad: unsupported strategy [%s]", strategy);
            answer = false;
        } else {
            int nc = (int)cg->n_channels;
            char **cids = xcalloc((size_t)nc + 1, sizeof *cids);
            for (int i = 0; i < nc; i++) cids[i] = cg->channels[i].client_id;
            qsort(cids, (size_t)nc, sizeof *cids, by_name);
            if (mode.mode == POP_MODE_POP)
                allocate_pop(circle, &all, cids, nc, cid, mode.pop_share_queue_num, &got);
            else
                allocate(circle, &all, cids, nc, cid, &got);
            free(cids);
        }
    }
    if (got.n > 1) qsort(got.v, (size_t)got.n, sizeof *got.v, by_queue);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    if (answer) {
        fjson_key(&w, "messageQueueAssignments");
        fjson_begin_array(&w);
        for (int i = 0; i < got.n; i++) {
            fjson_begin_object(&w);
            fjson_key(&w, "messageQueue");
            fjson_begin_object(&w);
            fjson_prop_string(&w, "brokerName", got.v[i].broker);
            fjson_prop_int64(&w, "queueId", got.v[i].qid);
            fjson_prop_string(&w, "topic", topic);
            fjson_end_object(&w);
            fjson_prop_string(&w, "mode", pop_mode_name(mode.mode));
            fjson_end_object(&w);
        }
        fjson_end_array(&w);
    }
    fjson_end_object(&w);
    free(all.v), free(got.v);
    cJSON_Delete(root);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    processor_json_body(resp, &w);
    return resp;
}

/* ---- the topic's route from the name server ---- */

#define ROUTE_TIMEOUT_MS 1000  /* well inside the client's QUERY_ASSIGNMENT_TIMEOUT (3 s) */

typedef struct route_call {
    broker *b;
    rmq_conn *conn;  /* held */
    rmq_cmd *req;    /* the QUERY_ASSIGNMENT, owned */
} route_call;

/* The route came (or not: then this broker's own queues answer). */
static void route_done(rmq_cmd *resp, const char *err, void *arg)
{
    route_call *rc = arg;
    cJSON *route = resp && resp->code == RC_SUCCESS && resp->body_len
                       ? fjson_parse((const char *)resp->body, resp->body_len, NULL)
                       : NULL;
    if (!resp) log_warn("pop", "QueryLoad: no route from the name server: %s", err ? err : "");
    if (!rmq_conn_closed(rc->conn)) {
        rmq_conn_answer(rc->conn, rc->req, assignment_answer(rc->b, rc->req, route));
    }
    cJSON_Delete(route);
    cmd_free(resp);
    rmq_conn_release(rc->conn);
    cmd_free(rc->req);
    free(rc);
}

/* GET_ROUTEINFO_BY_TOPIC to the first name server; false when there is none. */
static bool ask_route(broker *b, rmq_conn *conn, rmq_cmd *req)
{
    if (!b->cfg.namesrvAddr || !*b->cfg.namesrvAddr) return false;
    char addr[256];
    snprintf(addr, sizeof addr, "%s", b->cfg.namesrvAddr);
    addr[strcspn(addr, ";, ")] = 0;
    cJSON *root = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    const char *topic = NULL;
    if (root) fjson_field_string(root, "topic", &topic);
    bool asked = topic && *addr;
    if (asked) {
        rmq_cmd *q = cmd_new_request(GET_ROUTEINFO_BY_TOPIC);
        cmd_ext_set(q, "topic", topic);
        route_call *rc = xmalloc(sizeof *rc);
        *rc = (route_call){.b = b, .conn = conn, .req = req};
        rmq_conn_hold(conn);
        rmq_client_request(b->client, addr, q, ROUTE_TIMEOUT_MS, route_done, rc);
    }
    cJSON_Delete(root);
    return asked;
}

static rmq_cmd *set_request_mode(broker *b, rmq_cmd *req)
{
    cJSON *root = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    const char *topic = NULL, *group = NULL, *why = NULL;
    if (root) {
        fjson_field_string(root, "topic", &topic);
        fjson_field_string(root, "consumerGroup", &group);
    }
    pop_mode_setting s;
    rmq_cmd *resp;
    subscription_group_config gc;
    topic_config tc;
    bool created = false;
    if (!topic || !group) {
        resp = cmd_new_response(req, RC_SYSTEM_ERROR, "java.lang.NullPointerException");
    } else if (pop_mode_decode_setting(root, &s, &why)) {
        resp = cmd_new_response(req, RC_SYSTEM_ERROR, why);
    } else if (is_retry(topic)) {
        resp = cmd_new_response(req, RC_NO_PERMISSION, "retry topic is not allowed to set mode");
    } else if (!topic_table_get(b->topics, topic, &tc)) {
        resp = cmd_new_responsef(req, RC_TOPIC_NOT_EXIST, "topic[%s] not exist", topic);
    } else if (!subgroup_table_find(b->groups, group, &gc, &created)) {
        resp = cmd_new_response(req, RC_SUBSCRIPTION_GROUP_NOT_EXIST, "subscription group does not exist");
    } else {
        if (created) subgroup_table_persist(b->groups);
        pop_mode_set(b->pop, topic, group, &s);
        resp = cmd_new_response(req, RC_SUCCESS, NULL);
    }
    cJSON_Delete(root);
    return resp;
}

static int assignment_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    switch (req->code) {
    case QUERY_ASSIGNMENT:
        if (ask_route(b, conn, req)) return RMQ_AGAIN;  /* answered when the route comes */
        *out = assignment_answer(b, req, NULL);
        break;
    case SET_MESSAGE_REQUEST_MODE: *out = set_request_mode(b, req); break;
    default: {
        size_t len;
        char *json = pop_mode_encode(b->pop, false, &len);
        *out = cmd_new_response(req, RC_SUCCESS, NULL);
        cmd_take_body(*out, json, len);
        break;
    }
    }
    return RMQ_OK;
}

void processor_register_assignment(rmq_server *s, broker *b)
{
    rmq_server_register(s, QUERY_ASSIGNMENT, assignment_processor, b);
    rmq_server_register(s, SET_MESSAGE_REQUEST_MODE, assignment_processor, b);
    rmq_server_register(s, GET_ALL_MESSAGE_REQUEST_MODE, assignment_processor, b);
}
