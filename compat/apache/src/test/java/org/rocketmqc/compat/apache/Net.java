package org.rocketmqc.compat.apache;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Free 127.0.0.1 ports and bounded waits. */
public final class Net {
    private Net() {
    }

    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A free port for a name server. */
    public static int freePort() {
        for (int i = 0; i < 100; i++) {
            int p = 20000 + ThreadLocalRandom.current().nextInt(30000);
            if (portFree(p)) return p;
        }
        throw new IllegalStateException("no free port");
    }

    /** A broker listen port p: both implementations also bind p-2 (fast/VIP port) and p+1 (HA). */
    public static int freeBrokerPort() {
        for (int i = 0; i < 100; i++) {
            int p = 20000 + ThreadLocalRandom.current().nextInt(30000);
            if (portFree(p - 2) && portFree(p) && portFree(p + 1)) return p;
        }
        throw new IllegalStateException("no free broker port");
    }

    static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Polls cond every 100 ms; fails with what() after the given seconds. */
    public static void await(BooleanSupplier cond, int seconds, Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what.get());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what.get());
            }
        }
    }
}
