/*
 * End to end: POP consumption against the real mqbroker, with the requests
 * the 5.3.x remoting client sends (MQClientAPIImpl.popMessageAsync,
 * ackMessageAsync, batchAckMessageAsync, changeInvisibleTimeAsync,
 * queryAssignment, setMessageRequestMode) and the receipts it builds
 * (ExtraInfoUtil). Proves: POP + ACK, redelivery through the revive topic
 * after the invisible time with reconsumeTimes + 1, CHANGE_MESSAGE_INVISIBLETIME,
 * BATCH_ACK_MESSAGE, orderly POP's queue lock, long polling, the request mode
 * and assignment, and Apache's answers to bad requests.
 */
#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

#define BROKER_NAME "broker-e2e"
#define REVIVE_WAIT_MS 12000  /* invisible time + revive lag (ackTimeInterval + 1 s + 3 s quiet) */

static test_broker tb;

static void setup(void) { tb_init(&tb, "test_pop", NULL); }
static void teardown(void) { tb_done(&tb); }

#include "pop_client.h"

START_TEST(test_pop_then_ack_consumes_each_message_once)
{
    tb_create_topic(&tb, "PopT", 2);
    for (int i = 0; i < 4; i++) {
        char body[16];
        snprintf(body, sizeof body, "m%d", i);
        cmd_free(tb_send(&tb, "PopT", i % 2, "TAGS\001a", body));
    }
    rmq_cmd *r = pop("GPop", "PopT", 32, 60000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(r->remark, "FOUND");
    ck_assert_int_eq(tb_ext_i64(r, "invisibleTime"), 60000);
    ck_assert_int_ge(tb_ext_i64(r, "popTime"), now_ms() - 5000);
    int64_t rq = tb_ext_i64(r, "reviveQid");
    ck_assert(rq >= 0 && rq < 8);
    ck_assert_int_eq(tb_ext_i64(r, "restNum"), 0);
    /* Both queues from offset 0: "0 qid start" and "0 qid o1,o2" pieces. */
    const char *so = cmd_ext_get(r, "startOffsetInfo"), *mo = cmd_ext_get(r, "msgOffsetInfo");
    ck_assert(strstr(so, "0 0 0") && strstr(so, "0 1 0") && strchr(so, ';'));
    ck_assert(strstr(mo, "0 0 0,1") && strstr(mo, "0 1 0,1"));
    msg_record recs[8];
    int n = tb_records(r, recs, 8);
    ck_assert_int_eq(n, 4);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(recs[i].reconsume_times, 0);
        char *ck = receipt(r, &recs[i]);
        ack("GPop", "PopT", ck);
        free(ck);
    }
    cmd_free(r);
    /* Nothing left: POLLING_TIMEOUT with Apache's remark and header numbers. */
    r = pop("GPop", "PopT", 32, 60000);
    ck_assert_int_eq(r->code, 210);
    ck_assert_str_eq(r->remark, "NO_MESSAGE_IN_QUEUE");
    ck_assert_int_eq(tb_ext_i64(r, "restNum"), 0);
    ck_assert_str_eq(cmd_ext_get(r, "startOffsetInfo"), "");
    cmd_free(r);
}
END_TEST

/* A checkpoint already due (invisible time 1 s) goes straight to its revive queue: Apache's record. */
START_TEST(test_checkpoint_record_is_apaches)
{
    tb_create_topic(&tb, "PopK", 1);
    send_bodies("PopK", "k", 2);
    rmq_cmd *r = pop("GCk", "PopK", 32, 1000);
    ck_assert_int_eq(r->code, 0);
    int64_t rq = tb_ext_i64(r, "reviveQid"), pt = tb_ext_i64(r, "popTime");
    cmd_free(r);
    r = tb_pull(&tb, "GReadRevive", "rmq_sys_REVIVE_LOG_DefaultCluster", (int)rq, 0, 0);
    ck_assert_int_eq(r->code, 0);
    msg_record rec;
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    /* fastjson's PopCheckPoint: sorted names, reviveTime from its getter, no rp before a re-put. */
    char body[512], want[512];
    body_of(&rec, body, sizeof body);
    snprintf(want, sizeof want, "{\"bm\":0,\"bn\":\"" BROKER_NAME "\",\"c\":\"GCk\",\"d\":[0,1],\"it\":1000,"
             "\"n\":2,\"pt\":%" PRId64 ",\"q\":0,\"reviveTime\":%" PRId64 ",\"ro\":0,\"so\":0,\"t\":\"PopK\"}",
             pt, pt + 1000);
    ck_assert_str_eq(body, want);
    tb_assert_prop(&rec, "TAGS", "ck");
    snprintf(want, sizeof want, "PopK@0@0@GCk@%" PRId64 "@" BROKER_NAME "@ck", pt);
    tb_assert_prop(&rec, "UNIQ_KEY", want);  /* genCkUniqueId */
    snprintf(want, sizeof want, "%" PRId64, pt);
    tb_assert_prop(&rec, "TIMER_DELIVER_MS", want);  /* revive time - ackTimeInterval */
    cmd_free(r);
}
END_TEST

