/* Retention: expired segments go (oldest first, never the last), consume-queue and
 * index files follow, disk thresholds, and readers keep deleted segments mapped. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "store_test.h"
#include "../check_run.h"

static int64_t fake_now;
static double fake_ratio;
static int64_t fake_clock(void *arg) { (void)arg; return fake_now; }
static double fake_disk(const char *path, void *arg) { (void)path; (void)arg; return fake_ratio; }

static int count_files(const char *dir, const char *rel)
{
    char *p = test_path(dir, rel);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    free(p);
    return n;
}

static void set_mtime(const char *dir, const char *rel, int64_t ms)
{
    char *p = test_path(dir, rel);
    struct timespec ts[2] = {{.tv_sec = ms / 1000}, {.tv_sec = ms / 1000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    free(p);
}

static void setup(store_config *cfg, const char *dir)
{
    test_config(cfg, dir);
    cfg->mappedFileSizeCommitLog = 1024;
    cfg->mappedFileSizeConsumeQueue = 4 * 20;
    cfg->maxIndexNum = 6;
    cfg->clock_ms = fake_clock;
    cfg->disk_used_ratio = fake_disk;
    snprintf(cfg->deleteWhen, sizeof(cfg->deleteWhen), "99");   /* no hour matches */
}

START_TEST(test_expired_segments_and_followers)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    setup(&cfg, dir);
    fake_ratio = 0.10;
    fake_now = now_ms();
    store *s = test_open(&cfg);
    char body[300];
    memset(body, 'r', sizeof(body) - 1);
    body[sizeof(body) - 1] = 0;
    store_put_entry e[12];
    for (int i = 0; i < 12; i++)
        e[i] = test_put(s, "Ret", 0, body, NULL, "rkey");   /* 2 per 1 KiB segment */
    ck_assert_int_eq(count_files(dir, "commitlog"), 6);
    /* Segments 0 and 1 are 4 days old, 2 is fresh, 3.. older again: deletion stops at 2. */
    int64_t old = fake_now - 96LL * 3600 * 1000;
    set_mtime(dir, "commitlog/00000000000000000000", old);
    set_mtime(dir, "commitlog/00000000000000001024", old);
    set_mtime(dir, "commitlog/00000000000000003072", old);

    /* Not the hour, disk fine, no manual request: nothing happens. */
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 6);

    struct tm tm;
    time_t sec = (time_t)(fake_now / 1000);
    localtime_r(&sec, &tm);
    snprintf(cfg.deleteWhen, sizeof(cfg.deleteWhen), "%02d", tm.tm_hour);
    store_close(s);
    s = test_open(&cfg);
    /* Hold a read on segment 0 across its deletion. */
    store_slice held;
    ck_assert_int_eq(store_get_record(s, e[0].phys_offset, &held), RMQ_OK);
    uint8_t copy[1024];
    memcpy(copy, held.data, held.len);
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 4);
    ck_assert(store_commitlog_min_offset(s) == 2048);
    ck_assert(memcmp(copy, held.data, held.len) == 0);          /* still mapped */
    store_slice_release(&held);
    ck_assert_int_eq(store_get_record(s, e[0].phys_offset, &held), RMQ_ERR);

    /* CQ: 4 entries per file; entries 0..3 (segments 0,1) are wholly below 2048. */
    ck_assert_int_eq(count_files(dir, "consumequeue/Ret/0"), 2);
    ck_assert(store_min_offset_in_queue(s, "Ret", 0) == 4);
    store_get_result r;
    ck_assert_int_eq(store_get_messages(s, "g", "Ret", 0, 1, 32, NULL, &r), RMQ_OK);
    ck_assert_int_eq(r.status, STORE_GET_OFFSET_TOO_SMALL);
    ck_assert(r.next_begin_offset == 4);
    /* Index: 12 keys, 5 per file; the first file ends at e[4] >= 2048, so all stay. */
    ck_assert_int_eq(count_files(dir, "index"), 3);
    store_query_result q;
    store_query_by_key(s, "Ret", "rkey", 64, 0, INT64_MAX, &q);
    ck_assert_int_eq(q.count, 12);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_disk_thresholds)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    setup(&cfg, dir);
    fake_now = now_ms();
    store *s = test_open(&cfg);
    char body[300];
    memset(body, 'd', sizeof(body) - 1);
    body[sizeof(body) - 1] = 0;
    for (int i = 0; i < 8; i++)
        test_put(s, "Disk", 0, body, NULL, NULL);
    ck_assert_int_eq(count_files(dir, "commitlog"), 4);

    /* Above diskMaxUsedSpaceRatio: only expired files go (none are). */
    fake_ratio = 0.80;
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 4);

    /* Above the warning level: puts refused, and files go even though fresh. */
    fake_ratio = 0.95;
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 1);
    store_msg m = {.topic = "Disk", .body = (const uint8_t *)"x", .body_len = 1};
    store_put_entry e;
    store_put_result res = {.entries = &e};
    ck_assert_int_eq(store_put(s, &m, 1, &res), STORE_PUT_SERVICE_NOT_AVAILABLE);
    ck_assert_ptr_nonnull(strstr(res.reason, "disk"));

    fake_ratio = 0.50;
    store_run_clean(s);
    ck_assert_int_eq(store_put(s, &m, 1, &res), STORE_PUT_OK);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_manual_delete_and_expired_queues)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    setup(&cfg, dir);
    fake_ratio = 0.10;
    fake_now = now_ms();
    store *s = test_open(&cfg);
    char body[300];
    memset(body, 'm', sizeof(body) - 1);
    body[sizeof(body) - 1] = 0;
    test_put(s, "Gone", 0, body, NULL, NULL);
    for (int i = 0; i < 6; i++)
        test_put(s, "Stay", 0, body, NULL, NULL);
    fake_now += 73LL * 3600 * 1000;                    /* everything is past fileReservedTime */
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 4);   /* not the hour: kept */
    store_delete_files_manually(s);
    store_run_clean(s);
    ck_assert_int_eq(count_files(dir, "commitlog"), 1);
    /* "Gone" has no entry left above the commit-log min: the queue is dropped. */
    store_clean_expired_consume_queues(s);
    ck_assert_int_eq(count_files(dir, "consumequeue"), 1);
    ck_assert(store_max_offset_in_queue(s, "Stay", 0) == 6);
    store_close(s);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("retention");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_expired_segments_and_followers);
    tcase_add_test(tc, test_disk_thresholds);
    tcase_add_test(tc, test_manual_delete_and_expired_queues);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
