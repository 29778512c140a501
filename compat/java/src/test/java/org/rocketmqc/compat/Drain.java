package org.rocketmqc.compat;

import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;

/** Reads a topic to its end as a group and commits, so that the group has offsets. */
final class Drain {
    private Drain() {}

    static void drainAndCommit(String group, String topic, int want) throws Exception {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(group);
        c.setNamesrvAddr(CompatBase.servers.nameSrv);
        c.setInstanceName(group + "-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.start();
        try {
            int got = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (got < want && System.currentTimeMillis() < deadline) got += c.poll(1000).size();
            if (got < want) throw new AssertionError("drained " + got + " of " + want + " from " + topic);
            c.commitSync();
        } finally {
            c.shutdown();
        }
    }
}
