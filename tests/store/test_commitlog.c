/* Commit log: append/read back, byte layout on disk, segment roll and blank tail,
 * batches, limits, transactions, lock, get statuses, group commit, arrivals, HA stream. */
#include <pthread.h>

#include "store_test.h"
#include "../check_run.h"

START_TEST(test_append_and_read_back)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    store_put_entry a = test_put(s, "TopicTest", 1, "hello", "TagA", "k1 k2");
    store_put_entry b = test_put(s, "TopicTest", 1, "world", NULL, NULL);
    ck_assert(a.phys_offset == 0 && a.queue_offset == 0);
    ck_assert(b.phys_offset == a.size && b.queue_offset == 1);
    ck_assert_str_eq(a.msg_id, "0A01020300002A9F0000000000000000");

    store_slice sl;
    ck_assert_int_eq(store_get_record(s, b.phys_offset, &sl), RMQ_OK);
    ck_assert_uint_eq(sl.len, (uint32_t)b.size);
    /* Field positions from docs/message.md. */
    ck_assert_uint_eq(get_be32(sl.data), (uint32_t)b.size);
    ck_assert_uint_eq(get_be32(sl.data + 4), 0xDAA320A7u);
    ck_assert_uint_eq(get_be32(sl.data + 8), (uint32_t)rmq_crc32("world", 5));
    ck_assert_uint_eq(get_be32(sl.data + 12), 1);
    ck_assert(get_be64(sl.data + 20) == 1);
    ck_assert(get_be64(sl.data + 28) == (uint64_t)b.phys_offset);
    ck_assert(get_be64(sl.data + 56) == (uint64_t)b.store_timestamp);
    ck_assert(memcmp(sl.data + 64, "\x0a\x01\x02\x03", 4) == 0);   /* STOREHOST */
    ck_assert_uint_eq(get_be32(sl.data + 68), 10911);
    msg_record r;
    const char *why;
    ck_assert_int_eq(msg_record_decode(sl.data, sl.len, &r, &why), RMQ_OK);
    ck_assert(r.body_len == 5 && memcmp(r.body, "world", 5) == 0);
    store_slice_release(&sl);
    ck_assert_int_eq(store_get_record(s, 3, &sl), RMQ_ERR);          /* not a record start */
    ck_assert(store_commitlog_max_offset(s) == b.phys_offset + b.size);
    store_close(s);

    /* The file on disk is the configured size and holds the same bytes. */
    char *seg = test_path(dir, "commitlog/00000000000000000000");
    ck_assert(test_file_size(seg) == cfg.mappedFileSizeCommitLog);
    size_t n;
    uint8_t *raw = (uint8_t *)read_file(seg, &n);
    ck_assert_uint_eq(get_be32(raw + a.phys_offset + 4), 0xDAA320A7u);
    ck_assert_uint_eq(get_be32(raw + b.phys_offset + b.size), 0);   /* end of data */
    free(raw);
    free(seg);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_segment_roll_and_blank_tail)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.mappedFileSizeCommitLog = 1024;
    store *s = test_open(&cfg);
    char body[200];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    store_put_entry e[8];
    for (int i = 0; i < 8; i++)
        e[i] = test_put(s, "T", 0, body, NULL, NULL);
    int32_t size = e[0].size;                     /* every record has the same size */
    int per_file = 0;
    while ((per_file + 1) * size + 8 <= 1024)
        per_file++;
    /* The first record that does not fit (with 8 spare bytes) starts the next file. */
    ck_assert(e[per_file].phys_offset == 1024);
    ck_assert(e[per_file - 1].phys_offset + size <= 1024 - 8);
    store_slice sl;
    ck_assert_int_eq(store_get_record(s, e[per_file].phys_offset, &sl), RMQ_OK);
    store_slice_release(&sl);
    /* Queue offsets keep counting across files. */
    ck_assert(e[7].queue_offset == 7);
    store_close(s);

    char *seg0 = test_path(dir, "commitlog/00000000000000000000");
    char *seg1 = test_path(dir, "commitlog/00000000000000001024");
    ck_assert(test_file_size(seg1) == 1024);
    size_t n;
    uint8_t *raw = (uint8_t *)read_file(seg0, &n);
    int64_t blank = (int64_t)per_file * size;
    ck_assert_uint_eq(get_be32(raw + blank), (uint32_t)(1024 - blank));   /* TOTALSIZE = the rest */
    ck_assert_uint_eq(get_be32(raw + blank + 4), 0xCBD43194u);
    free(raw);

    /* Reopening reads across the blank. */
    s = test_open(&cfg);
    ck_assert(store_commitlog_max_offset(s) == e[7].phys_offset + size);
    ck_assert(store_max_offset_in_queue(s, "T", 0) == 8);
    store_get_result res;
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 0, 32, NULL, &res), RMQ_OK);
    ck_assert_int_eq(res.status, STORE_GET_FOUND);
    ck_assert_int_eq(res.count, 8);
    ck_assert(res.msgs[per_file].phys_offset == 1024);
    store_get_result_release(&res);
    /* A message that can never fit a segment is refused. */
    char big[1100];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    store_msg m = {.topic = "T", .body = (const uint8_t *)big, .body_len = sizeof(big) - 1};
    msg_host_parse(&m.born_host, "1.1.1.1:1");
    store_put_entry pe;
    store_put_result pr = {.entries = &pe};
    ck_assert_int_eq(store_put(s, &m, 1, &pr), STORE_PUT_MESSAGE_ILLEGAL);
    store_close(s);
    free(seg0);
    free(seg1);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_batch_limits_and_transactions)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    store_msg m[3];
    const char *bodies[3] = {"a", "bb", "ccc"};
    for (int i = 0; i < 3; i++) {
        m[i] = (store_msg){.topic = "B", .queue_id = 2, .flag = i, .body = (const uint8_t *)bodies[i],
                           .body_len = (uint32_t)strlen(bodies[i]), .props = "UNIQ_KEY\001U", .props_len = 10};
        msg_host_parse(&m[i].born_host, "1.2.3.4:5");
    }
    store_put_entry e[3];
    store_put_result res = {.entries = e};
    ck_assert_int_eq(store_put(s, m, 3, &res), STORE_PUT_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(e[i].queue_offset == i);
    ck_assert(e[1].phys_offset == e[0].phys_offset + e[0].size);      /* contiguous */
    ck_assert(res.end_offset == e[2].phys_offset + e[2].size);

    /* Limits map to Apache's statuses. */
    static char huge[16 * 1024 + 1];
    store_msg bad = m[0];
    bad.body = (const uint8_t *)huge;
    bad.body_len = sizeof(huge);
    ck_assert_int_eq(store_put(s, &bad, 1, &res), STORE_PUT_MESSAGE_ILLEGAL);
    bad = m[0];
    static char props[40000];
    memset(props, 'p', sizeof(props));
    bad.props = props;
    bad.props_len = sizeof(props);
    ck_assert_int_eq(store_put(s, &bad, 1, &res), STORE_PUT_PROPERTIES_SIZE_EXCEEDED);
    bad = m[0];
    bad.topic = "0123456789012345678901234567890123456789012345678901234567890123456789"
                "0123456789012345678901234567890123456789012345678901234567890123456789";
    ck_assert_int_eq(store_put(s, &bad, 1, &res), STORE_PUT_MESSAGE_ILLEGAL);
    store_msg tx[2] = {m[0], m[1]};
    tx[0].sysflag = MSG_TRANS_PREPARED;
    ck_assert_int_eq(store_put(s, tx, 2, &res), STORE_PUT_MESSAGE_ILLEGAL);

    /* PREPARED: queue offset 0, no consume queue entry, counter untouched. */
    ck_assert_int_eq(store_put(s, &tx[0], 1, &res), STORE_PUT_OK);
    ck_assert(e[0].queue_offset == 0);
    ck_assert(store_max_offset_in_queue(s, "B", 2) == 3);
    store_put_entry c = test_put(s, "B", 2, "after", NULL, NULL);
    ck_assert(c.queue_offset == 3);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert(st.put_message_times_total == 5);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_lock_excludes_second_opener)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    char err[256] = "";
    ck_assert_ptr_null(store_open(&cfg, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "Lock failed"));
    char *abort_path = test_path(dir, "abort");
    ck_assert_int_eq(access(abort_path, F_OK), 0);
    store_close(s);
    ck_assert_int_ne(access(abort_path, F_OK), 0);          /* clean shutdown removes it */
    s = test_open(&cfg);
    store_close(s);
    free(abort_path);
    test_rmrf(dir);
}
END_TEST

