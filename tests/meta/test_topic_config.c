#include "meta_test_util.h"
#include "../check_run.h"

static topic_table_options golden_options(const char *root)
{
    /* The Apache broker of the golden captures: brokerName broker-java, defaults otherwise. */
    topic_table_options o;
    topic_table_options_default(&o);
    o.store_root = root;
    o.broker_name = "broker-java";
    return o;
}

static topic_table *open_ok(const topic_table_options *o)
{
    char *err = NULL;
    topic_table *t = topic_table_open(o, &err);
    ck_assert_msg(t != NULL, "open failed: %s", err ? err : "?");
    return t;
}

START_TEST(test_system_topics_match_fresh_apache_broker)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    /* Apache's transaction service creates the half topic right after start. */
    topic_config tc;
    bool created;
    ck_assert_int_eq(topic_table_create_in_send_back(t, TOPIC_TRANS_HALF, 1, PERM_READ | PERM_WRITE, 0,
                                                     &tc, &created), RMQ_OK);
    ck_assert(created);
    char *ours = topic_table_encode(t, false, NULL);
    char *golden = read_golden("topics-fresh-broker.json");
    assert_same_map_entries(ours, golden, "topicConfigTable");
    /* The constructor does not bump the version; the half topic did, once. */
    ck_assert(topic_table_data_version(t).counter == 1);
    ck_assert(strncmp(ours, "{\"dataVersion\":{\"counter\":1,\"timestamp\":", 40) == 0);
    free(golden);
    free(ours);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_system_topics_follow_options)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    o.broker_cluster_name = "C1";
    o.auto_create_topic_enable = false;
    o.cluster_topic_enable = false;
    o.broker_topic_enable = false;
    o.trace_topic_enable = true;
    o.msg_trace_topic_name = "MyTrace";
    topic_table *t = open_ok(&o);
    topic_config tc;
    ck_assert(!topic_table_get(t, TOPIC_AUTO_CREATE_KEY, &tc));
    ck_assert(topic_table_get(t, "C1", &tc));
    ck_assert_int_eq(tc.perm, PERM_INHERIT);
    ck_assert_int_eq(tc.read_queue_nums, 16);
    ck_assert(topic_table_get(t, "broker-java", &tc));
    ck_assert_int_eq(tc.perm, PERM_INHERIT);
    ck_assert(topic_table_get(t, "MyTrace", &tc));
    ck_assert_int_eq(tc.write_queue_nums, 1);
    ck_assert_int_eq(tc.perm, 6);
    ck_assert(topic_table_get(t, "C1_REPLY_TOPIC", &tc));
    ck_assert(topic_table_get(t, TOPIC_SCHEDULE, &tc));
    ck_assert_int_eq(tc.read_queue_nums, 18);
    ck_assert_int_eq(topic_table_count(t), 8);
    /* addSystemTopic names count as system topics, as do the fixed set and rmq_sys_*. */
    ck_assert(topic_table_is_system_topic(t, "C1"));
    ck_assert(topic_table_is_system_topic(t, "broker-java"));
    ck_assert(topic_table_is_system_topic(t, "MyTrace"));
    ck_assert(topic_table_is_system_topic(t, "C1_REPLY_TOPIC"));
    ck_assert(topic_table_is_system_topic(t, TOPIC_TRANS_OP_HALF));
    ck_assert(topic_table_is_system_topic(t, "rmq_sys_anything"));
    ck_assert(!topic_table_is_system_topic(t, "TopicTest"));
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_load_apache_body)
{
    char *root = make_store_root();
    char *golden = read_golden("topics-GET_ALL_TOPIC_CONFIG.json");
    put_config(root, "topics.json", golden);
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    data_version v = topic_table_data_version(t);
    ck_assert(v.counter == 40);
    ck_assert(v.timestamp == 1795444669392LL);
    topic_config tc;
    ck_assert(topic_table_get(t, "T_ord_qi1vt", &tc));
    ck_assert_str_eq(tc.topic_name, "T_ord_qi1vt");
    ck_assert_int_eq(tc.read_queue_nums, 4);
    ck_assert_int_eq(tc.write_queue_nums, 4);
    ck_assert_int_eq(tc.perm, 6);
    ck_assert_int_eq(tc.topic_filter_type, TOPIC_FILTER_SINGLE_TAG);
    ck_assert(!tc.order);
    /* Same broker, so the constructor's topics are all in the file: the
     * encoded table has exactly Apache's entries, byte for byte. */
    char *ours = topic_table_encode(t, false, NULL);
    assert_same_map_entries(ours, golden, "topicConfigTable");
    ck_assert(strncmp(ours, "{\"dataVersion\":{\"counter\":40,\"timestamp\":1795444669392},\"topicConfigTable\":{",
                      75) == 0);
    free(ours);
    /* REGISTER_BROKER embeds the same object. */
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "filterServerList");
    fjson_begin_array(&w);
    fjson_end_array(&w);
    fjson_key(&w, "topicConfigSerializeWrapper");
    topic_table_write(t, &w);
    fjson_end_object(&w);
    char *body = fjson_writer_finish(&w, NULL);
    ck_assert(strncmp(body, "{\"filterServerList\":[],\"topicConfigSerializeWrapper\":{\"dataVersion\":", 68) == 0);
    free(body);
    free(golden);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_load_pretty_file_and_lenient_values)
{
    /* What ConfigManager.persist writes (tab-indented), with non-default values,
     * an enum ordinal and numeric strings as fastjson accepts them. */
    char *root = make_store_root();
    put_config(root, "topics.json",
               "{\n"
               "\t\"dataVersion\":{\n"
               "\t\t\"counter\":7,\n"
               "\t\t\"timestamp\":1700000000000\n"
               "\t},\n"
               "\t\"topicConfigTable\":{\n"
               "\t\t\"Ordered\":{\n"
               "\t\t\t\"order\":true,\n"
               "\t\t\t\"perm\":4,\n"
               "\t\t\t\"readQueueNums\":3,\n"
               "\t\t\t\"topicFilterType\":\"MULTI_TAG\",\n"
               "\t\t\t\"topicName\":\"Ordered\",\n"
               "\t\t\t\"topicSysFlag\":1,\n"
               "\t\t\t\"writeQueueNums\":2\n"
               "\t\t},\n"
               "\t\t\"Sparse\":{\"topicFilterType\":1,\"readQueueNums\":\"5\"}\n"
               "\t}\n"
               "}");
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    topic_config tc;
    ck_assert(topic_table_get(t, "Ordered", &tc));
    ck_assert(tc.order);
    ck_assert_int_eq(tc.perm, PERM_READ);
    ck_assert_int_eq(tc.read_queue_nums, 3);
    ck_assert_int_eq(tc.write_queue_nums, 2);
    ck_assert_int_eq(tc.topic_sys_flag, 1);
    ck_assert_int_eq(tc.topic_filter_type, TOPIC_FILTER_MULTI_TAG);
    /* Missing fields take TopicConfig's defaults, the name comes from the key. */
    ck_assert(topic_table_get(t, "Sparse", &tc));
    ck_assert_str_eq(tc.topic_name, "Sparse");
    ck_assert_int_eq(tc.read_queue_nums, 5);
    ck_assert_int_eq(tc.write_queue_nums, 16);
    ck_assert_int_eq(tc.perm, 6);
    ck_assert_int_eq(tc.topic_filter_type, TOPIC_FILTER_MULTI_TAG);
    ck_assert(topic_table_data_version(t).counter == 7);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

/* topics.json as Apache 5.x writes it: every topic with `attributes` ({} when none). */
START_TEST(test_load_5x_attributes_and_write_them_back)
{
    char *root = make_store_root();
    put_config(root, "topics.json",
               "{\"dataVersion\":{\"counter\":1,\"timestamp\":1700000000000},\"topicConfigTable\":{"
               "\"Fifo\":{\"attributes\":{\"message.type\":\"FIFO\",\"some.future.key\":\"x\"},\"order\":false,"
               "\"perm\":6,\"readQueueNums\":4,\"topicFilterType\":\"SINGLE_TAG\",\"topicName\":\"Fifo\","
               "\"topicSysFlag\":0,\"writeQueueNums\":4},"
               "\"Plain\":{\"attributes\":{},\"perm\":6,\"readQueueNums\":1,\"topicName\":\"Plain\","
               "\"writeQueueNums\":1}}}");
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    topic_config tc;
    ck_assert(topic_table_get(t, "Fifo", &tc));
    ck_assert_str_eq(topic_config_message_type(&tc), "FIFO");
    ck_assert_str_eq(tc.attributes[TOPIC_ATTR_MESSAGE_TYPE], "FIFO");
    ck_assert(topic_table_get(t, "Plain", &tc));
    ck_assert(!topic_config_has_attributes(&tc));
    ck_assert_str_eq(topic_config_message_type(&tc), "NORMAL");
    size_t len;
    char *json = topic_table_encode(t, false, &len);
    ck_assert_msg(strstr(json, "{\"attributes\":{\"message.type\":\"FIFO\"},\"order\":false") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "some.future.key") == NULL, "%s", json);   /* no 5.x broker accepts it */
    free(json);
    /* Modifications as AttributeUtil applies them; a refused one leaves the topic as it was. */
    char why[256];
    ck_assert(topic_table_get(t, "Fifo", &tc));
    ck_assert_ptr_null(topic_attributes_alter(&tc, "+message.type=DELAY,+reserve.time=5", false, why, sizeof why));
    ck_assert_str_eq(tc.attributes[TOPIC_ATTR_MESSAGE_TYPE], "DELAY");
    ck_assert_str_eq(tc.attributes[TOPIC_ATTR_RESERVE_TIME], "5");
    ck_assert_str_eq(topic_attributes_alter(&tc, "-reserve.time,+cleanup.policy=DELETE", false, why, sizeof why),
                     "attempt to update an unchangeable attribute. key: cleanup.policy");
    ck_assert_str_eq(tc.attributes[TOPIC_ATTR_RESERVE_TIME], "5");
    ck_assert_str_eq(topic_attributes_alter(&tc, "+reserve.time=-2", false, why, sizeof why),
                     "value is not in range(-1, 9223372036854775807)");
    ck_assert_str_eq(topic_attributes_alter(&tc, ",+reserve.time=1", false, why, sizeof why),
                     "delete attribute format is wrong: ");
    ck_assert_str_eq(topic_attributes_alter(&tc, "+a+b=1", false, why, sizeof why), "kv string format wrong.");
    ck_assert_ptr_null(topic_attributes_alter(&tc, "", false, why, sizeof why));
    /* The message types of properties strings (TopicMessageType.parseFromMessageProperty). */
    ck_assert_str_eq(topic_message_type_of("TRAN_MSG\001true\002DELAY\0013", 21), "TRANSACTION");
    ck_assert_str_eq(topic_message_type_of("TIMER_DELAY_MS\0011000", 19), "DELAY");
    ck_assert_str_eq(topic_message_type_of("__SHARDINGKEY\001k", 15), "FIFO");
    ck_assert_str_eq(topic_message_type_of("TRAN_MSG\001false", 14), "NORMAL");
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_persist_pretty_and_reload)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    topic_config tc;
    topic_config_init(&tc, "MyTopic");
    tc.read_queue_nums = 2;
    tc.write_queue_nums = 3;
    tc.order = true;
    tc.topic_filter_type = TOPIC_FILTER_MULTI_TAG;
    topic_table_put(t, &tc);
    ck_assert_int_eq(topic_table_persist(t), RMQ_OK);
    data_version v = topic_table_data_version(t);
    topic_table_free(t);

    char *text = get_config(root, "topics.json");
    char *head = str_printf("{\n\t\"dataVersion\":{\n\t\t\"counter\":1,\n\t\t\"timestamp\":%lld\n\t},\n"
                            "\t\"topicConfigTable\":{\n", (long long)v.timestamp);
    ck_assert(strncmp(text, head, strlen(head)) == 0);
    ck_assert_ptr_nonnull(strstr(text, "\n\t\t\"MyTopic\":{\n"
                                       "\t\t\t\"order\":true,\n"
                                       "\t\t\t\"perm\":6,\n"
                                       "\t\t\t\"readQueueNums\":2,\n"
                                       "\t\t\t\"topicFilterType\":\"MULTI_TAG\",\n"
                                       "\t\t\t\"topicName\":\"MyTopic\",\n"
                                       "\t\t\t\"topicSysFlag\":0,\n"
                                       "\t\t\t\"writeQueueNums\":3\n"
                                       "\t\t}"));
    ck_assert(strcmp(text + strlen(text) - 6, "}\n\t}\n}") == 0);
    free(head);
    free(text);

    t = open_ok(&o);
    topic_config back;
    ck_assert(topic_table_get(t, "MyTopic", &back));
    ck_assert_int_eq(memcmp(&back, &tc, sizeof tc), 0);
    data_version v2 = topic_table_data_version(t);
    ck_assert(v2.counter == v.counter && v2.timestamp == v.timestamp);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

