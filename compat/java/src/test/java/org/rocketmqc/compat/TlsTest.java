package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.exception.RemotingException;
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
        DefaultMQProducer p = setup(new DefaultMQProducer("PG_java_tls_plain"), "tls-plain");
        p.setUseTLS(false);
        p.setSendMsgTimeout(2000);
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        closeLater(p, p::shutdown);
        Exception e = assertThrows(Exception.class, () -> p.send(
            new Message("JavaTlsPlainTopic", "T", "in clear".getBytes(StandardCharsets.UTF_8))));
        // The route came from the name server; the broker closed the plain connection, which
        // the client reports as a remoting failure (wrapped by MQClientException, or as the
        // send's timeout).
        assertTrue(e instanceof RemotingException
                || (e instanceof MQClientException && e.getCause() instanceof RemotingException),
            "a remoting failure, got " + e);
        assertEquals(0, admin.maxOffset(new MessageQueue("JavaTlsPlainTopic", servers.brokerName, 0)),
            "nothing stored");
    }
}
