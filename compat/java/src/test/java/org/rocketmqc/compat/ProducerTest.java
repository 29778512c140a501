package org.rocketmqc.compat;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.Test;

/** DefaultMQProducer: sync, async, oneway, batch and selector sends, read back by queue. */
public class ProducerTest extends CompatBase {

    private static Message msg(String topic, String body) {
        return new Message(topic, "TagA", body.getBytes(StandardCharsets.UTF_8));
    }

    /** Everything in the queue from offset 0, through an assigned lite pull consumer. */
    static List<String> readQueue(String topic, MessageQueue mq, int want) throws Exception {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer("CG_read_" + System.nanoTime());
        c.setNamesrvAddr(servers.nameSrv);
        c.setInstanceName("read-" + System.nanoTime());
        c.setAutoCommit(false);
        c.start();
        try {
            c.assign(java.util.Collections.singletonList(mq));
            c.seek(mq, 0);
            List<String> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.size() < want && System.currentTimeMillis() < deadline)
                for (MessageExt m : c.poll(1000)) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
            return got;
        } finally {
            c.shutdown();
        }
    }

    @Test
    public void syncSendReturnsSendOkWithBothMessageIds() throws Exception {
        createTopic("JavaSyncTopic", 4);
        DefaultMQProducer p = producer("PG_java_sync");
        SendResult r = p.send(msg("JavaSyncTopic", "sync-1"));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertNotNull("client UNIQ_KEY msgId", r.getMsgId());
        assertTrue("offset msgId is 32 hex chars: " + r.getOffsetMsgId(), r.getOffsetMsgId().matches("[0-9A-F]{32}"));
        assertEquals(java.util.Collections.singletonList("sync-1"), readQueue("JavaSyncTopic", r.getMessageQueue(), 1));
    }

    @Test
    public void asyncSendCompletesThroughTheCallback() throws Exception {
        createTopic("JavaAsyncTopic", 4);
        DefaultMQProducer p = producer("PG_java_async");
        CompletableFuture<SendResult> done = new CompletableFuture<>();
        p.send(msg("JavaAsyncTopic", "async-1"), new SendCallback() {
            @Override public void onSuccess(SendResult r) { done.complete(r); }
            @Override public void onException(Throwable e) { done.completeExceptionally(e); }
        });
        SendResult r = done.get(10, TimeUnit.SECONDS);
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(java.util.Collections.singletonList("async-1"), readQueue("JavaAsyncTopic", r.getMessageQueue(), 1));
    }

    @Test
    public void onewaySendIsStoredWithoutAnAnswer() throws Exception {
        createTopic("JavaOnewayTopic", 1);
        DefaultMQProducer p = producer("PG_java_oneway");
        for (int i = 0; i < 5; i++) p.sendOneway(msg("JavaOnewayTopic", "oneway-" + i));
        MessageQueue mq = new MessageQueue("JavaOnewayTopic", servers.brokerName, 0);
        assertEquals(List.of("oneway-0", "oneway-1", "oneway-2", "oneway-3", "oneway-4"), readQueue("JavaOnewayTopic", mq, 5));
    }

    @Test
    public void batchSendStoresEveryMessageInOrderOnOneQueue() throws Exception {
        createTopic("JavaBatchTopic", 4);
        DefaultMQProducer p = producer("PG_java_batch");
        List<Message> batch = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            bodies.add("batch-" + i);
            batch.add(msg("JavaBatchTopic", "batch-" + i));
        }
        SendResult r = p.send(batch);
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals("one id per message: " + r.getMsgId(), 10, r.getMsgId().split(",").length);
        assertEquals(bodies, readQueue("JavaBatchTopic", r.getMessageQueue(), 10));
    }

    @Test
    public void messageQueueSelectorPutsAnOrderOnTheChosenQueue() throws Exception {
        createTopic("JavaSelectorTopic", 4);
        DefaultMQProducer p = producer("PG_java_selector");
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            bodies.add("order-7-step-" + i);
            SendResult r = p.send(msg("JavaSelectorTopic", "order-7-step-" + i),
                (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), 7);
            assertEquals("queue chosen by the selector", 3, r.getMessageQueue().getQueueId());
        }
        assertEquals(bodies, readQueue("JavaSelectorTopic", new MessageQueue("JavaSelectorTopic", servers.brokerName, 3), 8));
    }
}
