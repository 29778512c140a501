/*
 * SYNC_FLUSH group commit: no waiting put is answered before a sync that covers it
 * has returned. The test is linked with -Wl,--wrap=msync, so every msync the store
 * makes is seen here with its exact range; the range ends at the segment's write
 * position read before the call, so a range holding a record proves the record was
 * written before that sync began. Each answer is checked against the syncs that had
 * returned by then, while several threads append and several syncs overlap.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "store_test.h"
#include "../check_run.h"

int __real_msync(void *addr, size_t len, int flags);
int __wrap_msync(void *addr, size_t len, int flags);

typedef struct synced {
    uintptr_t addr;
    size_t len;
} synced;

static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static synced *syncs;
static int n_syncs, cap_syncs;
static _Atomic int in_flight, max_in_flight;

int __wrap_msync(void *addr, size_t len, int flags)
{
    int now = ++in_flight;
    for (int m = max_in_flight; now > m && !atomic_compare_exchange_weak(&max_in_flight, &m, now);) {
    }
    int rc = __real_msync(addr, len, flags);
    in_flight--;
    if (rc == 0) {
        pthread_mutex_lock(&sync_mu);
        if (n_syncs == cap_syncs) {
            cap_syncs = cap_syncs ? cap_syncs * 2 : 1024;
            syncs = xrealloc(syncs, (size_t)cap_syncs * sizeof *syncs);
        }
        syncs[n_syncs++] = (synced){(uintptr_t)addr, len};
        pthread_mutex_unlock(&sync_mu);
    }
    return rc;
}

/* Where commit-log offset `off` is mapped: in the segment named by its start offset, from
 * /proc/self/maps. Every mapping of it (the store syncs through a read-only mapping per
 * group-commit thread besides the one it writes through); returns how many. */
static int commitlog_addresses(int64_t off, int64_t seg_size, uintptr_t out[8])
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int found = 0;
    while (found < 8 && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char path[768] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %767s", &lo, &hi, path) < 3) continue;
        const char *name = strstr(path, "/commitlog/");
        if (!name) continue;
        int64_t from = strtoll(name + strlen("/commitlog/"), NULL, 10);
        if (off >= from && off < from + seg_size) out[found++] = lo + (uintptr_t)(off - from);
    }
    fclose(f);
    ck_assert_msg(found, "offset %" PRId64 " is not mapped", off);
    return found;
}

typedef struct answer_check {
    int64_t start, end;
    int64_t seg_size;
    _Atomic int *answered, *early, *timed_out;
} answer_check;

/* The waiter's callback, on a group-commit thread. */
static void on_durable(void *arg, bool flushed)
{
    answer_check *c = arg;
    if (!flushed) {
        (*c->timed_out)++;
    } else {
        uintptr_t at[8];
        int n = commitlog_addresses(c->start, c->seg_size, at);
        bool covered = false;
        pthread_mutex_lock(&sync_mu);
        for (int m = 0; m < n && !covered; m++) {
            uintptr_t lo = at[m], hi = lo + (uintptr_t)(c->end - c->start);
            for (int i = 0; i < n_syncs && !covered; i++)
                covered = syncs[i].addr <= lo && hi <= syncs[i].addr + syncs[i].len;
        }
        pthread_mutex_unlock(&sync_mu);
        if (!covered) (*c->early)++;
    }
    (*c->answered)++;
    free(c);
}

enum { WRITERS = 4, PUTS = 300 };

typedef struct writer {
    store *s;
    int id;
    int64_t seg_size;
    _Atomic int answered, early, timed_out;
} writer;

static void *write_and_wait(void *arg)
{
    writer *w = arg;
    char body[3001];
    unsigned seed = (unsigned)w->id;
    for (int i = 0; i < PUTS; i++) {
        /* 100..3000 bytes: 64 KiB segments roll over every few dozen records. */
        int len = 100 + (int)(rand_r(&seed) % 2901);
        memset(body, 'a' + w->id, (size_t)len);
        body[len] = 0;
        store_put_entry e = test_put(w->s, "GroupCommit", w->id, body, "t", NULL);
        answer_check *c = xmalloc(sizeof *c);
        *c = (answer_check){e.phys_offset, e.phys_offset + e.size, w->seg_size, &w->answered, &w->early,
                            &w->timed_out};
        store_wait_flush(w->s, c->end, 60000, on_durable, c);
    }
    return NULL;
}

START_TEST(test_no_answer_before_its_sync)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.flushDiskType = STORE_SYNC_FLUSH;
    store *s = test_open(&cfg);
    ck_assert_int_eq(store_start(s), RMQ_OK);
    writer ws[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        ws[i] = (writer){.s = s, .id = i, .seg_size = cfg.mappedFileSizeCommitLog};
        ck_assert_int_eq(pthread_create(&th[i], NULL, write_and_wait, &ws[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) pthread_join(th[i], NULL);
    /* Every put gets its answer; store_close answers any still waiting, as failed. */
    for (int i = 0; i < WRITERS; i++)
        while (ws[i].answered < PUTS) usleep(1000);
    int early = 0, timed_out = 0;
    for (int i = 0; i < WRITERS; i++) {
        early += ws[i].early;
        timed_out += ws[i].timed_out;
    }
    printf("group commit: %d puts, %d msyncs, at most %d at once\n", WRITERS * PUTS, n_syncs,
           (int)max_in_flight);
    ck_assert_int_eq(early, 0);
    ck_assert_int_eq(timed_out, 0);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("group_commit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_no_answer_before_its_sync);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
