#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/util.h"
#include "../check_run.h"

static cJSON *parse_ok(const char *text)
{
    const char *err = NULL;
    cJSON *root = fjson_parse(text, strlen(text), &err);
    ck_assert_msg(root != NULL, "parse failed (%s): %s", err ? err : "?", text);
    return root;
}

static int64_t int_at(const cJSON *obj, const char *name)
{
    int64_t v = 0;
    ck_assert_msg(fjson_get_int64(cJSON_GetObjectItemCaseSensitive(obj, name), &v), "no int %s", name);
    return v;
}

START_TEST(test_parse_strict_json)
{
    cJSON *root = parse_ok(" {\"a\" : [1, -2.5, true, false, null, \"x\"], \"b\":{\"c\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\"},"
                           "\"u\":\"\\u00e9\\uD83D\\uDE00\"} ");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "a");
    ck_assert_int_eq(cJSON_GetArraySize(a), 6);
    ck_assert(cJSON_GetArrayItem(a, 1)->valuedouble == -2.5);
    ck_assert(cJSON_IsTrue(cJSON_GetArrayItem(a, 2)));
    ck_assert(cJSON_IsFalse(cJSON_GetArrayItem(a, 3)));
    ck_assert(cJSON_IsNull(cJSON_GetArrayItem(a, 4)));
    ck_assert_str_eq(cJSON_GetArrayItem(a, 5)->valuestring, "x");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "b");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(b, "c")->valuestring, "q\"\\/\b\f\n\r\t");
    /* é is C3 A9; U+1F600 from a surrogate pair is F0 9F 98 80. */
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "u")->valuestring, "\xc3\xa9\xf0\x9f\x98\x80");
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_bare_integer_keys)
{
    /* consumerOffset.json / GET_ALL_CONSUMER_OFFSET shape (golden frame). */
    cJSON *root = parse_ok("{\"offsetTable\":{\"T_tx_qj23y@G_txc_qj23y\":{0:0,1:2},\"%RETRY%G@G\":{0:17,-1:5}}}");
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(root, "offsetTable");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(table, "T_tx_qj23y@G_txc_qj23y");
    ck_assert_int_eq(cJSON_GetArraySize(q), 2);
    ck_assert_str_eq(q->child->string, "0");
    ck_assert_str_eq(q->child->next->string, "1");
    ck_assert_int_eq(int_at(q, "1"), 2);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(table, "%RETRY%G@G");
    ck_assert_int_eq(int_at(r, "-1"), 5);
    cJSON_Delete(root);

    /* delayOffset.json: bare keys at the first level, pretty layout. */
    root = parse_ok("{\n\t\"offsetTable\":{2:4,3:2\n\t}\n}");
    table = cJSON_GetObjectItemCaseSensitive(root, "offsetTable");
    ck_assert_int_eq(int_at(table, "2"), 4);
    ck_assert_int_eq(int_at(table, "3"), 2);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_identifier_keys_and_single_quotes)
{
    cJSON *root = parse_ok("{name:'it',$x_1:true,'q':'a\\'b\"c',trailing:1,}");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "$x_1")->string, "$x_1");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "$x_1")));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "q")->valuestring, "a'b\"c");
    cJSON_Delete(root);
    /* 'it''s' is two adjacent strings: not a value fastjson accepts either. */
    const char *err = NULL;
    ck_assert_ptr_null(fjson_parse("{n:'it''s'}", 11, &err));
    ck_assert_ptr_nonnull(err);
    root = parse_ok("{name:'it',n:[1,2,]}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "n")), 2);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_object_keys)
{
    /* ConsumeStats.offsetTable: MessageQueue keys (docs/remoting.md). */
    const char *text = "{\"offsetTable\":{{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}:"
                       "{\"brokerOffset\":10,\"consumerOffset\":7,\"lastTimestamp\":0},"
                       "{ 'brokerName' : 'b', queueId : 1 ,\"topic\":\"t\" }:{\"brokerOffset\":3}}}";
    cJSON *root = parse_ok(text);
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(root, "offsetTable");
    const cJSON *first = table->child, *second = first->next;
    ck_assert_str_eq(first->string, "{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}");
    /* Key text is normalised to the compact form, whatever the input spacing. */
    ck_assert_str_eq(second->string, "{\"brokerName\":\"b\",\"queueId\":1,\"topic\":\"t\"}");
    ck_assert_int_eq(int_at(first, "consumerOffset"), 7);

    const char *err = NULL;
    cJSON *mq = fjson_parse_key(second, &err);
    ck_assert_ptr_nonnull(mq);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(mq, "brokerName")->valuestring, "b");
    ck_assert_int_eq(int_at(mq, "queueId"), 1);
    cJSON_Delete(mq);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_exact_int64)
{
    cJSON *root = parse_ok("{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                           "\"p53\":9007199254740993,\"s\":\"123\",\"neg\":\"-42\",\"bad\":\"12a\","
                           "\"frac\":1.9,\"nfrac\":-1.9,\"exp\":1e3,\"huge\":99999999999999999999,"
                           "\"b\":true,\"big\":1e30}");
    int64_t v;
    ck_assert(int_at(root, "max") == INT64_MAX);
    ck_assert(int_at(root, "min") == INT64_MIN);
    ck_assert(int_at(root, "p53") == 9007199254740993LL);   /* a double would give ...992 */
    ck_assert(int_at(root, "s") == 123);
    ck_assert(int_at(root, "neg") == -42);
    ck_assert(!fjson_get_int64(cJSON_GetObjectItemCaseSensitive(root, "bad"), &v));
    ck_assert(int_at(root, "frac") == 1);
    ck_assert(int_at(root, "nfrac") == -1);
    ck_assert(int_at(root, "exp") == 1000);
    ck_assert(!fjson_get_int64(cJSON_GetObjectItemCaseSensitive(root, "huge"), &v));
    ck_assert(!fjson_get_int64(cJSON_GetObjectItemCaseSensitive(root, "b"), &v));
    ck_assert(!fjson_get_int64(cJSON_GetObjectItemCaseSensitive(root, "big"), &v));
    ck_assert(!fjson_get_int64(NULL, &v));
    /* The source token is kept. */
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "p53")->valuestring, "9007199254740993");
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_parse_errors)
{
    static const char *const bad[] = {
        "", "   ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1,", "[1 2]",
        "\"abc", "'abc", "tru", "nul", "truex", "{} x", "{}{}", "\"\\u12\"", "\"\\u12G4\"", "\"\\q\"",
        "\"\\u0000\"", "-", "1.", "1e", "1e+", ".5", "+1", "{[1]:2}", "{:1}", "{\"a\":1,,}", "[,]",
        "{\"a\":\"x\\", "\"\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *err = NULL;
        cJSON *r = fjson_parse(bad[i], strlen(bad[i]), &err);
        ck_assert_msg(r == NULL, "accepted bad input %s", bad[i]);
        ck_assert_msg(err != NULL && *err, "no reason for %s", bad[i]);
    }
    /* Depth is bounded, so hostile nesting cannot blow the stack. */
    char deep[2 * FJSON_MAX_DEPTH + 8];
    memset(deep, '[', FJSON_MAX_DEPTH + 1);
    memset(deep + FJSON_MAX_DEPTH + 1, ']', FJSON_MAX_DEPTH + 1);
    const char *err = NULL;
    ck_assert_ptr_null(fjson_parse(deep, 2 * FJSON_MAX_DEPTH + 2, &err));
    ck_assert_str_eq(err, "nesting too deep");
    cJSON *ok = fjson_parse(deep + 1, 2 * FJSON_MAX_DEPTH, &err);
    ck_assert_ptr_nonnull(ok);
    cJSON_Delete(ok);
    /* Length is honoured: the text need not be NUL-terminated. */
    ok = fjson_parse("[1]garbage", 3, &err);
    ck_assert_ptr_nonnull(ok);
    cJSON_Delete(ok);
}
END_TEST

