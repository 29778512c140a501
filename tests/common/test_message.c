#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/message.h"
#include "common/util.h"
#include "../check_run.h"

START_TEST(test_props_parse_and_encode)
{
    msg_props p;
    msg_props_init(&p);
    /* Trailing \2 (pre-4.9.8 writers), a 2-byte segment, an empty key, a segment without \1. */
    const char *s = "TAGS\001TagA\002ab\002\001x\002noeq\002KEYS\001k1 k2\002TAGS\001TagB\002";
    msg_props_parse(&p, s, strlen(s));
    ck_assert_int_eq(p.count, 2);
    ck_assert_str_eq(msg_props_get(&p, "TAGS"), "TagB");   /* last value wins */
    ck_assert_str_eq(msg_props_get(&p, "KEYS"), "k1 k2");
    msg_props_set(&p, "WAIT", "true");
    ck_assert(msg_props_remove(&p, "KEYS"));
    ck_assert(!msg_props_remove(&p, "KEYS"));
    size_t len;
    char *enc = msg_props_encode(&p, &len);
    ck_assert_str_eq(enc, "TAGS\001TagB\002WAIT\001true");
    ck_assert_uint_eq(len, strlen(enc));
    free(enc);
    msg_props_free(&p);

    const char *v;
    size_t vlen;
    ck_assert(msg_props_find(s, strlen(s), "KEYS", &v, &vlen));
    ck_assert_int_eq((int)vlen, 5);
    ck_assert(memcmp(v, "k1 k2", 5) == 0);
    ck_assert(!msg_props_find(s, strlen(s), "UNIQ_KEY", &v, &vlen));
    /* A value may be empty: "K\1" is 2 bytes and skipped, "KE\1" is kept. */
    ck_assert(msg_props_find("KE\001", 3, "KE", &v, &vlen));
    ck_assert_int_eq((int)vlen, 0);
}
END_TEST

/* A record laid out by hand from docs/message.md. */
static size_t hand_record(uint8_t *b)
{
    size_t o = 0;
    o += 4;                                              /* TOTALSIZE, filled below */
    put_be32(b + o, 0xDAA320A7u); o += 4;
    put_be32(b + o, (uint32_t)rmq_crc32("hello", 5)); o += 4;
    put_be32(b + o, 3); o += 4;                          /* QUEUEID */
    put_be32(b + o, 7); o += 4;                          /* FLAG */
    put_be64(b + o, 42); o += 8;                         /* QUEUEOFFSET */
    put_be64(b + o, 4096); o += 8;                       /* PHYSICALOFFSET */
    put_be32(b + o, 0); o += 4;                          /* SYSFLAG */
    put_be64(b + o, 1700000000000ULL); o += 8;           /* BORNTIMESTAMP */
    b[o++] = 192; b[o++] = 168; b[o++] = 0; b[o++] = 7;
    put_be32(b + o, 50000); o += 4;
    put_be64(b + o, 1700000000500ULL); o += 8;           /* STORETIMESTAMP */
    b[o++] = 10; b[o++] = 1; b[o++] = 2; b[o++] = 3;
    put_be32(b + o, 10911); o += 4;
    put_be32(b + o, 2); o += 4;                          /* RECONSUMETIMES */
    put_be64(b + o, 0); o += 8;                          /* PREPARED TX OFFSET */
    put_be32(b + o, 5); o += 4;
    memcpy(b + o, "hello", 5); o += 5;
    b[o++] = 9;
    memcpy(b + o, "TopicTest", 9); o += 9;
    put_be16(b + o, 9); o += 2;
    memcpy(b + o, "TAGS\001TagA", 9); o += 9;
    put_be32(b, (uint32_t)o);
    return o;
}

