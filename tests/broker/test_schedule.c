/*
 * End to end: delayed delivery through the real mqbroker — a delay-level
 * message arrives at its due time (measured by a long-polling pull), retries
 * from CONSUMER_SEND_MSG_BACK reach %RETRY%group through the same levels, a
 * 5.x arbitrary delay (TIMER_DELIVER_MS / TIMER_DELAY_SEC) arrives on time,
 * across restarts every due message is delivered exactly once, and a
 * TIMER_DEL_UNIQKEY mark cancels the timer it names, across a restart too.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

/*
 * Delivery precision (within 100 ms of the due time) is asserted on the normal
 * build; sanitizer builds run several times slower, so there they only prove the
 * message is not early and does arrive.
 */
#ifdef RMQ_SANITIZED
#define LATE_SLACK_MS 900
#else
#define LATE_SLACK_MS 0
#endif

static test_broker tb;

static void setup(void) { tb_init(&tb, "test_schedule", NULL); }
static void teardown(void) { tb_done(&tb); }

/* Long-polls queue 0 of topic from offset until a message comes; returns it (one record). */
static rmq_cmd *wait_message(const char *topic, int64_t offset, int64_t within_ms)
{
    int64_t deadline = now_ms() + within_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        ck_assert_msg(left > 0, "nothing arrived in %s within %lld ms", topic, (long long)within_ms);
        rmq_cmd *p = tb_pull(&tb, "CG_sched", topic, 0, offset, left < 15000 ? left : 15000);
        if (p->code == 0) return p;
        ck_assert_msg(p->code == 19, "pull %s@%lld: %d %s max %lld", topic, (long long)offset, p->code, p->remark ? p->remark : "", (long long)tb_ext_i64(p, "maxOffset")); /* PULL_NOT_FOUND after the hold: poll again */
        cmd_free(p);
    }
}

START_TEST(test_delay_level_2_arrives_after_5s_within_100ms)
{
    tb_create_topic(&tb, "DelayT", 1);
    int64_t sent = now_ms();
    rmq_cmd *r = tb_send(&tb, "DelayT", 0, "DELAY\0012\002TAGS\001D\002UNIQ_KEY\001AC11000100002A9F0000000000000001",
                         "delayed");
    ck_assert_int_eq(tb_max_offset(&tb, "DelayT", 0), 0);  /* parked, not visible */
    ck_assert_int_eq(tb_max_offset(&tb, "SCHEDULE_TOPIC_XXXX", 1), 1);  /* level 2 = queue 1 */
    rmq_cmd *p = wait_message("DelayT", 0, 10000);
    int64_t elapsed = now_ms() - sent;
    ck_assert_msg(elapsed >= 5000 && elapsed <= 5100 + LATE_SLACK_MS, "level 2 (5 s) arrived after %lld ms", (long long)elapsed);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert(rec[0].body_len == 7 && memcmp(rec[0].body, "delayed", 7) == 0);
    ck_assert(rec[0].topic_len == 6 && memcmp(rec[0].topic, "DelayT", 6) == 0);
    ck_assert_int_eq(rec[0].queue_id, 0);
    ck_assert_int_eq(rec[0].queue_offset, 0);
    /* As Apache 4.9.8 stores it (golden pull of T_dl_*): the properties string keeps DELAY/REAL_*. */
    tb_assert_prop(&rec[0], "DELAY", "2");
    tb_assert_prop(&rec[0], "REAL_TOPIC", "DelayT");
    tb_assert_prop(&rec[0], "REAL_QID", "0");
    tb_assert_prop(&rec[0], "UNIQ_KEY", "AC11000100002A9F0000000000000001");
    tb_assert_prop(&rec[0], "TAGS", "D");
    /* delayOffset.json progress, as GET_ALL_DELAY_OFFSET (45) reports it. */
    rmq_cmd *d = tb_call(&tb, cmd_new_request(45), BC_TIMEOUT);
    char *offsets = xstrndup((const char *)d->body, d->body_len);
    ck_assert_msg(strstr(offsets, "2:1") != NULL, "delay offsets %s", offsets);
    free(offsets), cmd_free(d), cmd_free(p), cmd_free(r);
}
END_TEST

