/*
 * Test helper: a blocking HTTP/2 client (nghttp2's client session over a socket) that
 * makes gRPC calls, or sends whatever request body a test wants, and collects the answer:
 * HTTP status, the response bytes, grpc-status and grpc-message (trailers or Trailers-Only).
 */
#ifndef TEST_H2_CLIENT_H
#define TEST_H2_CLIENT_H

#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"

typedef struct h2_result {
    int32_t stream_id;
    int http_status;
    int grpc_status;           /* -1 until seen */
    char grpc_message[512];
    uint8_t *data;             /* response body bytes (framed messages) */
    size_t len;
    bool closed;
    const uint8_t *req;        /* request body still to send */
    size_t req_len, req_off;
    bool end_stream;           /* end the request stream after the body */
} h2_result;

typedef struct h2_client {
    int fd;
    nghttp2_session *s;
    h2_result *cur;
    bool eof;
} h2_client;

static int h2c_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                         const uint8_t *value, size_t vl, uint8_t flags, void *user)
{
    h2_result *r = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (!r) return 0;
    char v[512];
    snprintf(v, sizeof v, "%.*s", (int)vl, value);
    if (nl == 7 && !memcmp(name, ":status", 7)) r->http_status = atoi(v);
    else if (nl == 11 && !memcmp(name, "grpc-status", 11)) r->grpc_status = atoi(v);
    else if (nl == 12 && !memcmp(name, "grpc-message", 12)) snprintf(r->grpc_message, sizeof r->grpc_message, "%s", v);
    return 0;
}

static int h2c_on_data(nghttp2_session *s, uint8_t flags, int32_t sid, const uint8_t *data, size_t len, void *user)
{
    h2_result *r = nghttp2_session_get_stream_user_data(s, sid);
    if (!r) return 0;
    r->data = xrealloc(r->data, r->len + len + 1);
    memcpy(r->data + r->len, data, len);
    r->len += len;
    return 0;
}

static int h2c_on_close(nghttp2_session *s, int32_t sid, uint32_t code, void *user)
{
    h2_result *r = nghttp2_session_get_stream_user_data(s, sid);
    if (r) r->closed = true;
    return 0;
}

static ssize_t h2c_read_body(nghttp2_session *s, int32_t sid, uint8_t *buf, size_t len, uint32_t *flags,
                             nghttp2_data_source *src, void *user)
{
    h2_result *r = src->ptr;
    size_t n = r->req_len - r->req_off;
    if (n > len) n = len;
    memcpy(buf, r->req + r->req_off, n);
    r->req_off += n;
    if (r->req_off == r->req_len) {
        if (r->end_stream) *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0) return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

static inline int h2c_connect(h2_client *c, const char *addr)
{
    char err[256];
    memset(c, 0, sizeof *c);
    c->fd = rmq_connect_blocking(addr, 3000, err, sizeof err);
    if (c->fd < 0) return -1;
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2c_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2c_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2c_on_close);
    nghttp2_session_client_new(&c->s, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, NULL, 0);
    return 0;
}

static inline void h2c_close(h2_client *c)
{
    nghttp2_session_del(c->s);
    close(c->fd);
}

/* Writes what nghttp2 has, reads what comes, until DONE(r) or TIMEOUT_MS; false on timeout/EOF. */
static inline bool h2c_pump(h2_client *c, h2_result *r, bool (*done)(const h2_result *), int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    while (!done(r)) {
        const uint8_t *out;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(c->s, &out)) > 0)
            if (write(c->fd, out, (size_t)n) != n) return false;
        int left = (int)(deadline - mono_ms());
        if (left <= 0) return false;
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, left < 100 ? left : 100) <= 0) continue;
        uint8_t buf[16384];
        ssize_t got = read(c->fd, buf, sizeof buf);
        if (got <= 0) {
            c->eof = true;
            return false;
        }
        if (nghttp2_session_mem_recv(c->s, buf, (size_t)got) < 0) return false;
    }
    return true;
}

static inline bool h2c_closed(const h2_result *r) { return r->closed; }

/* Starts a POST to PATH with BODY (raw: framing is the caller's), ending the stream if END. */
static inline void h2c_start(h2_client *c, h2_result *r, const char *path, const char *client_id, const uint8_t *body,
                             size_t len, bool end)
{
    memset(r, 0, sizeof *r);
    r->grpc_status = -1;
    r->req = body;
    r->req_len = len;
    r->end_stream = end;
    nghttp2_nv hdrs[] = {
        {(uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
        {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0},
        {(uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, 0},
        {(uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, 0},
        {(uint8_t *)"te", (uint8_t *)"trailers", 2, 8, 0},
        {(uint8_t *)"x-mq-client-id", (uint8_t *)client_id, 14, strlen(client_id), 0},
        {(uint8_t *)"x-mq-language", (uint8_t *)"JAVA", 13, 4, 0},
    };
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = h2c_read_body};
    r->stream_id = nghttp2_submit_request(c->s, NULL, hdrs, 8, &prd, r);
}

/* A framed request message: prefix + packed MSG (caller frees). */
static inline uint8_t *h2c_frame(const ProtobufCMessage *msg, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = xmalloc(n + 5);
    buf[0] = 0;
    put_be32(buf + 1, (uint32_t)n);
    protobuf_c_message_pack(msg, buf + 5);
    *len = n + 5;
    return buf;
}

/* The I-th framed message of the response (0-based), unpacked, or NULL. */
static inline ProtobufCMessage *h2c_message(const h2_result *r, const ProtobufCMessageDescriptor *d, int i)
{
    size_t pos = 0;
    for (;;) {
        if (r->len - pos < 5) return NULL;
        uint32_t n = get_be32(r->data + pos + 1);
        if (r->len - pos - 5 < n) return NULL;
        if (i-- == 0) return protobuf_c_message_unpack(d, NULL, n, r->data + pos + 5);
        pos += 5 + n;
    }
}

static inline void h2c_result_free(h2_result *r) { free(r->data); }

#endif
