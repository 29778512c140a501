/*
 * Codec tests: frames built byte by byte from the documented layout
 * (docs/remoting.md), golden frames from Apache 4.9.8 (tests/golden/), and
 * every malformed shape we can think of.
 */
#include <check.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "golden.h"
#include "remoting/remoting.h"
#include "../check_run.h"

/* Builds [hdrword][header][body] (the frame without its length prefix). */
static uint8_t *frame_of(int type, const void *hdr, size_t hlen, const void *body, size_t blen, size_t *len)
{
    *len = 4 + hlen + blen;
    uint8_t *f = malloc(*len);
    put_be32(f, (uint32_t)(type << 24 | hlen));
    memcpy(f + 4, hdr, hlen);
    if (blen) memcpy(f + 4 + hlen, body, blen);
    return f;
}

START_TEST(test_decode_json_as_java_sends)
{
    const char *hdr = "{\"code\":105,\"extFields\":{\"topic\":\"TopicTest\"},\"flag\":0,"
                      "\"language\":\"JAVA\",\"opaque\":7,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}";
    size_t len;
    uint8_t *f = frame_of(0, hdr, strlen(hdr), "xy", 2, &len);
    rmq_cmd *c;
    const char *err;
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
    ck_assert_int_eq(c->code, 105);
    ck_assert_int_eq(c->opaque, 7);
    ck_assert_int_eq(c->version, 409);
    ck_assert_int_eq(c->language, 0);
    ck_assert_int_eq(c->serialize, RMQ_SER_JSON);
    ck_assert_ptr_null(c->remark);
    ck_assert_str_eq(cmd_ext_get(c, "topic"), "TopicTest");
    ck_assert_uint_eq(c->body_len, 2);
    ck_assert_mem_eq(c->body, "xy", 2);
    cmd_free(c);
    free(f);
}
END_TEST

START_TEST(test_decode_json_lenient_values)
{
    /* ali-ons sends numbers and booleans in extFields; Go sends remark "" and language GO. */
    const char *hdr = "{\"code\":17,\"language\":\"NODE_JS\",\"opaque\":3,\"flag\":0,\"version\":121,\"remark\":\"\","
                      "\"extFields\":{\"readQueueNums\":4,\"order\":false,\"topic\":\"T\",\"n\":null,"
                      "\"big\":1700000000123}}";
    size_t len;
    uint8_t *f = frame_of(0, hdr, strlen(hdr), NULL, 0, &len);
    rmq_cmd *c;
    const char *err;
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
    ck_assert_str_eq(cmd_ext_get(c, "readQueueNums"), "4");
    ck_assert_str_eq(cmd_ext_get(c, "order"), "false");
    ck_assert_str_eq(cmd_ext_get(c, "big"), "1700000000123");
    ck_assert_ptr_null(cmd_ext_get(c, "n"));
    ck_assert_int_eq(c->language, 13);
    ck_assert_str_eq(c->remark, "");
    ck_assert_uint_eq(c->body_len, 0);
    cmd_free(c);
    free(f);
}
END_TEST

/* Strings around the decoder's escape-free fast path and numbers around its integer fast
 * path read as before: the closing quote is the first after an even run of backslashes;
 * an integral number of up to 18 digits, and past it through strtod. */
