package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/** DefaultMQAdminExt: topics and groups, consume stats, runtime info; queries by id and key. */
class AdminTest extends CompatBase {

    @Test
    void topicsAreCreatedListedAndDeleted() throws Exception {
        createTopic("JavaAdminTopic", 3);
        var route = admin.examineTopicRouteInfo("JavaAdminTopic");
        assertEquals(3, route.getQueueDatas().get(0).getWriteQueueNums());
        assertTrue(admin.fetchAllTopicList().getTopicList().contains("JavaAdminTopic"));

        admin.deleteTopicInBroker(Set.of(servers.brokerAddr), "JavaAdminTopic");
        deleteTopicInNameServer("JavaAdminTopic");
        await(() -> {
            try {
                return !admin.fetchAllTopicList().getTopicList().contains("JavaAdminTopic");
            } catch (Exception e) {
                return false;
            }
        }, 10, () -> "JavaAdminTopic gone from the topic list");
    }

    /**
     * DELETE_TOPIC_IN_NAMESRV for every cluster. 4.9.8 has only (addrs, topic, clusterName);
     * 5.x has (addrs, topic) and (addrs, clusterName, topic), the same types in the other order.
     */
    private static void deleteTopicInNameServer(String topic) throws Exception {
        Set<String> addrs = Set.of(servers.nameSrv);
        try {
            admin.getClass().getMethod("deleteTopicInNameServer", Set.class, String.class).invoke(admin, addrs, topic);
        } catch (NoSuchMethodException e) {
            admin.getClass().getMethod("deleteTopicInNameServer", Set.class, String.class, String.class)
                .invoke(admin, addrs, topic, null);
        }
    }

    @Test
    void groupsAreCreatedAndDeleted() throws Exception {
        createGroup("CG_java_admin", 5);
        var cfg = admin.examineSubscriptionGroupConfig(servers.brokerAddr, "CG_java_admin");
        assertEquals(5, cfg.getRetryMaxTimes());
        admin.deleteSubscriptionGroup(servers.brokerAddr, "CG_java_admin");
        var all = admin.getAllSubscriptionGroup(servers.brokerAddr, 3000);
        assertFalse(all.getSubscriptionGroupTable().containsKey("CG_java_admin"));
    }

    @Test
    void clusterInfoAndBrokerRuntimeInfoDescribeOurBroker() throws Exception {
        var cluster = admin.examineBrokerClusterInfo();
        assertEquals(Set.of(servers.brokerName), cluster.getClusterAddrTable().get(servers.cluster));
        assertEquals(servers.brokerAddr, cluster.getBrokerAddrTable().get(servers.brokerName).getBrokerAddrs().get(0L));
        var kv = admin.fetchBrokerRuntimeStats(servers.brokerAddr).getTable();
        for (String key : new String[] {"brokerVersion", "msgPutTotalTodayNow", "commitLogMaxOffset", "bootTimestamp"})
            assertNotNull(kv.get(key), "runtime info key " + key + " in " + kv.keySet());
    }

    @Test
    void consumeStatsShowBrokerAndConsumerOffsets() throws Exception {
        createTopic("JavaStatsTopic", 2);
        DefaultMQProducer p = producer("PG_java_stats");
        for (int i = 0; i < 6; i++) p.send(new Message("JavaStatsTopic", "T", ("s" + i).getBytes(StandardCharsets.UTF_8)));
        // The group reads both queues to their end and stores its offsets on the broker.
        var c = pullConsumer("CG_java_stats");
        for (MessageQueue mq : c.fetchSubscribeMessageQueues("JavaStatsTopic")) {
            c.updateConsumeOffset(mq, c.pull(mq, "*", 0, 32).getNextBeginOffset());
            c.getDefaultMQPullConsumerImpl().getOffsetStore().persist(mq);
        }
        await(() -> {
            try {
                var stats = admin.examineConsumeStats("CG_java_stats");
                long broker = stats.getOffsetTable().values().stream().mapToLong(w -> w.getBrokerOffset()).sum();
                long consumer = stats.getOffsetTable().values().stream().mapToLong(w -> w.getConsumerOffset()).sum();
                return broker == 6 && consumer == 6;
            } catch (Exception e) {
                return false;
            }
        }, 20, () -> "consume stats with 6 messages in and 6 consumed");
    }

    @Test
    void messagesAreFoundByOffsetIdUniqueKeyAndKey() throws Exception {
        createTopic("JavaQueryTopic", 2);
        DefaultMQProducer p = producer("PG_java_query");
        SendResult r = p.send(new Message("JavaQueryTopic", "T", "order-42", "find me".getBytes(StandardCharsets.UTF_8)));
        for (String id : new String[] {r.getOffsetMsgId(), r.getMsgId()}) {
            MessageExt m = admin.viewMessage("JavaQueryTopic", id);
            assertEquals("find me", new String(m.getBody(), StandardCharsets.UTF_8), "by id " + id);
        }
        QueryResult q = admin.queryMessage("JavaQueryTopic", "order-42", 32, 0, Long.MAX_VALUE);
        assertEquals(Set.of("find me"), q.getMessageList().stream()
            .map(m -> new String(m.getBody(), StandardCharsets.UTF_8)).collect(Collectors.toSet()));
        MQClientException none = assertThrows(MQClientException.class,
            () -> admin.queryMessage("JavaQueryTopic", "no-such-key", 32, 0, Long.MAX_VALUE));
        assertEquals(208, none.getResponseCode(), "NO_MESSAGE for a key nothing was sent with");
    }

    @Test
    void uniqueKeyQueryAndProducerViewMessageFindTheMessage() throws Exception {
        createTopic("JavaUniqTopic", 2);
        DefaultMQProducer p = producer("PG_java_uniq");
        SendResult r = p.send(new Message("JavaUniqTopic", "T", "by uniq key".getBytes(StandardCharsets.UTF_8)));
        SendResult other = p.send(new Message("JavaUniqTopic", "T", "not me".getBytes(StandardCharsets.UTF_8)));
        QueryResult q = p.getDefaultMQProducerImpl().getMqClientFactory().getMQAdminImpl()
            .queryMessageByUniqKey("JavaUniqTopic", r.getMsgId(), 32, 0, Long.MAX_VALUE);
        assertEquals(List.of(r.getMsgId()), q.getMessageList().stream().map(MessageExt::getMsgId).collect(Collectors.toList()));
        assertEquals("by uniq key", new String(q.getMessageList().get(0).getBody(), StandardCharsets.UTF_8));
        MessageExt v = p.viewMessage("JavaUniqTopic", other.getMsgId());
        assertEquals("not me", new String(v.getBody(), StandardCharsets.UTF_8));
        assertEquals(other.getOffsetMsgId(), ((org.apache.rocketmq.common.message.MessageClientExt) v).getOffsetMsgId());
    }
}
