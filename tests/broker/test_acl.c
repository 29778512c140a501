/*
 * Plain ACL: the plain_acl.yml reader (on Apache's distribution file), white-list
 * rules, signatures (golden frames signed by Apache's mqadmin 4.9.8 and
 * signatures computed here with OpenSSL), the per-code permission table, and a
 * real mqbroker with aclEnable=true.
 */
#include <check.h>
#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "broker/acl.h"
#include "broker_client.h"
#include "../check_run.h"

/* distribution/conf/plain_acl.yml at rocketmq-all-4.9.8, verbatim. */
static const char apache_example[] =
    "# Licensed to the Apache Software Foundation (ASF) under one or more\n"
    "# contributor license agreements.  See the NOTICE file distributed with\n"
    "# this work for additional information regarding copyright ownership.\n"
    "# The ASF licenses this file to You under the Apache License, Version 2.0\n"
    "# (the \"License\"); you may not use this file except in compliance with\n"
    "# the License.  You may obtain a copy of the License at\n"
    "#\n"
    "#     http://www.apache.org/licenses/LICENSE-2.0\n"
    "#\n"
    "#  Unless required by applicable law or agreed to in writing, software\n"
    "#  distributed under the License is distributed on an \"AS IS\" BASIS,\n"
    "#  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
    "#  See the License for the specific language governing permissions and\n"
    "#  limitations under the License.\n"
    "\n"
    "globalWhiteRemoteAddresses:\n"
    "  - 10.10.103.*\n"
    "  - 192.168.0.*\n"
    "\n"
    "accounts:\n"
    "  - accessKey: RocketMQ\n"
    "    secretKey: 12345678\n"
    "    whiteRemoteAddress:\n"
    "    admin: false\n"
    "    defaultTopicPerm: DENY\n"
    "    defaultGroupPerm: SUB\n"
    "    topicPerms:\n"
    "      - topicA=DENY\n"
    "      - topicB=PUB|SUB\n"
    "      - topicC=SUB\n"
    "    groupPerms:\n"
    "      # the group should convert to retry topic\n"
    "      - groupA=DENY\n"
    "      - groupB=PUB|SUB\n"
    "      - groupC=SUB\n"
    "\n"
    "  - accessKey: rocketmq2\n"
    "    secretKey: 12345678\n"
    "    whiteRemoteAddress: 192.168.1.*\n"
    "    # if it is admin, it could access all resources\n"
    "    admin: true\n"
    "    \n";

#define LOCAL "127.0.0.1:40000"
#define ACL_PREFIX "org.apache.rocketmq.acl.common.AclException: "

/* A request with the given "key", "value", ... fields (NULL-terminated). */
static rmq_cmd *req_new(int code, ...)
{
    rmq_cmd *req = cmd_new_request(code);
    va_list ap;
    va_start(ap, code);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(req, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(const rmq_ext_field *const *)a)->key, (*(const rmq_ext_field *const *)b)->key);
}

/*
 * AclClientRPCHook, written out here with OpenSSL: AccessKey added, then
 * Base64(HMAC-SHA1(sk, values sorted by key + body)) over every field but
 * Signature and SKIP (NULL: none).
 */
static void sign_skipping(rmq_cmd *req, const char *ak, const char *sk, const char *skip)
{
    cmd_ext_set(req, "AccessKey", ak);
    cmd_ext_remove(req, "Signature");
    const rmq_ext_field *f[64];
    int n = 0;
    for (int i = 0; i < req->n_ext; i++)
        if (!skip || strcmp(req->ext[i].key, skip)) f[n++] = &req->ext[i];
    qsort(f, (size_t)n, sizeof f[0], key_cmp);
    char content[4096];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t vl = strlen(f[i]->val);
        ck_assert_uint_lt(len + vl, sizeof content);
        memcpy(content + len, f[i]->val, vl), len += vl;
    }
    ck_assert_uint_lt(len + req->body_len, sizeof content);
    if (req->body_len) memcpy(content + len, req->body, req->body_len), len += req->body_len;
    unsigned char md[20];
    unsigned int mdlen = sizeof md;
    ck_assert_ptr_nonnull(HMAC(EVP_sha1(), sk, (int)strlen(sk), (unsigned char *)content, len, md, &mdlen));
    unsigned char b64[64];
    EVP_EncodeBlock(b64, md, (int)mdlen);
    cmd_ext_set(req, "Signature", (char *)b64);
}

