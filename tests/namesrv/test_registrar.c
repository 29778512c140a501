/*
 * REGISTER_BROKER bodies decoded off the name server's loop (src/namesrv/registrar.c):
 * a name server in this process (its loop on a thread of its own), brokers played over
 * blocking sockets on 127.0.0.1. The worker is held before it decodes a large body
 * (namesrv_on_decode), so what the name server answers meanwhile is seen for certain,
 * not by timing: lookups and other brokers' registrations are served, a broker's
 * incremental registration behind its large table is applied at once and again after
 * the table (not lost to the table's older snapshot), and its unregistration waits.
 * Every wait has a deadline.
 */
#include <check.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../testproc.h"
#include "common/fjson.h"
#include "common/util.h"
#include "namesrv/namesrv.h"
#include "remoting/remoting.h"
#include "../check_run.h"

#define TIMEOUT_MS 10000
#define CLUSTER "DefaultCluster"
#define BROKER_A "127.0.0.1:10911"
#define BROKER_B "127.0.0.1:10921"
#define BIG_TOPICS 2000   /* ~190 KB of JSON: past the size decoded on the worker */

enum { REGISTER_BROKER = 103, UNREGISTER_BROKER = 104, GET_ROUTEINFO_BY_TOPIC = 105,
       GET_BROKER_CLUSTER_INFO = 106, QUERY_DATA_VERSION = 322 };

/* ---- the name server on a thread ---- */

static struct event_base *base;
static namesrv_config cfg;
static namesrv *ns;
static pthread_t loop_thread;
static char addr[32];
static char *dir;

/* The worker's gate: it waits at `entered` until the test opens it. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int entered;
static bool open_gate;

static void gate(void *arg)
{
    pthread_mutex_lock(&gate_lock);
    entered++;
    pthread_cond_broadcast(&gate_cond);
    /* Bounded: a failed test must not leave the worker (and the teardown) stuck. */
    int64_t deadline = mono_ms() + 3 * TIMEOUT_MS;
    while (!open_gate && mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&gate_cond, &gate_lock, &ts);
    }
    pthread_mutex_unlock(&gate_lock);
}

static void wait_entered(int n)
{
    int64_t deadline = mono_ms() + TIMEOUT_MS;
    pthread_mutex_lock(&gate_lock);
    while (entered < n && mono_ms() < deadline) {
        pthread_mutex_unlock(&gate_lock);
        usleep(1000);
        pthread_mutex_lock(&gate_lock);
    }
    int got = entered;
    pthread_mutex_unlock(&gate_lock);
    ck_assert_msg(got >= n, "the worker did not start decoding body #%d", n);
}

