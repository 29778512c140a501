package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The 5.3.3 Java producer and a pull consumer, in the root network namespace, drive our
 * servers each in a network namespace of its own (made and removed here, on a bridge the root
 * namespace joins too): mqnamesrv with our controller on host 1, two mqbrokers in controller
 * mode with allAckInSyncStateSet (one broker set) on hosts 2 and 3. A producer thread sends
 * all along through two faults: the master (host 2) is killed with SIGKILL and the controller
 * elects the slave; the killed one restarts and rejoins as slave; then the new master's link
 * (host 3) is cut until the controller elects the other, and restored (the cut one follows,
 * its log cut back). Printed per fault: the time from the fault to the first SEND_OK, sends
 * acknowledged and failed; at the end acknowledged messages missing on the master (must be
 * 0). Needs root and iproute2: skipped otherwise, failed with CI=true.
 */
class NetnsFailoverTest {
    static final String TOPIC = "netns-set";   /* the broker-name topic: brokerTopicEnable */
    final String tag = Long.toString(ProcessHandle.current().pid() % 100000);
    final String net = "10." + (Integer.parseInt(tag) % 200 + 20) + "." + (Integer.parseInt(tag) / 200 % 250) + ".";
    final List<String> namespaces = new ArrayList<>();
    final List<Process> procs = new ArrayList<>();

    static boolean run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    static void must(String... cmd) throws Exception {
        if (!run(cmd)) throw new IllegalStateException("failed: " + String.join(" ", cmd));
    }

    void skipOrFail(String why) {
        if ("true".equals(System.getenv("CI"))) throw new AssertionError(why + " (CI=true)");
        Assumptions.assumeTrue(false, why);
    }

    String ns(String host) {
        return "rmqj" + tag + host;
    }