START_TEST(test_unacked_message_is_redelivered_after_invisible_time_with_reconsume_times_plus_one)
{
    tb_create_topic(&tb, "PopR", 1);
    cmd_free(tb_send(&tb, "PopR", 0, "TAGS\001t1\002UNIQ_KEY\001AC110001000018B4AAC2000000000001", "again"));
    cmd_free(tb_send(&tb, "PopR", 0, "TAGS\001t1", "acked"));
    int64_t t0 = now_ms();
    rmq_cmd *r = pop("GRev", "PopR", 32, 2000);
    ck_assert_int_eq(r->code, 0);
    msg_record recs[4];
    ck_assert_int_eq(tb_records(r, recs, 4), 2);
    char *ck = receipt(r, &recs[1]);
    ack("GRev", "PopR", ck);  /* only the second */
    free(ck);
    cmd_free(r);

    r = pop("GRev", "PopR", 32, 60000);
    ck_assert_int_eq(r->code, 210);  /* invisible now */
    cmd_free(r);
    r = pop_within("GRev", "PopR", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "not redelivered within %d ms", REVIVE_WAIT_MS);
    ck_assert_int_ge(now_ms() - t0, 2000);
    ck_assert_int_eq(tb_records(r, recs, 4), 1);
    char body[32];
    body_of(&recs[0], body, sizeof body);
    ck_assert_str_eq(body, "again");
    /* Re-encoded under the topic asked for, with its receipt on the retry topic. */
    ck_assert_int_eq((int)recs[0].topic_len, 4);
    ck_assert(memcmp(recs[0].topic, "PopR", 4) == 0);
    ck_assert_int_eq(recs[0].reconsume_times, 1);
    tb_assert_prop(&recs[0], "TAGS", "t1");
    tb_assert_prop(&recs[0], "UNIQ_KEY", "AC110001000018B4AAC2000000000001");
    char *first = tb_prop(&recs[0], "1ST_POP_TIME");
    ck_assert_ptr_nonnull(first);
    free(first);
    ck = tb_prop(&recs[0], "POP_CK");
    ck_assert_ptr_nonnull(ck);
    ck_assert_msg(strstr(ck, " 1 " BROKER_NAME " 0 "), "retry receipt %s", ck);
    ck_assert_str_eq(strstr(cmd_ext_get(r, "startOffsetInfo"), "1 0 ") ? "ok" : "no", "ok");
    ack("GRev", "PopR", ck);
    free(ck);
    cmd_free(r);
    /* Acknowledged on the retry topic: never again. */
    r = pop_within("GRev", "PopR", 60000, 6000);
    ck_assert_msg(r == NULL, "an acknowledged retry message came back");
}
END_TEST

START_TEST(test_unacked_message_survives_a_restart_and_is_redelivered)
{
    msg_record recs[4];
    rmq_cmd *r = popped("PopS", "GRst", "s", 2, 3000, recs);
    char *ck = receipt(r, &recs[0]);
    ack("GRst", "PopS", ck);
    free(ck);
    cmd_free(r);
    /* Checkpoint, ack and offsets are in the store and config files: a restart loses none. */
    tb_restart(&tb, SIGTERM);
    r = pop("GRst", "PopS", 32, 60000);
    ck_assert_int_eq(r->code, 210);  /* not popped again from the topic */
    cmd_free(r);
    r = pop_within("GRst", "PopS", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "not redelivered after the restart");
    ck_assert_int_eq(tb_records(r, recs, 4), 1);
    char text[8];
    body_of(&recs[0], text, sizeof text);
    ck_assert_str_eq(text, "s1");
    ck_assert_int_eq(recs[0].reconsume_times, 1);
    cmd_free(r);
}
END_TEST

