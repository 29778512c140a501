/*
 * Frame codec: JSON and ROCKETMQ binary headers (RemotingCommand.encode/decode,
 * RocketMQSerializable). Decoding never trusts a length it has not bounded.
 */
#include "remoting.h"

#include <errno.h>
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
    bool on_stack;             /* p is the caller's buffer: copied to the heap when outgrown */
} sbuf;

static inline void sb_need(sbuf *b, size_t n)
{
    if (b->len + n <= b->cap) return;
    while (b->len + n > b->cap) b->cap = b->cap ? b->cap * 2 : 512;
    if (b->on_stack) {
        uint8_t *heap = xmalloc(b->cap);
        memcpy(heap, b->p, b->len);
        b->p = heap;
        b->on_stack = false;
    } else {
        b->p = xrealloc(b->p, b->cap);
    }
}

static inline void sb_add(sbuf *b, const void *d, size_t n)
{
    sb_need(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_int(sbuf *b, int64_t v)
{
    char tmp[24];
    sb_add(b, tmp, fmt_int64(tmp, v));
}

/* JSON string as fastjson writes it: UTF-8 raw, quotes/backslash/controls escaped.
 * Written straight into room for the worst case (every byte \u00XX): header strings
 * are short, and a call per run of plain bytes cost more than the bytes. */
static void sb_json_string(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t n = strlen(s);
    sb_need(b, 6 * n + 2);
    uint8_t *o = b->p + b->len;
    *o++ = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (; p < end; p++) {
        /* eight bytes at a time while none is a control, a quote or a backslash (the
         * zero-byte test; a false alarm only sends a word through the byte loop) */
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
            if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs) break;
            memcpy(o, p, 8);
            o += 8;
            p += 8;
        }
        if (p >= end) break;
        unsigned char ch = *p;
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *o++ = ch;
            continue;
        }
        *o++ = '\\';
        switch (ch) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (uint8_t)hex[ch >> 4];
            *o++ = (uint8_t)hex[ch & 15];
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

/* fastjson orders properties by name: code, extFields, flag, language, opaque,
 * remark, serializeTypeCurrentRPC, version. extFields keep insertion order. */
static void encode_json_header(const rmq_cmd *c, sbuf *b)
{
    sb_str(b, "{\"code\":");
    sb_int(b, c->code);
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
    sb_str(b, ",\"flag\":");
    sb_int(b, c->flag);
    sb_str(b, ",\"language\":");
    sb_json_string(b, language_name(c->language < 0 ? RMQ_LANGUAGE_JAVA : c->language));
    sb_str(b, ",\"opaque\":");
    sb_int(b, c->opaque);
    if (c->remark) {
        sb_str(b, ",\"remark\":");
        sb_json_string(b, c->remark);
    }
    sb_str(b, c->serialize == RMQ_SER_ROCKETMQ ? ",\"serializeTypeCurrentRPC\":\"ROCKETMQ\""
                                                : ",\"serializeTypeCurrentRPC\":\"JSON\"");
    sb_str(b, ",\"version\":");
    sb_int(b, c->version);
    sb_add(b, "}", 1);
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
    /* length, serialize type + header length, header: built in one buffer (on the
     * stack for the usual header) and added to the output at once */
    uint8_t stack[1024];
    sbuf b = {stack, 8, sizeof stack, true};
    if (c->serialize == RMQ_SER_ROCKETMQ) encode_binary_header(c, &b);
    else encode_json_header(c, &b);
    size_t hlen = b.len - 8;
    size_t body = cmd_total_body_len(c);
    put_be32(b.p, (uint32_t)(4 + hlen + body));
    put_be32(b.p + 4, (uint32_t)((c->serialize & 0xFF) << 24 | (hlen & 0xFFFFFF)));
    evbuffer_add(out, b.p, b.len);
    if (!b.on_stack) free(b.p);
    if (c->body_len) evbuffer_add(out, c->body, c->body_len);
    if (c->body_buf) evbuffer_add_buffer(out, c->body_buf);
}

/* ---- decoding ---- */

/*
 * JSON header reader. A request header is one flat object whose extFields hold
 * scalars; it is read straight from the frame (no tree, no allocation per member:
 * a request used to cost ~60 allocations and half the broker's instructions in
 * cJSON). It accepts what cJSON accepted: any valid JSON text whose top level is an
 * object, trailing bytes ignored, nesting up to 1000 levels in members it skips.
 */

typedef struct jreader {
    char *p, *end;                     /* the command's own copy of the header: written in place */
} jreader;

enum jtype { J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL, J_OBJ, J_ARR };

typedef struct jnum {
    bool integral;                     /* fits int64 exactly: i; else only d */
    int64_t i;
    double d;
} jnum;

/* Whitespace as cJSON skips it: every byte up to and including the space. */
static void j_ws(jreader *r)
{
    while (r->p < r->end && (unsigned char)*r->p <= ' ') r->p++;
}

static bool j_eat(jreader *r, char ch)
{
    j_ws(r);
    if (r->p < r->end && *r->p == ch) {
        r->p++;
        return true;
    }
    return false;
}

/* cJSON's parse_hex4: an invalid digit makes the whole value 0. */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9') v |= (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') v |= (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') v |= (unsigned)(ch - 'A' + 10);
        else return 0;
    }
    return v;
}

