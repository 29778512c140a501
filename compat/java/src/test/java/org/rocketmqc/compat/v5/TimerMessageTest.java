package org.rocketmqc.compat.v5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;
import org.rocketmqc.compat.CompatBase;

/**
 * 5.x timer messages with the 5.3.3 producer: setDeliverTimeMs 3 s ahead is consumed by a push
 * consumer not before its time (and within 1.5 s of it), and a second one, cancelled with
 * DefaultMQProducer.recallMessage(topic, sendResult.getRecallHandle()) (RECALL_MESSAGE), never
 * is. With recallMessageEnable=false (the default) the recall is refused as Apache refuses it.
 */
class TimerMessageTest extends CompatBase {

    private static void recallEnabled(boolean on) throws Exception {
        Properties p = new Properties();
        p.setProperty("recallMessageEnable", String.valueOf(on));
        admin.updateBrokerConfig(servers.brokerAddr, p);
    }

    @Test
    void timerArrivesOnTimeAndARecalledOneNever() throws Exception {
        String topic = "T5_TIMER";
        createTopic(topic, 2);
        DefaultMQProducer p = producer("PG_timer5");
        Map<String, Long> arrived = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer("CG_timer5"), "CG_timer5");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) arrived.put(new String(m.getBody(), StandardCharsets.UTF_8), System.currentTimeMillis());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        closeLater(c, c::shutdown);
        c.start();

        long due = System.currentTimeMillis() + 3000;
        Message kept = new Message(topic, "T", "kept".getBytes(StandardCharsets.UTF_8));
        kept.setDeliverTimeMs(due);
        Message recalled = new Message(topic, "T", "recalled".getBytes(StandardCharsets.UTF_8));
        recalled.setDeliverTimeMs(due);
        assertEquals(SendStatus.SEND_OK, p.send(kept).getSendStatus());
        SendResult r = p.send(recalled);
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertNotNull(r.getRecallHandle(), "the send answer of a timer message carries a recall handle");

        MQBrokerException off = assertThrows(MQBrokerException.class, () -> p.recallMessage(topic, r.getRecallHandle()));
        assertEquals(16, off.getResponseCode());
        assertTrue(off.getErrorMessage().contains("recall failed, operation is forbidden"), off.getMessage());
        recallEnabled(true);
        try {
            assertEquals(r.getMsgId(), p.recallMessage(topic, r.getRecallHandle()), "recall answers the unique key");
        } finally {
            recallEnabled(false);
        }

        await(() -> arrived.containsKey("kept"), 15, () -> "the timer message, got " + arrived.keySet());
        long at = arrived.get("kept");
        assertTrue(at >= due, "delivered " + (due - at) + " ms early");
        assertTrue(at <= due + 1500, "delivered " + (at - due) + " ms late");
        Thread.sleep(2000);
        assertEquals(java.util.Set.of("kept"), arrived.keySet(), "the recalled message never comes");
    }
}
