/*
 * Tokenizer and recursive-descent parser for SQL92 selectors, following
 * Apache 4.9.8's SelectorParser.jj rule for rule:
 *
 *   selector   := or
 *   or         := and (OR and)*
 *   and        := equality (AND equality)*
 *   equality   := comparison ( '=' comparison | '<>' comparison
 *                            | IS NULL | IS NOT NULL )*
 *   comparison := unary ( ('>'|'>='|'<'|'<=') unary
 *                       | [NOT] BETWEEN unary AND unary
 *                       | [NOT] IN '(' string (',' string)* ')' )*
 *   unary      := '+' unary | '-' unary | NOT unary | primary
 *   primary    := literal | identifier | '(' or ')'
 *
 * Keywords are case-insensitive; identifiers are [A-Za-z_$][A-Za-z0-9_$]*
 * (no dots); a "--" comment needs a line end, a block comment its close.
 * Like the generated Java parser, which never asks for <EOF>, text after a
 * complete selector is ignored as long as its first token is a valid token:
 * "a = 1 b" is "a = 1". Tokens are read lazily, at most two ahead, so lexical
 * errors surface exactly where Apache's would.
 *
 * Each node is checked as Apache's constructors check it (comparable operands,
 * IN on a property, BETWEEN bounds in order, conditions where conditions are
 * needed), so what Apache refuses to compile is refused here too.
 */
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "filter/sql.h"

enum tok_kind {
    T_EOF, T_LEXERR,
    T_NOT, T_AND, T_OR, T_BETWEEN, T_IN, T_TRUE, T_FALSE, T_NULL, T_IS,
    T_DECIMAL, T_FLOAT, T_STRING, T_ID,
    T_EQ, T_NE, T_GT, T_GE, T_LT, T_LE, T_LPAREN, T_COMMA, T_RPAREN, T_PLUS, T_MINUS,
};

struct token {
    enum tok_kind kind;
    size_t pos, len;        /* the token's text */
};

struct parser {
    const char *text;
    size_t len;
    size_t cursor;          /* where the lexer goes on */
    struct token ahead[2];  /* lexed, not yet consumed */
    unsigned n_ahead;
    int depth;              /* unary-rule recursion, bounds the C stack */
    bool failed;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed) return; /* the first error is the one to report */
    p->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
}

/* ---- tokenizer ------------------------------------------------------------ */

