/*
 * message: see message.h. Byte layouts follow Apache 4.9.8 MessageDecoder
 * and CommitLog.MessageExtEncoder.
 */
#include "common/message.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int msg_host_parse(msg_host *h, const char *host_port)
{
    char host[64];
    int port;
    memset(h, 0, sizeof(*h));
    if (split_host_port(host_port, host, sizeof(host), &port) != RMQ_OK)
        return RMQ_ERR;
    h->port = port;
    if (inet_pton(AF_INET, host, h->ip) == 1)
        return RMQ_OK;
    if (inet_pton(AF_INET6, host, h->ip) == 1) {
        h->v6 = true;
        return RMQ_OK;
    }
    return RMQ_ERR;
}

void msg_host_format(const msg_host *h, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(h->v6 ? AF_INET6 : AF_INET, h->ip, ip, sizeof(ip));
    snprintf(buf, cap, "%s:%d", ip, h->port);
}

/* ---- properties ---- */

bool msg_props_next(const char **cursor, const char *end, msg_prop_view *out)
{
    while (*cursor < end) {
        const char *seg = *cursor;
        const char *sep = memchr(seg, MSG_PROPERTY_SEPARATOR, (size_t)(end - seg));
        const char *seg_end = sep ? sep : end;
        *cursor = sep ? sep + 1 : end;
        if (seg_end - seg < 3)
            continue;
        const char *eq = memchr(seg, MSG_NAME_VALUE_SEPARATOR, (size_t)(seg_end - seg));
        if (!eq || eq == seg)
            continue;
        out->key = seg;
        out->key_len = (size_t)(eq - seg);
        out->value = eq + 1;
        out->value_len = (size_t)(seg_end - eq - 1);
        return true;
    }
    return false;
}

bool msg_props_find(const char *props, size_t len, const char *key,
                    const char **value, size_t *value_len)
{
    const char *cur = props, *end = props + len;
    size_t key_len = strlen(key);
    msg_prop_view v;
    bool found = false;
    /* A repeated key keeps its last value, as HashMap.put does. */
    while (msg_props_next(&cur, end, &v)) {
        if (v.key_len == key_len && memcmp(v.key, key, key_len) == 0) {
            *value = v.value;
            *value_len = v.value_len;
            found = true;
        }
    }
    return found;
}

void msg_props_init(msg_props *p)
{
    memset(p, 0, sizeof(*p));
}

static int props_index(const msg_props *p, const char *key, size_t key_len)
{
    for (int i = 0; i < p->count; i++)
        if (p->items[i].key_len == key_len && memcmp(p->items[i].key, key, key_len) == 0)
            return i;
    return -1;
}

static void props_put(msg_props *p, const char *key, size_t key_len, const char *value, size_t value_len)
{
    int i = props_index(p, key, key_len);
    if (i >= 0) {
        p->items[i].value = strs_dup(&p->strs, value, value_len);
        p->items[i].value_len = (uint32_t)strnlen(p->items[i].value, value_len); /* a NUL ends it */
        return;
    }
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = xrealloc(p->items, (size_t)p->cap * sizeof(*p->items));
    }
    p->items[p->count].key = strs_dup(&p->strs, key, key_len);
    p->items[p->count].value = strs_dup(&p->strs, value, value_len);
    /* as C strings: a NUL inside a key or value ends it (as strlen measured them before) */
    p->items[p->count].key_len = (uint32_t)strnlen(p->items[p->count].key, key_len);
    p->items[p->count].value_len = (uint32_t)strnlen(p->items[p->count].value, value_len);
    p->count++;
}

void msg_props_parse(msg_props *p, const char *s, size_t len)
{
    const char *cur = s;
    msg_prop_view v;
    while (msg_props_next(&cur, s + len, &v))
        props_put(p, v.key, v.key_len, v.value, v.value_len);
}

const char *msg_props_get(const msg_props *p, const char *key)
{
    int i = props_index(p, key, strlen(key));
    return i >= 0 ? p->items[i].value : NULL;
}

void msg_props_set(msg_props *p, const char *key, const char *value)
{
    props_put(p, key, strlen(key), value, strlen(value));
}

bool msg_props_remove(msg_props *p, const char *key)
{
    int i = props_index(p, key, strlen(key));
    if (i < 0)
        return false;
    memmove(&p->items[i], &p->items[i + 1], (size_t)(p->count - i - 1) * sizeof(*p->items));
    p->count--;
    return true;
}

char *msg_props_encode(const msg_props *p, size_t *len)
{
    size_t n = 0;
    for (int i = 0; i < p->count; i++)
        n += p->items[i].key_len + p->items[i].value_len + 2;
    char *out = xmalloc(n + 1), *w = out;
    for (int i = 0; i < p->count; i++) {
        if (i > 0)
            *w++ = MSG_PROPERTY_SEPARATOR;
        size_t kl = p->items[i].key_len, vl = p->items[i].value_len;
        memcpy(w, p->items[i].key, kl);
        w += kl;
        *w++ = MSG_NAME_VALUE_SEPARATOR;
        memcpy(w, p->items[i].value, vl);
        w += vl;
    }
    *w = '\0';
    if (len)
        *len = (size_t)(w - out);
    return out;
}

