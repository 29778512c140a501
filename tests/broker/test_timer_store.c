/*
 * Apache 5.x's timer files: the wheel's size and slot bytes, a timer-log unit
 * byte by byte, config/timercheck, walks from a read time, reopening after a
 * save and after units written past the checkpoint (a crash), and a wheel of
 * another size refused as Apache refuses it.
 */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../store/store_test.h"
#include "broker/timer_store.h"
#include "common/util.h"
#include "../check_run.h"

#define T0 1800000000000LL  /* a slot time (whole second) */

static char *dir;

static void setup(void)
{
    dir = test_mkdtemp();
    char *cfg = str_printf("%s/config", dir);
    ck_assert_int_eq(mkdirs(cfg), 0);
    free(cfg);
}

static void teardown(void) { test_rmrf(dir); }

static timer_store *open_ok(void)
{
    char err[256] = "";
    timer_store *t = timer_store_open(dir, 1000, err, sizeof err);
    ck_assert_msg(t != NULL, "open: %s", err);
    return t;
}

static uint8_t *read_at(const char *name, off_t off, size_t len)
{
    char *path = str_printf("%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    ck_assert_msg(fd >= 0, "%s missing", path);
    uint8_t *b = xmalloc(len);
    ck_assert_int_eq(pread(fd, b, len, off), (ssize_t)len);
    close(fd);
    free(path);
    return b;
}

typedef struct seen {
    timer_unit u[16];
    int n;
} seen;

static bool collect(void *ctx, const timer_unit *u)
{
    seen *s = ctx;
    ck_assert_int_lt(s->n, 16);
    s->u[s->n++] = *u;
    return true;
}

START_TEST(test_fresh_files_have_apache_sizes)
{
    timer_store *t = open_ok();
    timer_checkpoint cp;
    ck_assert(!timer_store_checkpoint(t, &cp));
    timer_unit u;
    ck_assert(!timer_store_last_unit(t, &u));
    char *wheel = str_printf("%s/timerwheel", dir);
    struct stat st;
    ck_assert_int_eq(stat(wheel, &st), 0);
    ck_assert_int_eq(st.st_size, 38707200);  /* 7 days x 86400 x 2 x 32 */
    free(wheel);
    timer_store_close(t);
}
END_TEST

START_TEST(test_unit_and_slot_bytes)
{
    timer_store *t = open_ok();
    /* Written at T0 - 2.5 s for the slot T0 + 3 s; "T".hashCode() = 84. */
    ck_assert_int_eq(timer_store_append(t, T0 - 2500, TIMER_MAGIC_DEFAULT, T0 + 3000, 4096, 321, 84), RMQ_OK);
    ck_assert_int_eq(timer_store_append(t, T0 - 2500, TIMER_MAGIC_DEFAULT, T0 + 3000, 8192, 123, 84), RMQ_OK);
    timer_store_close(t);

    uint8_t *u = read_at("timerlog/00000000000000000000", 0, 2 * TIMER_UNIT_SIZE);
    ck_assert_int_eq(get_be32(u), 52);                          /* size */
    ck_assert_int_eq((int64_t)get_be64(u + 4), -1);             /* prev pos: first of its slot */
    ck_assert_int_eq(get_be32(u + 12), 1);                      /* magic */
    ck_assert_int_eq((int64_t)get_be64(u + 16), T0 - 3000);     /* write time, down to the precision */
    ck_assert_int_eq((int32_t)get_be32(u + 24), 6000);          /* delayed time - write time */
    ck_assert_int_eq((int64_t)get_be64(u + 28), 4096);          /* commit-log offset */
    ck_assert_int_eq(get_be32(u + 36), 321);                    /* size */
    ck_assert_int_eq(get_be32(u + 40), 84);                     /* real topic's hash */
    ck_assert_int_eq(get_be64(u + 44), 0);                      /* reserved */
    ck_assert_int_eq((int64_t)get_be64(u + 52 + 4), 0);         /* the second links back to the first */
    free(u);

    int64_t index = (T0 + 3000) / 1000 % (2 * TIMER_SLOTS_TOTAL);
    uint8_t *s = read_at("timerwheel", index * TIMER_SLOT_SIZE, TIMER_SLOT_SIZE);
    ck_assert_int_eq((int64_t)get_be64(s), (T0 + 3000) / 1000);  /* time / precision */
    ck_assert_int_eq((int64_t)get_be64(s + 8), 0);                /* first unit */
    ck_assert_int_eq((int64_t)get_be64(s + 16), 52);              /* last unit */
    ck_assert_int_eq(get_be32(s + 24), 2);                        /* units */
    free(s);
}
END_TEST

START_TEST(test_walk_from_read_time_newest_first)
{
    timer_store *t = open_ok();
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 1000, 100, 10, 0), RMQ_OK);
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 5000, 200, 20, 0), RMQ_OK);
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DELETE, T0 + 5000, 300, 30, 0), RMQ_OK);
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 86400000LL * 3, 400, 40, 0), RMQ_OK);
    seen s = {0};
    timer_store_walk(t, T0 + 2000, collect, &s);  /* the slot at T0 + 1 s was read already */
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.u[0].phys_offset, 300);
    ck_assert_int_eq(s.u[0].magic, TIMER_MAGIC_DELETE);
    ck_assert_int_eq(s.u[1].phys_offset, 200);
    ck_assert_int_eq(s.u[1].size, 20);
    ck_assert_int_eq(s.u[1].delayed_ms, T0 + 5000);
    ck_assert_int_eq(s.u[2].phys_offset, 400);
    timer_unit last;
    ck_assert(timer_store_last_unit(t, &last));
    ck_assert_int_eq(last.phys_offset, 400);
    timer_store_close(t);
}
END_TEST

