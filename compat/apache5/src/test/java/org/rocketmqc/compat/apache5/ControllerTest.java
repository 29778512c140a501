package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Options;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.srvutil.ServerUtil;
import org.apache.rocketmq.tools.command.SubCommand;
import org.apache.rocketmq.tools.command.broker.GetBrokerEpochSubCommand;
import org.apache.rocketmq.tools.command.ha.HAStatusSubCommand;
import org.apache.rocketmq.remoting.protocol.body.EpochEntryCache;
import org.apache.rocketmq.remoting.protocol.body.HARuntimeInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Net;
import org.rocketmqc.compat.apache.Servers;

/**
 * Controller mode (5.x automatic failover) across implementations, with the 5.3.3 producer.
 * A controller (embedded in a name server: Apache 5.3.3's DLedger controller or ours)
 * manages one broker set of two brokers with allAckInSyncStateSet=true: the first started
 * is elected master, the second joins as slave (the auto-switch HA protocol) and enters the
 * SyncStateSet, so SEND_OK means both have the message. The master is killed with SIGKILL;
 * the controller elects the slave; the producer keeps sending through the name server. The
 * time from the kill to the first SEND_OK is printed; every acknowledged message is read
 * back from the new master. Before the kill, GET_BROKER_HA_STATUS and GET_BROKER_EPOCH_CACHE
 * of both brokers are decoded by the 5.3.3 admin (HARuntimeInfo, EpochEntryCache) and must say
 * the same of either implementation; with our two brokers, the 5.3.3 mqadmin's haStatus and
 * getBrokerEpoch print what ours prints.
 *
 * controllerGroupOfThree: a controller group of three embedded in three name servers with two
 * brokers listing all three in controllerAddr: Apache's DLedger group with our brokers, and
 * our Raft group with Apache 5.3.3's brokers. The controller leader is killed: the group
 * elects another, the brokers find it (they beat to every controller), then the master broker
 * is killed and the new controller leader elects the slave.
 */
class ControllerTest {
    static final String GROUP = "ctl-group";
    static final String TOPIC = GROUP;   /* the broker-name topic: brokerTopicEnable */

    /** Controller, master and slave: Apache-only and ours-only give the figures the mixed ones compare with. */
    @ParameterizedTest(name = "{0} controller, {1} master, {2} slave")
    @CsvSource({"APACHE, OURS, OURS", "APACHE, APACHE, APACHE", "OURS, OURS, OURS", "OURS, APACHE, OURS",
        "OURS, OURS, APACHE"})
    void failover(Impl controller, Impl master, Impl slave) throws Exception {
        failoverOf(controller, master, slave);
    }

    /** Kill -> first SEND_OK (ms) per case of this run, for the summary at the end. */
    static final java.util.Map<String, Long> FAILOVER_MS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * One block with the failover times of this run: ours-only, Apache-only and the mixed
     * groups, measured the same way on the same machine minutes apart (a case that failed or
     * did not run shows as such).
     */
    @AfterAll
    static void summary() {
        String[][] rows = {
            {"ours-only", "OURS controller, OURS master, OURS slave"},
            {"Apache-only", "APACHE controller, APACHE master, APACHE slave"},
            {"mixed", "APACHE controller, OURS master, OURS slave"},
            {"mixed", "OURS controller, APACHE master, OURS slave"},
            {"mixed", "OURS controller, OURS master, APACHE slave"},
            {"mixed", "Apache DLedger controller group of 3, our brokers"}};
        StringBuilder out = new StringBuilder("controller failover summary (kill -9 of the master -> first SEND_OK, "
            + "5.3.3 producer, this run):\n");
        for (String[] row : rows) {
            Long ms = FAILOVER_MS.get(row[1]);
            out.append(String.format("  %-11s  %-52s  %s%n", row[0], row[1], ms == null ? "failed or not run" : ms + " ms"));
        }
        System.out.print(out);
    }

