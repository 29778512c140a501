/*
 * fjson: fastjson-compatible JSON writing (see fjson.h): compact, pretty and standard
 * forms, fastjson's escapes and number formats.
 */
#include "common/fjson.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
static void reserve(fjson_writer *w, size_t n)
{
    if (w->len + n + 1 <= w->cap) return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n + 1) cap *= 2;
    w->buf = xrealloc(w->buf, cap);
    w->cap = cap;
}

static void put(fjson_writer *w, const char *s, size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void put_char(fjson_writer *w, char c) { put(w, &c, 1); }

static void newline(fjson_writer *w, int indent)
{
    reserve(w, (size_t)indent + 1);
    w->buf[w->len++] = '\n';
    memset(w->buf + w->len, '\t', (size_t)indent);
    w->len += (size_t)indent;
    w->buf[w->len] = 0;
}

void fjson_writer_init(fjson_writer *w, unsigned flags)
{
    w->buf = NULL;
    w->len = w->cap = 0;
    w->flags = flags;
    w->depth = 0;
}

char *fjson_writer_finish(fjson_writer *w, size_t *len)
{
    if (w->depth != 0) abort();   /* unclosed object or array */
    char *out = w->buf ? w->buf : xstrdup("");
    if (len) *len = w->len;
    fjson_writer_init(w, w->flags);
    return out;
}

void fjson_writer_free(fjson_writer *w)
{
    free(w->buf);
    fjson_writer_init(w, w->flags);
}

/* Every value goes through here: it checks the nesting and places commas. */
static void before_value(fjson_writer *w)
{
    if (w->depth == 0) {
        if (w->len) abort();   /* a document holds one value */
        return;
    }
    struct fjson_level *lv = &w->level[w->depth - 1];
    if (lv->kind == '{') {
        if (!lv->want_value) abort();
        lv->want_value = false;
        return;
    }
    if (lv->has_entries) put_char(w, ',');
    lv->has_entries = true;
}

static void before_key(fjson_writer *w, bool bare)
{
    if (w->depth == 0) abort();
    struct fjson_level *lv = &w->level[w->depth - 1];
    if (lv->kind != '{' || lv->want_value) abort();
    if (lv->has_entries) put_char(w, ',');
    if ((w->flags & FJSON_PRETTY) && !bare) newline(w, w->depth);
    lv->has_entries = true;
    lv->want_value = true;
}

static void begin(fjson_writer *w, char kind)
{
    before_value(w);
    if (w->depth >= FJSON_MAX_DEPTH) abort();
    w->level[w->depth++] = (struct fjson_level){ .kind = kind };
    put_char(w, kind);
}

static void end(fjson_writer *w, char kind)
{
    if (w->depth == 0) abort();
    struct fjson_level *lv = &w->level[w->depth - 1];
    if (lv->kind != kind || lv->want_value) abort();
    w->depth--;
    if (kind == '{' && (w->flags & FJSON_PRETTY) && lv->has_entries) newline(w, w->depth);
    put_char(w, kind == '{' ? '}' : ']');
}

void fjson_begin_object(fjson_writer *w) { begin(w, '{'); }
void fjson_end_object(fjson_writer *w) { end(w, '{'); }
void fjson_begin_array(fjson_writer *w) { begin(w, '['); }
void fjson_end_array(fjson_writer *w) { end(w, '['); }

static void put_u_escape(fjson_writer *w, unsigned unit)
{
    static const char digits[] = "0123456789ABCDEF";
    char e[6] = { '\\', 'u', digits[unit >> 12 & 15], digits[unit >> 8 & 15],
                  digits[unit >> 4 & 15], digits[unit & 15] };
    put(w, e, sizeof e);
}

/* Escape shared by both modes for ASCII: fastjson's short forms, else \uXXXX. */
static bool put_ascii_escape(fjson_writer *w, unsigned char c)
{
    const char *short_form = NULL;
    switch (c) {
    case '"': short_form = "\\\""; break;
    case '\\': short_form = "\\\\"; break;
    case '\b': short_form = "\\b"; break;
    case '\t': short_form = "\\t"; break;
    case '\n': short_form = "\\n"; break;
    case '\f': short_form = "\\f"; break;
    case '\r': short_form = "\\r"; break;
    default:
        if (c >= 0x20 && c != 0x7F) return false;
        put_u_escape(w, c);
        return true;
    }
    put(w, short_form, 2);
    return true;
}

/* Decode one UTF-8 sequence; -1 (and *n = 1) on a malformed byte. */
static long utf8_next(const unsigned char *s, size_t avail, size_t *n)
{
    unsigned char c = s[0];
    int need;
    long cp;
    if (c < 0x80) { *n = 1; return c; }
    if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07; }
    else { *n = 1; return -1; }
    if (avail < (size_t)need + 1) { *n = 1; return -1; }
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) { *n = 1; return -1; }
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *n = (size_t)need + 1;
    return cp;
}

