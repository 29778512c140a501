/* Command model: construction, ext fields, typed and declarative header access. */
#include "remoting.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const language_names[] = {
    "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS",
};
#define N_LANGUAGES ((int)(sizeof language_names / sizeof language_names[0]))

const char *language_name(int code)
{
    return code >= 0 && code < N_LANGUAGES ? language_names[code] : "OTHER";
}

int language_from_name(const char *name)
{
    for (int i = 0; i < N_LANGUAGES; i++)
        if (strcmp(language_names[i], name) == 0) return i;
    return -1;
}

rmq_cmd *cmd_new_request(int32_t code)
{
    rmq_cmd *c = xcalloc(1, sizeof *c);
    c->code = code;
    c->language = RMQ_LANGUAGE_JAVA;
    c->version = RMQ_OUR_VERSION;
    c->serialize = RMQ_SER_JSON;
    return c;
}

rmq_cmd *cmd_new_response(const rmq_cmd *req, int32_t code, const char *remark)
{
    rmq_cmd *c = cmd_new_request(code);
    c->flag = RMQ_FLAG_RESPONSE;
    if (req) {
        c->opaque = req->opaque;
        c->serialize = req->serialize;
        c->req_code = req->code;
        c->req_mono_ms = req->req_mono_ms;
    }
    c->remark = xstrdup(remark);
    return c;
}

rmq_cmd *cmd_new_responsef(const rmq_cmd *req, int32_t code, const char *fmt, ...)
{
    rmq_cmd *c = cmd_new_response(req, code, NULL);
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&c->remark, fmt, ap) < 0) abort();
    va_end(ap);
    return c;
}

/* Set by the dispatcher (conn.c) that marks requests held; command.c alone (the tools
 * link it without the server side) never sees one. */
void (*_Atomic cmd_held_release)(int32_t code);

void cmd_free(rmq_cmd *c)
{
    if (!c) return;
    if (c->held) {
        void (*release)(int32_t) = atomic_load_explicit(&cmd_held_release, memory_order_relaxed);
        if (release) release(c->code);
    }
    strs_free(&c->strs);
    free(c->ext);
    free(c->remark);
    if (!c->body_borrowed) free(c->body);
    free(c->frame);
    if (c->body_buf) evbuffer_free(c->body_buf);
    free(c);
}

void cmd_set_remark(rmq_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) abort();
    va_end(ap);
    free(c->remark);
    c->remark = s;
}

void cmd_set_code(rmq_cmd *c, int32_t code, const char *remark)
{
    c->code = code;
    free(c->remark);
    c->remark = xstrdup(remark);
}

void cmd_set_body(rmq_cmd *c, const void *data, size_t len)
{
    void *copy = NULL;
    if (len) {
        copy = xmalloc(len);
        memcpy(copy, data, len);
    }
    cmd_take_body(c, copy, len);
}

void cmd_take_body(rmq_cmd *c, void *data, size_t len)
{
    if (!c->body_borrowed) free(c->body);
    c->body_borrowed = false;
    c->body = data;
    c->body_len = data ? len : 0;
}

struct evbuffer *cmd_body_buf(rmq_cmd *c)
{
    if (!c->body_buf) c->body_buf = evbuffer_new();
    return c->body_buf;
}

size_t cmd_total_body_len(const rmq_cmd *c)
{
    return c->body_len + (c->body_buf ? evbuffer_get_length(c->body_buf) : 0);
}

static rmq_ext_field *ext_find(const rmq_cmd *c, const char *key)
{
    if (!(c->ext_letters & 1ull << (key[0] & 63))) return NULL;
    for (int i = 0; i < c->n_ext; i++)
        if (c->ext[i].key[0] == key[0] && strcmp(c->ext[i].key, key) == 0) return &c->ext[i];
    return NULL;
}

const char *cmd_ext_get(const rmq_cmd *c, const char *key)
{
    rmq_ext_field *f = ext_find(c, key);
    return f ? f->val : NULL;
}

/* A new last field (the caller checked the key is not there). */
static void ext_append(rmq_cmd *c, char *key, char *val)
{
    if (c->n_ext == c->cap_ext) {
        c->cap_ext = c->cap_ext ? c->cap_ext * 2 : 16;
        c->ext = xrealloc(c->ext, (size_t)c->cap_ext * sizeof *c->ext);
    }
    c->ext_letters |= 1ull << (key[0] & 63);
    c->ext[c->n_ext].key = key;
    c->ext[c->n_ext].val = val;
    c->n_ext++;
}

