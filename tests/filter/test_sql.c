/*
 * SQL92 selectors through filter.h. Expected verdicts come from Apache 4.9.8's
 * own tests (filter/src/test/java/.../ExpressionTest.java and ParserTest.java,
 * re-expressed below) and, for the corners those tests leave open, from running
 * the same expressions through Apache's SelectorParser and evaluator on a JVM.
 *
 * Verdicts: TRUE delivers the message; FALSE and UNKNOWN (JMS three-valued
 * logic) do not; ERROR is where Apache's evaluator throws (the broker then
 * drops the message too).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "filter/filter.h"
#include "../check_run.h"

#define T FILTER_TRUE
#define F FILTER_FALSE
#define U FILTER_UNKNOWN
#define E FILTER_ERROR

/* ---- a message's properties: "k=v;k=v" ------------------------------------ */

struct props {
    char *buf;
    const char *key[16], *val[16];
    int n;
};

static void props_parse(struct props *p, const char *spec)
{
    memset(p, 0, sizeof *p);
    if (!spec) return;
    p->buf = xstrdup(spec);
    for (char *save = NULL, *kv = strtok_r(p->buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        ck_assert_ptr_nonnull(eq);
        ck_assert_int_lt(p->n, 16);
        *eq = 0;
        p->key[p->n] = kv;
        p->val[p->n++] = eq + 1;
    }
}

static const char *props_get(const char *name, void *arg)
{
    const struct props *p = arg;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->key[i], name) == 0) return p->val[i];
    return NULL;
}

static enum filter_verdict verdict(const char *expr, const char *props)
{
    char err[256];
    rmq_filter *f = filter_compile("SQL92", expr, err, sizeof err);
    ck_assert_msg(f != NULL, "'%s' did not compile: %s", expr, err);
    struct props p;
    props_parse(&p, props);
    enum filter_verdict v = filter_eval(f, props_get, &p);
    ck_assert_int_eq(filter_match_props(f, props_get, &p), v == FILTER_TRUE);
    free(p.buf);
    filter_free(f);
    return v;
}

struct eval_case {
    const char *expr;
    const char *props;   /* NULL: a message with no properties */
    enum filter_verdict want;
};

static void check_cases(const struct eval_case *c)
{
    enum filter_verdict got = verdict(c->expr, c->props);
    ck_assert_msg(got == c->want, "'%s' with {%s}: got %d, want %d", c->expr,
                  c->props ? c->props : "", got, c->want);
}

/* ---- Apache's ExpressionTest ----------------------------------------------- */

