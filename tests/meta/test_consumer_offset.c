#include "meta_test_util.h"
#include "../check_run.h"

static consumer_offset_table *open_ok(const char *root)
{
    char *err = NULL;
    consumer_offset_table *t = consumer_offset_open(root, &err);
    ck_assert_msg(t != NULL, "open failed: %s", err ? err : "?");
    return t;
}

static bool names_contain(char **names, const char *name)
{
    for (char **p = names; *p; p++)
        if (strcmp(*p, name) == 0) return true;
    return false;
}

static size_t names_count(char **names)
{
    size_t n = 0;
    while (names[n]) n++;
    return n;
}

START_TEST(test_load_apache_body)
{
    char *root = make_store_root();
    char *golden = read_golden("consumerOffset-GET_ALL_CONSUMER_OFFSET.json");
    put_config(root, "consumerOffset.json", golden);
    consumer_offset_table *t = open_ok(root);
    /* "T_aob_qi1vt@G_aobc_qi1vt":{0:26,1:25,2:75,3:24} */
    ck_assert(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 0) == 26);
    ck_assert(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 2) == 75);
    ck_assert(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 3) == 24);
    ck_assert(consumer_offset_query(t, "G_aobc_qi1vt", "T_aob_qi1vt", 4) == -1);
    ck_assert(consumer_offset_query(t, "nobody", "T_aob_qi1vt", 0) == -1);
    ck_assert(consumer_offset_query(t, "CID_RMQ_SYS_TRANS", "RMQ_SYS_TRANS_HALF_TOPIC", 0) == 21);
    /* Re-encoded: the same entries byte for byte (bare integer keys). */
    char *ours = consumer_offset_encode(t, false, NULL);
    assert_same_map_entries(ours, golden, "offsetTable");
    ck_assert(strncmp(ours, "{\"offsetTable\":{\"GoldenGoTopic@CGTX_go20599xmwtdcbsz\":{0:17,1:19,2:18,3:19},", 76) == 0);
    free(ours);
    free(golden);
    consumer_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_empty_table_encoding)
{
    char *root = make_store_root();
    consumer_offset_table *t = open_ok(root);
    char *s = consumer_offset_encode(t, false, NULL);
    ck_assert_str_eq(s, "{\"offsetTable\":{}}");   /* a fresh Apache broker's answer to code 43 */
    free(s);
    s = consumer_offset_encode(t, true, NULL);
    ck_assert_str_eq(s, "{\n\t\"offsetTable\":{}\n}");
    free(s);
    consumer_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_commit_persist_reload)
{
    char *root = make_store_root();
    consumer_offset_table *t = open_ok(root);
    consumer_offset_commit(t, "cg1", "TopicTest", 1, 249);
    consumer_offset_commit(t, "cg1", "TopicTest", 0, 250);
    consumer_offset_commit(t, "cg1", "%RETRY%cg1", 0, 9223372036854775807LL);
    ck_assert(consumer_offset_query(t, "cg1", "TopicTest", 1) == 249);
    consumer_offset_commit(t, "cg1", "TopicTest", 1, 100);   /* going back is allowed (logged) */
    ck_assert(consumer_offset_query(t, "cg1", "TopicTest", 1) == 100);
    ck_assert_int_eq(consumer_offset_persist(t), RMQ_OK);
    consumer_offset_free(t);

    /* PrettyFormat: no line break before bare keys, one before the closing brace. */
    char *text = get_config(root, "consumerOffset.json");
    ck_assert_str_eq(text, "{\n"
                           "\t\"offsetTable\":{\n"
                           "\t\t\"TopicTest@cg1\":{0:250,1:100\n"
                           "\t\t},\n"
                           "\t\t\"%RETRY%cg1@cg1\":{0:9223372036854775807\n"
                           "\t\t}\n"
                           "\t}\n"
                           "}");
    free(text);

    t = open_ok(root);
    ck_assert(consumer_offset_query(t, "cg1", "TopicTest", 0) == 250);
    ck_assert(consumer_offset_query(t, "cg1", "%RETRY%cg1", 0) == INT64_MAX);
    size_t n;
    queue_offset *all = consumer_offset_query_all(t, "cg1", "TopicTest", &n);
    ck_assert_int_eq(n, 2);
    ck_assert(all[0].queue_id == 0 && all[0].offset == 250);
    ck_assert(all[1].queue_id == 1 && all[1].offset == 100);
    free(all);
    ck_assert_ptr_null(consumer_offset_query_all(t, "cg2", "TopicTest", &n));
    ck_assert_int_eq(n, 0);
    consumer_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_groups_topics_remove_clone)
{
    char *root = make_store_root();
    consumer_offset_table *t = open_ok(root);
    consumer_offset_commit(t, "g1", "A", 0, 1);
    consumer_offset_commit(t, "g1", "B", 0, 2);
    consumer_offset_commit(t, "g2", "A", 0, 3);
    consumer_offset_commit(t, "g2", "A", 1, 4);
    consumer_offset_commit(t, "g11", "A", 0, 5);   /* contains "g1" but is another group */

    char **groups = consumer_offset_groups_of_topic(t, "A");
    ck_assert_int_eq(names_count(groups), 3);
    ck_assert(names_contain(groups, "g1") && names_contain(groups, "g2") && names_contain(groups, "g11"));
    meta_names_free(groups);
    char **topics = consumer_offset_topics_of_group(t, "g1");
    ck_assert_int_eq(names_count(topics), 2);
    ck_assert(names_contain(topics, "A") && names_contain(topics, "B"));
    meta_names_free(topics);

    consumer_offset_clone(t, "g2", "g3", "A");
    ck_assert(consumer_offset_query(t, "g3", "A", 1) == 4);
    consumer_offset_commit(t, "g3", "A", 1, 40);   /* the clone is a copy */
    ck_assert(consumer_offset_query(t, "g2", "A", 1) == 4);
    consumer_offset_clone(t, "nobody", "g3", "A");   /* no source: nothing happens */
    ck_assert(consumer_offset_query(t, "g3", "A", 1) == 40);

    consumer_offset_remove_group(t, "g1");
    ck_assert(consumer_offset_query(t, "g1", "A", 0) == -1);
    ck_assert(consumer_offset_query(t, "g1", "B", 0) == -1);
    ck_assert(consumer_offset_query(t, "g11", "A", 0) == 5);

    consumer_offset_remove_topic(t, "A");
    topics = consumer_offset_topics_of_group(t, "g2");
    ck_assert_int_eq(names_count(topics), 0);
    meta_names_free(topics);
    char *s = consumer_offset_encode(t, false, NULL);
    ck_assert_str_eq(s, "{\"offsetTable\":{}}");
    free(s);
    consumer_offset_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_lenient_and_bad_files)
{
    char *root = make_store_root();
    /* Quoted keys and numeric strings are what fastjson also accepts. */
    put_config(root, "consumerOffset.json", "{\"offsetTable\":{\"T@g\":{\"0\":5,1:\"6\"}}}");
    consumer_offset_table *t = open_ok(root);
    ck_assert(consumer_offset_query(t, "g", "T", 0) == 5);
    ck_assert(consumer_offset_query(t, "g", "T", 1) == 6);
    consumer_offset_free(t);

    put_config(root, "consumerOffset.json", "{\"offsetTable\":{\"T@g\":{x:5}}}");
    char *err = NULL;
    ck_assert_ptr_null(consumer_offset_open(root, &err));
    ck_assert_ptr_nonnull(strstr(err, "T@g"));
    free(err);
    put_config(root, "consumerOffset.json", "{\"offsetTable\":{\"T@g\":{0:[1]}}}");
    ck_assert_ptr_null(consumer_offset_open(root, &err));
    free(err);
    put_config(root, "consumerOffset.json", "{\"offsetTable\":{\"T@g\":{0:1}");
    ck_assert_ptr_null(consumer_offset_open(root, &err));
    free(err);

    /* A previous good copy rescues it. */
    put_config(root, "consumerOffset.json.bak", "{\"offsetTable\":{\"T@g\":{0:77}}}");
    t = open_ok(root);
    ck_assert(consumer_offset_query(t, "g", "T", 0) == 77);
    consumer_offset_free(t);
    remove_store_root(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("consumer_offset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_load_apache_body);
    tcase_add_test(tc, test_empty_table_encoding);
    tcase_add_test(tc, test_commit_persist_reload);
    tcase_add_test(tc, test_groups_topics_remove_clone);
    tcase_add_test(tc, test_lenient_and_bad_files);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
