/*
 * Evaluation of an SQL92 selector tree with Apache's semantics
 * (the classes in filter/expression of 4.9.8): property values are Java Strings, literals
 * are Integer/Long/Double/Boolean/String, and mixed comparisons convert the
 * string side with Integer.valueOf, Long.valueOf, Double.valueOf or
 * Boolean.valueOf. Where Java throws, the whole evaluation fails (the broker
 * catches the exception and drops the message).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "filter/sql.h"

/* Integer.parseInt / Long.parseLong: optional sign, ASCII digits, in range. */
static int java_parse_integer(const char *s, int64_t min, int64_t max, int64_t *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    if (!*s) return RMQ_ERR;
    /* Accumulate negatively so that the most negative value fits. */
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return RMQ_ERR;
        int d = *s - '0';
        if (v < INT64_MIN / 10 || (v == INT64_MIN / 10 && d > -(INT64_MIN % 10))) return RMQ_ERR;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN) return RMQ_ERR;
        v = -v;
    }
    if (v < min || v > max) return RMQ_ERR;
    *out = v;
    return RMQ_OK;
}

static size_t span_digits(const char *s, bool hex)
{
    size_t n = 0;
    while ((s[n] >= '0' && s[n] <= '9') ||
           (hex && ((s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F'))))
        n++;
    return n;
}

/*
 * Double.valueOf(String): String.trim(), optional sign, then "NaN", "Infinity",
 * a decimal with optional exponent, or a hex float with a mandatory binary
 * exponent; an f/F/d/D suffix is allowed on numbers. strtod does the rounding
 * (both are correctly rounded) once the text is known to be Java's syntax
 * (strtod's decimal point assumes LC_NUMERIC stays "C").
 */
static int java_parse_double(const char *s, double *out)
{
    while (*s && java_is_trimmed(*s)) s++;
    size_t len = strlen(s);
    while (len && java_is_trimmed(s[len - 1])) len--;

    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    const char *body = s + i;
    size_t body_len = len - i;
    if (body_len == 3 && memcmp(body, "NaN", 3) == 0) {
        *out = NAN;
        return RMQ_OK;
    }
    if (body_len == 8 && memcmp(body, "Infinity", 8) == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return RMQ_OK;
    }

    bool hex = body_len > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
    size_t j = hex ? 2 : 0;
    size_t int_digits = span_digits(body + j, hex);
    j += int_digits;
    size_t frac_digits = 0;
    if (j < body_len && body[j] == '.') {
        j++;
        frac_digits = span_digits(body + j, hex);
        j += frac_digits;
    }
    if (int_digits + frac_digits == 0) return RMQ_ERR;
    const char *exp_marks = hex ? "pP" : "eE";
    if (j < body_len && strchr(exp_marks, body[j])) {
        j++;
        if (j < body_len && (body[j] == '+' || body[j] == '-')) j++;
        size_t exp_digits = span_digits(body + j, false);
        if (exp_digits == 0) return RMQ_ERR;
        j += exp_digits;
    } else if (hex) {
        return RMQ_ERR;
    }
    if (j < body_len && strchr("fFdD", body[j])) j++;
    if (j != body_len) return RMQ_ERR;
    /* strtod reads the same number and stops before any suffix or trailing blanks. */
    *out = strtod(s, NULL);
    return RMQ_OK;
}

/* Double.compare: NaN above everything and equal to itself, -0.0 below 0.0. */
static int java_double_compare(double a, double b)
{
    if (a < b) return -1;
    if (a > b) return 1;
    bool a_nan = isnan(a), b_nan = isnan(b);
    if (a_nan || b_nan) return a_nan - b_nan;
    return (int)!signbit(a) - (int)!signbit(b);
}

static int compare_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* The string side converted to the other side's type; RMQ_ERR where Java throws. */
static int string_as(enum sql_type type, const char *s, sql_value *out)
{
    int64_t v;
    out->type = type;
    switch (type) {
    case SQL_BOOL:
        out->u.b = parse_java_bool(s);
        return RMQ_OK;
    case SQL_INT:
        if (java_parse_integer(s, INT32_MIN, INT32_MAX, &v)) return RMQ_ERR;
        out->u.i = (int32_t)v;
        return RMQ_OK;
    case SQL_LONG:
        return java_parse_integer(s, INT64_MIN, INT64_MAX, &out->u.l);
    case SQL_DOUBLE:
        return java_parse_double(s, &out->u.d);
    default:
        abort(); /* callers only convert to these */
    }
}

static double as_double(const sql_value *v)
{
    switch (v->type) {
    case SQL_INT: return v->u.i;
    case SQL_LONG: return (double)v->u.l;
    case SQL_DOUBLE: return v->u.d;
    default: abort();
    }
}

static int rank(enum sql_type t) { return t == SQL_INT ? 0 : t == SQL_LONG ? 1 : 2; }

int sql_compare(const sql_value *l, const sql_value *r, int *cmp)
{
    sql_value a = *l, b = *r;
    if (a.type == SQL_NULL || b.type == SQL_NULL) abort(); /* NULLs never get here */

    if (a.type != b.type) {
        if (a.type == SQL_BOOL) {
            /* Apache casts the Boolean itself to String here: ClassCastException. */
            if (b.type == SQL_STRING) return RMQ_ERR;
            *cmp = -1;
            return RMQ_OK;
        }
        if (a.type == SQL_STRING) {
            if (string_as(b.type, a.u.s, &a)) return RMQ_ERR;
        } else if (b.type == SQL_STRING) {
            if (string_as(a.type, b.u.s, &b)) return RMQ_ERR;
        } else if (b.type == SQL_BOOL) {
            *cmp = -1;
            return RMQ_OK;
        } else if (rank(a.type) < rank(b.type)) { /* widen to the wider number */
            if (b.type == SQL_LONG) a.u.l = a.u.i; else a.u.d = as_double(&a);
            a.type = b.type;
        } else {
            if (a.type == SQL_LONG) b.u.l = b.u.i; else b.u.d = as_double(&b);
            b.type = a.type;
        }
    }

    switch (a.type) {
    case SQL_BOOL: *cmp = (int)a.u.b - (int)b.u.b; break;
    case SQL_INT: *cmp = compare_i64(a.u.i, b.u.i); break;
    case SQL_LONG: *cmp = compare_i64(a.u.l, b.u.l); break;
    case SQL_DOUBLE: *cmp = java_double_compare(a.u.d, b.u.d); break;
    /* Only equality reaches here with two strings (ordering converts them to
     * doubles first), so byte order stands in for Java's UTF-16 order. */
    case SQL_STRING: *cmp = strcmp(a.u.s, b.u.s); break;
    default: abort();
    }
    return RMQ_OK;
}

struct eval_ctx {
    filter_prop_fn get;
    void *arg;
};

static const sql_value NULL_VALUE = { .type = SQL_NULL };

static sql_value boolean(bool b) { return (sql_value){ .type = SQL_BOOL, .u.b = b }; }

static int eval(const sql_node *n, const struct eval_ctx *ctx, sql_value *out);

/* AND stops at the first FALSE, OR at the first TRUE; otherwise any NULL operand
 * makes the result NULL (LogicExpression; flattening keeps its order). */
static int eval_logic(const sql_node *n, const struct eval_ctx *ctx, sql_value *out)
{
    bool decisive = n->kind == SQL_OR;
    bool unknown = false;
    for (size_t i = 0; i < n->n_kids; i++) {
        sql_value v;
        if (eval(n->kids[i], ctx, &v)) return RMQ_ERR;
        if (v.type == SQL_NULL) {
            unknown = true;
        } else if (v.u.b == decisive) {
            *out = boolean(decisive);
            return RMQ_OK;
        }
    }
    *out = unknown ? NULL_VALUE : boolean(!decisive);
    return RMQ_OK;
}

static int eval_equal(const sql_node *n, const struct eval_ctx *ctx, sql_value *out)
{
    sql_value l, r;
    if (eval(n->kids[0], ctx, &l) || eval(n->kids[1], ctx, &r)) return RMQ_ERR;
    /* Deliberately lopsided, as in Apache: NULL = x is NULL, x = NULL is FALSE. */
    if (l.type == SQL_NULL) {
        *out = r.type == SQL_NULL ? boolean(true) : NULL_VALUE;
        return RMQ_OK;
    }
    if (r.type == SQL_NULL) {
        *out = boolean(false);
        return RMQ_OK;
    }
    int cmp;
    if (sql_compare(&l, &r, &cmp)) return RMQ_ERR;
    *out = boolean(cmp == 0);
    return RMQ_OK;
}

static int eval_order(const sql_node *n, const struct eval_ctx *ctx, sql_value *out)
{
    sql_value l, r;
    if (eval(n->kids[0], ctx, &l)) return RMQ_ERR;
    if (l.type == SQL_NULL) {
        *out = NULL_VALUE;
        return RMQ_OK;
    }
    if (eval(n->kids[1], ctx, &r)) return RMQ_ERR;
    if (r.type == SQL_NULL) {
        *out = NULL_VALUE;
        return RMQ_OK;
    }
    int cmp;
    if (l.type == SQL_STRING && r.type == SQL_STRING) {
        /* Two properties: Apache compares them as doubles or throws. */
        double a, b;
        if (java_parse_double(l.u.s, &a) || java_parse_double(r.u.s, &b)) return RMQ_ERR;
        cmp = java_double_compare(a, b);
    } else if (sql_compare(&l, &r, &cmp)) {
        return RMQ_ERR;
    }
    switch (n->kind) {
    case SQL_GT: *out = boolean(cmp > 0); break;
    case SQL_GE: *out = boolean(cmp >= 0); break;
    case SQL_LT: *out = boolean(cmp < 0); break;
    case SQL_LE: *out = boolean(cmp <= 0); break;
    default: abort();
    }
    return RMQ_OK;
}

static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int eval(const sql_node *n, const struct eval_ctx *ctx, sql_value *out)
{
    sql_value v;
    switch (n->kind) {
    case SQL_CONST:
        *out = n->value;
        return RMQ_OK;
    case SQL_PROPERTY: {
        const char *s = ctx->get(n->text, ctx->arg);
        *out = s ? (sql_value){ .type = SQL_STRING, .u.s = s } : NULL_VALUE;
        return RMQ_OK;
    }
    case SQL_NEGATE:
        if (eval(n->kids[0], ctx, &v)) return RMQ_ERR;
        /* Literals are never negative, so no minimum to overflow; wrap like Java anyway. */
        if (v.type == SQL_INT) v.u.i = (int32_t)(0u - (uint32_t)v.u.i);
        else if (v.type == SQL_LONG) v.u.l = (int64_t)(0u - (uint64_t)v.u.l);
        else if (v.type == SQL_DOUBLE) v.u.d = -v.u.d;
        else v = NULL_VALUE;
        *out = v;
        return RMQ_OK;
    case SQL_NOT:
        if (eval(n->kids[0], ctx, &v)) return RMQ_ERR;
        *out = v.type == SQL_NULL ? NULL_VALUE : boolean(!v.u.b);
        return RMQ_OK;
    case SQL_BOOL_CAST:
        if (eval(n->kids[0], ctx, &v)) return RMQ_ERR;
        *out = v.type == SQL_NULL ? NULL_VALUE : boolean(v.type == SQL_BOOL && v.u.b);
        return RMQ_OK;
    case SQL_AND:
    case SQL_OR:
        return eval_logic(n, ctx, out);
    case SQL_EQ:
        return eval_equal(n, ctx, out);
    case SQL_GT: case SQL_GE: case SQL_LT: case SQL_LE:
        return eval_order(n, ctx, out);
    case SQL_IS_NULL:
        if (eval(n->kids[0], ctx, &v)) return RMQ_ERR;
        *out = boolean(v.type == SQL_NULL);
        return RMQ_OK;
    case SQL_IN:
        if (eval(n->kids[0], ctx, &v)) return RMQ_ERR;
        if (v.type != SQL_STRING) {
            *out = NULL_VALUE;
            return RMQ_OK;
        }
        bool found = bsearch(&v.u.s, n->set, n->n_set, sizeof *n->set, compare_str_ptr) != NULL;
        *out = boolean(found != n->negated);
        return RMQ_OK;
    }
    abort();
}

enum filter_verdict sql_eval(const sql_node *root, filter_prop_fn get, void *arg)
{
    struct eval_ctx ctx = { get, arg };
    sql_value v;
    if (eval(root, &ctx, &v)) return FILTER_ERROR;
    if (v.type == SQL_NULL) return FILTER_UNKNOWN;
    return v.u.b ? FILTER_TRUE : FILTER_FALSE;
}
