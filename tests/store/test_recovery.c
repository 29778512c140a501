/* Recovery: torn tail, bad CRC, dirty consume-queue entries, abnormal rebuild,
 * a cut of a running store (store_truncate), and loading a store directory
 * written by hand in Apache's layout. */
#include <fcntl.h>

#include "store_test.h"
#include "../check_run.h"

static void touch_abort(const char *dir)
{
    char *p = test_path(dir, "abort");
    ck_assert_int_eq(write_file_atomic(p, "", 0), RMQ_OK);
    free(p);
}

/* Applies fn to the bytes of a store file. */
static void edit_file(const char *dir, const char *rel, void (*fn)(uint8_t *data, size_t len, void *arg), void *arg)
{
    char *p = test_path(dir, rel);
    size_t n;
    uint8_t *data = (uint8_t *)read_file(p, &n);
    ck_assert_ptr_nonnull(data);
    fn(data, n, arg);
    int fd = open(p, O_WRONLY);
    ck_assert_int_eq((int)pwrite(fd, data, n, 0), (int)n);
    close(fd);
    free(data);
    free(p);
}

typedef struct span { int64_t at; int64_t len; uint8_t xor; } span;

static void zero_span(uint8_t *d, size_t n, void *arg)
{
    span *sp = arg;
    ck_assert(sp->at + sp->len <= (int64_t)n);
    memset(d + sp->at, 0, (size_t)sp->len);
}

static void flip_byte(uint8_t *d, size_t n, void *arg)
{
    span *sp = arg;
    ck_assert(sp->at < (int64_t)n);
    d[sp->at] ^= 0x55;
}

static void fill_five(const store_config *cfg, store_put_entry e[5])
{
    store *s = test_open(cfg);
    for (int i = 0; i < 5; i++)
        e[i] = test_put(s, "R", 0, "payload-payload", NULL, "rk");
    store_close(s);
}

START_TEST(test_torn_tail_recovers_to_last_whole_record)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store_put_entry e[5];
    fill_five(&cfg, e);
    /* The last record lost its second half (never reached the disk). */
    span cut = {.at = e[4].phys_offset + e[4].size / 2, .len = e[4].size - e[4].size / 2};
    edit_file(dir, "commitlog/00000000000000000000", zero_span, &cut);
    touch_abort(dir);
    store *s = test_open(&cfg);
    ck_assert(store_commitlog_max_offset(s) == e[4].phys_offset);
    ck_assert(store_max_offset_in_queue(s, "R", 0) == 4);          /* its CQ entry is gone too */
    store_slice sl;
    ck_assert_int_eq(store_get_record(s, e[4].phys_offset, &sl), RMQ_ERR);
    /* Appending continues at the cut, with the next queue offset. */
    store_put_entry n = test_put(s, "R", 0, "x", NULL, NULL);
    ck_assert(n.phys_offset == e[4].phys_offset && n.queue_offset == 4);
    store_close(s);
    /* The torn bytes after the new, shorter record were cleared. */
    char *seg = test_path(dir, "commitlog/00000000000000000000");
    size_t len;
    uint8_t *raw = (uint8_t *)read_file(seg, &len);
    for (int64_t i = n.phys_offset + n.size; i < e[4].phys_offset + e[4].size; i++)
        ck_assert_int_eq(raw[i], 0);
    free(raw);
    free(seg);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_bad_crc_recovers_to_last_whole_record)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store_put_entry e[5];
    fill_five(&cfg, e);
    span body = {.at = e[3].phys_offset + 88};                      /* first body byte */
    edit_file(dir, "commitlog/00000000000000000000", flip_byte, &body);
    /* Without CRC checking the record still parses and is kept. */
    cfg.checkCRCOnRecover = false;
    store *s = test_open(&cfg);
    ck_assert(store_commitlog_max_offset(s) == e[4].phys_offset + e[4].size);
    store_close(s);
    cfg.checkCRCOnRecover = true;
    s = test_open(&cfg);                                             /* normal recovery checks too */
    ck_assert(store_commitlog_max_offset(s) == e[3].phys_offset);
    ck_assert(store_max_offset_in_queue(s, "R", 0) == 3);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_abnormal_rebuilds_queue_and_index)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    store_put_entry e[20];
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%d", i);
        e[i] = test_put(s, "AB", 1, "body", "TagA", key);
    }
    store_close(s);
    /* The consume queue lost entries 10.. and the index vanished. */
    span lost = {.at = 10 * 20, .len = 10 * 20};
    edit_file(dir, "consumequeue/AB/1/00000000000000000000", zero_span, &lost);
    char *idx = test_path(dir, "index");
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", idx);
    ck_assert_int_eq(system(cmd), 0);
    free(idx);
    touch_abort(dir);

    s = test_open(&cfg);
    ck_assert(store_max_offset_in_queue(s, "AB", 1) == 20);
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "AB", 1, 10, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.count, 10);
    for (int i = 0; i < 10; i++)
        ck_assert(r.msgs[i].phys_offset == e[10 + i].phys_offset);
    store_get_result_release(&r);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%d", i);
        store_query_result q;
        store_query_by_key(s, "AB", key, 32, 0, INT64_MAX, &q);
        ck_assert_int_eq(q.count, 1);
        ck_assert(q.offsets[0] == e[i].phys_offset);
    }
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_queue_entries_past_commitlog_end_dropped)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store_put_entry e[5];
    fill_five(&cfg, e);
    /* The commit log lost its last two records entirely (OS crash before flush). */
    span gone = {.at = e[3].phys_offset, .len = e[4].phys_offset + e[4].size - e[3].phys_offset};
    edit_file(dir, "commitlog/00000000000000000000", zero_span, &gone);
    touch_abort(dir);
    store *s = test_open(&cfg);
    ck_assert(store_max_offset_in_queue(s, "R", 0) == 3);
    store_query_result q;
    ck_assert(test_put(s, "R", 0, "x", NULL, NULL).queue_offset == 3);
    store_query_by_key(s, "R", "rk", 32, 0, INT64_MAX, &q);
    ck_assert_int_ge(q.count, 3);
    store_close(s);
    char *cq = test_path(dir, "consumequeue/R/0/00000000000000000000");
    size_t n;
    uint8_t *raw = (uint8_t *)read_file(cq, &n);
    ck_assert(get_be64(raw + 4 * 20) == 0 && get_be32(raw + 4 * 20 + 8) == 0);   /* entry 4 cleared */
    free(raw);
    free(cq);
    test_rmrf(dir);
}
END_TEST

