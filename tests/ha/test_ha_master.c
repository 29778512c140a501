/*
 * The master side against a hand-driven slave socket: a slave reporting 0
 * gets the commit log from the start of the last segment (HAConnection's
 * rule), frames carry exactly the stored bytes, acknowledgements release
 * ha_wait_slave, waits time out without one, and a slave claiming more than
 * the master has is disconnected.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>

#include "ha/ha.h"
#include "../store/store_test.h"
#include "../testproc.h"
#include "../check_run.h"

#define DEADLINE_MS 10000

static struct event_base *base;
static store *st;
static char *dir;
static ha_service *ha;
static int port;

static void setup(void)
{
    rmq_remoting_init();
    dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    st = test_open(&cfg);
    base = event_base_new();
    ha_config hc;
    ha_config_defaults(&hc);
    hc.listen_host = "127.0.0.1";
    hc.commitlog_segment_size = cfg.mappedFileSizeCommitLog;
    char err[256];
    for (int tries = 0; !ha && tries < 20; tries++) {
        hc.listen_port = port = test_free_port();
        ha = ha_new(base, st, &hc, err, sizeof err);
    }
    ck_assert_msg(ha != NULL, "%s", err);
}

static void teardown(void)
{
    ha_free(ha);
    ha = NULL;
    event_base_free(base);
    store_close(st);
    test_rmrf(dir);
}

static int connect_slave(void)
{
    char addr[32], err[256];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    int fd = rmq_connect_blocking(addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void report(int fd, int64_t offset)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)offset);
    ck_assert_int_eq(write(fd, b, 8), 8);
}

/* Runs the loop and reads the socket until `want` bytes arrived; -1 when the master closed it. */
static ssize_t read_from_master(int fd, uint8_t *buf, size_t want)
{
    size_t got = 0;
    int64_t deadline = mono_ms() + DEADLINE_MS;
    while (got < want && mono_ms() < deadline) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ssize_t n = read(fd, buf + got, want - got);
        if (n == 0) return -1;
        if (n > 0) got += (size_t)n;
        else if (errno != EAGAIN) return -1;
        else usleep(1000);
    }
    return (ssize_t)got;
}

static void loop_until(const bool *flag)
{
    int64_t deadline = mono_ms() + DEADLINE_MS;
    while (!*flag && mono_ms() < deadline) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    ck_assert(*flag);
}

typedef struct wait_result {
    bool done, acked;
} wait_result;

static void on_wait(void *arg, bool acked)
{
    wait_result *r = arg;
    r->done = true;
    r->acked = acked;
}

START_TEST(test_new_slave_gets_last_segment_then_acks_release_waiters)
{
    char body[2048];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = 0;
    int64_t end = 0;
    while (end < 64 * 1024 + 4096) {   /* into the second 64 KiB segment */
        store_put_entry e = test_put(st, "HA_T", 0, body, "A", NULL);
        end = e.phys_offset + e.size;
    }
    ck_assert_int_eq(store_commitlog_max_offset(st), end);

    wait_result w = {0};
    ha_wait_slave(ha, end, DEADLINE_MS, on_wait, &w);
    ck_assert(!w.done);                  /* never from inside the call */
    ck_assert(!ha_slave_ok(ha, end));    /* nobody connected */

    int fd = connect_slave();
    report(fd, 0);
    uint8_t hdr[HA_HEADER_SIZE];
    ck_assert_int_eq(read_from_master(fd, hdr, sizeof hdr), HA_HEADER_SIZE);
    ha_transfer t;
    ck_assert_int_eq(ha_parse_transfer(hdr, sizeof hdr, &t), 0);  /* body follows */
    ck_assert_int_eq(t.phys_offset, 64 * 1024);
    ck_assert_int_eq(t.size, end - 64 * 1024);
    uint8_t *data = xmalloc((size_t)t.size);
    ck_assert_int_eq(read_from_master(fd, data, (size_t)t.size), t.size);
    store_slice sl;
    ck_assert_int_eq(store_read_raw(st, 64 * 1024, (uint32_t)t.size, &sl), RMQ_OK);
    ck_assert_uint_eq(sl.len, (uint32_t)t.size);
    ck_assert(memcmp(sl.data, data, sl.len) == 0);
    store_slice_release(&sl);
    free(data);
    ck_assert_int_eq(ha_connection_count(ha), 1);

    ck_assert(!w.done);
    report(fd, end);
    loop_until(&w.done);
    ck_assert(w.acked);
    ck_assert_int_eq(ha_slave_ack_offset(ha), end);
    ck_assert(ha_slave_ok(ha, end));

    /* An offset nobody acknowledges: the wait ends unacknowledged. */
    wait_result late = {0};
    ha_wait_slave(ha, end + 1, 50, on_wait, &late);
    loop_until(&late.done);
    ck_assert(!late.acked);

    /* New data is streamed on from where the last frame ended. */
    store_put_entry e = test_put(st, "HA_T", 0, "more", "B", NULL);
    ck_assert_int_eq(read_from_master(fd, hdr, sizeof hdr), HA_HEADER_SIZE);
    ha_parse_transfer(hdr, sizeof hdr, &t);
    ck_assert_int_eq(t.phys_offset, end);
    ck_assert_int_eq(t.size, e.size);
    close(fd);
}
END_TEST

START_TEST(test_slave_ahead_of_master_is_disconnected)
{
    store_put_entry e = test_put(st, "HA_T", 0, "one", "A", NULL);
    int64_t end = e.phys_offset + e.size;
    int fd = connect_slave();
    report(fd, end);                      /* the first report is a request: accepted */
    uint8_t buf[64];
    ck_assert_int_eq(read_from_master(fd, buf, HA_HEADER_SIZE), HA_HEADER_SIZE);
    ha_transfer t;
    ha_parse_transfer(buf, HA_HEADER_SIZE, &t);
    ck_assert_int_eq(t.phys_offset, end);  /* nothing to send yet: a heartbeat at the slave's end */
    ck_assert_int_eq(t.size, 0);
    report(fd, end + 100);                /* later ones beyond the master's end are not */
    ck_assert_int_eq(read_from_master(fd, buf, sizeof buf), -1);
    ck_assert_int_eq(ha_connection_count(ha), 0);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("ha_master");
    TCase *tc = tcase_create("master");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new_slave_gets_last_segment_then_acks_release_waiters);
    tcase_add_test(tc, test_slave_ahead_of_master_is_disconnected);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
