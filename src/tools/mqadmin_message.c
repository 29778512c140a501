/* mqadmin_message.c: message sub-commands (query, print, consume, send). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

/* ---- messages ---- */

void print_track(const message *m)
{
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", (int)m->rec.topic_len, m->rec.topic);
    route r;
    cJSON *groups = NULL;
    if (get_route(topic, &r, false)) {
        groups = consume_by_who(&r, topic);
        route_free(&r);
    }
    const cJSON *g, *gl = groups ? cJSON_GetObjectItemCaseSensitive(groups, "groupList") : NULL;
    if (!cJSON_GetArraySize(gl)) {
        printf("\n\nWARN: No Consumer");
    } else {
        printf("\n\n");
        /* MessageAdminImpl.messageTrackDetail */
        cJSON_ArrayForEach(g, gl) {
            int code;
            cJSON *cc = consumer_connection(g->valuestring, NULL, &code, false);
            const char *track = "UNKNOWN";
            char desc[128] = "null";
            if (!cc) {
                track = "NOT_ONLINE";
                snprintf(desc, sizeof desc, "CODE:%d DESC:the consumer group[%s] not online", code, g->valuestring);
            } else if (strcmp(str_field(cc, "consumeType"), "CONSUME_ACTIVELY") == 0) {
                track = "PULL";
            } else {
                int n, n_bodies;
                mq_entry *entries;
                double tps;
                cJSON **bodies = consume_stats(g->valuestring, &n_bodies, &entries, &n, &tps, false);
                track = "NOT_CONSUME_YET";
                for (int i = 0; i < n; i++)
                    if (strcmp(entries[i].topic, topic) == 0 && entries[i].queue_id == m->rec.queue_id &&
                        int_field(entries[i].value, "consumerOffset") > m->rec.queue_offset)
                        track = "CONSUMED";
                free_mq_entries(entries, n);
                free_bodies(bodies, n_bodies);
            }
            printf("MessageTrack [consumerGroup=%s, trackType=%s, exceptionDesc=%s]", g->valuestring, track, desc);
            cJSON_Delete(cc);
        }
    }
    printf("\n");
    cJSON_Delete(groups);
}

static message *view_message(const char *id, int *n)
{
    adm_err e;
    message *m;
    if (adm_view_message(id, &m, n, &e)) die_err(&e);
    return m;
}

/* CONSUME_MESSAGE_DIRECTLY through the broker holding the message. */
static void consume_directly(const char *group, const char *client_id, const char *offset_id, const message *m)
{
    char addr[80];
    msg_host_format(&m->rec.store_host, addr, sizeof addr);
    rmq_cmd *req = adm_request(CONSUME_MESSAGE_DIRECTLY);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "clientId", client_id);
    cmd_ext_set(req, "msgId", offset_id);
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_CONSUMER_MS);
    cJSON *r = body_json(resp);
    cmd_free(resp);
    printf("ConsumeMessageDirectlyResult [order=%s, autoCommit=%s, consumeResult=%s, remark=%s, spentTimeMills=%lld]",
           bool_field(r, "order") ? "true" : "false", bool_field(r, "autoCommit") ? "true" : "false",
           *str_field(r, "consumeResult") ? str_field(r, "consumeResult") : "null",
           *str_field(r, "remark") ? str_field(r, "remark") : "null", (long long)int_field(r, "spentTimeMills"));
    cJSON_Delete(r);
}

