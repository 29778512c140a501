/*
 * mqadmin end to end: the real mqnamesrv and mqbroker (free 127.0.0.1 ports,
 * their own directory), every sub-command run as a program, its output and
 * exit status checked, and what it changed checked on the servers with
 * requests of our own. A socket of the test plays an online consumer where a
 * command needs one (connections, running info, offset reset). The broker's
 * admin answers are also compared with Apache 4.9.8's in the golden capture.
 * Every wait has a deadline.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../remoting/golden.h"
#include "common/fjson.h"
#include "mqadmin_harness.h"

/* ---- the tests (run in order, sharing the servers) ---- */

#define TOPIC "ADMINTEST_T"
#define GROUP "ADMINTEST_G"

START_TEST(help_and_bad_command_lines)
{
    OK("help");
    static const char *const all[] = {
        "updateTopic", "deleteTopic", "topicList", "topicRoute", "topicStatus", "topicClusterList", "clusterList",
        "brokerStatus", "updateSubGroup", "deleteSubGroup", "consumerProgress", "consumerConnection",
        "producerConnection", "consumerStatus", "queryMsgById", "queryMsgByKey", "queryMsgByUniqueKey",
        "queryMsgByOffset", "printMsg", "sendMessage", "consumeMessage", "resetOffsetByTime", "updateBrokerConfig",
        "getBrokerConfig", "updateKvConfig", "deleteKvConfig", "getNamesrvConfig", "updateNamesrvConfig",
        "wipeWritePerm", "cleanExpiredCQ", "printMsgByQueue", "cleanUnusedTopic", "statsAll", "clusterRT"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "   %-20s ", all[i]);
        OUT_HAS(line);
    }
    OK("help", "updateTopic");
    OUT_HAS("usage: mqadmin updateTopic");
    OUT_HAS(" -t,--topic <arg>");
    OUT_HAS(" -n,--namesrvAddr <arg>");

    FAILS(2, "The sub command noSuchCommand not exist.", "noSuchCommand");
    FAILS(2, "Missing required option: t", "updateTopic", "-c", "DefaultCluster");
    FAILS(2, "Unrecognized option: -z", "topicList", "-z");
    FAILS(2, "Missing argument for option: t", "topicRoute", "-t");
    FAILS(2, "one of the options -b or -c is required", "updateTopic", "-t", TOPIC);
    FAILS(2, "For input string: \"many\"", "updateTopic", "-c", "DefaultCluster", "-t", TOPIC, "-r", "many");
    /* Unreachable name server. */
    FAILS(1, "connect to 127.0.0.1:1 failed", "topicList", "-n", "127.0.0.1:1");
}
END_TEST

