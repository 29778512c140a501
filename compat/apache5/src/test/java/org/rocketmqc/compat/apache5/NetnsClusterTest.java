package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.protocol.body.BrokerReplicasInfo;
import org.apache.rocketmq.remoting.protocol.body.HARuntimeInfo;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster of our servers on six hosts (network namespaces, Netns), driven by the 5.3.3
 * producer and push consumer from the root namespace: two name servers, each with a
 * controller (host 1 the leader, host 2 a follower the brokers ask first), and two broker sets
 * in controller mode with allAckInSyncStateSet (the master acknowledges a send once its
 * in-sync slave has it, as SYNC_MASTER): netns-a on hosts 3 and 4, netns-b on hosts 5 and 6.
 * One sender thread per set sends all along (sync, 3 s timeout, no retries: each failure
 * shows); the push consumer consumes both sets' topics all along. Four faults, one at a time,
 * each healed and followed by a wait until the slave has rejoined (the controller lists both
 * in the SyncStateSet and the slave's max offset, by GET_BROKER_HA_STATUS, reaches what the
 * master's was at the heal) and the consumer has consumed everything acknowledged so far:
 *   0. kill -9 of netns-a's master: the controller elects its slave; the killed one restarts
 *      and follows;
 *   1. netns-b's master's link cut: after the 3 s heartbeat timeout the slave is elected; the
 *      cut one fences itself and follows when the link returns;
 *   2. netns-a's master partitioned from its slave alone (both still reach the controller and
 *      the clients): no send is acknowledged until the master drops the slave from the
 *      SyncStateSet (haMaxTimeSlaveNotCatchup, 5 s here), then it acknowledges alone;
 *   3. netns-b's master paused (SIGSTOP) past the heartbeat timeout: the slave is elected;
 *      the resumed one (SIGCONT after that) takes nothing and follows.
 * Printed per fault: the time from it to the first SEND_OK on the set (of a send started
 * after it; must be within BOUND_MS), sends acknowledged and failed on both sets, the slave's
 * catch-up after the heal, acknowledged messages lost. Every acknowledged message must be
 * consumed and be on its set's master at the end. Needs root and iproute2: skipped otherwise,
 * failed with CI=true. About 70 s.
 */
class NetnsClusterTest {
    static final String[] SETS = {"netns-a", "netns-b"};   /* broker-name topics: brokerTopicEnable */
    static final String[] FAULTS = {"kill -9 of the master", "the master's link cut",
        "the master partitioned from its slave", "the master paused (SIGSTOP)"};
    static final int[] FAULT_SET = {0, 1, 0, 1};
    /*
     * Fault -> first SEND_OK, at most: a kill closes the heartbeat channel (the controller
     * elects at once, ~0.1 s); a cut or a pause needs the 3 s heartbeat timeout, the 0.5 s
     * scan, the new master's registration and the client's 3 s timeout on the old one (~6 s);
     * the partition needs haMaxTimeSlaveNotCatchup 5 s and a 1 s check (~7 s). The bounds are
     * about twice that, for a CI machine of 2 busy cores.
     */
    static final long[] BOUND_MS = {10_000, 15_000, 20_000, 15_000};

    Netns hosts;
    String nsAddr;
    String[] ctlAddrs;
    DefaultMQAdminExt admin;
    final Process[][] brokers = new Process[2][2];

    static int host(int set, int k) {
        return 3 + 2 * set + k;
    }

    String addr(int set, int k) {
        return hosts.ip(host(set, k)) + ":10911";
    }

    void start(int set, int k) throws Exception {
        brokers[set][k] = hosts.broker(host(set, k), "broker-" + set + k);
    }