void msg_props_free(msg_props *p)
{
    strs_free(&p->strs);
    free(p->items);
    msg_props_init(p);
}

/* ---- stored record ---- */

static uint32_t host_len(bool v6)
{
    return v6 ? 20 : 8;
}

uint32_t msg_record_size(uint32_t body_len, uint32_t topic_len, uint32_t props_len,
                         bool born_v6, bool store_v6)
{
    /* 4 size + 4 magic + 4 crc + 4 qid + 4 flag + 8 qoff + 8 phys + 4 sysflag
     * + 8 born ts + born host + 8 store ts + store host + 4 reconsume + 8 tx */
    return 68 + host_len(born_v6) + host_len(store_v6) + 4 + body_len + 1 + topic_len + 2 + props_len;
}

static uint8_t *put_host(uint8_t *w, const msg_host *h)
{
    size_t n = h->v6 ? 16 : 4;
    memcpy(w, h->ip, n);
    put_be32(w + n, (uint32_t)h->port);
    return w + n + 4;
}

uint32_t msg_record_encode(uint8_t *dst, const msg_record *r)
{
    int32_t sysflag = r->sysflag & ~(MSG_SYSFLAG_BORNHOST_V6 | MSG_SYSFLAG_STOREHOST_V6);
    if (r->born_host.v6)
        sysflag |= MSG_SYSFLAG_BORNHOST_V6;
    if (r->store_host.v6)
        sysflag |= MSG_SYSFLAG_STOREHOST_V6;
    uint32_t size = msg_record_size(r->body_len, r->topic_len, r->props_len,
                                    r->born_host.v6, r->store_host.v6);
    uint8_t *w = dst;
    put_be32(w, size);
    put_be32(w + 4, MSG_MAGIC_CODE);
    put_be32(w + 8, (uint32_t)r->body_crc);
    put_be32(w + 12, (uint32_t)r->queue_id);
    put_be32(w + 16, (uint32_t)r->flag);
    put_be64(w + 20, (uint64_t)r->queue_offset);
    put_be64(w + 28, (uint64_t)r->phys_offset);
    put_be32(w + 36, (uint32_t)sysflag);
    put_be64(w + 40, (uint64_t)r->born_timestamp);
    w = put_host(w + 48, &r->born_host);
    put_be64(w, (uint64_t)r->store_timestamp);
    w = put_host(w + 8, &r->store_host);
    put_be32(w, (uint32_t)r->reconsume_times);
    put_be64(w + 4, (uint64_t)r->prepared_tx_offset);
    put_be32(w + 12, r->body_len);
    w += 16;
    if (r->body_len)
        memcpy(w, r->body, r->body_len);
    w += r->body_len;
    *w++ = (uint8_t)r->topic_len;
    memcpy(w, r->topic, r->topic_len);
    w += r->topic_len;
    put_be16(w, (uint16_t)r->props_len);
    if (r->props_len)
        memcpy(w + 2, r->props, r->props_len);
    return size;
}

static const uint8_t *get_host(const uint8_t *p, bool v6, msg_host *h)
{
    size_t n = v6 ? 16 : 4;
    memset(h, 0, sizeof(*h));
    h->v6 = v6;
    memcpy(h->ip, p, n);
    h->port = (int32_t)get_be32(p + n);
    return p + n + 4;
}

int64_t msg_record_store_timestamp(const uint8_t *record)
{
    int32_t sysflag = (int32_t)get_be32(record + MSG_SYSFLAG_POS);
    return (int64_t)get_be64(record + MSG_BORN_HOST_POS +
                             host_len(sysflag & MSG_SYSFLAG_BORNHOST_V6));
}

