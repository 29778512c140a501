/*
 * Producer/consumer registry and the client-management processors, driven over
 * real loopback connections with request bodies captured from Apache 4.9.8
 * clients (Java, C++, Go, Node) and checked against Apache's answers.
 * One thread: the test pumps the server's event loop itself, and an injected
 * clock drives heartbeat expiry and lock expiry.
 */
#include <arpa/inet.h>
#include <check.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../remoting/golden.h"
#include "broker/broker.h"
#include "broker/clients.h"
#include "common/fjson.h"
#include "common/util.h"
#include "filter/filter.h"
#include "processor/processor.h"
#include "../check_run.h"

enum {
    HEART_BEAT = 34, UNREGISTER_CLIENT = 35, GET_CONSUMER_LIST_BY_GROUP = 38,
    NOTIFY_CONSUMER_IDS_CHANGED = 40, LOCK_BATCH_MQ = 41, UNLOCK_BATCH_MQ = 42,
    CHECK_CLIENT_CONFIG = 46, GET_CONSUMER_CONNECTION_LIST = 203, GET_PRODUCER_CONNECTION_LIST = 204,
};
enum { SUCCESS = 0, SYSTEM_ERROR = 1, SUBSCRIPTION_PARSE_FAILED = 23, CONSUMER_NOT_ONLINE = 206 };

/* String.hashCode of "TagA"/"TagB", as the Java client put them in codeSet. */
#define HASH_TAGA 2598919
#define HASH_TAGB 2598920

static struct {
    struct event_base *base;
    rmq_server *srv;
    broker b;
    char addr[32];
    int64_t now;
    int seen_calls;
    char seen_group[128];
    bool notify_enabled;
} fx;

static int64_t fake_clock(void) { return fx.now; }

static bool hook_seen(const char *group, bool unit_mode, void *arg)
{
    fx.seen_calls++;
    snprintf(fx.seen_group, sizeof fx.seen_group, "%s", group);
    return fx.notify_enabled;
}

static bool hook_notify(const char *group, void *arg) { return fx.notify_enabled; }

static void on_close(rmq_conn *c, void *arg) { clients_on_conn_closed(fx.b.clients, c); }

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.base = event_base_new();
    broker_config_defaults(&fx.b.cfg);
    fx.notify_enabled = true;
    clients_hooks hooks = {hook_seen, hook_notify, NULL};
    fx.b.clients = clients_new(&hooks);
    fx.now = 1700000000000;
    clients_set_clock(fx.b.clients, fake_clock);
    rmq_server_config cfg;
    rmq_server_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    const char *err = NULL;
    fx.srv = rmq_server_new(fx.base, &cfg, &err);
    ck_assert_msg(fx.srv, "server: %s", err);
    rmq_server_on_close(fx.srv, on_close, NULL);
    processor_register_client(fx.srv, &fx.b);
    snprintf(fx.addr, sizeof fx.addr, "127.0.0.1:%d", rmq_server_port(fx.srv));
}

static void teardown(void)
{
    rmq_server_free(fx.srv);   /* closes connections: the registry lets them go */
    clients_free(fx.b.clients);
    broker_config_free(&fx.b.cfg);
    event_base_free(fx.base);
}

static void pump(void)
{
    for (int i = 0; i < 4; i++) event_base_loop(fx.base, EVLOOP_NONBLOCK);
}

/* ---- a test client on a blocking socket ---- */

typedef struct tclient {
    int fd;
    int notifies;          /* NOTIFY_CONSUMER_IDS_CHANGED frames seen */
    char notify_group[128];
    int32_t opaque;
    char addr[64];         /* as the server sees it */
} tclient;

static void client_open(tclient *c)
{
    char err[128];
    memset(c, 0, sizeof *c);
    c->fd = rmq_connect_blocking(fx.addr, 2000, err, sizeof err);
    ck_assert_msg(c->fd >= 0, "connect: %s", err);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(c->fd, (struct sockaddr *)&ss, &sl);
    snprintf(c->addr, sizeof c->addr, "127.0.0.1:%d", ntohs(((struct sockaddr_in *)&ss)->sin_port));
    c->opaque = 100;
    pump(); /* accept */
}

static void client_close(tclient *c)
{
    close(c->fd);
    c->fd = -1;
    for (int i = 0; i < 50; i++) {
        pump();
        usleep(1000);
    }
}

/* Reads one frame if one arrives while the loop is pumped; NULL otherwise. */
static rmq_cmd *read_frame(tclient *c, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        pump();
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 5) == 1) {
            char err[128];
            rmq_cmd *cmd = rmq_read_frame_fd(c->fd, 2000, err, sizeof err);
            ck_assert_msg(cmd, "read: %s", err);
            return cmd;
        }
    }
    return NULL;
}

static void count_push(tclient *c, rmq_cmd *cmd)
{
    ck_assert_int_eq(cmd->code, NOTIFY_CONSUMER_IDS_CHANGED);
    ck_assert(cmd_is_oneway(cmd));
    const char *g = cmd_ext_get(cmd, "consumerGroup");
    ck_assert_ptr_nonnull(g);
    snprintf(c->notify_group, sizeof c->notify_group, "%s", g);
    c->notifies++;
    cmd_free(cmd);
}

/* Sends req (taken) and returns the answer, counting pushes met on the way. */
static rmq_cmd *call(tclient *c, rmq_cmd *req)
{
    req->opaque = ++c->opaque;
    ck_assert_int_eq(rmq_write_cmd_fd(c->fd, req), 0);
    int32_t opaque = req->opaque;
    cmd_free(req);
    for (;;) {
        rmq_cmd *cmd = read_frame(c, 400);
        ck_assert_msg(cmd, "no answer");
        if (cmd_is_response(cmd)) {
            ck_assert_int_eq(cmd->opaque, opaque);
            return cmd;
        }
        count_push(c, cmd);
    }
}

