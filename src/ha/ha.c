/*
 * HA over bufferevents on the broker's loop, master side: one ha_conn per
 * slave, fed by a 100 ms tick (Apache's WriteSocketService waits 100 ms for
 * new data too) and by its own write-drained callback. The slave side is
 * client.c.
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

#include "ha_int.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store.h"

#define MASTER_TICK_MS 100

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

void ha_set_timeouts(struct bufferevent *bev, int housekeeping_ms)
{
    struct timeval tv = {housekeeping_ms / 1000, (housekeeping_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, &tv, NULL);
}

void ha_add_ms(struct event *ev, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
}

/* ---- FlowMonitor ---- */

#define FLOW_SECOND_MS 1000

/* A second over: its count becomes the rate (0 after a silent second). */
static void flow_roll(ha_flow *f, int64_t now)
{
    if (now - f->window_ms < FLOW_SECOND_MS) return;
    f->last = now - f->window_ms < 2 * FLOW_SECOND_MS ? f->count : 0;
    f->count = 0;
    f->window_ms = now;
}

void ha_flow_add(ha_flow *f, int64_t bytes)
{
    flow_roll(f, mono_ms());
    f->count += bytes;
}

int64_t ha_flow_rate(const ha_flow *f)
{
    ha_flow copy = *f;
    flow_roll(&copy, mono_ms());
    return copy.last;
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

/* Auto-switch: the epoch entry a frame at OFFSET belongs to (the first one for an
 * empty heartbeat before any), and the bytes left in it. -1 when none covers it. */
static int frame_epoch(const ha_service *ha, int64_t offset, int64_t *room)
{
    const ha_epochs *e = ha->cfg.epochs;
    int i = ha_epochs_find(e, offset);
    *room = i >= 0 ? ha_epochs_end(e, i, INT64_MAX) - offset : 0;
    return i;
}

static void send_header(ha_conn *c, int64_t offset, int32_t size, int epoch_index)
{
    ha_service *ha = c->ha;
    if (ha->cfg.auto_switch) {
        const ha_epochs *e = ha->cfg.epochs;
        const ha_epoch *ep = epoch_index >= 0 ? &e->v[epoch_index] : e->n ? &e->v[0] : NULL;
        uint8_t hdr[HA_AS_TRANSFER_HEADER_SIZE];
        /* confirmOffset: what the slave may treat as committed; all we have. */
        ha_as_put_transfer_header(hdr, offset, size, ep ? ep->epoch : -1, ep ? ep->start : 0,
                                  store_commitlog_max_offset(ha->store));
        evbuffer_add(bufferevent_get_output(c->bev), hdr, sizeof hdr);
    } else {
        uint8_t hdr[HA_HEADER_SIZE];
        ha_header_put(hdr, offset, size);
        evbuffer_add(bufferevent_get_output(c->bev), hdr, sizeof hdr);
    }
    c->last_write_ms = mono_ms();
}

/* AutoSwitchHAConnection's handshake answer: our end, last epoch and every entry. */
static void send_handshake(ha_conn *c)
{
    const ha_epochs *e = c->ha->cfg.epochs;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    uint8_t hdr[HA_AS_HANDSHAKE_HEADER_SIZE];
    put_be32(hdr, HA_STATE_HANDSHAKE);
    put_be32(hdr + 4, (uint32_t)(e->n * HA_AS_EPOCH_ENTRY_SIZE));
    put_be64(hdr + 8, (uint64_t)store_commitlog_max_offset(c->ha->store));
    put_be32(hdr + 16, (uint32_t)ha_epochs_last(e));
    evbuffer_add(out, hdr, sizeof hdr);
    for (int i = 0; i < e->n; i++) {
        uint8_t ent[HA_AS_EPOCH_ENTRY_SIZE];
        put_be32(ent, (uint32_t)e->v[i].epoch);
        put_be64(ent + 4, (uint64_t)e->v[i].start);
        evbuffer_add(out, ent, sizeof ent);
    }
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
        if (from == 0 && ha->cfg.auto_switch) {
            /* AutoSwitchHAConnection (isSyncFromLastFile=false): the whole log. */
            from = store_commitlog_min_offset(ha->store);
            if (from < 0) from = 0;
        } else if (from == 0) {
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
        uint32_t max = ha->cfg.transfer_batch_size;
        int epoch_index = -1;
        if (ha->cfg.auto_switch) {
            /* A frame stays within one epoch, so the slave can record where each began. */
            int64_t room;
            if ((epoch_index = frame_epoch(ha, c->next_transfer, &room)) < 0 || room <= 0) break;
            if (room < max) max = (uint32_t)room;
        }
        /* RMQ_ERR (offset not in the store) waits like Apache: the data may still come. */
        if (store_read_raw(ha->store, c->next_transfer, max, &sl) != RMQ_OK) break;
        send_header(c, c->next_transfer, (int32_t)sl.len, epoch_index);
        evbuffer_add(out, sl.data, sl.len);
        ha_flow_add(&c->flow, (int64_t)sl.len);
        c->next_transfer += sl.len;
        store_slice_release(&sl);
        sent = true;
    }
    if (!sent && evbuffer_get_length(out) == 0 && mono_ms() - c->last_write_ms >= ha->cfg.heartbeat_interval_ms) {
        int64_t room;
        send_header(c, c->next_transfer, 0, ha->cfg.auto_switch ? frame_epoch(ha, c->next_transfer, &room) : -1);
    }
}

static void conn_tick(evutil_socket_t fd, short what, void *arg)
{
    conn_pump(arg);
}

static void conn_write(struct bufferevent *bev, void *arg)
{
    conn_pump(arg);
}

/* The slave acknowledged OFFSET (its first report: where to start). False: closed. */
static bool conn_report(ha_conn *c, int64_t offset)
{
    ha_service *ha = c->ha;
    if (c->request_offset < 0) {
        c->request_offset = offset;
        log_info("ha", "slave %s requests offset %" PRId64, c->peer, offset);
    } else if (offset > store_commitlog_max_offset(ha->store)) {
        char why[128];
        snprintf(why, sizeof why, "acknowledged %" PRId64 ", beyond the commit log end %" PRId64, offset,
                 store_commitlog_max_offset(ha->store));
        conn_close(c, why);
        return false;
    }
    c->ack = offset;
    if (offset >= store_commitlog_max_offset(ha->store)) c->caught_up_ms = mono_ms();
    on_slave_ack(ha, offset);
    if (ha->cfg.auto_switch && ha->ack_fn) ha->ack_fn(ha->ack_arg, c->slave_id, offset);
    return true;
}

/* AutoSwitchHAConnection.ReadSocketService: handshakes and 12-byte reports. */
static bool conn_read_auto_switch(ha_conn *c, struct evbuffer *in)
{
    for (;;) {
        size_t len = evbuffer_get_length(in);
        if (len < 4) return true;
        const uint8_t *p = evbuffer_pullup(in, len < HA_AS_SLAVE_HANDSHAKE_SIZE ? (ssize_t)len
                                                                                 : HA_AS_SLAVE_HANDSHAKE_SIZE);
        int32_t state = (int32_t)get_be32(p);
        if (state == HA_STATE_HANDSHAKE) {
            if (len < HA_AS_SLAVE_HANDSHAKE_SIZE) return true;
            c->slave_id = (int64_t)get_be64(p + 8);
            evbuffer_drain(in, HA_AS_SLAVE_HANDSHAKE_SIZE);
            log_info("ha", "slave %s is broker %" PRId64, c->peer, c->slave_id);
            send_handshake(c);
        } else if (state == HA_STATE_TRANSFER) {
            if (len < HA_AS_SLAVE_REPORT_SIZE) return true;
            int64_t offset = (int64_t)get_be64(p + 4);
            evbuffer_drain(in, HA_AS_SLAVE_REPORT_SIZE);
            if (!conn_report(c, offset)) return false;
        } else {
            char why[64];
            snprintf(why, sizeof why, "unknown slave state %" PRId32, state);
            conn_close(c, why);
            return false;
        }
    }
}

/* ReadSocketService: the last complete report counts. */
static void conn_read(struct bufferevent *bev, void *arg)
{
    ha_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->ha->cfg.auto_switch) {
        if (conn_read_auto_switch(c, in)) conn_pump(c);
        return;
    }
    size_t len = evbuffer_get_length(in);
    int64_t offset = 0;
    size_t used = ha_parse_reports(evbuffer_pullup(in, (ssize_t)len), len, &offset);
    if (!used) return;
    evbuffer_drain(in, used);
    if (conn_report(c, offset)) conn_pump(c);
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
    c->request_offset = c->next_transfer = c->slave_id = c->ack = -1;
    format_peer(sa, c->peer, sizeof c->peer);
    c->bev = bufferevent_socket_new(ha->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, ha->cfg.transfer_batch_size, 0);
    ha_set_timeouts(c->bev, ha->cfg.housekeeping_interval_ms);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->tick = event_new(ha->base, -1, EV_PERSIST, conn_tick, c);
    ha_add_ms(c->tick, MASTER_TICK_MS);
    c->next = ha->conns;
    ha->conns = c;
    ha->nconns++;
    log_info("ha", "slave %s connected", c->peer);
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
    ha_client_init(ha);
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
    ha_client_free(ha);
    evconnlistener_free(ha->listener);
    free(ha->listen_host);
    free(ha);
}