static const struct { const char *word; enum tok_kind kind; } keywords[] = {
    { "NOT", T_NOT }, { "AND", T_AND }, { "OR", T_OR }, { "BETWEEN", T_BETWEEN },
    { "IN", T_IN }, { "TRUE", T_TRUE }, { "FALSE", T_FALSE }, { "NULL", T_NULL },
    { "IS", T_IS },
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
static bool is_id_part(char c) { return is_id_start(c) || is_digit(c); }

/* Length of an exponent ("E" ["+"|"-"] digits) at s, or 0 if there is none. */
static size_t exponent_len(const char *s, const char *end)
{
    if (s >= end || (*s != 'e' && *s != 'E')) return 0;
    size_t n = 1;
    if (s + n < end && (s[n] == '+' || s[n] == '-')) n++;
    size_t digits = 0;
    while (s + n + digits < end && is_digit(s[n + digits])) digits++;
    return digits ? n + digits : 0;
}

/* Skips whitespace and comments; false (with the error set) on an open comment. */
static bool skip_blanks(struct parser *p)
{
    const char *s = p->text, *end = p->text + p->len;
    for (;;) {
        const char *c = s + p->cursor;
        if (c < end && strchr(" \t\n\r\f", *c)) {
            p->cursor++;
        } else if (end - c >= 2 && c[0] == '-' && c[1] == '-') {
            /* A line comment only counts when a line end closes it; without one,
             * the dashes are two minus tokens, as in Apache's token manager. */
            const char *eol = c + 2;
            while (eol < end && *eol != '\n' && *eol != '\r') eol++;
            if (eol == end) return true;
            p->cursor = (size_t)(eol + 1 - s);
        } else if (end - c >= 2 && c[0] == '/' && c[1] == '*') {
            const char *close = NULL;
            for (const char *q = c + 2; q + 1 < end; q++)
                if (q[0] == '*' && q[1] == '/') { close = q; break; }
            if (!close) {
                fail(p, "Lexical error at column %zu: unterminated comment", p->cursor + 1);
                return false;
            }
            p->cursor = (size_t)(close + 2 - s);
        } else {
            return true;
        }
    }
}

/* The longest token at the cursor (keywords win ties with identifiers). */
static struct token lex(struct parser *p)
{
    struct token t = { T_LEXERR, 0, 0 };
    if (!skip_blanks(p)) return t;
    const char *c = p->text + p->cursor, *end = p->text + p->len;
    t.pos = p->cursor;
    size_t n = 0;
    if (c == end) {
        t.kind = T_EOF;
    } else if (is_id_start(*c)) {
        while (c + n < end && is_id_part(c[n])) n++;
        t.kind = T_ID;
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
            if (strlen(keywords[i].word) == n && strncasecmp(c, keywords[i].word, n) == 0)
                t.kind = keywords[i].kind;
    } else if (is_digit(*c) || (*c == '.' && c + 1 < end && is_digit(c[1]))) {
        while (c + n < end && is_digit(c[n])) n++;
        bool dot = c + n < end && c[n] == '.';
        if (dot) {
            n++;
            while (c + n < end && is_digit(c[n])) n++;
        }
        size_t e = exponent_len(c + n, end);
        if (dot || e) {
            t.kind = T_FLOAT;
            n += e;
        } else {
            /* DECIMAL_LITERAL is "0" | [1-9][0-9]* [lL]: "007" is three tokens. */
            t.kind = T_DECIMAL;
            if (*c == '0') n = 1;
            else if (c + n < end && (c[n] == 'l' || c[n] == 'L')) n++;
        }
    } else if (*c == '\'') {
        /* Longest match: in an unclosed 'ab''cd the literal 'ab' is the token. */
        size_t last_close = 0;
        n = 1;
        for (;;) {
            if (c + n == end) {
                if (last_close) {
                    n = last_close;
                    break;
                }
                fail(p, "Lexical error at column %zu: unterminated string", t.pos + 1);
                return (struct token){ T_LEXERR, t.pos, 0 };
            }
            if (c[n++] != '\'') continue;
            if (c + n < end && c[n] == '\'') { /* '' is a quote inside */
                last_close = n;
                n++;
            } else {
                break;
            }
        }
        t.kind = T_STRING;
    } else {
        static const struct { const char *op; enum tok_kind kind; } ops[] = {
            { "<>", T_NE }, { ">=", T_GE }, { "<=", T_LE }, { "=", T_EQ }, { ">", T_GT },
            { "<", T_LT }, { "(", T_LPAREN }, { ",", T_COMMA }, { ")", T_RPAREN },
            { "+", T_PLUS }, { "-", T_MINUS },
        };
        for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !n; i++) {
            size_t l = strlen(ops[i].op);
            if ((size_t)(end - c) >= l && memcmp(c, ops[i].op, l) == 0) {
                t.kind = ops[i].kind;
                n = l;
            }
        }
        if (!n) {
            fail(p, "Lexical error at column %zu: unexpected character '%c'", t.pos + 1, *c);
            return t;
        }
    }
    t.len = n;
    p->cursor += n;
    return t;
}

/* The kind of the token k (0 or 1) places ahead, lexing it if need be. */
static enum tok_kind peek(struct parser *p, unsigned k)
{
    if (p->n_ahead == 0) p->ahead[p->n_ahead++] = lex(p);
    if (k == 1 && p->n_ahead == 1) {
        if (p->ahead[0].kind == T_LEXERR) return T_LEXERR; /* nothing lexes past an error */
        p->ahead[p->n_ahead++] = lex(p);
    }
    return p->ahead[k].kind;
}

static struct token advance(struct parser *p)
{
    peek(p, 0);
    struct token t = p->ahead[0];
    p->ahead[0] = p->ahead[1];
    p->n_ahead--;
    return t;
}

static void fail_unexpected(struct parser *p, const char *wanted)
{
    if (peek(p, 0) == T_LEXERR) return; /* already reported */
    struct token t = p->ahead[0];
    if (t.kind == T_EOF)
        fail(p, "Encountered end of input at column %zu, expecting %s", t.pos + 1, wanted);
    else
        fail(p, "Encountered \"%.*s\" at column %zu, expecting %s",
             (int)(t.len > 40 ? 40 : t.len), p->text + t.pos, t.pos + 1, wanted);
}

