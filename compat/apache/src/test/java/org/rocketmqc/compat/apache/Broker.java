package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A broker of either implementation. Configure with the chained setters, then start();
 * stop() (SIGTERM) / kill() (SIGKILL) and start() again keep its ports and store, so a
 * restart or a switch of implementation on the same store (a new Broker with storeDir(...))
 * reads what was written before.
 */
public final class Broker {
    public final Impl impl;
    public final String brokerName;
    /** Unique within the Servers: names the process, its directory and log. */
    public final String name;
    public final int port;
    private final Servers servers;
    private final NameServer[] nameServers;
    private final Map<String, String> conf = new LinkedHashMap<>();
    private long brokerId;
    private String cluster = "DefaultCluster";
    private Path storeDir;
    private Proc proc;
    private String aclYaml;

    Broker(Servers servers, Impl impl, String brokerName, String name, NameServer[] nameServers) {
        this.servers = servers;
        this.impl = impl;
        this.brokerName = brokerName;
        this.name = name;
        this.nameServers = nameServers;
        this.port = Net.freeBrokerPort();
        this.storeDir = servers.dir.resolve(name).resolve("store");
        conf.put("flushDiskType", "ASYNC_FLUSH");
        conf.put("mappedFileSizeCommitLog", Long.toString(Servers.COMMITLOG_FILE_SIZE));
    }

    public Broker brokerId(long id) {
        brokerId = id;
        return this;
    }

    public Broker cluster(String clusterName) {
        cluster = clusterName;
        return this;
    }

    /** Store root (commitlog/, consumequeue/, config/...): another broker's storeDir() to take it over. */
    public Broker storeDir(Path dir) {
        storeDir = dir;
        return this;
    }

    /** Any broker.conf key; applied on the next start(). */
    public Broker set(String key, String value) {
        conf.put(key, value);
        return this;
    }

    /** aclEnable=true with this $ROCKETMQ_HOME/conf/plain_acl.yml (written at start()). */
    public Broker acl(String yaml) {
        aclYaml = yaml;
        conf.put("aclEnable", "true");
        return this;
    }

    /** Where this broker reads plain_acl.yml (a rewrite is picked up by the file watch). */
    public Path aclFile() {
        return servers.dir.resolve(name).resolve("conf/plain_acl.yml");
    }

    public String addr() {
        return "127.0.0.1:" + port;
    }

    public int haPort() {
        return port + 1;
    }

    public long brokerId() {
        return brokerId;
    }

    public String clusterName() {
        return cluster;
    }

    public Path storeDir() {
        return storeDir;
    }

    public Proc proc() {
        return proc;
    }

    public boolean alive() {
        return proc != null && proc.alive();
    }

    /** The broker.conf this broker starts with (harness keys, then set() keys). */
    public Map<String, String> config() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("brokerClusterName", cluster);
        c.put("brokerName", brokerName);
        c.put("brokerId", Long.toString(brokerId));
        c.put("namesrvAddr", Arrays.stream(nameServers).map(NameServer::addr).collect(Collectors.joining(";")));
        c.put("brokerIP1", "127.0.0.1");
        c.put("brokerIP2", "127.0.0.1");
        c.put("listenPort", Integer.toString(port));
        c.put("storePathRootDir", storeDir.toString());
        c.put("storePathCommitLog", storeDir.resolve("commitlog").toString());
        if (impl == Impl.OURS) c.put("listenAddress", "127.0.0.1");
        c.putAll(conf);
        return c;
    }

    /** Starts the process and waits (60 s at most) until every name server lists it. */
    public Broker start() throws IOException {
        if (alive()) throw new IllegalStateException(name + " is already running");
        Path home = impl == Impl.APACHE ? servers.apacheHome(name) : Files.createDirectories(servers.dir.resolve(name));
        if (aclYaml != null) {
            Files.createDirectories(home.resolve("conf"));
            Servers.write(aclFile(), aclYaml);
        }
        Path confFile = home.resolve("broker.conf");
        Servers.write(confFile, config().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("\n", "", "\n")));
        List<String> cmd = impl == Impl.APACHE
            ? servers.javaCommand("servers", home, "256m", "org.apache.rocketmq.broker.BrokerStartup", "-c", confFile.toString())
            : List.of(servers.buildDir.resolve("mqbroker").toString(), "-c", confFile.toString());
        proc = servers.launch(name, cmd, home, servers.env(home));
        for (NameServer ns : nameServers) awaitRegistered(ns);
        return this;
    }

    /** Waits until ns's cluster info has this broker's address under brokerName/brokerId. */
    public void awaitRegistered(NameServer ns) {
        Net.await(() -> !alive() || registered(ns), 60, () -> name + " (" + impl + ") registered with " + ns.name
            + ", log:\n" + proc.tail(30));
        if (!alive()) throw new IllegalStateException(name + " exited at start:\n" + proc.tail(40));
    }

    private boolean registered(NameServer ns) {
        try {
            // var: ClusterInfo and BrokerData moved packages in 5.x; compat/apache5 compiles this too.
            var bd = ns.admin().examineBrokerClusterInfo().getBrokerAddrTable().get(brokerName);
            return bd != null && addr().equals(bd.getBrokerAddrs().get(brokerId));
        } catch (Exception e) {
            return false;
        }
    }

    /** SIGTERM and wait (SIGKILL after 20 s): a clean shutdown. */
    public void stop() {
        if (proc != null) proc.stop(20);
    }

    /** SIGKILL: no shutdown hook runs. */
    public void kill() {
        if (proc != null) proc.kill();
    }
}
