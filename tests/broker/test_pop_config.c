/*
 * End to end: the POP keys of 5.3's BrokerConfig that change what a client sees,
 * set at run time with UPDATE_BROKER_CONFIG as an operator would.
 */
#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

#define BROKER_NAME "broker-e2e"
#define REVIVE_WAIT_MS 12000  /* invisible time + revive lag (ackTimeInterval + 1 s + 3 s quiet) */

static test_broker tb;

#include "pop_client.h"

static void setup(void) { tb_init(&tb, "test_pop_config", NULL); }
static void teardown(void) { tb_done(&tb); }

static void update_config(const char *kv)
{
    rmq_cmd *req = cmd_new_request(25);  /* UPDATE_BROKER_CONFIG */
    cmd_set_body(req, kv, strlen(kv));
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
}

/*
 * POP keys of 5.3's BrokerConfig that change what a client sees: popPollingSize and
 * maxPopPollingSize answer POLLING_FULL (209) beyond them; with
 * popResponseReturnActualRetryTopic a revived message comes under its retry topic.
 */
START_TEST(test_pop_config_keys_as_apache)
{
    tb_create_topic(&tb, "PopK", 1);
    char err[256];
    int fd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    update_config("popPollingSize=0");
    rmq_cmd *held = pop_req("GKeys", "PopK", 0, 32, 60000, 3000, false, NULL);
    ck_assert_int_eq(rmq_write_cmd_fd(fd, held), 0);  /* the first of its key is held */
    cmd_free(held);
    usleep(300000);
    rmq_cmd *r = tb_call(&tb, pop_req("GKeys", "PopK", 0, 32, 60000, 3000, false, NULL), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 209);  /* more than popPollingSize (0) already held for it */
    cmd_free(r);
    update_config("popPollingSize=1024\nmaxPopPollingSize=1");
    r = tb_call(&tb, pop_req("GKeys2", "PopK", 0, 32, 60000, 3000, false, NULL), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 209);  /* maxPopPollingSize (1) held in all */
    cmd_free(r);
    r = rmq_read_frame_fd(fd, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->code, 210);  /* the held one times out as before */
    cmd_free(r);
    close(fd);
    update_config("maxPopPollingSize=100000\npopResponseReturnActualRetryTopic=true");

    cmd_free(tb_send(&tb, "PopK", 0, "TAGS\001k", "revived"));
    r = pop("GAct", "PopK", 32, 2000);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = pop_within("GAct", "PopK", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "not redelivered within %d ms", REVIVE_WAIT_MS);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(r, rec, 2), 1);
    const char *retry = "%RETRY%GAct_PopK";
    ck_assert_msg(rec[0].topic_len == strlen(retry) && memcmp(rec[0].topic, retry, strlen(retry)) == 0,
                  "popped under %.*s", (int)rec[0].topic_len, rec[0].topic);
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_pop_config_keys_as_apache,
        NULL,
    };
    return tb_run_tests("pop_config", 60, setup, teardown, tests);
}