START_TEST(test_send_back_goes_to_retry_topic_through_the_delay_level)
{
    tb_create_topic(&tb, "RetryT", 1);
    rmq_cmd *r = tb_send(&tb, "RetryT", 0, "TAGS\001R\002UNIQ_KEY\001AC11000100002A9F0000000000000002", "retry-me");
    msg_host h;
    int64_t phys;
    ck_assert_int_eq(msg_offset_id_decode(cmd_ext_get(r, "msgId"), &h, &phys), RMQ_OK);
    rmq_cmd *req = cmd_new_request(36);
    cmd_ext_set_int(req, "offset", phys);
    cmd_ext_set(req, "group", "CG_retry");
    cmd_ext_set(req, "delayLevel", "1");  /* 1 s instead of the default 3 + reconsumeTimes */
    cmd_ext_set(req, "originMsgId", cmd_ext_get(r, "msgId"));
    cmd_ext_set(req, "originTopic", "RetryT");
    cmd_ext_set(req, "unitMode", "false");
    cmd_ext_set(req, "maxReconsumeTimes", "16");
    int64_t sent = now_ms();
    rmq_cmd *ack = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(ack->code, 0);
    rmq_cmd *p = wait_message("%RETRY%CG_retry", 0, 5000);
    int64_t elapsed = now_ms() - sent;
    ck_assert_msg(elapsed >= 1000 && elapsed <= 1100 + LATE_SLACK_MS, "retry (level 1) arrived after %lld ms", (long long)elapsed);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert_int_eq(rec[0].reconsume_times, 1);
    ck_assert(rec[0].body_len == 8 && memcmp(rec[0].body, "retry-me", 8) == 0);
    tb_assert_prop(&rec[0], "RETRY_TOPIC", "RetryT");
    tb_assert_prop(&rec[0], "ORIGIN_MESSAGE_ID", cmd_ext_get(r, "msgId"));
    tb_assert_prop(&rec[0], "UNIQ_KEY", "AC11000100002A9F0000000000000002");
    cmd_free(p), cmd_free(ack), cmd_free(r);
}
END_TEST

START_TEST(test_arbitrary_3s_delay_arrives_on_time)
{
    tb_create_topic(&tb, "TimerT", 1);
    int64_t sent = now_ms();
    char *props = str_printf("TIMER_DELIVER_MS\001%lld\002TAGS\001T", (long long)(sent + 3000));
    rmq_cmd *r = tb_send(&tb, "TimerT", 0, props, "in three seconds");
    ck_assert_int_eq(tb_max_offset(&tb, "TimerT", 0), 0);
    ck_assert_int_eq(tb_max_offset(&tb, "rmq_sys_wheel_timer", 0), 1);
    rmq_cmd *p = wait_message("TimerT", 0, 8000);
    int64_t elapsed = now_ms() - sent;
    ck_assert_msg(elapsed >= 3000 && elapsed <= 3100 + LATE_SLACK_MS, "3 s timer arrived after %lld ms", (long long)elapsed);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert(rec[0].body_len == 16 && memcmp(rec[0].body, "in three seconds", 16) == 0);
    /* Stored as Apache stores it: the start of its 1 s slot (one less on a slot's edge), delivered at the ms asked. */
    char *out = tb_prop(&rec[0], "TIMER_OUT_MS");
    int64_t asked = sent + 3000;
    ck_assert_int_eq(atoll(out), asked % 1000 == 0 ? asked - 1000 : asked / 1000 * 1000);
    ck_assert_int_ge(rec[0].store_timestamp, sent + 3000);

    /* TIMER_DELAY_SEC counts from the broker's receipt. */
    sent = now_ms();
    cmd_free(tb_send(&tb, "TimerT", 0, "TIMER_DELAY_SEC\0011", "in one second"));
    cmd_free(p);
    p = wait_message("TimerT", 1, 5000);
    elapsed = now_ms() - sent;
    ck_assert_msg(elapsed >= 1000 && elapsed <= 1100 + LATE_SLACK_MS, "1 s timer arrived after %lld ms", (long long)elapsed);
    free(out), free(props), cmd_free(p), cmd_free(r);
}
END_TEST

START_TEST(test_timer_delay_beyond_three_days_is_refused)
{
    tb_create_topic(&tb, "TimerT", 1);
    rmq_cmd *resp = tb_call(&tb, tb_send_req("PG_e2e", "TimerT", 0, 0, "TIMER_DELAY_SEC\001300000", "x"), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 13);  /* MESSAGE_ILLEGAL */
    cmd_free(resp);
    resp = tb_call(&tb, tb_send_req("PG_e2e", "TimerT", 0, 0, "TIMER_DELIVER_MS\001soon", "x"), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 13);
    cmd_free(resp);
    /* A delivery time already past is an ordinary message. */
    cmd_free(tb_send(&tb, "TimerT", 0, "TIMER_DELIVER_MS\0011000", "now"));
    ck_assert_int_eq(tb_max_offset(&tb, "TimerT", 0), 1);
}
END_TEST