static const struct eval_case apache_cases[] = {
    /* testEvaluate_stringHasString */
    { "TAGS is not null and TAGS='''''tag'''''", "TAGS=''tag''", T },
    /* testEvaluate_stringCompare (the parts before its expected exception) */
    { "a between up and low", "a=3.14", U },
    { "a=b", "a=3.14;b=3.14", T },
    { "a<>b", "a=3.14;b=3.14", F },
    { "a<>b", "a=3.14;b=3.141", T },
    { "a between up and low", "a=3.14;up=up;low=low", E },
    { "key is not null and key between 0 and 100", "key=con", E },
    { "a between 0 and 100", "a=abc", E },
    /* testEvaluate_exponent, _floatNumber, _twoVariable(Gt) */
    { "a > 3.1E10", "a=3.1415E10", T },
    { "a > 3.14", "a=3.1415", T },
    { "a > b", "a=10;b=20", F },
    { "a > b", "a=20;b=10", T },
    /* testEvaluate_nullOr */
    { "a is null OR a='hello'", NULL, T },
    { "a is null OR a='hello'", "a=hello", T },
    { "a is null OR a='hello'", "a=abc", F },
    /* testEvaluate_boolean */
    { "a=TRUE OR b=FALSE", "a=true;b=false", T },
    { "a=TRUE OR b=FALSE", "a=false;b=true", F },
    /* testEvaluate_equal */
    { "a is not null and a='hello'", "a=hello", T },
    { "a is not null and a='hello'", NULL, F },
    /* testEvaluate_andTrue / andFalse (the string-valued contexts) */
    { "a=3 and b<>4 And c>5 AND d<=4", "a=3;b=5;c=6;d=1", T },
    { "a=3 and b<>4 And c>5 AND d<=4", "a=4;b=5;c=6;d=1", F },
    /* testEvaluate_orTrue / orFalse */
    { "a=3 or b<>4 Or c>5 OR d<=4", "a=3", T },
    { "a=3 or b<>4 Or c>5 OR d<=4", "a=4;b=5", T },
    { "a=3 or b<>4 Or c>5 OR d<=4", "a=4;b=4;c=6", T },
    { "a=3 or b<>4 Or c>5 OR d<=4", "a=4;b=4;c=3;d=2", T },
    { "a=3 or b<>4 Or c>5 OR d<=4", "a=4;b=4;c=3;d=10", F },
    /* testEvaluate_inTrue / inFalse / notInTrue / notInFalse */
    { "a in ('3', '4', '5')", "a=3", T },
    { "a in ('3', '4', '5')", "a=4", T },
    { "a in ('3', '4', '5')", "a=5", T },
    { "a in ('3', '4', '5')", "a=8", F },
    { "a not in ('3', '4', '5')", "a=8", T },
    { "a not in ('3', '4', '5')", "a=3", F },
    { "a not in ('3', '4', '5')", "a=4", F },
    { "a not in ('3', '4', '5')", "a=5", F },
    /* testEvaluate_betweenTrue / betweenFalse / notBetweenTrue / notBetweenFalse */
    { "a between 2 and 10", "a=2", T },
    { "a between 2 and 10", "a=10", T },
    { "a between 2 and 10", "a=3", T },
    { "a between 2 and 10", "a=1", F },
    { "a between 2 and 10", "a=11", F },
    { "a not between 2 and 10", "a=1", T },
    { "a not between 2 and 10", "a=11", T },
    { "a not between 2 and 10", "a=2", F },
    { "a not between 2 and 10", "a=10", F },
    { "a not between 2 and 10", "a=3", F },
    /* testEvaluate_isNullTrue / isNullFalse / isNotNullTrue / isNotNullFalse */
    { "a is null", "abc=2", T },
    { "a is null", "a=2", F },
    { "a is not null", "a=2", T },
    { "a is not null", "abc=2", F },
    /* ParserTest's valid expressions: "now" is an ordinary property in 4.9.8. */
    { "a <= now", "a=5;now=6", T },
    { "(a not in ('6', '4', '5')) or (b in ('3', '4', '5'))", "a=4;b=3", T },
    { "(a between 2 and 10) AND (b not between 6 and 9)", "a=2;b=10", T },
};

START_TEST(test_apache_cases)
{
    check_cases(&apache_cases[_i]);
}
END_TEST

/* ---- NULL and three-valued logic ------------------------------------------- */