int msg_record_decode(const uint8_t *buf, size_t len, msg_record *out, const char **reason)
{
    memset(out, 0, sizeof(*out));
    if (len < MSG_SYSFLAG_POS + 4) {
        *reason = "record shorter than its header";
        return RMQ_ERR;
    }
    uint32_t total = get_be32(buf);
    if (get_be32(buf + 4) != MSG_MAGIC_CODE) {
        *reason = "bad magic code";
        return RMQ_ERR;
    }
    int32_t sysflag = (int32_t)get_be32(buf + MSG_SYSFLAG_POS);
    bool born_v6 = sysflag & MSG_SYSFLAG_BORNHOST_V6, store_v6 = sysflag & MSG_SYSFLAG_STOREHOST_V6;
    uint32_t fixed = msg_record_size(0, 0, 0, born_v6, store_v6);
    if (total > len || total < fixed) {
        *reason = "record size out of bounds";
        return RMQ_ERR;
    }
    out->total_size = total;
    out->body_crc = (int32_t)get_be32(buf + 8);
    out->queue_id = (int32_t)get_be32(buf + 12);
    out->flag = (int32_t)get_be32(buf + 16);
    out->queue_offset = (int64_t)get_be64(buf + 20);
    out->phys_offset = (int64_t)get_be64(buf + 28);
    out->sysflag = sysflag;
    out->born_timestamp = (int64_t)get_be64(buf + 40);
    const uint8_t *p = get_host(buf + 48, born_v6, &out->born_host);
    out->store_timestamp = (int64_t)get_be64(p);
    p = get_host(p + 8, store_v6, &out->store_host);
    out->reconsume_times = (int32_t)get_be32(p);
    out->prepared_tx_offset = (int64_t)get_be64(p + 4);
    const uint8_t *end = buf + total;
    p += 12;
    uint32_t body_len = get_be32(p);
    p += 4;
    if (body_len > (size_t)(end - p) || (size_t)(end - p) - body_len < 3) {
        *reason = "body length out of bounds";
        return RMQ_ERR;
    }
    out->body = p;
    out->body_len = body_len;
    p += body_len;
    int8_t topic_len = (int8_t)*p++;
    if (topic_len < 0 || (size_t)topic_len + 2 > (size_t)(end - p)) {
        *reason = "topic length out of bounds";
        return RMQ_ERR;
    }
    out->topic = (const char *)p;
    out->topic_len = (uint32_t)topic_len;
    p += topic_len;
    int16_t props_len = (int16_t)get_be16(p);
    p += 2;
    if (props_len < 0 || (size_t)props_len != (size_t)(end - p)) {
        *reason = "properties length disagrees with the record size";
        return RMQ_ERR;
    }
    out->props = (const char *)p;
    out->props_len = (uint32_t)props_len;
    return RMQ_OK;
}

/* ---- offset msgId ---- */

int msg_offset_id_create(char out[MSG_ID_MAX_LEN + 1], const msg_host *store_host, int64_t offset)
{
    uint8_t raw[28];
    size_t n = store_host->v6 ? 16 : 4;
    memcpy(raw, store_host->ip, n);
    put_be32(raw + n, (uint32_t)store_host->port);
    put_be64(raw + n + 4, (uint64_t)offset);
    hex_upper(out, raw, n + 12);
    return (int)(2 * (n + 12));
}

int msg_offset_id_decode(const char *id, msg_host *store_host, int64_t *offset)
{
    uint8_t raw[28];
    size_t len = strlen(id);
    if (len != 32 && len != 56)
        return RMQ_ERR;
    if (hex_decode(raw, sizeof(raw), id) != (int)(len / 2))
        return RMQ_ERR;
    bool v6 = len == 56;
    const uint8_t *p = get_host(raw, v6, store_host);
    *offset = (int64_t)get_be64(p);
    return RMQ_OK;
}

/* ---- batch body ---- */

int msg_batch_decode(const uint8_t *buf, size_t len, msg_batch_item **items, int *count,
                     const char **reason)
{
    int n = 0, cap = 0;
    msg_batch_item *arr = NULL;
    size_t pos = 0;
    while (pos < len) {
        /* TOTALSIZE, MAGICCODE, BODYCRC, FLAG, BODYLENGTH */
        if (len - pos < 20) {
            *reason = "truncated batch item header";
            goto fail;
        }
        msg_batch_item it;
        it.flag = (int32_t)get_be32(buf + pos + 12);
        it.body_len = get_be32(buf + pos + 16);
        pos += 20;
        if (it.body_len > len - pos || len - pos - it.body_len < 2) {
            *reason = "batch item body out of bounds";
            goto fail;
        }
        it.body = buf + pos;
        pos += it.body_len;
        int16_t props_len = (int16_t)get_be16(buf + pos);
        pos += 2;
        if (props_len < 0 || (size_t)props_len > len - pos) {
            *reason = "batch item properties out of bounds";
            goto fail;
        }
        it.props = (const char *)buf + pos;
        it.props_len = (uint32_t)props_len;
        pos += (size_t)props_len;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            arr = xrealloc(arr, (size_t)cap * sizeof(*arr));
        }
        arr[n++] = it;
    }
    if (n == 0) {
        *reason = "empty batch body";
        goto fail;
    }
    *items = arr;
    *count = n;
    return RMQ_OK;
fail:
    free(arr);
    *items = NULL;
    *count = 0;
    return RMQ_ERR;
}

int64_t msg_tags_code(const char *tags, size_t len)
{
    return len ? (int64_t)java_string_hash(tags, len) : 0;
}

int msg_delay_levels_parse(const char *spec, int64_t delays_ms[MSG_MAX_DELAY_LEVELS], const char **bad)
{
    int n = 0;
    for (const char *p = spec; *p;) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *end;
        long long v = strtoll(p, &end, 10);
        int64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : *end == 'd' ? 86400000 : 0;
        /* A delay whose milliseconds overflow a long is refused (Java would wrap it). */
        if (end == p || v < 0 || !unit || v > INT64_MAX / unit || (end[1] && end[1] != ' ') ||
            n == MSG_MAX_DELAY_LEVELS) {
            *bad = p;
            return -1;
        }
        delays_ms[n++] = v * unit;
        p = end + 1;
    }
    return n;
}