/* Counts the pushes that arrive (the loop is pumped a while). */
static void drain(tclient *c)
{
    rmq_cmd *cmd;
    while ((cmd = read_frame(c, 20))) count_push(c, cmd);
}

static rmq_cmd *body_request(int code, const char *body)
{
    rmq_cmd *r = cmd_new_request(code);
    if (body) cmd_set_body(r, body, strlen(body));
    return r;
}

static void expect(rmq_cmd *resp, int code, const char *remark)
{
    ck_assert_int_eq(resp->code, code);
    if (remark) ck_assert_str_eq(resp->remark ? resp->remark : "(null)", remark);
    else ck_assert_ptr_null(resp->remark);
}

static char *body_text(const rmq_cmd *r)
{
    return xstrndup((const char *)r->body, r->body_len);
}

/* ---- golden frames ---- */

typedef struct golden_pick {
    int code;
    const char *rpc;
    const char *needle;   /* the body must contain this */
    int skip;             /* take the (skip+1)-th match */
    char *body;
} golden_pick;

static void pick_cb(cJSON *line, void *arg)
{
    golden_pick *p = arg;
    const cJSON *code = cJSON_GetObjectItem(line, "code"), *rpc = cJSON_GetObjectItem(line, "rpc");
    const cJSON *req_code = cJSON_GetObjectItem(line, "req_code");
    const cJSON *hex = cJSON_GetObjectItem(line, "body_hex");
    if (p->body || !rpc || !cJSON_IsString(hex) || strcmp(rpc->valuestring, p->rpc) != 0) return;
    int c = strcmp(p->rpc, "response") == 0 ? (req_code ? req_code->valueint : -1) : code->valueint;
    if (c != p->code) return;
    size_t n = strlen(hex->valuestring) / 2;
    char *body = xcalloc(1, n + 1);
    hex_decode((uint8_t *)body, n, hex->valuestring);
    if (strstr(body, p->needle) && p->skip-- == 0) p->body = body;
    else free(body);
}

static char *golden_body(const char *file, int code, const char *rpc, const char *needle, int skip)
{
    golden_pick p = {code, rpc, needle, skip, NULL};
    ck_assert_int_gt(golden_each(file, pick_cb, &p), 0);
    ck_assert_msg(p.body, "%s: no %s %d with %s", file, rpc, code, needle);
    return p.body;
}

static const char *JAVA = "java-client-4.9.8.jsonl";

/* Registers a heartbeat body from `c`; expects SUCCESS. */
static void heartbeat(tclient *c, const char *body)
{
    rmq_cmd *r = call(c, body_request(HEART_BEAT, body));
    expect(r, SUCCESS, NULL);
    ck_assert_int_eq(r->body_len, 0);
    cmd_free(r);
}

static char *hb_body(const char *client_id, const char *group, const char *topic, int64_t sub_version)
{
    return str_printf("{\"clientID\":\"%s\",\"consumerDataSet\":[{\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\","
                      "\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\",\"messageModel\":\"CLUSTERING\","
                      "\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"TAG\","
                      "\"subString\":\"*\",\"subVersion\":%lld,\"tagsSet\":[],\"topic\":\"%s\"}],\"unitMode\":false}],"
                      "\"producerDataSet\":[]}",
                      client_id, group, (long long)sub_version, topic);
}

/* ---- tests ---- */

START_TEST(heartbeat_java_registers_consumer_and_producer)
{
    tclient c;
    client_open(&c);
    char *body = golden_body(JAVA, HEART_BEAT, "request", "\"groupName\":\"G_scc_qi1vt\"", 0);
    rmq_cmd *req = body_request(HEART_BEAT, body);
    req->version = 409;
    req->language = 0;
    rmq_cmd *r = call(&c, req);
    expect(r, SUCCESS, NULL);
    ck_assert_int_eq(r->n_ext, 0);
    cmd_free(r);
    drain(&c);
    /* A new channel: Apache notifies the whole group, the newcomer included. */
    ck_assert_int_eq(c.notifies, 1);
    ck_assert_str_eq(c.notify_group, "G_scc_qi1vt");
    ck_assert_int_eq(fx.seen_calls, 1);
    ck_assert_str_eq(fx.seen_group, "G_scc_qi1vt");

    const consumer_group *g = clients_consumer_group(fx.b.clients, "G_scc_qi1vt");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->consume_type, CONSUME_PASSIVELY);
    ck_assert_int_eq(g->message_model, CLUSTERING);
    ck_assert_int_eq(g->consume_from_where, CONSUME_FROM_FIRST_OFFSET);
    ck_assert_int_eq(g->n_channels, 1);
    ck_assert_str_eq(g->channels[0].client_id, "192.0.2.2@G_scc_qi1vt_4388298427086");
    ck_assert_int_eq(g->channels[0].version, 409);
    ck_assert_int_eq(g->channels[0].last_update_ms, fx.now);
    ck_assert_int_eq(g->n_subs, 2);
    const subscription_data *sd = consumer_group_subscription(g, "T_sc_qi1vt");
    ck_assert_ptr_nonnull(sd);
    ck_assert_str_eq(sd->sub_string, "TagA");
    ck_assert_str_eq(sd->expression_type, "TAG");
    ck_assert_int_eq(sd->sub_version, 1795444514205);
    ck_assert_int_eq(sd->n_tags, 1);
    ck_assert_str_eq(sd->tags[0], "TagA");
    ck_assert_int_eq(sd->n_codes, 1);
    ck_assert_int_eq(sd->codes[0], HASH_TAGA);
    ck_assert_ptr_nonnull(sd->filter);
    sd = consumer_group_subscription(g, "%RETRY%G_scc_qi1vt");
    ck_assert_ptr_nonnull(sd);
    ck_assert_int_eq(sd->n_tags, 0);
    ck_assert_ptr_null(consumer_group_subscription(g, "nope"));

    const producer_group *p = clients_producer_group(fx.b.clients, "CLIENT_INNER_PRODUCER");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->n_channels, 1);
    ck_assert_ptr_nonnull(clients_find_producer_conn(fx.b.clients, "192.0.2.2@G_scc_qi1vt_4388298427086"));
    ck_assert_ptr_nonnull(clients_producer_channel(fx.b.clients, "CLIENT_INNER_PRODUCER"));
    ck_assert_ptr_null(clients_producer_channel(fx.b.clients, "nope"));

    /* The same heartbeat again: nothing came or went, so no notification. */
    fx.now += 30000;
    heartbeat(&c, body);
    drain(&c);
    ck_assert_int_eq(c.notifies, 1);
    g = clients_consumer_group(fx.b.clients, "G_scc_qi1vt");
    ck_assert_int_eq(g->channels[0].last_update_ms, fx.now);
    free(body);
    client_close(&c);
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "G_scc_qi1vt"));
    ck_assert_ptr_null(clients_producer_group(fx.b.clients, "CLIENT_INNER_PRODUCER"));
    ck_assert_ptr_null(clients_find_producer_conn(fx.b.clients, "192.0.2.2@G_scc_qi1vt_4388298427086"));
}
END_TEST

