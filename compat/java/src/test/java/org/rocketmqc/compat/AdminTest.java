package org.rocketmqc.compat;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.rocketmq.client.QueryResult;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.Test;

/** DefaultMQAdminExt: topics and groups, consume stats, runtime info; queries by id and key. */
public class AdminTest extends CompatBase {

    @Test
    public void topicsAreCreatedListedAndDeleted() throws Exception {
        createTopic("JavaAdminTopic", 3);
        var route = admin.examineTopicRouteInfo("JavaAdminTopic");
        assertEquals(3, route.getQueueDatas().get(0).getWriteQueueNums());
        assertTrue(admin.fetchAllTopicList().getTopicList().contains("JavaAdminTopic"));

        admin.deleteTopicInBroker(Set.of(servers.brokerAddr), "JavaAdminTopic");
        admin.deleteTopicInNameServer(Set.of(servers.nameSrv), "JavaAdminTopic");
        await(() -> {
            try {
                return !admin.fetchAllTopicList().getTopicList().contains("JavaAdminTopic");
            } catch (Exception e) {
                return false;
            }
        }, 10, () -> "JavaAdminTopic gone from the topic list");
    }

    @Test
    public void groupsAreCreatedAndDeleted() throws Exception {
        createGroup("CG_java_admin", 5);
        var cfg = admin.examineSubscriptionGroupConfig(servers.brokerAddr, "CG_java_admin");
        assertEquals(5, cfg.getRetryMaxTimes());
        admin.deleteSubscriptionGroup(servers.brokerAddr, "CG_java_admin");
        var all = admin.getAllSubscriptionGroup(servers.brokerAddr, 3000);
        assertFalse(all.getSubscriptionGroupTable().containsKey("CG_java_admin"));
    }

    @Test
    public void clusterInfoAndBrokerRuntimeInfoDescribeOurBroker() throws Exception {
        var cluster = admin.examineBrokerClusterInfo();
        assertEquals(Set.of(servers.brokerName), cluster.getClusterAddrTable().get(servers.cluster));
        assertEquals(servers.brokerAddr, cluster.getBrokerAddrTable().get(servers.brokerName).getBrokerAddrs().get(0L));
        var kv = admin.fetchBrokerRuntimeStats(servers.brokerAddr).getTable();
        for (String key : new String[] {"brokerVersion", "msgPutTotalTodayNow", "commitLogMaxOffset", "bootTimestamp"})
            assertNotNull("runtime info key " + key + " in " + kv.keySet(), kv.get(key));
    }

    @Test
    public void consumeStatsShowBrokerAndConsumerOffsets() throws Exception {
        createTopic("JavaStatsTopic", 2);
        DefaultMQProducer p = producer("PG_java_stats");
        for (int i = 0; i < 6; i++) p.send(new Message("JavaStatsTopic", "T", ("s" + i).getBytes(StandardCharsets.UTF_8)));
        // Commit offsets for the group through a lite pull consumer reading everything.
        Drain.drainAndCommit("CG_java_stats", "JavaStatsTopic", 6);
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
    public void messagesAreFoundByOffsetIdUniqueKeyAndKey() throws Exception {
        createTopic("JavaQueryTopic", 2);
        DefaultMQProducer p = producer("PG_java_query");
        SendResult r = p.send(new Message("JavaQueryTopic", "T", "order-42", "find me".getBytes(StandardCharsets.UTF_8)));
        for (String id : new String[] {r.getOffsetMsgId(), r.getMsgId()}) {
            MessageExt m = admin.viewMessage("JavaQueryTopic", id);
            assertEquals("by id " + id, "find me", new String(m.getBody(), StandardCharsets.UTF_8));
        }
        QueryResult q = admin.queryMessage("JavaQueryTopic", "order-42", 32, 0, Long.MAX_VALUE);
        assertEquals(Set.of("find me"), q.getMessageList().stream()
            .map(m -> new String(m.getBody(), StandardCharsets.UTF_8)).collect(Collectors.toSet()));
    }
}
