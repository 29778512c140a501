/* Consume queue: entry layout on disk, file roll, reads by offset, lookups by time. */
#include "store_test.h"
#include "../check_run.h"

static int64_t fake_now;
static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

START_TEST(test_entry_layout_and_roll)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.mappedFileSizeConsumeQueue = 5 * 20;       /* 5 entries per file */
    store *s = test_open(&cfg);
    store_put_entry e[12];
    for (int i = 0; i < 12; i++)
        e[i] = test_put(s, "CQ", 3, "body", i == 0 ? "TagA" : NULL, NULL);
    store_close(s);

    size_t n;
    char *f0 = test_path(dir, "consumequeue/CQ/3/00000000000000000000");
    char *f1 = test_path(dir, "consumequeue/CQ/3/00000000000000000100");
    char *f2 = test_path(dir, "consumequeue/CQ/3/00000000000000000200");
    ck_assert(test_file_size(f0) == 100 && test_file_size(f1) == 100 && test_file_size(f2) == 100);
    uint8_t *raw = (uint8_t *)read_file(f0, &n);
    /* entry: commit-log offset int64, size int32, tagsCode int64 */
    ck_assert(get_be64(raw) == 0);
    ck_assert_uint_eq(get_be32(raw + 8), (uint32_t)e[0].size);
    ck_assert(get_be64(raw + 12) == 2598919);      /* "TagA".hashCode() */
    ck_assert(get_be64(raw + 20) == (uint64_t)e[1].phys_offset);
    ck_assert(get_be64(raw + 32) == 0);            /* no tag: tagsCode 0 */
    free(raw);
    raw = (uint8_t *)read_file(f2, &n);
    ck_assert(get_be64(raw + 20) == (uint64_t)e[11].phys_offset);   /* offset 11 = file 2, slot 1 */
    ck_assert(get_be64(raw + 40) == 0 && get_be32(raw + 48) == 0);  /* end: all-zero entry */
    free(raw);

    s = test_open(&cfg);
    ck_assert(store_max_offset_in_queue(s, "CQ", 3) == 12);
    ck_assert(store_min_offset_in_queue(s, "CQ", 3) == 0);
    /* A read stops at the end of a consume-queue file, like getIndexBuffer. */
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "CQ", 3, 3, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.count, 2);
    ck_assert(r.next_begin_offset == 5);
    ck_assert(r.msgs[0].phys_offset == e[3].phys_offset);
    store_get_result_release(&r);
    ck_assert_int_eq(store_get_messages(s, "g", "CQ", 3, 5, 32, NULL, &r), RMQ_OK);
    ck_assert(r.count == 5 && r.msgs[4].phys_offset == e[9].phys_offset);
    store_get_result_release(&r);
    /* The queue counter continues after a restart. */
    ck_assert(test_put(s, "CQ", 3, "more", NULL, NULL).queue_offset == 12);
    store_close(s);
    free(f0);
    free(f1);
    free(f2);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_offset_by_time)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.clock_ms = fake_clock;
    store *s = test_open(&cfg);
    int64_t t0 = 1700000000000LL;
    for (int i = 0; i < 10; i++) {
        fake_now = t0 + i * 1000;
        test_put(s, "TT", 0, "b", NULL, NULL);
    }
    ck_assert(store_offset_by_time(s, "TT", 0, t0 + 4000) == 4);      /* exact */
    ck_assert(store_offset_by_time(s, "TT", 0, t0 + 4200) == 4);      /* closest: 4 */
    ck_assert(store_offset_by_time(s, "TT", 0, t0 + 4800) == 5);      /* closest: 5 */
    ck_assert(store_offset_by_time(s, "TT", 0, t0 - 50000) == 0);     /* before all */
    ck_assert(store_offset_by_time(s, "TT", 0, t0 + 99000) == 9);     /* after all: the last */
    ck_assert(store_offset_by_time(s, "none", 0, t0) == 0);
    ck_assert(store_earliest_message_time(s, "TT", 0) == t0);
    ck_assert(store_message_store_time(s, "TT", 0, 7) == t0 + 7000);
    ck_assert(store_message_store_time(s, "TT", 0, 10) == -1);
    ck_assert(store_earliest_message_time(s, "none", 0) == -1);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

typedef struct names {
    int n;
    char seen[8][32];
} names;

static void collect(void *arg, const char *topic, int32_t qid)
{
    names *v = arg;
    snprintf(v->seen[v->n++], 32, "%s/%d", topic, qid);
}

START_TEST(test_list_and_delete_topic)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    test_put(s, "A", 0, "x", NULL, NULL);
    test_put(s, "A", 1, "x", NULL, NULL);
    test_put(s, "B", 0, "x", NULL, NULL);
    names v = {0};
    store_foreach_queue(s, collect, &v);
    ck_assert_int_eq(v.n, 3);
    store_delete_topic(s, "A");
    v.n = 0;
    store_foreach_queue(s, collect, &v);
    ck_assert_int_eq(v.n, 1);
    ck_assert_str_eq(v.seen[0], "B/0");
    char *adir = test_path(dir, "consumequeue/A");
    ck_assert_int_ne(access(adir, F_OK), 0);
    /* The topic starts over, as after Apache's deleteTopics. */
    ck_assert(test_put(s, "A", 0, "x", NULL, NULL).queue_offset == 0);
    store_close(s);
    free(adir);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("consume_queue");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_entry_layout_and_roll);
    tcase_add_test(tc, test_offset_by_time);
    tcase_add_test(tc, test_list_and_delete_topic);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
