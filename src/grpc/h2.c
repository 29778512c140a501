/*
 * The transport: HTTP/2 (nghttp2's server session, fed from and draining into our own
 * bufferevents; no threads) carrying gRPC calls. A new socket's first byte says whether
 * it is TLS (0x16, a handshake record: h2 negotiated with ALPN) or h2c with prior
 * knowledge, as Apache's proxy serves both on one port.
 *
 * One stream is one call (gcall). Its request bytes are cut into messages as they come
 * (Telemetry streams messages both ways); answers are framed into the call's output,
 * which nghttp2 takes through a data provider, then the trailers carry grpc-status.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"
#include "metrics/metrics.h"

#define TLS_HANDSHAKE_RECORD 0x16
#define IDLE_SECONDS 120           /* a connection without streams or traffic that long is closed */
#define STREAM_WINDOW (1 << 20)

struct h2conn {
    grpc_server *srv;
    struct bufferevent *bev;
    nghttp2_session *session;
    char peer[64];
    int in_recv;               /* inside nghttp2_session_mem_recv: flush afterwards */
    bool dead;                 /* to be freed once out of callbacks */
    gcall *calls;
    h2conn *prev, *next;
};

typedef struct sniff {
    grpc_server *srv;
    evutil_socket_t fd;
    struct event *ev;
    struct sniff *prev, *next;
} sniff;

static void conn_free(h2conn *h);

/* ---- calls ---- */

void gcall_hold(gcall *c) { c->refs++; }

void gcall_release(gcall *c)
{
    if (--c->refs > 0) return;
    if (c->in) evbuffer_free(c->in);
    if (c->out) evbuffer_free(c->out);
    free(c->path);
    free(c->client_id);
    free(c->language);
    free(c->authorization);
    free(c->datetime);
    free(c->status_msg);
    free(c);
}

bool gcall_alive(const gcall *c) { return c->conn && !c->finished && !c->finishing; }

static void detach_call(gcall *c)
{
    h2conn *h = c->conn;
    if (!h) return;
    for (gcall **pp = &h->calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    c->conn = NULL;
    if (c->method && c->method->closed) c->method->closed(c);
    gcall_release(c);   /* the stream's reference */
}

/* Hands nghttp2's output to the socket; frees the connection when HTTP/2 is done with it. */
static void flush(h2conn *h)
{
    if (h->in_recv || h->dead) return;
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(h->session, &data);
        if (n < 0) {
            log_warn("grpc", "closing %s: %s", h->peer, nghttp2_strerror((int)n));
            h->dead = true;
            break;
        }
        if (n == 0) break;
        bufferevent_write(h->bev, data, (size_t)n);
    }
    if (!h->dead && !nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session))
        h->dead = true;
    if (h->dead && evbuffer_get_length(bufferevent_get_output(h->bev)) == 0) conn_free(h);
}

static ssize_t data_read_cb(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *flags, nghttp2_data_source *src, void *user)
{
    gcall *c = src->ptr;
    size_t avail = evbuffer_get_length(c->out);
    if (avail) return evbuffer_remove(c->out, buf, length);
    if (!c->finishing) return NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    char status[16];
    snprintf(status, sizeof status, "%d", c->status);
    char *msg = grpc_percent_encode(c->status_msg ? c->status_msg : "");
    nghttp2_nv tr[] = {
        {(uint8_t *)"grpc-status", (uint8_t *)status, 11, strlen(status), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"grpc-message", (uint8_t *)msg, 12, strlen(msg), NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_submit_trailer(s, stream_id, tr, *msg ? 2 : 1);
    free(msg);
    c->finishing = false;
    c->finished = true;
    return 0;
}

#define NV(k, v) {(uint8_t *)(k), (uint8_t *)(v), sizeof(k) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

static void start_response(gcall *c)
{
    if (c->responding) return;
    c->responding = true;
    nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                         NV("grpc-accept-encoding", "identity")};
    nghttp2_data_provider prd = {.source.ptr = c, .read_callback = data_read_cb};
    nghttp2_submit_response(c->conn->session, c->stream_id, hdrs, 3, &prd);
}

/* The Status (field 1 of every response and of TelemetryCommand) of the call's first answer:
 * what the call is counted under in rocketmq_rpc_latency. */
static void note_status(gcall *c, const ProtobufCMessage *msg)
{
    if (c->n_sent++) return;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(msg->descriptor, 1);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor != &apache__rocketmq__v2__status__descriptor) return;
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
        return;
    const Apache__Rocketmq__V2__Status *st = *(Apache__Rocketmq__V2__Status *const *)((const char *)msg + f->offset);
    if (st) c->app_code = st->code;
}

