/*
 * RecallMessage (Apache 5.3's recall of a timer message, as the 5.x SDKs' producers call
 * it) on a real mqbroker: a timer message's SendMessage answer carries its recall handle
 * (Base64url "v1 <topic> <broker> <due+1> <id>"); recalled before it is due, the message
 * never reaches a consumer while its unrecalled sibling does; a bad handle and a broker
 * without recallMessageEnable (Apache's default) are refused as Apache's proxy in local
 * mode refuses them. PullMessage and the offset RPCs answer grpc-java's UNIMPLEMENTED.
 */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_broker.h"
#include "grpc/grpc_int.h"
#include "h2_client.h"
#include "../check_run.h"

#define TIMEOUT 10000
#define GROUP "GroupRecall"
#define TOPIC "TopicRecall"

static test_broker tb;
static char grpc_addr[32];

static void start(const char *name, const char *extra)
{
    gb_start(&tb, grpc_addr, name, extra, NULL, NULL);
    rmq_cmd *req = tb_create_topic_req(TOPIC, 2);
    cmd_ext_set(req, "attributes", "+message.type=DELAY");
    rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
}

static void call(h2_client *c, h2_result *r, const char *method, const ProtobufCMessage *msg)
{
    ck_assert_msg(h2c_call(c, r, method, "recall-client-1", msg, TIMEOUT), "%s: no answer", method);
}

/* Sends message ID due at DUE_MS; its recall handle (caller frees). */
static char *send_timer(h2_client *c, const char *id, int64_t due_ms)
{
    Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    at.seconds = due_ms / 1000;
    at.nanos = (int32_t)(due_ms % 1000) * 1000000;
    h2c_send_req x;
    h2c_send_init(&x, TOPIC, id, id);
    x.sp.message_type = APACHE__ROCKETMQ__V2__MESSAGE_TYPE__DELAY;
    x.sp.delivery_timestamp = &at;
    h2_result r;
    call(c, &r, "SendMessage", &x.req.base);
    Apache__Rocketmq__V2__SendMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__send_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    ck_assert_msg(resp->status->code == APACHE__ROCKETMQ__V2__CODE__OK, "send: %s", resp->status->message);
    char *handle = xstrdup(resp->entries[0]->recall_handle);
    apache__rocketmq__v2__send_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
    return handle;
}

/* RecallMessage of HANDLE: the status code, its message in why, the message id in id. */
static int recall(h2_client *c, const char *handle, char *why, size_t whylen, char *id, size_t idlen)
{
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT;
    topic.name = TOPIC;
    Apache__Rocketmq__V2__RecallMessageRequest req = APACHE__ROCKETMQ__V2__RECALL_MESSAGE_REQUEST__INIT;
    req.topic = &topic;
    req.recall_handle = (char *)handle;
    h2_result r;
    call(c, &r, "RecallMessage", &req.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__RecallMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__recall_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(resp);
    int code = (int)resp->status->code;
    snprintf(why, whylen, "%s", resp->status->message);
    snprintf(id, idlen, "%s", resp->message_id);
    apache__rocketmq__v2__recall_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
    return code;
}

static void receive_into(h2_client *c, char *got, size_t cap)
{
    ck_assert(h2c_receive_bodies(c, "recall-client-1", GROUP, TOPIC, got, cap));
}

START_TEST(timer_message_recalled_before_due_never_arrives)
{
    start("grpc-recall", "--recallMessageEnable=true");
    h2_client c;
    ck_assert_int_eq(h2c_connect(&c, grpc_addr), 0);
    char got[512] = "";
    receive_into(&c, got, sizeof got);   /* the group starts here (a new POP group starts at the end) */
    int64_t due = now_ms() + 3000;
    char *recalled = send_timer(&c, "0A00000000000000000000000RC1", due);
    char *kept = send_timer(&c, "0A00000000000000000000000RC2", due);
    /* The handle: Base64url of "v1 <topic> <broker> <due floored to the second, + 1> <id>". */
    unsigned char raw[256] = {0};
    char std[256];
    snprintf(std, sizeof std, "%s", recalled);
    for (char *p = std; *p; p++) *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    ck_assert_int_gt(EVP_DecodeBlock(raw, (unsigned char *)std, (int)strlen(std)), 0);
    char *want = str_printf("v1 " TOPIC " broker-e2e %lld 0A00000000000000000000000RC1", (long long)(due / 1000 * 1000 + 1));
    ck_assert_str_eq((char *)raw, want);
    free(want);

    char why[256], id[64];
    ck_assert_int_eq(recall(&c, recalled, why, sizeof why, id, sizeof id), APACHE__ROCKETMQ__V2__CODE__OK);
    ck_assert_str_eq(why, "OK");
    ck_assert_str_eq(id, "0A00000000000000000000000RC1");
    ck_assert_int_eq(recall(&c, "not a handle", why, sizeof why, id, sizeof id),
                     APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR);
    ck_assert_str_eq(why, "recall handle is invalid");

    /* The kept one arrives once due; the recalled one not, also a few seconds later. */
    int64_t deadline = now_ms() + 15000;
    while (!strstr(got, "RC2") && now_ms() < deadline) receive_into(&c, got, sizeof got);
    ck_assert_msg(strstr(got, "0A00000000000000000000000RC2;"), "the kept message did not arrive: %s", got);
    ck_assert_int_ge(now_ms(), due);
    for (int i = 0; i < 2; i++) receive_into(&c, got, sizeof got);
    ck_assert_msg(!strstr(got, "RC1"), "the recalled message arrived: %s", got);
    /* Once due, the handle is spent. */
    ck_assert_int_eq(recall(&c, kept, why, sizeof why, id, sizeof id), APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR);
    ck_assert_str_eq(why, "recall failed, timestamp invalid");
    free(recalled);
    free(kept);
    h2c_close(&c);
    tb_done(&tb);
}
END_TEST

START_TEST(recall_forbidden_by_default_and_pull_unimplemented)
{
    start("grpc-recall-off", NULL);
    h2_client c;
    ck_assert_int_eq(h2c_connect(&c, grpc_addr), 0);
    char *handle = send_timer(&c, "0A00000000000000000000000RC3", now_ms() + 60000);
    ck_assert_str_ne(handle, "");
    char why[256], id[64];
    ck_assert_int_eq(recall(&c, handle, why, sizeof why, id, sizeof id), APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR);
    ck_assert_str_eq(why, "recall failed, operation is forbidden");
    free(handle);
    /* Not implemented by Apache 5.3's proxy either: grpc-java's own answer. */
    Apache__Rocketmq__V2__UpdateOffsetRequest uo = APACHE__ROCKETMQ__V2__UPDATE_OFFSET_REQUEST__INIT;
    h2_result r;
    call(&c, &r, "UpdateOffset", &uo.base);
    ck_assert_int_eq(r.grpc_status, GRPC_UNIMPLEMENTED);
    ck_assert_str_eq(r.grpc_message, "Method apache.rocketmq.v2.MessagingService/UpdateOffset is unimplemented");
    h2c_result_free(&r);
    h2c_close(&c);
    tb_done(&tb);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grpc_recall");
    TCase *t = tcase_create("broker");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, timer_message_recalled_before_due_never_arrives);
    tcase_add_test(t, recall_forbidden_by_default_and_pull_unimplemented);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