/* \uXXXX (a surrogate pair when it is one) as UTF-8, as cJSON decodes it, written at *o;
 * p is at the backslash, close at the string's closing quote. The UTF-8 (at most 3 bytes
 * for 6 of escape, 4 for a pair's 12) never reaches bytes not yet read, and *o <= *p. */
static int j_unicode(char **p, const char *close, char **o)
{
    if (close - *p < 6) return RMQ_ERR;
    unsigned cp = hex4(*p + 2), lo;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return RMQ_ERR;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        const char *second = *p + 6;
        if (close - second < 6 || second[0] != '\\' || second[1] != 'u') return RMQ_ERR;
        lo = hex4(second + 2);
        if (lo < 0xDC00 || lo > 0xDFFF) return RMQ_ERR;
        cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
        *p += 12;
    } else {
        *p += 6;
    }
    char *w = *o;
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xC0 | cp >> 6);
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xE0 | cp >> 12);
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *w++ = (char)(0xF0 | cp >> 18);
        *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *w++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = w;
    return RMQ_OK;
}

/* The first '"' or '\\' in [p, end), or end: eight bytes at a time while no byte of the
 * word is one of them (the zero-byte test on the word xor each). */
static inline char *j_plain_run(char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t quotes = ones * (unsigned char)'"', slashes = ones * (unsigned char)'\\';
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ quotes, b = x ^ slashes;
        if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs) break;
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\') p++;
    return p;
}

/* A string at r->p (the opening quote), unescaped in place and NUL-terminated there
 * (the text only shrinks; the NUL lands at the latest on the closing quote): *s is its
 * start. With s NULL it is only checked (and may be left garbled: nothing reads it).
 * As cJSON: the closing quote is the first one not after a backslash, then the escapes
 * between are decoded. */
static int j_string(jreader *r, char **s)
{
    char *start = r->p + 1, *close = j_plain_run(start, r->end);
    /* Most strings (every key, most values) have no escape: the bytes up to the quote. */
    if (close < r->end && *close == '"') {
        r->p = close + 1;
        if (s) {
            *close = 0;
            *s = start;
        }
        return RMQ_OK;
    }
    char *first = close;               /* the first backslash (or end) */
    for (;;) {
        if (close >= r->end) return RMQ_ERR;
        if (*close == '"') break;
        close += 2;                    /* the backslash and the byte it escapes */
        if (close > r->end) return RMQ_ERR;
        close = j_plain_run(close, r->end);
    }
    r->p = close + 1;
    /* Escapes come often in a message's properties (\u0001 and \u0002 separate them):
     * plain bytes are moved down one at a time, the runs between are short. */
    char *p = first, *o = first;
    while (p < close) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char ch;
        switch (p[1]) {
        case '"': case '\\': case '/': ch = p[1]; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u':
            if (j_unicode(&p, close, &o)) return RMQ_ERR;
            continue;
        default: return RMQ_ERR;
        }
        p += 2;
        *o++ = ch;
    }
    *o = 0;
    if (s) *s = start;
    return RMQ_OK;
}

