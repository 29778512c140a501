/*
 * ACL 2.0: resource keys and source addresses, the decision between matching
 * policy entries (most specific first, Deny over Allow, Custom before Default,
 * actions and source IPs), authentication (unknown, disabled, badly signed
 * users), what each request needs, the store's checks and its reload from
 * config/auth.json, and a real mqbroker answering AUTH_* codes and refusing
 * with NO_PERMISSION as Apache 5.3 does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/acl.h"
#include "broker/acl2.h"
#include "broker_client.h"
#include "common/fjson.h"
#include "../check_run.h"

#define LOCAL "127.0.0.1:40000"

static int key_cmp(const void *a, const void *b)
{
    return strcmp((*(const rmq_ext_field *const *)a)->key, (*(const rmq_ext_field *const *)b)->key);
}

/* AclClientRPCHook: AccessKey, then the signature of the values sorted by key and the body. */
static rmq_cmd *sign(rmq_cmd *req, const char *ak, const char *sk)
{
    cmd_ext_set(req, "AccessKey", ak);
    const rmq_ext_field *f[64];
    int n = 0;
    for (int i = 0; i < req->n_ext; i++) f[n++] = &req->ext[i];
    qsort(f, (size_t)n, sizeof f[0], key_cmp);
    char content[4096];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        size_t vl = strlen(f[i]->val);
        memcpy(content + len, f[i]->val, vl), len += vl;
    }
    if (req->body_len) memcpy(content + len, req->body, req->body_len), len += req->body_len;
    char sig[ACL_SIGNATURE_LEN + 1];
    acl_sign(sk, content, len, sig);
    cmd_ext_set(req, "Signature", sig);
    return req;
}

static rmq_cmd *req_new(int code, ...)
{
    rmq_cmd *req = cmd_new_request(code);
    req->version = 479;  /* V5_3_3 */
    va_list ap;
    va_start(ap, code);
    for (const char *k; (k = va_arg(ap, const char *));) cmd_ext_set(req, k, va_arg(ap, const char *));
    va_end(ap);
    return req;
}

static rmq_cmd *send_to(const char *topic) { return req_new(310, "a", "PG", "b", topic, "c", "TBW102", NULL); }

/* auth_check on REQ (freed): allowed when want is NULL, else refused with exactly want. */
static void expect_from(const auth *a, rmq_cmd *req, const char *remote, const char *want)
{
    char err[512] = "";
    int rc = auth_check(a, req, remote, err, sizeof err);
    if (!want) ck_assert_msg(rc == RMQ_OK, "code %d refused: %s", req->code, err);
    else {
        ck_assert_msg(rc == RMQ_ERR, "code %d allowed, want '%s'", req->code, want);
        ck_assert_str_eq(err, want);
    }
    cmd_free(req);
}

static void expect(const auth *a, rmq_cmd *req, const char *want) { expect_from(a, req, LOCAL, want); }

/* An ACL from AclInfo JSON (single quotes for double). */
static void put_acl(auth *a, const char *json, const char *want_err)
{
    char *text = xstrdup(json);
    for (char *c = text; *c; c++)
        if (*c == '\'') *c = '"';
    cJSON *o = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(o);
    auth_acl *parsed = auth_acl_from_json(o);
    cJSON_Delete(o);
    ck_assert_ptr_nonnull(parsed);
    char err[256] = "";
    int rc = auth_acl_put(a, parsed, err, sizeof err);
    if (!want_err) ck_assert_msg(rc == AUTH_OK, "put: %s", err);
    else ck_assert_str_eq(err, want_err);
}

static void add_user(auth *a, const char *name, const char *pw, int type, int status)
{
    auth_user u = {(char *)name, (char *)pw, type, status};
    char err[256];
    ck_assert_msg(auth_user_create(a, &u, err, sizeof err) == AUTH_OK, "%s", err);
}

static char *dir;

