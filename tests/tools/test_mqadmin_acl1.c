/*
 * mqadmin's ACL 1.0 sub-commands (Apache 4.9.8's updateAclConfig, deleteAclConfig,
 * clusterAclConfigVersion, updateGlobalWhiteAddr) end to end: a broker with
 * aclEnable=true and a plain_acl.yml holding an admin account that mqadmin signs with
 * (conf/tools.yml). Each change is checked in the file and in what the broker then
 * decides for a client signed with the account the command wrote (allowed, refused as
 * not admin, refused once deleted); each code's bad input gets 4.9.8's code and remark.
 * The harness's own broker runs without aclEnable, where 4.9.8 answers the writes with
 * their *_FAILED code and no remark and the version request not at all.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/acl.h"
#include "mqadmin_harness.h"

static test_proc acl_broker;
static char *home, *acl_file;

static char *file_text(void)
{
    size_t len;
    char *text = read_file(acl_file, &len);
    ck_assert_ptr_nonnull(text);
    return text;
}

#define FILE_HAS(s)                                                              \
    do {                                                                         \
        char *t_ = file_text();                                                  \
        ck_assert_msg(strstr(t_, s), "plain_acl.yml lacks [%s]:\n%s", s, t_);    \
        free(t_);                                                                \
    } while (0)

/* A request of CODE signed as AK/SK (unsigned when AK is NULL), sent to the ACL broker. */
static rmq_cmd *signed_call(int code, const char *ak, const char *sk, const char *topic)
{
    rmq_cmd *req = cmd_new_request(code);
    cmd_ext_declare(req);
    if (topic) cmd_ext_set(req, "topic", topic);
    if (ak) acl_sign_request(req, ak, sk);
    return call(acl_broker.addr, req);
}

/* The ACL broker on its own port: aclEnable=true, ROCKETMQ_HOME with plain_acl.yml and the tool's tools.yml. */
static void start_acl_broker(void)
{
    home = str_printf("%s/acl1home", dir);
    char *conf_dir = str_printf("%s/conf", home);
    ck_assert_int_eq(mkdirs(conf_dir), RMQ_OK);
    acl_file = str_printf("%s/plain_acl.yml", conf_dir);
    const char *yml = "accounts:\n- accessKey: rocketmq2\n  secretKey: \"12345678\"\n  admin: true\n";
    ck_assert_int_eq(write_file_atomic(acl_file, yml, strlen(yml)), 0);
    char *tools = str_printf("%s/tools.yml", conf_dir);
    const char *t = "accessKey: rocketmq2\nsecretKey: 12345678\n";
    ck_assert_int_eq(write_file_atomic(tools, t, strlen(t)), 0);
    int port = test_free_broker_port();
    char *conf = str_printf("%s/broker.conf", home), *log = str_printf("%s/mqbroker.log", home);
    char *text = str_printf("brokerClusterName=AclCluster\nbrokerName=broker-acl\nbrokerId=0\nbrokerIP1=127.0.0.1\n"
                            "listenAddress=127.0.0.1\nlistenPort=%d\nstorePathRootDir=%s/store\n"
                            "mappedFileSizeCommitLog=1048576\naclEnable=true\n", port, home);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *env_home = str_printf("HOME=%s", home), *env_rmq = str_printf("ROCKETMQ_HOME=%s", home);
    char *argv[] = {"mqbroker", "-c", conf, "-n", ns.addr, NULL}, *env[] = {env_home, env_rmq, NULL};
    ck_assert_int_eq(test_proc_start_env(&acl_broker, "mqbroker", argv, env, port, log), 0);
    setenv("ROCKETMQ_HOME", home, 1);
    free(env_home), free(env_rmq), free(text), free(log), free(conf), free(tools), free(conf_dir);
}