void cmd_query_msg_by_id(void)
{
    char *ids = xstrdup(val('i')), *save = NULL;
    for (char *id = strtok_r(ids, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        id = trim(id);
        if (!*id) continue;
        int n;
        message *m = view_message(id, &n);
        if (has('g') && has('d')) consume_directly(val('g'), val('d'), id, m);
        else print_message_detail(m, 0, true);
        free_messages(m, n);
    }
    free(ids);
}

static message *query_messages(const char *topic, const char *key, bool unique, int *n)
{
    adm_err e;
    message *m;
    if (adm_query_messages(topic, key, unique, &m, n, &e)) die_err(&e);
    return m;
}

void cmd_query_msg_by_key(void)
{
    int n;
    message *m = query_messages(val('t'), val('k'), false, &n);
    printf("%-50s %4s %40s\n", "#Message ID", "#QID", "#Offset");
    for (int i = 0; i < n; i++) printf("%-50s %4d %40lld\n", msg_id(&m[i]), m[i].rec.queue_id, (long long)m[i].rec.queue_offset);
    free_messages(m, n);
}

static int cmp_store_time(const void *a, const void *b)
{
    const message *x = a, *y = b;
    return (x->rec.store_timestamp > y->rec.store_timestamp) - (x->rec.store_timestamp < y->rec.store_timestamp);
}

void cmd_query_msg_by_unique_key(void)
{
    int n;
    message *m = query_messages(val('t'), val('i'), true, &n);
    if (has('g') && has('d')) {
        if (!n) die("query message by unique key finished, but no message.");
        consume_directly(val('g'), val('d'), m[0].offset_id, &m[0]);
    } else {
        qsort(m, (size_t)n, sizeof *m, cmp_store_time);
        for (int i = 0; i < (has('a') ? n : (n ? 1 : 0)); i++) print_message_detail(&m[i], i, false);
    }
    free_messages(m, n);
}

void cmd_query_msg_by_offset(void)
{
    route r;
    get_route(val('t'), &r, true);
    const broker_data *bd = route_broker(&r, val('b'));
    const char *addr = bd ? select_addr(bd) : NULL;
    if (!addr) die("the broker %s does not serve topic %s", val('b'), val('t'));
    mq q = {val('t'), bd->name, addr, (int32_t)long_opt('i', 0)};
    pull_result pr;
    pull(&q, TOOLS_CONSUMER_GROUP, "*", long_opt('o', 0), 1, &pr);
    if (pr.code == RC_SUCCESS && pr.n) print_message_detail(&pr.msgs[0], 0, true);
    free_messages(pr.msgs, pr.n);
    route_free(&r);
}

/*
 * What one pull of queue QS brought, as PrintMessageSubCommand and
 * ConsumeMessageCommand print it (SUCCESS_LINE, if any, first); frees the
 * messages. False once the queue has nothing more.
 */
static bool print_pulled(pull_result *pr, const char *qs, const char *success_line, bool print_body)
{
    bool more = true;
    if (pr->code == RC_SUCCESS) {
        if (success_line) printf("%s\n", success_line);
        for (int k = 0; k < pr->n; k++) print_message_line(&pr->msgs[k], print_body);
    } else if (pr->code == RC_PULL_RETRY_IMMEDIATELY) {
        printf("%s no matched msg. status=%s, offset=%lld\n", qs, pull_status(pr->code), (long long)pr->next_begin);
    } else {
        printf("%s print msg finished. status=%s, offset=%lld\n", qs, pull_status(pr->code), (long long)pr->next_begin);
        more = false;
    }
    free_messages(pr->msgs, pr->n);
    return more;
}

void cmd_print_msg(void)
{
    const char *topic = val('t'), *sub = has('s') ? val('s') : "*";
    bool print_body = !has('d') || parse_java_bool(val('d'));
    route r;
    get_route(topic, &r, true);
    int n;
    mq *queues = subscribe_queues(&r, topic, &n);
    for (int i = 0; i < n; i++) {
        int64_t min = queue_offset_call(GET_MIN_OFFSET, &queues[i], 0);
        int64_t max = queue_offset_call(GET_MAX_OFFSET, &queues[i], 0);
        if (has('b')) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], timestamp_opt('b'));
        if (has('e')) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], timestamp_opt('e'));
        char qs[400];
        mq_string(&queues[i], qs, sizeof qs);
        printf("minOffset=%lld, maxOffset=%lld, %s\n", (long long)min, (long long)max, qs);
        for (int64_t off = min; off < max;) {
            pull_result pr;
            pull(&queues[i], TOOLS_CONSUMER_GROUP, sub, off, 32, &pr);
            off = pr.next_begin;
            if (!print_pulled(&pr, qs, NULL, print_body)) break;
        }
        printf("--------------------------------------------------------\n");
    }
    free(queues);
    route_free(&r);
}

/* Messages per tag, counted in first-seen order. */
typedef struct tag_counts {
    char **tags;
    int64_t *counts;
    int n;
} tag_counts;

