/*
 * filter.h facade: TAG subscriptions (FilterAPI.buildSubscriptionData and
 * ExpressionMessageFilter.isMatchedByConsumeQueue semantics), expression
 * types, and how the two match stages treat each filter type.
 * Hash values were computed with Java's String.hashCode().
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "../check_run.h"

static char err[256];

static rmq_filter *compile_ok(const char *type, const char *expr)
{
    err[0] = 0;
    rmq_filter *f = filter_compile(type, expr, err, sizeof err);
    ck_assert_msg(f != NULL, "'%s' failed: %s", expr, err);
    return f;
}

static const char *no_props(const char *name, void *arg) { return NULL; }

START_TEST(test_tag_all)
{
    /* "*", "" and an absent expression take everything, whatever the code. */
    const char *all[] = { "*", "", NULL };
    for (size_t i = 0; i < 3; i++) {
        rmq_filter *f = compile_ok("TAG", all[i]);
        ck_assert_int_eq(filter_type(f), FILTER_TAG);
        ck_assert(filter_match_tags_code(f, 0));
        ck_assert(filter_match_tags_code(f, 2567159));
        ck_assert(filter_match_tags_code(f, -1666136704));
        ck_assert(filter_match_tag(f, "anything"));
        ck_assert(filter_match_tag(f, NULL));
        filter_free(f);
    }
}
END_TEST

START_TEST(test_tag_set)
{
    /* FilterAPITest's "TAG1 || Tag2 || tag3". */
    rmq_filter *f = compile_ok("TAG", "TAG1 || Tag2 || tag3");
    ck_assert(filter_match_tags_code(f, 2567159));  /* "TAG1" */
    ck_assert(filter_match_tags_code(f, 2598904));  /* "Tag2" */
    ck_assert(filter_match_tags_code(f, 3552217));  /* "tag3" */
    ck_assert(!filter_match_tags_code(f, 2598919)); /* "TagA" */
    ck_assert(!filter_match_tags_code(f, 0));       /* message without tags */
    ck_assert(filter_match_tag(f, "TAG1"));
    ck_assert(filter_match_tag(f, "Tag2"));
    ck_assert(filter_match_tag(f, "tag3"));
    ck_assert(!filter_match_tag(f, "tag1"));        /* case matters */
    ck_assert(!filter_match_tag(f, "TAG1 "));
    ck_assert(!filter_match_tag(f, NULL));
    filter_free(f);
}
END_TEST

START_TEST(test_tag_code_is_narrowed_to_int)
{
    /* tagsCode is an int64 from the consume queue; Apache tests (int) tagsCode. */
    rmq_filter *f = compile_ok(NULL, "order-created-with-a-long-tag-name || TAG1");
    ck_assert(filter_match_tags_code(f, -1666136704));          /* sign-extended negative */
    ck_assert(filter_match_tags_code(f, 4294967296LL + 2567159)); /* (int)4297534455 */
    ck_assert(!filter_match_tags_code(f, 2567159 + 1));
    ck_assert(!filter_match_tags_code(f, 1666136704));            /* sign matters */
    ck_assert(filter_match_tags_code(f, 4294967296LL - 1666136704)); /* (int)2628830592 */
    filter_free(f);
}
END_TEST

START_TEST(test_tag_split_and_trim)
{
    /* Split on "||" only, trim Java-style (bytes <= ' '), drop empty pieces. */
    rmq_filter *f = compile_ok("", " A ||B||\t|| ||  tag with space  |||b");
    ck_assert(filter_match_tags_code(f, 65));          /* "A" */
    ck_assert(filter_match_tags_code(f, 66));          /* "B" */
    ck_assert(filter_match_tags_code(f, -1742848654)); /* "tag with space" */
    ck_assert(filter_match_tags_code(f, 3942));        /* "|b": "|||b" splits as "" and "|b" */
    ck_assert(!filter_match_tags_code(f, 124));        /* "|" is not a tag here */
    ck_assert(!filter_match_tags_code(f, 0));
    ck_assert(filter_match_tag(f, "tag with space"));
    ck_assert(filter_match_tag(f, "|b"));
    ck_assert(!filter_match_tag(f, ""));
    ck_assert(!filter_match_tag(f, " A "));
    filter_free(f);

    /* A single "|" is a tag; " * " is the tag "*", not "match all". */
    f = compile_ok("TAG", "a | b");
    ck_assert(filter_match_tag(f, "a | b"));
    filter_free(f);
    f = compile_ok("TAG", " * ");
    ck_assert(filter_match_tags_code(f, 42));
    ck_assert(!filter_match_tags_code(f, 65));
    ck_assert(filter_match_tag(f, "*"));
    ck_assert(!filter_match_tag(f, "A"));
    filter_free(f);
}
END_TEST

