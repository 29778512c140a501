/*
 * Test helper: a real mqbroker (tests/broker/broker_client.h) with its gRPC endpoint on a
 * free port, for the end-to-end gRPC tests that start brokers of their own settings.
 */
#ifndef TEST_GRPC_BROKER_H
#define TEST_GRPC_BROKER_H

#include "../broker/broker_client.h"

/* Starts TB named NAME with gRPC on a free port (its address in ADDR) and up to three more
 * --key=value settings (NULL for fewer). */
static inline void gb_start(test_broker *tb, char addr[32], const char *name, const char *a1, const char *a2,
                            const char *a3)
{
    static char gp[40];
    int port = test_free_port();
    snprintf(gp, sizeof gp, "--grpcServerPort=%d", port);
    snprintf(addr, 32, "127.0.0.1:%d", port);
    tb_init(tb, name, gp, a1, a2, a3, NULL);
}

#endif
