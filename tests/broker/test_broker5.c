/*
 * End to end: what the 5.3.x remoting client and mqadmin send beyond 4.9.8 —
 * topic attributes in UPDATE_AND_CREATE_TOPIC (stored in topics.json as 5.x
 * writes them, enforced on send as the 5.x proxy does), GET_SUBSCRIPTIONGROUP_CONFIG,
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, GET_ALL_PRODUCER_INFO, `bname` in
 * headers — with Apache's codes and remarks for bad input.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

static test_broker tb;

static void setup(void) { tb_init(&tb, "test_broker5", NULL); }
static void teardown(void) { tb_done(&tb); }

static rmq_cmd *create_with(const char *topic, const char *attributes)
{
    rmq_cmd *req = tb_create_topic_req(topic, 2);
    if (attributes) cmd_ext_set(req, "attributes", attributes);
    return tb_call(&tb, req, BC_TIMEOUT);
}

static void expect(rmq_cmd *r, int code, const char *remark)
{
    ck_assert_msg(r->code == code, "answered %d %s, expected %d", r->code, r->remark ? r->remark : "", code);
    if (remark) ck_assert_str_eq(r->remark ? r->remark : "(null)", remark);
    cmd_free(r);
}

static char *topic_config_body(const char *topic)
{
    rmq_cmd *req = cmd_new_request(351);
    cmd_ext_set(req, "topic", topic);
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    char *body = strndup((const char *)r->body, r->body_len);
    cmd_free(r);
    return body;
}

START_TEST(test_topic_attributes_are_parsed_kept_and_refused_as_apache)
{
    expect(create_with("T5_FIFO", "+message.type=FIFO"), 0, NULL);
    char *body = topic_config_body("T5_FIFO");
    ck_assert_msg(strstr(body, "\"attributes\":{\"message.type\":\"FIFO\"}") != NULL, "%s", body);
    free(body);
    /* An update without attributes keeps them; message.type may change, queue.type may not. */
    expect(create_with("T5_FIFO", NULL), 0, NULL);
    expect(create_with("T5_FIFO", "+queue.type=BatchCQ"), 1,
           "attempt to update an unchangeable attribute. key: queue.type");
    expect(create_with("T5_FIFO", "+message.type=DELAY,-reserve.time"), 1,
           "attempt to delete a nonexistent key: reserve.time");
    expect(create_with("T5_FIFO", "+message.type=NORMAL"), 0, NULL);
    body = topic_config_body("T5_FIFO");
    ck_assert_msg(strstr(body, "\"message.type\":\"NORMAL\"") != NULL, "%s", body);
    free(body);
    expect(create_with("T5_FIFO", "-message.type"), 0, NULL);
    body = topic_config_body("T5_FIFO");
    ck_assert_msg(strstr(body, "attributes") == NULL, "%s", body);   /* written as 4.9.8 does */
    free(body);

    /* AttributeParser / AttributeUtil exceptions, as SYSTEM_ERROR with their text. */
    expect(create_with("T5_BAD", "message.type=FIFO"), 1, "add/alter attribute format is wrong: message.type");
    expect(create_with("T5_BAD", "message.type"), 1, "delete attribute format is wrong: message.type");
    expect(create_with("T5_BAD", "+message.type=FIFO,+message.type=FIFO"), 1, "key duplication: +message.type");
    expect(create_with("T5_BAD", "+message.type="), 1, "Index 1 out of bounds for length 1");
    expect(create_with("T5_BAD", "-message.type"), 1,
           "only add attribute is supported while creating topic. key: message.type");
    expect(create_with("T5_BAD", "+no.such=1"), 1, "unsupported key: no.such");
    expect(create_with("T5_BAD", "+message.type=ODD"), 1,
           "value is not in set: [UNSPECIFIED, MIXED, TRANSACTION, FIFO, DELAY, NORMAL]");
    expect(create_with("T5_BAD", "+reserve.time=x"), 1, "For input string: \"x\"");
    expect(create_with("T5_BAD", "+message.type=MIXED"), 29, "MIXED message type is not supported.");
    /* Nothing was created by a refused request. */
    rmq_cmd *req = cmd_new_request(351);
    cmd_ext_set(req, "topic", "T5_BAD");
    expect(tb_call(&tb, req, BC_TIMEOUT), 17, NULL);

    /* topics.json keeps them across a restart, in 5.x's shape. */
    expect(create_with("T5_KEEP", "+message.type=DELAY,+cleanup.policy=DELETE,+reserve.time=10"), 0, NULL);
    tb_restart(&tb, SIGTERM);
    body = topic_config_body("T5_KEEP");
    ck_assert_msg(strstr(body, "\"attributes\":{\"cleanup.policy\":\"DELETE\",\"message.type\":\"DELAY\","
                               "\"reserve.time\":\"10\"}") != NULL, "%s", body);
    free(body);
}
END_TEST

