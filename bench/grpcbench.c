/*
 * grpcbench: load for the broker's gRPC endpoint, the calls a 5.x SDK makes, from -c threads
 * with one HTTP/2 connection each (nghttp2's client session over a blocking socket, the
 * test client tests/grpc/h2_client.h):
 *   produce  sync unary SendMessage calls of one NORMAL message each (unique message id);
 *   consume  ReceiveMessage (batch 32, 1 s long polling, 30 s invisible) and one AckMessage
 *            per batch, until -N messages or -d seconds.
 * Ends with "RESULT key=value ..." (msg/s, and per-call latency of SendMessage or of the
 * receive+ack round). Bounded by -d seconds; every call has a 10 s deadline.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/grpc/h2_client.h"
#include "common/util.h"

#define CALL_TIMEOUT_MS 10000
#define MAX_SAMPLES 2000000

static const char *endpoint = "127.0.0.1:8081", *topic = "BenchmarkTest", *group = "grpc_bench_group";
static const char *mode = "produce";
static int threads = 4, size = 128, duration_s = 10;
static int64_t max_msgs = -1;
static _Atomic int64_t done_msgs, errors, n_samples;
static int64_t *samples;   /* µs per call */
static int64_t deadline_ms;

static void sample(int64_t us)
{
    int64_t i = atomic_fetch_add(&n_samples, 1);
    if (i < MAX_SAMPLES) samples[i] = us;
}

static bool more(void) { return mono_ms() < deadline_ms && (max_msgs < 0 || atomic_load(&done_msgs) < max_msgs); }

static int64_t us_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The response's Status code (field 1 of the first message), -1 when none. */
static int status_of(const h2_result *r, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = h2c_message(r, d, 0);
    if (!m) return -1;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 1);
    const Apache__Rocketmq__V2__Status *st = *(Apache__Rocketmq__V2__Status *const *)((const char *)m + f->offset);
    int code = st ? (int)st->code : -1;
    protobuf_c_message_free_unpacked(m, NULL);
    return code;
}

