package org.rocketmqc.compat.apache;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/*
 * The compat/apache harness: Apache RocketMQ's name server, broker and mqadmin beside ours.
 *
 *   try (Servers s = new Servers("my-test")) {          // temp dir; close() stops everything
 *       NameServer ns = s.nameServer(Impl.APACHE);        // or Impl.OURS; started, port open
 *       Broker a = s.broker(Impl.APACHE, "broker-a", ns)  // configured, not yet started
 *                   .set("brokerRole", "SYNC_MASTER")     // any broker.conf key
 *                   .start();                             // waits until ns lists it
 *       Broker c = s.broker(Impl.OURS, "broker-a", ns).brokerId(1)
 *                   .set("brokerRole", "SLAVE").start();  // a slave of a (same brokerName)
 *       a.kill();                                         // SIGKILL; a.stop() is SIGTERM
 *       Broker r = s.broker(Impl.OURS, "broker-r", ns).storeDir(a.storeDir()).start();
 *       MqAdmin.Result out = s.mqadmin("topicList", "-n", ns.addr());  // official mqadmin
 *       DefaultMQAdminExt admin = ns.admin();             // 4.9.8 admin client, closed with s
 *   }
 *
 * - Processes: every server is a separate process started by the harness and known by PID
 *   (Proc): Apache's as `java -cp <servers.classpath> NamesrvStartup|BrokerStartup -c conf`,
 *   ours as $RMQ_BUILDDIR/mqnamesrv|mqbroker -c conf (RMQ_BUILDDIR defaults to ../../build).
 *   Each gets its own directory under Servers.dir: conf, log (<name>.log, stdout+stderr, and
 *   for Apache also logs/*.log from logback), store, and for Apache ROCKETMQ_HOME = user.home.
 * - Ports: 127.0.0.1 only, free ports picked at random; a broker on listen port p also binds
 *   p-2 (fast port) and p+1 (HA). Brokers run with brokerIP1 = brokerIP2 = 127.0.0.1.
 * - Waits: starting waits for the port (name server) and for the broker to appear in the
 *   name server's cluster info under its brokerName/brokerId (broker), each with a timeout;
 *   a failure names the process and shows the tail of its log.
 * - Versions: mqadmin and the client on the tests' classpath are rocketmq-tools/-client
 *   4.9.8; Apache's servers are 4.9.7 (servers/pom.xml says why). Classpaths come from
 *   target/tools.classpath and target/servers.classpath, written by the pom.
 * - compat/apache5 compiles this harness (not its tests) against the 5.3.3 client and runs
 *   Apache 5.3.3's servers with it: nothing here names a class whose package moved in 5.x.
 * - Java 17: Apache's store unmaps files through DirectByteBuffer's cleaner; APACHE_JVM_FLAGS
 *   has the two --add-opens it needs (java.base/java.nio, java.base/jdk.internal.ref).
 *   Apache's servers run with tls.server.mode=disabled: the tests speak plain TCP, and the
 *   servers skip building a self-signed TLS context at start.
 * - RMQ_MQADMIN_ECHO=1 prints every mqadmin command and its output; RMQ_KEEP_DIRS=1 keeps
 *   the temp directories (logs, stores) after the run.
 * - Reuse: start servers once per test class (@BeforeAll) and give each case its own topic
 *   and group names; the suite must stay within a few minutes on 2 cores.
 */
