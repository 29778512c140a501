package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.impl.consumer.PullResultExt;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.BrokerData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.junit.jupiter.api.Test;

/**
 * Master/slave across implementations, both directions: a SYNC_MASTER of one implementation
 * replicates to a SLAVE of the other over Apache's HA protocol (HA port = listenPort + 1,
 * the slave learns the master from the name server). Every message the client saw SEND_OK
 * for is read back from the slave after the master is killed with SIGKILL, by a client
 * that finds only brokerId 1 in the route. While the master is up and consumption lags,
 * the master's pull answers send the client to the slave (suggestWhichBrokerId =
 * whichBrokerWhenConsumeSlowly) as Apache's PullMessageProcessor does.
 */
class HaMasterSlaveTest {
    static final int N = 200;

    @Test
    void apacheMasterOurSlave() throws Exception {
        crossReplication(Impl.APACHE, Impl.OURS);
    }

    @Test
    void ourMasterApacheSlave() throws Exception {
        crossReplication(Impl.OURS, Impl.APACHE);
    }

    static void crossReplication(Impl masterImpl, Impl slaveImpl) throws Exception {
        String label = masterImpl + " master, " + slaveImpl + " slave";
        try (Servers s = new Servers("ha-" + masterImpl.name().toLowerCase())) {
            // The name server of the slave's implementation: the route after the kill comes from it.
            NameServer ns = s.nameServer(slaveImpl);
            String brokerName = "ha-group";
            Broker master = s.broker(masterImpl, brokerName, ns).set("brokerRole", "SYNC_MASTER")
                .set("slaveReadEnable", "true").set("accessMessageInMemoryMaxRatio", "0").start();
            Broker slave = s.broker(slaveImpl, brokerName, ns).brokerId(1).set("brokerRole", "SLAVE")
                .set("slaveReadEnable", "true").start();
            String topic = "HaTopic";
            ns.admin().createAndUpdateTopicConfig(master.addr(), new TopicConfig(topic, 2, 2, 6));
            // SlaveSynchronize brings the topic to the slave (every 10 s in both implementations).
            Net.await(() -> slaveHasTopic(ns, slave, topic), 40, () -> label + ": " + topic + " on the slave");

            DefaultMQProducer p = new DefaultMQProducer("ha-pg");
            p.setNamesrvAddr(ns.addr());
            p.setInstanceName("ha-pg-" + System.nanoTime());
            p.setSendMsgTimeout(10_000);
            p.start();
            Set<String> acked = new HashSet<>();
            try {
                // A SYNC_MASTER answers SLAVE_NOT_AVAILABLE until its slave has connected over HA.
                long deadline = System.currentTimeMillis() + 30_000;
                SendResult first = null;
                while (System.currentTimeMillis() < deadline) {
                    first = p.send(msg(topic, "warm-" + acked.size()));
                    if (first.getSendStatus() == SendStatus.SEND_OK) break;
                    Thread.sleep(500);
                }
                assertEquals(SendStatus.SEND_OK, first.getSendStatus(), label + ": " + first);
                acked.add(first.getMsgId());
                for (int i = 0; i < N; i++) {
                    SendResult r = p.send(msg(topic, "ha-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": message " + i + ": " + r);
                    acked.add(r.getMsgId());
                }
            } finally {
                p.shutdown();
            }

            DefaultMQPullConsumer lagging = pullConsumer(ns, "ha-lag-cg");
            try {
                suggestsTheSlaveWhenConsumptionLags(lagging, topic, label);
            } finally {
                lagging.shutdown();
            }

            master.kill();
            Net.await(() -> onlySlaveRouted(ns, topic), 30, () -> label + ": route without the master");
            // A client started now finds brokerId 1 only and reads everything from the slave.
            DefaultMQPullConsumer c = pullConsumer(ns, "ha-cg");
            try {
                Set<String> read = new HashSet<>();
                for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                    long offset = 0;
                    for (;;) {
                        PullResult r = c.pull(mq, "*", offset, 32);
                        if (r.getPullStatus() != PullStatus.FOUND) break;
                        for (MessageExt m : r.getMsgFoundList()) read.add(m.getMsgId());
                        offset = r.getNextBeginOffset();
                    }
                }
                Set<String> missing = new HashSet<>(acked);
                missing.removeAll(read);
                System.out.println("ha (" + label + "): acknowledged " + acked.size() + ", read from the slave "
                    + read.size() + ", missing " + missing.size());
                assertTrue(missing.isEmpty(), label + ": acknowledged but not on the slave: " + missing);
            } finally {
                c.shutdown();
            }
        }
    }

    static DefaultMQPullConsumer pullConsumer(NameServer ns, String group) throws Exception {
        DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
        c.setNamesrvAddr(ns.addr());
        c.setInstanceName(group + "-" + System.nanoTime());
        c.start();
        return c;
    }

    /**
     * With accessMessageInMemoryMaxRatio=0 on the master every pull lags "too far behind":
     * the answer suggests whichBrokerWhenConsumeSlowly (1), and the client's next pull of that
     * queue goes to the slave, which serves it.
     */
    static void suggestsTheSlaveWhenConsumptionLags(DefaultMQPullConsumer c, String topic, String label)
        throws Exception {
        MessageQueue mq = c.fetchSubscribeMessageQueues(topic).iterator().next();
        PullResult r = c.pull(mq, "*", 0, 1);
        assertEquals(PullStatus.FOUND, r.getPullStatus(), label);
        assertEquals(1L, ((PullResultExt) r).getSuggestWhichBrokerId(), label + ": master's suggestWhichBrokerId");
        assertEquals(1L, c.getDefaultMQPullConsumerImpl().getPullAPIWrapper().recalculatePullFromWhichNode(mq),
            label + ": the client's next pull goes to brokerId 1");
        PullResult fromSlave = c.pull(mq, "*", r.getNextBeginOffset(), 1);
        assertEquals(PullStatus.FOUND, fromSlave.getPullStatus(), label + ": pull served by the slave");
    }

    static Message msg(String topic, String key) {
        return new Message(topic, "t", key, key.getBytes(StandardCharsets.UTF_8));
    }

    static boolean slaveHasTopic(NameServer ns, Broker slave, String topic) {
        try {
            return ns.admin().getAllTopicConfig(slave.addr(), 5000).getTopicConfigTable().containsKey(topic);
        } catch (Exception e) {
            return false;
        }
    }

    static boolean onlySlaveRouted(NameServer ns, String topic) {
        try {
            TopicRouteData r = ns.admin().examineTopicRouteInfo(topic);
            List<BrokerData> bds = r.getBrokerDatas();
            return bds.size() == 1 && bds.get(0).getBrokerAddrs().keySet().equals(Set.of(1L));
        } catch (Exception e) {
            return false;
        }
    }
}
