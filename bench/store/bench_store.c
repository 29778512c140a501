/*
 * bench_store: append throughput of the store with 1 KiB messages, for
 * ASYNC_FLUSH (one appender) and SYNC_FLUSH (appenders each waiting for
 * group commit), next to the raw sequential write speed of the same disk
 * measured with dd ... conv=fdatasync in the same run.
 *
 * usage: bench_store [dir] [messages] [sync_threads]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store.h"

#define MSG_SIZE 1024

static char body[MSG_SIZE];

typedef struct job {
    store *s;
    int count;
    bool wait;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool flushed;
} job;

static void on_flush(void *arg, bool ok)
{
    job *j = arg;
    if (!ok)
        fprintf(stderr, "flush timeout\n");
    pthread_mutex_lock(&j->mu);
    j->flushed = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static void *appender(void *arg)
{
    job *j = arg;
    store_msg m = {.topic = "BenchTopic", .body = (const uint8_t *)body, .body_len = MSG_SIZE,
                   .props = "TAGS\001bench", .props_len = 10};
    msg_host_parse(&m.born_host, "127.0.0.1:40000");
    for (int i = 0; i < j->count; i++) {
        store_put_entry e;
        store_put_result res = {.entries = &e};
        m.queue_id = i % 8;
        if (store_put(j->s, &m, 1, &res) != STORE_PUT_OK) {
            fprintf(stderr, "put failed: %s\n", res.reason);
            exit(1);
        }
        if (j->wait) {
            j->flushed = false;
            store_wait_flush(j->s, res.end_offset, 5000, on_flush, j);
            pthread_mutex_lock(&j->mu);
            while (!j->flushed)
                pthread_cond_wait(&j->cv, &j->mu);
            pthread_mutex_unlock(&j->mu);
        }
    }
    return NULL;
}

/* Returns MB/s of appending total messages with threads appenders. */
static double run(const char *root, store_flush_type type, int total, int threads)
{
    store_config cfg;
    store_config_defaults(&cfg);
    snprintf(cfg.storePathRootDir, sizeof(cfg.storePathRootDir), "%s/%s", root,
             type == STORE_SYNC_FLUSH ? "sync" : "async");
    cfg.flushDiskType = type;
    cfg.messageIndexEnable = false;
    char err[256];
    store *s = store_open(&cfg, err, sizeof(err));
    if (!s || store_start(s) != RMQ_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        exit(1);
    }
    job *jobs = calloc((size_t)threads, sizeof(*jobs));
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    int64_t t0 = mono_ms();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){.s = s, .count = total / threads, .wait = type == STORE_SYNC_FLUSH};
        pthread_mutex_init(&jobs[i].mu, NULL);
        pthread_cond_init(&jobs[i].cv, NULL);
        pthread_create(&tids[i], NULL, appender, &jobs[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    int64_t bytes = store_commitlog_max_offset(s);
    store_close(s);                    /* includes the final flush */
    double secs = (double)(mono_ms() - t0) / 1000.0;
    printf("%-11s %8d msgs %3d thread(s) %7.2f s %9.0f msg/s %8.1f MB/s\n",
           type == STORE_SYNC_FLUSH ? "SYNC_FLUSH" : "ASYNC_FLUSH", total, threads, secs,
           total / secs, bytes / secs / 1e6);
    free(jobs);
    free(tids);
    return bytes / secs / 1e6;
}

static double dd_speed(const char *root, int mib)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of='%s/dd.bin' bs=1M count=%d conv=fdatasync 2>/dev/null", root, mib);
    int64_t t0 = mono_ms();
    if (system(cmd) != 0) {
        fprintf(stderr, "dd failed\n");
        exit(1);
    }
    double secs = (double)(mono_ms() - t0) / 1000.0;
    snprintf(cmd, sizeof(cmd), "%s/dd.bin", root);
    unlink(cmd);
    double mbs = (double)mib * 1048576 / secs / 1e6;
    printf("%-11s %8d MiB              %7.2f s %19s %8.1f MB/s\n", "dd", mib, secs, "", mbs);
    return mbs;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/rmq-bench-XXXXXX";
    const char *root = argc > 1 ? argv[1] : mkdtemp(tmpl);
    int total = argc > 2 ? atoi(argv[2]) : 200000;
    int sync_threads = argc > 3 ? atoi(argv[3]) : 16;
    if (!root || mkdirs(root) != RMQ_OK) {
        perror("bench dir");
        return 1;
    }
    log_set_level(LOG_WARN);
    memset(body, 'b', sizeof(body));
    int mib = (int)((int64_t)total * (MSG_SIZE + 120) / 1048576) + 1;
    double raw = dd_speed(root, mib);
    double async = run(root, STORE_ASYNC_FLUSH, total, 1);
    double sync = run(root, STORE_SYNC_FLUSH, total, sync_threads);
    printf("ratio to dd: ASYNC_FLUSH %.2f, SYNC_FLUSH %.2f\n", async / raw, sync / raw);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/sync' '%s/async'", root, root);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", root);
    if (argc <= 1)
        rmdir(root);
    return 0;
}
