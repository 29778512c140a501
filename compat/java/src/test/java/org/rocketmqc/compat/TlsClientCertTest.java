package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/**
 * The broker requires client certificates (tls.server.need.client.auth=require with
 * tls.server.authClient=true and a trustCertPath, read from JAVA_OPT's -Dtls.config.file as
 * Apache's broker reads them). The official client presents its own certificate through
 * TlsSystemConfig's tls.client.certPath / keyPath in its tls.config.file, with test mode off
 * and tls.client.authServer=true (it checks the broker's certificate too).
 */
@Cluster(brokerTlsMode = "enforcing", requireClientCert = true)
class TlsClientCertTest extends CompatBase {

    @Test
    void clientWithTheTrustedCertificateSendsAndReads() throws Exception {
        createTopic("JavaTlsCertTopic", 1); // the admin client presents the trusted certificate
        SendResult r = producer("PG_java_cert").send(
            new Message("JavaTlsCertTopic", "T", "with cert".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(List.of("with cert"), readQueue(r.getMessageQueue(), 1));
    }

    /**
     * Without a certificate, or with one another CA signed, the handshake fails and the send
     * fails as a remoting failure; nothing is stored, and the broker goes on serving clients
     * with the trusted certificate.
     */
    @Test
    void clientsWithoutOrWithAForeignCertificateAreRefused() throws Exception {
        createTopic("JavaTlsNoCertTopic", 1);
        for (String who : new String[] {"none", "stranger"}) {
            useClientTls(who);
            assertSendRefused(oneTryProducer("PG_java_cert_" + who, true), "JavaTlsNoCertTopic", who);
        }
        useClientTls("client");
        MessageQueue mq = new MessageQueue("JavaTlsNoCertTopic", servers.brokerName, 0);
        assertEquals(0, admin.maxOffset(mq), "nothing stored");
        SendResult r = producer("PG_java_cert_after").send(
            new Message("JavaTlsNoCertTopic", "T", "trusted".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(List.of("trusted"), readQueue(mq, 1));
    }
}
