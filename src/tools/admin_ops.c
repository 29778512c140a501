/*
 * admin_ops.c: the admin operations made of several requests — topic and
 * consume statistics across a route's brokers, connections, message queries,
 * one send, offset resets — as DefaultMQAdminExt performs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/admin_client.h"

static char *retry_topic(const char *group) { return str_printf("%s%s", RETRY_PREFIX, group); }

cJSON *adm_topic_list(adm_err *e)
{
    rmq_cmd *resp = adm_namesrv_call(adm_request(GET_ALL_TOPIC_LIST_FROM_NAMESERVER), e);
    if (!resp) return NULL;
    cJSON *j = NULL;
    if (resp->code != RC_SUCCESS) adm_answer_err(e, resp);
    else j = adm_body_json(resp, e);
    cmd_free(resp);
    return j;
}

/* One request to every master of the route, each answer's offsetTable collected. */
static cJSON **per_broker(const route *r, int code, const char *key, const char *value, int timeout,
                          int *n_bodies, mq_entry **entries, int *n, adm_err *e)
{
    *entries = NULL;
    *n = *n_bodies = 0;
    cJSON **bodies = xcalloc((size_t)r->n_brokers + 1, sizeof *bodies);
    for (int i = 0; i < r->n_brokers; i++) {
        const char *addr = select_addr(&r->brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = adm_request(code);
        cmd_ext_set(req, key, value);
        rmq_cmd *resp = adm_call_ok(addr, req, timeout, e);
        cJSON *b = resp ? adm_body_json(resp, e) : NULL;
        cmd_free(resp);
        if (!b) {
            free_bodies(bodies, *n_bodies);
            free_mq_entries(*entries, *n);
            *entries = NULL;
            *n = *n_bodies = 0;
            return NULL;
        }
        bodies[(*n_bodies)++] = b;
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(b, "offsetTable"), entries, n);
    }
    qsort(*entries, (size_t)*n, sizeof **entries, cmp_mq_entry);
    return bodies;
}

cJSON *adm_runtime_table(const char *addr, cJSON **owner, adm_err *e)
{
    *owner = NULL;
    rmq_cmd *resp = adm_call_ok(addr, adm_request(GET_BROKER_RUNTIME_INFO), TIMEOUT_MS, e);
    if (!resp) return NULL;
    *owner = adm_body_json(resp, e);
    cmd_free(resp);
    cJSON *table = *owner ? cJSON_GetObjectItemCaseSensitive(*owner, "table") : NULL;
    if (*owner && !cJSON_IsObject(table)) {
        snprintf(e->msg, sizeof e->msg, "the runtime info of %s carries no table", addr);
        e->code = -1;
        table = NULL;
    }
    return table;
}

cJSON **adm_topic_stats(const route *r, const char *topic, int *n_bodies, mq_entry **entries, int *n, adm_err *e)
{
    return per_broker(r, GET_TOPIC_STATS_INFO, "topic", topic, TIMEOUT_MS, n_bodies, entries, n, e);
}

cJSON **adm_consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, adm_err *e)
{
    char *topic = retry_topic(group);
    route r;
    int rc = adm_route(topic, &r, e);
    free(topic);
    *n = *n_bodies = 0;
    *entries = NULL;
    *tps = 0;
    if (rc) return NULL;
    cJSON **bodies = per_broker(&r, GET_CONSUME_STATS, "consumerGroup", group, TIMEOUT_MS * 3, n_bodies, entries,
                                n, e);
    for (int i = 0; bodies && i < *n_bodies; i++) *tps += double_field(bodies[i], "consumeTps");
    route_free(&r);
    return bodies;
}

