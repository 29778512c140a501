/*
 * console_render.c: the JSON the console's pages read, built from the
 * cluster's answers. Times stay milliseconds (the page formats them in the
 * browser's zone); every string is valid UTF-8, whatever the cluster held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min, cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) len = 2, min = 0x80, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, min = 0x800, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, min = 0x10000, cp = s[0] & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* The bytes as a JSON string, each invalid UTF-8 byte shown as U+FFFD. */
static cJSON *text(const void *data, size_t len)
{
    const unsigned char *s = data;
    char *out = xmalloc(len * 3 + 1), *o = out;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(s + i, len - i);
        if (k && s[i]) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    cJSON *j = cJSON_CreateString(out);
    free(out);
    return j;
}

static void add_text(cJSON *o, const char *key, const char *s) { cJSON_AddItemToObject(o, key, text(s, strlen(s))); }

static void add_int(cJSON *o, const char *key, int64_t v) { cJSON_AddNumberToObject(o, key, (double)v); }

cJSON *render_error(const adm_err *e)
{
    cJSON *o = cJSON_CreateObject();
    add_text(o, "error", e->msg);
    add_int(o, "code", e->code);
    return o;
}

static cJSON *broker_json(const broker_data *bd)
{
    cJSON *b = cJSON_CreateObject(), *addrs = cJSON_AddArrayToObject(b, "addrs");
    add_text(b, "name", bd->name);
    for (int i = 0; i < bd->n_addrs; i++) {
        cJSON *a = cJSON_CreateObject();
        add_int(a, "id", bd->ids[i]);
        add_text(a, "addr", bd->addrs[i]);
        add_text(a, "role", bd->ids[i] == MASTER_ID ? "MASTER" : "SLAVE");
        cJSON_AddItemToArray(addrs, a);
    }
    return b;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

cJSON *render_cluster(const cluster_info *ci)
{
    cJSON *o = cJSON_CreateObject(), *clusters = cJSON_AddArrayToObject(o, "clusters");
    int n = cJSON_GetArraySize(ci->clusters), i = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    const cJSON *c;
    cJSON_ArrayForEach(c, ci->clusters) names[i++] = c->string;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (i = 0; i < n; i++) {
        cJSON *cj = cJSON_CreateObject(), *brokers = cJSON_AddArrayToObject(cj, "brokers");
        add_text(cj, "name", names[i]);
        int nb;
        const char **bnames = cluster_brokers(ci, names[i], &nb);
        for (int k = 0; k < nb; k++) {
            const cJSON *bo = cJSON_GetObjectItemCaseSensitive(ci->brokers, bnames[k]);
            if (!bo) continue;
            broker_data bd;
            parse_broker_data(bo, &bd);
            cJSON_AddItemToArray(brokers, broker_json(&bd));
        }
        free(bnames);
        cJSON_AddItemToArray(clusters, cj);
    }
    free(names);
    return o;
}

/* A runtime table value ("" when absent); the TPS entries hold "minute hour day" figures. */
static const char *table_str(const cJSON *t, const char *key) { return str_field(t, key); }

cJSON *render_broker_status(const char *addr, const cJSON *table)
{
    static const char *const headline[] = {"brokerVersionDesc", "msgPutTotalTodayNow", "msgGetTotalTodayNow",
                                           "putTps", "getTransferedTps", "commitLogDiskRatio", "runtime",
                                           "commitLogMaxOffset", "bootTimestamp"};
    cJSON *o = cJSON_CreateObject(), *h = cJSON_AddObjectToObject(o, "headline"), *all;
    add_text(o, "addr", addr);
    for (size_t i = 0; i < sizeof headline / sizeof headline[0]; i++) add_text(h, headline[i], table_str(table, headline[i]));
    /* The whole table, sorted by key as mqadmin brokerStatus prints it. */
    all = cJSON_AddArrayToObject(o, "table");
    int n = cJSON_GetArraySize(table), i = 0;
    const char **keys = xcalloc((size_t)n + 1, sizeof *keys);
    const cJSON *e;
    cJSON_ArrayForEach(e, table) keys[i++] = e->string;
    qsort(keys, (size_t)n, sizeof *keys, cmp_str);
    for (i = 0; i < n; i++) {
        cJSON *kv = cJSON_CreateArray();
        cJSON_AddItemToArray(kv, text(keys[i], strlen(keys[i])));
        const char *v = table_str(table, keys[i]);
        cJSON_AddItemToArray(kv, text(v, strlen(v)));
        cJSON_AddItemToArray(all, kv);
    }
    free(keys);
    return o;
}

static const char *topic_kind(const char *t)
{
    if (strncmp(t, RETRY_PREFIX, strlen(RETRY_PREFIX)) == 0) return "retry";
    if (strncmp(t, DLQ_PREFIX, strlen(DLQ_PREFIX)) == 0) return "dlq";
    /* TopicValidator's system topics, the broker's own topic and the cluster's. */
    static const char *const system[] = {"TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "OFFSET_MOVED_EVENT",
                                         "SELF_TEST_TOPIC", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
                                         "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC"};
    for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
        if (strcmp(t, system[i]) == 0) return "system";
    if (strncmp(t, "rmq_sys_", 8) == 0 || strncmp(t, "RMQ_SYS_", 8) == 0) return "system";
    return "normal";
}

cJSON *render_topic_list(const cJSON *body)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, "topicList"), *t;
    int n = cJSON_GetArraySize(list), i = 0;
    const char **names = xcalloc((size_t)n + 1, sizeof *names);
    cJSON_ArrayForEach(t, list)
        if (cJSON_IsString(t)) names[i++] = t->valuestring;
    n = i;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    cJSON *o = cJSON_CreateObject(), *topics = cJSON_AddArrayToObject(o, "topics");
    for (i = 0; i < n; i++) {
        cJSON *tj = cJSON_CreateObject();
        add_text(tj, "name", names[i]);
        add_text(tj, "kind", topic_kind(names[i]));
        cJSON_AddItemToArray(topics, tj);
    }
    free(names);
    return o;
}

