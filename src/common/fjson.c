/*
 * fjson: fastjson-compatible JSON reading and typed access (see fjson.h); the writer
 * is in fjson_write.c.
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

/* ======================================================================
 * Reader
 * ====================================================================== */

struct parser {
    const char *p, *end;
    const char *err;
    int depth;
};

static cJSON *parse_value(struct parser *ps);

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\f'))
        ps->p++;
}

static bool fail(struct parser *ps, const char *why)
{
    if (!ps->err) ps->err = why;
    return false;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *ps, const char *at, const char *limit, unsigned *out)
{
    if (limit - at < 4) return fail(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(at[i]);
        if (h < 0) return fail(ps, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

static size_t put_utf8(char *dst, unsigned cp)
{
    if (cp < 0x80) { dst[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12);
        dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18);
    dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * A '...' or "..." string at ps->p into a malloc'd NUL-terminated buffer.
 * Escapes never decode to more bytes than they take, so the raw span
 * bounds the output.
 */
static char *parse_string(struct parser *ps)
{
    char quote = *ps->p;
    const char *start = ps->p + 1, *q = start;
    while (q < ps->end && *q != quote) {
        if (*q == '\\' && ps->end - q < 2) break;
        q += (*q == '\\') ? 2 : 1;
    }
    if (q >= ps->end || *q != quote) {
        fail(ps, "unterminated string");
        return NULL;
    }
    const char *close = q;
    char *out = xmalloc((size_t)(close - start) + 1), *o = out;
    for (q = start; q < close;) {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        char e = q[1];
        q += 2;
        switch (e) {
        case '"': case '\'': case '\\': case '/': *o++ = e; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'v': *o++ = '\v'; break;
        case 'u': {
            unsigned cp, lo;
            if (!read_hex4(ps, q, close, &cp)) goto bad;
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && close - q >= 6 && q[0] == '\\' && q[1] == 'u' &&
                read_hex4(ps, q + 2, close, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            if (ps->err) goto bad;
            if (cp == 0) {
                fail(ps, "\\u0000 in string");
                goto bad;
            }
            o += put_utf8(o, cp);
            break;
        }
        default:
            fail(ps, "bad escape in string");
            goto bad;
        }
    }
    *o = 0;
    ps->p = close + 1;
    return out;
bad:
    free(out);
    return NULL;
}

/* Span of a JSON number token at ps->p (leading zeros tolerated). */
static size_t number_span(const char *p, const char *end)
{
    const char *s = p;
    if (p < end && *p == '-') p++;
    const char *digits = p;
    while (p < end && isdigit((unsigned char)*p)) p++;
    if (p == digits) return 0;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        while (p < end && isdigit((unsigned char)*p)) p++;
        if (p == frac) return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const char *exp = p;
        while (p < end && isdigit((unsigned char)*p)) p++;
        if (p == exp) return 0;
    }
    return (size_t)(p - s);
}

static cJSON *parse_number(struct parser *ps)
{
    size_t n = number_span(ps->p, ps->end);
    if (!n) {
        fail(ps, "bad number");
        return NULL;
    }
    char *token = xstrndup(ps->p, n);
    ps->p += n;
    double d = strtod(token, NULL);
    cJSON *item = cJSON_CreateNumber(d);
    if (!item) abort();
    item->valuestring = token;
    return item;
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_' || c == '$'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

/* Compact fastjson text of a parsed key object. */
static char *key_object_text(const cJSON *key)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_item(&w, key);
    return fjson_writer_finish(&w, NULL);
}

/* A map key in any form fastjson writes or reads; malloc'd text. */
static char *parse_key(struct parser *ps)
{
    char c = *ps->p;
    if (c == '"' || c == '\'') return parse_string(ps);
    if (c == '{') {
        cJSON *obj = parse_value(ps);
        if (!obj) return NULL;
        char *text = key_object_text(obj);
        cJSON_Delete(obj);
        return text;
    }
    if (c == '-' || isdigit((unsigned char)c)) {
        size_t n = number_span(ps->p, ps->end);
        if (!n) {
            fail(ps, "bad numeric key");
            return NULL;
        }
        char *text = xstrndup(ps->p, n);
        ps->p += n;
        return text;
    }
    if (is_ident_start(c)) {
        const char *s = ps->p;
        while (ps->p < ps->end && is_ident_char(*ps->p)) ps->p++;
        return xstrndup(s, (size_t)(ps->p - s));
    }
    fail(ps, "bad object key");
    return NULL;
}

static cJSON *parse_object(struct parser *ps)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) abort();
    ps->p++;   /* '{' */
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unterminated object");
            goto bad;
        }
        if (*ps->p == '}') break;
        char *key = parse_key(ps);
        if (!key) goto bad;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            free(key);
            fail(ps, "expected ':' after key");
            goto bad;
        }
        ps->p++;
        cJSON *value = parse_value(ps);
        if (!value) {
            free(key);
            goto bad;
        }
        /* Attach the key we already own instead of letting cJSON copy it. */
        value->string = key;
        cJSON_AddItemToArray(obj, value);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') break;
        fail(ps, "expected ',' or '}' in object");
        goto bad;
    }
    ps->p++;
    return obj;