static const char *const sample_docs[] = {
    "{\"dataVersion\":{\"counter\":40,\"timestamp\":1795444669392},\"topicConfigTable\":{\"%RETRY%G_sqlc_qi1vt\":"
    "{\"order\":false,\"perm\":6,\"readQueueNums\":1,\"topicFilterType\":\"SINGLE_TAG\",\"topicName\":"
    "\"%RETRY%G_sqlc_qi1vt\",\"topicSysFlag\":0,\"writeQueueNums\":1}}}",
    "{\"offsetTable\":{\"GoldenGoTopic@CGTX_go20599xmwtdcbsz\":{0:17,1:19,2:18,3:19},\"T@g\":{0:0}}}",
    "{'a':[1,2.5e-3,{x:'\\u00e9'}],{\"brokerName\":\"b\",\"queueId\":0}:{\"v\":-9223372036854775808}}",
};

START_TEST(test_fuzz_truncations_and_mutations)
{
    for (size_t d = 0; d < sizeof sample_docs / sizeof *sample_docs; d++) {
        const char *doc = sample_docs[d];
        size_t len = strlen(doc);
        cJSON *full = parse_ok(doc);
        cJSON_Delete(full);
        /* Every proper prefix of an object document is incomplete. */
        for (size_t n = 0; n < len; n++) {
            char *copy = xstrndup(doc, n);   /* exact-size buffer: ASan sees overreads */
            const char *err = NULL;
            cJSON *r = fjson_parse(copy, n, &err);
            ck_assert_msg(r == NULL, "prefix %zu of doc %zu accepted", n, d);
            ck_assert_ptr_nonnull(err);
            free(copy);
        }
        /* Random byte flips: never a crash; whatever parses re-encodes and re-parses. */
        srandom(1234 + (unsigned)d);
        static const char alphabet[] = "{}[]:,\"'\\0123456789-.eEtrufalsn x\n";
        for (int round = 0; round < 3000; round++) {
            char *copy = xstrndup(doc, len);
            int flips = 1 + (int)(random() % 4);
            for (int f = 0; f < flips; f++)
                copy[random() % len] = alphabet[random() % (sizeof alphabet - 1)];
            const char *err = NULL;
            cJSON *r = fjson_parse(copy, len, &err);
            if (r) {
                fjson_writer w;
                fjson_writer_init(&w, 0);
                fjson_item(&w, r);
                size_t olen;
                char *out = fjson_writer_finish(&w, &olen);
                cJSON *again = fjson_parse(out, olen, &err);
                ck_assert_msg(again != NULL, "re-encoded text does not parse: %s", out);
                cJSON_Delete(again);
                free(out);
                cJSON_Delete(r);
            } else {
                ck_assert_ptr_nonnull(err);
            }
            free(copy);
        }
    }
}
END_TEST

