/*
 * The HA wire format against real traffic between an Apache 4.9.8 master and
 * slave (tests/golden/ha-master-slave.jsonl): the master's stream, fed to the
 * parser segment by segment as TCP delivered it, yields exactly the captured
 * transfers; our header encoder reproduces every captured header; the slave's
 * report stream parses to its captured values. Then the complete frames at the
 * head of the capture are applied to a store as a slave applies them.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ha/ha.h"
#include "store/store.h"
#include "../remoting/golden.h"
#include "../testproc.h"
#include "../check_run.h"

typedef struct golden {
    cJSON **lines;
    int n;
} golden;

static golden g;

static void load_golden(void)
{
    char *path = golden_path("ha-master-slave.jsonl");
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    g.lines = NULL;
    g.n = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(l);
        ck_assert_ptr_nonnull(j);
        g.lines = xrealloc(g.lines, sizeof *g.lines * (size_t)(g.n + 1));
        g.lines[g.n++] = j;
    }
    free(text);
}

static void free_golden(void)
{
    for (int i = 0; i < g.n; i++) cJSON_Delete(g.lines[i]);
    free(g.lines);
}

static const char *str_of(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t int_of(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    ck_assert_msg(cJSON_IsNumber(v), "no %s", k);
    return (int64_t)v->valuedouble;
}

static bool is(const cJSON *j, const char *kind, const char *src)
{
    return strcmp(str_of(j, "kind"), kind) == 0 && strcmp(str_of(j, "src"), src) == 0;
}

/* hex to bytes (out holds at least 4 KiB, the capture's cut); returns the byte count. */
static size_t unhex(const char *hex, uint8_t *out)
{
    int n = hex_decode(out, 4096, hex);
    ck_assert_int_eq(n, (int)(strlen(hex) / 2));
    return (size_t)n;
}

/* The captured master transfers, in order. */
static int transfers(const cJSON **out, int max)
{
    int n = 0;
    for (int i = 0; i < g.n && n < max; i++)
        if (is(g.lines[i], "master_transfer", "broker")) out[n++] = g.lines[i];
    return n;
}

START_TEST(test_header_encoder_matches_capture)
{
    const cJSON *t[64];
    int n = transfers(t, 64);
    ck_assert_int_eq(n, 34);
    for (int i = 0; i < n; i++) {
        uint8_t want[HA_HEADER_SIZE], got[HA_HEADER_SIZE];
        ck_assert_int_eq(unhex(str_of(t[i], "header_hex"), want), HA_HEADER_SIZE);
        ha_header_put(got, int_of(t[i], "master_phy_offset"), (int32_t)int_of(t[i], "size"));
        ck_assert(memcmp(got, want, HA_HEADER_SIZE) == 0);
    }
}
END_TEST

/*
 * Reassembles the captured master segments (holes where hex was cut become
 * zeros, which only ever fall inside bodies) and parses as they arrive.
 * Returns the stream; *complete_upto is where the first cut begins.
 */
static uint8_t *master_stream(size_t *len, size_t *complete_upto)
{
    size_t cap = 1 << 20, pos = 0;
    uint8_t *s = xcalloc(1, cap);
    *complete_upto = SIZE_MAX;
    for (int i = 0; i < g.n; i++) {
        const cJSON *j = g.lines[i];
        if (!is(j, "raw", "broker")) continue;
        ck_assert_int_eq(int_of(j, "stream_offset"), (int64_t)pos);
        size_t chunk = (size_t)int_of(j, "chunk_len");
        ck_assert(pos + chunk <= cap);
        size_t got = unhex(str_of(j, "hex"), s + pos);
        if (got < chunk && *complete_upto == SIZE_MAX) *complete_upto = pos + got;
        pos += chunk;
    }
    *len = pos;
    return s;
}

START_TEST(test_master_stream_parses_into_captured_transfers)
{
    const cJSON *t[64];
    int nt = transfers(t, 64);
    size_t len, complete;
    uint8_t *s = master_stream(&len, &complete);
    ck_assert_uint_gt(complete, 6000);

    /* Feed segment by segment, as the slave's socket would deliver it. */
    size_t fed = 0, parsed = 0;
    int k = 0, incomplete_seen = 0;
    for (int i = 0; i < g.n; i++) {
        if (!is(g.lines[i], "raw", "broker")) continue;
        fed += (size_t)int_of(g.lines[i], "chunk_len");
        for (;;) {
            ha_transfer tr;
            long n = ha_parse_transfer(s + parsed, fed - parsed, &tr);
            ck_assert_int_ge(n, 0);
            if (n == 0) {
                if (fed - parsed >= HA_HEADER_SIZE) incomplete_seen++;  /* header here, body not yet */
                break;
            }
            ck_assert_int_lt(k, nt);
            ck_assert_int_eq(tr.phys_offset, int_of(t[k], "master_phy_offset"));
            ck_assert_int_eq(tr.size, int_of(t[k], "size"));
            ck_assert_int_eq((int64_t)parsed, int_of(t[k], "stream_offset"));
            ck_assert_ptr_eq(tr.data, s + parsed + HA_HEADER_SIZE);
            uint8_t want[4096];
            size_t wn = unhex(str_of(t[k], "data_hex"), want);
            if (parsed + HA_HEADER_SIZE + wn <= complete) ck_assert(memcmp(tr.data, want, wn) == 0);
            if (tr.size > 0) {
                /* A stored record: total size, then the magic daa320a7. */
                ck_assert_uint_eq(get_be32(tr.data + 4), 0xdaa320a7u);
            }
            /* Frames follow each other without gaps in the commit log. */
            if (k > 0)
                ck_assert_int_eq(tr.phys_offset,
                                 int_of(t[k - 1], "master_phy_offset") + int_of(t[k - 1], "size"));
            parsed += (size_t)n;
            k++;
        }
    }
    ck_assert_uint_eq(parsed, len);
    /* Only the first 60 master segments were kept: every transfer inside them was found. */
    int inside = 0;
    for (int i = 0; i < nt; i++) inside += int_of(t[i], "stream_offset") < (int64_t)len;
    ck_assert_int_gt(inside, 30);
    ck_assert_int_eq(k, inside);
    ck_assert_int_gt(incomplete_seen, 0);  /* Apache sends header and body as separate segments */
    free(s);
}
END_TEST

