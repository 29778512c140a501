/*
 * sql: the SQL92 selector engine behind filter.h (module-internal).
 * sql_parse.c turns text into a tree of sql_node, applying the same checks as
 * Apache's expression constructors; sql_eval.c evaluates a tree the way
 * Apache's Expression.evaluate does, with Java's types and conversions.
 */
#ifndef RMQ_FILTER_SQL_H
#define RMQ_FILTER_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter/filter.h"

/* Java types a value can have: property values are always STRING; a decimal
 * literal is INT when it fits in 32 bits, else LONG (ConstantExpression). */
enum sql_type { SQL_NULL, SQL_BOOL, SQL_INT, SQL_LONG, SQL_DOUBLE, SQL_STRING };

typedef struct sql_value {
    enum sql_type type;
    union {
        bool b;
        int32_t i;
        int64_t l;
        double d;
        const char *s;     /* owned by the node or by the property lookup */
    } u;
} sql_value;

enum sql_kind {
    SQL_CONST,        /* literal; BOOL and NULL ones are conditions */
    SQL_PROPERTY,     /* message property by name */
    SQL_NEGATE,       /* unary minus: numbers negate, anything else is NULL */
    SQL_NOT,
    SQL_BOOL_CAST,    /* a bare property used as a condition */
    SQL_AND, SQL_OR,  /* n-ary: Apache's left-nested chains flattened */
    SQL_EQ, SQL_GT, SQL_GE, SQL_LT, SQL_LE,
    SQL_IS_NULL,
    SQL_IN,           /* property [NOT] IN ('a', ...) */
};

typedef struct sql_node {
    enum sql_kind kind;
    int depth;                 /* 1 + depth of the deepest child */
    size_t pos;                /* offset of its first token in the text, for messages */
    sql_value value;           /* SQL_CONST */
    char *text;                /* SQL_PROPERTY name; SQL_CONST string storage */
    struct sql_node **kids;    /* operands, owned */
    size_t n_kids;
    char **set;                /* SQL_IN: sorted distinct strings, owned */
    size_t n_set;
    bool negated;              /* SQL_IN: NOT IN */
} sql_node;

/* What Java's String.trim() strips: every char up to ' '. */
static inline bool java_is_trimmed(char c) { return (unsigned char)c <= ' '; }

/* Parses a whole selector; NULL with a reason in err. */
sql_node *sql_compile(const char *text, char *err, size_t errlen);
void sql_free(sql_node *n);

enum filter_verdict sql_eval(const sql_node *root, filter_prop_fn get, void *arg);

/*
 * Java's ComparisonExpression.__compare (string conversion on): orders two
 * non-NULL values, converting across types as Apache does. RMQ_ERR where Java
 * throws (a string that does not parse as the other side's number type, or a
 * Boolean on the left of a String).
 */
int sql_compare(const sql_value *l, const sql_value *r, int *cmp);

#endif