START_TEST(test_retry_topic_v2_when_configured)
{
    tb_done(&tb);
    tb_init(&tb, "test_pop_v2", "--enableRetryTopicV2=true", NULL);
    tb_create_topic(&tb, "PopV", 1);
    send_bodies("PopV", "v", 1);
    rmq_cmd *r = pop("GV2", "PopV", 32, 2000);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = pop_within("GV2", "PopV", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "not redelivered");
    msg_record rec;
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    ck_assert_int_eq(rec.reconsume_times, 1);
    /* Revived into %RETRY%GV2+PopV; the receipt says so with retry flag 2 and acknowledges there. */
    ck_assert_int_eq(tb_max_offset(&tb, "%RETRY%GV2+PopV", 0), 1);
    char *ck = tb_prop(&rec, "POP_CK");
    ck_assert_msg(ck && strstr(ck, " 2 " BROKER_NAME " 0 0"), "receipt %s", ck ? ck : "(none)");
    rmq_cmd *req = ack_req("GV2", "PopV", ck);
    cmd_ext_set(req, "topic", "%RETRY%GV2+PopV");
    rmq_cmd *a = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(a->code, 0);
    cmd_free(a);
    free(ck);
    cmd_free(r);
    r = pop_within("GV2", "PopV", 60000, 6000);
    ck_assert_msg(r == NULL, "an acknowledged retry message came back");
}
END_TEST

START_TEST(test_change_invisible_time_moves_the_redelivery)
{
    tb_create_topic(&tb, "PopC", 1);
    cmd_free(tb_send(&tb, "PopC", 0, NULL, "later"));
    rmq_cmd *r = pop("GChg", "PopC", 32, 60000);
    ck_assert_int_eq(r->code, 0);
    msg_record rec;
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    char *ck = receipt(r, &rec);
    cmd_free(r);

    rmq_cmd *req = cmd_new_request(200053);
    cmd_ext_set(req, "consumerGroup", "GChg");
    cmd_ext_set(req, "topic", "PopC");
    cmd_ext_set_int(req, "queueId", 0);
    cmd_ext_set(req, "extraInfo", ck);
    cmd_ext_set_int(req, "offset", 0);
    cmd_ext_set_int(req, "invisibleTime", 1000);
    int64_t before = now_ms();
    rmq_cmd *c = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(c->code, 0);
    ck_assert_int_eq(tb_ext_i64(c, "invisibleTime"), 1000);
    ck_assert_int_ge(tb_ext_i64(c, "popTime"), before);
    const char *rq = strchr(strchr(strchr(ck, ' ') + 1, ' ') + 1, ' ') + 1;  /* the fourth field */
    ck_assert_int_eq(tb_ext_i64(c, "reviveQid"), strtoll(rq, NULL, 10));
    cmd_free(c);
    free(ck);
    /* Due 1 s after the change instead of 60 s after the POP. */
    r = pop_within("GChg", "PopC", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "not redelivered after the invisible time changed");
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    ck_assert_int_eq(rec.reconsume_times, 1);
    cmd_free(r);
}
END_TEST

START_TEST(test_batch_ack_acknowledges_the_set_bits_only)
{
    msg_record recs[4];
    rmq_cmd *r = popped("PopB", "GBat", "b", 3, 2000, recs);
    /* BatchAckMessageRequestBody: bits 0 and 2 (BitSet.toByteArray = 0x05, base64 "BQ=="). */
    char *body = str_printf("{\"acks\":[{\"b\":\"BQ==\",\"c\":\"GBat\",\"it\":2000,\"pt\":%" PRId64
                            ",\"q\":0,\"r\":\"0\",\"rq\":%" PRId64 ",\"so\":0,\"t\":\"PopB\"}],\"brokerName\":\""
                            BROKER_NAME "\"}", tb_ext_i64(r, "popTime"), tb_ext_i64(r, "reviveQid"));
    cmd_free(r);
    rmq_cmd *req = cmd_new_request(200151);
    cmd_take_body(req, body, strlen(body));
    rmq_cmd *a = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(a->code, 0);
    cmd_free(a);
    r = pop_within("GBat", "PopB", 60000, REVIVE_WAIT_MS);
    ck_assert_msg(r != NULL, "the unacknowledged message was not redelivered");
    int n = tb_records(r, recs, 4);
    ck_assert_int_eq(n, 1);
    char text[8];
    body_of(&recs[0], text, sizeof text);
    ck_assert_str_eq(text, "b1");
    cmd_free(r);

    /* An empty batch: NO_MESSAGE. */
    req = cmd_new_request(200151);
    cmd_set_body(req, "{\"acks\":[]}", 11);
    a = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(a->code, 208);
    cmd_free(a);
}
END_TEST

