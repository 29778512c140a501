/*
 * mqadmin's ACL 2.0 sub-commands end to end: a broker with authenticationEnabled
 * and authorizationEnabled and a super user made at start; mqadmin signs with
 * $ROCKETMQ_HOME/conf/tools.yml as Apache's tool does (unsigned it is refused),
 * creates, reads, changes and deletes users and ACLs, each checked in the table
 * it prints (Apache 5.3.3's layouts: its mqadmin printed the same against the
 * same broker) and in the broker's config/auth.json.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqadmin_harness.h"

static char *auth_json(void)
{
    char *path = str_printf("%s/store/config/auth.json", dir);
    size_t len;
    char *text = read_file(path, &len);
    free(path);
    ck_assert_ptr_nonnull(text);
    return text;
}

#define AUTH_HAS(s)                                                              \
    do {                                                                         \
        char *j_ = auth_json();                                                  \
        ck_assert_msg(strstr(j_, s), "auth.json lacks [%s]:\n%s", s, j_);        \
        free(j_);                                                                \
    } while (0)
#define AUTH_LACKS(s)                                                            \
    do {                                                                         \
        char *j_ = auth_json();                                                  \
        ck_assert_msg(!strstr(j_, s), "auth.json has [%s]:\n%s", s, j_);         \
        free(j_);                                                                \
    } while (0)

/* mqadmin signs as the super user (each test runs in its own process: set it up in each). */
static void sign_as_root(void)
{
    char *conf = str_printf("%s/home/conf", dir);
    ck_assert_int_eq(mkdirs(conf), RMQ_OK);
    char *yml = str_printf("%s/tools.yml", conf);
    const char *text = "# as Apache's conf/tools.yml\naccessKey: root\nsecretKey: \"rootpw12\"\n";
    ck_assert_int_eq(write_file_atomic(yml, text, strlen(text)), 0);
    char *home = str_printf("%s/home", dir);
    setenv("ROCKETMQ_HOME", home, 1);
    free(home), free(yml), free(conf);
}

START_TEST(unsigned_is_refused)
{
    unsetenv("ROCKETMQ_HOME");
    FAILS(1, "CODE: 16", "listUser", "-b", broker.addr);
    sign_as_root();
    OK("listUser", "-b", broker.addr);
    OUT_HAS("root              rootpw12                Super                   enable                \n");
}
END_TEST

START_TEST(users)
{
    sign_as_root();
    char line[256];
    OK("createUser", "-b", broker.addr, "-u", "alice", "-p", "alicepw1", "-t", "Normal");
    snprintf(line, sizeof line, "create user to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    AUTH_HAS("\"username\":\t\"alice\"");

    OK("getUser", "-b", broker.addr, "-u", "alice");
    ck_assert_str_eq(out_text, "#UserName         #Password               #UserType               #UserStatus           \n"
                               "alice             alicepw1                Normal                  enable                \n");
    OK("updateUser", "-c", "DefaultCluster", "-u", "alice", "-s", "disable");
    snprintf(line, sizeof line, "update user to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    AUTH_HAS("\"userStatus\":\t\"disable\"");
    FAILS(2, "one of the options -p, -t or -s is required", "updateUser", "-b", broker.addr, "-u", "alice");

    OK("listUser", "-c", "DefaultCluster", "-f", "ali");
    OUT_HAS("alice             alicepw1                Normal                  disable               \n");
    OUT_LACKS("root ");
    snprintf(line, sizeof line, "get user from %s success.\n", broker.addr);
    OUT_HAS(line);
    OK("getUser", "-b", broker.addr, "-u", "nobody");
    ck_assert_str_eq(out_text, "");

    OK("createUser", "-b", broker.addr, "-u", "bob", "-p", "bobpw123");
    OK("deleteUser", "-c", "DefaultCluster", "-u", "bob");
    snprintf(line, sizeof line, "delete user to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    AUTH_LACKS("\"bob\"");
    FAILS(2, "one of the options -b or -c is required", "createUser", "-u", "x", "-p", "y");
}
END_TEST