/* Snake case, lower: "SendMessage" -> "send_message", "MESSAGE_NOT_FOUND" -> "message_not_found". */
static void metric_name(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; in[i] && n + 2 < cap; i++) {
        char ch = in[i];
        if (ch >= 'A' && ch <= 'Z') {
            if (i && in[i - 1] >= 'a' && in[i - 1] <= 'z') out[n++] = '_';
            ch = (char)(ch - 'A' + 'a');
        }
        out[n++] = ch;
    }
    out[n] = 0;
}

/* One finished call in rocketmq_rpc_latency{protocol_type="grpc"} (Telemetry streams, which
 * live as long as their client, are not calls to time). */
static void count_call(gcall *c)
{
    if (!c->method || c->method->kind == GRPC_BIDI) return;
    static const char *const grpc_names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                             "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                             "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                             "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    char method[64], resp[64];
    metric_name(c->method->name, method, sizeof method);
    /* The response's Status when it had one, else the call's grpc-status. */
    const char *code = c->app_code >= 0 && c->status == GRPC_OK ? status_code_name(c->app_code)
                       : c->status >= 0 && c->status < 17   ? grpc_names[c->status]
                                                             : "UNKNOWN";
    metric_name(code, resp, sizeof resp);
    metrics_grpc_rpc(method, resp, c->method->kind == GRPC_SERVER_STREAM, mono_ms() - c->start_ms);
}

void gcall_send(gcall *c, const ProtobufCMessage *msg)
{
    if (!gcall_alive(c)) return;
    note_status(c, msg);
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t pre[GRPC_PREFIX];
    grpc_frame_prefix(pre, (uint32_t)n);
    uint8_t *buf = xmalloc(n ? n : 1);
    protobuf_c_message_pack(msg, buf);
    evbuffer_add(c->out, pre, sizeof pre);
    evbuffer_add(c->out, buf, n);
    free(buf);
    start_response(c);
    nghttp2_session_resume_data(c->conn->session, c->stream_id);
    flush(c->conn);
}

void gcall_finish(gcall *c, int status, const char *message)
{
    if (!gcall_alive(c)) return;
    h2conn *h = c->conn;
    c->status = status;
    free(c->status_msg);
    c->status_msg = message && *message ? xstrdup(message) : NULL;
    if (status != GRPC_OK)
        log_debug("grpc", "%s %s: status %d %s", c->peer, c->path ? c->path : "?", status, message ? message : "");
    count_call(c);
    if (!c->responding) {
        /* Trailers-Only: one HEADERS frame ending the stream. */
        c->finished = true;
        c->responding = true;
        char st[16];
        snprintf(st, sizeof st, "%d", status);
        char *msg = grpc_percent_encode(c->status_msg ? c->status_msg : "");
        nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc"), NV("grpc-status", st),
                             NV("grpc-message", msg)};
        nghttp2_submit_response(h->session, c->stream_id, hdrs, *msg ? 4 : 3, NULL);
        free(msg);
    } else {
        c->finishing = true;
        nghttp2_session_resume_data(h->session, c->stream_id);
    }
    flush(h);
}

void gcall_answer(gcall *c, const ProtobufCMessage *msg)
{
    gcall_send(c, msg);
    gcall_finish(c, GRPC_OK, NULL);
}

