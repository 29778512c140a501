package org.rocketmqc.compat.apache5;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Hosts in network namespaces for one test: a bridge in a namespace of its own, hosts h1..hN
 * each with the address NET.i on it (one veth each, "vhI" on the bridge side), and the root
 * namespace, where this JVM and so the 5.3.3 clients run, as NET.100. open() skips the test
 * without root or iproute2 (fails it with CI=true); close() kills every process spawned in the
 * hosts and removes the namespaces (the veths go with them) and the directory, also when the
 * test failed. The addresses come from the JVM's PID, so two suites at once do not collide.
 */
final class Netns implements AutoCloseable {
    final String tag = Long.toString(ProcessHandle.current().pid() % 100000);
    final String net = "10." + (Integer.parseInt(tag) % 200 + 20) + "." + (Integer.parseInt(tag) / 200 % 250) + ".";
    /** Our binaries ($RMQ_BUILDDIR, else ../../build) and a directory for configurations, stores and logs. */
    final Path build;
    final Path dir;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> procs = new ArrayList<>();

    private Netns(Path build, Path dir) {
        this.build = build;
        this.dir = dir;
    }

    /** HOSTS hosts on a bridge with the root namespace; the test is skipped when that is not possible here. */
    static Netns open(int hosts) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) skipOrFail("network namespaces need root");
        String b = System.getenv("RMQ_BUILDDIR");
        Path build = (b == null || b.isEmpty() ? new File("../../build").getCanonicalFile().toPath() : Path.of(b));
        Netns n = new Netns(build, Files.createTempDirectory("rmq-netns-"));
        try {
            if (!run("ip", "netns", "add", n.ns("chk"))) skipOrFail("ip netns add is not available or not permitted");
            run("ip", "netns", "del", n.ns("chk"));
            n.network(hosts);
            return n;
        } catch (Throwable t) {
            n.close();
            throw t;
        }
    }

    static boolean run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return false;
        }
        return p.exitValue() == 0;
    }

    static void must(String... cmd) throws Exception {
        if (!run(cmd)) throw new IllegalStateException("failed: " + String.join(" ", cmd));
    }

    static void skipOrFail(String why) {
        if ("true".equals(System.getenv("CI"))) throw new AssertionError(why + " (CI=true)");
        Assumptions.assumeTrue(false, why);
    }

    String ns(String host) {
        return "rmqj" + tag + host;
    }

    /** Host I's address. */
    String ip(int i) {
        return net + i;
    }

    private void network(int hosts) throws Exception {
        List<String> all = new ArrayList<>(List.of("b"));
        for (int i = 1; i <= hosts; i++) all.add("h" + i);
        for (String h : all) {
            must("ip", "netns", "add", ns(h));
            namespaces.add(ns(h));
            must("ip", "-n", ns(h), "link", "set", "lo", "up");
        }
        must("ip", "-n", ns("b"), "link", "add", "br0", "type", "bridge");
        must("ip", "-n", ns("b"), "link", "set", "br0", "up");
        for (int i = 1; i <= hosts; i++) {
            String h = "h" + i;
            must("ip", "-n", ns("b"), "link", "add", "v" + h, "type", "veth", "peer", "name", "eth0", "netns", ns(h));
            must("ip", "-n", ns("b"), "link", "set", "v" + h, "master", "br0", "up");
            must("ip", "-n", ns(h), "addr", "add", ip(i) + "/24", "dev", "eth0");
            must("ip", "-n", ns(h), "link", "set", "eth0", "up");
        }
        // The clients (this JVM) stay in the root namespace, on the bridge as .100; this veth
        // goes when the bridge's namespace is removed.
        String root = "rmqj" + tag + "r";
        must("ip", "link", "add", root, "type", "veth", "peer", "name", "vr", "netns", ns("b"));
        must("ip", "-n", ns("b"), "link", "set", "vr", "master", "br0", "up");
        must("ip", "addr", "add", ip(100) + "/24", "dev", root);
        must("ip", "link", "set", root, "up");
    }

    /** Runs CMD on host HOST (ip netns exec execs it: the Process is the server itself), output appended to LOG. */
    Process spawn(int host, Path log, String... cmd) throws IOException {
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", ns("h" + host)));
        all.addAll(List.of(cmd));
        ProcessBuilder pb = new ProcessBuilder(all).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("RMQ_LOG_STDERR", "1");
        Process p = pb.start();
        synchronized (procs) {
            procs.add(p);
        }
        return p;
    }

    /** Our mqbroker on HOST with the configuration file dir/NAME.conf, logging to dir/NAME.log. */
    Process broker(int host, String name) throws IOException {
        return spawn(host, dir.resolve(name + ".log"), build.resolve("mqbroker").toString(), "-c",
            dir.resolve(name + ".conf").toString());
    }

    /**
     * Writes dir/NAME.conf for our name server on HOST with its controller (SELF of the
     * DLedger-style PEERS "n0-addr;n1-addr"; the brokers time out in 3 s, scanned every 0.5 s).
     */
    void namesrvConf(String name, String self, String peers) throws IOException {
        Files.writeString(dir.resolve(name + ".conf"), "listenPort=9876\nkvConfigPath=" + dir + "/" + name
            + "-kv.json\nenableControllerInNamesrv=true\ncontrollerDLegerGroup=group1\ncontrollerDLegerPeers=" + peers
            + "\ncontrollerDLegerSelfId=" + self + "\ncontrollerStorePath=" + dir + "/" + name + "-controller\n"
            + "scanNotActiveBrokerInterval=500\n");
    }

    /** Our mqnamesrv on HOST with dir/NAME.conf. */
    Process namesrv(int host, String name) throws IOException {
        return spawn(host, dir.resolve(name + ".log"), build.resolve("mqnamesrv").toString(), "-c",
            dir.resolve(name + ".conf").toString());
    }

    /**
     * Writes dir/NAME.conf for our broker on HOST (port 10911) in broker set SET, in controller
     * mode with allAckInSyncStateSet (SEND_OK once the SyncStateSet has it), a 3 s heartbeat
     * timeout at 0.3 s beats, metadata synced and registered every second; EXTRA appended.
     */
    void brokerConf(String name, String set, int host, String nsAddr, String ctlAddr, String extra)
        throws IOException {
        Files.writeString(dir.resolve(name + ".conf"), "brokerClusterName=NetnsCluster\nbrokerName=" + set
            + "\nbrokerIP1=" + ip(host) + "\nlistenPort=10911\nnamesrvAddr=" + nsAddr + "\nstorePathRootDir=" + dir
            + "/" + name + "-store\nmappedFileSizeCommitLog=16777216\nbrokerTopicEnable=true\n"
            + "enableControllerMode=true\ncontrollerAddr=" + ctlAddr + "\nallAckInSyncStateSet=true\n"
            + "brokerHeartbeatInterval=300\ncontrollerHeartBeatTimeoutMills=3000\nsyncBrokerMetadataPeriod=1000\n"
            + "checkSyncStateSetPeriod=1000\nregisterNameServerPeriod=1000\nsyncFlushTimeout=1500\n" + extra);
    }

    /** Takes host I's link on the bridge down (UP false) or up again. */
    void link(int i, boolean up) throws Exception {
        must("ip", "-n", ns("b"), "link", "set", "vh" + i, up ? "up" : "down");
    }

    /** Hosts I and J stop reaching each other (blackhole routes on both; ADD false heals it); others still reach both. */
    void partition(int i, int j, boolean add) throws Exception {
        String verb = add ? "add" : "del";
        must("ip", "-n", ns("h" + i), "route", verb, "blackhole", ip(j) + "/32");
        must("ip", "-n", ns("h" + j), "route", verb, "blackhole", ip(i) + "/32");
    }

    /** SIGSTOP (PAUSE true) or SIGCONT to P. */
    static void pause(Process p, boolean pause) throws Exception {
        must("kill", pause ? "-STOP" : "-CONT", Long.toString(p.pid()));
    }

    @Override
    public void close() throws Exception {
        boolean interrupted = Thread.interrupted();   /* a test's timeout must not stop the cleanup */
        List<Process> all;
        synchronized (procs) {
            all = new ArrayList<>(procs);
        }
        for (Process p : all) p.destroyForcibly();   /* SIGKILL, which also ends a stopped process */
        for (Process p : all) p.waitFor(10, TimeUnit.SECONDS);
        for (int i = namespaces.size() - 1; i >= 0; i--) run("ip", "netns", "del", namespaces.get(i));
        if (System.getenv("RMQ_KEEP_DIRS") == null) run("rm", "-rf", dir.toString());
        else System.out.println("netns: logs kept in " + dir);
        if (interrupted) Thread.currentThread().interrupt();
    }
}
