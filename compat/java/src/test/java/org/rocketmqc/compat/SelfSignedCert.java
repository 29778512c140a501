package org.rocketmqc.compat;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made with the JDK's keytool (present wherever the tests run) and written as
 * the PEM files our servers and Apache's TlsHelper read: the broker's self-signed one
 * (write), and certificate authorities with client certificates they signed (clientCerts). Clients trust the server's certificate either way, because Apache's client TLS
 * defaults to tls.test.mode.enable=true (InsecureTrustManagerFactory).
 */
final class SelfSignedCert {
    private SelfSignedCert() {}

    private static final String PASS = "compat-pass";

    /** Writes server.pem / server.key into dir; returns the tls.server.* lines naming them. */
    static String write(Path dir) throws Exception {
        Path store = dir.resolve("server.p12");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
            "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
            "-keystore", store.toString(), "-storepass", PASS, "-keypass", PASS);
        Path certPath = dir.resolve("server.pem"), keyPath = dir.resolve("server.key");
        exportPem(store, "broker", certPath, keyPath);
        return "tls.server.certPath=" + certPath + "\ntls.server.keyPath=" + keyPath + "\n";
    }

    /**
     * Two certificate authorities and a client certificate each signed, in one keystore (four
     * keytool runs: -genkeypair -signer signs at once): clientca.pem, client.pem / client.key
     * (signed by clientca), stranger.pem / stranger.key (signed by another CA) in dir.
     */
    static void clientCerts(Path dir) throws Exception {
        Path store = dir.resolve("clients.p12");
        String[][] entries = {{"clientca", null}, {"client", "clientca"}, {"otherca", null}, {"stranger", "otherca"}};
        for (String[] e : entries) {
            List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", e[0], "-keyalg", "RSA",
                "-keysize", "2048", "-validity", "2", "-dname", "CN=" + e[0], "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", PASS, "-keypass", PASS));
            if (e[1] == null) args.addAll(List.of("-ext", "bc:c"));
            else args.addAll(List.of("-signer", e[1], "-signerkeypass", PASS));
            keytool(args.toArray(new String[0]));
        }
        exportPem(store, "clientca", dir.resolve("clientca.pem"), null);
        for (String who : new String[] {"client", "stranger"})
            exportPem(store, who, dir.resolve(who + ".pem"), dir.resolve(who + ".key"));
    }

    /** The entry's certificate and PKCS#8 key (unless the path is null) as PEM files. */
    private static void exportPem(Path store, String alias, Path certPath, Path keyPath) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASS.toCharArray());
        }
        Key key = ks.getKey(alias, PASS.toCharArray()); // PKCS#8, as Netty wants it too
        Certificate cert = ks.getCertificate(alias);
        Files.write(certPath, pem("CERTIFICATE", cert.getEncoded()));
        if (keyPath != null) Files.write(keyPath, pem("PRIVATE KEY", key.getEncoded()));
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(new File(System.getProperty("java.home"), "bin/keytool").getPath());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            throw new IllegalStateException("keytool " + args[0] + " failed: " + out);
    }

    private static byte[] pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n")
            .getBytes(StandardCharsets.US_ASCII);
    }
}
