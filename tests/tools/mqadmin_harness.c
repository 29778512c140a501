/*
 * The mqadmin end-to-end harness: the real mqnamesrv and mqbroker on free
 * 127.0.0.1 ports in their own directory, requests of the test's own to
 * check what a command changed, mqadmin run as a program with its output
 * and exit status collected, and a socket playing an online consumer.
 * Every wait has a deadline.
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqadmin_harness.h"
#include "../check_run.h"

char *dir;
test_proc ns, broker;
int64_t commitlog_file_size = 67108864;
const char *broker_conf_extra = "";

/* ---- processes ---- */

/* Starts NAME (HOME: the test directory, output to NAME.log there) and waits until it listens on PORT. */
static void spawn(test_proc *s, const char *name, char *const argv[], int port)
{
    char *log = str_printf("%s/%s.log", dir, name), *home = str_printf("HOME=%s", dir);
    char *env[] = {home, NULL};
    if (test_proc_start_env(s, name, argv, env, port, log)) {
        fprintf(stderr, "%s did not start on %s\n", name, s->addr);
        abort();
    }
    free(log);
    free(home);
}

static void stop(test_proc *s)
{
    if (s->pid <= 0) return;
    test_proc_stop(s, SIGTERM);
    s->pid = 0;
}

static void write_text(const char *name, const char *text)
{
    char *path = str_printf("%s/%s", dir, name);
    if (write_file_atomic(path, text, strlen(text))) abort();
    free(path);
}


void start_servers(void)
{
    dir = test_tmpdir("test_mqadmin");
    int ns_port = test_free_port();
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kvConfig.json\n", ns_port, dir);
    write_text("namesrv.properties", text);
    free(text);
    char *ns_conf = str_printf("%s/namesrv.properties", dir);
    char *ns_argv[] = {"mqnamesrv", "-c", ns_conf, NULL};
    spawn(&ns, "mqnamesrv", ns_argv, ns_port);
    free(ns_conf);

    int broker_port = test_free_broker_port();
    text = str_printf("brokerClusterName=DefaultCluster\nbrokerName=broker-t\nbrokerId=0\nbrokerIP1=127.0.0.1\n"
                      "listenAddress=127.0.0.1\nlistenPort=%d\nstorePathRootDir=%s/store\n"
                      "mappedFileSizeCommitLog=%lld\nflushDiskType=ASYNC_FLUSH\nbrokerTopicEnable=true\n%s",
                      broker_port, dir, (long long)commitlog_file_size, broker_conf_extra);
    write_text("broker.conf", text);
    free(text);
    /* A consume queue left behind by a topic the broker no longer has, for cleanUnusedTopic. */
    char *unused = str_printf("%s/store/consumequeue/ADMINTEST_UNUSED/0", dir);
    if (mkdirs(unused) != RMQ_OK) abort();
    free(unused);
    char *b_conf = str_printf("%s/broker.conf", dir);
    char *b_argv[] = {"mqbroker", "-c", b_conf, "-n", ns.addr, NULL};
    spawn(&broker, "mqbroker", b_argv, broker_port);
    free(b_conf);

    /* Registered once the name server lists the broker. */
    int64_t deadline = mono_ms() + 10000;
    for (;;) {
        rmq_cmd *resp = call(ns.addr, cmd_new_request(106));
        bool ok = resp->body_len && memmem(resp->body, resp->body_len, broker.addr, strlen(broker.addr));
        cmd_free(resp);
        if (ok) break;
        if (mono_ms() > deadline) abort();
        usleep(50000);
    }
}

void stop_servers(void)
{
    stop(&broker);
    stop(&ns);
    char *cmd = str_printf("rm -rf '%s' %s", dir, "/tmp/rocketmq/msgbodys/*ADMINTEST* 2>/dev/null");
    if (system(cmd)) { /* best effort */ }
    free(cmd);
    free(dir);
}

/* ---- requests of our own ---- */