static bool expect(struct parser *p, enum tok_kind kind, const char *wanted)
{
    if (peek(p, 0) != kind) {
        fail_unexpected(p, wanted);
        return false;
    }
    advance(p);
    return true;
}

/* ---- tree building, with Apache's constructor checks ----------------------- */

void sql_free(sql_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n_kids; i++) sql_free(n->kids[i]);
    for (size_t i = 0; i < n->n_set; i++) free(n->set[i]);
    free(n->kids);
    free(n->set);
    free(n->text);
    free(n);
}

static sql_node *leaf(enum sql_kind kind, size_t pos)
{
    sql_node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->depth = 1;
    n->pos = pos;
    return n;
}

/* A node over operands a (and b); NULL if parsing failed or nesting is too deep.
 * Takes ownership of the operands either way. */
static sql_node *make(struct parser *p, enum sql_kind kind, sql_node *a, sql_node *b)
{
    int depth = 1 + (a ? a->depth : 0);
    if (b && b->depth + 1 > depth) depth = b->depth + 1;
    if (!p->failed && depth > FILTER_MAX_DEPTH)
        fail(p, "Expression nested deeper than %d at column %zu", FILTER_MAX_DEPTH, a->pos + 1);
    if (p->failed) {
        sql_free(a);
        sql_free(b);
        return NULL;
    }
    sql_node *n = leaf(kind, a->pos);
    n->depth = depth;
    n->n_kids = b ? 2 : 1;
    n->kids = xmalloc(n->n_kids * sizeof *n->kids);
    n->kids[0] = a;
    if (b) n->kids[1] = b;
    return n;
}

static sql_node *clone(const sql_node *n)
{
    sql_node *c = xmalloc(sizeof *c);
    *c = *n;
    if (n->text) {
        c->text = xstrdup(n->text);
        if (n->value.type == SQL_STRING) c->value.u.s = c->text;
    }
    if (n->n_kids) {
        c->kids = xmalloc(n->n_kids * sizeof *c->kids);
        for (size_t i = 0; i < n->n_kids; i++) c->kids[i] = clone(n->kids[i]);
    }
    if (n->n_set) {
        c->set = xmalloc(n->n_set * sizeof *c->set);
        for (size_t i = 0; i < n->n_set; i++) c->set[i] = xstrdup(n->set[i]);
    }
    return c;
}

/* Apache's BooleanExpression: what may stand where a condition is expected. */
static bool is_condition(const sql_node *n)
{
    if (n->kind == SQL_CONST) return n->value.type == SQL_BOOL || n->value.type == SQL_NULL;
    return n->kind != SQL_PROPERTY && n->kind != SQL_NEGATE;
}

/* SelectorParser.asBooleanExpression: a bare property becomes a cast. */
static sql_node *as_condition(struct parser *p, sql_node *n)
{
    if (!n || p->failed) {
        sql_free(n);
        return NULL;
    }
    if (is_condition(n)) return n;
    if (n->kind == SQL_PROPERTY) return make(p, SQL_BOOL_CAST, n, NULL);
    fail(p, "Expression at column %zu will not result in a boolean value", n->pos + 1);
    sql_free(n);
    return NULL;
}

/* AND/OR, flattening operands of the same kind (evaluation order is kept). */
static sql_node *make_logic(struct parser *p, enum sql_kind kind, sql_node *l, sql_node *r)
{
    l = as_condition(p, l);
    r = as_condition(p, r);
    if (!l || !r) {
        sql_free(l);
        sql_free(r);
        return NULL;
    }
    sql_node *n = l;
    if (l->kind != kind) {
        n = make(p, kind, l, NULL);
        if (!n) {
            sql_free(r);
            return NULL;
        }
    }
    size_t add = r->kind == kind ? r->n_kids : 1;
    n->kids = xrealloc(n->kids, (n->n_kids + add) * sizeof *n->kids);
    if (r->kind == kind) {
        memcpy(n->kids + n->n_kids, r->kids, add * sizeof *r->kids);
        r->n_kids = 0;
        for (size_t i = 0; i < add; i++)
            if (r->kids[i]->depth + 1 > n->depth) n->depth = r->kids[i]->depth + 1;
        sql_free(r);
    } else {
        n->kids[n->n_kids] = r;
        if (r->depth + 1 > n->depth) n->depth = r->depth + 1;
    }
    n->n_kids += add;
    if (n->depth > FILTER_MAX_DEPTH) {
        fail(p, "Expression nested deeper than %d at column %zu", FILTER_MAX_DEPTH, n->pos + 1);
        sql_free(n);
        return NULL;
    }
    return n;
}

