/*
 * End to end through the real mqbroker: 5.3's RECALL_MESSAGE and the timer
 * config keys. A timer send's answer carries Apache's recall handle; the
 * handle given back cancels the message (also across a restart); every
 * refusal of RECALL_MESSAGE has Apache's code and remark; timerWheelEnable
 * and timerMaxDelaySec change what a send is answered; config/timermetrics
 * counts what is pending per topic, as Apache's TimerMetrics.
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

static test_broker tb;

static void setup(void) { tb_init(&tb, "test_recall", "--recallMessageEnable=true", NULL); }
static void teardown(void) { tb_done(&tb); }

static rmq_cmd *recall_req(const char *topic, const char *handle)
{
    rmq_cmd *req = cmd_new_request(370);
    cmd_ext_set(req, "producerGroup", "PG_recall");
    if (topic) cmd_ext_set(req, "topic", topic);
    if (handle) cmd_ext_set(req, "recallHandle", handle);
    cmd_ext_set(req, "bname", "broker-e2e");
    return req;
}

static void expect(rmq_cmd *r, int code, const char *remark)
{
    ck_assert_msg(r->code == code, "answered %d (%s), wanted %d", r->code, r->remark ? r->remark : "", code);
    if (remark) ck_assert_str_eq(r->remark ? r->remark : "(null)", remark);
    else ck_assert_ptr_null(r->remark);
    cmd_free(r);
}

/* base64url (padded) of TEXT, as Base64.getUrlEncoder(). */
static char *url_b64(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)text, (int)n);
    for (char *c = out; *c; c++) *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

static char *decode_handle(const char *h)
{
    char *std = strdup(h);
    for (char *c = std; *c; c++) *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    unsigned char *out = calloc(1, strlen(h) + 1);
    ck_assert_int_ge(EVP_DecodeBlock(out, (const unsigned char *)std, (int)strlen(std)), 0);
    free(std);
    return (char *)out;
}

static void update_config(const char *kv)
{
    rmq_cmd *req = cmd_new_request(25);
    cmd_set_body(req, kv, strlen(kv));
    expect(tb_call(&tb, req, BC_TIMEOUT), 0, NULL);
}

/* Long-polls queue 0 of TOPIC from OFFSET until something comes; NULL after WITHIN_MS. */
static rmq_cmd *poll_message(const char *topic, int64_t offset, int64_t within_ms)
{
    int64_t deadline = now_ms() + within_ms;
    for (int64_t left; (left = deadline - now_ms()) > 0;) {
        rmq_cmd *p = tb_pull(&tb, "CG_recall", topic, 0, offset, left < 15000 ? left : 15000);
        if (p->code == 0) return p;
        cmd_free(p);
    }
    return NULL;
}

START_TEST(test_the_send_answer_handle_recalls_the_timer_across_a_restart)
{
    tb_create_topic(&tb, "RecallT", 1);
    int64_t due = now_ms() + 3000;
    char *props = str_printf("TIMER_DELIVER_MS\001%lld\002UNIQ_KEY\001AC11000100002A9F00000000000000R1", (long long)due);
    rmq_cmd *r = tb_send(&tb, "RecallT", 0, props, "recalled");
    const char *handle = cmd_ext_get(r, "recallHandle");
    ck_assert_ptr_nonnull(handle);
    /* SendMessageProcessor.attachRecallHandle: v1, real topic, broker, TIMER_OUT_MS + 1, unique key. */
    int64_t out = due % 1000 == 0 ? due - 1000 : due / 1000 * 1000;
    char *want = str_printf("v1 RecallT broker-e2e %lld AC11000100002A9F00000000000000R1", (long long)(out + 1));
    char *raw = decode_handle(handle);
    ck_assert_str_eq(raw, want);
    char *kept = str_printf("TIMER_DELIVER_MS\001%lld\002UNIQ_KEY\001AC11000100002A9F00000000000000R2", (long long)due);
    cmd_free(tb_send(&tb, "RecallT", 0, kept, "kept"));

    rmq_cmd *a = tb_call(&tb, recall_req("RecallT", handle), BC_TIMEOUT);
    ck_assert_int_eq(a->code, 0);
    ck_assert_str_eq(a->remark, "not set any response code");  /* what 5.3.3 leaves on its success */
    ck_assert_str_eq(cmd_ext_get(a, "msgId"), "AC11000100002A9F00000000000000R1");
    ck_assert_str_eq(cmd_ext_get(a, "MSG_REGION"), "DefaultRegion");
    cmd_free(a);
    ck_assert_int_eq(tb_max_offset(&tb, "rmq_sys_wheel_timer", 0), 3);  /* two timers and the mark */
    tb_restart(&tb, SIGTERM);  /* the mark is read back from the timer files */

    rmq_cmd *p = poll_message("RecallT", 0, 8000);
    ck_assert_ptr_nonnull(p);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert(rec[0].body_len == 4 && memcmp(rec[0].body, "kept", 4) == 0);
    cmd_free(p);
    usleep(1500000);  /* neither the recalled message nor the mark comes later */
    ck_assert_int_eq(tb_max_offset(&tb, "RecallT", 0), 1);
    free(props), free(kept), free(want), free(raw), cmd_free(r);
}
END_TEST

