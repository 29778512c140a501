/* The accepting side: a listener feeding connections into the shared machinery. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "conn.h"

struct rmq_server {
    endpoint ep;
    struct evconnlistener *listener;
    int port;
};

void rmq_server_config_defaults(rmq_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "0.0.0.0";
    cfg->max_frame = RMQ_DEFAULT_MAX_FRAME;
    cfg->idle_seconds = 120;
    cfg->write_high_water = 64u << 20;
    cfg->name = "remoting";
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    rmq_server *s = arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct bufferevent *bev = bufferevent_socket_new(s->ep.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    rmq_conn *c = conn_new(&s->ep, bev, CONN_OPEN);
    conn_fill_addresses(c, fd);
    log_debug(s->ep.name, "accepted %s", c->remote);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    rmq_server *s = arg;
    /* EMFILE and friends: log and keep listening; the loop retries on the next event. */
    log_error(s->ep.name, "accept failed: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
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
    rmq_server *s = xcalloc(1, sizeof *s);
    endpoint_init(&s->ep, base, cfg->name);
    s->ep.max_frame = cfg->max_frame ? cfg->max_frame : RMQ_DEFAULT_MAX_FRAME;
    s->ep.idle_seconds = cfg->idle_seconds;
    s->ep.write_high_water = cfg->write_high_water;
    s->ep.next_opaque = 1;
    s->listener = evconnlistener_new_bind(base, accept_cb, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                          1024, (struct sockaddr *)&ss, sl);
    if (!s->listener) {
        *err = strerror(errno);
        free(s);
        return NULL;
    }
    evconnlistener_set_error_cb(s->listener, accept_error_cb);
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
    endpoint_destroy(&s->ep);
    free(s);
}

int rmq_server_port(const rmq_server *s) { return s->port; }

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