START_TEST(topic_lifecycle)
{
    OK("updateTopic", "-c", "DefaultCluster", "-t", TOPIC, "-r", "3", "-w", "3");
    char line[128];
    snprintf(line, sizeof line, "create topic to %s success.\n", broker.addr);
    OUT_HAS(line);
    OUT_HAS("TopicConfig [topicName=" TOPIC ", readQueueNums=3, writeQueueNums=3, perm=RW-, topicFilterType=SINGLE_TAG, "
            "topicSysFlag=0, order=false]");

    /* Routable: the name server has it (the broker re-registered), with 3 queues. */
    int64_t deadline = mono_ms() + 5000;
    rmq_cmd *r;
    while ((r = call(ns.addr, req_ext(105, "topic", TOPIC, NULL)))->code != 0 && mono_ms() < deadline) {
        cmd_free(r);
        usleep(50000);
    }
    ck_assert_int_eq(r->code, 0);
    char *route = body_of(r);
    ck_assert_ptr_nonnull(strstr(route, "\"writeQueueNums\":3"));
    free(route);
    cmd_free(r);

    OK("topicList");
    OUT_HAS(TOPIC "\n");
    OK("topicList", "-c");
    OUT_HAS("#Cluster Name         #Topic");
    OUT_HAS("DefaultCluster        " TOPIC);
    OK("topicRoute", "-t", TOPIC);
    OUT_HAS("\"brokerAddrs\":{0:\"");
    OK("topicRoute", "-t", TOPIC, "-l");
    OUT_HAS("#ClusterName                                  #BrokerName");
    OUT_HAS("DefaultCluster                                broker-t                         {0=");
    OUT_HAS("Total:                                        1");
    OK("topicClusterList", "-t", TOPIC);
    ck_assert_str_eq(out_text, "DefaultCluster\n");

    /* Sendable: sendMessage stores it where topicStatus and the broker say. */
    OK("sendMessage", "-t", TOPIC, "-p", "hello-admin", "-k", "ADMINTEST_KEY", "-c", "TagA", "-b", "broker-t", "-i", "1");
    OUT_HAS("#Broker Name                      #QID  #Send Result            #MsgId\n");
    OUT_HAS("broker-t                          1     SEND_OK                 ");
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 1);
    OK("sendMessage", "-t", TOPIC, "-p", "second", "-b", "broker-t", "-i", "1");
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 2);
    OK("topicStatus", "-t", TOPIC);
    OUT_HAS("#Broker Name                      #QID  #Min Offset           #Max Offset             #Last Updated\n");
    OUT_HAS("broker-t                          1     0                     2                       20");
    OUT_HAS("broker-t                          2     0                     0                       \n");

    /* Unknown topics. */
    FAILS(1, "CODE: 17  DESC: No topic route info in name server for the topic: ADMINTEST_NONE", "topicStatus", "-t",
          "ADMINTEST_NONE");
    FAILS(1, "CODE: 17", "topicRoute", "-t", "ADMINTEST_NONE");

    /* Deleted: gone from the broker and the name server. */
    OK("updateTopic", "-b", broker.addr, "-t", "ADMINTEST_DEL");
    OK("deleteTopic", "-c", "DefaultCluster", "-t", "ADMINTEST_DEL");
    OUT_HAS("delete topic [ADMINTEST_DEL] from cluster [DefaultCluster] success.\n");
    OUT_HAS("delete topic [ADMINTEST_DEL] from NameServer success.\n");
    r = call(ns.addr, req_ext(105, "topic", "ADMINTEST_DEL", NULL));
    ck_assert_int_eq(r->code, 17);
    cmd_free(r);
    r = call(broker.addr, req_ext(21, NULL));
    char *topics = body_of(r);
    ck_assert_ptr_null(strstr(topics, "ADMINTEST_DEL"));
    ck_assert_ptr_nonnull(strstr(topics, TOPIC));
    free(topics);
    cmd_free(r);
    FAILS(1, "cluster: NoCluster", "deleteTopic", "-c", "NoCluster", "-t", TOPIC);
}
END_TEST

