/*
 * End to end: mqconsole in front of a real mqnamesrv + mqbroker, asked over
 * HTTP as its page asks it. The page files and their headers, bad requests
 * (400/404/405), the cluster's refusals as {"error","code"} with 502, a send
 * found again by key, unique id and store time, an offset reset with no
 * consumer online, and a name server gone — the console answering throughout
 * and exiting 0 at the end (so a sanitizer report fails the test).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "../broker/broker_client.h"

static test_broker tb;
static test_proc ns, con;
static char *ns_dir, *con_dir;
static char ns_arg[64];

typedef struct http_answer {
    int status;
    char *head, *body;   /* body points into head's buffer */
} http_answer;

/* One HTTP/1.0 request to the console; fails the test on any transport error. */
static http_answer http(const char *method, const char *path, const char *type, const char *body)
{
    char err[128];
    int fd = rmq_connect_blocking(con.addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "connect %s: %s", con.addr, err);
    char *req = str_printf("%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s%s%sContent-Length: %zu\r\n\r\n%s", method, path,
                           type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "", body ? strlen(body) : 0,
                           body ? body : "");
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    free(req);
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    int64_t deadline = mono_ms() + 20000;
    for (;;) {
        ck_assert_msg(mono_ms() < deadline, "no whole answer to %s %s within 20 s", method, path);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) continue;
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r == 0) break;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        ck_assert_msg(r > 0, "reading the answer: %s", strerror(errno));
        len += (size_t)r;
        if (len + 1 == cap) buf = xrealloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = 0;
    http_answer a = {0, buf, NULL};
    ck_assert_msg(sscanf(buf, "HTTP/1.%*d %d", &a.status) == 1, "status line: %.40s", buf);
    char *sep = strstr(buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(sep);
    *sep = '\0';
    a.body = sep + 4;
    return a;
}

/* The JSON of an answer with the expected status. */
static cJSON *json(const char *method, const char *path, const char *body, int want_status)
{
    http_answer a = http(method, path, body ? "application/json" : NULL, body);
    ck_assert_msg(a.status == want_status, "%s %s: status %d, want %d: %s", method, path, a.status, want_status, a.body);
    ck_assert_ptr_nonnull(strstr(a.head, "Content-Type: application/json; charset=utf-8"));
    cJSON *j = cJSON_Parse(a.body);
    ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, a.body);
    free(a.head);
    return j;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static void setup(void)
{
    tb_namesrv_start(&ns, &ns_dir, "test_console_api_ns");
    snprintf(ns_arg, sizeof ns_arg, "--namesrvAddr=%s", ns.addr);
    tb_init(&tb, "test_console_api", ns_arg, "--brokerClusterName=ConsoleCluster", NULL);
    con_dir = test_tmpdir("test_console_api_con");
    int port = test_free_port();
    char *log = str_printf("%s/console.log", con_dir), *p = str_printf("%d", port);
    char *argv[] = {"mqconsole", "-n", ns.addr, "-a", "127.0.0.1", "-p", p, NULL};
    ck_assert_int_eq(test_proc_start(&con, "mqconsole", argv, port, log), 0);
    free(log), free(p);
    /* The broker registers at start; wait until the name server has it. */
    int64_t deadline = mono_ms() + 10000;
    for (;;) {
        cJSON *c = json("GET", "/api/cluster", NULL, 200);
        bool there = cJSON_GetArraySize(get(c, "clusters")) == 1;
        cJSON_Delete(c);
        if (there) break;
        ck_assert_msg(mono_ms() < deadline, "the broker never showed in /api/cluster");
        usleep(100000);
    }
}

static void teardown(void)
{
    int rc = test_proc_stop(&con, SIGTERM);
    if (rc) {
        char *cmd = str_printf("tail -20 '%s/console.log' >&2", con_dir);
        if (system(cmd) != 0) fprintf(stderr, "no log\n");
        free(cmd);
    }
    test_rmdir(con_dir);
    free(con_dir);
    tb_done(&tb);
    if (ns.pid) tb_namesrv_stop(&ns, ns_dir);
    ck_assert_msg(rc == 0, "mqconsole exited with %d", rc);
}