START_TEST(test_checkpoint_bytes_and_reopen)
{
    timer_store *t = open_ok();
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 1000, 100, 10, 0), RMQ_OK);
    timer_checkpoint cp = {.last_read_ms = T0 + 1000, .queue_offset = 7, .master_queue_offset = 7};
    ck_assert_int_eq(timer_store_save(t, &cp), RMQ_OK);
    timer_store_close(t);

    char *path = str_printf("%s/config/timercheck", dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 4096);
    free(path);
    uint8_t *b = read_at("config/timercheck", 0, 32);
    ck_assert_int_eq((int64_t)get_be64(b), T0 + 1000);  /* lastReadTimeMs */
    ck_assert_int_eq((int64_t)get_be64(b + 8), 52);     /* lastTimerLogFlushPos */
    ck_assert_int_eq((int64_t)get_be64(b + 16), 7);     /* lastTimerQueueOffset */
    ck_assert_int_eq((int64_t)get_be64(b + 24), 7);     /* masterTimerQueueOffset */
    free(b);

    t = open_ok();
    timer_checkpoint back;
    ck_assert(timer_store_checkpoint(t, &back));
    ck_assert_int_eq(back.last_read_ms, T0 + 1000);
    ck_assert_int_eq(back.queue_offset, 7);
    /* The next unit goes after the first, chained to it. */
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 1000, 200, 20, 0), RMQ_OK);
    seen s = {0};
    timer_store_walk(t, T0, collect, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.u[0].phys_offset, 200);
    ck_assert_int_eq(s.u[1].phys_offset, 100);
    timer_store_close(t);
}
END_TEST

START_TEST(test_units_past_the_checkpoint_are_found_after_a_crash)
{
    timer_store *t = open_ok();
    timer_checkpoint cp = {.last_read_ms = T0};
    ck_assert_int_eq(timer_store_save(t, &cp), RMQ_OK);  /* flush position 0 */
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 2000, 100, 10, 0), RMQ_OK);
    ck_assert_int_eq(timer_store_append(t, T0, TIMER_MAGIC_DEFAULT, T0 + 2000, 200, 20, 0), RMQ_OK);
    timer_store_close(t);
    /* Lose the wheel's slot as if it had not reached the disk: recovery relinks it from the log. */
    char *wheel = str_printf("%s/timerwheel", dir);
    int fd = open(wheel, O_WRONLY);
    uint8_t zero[TIMER_SLOT_SIZE] = {0};
    ck_assert_int_eq(pwrite(fd, zero, sizeof zero, (T0 + 2000) / 1000 % (2 * TIMER_SLOTS_TOTAL) * TIMER_SLOT_SIZE),
                     TIMER_SLOT_SIZE);
    close(fd);
    free(wheel);

    t = open_ok();
    seen s = {0};
    timer_store_walk(t, T0, collect, &s);
    ck_assert_int_eq(s.n, 2);
    ck_assert_int_eq(s.u[0].phys_offset, 200);
    ck_assert_int_eq(s.u[1].phys_offset, 100);
    timer_unit last;
    ck_assert(timer_store_last_unit(t, &last));
    ck_assert_int_eq(last.phys_offset, 200);
    timer_store_close(t);
}
END_TEST

START_TEST(test_wheel_of_another_size_is_refused)
{
    char *wheel = str_printf("%s/timerwheel", dir);
    int fd = open(wheel, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_eq(ftruncate(fd, 4096), 0);
    close(fd);
    free(wheel);
    char err[256] = "";
    ck_assert_ptr_null(timer_store_open(dir, 1000, err, sizeof err));
    ck_assert_msg(strstr(err, "Timer wheel length:4096 != expected:38707200") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timer_store");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fresh_files_have_apache_sizes);
    tcase_add_test(tc, test_unit_and_slot_bytes);
    tcase_add_test(tc, test_walk_from_read_time_newest_first);
    tcase_add_test(tc, test_checkpoint_bytes_and_reopen);
    tcase_add_test(tc, test_units_past_the_checkpoint_are_found_after_a_crash);
    tcase_add_test(tc, test_wheel_of_another_size_is_refused);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