static const char *kind_name(const sql_node *n)
{
    if (n->kind != SQL_CONST) return "condition";
    switch (n->value.type) {
    case SQL_NULL: return "NULL";
    case SQL_BOOL: return n->value.u.b ? "TRUE" : "FALSE";
    case SQL_STRING: return "string";
    default: return "number";
    }
}

/* checkLessThanOperand: only numbers, properties and negations can be ordered. */
static bool orderable(struct parser *p, const sql_node *n)
{
    bool ok = n->kind == SQL_CONST
        ? n->value.type == SQL_INT || n->value.type == SQL_LONG || n->value.type == SQL_DOUBLE
        : !is_condition(n);
    if (!ok) fail(p, "Value at column %zu (%s) cannot be compared with <, <=, >, >=, BETWEEN",
                  n->pos + 1, kind_name(n));
    return ok;
}

static sql_node *make_order(struct parser *p, enum sql_kind kind, sql_node *l, sql_node *r)
{
    if (l && r && !p->failed) {
        orderable(p, l);
        orderable(p, r);
    }
    return make(p, kind, l, r);
}

/* checkEqualOperand and checkEqualOperandCompatability. */
static sql_node *make_equal(struct parser *p, sql_node *l, sql_node *r)
{
    if (l && r && !p->failed) {
        const sql_node *null_const = l->kind == SQL_CONST && l->value.type == SQL_NULL ? l
            : r->kind == SQL_CONST && r->value.type == SQL_NULL ? r : NULL;
        if (null_const)
            fail(p, "NULL at column %zu cannot be compared with =, <>; use IS [NOT] NULL",
                 null_const->pos + 1);
        else if (l->kind == SQL_CONST && r->kind == SQL_CONST &&
                 l->value.type == SQL_BOOL && r->value.type != SQL_BOOL)
            fail(p, "%s at column %zu cannot be compared with a %s", kind_name(l),
                 l->pos + 1, kind_name(r));
    }
    return make(p, SQL_EQ, l, r);
}

/* value BETWEEN low AND high is (value >= low AND value <= high); constant
 * bounds must be non-NULL and in order (ComparisonExpression.createBetween). */
static sql_node *make_between(struct parser *p, sql_node *v, sql_node *lo, sql_node *hi,
                              bool negated)
{
    if (!v || !lo || !hi || p->failed) {
        sql_free(v);
        sql_free(lo);
        sql_free(hi);
        return NULL;
    }
    if (!negated && lo->kind == SQL_CONST && hi->kind == SQL_CONST) {
        int cmp = 0;
        if (lo->value.type == SQL_NULL || hi->value.type == SQL_NULL)
            fail(p, "Illegal values of between at column %zu, values can not be NULL", lo->pos + 1);
        else if (sql_compare(&hi->value, &lo->value, &cmp) || cmp < 0)
            fail(p, "Illegal values of between at column %zu, left value must be less than "
                 "or equal to right value", lo->pos + 1);
    }
    sql_node *v2 = clone(v);
    sql_node *low_test = make_order(p, negated ? SQL_LT : SQL_GE, v, lo);
    sql_node *high_test = make_order(p, negated ? SQL_GT : SQL_LE, v2, hi);
    return make_logic(p, negated ? SQL_OR : SQL_AND, low_test, high_test);
}

static char *string_literal(const struct parser *p, const struct token *t)
{
    char *s = xmalloc(t->len);
    size_t n = 0;
    for (size_t i = t->pos + 1; i < t->pos + t->len - 1; i++) {
        s[n++] = p->text[i];
        if (p->text[i] == '\'') i++;
    }
    s[n] = 0;
    return s;
}

