package org.rocketmqc.compat.apache5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.rocketmqc.compat.apache.Broker;
import org.rocketmqc.compat.apache.Impl;
import org.rocketmqc.compat.apache.NameServer;
import org.rocketmqc.compat.apache.Servers;

/**
 * 5.3's timer answers side by side: Apache 5.3.3's name server and broker, then ours, both
 * with recallMessageEnable=true, get the same script from the 5.3.3 producer, admin and raw
 * requests: the recall handle of a timer send, RECALL_MESSAGE accepted and every refusal
 * (missing fields, bad handles, other topic/broker, bad times, disabled), a recalled timer
 * never delivered while its twin is, the timer sends refused by timerMaxDelaySec and
 * timerWheelEnable as changed at run time, GET_TIMER_METRICS' count, and the name server's
 * 5.x codes and BrokerData keys. Every answer (code and remark) must be the same.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Timer5CrossTest {
    static final String BROKER = "broker-t5";
    static final String TOPIC = "RecallT5";
    private Servers s;
    private final List<String> apache = new ArrayList<>(), ours = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        s = new Servers("timer5");
        run(Impl.APACHE, apache);
        run(Impl.OURS, ours);
    }

    @AfterAll
    void stop() {
        if (s != null) s.close();
    }

    private void run(Impl impl, List<String> out) throws Exception {
        NameServer ns = s.nameServer(impl);
        Broker b = s.broker(impl, BROKER, ns).set("recallMessageEnable", "true").start();
        try {
            new Script(ns, b, out).run();
        } finally {
            b.stop();
            ns.stop();
        }
    }

    @Test
    void sameAnswers() {
        System.out.println("Timer5CrossTest, Apache 5.3.3's answers:\n  " + String.join("\n  ", apache));
        assertEquals(String.join("\n", apache), String.join("\n", ours));
        assertEquals(31, ours.size(), "every step ran");
        assertTrue(ours.contains("recall: ok the unique key"), String.join("\n", ours));
        assertTrue(ours.contains("records after the due time: ok 1"), String.join("\n", ours));
    }

    private static final class Script {
        final NameServer ns;
        final Broker b;
        final Steps steps;
        final List<Runnable> shutdown = new ArrayList<>();

        Script(NameServer ns, Broker b, List<String> out) {
            this.ns = ns;
            this.b = b;
            this.steps = new Steps(out);
        }

        void step(String name, Steps.Step st) {
            steps.step(name, st);
        }

        static String b64(String raw) {
            return Base64.getUrlEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        RemotingCommand call(NettyRemotingClient c, String addr, int code, String body, String... ext)
            throws Exception {
            return Steps.call(c, addr, code, body, ext);
        }

        /**
         * A raw request's answer: code and remark. Apache's remoting layer appends the first
         * stack frame to an exception's text (UtilAll.exceptionSimpleDesc); ours does not
         * (docs/remoting.md), so a trailing ", some.Class.method(X.java:N)" is cut.
         */
        String raw(NettyRemotingClient c, String addr, int code, String body, String... ext) throws Exception {
            RemotingCommand r = call(c, addr, code, body, ext);
            String remark = r.getRemark() == null ? "null"
                : r.getRemark().split("\n")[0].replaceAll(", [\\w./$]+\\([\\w.]+:\\d+\\)$", "");
            return r.getCode() + " " + remark;
        }

        String recall(NettyRemotingClient c, String topic, String handle) throws Exception {
            return topic == null ? raw(c, b.addr(), 370, null, "recallHandle", handle)
                : handle == null ? raw(c, b.addr(), 370, null, "topic", topic)
                : raw(c, b.addr(), 370, null, "topic", topic, "recallHandle", handle, "producerGroup", "PG_t5");
        }

        void config(String key, String value) throws Exception {
            Properties p = new Properties();
            p.setProperty(key, value);
            ns.admin().updateBrokerConfig(b.addr(), p);
        }

        Message msg(String body) {
            return new Message(TOPIC, "T", body.getBytes(StandardCharsets.UTF_8));
        }

        void run() throws Exception {
            try {
                Clients.createTopic(ns, b, TOPIC, 1);
                DefaultMQProducer p = Clients.producer(ns, "PG_t5");
                p.setRetryTimesWhenSendFailed(0);
                shutdown.add(p::shutdown);
                NettyRemotingClient rc = new NettyRemotingClient(new NettyClientConfig());
                rc.start();
                shutdown.add(rc::shutdown);

                long due = System.currentTimeMillis() + 5000;
                Message kept = msg("kept"), recalled = msg("recalled");
                kept.setDeliverTimeMs(due);
                recalled.setDeliverTimeMs(due);
                p.send(kept);
                SendResult r = p.send(recalled);
                step("recall handle", () -> {
                    String[] f = new String(Base64.getUrlDecoder().decode(r.getRecallHandle()), StandardCharsets.UTF_8)
                        .split(" ");
                    long ts = Long.parseLong(f[3]);
                    boolean slot = ts % 1000 == 1 && ts - 1 < due && ts - 1 >= due - 1000;
                    return f.length + " " + f[0] + " " + f[1] + " " + f[2] + " slot+1=" + slot + " id="
                        + f[4].equals(r.getMsgId());
                });
                step("recall", () -> p.recallMessage(TOPIC, r.getRecallHandle()).equals(r.getMsgId())
                    ? "the unique key" : "another id");
                String future = String.valueOf(System.currentTimeMillis() + 60_000);
                String good = b64("v1 " + TOPIC + " " + BROKER + " " + future + " X");
                step("recall without topic", () -> recall(rc, null, good));
                step("recall without handle", () -> recall(rc, TOPIC, null));
                step("recall of an unknown topic", () -> recall(rc, "NoSuchT5", good));
                for (String bad : new String[] {"", "!!!!", "djE=x", "YQ", b64("v2 " + TOPIC + " " + BROKER + " 1 X"),
                    b64("v1 " + TOPIC + " " + BROKER + " 1")})
                    step("recall handle '" + bad + "'", () -> recall(rc, TOPIC, bad));
                step("recall of another topic", () -> recall(rc, TOPIC, b64("v1 OtherT " + BROKER + " " + future + " X")));
                step("recall on another broker", () -> recall(rc, TOPIC, b64("v1 " + TOPIC + " b-x " + future + " X")));
                step("recall in the past", () -> recall(rc, TOPIC, b64("v1 " + TOPIC + " " + BROKER + " 1000 X")));
                step("recall of no number", () -> recall(rc, TOPIC, b64("v1 " + TOPIC + " " + BROKER + " soon X")));
                step("recall too far", () -> recall(rc, TOPIC, b64("v1 " + TOPIC + " " + BROKER + " "
                    + (System.currentTimeMillis() + 4L * 86400_000) + " X")));
                step("recall of nothing sent", () -> recall(rc, TOPIC, good));

                Message far = msg("far");
                MessageAccessor.putProperty(far, MessageConst.PROPERTY_TIMER_DELAY_SEC, "300000");
                step("timer beyond 3 days", () -> p.send(far).getSendStatus());
                Message nan = msg("nan");
                MessageAccessor.putProperty(nan, MessageConst.PROPERTY_TIMER_DELIVER_MS, "soon");
                step("timer of no number", () -> p.send(nan).getSendStatus());
                Message pastMark = msg("0");
                MessageAccessor.putProperty(pastMark, MessageConst.PROPERTY_TIMER_DELIVER_MS, "1000");
                MessageAccessor.putProperty(pastMark, MessageConst.PROPERTY_TIMER_DEL_UNIQKEY, TOPIC + "+X");
                step("cancel mark in the past", () -> p.send(pastMark).getSendStatus());
                config("timerMaxDelaySec", "60");
                Message sixty = msg("61 s");
                MessageAccessor.putProperty(sixty, MessageConst.PROPERTY_TIMER_DELAY_SEC, "61");
                step("timer beyond timerMaxDelaySec=60", () -> p.send(sixty).getSendStatus());
                step("recall beyond timerMaxDelaySec=60", () -> recall(rc, TOPIC, good));
                config("timerMaxDelaySec", "259200");
                config("timerWheelEnable", "false");
                Message off = msg("off");
                MessageAccessor.putProperty(off, MessageConst.PROPERTY_TIMER_DELAY_SEC, "1");
                step("timer with timerWheelEnable=false", () -> p.send(off).getSendStatus());
                step("recall with timerWheelEnable=false", () -> recall(rc, TOPIC, good));
                config("timerWheelEnable", "true");
                config("recallMessageEnable", "false");
                step("recall when disabled", () -> recall(rc, TOPIC, good));
                config("recallMessageEnable", "true");

                Thread.sleep(Math.max(0, due + 3000 - System.currentTimeMillis()));
                step("records after the due time", () -> Clients.countRecords(ns, TOPIC));
                step("timer metrics of the topic", () -> {
                    RemotingCommand m = call(rc, b.addr(), 61, null);
                    JSONObject j = JSON.parseObject(new String(m.getBody(), StandardCharsets.UTF_8));
                    JSONObject t = j.getJSONObject("timingCount").getJSONObject(TOPIC);
                    return m.getCode() + " keys=" + new TreeSet<>(j.keySet()) + " count=" + t.getLong("count");
                });

                step("member group", () -> {
                    RemotingCommand m = call(rc, ns.addr(), 901, null, "clusterName", b.clusterName(), "brokerName", BROKER);
                    return m.getCode() + " " + m.getRemark() + " "
                        + new String(m.getBody(), StandardCharsets.UTF_8).replace(b.addr(), "ADDR");
                });
                step("member group without broker", () -> {
                    RemotingCommand m = call(rc, ns.addr(), 901, null, "clusterName", "c");
                    return m.getCode() + " " + m.getRemark() + " " + new String(m.getBody(), StandardCharsets.UTF_8);
                });
                step("register topic without topic", () -> raw(rc, ns.addr(), 217, null));
                step("route BrokerData keys", () -> {
                    RemotingCommand m = call(rc, ns.addr(), 105, null, "topic", TOPIC);
                    JSONObject bd = JSON.parseObject(new String(m.getBody(), StandardCharsets.UTF_8))
                        .getJSONArray("brokerDatas").getJSONObject(0);
                    return new TreeSet<>(bd.keySet()) + " enableActingMaster=" + bd.get("enableActingMaster");
                });
            } finally {
                for (Runnable r : shutdown) r.run();
            }
        }
    }
}
