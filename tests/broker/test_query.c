/*
 * End to end: QUERY_MESSAGE (by key, by unique key) and VIEW_MESSAGE_BY_ID
 * against the real mqbroker answer the very bytes a consumer pulled, with the
 * header fields and the not-found answer Apache 4.9.8 gives (golden
 * java-client-4.9.8 / mqadmin-4.9.8 frames for codes 12 and 33).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

#define UNIQ "7F00000100002A9F0000000000000042"

static test_broker tb;

static void setup(void) { tb_init(&tb, "test_query", NULL); }
static void teardown(void) { tb_done(&tb); }

/* As MQClientAPIImpl.queryMessage sends it. */
static rmq_cmd *query(const char *topic, const char *key, int max, bool unique, int64_t begin)
{
    rmq_cmd *req = cmd_new_request(12);
    cmd_ext_set(req, "_UNIQUE_KEY_QUERY", unique ? "true" : "false");
    cmd_ext_set_int(req, "beginTimestamp", begin);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "maxNum", max);
    cmd_ext_set(req, "endTimestamp", "9223372036854775807");
    cmd_ext_set(req, "key", key);
    return tb_call(&tb, req, BC_TIMEOUT);
}

START_TEST(test_query_by_key_unique_key_and_id_return_the_pulled_bytes)
{
    tb_create_topic(&tb, "QueryT", 1);
    cmd_free(tb_send(&tb, "QueryT", 0, "KEYS\001other", "noise"));
    rmq_cmd *sent = tb_send(&tb, "QueryT", 0, "KEYS\001qk1 qk2\002UNIQ_KEY\001" UNIQ "\002TAGS\001Q", "queried");
    rmq_cmd *pull = tb_pull(&tb, "CG_q", "QueryT", 0, 1, 0);
    ck_assert_int_eq(pull->code, 0);
    msg_record rec;
    ck_assert_int_eq(tb_records(pull, &rec, 1), 1);

    const char *keys[] = {"qk1", "qk2"};
    for (int i = 0; i < 2; i++) {
        rmq_cmd *q = query("QueryT", keys[i], 32, false, 0);
        ck_assert_int_eq(q->code, 0);
        ck_assert_ptr_null(q->remark);
        ck_assert_uint_eq(q->body_len, pull->body_len);
        ck_assert(memcmp(q->body, pull->body, pull->body_len) == 0);
        ck_assert_int_eq(tb_ext_i64(q, "indexLastUpdatePhyoffset"), rec.phys_offset);
        ck_assert_int_eq(tb_ext_i64(q, "indexLastUpdateTimestamp"), rec.store_timestamp);
        cmd_free(q);
    }
    /* queryMsgByUniqueKey: maxNum is replaced by defaultQueryMaxNum. */
    rmq_cmd *q = query("QueryT", UNIQ, 1, true, now_ms() - 60000);
    ck_assert_int_eq(q->code, 0);
    ck_assert(q->body_len == pull->body_len && memcmp(q->body, pull->body, pull->body_len) == 0);
    cmd_free(q);

    /* VIEW_MESSAGE_BY_ID with the offset of the msgId the send answered. */
    msg_host h;
    int64_t phys;
    ck_assert_int_eq(msg_offset_id_decode(cmd_ext_get(sent, "msgId"), &h, &phys), RMQ_OK);
    rmq_cmd *req = cmd_new_request(33);
    cmd_ext_set_int(req, "offset", phys);
    rmq_cmd *v = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(v->code, 0);
    ck_assert(v->body_len == pull->body_len && memcmp(v->body, pull->body, pull->body_len) == 0);
    cmd_free(v), cmd_free(pull), cmd_free(sent);
}
END_TEST

