package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/** DefaultLitePullConsumer in subscribe mode (rebalanced, committed offsets) and assign mode (seek). */
class LitePullConsumerTest extends CompatBase {

    private static DefaultLitePullConsumer consumer(String group) {
        DefaultLitePullConsumer c = setup(new DefaultLitePullConsumer(group), group);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        return closeLater(c, c::shutdown);
    }

    private static List<String> pollBodies(DefaultLitePullConsumer c, int want) {
        List<String> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (got.size() < want && System.currentTimeMillis() < deadline)
            for (MessageExt m : c.poll(1000)) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
        return got;
    }

    private static List<String> send(String topic, String prefix, int n) throws Exception {
        DefaultMQProducer p = producer("PG_" + topic);
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            p.send(new Message(topic, "T", (prefix + i).getBytes(StandardCharsets.UTF_8)));
            bodies.add(prefix + i);
        }
        return bodies;
    }

    @Test
    void subscribeModeReadsEverythingAndCommitsTheOffsets() throws Exception {
        createTopic("JavaLiteSubTopic", 4);
        List<String> sent = send("JavaLiteSubTopic", "sub-", 20);
        DefaultLitePullConsumer c = consumer("CG_java_lite_sub");
        c.subscribe("JavaLiteSubTopic", "*");
        c.start();
        List<String> got = pollBodies(c, 20);
        Collections.sort(got);
        List<String> want = new ArrayList<>(sent);
        Collections.sort(want);
        assertEquals(want, got);
        c.commitSync();
        await(() -> {
            try {
                var stats = admin.examineConsumeStats("CG_java_lite_sub");
                return stats.getOffsetTable().values().stream().mapToLong(w -> w.getConsumerOffset()).sum() == 20;
            } catch (Exception e) {
                return false;
            }
        }, 20, () -> "committed offsets summing to 20 in the consume stats");
    }

    @Test
    void assignModeSeeksWithinOneQueue() throws Exception {
        createTopic("JavaLiteAssignTopic", 1);
        List<String> sent = send("JavaLiteAssignTopic", "assign-", 10);
        DefaultLitePullConsumer c = consumer("CG_java_lite_assign");
        c.setAutoCommit(false);
        c.start();
        Collection<MessageQueue> mqs = c.fetchMessageQueues("JavaLiteAssignTopic");
        assertEquals(1, mqs.size());
        c.assign(mqs);
        MessageQueue mq = mqs.iterator().next();
        c.seek(mq, 6);
        assertEquals(sent.subList(6, 10), pollBodies(c, 4));
        c.seek(mq, 2);
        assertEquals(sent.subList(2, 4), pollBodies(c, 2).subList(0, 2));
    }
}
