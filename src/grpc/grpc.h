/*
 * grpc: the broker's endpoint for the RocketMQ 5.x SDKs — apache.rocketmq.v2.MessagingService
 * over HTTP/2 (nghttp2, on the broker's event loop; h2c with prior knowledge, and h2 over
 * TLS with ALPN when the broker's tls.server.* settings give a certificate), messages in
 * protobuf (protobuf-c, generated at build time from src/grpc/proto/).
 *
 * It sits above the processors: each RPC becomes the remoting requests the broker's
 * processors already answer (SEND_MESSAGE_V2, POP_MESSAGE, ACK_MESSAGE, HEART_BEAT, ...),
 * run in-process over a local connection per SDK client (rmq_local_conn_new), as
 * Apache's proxy does in local mode. docs/grpc.md has the mapping.
 */
#ifndef RMQ_GRPC_H
#define RMQ_GRPC_H

#include "broker/broker.h"

typedef struct grpc_server grpc_server;

/*
 * Listens on PORT (0: any free port) for B, whose remoting server runs the requests.
 * NULL with a reason in err when the port cannot be bound or the TLS settings not used.
 */
grpc_server *grpc_server_new(broker *b, int port, char *err, size_t errlen);
void grpc_server_free(grpc_server *g);   /* closes every connection and client */
int grpc_server_port(const grpc_server *g);

#endif