static bool only_tag_a(void *arg, int64_t tags)
{
    (void)arg;
    return tags == msg_tags_code("TagA", 4);
}

START_TEST(test_get_statuses)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 5, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_NO_MESSAGE_IN_QUEUE);
    ck_assert(r.next_begin_offset == 0 && r.max_offset == 0);
    for (int i = 0; i < 40; i++)
        test_put(s, "T", 0, "m", i % 2 ? "TagB" : "TagA", NULL);
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 0, 64, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_FOUND);
    ck_assert_int_eq(r.count, 32);                  /* maxTransferCountOnMessageInMemory */
    ck_assert(r.next_begin_offset == 32 && r.min_offset == 0 && r.max_offset == 40);
    store_get_result_release(&r);
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 10, 4, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.count, 4);
    ck_assert(r.next_begin_offset == 14);
    store_get_result_release(&r);
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 40, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_OFFSET_OVERFLOW_ONE);
    ck_assert(r.next_begin_offset == 40);
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 99, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_OFFSET_OVERFLOW_BADLY);
    ck_assert(r.next_begin_offset == 40);
    /* Tag filter: odd offsets skipped; skipping counts toward next_begin_offset. */
    store_filter f = {.by_tags_code = only_tag_a};
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 1, 3, &f, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_FOUND);
    ck_assert_int_eq(r.count, 3);
    ck_assert(r.msgs[0].phys_offset > 0);
    ck_assert(r.next_begin_offset == 7);            /* stops at the entry after the third match */
    store_get_result_release(&r);
    ck_assert_int_eq(store_get_messages(s, "g", "T", 0, 39, 32, &f, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_NO_MATCHED_MESSAGE);
    ck_assert(r.next_begin_offset == 40);
    store_get_result_release(&r);
    store_stats st;
    store_get_stats(s, &st);
    ck_assert(st.get_message_times_total_found == 3 && st.get_message_times_total_miss == 4);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

typedef struct flush_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int ok;
    pthread_t thread;
} flush_wait;

