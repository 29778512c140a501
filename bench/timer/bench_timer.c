/*
 * bench_timer: the 5.x arbitrary-delay timer with a million messages pending.
 *
 * Starts $RMQ_BUILDDIR/mqbroker in a /tmp directory, sends N messages
 * (SEND_MESSAGE_V2, 4 connections, 64 in flight each) whose TIMER_DELIVER_MS
 * spreads evenly over a window starting DUE_AFTER seconds after the start,
 * samples the broker's RSS and CPU while everything is pending and nothing is
 * due, then pulls every delivered message and reports lateness = store time
 * of the delivered message - TIMER_OUT_MS, as percentiles.
 *
 *   bench_timer [N=1000000] [DUE_AFTER_S=100] [WINDOW_S=30]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/testproc.h"
#include "common/message.h"

#define CONNS 4
#define IN_FLIGHT 64

static test_proc broker;
static int64_t n_msgs, first_due, window_ms;

typedef struct sender {
    int id;
    int64_t from, to;  /* message numbers */
} sender;

static rmq_cmd *send_req(int64_t i)
{
    rmq_cmd *req = cmd_new_request(310);
    cmd_ext_set(req, "a", "PG_bench_timer");
    cmd_ext_set(req, "b", "BenchTimer");
    cmd_ext_set(req, "c", "TBW102");
    cmd_ext_set(req, "d", "4");
    cmd_ext_set(req, "e", "0");
    cmd_ext_set(req, "f", "0");
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set(req, "h", "0");
    char props[96];
    snprintf(props, sizeof props, "TIMER_DELIVER_MS\001%lld\002TAGS\001B",
             (long long)(first_due + i * window_ms / n_msgs));
    cmd_ext_set(req, "i", props);
    cmd_ext_set(req, "j", "0");
    cmd_ext_set(req, "k", "false");
    char body[32];
    int len = snprintf(body, sizeof body, "timer-%lld", (long long)i);
    cmd_set_body(req, body, (size_t)len);
    req->opaque = (int32_t)i;
    return req;
}

static void *send_all(void *arg)
{
    sender *s = arg;
    char err[256];
    int fd = rmq_connect_blocking(broker.addr, 5000, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "connect: %s\n", err);
        exit(1);
    }
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

static rmq_cmd *pull(int fd, int64_t offset)
{
    rmq_cmd *req = cmd_new_request(11);
    cmd_ext_set(req, "consumerGroup", "CG_bench_timer");
    cmd_ext_set(req, "topic", "BenchTimer");
    cmd_ext_set(req, "queueId", "0");
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

int main(int argc, char **argv)
{
    n_msgs = argc > 1 ? atoll(argv[1]) : 1000000;
    int64_t due_after = (argc > 2 ? atoll(argv[2]) : 100) * 1000;
    window_ms = (argc > 3 ? atoll(argv[3]) : 30) * 1000;
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
    rmq_cmd *ct = cmd_new_request(17);
    const char *kv[] = {"topic", "BenchTimer", "defaultTopic", "TBW102", "readQueueNums", "1", "writeQueueNums", "1",
                        "perm", "6", "topicFilterType", "SINGLE_TAG", "topicSysFlag", "0", "order", "false"};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i += 2) cmd_ext_set(ct, kv[i], kv[i + 1]);
    char err[256];
    cmd_free(rmq_invoke_sync(broker.addr, ct, 5000, err, sizeof err));
    cmd_free(ct);

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
    printf("sent %lld timer messages in %.1f s (%.0f/s)\n", (long long)n_msgs, (loaded - start) / 1000.0,
           n_msgs * 1000.0 / (double)(loaded - start));
    if (loaded + 12000 > first_due) fprintf(stderr, "warning: loading ran into the idle window; raise DUE_AFTER\n");

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

    /* Delivery: read everything back and measure lateness. */
    int fd = rmq_connect_blocking(broker.addr, 5000, err, sizeof err);
    int64_t *late = malloc((size_t)n_msgs * sizeof *late), got = 0, offset = 0;
    int64_t deadline = first_due + window_ms + 120000;
    while (got < n_msgs && now_ms() < deadline) {
        rmq_cmd *p = pull(fd, offset);
        if (p->code == 0) {
            size_t pos = 0;
            while (pos < p->body_len && got < n_msgs) {
                msg_record r;
                const char *why;
                if (msg_record_decode(p->body + pos, p->body_len - pos, &r, &why)) break;
                const char *v;
                size_t vl;
                char buf[24] = {0};
                if (msg_props_find(r.props, r.props_len, "TIMER_OUT_MS", &v, &vl) && vl < sizeof buf) memcpy(buf, v, vl);
                late[got++] = r.store_timestamp - atoll(buf);
                pos += r.total_size;
            }
            int64_t next;
            if (cmd_ext_int64(p, "nextBeginOffset", &next) == EXT_OK) offset = next;
        }
        cmd_free(p);
    }
    long ticks_end;
    proc_usage(broker.pid, &rss1, &ticks_end);
    qsort(late, (size_t)got, sizeof *late, cmp_i64);
    double pct[] = {50, 90, 99, 99.9, 100};
    printf("delivered %lld of %lld over a %lld s window; lateness ms:", (long long)got, (long long)n_msgs,
           (long long)(window_ms / 1000));
    for (int i = 0; i < 5 && got; i++) {
        int64_t k = (int64_t)(pct[i] / 100.0 * (double)(got - 1));
        printf(" p%g=%lld", pct[i], (long long)late[k]);
    }
    printf(" (min %lld); RSS after %ld MiB\n", got ? (long long)late[0] : 0LL, rss1 / 1024);
    close(fd);
    test_proc_stop(&broker, SIGTERM);
    test_rmdir(dir);
    free(late), free(dir), free(root), free(lp), free(log);
    return got == n_msgs ? 0 : 1;
}