cJSON *adm_consumer_connection(const char *group, const char *broker_addr, adm_err *e)
{
    const char *addr = broker_addr;
    route r = {0};
    if (!addr) {
        char *topic = retry_topic(group);
        int rc = adm_route(topic, &r, e);
        free(topic);
        if (rc && e->code != RC_TOPIC_NOT_EXIST) return NULL;
        if (rc || !r.n_brokers) {
            route_free(&r);
            snprintf(e->msg, sizeof e->msg, "Not found the consumer group connection");
            e->code = RC_CONSUMER_NOT_ONLINE;
            return NULL;
        }
        addr = select_addr(&r.brokers[rand() % r.n_brokers]);
    }
    rmq_cmd *req = adm_request(GET_CONSUMER_CONNECTION_LIST);
    cmd_ext_set(req, "consumerGroup", group);
    rmq_cmd *resp = adm_call_ok(addr, req, TIMEOUT_MS, e);
    route_free(&r);
    cJSON *cc = resp ? adm_body_json(resp, e) : NULL;
    cmd_free(resp);
    if (cc && !cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cc, "connectionSet"))) {
        cJSON_Delete(cc);
        snprintf(e->msg, sizeof e->msg, "Not found the consumer group connection");
        e->code = RC_CONSUMER_NOT_ONLINE;
        return NULL;
    }
    return cc;
}

cJSON *adm_producer_connection(const char *group, const char *topic, adm_err *e)
{
    route r;
    if (adm_route(topic, &r, e)) return NULL;
    cJSON *pc = NULL;
    if (!r.n_brokers) {
        snprintf(e->msg, sizeof e->msg, "the route of topic %s holds no broker", topic);
        e->code = -1;
    } else {
        rmq_cmd *req = adm_request(GET_PRODUCER_CONNECTION_LIST);
        cmd_ext_set(req, "producerGroup", group);
        rmq_cmd *resp = adm_call_ok(select_addr(&r.brokers[rand() % r.n_brokers]), req, TIMEOUT_MS, e);
        pc = resp ? adm_body_json(resp, e) : NULL;
        cmd_free(resp);
    }
    route_free(&r);
    return pc;
}

int adm_view_message(const char *id, message **out, int *n, adm_err *e)
{
    msg_host host;
    int64_t offset;
    *out = NULL;
    *n = 0;
    e->code = -1;
    if (msg_offset_id_decode(id, &host, &offset)) {
        snprintf(e->msg, sizeof e->msg, "%s is not an offset message id", id);
        return -1;
    }
    char addr[80];
    msg_host_format(&host, addr, sizeof addr);
    rmq_cmd *req = adm_request(VIEW_MESSAGE_BY_ID);
    cmd_ext_set_int(req, "offset", offset);
    rmq_cmd *resp = adm_call_ok(addr, req, TIMEOUT_MS, e);
    if (!resp) return -1;
    int rc = adm_decode_messages(resp->body, resp->body_len, out, n, e);
    cmd_free(resp);
    if (!rc && !*n) {
        snprintf(e->msg, sizeof e->msg, "query message by id finished, but no message.");
        return -1;
    }
    return rc;
}

/* MQAdminImpl.queryMessage: the key must be one of KEYS (space-separated), or the UNIQ_KEY. */
static bool key_matches(const message *m, const char *key, bool unique)
{
    const char *keys = msg_props_get(&m->props, unique ? "UNIQ_KEY" : "KEYS");
    if (!keys) return false;
    if (unique) return strcmp(keys, key) == 0;
    for (const char *p = keys; *p;) {
        size_t l = strcspn(p, " ");
        if (l == strlen(key) && strncmp(p, key, l) == 0) return true;
        p += l + (p[l] == ' ');
    }
    return false;
}

int adm_query_messages(const char *topic, const char *key, bool unique, message **out, int *n, adm_err *e)
{
    return adm_query_messages_in(topic, key, unique, unique ? 32 : 64, 0, INT64_MAX, out, n, e);
}

