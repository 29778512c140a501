/*
 * SYNC_FLUSH and the disk: what a consumer may read and what a producer is told.
 * The test is linked with -Wl,--wrap=msync,--wrap=pwrite, so it can hold every sync the
 * store makes or make it fail with EIO (as the kernel does when writeback fails), and
 * fail the direct writes with which the store writes failed pages again.
 *
 *  - Apache #8239: nothing is readable through a consume queue (max offset, getMessage,
 *    the arrival hook that wakes long polls) before a sync covers it; by the time the
 *    waiting put is answered it is readable. ASYNC_FLUSH still shows a put at once.
 *  - Apache #5235: a failed sync answers the waiting put as not flushed (at once, not
 *    after the timeout), never as flushed; puts are refused while the commit log cannot
 *    be synced; once syncs succeed again the store takes puts, the message whose sync
 *    failed becomes readable, and everything is intact after a reopen.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "store_test.h"

int __real_msync(void *addr, size_t len, int flags);
int __wrap_msync(void *addr, size_t len, int flags);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);

enum { SYNC_NORMAL, SYNC_HOLD, SYNC_FAIL };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int sync_mode = SYNC_NORMAL;
static int held, failed;

int __wrap_msync(void *addr, size_t len, int flags)
{
    pthread_mutex_lock(&mu);
    while (sync_mode == SYNC_HOLD) {
        held++;
        pthread_cond_broadcast(&cv);
        pthread_cond_wait(&cv, &mu);
        held--;
    }
    bool fail = sync_mode == SYNC_FAIL;
    if (fail) failed++;
    pthread_mutex_unlock(&mu);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return __real_msync(addr, len, flags);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    pthread_mutex_lock(&mu);
    bool fail = sync_mode == SYNC_FAIL && (fcntl(fd, F_GETFL) & O_DIRECT);
    pthread_mutex_unlock(&mu);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return __real_pwrite(fd, buf, n, off);
}

static void set_mode(int m)
{
    pthread_mutex_lock(&mu);
    sync_mode = m;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* What the waiter and the arrival hook saw (they run on store threads). */
typedef struct seen {
    int answers, flushed;
    int64_t max_at_answer;   /* queue max offset when the answer came */
    int arrivals;
    store *s;
} seen;
static seen w;

static void on_flush(void *arg, bool ok)
{
    (void)arg;
    int64_t max = store_max_offset_in_queue(w.s, "V", 0);
    pthread_mutex_lock(&mu);
    w.answers++;
    w.flushed += ok;
    w.max_at_answer = max;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_arrival(void *arg, const char *topic, int32_t qid, int64_t qoff, int64_t tags, const char *props,
                       uint32_t plen, int64_t ts)
{
    (void)arg, (void)topic, (void)qid, (void)qoff, (void)tags, (void)props, (void)plen, (void)ts;
    pthread_mutex_lock(&mu);
    w.arrivals++;
    pthread_mutex_unlock(&mu);
}

/* Waits (5 s at most) until *counter reaches n; returns the ms it took. */
static int64_t wait_count(int *counter, int n)
{
    int64_t t0 = mono_ms();
    pthread_mutex_lock(&mu);
    while (*counter < n && mono_ms() - t0 < 5000) {
        pthread_mutex_unlock(&mu);
        usleep(1000);
        pthread_mutex_lock(&mu);
    }
    int got = *counter;
    pthread_mutex_unlock(&mu);
    ck_assert_msg(got >= n, "waited 5 s for %d, have %d", n, got);
    return mono_ms() - t0;
}

static store *open_started(const char *dir, store_flush_type ft)
{
    store_config cfg;
    test_config(&cfg, dir);
    cfg.flushDiskType = ft;
    store *s = test_open(&cfg);
    memset(&w, 0, sizeof w);
    w.s = s;
    store_set_arrival_cb(s, on_arrival, NULL);
    ck_assert_int_eq(store_start(s), RMQ_OK);
    return s;
}

static int get_status(store *s, int64_t offset, const char *want_body)
{
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "V", 0, offset, 32, NULL, &r), RMQ_OK);
    int st = r.status;
    if (st == STORE_GET_FOUND && want_body) {
        msg_record rec;
        const char *why;
        ck_assert_int_eq(msg_record_decode(r.msgs[0].data, r.msgs[0].len, &rec, &why), RMQ_OK);
        ck_assert_int_eq(rec.body_len, strlen(want_body));
        ck_assert(memcmp(rec.body, want_body, rec.body_len) == 0);
    }
    store_get_result_release(&r);
    return st;
}

