/*
 * mqbench: a load generator speaking the RocketMQ remoting protocol like a client.
 *
 *   produce  threads x one connection each, SEND_MESSAGE_V2 or SEND_BATCH_MESSAGE,
 *            sync (window 1), pipelined (window N) or oneway, at a target or
 *            unbounded rate;
 *   consume  one thread + connection per read queue, PULL_MESSAGE with long polling
 *            from a consumer group's committed offset, committing as it goes;
 *   mixed    both at once; the consumer starts at the queues' ends and measures
 *            send-to-receive latency from a timestamp the producer puts in the body.
 *
 * Every run ends after -d seconds or -N messages, whichever comes first. It prints a
 * line per second and, at the end, totals with latency percentiles and errors by
 * response code, plus one "RESULT key=value ..." line for scripts (bench/run.sh).
 * Routes come from the name server (GET_ROUTEINFO_BY_TOPIC) or from -b/-q.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fjson.h"
#include "common/message.h"
#include "common/util.h"
#include "remoting/remoting.h"

/* Request and response codes used here (RequestCode / ResponseCode, 4.9.8). */
enum {
    REQ_PULL_MESSAGE = 11,
    REQ_QUERY_CONSUMER_OFFSET = 14,
    REQ_UPDATE_CONSUMER_OFFSET = 15,
    REQ_UPDATE_AND_CREATE_TOPIC = 17,
    REQ_GET_MAX_OFFSET = 30,
    REQ_GET_MIN_OFFSET = 31,
    REQ_GET_ROUTEINFO_BY_TOPIC = 105,
    REQ_SEND_MESSAGE_V2 = 310,
    REQ_SEND_BATCH_MESSAGE = 320,
};
enum {
    RESP_SUCCESS = 0,
    RESP_PULL_NOT_FOUND = 19,
    RESP_PULL_RETRY_IMMEDIATELY = 20,
    RESP_PULL_OFFSET_MOVED = 21,
    RESP_QUERY_NOT_FOUND = 22,
};
/* PullSysFlag bits. */
enum { PULL_COMMIT_OFFSET = 0x1, PULL_SUSPEND = 0x2, PULL_SUBSCRIPTION = 0x4 };
/* Errors that have no response code: no answer in time, or the connection broke. */
#define ERR_NO_RESPONSE (-1)

/* A body starting with this tag carries the send time (CLOCK_REALTIME, µs) after it. */
static const char BODY_STAMP_TAG[4] = {'M', 'Q', 'B', '1'};
#define BODY_STAMP_LEN 12

#define MAX_QUEUES 256
#define MAX_ERROR_CODES 32

/* ---- options ---------------------------------------------------------------- */

enum mode { MODE_PRODUCE, MODE_CONSUME, MODE_MIXED };

static struct options {
    enum mode mode;
    const char *namesrv, *broker, *topic, *group, *producer_group;
    int threads, size, batch, window, queues, create_queues, timeout_ms, poll_ms, pull_batch;
    bool oneway, from_end, quiet;
    double rate;          /* messages per second over all producer threads; 0 = unbounded */
    double duration_s;
    int64_t count;        /* stop after this many messages; 0 = duration only */
} opt = {
    .mode = MODE_PRODUCE, .topic = "BenchmarkTest", .group = "mqbench_consumer",
    .producer_group = "mqbench_producer", .threads = 4, .size = 128, .batch = 1, .window = 1,
    .queues = 4, .timeout_ms = 3000, .poll_ms = 5000, .pull_batch = 32, .duration_s = 10,
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mqbench (-n namesrv | -b broker) [options]\n"
        "  -m, --mode produce|consume|mixed   (produce)\n"
        "  -n, --namesrv host:port            routes from the name server\n"
        "  -b, --broker host:port             one broker, queues 0..Q-1 (see -q)\n"
        "  -q, --queues Q                     queue count with -b (4)\n"
        "  -t, --topic NAME                   (BenchmarkTest)\n"
        "      --create-topic Q               create the topic with Q queues first\n"
        "  -c, --threads N                    producer threads = connections (4)\n"
        "  -s, --size BYTES                   message body size (128)\n"
        "  -r, --rate MSGS                    target send rate, all threads (unbounded)\n"
        "  -B, --batch N                      messages per SEND_BATCH_MESSAGE (1 = single sends)\n"
        "  -w, --window N                     requests in flight per connection (1 = sync)\n"
        "      --oneway                       send oneway (no responses, no latency)\n"
        "  -g, --group NAME                   consumer group (mqbench_consumer)\n"
        "      --from-end                     consume from the queues' ends (mixed: always)\n"
        "      --poll-ms MS                   long-polling suspend time (5000)\n"
        "  -d, --duration SECONDS             run time bound (10; at most 86400)\n"
        "  -N, --count N                      stop after N messages sent (produce/mixed) or received\n"
        "  -T, --timeout MS                   request timeout (3000)\n"
        "      --quiet                        no per-second lines\n");
}