static rmq_cmd *pop_order(const char *attempt, int max, int64_t invisible)
{
    return tb_call(&tb, pop_req("GFifo", "PopF", 0, max, invisible, 0, true, attempt), BC_TIMEOUT);
}

START_TEST(test_orderly_pop_locks_the_queue_until_acked_or_invisible_time)
{
    tb_create_topic(&tb, "PopF", 1);
    send_bodies("PopF", "f", 3);
    rmq_cmd *r = pop_order("a1", 2, 60000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "reviveQid"), 999);
    ck_assert_str_eq(cmd_ext_get(r, "orderCountInfo"), "0 0 0");
    msg_record recs[4];
    ck_assert_int_eq(tb_records(r, recs, 4), 2);
    cmd_free(r);
    /* Locked: the same attempt (a retried request) gets the batch again, uncounted, and its receipts
     * replace the first ones (the pop time is the batch's key); another attempt gets nothing. */
    usleep(2000);
    r = pop_order("a1", 2, 60000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_records(r, recs, 4), 2);
    ck_assert_str_eq(cmd_ext_get(r, "orderCountInfo"), "0 0 0");
    char *ck0 = receipt(r, &recs[0]), *ck1 = receipt(r, &recs[1]);
    cmd_free(r);
    r = pop_order("a2", 2, 60000);
    ck_assert_int_eq(r->code, 210);
    cmd_free(r);
    ack("GFifo", "PopF", ck0);
    r = pop_order("a3", 2, 60000);
    ck_assert_int_eq(r->code, 210);
    cmd_free(r);
    ack("GFifo", "PopF", ck1);
    free(ck0), free(ck1);
    r = pop_order("a4", 2, 1000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_records(r, recs, 4), 1);
    char text[8];
    body_of(&recs[0], text, sizeof text);
    ck_assert_str_eq(text, "f2");
    cmd_free(r);
    /* Not acknowledged: after its invisible time the same message again, counted once more. */
    usleep(1300000);
    r = pop_order("a5", 2, 60000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_records(r, recs, 4), 1);
    body_of(&recs[0], text, sizeof text);
    ck_assert_str_eq(text, "f2");
    ck_assert_str_eq(cmd_ext_get(r, "orderCountInfo"), "0 qo0%2 1;0 0 1");
    cmd_free(r);
}
END_TEST

START_TEST(test_orderly_lock_and_counts_survive_a_restart)
{
    tb_create_topic(&tb, "PopF", 1);
    send_bodies("PopF", "f", 2);
    rmq_cmd *r = pop_order("a1", 1, 60000);
    ck_assert_int_eq(r->code, 0);
    msg_record rec;
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    char *ck = receipt(r, &rec);
    cmd_free(r);
    /* Kept in config/consumerOrderInfo.json as Apache keeps it. */
    tb_restart(&tb, SIGTERM);
    char *path = str_printf("%s/store/config/consumerOrderInfo.json", tb.dir);
    size_t len;
    char *json = read_file(path, &len);
    ck_assert_msg(json && strstr(json, "\"PopF@GFifo\"") && strstr(json, "\"a\":\"a1\"") &&
                  strstr(json, "\"o\":[0]") && strstr(json, "\"i\":60000"), "%s", json ? json : "(no file)");
    free(json), free(path);
    r = pop_order("a2", 1, 60000);
    ck_assert_int_eq(r->code, 210);  /* still locked */
    cmd_free(r);
    ack("GFifo", "PopF", ck);
    free(ck);
    r = pop_order("a3", 1, 60000);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    char text[8];
    body_of(&rec, text, sizeof text);
    ck_assert_str_eq(text, "f1");
    cmd_free(r);
}
END_TEST