START_TEST(test_unflushed_is_not_readable)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir, STORE_SYNC_FLUSH);
    set_mode(SYNC_HOLD);
    store_put_entry e = test_put(s, "V", 0, "not yet durable", "t", NULL);
    store_wait_flush(s, e.phys_offset + e.size, 5000, on_flush, NULL);
    wait_count(&held, 1);       /* a sync covering it has begun and is held */
    usleep(50 * 1000);
    ck_assert_int_eq(store_max_offset_in_queue(s, "V", 0), 0);
    ck_assert_int_ne(get_status(s, 0, NULL), STORE_GET_FOUND);
    pthread_mutex_lock(&mu);
    ck_assert_int_eq(w.arrivals, 0);
    ck_assert_int_eq(w.answers, 0);
    pthread_mutex_unlock(&mu);
    set_mode(SYNC_NORMAL);
    wait_count(&w.answers, 1);
    ck_assert_int_eq(w.flushed, 1);
    ck_assert_int_eq(w.max_at_answer, 1);   /* readable before the put was answered */
    /* The hook runs on the thread that dispatched, which need not be the one answering. */
    wait_count(&w.arrivals, 1);
    ck_assert_int_eq(get_status(s, 0, "not yet durable"), STORE_GET_FOUND);
    store_close(s);

    /* ASYNC_FLUSH acknowledges without a sync and shows the put at once, as Apache does. */
    s = open_started(dir, STORE_ASYNC_FLUSH);
    set_mode(SYNC_HOLD);
    test_put(s, "V", 0, "async", "t", NULL);
    ck_assert_int_eq(store_max_offset_in_queue(s, "V", 0), 2);
    ck_assert_int_eq(get_status(s, 1, "async"), STORE_GET_FOUND);
    set_mode(SYNC_NORMAL);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_failed_sync_is_never_acknowledged)
{
    char *dir = test_mkdtemp();
    store *s = open_started(dir, STORE_SYNC_FLUSH);
    store_put_entry a = test_put(s, "V", 0, "before the fault", "t", NULL);
    store_wait_flush(s, a.phys_offset + a.size, 5000, on_flush, NULL);
    wait_count(&w.answers, 1);
    ck_assert_int_eq(w.flushed, 1);

    set_mode(SYNC_FAIL);
    store_put_entry b = test_put(s, "V", 0, "during the fault", "t", NULL);
    store_wait_flush(s, b.phys_offset + b.size, 5000, on_flush, NULL);
    int64_t ms = wait_count(&w.answers, 2);
    ck_assert_int_eq(w.flushed, 1);             /* answered as not flushed ... */
    ck_assert_msg(ms < 2000, "the failed sync was answered after %lld ms", (long long)ms);  /* ... without the timeout */
    ck_assert_int_eq(store_max_offset_in_queue(s, "V", 0), 1);
    ck_assert_int_ne(get_status(s, 1, NULL), STORE_GET_FOUND);

    /* Refused while syncs fail. */
    store_msg m = {.topic = "V", .queue_id = 0, .body = (const uint8_t *)"x", .body_len = 1};
    store_put_entry e;
    store_put_result res = {.entries = &e};
    ck_assert_int_eq(store_put(s, &m, 1, &res), STORE_PUT_SERVICE_NOT_AVAILABLE);
    ck_assert_str_eq(res.reason, "commit log flush failed");
    ck_assert_int_gt(failed, 0);

    /* The disk is back: the flush threads' retry gets B onto it; puts are taken again. */
    set_mode(SYNC_NORMAL);
    int64_t t0 = mono_ms();
    while (store_max_offset_in_queue(s, "V", 0) < 2 && mono_ms() - t0 < 5000) usleep(1000);
    ck_assert_int_eq(store_max_offset_in_queue(s, "V", 0), 2);
    ck_assert_int_ge(store_commitlog_flushed_offset(s), b.phys_offset + b.size);
    store_put_entry c = test_put(s, "V", 0, "after the fault", "t", NULL);
    store_wait_flush(s, c.phys_offset + c.size, 5000, on_flush, NULL);
    wait_count(&w.answers, 3);
    ck_assert_int_eq(w.flushed, 2);
    store_close(s);

    s = open_started(dir, STORE_SYNC_FLUSH);
    ck_assert_int_eq(get_status(s, 0, "before the fault"), STORE_GET_FOUND);
    ck_assert_int_eq(get_status(s, 1, "during the fault"), STORE_GET_FOUND);
    ck_assert_int_eq(get_status(s, 2, "after the fault"), STORE_GET_FOUND);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("sync_flush");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unflushed_is_not_readable);
    tcase_add_test(tc, test_failed_sync_is_never_acknowledged);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed_n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed_n ? EXIT_FAILURE : EXIT_SUCCESS;
}
