package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.ClientConfig;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.remoting.exception.RemotingException;
import org.apache.rocketmq.remoting.netty.TlsSystemConfig;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInfo;

/**
 * One cluster per test class (shaped by the class's @Cluster, if any), an admin client, and
 * the helpers the cases share. Classes that moved package between 4.9 and 5.x are reached
 * through `var` or the two reflective helpers below, so the same sources compile against
 * both client lines.
 *
 * <p>Tests for the 5.x line only (run.sh runs every class against 4.9.8 and again with
 * `-P rocketmq5` against 5.3.3):
 * <ul>
 * <li>a class that uses API absent from 4.9.8 goes into the package org.rocketmqc.compat.v5
 *     (src/test/java/org/rocketmqc/compat/v5/); the default profile does not compile that
 *     package, the rocketmq5 profile does. Such classes extend CompatBase like the others,
 *     whose helpers are protected for them;</li>
 * <li>a class or method that compiles against both lines but must only run against 5.x is
 *     annotated {@code @Tag("rocketmq5")}; Surefire excludes that tag unless the rocketmq5
 *     profile is active.</li>
 * </ul>
 */
public abstract class CompatBase {
    protected static Servers servers;
    protected static DefaultMQAdminExt admin;
    /** The class's @Cluster, or null for the default cluster. */
    private static Cluster spec;
    private static final List<AutoCloseable> open = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void startServers(TestInfo info) throws Exception {
        Class<?> cls = info.getTestClass().orElseThrow();
        spec = cls.getAnnotation(Cluster.class);
        servers = new Servers(cls.getSimpleName(), spec);
        if (spec != null && spec.requireClientCert()) useClientTls("client");
        admin = new DefaultMQAdminExt(classHook());
        setup(admin, "admin");
        admin.start();
    }

    @AfterAll
    static void stopServers() throws Exception {
        synchronized (open) {
            for (AutoCloseable c : open) c.close();
            open.clear();
        }
        if (admin != null) admin.shutdown();
        admin = null;
        if (servers != null) servers.close();
        servers = null;
        restoreClientTls();
    }

    /** TlsSystemConfig as the JVM started; the client-certificate classes change it. */
    private static final Object[] clientTlsAtStart = {TlsSystemConfig.tlsConfigFile, TlsSystemConfig.tlsTestModeEnable,
        TlsSystemConfig.tlsClientCertPath, TlsSystemConfig.tlsClientKeyPath, TlsSystemConfig.tlsClientAuthServer,
        TlsSystemConfig.tlsClientTrustCertPath};

    /**
     * Clients started from now on read their TLS settings from the cluster's client file WHO
     * (Servers.clientTlsFile): Apache's client reads TlsSystemConfig.tlsConfigFile whenever
     * it builds a connection factory (TlsHelper.buildSslContext), i.e. at each client start.
     */
    protected static void useClientTls(String who) {
        TlsSystemConfig.tlsConfigFile = servers.clientTlsFile(who).toString();
    }

    private static void restoreClientTls() {
        Object[] v = clientTlsAtStart;
        TlsSystemConfig.tlsConfigFile = (String) v[0];
        TlsSystemConfig.tlsTestModeEnable = (Boolean) v[1];
        TlsSystemConfig.tlsClientCertPath = (String) v[2];
        TlsSystemConfig.tlsClientKeyPath = (String) v[3];
        TlsSystemConfig.tlsClientAuthServer = (Boolean) v[4];
        TlsSystemConfig.tlsClientTrustCertPath = (String) v[5];
    }

    private static boolean aclEnabled() {
        return spec != null && !spec.aclYaml().isEmpty();
    }

    /** What the helpers' clients sign with: the admin account on an ACL cluster, else nothing. */
    private static RPCHook classHook() {
        return aclEnabled() ? adminHook() : null;
    }

    /** Signs as the @Cluster's admin account (see Cluster.ADMIN_KEY). */
    protected static RPCHook adminHook() {
        return signer(Cluster.ADMIN_KEY, Cluster.ADMIN_SECRET);
    }

    protected static RPCHook signer(String accessKey, String secretKey) {
        return new AclClientRPCHook(new SessionCredentials(accessKey, secretKey));
    }

    /**
     * Points a client at this class's cluster under a unique instance name (so no two clients
     * share an MQClientInstance, nor a broadcasting offset file from an earlier run), polls
     * the name server every second rather than every 30 s (routes of retry and DLQ topics
     * appear while a case runs), heartbeats every second rather than every 30 s, and turns on
     * TLS when the cluster's broker wants it.
     * The heartbeat: after a rebalance a push consumer raises its subscription's version and
     * heartbeats, but only if no other heartbeat of the instance holds the lock at that moment
     * (tryLock in messageQueueChanged, both lines); otherwise its pulls are refused with
     * SUBSCRIPTION_NOT_LATEST, by Apache's broker as by ours, until the next heartbeat.
     */
    protected static <C extends ClientConfig> C setup(C client, String name) {
        client.setNamesrvAddr(servers.nameSrv);
        client.setInstanceName(name + "-" + System.nanoTime());
        client.setPollNameServerInterval(1000);
        client.setHeartbeatBrokerInterval(1000);
        if (spec != null && !spec.brokerTlsMode().isEmpty()) client.setUseTLS(true);
        return client;
    }

