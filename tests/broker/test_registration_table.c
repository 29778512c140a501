/*
 * The broker's whole-table registration (src/broker/registration_table.c) against a fake
 * name server that records what it receives: the table split (and compressed) on
 * request, or past 16,000 topics anyway; its batches one at a time; a topic changed
 * while a table is on its way held for it or sent at once.
 */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>

#include "broker_client.h"
#include "fake_namesrv.h"
#include "broker/registration.h"
#include "common/fjson.h"
#include "../check_run.h"

/* UPDATE_BROKER_CONFIG brokerPermission=4: a forced whole table follows. */
static void broker_permission_changed(const test_broker *tb)
{
    rmq_cmd *req = cmd_new_request(25);
    cmd_set_body(req, "brokerPermission=4\n", strlen("brokerPermission=4\n"));
    rmq_cmd *resp = tb_call(tb, req, BC_TIMEOUT);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
}

START_TEST(test_split_compressed_registration)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_split", ns, "--registerNameServerPeriod=600000", "--compressedRegister=true",
            "--enableSplitRegistration=true", "--splitRegistrationSize=3", NULL);
    ck_assert_int_ge(wait_seen(103, 4), 4);
    usleep(300000);   /* the rest of the batches */
    static seen_register s[MAX_SEEN];
    int n = seen(s), total = 0, batches = 0, best_total = 0, best_batches = 0;
    int64_t prev_ts = 0;
    for (int i = 0; i < n; i++) {
        /* The table's batches: each its own version, ascending, the last the table's.
         * An increment at start (the transaction topics) is a group of its own. */
        if (s[i].code != 103) continue;
        ck_assert(s[i].compressed);
        ck_assert_int_le(s[i].n_topics, 3);
        if (s[i].timestamp <= prev_ts) total = batches = 0;
        prev_ts = s[i].timestamp;
        total += s[i].n_topics;
        batches++;
        if (total > best_total) best_total = total, best_batches = batches;
    }
    ck_assert_int_ge(best_total, 8);
    ck_assert_int_eq(best_batches, (best_total + 2) / 3);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/* More than 16,000 topics without enableSplitRegistration: batches of 16,000, so that no
 * body passes the 16 MiB frame limit (a name server would close the connection). */
START_TEST(test_large_table_split_anyway)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_large", NULL);
    ck_assert_int_eq(test_proc_stop(&tb.proc, SIGTERM), 0);
    enum { N = 16100 };
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "topicConfigTable");
    fjson_begin_object(&w);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "T_large_%05d", i);
        fjson_key(&w, name);
        fjson_begin_object(&w);
        fjson_prop_string(&w, "topicName", name);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    size_t len;
    char *json = fjson_writer_finish(&w, &len);
    char *path = str_printf("%s/store/config/topics.json", tb.dir);
    ck_assert_int_eq(write_file_atomic(path, json, len), 0);
    free(path);
    free(json);
    tb.extra[0] = ns;
    tb.extra[1] = "--registerNameServerPeriod=600000";
    tb_start(&tb);

    ck_assert_int_ge(wait_seen(103, 2), 2);
    usleep(500000);
    static seen_register s[MAX_SEEN];
    int n = seen(s), total = 0, batches = 0, best_total = 0, best_batches = 0;
    int64_t prev_ts = 0;
    for (int i = 0; i < n; i++) {
        /* The table's batches carry ascending versions; an increment at start is apart. */
        if (s[i].code != 103) continue;
        ck_assert_int_le(s[i].n_topics, 16000);
        if (s[i].timestamp <= prev_ts) total = batches = 0;
        prev_ts = s[i].timestamp;
        total += s[i].n_topics;
        batches++;
        if (total > best_total) best_total = total, best_batches = batches;
    }
    ck_assert_int_ge(best_total, N);
    ck_assert_int_eq(best_batches, 2);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/*
 * A topic created while the whole table is on its way to a name server (answered
 * only after 1.5 s here) is held, and follows the table's answer as an increment
 * (with whatever else the start changed meanwhile), not as another whole table.
 */