/* A 5.x heartbeat (HeartbeatData with heartbeatFingerprint / withoutSub); its answer's ext fields. */
static void heartbeat_v2(tclient *c, int fingerprint, bool without_sub, const char *topic, const char *sub_change)
{
    char *body = str_printf(
        "{\"clientID\":\"127.0.0.1@v2\",\"heartbeatFingerprint\":%d,\"withoutSub\":%s,\"producerDataSet\":[],"
        "\"consumerDataSet\":[{\"groupName\":\"G_v2\",\"consumeType\":\"CONSUME_PASSIVELY\","
        "\"messageModel\":\"CLUSTERING\",\"consumeFromWhere\":\"CONSUME_FROM_LAST_OFFSET\",\"unitMode\":false,"
        "\"subscriptionDataSet\":[%s%s%s]}]}",
        fingerprint, without_sub ? "true" : "false", topic ? "{\"topic\":\"" : "", topic ? topic : "",
        topic ? "\",\"subString\":\"*\",\"subVersion\":1}" : "");
    rmq_cmd *r = call(c, body_request(HEART_BEAT, body));
    expect(r, SUCCESS, NULL);
    ck_assert_str_eq(cmd_ext_get(r, "IS_SUPPORT_HEART_BEAT_V2"), "true");
    ck_assert_str_eq(cmd_ext_get(r, "IS_SUB_CHANGE"), sub_change);
    cmd_free(r);
    free(body);
}

/* ClientManageProcessor.heartBeatV2: the fingerprint table and registerConsumerWithoutSub. */
START_TEST(heartbeat_v2_keeps_subscriptions_and_reports_changes)
{
    tclient c;
    client_open(&c);
    heartbeat_v2(&c, 111, false, "T_v2a", "false");   /* first: nothing recorded before */
    const consumer_group *g = clients_consumer_group(fx.b.clients, "G_v2");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->n_subs, 1);
    fx.now += 30000;
    heartbeat_v2(&c, 111, true, NULL, "false");       /* without subscriptions: they stay */
    g = clients_consumer_group(fx.b.clients, "G_v2");
    ck_assert_int_eq(g->n_subs, 1);
    ck_assert_ptr_nonnull(consumer_group_subscription(g, "T_v2a"));
    ck_assert_int_eq(g->channels[0].last_update_ms, fx.now);
    heartbeat_v2(&c, 222, true, NULL, "true");        /* another fingerprint: send them again */
    ck_assert_int_eq(clients_consumer_group(fx.b.clients, "G_v2")->n_subs, 1);
    heartbeat_v2(&c, 222, false, "T_v2b", "false");
    g = clients_consumer_group(fx.b.clients, "G_v2");
    ck_assert_int_eq(g->n_subs, 1);
    ck_assert_ptr_nonnull(consumer_group_subscription(g, "T_v2b"));
    /* A fingerprint that is no int is refused. */
    rmq_cmd *r = call(&c, body_request(HEART_BEAT, "{\"clientID\":\"127.0.0.1@v2\",\"heartbeatFingerprint\":\"x\"}"));
    expect(r, SYSTEM_ERROR, "decode HeartbeatData failed: heartbeatFingerprint or withoutSub of the wrong type");
    cmd_free(r);
    /* A 4.9.8 heartbeat is answered as 4.9.8 does: no ext fields. */
    r = call(&c, body_request(HEART_BEAT, "{\"clientID\":\"127.0.0.1@v1\"}"));
    expect(r, SUCCESS, NULL);
    ck_assert_int_eq(r->n_ext, 0);
    cmd_free(r);
    client_close(&c);
}
END_TEST

START_TEST(heartbeat_cpp_ordinals_and_recomputed_codes)
{
    tclient c;
    client_open(&c);
    /* C++: enums as ordinals, subVersion as a string, codeSet [0,0], no tagsSet on the retry topic. */
    char *body = golden_body("cpp-client-2.x.jsonl", HEART_BEAT, "request", "\"groupName\":\"CG_cpp", 0);
    ck_assert_ptr_nonnull(strstr(body, "\"codeSet\":[0,0]"));
    heartbeat(&c, body);
    const consumer_group *g = clients_consumer_group(fx.b.clients, "CG_cpp20791x443dc1");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->consume_type, CONSUME_PASSIVELY);
    ck_assert_int_eq(g->message_model, CLUSTERING);
    ck_assert_int_eq(g->consume_from_where, CONSUME_FROM_FIRST_OFFSET);
    const subscription_data *sd = consumer_group_subscription(g, "GoldenCppTopic");
    ck_assert_int_eq(sd->sub_version, 1795444598220);
    ck_assert_int_eq(sd->n_codes, 2);
    ck_assert_int_eq(sd->codes[0], HASH_TAGA);
    ck_assert_int_eq(sd->codes[1], HASH_TAGB);
    sd = consumer_group_subscription(g, "%RETRY%CG_cpp20791x443dc1");
    ck_assert_str_eq(sd->expression_type, "TAG");
    ck_assert_int_eq(sd->n_tags, 0);
    ck_assert_int_eq(sd->n_codes, 0);
    ck_assert(!sd->class_filter_mode);
    free(body);
    client_close(&c);
}
END_TEST

