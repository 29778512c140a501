package org.rocketmqc.compat;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.Test;

/** request-reply: SEND_REPLY_MESSAGE_V2 from the consumer side, PUSH_REPLY_MESSAGE_TO_CLIENT to the requester. */
public class RequestReplyTest extends CompatBase {

    @Test
    public void requestGetsTheReplyTheConsumerSends() throws Exception {
        createTopic("JavaRequestTopic", 2);
        DefaultMQProducer replier = producer("PG_java_replier");
        DefaultMQPushConsumer c = new DefaultMQPushConsumer("CG_java_request");
        c.setNamesrvAddr(servers.nameSrv);
        c.setInstanceName("responder");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        c.subscribe("JavaRequestTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    String q = new String(m.getBody(), StandardCharsets.UTF_8);
                    Message reply = MessageUtil.createReplyMessage(m, ("re: " + q).getBytes(StandardCharsets.UTF_8));
                    replier.send(reply);
                } catch (Exception e) {
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        closeLater(c, c::shutdown);
        await(() -> !c.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().isEmpty(), 30,
            () -> "the responder's queues");

        DefaultMQProducer requester = producer("PG_java_requester");
        Message reply = requester.request(new Message("JavaRequestTopic", "T", "ping".getBytes(StandardCharsets.UTF_8)), 10_000);
        assertEquals("re: ping", new String(reply.getBody(), StandardCharsets.UTF_8));
    }
}