static rmq_cmd *create_list(const char *body)
{
    rmq_cmd *req = cmd_new_request(18);
    cmd_set_body(req, body, strlen(body));
    return tb_call(&tb, req, BC_TIMEOUT);
}

/* The 5.x admin's createAndUpdateTopicConfigList: TopicConfigs whose attributes map holds "+key". */
START_TEST(test_topic_list_creates_with_attributes)
{
    expect(create_list("{\"topicConfigList\":[{\"topicName\":\"T5_L1\",\"readQueueNums\":2,\"writeQueueNums\":2,"
                       "\"perm\":6,\"attributes\":{\"+message.type\":\"FIFO\"}},"
                       "{\"topicName\":\"T5_L2\",\"readQueueNums\":1,\"writeQueueNums\":1,\"perm\":6}]}"),
           0, NULL);
    char *body = topic_config_body("T5_L1");
    ck_assert_msg(strstr(body, "\"attributes\":{\"message.type\":\"FIFO\"}") && strstr(body, "\"readQueueNums\":2"),
                  "%s", body);
    free(body);
    body = topic_config_body("T5_L2");
    ck_assert_msg(strstr(body, "\"writeQueueNums\":1") && !strstr(body, "attributes"), "%s", body);
    free(body);
    expect(create_list("{\"topicConfigList\":[{\"topicName\":\"bad topic\"}]}"), 29,
           "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
    expect(create_list("{\"topicConfigList\":[{\"topicName\":\"T5_L3\",\"attributes\":{\"+message.type\":\"MIXED\"}}]}"),
           29, "MIXED message type is not supported.");
    expect(create_list("{\"topicConfigList\":[{\"topicName\":\"T5_L1\",\"attributes\":{\"+queue.type\":\"BatchCQ\"}}]}"),
           1, "attempt to update an unchangeable attribute. key: queue.type");
    expect(create_list("{\"topicConfigList\":7}"), 1, "decode CreateTopicListRequestBody failed");
    expect(tb_call(&tb, cmd_new_request(18), BC_TIMEOUT), 1, "decode CreateTopicListRequestBody failed");
}
END_TEST

static rmq_cmd *send_to(const char *topic, const char *props)
{
    return tb_call(&tb, tb_send_req("PG_5", topic, 0, 0, props, "b"), BC_TIMEOUT);
}

/* The 5.x proxy's DefaultTopicMessageTypeValidator: MESSAGE_ILLEGAL with its text. */
START_TEST(test_send_is_checked_against_the_topic_message_type)
{
    expect(create_with("T5_F", "+message.type=FIFO"), 0, NULL);
    expect(send_to("T5_F", "__SHARDINGKEY\001k1\002WAIT\001true"), 0, NULL);
    expect(send_to("T5_F", "WAIT\001true"), 13,
           "TopicMessageType validate failed, the expected type is FIFO, but actual type is NORMAL");
    expect(send_to("T5_F", NULL), 13,
           "TopicMessageType validate failed, the expected type is FIFO, but actual type is NORMAL");
    expect(send_to("T5_F", "DELAY\0012"), 13,
           "TopicMessageType validate failed, the expected type is FIFO, but actual type is DELAY");
    expect(send_to("T5_F", "TRANSFER_FLAG\001true"), 0, NULL);   /* forwarded: not checked */
    expect(create_with("T5_D", "+message.type=DELAY"), 0, NULL);
    expect(send_to("T5_D", "DELAY\0011"), 0, NULL);
    expect(send_to("T5_D", "TIMER_DELAY_SEC\0011"), 0, NULL);
    expect(send_to("T5_D", "__SHARDINGKEY\001k"), 13,
           "TopicMessageType validate failed, the expected type is DELAY, but actual type is FIFO");
    expect(create_with("T5_T", "+message.type=TRANSACTION"), 0, NULL);
    expect(send_to("T5_T", "TAGS\001a"), 13,
           "TopicMessageType validate failed, the expected type is TRANSACTION, but actual type is NORMAL");
    /* A topic without message.type (4.9.8 tools and clients) takes every kind, as 4.9.8 does. */
    tb_create_topic(&tb, "T5_PLAIN", 2);
    expect(send_to("T5_PLAIN", "DELAY\0011"), 0, NULL);
    expect(send_to("T5_PLAIN", "__SHARDINGKEY\001k"), 0, NULL);
}
END_TEST

START_TEST(test_subscription_group_codes)
{
    rmq_cmd *req = cmd_new_request(352);
    cmd_ext_set(req, "group", "CG_5_auto");
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);   /* autoCreateSubscriptionGroup: created */
    ck_assert_int_eq(r->code, 0);
    ck_assert_ptr_nonnull(memmem(r->body, r->body_len, "\"groupName\":\"CG_5_auto\"", 23));
    cmd_free(r);
    expect(tb_call(&tb, cmd_new_request(352), BC_TIMEOUT), 1,
           "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <group> is null");

    req = cmd_new_request(225);
    const char *list = "{\"groupConfigList\":[{\"groupName\":\"CG_5_a\",\"retryMaxTimes\":3},"
                       "{\"groupName\":\"CG_5_b\",\"consumeBroadcastEnable\":false}]}";
    cmd_set_body(req, list, strlen(list));
    expect(tb_call(&tb, req, BC_TIMEOUT), 0, NULL);
    req = cmd_new_request(352);
    cmd_ext_set(req, "group", "CG_5_a");
    r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_ptr_nonnull(memmem(r->body, r->body_len, "\"retryMaxTimes\":3", 17));
    cmd_free(r);
    req = cmd_new_request(225);
    const char *nameless = "{\"groupConfigList\":[{\"retryMaxTimes\":3}]}";
    cmd_set_body(req, nameless, strlen(nameless));
    expect(tb_call(&tb, req, BC_TIMEOUT), 1, "decode SubscriptionGroupConfig failed: bad groupName");
    expect(tb_call(&tb, cmd_new_request(225), BC_TIMEOUT), 1, "decode SubscriptionGroupList failed");
}
END_TEST