static rmq_cmd *sign(rmq_cmd *req, const char *ak, const char *sk)
{
    sign_skipping(req, ak, sk, NULL);
    return req;
}

/* acl_check on REQ (freed) from REMOTE: allowed when want is NULL, else refused with exactly want. */
static void expect(const acl *a, rmq_cmd *req, const char *remote, const char *want)
{
    char err[512] = "";
    int rc = acl_check(a, req, remote, err, sizeof err);
    if (!want) ck_assert_msg(rc == RMQ_OK, "code %d from %s refused: %s", req->code, remote, err);
    else {
        ck_assert_msg(rc == RMQ_ERR, "code %d from %s allowed, want '%s'", req->code, remote, want);
        ck_assert_str_eq(err, want);
    }
    cmd_free(req);
}

static acl *parse_ok(const char *yaml)
{
    char err[512] = "";
    acl *a = acl_parse(yaml, err, sizeof err);
    ck_assert_msg(a != NULL, "parse failed: %s", err);
    return a;
}

static void parse_fails(const char *yaml, const char *want)
{
    char err[512] = "";
    acl *a = acl_parse(yaml, err, sizeof err);
    ck_assert_msg(a == NULL, "'%s' parsed", yaml);
    ck_assert_str_eq(err, want);
}

static rmq_cmd *send_v2(const char *group, const char *topic)
{
    rmq_cmd *req = req_new(310, "a", group, "b", topic, "c", "TBW102", "d", "4", "e", "0", "f", "0", "g",
                           "1700000000000", "h", "0", "j", "0", "k", "false", NULL);
    cmd_set_body(req, "hello", 5);
    return req;
}

static rmq_cmd *pull(const char *group, const char *topic)
{
    return req_new(11, "consumerGroup", group, "topic", topic, "queueId", "0", "queueOffset", "0", "maxMsgNums",
                   "32", "sysFlag", "2", "commitOffset", "0", "suspendTimeoutMillis", "0", NULL);
}

/* AclSigner over "rocketmq2": GET_ROUTEINFO_BY_TOPIC's only field, as mqadmin 4.9.8 signed it (golden). */
START_TEST(test_sign_matches_java)
{
    char sig[ACL_SIGNATURE_LEN + 1];
    acl_sign("12345678", "rocketmq2", 9, sig);
    ck_assert_str_eq(sig, "Ou1T58RIcyZWaTIwzkhJZWn/Zvs=");
    acl_sign("12345678", "", 0, sig);
    ck_assert_uint_eq(strlen(sig), ACL_SIGNATURE_LEN);
    ck_assert_str_ne(sig, "Ou1T58RIcyZWaTIwzkhJZWn/Zvs=");
}
END_TEST

/* Frames captured from Apache's mqadmin 4.9.8 (accessKey rocketmq2, secretKey 12345678). */
START_TEST(test_golden_frames_verify)
{
    acl *a = parse_ok("accounts:\n  - accessKey: rocketmq2\n    secretKey: 12345678\n    admin: true\n");
    rmq_cmd *send = req_new(310, "a", "1795444698828", "b", "GoldenAdminTopic", "c", "TBW102", "d", "4", "e", "0",
                            "f", "0", "g", "1795444699294", "h", "0", "i",
                            "KEYS\001goldenAdminKey\002UNIQ_KEY\001FD00000000000000000000000000000254215FFD2B277470089D"
                            "0000\002WAIT\001true\002TAGS\001TagM",
                            "j", "0", "k", "false", "m", "false", "n", "broker-java", "Signature",
                            "UuNKWU2Ko7XqAccY5wLG61pmaMo=", "AccessKey", "rocketmq2", NULL);
    cmd_set_body(send, "golden-mqadmin-body", 19);
    expect(a, send, LOCAL, NULL);

    send = req_new(310, "a", "1795444698828", "b", "GoldenAdminTopic", "Signature", "UuNKWU2Ko7XqAccY5wLG61pmaMo=",
                   "AccessKey", "rocketmq2", NULL);
    cmd_set_body(send, "golden-mqadmin-body", 19);
    expect(a, send, LOCAL, "Check signature failed for accessKey=rocketmq2");

    /* The client signs _UNIQUE_KEY_QUERY; Apache's broker leaves it out. Both forms pass here. */
    expect(a,
           req_new(12, "_UNIQUE_KEY_QUERY", "false", "beginTimestamp", "0", "Signature", "ijWE7oWEuaebcqCBgvc/fdZ5X98=",
                   "topic", "GoldenAdminTopic", "AccessKey", "rocketmq2", "maxNum", "64", "endTimestamp",
                   "9223372036854775807", "key", "goldenAdminKey", NULL),
           LOCAL, NULL);
    rmq_cmd *q = req_new(12, "_UNIQUE_KEY_QUERY", "false", "beginTimestamp", "0", "topic", "GoldenAdminTopic",
                         "maxNum", "64", "endTimestamp", "9223372036854775807", "key", "goldenAdminKey", NULL);
    sign_skipping(q, "rocketmq2", "12345678", "_UNIQUE_KEY_QUERY");
    expect(a, q, LOCAL, NULL);

    expect(a,
           req_new(17, "readQueueNums", "4", "perm", "6", "writeQueueNums", "4", "topicFilterType", "SINGLE_TAG",
                   "Signature", "ah5OMVNHuhEMAUE2NtKuuc2vYzg=", "topic", "GoldenAdminTopic", "AccessKey", "rocketmq2",
                   "defaultTopic", "TBW102", "topicSysFlag", "0", "order", "false", NULL),
           LOCAL, NULL);
    acl_free(a);
}
END_TEST

