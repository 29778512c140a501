/*
 * Apache 5.x's EpochFileCache and auto-switch HA frames: the
 * epochFileCheckpoint text (CheckpointFile: count, CRC32 of the entry lines
 * as UtilAll.crc32 computes it, "epoch-startOffset" lines; the .bak copy),
 * appendEntry's refusals, the truncations, findConsistentPoint, and the
 * handshake/transfer headers of AutoSwitchHAConnection.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testproc.h"
#include "ha/ha.h"
#include "../check_run.h"

static char *dir, *path;

static void set_epochs(ha_epochs *e, const int32_t *epochs, const int64_t *starts, int n)
{
    ha_epochs_init(e, NULL);
    for (int i = 0; i < n; i++) ck_assert(ha_epochs_append(e, epochs[i], starts[i]));
}

START_TEST(test_file_format)
{
    ha_epochs e;
    ha_epochs_init(&e, path);
    ck_assert_int_eq(ha_epochs_load(&e), 0);
    ck_assert_int_eq(e.n, 0);
    ck_assert_int_eq(ha_epochs_last(&e), -1);
    ck_assert(ha_epochs_append(&e, 1, 0));
    ck_assert(ha_epochs_append(&e, 2, 100));
    /* appendEntry: neither an old epoch nor a start that does not grow. */
    ck_assert(!ha_epochs_append(&e, 2, 200));
    ck_assert(!ha_epochs_append(&e, 3, 100));
    char *text = read_file(path, NULL);
    /* java.util.zip.CRC32("1-0\n2-100\n") & 0x7FFFFFFF = 355729437 */
    ck_assert_str_eq(text, "2\n355729437\n1-0\n2-100\n");
    free(text);
    ha_epochs_free(&e);

    ha_epochs_init(&e, path);
    ck_assert_int_eq(ha_epochs_load(&e), 0);
    ck_assert_int_eq(e.n, 2);
    ck_assert_int_eq(e.v[1].epoch, 2);
    ck_assert_int_eq(e.v[1].start, 100);
    ck_assert_int_eq(ha_epochs_find(&e, 99), 0);
    ck_assert_int_eq(ha_epochs_find(&e, 100), 1);
    ck_assert_int_eq(ha_epochs_end(&e, 0, 500), 100);
    ck_assert_int_eq(ha_epochs_end(&e, 1, 500), 500);
    ha_epochs_free(&e);

    /* MixAll.string2File kept the previous content as .bak. */
    char *bak = str_printf("%s.bak", path);
    text = read_file(bak, NULL);
    ck_assert_msg(text && strncmp(text, "1\n", 2) == 0 && strstr(text, "\n1-0\n"), "bak: %s", text ? text : "-");
    free(text);
    free(bak);
}
END_TEST

START_TEST(test_bak_and_truncation)
{
    ha_epochs e;
    ha_epochs_init(&e, path);
    ck_assert(ha_epochs_append(&e, 1, 0));
    ck_assert(ha_epochs_append(&e, 2, 100));
    ck_assert(ha_epochs_append(&e, 4, 300));
    /* The file damaged in place (its CRC no longer matches): the .bak is read. */
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    fseek(f, 2, SEEK_SET);
    fputc('9', f);
    fclose(f);
    ha_epochs_free(&e);
    ha_epochs_init(&e, path);
    ha_epochs_load(&e);
    ck_assert_int_eq(e.n, 2);   /* the .bak holds the list before the last append */
    ck_assert(ha_epochs_append(&e, 4, 300));
    ck_assert(ha_epochs_append(&e, 5, 400));
    ha_epochs_truncate_from(&e, 300);          /* truncateSuffixByOffset */
    ck_assert_int_eq(e.n, 2);
    ck_assert(ha_epochs_append(&e, 6, 350));
    ha_epochs_truncate_from_epoch(&e, 2);      /* truncateSuffixByEpoch */
    ck_assert_int_eq(e.n, 1);
    ha_epochs_free(&e);
    ha_epochs_init(&e, path);
    ha_epochs_load(&e);
    ck_assert_int_eq(e.n, 1);
    ck_assert_int_eq(ha_epochs_last(&e), 1);
    ha_epochs_free(&e);
}
END_TEST