START_TEST(test_record_encode_matches_layout)
{
    uint8_t want[256], got[256];
    size_t n = hand_record(want);
    ck_assert_uint_eq(n, 84 + 4 + 5 + 1 + 9 + 2 + 9);
    msg_record r = {
        .body_crc = rmq_crc32("hello", 5), .queue_id = 3, .flag = 7, .queue_offset = 42,
        .phys_offset = 4096, .born_timestamp = 1700000000000LL, .store_timestamp = 1700000000500LL,
        .reconsume_times = 2, .body = (const uint8_t *)"hello", .body_len = 5,
        .topic = "TopicTest", .topic_len = 9, .props = "TAGS\001TagA", .props_len = 9,
    };
    ck_assert_int_eq(msg_host_parse(&r.born_host, "192.168.0.7:50000"), RMQ_OK);
    ck_assert_int_eq(msg_host_parse(&r.store_host, "10.1.2.3:10911"), RMQ_OK);
    ck_assert_uint_eq(msg_record_size(5, 9, 9, false, false), n);
    ck_assert_uint_eq(msg_record_encode(got, &r), n);
    ck_assert(memcmp(got, want, n) == 0);
    ck_assert(msg_record_store_timestamp(want) == 1700000000500LL);

    msg_record d;
    const char *why;
    ck_assert_int_eq(msg_record_decode(want, n, &d, &why), RMQ_OK);
    ck_assert_int_eq(d.queue_id, 3);
    ck_assert(d.queue_offset == 42 && d.phys_offset == 4096);
    ck_assert_int_eq(d.born_host.port, 50000);
    ck_assert_int_eq(d.store_host.ip[0], 10);
    ck_assert(d.body == want + 88 && d.body_len == 5);       /* a view, not a copy */
    ck_assert(d.topic_len == 9 && memcmp(d.topic, "TopicTest", 9) == 0);
    ck_assert(d.props_len == 9);
}
END_TEST

START_TEST(test_record_ipv6_and_validation)
{
    uint8_t buf[256];
    msg_record r = {.body = (const uint8_t *)"x", .body_len = 1, .topic = "T", .topic_len = 1};
    ck_assert_int_eq(msg_host_parse(&r.born_host, "[::1]:1234"), RMQ_OK);
    ck_assert_int_eq(msg_host_parse(&r.store_host, "10.0.0.1:10911"), RMQ_OK);
    uint32_t n = msg_record_encode(buf, &r);
    ck_assert_uint_eq(n, 84 + 12 + 4 + 1 + 1 + 1 + 2);
    ck_assert_uint_eq(get_be32(buf + 36), 0x10);                 /* BORNHOST_V6 set from the host */
    ck_assert_uint_eq(get_be32(buf + 48 + 16), 1234);            /* port after 16 address bytes */
    msg_record d;
    const char *why;
    ck_assert_int_eq(msg_record_decode(buf, n, &d, &why), RMQ_OK);
    ck_assert(d.born_host.v6 && d.born_host.ip[15] == 1 && !d.store_host.v6);
    ck_assert_int_eq(msg_record_decode(buf, n - 1, &d, &why), RMQ_ERR);     /* cut */
    put_be32(buf, n + 1);
    ck_assert_int_eq(msg_record_decode(buf, n + 1, &d, &why), RMQ_ERR);     /* size disagrees */
    put_be32(buf, n);
    put_be32(buf + 4, 0xCBD43194u);
    ck_assert_int_eq(msg_record_decode(buf, n, &d, &why), RMQ_ERR);         /* blank, not a message */
    ck_assert_str_eq(why, "bad magic code");
}
END_TEST

