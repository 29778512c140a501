/*
 * mqadmin end to end, the sub-commands beyond the first set (test_mqadmin):
 * updateTopicPerm, updateOrderConf, allocateMQ, addWritePerm, cloneGroupOffset,
 * getConsumerConfig, setConsumeMode, skipAccumulatedMessage, brokerConsumeStats,
 * sendMsgStatus, checkMsgSendRT, queryMsgTraceById, queryCq and
 * deleteExpiredCommitLog, each run as a program against the real mqnamesrv and
 * mqbroker, its output checked against Apache's layout (the expected texts were
 * taken from Apache 5.3.3's mqadmin run against the same setup) and what it
 * changed checked on the servers with requests of our own. Every wait has a
 * deadline.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mqadmin_harness.h"

#define TOPIC "ADMINOPS_T"
#define GROUP "ADMINOPS_G"

/* The name server's route of TOPIC, once it holds `want` (a fragment of its JSON). */
static void route_until(const char *want)
{
    int64_t deadline = mono_ms() + 10000;
    for (;;) {
        rmq_cmd *r = call(ns.addr, req_ext(105, "topic", TOPIC, NULL));
        char *route = r->code == 0 ? body_of(r) : xstrdup("");
        bool ok = strstr(route, want) != NULL;
        free(route);
        cmd_free(r);
        if (ok) return;
        ck_assert_msg(mono_ms() < deadline, "the route of " TOPIC " never held %s", want);
        usleep(50000);
    }
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, prefix, strlen(prefix))) n++;
    return n;
}

START_TEST(help_lists_them)
{
    OK("help");
    static const char *const added[] = {
        "updateTopicPerm", "updateOrderConf", "allocateMQ", "addWritePerm", "cloneGroupOffset", "getConsumerConfig",
        "setConsumeMode", "skipAccumulatedMessage", "brokerConsumeStats", "sendMsgStatus", "deleteExpiredCommitLog",
        "checkMsgSendRT", "queryMsgTraceById", "queryCq", "updateTopicList", "updateSubGroupList", "producer"};
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "   %-20s ", added[i]);
        OUT_HAS(line);
    }
    /* findSubCommand compares names in upper case. */
    OK("help", "ALLOCATEMQ");
    OUT_HAS("usage: mqadmin allocateMQ [-h] -i <arg> [-n <arg>] -t <arg>\n");
}
END_TEST