static void on_flushed(void *arg, bool ok)
{
    flush_wait *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done++;
    w->ok += ok;
    w->thread = pthread_self();
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

START_TEST(test_group_commit)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.flushDiskType = STORE_SYNC_FLUSH;
    store *s = test_open(&cfg);
    ck_assert_int_eq(store_start(s), RMQ_OK);
    flush_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < 5; i++) {
        store_put_entry e = test_put(s, "T", 0, "durable", NULL, NULL);
        store_wait_flush(s, e.phys_offset + e.size, 5000, on_flushed, &w);
    }
    pthread_mutex_lock(&w.mu);
    while (w.done < 5)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    ck_assert_int_eq(w.ok, 5);
    ck_assert(!pthread_equal(w.thread, pthread_self()));
    /* An offset no flush will reach times out (timeout 0 → next pass). */
    store_wait_flush(s, 1LL << 40, 0, on_flushed, &w);
    pthread_mutex_lock(&w.mu);
    while (w.done < 6)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    ck_assert_int_eq(w.ok, 5);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

typedef struct seen {
    int count;
    char topic[64];
    int64_t qoff;
    int64_t tags;
    bool has_tag_prop;
} seen;

static void on_arrival(void *arg, const char *topic, int32_t qid, int64_t qoff, int64_t tags,
                       const char *props, uint32_t props_len, int64_t ts)
{
    (void)qid; (void)ts;
    seen *v = arg;
    v->count++;
    snprintf(v->topic, sizeof(v->topic), "%s", topic);
    v->qoff = qoff;
    v->tags = tags;
    const char *t;
    size_t tl;
    v->has_tag_prop = msg_props_find(props, props_len, "TAGS", &t, &tl);
}

