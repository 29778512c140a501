package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.store.RemoteBrokerOffsetStore;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.subscription.SubscriptionGroupConfig;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A store directory written by one implementation's broker is read back by the other's:
 * every acknowledged message (single and batch sends) is pulled again with its body, keys,
 * tags, properties, queue offset and commitlog offset; config/topics.json,
 * subscriptionGroup.json and consumerOffset.json carry the topic, group and committed
 * offsets across. After a clean stop the store goes back to the first implementation too
 * (what the reader rewrote must still be readable by the writer). After SIGKILL the reader
 * recovers the store as an abnormal shutdown.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreRoundTripTest {
    private static final int QUEUES = 4;
    private static final int SINGLE = 160;
    private static final int BATCHES = 4;
    private static final int BATCH_SIZE = 10;

    private Servers s;
    private NameServer ns;

    @BeforeAll
    void start() throws Exception {
        s = new Servers("store");
        ns = s.nameServer(Impl.OURS);
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    @Test
    void apacheWritesOursReadsAndBack() throws Exception {
        roundTrip(Impl.APACHE, Impl.OURS, false);
    }

    @Test
    void oursWritesApacheReadsAndBack() throws Exception {
        roundTrip(Impl.OURS, Impl.APACHE, false);
    }

    @Test
    void apacheKilledOursRecovers() throws Exception {
        roundTrip(Impl.APACHE, Impl.OURS, true);
    }

    @Test
    void oursKilledApacheRecovers() throws Exception {
        roundTrip(Impl.OURS, Impl.APACHE, true);
    }

    /** What the writer acknowledged, by UNIQ_KEY. */
    private record Sent(Message msg, SendResult result) {
    }

    private void roundTrip(Impl writerImpl, Impl readerImpl, boolean kill) throws Exception {
        String tag = writerImpl.name().charAt(0) + "" + readerImpl.name().charAt(0) + (kill ? "k" : "");
        String brokerName = "store-" + tag;
        String topic = "StoreTopic" + tag;
        String group = "StoreGroup" + tag;
        DefaultMQAdminExt admin = ns.admin();

        Broker writer = s.broker(writerImpl, brokerName, ns).start();
        TopicConfig tc = new TopicConfig(topic, QUEUES, QUEUES, 6);
        admin.createAndUpdateTopicConfig(writer.addr(), tc);
        SubscriptionGroupConfig gc = new SubscriptionGroupConfig();
        gc.setGroupName(group);
        gc.setRetryMaxTimes(5);
        gc.setConsumeBroadcastEnable(true);
        admin.createAndUpdateSubscriptionGroupConfig(writer.addr(), gc);
        Net.await(() -> queuesKnown(admin, topic), 20, () -> "route of " + topic);

        Map<String, Sent> sent = send(topic, tag);
        Map<MessageQueue, Long> committed = commitHalf(writer, topic, group);

        if (kill && writerImpl == Impl.OURS) {
            /*
             * Apache's broker rewrites topics.json / subscriptionGroup.json before it answers a
             * change; ours journals the change first (replayed by our broker after a crash) and
             * rewrites the whole file a moment later (src/meta/persister.c), so that a burst of
             * changes to a large table costs a bounded number of rewrites. Apache reads only the
             * files: they must hold both changes within seconds, and then survive the kill.
             */
            Net.await(() -> configHolds(writer, "topics.json", topic)
                && configHolds(writer, "subscriptionGroup.json", group), 10,
                () -> "our config files to hold " + topic + " and " + group);
        }
        if (kill) writer.kill();
        else writer.stop();
        if (!kill) {
            String topics = Files.readString(writer.storeDir().resolve("config/topics.json"));
            assertTrue(topics.contains("\"" + topic + "\""), "topics.json written by " + writerImpl + ": " + topics);
            String offsets = Files.readString(writer.storeDir().resolve("config/consumerOffset.json"));
            assertTrue(offsets.contains(topic + "@" + group), "consumerOffset.json written by " + writerImpl + ": " + offsets);
        }

        Broker reader = s.broker(readerImpl, brokerName, ns).storeDir(writer.storeDir()).start();
        check(admin, reader, topic, group, sent, kill ? null : committed, tag);
        if (kill) {
            reader.stop();
            return;
        }
        reader.stop();
        Broker back = s.broker(writerImpl, brokerName, ns).storeDir(writer.storeDir()).start();
        check(admin, back, topic, group, sent, committed, tag);
        back.stop();
    }

    private static boolean queuesKnown(DefaultMQAdminExt admin, String topic) {
        try {
            return admin.examineTopicRouteInfo(topic).getQueueDatas().stream()
                .anyMatch(q -> q.getWriteQueueNums() == QUEUES);
        } catch (Exception e) {
            return false;
        }
    }

    private Map<String, Sent> send(String topic, String tag) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("StoreP" + tag);
        p.setNamesrvAddr(ns.addr());
        p.setInstanceName("StoreP" + tag + System.nanoTime());
        p.start();
        Map<String, Sent> sent = new HashMap<>();
        try {
            for (int i = 0; i < SINGLE; i++) {
                Message m = message(topic, i);
                SendResult r = p.send(m);
                assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                sent.put(r.getMsgId(), new Sent(m, r));
            }
            for (int b = 0; b < BATCHES; b++) {
                List<Message> batch = new ArrayList<>();
                for (int i = 0; i < BATCH_SIZE; i++) batch.add(message(topic, 1000 + b * BATCH_SIZE + i));
                SendResult r = p.send(batch, p.fetchPublishMessageQueues(topic).get(b % QUEUES));
                assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                String[] ids = r.getMsgId().split(",");
                assertEquals(BATCH_SIZE, ids.length);
                for (int i = 0; i < BATCH_SIZE; i++) sent.put(ids[i], new Sent(batch.get(i), r));
            }
        } finally {
            p.shutdown();
        }
        return sent;
    }

    /** Bodies of several sizes, a key pair, a tag and a user property. */
    private static Message message(String topic, int i) {
        StringBuilder body = new StringBuilder("body-" + i + "-");
        for (int k = 0; k < (i * 37) % 1500; k++) body.append((char) ('a' + (i + k) % 26));
        Message m = new Message(topic, "Tag" + (i % 3), "key-" + i + " alt-" + i, body.toString()
            .getBytes(StandardCharsets.UTF_8));
        m.putUserProperty("idx", Integer.toString(i));
        return m;
    }

    /** Commits, per queue, half of the queue's messages for group and returns what was committed. */
    private Map<MessageQueue, Long> commitHalf(Broker writer, String topic, String group) throws Exception {
        DefaultMQPullConsumer c = pullConsumer(group);
        try {
            Map<MessageQueue, Long> committed = new TreeMap<>();
            RemoteBrokerOffsetStore store = (RemoteBrokerOffsetStore) c.getOffsetStore();
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long half = c.maxOffset(mq) / 2;
                store.updateConsumeOffsetToBroker(mq, half, false);
                committed.put(mq, half);
            }
            for (Map.Entry<MessageQueue, Long> e : committed.entrySet())
                assertEquals(e.getValue(), c.fetchConsumeOffset(e.getKey(), true),
                    "committed on the writer " + writer.impl + " for " + e.getKey());
            return committed;
        } finally {
            c.shutdown();
        }
    }

    private static boolean configHolds(Broker broker, String file, String name) {
        try {
            return Files.readString(broker.storeDir().resolve("config/" + file)).contains("\"" + name + "\"");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private DefaultMQPullConsumer pullConsumer(String group) throws Exception {
        DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
        c.setNamesrvAddr(ns.addr());
        c.setInstanceName(group + "-" + System.nanoTime());
        c.start();
        return c;
    }

    private void check(DefaultMQAdminExt admin, Broker reader, String topic, String group, Map<String, Sent> sent,
        Map<MessageQueue, Long> committed, String tag) throws Exception {
        String who = reader.impl + " reading " + tag;
        TopicConfig tc = admin.examineTopicConfig(reader.addr(), topic);
        assertNotNull(tc, who + ": topic config");
        assertEquals(QUEUES, tc.getReadQueueNums(), who + ": read queues from topics.json");
        assertEquals(QUEUES, tc.getWriteQueueNums(), who + ": write queues from topics.json");
        Net.await(() -> queuesKnown(admin, topic), 20, () -> "route of " + topic + " from " + reader.name);
        SubscriptionGroupConfig g = admin.examineSubscriptionGroupConfig(reader.addr(), group);
        assertEquals(5, g.getRetryMaxTimes(), who + ": subscriptionGroup.json");
        assertTrue(g.isConsumeBroadcastEnable(), who + ": subscriptionGroup.json");

        if (committed != null) {
            DefaultMQPullConsumer offsets = pullConsumer(group);
            try {
                for (Map.Entry<MessageQueue, Long> e : committed.entrySet())
                    assertEquals(e.getValue(), offsets.fetchConsumeOffset(e.getKey(), true),
                        who + ": consumerOffset.json for " + e.getKey());
            } finally {
                offsets.shutdown();
            }
        }

        Map<String, MessageExt> got = new HashMap<>();
        DefaultMQPullConsumer c = pullConsumer("StoreReader" + tag + System.nanoTime() % 100000);
        try {
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long offset = c.minOffset(mq);
                assertEquals(0, offset, who + ": min offset of " + mq);
                while (true) {
                    PullResult r = c.pull(mq, "*", offset, 32);
                    if (r.getPullStatus() != PullStatus.FOUND) break;
                    for (MessageExt m : r.getMsgFoundList()) {
                        assertEquals(offset, m.getQueueOffset(), who + ": queue offsets are dense in " + mq);
                        offset++;
                        got.put(m.getProperty("UNIQ_KEY"), m);
                    }
                }
                assertEquals(c.maxOffset(mq), offset, who + ": pulled up to the max offset of " + mq);
            }
        } finally {
            c.shutdown();
        }
        assertEquals(sent.size(), got.size(), who + ": messages read back");
        for (Map.Entry<String, Sent> e : sent.entrySet()) {
            MessageExt m = got.get(e.getKey());
            assertNotNull(m, who + ": acknowledged message " + e.getKey() + " missing");
            Message orig = e.getValue().msg();
            SendResult r = e.getValue().result();
            assertArrayEquals(orig.getBody(), m.getBody(), who + ": body of " + e.getKey());
            assertEquals(orig.getKeys(), m.getKeys(), who + ": keys of " + e.getKey());
            assertEquals(orig.getTags(), m.getTags(), who + ": tags of " + e.getKey());
            assertEquals(orig.getUserProperty("idx"), m.getUserProperty("idx"), who + ": user property");
            assertEquals(r.getMessageQueue().getQueueId(), m.getQueueId(), who + ": queue of " + e.getKey());
            if (!r.getMsgId().contains(",") && r.getOffsetMsgId() != null && !r.getOffsetMsgId().contains(",")) {
                assertEquals(r.getQueueOffset(), m.getQueueOffset(), who + ": queue offset of " + e.getKey());
                assertEquals(MessageDecoder.decodeMessageId(r.getOffsetMsgId()).getOffset(), m.getCommitLogOffset(),
                    who + ": commitlog offset of " + e.getKey());
            }
        }

        // The reader appends after what it recovered.
        DefaultMQProducer p = new DefaultMQProducer("StoreAfter" + tag);
        p.setNamesrvAddr(ns.addr());
        p.setInstanceName("StoreAfter" + tag + System.nanoTime());
        p.start();
        try {
            MessageQueue mq = new MessageQueue(topic, reader.brokerName, 1);
            long before = p.maxOffset(mq); // a fresh client: the admin caches the previous broker address
            SendResult r = p.send(message(topic, 9999), mq);
            assertEquals(SendStatus.SEND_OK, r.getSendStatus());
            assertEquals(before, r.getQueueOffset(), who + ": next queue offset");
            sent.put(r.getMsgId(), new Sent(message(topic, 9999), r));
        } finally {
            p.shutdown();
        }
    }
}
