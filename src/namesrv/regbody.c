/*
 * RegisterBrokerBody as brokers send it: fastjson text, or the compressed
 * form of RegisterBrokerBody.encode(true) — a zlib stream of
 * [int32 len][DataVersion JSON] [int32 n] n x [int32 len]["name r w perm filterType"]
 * [int32 len][filter server JSON array] (all big-endian), followed in 5.x by
 * static-topic mappings ([int32 n] n x [int32 len][JSON]), which are not kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/fjson.h"
#include "common/util.h"
#include "namesrv/namesrv.h"

/* TopicConfig defaults, for fields a JSON body leaves out. */
#define DEFAULT_QUEUE_NUMS 16
#define DEFAULT_PERM (NAMESRV_PERM_READ | NAMESRV_PERM_WRITE)

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return RMQ_ERR;
}

void register_body_free(register_body *b)
{
    for (size_t i = 0; i < b->n_topics; i++) free(b->topics[i].topic_name);
    free(b->topics);
    for (size_t i = 0; i < b->n_filter_servers; i++) free(b->filter_servers[i]);
    free(b->filter_servers);
    memset(b, 0, sizeof *b);
}

static int decode_data_version(const cJSON *obj, data_version *dv, char *err, size_t errlen)
{
    if (!cJSON_IsObject(obj)) return fail(err, errlen, "dataVersion is not an object");
    /* A field left out keeps DataVersion's initial value. */
    if (fjson_field_int64(obj, "timestamp", &dv->timestamp) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "counter", &dv->counter) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "stateVersion", &dv->state_version) == FJSON_WRONG_TYPE)
        return fail(err, errlen, "malformed dataVersion");
    return RMQ_OK;
}

static int decode_filter_servers(const cJSON *arr, register_body *out, char *err, size_t errlen)
{
    if (!arr || cJSON_IsNull(arr)) return RMQ_OK;
    if (!cJSON_IsArray(arr)) return fail(err, errlen, "filterServerList is not an array");
    int n = cJSON_GetArraySize(arr);
    out->filter_servers = xcalloc((size_t)n + 1, sizeof *out->filter_servers);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
        if (!s) return fail(err, errlen, "filterServerList holds a non-string");
        out->filter_servers[out->n_filter_servers++] = xstrdup(s);
    }
    return RMQ_OK;
}

static int decode_topic_config(const cJSON *obj, topic_config *tc, char *err, size_t errlen)
{
    const char *name = NULL;
    tc->read_queue_nums = DEFAULT_QUEUE_NUMS;
    tc->write_queue_nums = DEFAULT_QUEUE_NUMS;
    tc->perm = DEFAULT_PERM;
    tc->topic_sys_flag = 0;
    if (!cJSON_IsObject(obj) || fjson_field_string(obj, "topicName", &name) != FJSON_OK)
        return fail(err, errlen, "topic config without topicName");
    if (fjson_field_int32(obj, "readQueueNums", &tc->read_queue_nums) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "writeQueueNums", &tc->write_queue_nums) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "perm", &tc->perm) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "topicSysFlag", &tc->topic_sys_flag) == FJSON_WRONG_TYPE)
        return fail(err, errlen, "malformed topic config %s", name);
    tc->topic_name = xstrdup(name);
    return RMQ_OK;
}

/* TopicConfigSerializeWrapper {dataVersion, topicConfigTable}. */
static int decode_wrapper(const cJSON *wrapper, register_body *out, char *err, size_t errlen)
{
    if (!wrapper || cJSON_IsNull(wrapper)) return RMQ_OK;
    if (!cJSON_IsObject(wrapper)) return fail(err, errlen, "topicConfigSerializeWrapper is not an object");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(wrapper, "dataVersion");
    if (dv && !cJSON_IsNull(dv) && decode_data_version(dv, &out->data_version, err, errlen) != RMQ_OK)
        return RMQ_ERR;
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(wrapper, "topicConfigTable");
    if (!table || cJSON_IsNull(table)) return RMQ_OK;
    if (!cJSON_IsObject(table)) return fail(err, errlen, "topicConfigTable is not an object");
    out->topics = xcalloc((size_t)cJSON_GetArraySize(table) + 1, sizeof *out->topics);
    const cJSON *it;
    cJSON_ArrayForEach(it, table) {
        if (decode_topic_config(it, &out->topics[out->n_topics], err, errlen) != RMQ_OK) return RMQ_ERR;
        out->n_topics++;
    }
    return RMQ_OK;
}

