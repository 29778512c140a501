/*
 * gRPC calls under the broker's ACLs (src/grpc/access.c): a real mqbroker with ACL 2.0
 * (authenticationEnabled + authorizationEnabled) and one with ACL 1.0 (aclEnable and a
 * plain_acl.yml), driven by an HTTP/2 client that signs its calls as the 5.x SDKs do
 * (authorization: MQv2-HMAC-SHA1 Credential=.., Signature=hex HMAC-SHA1 of x-mq-date-time).
 * Proves: signed calls of a permitted user go through (and the remoting requests they
 * become are not refused by the broker's own ACL hook); unsigned, wrongly signed,
 * unknown-user and not-permitted calls get Apache's proxy answers — ACL 2.0: the
 * response's Status UNAUTHORIZED with the exception's text (a ReceiveMessage and a
 * Telemetry stream included), ACL 1.0: grpc-status PERMISSION_DENIED, or INTERNAL for a
 * call without credentials (Apache 5.2's NullPointerException).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_broker.h"
#include "broker/acl.h"
#include "grpc/grpc_int.h"
#include "h2_client.h"
#include "../check_run.h"

#define TIMEOUT 10000
#define UNAUTHORIZED APACHE__ROCKETMQ__V2__CODE__UNAUTHORIZED

static test_broker tb;
static char grpc_addr[32];

static void start(const char *name, const char *a1, const char *a2, const char *a3)
{
    gb_start(&tb, grpc_addr, name, a1, a2, a3);
}

/* A remoting request signed as AclClientRPCHook signs it; answered with CODE. */
static void admin_call(rmq_cmd *req, const char *ak, const char *sk, const char *body)
{
    if (body) cmd_set_body(req, body, strlen(body));
    acl_sign_request(req, ak, sk);
    rmq_cmd *resp = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_msg(resp->code == 0, "request %d: %d %s", req->code, resp->code, resp->remark ? resp->remark : "");
    cmd_free(resp);
}

/* An AUTH_* admin request naming one header field. */
static rmq_cmd *auth_req(int code, const char *key, const char *value)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_ext_set(req, key, value);
    return req;
}

static void call(h2_client *c, h2_result *r, const char *method, const ProtobufCMessage *msg)
{
    ck_assert_msg(h2c_call(c, r, method, "acl-client-1", msg, TIMEOUT), "%s: no answer", method);
}

static void sign_as(h2_client *c, const char *ak, const char *sk)
{
    c->access_key = ak;
    c->secret_key = sk;
    c->authorization = NULL;
}

/* A SendMessage of one message to TOPIC; the grpc-status, and *code/why the response's Status. */
static int send_to(h2_client *c, const char *topic_name, int *code, char *why, size_t whylen)
{
    h2c_send_req x;
    h2c_send_init(&x, topic_name, "0A0000000000000000000000ACL1", "acl");
    h2_result r;
    call(c, &r, "SendMessage", &x.req.base);
    int status = r.grpc_status;
    Apache__Rocketmq__V2__SendMessageResponse *resp =
        (void *)h2c_message(&r, &apache__rocketmq__v2__send_message_response__descriptor, 0);
    *code = resp && resp->status ? (int)resp->status->code : -1;
    snprintf(why, whylen, "%s", resp && resp->status ? resp->status->message : "");
    if (resp) apache__rocketmq__v2__send_message_response__free_unpacked(resp, NULL);
    h2c_result_free(&r);
    return status;
}

static void expect_send(h2_client *c, const char *topic, int code, const char *why)
{
    int got;
    char text[512];
    ck_assert_int_eq(send_to(c, topic, &got, text, sizeof text), GRPC_OK);
    ck_assert_msg(got == code, "send to %s: %d %s, want %d", topic, got, text, code);
    if (why) ck_assert_str_eq(text, why);
}

