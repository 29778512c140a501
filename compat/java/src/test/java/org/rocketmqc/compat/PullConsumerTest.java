package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullCallback;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/**
 * DefaultMQPullConsumer (deprecated in 5.x but still shipped): PULL_MESSAGE with explicit
 * offsets, tag filtering on the broker, the statuses past the end of a queue, long polling,
 * and offsets stored on the broker.
 */
@SuppressWarnings("deprecation")
class PullConsumerTest extends CompatBase {

    private static List<String> bodies(PullResult r) {
        return r.getMsgFoundList().stream()
            .map(m -> new String(m.getBody(), StandardCharsets.UTF_8)).collect(Collectors.toList());
    }

    private static void send(DefaultMQProducer p, MessageQueue mq, String tag, String body) throws Exception {
        p.send(new Message(mq.getTopic(), tag, body.getBytes(StandardCharsets.UTF_8)), mq);
    }

    @Test
    void pullReadsFromTheGivenOffsetAndReportsTheQueueEnd() throws Exception {
        createTopic("JavaPullTopic", 2);
        DefaultMQPullConsumer c = pullConsumer("CG_java_pull");
        Set<MessageQueue> mqs = c.fetchSubscribeMessageQueues("JavaPullTopic");
        assertEquals(2, mqs.size());
        MessageQueue mq = new MessageQueue("JavaPullTopic", servers.brokerName, 1);
        DefaultMQProducer p = producer("PG_java_pull");
        for (int i = 0; i < 6; i++) send(p, mq, "T", "pull-" + i);

        PullResult all = c.pull(mq, "*", 0, 32);
        assertEquals(PullStatus.FOUND, all.getPullStatus());
        assertEquals(List.of("pull-0", "pull-1", "pull-2", "pull-3", "pull-4", "pull-5"), bodies(all));
        assertEquals(6, all.getNextBeginOffset());
        assertEquals(6, all.getMaxOffset());
        assertEquals(1, all.getMsgFoundList().get(0).getQueueId());

        PullResult part = c.pull(mq, "*", 4, 1);
        assertEquals(List.of("pull-4"), bodies(part));
        assertEquals(5, part.getNextBeginOffset());

        PullResult end = c.pull(mq, "*", 6, 32);
        assertEquals(PullStatus.NO_NEW_MSG, end.getPullStatus());
        assertEquals(6, end.getNextBeginOffset());

        PullResult beyond = c.pull(mq, "*", 100, 32);
        assertEquals(PullStatus.OFFSET_ILLEGAL, beyond.getPullStatus());
        assertEquals(6, beyond.getNextBeginOffset(), "the broker points back at the queue's end");

        MessageQueue empty = new MessageQueue("JavaPullTopic", servers.brokerName, 0);
        assertEquals(PullStatus.NO_NEW_MSG, c.pull(empty, "*", 0, 32).getPullStatus());
        assertEquals(6, c.maxOffset(mq));
        assertEquals(0, c.minOffset(mq));
    }

    @Test
    void tagExpressionIsFilteredByTheBroker() throws Exception {
        createTopic("JavaPullTagTopic", 1);
        MessageQueue mq = new MessageQueue("JavaPullTagTopic", servers.brokerName, 0);
        DefaultMQProducer p = producer("PG_java_pull_tag");
        for (int i = 0; i < 9; i++) send(p, mq, "Tag" + (i % 3), "tag-" + i);
        DefaultMQPullConsumer c = pullConsumer("CG_java_pull_tag");
        List<String> got = new ArrayList<>();
        long offset = 0;
        for (int round = 0; round < 10 && offset < 9; round++) {
            PullResult r = c.pull(mq, "Tag1 || Tag2", offset, 4);
            if (r.getPullStatus() == PullStatus.FOUND) got.addAll(bodies(r));
            offset = r.getNextBeginOffset();
        }
        assertEquals(List.of("tag-1", "tag-2", "tag-4", "tag-5", "tag-7", "tag-8"), got);
        assertEquals(9, offset);
    }

    @Test
    void pullBlockIfNotFoundAnswersWhenAMessageArrives() throws Exception {
        createTopic("JavaPullLongTopic", 1);
        MessageQueue mq = new MessageQueue("JavaPullLongTopic", servers.brokerName, 0);
        DefaultMQPullConsumer c = pullConsumer("CG_java_pull_long");
        CompletableFuture<PullResult> done = new CompletableFuture<>();
        long start = System.nanoTime();
        c.pullBlockIfNotFound(mq, "*", 0, 32, new PullCallback() {
            @Override public void onSuccess(PullResult r) { done.complete(r); }
            @Override public void onException(Throwable e) { done.completeExceptionally(e); }
        });
        Thread.sleep(1000); // the broker holds the pull
        assertTrue(!done.isDone(), "the pull is held while the queue is empty");
        send(producer("PG_java_pull_long"), mq, "T", "woken");
        PullResult r = done.get(10, TimeUnit.SECONDS);
        assertEquals(PullStatus.FOUND, r.getPullStatus());
        assertEquals(List.of("woken"), bodies(r));
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 8000,
            "answered on arrival, not at the 20 s suspend timeout");
    }

    @Test
    void offsetsAreStoredOnTheBrokerAndReadBack() throws Exception {
        createTopic("JavaPullOffsetTopic", 1);
        MessageQueue mq = new MessageQueue("JavaPullOffsetTopic", servers.brokerName, 0);
        DefaultMQProducer p = producer("PG_java_pull_offset");
        for (int i = 0; i < 3; i++) send(p, mq, "T", "o-" + i);
        DefaultMQPullConsumer c = pullConsumer("CG_java_pull_offset");
        PullResult r = c.pull(mq, "*", 0, 32);
        assertEquals(3, r.getMsgFoundList().size());
        c.updateConsumeOffset(mq, r.getNextBeginOffset());
        // UPDATE_CONSUMER_OFFSET now, not at the 5 s persist tick (DefaultMQPullConsumer.persist
        // itself reads a user-set store, null here).
        c.getDefaultMQPullConsumerImpl().getOffsetStore().persist(mq);
        // fromStore: QUERY_CONSUMER_OFFSET asks the broker, not the client's own table.
        await(() -> {
            try {
                return c.fetchConsumeOffset(mq, true) == 3;
            } catch (Exception e) {
                return false;
            }
        }, 10, () -> "offset 3 read back from the broker");

        DefaultMQPullConsumer other = pullConsumer("CG_java_pull_offset");
        assertEquals(3, other.fetchConsumeOffset(mq, true), "another member of the group sees it");
        MessageExt m = r.getMsgFoundList().get(2);
        assertEquals(2, m.getQueueOffset());
    }
}