START_TEST(test_all_producer_info_lists_heart_beaten_producers)
{
    char err[256];
    int fd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    rmq_cmd *hb = cmd_new_request(34);
    const char *body = "{\"clientID\":\"127.0.0.1@p5\",\"producerDataSet\":[{\"groupName\":\"PG_5_info\"}]}";
    cmd_set_body(hb, body, strlen(body));
    rmq_cmd *r = rmq_invoke_fd(fd, hb, BC_TIMEOUT, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r), cmd_free(hb);
    r = tb_call(&tb, cmd_new_request(328), BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    char *text = strndup((const char *)r->body, r->body_len);
    ck_assert_msg(strstr(text, "\"PG_5_info\":[{\"clientId\":\"127.0.0.1@p5\",\"language\":\"JAVA\"") != NULL, "%s",
                  text);
    ck_assert_msg(strstr(text, "\"remoteIP\":\"/127.0.0.1:") != NULL, "%s", text);
    free(text);
    cmd_free(r);
    close(fd);
}
END_TEST

/* RpcRequestHeader's bname (and ns/nsd/oway) ride along in 5.x headers; without static
 * topics the broker ignores them. */
START_TEST(test_bname_in_headers_is_accepted)
{
    tb_create_topic(&tb, "T5_BN", 1);
    rmq_cmd *req = tb_send_req("PG_5", "T5_BN", 0, 0, NULL, "x");
    cmd_ext_set(req, "bname", "broker-e2e");
    cmd_ext_set(req, "oway", "false");
    expect(tb_call(&tb, req, BC_TIMEOUT), 0, NULL);
    req = cmd_new_request(30);   /* GET_MAX_OFFSET */
    cmd_ext_set(req, "topic", "T5_BN");
    cmd_ext_set(req, "queueId", "0");
    cmd_ext_set(req, "bname", "broker-e2e");
    cmd_ext_set(req, "lo", "false");
    rmq_cmd *r = tb_call(&tb, req, BC_TIMEOUT);
    ck_assert_int_eq(r->code, 0);
    ck_assert_int_eq(tb_ext_i64(r, "offset"), 1);
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_topic_attributes_are_parsed_kept_and_refused_as_apache,
        test_send_is_checked_against_the_topic_message_type,
        test_topic_list_creates_with_attributes,
        test_subscription_group_codes,
        test_all_producer_info_lists_heart_beaten_producers,
        test_bname_in_headers_is_accepted,
        NULL,
    };
    return tb_run_tests("broker5", 60, setup, teardown, tests);
}
