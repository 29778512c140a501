package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The official mqadmin (rocketmq-tools 4.9.8, MQAdminStartup) run as its own JVM. */
public final class MqAdmin {
    private MqAdmin() {
    }

    /** Exit code and everything mqadmin printed (stdout and stderr together). */
    public record Result(int exit, String output, List<String> args) {
        /** Fails unless the output contains every one of the strings. */
        public Result expect(String... needles) {
            for (String n : needles)
                if (!output.contains(n))
                    throw new AssertionError("mqadmin " + String.join(" ", args) + ": output lacks \"" + n
                        + "\"; exit " + exit + ", output:\n" + output);
            return this;
        }
    }

    /**
     * Every sub-command is a fresh JVM; a class-data archive of the tools classpath, written by
     * the first run and mapped by the later ones, halves the CPU each start costs.
     */
    private static synchronized String classDataSharing() {
        Path jsa = Path.of(System.getProperty("tools.classpath.file", "target/tools.classpath")).resolveSibling("mqadmin.jsa");
        return Files.exists(jsa) ? "-XX:SharedArchiveFile=" + jsa : "-XX:ArchiveClassesAtExit=" + jsa;
    }

    static Result run(Servers servers, String... args) throws IOException {
        Path home = servers.dir.resolve("mqadmin");
        if (!Files.exists(home.resolve("conf"))) servers.apacheHome("mqadmin");
        List<String> cmd = servers.javaCommand("tools", home, "128m",
            "org.apache.rocketmq.tools.command.MQAdminStartup", args);
        cmd.add(1, classDataSharing());
        Path out = Files.createTempFile(servers.dir, "mqadmin-", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true)
            .redirectOutput(out.toFile());
        pb.environment().putAll(Map.of("ROCKETMQ_HOME", home.toString()));
        Process p = pb.start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("mqadmin " + String.join(" ", args) + " still running after 60 s:\n"
                    + Files.readString(out, StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String text = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
        Files.delete(out);
        if (System.getenv("RMQ_MQADMIN_ECHO") != null)
            System.out.println("$ mqadmin " + String.join(" ", args) + "\n" + text);
        return new Result(p.exitValue(), text, new ArrayList<>(List.of(args)));
    }
}