static int parse_options(int argc, char **argv)
{
    enum { O_CREATE = 256, O_ONEWAY, O_FROM_END, O_POLL, O_QUIET };
    static const struct option longopts[] = {
        {"mode", 1, 0, 'm'}, {"namesrv", 1, 0, 'n'}, {"broker", 1, 0, 'b'}, {"queues", 1, 0, 'q'},
        {"topic", 1, 0, 't'}, {"create-topic", 1, 0, O_CREATE}, {"threads", 1, 0, 'c'},
        {"size", 1, 0, 's'}, {"rate", 1, 0, 'r'}, {"batch", 1, 0, 'B'}, {"window", 1, 0, 'w'},
        {"oneway", 0, 0, O_ONEWAY}, {"group", 1, 0, 'g'}, {"from-end", 0, 0, O_FROM_END},
        {"poll-ms", 1, 0, O_POLL}, {"duration", 1, 0, 'd'}, {"count", 1, 0, 'N'},
        {"timeout", 1, 0, 'T'}, {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "m:n:b:q:t:c:s:r:B:w:g:d:N:T:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (!strcmp(optarg, "produce")) opt.mode = MODE_PRODUCE;
            else if (!strcmp(optarg, "consume")) opt.mode = MODE_CONSUME;
            else if (!strcmp(optarg, "mixed")) opt.mode = MODE_MIXED;
            else return -1;
            break;
        case 'n': opt.namesrv = optarg; break;
        case 'b': opt.broker = optarg; break;
        case 'q': opt.queues = atoi(optarg); break;
        case 't': opt.topic = optarg; break;
        case O_CREATE: opt.create_queues = atoi(optarg); break;
        case 'c': opt.threads = atoi(optarg); break;
        case 's': opt.size = atoi(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'B': opt.batch = atoi(optarg); break;
        case 'w': opt.window = atoi(optarg); break;
        case O_ONEWAY: opt.oneway = true; break;
        case 'g': opt.group = optarg; break;
        case O_FROM_END: opt.from_end = true; break;
        case O_POLL: opt.poll_ms = atoi(optarg); break;
        case 'd': opt.duration_s = atof(optarg); break;
        case 'N': opt.count = strtoll(optarg, NULL, 10); break;
        case 'T': opt.timeout_ms = atoi(optarg); break;
        case O_QUIET: opt.quiet = true; break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || (!opt.namesrv == !opt.broker)) return -1;
    if (opt.threads < 1 || opt.threads > 1024 || opt.size < 0 || opt.size > 4 * 1024 * 1024 ||
        opt.batch < 1 || opt.window < 1 || opt.window > 4096 || opt.queues < 1 ||
        opt.queues > MAX_QUEUES || opt.create_queues < 0 || opt.create_queues > MAX_QUEUES ||
        opt.timeout_ms < 1 || opt.poll_ms < 0 || opt.rate < 0 || opt.count < 0 ||
        !(opt.duration_s > 0 && opt.duration_s <= 86400))
        return -1;
    if (opt.mode == MODE_MIXED) opt.from_end = true;
    return 0;
}

/* ---- latency histogram ---------------------------------------------------------- */

/*
 * Log-linear buckets over microseconds: exact below 64, then 32 buckets per power
 * of two (about 3% resolution), like HdrHistogram with 2 significant bits less.
 * One per thread, merged at the end; no locking.
 */
#define HIST_SUB 32
#define HIST_BUCKETS (2 * HIST_SUB + 40 * HIST_SUB)

typedef struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n, max;
} hist;

static int hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB) return (int)v;
    int e = 63 - __builtin_clzll(v);     /* >= 6 */
    int shift = e - 5;                    /* v >> shift in [32, 64) */
    int idx = 2 * HIST_SUB + (e - 6) * HIST_SUB + (int)((v >> shift) - HIST_SUB);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of bucket idx. */
static uint64_t hist_value(int idx)
{
    if (idx < 2 * HIST_SUB) return (uint64_t)idx;
    int e = (idx - 2 * HIST_SUB) / HIST_SUB + 6;
    int shift = e - 5;
    uint64_t low = (uint64_t)(HIST_SUB + (idx - 2 * HIST_SUB) % HIST_SUB) << shift;
    return low + ((1ull << shift) >> 1);
}

static void hist_add(hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->n++;
    if (v > h->max) h->max = v;
}

static void hist_merge(hist *into, const hist *from)
{
    for (int i = 0; i < HIST_BUCKETS; i++) into->counts[i] += from->counts[i];
    into->n += from->n;
    if (from->max > into->max) into->max = from->max;
}

static uint64_t hist_percentile(const hist *h, double p)
{
    if (!h->n) return 0;
    uint64_t rank = (uint64_t)ceil(p * (double)h->n), seen = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) return hist_value(i) < h->max ? hist_value(i) : h->max;
    }
    return h->max;
}

/* ---- errors by response code ------------------------------------------------------ */

typedef struct error_counts {
    struct { int code; uint64_t n; } e[MAX_ERROR_CODES];
    int used;
    uint64_t other;   /* codes beyond the table */
} error_counts;

static void errors_add(error_counts *ec, int code, uint64_t n)
{
    for (int i = 0; i < ec->used; i++)
        if (ec->e[i].code == code) { ec->e[i].n += n; return; }
    if (ec->used == MAX_ERROR_CODES) { ec->other += n; return; }
    ec->e[ec->used].code = code;
    ec->e[ec->used++].n = n;
}