START_TEST(test_apache_example)
{
    acl *a = parse_ok(apache_example);
    /* Global white list: nothing else is looked at. */
    expect(a, send_v2("g", "topicA"), "10.10.103.7:5555", NULL);
    expect(a, send_v2("g", "topicA"), "192.168.0.200:5555", NULL);
    expect(a, send_v2("g", "topicA"), "10.10.104.7:5555", "No accessKey is configured");
    expect(a, sign(send_v2("g", "topicB"), "nobody1", "12345678"), LOCAL, "No acl config for nobody1");

    /* RocketMQ: signed, topic and group permissions. */
    expect(a, sign(send_v2("g", "topicB"), "RocketMQ", "12345678"), LOCAL, NULL);
    expect(a, sign(send_v2("g", "topicB"), "RocketMQ", "12345679"), LOCAL,
           "Check signature failed for accessKey=RocketMQ");
    rmq_cmd *unsigned_req = send_v2("g", "topicB");
    cmd_ext_set(unsigned_req, "AccessKey", "RocketMQ");
    expect(a, unsigned_req, LOCAL, "Check signature failed for accessKey=RocketMQ");
    expect(a, sign(send_v2("g", "topicA"), "RocketMQ", "12345678"), LOCAL, "No default permission for topic:topicA");
    expect(a, sign(send_v2("g", "topicC"), "RocketMQ", "12345678"), LOCAL, "No default permission for topic:topicC");
    expect(a, sign(send_v2("g", "topicZ"), "RocketMQ", "12345678"), LOCAL, "No default permission for topic:topicZ");
    /* Traces may always be sent. */
    expect(a, sign(send_v2("g", "RMQ_SYS_TRACE_TOPIC"), "RocketMQ", "12345678"), LOCAL, NULL);
    /* A send to a retry topic needs the group's SUB instead. */
    expect(a, sign(send_v2("groupB", "%RETRY%groupB"), "RocketMQ", "12345678"), LOCAL, NULL);
    expect(a, sign(send_v2("groupA", "%RETRY%groupA"), "RocketMQ", "12345678"), LOCAL,
           "No default permission for group:groupA");

    expect(a, sign(pull("groupC", "topicC"), "RocketMQ", "12345678"), LOCAL, NULL);
    expect(a, sign(pull("groupZ", "topicB"), "RocketMQ", "12345678"), LOCAL, NULL); /* defaultGroupPerm SUB */
    expect(a, sign(pull("groupA", "topicC"), "RocketMQ", "12345678"), LOCAL,
           "No default permission for group:groupA");
    expect(a, sign(pull("groupB", "topicA"), "RocketMQ", "12345678"), LOCAL,
           "No default permission for topic:topicA");
    expect(a, sign(req_new(36, "group", "groupA", "offset", "0", NULL), "RocketMQ", "12345678"), LOCAL,
           "No default permission for group:groupA");
    expect(a, sign(req_new(12, "topic", "topicA", "key", "k", NULL), "RocketMQ", "12345678"), LOCAL,
           "No default permission for topic:topicA");
    expect(a, sign(req_new(38, "consumerGroup", "groupA", NULL), "RocketMQ", "12345678"), LOCAL,
           "No default permission for group:groupA");
    expect(a, sign(req_new(35, "clientID", "c1", "consumerGroup", "groupC", NULL), "RocketMQ", "12345678"), LOCAL,
           NULL);
    expect(a,
           sign(req_new(15, "consumerGroup", "groupC", "topic", "topicA", "queueId", "1", "commitOffset", "5", NULL),
                "RocketMQ", "12345678"),
           LOCAL, "No default permission for topic:topicA");
    /* Codes outside the table only need the signature. */
    expect(a, sign(req_new(30, "topic", "topicA", "queueId", "0", NULL), "RocketMQ", "12345678"), LOCAL, NULL);

    /* Admin-only codes. */
    expect(a, sign(tb_create_topic_req("topicB", 4), "RocketMQ", "12345678"), LOCAL,
           "Need admin permission for request code=17, but accessKey=RocketMQ is not");
    expect(a, sign(req_new(207, "groupName", "g", NULL), "RocketMQ", "12345678"), LOCAL,
           "Need admin permission for request code=207, but accessKey=RocketMQ is not");
    /* rocketmq2: admin without resource lists may do anything; its white list skips the signature. */
    expect(a, sign(tb_create_topic_req("topicB", 4), "rocketmq2", "12345678"), LOCAL, NULL);
    expect(a, sign(send_v2("g", "anyTopic"), "rocketmq2", "12345678"), LOCAL, NULL);
    expect(a, req_new(17, "AccessKey", "rocketmq2", "topic", "t", NULL), "192.168.1.9:1", NULL);
    expect(a, req_new(17, "AccessKey", "rocketmq2", "topic", "t", NULL), "192.168.2.9:1",
           "Check signature failed for accessKey=rocketmq2");
    acl_free(a);
}
END_TEST