static void count_tags(tag_counts *tc, const message *msgs, int n)
{
    for (int i = 0; i < n; i++) {
        const char *tag = msg_props_get(&msgs[i].props, "TAGS");
        bool blank = true;
        for (const char *c = tag; c && *c; c++) blank &= isspace((unsigned char)*c) != 0;
        if (blank) continue;
        int k = 0;
        while (k < tc->n && strcmp(tc->tags[k], tag) != 0) k++;
        if (k == tc->n) {
            tc->tags = xrealloc(tc->tags, (size_t)(k + 1) * sizeof *tc->tags);
            tc->counts = xrealloc(tc->counts, (size_t)(k + 1) * sizeof *tc->counts);
            tc->tags[k] = xstrdup(tag);
            tc->counts[k] = 0;
            tc->n++;
        }
        tc->counts[k]++;
    }
}

/* printCalculateByTag: the HashMap's entries, stably sorted by count, largest first. */
static void print_tag_counts(tag_counts *tc)
{
    int *order = xcalloc((size_t)tc->n + 1, sizeof *order);
    java_hash_order((const char *const *)tc->tags, tc->n, order);
    for (int i = 1; i < tc->n; i++)
        for (int k = i; k > 0 && tc->counts[order[k - 1]] < tc->counts[order[k]]; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (int i = 0; i < tc->n; i++)
        printf("Tag: %-30s Count: %lld\n", tc->tags[order[i]], (long long)tc->counts[order[i]]);
    for (int i = 0; i < tc->n; i++) free(tc->tags[i]);
    free(tc->tags);
    free(tc->counts);
    free(order);
}

/* PrintMessageByQueueCommand: one queue from its min (or -b) to its max (or -e)
 * offset, the messages printed with -p true, counted by tag with -f true. */
void cmd_print_msg_by_queue(void)
{
    const char *topic = val('t'), *sub = has('s') ? val('s') : "*";
    bool print_msg = bool_opt('p', false), print_body = bool_opt('d', false), by_tag = bool_opt('f', false);
    int64_t qid = long_opt('i', 0);
    route r;
    get_route(topic, &r, true);
    const broker_data *bd = route_broker(&r, val('a'));
    if (!bd || !select_addr(bd)) die("The broker[%s] not exist", val('a'));
    mq q = {topic, bd->name, select_addr(bd), (int32_t)qid};
    int64_t min = queue_offset_call(GET_MIN_OFFSET, &q, 0);
    int64_t max = queue_offset_call(GET_MAX_OFFSET, &q, 0);
    if (has('b')) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, timestamp_opt('b'));
    if (has('e')) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, timestamp_opt('e'));
    tag_counts tc = {0};
    for (int64_t off = min; off < max;) {
        pull_result pr;
        pull(&q, TOOLS_CONSUMER_GROUP, sub, off, 32, &pr);
        off = pr.next_begin;
        bool found = pr.code == RC_SUCCESS;
        if (found && by_tag) count_tags(&tc, pr.msgs, pr.n);
        for (int k = 0; found && print_msg && k < pr.n; k++) print_message_line(&pr.msgs[k], print_body);
        free_messages(pr.msgs, pr.n);
        if (!found) break;
    }
    print_tag_counts(&tc);
    route_free(&r);
}

/* ConsumeMessageCommand.pullMessageByQueue: [min, max] inclusive. */
static void consume_queue(const mq *q, const char *group, int64_t min, int64_t max)
{
    char qs[400];
    mq_string(q, qs, sizeof qs);
    for (int64_t off = min; off <= max;) {
        pull_result pr;
        int64_t want = max - off + 1;
        pull(q, group, "*", off, (int)(want > 32 ? 32 : want), &pr);
        off = pr.next_begin;
        if (!print_pulled(&pr, qs, "Consume ok", true)) break;
    }
}