static cJSON *queue_entry(const mq_entry *e)
{
    cJSON *q = cJSON_CreateObject();
    add_text(q, "topic", e->topic);
    add_text(q, "broker", e->broker_name);
    add_int(q, "queueId", e->queue_id);
    return q;
}

cJSON *render_topic(const char *topic, const route *r, const mq_entry *stats, int n)
{
    cJSON *o = cJSON_CreateObject(), *brokers = cJSON_AddArrayToObject(o, "brokers");
    add_text(o, "topic", topic);
    for (int i = 0; i < r->n_brokers; i++) {
        cJSON *b = broker_json(&r->brokers[i]);
        const cJSON *qd = route_queue_data(r, r->brokers[i].name);
        add_int(b, "readQueueNums", int_field(qd, "readQueueNums"));
        add_int(b, "writeQueueNums", int_field(qd, "writeQueueNums"));
        add_int(b, "perm", int_field(qd, "perm"));
        cJSON_AddItemToArray(brokers, b);
    }
    cJSON *queues = cJSON_AddArrayToObject(o, "queues");
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        cJSON *q = queue_entry(&stats[i]);
        int64_t min = int_field(stats[i].value, "minOffset"), max = int_field(stats[i].value, "maxOffset");
        add_int(q, "minOffset", min);
        add_int(q, "maxOffset", max);
        add_int(q, "lastUpdateTimestamp", int_field(stats[i].value, "lastUpdateTimestamp"));
        total += max - min;
        cJSON_AddItemToArray(queues, q);
    }
    add_int(o, "messages", total);
    return o;
}

cJSON *render_group(const char *group, const mq_entry *entries, int n, double tps)
{
    cJSON *o = cJSON_CreateObject(), *queues;
    add_text(o, "group", group);
    cJSON_AddNumberToObject(o, "consumeTps", tps);
    queues = cJSON_AddArrayToObject(o, "queues");
    int64_t lag = 0;
    for (int i = 0; i < n; i++) {
        cJSON *q = queue_entry(&entries[i]);
        int64_t bo = int_field(entries[i].value, "brokerOffset"), co = int_field(entries[i].value, "consumerOffset");
        add_int(q, "brokerOffset", bo);
        add_int(q, "consumerOffset", co);
        add_int(q, "lag", bo - co);
        add_int(q, "lastTimestamp", int_field(entries[i].value, "lastTimestamp"));
        lag += bo - co;
        cJSON_AddItemToArray(queues, q);
    }
    add_int(o, "lag", lag);
    return o;
}

