package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListener;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One cluster, two implementations: Apache's name server, an Apache broker (broker-j) and
 * one of ours (broker-c) in the same cluster, driven by the official 4.9.8 client. Every
 * topic has queues on both brokers, so each scenario crosses both: sends spread over both,
 * clustering consumers share them, orderly, delay levels, retry, transactions.
 */
class MixedClusterTest {
    static final String APACHE = "broker-j", OURS = "broker-c";
    static Servers servers;
    static NameServer ns;

    @BeforeAll
    static void start() throws Exception {
        servers = new Servers("mixed");
        ns = servers.nameServer(Impl.APACHE);
        // Transaction checks every 3 s instead of 60 s: the check-back case stays short.
        servers.broker(Impl.APACHE, APACHE, ns).set("transactionCheckInterval", "3000").start();
        servers.broker(Impl.OURS, OURS, ns).set("transactionCheckInterval", "3000").start();
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    /** TOPIC with `queues` queues on each broker, once the name server routes both. */
    static void createTopic(String topic, int queues) throws Exception {
        for (var bd : ns.admin().examineBrokerClusterInfo().getBrokerAddrTable().values())
            ns.admin().createAndUpdateTopicConfig(bd.selectBrokerAddr(), new TopicConfig(topic, queues, queues, 6));
        Net.await(() -> route(topic) != null && route(topic).getQueueDatas().size() == 2, 30,
            () -> topic + " routed on both brokers: " + route(topic));
    }

    static TopicRouteData route(String topic) {
        try {
            return ns.admin().examineTopicRouteInfo(topic);
        } catch (Exception e) {
            return null;
        }
    }

    static <T extends DefaultMQProducer> T start(T p) throws Exception {
        p.setNamesrvAddr(ns.addr());
        p.setInstanceName(p.getProducerGroup() + "-" + System.nanoTime());
        p.setSendMsgTimeout(10_000);
        p.start();
        return p;
    }

    static DefaultMQPushConsumer consumer(String group, String topic, MessageListener l) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(ns.addr());
        c.setInstanceName(group + "-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.setMessageListener(l);
        c.start();
        return c;
    }

    /** Sends M to the first queue of BROKER in the producer's route. */
    static SendResult sendTo(DefaultMQProducer p, Message m, String broker) throws Exception {
        return p.send(m, (mqs, msg, arg) -> mqs.stream().filter(q -> q.getBrokerName().equals(broker))
            .findFirst().orElseThrow(), null);
    }

    static Message msg(String topic, String key) {
        return new Message(topic, "t", key, key.getBytes(StandardCharsets.UTF_8));
    }

    /** The queues of TOPIC a push consumer pulls now (its rebalance result). */
    static List<MessageQueue> held(DefaultMQPushConsumer c, String topic) {
        return c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet().stream()
            .filter(q -> q.getTopic().equals(topic)).sorted().toList();
    }

    @Test
    void sendsSpreadOverBothBrokersAndTwoClusteringConsumersShareThem() throws Exception {
        String topic = "MixSpread", group = "mix-spread-cg";
        createTopic(topic, 4);
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        Map<String, Set<String>> byConsumer = new ConcurrentHashMap<>();
        List<DefaultMQPushConsumer> cs = new ArrayList<>();
        for (String name : new String[] {"c1", "c2"}) {
            byConsumer.put(name, ConcurrentHashMap.newKeySet());
            cs.add(consumer(group, topic, (MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    seen.merge(m.getKeys(), 1, Integer::sum);
                    byConsumer.get(name).add(ctx.getMessageQueue().getBrokerName());
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            }));
        }
        DefaultMQProducer p = start(new DefaultMQProducer("mix-spread-pg"));
        try {
            // Both consumers hold their share of the 8 queues before anything is sent.
            Net.await(() -> cs.stream().allMatch(c -> held(c, topic).size() == 4), 60,
                () -> "two consumers holding 4 queues each: " + cs.stream().map(c -> held(c, topic)).toList());
            int n = 40;
            Map<String, Integer> perBroker = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                SendResult r = p.send(msg(topic, "spread-" + i));
                assertEquals(SendStatus.SEND_OK, r.getSendStatus(), r.toString());
                perBroker.merge(r.getMessageQueue().getBrokerName(), 1, Integer::sum);
            }
            assertEquals(Set.of(APACHE, OURS), perBroker.keySet(), "sends per broker " + perBroker);
            Net.await(() -> seen.size() == n, 60, () -> "all " + n + " consumed, got " + seen.size());
            Thread.sleep(1000);
            assertTrue(seen.values().stream().allMatch(v -> v == 1), "each message once: " + seen);
            assertTrue(byConsumer.values().stream().allMatch(s -> !s.isEmpty()), "both consumers got messages: "
                + byConsumer);
            Set<String> brokers = new HashSet<>();
            byConsumer.values().forEach(brokers::addAll);
            assertEquals(Set.of(APACHE, OURS), brokers);
            System.out.println("mixed spread: sent " + n + " " + perBroker + ", consumed " + seen.size()
                + ", queues by consumer " + byConsumer);
        } finally {
            p.shutdown();
            cs.forEach(DefaultMQPushConsumer::shutdown);
        }
    }