static void errors_merge(error_counts *into, const error_counts *from)
{
    for (int i = 0; i < from->used; i++) errors_add(into, from->e[i].code, from->e[i].n);
    into->other += from->other;
}

/* ---- shared run state ---------------------------------------------------------------- */

typedef struct queue_target {
    char addr[64];        /* broker master "host:port" */
    char broker_name[64];
    int queue_id;
} queue_target;

static queue_target write_queues[MAX_QUEUES], read_queues[MAX_QUEUES];
static int n_write_queues, n_read_queues;

static atomic_bool stop;
static int64_t run_deadline_ms;              /* mono_ms() at which everything stops */
static atomic_int_fast64_t claimed_sends;    /* messages producer threads took on (for -N) */
static atomic_int_fast64_t sent_msgs, sent_bytes, send_errors, send_latency_sum_us;
static atomic_int_fast64_t recv_msgs, recv_bytes, recv_errors;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_signal(int sig) { (void)sig; atomic_store(&stop, true); }

static bool running(void) { return !atomic_load(&stop) && mono_ms() < run_deadline_ms; }

/* ---- routes and topic creation ------------------------------------------------------ */

/* Adds queues 0..n-1 of one broker to a target list. */
static void add_queues(queue_target *list, int *n, const char *addr, const char *name, int count)
{
    for (int q = 0; q < count && *n < MAX_QUEUES; q++, (*n)++) {
        snprintf(list[*n].addr, sizeof list[*n].addr, "%s", addr);
        snprintf(list[*n].broker_name, sizeof list[*n].broker_name, "%s", name);
        list[*n].queue_id = q;
    }
}

/* TopicRouteData -> write/read queue lists of each broker's master (brokerId 0). */
static int load_route(char *err, size_t errlen)
{
    rmq_cmd *req = cmd_new_request(REQ_GET_ROUTEINFO_BY_TOPIC);
    cmd_ext_set(req, "topic", opt.topic);
    rmq_cmd *resp = rmq_invoke_sync(opt.namesrv, req, opt.timeout_ms, err, errlen);
    cmd_free(req);
    if (!resp) return RMQ_ERR;
    int rc = RMQ_ERR;
    cJSON *route = NULL;
    if (resp->code != RESP_SUCCESS) {
        snprintf(err, errlen, "route of %s: code %d %s", opt.topic, resp->code, resp->remark ? resp->remark : "");
        goto out;
    }
    const char *why = "empty body";
    route = resp->body_len ? fjson_parse((const char *)resp->body, resp->body_len, &why) : NULL;
    if (!route) {
        snprintf(err, errlen, "route of %s: %s", opt.topic, why);
        goto out;
    }
    n_write_queues = n_read_queues = 0;
    const cJSON *qd;
    cJSON_ArrayForEach(qd, cJSON_GetObjectItemCaseSensitive(route, "queueDatas")) {
        const char *name;
        int32_t wq = 0, rq = 0;
        if (fjson_field_string(qd, "brokerName", &name) != FJSON_OK) continue;
        fjson_field_int32(qd, "writeQueueNums", &wq);
        fjson_field_int32(qd, "readQueueNums", &rq);
        const cJSON *bd;
        cJSON_ArrayForEach(bd, cJSON_GetObjectItemCaseSensitive(route, "brokerDatas")) {
            const char *bname, *addr;
            if (fjson_field_string(bd, "brokerName", &bname) != FJSON_OK || strcmp(bname, name)) continue;
            if (fjson_field_string(cJSON_GetObjectItemCaseSensitive(bd, "brokerAddrs"), "0", &addr) != FJSON_OK)
                continue;  /* no master online */
            add_queues(write_queues, &n_write_queues, addr, name, wq);
            add_queues(read_queues, &n_read_queues, addr, name, rq);
        }
    }
    if (!n_write_queues && !n_read_queues)
        snprintf(err, errlen, "route of %s has no queue on a master", opt.topic);
    else
        rc = RMQ_OK;
out:
    cJSON_Delete(route);
    cmd_free(resp);
    return rc;
}

static int create_topic_on(const char *addr, char *err, size_t errlen)
{
    rmq_cmd *req = cmd_new_request(REQ_UPDATE_AND_CREATE_TOPIC);
    cmd_ext_set(req, "topic", opt.topic);
    cmd_ext_set(req, "defaultTopic", "TBW102");
    cmd_ext_set_int(req, "readQueueNums", opt.create_queues);
    cmd_ext_set_int(req, "writeQueueNums", opt.create_queues);
    cmd_ext_set_int(req, "perm", 6);
    cmd_ext_set(req, "topicFilterType", "SINGLE_TAG");
    cmd_ext_set_int(req, "topicSysFlag", 0);
    cmd_ext_set_bool(req, "order", false);
    rmq_cmd *resp = rmq_invoke_sync(addr, req, opt.timeout_ms, err, errlen);
    cmd_free(req);
    if (!resp) return RMQ_ERR;
    int rc = resp->code == RESP_SUCCESS ? RMQ_OK : RMQ_ERR;
    if (rc) snprintf(err, errlen, "create topic on %s: code %d %s", addr, resp->code, resp->remark ? resp->remark : "");
    cmd_free(resp);
    return rc;
}