ProtobufCMessage *gcall_unpack(gcall *c, const ProtobufCMessageDescriptor *d, const uint8_t *msg, size_t len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, msg);
    if (!m) gcall_finish(c, GRPC_INVALID_ARGUMENT, "cannot parse the request message");
    return m;
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    h2conn *h = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    gcall *c = xcalloc(1, sizeof *c);
    c->refs = 1;  /* the stream's */
    c->srv = h->srv;
    c->conn = h;
    c->stream_id = f->hd.stream_id;
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->timeout_ms = -1;
    c->app_code = -1;
    c->start_ms = mono_ms();
    snprintf(c->peer, sizeof c->peer, "%s", h->peer);
    c->next = h->calls;
    h->calls = c;
    nghttp2_session_set_stream_user_data(s, f->hd.stream_id, c);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    gcall *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!c || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    char **slot = NULL;
    if (namelen == 5 && !memcmp(name, ":path", 5)) slot = &c->path;
    else if (namelen == 14 && !memcmp(name, "x-mq-client-id", 14)) slot = &c->client_id;
    else if (namelen == 13 && !memcmp(name, "x-mq-language", 13)) slot = &c->language;
    else if (namelen == 13 && !memcmp(name, "authorization", 13)) slot = &c->authorization;
    else if (namelen == 14 && !memcmp(name, "x-mq-date-time", 14)) slot = &c->datetime;
    if (slot) {
        free(*slot);
        *slot = xstrndup((const char *)value, valuelen);
    } else if (namelen == 12 && !memcmp(name, "grpc-timeout", 12)) {
        c->timeout_ms = grpc_timeout_ms((const char *)value, valuelen);
    }
    return 0;
}

/* Cuts whole messages out of the call's input and hands them to the method. */
static void take_messages(gcall *c)
{
    gcall_hold(c);
    while (gcall_alive(c)) {
        size_t avail = evbuffer_get_length(c->in), n = 0;
        bool compressed = false;
        const uint8_t *buf = evbuffer_pullup(c->in, avail < GRPC_PREFIX ? -1 : GRPC_PREFIX);
        enum grpc_frame_rc rc = grpc_frame_parse(buf, avail, c->srv->max_message, &compressed, &n);
        if (rc == GRPC_FRAME_TOO_BIG) {
            char why[128];
            snprintf(why, sizeof why, "gRPC message larger than max (%zu)", c->srv->max_message);
            gcall_finish(c, GRPC_RESOURCE_EXHAUSTED, why);
            break;
        }
        if (rc == GRPC_FRAME_MORE) break;
        if (compressed) {
            gcall_finish(c, GRPC_UNIMPLEMENTED, "compressed messages are not supported (grpc-encoding identity)");
            break;
        }
        if (c->method->kind != GRPC_BIDI && c->n_msgs > 0) {
            gcall_finish(c, GRPC_INTERNAL, "more than one request message on a non-streaming request");
            break;
        }
        uint8_t *msg = xmalloc(n ? n : 1);
        evbuffer_drain(c->in, GRPC_PREFIX);
        evbuffer_remove(c->in, msg, n);
        c->n_msgs++;
        if (grpc_access_allowed(c, msg, n)) c->method->handle(c, msg, n);
        free(msg);
    }
    gcall_release(c);
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                         void *user)
{
    gcall *c = nghttp2_session_get_stream_user_data(s, stream_id);
    if (!c || !gcall_alive(c) || !c->method) return 0;
    evbuffer_add(c->in, data, len);
    take_messages(c);
    return 0;
}

/* The request's headers are complete: find the method or refuse the call. */
static void request_begins(gcall *c)
{
    log_debug("grpc", "%s %s: %s", c->peer, c->client_id ? c->client_id : "-", c->path ? c->path : "(no path)");
    if (!c->path || !(c->method = grpc_method_find(c->path))) {
        char why[300];
        snprintf(why, sizeof why, "Method not found: %.250s", c->path ? c->path + (*c->path == '/') : "(none)");
        gcall_finish(c, GRPC_UNIMPLEMENTED, why);
    }
}