static void set_gate(bool open)
{
    pthread_mutex_lock(&gate_lock);
    open_gate = open;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static void *loop_main(void *arg)
{
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void setup(void)
{
    rmq_remoting_init();
    dir = test_tmpdir("test_registrar");
    namesrv_config_init(&cfg);
    int port = test_free_port();
    props p = {0};
    char *kv = str_printf("%s/kvConfig.json", dir), *portstr = str_printf("%d", port);
    props_set(&p, "listenAddress", "127.0.0.1");
    props_set(&p, "listenPort", portstr);
    props_set(&p, "kvConfigPath", kv);
    namesrv_config_apply(&cfg, &p);
    cfg.listen_address = "127.0.0.1";   /* not a NettyServerConfig key: set as the -c loader does */
    props_free(&p);
    free(kv);
    free(portstr);
    base = event_base_new();
    const char *err = NULL;
    ns = namesrv_new(base, &cfg, &err);
    ck_assert_msg(ns != NULL, "namesrv_new: %s", err ? err : "?");
    namesrv_on_decode(ns, gate, NULL);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    entered = 0;
    open_gate = false;
    ck_assert_int_eq(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
}

static void stop_loop(void *arg) { event_base_loopbreak(base); }

static void teardown(void)
{
    set_gate(true);
    rmq_async *a = rmq_async_new(base);
    rmq_async_post(a, stop_loop, NULL);
    pthread_join(loop_thread, NULL);
    rmq_async_free(a);
    namesrv_free(ns);
    namesrv_config_free(&cfg);
    event_base_free(base);
    test_rmdir(dir);
    free(dir);
}

/* ---- broker and client requests ---- */

static int connect_ns(void)
{
    char err[256];
    int fd = rmq_connect_blocking(addr, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(fd >= 0, "connect %s: %s", addr, err);
    return fd;
}

/* A RegisterBrokerBody (JSON): topics NAMES, each with PERM, and data version COUNTER. */
static char *topics_body(const char *const *names, int n, int perm, int counter, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "filterServerList");
    fjson_begin_array(&w);
    fjson_end_array(&w);
    fjson_key(&w, "topicConfigSerializeWrapper");
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "counter", counter);
    fjson_prop_int64(&w, "timestamp", 1700000000000LL);
    fjson_end_object(&w);
    fjson_key(&w, "topicConfigTable");
    fjson_begin_object(&w);
    for (int i = 0; i < n; i++) {
        fjson_key(&w, names[i]);
        fjson_begin_object(&w);
        fjson_prop_string(&w, "topicName", names[i]);
        fjson_prop_int64(&w, "readQueueNums", 8);
        fjson_prop_int64(&w, "writeQueueNums", 8);
        fjson_prop_int64(&w, "perm", perm);
        fjson_prop_int64(&w, "topicSysFlag", 0);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

/* The same with N topics PREFIX-0, PREFIX-1, ... */
static char *table_body(const char *prefix, int n, int perm, int counter, size_t *len)
{
    char **names = xcalloc((size_t)n, sizeof *names);
    for (int i = 0; i < n; i++) names[i] = str_printf("%s-%d", prefix, i);
    char *body = topics_body((const char *const *)names, n, perm, counter, len);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return body;
}

static rmq_cmd *broker_request(int code, const char *broker_addr, const char *broker_name, int opaque)
{
    rmq_cmd *req = cmd_new_request(code);
    req->opaque = opaque;
    cmd_ext_set(req, "brokerName", broker_name);
    cmd_ext_set(req, "brokerAddr", broker_addr);
    cmd_ext_set(req, "clusterName", CLUSTER);
    cmd_ext_set(req, "brokerId", "0");
    return req;
}

/* Writes a REGISTER_BROKER with BODY (taken) on FD; the answer is read apart. */
static void send_register(int fd, const char *broker_addr, const char *broker_name, char *body, size_t len,
                          int opaque)
{
    rmq_cmd *req = broker_request(REGISTER_BROKER, broker_addr, broker_name, opaque);
    cmd_ext_set(req, "haServerAddr", "127.0.0.1:10912");
    cmd_ext_set(req, "compressed", "false");
    cmd_ext_set_int(req, "bodyCrc32", rmq_crc32(body, len));
    cmd_take_body(req, body, len);
    ck_assert_int_eq(rmq_write_cmd_fd(fd, req), RMQ_OK);
    cmd_free(req);
}

/* The next frame on FD: the answer with OPAQUE and CODE. */
static rmq_cmd *expect_answer(int fd, int opaque, int code)
{
    char err[256];
    rmq_cmd *resp = rmq_read_frame_fd(fd, TIMEOUT_MS, err, sizeof err);
    ck_assert_msg(resp != NULL, "no answer for opaque %d: %s", opaque, err);
    ck_assert_msg(resp->opaque == opaque, "answer for opaque %d came first, %d expected", resp->opaque, opaque);
    ck_assert_msg(resp->code == code, "opaque %d: code %d (%s), %d expected", opaque, resp->code,
                  resp->remark ? resp->remark : "", code);
    return resp;
}

/* Nothing readable on FD for MS milliseconds. */
static bool quiet(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 0;
}

/* GET_ROUTEINFO_BY_TOPIC over a fresh connection: its code, and the first queue's perm. */
static int route_of(const char *topic, int *perm)
{
    rmq_cmd *req = cmd_new_request(GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr, req, TIMEOUT_MS, err, sizeof err);
    cmd_free(req);
    ck_assert_msg(resp != NULL, "route of %s: %s", topic, err);
    int code = resp->code;
    if (perm && code == 0) {
        cJSON *j = fjson_parse((const char *)resp->body, resp->body_len, NULL);
        const cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "queueDatas"), 0);
        const cJSON *pm = cJSON_GetObjectItem(q, "perm");
        ck_assert_msg(cJSON_IsNumber(pm), "route of %s without queue data", topic);
        *perm = pm->valueint;
        cJSON_Delete(j);
    }
    cmd_free(resp);
    return code;
}

/* Broker A's table of BIG_TOPICS topics big-N (perm 6, version 1) on FD with OPAQUE;
 * returns once the worker holds it, undecoded: it is body number NTH it decodes. */
static void send_big_table(int fd, int opaque, int nth)
{
    size_t len;
    char *big = table_body("big", BIG_TOPICS, 6, 1, &len);
    ck_assert_uint_ge(len, 64 * 1024);   /* past REGISTRAR_ASYNC_MIN_BODY */
    send_register(fd, BROKER_A, "broker-a", big, len, opaque);
    wait_entered(nth);
}

/* ---- tests ---- */

START_TEST(test_lookups_and_small_registrations_served_while_large_decodes)
{
    int fa = connect_ns(), fb = connect_ns();
    size_t len;
    send_big_table(fa, 1, 1);   /* the worker holds A's table, undecoded */

    /* Another broker registers and is routable; lookups are answered. */
    char *small = table_body("small", 3, 6, 1, &len);
    send_register(fb, BROKER_B, "broker-b", small, len, 7);
    cmd_free(expect_answer(fb, 7, 0));
    int perm = 0;
    ck_assert_int_eq(route_of("small-2", &perm), 0);
    ck_assert_int_eq(perm, 6);
    ck_assert_int_eq(route_of("big-0", NULL), 17);   /* TOPIC_NOT_EXIST: the table is not merged */

    set_gate(true);
    cmd_free(expect_answer(fa, 1, 0));
    ck_assert_int_eq(route_of("big-0", NULL), 0);
    ck_assert_int_eq(route_of("big-1999", NULL), 0);
    close(fa);
    close(fb);
}
END_TEST

/* Broker A's table (version 1) then an increment (version 2) updating big-5 to read-only
 * and creating inc-0: the increment is routable before the table is merged, and after
 * it the table's older big-5 does not win. */
START_TEST(test_increment_behind_table_applied_at_once_and_kept)
{
    int fa = connect_ns();
    size_t len;
    send_big_table(fa, 1, 1);

    /* The increment: big-5 with perm 4, and a new topic, version 2. */
    const char *names[] = {"big-5", "inc-0"};
    char *inc = topics_body(names, 2, 4, 2, &len);
    send_register(fa, BROKER_A, "broker-a", inc, len, 2);
    cmd_free(expect_answer(fa, 2, 0));   /* answered before the table's answer */
    int perm = 0;
    ck_assert_int_eq(route_of("inc-0", &perm), 0);
    ck_assert_int_eq(perm, 4);
    ck_assert_int_eq(route_of("big-0", NULL), 17);

    set_gate(true);
    cmd_free(expect_answer(fa, 1, 0));
    ck_assert_int_eq(route_of("big-0", &perm), 0);
    ck_assert_int_eq(perm, 6);
    ck_assert_int_eq(route_of("big-5", &perm), 0);
    ck_assert_int_eq(perm, 4);   /* the increment's, not the table's older 6 */
    ck_assert_int_eq(route_of("inc-0", NULL), 0);

    /* The name server holds the increment's version, the broker's newest. */
    rmq_cmd *q = broker_request(QUERY_DATA_VERSION, BROKER_A, "broker-a", 3);
    const char *dv = "{\"counter\":2,\"timestamp\":1700000000000}";
    cmd_set_body(q, dv, strlen(dv));
    ck_assert_int_eq(rmq_write_cmd_fd(fa, q), RMQ_OK);
    cmd_free(q);
    rmq_cmd *resp = expect_answer(fa, 3, 0);
    ck_assert_str_eq(cmd_ext_get(resp, "changed"), "false");
    cmd_free(resp);
    close(fa);
}
END_TEST

START_TEST(test_unregister_waits_for_the_table_before_it)
{
    int fa = connect_ns();
    send_big_table(fa, 1, 1);
    rmq_cmd *u = broker_request(UNREGISTER_BROKER, BROKER_A, "broker-a", 2);
    ck_assert_int_eq(rmq_write_cmd_fd(fa, u), RMQ_OK);
    cmd_free(u);
    ck_assert(quiet(fa, 200));   /* neither is answered while the table is undecoded */

    set_gate(true);
    cmd_free(expect_answer(fa, 1, 0));
    cmd_free(expect_answer(fa, 2, 0));
    /* Applied in that order: the broker is gone, and its topics with it. */
    ck_assert_int_eq(route_of("big-0", NULL), 17);
    close(fa);
}
END_TEST

START_TEST(test_large_bad_body_and_closed_channel)
{
    int fa = connect_ns();
    size_t len = 100 * 1024;
    char *bad = xmalloc(len);
    memset(bad, '{', len);
    send_register(fa, BROKER_A, "broker-a", bad, len, 1);
    wait_entered(1);
    set_gate(true);
    rmq_cmd *resp = expect_answer(fa, 1, 1);   /* SYSTEM_ERROR, as an inline decode gives */
    ck_assert_ptr_nonnull(strstr(resp->remark, "Failed to decode RegisterBrokerBody"));
    cmd_free(resp);

    /* A table whose broker's channel closes before it is decoded registers nothing. */
    set_gate(false);
    send_big_table(fa, 2, 2);
    close(fa);
    usleep(200 * 1000);   /* the loop handles the close: the broker is forgotten */
    set_gate(true);
    /* Once the worker takes the next body (another broker's), it has handed this one to
     * the loop, which runs that before it reads the lookup sent after. */
    int fb = connect_ns();
    char *other = table_body("other", BIG_TOPICS, 6, 1, &len);
    send_register(fb, BROKER_B, "broker-b", other, len, 3);
    wait_entered(3);
    /* Merging it would register the broker with a dead channel (and route its topics
     * until the expiry scan): it is dropped. */
    ck_assert_int_eq(route_of("big-0", NULL), 17);
    cmd_free(expect_answer(fb, 3, 0));
    ck_assert_int_eq(route_of("other-0", NULL), 0);
    close(fb);
}
END_TEST

Suite *registrar_suite(void)
{
    Suite *s = suite_create("namesrv_registrar");
    TCase *tc = tcase_create("registrar");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lookups_and_small_registrations_served_while_large_decodes);
    tcase_add_test(tc, test_increment_behind_table_applied_at_once_and_kept);
    tcase_add_test(tc, test_unregister_waits_for_the_table_before_it);
    tcase_add_test(tc, test_large_bad_body_and_closed_channel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(registrar_suite()); }