    @Test
    void orderlyPerKeyAcrossBothBrokers() throws Exception {
        String topic = "MixOrder", group = "mix-order-cg";
        createTopic(topic, 2);
        Map<Integer, List<Integer>> got = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = consumer(group, topic, (MessageListenerOrderly) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String[] kv = m.getKeys().split("-");
                got.computeIfAbsent(Integer.parseInt(kv[1]), k -> new CopyOnWriteArrayList<>())
                    .add(Integer.parseInt(kv[2]));
            }
            return ConsumeOrderlyStatus.SUCCESS;
        });
        DefaultMQProducer p = start(new DefaultMQProducer("mix-order-pg"));
        try {
            int keys = 4, per = 10;
            Set<String> brokers = new HashSet<>();
            for (int seq = 0; seq < per; seq++)
                for (int k = 0; k < keys; k++) {
                    // Sorted queues: keys 0,1 on one broker, 2,3 on the other.
                    SendResult r = p.send(msg(topic, "o-" + k + "-" + seq), (mqs, m, arg) -> {
                        List<MessageQueue> sorted = new ArrayList<>(mqs);
                        Collections.sort(sorted);
                        return sorted.get((Integer) arg % sorted.size());
                    }, k);
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                    brokers.add(r.getMessageQueue().getBrokerName());
                }
            assertEquals(Set.of(APACHE, OURS), brokers);
            Net.await(() -> got.values().stream().mapToInt(List::size).sum() >= keys * per, 60,
                () -> "orderly consumption of " + keys * per + ": " + got);
            for (int k = 0; k < keys; k++) {
                List<Integer> want = new ArrayList<>();
                for (int i = 0; i < per; i++) want.add(i);
                assertEquals(want, got.get(k), "key " + k + " in order");
            }
        } finally {
            p.shutdown();
            c.shutdown();
        }
    }

    @Test
    void delayLevelOnBothBrokers() throws Exception {
        String topic = "MixDelay", group = "mix-delay-cg";
        createTopic(topic, 2);
        Map<String, Long> arrived = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = consumer(group, topic, (MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) arrived.putIfAbsent(m.getKeys(), System.currentTimeMillis());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        DefaultMQProducer p = start(new DefaultMQProducer("mix-delay-pg"));
        try {
            Map<String, Long> sent = new TreeMap<>();
            for (String b : new String[] {APACHE, OURS}) {
                Message m = msg(topic, "delay-" + b);
                m.setDelayTimeLevel(2); // 5 s
                sent.put(m.getKeys(), System.currentTimeMillis());
                SendResult r = sendTo(p, m, b);
                assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                assertEquals(b, r.getMessageQueue().getBrokerName());
            }
            Net.await(() -> arrived.size() == 2, 40, () -> "both delayed messages, got " + arrived.keySet());
            for (var e : sent.entrySet()) {
                long after = arrived.get(e.getKey()) - e.getValue();
                System.out.println("mixed delay: " + e.getKey() + " arrived after " + after + " ms (level 2 = 5 s)");
                assertTrue(after >= 4500, e.getKey() + " early: " + after + " ms");
                assertTrue(after <= 20_000, e.getKey() + " late: " + after + " ms");
            }
        } finally {
            p.shutdown();
            c.shutdown();
        }
    }

    @Test
    void retriedMessagesComeBackFromBothBrokersPromptly() throws Exception {
        String topic = "MixRetry", group = "mix-retry-cg";
        createTopic(topic, 2);
        Map<String, Long> first = new ConcurrentHashMap<>(), again = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = consumer(group, topic, (MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (m.getReconsumeTimes() == 0) {
                    first.putIfAbsent(m.getKeys(), System.currentTimeMillis());
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
                again.putIfAbsent(m.getKeys(), System.currentTimeMillis());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        String retryTopic = "%RETRY%" + group;
        // start() returns after every broker answered the consumer's first heartbeat, which
        // created the group's retry topic and (Apache's ClientManageProcessor, and ours since)
        // registered it with the name server before answering: the route lists both.
        TopicRouteData rr = route(retryTopic);
        assertTrue(rr != null && rr.getQueueDatas().stream().map(q -> q.getBrokerName()).toList()
            .containsAll(List.of(APACHE, OURS)), retryTopic + " routed on both when start() returns: " + rr);
        // The client may still have looked the route up between its two heartbeats (it does after
        // the first broker's NOTIFY_CONSUMER_IDS_CHANGED, with two Apache brokers as well) and then
        // waits for its 30 s route poll: run that poll now instead of waiting for it.
        long settle = System.currentTimeMillis() + 5000;   // the rebalance start() asked for
        while (held(c, retryTopic).size() < 2 && System.currentTimeMillis() < settle) Thread.sleep(100);
        if (held(c, retryTopic).size() < 2) {
            System.out.println("mixed retry: the client's first " + retryTopic + " route had "
                + held(c, retryTopic) + "; refreshing it as its next poll would");
            c.getDefaultMQPushConsumerImpl().getmQClientFactory().updateTopicRouteInfoFromNameServer(retryTopic);
            c.getDefaultMQPushConsumerImpl().getmQClientFactory().rebalanceImmediately();
        }
        Net.await(() -> held(c, retryTopic).size() == 2, 30, () -> "retry queues of both brokers held: "
            + held(c, retryTopic));
        DefaultMQProducer p = start(new DefaultMQProducer("mix-retry-pg"));
        try {
            for (String b : new String[] {APACHE, OURS})
                assertEquals(b, sendTo(p, msg(topic, "retry-" + b), b).getMessageQueue().getBrokerName());
            Net.await(() -> again.size() == 2, 60, () -> "both retried messages back, first " + first + " again " + again);
            for (String b : new String[] {APACHE, OURS}) {
                long after = again.get("retry-" + b) - first.get("retry-" + b);
                System.out.println("mixed retry: stored on " + b + ", back after " + after + " ms (level 3 = 10 s)");
                assertTrue(after >= 9000 && after <= 20_000, "retry via " + b + " after " + after + " ms");
            }
        } finally {
            p.shutdown();
            c.shutdown();
        }
    }

    @Test
    void transactionsCommitRollbackAndCheckBackOnBothBrokers() throws Exception {
        String topic = "MixTx", group = "mix-tx-cg";
        createTopic(topic, 2);
        Set<String> got = ConcurrentHashMap.newKeySet();
        DefaultMQPushConsumer c = consumer(group, topic, (MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) got.add(m.getKeys() + "@" + ctx.getMessageQueue().getBrokerName());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        TransactionMQProducer p = new TransactionMQProducer("mix-tx-pg");
        Map<String, Integer> checks = new ConcurrentHashMap<>();
        p.setTransactionListener(new TransactionListener() {
            @Override
            public LocalTransactionState executeLocalTransaction(Message m, Object arg) {
                String k = m.getKeys();
                return k.startsWith("commit") ? LocalTransactionState.COMMIT_MESSAGE
                    : k.startsWith("rollback") ? LocalTransactionState.ROLLBACK_MESSAGE : LocalTransactionState.UNKNOW;
            }

            @Override
            public LocalTransactionState checkLocalTransaction(MessageExt m) {
                checks.merge(m.getKeys(), 1, Integer::sum);
                return LocalTransactionState.COMMIT_MESSAGE;
            }
        });
        start(p);
        try {
            // Round robin over 4 queues: two of each kind land on each broker.
            Map<String, String> brokerOf = new TreeMap<>();
            for (String kind : new String[] {"commit", "rollback", "check"})
                for (int i = 0; i < 2; i++) {
                    SendResult r = p.sendMessageInTransaction(msg(topic, kind + "-" + i), null);
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                    brokerOf.put(kind + "-" + i, r.getMessageQueue().getBrokerName());
                }
            System.out.println("mixed transactions: half messages on " + brokerOf);
            Set<String> want = new HashSet<>();
            for (var e : brokerOf.entrySet())
                if (!e.getKey().startsWith("rollback")) want.add(e.getKey() + "@" + e.getValue());
            assertTrue(new HashSet<>(brokerOf.values()).size() == 2, "half messages on both brokers: " + brokerOf);
            // The check-back comes after transactionTimeOut (6 s), at the next check (every 3 s).
            Net.await(() -> got.containsAll(want), 60, () -> "committed and checked messages " + want + ", got " + got);
            Thread.sleep(1000);
            assertEquals(want, got, "nothing rolled back is delivered");
            assertTrue(checks.keySet().containsAll(Set.of("check-0", "check-1")), "checked: " + checks);
        } finally {
            p.shutdown();
            c.shutdown();
        }
    }
}
