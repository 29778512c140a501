package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
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
        // The table is on disk before the start, as after years of use: topics.json in Apache's format.
        StringBuilder json = new StringBuilder("{\"dataVersion\":{\"counter\":1,\"timestamp\":1700000000000},"
            + "\"topicConfigTable\":{");
        for (int i = 0; i < TOPICS; i++) {
            String t = topic(i);
            json.append(i == 0 ? "" : ",").append('"').append(t).append("\":{\"topicName\":\"").append(t)
                .append("\",\"readQueueNums\":").append(QUEUES).append(",\"writeQueueNums\":").append(QUEUES)
                .append(",\"perm\":6,\"topicFilterType\":\"SINGLE_TAG\",\"topicSysFlag\":0,\"order\":false}");
        }
        json.append("}}");
        Files.createDirectories(broker.storeDir().resolve("config"));
        Servers.write(broker.storeDir().resolve("config").resolve("topics.json"), json.toString());
        broker.start();
    }

    @AfterAll
    static void stop() {
        if (servers != null) servers.close();
    }

    static String topic(int i) {
        return String.format("ScaleTopic_%05d", i);
    }

    static Set<String> topicList(NameServer ns) {
        try {
            return new HashSet<>(ns.admin().fetchAllTopicList().getTopicList());
        } catch (Exception e) {
            return Set.of();
        }
    }

    static void awaitWholeTable(NameServer ns, int seconds) {
        Net.await(() -> {
            Set<String> listed = topicList(ns);
            for (int i = 0; i < TOPICS; i++) if (!listed.contains(topic(i))) return false;
            return true;
        }, seconds, () -> ns.name + " lists all " + TOPICS + " topics (has " + topicList(ns).size() + "); broker log:\n"
            + broker.proc().tail(20));
    }

    static void assertRouted(NameServer ns, String topic) throws Exception {
        TopicRouteData route = ns.admin().examineTopicRouteInfo(topic);
        assertNotNull(route, topic);
        List<QueueData> qds = route.getQueueDatas();
        assertEquals(1, qds.size(), ns.name + " " + topic + ": " + route);
        assertEquals(OURS, qds.get(0).getBrokerName());
        assertEquals(QUEUES, qds.get(0).getReadQueueNums());
        assertEquals(QUEUES, qds.get(0).getWriteQueueNums());
        assertEquals(broker.addr(), route.getBrokerDatas().get(0).getBrokerAddrs().get(0L));
    }

    @Test
    void compressedTableIsRoutedByBothNameServers() throws Exception {
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            awaitWholeTable(ns, 60);
            for (int i = 0; i < TOPICS; i += TOPICS / 25) assertRouted(ns, topic(i));
        }
    }

    @Test
    void topicCreatedLaterIsRoutedByBoth() throws Exception {
        awaitWholeTable(apacheNs, 60);
        String t = "ScaleTopic_new";
        long t0 = System.nanoTime();
        ourNs.admin().createAndUpdateTopicConfig(broker.addr(), new TopicConfig(t, QUEUES, QUEUES, 6));
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            Net.await(() -> topicList(ns).contains(t), 30, () -> ns.name + " routes " + t);
            assertRouted(ns, t);
        }
        System.out.printf("RegistrationScaleTest: a topic created beside %d was routed by both name servers "
            + "after %d ms%n", TOPICS, (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void restartedApacheNameServerGetsTheTableBack() throws Exception {
        awaitWholeTable(apacheNs, 60);
        apacheNs.stop();
        apacheNs.start();
        awaitWholeTable(apacheNs, 60);
        assertRouted(apacheNs, topic(TOPICS - 1));
    }
}