START_TEST(topic_perm_and_order_conf)
{
    OK("updateTopic", "-c", "DefaultCluster", "-t", TOPIC, "-r", "4", "-w", "4");
    route_until("\"writeQueueNums\":4");

    /* Read only on the one master: the broker's config and, re-registered, the name server's route. */
    OK("updateTopicPerm", "-t", TOPIC, "-b", broker.addr, "-p", "4");
    char line[256];
    snprintf(line, sizeof line, "update topic perm from 6 to 4 in %s success.\n", broker.addr);
    OUT_HAS(line);
    OUT_HAS("TopicConfig [topicName=" TOPIC ", readQueueNums=4, writeQueueNums=4, perm=R--, "
            "topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false].\n");
    route_until("\"perm\":4");
    rmq_cmd *r = call(broker.addr, req_ext(351, "topic", TOPIC, NULL));   /* GET_TOPIC_CONFIG */
    char *cfg = body_of(r);
    ck_assert_msg(strstr(cfg, "\"perm\":4"), "%s", cfg);
    free(cfg);
    cmd_free(r);

    OK("updateTopicPerm", "-t", TOPIC, "-b", broker.addr, "-p", "4");
    ck_assert_str_eq(out_text, "new perm equals to the old one!\n");
    OK("updateTopicPerm", "-t", TOPIC, "-b", "127.0.0.1:1", "-p", "6");
    ck_assert_str_eq(out_text, "updateTopicPerm error broker not exit or broker is not master!.\n");

    /* Back to RW on every master of the cluster. */
    OK("updateTopicPerm", "-t", TOPIC, "-c", "DefaultCluster", "-p", "6");
    snprintf(line, sizeof line, "update topic perm from 4 to 6 in %s success.\n", broker.addr);
    ck_assert_str_eq(out_text, line);
    route_until("\"perm\":6");
    FAILS(2, "one of the options -b or -c is required", "updateTopicPerm", "-t", TOPIC, "-p", "6");
    FAILS(1, "CODE: 17", "updateTopicPerm", "-t", "ADMINOPS_NONE", "-c", "DefaultCluster", "-p", "6");

    /* The order conf is the name server's ORDER_TOPIC_CONFIG KV entry; Apache ends no line here. */
    OK("updateOrderConf", "-t", TOPIC, "-m", "put", "-v", "broker-t:4");
    ck_assert_str_eq(out_text, "update orderConf success. topic=[" TOPIC "], orderConf=[broker-t:4]");
    r = call(ns.addr, req_ext(101, "namespace", "ORDER_TOPIC_CONFIG", "key", TOPIC, NULL));
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "value"), "broker-t:4");
    cmd_free(r);
    OK("updateOrderConf", "-t", TOPIC, "-m", "get");
    ck_assert_str_eq(out_text, "get orderConf success. topic=[" TOPIC "], orderConf=[broker-t:4] ");
    OK("updateOrderConf", "-t", TOPIC, "-m", "delete");
    ck_assert_str_eq(out_text, "delete orderConf success. topic=[" TOPIC "]");
    r = call(ns.addr, req_ext(101, "namespace", "ORDER_TOPIC_CONFIG", "key", TOPIC, NULL));
    ck_assert_int_eq(r->code, 22);
    cmd_free(r);
    FAILS(1, "CODE: 22  DESC: No config item, Namespace: ORDER_TOPIC_CONFIG Key: " TOPIC, "updateOrderConf", "-t",
          TOPIC, "-m", "get");
    FAILS(1, "please set orderConf with option -v.", "updateOrderConf", "-t", TOPIC, "-m", "put");
    FAILS(2, "put, get or delete", "updateOrderConf", "-t", TOPIC, "-m", "list");
}
END_TEST

START_TEST(allocate_mq)
{
    /* Apache 5.3.3's answer for these queues and ids (the HashSet's and HashMap's orders). */
    OK("allocateMQ", "-t", TOPIC, "-i", "10.0.0.1,10.0.0.2,10.0.0.3");
    ck_assert_str_eq(out_text, "{\"result\":{\"10.0.0.3\":[{\"brokerName\":\"broker-t\",\"queueId\":3,\"topic\":\"" TOPIC
                               "\"}],\"10.0.0.2\":[{\"brokerName\":\"broker-t\",\"queueId\":2,\"topic\":\"" TOPIC
                               "\"}],\"10.0.0.1\":[{\"brokerName\":\"broker-t\",\"queueId\":0,\"topic\":\"" TOPIC
                               "\"},{\"brokerName\":\"broker-t\",\"queueId\":1,\"topic\":\"" TOPIC "\"}]}}\n");
    OK("allocateMQ", "-t", TOPIC, "-i", "solo");
    for (int q = 0; q < 4; q++) {
        char mq[128];
        snprintf(mq, sizeof mq, "{\"brokerName\":\"broker-t\",\"queueId\":%d,\"topic\":\"" TOPIC "\"}", q);
        OUT_HAS(mq);
    }
    FAILS(1, "CODE: 17", "allocateMQ", "-t", "ADMINOPS_NONE", "-i", "a");
}
END_TEST

START_TEST(write_perm_back)
{
    OK("wipeWritePerm", "-b", "broker-t");
    route_until("\"perm\":4");
    OK("addWritePerm", "-b", "broker-t");
    char line[256];
    snprintf(line, sizeof line, "add write perm of broker[broker-t] in name server[%s] OK, ", ns.addr);
    OUT_HAS(line);
    route_until("\"perm\":6");
}
END_TEST