cJSON *render_connections(const cJSON *body)
{
    cJSON *o = cJSON_CreateObject(), *clients = cJSON_AddArrayToObject(o, "clients");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(body, "connectionSet")) {
        cJSON *cj = cJSON_CreateObject();
        add_text(cj, "clientId", str_field(c, "clientId"));
        add_text(cj, "clientAddr", str_field(c, "clientAddr"));
        add_text(cj, "language", str_field(c, "language"));
        char v[40];
        version_desc(int_field(c, "version"), v, sizeof v);
        add_text(cj, "version", v);
        cJSON_AddItemToArray(clients, cj);
    }
    /* A consumer's: how it consumes and what it subscribed to. */
    static const char *const consumer_keys[] = {"consumeType", "messageModel", "consumeFromWhere"};
    for (size_t i = 0; i < sizeof consumer_keys / sizeof consumer_keys[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(body, consumer_keys[i]))
            add_text(o, consumer_keys[i], str_field(body, consumer_keys[i]));
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(body, "subscriptionTable");
    if (subs) {
        cJSON *sj = cJSON_AddArrayToObject(o, "subscriptions");
        cJSON_ArrayForEach(c, subs) {
            cJSON *s = cJSON_CreateObject();
            add_text(s, "topic", str_field(c, "topic"));
            add_text(s, "expression", str_field(c, "subString"));
            cJSON_AddItemToArray(sj, s);
        }
    }
    return o;
}

/* Printable text: valid UTF-8 without control characters other than tab and line ends. */
static bool printable(const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(b + i, len - i);
        if (!k) return false;
        if (k == 1 && (b[i] < 0x20 || b[i] == 0x7F) && b[i] != '\t' && b[i] != '\n' && b[i] != '\r') return false;
        i += k;
    }
    return true;
}

static void add_host(cJSON *o, const char *key, const msg_host *h)
{
    char buf[80];
    msg_host_format(h, buf, sizeof buf);
    add_text(o, key, buf);
}

cJSON *render_message(const message *m)
{
    const msg_record *r = &m->rec;
    cJSON *o = cJSON_CreateObject();
    add_text(o, "msgId", msg_id(m));
    add_text(o, "offsetMsgId", m->offset_id);
    cJSON_AddItemToObject(o, "topic", text(r->topic, r->topic_len));
    add_text(o, "broker", m->broker_name);
    add_int(o, "queueId", r->queue_id);
    add_int(o, "queueOffset", r->queue_offset);
    add_int(o, "commitLogOffset", r->phys_offset);
    add_int(o, "reconsumeTimes", r->reconsume_times);
    add_int(o, "bornTimestamp", r->born_timestamp);
    add_int(o, "storeTimestamp", r->store_timestamp);
    add_host(o, "bornHost", &r->born_host);
    add_host(o, "storeHost", &r->store_host);
    add_int(o, "sysFlag", r->sysflag);
    add_int(o, "bodySize", r->body_len);
    cJSON *props = cJSON_AddObjectToObject(o, "properties");
    for (int i = 0; i < m->props.count; i++) add_text(props, m->props.items[i].key, m->props.items[i].value);
    /* The preview: a cut may split a UTF-8 sequence, so text is judged on whole characters before it. */
    size_t len = r->body_len > CONSOLE_PREVIEW_MAX ? CONSOLE_PREVIEW_MAX : r->body_len, cut = len;
    while (cut < r->body_len && cut > 0 && cut > len - 3 && (r->body[cut] & 0xC0) == 0x80) cut--;
    cJSON_AddBoolToObject(o, "bodyTruncated", len < r->body_len);
    if (printable(r->body, cut)) {
        add_text(o, "bodyEncoding", "text");
        cJSON_AddItemToObject(o, "body", text(r->body, cut));
    } else {
        char *hex = xmalloc(len * 2 + 1);
        hex_upper(hex, r->body, len);
        hex[len * 2] = '\0';
        add_text(o, "bodyEncoding", "hex");
        add_text(o, "body", hex);
        free(hex);
    }
    return o;
}

cJSON *render_reset(const mq_entry *entries, int n, const reset_row *rows, int n_rows)
{
    cJSON *o = cJSON_CreateObject(), *queues = cJSON_AddArrayToObject(o, "queues");
    /* The broker told its consumers (and answered the offsets), or none was online and we committed. */
    add_text(o, "by", rows ? "console" : "broker");
    for (int i = 0; i < n; i++) {
        cJSON *q = queue_entry(&entries[i]);
        int64_t off = 0;
        fjson_get_int64(entries[i].value, &off);
        add_int(q, "offset", off);
        cJSON_AddItemToArray(queues, q);
    }
    for (int i = 0; i < n_rows; i++) {
        cJSON *q = cJSON_CreateObject();
        add_text(q, "broker", rows[i].broker_name);
        add_int(q, "queueId", rows[i].queue_id);
        add_int(q, "offset", rows[i].rollback_offset);
        add_int(q, "previousOffset", rows[i].consumer_offset);
        add_int(q, "brokerOffset", rows[i].broker_offset);
        cJSON_AddItemToArray(queues, q);
    }
    return o;
}
