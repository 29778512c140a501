/* Index: query by key with hash collisions and file roll, byte layout of the file. */
#include <dirent.h>

#include "store_test.h"
#include "../check_run.h"

static int64_t fake_now;
static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static int index_files(const char *dir, char names[][32], int max)
{
    char *idx = test_path(dir, "index");
    DIR *d = opendir(idx);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && n < max)
            snprintf(names[n++], 32, "%.31s", de->d_name);
    if (d)
        closedir(d);
    free(idx);
    /* sort by name = creation order */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[32];
                memcpy(t, names[i], 32);
                memcpy(names[i], names[j], 32);
                memcpy(names[j], t, 32);
            }
    return n;
}

START_TEST(test_query_with_collisions_and_roll)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.maxHashSlotNum = 3;                        /* every bucket is shared */
    cfg.maxIndexNum = 10;                          /* a new file every 9 keys */
    store *s = test_open(&cfg);
    int64_t offs[30];
    for (int i = 0; i < 30; i++) {
        char keys[64];
        snprintf(keys, sizeof(keys), "k%d common", i % 3);
        offs[i] = test_put(s, "IdxTopic", 0, "v", NULL, keys).phys_offset;
    }
    store_query_result q;
    store_query_by_key(s, "IdxTopic", "k1", 64, 0, INT64_MAX, &q);
    ck_assert_int_eq(q.count, 10);
    for (int i = 0; i < q.count; i++) {
        int idx = -1;
        for (int j = 0; j < 30; j++)
            if (offs[j] == q.offsets[i])
                idx = j;
        ck_assert_int_eq(idx % 3, 1);              /* only k1 messages, despite shared buckets */
    }
    ck_assert(q.offsets[0] == offs[28]);           /* newest first */
    ck_assert(q.index_last_update_phy_offset == offs[29]);
    store_query_by_key(s, "IdxTopic", "common", 5, 0, INT64_MAX, &q);
    ck_assert_int_eq(q.count, 5);                  /* capped by max */
    store_query_by_key(s, "IdxTopic", "k1", 64, 0, 1000, &q);
    ck_assert_int_eq(q.count, 0);                  /* outside the time window */
    store_query_by_key(s, "Other", "k1", 64, 0, INT64_MAX, &q);
    ck_assert_int_eq(q.count, 0);
    store_close(s);
    char names[16][32];
    int n = index_files(dir, names, 16);
    ck_assert_int_eq(n, 7);                        /* 60 keys / 9 per file */
    char *first = str_printf("%s/index/%s", dir, names[0]);
    ck_assert(test_file_size(first) == 40 + 3 * 4 + 10 * 20);
    ck_assert_int_eq((int)strlen(names[0]), 17);   /* yyyyMMddHHmmssSSS */
    free(first);
    test_rmrf(dir);
}
END_TEST

START_TEST(test_file_layout)
{
    char *dir = test_mkdtemp();
    store_config cfg;
    test_config(&cfg, dir);
    cfg.maxHashSlotNum = 100;
    cfg.maxIndexNum = 50;
    cfg.clock_ms = fake_clock;
    fake_now = 1700000000000LL;
    store *s = test_open(&cfg);
    store_msg m = {.topic = "TopicTest", .body = (const uint8_t *)"b", .body_len = 1,
                   .props = "UNIQ_KEY\001U1\002KEYS\001key-123456", .props_len = 27};
    msg_host_parse(&m.born_host, "1.1.1.1:1");
    store_put_entry e1, e2;
    store_put_result r = {.entries = &e1};
    ck_assert_int_eq(store_put(s, &m, 1, &r), STORE_PUT_OK);
    fake_now += 5500;
    r.entries = &e2;
    ck_assert_int_eq(store_put(s, &m, 1, &r), STORE_PUT_OK);
    store_close(s);

    char names[4][32];
    ck_assert_int_eq(index_files(dir, names, 4), 1);
    char *path = str_printf("%s/index/%s", dir, names[0]);
    size_t n;
    uint8_t *f = (uint8_t *)read_file(path, &n);
    ck_assert(get_be64(f) == 1700000000000ULL);             /* beginTimestamp */
    ck_assert(get_be64(f + 8) == 1700000005500ULL);         /* endTimestamp */
    ck_assert(get_be64(f + 16) == (uint64_t)e1.phys_offset);
    ck_assert(get_be64(f + 24) == (uint64_t)e2.phys_offset);
    ck_assert_int_eq((int)get_be32(f + 36), 5);             /* indexCount starts at 1, 4 keys */
    /* "TopicTest#key-123456".hashCode() = 1779429651 (from a JVM); slot = hash % 100 = 51. */
    int32_t hash = 1779429651;
    uint32_t slot = get_be32(f + 40 + (hash % 100) * 4);
    ck_assert_uint_eq(slot, 4);                             /* newest entry for that key */
    const uint8_t *ent = f + 40 + 100 * 4 + 4 * 20;
    ck_assert_int_eq((int32_t)get_be32(ent), hash);
    ck_assert(get_be64(ent + 4) == (uint64_t)e2.phys_offset);
    ck_assert_uint_eq(get_be32(ent + 12), 5);               /* seconds since beginTimestamp */
    ck_assert_uint_eq(get_be32(ent + 16), 2);               /* previous entry of the chain */
    ck_assert_int_eq((int)get_be32(f + 32), 2);             /* two buckets in use */
    free(f);
    free(path);
    test_rmrf(dir);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("index");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_query_with_collisions_and_roll);
    tcase_add_test(tc, test_file_layout);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
