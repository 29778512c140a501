package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.apache.rocketmq.common.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A large topic table registered by our broker in compressed form (compressedRegister=true)
 * with Apache's name server and with ours at once: both route every topic; a topic created
 * afterwards reaches both by the incremental registration; a restarted Apache name server
 * gets the whole table back from the next periodic registration (QUERY_DATA_VERSION tells
 * the broker that this name server lost it).
 */
class RegistrationScaleTest {
    static final int TOPICS = 5000, QUEUES = 4;
    static final TopicTable TABLE = new TopicTable("ScaleTopic", TOPICS, QUEUES);
    static final String OURS = "broker-c";
    static Servers servers;
    static NameServer apacheNs, ourNs;
    static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        servers = new Servers("regscale");
        apacheNs = servers.nameServer(Impl.APACHE);
        ourNs = servers.nameServer(Impl.OURS);
        broker = servers.broker(Impl.OURS, OURS, apacheNs, ourNs)
            .set("compressedRegister", "true").set("registerNameServerPeriod", "5000");
        TABLE.writeTopicsJson(broker);
        broker.start();
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    @Test
    void compressedTableIsRoutedByBothNameServers() throws Exception {
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            TABLE.awaitListed(ns, 60, broker);
            assertEquals(List.of(), TABLE.unrouted(ns, broker), ns.name);
        }
    }

    @Test
    void topicCreatedLaterIsRoutedByBoth() throws Exception {
        TABLE.awaitListed(apacheNs, 60, broker);
        String t = "ScaleTopic_new";
        long t0 = System.nanoTime();
        ourNs.admin().createAndUpdateTopicConfig(broker.addr(), new TopicConfig(t, QUEUES, QUEUES, 6));
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            Net.await(() -> TopicTable.listed(ns).contains(t), 30, () -> ns.name + " routes " + t);
            assertNull(TABLE.routeProblem(ns, broker, t));
        }
        System.out.printf("RegistrationScaleTest: a topic created beside %d was routed by both name servers "
            + "after %d ms%n", TOPICS, (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void restartedApacheNameServerGetsTheTableBack() throws Exception {
        TABLE.awaitListed(apacheNs, 60, broker);
        apacheNs.stop();
        apacheNs.start();
        TABLE.awaitListed(apacheNs, 60, broker);
        assertNull(TABLE.routeProblem(apacheNs, broker, TABLE.topic(TOPICS - 1)));
    }
}
