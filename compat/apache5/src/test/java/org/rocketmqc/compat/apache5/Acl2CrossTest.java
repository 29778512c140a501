package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.body.AclInfo;
import org.apache.rocketmq.remoting.protocol.body.UserInfo;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Servers;

/**
 * ACL 2.0 side by side: Apache 5.3.3's broker and ours, both with authenticationEnabled and
 * authorizationEnabled and the same start-up super user, each behind its own name server, get
 * the same script from the 5.3.3 admin, producer and pull consumer (users, ACLs, sends and
 * pulls allowed and refused, the store's refusals) and the same malformed AUTH_* requests;
 * every answer (code and remark) must be the same. Left out: the choice between a literal and
 * a prefixed entry, which 5.3.3 makes by the order they were added (docs/remoting.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Acl2CrossTest {
    private Servers s;
    private final List<String> apache = new ArrayList<>(), ours = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        s = new Servers("acl2");
        run(Impl.APACHE, apache);
        run(Impl.OURS, ours);
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    private void run(Impl impl, List<String> out) throws Exception {
        NameServer ns = s.nameServer(Impl.OURS);
        Broker b = s.broker(impl, "broker-acl2", ns)
            .set("authenticationEnabled", "true").set("authorizationEnabled", "true")
            .set("authenticationMetadataProvider",
                "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider")
            .set("authorizationMetadataProvider",
                "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider")
            .set("initAuthenticationUser", "{\"username\":\"root\",\"password\":\"rootpw\"}")
            .start();
        new Script(ns.addr(), b.addr(), b.brokerName, out).run();
        b.stop();
    }

    @Test
    void sameAnswers() {
        System.out.println("Acl2CrossTest, Apache 5.3.3's answers:\n  " + String.join("\n  ", apache));
        assertEquals(String.join("\n", apache), String.join("\n", ours));
        assertEquals(38, ours.size(), "every step ran");
        // Not two brokers failing alike: the script reached both.
        assertTrue(ours.contains("alice sends to TA: ok SEND_OK"), String.join("\n", ours));
        assertTrue(ours.contains("alice sends to TB: client 16 User:alice has no permission to access Topic:TB "
            + "from 127.0.0.1, no matched policies."), String.join("\n", ours));
    }

    /** The steps, each answer as "step: outcome". */
    private static final class Script {
        final String ns, broker, brokerName;
        final List<String> out;
        final Steps steps;
        final List<Runnable> shutdown = new ArrayList<>();

        Script(String ns, String broker, String brokerName, List<String> out) {
            this.ns = ns;
            this.broker = broker;
            this.brokerName = brokerName;
            this.out = out;
            this.steps = new Steps(out);
        }

        void step(String name, Steps.Step st) {
            steps.step(name, st);
        }

        static RPCHook hook(String ak, String sk) {
            return new AclClientRPCHook(new SessionCredentials(ak, sk));
        }

        DefaultMQAdminExt admin(RPCHook h) throws Exception {
            DefaultMQAdminExt a = new DefaultMQAdminExt(h);
            a.setNamesrvAddr(ns);
            a.setInstanceName("acl2-admin-" + System.nanoTime());
            a.start();
            shutdown.add(a::shutdown);
            return a;
        }

        DefaultMQProducer producer(RPCHook h) throws Exception {
            DefaultMQProducer p = new DefaultMQProducer("PG_acl2", h);
            p.setNamesrvAddr(ns);
            p.setInstanceName("acl2-producer-" + System.nanoTime());
            p.setRetryTimesWhenSendFailed(0);
            p.start();
            shutdown.add(p::shutdown);
            return p;
        }

        static Message msg(String topic) {
            return new Message(topic, "T", "acl2".getBytes(StandardCharsets.UTF_8));
        }

        /** A raw request signed as root: the answer's code and remark. */
        String raw(NettyRemotingClient c, int code, String body, String... ext) throws Exception {
            RemotingCommand r = Steps.call(c, broker, code, body, ext);
            return r.getCode() + " " + r.getRemark();
        }

        @SuppressWarnings("deprecation")
        void run() throws Exception {
            try {
                DefaultMQAdminExt a = admin(hook("root", "rootpw"));
                step("createTopic TA", () -> { a.createAndUpdateTopicConfig(broker, new TopicConfig("TA", 1, 1, 6)); return null; });
                step("createTopic TB", () -> { a.createAndUpdateTopicConfig(broker, new TopicConfig("TB", 1, 1, 6)); return null; });
                Thread.sleep(2000); // the routes reach the name server
                step("createUser alice", () -> { a.createUser(broker, "alice", "apw", null); return null; });
                step("createUser alice again", () -> { a.createUser(broker, "alice", "x", null); return null; });
                step("createUser blank", () -> { a.createUser(broker, "", "x", null); return null; });
                step("createUser no password", () -> { a.createUser(broker, "nopw", "", null); return null; });
                step("getUser alice", () -> {
                    UserInfo u = a.getUser(broker, "alice");
                    return u.getUsername() + " " + u.getPassword() + " " + u.getUserType() + " " + u.getUserStatus();
                });
                step("getUser none", () -> a.getUser(broker, "none"));
                step("updateUser none", () -> { a.updateUser(broker, "none", "p", null, null); return null; });
                step("createAcl alice", () -> { a.createAcl(broker, "User:alice", List.of("Topic:TA"), List.of("Pub"), null, "Allow"); return null; });
                step("createAcl nobody", () -> { a.createAcl(broker, "User:nobody", List.of("Topic:TA"), List.of("Pub"), null, "Allow"); return null; });
                step("createAcl Any", () -> { a.createAcl(broker, "User:alice", List.of("Topic:TA"), List.of("Any"), null, "Allow"); return null; });
                step("createAcl bad ip", () -> { a.createAcl(broker, "User:alice", List.of("Topic:TA"), List.of("Pub"), List.of("1.2.3.999"), "Allow"); return null; });
                step("createAcl bad decision", () -> { a.createAcl(broker, "User:alice", List.of("Topic:TA"), List.of("Pub"), null, "Maybe"); return null; });
                step("createAcl bad resource", () -> { a.createAcl(broker, "User:alice", List.of("Queue:TA"), List.of("Pub"), null, "Allow"); return null; });
                step("getAcl alice", () -> {
                    AclInfo.PolicyInfo p = a.getAcl(broker, "User:alice").getPolicies().get(0);
                    AclInfo.PolicyEntryInfo e = p.getEntries().get(0);
                    return p.getPolicyType() + " " + e.getResource() + " " + e.getActions() + " " + e.getDecision() + " " + e.getSourceIps();
                });
                step("getAcl nobody", () -> a.getAcl(broker, "User:nobody"));
                step("deleteAcl nobody", () -> { a.deleteAcl(broker, "User:nobody", "Topic:TA"); return null; });
                step("listUser", () -> a.listUser(broker, null).size());
                DefaultMQProducer alice = producer(hook("alice", "apw"));
                step("alice sends to TA", () -> alice.send(msg("TA")).getSendStatus());
                step("alice sends to TB", () -> alice.send(msg("TB")).getSendStatus());
                DefaultMQPullConsumer c = new DefaultMQPullConsumer("CG_acl2", hook("alice", "apw"));
                c.setNamesrvAddr(ns);
                c.setInstanceName("acl2-consumer-" + System.nanoTime());
                c.start();
                shutdown.add(c::shutdown);
                step("alice pulls TA", () -> c.pull(new MessageQueue("TA", brokerName, 0), "*", 0, 1).getPullStatus());
                DefaultMQAdminExt aliceAdmin = admin(hook("alice", "apw"));
                step("alice lists users", () -> aliceAdmin.listUser(broker, null).size());
                step("unsigned send", () -> producer(null).send(msg("TA")).getSendStatus());
                step("wrong password", () -> producer(hook("alice", "wrong")).send(msg("TA")).getSendStatus());
                step("unknown user", () -> producer(hook("xavier", "x")).send(msg("TA")).getSendStatus());
                step("disable alice", () -> { a.updateUser(broker, "alice", null, null, "disable"); return null; });
                step("disabled alice sends", () -> alice.send(msg("TA")).getSendStatus());
                step("deleteUser alice", () -> { a.deleteUser(broker, "alice"); return null; });
                step("getAcl alice after delete", () -> a.getAcl(broker, "User:alice"));

                NettyRemotingClient rc = new NettyRemotingClient(new NettyClientConfig());
                rc.registerRPCHook(hook("root", "rootpw"));
                rc.start();
                shutdown.add(rc::shutdown);
                step("createUser without body", () -> raw(rc, 3001, null, "username", "u1"));
                step("createAcl without body", () -> raw(rc, 3006, null, "subject", "User:root"));
                step("createAcl entry without actions", () -> raw(rc, 3006,
                    "{\"policies\":[{\"entries\":[{\"resource\":\"Topic:a\",\"decision\":\"Allow\"}]}]}", "subject", "User:root"));
                step("createAcl of no known subject", () -> raw(rc, 3006,
                    "{\"policies\":[{\"entries\":[{\"resource\":\"Topic:a\",\"actions\":[\"Pub\"],\"decision\":\"Allow\"}]}]}",
                    "subject", "Role:x"));
                step("deleteAcl without subject", () -> raw(rc, 3008, null));
                step("getAcl without subject", () -> raw(rc, 3009, null));
                step("getUser without username", () -> raw(rc, 3004, null));
                step("heartbeat without body", () -> raw(rc, 34, null, "k", "v"));
            } finally {
                for (Runnable r : shutdown) r.run();
            }
        }
    }
}