START_TEST(heartbeat_go_and_node_shapes)
{
    tclient c;
    client_open(&c);
    /* Go: codeSet as strings, a nanosecond subVersion, an empty producerDataSet. */
    char *body = golden_body("go-client-v2.jsonl", HEART_BEAT, "request", "\"groupName\":\"CG_go", 0);
    heartbeat(&c, body);
    free(body);
    const consumer_group *g = clients_consumer_group(fx.b.clients, "CG_go20599xmwtdcbsz");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->consume_from_where, CONSUME_FROM_FIRST_OFFSET);
    const subscription_data *sd = consumer_group_subscription(g, "GoldenGoTopic");
    ck_assert_int_eq(sd->sub_version, 1795444574229990267LL);
    ck_assert_int_eq(sd->n_codes, 2);
    ck_assert_int_eq(sd->codes[0], HASH_TAGA);
    /* Node (ali-ons): no expressionType at all, which Java reads as TAG. */
    body = golden_body("node-ali-ons.jsonl", HEART_BEAT, "request", "CG_node", 0);
    heartbeat(&c, body);
    free(body);
    g = clients_consumer_group(fx.b.clients, "CG_node21146xmwtddv10");
    sd = consumer_group_subscription(g, "GoldenNodeTopic");
    ck_assert_str_eq(sd->expression_type, "TAG");
    ck_assert_str_eq(sd->sub_string, "TagA || TagB");
    ck_assert_int_eq(sd->n_codes, 2);
    ck_assert_ptr_nonnull(clients_producer_group(fx.b.clients, "PG_node21146xmwtddv10"));
    /* One connection in two consumer groups. */
    size_t n;
    const char **groups = clients_groups_by_topic(fx.b.clients, "GoldenNodeTopic", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(groups[0], "CG_node21146xmwtddv10");
    free(groups);
    groups = clients_groups_by_topic(fx.b.clients, "unknown", &n);
    ck_assert_int_eq(n, 0);
    free(groups);
    client_close(&c);
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "CG_go20599xmwtdcbsz"));
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "CG_node21146xmwtddv10"));
}
END_TEST

START_TEST(consumer_list_and_join_leave_notifications)
{
    tclient a, b;
    client_open(&a);
    client_open(&b);
    char *hb_a = hb_body("10.0.0.1@a", "G", "T", 1);
    char *hb_b = hb_body("10.0.0.2@b", "G", "T", 1);
    heartbeat(&a, hb_a);
    drain(&a);
    ck_assert_int_eq(a.notifies, 1);
    heartbeat(&b, hb_b);
    drain(&a);
    drain(&b);
    ck_assert_int_eq(a.notifies, 2);   /* b joined */
    ck_assert_int_eq(b.notifies, 1);

    rmq_cmd *req = cmd_new_request(GET_CONSUMER_LIST_BY_GROUP);
    cmd_ext_set(req, "consumerGroup", "G");
    rmq_cmd *r = call(&a, req);
    expect(r, SUCCESS, NULL);
    char *text = body_text(r);
    ck_assert_str_eq(text, "{\"consumerIdList\":[\"10.0.0.1@a\",\"10.0.0.2@b\"]}");
    free(text);
    cmd_free(r);

    /* b leaves by UNREGISTER_CLIENT: a is told, b (gone) is not. */
    req = cmd_new_request(UNREGISTER_CLIENT);
    cmd_ext_set(req, "clientID", "10.0.0.2@b");
    cmd_ext_set(req, "consumerGroup", "G");
    cmd_ext_set(req, "producerGroup", "");
    r = call(&b, req);
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    drain(&a);
    drain(&b);
    ck_assert_int_eq(a.notifies, 3);
    ck_assert_int_eq(b.notifies, 1);
    size_t n;
    const char **ids = clients_consumer_ids(fx.b.clients, "G", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(ids[0], "10.0.0.1@a");
    free(ids);

    /* b comes back, then its connection drops: a is told both times. */
    heartbeat(&b, hb_b);
    drain(&a);
    ck_assert_int_eq(a.notifies, 4);
    client_close(&b);
    drain(&a);
    ck_assert_int_eq(a.notifies, 5);
    ids = clients_consumer_ids(fx.b.clients, "G", &n);
    ck_assert_int_eq(n, 1);
    free(ids);
    ck_assert_ptr_null(clients_consumer_ids(fx.b.clients, "nope", &n));
    ck_assert_int_eq(n, 0);

    /* a's last goodbye removes the group. */
    req = cmd_new_request(UNREGISTER_CLIENT);
    cmd_ext_set(req, "clientID", "10.0.0.1@a");
    cmd_ext_set(req, "consumerGroup", "G");
    r = call(&a, req);
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "G"));
    req = cmd_new_request(GET_CONSUMER_LIST_BY_GROUP);
    cmd_ext_set(req, "consumerGroup", "G");
    r = call(&a, req);
    expect(r, SYSTEM_ERROR, "no consumer for this group, G");
    cmd_free(r);
    free(hb_a);
    free(hb_b);
    client_close(&a);
}
END_TEST

