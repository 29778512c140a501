package org.rocketmqc.compat.v5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.AckCallback;
import org.apache.rocketmq.client.consumer.AckResult;
import org.apache.rocketmq.client.consumer.AckStatus;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PopCallback;
import org.apache.rocketmq.client.consumer.PopResult;
import org.apache.rocketmq.client.consumer.PopStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.impl.MQClientAPIImpl;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageRequestMode;
import org.apache.rocketmq.remoting.protocol.header.AckMessageRequestHeader;
import org.apache.rocketmq.remoting.protocol.header.ExtraInfoUtil;
import org.apache.rocketmq.remoting.protocol.header.PopMessageRequestHeader;
import org.junit.jupiter.api.Test;
import org.rocketmqc.compat.CompatBase;

/**
 * The 5.3.x push consumer in POP mode: the group's request mode set to POP
 * (SET_MESSAGE_REQUEST_MODE, as `mqadmin setConsumeMode` does) and clientRebalance off, so
 * the consumer asks the broker for its queues (QUERY_ASSIGNMENT), POPs them with long
 * polling, ACKs what it consumed and moves the invisible time of what it wants later
 * (CHANGE_MESSAGE_INVISIBLETIME); the broker revives what nobody acknowledged. Orderly POP,
 * which the 5.3.x push consumer does not use (an orderly consumer rebalances itself), goes
 * through the same client's MQClientAPIImpl.popMessageAsync / ackMessageAsync.
 */
class PopConsumerTest extends CompatBase {