static const struct eval_case null_cases[] = {
    /* A missing property makes a comparison UNKNOWN, and NOT keeps it so. */
    { "a = 3", NULL, U },
    { "a = 'x'", NULL, U },
    { "a <> 1", NULL, U },
    { "a > 1", NULL, U },
    { "NOT (a = 1)", NULL, U },
    { "a in ('x')", NULL, U },
    { "a not in ('x')", NULL, U },
    { "a between 1 and 3", NULL, U },
    { "a not between 1 and 3", NULL, U },
    /* Apache's equality is lopsided: NULL on the right side alone is FALSE. */
    { "'x' = a", NULL, F },
    { "'x' <> a", NULL, T },
    { "a = b", "a=x", F },
    { "a = b", "b=x", U },
    /* ...and two NULLs are equal; ordering with a NULL is UNKNOWN either way. */
    { "(a = 1) = (b = 1)", "c=1", T },
    { "a > b", "a=x", U },
    { "a > b", "b=x", U },
    /* AND / OR truth tables with UNKNOWN. */
    { "TRUE AND NULL", NULL, U },
    { "FALSE AND NULL", NULL, F },
    { "NULL OR TRUE", NULL, T },
    { "NULL OR FALSE", NULL, U },
    { "NOT NULL", NULL, U },
    { "NOT TRUE", NULL, F },
    { "NOT FALSE", NULL, T },
    { "TRUE", NULL, T },
    { "FALSE", NULL, F },
    { "NULL", NULL, U },
    { "a = 1 or b = 2", "b=2", T },
    { "a = 1 or b = 2", "b=3", U },
    { "a = 1 and b = 2", "b=3", F },
    { "a = 1 and b = 2", "b=2", U },
    /* IS [NOT] NULL never gives UNKNOWN. */
    { "a is null", NULL, T },
    { "a is not null", NULL, F },
    { "NULL IS NULL", NULL, T },
    { "'x' IS NULL", NULL, F },
    { "1 IS NOT NULL", NULL, T },
    { "a IS NULL OR a IS NOT NULL", NULL, T },
    { "a IS NOT NULL and a IS NULL", "a=1", F },
    { "a = 1 IS NULL", "b=1", T },        /* (a = 1) is UNKNOWN, i.e. NULL */
    { "a = 1 IS NOT NULL", "a=2", T },
    /* An empty value is a value, not NULL. */
    { "a = ''", "a=", T },
    { "a is null", "a=", F },
    /* A bare property is a condition only if its value is a Boolean, which a
     * property string never is: present gives FALSE, absent UNKNOWN. */
    { "a", "a=true", F },
    { "a", NULL, U },
    { "NOT a", "a=true", T },
    { "not a", NULL, U },
    { "a OR b", "a=true", U },
    { "a AND TRUE", "a=true", F },
};

START_TEST(test_null_logic)
{
    check_cases(&null_cases[_i]);
}
END_TEST

/* ---- short-circuit and evaluation errors ----------------------------------- */

static const struct eval_case error_cases[] = {
    /* An error anywhere that is evaluated fails the whole expression... */
    { "a = 1 AND b > 2", "a=1;b=x", E },
    { "c = 1 OR b > 2", "a=1;b=x", E },
    { "b > 2 AND a = 2", "a=1;b=x", E },
    { "b > 2 OR a = 1", "a=1;b=x", E },
    /* ...but AND stops at FALSE and OR at TRUE, left to right. */
    { "a = 2 AND b > 2", "a=1;b=x", F },
    { "a = 1 OR b > 2", "a=1;b=x", T },
    { "a = 1 OR b > 2 OR c > 2", "a=1;b=x;c=y", T },
    /* A Boolean on the left of a string: Apache's ClassCastException. */
    { "TRUE = a", "a=true", E },
    { "(a = 1) = 'true'", "a=1", E },
    /* ...while a string on the left is read with Boolean.valueOf. */
    { "a = TRUE", "a=TRUE", T },
    { "a = TRUE", "a=yes", F },
    { "a = FALSE", "a=yes", T },
    { "a = FALSE and b", "a=false;b=true", F },
    /* Booleans against numbers are simply unequal. */
    { "(a = 1) = 1", "a=1", F },
    { "(a = 1) = 1.5", "a=1", F },
    { "1 = TRUE", NULL, F },
    { "a = 1 > 0", "a=1", F },            /* a = (1 > 0): "1" read as a Boolean */
    /* Conditions compared with conditions. */
    { "(a = 1) = (b = 1)", "a=1;b=1", T },
    { "(a = 1) = (b = 1)", "a=1;b=2", F },
    { "(a = 1) = (b = 1)", "b=2", U },
    { "TRUE = (a = 1)", "a=1", T },
    { "(a = 1) <> TRUE", "a=1", F },
    { "a = 1 = TRUE", "a=1", T },
    { "a in ('1') = TRUE", "a=1", T },
    { "TRUE = FALSE", NULL, F },
    { "TRUE = TRUE", NULL, T },
    { "NOT a = 1", "a=1", F },            /* (NOT a) = 1 */
    { "NOT a = 1", NULL, U },
};

START_TEST(test_errors_and_short_circuit)
{
    check_cases(&error_cases[_i]);
}
END_TEST

/* ---- numbers and strings --------------------------------------------------- */

