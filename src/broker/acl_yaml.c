/*
 * acl_yaml: a reader for the YAML of plain_acl.yml: block mappings and
 * sequences (a sequence may sit at its key's indentation), "- key: v"
 * items, plain / 'single' / "double" quoted scalars, one-line [a, b] flow
 * sequences, comments, blank lines and a leading "---".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_int.h"
#include "common/util.h"

typedef struct yline {
    int indent;
    int lineno;
    char *text;  /* comment and trailing blanks cut; points into the parser's copy */
} yline;

typedef struct yparser {
    yline *lines;
    int n, i;
    char *err;
    size_t errlen;
    bool failed;
} yparser;

static ynode *ynode_new(enum ytype t)
{
    ynode *n = xcalloc(1, sizeof *n);
    n->type = t;
    return n;
}

void acl_yaml_free(ynode *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        if (n->keys) free(n->keys[i]);
        acl_yaml_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n);
}

static void ynode_add(ynode *parent, char *key, ynode *item)
{
    parent->items = xrealloc(parent->items, (size_t)(parent->n + 1) * sizeof *parent->items);
    if (parent->type == Y_MAP) {
        parent->keys = xrealloc(parent->keys, (size_t)(parent->n + 1) * sizeof *parent->keys);
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = item;
}

const ynode *acl_yaml_get(const ynode *map, const char *key)
{
    if (!map || map->type != Y_MAP) return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0) return map->items[i];
    return NULL;
}

static ynode *yfail(yparser *p, int lineno, const char *what)
{
    if (!p->failed) snprintf(p->err, p->errlen, "line %d: %s", lineno, what);
    p->failed = true;
    return NULL;
}

/* End of the quoted scalar starting at s (its closing quote), or NULL. */
static const char *quote_end(const char *s)
{
    char q = *s;
    for (const char *c = s + 1; *c; c++) {
        if (q == '"' && *c == '\\' && c[1]) c++;
        else if (*c == q && q == '\'' && c[1] == '\'') c++;
        else if (*c == q) return c;
    }
    return NULL;
}

/* The ':' that makes TEXT a "key: value" line (followed by a blank or the end), or NULL. */
static const char *mapping_colon(const char *text)
{
    const char *c = text;
    if (*c == '"' || *c == '\'') {
        c = quote_end(c);
        if (!c) return NULL;
        c++;
        while (*c == ' ') c++;
        return *c == ':' && (!c[1] || c[1] == ' ') ? c : NULL;
    }
    for (; *c; c++)
        if (*c == ':' && (!c[1] || c[1] == ' ')) return c;
    return NULL;
}

static bool is_seq_item(const char *text)
{
    return text[0] == '-' && (!text[1] || text[1] == ' ');
}

/* A scalar's value: NULL for YAML null (empty, ~, null), else a malloc'd string. */
static bool scalar_value(const char *s, size_t len, char **out)
{
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    *out = NULL;
    if (!len || (len == 1 && *s == '~') || (len == 4 && (!strncmp(s, "null", 4) || !strncmp(s, "Null", 4) ||
                                                        !strncmp(s, "NULL", 4))))
        return true;
    if (*s != '"' && *s != '\'') {
        *out = xstrndup(s, len);
        return true;
    }
    char *tmp = xstrndup(s, len);
    const char *end = quote_end(tmp);
    if (!end || end[1]) {
        free(tmp);
        return false;
    }
    char *v = xmalloc(len), *w = v;
    for (const char *c = tmp + 1; c < end; c++) {
        if (*tmp == '\'' && *c == '\'') c++;  /* '' */
        else if (*tmp == '"' && *c == '\\') {
            c++;
            switch (*c) {
            case 'n': *w++ = '\n'; continue;
            case 't': *w++ = '\t'; continue;
            case 'r': *w++ = '\r'; continue;
            case '0': *w++ = '\0'; continue;
            default: break;  /* \" \\ \/ and the rest stand for themselves */
            }
        }
        *w++ = *c;
    }
    *w = 0;
    free(tmp);
    *out = v;
    return true;
}

/* A value written on the key's line: a scalar, [a, b] or {}. */
static ynode *parse_inline(yparser *p, const char *text, int lineno)
{
    size_t len = strlen(text);
    if (*text == '{') {
        if (strcmp(text, "{}")) return yfail(p, lineno, "flow mappings are not supported");
        return ynode_new(Y_MAP);
    }
    if (*text != '[') {
        char *v;
        if (!scalar_value(text, len, &v)) return yfail(p, lineno, "unterminated quoted scalar");
        ynode *n = ynode_new(v ? Y_SCALAR : Y_NULL);
        n->str = v;
        return n;
    }
    if (text[len - 1] != ']') return yfail(p, lineno, "a flow sequence must end on its line");
    ynode *seq = ynode_new(Y_SEQ);
    const char *c = text + 1, *end = text + len - 1;
    while (isspace((unsigned char)*c)) c++;
    while (c < end) {
        const char *item = c;
        while (c < end && *c != ',') {
            if (*c == '"' || *c == '\'') {
                const char *q = quote_end(c);
                c = q && q < end ? q : end;
            }
            c++;
        }
        char *v;
        if (!scalar_value(item, (size_t)(c - item), &v)) {
            acl_yaml_free(seq);
            return yfail(p, lineno, "unterminated quoted scalar");
        }
        ynode *n = ynode_new(v ? Y_SCALAR : Y_NULL);
        n->str = v;
        ynode_add(seq, NULL, n);
        if (c < end) c++;  /* the comma */
    }
    return seq;
}