/* Changes journalled but never written to topics.json (a crash) come back on open. */
START_TEST(test_journal_replay_and_prune)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    topic_config a, b;
    topic_config_init(&a, "Written");
    topic_table_put(t, &a);
    ck_assert_int_eq(topic_table_persist(t), RMQ_OK);
    topic_config_init(&b, "OnlyJournalled");
    b.read_queue_nums = b.write_queue_nums = 3;
    topic_table_put(t, &b);
    ck_assert_int_eq(topic_table_journal(t, "OnlyJournalled"), RMQ_OK);
    ck_assert_int_eq(topic_table_delete(t, "Written"), RMQ_OK);
    ck_assert_int_eq(topic_table_journal(t, "Written"), RMQ_OK);
    data_version v = topic_table_data_version(t);
    topic_table_free(t);   /* no persist: as after kill -9 */

    t = open_ok(&o);
    topic_config back;
    ck_assert(topic_table_get(t, "OnlyJournalled", &back));
    ck_assert_int_eq(back.write_queue_nums, 3);
    ck_assert(!topic_table_get(t, "Written", NULL));
    data_version v2 = topic_table_data_version(t);
    ck_assert(v2.counter == v.counter && v2.timestamp == v.timestamp);

    /* Written out: the journal goes; entries the file covers are skipped anyway. */
    ck_assert_int_eq(topic_table_persist(t), RMQ_OK);
    char *journal = str_printf("%s/config/topics.json.journal", root);
    ck_assert_int_ne(access(journal, F_OK), 0);
    topic_config_init(&a, "After");
    topic_table_put(t, &a);
    ck_assert_int_eq(topic_table_journal(t, "After"), RMQ_OK);
    ck_assert_int_eq(access(journal, F_OK), 0);
    topic_table_free(t);
    t = open_ok(&o);
    ck_assert(topic_table_get(t, "After", NULL));
    ck_assert(topic_table_get(t, "OnlyJournalled", NULL));
    topic_table_free(t);
    free(journal);
    remove_store_root(root);
}
END_TEST

