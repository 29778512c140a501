/*
 * Private to src/grpc: calls (one HTTP/2 stream each), the transport that carries them
 * (h2.c), the SDK clients they belong to (client.c), and the RPC handlers
 * (route.c, produce.c, consume.c). Everything runs on the broker's loop thread.
 */
#ifndef RMQ_GRPC_INT_H
#define RMQ_GRPC_INT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "apache/rocketmq/v2/service.pb-c.h"
#include "grpc.h"

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum {
    GRPC_OK = 0, GRPC_CANCELLED = 1, GRPC_UNKNOWN = 2, GRPC_INVALID_ARGUMENT = 3, GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5, GRPC_PERMISSION_DENIED = 7, GRPC_RESOURCE_EXHAUSTED = 8, GRPC_UNIMPLEMENTED = 12, GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
};

/* ---- framing (frame.c): the 5-byte prefix of a length-prefixed message ---- */

#define GRPC_PREFIX 5
enum grpc_frame_rc { GRPC_FRAME_MORE = 0, GRPC_FRAME_OK = 1, GRPC_FRAME_TOO_BIG = -1 };
/* Looks at BUF: a whole message (OK), not all of it yet (MORE; *compressed and *msg_len
 * set once the prefix is there), or a declared length past MAX (TOO_BIG). */
enum grpc_frame_rc grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, bool *compressed,
                                    size_t *msg_len);
void grpc_frame_prefix(uint8_t out[GRPC_PREFIX], uint32_t msg_len);
/* A grpc-timeout value ("<at most 8 digits><H|M|S|m|u|n>") in ms, or -1 when malformed. */
int64_t grpc_timeout_ms(const char *v, size_t len);
/* grpc-message's percent-encoding; caller frees. */
char *grpc_percent_encode(const char *s);

/* ---- calls ---- */

typedef struct gcall gcall;
typedef struct gclient gclient;
typedef struct h2conn h2conn;

enum grpc_kind { GRPC_UNARY, GRPC_SERVER_STREAM, GRPC_BIDI };

typedef struct grpc_method {
    const char *name;          /* "QueryRoute" */
    enum grpc_kind kind;
    const ProtobufCMessageDescriptor *req, *resp;   /* its request and response messages */
    /* One request message (for BIDI: each). The handler answers now or later. */
    void (*handle)(gcall *c, const uint8_t *msg, size_t len);
    /* The stream ended (peer reset, connection gone, or finished): drop what the call holds. */
    void (*closed)(gcall *c);
} grpc_method;

const grpc_method *grpc_method_find(const char *path);   /* "/apache.rocketmq.v2.MessagingService/X" */

struct gcall {
    int refs;
    grpc_server *srv;
    h2conn *conn;              /* NULL once the stream is gone */
    int32_t stream_id;
    const grpc_method *method;
    char *path;
    char *client_id;           /* x-mq-client-id */
    char *language;            /* x-mq-language */
    char *authorization;       /* the SDK's credentials (access.c), NULL when unsigned */
    char *datetime;            /* x-mq-date-time, what the signature signs */
    int64_t timeout_ms;        /* grpc-timeout, -1 when the client set none */
    int64_t start_ms;          /* mono_ms when the call began */
    char peer[64];
    struct evbuffer *in;       /* request bytes not yet framed */
    struct evbuffer *out;      /* framed answers not yet taken by nghttp2 */
    int n_msgs;                /* request messages seen */
    int n_sent;                /* answer messages queued */
    int app_code;              /* the first answer's Status code, -1 when none (metrics) */
    bool responding;           /* response HEADERS submitted */
    bool finishing;            /* trailers to go once out drains */
    bool finished;
    int status;
    char *status_msg;
    void *state;               /* the handler's, freed by method->closed */
    gcall *next;               /* h2conn's list */
};

void gcall_hold(gcall *c);
void gcall_release(gcall *c);
bool gcall_alive(const gcall *c);      /* the stream is open and not finished */
/* Frames and queues one answer message (server streams: any number). */
void gcall_send(gcall *c, const ProtobufCMessage *msg);
/* Ends the call with a gRPC status (trailers). */
void gcall_finish(gcall *c, int status, const char *message);
/* gcall_send + gcall_finish(OK): a unary answer. */
void gcall_answer(gcall *c, const ProtobufCMessage *msg);
/* Unpacks the request; on failure finishes the call with INVALID_ARGUMENT and returns NULL. */
ProtobufCMessage *gcall_unpack(gcall *c, const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len);

/* ---- access control (access.c) ---- */

/* Whether the message of call C passes the broker's ACL 1.0 / 2.0; when not, the
 * call has been answered as Apache's proxy answers it. */
bool grpc_access_allowed(gcall *c, const uint8_t *msg, size_t len);

/* ---- server state shared by the handlers ---- */

struct grpc_server {
    broker *b;
    int port;
    size_t max_message;        /* inbound message limit (RESOURCE_EXHAUSTED past it) */
    struct evconnlistener *listener;
    struct ssl_ctx_st *ssl_ctx;   /* NULL: plaintext only */
    struct sniff *sniffing;
    h2conn *conns;
    gclient *clients;
    struct event *sweep_ev;
    struct grpc_peer *peers;          /* other brokers' gRPC ports (peers.c) */
    struct grpc_learning *learnings;  /* routes waiting for them */
};