/*
 * Creating a topic needs its brokers: -b names one; with -n the topic's current
 * route does (re-creating resizes it), or, for a new topic, the brokers serving
 * the default topic TBW102.
 */
static int create_topic(char *err, size_t errlen)
{
    if (opt.broker) return create_topic_on(opt.broker, err, errlen);
    const char *topic = opt.topic;
    if (load_route(err, errlen)) {
        opt.topic = "TBW102";
        int rc = load_route(err, errlen);
        opt.topic = topic;
        if (rc) return rc;
    }
    for (int i = 0; i < n_write_queues; i++) {
        if (i && !strcmp(write_queues[i].addr, write_queues[i - 1].addr)) continue;
        if (create_topic_on(write_queues[i].addr, err, errlen)) return RMQ_ERR;
    }
    return RMQ_OK;
}

/* Brokers register with the name server after a topic change; wait for the route. */
static int resolve_queues(char *err, size_t errlen)
{
    if (opt.broker) {
        int q = opt.create_queues ? opt.create_queues : opt.queues;
        n_write_queues = n_read_queues = 0;
        add_queues(write_queues, &n_write_queues, opt.broker, "broker", q);
        add_queues(read_queues, &n_read_queues, opt.broker, "broker", q);
        return RMQ_OK;
    }
    int64_t give_up = mono_ms() + 10000;
    for (;;) {
        if (!load_route(err, errlen) && (!opt.create_queues || n_write_queues >= opt.create_queues)) return RMQ_OK;
        if (mono_ms() > give_up) return RMQ_ERR;
        usleep(200 * 1000);
    }
}

/* ---- producer ------------------------------------------------------------------------ */

typedef struct producer {
    pthread_t tid;
    int index;
    hist latency;
    error_counts errors;
    /* the queues this thread sends to: all queues of one broker */
    int queues[MAX_QUEUES], n_queues, next_queue;
    uint64_t seq;
} producer;

/* One in-flight request: its opaque, when it left, and how many messages it carries. */
typedef struct inflight {
    int32_t opaque;
    int64_t start_us;
    int msgs;
    size_t bytes;
} inflight;

static uint8_t *body_template;   /* opt.size bytes of filler */

/* Properties of one message: what a Java producer sets (UNIQ_KEY, WAIT) plus a tag. */
static int make_props(producer *p, char *buf, size_t cap)
{
    return snprintf(buf, cap, "TAGS%cbench%cUNIQ_KEY%c%08X%04X%020" PRIX64 "%cWAIT%ctrue",
                    MSG_NAME_VALUE_SEPARATOR, MSG_PROPERTY_SEPARATOR, MSG_NAME_VALUE_SEPARATOR,
                    (unsigned)getpid(), (unsigned)p->index & 0xFFFF, p->seq++,
                    MSG_PROPERTY_SEPARATOR, MSG_NAME_VALUE_SEPARATOR);
}

/* The body: filler, stamped with the send time when there is room for it. */
static void stamp_body(uint8_t *body)
{
    if (opt.size < BODY_STAMP_LEN) return;
    memcpy(body, BODY_STAMP_TAG, sizeof BODY_STAMP_TAG);
    put_be64(body + sizeof BODY_STAMP_TAG, (uint64_t)real_us());
}

static rmq_cmd *build_send(producer *p, int n_msgs, const queue_target *q)
{
    char props[160];
    rmq_cmd *req = cmd_new_request(n_msgs > 1 ? REQ_SEND_BATCH_MESSAGE : REQ_SEND_MESSAGE_V2);
    cmd_ext_set(req, "a", opt.producer_group);
    cmd_ext_set(req, "b", opt.topic);
    cmd_ext_set(req, "c", "TBW102");
    cmd_ext_set_int(req, "d", 4);
    cmd_ext_set_int(req, "e", q->queue_id);
    cmd_ext_set_int(req, "f", 0);
    cmd_ext_set_int(req, "g", now_ms());
    cmd_ext_set_int(req, "h", 0);
    cmd_ext_set_int(req, "j", 0);
    cmd_ext_set_bool(req, "k", false);
    if (n_msgs == 1) {
        make_props(p, props, sizeof props);
        cmd_ext_set(req, "i", props);
        uint8_t *body = xmalloc((size_t)opt.size + 1);
        memcpy(body, body_template, (size_t)opt.size);
        stamp_body(body);
        cmd_take_body(req, body, (size_t)opt.size);
        return req;
    }
    /* MessageDecoder.encodeMessages: per message TOTALSIZE, MAGICCODE 0, BODYCRC 0,
     * FLAG, BODYLENGTH + BODY, PROPERTIESLENGTH + PROPERTIES. */
    cmd_ext_set_bool(req, "m", true);
    size_t cap = (size_t)n_msgs * (20 + (size_t)opt.size + 2 + sizeof props), len = 0;
    uint8_t *buf = xmalloc(cap);
    for (int i = 0; i < n_msgs; i++) {
        int plen = make_props(p, props, sizeof props);
        uint8_t *m = buf + len;
        uint32_t total = 20 + (uint32_t)opt.size + 2 + (uint32_t)plen;
        put_be32(m, total);
        put_be32(m + 4, 0);
        put_be32(m + 8, 0);
        put_be32(m + 12, 0);
        put_be32(m + 16, (uint32_t)opt.size);
        memcpy(m + 20, body_template, (size_t)opt.size);
        stamp_body(m + 20);
        put_be16(m + 20 + opt.size, (uint16_t)plen);
        memcpy(m + 22 + opt.size, props, (size_t)plen);
        len += total;
    }
    cmd_take_body(req, buf, len);
    return req;
}

