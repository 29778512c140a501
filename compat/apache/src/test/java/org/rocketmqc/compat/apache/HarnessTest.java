package org.rocketmqc.compat.apache;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The harness itself: each implementation's name server and broker start, register, and stop by PID. */
class HarnessTest {
    @Test
    void bothImplementationsStartRegisterAndStop() throws Exception {
        try (Servers s = new Servers("harness")) {
            NameServer nsJ = s.nameServer(Impl.APACHE);
            NameServer nsC = s.nameServer(Impl.OURS);
            Broker j = s.broker(Impl.APACHE, "broker-j", nsJ, nsC).start();
            Broker c = s.broker(Impl.OURS, "broker-c", nsJ, nsC).start();
            for (NameServer ns : new NameServer[] {nsJ, nsC})
                s.mqadmin("clusterList", "-n", ns.addr()).expect("broker-j", "broker-c", j.addr(), c.addr());
            j.kill();
            c.stop();
            assertFalse(j.alive());
            assertFalse(c.alive());
            assertTrue(nsJ.proc().alive() && nsC.proc().alive());
        }
    }
}
