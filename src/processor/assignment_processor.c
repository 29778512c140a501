/*
 * Server-side rebalance — Apache 5.3's QueryAssignmentProcessor:
 * QUERY_ASSIGNMENT (400), SET_MESSAGE_REQUEST_MODE (401), and
 * GET_ALL_MESSAGE_REQUEST_MODE (402, an AdminBrokerProcessor code).
 *
 * A client with clientRebalance=false asks which queues of a topic are its
 * own and whether to PULL or POP them. In POP mode with the default
 * popShareQueueNum (-1) every client gets the whole topic as queue -1 and
 * the broker spreads the messages. Retry topics (%RETRY%) are always PULL.
 * The queues are this broker's: Apache takes them from the name server's
 * route, which for a one-broker topic is the same.
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

enum { QUERY_ASSIGNMENT = 400, SET_MESSAGE_REQUEST_MODE = 401, GET_ALL_MESSAGE_REQUEST_MODE = 402 };

static bool is_retry(const char *topic)
{
    return strncmp(topic, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0;
}

/* Queue ids picked for one client; -1 is "any queue" (POP). */
typedef struct picks {
    int32_t *q;
    int n;
} picks;

static void pick(picks *p, int32_t q)
{
    for (int i = 0; i < p->n; i++)
        if (p->q[i] == q) return;  /* a Set */
    p->q[p->n++] = q;
}

static int index_of(char **cids, int n, const char *cid)
{
    for (int i = 0; i < n; i++)
        if (strcmp(cids[i], cid) == 0) return i;
    return -1;
}

/* AllocateMessageQueueAveragely / AllocateMessageQueueAveragelyByCircle over queues 0..nq-1. */
static void allocate(bool circle, int nq, char **cids, int nc, const char *cid, picks *out)
{
    int index = index_of(cids, nc, cid);
    if (index < 0 || nq == 0) return;
    if (circle) {
        for (int i = index; i < nq; i += nc) pick(out, i);
        return;
    }
    int mod = nq % nc;
    int avg = nq <= nc ? 1 : (mod > 0 && index < mod ? nq / nc + 1 : nq / nc);
    int start = (mod > 0 && index < mod) ? index * avg : index * avg + mod;
    int range = avg < nq - start ? avg : nq - start;
    for (int i = 0; i < range; i++) pick(out, (start + i) % nq);
}

/* allocate4Pop */
static void allocate_pop(bool circle, int nq, char **cids, int nc, const char *cid, int share, picks *out)
{
    if (share <= 0 || share >= nc - 1) {
        pick(out, -1);
    } else if (nc <= nq) {
        allocate(circle, nq, cids, nc, cid, out);
        int index = index_of(cids, nc, cid);
        for (int i = 1; index >= 0 && i <= share; i++) allocate(circle, nq, cids, nc, cids[(index + i) % nc], out);
    } else {
        int index = index_of(cids, nc, cid);
        if (index >= 0) pick(out, index % nq);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int by_queue(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static rmq_cmd *query_assignment(broker *b, rmq_cmd *req)
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
    /* doLoadBalance: NULL (no answer) when the topic, the group or the strategy is unknown. */
    topic_config tc;
    bool known = topic_table_get(b->topics, topic, &tc) && (tc.perm & PERM_READ);
    picks got = {.q = xcalloc((size_t)(known ? tc.read_queue_nums : 0) + 1, sizeof(int32_t))};
    bool answer = known;
    if (known && model && strcmp(model, "BROADCASTING") == 0) {
        for (int i = 0; i < tc.read_queue_nums; i++) pick(&got, i);
    } else if (known) {
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
                allocate_pop(circle, tc.read_queue_nums, cids, nc, cid, mode.pop_share_queue_num, &got);
            else
                allocate(circle, tc.read_queue_nums, cids, nc, cid, &got);
            free(cids);
        }
    }
    qsort(got.q, (size_t)got.n, sizeof *got.q, by_queue);
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
            fjson_prop_string(&w, "brokerName", b->cfg.brokerName);
            fjson_prop_int64(&w, "queueId", got.q[i]);
            fjson_prop_string(&w, "topic", topic);
            fjson_end_object(&w);
            fjson_prop_string(&w, "mode", pop_mode_name(mode.mode));
            fjson_end_object(&w);
        }
        fjson_end_array(&w);
    }
    fjson_end_object(&w);
    free(got.q);
    cJSON_Delete(root);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    processor_json_body(resp, &w);
    return resp;
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
    case QUERY_ASSIGNMENT: *out = query_assignment(b, req); break;
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