START_TEST(test_consistent_point)
{
    ha_epochs local, remote;
    /* The old master wrote past where the new one's epoch 3 began. */
    set_epochs(&local, (int32_t[]){1, 2}, (int64_t[]){0, 100}, 2);
    set_epochs(&remote, (int32_t[]){1, 2, 3}, (int64_t[]){0, 100, 120}, 3);
    ck_assert_int_eq(ha_epochs_consistent_point(&local, 150, &remote, 200), 120);
    /* A slave that is only behind agrees up to its own end. */
    ck_assert_int_eq(ha_epochs_consistent_point(&local, 110, &remote, 200), 110);
    ha_epochs_free(&local);
    /* The same epoch with another start does not count; an older one does. */
    set_epochs(&local, (int32_t[]){1, 3}, (int64_t[]){0, 110}, 2);
    ck_assert_int_eq(ha_epochs_consistent_point(&local, 150, &remote, 200), 100);
    ha_epochs_free(&local);
    /* Nothing in common. */
    set_epochs(&local, (int32_t[]){7}, (int64_t[]){0}, 1);
    ck_assert_int_eq(ha_epochs_consistent_point(&local, 150, &remote, 200), -1);
    ha_epochs_free(&local);
    ha_epochs_free(&remote);
}
END_TEST

START_TEST(test_frames)
{
    /* A handshake answer: state HANDSHAKE, body 2 entries, master end 4096, last epoch 2. */
    uint8_t buf[HA_AS_HANDSHAKE_HEADER_SIZE + 2 * HA_AS_EPOCH_ENTRY_SIZE];
    put_be32(buf, HA_STATE_HANDSHAKE);
    put_be32(buf + 4, 2 * HA_AS_EPOCH_ENTRY_SIZE);
    put_be64(buf + 8, 4096);
    put_be32(buf + 16, 2);
    put_be32(buf + 20, 1);
    put_be64(buf + 24, 0);
    put_be32(buf + 32, 2);
    put_be64(buf + 36, 1000);
    ha_as_header h;
    ck_assert_int_eq(ha_as_parse_header(buf, 19, &h), 0);
    ck_assert_int_eq(ha_as_parse_header(buf, sizeof buf, &h), (long)sizeof buf);
    ck_assert_int_eq(h.state, HA_STATE_HANDSHAKE);
    ck_assert_int_eq(h.offset, 4096);
    ck_assert_int_eq(h.epoch, 2);
    ha_epochs e;
    ha_epochs_init(&e, NULL);
    ha_epochs_decode(&e, buf + HA_AS_HANDSHAKE_HEADER_SIZE, 2 * HA_AS_EPOCH_ENTRY_SIZE);
    ck_assert_int_eq(e.n, 2);
    ck_assert_int_eq(e.v[1].epoch, 2);
    ck_assert_int_eq(e.v[1].start, 1000);
    ha_epochs_free(&e);

    /* A transfer header: 36 bytes, then the body. */
    uint8_t t[HA_AS_TRANSFER_HEADER_SIZE + 5];
    ha_as_put_transfer_header(t, 5000, 5, 3, 4800, 5005);
    memcpy(t + HA_AS_TRANSFER_HEADER_SIZE, "abcde", 5);
    ck_assert_int_eq(ha_as_parse_header(t, 30, &h), 0);   /* TRANSFER needs its 36 bytes */
    ck_assert_int_eq(ha_as_parse_header(t, sizeof t, &h), (long)sizeof t);
    ck_assert_int_eq(h.state, HA_STATE_TRANSFER);
    ck_assert_int_eq(h.body_size, 5);
    ck_assert_int_eq(h.offset, 5000);
    ck_assert_int_eq(h.epoch, 3);
    ck_assert_int_eq(h.epoch_start, 4800);
    ck_assert_int_eq(h.confirm_offset, 5005);
    /* Bad: an unknown state, a negative or too large body. */
    put_be32(t, 7);
    ck_assert_int_eq(ha_as_parse_header(t, sizeof t, &h), -1);
    put_be32(t, HA_STATE_TRANSFER);
    put_be32(t + 4, (uint32_t)-1);
    ck_assert_int_eq(ha_as_parse_header(t, sizeof t, &h), -1);
    put_be32(t + 4, HA_MAX_FRAME_BODY + 1);
    ck_assert_int_eq(ha_as_parse_header(t, sizeof t, &h), -1);
}
END_TEST

static void setup(void)
{
    dir = test_tmpdir("test_ha_epochs");
    path = str_printf("%s/epochFileCheckpoint", dir);
}

static void teardown(void)
{
    test_rmdir(dir);
    free(dir);
    free(path);
}

int main(void)
{
    Suite *s = suite_create("ha_epochs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_file_format);
    tcase_add_test(tc, test_bak_and_truncation);
    tcase_add_test(tc, test_consistent_point);
    tcase_add_test(tc, test_frames);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