START_TEST(test_not_found_answers_as_apache)
{
    tb_create_topic(&tb, "QueryT", 1);
    cmd_free(tb_send(&tb, "QueryT", 0, "KEYS\001k", "x"));
    /* mqadmin-4.9.8.jsonl: code 22, this remark, both index fields 0. */
    rmq_cmd *q = query("QueryT", "FD000000000000000000000000000002", 32, true, 0);
    ck_assert_int_eq(q->code, 22);
    ck_assert_str_eq(q->remark, "can not find message, maybe time range not correct");
    ck_assert_str_eq(cmd_ext_get(q, "indexLastUpdatePhyoffset"), "0");
    ck_assert_str_eq(cmd_ext_get(q, "indexLastUpdateTimestamp"), "0");
    ck_assert_uint_eq(q->body_len, 0);
    cmd_free(q);
    /* A time range after the message finds nothing either. */
    q = query("QueryT", "k", 32, false, now_ms() + 60000);
    ck_assert_int_eq(q->code, 22);
    cmd_free(q);

    rmq_cmd *req = cmd_new_request(33);
    cmd_ext_set(req, "offset", "123456789");
    rmq_cmd *v = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(v->code, 1);
    ck_assert_str_eq(v->remark, "can not find message by the offset, 123456789");
    cmd_free(v);
    v = tb_call(&tb, cmd_new_request(33), BC_TIMEOUT);
    ck_assert_int_eq(v->code, 1);
    ck_assert_ptr_nonnull(strstr(v->remark, "the custom field <offset> is null"));
    cmd_free(v);
}
END_TEST

/*
 * The official 4.9.8 client sends WAIT=true with every message; Apache's broker
 * (SendMessageProcessor.asyncSendMessage) stores a plain message without it, so
 * mqadmin queryMsgByUniqueKey and consumers see no WAIT property, while a delayed
 * message is re-encoded for the schedule topic with WAIT kept (compat/apache found
 * ours storing WAIT=true on every message).
 */
START_TEST(test_stored_plain_message_has_no_wait_property_as_apache)
{
    tb_create_topic(&tb, "WaitT", 1);
    cmd_free(tb_send(&tb, "WaitT", 0, "WAIT\001true\002TAGS\001W\002UNIQ_KEY\001" UNIQ, "plain"));
    cmd_free(tb_send(&tb, "WaitT", 0, "WAIT\001false\002TAGS\001W", "no-wait"));
    rmq_cmd *pull = tb_pull(&tb, "CG_w", "WaitT", 0, 0, 0);
    ck_assert_int_eq(pull->code, 0);
    msg_record rec[2];
    ck_assert_int_eq(tb_records(pull, rec, 2), 2);
    for (int i = 0; i < 2; i++) {
        tb_assert_prop(&rec[i], "WAIT", NULL);
        tb_assert_prop(&rec[i], "TAGS", "W");
        tb_assert_prop(&rec[i], "CLUSTER", "DefaultCluster");
    }
    tb_assert_prop(&rec[0], "UNIQ_KEY", UNIQ);
    rmq_cmd *q = query("WaitT", UNIQ, 32, true, 0);
    ck_assert_int_eq(q->code, 0);
    ck_assert(q->body_len == rec[0].total_size && memcmp(q->body, pull->body, q->body_len) == 0);
    cmd_free(q), cmd_free(pull);

    /* Delay level 1: stored in SCHEDULE_TOPIC_XXXX queue 0, WAIT still there. */
    cmd_free(tb_send(&tb, "WaitT", 0, "WAIT\001true\002DELAY\0011", "delayed"));
    pull = tb_pull(&tb, "CG_w", "SCHEDULE_TOPIC_XXXX", 0, 0, 0);
    ck_assert_int_eq(pull->code, 0);
    ck_assert_int_eq(tb_records(pull, rec, 1), 1);
    tb_assert_prop(&rec[0], "WAIT", "true");
    tb_assert_prop(&rec[0], "REAL_TOPIC", "WaitT");
    cmd_free(pull);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_query_by_key_unique_key_and_id_return_the_pulled_bytes,
        test_not_found_answers_as_apache,
        test_stored_plain_message_has_no_wait_property_as_apache,
        NULL,
    };
    return tb_run_tests("query", 30, setup, teardown, tests);
}