START_TEST(group_offsets_and_config)
{
    OK("updateSubGroup", "-b", broker.addr, "-g", GROUP, "-r", "7");
    /* A heartbeat makes the group's retry topic, which examineConsumeStats routes by. */
    close(sim_connect(GROUP, TOPIC));
    for (int i = 0; i < 3; i++) OK("sendMessage", "-t", TOPIC, "-p", "m", "-b", "broker-t", "-i", "1");
    commit_offset(GROUP, TOPIC, 1, 2);
    commit_offset(GROUP, TOPIC, 2, 0);

    OK("cloneGroupOffset", "-s", GROUP, "-d", GROUP "_COPY", "-t", TOPIC);
    ck_assert_str_eq(out_text, "clone group offset success. srcGroup[" GROUP "], destGroup=[" GROUP "_COPY], topic[" TOPIC "]");
    ck_assert_int_eq(consumer_offset(GROUP "_COPY", TOPIC, 1), 2);
    ck_assert_int_eq(consumer_offset(GROUP "_COPY", TOPIC, 2), 0);
    FAILS(1, "CODE: 17", "cloneGroupOffset", "-s", "ADMINOPS_NOGROUP", "-d", "X", "-t", TOPIC);

    OK("brokerConsumeStats", "-b", broker.addr);
    char row[512];
    snprintf(row, sizeof row, "%-64s  %-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s\n", "#Topic", "#Group",
             "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime");
    OUT_HAS(row);
    snprintf(row, sizeof row, "%-64s  %-64s  %-32s  %-4d  %-20d  %-20d  %-20d  20", TOPIC, GROUP, "broker-t", 1, 3, 2, 1);
    OUT_HAS(row);
    OUT_HAS("\nDiff Total: ");
    OK("brokerConsumeStats", "-b", broker.addr, "-l", "2");
    OUT_LACKS(row);   /* a diff under the level is left out */

    OK("getConsumerConfig", "-g", GROUP);
    OUT_HAS("=============================DefaultCluster:broker-t=============================\n");
    OUT_HAS("groupName                               =  " GROUP "\n");
    OUT_HAS("retryMaxTimes                           =  7\n");
    OUT_HAS("consumeTimeoutMinute                    =  15\n");
    OUT_HAS("attributes                              =  {}\n");
    ck_assert_int_eq(count_lines(out_text, ""), 16);

    OK("setConsumeMode", "-b", broker.addr, "-t", TOPIC, "-g", GROUP, "-m", "POP", "-q", "2");
    char line[256];
    snprintf(line, sizeof line, "set consume mode to %s success.\ntopic[" TOPIC "] group[" GROUP
                                "] consume mode[POP] popShareQueueNum[2]", broker.addr);
    ck_assert_str_eq(out_text, line);
    rmq_cmd *r = call(broker.addr, req_ext(402, NULL));   /* GET_ALL_MESSAGE_REQUEST_MODE */
    char *modes = body_of(r);
    ck_assert_msg(strstr(modes, "\"mode\":\"POP\"") && strstr(modes, "\"popShareQueueNum\":2"), "%s", modes);
    free(modes);
    cmd_free(r);
    OK("setConsumeMode", "-c", "DefaultCluster", "-t", TOPIC, "-g", GROUP, "-m", "PULL");
    r = call(broker.addr, req_ext(402, NULL));
    modes = body_of(r);
    ck_assert_msg(strstr(modes, "\"mode\":\"PULL\""), "%s", modes);
    free(modes);
    cmd_free(r);
    FAILS(1, "No enum constant org.apache.rocketmq.common.message.MessageRequestMode.PUSH", "setConsumeMode", "-b",
          broker.addr, "-t", TOPIC, "-g", GROUP, "-m", "PUSH");
}
END_TEST

START_TEST(skip_accumulated_offline)
{
    /* Nobody online: the tool commits each queue's max offset itself (ResetOffsetByTimeOld). As
     * Apache's broker, ours refuses while a queue of the topic has no offset of the group. */
    FAILS(1, "CODE: 1  DESC: THe consumer group <" GROUP "> not exist", "skipAccumulatedMessage", "-g", GROUP, "-t",
          TOPIC);
    commit_offset(GROUP, TOPIC, 0, 0);
    commit_offset(GROUP, TOPIC, 3, 0);
    OK("skipAccumulatedMessage", "-g", GROUP, "-t", TOPIC);
    char line[256];
    snprintf(line, sizeof line, "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s\n", "#brokerName", "#queueId",
             "#brokerOffset", "#consumerOffset", "#timestampOffset", "#rollbackOffset");
    ck_assert_int_eq(strncmp(out_text, line, strlen(line)), 0);   /* the table alone, no title line */
    snprintf(line, sizeof line, "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d\n", "broker-t", 1, 3, 2, 3, 3);
    OUT_HAS(line);
    ck_assert_int_eq(consumer_offset(GROUP, TOPIC, 1), 3);
    FAILS(1, "CODE: 17", "skipAccumulatedMessage", "-g", GROUP, "-t", "ADMINOPS_NONE");
}
END_TEST

