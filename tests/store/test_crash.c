/*
 * Crash test: a child appends with SYNC_FLUSH and reports every acknowledged
 * message through a pipe; the parent SIGKILLs it at a random moment, reopens
 * the store and checks that every acknowledged message is there, identical,
 * reachable through its consume queue and the index, and that the queues
 * agree with the commit log. Several rounds; appending continues each time.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "store_test.h"
#include "../check_run.h"

#define ROUNDS 6
#define QUEUES 4
#define TOPIC "Crash"

typedef struct ack {
    int32_t round, seq;
    int64_t phys;
    int32_t size;
    int64_t qoff;
} ack;

static void crash_config(store_config *cfg, const char *dir)
{
    test_config(cfg, dir);
    cfg->flushDiskType = STORE_SYNC_FLUSH;
    cfg->mappedFileSizeCommitLog = 32 * 1024;     /* rolls several times per round */
    cfg->maxHashSlotNum = 16;
    cfg->maxIndexNum = 200;
}

static int make_body(char *buf, int round, int seq)
{
    int n = snprintf(buf, 64, "r%d-s%d-", round, seq);
    int len = 60 + (seq * 37) % 400;
    for (int i = n; i < len; i++)
        buf[i] = (char)('a' + (i + seq) % 26);
    return len;
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, ok;
} waiter;

static void on_flush(void *arg, bool ok)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->ok = ok;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* The child: append until killed. Exits non-zero on any unexpected failure. */
static void run_child(const char *dir, int round, int fd)
{
    store_config cfg;
    crash_config(&cfg, dir);
    char err[256];
    store *s = store_open(&cfg, err, sizeof(err));
    if (!s || store_start(s) != RMQ_OK)
        _exit(2);
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int seq = 0;; seq++) {
        char body[512], props[64];
        int len = make_body(body, round, seq);
        int plen = snprintf(props, sizeof(props), "KEYS\001k%d-%d", round, seq);
        store_msg m = {.topic = TOPIC, .queue_id = seq % QUEUES, .body = (const uint8_t *)body,
                       .body_len = (uint32_t)len, .props = props, .props_len = (uint32_t)plen};
        msg_host_parse(&m.born_host, "10.0.0.9:4000");
        store_put_entry e;
        store_put_result res = {.entries = &e};
        if (store_put(s, &m, 1, &res) != STORE_PUT_OK)
            _exit(3);
        w.done = false;
        store_wait_flush(s, res.end_offset, 5000, on_flush, &w);
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (!w.ok)
            _exit(4);
        ack a = {.round = round, .seq = seq, .phys = e.phys_offset, .size = e.size, .qoff = e.queue_offset};
        if (write(fd, &a, sizeof(a)) != sizeof(a))
            _exit(5);
    }
}

static void verify(store *s, const ack *acks, int n)
{
    for (int i = 0; i < n; i++) {
        const ack *a = &acks[i];
        store_slice sl;
        ck_assert_msg(store_get_record(s, a->phys, &sl) == RMQ_OK, "acked r%d s%d at %lld missing",
                      a->round, a->seq, (long long)a->phys);
        msg_record r;
        const char *why;
        ck_assert_int_eq(msg_record_decode(sl.data, sl.len, &r, &why), RMQ_OK);
        char body[512];
        int len = make_body(body, a->round, a->seq);
        ck_assert(r.body_len == (uint32_t)len && memcmp(r.body, body, (size_t)len) == 0);
        ck_assert(r.queue_offset == a->qoff && (int)sl.len == a->size);
        int qid = r.queue_id;
        store_slice_release(&sl);

        store_get_result g;
        ck_assert_int_eq(store_get_messages(s, "g", TOPIC, qid, a->qoff, 1, NULL, &g), RMQ_OK);
        ck_assert_int_eq(g.status, STORE_GET_FOUND);
        ck_assert(g.msgs[0].phys_offset == a->phys);
        store_get_result_release(&g);

        char key[32];
        snprintf(key, sizeof(key), "k%d-%d", a->round, a->seq);
        store_query_result q;
        store_query_by_key(s, TOPIC, key, 64, 0, INT64_MAX, &q);
        bool found = false;
        for (int k = 0; k < q.count; k++)
            found |= q.offsets[k] == a->phys;
        ck_assert_msg(found, "index lost %s", key);
    }
    /* Every consume-queue entry points at a record that says it has that queue offset. */
    for (int qid = 0; qid < QUEUES; qid++) {
        int64_t off = store_min_offset_in_queue(s, TOPIC, qid), max = store_max_offset_in_queue(s, TOPIC, qid);
        while (off < max) {
            store_get_result g;
            ck_assert_int_eq(store_get_messages(s, "g", TOPIC, qid, off, 32, NULL, &g), RMQ_OK);
            ck_assert_int_eq(g.status, STORE_GET_FOUND);
            for (int k = 0; k < g.count; k++) {
                msg_record r;
                const char *why;
                ck_assert_int_eq(msg_record_decode(g.msgs[k].data, g.msgs[k].len, &r, &why), RMQ_OK);
                ck_assert(r.queue_offset == off + k && r.queue_id == qid);
            }
            off = g.next_begin_offset;
            store_get_result_release(&g);
        }
    }
}

START_TEST(test_sigkill_loses_nothing_acknowledged)
{
    char *dir = test_mkdtemp();
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    ack *acks = NULL;
    int n = 0, cap = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(p[0]);
            run_child(dir, round, p[1]);
        }
        close(p[1]);
        int64_t kill_at = mono_ms() + 150 + rand() % 400;
        bool killed = false;
        for (;;) {
            int64_t left = kill_at - mono_ms();
            if (!killed && left <= 0) {
                kill(pid, SIGKILL);
                killed = true;
            }
            struct pollfd pfd = {.fd = p[0], .events = POLLIN};
            poll(&pfd, 1, killed ? 1000 : (int)(left > 0 ? left : 0));
            if (!(pfd.revents & (POLLIN | POLLHUP)))
                continue;
            ack a;
            ssize_t got = read(p[0], &a, sizeof(a));
            if (got == 0)
                break;                  /* child gone, pipe drained */
            ck_assert_int_eq((int)got, (int)sizeof(a));
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                acks = realloc(acks, (size_t)cap * sizeof(*acks));
            }
            acks[n++] = a;
        }
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "child failed on its own (status %d, seed %u)", status, seed);

        store_config cfg;
        crash_config(&cfg, dir);
        store *s = test_open(&cfg);
        verify(s, acks, n);
        store_close(s);
    }
    ck_assert_msg(n > ROUNDS * 10, "only %d messages acknowledged", n);
    free(acks);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("crash");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sigkill_loses_nothing_acknowledged);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