START_TEST(test_arrival_hook_and_schedule_tags)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    store *s = test_open(&cfg);
    seen v = {0};
    store_set_arrival_cb(s, on_arrival, &v);
    test_put(s, "Hook", 3, "x", "TagA", NULL);
    test_put(s, "Hook", 3, "y", "TagA", NULL);
    ck_assert_int_eq(v.count, 2);
    ck_assert_str_eq(v.topic, "Hook");
    ck_assert(v.qoff == 1 && v.tags == 2598919 && v.has_tag_prop);
    /* SCHEDULE_TOPIC_XXXX: tagsCode = store time + delay of the level (level 3 = 10 s). */
    store_msg m = {.topic = "SCHEDULE_TOPIC_XXXX", .queue_id = 2, .body = (const uint8_t *)"d", .body_len = 1,
                   .props = "DELAY\0013\002TAGS\001TagA", .props_len = 16};
    msg_host_parse(&m.born_host, "1.1.1.1:1");
    store_put_entry e;
    store_put_result res = {.entries = &e};
    ck_assert_int_eq(store_put(s, &m, 1, &res), STORE_PUT_OK);
    ck_assert(v.tags == e.store_timestamp + 10000);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_ha_raw_stream)
{
    char *mdir = test_mkdtemp(), *sdir = test_mkdtemp();
    store_config mc, sc;
    test_config(&mc, mdir);
    test_config(&sc, sdir);
    mc.mappedFileSizeCommitLog = sc.mappedFileSizeCommitLog = 1024;
    sc.brokerRole = STORE_SLAVE;
    store *m = test_open(&mc), *sl = test_open(&sc);
    for (int i = 0; i < 12; i++)
        test_put(m, "HA", i % 2, "replicated body", NULL, i == 5 ? "key5" : NULL);
    /* Ship in odd-sized chunks so records arrive in pieces. */
    int64_t off = 0;
    char err[256];
    for (;;) {
        store_slice chunk;
        int rc = store_read_raw(m, off, 77, &chunk);
        if (rc == RMQ_AGAIN)
            break;
        ck_assert_int_eq(rc, RMQ_OK);
        ck_assert_int_eq(store_append_raw(sl, off, chunk.data, chunk.len, err, sizeof(err)), RMQ_OK);
        off += chunk.len;
        store_slice_release(&chunk);
    }
    ck_assert(off == store_commitlog_max_offset(m));
    ck_assert(store_max_offset_in_queue(sl, "HA", 0) == 6);
    ck_assert(store_max_offset_in_queue(sl, "HA", 1) == 6);
    store_query_result q;
    store_query_by_key(sl, "HA", "key5", 32, 0, INT64_MAX, &q);
    ck_assert_int_eq(q.count, 1);
    ck_assert_int_eq(store_append_raw(sl, off + 1, (const uint8_t *)"x", 1, err, sizeof(err)), RMQ_ERR);
    /* A slave refuses ordinary puts. */
    store_msg msg = {.topic = "HA", .body = (const uint8_t *)"x", .body_len = 1};
    store_put_entry e;
    store_put_result res = {.entries = &e};
    ck_assert_int_eq(store_put(sl, &msg, 1, &res), STORE_PUT_SERVICE_NOT_AVAILABLE);
    store_close(m);
    store_close(sl);
    test_rmrf(mdir);
    test_rmrf(sdir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("commitlog");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_append_and_read_back);
    tcase_add_test(tc, test_segment_roll_and_blank_tail);
    tcase_add_test(tc, test_batch_limits_and_transactions);
    tcase_add_test(tc, test_lock_excludes_second_opener);
    tcase_add_test(tc, test_get_statuses);
    tcase_add_test(tc, test_group_commit);
    tcase_add_test(tc, test_arrival_hook_and_schedule_tags);
    tcase_add_test(tc, test_ha_raw_stream);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