static int persist_topics(void *t) { return topic_table_persist(t); }

/* A burst of changes marked for the persister costs one write; stopping writes what is left. */
START_TEST(test_persister_coalesces)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    meta_persister *p = meta_persister_start(100000);   /* nothing written before the stop */
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "Burst_%d", i);
        topic_config tc;
        topic_config_init(&tc, name);
        topic_table_put(t, &tc);
        meta_persister_mark(p, persist_topics, t);
    }
    char *path = str_printf("%s/config/topics.json", root);
    ck_assert_int_ne(access(path, F_OK), 0);
    meta_persister_stop(p);
    char *text = get_config(root, "topics.json");
    ck_assert_ptr_nonnull(strstr(text, "\"Burst_999\""));
    free(text);
    free(path);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_bak_fallback)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    const char *good = "{\"dataVersion\":{\"counter\":5,\"timestamp\":1},\"topicConfigTable\":"
                       "{\"FromBak\":{\"readQueueNums\":1,\"writeQueueNums\":1}}}";
    topic_config tc;

    /* Malformed main file: the .bak is used. */
    put_config(root, "topics.json", "{\"dataVersion\":{\"counter\":");
    put_config(root, "topics.json.bak", good);
    topic_table *t = open_ok(&o);
    ck_assert(topic_table_get(t, "FromBak", &tc));
    ck_assert(topic_table_data_version(t).counter == 5);
    topic_table_free(t);

    /* Empty main file: same. */
    put_config(root, "topics.json", "");
    t = open_ok(&o);
    ck_assert(topic_table_get(t, "FromBak", &tc));
    topic_table_free(t);

    /* Both unusable: refuse, naming the file. */
    put_config(root, "topics.json.bak", "[1,2]");
    put_config(root, "topics.json", "{\"topicConfigTable\":{\"X\":{\"perm\":\"rw\"}}}");
    char *err = NULL;
    ck_assert_ptr_null(topic_table_open(&o, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "topics.json"));
    free(err);

    /* persist keeps the previous file as .bak. */
    put_config(root, "topics.json", good);
    t = open_ok(&o);
    topic_config_init(&tc, "Second");
    topic_table_put(t, &tc);
    ck_assert_int_eq(topic_table_persist(t), RMQ_OK);
    topic_table_free(t);
    char *bak = get_config(root, "topics.json.bak");
    ck_assert_str_eq(bak, good);
    free(bak);
    remove_store_root(root);
}
END_TEST