static void request_ends(gcall *c)
{
    if (!gcall_alive(c) || !c->method) return;
    if (evbuffer_get_length(c->in)) gcall_finish(c, GRPC_INTERNAL, "truncated message at end of stream");
    else if (c->method->kind == GRPC_BIDI) gcall_finish(c, GRPC_OK, NULL);
    else if (c->n_msgs == 0) gcall_finish(c, GRPC_INTERNAL, "half-closed without a request");
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    gcall *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!c) return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) request_begins(c);
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        request_ends(c);
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user)
{
    gcall *c = nghttp2_session_get_stream_user_data(s, stream_id);
    if (c) detach_call(c);
    return 0;
}

/* ---- connections ---- */

static void conn_free(h2conn *h)
{
    grpc_server *g = h->srv;
    while (h->calls) detach_call(h->calls);
    if (h->prev) h->prev->next = h->next;
    else g->conns = h->next;
    if (h->next) h->next->prev = h->prev;
    nghttp2_session_del(h->session);
    bufferevent_free(h->bev);
    log_debug("grpc", "closed %s", h->peer);
    free(h);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    h2conn *h = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    h->in_recv++;
    while (!h->dead && evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        ssize_t rc = nghttp2_session_mem_recv(h->session, evbuffer_pullup(in, (ev_ssize_t)n), n);
        if (rc < 0) {
            log_info("grpc", "closing %s: HTTP/2: %s", h->peer, nghttp2_strerror((int)rc));
            h->dead = true;
            break;
        }
        evbuffer_drain(in, (size_t)rc);
    }
    h->in_recv--;
    if (h->dead) {
        conn_free(h);
        return;
    }
    flush(h);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    h2conn *h = arg;
    if (h->dead && evbuffer_get_length(bufferevent_get_output(bev)) == 0) conn_free(h);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    h2conn *h = arg;
    if (what & BEV_EVENT_CONNECTED) return;
    if (what & BEV_EVENT_TIMEOUT) {
        if (h->calls) {   /* a long poll or an open Telemetry stream: not idle */
            bufferevent_enable(bev, EV_READ);
            return;
        }
        log_info("grpc", "closing %s: idle for %d s", h->peer, IDLE_SECONDS);
    }
    conn_free(h);
}

static void conn_new(grpc_server *g, struct bufferevent *bev, const char *peer)
{
    h2conn *h = xcalloc(1, sizeof *h);
    h->srv = g;
    h->bev = bev;
    snprintf(h->peer, sizeof h->peer, "%s", peer);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_server_new(&h->session, cbs, h);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW}};
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, 2);
    h->next = g->conns;
    if (g->conns) g->conns->prev = h;
    g->conns = h;
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, h);
    struct timeval tv = {IDLE_SECONDS, 0};
    bufferevent_set_timeouts(bev, &tv, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    flush(h);
    log_debug("grpc", "accepted %s", peer);
}

void h2_close_all(grpc_server *g)
{
    while (g->conns) conn_free(g->conns);
    while (g->sniffing) {
        sniff *sn = g->sniffing;
        g->sniffing = sn->next;
        event_free(sn->ev);
        evutil_closesocket(sn->fd);
        free(sn);
    }
    if (g->listener) evconnlistener_free(g->listener);
    g->listener = NULL;
}

static void peer_text(evutil_socket_t fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    snprintf(out, len, "%s:%d", ip, port);
}

static void sniff_end(sniff *sn)
{
    grpc_server *g = sn->srv;
    if (sn->prev) sn->prev->next = sn->next;
    else g->sniffing = sn->next;
    if (sn->next) sn->next->prev = sn->prev;
    event_free(sn->ev);
    free(sn);
}

