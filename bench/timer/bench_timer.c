/*
 * bench_timer: the 5.x arbitrary-delay timer with many messages pending, then
 * falling due at a steady rate while other sends go on.
 *
 * Starts $RMQ_BUILDDIR/mqbroker in a /tmp directory, sends N messages
 * (SEND_MESSAGE_V2, 4 connections, 64 in flight each) whose TIMER_DELIVER_MS
 * spreads evenly over a window starting DUE_AFTER seconds after the start,
 * samples the broker's RSS and CPU while everything is pending and nothing is
 * due. Then, from a second before the window to its end, it keeps up
 * SEND_RATE normal 1 KiB sends per second (2 connections, pipelined, another
 * topic) and TIMER_RATE timer sends per second due an hour later (they keep
 * the broker filing new timers), while one consumer connection per queue of
 * the timers' topic (4) long-polls it, 32 messages per pull. Reports, as percentiles:
 *   lateness = time the pull answer carrying the message arrived - TIMER_DELIVER_MS
 *   store lateness = store time of the delivered message - TIMER_DELIVER_MS
 * and the rate and latency of the concurrent sends, and the broker's CPU in the window.
 *
 *   bench_timer [N=600000] [DUE_AFTER_S=60] [WINDOW_S=30] [SEND_RATE=10000] [TIMER_RATE=0]
 *
 * The defaults: 20,000 timers per second fall due for 30 s. BENCH_KEEP=1 keeps
 * the directory with the broker's log and store.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tests/testproc.h"
#include "common/message.h"

#define CONNS 4
#define IN_FLIGHT 64
#define LOAD_CONNS 2
#define LOAD_BODY 1024
#define TIMER_QUEUES 4           /* the timers' topic; one consumer connection per queue, as a push consumer pulls */

static test_proc broker;
static int64_t n_msgs, first_due, window_ms;
static int64_t send_rate, timer_rate;  /* concurrent load, messages per second */

typedef struct sender {
    int id;
    int64_t from, to;  /* message numbers */
} sender;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A SEND_MESSAGE_V2 of BODY to TOPIC queue QID; PROPS as the properties string. */
static rmq_cmd *send_cmd(const char *topic, int qid, const char *props, const void *body, size_t len, int32_t opaque)
{
    rmq_cmd *req = cmd_new_request(310);
    cmd_ext_set(req, "a", "PG_bench_timer");
    cmd_ext_set(req, "b", topic);
    cmd_ext_set(req, "c", "TBW102");
    cmd_ext_set(req, "d", "4");
    cmd_ext_set_int(req, "e", qid);
    cmd_ext_set(req, "f", "0");
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set(req, "h", "0");
    cmd_ext_set(req, "i", props);
    cmd_ext_set(req, "j", "0");
    cmd_ext_set(req, "k", "false");
    cmd_set_body(req, body, len);
    req->opaque = opaque;
    return req;
}

static rmq_cmd *send_req(int64_t i)
{
    char props[96], body[32];
    snprintf(props, sizeof props, "TIMER_DELIVER_MS\001%lld\002TAGS\001B",
             (long long)(first_due + i * window_ms / n_msgs));
    int len = snprintf(body, sizeof body, "timer-%lld", (long long)i);
    return send_cmd("BenchTimer", (int)(i % TIMER_QUEUES), props, body, (size_t)len, (int32_t)i);
}

static int connect_broker(void)
{
    char err[256];
    int fd = rmq_connect_blocking(broker.addr, 5000, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "connect: %s\n", err);
        exit(1);
    }
    return fd;
}

static void *send_all(void *arg)
{
    sender *s = arg;
    char err[256];
    int fd = connect_broker();
    int64_t next = s->from, acked = s->from;
    while (acked < s->to) {
        while (next < s->to && next - acked < IN_FLIGHT) {
            rmq_cmd *req = send_req(next++);
            if (rmq_write_cmd_fd(fd, req)) exit(1);
            cmd_free(req);
        }
        rmq_cmd *resp = rmq_read_frame_fd(fd, 10000, err, sizeof err);
        if (!resp || resp->code != 0) {
            fprintf(stderr, "send: %s\n", resp ? (resp->remark ? resp->remark : "refused") : err);
            exit(1);
        }
        cmd_free(resp);
        acked++;
    }
    close(fd);
    return NULL;
}

/* ---- the concurrent load: paced sends on one connection ---- */

typedef struct load {
    int id;
    int64_t until_ms;            /* wall clock */
    int64_t sent, errors;
    int64_t *lat_us;             /* per answered request */
    size_t n_lat, cap_lat;
} load;

