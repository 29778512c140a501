package org.rocketmqc.compat;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for 127.0.0.1 made with the JDK's keytool (present wherever
 * the tests run) and written as the PEM files our servers read. The clients trust it because
 * Apache's client TLS defaults to tls.test.mode.enable=true (InsecureTrustManagerFactory).
 */
final class SelfSignedCert {
    private SelfSignedCert() {}

    private static final String PASS = "compat-pass";

    /** Writes server.pem / server.key into dir; returns the tls.server.* lines naming them. */
    static String write(Path dir) throws Exception {
        Path store = dir.resolve("server.p12");
        String keytool = new File(System.getProperty("java.home"), "bin/keytool").getPath();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "broker", "-keyalg", "RSA",
            "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1",
            "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASS, "-keypass", PASS)
            .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            throw new IllegalStateException("keytool failed: " + out);

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASS.toCharArray());
        }
        Key key = ks.getKey("broker", PASS.toCharArray()); // PKCS#8, as Netty wants it too
        Certificate cert = ks.getCertificate("broker");
        Path certPath = dir.resolve("server.pem"), keyPath = dir.resolve("server.key");
        Files.write(certPath, pem("CERTIFICATE", cert.getEncoded()));
        Files.write(keyPath, pem("PRIVATE KEY", key.getEncoded()));
        return "tls.server.certPath=" + certPath + "\ntls.server.keyPath=" + keyPath + "\n";
    }

    private static byte[] pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return ("-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n")
            .getBytes(StandardCharsets.US_ASCII);
    }
}
