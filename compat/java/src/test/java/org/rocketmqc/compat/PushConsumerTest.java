package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/** DefaultMQPushConsumer: concurrently and orderly, clustering and broadcasting, filters, retry, DLQ, delay. */
class PushConsumerTest extends CompatBase {

    private static DefaultMQPushConsumer consumer(String group, String instance) {
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer(group), instance);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        return closeLater(c, c::shutdown);
    }

    /** Records bodies per consumer; always CONSUME_SUCCESS. */
    private static MessageListenerConcurrently recorder(List<String> into) {
        return (msgs, ctx) -> {
            for (MessageExt m : msgs) into.add(new String(m.getBody(), StandardCharsets.UTF_8));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        };
    }

    /** Queues of topic the consumer's rebalance gave it (its retry topic queue not counted). */
    private static long ownedQueues(DefaultMQPushConsumer c, String topic) {
        return c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet().stream()
            .filter(mq -> mq.getTopic().equals(topic)).count();
    }

    private static List<String> send(DefaultMQProducer p, String topic, String tag, String prefix, int n) throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String body = prefix + "-" + i;
            p.send(new Message(topic, tag, body.getBytes(StandardCharsets.UTF_8)));
            bodies.add(body);
        }
        return bodies;
    }

    private static List<String> sorted(List<String> l) {
        List<String> s = new ArrayList<>(l);
        Collections.sort(s);
        return s;
    }

    @Test
    void clusteringSplitsTheQueuesAndDeliversEveryMessageOnce() throws Exception {
        createTopic("JavaClusterTopic", 4);
        List<String> a = new CopyOnWriteArrayList<>(), b = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c1 = consumer("CG_java_cluster", "c1"), c2 = consumer("CG_java_cluster", "c2");
        c1.subscribe("JavaClusterTopic", "*");
        c2.subscribe("JavaClusterTopic", "*");
        c1.registerMessageListener(recorder(a));
        c2.registerMessageListener(recorder(b));
        c1.start();
        c2.start();
        // Both see each other (NOTIFY_CONSUMER_IDS_CHANGED + GET_CONSUMER_LIST_BY_GROUP) before sending.
        await(() -> ownedQueues(c1, "JavaClusterTopic") == 2 && ownedQueues(c2, "JavaClusterTopic") == 2,
            30, () -> "2 + 2 queues");
        List<String> sent = send(producer("PG_java_cluster"), "JavaClusterTopic", "T", "cluster", 40);
        await(() -> a.size() + b.size() >= 40, 30, () -> "40 deliveries, got " + (a.size() + b.size()));
        Thread.sleep(1000);
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        assertEquals(sorted(sent), sorted(all), "every message once over the two members");
        assertTrue(!a.isEmpty() && !b.isEmpty(), "both members consumed");
    }

    @Test
    void broadcastingGivesEveryMemberEveryMessage() throws Exception {
        createTopic("JavaBroadcastTopic", 4);
        List<String> a = new CopyOnWriteArrayList<>(), b = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c1 = consumer("CG_java_bcast", "b1"), c2 = consumer("CG_java_bcast", "b2");
        for (DefaultMQPushConsumer c : List.of(c1, c2)) {
            setEnum(c, "setMessageModel", "BROADCASTING");
            c.subscribe("JavaBroadcastTopic", "*");
        }
        c1.registerMessageListener(recorder(a));
        c2.registerMessageListener(recorder(b));
        c1.start();
        c2.start();
        List<String> sent = send(producer("PG_java_bcast"), "JavaBroadcastTopic", "T", "bcast", 12);
        await(() -> a.size() >= 12 && b.size() >= 12, 30, () -> "12 each, got " + a.size() + " and " + b.size());
        assertEquals(sorted(sent), sorted(a));
        assertEquals(sorted(sent), sorted(b));
    }

    @Test
    void orderlyConsumptionKeepsSendOrderPerQueue() throws Exception {
        createTopic("JavaOrderlyTopic", 4);
        DefaultMQProducer p = producer("PG_java_orderly");
        Map<Integer, List<String>> sent = new TreeMap<>();
        for (int i = 0; i < 40; i++) {
            int order = i % 4;
            String body = "order-" + order + "-step-" + i;
            p.send(new Message("JavaOrderlyTopic", "T", body.getBytes(StandardCharsets.UTF_8)),
                (mqs, m, arg) -> mqs.get((Integer) arg), order);
            sent.computeIfAbsent(order, k -> new ArrayList<>()).add(body);
        }
        Map<Integer, List<String>> got = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = consumer("CG_java_orderly", "o1");
        c.subscribe("JavaOrderlyTopic", "*");
        c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            for (MessageExt m : msgs)
                got.computeIfAbsent(m.getQueueId(), k -> new CopyOnWriteArrayList<>())
                    .add(new String(m.getBody(), StandardCharsets.UTF_8));
            return ConsumeOrderlyStatus.SUCCESS;
        });
        c.start(); // LOCK_BATCH_MQ must succeed for the orderly service to consume at all
        await(() -> got.values().stream().mapToInt(List::size).sum() >= 40, 30, () -> "40 ordered deliveries, got " + got);
        assertEquals(sent, new TreeMap<>(got));
    }

    @Test
    void tagSelectorDeliversOnlyMatchingTags() throws Exception {
        createTopic("JavaTagTopic", 2);
        DefaultMQProducer p = producer("PG_java_tag");
        List<String> want = send(p, "JavaTagTopic", "TagA", "a", 5);
        want.addAll(send(p, "JavaTagTopic", "TagC", "c", 5));
        send(p, "JavaTagTopic", "TagB", "b", 5);
        List<String> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = consumer("CG_java_tag", "t1");
        c.subscribe("JavaTagTopic", "TagA || TagC");
        c.registerMessageListener(recorder(got));
        c.start();
        await(() -> got.size() >= 10, 30, () -> "10 TagA/TagC messages, got " + got);
        Thread.sleep(500);
        assertEquals(sorted(want), sorted(got));
    }

    @Test
    void sql92SelectorFiltersOnUserProperties() throws Exception {
        createTopic("JavaSqlTopic", 2);
        DefaultMQProducer p = producer("PG_java_sql");
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Message m = new Message("JavaSqlTopic", i % 2 == 0 ? "even" : "odd", ("sql-" + i).getBytes(StandardCharsets.UTF_8));
            m.putUserProperty("a", String.valueOf(i));
            p.send(m);
            if (i >= 5 && i % 2 == 0) want.add("sql-" + i);
        }
        List<String> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = consumer("CG_java_sql", "s1");
        c.subscribe("JavaSqlTopic", MessageSelector.bySql("a >= 5 AND TAGS = 'even'"));
        c.registerMessageListener(recorder(got));
        c.start();
        await(() -> got.size() >= want.size(), 30, () -> want + ", got " + got);
        Thread.sleep(500);
        assertEquals(sorted(want), sorted(got));
    }

    @Test
    void reconsumeLaterIsRedeliveredOnceThenSucceeds() throws Exception {
        createTopic("JavaRetryOkTopic", 2);
        Map<String, List<Integer>> attempts = new ConcurrentHashMap<>();
        List<String> topics = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = consumer("CG_java_retry_ok", "ro1");
        c.subscribe("JavaRetryOkTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            ConsumeConcurrentlyStatus status = ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            for (MessageExt m : msgs) {
                attempts.computeIfAbsent(new String(m.getBody(), StandardCharsets.UTF_8), k -> new CopyOnWriteArrayList<>())
                    .add(m.getReconsumeTimes());
                topics.add(m.getTopic());
                if (m.getReconsumeTimes() == 0) status = ConsumeConcurrentlyStatus.RECONSUME_LATER;
            }
            return status;
        });
        c.start();
        List<String> sent = send(producer("PG_java_retry_ok"), "JavaRetryOkTopic", "T", "again", 4);
        await(() -> attempts.size() == 4 && attempts.values().stream().allMatch(l -> l.contains(1)), 30,
            () -> "each message again with reconsumeTimes 1, got " + attempts);
        Thread.sleep(2000); // a third delivery would show by now: retries wait 1 s here
        for (String body : sent)
            assertEquals(List.of(0, 1), attempts.get(body), "deliveries of " + body);
        assertTrue(topics.stream().allMatch("JavaRetryOkTopic"::equals),
            "the client restores the original topic on redelivery: " + topics);
    }

    @Test
    void failedConsumptionIsRetriedThenMovedToTheDlq() throws Exception {
        createTopic("JavaRetryTopic", 1);
        createGroup("CG_java_retry", 2);
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = consumer("CG_java_retry", "r1");
        c.setMaxReconsumeTimes(2);
        c.subscribe("JavaRetryTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) attempts.add(m.getReconsumeTimes());
            return ConsumeConcurrentlyStatus.RECONSUME_LATER;
        });
        c.start();
        SendResult r = producer("PG_java_retry").send(new Message("JavaRetryTopic", "T", "key-retry", "doomed".getBytes(StandardCharsets.UTF_8)));
        await(() -> attempts.size() >= 3, 60, () -> "first delivery + 2 retries, got reconsumeTimes " + attempts);
        assertEquals(List.of(0, 1, 2), new ArrayList<>(attempts).subList(0, 3));

        var dlq = pullConsumer("CG_java_dlq_reader");
        MessageQueue mq = new MessageQueue("%DLQ%CG_java_retry", servers.brokerName, 0);
        List<MessageExt> dead = new ArrayList<>();
        await(() -> {
            try {
                PullResult p = dlq.pull(mq, "*", 0, 32);
                if (p.getPullStatus() == PullStatus.FOUND) dead.addAll(p.getMsgFoundList());
            } catch (Exception e) {
                return false; // the DLQ topic appears only after the last failure
            }
            return !dead.isEmpty();
        }, 30, () -> "a message in %DLQ%CG_java_retry");
        assertEquals(3, attempts.size(), "no delivery after the last retry: " + attempts);
        MessageExt d = dead.get(0);
        assertEquals("doomed", new String(d.getBody(), StandardCharsets.UTF_8));
        assertEquals(r.getMsgId(), d.getMsgId());
        assertEquals("JavaRetryTopic", d.getProperty("RETRY_TOPIC"));
    }

    @Test
    void delayLevelHoldsTheMessageBackForItsDelay() throws Exception {
        createTopic("JavaDelayTopic", 1);
        List<Long> latencies = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = consumer("CG_java_delay", "d1");
        c.subscribe("JavaDelayTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) latencies.add(System.currentTimeMillis() - m.getBornTimestamp());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        Message m = new Message("JavaDelayTopic", "T", "later".getBytes(StandardCharsets.UTF_8));
        m.setDelayTimeLevel(2); // "2s" in Servers.DELAY_LEVELS
        producer("PG_java_delay").send(m);
        await(() -> !latencies.isEmpty(), 30, () -> "the delayed message");
        assertTrue(latencies.get(0) >= 1900, "delivered after >= 2 s, took " + latencies.get(0) + " ms");
        assertTrue(latencies.get(0) < 10_000, "delivered well before 10 s, took " + latencies.get(0) + " ms");
    }
}
