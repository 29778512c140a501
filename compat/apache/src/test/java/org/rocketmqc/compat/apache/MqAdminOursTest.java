package org.rocketmqc.compat.apache;

/** The official mqadmin against our mqnamesrv + mqbroker. */
class MqAdminOursTest extends MqAdminCases {
    @Override
    Impl impl() {
        return Impl.OURS;
    }
}