/* Claims up to opt.batch messages of the -N budget; 0 when it is spent. */
static int claim_messages(void)
{
    if (!opt.count) return opt.batch;
    int64_t first = atomic_fetch_add(&claimed_sends, opt.batch);
    if (first >= opt.count) return 0;
    return (int)(opt.count - first < opt.batch ? opt.count - first : opt.batch);
}

static void record_send(producer *p, const inflight *f, int code)
{
    int64_t lat = mono_us() - f->start_us;
    if (code == RESP_SUCCESS) {
        atomic_fetch_add(&sent_msgs, f->msgs);
        atomic_fetch_add(&sent_bytes, (int64_t)f->bytes);
        atomic_fetch_add(&send_latency_sum_us, lat * f->msgs);
        hist_add(&p->latency, (uint64_t)lat);
    } else {
        atomic_fetch_add(&send_errors, f->msgs);
        errors_add(&p->errors, code, (uint64_t)f->msgs);
    }
}

/* Reads one response and settles the request it answers; RMQ_ERR if the link broke. */
static int settle_one(producer *p, int fd, inflight *window, int *n_inflight)
{
    char err[160];
    rmq_cmd *resp = rmq_read_frame_fd(fd, opt.timeout_ms, err, sizeof err);
    if (!resp) return RMQ_ERR;
    for (int i = 0; i < *n_inflight; i++) {
        if (window[i].opaque != resp->opaque) continue;
        record_send(p, &window[i], resp->code);
        window[i] = window[--*n_inflight];
        break;
    }
    cmd_free(resp);
    return RMQ_OK;
}

static void *producer_main(void *arg)
{
    producer *p = arg;
    const char *addr = write_queues[p->queues[0]].addr;
    inflight *window = xcalloc((size_t)opt.window, sizeof *window);
    int n_inflight = 0, fd = -1;
    int32_t opaque = 1;
    /* Pacing: this thread's share of the rate; a late thread does not burst to catch up. */
    double interval_us = opt.rate > 0 ? 1e6 * opt.threads * opt.batch / opt.rate : 0;
    double next_us = (double)mono_us();
    char err[160];

    while (running()) {
        if (fd < 0) {
            fd = rmq_connect_blocking(addr, opt.timeout_ms, err, sizeof err);
            if (fd < 0) {
                errors_add(&p->errors, ERR_NO_RESPONSE, 1);
                atomic_fetch_add(&send_errors, 1);
                usleep(100 * 1000);
                continue;
            }
        }
        if (n_inflight == opt.window) {
            if (settle_one(p, fd, window, &n_inflight)) goto broken;
            continue;
        }
        int n = claim_messages();
        if (!n) break;
        if (interval_us > 0) {
            int64_t now = mono_us();
            if (next_us > (double)now) usleep((useconds_t)(next_us - (double)now));
            else if ((double)now - next_us > 1e6) next_us = (double)now;
            next_us += interval_us * n / opt.batch;
        }
        const queue_target *q = &write_queues[p->queues[p->next_queue++ % p->n_queues]];
        rmq_cmd *req = build_send(p, n, q);
        req->opaque = opaque++;
        if (opt.oneway) req->flag |= RMQ_FLAG_ONEWAY;
        inflight f = {req->opaque, mono_us(), n, (size_t)n * (size_t)opt.size};
        int rc = rmq_write_cmd_fd(fd, req);
        cmd_free(req);
        if (rc) {
            record_send(p, &f, ERR_NO_RESPONSE);
            goto broken;
        }
        if (opt.oneway) record_send(p, &f, RESP_SUCCESS);
        else window[n_inflight++] = f;
        continue;
broken:
        /* Whatever was in flight on a broken connection is lost: count it, reconnect. */
        for (int i = 0; i < n_inflight; i++) record_send(p, &window[i], ERR_NO_RESPONSE);
        n_inflight = 0;
        close(fd);
        fd = -1;
    }
    /* Collect the answers still due (bounded by the request timeout). */
    while (n_inflight && settle_one(p, fd, window, &n_inflight) == RMQ_OK) {}
    for (int i = 0; i < n_inflight; i++) record_send(p, &window[i], ERR_NO_RESPONSE);
    if (fd >= 0) close(fd);
    free(window);
    return NULL;
}

/* ---- consumer ------------------------------------------------------------------------ */

typedef struct consumer {
    pthread_t tid;
    const queue_target *q;
    hist e2e;                /* send-to-receive, from stamped bodies */
    error_counts errors;
    int64_t offset;
    int64_t committed;
} consumer;