static const struct eval_case number_cases[] = {
    /* A literal that fits in 32 bits is an Integer: the property is read with
     * Integer.valueOf — strictly: no spaces, no decimals, no overflow. */
    { "a = 3", "a=3", T },
    { "a = 3", "a=+3", T },
    { "a = 3", "a=0003", T },
    { "a = 3", "a=3.0", E },
    { "a = 3", "a= 3", E },
    { "a = 3", "a=abc", E },
    { "a = 1", "a=", E },
    { "a = 1", "a=+", E },
    { "a = 1", "a=-0", F },
    { "a > 3", "a=3.5", E },
    { "a > 3", "a=+4", T },
    { "a = 2147483647", "a=2147483648", E },
    { "a = -2147483648", "a=-2147483648", T },
    /* Beyond 32 bits it is a Long (Long.valueOf). */
    { "a > 2147483647", "a=2147483648", E }, /* 2147483647 is still an Integer */
    { "a = 2147483648", "a=2147483648", T },
    { "a < 2147483648", "a=-9223372036854775808", T },
    { "a < 2147483648", "a=-9223372036854775809", E },
    { "a = 9223372036854775807", "a=9223372036854775807", T },
    { "a = 9223372036854775807L", "a=9223372036854775807", T },
    { "a = 2147483647L", "a=2147483647", T },
    { "a = 2147483648", "a=2147483648.0", E },
    { "a = 10L", "a=10", T },
    { "a = 10l", "a=10", T },
    /* A decimal literal is a Double: Double.valueOf takes much more. */
    { "a = 3.0", "a=3", T },
    { "a = 1.5", "a=1.50", T },
    { "a = 0.1", "a=0.1000000000000000055511151231257827", T },
    { "a = 0.5", "a=0.50000000000000000000001", T },
    { "a > 1.5", "a= 2 ", T },
    { "a > 1.5", "a=2d", T },
    { "a = 1.0", "a=1f", T },
    { "a = 1.0", "a=1.0D", T },
    { "a = 1.0", "a=1.0x", E },
    { "a > 1.5", "a=0x1p1", T },
    { "a < 1.0", "a=0x1p-1", T },
    { "a < 1.0", "a=0x.8p0", T },
    { "a < 1.0", "a=0x1", E },              /* hex needs its p exponent */
    { "a < 1.0", "a=.5", T },
    { "a < 1.0", "a=5.", F },
    { "a < 1.0", "a=.", E },
    { "a < 1.0", "a=1e", E },
    { "a < 1.0", "a=-.5e1f", T },
    { "a > 1.5", "a=NaN", T },              /* Double.compare puts NaN on top */
    { "a > 1.5", "a=Infinity", T },
    { "a < 1.0", "a=+Infinity", F },
    { "a < 1.0", "a=-Infinity", T },
    { "a < 1.0", "a=infinity", E },
    { "a < 1.0", "a=nan", E },
    { "a > 3.1E10", "a=31415000000", T },
    { "a > 1e5", "a=100001", T },
    { "a > 1E+5", "a=100001", T },
    { "a > 1e-5", "a=0.00001", F },
    { "a > .5e1", "a=6", T },
    { "a > 5.", "a=6", T },
    { "a = 4.9E-324", "a=4.9E-324", T },
    { "a = 1.7976931348623157E308", "a=1.7976931348623157E308", T },
    { "a >= 0.5", "a=-0.0", F },
    /* Two properties under <, <=, >, >= are compared as doubles. */
    { "a > b", "a=10;b=9", T },
    { "a > b", "a=10;b=x", E },
    { "a > b", "a=1e308;b=-1e308", T },
    { "a > b", "a=NaN;b=1", T },
    { "a < b", "a=-0.0;b=0.0", T },         /* Double.compare: -0.0 < 0.0 */
    /* ...but under = as strings. */
    { "a = b", "a=10;b=10.0", F },
    { "a = b", "a=x;b=x", T },
    { "a = b", "a=NaN;b=NaN", T },
    /* Literal against literal, with Java's widening (Integer < Long < Double). */
    { "1 = 1", NULL, T },
    { "1 > 0", NULL, T },
    { "1 < 1.5", NULL, T },
    { "2147483648 > 1", NULL, T },
    { "2147483648 > 1.5", NULL, T },
    { "1.5 > 2147483648", NULL, F },
    { "1 = 'x'", NULL, E },
    { "'1' = 1", NULL, T },
    { "'x' = 'x'", NULL, T },
    { "'x' = 'y'", NULL, F },
    { "'x' <> 'y'", NULL, T },
    { "1 = a", "a=1.0", E },
    { "1.0 = a", "a=1", T },
    { "3 = a", "a=3", T },
    { "1.5 = a", "a=1.5", T },
    /* Unary minus and plus: numbers negate; anything else becomes NULL. */
    { "a = -1", "a=-1", T },
    { "a = - -1", "a=1", T },
    { "- 1 = -1", NULL, T },
    { "a = +1", "a=1", T },
    { "a = -1", "a=-1.0", E },
    { "a = -1.0", "a=-1", T },
    { "a = -0.5", "a=-0.5", T },
    { "-0.5 = a", "a=-0.5", T },
    { "-a = 1", "a=-1", U },                /* a is a string: -a is NULL */
    { "a = -a", "a=1", F },
    { "a > -a", "a=1", U },
    { "- - a > 0", "a=1", U },
    { "a = -'x'", "a=x", F },
    { "a = +'x'", "a=x", T },
    { "-TRUE IS NULL", NULL, T },
    { "-(a = 1) IS NULL", "a=1", T },
    { "a between -5 and -10", "a=-7", F },  /* negations are not checked constants */
    { "a between 1.5 and 2", "a=1.7", E },  /* 2 is an Integer: Integer.valueOf("1.7") */
    { "a between 1.5 and 2.0", "a=1.7", T },
    { "a between 1 and 1", "a=1", T },
    { "a between a and b", "a=1;b=2", T },
    { "a between b and 1", "a=1;b=0", T },
    { "a not between 3 and 1", "a=2", T },  /* only BETWEEN checks its bounds */
};

