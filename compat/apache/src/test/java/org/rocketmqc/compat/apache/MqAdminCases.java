package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.subscription.SubscriptionGroupConfig;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The official 4.9.8 mqadmin sub-commands an operator uses daily, each checked by what it
 * prints and by the effect seen through another door (the admin API, another sub-command,
 * the name server). MqAdminOursTest runs them against our name server and broker;
 * MqAdminApacheTest runs the very same cases against Apache's, so every expectation here is
 * Apache's own behaviour.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MqAdminCases {
    private Servers s;
    private NameServer ns;
    private Broker broker;
    private String n;

    abstract Impl impl();

    @BeforeAll
    void start() throws Exception {
        s = new Servers("mqadmin-" + impl().name().toLowerCase());
        ns = s.nameServer(impl());
        broker = s.broker(impl(), "broker-" + impl().name().toLowerCase(), ns).start();
        n = ns.addr();
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    private MqAdmin.Result mqadmin(String... args) throws Exception {
        return s.mqadmin(args);
    }

    private DefaultMQAdminExt admin() throws Exception {
        return ns.admin();
    }

    private void createTopic(String topic, int queues) throws Exception {
        mqadmin("updateTopic", "-n", n, "-c", broker.clusterName(), "-t", topic,
            "-r", "" + queues, "-w", "" + queues).expect("success");
        Net.await(() -> routeKnown(topic), 15, () -> "route of " + topic);
    }

    private boolean routeKnown(String topic) {
        try {
            return !admin().examineTopicRouteInfo(topic).getQueueDatas().isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    private DefaultMQProducer producer(String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group);
        p.setNamesrvAddr(n);
        p.setInstanceName(group + "-" + System.nanoTime());
        p.start();
        s.onClose(p::shutdown);
        return p;
    }

    @Test
    void topicCreateListRouteStatusDelete() throws Exception {
        String topic = "AdmTopic" + impl();
        mqadmin("updateTopic", "-n", n, "-c", broker.clusterName(), "-t", topic, "-r", "3", "-w", "3")
            .expect("create topic to " + broker.addr() + " success");
        Net.await(() -> routeKnown(topic), 15, () -> "route of " + topic);
        mqadmin("topicList", "-n", n).expect(topic);
        mqadmin("topicRoute", "-n", n, "-t", topic)
            .expect("\"brokerName\":\"" + broker.brokerName + "\"", "\"readQueueNums\":3", "\"writeQueueNums\":3",
                broker.addr());

        SendResult r = producer("AdmTopicP" + impl()).send(new Message(topic, "a".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        String status = mqadmin("topicStatus", "-n", n, "-t", topic)
            .expect("#Broker Name", "#QID", "#Min Offset", "#Max Offset").output();
        long rows = status.lines().filter(l -> l.startsWith(broker.brokerName)).count();
        assertEquals(3, rows, status);
        assertTrue(status.lines().anyMatch(l -> l.startsWith(broker.brokerName)
            && l.trim().split("\\s+")[1].equals("" + r.getMessageQueue().getQueueId())
            && l.trim().split("\\s+")[3].equals("1")), "queue " + r.getMessageQueue().getQueueId()
            + " has max offset 1:\n" + status);

        mqadmin("deleteTopic", "-n", n, "-c", broker.clusterName(), "-t", topic)
            .expect("delete topic [" + topic + "] from cluster [" + broker.clusterName() + "] success");
        Net.await(() -> {
            try {
                return !admin().fetchAllTopicList().getTopicList().contains(topic);
            } catch (Exception e) {
                return false;
            }
        }, 20, () -> topic + " gone from the name server");
        assertFalse(mqadmin("topicList", "-n", n).output().lines().anyMatch(topic::equals), "topicList lists " + topic);
        assertFalse(admin().examineTopicConfig(broker.addr(), topic) != null
            && admin().examineTopicConfig(broker.addr(), topic).getTopicName() != null, "topic config deleted");
    }

    @Test
    void clusterListAndBrokerStatus() throws Exception {
        String list = mqadmin("clusterList", "-n", n).expect("#Cluster Name", broker.clusterName(),
            broker.brokerName, broker.addr()).output();
        assertTrue(list.lines().anyMatch(l -> l.startsWith(broker.clusterName()) && l.contains(broker.brokerName)
            && l.contains(broker.addr())), list);
        mqadmin("brokerStatus", "-n", n, "-b", broker.addr())
            .expect("brokerVersionDesc", "msgPutTotalTodayNow", "msgGetTotalTodayNow", "commitLogMaxOffset",
                "putTps", "runtime");
    }

    @Test
    void brokerConfigGetAndUpdate() throws Exception {
        String cfg = mqadmin("getBrokerConfig", "-n", n, "-b", broker.addr()).output();
        assertTrue(cfg.lines().anyMatch(l -> l.matches("brokerName\\s*=\\s*" + broker.brokerName + "\\s*")), cfg);
        assertTrue(cfg.lines().anyMatch(l -> l.matches("listenPort\\s*=\\s*" + broker.port + "\\s*")), cfg);
        mqadmin("updateBrokerConfig", "-n", n, "-b", broker.addr(), "-k", "fileReservedTime", "-v", "97")
            .expect("update broker config success, " + broker.addr());
        String after = mqadmin("getBrokerConfig", "-n", n, "-b", broker.addr()).output();
        assertTrue(after.lines().anyMatch(l -> l.matches("fileReservedTime\\s*=\\s*97\\s*")), after);
        assertEquals("97", admin().getBrokerConfig(broker.addr()).getProperty("fileReservedTime"));
    }

    @Test
    void subscriptionGroupUpdateAndDelete() throws Exception {
        String group = "AdmGroup" + impl();
        mqadmin("updateSubGroup", "-n", n, "-b", broker.addr(), "-g", group, "-r", "7", "-q", "2")
            .expect("create subscription group to " + broker.addr() + " success");
        SubscriptionGroupConfig g = admin().examineSubscriptionGroupConfig(broker.addr(), group);
        assertEquals(7, g.getRetryMaxTimes());
        assertEquals(2, g.getRetryQueueNums());
        mqadmin("deleteSubGroup", "-n", n, "-c", broker.clusterName(), "-g", group)
            .expect("delete subscription group [" + group + "] from broker [" + broker.addr() + "] in cluster ["
                + broker.clusterName() + "] success");
        assertThrows(Exception.class, () -> {
            SubscriptionGroupConfig gone = admin().examineSubscriptionGroupConfig(broker.addr(), group);
            if (gone == null || gone.getGroupName() == null) throw new Exception("gone");
        });
    }

    @Test
    void sendMessageThenQueryByIdKeyAndUniqueKey() throws Exception {
        String topic = "AdmQuery" + impl();
        createTopic(topic, 2);
        String out = mqadmin("sendMessage", "-n", n, "-t", topic, "-p", "hello-mqadmin", "-k", "adm-key-1",
            "-c", "TagA").expect("SEND_OK", broker.brokerName).output();
        Matcher m = Pattern.compile("SEND_OK\\s+([0-9A-F]{32,})").matcher(out);
        assertTrue(m.find(), "a message id after SEND_OK:\n" + out);
        String uniqKey = m.group(1);

        SendResult r = producer("AdmQueryP" + impl()).send(
            new Message(topic, "TagB", "adm-key-2", "second".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());

        // The index is built asynchronously by the broker: poll until the key is found.
        Net.await(() -> indexed(topic, "adm-key-1"), 20, () -> "adm-key-1 in the index");
        mqadmin("queryMsgByKey", "-n", n, "-t", topic, "-k", "adm-key-1").expect("#Message ID", uniqKey);
        String byUniq = mqadmin("queryMsgByUniqueKey", "-n", n, "-t", topic, "-i", uniqKey)
            .expect(topic, "TagA", "adm-key-1", uniqKey, "Store Host:          " + broker.addr()).output();
        assertEquals(Set.of("KEYS", "UNIQ_KEY", "CLUSTER", "TAGS"), propertyNames(byUniq), byUniq);
        String byId = mqadmin("queryMsgById", "-n", n, "-i", r.getOffsetMsgId())
            .expect(topic, "TagB", "adm-key-2", r.getOffsetMsgId()).output();
        assertEquals(Set.of("KEYS", "UNIQ_KEY", "CLUSTER", "TAGS"), propertyNames(byId), byId);
    }

    /** The names in the "Properties: {K=V, ...}" line (the stored message keeps no WAIT). */
    private static Set<String> propertyNames(String out) {
        Matcher m = Pattern.compile("(?m)^Properties:\\s+\\{(.*)\\}$").matcher(out);
        assertTrue(m.find(), "a Properties line:\n" + out);
        Set<String> names = new java.util.TreeSet<>();
        for (String kv : m.group(1).split(", ")) names.add(kv.substring(0, kv.indexOf('=')));
        return names;
    }

    /** The index is built asynchronously by the broker. */
    private boolean indexed(String topic, String key) {
        try {
            return !admin().queryMessage(topic, key, 32, 0, Long.MAX_VALUE).getMessageList().isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void consumerProgressAfterConsumeThenResetOffsetByTime() throws Exception {
        String topic = "AdmProgress" + impl();
        String group = "AdmProgressC" + impl();
        createTopic(topic, 2);
        long before = System.currentTimeMillis() - 60_000;
        DefaultMQProducer p = producer("AdmProgressP" + impl());
        for (int i = 0; i < 10; i++)
            assertEquals(SendStatus.SEND_OK, p.send(new Message(topic, ("m" + i).getBytes(StandardCharsets.UTF_8)))
                .getSendStatus());

        Set<String> got = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(n);
        c.setInstanceName(group + "-" + System.nanoTime());
        c.subscribe(topic, "*");
        c.setConsumeFromWhere(org.apache.rocketmq.common.consumer.ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            msgs.forEach(x -> got.add(new String(x.getBody(), StandardCharsets.UTF_8)));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            Net.await(() -> got.size() == 10, 30, () -> "10 consumed, got " + got);
        } finally {
            c.shutdown(); // commits the offsets
        }
        String progress = mqadmin("consumerProgress", "-n", n, "-g", group)
            .expect("#Topic", "#Broker Name", "#Broker Offset", "#Consumer Offset", topic).output();
        assertTrue(progress.contains("Diff Total: 0"), progress);

        mqadmin("resetOffsetByTime", "-n", n, "-g", group, "-t", topic, "-s", "" + before)
            .expect("#brokerName", "#queueId", "#brokerOffset", "#consumerOffset", "#rollbackOffset");
        String reset = mqadmin("consumerProgress", "-n", n, "-g", group).output();
        assertTrue(reset.contains("Diff Total: 10"), reset);
    }

    @Test
    void orderConfReachesTheBrokerThroughRegistration() throws Exception {
        String topic = "AdmOrder" + impl();
        createTopic(topic, 2);
        String conf = broker.brokerName + ":2";
        mqadmin("updateOrderConf", "-n", n, "-t", topic, "-v", conf, "-m", "put")
            .expect("update orderConf success. topic=[" + topic + "], orderConf=[" + conf + "]");
        mqadmin("updateOrderConf", "-n", n, "-t", topic, "-m", "get")
            .expect("get orderConf success. topic=[" + topic + "], orderConf=[" + conf + "]");
        // The route carries orderTopicConf only with the name server's orderMessageEnable=true.
        String route = mqadmin("topicRoute", "-n", n, "-t", topic).expect("\"readQueueNums\":2").output();
        assertFalse(route.contains("orderTopicConf"), route);
        // The broker learns the name server's order topics from a registration's answer;
        // creating a topic registers at once (the periodic one comes every 30 s).
        createTopic(topic + "T1", 1);
        Net.await(() -> topicOrder(topic), 40, () -> topic + " ordered on the broker");
        mqadmin("updateOrderConf", "-n", n, "-t", topic, "-m", "delete").expect("success");
        createTopic(topic + "T2", 1);
        Net.await(() -> !topicOrder(topic), 40, () -> topic + " no longer ordered on the broker");
    }

    private boolean topicOrder(String topic) {
        try {
            return admin().examineTopicConfig(broker.addr(), topic).isOrder();
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void kvConfigUpdateAndDelete() throws Exception {
        String space = "ADM_NS_" + impl();
        mqadmin("updateKvConfig", "-n", n, "-s", space, "-k", "k1", "-v", "v1")
            .expect("create or update kv config to namespace success");
        assertEquals("v1", admin().getKVConfig(space, "k1"));
        assertTrue(admin().getKVListByNamespace(space).getTable().containsKey("k1"));
        mqadmin("deleteKvConfig", "-n", n, "-s", space, "-k", "k1")
            .expect("delete kv config from namespace success");
        assertThrows(Exception.class, () -> admin().getKVConfig(space, "k1"));
    }

    @Test
    void topicPermAllocateConsumeStatsAndExpiredCommitLog() throws Exception {
        String topic = "AdmPerm" + impl();
        createTopic(topic, 2);
        mqadmin("updateTopicPerm", "-n", n, "-c", broker.clusterName(), "-t", topic, "-p", "4")
            .expect("update topic perm from 6 to 4 in " + broker.addr() + " success");
        assertEquals(4, admin().examineTopicConfig(broker.addr(), topic).getPerm());
        mqadmin("updateTopicPerm", "-n", n, "-b", broker.addr(), "-t", topic, "-p", "6")
            .expect("in " + broker.addr() + " success", "TopicConfig [topicName=" + topic + ", readQueueNums=2");
        assertEquals(6, admin().examineTopicConfig(broker.addr(), topic).getPerm());

        String alloc = mqadmin("allocateMQ", "-n", n, "-t", topic, "-i", "c1,c2").output();
        assertTrue(alloc.contains("{\"result\":{") && alloc.contains("\"c1\":[{\"brokerName\":\"" + broker.brokerName)
            && alloc.contains("\"c2\":["), alloc);

        mqadmin("brokerConsumeStats", "-n", n, "-b", broker.addr())
            .expect("#Topic", "#Group", "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime", "Diff Total:");
        mqadmin("deleteExpiredCommitLog", "-n", n, "-b", broker.addr()).expect("success");
    }
}
