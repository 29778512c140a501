package org.rocketmqc.compat;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Our mqnamesrv and mqbroker, started from $RMQ_BUILDDIR on free 127.0.0.1 ports with a
 * fresh store in a temporary directory, and stopped by process handle. Every wait has a
 * deadline. The broker runs with short delay levels and transaction check times so that
 * retry, delay and check-back cases finish in seconds. A @Cluster on the test class adds
 * ACL (plain_acl.yml under a ROCKETMQ_HOME in the temporary directory) or TLS (a self-signed
 * certificate made there with the JDK's keytool, and CAs with client certificates).
 */
public final class Servers implements AutoCloseable {
    /** Level 2 is "2s" (the delay case); the others, used by retries, are 1 s. */
    static final String DELAY_LEVELS = "1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

    public final Path dir;
    public final String nameSrv;
    public final String brokerAddr;
    public final String brokerName = "broker-c";
    public final String cluster = "DefaultCluster";
    private final String name;
    private final Process namesrv;
    private final Process broker;

    /** name: the test class, for the server logs kept under $compat.logDir after close. */
    Servers(String name, Cluster spec) throws Exception {
        this.name = name;
        String build = System.getenv("RMQ_BUILDDIR");
        if (build == null || build.isEmpty()) build = new File("../../build").getCanonicalPath();
        dir = Files.createTempDirectory("rmq-compat-java-");
        int nsPort = freePort();
        int brokerPort = freeBrokerPort();
        nameSrv = "127.0.0.1:" + nsPort;
        brokerAddr = "127.0.0.1:" + brokerPort;

        String nsTls = "", brokerTls = "", brokerAcl = "", brokerMore = spec != null ? spec.brokerConf() : "";
        String nsJavaOpt = null, brokerJavaOpt = null;
        if (spec != null && !spec.brokerTlsMode().isEmpty()) {
            String files = SelfSignedCert.write(dir);
            String nsMode = spec.namesrvTlsMode().isEmpty() ? "permissive" : spec.namesrvTlsMode();
            if (!spec.requireClientCert()) {
                nsTls = "tls.server.mode=" + nsMode + "\n" + files;
                brokerTls = "tls.server.mode=" + spec.brokerTlsMode() + "\n" + files;
            } else {
                // Apache's places: the mode as a system property, the rest in tls.config.file,
                // with test mode off (in test mode Apache ignores the files and client-auth keys).
                SelfSignedCert.clientCerts(dir);
                String prod = "tls.test.mode.enable=false\n" + files;
                write(dir.resolve("ns-tls.properties"), prod);
                write(dir.resolve("broker-tls.properties"), prod + "tls.server.need.client.auth=require\n"
                    + "tls.server.authClient=true\ntls.server.trustCertPath=" + dir.resolve("clientca.pem") + "\n");
                nsJavaOpt = "-Dtls.server.mode=" + nsMode + " -Dtls.config.file=" + dir.resolve("ns-tls.properties");
                brokerJavaOpt = "-Dtls.server.mode=" + spec.brokerTlsMode() + " -Dtls.config.file="
                    + dir.resolve("broker-tls.properties");
                for (String who : new String[] {"client", "stranger", "none"}) {
                    String cert = who.equals("none") ? "" : dir.resolve(who + ".pem").toString();
                    String key = who.equals("none") ? "" : dir.resolve(who + ".key").toString();
                    write(dir.resolve("tls-" + who + ".properties"), "tls.test.mode.enable=false\n"
                        + "tls.client.certPath=" + cert + "\ntls.client.keyPath=" + key + "\n"
                        + "tls.client.authServer=true\ntls.client.trustCertPath=" + dir.resolve("server.pem") + "\n");
                }
            }
        }
        if (spec != null && !spec.aclYaml().isEmpty()) {
            Files.createDirectories(dir.resolve("conf"));
            write(dir.resolve("conf/plain_acl.yml"), spec.aclYaml());
            brokerAcl = "aclEnable=true\n";
        }

        Path nsConf = dir.resolve("namesrv.properties");
        write(nsConf, "listenPort=" + nsPort + "\nlistenAddress=127.0.0.1\nkvConfigPath=" + dir + "/kvConfig.json\n" + nsTls);
        namesrv = start(build, "mqnamesrv", "namesrv.log", nsJavaOpt, "-c", nsConf.toString());
        waitPort(nsPort);

        Path brokerConf = dir.resolve("broker.conf");
        write(brokerConf, String.join("\n",
            "brokerClusterName=" + cluster, "brokerName=" + brokerName, "brokerId=0",
            "brokerIP1=127.0.0.1", "listenAddress=127.0.0.1", "listenPort=" + brokerPort,
            "storePathRootDir=" + dir + "/store", "mappedFileSizeCommitLog=67108864",
            "flushDiskType=ASYNC_FLUSH", "enablePropertyFilter=true",
            "messageDelayLevel=" + DELAY_LEVELS,
            "transactionTimeOut=1000", "transactionCheckInterval=1000", "") + brokerTls + brokerAcl + brokerMore);
        broker = start(build, "mqbroker", "broker.log", brokerJavaOpt, "-c", brokerConf.toString(), "-n", nameSrv);
        waitPort(brokerPort);
        Thread.sleep(300); // the broker registers with the name server right after it listens
    }

    /**
     * The tls.config.file a Java client of a requireClientCert cluster reads: "client" (a
     * certificate the broker's CA signed), "stranger" (one another CA signed) or "none".
     */
    public Path clientTlsFile(String who) {
        return dir.resolve("tls-" + who + ".properties");
    }

    /** javaOpt: JAVA_OPT for the server (Apache's scripts pass it to the JVM), or null. */
    private Process start(String build, String bin, String log, String javaOpt, String... args) throws IOException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = new File(build, bin).getPath();
        System.arraycopy(args, 0, cmd, 1, args.length);
        File out = dir.resolve(log).toFile();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out));
        pb.environment().put("ROCKETMQ_HOME", dir.toString()); // conf/plain_acl.yml
        pb.environment().put("RMQ_LOG_STDERR", "1"); // into the log copied at close, not ~/logs
        if (javaOpt != null) pb.environment().put("JAVA_OPT", javaOpt);
        else pb.environment().remove("JAVA_OPT");
        return pb.start();
    }

    @Override
    public void close() throws Exception {
        for (Process p : new Process[] {broker, namesrv}) {
            if (p == null) continue;
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        String keep = System.getProperty("compat.logDir");
        if (keep != null) {
            Files.createDirectories(Path.of(keep));
            for (String log : new String[] {"namesrv.log", "broker.log"})
                if (Files.exists(dir.resolve(log)))
                    Files.copy(dir.resolve(log), Path.of(keep, name + "-" + log), StandardCopyOption.REPLACE_EXISTING);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static void write(Path p, String text) throws IOException {
        Files.write(p, text.getBytes(StandardCharsets.UTF_8));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A broker port p also needs p-2 (fast port) and p+1 (HA) free. */
    private static int freeBrokerPort() {
        for (int i = 0; i < 50; i++) {
            int p = 20000 + ThreadLocalRandom.current().nextInt(30000);
            if (portFree(p - 2) && portFree(p) && portFree(p + 1)) return p;
        }
        throw new IllegalStateException("no free broker port");
    }

    private static void waitPort(int port) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.currentTimeMillis() > deadline)
                    throw new IllegalStateException("port " + port + " not open after 10 s");
                Thread.sleep(50);
            }
        }
    }
}
