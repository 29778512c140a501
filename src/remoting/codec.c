/*
 * Frame codec: JSON and ROCKETMQ binary headers (RemotingCommand.encode/decode,
 * RocketMQSerializable). Decoding never trusts a length it has not bounded.
 */
#include "remoting.h"

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* ---- a tiny growable byte buffer for header encoding ---- */

typedef struct sbuf {
    uint8_t *p;
    size_t len, cap;
} sbuf;

static void sb_need(sbuf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    while (b->len + n > b->cap) b->cap = b->cap ? b->cap * 2 : 256;
    b->p = xrealloc(b->p, b->cap);
}

static void sb_add(sbuf *b, const void *d, size_t n)
{
    sb_need(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    sb_add(b, tmp, (size_t)n);
}

/* JSON string as fastjson writes it: UTF-8 raw, quotes/backslash/controls escaped. */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_str(b, "\\\""); break;
        case '\\': sb_str(b, "\\\\"); break;
        case '\n': sb_str(b, "\\n"); break;
        case '\r': sb_str(b, "\\r"); break;
        case '\t': sb_str(b, "\\t"); break;
        case '\b': sb_str(b, "\\b"); break;
        case '\f': sb_str(b, "\\f"); break;
        default:
            if (*p < 0x20) sb_printf(b, "\\u%04llx", *p);
            else sb_add(b, p, 1);
        }
    }
    sb_add(b, "\"", 1);
}

/* fastjson orders properties by name: code, extFields, flag, language, opaque,
 * remark, serializeTypeCurrentRPC, version. extFields keep insertion order. */
static void encode_json_header(const rmq_cmd *c, sbuf *b)
{
    sb_printf(b, "{\"code\":%lld", c->code);
    if (c->ext) { /* present, possibly empty: responses with a header class carry {} */
        sb_str(b, ",\"extFields\":{");
        for (int i = 0; i < c->n_ext; i++) {
            if (i) sb_add(b, ",", 1);
            sb_json_string(b, c->ext[i].key);
            sb_add(b, ":", 1);
            sb_json_string(b, c->ext[i].val);
        }
        sb_add(b, "}", 1);
    }
    sb_printf(b, ",\"flag\":%lld", c->flag);
    sb_str(b, ",\"language\":");
    sb_json_string(b, language_name(c->language < 0 ? RMQ_LANGUAGE_JAVA : c->language));
    sb_printf(b, ",\"opaque\":%lld", c->opaque);
    if (c->remark) {
        sb_str(b, ",\"remark\":");
        sb_json_string(b, c->remark);
    }
    sb_str(b, c->serialize == RMQ_SER_ROCKETMQ ? ",\"serializeTypeCurrentRPC\":\"ROCKETMQ\""
                                                : ",\"serializeTypeCurrentRPC\":\"JSON\"");
    sb_printf(b, ",\"version\":%lld}", c->version);
}

static void encode_binary_header(const rmq_cmd *c, sbuf *b)
{
    uint8_t fixed[17];
    put_be16(fixed, (uint16_t)c->code);
    fixed[2] = (uint8_t)(c->language < 0 ? RMQ_LANGUAGE_JAVA : c->language);
    put_be16(fixed + 3, (uint16_t)c->version);
    put_be32(fixed + 5, (uint32_t)c->opaque);
    put_be32(fixed + 9, (uint32_t)c->flag);
    size_t rlen = c->remark ? strlen(c->remark) : 0;
    put_be32(fixed + 13, (uint32_t)rlen);
    sb_add(b, fixed, sizeof fixed);
    if (rlen) sb_add(b, c->remark, rlen);
    size_t ext_len = 0;
    for (int i = 0; i < c->n_ext; i++)
        ext_len += 2 + strlen(c->ext[i].key) + 4 + strlen(c->ext[i].val);
    uint8_t w[4];
    put_be32(w, (uint32_t)ext_len);
    sb_add(b, w, 4);
    for (int i = 0; i < c->n_ext; i++) {
        size_t kl = strlen(c->ext[i].key), vl = strlen(c->ext[i].val);
        put_be16(w, (uint16_t)kl);
        sb_add(b, w, 2);
        sb_add(b, c->ext[i].key, kl);
        put_be32(w, (uint32_t)vl);
        sb_add(b, w, 4);
        sb_add(b, c->ext[i].val, vl);
    }
}

uint8_t *cmd_encode_header(const rmq_cmd *c, size_t *len)
{
    sbuf b = {0};
    if (c->serialize == RMQ_SER_ROCKETMQ) encode_binary_header(c, &b);
    else encode_json_header(c, &b);
    *len = b.len;
    return b.p;
}

void cmd_encode_into(rmq_cmd *c, struct evbuffer *out)
{
    size_t hlen;
    uint8_t *hdr = cmd_encode_header(c, &hlen);
    uint8_t pre[8];
    size_t body = cmd_total_body_len(c);
    put_be32(pre, (uint32_t)(4 + hlen + body));
    put_be32(pre + 4, (uint32_t)((c->serialize & 0xFF) << 24 | (hlen & 0xFFFFFF)));
    evbuffer_add(out, pre, 8);
    evbuffer_add(out, hdr, hlen);
    free(hdr);
    if (c->body_len) evbuffer_add(out, c->body, c->body_len);
    if (c->body_buf) evbuffer_add_buffer(out, c->body_buf);
}

/* ---- decoding ---- */

/* fastjson accepts a number or a numeric string for an int field. */
static int json_int(const cJSON *it, int64_t *out)
{
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (!isfinite(d) || d != floor(d) || fabs(d) > 9.2e18) return RMQ_ERR;
        *out = (int64_t)d;
        return RMQ_OK;
    }
    if (cJSON_IsString(it)) return parse_int64(it->valuestring, out);
    return RMQ_ERR;
}