START_TEST(test_decode_json_string_and_number_edges)
{
    const char *hdr = "{\"code\":-0,\"opaque\":007,\"extFields\":{\"plain\":\"abc\",\"empty\":\"\","
                      "\"q\":\"a\\\"b\",\"bs\":\"a\\\\\",\"bsq\":\"x\\\\\\\"y\",\"u\":\"\\u0001\\u00e9\","
                      "\"n18\":123456789012345678,\"n19\":1234567890123456789,\"neg\":-42,"
                      "\"exp\":1e3,\"frac\":2.5,\"big\":12345678901234567890123}}";
    size_t len;
    uint8_t *f = frame_of(0, hdr, strlen(hdr), NULL, 0, &len);
    rmq_cmd *c;
    const char *err;
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
    ck_assert_int_eq(c->code, 0);
    ck_assert_int_eq(c->opaque, 7);
    ck_assert_str_eq(cmd_ext_get(c, "plain"), "abc");
    ck_assert_str_eq(cmd_ext_get(c, "empty"), "");
    ck_assert_str_eq(cmd_ext_get(c, "q"), "a\"b");
    ck_assert_str_eq(cmd_ext_get(c, "bs"), "a\\");
    ck_assert_str_eq(cmd_ext_get(c, "bsq"), "x\\\"y");
    ck_assert_str_eq(cmd_ext_get(c, "u"), "\001\xc3\xa9");
    ck_assert_str_eq(cmd_ext_get(c, "n18"), "123456789012345678");
    ck_assert_str_eq(cmd_ext_get(c, "n19"), "1234567890123456789");
    ck_assert_str_eq(cmd_ext_get(c, "neg"), "-42");
    ck_assert_str_eq(cmd_ext_get(c, "exp"), "1000");
    ck_assert_str_eq(cmd_ext_get(c, "frac"), "2.5");
    ck_assert_str_eq(cmd_ext_get(c, "big"), "1.2345678901234568e+22");
    cmd_free(c);
    free(f);
    /* a NUL in a key or value (escaped or raw) ends it, as a C string reads it */
    static const char nul_hdr[] = "{\"code\":1,\"extFields\":{\"k\\u0000x\":\"v\\u0000w\",\"r\":\"a\0b\",\"s\":\"c\0\\nd\"}}";
    f = frame_of(0, nul_hdr, sizeof nul_hdr - 1, NULL, 0, &len);
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
    ck_assert_str_eq(cmd_ext_get(c, "k"), "v");
    ck_assert_str_eq(cmd_ext_get(c, "r"), "a");
    ck_assert_str_eq(cmd_ext_get(c, "s"), "c");
    cmd_free(c);
    free(f);
    /* a string left open, also after a trailing backslash */
    const char *open_str = "{\"code\":1,\"extFields\":{\"a\":\"x\\\"}}";
    f = frame_of(0, open_str, strlen(open_str), NULL, 0, &len);
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_ERR);
    free(f);
}
END_TEST

/* Long strings read eight bytes at a time: a quote, a backslash or an escape at every
 * offset within and across those words ends the plain run where it is; escapes are
 * unescaped in place in the command's copy of the frame, and the body after the header
 * is left as it came (it is the frame's tail, not a copy). */
START_TEST(test_decode_json_escapes_at_every_offset)
{
    for (int i = 0; i < 20; i++) {
        char hdr[512], want[128];
        char pad[32], tail[32];
        memset(pad, 'x', (size_t)i);
        pad[i] = 0;
        memset(tail, 'y', (size_t)(19 - i));
        tail[19 - i] = 0;
        snprintf(hdr, sizeof hdr,
                 "{\"code\":310,\"extFields\":{\"q\":\"%s\\\"%s\",\"b\":\"%s\\\\%s\","
                 "\"p\":\"%sKEYS\\u0001k\\u0002UNIQ\\u0001%s\\ud83d\\ude00\",\"plain\":\"%s%s\"}}",
                 pad, tail, pad, tail, pad, tail, pad, tail);
        size_t len;
        uint8_t *f = frame_of(0, hdr, strlen(hdr), "body\\\"", 6, &len);
        rmq_cmd *c;
        const char *err;
        ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
        snprintf(want, sizeof want, "%s\"%s", pad, tail);
        ck_assert_str_eq(cmd_ext_get(c, "q"), want);
        snprintf(want, sizeof want, "%s\\%s", pad, tail);
        ck_assert_str_eq(cmd_ext_get(c, "b"), want);
        snprintf(want, sizeof want, "%sKEYS\001k\002UNIQ\001%s\xf0\x9f\x98\x80", pad, tail);
        ck_assert_str_eq(cmd_ext_get(c, "p"), want);
        snprintf(want, sizeof want, "%s%s", pad, tail);
        ck_assert_str_eq(cmd_ext_get(c, "plain"), want);
        ck_assert_uint_eq(c->body_len, 6);
        ck_assert_int_eq(memcmp(c->body, "body\\\"", 6), 0);
        cmd_take_body(c, NULL, 0);          /* a borrowed body is dropped, not freed */
        cmd_set_body(c, "new", 3);
        ck_assert_int_eq(memcmp(c->body, "new", 3), 0);
        cmd_free(c);
        /* the quote left open after a long run, and a backslash as the header's last byte */
        size_t hl = strlen(hdr) - 3;        /* cuts "\"}}" */
        memcpy(f + 4 + hl, "\\", 1);
        put_be32(f, (uint32_t)(hl + 1));
        ck_assert_int_eq(cmd_decode(f, 4 + hl + 1, &c, &err), RMQ_ERR);
        free(f);
    }
}
END_TEST