int64_t ha_slave_ack_offset(const ha_service *ha)
{
    return ha->push2slave_max;
}

void ha_foreach_slave(const ha_service *ha, ha_slave_fn fn, void *arg)
{
    for (const ha_conn *c = ha->conns; c; c = c->next)
        if (c->slave_id >= 0) fn(arg, c->slave_id, c->ack, c->caught_up_ms);
}

void ha_on_slave_ack(ha_service *ha, void (*fn)(void *arg, int64_t broker_id, int64_t offset), void *arg)
{
    ha->ack_fn = fn;
    ha->ack_arg = arg;
}

int ha_connections(const ha_service *ha, ha_conn_info **out)
{
    *out = ha->nconns ? xcalloc((size_t)ha->nconns, sizeof **out) : NULL;
    int n = 0;
    for (const ha_conn *c = ha->conns; c && n < ha->nconns; c = c->next, n++) {
        ha_conn_info *i = &(*out)[n];
        snprintf(i->addr, sizeof i->addr, "%s", c->peer);
        i->slave_id = c->slave_id;
        i->ack = c->ack;
        i->transfer_from = c->next_transfer;
        i->bytes_per_sec = ha_flow_rate(&c->flow);
    }
    return n;
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
    ha_add_ms(w->ev, timeout_ms);
    w->next = ha->waiters;
    if (ha->waiters) ha->waiters->prev = w;
    ha->waiters = w;
    if (ha->push2slave_max >= end_offset) event_active(w->ev, EV_TIMEOUT, 0);
    /* HAService's wakeupAll: the data should not wait for the next tick. */
    for (ha_conn *c = ha->conns; c; c = c->next) conn_pump(c);
}
