#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/util.h"
#include "../check_run.h"

START_TEST(test_java_string_hash)
{
    /* Values computed by Java's String.hashCode(). */
    ck_assert_int_eq(java_string_hash("", 0), 0);
    ck_assert_int_eq(java_string_hash("TagA", 4), 2598919);
    ck_assert_int_eq(java_string_hash("hello world", 11), 1794106052);
    /* Overflowing values wrap like Java int arithmetic (values from a JVM). */
    ck_assert_int_eq(java_string_hash("TopicTest#key-123456", 20), 1779429651);
    ck_assert_int_eq(java_string_hash("%RETRY%consumer_group_long_name", 31), -1330792601);
    /* Non-ASCII: "é" is one UTF-16 unit 0xE9; U+1F600 is a surrogate pair. */
    ck_assert_int_eq(java_string_hash("\xc3\xa9", 2), 0xE9);
    ck_assert_int_eq(java_string_hash("\xf0\x9f\x98\x80", 4), 0xD83D * 31 + 0xDE00);
}
END_TEST

START_TEST(test_crc32_masked)
{
    /* CRC32("123456789") = 0xCBF43926, masked to 31 bits as UtilAll.crc32 does. */
    ck_assert_int_eq(rmq_crc32("123456789", 9), 0x4BF43926);
    /* The same as zlib's crc32 (masked) on every length up to 2 KiB at every alignment
     * mod 16: the carry-less multiply path takes 64 bytes and more, zlib the tail. */
    static uint8_t buf[2048 + 16];
    srandom(16);
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)random();
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 2048; len += off ? 7 : 1) {
            uLong want = crc32(crc32(0L, Z_NULL, 0), buf + off, (uInt)len);
            ck_assert_msg(rmq_crc32(buf + off, len) == (int32_t)(want & 0x7FFFFFFF), "len %zu off %zu", len, off);
        }
}
END_TEST

START_TEST(test_parse_numbers)
{
    int64_t v;
    int32_t i;
    ck_assert_int_eq(parse_int64("9223372036854775807", &v), RMQ_OK);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(parse_int64("12x", &v), RMQ_ERR);
    ck_assert_int_eq(parse_int64("", &v), RMQ_ERR);
    ck_assert_int_eq(parse_int32("2147483648", &i), RMQ_ERR);
    ck_assert_int_eq(parse_int32("-5", &i), RMQ_OK);
    ck_assert_int_eq(i, -5);
    ck_assert(parse_java_bool("TRUE"));
    ck_assert(!parse_java_bool("yes"));
    /* parse_int64 (a fast path for short plain numbers) accepts and reads what strtoll
     * read whole, without overflow, in every form around that path's edges */
    const char *forms[] = {"0", "-0", "7", "-7", "007", "123456789012345678", "-123456789012345678",
                           "999999999999999999", "1234567890123456789", "9223372036854775807",
                           "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                           "99999999999999999999", "+5", " 5", "5 ", "-", "--5", "1-", "0x10", "1e3", "12.0"};
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        char *end;
        errno = 0;
        long long want = strtoll(forms[k], &end, 10);
        bool ok = !errno && !*end && end != forms[k];
        v = 42;
        ck_assert_msg((parse_int64(forms[k], &v) == RMQ_OK) == ok, "%s", forms[k]);
        if (ok) ck_assert_msg(v == want, "%s", forms[k]);
    }
    /* fmt_int64 writes what "%lld" writes, the extremes included. */
    const int64_t samples[] = {0, 7, -1, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN};
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        char mine[24], want[24];
        size_t n = fmt_int64(mine, samples[k]);
        snprintf(want, sizeof want, "%lld", (long long)samples[k]);
        ck_assert_str_eq(mine, want);
        ck_assert_uint_eq(n, strlen(want));
    }
}
END_TEST

START_TEST(test_strs_dup)
{
    /* strings of every size, small ones around big ones: each keeps its bytes and NUL
     * until strs_free (the sanitizer build checks the chunks' bounds and that all are freed) */
    struct str_chunk *strs = NULL;
    char *got[300], want[2100];
    for (int k = 0; k < 300; k++) {
        size_t n = (size_t)(k % 7 == 0 ? k * 7 : k % 13);
        memset(want, 'a' + k % 26, n);
        got[k] = strs_dup(&strs, want, n);
    }
    for (int k = 0; k < 300; k++) {
        size_t n = (size_t)(k % 7 == 0 ? k * 7 : k % 13);
        ck_assert_uint_eq(strlen(got[k]), n);
        for (size_t j = 0; j < n; j++) ck_assert_int_eq(got[k][j], 'a' + k % 26);
    }
    strs_free(&strs);
    ck_assert_ptr_null(strs);
}
END_TEST

START_TEST(test_atomic_write_keeps_bak)
{
    char dir[] = "/tmp/rmq-util-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = str_printf("%s/a/b/x.json", dir);
    char *sub = str_printf("%s/a/b", dir);
    ck_assert_int_eq(mkdirs(sub), RMQ_OK);
    ck_assert_int_eq(write_file_atomic(path, "one", 3), RMQ_OK);
    ck_assert_int_eq(write_file_atomic(path, "two", 3), RMQ_OK);
    size_t n;
    char *s = read_file(path, &n);
    ck_assert_str_eq(s, "two");
    free(s);
    char *bak = str_printf("%s.bak", path);
    s = read_file(bak, &n);
    ck_assert_str_eq(s, "one");
    free(s);
    /* An empty main file falls back to .bak, as ConfigManager.load does. */
    ck_assert_int_eq(truncate(path, 0), 0);
    s = read_file_or_bak(path, &n);
    ck_assert_str_eq(s, "one");
    free(s);
    free(bak);
    free(path);
    free(sub);
}
END_TEST

START_TEST(test_host_port_and_hex)
{
    char host[64];
    int port;
    ck_assert_int_eq(split_host_port("127.0.0.1:10911", host, sizeof host, &port), RMQ_OK);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 10911);
    ck_assert_int_eq(split_host_port("[::1]:9876", host, sizeof host, &port), RMQ_OK);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(split_host_port("nohost", host, sizeof host, &port), RMQ_ERR);
    ck_assert_int_eq(split_host_port("h:99999", host, sizeof host, &port), RMQ_ERR);
    uint8_t b[4] = {0x7f, 0, 0, 1}, back[4];
    char hex[9];
    hex_upper(hex, b, 4);
    ck_assert_str_eq(hex, "7F000001");
    ck_assert_int_eq(hex_decode(back, 4, "7f000001"), 4);
    ck_assert_mem_eq(back, b, 4);
    ck_assert_int_eq(hex_decode(back, 4, "zz"), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_java_string_hash);
    tcase_add_test(tc, test_crc32_masked);
    tcase_add_test(tc, test_parse_numbers);
    tcase_add_test(tc, test_strs_dup);
    tcase_add_test(tc, test_atomic_write_keeps_bak);
    tcase_add_test(tc, test_host_port_and_hex);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
