/*
 * Server tests over real sockets on 127.0.0.1: dispatch, oneway, unknown codes,
 * deferred answers, malformed input closing only the offending connection,
 * frame limits, idle close, back-pressure, and the async client.
 */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"
#include "../check_run.h"

enum { CODE_ECHO = 1000, CODE_DEFER = 1001, CODE_BIG = 1002, CODE_COUNT = 1003 };

typedef struct fixture {
    struct event_base *base;
    rmq_server *srv;
    pthread_t thread;
    char addr[32];
    atomic_int big_served;
    atomic_int closes;
    struct event *stop;
} fixture;

static fixture fx;

static int echo_proc(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    *resp = cmd_new_response(req, 0, NULL);
    const char *v = cmd_ext_get(req, "v");
    if (v) cmd_ext_set(*resp, "v", v);
    if (req->body_len) cmd_set_body(*resp, req->body, req->body_len);
    return RMQ_OK;
}

typedef struct deferred {
    rmq_conn *conn;
    rmq_cmd *req;
    struct event *ev;
} deferred;

static void deferred_fire(evutil_socket_t fd, short what, void *arg)
{
    deferred *d = arg;
    rmq_cmd *resp = cmd_new_response(d->req, 0, "later");
    rmq_conn_reply(d->conn, resp);
    rmq_conn_release(d->conn);
    cmd_free(d->req);
    event_free(d->ev);
    free(d);
}

static int defer_proc(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    deferred *d = calloc(1, sizeof *d);
    d->conn = c;
    d->req = req;
    rmq_conn_hold(c);
    d->ev = evtimer_new(fx.base, deferred_fire, d);
    struct timeval tv = {0, 50000};
    evtimer_add(d->ev, &tv);
    return RMQ_AGAIN;
}

static int big_proc(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    fx.big_served++;
    *resp = cmd_new_response(req, 0, NULL);
    size_t n = 1 << 20;
    cmd_take_body(*resp, calloc(1, n), n);
    return RMQ_OK;
}

static void on_close(rmq_conn *c, void *arg) { fx.closes++; }

static void stop_cb(evutil_socket_t fd, short what, void *arg) { event_base_loopbreak(fx.base); }