static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* [NOT] IN ( 'a', 'b', ... ) after its operand; the list becomes a sorted set. */
static sql_node *parse_in_list(struct parser *p, sql_node *l, bool negated)
{
    sql_node *n = make(p, SQL_IN, l, NULL);
    if (!n) return NULL;
    n->negated = negated;
    size_t cap = 0;
    bool ok = expect(p, T_LPAREN, "\"(\"");
    while (ok) {
        if (peek(p, 0) != T_STRING) {
            fail_unexpected(p, "a string literal");
            ok = false;
            break;
        }
        struct token t = advance(p);
        if (n->n_set == cap) {
            cap = cap ? 2 * cap : 4;
            n->set = xrealloc(n->set, cap * sizeof *n->set);
        }
        n->set[n->n_set++] = string_literal(p, &t);
        if (peek(p, 0) != T_COMMA) break;
        advance(p);
    }
    if (ok) ok = expect(p, T_RPAREN, "\",\" or \")\"");
    if (ok && l->kind != SQL_PROPERTY) {
        fail(p, "Expected a property for IN at column %zu", l->pos + 1);
        ok = false;
    }
    if (!ok) {
        sql_free(n);
        return NULL;
    }
    qsort(n->set, n->n_set, sizeof *n->set, compare_str_ptr);
    size_t distinct = 0;
    for (size_t i = 0; i < n->n_set; i++) {
        if (distinct && strcmp(n->set[distinct - 1], n->set[i]) == 0) free(n->set[i]);
        else n->set[distinct++] = n->set[i];
    }
    n->n_set = distinct;
    return n;
}

/* ---- grammar ---------------------------------------------------------------- */

static sql_node *parse_or(struct parser *p);

static sql_node *parse_literal(struct parser *p)
{
    struct token t = advance(p);
    sql_node *n = leaf(SQL_CONST, t.pos);
    const char *s = p->text + t.pos;
    switch (t.kind) {
    case T_STRING:
        n->text = string_literal(p, &t);
        n->value = (sql_value){ .type = SQL_STRING, .u.s = n->text };
        break;
    case T_DECIMAL: {
        /* Digits only (the lexer saw to that), so strtoll just has to fit them:
         * new Long(text), narrowed to Integer when it fits. */
        size_t digits = t.len - (s[t.len - 1] == 'l' || s[t.len - 1] == 'L');
        char *text = xstrndup(s, digits);
        errno = 0;
        long long v = strtoll(text, NULL, 10);
        free(text);
        if (errno) {
            fail(p, "Number at column %zu is out of the range of a long", t.pos + 1);
            break;
        }
        if (v >= INT32_MIN && v <= INT32_MAX)
            n->value = (sql_value){ .type = SQL_INT, .u.i = (int32_t)v };
        else
            n->value = (sql_value){ .type = SQL_LONG, .u.l = v };
        break;
    }
    case T_FLOAT: {
        char *text = xstrndup(s, t.len);
        double d = strtod(text, NULL);
        free(text);
        /* ConstantExpression.createFloat refuses infinity and anything below
         * Double.MIN_VALUE — which includes 0.0 itself. */
        if (d > DBL_MAX || d < DBL_TRUE_MIN)
            fail(p, "Floating point number at column %zu is %s", t.pos + 1,
                 d > DBL_MAX ? "greater than 1.7976931348623157E308" : "less than 4.9E-324");
        n->value = (sql_value){ .type = SQL_DOUBLE, .u.d = d };
        break;
    }
    case T_TRUE:
    case T_FALSE:
        n->value = (sql_value){ .type = SQL_BOOL, .u.b = t.kind == T_TRUE };
        break;
    case T_NULL:
        n->value.type = SQL_NULL;
        break;
    default:
        abort(); /* parse_primary only comes here for literal tokens */
    }
    if (p->failed) {
        sql_free(n);
        return NULL;
    }
    return n;
}

static sql_node *parse_primary(struct parser *p)
{
    switch (peek(p, 0)) {
    case T_STRING: case T_DECIMAL: case T_FLOAT: case T_TRUE: case T_FALSE: case T_NULL:
        return parse_literal(p);
    case T_ID: {
        struct token t = advance(p);
        sql_node *n = leaf(SQL_PROPERTY, t.pos);
        n->text = xstrndup(p->text + t.pos, t.len);
        return n;
    }
    case T_LPAREN: {
        advance(p);
        sql_node *n = parse_or(p);
        if (n && !expect(p, T_RPAREN, "\")\"")) {
            sql_free(n);
            return NULL;
        }
        return n;
    }
    default:
        fail_unexpected(p, "a literal, a property, NOT, \"-\" or \"(\"");
        return NULL;
    }
}

