#include "meta_test_util.h"
#include "../check_run.h"

static delay_offset_table *open_ok(const char *root)
{
    char *err = NULL;
    delay_offset_table *t = delay_offset_open(root, &err);
    ck_assert_msg(t != NULL, "open failed: %s", err ? err : "?");
    return t;
}

START_TEST(test_apache_body_round_trip)
{
    /* GET_ALL_DELAY_OFFSET answer captured from Apache 4.9.8 (broker-to-namesrv.jsonl). */
    const char *golden = "{\"offsetTable\":{2:4,3:2}}";
    char *root = make_store_root();
    put_config(root, "delayOffset.json", golden);
    delay_offset_table *t = open_ok(root);
    int64_t off;
    ck_assert(delay_offset_get(t, 2, &off) && off == 4);
    ck_assert(delay_offset_get(t, 3, &off) && off == 2);
    ck_assert(!delay_offset_get(t, 1, &off));
    char *s = delay_offset_encode(t, false, NULL);
    ck_assert_str_eq(s, golden);
    free(s);
    delay_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_update_persist_reload)
{
    char *root = make_store_root();
    delay_offset_table *t = open_ok(root);
    char *s = delay_offset_encode(t, false, NULL);
    ck_assert_str_eq(s, "{\"offsetTable\":{}}");
    free(s);
    delay_offset_update(t, 18, 7);
    delay_offset_update(t, 1, 0);
    delay_offset_update(t, 2, 5);
    delay_offset_update(t, 18, 8);
    ck_assert_int_eq(delay_offset_persist(t), RMQ_OK);
    delay_offset_free(t);

    char *text = get_config(root, "delayOffset.json");
    ck_assert_str_eq(text, "{\n\t\"offsetTable\":{1:0,2:5,18:8\n\t}\n}");
    free(text);
    t = open_ok(root);
    int64_t off;
    ck_assert(delay_offset_get(t, 18, &off) && off == 8);
    s = delay_offset_encode(t, false, NULL);
    ck_assert_str_eq(s, "{\"offsetTable\":{1:0,2:5,18:8}}");
    free(s);
    delay_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_bad_file)
{
    char *root = make_store_root();
    put_config(root, "delayOffset.json", "{\"offsetTable\":{1:\"x\"}}");
    char *err = NULL;
    ck_assert_ptr_null(delay_offset_open(root, &err));
    ck_assert_ptr_nonnull(strstr(err, "delayOffset.json"));
    free(err);
    remove_store_root(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delay_offset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_apache_body_round_trip);
    tcase_add_test(tc, test_update_persist_reload);
    tcase_add_test(tc, test_bad_file);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