START_TEST(test_restart_delivers_each_due_message_once)
{
    tb_create_topic(&tb, "RestartT", 1);
    /* A: delivered before the restart. */
    cmd_free(tb_send(&tb, "RestartT", 0, "DELAY\0011", "A"));
    char *props = str_printf("TIMER_DELIVER_MS\001%lld", (long long)(now_ms() + 500));
    cmd_free(tb_send(&tb, "RestartT", 0, props, "B"));
    free(props);
    cmd_free(wait_message("RestartT", 0, 5000));
    cmd_free(wait_message("RestartT", 1, 5000));
    /* C (level 1) and D (timer, 1.5 s) still pending when the broker stops. */
    cmd_free(tb_send(&tb, "RestartT", 0, "DELAY\0011", "C"));
    props = str_printf("TIMER_DELIVER_MS\001%lld", (long long)(now_ms() + 1500));
    cmd_free(tb_send(&tb, "RestartT", 0, props, "D"));
    free(props);
    tb_restart(&tb, SIGTERM);
    cmd_free(wait_message("RestartT", 2, 8000));
    rmq_cmd *p = wait_message("RestartT", 3, 8000);
    cmd_free(p);
    usleep(1500000);  /* anything delivered twice would be there by now */
    ck_assert_int_eq(tb_max_offset(&tb, "RestartT", 0), 4);
    p = tb_pull(&tb, "CG_sched", "RestartT", 0, 0, 0);
    msg_record rec[8];
    ck_assert_int_eq(tb_records(p, rec, 8), 4);
    char seen[5] = {0};
    for (int i = 0; i < 4; i++) seen[i] = (char)rec[i].body[0];
    ck_assert(memchr(seen, 'A', 4) && memchr(seen, 'B', 4) && memchr(seen, 'C', 4) && memchr(seen, 'D', 4));
    cmd_free(p);
}
END_TEST

START_TEST(test_cancel_mark_drops_the_timer_it_names_across_a_restart)
{
    tb_create_topic(&tb, "CancelT", 1);
    int64_t due = now_ms() + 2500;
    char *keep = str_printf("TIMER_DELIVER_MS\001%lld\002UNIQ_KEY\001AC11000100002A9F00000000000000K2", (long long)due);
    char *drop = str_printf("TIMER_DELIVER_MS\001%lld\002UNIQ_KEY\001AC11000100002A9F00000000000000K1", (long long)due);
    /* What 5.3.3's RecallMessageProcessor stores: TIMER_DEL_UNIQKEY = "<topic>+<unique key>", same due time. */
    char *mark = str_printf("TIMER_DELIVER_MS\001%lld\002TIMER_DEL_UNIQKEY\001CancelT+AC11000100002A9F00000000000000K1",
                            (long long)due);
    cmd_free(tb_send(&tb, "CancelT", 0, drop, "cancelled"));
    cmd_free(tb_send(&tb, "CancelT", 0, keep, "kept"));
    cmd_free(tb_send(&tb, "CancelT", 0, mark, "0"));
    ck_assert_int_eq(tb_max_offset(&tb, "rmq_sys_wheel_timer", 0), 3);
    tb_restart(&tb, SIGTERM);  /* the mark is read back from the timer files */
    rmq_cmd *p = wait_message("CancelT", 0, 8000);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert(rec[0].body_len == 4 && memcmp(rec[0].body, "kept", 4) == 0);
    cmd_free(p);
    usleep(1500000);  /* neither the cancelled message nor the mark comes later */
    ck_assert_int_eq(tb_max_offset(&tb, "CancelT", 0), 1);

    /* A mark for a time already past is refused, with 5.3.3's remark. */
    rmq_cmd *resp = tb_call(&tb, tb_send_req("PG_e2e", "CancelT", 0, 0,
                                             "TIMER_DELIVER_MS\0011000\002TIMER_DEL_UNIQKEY\001CancelT+X", "0"),
                            BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 13);  /* MESSAGE_ILLEGAL */
    ck_assert_str_eq(resp->remark, "timer message illegal, the delay time should not be bigger than the max delay "
                                   "259200000ms; or if set del msg, the delay time should be bigger than the current time");
    cmd_free(resp);
    free(keep), free(drop), free(mark);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_delay_level_2_arrives_after_5s_within_100ms,
        test_send_back_goes_to_retry_topic_through_the_delay_level,
        test_arbitrary_3s_delay_arrives_on_time,
        test_timer_delay_beyond_three_days_is_refused,
        test_restart_delivers_each_due_message_once,
        test_cancel_mark_drops_the_timer_it_names_across_a_restart,
        NULL,
    };
    return tb_run_tests("schedule", 60, setup, teardown, tests);
}
