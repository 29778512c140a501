/*
 * Log files: routing by module, size and daily rotation to NAME.YYYY-MM-DD.N.log,
 * retention of rotated files by age, the level changed at run time, and stderr
 * until log_setup (and again after log_close). The clock is injected.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "../check_run.h"

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }
static char dir[64];

/* Noon, local time, on DAY (yyyymmdd): far from any midnight whatever the zone. */
static int64_t noon(int day)
{
    struct tm tm = {.tm_year = day / 10000 - 1900, .tm_mon = day / 100 % 100 - 1, .tm_mday = day % 100,
                    .tm_hour = 12, .tm_isdst = -1};
    return (int64_t)mktime(&tm);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_log.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    fake_now = noon(20261201);
    log_set_clock(fake_clock);
    log_set_level(LOG_INFO);
}

static void teardown(void)
{
    log_close();
    log_set_clock(NULL);
    char *cmd = str_printf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static bool exists(const char *name)
{
    char *p = str_printf("%s/%s", dir, name);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

static char *contents(const char *name)
{
    char *p = str_printf("%s/%s", dir, name);
    size_t len;
    char *t = read_file(p, &len);
    free(p);
    ck_assert_msg(t != NULL, "%s missing", name);
    return t;
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static const char *const routes[] = {"store", "store", "ha", "store", "client", "remoting", NULL};

static void open_logs(int64_t max_size, int days)
{
    char err[256];
    log_config lc = {.dir = dir, .default_file = "broker", .routes = routes, .max_file_size = max_size,
                     .max_history_days = days};
    ck_assert_msg(log_setup(&lc, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_modules_go_to_their_files)
{
    open_logs(0, 0);
    log_info("store", "commit log recovered");
    log_info("ha", "slave connected");
    log_warn("client", "timeout");
    log_info("admin", "topic created");
    log_info("metrics", "listening");
    char *store = contents("store.log"), *remoting = contents("remoting.log"), *broker = contents("broker.log");
    ck_assert_ptr_nonnull(strstr(store, "INFO  [store] commit log recovered\n"));
    ck_assert_ptr_nonnull(strstr(store, "INFO  [ha] slave connected\n"));
    ck_assert_ptr_nonnull(strstr(remoting, "WARN  [client] timeout\n"));
    ck_assert_ptr_nonnull(strstr(broker, "[admin] topic created\n"));
    ck_assert_ptr_nonnull(strstr(broker, "[metrics] listening\n"));
    ck_assert_ptr_null(strstr(broker, "[store]"));
    free(store), free(remoting), free(broker);
}
END_TEST

START_TEST(test_level_changes_at_run_time)
{
    open_logs(0, 0);
    log_debug("broker", "hidden");
    ck_assert_int_eq(log_level_parse("debug"), LOG_DEBUG);
    ck_assert_int_eq(log_level_parse("WARNING"), LOG_WARN);
    ck_assert_int_eq(log_level_parse("loud"), -1);
    log_set_level((enum log_level)log_level_parse("DEBUG"));
    log_debug("broker", "shown");
    log_set_level(LOG_ERROR);
    log_warn("broker", "dropped");
    char *b = contents("broker.log");
    ck_assert_ptr_null(strstr(b, "hidden"));
    ck_assert_ptr_nonnull(strstr(b, "DEBUG [broker] shown\n"));
    ck_assert_ptr_null(strstr(b, "dropped"));
    free(b);
}
END_TEST

START_TEST(test_size_rotation_numbers_files_within_the_day)
{
    open_logs(300, 0);
    /* each line is ~107 bytes: two fit in 300, the third starts a new file */
    for (int i = 0; i < 7; i++) log_info("broker", "line %d %060d", i, 0);
    ck_assert(exists("broker.2026-12-01.0.log"));
    ck_assert(exists("broker.2026-12-01.1.log"));
    ck_assert(exists("broker.2026-12-01.2.log"));
    ck_assert(!exists("broker.2026-12-01.3.log"));
    char *first = contents("broker.2026-12-01.0.log"), *live = contents("broker.log");
    ck_assert_ptr_nonnull(strstr(first, "line 0 "));
    ck_assert_ptr_nonnull(strstr(first, "line 1 "));
    ck_assert_ptr_null(strstr(first, "line 2 "));
    ck_assert_ptr_nonnull(strstr(live, "line 6 "));
    struct stat st;
    char *p = str_printf("%s/broker.2026-12-01.0.log", dir);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_le(st.st_size, 300);
    free(p), free(first), free(live);
}
END_TEST

START_TEST(test_daily_rotation_and_retention)
{
    open_logs(0, 3);
    log_info("broker", "day one");
    fake_now = noon(20261202);
    log_info("broker", "day two");
    ck_assert(exists("broker.2026-12-01.0.log"));
    char *d1 = contents("broker.2026-12-01.0.log"), *live = contents("broker.log");
    ck_assert_ptr_nonnull(strstr(d1, "day one"));
    ck_assert_ptr_null(strstr(live, "day one"));
    ck_assert_ptr_nonnull(strstr(live, "day two"));
    free(d1), free(live);
    /* an unrelated file in the directory is never touched */
    char *other = str_printf("%s/broker.notes.log", dir);
    ck_assert_int_eq(write_file_atomic(other, "x", 1), 0);
    free(other);
    fake_now = noon(20261204);
    log_info("broker", "day four");
    ck_assert(exists("broker.2026-12-01.0.log"));   /* 3 days old: kept */
    ck_assert(exists("broker.2026-12-02.0.log"));
    fake_now = noon(20261206);
    log_info("broker", "day six");
    /* past 3 days: 12-01 and 12-02 deleted, 12-04 kept */
    ck_assert(!exists("broker.2026-12-01.0.log"));
    ck_assert(!exists("broker.2026-12-02.0.log"));
    ck_assert(exists("broker.2026-12-04.0.log"));
    ck_assert(exists("broker.notes.log"));
    /* the live file, 12-04's, the notes, and the route files (store, remoting) */
    ck_assert_int_eq(count_files(), 5);
}
END_TEST

START_TEST(test_a_file_left_by_an_earlier_day_is_rotated_at_start)
{
    char *p = str_printf("%s/broker.log", dir);
    ck_assert_int_eq(write_file_atomic(p, "old\n", 4), 0);
    struct timespec ts[2] = {{.tv_sec = (time_t)noon(20261130)}, {.tv_sec = (time_t)noon(20261130)}};
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    open_logs(0, 0);
    ck_assert(exists("broker.2026-11-30.0.log"));
    log_info("broker", "new");
    char *live = contents("broker.log");
    ck_assert_ptr_null(strstr(live, "old"));
    free(live), free(p);
}
END_TEST

START_TEST(test_stderr_before_setup_and_after_close)
{
    open_logs(0, 0);
    log_close();
    log_info("broker", "to stderr");  /* must not touch the closed files */
    char *b = contents("broker.log");
    ck_assert_ptr_null(strstr(b, "to stderr"));
    free(b);
    setenv("RMQ_LOG_STDERR", "1", 1);
    ck_assert(log_foreground());
    setenv("RMQ_LOG_STDERR", "0", 1);
    ck_assert(!log_foreground());
    setenv("HOME", "/home/op", 1);
    char *d = log_default_dir();
    ck_assert_str_eq(d, "/home/op/logs/rocketmqlogs");
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_modules_go_to_their_files);
    tcase_add_test(tc, test_level_changes_at_run_time);
    tcase_add_test(tc, test_size_rotation_numbers_files_within_the_day);
    tcase_add_test(tc, test_daily_rotation_and_retention);
    tcase_add_test(tc, test_a_file_left_by_an_earlier_day_is_rotated_at_start);
    tcase_add_test(tc, test_stderr_before_setup_and_after_close);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
