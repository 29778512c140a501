package org.rocketmqc.compat.v5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.protocol.body.AclInfo;
import org.apache.rocketmq.remoting.protocol.body.UserInfo;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.apache.rocketmq.tools.command.MQAdminStartup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rocketmqc.compat.Cluster;
import org.rocketmqc.compat.CompatBase;

/**
 * ACL 2.0 against a broker with authenticationEnabled and authorizationEnabled, its super
 * user made by initAuthenticationUser: the 5.3.3 mqadmin user and acl sub-commands (in this
 * JVM, signed as the super user), then 5.3.3 clients signed as a normal user whose ACL lets
 * it publish to one topic only: its send there is stored, a send to another topic and a pull
 * are refused with NO_PERMISSION and Apache's text.
 */
@Cluster(brokerConf = "authenticationEnabled=true\nauthorizationEnabled=true\n"
    + "initAuthenticationUser={\"username\":\"" + Acl2Test.ROOT + "\",\"password\":\"" + Acl2Test.ROOT_PW + "\"}\n")
class Acl2Test extends CompatBase {
    static final String ROOT = "compatRoot";
    static final String ROOT_PW = "compatRootSecret";
    private static final RPCHook ROOT_HOOK = signer(ROOT, ROOT_PW);

    /** CompatBase's admin signs only on an ACL 1.0 cluster; here it signs as the super user. */
    @BeforeAll
    static void signedAdmin() throws Exception {
        admin.shutdown();
        admin = setup(new DefaultMQAdminExt(ROOT_HOOK), "admin-acl2");
        admin.start();
    }