START_TEST(messages)
{
    OK("queryMsgByKey", "-t", TOPIC, "-k", "ADMINTEST_KEY");
    OUT_HAS("#Message ID                                        #QID                                  #Offset\n");
    char id[64] = "";
    ck_assert_int_eq(sscanf(strchr(out_text, '\n') + 1, "%63s", id), 1);
    ck_assert_int_eq(strlen(id), 32);
    OUT_HAS("    1                                        0\n");

    OK("queryMsgByUniqueKey", "-t", TOPIC, "-i", id);
    OUT_HAS("Topic:               " TOPIC "\n");
    OUT_HAS("Tags:                [TagA]\n");
    OUT_HAS("Keys:                [ADMINTEST_KEY]\n");
    OUT_HAS("Queue ID:            1\n");
    OUT_HAS("WARN: No Consumer");

    OK("queryMsgByOffset", "-t", TOPIC, "-b", "broker-t", "-i", "1", "-o", "0");
    OUT_HAS("Queue Offset:        0\n");
    char offset_id[64] = "";
    ck_assert_int_eq(sscanf(strstr(out_text, "OffsetID:") + 9, "%63s", offset_id), 1);
    OK("queryMsgById", "-i", offset_id);
    OUT_HAS("OffsetID:            ");
    OUT_HAS(offset_id);
    OUT_HAS("Keys:                [ADMINTEST_KEY]\n");
    char path[160], shown[200];
    snprintf(path, sizeof path, "/tmp/rocketmq/msgbodys/%s", id);
    snprintf(shown, sizeof shown, "Message Body Path:   %s\n", path);
    OUT_HAS(shown);
    size_t len;
    char *body = read_file(path, &len);
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body, "hello-admin");
    free(body);

    OK("printMsg", "-t", TOPIC);
    OUT_HAS("minOffset=0, maxOffset=2, MessageQueue [topic=" TOPIC ", brokerName=broker-t, queueId=1]\n");
    OUT_HAS("BODY: hello-admin\n");
    OUT_HAS("BODY: second\n");
    OK("printMsg", "-t", TOPIC, "-d", "false", "-s", "TagA");
    OUT_HAS("BODY: NOT PRINT BODY\n");
    OK("consumeMessage", "-t", TOPIC, "-b", "broker-t", "-i", "1", "-o", "1");
    OUT_HAS("Consume ok\n");
    OUT_HAS("BODY: second\n");
    OUT_LACKS("hello-admin");

    FAILS(1, "is not an offset message id", "queryMsgById", "-i", "NOT_AN_ID");

    /* printMsgByQueue: nothing but the tag counts unless -p true. */
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-f", "true");
    ck_assert_str_eq(out_text, "Tag: TagA                           Count: 1\n");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-p", "true", "-d", "true");
    OUT_HAS("BODY: hello-admin\n");
    OUT_HAS("BODY: second\n");
    OUT_LACKS("Tag: ");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "1", "-p", "true");
    OUT_HAS("queueOffset=1, ");
    OUT_HAS("BODY: NOT PRINT BODY\n");
    OUT_LACKS("BODY: second");
    OK("printMsgByQueue", "-t", TOPIC, "-a", "broker-t", "-i", "2", "-p", "true", "-f", "true");
    ck_assert_str_eq(out_text, "");
    FAILS(1, "The broker[broker-none] not exist", "printMsgByQueue", "-t", TOPIC, "-a", "broker-none", "-i", "1");

    /* statsAll: a group that consumed 1 of the 2 messages of queue 1 has 1 left. */
    OK("statsAll", "-t", "ADMINTEST_STATS_NONE");
    ck_assert_str_eq(out_text, "#Topic                            #Consumer Group                  #Accumulation      #InTPS"
                               "     #OutTPS   #InMsg24Hour  #OutMsg24Hour\n");
    commit_offset("ADMINTEST_STATS_G", TOPIC, 1, 1);
    OK("statsAll", "-t", TOPIC);
    char row[400];
    snprintf(row, sizeof row, "%-64s  %-64s %12d %11.2f %11.2f ", TOPIC, "ADMINTEST_STATS_G", 1, 0.0, 0.0);
    OUT_HAS(row);
    OK("updateTopic", "-b", broker.addr, "-t", "ADMINTEST_STATS_NOC");
    OK("statsAll", "-t", "ADMINTEST_STATS_NOC");
    snprintf(row, sizeof row, "%-64s  %-32s %12d %11.2f %11s %14d %14s\n", "ADMINTEST_STATS_NOC", "", 0, 0.0, "", 0,
             "NO_CONSUMER");
    OUT_HAS(row);
    OK("statsAll", "-a", "-t", "ADMINTEST_STATS_NOC");
    OUT_LACKS("NO_CONSUMER");
}
END_TEST