void cmd_consume_message(void)
{
    const char *topic = val('t'), *group = has('g') ? val('g') : TOOLS_CONSUMER_GROUP;
    int64_t count = long_opt('c', 128), now = now_ms(), begin = 0, end = 0;
    if (count <= 0) die("Please input a positive messageNumber!");
    if (has('i') && !has('b')) die("Please set the brokerName before queueId!");
    if (has('o') && !has('i')) die("Please set queueId before offset!");
    if (has('s') && (begin = timestamp_opt('s')) > now) die("Please set the beginTimestamp before now!");
    if (has('e')) {
        end = timestamp_opt('e');
        if (end > now) die("Please set the endTimestamp before now!");
        if (begin > end) die("Please make sure that the beginTimestamp is less than or equal to the endTimestamp");
    }
    route r;
    get_route(topic, &r, true);
    if (has('i')) {
        const broker_data *bd = route_broker(&r, val('b'));
        const char *addr = bd ? select_addr(bd) : NULL;
        if (!addr) die("the broker %s does not serve topic %s", val('b'), topic);
        mq q = {topic, bd->name, addr, (int32_t)long_opt('i', 0)};
        int64_t min = queue_offset_call(GET_MIN_OFFSET, &q, 0), max = queue_offset_call(GET_MAX_OFFSET, &q, 0);
        int64_t offset = long_opt('o', 0);
        if (begin > 0) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, begin);
        if (end > 0) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &q, end);
        if (offset > max) {
            char qs[400];
            mq_string(&q, qs, sizeof qs);
            printf("%s no matched msg, offset=%lld\n", qs, (long long)offset);
        } else {
            if (offset > min) min = offset;
            if (max - min > count) {
                printf("The oldler %lld message will be provided\n", (long long)count);
                max = min + count - 1;
            }
            consume_queue(&q, group, min, max);
        }
    } else {
        int n;
        mq *queues = subscribe_queues(&r, topic, &n);
        int64_t left = count;
        for (int i = 0; i < n && left; i++) {
            int64_t min = queue_offset_call(GET_MIN_OFFSET, &queues[i], 0);
            int64_t max = queue_offset_call(GET_MAX_OFFSET, &queues[i], 0);
            if (begin > 0) min = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], begin);
            if (end > 0) max = queue_offset_call(SEARCH_OFFSET_BY_TIMESTAMP, &queues[i], end);
            if (max - min > left) {
                printf("The older %lld message of the %d queue will be provided\n", (long long)left, queues[i].queue_id);
                max = min + left - 1;
                left = 0;
            } else {
                left = left - (max - min) - 1;
            }
            consume_queue(&queues[i], group, min, max);
        }
        free(queues);
    }
    route_free(&r);
}

void cmd_send_message(void)
{
    if (has('i') && !has('b')) die("Broker name must be set if the queue is chosen!");
    msg_props props;
    msg_props_init(&props);
    if (has('k')) msg_props_set(&props, "KEYS", val('k'));
    if (has('c')) msg_props_set(&props, "TAGS", val('c'));
    adm_send_result res;
    adm_err e;
    if (adm_send_message(val('t'), val('b'), has('i') ? (int32_t)long_opt('i', 0) : -1, &props, val('p'), &res, &e))
        die_err(&e);
    printf("%-32s  %-4s  %-20s    %s\n", "#Broker Name", "#QID", "#Send Result", "#MsgId");
    char qs[16];
    snprintf(qs, sizeof qs, "%d", res.queue_id);
    printf("%-32s  %-4s  %-20s    %s\n", res.broker_name, qs, send_status(res.code), res.msg_id);
    msg_props_free(&props);
}

/* ---- checkMsgSendRT ---- */

/* CheckMsgSendRTCommand: -a sends of -s bytes of 'a', send i to queue i mod the publish list
 * (a MessageQueueSelector with arg i); the mean leaves out the first send. */
void cmd_check_msg_send_rt(void)
{
    const char *topic = val('t');
    int64_t amount = long_opt('a', 100), size = long_opt('s', 128);
    char *body = xmalloc((size_t)(size > 0 ? size : 0) + 1);
    memset(body, 'a', (size_t)(size > 0 ? size : 0));
    body[size > 0 ? size : 0] = '\0';
    route r;
    bool routed = get_route(topic, &r, false), by_default = false;
    /* tryToFindTopicPublishInfo: a topic without a route goes by TBW102's, at most
     * defaultTopicQueueNums (4) queues per broker, and the broker creates it. */
    if (!routed) routed = by_default = get_route(DEFAULT_TOPIC, &r, false);
    int n_queues = 0;
    mq *queues = routed ? publish_queues(&r, topic, &n_queues) : NULL;
    if (by_default) {
        int kept = 0;
        for (int i = 0; i < n_queues; i++)
            if (queues[i].queue_id < 4) queues[kept++] = queues[i];
        n_queues = kept;
    }
    char broker_name[128] = "";   /* the selector's statics: kept from the last selection */
    int32_t queue_id = 0;
    int64_t elapsed = 0;
    printf("%-32s  %-4s  %-20s    %s\n", "#Broker Name", "#QID", "#Send Result", "#RT");
    for (int64_t i = 0; i < amount; i++) {
        int64_t start = now_ms();
        bool ok = false;
        if (n_queues) {
            const mq *q = &queues[i % n_queues];
            snprintf(broker_name, sizeof broker_name, "%s", q->broker_name);
            queue_id = q->queue_id;
            send_result sr;
            ok = publish_one(q, &r, body, &sr) == 0;
        }
        int64_t end = now_ms();
        if (i) elapsed += end - start;
        printf("%-32s  %-4d  %-20s    %lld\n", broker_name, queue_id, ok ? "true" : "false", (long long)(end - start));
    }
    double rt = (double)elapsed / (double)(amount - 1);
    if (isnan(rt)) printf("Avg RT: NaN\n");
    else if (isinf(rt)) printf("Avg RT: %sInfinity\n", rt < 0 ? "-" : "");
    else printf("Avg RT: %.2f\n", rt);
    free(queues);
    if (routed) route_free(&r);
    free(body);
}