int adm_query_messages_in(const char *topic, const char *key, bool unique, int max, int64_t begin, int64_t end,
                          message **out, int *n, adm_err *e)
{
    route r;
    *out = NULL;
    *n = 0;
    if (adm_route(topic, &r, e)) return -1;
    int rc = 0;
    for (int i = 0; i < r.n_brokers && !rc; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = adm_request(QUERY_MESSAGE);
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "key", key);
        cmd_ext_set_int(req, "maxNum", max);
        cmd_ext_set_int(req, "beginTimestamp", begin);
        cmd_ext_set_int(req, "endTimestamp", end);
        cmd_ext_set_bool(req, "_UNIQUE_KEY_QUERY", unique);
        rmq_cmd *resp = adm_call(addr, req, TIMEOUT_MS, e);
        if (!resp) {
            rc = -1;
            break;
        }
        message *some = NULL;
        int k = 0;
        if (resp->code == RC_SUCCESS) rc = adm_decode_messages(resp->body, resp->body_len, &some, &k, e);
        else if (resp->code != RC_QUERY_NOT_FOUND) rc = (adm_answer_err(e, resp), -1);
        cmd_free(resp);
        for (int j = 0; j < k; j++) {
            if (!key_matches(&some[j], key, unique)) {
                msg_props_free(&some[j].props);
                free(some[j].raw);
                continue;
            }
            snprintf(some[j].broker_name, sizeof some[j].broker_name, "%s", r.brokers[i].name);
            *out = xrealloc(*out, (size_t)(*n + 1) * sizeof **out);
            (*out)[(*n)++] = some[j];
        }
        free(some);   /* the kept messages moved into *out */
    }
    route_free(&r);
    return rc;
}

/* MessageClientIDSetter.createUniqID: ip, pid, a per-process number, ms since the month began, a counter. */
static void unique_id(char out[33])
{
    static uint32_t process_key;
    static uint16_t counter;
    if (!process_key) process_key = (uint32_t)(now_ms() ^ ((int64_t)getpid() << 16));
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    int64_t since_month = now_ms() - (int64_t)mktime(&tm) * 1000;
    uint8_t b[16] = {127, 0, 0, 1};
    put_be16(b + 4, (uint16_t)getpid());
    put_be32(b + 6, process_key);
    put_be32(b + 10, (uint32_t)since_month);
    put_be16(b + 14, counter++);
    hex_upper(out, b, 16);
}

const char *send_status(int code)
{
    switch (code) {
    case RC_FLUSH_DISK_TIMEOUT: return "FLUSH_DISK_TIMEOUT";
    case RC_FLUSH_SLAVE_TIMEOUT: return "FLUSH_SLAVE_TIMEOUT";
    case RC_SLAVE_NOT_AVAILABLE: return "SLAVE_NOT_AVAILABLE";
    default: return "SEND_OK";
    }
}

/* A new UNIQ_KEY and WAIT=true join `props`, all sent in their HashMap's order. */
rmq_cmd *adm_send_one(const broker_data *bd, const char *addr, const char *topic, int32_t queue_id,
                      msg_props *props, const char *body, char uniq[33], adm_err *e)
{
    char group[24];
    unique_id(uniq);
    snprintf(group, sizeof group, "%lld", (long long)now_ms());
    msg_props_set(props, "UNIQ_KEY", uniq);
    msg_props_set(props, "WAIT", "true");
    const char **keys = xcalloc((size_t)props->count + 1, sizeof *keys);
    int *order = xcalloc((size_t)props->count + 1, sizeof *order);
    for (int i = 0; i < props->count; i++) keys[i] = props->items[i].key;
    java_hash_order(keys, props->count, order);
    msg_props ordered;
    msg_props_init(&ordered);
    for (int i = 0; i < props->count; i++) msg_props_set(&ordered, props->items[order[i]].key, props->items[order[i]].value);
    size_t plen;
    char *ptext = msg_props_encode(&ordered, &plen);
    rmq_cmd *req = adm_request(SEND_MESSAGE_V2);
    cmd_ext_set(req, "a", group);
    cmd_ext_set(req, "b", topic);
    cmd_ext_set(req, "c", DEFAULT_TOPIC);
    cmd_ext_set_int(req, "d", 4);
    cmd_ext_set_int(req, "e", queue_id);
    cmd_ext_set_int(req, "f", 0);
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set_int(req, "h", 0);
    cmd_ext_set(req, "i", ptext);
    cmd_ext_set_int(req, "j", 0);
    cmd_ext_set_bool(req, "k", false);
    cmd_ext_set_bool(req, "m", false);
    cmd_ext_set(req, "n", bd->name);
    cmd_set_body(req, body, strlen(body));
    rmq_cmd *resp = adm_call(addr, req, TIMEOUT_MS, e);
    free(ptext);
    free(keys);
    free(order);
    msg_props_free(&ordered);
    return resp;
}