/* A ROCKETMQ binary header, laid out by hand: code 310, lang CPP, version 333, opaque 0x01020304,
 * flag 2, remark "hi", ext {a: "pg", e: "-1"}. */
static const uint8_t binary_hdr[] = {
    0x01, 0x36,             /* code 310 */
    0x01,                   /* language CPP */
    0x01, 0x4d,             /* version 333 */
    0x01, 0x02, 0x03, 0x04, /* opaque */
    0x00, 0x00, 0x00, 0x02, /* flag: oneway */
    0x00, 0x00, 0x00, 0x02, 'h', 'i',
    0x00, 0x00, 0x00, 0x12, /* ext length 18 */
    0x00, 0x01, 'a', 0x00, 0x00, 0x00, 0x02, 'p', 'g',
    0x00, 0x01, 'e', 0x00, 0x00, 0x00, 0x02, '-', '1',
};

START_TEST(test_decode_binary_by_hand)
{
    size_t len;
    uint8_t *f = frame_of(1, binary_hdr, sizeof binary_hdr, "B", 1, &len);
    rmq_cmd *c;
    const char *err;
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_OK);
    ck_assert_int_eq(c->code, 310);
    ck_assert_int_eq(c->language, 1);
    ck_assert_int_eq(c->version, 333);
    ck_assert_int_eq(c->opaque, 0x01020304);
    ck_assert(cmd_is_oneway(c));
    ck_assert_str_eq(c->remark, "hi");
    ck_assert_str_eq(cmd_ext_get(c, "a"), "pg");
    int32_t q;
    ck_assert_int_eq(cmd_ext_int32(c, "e", &q), EXT_OK);
    ck_assert_int_eq(q, -1);
    ck_assert_int_eq(c->serialize, RMQ_SER_ROCKETMQ);
    /* Our encoder must produce exactly the documented bytes. */
    size_t hlen;
    uint8_t *h = cmd_encode_header(c, &hlen);
    ck_assert_uint_eq(hlen, sizeof binary_hdr);
    ck_assert_mem_eq(h, binary_hdr, hlen);
    free(h);
    cmd_free(c);
    free(f);
}
END_TEST

START_TEST(test_encode_frame_layout)
{
    rmq_cmd *req = cmd_new_request(34);
    req->opaque = 9;
    rmq_cmd *r = cmd_new_response(req, 0, NULL);
    cmd_ext_set(r, "offset", "12");
    cmd_set_body(r, "{}", 2);
    struct evbuffer *out = evbuffer_new();
    cmd_encode_into(r, out);
    size_t n = evbuffer_get_length(out);
    uint8_t *p = evbuffer_pullup(out, -1);
    const char *want = "{\"code\":0,\"extFields\":{\"offset\":\"12\"},\"flag\":1,\"language\":\"JAVA\",\"opaque\":9,"
                       "\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}";
    size_t wl = strlen(want);
    ck_assert_uint_eq(n, 8 + wl + 2);
    ck_assert_uint_eq(get_be32(p), 4 + wl + 2);
    ck_assert_uint_eq(get_be32(p + 4), wl); /* type 0 in the high byte */
    ck_assert_mem_eq(p + 8, want, wl);
    ck_assert_mem_eq(p + 8 + wl, "{}", 2);
    evbuffer_free(out);
    cmd_free(r);
    cmd_free(req);
}
END_TEST