/*
 * SerializeWriter.writeStringWithDoubleQuote. Default mode: UTF-8 passes
 * through except U+007F..U+009F, which fastjson escapes. Standard
 * (BrowserCompatible): '/' and everything from U+007F up escaped as UTF-16
 * units; undecodable bytes become U+FFFD as Java's decoder would make them.
 */
static void put_quoted(fjson_writer *w, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    bool browser = w->flags & FJSON_STANDARD;
    put_char(w, '"');
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '"' && s[run] != '\\' &&
               !(browser && s[run] == '/'))
            run++;
        if (run > i) {
            put(w, str + i, run - i);
            i = run;
            continue;
        }
        if (s[i] < 0x80) {
            if (s[i] == '/') put(w, "\\/", 2);
            else put_ascii_escape(w, s[i]);
            i++;
            continue;
        }
        size_t n;
        long cp = utf8_next(s + i, len - i, &n);
        if (browser) {
            if (cp < 0) cp = 0xFFFD;
            if (cp >= 0x10000) {
                put_u_escape(w, (unsigned)(0xD800 + ((cp - 0x10000) >> 10)));
                put_u_escape(w, (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
            } else {
                put_u_escape(w, (unsigned)cp);
            }
        } else if (cp >= 0x80 && cp <= 0x9F) {
            put_u_escape(w, (unsigned)cp);
        } else {
            put(w, str + i, n);
        }
        i += n;
    }
    put_char(w, '"');
}

void fjson_key(fjson_writer *w, const char *name)
{
    before_key(w, false);
    put_quoted(w, name, strlen(name));
    put_char(w, ':');
}

void fjson_key_int(fjson_writer *w, int64_t key)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, key);
    if (w->flags & FJSON_STANDARD) {
        before_key(w, false);
        put_quoted(w, num, (size_t)n);
    } else {
        before_key(w, true);
        put(w, num, (size_t)n);
    }
    put_char(w, ':');
}

void fjson_key_raw(fjson_writer *w, const char *json)
{
    if (w->flags & FJSON_STANDARD) {
        before_key(w, false);
        put_quoted(w, json, strlen(json));
    } else {
        before_key(w, true);
        put(w, json, strlen(json));
    }
    put_char(w, ':');
}

void fjson_string_len(fjson_writer *w, const char *s, size_t len)
{
    before_value(w);
    put_quoted(w, s, len);
}

void fjson_string(fjson_writer *w, const char *s)
{
    if (!s) {
        fjson_null(w);
        return;
    }
    fjson_string_len(w, s, strlen(s));
}

#define JS_MAX_SAFE_INTEGER 9007199254740991LL

void fjson_int64(fjson_writer *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    before_value(w);
    /* SerializeWriter.writeLong under BrowserCompatible: JS would round these. */
    if ((w->flags & FJSON_STANDARD) && (v > JS_MAX_SAFE_INTEGER || v < -JS_MAX_SAFE_INTEGER))
        put_quoted(w, num, (size_t)n);
    else
        put(w, num, (size_t)n);
}

