/*
 * Connections: framing on top of a bufferevent, dispatch of requests to
 * processors, matching of responses to our own pending requests, idle and
 * back-pressure handling.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "metrics/metrics.h"

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void release_held(int32_t code) { metrics_request_held(code, -1); }

void endpoint_init(endpoint *ep, struct event_base *base, const char *name)
{
    atomic_store_explicit(&cmd_held_release, release_held, memory_order_relaxed);   /* always the same */
    memset(ep, 0, sizeof *ep);
    ep->base = base;
    ep->name = name ? name : "remoting";
    ep->max_frame = RMQ_DEFAULT_MAX_FRAME;
    ep->write_high_water = 64u << 20;
    ep->next_conn_id = 1;
}

static int proc_cmp(const void *a, const void *b)
{
    int32_t x = ((const proc_entry *)a)->code, y = ((const proc_entry *)b)->code;
    return (x > y) - (x < y);
}

void endpoint_register(endpoint *ep, int32_t code, rmq_processor_fn fn, void *arg)
{
    proc_entry key = {.code = code};
    proc_entry *e = ep->n_procs ? bsearch(&key, ep->procs, ep->n_procs, sizeof key, proc_cmp) : NULL;
    if (e) {
        e->fn = fn;
        e->arg = arg;
        return;
    }
    ep->procs = xrealloc(ep->procs, (ep->n_procs + 1) * sizeof *ep->procs);
    ep->procs[ep->n_procs++] = (proc_entry){code, fn, arg};
    qsort(ep->procs, ep->n_procs, sizeof *ep->procs, proc_cmp);
}

static void sockaddr_text(const struct sockaddr *sa, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, len, "%s:%d", ip, port);
}

void peer_address_text(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        sockaddr_text((struct sockaddr *)&ss, out, len);
    else
        snprintf(out, len, "?");
}

void conn_fill_addresses(rmq_conn *c, int fd)
{
    peer_address_text(fd, c->remote, sizeof c->remote);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        sockaddr_text((struct sockaddr *)&ss, c->local, sizeof c->local);
}

rmq_conn *conn_new(endpoint *ep, struct bufferevent *bev, enum conn_state state)
{
    rmq_conn *c = xcalloc(1, sizeof *c);
    c->id = ep->next_conn_id++;
    c->refs = 1; /* the endpoint's reference, dropped at close */
    c->state = state;
    c->bev = bev;
    c->ep = ep;
    snprintf(c->remote, sizeof c->remote, "?");
    snprintf(c->local, sizeof c->local, "?");
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    if (ep->idle_seconds > 0) {
        /* Read: nothing arrives (idle, or half a frame and a stall). Write: output
         * pending and none of it taken (a peer that stopped reading); either way
         * the connection and what it holds go after the idle time. */
        struct timeval tv = {ep->idle_seconds, 0};
        bufferevent_set_timeouts(bev, &tv, &tv);
    }
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    return c;
}

void rmq_conn_hold(rmq_conn *c) { c->refs++; }

void rmq_conn_release(rmq_conn *c)
{
    if (--c->refs > 0) return;
    free(c->addr_key);
    free(c);
}

bool rmq_conn_closed(const rmq_conn *c) { return c->state == CONN_CLOSED; }
uint64_t rmq_conn_id(const rmq_conn *c) { return c->id; }
const char *rmq_conn_remote(const rmq_conn *c) { return c->remote; }
const char *rmq_conn_local(const rmq_conn *c) { return c->local; }

