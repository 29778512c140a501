/*
 * Private to src/remoting: the connection machinery shared by server and client.
 * Other modules use remoting.h only.
 */
#ifndef RMQ_REMOTING_CONN_H
#define RMQ_REMOTING_CONN_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "remoting.h"

typedef struct proc_entry {
    int32_t code;
    rmq_processor_fn fn;
    void *arg;
} proc_entry;

/* What server and client have in common: a loop, processors, limits, connections. */
typedef struct endpoint {
    struct event_base *base;
    const char *name;
    proc_entry *procs;        /* sorted by code */
    size_t n_procs;
    size_t max_frame;
    int idle_seconds;         /* 0 = never */
    size_t write_high_water;
    void (*on_close)(rmq_conn *, void *);
    void *on_close_arg;
    rmq_cmd *(*hook)(rmq_conn *, rmq_cmd *, void *);
    void *hook_arg;
    rmq_conn *conns;          /* doubly linked */
    int32_t next_opaque;
    uint64_t next_conn_id;
} endpoint;

typedef struct pending {
    int32_t opaque;
    rmq_response_fn cb;
    void *arg;
    struct event *timer;
    rmq_conn *conn;
    struct pending *next;
} pending;

enum conn_state {
    CONN_CONNECTING,   /* client side, before the TCP handshake completes */
    CONN_OPEN,         /* reading and dispatching frames */
    CONN_PAUSED,       /* output past the high-water mark: not reading until it drains */
    CONN_CLOSED,       /* socket gone; the struct lives on while held */
};

struct rmq_conn {
    uint64_t id;
    int refs;
    enum conn_state state;
    struct bufferevent *bev;
    endpoint *ep;
    char remote[64];
    char local[64];
    char *addr_key;           /* client: the "host:port" it was opened for */
    pending *pendings;
    rmq_conn *prev, *next;
    /* Local connections (local.c): no socket; what is written to them goes here. */
    rmq_local_sink_fn sink;
    void *sink_arg;
    bool trusted;             /* local: the endpoint's hook is skipped (rmq_local_conn_trust) */
};

void endpoint_init(endpoint *ep, struct event_base *base, const char *name);
void endpoint_close_all(endpoint *ep);
void endpoint_destroy(endpoint *ep);
void endpoint_register(endpoint *ep, int32_t code, rmq_processor_fn fn, void *arg);
/* Wraps a connected (or connecting) bufferevent. */
rmq_conn *conn_new(endpoint *ep, struct bufferevent *bev, enum conn_state state);
void conn_fill_addresses(rmq_conn *c, int fd);
/* A decoded request, as if it had arrived on C: hook, processor, answer (local.c). */
void conn_dispatch_request(rmq_conn *c, rmq_cmd *req);
/* command.c: what cmd_free calls for a held request (rmq_cmd.held). */
extern void (*_Atomic cmd_held_release)(int32_t code);
/* The endpoint of a server (local.c attaches its connections there). */
endpoint *server_endpoint(rmq_server *s);
void peer_address_text(int fd, char *out, size_t len);  /* "ip:port" or "?" */

/*
 * tls.c: the server's TLS context from its settings. RMQ_OK with *out NULL when TLS
 * is not served (disabled, or permissive without certificate); RMQ_ERR with *err
 * (static text; OpenSSL's detail goes to the log) when the settings cannot be used.
 */
struct ssl_ctx_st;
int tls_server_ctx_new(const rmq_tls_config *t, const char *name, struct ssl_ctx_st **out,
                       const char **err);
/* The same for our outgoing connections (TlsHelper.buildSslContext(forClient=true)). */
int tls_client_ctx_new(const rmq_tls_config *t, const char *name, struct ssl_ctx_st **out,
                       const char **err);

#endif
