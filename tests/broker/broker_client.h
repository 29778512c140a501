/*
 * Test helper for end-to-end broker tests: one mqbroker in its own /tmp
 * directory (kept across restarts), and the requests a client sends, built as
 * the Java client builds them. Every wait has a deadline.
 */
#ifndef TEST_BROKER_CLIENT_H
#define TEST_BROKER_CLIENT_H

#include <check.h>
#include <stdarg.h>

#include "../testproc.h"
#include "common/message.h"
#include "../check_run.h"

#define BC_TIMEOUT 5000

typedef struct test_broker {
    test_proc proc;
    char *dir;
    int port;                  /* kept across restarts so producers find it again */
    const char *extra[8];      /* more --key=value arguments, NULL-terminated */
} test_broker;

static inline void tb_start(test_broker *tb)
{
    for (int tries = 0; tries < 20; tries++) {
        int port = tb->port ? tb->port : test_free_broker_port();
        char *root = str_printf("--storePathRootDir=%s/store", tb->dir);
        char *lp = str_printf("--listenPort=%d", port);
        char *log = str_printf("%s/broker.log", tb->dir);
        char *argv[16] = {"mqbroker", root, lp, "--listenAddress=127.0.0.1", "--brokerIP1=127.0.0.1",
                          "--brokerName=broker-e2e", "--mappedFileSizeCommitLog=16777216"};
        int n = 7;
        for (int i = 0; tb->extra[i] && n < 15; i++) argv[n++] = (char *)tb->extra[i];
        argv[n] = NULL;
        int rc = test_proc_start(&tb->proc, "mqbroker", argv, port, log);
        free(root), free(lp), free(log);
        if (rc == 0) {
            tb->port = port;
            return;
        }
        if (tb->port) usleep(200000);  /* a restart: the port may still be closing */
    }
    ck_abort_msg("mqbroker did not start");
}

/* A new broker directory and a running broker; extra: NULL-terminated --key=value list. */
static inline void tb_init(test_broker *tb, const char *name, ...)
{
    memset(tb, 0, sizeof *tb);
    rmq_remoting_init();
    tb->dir = test_tmpdir(name);
    va_list ap;
    va_start(ap, name);
    int n = 0;
    for (const char *a; (a = va_arg(ap, const char *)) && n < 7;) tb->extra[n++] = a;
    va_end(ap);
    tb_start(tb);
}

/* Stops the broker, which must exit 0 (a sanitizer report makes it fail), and removes its files. */
static inline void tb_done(test_broker *tb)
{
    int rc = test_proc_stop(&tb->proc, SIGTERM);
    char *log = str_printf("%s/broker.log", tb->dir);
    if (rc != 0) {
        char *cmd = str_printf("tail -20 '%s' >&2", log);
        if (system(cmd) != 0) fprintf(stderr, "no log\n");
        free(cmd);
    }
    free(log);
    test_rmdir(tb->dir);
    free(tb->dir);
    ck_assert_msg(rc == 0, "mqbroker exited with %d", rc);
}

/* SIGTERM (clean shutdown) or SIGKILL, then start again on the same port and files. */
static inline void tb_restart(test_broker *tb, int sig)
{
    int rc = test_proc_stop(&tb->proc, sig);
    ck_assert_int_eq(rc, sig == SIGTERM ? 0 : 128 + SIGKILL);
    tb_start(tb);
}

