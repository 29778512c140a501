#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decode one UTF-8 code point; invalid bytes count as U+FFFD like Java's decoder. */
static uint32_t utf8_next(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = 0;
    if (c < 0x80) { *pp = p; return c; }
    if ((c & 0xE0) == 0xC0) { c &= 0x1F; extra = 1; }
    else if ((c & 0xF0) == 0xE0) { c &= 0x0F; extra = 2; }
    else if ((c & 0xF8) == 0xF0) { c &= 0x07; extra = 3; }
    else { *pp = p; return 0xFFFD; }
    for (int i = 0; i < extra; i++) {
        if (p >= end || (*p & 0xC0) != 0x80) { *pp = p; return 0xFFFD; }
        c = (c << 6) | (*p++ & 0x3F);
    }
    *pp = p;
    return c;
}

int32_t java_string_hash(const char *utf8, size_t len)
{
    const unsigned char *p = (const unsigned char *)utf8, *end = p + len;
    uint32_t h = 0;
    while (p < end) {
        uint32_t c = utf8_next(&p, end);
        if (c >= 0x10000) { /* surrogate pair: two UTF-16 units */
            c -= 0x10000;
            h = h * 31 + (0xD800 + (c >> 10));
            h = h * 31 + (0xDC00 + (c & 0x3FF));
        } else {
            h = h * 31 + c;
        }
    }
    return (int32_t)h;
}

int parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s) return RMQ_ERR;
    /* The usual case without strtoll: -?[0-9]{1,18} and nothing after cannot overflow. */
    const char *d = s + (*s == '-');
    uint64_t u = 0;
    const char *q = d;
    while (*q >= '0' && *q <= '9' && q - d < 19) u = u * 10 + (uint64_t)(*q++ - '0');
    if (!*q && q > d && q - d <= 18) {
        *out = d > s ? -(int64_t)u : (int64_t)u;
        return RMQ_OK;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return RMQ_ERR;
    *out = v;
    return RMQ_OK;
}

size_t fmt_int64(char *out, int64_t v)
{
    char tmp[20];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    size_t len = 0;
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = tmp[--n];
    out[len] = 0;
    return len;
}

int parse_int32(const char *s, int32_t *out)
{
    int64_t v;
    if (parse_int64(s, &v) || v < INT32_MIN || v > INT32_MAX) return RMQ_ERR;
    *out = (int32_t)v;
    return RMQ_OK;
}

bool parse_java_bool(const char *s)
{
    return s && strcasecmp(s, "true") == 0;
}

int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return RMQ_ERR;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) && errno != EEXIST) return RMQ_ERR;
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return RMQ_ERR;
    return RMQ_OK;
}

char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st)) { close(fd); return NULL; }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return RMQ_ERR;
        }
        p += w;
        len -= (size_t)w;
    }
    return RMQ_OK;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX], bak[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
        snprintf(bak, sizeof bak, "%s.bak", path) >= (int)sizeof bak)
        return RMQ_ERR;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return RMQ_ERR;
    if (write_all(fd, data, len) || fsync(fd)) {
        close(fd);
        unlink(tmp);
        return RMQ_ERR;
    }
    close(fd);
    /* Keep the previous good copy: a torn rename can never leave us with neither. */
    if (access(path, F_OK) == 0) {
        unlink(bak);
        if (link(path, bak) && errno != EEXIST) { /* fall through: .bak is best effort */ }
    }
    if (rename(tmp, path)) {
        unlink(tmp);
        return RMQ_ERR;
    }
    /* Make the rename itself durable. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return RMQ_OK;
}

char *read_file_or_bak(const char *path, size_t *len)
{
    char *s = read_file(path, len);
    if (s && *s) return s;
    free(s);
    char bak[PATH_MAX];
    if (snprintf(bak, sizeof bak, "%s.bak", path) >= (int)sizeof bak) return NULL;
    return read_file(bak, len);
}

int split_host_port(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr) return RMQ_ERR;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (*h == '[' && hl >= 2 && h[hl - 1] == ']') { h++; hl -= 2; }
    if (hl >= hostlen) return RMQ_ERR;
    int32_t p;
    if (parse_int32(colon + 1, &p) || p <= 0 || p > 65535) return RMQ_ERR;
    memcpy(host, h, hl);
    host[hl] = 0;
    *port = p;
    return RMQ_OK;
}

void hex_upper(char *dst, const uint8_t *src, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
    dst[2 * len] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hex_decode(uint8_t *dst, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(n / 2);
}

char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    return s;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) abort();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

struct str_chunk {
    struct str_chunk *next;
    size_t used, cap;
    char data[];
};

/* Room for a request's header (a SEND_MESSAGE_V2 with its properties is ~300 bytes of
 * keys and values) in one chunk. */
#define STR_CHUNK 1000

char *strs_dup(struct str_chunk **head, const char *s, size_t n)
{
    struct str_chunk *k = *head;
    if (!k || k->cap - k->used < n + 1) {
        bool big = n + 1 > STR_CHUNK / 2;
        size_t cap = big ? n + 1 : STR_CHUNK;
        struct str_chunk *fresh = xmalloc(sizeof *fresh + cap);
        fresh->used = 0;
        fresh->cap = cap;
        if (k && big) {
            /* a big string gets a chunk of its own behind the current one, which keeps its room */
            fresh->next = k->next;
            k->next = fresh;
        } else {
            fresh->next = k;
            *head = fresh;
        }
        k = fresh;
    }
    char *p = k->data + k->used;
    memcpy(p, s, n);
    p[n] = 0;
    k->used += n + 1;
    return p;
}

void strs_free(struct str_chunk **head)
{
    for (struct str_chunk *k = *head, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    *head = NULL;
}

static char *trim_space(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

int simple_props_each(char *text, int (*fn)(const char *key, const char *val, void *arg), void *arg)
{
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *l = trim_space(line);
        if (!*l || *l == '#' || *l == '!') continue;
        char *sep = strpbrk(l, "=:");
        if (!sep) continue;
        *sep = 0;
        int rc = fn(trim_space(l), trim_space(sep + 1), arg);
        if (rc) return rc;
    }
    return 0;
}
