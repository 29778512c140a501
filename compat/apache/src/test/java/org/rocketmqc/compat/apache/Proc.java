package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One process the harness started: known by PID, output appended to a log file. */
public final class Proc {
    final String name;
    final Path log;
    private final Process process;

    private Proc(String name, Path log, Process process) {
        this.name = name;
        this.log = log;
        this.process = process;
    }

    static Proc start(String name, List<String> cmd, Path log, Path cwd, java.util.Map<String, String> env)
        throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Files.writeString(log, "# " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        return new Proc(name, log, pb.start());
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM, then SIGKILL if it has not exited within the timeout. */
    public void stop(int seconds) {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        }
    }

    /** SIGKILL, and wait (bounded) until the PID is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS))
                throw new IllegalStateException(name + " (pid " + pid() + ") survived SIGKILL for 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last lines of the process's log, for failure messages. */
    public String tail(int lines) {
        try {
            List<String> all = List.of(new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
