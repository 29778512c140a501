/*
 * The accepting side: a listener feeding connections into the shared machinery.
 * A new socket waits (without blocking the loop) for its first byte, which says
 * whether it speaks TLS or plain remoting (NettyRemotingServer.HandshakeHandler).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "conn.h"

/* The first byte of a TLS connection: a handshake record. */
#define TLS_HANDSHAKE_RECORD 0x16

/* An accepted socket whose first byte has not come yet. */
typedef struct sniffing {
    rmq_server *server;
    evutil_socket_t fd;
    struct event *ev;
    struct sniffing *prev, *next;
} sniffing;

struct rmq_server {
    endpoint ep;
    struct evconnlistener *listener;
    int port;
    enum rmq_tls_mode tls_mode;
    SSL_CTX *ssl_ctx;          /* NULL: TLS handshakes are closed */
    bool test_ctx_on_demand;   /* test mode without files: made at the first handshake */
    sniffing *sniffing;        /* doubly linked */
    struct event *accept_retry; /* re-enables the listener after EMFILE and friends */
};

void rmq_server_config_defaults(rmq_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "0.0.0.0";
    cfg->max_frame = RMQ_DEFAULT_MAX_FRAME;
    cfg->idle_seconds = 120;
    cfg->write_high_water = 64u << 20;
    cfg->name = "remoting";
    rmq_tls_config_defaults(&cfg->tls);
}

/* Forget the socket; the caller closes it or hands it on. */
static void sniffing_end(sniffing *sn)
{
    rmq_server *s = sn->server;
    if (sn->prev) sn->prev->next = sn->next;
    else s->sniffing = sn->next;
    if (sn->next) sn->next->prev = sn->prev;
    event_free(sn->ev);
    free(sn);
}