int adm_send_message(const char *topic, const char *broker, int32_t queue_id, msg_props *props, const char *body,
                     adm_send_result *out, adm_err *e)
{
    /* DefaultMQProducerImpl.tryToFindTopicPublishInfo: an unknown topic goes by TBW102's route (auto-creation). */
    route r;
    bool known = adm_route(topic, &r, e) == 0;
    if (!known && (e->code != RC_TOPIC_NOT_EXIST || adm_route(DEFAULT_TOPIC, &r, e))) return -1;
    const cJSON *qd = NULL, *q;
    const broker_data *bd = NULL;
    cJSON_ArrayForEach(q, r.queues) {
        const broker_data *d = route_broker(&r, str_field(q, "brokerName"));
        if (!d || !(int_field(q, "perm") & 2) || !int_field(q, "writeQueueNums")) continue;
        if (broker && strcmp(d->name, broker) != 0) continue;
        qd = q;
        bd = d;
        break;
    }
    const char *addr = bd ? select_addr(bd) : NULL;
    if (!qd || !addr) {
        route_free(&r);
        e->code = -1;
        snprintf(e->msg, sizeof e->msg, "No route info of this topic: %s", topic);
        return -1;
    }
    int64_t queues = int_field(qd, "writeQueueNums");
    if (!known && queues > 4) queues = 4;   /* defaultTopicQueueNums of a topic to create */
    if (queue_id < 0) queue_id = (int32_t)(now_ms() % queues);
    snprintf(out->broker_name, sizeof out->broker_name, "%s", bd->name);
    rmq_cmd *resp = adm_send_one(bd, addr, topic, queue_id, props, body, out->msg_id, e);
    route_free(&r);
    if (!resp) return -1;
    int rc = 0;
    out->code = resp->code;
    out->queue_id = queue_id;
    if (resp->code != RC_SUCCESS && resp->code != RC_FLUSH_DISK_TIMEOUT && resp->code != RC_FLUSH_SLAVE_TIMEOUT &&
        resp->code != RC_SLAVE_NOT_AVAILABLE)
        rc = (adm_answer_err(e, resp), -1);
    else
        cmd_ext_int32(resp, "queueId", &out->queue_id);
    cmd_free(resp);
    return rc;
}

cJSON **adm_reset_offset(const char *group, const char *topic, int64_t timestamp, bool force, bool for_cpp,
                         int *n_bodies, mq_entry **entries, int *n, adm_err *e)
{
    route r;
    *entries = NULL;
    *n = *n_bodies = 0;
    if (adm_route(topic, &r, e)) return NULL;
    cJSON **bodies = xcalloc((size_t)r.n_brokers + 1, sizeof *bodies);
    for (int i = 0; i < r.n_brokers; i++) {
        const char *addr = select_addr(&r.brokers[i]);
        if (!addr) continue;
        rmq_cmd *req = adm_request(INVOKE_BROKER_TO_RESET_OFFSET);
        if (for_cpp) req->language = 1;   /* the broker answers C++ clients' body shape */
        cmd_ext_set(req, "topic", topic);
        cmd_ext_set(req, "group", group);
        cmd_ext_set_int(req, "timestamp", timestamp);
        cmd_ext_set_bool(req, "isForce", force);
        rmq_cmd *resp = adm_call_ok(addr, req, TIMEOUT_MS, e);
        cJSON *b = resp ? adm_body_json(resp, e) : NULL;
        cmd_free(resp);
        if (!b) {
            free_bodies(bodies, *n_bodies);
            free_mq_entries(*entries, *n);
            *entries = NULL;
            *n = *n_bodies = 0;
            route_free(&r);
            return NULL;
        }
        bodies[(*n_bodies)++] = b;
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(b, "offsetTable"), entries, n);
    }
    route_free(&r);
    return bodies;
}