START_TEST(accounts_written_and_enforced)
{
    start_acl_broker();
    const char *b = acl_broker.addr;
    char line[256];

    /* An account the file does not have is refused. */
    rmq_cmd *r = signed_call(52, "newuser1", "newsecret1", NULL);
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "No acl config for newuser1"));
    cmd_free(r);

    OK("updateAclConfig", "-b", b, "-a", "newuser1", "-s", "newsecret1", "-t", "TopicA=PUB,TopicB=SUB", "-i", "DENY");
    snprintf(line, sizeof line, "create or update plain access config to %s success.\n", b);
    OUT_HAS(line);
    OUT_HAS("org.apache.rocketmq.common.PlainAccessConfig@");
    FILE_HAS("- accessKey: newuser1\n  secretKey: newsecret1\n  admin: false\n  defaultTopicPerm: DENY\n"
             "  topicPerms:\n  - TopicA=PUB\n  - TopicB=SUB\n");
    FILE_HAS("dataVersion:\n- counter: 1\n");
    /* In force at once: signed with it, a plain request passes, a wrong secret does not,
     * and an admin code is refused (admin: false). */
    r = signed_call(52, "newuser1", "newsecret1", NULL);
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "brokerName"), "broker-acl");
    cmd_free(r);
    r = signed_call(52, "newuser1", "wrongsecret", NULL);
    ck_assert_int_eq(r->code, 1);
    cmd_free(r);
    r = signed_call(17, "newuser1", "newsecret1", "ACL1_T");
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "Need admin permission for request code=17, but accessKey=newuser1 is not"));
    cmd_free(r);

    OK("updateAclConfig", "-b", b, "-a", "newuser1", "-s", "newsecret1", "-m", "true");
    FILE_HAS("  admin: true\n");
    FILE_HAS("- counter: 2\n");
    r = signed_call(17, "newuser1", "newsecret1", "ACL1_T");
    ck_assert_msg(r->code != 1 || !strstr(r->remark ? r->remark : "", "AclException"), "still refused: %s", r->remark);
    cmd_free(r);

    OK("clusterAclConfigVersion", "-b", b);
    snprintf(line, sizeof line, "AclCluster        broker-acl              %-22s  %-20s  2  ", b, acl_file);
    OUT_HAS(line);
    OUT_HAS("get broker's plain access config version success.\n");
    OK("clusterAclConfigVersion", "-c", "AclCluster");
    OUT_HAS("#Cluster Name     #Broker Name            #Broker Addr            #AclFilePath");
    OUT_HAS(line);

    OK("deleteAclConfig", "-b", b, "-a", "newuser1");
    snprintf(line, sizeof line, "delete plain access config account from %s success.\naccount's accesskey is:newuser1", b);
    ck_assert_str_eq(out_text, line);
    r = signed_call(52, "newuser1", "newsecret1", NULL);
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "No acl config for newuser1"));
    cmd_free(r);

    /* Its alias (commandAlias) finds it too; the account is gone by now. */
    FAILS(1, "CODE: 210", "deleteAccessConfig", "-b", b, "-a", "newuser1");

    /* A global white address lets an unsigned client through. */
    r = signed_call(52, NULL, NULL, NULL);
    ck_assert_int_eq(r->code, 1);
    cmd_free(r);
    OK("updateGlobalWhiteAddr", "-b", b, "-g", "127.0.0.1,10.10.10.*", "-p", acl_file);
    snprintf(line, sizeof line, "update global white remote addresses to %s success.\n", b);
    ck_assert_str_eq(out_text, line);
    FILE_HAS("globalWhiteRemoteAddresses:\n- '127.0.0.1'\n- '10.10.10.*'\n");
    r = signed_call(52, NULL, NULL, NULL);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);

    /* What a restart would load: the whole rewritten file. */
    char err[256];
    acl *a = acl_load(acl_file, err, sizeof err);
    ck_assert_msg(a, "%s", err);
    acl_free(a);
    ck_assert_int_eq(test_proc_stop(&acl_broker, SIGTERM), 0);
}
END_TEST