    private static DefaultMQPushConsumer popConsumer(String group, String topic, String instance, long invisibleMs,
                                                     MessageListenerConcurrently listener) throws Exception {
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer(group), instance);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setClientRebalance(false);
        c.setPopInvisibleTime(invisibleMs);
        c.subscribe(topic, "*");
        c.registerMessageListener(listener);
        closeLater(c, c::shutdown);
        c.start();
        return c;
    }

    /** The topic and group exist and the group POPs the topic. */
    private static void popMode(String topic, String group) throws Exception {
        createTopic(topic, 4);
        createGroup(group, 16);
        admin.setMessageRequestMode(servers.brokerAddr, topic, group, MessageRequestMode.POP, 0, 5000);
    }

    /** Waits until the consumer's rebalance (from the broker) made it POP the topic. */
    private static void awaitPopping(DefaultMQPushConsumer c, String topic) throws Exception {
        await(() -> c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getPopProcessQueueTable().keySet().stream()
            .anyMatch(mq -> mq.getTopic().equals(topic) && mq.getQueueId() == -1), 30, () -> "POP assignment of " + topic);
    }

    private static String body(MessageExt m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    private static List<String> send(String topic, String prefix, int n) throws Exception {
        DefaultMQProducer p = producer("PG_" + topic);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String b = prefix + "-" + i;
            p.send(new Message(topic, "pop", b.getBytes(StandardCharsets.UTF_8)));
            sent.add(b);
            Thread.sleep(20);
        }
        return sent;
    }

    @Test
    void twoInstancesConsumeEveryMessageExactlyOnceBetweenThem() throws Exception {
        String topic = "PopSplit", group = "CG_pop_split";
        popMode(topic, group);
        Map<String, List<String>> got = new ConcurrentHashMap<>();
        DefaultMQPushConsumer[] cs = new DefaultMQPushConsumer[2];
        for (int i = 0; i < 2; i++) {
            List<String> mine = new CopyOnWriteArrayList<>();
            got.put("c" + i, mine);
            cs[i] = popConsumer(group, topic, "pop-c" + i, 60000, (msgs, ctx) -> {
                for (MessageExt m : msgs) mine.add(body(m));
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
        }
        for (DefaultMQPushConsumer c : cs) awaitPopping(c, topic);
        List<String> sent = send(topic, "split", 60);
        await(() -> got.values().stream().mapToInt(List::size).sum() >= sent.size(), 60,
            () -> "all of " + sent.size() + " consumed, got " + got);
        Thread.sleep(3000);  // a message taken twice would show up by now
        List<String> all = new ArrayList<>();
        got.values().forEach(all::addAll);
        Set<String> unique = new HashSet<>(all);
        assertEquals(all.size(), unique.size(), "a message was consumed twice: " + all);
        assertEquals(new HashSet<>(sent), unique);
        assertFalse(got.get("c0").isEmpty(), "instance 0 consumed nothing: " + got);
        assertFalse(got.get("c1").isEmpty(), "instance 1 consumed nothing: " + got);
    }

    @Test
    void reconsumeLaterComesBackAfterTheChangedInvisibleTimeWithReconsumeTimesPlusOne() throws Exception {
        String topic = "PopLater", group = "CG_pop_later";
        popMode(topic, group);
        List<long[]> deliveries = new CopyOnWriteArrayList<>();  // {reconsumeTimes, time}
        DefaultMQPushConsumer c = popConsumer(group, topic, "pop-later", 60000, (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (!body(m).equals("later-0")) continue;
                deliveries.add(new long[] {m.getReconsumeTimes(), System.currentTimeMillis()});
                if (m.getReconsumeTimes() == 0) return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        awaitPopping(c, topic);
        send(topic, "later", 1);
        // RECONSUME_LATER: the client changes the invisible time to its first pop delay (10 s),
        // well before the 60 s the POP asked for.
        await(() -> deliveries.size() >= 2, 45, () -> "redelivery, deliveries " + deliveries.size());
        long gap = deliveries.get(1)[1] - deliveries.get(0)[1];
        assertEquals(0, deliveries.get(0)[0]);
        assertEquals(1, deliveries.get(1)[0]);
        assertTrue(gap >= 9000 && gap < 40000, "redelivered after " + gap + " ms");
        Thread.sleep(3000);
        assertEquals(2, deliveries.size(), "consumed again after it was acknowledged");
    }

    @Test
    void messageNeverAcknowledgedIsRedeliveredAfterItsInvisibleTime() throws Exception {
        String topic = "PopStuck", group = "CG_pop_stuck";
        popMode(topic, group);
        CountDownLatch release = new CountDownLatch(1);
        List<long[]> deliveries = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = popConsumer(group, topic, "pop-stuck", 5000, (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                deliveries.add(new long[] {m.getReconsumeTimes(), System.currentTimeMillis()});
                if (m.getReconsumeTimes() == 0) {
                    try {
                        release.await(60, TimeUnit.SECONDS);  // never returns while the case runs
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        awaitPopping(c, topic);
        send(topic, "stuck", 1);
        try {
            await(() -> deliveries.size() >= 2, 40, () -> "redelivery of the unacknowledged message");
            long gap = deliveries.get(1)[1] - deliveries.get(0)[1];
            assertEquals(1, deliveries.get(1)[0]);
            assertTrue(gap >= 4500, "redelivered after " + gap + " ms, before the 5 s invisible time");
        } finally {
            release.countDown();
        }
    }

    /** POP_MESSAGE with order=true as MQClientAPIImpl sends it; the client decodes the answer. */
    private static PopResult popOrderly(MQClientAPIImpl api, String brokerName, String topic, String group,
                                        String attempt, long invisibleMs) throws Exception {
        PopMessageRequestHeader h = new PopMessageRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(0);
        h.setMaxMsgNums(2);
        h.setInvisibleTime(invisibleMs);
        h.setPollTime(0);
        h.setBornTime(System.currentTimeMillis());
        h.setInitMode(0);
        h.setExpType("TAG");
        h.setExp("*");
        h.setOrder(true);
        h.setAttemptId(attempt);
        CompletableFuture<PopResult> f = new CompletableFuture<>();
        api.popMessageAsync(brokerName, servers.brokerAddr, h, 5000, new PopCallback() {
            @Override
            public void onSuccess(PopResult r) {
                f.complete(r);
            }

            @Override
            public void onException(Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    /** ACK_MESSAGE for a message's receipt, as DefaultMQPushConsumerImpl.ackAsync builds it. */
    private static void ack(MQClientAPIImpl api, String topic, String group, MessageExt m) throws Exception {
        String[] info = ExtraInfoUtil.split(m.getProperty(MessageConst.PROPERTY_POP_CK));
        AckMessageRequestHeader h = new AckMessageRequestHeader();
        h.setTopic(ExtraInfoUtil.getRealTopic(info, topic, group));
        h.setQueueId(ExtraInfoUtil.getQueueId(info));
        h.setOffset(ExtraInfoUtil.getQueueOffset(info));
        h.setConsumerGroup(group);
        h.setExtraInfo(m.getProperty(MessageConst.PROPERTY_POP_CK));
        CompletableFuture<AckResult> f = new CompletableFuture<>();
        api.ackMessageAsync(servers.brokerAddr, 5000, new AckCallback() {
            @Override
            public void onSuccess(AckResult r) {
                f.complete(r);
            }

            @Override
            public void onException(Throwable e) {
                f.completeExceptionally(e);
            }
        }, h);
        assertEquals(AckStatus.OK, f.get(10, TimeUnit.SECONDS).getStatus());
    }

    private static List<String> bodies(PopResult r) {
        List<String> out = new ArrayList<>();
        for (MessageExt m : r.getMsgFoundList()) out.add(body(m));
        return out;
    }

    @Test
    void orderlyPopLocksTheQueueUntilAckedOrInvisibleTimeThenCountsTheRedelivery() throws Exception {
        String topic = "PopFifo", group = "CG_pop_fifo";
        createTopic(topic, 1);
        createGroup(group, 16);
        send(topic, "fifo", 3);
        DefaultMQProducer p = producer("PG_fifo_api");
        MQClientAPIImpl api = p.getDefaultMQProducerImpl().getMqClientFactory().getMQClientAPIImpl();
        String brokerName = admin.examineTopicRouteInfo(topic).getBrokerDatas().get(0).getBrokerName();

        PopResult first = popOrderly(api, brokerName, topic, group, "attempt-1", 60000);
        assertEquals(PopStatus.FOUND, first.getPopStatus());
        assertEquals(List.of("fifo-0", "fifo-1"), bodies(first));
        for (MessageExt m : first.getMsgFoundList()) assertEquals(0, m.getReconsumeTimes());
        // The queue is locked for anyone else while the batch is invisible and not acknowledged.
        assertEquals(PopStatus.POLLING_NOT_FOUND, popOrderly(api, brokerName, topic, group, "attempt-2", 60000).getPopStatus());
        ack(api, topic, group, first.getMsgFoundList().get(0));
        assertEquals(PopStatus.POLLING_NOT_FOUND, popOrderly(api, brokerName, topic, group, "attempt-3", 60000).getPopStatus());
        ack(api, topic, group, first.getMsgFoundList().get(1));

        PopResult next = popOrderly(api, brokerName, topic, group, "attempt-4", 5000);
        assertEquals(List.of("fifo-2"), bodies(next));
        assertEquals(0, next.getMsgFoundList().get(0).getReconsumeTimes());
        Thread.sleep(5500);  // not acknowledged: visible again, in order, counted (orderCountInfo)
        PopResult again = popOrderly(api, brokerName, topic, group, "attempt-5", 60000);
        assertEquals(List.of("fifo-2"), bodies(again));
        assertEquals(1, again.getMsgFoundList().get(0).getReconsumeTimes());
        ack(api, topic, group, again.getMsgFoundList().get(0));
    }
}
