/*
 * What a request needs, as Apache 5.3's DefaultAuthorizationContextBuilder
 * works it out for the remoting protocol: a few codes by hand (sends, pulls,
 * heartbeats, offsets, queue locks), every other one from its header class's
 * @RocketMQAction (the actions, and Cluster:<cluster> for cluster-wide
 * requests) and @RocketMQResource fields (a topic or group each, a retry
 * topic counting as its group). The table below lists those annotations of
 * rocketmq-remoting 5.3.3 for the codes a broker serves. A header field that
 * is absent names nothing; 5.3.3's decodeCommandCustomHeader logs and skips
 * missing or malformed fields rather than failing, so only a body that does
 * not decode (heartbeat, queue locks) is refused here ("parse authorization
 * context error.").
 */
#include <stdlib.h>
#include <string.h>

#include "acl2_int.h"
#include "common/fjson.h"
#include "common/util.h"

#define RETRY_PREFIX "%RETRY%"

enum scope { ANNOTATED, CLUSTER_WIDE };

typedef struct annotated {
    int32_t code;
    enum scope scope;
    uint32_t actions;
    /* "field=T" a topic, "field=G" a group, "field=C" a cluster; "field=T;" split at ';' */
    const char *resources;
} annotated;

#define A(a) ACT(ACT_##a)
static const annotated table[] = {
    {17, ANNOTATED, A(CREATE), "topic=T"},                                     /* UPDATE_AND_CREATE_TOPIC */
    {18, ANNOTATED, A(CREATE), ""},                                            /* UPDATE_AND_CREATE_TOPIC_LIST */
    {29, ANNOTATED, A(GET), "topic=T"},                                        /* SEARCH_OFFSET_BY_TIMESTAMP */
    {30, ANNOTATED, A(GET), "topic=T"},                                        /* GET_MAX_OFFSET */
    {31, ANNOTATED, A(GET), "topic=T"},                                        /* GET_MIN_OFFSET */
    {32, ANNOTATED, A(GET), "topic=T"},                                        /* GET_EARLIEST_MSG_STORETIME */
    {33, ANNOTATED, A(GET), "topic=T"},                                        /* VIEW_MESSAGE_BY_ID */
    {39, ANNOTATED, A(PUB), "topic=T"},                                        /* CHECK_TRANSACTION_STATE */
    {40, ANNOTATED, A(SUB), "consumerGroup=G"},                                /* NOTIFY_CONSUMER_IDS_CHANGED */
    {202, ANNOTATED, A(GET), "topic=T"},                                       /* GET_TOPIC_STATS_INFO */
    {203, ANNOTATED, A(GET), "consumerGroup=G"},                               /* GET_CONSUMER_CONNECTION_LIST */
    {204, CLUSTER_WIDE, A(GET), ""},                                           /* GET_PRODUCER_CONNECTION_LIST */
    {205, CLUSTER_WIDE, A(UPDATE), ""},                                        /* WIPE_WRITE_PERM_OF_BROKER */
    {207, ANNOTATED, A(DELETE), "groupName=G"},                                /* DELETE_SUBSCRIPTIONGROUP */
    {208, ANNOTATED, A(GET), "consumerGroup=G topic=T topicList=T;"},          /* GET_CONSUME_STATS */
    {215, ANNOTATED, A(DELETE), "topic=T"},                                    /* DELETE_TOPIC_IN_BROKER */
    {222, ANNOTATED, A(UPDATE), "group=G topic=T"},                            /* INVOKE_BROKER_TO_RESET_OFFSET */
    {223, ANNOTATED, A(GET), "topic=T group=G"},                               /* INVOKE_BROKER_TO_GET_CONSUMER_STATUS */
    {300, ANNOTATED, A(GET), "topic=T"},                                       /* QUERY_TOPIC_CONSUME_BY_WHO */
    {303, ANNOTATED, A(GET), "topic=T group=G"},                               /* QUERY_CONSUME_TIME_SPAN */
    {307, ANNOTATED, A(GET), "consumerGroup=G"},                               /* GET_CONSUMER_RUNNING_INFO */
    {308, ANNOTATED, A(GET), "filterGroups=G, compareGroup=G topic=T"},        /* QUERY_CORRECTION_OFFSET */
    {309, ANNOTATED, A(SUB), "consumerGroup=G topic=T"},                       /* CONSUME_MESSAGE_DIRECTLY */
    {314, ANNOTATED, A(UPDATE), "destGroup=G topic=T"},                        /* CLONE_GROUP_OFFSET */
    {315, CLUSTER_WIDE, A(GET), ""},                                           /* VIEW_BROKER_STATS_DATA */
    {317, CLUSTER_WIDE, A(GET), ""},                                           /* GET_BROKER_CONSUME_STATS */
    {321, ANNOTATED, A(GET), "topic=T consumerGroup=G"},                       /* QUERY_CONSUME_QUEUE */
    {323, ANNOTATED, A(UPDATE), "topic=T"},                                    /* RESUME_CHECK_HALF_MESSAGE */
    {326, ANNOTATED, A(SUB), "producerGroup=G topic=T"},                       /* PUSH_REPLY_MESSAGE_TO_CLIENT */
    {327, CLUSTER_WIDE, A(UPDATE), ""},                                        /* ADD_WRITE_PERM_OF_BROKER */
    {328, CLUSTER_WIDE, A(GET), ""},                                           /* GET_ALL_PRODUCER_INFO */
    {343, ANNOTATED, A(GET), "group=G"},                                       /* QUERY_TOPICS_BY_CONSUMER */
    {345, ANNOTATED, A(GET), "group=G topic=T"},                               /* QUERY_SUBSCRIPTION_BY_CONSUMER */
    {351, ANNOTATED, A(GET), "topic=T"},                                       /* GET_TOPIC_CONFIG */
    {352, ANNOTATED, A(GET), "group=G"},                                       /* GET_SUBSCRIPTIONGROUP_CONFIG */
    {353, ANNOTATED, A(UPDATE), "group=G topic=T"},                            /* UPDATE_AND_GET_GROUP_FORBIDDEN */
    {901, ANNOTATED, A(GET), "clusterName=C"},                                 /* GET_BROKER_MEMBER_GROUP */
    {3001, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_CREATE_USER */
    {3002, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_UPDATE_USER */
    {3003, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_DELETE_USER */
    {3004, CLUSTER_WIDE, A(GET), ""},                                          /* AUTH_GET_USER */
    {3005, CLUSTER_WIDE, A(GET), ""},                                          /* AUTH_LIST_USER */
    {3006, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_CREATE_ACL */
    {3007, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_UPDATE_ACL */
    {3008, CLUSTER_WIDE, A(UPDATE), ""},                                       /* AUTH_DELETE_ACL */
    {3009, CLUSTER_WIDE, A(GET), ""},                                          /* AUTH_GET_ACL */
    {3010, CLUSTER_WIDE, A(GET), ""},                                          /* AUTH_LIST_ACL */
    {200050, ANNOTATED, A(SUB), "consumerGroup=G topic=T"},                    /* POP_MESSAGE */
    {200051, ANNOTATED, A(SUB), "consumerGroup=G topic=T"},                    /* ACK_MESSAGE */
    {200052, ANNOTATED, A(SUB), "topic=T consumerGroup=G"},                    /* PEEK_MESSAGE */
    {200053, ANNOTATED, A(SUB), "consumerGroup=G topic=T"},                    /* CHANGE_MESSAGE_INVISIBLETIME */
    {200054, ANNOTATED, A(SUB), "consumerGroup=G topic=T"},                    /* NOTIFICATION */
    {200055, ANNOTATED, A(GET), "consumerGroup=G topic=T"},                    /* POLLING_INFO */
};

enum {
    SEND_MESSAGE = 10,
    PULL_MESSAGE = 11,
    QUERY_MESSAGE = 12,
    QUERY_CONSUMER_OFFSET = 14,
    UPDATE_CONSUMER_OFFSET = 15,
    HEART_BEAT = 34,
    UNREGISTER_CLIENT = 35,
    CONSUMER_SEND_MSG_BACK = 36,
    END_TRANSACTION = 37,
    GET_CONSUMER_LIST_BY_GROUP = 38,
    LOCK_BATCH_MQ = 41,
    UNLOCK_BATCH_MQ = 42,
    GET_ROUTEINFO_BY_TOPIC = 105,
    SEND_MESSAGE_V2 = 310,
    SEND_BATCH_MESSAGE = 320,
    RECALL_MESSAGE = 370,
};

static bool is_retry(const char *topic) { return topic && !strncmp(topic, RETRY_PREFIX, strlen(RETRY_PREFIX)); }

static void add(auth_ctxs *c, int type, const char *name, uint32_t actions)
{
    /* Resource.ofGroup takes a retry topic as its group. */
    if (type == RES_GROUP && is_retry(name)) name += strlen(RETRY_PREFIX);
    c->v = xrealloc(c->v, (size_t)(c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (auth_ctx){{type, PAT_LITERAL, name ? xstrdup(name) : NULL}, actions};
}

/* A topic field of an annotated header: a retry topic is its group. */
static void add_topic_or_group(auth_ctxs *c, const char *name, uint32_t actions)
{
    add(c, is_retry(name) ? RES_GROUP : RES_TOPIC, name, actions);
}

static void from_annotations(const rmq_cmd *req, const annotated *t, const char *cluster, auth_ctxs *c)
{
    for (const char *p = t->resources; *p;) {
        size_t len = strcspn(p, " ");
        const char *eq = memchr(p, '=', len);
        char *field = xstrndup(p, (size_t)(eq - p));
        char kind = eq[1], sep = (size_t)(eq + 2 - p) < len ? eq[2] : 0;
        const char *v = cmd_ext_get(req, field);
        free(field);
        /* StringUtils.split: separators at either end or repeated give no empty names. */
        for (const char *s = v; s && *s;) {
            size_t n = sep ? strcspn(s, (char[]){sep, 0}) : strlen(s);
            if (n) {
                char *name = xstrndup(s, n);
                if (kind == 'G') add(c, RES_GROUP, name, t->actions);
                else if (kind == 'C') add(c, RES_CLUSTER, name, t->actions);
                else add_topic_or_group(c, name, t->actions);
                free(name);
            }
            s += n + (s[n] ? 1 : 0);
        }
        p += len + (p[len] ? 1 : 0);
    }
    if (!c->n && t->scope == CLUSTER_WIDE) add(c, RES_CLUSTER, cluster, t->actions);
}

/* A body that decodes as an object (fastjson's HeartbeatData / LockBatchRequestBody), or NULL. */
static cJSON *body_object(const rmq_cmd *req)
{
    cJSON *body = req->body_len ? fjson_parse((const char *)req->body, req->body_len, NULL) : NULL;
    if (cJSON_IsObject(body)) return body;
    cJSON_Delete(body);
    return NULL;
}

/* OBJ's group (SUB) and the topics of its list of subscriptions or queues (SUB; retry topics left out). */
static void group_and_topics(auth_ctxs *c, const cJSON *obj, const char *group_key, const char *list_key)
{
    const char *group = NULL, *topic;
    fjson_field_string(obj, group_key, &group);
    add(c, RES_GROUP, group, ACT(ACT_SUB));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, list_key), *it;
    if (!cJSON_IsArray(list)) list = NULL;
    cJSON_ArrayForEach(it, list)
    {
        topic = NULL;
        fjson_field_string(it, "topic", &topic);
        if (!is_retry(topic)) add(c, RES_TOPIC, topic, ACT(ACT_SUB));
    }
}

/* HEART_BEAT: each consumer's group and subscribed topics. */
static int heartbeat(const rmq_cmd *req, auth_ctxs *c)
{
    cJSON *body = body_object(req);
    if (!body) return RMQ_ERR;
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(body, "consumerDataSet"), *cd;
    if (!cJSON_IsArray(set)) set = NULL;
    cJSON_ArrayForEach(cd, set) group_and_topics(c, cd, "groupName", "subscriptionDataSet");
    cJSON_Delete(body);
    return RMQ_OK;
}

/* LOCK_BATCH_MQ / UNLOCK_BATCH_MQ: the group and the topics of the queues. */
static int queue_locks(const rmq_cmd *req, auth_ctxs *c)
{
    cJSON *body = body_object(req);
    if (!body) return RMQ_ERR;
    group_and_topics(c, body, "consumerGroup", "mqSet");
    cJSON_Delete(body);
    return RMQ_OK;
}

/* A send: the topic (PUB), or for a retry topic the group that consumes it (SUB). */
static void send_ctx(const rmq_cmd *req, const char *topic_key, const char *group_key, auth_ctxs *c)
{
    const char *topic = cmd_ext_get(req, topic_key), *group = cmd_ext_get(req, group_key);
    if (!is_retry(topic)) add(c, RES_TOPIC, topic, ACT(ACT_PUB));
    else add(c, RES_GROUP, group && *group ? group : topic, ACT(ACT_SUB));
}

/* Offsets: the topic unless a retry topic, and the group. */
static void offset_ctx(const rmq_cmd *req, uint32_t actions, auth_ctxs *c)
{
    const char *topic = cmd_ext_get(req, "topic");
    if (!is_retry(topic)) add(c, RES_TOPIC, topic, actions);
    add(c, RES_GROUP, cmd_ext_get(req, "consumerGroup"), actions);
}

int auth_contexts(const rmq_cmd *req, const char *cluster, auth_ctxs *c)
{
    memset(c, 0, sizeof *c);
    if (!req->n_ext) return RMQ_OK;  /* no extFields: Apache builds no context */
    const char *topic = cmd_ext_get(req, "topic"), *group;
    int rc = RMQ_OK;
    switch (req->code) {
    case GET_ROUTEINFO_BY_TOPIC:
        if (is_retry(topic)) add(c, RES_GROUP, topic, ACT(ACT_SUB) | ACT(ACT_GET));
        else add(c, RES_TOPIC, topic, ACT(ACT_PUB) | ACT(ACT_SUB) | ACT(ACT_GET));
        break;
    case SEND_MESSAGE: send_ctx(req, "topic", "group", c); break;
    case SEND_MESSAGE_V2:
    case SEND_BATCH_MESSAGE: send_ctx(req, "b", "a", c); break;
    case RECALL_MESSAGE: add(c, RES_TOPIC, topic, ACT(ACT_PUB)); break;
    case END_TRANSACTION:
        if (topic && *topic) add(c, RES_TOPIC, topic, ACT(ACT_PUB));
        break;
    case CONSUMER_SEND_MSG_BACK: add(c, RES_GROUP, cmd_ext_get(req, "group"), ACT(ACT_SUB)); break;
    case PULL_MESSAGE:
        if (!is_retry(topic)) add(c, RES_TOPIC, topic, ACT(ACT_SUB));
        add(c, RES_GROUP, cmd_ext_get(req, "consumerGroup"), ACT(ACT_SUB));
        break;
    case QUERY_MESSAGE: add(c, RES_TOPIC, topic, ACT(ACT_SUB) | ACT(ACT_GET)); break;
    case HEART_BEAT: rc = heartbeat(req, c); break;
    case UNREGISTER_CLIENT:
        group = cmd_ext_get(req, "consumerGroup");
        if (group && strspn(group, " \t") < strlen(group)) add(c, RES_GROUP, group, ACT(ACT_SUB));
        break;
    case GET_CONSUMER_LIST_BY_GROUP:
        add(c, RES_GROUP, cmd_ext_get(req, "consumerGroup"), ACT(ACT_SUB) | ACT(ACT_GET));
        break;
    case QUERY_CONSUMER_OFFSET: offset_ctx(req, ACT(ACT_SUB) | ACT(ACT_GET), c); break;
    case UPDATE_CONSUMER_OFFSET: offset_ctx(req, ACT(ACT_SUB) | ACT(ACT_UPDATE), c); break;
    case LOCK_BATCH_MQ:
    case UNLOCK_BATCH_MQ: rc = queue_locks(req, c); break;
    default:
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (table[i].code == req->code) from_annotations(req, &table[i], cluster, c);
    }
    return rc;
}

void auth_ctxs_free(auth_ctxs *c)
{
    for (int i = 0; i < c->n; i++) free(c->v[i].res.name);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}