static void sniff_cb(evutil_socket_t fd, short what, void *arg)
{
    sniff *sn = arg;
    grpc_server *g = sn->srv;
    uint8_t first;
    ssize_t n = (what & EV_READ) ? recv(fd, &first, 1, MSG_PEEK) : -1;
    if (n < 0 && (what & EV_READ) && (errno == EAGAIN || errno == EINTR)) return;
    sniff_end(sn);
    char peer[64];
    peer_text(fd, peer, sizeof peer);
    struct bufferevent *bev = NULL;
    if (n == 1 && first == TLS_HANDSHAKE_RECORD) {
        SSL *ssl = g->ssl_ctx ? SSL_new(g->ssl_ctx) : NULL;
        if (ssl) {
            bev = bufferevent_openssl_socket_new(g->b->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE);
            if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        } else {
            log_warn("grpc", "closing %s: TLS handshake but no tls.server.certPath/keyPath", peer);
        }
    } else if (n == 1 && g->b->cfg.tls.mode == RMQ_TLS_ENFORCING && g->ssl_ctx) {
        log_warn("grpc", "closing %s: plain connection while TLS is enforced", peer);
    } else if (n == 1) {
        bev = bufferevent_socket_new(g->b->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    conn_new(g, bev, peer);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
    grpc_server *g = arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sniff *sn = xcalloc(1, sizeof *sn);
    sn->srv = g;
    sn->fd = fd;
    sn->ev = event_new(g->b->base, fd, EV_READ | EV_PERSIST, sniff_cb, sn);
    struct timeval tv = {IDLE_SECONDS, 0};
    event_add(sn->ev, &tv);
    sn->next = g->sniffing;
    if (g->sniffing) g->sniffing->prev = sn;
    g->sniffing = sn;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    static const unsigned char h2[] = "\x02h2";
    if (SSL_select_next_proto((unsigned char **)out, outlen, h2, sizeof h2 - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

static int key_password_cb(char *buf, int size, int rwflag, void *arg)
{
    const char *pw = arg;
    int n = (int)strlen(pw);
    if (n > size) n = size;
    memcpy(buf, pw, (size_t)n);
    return n;
}

/* The broker's TLS settings (tls.server.*) as an HTTP/2 TLS context, or none. */
static int tls_setup(grpc_server *g, char *err, size_t errlen)
{
    const rmq_tls_config *t = &g->b->cfg.tls;
    if (t->mode == RMQ_TLS_DISABLED || !t->cert_path || !t->key_path) return RMQ_OK;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (t->key_password) {
        SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(ctx, t->key_password);
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, t->key_path, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        goto fail;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    g->ssl_ctx = ctx;
    return RMQ_OK;
fail:
    snprintf(err, errlen, "gRPC TLS: %s", ERR_reason_error_string(ERR_get_error()));
    return RMQ_ERR;
}

int h2_listen(grpc_server *g, int port, char *err, size_t errlen)
{
    if (tls_setup(g, err, errlen)) return RMQ_ERR;
    const char *host = g->b->cfg.listenAddress && *g->b->cfg.listenAddress ? g->b->cfg.listenAddress : "0.0.0.0";
    struct sockaddr_storage ss = {0};
    int sl;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sl = sizeof *in6;
    } else {
        snprintf(err, errlen, "gRPC: bad listen address %s", host);
        return RMQ_ERR;
    }
    g->listener = evconnlistener_new_bind(g->b->base, accept_cb, g,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
                                          (struct sockaddr *)&ss, sl);
    if (!g->listener) {
        snprintf(err, errlen, "gRPC: cannot listen on %s:%d: %s", host, port, strerror(errno));
        return RMQ_ERR;
    }
    ss = (struct sockaddr_storage){0};
    socklen_t len = sizeof ss;
    getsockname(evconnlistener_get_fd(g->listener), (struct sockaddr *)&ss, &len);
    g->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    log_info("grpc", "listening on %s:%d (h2c%s)", host, g->port, g->ssl_ctx ? ", h2 over TLS" : "");
    return RMQ_OK;
}