void cmd_ext_set(rmq_cmd *c, const char *key, const char *val)
{
    if (!val) {
        cmd_ext_remove(c, key);
        return;
    }
    rmq_ext_field *f = ext_find(c, key);
    if (f) {
        f->val = strs_dup(&c->strs, val, strlen(val));
        return;
    }
    ext_append(c, strs_dup(&c->strs, key, strlen(key)), strs_dup(&c->strs, val, strlen(val)));
}

void cmd_ext_put(rmq_cmd *c, const char *key, const char *val)
{
    /* ext strings are never written through once set: the casts only fit the struct */
    rmq_ext_field *f = ext_find(c, key);
    if (f) f->val = (char *)val;
    else ext_append(c, (char *)key, (char *)val);
}

void cmd_ext_declare(rmq_cmd *c)
{
    if (!c->ext) {
        c->cap_ext = 16;
        c->ext = xmalloc((size_t)c->cap_ext * sizeof *c->ext);
    }
}

void cmd_ext_set_int(rmq_cmd *c, const char *key, int64_t val)
{
    char buf[24];
    fmt_int64(buf, val);
    cmd_ext_set(c, key, buf);
}

void cmd_ext_set_bool(rmq_cmd *c, const char *key, bool val)
{
    cmd_ext_set(c, key, val ? "true" : "false");
}

void cmd_ext_remove(rmq_cmd *c, const char *key)
{
    rmq_ext_field *f = ext_find(c, key);
    if (!f) return;
    int i = (int)(f - c->ext);
    memmove(&c->ext[i], &c->ext[i + 1], (size_t)(c->n_ext - i - 1) * sizeof *c->ext);
    c->n_ext--;
}

int cmd_ext_int64(const rmq_cmd *c, const char *key, int64_t *out)
{
    const char *v = cmd_ext_get(c, key);
    if (!v) return EXT_MISSING;
    return parse_int64(v, out) == RMQ_OK ? EXT_OK : EXT_MALFORMED;
}

int cmd_ext_int32(const rmq_cmd *c, const char *key, int32_t *out)
{
    const char *v = cmd_ext_get(c, key);
    if (!v) return EXT_MISSING;
    return parse_int32(v, out) == RMQ_OK ? EXT_OK : EXT_MALFORMED;
}

int cmd_ext_bool(const rmq_cmd *c, const char *key, bool *out)
{
    const char *v = cmd_ext_get(c, key);
    if (!v) return EXT_MISSING;
    *out = parse_java_bool(v); /* Boolean.parseBoolean never fails */
    return EXT_OK;
}

int cmd_decode_header_values(const char *const *vals, const hdr_field *fields, size_t n_fields, void *out,
                             char *err, size_t errlen)
{
    /* Java's RemotingCommandException text, which Apache returns as the remark. */
    static const char *const exc = "org.apache.rocketmq.remoting.exception.RemotingCommandException";
    for (size_t i = 0; i < n_fields; i++) {
        const hdr_field *f = &fields[i];
        char *dst = (char *)out + f->offset;
        const char *v = vals[i];
        if (!v) {
            if (f->required) {
                snprintf(err, errlen, "%s: the custom field <%s> is null", exc, f->name);
                return RMQ_ERR;
            }
            continue;
        }
        int rc = RMQ_OK;
        switch (f->type) {
        case HDR_STR: *(const char **)dst = v; break;
        case HDR_I32: rc = parse_int32(v, (int32_t *)dst); break;
        case HDR_I64: rc = parse_int64(v, (int64_t *)dst); break;
        case HDR_BOOL: *(bool *)dst = parse_java_bool(v); break;
        }
        if (rc != RMQ_OK) {
            snprintf(err, errlen, "%s: the custom field <%s> is malformed: %.64s", exc, f->name, v);
            return RMQ_ERR;
        }
    }
    return RMQ_OK;
}

int cmd_decode_header(const rmq_cmd *c, const hdr_field *fields, size_t n_fields,
                      void *out, char *err, size_t errlen)
{
    const char *vals[64];
    if (n_fields > sizeof vals / sizeof vals[0]) abort();   /* header classes have a dozen */
    for (size_t i = 0; i < n_fields; i++) vals[i] = cmd_ext_get(c, fields[i].name);
    return cmd_decode_header_values(vals, fields, n_fields, out, err, errlen);
}