START_TEST(test_create_in_send_from_tbw102)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    topic_config tc;
    bool created;
    int64_t counter = topic_table_data_version(t).counter;
    /* Producer default: defaultTopicQueueNums=4 < TBW102's 8 queues. */
    ck_assert_int_eq(topic_table_create_in_send(t, "NewTopic", TOPIC_AUTO_CREATE_KEY, 4, 0, &tc, &created), RMQ_OK);
    ck_assert(created);
    ck_assert_str_eq(tc.topic_name, "NewTopic");
    ck_assert_int_eq(tc.read_queue_nums, 4);
    ck_assert_int_eq(tc.write_queue_nums, 4);
    ck_assert_int_eq(tc.perm, PERM_READ | PERM_WRITE);   /* 7 & ~INHERIT */
    ck_assert(topic_table_data_version(t).counter == counter + 1);
    /* Existing: returned as is. */
    ck_assert_int_eq(topic_table_create_in_send(t, "NewTopic", TOPIC_AUTO_CREATE_KEY, 16, 0, &tc, &created), RMQ_OK);
    ck_assert(!created);
    ck_assert_int_eq(tc.read_queue_nums, 4);
    /* Capped by TBW102's write queues. */
    ck_assert_int_eq(topic_table_create_in_send(t, "Big", TOPIC_AUTO_CREATE_KEY, 64, 0, &tc, &created), RMQ_OK);
    ck_assert_int_eq(tc.write_queue_nums, 8);
    /* No such default topic, or one without INHERIT: cannot create. */
    ck_assert_int_eq(topic_table_create_in_send(t, "X", "NoSuchDefault", 4, 0, &tc, &created), RMQ_ERR);
    ck_assert(!created);
    ck_assert_int_eq(topic_table_create_in_send(t, "X", TOPIC_SELF_TEST, 4, 0, &tc, &created), RMQ_ERR);
    ck_assert(!topic_table_get(t, "X", NULL));
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_create_in_send_without_auto_create)
{
    /* A TBW102 with INHERIT left in topics.json is stripped of it when
     * auto-creation is off, so creation fails. */
    char *root = make_store_root();
    put_config(root, "topics.json", "{\"topicConfigTable\":{\"TBW102\":{\"perm\":7,\"readQueueNums\":8,"
                                    "\"topicName\":\"TBW102\",\"writeQueueNums\":8}}}");
    topic_table_options o = golden_options(root);
    o.auto_create_topic_enable = false;
    topic_table *t = open_ok(&o);
    topic_config tc;
    bool created;
    ck_assert_int_eq(topic_table_create_in_send(t, "NewTopic", TOPIC_AUTO_CREATE_KEY, 4, 0, &tc, &created), RMQ_ERR);
    ck_assert(topic_table_get(t, TOPIC_AUTO_CREATE_KEY, &tc));
    ck_assert_int_eq(tc.perm, PERM_READ | PERM_WRITE);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_create_in_send_back_put_delete)
{
    char *root = make_store_root();
    topic_table_options o = golden_options(root);
    topic_table *t = open_ok(&o);
    size_t base = topic_table_count(t);
    topic_config tc;
    bool created;
    ck_assert_int_eq(topic_table_create_in_send_back(t, "%RETRY%cg", 1, PERM_READ | PERM_WRITE, 0, &tc, &created),
                     RMQ_OK);
    ck_assert(created);
    ck_assert_int_eq(tc.read_queue_nums, 1);
    ck_assert_int_eq(tc.perm, 6);
    ck_assert_int_eq(topic_table_create_in_send_back(t, "%RETRY%cg", 3, PERM_READ, 0, &tc, &created), RMQ_OK);
    ck_assert(!created);
    ck_assert_int_eq(tc.read_queue_nums, 1);
    char longname[META_NAME_MAX + 1];
    memset(longname, 'g', META_NAME_MAX);
    longname[META_NAME_MAX] = 0;
    ck_assert_int_eq(topic_table_create_in_send_back(t, longname, 1, 6, 0, &tc, &created), RMQ_ERR);
    ck_assert(!topic_config_init(&tc, longname));

    int64_t counter = topic_table_data_version(t).counter;
    topic_config_init(&tc, "%RETRY%cg");
    tc.read_queue_nums = 9;
    topic_table_put(t, &tc);
    ck_assert(topic_table_data_version(t).counter == counter + 1);
    ck_assert(topic_table_get(t, "%RETRY%cg", &tc));
    ck_assert_int_eq(tc.read_queue_nums, 9);
    ck_assert_int_eq(topic_table_count(t), base + 1);

    size_t n;
    topic_config *all = topic_table_snapshot(t, &n);
    ck_assert_int_eq(n, base + 1);
    ck_assert_str_eq(all[n - 1].topic_name, "%RETRY%cg");
    free(all);

    ck_assert_int_eq(topic_table_delete(t, "%RETRY%cg"), RMQ_OK);
    ck_assert(topic_table_data_version(t).counter == counter + 2);
    ck_assert_int_eq(topic_table_delete(t, "%RETRY%cg"), RMQ_ERR);
    ck_assert(topic_table_data_version(t).counter == counter + 2);
    ck_assert_int_eq(topic_table_count(t), base);
    topic_table_free(t);
    remove_store_root(root);
}
END_TEST