static int64_t offset_query(int fd, int code, const queue_target *q, int *resp_code, char *err, size_t errlen)
{
    rmq_cmd *req = cmd_new_request(code);
    if (code == REQ_QUERY_CONSUMER_OFFSET) cmd_ext_set(req, "consumerGroup", opt.group);
    cmd_ext_set(req, "topic", opt.topic);
    cmd_ext_set_int(req, "queueId", q->queue_id);
    rmq_cmd *resp = rmq_invoke_fd(fd, req, opt.timeout_ms, err, errlen);
    cmd_free(req);
    *resp_code = resp ? resp->code : ERR_NO_RESPONSE;
    int64_t off = -1;
    if (resp && resp->code == RESP_SUCCESS && cmd_ext_int64(resp, "offset", &off) != EXT_OK) off = -1;
    cmd_free(resp);
    return off;
}

/* Where a queue starts: the group's committed offset, else its first (or last) message. */
static int consumer_start(consumer *c, int fd, char *err, size_t errlen)
{
    int code;
    if (opt.from_end) {
        c->offset = offset_query(fd, REQ_GET_MAX_OFFSET, c->q, &code, err, errlen);
    } else {
        c->offset = offset_query(fd, REQ_QUERY_CONSUMER_OFFSET, c->q, &code, err, errlen);
        if (code == RESP_QUERY_NOT_FOUND)
            c->offset = offset_query(fd, REQ_GET_MIN_OFFSET, c->q, &code, err, errlen);
    }
    if (c->offset < 0) {
        errors_add(&c->errors, code, 1);
        return RMQ_ERR;
    }
    c->committed = c->offset;
    return RMQ_OK;
}

static void count_records(consumer *c, const uint8_t *body, size_t len)
{
    int64_t now = real_us(), n = 0, bytes = 0;
    while (len) {
        msg_record r;
        const char *why;
        if (msg_record_decode(body, len, &r, &why)) {
            errors_add(&c->errors, RESP_SUCCESS, 1);   /* a FOUND body we could not read */
            break;
        }
        if (r.body_len >= BODY_STAMP_LEN && !memcmp(r.body, BODY_STAMP_TAG, sizeof BODY_STAMP_TAG)) {
            int64_t sent = (int64_t)get_be64(r.body + sizeof BODY_STAMP_TAG);
            hist_add(&c->e2e, (uint64_t)(now > sent ? now - sent : 0));
        }
        n++;
        bytes += r.body_len;
        body += r.total_size;
        len -= r.total_size;
    }
    atomic_fetch_add(&recv_msgs, n);
    atomic_fetch_add(&recv_bytes, bytes);
}

static rmq_cmd *build_pull(consumer *c, int64_t sub_version, int suspend_ms)
{
    rmq_cmd *req = cmd_new_request(REQ_PULL_MESSAGE);
    bool commit = c->committed != c->offset;
    cmd_ext_set(req, "consumerGroup", opt.group);
    cmd_ext_set(req, "topic", opt.topic);
    cmd_ext_set_int(req, "queueId", c->q->queue_id);
    cmd_ext_set_int(req, "queueOffset", c->offset);
    cmd_ext_set_int(req, "maxMsgNums", opt.pull_batch);
    cmd_ext_set_int(req, "sysFlag", PULL_SUBSCRIPTION | (suspend_ms ? PULL_SUSPEND : 0) | (commit ? PULL_COMMIT_OFFSET : 0));
    cmd_ext_set_int(req, "commitOffset", c->offset);
    cmd_ext_set_int(req, "suspendTimeoutMillis", suspend_ms);
    cmd_ext_set(req, "subscription", "*");
    cmd_ext_set_int(req, "subVersion", sub_version);
    cmd_ext_set(req, "expressionType", "TAG");
    return req;
}

static void commit_final(consumer *c, int fd)
{
    char err[160];
    rmq_cmd *req = cmd_new_request(REQ_UPDATE_CONSUMER_OFFSET);
    cmd_ext_set(req, "consumerGroup", opt.group);
    cmd_ext_set(req, "topic", opt.topic);
    cmd_ext_set_int(req, "queueId", c->q->queue_id);
    cmd_ext_set_int(req, "commitOffset", c->offset);
    rmq_cmd *resp = rmq_invoke_fd(fd, req, opt.timeout_ms, err, sizeof err);
    if (!resp || resp->code != RESP_SUCCESS) errors_add(&c->errors, resp ? resp->code : ERR_NO_RESPONSE, 1);
    cmd_free(req);
    cmd_free(resp);
}

static bool consume_budget_left(void)
{
    return !opt.count || opt.mode == MODE_MIXED || atomic_load(&recv_msgs) < opt.count;
}