START_TEST(broker_and_cluster_status)
{
    OK("clusterList");
    OUT_HAS("#Cluster Name     #Broker Name            #BID  #Addr                  #Version");
    char line[160];
    snprintf(line, sizeof line, "DefaultCluster    broker-t                0     %-22s V4_9_8", broker.addr);
    OUT_HAS(line);
    OK("clusterList", "-m");
    OUT_HAS("#InTotalYest");
    snprintf(line, sizeof line, "DefaultCluster    broker-t                                      0              0 ");
    OUT_HAS(line);

    OK("brokerStatus", "-b", broker.addr);
    OUT_HAS("brokerVersionDesc               : V4_9_8\n");
    OUT_HAS("msgPutTotalTodayNow             : 2\n");
    OUT_HAS("putMessageTimesTotal            : 2\n");
    OUT_HAS("commitLogMinOffset              : 0\n");
    /* TPS are "10s 60s 600s" numbers; the commit log grew by the two records. */
    double a, b, c;
    ck_assert_int_eq(sscanf(strstr(out_text, "putTps                          : ") + 34, "%lf %lf %lf", &a, &b, &c), 3);
    ck_assert(a >= 0 && b >= 0 && c >= 0);
    long long max = 0;
    ck_assert_int_eq(sscanf(strstr(out_text, "commitLogMaxOffset              : ") + 34, "%lld", &max), 1);
    ck_assert_int_gt(max, 0);
    OK("brokerStatus", "-c", "DefaultCluster");
    snprintf(line, sizeof line, "%-24s %-32s: V4_9_8", broker.addr, "brokerVersionDesc");
    OUT_HAS(line);
    FAILS(1, "connect to 127.0.0.1:1 failed", "brokerStatus", "-b", "127.0.0.1:1");

    OK("cleanExpiredCQ", "-b", broker.addr);
    ck_assert_str_eq(out_text, "success");
    OK("cleanExpiredCQ", "-c", "DefaultCluster");
    ck_assert_str_eq(out_text, "success");

    /* cleanUnusedTopic drops the queue of the unconfigured topic, keeps the configured one's. */
    char *unused = str_printf("%s/store/consumequeue/ADMINTEST_UNUSED", dir);
    ck_assert_int_eq(access(unused, F_OK), 0);
    OK("cleanUnusedTopic", "-b", broker.addr);
    ck_assert_str_eq(out_text, "success");
    ck_assert_int_ne(access(unused, F_OK), 0);
    free(unused);
    ck_assert_int_eq(queue_offset(30, TOPIC, 1), 2);
    OK("cleanUnusedTopic", "-c", "DefaultCluster");
    ck_assert_str_eq(out_text, "success");

    /* clusterRT: 3 messages to the broker's own topic (brokerTopicEnable), stored, every second until stopped. */
    int64_t before = queue_offset(30, "broker-t", 0);
    const char *rt[] = {"clusterRT", "-a", "3", "-s", "16", "-i", "1", NULL};
    char counts[64];
    snprintf(counts, sizeof counts, "  %-16d  %-16d\n", 3, 0);
    mqadmin_until(counts, rt);
    OUT_HAS("#Cluster Name             #Broker Name              #RT   #successCount  #failCount\n");
    OUT_HAS("DefaultCluster            broker-t                  ");
    OUT_HAS(counts);
    ck_assert_int_ge(queue_offset(30, "broker-t", 0), before + 3);
    const char *rt_tlog[] = {"clusterRT", "-a", "2", "-s", "8", "-p", "true", "-m", "room1", "-i", "1", NULL};
    mqadmin_until("|room1|DefaultCluster|broker-t|", rt_tlog);
    OUT_HAS("|room1|DefaultCluster|broker-t|");
    OUT_LACKS("#Cluster Name");
    const char *rt_none[] = {"clusterRT", "-s", "8", "-c", "NoCluster", "-i", "1", NULL};
    mqadmin_until("cluster [NoCluster] not exist", rt_none);
    OUT_HAS("cluster [NoCluster] not exist");
}
END_TEST

START_TEST(broker_config)
{
    OK("updateBrokerConfig", "-b", broker.addr, "-k", "defaultTopicQueueNums", "-v", "5");
    char line[128];
    snprintf(line, sizeof line, "update broker config success, %s\n", broker.addr);
    OUT_HAS(line);
    rmq_cmd *r = call(broker.addr, req_ext(26, NULL));
    char *props = body_of(r);
    ck_assert_ptr_nonnull(strstr(props, "defaultTopicQueueNums=5\n"));
    ck_assert_str_eq(cmd_ext_get(r, "version") + strlen(cmd_ext_get(r, "version")) - 1, "}");
    ck_assert_ptr_nonnull(strstr(cmd_ext_get(r, "version"), "\"counter\":1"));
    free(props);
    cmd_free(r);
    OK("getBrokerConfig", "-b", broker.addr);
    snprintf(line, sizeof line, "============%s============\n", broker.addr);
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-50s=  %s\n", "defaultTopicQueueNums", "5");
    OUT_HAS(line);
    OK("getBrokerConfig", "-c", "DefaultCluster");
    snprintf(line, sizeof line, "============Master: %s============\n", broker.addr);
    OUT_HAS(line);
    FAILS(1, "CODE: 16  DESC: Can not update config in black list.", "updateBrokerConfig", "-b", broker.addr, "-k",
          "brokerConfigPath", "-v", "/x");
    FAILS(1, "CODE: 1", "updateBrokerConfig", "-b", broker.addr, "-k", "defaultTopicQueueNums", "-v", "lots");
}
END_TEST