START_TEST(test_tag_non_ascii)
{
    /* Hashes run over UTF-16 units: "标签" and U+1F600 (a surrogate pair). */
    rmq_filter *f = compile_ok("TAG", "\xe6\xa0\x87\xe7\xad\xbe || \xf0\x9f\x98\x80");
    ck_assert(filter_match_tags_code(f, 857175));
    ck_assert(filter_match_tags_code(f, 1772899));
    ck_assert(filter_match_tag(f, "\xe6\xa0\x87\xe7\xad\xbe"));
    filter_free(f);
}
END_TEST

START_TEST(test_tag_blank_pieces_match_nothing)
{
    /* " || " has pieces (blank ones) but no tags: the code set is empty. */
    rmq_filter *f = compile_ok("TAG", " || ");
    ck_assert(!filter_match_tags_code(f, 0));
    ck_assert(!filter_match_tags_code(f, 65));
    ck_assert(!filter_match_tag(f, "A"));
    filter_free(f);
}
END_TEST

START_TEST(test_tag_only_separators_rejected)
{
    /* "||".split("\\|\\|") is empty in Java: FilterAPI throws "subString split error". */
    ck_assert_ptr_null(filter_compile("TAG", "||", err, sizeof err));
    ck_assert_str_eq(err, "subString split error");
    ck_assert_ptr_null(filter_compile("TAG", "||||", err, sizeof err));
}
END_TEST

START_TEST(test_tag_filter_stages)
{
    /* The commit-log stage passes TAG filters (isMatchedByCommitLog returns true). */
    rmq_filter *f = compile_ok("TAG", "A");
    ck_assert_int_eq(filter_eval(f, no_props, NULL), FILTER_TRUE);
    ck_assert(filter_match_props(f, no_props, NULL));
    filter_free(f);
}
END_TEST

START_TEST(test_sql_filter_stages)
{
    /* The consume-queue stage passes SQL92 filters (no bloom bitmap kept). */
    rmq_filter *f = compile_ok("SQL92", "a is not null");
    ck_assert_int_eq(filter_type(f), FILTER_SQL92);
    ck_assert(filter_match_tags_code(f, 12345));
    ck_assert(filter_match_tag(f, "whatever"));
    ck_assert(filter_match_tag(f, NULL));
    ck_assert_int_eq(filter_eval(f, no_props, NULL), FILTER_FALSE);
    ck_assert(!filter_match_props(f, no_props, NULL));
    filter_free(f);
}
END_TEST

START_TEST(test_expression_types)
{
    /* FilterAPI.build refuses an empty SQL92 expression. */
    ck_assert_ptr_null(filter_compile("SQL92", "", err, sizeof err));
    ck_assert_str_eq(err, "Expression can't be null! SQL92");
    ck_assert_ptr_null(filter_compile("SQL92", NULL, err, sizeof err));
    /* Types are case-sensitive; anything but TAG/SQL92 has no FilterSpi. */
    ck_assert_ptr_null(filter_compile("sql92", "a = 1", err, sizeof err));
    ck_assert(strstr(err, "sql92") != NULL);
    ck_assert_ptr_null(filter_compile("CLASS", "x", err, sizeof err));
    /* A parse error comes back with a reason. */
    err[0] = 0;
    ck_assert_ptr_null(filter_compile("SQL92", "a and between 2 and 10", err, sizeof err));
    ck_assert(strlen(err) > 0);
    /* An SQL-looking expression under TAG is just a tag name. */
    rmq_filter *f = compile_ok("TAG", "a = 1");
    ck_assert(filter_match_tag(f, "a = 1"));
    filter_free(f);
}
END_TEST

START_TEST(test_error_buffer_truncates)
{
    char small[8];
    ck_assert_ptr_null(filter_compile("SQL92", "a = ", small, sizeof small));
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("filter");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tag_all);
    tcase_add_test(tc, test_tag_set);
    tcase_add_test(tc, test_tag_code_is_narrowed_to_int);
    tcase_add_test(tc, test_tag_split_and_trim);
    tcase_add_test(tc, test_tag_non_ascii);
    tcase_add_test(tc, test_tag_blank_pieces_match_nothing);
    tcase_add_test(tc, test_tag_only_separators_rejected);
    tcase_add_test(tc, test_tag_filter_stages);
    tcase_add_test(tc, test_sql_filter_stages);
    tcase_add_test(tc, test_expression_types);
    tcase_add_test(tc, test_error_buffer_truncates);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