static char *finish(fjson_writer *w)
{
    return fjson_writer_finish(w, NULL);
}

START_TEST(test_write_compact_shapes)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "counter", 3);
    fjson_prop_int64(&w, "timestamp", 1700000000000LL);
    fjson_end_object(&w);
    fjson_key(&w, "offsetTable");
    fjson_begin_object(&w);
    fjson_key(&w, "TopicTest@cg1");
    fjson_begin_object(&w);
    fjson_key_int(&w, 0);
    fjson_int64(&w, 250);
    fjson_key_int(&w, 1);
    fjson_int64(&w, 249);
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_key(&w, "mq");
    fjson_begin_object(&w);
    fjson_key_raw(&w, "{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}");
    fjson_begin_object(&w);
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_key(&w, "list");
    fjson_begin_array(&w);
    fjson_string(&w, "a");
    fjson_null(&w);
    fjson_bool(&w, false);
    fjson_double(&w, 0.0);
    fjson_raw(&w, "{}", 2);
    fjson_end_array(&w);
    fjson_prop_string(&w, "omitted", NULL);
    fjson_prop_bool(&w, "z", true);
    fjson_end_object(&w);
    char *s = finish(&w);
    ck_assert_str_eq(s, "{\"dataVersion\":{\"counter\":3,\"timestamp\":1700000000000},"
                        "\"offsetTable\":{\"TopicTest@cg1\":{0:250,1:249}},"
                        "\"mq\":{{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"t\"}:{}},"
                        "\"list\":[\"a\",null,false,0.0,{}],\"z\":true}");
    free(s);
}
END_TEST

START_TEST(test_write_pretty_like_configmanager)
{
    /* ConfigManager.persist -> JSON.toJSONString(obj, true): tabs, breaks only
     * before String keys, closing brace on its own line when not empty. */
    fjson_writer w;
    fjson_writer_init(&w, FJSON_PRETTY);
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "counter", 3);
    fjson_end_object(&w);
    fjson_key(&w, "empty");
    fjson_begin_object(&w);
    fjson_end_object(&w);
    fjson_key(&w, "offsetTable");
    fjson_begin_object(&w);
    fjson_key(&w, "T@g");
    fjson_begin_object(&w);
    fjson_key_int(&w, 0);
    fjson_int64(&w, 250);
    fjson_key_int(&w, 1);
    fjson_int64(&w, 249);
    fjson_end_object(&w);
    fjson_end_object(&w);
    fjson_key(&w, "set");
    fjson_begin_array(&w);
    fjson_string(&w, "a");
    fjson_string(&w, "b");
    fjson_end_array(&w);
    fjson_end_object(&w);
    char *s = finish(&w);
    ck_assert_str_eq(s, "{\n"
                        "\t\"dataVersion\":{\n"
                        "\t\t\"counter\":3\n"
                        "\t},\n"
                        "\t\"empty\":{},\n"
                        "\t\"offsetTable\":{\n"
                        "\t\t\"T@g\":{0:250,1:249\n"
                        "\t\t}\n"
                        "\t},\n"
                        "\t\"set\":[\"a\",\"b\"]\n"
                        "}");
    free(s);
}
END_TEST