START_TEST(test_long_polling_pop_is_answered_when_a_message_arrives)
{
    tb_create_topic(&tb, "PopL", 2);
    char err[256];
    int fd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    rmq_cmd *req = pop_req("GLong", "PopL", -1, 32, 60000, 5000, false, NULL);
    req->opaque = 77;
    int64_t t0 = now_ms();
    ck_assert_int_eq(rmq_write_cmd_fd(fd, req), 0);
    cmd_free(req);
    usleep(500000);
    cmd_free(tb_send(&tb, "PopL", 1, NULL, "woke"));
    rmq_cmd *r = rmq_read_frame_fd(fd, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->opaque, 77);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_lt(now_ms() - t0, 4000);
    msg_record rec;
    ck_assert_int_eq(tb_records(r, &rec, 1), 1);
    cmd_free(r);
    /* Nothing arrives: POLLING_TIMEOUT once pollTime is over. */
    req = pop_req("GLong", "PopL", -1, 32, 60000, 1000, false, NULL);
    t0 = now_ms();
    ck_assert_int_eq(rmq_write_cmd_fd(fd, req), 0);
    cmd_free(req);
    r = rmq_read_frame_fd(fd, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->code, 210);
    ck_assert_int_ge(now_ms() - t0, 900);
    cmd_free(r);
    close(fd);
}
END_TEST

/* Request headers of PEEK_MESSAGE, NOTIFICATION and POLLING_INFO (code, then the fields). */
static rmq_cmd *group_req(int code, const char *group, const char *topic, int qid)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_ext_set(req, "consumerGroup", group);
    cmd_ext_set(req, "topic", topic);
    cmd_ext_set_int(req, "queueId", qid);
    return req;
}

START_TEST(test_peek_notification_and_polling_info)
{
    tb_create_topic(&tb, "PopN", 2);
    /* Nothing yet: NOTIFICATION without pollTime says so at once. */
    rmq_cmd *req = group_req(200054, "GNot", "PopN", -1);
    cmd_ext_set(req, "pollTime", "0");
    cmd_ext_set_int(req, "bornTime", now_ms());
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "hasMsg"), "false");
    ck_assert_str_eq(cmd_ext_get(r, "pollingFull"), "false");
    cmd_free(r);

    /* A held POP shows in POLLING_INFO for its queue key; a held NOTIFICATION is answered on arrival. */
    char err[256];
    int pfd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    int nfd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert(pfd >= 0 && nfd >= 0);
    req = pop_req("GNot", "PopN", -1, 32, 60000, 4000, false, NULL);
    ck_assert_int_eq(rmq_write_cmd_fd(pfd, req), 0);
    cmd_free(req);
    req = group_req(200054, "GNot", "PopN", -1);
    cmd_ext_set(req, "pollTime", "4000");
    cmd_ext_set_int(req, "bornTime", now_ms());
    ck_assert_int_eq(rmq_write_cmd_fd(nfd, req), 0);
    cmd_free(req);
    usleep(300000);
    r = tb_call(&tb, group_req(200055, "GNot", "PopN", -1), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "pollingNum"), "1");
    cmd_free(r);
    cmd_free(tb_send(&tb, "PopN", 0, NULL, "n0"));
    r = rmq_read_frame_fd(nfd, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "hasMsg"), "true");
    cmd_free(r);
    r = rmq_read_frame_fd(pfd, BC_TIMEOUT, err, sizeof err);  /* the POP took it */
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    close(pfd), close(nfd);

    /* PEEK shows what is there without taking it or moving the offset. */
    cmd_free(tb_send(&tb, "PopN", 1, NULL, "n1"));
    for (int i = 0; i < 2; i++) {
        req = group_req(200052, "GNot", "PopN", -1);
        cmd_ext_set(req, "maxMsgNums", "32");
        r = tb_call(&tb, req, BC_TIMEOUT);
        ck_assert_int_eq(r->code, 0);
        ck_assert_str_eq(r->remark, "FOUND");
        msg_record rec;
        ck_assert_int_eq(tb_records(r, &rec, 1), 1);
        char text[8];
        body_of(&rec, text, sizeof text);
        ck_assert_str_eq(text, "n1");
        ck_assert_int_eq(tb_ext_i64(r, "restNum"), 1);
        cmd_free(r);
    }
    r = pop("GNot", "PopN", 32, 60000);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    req = group_req(200052, "GNot", "PopN", 1);
    cmd_ext_set(req, "maxMsgNums", "32");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 19);
    ck_assert_str_eq(r->remark, "NO_MESSAGE_IN_QUEUE");
    cmd_free(r);
    /* Their refusals are Apache's. */
    req = group_req(200052, "GNot", "PopN", 7);
    cmd_ext_set(req, "maxMsgNums", "32");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 29);
    ck_assert_str_eq(cmd_ext_get(r, "restNum"), "0");
    cmd_free(r);
    req = group_req(200055, "GNot", "NoSuchT", 0);
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 17);
    ck_assert_str_eq(cmd_ext_get(r, "pollingNum"), "0");
    cmd_free(r);
    req = group_req(200054, "GNot", "PopN", 0);
    r = tb_call(&tb, req, BC_TIMEOUT);  /* no pollTime */
    ck_assert_int_eq(r->code, 1);
    ck_assert_msg(strstr(r->remark, "the custom field <pollTime> is null"), "%s", r->remark);
    ck_assert_str_eq(cmd_ext_get(r, "hasMsg"), "false");
    cmd_free(r);
}
END_TEST