    /** Shut down with the class's cluster, also when a case fails half-way. */
    protected static <T> T closeLater(T client, AutoCloseable shutdown) {
        open.add(shutdown);
        return client;
    }

    protected static void createTopic(String topic, int queues) throws Exception {
        TopicConfig tc = new TopicConfig(topic, queues, queues, 6);
        admin.createAndUpdateTopicConfig(servers.brokerAddr, tc);
        // The broker re-registers; the name server must know the route before clients ask.
        await(() -> {
            try {
                return !admin.examineTopicRouteInfo(topic).getQueueDatas().isEmpty();
            } catch (Exception e) {
                return false;
            }
        }, 10, () -> "route of " + topic);
    }

    /** A started producer, signed as the admin account on an ACL cluster. */
    protected static DefaultMQProducer producer(String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group, classHook());
        setup(p, group);
        p.start();
        return closeLater(p, p::shutdown);
    }

    /**
     * A started producer for sends expected to fail: one try, 3 s, TLS as USE_TLS says (set
     * after setup, which turns it on for a TLS cluster).
     */
    protected static DefaultMQProducer oneTryProducer(String group, boolean useTls) throws Exception {
        DefaultMQProducer p = setup(new DefaultMQProducer(group), group);
        p.setUseTLS(useTls);
        p.setSendMsgTimeout(3000);
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        return closeLater(p, p::shutdown);
    }

    /**
     * The send of BODY to TOPIC fails as the clients report a connection the server closed:
     * a RemotingException somewhere in the causes (4.9.8 wraps a failed route lookup in
     * IllegalStateException, a failed send in MQClientException), or MQClientException.
     */
    protected static void assertSendRefused(DefaultMQProducer p, String topic, String body) {
        Exception e = assertThrows(Exception.class,
            () -> p.send(new Message(topic, "T", body.getBytes(StandardCharsets.UTF_8))), body);
        boolean remoting = false;
        for (Throwable t = e; t != null && !remoting; t = t.getCause()) remoting = t instanceof RemotingException;
        assertTrue(remoting || e instanceof MQClientException, body + ": a remoting failure, got " + e);
    }

    /**
     * A started DefaultMQPullConsumer (plain PULL_MESSAGE, which both lines send; the 5.x lite
     * pull consumer sends LITE_PULL_MESSAGE instead), signed as the admin on an ACL cluster.
     */
    @SuppressWarnings("deprecation")
    protected static DefaultMQPullConsumer pullConsumer(String group) throws Exception {
        DefaultMQPullConsumer c = new DefaultMQPullConsumer(group, classHook());
        setup(c, group);
        c.start();
        return closeLater(c, c::shutdown);
    }

    /** Bodies in the queue from offset 0, read until want arrived or 20 s passed. */
    @SuppressWarnings("deprecation")
    protected static List<String> readQueue(MessageQueue mq, int want) throws Exception {
        DefaultMQPullConsumer c = pullConsumer("CG_read_" + System.nanoTime());
        List<String> got = new ArrayList<>();
        long offset = 0, deadline = System.currentTimeMillis() + 20_000;
        while (got.size() < want && System.currentTimeMillis() < deadline) {
            PullResult r = c.pull(mq, "*", offset, 32);
            if (r.getPullStatus() == PullStatus.FOUND)
                for (MessageExt m : r.getMsgFoundList()) got.add(new String(m.getBody(), StandardCharsets.UTF_8));
            else
                Thread.sleep(100);
            offset = r.getNextBeginOffset();
        }
        return got;
    }

    /** Polls until cond holds; fails with what() after the given seconds. */
    protected static void await(BooleanSupplier cond, int seconds, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what.get());
            Thread.sleep(100);
        }
    }

    /** setX(SomeEnum.NAME) where SomeEnum's package depends on the client version (e.g. MessageModel). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    protected static void setEnum(Object target, String setter, String constant) throws Exception {
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(setter) && m.getParameterCount() == 1 && m.getParameterTypes()[0].isEnum()) {
                m.invoke(target, Enum.valueOf((Class) m.getParameterTypes()[0], constant));
                return;
            }
        }
        throw new NoSuchMethodException(setter);
    }

    /** Creates a subscription group (SubscriptionGroupConfig moved package in 5.x). */
    protected static void createGroup(String group, int retryMaxTimes) throws Exception {
        for (Method m : admin.getClass().getMethods()) {
            Class<?>[] params = m.getParameterTypes();
            if (m.getName().equals("createAndUpdateSubscriptionGroupConfig") && params.length == 2
                && params[0] == String.class && params[1].getSimpleName().equals("SubscriptionGroupConfig")) {
                Object cfg = params[1].getDeclaredConstructor().newInstance();
                params[1].getMethod("setGroupName", String.class).invoke(cfg, group);
                params[1].getMethod("setRetryMaxTimes", int.class).invoke(cfg, retryMaxTimes);
                m.invoke(admin, servers.brokerAddr, cfg);
                return;
            }
        }
        throw new NoSuchMethodException("createAndUpdateSubscriptionGroupConfig");
    }
}