/* As cJSON reads a number: the run of number characters, through strtod. */
static int j_number(jreader *r, jnum *n)
{
    /* The usual case first: -?[0-9]{1,18} not followed by another number character is
     * exactly an int64, and (double) of it rounds as strtod does. */
    char *q = r->p + (r->p < r->end && *r->p == '-');
    const char *digits = q;
    uint64_t u = 0;
    while (q < r->end && q - digits < 19 && *q >= '0' && *q <= '9') u = u * 10 + (uint64_t)(*q++ - '0');
    if (q > digits && q - digits <= 18 && (q == r->end || !strchr("0123456789+-.eE", *q) || !*q)) {
        n->i = digits > r->p ? -(int64_t)u : (int64_t)u;
        n->d = (double)n->i;
        n->integral = true;
        r->p = q;
        return RMQ_OK;
    }
    char tmp[64];
    size_t len = 0;
    bool plain = true;                 /* -?[0-9]+ */
    while (r->p + len < r->end && strchr("0123456789+-.eE", r->p[len]) && r->p[len]) {
        char ch = r->p[len];
        if (!(ch >= '0' && ch <= '9') && !(ch == '-' && len == 0)) plain = false;
        if (++len >= sizeof tmp) return RMQ_ERR;
    }
    memcpy(tmp, r->p, len);
    tmp[len] = 0;
    char *endp;
    n->d = strtod(tmp, &endp);
    if (endp == tmp) return RMQ_ERR;
    r->p += endp - tmp;
    n->integral = false;
    if (plain && endp == tmp + len) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (!errno) {
            n->integral = true;
            n->i = v;
        }
    }
    if (!n->integral && isfinite(n->d) && n->d == floor(n->d) && fabs(n->d) <= 9.2e18) {
        n->integral = true;
        n->i = (int64_t)n->d;
    }
    return RMQ_OK;
}

static bool j_literal(jreader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return false;
    r->p += n;
    return true;
}

static int j_skip(jreader *r, int depth);

/* The value at r->p: scalars are read (strings into t, numbers into n), an object
 * or array is left at its opening bracket for the caller. */
static int j_value(jreader *r, enum jtype *type, char **t, jnum *n)
{
    j_ws(r);
    if (r->p >= r->end) return RMQ_ERR;
    char ch = *r->p;
    if (ch == '"') {
        *type = J_STR;
        return j_string(r, t);
    }
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        *type = J_NUM;
        jnum scratch;
        return j_number(r, n ? n : &scratch);
    }
    if (ch == '{' || ch == '[') {
        *type = ch == '{' ? J_OBJ : J_ARR;
        return RMQ_OK;
    }
    if (j_literal(r, "true")) *type = J_TRUE;
    else if (j_literal(r, "false")) *type = J_FALSE;
    else if (j_literal(r, "null")) *type = J_NULL;
    else return RMQ_ERR;
    return RMQ_OK;
}

/* Checks and passes any value (objects and arrays up to cJSON's nesting limit). */
static int j_skip(jreader *r, int depth)
{
    enum jtype type;
    if (j_value(r, &type, NULL, NULL)) return RMQ_ERR;
    if (type != J_OBJ && type != J_ARR) return RMQ_OK;
    if (depth >= 1000) return RMQ_ERR;
    char close = type == J_OBJ ? '}' : ']';
    r->p++;
    if (j_eat(r, close)) return RMQ_OK;
    do {
        if (type == J_OBJ) {
            j_ws(r);
            if (r->p >= r->end || *r->p != '"' || j_string(r, NULL) || !j_eat(r, ':')) return RMQ_ERR;
        }
        if (j_skip(r, depth + 1)) return RMQ_ERR;
    } while (j_eat(r, ','));
    return j_eat(r, close) ? RMQ_OK : RMQ_ERR;
}

/* An int header field: a number with an integral value or a numeric string (fastjson). */
static int j_int_field(enum jtype type, const char *t, const jnum *n, int64_t *out)
{
    if (type == J_NUM) {
        if (!n->integral) return RMQ_ERR;
        *out = n->i;
        return RMQ_OK;
    }
    return type == J_STR ? parse_int64(t, out) : RMQ_ERR;
}