START_TEST(test_heartbeat_and_headers)
{
    acl *a = parse_ok(apache_example);
    const char *ok = "{\"clientID\":\"c\",\"consumerDataSet\":[{\"groupName\":\"groupB\",\"subscriptionDataSet\":"
                     "[{\"topic\":\"topicB\",\"subString\":\"*\"},{\"topic\":\"topicC\"}]}],\"producerDataSet\":[]}";
    const char *bad_topic = "{consumerDataSet:[{groupName:'groupB',subscriptionDataSet:[{topic:'topicA'}]}]}";
    rmq_cmd *hb = req_new(34, NULL);
    cmd_set_body(hb, ok, strlen(ok));
    expect(a, sign(hb, "RocketMQ", "12345678"), LOCAL, NULL);
    hb = req_new(34, NULL);
    cmd_set_body(hb, bad_topic, strlen(bad_topic));
    expect(a, sign(hb, "RocketMQ", "12345678"), LOCAL, "No default permission for topic:topicA");
    hb = req_new(34, NULL);
    const char *bad_group = "{\"consumerDataSet\":[{\"groupName\":\"groupA\"}]}";
    cmd_set_body(hb, bad_group, strlen(bad_group));
    expect(a, sign(hb, "RocketMQ", "12345678"), LOCAL, "No default permission for group:groupA");

    /* Apache decodes these headers first: a missing required field is refused, white list or not. */
    expect(a, req_new(35, "consumerGroup", "groupC", NULL), "10.10.103.1:1", "the custom field <clientID> is null");
    expect(a, sign(req_new(15, "consumerGroup", "groupC", "topic", "topicC", "commitOffset", "5", NULL), "RocketMQ",
                   "12345678"),
           LOCAL, "the custom field <queueId> is null");
    acl_free(a);
}
END_TEST

/*
 * Two refusals in one request: Apache names the first resource its HashMap iterates, not
 * the first it added (seen from Apache 4.9.7's broker in compat/apache AclMatrixTest: a pull
 * of topicPub by groupDeny names the group, although parse adds the topic first).
 */
