package org.rocketmqc.compat.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.FilterExpressionType;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.SendReceipt;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;

/**
 * One store, two protocols: a message sent over gRPC (5.x SDK) is consumed by a 4.x remoting
 * push consumer (rocketmq-client 4.9.8 through the name server), and one sent by a 4.x
 * remoting producer is received by a gRPC SimpleConsumer, with tag, keys and properties intact.
 */
class RemotingInteropTest {
    static final ClientServiceProvider PROVIDER = ClientServiceProvider.loadService();

    static ClientConfiguration config() {
        return ClientConfiguration.newBuilder().setEndpoints(System.getenv("GRPC_ENDPOINT")).enableSsl(false)
            .setRequestTimeout(Duration.ofSeconds(10)).build();
    }

    static String namesrv() {
        String ns = System.getenv("NAMESRV_ADDR");
        if (ns == null || ns.isEmpty())
            throw new IllegalStateException("NAMESRV_ADDR is not set (run run-suite.sh)");
        return ns;
    }

    @Test
    void grpcSentRemotingConsumed() throws Exception {
        SendReceipt receipt;
        try (Producer p = PROVIDER.newProducerBuilder().setClientConfiguration(config()).setTopics("TopicInterop").build()) {
            receipt = p.send(PROVIDER.newMessageBuilder().setTopic("TopicInterop").setTag("FromGrpc").setKeys("gk")
                .addProperty("origin", "grpc").setBody("via-grpc".getBytes(StandardCharsets.UTF_8)).build());
        }
        List<MessageExt> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer("GroupRemoting4");
        c.setNamesrvAddr(namesrv());
        c.setInstanceName("interop-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe("TopicInterop", "FromGrpc");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            got.addAll(msgs);
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        try {
            GrpcSdkTest.waitFor("the gRPC message at the remoting consumer", 60, () -> !got.isEmpty());
        } finally {
            c.shutdown();
        }
        MessageExt m = got.get(0);
        assertEquals("via-grpc", new String(m.getBody(), StandardCharsets.UTF_8));
        assertEquals("FromGrpc", m.getTags());
        assertEquals("gk", m.getKeys());
        assertEquals("grpc", m.getUserProperty("origin"));
        assertEquals(receipt.getMessageId().toString(), m.getMsgId(), "message id (UNIQ_KEY)");
    }

    @Test
    void remotingSentGrpcConsumed() throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("GroupRemotingProducer");
        p.setNamesrvAddr(namesrv());
        p.setInstanceName("interop-" + System.nanoTime());
        p.start();
        SendResult r;
        try {
            Message m = new Message("TopicInterop", "FromRemoting", "rk", "via-remoting".getBytes(StandardCharsets.UTF_8));
            m.putUserProperty("origin", "remoting");
            r = p.send(m);
        } finally {
            p.shutdown();
        }
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        try (SimpleConsumer c = PROVIDER.newSimpleConsumerBuilder().setClientConfiguration(config())
            .setConsumerGroup("GroupGrpcInterop").setAwaitDuration(Duration.ofSeconds(2))
            .setSubscriptionExpressions(Map.of("TopicInterop", new FilterExpression("FromRemoting", FilterExpressionType.TAG)))
            .build()) {
            List<MessageView> got = GrpcSdkTest.receiveUntil(c, Duration.ofSeconds(20), 30, true, l -> !l.isEmpty());
            assertEquals(1, got.size(), "messages received");
            MessageView v = got.get(0);
            assertEquals("via-remoting", GrpcSdkTest.body(v));
            assertEquals("FromRemoting", v.getTag().orElse(null));
            assertEquals(Set.of("rk"), Set.copyOf(v.getKeys()));
            assertEquals("remoting", v.getProperties().get("origin"));
            assertEquals(r.getMsgId(), v.getMessageId().toString());
            assertTrue(new ArrayList<>(GrpcSdkTest.receiveUntil(c, Duration.ofSeconds(20), 2, true, l -> false)).isEmpty());
        }
    }
}
