/* Blocking request/response over a socket, plain or TLS, for tools, tests and the broker's
 * last words at shutdown (no event loop). */
#include <errno.h>
#include <event2/buffer.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "conn.h"
#include "remoting.h"

static atomic_int sync_opaque = 1;

/* Wait for fd to become ready before the deadline; 0 on ready, -1 on timeout/error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) return -1;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

int rmq_connect_blocking(const char *addr, int timeout_ms, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (split_host_port(addr, host, sizeof host, &port)) {
        snprintf(err, errlen, "bad address '%s' (want host:port)", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) || !ai) {
        snprintf(err, errlen, "cannot resolve %s", host);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int64_t deadline = mono_ms() + timeout_ms;
    int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc < 0 && errno == EINPROGRESS) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (wait_fd(fd, POLLOUT, deadline) == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && !soerr)
            rc = 0;
        else
            errno = soerr ? soerr : ETIMEDOUT;
    }
    if (rc < 0) {
        snprintf(err, errlen, "connect to %s failed: %s", addr, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Waits for what SSL_get_error asked for; -1 for a real error or the deadline. */
static int ssl_wait(SSL *ssl, int fd, int n, int64_t deadline)
{
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ: return wait_fd(fd, POLLIN, deadline);
    case SSL_ERROR_WANT_WRITE: return wait_fd(fd, POLLOUT, deadline);
    default: ERR_clear_error(); return -1;
    }
}

/* All of BUF over the socket, or over SSL when it is not NULL; -1 on close, error, deadline. */
static int io_full(int fd, SSL *ssl, void *buf, size_t len, bool writing, int64_t deadline)
{
    char *p = buf;
    while (len) {
        if (ssl) {
            int n = writing ? SSL_write(ssl, p, (int)len) : SSL_read(ssl, p, (int)len);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
            } else if (ssl_wait(ssl, fd, n, deadline)) {
                return -1;
            }
            continue;
        }
        ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n == 0) return -1; /* peer closed */
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        if (wait_fd(fd, writing ? POLLOUT : POLLIN, deadline)) return -1;
    }
    return 0;
}

static int write_cmd(int fd, SSL *ssl, rmq_cmd *c)
{
    struct evbuffer *out = evbuffer_new();
    cmd_encode_into(c, out);
    size_t len = evbuffer_get_length(out);
    int rc = io_full(fd, ssl, evbuffer_pullup(out, -1), len, true, mono_ms() + 30000);
    evbuffer_free(out);
    return rc;
}

int rmq_write_cmd_fd(int fd, rmq_cmd *c) { return write_cmd(fd, NULL, c); }

static rmq_cmd *read_frame(int fd, SSL *ssl, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = mono_ms() + timeout_ms;
    uint8_t pre[4];
    if (io_full(fd, ssl, pre, 4, false, deadline)) {
        snprintf(err, errlen, "no response (timeout or connection closed)");
        return NULL;
    }
    uint32_t len = get_be32(pre);
    if (len < 4 || len > 256u << 20) {
        snprintf(err, errlen, "bad frame length %u", len);
        return NULL;
    }
    uint8_t *frame = xmalloc(len);
    rmq_cmd *c = NULL;
    const char *why = NULL;
    if (io_full(fd, ssl, frame, len, false, deadline)) {
        snprintf(err, errlen, "truncated response");
        free(frame);
    } else if (cmd_decode_owned(frame, len, &c, &why)) {   /* takes the frame either way */
        snprintf(err, errlen, "undecodable response: %s", why);
    }
    return c;
}

rmq_cmd *rmq_read_frame_fd(int fd, int timeout_ms, char *err, size_t errlen)
{
    return read_frame(fd, NULL, timeout_ms, err, errlen);
}

static rmq_cmd *invoke(int fd, SSL *ssl, rmq_cmd *req, int timeout_ms, char *err, size_t errlen)
{
    req->opaque = atomic_fetch_add(&sync_opaque, 1);
    /* Encoding moves a zero-copy body out; tools only use plain bodies. */
    if (write_cmd(fd, ssl, req)) {
        snprintf(err, errlen, "send failed: %s", strerror(errno));
        return NULL;
    }
    if (cmd_is_oneway(req)) return NULL;
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - mono_ms());
        if (left <= 0) {
            snprintf(err, errlen, "request timed out after %d ms", timeout_ms);
            return NULL;
        }
        rmq_cmd *c = read_frame(fd, ssl, left, err, errlen);
        if (!c) return NULL;
        if (cmd_is_response(c) && c->opaque == req->opaque) return c;
        cmd_free(c); /* a server push or a stale answer: not ours */
    }
}

rmq_cmd *rmq_invoke_fd(int fd, rmq_cmd *req, int timeout_ms, char *err, size_t errlen)
{
    return invoke(fd, NULL, req, timeout_ms, err, errlen);
}

rmq_cmd *rmq_invoke_sync_tls(const char *addr, rmq_cmd *req, int timeout_ms, const rmq_tls_config *tls, char *err,
                             size_t errlen)
{
    if (!tls) return rmq_invoke_sync(addr, req, timeout_ms, err, errlen);
    SSL_CTX *ctx;
    const char *why;
    if (tls_client_ctx_new(tls, "client", &ctx, &why) != RMQ_OK) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    int64_t deadline = mono_ms() + timeout_ms;
    rmq_cmd *resp = NULL;
    SSL *ssl = NULL;
    int fd = rmq_connect_blocking(addr, timeout_ms, err, errlen);
    if (fd < 0) goto out;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    for (int n; (n = SSL_connect(ssl)) != 1;) {
        if (ssl_wait(ssl, fd, n, deadline)) {
            snprintf(err, errlen, "TLS handshake with %s failed", addr);
            goto out;
        }
    }
    resp = invoke(fd, ssl, req, (int)(deadline - mono_ms()), err, errlen);
out:
    SSL_free(ssl);
    if (fd >= 0) close(fd);
    SSL_CTX_free(ctx);
    return resp;
}

rmq_cmd *rmq_invoke_sync(const char *addr, rmq_cmd *req, int timeout_ms, char *err, size_t errlen)
{
    int fd = rmq_connect_blocking(addr, timeout_ms, err, errlen);
    if (fd < 0) return NULL;
    rmq_cmd *resp = rmq_invoke_fd(fd, req, timeout_ms, err, errlen);
    close(fd);
    return resp;
}