START_TEST(test_numbers)
{
    check_cases(&number_cases[_i]);
}
END_TEST

/* ---- tokens ---------------------------------------------------------------- */

static const struct eval_case token_cases[] = {
    /* Keywords in any case; identifiers with _ and $; properties case-sensitive. */
    { "a=3  and    b<>4 And c>5 AND d<=4", "a=3;b=5;c=6;d=1", T },
    { "a IS NULL and b IS NOT NULL", "b=1", T },
    { "$a_1 = 'x'", "$a_1=x", T },
    { "_ = 1", "_=1", T },
    { "$ = 1", "$=1", T },
    { "A = 1", "A=1;a=2", T },
    { "UPPER = 1", "upper=1", U },
    { "index = 1", "index=1", T },          /* starts with a keyword, is none */
    { "nul = 1", "nul=1", T },
    { "nulls IS NULL", NULL, T },
    { "TAGS = 'TagA'", "TAGS=TagA", T },
    /* Strings: '' is a quote; any byte, newlines included. */
    { "a = 'it''s'", "a=it's", T },
    { "a in ('x''y')", "a=x'y", T },
    { "a = ''", "a=", T },
    { "a = 'multi\nline'", "a=multi\nline", T },
    { "a = '\xe6\x97\xa5\xe6\x9c\xac'", "a=\xe6\x97\xa5\xe6\x9c\xac", T },
    { "a = '\xe6\x97\xa5\xe6\x9c\xac'", "a=\xe6\x97\xa5", F },
    /* IN: a property (parenthesised is fine), lists of any length, duplicates. */
    { "(a) in ('x')", "a=x", T },
    { "a in ('a','b','c','d','e','f')", "a=f", T },
    { "a in ('a','b','c','d','e','f')", "a=g", F },
    { "a not in ('a','b','c','d','e','f')", "a=g", T },
    { "a in ('a','a')", "a=a", T },
    { "a in ('')", "a=", T },
    /* Comments: "--" to a line end, C style anywhere. */
    { "a = 5 -- why\n and b = 1", "a=5;b=1", T },
    { "a = 5 -- why\r and b = 1", "a=5;b=2", F },
    { "a = 5 /**/ and /* x ** y */ b = 1", "a=5;b=1", T },
    { "a = /* c */ 'x'", "a=x", T },
    /* An unclosed "--" is two minus signs: a = -(-(c)), c missing. */
    { "a = -- c", "a=1", F },
    /* Parentheses and precedence: AND binds tighter than OR, NOT tighter than =. */
    { "a = (1)", "a=1", T },
    { "(a) = 1", "a=1", T },
    { "a > (1)", "a=2", T },
    { "a > (b)", "a=2;b=1", T },
    { "a = 1 OR a = 2 AND b = 3", "a=1;b=4", T },
    { "(a = 1 OR a = 2) AND b = 3", "a=1;b=4", F },
    { "NOT NOT (a = 'x')", "a=x", T },
    { "NOT a = 'x'", "a=x", E },            /* (NOT a) = 'x': Boolean left of a string */
    { "a between 1 and 3 and b = 1", "a=2;b=1", T },
    { "a between 1 and 3 or b = 1", "a=5;b=1", T },
    { "a > 1 = TRUE", "a=2", T },
    /* Leading zeros split a decimal: "007" is 0 then 07 ... */
    { "a = 007", "a=0", T },
    /* ... because, as in Apache, text after a complete selector is ignored once its
     * first token lexes. */
    { "a=1 b", "a=1", T },
    { "a=1 )", "a=1", T },
    { "a = 1 ) ) )", "a=1", T },
    { "a = 1 ( b", "a=1", T },
    { "a = 1 ,", "a=1", T },
    { "a = 0L", "a=0", T },                 /* "0" takes no suffix: 0, then L */
    { "a = 1.5.3", "a=1.5", T },
    { "a = 'x' -- unclosed", "a=x", T },
    { "a = 1 e", "a=1", T },
    { "a = 1 + #", "a=1", T },              /* '#' is never read */
    /* Longest match: of the unclosed 'y''z the token is the literal 'y'. */
    { "a = 'x' 'y''z", "a=x", T },
};