static void *producer(void *arg)
{
    int idx = (int)(intptr_t)arg;
    h2_client c;
    if (h2c_connect(&c, endpoint)) {
        fprintf(stderr, "grpcbench: cannot connect to %s\n", endpoint);
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    char *body = xmalloc((size_t)size + 1);
    memset(body, 'x', (size_t)size);
    body[size] = 0;
    char client[32], id[40];
    snprintf(client, sizeof client, "grpcbench-%d", idx);
    for (uint64_t seq = 0; more(); seq++) {
        snprintf(id, sizeof id, "0A%06X%024" PRIX64, (unsigned)idx, seq);
        h2c_send_req x;
        h2c_send_init(&x, topic, id, body);
        h2_result r;
        int64_t t0 = us_now();
        bool answered = h2c_call(&c, &r, "SendMessage", client, &x.req.base, CALL_TIMEOUT_MS);
        int64_t us = us_now() - t0;
        if (answered && r.grpc_status == 0 && status_of(&r, &apache__rocketmq__v2__send_message_response__descriptor) ==
                                                  APACHE__ROCKETMQ__V2__CODE__OK) {
            atomic_fetch_add(&done_msgs, 1);
            sample(us);
        } else {
            atomic_fetch_add(&errors, 1);
        }
        if (answered) h2c_result_free(&r);
        if (!answered) break;
    }
    free(body);
    h2c_close(&c);
    return NULL;
}

/* One AckMessage of the N messages in R (ReceiveMessage responses from index 1). */
static bool ack_all(h2_client *c, const char *client, const h2_result *r, int n)
{
    Apache__Rocketmq__V2__AckMessageEntry *entries = xcalloc((size_t)n, sizeof *entries);
    Apache__Rocketmq__V2__AckMessageEntry **ptrs = xcalloc((size_t)n, sizeof *ptrs);
    Apache__Rocketmq__V2__ReceiveMessageResponse **msgs = xcalloc((size_t)n, sizeof *msgs);
    int k = 0;
    Apache__Rocketmq__V2__ReceiveMessageResponse *m;
    for (int i = 0; k < n && (m = (void *)h2c_message(r, &apache__rocketmq__v2__receive_message_response__descriptor, i));
         i++) {
        if (m->content_case != APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_MESSAGE) {
            apache__rocketmq__v2__receive_message_response__free_unpacked(m, NULL);
            continue;
        }
        apache__rocketmq__v2__ack_message_entry__init(&entries[k]);
        entries[k].message_id = m->message->system_properties->message_id;
        entries[k].receipt_handle = m->message->system_properties->receipt_handle;
        ptrs[k] = &entries[k];
        msgs[k++] = m;
    }
    Apache__Rocketmq__V2__Resource g = APACHE__ROCKETMQ__V2__RESOURCE__INIT, t = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    g.name = (char *)group;
    t.name = (char *)topic;
    Apache__Rocketmq__V2__AckMessageRequest req = APACHE__ROCKETMQ__V2__ACK_MESSAGE_REQUEST__INIT;
    req.group = &g;
    req.topic = &t;
    req.n_entries = (size_t)k;
    req.entries = ptrs;
    h2_result ar;
    bool ok = h2c_call(c, &ar, "AckMessage", client, &req.base, CALL_TIMEOUT_MS) &&
              status_of(&ar, &apache__rocketmq__v2__ack_message_response__descriptor) == APACHE__ROCKETMQ__V2__CODE__OK;
    h2c_result_free(&ar);
    for (int i = 0; i < k; i++) apache__rocketmq__v2__receive_message_response__free_unpacked(msgs[i], NULL);
    free(msgs), free(ptrs), free(entries);
    return ok;
}

static void *consumer(void *arg)
{
    int idx = (int)(intptr_t)arg;
    h2_client c;
    if (h2c_connect(&c, endpoint)) {
        atomic_fetch_add(&errors, 1);
        return NULL;
    }
    char client[32];
    snprintf(client, sizeof client, "grpcbench-c%d", idx);
    while (more()) {
        h2c_receive_req x;
        h2c_receive_init(&x, group, topic, "*", 1000, 30000);
        x.req.batch_size = 32;
        h2_result r;
        int64_t t0 = us_now();
        if (!h2c_call(&c, &r, "ReceiveMessage", client, &x.req.base, CALL_TIMEOUT_MS)) {
            atomic_fetch_add(&errors, 1);
            break;
        }
        int n = 0;
        Apache__Rocketmq__V2__ReceiveMessageResponse *m;
        for (int i = 0; (m = (void *)h2c_message(&r, &apache__rocketmq__v2__receive_message_response__descriptor, i));
             i++) {
            n += m->content_case == APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_MESSAGE;
            apache__rocketmq__v2__receive_message_response__free_unpacked(m, NULL);
        }
        if (n && ack_all(&c, client, &r, n)) {
            atomic_fetch_add(&done_msgs, n);
            sample(us_now() - t0);
        } else if (n) {
            atomic_fetch_add(&errors, 1);
        }
        h2c_result_free(&r);
    }
    h2c_close(&c);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: grpcbench [-m produce|consume] [-e host:port] [-t topic] [-g group] [-c threads]\n"
                    "                 [-s body bytes] [-d seconds] [-N messages]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "m:e:t:g:c:s:d:N:h")) != -1) {
        switch (opt) {
        case 'm': mode = optarg; break;
        case 'e': endpoint = optarg; break;
        case 't': topic = optarg; break;
        case 'g': group = optarg; break;
        case 'c': threads = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'd': duration_s = atoi(optarg); break;
        case 'N': max_msgs = atoll(optarg); break;
        default: usage();
        }
    }
    bool produce = !strcmp(mode, "produce");
    if ((!produce && strcmp(mode, "consume")) || threads < 1 || size < 1 || duration_s < 1) usage();
    samples = xcalloc(MAX_SAMPLES, sizeof *samples);
    pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
    int64_t start = mono_ms();
    deadline_ms = start + duration_s * 1000LL;
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, produce ? producer : consumer, (void *)(intptr_t)i);
    int64_t last = 0;
    for (int s = 1; mono_ms() < deadline_ms && (max_msgs < 0 || atomic_load(&done_msgs) < max_msgs); s++) {
        int64_t wait = start + s * 1000LL - mono_ms();
        if (wait > 0) usleep((useconds_t)wait * 1000);
        int64_t now = atomic_load(&done_msgs);
        printf("%3ds %s %" PRId64 " msg/s, errors %" PRId64 "\n", s, produce ? "sent" : "received", now - last,
               atomic_load(&errors));
        fflush(stdout);
        last = now;
    }
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    double secs = (double)(mono_ms() - start) / 1000.0;
    int64_t n = atomic_load(&n_samples) < MAX_SAMPLES ? atomic_load(&n_samples) : MAX_SAMPLES;
    qsort(samples, (size_t)n, sizeof *samples, cmp64);
#define PCT(p) (n ? samples[(int64_t)((double)(n - 1) * (p))] : 0)
    printf("RESULT mode=%s threads=%d size=%d msgs=%" PRId64 " secs=%.1f msg_per_s=%.0f errors=%" PRId64
           " call_p50_us=%" PRId64 " call_p99_us=%" PRId64 " call_p999_us=%" PRId64 " call_max_us=%" PRId64 "\n",
           mode, threads, size, atomic_load(&done_msgs), secs, (double)atomic_load(&done_msgs) / secs,
           atomic_load(&errors), PCT(0.5), PCT(0.99), PCT(0.999), n ? samples[n - 1] : 0);
    free(samples);
    free(tids);
    return atomic_load(&errors) && !atomic_load(&done_msgs) ? 1 : 0;
}