/* key and a string value stay where they are, in the command's frame. */
static void ext_set_scalar(rmq_cmd *c, char *key, enum jtype type, char *t, const jnum *n)
{
    char num[64];
    size_t len;
    switch (type) {
    case J_STR: cmd_ext_put(c, key, t); return;
    case J_TRUE: cmd_ext_put(c, key, strs_dup(&c->strs, "true", 4)); return;
    case J_FALSE: cmd_ext_put(c, key, strs_dup(&c->strs, "false", 5)); return;
    case J_NUM:
        if (n->integral) len = fmt_int64(num, n->i);
        else len = (size_t)snprintf(num, sizeof num, "%.17g", n->d);
        cmd_ext_put(c, key, strs_dup(&c->strs, num, len));
        return;
    default: return;
    }
}

/* extFields at its '{': every scalar member in order (a repeated key keeps the last value). */
static int j_ext_fields(jreader *r, rmq_cmd *c, const char **bad)
{
    r->p++;
    if (j_eat(r, '}')) return RMQ_OK;
    do {
        enum jtype type;
        jnum n;
        char *key, *val = NULL;
        j_ws(r);
        if (r->p >= r->end || *r->p != '"' || j_string(r, &key) || !j_eat(r, ':')) return RMQ_ERR;
        if (j_value(r, &type, &val, &n)) return RMQ_ERR;
        if (type == J_OBJ || type == J_ARR) {
            /* All Java clients send strings; some (ali-ons) send bare numbers and booleans. */
            if (!*bad) *bad = "extFields value is not a scalar";
            if (j_skip(r, 2)) return RMQ_ERR;
        } else if (!*bad) {
            ext_set_scalar(c, key, type, val, &n);
        }
    } while (j_eat(r, ','));
    return j_eat(r, '}') ? RMQ_OK : RMQ_ERR;
}

enum { H_CODE, H_VERSION, H_OPAQUE, H_FLAG, H_LANGUAGE, H_REMARK, H_EXT, H_COUNT };
static const char *const header_names[H_COUNT] = {"code", "version", "opaque", "flag",
                                                  "language", "remark", "extFields"};

/* Which of header_names key is (their first letters differ), or H_COUNT. */
static int header_name(const char *key)
{
    int h;
    switch (key[0]) {
    case 'c': h = H_CODE; break;
    case 'v': h = H_VERSION; break;
    case 'o': h = H_OPAQUE; break;
    case 'f': h = H_FLAG; break;
    case 'l': h = H_LANGUAGE; break;
    case 'r': h = H_REMARK; break;
    case 'e': h = H_EXT; break;
    default: return H_COUNT;
    }
    return strcmp(key, header_names[h]) == 0 ? h : H_COUNT;
}

