/*
 * Slave reads steered by the master's pull answers (PullMessageProcessor): a
 * consumer that lags more than accessMessageInMemoryMaxRatio of RAM is told
 * suggestWhichBrokerId = the group's whichBrokerWhenConsumeSlowly, one that
 * keeps up is told the group's brokerId, and without slaveReadEnable it is
 * always told the master (0). The Java client's PullAPIWrapper sends its next
 * pull of the queue to that broker id.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"
#include "common/util.h"
#include "../check_run.h"

#define TOPIC "SlaveReadTopic"

static test_broker tb;

/* A subscription group with the given brokerId and whichBrokerWhenConsumeSlowly. */
static void create_group(const char *group, int broker_id, int slow_id)
{
    char *body = str_printf("{\"brokerId\":%d,\"consumeBroadcastEnable\":true,\"consumeEnable\":true,"
                            "\"consumeFromMinEnable\":true,\"groupName\":\"%s\","
                            "\"notifyConsumerIdsChangedEnable\":true,\"retryMaxTimes\":16,\"retryQueueNums\":1,"
                            "\"whichBrokerWhenConsumeSlowly\":%d}",
                            broker_id, group, slow_id);
    rmq_cmd *req = cmd_new_request(200); /* UPDATE_AND_CREATE_SUBSCRIPTIONGROUP */
    cmd_set_body(req, body, strlen(body));
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    free(body);
}

/* suggestWhichBrokerId of a pull of queue 0 from offset 0 that finds the message. */
static int64_t suggested(const char *group)
{
    rmq_cmd *p = tb_pull(&tb, group, TOPIC, 0, 0, 0);
    ck_assert_int_eq(p->code, 0);
    int64_t id = tb_ext_i64(p, "suggestWhichBrokerId");
    cmd_free(p);
    return id;
}

static void start(const char *slave_read, const char *ratio)
{
    tb_init(&tb, "test_slave_read", slave_read, ratio, NULL);
    tb_create_topic(&tb, TOPIC, 1);
    cmd_free(tb_send(&tb, TOPIC, 0, "TAGS\001t", "lagging"));
    create_group("g-default", 0, 1);
    create_group("g-tuned", 1, 2);
}

static void lagging_setup(void)
{
    /* No RAM for hot data: every pull that finds a message lags "too far". */
    start("--slaveReadEnable=true", "--accessMessageInMemoryMaxRatio=0");
}

static void keeping_up_setup(void)
{
    start("--slaveReadEnable=true", "--accessMessageInMemoryMaxRatio=40");
}

static void no_slave_read_setup(void)
{
    start("--slaveReadEnable=false", "--accessMessageInMemoryMaxRatio=0");
}

static void teardown(void)
{
    tb_done(&tb);
}

START_TEST(a_lagging_consumer_is_sent_to_which_broker_when_consume_slowly)
{
    ck_assert_int_eq(suggested("g-default"), 1);
    ck_assert_int_eq(suggested("g-tuned"), 2);
}
END_TEST

START_TEST(a_consumer_keeping_up_is_sent_to_the_groups_broker_id)
{
    ck_assert_int_eq(suggested("g-default"), 0);
    ck_assert_int_eq(suggested("g-tuned"), 1);
}
END_TEST

START_TEST(without_slave_read_every_pull_stays_on_the_master)
{
    ck_assert_int_eq(suggested("g-default"), 0);
    ck_assert_int_eq(suggested("g-tuned"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slave_read");
    struct {
        const char *name;
        void (*setup)(void);
        const TTest *test;
    } cases[] = {
        {"lagging", lagging_setup, a_lagging_consumer_is_sent_to_which_broker_when_consume_slowly},
        {"keeping-up", keeping_up_setup, a_consumer_keeping_up_is_sent_to_the_groups_broker_id},
        {"no-slave-read", no_slave_read_setup, without_slave_read_every_pull_stays_on_the_master},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, cases[i].setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return test_run_suite(s);
}