static int decode_json(const uint8_t *body, size_t len, bool wrapper_only, register_body *out,
                       char *err, size_t errlen)
{
    const char *perr = NULL;
    cJSON *root = fjson_parse((const char *)body, len, &perr);
    if (!root) return fail(err, errlen, "bad JSON: %s", perr ? perr : "?");
    int rc = RMQ_ERR;
    if (!cJSON_IsObject(root)) {
        fail(err, errlen, "body is not a JSON object");
    } else if (wrapper_only) {
        rc = decode_wrapper(root, out, err, errlen);
    } else if (decode_wrapper(cJSON_GetObjectItemCaseSensitive(root, "topicConfigSerializeWrapper"), out,
                              err, errlen) == RMQ_OK) {
        rc = decode_filter_servers(cJSON_GetObjectItemCaseSensitive(root, "filterServerList"), out, err,
                                   errlen);
    }
    cJSON_Delete(root);
    return rc;
}

/* The whole zlib stream, inflated. */
/* A compressed body inflates to at most this much: a few hundred bytes a topic, so far past
 * any real table (a million topics), yet one small crafted frame cannot take the name
 * server's memory. Apache's InflaterInputStream has no bound. */
#define REGBODY_MAX_INFLATED ((size_t)256 << 20)

static uint8_t *inflate_all(const uint8_t *in, size_t len, size_t *out_len, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        fail(err, errlen, "inflateInit failed");
        return NULL;
    }
    size_t cap = len * 4 + 256, n = 0;
    uint8_t *buf = xmalloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    int rc;
    do {
        if (n == cap) {
            if (cap >= REGBODY_MAX_INFLATED) {
                inflateEnd(&zs);
                free(buf);
                fail(err, errlen, "compressed body inflates past %zu MiB", REGBODY_MAX_INFLATED >> 20);
                return NULL;
            }
            cap = cap * 2 < REGBODY_MAX_INFLATED ? cap * 2 : REGBODY_MAX_INFLATED;
            buf = xrealloc(buf, cap);
        }
        zs.next_out = buf + n;
        zs.avail_out = (uInt)(cap - n);
        rc = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
    } while (rc == Z_OK || (rc == Z_BUF_ERROR && zs.avail_out == 0));
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(buf);
        fail(err, errlen, "bad zlib stream (%d)", rc);
        return NULL;
    }
    *out_len = n;
    return buf;
}

typedef struct reader {
    const uint8_t *p, *end;
} reader;

/* One [int32 len][bytes] chunk; NULL when the stream ends early. */
static const char *read_chunk(reader *r, size_t *len)
{
    if (r->end - r->p < 4) return NULL;
    int32_t n = (int32_t)get_be32(r->p);
    if (n < 0 || r->end - r->p - 4 < n) return NULL;
    const char *s = (const char *)r->p + 4;
    r->p += 4 + (size_t)n;
    *len = (size_t)n;
    return s;
}

/*
 * TopicConfig.decode: the line split as Java's split(" ") does (empty fields
 * kept, trailing ones dropped). 4.9.x writes five fields; 5.x adds a sixth,
 * the attributes JSON (not kept here), after a separator that is always there.
 */