START_TEST(test_json_escaping_roundtrip)
{
    rmq_cmd *c = cmd_new_request(10);
    cmd_ext_set(c, "properties", "KEYS\001k1 k2\002TAGS\001t\"x\\y\002N\001\xc3\xa9\n");
    c->remark = xstrdup("tab\there");
    for (int type = 0; type < 2; type++) {
        c->serialize = type;
        struct evbuffer *out = evbuffer_new();
        cmd_encode_into(c, out);
        size_t n = evbuffer_get_length(out);
        uint8_t *p = evbuffer_pullup(out, -1);
        rmq_cmd *d;
        const char *err;
        ck_assert_int_eq(cmd_decode(p + 4, n - 4, &d, &err), RMQ_OK);
        ck_assert_str_eq(cmd_ext_get(d, "properties"), cmd_ext_get(c, "properties"));
        ck_assert_str_eq(d->remark, "tab\there");
        ck_assert_int_eq(d->serialize, type);
        cmd_free(d);
        evbuffer_free(out);
    }
    cmd_free(c);
}
END_TEST

static void expect_bad(int type, const char *hdr, size_t hlen)
{
    size_t len;
    uint8_t *f = frame_of(type, hdr, hlen, NULL, 0, &len);
    rmq_cmd *c = NULL;
    const char *err = NULL;
    ck_assert_int_eq(cmd_decode(f, len, &c, &err), RMQ_ERR);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(err);
    free(f);
}

START_TEST(test_malformed_frames)
{
    rmq_cmd *c;
    const char *err;
    uint8_t tiny[3] = {0};
    ck_assert_int_eq(cmd_decode(tiny, 3, &c, &err), RMQ_ERR);
    /* Header length larger than the frame. */
    uint8_t f[8];
    put_be32(f, 100);
    memcpy(f + 4, "{}{}", 4);
    ck_assert_int_eq(cmd_decode(f, 8, &c, &err), RMQ_ERR);
    ck_assert_str_eq(err, "bad header length");
    expect_bad(0, "{\"code\":", 8);                      /* truncated JSON */
    expect_bad(0, "[1,2]", 5);                           /* not an object */
    expect_bad(0, "{\"code\":\"abc\"}", 14);             /* non-numeric code */
    expect_bad(0, "{\"flag\":0}", 10);                   /* missing code */
    expect_bad(0, "{\"code\":1.5}", 12);                 /* fractional code */
    expect_bad(0, "{\"code\":1,\"extFields\":[1]}", 26); /* extFields wrong type */
    expect_bad(0, "{\"code\":1,\"extFields\":{\"a\":{}}}", 31);
    expect_bad(2, "{\"code\":1}", 10);                   /* unknown serialize type */
    /* Every truncation of a valid binary header fails cleanly. */
    for (size_t cut = 0; cut < sizeof binary_hdr; cut++) expect_bad(1, (const char *)binary_hdr, cut);
    /* Huge inner lengths. */
    uint8_t bad[sizeof binary_hdr];
    memcpy(bad, binary_hdr, sizeof bad);
    put_be32(bad + 13, 0x7fffffff);
    expect_bad(1, (const char *)bad, sizeof bad);
    memcpy(bad, binary_hdr, sizeof bad);
    put_be32(bad + 19, 0xffffffff);
    expect_bad(1, (const char *)bad, sizeof bad);
}
END_TEST

typedef struct header_case {
    const char *name;
    int32_t qid;
    int64_t off;
    bool order;
} header_case;

START_TEST(test_declarative_header)
{
    static const hdr_field fields[] = {
        {"topic", HDR_STR, true, offsetof(header_case, name)},
        {"queueId", HDR_I32, true, offsetof(header_case, qid)},
        {"queueOffset", HDR_I64, false, offsetof(header_case, off)},
        {"order", HDR_BOOL, false, offsetof(header_case, order)},
    };
    rmq_cmd *c = cmd_new_request(11);
    char err[256];
    header_case h = {.off = -7};
    ck_assert_int_eq(cmd_decode_header(c, fields, 4, &h, err, sizeof err), RMQ_ERR);
    ck_assert_ptr_nonnull(strstr(err, "the custom field <topic> is null"));
    cmd_ext_set(c, "topic", "T");
    cmd_ext_set(c, "queueId", "x1");
    ck_assert_int_eq(cmd_decode_header(c, fields, 4, &h, err, sizeof err), RMQ_ERR);
    ck_assert_ptr_nonnull(strstr(err, "<queueId>"));
    cmd_ext_set_int(c, "queueId", 3);
    cmd_ext_set(c, "order", "TRUE");
    ck_assert_int_eq(cmd_decode_header(c, fields, 4, &h, err, sizeof err), RMQ_OK);
    ck_assert_str_eq(h.name, "T");
    ck_assert_int_eq(h.qid, 3);
    ck_assert_int_eq(h.off, -7); /* optional and absent: untouched */
    ck_assert(h.order);
    cmd_free(c);
}
END_TEST