/* 5.3's resetOffsetByTime -b -q [-o]: one queue, the broker resetting it (resetOffsetInner). */
START_TEST(reset_one_queue)
{
    char line[256];
    OK("resetOffsetByTime", "-g", GROUP, "-t", TOPIC, "-s", "now", "-b", broker.addr, "-q", "1", "-o", "1");
    snprintf(line, sizeof line, "start reset consumer offset by specified, group[" GROUP "], topic[" TOPIC
                                "], queueId[1], broker[%s], timestamp(string)[now], timestamp(long)[",
             broker.addr);
    OUT_HAS(line);
    OUT_HAS("reset consumer offset to 1\n");
    ck_assert_int_eq(consumer_offset(GROUP, TOPIC, 1), 1);
    ck_assert_int_eq(consumer_offset(GROUP, TOPIC, 2), 0);   /* the other queues keep theirs */

    /* A time before every message finds offset 0, which Apache's command leaves alone. */
    OK("resetOffsetByTime", "-g", GROUP, "-t", TOPIC, "-s", "1000", "-b", broker.addr, "-q", "1");
    OUT_HAS("reset consumer offset to 0\n");
    ck_assert_int_eq(consumer_offset(GROUP, TOPIC, 1), 1);

    FAILS(1, "CODE: 1  DESC: Target offset 99 not in consume queue range [0-3]", "resetOffsetByTime", "-g", GROUP,
          "-t", TOPIC, "-s", "now", "-b", broker.addr, "-q", "1", "-o", "99");
    FAILS(1, "CODE: 26  DESC: Group ADMINOPS_NOGROUP does not exist", "resetOffsetByTime", "-g", "ADMINOPS_NOGROUP",
          "-t", TOPIC, "-s", "now", "-b", broker.addr, "-q", "1", "-o", "1");

    /* An online consumer is told its new offset for that queue. */
    int fd = sim_connect(GROUP, TOPIC);
    OK("resetOffsetByTime", "-g", GROUP, "-t", TOPIC, "-s", "now", "-b", broker.addr, "-q", "1", "-o", "2");
    rmq_cmd *push = sim_receive(fd, 220);   /* RESET_CONSUMER_CLIENT_OFFSET */
    char *body = body_of(push);
    ck_assert_msg(strstr(body, "\"queueId\":1,\"topic\":\"" TOPIC "\"}:2"), "%s", body);
    free(body);
    cmd_free(push);
    close(fd);
    ck_assert_int_eq(consumer_offset(GROUP, TOPIC, 1), 2);
}
END_TEST

START_TEST(sends_with_timing)
{
    int64_t before = queue_offset(30, "broker-t", 0);
    OK("sendMsgStatus", "-b", "broker-t", "-c", "3", "-s", "20");
    ck_assert_int_eq(count_lines(out_text, "rt="), 3);
    OUT_HAS("ms, SendResult=SendResult [sendStatus=SEND_OK, msgId=");
    OUT_HAS(", messageQueue=MessageQueue [topic=broker-t, brokerName=broker-t, queueId=0], queueOffset=");
    ck_assert_int_eq(queue_offset(30, "broker-t", 0), before + 4);   /* the warm-up send too */
    FAILS(1, "CODE: 17", "sendMsgStatus", "-b", "ADMINOPS_NOBROKER");

    int64_t q3 = queue_offset(30, TOPIC, 3);
    OK("checkMsgSendRT", "-t", TOPIC, "-a", "8", "-s", "10");
    OUT_HAS("#Broker Name                      #QID  #Send Result            #RT\n");
    ck_assert_int_eq(count_lines(out_text, "broker-t                          3     true                    "), 2);
    ck_assert_int_eq(count_lines(out_text, "Avg RT: "), 1);
    ck_assert_int_eq(queue_offset(30, TOPIC, 3), q3 + 2);   /* send i went to queue i mod 4 */
    /* A new topic goes by TBW102's route and the broker creates it, as with Apache's producer. */
    OK("checkMsgSendRT", "-t", "ADMINOPS_AUTO", "-a", "2");
    ck_assert_int_eq(count_lines(out_text, "broker-t                          0     true"), 1);
    ck_assert_int_eq(count_lines(out_text, "broker-t                          1     true"), 1);
    ck_assert_int_eq(queue_offset(30, "ADMINOPS_AUTO", 1), 1);
}
END_TEST

