package org.rocketmqc.compat.apache;

/** Whose server a process is: Apache RocketMQ's (a JVM) or ours (a binary from $RMQ_BUILDDIR). */
public enum Impl {
    APACHE, OURS
}