START_TEST(subscription_updates)
{
    tclient a;
    client_open(&a);
    char *hb = hb_body("c1", "G", "T1", 100);
    heartbeat(&a, hb);
    free(hb);
    drain(&a);
    ck_assert_int_eq(a.notifies, 1);
    /* An older subVersion does not replace the topic; a newer one does, silently. */
    hb = str_printf("{\"clientID\":\"c1\",\"consumerDataSet\":[{\"groupName\":\"G\",\"consumeType\":\"CONSUME_ACTIVELY\","
                    "\"subscriptionDataSet\":[{\"topic\":\"T1\",\"subString\":\"x || y\",\"subVersion\":50}]}]}");
    heartbeat(&a, hb);
    free(hb);
    const consumer_group *g = clients_consumer_group(fx.b.clients, "G");
    ck_assert_str_eq(consumer_group_subscription(g, "T1")->sub_string, "*");
    ck_assert_int_eq(g->consume_type, CONSUME_ACTIVELY);
    ck_assert_int_eq(g->message_model, MESSAGE_MODEL_UNSET);
    hb = str_printf("{\"clientID\":\"c1\",\"consumerDataSet\":[{\"groupName\":\"G\",\"subscriptionDataSet\":["
                    "{\"topic\":\"T1\",\"subString\":\" x ||y|| ||x \",\"subVersion\":200}]}]}");
    heartbeat(&a, hb);
    free(hb);
    drain(&a);
    ck_assert_int_eq(a.notifies, 1);
    g = clients_consumer_group(fx.b.clients, "G");
    const subscription_data *sd = consumer_group_subscription(g, "T1");
    ck_assert_int_eq(sd->sub_version, 200);
    /* No tagsSet sent: the tags come from subString, trimmed, empties and repeats dropped. */
    ck_assert_int_eq(sd->n_tags, 2);
    ck_assert_str_eq(sd->tags[0], "x");
    ck_assert_str_eq(sd->tags[1], "y");
    ck_assert_int_eq(sd->codes[0], 120);   /* "x".hashCode() */
    ck_assert_int_eq(sd->codes[1], 121);
    /* A topic added and one dropped: the group is told. */
    hb = str_printf("{\"clientID\":\"c1\",\"consumerDataSet\":[{\"groupName\":\"G\",\"subscriptionDataSet\":["
                    "{\"topic\":\"T2\",\"subString\":\"*\",\"subVersion\":1}]}]}");
    heartbeat(&a, hb);
    free(hb);
    drain(&a);
    ck_assert_int_eq(a.notifies, 2);
    g = clients_consumer_group(fx.b.clients, "G");
    ck_assert_int_eq(g->n_subs, 1);
    ck_assert_ptr_null(consumer_group_subscription(g, "T1"));
    ck_assert_ptr_nonnull(consumer_group_subscription(g, "T2"));
    client_close(&a);
}
END_TEST

START_TEST(notify_follows_group_config)
{
    fx.notify_enabled = false;
    tclient a, b;
    client_open(&a);
    client_open(&b);
    char *hb = hb_body("a", "Q", "T", 1);
    heartbeat(&a, hb);
    free(hb);
    hb = hb_body("b", "Q", "T", 1);
    heartbeat(&b, hb);
    free(hb);
    drain(&a);
    drain(&b);
    ck_assert_int_eq(a.notifies, 0);
    ck_assert_int_eq(b.notifies, 0);
    ck_assert_int_eq(fx.seen_calls, 2);
    /* A dropped connection is announced whatever the group says (ConsumerManager.doChannelCloseEvent). */
    client_close(&b);
    drain(&a);
    ck_assert_int_eq(a.notifies, 1);
    ck_assert_str_eq(a.notify_group, "Q");
    client_close(&a);
}
END_TEST

START_TEST(expired_channels_are_dropped_and_closed)
{
    tclient a, b;
    client_open(&a);
    client_open(&b);
    char *hb = str_printf("{\"clientID\":\"a\",\"producerDataSet\":[{\"groupName\":\"P\"}],\"consumerDataSet\":[{"
                          "\"groupName\":\"G\",\"subscriptionDataSet\":[]}]}");
    heartbeat(&a, hb);
    free(hb);
    fx.now += 100000;
    hb = hb_body("b", "G", "T", 1);
    heartbeat(&b, hb);
    free(hb);
    drain(&a);
    drain(&b);
    int b_before = b.notifies;

    /* 120 s is still alive (Apache: diff > CHANNEL_EXPIRED_TIMEOUT). */
    clients_scan_expired(fx.b.clients, fx.now - 100000 + CLIENTS_CHANNEL_EXPIRED_MS, CLIENTS_CHANNEL_EXPIRED_MS);
    ck_assert_int_eq(clients_consumer_group(fx.b.clients, "G")->n_channels, 2);
    clients_scan_expired(fx.b.clients, fx.now - 100000 + CLIENTS_CHANNEL_EXPIRED_MS + 1, CLIENTS_CHANNEL_EXPIRED_MS);
    const consumer_group *g = clients_consumer_group(fx.b.clients, "G");
    ck_assert_int_eq(g->n_channels, 1);
    ck_assert_str_eq(g->channels[0].client_id, "b");
    ck_assert_ptr_null(clients_producer_group(fx.b.clients, "P"));
    ck_assert_ptr_null(clients_find_producer_conn(fx.b.clients, "a"));
    drain(&b);
    ck_assert_int_eq(b.notifies, b_before + 1);
    /* a's connection was closed by the broker: it reads end of stream, nothing before. */
    char buf[16];
    ck_assert_int_eq(read(a.fd, buf, sizeof buf), 0);
    close(a.fd);
    client_close(&b);
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "G"));
}
END_TEST

