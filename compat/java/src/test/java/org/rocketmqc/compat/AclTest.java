package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.Test;

/**
 * Clients signing with AclClientRPCHook against a broker with aclEnable=true: the right
 * secret is let through; a wrong secret, an unknown key, a topic the account may not write
 * and an admin request from a plain account are refused the way Apache's broker refuses them
 * (SYSTEM_ERROR with the AclException text, which the client raises as MQClientException).
 */
@Cluster(aclYaml = "accounts:\n"
    + "  - accessKey: " + Cluster.ADMIN_KEY + "\n"
    + "    secretKey: " + Cluster.ADMIN_SECRET + "\n"
    + "    admin: true\n"
    + "  - accessKey: compatUser\n"
    + "    secretKey: compatUserSecret\n"
    + "    admin: false\n"
    + "    defaultTopicPerm: DENY\n"
    + "    defaultGroupPerm: SUB\n"
    + "    topicPerms:\n"
    + "      - JavaAclTopic=PUB|SUB\n")
class AclTest extends CompatBase {
    private static final RPCHook USER = signer("compatUser", "compatUserSecret");

    private static DefaultMQProducer producer(String group, RPCHook hook) throws Exception {
        DefaultMQProducer p = setup(new DefaultMQProducer(group, hook), group);
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        return closeLater(p, p::shutdown);
    }

    private static Message msg(String topic, String body) {
        return new Message(topic, "T", body.getBytes(StandardCharsets.UTF_8));
    }

    /** A send signed by hook fails as Apache's broker refuses it: code 1, the AclException text. */
    private static void assertSendRefused(String group, RPCHook hook, String topic, String why) throws Exception {
        DefaultMQProducer p = producer(group, hook);
        Exception e = assertThrows(Exception.class, () -> p.send(msg(topic, "refused")));
        MQClientException ce = assertInstanceOf(MQClientException.class, e);
        assertEquals(1, ce.getResponseCode(), "SYSTEM_ERROR, as Apache answers an AclException");
        MQBrokerException be = assertInstanceOf(MQBrokerException.class, ce.getCause());
        assertEquals(1, be.getResponseCode());
        assertTrue(be.getErrorMessage().contains("AclException") && be.getErrorMessage().contains(why),
            "remark names the reason '" + why + "': " + be.getErrorMessage());
    }

    @Test
    void rightSecretSendsAndConsumes() throws Exception {
        createTopic("JavaAclTopic", 2);
        SendResult r = producer("PG_java_acl", USER).send(msg("JavaAclTopic", "signed"));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());

        // Heartbeat, rebalance, pulls and offset commits of a push consumer, all signed.
        List<String> got = new CopyOnWriteArrayList<>();
        DefaultMQPushConsumer c = setup(new DefaultMQPushConsumer("CG_java_acl", USER, new AllocateMessageQueueAveragely()),
            "acl-consumer");
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe("JavaAclTopic", "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        closeLater(c, c::shutdown);
        await(() -> !got.isEmpty(), 20, () -> "the signed consumer's delivery");
        assertEquals(List.of("signed"), got);
    }

    @Test
    void wrongSecretIsRefused() throws Exception {
        createTopic("JavaAclTopic", 2);
        assertSendRefused("PG_java_acl_bad", signer("compatUser", "not-the-secret"), "JavaAclTopic",
            "Check signature failed for accessKey=compatUser");
    }

    @Test
    void unknownAccessKeyIsRefused() throws Exception {
        createTopic("JavaAclTopic", 2);
        assertSendRefused("PG_java_acl_unknown", signer("nobody", "whatever"), "JavaAclTopic", "No acl config for nobody");
    }

    @Test
    void topicOutsideTheAccountsPermissionsIsRefused() throws Exception {
        createTopic("JavaAclDeniedTopic", 1);
        assertSendRefused("PG_java_acl_denied", USER, "JavaAclDeniedTopic", "No default permission for topic:JavaAclDeniedTopic");
        assertEquals(SendStatus.SEND_OK, producer("PG_java_acl_admin").send(msg("JavaAclDeniedTopic", "admin may")).getSendStatus(),
            "the admin account (CompatBase.producer signs with it) may");
    }

    @Test
    void adminRequestFromAPlainAccountIsRefused() throws Exception {
        DefaultMQAdminExt plain = setup(new DefaultMQAdminExt(USER), "acl-plain-admin");
        plain.start();
        closeLater(plain, plain::shutdown);
        MQClientException e = assertThrows(MQClientException.class,
            () -> plain.createAndUpdateTopicConfig(servers.brokerAddr, new TopicConfig("JavaAclNewTopic", 1, 1, 6)));
        assertEquals(1, e.getResponseCode());
        assertTrue(e.getErrorMessage().contains("Need admin permission for request code=17, but accessKey=compatUser is not"),
            e.getErrorMessage());
    }
}