    @Test
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void officialClientsThroughFourFaultsOnTwoSets() throws Exception {
        try (Netns n = Netns.open(6)) {
            hosts = n;
            ctlAddrs = new String[] {n.ip(1) + ":9878", n.ip(2) + ":9878"};
            nsAddr = n.ip(1) + ":9876;" + n.ip(2) + ":9876";
            String peers = "n0-" + ctlAddrs[0] + ";n1-" + ctlAddrs[1];
            n.namesrvConf("namesrv1", "n0", peers);
            n.namesrvConf("namesrv2", "n1", peers);
            n.namesrv(1, "namesrv1");
            n.namesrv(2, "namesrv2");
            for (int s = 0; s < 2; s++)
                for (int k = 0; k < 2; k++)
                    n.brokerConf("broker-" + s + k, SETS[s], host(s, k), nsAddr, ctlAddrs[1] + ";" + ctlAddrs[0],
                        "haMaxTimeSlaveNotCatchup=5000\n");
            Thread.sleep(300);
            for (int k = 0; k < 2; k++) {
                for (int s = 0; s < 2; s++) start(s, k);
                Thread.sleep(1500);   /* the first started of each set is elected its master */
            }
            admin = new DefaultMQAdminExt();
            admin.setNamesrvAddr(nsAddr);
            admin.setInstanceName("netns-cluster-admin-" + System.nanoTime());
            admin.start();
            try {
                drive();
            } finally {
                admin.shutdown();
            }
        }
    }

    /** The controller's view of SET: {master index (-1 unknown), members in the SyncStateSet}. */
    int[] replicas(int set) {
        for (String ctl : ctlAddrs) {
            try {
                BrokerReplicasInfo.ReplicasInfo info = admin.getInSyncStateData(ctl, List.of(SETS[set]))
                    .getReplicasInfoTable().get(SETS[set]);
                if (info == null) continue;
                String m = info.getMasterAddress();
                return new int[] {addr(set, 0).equals(m) ? 0 : addr(set, 1).equals(m) ? 1 : -1,
                    info.getInSyncReplicas().size()};
            } catch (Exception e) {
                // this controller is cut off or not the one to answer; ask the other
            }
        }
        return new int[] {-1, 0};
    }

    /** SET's master once both are in its SyncStateSet (60 s at most). */
    int awaitInSync(int set) throws InterruptedException {
        long until = System.currentTimeMillis() + 60_000;
        int[] r;
        while (((r = replicas(set))[0] < 0 || r[1] != 2) && System.currentTimeMillis() < until) Thread.sleep(100);
        assertTrue(r[0] >= 0 && r[1] == 2, SETS[set] + ": no master with its slave in sync within 60 s; logs in "
            + hosts.dir + " (RMQ_KEEP_DIRS=1 keeps them)");
        return r[0];
    }

    /* Accounting. Phase -1: before the faults; phase f from fault f until fault f+1 (or the end). */
    volatile int phase = -1;
    final Map<String, Integer> acked = new ConcurrentHashMap<>();   /* body -> phase of its SEND_OK */
    final Set<String> consumed = ConcurrentHashMap.newKeySet();
    final long[] faultAt = new long[4], firstOk = new long[4];
    final long[][] ackedIn = new long[5][2], failedIn = new long[5][2];
    final int[] masterBefore = new int[4], masterAfter = new int[4];
    final long[] healedToRejoin = new long[4], targetOffset = new long[4], slaveOffset = new long[4];
    final long[] consumerCaughtUp = new long[4];

    synchronized void count(int set, String body, boolean ok, long started) {
        int f = phase;
        if (ok) {
            acked.put(body, f);
            ackedIn[f + 1][set]++;
            if (f >= 0 && set == FAULT_SET[f] && firstOk[f] == 0 && started >= faultAt[f]) firstOk[f] = System.nanoTime();
        } else {
            failedIn[f + 1][set]++;
        }
    }

    synchronized void fault(int f) {
        faultAt[f] = System.nanoTime();
        phase = f;
    }

    synchronized long firstOk(int f) {
        return firstOk[f];
    }

    boolean send(DefaultMQProducer p, int set, String body) {
        long started = System.nanoTime();
        boolean ok = false;
        try {
            ok = p.send(new Message(SETS[set], body.getBytes(StandardCharsets.UTF_8))).getSendStatus()
                == SendStatus.SEND_OK;
        } catch (Exception e) {
            // counted below; the client keeps a route 30 s, a failed send makes it ask again
            try {
                p.getDefaultMQProducerImpl().getMqClientFactory().updateTopicRouteInfoFromNameServer(SETS[set]);
            } catch (Exception ignored) {
                // a name server may be slow to answer too
            }
        }
        count(set, body, ok, started);
        return ok;
    }

