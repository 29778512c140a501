/* Registration bodies: RegisterBrokerBody as fastjson text or compressed (registration.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "registration_int.h"
#include "common/fjson.h"
#include "common/util.h"

char *registration_json_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "filterServerList");
    fjson_begin_array(&w);
    fjson_end_array(&w);
    fjson_key(&w, "topicConfigSerializeWrapper");
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    data_version_write(dv, &w);
    fjson_key(&w, "topicConfigTable");
    fjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        fjson_key(&w, topics[i].topic_name);
        topic_config_write(&topics[i], &w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        b->cap = (b->n + len) * 2 + 256;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void bytes_int(bytes *b, uint32_t v)
{
    uint8_t be[4];
    put_be32(be, v);
    bytes_add(b, be, 4);
}

static void bytes_chunk(bytes *b, const char *s, size_t len)
{
    bytes_int(b, (uint32_t)len);
    bytes_add(b, s, len);
}

uint8_t *registration_compressed_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len)
{
    bytes raw = {0};
    fjson_writer w;
    fjson_writer_init(&w, 0);
    data_version_write(dv, &w);
    size_t vlen;
    char *vjson = fjson_writer_finish(&w, &vlen);
    bytes_chunk(&raw, vjson, vlen);
    free(vjson);
    bytes_int(&raw, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        /* TopicConfig.encode(): exactly five fields, which 4.9.x's decode demands. */
        char line[META_NAME_MAX + 64];
        int ll = snprintf(line, sizeof line, "%s %d %d %d %s", topics[i].topic_name, topics[i].read_queue_nums,
                          topics[i].write_queue_nums, topics[i].perm,
                          topics[i].topic_filter_type == TOPIC_FILTER_MULTI_TAG ? "MULTI_TAG" : "SINGLE_TAG");
        bytes_chunk(&raw, line, (size_t)ll);
    }
    bytes_chunk(&raw, "[]", 2);
    /* 5.x reads a static-topic mapping count after the filter servers; 4.9.x stops before it. */
    bytes_int(&raw, 0);

    uLongf zlen = compressBound((uLong)raw.n);
    uint8_t *z = xmalloc(zlen);
    /* Any level is the same format; Apache's BEST_COMPRESSION costs 3x the CPU for ~10% less. */
    if (compress2(z, &zlen, raw.p, (uLong)raw.n, Z_DEFAULT_COMPRESSION) != Z_OK) abort();   /* only on OOM */
    free(raw.p);
    *len = zlen;
    return z;
}

/* BrokerController: with a broker that is not read-write, topics are registered with its permission. */
void reg_apply_broker_permission(const broker *b, topic_config *topics, size_t n)
{
    int32_t bp = b->cfg.brokerPermission;
    if ((bp & PERM_READ) && (bp & PERM_WRITE)) return;
    for (size_t i = 0; i < n; i++) topics[i].perm &= bp;
}

body reg_encode_body(bool compressed, const topic_config *topics, size_t n, const data_version *dv)
{
    body out;
    if (compressed) out.data = registration_compressed_body(topics, n, dv, &out.len);
    else out.data = (uint8_t *)registration_json_body(topics, n, dv, &out.len);
    return out;
}