START_TEST(acls)
{
    sign_as_root();
    char line[256];
    OK("createAcl", "-b", broker.addr, "-s", "User:alice", "-r", "Topic:ADMINAUTH_T, Group:ADMINAUTH_G", "-a", "Pub,Sub",
       "-d", "Allow", "-i", "127.0.0.1");
    snprintf(line, sizeof line, "create acl to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    AUTH_HAS("\"resource\":\t\"Group:ADMINAUTH_G\"");

    OK("getAcl", "-b", broker.addr, "-s", "User:alice");
    OUT_HAS("#Subject          #PolicyType  #Resource               #Actions              #SourceIp                 "
            "#Decision \n");
    OUT_HAS("User:alice        Custom      Topic:ADMINAUTH_T       [Pub, Sub]            [127.0.0.1]               "
            "Allow     \n");
    OUT_HAS("User:alice        Custom      Group:ADMINAUTH_G       [Pub, Sub]            [127.0.0.1]               "
            "Allow     \n");

    OK("updateAcl", "-c", "DefaultCluster", "-s", "User:alice", "-r", "Topic:ADMINAUTH_T", "-a", "Sub", "-d", "Deny");
    snprintf(line, sizeof line, "update acl to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    OK("listAcl", "-c", "DefaultCluster", "-s", "User:alice", "-r", "Topic:ADMINAUTH_T");
    OUT_HAS("User:alice        Custom      Topic:ADMINAUTH_T       [Sub]                 null                      "
            "Deny      \n");
    OUT_LACKS("Group:ADMINAUTH_G");

    OK("deleteAcl", "-b", broker.addr, "-s", "User:alice", "-r", "Group:ADMINAUTH_G");
    snprintf(line, sizeof line, "delete acl to %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    AUTH_LACKS("Group:ADMINAUTH_G");
    AUTH_HAS("Topic:ADMINAUTH_T");
    FAILS(1, "CODE: 16  DESC: The subject is not exist.", "getAcl", "-b", broker.addr, "-s", "User:nobody");
}
END_TEST

/* A second broker (its own store, the same super user) for copyUser and copyAcl. */
START_TEST(copies_to_another_broker)
{
    sign_as_root();
    char *bdir = str_printf("%s/second", dir);
    ck_assert_int_eq(mkdirs(bdir), RMQ_OK);
    int port = test_free_broker_port();
    char *conf = str_printf("%s/broker.conf", bdir), *log = str_printf("%s/mqbroker.log", bdir);
    char *text = str_printf("brokerClusterName=OtherCluster\nbrokerName=broker-u\nbrokerId=0\nbrokerIP1=127.0.0.1\n"
                            "listenAddress=127.0.0.1\nlistenPort=%d\nstorePathRootDir=%s/store\n"
                            "mappedFileSizeCommitLog=1048576\n%s",
                            port, bdir, broker_conf_extra);
    ck_assert_int_eq(write_file_atomic(conf, text, strlen(text)), 0);
    char *home = str_printf("HOME=%s", bdir);
    char *argv[] = {"mqbroker", "-c", conf, "-n", ns.addr, NULL}, *env[] = {home, NULL};
    test_proc second;
    ck_assert_int_eq(test_proc_start_env(&second, "mqbroker", argv, env, port, log), 0);

    OK("createUser", "-b", broker.addr, "-u", "carol", "-p", "carolpw1", "-t", "Normal");
    OK("createAcl", "-b", broker.addr, "-s", "User:carol", "-r", "Topic:ADMINAUTH_C", "-a", "Pub", "-d", "Allow");
    /* The target must know the user before its ACL: Apache's broker answers getAcl of an
     * unknown subject with an error, which ends copyAcl. */
    FAILS(1, "The subject is not exist.", "copyAcl", "-f", broker.addr, "-t", second.addr, "-s", "User:carol");
    OK("copyUser", "-f", broker.addr, "-t", second.addr, "-u", "carol,nobody");
    char line[256];
    snprintf(line, sizeof line, "copy user of carol from %s to %s success.\n", broker.addr, second.addr);
    ck_assert_str_eq(out_text, line);
    OK("copyAcl", "-f", broker.addr, "-t", second.addr, "-s", "User:carol");
    snprintf(line, sizeof line, "copy acl of User:carol from %s to %s success.\n", broker.addr, second.addr);
    ck_assert_str_eq(out_text, line);
    OK("getAcl", "-b", second.addr, "-s", "User:carol");
    OUT_HAS("User:carol        Custom      Topic:ADMINAUTH_C       [Pub]                 null                      Allow");
    OK("getUser", "-b", second.addr, "-u", "carol");
    OUT_HAS("carol             carolpw1                Normal                  enable");
    /* Again, all of them: those there are updated. */
    OK("copyUser", "-f", broker.addr, "-t", second.addr);
    snprintf(line, sizeof line, "copy user of root from %s to %s success.\n", broker.addr, second.addr);
    OUT_HAS(line);
    ck_assert_int_eq(test_proc_stop(&second, SIGTERM), 0);
    free(home), free(text), free(log), free(conf), free(bdir);
}
END_TEST

int main(void)
{
    broker_conf_extra = "authenticationEnabled=true\nauthorizationEnabled=true\n"
                        "initAuthenticationUser={\"username\":\"root\",\"password\":\"rootpw12\"}\n";
    const TTest *tests[] = {unsigned_is_refused, users, acls, copies_to_another_broker};
    return run_e2e("mqadmin_auth", tests, sizeof tests / sizeof tests[0]);
}