START_TEST(bad_input_per_code)
{
    start_acl_broker();
    const char *b = acl_broker.addr;
    FAILS(1, "CODE: 209  DESC: The accessKey=short and secretKey=newsecret1 cannot be null and length should "
             "longer than 6", "updateAclConfig", "-b", b, "-a", "short", "-s", "newsecret1");
    FAILS(1, "CODE: 209  DESC: Parse resource permission error for TopicA=XX.", "updateAclConfig", "-b", b, "-a",
          "newuser1", "-s", "newsecret1", "-t", "TopicA=XX");
    FAILS(1, "CODE: 209  DESC: Parse Resource format error for TopicA.", "updateAclConfig", "-b", b, "-a",
          "newuser1", "-s", "newsecret1", "-g", "TopicA");
    FAILS(1, "CODE: 210  DESC: The accesskey[nobody12] corresponding to accessConfig has been deleted failed.",
          "deleteAclConfig", "-b", b, "-a", "nobody12");
    /* 4.9.8's tool sends no aclFileFullPath without -p, and the header requires it. */
    FAILS(1, "CODE: 1  DESC: org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field "
             "<aclFileFullPath> is null", "updateGlobalWhiteAddr", "-b", b, "-g", "127.0.0.1");
    FAILS(1, "CODE: 211  DESC: The globalWhiteAddresses[127.0.0.1] has been updated failed.",
          "updateGlobalWhiteAddr", "-b", b, "-g", "127.0.0.1", "-p", "/etc/passwd");
    /* None of it touched the file. */
    char *t = file_text();
    ck_assert_ptr_null(strstr(t, "dataVersion"));
    free(t);
    /* Missing header fields. */
    rmq_cmd *r = signed_call(50, "rocketmq2", "12345678", NULL);
    ck_assert_int_eq(r->code, 1);
    ck_assert_ptr_nonnull(strstr(r->remark, "the custom field <accessKey> is null"));
    cmd_free(r);
    r = signed_call(51, "rocketmq2", "12345678", NULL);
    ck_assert_ptr_nonnull(strstr(r->remark, "the custom field <accessKey> is null"));
    cmd_free(r);
    /* A secret with a line break is kept on one line (escaped) and the file still loads;
     * another control byte is refused rather than written into a file that would not. */
    rmq_cmd *req = req_ext(50, "accessKey", "breakuser", "secretKey", "two\nlines\t\"q\"", NULL);
    acl_sign_request(req, "rocketmq2", "12345678");
    r = call(acl_broker.addr, req);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    FILE_HAS("secretKey: \"two\\nlines\\t\\\"q\\\"\"\n");
    char err[256];
    acl *a = acl_load(acl_file, err, sizeof err);
    ck_assert_msg(a, "%s", err);
    acl_free(a);
    r = signed_call(52, "breakuser", "two\nlines\t\"q\"", NULL);
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    req = req_ext(50, "accessKey", "ctrluser", "secretKey", "bell\asecret", NULL);
    acl_sign_request(req, "rocketmq2", "12345678");
    r = call(acl_broker.addr, req);
    ck_assert_int_eq(r->code, 209);
    ck_assert_str_eq(r->remark, "The value [bell\asecret] holds a control character");
    cmd_free(r);
    ck_assert_int_eq(test_proc_stop(&acl_broker, SIGTERM), 0);
}
END_TEST

/* The harness's broker has no aclEnable: 4.9.8 has no PlainAccessValidator there. */
START_TEST(without_acl_enable)
{
    rmq_cmd *r = call(broker.addr, req_ext(50, "accessKey", "newuser1", "secretKey", "newsecret1", NULL));
    ck_assert_int_eq(r->code, 209);
    ck_assert_ptr_null(r->remark);
    cmd_free(r);
    r = call(broker.addr, req_ext(51, "accessKey", "newuser1", NULL));
    ck_assert_int_eq(r->code, 210);
    cmd_free(r);
    r = call(broker.addr, req_ext(53, "globalWhiteAddrs", "1.1.1.1", "aclFileFullPath", "x", NULL));
    ck_assert_int_eq(r->code, 211);
    cmd_free(r);
    char err[128];
    rmq_cmd *req = cmd_new_request(52);
    ck_assert_ptr_null(rmq_invoke_sync(broker.addr, req, 1000, err, sizeof err));  /* no answer */
    cmd_free(req);
    r = call(broker.addr, cmd_new_request(54));  /* 4.9.8 has no GET_BROKER_CLUSTER_ACL_CONFIG */
    ck_assert_int_eq(r->code, 3);
    ck_assert_str_eq(r->remark, " request type 54 not supported");
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {accounts_written_and_enforced, bad_input_per_code, without_acl_enable};
    return run_e2e("mqadmin_acl1", tests, sizeof tests / sizeof tests[0]);
}
