package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.common.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Net;
import org.rocketmqc.compat.apache.Servers;
import org.rocketmqc.compat.apache.TopicTable;

/**
 * Large topic tables registered in batches (enableSplitRegistration, splitRegistrationSize=500)
 * by Apache 5.3.3's broker and by ours, ours also deflated (compressedRegister=true), each with
 * Apache 5.3.3's name server and with ours at once: every topic of both brokers is routed by
 * both name servers. Beside the tables, in this order: a topic created on one broker is routed
 * by both name servers within a second (the incremental registration); topics deleted as
 * mqadmin deleteTopic does (broker, then name servers) leave the routes; after both name
 * servers restart, the brokers' periodic registrations bring everything back (tables and
 * created topics) and not the deleted topics.
 *
 * The two brokers split differently and both must work: Apache's sends batches of 500 topics
 * and moves its data version on after each (TopicConfigManager.buildSerializeWrapper calls
 * nextVersion when splitting), so every batch is news to a name server; ours gives each batch
 * a stand-in version below the table's (src/broker/registration.c). Apache 5.3.3's broker is
 * not deflated here: with compressedRegister=true it deflates the body but sends the header
 * compressed=false (BrokerOuterAPI.registerBrokerAll), and both name servers refuse that body
 * (Apache's with a NullPointerException remark, ours "bad JSON"); docs/registration.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SplitRegistrationTest {
    static final int TOPICS = 4000, QUEUES = 4;
    final TopicTable apacheTable = new TopicTable("SplitJ", TOPICS, QUEUES);
    final TopicTable ourTable = new TopicTable("SplitC", TOPICS, QUEUES);
    Servers servers;
    NameServer apacheNs, ourNs;
    Broker apacheBroker, ourBroker;
    /** Created after the start (one per broker), and created then deleted. */
    final List<String> created = new ArrayList<>(), deleted = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        servers = new Servers("split5");
        apacheNs = servers.nameServer(Impl.APACHE);
        ourNs = servers.nameServer(Impl.OURS);
        apacheBroker = split(servers.broker(Impl.APACHE, "broker-j", apacheNs, ourNs));
        ourBroker = split(servers.broker(Impl.OURS, "broker-c", apacheNs, ourNs));
        apacheTable.writeTopicsJson(apacheBroker);
        ourTable.writeTopicsJson(ourBroker);
        apacheBroker.start();
        ourBroker.start();
    }

    /** Split into batches of 500; the periodic registration every 10 s (Apache's least). */
    static Broker split(Broker b) {
        b.set("enableSplitRegistration", "true").set("splitRegistrationSize", "500")
            .set("registerNameServerPeriod", "10000");
        return b.impl == Impl.OURS ? b.set("compressedRegister", "true") : b;
    }

    @AfterAll
    void stop() {
        if (servers != null) servers.close();
    }

    /** Both name servers list every topic of both brokers (the registrations got through). */
    void awaitEveryTopicListed(int seconds) {
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            apacheTable.awaitListed(ns, seconds, apacheBroker);
            ourTable.awaitListed(ns, seconds, ourBroker);
        }
    }

    /** Both name servers route every topic of both brokers (each topic's route checked). */
    void assertEveryTopicRouted(int seconds) {
        awaitEveryTopicListed(seconds);
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            assertEquals(List.of(), apacheTable.unrouted(ns, apacheBroker), ns.name + ", Apache's broker's topics");
            assertEquals(List.of(), ourTable.unrouted(ns, ourBroker), ns.name + ", our broker's topics");
        }
    }

    @Test
    @Order(1)
    void splitCompressedTablesAreRoutedByBothNameServers() {
        assertEveryTopicRouted(60);
    }

    Broker brokerOf(String topic) {
        return topic.contains("_j_") ? apacheBroker : ourBroker;
    }

    boolean listedByAny(String topic) {
        return TopicTable.listed(apacheNs).contains(topic) || TopicTable.listed(ourNs).contains(topic);
    }

    @Test
    @Order(2)
    void topicCreatedOnOneBrokerIsRoutedWithinASecond() throws Exception {
        awaitEveryTopicListed(60);
        for (Broker b : List.of(apacheBroker, ourBroker)) {
            String t = "SplitNew_" + (b == apacheBroker ? "j" : "c") + "_0";
            long t0 = System.nanoTime();
            ourNs.admin().createAndUpdateTopicConfig(b.addr(), new TopicConfig(t, QUEUES, QUEUES, 6));
            for (NameServer ns : List.of(apacheNs, ourNs)) {
                while (apacheTable.routeProblem(ns, b, t) != null && System.nanoTime() - t0 < 1_000_000_000L)
                    Thread.sleep(5);
                assertNull(apacheTable.routeProblem(ns, b, t), ns.name + " within 1 s of the creation on " + b.name);
                var route = ns.admin().examineTopicRouteInfo(t);
                assertEquals(1, route.getQueueDatas().size(), ns.name + ": only " + b.name + " has " + t);
            }
            created.add(t);
        }
    }

    @Test
    @Order(3)
    void deletedTopicsLeaveTheRoutes() throws Exception {
        for (Broker b : List.of(apacheBroker, ourBroker))
            for (int i = 0; i < 10; i++) {
                String t = "SplitDel_" + (b == apacheBroker ? "j" : "c") + "_" + i;
                ourNs.admin().createAndUpdateTopicConfig(b.addr(), new TopicConfig(t, QUEUES, QUEUES, 6));
                deleted.add(t);
            }
        for (String t : deleted)
            for (NameServer ns : List.of(apacheNs, ourNs))
                Net.await(() -> TopicTable.listed(ns).contains(t), 30, () -> ns.name + " routes " + t);
        // mqadmin deleteTopic -c DefaultCluster: from the broker, then from every name server.
        Set<String> nameServers = Set.of(apacheNs.addr(), ourNs.addr());
        for (String t : deleted) {
            ourNs.admin().deleteTopicInBroker(Set.of(brokerOf(t).addr()), t);
            ourNs.admin().deleteTopicInNameServer(nameServers, "DefaultCluster", t);
        }
        for (String t : deleted) assertFalse(listedByAny(t), t + " still listed");
        for (NameServer ns : List.of(apacheNs, ourNs))
            assertTrue(apacheTable.routeProblem(ns, apacheBroker, deleted.get(0)) != null, ns.name + " still routes " + deleted.get(0));
    }

    @Test
    @Order(4)
    void restartedNameServersGetEverythingBackButTheDeleted() throws Exception {
        awaitEveryTopicListed(60);
        long t0 = System.nanoTime();
        for (NameServer ns : List.of(apacheNs, ourNs)) {
            ns.stop();
            ns.start();
        }
        // The next periodic registration of each broker (every 10 s).
        assertEveryTopicRouted(45);
        System.out.printf("SplitRegistrationTest: %d topics of each broker routed again %d ms after the name "
            + "servers restarted%n", TOPICS, (System.nanoTime() - t0) / 1_000_000);
        for (String t : created)
            for (NameServer ns : List.of(apacheNs, ourNs)) assertNull(apacheTable.routeProblem(ns, brokerOf(t), t));
        for (String t : deleted) assertFalse(listedByAny(t), t + " came back after the restart");
    }
}