/* A ReceiveMessage of GROUP from TOPIC: the first response, whose status or message is checked. */
static Apache__Rocketmq__V2__ReceiveMessageResponse *receive_first(h2_client *c, const char *group_name,
                                                                   const char *topic_name)
{
    h2c_receive_req x;
    h2c_receive_init(&x, group_name, topic_name, "*", 2000, 30000);
    h2_result r;
    call(c, &r, "ReceiveMessage", &x.req.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__ReceiveMessageResponse *first =
        (void *)h2c_message(&r, &apache__rocketmq__v2__receive_message_response__descriptor, 0);
    ck_assert_ptr_nonnull(first);
    h2c_result_free(&r);
    return first;
}

static void expect_receive_refused(h2_client *c, const char *group, const char *topic, const char *why)
{
    Apache__Rocketmq__V2__ReceiveMessageResponse *first = receive_first(c, group, topic);
    ck_assert_int_eq(first->content_case, APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_STATUS);
    ck_assert_int_eq(first->status->code, UNAUTHORIZED);
    ck_assert_str_eq(first->status->message, why);
    apache__rocketmq__v2__receive_message_response__free_unpacked(first, NULL);
}

START_TEST(acl2_signed_calls_pass_others_unauthorized)
{
    start("grpc-acl2", "--authenticationEnabled=true", "--authorizationEnabled=true",
          "--initAuthenticationUser={\"username\":\"root\",\"password\":\"rootpw\"}");
    admin_call(tb_create_topic_req("TopicAcl", 2), "root", "rootpw", NULL);
    admin_call(tb_create_topic_req("TopicOther", 2), "root", "rootpw", NULL);
    admin_call(auth_req(3001, "username", "alice"), "root", "rootpw", "{\"password\":\"apw\"}");
    admin_call(auth_req(3006, "subject", "User:alice"), "root", "rootpw",
               "{\"subject\":\"User:alice\",\"policies\":[{\"entries\":[{\"resource\":\"Topic:TopicAcl\","
               "\"actions\":[\"Pub\",\"Sub\"],\"decision\":\"Allow\"}]}]}");

    h2_client c;
    ck_assert_int_eq(h2c_connect(&c, grpc_addr), 0);
    /* Unsigned: refused at authentication, in the response's Status (grpc-status OK). */
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "username cannot be null.");
    /* The super user and alice send; the SEND_MESSAGE_V2 they become is not refused by the broker's hook. */
    sign_as(&c, "root", "rootpw");
    expect_send(&c, "TopicAcl", APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    sign_as(&c, "alice", "apw");
    expect_send(&c, "TopicAcl", APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    expect_send(&c, "TopicOther", UNAUTHORIZED,
                "User:alice has no permission to access Topic:TopicOther from 127.0.0.1, no matched policies.");
    /* A group she has no policy for: the group is the first resource a receive needs. */
    expect_receive_refused(&c, "GroupAcl", "TopicAcl",
                           "User:alice has no permission to access Group:GroupAcl from 127.0.0.1, no matched policies.");
    sign_as(&c, "alice", "wrong");
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "check signature failed.");
    sign_as(&c, "bob", "bpw");
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "User:bob is not found.");
    /* Malformed headers: DefaultAuthenticationContextBuilder's refusals. */
    c.authorization = "MQv2-HMAC-SHA1";
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "authentication header is incorrect.");
    c.authorization = "MQv2-HMAC-SHA1 Credential=alice, Signature=XYZ";
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "create authentication context error.");
    c.authorization = "MQv2-HMAC-SHA1 Credential=alice, oops";
    expect_send(&c, "TopicAcl", UNAUTHORIZED, "authentication keyValues length is incorrect, actual length=1.");

    /* Unsigned streams: a ReceiveMessage and a Telemetry stream get the status and end. */
    sign_as(&c, NULL, NULL);
    expect_receive_refused(&c, "GroupAcl", "TopicAcl", "username cannot be null.");
    Apache__Rocketmq__V2__Resource topic = APACHE__ROCKETMQ__V2__RESOURCE__INIT, *tp = &topic;
    topic.name = "TopicAcl";
    Apache__Rocketmq__V2__Publishing pub = APACHE__ROCKETMQ__V2__PUBLISHING__INIT;
    pub.n_topics = 1;
    pub.topics = &tp;
    Apache__Rocketmq__V2__Settings st = APACHE__ROCKETMQ__V2__SETTINGS__INIT;
    st.client_type = APACHE__ROCKETMQ__V2__CLIENT_TYPE__PRODUCER;
    st.pub_sub_case = APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_PUBLISHING;
    st.publishing = &pub;
    Apache__Rocketmq__V2__TelemetryCommand tc = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__INIT;
    tc.command_case = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_SETTINGS;
    tc.settings = &st;
    h2_result r;
    call(&c, &r, "Telemetry", &tc.base);
    ck_assert_int_eq(r.grpc_status, GRPC_OK);
    Apache__Rocketmq__V2__TelemetryCommand *out =
        (void *)h2c_message(&r, &apache__rocketmq__v2__telemetry_command__descriptor, 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(out->status->code, UNAUTHORIZED);
    ck_assert_int_eq(out->command_case, APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND__NOT_SET);
    apache__rocketmq__v2__telemetry_command__free_unpacked(out, NULL);
    h2c_result_free(&r);

    h2c_close(&c);
    tb_done(&tb);
}
END_TEST

