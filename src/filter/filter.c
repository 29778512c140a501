/*
 * The per-subscription facade: TAG sets built like FilterAPI.buildSubscriptionData,
 * SQL92 handed to sql_*.c, and the two broker-side match stages of
 * ExpressionMessageFilter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "filter/filter.h"
#include "filter/sql.h"

#define SUB_ALL "*"

struct rmq_filter {
    enum filter_type type;
    /* TAG */
    bool match_all;
    char **tags;          /* sorted, distinct */
    size_t n_tags;
    int32_t *codes;       /* String.hashCode of each tag: sorted, distinct */
    size_t n_codes;
    /* SQL92 */
    sql_node *sql;
};

static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static size_t sort_distinct(void *base, size_t n, size_t size,
                            int (*cmp)(const void *, const void *), void (*drop)(void *))
{
    if (n == 0) return 0; /* base may be NULL, which qsort must not see */
    qsort(base, n, size, cmp);
    char *b = base;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept && cmp(b + (kept - 1) * size, b + i * size) == 0) {
            if (drop) drop(b + i * size);
        } else {
            memmove(b + kept * size, b + i * size, size);
            kept++;
        }
    }
    return kept;
}

static void free_str_ptr(void *p) { free(*(char **)p); }

/* Split on "||" left to right, String.trim() each piece, keep the non-empty ones. */
static int build_tags(rmq_filter *f, const char *expr, char *err, size_t errlen)
{
    if (!expr || !*expr || strcmp(expr, SUB_ALL) == 0) {
        f->match_all = true;
        return RMQ_OK;
    }
    size_t cap = 0;
    const char *p = expr;
    bool only_separators = true;
    for (;;) {
        const char *sep = strstr(p, "||");
        const char *end = sep ? sep : p + strlen(p);
        if (end > p) only_separators = false;
        while (p < end && java_is_trimmed(*p)) p++;
        while (end > p && java_is_trimmed(end[-1])) end--;
        if (end > p) {
            if (f->n_tags == cap) {
                cap = cap ? 2 * cap : 4;
                f->tags = xrealloc(f->tags, cap * sizeof *f->tags);
            }
            f->tags[f->n_tags++] = xstrndup(p, (size_t)(end - p));
        }
        if (!sep) break;
        p = sep + 2;
    }
    /* Java's split() drops trailing empty pieces, so "||||" gives no pieces at
     * all, which FilterAPI rejects; " || " gives blank pieces and an empty set. */
    if (only_separators) {
        snprintf(err, errlen, "subString split error");
        return RMQ_ERR;
    }
    f->n_tags = sort_distinct(f->tags, f->n_tags, sizeof *f->tags, compare_str_ptr, free_str_ptr);
    f->codes = f->n_tags ? xmalloc(f->n_tags * sizeof *f->codes) : NULL;
    for (size_t i = 0; i < f->n_tags; i++)
        f->codes[i] = java_string_hash(f->tags[i], strlen(f->tags[i]));
    f->n_codes = sort_distinct(f->codes, f->n_tags, sizeof *f->codes, compare_i32, NULL);
    return RMQ_OK;
}

rmq_filter *filter_compile(const char *expression_type, const char *expression,
                           char *err, size_t errlen)
{
    rmq_filter *f = xcalloc(1, sizeof *f);
    /* ExpressionType.isTagType: absent, empty or "TAG". */
    if (!expression_type || !*expression_type || strcmp(expression_type, "TAG") == 0) {
        f->type = FILTER_TAG;
        if (build_tags(f, expression, err, errlen) == RMQ_OK) return f;
    } else if (strcmp(expression_type, "SQL92") == 0) {
        f->type = FILTER_SQL92;
        if (!expression || !*expression) /* FilterAPI.build */
            snprintf(err, errlen, "Expression can't be null! SQL92");
        else if ((f->sql = sql_compile(expression, err, errlen)))
            return f;
    } else {
        snprintf(err, errlen, "Unsupported expression type: %s", expression_type);
    }
    filter_free(f);
    return NULL;
}

void filter_free(rmq_filter *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->n_tags; i++) free(f->tags[i]);
    free(f->tags);
    free(f->codes);
    sql_free(f->sql);
    free(f);
}

enum filter_type filter_type(const rmq_filter *f) { return f->type; }

bool filter_match_tags_code(const rmq_filter *f, int64_t tags_code)
{
    if (f->type != FILTER_TAG || f->match_all) return true;
    /* codeSet.contains((int) tagsCode): the low 32 bits, as Java's narrowing. */
    int32_t code = (int32_t)(uint32_t)tags_code;
    return f->n_codes && bsearch(&code, f->codes, f->n_codes, sizeof *f->codes, compare_i32) != NULL;
}

bool filter_match_tag(const rmq_filter *f, const char *tag)
{
    if (f->type != FILTER_TAG || f->match_all) return true;
    return tag && f->n_tags && bsearch(&tag, f->tags, f->n_tags, sizeof *f->tags, compare_str_ptr) != NULL;
}

enum filter_verdict filter_eval(const rmq_filter *f, filter_prop_fn get, void *arg)
{
    return f->type == FILTER_SQL92 ? sql_eval(f->sql, get, arg) : FILTER_TRUE;
}

bool filter_match_props(const rmq_filter *f, filter_prop_fn get, void *arg)
{
    return filter_eval(f, get, arg) == FILTER_TRUE;
}