START_TEST(test_refusal_names_hashmap_first)
{
    acl *a = parse_ok("accounts:\n- accessKey: rocketmq2\n  secretKey: 12345678\n  defaultTopicPerm: DENY\n"
                      "  defaultGroupPerm: SUB\n  topicPerms:\n  - topicPub=PUB\n  groupPerms:\n  - groupDeny=DENY\n");
    expect(a, sign(pull("groupDeny", "topicPub"), "rocketmq2", "12345678"), LOCAL,
           "No default permission for group:groupDeny");
    expect(a, sign(req_new(15, "consumerGroup", "groupDeny", "topic", "topicPub", "queueId", "0", "commitOffset", "0",
                           NULL), "rocketmq2", "12345678"), LOCAL, "No default permission for group:groupDeny");
    /* Only the topic refused: named whatever the order. */
    expect(a, sign(pull("groupOther", "topicPub"), "rocketmq2", "12345678"), LOCAL,
           "No default permission for topic:topicPub");
    acl_free(a);
}
END_TEST

START_TEST(test_white_address_rules)
{
    acl *a = parse_ok("accounts:\n"
                      "- accessKey: exactKey\n  secretKey: secret123\n  whiteRemoteAddress: 10.0.0.1\n"
                      "- accessKey: braceKey\n  secretKey: secret123\n  whiteRemoteAddress: 192.168.1.{1,2}\n"
                      "- accessKey: listKey1\n  secretKey: secret123\n  whiteRemoteAddress: 10.0.0.5,10.0.0.6\n"
                      "- accessKey: rangeKey\n  secretKey: secret123\n  whiteRemoteAddress: 172.16.1-3.*\n"
                      "- accessKey: lastRange\n  secretKey: secret123\n  whiteRemoteAddress: 172.17.0.10-20\n"
                      "- accessKey: anyoneKey\n  secretKey: secret123\n  whiteRemoteAddress: '*'\n"
                      "- accessKey: ipv6Key1\n  secretKey: secret123\n  whiteRemoteAddress: 0:0:0:0:0:0:0:1\n");
    static const struct {
        const char *key, *remote;
        bool allowed;
    } cases[] = {
        {"exactKey", "10.0.0.1:9", true},      {"exactKey", "10.0.0.10:9", false},
        {"braceKey", "192.168.1.2:9", true},   {"braceKey", "192.168.1.3:9", false},
        {"listKey1", "10.0.0.6:9", true},      {"listKey1", "10.0.0.7:9", false},
        {"rangeKey", "172.16.3.77:9", true},   {"rangeKey", "172.16.4.1:9", false},
        {"lastRange", "172.17.0.10:9", true},  {"lastRange", "172.17.0.21:9", false},
        {"anyoneKey", "8.8.8.8:9", true},      {"ipv6Key1", "::1:9", true},
        {"ipv6Key1", "::2:9", false},          {"exactKey", "::ffff:10.0.0.1:9", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "Check signature failed for accessKey=%s", cases[i].key);
        expect(a, req_new(17, "AccessKey", cases[i].key, NULL), cases[i].remote, cases[i].allowed ? NULL : want);
    }
    acl_free(a);

    parse_fails("globalWhiteRemoteAddresses: [10.0.0.300]\n", "Netaddress examine Exception netaddress is 10.0.0.300");
    parse_fails("globalWhiteRemoteAddresses:\n- 10.0.5-2.*\n",
                "RangeRemoteAddressStrategy netaddress examine scope Exception netaddress is 10.0.5-2.*");
}
END_TEST

