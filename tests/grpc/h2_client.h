/*
 * Test helper: a blocking HTTP/2 client (nghttp2's client session over a socket) that
 * makes gRPC calls, or sends whatever request body a test wants, and collects the answer:
 * HTTP status, the response bytes, grpc-status and grpc-message (trailers or Trailers-Only).
 */
#ifndef TEST_H2_CLIENT_H
#define TEST_H2_CLIENT_H

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apache/rocketmq/v2/service.pb-c.h"
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
    /* Credentials the calls are signed with, as the SDKs sign them (h2c_start); NULL: none. */
    const char *access_key, *secret_key;
    const char *authorization;   /* sent as is instead (malformed headers), with a date */
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
        {0}, {0},
    };
    /* rocketmq-clients' Signature.sign: HMAC-SHA1 of the x-mq-date-time value, in hex. */
    char date[32], auth[512];
    size_t n = 8;
    if (c->secret_key || c->authorization) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
        if (c->authorization) {
            snprintf(auth, sizeof auth, "%s", c->authorization);
        } else {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int md_len = 0;
            HMAC(EVP_sha1(), c->secret_key, (int)strlen(c->secret_key), (const unsigned char *)date, strlen(date), md,
                 &md_len);
            char hex[2 * EVP_MAX_MD_SIZE + 1];
            for (unsigned int i = 0; i < md_len; i++) snprintf(hex + 2 * i, 3, "%02X", md[i]);
            snprintf(auth, sizeof auth, "MQv2-HMAC-SHA1 Credential=%s, SignedHeaders=x-mq-date-time, Signature=%s",
                     c->access_key, hex);
        }
        hdrs[n++] = (nghttp2_nv){(uint8_t *)"x-mq-date-time", (uint8_t *)date, 14, strlen(date), 0};
        hdrs[n++] = (nghttp2_nv){(uint8_t *)"authorization", (uint8_t *)auth, 13, strlen(auth), 0};
    }
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = h2c_read_body};
    r->stream_id = nghttp2_submit_request(c->s, NULL, hdrs, n, &prd, r);
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

/* One call of METHOD of the MessagingService with request MSG, pumped until the stream closes
 * (false: not within TIMEOUT_MS). */
static inline bool h2c_call(h2_client *c, h2_result *r, const char *method, const char *client_id,
                            const ProtobufCMessage *msg, int timeout_ms)
{
    size_t len;
    uint8_t *body = h2c_frame(msg, &len);
    char path[128];
    snprintf(path, sizeof path, "/apache.rocketmq.v2.MessagingService/%s", method);
    h2c_start(c, r, path, client_id, body, len, true);
    bool done = h2c_pump(c, r, h2c_closed, timeout_ms);
    free(body);
    return done;
}

/* A ReceiveMessageRequest with the messages it points to (queue -1: POP decides). */
typedef struct h2c_receive_req {
    Apache__Rocketmq__V2__ReceiveMessageRequest req;
    Apache__Rocketmq__V2__Resource topic, group;
    Apache__Rocketmq__V2__MessageQueue mq;
    Apache__Rocketmq__V2__FilterExpression fe;
    Google__Protobuf__Duration invisible, poll;
} h2c_receive_req;

static inline void h2c_receive_init(h2c_receive_req *x, const char *group, const char *topic, const char *tags,
                                    int64_t poll_ms, int64_t invisible_ms)
{
    apache__rocketmq__v2__receive_message_request__init(&x->req);
    apache__rocketmq__v2__resource__init(&x->topic);
    apache__rocketmq__v2__resource__init(&x->group);
    apache__rocketmq__v2__message_queue__init(&x->mq);
    apache__rocketmq__v2__filter_expression__init(&x->fe);
    google__protobuf__duration__init(&x->invisible);
    google__protobuf__duration__init(&x->poll);
    x->topic.name = (char *)topic;
    x->group.name = (char *)group;
    x->mq.topic = &x->topic;
    x->mq.id = -1;
    x->fe.type = APACHE__ROCKETMQ__V2__FILTER_TYPE__TAG;
    x->fe.expression = (char *)tags;
    x->invisible.seconds = invisible_ms / 1000;
    x->poll.seconds = poll_ms / 1000;
    x->req.group = &x->group;
    x->req.message_queue = &x->mq;
    x->req.filter_expression = &x->fe;
    x->req.batch_size = 16;
    x->req.invisible_duration = &x->invisible;
    x->req.long_polling_timeout = &x->poll;
}

static inline void h2c_result_free(h2_result *r) { free(r->data); }

/* A SendMessageRequest of one message (ID, BODY) to TOPIC, with the messages it points to. */
typedef struct h2c_send_req {
    Apache__Rocketmq__V2__SendMessageRequest req;
    Apache__Rocketmq__V2__Message msg, *mp;
    Apache__Rocketmq__V2__Resource topic;
    Apache__Rocketmq__V2__SystemProperties sp;
} h2c_send_req;

static inline void h2c_send_init(h2c_send_req *x, const char *topic, const char *id, const char *body)
{
    apache__rocketmq__v2__send_message_request__init(&x->req);
    apache__rocketmq__v2__message__init(&x->msg);
    apache__rocketmq__v2__resource__init(&x->topic);
    apache__rocketmq__v2__system_properties__init(&x->sp);
    x->topic.name = (char *)topic;
    x->sp.message_id = (char *)id;
    x->sp.message_type = APACHE__ROCKETMQ__V2__MESSAGE_TYPE__NORMAL;
    x->msg.topic = &x->topic;
    x->msg.system_properties = &x->sp;
    x->msg.body.data = (uint8_t *)body;
    x->msg.body.len = strlen(body);
    x->mp = &x->msg;
    x->req.n_messages = 1;
    x->req.messages = &x->mp;
}

/* One ReceiveMessage of GROUP from TOPIC (all tags, 1 s long polling, 30 s invisible): the
 * bodies of the messages it got appended to GOT as "body;". False when it got no answer. */
static inline bool h2c_receive_bodies(h2_client *c, const char *client_id, const char *group, const char *topic,
                                      char *got, size_t cap)
{
    h2c_receive_req x;
    h2c_receive_init(&x, group, topic, "*", 1000, 30000);
    h2_result r;
    if (!h2c_call(c, &r, "ReceiveMessage", client_id, &x.req.base, 10000)) return false;
    Apache__Rocketmq__V2__ReceiveMessageResponse *m;
    for (int i = 0; (m = (void *)h2c_message(&r, &apache__rocketmq__v2__receive_message_response__descriptor, i)); i++) {
        if (m->content_case == APACHE__ROCKETMQ__V2__RECEIVE_MESSAGE_RESPONSE__CONTENT_MESSAGE) {
            size_t len = strlen(got);
            snprintf(got + len, cap - len, "%.*s;", (int)m->message->body.len, (const char *)m->message->body.data);
        }
        apache__rocketmq__v2__receive_message_response__free_unpacked(m, NULL);
    }
    h2c_result_free(&r);
    return true;
}

#endif