/* ---- queryMsgTraceById ---- */

typedef struct trace_view {
    bool pub;                  /* else SubAfter */
    char *group, *host;
    int64_t ts, cost;
    bool success;
} trace_view;

/* Java's String.split on one character: trailing empty strings dropped. */
static int split_java(char *s, char sep, char **parts, int cap)
{
    int n = 0;
    for (char *p = s;; ) {
        char *e = strchr(p, sep);
        if (n < cap) parts[n++] = p;
        if (!e) break;
        *e = '\0';
        p = e + 1;
    }
    while (n > 1 && !*parts[n - 1]) n--;
    if (n == 1 && !*parts[0] && !*s) return 1;
    return n;
}

/* TraceView.decodeFromTraceTransData: the Pub and SubAfter contexts of one trace message about
 * msg_id (the other kinds are decoded by Apache but never printed). */
static void decode_trace(const message *m, const char *msg_id, trace_view **views, int *n)
{
    char *text = xstrndup((const char *)m->rec.body, m->rec.body_len);
    char host[64];
    msg_host_format(&m->rec.born_host, host, sizeof host);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    char *contexts[256];
    int nc = split_java(text, '\2', contexts, 256);
    for (int c = 0; c < nc; c++) {
        char *f[32];
        int nf = split_java(contexts[c], '\1', f, 32);
        trace_view v = {0};
        const char *id, *group;
        if (strcmp(f[0], "Pub") == 0 && nf >= 12) {
            id = f[5];
            group = f[3];
            v.pub = true;
            v.ts = atoll(f[1]);
            v.cost = atoll(f[10]);
            v.success = nf == 12 ? true : strcmp(f[nf == 13 ? 12 : 13], "true") == 0;
        } else if (strcmp(f[0], "SubAfter") == 0 && nf >= 6) {
            id = f[2];
            group = nf >= 9 ? f[8] : "";
            v.ts = nf >= 9 ? atoll(f[7]) : now_ms();
            v.cost = atoll(f[3]);
            v.success = strcmp(f[4], "true") == 0;
        } else {
            continue;
        }
        if (strcmp(id, msg_id) != 0) continue;
        v.group = xstrdup(group);
        v.host = xstrdup(host);
        *views = xrealloc(*views, (size_t)(*n + 1) * sizeof **views);
        (*views)[(*n)++] = v;
    }
    free(text);
}