static ynode *parse_block(yparser *p, int indent);
static ynode *parse_map(yparser *p, int indent);
static ynode *parse_seq(yparser *p, int indent);

/* The value of a key or "-" with nothing after it: a deeper block, or null. */
static ynode *parse_below(yparser *p, int indent, bool seq_at_same_indent)
{
    if (p->i < p->n) {
        const yline *next = &p->lines[p->i];
        if (next->indent > indent) return parse_block(p, next->indent);
        if (seq_at_same_indent && next->indent == indent && is_seq_item(next->text)) return parse_seq(p, indent);
    }
    return ynode_new(Y_NULL);
}

static ynode *parse_block(yparser *p, int indent)
{
    return is_seq_item(p->lines[p->i].text) ? parse_seq(p, indent) : parse_map(p, indent);
}

static ynode *parse_map(yparser *p, int indent)
{
    ynode *map = ynode_new(Y_MAP);
    while (p->i < p->n && p->lines[p->i].indent == indent && !is_seq_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        const char *colon = mapping_colon(l->text);
        if (!colon) {
            acl_yaml_free(map);
            return yfail(p, l->lineno, "expected 'key: value'");
        }
        char *key;
        if (!scalar_value(l->text, (size_t)(colon - l->text), &key) || !key) {
            acl_yaml_free(map);
            return yfail(p, l->lineno, "bad mapping key");
        }
        const char *val = colon + 1;
        while (*val == ' ') val++;
        int lineno = l->lineno;
        p->i++;
        ynode *item = *val ? parse_inline(p, val, lineno) : parse_below(p, indent, true);
        if (!item) {
            free(key);
            acl_yaml_free(map);
            return NULL;
        }
        ynode_add(map, key, item);
    }
    return map;
}

static ynode *parse_seq(yparser *p, int indent)
{
    ynode *seq = ynode_new(Y_SEQ);
    while (p->i < p->n && p->lines[p->i].indent == indent && is_seq_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        char *rest = l->text + 1;
        while (*rest == ' ') rest++;
        ynode *item;
        if (!*rest) {
            p->i++;
            item = parse_below(p, indent, false);
        } else if (is_seq_item(rest) || mapping_colon(rest)) {
            /* "- key: v" / "- - v": the rest of the line opens a block at its own column. */
            l->indent += (int)(rest - l->text);
            l->text = rest;
            item = parse_block(p, l->indent);
        } else {
            p->i++;
            item = parse_inline(p, rest, l->lineno);
        }
        if (!item) {
            acl_yaml_free(seq);
            return NULL;
        }
        ynode_add(seq, NULL, item);
    }
    return seq;
}

/* Splits TEXT (modified) into significant lines. */
static bool split_lines(yparser *p, char *text)
{
    int lineno = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        int indent = 0;
        while (line[indent] == ' ') indent++;
        char *t = line + indent;
        /* A comment starts at a '#' that begins the text or follows a blank, outside quotes. */
        for (char *c = t; *c; c++) {
            if ((*c == '"' || *c == '\'') && (c == t || c[-1] == ' ' || c[-1] == '[' || c[-1] == ',')) {
                const char *q = quote_end(c);
                if (q) c = (char *)q;
            } else if (*c == '#' && (c == t || c[-1] == ' ' || c[-1] == '\t')) {
                *c = 0;
                break;
            }
        }
        size_t len = strlen(t);
        while (len && isspace((unsigned char)t[len - 1])) t[--len] = 0;
        if (!len || (indent == 0 && strcmp(t, "---") == 0)) continue;
        if (*t == '\t') {
            yfail(p, lineno, "tabs cannot indent YAML");
            return false;
        }
        p->lines = xrealloc(p->lines, (size_t)(p->n + 1) * sizeof *p->lines);
        p->lines[p->n++] = (yline){.indent = indent, .lineno = lineno, .text = t};
    }
    return true;
}

/* The document's root node (an empty file is null); NULL with err set on bad input. */
ynode *acl_yaml_parse(const char *text, char *err, size_t errlen)
{
    char *copy = xstrdup(text);
    yparser p = {.err = err, .errlen = errlen};
    ynode *root = NULL;
    if (split_lines(&p, copy)) {
        root = p.n ? parse_block(&p, p.lines[0].indent) : ynode_new(Y_NULL);
        if (root && p.i < p.n) {
            acl_yaml_free(root);
            root = yfail(&p, p.lines[p.i].lineno, "bad indentation");
        }
    }
    free(p.lines);
    free(copy);
    return root;
}