START_TEST(namesrv_commands)
{
    OK("updateKvConfig", "-s", "ADMINTEST_NS", "-k", "k1", "-v", "v1");
    ck_assert_str_eq(out_text, "create or update kv config to namespace success.\n");
    rmq_cmd *r = call(ns.addr, req_ext(101, "namespace", "ADMINTEST_NS", "key", "k1", NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "value"), "v1");
    cmd_free(r);
    OK("deleteKvConfig", "-s", "ADMINTEST_NS", "-k", "k1");
    ck_assert_str_eq(out_text, "delete kv config from namespace success.\n");
    r = call(ns.addr, req_ext(101, "namespace", "ADMINTEST_NS", "key", "k1", NULL));
    ck_assert_int_eq(r->code, 22);
    cmd_free(r);

    OK("updateNamesrvConfig", "-k", "orderMessageEnable", "-v", "true");
    OUT_HAS("update name server config success!\norderMessageEnable : true\n");
    OK("getNamesrvConfig");
    char line[128];
    snprintf(line, sizeof line, "============%s============\n", ns.addr);
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-50s=  %s\n", "orderMessageEnable", "true");
    OUT_HAS(line);
}
END_TEST

START_TEST(subscription_groups)
{
    OK("updateSubGroup", "-c", "DefaultCluster", "-g", "ADMINTEST_SUB", "-r", "3");
    OUT_HAS("SubscriptionGroupConfig [groupName=ADMINTEST_SUB, consumeEnable=true, consumeFromMinEnable=false, "
            "consumeBroadcastEnable=false, retryQueueNums=1, retryMaxTimes=3, brokerId=0, "
            "whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=true]");
    rmq_cmd *r = call(broker.addr, req_ext(201, NULL));
    char *groups = body_of(r);
    ck_assert_ptr_nonnull(strstr(groups, "\"groupName\":\"ADMINTEST_SUB\""));
    ck_assert_ptr_nonnull(strstr(groups, "\"retryMaxTimes\":3"));
    free(groups);
    cmd_free(r);
    OK("deleteSubGroup", "-c", "DefaultCluster", "-g", "ADMINTEST_SUB");
    char line[160];
    snprintf(line, sizeof line, "delete subscription group [ADMINTEST_SUB] from broker [%s] in cluster [DefaultCluster] success.\n",
             broker.addr);
    OUT_HAS(line);
    OUT_HAS("delete topic [%RETRY%ADMINTEST_SUB] from NameServer success.\n");
    OUT_HAS("delete topic [%DLQ%ADMINTEST_SUB] from NameServer success.\n");
    r = call(broker.addr, req_ext(201, NULL));
    groups = body_of(r);
    ck_assert_ptr_null(strstr(groups, "ADMINTEST_SUB"));
    free(groups);
    cmd_free(r);
}
END_TEST

