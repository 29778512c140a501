package org.rocketmqc.compat;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How CompatBase starts the cluster of a test class that needs more than the default one.
 * Without the annotation: plain name server and broker, no ACL, no TLS.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Cluster {
    /**
     * Contents of $ROCKETMQ_HOME/conf/plain_acl.yml; non-empty turns on aclEnable=true.
     * The file must have an account with accessKey ADMIN_KEY / secretKey ADMIN_SECRET and
     * admin: true, which the class's admin client and producer(...) helper sign with.
     */
    String aclYaml() default "";

    /**
     * tls.server.mode of the broker (the name server stays permissive, so a plain client
     * still finds the route and only the broker refuses it); non-empty generates a self-signed
     * certificate and makes the class's admin client use TLS.
     */
    String brokerTlsMode() default "";

    /**
     * tls.server.mode of the name server when brokerTlsMode is set (default permissive).
     * Our broker then registers over TLS as Apache's does: its own connections use TLS when
     * its tls.server.mode is enforcing (BrokerStartup's tls.enable default).
     */
    String namesrvTlsMode() default "";

    /**
     * With brokerTlsMode: the broker requires client certificates signed by the cluster's CA
     * (tls.server.need.client.auth=require, tls.server.authClient=true, trustCertPath), set
     * where Apache's broker reads them: -Dtls.* in JAVA_OPT and the tls.config.file. The
     * class's clients present a certificate that CA signed (Servers.useClientTls).
     */
    boolean requireClientCert() default false;

    /** More broker.conf lines ("key=value\n..."), e.g. ACL 2.0's authenticationEnabled=true. */
    String brokerConf() default "";

    String ADMIN_KEY = "compatAdmin";
    String ADMIN_SECRET = "compatAdminSecret";
}
