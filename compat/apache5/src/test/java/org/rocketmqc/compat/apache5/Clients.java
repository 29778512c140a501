package org.rocketmqc.compat.apache5;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.protocol.subscription.SubscriptionGroupConfig;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Net;

/** The 5.3.3 clients as the tests use them: a producer, topics and groups, reading a topic whole. */
public final class Clients {
    private Clients() {
    }

    /** A started producer of GROUP on the name server (shut it down). */
    public static DefaultMQProducer producer(NameServer ns, String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group);
        p.setNamesrvAddr(ns.addr());
        p.setInstanceName(group + "-" + System.nanoTime());
        p.start();
        return p;
    }

    /** Creates TOPIC with QUEUES read/write queues on the broker and waits until its route is known. */
    public static void createTopic(NameServer ns, Broker b, String topic, int queues) throws Exception {
        ns.admin().createAndUpdateTopicConfig(b.addr(), new TopicConfig(topic, queues, queues, 6));
        Net.await(() -> {
            try {
                return ns.admin().examineTopicRouteInfo(topic).getQueueDatas().stream()
                    .anyMatch(q -> q.getWriteQueueNums() == queues);
            } catch (Exception e) {
                return false;
            }
        }, 20, () -> "route of " + topic);
    }

    /** Creates (or updates) the subscription group on the broker. */
    public static void createGroup(NameServer ns, Broker b, String group) throws Exception {
        SubscriptionGroupConfig g = new SubscriptionGroupConfig();
        g.setGroupName(group);
        ns.admin().createAndUpdateSubscriptionGroupConfig(b.addr(), g);
    }

    /** A message's body as text. */
    public static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** A started pull consumer of GROUP (shut it down). */
    public static DefaultMQPullConsumer puller(NameServer ns, String group) throws Exception {
        DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
        c.setNamesrvAddr(ns.addr());
        c.setInstanceName("reader-" + System.nanoTime());
        c.start();
        return c;
    }

    /** Every message in TOPIC (all queues, from their min offset), by UNIQ_KEY. */
    public static Map<String, MessageExt> readAll(NameServer ns, String topic) throws Exception {
        Map<String, MessageExt> got = new HashMap<>();
        DefaultMQPullConsumer c = puller(ns, "Reader" + System.nanoTime() % 1_000_000);
        try {
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long offset = c.minOffset(mq);
                while (true) {
                    PullResult r = c.pull(mq, "*", offset, 32);
                    if (r.getPullStatus() != PullStatus.FOUND) break;
                    for (MessageExt m : r.getMsgFoundList()) got.put(m.getMsgId(), m);
                    offset = r.getNextBeginOffset();
                }
            }
        } finally {
            c.shutdown();
        }
        return got;
    }

    /** Reads TOPIC until it holds at least N messages or SECONDS pass; returns what it holds. */
    public static Map<String, MessageExt> awaitMessages(NameServer ns, String topic, int n, int seconds)
        throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, MessageExt> got = Map.of();
        while (System.nanoTime() < deadline) {
            try {
                got = readAll(ns, topic);
            } catch (Exception e) {
                // the route may still name a broker that just stopped
            }
            if (got.size() >= n) break;
            Thread.sleep(500);
        }
        return got;
    }

    /** Records stored in TOPIC (max - min offset over its queues): a message delivered twice counts twice. */
    public static int countRecords(NameServer ns, String topic) throws Exception {
        DefaultMQPullConsumer c = puller(ns, "Reader" + System.nanoTime() % 1_000_000);
        try {
            long n = 0;
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) n += c.maxOffset(mq) - c.minOffset(mq);
            return (int) n;
        } finally {
            c.shutdown();
        }
    }
}