START_TEST(consumers_online)
{
    int fd = sim_connect(GROUP, TOPIC);   /* creates %RETRY%ADMINTEST_G; wait until it is routable */
    int64_t deadline = mono_ms() + 5000;
    rmq_cmd *r;
    while ((r = call(ns.addr, req_ext(105, "topic", "%RETRY%" GROUP, NULL)))->code != 0 && mono_ms() < deadline) {
        cmd_free(r);
        usleep(50000);
    }
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);

    OK("consumerConnection", "-g", GROUP);
    OUT_HAS("#ClientId                            #ClientAddr            #Language  #Version\n");
    char line[256];
    snprintf(line, sizeof line, "%-36s 127.0.0.1:", SIM_CLIENT);
    OUT_HAS(line);
    OUT_HAS("JAVA       V4_9_8\n");
    OUT_HAS(TOPIC "          *\n");
    OUT_HAS("ConsumeType: CONSUME_PASSIVELY\nMessageModel: CLUSTERING\nConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n");
    OK("producerConnection", "-g", "ADMINTEST_PG", "-t", TOPIC);
    snprintf(line, sizeof line, "0001  %-32s 127.0.0.1:", SIM_CLIENT);
    OUT_HAS(line);
    FAILS(1, "CODE: 206", "consumerConnection", "-g", "ADMINTEST_NOBODY", "-b", broker.addr);
    FAILS(1, "CODE: 1  DESC: the producer group[ADMINTEST_NOPG] not exist", "producerConnection", "-g",
          "ADMINTEST_NOPG", "-t", TOPIC);

    /* Progress: offsets the consumer committed against what the queues hold. */
    commit_offset(GROUP, TOPIC, 1, 1);
    OK("consumerProgress", "-g", GROUP);
    OUT_HAS("#Topic                                                            #Broker Name                      #QID  "
            "#Broker Offset        #Consumer Offset      #Diff                 #LastTime\n");
    snprintf(line, sizeof line, "%-64s  %-32s  %-4d  %-20d  %-20d  %-20d  ", TOPIC, "broker-t", 1, 2, 1, 1);
    OUT_HAS(line);
    OUT_HAS("Diff Total: 1\n");
    OK("consumerProgress");
    snprintf(line, sizeof line, "%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %d\n", GROUP, 1, "V4_9_8", "PUSH", "CLUSTERING", 0, 1);
    OUT_HAS(line);

    /* consumerStatus: the broker relays GET_CONSUMER_RUNNING_INFO to the client and back. */
    const char *args[] = {"consumerStatus", "-g", GROUP, "-i", SIM_CLIENT, NULL};
    run rn;
    run_start(&rn, ns.addr, args);
    rmq_cmd *asked = sim_receive(fd, 307);
    ck_assert_str_eq(cmd_ext_get(asked, "clientId"), SIM_CLIENT);
    rmq_cmd *answer = cmd_new_response(asked, 0, NULL);
    const char *info = "{\"jstack\":\"\",\"mqTable\":{{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"" TOPIC
                       "\"}:{\"commitOffset\":1}},\"properties\":{\"consumerGroup\":\"" GROUP "\"},"
                       "\"statusTable\":{},\"subscriptionSet\":[{\"classFilterMode\":false,\"subString\":\"*\","
                       "\"topic\":\"" TOPIC "\"}]}";
    cmd_set_body(answer, info, strlen(info));
    rmq_write_cmd_fd(fd, answer);
    cmd_free(answer);
    cmd_free(asked);
    ck_assert_int_eq(run_finish(&rn), 0);
    OUT_HAS("#Consumer Properties#\n");
    snprintf(line, sizeof line, "%-40s: %s\n", "consumerGroup", GROUP);
    OUT_HAS(line);
    OUT_HAS("001 Topic: " TOPIC);
    snprintf(line, sizeof line, "%-32s  %-32s  %-4d  %-20d\n", TOPIC, "broker-t", 1, 1);
    OUT_HAS(line);

    /* A client that does not answer: the broker gives up (CONSUME_MSG_TIMEOUT) — not waited for here;
     * an unknown client is refused at once. */
    FAILS(1, "The Consumer <" GROUP "> <nobody> not online", "consumerStatus", "-g", GROUP, "-i", "nobody");

    /* resetOffsetByTime with the consumer online: the broker pushes the offsets to it. */
    commit_offset(GROUP, TOPIC, 0, 0);
    commit_offset(GROUP, TOPIC, 2, 0);
    const char *reset[] = {"resetOffsetByTime", "-g", GROUP, "-t", TOPIC, "-s", "now", NULL};
    run_start(&rn, ns.addr, reset);
    rmq_cmd *push = sim_receive(fd, 220);
    ck_assert_str_eq(cmd_ext_get(push, "group"), GROUP);
    ck_assert_str_eq(cmd_ext_get(push, "timestamp"), "-1");
    char *pushed = body_of(push);
    ck_assert_ptr_nonnull(strstr(pushed, "{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"" TOPIC "\"}:2"));
    free(pushed);
    cmd_free(push);
    ck_assert_int_eq(run_finish(&rn), 0);
    OUT_HAS("rollback consumer offset by specified group[" GROUP "], topic[" TOPIC "], force[true], "
            "timestamp(string)[now], timestamp(long)[-1]\n");
    snprintf(line, sizeof line, "%-40s  %-40d  %-40d\n", "broker-t", 1, 2);
    OUT_HAS(line);
    close(fd);
}
END_TEST