START_TEST(test_page_files_and_bad_requests)
{
    http_answer a = http("GET", "/", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.head, "Content-Type: text/html; charset=utf-8"));
    ck_assert_ptr_nonnull(strstr(a.head, "Content-Security-Policy: default-src 'self'"));
    ck_assert_ptr_nonnull(strstr(a.body, "<script src=\"/app.js\""));
    free(a.head);
    a = http("GET", "/app.js", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.head, "Content-Type: text/javascript"));
    free(a.head);
    a = http("GET", "/../etc/passwd", NULL, NULL);
    ck_assert_int_eq(a.status, 404);
    free(a.head);
    cJSON *j = json("GET", "/api/nothing", NULL, 404);
    cJSON_Delete(j);
    j = json("GET", "/api/send", NULL, 405);
    cJSON_Delete(j);
    j = json("GET", "/api/topic", NULL, 400);
    ck_assert_str_eq(get(j, "error")->valuestring, "missing parameter \"topic\"");
    cJSON_Delete(j);
    /* A form post (what another site's page could send) is refused before anything is sent. */
    a = http("POST", "/api/send", "application/x-www-form-urlencoded", "topic=T&body=x");
    ck_assert_int_eq(a.status, 400);
    ck_assert_ptr_nonnull(strstr(a.body, "application/json"));
    free(a.head);
    j = json("POST", "/api/send", "[1,2]", 400);
    cJSON_Delete(j);
    j = json("GET", "/api/message/time?topic=T&begin=x", NULL, 400);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_cluster_and_refusals)
{
    cJSON *c = json("GET", "/api/cluster", NULL, 200);
    const cJSON *cl = cJSON_GetArrayItem(get(c, "clusters"), 0);
    ck_assert_str_eq(get(cl, "name")->valuestring, "ConsoleCluster");
    const cJSON *addr = cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(cl, "brokers"), 0), "addrs"), 0);
    ck_assert_str_eq(get(addr, "addr")->valuestring, tb.proc.addr);
    ck_assert_str_eq(get(addr, "role")->valuestring, "MASTER");
    ck_assert_str_eq(get(get(get(addr, "status"), "headline"), "brokerVersionDesc")->valuestring, "V4_9_8");
    cJSON_Delete(c);
    char *path = str_printf("/api/broker?addr=%s", tb.proc.addr);
    c = json("GET", path, NULL, 200);
    ck_assert_int_gt(cJSON_GetArraySize(get(c, "table")), 10);
    cJSON_Delete(c);
    free(path);
    c = json("GET", "/api/topic?topic=NoSuchTopic", NULL, 502);
    ck_assert_int_eq(get(c, "code")->valueint, 17);
    ck_assert_ptr_nonnull(strstr(get(c, "error")->valuestring, "No topic route info"));
    cJSON_Delete(c);
    /* No consumer heartbeat has created the group's retry topic: consumerProgress's refusal. */
    c = json("GET", "/api/group?group=NoGroup", NULL, 502);
    ck_assert_ptr_nonnull(strstr(get(c, "error")->valuestring, "%RETRY%NoGroup"));
    cJSON_Delete(c);
    c = json("GET", "/api/broker?addr=127.0.0.1:1", NULL, 502);
    ck_assert_int_eq(get(c, "code")->valueint, -1);
    cJSON_Delete(c);
}
END_TEST

