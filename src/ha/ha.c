/*
 * HA over bufferevents on the broker's loop. Master side: one ha_conn per
 * slave, fed by a 100 ms tick (Apache's WriteSocketService waits 100 ms for
 * new data too) and by its own write-drained callback. Slave side: one
 * client connection with a report tick and a backoff timer for reconnects.
 *
 * The master copies commit-log bytes into the socket buffer rather than
 * referencing the segment: a bufferevent's buffers are freed lazily by
 * libevent's finalizers, which may run after the store is closed.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ha.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store.h"

#define MASTER_TICK_MS 100
#define SLAVE_TICK_MS 1000
#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 5000

/* ---- wire format ---- */

void ha_header_put(uint8_t out[HA_HEADER_SIZE], int64_t phys_offset, int32_t size)
{
    put_be64(out, (uint64_t)phys_offset);
    put_be32(out + 8, (uint32_t)size);
}

long ha_parse_transfer(const uint8_t *buf, size_t len, ha_transfer *out)
{
    if (len < HA_HEADER_SIZE) return 0;
    out->phys_offset = (int64_t)get_be64(buf);
    out->size = (int32_t)get_be32(buf + 8);
    out->data = buf + HA_HEADER_SIZE;
    if (out->size < 0 || out->size > HA_MAX_FRAME_BODY) return RMQ_ERR;
    size_t need = HA_HEADER_SIZE + (size_t)out->size;
    return len < need ? 0 : (long)need;
}

size_t ha_parse_reports(const uint8_t *buf, size_t len, int64_t *last)
{
    size_t whole = len - len % 8;
    if (whole) *last = (int64_t)get_be64(buf + whole - 8);
    return whole;
}

/* ---- the service ---- */

typedef struct ha_conn {
    struct ha_service *ha;
    struct bufferevent *bev;
    struct event *tick;
    char peer[64];
    int64_t request_offset;    /* the slave's first report; -1 until it arrives */
    int64_t next_transfer;     /* -1 until the first report */
    int64_t last_write_ms;     /* 0: the first idle tick sends a heartbeat at once */
    struct ha_conn *next;
} ha_conn;

typedef struct ha_waiter {
    struct ha_service *ha;
    int64_t end_offset;
    ha_wait_cb cb;
    void *arg;
    struct event *ev;
    struct ha_waiter *prev, *next;
} ha_waiter;

struct ha_service {
    struct event_base *base;
    store *store;
    ha_config cfg;             /* strings below are owned copies */
    char *listen_host;
    struct evconnlistener *listener;
    ha_conn *conns;
    int nconns;
    int64_t push2slave_max;
    ha_waiter *waiters;

    /* slave client (HAClient) */
    char *master;              /* NULL = not replicating */
    struct bufferevent *client;
    bool client_connected;
    struct event *client_tick;
    struct event *reconnect_ev;
    int backoff_ms;
    int64_t reported;          /* last offset sent to the master */
    int64_t last_report_ms;
};

void ha_config_defaults(ha_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen_host = "0.0.0.0";
    c->listen_port = 10912;
    c->commitlog_segment_size = 1024LL * 1024 * 1024;
    c->transfer_batch_size = 32 * 1024;
    c->heartbeat_interval_ms = 5000;
    c->housekeeping_interval_ms = 20000;
    c->slave_fallbehind_max = 256LL * 1024 * 1024;
}