START_TEST(test_change_during_a_table_follows_as_an_increment)
{
    fake_start();
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 1500;
    pthread_mutex_unlock(&fake.lock);
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_held", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();   /* read; its answer comes 1.5 s later */
    static seen_register s[MAX_SEEN];
    seen(s);
    int64_t table_read = 0;
    for (int i = 0, k = 0; i < MAX_SEEN && !table_read; i++)
        if (s[i].code == 103 && ++k == n) table_read = s[i].at_ms;
    tb_create_topic(&tb, "T_held", 4);
    ck_assert_msg(now_ms() < table_read + 1500, "created after the table was answered: nothing held");
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    seen_register inc = last_register();
    ck_assert_msg(inc.n_topics < 8, "a whole table (%d topics) instead of an increment", inc.n_topics);
    ck_assert_msg(strstr(inc.names, ",T_held,") != NULL, "T_held not in %s", inc.names);
    usleep(2000000);   /* nothing else follows: no second table */
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/*
 * While a whole table is in flight to a name server that has one already, a topic
 * that table does not carry (created after its snapshot) is sent at once, and an
 * update of a topic it does carry waits for the table's answer.
 */
START_TEST(test_topic_absent_from_the_table_in_flight_goes_at_once)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_fresh", ns, "--registerNameServerPeriod=600000", NULL);
    int n = wait_full();
    usleep(300000);   /* anything else of the start */
    n = wait_seen(103, n);
    tb_create_topic(&tb, "T_old", 4);
    ck_assert_int_eq(wait_seen(103, n + 1), n + 1);
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 1500;
    pthread_mutex_unlock(&fake.lock);
    /* brokerPermission changed: a whole table follows. */
    broker_permission_changed(&tb);
    int table = wait_table_from(n + 1);
    ck_assert_int_ge(table, 0);
    static seen_register s[MAX_SEEN];
    seen(s);
    int64_t table_read = s[table].at_ms;
    tb_create_topic(&tb, "T_new", 4);
    tb_create_topic(&tb, "T_old", 8);
    ck_assert_msg(now_ms() < table_read + 1500, "created after the table was answered");
    ck_assert_int_ge(wait_seen(103, table + 3), table + 3);
    int total = seen(s);
    ck_assert_msg(strstr(s[table + 1].names, ",T_new,") && !strstr(s[table + 1].names, ",T_old,"),
                  "right after the table: %s", s[table + 1].names);
    bool old_after = false;
    for (int i = table + 2; i < total; i++) old_after |= s[i].code == 103 && strstr(s[i].names, ",T_old,") != NULL;
    ck_assert_msg(old_after, "the update of T_old did not follow");
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

/*
 * A table's batches go one at a time, each once the previous one is answered: a topic
 * created while the first batch waits for its answer (0.3 s here) reaches the name
 * server before the table's later batches, not behind all of them on the connection.
 */
START_TEST(test_increment_between_the_batches_of_a_table)
{
    fake_start();
    char *ns = fake_arg();
    test_broker tb;
    tb_init(&tb, "test_reg_paced", ns, "--registerNameServerPeriod=600000", "--enableSplitRegistration=true",
            "--splitRegistrationSize=3", NULL);
    ck_assert_int_ge(wait_seen(103, 4), 4);
    usleep(500000);   /* the start's table and increments, all answered */
    int n = wait_seen(103, 0);
    pthread_mutex_lock(&fake.lock);
    fake.register_delay_ms = 300;
    pthread_mutex_unlock(&fake.lock);
    /* brokerPermission changed: a whole table follows, in batches of 3 (>= 8 topics). */
    broker_permission_changed(&tb);
    ck_assert_int_gt(wait_seen(103, n + 1), n);   /* the first batch is read; its answer waits */
    tb_create_topic(&tb, "T_between", 4);
    ck_assert_int_ge(wait_seen(103, n + 5), n + 5);   /* >= 3 batches, the increment */
    usleep(1500000);   /* the rest of the batches */
    static seen_register s[MAX_SEEN];
    int total = seen(s), inc = -1, after = 0;
    for (int i = 0; i < total; i++) {
        if (s[i].code != 103) continue;
        if (strstr(s[i].names, ",T_between,")) inc = i;
        else if (inc >= 0 && s[i].counter < s[inc].counter) after++;   /* a batch of the older table */
    }
    ck_assert_msg(inc >= 0, "no increment carrying T_between");
    ck_assert_msg(after >= 1, "the increment came behind every batch of the table");
    tb_done(&tb);
    free(ns);
    fake_stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registration_table");
    TCase *tc = tcase_create("fake_namesrv");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_split_compressed_registration);
    tcase_add_test(tc, test_large_table_split_anyway);
    tcase_add_test(tc, test_change_during_a_table_follows_as_an_increment);
    tcase_add_test(tc, test_topic_absent_from_the_table_in_flight_goes_at_once);
    tcase_add_test(tc, test_increment_between_the_batches_of_a_table);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