START_TEST(test_offset_msg_id)
{
    msg_host h, back;
    int64_t off;
    char id[MSG_ID_MAX_LEN + 1];
    ck_assert_int_eq(msg_host_parse(&h, "127.0.0.1:10911"), RMQ_OK);
    ck_assert_int_eq(msg_offset_id_create(id, &h, 0x1234), 32);
    ck_assert_str_eq(id, "7F00000100002A9F0000000000001234");
    ck_assert_int_eq(msg_offset_id_decode(id, &back, &off), RMQ_OK);
    ck_assert(!back.v6 && back.port == 10911 && off == 0x1234 && back.ip[0] == 127);
    ck_assert_int_eq(msg_host_parse(&h, "[fe80::1]:10911"), RMQ_OK);
    ck_assert_int_eq(msg_offset_id_create(id, &h, 1), 56);
    ck_assert_int_eq(msg_offset_id_decode(id, &back, &off), RMQ_OK);
    ck_assert(back.v6 && back.ip[0] == 0xfe && back.ip[15] == 1 && off == 1);
    ck_assert_int_eq(msg_offset_id_decode("7F000001", &back, &off), RMQ_ERR);
    char s[64];
    msg_host_format(&h, s, sizeof(s));
    ck_assert_str_eq(s, "fe80::1:10911");
}
END_TEST

START_TEST(test_batch_decode_java_body)
{
    /* The first item of a SEND_BATCH_MESSAGE body captured from the 4.9.8 Java client
     * (tests/golden/java-client-4.9.8.jsonl), then one more hand-made item. */
    const char *hex =
        "0000007600000000000000000000000000000006626174636830005a4b455953016b3002554e49515f4b455901"
        "464430303030303030303030303030303030303030303030303030303030303234434438354646443242323737"
        "343644333738423031324302574149540174727565025441475301420000001B00000000000000000000000500"
        "00000179000378017A";
    uint8_t buf[256];
    int n = hex_decode(buf, sizeof(buf), hex);
    ck_assert_int_gt(n, 0);
    msg_batch_item *items;
    int count;
    const char *why;
    ck_assert_int_eq(msg_batch_decode(buf, (size_t)n, &items, &count, &why), RMQ_OK);
    ck_assert_int_eq(count, 2);
    ck_assert(items[0].body_len == 6 && memcmp(items[0].body, "batch0", 6) == 0);
    ck_assert_int_eq((int)items[0].props_len, 0x5a);
    const char *v;
    size_t vl;
    ck_assert(msg_props_find(items[0].props, items[0].props_len, "KEYS", &v, &vl));
    ck_assert(vl == 2 && memcmp(v, "k0", 2) == 0);
    ck_assert_int_eq(items[1].flag, 5);
    ck_assert(items[1].body_len == 1 && items[1].body[0] == 'y');
    free(items);
    ck_assert_int_eq(msg_batch_decode(buf, (size_t)n - 1, &items, &count, &why), RMQ_ERR);
    ck_assert_int_eq(msg_batch_decode(buf, 0, &items, &count, &why), RMQ_ERR);
}
END_TEST

START_TEST(test_tags_code)
{
    ck_assert(msg_tags_code("TagA", 4) == 2598919);
    ck_assert(msg_tags_code("", 0) == 0);
    /* A negative String.hashCode stays negative (sign-extended). */
    ck_assert(msg_tags_code("%RETRY%consumer_group_long_name", 31) == -1330792601LL);
}
END_TEST

/* Regression (found by the grpc fuzzer): a stored reconsumeTimes of INT_MAX sent back,
 * revived or converted must wrap as Java's int does, not overflow. */
START_TEST(test_next_reconsume_times_wraps_as_java)
{
    ck_assert_int_eq(msg_next_reconsume_times(0), 1);
    ck_assert_int_eq(msg_next_reconsume_times(15), 16);
    ck_assert_int_eq(msg_next_reconsume_times(-1), 0);
    ck_assert_int_eq(msg_next_reconsume_times(INT32_MAX), INT32_MIN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("message");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_props_parse_and_encode);
    tcase_add_test(tc, test_record_encode_matches_layout);
    tcase_add_test(tc, test_record_ipv6_and_validation);
    tcase_add_test(tc, test_offset_msg_id);
    tcase_add_test(tc, test_batch_decode_java_body);
    tcase_add_test(tc, test_tags_code);
    tcase_add_test(tc, test_next_reconsume_times_wraps_as_java);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
