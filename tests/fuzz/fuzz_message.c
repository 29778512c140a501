/*
 * Message encodings (src/common/message): the first byte picks what the rest is.
 *   0  stored records back to back, as in a pull/query/view body or a commit-log
 *      segment: each decoded record must re-encode to exactly its own bytes;
 *   1  a SEND_BATCH_MESSAGE body, then each item's properties string;
 *   2  a properties string (k\1v\2k\1v): walked, parsed, edited, encoded and
 *      parsed again to the same list;
 *   3  the small text formats: offset msgId, host:port, messageDelayLevel, tags.
 */
#include "common/message.h"
#include "fuzz.h"

static void records(const uint8_t *p, size_t len)
{
    while (len > 0) {
        msg_record r;
        const char *why = NULL;
        if (msg_record_decode(p, len, &r, &why) != RMQ_OK) {
            FUZZ_ASSERT(why != NULL);
            return;
        }
        FUZZ_ASSERT(r.total_size <= len);
        FUZZ_ASSERT(msg_record_size(r.body_len, r.topic_len, r.props_len, r.born_host.v6, r.store_host.v6) ==
                    r.total_size);
        uint8_t *copy = xmalloc(r.total_size);
        FUZZ_ASSERT(msg_record_encode(copy, &r) == r.total_size);
        FUZZ_ASSERT(memcmp(copy, p, r.total_size) == 0);
        free(copy);
        char id[MSG_ID_MAX_LEN + 1];
        msg_host host;
        int64_t off;
        int n = msg_offset_id_create(id, &r.store_host, r.phys_offset);
        FUZZ_ASSERT(n == (int)strlen(id));
        FUZZ_ASSERT(msg_offset_id_decode(id, &host, &off) == RMQ_OK && off == r.phys_offset);
        const char *tags;
        size_t tags_len;
        if (msg_props_find(r.props, r.props_len, MSG_PROP_TAGS, &tags, &tags_len))
            (void)msg_tags_code(tags, tags_len);
        p += r.total_size;
        len -= r.total_size;
    }
}

static void props_string(const char *s, size_t len)
{
    const char *cur = s;
    msg_prop_view v;
    size_t walked = 0;
    while (msg_props_next(&cur, s + len, &v)) {
        FUZZ_ASSERT(v.key >= s && v.key + v.key_len <= s + len && v.key_len > 0);
        FUZZ_ASSERT(v.value >= s && v.value + v.value_len <= s + len);
        walked++;
    }
    msg_props p;
    msg_props_init(&p);
    msg_props_parse(&p, s, len);
    FUZZ_ASSERT((size_t)p.count <= walked);
    msg_props_set(&p, MSG_PROP_WAIT, "false");
    msg_props_remove(&p, MSG_PROP_KEYS);
    size_t elen;
    char *enc = msg_props_encode(&p, &elen);
    /* Parsed strings end at a NUL byte (C strings), so only NUL-free input round-trips. */
    if (!memchr(s, 0, len)) {
        msg_props back;
        msg_props_init(&back);
        msg_props_parse(&back, enc, elen);
        FUZZ_ASSERT(back.count == p.count);
        for (int i = 0; i < p.count; i++) {
            const char *val = msg_props_get(&back, p.items[i].key);
            FUZZ_ASSERT(val && strcmp(val, p.items[i].value) == 0);
        }
        msg_props_free(&back);
    }
    msg_props_free(&p);
    free(enc);
}

static void batch(const uint8_t *p, size_t len)
{
    msg_batch_item *items;
    int count;
    const char *why = NULL;
    if (msg_batch_decode(p, len, &items, &count, &why) != RMQ_OK) {
        FUZZ_ASSERT(why != NULL);
        return;
    }
    FUZZ_ASSERT(count > 0);
    for (int i = 0; i < count; i++) {
        FUZZ_ASSERT(items[i].body >= p && items[i].body + items[i].body_len <= p + len);
        FUZZ_ASSERT((const uint8_t *)items[i].props + items[i].props_len <= p + len);
        props_string(items[i].props, items[i].props_len);
    }
    free(items);
}

static void text_formats(const uint8_t *p, size_t len)
{
    char *s = xstrndup((const char *)p, len);
    msg_host h;
    int64_t off;
    char id[MSG_ID_MAX_LEN + 1], again[MSG_ID_MAX_LEN + 1];
    if (msg_offset_id_decode(s, &h, &off) == RMQ_OK) {
        msg_offset_id_create(id, &h, off);
        FUZZ_ASSERT(msg_offset_id_decode(id, &h, &off) == RMQ_OK);
        msg_offset_id_create(again, &h, off);
        FUZZ_ASSERT(strcmp(id, again) == 0);
    }
    if (msg_host_parse(&h, s) == RMQ_OK) {
        char text[80];
        msg_host_format(&h, text, sizeof text);
    }
    int64_t delays[MSG_MAX_DELAY_LEVELS];
    const char *bad = NULL;
    int n = msg_delay_levels_parse(s, delays, &bad);
    FUZZ_ASSERT(n <= MSG_MAX_DELAY_LEVELS && (n >= 0 || bad != NULL));
    (void)msg_tags_code(s, strlen(s));
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (data[0] & 3) {
    case 0: records(p, len); break;
    case 1: batch(p, len); break;
    case 2: props_string((const char *)p, len); break;
    case 3: text_formats(p, len); break;
    }
    return 0;
}