    DefaultMQPushConsumer consumer() throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer("netns-cluster-cg");
        c.setNamesrvAddr(nsAddr);
        c.setInstanceName("netns-cluster-cg-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        for (String t : SETS) c.subscribe(t, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) consumed.add(new String(m.getBody(), StandardCharsets.UTF_8));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        return c;
    }

    /** Waits (SECONDS at most) until everything acknowledged so far is consumed; the ms it took, -1 if not. */
    long awaitConsumed(int seconds) throws InterruptedException {
        long t0 = System.nanoTime();
        Set<String> want = Set.copyOf(acked.keySet());
        while (!consumed.containsAll(want)) {
            if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(seconds)) return -1;
            Thread.sleep(50);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    void drive() throws Exception {
        DefaultMQProducer p = ControllerTest.producer("netns-cluster-pg", nsAddr, 3_000);
        DefaultMQPushConsumer c = consumer();
        AtomicBoolean stop = new AtomicBoolean();
        Thread[] senders = new Thread[2];
        boolean passed = false;
        try {
            for (int s = 0; s < 2; s++) {
                awaitInSync(s);   /* from now on SEND_OK means both have it */
                long until = System.currentTimeMillis() + 30_000;
                boolean ok = false;
                for (int i = 0; !ok && System.currentTimeMillis() < until; i++) ok = send(p, s, SETS[s] + "-warm-" + i);
                assertTrue(ok, SETS[s] + ": no SEND_OK within 30 s; logs in " + hosts.dir);
            }
            for (int s = 0; s < 2; s++) {
                int set = s;
                senders[s] = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        send(p, set, SETS[set] + "-" + i);
                        try {
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "sender-" + SETS[s]);
                senders[s].start();
            }
            Thread.sleep(2_000);
            for (int f = 0; f < 4; f++) faultHealRejoin(f);
            Thread.sleep(2_000);
            passed = true;
        } finally {
            stop.set(true);
            for (Thread t : senders) {
                if (t == null) continue;
                t.join(10_000);   /* a send in flight ends within its 3 s timeout */
            }
            p.shutdown();
            if (!passed) {
                figures();   /* what there is, for the failure's diagnosis */
                c.shutdown();
            }
        }
        try {
            long lastWait = awaitConsumed(60);
            long notConsumed = figures();
            long notStored = 0;
            for (String set : SETS) {
                Set<String> read = ControllerTest.readBodies(nsAddr, set);
                notStored += acked.keySet().stream().filter(b -> b.startsWith(set + "-") && !read.contains(b)).count();
            }
            System.out.printf("netns cluster: %d sends acknowledged in all (%d before the faults), %d consumed "
                + "(the last %d ms after the senders stopped), %d acknowledged not consumed, %d missing on the masters%n",
                acked.size(), ackedIn[0][0] + ackedIn[0][1], consumed.size(), lastWait, notConsumed, notStored);
            assertEquals(0, notConsumed, "acknowledged messages never consumed");
            assertEquals(0, notStored, "acknowledged messages missing on the masters");
        } finally {
            c.shutdown();
        }
    }

    void faultHealRejoin(int f) throws Exception {
        int s = FAULT_SET[f];
        int m = masterBefore[f] = awaitInSync(s);
        Process master = brokers[s][m];
        switch (f) {
            case 0 -> {
                master.destroyForcibly();   /* ip netns exec exec'd the broker: this is SIGKILL to it */
                assertTrue(master.waitFor(10, TimeUnit.SECONDS), "the killed master still runs");
                fault(f);                   /* from the moment it is gone: sends started later count */
            }
            case 1 -> {
                hosts.link(host(s, m), false);
                fault(f);
            }
            case 2 -> {
                hosts.partition(host(s, m), host(s, 1 - m), true);
                fault(f);
            }
            default -> {
                Netns.pause(master, true);
                fault(f);
            }
        }
        long until = System.currentTimeMillis() + BOUND_MS[f];
        while (firstOk(f) == 0 && System.currentTimeMillis() < until) Thread.sleep(20);
        assertTrue(firstOk(f) != 0, SETS[s] + ": no SEND_OK within " + BOUND_MS[f] + " ms of " + FAULTS[f]
            + "; logs in " + hosts.dir);
        masterAfter[f] = replicas(s)[0];
        switch (f) {
            case 0 -> start(s, m);
            case 1 -> hosts.link(host(s, m), true);
            case 2 -> hosts.partition(host(s, m), host(s, 1 - m), false);
            default -> Netns.pause(master, false);
        }
        awaitRejoin(f, s);
        consumerCaughtUp[f] = awaitConsumed(60);
        assertTrue(consumerCaughtUp[f] >= 0, "the consumer did not consume everything acknowledged within 60 s of "
            + SETS[s] + "'s slave rejoining after " + FAULTS[f]);
    }

    /**
     * After a heal: waits (60 s at most) until SET's slave is back, the controller listing both
     * in the SyncStateSet and the slave's max offset (GET_BROKER_HA_STATUS) at least the
     * master's commit-log max offset when first asked after the heal.
     */
    void awaitRejoin(int f, int set) throws Exception {
        long t0 = System.nanoTime(), until = System.currentTimeMillis() + 60_000;
        long target = -1, got = -1;
        while (System.currentTimeMillis() < until) {
            int[] r = replicas(set);
            try {
                if (r[0] >= 0) {
                    HARuntimeInfo hm = admin.getBrokerHAStatus(addr(set, r[0]));
                    if (target < 0 && hm.isMaster()) target = hm.getMasterCommitLogMaxOffset();
                    HARuntimeInfo hs = admin.getBrokerHAStatus(addr(set, 1 - r[0]));
                    if (!hs.isMaster()) got = hs.getHaClientRuntimeInfo().getMaxOffset();
                    if (target >= 0 && got >= target && r[1] == 2) {
                        healedToRejoin[f] = (System.nanoTime() - t0) / 1_000_000;
                        targetOffset[f] = target;
                        slaveOffset[f] = got;
                        return;
                    }
                }
            } catch (Exception e) {
                // the restarted or resumed broker may not answer yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(SETS[set] + ": the slave did not rejoin within 60 s of healing " + FAULTS[f]
            + " (master's offset at the heal " + target + ", the slave's " + got + "); logs in " + hosts.dir);
    }

    /** Prints the figures of each fault so far; returns how many acknowledged messages are not consumed. */
    long figures() {
        Map<Integer, Long> lostIn = new java.util.HashMap<>();
        for (Map.Entry<String, Integer> e : acked.entrySet())
            if (!consumed.contains(e.getKey())) lostIn.merge(e.getValue(), 1L, Long::sum);
        for (int f = 0; f < 4 && faultAt[f] != 0; f++) {
            int s = FAULT_SET[f], o = 1 - s;
            System.out.printf("netns cluster (5.3.3 producer + push consumer; 2 name servers, 2 sets x master+slave, "
                    + "6 hosts): %s of %s -> first SEND_OK on host %d: %s ms (bound %d); %s: %d acknowledged, %d failed; "
                    + "%s: %d acknowledged, %d failed; healed -> slave caught up (offset %d >= master's %d at the heal) "
                    + "in %d ms; consumer had everything acknowledged %d ms later; acknowledged and not consumed: %d%n",
                FAULTS[f], SETS[s], masterAfter[f] < 0 ? -1 : host(s, masterAfter[f]),
                firstOk[f] == 0 ? "none" : Long.toString((firstOk[f] - faultAt[f]) / 1_000_000), BOUND_MS[f],
                SETS[s], ackedIn[f + 1][s], failedIn[f + 1][s], SETS[o], ackedIn[f + 1][o], failedIn[f + 1][o],
                slaveOffset[f], targetOffset[f], healedToRejoin[f], consumerCaughtUp[f], lostIn.getOrDefault(f, 0L));
        }
        return lostIn.values().stream().mapToLong(Long::longValue).sum();
    }
}