static sql_node *parse_unary(struct parser *p)
{
    if (++p->depth > FILTER_MAX_DEPTH) {
        peek(p, 0);
        fail(p, "Expression nested deeper than %d at column %zu", FILTER_MAX_DEPTH,
             p->ahead[0].pos + 1);
        p->depth--;
        return NULL;
    }
    sql_node *n;
    switch (peek(p, 0)) {
    case T_PLUS:
        advance(p);
        n = parse_unary(p);
        break;
    case T_MINUS:
        advance(p);
        n = parse_unary(p);
        n = n ? make(p, SQL_NEGATE, n, NULL) : NULL;
        break;
    case T_NOT:
        advance(p);
        n = as_condition(p, parse_unary(p));
        n = n ? make(p, SQL_NOT, n, NULL) : NULL;
        break;
    default:
        n = parse_primary(p);
    }
    p->depth--;
    return n;
}

static sql_node *parse_comparison(struct parser *p)
{
    sql_node *l = parse_unary(p);
    while (l) {
        enum tok_kind k = peek(p, 0);
        bool negated = false;
        if (k == T_NOT) {
            k = peek(p, 1);
            if (k != T_BETWEEN && k != T_IN) {
                fail(p, "Encountered NOT at column %zu, expecting BETWEEN or IN after it",
                     p->ahead[0].pos + 1);
                sql_free(l);
                return NULL;
            }
            advance(p);
            negated = true;
        }
        switch (k) {
        case T_GT: case T_GE: case T_LT: case T_LE: {
            advance(p);
            enum sql_kind kind = k == T_GT ? SQL_GT : k == T_GE ? SQL_GE : k == T_LT ? SQL_LT : SQL_LE;
            l = make_order(p, kind, l, parse_unary(p));
            break;
        }
        case T_BETWEEN: {
            advance(p);
            sql_node *lo = parse_unary(p);
            sql_node *hi = lo && expect(p, T_AND, "AND") ? parse_unary(p) : NULL;
            l = make_between(p, l, lo, hi, negated);
            break;
        }
        case T_IN:
            advance(p);
            l = parse_in_list(p, l, negated);
            break;
        default:
            return l;
        }
    }
    return NULL;
}

static sql_node *parse_equality(struct parser *p)
{
    sql_node *l = parse_comparison(p);
    while (l) {
        switch (peek(p, 0)) {
        case T_EQ:
            advance(p);
            l = make_equal(p, l, parse_comparison(p));
            break;
        case T_NE:
            advance(p);
            l = make_equal(p, l, parse_comparison(p));
            l = l ? make(p, SQL_NOT, l, NULL) : NULL;
            break;
        case T_IS: {
            bool is_not = peek(p, 1) == T_NOT;
            advance(p);
            if (is_not) advance(p);
            if (!expect(p, T_NULL, is_not ? "NULL" : "NULL or NOT NULL")) {
                sql_free(l);
                return NULL;
            }
            l = make(p, SQL_IS_NULL, l, NULL);
            if (is_not && l) l = make(p, SQL_NOT, l, NULL);
            break;
        }
        default:
            return l;
        }
    }
    return NULL;
}

static sql_node *parse_and(struct parser *p)
{
    sql_node *l = parse_equality(p);
    while (l && peek(p, 0) == T_AND) {
        advance(p);
        l = make_logic(p, SQL_AND, l, parse_equality(p));
    }
    return l;
}

static sql_node *parse_or(struct parser *p)
{
    sql_node *l = parse_and(p);
    while (l && peek(p, 0) == T_OR) {
        advance(p);
        l = make_logic(p, SQL_OR, l, parse_and(p));
    }
    return l;
}

sql_node *sql_compile(const char *text, char *err, size_t errlen)
{
    struct parser p = { .text = text, .len = strlen(text), .err = err, .errlen = errlen };
    if (p.len > FILTER_MAX_EXPRESSION_LEN) {
        fail(&p, "Expression longer than %d bytes", FILTER_MAX_EXPRESSION_LEN);
        return NULL;
    }
    sql_node *root = as_condition(&p, parse_or(&p));
    if (p.failed) { /* a lexical error may end the loops without a NULL */
        sql_free(root);
        return NULL;
    }
    return root;
}
