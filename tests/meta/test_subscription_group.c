#include "meta_test_util.h"
#include "../check_run.h"

static subgroup_table *open_ok(const char *root, bool auto_create)
{
    char *err = NULL;
    subgroup_table *t = subgroup_table_open(root, auto_create, &err);
    ck_assert_msg(t != NULL, "open failed: %s", err ? err : "?");
    return t;
}

START_TEST(test_system_groups_match_fresh_apache_broker)
{
    char *root = make_store_root();
    subgroup_table *t = open_ok(root, true);
    char *ours = subgroup_table_encode(t, false, NULL);
    char *golden = read_golden("subscriptionGroup-fresh-broker.json");
    assert_same_map_entries(ours, golden, "subscriptionGroupTable");
    ck_assert(strncmp(ours, "{\"dataVersion\":{\"counter\":0,\"timestamp\":", 40) == 0);
    ck_assert_int_eq(subgroup_table_count(t), 7);
    free(golden);
    free(ours);
    subgroup_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_load_apache_body)
{
    char *root = make_store_root();
    char *golden = read_golden("subscriptionGroup-GET_ALL_SUBSCRIPTIONGROUP_CONFIG.json");
    put_config(root, "subscriptionGroup.json", golden);
    subgroup_table *t = open_ok(root, true);
    data_version v = subgroup_table_data_version(t);
    ck_assert(v.counter == 23);
    ck_assert(v.timestamp == 1795444739032LL);
    subscription_group_config c;
    ck_assert(subgroup_table_get(t, "GoldenAdminCG", &c));
    ck_assert_str_eq(c.group_name, "GoldenAdminCG");
    ck_assert(c.consume_enable && c.consume_from_min_enable && c.consume_broadcast_enable);
    ck_assert_int_eq(c.retry_max_times, 16);
    ck_assert_int_eq(c.retry_queue_nums, 1);
    ck_assert(c.broker_id == 0 && c.which_broker_when_consume_slowly == 1);
    ck_assert(c.notify_consumer_ids_changed_enable);
    /* Apache auto-created a group with an empty name; it round-trips too. */
    ck_assert(subgroup_table_get(t, "", &c));
    char *ours = subgroup_table_encode(t, false, NULL);
    assert_same_map_entries(ours, golden, "subscriptionGroupTable");
    free(ours);
    free(golden);
    subgroup_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_find_auto_creates)
{
    char *root = make_store_root();
    subgroup_table *t = open_ok(root, true);
    subscription_group_config c;
    bool created;
    ck_assert(!subgroup_table_get(t, "cg1", &c));
    ck_assert(subgroup_table_find(t, "cg1", &c, &created));
    ck_assert(created);
    ck_assert_str_eq(c.group_name, "cg1");
    ck_assert_int_eq(c.retry_max_times, 16);
    ck_assert(subgroup_table_data_version(t).counter == 1);
    ck_assert(subgroup_table_find(t, "cg1", &c, &created));
    ck_assert(!created);
    ck_assert(subgroup_table_data_version(t).counter == 1);
    subgroup_table_free(t);

    /* autoCreateSubscriptionGroup=false: only CID_RMQ_SYS_ groups appear. */
    t = open_ok(root, false);
    ck_assert(!subgroup_table_find(t, "cg2", &c, &created));
    ck_assert(!created);
    ck_assert(!subgroup_table_get(t, "cg2", NULL));
    ck_assert(subgroup_table_find(t, "CID_RMQ_SYS_TRANS", &c, &created));
    ck_assert(created);
    ck_assert(subgroup_table_find(t, GROUP_TOOLS_CONSUMER, &c, &created));
    ck_assert(!created);
    subgroup_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_put_delete_disable_persist)
{
    char *root = make_store_root();
    subgroup_table *t = open_ok(root, true);
    subscription_group_config c;
    subscription_group_config_init(&c, "cg");
    c.consume_broadcast_enable = false;
    c.retry_max_times = 3;
    c.retry_queue_nums = 2;
    c.broker_id = 1;
    c.which_broker_when_consume_slowly = 0;
    c.notify_consumer_ids_changed_enable = false;
    subgroup_table_put(t, &c);
    subgroup_table_disable_consume(t, "cg");
    ck_assert(subgroup_table_data_version(t).counter == 2);
    ck_assert_int_eq(subgroup_table_persist(t), RMQ_OK);
    subgroup_table_free(t);

    char *text = get_config(root, "subscriptionGroup.json");
    ck_assert_ptr_nonnull(strstr(text, "\n\t\t\"cg\":{\n"
                                       "\t\t\t\"brokerId\":1,\n"
                                       "\t\t\t\"consumeBroadcastEnable\":false,\n"
                                       "\t\t\t\"consumeEnable\":false,\n"
                                       "\t\t\t\"consumeFromMinEnable\":true,\n"
                                       "\t\t\t\"groupName\":\"cg\",\n"
                                       "\t\t\t\"notifyConsumerIdsChangedEnable\":false,\n"
                                       "\t\t\t\"retryMaxTimes\":3,\n"
                                       "\t\t\t\"retryQueueNums\":2,\n"
                                       "\t\t\t\"whichBrokerWhenConsumeSlowly\":0\n"
                                       "\t\t}"));
    free(text);

    t = open_ok(root, true);
    subscription_group_config back;
    ck_assert(subgroup_table_get(t, "cg", &back));
    c.consume_enable = false;
    ck_assert_int_eq(memcmp(&back, &c, sizeof c), 0);
    ck_assert(subgroup_table_data_version(t).counter == 2);
    size_t n;
    subscription_group_config *all = subgroup_table_snapshot(t, &n);
    ck_assert_int_eq(n, 8);
    free(all);
    ck_assert_int_eq(subgroup_table_delete(t, "cg"), RMQ_OK);
    ck_assert_int_eq(subgroup_table_delete(t, "cg"), RMQ_ERR);
    ck_assert(subgroup_table_data_version(t).counter == 3);
    ck_assert_int_eq(subgroup_table_count(t), 7);
    subgroup_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_bad_files)
{
    char *root = make_store_root();
    put_config(root, "subscriptionGroup.json", "{\"subscriptionGroupTable\":{\"g\":{\"retryMaxTimes\":true}}}");
    char *err = NULL;
    ck_assert_ptr_null(subgroup_table_open(root, true, &err));
    ck_assert_ptr_nonnull(strstr(err, "group g"));
    free(err);
    put_config(root, "subscriptionGroup.json.bak", "{\"subscriptionGroupTable\":{\"g\":{\"retryMaxTimes\":\"4\"}}}");
    subgroup_table *t = open_ok(root, true);
    subscription_group_config c;
    ck_assert(subgroup_table_get(t, "g", &c));
    ck_assert_int_eq(c.retry_max_times, 4);
    subgroup_table_free(t);
    remove_store_root(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("subscription_group");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_system_groups_match_fresh_apache_broker);
    tcase_add_test(tc, test_load_apache_body);
    tcase_add_test(tc, test_find_auto_creates);
    tcase_add_test(tc, test_put_delete_disable_persist);
    tcase_add_test(tc, test_bad_files);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
