/*
 * Remoting frames as a connection receives them: [int32 len][int32 type<<24|hdrLen]
 * [JSON or ROCKETMQ binary header][body], several per input, cut the way
 * conn.c's process_input cuts its input buffer. Each decoded command is
 * re-encoded and decoded again: our own encoding must decode, and encoding
 * must be stable from then on. Every ext field goes through the typed readers
 * and a header table of every field type, as processors read them.
 */
#include <event2/buffer.h>

#include "fuzz.h"
#include "remoting/remoting.h"

/* A header class with one field of each kind, names the processors use. */
typedef struct any_header {
    const char *topic, *group;
    int32_t queue_id;
    int64_t offset;
    bool flag;
} any_header;

static const hdr_field any_fields[] = {
    {"topic", HDR_STR, true, offsetof(any_header, topic)},
    {"consumerGroup", HDR_STR, false, offsetof(any_header, group)},
    {"queueId", HDR_I32, false, offsetof(any_header, queue_id)},
    {"queueOffset", HDR_I64, false, offsetof(any_header, offset)},
    {"batch", HDR_BOOL, false, offsetof(any_header, flag)},
};

static uint8_t *encode(rmq_cmd *c, size_t *len)
{
    struct evbuffer *out = evbuffer_new();
    cmd_encode_into(c, out);
    *len = evbuffer_get_length(out);
    uint8_t *bytes = xmalloc(*len);
    evbuffer_remove(out, bytes, *len);
    evbuffer_free(out);
    return bytes;
}

static void read_fields(const rmq_cmd *c)
{
    for (int i = 0; i < c->n_ext; i++) {
        int32_t i32;
        int64_t i64;
        bool b;
        const char *k = c->ext[i].key;
        FUZZ_ASSERT(cmd_ext_get(c, k) == c->ext[i].val);
        int r32 = cmd_ext_int32(c, k, &i32), r64 = cmd_ext_int64(c, k, &i64);
        FUZZ_ASSERT(r32 != EXT_MISSING && r64 != EXT_MISSING);
        if (r32 == EXT_OK) FUZZ_ASSERT(r64 == EXT_OK && i64 == i32);
        FUZZ_ASSERT(cmd_ext_bool(c, k, &b) != EXT_MISSING);
    }
    any_header h = {0};
    char err[256];
    if (cmd_decode_header(c, any_fields, sizeof any_fields / sizeof any_fields[0], &h, err, sizeof err) ==
        RMQ_OK)
        FUZZ_ASSERT(h.topic != NULL);
    (void)language_name(c->language);
}

/* decode(encode(c)) must succeed and encode to the same bytes again. */
static void round_trip(rmq_cmd *c)
{
    size_t len1, len2;
    uint8_t *once = encode(c, &len1);
    FUZZ_ASSERT(len1 >= 8 && get_be32(once) == len1 - 4);
    rmq_cmd *back;
    const char *err;
    FUZZ_ASSERT(cmd_decode(once + 4, len1 - 4, &back, &err) == RMQ_OK);
    FUZZ_ASSERT(back->code == c->code && back->opaque == c->opaque && back->flag == c->flag);
    FUZZ_ASSERT(back->n_ext == c->n_ext && back->body_len == c->body_len);
    uint8_t *twice = encode(back, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(once, twice, len1) == 0);
    free(once);
    free(twice);
    cmd_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    size_t pos = 0;
    while (size - pos >= 4) {
        uint32_t len = get_be32(data + pos);
        /* The server closes the connection on these; so does this loop. */
        if (len < 4 || len > RMQ_DEFAULT_MAX_FRAME || len > size - pos - 4) break;
        rmq_cmd *c;
        const char *err;
        if (cmd_decode(data + pos + 4, len, &c, &err) != RMQ_OK) {
            FUZZ_ASSERT(err != NULL);
            break;
        }
        pos += 4 + (size_t)len;
        read_fields(c);
        round_trip(c);
        cmd_free(c);
    }
    return 0;
}