START_TEST(test_tokens)
{
    check_cases(&token_cases[_i]);
}
END_TEST

/* ---- what does not compile ------------------------------------------------- */

static const char *const bad_expressions[] = {
    /* ParserTest: invalid, decimal overflow, illegal between. */
    "a and between 2 and 10",
    "a > 100000000000000000000000",
    " a between 10 and 0",
    /* Grammar. */
    "", "   ", "a =", "a >", "a = 1 AND", "a = 1 OR OR b = 1", "a == 1", "a IS", "a IS 1",
    "a IS NOT", "a NOT b", "a NOT", "a IN", "a IN ('x'", "a IN ('x',", "a IN ('x' 'y')",
    "a in ()", "a in ('1',)", "a in (1)", "a = ('1', '2')", "a BETWEEN 1", "a BETWEEN 1 OR 2",
    "a BETWEEN 1 AND", "in = 1", "Between = 1", "(a = 1", "()", "+", "a > NOT b",
    /* Tokens. */
    "a != 1", "a.b = 1", "a = 'unterminated", "a = 'x' /* unterminated", "a = 1 ;",
    "a = 1 !", "a = 1 '", "a = 1 /", "a=1 #", "a = 5 /* x */* b", "a = \"x\"",
    "a = 'x''y", "a = 'x''y''",
    "a = \xe6\x97\xa5", "1a = 1",
    /* Where a condition is needed. */
    "'x'", "1", "-a", "NOT 1", "NOT 'x'", "NOT -a", "a = 1 AND 'x'", "(1) OR a = 1",
    /* Equality checks: NULL literal operands, Boolean literal against a non-Boolean one. */
    "a = NULL", "NULL = a", "a <> NULL", "TRUE = 1", "FALSE <> 1", "TRUE = 'x'",
    /* Ordering checks: only numbers, properties and negations. */
    "a < 'x'", "a >= TRUE", "'x' > 1", "a > (b = 1)", "a > 1 > 0", "a between 'a' and 'c'",
    "a not between 'a' and 'b'", "a > NULL",
    /* BETWEEN bounds: non-NULL and in order when both are literals. */
    "a between 3 and 1", "a between 2 and 1.5", "a between NULL and 1", "a between 1 and TRUE",
    /* IN needs a property. */
    "1 in ('1')", "-a in ('x')", "(a = 1) in ('x')", "NOT a in ('x')", /* (NOT a) IN */
    /* Literal ranges: Long overflow; Double overflow, underflow and zero. */
    "a = 9223372036854775808", "a = -9223372036854775808", "a < 1e400", "a < 1.0e-400",
    "a > 0.0", "a = 0e5", "a = 1.7976931348623159E308", "a = 4.9E-325",
};