static void *load_run(void *arg)
{
    load *l = arg;
    char err[256], props[96], body[LOAD_BODY];
    memset(body, 'x', sizeof body);
    int fd = connect_broker();
    int64_t sent_at[1024];
    const int64_t rate = (send_rate + timer_rate) / LOAD_CONNS;
    const int64_t start = now_us();
    int64_t next = 0, answered = 0;
    if (rate <= 0) return NULL;
    while (now_ms() < l->until_ms || answered < next) {
        int64_t due = (now_us() - start) * rate / 1000000;
        while (now_ms() < l->until_ms && next < due && next - answered < IN_FLIGHT) {
            /* Timer sends spread evenly among the normal ones. */
            bool timer = timer_rate > 0 && (next * timer_rate) / (send_rate + timer_rate) !=
                                               ((next + 1) * timer_rate) / (send_rate + timer_rate);
            rmq_cmd *req;
            if (timer) {
                snprintf(props, sizeof props, "TIMER_DELIVER_MS\001%lld\002TAGS\001F", (long long)(now_ms() + 3600000));
                req = send_cmd("BenchTimerFar", 0, props, body, 64, (int32_t)next);
            } else {
                req = send_cmd("BenchNormal", (int)(next % 4), "TAGS\001N", body, sizeof body, (int32_t)next);
            }
            sent_at[next % 1024] = now_us();
            if (rmq_write_cmd_fd(fd, req)) exit(1);
            cmd_free(req);
            next++;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (answered == next) {
            usleep(500);
            continue;
        }
        if (poll(&p, 1, 1) <= 0) continue;
        rmq_cmd *resp = rmq_read_frame_fd(fd, 10000, err, sizeof err);
        if (!resp) {
            fprintf(stderr, "load send: %s\n", err);
            exit(1);
        }
        if (resp->code != 0) l->errors++;
        if (l->n_lat == l->cap_lat) {
            l->cap_lat = l->cap_lat ? 2 * l->cap_lat : 65536;
            l->lat_us = realloc(l->lat_us, l->cap_lat * sizeof *l->lat_us);
        }
        l->lat_us[l->n_lat++] = now_us() - sent_at[(uint32_t)resp->opaque % 1024];
        cmd_free(resp);
        answered++;
    }
    l->sent = next;
    close(fd);
    return NULL;
}

/* RSS in KiB and CPU ticks (utime + stime) of a process. */
static void proc_usage(pid_t pid, long *rss_kb, long *ticks)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    *rss_kb = 0;
    while (f && fgets(buf, sizeof buf, f))
        if (sscanf(buf, "VmRSS: %ld", rss_kb) == 1) break;
    if (f) fclose(f);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    *ticks = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *p = strrchr(buf, ')');
        long ut = 0, st = 0;
        /* fields after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) == 2) *ticks = ut + st;
    }
    if (f) fclose(f);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts V and prints " p50=… p90=… p99=… p99.9=… max=…" in V's unit. */
static void print_pcts(int64_t *v, int64_t n)
{
    static const double pct[] = {50, 90, 99, 99.9, 100};
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    for (int i = 0; i < 5 && n; i++) {
        int64_t k = (int64_t)(pct[i] / 100.0 * (double)(n - 1));
        printf(" p%g=%lld", pct[i], (long long)v[k]);
    }
    if (n) printf(" (min %lld)", (long long)v[0]);
}

static rmq_cmd *pull(int fd, int qid, int64_t offset)
{
    rmq_cmd *req = cmd_new_request(11);
    cmd_ext_set(req, "consumerGroup", "CG_bench_timer");
    cmd_ext_set(req, "topic", "BenchTimer");
    cmd_ext_set_int(req, "queueId", qid);
    cmd_ext_set_int(req, "queueOffset", offset);
    cmd_ext_set(req, "maxMsgNums", "32");
    cmd_ext_set(req, "sysFlag", "6");
    cmd_ext_set(req, "commitOffset", "0");
    cmd_ext_set(req, "suspendTimeoutMillis", "5000");
    cmd_ext_set(req, "subscription", "*");
    cmd_ext_set(req, "subVersion", "0");
    cmd_ext_set(req, "expressionType", "TAG");
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(fd, req, 15000, err, sizeof err);
    cmd_free(req);
    if (!resp) {
        fprintf(stderr, "pull: %s\n", err);
        exit(1);
    }
    return resp;
}

static void create_topic(const char *topic, const char *queues)
{
    rmq_cmd *ct = cmd_new_request(17);
    const char *kv[] = {"topic", topic, "defaultTopic", "TBW102", "readQueueNums", queues, "writeQueueNums", queues,
                        "perm", "6", "topicFilterType", "SINGLE_TAG", "topicSysFlag", "0", "order", "false"};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i += 2) cmd_ext_set(ct, kv[i], kv[i + 1]);
    char err[256];
    cmd_free(rmq_invoke_sync(broker.addr, ct, 5000, err, sizeof err));
    cmd_free(ct);
}