START_TEST(reset_offline_consumer)
{
    /* No client online: mqadmin commits the offsets itself, and they are what a consumer resumes from. */
    commit_offset("ADMINTEST_OFF", TOPIC, 0, 0);
    commit_offset("ADMINTEST_OFF", TOPIC, 1, 1);
    commit_offset("ADMINTEST_OFF", TOPIC, 2, 0);
    OK("resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", TOPIC, "-s", "now");
    char line[256];
    snprintf(line, sizeof line, "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n", "#brokerName", "#queueId",
             "#brokerOffset", "#consumerOffset", "#timestampOffset", "#rollbackOffset");
    OUT_HAS(line);
    snprintf(line, sizeof line, "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d\n", "broker-t", 1, 2, 1, 2, 2);
    OUT_HAS(line);
    ck_assert_int_eq(consumer_offset("ADMINTEST_OFF", TOPIC, 1), 2);
    /* Back to the beginning by a time before every message. */
    OK("resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", TOPIC, "-s", "1000");
    ck_assert_int_eq(consumer_offset("ADMINTEST_OFF", TOPIC, 1), 0);
    /* As with Apache, progress is looked up through the group's retry topic, which an offline group lacks. */
    FAILS(1, "No topic route info in name server for the topic: %RETRY%ADMINTEST_OFF", "consumerProgress", "-g",
          "ADMINTEST_OFF");
    FAILS(1, "CODE: 17", "resetOffsetByTime", "-g", "ADMINTEST_OFF", "-t", "ADMINTEST_NONE", "-s", "now");
    FAILS(1, "CODE: 17", "consumerProgress", "-g", "ADMINTEST_NOGROUP");
}
END_TEST

/* The broker's answers to the admin requests Apache answered in the capture:
 * same codes, remarks and body shapes (values differ with the data). */
typedef struct golden_ctx {
    cJSON *requests;   /* opaque -> request line, per connection */
    int compared;
} golden_ctx;

static void keys_of(const cJSON *obj, char *out, size_t cap)
{
    out[0] = '\0';
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s,", c->string[0] == '{' ? "{mq}" : c->string);
    }
}