/* HEART_BEAT of consumer 127.0.0.1@c<N> of GROUP subscribed to TOPIC, on connection FD (kept open). */
static void heartbeat(int fd, const char *group, const char *topic, int n)
{
    char err[256];
    char *hb = str_printf("{\"clientID\":\"127.0.0.1@c%d\",\"consumerDataSet\":[{\"consumeFromWhere\":"
                          "\"CONSUME_FROM_FIRST_OFFSET\",\"consumeType\":\"CONSUME_PASSIVELY\",\"groupName\":"
                          "\"%s\",\"messageModel\":\"CLUSTERING\",\"subscriptionDataSet\":[{\"classFilterMode\":"
                          "false,\"codeSet\":[],\"expressionType\":\"TAG\",\"subString\":\"*\",\"subVersion\":1,"
                          "\"tagsSet\":[],\"topic\":\"%s\"}],\"unitMode\":false}],\"producerDataSet\":[]}", n,
                          group, topic);
    rmq_cmd *req = cmd_new_request(34);
    cmd_take_body(req, hb, strlen(hb));
    rmq_cmd *resp = rmq_invoke_fd(fd, req, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp && resp->code == 0, "heartbeat: %s", err);
    cmd_free(resp), cmd_free(req);
}

static void assert_body(const rmq_cmd *r, const char *want)
{
    ck_assert_msg(r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0, "body %.*s, want %s",
                  (int)r->body_len, (const char *)r->body, want);
}

static rmq_cmd *json_req(int code, const char *json)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_set_body(req, json, strlen(json));
    return req;
}