START_TEST(test_parse_errors)
{
    char err[256] = "";
    const char *expr = bad_expressions[_i];
    rmq_filter *f = filter_compile("SQL92", expr, err, sizeof err);
    ck_assert_msg(f == NULL, "'%s' compiled", expr);
    ck_assert_msg(strlen(err) > 0, "'%s' failed without a reason", expr);
}
END_TEST

START_TEST(test_error_reasons)
{
    char err[256];
    ck_assert_ptr_null(filter_compile("SQL92", "a = 1 AND b ==", err, sizeof err));
    ck_assert_str_eq(err, "Encountered \"=\" at column 14, expecting a literal, a property, "
                          "NOT, \"-\" or \"(\"");
    ck_assert_ptr_null(filter_compile("SQL92", "a = 1 AND", err, sizeof err));
    ck_assert(strstr(err, "end of input at column 10") != NULL);
    ck_assert_ptr_null(filter_compile("SQL92", "a = 'x", err, sizeof err));
    ck_assert(strstr(err, "Lexical error at column 5") != NULL);
    ck_assert_ptr_null(filter_compile("SQL92", "a != 1", err, sizeof err));
    ck_assert(strstr(err, "Lexical error at column 3") != NULL);
    ck_assert_ptr_null(filter_compile("SQL92", "a between 3 and 1", err, sizeof err));
    ck_assert(strstr(err, "between") != NULL);
    ck_assert_ptr_null(filter_compile("SQL92", "x = 1 and 'a'", err, sizeof err));
    ck_assert(strstr(err, "column 11") != NULL && strstr(err, "boolean") != NULL);
    /* The first error wins: a semantic one before a later lexical one. */
    ck_assert_ptr_null(filter_compile("SQL92", "a < 'x' AND b = 'y", err, sizeof err));
    ck_assert(strstr(err, "column 5") != NULL);
}
END_TEST

/* ---- limits ---------------------------------------------------------------- */

static char *repeat(const char *head, const char *unit, int times, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = xmalloc(hl + ul * (size_t)times + tl + 1), *p = s;
    memcpy(p, head, hl);
    p += hl;
    for (int i = 0; i < times; i++, p += ul) memcpy(p, unit, ul);
    memcpy(p, tail, tl + 1);
    return s;
}

static void expect_compile(const char *expr, bool ok)
{
    char err[256] = "";
    rmq_filter *f = filter_compile("SQL92", expr, err, sizeof err);
    ck_assert_msg((f != NULL) == ok, "compiled: %d, want %d (%s)", f != NULL, ok, err);
    if (!ok) ck_assert(strlen(err) > 0);
    filter_free(f);
}

START_TEST(test_nesting_limit)
{
    /* Deep parentheses, NOT chains and = chains stop at FILTER_MAX_DEPTH. */
    int deep = FILTER_MAX_DEPTH + 10, fine = FILTER_MAX_DEPTH - 8;
    char *open = repeat("", "(", deep, ""), *close = repeat("a = 1", ")", deep, "");
    char *s = str_printf("%s%s", open, close);
    expect_compile(s, false);
    free(s);
    free(open);
    free(close);
    open = repeat("", "(", fine, "");
    close = repeat("a = 1", ")", fine, "");
    s = str_printf("%s%s", open, close);
    expect_compile(s, true);
    ck_assert_int_eq(verdict(s, "a=1"), FILTER_TRUE);
    free(s);
    free(open);
    free(close);

    s = repeat("", "NOT ", deep, "a = 1");
    expect_compile(s, false);
    free(s);
    s = repeat("", "NOT ", fine, "(a = 1)");
    ck_assert_int_eq(verdict(s, "a=1"), (fine % 2 ? FILTER_FALSE : FILTER_TRUE));
    free(s);
    s = repeat("a = 1", " = TRUE", deep, "");
    expect_compile(s, false);
    free(s);
    s = repeat("", "- ", deep, "a > 1");
    expect_compile(s, false);
    free(s);
    /* A whole string of pathological nesting fails cleanly too. */
    s = repeat("", "(", 100000, "");
    expect_compile(s, false);
    free(s);
}
END_TEST

