package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.Test;

/**
 * tls.server.mode=permissive (Apache's default): one broker port serves the client's TLS
 * switch on and off. A TLS producer and a plain producer both send to one queue, and each
 * message is read back (by the TLS admin/consumer) in order.
 */
@Cluster(brokerTlsMode = "permissive")
class TlsPermissiveTest extends CompatBase {

    @Test
    void tlsAndPlainClientsShareThePort() throws Exception {
        createTopic("JavaTlsPermissiveTopic", 1);
        SendResult tls = producer("PG_java_tls_on").send(
            new Message("JavaTlsPermissiveTopic", "T", "over tls".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, tls.getSendStatus());
        DefaultMQProducer plain = setup(new DefaultMQProducer("PG_java_tls_off"), "tls-off");
        plain.setUseTLS(false);
        plain.start();
        closeLater(plain, plain::shutdown);
        SendResult clear = plain.send(
            new Message("JavaTlsPermissiveTopic", "T", "in clear".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, clear.getSendStatus());
        assertEquals(tls.getMessageQueue(), clear.getMessageQueue());
        assertEquals(List.of("over tls", "in clear"), readQueue(tls.getMessageQueue(), 2));
    }
}