/* YAML shapes the file may take beyond Apache's example. */
START_TEST(test_yaml_shapes)
{
    acl *a = parse_ok("---\r\n"
                      "globalWhiteRemoteAddresses: []   # none\r\n"
                      "accounts:\r\n"
                      "- accessKey: \"quoted#key\"\r\n"
                      "  secretKey: 'it''s a # secret'\r\n"
                      "  admin: False\r\n"
                      "  defaultTopicPerm: PUB\r\n"
                      "  topicPerms: [ \"flowT=SUB|PUB\", other = DENY ]\r\n"
                      "  groupPerms:\r\n"
                      "  - gq=SUB\r\n"
                      "-\r\n"
                      "    accessKey: nested12\r\n"
                      "    secretKey: \"tab\\there\"\r\n"
                      "    admin: yes\r\n");
    expect(a, sign(send_v2("g", "anything"), "quoted#key", "it's a # secret"), LOCAL, NULL);
    expect(a, sign(pull("gq", "flowT"), "quoted#key", "it's a # secret"), LOCAL, NULL);
    expect(a, sign(send_v2("g", "other"), "quoted#key", "it's a # secret"), LOCAL,
           "No default permission for topic:other");
    expect(a, sign(pull("gz", "flowT"), "quoted#key", "it's a # secret"), LOCAL,
           "No default permission for group:gz"); /* defaultGroupPerm absent: DENY */
    expect(a, sign(tb_create_topic_req("t", 1), "nested12", "tab\there"), LOCAL, NULL);
    acl_free(a);

    /* Empty and comment-only files are an ACL without accounts. */
    a = parse_ok("# nothing\n\n");
    expect(a, sign(send_v2("g", "t"), "RocketMQ", "12345678"), LOCAL, "No acl config for RocketMQ");
    acl_free(a);

    parse_fails("accounts:\n  - accessKey: shortk\n    secretKey: 12345678\n",
                "The accessKey=shortk and secretKey=12345678 cannot be null and length should longer than 6");
    parse_fails("accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    topicPerms:\n      - topicA\n",
                "Parse resource permission failed for topic:topicA");
    parse_fails("accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    admin: maybe\n",
                "admin of RocketMQ must be true or false");
    parse_fails("accounts:\n  - accessKey: RocketMQ\n     secretKey: 12345678\n", "line 3: bad indentation");
    parse_fails("accounts:\n\t- accessKey: RocketMQ\n", "line 2: tabs cannot indent YAML");
    parse_fails("accounts:\n  - accessKey: 'RocketMQ\n", "line 2: unterminated quoted scalar");
    parse_fails("accounts\n", "line 1: expected 'key: value'");
    parse_fails("- a\n- b\n", "the file must hold a mapping");
}
END_TEST

START_TEST(test_load_file)
{
    char *dir = test_tmpdir("acl-load");
    char *path = str_printf("%s/plain_acl.yml", dir);
    char err[512];
    /* A missing file: no accounts, as Apache (which creates it empty). */
    acl *a = acl_load(path, err, sizeof err);
    ck_assert_ptr_nonnull(a);
    expect(a, send_v2("g", "t"), LOCAL, "No accessKey is configured");
    acl_free(a);
    ck_assert_int_eq(write_file_atomic(path, apache_example, strlen(apache_example)), 0);
    a = acl_load(path, err, sizeof err);
    ck_assert_ptr_nonnull(a);
    expect(a, sign(send_v2("g", "topicB"), "RocketMQ", "12345678"), LOCAL, NULL);
    acl_free(a);
    ck_assert_int_eq(write_file_atomic(path, "accounts: [\n", 12), 0);
    ck_assert_ptr_null(acl_load(path, err, sizeof err));
    char *want = str_printf("%s: line 1: a flow sequence must end on its line", path);
    ck_assert_str_eq(err, want);
    free(want);
    free(path);
    test_rmdir(dir);
    free(dir);
}
END_TEST

/* ---- a real mqbroker with aclEnable=true ---- */

static const char e2e_acl[] = "accounts:\n"
                              "  - accessKey: producer1\n"
                              "    secretKey: producer-secret\n"
                              "    defaultTopicPerm: DENY\n"
                              "    topicPerms:\n"
                              "      - AclTopic=PUB\n"
                              "  - accessKey: admin123\n"
                              "    secretKey: admin-secret\n"
                              "    admin: true\n";

/* The broker's remark ends with where Apache 4.9.7 threw (RemotingHelper.exceptionSimpleDesc). */
#define FRAME(method, line) ", org.apache.rocketmq.acl.plain.PlainPermissionManager." method \
                            "(PlainPermissionManager.java:" #line ")"
#define NO_AK "No accessKey is configured" FRAME("validate", 663)

static void expect_refused(const test_broker *tb, const char *addr, rmq_cmd *req, const char *reason)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr ? addr : tb->proc.addr, req, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d: %s", req->code, err);
    cmd_free(req);
    ck_assert_int_eq(resp->code, 1);
    char *want = str_printf(ACL_PREFIX "%s", reason);
    ck_assert_str_eq(resp->remark, want);
    free(want);
    cmd_free(resp);
}

static void expect_sent(const test_broker *tb, rmq_cmd *req)
{
    rmq_cmd *resp = tb_call(tb, req, BC_TIMEOUT);
    ck_assert_msg(resp->code == 0, "send: %d %s", resp->code, resp->remark ? resp->remark : "");
    ck_assert_ptr_nonnull(cmd_ext_get(resp, "msgId"));
    cmd_free(resp);
}