static void *consumer_main(void *arg)
{
    consumer *c = arg;
    char err[160];
    int fd = -1;
    bool started = false;
    int64_t sub_version = now_ms();

    while (running() && consume_budget_left()) {
        if (fd < 0 && (fd = rmq_connect_blocking(c->q->addr, opt.timeout_ms, err, sizeof err)) < 0) {
            errors_add(&c->errors, ERR_NO_RESPONSE, 1);
            usleep(100 * 1000);
            continue;
        }
        if (!started && !(started = consumer_start(c, fd, err, sizeof err) == RMQ_OK)) {
            usleep(100 * 1000);
            continue;
        }
        /* Long-poll, but never past the end of the run. */
        int64_t left = run_deadline_ms - mono_ms();
        int suspend = (int)(left < opt.poll_ms ? (left > 0 ? left : 0) : opt.poll_ms);
        rmq_cmd *req = build_pull(c, sub_version, suspend);
        rmq_cmd *resp = rmq_invoke_fd(fd, req, suspend + opt.timeout_ms, err, sizeof err);
        cmd_free(req);
        if (!resp) {
            errors_add(&c->errors, ERR_NO_RESPONSE, 1);
            atomic_fetch_add(&recv_errors, 1);
            close(fd);
            fd = -1;
            continue;
        }
        int64_t next;
        bool has_next = cmd_ext_int64(resp, "nextBeginOffset", &next) == EXT_OK;
        switch (resp->code) {
        case RESP_SUCCESS:
            c->committed = c->offset;   /* the broker took the commitOffset we sent */
            count_records(c, resp->body, resp->body_len);
            /* fall through */
        case RESP_PULL_NOT_FOUND:
        case RESP_PULL_RETRY_IMMEDIATELY:
        case RESP_PULL_OFFSET_MOVED:
            if (has_next) c->offset = next;
            break;
        default:
            errors_add(&c->errors, resp->code, 1);
            atomic_fetch_add(&recv_errors, 1);
            usleep(100 * 1000);
        }
        cmd_free(resp);
    }
    if (fd >= 0) {
        if (started) commit_final(c, fd);
        close(fd);
    }
    return NULL;
}

/* ---- reporting ----------------------------------------------------------------------- */

static void print_errors(const char *what, const error_counts *ec)
{
    if (!ec->used && !ec->other) return;
    printf("%s errors by code:", what);
    for (int i = 0; i < ec->used; i++) {
        if (ec->e[i].code == ERR_NO_RESPONSE) printf(" no-response=%" PRIu64, ec->e[i].n);
        else printf(" %d=%" PRIu64, ec->e[i].code, ec->e[i].n);
    }
    if (ec->other) printf(" other=%" PRIu64, ec->other);
    printf("\n");
}

static void print_second(int sec, int64_t dmsgs, int64_t dbytes, int64_t dlat, int64_t derr,
                         int64_t rmsgs, int64_t rbytes)
{
    if (opt.quiet) return;
    printf("[%3ds]", sec);
    if (opt.mode != MODE_CONSUME) {
        printf(" send %8" PRId64 " msg/s %8.2f MB/s", dmsgs, (double)dbytes / 1e6);
        if (!opt.oneway) printf(" avg %7.0f us", dmsgs ? (double)dlat / (double)dmsgs : 0.0);
        printf(" err %" PRId64, derr);
    }
    if (opt.mode != MODE_PRODUCE) printf(" | recv %8" PRId64 " msg/s %8.2f MB/s", rmsgs, (double)rbytes / 1e6);
    printf("\n");
    fflush(stdout);
}

static const char *mode_name(void)
{
    return opt.mode == MODE_PRODUCE ? "produce" : opt.mode == MODE_CONSUME ? "consume" : "mixed";
}