static const char plain_acl[] = "accounts:\n"
                                "  - accessKey: producer1\n"
                                "    secretKey: producer-secret\n"
                                "    defaultTopicPerm: DENY\n"
                                "    topicPerms:\n"
                                "      - TopicAcl=PUB\n"
                                "  - accessKey: admin123\n"
                                "    secretKey: admin-secret\n"
                                "    admin: true\n";

START_TEST(acl1_signed_calls_pass_others_permission_denied)
{
    char *home = test_tmpdir("grpc-acl-home");
    char *conf = str_printf("%s/conf", home), *file = str_printf("%s/conf/plain_acl.yml", home);
    ck_assert_int_eq(mkdirs(conf), 0);
    ck_assert_int_eq(write_file_atomic(file, plain_acl, strlen(plain_acl)), 0);
    setenv("ROCKETMQ_HOME", home, 1);
    start("grpc-acl1", "--aclEnable=true", NULL, NULL);
    admin_call(tb_create_topic_req("TopicAcl", 2), "admin123", "admin-secret", NULL);
    admin_call(tb_create_topic_req("TopicOther", 2), "admin123", "admin-secret", NULL);

    h2_client c;
    ck_assert_int_eq(h2c_connect(&c, grpc_addr), 0);
    int code;
    char why[512];
    /* Without credentials Apache 5.2's interceptor meets a NullPointerException: INTERNAL. */
    ck_assert_int_eq(send_to(&c, "TopicAcl", &code, why, sizeof why), GRPC_INTERNAL);
    sign_as(&c, "producer1", "producer-secret");
    expect_send(&c, "TopicAcl", APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    ck_assert_int_eq(send_to(&c, "TopicOther", &code, why, sizeof why), GRPC_PERMISSION_DENIED);
    sign_as(&c, "producer1", "wrong");
    ck_assert_int_eq(send_to(&c, "TopicAcl", &code, why, sizeof why), GRPC_PERMISSION_DENIED);
    sign_as(&c, "nobody", "x");
    ck_assert_int_eq(send_to(&c, "TopicAcl", &code, why, sizeof why), GRPC_PERMISSION_DENIED);
    sign_as(&c, "admin123", "admin-secret");
    expect_send(&c, "TopicOther", APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    h2c_close(&c);
    tb_done(&tb);
    unsetenv("ROCKETMQ_HOME");
    test_rmdir(home);
    free(conf), free(file), free(home);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grpc_acl");
    TCase *t = tcase_create("broker");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, acl2_signed_calls_pass_others_unauthorized);
    tcase_add_test(t, acl1_signed_calls_pass_others_permission_denied);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