static int64_t prop_i64(const msg_record *r, const char *key)
{
    const char *v;
    size_t vl;
    char buf[24] = {0};
    if (msg_props_find(r->props, r->props_len, key, &v, &vl) && vl < sizeof buf) memcpy(buf, v, vl);
    return atoll(buf);
}

/* One consumer connection: pulls its queue until it has its share of the timers or the deadline. */
typedef struct consumer {
    int qid;
    int64_t want, got, deadline;
    int64_t *late, *store_late;  /* want entries each */
} consumer;

static void *consume(void *arg)
{
    consumer *c = arg;
    int fd = connect_broker();
    int64_t offset = 0;
    while (c->got < c->want && now_ms() < c->deadline) {
        rmq_cmd *p = pull(fd, c->qid, offset);
        int64_t arrived = now_ms();
        if (p->code == 0) {
            size_t pos = 0;
            while (pos < p->body_len && c->got < c->want) {
                msg_record r;
                const char *why;
                if (msg_record_decode(p->body + pos, p->body_len - pos, &r, &why)) break;
                int64_t asked = prop_i64(&r, "TIMER_DELIVER_MS");
                c->late[c->got] = arrived - asked;
                c->store_late[c->got++] = r.store_timestamp - asked;
                pos += r.total_size;
            }
            int64_t next;
            if (cmd_ext_int64(p, "nextBeginOffset", &next) == EXT_OK) offset = next;
        }
        cmd_free(p);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    n_msgs = argc > 1 ? atoll(argv[1]) : 600000;
    int64_t due_after = (argc > 2 ? atoll(argv[2]) : 60) * 1000;
    window_ms = (argc > 3 ? atoll(argv[3]) : 30) * 1000;
    send_rate = argc > 4 ? atoll(argv[4]) : 10000;
    timer_rate = argc > 5 ? atoll(argv[5]) : 0;
    rmq_remoting_init();
    char *dir = test_tmpdir("bench_timer");
    int port = test_free_port();
    char *root = str_printf("--storePathRootDir=%s/store", dir), *lp = str_printf("--listenPort=%d", port);
    char *log = str_printf("%s/broker.log", dir);
    char *bargv[] = {"mqbroker", root, lp, "--listenAddress=127.0.0.1", "--brokerIP1=127.0.0.1",
                     "--mappedFileSizeCommitLog=268435456", NULL};
    if (test_proc_start(&broker, "mqbroker", bargv, port, log)) {
        fprintf(stderr, "mqbroker did not start (RMQ_BUILDDIR?)\n");
        return 1;
    }
    create_topic("BenchTimer", "4");
    create_topic("BenchTimerFar", "1");
    create_topic("BenchNormal", "4");

    int64_t start = now_ms();
    first_due = start + due_after;
    pthread_t th[CONNS];
    sender s[CONNS];
    for (int i = 0; i < CONNS; i++) {
        s[i] = (sender){i, n_msgs * i / CONNS, n_msgs * (i + 1) / CONNS};
        pthread_create(&th[i], NULL, send_all, &s[i]);
    }
    for (int i = 0; i < CONNS; i++) pthread_join(th[i], NULL);
    int64_t loaded = now_ms();
    printf("sent %lld timer messages in %.1f s (%.0f/s); %.0f due per second over %lld s\n", (long long)n_msgs,
           (loaded - start) / 1000.0, n_msgs * 1000.0 / (double)(loaded - start), n_msgs * 1000.0 / (double)window_ms,
           (long long)(window_ms / 1000));
    if (loaded + 13000 > first_due) fprintf(stderr, "warning: loading ran into the idle window; raise DUE_AFTER\n");

    /* Idle: everything pending, nothing due. */
    sleep(1);
    long rss0, t0, rss1, t1;
    proc_usage(broker.pid, &rss0, &t0);
    int64_t idle_from = mono_ms();
    sleep(10);
    proc_usage(broker.pid, &rss1, &t1);
    double idle_s = (mono_ms() - idle_from) / 1000.0;
    printf("idle with %lld pending: RSS %ld MiB, CPU %.2f%% of one core over %.0f s\n", (long long)n_msgs,
           rss1 / 1024, 100.0 * (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK) / idle_s, idle_s);

    /* Delivery: the load starts a second before the first timer is due and ends with the window. */
    int64_t wait = first_due - 1000 - now_ms();
    if (wait > 0) usleep((useconds_t)wait * 1000);
    long ticks_w0, ticks_w1;
    proc_usage(broker.pid, &rss1, &ticks_w0);
    int64_t w0 = mono_ms();
    pthread_t lth[LOAD_CONNS];
    load loads[LOAD_CONNS];
    for (int i = 0; i < LOAD_CONNS; i++) {
        loads[i] = (load){.id = i, .until_ms = first_due + window_ms};
        pthread_create(&lth[i], NULL, load_run, &loads[i]);
    }
    pthread_t cth[TIMER_QUEUES];
    consumer cons[TIMER_QUEUES];
    for (int q = 0; q < TIMER_QUEUES; q++) {
        int64_t want = n_msgs / TIMER_QUEUES + (q < n_msgs % TIMER_QUEUES);
        cons[q] = (consumer){q, want, 0, first_due + window_ms + 120000, malloc((size_t)want * sizeof(int64_t)),
                             malloc((size_t)want * sizeof(int64_t))};
        pthread_create(&cth[q], NULL, consume, &cons[q]);
    }
    int64_t *late = malloc((size_t)n_msgs * sizeof *late), *store_late = malloc((size_t)n_msgs * sizeof *late);
    int64_t got = 0;
    for (int q = 0; q < TIMER_QUEUES; q++) {
        pthread_join(cth[q], NULL);
        memcpy(late + got, cons[q].late, (size_t)cons[q].got * sizeof *late);
        memcpy(store_late + got, cons[q].store_late, (size_t)cons[q].got * sizeof *late);
        got += cons[q].got;
        free(cons[q].late), free(cons[q].store_late);
    }
    int64_t sent = 0, errors = 0, n_lat = 0;
    for (int i = 0; i < LOAD_CONNS; i++) {
        pthread_join(lth[i], NULL);
        sent += loads[i].sent, errors += loads[i].errors, n_lat += (int64_t)loads[i].n_lat;
    }
    proc_usage(broker.pid, &rss1, &ticks_w1);
    double w_s = (mono_ms() - w0) / 1000.0;
    int64_t *lat = malloc((size_t)(n_lat + 1) * sizeof *lat), k = 0;
    for (int i = 0; i < LOAD_CONNS; i++) {
        memcpy(lat + k, loads[i].lat_us, loads[i].n_lat * sizeof *lat);
        k += (int64_t)loads[i].n_lat;
        free(loads[i].lat_us);
    }
    printf("delivered %lld of %lld; lateness (pull answer - TIMER_DELIVER_MS) ms:", (long long)got,
           (long long)n_msgs);
    print_pcts(late, got);
    printf("\nstore lateness (store time - TIMER_DELIVER_MS) ms:");
    print_pcts(store_late, got);
    printf("\nconcurrent sends: %lld (%.0f/s asked: %lld normal + %lld timer), %lld errors; latency us:",
           (long long)sent, (double)sent * 1000.0 / (double)(window_ms + 1000), (long long)send_rate,
           (long long)timer_rate, (long long)errors);
    print_pcts(lat, n_lat);
    double cpu_s = (double)(ticks_w1 - ticks_w0) / (double)sysconf(_SC_CLK_TCK);
    printf("\nbroker CPU during delivery: %.1f s over %.1f s (%.0f us per delivered + sent message); RSS %ld MiB\n",
           cpu_s, w_s, got + sent ? cpu_s * 1e6 / (double)(got + sent) : 0.0, rss1 / 1024);
    double la[3] = {0};
    if (getloadavg(la, 3) < 0) la[0] = -1;
    printf("RESULT delivered=%lld late_p50_ms=%lld late_p99_ms=%lld late_p999_ms=%lld late_max_ms=%lld sent=%lld "
           "send_errors=%lld load1=%.2f\n",
           (long long)got, got ? (long long)late[got / 2] : 0LL, got ? (long long)late[(int64_t)(0.99 * (double)(got - 1))] : 0LL,
           got ? (long long)late[(int64_t)(0.999 * (double)(got - 1))] : 0LL, got ? (long long)late[got - 1] : 0LL,
           (long long)sent, (long long)errors, la[0]);
    test_proc_stop(&broker, SIGTERM);
    if (getenv("BENCH_KEEP")) printf("kept %s (broker.log, store)\n", dir);  /* to read the broker's log */
    else test_rmdir(dir);
    free(late), free(store_late), free(lat), free(dir), free(root), free(lp), free(log);
    return got == n_msgs ? 0 : 1;
}