static rmq_cmd *lock_req(int code, const char *client, const char *qids)
{
    char mqs[512] = "";
    for (const char *p = qids; *p; p++) {
        size_t len = strlen(mqs);
        snprintf(mqs + len, sizeof mqs - len, "%s{\"brokerName\":\"bk\",\"queueId\":%c,\"topic\":\"T\"}",
                 p == qids ? "" : ",", *p);
    }
    char *body = str_printf("{\"clientId\":\"%s\",\"consumerGroup\":\"OG\",\"mqSet\":[%s]}", client, mqs);
    rmq_cmd *r = body_request(code, body);
    free(body);
    return r;
}

/* The queue ids of a lockOKMQSet body, e.g. "02". */
static char *locked_ids(rmq_cmd *r)
{
    ck_assert_int_eq(r->code, SUCCESS);
    cJSON *j = fjson_parse((const char *)r->body, r->body_len, NULL);
    ck_assert_ptr_nonnull(j);
    const cJSON *set = cJSON_GetObjectItem(j, "lockOKMQSet"), *it;
    char *out = xcalloc(1, 16);
    cJSON_ArrayForEach(it, set) out[strlen(out)] = (char)('0' + cJSON_GetObjectItem(it, "queueId")->valueint);
    cJSON_Delete(j);
    cmd_free(r);
    return out;
}

#define ASSERT_LOCKED(c, client, qids, expect_ids)                                  \
    do {                                                                            \
        char *got_ = locked_ids(call(c, lock_req(LOCK_BATCH_MQ, client, qids)));    \
        ck_assert_str_eq(got_, expect_ids);                                         \
        free(got_);                                                                 \
    } while (0)

START_TEST(lock_batch_grant_refuse_expire_unlock)
{
    tclient c;
    client_open(&c);
    /* Apache's own answer to the captured Java request, byte for byte. */
    char *body = golden_body(JAVA, LOCK_BATCH_MQ, "request", "\"queueId\":3", 0);
    char *want = golden_body(JAVA, LOCK_BATCH_MQ, "response", "\"queueId\":3", 0);
    rmq_cmd *r = call(&c, body_request(LOCK_BATCH_MQ, body));
    expect(r, SUCCESS, NULL);
    char *text = body_text(r);
    ck_assert_str_eq(text, want);
    free(text);
    free(body);
    free(want);
    cmd_free(r);

    ASSERT_LOCKED(&c, "X", "01", "01");
    ASSERT_LOCKED(&c, "Y", "12", "2");       /* 1 is X's */
    ASSERT_LOCKED(&c, "X", "011", "01");     /* a Set: the repeat collapses */
    fx.now += CLIENTS_LOCK_MAX_LIVE_MS;      /* exactly 60 s: still X's */
    ASSERT_LOCKED(&c, "Y", "1", "");
    fx.now += CLIENTS_LOCK_MAX_LIVE_MS - 1;  /* X last renewed at the start: now expired */
    ASSERT_LOCKED(&c, "Y", "1", "1");
    /* X may not unlock Y's queue; Y may. */
    r = call(&c, lock_req(UNLOCK_BATCH_MQ, "X", "1"));
    expect(r, SUCCESS, NULL);
    ck_assert_int_eq(r->body_len, 0);
    cmd_free(r);
    ASSERT_LOCKED(&c, "X", "1", "");
    r = call(&c, lock_req(UNLOCK_BATCH_MQ, "Y", "13"));
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    ASSERT_LOCKED(&c, "X", "1", "1");

    /* The registry's view: another group is independent. */
    message_queue mq = {"T", "bk", 1};
    bool ok = false;
    clients_try_lock_batch(fx.b.clients, "OTHER", &mq, 1, "Y", &ok);
    ck_assert(ok);

    /* Bad bodies: Apache's decode throws, the answer is SYSTEM_ERROR. */
    r = call(&c, body_request(LOCK_BATCH_MQ, "{\"clientId\":\"X\",\"mqSet\":[]}"));
    expect(r, SYSTEM_ERROR, "decode LockBatchRequestBody failed: consumerGroup is null");
    cmd_free(r);
    r = call(&c, body_request(LOCK_BATCH_MQ, "{\"clientId\":\"X\",\"consumerGroup\":\"OG\",\"mqSet\":[{\"queueId\":1}]}"));
    expect(r, SYSTEM_ERROR, "decode LockBatchRequestBody failed: topic is null");
    cmd_free(r);
    r = call(&c, body_request(UNLOCK_BATCH_MQ, NULL));
    expect(r, SYSTEM_ERROR, "decode UnlockBatchRequestBody failed: empty body");
    cmd_free(r);
    client_close(&c);
}
END_TEST