START_TEST(test_send_lookup_and_reset)
{
    tb_create_topic(&tb, "ConsoleT", 2);
    /* The name server learns the topic from the broker's next registration. */
    int64_t deadline = mono_ms() + 10000;
    for (;;) {
        http_answer a = http("GET", "/api/topic?topic=ConsoleT", NULL, NULL);
        free(a.head);
        if (a.status == 200) break;
        ck_assert_msg(mono_ms() < deadline, "ConsoleT never routed");
        usleep(100000);
    }
    cJSON *s = json("POST", "/api/send", "{\"topic\":\"ConsoleT\",\"tags\":\"TagC\",\"keys\":\"k1 k2\",\"body\":\"h\\u00e9llo\"}", 200);
    ck_assert_str_eq(get(s, "status")->valuestring, "SEND_OK");
    char *msg_id = xstrdup(get(s, "msgId")->valuestring);
    ck_assert_int_eq(strlen(msg_id), 32);
    cJSON_Delete(s);

    cJSON *t = json("GET", "/api/topic?topic=ConsoleT", NULL, 200);
    ck_assert_int_eq(get(t, "messages")->valueint, 1);
    ck_assert_int_eq(cJSON_GetArraySize(get(t, "queues")), 2);
    cJSON_Delete(t);

    const char *lookups[] = {"/api/message/key?topic=ConsoleT&key=k2", NULL, "/api/message/time?topic=ConsoleT"};
    char *by_id = str_printf("/api/message/id?id=%s&topic=ConsoleT", msg_id);
    lookups[1] = by_id;
    for (int i = 0; i < 3; i++) {
        cJSON *m = json("GET", lookups[i], NULL, 200);
        ck_assert_msg(cJSON_GetArraySize(get(m, "messages")) == 1, "%s", lookups[i]);
        const cJSON *one = cJSON_GetArrayItem(get(m, "messages"), 0);
        ck_assert_str_eq(get(one, "msgId")->valuestring, msg_id);
        ck_assert_str_eq(get(one, "body")->valuestring, "h\xc3\xa9llo");
        ck_assert_str_eq(get(get(one, "properties"), "TAGS")->valuestring, "TagC");
        cJSON_Delete(m);
    }
    free(by_id);
    cJSON *none = json("GET", "/api/message/key?topic=ConsoleT&key=k3", NULL, 200);
    ck_assert_int_eq(cJSON_GetArraySize(get(none, "messages")), 0);
    cJSON_Delete(none);

    /* A group with no offsets of the topic is refused by the broker (Apache's text); the page shows it. */
    const char *reset = "{\"group\":\"CG_console\",\"topic\":\"ConsoleT\",\"timestamp\":-1}";
    cJSON *r = json("POST", "/api/reset", reset, 502);
    ck_assert_ptr_nonnull(strstr(get(r, "error")->valuestring, "CG_console"));
    cJSON_Delete(r);
    for (int q = 0; q < 2; q++) {
        rmq_cmd *u = cmd_new_request(15);   /* UPDATE_CONSUMER_OFFSET */
        cmd_ext_declare(u);
        cmd_ext_set(u, "consumerGroup", "CG_console");
        cmd_ext_set(u, "topic", "ConsoleT");
        cmd_ext_set_int(u, "queueId", q);
        cmd_ext_set_int(u, "commitOffset", 0);
        rmq_cmd *ok = tb_call(&tb, u, BC_TIMEOUT);
        ck_assert_int_eq(ok->code, 0);
        cmd_free(ok);
    }
    /* No consumer is online: the console commits the offsets itself, to the end with -1. */
    r = json("POST", "/api/reset", reset, 200);
    ck_assert_str_eq(get(r, "by")->valuestring, "console");
    const cJSON *q;
    int64_t total = 0;
    cJSON_ArrayForEach(q, get(r, "queues")) total += (int64_t)get(q, "offset")->valuedouble;
    ck_assert_int_eq(cJSON_GetArraySize(get(r, "queues")), 2);
    ck_assert_int_eq(total, 1);
    cJSON_Delete(r);
    free(msg_id);
}
END_TEST

START_TEST(test_namesrv_down)
{
    tb_namesrv_stop(&ns, ns_dir);
    ns.pid = 0;
    cJSON *c = json("GET", "/api/cluster", NULL, 502);
    ck_assert_ptr_nonnull(strstr(get(c, "error")->valuestring, ns.addr));
    cJSON_Delete(c);
    c = json("GET", "/api/topics", NULL, 502);
    cJSON_Delete(c);
    http_answer a = http("GET", "/", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    free(a.head);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_page_files_and_bad_requests, test_cluster_and_refusals,
                                  test_send_lookup_and_reset, test_namesrv_down, NULL};
    return tb_run_tests("console_api", 60, setup, teardown, tests);
}