static void print_trace_row(const char *type, const trace_view *v)
{
    char when[32];
    time_t sec = (time_t)(v->ts / 1000);
    struct tm tm;
    localtime_r(&sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    char cost[32];
    snprintf(cost, sizeof cost, "%lldms", (long long)v->cost);
    printf("%-10s %-20s %-20s %-20s %-10s %-10s\n", type, v->group, v->host, when, cost,
           v->success ? "success" : "failed");
}

/* QueryMsgTraceByIdSubCommand: the trace topic's messages keyed by the id, each Pub printed with
 * its own header, then the consumers' SubAfter rows by group (a HashMap's order). */
void cmd_query_msg_trace_by_id(void)
{
    const char *msg_id = val('i'), *topic = has('t') ? val('t') : "RMQ_SYS_TRACE_TOPIC";
    int64_t begin = long_opt('b', 0), end = long_opt('e', INT64_MAX), max = long_opt('c', 64);
    message *msgs;
    int n;
    adm_err e;
    if (adm_query_messages_in(topic, msg_id, false, (int)max, begin, end, &msgs, &n, &e)) die_err(&e);
    trace_view *views = NULL;
    int nv = 0;
    for (int i = 0; i < n; i++) decode_trace(&msgs[i], msg_id, &views, &nv);
    const char **groups = xcalloc((size_t)nv + 1, sizeof *groups);
    int ng = 0;
    for (int i = 0; i < nv; i++) {
        if (views[i].pub) {
            printf("%-10s %-20s %-20s %-20s %-10s %-10s\n", "#Type", "#ProducerGroup", "#ClientHost", "#SendTime",
                   "#CostTimes", "#Status");
            print_trace_row("Pub", &views[i]);
            printf("\n");
            continue;
        }
        bool seen = false;
        for (int g = 0; g < ng; g++) seen |= strcmp(groups[g], views[i].group) == 0;
        if (!seen) groups[ng++] = views[i].group;
    }
    int *order = xcalloc((size_t)ng + 1, sizeof *order);
    java_hash_order(groups, ng, order);
    for (int g = 0; g < ng; g++) {
        printf("%-10s %-20s %-20s %-20s %-10s %-10s\n", "#Type", "#ConsumerGroup", "#ClientHost", "#ConsumerTime",
               "#CostTimes", "#Status");
        for (int i = 0; i < nv; i++)
            if (!views[i].pub && strcmp(views[i].group, groups[order[g]]) == 0) print_trace_row("Sub", &views[i]);
        printf("\n");
    }
    for (int i = 0; i < nv; i++) {
        free(views[i].group);
        free(views[i].host);
    }
    free(order);
    free(groups);
    free(views);
    free_messages(msgs, n);
}

/* ---- queryCq ---- */

/* QueryConsumeQueueCommand: QUERY_CONSUME_QUEUE at -b (or the route's first broker's master),
 * the subscription and filter of -g, the queue's range and -c entries from -i. */
void cmd_query_cq(void)
{
    const char *topic = val('t'), *addr = val('b');
    int64_t queue_id = long_opt('q', 0), index = long_opt('i', 0), count = long_opt('c', 10);
    route r = {0};
    if (!addr || !*addr) {
        get_route(topic, &r, true);
        for (int k = 0; r.n_brokers && k < r.brokers[0].n_addrs; k++)
            if (r.brokers[0].ids[k] == MASTER_ID) addr = r.brokers[0].addrs[k];
        if (!addr) die("No topic route data!");
    }
    rmq_cmd *req = adm_request(QUERY_CONSUME_QUEUE);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", queue_id);
    cmd_ext_set_int(req, "index", index);
    cmd_ext_set_int(req, "count", count);
    if (has('g')) cmd_ext_set(req, "consumerGroup", val('g'));
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
    cJSON *body = body_json(resp);
    cmd_free(resp);
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(body, "subscriptionData");
    if (sub && !cJSON_IsNull(sub)) {
        fjson_writer w;
        fjson_writer_init(&w, FJSON_PRETTY);
        fjson_item(&w, sub);
        char *text = fjson_writer_finish(&w, NULL);
        printf("Subscription data: \n%s\n", text);
        printf("======================================\n");
        free(text);
    }
    const cJSON *filter = cJSON_GetObjectItemCaseSensitive(body, "filterData");
    if (cJSON_IsString(filter)) {
        printf("Filter data: \n%s\n", filter->valuestring);
        printf("======================================\n");
    }
    printf("Queue data: \nmax: %lld, min: %lld\n", (long long)int_field(body, "maxQueueIndex"),
           (long long)int_field(body, "minQueueIndex"));
    printf("======================================\n");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(body, "queueData"), *d;
    int64_t i = index;
    cJSON_ArrayForEach(d, data) {
        const char *ext = NULL, *bitmap = NULL, *msg = NULL;   /* Java's null when not sent */
        fjson_field_string(d, "extendDataJson", &ext);
        fjson_field_string(d, "bitMap", &bitmap);
        fjson_field_string(d, "msg", &msg);
        printf("idx: %lld\nConsumeQueueData{physicOffset=%lld, physicSize=%lld, tagsCode=%lld, extendDataJson='%s', "
               "bitMap='%s', eval=%s, msg='%s'}\n======================================\n",
               (long long)i++, (long long)int_field(d, "physicOffset"), (long long)int_field(d, "physicSize"),
               (long long)int_field(d, "tagsCode"), ext ? ext : "null", bitmap ? bitmap : "null",
               bool_field(d, "eval") ? "true" : "false", msg ? msg : "null");
    }
    cJSON_Delete(body);
    route_free(&r);
}