/* peers.c: the gRPC port of the broker serving remoting at ADDR (this server's own for
 * itself, and for a broker that has not told it). */
typedef struct grpc_peer grpc_peer;
int grpc_peer_port(grpc_server *g, const char *addr);
/* Asks the brokers of ADDRS whose port is unknown or older than a while; DONE(ARG) when all
 * have answered or timed out (at once when none is asked, or when the server is freed). */
void grpc_peers_learn(grpc_server *g, const char *const *addrs, int n, void (*done)(void *), void *arg);
void grpc_peers_free(grpc_server *g);

/* route.c: the master address of BROKER_NAME in TOPIC's route (the name server's), or NULL. */
typedef void (*grpc_addr_fn)(const char *addr, void *arg);
void grpc_broker_addr(grpc_server *g, const char *topic, const char *broker_name, grpc_addr_fn cb, void *arg);

/* h2.c */
int h2_listen(grpc_server *g, int port, char *err, size_t errlen);
void h2_close_all(grpc_server *g);

/* ---- SDK clients (client.c) ---- */

typedef void (*gclient_reply_fn)(rmq_cmd *resp, void *arg);   /* resp NULL: client gone; callee frees */

struct gclient {
    grpc_server *srv;
    char *id;
    rmq_conn *conn;            /* the local connection its remoting requests run over */
    int32_t next_opaque;
    struct gpending *pendings;
    int client_type;           /* Apache__Rocketmq__V2__ClientType */
    char *group;               /* consumer group from the settings / heartbeat */
    Apache__Rocketmq__V2__Settings *settings;  /* the last Settings the client told */
    gcall *telemetry;          /* its open Telemetry stream, if any */
    int language;              /* remoting LanguageCode */
    int64_t last_seen_ms;
    gclient *next;
};

/* The client of call C (x-mq-client-id), created on first sight. */
gclient *gclient_of(gcall *c);
/* Runs a remoting request for CL on the broker (takes req); cb gets the answer. */
void gclient_invoke(gclient *cl, rmq_cmd *req, gclient_reply_fn cb, void *arg);
/* Registers the client (HEART_BEAT) as its settings say. */
void gclient_heartbeat(gclient *cl);
/* Frees CL, already unlinked from the server's list; its connection closes. */
void gclient_destroy(gclient *cl);
void gclient_free_all(grpc_server *g);
void gclient_start_sweep(grpc_server *g);

/* ---- handlers ---- */

void rpc_query_route(gcall *c, const uint8_t *m, size_t n);
void rpc_query_assignment(gcall *c, const uint8_t *m, size_t n);
void rpc_heartbeat(gcall *c, const uint8_t *m, size_t n);
void rpc_telemetry(gcall *c, const uint8_t *m, size_t n);
void rpc_telemetry_closed(gcall *c);
void rpc_notify_termination(gcall *c, const uint8_t *m, size_t n);
void rpc_send_message(gcall *c, const uint8_t *m, size_t n);
void rpc_end_transaction(gcall *c, const uint8_t *m, size_t n);
void rpc_recall_message(gcall *c, const uint8_t *m, size_t n);
void rpc_receive_message(gcall *c, const uint8_t *m, size_t n);
void rpc_ack_message(gcall *c, const uint8_t *m, size_t n);
void rpc_change_invisible(gcall *c, const uint8_t *m, size_t n);
void rpc_forward_dlq(gcall *c, const uint8_t *m, size_t n);

/* A CHECK_TRANSACTION_STATE the broker sent CL: to its Telemetry stream (produce.c). */
void grpc_recover_transaction(gclient *cl, rmq_cmd *req);

/* ---- stored messages as protobuf (convert.c) ---- */

struct msg_record;
/* MessageConst's reserved property names (refused as user properties). */
bool grpc_reserved_property(const char *key);
/* The record as a Message under TOPIC (NULL: the record's); free with
 * apache__rocketmq__v2__message__free_unpacked(m, NULL). */
Apache__Rocketmq__V2__Message *grpc_message_from_record(const struct msg_record *r, const char *topic);

/* ---- helpers shared by the handlers (status.c) ---- */

/* A Status of CODE (apache.rocketmq.v2.Code) with MESSAGE (copied; free with status_free). */
Apache__Rocketmq__V2__Status *status_new(int code, const char *message);
void status_free(Apache__Rocketmq__V2__Status *s);
/* The response status over per-entry ones: their code when all agree, else MULTIPLE_RESULTS. */
Apache__Rocketmq__V2__Status *status_overall(const Apache__Rocketmq__V2__Status *const *each, size_t n);
/* ResponseBuilder.buildCode: a remoting response code as Apache's proxy maps it. */
int status_code_of_remoting(int remoting_code);
/* "CODE_NAME" for a code (the message Apache's proxy puts beside OK and friends). */
const char *status_code_name(int code);
/* A unary answer whose only field is status (field 1): CODE and MESSAGE. */
void gcall_answer_status(gcall *c, const ProtobufCMessageDescriptor *d, int code, const char *message);
/* Frees a string field we set, leaving protobuf-c's shared default "" alone. */
static inline void pb_str_free(char *s)
{
    if (s != protobuf_c_empty_string) free(s);
}
/* Protobuf Resource name or "" */
const char *resource_name(const Apache__Rocketmq__V2__Resource *r);

#endif
