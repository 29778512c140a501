/* The connecting side: one cached connection per "host:port", all asynchronous. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "conn.h"

struct rmq_client {
    endpoint ep;
    SSL_CTX *ssl_ctx; /* NULL: plain connections */
};

rmq_client *rmq_client_new(struct event_base *base)
{
    rmq_client *cl = xcalloc(1, sizeof *cl);
    endpoint_init(&cl->ep, base, "client");
    cl->ep.idle_seconds = 0; /* our side keeps connections; peers close idle ones */
    cl->ep.next_opaque = 1;
    return cl;
}

void rmq_client_free(rmq_client *cl)
{
    if (!cl) return;
    endpoint_destroy(&cl->ep);
    SSL_CTX_free(cl->ssl_ctx);
    free(cl);
}

void rmq_client_register(rmq_client *cl, int32_t code, rmq_processor_fn fn, void *arg)
{
    endpoint_register(&cl->ep, code, fn, arg);
}

int rmq_client_use_tls(rmq_client *cl, const rmq_tls_config *t, const char **err)
{
    SSL_CTX *ctx;
    if (tls_client_ctx_new(t, cl->ep.name, &ctx, err) != RMQ_OK) return RMQ_ERR;
    SSL_CTX_free(cl->ssl_ctx);
    cl->ssl_ctx = ctx;
    return RMQ_OK;
}

/* A connecting bufferevent, TLS when the client uses it (connected = handshake done). */
static struct bufferevent *new_bev(rmq_client *cl)
{
    if (!cl->ssl_ctx) return bufferevent_socket_new(cl->ep.base, -1, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = SSL_new(cl->ssl_ctx);
    if (!ssl) return NULL;
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(cl->ep.base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) return NULL; /* libevent has freed ssl */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static rmq_conn *find_conn(rmq_client *cl, const char *addr)
{
    for (rmq_conn *c = cl->ep.conns; c; c = c->next)
        if (c->addr_key && strcmp(c->addr_key, addr) == 0) return c;
    return NULL;
}

static rmq_conn *get_conn(rmq_client *cl, const char *addr, const char **err)
{
    rmq_conn *c = find_conn(cl, addr);
    if (c) return c;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sl)) {
        *err = "bad address (want ip:port)";
        return NULL;
    }
    struct bufferevent *bev = new_bev(cl);
    if (!bev || bufferevent_socket_connect(bev, (struct sockaddr *)&ss, sl)) {
        if (bev) bufferevent_free(bev);
        *err = "connect failed";
        return NULL;
    }
    int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = conn_new(&cl->ep, bev, CONN_CONNECTING);
    c->addr_key = xstrdup(addr);
    snprintf(c->remote, sizeof c->remote, "%s", addr);
    return c;
}

void rmq_client_request(rmq_client *cl, const char *addr, rmq_cmd *req, int timeout_ms,
                        rmq_response_fn cb, void *arg)
{
    const char *err = NULL;
    rmq_conn *c = get_conn(cl, addr, &err);
    if (!c) {
        cmd_free(req);
        cb(NULL, err, arg);
        return;
    }
    rmq_conn_request(c, req, timeout_ms, cb, arg);
}

void rmq_client_oneway(rmq_client *cl, const char *addr, rmq_cmd *req)
{
    const char *err = NULL;
    rmq_conn *c = get_conn(cl, addr, &err);
    if (!c) {
        log_warn(cl->ep.name, "oneway to %s dropped: %s", addr, err);
        cmd_free(req);
        return;
    }
    rmq_conn_oneway(c, req);
}

void rmq_client_close_addr(rmq_client *cl, const char *addr)
{
    rmq_conn *c = find_conn(cl, addr);
    if (c) rmq_conn_close(c);
}