bad:
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *parse_array(struct parser *ps)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) abort();
    ps->p++;   /* '[' */
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unterminated array");
            goto bad;
        }
        if (*ps->p == ']') break;
        cJSON *value = parse_value(ps);
        if (!value) goto bad;
        cJSON_AddItemToArray(arr, value);
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') break;
        fail(ps, "expected ',' or ']' in array");
        goto bad;
    }
    ps->p++;
    return arr;
bad:
    cJSON_Delete(arr);
    return NULL;
}

static bool take_word(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
    if ((size_t)(ps->end - ps->p) > n && is_ident_char(ps->p[n])) return false;
    ps->p += n;
    return true;
}

static cJSON *parse_value(struct parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end of input");
        return NULL;
    }
    cJSON *item = NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (ps->depth >= FJSON_MAX_DEPTH) {
            fail(ps, "nesting too deep");
            return NULL;
        }
        ps->depth++;
        item = c == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
    } else if (c == '"' || c == '\'') {
        char *s = parse_string(ps);
        if (!s) return NULL;
        item = cJSON_CreateString("");
        if (!item) abort();
        free(item->valuestring);
        item->valuestring = s;
    } else if (c == '-' || isdigit((unsigned char)c)) {
        item = parse_number(ps);
    } else if (take_word(ps, "true")) {
        item = cJSON_CreateTrue();
    } else if (take_word(ps, "false")) {
        item = cJSON_CreateFalse();
    } else if (take_word(ps, "null")) {
        item = cJSON_CreateNull();
    } else {
        fail(ps, "unexpected character");
    }
    return item;
}

cJSON *fjson_parse(const char *text, size_t len, const char **err)
{
    struct parser ps = { .p = text, .end = text + len };
    cJSON *root = parse_value(&ps);
    if (root) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            fail(&ps, "trailing characters after JSON value");
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root && err) *err = ps.err;
    return root;
}

cJSON *fjson_parse_key(const cJSON *member, const char **err)
{
    if (!member || !member->string) {
        if (err) *err = "no key";
        return NULL;
    }
    return fjson_parse(member->string, strlen(member->string), err);
}

/* ---- typed access ----------------------------------------------------- */

/* Java's (long) of a double: truncation, refusing what does not fit. */
static bool double_to_int64(double d, int64_t *out)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
    *out = (int64_t)d;
    return true;
}

bool fjson_get_int64(const cJSON *item, int64_t *out)
{
    if (!item) return false;
    if (cJSON_IsNumber(item)) {
        if (item->valuestring) {
            if (parse_int64(item->valuestring, out) == RMQ_OK) return true;
            /* An integer token too long for a long is not a long. */
            if (!strpbrk(item->valuestring, ".eE")) return false;
        }
        return double_to_int64(item->valuedouble, out);
    }
    if (cJSON_IsString(item)) return parse_int64(item->valuestring, out) == RMQ_OK;
    return false;
}

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return item && !cJSON_IsNull(item) ? item : NULL;
}

/* fastjson reads "" and "null" as a null for non-string types. */
static bool is_null_string(const cJSON *item)
{
    return cJSON_IsString(item) && (!*item->valuestring || strcmp(item->valuestring, "null") == 0);
}

enum fjson_field fjson_field_string(const cJSON *obj, const char *name, const char **out)
{
    const cJSON *item = field(obj, name);
    if (!item) return FJSON_MISSING;
    if (cJSON_IsString(item) || (cJSON_IsNumber(item) && item->valuestring))
        *out = item->valuestring;
    else if (cJSON_IsBool(item))
        *out = cJSON_IsTrue(item) ? "true" : "false";
    else
        return FJSON_WRONG_TYPE;
    return FJSON_OK;
}

enum fjson_field fjson_field_int64(const cJSON *obj, const char *name, int64_t *out)
{
    const cJSON *item = field(obj, name);
    if (!item || is_null_string(item)) return FJSON_MISSING;
    return fjson_get_int64(item, out) ? FJSON_OK : FJSON_WRONG_TYPE;
}

enum fjson_field fjson_field_int32(const cJSON *obj, const char *name, int32_t *out)
{
    int64_t v;
    enum fjson_field r = fjson_field_int64(obj, name, &v);
    if (r != FJSON_OK) return r;
    if (v < INT32_MIN || v > INT32_MAX) return FJSON_WRONG_TYPE;
    *out = (int32_t)v;
    return FJSON_OK;
}

enum fjson_field fjson_field_bool(const cJSON *obj, const char *name, bool *out)
{
    const cJSON *item = field(obj, name);
    if (!item || is_null_string(item)) return FJSON_MISSING;
    if (cJSON_IsBool(item)) {
        *out = cJSON_IsTrue(item);
        return FJSON_OK;
    }
    if (cJSON_IsNumber(item)) {   /* TypeUtils.castToBoolean: intValue() == 1 */
        *out = item->valuedouble == 1;
        return FJSON_OK;
    }
    if (cJSON_IsString(item)) {
        static const char *const yes[] = { "true", "1", "Y", "T" }, *const no[] = { "false", "0", "N", "F" };
        for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
            if (strcasecmp(item->valuestring, yes[i]) == 0) { *out = true; return FJSON_OK; }
            if (strcasecmp(item->valuestring, no[i]) == 0) { *out = false; return FJSON_OK; }
        }
    }
    return FJSON_WRONG_TYPE;
}