START_TEST(consumer_connection_list_matches_apache)
{
    tclient c;
    client_open(&c);
    /* The consumer mqadmin found online, rebuilt from Apache's answer, heart-beats to us. */
    const char *hb = "{\"clientID\":\"192.0.2.2@goldenHelperC\",\"consumerDataSet\":[{\"consumeFromWhere\":"
                     "\"CONSUME_FROM_FIRST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"GoldenAdminCG\","
                     "\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],"
                     "\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1795444677756,\"tagsSet\":[],"
                     "\"topic\":\"%RETRY%GoldenAdminCG\"},{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":"
                     "\"TAG\",\"subString\":\"*\",\"subVersion\":1795444677781,\"tagsSet\":[],\"topic\":\"GoldenAdminTopic\"}],"
                     "\"unitMode\":false}],\"producerDataSet\":[]}";
    rmq_cmd *req = body_request(HEART_BEAT, hb);
    req->language = language_from_name("JAVA");
    req->version = 409;
    rmq_cmd *r = call(&c, req);
    expect(r, SUCCESS, NULL);
    cmd_free(r);

    char *golden = golden_body("mqadmin-4.9.8.jsonl", GET_CONSUMER_CONNECTION_LIST, "response", "connectionSet", 0);
    char *want = golden;
    /* Only the client's ephemeral address differs. */
    const char *apache_addr = "127.0.0.1:40532";
    char *at = strstr(golden, apache_addr);
    ck_assert_ptr_nonnull(at);
    want = str_printf("%.*s%s%s", (int)(at - golden), golden, c.addr, at + strlen(apache_addr));
    free(golden);

    req = cmd_new_request(GET_CONSUMER_CONNECTION_LIST);
    cmd_ext_set(req, "consumerGroup", "GoldenAdminCG");
    r = call(&c, req);
    expect(r, SUCCESS, NULL);
    char *text = body_text(r);
    ck_assert_str_eq(text, want);
    free(text);
    free(want);
    cmd_free(r);

    /* Field by field, from the documented ConsumerConnection shape. */
    req = cmd_new_request(GET_CONSUMER_CONNECTION_LIST);
    cmd_ext_set(req, "consumerGroup", "GoldenAdminCG");
    r = call(&c, req);
    cJSON *j = fjson_parse((const char *)r->body, r->body_len, NULL);
    const cJSON *conn0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "connectionSet"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(conn0, "clientAddr")->valuestring, c.addr);
    ck_assert_str_eq(cJSON_GetObjectItem(conn0, "clientId")->valuestring, "192.0.2.2@goldenHelperC");
    ck_assert_str_eq(cJSON_GetObjectItem(conn0, "language")->valuestring, "JAVA");
    ck_assert_int_eq(cJSON_GetObjectItem(conn0, "version")->valueint, 409);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "consumeType")->valuestring, "CONSUME_PASSIVELY");
    const cJSON *sub = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "subscriptionTable"), "GoldenAdminTopic");
    int64_t v;
    ck_assert(fjson_get_int64(cJSON_GetObjectItem(sub, "subVersion"), &v));
    ck_assert_int_eq(v, 1795444677781);
    cJSON_Delete(j);
    cmd_free(r);

    req = cmd_new_request(GET_CONSUMER_CONNECTION_LIST);
    cmd_ext_set(req, "consumerGroup", "absent");
    r = call(&c, req);
    expect(r, CONSUMER_NOT_ONLINE, "the consumer group[absent] not online");
    cmd_free(r);
    client_close(&c);
}
END_TEST

START_TEST(producer_connection_list_and_unregister)
{
    tclient c;
    client_open(&c);
    rmq_cmd *req = body_request(HEART_BEAT, "{\"clientID\":\"192.0.2.2@goldenHelperP\",\"consumerDataSet\":[],"
                                            "\"producerDataSet\":[{\"groupName\":\"GoldenAdminPG\"}]}");
    req->language = language_from_name("CPP");
    req->version = 333;
    rmq_cmd *r = call(&c, req);
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    ck_assert_int_eq(c.notifies, 0);   /* producers are not announced */

    req = cmd_new_request(GET_PRODUCER_CONNECTION_LIST);
    cmd_ext_set(req, "producerGroup", "GoldenAdminPG");
    r = call(&c, req);
    expect(r, SUCCESS, NULL);
    char *text = body_text(r);
    char *want = str_printf("{\"connectionSet\":[{\"clientAddr\":\"%s\",\"clientId\":\"192.0.2.2@goldenHelperP\","
                            "\"language\":\"CPP\",\"version\":333}]}", c.addr);
    ck_assert_str_eq(text, want);
    free(text);
    free(want);
    cmd_free(r);
    ck_assert_ptr_nonnull(clients_find_producer_conn(fx.b.clients, "192.0.2.2@goldenHelperP"));

    req = cmd_new_request(UNREGISTER_CLIENT);
    cmd_ext_set(req, "clientID", "192.0.2.2@goldenHelperP");
    cmd_ext_set(req, "producerGroup", "GoldenAdminPG");
    r = call(&c, req);
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    ck_assert_ptr_null(clients_find_producer_conn(fx.b.clients, "192.0.2.2@goldenHelperP"));
    req = cmd_new_request(GET_PRODUCER_CONNECTION_LIST);
    cmd_ext_set(req, "producerGroup", "GoldenAdminPG");
    r = call(&c, req);
    expect(r, SYSTEM_ERROR, "the producer group[GoldenAdminPG] not exist");
    cmd_free(r);
    client_close(&c);
}
END_TEST

START_TEST(check_client_config_sql92)
{
    tclient c;
    client_open(&c);
    char *body = golden_body(JAVA, CHECK_CLIENT_CONFIG, "request", "SQL92", 0);
    fx.b.cfg.enablePropertyFilter = false;
    rmq_cmd *r = call(&c, body_request(CHECK_CLIENT_CONFIG, body));
    expect(r, SYSTEM_ERROR, "The broker does not support consumer to filter message by SQL92");
    cmd_free(r);
    fx.b.cfg.enablePropertyFilter = true;
    r = call(&c, body_request(CHECK_CLIENT_CONFIG, body));
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    free(body);
    r = call(&c, body_request(CHECK_CLIENT_CONFIG, "{\"clientId\":\"x\",\"group\":\"g\",\"subscriptionData\":"
                                                   "{\"expressionType\":\"SQL92\",\"subString\":\"a >\",\"topic\":\"t\"}}"));
    ck_assert_int_eq(r->code, SUBSCRIPTION_PARSE_FAILED);
    ck_assert_ptr_nonnull(r->remark);
    cmd_free(r);
    /* TAG (or no expressionType) passes even without the property filter. */
    fx.b.cfg.enablePropertyFilter = false;
    r = call(&c, body_request(CHECK_CLIENT_CONFIG, "{\"subscriptionData\":{\"subString\":\"a||b\",\"topic\":\"t\"}}"));
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    r = call(&c, body_request(CHECK_CLIENT_CONFIG, "{\"group\":\"g\"}"));
    expect(r, SUCCESS, NULL);
    cmd_free(r);
    r = call(&c, body_request(CHECK_CLIENT_CONFIG, NULL));
    expect(r, SYSTEM_ERROR, "decode CheckClientRequestBody failed: empty body");
    cmd_free(r);
    client_close(&c);
}
END_TEST

