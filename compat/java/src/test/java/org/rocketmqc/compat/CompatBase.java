package org.rocketmqc.compat;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.junit.AfterClass;
import org.junit.BeforeClass;

/**
 * One cluster per test class, an admin client, and the helpers the cases share.
 * Classes that moved package between 4.9 and 5.x are reached through `var` or the
 * two reflective helpers below, so the same sources compile against both clients.
 */
public abstract class CompatBase {
    static Servers servers;
    static DefaultMQAdminExt admin;
    private static final List<AutoCloseable> open = Collections.synchronizedList(new ArrayList<>());

    @BeforeClass
    public static void startServers() throws Exception {
        servers = new Servers();
        admin = new DefaultMQAdminExt();
        admin.setNamesrvAddr(servers.nameSrv);
        admin.setInstanceName("admin-" + System.nanoTime());
        admin.start();
    }

    @AfterClass
    public static void stopServers() throws Exception {
        synchronized (open) {
            for (AutoCloseable c : open) c.close();
            open.clear();
        }
        if (admin != null) admin.shutdown();
        if (servers != null) servers.close();
    }

    /** Shut down with the class's cluster, also when a case fails half-way. */
    static <T> T closeLater(T client, AutoCloseable shutdown) {
        open.add(shutdown);
        return client;
    }

    static void createTopic(String topic, int queues) throws Exception {
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

    static DefaultMQProducer producer(String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(group);
        p.setNamesrvAddr(servers.nameSrv);
        p.setInstanceName(group + "-" + System.nanoTime());
        p.start();
        return closeLater(p, p::shutdown);
    }

    /** Polls until cond holds; fails with what() after the given seconds. */
    static void await(BooleanSupplier cond, int seconds, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what.get());
            Thread.sleep(100);
        }
    }

    /** setX(SomeEnum.NAME) where SomeEnum's package depends on the client version (e.g. MessageModel). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void setEnum(Object target, String setter, String constant) throws Exception {
        for (Method m : target.getClass().getMethods()) {
            if (m.getName().equals(setter) && m.getParameterCount() == 1 && m.getParameterTypes()[0].isEnum()) {
                m.invoke(target, Enum.valueOf((Class) m.getParameterTypes()[0], constant));
                return;
            }
        }
        throw new NoSuchMethodException(setter);
    }

    /** Creates a subscription group (SubscriptionGroupConfig moved package in 5.x). */
    static void createGroup(String group, int retryMaxTimes) throws Exception {
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