START_TEST(test_recall_refusals_answer_as_apache)
{
    tb_create_topic(&tb, "RecallT", 1);
    /* 5.3 lets missing fields through as null: the topic lookup throws, a null handle is invalid. */
    expect(tb_call(&tb, recall_req(NULL, "x"), BC_TIMEOUT), 1,
           "java.lang.NullPointerException: Cannot invoke \"Object.hashCode()\" because \"key\" is null");
    expect(tb_call(&tb, recall_req("RecallT", NULL), BC_TIMEOUT), 604, "recall handle is invalid");

    int64_t ts = now_ms() + 60000;
    char *raw = str_printf("v1 RecallT broker-e2e %lld AC11000100002A9F00000000000000R9", (long long)ts);
    char *good = url_b64(raw);
    expect(tb_call(&tb, recall_req("NoSuchTopic", good), BC_TIMEOUT), 17, "recall failed, the topic[NoSuchTopic] not exist");
    char *v2 = url_b64("v2 RecallT broker-e2e 99999999999999 X");
    const char *const bad[] = {"", "!!!!", "djE=x", "dj+x", "YQ" /* "a" */, v2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(tb_call(&tb, recall_req("RecallT", bad[i]), BC_TIMEOUT), 604, "recall handle is invalid");
    free(v2);
    char *short4 = url_b64("v1 RecallT broker-e2e 1");
    expect(tb_call(&tb, recall_req("RecallT", short4), BC_TIMEOUT), 604, "recall handle is invalid");
    char *other_topic = url_b64("v1 OtherT broker-e2e 99999999999999 X");
    expect(tb_call(&tb, recall_req("RecallT", other_topic), BC_TIMEOUT), 604, "recall failed, topic not match");
    char *other_broker = url_b64("v1 RecallT broker-x 99999999999999 X");
    expect(tb_call(&tb, recall_req("RecallT", other_broker), BC_TIMEOUT), 604,
           "recall failed, broker service not available");
    char *past = url_b64("v1 RecallT broker-e2e 1000 X");
    expect(tb_call(&tb, recall_req("RecallT", past), BC_TIMEOUT), 604, "recall failed, timestamp invalid");
    char *nan = url_b64("v1 RecallT broker-e2e soon X");
    expect(tb_call(&tb, recall_req("RecallT", nan), BC_TIMEOUT), 604, "recall failed, timestamp invalid");
    char *far = str_printf("v1 RecallT broker-e2e %lld X", (long long)(now_ms() + 3LL * 86400 * 1000 + 60000));
    char *far64 = url_b64(far);
    expect(tb_call(&tb, recall_req("RecallT", far64), BC_TIMEOUT), 604, "recall failed, timestamp invalid");
    /* A handle for a message already delivered, or never sent, is still a success (Apache cannot tell). */
    rmq_cmd *a = tb_call(&tb, recall_req("RecallT", good), BC_TIMEOUT);
    ck_assert_int_eq(a->code, 0);
    ck_assert_str_eq(cmd_ext_get(a, "msgId"), "AC11000100002A9F00000000000000R9");
    cmd_free(a);

    update_config("recallMessageEnable=false");
    expect(tb_call(&tb, recall_req("RecallT", good), BC_TIMEOUT), 16, "recall failed, operation is forbidden");
    update_config("recallMessageEnable=true\nbrokerPermission=4\nallowRecallWhenBrokerNotWriteable=false");
    expect(tb_call(&tb, recall_req("RecallT", good), BC_TIMEOUT), 14, "recall failed, broker service not available");
    update_config("brokerPermission=6");
    free(raw), free(good), free(short4), free(other_topic), free(other_broker), free(past), free(nan), free(far),
        free(far64);
}
END_TEST

START_TEST(test_timer_config_keys_change_the_answers)
{
    tb_create_topic(&tb, "TimerCfgT", 1);
    update_config("timerMaxDelaySec=60");
    rmq_cmd *r = tb_call(&tb, tb_send_req("PG_e2e", "TimerCfgT", 0, 0, "TIMER_DELAY_SEC\00161", "x"), BC_TIMEOUT);
    expect(r, 13, "timer message illegal, the delay time should not be bigger than the max delay 60000ms; or if set "
                  "del msg, the delay time should be bigger than the current time");
    cmd_free(tb_send(&tb, "TimerCfgT", 0, "TIMER_DELAY_SEC\00159", "within"));
    update_config("timerWheelEnable=false");
    r = tb_call(&tb, tb_send_req("PG_e2e", "TimerCfgT", 0, 0, "TIMER_DELAY_SEC\0011", "x"), BC_TIMEOUT);
    expect(r, 1, "accurate timer message is not enabled, timerWheelEnable is false");
    /* A delay level wins over a 5.x time, which is dropped (HookUtils.checkIfTimerMessage). */
    r = tb_send(&tb, "TimerCfgT", 0, "DELAY\0011\002TIMER_DELAY_SEC\0011", "level");
    cmd_free(r);
    update_config("timerWheelEnable=true");
    ck_assert_int_eq(tb_max_offset(&tb, "SCHEDULE_TOPIC_XXXX", 0), 1);
    rmq_cmd *p = poll_message("TimerCfgT", 0, 5000);
    ck_assert_ptr_nonnull(p);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(p, rec, 2), 1);
    ck_assert(rec[0].body_len == 5 && memcmp(rec[0].body, "level", 5) == 0);
    char *v = tb_prop(&rec[0], "TIMER_DELAY_SEC");
    ck_assert_ptr_null(v);
    cmd_free(p);
}
END_TEST

