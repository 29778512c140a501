package org.rocketmqc.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.Test;

/**
 * The name server enforces TLS too. Our broker, enforcing, registers over TLS (Apache's
 * BrokerStartup: tls.enable defaults to tls.server.mode == enforcing for the broker's own
 * connections); the client's TLS switch reaches the name server and the broker; a plain
 * client gets no route at all.
 */
@Cluster(brokerTlsMode = "enforcing", namesrvTlsMode = "enforcing")
class TlsNameServerTest extends CompatBase {

    @Test
    void brokerRegistersOverTlsAndTlsClientsUseBoth() throws Exception {
        assertTrue(admin.examineBrokerClusterInfo().getBrokerAddrTable().containsKey(servers.brokerName),
            "the broker registered with the TLS name server");
        createTopic("JavaTlsNsTopic", 1); // waits for the route the re-registration brings
        SendResult r = producer("PG_java_tls_ns").send(
            new Message("JavaTlsNsTopic", "T", "all tls".getBytes(StandardCharsets.UTF_8)));
        assertEquals(SendStatus.SEND_OK, r.getSendStatus());
        assertEquals(List.of("all tls"), readQueue(r.getMessageQueue(), 1));
    }

    @Test
    void plainClientGetsNoRouteFromTheEnforcingNameServer() throws Exception {
        createTopic("JavaTlsNsPlainTopic", 1);
        // The name server closes the plain connection: the route lookup fails.
        assertSendRefused(oneTryProducer("PG_java_tls_ns_plain", false), "JavaTlsNsPlainTopic", "in clear");
        assertEquals(0, admin.maxOffset(new MessageQueue("JavaTlsNsPlainTopic", servers.brokerName, 0)),
            "nothing stored");
    }
}