START_TEST(test_long_chains)
{
    /* Long AND/OR chains are flat, not deep: thousands of terms are fine. */
    size_t cap = 64 * 1024, len = 0;
    char *s = xmalloc(cap);
    s[0] = 0;
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(s + len, cap - len, "%sa = '%d'", i ? " OR " : "", i);
    ck_assert_int_eq(verdict(s, "a=2999"), FILTER_TRUE);
    ck_assert_int_eq(verdict(s, "a=x"), FILTER_FALSE);
    ck_assert_int_eq(verdict(s, NULL), FILTER_UNKNOWN);
    len = 0;
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(s + len, cap - len, "%sa <> '%d'", i ? " AND " : "", i);
    ck_assert_int_eq(verdict(s, "a=x"), FILTER_TRUE);
    ck_assert_int_eq(verdict(s, "a=1500"), FILTER_FALSE);
    /* A long IN list. */
    len = (size_t)snprintf(s, cap, "a in (");
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s'%d'", i ? "," : "", i);
    snprintf(s + len, cap - len, ")");
    ck_assert_int_eq(verdict(s, "a=4321"), FILTER_TRUE);
    ck_assert_int_eq(verdict(s, "a=5000"), FILTER_FALSE);
    free(s);
}
END_TEST

START_TEST(test_length_limit)
{
    /* ParserTest.testParse_floatOverFlow: a ~200 KB literal is refused. */
    char *s = repeat("a > 1", "111111111111111111111111111111111111111111111111111", 4096, "");
    expect_compile(s, false);
    free(s);
    /* Just within the limit compiles; one byte more does not. */
    s = repeat("a = '", "x", FILTER_MAX_EXPRESSION_LEN - 6, "'");
    ck_assert_uint_eq(strlen(s), FILTER_MAX_EXPRESSION_LEN);
    expect_compile(s, true);
    free(s);
    s = repeat("a = '", "x", FILTER_MAX_EXPRESSION_LEN - 5, "'");
    expect_compile(s, false);
    free(s);
}
END_TEST

START_TEST(test_compiled_once_many_messages)
{
    /* One compiled filter, evaluated against many messages. */
    char err[128];
    rmq_filter *f = filter_compile("SQL92", "region IN ('eu', 'us') AND price BETWEEN 10 AND 20",
                                   err, sizeof err);
    ck_assert_ptr_nonnull(f);
    const char *specs[] = { "region=eu;price=10", "region=us;price=21", "region=cn;price=15",
                            "region=us", "region=eu;price=x" };
    const enum filter_verdict want[] = { T, F, F, U, E };
    for (int i = 0; i < 5; i++) {
        struct props p;
        props_parse(&p, specs[i]);
        ck_assert_int_eq(filter_eval(f, props_get, &p), want[i]);
        free(p.buf);
    }
    filter_free(f);
}
END_TEST

#define N(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_apache_cases, 0, N(apache_cases));
    tcase_add_loop_test(tc, test_null_logic, 0, N(null_cases));
    tcase_add_loop_test(tc, test_errors_and_short_circuit, 0, N(error_cases));
    tcase_add_loop_test(tc, test_numbers, 0, N(number_cases));
    tcase_add_loop_test(tc, test_tokens, 0, N(token_cases));
    tcase_add_loop_test(tc, test_parse_errors, 0, N(bad_expressions));
    tcase_add_test(tc, test_error_reasons);
    tcase_add_test(tc, test_nesting_limit);
    tcase_add_test(tc, test_long_chains);
    tcase_add_test(tc, test_length_limit);
    tcase_add_test(tc, test_compiled_once_many_messages);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