START_TEST(test_topic_validation)
{
    ck_assert_ptr_null(topic_validate("TopicTest"));
    ck_assert_ptr_null(topic_validate("%RETRY%a|b-c_1"));
    ck_assert_str_eq(topic_validate(""), "The specified topic is blank.");
    ck_assert_str_eq(topic_validate(" \t"), "The specified topic is blank.");
    const char *illegal = "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$";
    ck_assert_str_eq(topic_validate("a b"), illegal);
    ck_assert_str_eq(topic_validate("a/b"), illegal);
    ck_assert_str_eq(topic_validate("a.b"), illegal);
    ck_assert_str_eq(topic_validate("t\xc3\xa9"), illegal);
    char name[TOPIC_MAX_LENGTH + 2];
    memset(name, 'a', TOPIC_MAX_LENGTH);
    name[TOPIC_MAX_LENGTH] = 0;
    ck_assert_ptr_null(topic_validate(name));
    name[TOPIC_MAX_LENGTH] = 'a';
    name[TOPIC_MAX_LENGTH + 1] = 0;
    ck_assert_str_eq(topic_validate(name), "The specified topic is longer than topic max length.");

    ck_assert(topic_is_not_allowed_send(TOPIC_SCHEDULE));
    ck_assert(topic_is_not_allowed_send(TOPIC_TRANS_HALF));
    ck_assert(topic_is_not_allowed_send(TOPIC_TRANS_OP_HALF));
    ck_assert(topic_is_not_allowed_send(TOPIC_TRANS_CHECK_MAX_TIME));
    ck_assert(topic_is_not_allowed_send(TOPIC_SELF_TEST));
    ck_assert(topic_is_not_allowed_send(TOPIC_OFFSET_MOVED_EVENT));
    ck_assert(!topic_is_not_allowed_send(TOPIC_AUTO_CREATE_KEY));
    ck_assert(!topic_is_not_allowed_send("%RETRY%g"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topic_config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_system_topics_match_fresh_apache_broker);
    tcase_add_test(tc, test_system_topics_follow_options);
    tcase_add_test(tc, test_load_apache_body);
    tcase_add_test(tc, test_load_pretty_file_and_lenient_values);
    tcase_add_test(tc, test_load_5x_attributes_and_write_them_back);
    tcase_add_test(tc, test_persist_pretty_and_reload);
    tcase_add_test(tc, test_bak_fallback);
    tcase_add_test(tc, test_journal_replay_and_prune);
    tcase_add_test(tc, test_persister_coalesces);
    tcase_add_test(tc, test_create_in_send_from_tbw102);
    tcase_add_test(tc, test_create_in_send_without_auto_create);
    tcase_add_test(tc, test_create_in_send_back_put_delete);
    tcase_add_test(tc, test_topic_validation);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
