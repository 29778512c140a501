package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A numbered table of topics (PREFIX_00000 ...) that a broker holds and name servers must
 * route: written as the broker's topics.json before it starts, as after years of use, then
 * checked topic by topic on each name server. Shared by compat/apache's and compat/apache5's
 * registration tests; nothing here names a class whose package moved in 5.x (var instead).
 */
public final class TopicTable {
    public final String prefix;
    public final int count;
    public final int queues;

    public TopicTable(String prefix, int count, int queues) {
        this.prefix = prefix;
        this.count = count;
        this.queues = queues;
    }

    public String topic(int i) {
        return String.format("%s_%05d", prefix, i);
    }

    /** config/topics.json in Apache's format (the same in 4.9.x and 5.x) in the broker's store. */
    public void writeTopicsJson(Broker broker) throws IOException {
        StringBuilder json = new StringBuilder("{\"dataVersion\":{\"counter\":1,\"timestamp\":1700000000000},"
            + "\"topicConfigTable\":{");
        for (int i = 0; i < count; i++) {
            String t = topic(i);
            json.append(i == 0 ? "" : ",").append('"').append(t).append("\":{\"topicName\":\"").append(t)
                .append("\",\"readQueueNums\":").append(queues).append(",\"writeQueueNums\":").append(queues)
                .append(",\"perm\":6,\"topicFilterType\":\"SINGLE_TAG\",\"topicSysFlag\":0,\"order\":false}");
        }
        json.append("}}");
        Servers.write(broker.storeDir().resolve("config").resolve("topics.json"), json.toString());
    }

    /** The name server's topic list (GET_ALL_TOPIC_LIST_FROM_NAMESERVER), empty on an error. */
    public static Set<String> listed(NameServer ns) {
        try {
            return new HashSet<>(ns.admin().fetchAllTopicList().getTopicList());
        } catch (Exception e) {
            return Set.of();
        }
    }

    /** How many of the table's topics the name server lists. */
    public int listedCount(NameServer ns) {
        Set<String> l = listed(ns);
        int n = 0;
        for (int i = 0; i < count; i++) if (l.contains(topic(i))) n++;
        return n;
    }

    /** Waits until the name server lists every topic of the table (the registration got through). */
    public void awaitListed(NameServer ns, int seconds, Broker broker) {
        Net.await(() -> listedCount(ns) == count, seconds, () -> ns.name + " lists all " + count + " " + prefix
            + " topics of " + broker.name + " (has " + listedCount(ns) + "); broker log:\n" + broker.proc().tail(20));
    }

    /**
     * Why the topic's route (GET_ROUTEINFO_BY_TOPIC) is not the broker's queues, or null when
     * it is: one queue data of the broker's name with the table's read/write queue counts and
     * the broker's address as its master.
     */
    public String routeProblem(NameServer ns, Broker broker, String topic) {
        try {
            var route = ns.admin().examineTopicRouteInfo(topic);
            if (route == null) return topic + ": no route";
            var qd = route.getQueueDatas().stream().filter(q -> broker.brokerName.equals(q.getBrokerName())).findFirst();
            if (qd.isEmpty()) return topic + ": no queues of " + broker.brokerName + " in " + route;
            if (qd.get().getReadQueueNums() != queues || qd.get().getWriteQueueNums() != queues)
                return topic + ": queues " + qd.get();
            var bd = route.getBrokerDatas().stream().filter(b -> broker.brokerName.equals(b.getBrokerName())).findFirst();
            if (bd.isEmpty() || !broker.addr().equals(bd.get().getBrokerAddrs().get(0L)))
                return topic + ": broker data " + route.getBrokerDatas();
            return null;
        } catch (Exception e) {
            return topic + ": " + e;
        }
    }

    /** Every topic whose route is not the broker's (routeProblem), at most the first 10 named. */
    public List<String> unrouted(NameServer ns, Broker broker) {
        List<String> bad = new ArrayList<>();
        int n = 0;
        for (int i = 0; i < count; i++) {
            String p = routeProblem(ns, broker, topic(i));
            if (p != null && n++ < 10) bad.add(p);
        }
        if (n > 10) bad.add("... " + (n - 10) + " more");
        return bad;
    }
}