int main(int argc, char **argv)
{
    if (parse_options(argc, argv)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    char err[256];
    if (opt.create_queues && create_topic(err, sizeof err)) {
        fprintf(stderr, "mqbench: %s\n", err);
        return 1;
    }
    if (resolve_queues(err, sizeof err)) {
        fprintf(stderr, "mqbench: %s\n", err);
        return 1;
    }
    bool producing = opt.mode != MODE_CONSUME, consuming = opt.mode != MODE_PRODUCE;
    if ((producing && !n_write_queues) || (consuming && !n_read_queues)) {
        fprintf(stderr, "mqbench: topic %s has no %s queue\n", opt.topic, producing ? "write" : "read");
        return 1;
    }
    body_template = xmalloc((size_t)opt.size + 1);
    for (int i = 0; i < opt.size; i++) body_template[i] = (uint8_t)('a' + i % 26);

    printf("mqbench %s topic=%s queues=%d/%d threads=%d size=%d batch=%d window=%d %s rate=%s duration=%.0fs count=%" PRId64 "\n",
           mode_name(), opt.topic, n_write_queues, n_read_queues, opt.threads, opt.size, opt.batch,
           opt.window, opt.oneway ? "oneway" : "sync", opt.rate > 0 ? "target" : "unbounded",
           opt.duration_s, opt.count);
    if (opt.rate > 0) printf("target rate %.0f msg/s\n", opt.rate);
    fflush(stdout);

    /* Consumers first; in mixed mode they get a moment to sit at the queue ends (long
     * polling) before the sends and the clock start. */
    int warmup_ms = opt.mode == MODE_MIXED ? 300 : 0;
    run_deadline_ms = mono_ms() + warmup_ms + (int64_t)(opt.duration_s * 1000);
    int n_consumers = consuming ? n_read_queues : 0;
    consumer *consumers = xcalloc((size_t)n_consumers + 1, sizeof *consumers);
    for (int i = 0; i < n_consumers; i++) {
        consumers[i].q = &read_queues[i];
        pthread_create(&consumers[i].tid, NULL, consumer_main, &consumers[i]);
    }
    usleep((useconds_t)warmup_ms * 1000);
    int64_t t0 = mono_ms();

    /* Producer thread i sends to the queues of broker (i mod brokers), round robin. */
    int n_producers = producing ? opt.threads : 0;
    producer *producers = xcalloc((size_t)n_producers + 1, sizeof *producers);
    const char *brokers[MAX_QUEUES];
    int n_brokers = 0;
    for (int i = 0; i < n_write_queues; i++)
        if (!n_brokers || strcmp(brokers[n_brokers - 1], write_queues[i].addr)) brokers[n_brokers++] = write_queues[i].addr;
    for (int i = 0; i < n_producers; i++) {
        producer *p = &producers[i];
        p->index = i;
        const char *mine = brokers[i % n_brokers];
        for (int q = 0; q < n_write_queues; q++)
            if (!strcmp(write_queues[q].addr, mine)) p->queues[p->n_queues++] = q;
        p->next_queue = i / n_brokers;
        pthread_create(&p->tid, NULL, producer_main, p);
    }

    /* One line per second until the time is up or the counts are reached. */
    int64_t last_msgs = 0, last_bytes = 0, last_lat = 0, last_err = 0, last_rmsgs = 0, last_rbytes = 0;
    int sec = 0;
    for (;;) {
        int64_t next_tick = t0 + (int64_t)(sec + 1) * 1000;
        bool producers_done = !producing || (opt.count && atomic_load(&claimed_sends) >= opt.count &&
                                             atomic_load(&sent_msgs) + atomic_load(&send_errors) >= opt.count);
        bool consumers_done = !consuming || (opt.count && opt.mode == MODE_CONSUME && atomic_load(&recv_msgs) >= opt.count);
        if (!running() || (producers_done && consumers_done && opt.mode != MODE_MIXED) ||
            (opt.mode == MODE_MIXED && producers_done && atomic_load(&recv_msgs) >= atomic_load(&sent_msgs)))
            break;
        int64_t wait = next_tick - mono_ms();
        if (wait > 0) usleep((useconds_t)(wait < 50 ? wait : 50) * 1000);
        if (mono_ms() < next_tick) continue;
        sec++;
        int64_t m = atomic_load(&sent_msgs), b = atomic_load(&sent_bytes), l = atomic_load(&send_latency_sum_us),
                e = atomic_load(&send_errors), rm = atomic_load(&recv_msgs), rb = atomic_load(&recv_bytes);
        print_second(sec, m - last_msgs, b - last_bytes, l - last_lat, e - last_err, rm - last_rmsgs, rb - last_rbytes);
        last_msgs = m, last_bytes = b, last_lat = l, last_err = e, last_rmsgs = rm, last_rbytes = rb;
    }
    atomic_store(&stop, true);
    double elapsed = (double)(mono_ms() - t0) / 1000.0;

    hist send_lat = {0}, e2e = {0};
    error_counts send_err = {0}, recv_err = {0};
    for (int i = 0; i < n_producers; i++) {
        pthread_join(producers[i].tid, NULL);
        hist_merge(&send_lat, &producers[i].latency);
        errors_merge(&send_err, &producers[i].errors);
    }
    for (int i = 0; i < n_consumers; i++) {
        pthread_join(consumers[i].tid, NULL);
        hist_merge(&e2e, &consumers[i].e2e);
        errors_merge(&recv_err, &consumers[i].errors);
    }

    int64_t sm = atomic_load(&sent_msgs), sb = atomic_load(&sent_bytes), se = atomic_load(&send_errors);
    int64_t rm = atomic_load(&recv_msgs), rb = atomic_load(&recv_bytes), re = atomic_load(&recv_errors);
    printf("--- totals over %.2f s\n", elapsed);
    printf("RESULT mode=%s elapsed_s=%.2f", mode_name(), elapsed);
    if (producing) {
        printf(" size=%d threads=%d batch=%d window=%d%s", opt.size, opt.threads, opt.batch, opt.window,
               opt.oneway ? " oneway" : "");
        printf(" sent=%" PRId64 " send_tps=%.0f send_MBps=%.2f send_errors=%" PRId64, sm, (double)sm / elapsed,
               (double)sb / 1e6 / elapsed, se);
        if (!opt.oneway)
            printf(" send_p50_us=%" PRIu64 " send_p99_us=%" PRIu64 " send_p999_us=%" PRIu64 " send_max_us=%" PRIu64,
                   hist_percentile(&send_lat, 0.5), hist_percentile(&send_lat, 0.99),
                   hist_percentile(&send_lat, 0.999), send_lat.max);
    }
    if (consuming) {
        printf(" queues=%d", n_consumers);
        printf(" received=%" PRId64 " recv_tps=%.0f recv_MBps=%.2f recv_errors=%" PRId64, rm, (double)rm / elapsed,
               (double)rb / 1e6 / elapsed, re);
        if (e2e.n)
            printf(" e2e_p50_us=%" PRIu64 " e2e_p99_us=%" PRIu64 " e2e_max_us=%" PRIu64, hist_percentile(&e2e, 0.5),
                   hist_percentile(&e2e, 0.99), e2e.max);
    }
    printf("\n");
    print_errors("send", &send_err);
    print_errors("consume", &recv_err);
    free(producers);
    free(consumers);
    free(body_template);
    return (se || re) && !sm && !rm ? 1 : 0;
}