START_TEST(message_trace)
{
    /* Trace records as the Java client's AsyncTraceDispatcher writes them, keyed by the message id. */
    const char *id = "7F00000166595CF3245B0BC374650001";
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)(time(NULL) * 1000));
    char *pub = str_printf("Pub\1%s\1DefaultRegion\1ADMINOPS_PG\1" TOPIC "\1%s\1TagA\1K1\1%s\1" "5\1" "3\1" "0\1"
                           "7F00000100004DC70000000000000163\1true\1\2",
                           now, id, broker.addr);
    char *sub = str_printf("SubAfter\1req1\1%s\1" "12\1true\1K1\1" "0\1%s\1ADMINOPS_CG\1\2"
                           "SubAfter\1req2\1OTHER_ID\1" "7\1false\1K1\1" "0\1%s\1ADMINOPS_CG\1\2",
                           id, now, now);
    OK("sendMessage", "-t", "RMQ_SYS_TRACE_TOPIC", "-p", pub, "-k", id);
    OK("sendMessage", "-t", "RMQ_SYS_TRACE_TOPIC", "-p", sub, "-k", id);
    free(pub);
    free(sub);
    OK("queryMsgTraceById", "-i", id);
    OUT_HAS("#Type      #ProducerGroup       #ClientHost          #SendTime            #CostTimes #Status   \n"
            "Pub        ADMINOPS_PG          127.0.0.1            20");
    OUT_HAS("  3ms        success   \n\n");
    OUT_HAS("#Type      #ConsumerGroup       #ClientHost          #ConsumerTime        #CostTimes #Status   \n"
            "Sub        ADMINOPS_CG          127.0.0.1            20");
    OUT_HAS("  12ms       success   \n\n");
    OUT_LACKS("7ms");   /* the record about another message is not shown */
    OK("queryMsgTraceById", "-i", "NO_SUCH_ID");
    ck_assert_str_eq(out_text, "");
}
END_TEST

START_TEST(consume_queue)
{
    OK("queryCq", "-t", TOPIC, "-q", "1", "-i", "0", "-c", "2");
    char line[128];
    snprintf(line, sizeof line, "Queue data: \nmax: %lld, min: 0\n======================================\n",
             (long long)queue_offset(30, TOPIC, 1));
    OUT_HAS(line);
    OUT_HAS("idx: 0\nConsumeQueueData{physicOffset=");
    OUT_HAS("idx: 1\nConsumeQueueData{physicOffset=");
    OUT_HAS(", extendDataJson='null', bitMap='null', eval=false, msg='null'}\n======================================\n");
    OUT_LACKS("idx: 2");
    OK("queryCq", "-t", TOPIC, "-q", "1", "-i", "0", "-g", GROUP, "-b", broker.addr);
    OUT_LACKS("Subscription data");   /* nobody of the group online */
    int fd = sim_connect(GROUP, TOPIC);
    OK("queryCq", "-t", TOPIC, "-q", "1", "-i", "0", "-g", GROUP, "-b", broker.addr);
    close(fd);
    OUT_HAS("Subscription data: \n{");
    OUT_HAS("\"topic\":\"" TOPIC "\"");
    FAILS(1, "CODE: 1  DESC: 9@" TOPIC " is not exist!", "queryCq", "-t", TOPIC, "-q", "9", "-i", "0");
}
END_TEST