static void *loop_main(void *arg)
{
    event_base_loop(fx.base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void setup(void)
{
    rmq_remoting_init();
    memset(&fx, 0, sizeof fx);
    fx.base = event_base_new();
    rmq_server_config cfg;
    rmq_server_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.idle_seconds = 1;
    cfg.write_high_water = 64 * 1024;
    cfg.max_frame = 1 << 20;
    const char *err;
    fx.srv = rmq_server_new(fx.base, &cfg, &err);
    ck_assert_ptr_nonnull(fx.srv);
    rmq_server_register(fx.srv, CODE_ECHO, echo_proc, NULL);
    rmq_server_register(fx.srv, CODE_DEFER, defer_proc, NULL);
    rmq_server_register(fx.srv, CODE_BIG, big_proc, NULL);
    rmq_server_on_close(fx.srv, on_close, NULL);
    snprintf(fx.addr, sizeof fx.addr, "127.0.0.1:%d", rmq_server_port(fx.srv));
    fx.stop = event_new(fx.base, -1, 0, stop_cb, NULL);
    pthread_create(&fx.thread, NULL, loop_main, NULL);
}

static void teardown(void)
{
    event_active(fx.stop, EV_READ, 0);
    pthread_join(fx.thread, NULL);
    event_free(fx.stop);
    rmq_server_free(fx.srv);
    event_base_free(fx.base);
}

static int connect_fx(void)
{
    char err[256];
    int fd = rmq_connect_blocking(fx.addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    return fd;
}

/* True if the server closed fd within timeout_ms (reads until EOF). */
static bool closed_by_server(int fd, int timeout_ms)
{
    char err[128];
    rmq_cmd *c = rmq_read_frame_fd(fd, timeout_ms, err, sizeof err);
    if (c) {
        cmd_free(c);
        return false;
    }
    char b;
    return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

static void assert_echo_works(int fd, int ser)
{
    rmq_cmd *req = cmd_new_request(CODE_ECHO);
    req->serialize = ser;
    cmd_ext_set(req, "v", "hello");
    cmd_set_body(req, "body", 4);
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(fd, req, 2000, err, sizeof err);
    ck_assert_msg(resp != NULL, "%s", err);
    ck_assert(cmd_is_response(resp));
    ck_assert_int_eq(resp->code, 0);
    ck_assert_int_eq(resp->opaque, req->opaque);
    ck_assert_int_eq(resp->serialize, ser); /* answered in the request's serialize type */
    ck_assert_str_eq(cmd_ext_get(resp, "v"), "hello");
    ck_assert_mem_eq(resp->body, "body", 4);
    cmd_free(resp);
    cmd_free(req);
}

START_TEST(test_request_response_both_serializations)
{
    int fd = connect_fx();
    assert_echo_works(fd, RMQ_SER_JSON);
    assert_echo_works(fd, RMQ_SER_ROCKETMQ);
    close(fd);
}
END_TEST

START_TEST(test_unknown_code)
{
    int fd = connect_fx();
    rmq_cmd *req = cmd_new_request(9999);
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(fd, req, 2000, err, sizeof err);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->code, 3);
    ck_assert_str_eq(resp->remark, " request type 9999 not supported");
    cmd_free(resp);
    cmd_free(req);
    close(fd);
}
END_TEST

START_TEST(test_oneway_gets_no_answer)
{
    int fd = connect_fx();
    rmq_cmd *ow = cmd_new_request(CODE_ECHO);
    ow->flag = RMQ_FLAG_ONEWAY;
    ow->opaque = 4242;
    ck_assert_int_eq(rmq_write_cmd_fd(fd, ow), 0);
    cmd_free(ow);
    rmq_cmd *unknown_ow = cmd_new_request(9999);
    unknown_ow->flag = RMQ_FLAG_ONEWAY;
    ck_assert_int_eq(rmq_write_cmd_fd(fd, unknown_ow), 0);
    cmd_free(unknown_ow);
    /* The next frame to arrive must answer the normal request, not the oneways. */
    rmq_cmd *req = cmd_new_request(CODE_ECHO);
    req->opaque = 7;
    ck_assert_int_eq(rmq_write_cmd_fd(fd, req), 0);
    char err[256];
    rmq_cmd *resp = rmq_read_frame_fd(fd, 2000, err, sizeof err);
    ck_assert_ptr_nonnull(resp);
    ck_assert_int_eq(resp->opaque, 7);
    cmd_free(resp);
    cmd_free(req);
    close(fd);
}
END_TEST

START_TEST(test_deferred_reply)
{
    int fd = connect_fx();
    rmq_cmd *req = cmd_new_request(CODE_DEFER);
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(fd, req, 2000, err, sizeof err);
    ck_assert_ptr_nonnull(resp);
    ck_assert_str_eq(resp->remark, "later");
    cmd_free(resp);
    /* A deferred answer to a closed connection is dropped quietly. */
    rmq_write_cmd_fd(fd, req);
    close(fd);
    usleep(150000);
    cmd_free(req);
}
END_TEST

static void send_raw(int fd, const void *p, size_t n)
{
    ck_assert_int_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

START_TEST(test_malformed_input_closes_only_that_connection)
{
    int good = connect_fx();
    struct { const char *what; uint8_t bytes[64]; size_t n; } cases[] = {
        {"bad json", {0, 0, 0, 10, 0, 0, 0, 6, '{', 'c', 'o', 'd', 'e', ':'}, 14},
        {"header length past frame", {0, 0, 0, 8, 0, 0, 0, 50, '{', '}', '{', '}'}, 12},
        {"negative length", {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 8},
        {"length below 4", {0, 0, 0, 2, 0, 0}, 6},
        {"oversized frame", {0x01, 0x10, 0, 0, 0, 0, 0, 2, '{', '}'}, 10},
        {"serialize type 2", {0, 0, 0, 6, 2, 0, 0, 2, '{', '}'}, 10},
        {"code not a number", {0, 0, 0, 18, 0, 0, 0, 14, '{', '"', 'c', 'o', 'd', 'e', '"', ':', '"', 'x', '"', '}', ' ', ' '}, 22},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = connect_fx();
        send_raw(fd, cases[i].bytes, cases[i].n);
        ck_assert_msg(closed_by_server(fd, 3000), "not closed after %s", cases[i].what);
        close(fd);
        assert_echo_works(good, RMQ_SER_JSON);
    }
    /* A truncated frame followed by the client going away leaves the server intact. */
    int fd = connect_fx();
    send_raw(fd, "\0\0\0\x40\0\0\0\x02{}", 10);
    close(fd);
    assert_echo_works(good, RMQ_SER_ROCKETMQ);
    close(good);
}
END_TEST

START_TEST(test_idle_connection_closed)
{
    int fd = connect_fx();
    assert_echo_works(fd, RMQ_SER_JSON);
    int before = fx.closes;
    ck_assert(closed_by_server(fd, 5000)); /* idle_seconds = 1 */
    ck_assert_int_gt(fx.closes, before);
    close(fd);
}
END_TEST

START_TEST(test_backpressure_pauses_reading)
{
    int fd = connect_fx();
    /* 100 requests for 1 MiB answers each, none read back yet. */
    for (int i = 0; i < 100; i++) {
        rmq_cmd *req = cmd_new_request(CODE_BIG);
        req->opaque = i;
        ck_assert_int_eq(rmq_write_cmd_fd(fd, req), 0);
        cmd_free(req);
    }
    usleep(300000);
    int served_while_blocked = fx.big_served;
    ck_assert_int_lt(served_while_blocked, 20);
    /* Draining the answers lets the server read and serve the rest. */
    char err[256];
    for (int i = 0; i < 100; i++) {
        rmq_cmd *resp = rmq_read_frame_fd(fd, 5000, err, sizeof err);
        ck_assert_msg(resp != NULL, "answer %d: %s", i, err);
        ck_assert_int_eq(resp->opaque, i);
        ck_assert_uint_eq(resp->body_len, 1 << 20);
        cmd_free(resp);
    }
    ck_assert_int_eq(fx.big_served, 100);
    close(fd);
}
END_TEST

/* ---- async client against the server, on one loop ---- */

typedef struct client_case {
    struct event_base *base;
    int answered;
    rmq_cmd *last;
    char err[128];
} client_case;

static void on_resp(rmq_cmd *resp, const char *err, void *arg)
{
    client_case *cc = arg;
    cc->answered++;
    cmd_free(cc->last);
    cc->last = resp;
    snprintf(cc->err, sizeof cc->err, "%s", err ? err : "");
    event_base_loopbreak(cc->base);
}

static int timeout_proc(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    *resp = NULL; /* never answers */
    return RMQ_OK;
}

START_TEST(test_async_client)
{
    rmq_remoting_init();
    client_case cc = {0};
    cc.base = event_base_new();
    rmq_server_config cfg;
    rmq_server_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    const char *e;
    rmq_server *srv = rmq_server_new(cc.base, &cfg, &e);
    rmq_server_register(srv, CODE_ECHO, echo_proc, NULL);
    rmq_server_register(srv, CODE_COUNT, timeout_proc, NULL);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", rmq_server_port(srv));
    rmq_client *cl = rmq_client_new(cc.base);
    for (int i = 0; i < 3; i++) { /* connection reused; opaques matched */
        rmq_cmd *req = cmd_new_request(CODE_ECHO);
        cmd_ext_set_int(req, "v", i);
        rmq_client_request(cl, addr, req, 2000, on_resp, &cc);
        event_base_dispatch(cc.base);
        ck_assert_ptr_nonnull(cc.last);
        ck_assert_str_eq(cmd_ext_get(cc.last, "v"), i == 0 ? "0" : i == 1 ? "1" : "2");
    }
    rmq_client_request(cl, addr, cmd_new_request(CODE_COUNT), 200, on_resp, &cc);
    event_base_dispatch(cc.base);
    ck_assert_ptr_null(cc.last);
    ck_assert_str_eq(cc.err, "request timed out");
    rmq_client_request(cl, "127.0.0.1:1", cmd_new_request(CODE_ECHO), 2000, on_resp, &cc);
    event_base_dispatch(cc.base);
    ck_assert_ptr_null(cc.last);
    ck_assert_str_eq(cc.err, "connection closed");
    ck_assert_int_eq(cc.answered, 5);
    rmq_client_free(cl);
    rmq_server_free(srv);
    event_base_free(cc.base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_request_response_both_serializations);
    tcase_add_test(tc, test_unknown_code);
    tcase_add_test(tc, test_oneway_gets_no_answer);
    tcase_add_test(tc, test_deferred_reply);
    tcase_add_test(tc, test_malformed_input_closes_only_that_connection);
    tcase_add_test(tc, test_idle_connection_closed);
    tcase_add_test(tc, test_backpressure_pauses_reading);
    suite_add_tcase(s, tc);
    TCase *tcc = tcase_create("client");
    tcase_add_test(tcc, test_async_client);
    suite_add_tcase(s, tcc);
    return test_run_suite(s);
}
