package org.rocketmqc.compat.apache5;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.AckCallback;
import org.apache.rocketmq.client.consumer.AckResult;
import org.apache.rocketmq.client.consumer.AckStatus;
import org.apache.rocketmq.client.consumer.PopCallback;
import org.apache.rocketmq.client.consumer.PopResult;
import org.apache.rocketmq.client.consumer.PopStatus;
import org.apache.rocketmq.client.impl.MQClientAPIImpl;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.protocol.header.AckMessageRequestHeader;
import org.apache.rocketmq.remoting.protocol.header.ExtraInfoUtil;
import org.apache.rocketmq.remoting.protocol.header.PopMessageRequestHeader;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.NameServer;

/**
 * POP_MESSAGE and ACK_MESSAGE as the 5.3.3 client's MQClientAPIImpl sends them (what its POP
 * push consumer does underneath), so a test decides exactly what stays unacknowledged.
 */
final class Pop implements AutoCloseable {
    private final DefaultMQProducer owner;
    private final MQClientAPIImpl api;
    private final String brokerName;

    Pop(NameServer ns, String brokerName) throws Exception {
        owner = Clients.producer(ns, "PopApi" + System.nanoTime() % 1_000_000);
        api = owner.getDefaultMQProducerImpl().getMqClientFactory().getMQClientAPIImpl();
        this.brokerName = brokerName;
    }

    /** One POP of up to 32 messages from queue -1 (every queue), without long polling. */
    List<MessageExt> popOnce(Broker b, String topic, String group, long invisibleMs) throws Exception {
        PopMessageRequestHeader h = new PopMessageRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(-1);
        h.setMaxMsgNums(32);
        h.setInvisibleTime(invisibleMs);
        h.setPollTime(0);
        h.setBornTime(System.currentTimeMillis());
        h.setInitMode(0);
        h.setExpType("TAG");
        h.setExp("*");
        CompletableFuture<PopResult> f = new CompletableFuture<>();
        api.popMessageAsync(brokerName, b.addr(), h, 5000, new PopCallback() {
            @Override
            public void onSuccess(PopResult r) {
                f.complete(r);
            }

            @Override
            public void onException(Throwable e) {
                f.completeExceptionally(e);
            }
        });
        PopResult r = f.get(10, TimeUnit.SECONDS);
        return r.getPopStatus() == PopStatus.FOUND ? r.getMsgFoundList() : List.of();
    }

    /** Pops until N messages came or 20 s passed. */
    List<MessageExt> popAll(Broker b, String topic, String group, int n, long invisibleMs) throws Exception {
        List<MessageExt> got = new ArrayList<>();
        long until = System.currentTimeMillis() + 20_000;
        while (got.size() < n && System.currentTimeMillis() < until) {
            List<MessageExt> some = popOnce(b, topic, group, invisibleMs);
            got.addAll(some);
            if (some.isEmpty()) Thread.sleep(200);
        }
        return got;
    }

    /** ACK_MESSAGE for a popped message's receipt (its POP_CK), as the push consumer builds it. */
    void ack(Broker b, String topic, String group, MessageExt m) throws Exception {
        String[] info = ExtraInfoUtil.split(m.getProperty(MessageConst.PROPERTY_POP_CK));
        AckMessageRequestHeader h = new AckMessageRequestHeader();
        h.setTopic(ExtraInfoUtil.getRealTopic(info, topic, group));
        h.setQueueId(ExtraInfoUtil.getQueueId(info));
        h.setOffset(ExtraInfoUtil.getQueueOffset(info));
        h.setConsumerGroup(group);
        h.setExtraInfo(m.getProperty(MessageConst.PROPERTY_POP_CK));
        CompletableFuture<AckResult> f = new CompletableFuture<>();
        api.ackMessageAsync(b.addr(), 5000, new AckCallback() {
            @Override
            public void onSuccess(AckResult r) {
                f.complete(r);
            }

            @Override
            public void onException(Throwable e) {
                f.completeExceptionally(e);
            }
        }, h);
        AckResult r = f.get(10, TimeUnit.SECONDS);
        if (r.getStatus() != AckStatus.OK) throw new AssertionError("ack of " + Clients.body(m) + ": " + r.getStatus());
    }

    @Override
    public void close() {
        owner.shutdown();
    }
}