/* A bufferevent for the socket as its first byte asks, or NULL when the mode refuses it. */
static struct bufferevent *bev_for_first_byte(rmq_server *s, evutil_socket_t fd, uint8_t first,
                                              const char *remote)
{
    if (first != TLS_HANDSHAKE_RECORD) {
        if (s->tls_mode == RMQ_TLS_ENFORCING) {
            log_warn(s->ep.name, "closing %s: plain connection while TLS is enforced", remote);
            return NULL;
        }
        return bufferevent_socket_new(s->ep.base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (s->tls_mode == RMQ_TLS_DISABLED) {
        log_warn(s->ep.name, "closing %s: TLS handshake while TLS is disabled", remote);
        return NULL;
    }
    if (!s->ssl_ctx && s->test_ctx_on_demand) {
        s->test_ctx_on_demand = false;
        rmq_tls_config t;
        rmq_tls_config_defaults(&t); /* test mode */
        t.mode = s->tls_mode;
        const char *err = NULL;
        if (tls_server_ctx_new(&t, s->ep.name, &s->ssl_ctx, &err) != RMQ_OK)
            log_error(s->ep.name, "test-mode TLS: %s", err);
    }
    if (!s->ssl_ctx) {
        log_error(s->ep.name, "closing %s: TLS handshake but no tls.server.certPath/keyPath", remote);
        return NULL;
    }
    SSL *ssl = SSL_new(s->ssl_ctx);
    if (!ssl) return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(s->ep.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (!bev) return NULL; /* with BEV_OPT_CLOSE_ON_FREE libevent has freed ssl */
    /* Peers that just close the socket end the connection, not fail it. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void sniff_cb(evutil_socket_t fd, short what, void *arg)
{
    sniffing *sn = arg;
    rmq_server *s = sn->server;
    uint8_t first;
    ssize_t n = (what & EV_READ) ? recv(fd, &first, 1, MSG_PEEK) : -1;
    if (n < 0 && (what & EV_READ) && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* spurious wake-up: the event stays armed */
    sniffing_end(sn);
    if (n != 1) { /* EOF, error, or nothing within the idle time */
        evutil_closesocket(fd);
        return;
    }
    char remote[64];
    peer_address_text(fd, remote, sizeof remote);
    struct bufferevent *bev = bev_for_first_byte(s, fd, first, remote);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    rmq_conn *c = conn_new(&s->ep, bev, CONN_OPEN);
    conn_fill_addresses(c, fd);
    log_debug(s->ep.name, "accepted %s%s", c->remote, first == TLS_HANDSHAKE_RECORD ? " (TLS)" : "");
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    rmq_server *s = arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sniffing *sn = xcalloc(1, sizeof *sn);
    sn->server = s;
    sn->fd = fd;
    sn->ev = event_new(s->ep.base, fd, EV_READ | EV_PERSIST, sniff_cb, sn);
    /* A peer that never sends is dropped after the idle time, as an idle connection is. */
    struct timeval tv = {s->ep.idle_seconds, 0};
    event_add(sn->ev, s->ep.idle_seconds > 0 ? &tv : NULL);
    sn->next = s->sniffing;
    if (s->sniffing) s->sniffing->prev = sn;
    s->sniffing = sn;
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    rmq_server *s = arg;
    evconnlistener_enable(s->listener);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    rmq_server *s = arg;
    /* EMFILE and friends: the connection stays in the backlog, so the listener would
     * wake at once again and spin; pause accepting for a moment, as nginx does. */
    log_error(s->ep.name, "accept failed: %s; accepting again in 100 ms",
              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    evconnlistener_disable(l);
    struct timeval tv = {0, 100000};
    evtimer_add(s->accept_retry, &tv);
}

/*
 * Every connection costs a descriptor, and a shell's soft limit (often 1,024) is far
 * below what a broker serves; raise it to the hard limit once, as the JVM does for
 * Apache's servers (-XX:+MaxFDLimit, on by default).
 */
static void raise_fd_limit(const char *name)
{
    static bool done;
    struct rlimit rl;
    if (done || getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    done = true;
    if (rl.rlim_cur == rl.rlim_max) return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        log_info(name, "open files limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_max);
}

rmq_server *rmq_server_new(struct event_base *base, const rmq_server_config *cfg, const char **err)
{
    /* Built by hand: evutil_parse_sockaddr_port refuses port 0 (any free port). */
    struct sockaddr_storage ss = {0};
    int sl;
    const char *host = cfg->host ? cfg->host : "0.0.0.0";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)cfg->port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->port);
        sl = sizeof *in6;
    } else {
        *err = "bad listen address (want an IPv4 or IPv6 literal)";
        return NULL;
    }
    raise_fd_limit(cfg->name ? cfg->name : "remoting");
    rmq_server *s = xcalloc(1, sizeof *s);
    endpoint_init(&s->ep, base, cfg->name);
    s->tls_mode = cfg->tls.mode;
    /* Test mode without certificate files needs nothing but a certificate made here (the
     * other keys do not count then): make it when a client first asks for TLS, so that
     * servers nobody set TLS up for start without that work. */
    s->test_ctx_on_demand = cfg->tls.mode != RMQ_TLS_DISABLED && cfg->tls.test_mode &&
                            !(cfg->tls.cert_path && cfg->tls.key_path);
    if (!s->test_ctx_on_demand && tls_server_ctx_new(&cfg->tls, s->ep.name, &s->ssl_ctx, err) != RMQ_OK) {
        free(s);
        return NULL;
    }
    s->ep.max_frame = cfg->max_frame ? cfg->max_frame : RMQ_DEFAULT_MAX_FRAME;
    s->ep.idle_seconds = cfg->idle_seconds;
    s->ep.write_high_water = cfg->write_high_water;
    s->ep.next_opaque = 1;
    s->listener = evconnlistener_new_bind(base, accept_cb, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                          1024, (struct sockaddr *)&ss, sl);
    if (!s->listener) {
        *err = strerror(errno);
        SSL_CTX_free(s->ssl_ctx);
        free(s);
        return NULL;
    }
    evconnlistener_set_error_cb(s->listener, accept_error_cb);
    s->accept_retry = evtimer_new(base, accept_retry_cb, s);
    ss = (struct sockaddr_storage){0};
    socklen_t len = sizeof ss;
    getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &len);
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    log_info(s->ep.name, "listening on %s:%d", host, s->port);
    return s;
}

void rmq_server_free(rmq_server *s)
{
    if (!s) return;
    evconnlistener_free(s->listener);
    event_free(s->accept_retry);
    while (s->sniffing) {
        evutil_socket_t fd = s->sniffing->fd;
        sniffing_end(s->sniffing);
        evutil_closesocket(fd);
    }
    endpoint_destroy(&s->ep);
    SSL_CTX_free(s->ssl_ctx);
    free(s);
}

int rmq_server_port(const rmq_server *s) { return s->port; }

endpoint *server_endpoint(rmq_server *s) { return &s->ep; }

size_t rmq_server_connections(const rmq_server *s)
{
    size_t n = 0;
    for (const rmq_conn *c = s->ep.conns; c; c = c->next) n++;
    return n;
}

void rmq_server_buffered_requests(rmq_server *s, void (*fn)(int32_t code, void *arg), void *arg)
{
    for (rmq_conn *c = s->ep.conns; c; c = c->next) {
        if (!c->bev || c->state == CONN_CLOSED) continue;
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in), at = 0;
        /* Each whole frame: its header decoded alone (the body left in place) for the code. */
        while (avail - at >= 8) {
            uint8_t word[8];
            struct evbuffer_ptr pos;
            evbuffer_ptr_set(in, &pos, at, EVBUFFER_PTR_SET);
            if (evbuffer_copyout_from(in, &pos, word, 8) != 8) break;
            uint32_t len = get_be32(word), hlen = get_be32(word + 4) & 0xFFFFFF;
            if (len < 4 || len > s->ep.max_frame || avail - at < (size_t)len + 4) break;
            if (hlen <= len - 4) {
                uint8_t *head = xmalloc((size_t)hlen + 4);
                evbuffer_ptr_set(in, &pos, at + 4, EVBUFFER_PTR_SET);
                rmq_cmd *cmd = NULL;
                const char *err;
                if (evbuffer_copyout_from(in, &pos, head, (size_t)hlen + 4) == (ev_ssize_t)hlen + 4 &&
                    cmd_decode(head, (size_t)hlen + 4, &cmd, &err) == RMQ_OK && !cmd_is_response(cmd))
                    fn(cmd->code, arg);
                cmd_free(cmd);
                free(head);
            }
            at += (size_t)len + 4;
        }
    }
}

void rmq_server_register(rmq_server *s, int32_t code, rmq_processor_fn fn, void *arg)
{
    endpoint_register(&s->ep, code, fn, arg);
}

void rmq_server_on_close(rmq_server *s, void (*fn)(rmq_conn *, void *), void *arg)
{
    s->ep.on_close = fn;
    s->ep.on_close_arg = arg;
}

void rmq_server_set_hook(rmq_server *s, rmq_cmd *(*hook)(rmq_conn *, rmq_cmd *, void *), void *arg)
{
    s->ep.hook = hook;
    s->ep.hook_arg = arg;
}
