/*
 * End to end: a master mqbroker and a slave mqbroker (brokerRole=SLAVE,
 * haMasterAddress = the master's HA port) on 127.0.0.1. Messages sent to the
 * master reach the slave's commit log and consume queue byte for byte; a
 * restarted slave resumes from its own end and catches up with what it missed.
 * The topic is the broker-name topic, which both brokers have without a name
 * server (a slave refuses topic creation and we run no SlaveSynchronize here).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../broker/broker_client.h"
#include "common/util.h"

#define TOPIC "broker-e2e"     /* tb_start's brokerName */
#define SYNC_DEADLINE_MS 20000 /* a guard against hanging, not a speed check */

static test_broker master, slave;
static char *slave_master_arg;

static void setup(void)
{
    tb_init(&master, "test_ha_master", "--brokerTopicEnable=true", NULL);
    slave_master_arg = str_printf("--haMasterAddress=127.0.0.1:%d", master.port + 1);
    tb_init(&slave, "test_ha_slave", "--brokerTopicEnable=true", "--brokerRole=SLAVE", "--brokerId=1",
            slave_master_arg, NULL);
}

static void teardown(void)
{
    tb_done(&slave);
    tb_done(&master);
    free(slave_master_arg);
}

/* Waits until the slave's queue 0 holds as many entries as the master's; returns that count. */
static int64_t wait_slave_caught_up(void)
{
    int64_t want = tb_max_offset(&master, TOPIC, 0);
    int64_t deadline = mono_ms() + SYNC_DEADLINE_MS, got;
    while ((got = tb_max_offset(&slave, TOPIC, 0)) != want && mono_ms() < deadline) usleep(50000);
    ck_assert_int_eq(got, want);
    return want;
}

/* Pulls [offset, offset+32) from both and asserts the bodies (whole stored records) are identical. */
static void assert_same_records(int64_t offset, int expect)
{
    rmq_cmd *m = tb_pull(&master, "CG_ha", TOPIC, 0, offset, 0);
    rmq_cmd *s = tb_pull(&slave, "CG_ha", TOPIC, 0, offset, 0);
    ck_assert_int_eq(m->code, 0);
    ck_assert_int_eq(s->code, 0);
    ck_assert_uint_eq(s->body_len, m->body_len);
    ck_assert(memcmp(s->body, m->body, m->body_len) == 0);
    msg_record recs[32];
    ck_assert_int_eq(tb_records(s, recs, 32), expect);
    ck_assert_int_eq(recs[0].queue_offset, offset);
    cmd_free(m);
    cmd_free(s);
}

static void send_n(int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char body[64], props[64];
        snprintf(body, sizeof body, "ha-body-%d", i);
        snprintf(props, sizeof props, "TAGS\001Tag%d\002KEYS\001k%d", i % 3, i);
        cmd_free(tb_send(&master, TOPIC, 0, props, body));
    }
}

START_TEST(test_slave_replicates_and_resumes_after_restart)
{
    send_n(0, 20);
    ck_assert_int_eq(wait_slave_caught_up(), 20);
    assert_same_records(0, 20);

    /* The slave refuses sends: it is a replica. */
    rmq_cmd *r = tb_call(&slave, tb_send_req("PG_ha", TOPIC, 0, 0, NULL, "x"), BC_TIMEOUT);
    ck_assert_int_ne(r->code, 0);
    cmd_free(r);

    /* Down for a while: what it misses comes after its own end once it is back. */
    ck_assert_int_eq(test_proc_stop(&slave.proc, SIGTERM), 0);
    send_n(20, 10);
    tb_start(&slave);
    ck_assert_int_eq(wait_slave_caught_up(), 30);
    assert_same_records(0, 30);
    assert_same_records(20, 10);

    /* The master saw two requests: 0 from the empty slave, then the restarted slave's end. */
    rmq_cmd *p = tb_pull(&slave, "CG_ha", TOPIC, 0, 19, 0);
    msg_record recs[32];
    ck_assert_int_eq(tb_records(p, recs, 32), 11);
    int64_t end_before = recs[0].phys_offset + recs[0].total_size;
    cmd_free(p);
    char *log = str_printf("%s/broker.log", master.dir);
    size_t len;
    char *text = read_file(log, &len);
    ck_assert_ptr_nonnull(text);
    char want[64];
    snprintf(want, sizeof want, "requests offset %lld\n", (long long)end_before);
    ck_assert_msg(strstr(text, "requests offset 0\n") != NULL, "no first request in the master's log");
    ck_assert_msg(strstr(text, want) != NULL, "the restarted slave did not ask for %lld", (long long)end_before);
    free(text);
    free(log);
}
END_TEST

/* A slave started while its master is down keeps retrying and syncs once the master is up. */
START_TEST(test_slave_reconnects_to_a_restarted_master)
{
    send_n(0, 5);
    ck_assert_int_eq(wait_slave_caught_up(), 5);
    tb_restart(&master, SIGTERM);
    send_n(5, 5);
    ck_assert_int_eq(wait_slave_caught_up(), 10);
    assert_same_records(0, 10);
}
END_TEST

/* SYNC_MASTER: a send waits for a slave's acknowledgement; without a slave it says so. */
START_TEST(test_sync_master_answers_after_the_slave_acknowledged)
{
    ck_assert_int_eq(test_proc_stop(&slave.proc, SIGTERM), 0);
    int n = 0;
    while (master.extra[n]) n++;
    master.extra[n] = "--brokerRole=SYNC_MASTER";
    tb_restart(&master, SIGTERM);
    rmq_cmd *r = tb_call(&master, tb_send_req("PG_ha", TOPIC, 0, 0, NULL, "no-slave"), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 11); /* SLAVE_NOT_AVAILABLE: stored, not replicated */
    cmd_free(r);
    tb_start(&slave);
    wait_slave_caught_up();
    r = tb_call(&master, tb_send_req("PG_ha", TOPIC, 0, 0, NULL, "replicated"), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0); /* SEND_OK only once the slave confirmed it */
    cmd_free(r);
    /* What SEND_OK acknowledged is already on the slave. */
    ck_assert_int_eq(tb_max_offset(&slave, TOPIC, 0), tb_max_offset(&master, TOPIC, 0));
}
END_TEST

int main(void)
{
    const TTest *tests[] = {test_slave_replicates_and_resumes_after_restart, test_slave_reconnects_to_a_restarted_master,
                            test_sync_master_answers_after_the_slave_acknowledged, NULL};
    return tb_run_tests("ha_e2e", 120, setup, teardown, tests);
}