/* The object's members; the first of a repeated name counts (as cJSON's lookup). */
static int j_header(jreader *r, rmq_cmd *c, const char **err)
{
    bool seen[H_COUNT] = {0};
    int64_t ints[H_FLAG + 1];
    bool int_bad[H_FLAG + 1] = {0}, int_null[H_FLAG + 1] = {0};
    const char *ext_err = NULL;
    if (!j_eat(r, '{')) return RMQ_ERR;
    if (!j_eat(r, '}')) {
        do {
            char *key, *val = NULL;
            j_ws(r);
            if (r->p >= r->end || *r->p != '"' || j_string(r, &key) || !j_eat(r, ':')) return RMQ_ERR;
            int h = header_name(key);
            if (h == H_COUNT || seen[h]) {
                if (j_skip(r, 1)) return RMQ_ERR;
                continue;
            }
            seen[h] = true;
            enum jtype type;
            jnum n;
            if (j_value(r, &type, &val, &n)) return RMQ_ERR;
            if (type == J_OBJ || type == J_ARR) {
                if (h == H_EXT && type == J_OBJ) {
                    if (j_ext_fields(r, c, &ext_err)) return RMQ_ERR;
                    continue;
                }
                if (h == H_EXT) ext_err = "extFields is not an object";
                if (h <= H_FLAG) int_bad[h] = true;
                if (j_skip(r, 1)) return RMQ_ERR;
                continue;
            }
            if (h <= H_FLAG) {
                int_null[h] = type == J_NULL;
                int_bad[h] = !int_null[h] && (j_int_field(type, val, &n, &ints[h]) || ints[h] < INT32_MIN ||
                                              ints[h] > INT32_MAX);
            } else if (h == H_LANGUAGE) {
                int64_t v;
                if (type == J_STR) c->language = language_from_name(val);
                else if (j_int_field(type, val, &n, &v) == RMQ_OK) c->language = (v >= 0 && v < 64) ? (int)v : -1;
            } else if (h == H_REMARK) {
                if (type == J_STR) c->remark = xstrdup(val);
            } else if (type != J_NULL) {
                ext_err = "extFields is not an object";
            }
        } while (j_eat(r, ','));
        if (!j_eat(r, '}')) return RMQ_ERR;
    }
    /* The same checks, in the same order, as when the header was read into a tree. */
    if (!seen[H_CODE] || int_null[H_CODE] || int_bad[H_CODE]) {
        *err = "header code missing or not a number";
        return RMQ_ERR;
    }
    c->code = (int32_t)ints[H_CODE];
    int32_t *dst[H_FLAG + 1] = {NULL, &c->version, &c->opaque, &c->flag};
    for (int h = H_VERSION; h <= H_FLAG; h++) {
        if (!seen[h] || int_null[h]) continue;
        if (int_bad[h]) {
            *err = "header field is not a number";
            return RMQ_ERR;
        }
        *dst[h] = (int32_t)ints[h];
    }
    if (ext_err) {
        *err = ext_err;
        return RMQ_ERR;
    }
    return RMQ_OK;
}

static int decode_json_header(rmq_cmd *c, uint8_t *h, size_t len, const char **err)
{
    jreader r = {(char *)h, (char *)h + len};
    if (len >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) r.p += 3; /* a UTF-8 byte order mark, as cJSON skips */
    c->language = RMQ_LANGUAGE_JAVA;
    *err = NULL;
    int rc = j_header(&r, c, err);
    if (rc != RMQ_OK && !*err) *err = "header is not a JSON object";
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
         * (our own encoder writes an empty value with length 0). Copied: the strings
         * are not NUL-terminated in the frame. */
        char *key = strs_dup(&c->strs, k, kl);
        cmd_ext_put(c, key, strs_dup(&c->strs, (const char *)h + pos, vl));
        pos += vl;
    }
    return RMQ_OK;
}

int cmd_decode_owned(uint8_t *frame, size_t len, rmq_cmd **out, const char **err)
{
    *out = NULL;
    if (len < 4) {
        *err = "frame shorter than its header-length word";
        free(frame);
        return RMQ_ERR;
    }
    uint32_t word = get_be32(frame);
    int type = (int)(word >> 24);
    size_t hlen = word & 0xFFFFFF;
    if (hlen > len - 4) {
        *err = "bad header length";
        free(frame);
        return RMQ_ERR;
    }
    if (type != RMQ_SER_JSON && type != RMQ_SER_ROCKETMQ) {
        *err = "unknown serialize type";
        free(frame);
        return RMQ_ERR;
    }
    rmq_cmd *c = xcalloc(1, sizeof *c);
    c->frame = frame;
    c->serialize = type;
    int rc = type == RMQ_SER_JSON ? decode_json_header(c, frame + 4, hlen, err)
                                  : decode_binary_header(c, frame + 4, hlen, err);
    if (rc != RMQ_OK) {
        cmd_free(c);
        return RMQ_ERR;
    }
    size_t blen = len - 4 - hlen;
    if (blen) {
        c->body = frame + 4 + hlen;
        c->body_len = blen;
        c->body_borrowed = true;
    }
    *out = c;
    return RMQ_OK;
}

int cmd_decode(const uint8_t *frame, size_t len, rmq_cmd **out, const char **err)
{
    uint8_t *copy = xmalloc(len ? len : 1);
    if (len) memcpy(copy, frame, len);
    return cmd_decode_owned(copy, len, out, err);
}
