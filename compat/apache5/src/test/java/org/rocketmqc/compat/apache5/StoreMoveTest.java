package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.store.RemoteBrokerOffsetStore;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Servers;

/**
 * A store directory moves between Apache 5.3.3's broker and ours, both ways, with what a 5.x
 * user leaves pending in it. The 5.3.3 client, against the writer:
 *   - timer messages (setDeliverTimeMs): some due before the writer stops, the rest after
 *     and beyond the roll window (filed as roll units), one of them cancelled by a
 *     TIMER_DEL_UNIQKEY mark (what RECALL_MESSAGE stores);
 *   - delay-level messages (level 4, 30 s) still waiting in SCHEDULE_TOPIC_XXXX;
 *   - plain messages on two queues, half of each queue committed by a pull group;
 *   - POP: six messages popped with a 20 s invisible time, three acknowledged.
 * The writer stops cleanly; the other implementation's broker opens the same directory, and
 * then every plain message is there with the committed offsets, every pending timer and
 * delayed message is delivered once and not early, nothing the writer delivered comes again,
 * and the three popped-but-unacknowledged messages are popped again (revived) while the
 * acknowledged ones are not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreMoveTest {
    static final int EARLY = 4;
    static final int PENDING = 20;
    static final int DELAYED = 3;
    static final int DELAY_LEVEL = 5;         // 1 min in the default messageDelayLevel
    static final long DELAY_MS = 60_000;
    /**
     * Pending timers are due this long after sending: after the reader is up, Apache's included.
     * Apache's writer once took 26 s from the first send to its stop (POP on a fresh group), past
     * the 25 s this was; the delayed messages must stay pending longer still.
     */
    static final long PENDING_MS = 45_000;
    static final int PLAIN = 20;
    static final int POPPED = 6;
    static final int ACKED = 3;
    /** Apache delivers a timer slot once it has passed: up to timerPrecisionMs (1 s) late, plus its polling. */
    static final long LATE_MS = 3000;
    /**
     * timerRollWindowSlot for both brokers: 10 slots (10 s), so the pending timers (25 s ahead)
     * are filed as roll units under a nearer slot, as a timer due more than 2 days ahead is by
     * default; each broker must find them in the other's files and deliver them once.
     */
    static final String ROLL_WINDOW = "10";

    private Servers s;
    private NameServer ns;

    @BeforeAll
    void start() throws Exception {
        s = new Servers("move5");
        ns = s.nameServer(Impl.OURS);
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    @Test
    void apacheWritesOursReads() throws Exception {
        move(Impl.APACHE, Impl.OURS);
    }

    @Test
    void oursWritesApacheReads() throws Exception {
        move(Impl.OURS, Impl.APACHE);
    }

    private void move(Impl writerImpl, Impl readerImpl) throws Exception {
        String tag = writerImpl.name().charAt(0) + "" + readerImpl.name().charAt(0);
        String timerTopic = "MoveTimer" + tag, delayTopic = "MoveDelay" + tag, plainTopic = "MovePlain" + tag;
        String popTopic = "MovePop" + tag, pullGroup = "MovePull" + tag, popGroup = "MovePopG" + tag;
        Broker writer = s.broker(writerImpl, "move-" + tag, ns).set("timerRollWindowSlot", ROLL_WINDOW).start();
        Clients.createTopic(ns, writer, timerTopic, 2);
        Clients.createTopic(ns, writer, delayTopic, 1);
        Clients.createTopic(ns, writer, plainTopic, 2);
        Clients.createTopic(ns, writer, popTopic, 1);
        Clients.createGroup(ns, writer, popGroup);
        Clients.createGroup(ns, writer, pullGroup);

        long sent = System.currentTimeMillis();
        Map<String, Long> timerDue = new HashMap<>();
        Map<String, Long> delayedBorn = new HashMap<>();
        Set<String> plain = new HashSet<>();
        DefaultMQProducer p = Clients.producer(ns, "MoveP" + tag);
        try {
            String cancelled = null;
            for (int i = 0; i < EARLY + PENDING; i++) {
                long at = i < EARLY ? sent + 2000 + i * 100 : sent + PENDING_MS + (i - EARLY) * 150;
                Message m = message(timerTopic, "timer-" + i);
                m.setDeliverTimeMs(at);
                cancelled = sendOk(p, m).getMsgId();
                timerDue.put(cancelled, at);
            }
            // Cancel the last: a mark naming "<topic>+<unique key>", due when it is.
            Message mark = message(timerTopic, "0");
            MessageAccessor.putProperty(mark, MessageConst.PROPERTY_TIMER_DEL_UNIQKEY, timerTopic + "+" + cancelled);
            mark.setDeliverTimeMs(timerDue.remove(cancelled));
            sendOk(p, mark);
            for (int i = 0; i < DELAYED; i++) {
                Message m = message(delayTopic, "delayed-" + i);
                m.setDelayTimeLevel(DELAY_LEVEL);
                delayedBorn.put(sendOk(p, m).getMsgId(), System.currentTimeMillis());
            }
            for (int i = 0; i < PLAIN; i++) plain.add(sendOk(p, message(plainTopic, "plain-" + i)).getMsgId());
            for (int i = 0; i < POPPED; i++) sendOk(p, message(popTopic, "pop-" + i));
        } finally {
            p.shutdown();
        }
        Map<MessageQueue, Long> committed = commitHalf(plainTopic, pullGroup);

        Pop pop = new Pop(ns, writer.brokerName);
        Set<String> unacked = new HashSet<>();
        try {
            List<MessageExt> got = pop.popAll(writer, popTopic, popGroup, POPPED, 20_000);
            assertEquals(POPPED, got.size(), writerImpl + " popped every message");
            for (int i = 0; i < got.size(); i++) {
                if (i < ACKED) pop.ack(writer, popTopic, popGroup, got.get(i));
                else unacked.add(Clients.body(got.get(i)));
            }
        } finally {
            pop.close();
        }

        Map<String, MessageExt> early = Clients.awaitMessages(ns, timerTopic, EARLY, 20);
        assertEquals(EARLY, early.size(), writerImpl + " delivered the early timers before the stop");
        writer.stop();
        long firstDelayed = delayedBorn.values().stream().mapToLong(Long::longValue).min().orElseThrow() + DELAY_MS;
        assertTrue(System.currentTimeMillis() < firstDelayed, "the writer stopped before the delayed messages were due");
        assertTrue(System.currentTimeMillis() < sent + PENDING_MS, "the writer stopped before the pending timers were due");
        assertTrue(Files.exists(writer.storeDir().resolve("config/timercheck")), writerImpl + " wrote config/timercheck");
        assertTrue(Files.exists(writer.storeDir().resolve("timerwheel")), writerImpl + " wrote timerwheel");

        Broker reader = s.broker(readerImpl, writer.brokerName, ns).storeDir(writer.storeDir())
            .set("timerRollWindowSlot", ROLL_WINDOW).start();
        String who = readerImpl + " reading " + writerImpl + "'s store";

        // Plain messages and committed offsets.
        assertEquals(plain, Clients.readAll(ns, plainTopic).keySet(), who + ": plain messages");
        DefaultMQPullConsumer offsets = Clients.puller(ns, pullGroup);
        try {
            for (Map.Entry<MessageQueue, Long> e : committed.entrySet())
                assertEquals(e.getValue(), offsets.fetchConsumeOffset(e.getKey(), true), who + ": offset of " + e.getKey());
        } finally {
            offsets.shutdown();
        }

        // POP: the unacknowledged come back once their invisible time is over, the acknowledged do not.
        pop = new Pop(ns, reader.brokerName);
        try {
            Set<String> again = new HashSet<>();
            long until = System.currentTimeMillis() + 60_000;
            while (!again.containsAll(unacked) && System.currentTimeMillis() < until) {
                for (MessageExt m : pop.popOnce(reader, popTopic, popGroup, 60_000)) {
                    String body = Clients.body(m);
                    assertTrue(unacked.contains(body), who + ": " + body + " was acknowledged before the move, popped again");
                    assertTrue(m.getReconsumeTimes() >= 1, who + ": " + body + " revived with its reconsume count");
                    again.add(body);
                    pop.ack(reader, popTopic, popGroup, m);
                }
                Thread.sleep(500);
            }
            assertEquals(unacked, again, who + ": popped but unacknowledged before the move, popped again after it");
        } finally {
            pop.close();
        }

        // Timers and delay levels: all delivered, once, not early.
        long lastDue = Math.max(timerDue.values().stream().mapToLong(Long::longValue).max().orElseThrow(),
            delayedBorn.values().stream().mapToLong(Long::longValue).max().orElseThrow() + DELAY_MS);
        int seconds = (int) Math.max(10, (lastDue + LATE_MS - System.currentTimeMillis()) / 1000 + 10);
        Map<String, MessageExt> timers = Clients.awaitMessages(ns, timerTopic, EARLY + PENDING - 1, seconds);
        Map<String, MessageExt> delayed = Clients.awaitMessages(ns, delayTopic, DELAYED, 20);
        Thread.sleep(Math.max(0, lastDue + LATE_MS - System.currentTimeMillis()));
        // Anything delivered twice would be an extra record in its topic.
        assertEquals(EARLY + PENDING - 1, Clients.countRecords(ns, timerTopic), who + ": timer records (one cancelled)");
        assertEquals(DELAYED, Clients.countRecords(ns, delayTopic), who + ": delay-level records");
        assertEquals(timerDue.keySet(), timers.keySet(), who + ": every timer delivered, by UNIQ_KEY");
        assertEquals(delayedBorn.keySet(), delayed.keySet(), who + ": every delayed message delivered, by UNIQ_KEY");
        for (MessageExt m : timers.values()) {
            long at = timerDue.get(m.getMsgId());
            String by = (early.containsKey(m.getMsgId()) ? writerImpl : readerImpl) + " delivering " + Clients.body(m);
            assertTrue(m.getStoreTimestamp() >= at, by + ": " + (at - m.getStoreTimestamp()) + " ms early");
            assertTrue(m.getStoreTimestamp() <= at + LATE_MS, by + ": " + (m.getStoreTimestamp() - at) + " ms late");
        }
        for (MessageExt m : delayed.values())
            assertTrue(m.getStoreTimestamp() >= delayedBorn.get(m.getMsgId()) + DELAY_MS - 1000,
                who + ": " + Clients.body(m) + " delivered before its level's 30 s");
        reader.stop();
    }

    private static Message message(String topic, String body) {
        return new Message(topic, "T", body.getBytes(StandardCharsets.UTF_8));
    }

    private static SendResult sendOk(DefaultMQProducer p, Message m) throws Exception {
        SendResult r = p.send(m);
        assertEquals(SendStatus.SEND_OK, r.getSendStatus(), "send to " + m.getTopic());
        assertNotNull(r.getMsgId());
        return r;
    }

    /** Commits half of each queue of TOPIC for GROUP on the writer; returns what it committed. */
    private Map<MessageQueue, Long> commitHalf(String topic, String group) throws Exception {
        DefaultMQPullConsumer c = Clients.puller(ns, group);
        try {
            Map<MessageQueue, Long> committed = new TreeMap<>();
            RemoteBrokerOffsetStore store = (RemoteBrokerOffsetStore) c.getOffsetStore();
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long half = c.maxOffset(mq) / 2;
                store.updateConsumeOffsetToBroker(mq, half, false);
                committed.put(mq, half);
            }
            for (Map.Entry<MessageQueue, Long> e : committed.entrySet())
                assertEquals(e.getValue(), c.fetchConsumeOffset(e.getKey(), true), "committed on the writer");
            return committed;
        } finally {
            c.shutdown();
        }
    }
}
