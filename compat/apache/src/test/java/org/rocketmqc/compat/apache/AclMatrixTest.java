package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.common.protocol.RequestCode;
import org.apache.rocketmq.common.protocol.header.CreateTopicRequestHeader;
import org.apache.rocketmq.common.protocol.header.PullMessageRequestHeader;
import org.apache.rocketmq.common.protocol.header.QueryConsumerOffsetRequestHeader;
import org.apache.rocketmq.common.protocol.header.SendMessageRequestHeader;
import org.apache.rocketmq.common.protocol.header.UpdateConsumerOffsetRequestHeader;
import org.apache.rocketmq.common.sysflag.PullSysFlag;
import org.apache.rocketmq.remoting.netty.NettyClientConfig;
import org.apache.rocketmq.remoting.netty.NettyRemotingClient;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * ACL 1.0 (plain_acl.yml, aclEnable=true): Apache's broker (4.9.7) and ours, started with the
 * same file, get the same requests, and each answer's code (and a refusal's remark) must be
 * the same from both.
 * Requests are built and signed here (AclClientRPCHook, the client's own signer) so that the
 * signature can be left out, forged, made with the wrong secret or for an unknown key, or
 * invalidated by changing a header field after signing; a signed request is also sent twice
 * unchanged (ACL 1.0 has no nonce: a replay passes in Apache). Families: send, pull, an admin
 * request (UPDATE_AND_CREATE_TOPIC), committing and querying a consumer offset, each against
 * topics and groups the account may publish to, subscribe to, both, neither, or that it has
 * only its defaults for. Accounts: one with per-topic/group permissions, an admin, one whose
 * whiteRemoteAddress is 127.0.0.1 (signature and permissions are not checked for it), one
 * whose whiteRemoteAddress does not match. A second file puts 127.0.0.1 in
 * globalWhiteRemoteAddresses. The counts are printed as "acl matrix: ...".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AclMatrixTest {
    static final String ACCOUNTS = String.join("\n",
        "accounts:",
        "- accessKey: rocketmq2",
        "  secretKey: 12345678",
        "  admin: false",
        "  defaultTopicPerm: DENY",
        "  defaultGroupPerm: SUB",
        "  topicPerms:",
        "  - topicPub=PUB",
        "  - topicSub=SUB",
        "  - topicBoth=PUB|SUB",
        "  - topicDeny=DENY",
        "  groupPerms:",
        "  - groupSub=SUB",
        "  - groupDeny=DENY",
        "- accessKey: rocketmqAdmin",
        "  secretKey: 87654321",
        "  admin: true",
        "- accessKey: ipUserAk",
        "  secretKey: ipsecret1",
        "  whiteRemoteAddress: 127.0.0.1",
        "  admin: false",
        "  defaultTopicPerm: DENY",
        "  defaultGroupPerm: DENY",
        "- accessKey: otherIpUser",
        "  secretKey: ipsecret2",
        "  whiteRemoteAddress: 10.1.1.*",
        "  admin: false",
        "  defaultTopicPerm: PUB|SUB",
        "  defaultGroupPerm: SUB",
        "");
    static final String YAML_LISTS = "globalWhiteRemoteAddresses:\n- 10.10.103.*\n- 192.168.0.*\n" + ACCOUNTS;
    static final String YAML_LOCAL_WHITE = "globalWhiteRemoteAddresses:\n- 127.0.0.1\n" + ACCOUNTS;

    static final String[] TOPICS = {"topicPub", "topicSub", "topicBoth", "topicDeny", "topicOther"};
    static final String[] GROUPS = {"groupSub", "groupDeny", "groupOther"};
    static final Map<String, String> SECRETS = new LinkedHashMap<>();

    static {
        SECRETS.put("rocketmq2", "12345678");
        SECRETS.put("rocketmqAdmin", "87654321");
        SECRETS.put("ipUserAk", "ipsecret1");
        SECRETS.put("otherIpUser", "ipsecret2");
    }

    enum Sig { VALID, REPLAY, FORGED, WRONG_KEY, TAMPERED, MISSING, UNKNOWN_KEY }

    private Servers s;
    private NettyRemotingClient client;
    private String lastRemark;

    @BeforeAll
    void start() throws Exception {
        s = new Servers("acl");
        client = new NettyRemotingClient(new NettyClientConfig());
        client.start();
    }

    @AfterAll
    void stop() {
        if (client != null) client.shutdown();
        if (s != null) s.close();
    }

    /** A request and what changes it after signing (for TAMPERED). */
    record Req(String what, RemotingCommand cmd, Runnable tamper) {}

    interface Builder {
        Req build();
    }

    static Req send(String topic) {
        SendMessageRequestHeader h = new SendMessageRequestHeader();
        h.setProducerGroup("aclProducer");
        h.setTopic(topic);
        h.setDefaultTopic("TBW102");
        h.setDefaultTopicQueueNums(4);
        h.setQueueId(0);
        h.setSysFlag(0);
        h.setBornTimestamp(1700000000000L);
        h.setFlag(0);
        h.setProperties("");
        h.setReconsumeTimes(0);
        h.setUnitMode(false);
        h.setBatch(false);
        RemotingCommand c = RemotingCommand.createRequestCommand(RequestCode.SEND_MESSAGE, h);
        c.setBody("acl".getBytes(StandardCharsets.UTF_8));
        return new Req("send " + topic, c, () -> h.setBornTimestamp(1700000000001L));
    }

    static Req pull(String topic, String group) {
        PullMessageRequestHeader h = new PullMessageRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(0);
        h.setQueueOffset(0L);
        h.setMaxMsgNums(1);
        h.setSysFlag(PullSysFlag.buildSysFlag(false, false, true, false));
        h.setCommitOffset(0L);
        h.setSuspendTimeoutMillis(0L);
        h.setSubscription("*");
        h.setSubVersion(0L);
        return new Req("pull " + topic + " " + group, RemotingCommand.createRequestCommand(RequestCode.PULL_MESSAGE, h),
            () -> h.setMaxMsgNums(2));
    }

    static Req updateOffset(String topic, String group) {
        UpdateConsumerOffsetRequestHeader h = new UpdateConsumerOffsetRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(0);
        h.setCommitOffset(0L);
        return new Req("commit-offset " + topic + " " + group,
            RemotingCommand.createRequestCommand(RequestCode.UPDATE_CONSUMER_OFFSET, h), () -> h.setQueueId(1));
    }

    static Req queryOffset(String topic, String group) {
        QueryConsumerOffsetRequestHeader h = new QueryConsumerOffsetRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(0);
        return new Req("query-offset " + topic + " " + group,
            RemotingCommand.createRequestCommand(RequestCode.QUERY_CONSUMER_OFFSET, h), () -> h.setQueueId(1));
    }

    static Req createTopic(String topic) {
        CreateTopicRequestHeader h = new CreateTopicRequestHeader();
        h.setTopic(topic);
        h.setDefaultTopic("TBW102");
        h.setReadQueueNums(1);
        h.setWriteQueueNums(1);
        h.setPerm(6);
        h.setTopicFilterType("SINGLE_TAG");
        h.setTopicSysFlag(0);
        h.setOrder(false);
        return new Req("update-topic " + topic, RemotingCommand.createRequestCommand(RequestCode.UPDATE_AND_CREATE_TOPIC, h),
            () -> h.setReadQueueNums(2));
    }

    static List<Builder> requests() {
        List<Builder> all = new ArrayList<>();
        for (String t : TOPICS) all.add(() -> send(t));
        for (String t : TOPICS)
            for (String g : GROUPS) {
                all.add(() -> pull(t, g));
                all.add(() -> updateOffset(t, g));
                all.add(() -> queryOffset(t, g));
            }
        all.add(() -> createTopic("topicCreated"));
        return all;
    }

    static void sign(RemotingCommand c, String ak, String sk) {
        new AclClientRPCHook(new SessionCredentials(ak, sk)).doBeforeRequest(null, c);
    }

    /** Sends the request under the identity/signature variant; returns "code" (or "code,code" for a replay). */
    String call(String addr, Builder b, String ak, Sig sig) throws Exception {
        Req r = b.build();
        RemotingCommand c = r.cmd();
        switch (sig) {
            case VALID, REPLAY -> sign(c, ak, SECRETS.get(ak));
            case FORGED -> {
                sign(c, ak, SECRETS.get(ak));
                c.addExtField(SessionCredentials.SIGNATURE, "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==");
            }
            case WRONG_KEY -> sign(c, ak, SECRETS.get(ak) + "x");
            case TAMPERED -> {
                sign(c, ak, SECRETS.get(ak));
                r.tamper().run();
            }
            case UNKNOWN_KEY -> sign(c, "nobody", "whatever1");
            case MISSING -> { }
        }
        RemotingCommand resp = client.invokeSync(addr, c, 5000);
        lastRemark = resp.getRemark();
        String out = Integer.toString(resp.getCode());
        if (sig == Sig.REPLAY) out += "," + client.invokeSync(addr, c, 5000).getCode();
        return out;
    }

    /** Topics to send to and pull from, made with the admin account on both brokers. */
    void prepare(String addr) throws Exception {
        for (String t : TOPICS) {
            assertEquals("0", call(addr, () -> createTopic(t), "rocketmqAdmin", Sig.VALID), "create " + t + " on " + addr);
            assertEquals("0", call(addr, () -> send(t), "rocketmqAdmin", Sig.VALID), "send to " + t + " on " + addr);
        }
    }

    record Outcome(int cases, int allowed, int refused, List<String> differ) {}

    Outcome matrix(String yaml) throws Exception {
        NameServer ns = s.nameServer(Impl.OURS);
        Broker apache = s.broker(Impl.APACHE, "broker-acl-j", ns).acl(yaml).start();
        Broker ours = s.broker(Impl.OURS, "broker-acl-c", ns).acl(yaml).start();
        prepare(apache.addr());
        prepare(ours.addr());
        List<String[]> ids = new ArrayList<>();
        for (String ak : SECRETS.keySet())
            for (Sig sig : new Sig[] {Sig.VALID, Sig.REPLAY, Sig.FORGED, Sig.WRONG_KEY, Sig.TAMPERED})
                ids.add(new String[] {ak, sig.name()});
        ids.add(new String[] {"-", Sig.MISSING.name()});
        ids.add(new String[] {"nobody", Sig.UNKNOWN_KEY.name()});
        int cases = 0, allowed = 0, refused = 0;
        List<String> differ = new ArrayList<>();
        Map<String, Integer> byCode = new LinkedHashMap<>();
        for (String[] id : ids) {
            for (Builder b : requests()) {
                Sig sig = Sig.valueOf(id[1]);
                String want = call(apache.addr(), b, id[0], sig);
                String wantRemark = lastRemark;
                String got = call(ours.addr(), b, id[0], sig);
                cases++;
                if (!want.startsWith("0")) {
                    /* A refusal's remark too: the AclException message and where Apache threw it. */
                    want += " " + wantRemark;
                    got += " " + lastRemark;
                }
                if (want.equals(got)) {
                    String code = want.split(" ")[0];
                    if (code.equals("1") || code.equals("1,1") || code.startsWith("16")) refused++;
                    else allowed++;
                    byCode.merge(want.split(" ")[0], 1, Integer::sum);
                } else {
                    differ.add(id[0] + "/" + id[1] + " " + b.build().what() + ": Apache " + want + ", ours " + got);
                }
            }
        }
        System.out.println("acl matrix codes (Apache = ours): " + byCode);
        return new Outcome(cases, allowed, refused, differ);
    }

    private void report(String name, Outcome o) {
        System.out.printf("acl matrix %s: %d cases, %d same answer (%d refused by both, %d taken by both), %d differ%n",
            name, o.cases(), o.cases() - o.differ().size(), o.refused(), o.allowed(), o.differ().size());
        o.differ().stream().limit(40).forEach(d -> System.out.println("  differs: " + d));
        assertTrue(o.differ().isEmpty(), () -> o.differ().size() + " answers differ, first: " + o.differ().get(0));
    }

    @Test
    void accountsSignaturesResourcesAndAddresses() throws Exception {
        report("accounts", matrix(YAML_LISTS));
    }

    /** Polls (every 200 ms, 12 s at most) until the send to topicOther as rocketmq2 gets want; returns the ms. */
    long until(String addr, String want) throws Exception {
        long t0 = System.currentTimeMillis();
        while (!call(addr, () -> send("topicOther"), "rocketmq2", Sig.VALID).equals(want)) {
            if (System.currentTimeMillis() - t0 > 12_000) return -1;
            Thread.sleep(200);
        }
        return System.currentTimeMillis() - t0;
    }

    /**
     * The file watch: a rewrite granting topicOther is in force within Apache's 5 s watch
     * interval on both; a rewrite that does not load (a 5-character key) changes nothing on
     * either; a deleted file leaves the same answer on both.
     */
    @Test
    void rewrittenFileIsReloadedAlike() throws Exception {
        NameServer ns = s.nameServer(Impl.OURS);
        Broker apache = s.broker(Impl.APACHE, "broker-acl-j", ns).acl(YAML_LISTS).start();
        Broker ours = s.broker(Impl.OURS, "broker-acl-c", ns).acl(YAML_LISTS).start();
        prepare(apache.addr());
        prepare(ours.addr());
        assertEquals("1", call(apache.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID));
        assertEquals("1", call(ours.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID));
        String granted = YAML_LISTS.replace("  - topicDeny=DENY\n", "  - topicDeny=DENY\n  - topicOther=PUB\n");
        Servers.write(apache.aclFile(), granted);
        Servers.write(ours.aclFile(), granted);
        long ja = until(apache.addr(), "0"), ca = until(ours.addr(), "0");
        System.out.printf("acl reload: grant in force after %d ms (Apache), %d ms (ours)%n", ja, ca);
        assertTrue(ja >= 0 && ca >= 0, "grant in force: Apache " + ja + " ms, ours " + ca + " ms");

        String bad = granted.replace("accessKey: rocketmq2", "accessKey: short").replace("- topicOther=PUB", "- x=PUB");
        Servers.write(apache.aclFile(), bad);
        Servers.write(ours.aclFile(), bad);
        Thread.sleep(7000);
        String badJ = call(apache.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID) + " " + lastRemark;
        String badC = call(ours.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID) + " " + lastRemark;
        System.out.println("acl reload: after a file that does not load: Apache " + badJ + ", ours " + badC);
        assertEquals(badJ, badC);

        java.nio.file.Files.delete(apache.aclFile());
        java.nio.file.Files.delete(ours.aclFile());
        Thread.sleep(7000);
        String goneJ = call(apache.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID) + " " + lastRemark;
        String goneC = call(ours.addr(), () -> send("topicOther"), "rocketmq2", Sig.VALID) + " " + lastRemark;
        System.out.println("acl reload: after the file was deleted: Apache " + goneJ + ", ours " + goneC);
        assertEquals(goneJ, goneC);
    }

    @Test
    void globalWhiteAddressTakesEverything() throws Exception {
        report("global-white", matrix(YAML_LOCAL_WHITE));
    }
}