size_t rmq_conn_output_len(const rmq_conn *c)
{
    return c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

static void pending_finish(pending *p, rmq_cmd *resp, const char *err)
{
    if (p->timer) event_free(p->timer);
    p->cb(resp, err, p->arg);
    free(p);
}

void rmq_conn_close(rmq_conn *c)
{
    if (c->state == CONN_CLOSED) return;
    c->state = CONN_CLOSED;
    rmq_conn_hold(c); /* callbacks below may release */
    endpoint *ep = c->ep;
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (c->prev) c->prev->next = c->next;
    else ep->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    pending *p = c->pendings;
    c->pendings = NULL;
    while (p) {
        pending *nx = p->next;
        pending_finish(p, NULL, "connection closed");
        p = nx;
    }
    if (ep->on_close) ep->on_close(c, ep->on_close_arg);
    c->refs--;            /* the endpoint's reference; ours keeps it alive */
    rmq_conn_release(c);
}

void endpoint_close_all(endpoint *ep)
{
    while (ep->conns) rmq_conn_close(ep->conns);
}

void endpoint_destroy(endpoint *ep)
{
    endpoint_close_all(ep);
    free(ep->procs);
    ep->procs = NULL;
    ep->n_procs = 0;
}

/* Stop reading once a peer does not drain its answers; resume from the write callback. */
static void apply_backpressure(rmq_conn *c)
{
    if (c->state != CONN_OPEN || !c->ep->write_high_water) return;
    if (rmq_conn_output_len(c) > c->ep->write_high_water) {
        c->state = CONN_PAUSED;
        bufferevent_disable(c->bev, EV_READ);
        bufferevent_setwatermark(c->bev, EV_WRITE, c->ep->write_high_water / 2, 0);
        log_debug(c->ep->name, "pausing reads from %s: %zu bytes of output pending",
                 c->remote, rmq_conn_output_len(c));
    }
}

static void send_cmd(rmq_conn *c, rmq_cmd *cmd)
{
    if (c->sink && c->state != CONN_CLOSED) {
        c->sink(c, cmd, c->sink_arg);
        return;
    }
    if (c->state != CONN_CLOSED) {
        cmd_encode_into(cmd, bufferevent_get_output(c->bev));
        apply_backpressure(c);
    }
    cmd_free(cmd);
}

void rmq_conn_reply(rmq_conn *c, rmq_cmd *resp)
{
    /* A local connection's requests are its front end's (gRPC counts its own calls): not
     * remoting RPCs, as Apache's proxy in local mode calls the processors directly. */
    if (resp->req_mono_ms && !c->sink) metrics_rpc(resp->req_code, resp->code, true, mono_ms() - resp->req_mono_ms);
    send_cmd(c, resp);
}

static void stamp_response(const rmq_cmd *req, rmq_cmd *resp)
{
    resp->opaque = req->opaque;
    resp->flag |= RMQ_FLAG_RESPONSE;
    resp->serialize = req->serialize;
}

void rmq_conn_answer(rmq_conn *c, const rmq_cmd *req, rmq_cmd *resp)
{
    stamp_response(req, resp);
    rmq_conn_reply(c, resp);
}

static void pending_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    pending *p = arg;
    rmq_conn *c = p->conn;
    for (pending **pp = &c->pendings; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pending_finish(p, NULL, "request timed out");
}

void rmq_conn_request(rmq_conn *c, rmq_cmd *req, int timeout_ms, rmq_response_fn cb, void *arg)
{
    if (c->state == CONN_CLOSED) {
        cmd_free(req);
        cb(NULL, "connection closed", arg);
        return;
    }
    req->opaque = c->ep->next_opaque++;
    req->flag &= ~(RMQ_FLAG_RESPONSE | RMQ_FLAG_ONEWAY);
    pending *p = xcalloc(1, sizeof *p);
    p->opaque = req->opaque;
    p->cb = cb;
    p->arg = arg;
    p->conn = c;
    p->timer = evtimer_new(c->ep->base, pending_timeout_cb, p);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
    p->next = c->pendings;
    c->pendings = p;
    send_cmd(c, req);
}

void rmq_conn_oneway(rmq_conn *c, rmq_cmd *req)
{
    req->opaque = c->ep->next_opaque++;
    req->flag = (req->flag & ~RMQ_FLAG_RESPONSE) | RMQ_FLAG_ONEWAY;
    send_cmd(c, req);
}

static void handle_response(rmq_conn *c, rmq_cmd *resp)
{
    for (pending **pp = &c->pendings; *pp; pp = &(*pp)->next) {
        pending *p = *pp;
        if (p->opaque == resp->opaque) {
            *pp = p->next;
            pending_finish(p, resp, NULL);
            return;
        }
    }
    log_debug(c->ep->name, "response with unknown opaque %d from %s (late?)", resp->opaque, c->remote);
    cmd_free(resp);
}

void conn_dispatch_request(rmq_conn *c, rmq_cmd *req)
{
    endpoint *ep = c->ep;
    rmq_cmd *resp = ep->hook && !c->trusted ? ep->hook(c, req, ep->hook_arg) : NULL;
    if (!resp) {
        proc_entry key = {.code = req->code};
        proc_entry *e = ep->n_procs ? bsearch(&key, ep->procs, ep->n_procs, sizeof key, proc_cmp) : NULL;
        if (!e) {
            /* NettyRemotingAbstract.processRequestCommand's exact remark. */
            resp = cmd_new_response(req, 3 /* REQUEST_CODE_NOT_SUPPORTED */, NULL);
            cmd_set_remark(resp, " request type %d not supported", req->code);
            log_warn(ep->name, "%s: request type %d not supported", c->remote, req->code);
        } else {
            /* Counted before the call: once a processor returns RMQ_AGAIN, req is its own
             * (and may be gone already); cmd_free uncounts it whenever it goes. */
            req->held = metrics_request_counts_held(req->code);
            if (req->held) metrics_request_held(req->code, 1);
            if (e->fn(c, req, &resp, e->arg) == RMQ_AGAIN) return; /* the processor owns req now */
            if (req->held) metrics_request_held(req->code, -1);
            req->held = false;
        }
    }
    if (resp && !cmd_is_oneway(req)) {
        stamp_response(req, resp);
        if (!c->sink) metrics_rpc(req->code, resp->code, false, mono_ms() - req->req_mono_ms);
        send_cmd(c, resp);
    } else {
        cmd_free(resp);
    }
    cmd_free(req);
}

/* Decode and dispatch every whole frame buffered, unless paused or closed. */
static void process_input(rmq_conn *c)
{
    rmq_conn_hold(c);
    while (c->state == CONN_OPEN) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        size_t avail = evbuffer_get_length(in);
        if (avail < 4) break;
        uint8_t pre[4];
        evbuffer_copyout(in, pre, 4);
        uint32_t len = get_be32(pre);
        if (len < 4 || len > c->ep->max_frame) {
            log_warn(c->ep->name, "closing %s: frame length %u outside [4, %zu]", c->remote, len,
                     c->ep->max_frame);
            rmq_conn_close(c);
            break;
        }
        if (avail < (size_t)len + 4) break;
        /* One copy out of the input chain into a block the command keeps: the header is
         * parsed in place and the body is its tail (no pullup, no second copy). */
        uint8_t *frame = xmalloc(len);
        evbuffer_drain(in, 4);
        evbuffer_remove(in, frame, len);
        rmq_cmd *cmd;
        const char *err;
        int rc = cmd_decode_owned(frame, len, &cmd, &err);
        if (rc != RMQ_OK) {
            log_warn(c->ep->name, "closing %s: undecodable frame: %s", c->remote, err);
            rmq_conn_close(c);
            break;
        }
        if (cmd_is_response(cmd)) {
            handle_response(c, cmd);
        } else {
            cmd->req_mono_ms = mono_ms();
            conn_dispatch_request(c, cmd);
        }
    }
    rmq_conn_release(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    process_input(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    rmq_conn *c = arg;
    if (c->state != CONN_PAUSED) return;
    c->state = CONN_OPEN;
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_enable(bev, EV_READ);
    log_debug(c->ep->name, "resuming reads from %s", c->remote);
    process_input(c); /* frames that arrived while paused */
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    rmq_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        c->state = CONN_OPEN;
        conn_fill_addresses(c, bufferevent_getfd(bev));
        return;
    }
    unsigned long tls_error = bufferevent_get_openssl_error(bev); /* 0 for plain sockets */
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING))
        log_info(c->ep->name, "closing %s: %zu bytes of output not taken for %d s", c->remote,
                 rmq_conn_output_len(c), c->ep->idle_seconds);
    else if (what & BEV_EVENT_TIMEOUT)
        log_info(c->ep->name, "closing %s: idle for %d s", c->remote, c->ep->idle_seconds);
    else if ((what & BEV_EVENT_ERROR) && tls_error)
        log_info(c->ep->name, "closing %s: TLS: %s", c->remote, ERR_reason_error_string(tls_error));
    else if (what & BEV_EVENT_ERROR)
        log_info(c->ep->name, "closing %s: %s", c->remote,
                 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    rmq_conn_close(c);
}