rmq_cmd *call(const char *addr, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr, req, TIMEOUT_MS, err, sizeof err);
    if (!resp) {
        fprintf(stderr, "request %d to %s: %s\n", req->code, addr, err);
        abort();
    }
    cmd_free(req);
    return resp;
}

rmq_cmd *req_ext(int code, ...)
{
    rmq_cmd *c = cmd_new_request(code);
    cmd_ext_declare(c);
    va_list ap;
    va_start(ap, code);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(c, k, va_arg(ap, const char *));
    va_end(ap);
    return c;
}

char *body_of(const rmq_cmd *r) { return xstrndup((const char *)r->body, r->body_len); }

int64_t queue_offset(int code, const char *topic, int queue)
{
    char q[16];
    snprintf(q, sizeof q, "%d", queue);
    rmq_cmd *r = call(broker.addr, req_ext(code, "topic", topic, "queueId", q, NULL));
    ck_assert_int_eq(r->code, 0);
    int64_t off = -1;
    ck_assert_int_eq(cmd_ext_int64(r, "offset", &off), EXT_OK);
    cmd_free(r);
    return off;
}

/* QUERY_CONSUMER_OFFSET: what a consumer of the group resumes from (-22 if none). */
int64_t consumer_offset(const char *group, const char *topic, int queue)
{
    char q[16];
    snprintf(q, sizeof q, "%d", queue);
    rmq_cmd *r = call(broker.addr, req_ext(14, "consumerGroup", group, "topic", topic, "queueId", q, NULL));
    int64_t off = -r->code;
    if (r->code == 0) cmd_ext_int64(r, "offset", &off);
    cmd_free(r);
    return off;
}

void commit_offset(const char *group, const char *topic, int queue, int64_t offset)
{
    char q[16], o[32];
    snprintf(q, sizeof q, "%d", queue);
    snprintf(o, sizeof o, "%lld", (long long)offset);
    rmq_cmd *r = call(broker.addr,
                      req_ext(15, "consumerGroup", group, "topic", topic, "queueId", q, "commitOffset", o, NULL));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}

/* ---- running mqadmin ---- */


char *out_text, *err_text;   /* of the last finished run */