/* Golden frames: every captured header decodes to what the capture says. */
typedef struct golden_stats {
    int json, binary;
} golden_stats;

static void check_golden_line(cJSON *line, void *arg)
{
    golden_stats *st = arg;
    const cJSON *hdr = cJSON_GetObjectItem(line, "header");
    const char *ser = cJSON_GetObjectItem(line, "serialize")->valuestring;
    const char *body_hex = cJSON_GetObjectItem(line, "body_hex")->valuestring;
    size_t blen = strlen(body_hex) / 2;
    uint8_t *body = malloc(blen + 1);
    ck_assert_int_eq(hex_decode(body, blen, body_hex), (int)blen);
    uint8_t *hbytes;
    size_t hlen;
    const cJSON *want = hdr;
    int type;
    if (strcmp(ser, "JSON") == 0) {
        hbytes = (uint8_t *)cJSON_PrintUnformatted(hdr); /* the sender's key order */
        hlen = strlen((char *)hbytes);
        type = 0;
        st->json++;
    } else {
        const char *hex = cJSON_GetObjectItem(hdr, "hex")->valuestring;
        hlen = strlen(hex) / 2;
        hbytes = malloc(hlen);
        hex_decode(hbytes, hlen, hex);
        want = cJSON_GetObjectItem(hdr, "decoded");
        type = 1;
        st->binary++;
    }
    size_t len;
    uint8_t *f = frame_of(type, hbytes, hlen, body, blen, &len);
    rmq_cmd *c;
    const char *err;
    ck_assert_msg(cmd_decode(f, len, &c, &err) == RMQ_OK, "golden frame failed: %s", err);
    ck_assert_int_eq(c->code, cJSON_GetObjectItem(want, "code")->valueint);
    ck_assert_int_eq(c->opaque, cJSON_GetObjectItem(want, "opaque")->valueint);
    ck_assert_int_eq(c->flag, cJSON_GetObjectItem(want, "flag")->valueint);
    ck_assert_uint_eq(c->body_len, blen);
    const cJSON *ext = cJSON_GetObjectItem(want, "extFields"), *e;
    cJSON_ArrayForEach(e, ext) {
        const char *got = cmd_ext_get(c, e->string);
        ck_assert_msg(got != NULL, "ext field %s lost", e->string);
        if (cJSON_IsString(e)) ck_assert_str_eq(got, e->valuestring);
    }
    if (type == 1) {
        /* Re-encoding a binary header reproduces Apache's bytes exactly. */
        size_t rl;
        uint8_t *re = cmd_encode_header(c, &rl);
        ck_assert_uint_eq(rl, hlen);
        ck_assert_mem_eq(re, hbytes, hlen);
        free(re);
    }
    cmd_free(c);
    free(f);
    free(hbytes);
    free(body);
}

START_TEST(test_golden_frames_decode)
{
    static const char *files[] = {"java-client-4.9.8.jsonl", "java-client-rocketmq-serialize.jsonl",
                                  "go-client-v2.jsonl", "cpp-client-2.x.jsonl", "node-ali-ons.jsonl",
                                  "mqadmin-4.9.8.jsonl", "broker-to-namesrv.jsonl"};
    golden_stats st = {0};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int n = golden_each(files[i], check_golden_line, &st);
        ck_assert_msg(n > 0, "golden file %s missing", files[i]);
    }
    ck_assert_int_gt(st.json, 1000);
    ck_assert_int_gt(st.binary, 200);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_decode_json_as_java_sends);
    tcase_add_test(tc, test_decode_json_lenient_values);
    tcase_add_test(tc, test_decode_binary_by_hand);
    tcase_add_test(tc, test_decode_json_escapes_at_every_offset);
    tcase_add_test(tc, test_encode_frame_layout);
    tcase_add_test(tc, test_json_escaping_roundtrip);
    tcase_add_test(tc, test_malformed_frames);
    tcase_add_test(tc, test_decode_json_string_and_number_edges);
    tcase_add_test(tc, test_declarative_header);
    tcase_add_test(tc, test_golden_frames_decode);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