static int decode_topic_line(const char *s, size_t len, topic_config *tc)
{
    const char *fields[5];
    size_t lens[5];
    int n = 0;
    const char *p = s, *end = s + len;
    while (end > s && end[-1] == ' ') end--;   /* trailing empty fields */
    while (n < 5 && p <= end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *fe = sp ? sp : end;
        fields[n] = p;
        lens[n++] = (size_t)(fe - p);
        if (!sp) break;
        p = sp + 1;
    }
    if (n < 5) return RMQ_ERR;
    char num[3][16];
    for (int i = 0; i < 3; i++) {
        if (lens[i + 1] == 0 || lens[i + 1] >= sizeof num[i]) return RMQ_ERR;
        memcpy(num[i], fields[i + 1], lens[i + 1]);
        num[i][lens[i + 1]] = 0;
    }
    bool filter_ok = (lens[4] == 10 && memcmp(fields[4], "SINGLE_TAG", 10) == 0) ||
                     (lens[4] == 9 && memcmp(fields[4], "MULTI_TAG", 9) == 0);
    if (lens[0] == 0 || !filter_ok || parse_int32(num[0], &tc->read_queue_nums) != RMQ_OK ||
        parse_int32(num[1], &tc->write_queue_nums) != RMQ_OK || parse_int32(num[2], &tc->perm) != RMQ_OK)
        return RMQ_ERR;
    tc->topic_name = xstrndup(fields[0], lens[0]);
    tc->topic_sys_flag = 0;   /* not carried by the compressed form */
    return RMQ_OK;
}

static int decode_compressed(const uint8_t *body, size_t len, register_body *out, char *err, size_t errlen)
{
    size_t n = 0;
    uint8_t *raw = inflate_all(body, len, &n, err, errlen);
    if (!raw) return RMQ_ERR;
    reader r = {raw, raw + n};
    int rc = RMQ_ERR;
    size_t clen;
    const char *chunk = read_chunk(&r, &clen);
    cJSON *j = NULL;
    const char *perr = NULL;
    if (!chunk || !(j = fjson_parse(chunk, clen, &perr))) {
        fail(err, errlen, "bad DataVersion in compressed body");
        goto done;
    }
    if (decode_data_version(j, &out->data_version, err, errlen) != RMQ_OK) goto done;
    cJSON_Delete(j);
    j = NULL;

    if (r.end - r.p < 4) {
        fail(err, errlen, "compressed body ends before the topic count");
        goto done;
    }
    int32_t count = (int32_t)get_be32(r.p);
    r.p += 4;
    if (count < 0 || (size_t)count > n / 4) {
        fail(err, errlen, "bad topic count %d in compressed body", count);
        goto done;
    }
    out->topics = xcalloc((size_t)count + 1, sizeof *out->topics);
    for (int32_t i = 0; i < count; i++) {
        chunk = read_chunk(&r, &clen);
        if (!chunk || decode_topic_line(chunk, clen, &out->topics[out->n_topics]) != RMQ_OK) {
            fail(err, errlen, "bad topic config #%d in compressed body", i);
            goto done;
        }
        out->n_topics++;
    }
    chunk = read_chunk(&r, &clen);
    if (!chunk || !(j = fjson_parse(chunk, clen, &perr))) {
        fail(err, errlen, "bad filter server list in compressed body");
        goto done;
    }
    rc = decode_filter_servers(j, out, err, errlen);
done:
    cJSON_Delete(j);
    free(raw);
    return rc;
}

int register_body_decode(const uint8_t *body, size_t len, bool compressed, bool wrapper_only,
                         register_body *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!body || len == 0) return RMQ_OK;   /* DataVersion 0/0, nothing registered */
    /* Fields a body leaves out keep `new DataVersion()`: now, counter 0. */
    out->data_version.timestamp = now_ms();
    int rc = compressed ? decode_compressed(body, len, out, err, errlen)
                        : decode_json(body, len, wrapper_only, out, err, errlen);
    if (rc != RMQ_OK) register_body_free(out);
    return rc;
}