START_TEST(test_parse_transfer_rejects_bad_sizes)
{
    uint8_t b[HA_HEADER_SIZE] = {0};
    ha_transfer t;
    ck_assert_int_eq(ha_parse_transfer(b, 11, &t), 0);
    put_be64(b, 0);
    put_be32(b + 8, 0xffffffffu);
    ck_assert_int_eq(ha_parse_transfer(b, sizeof b, &t), RMQ_ERR);
    put_be32(b + 8, HA_MAX_FRAME_BODY + 1);
    ck_assert_int_eq(ha_parse_transfer(b, sizeof b, &t), RMQ_ERR);
    put_be32(b + 8, 1);
    ck_assert_int_eq(ha_parse_transfer(b, sizeof b, &t), 0);
}
END_TEST

START_TEST(test_slave_reports_parse_and_last_group_wins)
{
    uint8_t s[1024];
    size_t len = 0;
    int64_t want[64];
    int nw = 0;
    for (int i = 0; i < g.n; i++) {
        const cJSON *j = g.lines[i];
        if (is(j, "raw", "slave")) {
            ck_assert_int_eq(int_of(j, "stream_offset"), (int64_t)len);
            len += unhex(str_of(j, "hex"), s + len);
        } else if (is(j, "slave_report", "slave")) {
            want[nw++] = int_of(j, "max_phy_offset");
        }
    }
    ck_assert_int_eq(nw, 34);
    ck_assert_uint_eq(len, 8u * 34);
    ck_assert_int_eq(want[0], 0);
    /* One report at a time... */
    for (int i = 0; i < nw; i++) {
        int64_t v = -1;
        ck_assert_uint_eq(ha_parse_reports(s + 8 * i, 8, &v), 8);
        ck_assert_int_eq(v, want[i]);
    }
    /* ...several at once: only the last counts; a partial group waits. */
    int64_t v = -1;
    ck_assert_uint_eq(ha_parse_reports(s, 8 * 3 + 5, &v), 24);
    ck_assert_int_eq(v, want[2]);
    v = -1;
    ck_assert_uint_eq(ha_parse_reports(s, 7, &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_uint_eq(ha_parse_reports(s, len, &v), len);
    ck_assert_int_eq(v, want[nw - 1]);
}
END_TEST

/* The complete frames at the head of the capture go into a slave's store. */
START_TEST(test_captured_frames_apply_to_a_store)
{
    size_t len, complete;
    uint8_t *s = master_stream(&len, &complete);
    char *dir = test_tmpdir("test_ha_frames");
    store_config cfg;
    store_config_defaults(&cfg);
    snprintf(cfg.storePathRootDir, sizeof cfg.storePathRootDir, "%s", dir);
    cfg.mappedFileSizeCommitLog = 1 << 20;
    cfg.brokerRole = STORE_SLAVE;
    char err[256];
    store *st = store_open(&cfg, err, sizeof err);
    ck_assert_msg(st != NULL, "%s", err);
    size_t pos = 0;
    int applied = 0;
    for (;;) {
        ha_transfer t;
        long n = ha_parse_transfer(s + pos, complete - pos, &t);
        if (n <= 0) break;
        if (t.size > 0) {
            ck_assert_int_eq(t.phys_offset, store_commitlog_max_offset(st));
            ck_assert_msg(store_append_raw(st, t.phys_offset, t.data, (size_t)t.size, err, sizeof err) == RMQ_OK,
                          "%s", err);
            applied++;
        }
        pos += (size_t)n;
    }
    ck_assert_int_ge(applied, 3);
    int64_t end = store_commitlog_max_offset(st);
    ck_assert_int_eq(end, 6010);  /* 214 + 2356 + 3440, the first three batches */
    /* A frame anywhere else than the end is refused. */
    ck_assert_int_eq(store_append_raw(st, 214, s + 24, 214, err, sizeof err), RMQ_ERR);
    /* The records were dispatched: TopicTest has entries in its queues. */
    int64_t entries = 0;
    for (int q = 0; q < 8; q++) entries += store_max_offset_in_queue(st, "TopicTest", q);
    ck_assert_int_gt(entries, 0);
    store_close(st);
    test_rmdir(dir);
    free(dir);
    free(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("ha_frames");
    TCase *tc = tcase_create("golden");
    tcase_add_unchecked_fixture(tc, load_golden, free_golden);
    tcase_add_test(tc, test_header_encoder_matches_capture);
    tcase_add_test(tc, test_master_stream_parses_into_captured_transfers);
    tcase_add_test(tc, test_parse_transfer_rejects_bad_sizes);
    tcase_add_test(tc, test_slave_reports_parse_and_last_group_wins);
    tcase_add_test(tc, test_captured_frames_apply_to_a_store);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