START_TEST(test_write_string_escapes)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    /* ", \, short forms, other C0 as \u00XX, DEL and U+0085 escaped,
     * '/' and other UTF-8 (é, U+1F600) raw. */
    fjson_string(&w, "a\"b\\c\n\t\r\b\f\x01\x0b\x1f\x7f\xc2\x85\xc3\xa9/\xf0\x9f\x98\x80");
    char *s = finish(&w);
    ck_assert_str_eq(s, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u000B\\u001F\\u007F\\u0085\xc3\xa9/\xf0\x9f\x98\x80\"");
    free(s);

    fjson_writer_init(&w, 0);
    fjson_string_len(&w, "a\0b", 3);
    s = finish(&w);
    ck_assert_str_eq(s, "\"a\\u0000b\"");
    free(s);
}
END_TEST

START_TEST(test_write_standard_mode)
{
    fjson_writer w;
    fjson_writer_init(&w, FJSON_STANDARD);
    fjson_begin_object(&w);
    fjson_key(&w, "brokerAddrs");
    fjson_begin_object(&w);
    fjson_key_int(&w, 0);
    fjson_string(&w, "10.0.0.1:10911");
    fjson_end_object(&w);
    fjson_key(&w, "s");
    fjson_string(&w, "\xc3\xa9/\xf0\x9f\x98\x80\x7f\xff");
    fjson_key(&w, "safe");
    fjson_int64(&w, 9007199254740991LL);
    fjson_key(&w, "unsafe");
    fjson_int64(&w, -9007199254740992LL);
    fjson_key_raw(&w, "{\"queueId\":0}");
    fjson_int64(&w, 1);
    fjson_end_object(&w);
    char *s = finish(&w);
    ck_assert_str_eq(s, "{\"brokerAddrs\":{\"0\":\"10.0.0.1:10911\"},"
                        "\"s\":\"\\u00E9\\/\\uD83D\\uDE00\\u007F\\uFFFD\","
                        "\"safe\":9007199254740991,\"unsafe\":\"-9007199254740992\","
                        "\"{\\\"queueId\\\":0}\":1}");
    free(s);
}
END_TEST