static auth *open_store(bool authn, bool authz)
{
    auth_options o = {.authentication_enabled = authn, .authorization_enabled = authz, .cluster_name = "C1"};
    char err[256];
    auth *a = auth_open(dir, &o, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    return a;
}

static void setup(void)
{
    dir = test_tmpdir("acl2");  /* without config/: the first change creates it */
}

static void teardown(void)
{
    test_rmdir(dir);
    free(dir);
}

START_TEST(test_resources_and_addresses)
{
    static const char *const keys[][2] = {
        {"*", "*"},          {"Topic:*", "Topic:*"}, {"topic:ab*", "Topic:ab*"},
        {"Group:g1", "Group:g1"}, {"cluster:C", "Cluster:C"}, {"Topic:a*b*", "Topic:a*"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        auth_resource r;
        ck_assert(auth_resource_parse(keys[i][0], &r));
        char *k = auth_resource_key(&r);
        ck_assert_str_eq(k, keys[i][1]);
        free(k), free(r.name);
    }
    auth_resource r;
    ck_assert(!auth_resource_parse("Queue:x", &r));
    ck_assert(!auth_resource_parse(" ", &r));
    char *u = auth_subject_user("user:bob");
    ck_assert_str_eq(u, "bob");
    free(u);
    ck_assert_ptr_null(auth_subject_user("Role:bob"));
}
END_TEST

START_TEST(test_decision_order)
{
    auth *a = open_store(true, true);
    add_user(a, "u", "pw", AUTH_NORMAL, 0);
    /* A literal Deny beats Topic:* Allow; the longest prefix wins; a literal Allow beats a prefix Deny. */
    put_acl(a,
            "{'subject':'User:u','policies':[{'entries':["
            "{'resource':'Topic:*','actions':['Pub'],'decision':'Allow'},"
            "{'resource':'Topic:secret','actions':['Pub'],'decision':'Deny'},"
            "{'resource':'Topic:a*','actions':['Pub'],'decision':'Allow'},"
            "{'resource':'Topic:ab*','actions':['Pub','Sub'],'decision':'Deny'},"
            "{'resource':'Topic:abc','actions':['All'],'decision':'Allow'}]}]}",
            NULL);
    expect(a, sign(send_to("other"), "u", "pw"), NULL);
    expect(a, sign(send_to("secret"), "u", "pw"),
           "User:u has no permission to access Topic:secret from 127.0.0.1, the decision is deny.");
    expect(a, sign(send_to("ax"), "u", "pw"), NULL);
    expect(a, sign(send_to("abd"), "u", "pw"),
           "User:u has no permission to access Topic:abd from 127.0.0.1, the decision is deny.");
    expect(a, sign(send_to("abc"), "u", "pw"), NULL);
    /* The order the entries came in does not matter: the same ACL, reversed, for u2. */
    add_user(a, "u2", "pw", AUTH_NORMAL, 0);
    put_acl(a,
            "{'subject':'User:u2','policies':[{'entries':["
            "{'resource':'Topic:abc','actions':['All'],'decision':'Allow'},"
            "{'resource':'Topic:ab*','actions':['Pub','Sub'],'decision':'Deny'},"
            "{'resource':'Topic:a*','actions':['Pub'],'decision':'Allow'},"
            "{'resource':'Topic:secret','actions':['Pub'],'decision':'Deny'},"
            "{'resource':'Topic:*','actions':['Pub'],'decision':'Allow'}]}]}",
            NULL);
    expect(a, sign(send_to("abd"), "u2", "pw"),
           "User:u2 has no permission to access Topic:abd from 127.0.0.1, the decision is deny.");
    expect(a, sign(send_to("abc"), "u2", "pw"), NULL);
    expect(a, sign(send_to("ax"), "u2", "pw"), NULL);
    /* "*" (any type) ranks last: a Group:* Deny beats it for groups. */
    add_user(a, "u3", "pw", AUTH_NORMAL, 0);
    put_acl(a,
            "{'subject':'User:u3','policies':[{'entries':["
            "{'resource':'*','actions':['Sub'],'decision':'Allow'},"
            "{'resource':'Group:*','actions':['Sub'],'decision':'Deny'}]}]}",
            NULL);
    rmq_cmd *pull = req_new(11, "consumerGroup", "G", "topic", "T", NULL);
    expect(a, sign(pull, "u3", "pw"), "User:u3 has no permission to access Group:G from 127.0.0.1, the decision is deny.");
    auth_free(a);
}
END_TEST

START_TEST(test_actions_sources_and_default_policy)
{
    auth *a = open_store(false, true);
    add_user(a, "u", "pw", AUTH_NORMAL, 0);
    put_acl(a,
            "{'subject':'User:u','policies':[{'entries':["
            "{'resource':'Topic:A','actions':['Pub'],'decision':'Allow'},"
            "{'resource':'Topic:S','actions':['Sub'],'decision':'Allow'},"
            "{'resource':'Group:G','actions':['Sub'],'decision':'Allow','sourceIps':['10.0.0.0/8','192.168.1.7']}]},"
            "{'policyType':'Default','entries':[{'resource':'Topic:*','actions':['Sub'],'decision':'Allow'},"
            "{'resource':'Topic:D*','actions':['Pub'],'decision':'Allow'}]}]}",
            NULL);
    expect(a, sign(send_to("A"), "u", "pw"), NULL);
    expect(a, sign(send_to("B"), "u", "pw"), "User:u has no permission to access Topic:B from 127.0.0.1, no matched policies.");
    expect(a, sign(send_to("S"), "u", "pw"), "User:u has no permission to access Topic:S from 127.0.0.1, no matched policies.");
    /* Default is looked at only when no Custom entry matches. */
    expect(a, sign(send_to("D1"), "u", "pw"), NULL);
    /* A pull needs Topic SUB and Group SUB; the group only from its source addresses. */
    expect_from(a, sign(req_new(11, "consumerGroup", "G", "topic", "S", NULL), "u", "pw"), "10.1.2.3:5555", NULL);
    expect_from(a, sign(req_new(11, "consumerGroup", "G", "topic", "S", NULL), "u", "pw"), "192.168.1.7:1", NULL);
    expect_from(a, sign(req_new(11, "consumerGroup", "G", "topic", "S", NULL), "u", "pw"), "192.168.1.8:1",
                "User:u has no permission to access Group:G from 192.168.1.8, no matched policies.");
    /* A heartbeat needs its consumers' groups and topics (not retry topics); queue locks the group. */
    const char *hb = "{\"clientID\":\"c1\",\"consumerDataSet\":[{\"groupName\":\"G\",\"subscriptionDataSet\":"
                     "[{\"topic\":\"S\"},{\"topic\":\"%RETRY%G\"}]}],\"producerDataSet\":[]}";
    rmq_cmd *beat = req_new(34, "k", "v", NULL);
    cmd_set_body(beat, hb, strlen(hb));
    expect_from(a, sign(beat, "u", "pw"), "10.0.0.1:1", NULL);
    beat = req_new(34, "k", "v", NULL);
    cmd_set_body(beat, hb, strlen(hb));
    expect(a, sign(beat, "u", "pw"), "User:u has no permission to access Group:G from 127.0.0.1, no matched policies.");
    const char *lock = "{\"consumerGroup\":\"H\",\"clientId\":\"c1\",\"mqSet\":[{\"topic\":\"A\",\"queueId\":0}]}";
    rmq_cmd *lk = req_new(41, "k", "v", NULL);
    cmd_set_body(lk, lock, strlen(lock));
    expect(a, sign(lk, "u", "pw"), "User:u has no permission to access Group:H from 127.0.0.1, no matched policies.");
    /* A retry topic is its group. */
    expect_from(a, sign(req_new(11, "consumerGroup", "G", "topic", "%RETRY%G", NULL), "u", "pw"), "10.0.0.1:1", NULL);
    /* 5.3.3 decodes headers leniently: an annotated field that is missing names nothing (a POP
     * without its group is checked on its topic alone), a field a code reads by hand names
     * "null"; a heartbeat without its body cannot be read; an admin request names the cluster. */
    expect(a, sign(req_new(200050, "topic", "S", "queueId", "x", NULL), "u", "pw"), NULL);
    expect(a, sign(req_new(11, "topic", "S", NULL), "u", "pw"),
           "User:u has no permission to access Group:null from 127.0.0.1, no matched policies.");
    expect(a, sign(req_new(34, "k", "v", NULL), "u", "pw"), "parse authorization context error.");
    expect(a, sign(req_new(3005, NULL), "u", "pw"),
           "User:u has no permission to access Cluster:C1 from 127.0.0.1, no matched policies.");
    /* No AccessKey: authorization cannot name a subject; no extFields: nothing to authorize. */
    expect(a, send_to("A"), "Authorization failed. Please verify your access rights and try again.");
    expect(a, cmd_new_request(26), NULL);
    auth_free(a);
}
END_TEST

START_TEST(test_authentication)
{
    auth *a = open_store(true, false);
    add_user(a, "root", "rootpw", AUTH_SUPER, 0);
    add_user(a, "off", "pw", AUTH_NORMAL, AUTH_DISABLE);
    expect(a, sign(send_to("A"), "root", "rootpw"), NULL);
    expect(a, sign(send_to("A"), "root", "wrong"), "check signature failed.");
    expect(a, sign(send_to("A"), "nobody", "x"), "User:nobody is not found.");
    expect(a, sign(send_to("A"), "off", "pw"), "User:off is disabled.");
    expect(a, send_to("A"), "username cannot be null.");
    auth_free(a);
    /* Whitelisted codes are not authenticated (or authorized); a super user may do anything. */
    auth_options o = {.authentication_enabled = true, .authorization_enabled = true, .cluster_name = "C1",
                      .authentication_whitelist = " 30 , 31", .authorization_whitelist = "31"};
    char err[256];
    a = auth_open(dir, &o, err, sizeof err);
    ck_assert_ptr_nonnull(a);
    expect(a, req_new(30, "topic", "T", "queueId", "0", NULL),
           "Authorization failed. Please verify your access rights and try again.");
    expect(a, req_new(31, "topic", "T", "queueId", "0", NULL), NULL);  /* on both lists */
    expect(a, sign(req_new(3001, "username", "x", NULL), "root", "rootpw"), NULL);
    expect(a, sign(send_to("A"), "off", "pw"), "User:off is disabled.");
    auth_free(a);
}
END_TEST

START_TEST(test_store_checks_and_reload)
{
    auth *a = open_store(false, false);
    char err[256];
    auth_user u = {(char *)"bob", (char *)"", 0, 0};
    ck_assert_int_eq(auth_user_create(a, &u, err, sizeof err), AUTH_DENIED);
    ck_assert_str_eq(err, "password can not be blank");
    add_user(a, "bob", "pw1", 0, 0);
    u.password = (char *)"pw2";
    ck_assert_int_eq(auth_user_create(a, &u, err, sizeof err), AUTH_DENIED);
    ck_assert_str_eq(err, "The user is existed");
    put_acl(a, "{'subject':'User:eve','policies':[{'entries':[{'resource':'Topic:A','actions':['Pub'],'decision':'Allow'}]}]}",
            "The subject of User:eve is not exist.");
    put_acl(a, "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Any'],'decision':'Allow'}]}]}",
            "The actions can not be Any.");
    put_acl(a, "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Pub'],'decision':'Maybe'}]}]}",
            "The decision is null or illegal.");
    put_acl(a,
            "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Pub'],'decision':'Allow',"
            "'sourceIps':['10.0.0.300']}]}]}",
            "The source ip is invalid.");
    put_acl(a, "{'subject':'User:bob','policies':[{'entries':[{'resource':'Queue:A','actions':['Pub'],'decision':'Allow'}]}]}",
            "The resource is null.");
    /* Two puts merge: an entry of the same resource is replaced, others added. */
    put_acl(a, "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Pub'],'decision':'Allow'}]}]}",
            NULL);
    put_acl(a,
            "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Sub'],'decision':'Deny'},"
            "{'resource':'Group:G','actions':['Sub'],'decision':'Allow'}]}]}",
            NULL);
    u = (auth_user){(char *)"bob", (char *)"pw3", 0, AUTH_DISABLE};
    ck_assert_int_eq(auth_user_update(a, &u, err, sizeof err), AUTH_OK);
    auth_free(a);
    char *file = str_printf("%s/" AUTH_FILE, dir);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);  /* passwords */
    free(file);

    a = open_store(true, true);
    const auth_user *got = auth_user_get(a, "bob");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->password, "pw3");
    ck_assert_int_eq(got->type, AUTH_NORMAL);
    ck_assert_int_eq(got->status, AUTH_DISABLE);
    const auth_acl *got_acl;
    ck_assert_int_eq(auth_acl_get(a, "bob", &got_acl, err, sizeof err), AUTH_OK);
    cJSON *j = auth_acl_to_json(got_acl);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_str_eq(text, "{\"policies\":[{\"entries\":[{\"actions\":[\"Sub\"],\"decision\":\"Deny\",\"resource\":\"Topic:A\"},"
                           "{\"actions\":[\"Sub\"],\"decision\":\"Allow\",\"resource\":\"Group:G\"}],"
                           "\"policyType\":\"Custom\"}],\"subject\":\"User:bob\"}");
    free(text);
    /* The resource filter keeps matching entries; deleting the last entry deletes the ACL. */
    int n;
    auth_acl **list = auth_acl_list(a, "bob", "Group", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(list[0]->policies[0].n, 1);
    auth_acl_free(list[0]);
    free(list);
    auth_resource r;
    ck_assert(auth_resource_parse("Topic:A", &r));
    ck_assert_int_eq(auth_acl_delete(a, "bob", 0, &r, err, sizeof err), AUTH_OK);
    free(r.name);
    ck_assert(auth_resource_parse("Group:G", &r));
    ck_assert_int_eq(auth_acl_delete(a, "bob", 0, &r, err, sizeof err), AUTH_OK);
    free(r.name);
    ck_assert_int_eq(auth_acl_get(a, "bob", &got_acl, err, sizeof err), AUTH_OK);
    ck_assert_ptr_null(got_acl);
    ck_assert_int_eq(auth_acl_delete(a, "bob", 0, NULL, err, sizeof err), AUTH_DENIED);
    ck_assert_str_eq(err, "The acl is not exist.");
    /* Deleting a user deletes its ACL. */
    put_acl(a, "{'subject':'User:bob','policies':[{'entries':[{'resource':'Topic:A','actions':['Pub'],'decision':'Allow'}]}]}",
            NULL);
    ck_assert_int_eq(auth_user_delete(a, "bob", err, sizeof err), AUTH_OK);
    add_user(a, "bob", "pw", 0, 0);
    ck_assert_int_eq(auth_acl_get(a, "bob", &got_acl, err, sizeof err), AUTH_OK);
    ck_assert_ptr_null(got_acl);
    auth_free(a);
}
END_TEST

/* AuthMigrator: plain_acl.yml and conf/acl/ accounts become users and ACLs. */
START_TEST(test_migrate_from_v1)
{
    static const char plain[] = "globalWhiteRemoteAddresses:\n  - 10.10.103.*\n"
                                "accounts:\n"
                                "  - accessKey: RocketMQ\n    secretKey: 12345678\n    admin: false\n"
                                "    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n"
                                "    topicPerms:\n      - topicA=DENY\n      - topicB=PUB|SUB\n      - bad\n"
                                "    groupPerms:\n      - groupB=PUB|SUB\n"
                                "  - accessKey: rocketmq2\n    secretKey: 12345678\n    admin: true\n"
                                "  - accessKey: fromdir\n    secretKey: later\n";
    /* conf/acl/ is read first: its account of a key wins over plain_acl.yml's. */
    static const char extra[] = "accounts:\n  - accessKey: fromdir\n    secretKey: first\n"
                                "  - accessKey: kept\n    secretKey: fromfile\n    defaultTopicPerm: PUB\n";
    char *conf = str_printf("%s/home/conf/acl/more", dir), *f1 = str_printf("%s/home/conf/plain_acl.yml", dir);
    char *f2 = str_printf("%s/home/conf/acl/more/extra.yaml", dir), *home = str_printf("%s/home", dir);
    ck_assert_int_eq(mkdirs(conf), 0);
    ck_assert_int_eq(write_file_atomic(f1, plain, strlen(plain)), 0);
    ck_assert_int_eq(write_file_atomic(f2, extra, strlen(extra)), 0);
    auth *a = open_store(true, true);
    add_user(a, "kept", "mine", AUTH_NORMAL, 0);  /* an existing user is left alone */
    auth_migrate_v1(a, home);
    ck_assert_int_eq(auth_user_get(a, "rocketmq2")->type, AUTH_SUPER);
    ck_assert_str_eq(auth_user_get(a, "kept")->password, "mine");
    ck_assert_str_eq(auth_user_get(a, "fromdir")->password, "first");
    const auth_user *rq = auth_user_get(a, "RocketMQ");
    ck_assert_ptr_nonnull(rq);
    ck_assert_int_eq(rq->type, AUTH_NORMAL);
    const auth_acl *got_acl;
    char err[128];
    ck_assert_int_eq(auth_acl_get(a, "RocketMQ", &got_acl, err, sizeof err), AUTH_OK);
    cJSON *j = auth_acl_to_json(got_acl);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_str_eq(text, "{\"policies\":[{\"entries\":["
                           "{\"actions\":[\"All\"],\"decision\":\"Deny\",\"resource\":\"Topic:topicA\"},"
                           "{\"actions\":[\"Pub\",\"Sub\"],\"decision\":\"Allow\",\"resource\":\"Topic:topicB\"},"
                           "{\"actions\":[\"Pub\",\"Sub\"],\"decision\":\"Allow\",\"resource\":\"Group:groupB\"}],"
                           "\"policyType\":\"Custom\"},{\"entries\":["
                           "{\"actions\":[\"All\"],\"decision\":\"Deny\",\"resource\":\"Topic:*\"},"
                           "{\"actions\":[\"Sub\"],\"decision\":\"Allow\",\"resource\":\"Group:*\"}],"
                           "\"policyType\":\"Default\"}],\"subject\":\"User:RocketMQ\"}");
    free(text);
    expect(a, sign(send_to("topicB"), "RocketMQ", "12345678"), NULL);
    expect(a, sign(send_to("topicA"), "RocketMQ", "12345678"),
           "User:RocketMQ has no permission to access Topic:topicA from 127.0.0.1, the decision is deny.");
    expect(a, sign(send_to("other"), "RocketMQ", "12345678"),
           "User:RocketMQ has no permission to access Topic:other from 127.0.0.1, the decision is deny.");
    ck_assert_int_eq(auth_acl_get(a, "rocketmq2", &got_acl, err, sizeof err), AUTH_OK);
    ck_assert_ptr_null(got_acl);  /* no permissions written: no ACL */
    auth_free(a);
    free(conf), free(f1), free(f2), free(home);
}
END_TEST

/* ---- a real mqbroker with authenticationEnabled and authorizationEnabled ---- */

static rmq_cmd *call(const test_broker *tb, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(tb->proc.addr, req, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d: %s", req->code, err);
    cmd_free(req);
    return resp;
}

static void expect_answer(const test_broker *tb, rmq_cmd *req, int code, const char *remark)
{
    rmq_cmd *resp = call(tb, req);
    ck_assert_msg(resp->code == code, "code %d (%s), want %d", resp->code, resp->remark ? resp->remark : "", code);
    if (remark) ck_assert_str_eq(resp->remark ? resp->remark : "", remark);
    cmd_free(resp);
}

static rmq_cmd *with_body(rmq_cmd *req, const char *json)
{
    cmd_set_body(req, json, strlen(json));
    return req;
}

START_TEST(test_broker_enforces_acl2)
{
    test_broker tb;
    tb_init(&tb, "acl2-e2e", "--authenticationEnabled=true", "--authorizationEnabled=true",
            "--initAuthenticationUser={\"username\":\"root\",\"password\":\"rootpw\"}", NULL);
    expect_answer(&tb, tb_create_topic_req("TA", 1), 16, "username cannot be null.");
    expect_answer(&tb, sign(tb_create_topic_req("TA", 1), "root", "rootpw"), 0, NULL);
    expect_answer(&tb, sign(tb_create_topic_req("TB", 1), "root", "rootpw"), 0, NULL);
    expect_answer(&tb, sign(with_body(req_new(3001, "username", "alice", NULL), "{\"password\":\"apw\"}"), "root", "rootpw"),
                  0, NULL);
    expect_answer(&tb, sign(with_body(req_new(3001, "username", "alice", NULL), "{\"password\":\"apw\"}"), "root", "rootpw"),
                  16, "The user is existed");
    expect_answer(&tb, sign(with_body(req_new(3001, NULL), "{\"password\":\"x\"}"), "root", "rootpw"), 29,
                  "The username is blank");
    rmq_cmd *resp = call(&tb, sign(req_new(3004, "username", "alice", NULL), "root", "rootpw"));
    ck_assert_int_eq(resp->code, 0);
    ck_assert_ptr_nonnull(resp->body);
    ck_assert(strstr((char *)resp->body, "\"userType\":\"Normal\"") && strstr((char *)resp->body, "\"userStatus\":\"enable\""));
    cmd_free(resp);
    expect_answer(&tb,
                  sign(with_body(req_new(3006, "subject", "User:alice", NULL),
                                 "{\"subject\":\"User:alice\",\"policies\":[{\"entries\":[{\"resource\":\"Topic:TA\","
                                 "\"actions\":[\"Pub\"],\"decision\":\"Allow\"}]}]}"),
                       "root", "rootpw"),
                  0, NULL);
    /* alice may send to TA, not to TB, nor manage users. */
    expect_answer(&tb, sign(tb_send_req("PG", "TA", 0, 0, NULL, "ok"), "alice", "apw"), 0, NULL);
    expect_answer(&tb, sign(tb_send_req("PG", "TB", 0, 0, NULL, "no"), "alice", "apw"), 16,
                  "User:alice has no permission to access Topic:TB from 127.0.0.1, no matched policies.");
    expect_answer(&tb, sign(req_new(3005, NULL), "alice", "apw"), 16,
                  "User:alice has no permission to access Cluster:DefaultCluster from 127.0.0.1, no matched policies.");
    /* Disabled, she is refused at authentication. */
    expect_answer(&tb, sign(with_body(req_new(3002, "username", "alice", NULL), "{\"userStatus\":\"disable\"}"), "root", "rootpw"),
                  0, NULL);
    expect_answer(&tb, sign(tb_send_req("PG", "TA", 0, 0, NULL, "off"), "alice", "apw"), 16, "User:alice is disabled.");
    /* The users and ACLs survive a restart. */
    tb_restart(&tb, SIGTERM);
    resp = call(&tb, sign(req_new(3009, "subject", "User:alice", NULL), "root", "rootpw"));
    ck_assert_int_eq(resp->code, 0);
    ck_assert(resp->body && strstr((char *)resp->body, "\"resource\":\"Topic:TA\""));
    cmd_free(resp);
    resp = call(&tb, sign(req_new(3005, NULL), "root", "rootpw"));
    ck_assert(resp->code == 0 && resp->body && strstr((char *)resp->body, "\"username\":\"alice\"") &&
              strstr((char *)resp->body, "\"username\":\"root\""));
    cmd_free(resp);
    tb_done(&tb);
}
END_TEST

/* A slave signs its sync with innerClientAuthenticationCredentials, which the master made a super user. */
START_TEST(test_slave_syncs_from_an_authenticating_master)
{
    const char *inner = "--innerClientAuthenticationCredentials={\"accessKey\":\"inner\",\"secretKey\":\"innerpw\"}";
    test_broker master, slave;
    tb_init(&master, "acl2-master", "--authenticationEnabled=true", "--authorizationEnabled=true", inner, NULL);
    char *ha = str_printf("--haMasterAddress=127.0.0.1:%d", master.port + 1);
    tb_init(&slave, "acl2-slave", "--brokerRole=SLAVE", "--brokerId=1", ha, inner, NULL);
    expect_answer(&master, sign(tb_create_topic_req("SyncedTopic", 2), "inner", "innerpw"), 0, NULL);
    int64_t deadline = mono_ms() + 40000;  /* the sync runs every 10 s */
    int code = -1;
    while (code != 0 && mono_ms() < deadline) {
        rmq_cmd *resp = call(&slave, req_new(351, "topic", "SyncedTopic", NULL));  /* GET_TOPIC_CONFIG */
        code = resp->code;
        cmd_free(resp);
        if (code) usleep(200000);
    }
    ck_assert_msg(code == 0, "the slave never got the master's topic (last answer %d)", code);
    tb_done(&slave);
    tb_done(&master);
    free(ha);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl2");
    TCase *unit = tcase_create("unit");
    tcase_add_checked_fixture(unit, setup, teardown);
    tcase_add_test(unit, test_resources_and_addresses);
    tcase_add_test(unit, test_decision_order);
    tcase_add_test(unit, test_actions_sources_and_default_policy);
    tcase_add_test(unit, test_authentication);
    tcase_add_test(unit, test_store_checks_and_reload);
    tcase_add_test(unit, test_migrate_from_v1);
    suite_add_tcase(s, unit);
    TCase *e2e = tcase_create("e2e");
    tcase_set_timeout(e2e, 60);
    tcase_add_test(e2e, test_broker_enforces_acl2);
    tcase_add_test(e2e, test_slave_syncs_from_an_authenticating_master);
    suite_add_tcase(s, e2e);
    return test_run_suite(s);
}