    Process spawn(String host, Path log, Path home, String... cmd) throws IOException {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns(host)));
        all.addAll(List.of(cmd));
        ProcessBuilder pb = new ProcessBuilder(all).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("HOME", home.toString());
        pb.environment().put("RMQ_LOG_STDERR", "1");
        Process p = pb.start();
        procs.add(p);
        return p;
    }

    @Test
    void officialClientsThroughAMasterKill() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) skipOrFail("network namespaces need root");
        if (!run("ip", "netns", "add", ns("chk"))) skipOrFail("ip netns add is not available or not permitted");
        run("ip", "netns", "del", ns("chk"));
        String b = System.getenv("RMQ_BUILDDIR");
        Path build = (b == null || b.isEmpty() ? new File("../../build").getCanonicalFile().toPath() : Path.of(b));
        Path dir = Files.createTempDirectory("rmq-netns-");
        try {
            network();
            String nsAddr = net + "1:9876", ctlAddr = net + "1:9878";
            Files.writeString(dir.resolve("namesrv.conf"), "listenPort=9876\nkvConfigPath=" + dir + "/kv.json\n"
                + "enableControllerInNamesrv=true\ncontrollerDLegerGroup=group1\ncontrollerDLegerPeers=n0-" + ctlAddr
                + "\ncontrollerDLegerSelfId=n0\ncontrollerStorePath=" + dir + "/controller\n"
                + "scanNotActiveBrokerInterval=500\n");
            spawn("h1", dir.resolve("namesrv.log"), dir, build.resolve("mqnamesrv").toString(), "-c",
                dir.resolve("namesrv.conf").toString());
            for (int i = 0; i < 2; i++) {
                String name = "broker" + i;
                Files.writeString(dir.resolve(name + ".conf"), "brokerClusterName=NetnsCluster\nbrokerName=" + TOPIC
                    + "\nbrokerIP1=" + net + (i + 2) + "\nlistenPort=10911\nnamesrvAddr=" + nsAddr
                    + "\nstorePathRootDir=" + dir + "/" + name + "-store\nmappedFileSizeCommitLog=16777216\n"
                    + "brokerTopicEnable=true\nenableControllerMode=true\ncontrollerAddr=" + ctlAddr + "\n"
                    + "allAckInSyncStateSet=true\nbrokerHeartbeatInterval=300\ncontrollerHeartBeatTimeoutMills=3000\n"
                    + "syncBrokerMetadataPeriod=1000\ncheckSyncStateSetPeriod=1000\nregisterNameServerPeriod=1000\n"
                    + "syncFlushTimeout=1500\n");
                Thread.sleep(i == 0 ? 300 : 1500);   /* the first started is elected master */
                startBroker(i, build, dir);
            }
            drive(nsAddr, ctlAddr, build, dir);
        } finally {
            for (Process p : procs) p.destroyForcibly();
            for (Process p : procs) p.waitFor(10, TimeUnit.SECONDS);
            for (int i = namespaces.size() - 1; i >= 0; i--) run("ip", "netns", "del", namespaces.get(i));
            if (System.getenv("RMQ_KEEP_DIRS") == null) run("rm", "-rf", dir.toString());
        }
    }

    final Process[] brokers = new Process[2];

    void startBroker(int i, Path build, Path dir) throws IOException {
        String name = "broker" + i;
        brokers[i] = spawn("h" + (i + 2), dir.resolve(name + ".log"), dir, build.resolve("mqbroker").toString(), "-c",
            dir.resolve(name + ".conf").toString());
    }

    /** A bridge in its own namespace; hosts h1..h3 and the root namespace on it. */
    void network() throws Exception {
        for (String h : new String[] {"b", "h1", "h2", "h3"}) {
            must("ip", "netns", "add", ns(h));
            namespaces.add(ns(h));
            must("ip", "-n", ns(h), "link", "set", "lo", "up");
        }
        must("ip", "-n", ns("b"), "link", "add", "br0", "type", "bridge");
        must("ip", "-n", ns("b"), "link", "set", "br0", "up");
        for (int i = 1; i <= 3; i++) {
            String h = "h" + i;
            must("ip", "-n", ns("b"), "link", "add", "v" + h, "type", "veth", "peer", "name", "eth0", "netns", ns(h));
            must("ip", "-n", ns("b"), "link", "set", "v" + h, "master", "br0", "up");
            must("ip", "-n", ns(h), "addr", "add", net + i + "/24", "dev", "eth0");
            must("ip", "-n", ns(h), "link", "set", "eth0", "up");
        }
        // The client (this JVM) stays in the root namespace, on the bridge as .100.
        String root = "rmqj" + tag + "r";
        must("ip", "link", "add", root, "type", "veth", "peer", "name", "vr", "netns", ns("b"));
        must("ip", "-n", ns("b"), "link", "set", "vr", "master", "br0", "up");
        must("ip", "addr", "add", net + "100/24", "dev", root);
        must("ip", "link", "set", root, "up");
    }

    /* Per fault: when it happened, the first SEND_OK after it (nanoTime), sends acknowledged and failed meanwhile. */
    final long[] faultAt = new long[2], firstOk = new long[2], ackedIn = new long[2], failedIn = new long[2];
    volatile int phase = -1;

    void drive(String nsAddr, String ctlAddr, Path build, Path dir) throws Exception {
        org.apache.rocketmq.tools.admin.DefaultMQAdminExt admin = new org.apache.rocketmq.tools.admin.DefaultMQAdminExt();
        admin.setNamesrvAddr(nsAddr);
        admin.setInstanceName("netns-admin-" + System.nanoTime());
        admin.start();
        try {
            drive(nsAddr, ctlAddr, admin, build, dir);
        } finally {
            admin.shutdown();
        }
    }

    /** Which broker (0: host 2, 1: host 3) the controller names master now, with both in sync; -1 until then. */
    int master(org.apache.rocketmq.tools.admin.DefaultMQAdminExt admin, String ctlAddr) {
        try {
            var info = admin.getInSyncStateData(ctlAddr, List.of(TOPIC)).getReplicasInfoTable().get(TOPIC);
            if (info == null || info.getInSyncReplicas().size() != 2) return -1;
            String addr = info.getMasterAddress();
            return (net + "2:10911").equals(addr) ? 0 : (net + "3:10911").equals(addr) ? 1 : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    int awaitMaster(org.apache.rocketmq.tools.admin.DefaultMQAdminExt admin, String ctlAddr, Path dir)
        throws InterruptedException {
        long until = System.currentTimeMillis() + 60_000;
        int m;
        while ((m = master(admin, ctlAddr)) < 0 && System.currentTimeMillis() < until) Thread.sleep(100);
        assertTrue(m >= 0, "the controller never had a master with its slave in sync; logs in " + dir);
        return m;
    }

    void drive(String nsAddr, String ctlAddr, org.apache.rocketmq.tools.admin.DefaultMQAdminExt admin, Path build,
               Path dir) throws Exception {
        DefaultMQProducer p = ControllerTest.producer("netns-pg", nsAddr, 3_000);
        Set<String> acked = java.util.Collections.synchronizedSet(new HashSet<>());
        AtomicBoolean stop = new AtomicBoolean();
        String[] faults = {"kill -9 of the master", "the master's link cut"};
        try {
            long deadline = System.currentTimeMillis() + 60_000;
            while (acked.isEmpty() && System.currentTimeMillis() < deadline) send(p, "warm", acked);
            assertTrue(!acked.isEmpty(), "no SEND_OK from the cluster within 60 s; logs in " + dir);
            int m = awaitMaster(admin, ctlAddr, dir);   /* from now on SEND_OK means both have it */
            Thread sender = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    send(p, "m-" + i, acked);
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sender.start();
            Thread.sleep(3_000);
            brokers[m].destroyForcibly();   /* ip netns exec exec'd the broker: this is SIGKILL to it */
            brokers[m].waitFor(10, TimeUnit.SECONDS);
            fault(0);                       /* from the moment it is gone: sends started later count */
            awaitOk(0, dir);
            startBroker(m, build, dir);     /* it rejoins as slave and catches up */
            int m2 = awaitMaster(admin, ctlAddr, dir);
            assertEquals(1 - m, m2, "the killed master came back as master");
            Thread.sleep(2_000);
            String link = "vh" + (m2 + 2);
            must("ip", "-n", ns("b"), "link", "set", link, "down");
            fault(1);
            awaitOk(1, dir);
            must("ip", "-n", ns("b"), "link", "set", link, "up");
            Thread.sleep(5_000);            /* host 3 hears of the election and follows */
            stop.set(true);
            sender.join(10_000);
        } finally {
            p.shutdown();
        }
        Set<String> read = ControllerTest.readBodies(nsAddr, TOPIC);
        long lost = acked.stream().filter(m -> !read.contains(m)).count();
        for (int f = 0; f < 2; f++)
            System.out.printf("netns (5.3.3 clients, our servers, 3 hosts): %s -> first SEND_OK %d ms; "
                + "%d sends acknowledged, %d failed until the next fault or the end%n", faults[f],
                (firstOk[f] - faultAt[f]) / 1_000_000, ackedIn[f], failedIn[f]);
        System.out.printf("netns: %d sends acknowledged in all, %d of them missing on the master%n", acked.size(), lost);
        assertEquals(0, lost, "acknowledged messages lost");
    }

    synchronized void fault(int f) {
        faultAt[f] = System.nanoTime();
        phase = f;
    }

    void awaitOk(int f, Path dir) throws InterruptedException {
        long until = System.currentTimeMillis() + 30_000;
        while (okAfter(f) == 0 && System.currentTimeMillis() < until) Thread.sleep(20);
        assertTrue(okAfter(f) != 0, "no SEND_OK within 30 s of fault " + f + "; logs in " + dir);
    }

    synchronized long okAfter(int f) {
        return firstOk[f];
    }

    /* A send's outcome; STARTED: its nanoTime (a send in flight at a fault does not count as after it). */
    synchronized void count(boolean ok, long started) {
        int f = phase;
        if (f < 0) return;
        if (ok) {
            ackedIn[f]++;
            if (firstOk[f] == 0 && started >= faultAt[f]) firstOk[f] = System.nanoTime();
        } else {
            failedIn[f]++;
        }
    }

    void send(DefaultMQProducer p, String body, Set<String> acked) {
        long started = System.nanoTime();
        try {
            SendResult r = p.send(new Message(TOPIC, body.getBytes(StandardCharsets.UTF_8)));
            if (r.getSendStatus() == SendStatus.SEND_OK) {
                acked.add(body);
                count(true, started);
                return;
            }
        } catch (Exception e) {
            // counted below; the route is refreshed for the next try
            try {
                p.getDefaultMQProducerImpl().getMqClientFactory().updateTopicRouteInfoFromNameServer(TOPIC);
            } catch (Exception ignored) {
                // the name server may be slow to answer too
            }
        }
        count(false, started);
    }
}
