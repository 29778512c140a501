package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.MQVersion;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * request-reply: the responder answers with SEND_REPLY_MESSAGE_V2, the broker pushes the reply
 * to the requester with PUSH_REPLY_MESSAGE_TO_CLIENT.
 */
class RequestReplyTest extends CompatBase {

    @BeforeAll
    static void startResponder() throws Exception {
        createTopic("JavaRequestTopic", 2);
        DefaultMQProducer replier = producer("PG_java_replier");
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer("CG_java_request"), "responder");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET);
        c.subscribe("JavaRequestTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    String q = new String(m.getBody(), StandardCharsets.UTF_8);
                    replier.send(MessageUtil.createReplyMessage(m, ("re: " + q).getBytes(StandardCharsets.UTF_8)));
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
    }

    private static Message question(String body) {
        return new Message("JavaRequestTopic", "T", body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void requestWithCallbackGetsTheReply() throws Exception {
        DefaultMQProducer requester = producer("PG_java_requester_cb");
        CompletableFuture<Message> reply = new CompletableFuture<>();
        requester.request(question("ping-cb"), new RequestCallback() {
            // 4.9.8 also calls onSuccess(null) when the send is acknowledged (executeRequestCallback
            // in its SendCallback), before the reply; 5.x does not.
            @Override public void onSuccess(Message m) { if (m != null) reply.complete(m); }
            @Override public void onException(Throwable e) { reply.completeExceptionally(e); }
        }, 10_000);
        assertEquals("re: ping-cb", new String(reply.get(15, TimeUnit.SECONDS).getBody(), StandardCharsets.UTF_8));
    }

    /**
     * The blocking request(). Clients 5.3.1 to 5.3.3 (Apache PR #8272, undone by #9608 after
     * 5.3.3) release the wait when the send succeeds, so they only see a reply that beats the
     * send's own answer, against any broker; only 4.x is held to it.
     */
    @Test
    void blockingRequestGetsTheReply() throws Exception {
        assumeTrue(MQVersion.CURRENT_VERSION < MQVersion.Version.V5_0_0.ordinal(),
            "request() of clients 5.3.1-5.3.3 returns when the send is acknowledged (Apache #9608)");
        DefaultMQProducer requester = producer("PG_java_requester");
        Message reply = requester.request(question("ping"), 10_000);
        assertEquals("re: ping", new String(reply.getBody(), StandardCharsets.UTF_8));
    }
}