START_TEST(test_broker_enforces_acl)
{
    char *home = test_tmpdir("acl-home");
    char *conf = str_printf("%s/conf", home), *file = str_printf("%s/conf/plain_acl.yml", home);
    ck_assert_int_eq(mkdirs(conf), 0);
    ck_assert_int_eq(write_file_atomic(file, e2e_acl, strlen(e2e_acl)), 0);
    setenv("ROCKETMQ_HOME", home, 1);
    test_broker tb;
    tb_init(&tb, "acl-e2e", "--aclEnable=true", NULL);

    /* The admin creates the topic; the producer sends to it. */
    rmq_cmd *resp = tb_call(&tb, sign(tb_create_topic_req("AclTopic", 4), "admin123", "admin-secret"), BC_TIMEOUT);
    ck_assert_msg(resp->code == 0, "create: %d %s", resp->code, resp->remark ? resp->remark : "");
    cmd_free(resp);
    expect_sent(&tb, sign(tb_send_req("PG_acl", "AclTopic", 0, 0, NULL, "signed"), "producer1", "producer-secret"));

    expect_refused(&tb, NULL, tb_send_req("PG_acl", "AclTopic", 0, 0, NULL, "unsigned"), NO_AK);
    rmq_cmd *forged = sign(tb_send_req("PG_acl", "AclTopic", 0, 0, NULL, "body"), "producer1", "producer-secret");
    cmd_set_body(forged, "BODY", 4);
    expect_refused(&tb, NULL, forged, "Check signature failed for accessKey=producer1" FRAME("validate", 683));
    expect_refused(&tb, NULL,
                   sign(tb_send_req("PG_acl", "OtherTopic", 0, 0, NULL, "body"), "producer1", "producer-secret"),
                   "No default permission for topic:OtherTopic" FRAME("checkPerm", 605));
    expect_refused(&tb, NULL, sign(tb_create_topic_req("NewTopic", 4), "producer1", "producer-secret"),
                   "Need admin permission for request code=17, but accessKey=producer1 is not" FRAME("checkPerm", 580));
    /* The fast port checks too. */
    char fast[64];
    snprintf(fast, sizeof fast, "127.0.0.1:%d", tb.port - 2);
    expect_refused(&tb, fast, tb_send_req("PG_acl", "AclTopic", 0, 0, NULL, "unsigned"), NO_AK);

    /* Still serving; the refused messages were not stored. */
    expect_sent(&tb, sign(tb_send_req("PG_acl", "AclTopic", 0, 0, NULL, "again"), "producer1", "producer-secret"));
    rmq_cmd *max = sign(req_new(30, "topic", "AclTopic", "queueId", "0", NULL), "producer1", "producer-secret");
    resp = tb_call(&tb, max, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    ck_assert_int_eq(tb_ext_i64(resp, "offset"), 2);
    cmd_free(resp);

    tb_done(&tb);
    unsetenv("ROCKETMQ_HOME");
    free(conf), free(file);
    test_rmdir(home);
    free(home);
}
END_TEST

START_TEST(test_broker_refuses_bad_acl_file)
{
    char *home = test_tmpdir("acl-home");
    char *conf = str_printf("%s/conf", home), *file = str_printf("%s/conf/plain_acl.yml", home);
    ck_assert_int_eq(mkdirs(conf), 0);
    const char *bad = "accounts:\n  - accessKey: short\n    secretKey: x\n";
    ck_assert_int_eq(write_file_atomic(file, bad, strlen(bad)), 0);
    setenv("ROCKETMQ_HOME", home, 1);
    char *dir = test_tmpdir("acl-bad");
    char *root = str_printf("--storePathRootDir=%s/store", dir), *log = str_printf("%s/broker.log", dir);
    int port = test_free_broker_port();
    char *lp = str_printf("--listenPort=%d", port);
    char *argv[] = {"mqbroker", root, lp, "--listenAddress=127.0.0.1", "--aclEnable=true", NULL};
    test_proc p;
    ck_assert_int_ne(test_proc_start(&p, "mqbroker", argv, port, log), 0);
    size_t len;
    char *out = read_file(log, &len);
    ck_assert_msg(out && strstr(out, "The accessKey=short and secretKey=x cannot be null"), "log: %s", out);
    free(out);
    unsetenv("ROCKETMQ_HOME");
    free(root), free(log), free(lp), free(conf), free(file);
    test_rmdir(dir);
    test_rmdir(home);
    free(dir), free(home);
}
END_TEST

/* Sends REQ (freed) on the open connection FD and returns the answer's code. */
static int code_on(int fd, rmq_cmd *req)
{
    struct evbuffer *out = evbuffer_new();
    cmd_encode_into(req, out);
    size_t len = evbuffer_get_length(out);
    ck_assert_int_eq(send(fd, evbuffer_pullup(out, -1), len, MSG_NOSIGNAL), (ssize_t)len);
    evbuffer_free(out);
    cmd_free(req);
    char err[256];
    rmq_cmd *resp = rmq_read_frame_fd(fd, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp != NULL, "the connection went: %s", err);
    int code = resp->code;
    cmd_free(resp);
    return code;
}

/*
 * plain_acl.yml is watched as Apache 4.9.7's AclFileWatchService does (its lastModified,
 * every 5 s): a rewrite that grants the producer its topic takes effect on a connection
 * opened before, which stays open; a rewrite that does not load keeps the accounts.
 */
START_TEST(test_broker_reloads_acl_file)
{
    char *home = test_tmpdir("acl-home");
    char *conf = str_printf("%s/conf", home), *file = str_printf("%s/conf/plain_acl.yml", home);
    ck_assert_int_eq(mkdirs(conf), 0);
    ck_assert_int_eq(write_file_atomic(file, e2e_acl, strlen(e2e_acl)), 0);
    setenv("ROCKETMQ_HOME", home, 1);
    test_broker tb;
    tb_init(&tb, "acl-reload", "--aclEnable=true", NULL);
    rmq_cmd *resp = tb_call(&tb, sign(tb_create_topic_req("LaterTopic", 1), "admin123", "admin-secret"), BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
    char err[256];
    int fd = rmq_connect_blocking(tb.proc.addr, 5000, err, sizeof err);
    ck_assert_msg(fd >= 0, "connect: %s", err);
#define LATER() sign(tb_send_req("PG_acl", "LaterTopic", 0, 0, NULL, "later"), "producer1", "producer-secret")
    ck_assert_int_eq(code_on(fd, LATER()), 1);

    const char *granted = "accounts:\n"
                          "  - accessKey: producer1\n"
                          "    secretKey: producer-secret\n"
                          "    defaultTopicPerm: DENY\n"
                          "    topicPerms:\n"
                          "      - AclTopic=PUB\n"
                          "      - LaterTopic=PUB\n";
    ck_assert_int_eq(write_file_atomic(file, granted, strlen(granted)), 0);
    int64_t t0 = mono_ms(), took = -1;
    while (took < 0 && mono_ms() - t0 < 8000) {
        if (code_on(fd, LATER()) == 0) took = mono_ms() - t0;
        else usleep(100 * 1000);
    }
    ck_assert_msg(took >= 0, "the rewritten file was not in force 8 s later");
    fprintf(stderr, "acl reload: in force %lld ms after the rewrite, on the same connection\n", (long long)took);

    /* A rewrite that does not load (a key too short): the accounts in force stay. */
    const char *bad = "accounts:\n  - accessKey: short\n    secretKey: x\n";
    ck_assert_int_eq(write_file_atomic(file, bad, strlen(bad)), 0);
    usleep(6000 * 1000);
    ck_assert_int_eq(code_on(fd, LATER()), 0);
#undef LATER
    close(fd);
    tb_done(&tb);
    unsetenv("ROCKETMQ_HOME");
    free(conf), free(file);
    test_rmdir(home);
    free(home);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_sign_matches_java);
    tcase_add_test(unit, test_golden_frames_verify);
    tcase_add_test(unit, test_apache_example);
    tcase_add_test(unit, test_heartbeat_and_headers);
    tcase_add_test(unit, test_white_address_rules);
    tcase_add_test(unit, test_refusal_names_hashmap_first);
    tcase_add_test(unit, test_yaml_shapes);
    tcase_add_test(unit, test_load_file);
    suite_add_tcase(s, unit);
    TCase *e2e = tcase_create("e2e");
    tcase_set_timeout(e2e, 60);
    tcase_add_test(e2e, test_broker_enforces_acl);
    tcase_add_test(e2e, test_broker_refuses_bad_acl_file);
    tcase_add_test(e2e, test_broker_reloads_acl_file);
    suite_add_tcase(s, e2e);
    return test_run_suite(s);
}