static int decode_json_header(rmq_cmd *c, const uint8_t *h, size_t len, const char **err)
{
    cJSON *root = cJSON_ParseWithLength((const char *)h, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *err = "header is not a JSON object";
        return RMQ_ERR;
    }
    int rc = RMQ_ERR;
    int64_t v;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (!it || json_int(it, &v) || v < INT32_MIN || v > INT32_MAX) {
        *err = "header code missing or not a number";
        goto out;
    }
    c->code = (int32_t)v;
    struct { const char *name; int32_t *dst; } ints[] = {
        {"version", &c->version}, {"opaque", &c->opaque}, {"flag", &c->flag},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        it = cJSON_GetObjectItemCaseSensitive(root, ints[i].name);
        if (!it || cJSON_IsNull(it)) continue;
        if (json_int(it, &v) || v < INT32_MIN || v > INT32_MAX) {
            *err = "header field is not a number";
            goto out;
        }
        *ints[i].dst = (int32_t)v;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "language");
    c->language = RMQ_LANGUAGE_JAVA;
    if (cJSON_IsString(it)) c->language = language_from_name(it->valuestring);
    else if (it && json_int(it, &v) == RMQ_OK) c->language = (v >= 0 && v < 64) ? (int)v : -1;
    it = cJSON_GetObjectItemCaseSensitive(root, "remark");
    if (cJSON_IsString(it)) c->remark = xstrdup(it->valuestring);
    it = cJSON_GetObjectItemCaseSensitive(root, "extFields");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsObject(it)) {
            *err = "extFields is not an object";
            goto out;
        }
        const cJSON *f;
        cJSON_ArrayForEach(f, it) {
            char num[64];
            /* All Java clients send strings; some (ali-ons) send bare numbers and booleans. */
            if (cJSON_IsString(f)) cmd_ext_set(c, f->string, f->valuestring);
            else if (cJSON_IsBool(f)) cmd_ext_set(c, f->string, cJSON_IsTrue(f) ? "true" : "false");
            else if (cJSON_IsNumber(f)) {
                if (json_int(f, &v) == RMQ_OK) snprintf(num, sizeof num, "%lld", (long long)v);
                else snprintf(num, sizeof num, "%.17g", f->valuedouble);
                cmd_ext_set(c, f->string, num);
            } else if (!cJSON_IsNull(f)) {
                *err = "extFields value is not a scalar";
                goto out;
            }
        }
    }
    rc = RMQ_OK;
out:
    cJSON_Delete(root);
    return rc;
}

/* Reads a length-prefixed string; len 0 means absent (Java decodes it as null). */
static int read_str(const uint8_t *h, size_t len, size_t *pos, size_t slen, char **out)
{
    if (slen > len - *pos) return RMQ_ERR;
    *out = slen ? xstrndup((const char *)h + *pos, slen) : NULL;
    *pos += slen;
    return RMQ_OK;
}

static int decode_binary_header(rmq_cmd *c, const uint8_t *h, size_t len, const char **err)
{
    *err = "binary header truncated";
    if (len < 21) return RMQ_ERR;
    c->code = (int16_t)get_be16(h);
    c->language = h[2];
    c->version = (int16_t)get_be16(h + 3);
    c->opaque = (int32_t)get_be32(h + 5);
    c->flag = (int32_t)get_be32(h + 9);
    size_t pos = 13;
    uint32_t rlen = get_be32(h + pos);
    pos += 4;
    if (read_str(h, len, &pos, rlen, &c->remark)) return RMQ_ERR;
    if (len - pos < 4) return RMQ_ERR;
    uint32_t ext_len = get_be32(h + pos);
    pos += 4;
    if (ext_len > len - pos) return RMQ_ERR;
    size_t end = pos + ext_len;
    while (pos < end) {
        if (end - pos < 2) return RMQ_ERR;
        size_t kl = get_be16(h + pos);
        pos += 2;
        if (kl > end - pos) return RMQ_ERR;
        const char *k = (const char *)h + pos;
        pos += kl;
        if (end - pos < 4) return RMQ_ERR;
        uint32_t vl = get_be32(h + pos);
        pos += 4;
        if (vl > end - pos) return RMQ_ERR;
        /* Every pair counts, empty ones too, as in RocketMQSerializable.mapDeserialize
         * (our own encoder writes an empty value with length 0). */
        char *key = xstrndup(k, kl), *val = xstrndup((const char *)h + pos, vl);
        cmd_ext_set(c, key, val);
        free(key);
        free(val);
        pos += vl;
    }
    return RMQ_OK;
}

int cmd_decode(const uint8_t *frame, size_t len, rmq_cmd **out, const char **err)
{
    *out = NULL;
    if (len < 4) {
        *err = "frame shorter than its header-length word";
        return RMQ_ERR;
    }
    uint32_t word = get_be32(frame);
    int type = (int)(word >> 24);
    size_t hlen = word & 0xFFFFFF;
    if (hlen > len - 4) {
        *err = "bad header length";
        return RMQ_ERR;
    }
    if (type != RMQ_SER_JSON && type != RMQ_SER_ROCKETMQ) {
        *err = "unknown serialize type";
        return RMQ_ERR;
    }
    rmq_cmd *c = xcalloc(1, sizeof *c);
    c->serialize = type;
    int rc = type == RMQ_SER_JSON ? decode_json_header(c, frame + 4, hlen, err)
                                  : decode_binary_header(c, frame + 4, hlen, err);
    if (rc != RMQ_OK) {
        cmd_free(c);
        return RMQ_ERR;
    }
    size_t blen = len - 4 - hlen;
    if (blen) cmd_set_body(c, frame + 4 + hlen, blen);
    *out = c;
    return RMQ_OK;
}