/* An mqnamesrv on a free port in its own /tmp directory (*dir, caller frees after tb_namesrv_stop). */
static inline void tb_namesrv_start(test_proc *ns, char **dir, const char *name)
{
    rmq_remoting_init();
    *dir = test_tmpdir(name);
    int port = test_free_port();
    char *conf = str_printf("%s/namesrv.properties", *dir);
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kvConfig.json\n", port, *dir);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *out = str_printf("%s/stdout", *dir);
    char *home = str_printf("HOME=%s", *dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    ck_assert_int_eq(test_proc_start_env(ns, "mqnamesrv", argv, env, port, out), 0);
    free(home), free(out), free(text), free(conf);
}

/* Stops it (it must exit 0) and removes its directory. */
static inline void tb_namesrv_stop(test_proc *ns, char *dir)
{
    ck_assert_int_eq(test_proc_stop(ns, SIGTERM), 0);
    test_rmdir(dir);
    free(dir);
}

static inline rmq_cmd *tb_call(const test_broker *tb, rmq_cmd *req, int timeout_ms)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(tb->proc.addr, req, timeout_ms, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d: %s", req->code, err);
    cmd_free(req);
    return resp;
}

/* UPDATE_AND_CREATE_TOPIC as the admin tools send it. */
static inline rmq_cmd *tb_create_topic_req(const char *topic, int queues)
{
    rmq_cmd *req = cmd_new_request(17);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set(req, "defaultTopic", "TBW102");
    cmd_ext_set_int(req, "readQueueNums", queues);
    cmd_ext_set_int(req, "writeQueueNums", queues);
    cmd_ext_set_int(req, "perm", 6);
    cmd_ext_set(req, "topicFilterType", "SINGLE_TAG");
    cmd_ext_set_int(req, "topicSysFlag", 0);
    cmd_ext_set(req, "order", "false");
    return req;
}

static inline void tb_create_topic(const test_broker *tb, const char *topic, int queues)
{
    rmq_cmd *resp = tb_call(tb, tb_create_topic_req(topic, queues), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
}

/* SEND_MESSAGE_V2 as DefaultMQProducerImpl.sendKernelImpl builds it. */
static inline rmq_cmd *tb_send_req(const char *group, const char *topic, int qid, int sysflag, const char *props,
                                   const char *body)
{
    rmq_cmd *req = cmd_new_request(310);
    cmd_ext_set(req, "a", group);
    cmd_ext_set(req, "b", topic);
    cmd_ext_set(req, "c", "TBW102");
    cmd_ext_set(req, "d", "4");
    cmd_ext_set_int(req, "e", qid);
    cmd_ext_set_int(req, "f", sysflag);
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set(req, "h", "0");
    if (props) cmd_ext_set(req, "i", props);
    cmd_ext_set(req, "j", "0");
    cmd_ext_set(req, "k", "false");
    cmd_set_body(req, body, strlen(body));
    return req;
}

/* Sends and asserts SUCCESS; returns the answer (caller frees). */
static inline rmq_cmd *tb_send(const test_broker *tb, const char *topic, int qid, const char *props, const char *body)
{
    rmq_cmd *resp = tb_call(tb, tb_send_req("PG_e2e", topic, qid, 0, props, body), BC_TIMEOUT);
    ck_assert_msg(resp->code == 0, "send to %s: %d %s", topic, resp->code, resp->remark ? resp->remark : "");
    return resp;
}

/* PULL_MESSAGE with the subscription in the request; suspend_ms > 0 holds it (long polling). */
static inline rmq_cmd *tb_pull_req(const char *group, const char *topic, int qid, int64_t offset, int64_t suspend_ms)
{
    rmq_cmd *req = cmd_new_request(11);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "queueOffset", offset);
    cmd_ext_set(req, "maxMsgNums", "32");
    cmd_ext_set_int(req, "sysFlag", 0x4 | (suspend_ms > 0 ? 0x2 : 0));
    cmd_ext_set(req, "commitOffset", "0");
    cmd_ext_set_int(req, "suspendTimeoutMillis", suspend_ms);
    cmd_ext_set(req, "subscription", "*");
    cmd_ext_set(req, "subVersion", "0");
    cmd_ext_set(req, "expressionType", "TAG");
    return req;
}

static inline rmq_cmd *tb_pull(const test_broker *tb, const char *group, const char *topic, int qid, int64_t offset,
                               int64_t suspend_ms)
{
    return tb_call(tb, tb_pull_req(group, topic, qid, offset, suspend_ms), (int)suspend_ms + BC_TIMEOUT);
}

static inline int64_t tb_ext_i64(const rmq_cmd *c, const char *k)
{
    int64_t v;
    ck_assert_msg(cmd_ext_int64(c, k, &v) == EXT_OK, "field %s missing in answer %d", k, c->code);
    return v;
}

/* GET_MAX_OFFSET of a queue. */
static inline int64_t tb_max_offset(const test_broker *tb, const char *topic, int qid)
{
    rmq_cmd *req = cmd_new_request(30);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    rmq_cmd *resp = tb_call(tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    int64_t v = tb_ext_i64(resp, "offset");
    cmd_free(resp);
    return v;
}

/* The value of a property of a decoded record, as a malloc'd string; NULL if absent. */
static inline char *tb_prop(const msg_record *r, const char *key)
{
    const char *v;
    size_t n;
    return msg_props_find(r->props, r->props_len, key, &v, &n) ? xstrndup(v, n) : NULL;
}

static inline void tb_assert_prop(const msg_record *r, const char *key, const char *want)
{
    char *v = tb_prop(r, key);
    if (!want) ck_assert_msg(v == NULL, "property %s should be absent, is %s", key, v);
    else ck_assert_msg(v && strcmp(v, want) == 0, "property %s: got %s want %s", key, v ? v : "(absent)", want);
    free(v);
}

/* The records of a pull or query body, in order; returns how many (at most max). */
static inline int tb_records(const rmq_cmd *c, msg_record *out, int max)
{
    size_t pos = 0;
    int n = 0;
    while (pos < c->body_len && n < max) {
        const char *why;
        ck_assert_msg(msg_record_decode(c->body + pos, c->body_len - pos, &out[n], &why) == RMQ_OK, "%s", why);
        pos += out[n++].total_size;
    }
    ck_assert_uint_eq(pos, c->body_len);
    return n;
}

/*
 * Runs TESTS (NULL-terminated) as suite NAME, each test with its own SETUP/TEARDOWN
 * (a fresh broker) and TIMEOUT_S; returns main's exit status.
 */
static inline int tb_run_tests(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                               const TTest *const tests[])
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("e2e");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, timeout_s);
    for (int i = 0; tests[i]; i++) tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

#endif