START_TEST(config_lists_and_producers)
{
    char *path = str_printf("%s/topics.json", dir);
    const char *topics = "[{\"topicName\":\"ADMINOPS_L1\",\"readQueueNums\":2,\"writeQueueNums\":2},"
                         "{\"topicName\":\"ADMINOPS_L2\"}]";
    ck_assert_int_eq(write_file_atomic(path, topics, strlen(topics)), 0);
    OK("updateTopicList", "-b", broker.addr, "-f", path);
    char line[256];
    snprintf(line, sizeof line, "submit batch of topic config to %s success, please check the result later.\n",
             broker.addr);
    ck_assert_str_eq(out_text, line);
    rmq_cmd *r = call(broker.addr, req_ext(351, "topic", "ADMINOPS_L2", NULL));   /* TopicConfig's defaults */
    char *cfg = body_of(r);
    ck_assert_msg(strstr(cfg, "\"readQueueNums\":16") && strstr(cfg, "\"perm\":6"), "%s", cfg);
    free(cfg);
    cmd_free(r);
    r = call(broker.addr, req_ext(351, "topic", "ADMINOPS_L1", NULL));
    cfg = body_of(r);
    ck_assert_msg(strstr(cfg, "\"writeQueueNums\":2"), "%s", cfg);
    free(cfg);
    cmd_free(r);
    free(path);

    path = str_printf("%s/groups.json", dir);
    const char *groups = "[{\"groupName\":\"ADMINOPS_LG\",\"retryMaxTimes\":3}]";
    ck_assert_int_eq(write_file_atomic(path, groups, strlen(groups)), 0);
    OK("updateSubGroupList", "-c", "DefaultCluster", "-f", path);
    snprintf(line, sizeof line,
             "submit batch of subscription group config to %s success, please check the result later.\n"
             "usage: mqadmin updateSubGroupList", broker.addr);
    OUT_HAS(line);   /* and, as Apache's -c branch, the help after it */
    r = call(broker.addr, req_ext(352, "group", "ADMINOPS_LG", NULL));   /* GET_SUBSCRIPTIONGROUP_CONFIG */
    cfg = body_of(r);
    ck_assert_msg(strstr(cfg, "\"retryMaxTimes\":3"), "%s", cfg);
    free(cfg);
    cmd_free(r);
    free(path);
    OK("updateTopicList", "-b", broker.addr, "-f", "/nonexistent/topics.json");
    ck_assert_str_eq(out_text, "the file path /nonexistent/topics.json does not exists\n");

    /* A client heart-beating as a producer of ADMINTEST_PG. */
    int fd = sim_connect(GROUP, TOPIC);
    OK("producer", "-b", broker.addr);
    OUT_HAS("producer group (ADMINTEST_PG) instance : clientId=" SIM_CLIENT ",remoteIP=/127.0.0.1:");
    OUT_HAS(", language=JAVA, version=");
    close(fd);
}
END_TEST

/* brokerStatus prints every key Apache 5.3.3's broker answers in GET_BROKER_RUNTIME_INFO
 * (AdminBrokerProcessor.prepareRuntimeInfo, DefaultMessageStore and StoreStatsService.getRuntimeInfo). */
