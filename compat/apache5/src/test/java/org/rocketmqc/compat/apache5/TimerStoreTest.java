package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Servers;

/**
 * Timer messages pending in a store move between Apache 5.3.3's broker and ours: the 5.3.3
 * client sends timer messages (setDeliverTimeMs) to one broker, some due before it stops and
 * the rest after; the broker stops cleanly; the other implementation's broker opens the same
 * store directory and delivers every pending one on time, and nothing twice (what the writer
 * delivered before the stop is not delivered again).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TimerStoreTest {
    static final int EARLY = 4;
    static final int PENDING = 20;
    /** Apache delivers a slot once it has passed: up to timerPrecisionMs (1 s) late, plus its polling. */
    static final long LATE_MS = 3000;

    private Servers s;
    private NameServer ns;

    @BeforeAll
    void start() throws Exception {
        s = new Servers("timer");
        ns = s.nameServer(Impl.OURS);
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    @Test
    void apacheParksOursDelivers() throws Exception {
        move(Impl.APACHE, Impl.OURS);
    }

    @Test
    void oursParksApacheDelivers() throws Exception {
        move(Impl.OURS, Impl.APACHE);
    }

    private void move(Impl writerImpl, Impl readerImpl) throws Exception {
        String tag = writerImpl.name().charAt(0) + "" + readerImpl.name().charAt(0);
        String topic = "TimerMove" + tag;
        Broker writer = s.broker(writerImpl, "timer-" + tag, ns).start();
        Clients.createTopic(ns, writer, topic, 2);

        long sent = System.currentTimeMillis();
        Map<String, Long> due = new HashMap<>();
        DefaultMQProducer p = Clients.producer(ns, "TimerP" + tag);
        try {
            for (int i = 0; i < EARLY + PENDING; i++) {
                // EARLY are due before the writer stops; the others after the reader has started.
                long at = i < EARLY ? sent + 2000 + i * 100 : sent + 30_000 + (i - EARLY) * 397;
                Message m = new Message(topic, "T", ("timer-" + i).getBytes(StandardCharsets.UTF_8));
                m.setDeliverTimeMs(at);
                SendResult r = p.send(m);
                assertEquals(SendStatus.SEND_OK, r.getSendStatus());
                due.put(r.getMsgId(), at);
            }
        } finally {
            p.shutdown();
        }

        Map<String, MessageExt> early = Clients.awaitMessages(ns, topic, EARLY, 20);
        assertEquals(EARLY, early.size(), writerImpl + " delivered the early timers before the stop");
        writer.stop();
        assertTrue(System.currentTimeMillis() < sent + 30_000, "the writer stopped before the pending timers were due");
        assertTrue(Files.exists(writer.storeDir().resolve("config/timercheck")), writerImpl + " wrote config/timercheck");
        assertTrue(Files.exists(writer.storeDir().resolve("timerwheel")), writerImpl + " wrote timerwheel");

        Broker reader = s.broker(readerImpl, writer.brokerName, ns).storeDir(writer.storeDir()).start();
        long lastDue = due.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        int seconds = (int) Math.max(10, (lastDue + LATE_MS - System.currentTimeMillis()) / 1000 + 10);
        Map<String, MessageExt> all = Clients.awaitMessages(ns, topic, EARLY + PENDING, seconds);
        // Anything delivered twice would show up as an extra record in the topic.
        Thread.sleep(Math.max(0, lastDue + LATE_MS - System.currentTimeMillis()));
        int records = Clients.countRecords(ns, topic);
        assertEquals(EARLY + PENDING, records, readerImpl + " delivered each pending timer once (records in " + topic + ")");
        assertEquals(due.keySet(), all.keySet(), "every timer delivered, by UNIQ_KEY");
        for (MessageExt m : all.values()) {
            long at = due.get(m.getMsgId());
            String who = (early.containsKey(m.getMsgId()) ? writerImpl : readerImpl) + " delivering " + m.getMsgId();
            assertTrue(m.getStoreTimestamp() >= at, who + ": delivered " + (at - m.getStoreTimestamp()) + " ms early");
            assertTrue(m.getStoreTimestamp() <= at + LATE_MS, who + ": delivered " + (m.getStoreTimestamp() - at) + " ms late");
        }
        reader.stop();
    }
}
