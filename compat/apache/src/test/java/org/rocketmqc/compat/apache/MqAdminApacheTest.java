package org.rocketmqc.compat.apache;

/** The reference: the same mqadmin cases against Apache's name server and broker. */
class MqAdminApacheTest extends MqAdminCases {
    @Override
    Impl impl() {
        return Impl.APACHE;
    }
}