/* One record in Apache's layout, byte by byte (docs/message.md), IPv4 hosts. */
/*
 * store_truncate on a running store (flush, queue-flush and retention threads
 * started), as a master demoted while it runs needs it (docs/ha.md, "Epochs
 * and truncation"): the commit log cut back to a record boundary two
 * segments back, later segments and queue entries gone, an offset inside a
 * record refused, appends continuing at the cut with the next queue offset,
 * and a restart reading the cut log back.
 */
START_TEST(test_cut_while_running_then_append_and_restart)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.flushIntervalCommitLog = 1;   /* the flush threads run all along */
    cfg.flushIntervalConsumeQueue = 1;
    store *s = test_open(&cfg);
    ck_assert_int_eq(store_start(s), RMQ_OK);
    char body[2048];
    memset(body, 'b', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    store_put_entry e[100];
    for (int i = 0; i < 100; i++) e[i] = test_put(s, i % 2 ? "T" : "U", 0, body, NULL, NULL);
    ck_assert_int_ge(e[99].phys_offset, 2 * cfg.mappedFileSizeCommitLog);   /* three segments */
    int cut = 20;                                                            /* in the first segment */
    ck_assert_int_lt(e[cut].phys_offset, cfg.mappedFileSizeCommitLog);
    char err[256];
    ck_assert_int_eq(store_truncate(s, e[cut].phys_offset + 7, err, sizeof err), RMQ_ERR);
    ck_assert_msg(strstr(err, "record"), "%s", err);
    ck_assert_int_eq(store_commitlog_max_offset(s), e[99].phys_offset + e[99].size);   /* untouched */
    ck_assert_int_eq(store_truncate(s, e[cut].phys_offset, err, sizeof err), RMQ_OK);
    ck_assert_int_eq(store_commitlog_max_offset(s), e[cut].phys_offset);
    ck_assert_int_eq(store_max_offset_in_queue(s, "U", 0), cut / 2);
    ck_assert_int_eq(store_max_offset_in_queue(s, "T", 0), cut / 2);
    store_slice sl;
    ck_assert_int_eq(store_get_record(s, e[cut].phys_offset, &sl), RMQ_ERR);
    ck_assert_int_eq(store_get_record(s, e[cut - 1].phys_offset, &sl), RMQ_OK);
    store_slice_release(&sl);
    /* Appends continue at the cut, queue offsets too; the later segments went. */
    store_put_entry n = test_put(s, "U", 0, "again", NULL, NULL);
    ck_assert_int_eq(n.phys_offset, e[cut].phys_offset);
    ck_assert_int_eq(n.queue_offset, cut / 2);
    char *seg2 = test_path(dir, "commitlog/00000000000000131072");
    ck_assert_int_ne(access(seg2, F_OK), 0);
    free(seg2);
    usleep(50 * 1000);   /* the flushers go over the cut log */
    store_close(s);
    s = test_open(&cfg);
    ck_assert_int_eq(store_commitlog_max_offset(s), n.phys_offset + n.size);
    ck_assert_int_eq(store_max_offset_in_queue(s, "U", 0), cut / 2 + 1);
    ck_assert_int_eq(store_max_offset_in_queue(s, "T", 0), cut / 2);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

static size_t apache_record(uint8_t *b, int64_t phys, int64_t qoff, int64_t store_ts, const char *body,
                            const char *topic, const char *props)
{
    size_t bl = strlen(body), tl = strlen(topic), pl = strlen(props);
    size_t total = 84 + 4 + bl + 1 + tl + 2 + pl, o = 0;
    put_be32(b + o, (uint32_t)total); o += 4;
    put_be32(b + o, 0xDAA320A7u); o += 4;
    put_be32(b + o, (uint32_t)rmq_crc32(body, bl)); o += 4;
    put_be32(b + o, 0); o += 4;                      /* queue id */
    put_be32(b + o, 0); o += 4;                      /* flag */
    put_be64(b + o, (uint64_t)qoff); o += 8;
    put_be64(b + o, (uint64_t)phys); o += 8;
    put_be32(b + o, 0); o += 4;                      /* sysflag */
    put_be64(b + o, (uint64_t)store_ts - 5); o += 8;
    memcpy(b + o, "\x7f\x00\x00\x01\x00\x00\xc3\x50", 8); o += 8;   /* 127.0.0.1:50000 */
    put_be64(b + o, (uint64_t)store_ts); o += 8;
    memcpy(b + o, "\x7f\x00\x00\x01\x00\x00\x2a\x9f", 8); o += 8;   /* 127.0.0.1:10911 */
    put_be32(b + o, 0); o += 4;
    put_be64(b + o, 0); o += 8;
    put_be32(b + o, (uint32_t)bl); o += 4;
    memcpy(b + o, body, bl); o += bl;
    b[o++] = (uint8_t)tl;
    memcpy(b + o, topic, tl); o += tl;
    put_be16(b + o, (uint16_t)pl); o += 2;
    memcpy(b + o, props, pl); o += pl;
    ck_assert_uint_eq(o, total);
    return total;
}

static void write_whole(const char *dir, const char *rel, const uint8_t *data, size_t len)
{
    char *p = test_path(dir, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    ck_assert_int_eq(mkdirs(p), RMQ_OK);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

START_TEST(test_loads_apache_layout)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    int64_t seg = cfg.mappedFileSizeCommitLog;
    uint8_t *cl = calloc(1, (size_t)seg);
    size_t a = apache_record(cl, 0, 0, 1700000000100LL, "first", "TopicTest", "TAGS\001TagA\002KEYS\001order-1");
    size_t b = apache_record(cl + a, (int64_t)a, 1, 1700000000200LL, "second", "TopicTest", "TAGS\001TagB");
    write_whole(dir, "commitlog/00000000000000000000", cl, (size_t)seg);
    uint8_t cq[2000] = {0};
    put_be64(cq, 0);
    put_be32(cq + 8, (uint32_t)a);
    put_be64(cq + 12, 2598919);                        /* "TagA".hashCode() */
    put_be64(cq + 20, a);
    put_be32(cq + 28, (uint32_t)b);
    put_be64(cq + 32, 2598920);                        /* "TagB".hashCode() */
    write_whole(dir, "consumequeue/TopicTest/0/00000000000000000000", cq, sizeof(cq));
    uint8_t ck[4096] = {0};
    put_be64(ck, 1700000000200ULL);
    put_be64(ck + 8, 1700000000200ULL);
    put_be64(ck + 16, 1700000000200ULL);
    write_whole(dir, "checkpoint", ck, sizeof(ck));

    store *s = test_open(&cfg);
    ck_assert(store_commitlog_max_offset(s) == (int64_t)(a + b));
    ck_assert(store_max_offset_in_queue(s, "TopicTest", 0) == 2);
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "TopicTest", 0, 0, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.count, 2);
    ck_assert(memcmp(r.msgs[1].data, cl + a, b) == 0);
    store_get_result_release(&r);
    ck_assert(store_offset_by_time(s, "TopicTest", 0, 1700000000200LL) == 1);
    store_put_entry e = test_put(s, "TopicTest", 0, "third", NULL, NULL);
    ck_assert(e.phys_offset == (int64_t)(a + b) && e.queue_offset == 2);
    store_close(s);

    /* What we leave behind has Apache's names and sizes. */
    char *p = test_path(dir, "checkpoint");
    ck_assert(test_file_size(p) == 4096);
    size_t n;
    uint8_t *raw = (uint8_t *)read_file(p, &n);
    ck_assert(get_be64(raw) == (uint64_t)e.store_timestamp);        /* physicMsgTimestamp */
    free(raw);
    free(p);
    p = test_path(dir, "consumequeue/TopicTest/0/00000000000000000000");
    raw = (uint8_t *)read_file(p, &n);
    ck_assert(n == 2000 && get_be64(raw + 40) == (uint64_t)e.phys_offset);
    free(raw);
    free(p);
    p = test_path(dir, "lock");
    ck_assert(test_file_size(p) == 4);
    free(p);
    free(cl);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("recovery");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_torn_tail_recovers_to_last_whole_record);
    tcase_add_test(tc, test_bad_crc_recovers_to_last_whole_record);
    tcase_add_test(tc, test_abnormal_rebuilds_queue_and_index);
    tcase_add_test(tc, test_queue_entries_past_commitlog_end_dropped);
    tcase_add_test(tc, test_loads_apache_layout);
    tcase_add_test(tc, test_cut_while_running_then_append_and_restart);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
