package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
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
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;
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
 * back from the new master.
 */
class ControllerTest {
    static final String GROUP = "ctl-group";
    static final String TOPIC = GROUP;   /* the broker-name topic: brokerTopicEnable */

    @Test
    void apacheControllerOurBrokers() throws Exception {
        failover(Impl.APACHE, Impl.OURS, Impl.OURS);
    }

    @Test
    void ourControllerApacheMasterOurSlave() throws Exception {
        failover(Impl.OURS, Impl.APACHE, Impl.OURS);
    }

    @Test
    void ourControllerOurMasterApacheSlave() throws Exception {
        failover(Impl.OURS, Impl.OURS, Impl.APACHE);
    }

    static void failover(Impl controllerImpl, Impl masterImpl, Impl slaveImpl) throws Exception {
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

            DefaultMQProducer p = new DefaultMQProducer("ctl-pg");
            p.setNamesrvAddr(ns.addr());
            p.setInstanceName("ctl-pg-" + System.nanoTime());
            p.setSendMsgTimeout(5_000);
            p.setRetryTimesWhenSendFailed(0);
            p.start();
            Set<String> acked = new HashSet<>();
            List<String> failures = new ArrayList<>();
            try {
                // The slave joins the SyncStateSet once it has caught up (GET_SYNC_STATE_DATA, as
                // mqadmin getSyncStateSet asks); from then on SEND_OK means both have the message.
                Net.await(() -> inSync(ns, ctlAddr) == 2, 60, () -> label + ": the slave never entered the SyncStateSet");
                sendUntilOk(p, "warm", acked, 30_000, label + ": no SEND_OK", failures);
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
                for (int i = 0; i < 20; i++) {
                    SendResult r = p.send(msg("after-" + i));
                    assertEquals(SendStatus.SEND_OK, r.getSendStatus(), label + ": " + r);
                    acked.add("after-" + i);
                }
            } finally {
                p.shutdown();
            }
            Set<String> read = readBodies(ns);
            for (String body : acked) assertTrue(read.contains(body), label + ": acknowledged " + body + " missing");
            slave.stop();
        }
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

    /** Every body in the topic, read from the brokers the route names now. */
    static Set<String> readBodies(NameServer ns) throws Exception {
        Set<String> got = new HashSet<>();
        DefaultMQPullConsumer c = new DefaultMQPullConsumer("ctl-reader-" + System.nanoTime() % 1_000_000);
        c.setNamesrvAddr(ns.addr());
        c.setInstanceName("ctl-reader-" + System.nanoTime());
        c.start();
        try {
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(TOPIC)) {
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