static void compare_golden(cJSON *line, void *arg)
{
    golden_ctx *g = arg;
    const char *src = cJSON_GetObjectItem(line, "src")->valuestring;
    int code = cJSON_GetObjectItem(line, "code")->valueint;
    char key[64];
    snprintf(key, sizeof key, "%d/%d", cJSON_GetObjectItem(line, "conn")->valueint,
             cJSON_GetObjectItem(line, "opaque")->valueint);
    if (strcmp(src, "client") == 0) {
        if (strcmp(cJSON_GetObjectItem(line, "dst")->valuestring, "broker") == 0)
            cJSON_AddItemToObject(g->requests, key, cJSON_Duplicate(line, true));
        return;
    }
    cJSON *req_line = cJSON_GetObjectItem(g->requests, key);
    const cJSON *rc = cJSON_GetObjectItem(line, "req_code");
    if (strcmp(src, "broker") || !req_line || !rc) return;
    int req_code = rc->valueint;
    if (req_code != 17 && req_code != 202 && req_code != 28 && req_code != 200 && req_code != 207 &&
        req_code != 300 && req_code != 26 && req_code != 208)
        return;
    /* Replay the request against our broker, with its topic/group names. */
    rmq_cmd *req = cmd_new_request(req_code);
    cmd_ext_declare(req);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(req_line, "header"), "extFields")) {
        if (!strcmp(f->string, "Signature") || !strcmp(f->string, "AccessKey")) continue;
        cmd_ext_set(req, f->string, f->valuestring);
    }
    const char *hex = cJSON_GetObjectItem(req_line, "body_hex")->valuestring;
    if (*hex) {
        uint8_t *body = xmalloc(strlen(hex) / 2 + 1);
        int n = hex_decode(body, strlen(hex) / 2 + 1, hex);
        cmd_take_body(req, body, (size_t)n);
    }
    if (req_code == 208) commit_offset(cmd_ext_get(req, "consumerGroup"), "GoldenAdminTopic", 0, 0);
    rmq_cmd *ours = call(broker.addr, req);
    ck_assert_int_eq(ours->code, code);
    const cJSON *remark = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "header"), "remark");
    if (remark) ck_assert_str_eq(ours->remark ? ours->remark : "", remark->valuestring);
    else ck_assert_ptr_null(ours->remark);
    const char *want_hex = cJSON_GetObjectItem(line, "body_hex")->valuestring;
    if (*want_hex && req_code != 26) {
        uint8_t *want = xmalloc(strlen(want_hex) / 2 + 1);
        int n = hex_decode(want, strlen(want_hex) / 2 + 1, want_hex);
        cJSON *w = fjson_parse((const char *)want, (size_t)n, NULL), *o = fjson_parse((const char *)ours->body, ours->body_len, NULL);
        ck_assert_ptr_nonnull(w);
        ck_assert_ptr_nonnull(o);
        char wk[4096], ok[4096];
        if (req_code == 28) {
            /* Every key clusterList and brokerStatus readers use is there. */
            const cJSON *k;
            cJSON_ArrayForEach(k, cJSON_GetObjectItem(w, "table")) {
                static const char *const optional[] = {"putMessageDistributeTime", "putMessageEntireTimeMax",
                    "getMessageEntireTimeMax", "putLatency99", "putLatency999", "dispatchMaxBuffer",
                    "putMessageFailedTimes", "remainHowManyDataToFlush", "scheduleMessageOffset_2",
                    "scheduleMessageOffset_3", "commitLogDiskRatio_/data/rocketmq/store/commitlog"};
                bool skip = false;
                for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) skip |= !strcmp(k->string, optional[i]);
                if (!skip) ck_assert_msg(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "table"), k->string), "no %s", k->string);
            }
        } else {
            keys_of(w, wk, sizeof wk);
            keys_of(o, ok, sizeof ok);
            ck_assert_str_eq(ok, wk);
            /* Entries of the MessageQueue-keyed tables have Apache's fields. */
            const cJSON *wt = cJSON_GetObjectItem(w, "offsetTable"), *ot = cJSON_GetObjectItem(o, "offsetTable");
            if (wt && ot && wt->child && ot->child) {
                keys_of(wt->child, wk, sizeof wk);
                keys_of(ot->child, ok, sizeof ok);
                ck_assert_str_eq(ok, wk);
                cJSON *wkey = fjson_parse_key(wt->child, NULL), *okey = fjson_parse_key(ot->child, NULL);
                keys_of(wkey, wk, sizeof wk);
                keys_of(okey, ok, sizeof ok);
                ck_assert_str_eq(ok, wk);
                cJSON_Delete(wkey);
                cJSON_Delete(okey);
            }
        }
        cJSON_Delete(w);
        cJSON_Delete(o);
        free(want);
    }
    cmd_free(ours);
    g->compared++;
}

START_TEST(golden_admin_answers)
{
    OK("sendMessage", "-t", "GoldenAdminTopic", "-p", "x");   /* auto-created like Apache's first run had it */
    golden_ctx g = {cJSON_CreateObject(), 0};
    ck_assert_int_ge(golden_each("mqadmin-4.9.8.jsonl", compare_golden, &g), 0);
    ck_assert_int_ge(g.compared, 8);
    cJSON_Delete(g.requests);
}
END_TEST

/* Last: it takes the broker's write permission away on the name server. */
START_TEST(wipe_write_perm)
{
    OK("wipeWritePerm", "-b", "broker-t");
    char line[128];
    snprintf(line, sizeof line, "wipe write perm of broker[broker-t] in name server[%s] OK, ", ns.addr);
    OUT_HAS(line);
    rmq_cmd *r = call(ns.addr, req_ext(105, "topic", TOPIC, NULL));
    char *route = body_of(r);
    ck_assert_ptr_nonnull(strstr(route, "\"perm\":4"));
    free(route);
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        help_and_bad_command_lines,
        topic_lifecycle,
        messages,
        broker_and_cluster_status,
        broker_config,
        namesrv_commands,
        subscription_groups,
        consumers_online,
        reset_offline_consumer,
        golden_admin_answers,
        wipe_write_perm,
    };
    return run_e2e("mqadmin", tests, sizeof tests / sizeof tests[0]);
}