START_TEST(test_request_mode_and_assignment_as_apache)
{
    tb_create_topic(&tb, "PopA", 4);
    rmq_cmd *r = tb_call(&tb, json_req(401, "{\"consumerGroup\":\"GAsg\",\"mode\":\"POP\",\"popShareQueueNum\":0,"
                                            "\"topic\":\"PopA\"}"), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    r = tb_call(&tb, json_req(401, "{\"consumerGroup\":\"GAsg\",\"mode\":\"POP\",\"topic\":\"%RETRY%GAsg\"}"),
                BC_TIMEOUT);
    ck_assert_int_eq(r->code, 16);
    ck_assert_str_eq(r->remark, "retry topic is not allowed to set mode");
    cmd_free(r);
    r = tb_call(&tb, json_req(401, "{\"consumerGroup\":\"GAsg\",\"mode\":\"POP\",\"topic\":\"NoSuchT\"}"), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 17);
    ck_assert_str_eq(r->remark, "topic[NoSuchT] not exist");
    cmd_free(r);

    /* Two clients of the group: in POP mode each gets the whole topic as queue -1. */
    char err[256];
    int fds[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
        ck_assert_int_ge(fds[i], 0);
        heartbeat(fds[i], "GAsg", "PopA", i);
    }
    const char *q = "{\"clientId\":\"127.0.0.1@c1\",\"consumerGroup\":\"GAsg\",\"messageModel\":\"CLUSTERING\","
                    "\"strategyName\":\"AVG\",\"topic\":\"%s\"}";
    char body[512];
    snprintf(body, sizeof body, q, "PopA");
    r = tb_call(&tb, json_req(400, body), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    assert_body(r, "{\"messageQueueAssignments\":[{\"messageQueue\":{\"brokerName\":\""
                     BROKER_NAME "\",\"queueId\":-1,\"topic\":\"PopA\"},\"mode\":\"POP\"}]}");
    cmd_free(r);
    /* The group's retry topic stays PULL, split as AVG: c1 of two gets the second half. */
    r = tb_call(&tb, json_req(401, "{\"consumerGroup\":\"GAsg\",\"mode\":\"PULL\",\"topic\":\"PopA\"}"), BC_TIMEOUT);
    cmd_free(r);
    snprintf(body, sizeof body, q, "PopA");
    r = tb_call(&tb, json_req(400, body), BC_TIMEOUT);
    assert_body(r, "{\"messageQueueAssignments\":[{\"messageQueue\":{\"brokerName\":\"" BROKER_NAME
                     "\",\"queueId\":2,\"topic\":\"PopA\"},\"mode\":\"PULL\"},{\"messageQueue\":{\"brokerName\":\""
                     BROKER_NAME "\",\"queueId\":3,\"topic\":\"PopA\"},\"mode\":\"PULL\"}]}");
    cmd_free(r);
    /* An unknown strategy: no answer (null list). */
    snprintf(body, sizeof body, "{\"clientId\":\"127.0.0.1@c1\",\"consumerGroup\":\"GAsg\",\"messageModel\":"
             "\"CLUSTERING\",\"strategyName\":\"CONSISTENT_HASH\",\"topic\":\"PopA\"}");
    r = tb_call(&tb, json_req(400, body), BC_TIMEOUT);
    assert_body(r, "{}");
    cmd_free(r);
    for (int i = 0; i < 2; i++) close(fds[i]);

    /* Persisted as messageRequestMode.json, read back after a restart (GET_ALL_MESSAGE_REQUEST_MODE). */
    tb_restart(&tb, SIGTERM);
    r = tb_call(&tb, cmd_new_request(402), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    assert_body(r, "{\"messageRequestModeMap\":{\"PopA\":{\"GAsg\":{\"consumerGroup\":"
                     "\"GAsg\",\"mode\":\"PULL\",\"popShareQueueNum\":0,\"topic\":\"PopA\"}}}}");
    cmd_free(r);
}
END_TEST

/* Two brokers of a topic behind one name server: the assignment names the queues of both. */
START_TEST(test_assignment_spans_the_brokers_of_the_route)
{
    tb_done(&tb);
    test_proc ns;
    char *ns_dir;
    tb_namesrv_start(&ns, &ns_dir, "test_pop_namesrv");
    char *ns_arg = str_printf("--namesrvAddr=%s", ns.addr);
    tb_init(&tb, "test_pop_a", ns_arg, "--registerNameServerPeriod=1000", NULL);
    test_broker other;
    tb_init(&other, "test_pop_b", ns_arg, "--registerNameServerPeriod=1000", "--brokerName=broker-b", NULL);
    tb_create_topic(&tb, "PopR2", 2);
    tb_create_topic(&other, "PopR2", 2);
    rmq_cmd *r = tb_call(&tb, json_req(401, "{\"consumerGroup\":\"GRt\",\"mode\":\"POP\",\"topic\":\"PopR2\"}"),
                         BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    char err[256];
    int fd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    heartbeat(fd, "GRt", "PopR2", 0);
    const char *want = "{\"messageQueueAssignments\":[{\"messageQueue\":{\"brokerName\":\"broker-b\",\"queueId\":-1,"
                       "\"topic\":\"PopR2\"},\"mode\":\"POP\"},{\"messageQueue\":{\"brokerName\":\"" BROKER_NAME
                       "\",\"queueId\":-1,\"topic\":\"PopR2\"},\"mode\":\"POP\"}]}";
    const char *q = "{\"clientId\":\"127.0.0.1@c0\",\"consumerGroup\":\"GRt\",\"messageModel\":\"CLUSTERING\","
                    "\"strategyName\":\"AVG\",\"topic\":\"PopR2\"}";
    bool both = false;
    for (int64_t end = now_ms() + 10000; !both && now_ms() < end; usleep(200000)) {
        r = tb_call(&tb, json_req(400, q), BC_TIMEOUT);  /* until both brokers registered the topic */
        both = r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0;
        if (!both && now_ms() >= end - 200) assert_body(r, want);
        cmd_free(r);
    }
    ck_assert(both);
    close(fd);
    tb_done(&other);
    tb_namesrv_stop(&ns, ns_dir);
    free(ns_arg);
}
END_TEST

START_TEST(test_bad_requests_answer_apache_codes_and_remarks)
{
    tb_create_topic(&tb, "PopE", 1);
    cmd_free(tb_send(&tb, "PopE", 0, NULL, "x"));
    /* A missing @CFNotNull field. */
    rmq_cmd *req = pop_req("GErr", "PopE", -1, 32, 60000, 0, false, NULL);
    cmd_ext_remove(req, "invisibleTime");
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 1);
    ck_assert_msg(strstr(r->remark, "the custom field <invisibleTime> is null"), "%s", r->remark);
    ck_assert_str_eq(cmd_ext_get(r, "popTime"), "0");
    cmd_free(r);
    r = tb_call(&tb, pop_req("GErr", "PopE", -1, 33, 60000, 0, false, NULL), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 29);
    ck_assert_str_eq(r->remark, "the broker[127.0.0.1] pop message's num is greater than 32");
    cmd_free(r);
    r = tb_call(&tb, pop_req("GErr", "NoSuchT", -1, 32, 60000, 0, false, NULL), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 17);
    ck_assert_msg(strncmp(r->remark, "topic[NoSuchT] not exist, apply first please!", 45) == 0, "%s", r->remark);
    cmd_free(r);
    r = tb_call(&tb, pop_req("GErr", "PopE", 3, 32, 60000, 0, false, NULL), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 29);
    const char *want = "queueId[3] is illegal, topic:[PopE] topicConfig.readQueueNums:[1] consumer:[/127.0.0.1:";
    ck_assert_msg(strncmp(r->remark, want, strlen(want)) == 0, "%s", r->remark);
    cmd_free(r);
    req = pop_req("GErr", "PopE", -1, 32, 60000, 1000, false, NULL);
    cmd_ext_set_int(req, "bornTime", now_ms() - 10000);
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 210);
    ck_assert_str_eq(r->remark, "the broker[127.0.0.1] pop message is timeout too much");
    cmd_free(r);

    /* ACK: a short receipt, an offset off the queue, a queue the topic has not. */
    req = ack_req("GErr", "PopE", "0 1 2 3 0 " BROKER_NAME " 0 0");
    cmd_ext_set(req, "extraInfo", "0 1");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 1);
    ck_assert_str_eq(r->remark, "java.lang.IllegalArgumentException: getBrokerName fail, extraInfoStrs length 2");
    cmd_free(r);
    req = ack_req("GErr", "PopE", "0 1 2 x 0 " BROKER_NAME " 0 0");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 1);
    ck_assert_str_eq(r->remark, "java.lang.NumberFormatException: For input string: \"x\"");
    cmd_free(r);
    req = ack_req("GErr", "PopE", "0 1 2 3 0 " BROKER_NAME " 0 9");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 208);
    ck_assert_str_eq(r->remark, "offset is illegal, key:PopE@0, commit:9, store:0~1");
    cmd_free(r);
    req = ack_req("GErr", "PopE", "0 1 2 3 0 " BROKER_NAME " 5 0");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 13);
    ck_assert_msg(strncmp(r->remark, "queueId[5] is illegal, topic:[PopE]", 35) == 0, "%s", r->remark);
    cmd_free(r);
    req = ack_req("GErr", "PopE", "0 1 2 3 0 " BROKER_NAME " 0 0");
    cmd_ext_remove(req, "extraInfo");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 1);
    ck_assert_msg(strstr(r->remark, "the custom field <extraInfo> is null"), "%s", r->remark);
    cmd_free(r);

    /* CHANGE_MESSAGE_INVISIBLETIME: the offset must be a message (offset < max), header numbers 0 on errors. */
    req = cmd_new_request(200053);
    cmd_ext_set(req, "consumerGroup", "GErr");
    cmd_ext_set(req, "topic", "PopE");
    cmd_ext_set_int(req, "queueId", 0);
    cmd_ext_set(req, "extraInfo", "0 1 2 3 0 " BROKER_NAME " 0 1");
    cmd_ext_set_int(req, "offset", 1);
    cmd_ext_set_int(req, "invisibleTime", 1000);
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 208);
    ck_assert_ptr_null(r->remark);
    ck_assert_str_eq(cmd_ext_get(r, "reviveQid"), "0");
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_pop_then_ack_consumes_each_message_once,
        test_checkpoint_record_is_apaches,
        test_unacked_message_is_redelivered_after_invisible_time_with_reconsume_times_plus_one,
        test_unacked_message_survives_a_restart_and_is_redelivered,
        test_change_invisible_time_moves_the_redelivery,
        test_retry_topic_v2_when_configured,
        test_batch_ack_acknowledges_the_set_bits_only,
        test_orderly_pop_locks_the_queue_until_acked_or_invisible_time,
        test_orderly_lock_and_counts_survive_a_restart,
        test_long_polling_pop_is_answered_when_a_message_arrives,
        test_peek_notification_and_polling_info,
        test_request_mode_and_assignment_as_apache,
        test_assignment_spans_the_brokers_of_the_route,
        test_bad_requests_answer_apache_codes_and_remarks,
        NULL,
    };
    return tb_run_tests("pop", 60, setup, teardown, tests);
}
