/*
 * bench_topics: how topic and group creation scale with the number already there.
 *
 *   bench_topics create -n NS -b BROKER [-t TOPICS] [-g GROUPS] [-s STEP] [--ns-pid P] [--broker-pid P]
 *                       [--topic-budget S] [--group-budget S]
 *       Creates TOPICS topics (UPDATE_AND_CREATE_TOPIC, one at a time and answered
 *       before the next, as mqadmin updateTopic does) and then GROUPS subscription
 *       groups (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP) over one connection to the
 *       broker. Every STEP creations it prints one line: time per creation, name
 *       server and broker CPU per creation (utime+stime from /proc/PID/stat), both
 *       RSS, and how long the last topic of the step took to become routable on the
 *       name server (GET_ROUTEINFO_BY_TOPIC polled every 1 ms). Then the route
 *       lookup latency over 10,000 random topics. With a budget, the topics (groups)
 *       stop after the first step that ends more than S seconds after the first topic
 *       (group) was sent, so a server whose cost per creation grows with the table
 *       (Apache's rewrites topics.json on each) is measured as far as it gets; the
 *       RESULT lines and the lookups then count what was created.
 *   bench_topics lookup -n NS [-t TOPICS]
 *       Only the lookups (e.g. after a name-server restart); exits 1 unless all are found.
 *   bench_topics probe -n NS -b BROKER [-T SECONDS] [-i INTERVAL_MS]
 *       One topic created every INTERVAL_MS (100) for SECONDS (70, so that the
 *       broker's periodic full registrations, every 30 s, fall among them): how long
 *       each creation took to be answered and to be routable; p50, p99, max and how
 *       many took over 100 ms. Run after `create`: the table is then large.
 *   bench_topics wait -b BROKER [-T SECONDS]
 *       Polls until the broker answers GET_BROKER_RUNTIME_INFO; prints the ms waited.
 *
 * Ends with "RESULT key=value ..." lines for bench/topics/scale.sh.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"

enum {
    REQ_UPDATE_AND_CREATE_TOPIC = 17,
    REQ_GET_BROKER_RUNTIME_INFO = 28,
    REQ_GET_ROUTEINFO_BY_TOPIC = 105,
    REQ_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
};
#define TIMEOUT_MS 10000
#define LOOKUPS 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime+stime of PID in seconds, -1 without it. */
static double cpu_s(int pid)
{
    if (pid <= 0) return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');   /* the command may hold spaces */
    unsigned long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of PID in MiB, -1 without it. */
static double rss_mib(int pid)
{
    if (pid <= 0) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lf", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

static int connect_or_die(const char *addr)
{
    char err[256];
    int fd = rmq_connect_blocking(addr, 3000, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "bench_topics: connect %s: %s\n", addr, err);
        exit(1);
    }
    return fd;
}

/* One request answered; exits on a transport error, returns the response code. */
static int invoke(int fd, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(fd, req, TIMEOUT_MS, err, sizeof err);
    cmd_free(req);
    if (!resp) {
        fprintf(stderr, "bench_topics: %s\n", err);
        exit(1);
    }
    int code = resp->code;
    cmd_free(resp);
    return code;
}

static rmq_cmd *create_topic_req(const char *topic)
{
    rmq_cmd *req = cmd_new_request(REQ_UPDATE_AND_CREATE_TOPIC);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set(req, "defaultTopic", "TBW102");
    cmd_ext_set(req, "readQueueNums", "8");
    cmd_ext_set(req, "writeQueueNums", "8");
    cmd_ext_set(req, "perm", "6");
    cmd_ext_set(req, "topicFilterType", "SINGLE_TAG");
    cmd_ext_set(req, "topicSysFlag", "0");
    cmd_ext_set(req, "order", "false");
    return req;
}

static rmq_cmd *create_group_req(const char *group)
{
    rmq_cmd *req = cmd_new_request(REQ_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP);
    char *body = str_printf("{\"brokerId\":0,\"consumeBroadcastEnable\":true,\"consumeEnable\":true,"
                            "\"consumeFromMinEnable\":true,\"groupName\":\"%s\",\"notifyConsumerIdsChangedEnable\":true,"
                            "\"retryMaxTimes\":16,\"retryQueueNums\":1,\"whichBrokerWhenConsumeSlowly\":1}", group);
    cmd_take_body(req, body, strlen(body));
    return req;
}

static rmq_cmd *route_req(const char *topic)
{
    rmq_cmd *req = cmd_new_request(REQ_GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", topic);
    return req;
}

typedef struct opts {
    const char *ns, *broker;
    long topics, groups, step;
    int ns_pid, broker_pid;
    double topic_budget_s, group_budget_s;   /* 0: none */
} opts;

typedef struct step_stats {
    double t0, ns_cpu0, br_cpu0;
} step_stats;

static void step_begin(const opts *o, step_stats *s)
{
    s->t0 = now_s();
    s->ns_cpu0 = cpu_s(o->ns_pid);
    s->br_cpu0 = cpu_s(o->broker_pid);
}

/* The 1-minute load average (-1 without /proc): the machine is shared, so every step says how busy it was. */
static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

/* Prints one step line; returns µs per creation. */
static double step_end(const opts *o, const step_stats *s, const char *what, long upto, long n, double routable_ms)
{
    double wall = now_s() - s->t0;
    double ns_cpu = cpu_s(o->ns_pid) - s->ns_cpu0, br_cpu = cpu_s(o->broker_pid) - s->br_cpu0;
    double us = wall * 1e6 / (double)n;
    printf("%-6s %7ld  %9.1f  %11.1f  %11.1f  %8.1f  %8.1f  %11.2f  %5.1f\n", what, upto, us, ns_cpu * 1e6 / (double)n,
           br_cpu * 1e6 / (double)n, rss_mib(o->ns_pid), rss_mib(o->broker_pid), routable_ms, load1());
    fflush(stdout);
    return us;
}

/* ms until TOPIC has a route on the name server (-1 if not within 10 s). */
static double time_to_routable(int ns_fd, const char *topic, double since)
{
    while (now_s() - since < 10) {
        if (invoke(ns_fd, route_req(topic)) == 0) return (now_s() - since) * 1e3;
        usleep(1000);
    }
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* LOOKUPS routes of random topics among the first o->topics: latency, and how many exist. */
static int run_lookups(const opts *o)
{
    int ns = connect_or_die(o->ns);
    double *lat = xmalloc(LOOKUPS * sizeof *lat);
    long found = 0;
    char name[64];
    srandom(42);
    for (int i = 0; i < LOOKUPS; i++) {
        snprintf(name, sizeof name, "BenchScaleTopic_%07ld", o->topics > 0 ? random() % o->topics : 0);
        double t = now_s();
        found += invoke(ns, route_req(name)) == 0;
        lat[i] = (now_s() - t) * 1e6;
    }
    qsort(lat, LOOKUPS, sizeof *lat, cmp_double);
    double sum = 0;
    for (int i = 0; i < LOOKUPS; i++) sum += lat[i];
    printf("route lookups: %d, found %ld, avg %.1f us, p50 %.1f us, p99 %.1f us\n", LOOKUPS, found,
           sum / LOOKUPS, lat[LOOKUPS / 2], lat[LOOKUPS * 99 / 100]);
    printf("RESULT lookups=%d found=%ld avg_us=%.1f p50_us=%.1f p99_us=%.1f\n", LOOKUPS, found, sum / LOOKUPS,
           lat[LOOKUPS / 2], lat[LOOKUPS * 99 / 100]);
    free(lat);
    close(ns);
    return found == LOOKUPS ? 0 : 1;
}

/* True (and says so) when a phase with a budget has run past it and has creations left. */
static bool over_budget(const char *what, long done, long total, double phase0, double budget_s)
{
    double spent = now_s() - phase0;
    if (budget_s <= 0 || spent <= budget_s || done >= total) return false;
    printf("budget: %s stopped at %ld of %ld (%.0f s spent, budget %.0f s)\n", what, done, total, spent, budget_s);
    printf("RESULT budget_stop=%s reached=%ld of=%ld spent_s=%.0f\n", what, done, total, spent);
    fflush(stdout);
    return true;
}

static int run_create(const opts *o)
{
    int br = connect_or_die(o->broker), ns = connect_or_die(o->ns);
    printf("what     count  us/create  ns_cpu_us/c  br_cpu_us/c  ns_rss_M  br_rss_M  routable_ms  load1\n");
    double first_us = 0, last_us = 0, worst_routable = 0, first_g = 0, last_g = 0;
    step_stats s;
    char name[64];
    long topics = o->topics, groups = o->groups;
    double phase0 = now_s();
    for (long i = 0; i < topics; i++) {
        if (i % o->step == 0) step_begin(o, &s);
        snprintf(name, sizeof name, "BenchScaleTopic_%07ld", i);
        bool step_end_now = (i + 1) % o->step == 0 || i + 1 == topics;
        if (step_end_now) {
            /* A new connection for the route polls: Apache's name server closes one idle
             * for 120 s (serverChannelMaxIdleTimeSeconds), shorter than its later steps. */
            close(ns);
            ns = connect_or_die(o->ns);
        }
        double t = now_s();
        int code = invoke(br, create_topic_req(name));
        if (code != 0) {
            fprintf(stderr, "bench_topics: create %s answered %d\n", name, code);
            return 1;
        }
        if (step_end_now) {
            double routable = time_to_routable(ns, name, t);
            if (routable < 0 || routable > worst_routable) worst_routable = routable < 0 ? 1e9 : routable;
            long n = (i % o->step) + 1;
            double us = step_end(o, &s, "topics", i + 1, n, routable);
            if (i + 1 == n) first_us = us;
            last_us = us;
            if (over_budget("topics", i + 1, topics, phase0, o->topic_budget_s)) topics = i + 1;
        }
    }
    phase0 = now_s();
    for (long i = 0; i < groups; i++) {
        if (i % o->step == 0) step_begin(o, &s);
        snprintf(name, sizeof name, "BenchScaleGroup_%07ld", i);
        int code = invoke(br, create_group_req(name));
        if (code != 0) {
            fprintf(stderr, "bench_topics: create group %s answered %d\n", name, code);
            return 1;
        }
        if ((i + 1) % o->step == 0 || i + 1 == groups) {
            long n = (i % o->step) + 1;
            double us = step_end(o, &s, "groups", i + 1, n, 0);
            if (i + 1 == n) first_g = us;
            last_g = us;
            if (over_budget("groups", i + 1, groups, phase0, o->group_budget_s)) groups = i + 1;
        }
    }
    printf("RESULT topics=%ld first_us=%.1f last_us=%.1f ratio=%.2f worst_routable_ms=%.1f\n", topics, first_us,
           last_us, first_us > 0 ? last_us / first_us : 0, worst_routable);
    printf("RESULT groups=%ld first_us=%.1f last_us=%.1f ratio=%.2f\n", groups, first_g, last_g,
           first_g > 0 ? last_g / first_g : 0);
    close(br);
    close(ns);
    opts reached = *o;
    reached.topics = topics;
    return topics > 0 ? run_lookups(&reached) : 0;
}

static void print_latencies(const char *what, const char *key, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    int over = 0;
    for (int i = 0; i < n; i++) over += ms[i] > 100;
    printf("%s: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms, over 100 ms: %d\n", what, n, ms[n / 2], ms[n * 99 / 100],
           ms[n - 1], over);
    printf("RESULT probe=%s n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f over_100ms=%d\n", key, n, ms[n / 2],
           ms[n * 99 / 100], ms[n - 1], over);
}

/* Creations spread over time, each timed to its answer and to its route on the name server. */
static int run_probe(const opts *o, int seconds, int interval_ms)
{
    int br = connect_or_die(o->broker), ns = connect_or_die(o->ns);
    int cap = seconds * 1000 / (interval_ms > 0 ? interval_ms : 1) + 1, n = 0;
    double *answer = xmalloc((size_t)cap * sizeof *answer), *routable = xmalloc((size_t)cap * sizeof *routable);
    double t0 = now_s(), next = t0;
    char name[64];
    while (n < cap && now_s() - t0 < seconds) {
        double t = now_s();
        if (t < next) usleep((useconds_t)((next - t) * 1e6));
        next += interval_ms / 1e3;
        snprintf(name, sizeof name, "BenchProbeTopic_%06d", n);
        t = now_s();
        int code = invoke(br, create_topic_req(name));
        if (code != 0) {
            fprintf(stderr, "bench_topics: create %s answered %d\n", name, code);
            return 1;
        }
        answer[n] = (now_s() - t) * 1e3;
        double r = time_to_routable(ns, name, t);
        routable[n] = r < 0 ? 1e4 : r;
        if (routable[n] > 100) {   /* when, to be found in the servers' logs */
            struct timespec wall;
            clock_gettime(CLOCK_REALTIME, &wall);
            struct tm tm;
            gmtime_r(&wall.tv_sec, &tm);
            printf("slow: %s created %.0f ms before %02d:%02d:%02d.%03ld UTC, answered in %.1f ms, routable in %.1f ms\n",
                   name, routable[n], tm.tm_hour, tm.tm_min, tm.tm_sec, wall.tv_nsec / 1000000, answer[n],
                   routable[n]);
        }
        n++;
    }
    print_latencies("creation answered", "answered", answer, n);
    print_latencies("creation routable", "routable", routable, n);
    free(answer);
    free(routable);
    close(br);
    close(ns);
    return 0;
}

static int run_wait(const opts *o, int seconds)
{
    double t0 = now_s();
    char err[256];
    while (now_s() - t0 < seconds) {
        int fd = rmq_connect_blocking(o->broker, 1000, err, sizeof err);
        if (fd >= 0) {
            rmq_cmd *req = cmd_new_request(REQ_GET_BROKER_RUNTIME_INFO);
            rmq_cmd *resp = rmq_invoke_fd(fd, req, 1000, err, sizeof err);
            cmd_free(req);
            close(fd);
            bool ok = resp && resp->code == 0;
            cmd_free(resp);
            if (ok) {
                printf("RESULT broker_answered_ms=%.0f\n", (now_s() - t0) * 1e3);
                return 0;
            }
        }
        usleep(5000);
    }
    fprintf(stderr, "bench_topics: broker %s did not answer within %d s\n", o->broker, seconds);
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_topics create -n NS -b BROKER [-t TOPICS] [-g GROUPS] [-s STEP] "
                    "[--ns-pid PID] [--broker-pid PID]\n"
                    "                    [--topic-budget SECONDS] [--group-budget SECONDS]\n"
                    "       bench_topics lookup -n NS [-t TOPICS]\n"
                    "       bench_topics probe -n NS -b BROKER [-T SECONDS] [-i INTERVAL_MS]\n"
                    "       bench_topics wait -b BROKER [-T SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    const char *mode = argv[1];
    opts o = {.topics = 100000, .groups = 20000, .step = 10000};
    int wait_s = -1, interval_ms = 100;
    static const struct option longs[] = {
        {"ns-pid", required_argument, NULL, 'N'},       {"broker-pid", required_argument, NULL, 'B'},
        {"topic-budget", required_argument, NULL, 'U'}, {"group-budget", required_argument, NULL, 'G'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "n:b:t:g:s:T:i:", longs, NULL)) != -1) {
        switch (c) {
        case 'n': o.ns = optarg; break;
        case 'b': o.broker = optarg; break;
        case 't': o.topics = atol(optarg); break;
        case 'g': o.groups = atol(optarg); break;
        case 's': o.step = atol(optarg); break;
        case 'T': wait_s = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'N': o.ns_pid = atoi(optarg); break;
        case 'B': o.broker_pid = atoi(optarg); break;
        case 'U': o.topic_budget_s = atof(optarg); break;
        case 'G': o.group_budget_s = atof(optarg); break;
        default: usage();
        }
    }
    rmq_remoting_init();
    if (o.step <= 0 || (!o.broker && strcmp(mode, "lookup") != 0)) usage();
    if (strcmp(mode, "create") == 0 && o.ns) return run_create(&o);
    if (strcmp(mode, "lookup") == 0 && o.ns) return run_lookups(&o);
    if (strcmp(mode, "probe") == 0 && o.ns) return run_probe(&o, wait_s < 0 ? 70 : wait_s, interval_ms);
    if (strcmp(mode, "wait") == 0) return run_wait(&o, wait_s < 0 ? 120 : wait_s);
    usage();
    return 2;
}
