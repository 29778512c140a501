package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/** DefaultMQProducer: sync, async, oneway, batch and selector sends, read back by queue (PULL_MESSAGE). */
class ProducerTest extends CompatBase {

    private static Message msg(String topic, String body) {
        return new Message(topic, "TagA", body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void syncSendReturnsSendOkWithBothMessageIds() throws Exception {
        createTopic("JavaSyncTopic", 4);
        DefaultMQProducer p = producer("PG_java_sync");
        SendResult r = p.send(msg("JavaSyncTopic", "sync-1"));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertNotNull(r.getMsgId(), "client UNIQ_KEY msgId");
        assertTrue(r.getOffsetMsgId().matches("[0-9A-F]{32}"), "offset msgId is 32 hex chars: " + r.getOffsetMsgId());
        assertEquals(List.of("sync-1"), readQueue(r.getMessageQueue(), 1));
    }

    @Test
    void asyncSendCompletesThroughTheCallback() throws Exception {
        createTopic("JavaAsyncTopic", 4);
        DefaultMQProducer p = producer("PG_java_async");
        CompletableFuture<SendResult> done = new CompletableFuture<>();
        p.send(msg("JavaAsyncTopic", "async-1"), new SendCallback() {
            @Override public void onSuccess(SendResult r) { done.complete(r); }
            @Override public void onException(Throwable e) { done.completeExceptionally(e); }
        });
        SendResult r = done.get(10, TimeUnit.SECONDS);
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(List.of("async-1"), readQueue(r.getMessageQueue(), 1));
    }

    @Test
    void onewaySendIsStoredWithoutAnAnswer() throws Exception {
        createTopic("JavaOnewayTopic", 1);
        DefaultMQProducer p = producer("PG_java_oneway");
        for (int i = 0; i < 5; i++) p.sendOneway(msg("JavaOnewayTopic", "oneway-" + i));
        MessageQueue mq = new MessageQueue("JavaOnewayTopic", servers.brokerName, 0);
        assertEquals(List.of("oneway-0", "oneway-1", "oneway-2", "oneway-3", "oneway-4"), readQueue(mq, 5));
    }

    @Test
    void batchSendStoresEveryMessageInOrderOnOneQueue() throws Exception {
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
        assertEquals(10, r.getMsgId().split(",").length, "one id per message: " + r.getMsgId());
        assertEquals(bodies, readQueue(r.getMessageQueue(), 10));
    }

    @Test
    void messageQueueSelectorPutsAnOrderOnTheChosenQueue() throws Exception {
        createTopic("JavaSelectorTopic", 4);
        DefaultMQProducer p = producer("PG_java_selector");
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            bodies.add("order-7-step-" + i);
            SendResult r = p.send(msg("JavaSelectorTopic", "order-7-step-" + i),
                (mqs, m, arg) -> mqs.get((Integer) arg % mqs.size()), 7);
            assertEquals(3, r.getMessageQueue().getQueueId(), "queue chosen by the selector");
        }
        assertEquals(bodies, readQueue(new MessageQueue("JavaSelectorTopic", servers.brokerName, 3), 8));
    }
}