START_TEST(test_timermetrics_counts_pending_timers_per_topic)
{
    tb_create_topic(&tb, "MetricA", 1);
    tb_create_topic(&tb, "MetricB", 1);
    char *props = str_printf("TIMER_DELIVER_MS\001%lld", (long long)(now_ms() + 120000));
    for (int i = 0; i < 3; i++) cmd_free(tb_send(&tb, "MetricA", 0, props, "a"));
    cmd_free(tb_send(&tb, "MetricB", 0, "TIMER_DELAY_MS\001500", "b"));
    rmq_cmd *delivered = poll_message("MetricB", 0, 5000);
    ck_assert_ptr_nonnull(delivered);
    cmd_free(delivered);
    tb_restart(&tb, SIGTERM);  /* writes config/timermetrics; the restart counts again from the files */
    tb_restart(&tb, SIGTERM);
    char *path = str_printf("%s/store/config/timermetrics", tb.dir);
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "{\"dataVersion\":{\"counter\":") == text, "%s", text);
    ck_assert_msg(strstr(text, ",\"stateVersion\":0,\"timestamp\":"), "%s", text);
    ck_assert_msg(strstr(text, "\"timingCount\":{\"MetricA\":{\"count\":3,\"timeStamp\":"), "%s", text);
    ck_assert_msg(strstr(text, "\"MetricB\":{\"count\":0,\"timeStamp\":"), "%s", text);
    /* GET_TIMER_METRICS answers the same JSON (its version moved on with the recount at
     * start), GET_TIMER_CHECK_POINT the 56 bytes of TimerCheckpoint.encode. */
    rmq_cmd *r = tb_call(&tb, cmd_new_request(61), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    char *body = strndup((const char *)r->body, r->body_len);
    ck_assert_msg(strstr(body, "{\"dataVersion\":{\"counter\":") == body, "%s", body);
    ck_assert_msg(strstr(body, "\"timingCount\":{\"MetricA\":{\"count\":3,\"timeStamp\":"), "%s", body);
    free(body);
    cmd_free(r);
    r = tb_call(&tb, cmd_new_request(60), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(r->body_len, 56);
    cmd_free(r);
    free(text), free(path), free(props);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_the_send_answer_handle_recalls_the_timer_across_a_restart,
        test_recall_refusals_answer_as_apache,
        test_timer_config_keys_change_the_answers,
        test_timermetrics_counts_pending_timers_per_topic,
        NULL,
    };
    return tb_run_tests("recall", 60, setup, teardown, tests);
}