/*
 * Java's Double.toString layout over the shortest round-trip digits:
 * plain "123.45"/"0.001" for 1e-3 <= |v| < 1e7, else "1.2345E10";
 * always at least one digit after the point.
 */
int fjson_format_double(char *buf, size_t cap, double v)
{
    if (isnan(v)) return snprintf(buf, cap, "NaN");
    if (isinf(v)) return snprintf(buf, cap, v < 0 ? "-Infinity" : "Infinity");
    if (v == 0) return snprintf(buf, cap, signbit(v) ? "-0.0" : "0.0");

    char sci[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v) break;
    }
    /* sci is [-]d[.ddd]e[+-]xx: collect the digits and the exponent. */
    const char *p = sci;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p)) digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;

    char out[48];
    int o = 0;
    if (neg) out[o++] = '-';
    double mag = fabs(v);
    if (mag >= 1e-3 && mag < 1e7) {
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > exp; i--) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp + 1)
                for (int i = exp + 1; i < nd; i++) out[o++] = digits[i];
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = digits[0];
        out[o++] = '.';
        if (nd > 1)
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        else
            out[o++] = '0';
        o += snprintf(out + o, sizeof out - (size_t)o, "E%d", exp);
    }
    out[o] = 0;
    return snprintf(buf, cap, "%s", out);
}

void fjson_double(fjson_writer *w, double v)
{
    if (!isfinite(v)) {   /* SerializeWriter.writeDouble writes null for these */
        fjson_null(w);
        return;
    }
    char num[48];
    int n = fjson_format_double(num, sizeof num, v);
    before_value(w);
    put(w, num, (size_t)n);
}

void fjson_bool(fjson_writer *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void fjson_null(fjson_writer *w)
{
    before_value(w);
    put(w, "null", 4);
}

void fjson_raw(fjson_writer *w, const char *json, size_t len)
{
    before_value(w);
    put(w, json, len);
}

void fjson_item(fjson_writer *w, const cJSON *item)
{
    const cJSON *child;
    int64_t v;
    switch (item->type & 0xFF) {
    case cJSON_Object:
        fjson_begin_object(w);
        cJSON_ArrayForEach(child, item) {
            fjson_key(w, child->string ? child->string : "");
            fjson_item(w, child);
        }
        fjson_end_object(w);
        break;
    case cJSON_Array:
        fjson_begin_array(w);
        cJSON_ArrayForEach(child, item) fjson_item(w, child);
        fjson_end_array(w);
        break;
    case cJSON_String:
        fjson_string(w, item->valuestring);
        break;
    case cJSON_Number:
        /* Integers exactly from their token; other tokens as written. */
        if (item->valuestring && parse_int64(item->valuestring, &v) == RMQ_OK)
            fjson_int64(w, v);
        else if (item->valuestring)
            fjson_raw(w, item->valuestring, strlen(item->valuestring));
        else if (fjson_get_int64(item, &v) && (double)v == item->valuedouble)   /* no token: from the double */
            fjson_int64(w, v);
        else
            fjson_double(w, item->valuedouble);
        break;
    case cJSON_True: fjson_bool(w, true); break;
    case cJSON_False: fjson_bool(w, false); break;
    case cJSON_Raw: fjson_raw(w, item->valuestring, strlen(item->valuestring)); break;
    default: fjson_null(w); break;
    }
}

void fjson_prop_string(fjson_writer *w, const char *name, const char *s)
{
    if (!s) return;
    fjson_key(w, name);
    fjson_string(w, s);
}

void fjson_prop_int64(fjson_writer *w, const char *name, int64_t v)
{
    fjson_key(w, name);
    fjson_int64(w, v);
}

void fjson_prop_double(fjson_writer *w, const char *name, double v)
{
    fjson_key(w, name);
    fjson_double(w, v);
}

void fjson_prop_bool(fjson_writer *w, const char *name, bool v)
{
    fjson_key(w, name);
    fjson_bool(w, v);
}