START_TEST(test_java_doubles)
{
    /* Expected strings are Java's Double.toString of the same values. */
    static const struct { double v; const char *java; } cases[] = {
        { 0.0, "0.0" }, { -0.0, "-0.0" }, { 1.5, "1.5" }, { 100.0, "100.0" }, { -2.5, "-2.5" },
        { 0.1, "0.1" }, { 0.001, "0.001" }, { 0.0001, "1.0E-4" }, { 1e7, "1.0E7" },
        { 9999999.0, "9999999.0" }, { 123456.789, "123456.789" }, { 1.0 / 3, "0.3333333333333333" },
        { 1e21, "1.0E21" }, { 1.2345e-10, "1.2345E-10" }, { 12345678.9, "1.23456789E7" },
        { 5e-5, "5.0E-5" }, { 1.7976931348623157e308, "1.7976931348623157E308" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[48];
        fjson_format_double(buf, sizeof buf, cases[i].v);
        ck_assert_str_eq(buf, cases[i].java);
    }
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_array(&w);
    fjson_double(&w, 1.0 / 0.0);
    fjson_double(&w, 2.0);
    fjson_end_array(&w);
    char *s = finish(&w);
    ck_assert_str_eq(s, "[null,2.0]");
    free(s);
}
END_TEST

START_TEST(test_item_round_trip_keeps_tokens)
{
    const char *text = "{\"a\":9223372036854775807,\"b\":1.50,\"c\":[\"x\",true,null],\"d\":{}}";
    cJSON *root = parse_ok(text);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_item(&w, root);
    char *s = finish(&w);
    ck_assert_str_eq(s, text);
    free(s);
    cJSON_Delete(root);

    /* Trees built with cJSON (no tokens): integral numbers print as integers. */
    cJSON *built = cJSON_CreateObject();
    cJSON_AddNumberToObject(built, "n", 42);
    cJSON_AddNumberToObject(built, "f", 0.25);
    fjson_writer_init(&w, 0);
    fjson_item(&w, built);
    s = finish(&w);
    ck_assert_str_eq(s, "{\"n\":42,\"f\":0.25}");
    free(s);
    cJSON_Delete(built);
}
END_TEST

START_TEST(test_typed_fields)
{
    cJSON *root = parse_ok("{\"s\":\"v\",\"n\":null,\"i\":7,\"big\":3000000000,\"is\":\"12\",\"e\":\"\","
                           "\"t\":true,\"bs\":\"FALSE\",\"b1\":1,\"obj\":{},\"num\":17}");
    const char *s;
    int32_t i32;
    int64_t i64;
    bool b;
    ck_assert_int_eq(fjson_field_string(root, "s", &s), FJSON_OK);
    ck_assert_str_eq(s, "v");
    ck_assert_int_eq(fjson_field_string(root, "absent", &s), FJSON_MISSING);
    ck_assert_int_eq(fjson_field_string(root, "n", &s), FJSON_MISSING);
    ck_assert_int_eq(fjson_field_string(root, "obj", &s), FJSON_WRONG_TYPE);
    ck_assert_int_eq(fjson_field_string(root, "num", &s), FJSON_OK);
    ck_assert_str_eq(s, "17");
    ck_assert_int_eq(fjson_field_int32(root, "i", &i32), FJSON_OK);
    ck_assert_int_eq(i32, 7);
    ck_assert_int_eq(fjson_field_int32(root, "big", &i32), FJSON_WRONG_TYPE);
    ck_assert_int_eq(fjson_field_int64(root, "big", &i64), FJSON_OK);
    ck_assert(i64 == 3000000000LL);
    ck_assert_int_eq(fjson_field_int32(root, "is", &i32), FJSON_OK);
    ck_assert_int_eq(i32, 12);
    ck_assert_int_eq(fjson_field_int32(root, "e", &i32), FJSON_MISSING);
    ck_assert_int_eq(fjson_field_int32(root, "s", &i32), FJSON_WRONG_TYPE);
    ck_assert_int_eq(fjson_field_int64(root, "t", &i64), FJSON_WRONG_TYPE);
    ck_assert_int_eq(fjson_field_bool(root, "t", &b), FJSON_OK);
    ck_assert(b);
    ck_assert_int_eq(fjson_field_bool(root, "bs", &b), FJSON_OK);
    ck_assert(!b);
    ck_assert_int_eq(fjson_field_bool(root, "b1", &b), FJSON_OK);
    ck_assert(b);
    ck_assert_int_eq(fjson_field_bool(root, "s", &b), FJSON_WRONG_TYPE);
    ck_assert_int_eq(fjson_field_bool(root, "n", &b), FJSON_MISSING);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_writer_misuse_aborts)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_int64(&w, 1);   /* a value where a key is due */
}
END_TEST

START_TEST(test_writer_unbalanced_aborts)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_array(&w);
    fjson_end_object(&w);
}
END_TEST

static Suite *fjson_suite(void)
{
    Suite *s = suite_create("fjson");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_strict_json);
    tcase_add_test(tc, test_parse_bare_integer_keys);
    tcase_add_test(tc, test_parse_identifier_keys_and_single_quotes);
    tcase_add_test(tc, test_parse_object_keys);
    tcase_add_test(tc, test_exact_int64);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_fuzz_truncations_and_mutations);
    tcase_add_test(tc, test_write_compact_shapes);
    tcase_add_test(tc, test_write_pretty_like_configmanager);
    tcase_add_test(tc, test_write_string_escapes);
    tcase_add_test(tc, test_write_standard_mode);
    tcase_add_test(tc, test_java_doubles);
    tcase_add_test(tc, test_item_round_trip_keeps_tokens);
    tcase_add_test(tc, test_typed_fields);
    suite_add_tcase(s, tc);
    TCase *misuse = tcase_create("misuse");
    tcase_add_test_raise_signal(misuse, test_writer_misuse_aborts, SIGABRT);
    tcase_add_test_raise_signal(misuse, test_writer_unbalanced_aborts, SIGABRT);
    suite_add_tcase(s, misuse);
    return s;
}

int main(void)
{
    return test_run_suite(fjson_suite());
}