    static void failoverOf(Impl controllerImpl, Impl masterImpl, Impl slaveImpl) throws Exception {
        String label = controllerImpl + " controller, " + masterImpl + " master, " + slaveImpl + " slave";
        try (Servers s = new Servers("ctl-" + controllerImpl.name().toLowerCase() + "-" + masterImpl.name().toLowerCase())) {
            int ctlPort = Net.freePort();
            String ctlAddr = "127.0.0.1:" + ctlPort;
            NameServer ns = s.nameServer(controllerImpl, "enableControllerInNamesrv=true\n"
                + "controllerDLegerGroup=group1\ncontrollerDLegerPeers=n0-" + ctlAddr + "\n"
                + "controllerDLegerSelfId=n0\ncontrollerStorePath=" + s.dir.resolve("controller-store") + "\n"
                + "scanNotActiveBrokerInterval=1000\n");
            // The first to register gets controller id 1 and is elected; it registers with the
            // name server as brokerId 0, the slave under its controller id 2.
            Broker master = controllerMode(s.broker(masterImpl, GROUP, ns), ctlAddr).brokerId(0).start();
            Broker slave = controllerMode(s.broker(slaveImpl, GROUP, ns), ctlAddr).brokerId(2).start();

            DefaultMQProducer p = producer("ctl-pg", ns.addr(), 5_000);
            Set<String> acked = new HashSet<>();
            List<String> failures = new ArrayList<>();
            long failoverMs = -1;
            try {
                // The slave joins the SyncStateSet once it has caught up (GET_SYNC_STATE_DATA, as
                // mqadmin getSyncStateSet asks); from then on SEND_OK means both have the message.
                Net.await(() -> inSync(ns, ctlAddr) == 2, 60, () -> label + ": the slave never entered the SyncStateSet");
                sendUntilOk(p, "warm", acked, 30_000, label + ": no SEND_OK", failures);
                checkStatus(ns, master, slave, label, masterImpl == Impl.OURS && slaveImpl == Impl.OURS);
                for (int i = 0; i < 100; i++) {
                    SendResult r = p.send(msg("before-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": " + r);
                    acked.add("before-" + i);
                }
                long t0 = System.nanoTime();
                master.kill();
                long ms = sendUntilOk(p, "after-kill", acked, 60_000, label + ": no SEND_OK after the master died", failures);
                System.out.printf("controller failover (%s): kill -9 of the master -> first SEND_OK %d ms "
                    + "(%d failed sends before)%n", label, ms - (t0 / 1_000_000), failures.size());
                failoverMs = ms - (t0 / 1_000_000);
                for (int i = 0; i < 20; i++) {
                    SendResult r = p.send(msg("after-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": " + r);
                    acked.add("after-" + i);
                }
            } finally {
                p.shutdown();
            }
            Set<String> read = readBodies(ns.addr(), TOPIC);
            for (String body : acked) assertTrue(read.contains(body), label + ": acknowledged " + body + " missing");
            FAILOVER_MS.put(label, failoverMs);   /* a case that passed */
            slave.stop();
        }
    }

    /**
     * HARuntimeInfo and EpochEntryCache of a master and its in-sync slave, as the 5.3.3 admin
     * decodes them: the same facts whichever implementation answers. With COMPARE_TOOL, the
     * 5.3.3 mqadmin's haStatus and getBrokerEpoch output equals our mqadmin's.
     */
    static void checkStatus(NameServer ns, Broker master, Broker slave, String label, boolean compareTool)
        throws Exception {
        var admin = ns.admin();
        Net.await(() -> {
            try {
                HARuntimeInfo m = admin.getBrokerHAStatus(master.addr());
                return m.getHaConnectionInfo().size() == 1
                    && m.getHaConnectionInfo().get(0).getSlaveAckOffset() == m.getMasterCommitLogMaxOffset();
            } catch (Exception e) {
                return false;
            }
        }, 30, () -> label + ": the master's HA status never showed its slave caught up");
        HARuntimeInfo m = admin.getBrokerHAStatus(master.addr());
        assertTrue(m.isMaster(), label);
        assertEquals(1, m.getInSyncSlaveNums(), label);
        HARuntimeInfo.HAConnectionRuntimeInfo c = m.getHaConnectionInfo().get(0);
        assertTrue(c.isInSync(), label);
        assertEquals(0, c.getDiff(), label);
        assertEquals(m.getMasterCommitLogMaxOffset(), c.getTransferFromWhere(), label);
        assertTrue(c.getAddr().startsWith("127.0.0.1:"), label + ": " + c.getAddr());
        HARuntimeInfo sl = admin.getBrokerHAStatus(slave.addr());
        assertTrue(!sl.isMaster(), label);
        assertEquals(m.getMasterCommitLogMaxOffset(), sl.getHaClientRuntimeInfo().getMaxOffset(), label);
        assertTrue(System.currentTimeMillis() - sl.getHaClientRuntimeInfo().getLastReadTimestamp() < 15_000, label);
        EpochEntryCache em = admin.getBrokerEpochCache(master.addr()), es = admin.getBrokerEpochCache(slave.addr());
        assertEquals(0, em.getBrokerId(), label);
        assertEquals(2, es.getBrokerId(), label);
        assertEquals(GROUP, em.getBrokerName(), label);
        assertEquals(master.clusterName(), es.getClusterName(), label);
        assertEquals(m.getMasterCommitLogMaxOffset(), em.getMaxOffset(), label);
        assertEquals(em.getMaxOffset(), es.getMaxOffset(), label);
        assertEquals(1, em.getEpochList().size(), label + ": " + em);
        assertEquals(em.getEpochList().toString(), es.getEpochList().toString(), label);
        assertEquals(Long.MAX_VALUE, em.getEpochList().get(0).getEndOffset(), label);
        if (!compareTool) return;
        Thread.sleep(2_100);   /* two idle seconds: both tools show a transfer speed of 0 */
        String[][] commands = {
            {"haStatus", "-b", master.addr()}, {"haStatus", "-c", master.clusterName()},
            {"getBrokerEpoch", "-b", GROUP}, {"getBrokerEpoch", "-c", master.clusterName()}};
        for (String[] cmd : commands) {
            String[] args = {cmd[1], cmd[2], "-n", ns.addr()};
            SubCommand tool = cmd[0].equals("haStatus") ? new HAStatusSubCommand() : new GetBrokerEpochSubCommand();
            String apache = apacheTool(tool, args);
            String ours = ourMqadmin(cmd[0], cmd[1], cmd[2], "-n", ns.addr());
            assertEquals(apache, ours, label + ": mqadmin " + String.join(" ", cmd));
        }
    }

    /** What the 5.3.3 mqadmin prints for TOOL with ARGS, run here as MQAdminStartup.main0 runs it. */
    static synchronized String apacheTool(SubCommand tool, String... args) throws Exception {
        Options options = ServerUtil.buildCommandlineOptions(new Options());
        var line = ServerUtil.parseCmdLine("mqadmin " + tool.commandName(), args, tool.buildCommandlineOptions(options),
            new DefaultParser());
        System.setProperty(MixAll.NAMESRV_ADDR_PROPERTY, line.getOptionValue('n'));
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            tool.execute(line, options, null);
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** Our mqadmin ($RMQ_BUILDDIR/mqadmin) with ARGS: its standard output (it must exit 0). */
    static String ourMqadmin(String... args) throws Exception {
        String b = System.getenv("RMQ_BUILDDIR");
        Path bin = (b == null || b.isEmpty() ? Path.of("../../build") : Path.of(b)).resolve("mqadmin");
        List<String> cmd = new ArrayList<>(List.of(bin.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("ours-mqadmin-", ".out");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "our mqadmin still running");
        String text = Files.readString(out);
        Files.delete(out);
        assertEquals(0, p.exitValue(), "our mqadmin " + String.join(" ", args));
        return text;
    }

    @ParameterizedTest(name = "{0} controller group of 3, {1} brokers")
    @CsvSource({"APACHE, OURS", "OURS, APACHE"})
    void controllerGroupOfThree(Impl controllerImpl, Impl brokerImpl) throws Exception {
        String label = controllerImpl + " controller group of 3, " + brokerImpl + " brokers";
        try (Servers s = new Servers("ctl-group3-" + controllerImpl.name().toLowerCase())) {
            int[] ports = {Net.freePort(), Net.freePort(), Net.freePort()};
            String peers = "n0-127.0.0.1:" + ports[0] + ";n1-127.0.0.1:" + ports[1] + ";n2-127.0.0.1:" + ports[2];
            NameServer[] nss = new NameServer[3];
            for (int i = 0; i < 3; i++)
                nss[i] = s.nameServer(controllerImpl, "enableControllerInNamesrv=true\ncontrollerDLegerGroup=group1\n"
                    + "controllerDLegerPeers=" + peers + "\ncontrollerDLegerSelfId=n" + i + "\n"
                    + "controllerStorePath=" + s.dir.resolve("controller-store-" + i) + "\n"
                    + "scanNotActiveBrokerInterval=1000\n");
            String ctlAddrs = "127.0.0.1:" + ports[0] + ";127.0.0.1:" + ports[1] + ";127.0.0.1:" + ports[2];
            int leader = awaitLeader(nss[0], ports, -1, label);
            Broker master = controllerMode(s.broker(brokerImpl, GROUP, nss), ctlAddrs).brokerId(0).start();
            Broker slave = controllerMode(s.broker(brokerImpl, GROUP, nss), ctlAddrs).brokerId(2).start();
            String nsList = nss[0].addr() + ";" + nss[1].addr() + ";" + nss[2].addr();
            DefaultMQProducer p = producer("ctl3-pg", nsList, 5_000);
            Set<String> acked = new HashSet<>();
            List<String> failures = new ArrayList<>();
            long failoverMs = -1;
            NameServer survivor = nss[(leader + 1) % 3];
            String leaderAddr = "127.0.0.1:" + ports[leader];
            try {
                Net.await(() -> inSync(nss[0], leaderAddr) == 2, 60, () -> label + ": the slave never entered the SyncStateSet");
                sendUntilOk(p, "warm", acked, 30_000, label + ": no SEND_OK", failures);
                for (int i = 0; i < 50; i++) {
                    SendResult r = p.send(msg("before-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": " + r);
                    acked.add("before-" + i);
                }
                // The controller leader dies: the group elects another among the two left.
                long t0 = System.nanoTime() / 1_000_000;
                nss[leader].kill();
                int next = awaitLeader(survivor, ports, leader, label);
                long tLeader = System.nanoTime() / 1_000_000;
                for (int i = 0; i < 20; i++) {
                    String body = "between-" + i;
                    sendUntilOk(p, body, acked, 30_000, label + ": no SEND_OK after the controller leader died", failures);
                }
                // Then the master broker dies: the new controller leader elects the slave.
                String nextAddr = "127.0.0.1:" + ports[next];
                Net.await(() -> inSync(survivor, nextAddr) == 2, 60, () -> label + ": the new controller leader "
                    + "never saw both brokers in sync");
                long t1 = System.nanoTime() / 1_000_000;
                master.kill();
                long ms = sendUntilOk(p, "after-kill", acked, 60_000, label + ": no SEND_OK after the master died", failures);
                System.out.printf("controller failover (%s): controller leader killed -> new leader %d ms; "
                    + "then kill -9 of the master broker -> first SEND_OK %d ms%n", label, tLeader - t0, ms - t1);
                failoverMs = ms - t1;
                for (int i = 0; i < 20; i++) {
                    SendResult r = p.send(msg("after-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": " + r);
                    acked.add("after-" + i);
                }
            } finally {
                p.shutdown();
            }
            Set<String> read = readBodies(survivor.addr(), TOPIC);
            for (String body : acked) assertTrue(read.contains(body), label + ": acknowledged " + body + " missing");
            FAILOVER_MS.put(label, failoverMs);   /* a case that passed */
            slave.stop();
        }
    }

    /** The controller group's leader (its index in PORTS) as NS's admin asks the others, not NOT_THIS. */
    static int awaitLeader(NameServer ns, int[] ports, int notThis, String label) {
        int[] found = {-1};
        Net.await(() -> {
            for (int i = 0; i < ports.length; i++) {
                if (i == notThis) continue;
                try {
                    var meta = ns.admin().getControllerMetaData("127.0.0.1:" + ports[i]);
                    String addr = meta.getControllerLeaderAddress();
                    for (int k = 0; k < ports.length; k++)
                        if (k != notThis && ("127.0.0.1:" + ports[k]).equals(addr)) found[0] = k;
                    if (found[0] >= 0) return true;
                } catch (Exception e) {
                    // not up yet, or the dead one
                }
            }
            return false;
        }, 60, () -> label + ": no controller leader");
        return found[0];
    }

    /** In-sync replicas of the set according to the controller, -1 when it cannot tell. */
    static int inSync(NameServer ns, String ctlAddr) {
        try {
            var info = ns.admin().getInSyncStateData(ctlAddr, List.of(GROUP)).getReplicasInfoTable().get(GROUP);
            return info == null ? -1 : info.getInSyncReplicas().size();
        } catch (Exception e) {
            return -1;
        }
    }

    static Broker controllerMode(Broker b, String ctlAddr) {
        return b.set("enableControllerMode", "true").set("controllerAddr", ctlAddr)
            .set("allAckInSyncStateSet", "true").set("brokerTopicEnable", "true")
            .set("brokerHeartbeatInterval", "500").set("controllerHeartBeatTimeoutMills", "5000")
            .set("syncBrokerMetadataPeriod", "1000").set("checkSyncStateSetPeriod", "1000")
            .set("registerNameServerPeriod", "2000").set("syncFlushTimeout", "2000");
    }

    /** Sends until SEND_OK (routes refreshed from the name server between tries); the time of it (ms). */
    static long sendUntilOk(DefaultMQProducer p, String body, Set<String> acked, long timeoutMs, String what,
                            List<String> failures) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            try {
                SendResult r = p.send(msg(body));
                if (r.getSendStatus() == SendStatus.SEND_OK) {
                    acked.add(body);
                    return System.nanoTime() / 1_000_000;
                }
                failures.add(r.getSendStatus().toString());
            } catch (Exception e) {
                failures.add(e.getClass().getSimpleName());
                // The client keeps its route 30 s; a failed send makes it ask again.
                p.getDefaultMQProducerImpl().getMqClientFactory().updateTopicRouteInfoFromNameServer(TOPIC);
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + " (" + failures.size() + " failures, last: "
            + (failures.isEmpty() ? "-" : failures.get(failures.size() - 1)) + ")");
    }

    static Message msg(String body) {
        return new Message(TOPIC, body.getBytes(StandardCharsets.UTF_8));
    }

    /** A started producer of GROUP on NS_ADDR: sync sends with TIMEOUT_MS and no retries (each failure shows). */
    static DefaultMQProducer producer(String group, String nsAddr, int timeoutMs) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group);
        p.setNamesrvAddr(nsAddr);
        p.setInstanceName(group + "-" + System.nanoTime());
        p.setSendMsgTimeout(timeoutMs);
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        return p;
    }

    /** Every body in TOPIC, read from the brokers the route names now. */
    static Set<String> readBodies(String nsAddr, String topic) throws Exception {
        Set<String> got = new HashSet<>();
        DefaultMQPullConsumer c = new DefaultMQPullConsumer("ctl-reader-" + System.nanoTime() % 1_000_000);
        c.setNamesrvAddr(nsAddr);
        c.setInstanceName("ctl-reader-" + System.nanoTime());
        c.start();
        try {
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long offset = c.minOffset(mq);
                while (true) {
                    PullResult r = c.pull(mq, "*", offset, 32);
                    if (r.getPullStatus() != PullStatus.FOUND) break;
                    for (MessageExt m : r.getMsgFoundList()) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
                    offset = r.getNextBeginOffset();
                }
            }
        } finally {
            c.shutdown();
        }
        return got;
    }
}