    /** The 5.3.3 mqadmin (MQAdminStartup.main0 in this JVM, signed as the super user): its output. */
    private static synchronized String mqadmin(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "-n";
        all[args.length + 1] = servers.nameSrv;
        System.setOut(ps);
        System.setErr(ps);
        try {
            MQAdminStartup.main0(all, ROOT_HOOK);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static String ok(String... args) {
        String text = mqadmin(args);
        assertTrue(!text.contains("Exception"), "mqadmin " + String.join(" ", args) + ":\n" + text);
        return text;
    }

    private static Message msg(String topic) {
        return new Message(topic, "T", "acl2".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void mqadminUserAndAclCommands() throws Exception {
        String b = servers.brokerAddr;
        assertTrue(ok("createUser", "-b", b, "-u", "carol", "-p", "carolPw").contains("create user to " + b + " success"));
        assertTrue(ok("getUser", "-b", b, "-u", "carol").matches("(?s).*carol\\s+carolPw\\s+Normal\\s+enable.*"));
        assertTrue(ok("updateUser", "-b", b, "-u", "carol", "-s", "disable").contains("update user to " + b + " success"));
        UserInfo carol = admin.getUser(b, "carol");
        assertEquals("disable", carol.getUserStatus());
        String users = ok("listUser", "-b", b);
        assertTrue(users.contains("carol") && users.contains(ROOT), users);

        assertTrue(ok("createAcl", "-b", b, "-s", "User:carol", "-r", "Topic:CT1,Group:CG*", "-a", "Pub,Sub",
            "-d", "Allow").contains("create acl to " + b + " success"));
        assertTrue(ok("updateAcl", "-b", b, "-s", "User:carol", "-r", "Topic:CT1", "-a", "Sub", "-d", "Deny",
            "-i", "10.0.0.0/8").contains("update acl to " + b + " success"));
        AclInfo acl = admin.getAcl(b, "User:carol");
        assertEquals("User:carol", acl.getSubject());
        AclInfo.PolicyEntryInfo ct1 = acl.getPolicies().get(0).getEntries().stream()
            .filter(e -> e.getResource().equals("Topic:CT1")).findFirst().orElseThrow();
        assertEquals("Deny", ct1.getDecision());
        assertEquals(java.util.List.of("Sub"), ct1.getActions());
        assertEquals(java.util.List.of("10.0.0.0/8"), ct1.getSourceIps());
        assertTrue(ok("getAcl", "-b", b, "-s", "User:carol").contains("Group:CG*"));
        assertTrue(ok("listAcl", "-b", b, "-s", "carol", "-r", "Group").contains("Group:CG*"));
        assertTrue(!ok("listAcl", "-b", b, "-s", "carol", "-r", "Group").contains("Topic:CT1"));
        assertTrue(ok("deleteAcl", "-b", b, "-s", "User:carol", "-r", "Topic:CT1").contains("success"));
        assertEquals(1, admin.getAcl(b, "User:carol").getPolicies().get(0).getEntries().size());

        // The broker's refusals, as Apache's: a second user of the same name, an ACL of nobody.
        String dup = mqadmin("createUser", "-b", b, "-u", "carol", "-p", "x");
        assertTrue(dup.contains("The user is existed"), dup);
        MQBrokerException e = assertThrows(MQBrokerException.class,
            () -> admin.createAcl(b, "User:nobody", java.util.List.of("Topic:x"), java.util.List.of("Pub"), null, "Allow"));
        assertEquals(16, e.getResponseCode());
        assertEquals("The subject of User:nobody is not exist.", e.getErrorMessage());

        assertTrue(ok("deleteUser", "-b", b, "-u", "carol").contains("delete user to " + b + " success"));
        assertEquals(null, admin.getUser(b, "carol"));
    }

    @Test
    void userMayPublishWhereItsAclAllows() throws Exception {
        createTopic("JA2_A", 1);
        createTopic("JA2_B", 1);
        String b = servers.brokerAddr;
        admin.createUser(b, "dave", "davePw", "Normal");
        admin.createAcl(b, "User:dave", java.util.List.of("Topic:JA2_A"), java.util.List.of("Pub"), null, "Allow");
        RPCHook dave = signer("dave", "davePw");

        DefaultMQProducer p = setup(new DefaultMQProducer("PG_acl2", dave), "PG_acl2");
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        closeLater(p, p::shutdown);
        assertEquals(SendStatus.SEND_OK, p.send(msg("JA2_A")).getSendStatus());

        MQClientException ce = assertThrows(MQClientException.class, () -> p.send(msg("JA2_B")));
        assertEquals(16, ce.getResponseCode(), "NO_PERMISSION");
        MQBrokerException be = assertInstanceOf(MQBrokerException.class, ce.getCause());
        assertEquals("User:dave has no permission to access Topic:JA2_B from 127.0.0.1, no matched policies.",
            be.getErrorMessage());

        // No Sub on the topic: a pull is refused before the broker reads anything.
        @SuppressWarnings("deprecation")
        DefaultMQPullConsumer c = setup(new DefaultMQPullConsumer("CG_acl2", dave), "CG_acl2");
        c.start();
        closeLater(c, c::shutdown);
        MQBrokerException pe = assertThrows(MQBrokerException.class,
            () -> c.pull(new MessageQueue("JA2_A", servers.brokerName, 0), "*", 0, 1));
        assertEquals(16, pe.getResponseCode());
        assertEquals("User:dave has no permission to access Topic:JA2_A from 127.0.0.1, no matched policies.",
            pe.getErrorMessage());

        // A wrong password is refused at authentication.
        DefaultMQProducer forged = setup(new DefaultMQProducer("PG_acl2_bad", signer("dave", "guess")), "PG_acl2_bad");
        forged.setRetryTimesWhenSendFailed(0);
        forged.start();
        closeLater(forged, forged::shutdown);
        MQClientException fe = assertThrows(MQClientException.class, () -> forged.send(msg("JA2_A")));
        assertEquals(16, fe.getResponseCode());
        assertEquals("check signature failed.", assertInstanceOf(MQBrokerException.class, fe.getCause()).getErrorMessage());
    }
}