void run_start(run *r, const char *namesrv, const char *const *args)
{
    int out[2], err[2];
    if (pipe(out) || pipe(err)) abort();
    const char *argv[64] = {"mqadmin"};
    int n = 1;
    for (; args[n - 1]; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    char *prog = test_program("mqadmin");
    r->pid = fork();
    if (r->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        if (namesrv) setenv("NAMESRV_ADDR", namesrv, 1);
        else unsetenv("NAMESRV_ADDR");
        chdir(dir);   /* consumerStatus writes its files in the working directory */
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    free(prog);
    close(out[1]);
    close(err[1]);
    r->out_fd = out[0];
    r->err_fd = err[0];
}

/* Collects the output and the exit status (-1 when killed at the deadline). */
int run_finish(run *r)
{
    free(out_text);
    free(err_text);
    size_t cap[2] = {4096, 4096}, len[2] = {0, 0};
    char *buf[2] = {xmalloc(cap[0]), xmalloc(cap[1])};
    struct pollfd p[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
    int open_fds = 2;
    int64_t deadline = mono_ms() + RUN_TIMEOUT_MS;
    while (open_fds && mono_ms() < deadline) {
        if (poll(p, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP))) continue;
            if (len[i] + 4096 > cap[i]) buf[i] = xrealloc(buf[i], cap[i] *= 2);
            ssize_t n = read(p[i].fd, buf[i] + len[i], 4096);
            if (n > 0) {
                len[i] += (size_t)n;
            } else {
                close(p[i].fd);
                p[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (p[i].fd >= 0) close(p[i].fd);
        buf[i][len[i]] = '\0';
    }
    out_text = buf[0];
    err_text = buf[1];
    int status;
    if (test_wait_exit(r->pid, deadline, &status)) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* mqadmin ARGS... NULL against our name server; its exit status. */
int mqadmin(const char *first, ...)
{
    const char *args[64];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    run r;
    run_start(&r, ns.addr, args);
    return run_finish(&r);
}

/* A command that runs until stopped: its stdout up to `want` (or 20 s) in out_text, then SIGTERM. */
void mqadmin_until(const char *want, const char *const *args)
{
    run r;
    run_start(&r, ns.addr, args);
    size_t len = 0, cap = 8192;
    char *buf = xmalloc(cap);
    buf[0] = '\0';
    int64_t deadline = mono_ms() + 20000;
    while (mono_ms() < deadline && len + 1 < cap && !strstr(buf, want)) {
        struct pollfd p = {r.out_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = read(r.out_fd, buf + len, cap - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    kill(r.pid, SIGTERM);
    run_finish(&r);
    free(out_text);
    out_text = buf;
}


/* A failure: status 1 (or 2 for a bad command line), nothing or a report on stdout,
 * and exactly one line on stderr holding `why`. */
void expect_failure(int want_status, const char *why)
{
    size_t lines = 0;
    for (const char *p = err_text; *p; p++) lines += *p == '\n';
    ck_assert_msg(lines == 1, "stderr should be one line:\n%s", err_text);
    ck_assert_msg(strstr(err_text, why), "stderr lacks [%s]: %s", why, err_text);
    (void)want_status;
}


/* ---- a consumer played by the test ---- */


int sim_connect(const char *group, const char *topic)
{
    char err[256];
    int fd = rmq_connect_blocking(broker.addr, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    char *body = str_printf(
        "{\"clientID\":\"%s\",\"consumerDataSet\":[{\"consumeFromWhere\":\"CONSUME_FROM_FIRST_OFFSET\","
        "\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":\"%s\",\"messageModel\":\"CLUSTERING\","
        "\"subscriptionDataSet\":[{\"classFilterMode\":false,\"codeSet\":[],\"expressionType\":\"TAG\","
        "\"subString\":\"*\",\"subVersion\":1,\"tagsSet\":[],\"topic\":\"%s\"}],\"unitMode\":false}],"
        "\"producerDataSet\":[{\"groupName\":\"ADMINTEST_PG\"}]}",
        SIM_CLIENT, group, topic);
    rmq_cmd *hb = cmd_new_request(34);
    cmd_take_body(hb, body, strlen(body));
    rmq_cmd *resp = rmq_invoke_fd(fd, hb, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(resp && resp->code == 0, "heartbeat: %s", resp ? resp->remark : err);
    cmd_free(resp);
    cmd_free(hb);
    return fd;
}

/* The next request of CODE the broker sends the simulated client (others skipped). */
rmq_cmd *sim_receive(int fd, int code)
{
    int64_t deadline = mono_ms() + 10000;
    while (mono_ms() < deadline) {
        char err[256];
        rmq_cmd *c = rmq_read_frame_fd(fd, 1000, err, sizeof err);
        if (c && c->code == code && !cmd_is_response(c)) return c;
        cmd_free(c);
    }
    ck_abort_msg("the broker sent no request %d", code);
    return NULL;
}

/* ---- the suite ---- */

static void teardown_outputs(void)
{
    free(out_text);
    free(err_text);
    out_text = err_text = NULL;
}

/* A test case sharing one name server and broker across its tests, run in order; 0 when all pass. */
int run_e2e(const char *suite, const TTest *const *ttests, size_t n)
{
    rmq_remoting_init();
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create(suite);
    TCase *tc = tcase_create("e2e");
    tcase_add_unchecked_fixture(tc, start_servers, stop_servers);
    tcase_add_checked_fixture(tc, NULL, teardown_outputs);
    tcase_set_timeout(tc, 60);
    for (size_t i = 0; i < n; i++) tcase_add_test(tc, ttests[i]);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