static void set_timeouts(struct bufferevent *bev, int housekeeping_ms)
{
    struct timeval tv = {housekeeping_ms / 1000, (housekeeping_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, &tv, NULL);
}

static void add_ms(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* ---- GroupTransferService ---- */

static void waiter_fire(evutil_socket_t fd, short what, void *arg)
{
    ha_waiter *w = arg;
    ha_service *ha = w->ha;
    if (w->prev) w->prev->next = w->next;
    else ha->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    bool acked = ha->push2slave_max >= w->end_offset;
    event_free(w->ev);
    ha_wait_cb cb = w->cb;
    void *cb_arg = w->arg;
    free(w);
    cb(cb_arg, acked);
}

static void on_slave_ack(ha_service *ha, int64_t offset)
{
    if (offset <= ha->push2slave_max) return;
    ha->push2slave_max = offset;
    for (ha_waiter *w = ha->waiters; w; w = w->next)
        if (w->end_offset <= offset) event_active(w->ev, EV_TIMEOUT, 0);
}

/* ---- master side: HAConnection ---- */

static void conn_close(ha_conn *c, const char *why)
{
    ha_service *ha = c->ha;
    log_info("ha", "slave %s disconnected: %s", c->peer, why);
    for (ha_conn **p = &ha->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    ha->nconns--;
    event_free(c->tick);
    bufferevent_free(c->bev);
    free(c);
}

static void send_header(ha_conn *c, int64_t offset, int32_t size)
{
    uint8_t hdr[HA_HEADER_SIZE];
    ha_header_put(hdr, offset, size);
    evbuffer_add(bufferevent_get_output(c->bev), hdr, sizeof hdr);
    c->last_write_ms = mono_ms();
}

/* WriteSocketService: queue frames while the socket keeps up; a heartbeat when idle. */
static void conn_pump(ha_conn *c)
{
    ha_service *ha = c->ha;
    if (c->request_offset < 0) return;
    if (c->next_transfer < 0) {
        /* A new slave (0) starts at the master's last segment, not at its first. */
        int64_t from = c->request_offset;
        if (from == 0) {
            int64_t max = store_commitlog_max_offset(ha->store);
            from = max - max % ha->cfg.commitlog_segment_size;
        }
        c->next_transfer = from;
        log_info("ha", "master transfers from %" PRId64 " to slave %s, which requested %" PRId64, from, c->peer,
                 c->request_offset);
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool sent = false;
    while (evbuffer_get_length(out) < 4 * (size_t)ha->cfg.transfer_batch_size) {
        store_slice sl;
        /* RMQ_ERR (offset not in the store) waits like Apache: the data may still come. */
        if (store_read_raw(ha->store, c->next_transfer, ha->cfg.transfer_batch_size, &sl) != RMQ_OK) break;
        send_header(c, c->next_transfer, (int32_t)sl.len);
        evbuffer_add(out, sl.data, sl.len);
        c->next_transfer += sl.len;
        store_slice_release(&sl);
        sent = true;
    }
    if (!sent && evbuffer_get_length(out) == 0 && mono_ms() - c->last_write_ms >= ha->cfg.heartbeat_interval_ms)
        send_header(c, c->next_transfer, 0);
}

static void conn_tick(evutil_socket_t fd, short what, void *arg)
{
    conn_pump(arg);
}

static void conn_write(struct bufferevent *bev, void *arg)
{
    conn_pump(arg);
}

/* ReadSocketService: the last complete report counts. */
static void conn_read(struct bufferevent *bev, void *arg)
{
    ha_conn *c = arg;
    ha_service *ha = c->ha;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    int64_t offset = 0;
    size_t used = ha_parse_reports(evbuffer_pullup(in, (ssize_t)len), len, &offset);
    if (!used) return;
    evbuffer_drain(in, used);
    if (c->request_offset < 0) {
        c->request_offset = offset;
        log_info("ha", "slave %s requests offset %" PRId64, c->peer, offset);
    } else if (offset > store_commitlog_max_offset(ha->store)) {
        char why[128];
        snprintf(why, sizeof why, "acknowledged %" PRId64 ", beyond the commit log end %" PRId64, offset,
                 store_commitlog_max_offset(ha->store));
        conn_close(c, why);
        return;
    }
    on_slave_ack(ha, offset);
    conn_pump(c);
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
    conn_close(arg, what & BEV_EVENT_TIMEOUT ? "housekeeping: nothing read in time"
                    : what & BEV_EVENT_EOF  ? "closed by the slave"
                                            : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, outlen, "%s:%d", ip, port);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    ha_service *ha = arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ha_conn *c = xcalloc(1, sizeof *c);
    c->ha = ha;
    c->request_offset = c->next_transfer = -1;
    format_peer(sa, c->peer, sizeof c->peer);
    c->bev = bufferevent_socket_new(ha->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, ha->cfg.transfer_batch_size, 0);
    set_timeouts(c->bev, ha->cfg.housekeeping_interval_ms);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->tick = event_new(ha->base, -1, EV_PERSIST, conn_tick, c);
    add_ms(c->tick, MASTER_TICK_MS);
    c->next = ha->conns;
    ha->conns = c;
    ha->nconns++;
    log_info("ha", "slave %s connected", c->peer);
}

/* ---- slave side: HAClient ---- */

static void client_connect(ha_service *ha);

static void client_report(ha_service *ha)
{
    uint8_t b[8];
    int64_t max = store_commitlog_max_offset(ha->store);
    put_be64(b, (uint64_t)max);
    bufferevent_write(ha->client, b, sizeof b);
    ha->reported = max;
    ha->last_report_ms = mono_ms();
}

static void client_drop(ha_service *ha, const char *why)
{
    if (!ha->client) return;
    log_warn("ha", "connection to master %s closed: %s; retrying in %d ms", ha->master, why, ha->backoff_ms);
    bufferevent_free(ha->client);
    ha->client = NULL;
    ha->client_connected = false;
    add_ms(ha->reconnect_ev, ha->backoff_ms);
    ha->backoff_ms = ha->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : ha->backoff_ms * 2;
}

/* HAClient.dispatchReadRequest: append only at our own end, else start over. */
static void client_read(struct bufferevent *bev, void *arg)
{
    ha_service *ha = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char why[512];
    for (;;) {
        size_t len = evbuffer_get_length(in);
        ha_transfer t;
        if (len < HA_HEADER_SIZE) break;
        long n = ha_parse_transfer(evbuffer_pullup(in, HA_HEADER_SIZE), HA_HEADER_SIZE, &t);
        if (n < 0) {
            snprintf(why, sizeof why, "bad frame size %" PRId32, t.size);
            client_drop(ha, why);
            return;
        }
        size_t need = HA_HEADER_SIZE + (size_t)t.size;
        if (len < need) break;
        ha_parse_transfer(evbuffer_pullup(in, (ssize_t)need), need, &t);
        int64_t mine = store_commitlog_max_offset(ha->store);
        if (mine != 0 && mine != t.phys_offset) {
            snprintf(why, sizeof why, "master offset %" PRId64 " is not our commit log end %" PRId64, t.phys_offset,
                     mine);
            client_drop(ha, why);
            return;
        }
        if (t.size > 0) {
            char err[256];
            if (store_append_raw(ha->store, t.phys_offset, t.data, (size_t)t.size, err, sizeof err)) {
                snprintf(why, sizeof why, "cannot append: %s", err);
                client_drop(ha, why);
                return;
            }
        }
        evbuffer_drain(in, need);
    }
    if (store_commitlog_max_offset(ha->store) > ha->reported) client_report(ha);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
    ha_service *ha = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ha->client_connected = true;
        ha->backoff_ms = RECONNECT_MIN_MS;
        log_info("ha", "connected to master %s, reporting offset %" PRId64, ha->master,
                 store_commitlog_max_offset(ha->store));
        client_report(ha);
        return;
    }
    client_drop(ha, what & BEV_EVENT_TIMEOUT ? "housekeeping: nothing read in time"
                    : what & BEV_EVENT_EOF  ? "closed by the master"
                                            : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void client_connect(ha_service *ha)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    if (evutil_parse_sockaddr_port(ha->master, (struct sockaddr *)&ss, &sslen)) {
        log_error("ha", "haMasterAddress '%s' is not ip:port; not replicating", ha->master);
        return;
    }
    ha->client = bufferevent_socket_new(ha->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(ha->client, client_read, NULL, client_event, ha);
    set_timeouts(ha->client, ha->cfg.housekeeping_interval_ms);
    bufferevent_enable(ha->client, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(ha->client, (struct sockaddr *)&ss, sslen))
        client_drop(ha, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    ha_service *ha = arg;
    if (ha->master && !ha->client) client_connect(ha);
}

/* Report every heartbeat interval even when nothing arrives. */
static void client_tick(evutil_socket_t fd, short what, void *arg)
{
    ha_service *ha = arg;
    if (ha->client_connected && mono_ms() - ha->last_report_ms >= ha->cfg.heartbeat_interval_ms) client_report(ha);
}

void ha_set_master_address(ha_service *ha, const char *addr)
{
    if (addr && !*addr) addr = NULL;
    if ((!addr && !ha->master) || (addr && ha->master && strcmp(addr, ha->master) == 0)) return;
    log_info("ha", "master HA address: %s -> %s", ha->master ? ha->master : "(none)", addr ? addr : "(none)");
    if (ha->client) {
        bufferevent_free(ha->client);
        ha->client = NULL;
        ha->client_connected = false;
    }
    event_del(ha->reconnect_ev);
    free(ha->master);
    ha->master = addr ? xstrdup(addr) : NULL;
    ha->backoff_ms = RECONNECT_MIN_MS;
    if (ha->master) client_connect(ha);
}

/* ---- lifecycle and queries ---- */

ha_service *ha_new(struct event_base *base, struct store *st, const ha_config *cfg, char *err, size_t errlen)
{
    char addr[300];
    snprintf(addr, sizeof addr, strchr(cfg->listen_host, ':') ? "[%s]:%d" : "%s:%d", cfg->listen_host,
             cfg->listen_port);
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen)) {
        snprintf(err, errlen, "bad HA listen address %s", addr);
        return NULL;
    }
    ha_service *ha = xcalloc(1, sizeof *ha);
    ha->base = base;
    ha->store = st;
    ha->cfg = *cfg;
    ha->listen_host = xstrdup(cfg->listen_host);
    ha->cfg.listen_host = ha->listen_host;
    ha->cfg.master_address = NULL;
    ha->listener = evconnlistener_new_bind(base, on_accept, ha, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                           (struct sockaddr *)&ss, sslen);
    if (!ha->listener) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        free(ha->listen_host);
        free(ha);
        return NULL;
    }
    ha->reconnect_ev = event_new(base, -1, 0, reconnect_cb, ha);
    ha->client_tick = event_new(base, -1, EV_PERSIST, client_tick, ha);
    add_ms(ha->client_tick, SLAVE_TICK_MS);
    log_info("ha", "listening for slaves on %s", addr);
    ha_set_master_address(ha, cfg->master_address);
    return ha;
}

void ha_free(ha_service *ha)
{
    if (!ha) return;
    while (ha->waiters) {
        ha_waiter *w = ha->waiters;
        ha->waiters = w->next;
        event_free(w->ev);
        w->cb(w->arg, false);
        free(w);
    }
    while (ha->conns) conn_close(ha->conns, "shutting down");
    ha_set_master_address(ha, NULL);
    event_free(ha->reconnect_ev);
    event_free(ha->client_tick);
    evconnlistener_free(ha->listener);
    free(ha->listen_host);
    free(ha);
}

int64_t ha_slave_ack_offset(const ha_service *ha)
{
    return ha->push2slave_max;
}

int ha_connection_count(const ha_service *ha)
{
    return ha->nconns;
}

bool ha_slave_ok(const ha_service *ha, int64_t master_put_where)
{
    return ha->nconns > 0 && master_put_where - ha->push2slave_max < ha->cfg.slave_fallbehind_max;
}

void ha_wait_slave(ha_service *ha, int64_t end_offset, int timeout_ms, ha_wait_cb cb, void *arg)
{
    ha_waiter *w = xcalloc(1, sizeof *w);
    w->ha = ha;
    w->end_offset = end_offset;
    w->cb = cb;
    w->arg = arg;
    w->ev = event_new(ha->base, -1, 0, waiter_fire, w);
    add_ms(w->ev, timeout_ms);
    w->next = ha->waiters;
    if (ha->waiters) ha->waiters->prev = w;
    ha->waiters = w;
    if (ha->push2slave_max >= end_offset) event_active(w->ev, EV_TIMEOUT, 0);
    /* HAService's wakeupAll: the data should not wait for the next tick. */
    for (ha_conn *c = ha->conns; c; c = c->next) conn_pump(c);
}
