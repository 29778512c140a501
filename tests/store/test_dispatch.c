/*
 * The dispatcher thread (store_dispatch.c, ASYNC_FLUSH): consume-queue and index
 * entries are written off the appending thread, in commit-log order; no entry is
 * visible before the record it points at is readable; a put that returned is
 * visible to the next read on any thread; the arrival hook (which wakes long
 * polls) runs for every record, on the dispatcher thread, in order, with no
 * reader asking. SYNC_FLUSH's rule (nothing visible before a sync covers it) is
 * test_sync_flush's.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "../check_run.h"
#include "store_test.h"

#define QUEUES 4
#define PER_QUEUE 600

typedef struct seen_arrival {
    int32_t qid;
    int64_t qoff;
    pthread_t thread;
} seen_arrival;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static seen_arrival arrivals[QUEUES * PER_QUEUE + 16];
static int n_arrivals;

static void on_arrival(void *arg, const char *topic, int32_t qid, int64_t qoff, int64_t tags, const char *props,
                       uint32_t plen, int64_t ts)
{
    (void)arg, (void)topic, (void)tags, (void)props, (void)plen, (void)ts;
    pthread_mutex_lock(&mu);
    if (n_arrivals < (int)(sizeof arrivals / sizeof arrivals[0]))
        arrivals[n_arrivals] = (seen_arrival){qid, qoff, pthread_self()};
    n_arrivals++;
    pthread_mutex_unlock(&mu);
}

/* Waits (10 s at most) until the hook has seen n records. */
static void wait_arrivals(int n)
{
    int64_t t0 = mono_ms();
    int got;
    for (;;) {
        pthread_mutex_lock(&mu);
        got = n_arrivals;
        pthread_mutex_unlock(&mu);
        if (got >= n || mono_ms() - t0 > 10000) break;
        usleep(1000);
    }
    ck_assert_msg(got == n, "the hook saw %d of %d arrivals", got, n);
}

static store *open_store(const char *dir)
{
    store_config cfg;
    test_config(&cfg, dir);
    cfg.mappedFileSizeCommitLog = 256 * 1024; /* several segments, blank ends crossed */
    cfg.mappedFileSizeConsumeQueue = 64 * 20;
    return test_open(&cfg);
}

static store *open_started(const char *dir)
{
    store *s = open_store(dir);
    n_arrivals = 0;
    store_set_arrival_cb(s, on_arrival, NULL);
    ck_assert_int_eq(store_start(s), RMQ_OK);
    return s;
}

/* One put whose body names its queue and the queue offset it will get. */
static void put_numbered(store *s, int qid, int64_t n)
{
    char body[64], key[32];
    snprintf(body, sizeof body, "q%d-%lld", qid, (long long)n);
    snprintf(key, sizeof key, "k%d-%lld", qid, (long long)n);
    store_put_entry e = test_put(s, "D", qid, body, "t", key);
    ck_assert_int_eq(e.queue_offset, n);
}

/* Reads one entry; FOUND must come with the whole record and the body put there. */
static int read_numbered(store *s, int qid, int64_t n, int64_t *phys)
{
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "D", qid, n, 1, NULL, &r), RMQ_OK);
    int st = r.status;
    if (st == STORE_GET_FOUND) {
        msg_record rec;
        const char *why;
        ck_assert_int_eq(msg_record_decode(r.msgs[0].data, r.msgs[0].len, &rec, &why), RMQ_OK);
        char want[64];
        snprintf(want, sizeof want, "q%d-%lld", qid, (long long)n);
        ck_assert_uint_eq(rec.body_len, strlen(want));
        ck_assert_msg(memcmp(rec.body, want, rec.body_len) == 0, "entry %d/%lld points at another record", qid,
                      (long long)n);
        ck_assert_int_eq(rec.queue_offset, n);
        if (phys) *phys = rec.phys_offset;
    }
    store_get_result_release(&r);
    return st;
}

START_TEST(test_dispatch_runs_off_the_appending_thread_in_commit_log_order)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir);
    /* Nothing reads while the puts run, so only the dispatcher thread dispatches. */
    for (int i = 0; i < PER_QUEUE; i++)
        for (int q = 0; q < QUEUES; q++) put_numbered(s, q, i);
    wait_arrivals(QUEUES * PER_QUEUE);
    int64_t last_phys = -1, next[QUEUES] = {0};
    for (int i = 0; i < n_arrivals; i++) {
        seen_arrival *a = &arrivals[i];
        ck_assert_msg(!pthread_equal(a->thread, pthread_self()), "arrival %d ran on the appending thread", i);
        ck_assert_msg(pthread_equal(a->thread, arrivals[0].thread), "arrivals on two threads");
        /* Per queue: every offset once, in order; across queues: commit-log order. */
        ck_assert_int_eq(a->qoff, next[a->qid]++);
        int64_t phys;
        ck_assert_int_eq(read_numbered(s, a->qid, a->qoff, &phys), STORE_GET_FOUND);
        ck_assert_int_gt(phys, last_phys);
        last_phys = phys;
    }
    for (int q = 0; q < QUEUES; q++) ck_assert_int_eq(store_max_offset_in_queue(s, "D", q), PER_QUEUE);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_a_put_that_returned_is_visible_to_the_next_read)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir);
    for (int i = 0; i < 500; i++) {
        put_numbered(s, 0, i);
        /* At once, on this thread, whether or not the dispatcher got there. */
        ck_assert_int_eq(store_max_offset_in_queue(s, "D", 0), i + 1);
        ck_assert_int_eq(read_numbered(s, 0, i, NULL), STORE_GET_FOUND);
        char key[32];
        snprintf(key, sizeof key, "k0-%d", i);
        store_query_result qr;
        store_query_by_key(s, "D", key, 4, 0, INT64_MAX, &qr);
        ck_assert_int_eq(qr.count, 1);
    }
    /* Readers dispatched some; the hook still sees each record once, in order. */
    wait_arrivals(500);
    for (int i = 0; i < 500; i++) ck_assert_int_eq(arrivals[i].qoff, i);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