START_TEST(broker_status_keys)
{
    static const char *const keys[] = {
        "brokerActive", "brokerVersionDesc", "brokerVersion", "msgPutTotalYesterdayMorning",
        "msgPutTotalTodayMorning", "msgPutTotalTodayNow", "msgGetTotalYesterdayMorning", "msgGetTotalTodayMorning",
        "msgGetTotalTodayNow", "dispatchBehindBytes", "pageCacheLockTimeMills", "earliestMessageTimeStamp",
        "startAcceptSendRequestTimeStamp", "timerReadBehind", "timerOffsetBehind", "timerCongestNum",
        "timerEnqueueTps", "timerDequeueTps", "remainTransientStoreBufferNumbs", "remainHowManyDataToFlush",
        "commitLogDirCapacity", "sendThreadPoolQueueSize", "sendThreadPoolQueueCapacity", "pullThreadPoolQueueSize",
        "pullThreadPoolQueueCapacity", "litePullThreadPoolQueueSize", "litePullThreadPoolQueueCapacity",
        "queryThreadPoolQueueSize", "queryThreadPoolQueueCapacity", "ackThreadPoolQueueSize",
        "ackThreadPoolQueueCapacity", "sendThreadPoolQueueHeadWaitTimeMills", "pullThreadPoolQueueHeadWaitTimeMills",
        "queryThreadPoolQueueHeadWaitTimeMills", "litePullThreadPoolQueueHeadWaitTimeMills",
        "ackThreadPoolQueueHeadWaitTimeMills", "EndTransactionQueueSize", "EndTransactionThreadPoolQueueCapacity",
        "bootTimestamp", "runtime", "putMessageEntireTimeMax", "putMessageTimesTotal", "putMessageFailedTimes",
        "putMessageSizeTotal", "putMessageDistributeTime", "putMessageAverageSize", "dispatchMaxBuffer",
        "getMessageEntireTimeMax", "putTps", "getFoundTps", "getMissTps", "getTotalTps", "getTransferredTps",
        "putLatency99", "putLatency999", "commitLogDiskRatio", "consumeQueueDiskRatio", "commitLogMinOffset",
        "commitLogMaxOffset"};
    OK("brokerStatus", "-b", broker.addr);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char line[96];
        snprintf(line, sizeof line, "\n%-32s: ", keys[i]);
        ck_assert_msg(strstr(out_text, line) || !strncmp(out_text, line + 1, strlen(line) - 1), "no %s:\n%s",
                      keys[i], out_text);
    }
    OUT_HAS("\nbrokerActive                    : true\n");
    OUT_HAS("\nsendThreadPoolQueueSize         : 0\n");
    /* Every put so far took under a millisecond or more: the ranges hold them all. */
    OUT_HAS("\nputMessageDistributeTime        : [<=0ms]:");
    OUT_HAS(" [0~10ms]:");
    OUT_HAS(" [10s~]:0 \n");
    OUT_HAS("\nputMessageFailedTimes           : 0\n");
    OUT_HAS("\nremainHowManyDataToFlush        : ");
}
END_TEST

static int commitlog_files(void)
{
    char *path = str_printf("%s/store/commitlog", dir);
    DIR *d = opendir(path);
    free(path);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Last: it deletes the commit log the other tests' messages are in. */
START_TEST(delete_expired_commit_log)
{
    while (commitlog_files() < 3) OK("checkMsgSendRT", "-t", TOPIC, "-a", "20", "-s", "1400");
    /* Expired (fileReservedTime=0) but kept: not the hour of deleteWhen, disk not full. */
    usleep(600 * 1000);
    int before = commitlog_files();
    ck_assert_int_ge(before, 3);
    OK("deleteExpiredCommitLog", "-b", broker.addr);
    ck_assert_str_eq(out_text, "success");
    int64_t deadline = mono_ms() + 10000;
    while (commitlog_files() > 1 && mono_ms() < deadline) usleep(100 * 1000);
    ck_assert_int_eq(commitlog_files(), 1);   /* all but the one being written */
    OK("deleteExpiredCommitLog", "-c", "DefaultCluster");
    ck_assert_str_eq(out_text, "success");
}
END_TEST

int main(void)
{
    /* Small commit log files that expire at once, cleaned every 200 ms only when asked
     * (deleteWhen is twelve hours away, the disk limit out of reach). */
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    static char extra[256];
    snprintf(extra, sizeof extra,
             "fileReservedTime=0\ndeleteWhen=%02d\ndiskMaxUsedSpaceRatio=99\ncleanResourceInterval=200\n",
             (tm.tm_hour + 12) % 24);
    broker_conf_extra = extra;
    commitlog_file_size = 64 * 1024;
    const TTest *tests[] = {
        help_lists_them,
        topic_perm_and_order_conf,
        allocate_mq,
        write_perm_back,
        group_offsets_and_config,
        skip_accumulated_offline,
        reset_one_queue,
        sends_with_timing,
        message_trace,
        consume_queue,
        broker_status_keys,
        config_lists_and_producers,
        delete_expired_commit_log,
    };
    return run_e2e("mqadmin_ops", tests, sizeof tests / sizeof tests[0]);
}
