/*
 * A commitlog written by Apache RocketMQ 4.9.8 itself: the first bytes of the
 * master's commitlog as it shipped them to its slave (tests/golden/
 * ha-master-slave.jsonl, master_transfer frames: raw commitlog from offset 0).
 * Placed as a segment file after an unclean stop, our store must recover it,
 * rebuild the consume queues and index from it, and serve those messages.
 */
#include <check.h>
#include <fcntl.h>

#include "../remoting/golden.h"
#include "store_test.h"
#include "../check_run.h"

typedef struct apache_bytes {
    uint8_t buf[8192];
    size_t len;       /* contiguous bytes from offset 0 */
} apache_bytes;

static void take_transfer(cJSON *line, void *arg)
{
    apache_bytes *ab = arg;
    const cJSON *kind = cJSON_GetObjectItem(line, "kind");
    if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "master_transfer")) return;
    int64_t off = (int64_t)cJSON_GetObjectItem(line, "master_phy_offset")->valuedouble;
    const char *hex = cJSON_GetObjectItem(line, "data_hex")->valuestring;
    size_t n = strlen(hex) / 2;
    if (off != (int64_t)ab->len || n == 0 || ab->len + n > sizeof ab->buf) return; /* keep it contiguous */
    ck_assert_int_eq(hex_decode(ab->buf + ab->len, n, hex), (int)n);
    ab->len += n;
}

START_TEST(test_store_serves_a_commitlog_apache_wrote)
{
    apache_bytes ab = {.len = 0};
    ck_assert_int_gt(golden_each("ha-master-slave.jsonl", take_transfer, &ab), 0);
    ck_assert_uint_gt(ab.len, 1000);
    /* Whole records only: what Apache wrote, up to where the capture was cut. */
    size_t whole = 0;
    int records = 0;
    while (whole + 4 <= ab.len) {
        uint32_t size = get_be32(ab.buf + whole);
        if (size == 0 || whole + size > ab.len) break;
        whole += size;
        records++;
    }
    ck_assert_int_ge(records, 4);

    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.mappedFileSizeCommitLog = 1024 * 1024;
    char *cl = test_path(dir, "commitlog");
    ck_assert_int_eq(mkdirs(cl), RMQ_OK);
    char *seg = str_printf("%s/00000000000000000000", cl);
    int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, cfg.mappedFileSizeCommitLog), 0);
    /* Only whole records: the capture cut the stream at 1 KiB per transfer. */
    ck_assert_int_eq(pwrite(fd, ab.buf, whole, 0), (ssize_t)whole);
    close(fd);
    char *abort_file = test_path(dir, "abort");
    close(open(abort_file, O_WRONLY | O_CREAT, 0644));

    store *s = test_open(&cfg);
    ck_assert_int_eq(store_commitlog_max_offset(s), (int64_t)whole);
    /* Every record is served from the consume queue its header names. */
    int served = 0;
    size_t pos = 0;
    while (pos < whole) {
        msg_record want;
        const char *why;
        ck_assert_msg(msg_record_decode(ab.buf + pos, whole - pos, &want, &why) == RMQ_OK, "%s", why);
        char topic[128];
        snprintf(topic, sizeof topic, "%.*s", (int)want.topic_len, want.topic);
        store_get_result res;
        ck_assert_int_eq(store_get_messages(s, "G", topic, want.queue_id, want.queue_offset, 1, NULL, &res), RMQ_OK);
        ck_assert_int_eq(res.status, STORE_GET_FOUND);
        ck_assert_uint_eq(res.msgs[0].len, want.total_size);
        ck_assert(memcmp(res.msgs[0].data, ab.buf + pos, want.total_size) == 0);
        store_get_result_release(&res);
        /* And the index finds it by its UNIQ_KEY. */
        const char *uk;
        size_t ukl;
        ck_assert(msg_props_find(want.props, want.props_len, "UNIQ_KEY", &uk, &ukl));
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)ukl, uk);
        store_query_result q;
        store_query_by_key(s, topic, key, 32, 0, INT64_MAX, &q);
        ck_assert_int_eq(q.count, 1);
        ck_assert_int_eq(q.offsets[0], want.phys_offset);
        pos += want.total_size;
        served++;
    }
    ck_assert_int_eq(served, records);
    store_close(s);
    free(abort_file);
    free(seg);
    free(cl);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("apache_commitlog");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_store_serves_a_commitlog_apache_wrote);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
