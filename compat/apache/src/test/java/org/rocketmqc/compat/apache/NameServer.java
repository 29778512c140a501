package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** A name server of either implementation, on 127.0.0.1:port, started by Servers.nameServer. */
public final class NameServer {
    public final Impl impl;
    public final String name;
    public final int port;
    /** kvConfig.json of this name server (both implementations write Apache's format there). */
    public final Path kvConfigPath;
    private final Servers servers;
    /** More namesrv.properties lines (e.g. the embedded controller's keys). */
    private final String extraConf;
    private Proc proc;
    private DefaultMQAdminExt admin;

    NameServer(Servers servers, Impl impl, String name, String extraConf) {
        this.servers = servers;
        this.extraConf = extraConf;
        this.impl = impl;
        this.name = name;
        this.port = Net.freePort();
        this.kvConfigPath = servers.dir.resolve(name).resolve("kvConfig.json");
    }

    public String addr() {
        return "127.0.0.1:" + port;
    }

    public Proc proc() {
        return proc;
    }

    /** Starts it (again, after stop(): same port and kvConfig.json) and waits for its port. */
    public void start() throws IOException {
        Path home = impl == Impl.APACHE ? servers.apacheHome(name) : Files.createDirectories(servers.dir.resolve(name));
        Path conf = home.resolve("namesrv.properties");
        Servers.write(conf, "listenPort=" + port + "\nkvConfigPath=" + kvConfigPath + "\n"
            + (impl == Impl.OURS ? "listenAddress=127.0.0.1\n" : "") + extraConf);
        List<String> cmd = impl == Impl.APACHE
            ? servers.javaCommand("servers", home, "128m", "org.apache.rocketmq.namesrv.NamesrvStartup", "-c", conf.toString())
            : List.of(servers.buildDir.resolve("mqnamesrv").toString(), "-c", conf.toString());
        proc = servers.launch(name, cmd, home, servers.env(home));
        Net.await(() -> Net.accepts(port) || !proc.alive(), 60, () -> name + " port " + port);
        if (!proc.alive()) throw new IllegalStateException(name + " exited at start:\n" + proc.tail(30));
    }

    /** Stops it with SIGTERM (SIGKILL after 10 s). */
    public void stop() {
        proc.stop(10);
    }

    /** SIGKILL. */
    public void kill() {
        proc.kill();
    }

    /** A started 4.9.8 admin client on this name server, shut down with the Servers. */
    public synchronized DefaultMQAdminExt admin() throws Exception {
        if (admin == null) {
            DefaultMQAdminExt a = new DefaultMQAdminExt(10_000);
            a.setNamesrvAddr(addr());
            a.setInstanceName(name + "-admin-" + System.nanoTime());
            a.start();
            admin = a;
            servers.onClose(a::shutdown);
        }
        return admin;
    }
}
