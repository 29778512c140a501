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
 * The client's TLS switch (ClientConfig.setUseTLS, what -Dtls.enable=true sets by default)
 * against a broker with tls.server.mode=enforcing and a self-signed certificate; the name
 * server is permissive, so a plain client gets its route and only the broker refuses it.
 * CompatBase.setup turns TLS on for every client of this class unless a case turns it off.
 */
@Cluster(brokerTlsMode = "enforcing")
class TlsTest extends CompatBase {

    @Test
    void tlsClientsSendAndRead() throws Exception {
        createTopic("JavaTlsTopic", 1); // the admin client already speaks TLS to the broker
        SendResult r = producer("PG_java_tls").send(
            new Message("JavaTlsTopic", "T", "over tls".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(List.of("over tls"), readQueue(r.getMessageQueue(), 1));
    }

    @Test
    void plainClientIsRefusedByTheEnforcingBroker() throws Exception {
        createTopic("JavaTlsPlainTopic", 1);
        // The route came from the name server; the broker closes the plain connection.
        assertSendRefused(oneTryProducer("PG_java_tls_plain", false), "JavaTlsPlainTopic", "in clear");
        assertEquals(0, admin.maxOffset(new MessageQueue("JavaTlsPlainTopic", servers.brokerName, 0)),
            "nothing stored");
    }
}