public final class Servers implements AutoCloseable {
    /**
     * Flags the Apache JVMs (servers and mqadmin) run with on Java 17. The two --add-opens are
     * what the 4.9.x store needs to unmap a file (MappedFile.clean reflects on
     * DirectByteBuffer.attachment() and jdk.internal.ref.Cleaner.clean()): without the first,
     * mqadmin deleteTopic fails with InaccessibleObjectException "does not opens java.nio";
     * without the second, with "does not exports jdk.internal.ref". The rest keep the JVMs
     * small and quick to start.
     */
    public static final List<String> APACHE_JVM_FLAGS = List.of(
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
        "-Dtls.server.mode=disabled",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k");

    /** Both brokers map commitlog files of this size, so either reads the other's store. */
    public static final long COMMITLOG_FILE_SIZE = 64L << 20;

    public final Path dir;
    final Path buildDir;
    private final List<Proc> procs = new ArrayList<>();
    private final List<AutoCloseable> closers = new ArrayList<>();
    private int seq;

    public Servers(String name) throws IOException {
        String b = System.getenv("RMQ_BUILDDIR");
        buildDir = (b == null || b.isEmpty()) ? new File("../../build").getCanonicalFile().toPath() : Path.of(b);
        if (!Files.isExecutable(buildDir.resolve("mqbroker")))
            throw new IllegalStateException("no mqbroker in " + buildDir + " (set RMQ_BUILDDIR)");
        dir = Files.createTempDirectory("rmq-apache-" + name + "-");
    }

    /** A started name server on a free port. */
    public NameServer nameServer(Impl impl) throws IOException {
        return nameServer(impl, "");
    }

    /** A started name server with more namesrv.properties lines (EXTRA, "key=value\n" each). */
    public NameServer nameServer(Impl impl, String extra) throws IOException {
        NameServer ns = new NameServer(this, impl, unique(impl == Impl.APACHE ? "namesrv-j" : "namesrv-c"), extra);
        ns.start();
        return ns;
    }

    /** A broker (not started): brokerId 0, cluster DefaultCluster, its own store, registered with nameServers. */
    public Broker broker(Impl impl, String brokerName, NameServer... nameServers) {
        return new Broker(this, impl, brokerName, unique(brokerName), nameServers);
    }

    /** Runs the official mqadmin (4.9.8) with the given sub-command and options; 60 s at most. */
    public MqAdmin.Result mqadmin(String... args) throws IOException {
        return MqAdmin.run(this, args);
    }

    synchronized String unique(String base) {
        return base + "-" + (++seq);
    }

    synchronized void track(Proc p) {
        procs.add(p);
    }

    synchronized void onClose(AutoCloseable c) {
        closers.add(c);
    }

    /** An Apache process's home: ROCKETMQ_HOME and user.home, with the logback files it insists on. */
    Path apacheHome(String name) throws IOException {
        Path home = dir.resolve(name);
        Files.createDirectories(home.resolve("conf"));
        for (String kind : new String[] {"namesrv", "broker", "tools"}) {
            write(home.resolve("conf/logback_" + kind + ".xml"), String.join("\n",
                "<configuration>",
                "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">",
                "    <file>" + home.resolve("logs/" + kind + ".log") + "</file>",
                "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0} - %msg%n</pattern></encoder>",
                "  </appender>",
                "  <root level=\"INFO\"><appender-ref ref=\"FILE\"/></root>",
                "</configuration>", ""));
        }
        return home;
    }

    /** `java <flags> -cp <classpath of kind> mainClass args...` for an Apache JVM. */
    List<String> javaCommand(String classpathKind, Path home, String heap, String mainClass, String... args)
        throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xms" + heap);
        cmd.add("-Xmx" + heap);
        cmd.add("-XX:MaxDirectMemorySize=512m");
        cmd.addAll(APACHE_JVM_FLAGS);
        cmd.add("-Duser.home=" + home);
        cmd.add("-Drocketmq.home.dir=" + home);
        cmd.add("-cp");
        cmd.add(classpath(classpathKind));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A server's environment: its own home; ours log to stderr (the process log) instead of ~/logs. */
    Map<String, String> env(Path home) {
        return Map.of("ROCKETMQ_HOME", home.toString(), "HOME", home.toString(), "RMQ_LOG_STDERR", "1");
    }

    Proc launch(String name, List<String> cmd, Path cwd, Map<String, String> env) throws IOException {
        Proc p = Proc.start(name, cmd, dir.resolve(name + ".log"), cwd, env);
        track(p);
        return p;
    }

    private static String classpath(String kind) throws IOException {
        String file = System.getProperty(kind + ".classpath.file", "target/" + kind + ".classpath");
        Path p = Path.of(file);
        if (!Files.exists(p))
            throw new IllegalStateException(p + " missing: run the suite through Maven (mvn test) or run.sh");
        return Files.readString(p).trim();
    }

    static void write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        Files.write(p, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Stops every process (brokers before name servers), then removes the directory. */
    @Override
    public void close() {
        List<AutoCloseable> cs;
        List<Proc> ps;
        synchronized (this) {
            cs = new ArrayList<>(closers);
            ps = new ArrayList<>(procs);
        }
        for (AutoCloseable c : cs) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("harness: closing " + c + ": " + e);
            }
        }
        for (int i = ps.size() - 1; i >= 0; i--) ps.get(i).stop(10);
        if (System.getenv("RMQ_KEEP_DIRS") != null) {
            System.err.println("harness: kept " + dir);
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.err.println("harness: removing " + dir + ": " + e);
        }
    }
}