/* One queue of the old reset: the group's offset moved to the timestamp's (or
 * the end with -1), only backwards unless forced. */
static int reset_queue_old(const char *group, const mq *m, const mq_entry *entries, int n, int64_t timestamp,
                           bool force, reset_row *row, adm_err *e)
{
    bool consumed = false;
    if (adm_queue_offset(GET_MAX_OFFSET, m, 0, &row->broker_offset, e)) return -1;
    row->consumer_offset = 0;
    for (int k = 0; k < n; k++) {
        if (strcmp(entries[k].topic, m->topic) || entries[k].queue_id != m->queue_id) continue;
        consumed = true;
        row->broker_offset = int_field(entries[k].value, "brokerOffset");
        row->consumer_offset = int_field(entries[k].value, "consumerOffset");
    }
    if (!consumed && adm_queue_offset(GET_MIN_OFFSET, m, 0, &row->consumer_offset, e)) return -1;
    int rc = timestamp == -1 ? adm_queue_offset(GET_MAX_OFFSET, m, 0, &row->timestamp_offset, e)
                             : adm_queue_offset(SEARCH_OFFSET_BY_TIMESTAMP, m, timestamp, &row->timestamp_offset, e);
    if (rc) return -1;
    row->rollback_offset = row->consumer_offset;
    if (force || row->timestamp_offset <= row->consumer_offset) {
        row->rollback_offset = row->timestamp_offset;
        rmq_cmd *u = adm_request(UPDATE_CONSUMER_OFFSET);
        cmd_ext_set(u, "consumerGroup", group);
        cmd_ext_set(u, "topic", m->topic);
        cmd_ext_set_int(u, "queueId", m->queue_id);
        cmd_ext_set_int(u, "commitOffset", row->timestamp_offset);
        rmq_cmd *resp = adm_call_ok(m->addr, u, TIMEOUT_MS, e);
        if (!resp) return -1;
        cmd_free(resp);
    }
    return 0;
}

int adm_reset_offset_old(const char *group, const char *topic, int64_t timestamp, bool force, route *r,
                         reset_row **rows, int *n, adm_err *e)
{
    *rows = NULL;
    *n = 0;
    if (adm_route(topic, r, e)) return -1;
    int rc = 0;
    for (int i = 0; i < r->n_brokers && !rc; i++) {
        const char *addr = select_addr(&r->brokers[i]);
        const cJSON *qd = route_queue_data(r, r->brokers[i].name);
        if (!addr || !qd) continue;
        rmq_cmd *req = adm_request(GET_CONSUME_STATS);
        cmd_ext_set(req, "consumerGroup", group);
        rmq_cmd *resp = adm_call_ok(addr, req, TIMEOUT_MS, e);
        cJSON *stats = resp ? adm_body_json(resp, e) : NULL;
        cmd_free(resp);
        if (!stats) {
            rc = -1;
            break;
        }
        mq_entry *entries = NULL;
        int ne = 0;
        collect_mq_entries(cJSON_GetObjectItemCaseSensitive(stats, "offsetTable"), &entries, &ne);
        int64_t queues = int_field(qd, "readQueueNums");
        for (int64_t q = 0; q < queues && !rc; q++) {
            mq m = {topic, r->brokers[i].name, addr, (int32_t)q};
            *rows = xrealloc(*rows, (size_t)(*n + 1) * sizeof **rows);
            reset_row *row = &(*rows)[*n];
            row->broker_name = r->brokers[i].name;
            row->queue_id = (int32_t)q;
            rc = reset_queue_old(group, &m, entries, ne, timestamp, force, row, e);
            if (!rc) (*n)++;
        }
        free_mq_entries(entries, ne);
        cJSON_Delete(stats);
    }
    return rc;
}