START_TEST(bad_inputs_change_nothing)
{
    tclient c;
    client_open(&c);
    static const struct {
        const char *body, *remark;
    } cases[] = {
        {NULL, "decode HeartbeatData failed: empty body"},
        {"[1]", "decode HeartbeatData failed: not a JSON object"},
        {"{\"consumerDataSet\":[]}", "decode HeartbeatData failed: clientID is null"},
        {"{\"clientID\":\"c\",\"consumerDataSet\":{}}", "decode HeartbeatData failed: consumerDataSet is not an array"},
        {"{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"G\",\"consumeType\":\"PUSH\"}]}",
         "decode HeartbeatData failed: consumeType: no such enum value"},
        {"{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"G\",\"messageModel\":7}]}",
         "decode HeartbeatData failed: messageModel: no such enum value"},
        {"{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"G\",\"subscriptionDataSet\":[{\"subString\":\"*\"}]}]}",
         "decode HeartbeatData failed: topic is null"},
        {"{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"G\"}],\"producerDataSet\":[{}]}",
         "decode HeartbeatData failed: groupName is null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rmq_cmd *r = call(&c, body_request(HEART_BEAT, cases[i].body));
        expect(r, SYSTEM_ERROR, cases[i].remark);
        cmd_free(r);
    }
    rmq_cmd *r = call(&c, body_request(HEART_BEAT, "{\"clientID\":"));
    ck_assert_int_eq(r->code, SYSTEM_ERROR);
    ck_assert_ptr_nonnull(strstr(r->remark, "decode HeartbeatData failed: "));
    cmd_free(r);
    ck_assert_ptr_null(clients_consumer_group(fx.b.clients, "G"));
    ck_assert_int_eq(fx.seen_calls, 0);

    /* Missing headers: cmd_decode_header's remark. */
    static const int codes[] = {UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, GET_CONSUMER_CONNECTION_LIST,
                                GET_PRODUCER_CONNECTION_LIST};
    static const char *const fields[] = {"clientID", "consumerGroup", "consumerGroup", "producerGroup"};
    for (size_t i = 0; i < 4; i++) {
        r = call(&c, cmd_new_request(codes[i]));
        ck_assert_int_eq(r->code, SYSTEM_ERROR);
        char *want = str_printf("the custom field <%s> is null", fields[i]);
        ck_assert_msg(r->remark && strstr(r->remark, want), "%d: %s", codes[i], r->remark);
        free(want);
        cmd_free(r);
    }
    client_close(&c);
}
END_TEST

START_TEST(subscription_new_derives_codes)
{
    const char *tags[] = {"TagA", "TagB", "TagA"};
    subscription_data *sd = subscription_new("t", "TagA || TagB", NULL, tags, 3, 7, false);
    ck_assert_str_eq(sd->expression_type, "TAG");
    ck_assert_int_eq(sd->n_tags, 2);
    ck_assert_int_eq(sd->n_codes, 2);
    ck_assert_int_eq(sd->codes[0], HASH_TAGA);
    ck_assert_int_eq(sd->codes[1], HASH_TAGB);
    ck_assert(filter_match_tags_code(sd->filter, HASH_TAGB));
    ck_assert(!filter_match_tags_code(sd->filter, 1));
    subscription_free(sd);
    /* "Aa" and "BB" share String.hashCode 2112: codeSet keeps one. */
    sd = subscription_new("t", "Aa||BB", "TAG", NULL, 0, 7, false);
    ck_assert_int_eq(sd->n_tags, 2);
    ck_assert_int_eq(sd->n_codes, 1);
    ck_assert_int_eq(sd->codes[0], 2112);
    subscription_free(sd);
    sd = subscription_new("t", "a = 1", "SQL92", NULL, 0, 7, false);
    ck_assert_int_eq(sd->n_codes, 0);
    ck_assert_ptr_nonnull(sd->filter);
    subscription_free(sd);
    sd = subscription_new("t", "a = = 1", "SQL92", NULL, 0, 7, false);
    ck_assert_ptr_null(sd->filter);
    subscription_free(sd);
    ck_assert(expression_type_is_tag(NULL));
    ck_assert(expression_type_is_tag(""));
    ck_assert(!expression_type_is_tag("SQL92"));
    ck_assert_str_eq(consume_from_where_name(CONSUME_FROM_TIMESTAMP), "CONSUME_FROM_TIMESTAMP");
    ck_assert_ptr_null(message_model_name(MESSAGE_MODEL_UNSET));
    ck_assert_int_eq(consume_type_from_name("CONSUME_ACTIVELY"), CONSUME_ACTIVELY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clients");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, heartbeat_java_registers_consumer_and_producer);
    tcase_add_test(tc, heartbeat_v2_keeps_subscriptions_and_reports_changes);
    tcase_add_test(tc, heartbeat_cpp_ordinals_and_recomputed_codes);
    tcase_add_test(tc, heartbeat_go_and_node_shapes);
    tcase_add_test(tc, consumer_list_and_join_leave_notifications);
    tcase_add_test(tc, subscription_updates);
    tcase_add_test(tc, notify_follows_group_config);
    tcase_add_test(tc, expired_channels_are_dropped_and_closed);
    tcase_add_test(tc, lock_batch_grant_refuse_expire_unlock);
    tcase_add_test(tc, consumer_connection_list_matches_apache);
    tcase_add_test(tc, producer_connection_list_and_unregister);
    tcase_add_test(tc, check_client_config_sql92);
    tcase_add_test(tc, bad_inputs_change_nothing);
    suite_add_tcase(s, tc);
    TCase *unit = tcase_create("subscription");
    tcase_add_test(unit, subscription_new_derives_codes);
    suite_add_tcase(s, unit);
    return test_run_suite(s);
}