typedef struct putter {
    store *s;
    int first_q;
} putter;

static _Atomic bool putting;

static void *put_main(void *arg)
{
    putter *p = arg;
    for (int i = 0; i < PER_QUEUE; i++)
        for (int q = p->first_q; q < p->first_q + QUEUES / 2; q++) put_numbered(p->s, q, i);
    return NULL;
}

/*
 * Two appending threads and a reader that follows every queue while they run: each
 * entry the reader finds points at its own complete record (never at bytes still
 * being written), the entries of a queue sit in increasing commit-log positions, and
 * a queue's max offset never goes back.
 */
START_TEST(test_a_reader_never_sees_an_entry_before_its_record)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir);
    putter p[2] = {{s, 0}, {s, QUEUES / 2}};
    pthread_t t[2];
    atomic_store(&putting, true);
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, put_main, &p[i]), 0);
    int64_t next[QUEUES] = {0}, last_phys[QUEUES], last_max[QUEUES] = {0};
    for (int q = 0; q < QUEUES; q++) last_phys[q] = -1;
    int64_t t0 = mono_ms();
    int done = 0;
    while (done < QUEUES && mono_ms() - t0 < 30000) {
        done = 0;
        for (int q = 0; q < QUEUES; q++) {
            int64_t max = store_max_offset_in_queue(s, "D", q);
            ck_assert_int_ge(max, last_max[q]);
            last_max[q] = max;
            int64_t phys;
            while (next[q] < PER_QUEUE && read_numbered(s, q, next[q], &phys) == STORE_GET_FOUND) {
                ck_assert_int_gt(phys, last_phys[q]);
                last_phys[q] = phys;
                next[q]++;
            }
            done += next[q] == PER_QUEUE;
        }
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int q = 0; q < QUEUES; q++) ck_assert_int_eq(next[q], PER_QUEUE);
    wait_arrivals(QUEUES * PER_QUEUE);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

/* A store closed right after its puts has every one of them in its queues on reopening. */
START_TEST(test_close_dispatches_what_the_thread_left)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir);
    for (int i = 0; i < 300; i++) put_numbered(s, 1, i);
    store_close(s);
    s = open_store(dir);
    ck_assert_int_eq(store_max_offset_in_queue(s, "D", 1), 300);
    ck_assert_int_eq(read_numbered(s, 1, 299, NULL), STORE_GET_FOUND);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

/*
 * Regression (store_truncate): records below the cut that dispatch had not reached
 * still hold their queue offsets, so the next put continues after them. A confirm gate
 * holds dispatch back deterministically; the dispatcher thread's lag did the same at
 * random (test_recovery's cut-while-running put got queue offset 0 or 1 instead of 10).
 */
START_TEST(test_truncate_keeps_queue_offsets_of_undispatched_records)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir);
    int64_t phys[20];
    for (int i = 0; i < 20; i++) {
        char body[32];
        snprintf(body, sizeof body, "q0-%d", i);
        store_put_entry e = test_put(s, "D", 0, body, "t", NULL);
        ck_assert_int_eq(e.queue_offset, i);
        phys[i] = e.phys_offset;
        if (i == 4) store_set_confirm_offset(s, phys[4]);   /* nothing from record 4 on is dispatched */
    }
    ck_assert_int_eq(store_max_offset_in_queue(s, "D", 0), 4);
    char err[256];
    ck_assert_int_eq(store_truncate(s, phys[15], err, sizeof err), RMQ_OK);
    store_put_entry n = test_put(s, "D", 0, "after the cut", "t", NULL);
    ck_assert_int_eq(n.phys_offset, phys[15]);
    ck_assert_int_eq(n.queue_offset, 15);
    store_set_confirm_offset(s, -1);
    ck_assert_int_eq(store_max_offset_in_queue(s, "D", 0), 16);
    ck_assert_int_eq(read_numbered(s, 0, 14, NULL), STORE_GET_FOUND);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store_dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dispatch_runs_off_the_appending_thread_in_commit_log_order);
    tcase_add_test(tc, test_a_put_that_returned_is_visible_to_the_next_read);
    tcase_add_test(tc, test_a_reader_never_sees_an_entry_before_its_record);
    tcase_add_test(tc, test_close_dispatches_what_the_thread_left);
    tcase_add_test(tc, test_truncate_keeps_queue_offsets_of_undispatched_records);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
